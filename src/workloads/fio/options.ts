/**
 * fio's job options: the ones wdmsim's load generator understands, their defaults (fio's
 * own, from its HOWTO), how each value is parsed, and the resolution of a job file into
 * one FioJobOptions per job — `[global]` entries first, then the job's own, `kb_base`
 * before everything else. Mistakes become FioJobFileError with fio's message, the file
 * and the line: "fio: failed parsing rw=sideways", "Bad option <bogus=1>", "Option
 * iodepth requires an argument".
 */
import { FioJobFileError, parseJobFile, type JobFileEntry } from "./jobfile.js";
import { parseBool, parseCpuList, parseInteger, parseRange, parseSize, parseTime, parseWhole, type SizeValue } from "./units.js";

/** rw= values (readwrite and rw mean the same: sequential mixed). */
export type FioRw = "read" | "write" | "randread" | "randwrite" | "rw" | "randrw";
/** ioengine= values wdmsim has. */
export type FioEngineName = "windowsaio" | "sync";
/** random_distribution=. */
export type RandomDistribution = { kind: "random" } | { kind: "zipf"; theta: number } | { kind: "pareto"; h: number };
/** One bssplit entry: a block size (bytes) and its share of the I/Os (percent). */
export interface BsSplitEntry {
  bs: number;
  percent: number;
}

/** fio's default percentile_list. */
export const DEFAULT_PERCENTILES = [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99];

/** Everything one job runs with. Sizes in bytes, times in picoseconds unless named otherwise. */
export interface FioJobOptions {
  /** The section name, or name= when given. */
  name: string;
  description: string;
  filename: string;
  rw: FioRw;
  /** Percent of mixed I/O that reads. */
  rwmixread: number;
  /** Block size for reads and writes, bytes. */
  bs: [number, number];
  /** bsrange for reads and writes (bytes, inclusive), or null. */
  bsrange: [[number, number], [number, number]] | null;
  /** bssplit for reads and writes, or null. */
  bssplit: [BsSplitEntry[], BsSplitEntry[]] | null;
  iodepth: number;
  numjobs: number;
  /** size=: bytes or percent of the target; null for all of it (less offset). */
  size: SizeValue | null;
  offset: SizeValue;
  /** runtime=, ps (0: none). */
  runtimePs: number;
  timeBased: boolean;
  /** ramp_time=, ps. */
  rampTimePs: number;
  ioengine: FioEngineName;
  direct: boolean;
  thread: boolean;
  /** Processors the job may run on (cpus_allowed=), or null for any. */
  cpusAllowed: number[] | null;
  randomDistribution: RandomDistribution;
  randrepeat: boolean;
  /** randseed=, or null to derive the seed from the machine's. */
  randseed: number | null;
  verify: "none" | "crc32c";
  doVerify: boolean;
  verifyFatal: boolean;
  groupReporting: boolean;
  stonewall: boolean;
  newGroup: boolean;
  /** norandommap: random offsets without the map that covers every block once per loop. */
  norandommap: boolean;
  loops: number;
  unifiedRwReporting: "none" | "mixed" | "both";
  kbBase: 1000 | 1024;
  /** bwavgtime= and iopsavgtime=: the sampling interval of the bw and iops lines, ms. */
  bwAvgTimeMs: number;
  iopsAvgTimeMs: number;
  /** percentile_list=, ascending. */
  percentileList: number[];
  /** Decimals the percentiles print with: the most any entry of percentile_list was written with (2 for fio's default list). */
  percentilePrecision: number;
  clatPercentiles: boolean;
  /** The options of the job's own section as written (name, value; "" for a flag): fio's "job options". */
  written: [string, string][];
  /** Line of the job's section header. */
  line: number;
}

/** A job file resolved: the jobs in order, the [global] options as written, and fio's warnings. */
export interface FioJobSet {
  file: string;
  jobs: FioJobOptions[];
  /** The [global] options as written (fio's "global options"). */
  global: [string, string][];
  /** Messages fio prints and goes on ("fio: time_based requires a runtime/timeout setting"). */
  warnings: string[];
}

type Mutable = Omit<FioJobOptions, "written" | "line">;

/** How one option reads its value into the options; returns null or what was wrong (a hint after fio's message). */
interface OptionSpec {
  name: string;
  aliases?: string[];
  /** A flag that may stand alone (fio's FIO_OPT_STR_SET): alone it means 1. */
  flag?: boolean;
  /** Values it takes, for the message when the value is not one of them. */
  values?: string[];
  apply(o: Mutable, value: string): string | null | void;
}

const BAD = "";

/**
 * Per-direction values as fio reads bs=: "256k" for both directions; "8k,32k" reads 8k and
 * writes 32k; an empty part keeps the default (",8k": default reads, 8k writes). A third
 * part (trims) is accepted and ignored. Null if a part does not parse.
 */
function perDirection<T>(value: string, parse: (s: string) => T | null, current: [T, T]): [T, T] | null {
  const parts = value.split(/[,/]/);
  if (parts.length > 3) return null;
  if (parts.length === 1) {
    const v = parse(parts[0]);
    return v === null ? null : [v, v];
  }
  const read = parts[0].trim() === "" ? current[0] : parse(parts[0]);
  const write = parts[1].trim() === "" ? current[1] : parse(parts[1]);
  return read === null || write === null ? null : [read, write];
}

function parseBsSplit(text: string, kbBase: 1000 | 1024): BsSplitEntry[] | null {
  const entries: { bs: number; percent: number | null }[] = [];
  for (const part of text.split(":")) {
    const m = /^\s*([^/]+)\/\s*([0-9.]*)\s*$/.exec(part);
    if (!m) return null;
    const bs = parseInteger(m[1], kbBase);
    if (bs === null || bs <= 0) return null;
    const percent = m[2] === "" ? null : Number(m[2]);
    if (percent !== null && !(percent >= 0 && percent <= 100)) return null;
    entries.push({ bs, percent });
  }
  const given = entries.reduce((s, e) => s + (e.percent ?? 0), 0);
  if (given > 100) return null;
  const blank = entries.filter((e) => e.percent === null).length;
  const share = blank > 0 ? (100 - given) / blank : 0;
  return entries.map((e) => ({ bs: e.bs, percent: e.percent ?? share }));
}

/** The options wdmsim's fio understands, with fio's names and aliases. */
export const OPTION_SPECS: OptionSpec[] = [
  { name: "name", apply: (o, v) => { o.name = v; } },
  { name: "description", apply: (o, v) => { o.description = v; } },
  { name: "filename", apply: (o, v) => { o.filename = v.replace(/\\:/g, ":"); } },
  {
    name: "rw", aliases: ["readwrite"], values: ["read", "write", "randread", "randwrite", "rw", "readwrite", "randrw"],
    apply: (o, v) => {
      const t = v.trim().toLowerCase();
      if (t === "readwrite" || t === "rw") o.rw = "rw";
      else if (t === "read" || t === "write" || t === "randread" || t === "randwrite" || t === "randrw") o.rw = t;
      else return BAD;
    },
  },
  {
    name: "rwmixread", apply: (o, v) => {
      const n = parseWhole(v, 0, 100);
      if (n === null) return "a percentage from 0 to 100";
      o.rwmixread = n;
    },
  },
  {
    name: "rwmixwrite", apply: (o, v) => {
      const n = parseWhole(v, 0, 100);
      if (n === null) return "a percentage from 0 to 100";
      o.rwmixread = 100 - n;
    },
  },
  {
    name: "bs", aliases: ["blocksize"], apply: (o, v) => {
      const r = perDirection(v, (s) => { const n = parseInteger(s, o.kbBase); return n !== null && n > 0 ? n : null; }, o.bs);
      if (!r) return BAD;
      o.bs = r;
      o.bsrange = null;
      o.bssplit = null;
    },
  },
  {
    name: "bsrange", aliases: ["blocksize_range"], apply: (o, v) => {
      const current: [[number, number], [number, number]] = [[o.bs[0], o.bs[0]], [o.bs[1], o.bs[1]]];
      const r = perDirection<[number, number]>(v, (s) => { const x = parseRange(s, o.kbBase); return x && x[0] > 0 ? x : null; }, current);
      if (!r) return BAD;
      o.bsrange = r;
      o.bssplit = null;
    },
  },
  {
    name: "bssplit", apply: (o, v) => {
      const parts = v.split(",");
      if (parts.length > 3) return BAD;
      const r = parseBsSplit(parts[0], o.kbBase);
      const w = parts.length > 1 && parts[1] !== "" ? parseBsSplit(parts[1], o.kbBase) : r;
      if (!r || !w) return "blocksize/percentage:blocksize/percentage..., the percentages adding up to 100 at most";
      o.bssplit = [r, w];
      o.bsrange = null;
    },
  },
  {
    name: "iodepth", apply: (o, v) => {
      const n = parseWhole(v, 1, 65536);
      if (n === null) return "a whole number from 1";
      o.iodepth = n;
    },
  },
  {
    name: "numjobs", apply: (o, v) => {
      const n = parseWhole(v, 1, 4096);
      if (n === null) return "a whole number from 1";
      o.numjobs = n;
    },
  },
  {
    name: "size", apply: (o, v) => {
      const s = parseSize(v, o.kbBase);
      if (!s) return BAD;
      o.size = s;
    },
  },
  {
    name: "offset", apply: (o, v) => {
      const s = parseSize(v, o.kbBase);
      if (!s) return BAD;
      o.offset = s;
    },
  },
  {
    name: "runtime", aliases: ["timeout"], apply: (o, v) => {
      const t = parseTime(v, "s");
      if (t === null) return "a time: a number with d, h, m, s, ms or us (seconds if none)";
      o.runtimePs = t;
    },
  },
  { name: "time_based", flag: true, apply: (o, v) => flag(v, (b) => { o.timeBased = b; }) },
  {
    name: "ramp_time", apply: (o, v) => {
      const t = parseTime(v, "s");
      if (t === null) return "a time: a number with d, h, m, s, ms or us (seconds if none)";
      o.rampTimePs = t;
    },
  },
  {
    name: "ioengine", values: ["windowsaio", "sync"], apply: (o, v) => {
      const t = v.trim().toLowerCase();
      if (t !== "windowsaio" && t !== "sync") return BAD;
      o.ioengine = t;
    },
  },
  { name: "direct", apply: (o, v) => bool(v, (b) => { o.direct = b; }) },
  { name: "buffered", apply: (o, v) => bool(v, (b) => { o.direct = !b; }) },
  { name: "thread", flag: true, apply: (o, v) => flag(v, (b) => { o.thread = b; }) },
  {
    name: "cpus_allowed", apply: (o, v) => {
      const c = parseCpuList(v);
      if (!c || c.length === 0) return "processor numbers and ranges, e.g. 0,2-3";
      o.cpusAllowed = c;
    },
  },
  {
    name: "random_distribution", values: ["random", "zipf:theta", "pareto:h"], apply: (o, v) => {
      const [kind, arg, ...rest] = v.trim().toLowerCase().split(":");
      if (rest.length > 0) return BAD;
      if (kind === "random" && arg === undefined) o.randomDistribution = { kind: "random" };
      else if (kind === "zipf") {
        const theta = Number(arg);
        if (arg === undefined || !Number.isFinite(theta) || theta <= 0 || theta === 1) return "zipf needs a theta above 0 other than 1 (zipf:1.2)";
        o.randomDistribution = { kind: "zipf", theta };
      } else if (kind === "pareto") {
        const h = Number(arg);
        if (arg === undefined || !Number.isFinite(h) || h <= 0 || h >= 1) return "pareto needs an h between 0 and 1 (pareto:0.2)";
        o.randomDistribution = { kind: "pareto", h };
      } else return BAD;
    },
  },
  { name: "randrepeat", aliases: ["allrandrepeat"], apply: (o, v) => bool(v, (b) => { o.randrepeat = b; }) },
  {
    name: "randseed", apply: (o, v) => {
      const n = parseWhole(v, 0, Number.MAX_SAFE_INTEGER);
      if (n === null) return "a whole number";
      o.randseed = n;
    },
  },
  {
    name: "verify", values: ["0", "crc32c", "crc32c-intel"], apply: (o, v) => {
      const t = v.trim().toLowerCase();
      if (t === "0" || t === "none") o.verify = "none";
      else if (t === "crc32c" || t === "crc32c-intel") o.verify = "crc32c";
      else return BAD;
    },
  },
  { name: "do_verify", apply: (o, v) => bool(v, (b) => { o.doVerify = b; }) },
  { name: "verify_fatal", apply: (o, v) => bool(v, (b) => { o.verifyFatal = b; }) },
  { name: "group_reporting", flag: true, apply: (o, v) => flag(v, (b) => { o.groupReporting = b; }) },
  { name: "stonewall", aliases: ["wait_for_previous"], flag: true, apply: (o, v) => flag(v, (b) => { o.stonewall = b; }) },
  { name: "new_group", flag: true, apply: (o, v) => flag(v, (b) => { o.newGroup = b; }) },
  { name: "norandommap", flag: true, apply: (o, v) => flag(v, (b) => { o.norandommap = b; }) },
  { name: "randommap", apply: (o, v) => bool(v, (b) => { o.norandommap = !b; }) },
  {
    name: "loops", apply: (o, v) => {
      const n = parseWhole(v, 1, 1e9);
      if (n === null) return "a whole number from 1";
      o.loops = n;
    },
  },
  {
    name: "unified_rw_reporting", values: ["none", "mixed", "both", "0", "1", "2"], apply: (o, v) => {
      const t = v.trim().toLowerCase();
      const map: Record<string, FioJobOptions["unifiedRwReporting"]> = { none: "none", "0": "none", mixed: "mixed", "1": "mixed", both: "both", "2": "both" };
      if (!map[t]) return BAD;
      o.unifiedRwReporting = map[t];
    },
  },
  {
    name: "kb_base", values: ["1024", "1000"], apply: (o, v) => {
      const t = v.trim();
      if (t !== "1024" && t !== "1000") return BAD;
      o.kbBase = t === "1024" ? 1024 : 1000;
    },
  },
  {
    name: "bwavgtime", apply: (o, v) => {
      const n = parseWhole(v, 1, 1e9);
      if (n === null) return "milliseconds, a whole number from 1";
      o.bwAvgTimeMs = n;
    },
  },
  {
    name: "iopsavgtime", apply: (o, v) => {
      const n = parseWhole(v, 1, 1e9);
      if (n === null) return "milliseconds, a whole number from 1";
      o.iopsAvgTimeMs = n;
    },
  },
  {
    name: "percentile_list", apply: (o, v) => {
      const list = v.split(":").map((s) => Number(s.trim()));
      if (list.length === 0 || list.length > 20 || list.some((p) => !(p > 0 && p <= 100))) return "up to 20 numbers in (0, 100] separated by ':'";
      o.percentileList = [...list].sort((a, b) => a - b);
      o.percentilePrecision = Math.max(0, ...v.split(":").map((t) => (t.includes(".") ? t.trim().split(".")[1].length : 0)));
    },
  },
  { name: "clat_percentiles", apply: (o, v) => bool(v, (b) => { o.clatPercentiles = b; }) },
];

function bool(v: string, set: (b: boolean) => void): string | null {
  const b = parseBool(v);
  if (b === null) return "0 or 1";
  set(b);
  return null;
}

function flag(v: string, set: (b: boolean) => void): string | null {
  return bool(v, set);
}

const BY_NAME = new Map<string, OptionSpec>();
for (const spec of OPTION_SPECS) for (const n of [spec.name, ...(spec.aliases ?? [])]) BY_NAME.set(n, spec);

/** fio's defaults for a job named `name`. */
export function defaultJobOptions(name: string): Mutable {
  return {
    name, description: "", filename: "", rw: "read", rwmixread: 50, bs: [4096, 4096], bsrange: null, bssplit: null, iodepth: 1, numjobs: 1,
    size: null, offset: { bytes: 0 }, runtimePs: 0, timeBased: false, rampTimePs: 0, ioengine: "sync", direct: false, thread: false,
    cpusAllowed: null, randomDistribution: { kind: "random" }, randrepeat: true, randseed: null, verify: "none", doVerify: true, verifyFatal: false,
    groupReporting: false, stonewall: false, newGroup: false, norandommap: false, loops: 1, unifiedRwReporting: "none", kbBase: 1024,
    bwAvgTimeMs: 500, iopsAvgTimeMs: 500, percentileList: [...DEFAULT_PERCENTILES], percentilePrecision: 2, clatPercentiles: true,
  };
}

/** Applies entries (kb_base first, then in order) to `o`; returns the canonical names and values as written. */
function applyEntries(o: Mutable, entries: JobFileEntry[], file: string): [string, string][] {
  const written: [string, string][] = [];
  const ordered = [...entries.filter((e) => e.key === "kb_base"), ...entries.filter((e) => e.key !== "kb_base")];
  for (const e of ordered) {
    const spec = BY_NAME.get(e.key);
    const text = e.value === null ? e.key : `${e.key}=${e.value}`;
    if (!spec) throw new FioJobFileError(`Bad option <${text}>`, file, e.line, e.key);
    if (e.value === null && !spec.flag) throw new FioJobFileError(`Option ${spec.name} requires an argument`, file, e.line, spec.name);
    const problem = spec.apply(o, e.value ?? "1");
    if (problem !== null && problem !== undefined) {
      const valid = spec.values ? `valid values: ${spec.values.join(", ")}` : "";
      const hint = problem || valid;
      throw new FioJobFileError(`fio: failed parsing ${text}${hint ? ` (${hint})` : ""}`, file, e.line, spec.name);
    }
    written.push([spec.name, e.value ?? ""]);
  }
  // Entries were applied kb_base first; list them as written.
  const order = new Map(entries.map((e, i) => [e, i] as const));
  return written.map((w, i) => ({ w, at: order.get(ordered[i])! })).sort((a, b) => a.at - b.at).map((x) => x.w);
}

/**
 * Reads a job file's text into its jobs. `file` names it in messages. `cpuCount` bounds
 * cpus_allowed. Throws FioJobFileError for anything fio would refuse.
 */
export function resolveJobFile(text: string, file: string, cpuCount = Infinity): FioJobSet {
  const parsed = parseJobFile(text, file);
  const globalEntries: JobFileEntry[] = [];
  const jobs: FioJobOptions[] = [];
  const warnings: string[] = [];
  let global: [string, string][] = [];
  for (const section of parsed.sections) {
    if (section.name.toLowerCase() === "global") {
      globalEntries.push(...section.entries);
      global = applyEntries(defaultJobOptions("global"), globalEntries, file);
      continue;
    }
    const o = defaultJobOptions(section.name);
    applyEntries(o, globalEntries, file);
    const written = applyEntries(o, section.entries, file);
    const job: FioJobOptions = { ...o, written, line: section.line };
    validate(job, file, cpuCount, warnings);
    jobs.push(job);
  }
  if (jobs.length === 0) throw new FioJobFileError("fio: no jobs defined", file, 0);
  return { file, jobs, global, warnings };
}

/** Checks that only hold for the options together; adjusts what fio adjusts (with its warning). */
function validate(job: FioJobOptions, file: string, cpuCount: number, warnings: string[]): void {
  const fail = (message: string, option = "") => {
    throw new FioJobFileError(message, file, job.line, option);
  };
  if (job.filename === "") {
    fail(`fio: job <${job.name}> has no filename= (name the disk, e.g. filename=\\\\.\\PhysicalDrive0)`, "filename");
  }
  if (job.filename.includes(":") && !/^\\\\[.?]\\/.test(job.filename)) {
    fail(`fio: job <${job.name}>: filename=${job.filename} names more than one file; wdmsim's fio runs one file per job`, "filename");
  }
  if (job.ioengine === "sync" && job.direct) {
    fail("fio: Windows does not support direct or non-buffered io with the synchronous ioengines. Use the 'windowsaio' ioengine with 'direct=1' and 'iodepth=1' instead.", "direct");
  }
  if (job.cpusAllowed) {
    const over = job.cpusAllowed.find((c) => c >= cpuCount);
    if (over !== undefined) fail(`fio: CPU ${over} too large (max=${cpuCount - 1})`, "cpus_allowed");
  }
  if (job.timeBased && job.runtimePs === 0) {
    warnings.push("fio: time_based requires a runtime/timeout setting");
    job.timeBased = false;
  }
  if (job.randomDistribution.kind !== "random") job.norandommap = true;
}

/** The smallest and largest block size a job issues in direction `d` (0 read, 1 write), bytes. */
export function blockSizeRange(job: FioJobOptions, d: 0 | 1): [number, number] {
  if (job.bssplit) {
    const sizes = job.bssplit[d].map((e) => e.bs);
    return [Math.min(...sizes), Math.max(...sizes)];
  }
  if (job.bsrange) return job.bsrange[d];
  return [job.bs[d], job.bs[d]];
}

/** Whether the job reads, writes, and whether its offsets are random. */
export function jobDirections(rw: FioRw): { reads: boolean; writes: boolean; random: boolean } {
  return {
    reads: rw === "read" || rw === "randread" || rw === "rw" || rw === "randrw",
    writes: rw === "write" || rw === "randwrite" || rw === "rw" || rw === "randrw",
    random: rw.startsWith("rand"),
  };
}
