/**
 * The interrupt view a storage person reads next to fio's report: over the run, per
 * processor the time spent in threads, ISRs and DPCs and their duration histograms in
 * xperf's `-a dpcisr` buckets (0-1 µs, 1-2, 2-4, ... powers of two); per interrupt vector
 * the interrupts, the DPCs its ISRs queued and the IRPs those completed (interrupt
 * coalescing shows as several completions per interrupt); per driver its ISR and DPC
 * histograms; and interrupts per I/O. Built from the kernel's accounting at the start and
 * the end of the run (src/trace/recorder.ts), as text and as a JSON object.
 */
import { DURATION_BUCKETS, durationBucketBoundsUs, type DurationHistogram, type InterruptActivity } from "../../trace/recorder.js";
import { cFixed } from "./format.js";

/** A duration histogram over the run: counts per xperf bucket, total and longest, µs. */
export interface DurationSummary {
  count: number;
  totalUs: number;
  maxUs: number;
  /** Counts per bucket (DURATION_BUCKETS entries; bucket bounds from durationBucketBoundsUs). */
  buckets: number[];
}

/** One processor over the run. */
export interface ProcessorView {
  cpu: number;
  /** Busy time, µs, and as a percentage of the run. */
  threadUs: number;
  isrUs: number;
  dpcUs: number;
  busyPercent: number;
  isr: DurationSummary;
  dpc: DurationSummary;
}

/** One vector on one processor over the run. */
export interface VectorView {
  cpu: number;
  vector: number;
  driver: string;
  interrupts: number;
  dpcs: number;
  completions: number;
  /** IRPs completed per interrupt (above 1: coalescing). */
  completionsPerInterrupt: number;
  isr: DurationSummary;
}

/** One driver's ISRs and DPCs over the run. */
export interface DriverView {
  driver: string;
  isr: DurationSummary;
  dpc: DurationSummary;
}

/** The interrupt view of a run. */
export interface InterruptView {
  /** Length of the window, µs. */
  windowUs: number;
  /** I/Os the workload completed in the window. */
  ios: number;
  interrupts: number;
  dpcs: number;
  /** Interrupts per I/O (below 1: coalescing, or completions without interrupts). */
  interruptsPerIo: number;
  /** IRPs completed, and how many of them by DPCs no interrupt queued (timers, threads). */
  completions: number;
  completionsOutsideInterrupts: number;
  processors: ProcessorView[];
  vectors: VectorView[];
  drivers: DriverView[];
}

const PS_PER_US = 1e6;

function diff(after: DurationHistogram, before: DurationHistogram | undefined): DurationSummary {
  const buckets: number[] = [];
  let top = -1;
  for (let i = 0; i < DURATION_BUCKETS; i++) {
    buckets.push(after.counts[i] - (before ? before.counts[i] : 0));
    if (buckets[i] > 0) top = i;
  }
  // A new longest duration happened in the window; otherwise the window's longest is known only
  // to its bucket (bounded by the longest ever).
  const grew = !before || after.maxPs > before.maxPs;
  const maxPs = top < 0 ? 0 : grew ? after.maxPs : Math.min(after.maxPs, durationBucketBoundsUs(top)[1] * PS_PER_US);
  return {
    count: after.count - (before ? before.count : 0),
    totalUs: (after.totalPs - (before ? before.totalPs : 0)) / PS_PER_US,
    maxUs: maxPs / PS_PER_US,
    buckets,
  };
}

/** The view of what happened between two snapshots of the kernel's accounting, with `ios` I/Os done meanwhile. */
export function interruptView(before: InterruptActivity, after: InterruptActivity, ios: number): InterruptView {
  const windowPs = after.atPs - before.atPs;
  const processors = after.processors.map((p) => {
    const b = before.processors[p.cpu];
    const threadUs = (p.threadPs - (b?.threadPs ?? 0)) / PS_PER_US;
    const isrUs = (p.isrPs - (b?.isrPs ?? 0)) / PS_PER_US;
    const dpcUs = (p.dpcPs - (b?.dpcPs ?? 0)) / PS_PER_US;
    const busy = windowPs > 0 ? ((threadUs + isrUs + dpcUs) * PS_PER_US * 100) / windowPs : 0;
    return { cpu: p.cpu, threadUs, isrUs, dpcUs, busyPercent: busy, isr: diff(p.isr, b?.isr), dpc: diff(p.dpc, b?.dpc) };
  });
  const vectors = after.vectors.map((v) => {
    const b = before.vectors.find((x) => x.cpu === v.cpu && x.vector === v.vector);
    const interrupts = v.interrupts - (b?.interrupts ?? 0);
    const completions = v.completions - (b?.completions ?? 0);
    return {
      cpu: v.cpu, vector: v.vector, driver: v.driver, interrupts, dpcs: v.dpcs - (b?.dpcs ?? 0), completions,
      completionsPerInterrupt: interrupts > 0 ? completions / interrupts : 0, isr: diff(v.isr, b?.isr),
    };
  }).filter((v) => v.interrupts > 0 || v.completions > 0);
  const drivers = after.drivers.map((d) => {
    const b = before.drivers.find((x) => x.driver === d.driver);
    return { driver: d.driver, isr: diff(d.isr, b?.isr), dpc: diff(d.dpc, b?.dpc) };
  }).filter((d) => d.isr.count > 0 || d.dpc.count > 0);
  const interrupts = processors.reduce((n, p) => n + p.isr.count, 0);
  const dpcs = processors.reduce((n, p) => n + p.dpc.count, 0);
  return {
    windowUs: windowPs / PS_PER_US, ios, interrupts, dpcs, interruptsPerIo: ios > 0 ? interrupts / ios : 0,
    completions: after.completions - before.completions,
    completionsOutsideInterrupts: after.completionsOutsideInterrupts - before.completionsOutsideInterrupts,
    processors, vectors, drivers,
  };
}

/** xperf's histogram lines for one summary: "Elapsed Time, >  0 usecs AND <=  1 usecs,  n, or  p%", first to last non-empty bucket. */
function histogramLines(title: string, h: DurationSummary): string[] {
  if (h.count === 0) return [];
  const out = [`    ${title}: Total = ${h.count}, ${cFixed(h.totalUs, 2)} usecs in all, longest ${cFixed(h.maxUs, 2)} usecs`];
  const first = h.buckets.findIndex((c) => c > 0);
  let last = first;
  h.buckets.forEach((c, i) => { if (c > 0) last = i; });
  for (let i = first; i <= last; i++) {
    const [lo, hi] = durationBucketBoundsUs(i);
    const upper = hi === Infinity ? "     inf" : String(hi).padStart(8);
    out.push(`      Elapsed Time, > ${String(lo).padStart(8)} usecs AND <= ${upper} usecs, ${String(h.buckets[i]).padStart(8)}, or ${cFixed((h.buckets[i] * 100) / h.count, 2).padStart(6)}%`);
  }
  return out;
}

/** The view as text. */
export function formatInterruptView(v: InterruptView): string[] {
  const out = [
    `Interrupts (${cFixed(v.windowUs, 1)} usecs of simulated time, ${v.ios} I/Os):`,
    `  interrupts=${v.interrupts}, DPCs=${v.dpcs}, interrupts per I/O=${cFixed(v.interruptsPerIo, 3)}, IRPs completed=${v.completions} (${v.completionsOutsideInterrupts} by DPCs no interrupt queued)`,
  ];
  for (const p of v.processors) {
    out.push(`  CPU ${p.cpu}: busy=${cFixed(p.busyPercent, 2)}% (threads=${cFixed(p.threadUs, 1)}us, ISR=${cFixed(p.isrUs, 1)}us, DPC=${cFixed(p.dpcUs, 1)}us), ISRs=${p.isr.count}, DPCs=${p.dpc.count}`);
    out.push(...histogramLines("ISR", p.isr), ...histogramLines("DPC", p.dpc));
  }
  if (v.vectors.length > 0) {
    out.push("  vector  CPU  driver            interrupts        DPCs   completions   per interrupt");
    for (const x of v.vectors) {
      out.push(`    0x${x.vector.toString(16).padStart(2, "0")}  ${String(x.cpu).padStart(3)}  ${(x.driver || "-").padEnd(16)}  ${String(x.interrupts).padStart(10)}  ${String(x.dpcs).padStart(10)}  ${String(x.completions).padStart(12)}  ${cFixed(x.completionsPerInterrupt, 2).padStart(14)}`);
    }
  }
  for (const d of v.drivers) {
    out.push(`  driver ${d.driver}:`);
    out.push(...histogramLines("ISR", d.isr), ...histogramLines("DPC", d.dpc));
  }
  return out;
}

/** The view as the JSON object printed alongside fio's (bucket keys are "lo-hi" in µs, the last ">lo"). */
export function interruptViewJson(v: InterruptView): Record<string, unknown> {
  const hist = (h: DurationSummary) => {
    const buckets: Record<string, number> = {};
    h.buckets.forEach((c, i) => {
      const [lo, hi] = durationBucketBoundsUs(i);
      buckets[hi === Infinity ? `>${lo}` : `${lo}-${hi}`] = c;
    });
    return { count: h.count, total_us: h.totalUs, max_us: h.maxUs, buckets_us: buckets };
  };
  return {
    window_us: v.windowUs,
    ios: v.ios,
    interrupts: v.interrupts,
    dpcs: v.dpcs,
    interrupts_per_io: v.interruptsPerIo,
    completions: v.completions,
    completions_outside_interrupts: v.completionsOutsideInterrupts,
    cpus: v.processors.map((p) => ({ cpu: p.cpu, busy_pct: p.busyPercent, thread_us: p.threadUs, isr_us: p.isrUs, dpc_us: p.dpcUs, isr: hist(p.isr), dpc: hist(p.dpc) })),
    vectors: v.vectors.map((x) => ({
      vector: x.vector, cpu: x.cpu, driver: x.driver, interrupts: x.interrupts, dpcs: x.dpcs, completions: x.completions,
      completions_per_interrupt: x.completionsPerInterrupt, isr: hist(x.isr),
    })),
    drivers: v.drivers.map((d) => ({ driver: d.driver, isr: hist(d.isr), dpc: hist(d.dpc) })),
  };
}
