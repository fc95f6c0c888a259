/**
 * The IRPs allocated and not yet freed (for !irpfind, !irp and leak checks): a list
 * threaded through the IRPs themselves, so allocating and freeing one costs two pointer
 * updates and no hashing. Iterates oldest first.
 */

/** What the list threads through. */
export interface LiveLink<T> {
  liveNext: T | null;
  livePrev: T | null;
  isLive: boolean;
}

/** The live IRPs: add, delete, has, size and iteration, as a Set of them offers. */
export class LiveIrps<T extends LiveLink<T>> implements Iterable<T> {
  private head: T | null = null;
  private tail: T | null = null;
  /** How many are live. */
  size = 0;

  /** Adds an IRP that is not live. */
  add(irp: T): this {
    if (irp.isLive) return this;
    irp.isLive = true;
    irp.liveNext = null;
    irp.livePrev = this.tail;
    if (this.tail) this.tail.liveNext = irp;
    else this.head = irp;
    this.tail = irp;
    this.size++;
    return this;
  }

  /** Removes an IRP; false when it was not live. */
  delete(irp: T): boolean {
    if (!irp.isLive) return false;
    irp.isLive = false;
    if (irp.livePrev) irp.livePrev.liveNext = irp.liveNext;
    else this.head = irp.liveNext;
    if (irp.liveNext) irp.liveNext.livePrev = irp.livePrev;
    else this.tail = irp.livePrev;
    irp.liveNext = null;
    irp.livePrev = null;
    this.size--;
    return true;
  }

  /** True when `irp` is live. */
  has(irp: T): boolean {
    return irp.isLive;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.head; i; i = i.liveNext) yield i;
  }
}
