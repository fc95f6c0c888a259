/**
 * fio's latency accounting, from its documented design (stat.h): running min / max / mean /
 * variance of a series (Welford's method, and the parallel merge for groups), and the
 * log-linear latency histogram percentiles come from.
 *
 * The histogram: a value v (nanoseconds) whose most significant bit is at position
 * msb (from 0) is kept exactly when msb <= PLAT_BITS (v < 128: bucket v); otherwise the
 * msb - PLAT_BITS low bits are dropped and the next PLAT_BITS bits pick one of PLAT_VAL
 * buckets of group msb - PLAT_BITS + 1, so the error stays under 1/2^(PLAT_BITS+1) of the
 * value. A bucket stands for the middle of its range. A percentile p of N samples is the
 * value of the first bucket at which the running count reaches p/100 * N.
 */

/** Index bits per group (fio's FIO_IO_U_PLAT_BITS). */
export const PLAT_BITS = 6;
/** Buckets per group (FIO_IO_U_PLAT_VAL). */
export const PLAT_VAL = 1 << PLAT_BITS;
/** Groups (FIO_IO_U_PLAT_GROUP_NR): values up to 2^(29 + 6 - 1) ns are told apart. */
export const PLAT_GROUP_NR = 29;
/** Buckets in all (FIO_IO_U_PLAT_NR). */
export const PLAT_NR = PLAT_GROUP_NR * PLAT_VAL;

/** Position of the most significant set bit of a whole number v >= 1 (below 2^53). */
function msbOf(v: number): number {
  if (v < 2 ** 32) return 31 - Math.clz32(v);
  return 32 + (31 - Math.clz32(Math.floor(v / 2 ** 32)));
}

/** The histogram bucket of a latency of `ns` nanoseconds (a whole number). */
export function platIndex(ns: number): number {
  if (ns <= 0) return 0;
  const msb = msbOf(ns);
  if (msb <= PLAT_BITS) return ns;
  const errorBits = msb - PLAT_BITS;
  const base = (errorBits + 1) << PLAT_BITS;
  const offset = Math.floor(ns / 2 ** errorBits) & (PLAT_VAL - 1);
  return Math.min(base + offset, PLAT_NR - 1);
}

/** The value (ns) a bucket stands for: its own value below 2 * PLAT_VAL, else the middle of its range, rounded down. */
export function platValue(index: number): number {
  if (index < PLAT_VAL << 1) return index;
  const errorBits = (index >> PLAT_BITS) - 1;
  const base = 2 ** (errorBits + PLAT_BITS);
  const k = index % PLAT_VAL;
  return Math.floor(base + (k + 0.5) * 2 ** errorBits);
}

/**
 * The percentiles (ascending list of p in (0, 100]) of `total` samples counted in
 * `buckets` (PLAT_NR counts), in ns, as fio computes them; empty when there are none.
 */
export function platPercentiles(buckets: Float64Array, total: number, list: readonly number[]): number[] {
  const out: number[] = [];
  if (total === 0 || list.length === 0) return out;
  let sum = 0;
  let j = 0;
  for (let i = 0; i < PLAT_NR && j < list.length; i++) {
    sum += buckets[i];
    while (j < list.length && sum >= (list[j] / 100) * total) {
      out.push(platValue(i));
      j++;
    }
  }
  return out;
}

/** A series' min, max, mean and variance (fio's io_stat), kept in O(1) space. */
export class IoStat {
  /** Smallest value (Infinity when empty). */
  min = Infinity;
  /** Largest value (0 when empty). */
  max = 0;
  /** Running mean. */
  mean = 0;
  /** Sum of squared differences from the mean (Welford's S). */
  S = 0;
  /** Values added. */
  samples = 0;

  /** Adds a value (fio adds whole nanoseconds, KiB/s or IOPS). */
  add(v: number): void {
    if (v > this.max) this.max = v;
    if (v < this.min) this.min = v;
    const delta = v - this.mean;
    if (delta !== 0) {
      this.mean += delta / (this.samples + 1);
      this.S += delta * (v - this.mean);
    }
    this.samples++;
  }

  /** Standard deviation with n - 1 in the denominator (0 for fewer than two values). */
  get stdev(): number {
    return this.samples > 1 ? Math.sqrt(this.S / (this.samples - 1)) : 0;
  }

  /** Merges another series into this one (latencies: the parallel variance formula). */
  merge(src: IoStat): void {
    if (src.samples === 0) return;
    if (this.samples === 0) {
      this.copyFrom(src);
      return;
    }
    this.min = Math.min(this.min, src.min);
    this.max = Math.max(this.max, src.max);
    const delta = src.mean - this.mean;
    const n = this.samples + src.samples;
    const mean = (src.mean * src.samples + this.mean * this.samples) / n;
    this.S = src.S + this.S + delta * delta * (this.samples * src.samples) / n;
    this.mean = mean;
    this.samples = n;
  }

  /** Adds another series' figures to this one (bandwidth and IOPS of a group: the jobs' rates add up). */
  sumWith(src: IoStat): void {
    if (src.samples === 0) return;
    if (this.samples === 0) {
      this.copyFrom(src);
      return;
    }
    this.min += src.min;
    this.max += src.max;
    this.samples += src.samples;
    this.mean += src.mean;
    this.S += src.S;
  }

  copyFrom(src: IoStat): void {
    this.min = src.min;
    this.max = src.max;
    this.mean = src.mean;
    this.S = src.S;
    this.samples = src.samples;
  }
}
