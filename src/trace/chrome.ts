/**
 * Chrome Trace Event JSON (the format Perfetto and chrome://tracing open). Timestamps
 * are microseconds with picosecond precision; the output depends only on the recorded
 * events, so equal runs give equal bytes.
 */
import type { Recorder, TraceEvent } from "./recorder.js";

function us(ps: number): number {
  return Math.round(ps) / 1e6;
}

/** Serialises a recorder's events as a Chrome trace JSON document. */
export function toChromeTrace(recorder: Recorder, metadata: Record<string, unknown> = {}): string {
  const out: string[] = [];
  for (const [key, name] of recorder.trackNames()) {
    const [pid, tid] = key.split(":").map(Number);
    out.push(JSON.stringify(tid === undefined
      ? { ph: "M", name: "process_name", pid, tid: 0, args: { name } }
      : { ph: "M", name: "thread_name", pid, tid, args: { name } }));
  }
  // A stable sort by time keeps the file readable and deterministic.
  const events = recorder.events.map((e, i) => [e, i] as [TraceEvent, number]);
  events.sort((a, b) => a[0].ts - b[0].ts || a[1] - b[1]);
  for (const [e] of events) {
    const o: Record<string, unknown> = { ph: e.ph, name: e.name, cat: e.cat, ts: us(e.ts), pid: e.pid, tid: e.tid };
    if (e.dur !== undefined) o.dur = us(e.dur);
    if (e.id !== undefined) o.id = e.id;
    if (e.ph === "f") o.bp = "e";
    if (e.ph === "i") o.s = "t";
    if (e.args) o.args = e.args;
    out.push(JSON.stringify(o));
  }
  return `{"displayTimeUnit":"ns","otherData":${JSON.stringify(metadata)},"traceEvents":[\n${out.join(",\n")}\n]}\n`;
}
