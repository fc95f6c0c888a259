// Determinism: a run is fully determined by the machine description, the workload and the
// seed (DESIGN.md, Time), down to the bytes of its Chrome trace; another seed changes the
// workload's data and still passes.
import { beforeAll, describe, expect, it } from "vitest";
import { toChromeTrace, type Machine } from "../../src/index.js";
import { EDU_WORKLOAD_DEFAULTS, runEduWorkload, type EduWorkloadOptions, type EduWorkloadResult } from "../../src/workloads/edu.js";
import type { KernelStats } from "../../src/trace/recorder.js";
import type { LogLinearHistogram } from "../../src/trace/histogram.js";
import { bootDefault, kernelOf } from "../support/kernel-harness.js";

/** A shorter edu job than the default, still covering every IOCTL kind. */
const JOB: EduWorkloadOptions = { ...EDU_WORKLOAD_DEFAULTS, factorials: 8, dmaRoundTrips: 4, livenessChecks: 4 };

interface RunOutcome {
  machine: Machine;
  result: EduWorkloadResult;
  /** Latest processor clock after the run, ps. */
  endPs: number;
  /** Core time after the run, ps. */
  corePs: number;
  counters: Record<string, number>;
  stats: Record<string, unknown>;
}

/** Everything a histogram keeps: exact count, min, max and total, and every bucket's count. */
function histogramSnapshot(h: LogLinearHistogram): Record<string, unknown> {
  return { count: h.count, min: h.min, max: h.max, total: h.total, counts: Array.from(h.counts) };
}

function statsSnapshot(s: KernelStats): Record<string, unknown> {
  return {
    irps: s.irps, isrs: s.isrs, dpcs: s.dpcs, unclaimed: s.unclaimedInterrupts,
    isrDuration: histogramSnapshot(s.isrDuration), dpcDuration: histogramSnapshot(s.dpcDuration),
    interruptToDpc: histogramSnapshot(s.interruptToDpc), interruptToIsr: histogramSnapshot(s.interruptToIsr),
  };
}

async function run(options: { trace?: boolean; seed?: number } = {}): Promise<RunOutcome> {
  const machine = await bootDefault(options.seed === undefined ? {} : { seed: options.seed }, { trace: options.trace ?? false });
  const result = await runEduWorkload(machine, JOB);
  const k = kernelOf(machine);
  return {
    machine, result,
    endPs: Math.max(...k.processors.map((p) => p.time)),
    corePs: machine.nowPs,
    counters: { ...machine.core.counters() },
    stats: statsSnapshot(k.recorder.stats),
  };
}

interface ChromeEvent {
  ph: string;
  name: string;
  cat?: string;
  ts?: number;
  dur?: number;
  pid: number;
  tid: number;
  id?: number;
  args?: Record<string, unknown>;
}

describe("determinism of a run", () => {
  let a: RunOutcome;
  let b: RunOutcome;
  beforeAll(async () => {
    a = await run();
    b = await run();
  });

  it("the workload passes", () => {
    expect(a.result.ok).toBe(true);
    expect(b.result.ok).toBe(true);
  });

  it("two boots of the same machine running the same workload end at the same simulated time", () => {
    expect(a.endPs).toBeGreaterThan(0);
    expect(b.endPs).toBe(a.endPs);
    expect(b.corePs).toBe(a.corePs);
  });

  it("two boots of the same machine running the same workload give identical core counters", () => {
    expect(a.counters.msiSent).toBeGreaterThan(0);
    expect(a.counters.dmaTransfers).toBeGreaterThan(0);
    expect(b.counters).toEqual(a.counters);
  });

  it("two boots of the same machine running the same workload give identical recorder statistics", () => {
    expect(a.stats.isrs).toBeGreaterThan(0);
    expect(b.stats).toEqual(a.stats);
  });

  it("two boots give the same workload results", () => {
    expect(b.result).toEqual(a.result);
  });
});

describe("determinism of the Chrome trace", () => {
  let first: string;
  let second: string;
  beforeAll(async () => {
    const x = await run({ trace: true });
    first = toChromeTrace(kernelOf(x.machine).recorder);
    const y = await run({ trace: true });
    second = toChromeTrace(kernelOf(y.machine).recorder);
  });

  // Rule (DESIGN.md, Time: "a run is fully determined by the machine description, the
  // workload and the seed"): identifiers in the trace (thread ids, IRP serials) are per
  // machine, so two equal runs in one process give equal bytes.
  it("the Chrome trace of two equal runs is byte-identical", () => {
    expect(second.length).toBe(first.length);
    expect(second === first).toBe(true);
  });

  it("the trace parses as JSON with traceEvents holding ISR and DPC slices and interrupt-to-DPC flows", () => {
    const doc = JSON.parse(first) as { traceEvents: ChromeEvent[] };
    expect(Array.isArray(doc.traceEvents)).toBe(true);
    const events = doc.traceEvents;
    const isrs = events.filter((e) => e.ph === "X" && e.cat === "isr");
    const dpcs = events.filter((e) => e.ph === "X" && e.cat === "dpc");
    expect(isrs.length).toBeGreaterThan(0);
    expect(dpcs.length).toBeGreaterThan(0);
    for (const s of isrs) {
      expect(s.name).toContain("edu!");
      expect(s.args?.irql).toBe((s.args?.vector as number) >> 4);
      expect(s.dur).toBeGreaterThanOrEqual(0);
    }
    const starts = events.filter((e) => e.ph === "s");
    const ends = events.filter((e) => e.ph === "f");
    expect(starts.length).toBeGreaterThan(0);
    expect(ends.length).toBeGreaterThan(0);
    // Every flow that ends starts at an ISR and ends at the start of a DPC slice on the same CPU track, later in time.
    for (const f of ends) {
      const s = starts.find((x) => x.id === f.id);
      expect(s).toBeDefined();
      expect(f.ts!).toBeGreaterThanOrEqual(s!.ts!);
      expect(isrs.some((x) => x.pid === s!.pid && x.tid === s!.tid && x.ts === s!.ts)).toBe(true);
      expect(dpcs.some((x) => x.pid === f.pid && x.tid === f.tid && x.ts === f.ts)).toBe(true);
    }
  });

  it("the trace's events are in time order", () => {
    const events = (JSON.parse(first) as { traceEvents: ChromeEvent[] }).traceEvents.filter((e) => e.ph !== "M");
    for (let i = 1; i < events.length; i++) expect(events[i].ts!).toBeGreaterThanOrEqual(events[i - 1].ts!);
  });
});

describe("seeds", () => {
  it("a different seed changes the workload's data and still passes", async () => {
    const one = await run();
    const other = await run({ seed: 12345 });
    expect(other.machine.description.seed).toBe(12345);
    expect(one.result.ok).toBe(true);
    expect(other.result.ok).toBe(true);
    expect(other.result.factorials.samples.map((s) => s.n)).not.toEqual(one.result.factorials.samples.map((s) => s.n));
    expect(other.result.factorials.correct).toBe(other.result.factorials.computed);
    expect(other.result.dma.verified).toBe(other.result.dma.roundTrips);
  });

  it("the same seed in a description built in code gives the same run as the machine file", async () => {
    const fromFile = await run();
    const fromDescription = await run({ seed: 1 });
    expect(fromDescription.endPs).toBe(fromFile.endPs);
    expect(fromDescription.counters).toEqual(fromFile.counters);
  });
});
