/**
 * fio's JSON output (--output-format=json) with fio 3.x's field names, order and printing:
 * "fio version", "timestamp", "jobs" with "jobname", "job options", per direction
 * "io_bytes", "bw" (KiB/s), "iops", "clat_ns" with "percentile" {"99.000000": ns}, "lat_ns",
 * "slat_ns", "bw_min"..., then "usr_cpu", "sys_cpu", "iodepth_level", "latency_us",
 * "latency_ms"...; integers print as integers and fractions with six decimals ("%f"), two
 * spaces of indent per level, `"key" : value`, as fio's own JSON printer writes them, so
 * tools that read fio's JSON read this unchanged. The timestamp is simulated time (seconds
 * since power-on), so the same seed gives the same bytes. wdmsim's interrupt view is one
 * more top-level object, "interrupts", after "jobs".
 */
import { platPercentiles, type IoStat } from "./histogram.js";
import { FIO_VERSION, type FioGroupStats, type FioRunResult } from "./fio.js";
import { cFixed, ctime } from "./format.js";
import { distribution, latencyPercentages, mixedOf, bwPercentOfGroup } from "./report-normal.js";
import { DDIR_NAMES, type ThreadStats } from "./stats.js";
import { interruptViewJson } from "./interrupts.js";

/** A JSON number fio prints as a fraction ("%f"). */
export class JsonFloat {
  constructor(readonly value: number) {}
}

/** A JSON value as fio's printer holds it: integers, fractions, strings, objects (ordered pairs), arrays. */
export type FioJsonValue = number | JsonFloat | string | FioJsonObject | FioJsonValue[];
/** An object whose keys keep their order. */
export type FioJsonObject = { pairs: [string, FioJsonValue][] };

function obj(pairs: [string, FioJsonValue][]): FioJsonObject {
  return { pairs };
}

const f = (v: number) => new JsonFloat(v);

/** fio's add_ddir_lat_json. */
function latJson(s: IoStat, plat: Float64Array | null, percentiles: number[]): FioJsonObject {
  const has = s.samples > 0;
  const pairs: [string, FioJsonValue][] = [
    ["min", has ? s.min : 0], ["max", has ? s.max : 0], ["mean", f(has ? s.mean : 0)], ["stddev", f(has ? s.stdev : 0)], ["N", s.samples],
  ];
  if (plat && has) {
    const values = platPercentiles(plat, s.samples, percentiles);
    pairs.push(["percentile", obj(values.map((v, i) => [cFixed(percentiles[i], 6), v]))]);
  }
  return obj(pairs);
}

/** fio's add_ddir_status_json for read, write or trim. */
function directionJson(ts: ThreadStats, rs: FioGroupStats, ddir: number): FioJsonObject {
  const d = ts.dirs[ddir];
  let bwBytes = 0;
  let bw = 0;
  let iops = 0;
  if (d.runtimeMs) {
    bwBytes = Math.floor((1000 * d.ioBytes) / d.runtimeMs);
    bw = Math.floor(bwBytes / 1024);
    iops = (1000 * d.totalIos) / d.runtimeMs;
  }
  const hasBw = d.bw.samples > 0;
  const hasIops = d.iops.samples > 0;
  return obj([
    ["io_bytes", d.ioBytes], ["io_kbytes", Math.floor(d.ioBytes / 1024)], ["bw_bytes", bwBytes], ["bw", bw], ["iops", f(iops)],
    ["runtime", d.runtimeMs], ["total_ios", d.totalIos], ["short_ios", d.shortIos], ["drop_ios", d.dropIos],
    ["slat_ns", latJson(d.slat, null, ts.percentileList)],
    ["clat_ns", latJson(d.clat, ts.clatPercentiles ? d.clatPlat : null, ts.percentileList)],
    ["lat_ns", latJson(d.lat, null, ts.percentileList)],
    ["bw_min", hasBw ? d.bw.min : 0], ["bw_max", hasBw ? d.bw.max : 0], ["bw_agg", f(hasBw ? bwPercentOfGroup(rs, ddir, d.bw.mean) : 0)],
    ["bw_mean", f(hasBw ? d.bw.mean : 0)], ["bw_dev", f(hasBw ? d.bw.stdev : 0)], ["bw_samples", d.bw.samples],
    ["iops_min", hasIops ? d.iops.min : 0], ["iops_max", hasIops ? d.iops.max : 0], ["iops_mean", f(hasIops ? d.iops.mean : 0)],
    ["iops_stddev", f(hasIops ? d.iops.stdev : 0)], ["iops_samples", d.iops.samples],
  ]);
}

/** fio's show_thread_status_json for one report unit. */
function jobJson(ts: ThreadStats, rs: FioGroupStats, options: [string, string][], elapsedSec: number): FioJsonObject {
  const pairs: [string, FioJsonValue][] = [
    ["jobname", ts.name], ["groupid", ts.groupid], ["job_start", ts.jobStartMs], ["error", ts.error], ["eta", 0], ["elapsed", elapsedSec],
  ];
  if (options.length > 0) pairs.push(["job options", obj(options.map(([k, v]) => [k, v]))]);
  if (ts.unified === "mixed") pairs.push(["mixed", directionJson(ts, rs, 0)]);
  else for (let d = 0; d < 3; d++) pairs.push([DDIR_NAMES[d], directionJson(ts, rs, d)]);
  pairs.push(["sync", obj([["total_ios", 0], ["lat_ns", obj([["min", 0], ["max", 0], ["mean", f(0)], ["stddev", f(0)], ["N", 0]])]])]);
  if (ts.unified === "both") {
    const mixed = mixedOf(ts);
    pairs.push(["mixed", directionJson(mixed, rs, 0)]);
  }
  const runt = ts.totalRunTimeMs;
  pairs.push(
    ["job_runtime", runt], ["usr_cpu", f(runt ? (ts.usrMs * 100) / runt : 0)], ["sys_cpu", f(runt ? (ts.sysMs * 100) / runt : 0)],
    ["ctx", ts.ctx], ["majf", ts.majf], ["minf", ts.minf],
  );
  const depth = distribution(ts.ioUMap, ts.totalIoU);
  pairs.push(["iodepth_level", obj(depth.map((p, i) => [i < 6 ? String(1 << i) : `>=${1 << i}`, f(p)]))]);
  const levelKey = (i: number) => (i === 0 ? "0" : i < 6 ? String(1 << (i + 1)) : `>=${1 << i}`);
  pairs.push(["iodepth_submit", obj(distribution(ts.ioUSubmit, ts.totalSubmit).map((p, i) => [levelKey(i), f(p)]))]);
  pairs.push(["iodepth_complete", obj(distribution(ts.ioUComplete, ts.totalComplete).map((p, i) => [levelKey(i), f(p)]))]);
  const ranges = ["2", "4", "10", "20", "50", "100", "250", "500", "750", "1000", "2000", ">=2000"];
  pairs.push(["latency_ns", obj(latencyPercentages(ts, ts.latN).map((p, i) => [ranges[i], f(p)]))]);
  pairs.push(["latency_us", obj(latencyPercentages(ts, ts.latU).map((p, i) => [ranges[i], f(p)]))]);
  pairs.push(["latency_ms", obj(latencyPercentages(ts, ts.latM).map((p, i) => [ranges[i], f(p)]))]);
  if (ts.description) pairs.push(["desc", ts.description]);
  return obj(pairs);
}

/** Converts a plain JSON-able value (the interrupt view) into printer values (fractions stay fractions). */
function fromPlain(v: unknown): FioJsonValue {
  if (typeof v === "number") return Number.isInteger(v) ? v : f(v);
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return v.map(fromPlain);
  if (v && typeof v === "object") return obj(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, fromPlain(x)]));
  return String(v);
}

/** The document of a run. */
export function fioJsonDocument(result: FioRunResult): FioJsonObject {
  const endSec = Math.floor(result.endPs / 1e12);
  const elapsedSec = Math.ceil((result.endPs - result.startPs) / 1e12);
  const pairs: [string, FioJsonValue][] = [
    ["fio version", FIO_VERSION], ["timestamp", endSec], ["timestamp_ms", Math.floor(result.endPs / 1e9)], ["time", ctime(endSec)],
  ];
  if (result.set.global.length > 0) pairs.push(["global options", obj(result.set.global.map(([k, v]) => [k, v]))]);
  // Each report unit shows the options of its first job.
  let j = 0;
  const jobs = result.reports.map((ts) => {
    while (j < result.jobs.length && result.jobs[j].stats.pid !== ts.pid) j++;
    const job = result.jobs[Math.min(j, result.jobs.length - 1)];
    const rs = result.groups.find((g) => g.groupid === ts.groupid)!;
    return jobJson(ts, rs, job.options.written, elapsedSec);
  });
  pairs.push(["jobs", jobs]);
  pairs.push(["interrupts", fromPlain(interruptViewJson(result.interrupts))]);
  return obj(pairs);
}

function escape(s: string): string {
  return s.replace(/[\\"]/g, (c) => `\\${c}`);
}

function printValue(v: FioJsonValue, level: number, out: string[]): void {
  if (typeof v === "number") out.push(String(Math.trunc(v)));
  else if (v instanceof JsonFloat) out.push(cFixed(v.value, 6));
  else if (typeof v === "string") out.push(`"${escape(v)}"`);
  else if (Array.isArray(v)) {
    out.push("[\n");
    v.forEach((x, i) => {
      if (i > 0) out.push(",\n");
      out.push("  ".repeat(level + 1));
      printValue(x, level + 1, out);
    });
    out.push(`\n${"  ".repeat(level)}]`);
  } else {
    out.push("{\n");
    v.pairs.forEach(([k, x], i) => {
      if (i > 0) out.push(",\n");
      out.push(`${"  ".repeat(level + 1)}"${k}" : `);
      printValue(x, level + 1, out);
    });
    out.push(`\n${"  ".repeat(level)}}`);
  }
}

/** Prints a document as fio's JSON printer does, with the final newline. */
export function printFioJson(doc: FioJsonObject): string {
  const out: string[] = [];
  printValue(doc, 0, out);
  return out.join("") + "\n";
}

/** fio's JSON output of a run. */
export function formatFioJson(result: FioRunResult): string {
  return printFioJson(fioJsonDocument(result));
}
