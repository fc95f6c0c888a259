/**
 * A first-fit allocator of address ranges with a fixed alignment, used for system
 * virtual address regions (pool, I/O space, contiguous mappings). Frees coalesce. The
 * free ranges are kept sorted in two parallel arrays, edited in place, so allocating and
 * freeing create no objects.
 */
export class RangeAllocator {
  /** Starts and ends of the free ranges [start, end), sorted by start. */
  private readonly starts: number[];
  private readonly ends: number[];

  constructor(readonly start: number, readonly end: number, readonly alignment: number) {
    this.starts = [start];
    this.ends = [end];
  }

  /** Allocates `size` bytes aligned to `align` (a multiple of the base alignment); -1 if none fit. */
  allocate(size: number, align = this.alignment): number {
    const bytes = Math.ceil(size / this.alignment) * this.alignment;
    const starts = this.starts;
    const ends = this.ends;
    for (let i = 0; i < starts.length; i++) {
      const s = starts[i];
      const e = ends[i];
      const a = Math.ceil(s / align) * align;
      if (a + bytes > e) continue;
      const before = a > s;
      const after = a + bytes < e;
      if (before && after) {
        ends[i] = a;
        starts.splice(i + 1, 0, a + bytes);
        ends.splice(i + 1, 0, e);
      } else if (before) {
        ends[i] = a;
      } else if (after) {
        starts[i] = a + bytes;
      } else {
        starts.splice(i, 1);
        ends.splice(i, 1);
      }
      return a;
    }
    return -1;
  }

  /** Returns [address, address + size) to the free list. */
  release(address: number, size: number): void {
    const bytes = Math.ceil(size / this.alignment) * this.alignment;
    const starts = this.starts;
    const ends = this.ends;
    const n = starts.length;
    let i = 0;
    while (i < n && starts[i] < address) i++;
    const end = address + bytes;
    const joinsBefore = i > 0 && ends[i - 1] === address;
    const joinsAfter = i < n && starts[i] === end;
    if (joinsBefore && joinsAfter) {
      ends[i - 1] = ends[i];
      starts.splice(i, 1);
      ends.splice(i, 1);
    } else if (joinsBefore) {
      ends[i - 1] = end;
    } else if (joinsAfter) {
      starts[i] = address;
    } else {
      starts.splice(i, 0, address);
      ends.splice(i, 0, end);
    }
  }

  /** Bytes in use. */
  get used(): number {
    let free = 0;
    for (let i = 0; i < this.starts.length; i++) free += this.ends[i] - this.starts[i];
    return this.end - this.start - free;
  }
}
