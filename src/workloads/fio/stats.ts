/**
 * What a job measures, in fio's terms (its thread_stat): per direction the bytes and I/Os,
 * submission (slat), completion (clat) and total (lat) latency series and the clat
 * histogram, bandwidth and IOPS sampled every bwavgtime / iopsavgtime; for the whole job
 * the I/O depth, submit and complete distributions, the latency buckets of the "lat (usec)"
 * lines, and processor time. Everything is allocated when the job starts: recording an
 * I/O allocates nothing. Times in nanoseconds unless named otherwise.
 */
import { IoStat, PLAT_NR, platIndex } from "./histogram.js";

/** Directions: fio's DDIR_READ, DDIR_WRITE, DDIR_TRIM (never issued here, but reported). */
export const DDIR_READ = 0;
export const DDIR_WRITE = 1;
export const DDIR_TRIM = 2;
/** Directions fio reports. */
export const DDIR_RWDIR_CNT = 3;
/** The names fio gives them. */
export const DDIR_NAMES = ["read", "write", "trim"] as const;

/** Buckets of the depth, submit and complete distributions (FIO_IO_U_MAP_NR). */
export const IO_U_MAP_NR = 7;
/** Buckets of the nsec, usec and msec latency lines. */
export const LAT_N_NR = 10;
export const LAT_U_NR = 10;
export const LAT_M_NR = 12;

/** One direction's figures. */
export class DirectionStats {
  /** Bytes transferred. */
  ioBytes = 0;
  /** I/Os issued (fio counts them at submission). */
  totalIos = 0;
  /** I/Os that moved fewer bytes than asked. */
  shortIos = 0;
  dropIos = 0;
  /** Runtime of the direction, ms (fio's runtime[ddir]). */
  runtimeMs = 0;
  readonly slat = new IoStat();
  readonly clat = new IoStat();
  readonly lat = new IoStat();
  /** clat histogram (PLAT_NR buckets). */
  readonly clatPlat = new Float64Array(PLAT_NR);
  /** Bandwidth samples, KiB/s. */
  readonly bw = new IoStat();
  /** IOPS samples. */
  readonly iops = new IoStat();

  /** Merges another job's direction (group reporting, or both directions for unified reporting). */
  add(src: DirectionStats): void {
    this.ioBytes += src.ioBytes;
    this.totalIos += src.totalIos;
    this.shortIos += src.shortIos;
    this.dropIos += src.dropIos;
    this.runtimeMs = Math.max(this.runtimeMs, src.runtimeMs);
    this.slat.merge(src.slat);
    this.clat.merge(src.clat);
    this.lat.merge(src.lat);
    for (let i = 0; i < PLAT_NR; i++) this.clatPlat[i] += src.clatPlat[i];
    this.bw.sumWith(src.bw);
    this.iops.sumWith(src.iops);
  }
}

/** The index of a depth in the IO depths distribution (1, 2, 4, 8, 16, 32, >=64). */
export function depthIndex(depth: number): number {
  if (depth >= 64) return 6;
  if (depth >= 32) return 5;
  if (depth >= 16) return 4;
  if (depth >= 8) return 3;
  if (depth >= 4) return 2;
  if (depth >= 2) return 1;
  return 0;
}

/** The index of a count of I/Os in one submit or reap call (0, 4, 8, 16, 32, 64, >=64). */
export function batchIndex(n: number): number {
  if (n > 64) return 6;
  if (n > 32) return 5;
  if (n > 16) return 4;
  if (n > 8) return 3;
  if (n > 4) return 2;
  if (n >= 1) return 1;
  return 0;
}

const LAT_BOUNDS = [2, 4, 10, 20, 50, 100, 250, 500, 750, 1000];

function latBucket(v: number): number {
  for (let i = 0; i < LAT_BOUNDS.length; i++) if (v < LAT_BOUNDS[i]) return i;
  return LAT_BOUNDS.length;
}

/** A job's (or a reporting group's) figures. */
export class ThreadStats {
  name: string;
  description = "";
  groupid = 0;
  /** Jobs summed into it. */
  members = 0;
  /** Thread id of the (first) job. */
  pid = 0;
  /** fio error number (0: none) and its text. */
  error = 0;
  verror = "";
  /** When the (first) job started, ms of simulated time. */
  jobStartMs = 0;
  readonly dirs: DirectionStats[] = Array.from({ length: DDIR_RWDIR_CNT }, () => new DirectionStats());
  /** IO depths (by depthIndex), submit and complete distributions. */
  readonly ioUMap = new Float64Array(IO_U_MAP_NR);
  readonly ioUSubmit = new Float64Array(IO_U_MAP_NR);
  readonly ioUComplete = new Float64Array(IO_U_MAP_NR);
  totalSubmit = 0;
  totalComplete = 0;
  /** clat counts by the nsec, usec and msec buckets of the "lat" lines. */
  readonly latN = new Float64Array(LAT_N_NR);
  readonly latU = new Float64Array(LAT_U_NR);
  readonly latM = new Float64Array(LAT_M_NR);
  /** Processor time in user and kernel mode, ms; context switches; page faults. */
  usrMs = 0;
  sysMs = 0;
  ctx = 0;
  majf = 0;
  minf = 0;
  /** Time from the job's start to its end, ms (fio's total_run_time). */
  totalRunTimeMs = 0;
  /** unified_rw_reporting of the job(s). */
  unified: "none" | "mixed" | "both" = "none";
  /** Percentiles the report shows and whether it shows clat percentiles. */
  percentileList: number[] = [];
  percentilePrecision = 2;
  clatPercentiles = true;
  kbBase: 1000 | 1024 = 1024;

  constructor(name: string) {
    this.name = name;
  }

  /** Records one completed I/O: its direction, bytes moved, and slat / clat / lat in ns (slat < 0: none). */
  addCompletion(ddir: number, bytes: number, slatNs: number, clatNs: number, latNs: number, requested: number): void {
    const d = this.dirs[ddir];
    d.ioBytes += bytes;
    if (bytes < requested) d.shortIos++;
    if (slatNs >= 0) d.slat.add(slatNs);
    d.clat.add(clatNs);
    d.lat.add(latNs);
    d.clatPlat[platIndex(clatNs)]++;
    if (clatNs < 1000) this.latN[latBucket(clatNs)]++;
    else if (clatNs < 1_000_000) this.latU[latBucket(Math.floor(clatNs / 1000))]++;
    else {
      const ms = Math.floor(clatNs / 1_000_000);
      this.latM[ms >= 2000 ? 11 : ms >= 1000 ? 10 : latBucket(ms)]++;
    }
  }

  /** Records an I/O issued with `depth` I/Os in flight (itself included). */
  addIssue(ddir: number, depth: number): void {
    this.dirs[ddir].totalIos++;
    this.ioUMap[depthIndex(depth)]++;
  }

  /** Records one submit call of `n` I/Os and one reap call of `n` I/Os. */
  addSubmit(n: number): void {
    this.ioUSubmit[batchIndex(n)]++;
    this.totalSubmit++;
  }

  addComplete(n: number): void {
    this.ioUComplete[batchIndex(n)]++;
    this.totalComplete++;
  }

  /** Total I/Os issued, reads plus writes plus trims. */
  get totalIoU(): number {
    return this.dirs[0].totalIos + this.dirs[1].totalIos + this.dirs[2].totalIos;
  }

  /** Adds another job's figures (fio's sum_thread_stats); with unified "mixed" every direction goes into reads. */
  add(src: ThreadStats): void {
    for (let i = 0; i < DDIR_RWDIR_CNT; i++) this.dirs[this.unified === "mixed" ? 0 : i].add(src.dirs[i]);
    for (let i = 0; i < IO_U_MAP_NR; i++) {
      this.ioUMap[i] += src.ioUMap[i];
      this.ioUSubmit[i] += src.ioUSubmit[i];
      this.ioUComplete[i] += src.ioUComplete[i];
    }
    for (let i = 0; i < LAT_N_NR; i++) this.latN[i] += src.latN[i];
    for (let i = 0; i < LAT_U_NR; i++) this.latU[i] += src.latU[i];
    for (let i = 0; i < LAT_M_NR; i++) this.latM[i] += src.latM[i];
    this.totalSubmit += src.totalSubmit;
    this.totalComplete += src.totalComplete;
    this.usrMs += src.usrMs;
    this.sysMs += src.sysMs;
    this.ctx += src.ctx;
    this.majf += src.majf;
    this.minf += src.minf;
    this.totalRunTimeMs += src.totalRunTimeMs;
    this.members += src.members;
    if (this.error === 0 && src.error !== 0) {
      this.error = src.error;
      this.verror = src.verror;
    }
  }
}

/**
 * Bandwidth and IOPS sampling as fio does it: every `intervalMs` of the job's (post
 * ramp) time, for each direction that moved data in the interval, one sample of
 * bytes * 1000 / ms / 1024 (KiB/s) or I/Os * 1000 / ms. Samples are taken at the exact
 * interval ends in simulated time, as completions are recorded in time order.
 */
export class RateSampler {
  private nextPs: number;
  private lastPs: number;
  private readonly lastBytes = [0, 0, 0];
  private readonly lastIos = [0, 0, 0];
  /** Bytes and I/Os completed so far, per direction. */
  readonly bytes = [0, 0, 0];
  readonly ios = [0, 0, 0];

  constructor(startPs: number, private readonly intervalPs: number, private readonly kib: boolean, private readonly target: IoStat[]) {
    this.lastPs = startPs;
    this.nextPs = startPs + intervalPs;
  }

  /** Takes the samples of every interval that ended by `nowPs` (call before recording what completed at nowPs). */
  advance(nowPs: number): void {
    while (nowPs > this.nextPs) {
      const spentMs = Math.round((this.nextPs - this.lastPs) / 1e9);
      for (let d = 0; d < DDIR_RWDIR_CNT; d++) {
        const delta = this.kib ? this.bytes[d] - this.lastBytes[d] : this.ios[d] - this.lastIos[d];
        if (delta === 0) continue;
        const rate = spentMs > 0 ? (this.kib ? Math.floor(Math.floor((delta * 1000) / spentMs) / 1024) : Math.floor((delta * 1000) / spentMs)) : 0;
        this.target[d].add(rate);
        this.lastBytes[d] = this.bytes[d];
        this.lastIos[d] = this.ios[d];
      }
      this.lastPs = this.nextPs;
      this.nextPs += this.intervalPs;
    }
  }

  /** Counts one completion. */
  record(ddir: number, bytes: number): void {
    this.bytes[ddir] += bytes;
    this.ios[ddir]++;
  }
}
