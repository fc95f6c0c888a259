/**
 * A registry key as the configuration manager keeps it: its name as created, its class,
 * its values in the order they were first set, and its subkeys, which enumerate in the
 * order Windows keeps them in a hive's subkey index: by upper-cased name.
 */
import type { RegistryData } from "./value-types.js";
import { decodeValue } from "./value-types.js";

/** Longest key name component, characters. */
export const MAX_KEY_NAME_CHARS = 255;
/** Longest value name, characters. */
export const MAX_VALUE_NAME_CHARS = 16383;

/** A value of a key. */
export class CM_KEY_VALUE {
  constructor(
    /** Name as first set ("" is the key's default value). */
    readonly name: string,
    /** REG_* type. */
    public type: number,
    /** Data bytes, as stored. */
    public data: Uint8Array,
  ) {}

  /** The data as host code reads it (number, string, strings or bytes). */
  get decoded(): RegistryData {
    return decodeValue(this.type, this.data);
  }
}

/** The case-insensitive form of a key or value name (Windows compares names upper-cased). */
export function nameKey(name: string): string {
  return name.toUpperCase();
}

/** A registry key. */
export class CM_KEY {
  /** Subkeys by upper-cased name. */
  private readonly children = new Map<string, CM_KEY>();
  /** Subkeys sorted by upper-cased name, made on demand. */
  private sorted: CM_KEY[] | null = null;
  /** Values by upper-cased name, in the order first set. */
  readonly values = new Map<string, CM_KEY_VALUE>();
  /** Last change of the key or its values, system time (100 ns units; KeQuerySystemTime). */
  LastWriteTime: number;
  /** True once ZwDeleteKey removed it (handles still open see STATUS_KEY_DELETED). */
  deleted = false;
  /** Kernel-space address of the key node (for inspection). */
  address = 0;

  constructor(
    /** Name as created. */
    readonly name: string,
    readonly parent: CM_KEY | null,
    /** Class name, "" for none. */
    readonly Class: string,
    /** REG_OPTION_VOLATILE: not kept across reboots (its subkeys must be volatile too). */
    readonly volatile: boolean,
    /** REG_OPTION_CREATE_LINK: a symbolic link key (its SymbolicLinkValue names the target). */
    readonly isLink: boolean,
    time: number,
  ) {
    this.LastWriteTime = time;
  }

  /** The full path, "\\REGISTRY\\MACHINE\\...". */
  get path(): string {
    const parts: string[] = [];
    for (let k: CM_KEY | null = this; k; k = k.parent) parts.push(k.name);
    return `\\${parts.reverse().join("\\")}`;
  }

  /** The subkey named `name` (any case), if any. */
  child(name: string): CM_KEY | undefined {
    return this.children.get(nameKey(name));
  }

  /** Adds a subkey (the caller checked that none has its name). */
  addChild(child: CM_KEY): void {
    this.children.set(nameKey(child.name), child);
    this.sorted = null;
  }

  /** Removes a subkey. */
  removeChild(child: CM_KEY): void {
    this.children.delete(nameKey(child.name));
    this.sorted = null;
  }

  /** Number of subkeys. */
  get subkeyCount(): number {
    return this.children.size;
  }

  /** Subkey `index` in enumeration order (by upper-cased name), if any. */
  subkeyAt(index: number): CM_KEY | undefined {
    if (!this.sorted) this.sorted = [...this.children.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1]);
    return this.sorted[index];
  }

  /** The subkeys in enumeration order. */
  subkeys(): CM_KEY[] {
    const out: CM_KEY[] = [];
    for (let i = 0; i < this.subkeyCount; i++) out.push(this.subkeyAt(i)!);
    return out;
  }

  /** Value `index` in enumeration order (the order values were first set), if any. */
  valueAt(index: number): CM_KEY_VALUE | undefined {
    let i = 0;
    for (const v of this.values.values()) if (i++ === index) return v;
    return undefined;
  }

  /** The value named `name` (any case; "" is the default value), if any. */
  value(name: string): CM_KEY_VALUE | undefined {
    return this.values.get(nameKey(name));
  }

  /** Longest subkey name, bytes of UTF-16 (KEY_FULL_INFORMATION.MaxNameLen). */
  get maxSubkeyNameBytes(): number {
    return largest(this.children.values(), (c) => c.name.length * 2);
  }

  /** Longest subkey class name, bytes (MaxClassLen). */
  get maxSubkeyClassBytes(): number {
    return largest(this.children.values(), (c) => c.Class.length * 2);
  }

  /** Longest value name, bytes (MaxValueNameLen). */
  get maxValueNameBytes(): number {
    return largest(this.values.values(), (v) => v.name.length * 2);
  }

  /** Largest value data, bytes (MaxValueDataLen). */
  get maxValueDataBytes(): number {
    return largest(this.values.values(), (v) => v.data.length);
  }
}

/** The largest `size(item)` over `items`, 0 for none. */
function largest<T>(items: Iterable<T>, size: (item: T) => number): number {
  let n = 0;
  for (const item of items) n = Math.max(n, size(item));
  return n;
}
