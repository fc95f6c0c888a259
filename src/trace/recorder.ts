/**
 * The recorder: one place that collects what happened, from the kernel (ISRs, DPCs,
 * IRPs) and from the core's trace ring (MMIO, DMA, MSI). Statistics are always kept;
 * full events only while tracing is on, so with tracing off a hot path pays one branch.
 * Times are picoseconds of simulated time.
 */

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

/** Samples with min / median / max in picoseconds. */
export class Samples {
  readonly values: number[] = [];
  add(ps: number): void {
    this.values.push(ps);
  }
  get count(): number {
    return this.values.length;
  }
  /** The p-th percentile (0..100), nearest rank; NaN when empty. */
  percentile(p: number): number {
    if (this.values.length === 0) return NaN;
    const sorted = [...this.values].sort((a, b) => a - b);
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[rank];
  }
  /** { count, min, median, max } in ps. */
  summary(): { count: number; min: number; median: number; max: number } {
    return { count: this.count, min: this.percentile(0), median: this.percentile(50), max: this.percentile(100) };
  }
}

/** Kernel-side counts and timing samples, kept whether or not tracing is on. */
export class KernelStats {
  irps = 0;
  isrs = 0;
  dpcs = 0;
  /** Interrupts that no connected ISR claimed. */
  unclaimedInterrupts = 0;
  readonly isrDuration = new Samples();
  readonly dpcDuration = new Samples();
  /** Interrupt arrival at the local APIC to the start of the DPC its ISR queued. */
  readonly interruptToDpc = new Samples();
  /** Interrupt arrival at the local APIC to the start of its ISR. */
  readonly interruptToIsr = new Samples();
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
