/**
 * OBJECT_DIRECTORY: a directory of the object namespace, holding named objects (devices,
 * drivers, symbolic links, events, other directories). Names compare without regard to
 * case, as on a Windows installation (the kernel's ObCaseInsensitive default), and keep
 * the case they were created with.
 */
import type { OBJECT_HEADER } from "./header.js";

/** Hash buckets of a directory (NUMBER_HASH_BUCKETS), as !object lists them. */
export const NUMBER_HASH_BUCKETS = 37;

/** A directory object's body. */
export class OBJECT_DIRECTORY {
  /** The directory's own header (set once the object manager has made it an object). */
  header!: OBJECT_HEADER;
  /** Entries by lower-case name. */
  private readonly entries = new Map<string, OBJECT_HEADER>();

  /** The object named `name` in this directory, or undefined. */
  lookup(name: string): OBJECT_HEADER | undefined {
    return this.entries.get(name.toLowerCase());
  }

  /** Puts `object` in the directory under `name` (the caller checked the name is free). */
  insert(name: string, object: OBJECT_HEADER): void {
    this.entries.set(name.toLowerCase(), object);
    object.Name = name;
    object.Directory = this;
  }

  /** Takes `object`'s name out of the directory. */
  remove(object: OBJECT_HEADER): void {
    if (this.entries.get(object.Name.toLowerCase()) === object) this.entries.delete(object.Name.toLowerCase());
    object.Directory = null;
  }

  /** The entries, in the order they were inserted. */
  objects(): IterableIterator<OBJECT_HEADER> {
    return this.entries.values();
  }

  /** Number of entries. */
  get count(): number {
    return this.entries.size;
  }
}

/**
 * The hash bucket !object shows an entry in: the name's characters, upper-cased, folded
 * into a 32-bit value (h = h * 31 + c), modulo NUMBER_HASH_BUCKETS.
 */
export function directoryBucket(name: string): number {
  let h = 0;
  const upper = name.toUpperCase();
  for (let i = 0; i < upper.length; i++) h = (Math.imul(h, 31) + upper.charCodeAt(i)) >>> 0;
  return h % NUMBER_HASH_BUCKETS;
}
