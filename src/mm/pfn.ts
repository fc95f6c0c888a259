/**
 * The page frame database: which 4 KiB physical pages of usable RAM are free, and how
 * many times each page is locked (MmProbeAndLockPages pins a page once per MDL). General
 * allocations come from the top of RAM down, so low memory stays free for devices that
 * can only address a few bits (edu: 28); constrained contiguous allocations search from
 * the bottom up. Order is fixed, so allocation is deterministic.
 *
 * When free pages run low the database asks the memory manager to trim (page out
 * pageable memory) before it hands out another page.
 */

import { SCRATCH_SIZE } from "../machine/generated/layout.js";

/** Bytes per page. */
export const PAGE_SIZE = 4096;
/** log2(PAGE_SIZE). */
export const PAGE_SHIFT = 12;

/**
 * Offset of the pager's own page in the core's scratch buffer. Page-in can happen in the
 * middle of a block transfer that stages bytes in the scratch buffer below this offset
 * (readBytes, writeBytes), so the pager never touches that part.
 */
export const PAGER_SCRATCH_OFFSET = SCRATCH_SIZE - PAGE_SIZE;

/** log2 of the pages in one chunk of lock counts (4096 pages: 16 MiB of RAM). */
const LOCK_CHUNK_SHIFT = 12;
/** Pages in one chunk of lock counts. */
const LOCK_CHUNK_PAGES = 1 << LOCK_CHUNK_SHIFT;

/** Lock state of LOCK_CHUNK_PAGES pages, made when the first of them is locked. */
interface LockChunk {
  /** Lock (reference) count per page: MDLs that pin it. */
  locks: Uint16Array;
  /** 1 = freed while locked: returns to the free list when the last lock goes. */
  freeWhenUnlocked: Uint8Array;
}

interface Range {
  /** First page frame number. */
  first: number;
  /** Page count. */
  count: number;
  /** In-use bitmap: bit (p & 31) of word p >> 5 is page p. */
  used: Uint32Array;
  /** Lock state by chunk of LOCK_CHUNK_PAGES pages; a chunk no page of which was ever locked has none. */
  lockChunks: (LockChunk | undefined)[];
  free: number;
  /** No page above this index is free (a search hint; allocation order is unchanged). */
  topFree: number;
}

/** A bitmap word whose 32 pages are all in use. */
const FULL = 0xFFFFFFFF;

/** Bit `p` of `bits`. */
function isSet(bits: Uint32Array, p: number): boolean {
  return (bits[p >>> 5] & (1 << (p & 31))) !== 0;
}

/** Sets bits [from, to) of `bits` to `value`. */
function setBits(bits: Uint32Array, from: number, to: number, value: boolean): void {
  for (let p = from; p < to; p++) {
    if (value) bits[p >>> 5] |= 1 << (p & 31);
    else bits[p >>> 5] &= ~(1 << (p & 31));
  }
}

/**
 * Physical pages by frame number. Per page it keeps one bit (in use) and, only for the
 * 16 MiB chunks of RAM where something was ever locked, a lock count: 64 GiB of RAM costs
 * 2 MiB of bitmap.
 */
export class PageFrameDatabase {
  private readonly ranges: Range[];
  /** Free pages below which an allocation first asks for trimming. */
  lowWaterPages: number;
  /** Called when free pages fall below lowWaterPages (the memory manager trims). */
  onLow: (() => void) | null = null;
  private trimming = false;

  /** `ranges`: usable RAM [base, base + size) in bytes, page aligned. */
  constructor(ranges: { base: number; size: number }[]) {
    this.ranges = ranges
      .map((r) => {
        const count = r.size / PAGE_SIZE;
        return {
          first: r.base / PAGE_SIZE, count, used: new Uint32Array(Math.ceil(count / 32)),
          lockChunks: new Array<LockChunk | undefined>(Math.ceil(count / LOCK_CHUNK_PAGES)).fill(undefined),
          free: count, topFree: count - 1,
        };
      })
      .sort((a, b) => a.first - b.first);
    this.lowWaterPages = Math.max(16, Math.floor(this.totalPages / 64));
  }

  /** Free pages. */
  get freePages(): number {
    let n = 0;
    for (const r of this.ranges) n += r.free;
    return n;
  }

  /** Total pages. */
  get totalPages(): number {
    return this.ranges.reduce((n, r) => n + r.count, 0);
  }

  /** Bytes of host memory the database holds (bitmaps and lock chunks). */
  get hostBytes(): number {
    let n = 0;
    for (const r of this.ranges) {
      n += r.used.byteLength + r.lockChunks.length * 8;
      for (const c of r.lockChunks) if (c) n += c.locks.byteLength + c.freeWhenUnlocked.byteLength;
    }
    return n;
  }

  private rangeOf(pfn: number): Range | undefined {
    for (const r of this.ranges) if (pfn >= r.first && pfn < r.first + r.count) return r;
    return undefined;
  }

  /** The lock chunk of page `p` of `r`, made if `make` and it has none. */
  private chunk(r: Range, p: number, make: boolean): LockChunk | undefined {
    const i = p >>> LOCK_CHUNK_SHIFT;
    let c = r.lockChunks[i];
    if (!c && make) c = r.lockChunks[i] = { locks: new Uint16Array(LOCK_CHUNK_PAGES), freeWhenUnlocked: new Uint8Array(LOCK_CHUNK_PAGES) };
    return c;
  }

  /** True if page `p` of `r` was freed while locked. */
  private freedWhileLocked(r: Range, p: number): boolean {
    const c = this.chunk(r, p, false);
    return c !== undefined && c.freeWhenUnlocked[p & (LOCK_CHUNK_PAGES - 1)] !== 0;
  }

  /** Lets the memory manager trim when free pages run low (not re-entered while it trims). */
  private pressure(): void {
    if (this.onLow && !this.trimming && this.freePages <= this.lowWaterPages) {
      this.trimming = true;
      try {
        this.onLow();
      } finally {
        this.trimming = false;
      }
    }
  }

  /** Allocates one page from the top of RAM; returns its frame number, or -1 when none is free. */
  allocatePage(): number {
    this.pressure();
    for (let i = this.ranges.length - 1; i >= 0; i--) {
      const r = this.ranges[i];
      if (r.free === 0) continue;
      for (let p = r.topFree; p >= 0; p--) {
        const word = r.used[p >>> 5];
        // A full word: nothing free at or below p in it.
        if (word === FULL) { p &= ~31; continue; }
        if ((word & (1 << (p & 31))) === 0) {
          r.used[p >>> 5] = word | (1 << (p & 31));
          r.free--;
          r.topFree = p - 1;
          return r.first + p;
        }
      }
    }
    return -1;
  }

  /**
   * Allocates `pages` physically contiguous pages whose every byte lies in
   * [lowest, highest] (bytes), lowest first. Returns the first frame number or -1.
   */
  allocateContiguous(pages: number, lowest: number, highest: number): number {
    this.pressure();
    for (const r of this.ranges) {
      // Pages of this range wholly inside [lowest, highest].
      const from = Math.max(0, Math.ceil(lowest / PAGE_SIZE) - r.first);
      const to = Math.min(r.count, Math.floor((highest + 1) / PAGE_SIZE) - r.first);
      let run = 0;
      for (let p = from; p < to; p++) {
        // A full word: none of its 32 pages can start or extend a run.
        if ((p & 31) === 0 && r.used[p >>> 5] === FULL) { run = 0; p += 31; continue; }
        if (isSet(r.used, p)) {
          run = 0;
          continue;
        }
        if (++run === pages) {
          const start = p - pages + 1;
          setBits(r.used, start, p + 1, true);
          r.free -= pages;
          return r.first + start;
        }
      }
    }
    return -1;
  }

  /** True if `pfn` is an allocated page. */
  isAllocated(pfn: number): boolean {
    const r = this.rangeOf(pfn);
    return r !== undefined && isSet(r.used, pfn - r.first) && !this.freedWhileLocked(r, pfn - r.first);
  }

  /**
   * Frees a page. A locked page stays allocated until its last lock is released (the
   * MDLs that pin it keep it). Returns false if it was not allocated.
   */
  freePage(pfn: number): boolean {
    const r = this.rangeOf(pfn);
    if (!r) return false;
    const p = pfn - r.first;
    if (!isSet(r.used, p) || this.freedWhileLocked(r, p)) return false;
    const c = this.chunk(r, p, false);
    if (c && c.locks[p & (LOCK_CHUNK_PAGES - 1)] > 0) {
      c.freeWhenUnlocked[p & (LOCK_CHUNK_PAGES - 1)] = 1;
      return true;
    }
    setBits(r.used, p, p + 1, false);
    r.free++;
    if (p > r.topFree) r.topFree = p;
    return true;
  }

  /** Pins a page (one more MDL locks it). Returns false if `pfn` is not RAM. */
  lock(pfn: number): boolean {
    const r = this.rangeOf(pfn);
    if (!r) return false;
    const p = pfn - r.first;
    this.chunk(r, p, true)!.locks[p & (LOCK_CHUNK_PAGES - 1)]++;
    return true;
  }

  /** Releases one lock on a page; returns the locks left, or -1 if it was not locked. */
  unlock(pfn: number): number {
    const r = this.rangeOf(pfn);
    if (!r) return -1;
    const p = pfn - r.first;
    const c = this.chunk(r, p, false);
    const at = p & (LOCK_CHUNK_PAGES - 1);
    if (!c || c.locks[at] === 0) return -1;
    const left = --c.locks[at];
    if (left === 0 && c.freeWhenUnlocked[at] !== 0) {
      c.freeWhenUnlocked[at] = 0;
      setBits(r.used, p, p + 1, false);
      r.free++;
      if (p > r.topFree) r.topFree = p;
    }
    return left;
  }

  /** How many locks hold a page (0 if none or not RAM). */
  lockCount(pfn: number): number {
    const r = this.rangeOf(pfn);
    if (!r) return 0;
    const c = this.chunk(r, pfn - r.first, false);
    return c ? c.locks[(pfn - r.first) & (LOCK_CHUNK_PAGES - 1)] : 0;
  }
}
