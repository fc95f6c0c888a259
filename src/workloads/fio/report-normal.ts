/**
 * fio's normal output (--output-format=normal), laid out as fio 3.x prints it: the job
 * lines and "Starting N threads" before the run, then per job (or per group with
 * group_reporting) the status block — IOPS and bandwidth, slat / clat / lat with the unit
 * fio picks, clat percentiles, bw and iops samples, the latency distribution, cpu, IO
 * depths, submit and complete, issued — and the "Run status group" lines. Units follow
 * fio's rules: power-of-two prefixes with the decimal value in parentheses (kb_base=1024),
 * nsec / usec / msec as the values call for.
 */
import { blockSizeRange, type FioJobOptions } from "./options.js";
import { platPercentiles } from "./histogram.js";
import { FIO_VERSION, type FioGroupStats, type FioRunResult } from "./fio.js";
import { cFloat, ctime, N2S, num2str } from "./format.js";
import { DDIR_NAMES, DDIR_RWDIR_CNT, ThreadStats, type DirectionStats } from "./stats.js";
import type { IoStat } from "./histogram.js";

/** fio's default significant figures (sig_figs). */
const SIG_FIGS = 4;

/** fio's rw string of a job (ddir_str). */
function rwString(rw: FioJobOptions["rw"]): string {
  return rw;
}

/** The line fio prints for a job before it runs ("name: (g=0): rw=randread, bs=(R) 4096B-4096B, ..."). */
export function jobLine(job: FioJobOptions, groupid: number): string {
  const i2p = job.kbBase === 1024;
  const b = (n: number) => num2str(n, SIG_FIGS, i2p, N2S.BYTE);
  const [r0, r1] = blockSizeRange(job, 0);
  const [w0, w1] = blockSizeRange(job, 1);
  return `${job.name}: (g=${groupid}): rw=${rwString(job.rw)}, bs=(R) ${b(r0)}-${b(r1)}, (W) ${b(w0)}-${b(w1)}, (T) ${b(w0)}-${b(w1)}, ioengine=${job.ioengine}, iodepth=${job.iodepth}`;
}

/** What fio prints before the run: warnings, a line per job section ("..." for the second clone), its version, "Starting ...". */
export function formatPreamble(result: FioRunResult): string[] {
  const out = [...result.set.warnings];
  let previous: FioJobOptions | null = null;
  let clone = 0;
  for (const job of result.jobs) {
    clone = job.options === previous ? clone + 1 : 0;
    previous = job.options;
    if (clone === 0) out.push(jobLine(job.options, job.groupid));
    else if (clone === 1) out.push("...");
  }
  out.push(FIO_VERSION);
  const parts: string[] = [];
  if (result.threads) parts.push(`${result.threads} thread${result.threads > 1 ? "s" : ""}`);
  if (result.processes) parts.push(`${result.processes} process${result.processes > 1 ? "es" : ""}`);
  out.push(`Starting ${parts.join(" and ")}`);
  return out;
}

/** fio's display_lat: the unit it picks and the line. */
function latLine(name: string, s: IoStat): string | null {
  if (s.samples === 0) return null;
  let min = s.min;
  let max = s.max;
  let mean = s.mean;
  let dev = s.stdev;
  let base = "(nsec)";
  if (min > 2_000_000 && max > 99_999_999 && dev > 1_000_000) {
    min = Math.floor(min / 1e6);
    max = Math.floor(max / 1e6);
    mean /= 1e6;
    dev /= 1e6;
    base = "(msec)";
  } else if (min > 2000 && max > 99_999 && dev > 1000) {
    min = Math.floor(min / 1000);
    max = Math.floor(max / 1000);
    mean /= 1000;
    dev /= 1000;
    base = "(usec)";
  }
  return `    ${name} ${base}: min=${num2str(min, 6, false, N2S.NONE)}, max=${num2str(max, 6, false, N2S.NONE)}, avg=${cFloat(mean, 5, 2)}, stdev=${cFloat(dev, 5, 2)}`;
}

/** fio's show_clat_percentiles block. */
export function percentileLines(what: string, plat: Float64Array, samples: number, list: number[], precision: number): string[] {
  const values = platPercentiles(plat, samples, list);
  if (values.length === 0) return [];
  const minv = Math.min(...values);
  const maxv = Math.max(...values);
  let scale = 0;
  let divisor = 1;
  let unit = "nsec";
  if (minv > 2_000_000 && maxv > 99_999_999) {
    scale = 2;
    divisor = 1_000_000;
    unit = "msec";
  } else if (minv > 2000 && maxv > 99_999) {
    scale = 1;
    divisor = 1000;
    unit = "usec";
  }
  const timeWidth = Math.max(5, Math.floor(Math.log10(Math.floor(maxv / divisor)) + 1));
  const perLine = Math.floor((80 - 7) / (precision + 10 + timeWidth));
  const out = [`    ${what} percentiles (${unit}):`];
  let line = "     |";
  for (let j = 0; j < values.length; j++) {
    if (j !== 0 && j % perLine === 0) line = "     |";
    let v = values[j];
    for (let i = 0; i < scale; i++) v = Math.floor((v + 999) / 1000);
    const last = j === values.length - 1;
    line += ` ${cFloat(list[j], precision + 3, precision)}th=[${String(v).padStart(timeWidth)}]${last ? "" : ","}`;
    if (last || j % perLine === perLine - 1) out.push(line);
  }
  return out;
}

/** fio's show_ddir_status. */
function directionLines(rs: FioGroupStats, ts: ThreadStats, d: DirectionStats, ddir: number, name: string): string[] {
  if (!d.runtimeMs) return [];
  const i2p = rs.kbBase === 1024;
  const runt = d.runtimeMs;
  const bw = Math.floor((1000 * d.ioBytes) / runt);
  const iops = Math.floor((1000 * d.totalIos) / runt);
  const out = [
    `  ${name}: IOPS=${num2str(iops, SIG_FIGS, false, N2S.NONE)}, BW=${num2str(bw, SIG_FIGS, i2p, N2S.BYTEPERSEC)} (${num2str(bw, SIG_FIGS, !i2p, N2S.BYTEPERSEC)})(${num2str(d.ioBytes, SIG_FIGS, i2p, N2S.BYTE)}/${runt}msec)`,
  ];
  for (const [label, s] of [["slat", d.slat], ["clat", d.clat], [" lat", d.lat]] as const) {
    const l = latLine(label, s);
    if (l) out.push(l);
  }
  if (ts.clatPercentiles && d.clat.samples > 0) out.push(...percentileLines("clat", d.clatPlat, d.clat.samples, ts.percentileList, ts.percentilePrecision));
  if (d.bw.samples > 0) {
    let min = d.bw.min;
    let max = d.bw.max;
    let mean = d.bw.mean;
    let dev = d.bw.stdev;
    let unit = i2p ? "KiB" : "kB";
    const per = bwPercentOfGroup(rs, ddir, mean);
    const base = rs.kbBase;
    if (mean > base * base) {
      min = Math.floor(min / base);
      max = Math.floor(max / base);
      mean /= base;
      dev /= base;
      unit = "MiB";
    }
    out.push(`   bw (${unit.padStart(5)}/s): min=${String(min).padStart(5)}, max=${String(max).padStart(5)}, per=${cFloat(per, 3, 2)}%, avg=${cFloat(mean, 5, 2)}, stdev=${cFloat(dev, 5, 2)}, samples=${d.bw.samples}`);
  }
  if (d.iops.samples > 0) {
    out.push(`   iops        : min=${String(d.iops.min).padStart(5)}, max=${String(d.iops.max).padStart(5)}, avg=${cFloat(d.iops.mean, 5, 2)}, stdev=${cFloat(d.iops.stdev, 5, 2)}, samples=${d.iops.samples}`);
  }
  return out;
}

/** The job's share of its group's bandwidth, percent (fio's convert_agg_kbytes_percent: the mean taken as a whole number). */
export function bwPercentOfGroup(rs: FioGroupStats, ddir: number, mean: number): number {
  if (rs.agg[ddir] <= 1024) return 100;
  return Math.min(100, (Math.trunc(mean) * 100) / (rs.agg[ddir] / 1024));
}

/** The percentages of a distribution (fio's stat_calc_dist: at least 0.1 for a non-empty bucket). */
export function distribution(map: Float64Array, total: number): number[] {
  return Array.from(map, (v) => {
    if (!total) return 0;
    const p = (v / total) * 100;
    return p < 0.1 && v ? 0.1 : p;
  });
}

/** The latency buckets as percentages of all I/Os (fio's stat_calc_lat: at least 0.01 for a non-empty bucket). */
export function latencyPercentages(ts: ThreadStats, buckets: Float64Array): number[] {
  const total = ts.totalIoU;
  return Array.from(buckets, (v) => {
    if (!total) return 0;
    const p = (v / total) * 100;
    return p < 0.01 && v ? 0.01 : p;
  });
}

const LAT_RANGES = ["2", "4", "10", "20", "50", "100", "250", "500", "750", "1000", "2000", ">=2000"];

function latencyLines(unit: string, pct: number[]): string[] {
  const out: string[] = [];
  let line = "";
  let n = 0;
  pct.forEach((p, i) => {
    if (p <= 0) return;
    if (n === 0) line = `  lat (${unit})   : `;
    else line += ", ";
    line += `${LAT_RANGES[i]}=${cFloat(p, 3, 2)}%`;
    n++;
    if (n === 5) {
      out.push(line);
      n = 0;
    }
  });
  if (n > 0) out.push(line);
  return out;
}

/** The status block of one report unit (fio's show_thread_status_normal). */
export function threadStatusLines(ts: ThreadStats, rs: FioGroupStats, timeText: string): string[] {
  if (ts.dirs.every((d) => d.ioBytes === 0) && ts.totalIoU === 0) return [];
  const out = [ts.error
    ? `${ts.name}: (groupid=${ts.groupid}, jobs=${ts.members}): err=${String(ts.error).padStart(2)} (${ts.verror}): pid=${ts.pid}: ${timeText}`
    : `${ts.name}: (groupid=${ts.groupid}, jobs=${ts.members}): err=${String(ts.error).padStart(2)}: pid=${ts.pid}: ${timeText}`];
  if (ts.description) out.push(`  Description  : [${ts.description}]`);
  for (let d = 0; d < DDIR_RWDIR_CNT; d++) {
    if (ts.dirs[d].ioBytes) out.push(...directionLines(rs, ts, ts.dirs[d], d, ts.unified === "mixed" ? "mixed" : DDIR_NAMES[d]));
  }
  if (ts.unified === "both") {
    const mixed = mixedOf(ts);
    out.push(...directionLines(rs, mixed, mixed.dirs[0], 0, "mixed"));
  }
  out.push(...latencyLines("nsec", latencyPercentages(ts, ts.latN)));
  out.push(...latencyLines("usec", latencyPercentages(ts, ts.latU)));
  out.push(...latencyLines("msec", latencyPercentages(ts, ts.latM)));
  const usr = ts.totalRunTimeMs ? (ts.usrMs * 100) / ts.totalRunTimeMs : 0;
  const sys = ts.totalRunTimeMs ? (ts.sysMs * 100) / ts.totalRunTimeMs : 0;
  out.push(`  cpu          : usr=${cFloat(usr, 3, 2)}%, sys=${cFloat(sys, 3, 2)}%, ctx=${ts.ctx}, majf=${ts.majf}, minf=${ts.minf}`);
  const dist = (m: Float64Array, total: number) => distribution(m, total).map((p) => cFloat(p, 3, 1));
  const depth = dist(ts.ioUMap, ts.totalIoU);
  out.push(`  IO depths    : 1=${depth[0]}%, 2=${depth[1]}%, 4=${depth[2]}%, 8=${depth[3]}%, 16=${depth[4]}%, 32=${depth[5]}%, >=64=${depth[6]}%`);
  const sub = dist(ts.ioUSubmit, ts.totalSubmit);
  out.push(`     submit    : 0=${sub[0]}%, 4=${sub[1]}%, 8=${sub[2]}%, 16=${sub[3]}%, 32=${sub[4]}%, 64=${sub[5]}%, >=64=${sub[6]}%`);
  const com = dist(ts.ioUComplete, ts.totalComplete);
  out.push(`     complete  : 0=${com[0]}%, 4=${com[1]}%, 8=${com[2]}%, 16=${com[3]}%, 32=${com[4]}%, 64=${com[5]}%, >=64=${com[6]}%`);
  const [r, w, t] = ts.dirs;
  out.push(`     issued rwts: total=${r.totalIos},${w.totalIos},${t.totalIos},0 short=${r.shortIos},${w.shortIos},${t.shortIos},0 dropped=${r.dropIos},${w.dropIos},${t.dropIos},0`);
  return out;
}

/** Reads, writes and trims of a report unit summed into one direction (unified_rw_reporting=both's "mixed"). */
export function mixedOf(ts: ThreadStats): ThreadStats {
  const m = new ThreadStats(ts.name);
  m.unified = "mixed";
  m.percentileList = ts.percentileList;
  m.percentilePrecision = ts.percentilePrecision;
  m.clatPercentiles = ts.clatPercentiles;
  m.add(ts);
  return m;
}

/** fio's show_group_stats. */
export function groupLines(rs: FioGroupStats): string[] {
  const out = ["", `Run status group ${rs.groupid} (all jobs):`];
  const i2p = rs.kbBase === 1024;
  const names = ["   READ", "  WRITE", "   TRIM"];
  const f = (n: number, pow2: boolean, u: N2S) => num2str(n, SIG_FIGS, pow2, u);
  for (let d = 0; d < DDIR_RWDIR_CNT; d++) {
    if (!rs.maxRunMs[d]) continue;
    out.push(`${rs.unified === "mixed" ? "  MIXED" : names[d]}: bw=${f(rs.agg[d], i2p, N2S.BYTEPERSEC)} (${f(rs.agg[d], !i2p, N2S.BYTEPERSEC)}), ${f(rs.minBw[d], i2p, N2S.BYTEPERSEC)}-${f(rs.maxBw[d], i2p, N2S.BYTEPERSEC)} (${f(rs.minBw[d], !i2p, N2S.BYTEPERSEC)}-${f(rs.maxBw[d], !i2p, N2S.BYTEPERSEC)}), io=${f(rs.ioBytes[d], i2p, N2S.BYTE)} (${f(rs.ioBytes[d], !i2p, N2S.BYTE)}), run=${rs.minRunMs[d]}-${rs.maxRunMs[d]}msec`);
  }
  return out;
}

/** The whole normal output of a run, as fio prints it (the interrupt view is separate: formatInterruptView). */
export function formatFioNormal(result: FioRunResult): string {
  const out = formatPreamble(result);
  for (const job of result.jobs) out.push(...job.outcome.log);
  out.push("");
  const timeText = ctime(result.endPs / 1e12);
  for (const ts of result.reports) {
    const rs = result.groups.find((g) => g.groupid === ts.groupid)!;
    out.push(...threadStatusLines(ts, rs, timeText));
  }
  for (const rs of result.groups) out.push(...groupLines(rs));
  return out.join("\n") + "\n";
}
