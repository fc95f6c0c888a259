/**
 * The NVMe miniport's queues and interrupts under fio on the storage machine: one queue
 * pair per processor with its completion queue's MSI-X message delivered to that processor
 * (so a request is submitted, interrupts and completes on the processor that issued it),
 * and interrupt coalescing set from the service's parameters (NVMe feature 08h: a vector
 * fires at THR + 1 pending completions or when the aggregation time has passed since the
 * first one) as the latency and the interrupts per I/O show; and fio's report against the
 * machine's own trace of the run.
 */
import { describe, expect, it } from "vitest";
import type { Machine } from "../../src/machine/machine.js";
import { runFio, type FioRunResult } from "../../src/workloads/fio/fio.js";
import { resolveJobFile } from "../../src/workloads/fio/options.js";
import { formatFioJson } from "../../src/workloads/fio/report-json.js";
import { bootStorage, nvmeOf, type StorageTweaks } from "../support/storage-harness.js";
import { kernelOf } from "../support/kernel-harness.js";

const GLOBAL = "[global]\nfilename=\\\\.\\PhysicalDrive0\nioengine=windowsaio\ndirect=1\nthread\nrw=randread\nbs=4k\n";

async function fio(machine: Machine, jobs: string): Promise<{ result: FioRunResult; doc: { jobs: { read: { total_ios: number; clat_ns: { mean: number } } }[] } }> {
  const set = resolveJobFile(GLOBAL + jobs, "test.fio", machine.description.cpu.count);
  const result = await runFio(machine, set);
  expect(result.ok).toBe(true);
  return { result, doc: JSON.parse(formatFioJson(result)) };
}

async function fioOn(tweaks: StorageTweaks, jobs: string) {
  const machine = await bootStorage(tweaks);
  return { machine, ...(await fio(machine, jobs)) };
}

/** stornvme's interrupts in a run's interrupt view, by processor. */
function stornvmeInterruptsByCpu(result: FioRunResult, cpus: number): number[] {
  const by = Array<number>(cpus).fill(0);
  for (const v of result.interrupts.vectors) if (v.driver === "stornvme") by[v.cpu] += v.interrupts;
  return by;
}

describe("MSI-X steering", () => {
  it("each processor submits on its own queue pair, and that queue's completions interrupt and complete on the same processor", async () => {
    const machine = await bootStorage({ cpus: 4 });
    const ext = nvmeOf(machine);
    expect(ext.IoQueues.length).toBe(4);
    expect(new Set(ext.IoQueues.map((q) => q.MessageId)).size).toBe(4);
    expect(ext.IoQueues.every((q) => q.MessageId >= 1)).toBe(true);
    const before = ext.IoQueues.map((q) => ({ completions: q.Completions, interrupts: q.Interrupts }));
    const jobs = [0, 1, 2, 3].map((c) => `[cpu${c}]\ncpus_allowed=${c}\nsize=${(c + 1) * 256}k\niodepth=4\n`).join("");
    const { result, doc } = await fio(machine, jobs);
    const ios = doc.jobs.map((j) => j.read.total_ios);
    expect(ios).toEqual([64, 128, 192, 256]);
    // Queue i is processor i's: its completions are exactly that processor's job's I/Os.
    expect(ext.IoQueues.map((q, i) => q.Completions - before[i].completions)).toEqual(ios);
    // Every stornvme interrupt landed on the processor whose queue it reaps, one vector per processor:
    // each interrupt that found completions on queue i was taken on processor i (an MSI-X message
    // still pending when its entries were already reaped finds the queue empty and is not counted by the queue).
    const interrupts = ext.IoQueues.map((q, i) => q.Interrupts - before[i].interrupts);
    const taken = stornvmeInterruptsByCpu(result, 4);
    for (let i = 0; i < 4; i++) expect(taken[i]).toBeGreaterThanOrEqual(interrupts[i]);
    const vectors = result.interrupts.vectors.filter((v) => v.driver === "stornvme" && v.interrupts > 0);
    expect(new Set(vectors.map((v) => v.vector)).size).toBe(vectors.length);
    expect(vectors.map((v) => v.cpu).sort()).toEqual([0, 1, 2, 3]);
    // And the requests completed there: the IRPs each processor's interrupts led to.
    for (const v of vectors) expect(v.completions).toBeGreaterThanOrEqual(ios[v.cpu]);
  });
});

describe("interrupt coalescing from the service's parameters", () => {
  const coalescing = (entries: number, time100us: number): StorageTweaks => ({
    cpus: 1, driverParameters: { stornvme: { InterruptCoalescingEntries: entries, InterruptCoalescingTime: time100us } },
  });
  const QD1 = "[qd1]\nsize=256k\niodepth=1\n";
  const QD32 = "[qd32]\nsize=8m\niodepth=32\n";

  it("at queue depth 1 each completion waits the aggregation time for company: latency grows by 100 us, still one interrupt per I/O", async () => {
    const off = await fioOn({ cpus: 1 }, QD1);
    const on = await fioOn(coalescing(8, 1), QD1);
    const grew = (on.doc.jobs[0].read.clat_ns.mean - off.doc.jobs[0].read.clat_ns.mean) / 1000;
    expect(grew).toBeGreaterThan(99);
    expect(grew).toBeLessThan(101);
    expect(off.result.interrupts.interruptsPerIo).toBeCloseTo(1, 5);
    expect(on.result.interrupts.interruptsPerIo).toBeCloseTo(1, 5);
  });

  it("at queue depth 32 an interrupt comes with at least THR + 1 completions: at most one interrupt per 8 I/Os", async () => {
    const off = await fioOn({ cpus: 1 }, QD32);
    const on = await fioOn(coalescing(8, 1), QD32);
    const perIo = (r: FioRunResult) => stornvmeInterruptsByCpu(r, 1)[0] / r.interrupts.ios;
    expect(perIo(on.result)).toBeLessThanOrEqual(1 / 8 + 0.01);
    expect(perIo(off.result)).toBeGreaterThan(2 * perIo(on.result));
    const ext = nvmeOf(on.machine);
    expect(ext.IoQueues[0].Completions / ext.IoQueues[0].Interrupts).toBeGreaterThanOrEqual(7.5);
  });
});

describe("fio's report against the machine's trace", () => {
  it("counts, bytes and latency agree with the read IRPs the trace shows at \\Device\\Harddisk0\\DR0", async () => {
    const machine = await bootStorage({ cpus: 2 });
    const recorder = kernelOf(machine).recorder;
    recorder.enabled = true;
    const from = recorder.events.length;
    const { doc } = await fio(machine, "[small]\nsize=256k\niodepth=4\n");
    const begins = new Map<number, { ts: number; name: string; device: string }>();
    const reads: number[] = [];
    for (const e of recorder.events.slice(from)) {
      if (e.cat !== "irp") continue;
      if (e.ph === "b") begins.set(e.id!, { ts: e.ts, name: e.name, device: String(e.args?.device) });
      const b = e.ph === "e" ? begins.get(e.id!) : undefined;
      if (b && b.name === "IRP_MJ_READ" && b.device === "\\Device\\Harddisk0\\DR0") reads.push(e.ts - b.ts);
    }
    const read = doc.jobs[0].read as { total_ios: number; io_bytes: number; clat_ns: { mean: number } };
    expect(reads.length).toBe(64);
    expect(read.total_ios).toBe(reads.length);
    expect(read.io_bytes).toBe(reads.length * 4096);
    // An IRP lives from the I/O manager's first IoCallDriver to IoFreeIrp; fio's clat from the
    // queued submission to the reap: the two means agree to within a microsecond.
    const irpMeanNs = reads.reduce((a, b) => a + b, 0) / reads.length / 1000;
    expect(Math.abs(read.clat_ns.mean - irpMeanNs)).toBeLessThan(1000);
  });
});
