/**
 * The whole Windows storage stack against the NVMe controller alone. The value side is fio
 * (src/workloads/fio: windowsaio engine, overlapped ReadFile on \\.\PhysicalDrive0 with
 * FILE_FLAG_NO_BUFFERING, completions from an I/O completion port) doing 4 KiB random reads
 * through the disk class driver, Storport and the stornvme miniport to the emulated NVMe
 * controller of the storage machine (firmware/machines/storage.json as it is, Driver
 * Verifier and IOMMU on), booted with 1 and with 4 CPUs; one fio job, not pinned, at queue
 * depth 1 and 32. Each repeat is one runFio call (open, the reads, close), timed whole.
 *
 * Baseline, same run: the same controller (the storage machine's NVMe parameters, link,
 * memory read latency, posted-write credits and seed) driven directly from TypeScript with
 * no kernel, as bench/nvme.ts does (test/support/nvme-harness.ts): one I/O queue pair,
 * MSI-X on, `depth` reads kept in flight, the core run until each interrupt, the completion
 * queue reaped and the freed slots refilled. No IOMMU and no root port on that side.
 *
 * Rows:
 * - host ns per read, full stack / controller alone (lower is better);
 * - simulated IOPS and mean completion latency. Full stack: reads over the job's simulated
 *   run time (open to close, about 6 µs of it open and close), and fio's clat (from the
 *   moment ReadFile returned to the moment GetQueuedCompletionStatusEx handed the read back).
 *   Controller alone: reads over the simulated time of the repeat, and doorbell write to
 *   the CPU seeing the MSI-X interrupt;
 * - host ns per simulated device event (the core's event count over the repeat), and
 *   simulated time per host time (above 1 the machine runs faster than real time), each
 *   against the controller alone;
 * - a host-time split of the full-stack run, measured with V8's sampling profiler
 *   (node:inspector, in this process, on extra repeats that are not in the timed rows):
 *   each sample goes to the source file on top of the JavaScript stack (builtins count for
 *   the script that called them): core = WebAssembly plus src/machine (its TypeScript side);
 *   drivers = src/drivers; kernel = the rest of src/ (ke, io with the Win32 calls, mm, hal,
 *   ob, ps, trace, ...); rest = fio itself (src/workloads), garbage collection, Node. Value:
 *   host ns per read in that part; baseline: the whole profiled repeat; ratio: the share.
 */
import { Session } from "node:inspector/promises";
import { boot } from "../src/pnp/boot.js";
import { Machine } from "../src/machine/machine.js";
import { loadMachine } from "../src/machine/firmwareFiles.js";
import { runFio, type FioRunResult } from "../src/workloads/fio/fio.js";
import { resolveJobFile } from "../src/workloads/fio/options.js";
import { DDIR_READ } from "../src/workloads/fio/stats.js";
import { IO, L, MEM, readyNvme, type Command, type Nvme } from "../test/support/nvme-harness.js";
import { nvmeOf } from "../test/support/storage-harness.js";
import { compare, median, now, row, type Benchmark, type Row, type RunOptions, type Sample } from "./lib.js";

/** Bytes per read. */
const READ_BYTES = 4096;
/** MSI-X vector the controller-alone side takes its completions on. */
const VECTOR = 0x61;
/** Profiler sampling interval, µs. */
const SAMPLE_INTERVAL_US = 500;
/** Profiled repeats per split configuration. */
const PROFILED_REPEATS = 3;

/** One configuration of the full stack. */
interface Config {
  cpus: number;
  depth: number;
  /** Reads per repeat on the full-stack side (the controller alone does BASELINE_FACTOR times as many). */
  reads: number;
}

/** Reads of the first warm-up, whatever the scale (about what V8 needs to optimise the stack's code). */
const WARM_UP_READS = 12_000;

/** Reads per repeat on the controller-alone side, relative to the full stack (it is about ten times faster). */
const BASELINE_FACTOR = 4;

/** Simulated figures of one repeat. */
interface SimRepeat {
  iops: number;
  /** Mean completion latency, µs. */
  clatUs: number;
  /** Full stack only: fio's mean submission and total latency, µs. */
  slatUs?: number;
  latUs?: number;
  /** Host ns per simulated device event (the core's event count over the repeat). */
  hostNsPerEvent: number;
  /** Simulated time over host time. */
  simPerHost: number;
}

const storageFile = loadMachine("storage");
const nvmeSlot = storageFile.slots.find((s) => s.spec.model === "nvme");
if (!nvmeSlot) throw new Error("firmware/machines/storage.json has no NVMe controller");

function label(c: { cpus: number; depth: number }): string {
  return `QD${c.depth}, ${c.cpus} CPU${c.cpus === 1 ? "" : "s"}`;
}

/** fio job: `reads` 4 KiB random reads over the first `reads` blocks of PhysicalDrive0 (the random map visits each once). */
function jobText(depth: number, reads: number): string {
  return [
    "[global]", "filename=\\\\.\\PhysicalDrive0", "ioengine=windowsaio", "direct=1", "thread",
    "[randread]", "rw=randread", `bs=${READ_BYTES}`, `iodepth=${depth}`, `size=${reads * READ_BYTES}`, "",
  ].join("\n");
}

// ---- the full stack -----------------------------------------------------------------

/** The storage machine with `cpus` processors, booted. */
async function bootStack(cpus: number): Promise<Machine> {
  const d = structuredClone(storageFile);
  d.cpu = { ...d.cpu, count: cpus };
  return boot(Machine.fromDescription(d));
}

/** One fio run of `reads` reads at `depth`; checks that every read completed. */
async function fio(machine: Machine, depth: number, reads: number): Promise<{ r: FioRunResult; ms: number }> {
  const set = resolveJobFile(jobText(depth, reads), "storage-bench.fio", machine.description.cpu.count);
  const t0 = now();
  const r = await runFio(machine, set);
  const ms = now() - t0;
  const done = r.reports[0]?.dirs[DDIR_READ].clat.samples ?? 0;
  if (!r.ok || done !== reads) throw new Error(`fio: ${done} of ${reads} reads completed (ok=${r.ok})`);
  return { r, ms };
}

/** Samples of the full stack: host time of whole runFio calls; simulated figures into `sims`. */
function stackSampler(machine: Machine, depth: number, reads: number, sims: SimRepeat[]): Sample {
  return async () => {
    const events = machine.core.counters().events;
    const { r, ms } = await fio(machine, depth, reads);
    const job = r.jobs[0];
    const d = r.reports[0].dirs[DDIR_READ];
    const simPs = job.endPs - job.startPs;
    sims.push({
      iops: (reads * 1e12) / simPs, clatUs: d.clat.mean / 1000, slatUs: d.slat.mean / 1000, latUs: d.lat.mean / 1000,
      hostNsPerEvent: (ms * 1e6) / (machine.core.counters().events - events), simPerHost: simPs / 1e3 / (ms * 1e6),
    });
    return { units: reads, ms };
  };
}

/** Completions and interrupts per stornvme I/O queue so far. */
function queueCounts(machine: Machine): { id: number; completions: number; interrupts: number }[] {
  return nvmeOf(machine).IoQueues.map((q) => ({ id: q.Id, completions: q.Completions, interrupts: q.Interrupts }));
}

// ---- the controller alone ------------------------------------------------------------

/** The storage machine's NVMe controller on the NVMe harness, enabled, I/O queue pair 1 on MSI-X vector VECTOR. */
class Controller {
  readonly n: Nvme;
  readonly blocksPerRead: number;
  /** Issue time (ps) per command identifier. */
  private readonly issuedAt = new Float64Array(65536);
  private x = 0x2545F491;

  constructor() {
    const slot = nvmeSlot!;
    this.n = readyNvme({
      params: slot.spec.params,
      link: slot.spec.link,
      edit: (d) => {
        d.memoryReadLatencyNs = storageFile.memoryReadLatencyNs;
        d.postedWriteCredits = storageFile.postedWriteCredits;
        d.seed = storageFile.seed;
        d.cpu = { ...storageFile.cpu };
      },
    });
    this.n.msixEntry(1, VECTOR);
    this.n.enableMsix();
    this.n.createPair(1, 64, 1);
    this.n.takeInterrupts();
    this.n.settle();
    this.blocksPerRead = READ_BYTES / this.n.blockSize;
  }

  /** The next LBA of a deterministic 4 KiB-aligned random stream (xorshift32) over the first `region` reads. */
  private lba(region: number): number {
    let x = this.x;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.x = x;
    return (x % region) * this.blocksPerRead;
  }

  /** `count` reads with `depth` in flight; returns simulated ps taken and the sum of doorbell-to-interrupt latencies, ps. Allocates nothing per read. */
  run(depth: number, count: number, region: number): { ps: number; latencyPs: number } {
    const n = this.n;
    const h = n.h;
    const read = this.read;
    const start = h.now;
    let issued = 0;
    let done = 0;
    let latencyPs = 0;
    let pending = 0;
    while (issued < depth && issued < count) {
      pending = this.issue(read, region, issued, depth, pending);
      issued++;
    }
    this.ring(pending);
    pending = 0;
    while (done < count) {
      const r = h.x.run(Infinity);
      if ((r & L.RUN_INTERRUPT) === 0) throw new Error(`controller: core stopped (${r}) with ${count - done} reads outstanding`);
      h.syncCpu();
      while (h.core.highestPending(0) !== 0) h.x.apicAccept(0);
      const seen = h.now;
      let reaped = 0;
      while (n.nextCompletion(1)) {
        const c = n.completion;
        if (c.sc !== 0 || c.sct !== 0) throw new Error(`controller: read failed (sct ${c.sct}, sc ${c.sc})`);
        latencyPs += seen - this.issuedAt[c.cid];
        done++;
        reaped++;
        if (issued < count) {
          pending = this.issue(read, region, issued, depth, pending);
          issued++;
        }
      }
      if (reaped > 0) n.ringCq(1);
      if (pending > 0) {
        this.ring(pending);
        pending = 0;
      }
    }
    return { ps: h.now - start, latencyPs };
  }

  /** The read command, reused (LBA and PRP set per read). */
  private readonly read: Command = { opcode: IO.READ, nsid: 1, prp1: 0, prp2: 0, cdw10: 0, cdw11: 0, cdw12: 0 };
  /** Command identifiers submitted since the last doorbell. */
  private readonly fresh = new Uint16Array(65536);

  /** Writes the next read at the SQ tail (no doorbell); returns the count submitted since the last doorbell. */
  private issue(read: Command, region: number, issued: number, depth: number, pending: number): number {
    const lba = this.lba(region);
    read.cdw10 = lba >>> 0;
    read.cdw11 = Math.floor(lba / 2 ** 32);
    read.cdw12 = this.blocksPerRead - 1;
    read.prp1 = MEM.DATA + (issued % depth) * READ_BYTES;
    this.fresh[pending] = this.n.submit(1, read, false);
    return pending + 1;
  }

  /** Rings the SQ doorbell for the `pending` reads submitted since the last one and notes when they were issued. */
  private ring(pending: number): void {
    this.n.ring(1);
    const t = this.n.h.cpuTime();
    for (let i = 0; i < pending; i++) this.issuedAt[this.fresh[i]] = t;
  }

  sampler(depth: number, reads: number, region: number, sims: SimRepeat[]): Sample {
    return () => {
      const events = this.n.h.core.counters().events;
      const t0 = now();
      const r = this.run(depth, reads, region);
      const ms = now() - t0;
      sims.push({
        iops: (reads * 1e12) / r.ps, clatUs: r.latencyPs / reads / 1e6,
        hostNsPerEvent: (ms * 1e6) / (this.n.h.core.counters().events - events), simPerHost: r.ps / 1e3 / (ms * 1e6),
      });
      return { units: reads, ms };
    };
  }
}

// ---- host-time split ----------------------------------------------------------------

/** Where host time goes. */
type Part = "core" | "kernel" | "drivers" | "rest";
const PARTS: Part[] = ["core", "kernel", "drivers", "rest"];

/** The repository root as a file URL (profile frames carry file URLs). */
const ROOT = new URL("../", import.meta.url).href;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The part and the folder (src/io, src/drivers/disk, wasm, gc, ...) a script belongs to. */
function classify(url: string): { part: Part; folder: string } {
  if (url.startsWith("wasm://")) return { part: "core", folder: "wasm" };
  if (url.includes("/@assemblyscript/loader/")) return { part: "core", folder: "assemblyscript-loader" };
  if (!url.startsWith(`${ROOT}src/`)) return { part: "rest", folder: url.startsWith("node:") ? "node" : url.startsWith(ROOT) ? url.slice(ROOT.length).split("/")[0] : "other" };
  const path = url.slice(ROOT.length).split("/");
  const top = path[1];
  if (top === "machine") return { part: "core", folder: "src/machine" };
  if (top === "drivers") return { part: "drivers", folder: `src/drivers/${path[2]?.replace(/\.ts$/, "") ?? ""}` };
  if (top === "workloads") return { part: "rest", folder: "src/workloads" };
  return { part: "kernel", folder: `src/${top.replace(/\.ts$/, "")}` };
}

/** Host µs per part and per folder in a profile (self time; a frame without a script counts for its caller). */
function attribute(p: Profile): { parts: Record<Part, number>; folders: Map<string, number>; total: number } {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of p.nodes) {
    byId.set(node.id, node);
    for (const c of node.children ?? []) parent.set(c, node.id);
  }
  const where = new Map<number, { part: Part; folder: string }>();
  const whereOf = (leaf: number) => {
    let w = where.get(leaf);
    if (w) return w;
    let id: number | undefined = leaf;
    w = { part: "rest", folder: "other" };
    while (id !== undefined) {
      const f = byId.get(id)!.callFrame;
      if (f.url) { w = classify(f.url); break; }
      if (f.functionName === "(garbage collector)") { w = { part: "rest", folder: "gc" }; break; }
      if (f.functionName.startsWith("(")) { w = { part: "rest", folder: f.functionName.slice(1, -1) }; break; }
      id = parent.get(id);
    }
    where.set(leaf, w);
    return w;
  };
  const parts: Record<Part, number> = { core: 0, kernel: 0, drivers: 0, rest: 0 };
  const folders = new Map<string, number>();
  let t = p.startTime;
  const stamps = p.timeDeltas.map((d) => (t += d));
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const us = (i + 1 < stamps.length ? stamps[i + 1] : p.endTime) - stamps[i];
    if (!(us > 0)) continue;
    const w = whereOf(p.samples[i]);
    parts[w.part] += us;
    folders.set(w.folder, (folders.get(w.folder) ?? 0) + us);
    total += us;
  }
  return { parts, folders, total };
}

/** Profiled full-stack repeats: host ns per read per part, per repeat, and the folders' shares over all of them. */
async function split(session: Session, machine: Machine, depth: number, reads: number, repeats: number): Promise<{
  parts: Record<Part, number[]>; totals: number[]; folders: Map<string, number>; samples: number;
}> {
  const parts: Record<Part, number[]> = { core: [], kernel: [], drivers: [], rest: [] };
  const totals: number[] = [];
  const folders = new Map<string, number>();
  let samples = 0;
  for (let i = 0; i < repeats; i++) {
    await session.post("Profiler.start");
    let ms = 0;
    let profile: Profile;
    try {
      ({ ms } = await fio(machine, depth, reads));
    } finally {
      ({ profile } = (await session.post("Profiler.stop")) as { profile: Profile });
    }
    const a = attribute(profile);
    const nsPerRead = (ms * 1e6) / reads;
    for (const part of PARTS) parts[part].push((a.parts[part] / a.total) * nsPerRead);
    totals.push(nsPerRead);
    for (const [f, us] of a.folders) folders.set(f, (folders.get(f) ?? 0) + us);
    samples += profile.samples.length;
  }
  return { parts, totals, folders, samples };
}

// ---- rows ---------------------------------------------------------------------------

const nsPerRead = (ratesPerSecond: number[]) => ratesPerSecond.map((r) => 1e9 / r);
const round = (x: number, digits = 2) => Number(x.toFixed(digits));

async function measure(config: Config, machine: Machine, controller: Controller, options: RunOptions): Promise<{ rows: Row[]; hostNs: number }> {
  const { cpus, depth, reads } = config;
  const stackSims: SimRepeat[] = [];
  const aloneSims: SimRepeat[] = [];
  const queuesBefore = queueCounts(machine);
  const samples = await compare(options.repeats,
    stackSampler(machine, depth, reads, stackSims),
    controller.sampler(depth, reads * BASELINE_FACTOR, reads, aloneSims));
  const queuesAfter = queueCounts(machine);
  // The first entry of each is the warm-up repeat.
  const stack = stackSims.slice(1);
  const alone = aloneSims.slice(1);
  const runs = options.repeats + 1;
  const used = queuesAfter.map((q, i) => ({ id: q.id, completions: q.completions - queuesBefore[i].completions, interrupts: q.interrupts - queuesBefore[i].interrupts }))
    .filter((q) => q.completions > 0);
  const interrupts = used.reduce((a, q) => a + q.interrupts, 0);
  const name = `storage stack, 4 KiB random reads, ${label(config)}`;
  const host = { value: nsPerRead(samples.value), baseline: nsPerRead(samples.baseline) };
  const hostRow = row(`${name}: host time per read (fio → disk → Storport → stornvme → NVMe)`, "host ns/read",
    "the same controller driven from TypeScript, no kernel (host ns/read; ratio: times its cost, lower is better)", host, {
      cpus, depth, readsPerRepeat: reads, baselineReadsPerRepeat: reads * BASELINE_FACTOR,
      stackReadsPerHostSecond: Math.round(median(samples.value)), controllerReadsPerHostSecond: Math.round(median(samples.baseline)),
      ioQueuesUsed: used.map((q) => `SQ${q.id}: ${Math.round((100 * q.completions) / (reads * runs))}%`).join(", "),
      interruptsPerRead: round(interrupts / (reads * runs), 3),
    });
  const iopsRow = row(`${name}: simulated IOPS`, "IOPS (simulated)", `the controller alone at QD${depth}, one queue pair (simulated IOPS)`,
    { value: stack.map((s) => s.iops), baseline: alone.map((s) => s.iops) }, { cpus, depth });
  const latencyRow = row(`${name}: mean completion latency (fio clat)`, "µs (simulated)",
    "the controller alone: doorbell → MSI-X seen (µs; ratio: lower is better)",
    { value: stack.map((s) => s.clatUs), baseline: alone.map((s) => s.clatUs) }, {
      cpus, depth,
      fioSlatUs: round(median(stack.map((s) => s.slatUs!))), fioLatUs: round(median(stack.map((s) => s.latUs!))),
      overheadUs: round(median(stack.map((s) => s.clatUs)) - median(alone.map((s) => s.clatUs))),
    });
  const eventRow = row(`${name}: host time per simulated device event`, "host ns/event",
    "the controller alone (host ns/event; ratio: times its cost, lower is better)",
    { value: stack.map((s) => s.hostNsPerEvent), baseline: alone.map((s) => s.hostNsPerEvent) }, { cpus, depth });
  const speedRow = row(`${name}: simulated time per host time (above 1: faster than real time)`, "sim s/host s",
    "the controller alone (sim s/host s)", { value: stack.map((s) => s.simPerHost), baseline: alone.map((s) => s.simPerHost) }, { cpus, depth });
  return { rows: [hostRow, iopsRow, latencyRow, eventRow, speedRow], hostNs: hostRow.value };
}

async function splitRows(session: Session, config: Config, machine: Machine, unprofiledNs: number): Promise<Row[]> {
  const s = await split(session, machine, config.depth, config.reads, PROFILED_REPEATS);
  const all = [...s.folders.values()].reduce((a, b) => a + b, 0);
  const folders = [...s.folders.entries()].sort((a, b) => b[1] - a[1]).filter(([, us]) => us / all >= 0.005)
    .map(([f, us]) => `${f} ${((100 * us) / all).toFixed(1)}%`).join(", ");
  const what: Record<Part, string> = {
    core: "core (WebAssembly + src/machine)",
    kernel: "kernel (src/ke, io, mm, hal, ob, ps, trace, ...)",
    drivers: "drivers (src/drivers: disk, storport, stornvme)",
    rest: "rest (fio in src/workloads, GC, Node)",
  };
  return PARTS.map((part) => row(`storage stack, ${label(config)}: host time in ${what[part]}`, "host ns/read",
    "the whole profiled run (host ns/read; ratio: the share)", { value: s.parts[part], baseline: s.totals }, {
      profiledRepeats: PROFILED_REPEATS, readsPerRepeat: config.reads, profileSamples: s.samples, sampleIntervalUs: SAMPLE_INTERVAL_US,
      profiledNsPerRead: Math.round(median(s.totals)), unprofiledNsPerRead: Math.round(unprofiledNs),
      byFolder: folders,
    }));
}

export const storage: Benchmark = {
  name: "storage",
  description: "fio 4 KiB random reads through disk, Storport and stornvme to the NVMe controller, against the controller driven directly",
  async run(options) {
    const qd1 = Math.max(200, Math.round(4000 * options.scale));
    const qd32 = Math.max(640, Math.round(12000 * options.scale));
    const controller = new Controller();
    const session = new Session();
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: SAMPLE_INTERVAL_US });
    const hostRows: Row[] = [];
    const simRows: Row[] = [];
    const splits: Row[] = [];
    try {
      for (const cpus of [1, 4]) {
        const machine = await bootStack(cpus);
        // compare()'s one warm-up repeat leaves the stack's code half optimised (the first
        // repeats run 2-4 times slower): warm up on every machine, longest on the first.
        const warm = cpus === 1 ? WARM_UP_READS : qd32;
        for (let done = 0; done < warm; done += qd32) await fio(machine, 32, qd32);
        await fio(machine, 1, qd1);
        if (cpus === 1) controller.run(32, WARM_UP_READS, qd32);
        for (const depth of [1, 32]) {
          const config = { cpus, depth, reads: depth === 1 ? qd1 : qd32 };
          const m = await measure(config, machine, controller, options);
          hostRows.push(m.rows[0]);
          simRows.push(...m.rows.slice(1));
          if ((cpus === 1 && depth === 1) || (cpus === 4 && depth === 32)) splits.push(...(await splitRows(session, config, machine, m.hostNs)));
        }
      }
    } finally {
      await session.post("Profiler.disable");
      session.disconnect();
    }
    return [...hostRows, ...simRows, ...splits];
  },
};
