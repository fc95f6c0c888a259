/**
 * Host memory of a machine describing 64 GiB of RAM. The value side is the storage machine
 * (firmware/machines/storage.json: four CPUs, an IOMMU, NVMe behind a root port) with its
 * RAM edited in memory to 3 GiB below the PCI hole and 61 GiB from 4 GiB up; the baseline,
 * measured in the same run, is the file as it is (1 GiB + 1 GiB). Guest RAM is backed page
 * by page as it is first written, so both should cost about the same.
 *
 * Each measurement is a fresh child process (RSS is the whole process's): it boots the
 * machine and reports process.memoryUsage().rss after boot and after a short fio job
 * (4 KiB random writes with crc32c verify through disk, Storport and stornvme), each after
 * a full garbage collection. Value and baseline children alternate. Extras: RSS before
 * the machine is built (Node, the modules and the compiled core), the core's linear
 * memory (what a snapshot copies), the guest RAM pages it backs, and the kernel's page
 * frame database.
 *
 * Rows: RSS after boot, RSS after the job (MiB; ratio 64 GiB / default, lower is better).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { median, now, row, type Benchmark, type Row } from "./lib.js";

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** What one child process measured. */
interface Measurement {
  /** RSS with every module loaded, before the machine is built, MiB. */
  startRssMiB: number;
  /** RSS after boot and after the job, MiB. */
  bootRssMiB: number;
  workRssMiB: number;
  /** The core's linear memory after the job, MiB. */
  coreMiB: number;
  /** Guest RAM pages (4 KiB) the core backs after boot and after the job. */
  bootPages: number;
  workPages: number;
  /** Host bytes of the kernel's page frame database, KiB. */
  pfnKiB: number;
  /** RAM the machine describes, GiB. */
  ramGiB: number;
  /** Host time of boot and of the job, ms. */
  bootMs: number;
  jobMs: number;
}

/** The fio job: `bytes` of 4 KiB random writes at queue depth 16, each block read back and checked. */
function jobText(bytes: number): string {
  return [
    "[global]", "filename=\\\\.\\PhysicalDrive0", "ioengine=windowsaio", "direct=1", "thread",
    "[verify]", "rw=randwrite", "bs=4k", `size=${bytes}`, "iodepth=16", "verify=crc32c", "",
  ].join("\n");
}

/** In the child: boots the storage machine (with 64 GiB when `big`), runs the job, prints a Measurement as JSON. */
async function measureInChild(big: boolean, jobBytes: number): Promise<void> {
  const { boot } = await import("../src/pnp/boot.js");
  const { Machine } = await import("../src/machine/machine.js");
  const { loadMachine } = await import("../src/machine/firmwareFiles.js");
  const { runFio } = await import("../src/workloads/fio/fio.js");
  const { resolveJobFile } = await import("../src/workloads/fio/options.js");
  const { MM } = await import("../src/mm/manager.js");
  const { kernelOf } = await import("../test/support/kernel-harness.js");
  const gc = (globalThis as { gc?: () => void }).gc;
  const rss = () => {
    gc?.();
    return process.memoryUsage().rss / MiB;
  };
  const startRssMiB = rss();
  const d = loadMachine("storage");
  if (big) d.memory = [{ base: 0, size: 3 * GiB }, { base: 4 * GiB, size: 61 * GiB }];
  let t = now();
  const machine = await boot(Machine.fromDescription(d));
  const bootMs = now() - t;
  const bootRssMiB = rss();
  const bootPages = machine.core.counters().ramPagesBacked;
  t = now();
  const r = await runFio(machine, resolveJobFile(jobText(jobBytes), "memory-bench.fio", d.cpu.count));
  const jobMs = now() - t;
  const job = r.jobs[0];
  if (!r.ok || job.outcome.verifyFailures !== 0 || job.outcome.verified !== jobBytes / 4096) {
    throw new Error(`fio: ok=${r.ok}, ${job.outcome.verified} blocks verified, ${job.outcome.verifyFailures} failures`);
  }
  const m: Measurement = {
    startRssMiB, bootRssMiB, workRssMiB: rss(), coreMiB: machine.core.memoryBytes / MiB, bootPages,
    workPages: machine.core.counters().ramPagesBacked, pfnKiB: MM(kernelOf(machine)).pfn.hostBytes / 1024,
    ramGiB: d.memory.reduce((a, x) => a + x.size, 0) / GiB, bootMs, jobMs,
  };
  process.stdout.write(`${JSON.stringify(m)}\n`);
}

/** Runs one measurement in a fresh process (this file, with the loader flags of this one). */
function measure(big: boolean, jobBytes: number): Measurement {
  const r = spawnSync(process.execPath, [...process.execArgv, "--expose-gc", fileURLToPath(import.meta.url), CHILD_FLAG, big ? "big" : "default", String(jobBytes)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`memory benchmark child exited ${r.status}:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Measurement;
}

/** Argument that makes this module measure instead of being a benchmark. */
const CHILD_FLAG = "--memory-bench-child";

const round = (x: number) => Number(x.toFixed(1));

export const memory: Benchmark = {
  name: "memory",
  description: "RSS of the storage machine describing 64 GiB of RAM vs the file's 2 GiB, after boot and after a fio job, each in a fresh process",
  async run(options) {
    const jobBytes = Math.max(256, Math.round(4096 * options.scale)) * 4096;
    const big: Measurement[] = [];
    const base: Measurement[] = [];
    for (let i = 0; i < options.repeats; i++) {
      big.push(measure(true, jobBytes));
      base.push(measure(false, jobBytes));
    }
    const med = (xs: Measurement[], f: (m: Measurement) => number) => round(median(xs.map(f)));
    const extra = (which: "boot" | "work"): Row["extra"] => ({
      ramGiB: big[0].ramGiB, baselineRamGiB: base[0].ramGiB, fioBytes: jobBytes,
      rssBeforeMachineMiB: med(big, (m) => m.startRssMiB), baselineRssBeforeMachineMiB: med(base, (m) => m.startRssMiB),
      ramPagesBacked: med(big, (m) => (which === "boot" ? m.bootPages : m.workPages)),
      baselineRamPagesBacked: med(base, (m) => (which === "boot" ? m.bootPages : m.workPages)),
      coreLinearMiB: med(big, (m) => m.coreMiB), baselineCoreLinearMiB: med(base, (m) => m.coreMiB),
      pfnDatabaseKiB: med(big, (m) => m.pfnKiB), baselinePfnDatabaseKiB: med(base, (m) => m.pfnKiB),
      bootMs: med(big, (m) => m.bootMs), baselineBootMs: med(base, (m) => m.bootMs),
      ...(which === "work" ? { jobMs: med(big, (m) => m.jobMs), baselineJobMs: med(base, (m) => m.jobMs) } : {}),
    });
    const what = "storage machine with 64 GiB of RAM (3 GiB + 61 GiB above 4 GiB)";
    const baseline = "the same machine with the file's RAM, 1 GiB + 1 GiB (MiB; ratio: lower is better)";
    return [
      row(`${what}: process RSS after boot`, "MiB", baseline, { value: big.map((m) => m.bootRssMiB), baseline: base.map((m) => m.bootRssMiB) }, extra("boot")),
      row(`${what}: process RSS after fio (${jobBytes / MiB} MiB random writes, verified)`, "MiB", baseline,
        { value: big.map((m) => m.workRssMiB), baseline: base.map((m) => m.workRssMiB) }, extra("work")),
    ];
  },
};

if (process.argv[2] === CHILD_FLAG) await measureInChild(process.argv[3] === "big", Number(process.argv[4]));
