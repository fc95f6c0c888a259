/**
 * Freed objects kept for reuse, first in, first out, each reused only once `quarantine`
 * others have been freed after it: a driver that still holds a freed IRP or
 * scatter/gather list for a short while finds it as it left it (and the verifier can
 * still recognise it as freed), as Windows' lookaside lists and special pool delay reuse.
 */
export class QuarantineRing<T extends object> {
  private readonly ring: (T | null)[];
  private head = 0;
  private count = 0;

  /** `quarantine`: frees that must follow one before it is reused; `limit`: most kept (more are left to the garbage collector). */
  constructor(private readonly quarantine: number, private readonly limit: number) {
    this.ring = new Array<T | null>(limit).fill(null);
  }

  /** Keeps a freed `item` (dropped when the ring is full). */
  put(item: T): void {
    if (this.count === this.limit) return;
    this.ring[(this.head + this.count) % this.limit] = item;
    this.count++;
  }

  /** The oldest freed item once more than the quarantine wait, else null. */
  take(): T | null {
    if (this.count <= this.quarantine) return null;
    const item = this.ring[this.head];
    this.ring[this.head] = null;
    this.head = (this.head + 1) % this.limit;
    this.count--;
    return item;
  }
}
