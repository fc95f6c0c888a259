/**
 * Where the next I/O goes and how big it is: the direction of a mixed job (rwmixread), the
 * block size (bs, bsrange: a multiple of the smallest size, or bssplit's weights), and the
 * offset — sequential per direction, or random: uniform over the region's blocks with
 * fio's random map (each block of the smallest block size is used once per loop: a block
 * already done moves the I/O to the next free one), or without it (norandommap), or
 * zipf / pareto (which, as in fio, turn the map off).
 *
 * A loop ends when the job has issued `size` bytes, or, with the random map, when every
 * block is done. Nothing allocates per I/O.
 */
import { blockSizeRange, jobDirections, type FioJobOptions } from "./options.js";
import { FioRandom, ParetoGenerator, ZipfGenerator, type SkewedGenerator } from "./random.js";
import { DDIR_READ, DDIR_WRITE } from "./stats.js";

/** Random streams of a job: one per purpose, so changing one option does not move the others. */
export const STREAM_OFFSET = 1;
export const STREAM_BLOCK_SIZE = 2;
export const STREAM_RWMIX = 3;
export const STREAM_DATA = 4;
export const STREAM_DISTRIBUTION = 5;

/**
 * fio's random map: one bit per block, plus one bit per 32 blocks saying all of them are
 * done, so finding the next free block skips full stretches quickly.
 */
export class RandomMap {
  private readonly bits: Uint32Array;
  private readonly fullWords: Uint32Array;
  /** Blocks marked. */
  used = 0;

  constructor(readonly blocks: number) {
    this.bits = new Uint32Array(Math.ceil(blocks / 32));
    this.fullWords = new Uint32Array(Math.ceil(this.bits.length / 32));
  }

  /** Whether block `b` is done. */
  isSet(b: number): boolean {
    return (this.bits[b >>> 5] & (1 << (b & 31))) !== 0;
  }

  /** Marks block `b` done. */
  set(b: number): void {
    const w = b >>> 5;
    const bit = 1 << (b & 31);
    if ((this.bits[w] & bit) !== 0) return;
    this.bits[w] |= bit;
    this.used++;
    if (this.bits[w] === this.wordMask(w)) this.fullWords[w >>> 5] |= 1 << (w & 31);
  }

  /** The first block at or after `b` (wrapping to 0) that is not done, or -1 if all are. */
  nextFree(b: number): number {
    if (this.used >= this.blocks) return -1;
    for (let pass = 0; pass < 2; pass++) {
      let w = b >>> 5;
      const words = this.bits.length;
      while (w < words) {
        if ((this.fullWords[w >>> 5] & (1 << (w & 31))) !== 0) {
          w++;
          continue;
        }
        const free = ~this.bits[w] & this.wordMask(w);
        const fromBit = w === b >>> 5 ? b & 31 : 0;
        const candidates = free & (fromBit === 0 ? -1 : ~((1 << fromBit) - 1));
        if (candidates !== 0) return (w << 5) + (31 - Math.clz32(candidates & -candidates));
        w++;
      }
      b = 0;
    }
    return -1;
  }

  /** Forgets every block (a new loop). */
  clear(): void {
    this.bits.fill(0);
    this.fullWords.fill(0);
    this.used = 0;
  }

  private wordMask(w: number): number {
    const last = this.blocks - (w << 5);
    return last >= 32 ? -1 : (1 << last) - 1;
  }
}

/** Picks block sizes of one direction. */
class BlockSizer {
  private readonly min: number;
  private readonly max: number;
  private readonly split: { bs: number; upTo: number }[] | null;

  constructor(job: FioJobOptions, d: 0 | 1, private readonly random: FioRandom) {
    [this.min, this.max] = blockSizeRange(job, d);
    if (job.bssplit) {
      let acc = 0;
      this.split = job.bssplit[d].map((e) => ({ bs: e.bs, upTo: (acc += e.percent) }));
    } else {
      this.split = null;
    }
  }

  /** A block size no larger than `room` bytes (0 if the smallest does not fit). */
  next(room: number): number {
    let bs = this.min;
    if (this.split) {
      const r = this.random.nextFloat() * 100;
      bs = this.split[this.split.length - 1].bs;
      for (const e of this.split) {
        if (r < e.upTo) {
          bs = e.bs;
          break;
        }
      }
    } else if (this.max > this.min) {
      const steps = Math.floor(this.max / this.min);
      bs = this.min * (1 + this.random.below(steps));
    }
    if (bs <= room) return bs;
    return room >= this.min ? Math.floor(room / this.min) * this.min : 0;
  }
}

/** The I/O a planner chose. */
export interface PlannedIo {
  ddir: number;
  /** Byte offset on the target. */
  offset: number;
  /** Bytes. */
  length: number;
}

/** The I/O pattern of one job over its region [start, start + length). */
export class IoPlanner {
  private readonly reads: boolean;
  private readonly writes: boolean;
  private readonly random: boolean;
  /** The smallest block size of any direction: the unit of the random map. */
  readonly blockUnit: number;
  readonly blocks: number;
  private readonly map: RandomMap | null;
  private readonly offsets: FioRandom;
  private readonly rwmix: FioRandom;
  private readonly sizers: [BlockSizer, BlockSizer];
  private readonly skewed: SkewedGenerator | null;
  /** Next sequential offset per direction, relative to the region. */
  private readonly cursor = [0, 0];
  /** Bytes issued in this loop. */
  issuedBytes = 0;

  constructor(readonly job: FioJobOptions, readonly regionStart: number, readonly regionLength: number, seed: number) {
    const dirs = jobDirections(job.rw);
    this.reads = dirs.reads;
    this.writes = dirs.writes;
    this.random = dirs.random;
    const units: number[] = [];
    if (this.reads) units.push(blockSizeRange(job, 0)[0]);
    if (this.writes) units.push(blockSizeRange(job, 1)[0]);
    this.blockUnit = Math.min(...units);
    this.blocks = Math.floor(regionLength / this.blockUnit);
    this.offsets = new FioRandom(seed, STREAM_OFFSET);
    this.rwmix = new FioRandom(seed, STREAM_RWMIX);
    this.sizers = [new BlockSizer(job, 0, new FioRandom(seed, STREAM_BLOCK_SIZE)), new BlockSizer(job, 1, new FioRandom(seed, STREAM_BLOCK_SIZE + 16))];
    this.map = this.random && !job.norandommap ? new RandomMap(this.blocks) : null;
    const d = job.randomDistribution;
    const dist = new FioRandom(seed, STREAM_DISTRIBUTION);
    this.skewed = d.kind === "zipf" ? new ZipfGenerator(this.blocks, d.theta, dist) : d.kind === "pareto" ? new ParetoGenerator(this.blocks, d.h, dist) : null;
  }

  /** Starts a loop: offsets from the start, the random map cleared. */
  startLoop(): void {
    this.cursor[0] = 0;
    this.cursor[1] = 0;
    this.issuedBytes = 0;
    this.map?.clear();
  }

  /** Whether the loop has issued all it should. */
  get loopDone(): boolean {
    if (this.map) return this.map.used >= this.blocks;
    return this.issuedBytes >= this.regionLength;
  }

  /** Chooses the next I/O into `out`; false when the loop is done. */
  next(out: PlannedIo): boolean {
    if (this.loopDone || this.blocks === 0) return false;
    const ddir = this.reads && this.writes ? (this.rwmix.below(100) < this.job.rwmixread ? DDIR_READ : DDIR_WRITE) : this.reads ? DDIR_READ : DDIR_WRITE;
    let rel: number;
    let length: number;
    if (this.random) {
      let b = this.skewed ? this.skewed.next() : this.offsets.below(this.blocks);
      if (this.map) {
        b = this.map.nextFree(b);
        if (b < 0) return false;
      }
      rel = b * this.blockUnit;
      length = this.sizers[ddir].next(this.regionLength - rel);
      if (length === 0) return false;
      if (this.map) for (let x = b, end = b + Math.ceil(length / this.blockUnit); x < end && x < this.blocks; x++) this.map.set(x);
    } else {
      if (this.cursor[ddir] + this.blockUnit > this.regionLength) this.cursor[ddir] = 0;
      rel = this.cursor[ddir];
      length = this.sizers[ddir].next(this.regionLength - rel);
      if (length === 0) return false;
      this.cursor[ddir] = rel + length;
    }
    this.issuedBytes += length;
    out.ddir = ddir;
    out.offset = this.regionStart + rel;
    out.length = length;
    return true;
  }
}
