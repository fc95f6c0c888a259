/** The numbers a run summary reports, gathered from the core's counters and the recorder. */
import type { CoreCounters } from "../machine/core.js";
import type { KernelStats, Samples } from "./recorder.js";

/** min / median / max of a sample set, nanoseconds. */
export interface Spread {
  count: number;
  minNs: number;
  medianNs: number;
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

function spread(s: Samples): Spread {
  const { count, min, median, max } = s.summary();
  const ns = (ps: number) => (Number.isNaN(ps) ? 0 : Math.round(ps) / 1000);
  return { count, minNs: ns(min), medianNs: ns(median), maxNs: ns(max) };
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
