// Long runs in constant memory: with tracing off, what a machine holds after a workload
// does not depend on how much work it did. Two machines booted the same way run the same
// workload, one four times longer; walking both object graphs (test/support/retained.ts)
// must find the same objects and the same container lengths.
import { describe, expect, it } from "vitest";
import { boot } from "../../src/pnp/boot.js";
import { Machine } from "../../src/machine/machine.js";
import { loadMachine } from "../../src/machine/firmwareFiles.js";
import { EDU_WORKLOAD_DEFAULTS, runEduWorkload } from "../../src/workloads/edu.js";
import { runFio } from "../../src/workloads/fio/fio.js";
import { resolveJobFile } from "../../src/workloads/fio/options.js";
import { grown, retained } from "../support/retained.js";
import { kernelOf } from "../support/kernel-harness.js";

/** The edu workload with `n` of every operation on a freshly booted default machine. */
async function edu(n: number): Promise<Machine> {
  const machine = await boot("default");
  const r = await runEduWorkload(machine, { ...EDU_WORKLOAD_DEFAULTS, factorials: n, dmaRoundTrips: n, livenessChecks: n, fileRoundTrips: n });
  expect(r.ok).toBe(true);
  return machine;
}

/** `kib` KiB of 4 KiB random reads at depth 8 on the storage machine with one processor (every interrupt on the same vector). */
async function fio(kib: number) {
  const d = loadMachine("storage");
  d.cpu = { ...d.cpu, count: 1 };
  const machine = await boot(Machine.fromDescription(d));
  const job = ["[global]", "filename=\\\\.\\PhysicalDrive0", "ioengine=windowsaio", "direct=1", "thread",
    "[randread]", "rw=randread", "bs=4k", "iodepth=8", `size=${kib}k`, ""].join("\n");
  const result = await runFio(machine, resolveJobFile(job, "bounded.fio", 1));
  expect(result.ok).toBe(true);
  return { machine, result };
}

describe("memory that does not grow with the run", () => {
  it("the edu workload: the whole machine holds the same after 8 and after 32 of each operation", async () => {
    const short = retained(await edu(8));
    const long = retained(await edu(32));
    expect(grown(short, long)).toEqual([]);
    expect(long.objects).toBe(short.objects);
  });

  it("threads that ended leave the scheduler: a machine that ran 2 or 50 kernel routines lists as many threads as after boot", async () => {
    const machine = await boot("default");
    const threads = kernelOf(machine).scheduler.threads;
    const booted = threads.length;
    for (let i = 0; i < 2; i++) await machine.exec(() => i);
    expect(threads.length).toBe(booted);
    for (let i = 0; i < 48; i++) await machine.exec(() => i);
    expect(threads.length).toBe(booted);
  });

  it("fio: the kernel's statistics and the job's figures are the same size after 64 and after 256 reads", async () => {
    const short = await fio(256);
    const long = await fio(1024);
    expect(long.result.reports[0].dirs[0].clat.samples).toBe(4 * short.result.reports[0].dirs[0].clat.samples);
    for (const pick of [(x: typeof short) => kernelOf(x.machine).recorder, (x: typeof short) => x.result.jobs[0]]) {
      const a = retained(pick(short));
      const b = retained(pick(long));
      expect(grown(a, b)).toEqual([]);
      expect(b.objects).toBe(a.objects);
    }
  });
});
