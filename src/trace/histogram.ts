/**
 * Streaming statistics of a series of values in constant memory: count, minimum, maximum
 * and total kept exactly (the total by compensated summation), percentiles from a
 * log-linear histogram. Values are picoseconds wherever the kernel records them, but
 * nothing here depends on the unit: "unit" below means one of whatever is added.
 *
 * The histogram's layout: a value below 2^(HISTOGRAM_SUB_BITS + 1) units has a bucket of
 * its own (width 1); a larger value whose most significant bit is bit m falls in one of
 * HISTOGRAM_SUB_BUCKETS equal buckets that split [2^m, 2^(m+1)), each 2^(m -
 * HISTOGRAM_SUB_BITS) wide, so a bucket is never wider than 1/HISTOGRAM_SUB_BUCKETS of the
 * values in it. Values from 2^HISTOGRAM_TOP_BIT up share the last bucket.
 */

/** Bits of a value below its most significant one that pick its bucket: 64 buckets per power of two. */
export const HISTOGRAM_SUB_BITS = 6;
/** Buckets per power of two. */
export const HISTOGRAM_SUB_BUCKETS = 1 << HISTOGRAM_SUB_BITS;
/** Values below 2^HISTOGRAM_TOP_BIT units (every whole number a double holds exactly) get buckets of their own size class. */
export const HISTOGRAM_TOP_BIT = 53;
/** Buckets in all: two groups of width-1 buckets, then one group per power of two up to 2^HISTOGRAM_TOP_BIT. */
export const HISTOGRAM_BUCKETS = (HISTOGRAM_TOP_BIT - HISTOGRAM_SUB_BITS + 1) * HISTOGRAM_SUB_BUCKETS;
/**
 * How far a percentile may be from the exact one, as a fraction of the exact value: it is
 * reported as the middle of the exact value's bucket (1/128). Below 2^(HISTOGRAM_SUB_BITS + 1)
 * units the bucket's lower end is reported instead, which is exact for whole numbers and
 * less than one unit low otherwise.
 */
export const HISTOGRAM_RELATIVE_ERROR = 1 / (2 * HISTOGRAM_SUB_BUCKETS);

/** Values below this many units have a bucket each. */
const LINEAR_LIMIT = 2 * HISTOGRAM_SUB_BUCKETS;
const TOP = 2 ** HISTOGRAM_TOP_BIT;

/** Position (from 0) of the most significant set bit of a whole number 1 <= v < 2^53. */
function msbOf(v: number): number {
  if (v < 2 ** 32) return 31 - Math.clz32(v);
  return 63 - Math.clz32(Math.floor(v / 2 ** 32));
}

/** The bucket of a value (units); negative values and NaN go to bucket 0. */
export function histogramBucket(v: number): number {
  if (!(v >= 0)) return 0;
  if (v < LINEAR_LIMIT) return Math.floor(v);
  if (v >= TOP) return HISTOGRAM_BUCKETS - 1;
  const shift = msbOf(Math.floor(v)) - HISTOGRAM_SUB_BITS;
  return ((shift + 1) << HISTOGRAM_SUB_BITS) + Math.floor(v / 2 ** shift) - HISTOGRAM_SUB_BUCKETS;
}

/** The lower end of bucket `i`, units (the bucket holds [lower, lower + width)). */
export function histogramBucketLower(i: number): number {
  if (i < LINEAR_LIMIT) return i;
  const shift = (i >> HISTOGRAM_SUB_BITS) - 1;
  return ((i & (HISTOGRAM_SUB_BUCKETS - 1)) + HISTOGRAM_SUB_BUCKETS) * 2 ** shift;
}

/** The width of bucket `i`, units. */
export function histogramBucketWidth(i: number): number {
  return i < LINEAR_LIMIT ? 1 : 2 ** ((i >> HISTOGRAM_SUB_BITS) - 1);
}

/** The value a percentile reports for bucket `i`, units: its middle, or its lower end while buckets are one unit wide. */
function representative(i: number): number {
  return i < LINEAR_LIMIT ? i : histogramBucketLower(i) + histogramBucketWidth(i) / 2;
}

/**
 * A series of values (durations and latencies, ps, where the kernel keeps them) in
 * constant memory: adding one allocates nothing and takes constant time.
 */
export class LogLinearHistogram {
  /** Values per bucket (HISTOGRAM_BUCKETS entries; layout in histogramBucket). */
  readonly counts = new Float64Array(HISTOGRAM_BUCKETS);
  /** Values added. */
  count = 0;
  /** Smallest value added, units (Infinity while empty). */
  min = Infinity;
  /** Largest value added, units (-Infinity while empty). */
  max = -Infinity;
  /** Running total and the rounding error it has lost so far (Neumaier's compensated summation). */
  private sum = 0;
  private lost = 0;

  /** Adds one value, units. */
  add(v: number): void {
    this.counts[histogramBucket(v)]++;
    this.count++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    const t = this.sum + v;
    this.lost += Math.abs(this.sum) >= Math.abs(v) ? this.sum - t + v : v - t + this.sum;
    this.sum = t;
  }

  /** Sum of the values, units (correct to the rounding of the result). */
  get total(): number {
    return this.sum + this.lost;
  }

  /** Mean of the values, units; NaN when empty. */
  get mean(): number {
    return this.count === 0 ? NaN : this.total / this.count;
  }

  /**
   * The p-th percentile (0..100) by nearest rank, units; NaN when empty. The 0th and the
   * 100th are the exact minimum and maximum; others are within HISTOGRAM_RELATIVE_ERROR of
   * the exact value (see there), and never outside [min, max].
   */
  percentile(p: number): number {
    const n = this.count;
    if (n === 0) return NaN;
    const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
    if (rank === 1) return this.min;
    if (rank === n) return this.max;
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, representative(i)));
    }
    return this.max;
  }

  /** Makes this histogram a copy of `other`. */
  copyFrom(other: LogLinearHistogram): void {
    this.counts.set(other.counts);
    this.count = other.count;
    this.min = other.min;
    this.max = other.max;
    this.sum = other.sum;
    this.lost = other.lost;
  }

  /** Empties the histogram. */
  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.sum = 0;
    this.lost = 0;
  }
}
