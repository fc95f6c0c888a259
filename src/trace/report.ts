/** The numbers a run summary reports, gathered from the core's counters and the recorder. */
import type { CoreCounters } from "../machine/core.js";
import type { KernelStats } from "./recorder.js";
import type { LogLinearHistogram } from "./histogram.js";

/**
 * A series of durations, nanoseconds: count, min, mean and max exact (to the picosecond);
 * the median from the kernel's histogram, within HISTOGRAM_RELATIVE_ERROR of the exact one.
 */
export interface Spread {
  count: number;
  minNs: number;
  medianNs: number;
  meanNs: number;
  maxNs: number;
}

/** Counts and timing of a run. */
export interface RunReport {
  counts: {
    irps: number;
    mmioReads: number;
    mmioWrites: number;
    configReads: number;
    configWrites: number;
    dmaReadBytes: number;
    dmaWriteBytes: number;
    dmaTransfers: number;
    msiSent: number;
    isrs: number;
    dpcs: number;
    events: number;
    masterAborts: number;
    deviceErrors: number;
  };
  timing: {
    isrDuration: Spread;
    dpcDuration: Spread;
    interruptToIsr: Spread;
    interruptToDpc: Spread;
  };
  /** Simulated time at the end, ns. */
  simulatedNs: number;
}

function spread(h: LogLinearHistogram): Spread {
  const ns = (ps: number) => (h.count === 0 ? 0 : Math.round(ps) / 1000);
  return { count: h.count, minNs: ns(h.min), medianNs: ns(h.percentile(50)), meanNs: ns(h.mean), maxNs: ns(h.max) };
}

/** Builds the report. */
export function runReport(counters: CoreCounters, stats: KernelStats, simulatedPs: number): RunReport {
  return {
    counts: {
      irps: stats.irps,
      mmioReads: counters.mmioReads,
      mmioWrites: counters.mmioWrites,
      configReads: counters.configReads,
      configWrites: counters.configWrites,
      dmaReadBytes: counters.dmaReadBytes,
      dmaWriteBytes: counters.dmaWriteBytes,
      dmaTransfers: counters.dmaTransfers,
      msiSent: counters.msiSent,
      isrs: stats.isrs,
      dpcs: stats.dpcs,
      events: counters.events,
      masterAborts: counters.masterAborts,
      deviceErrors: counters.deviceErrors,
    },
    timing: {
      isrDuration: spread(stats.isrDuration),
      dpcDuration: spread(stats.dpcDuration),
      interruptToIsr: spread(stats.interruptToIsr),
      interruptToDpc: spread(stats.interruptToDpc),
    },
    simulatedNs: Math.round(simulatedPs) / 1000,
  };
}

/** A duration in ns as a short human string ("850 ns", "12.4 us", "3.20 ms"). */
export function formatNs(ns: number): string {
  if (ns < 1000) return `${Number(ns.toFixed(1))} ns`;
  if (ns < 1e6) return `${(ns / 1000).toFixed(2)} us`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(2)} ms`;
  return `${(ns / 1e9).toFixed(3)} s`;
}
