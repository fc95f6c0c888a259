/**
 * The recorder: one place that collects what happened, from the kernel (ISRs, DPCs,
 * IRPs) and from the core's trace ring (MMIO, DMA, MSI). Statistics are always kept, in
 * memory that does not grow with the run (counters and histograms); full events only
 * while tracing is on, so with tracing off a hot path pays one branch. Times are
 * picoseconds of simulated time.
 */
import { LogLinearHistogram } from "./histogram.js";

/** Chrome Trace Event phases the recorder emits. */
export type Phase = "X" | "i" | "b" | "e" | "s" | "f" | "M" | "C";

/** One trace event, times in picoseconds. */
export interface TraceEvent {
  ph: Phase;
  name: string;
  cat: string;
  /** Start, ps. */
  ts: number;
  /** Duration for "X", ps. */
  dur?: number;
  pid: number;
  tid: number;
  id?: number;
  args?: Record<string, unknown>;
}

/** Process ids of the trace's tracks. */
export const TRACK_CPU = 1;
/** PCI functions, one thread per function. */
export const TRACK_PCI = 2;
/** I/O requests as async slices. */
export const TRACK_IO = 3;

/**
 * Buckets of a DPC/ISR duration histogram, as xperf's `-a dpcisr` summary prints them:
 * bucket 0 holds durations in (0, 1] µs (and zero), bucket i > 0 holds (2^(i-1), 2^i] µs;
 * the last bucket also holds everything longer.
 */
export const DURATION_BUCKETS = 24;

/** Picoseconds per microsecond. */
const PS_PER_US = 1e6;

/** A bounded duration histogram in xperf's power-of-two microsecond buckets (constant memory). */
export class DurationHistogram {
  /** Count per bucket (see DURATION_BUCKETS). */
  readonly counts = new Float64Array(DURATION_BUCKETS);
  /** Durations added. */
  count = 0;
  /** Sum of the durations, ps. */
  totalPs = 0;
  /** Longest duration, ps. */
  maxPs = 0;

  /** Adds one duration of `ps` picoseconds. */
  add(ps: number): void {
    let i = 0;
    let upperPs = PS_PER_US;
    while (ps > upperPs && i < DURATION_BUCKETS - 1) {
      i++;
      upperPs *= 2;
    }
    this.counts[i]++;
    this.count++;
    this.totalPs += ps;
    if (ps > this.maxPs) this.maxPs = ps;
  }

  /** Makes this histogram a copy of `other`. */
  copyFrom(other: DurationHistogram): void {
    this.counts.set(other.counts);
    this.count = other.count;
    this.totalPs = other.totalPs;
    this.maxPs = other.maxPs;
  }
}

/** The bounds of histogram bucket `i`, µs: (lower, upper]; the last bucket is open (upper Infinity). */
export function durationBucketBoundsUs(i: number): [number, number] {
  const lower = i === 0 ? 0 : 2 ** (i - 1);
  return [lower, i === DURATION_BUCKETS - 1 ? Infinity : 2 ** i];
}

/** What one processor spent its time on, ps, and its ISR and DPC duration histograms. */
export class ProcessorTime {
  /** Time running threads (user and kernel mode), excluding the ISRs and DPCs that interrupted them, ps. */
  threadPs = 0;
  /** Time in ISRs, ps (an ISR nested in another counts once). */
  isrPs = 0;
  /** Time in DPCs, excluding ISRs that interrupted them, ps. */
  dpcPs = 0;
  readonly isr = new DurationHistogram();
  readonly dpc = new DurationHistogram();

  constructor(readonly cpu: number) {}

  /** A copy. */
  clone(): ProcessorTime {
    const p = new ProcessorTime(this.cpu);
    p.threadPs = this.threadPs;
    p.isrPs = this.isrPs;
    p.dpcPs = this.dpcPs;
    p.isr.copyFrom(this.isr);
    p.dpc.copyFrom(this.dpc);
    return p;
  }
}

/** One interrupt vector on one processor: deliveries, the DPCs its ISRs queued, the IRPs those completed. */
export class VectorActivity {
  /** Interrupts delivered. */
  interrupts = 0;
  /** Deliveries no ISR claimed. */
  unclaimed = 0;
  /** DPCs queued by its ISRs that ran. */
  dpcs = 0;
  /** IoCompleteRequest calls made by its ISRs and by the DPCs they queued. */
  completions = 0;
  /** The driver whose ISR claimed it last ("" if none did). */
  driver = "";
  readonly isr = new DurationHistogram();

  constructor(readonly cpu: number, readonly vector: number) {}

  /** A copy. */
  clone(): VectorActivity {
    const v = new VectorActivity(this.cpu, this.vector);
    Object.assign(v, { interrupts: this.interrupts, unclaimed: this.unclaimed, dpcs: this.dpcs, completions: this.completions, driver: this.driver });
    v.isr.copyFrom(this.isr);
    return v;
  }
}

/** One driver's ISRs and DPCs (xperf's per-module histograms). */
export class DriverActivity {
  readonly isr = new DurationHistogram();
  readonly dpc = new DurationHistogram();

  constructor(readonly driver: string) {}

  /** A copy. */
  clone(): DriverActivity {
    const d = new DriverActivity(this.driver);
    d.isr.copyFrom(this.isr);
    d.dpc.copyFrom(this.dpc);
    return d;
  }
}

/** The interrupt and DPC accounting at one moment (copies), for the difference over a run. */
export interface InterruptActivity {
  /** Simulated time of the snapshot, ps. */
  atPs: number;
  processors: ProcessorTime[];
  vectors: VectorActivity[];
  drivers: DriverActivity[];
  /** IoCompleteRequest calls in all. */
  completions: number;
  /** IoCompleteRequest calls from DPCs no interrupt queued (timer DPCs, DPCs queued by threads). */
  completionsOutsideInterrupts: number;
}

/** Kernel-side counts and timing statistics, kept whether or not tracing is on, in constant memory. */
export class KernelStats {
  irps = 0;
  isrs = 0;
  dpcs = 0;
  /** IoCompleteRequest calls. */
  irpCompletions = 0;
  /** IoCompleteRequest calls from DPCs that no interrupt queued. */
  completionsOutsideInterrupts = 0;
  /** Interrupts that no connected ISR claimed. */
  unclaimedInterrupts = 0;
  /** ISR durations, ps. */
  readonly isrDuration = new LogLinearHistogram();
  /** DPC durations, ps. */
  readonly dpcDuration = new LogLinearHistogram();
  /** Interrupt arrival at the local APIC to the start of the DPC its ISR queued, ps. */
  readonly interruptToDpc = new LogLinearHistogram();
  /** Interrupt arrival at the local APIC to the start of its ISR, ps. */
  readonly interruptToIsr = new LogLinearHistogram();
  /** Per processor: thread, ISR and DPC time and duration histograms (index: processor number). */
  readonly processors: ProcessorTime[] = [];
  private readonly vectorMap = new Map<number, VectorActivity>();
  private readonly driverMap = new Map<string, DriverActivity>();

  /** The accounting of processor `cpu` (created on first use). */
  processor(cpu: number): ProcessorTime {
    let p = this.processors[cpu];
    if (!p) {
      for (let i = this.processors.length; i <= cpu; i++) this.processors[i] = new ProcessorTime(i);
      p = this.processors[cpu];
    }
    return p;
  }

  /** The accounting of `vector` on processor `cpu` (created on first use). */
  vector(cpu: number, vector: number): VectorActivity {
    const key = cpu * 256 + vector;
    let v = this.vectorMap.get(key);
    if (!v) this.vectorMap.set(key, (v = new VectorActivity(cpu, vector)));
    return v;
  }

  /** The accounting of a driver's ISRs and DPCs (created on first use). */
  driver(name: string): DriverActivity {
    let d = this.driverMap.get(name);
    if (!d) this.driverMap.set(name, (d = new DriverActivity(name)));
    return d;
  }

  /** Copies of the interrupt and DPC accounting as of now (vectors by processor then vector, drivers by name). */
  interruptActivity(atPs: number): InterruptActivity {
    return {
      atPs,
      processors: this.processors.map((p) => p.clone()),
      vectors: [...this.vectorMap.values()].sort((a, b) => a.cpu - b.cpu || a.vector - b.vector).map((v) => v.clone()),
      drivers: [...this.driverMap.values()].sort((a, b) => (a.driver < b.driver ? -1 : a.driver > b.driver ? 1 : 0)).map((d) => d.clone()),
      completions: this.irpCompletions,
      completionsOutsideInterrupts: this.completionsOutsideInterrupts,
    };
  }
}

const LAST_EVENTS = 16;

/** One remembered kernel event, kept unformatted until a bug check report asks for it. */
interface Note {
  timePs: number;
  what: string;
  driver: string;
  routine: string;
  cpu: number;
  detail: number;
}

/** Collects events and statistics for one machine. */
export class Recorder {
  /** Full event recording on or off. */
  enabled = false;
  readonly events: TraceEvent[] = [];
  readonly stats = new KernelStats();
  private readonly notes: Note[] = Array.from({ length: LAST_EVENTS }, () => ({ timePs: 0, what: "", driver: "", routine: "", cpu: 0, detail: -1 }));
  private noted = 0;
  private readonly names = new Map<string, string>();

  /** Names a track (process or thread) for the trace viewer. */
  nameTrack(pid: number, tid: number | undefined, name: string): void {
    this.names.set(tid === undefined ? `${pid}` : `${pid}:${tid}`, name);
  }

  /** Track names, for the writers. */
  trackNames(): Map<string, string> {
    return this.names;
  }

  /**
   * Remembers an event for bug check reports: always on, bounded, and free of allocation
   * (the strings passed are ones that already exist; formatting waits for lastNotes).
   * `detail` is a vector for ISRs, -1 for none.
   */
  note(timePs: number, what: string, driver = "", routine = "", cpu = 0, detail = -1): void {
    const n = this.notes[this.noted++ % LAST_EVENTS];
    n.timePs = timePs;
    n.what = what;
    n.driver = driver;
    n.routine = routine;
    n.cpu = cpu;
    n.detail = detail;
  }

  /** The last notes as text, oldest first. */
  lastNotes(): string[] {
    const out: string[] = [];
    for (let i = Math.max(0, this.noted - LAST_EVENTS); i < this.noted; i++) {
      const n = this.notes[i % LAST_EVENTS];
      const who = n.driver ? ` ${n.driver}!${n.routine}` : "";
      const detail = n.detail >= 0 ? ` vector 0x${n.detail.toString(16)}` : "";
      out.push(`${(n.timePs / 1e6).toFixed(3)} us  CPU ${n.cpu}  ${n.what}${who}${detail}`);
    }
    return out;
  }

  /** A complete slice [start, end). */
  slice(pid: number, tid: number, name: string, cat: string, startPs: number, endPs: number, args?: Record<string, unknown>): void {
    if (!this.enabled) return;
    this.events.push({ ph: "X", name, cat, ts: startPs, dur: Math.max(0, endPs - startPs), pid, tid, args });
  }

  /** An instant. */
  instant(pid: number, tid: number, name: string, cat: string, tPs: number, args?: Record<string, unknown>): void {
    if (!this.enabled) return;
    this.events.push({ ph: "i", name, cat, ts: tPs, pid, tid, args });
  }

  /** Begins an async slice (IRPs). */
  asyncBegin(id: number, name: string, cat: string, tPs: number, args?: Record<string, unknown>): void {
    if (!this.enabled) return;
    this.events.push({ ph: "b", name, cat, ts: tPs, pid: TRACK_IO, tid: 0, id, args });
  }

  /** Ends an async slice. */
  asyncEnd(id: number, name: string, cat: string, tPs: number, args?: Record<string, unknown>): void {
    if (!this.enabled) return;
    this.events.push({ ph: "e", name, cat, ts: tPs, pid: TRACK_IO, tid: 0, id, args });
  }

  /** Starts a flow arrow inside the slice enclosing tPs on (pid, tid). */
  flowStart(id: number, name: string, pid: number, tid: number, tPs: number): void {
    if (!this.enabled) return;
    this.events.push({ ph: "s", name, cat: "flow", ts: tPs, pid, tid, id });
  }

  /** Ends a flow arrow at the slice starting at tPs on (pid, tid). */
  flowEnd(id: number, name: string, pid: number, tid: number, tPs: number): void {
    if (!this.enabled) return;
    this.events.push({ ph: "f", name, cat: "flow", ts: tPs, pid, tid, id });
  }
}
