/**
 * Random numbers for the load generator: a seeded xoshiro128** generator (one per purpose
 * and job, so offsets do not change when block sizes do), and fio's skewed distributions
 * over N items: zipf with exponent theta (Gray et al.'s method from "Quickly Generating
 * Billion-Record Synthetic Databases", the one fio documents) and pareto with power h
 * (rank = (N - 1) * u^(log(h) / log(1 - h)), so a fraction x of the ranks gets x^(log(1-h)/log(h))
 * of the accesses: h = 0.2 sends 80% of I/O to the first 20%). As in fio, a rank is
 * scattered over the range by a hash plus a random offset, so the hot items are not all at
 * the start of the disk. Nothing here reads the host clock or Math.random.
 */

/** splitmix32: spreads a 32-bit seed into well-mixed words. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9E3779B9) >>> 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85EBCA6B) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xC2B2AE35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** A 32-bit hash (murmur3's finaliser): a bijection on 32-bit words. */
export function hash32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x85EBCA6B) >>> 0;
  x = (x ^ (x >>> 13)) >>> 0;
  x = Math.imul(x, 0xC2B2AE35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** xoshiro128**: four 32-bit words of state, period 2^128 - 1. */
export class FioRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** A generator for `seed` (any number below 2^53) and `stream` (a purpose: offsets, block sizes...). */
  constructor(seed: number, stream: number) {
    const st = { s: (seed >>> 0) ^ Math.imul(stream + 1, 0x632BE5AB) ^ Math.floor(seed / 2 ** 32) };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** The next 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.b << 9) >>> 0;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d >>> 0, 11);
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    return result;
  }

  /** A uniform number in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform whole number in [0, n), n up to 2^53. */
  below(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The most terms of the zipf normalising sum fio adds up (it caps the work the same way). */
const ZIPF_MAX_TERMS = 10_000_000;

/** A skewed choice of one of N items: zipf or pareto, as fio defines them. */
export interface SkewedGenerator {
  /** Items, N. */
  readonly n: number;
  /** The next rank before scattering, 0-based (0 is the hottest item). */
  nextRank(): number;
  /** The next item, 0..N-1 (the rank scattered over the range). */
  next(): number;
}

/** Scatters a rank over [0, n): hash, plus a random offset fixed per generator. */
function scatter(rank: number, offset: number, n: number): number {
  return (hash32(rank) + offset) % n;
}

/** Zipf over `n` items with exponent `theta` (theta > 0, not 1). */
export class ZipfGenerator implements SkewedGenerator {
  private readonly zetan: number;
  private readonly alpha: number;
  private readonly eta: number;
  private readonly half: number;
  private readonly offset: number;

  constructor(readonly n: number, readonly theta: number, private readonly random: FioRandom) {
    let zetan = 0;
    const terms = Math.min(n, ZIPF_MAX_TERMS);
    for (let i = 1; i <= terms; i++) zetan += 1 / Math.pow(i, theta);
    this.zetan = zetan;
    const zeta2 = 1 + Math.pow(0.5, theta);
    this.alpha = 1 / (1 - theta);
    this.eta = (1 - Math.pow(2 / n, 1 - theta)) / (1 - zeta2 / zetan);
    this.half = Math.pow(0.5, theta);
    this.offset = random.nextU32();
  }

  nextRank(): number {
    const u = this.random.nextFloat();
    const uz = u * this.zetan;
    if (uz < 1) return 0;
    if (uz < 1 + this.half) return Math.min(1, this.n - 1);
    const v = Math.floor(this.n * Math.pow(this.eta * u - this.eta + 1, this.alpha));
    return Math.min(this.n - 1, Math.max(0, v));
  }

  next(): number {
    return scatter(this.nextRank(), this.offset, this.n);
  }
}

/** Pareto over `n` items with power `h` (0 < h < 1). */
export class ParetoGenerator implements SkewedGenerator {
  private readonly power: number;
  private readonly offset: number;

  constructor(readonly n: number, readonly h: number, private readonly random: FioRandom) {
    this.power = Math.log(h) / Math.log(1 - h);
    this.offset = random.nextU32();
  }

  nextRank(): number {
    return Math.floor((this.n - 1) * Math.pow(this.random.nextFloat(), this.power));
  }

  next(): number {
    return scatter(this.nextRank(), this.offset, this.n);
  }
}
