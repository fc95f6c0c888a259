/**
 * A first-fit allocator of address ranges with a fixed alignment, used for system
 * virtual address regions (pool, I/O space, contiguous mappings). Frees coalesce.
 */
export class RangeAllocator {
  /** Free ranges [start, end), sorted. */
  private readonly free: [number, number][];

  constructor(readonly start: number, readonly end: number, readonly alignment: number) {
    this.free = [[start, end]];
  }

  /** Allocates `size` bytes aligned to `align` (a multiple of the base alignment); -1 if none fit. */
  allocate(size: number, align = this.alignment): number {
    const bytes = Math.ceil(size / this.alignment) * this.alignment;
    for (let i = 0; i < this.free.length; i++) {
      const [s, e] = this.free[i];
      const a = Math.ceil(s / align) * align;
      if (a + bytes > e) continue;
      const pieces: [number, number][] = [];
      if (a > s) pieces.push([s, a]);
      if (a + bytes < e) pieces.push([a + bytes, e]);
      this.free.splice(i, 1, ...pieces);
      return a;
    }
    return -1;
  }

  /** Returns [address, address + size) to the free list. */
  release(address: number, size: number): void {
    const bytes = Math.ceil(size / this.alignment) * this.alignment;
    let i = 0;
    while (i < this.free.length && this.free[i][0] < address) i++;
    this.free.splice(i, 0, [address, address + bytes]);
    // Coalesce with neighbours.
    if (i + 1 < this.free.length && this.free[i][1] === this.free[i + 1][0]) {
      this.free[i][1] = this.free[i + 1][1];
      this.free.splice(i + 1, 1);
    }
    if (i > 0 && this.free[i - 1][1] === this.free[i][0]) {
      this.free[i - 1][1] = this.free[i][1];
      this.free.splice(i, 1);
    }
  }

  /** Bytes in use. */
  get used(): number {
    return this.end - this.start - this.free.reduce((n, [s, e]) => n + e - s, 0);
  }
}
