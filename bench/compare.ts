/**
 * A run of the suite against an earlier one (`--compare FILE`): each row's ratio then and
 * now, the change, and a flag where the ratio moved by more than the spread measured over
 * processes (the wider of the two runs' spreads), i.e. more than the noise shows.
 */
import { formatNumber, table, type Row } from "./lib.js";

/** A row of the suite: the per-process rows of one measurement, combined. */
export interface SuiteRow extends Row {
  /** The benchmark (file) the row comes from. */
  group: string;
  /** Lowest and highest per-process ratio. */
  ratioLow: number;
  ratioHigh: number;
  /** Each process's ratio, in run order. */
  processRatios: number[];
}

/** bench/results.json. */
export interface Results {
  date: string;
  node: string;
  v8: string;
  platform: string;
  cpu: string;
  cpus: number;
  repeats: number;
  processes: number;
  scale: number;
  statistic: string;
  ratio: string;
  seconds: Record<string, number>;
  results: (SuiteRow & { simulated?: Row["simulated"] & { hostNs?: number } })[];
}

function key(r: { group: string; benchmark: string }): string {
  return `${r.group}\u0000${r.benchmark}`;
}

/** The spread of a row's ratio (highest − lowest process); 0 for a results file older than per-process runs. */
function spread(r: Partial<SuiteRow>): number {
  return r.ratioHigh !== undefined && r.ratioLow !== undefined ? r.ratioHigh - r.ratioLow : 0;
}

/** One line per row present in both runs: ratio then, ratio now, change, and whether it moved beyond the spread. */
export function compareTable(before: Results, after: Results, beforeName: string): string {
  const old = new Map(before.results.map((r) => [key(r), r]));
  const header = ["benchmark", "ratio then", "ratio now", "change", "spread", "moved"];
  const body: string[][] = [];
  let moved = 0;
  for (const r of after.results) {
    const o = old.get(key(r));
    if (!o) continue;
    const noise = Math.max(spread(o), spread(r));
    const delta = r.ratio - o.ratio;
    const flag = Math.abs(delta) > noise;
    if (flag) moved++;
    body.push([r.benchmark, formatNumber(o.ratio), formatNumber(r.ratio), `${delta >= 0 ? "+" : ""}${((delta / o.ratio) * 100).toFixed(1)}%`,
      `±${((noise / 2 / Math.abs(o.ratio)) * 100).toFixed(1)}%`, flag ? (delta > 0 ? "▲ up" : "▼ down") : ""]);
  }
  const missing = after.results.length - body.length;
  return [
    `Against ${beforeName} (${before.date}, node ${before.node}, ${before.cpu} x${before.cpus}):`,
    "",
    table(header, body, [false, true, true, true, true, false]),
    "",
    `${moved} of ${body.length} ratios moved by more than the spread over processes${missing ? `; ${missing} rows have no counterpart there` : ""}.`,
  ].join("\n");
}
