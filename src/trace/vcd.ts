/**
 * Value Change Dump (IEEE 1364 VCD, what GTKWave and Surfer open) of a recorded run, in
 * simulated picoseconds (`$timescale 1ps`). Signals, from the recorder's events:
 *
 * - per processor (`cpuN`): `irql` (5 bits), the IRQL its work ran at — the innermost
 *   ISR's (the vector's IRQL), 2 in a DPC, 0 in a thread or idle; `thread`, 1 while a
 *   thread runs; `dpc` and `isr`, 1 while a DPC routine or an ISR runs;
 * - per PCI function (`pci_BB_DD_F`): `intx`, the INTx line's level; `msi_0xVV`, a pulse
 *   per message to vector VV (from its send to its arrival at the local APIC);
 *   `dma_reads` and `dma_writes`, transfers in flight (integers); `mmio_write`, a pulse per
 *   register write (doorbells), with `mmio_offset` the BAR offset written.
 *
 * The output depends only on the recorded events, so equal runs give equal bytes; it needs
 * a run recorded with tracing on (`--trace` / `--vcd`, or boot's `trace: true`).
 */
import { TRACK_CPU, TRACK_PCI, type Recorder, type TraceEvent } from "./recorder.js";

/** A pulse's width when the event itself takes no time, ps. */
const PULSE_PS = 1;
/** Bits of the IRQL signal (IRQLs 0 to 31). */
const IRQL_BITS = 5;

/** One signal: its scope, name, width, and value changes (time, value) in any order. */
interface Signal {
  scope: string;
  name: string;
  width: number;
  kind: "wire" | "integer";
  changes: [number, number][];
  id: string;
}

/** The VCD identifier code of the n-th signal (printable ASCII 33 to 126, base 94). */
function identifier(n: number): string {
  let s = "";
  do {
    s += String.fromCharCode(33 + (n % 94));
    n = Math.floor(n / 94);
  } while (n > 0);
  return s;
}

/** A scope or signal name VCD readers accept (letters, digits, underscores). */
function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9_]/g, "_");
}

/** Value changes of a count that goes up by one at each start and down at each end. */
function inFlight(intervals: [number, number][]): [number, number][] {
  const edges: [number, number][] = [];
  for (const [start, end] of intervals) edges.push([start, 1], [Math.max(end, start + PULSE_PS), -1]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: [number, number][] = [];
  let n = 0;
  for (const [t, d] of edges) {
    n += d;
    out.push([t, n]);
  }
  return out;
}

/** Value changes of a processor's IRQL: the highest level among its running slices (0 when none). */
function irqlChanges(slices: [number, number, number][]): [number, number][] {
  const edges: [number, number, number][] = [];
  for (const [start, end, level] of slices) edges.push([start, level, 1], [end, level, -1]);
  edges.sort((a, b) => a[0] - b[0] || a[2] - b[2]);
  const active = new Array<number>(1 << IRQL_BITS).fill(0);
  const out: [number, number][] = [];
  for (const [t, level, d] of edges) {
    active[level] += d;
    let top = 0;
    for (let l = active.length - 1; l > 0; l--) if (active[l] > 0) { top = l; break; }
    out.push([t, top]);
  }
  return out;
}

/** Serialises a recorder's events as a VCD document. */
export function toVcd(recorder: Recorder, machineName: string): string {
  const names = recorder.trackNames();
  const byTrack = new Map<string, TraceEvent[]>();
  for (const e of recorder.events) {
    if (e.pid !== TRACK_CPU && e.pid !== TRACK_PCI) continue;
    const key = `${e.pid}:${e.tid}`;
    let list = byTrack.get(key);
    if (!list) byTrack.set(key, (list = []));
    list.push(e);
  }
  const signals: Signal[] = [];
  const add = (scope: string, name: string, width: number, kind: Signal["kind"], changes: [number, number][]) => {
    signals.push({ scope, name, width, kind, changes, id: identifier(signals.length) });
  };
  const keys = [...byTrack.keys()].sort((a, b) => {
    const [pa, ta] = a.split(":").map(Number);
    const [pb, tb] = b.split(":").map(Number);
    return pa - pb || ta - tb;
  });
  for (const key of keys) {
    const events = byTrack.get(key)!;
    const [pid, tid] = key.split(":").map(Number);
    if (pid === TRACK_CPU) {
      const scope = `cpu${tid}`;
      const levels: [number, number, number][] = [];
      const of = (cat: string) => events.filter((e) => e.ph === "X" && e.cat === cat).map((e) => [e.ts, e.ts + e.dur!] as [number, number]);
      for (const e of events) {
        if (e.ph !== "X") continue;
        if (e.cat === "isr") levels.push([e.ts, e.ts + e.dur!, Number(e.args?.irql ?? 0)]);
        else if (e.cat === "dpc") levels.push([e.ts, e.ts + e.dur!, 2]);
      }
      add(scope, "irql", IRQL_BITS, "wire", irqlChanges(levels));
      add(scope, "thread", 1, "wire", inFlight(of("thread")).map(([t, n]) => [t, n > 0 ? 1 : 0]));
      add(scope, "dpc", 1, "wire", inFlight(of("dpc")).map(([t, n]) => [t, n > 0 ? 1 : 0]));
      add(scope, "isr", 1, "wire", inFlight(of("isr")).map(([t, n]) => [t, n > 0 ? 1 : 0]));
      continue;
    }
    // PCI functions' tracks are named by their location ("bb:dd.f device-file"); the local APICs' track is left out.
    const location = /^([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])/.exec(names.get(key) ?? "");
    if (!location) continue;
    const scope = `pci_${location[1]}_${location[2]}_${location[3]}`;
    const intx: [number, number][] = [];
    const messages = new Map<number, [number, number][]>();
    const reads: [number, number][] = [];
    const writes: [number, number][] = [];
    const mmio: [number, number][] = [];
    const offsets: [number, number][] = [];
    for (const e of events) {
      if (e.cat === "interrupt" && e.ph === "X" && e.name === "MSI") {
        const vector = Number(e.args?.data ?? 0) & 0xFF;
        let list = messages.get(vector);
        if (!list) messages.set(vector, (list = []));
        list.push([e.ts, e.ts + e.dur!]);
      } else if (e.cat === "interrupt" && e.ph === "i" && /^INT[A-D?]# (de)?asserted$/.test(e.name)) {
        intx.push([e.ts, e.name.endsWith(" asserted") ? 1 : 0]);
      } else if (e.cat === "dma" && e.ph === "X") {
        (e.name.startsWith("DMA read") ? reads : writes).push([e.ts, e.ts + e.dur!]);
      } else if (e.cat === "mmio" && e.name.startsWith("MMIO write")) {
        mmio.push([e.ts, e.ts + PULSE_PS]);
        offsets.push([e.ts, Number.parseInt(e.name.slice(e.name.indexOf("+") + 1), 16)]);
      }
    }
    add(scope, "intx", 1, "wire", intx);
    for (const vector of [...messages.keys()].sort((a, b) => a - b)) {
      add(scope, `msi_0x${vector.toString(16).padStart(2, "0")}`, 1, "wire", inFlight(messages.get(vector)!).map(([t, n]) => [t, n > 0 ? 1 : 0]));
    }
    add(scope, "dma_reads", 32, "integer", inFlight(reads));
    add(scope, "dma_writes", 32, "integer", inFlight(writes));
    add(scope, "mmio_write", 1, "wire", inFlight(mmio).map(([t, n]) => [t, n > 0 ? 1 : 0]));
    add(scope, "mmio_offset", 32, "wire", offsets);
  }
  return render(signals, machineName);
}

/** A value as VCD writes it: a scalar as 0/1 then the identifier, a vector as `b<binary> <id>`. */
function valueText(s: Signal, v: number): string {
  return s.width === 1 ? `${v ? 1 : 0}${s.id}` : `b${(v >>> 0).toString(2)} ${s.id}`;
}

function render(signals: Signal[], machineName: string): string {
  const out: string[] = ["$version wdmsim $end", `$comment machine ${machineName} $end`, "$timescale 1ps $end", `$scope module ${safeName(machineName)} $end`];
  let scope = "";
  for (const s of signals) {
    if (s.scope !== scope) {
      if (scope) out.push("$upscope $end");
      out.push(`$scope module ${s.scope} $end`);
      scope = s.scope;
    }
    out.push(`$var ${s.kind} ${s.width} ${s.id} ${s.name} $end`);
  }
  if (scope) out.push("$upscope $end");
  out.push("$upscope $end", "$enddefinitions $end", "#0", "$dumpvars", ...signals.map((s) => valueText(s, 0)), "$end");
  // Every change, in time order; at one time the last value of a signal wins.
  const changes: [number, number, number][] = [];
  signals.forEach((s, i) => {
    for (const [t, v] of s.changes) changes.push([Math.round(t), i, v]);
  });
  changes.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const current = signals.map(() => 0);
  for (let i = 0; i < changes.length;) {
    const t = changes[i][0];
    const at = new Map<number, number>();
    for (; i < changes.length && changes[i][0] === t; i++) at.set(changes[i][1], changes[i][2]);
    const lines: string[] = [];
    for (const [index, v] of at) {
      if (current[index] === v) continue;
      current[index] = v;
      lines.push(valueText(signals[index], v));
    }
    if (lines.length > 0) out.push(`#${t}`, ...lines);
  }
  return `${out.join("\n")}\n`;
}
