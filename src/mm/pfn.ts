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

interface Range {
  /** First page frame number. */
  first: number;
  /** Page count. */
  count: number;
  /** 1 = in use. */
  used: Uint8Array;
  /** Lock (reference) count per page: MDLs that pin it. */
  locks: Uint16Array;
  /** 1 = freed while locked: returns to the free list when the last lock goes. */
  freeWhenUnlocked: Uint8Array;
  free: number;
  /** No page above this index is free (a search hint; allocation order is unchanged). */
  topFree: number;
}

/** Physical pages by frame number. */
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
        return { first: r.base / PAGE_SIZE, count, used: new Uint8Array(count), locks: new Uint16Array(count), freeWhenUnlocked: new Uint8Array(count), free: count, topFree: count - 1 };
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

  private rangeOf(pfn: number): Range | undefined {
    for (const r of this.ranges) if (pfn >= r.first && pfn < r.first + r.count) return r;
    return undefined;
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
        if (r.used[p] === 0) {
          r.used[p] = 1;
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
      let run = 0;
      for (let p = 0; p < r.count; p++) {
        const pfn = r.first + p;
        if (pfn * PAGE_SIZE < lowest || (pfn + 1) * PAGE_SIZE - 1 > highest || r.used[p] !== 0) {
          run = 0;
          continue;
        }
        if (++run === pages) {
          const start = p - pages + 1;
          r.used.fill(1, start, p + 1);
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
    return r !== undefined && r.used[pfn - r.first] !== 0 && r.freeWhenUnlocked[pfn - r.first] === 0;
  }

  /**
   * Frees a page. A locked page stays allocated until its last lock is released (the
   * MDLs that pin it keep it). Returns false if it was not allocated.
   */
  freePage(pfn: number): boolean {
    const r = this.rangeOf(pfn);
    if (!r) return false;
    const p = pfn - r.first;
    if (r.used[p] === 0 || r.freeWhenUnlocked[p] !== 0) return false;
    if (r.locks[p] > 0) {
      r.freeWhenUnlocked[p] = 1;
      return true;
    }
    r.used[p] = 0;
    r.free++;
    if (p > r.topFree) r.topFree = p;
    return true;
  }

  /** Pins a page (one more MDL locks it). Returns false if `pfn` is not RAM. */
  lock(pfn: number): boolean {
    const r = this.rangeOf(pfn);
    if (!r) return false;
    r.locks[pfn - r.first]++;
    return true;
  }

  /** Releases one lock on a page; returns the locks left, or -1 if it was not locked. */
  unlock(pfn: number): number {
    const r = this.rangeOf(pfn);
    if (!r) return -1;
    const p = pfn - r.first;
    if (r.locks[p] === 0) return -1;
    const left = --r.locks[p];
    if (left === 0 && r.freeWhenUnlocked[p] !== 0) {
      r.freeWhenUnlocked[p] = 0;
      r.used[p] = 0;
      r.free++;
      if (p > r.topFree) r.topFree = p;
    }
    return left;
  }

  /** How many locks hold a page (0 if none or not RAM). */
  lockCount(pfn: number): number {
    const r = this.rangeOf(pfn);
    return r ? r.locks[pfn - r.first] : 0;
  }
}
