/**
 * The page frame database: which 4 KiB physical pages of usable RAM are free. General
 * allocations come from the top of RAM down, so low memory stays free for devices that
 * can only address a few bits (edu: 28); constrained contiguous allocations search from
 * the bottom up. Order is fixed, so allocation is deterministic.
 */

/** Bytes per page. */
export const PAGE_SIZE = 4096;
/** log2(PAGE_SIZE). */
export const PAGE_SHIFT = 12;

interface Range {
  /** First page frame number. */
  first: number;
  /** Page count. */
  count: number;
  /** 1 = in use. */
  used: Uint8Array;
  free: number;
}

/** Physical pages by frame number. */
export class PageFrameDatabase {
  private readonly ranges: Range[];

  /** `ranges`: usable RAM [base, base + size) in bytes, page aligned. */
  constructor(ranges: { base: number; size: number }[]) {
    this.ranges = ranges
      .map((r) => ({ first: r.base / PAGE_SIZE, count: r.size / PAGE_SIZE, used: new Uint8Array(r.size / PAGE_SIZE), free: r.size / PAGE_SIZE }))
      .sort((a, b) => a.first - b.first);
  }

  /** Free pages. */
  get freePages(): number {
    return this.ranges.reduce((n, r) => n + r.free, 0);
  }

  /** Total pages. */
  get totalPages(): number {
    return this.ranges.reduce((n, r) => n + r.count, 0);
  }

  /** Allocates one page from the top of RAM; returns its frame number, or -1 when none is free. */
  allocatePage(): number {
    for (let i = this.ranges.length - 1; i >= 0; i--) {
      const r = this.ranges[i];
      if (r.free === 0) continue;
      for (let p = r.count - 1; p >= 0; p--) {
        if (r.used[p] === 0) {
          r.used[p] = 1;
          r.free--;
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

  /** Frees a page. Returns false if it was not allocated. */
  freePage(pfn: number): boolean {
    for (const r of this.ranges) {
      if (pfn >= r.first && pfn < r.first + r.count) {
        if (r.used[pfn - r.first] === 0) return false;
        r.used[pfn - r.first] = 0;
        r.free++;
        return true;
      }
    }
    return false;
  }
}
