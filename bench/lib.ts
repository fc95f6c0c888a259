/**
 * Shared pieces of the benchmark suite: the result row every benchmark returns, the
 * measurement loop (warm-up, repeats, median), and the markdown table. Host time is
 * `performance.now()`; it is read only here in bench/, never inside a simulation.
 */
import { performance } from "node:perf_hooks";

/** One line of the results table. Throughputs: higher is better on both sides. */
export interface Row {
  /** What was measured. */
  benchmark: string;
  /** Median over the repeats. */
  value: number;
  unit: string;
  /** What the value is compared with (measured in the same process, same run). */
  baseline: string;
  /** Median of the baseline over its repeats, in the same unit. */
  baselineValue: number;
  /** Median of the per-repeat ratios (each value repeat over the baseline repeat next to it). */
  ratio: number;
  /** Every repeat, value side (for results.json). */
  samples: number[];
  /** Every repeat, baseline side. */
  baselineSamples: number[];
  /** Anything else worth keeping with the numbers (simulated times, counts, checks). */
  extra?: Record<string, number | string | boolean>;
  /** Simulated (guest) time of one operation on the value side, for the second table. */
  simulated?: SimulatedTime;
}

/** Simulated time per operation, next to the host time the same operation took. */
export interface SimulatedTime {
  /** What one operation is ("IOCTL", "4 KiB transfer", ...). */
  op: string;
  /** Simulated nanoseconds per operation. */
  ns: number;
  /** Value units (events, bytes, ...) per operation, to turn the rate into host time per operation. */
  unitsPerOp: number;
}

/** A benchmark module: one file under bench/. */
export interface Benchmark {
  /** Name used by `--only`. */
  name: string;
  /** One line for the report. */
  description: string;
  run(options: RunOptions): Promise<Row[]>;
}

/** Knobs shared by every benchmark. */
export interface RunOptions {
  /** Timed repeats per measurement (the median is reported). */
  repeats: number;
  /** Scales the work per repeat (1 = the default sizes). */
  scale: number;
}

/** Default repeats. */
export const DEFAULT_REPEATS = 5;

/** The median of `xs` (mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Host milliseconds now. */
export function now(): number {
  return performance.now();
}

/**
 * A measurement: `work()` does one repeat's work and returns how many units it did and
 * the host milliseconds those units took (a benchmark may time only part of its loop).
 */
export type Sample = () => { units: number; ms: number } | Promise<{ units: number; ms: number }>;

/**
 * Runs one warm-up repeat of each sample function, then `repeats` timed repeats with the
 * two sides interleaved (value, baseline, value, ...), so drift in the host (frequency
 * scaling, a neighbour's load) lands on both. Returns units per host second, per repeat.
 */
export async function compare(repeats: number, value: Sample, baseline: Sample): Promise<{ value: number[]; baseline: number[] }> {
  await value();
  await baseline();
  const v: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < repeats; i++) {
    v.push(rate(await value()));
    b.push(rate(await baseline()));
  }
  return { value: v, baseline: b };
}

function rate(s: { units: number; ms: number }): number {
  if (!(s.ms > 0)) throw new Error(`a repeat took no measurable time (${s.units} units in ${s.ms} ms): raise the work per repeat`);
  return (s.units * 1000) / s.ms;
}

/** Builds a row from per-repeat rates. */
export function row(benchmark: string, unit: string, baseline: string, samples: { value: number[]; baseline: number[] }, extra?: Row["extra"], simulated?: SimulatedTime): Row {
  const value = median(samples.value);
  const baselineValue = median(samples.baseline);
  // Pairs were measured back to back, so their ratio cancels slow drift in the host.
  const ratio = median(samples.value.map((v, i) => v / samples.baseline[i]));
  return { benchmark, value, unit, baseline, baselineValue, ratio, samples: samples.value, baselineSamples: samples.baseline, extra, simulated };
}

/** A number for the table: three significant digits, thousands grouped. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString("en-US");
  if (a >= 1) return x.toPrecision(3);
  if (a === 0) return "0";
  return x.toPrecision(3);
}

function ratioText(r: number): string {
  if (!Number.isFinite(r)) return String(r);
  return r >= 10 ? `${r.toFixed(1)}×` : r >= 0.1 ? `${r.toFixed(2)}×` : `${r.toPrecision(2)}×`;
}

/** The results as a markdown table; rows measured over several processes show the lowest and highest process ratio. */
export function markdownTable(rows: readonly (Row & { ratioLow?: number; ratioHigh?: number })[]): string {
  const header = ["benchmark", "value", "unit", "baseline", "baseline value", "ratio", "ratio range"];
  const body = rows.map((r) => [r.benchmark, formatNumber(r.value), r.unit, r.baseline, formatNumber(r.baselineValue), ratioText(r.ratio),
    r.ratioLow === undefined || r.ratioHigh === undefined ? "" : `${ratioText(r.ratioLow)}–${ratioText(r.ratioHigh)}`]);
  return table(header, body, [false, true, false, false, true, true, true]);
}

/** Host time per operation for a row with simulated time. */
export function hostNsPerOp(r: Row): number {
  return r.simulated ? (r.simulated.unitsPerOp * 1e9) / r.value : NaN;
}

/**
 * Simulated time per operation next to the host time it took (value side of the rows
 * that have one). "sim/host" above 1 means the machine runs faster than real time.
 */
export function simulatedTable(rows: readonly Row[]): string {
  const header = ["benchmark", "operation", "simulated ns/op", "host ns/op", "sim/host"];
  const body = rows.filter((r) => r.simulated).map((r) => {
    const host = hostNsPerOp(r);
    return [r.benchmark, r.simulated!.op, formatNumber(r.simulated!.ns), formatNumber(host), ratioText(r.simulated!.ns / host)];
  });
  return table(header, body, [false, false, true, true, true]);
}

/** A markdown table; `numeric` columns are right-aligned. */
export function table(header: string[], body: string[][], numeric: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (numeric[i] ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [line(header), rule, ...body.map(line)].join("\n");
}

/** Simulated time accumulated by a measurement, for a per-operation average. */
export class SimClock {
  ps = 0;
  ops = 0;
  add(ps: number, ops: number): void {
    this.ps += ps;
    this.ops += ops;
  }
  get nsPerOp(): number {
    return this.ps / 1000 / this.ops;
  }
}
