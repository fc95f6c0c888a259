/**
 * Registry value types (REG_*) and their data as the configuration manager stores it: raw
 * bytes, little-endian, strings in UTF-16LE with their terminating NUL (REG_MULTI_SZ with
 * one NUL per string and a final empty string). Values are kept exactly as written: a
 * REG_SZ set without its NUL is read back without one, as on Windows.
 */

import { decodeWide, encodeWide } from "../rtl/guest-text.js";

/** No defined value type. */
export const REG_NONE = 0;
/** A NUL-terminated UTF-16 string. */
export const REG_SZ = 1;
/** A NUL-terminated UTF-16 string with unexpanded %VARIABLE% references. */
export const REG_EXPAND_SZ = 2;
/** Binary data. */
export const REG_BINARY = 3;
/** A 32-bit number, little-endian. */
export const REG_DWORD = 4;
/** A 32-bit number, little-endian (REG_DWORD). */
export const REG_DWORD_LITTLE_ENDIAN = 4;
/** A 32-bit number, big-endian. */
export const REG_DWORD_BIG_ENDIAN = 5;
/** A symbolic link (UTF-16, no NUL) in a key created with REG_OPTION_CREATE_LINK. */
export const REG_LINK = 6;
/** A sequence of NUL-terminated UTF-16 strings ending with an empty string. */
export const REG_MULTI_SZ = 7;
/** A resource list (CM_RESOURCE_LIST). */
export const REG_RESOURCE_LIST = 8;
/** A full resource descriptor (CM_FULL_RESOURCE_DESCRIPTOR). */
export const REG_FULL_RESOURCE_DESCRIPTOR = 9;
/** A resource requirements list (IO_RESOURCE_REQUIREMENTS_LIST). */
export const REG_RESOURCE_REQUIREMENTS_LIST = 10;
/** A 64-bit number, little-endian. */
export const REG_QWORD = 11;
/** A 64-bit number, little-endian (REG_QWORD). */
export const REG_QWORD_LITTLE_ENDIAN = 11;

const TYPE_NAMES = [
  "REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD", "REG_DWORD_BIG_ENDIAN", "REG_LINK", "REG_MULTI_SZ",
  "REG_RESOURCE_LIST", "REG_FULL_RESOURCE_DESCRIPTOR", "REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD",
];

/** The REG_* name of a value type, or its number in hex. */
export function regTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `0x${type.toString(16)}`;
}

/** The REG_* number of a type name ("REG_SZ", "REG_DWORD", ...), or -1. */
export function regTypeOf(name: string): number {
  return TYPE_NAMES.indexOf(name);
}

/** UTF-16LE bytes of `s`, with a terminating NUL when `terminate`. */
export function utf16(s: string, terminate: boolean): Uint8Array {
  return encodeWide(terminate ? `${s}\0` : s);
}

/** The string in UTF-16LE bytes, up to the first NUL (or the end; an odd last byte is ignored). */
export function fromUtf16(bytes: Uint8Array): string {
  const text = decodeWide(bytes);
  const nul = text.indexOf("\0");
  return nul < 0 ? text : text.slice(0, nul);
}

/** The strings of REG_MULTI_SZ data (up to the first empty string). */
export function fromMultiSz(bytes: Uint8Array): string[] {
  const out: string[] = [];
  for (const s of decodeWide(bytes).split("\0")) {
    if (s === "") break;
    out.push(s);
  }
  return out;
}

/** REG_MULTI_SZ data of `strings`: each NUL-terminated, then the final NUL. */
export function multiSz(strings: readonly string[]): Uint8Array {
  return utf16(strings.map((s) => `${s}\0`).join(""), true);
}

/** REG_DWORD data. */
export function dword(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, true);
  return out;
}

/** REG_QWORD data (a value up to 2^53). */
export function qword(value: number): Uint8Array {
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  v.setUint32(0, value % 2 ** 32, true);
  v.setUint32(4, Math.floor(value / 2 ** 32), true);
  return out;
}

/** A value as host code sees it: the number of a REG_DWORD/QWORD, the string(s) of the string types, else the bytes. */
export type RegistryData = number | string | string[] | Uint8Array;

/**
 * The stored bytes of `data` as a value of `type`: numbers for REG_DWORD, REG_DWORD_BIG_ENDIAN
 * and REG_QWORD; a string (terminated here) for REG_SZ, REG_EXPAND_SZ and REG_LINK (not
 * terminated); strings for REG_MULTI_SZ; bytes for anything. Throws a TypeError naming the
 * mismatch otherwise.
 */
export function encodeValue(type: number, data: RegistryData): Uint8Array {
  if (data instanceof Uint8Array) return data.slice();
  switch (type) {
    case REG_DWORD:
    case REG_DWORD_BIG_ENDIAN:
      if (typeof data === "number" && Number.isInteger(data) && data >= -(2 ** 31) && data < 2 ** 32) {
        const out = dword(data);
        return type === REG_DWORD ? out : out.reverse();
      }
      break;
    case REG_QWORD:
      if (typeof data === "number" && Number.isSafeInteger(data) && data >= 0) return qword(data);
      break;
    case REG_SZ:
    case REG_EXPAND_SZ:
      if (typeof data === "string") return utf16(data, true);
      break;
    case REG_LINK:
      if (typeof data === "string") return utf16(data, false);
      break;
    case REG_MULTI_SZ:
      if (Array.isArray(data)) return multiSz(data);
      break;
  }
  throw new TypeError(`${regTypeName(type)} data cannot be ${Array.isArray(data) ? "a list of strings" : typeof data === "number" ? `the number ${data}` : typeof data}`);
}

/** The stored bytes of a value of `type` as host code sees it (see RegistryData). */
export function decodeValue(type: number, bytes: Uint8Array): RegistryData {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case REG_DWORD: if (bytes.length === 4) return v.getUint32(0, true); break;
    case REG_DWORD_BIG_ENDIAN: if (bytes.length === 4) return v.getUint32(0, false); break;
    case REG_QWORD: if (bytes.length === 8) return v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32; break;
    case REG_SZ:
    case REG_EXPAND_SZ:
    case REG_LINK:
      return fromUtf16(bytes);
    case REG_MULTI_SZ:
      return fromMultiSz(bytes);
  }
  return bytes.slice();
}
