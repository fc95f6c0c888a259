/**
 * The configuration manager's key tree for one machine: `\REGISTRY\MACHINE` (SYSTEM with
 * ControlSet001 and the CurrentControlSet link to it, HARDWARE, SOFTWARE) and
 * `\REGISTRY\USER`. Paths are case-insensitive and case-preserving; a link key
 * (REG_OPTION_CREATE_LINK, with its target in the REG_LINK value "SymbolicLinkValue") is
 * followed when a path goes through it, and opened itself only with REG_OPTION_OPEN_LINK
 * as the last component. Every key lives in memory: the machine's registry is built at
 * boot from the machine file's presets and the driver packages, and ends with the run.
 *
 * The Zw routines (src/cm/zw.ts) reach keys through handles; host code (boot, tests, the
 * debugger) uses the path-based methods here.
 */
import type { Kernel } from "../ke/kernel.js";
import { KeQuerySystemTime } from "../ke/time.js";
import { REGISTRY_SPACE_START } from "../mm/manager.js";
import {
  STATUS_CANNOT_DELETE, STATUS_CHILD_MUST_BE_VOLATILE, STATUS_KEY_DELETED, STATUS_OBJECT_NAME_INVALID, STATUS_OBJECT_NAME_NOT_FOUND,
  STATUS_SUCCESS, type NTSTATUS,
} from "../ke/ntstatus.js";
import { CM_KEY, CM_KEY_VALUE, MAX_KEY_NAME_CHARS, MAX_VALUE_NAME_CHARS, nameKey } from "./key.js";
import { decodeValue, encodeValue, fromUtf16, REG_LINK, type RegistryData } from "./value-types.js";

/** ZwCreateKey CreateOptions: a key kept across reboots (the default). */
export const REG_OPTION_NON_VOLATILE = 0x0;
/** ZwCreateKey CreateOptions: a key kept in memory only. */
export const REG_OPTION_VOLATILE = 0x1;
/** ZwCreateKey CreateOptions: the key is a symbolic link. */
export const REG_OPTION_CREATE_LINK = 0x2;
/** ZwCreateKey CreateOptions: open for backup or restore. */
export const REG_OPTION_BACKUP_RESTORE = 0x4;
/** ZwOpenKeyEx / ZwCreateKey OpenOptions: open a link key itself rather than its target. */
export const REG_OPTION_OPEN_LINK = 0x8;
/** The CreateOptions ZwCreateKey knows. */
export const REG_LEGAL_OPTION = REG_OPTION_VOLATILE | REG_OPTION_CREATE_LINK | REG_OPTION_BACKUP_RESTORE | REG_OPTION_OPEN_LINK;

/** ZwCreateKey Disposition: a new key was created. */
export const REG_CREATED_NEW_KEY = 1;
/** ZwCreateKey Disposition: an existing key was opened. */
export const REG_OPENED_EXISTING_KEY = 2;

/** The value of a link key that holds its target path (REG_LINK). */
export const SYMBOLIC_LINK_VALUE = "SymbolicLinkValue";

/** Bytes of a key node (CM_KEY_NODE on x64), for its address. */
const KEY_NODE_BYTES = 0x50;
/** Bytes of a hive's header (HHIVE), for its address. */
const HIVE_BYTES = 0x600;

/** Most link keys followed while resolving one path (a loop of links fails). */
const MAX_LINK_HOPS = 16;

/** `\REGISTRY\MACHINE\SYSTEM\ControlSet001`, the control set CurrentControlSet points at. */
export const CONTROL_SET = "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001";
/** `\REGISTRY\MACHINE\SYSTEM\CurrentControlSet`. */
export const CURRENT_CONTROL_SET = "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet";
/** Where a service's key lives: `...\CurrentControlSet\Services\<name>`. */
export const SERVICES_KEY = `${CURRENT_CONTROL_SET}\\Services`;
/** Device instance keys: `...\CurrentControlSet\Enum\<instance path>`. */
export const ENUM_KEY = `${CURRENT_CONTROL_SET}\\Enum`;
/** Setup class keys: `...\CurrentControlSet\Control\Class\{guid}`. */
export const CLASS_KEY = `${CURRENT_CONTROL_SET}\\Control\\Class`;

/** A key found or made, or why not. */
export interface KeyResult {
  status: NTSTATUS;
  key: CM_KEY | null;
  /** REG_CREATED_NEW_KEY or REG_OPENED_EXISTING_KEY (create only). */
  disposition: number;
}

/** The components of a registry path ("\\A\\B" or "A\\B"); null when one is empty or too long. */
export function splitPath(path: string): string[] | null {
  if (path === "" || path === "\\") return [];
  const parts = (path.startsWith("\\") ? path.slice(1) : path).split("\\");
  if (parts[parts.length - 1] === "") parts.pop();
  for (const p of parts) if (p === "" || p.length > MAX_KEY_NAME_CHARS) return null;
  return parts;
}

/** The registry of one machine. */
export class Registry {
  /** `\REGISTRY`. */
  readonly root: CM_KEY;

  /** Kernel-space address of the machine's (one) hive, for inspection. */
  readonly hiveAddress: number;

  /**
   * `now()` gives system time (100 ns units) for LastWriteTime; `address(bytes)` a
   * kernel-space address for a new object (the hive and each key node).
   */
  constructor(private readonly now: () => number, private readonly address: (bytes: number) => number = () => 0) {
    this.hiveAddress = address(HIVE_BYTES);
    this.root = this.newKey("REGISTRY", null, "", false, false);
    for (const path of [
      "\\REGISTRY\\MACHINE\\HARDWARE\\DESCRIPTION\\System", "\\REGISTRY\\MACHINE\\HARDWARE\\DEVICEMAP", "\\REGISTRY\\MACHINE\\SOFTWARE",
      `${CONTROL_SET}\\Services`, `${CONTROL_SET}\\Enum`, `${CONTROL_SET}\\Control\\Class`, "\\REGISTRY\\USER",
    ]) this.ensure(path);
    const system = this.find("\\REGISTRY\\MACHINE\\SYSTEM")!;
    const link = this.newKey("CurrentControlSet", system, "", false, true);
    system.addChild(link);
    link.values.set(nameKey(SYMBOLIC_LINK_VALUE), new CM_KEY_VALUE(SYMBOLIC_LINK_VALUE, REG_LINK, encodeValue(REG_LINK, CONTROL_SET)));
  }

  /**
   * Resolves `parts` below `from`, following link keys (a link as the last component is
   * returned itself when `openLink`). The key, or STATUS_OBJECT_NAME_NOT_FOUND.
   */
  resolve(from: CM_KEY, parts: readonly string[], openLink = false): KeyResult {
    let key = from;
    let hops = 0;
    for (let i = 0; i < parts.length; i++) {
      if (key.deleted) return { status: STATUS_KEY_DELETED, key: null, disposition: 0 };
      const next = key.child(parts[i]);
      if (!next) return { status: STATUS_OBJECT_NAME_NOT_FOUND, key: null, disposition: 0 };
      key = next;
      if (key.isLink && !(openLink && i === parts.length - 1)) {
        if (++hops > MAX_LINK_HOPS) return { status: STATUS_OBJECT_NAME_NOT_FOUND, key: null, disposition: 0 };
        const target = key.value(SYMBOLIC_LINK_VALUE);
        const targetParts = target && target.type === REG_LINK ? splitPath(fromUtf16(target.data)) : null;
        const resolved = targetParts && targetParts[0] && nameKey(targetParts[0]) === "REGISTRY" ? this.resolve(this.root, targetParts.slice(1)) : null;
        if (!resolved || !resolved.key) return { status: STATUS_OBJECT_NAME_NOT_FOUND, key: null, disposition: 0 };
        key = resolved.key;
      }
    }
    return { status: STATUS_SUCCESS, key, disposition: REG_OPENED_EXISTING_KEY };
  }

  /**
   * Opens or creates the key at `parts` below `from`: every component but the last must
   * exist (else STATUS_OBJECT_NAME_NOT_FOUND); the last is created with `Class` and
   * `options` when missing. A non-volatile key cannot go under a volatile one
   * (STATUS_CHILD_MUST_BE_VOLATILE).
   */
  create(from: CM_KEY, parts: readonly string[], Class: string, options: number): KeyResult {
    if (parts.length === 0) return { status: STATUS_SUCCESS, key: from, disposition: REG_OPENED_EXISTING_KEY };
    const parent = this.resolve(from, parts.slice(0, -1));
    if (!parent.key) return parent;
    if (parent.key.deleted) return { status: STATUS_KEY_DELETED, key: null, disposition: 0 };
    const last = parts[parts.length - 1];
    const existing = parent.key.child(last);
    if (existing) {
      if (existing.isLink && (options & REG_OPTION_OPEN_LINK) === 0) return this.resolve(parent.key, [last]);
      return { status: STATUS_SUCCESS, key: existing, disposition: REG_OPENED_EXISTING_KEY };
    }
    const volatile = (options & REG_OPTION_VOLATILE) !== 0;
    if (!volatile && parent.key.volatile) {
      return { status: STATUS_CHILD_MUST_BE_VOLATILE, key: null, disposition: 0 };
    }
    const key = this.newKey(last, parent.key, Class, volatile, (options & REG_OPTION_CREATE_LINK) !== 0);
    parent.key.addChild(key);
    parent.key.LastWriteTime = key.LastWriteTime;
    return { status: STATUS_SUCCESS, key, disposition: REG_CREATED_NEW_KEY };
  }

  private newKey(name: string, parent: CM_KEY | null, Class: string, volatile: boolean, isLink: boolean): CM_KEY {
    const key = new CM_KEY(name, parent, Class, volatile, isLink, this.now());
    key.address = this.address(KEY_NODE_BYTES);
    return key;
  }

  /** Deletes a key that has no subkeys (STATUS_CANNOT_DELETE otherwise); open handles see it deleted. */
  deleteKey(key: CM_KEY): NTSTATUS {
    if (key.deleted) return STATUS_KEY_DELETED;
    if (key.subkeyCount > 0 || !key.parent) return STATUS_CANNOT_DELETE;
    key.parent.removeChild(key);
    key.parent.LastWriteTime = this.now();
    key.deleted = true;
    return STATUS_SUCCESS;
  }

  /** Sets a value's type and bytes (a new value goes after the key's others). */
  setValue(key: CM_KEY, name: string, type: number, data: Uint8Array): NTSTATUS {
    if (key.deleted) return STATUS_KEY_DELETED;
    if (name.length > MAX_VALUE_NAME_CHARS) return STATUS_OBJECT_NAME_INVALID;
    const existing = key.value(name);
    if (existing) {
      existing.type = type;
      existing.data = data;
    } else {
      key.values.set(nameKey(name), new CM_KEY_VALUE(name, type, data));
    }
    key.LastWriteTime = this.now();
    return STATUS_SUCCESS;
  }

  /** Deletes a value (STATUS_OBJECT_NAME_NOT_FOUND when the key has none by that name). */
  deleteValue(key: CM_KEY, name: string): NTSTATUS {
    if (key.deleted) return STATUS_KEY_DELETED;
    if (!key.values.delete(nameKey(name))) return STATUS_OBJECT_NAME_NOT_FOUND;
    key.LastWriteTime = this.now();
    return STATUS_SUCCESS;
  }

  // ---- path-based helpers for host code -------------------------------------------------

  /** The key at a full path ("\\REGISTRY\\..."), following links; undefined when missing or malformed. */
  find(path: string): CM_KEY | undefined {
    const parts = splitPath(path);
    if (!parts || parts.length === 0 || nameKey(parts[0]) !== "REGISTRY") return undefined;
    return this.resolve(this.root, parts.slice(1)).key ?? undefined;
  }

  /** The key at a full path, created with any missing parents (non-volatile, no class). Throws on a malformed path. */
  ensure(path: string): CM_KEY {
    const parts = splitPath(path);
    if (!parts || parts.length === 0 || nameKey(parts[0]) !== "REGISTRY") throw new Error(`not a registry path: ${path}`);
    let key = this.root;
    for (const part of parts.slice(1)) {
      const r = this.create(key, [part], "", REG_OPTION_NON_VOLATILE);
      if (!r.key) throw new Error(`cannot create ${path}: 0x${(r.status >>> 0).toString(16)}`);
      key = r.key;
    }
    return key;
  }

  /** Sets a value at a full key path (the key made if missing) from host data (see encodeValue). */
  set(path: string, name: string, type: number, data: RegistryData): void {
    const status = this.setValue(this.ensure(path), name, type, encodeValue(type, data));
    if (status !== STATUS_SUCCESS) throw new Error(`cannot set ${path}\\${name}: 0x${(status >>> 0).toString(16)}`);
  }

  /** A value at a full key path as host code reads it, or undefined. */
  get(path: string, name: string): RegistryData | undefined {
    const v = this.find(path)?.value(name);
    return v ? decodeValue(v.type, v.data) : undefined;
  }
}

/** The machine's registry (made on first use). */
export function CM(k: Kernel): Registry {
  let r = k.services.get("cm") as Registry | undefined;
  if (!r) {
    let next = REGISTRY_SPACE_START;
    r = new Registry(KeQuerySystemTime, (bytes) => {
      const a = next;
      next += (bytes + 15) & ~15;
      return a;
    });
    k.services.set("cm", r);
  }
  return r;
}
