/**
 * A log kept for later inspection in bounded memory: at most `capacity` entries, either
 * the first ones offered (later ones are counted, not kept) or the latest ones (a ring:
 * the oldest make room), and always how many were dropped.
 */

/** Which entries a full log keeps. */
export type BoundedLogKeep = "first" | "latest";

/** A log of at most `capacity` entries that counts what it did not keep. */
export class BoundedLog<T> {
  private readonly items: T[] = [];
  /** Index in `items` of the oldest entry once a "latest" log has wrapped. */
  private head = 0;
  /** Entries offered but not kept (or overwritten). */
  dropped = 0;

  constructor(
    /** Entries kept at most. */
    readonly capacity: number,
    readonly keep: BoundedLogKeep,
  ) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError(`a bounded log needs a capacity of at least 1, not ${capacity}`);
  }

  /**
   * Offers entries that belong together (the lines of one message): a "first" log keeps
   * all of them if they fit and none otherwise; a "latest" log keeps each, dropping the oldest.
   */
  add(...entries: T[]): void {
    if (this.keep === "first") {
      if (this.items.length + entries.length <= this.capacity) this.items.push(...entries);
      else this.dropped += entries.length;
      return;
    }
    for (const e of entries) {
      if (this.items.length < this.capacity) {
        this.items.push(e);
        continue;
      }
      this.items[this.head] = e;
      this.head = (this.head + 1) % this.capacity;
      this.dropped++;
    }
  }

  /** Entries kept. */
  get length(): number {
    return this.items.length;
  }

  /** Entries offered in all, kept or not. */
  get offered(): number {
    return this.items.length + this.dropped;
  }

  /** The entries kept, oldest first (a copy). */
  entries(): T[] {
    return [...this.items.slice(this.head), ...this.items.slice(0, this.head)];
  }
}
