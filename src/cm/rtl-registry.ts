/**
 * The run-time library's registry routines: RtlQueryRegistryValues, RtlWriteRegistryValue,
 * RtlDeleteRegistryValue, RtlCheckRegistryKey and RtlCreateRegistryKey, with the path
 * relative to one of the RTL_REGISTRY_* roots (or a key handle).
 *
 * In TypeScript, a query table is an array of RTL_QUERY_REGISTRY_TABLE entries (an entry
 * with neither QueryRoutine nor Name ends it early, as the C table's zeroed entry does).
 * A QueryRoutine receives ValueData as a guest address of the data (valid during the
 * call). For RTL_QUERY_REGISTRY_DIRECT, EntryContext is what C's pointer points at: a
 * UNICODE_STRING for string values (a NULL Buffer gets one allocated from paged pool, freed
 * with RtlFreeUnicodeString), the guest address of a ULONG (or of a buffer whose first
 * LONG is minus its size, for data larger than a ULONG), or a holder `{ value }` that
 * receives the value as a number, string or bytes.
 */
import { KE, type Kernel } from "../ke/kernel.js";
import { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import {
  NT_SUCCESS, STATUS_BUFFER_TOO_SMALL, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER, STATUS_OBJECT_NAME_NOT_FOUND,
  STATUS_OBJECT_TYPE_MISMATCH, STATUS_SUCCESS, type NTSTATUS,
} from "../ke/ntstatus.js";
import { readBytes, writeBytes, readU32 } from "../mm/memory.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../mm/pool.js";
import type { HANDLE } from "../ob/handle-table.js";
import { ObReferenceObjectByHandle } from "../ob/handles.js";
import { dereference } from "../ob/reference.js";
import { OB } from "../ob/manager.js";
import { STRING_POOL_TAG, unicodeStringOrText, UNICODE_STRING } from "../rtl/unicode-string.js";
import type { CM_KEY } from "./key.js";
import { CM, splitPath } from "./registry.js";
import { decodeValue, encodeValue, REG_DWORD, REG_EXPAND_SZ, REG_MULTI_SZ, REG_NONE, REG_SZ, utf16, fromMultiSz, multiSz, type RegistryData } from "./value-types.js";
import { CmKeyObjectType, type CM_KEY_BODY } from "./zw.js";

// RelativeTo.
export const RTL_REGISTRY_ABSOLUTE = 0;
export const RTL_REGISTRY_SERVICES = 1;
export const RTL_REGISTRY_CONTROL = 2;
export const RTL_REGISTRY_WINDOWS_NT = 3;
export const RTL_REGISTRY_DEVICEMAP = 4;
export const RTL_REGISTRY_USER = 5;
export const RTL_REGISTRY_MAXIMUM = 6;
/** RelativeTo flag: Path is a key handle. */
export const RTL_REGISTRY_HANDLE = 0x40000000;
/** RelativeTo flag: a missing key is not an error. */
export const RTL_REGISTRY_OPTIONAL = 0x80000000;

// Query table flags.
export const RTL_QUERY_REGISTRY_SUBKEY = 0x00000001;
export const RTL_QUERY_REGISTRY_TOPKEY = 0x00000002;
export const RTL_QUERY_REGISTRY_REQUIRED = 0x00000004;
export const RTL_QUERY_REGISTRY_NOVALUE = 0x00000008;
export const RTL_QUERY_REGISTRY_NOEXPAND = 0x00000010;
export const RTL_QUERY_REGISTRY_DIRECT = 0x00000020;
export const RTL_QUERY_REGISTRY_DELETE = 0x00000040;
export const RTL_QUERY_REGISTRY_TYPECHECK = 0x00000100;
/** Where a TYPECHECK entry puts the expected REG_* type in DefaultType. */
export const RTL_QUERY_REGISTRY_TYPECHECK_SHIFT = 24;

/** The roots RelativeTo names. */
const ROOTS: Readonly<Record<number, string>> = {
  [RTL_REGISTRY_SERVICES]: "\\Registry\\Machine\\System\\CurrentControlSet\\Services",
  [RTL_REGISTRY_CONTROL]: "\\Registry\\Machine\\System\\CurrentControlSet\\Control",
  [RTL_REGISTRY_WINDOWS_NT]: "\\Registry\\Machine\\Software\\Microsoft\\Windows NT\\CurrentVersion",
  [RTL_REGISTRY_DEVICEMAP]: "\\Registry\\Machine\\Hardware\\DeviceMap",
  [RTL_REGISTRY_USER]: "\\Registry\\User\\.Default",
};

/** QueryRoutine(ValueName, ValueType, ValueData, ValueLength, Context, EntryContext). */
export type PRTL_QUERY_REGISTRY_ROUTINE = (ValueName: string, ValueType: number, ValueData: number, ValueLength: number, Context: unknown, EntryContext: unknown) => NTSTATUS;

/** A DIRECT entry's target when it is not a guest address or a UNICODE_STRING. */
export interface RegistryValueHolder {
  value: RegistryData | null;
}

/** RTL_QUERY_REGISTRY_TABLE. */
export interface RTL_QUERY_REGISTRY_TABLE {
  QueryRoutine?: PRTL_QUERY_REGISTRY_ROUTINE | null;
  Flags?: number;
  /** The value name (or the subkey, with RTL_QUERY_REGISTRY_SUBKEY); null: every value. */
  Name?: UNICODE_STRING | string | null;
  EntryContext?: number | UNICODE_STRING | RegistryValueHolder | null;
  DefaultType?: number;
  /** A guest address of the default data, or the value itself (number, string, strings). */
  DefaultData?: number | string | string[] | null;
  /** Bytes of the default data at DefaultData (0 for a string: up to its NUL). */
  DefaultLength?: number;
}

/** The key RelativeTo and Path name, or the status why not. */
function keyAt(k: Kernel, RelativeTo: number, Path: UNICODE_STRING | string | HANDLE | null): { status: NTSTATUS; key: CM_KEY | null } {
  const registry = CM(k);
  if ((RelativeTo & RTL_REGISTRY_HANDLE) !== 0) {
    const r = ObReferenceObjectByHandle<CM_KEY_BODY>(Path as HANDLE, 0, CmKeyObjectType, KPROCESSOR_MODE.KernelMode);
    if (!NT_SUCCESS(r.status) || !r.Object) return { status: r.status, key: null };
    void dereference(k, OB(k).headerOf(r.Object)!);
    return { status: STATUS_SUCCESS, key: r.Object.key };
  }
  const base = RelativeTo & ~RTL_REGISTRY_OPTIONAL;
  const path = Path === null ? "" : unicodeStringOrText(Path as UNICODE_STRING | string);
  const full = base === RTL_REGISTRY_ABSOLUTE ? path : ROOTS[base] !== undefined ? (path ? `${ROOTS[base]}\\${path.replace(/^\\/, "")}` : ROOTS[base]) : null;
  if (full === null || (base === RTL_REGISTRY_ABSOLUTE && !full.startsWith("\\")) || !splitPath(full)) return { status: STATUS_INVALID_PARAMETER, key: null };
  const key = registry.find(full);
  return key ? { status: STATUS_SUCCESS, key } : { status: STATUS_OBJECT_NAME_NOT_FOUND, key: null };
}

/** Calls `routine` with the data staged in pool (the routine sees a guest address). */
function callRoutine(routine: PRTL_QUERY_REGISTRY_ROUTINE, name: string, type: number, data: Uint8Array, Context: unknown, EntryContext: unknown): NTSTATUS {
  const va = data.length > 0 ? ExAllocatePoolWithTag(POOL_TYPE.PagedPool, data.length, "RtlQ") : 0;
  if (data.length > 0 && va === 0) return STATUS_INSUFFICIENT_RESOURCES;
  try {
    if (va !== 0) writeBytes(va, data);
    return routine(name, type, va, data.length, Context, EntryContext);
  } finally {
    if (va !== 0) ExFreePoolWithTag(va, "RtlQ");
  }
}

/** Stores a value for a DIRECT entry. */
function storeDirect(target: RTL_QUERY_REGISTRY_TABLE["EntryContext"], type: number, data: Uint8Array): NTSTATUS {
  if (target instanceof UNICODE_STRING) {
    if (type !== REG_SZ && type !== REG_EXPAND_SZ && type !== REG_MULTI_SZ) return STATUS_OBJECT_TYPE_MISMATCH;
    // A string up to its NUL; REG_MULTI_SZ whole, its strings' NULs included (Length stops before the final one).
    const text = type === REG_MULTI_SZ ? multiSz(fromMultiSz(data)).subarray(0, -2) : utf16(decodeValue(REG_SZ, data) as string, false);
    const bytes = text.length + 2;
    if (target.Buffer === 0) {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, bytes, STRING_POOL_TAG);
      if (va === 0) return STATUS_INSUFFICIENT_RESOURCES;
      target.Buffer = va;
      target.MaximumLength = bytes;
    } else if (bytes > target.MaximumLength) return STATUS_BUFFER_TOO_SMALL;
    const terminated = new Uint8Array(bytes);
    terminated.set(text);
    writeBytes(target.Buffer, terminated);
    target.Length = text.length;
    return STATUS_SUCCESS;
  }
  if (typeof target === "number") {
    if (data.length <= 4) {
      const word = new Uint8Array(4);
      word.set(data);
      writeBytes(target, word);
      return STATUS_SUCCESS;
    }
    const room = -(readU32(target) | 0);
    if (room < data.length) return STATUS_BUFFER_TOO_SMALL;
    writeBytes(target, data);
    return STATUS_SUCCESS;
  }
  if (target && typeof target === "object") {
    target.value = decodeValue(type, data);
    return STATUS_SUCCESS;
  }
  return STATUS_INVALID_PARAMETER;
}

/** The default data of an entry, as stored bytes. */
function defaultBytes(e: RTL_QUERY_REGISTRY_TABLE): Uint8Array {
  const d = e.DefaultData;
  if (typeof d === "number") {
    if (e.DefaultType === REG_DWORD && !e.DefaultLength) return encodeValue(REG_DWORD, d);
    return readBytes(d, e.DefaultLength ?? 0);
  }
  if (d === null || d === undefined) return new Uint8Array(0);
  return encodeValue(e.DefaultType ?? REG_NONE, d);
}

/** Hands one value to an entry: the routine (a REG_MULTI_SZ string by string unless NOEXPAND) or the DIRECT target. */
function deliver(e: RTL_QUERY_REGISTRY_TABLE, name: string, type: number, data: Uint8Array, Context: unknown): NTSTATUS {
  const flags = e.Flags ?? 0;
  if ((flags & RTL_QUERY_REGISTRY_DIRECT) !== 0) return storeDirect(e.EntryContext, type, data);
  const routine = e.QueryRoutine;
  if (!routine) return STATUS_INVALID_PARAMETER;
  if (type === REG_MULTI_SZ && (flags & RTL_QUERY_REGISTRY_NOEXPAND) === 0) {
    for (const s of fromMultiSz(data)) {
      const status = callRoutine(routine, name, REG_SZ, utf16(s, true), Context, e.EntryContext);
      if (!NT_SUCCESS(status)) return status;
    }
    return STATUS_SUCCESS;
  }
  return callRoutine(routine, name, type, data, Context, e.EntryContext);
}

/**
 * RtlQueryRegistryValues(RelativeTo, Path, QueryTable, Context, Environment): runs the
 * query table against the key (see the file comment). A missing key is
 * STATUS_OBJECT_NAME_NOT_FOUND (STATUS_SUCCESS with RTL_REGISTRY_OPTIONAL); a REQUIRED
 * value that is missing (and has no default) STATUS_OBJECT_NAME_NOT_FOUND; a TYPECHECK
 * entry whose value has another type STATUS_OBJECT_TYPE_MISMATCH; an error a QueryRoutine
 * returns ends the query with it. PASSIVE_LEVEL.
 */
export function RtlQueryRegistryValues(RelativeTo: number, Path: UNICODE_STRING | string | HANDLE | null, QueryTable: readonly RTL_QUERY_REGISTRY_TABLE[], Context: unknown, _Environment: unknown = null): NTSTATUS {
  const k = KE();
  const top = keyAt(k, RelativeTo, Path);
  if (!top.key) return (RelativeTo & RTL_REGISTRY_OPTIONAL) !== 0 && top.status === STATUS_OBJECT_NAME_NOT_FOUND ? STATUS_SUCCESS : top.status;
  const registry = CM(k);
  let key: CM_KEY | null = top.key;
  for (const e of QueryTable) {
    const flags = e.Flags ?? 0;
    const name = e.Name === null || e.Name === undefined ? null : unicodeStringOrText(e.Name);
    if (!e.QueryRoutine && name === null && (flags & (RTL_QUERY_REGISTRY_SUBKEY | RTL_QUERY_REGISTRY_TOPKEY)) === 0) break;
    if ((flags & RTL_QUERY_REGISTRY_TOPKEY) !== 0) key = top.key;
    if ((flags & RTL_QUERY_REGISTRY_SUBKEY) !== 0) {
      key = name === null ? top.key : registry.resolve(top.key, splitPath(name) ?? []).key;
      if (!key) {
        if ((flags & RTL_QUERY_REGISTRY_REQUIRED) !== 0) return STATUS_OBJECT_NAME_NOT_FOUND;
        continue;
      }
      if (!e.QueryRoutine) continue;
    }
    if (!key) continue;
    if (name === null) {
      // Every value of the key, in order; NOVALUE calls the routine once even when there are none.
      let any = false;
      for (const v of [...key.values.values()]) {
        any = true;
        const status = deliver(e, v.name, v.type, v.data, Context);
        if (!NT_SUCCESS(status)) return status;
        if ((flags & RTL_QUERY_REGISTRY_DELETE) !== 0) registry.deleteValue(key, v.name);
      }
      if (!any && (flags & RTL_QUERY_REGISTRY_NOVALUE) !== 0 && e.QueryRoutine) {
        const status = e.QueryRoutine("", REG_NONE, 0, 0, Context, e.EntryContext);
        if (!NT_SUCCESS(status)) return status;
      }
      continue;
    }
    const value = key.value(name);
    if (value) {
      if ((flags & RTL_QUERY_REGISTRY_TYPECHECK) !== 0 && value.type !== ((e.DefaultType ?? 0) >>> RTL_QUERY_REGISTRY_TYPECHECK_SHIFT)) return STATUS_OBJECT_TYPE_MISMATCH;
      const status = deliver(e, value.name, value.type, value.data, Context);
      if (!NT_SUCCESS(status)) return status;
      if ((flags & RTL_QUERY_REGISTRY_DELETE) !== 0) registry.deleteValue(key, value.name);
      continue;
    }
    const defaultType = (e.DefaultType ?? REG_NONE) & 0xFFFFFF;
    if (defaultType !== REG_NONE) {
      const status = deliver(e, name, defaultType, defaultBytes(e), Context);
      if (!NT_SUCCESS(status)) return status;
    } else if ((flags & RTL_QUERY_REGISTRY_REQUIRED) !== 0) {
      return STATUS_OBJECT_NAME_NOT_FOUND;
    } else if ((flags & RTL_QUERY_REGISTRY_NOVALUE) !== 0 && e.QueryRoutine) {
      const status = e.QueryRoutine(name, REG_NONE, 0, 0, Context, e.EntryContext);
      if (!NT_SUCCESS(status)) return status;
    }
  }
  return STATUS_SUCCESS;
}

/**
 * RtlWriteRegistryValue(RelativeTo, Path, ValueName, ValueType, ValueData, ValueLength):
 * sets a value of an existing key (STATUS_OBJECT_NAME_NOT_FOUND when the key is missing);
 * ValueData is a guest address of ValueLength bytes, or the bytes themselves.
 */
export function RtlWriteRegistryValue(RelativeTo: number, Path: UNICODE_STRING | string | HANDLE, ValueName: UNICODE_STRING | string, ValueType: number, ValueData: number | Uint8Array, ValueLength: number): NTSTATUS {
  const k = KE();
  const { status, key } = keyAt(k, RelativeTo & ~RTL_REGISTRY_OPTIONAL, Path);
  if (!key) return status;
  const data = typeof ValueData === "number" ? (ValueLength > 0 ? readBytes(ValueData, ValueLength) : new Uint8Array(0)) : ValueData.slice(0, ValueLength);
  return CM(k).setValue(key, unicodeStringOrText(ValueName), ValueType, data);
}

/** RtlDeleteRegistryValue(RelativeTo, Path, ValueName): STATUS_OBJECT_NAME_NOT_FOUND when the key or the value is missing. */
export function RtlDeleteRegistryValue(RelativeTo: number, Path: UNICODE_STRING | string | HANDLE, ValueName: UNICODE_STRING | string): NTSTATUS {
  const k = KE();
  const { status, key } = keyAt(k, RelativeTo & ~RTL_REGISTRY_OPTIONAL, Path);
  return key ? CM(k).deleteValue(key, unicodeStringOrText(ValueName)) : status;
}

/** RtlCheckRegistryKey(RelativeTo, Path): STATUS_SUCCESS when the key exists, else STATUS_OBJECT_NAME_NOT_FOUND. */
export function RtlCheckRegistryKey(RelativeTo: number, Path: UNICODE_STRING | string): NTSTATUS {
  return keyAt(KE(), RelativeTo & ~RTL_REGISTRY_OPTIONAL, Path).status;
}

/** RtlCreateRegistryKey(RelativeTo, Path): makes the key, and any missing key on the way to it (RTL_REGISTRY_HANDLE is not allowed: STATUS_INVALID_PARAMETER). */
export function RtlCreateRegistryKey(RelativeTo: number, Path: UNICODE_STRING | string): NTSTATUS {
  const k = KE();
  const base = RelativeTo & ~RTL_REGISTRY_OPTIONAL;
  if ((RelativeTo & RTL_REGISTRY_HANDLE) !== 0 || (base !== RTL_REGISTRY_ABSOLUTE && ROOTS[base] === undefined)) return STATUS_INVALID_PARAMETER;
  const path = unicodeStringOrText(Path);
  const full = base === RTL_REGISTRY_ABSOLUTE ? path : `${ROOTS[base]}\\${path.replace(/^\\/, "")}`;
  const parts = splitPath(full);
  if (!parts || parts.length === 0 || parts[0].toUpperCase() !== "REGISTRY") return STATUS_INVALID_PARAMETER;
  const registry = CM(k);
  let key = registry.root;
  for (const part of parts.slice(1)) {
    const r = registry.create(key, [part], "", 0);
    if (!r.key) return r.status;
    key = r.key;
  }
  return STATUS_SUCCESS;
}
