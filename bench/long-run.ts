/**
 * Long runs in constant memory. One storage machine (firmware/machines/storage.json as it
 * is: four CPUs, Driver Verifier and IOMMU on, tracing off) runs a steady fio job — 4 KiB
 * random reads at queue depth 32 through disk, Storport and stornvme to the NVMe
 * controller, over a fixed 4 MiB region, as many loops as it takes — until the core has
 * processed 10^5, 10^6, (at --scale 1 or more) 10^7 and (at --scale 10 or more) 10^8
 * simulated device events in all;
 * after each milestone the JS heap in use and the process's resident set are measured,
 * with the machine and everything it recorded still alive.
 *
 * Heap: after a forced garbage collection when `global.gc` exists (the suite runs each
 * benchmark with --expose-gc); otherwise after letting the process settle for a moment, and
 * then it includes garbage not yet collected, so it is an upper bound that moves with
 * the collector's timing. RSS also holds the pages of the machine's memory the run has
 * touched so far and V8's code, and rarely shrinks.
 *
 * Rows: heap and RSS after each milestone (value) against the same figure measured right
 * after boot, before the first I/O (baseline); the ratio stays flat while memory does not
 * grow with the run. The extra fields give the events, I/Os, interrupts and IRPs
 * behind each milestone and how many objects the machine's object graph holds
 * (test/support/retained.ts).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { boot } from "../src/pnp/boot.js";
import { Machine } from "../src/machine/machine.js";
import { loadMachine } from "../src/machine/firmwareFiles.js";
import { runFio } from "../src/workloads/fio/fio.js";
import { resolveJobFile } from "../src/workloads/fio/options.js";
import { DDIR_READ } from "../src/workloads/fio/stats.js";
import type { BootedKernel } from "../src/pnp/boot.js";
import { retained } from "../test/support/retained.js";
import { row, type Benchmark, type Row } from "./lib.js";

/** Simulated device events after which memory is measured, with the --scale each needs (10^8: --scale 10, a long run). */
const MILESTONES = [{ events: 1e5, scale: 0 }, { events: 1e6, scale: 0 }, { events: 1e7, scale: 1 }, { events: 1e8, scale: 10 }];
/** Bytes per read. */
const READ_BYTES = 4096;
/** The region the job reads, bytes: one loop reads each of its blocks once. */
const REGION_BYTES = 4 << 20;
/** I/Os in flight: the queue depth storage benchmarks use. */
const DEPTH = 32;
/** Device events per read assumed before the first loop has measured it (about what the stack takes). */
const EVENTS_PER_READ_GUESS = 12;
/** How long to let the process settle before reading memory when no collection can be forced, ms. */
const SETTLE_MS = 250;
const MIB = 2 ** 20;

/** The job: `loops` passes of 4 KiB random reads over the region. */
function jobText(loops: number): string {
  return [
    "[global]", "filename=\\\\.\\PhysicalDrive0", "ioengine=windowsaio", "direct=1", "thread",
    "[randread]", "rw=randread", `bs=${READ_BYTES}`, `iodepth=${DEPTH}`, `size=${REGION_BYTES}`, `loops=${loops}`, "",
  ].join("\n");
}

/** Heap in use and resident set, MiB, and whether a collection was forced first. */
async function memory(): Promise<{ heapMiB: number; rssMiB: number; forced: boolean }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  } else {
    for (let i = 0; i < 5; i++) await sleep(SETTLE_MS / 5);
  }
  const u = process.memoryUsage();
  return { heapMiB: u.heapUsed / MIB, rssMiB: u.rss / MIB, forced: gc !== undefined };
}

const round = (x: number, digits = 2) => Number(x.toFixed(digits));

export const longRun: Benchmark = {
  name: "long-run",
  description: "JS heap and RSS of one machine after 10^5, 10^6, 10^7 (and at --scale 10, 10^8) simulated events of a steady fio random-read job: flat as events grow",
  async run(options) {
    const milestones = MILESTONES.filter((m) => options.scale >= m.scale).map((m) => m.events);
    const machine = await boot(Machine.fromDescription(loadMachine("storage")));
    const k = (machine.kernel as BootedKernel).k;
    const cpus = machine.description.cpu.count;
    const atBoot = await memory();
    const bootEvents = machine.core.counters().events;
    const readsPerLoop = REGION_BYTES / READ_BYTES;
    let eventsPerRead = EVENTS_PER_READ_GUESS;
    let reads = 0;
    let runs = 0;
    const heapRows: Row[] = [];
    const rssRows: Row[] = [];
    for (const milestone of milestones) {
      for (let events = machine.core.counters().events; events < milestone; events = machine.core.counters().events) {
        const loops = Math.max(1, Math.ceil((milestone - events) / (eventsPerRead * readsPerLoop)));
        const r = await runFio(machine, resolveJobFile(jobText(loops), "long-run.fio", cpus));
        const done = r.reports[0]?.dirs[DDIR_READ].clat.samples ?? 0;
        if (!r.ok || done !== loops * readsPerLoop) throw new Error(`long-run: ${done} of ${loops * readsPerLoop} reads completed (ok=${r.ok})`);
        reads += done;
        runs++;
        eventsPerRead = (machine.core.counters().events - bootEvents) / reads;
      }
      const m = await memory();
      const c = machine.core.counters();
      const stats = k.recorder.stats;
      const extra = {
        events: c.events, reads, fioRuns: runs, isrs: stats.isrs, dpcs: stats.dpcs, irps: stats.irps,
        machineObjects: retained(machine).objects, gcForced: m.forced, cpus,
        isrMedianNs: round(stats.isrDuration.percentile(50) / 1000), isrP99Ns: round(stats.isrDuration.percentile(99) / 1000),
      };
      const events = `10^${Math.round(Math.log10(milestone))}`;
      heapRows.push(row(`long run (fio 4 KiB random reads, QD${DEPTH}): JS heap after ${events} simulated events`, "MiB",
        "JS heap after boot, before the first I/O (MiB; ratio: growth)", { value: [m.heapMiB], baseline: [atBoot.heapMiB] }, extra));
      rssRows.push(row(`long run (fio 4 KiB random reads, QD${DEPTH}): RSS after ${events} simulated events`, "MiB",
        "RSS after boot, before the first I/O (MiB; ratio: growth)", { value: [m.rssMiB], baseline: [atBoot.rssMiB] }, { events: c.events, gcForced: m.forced }));
    }
    return [...heapRows, ...rssRows];
  },
};
