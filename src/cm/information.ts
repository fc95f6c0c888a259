/**
 * What ZwQueryKey, ZwEnumerateKey, ZwQueryValueKey and ZwEnumerateValueKey write into the
 * caller's buffer: the KEY_*_INFORMATION and KEY_VALUE_*_INFORMATION structures in their
 * x64 layout (little-endian, names in UTF-16 without a NUL). The size rules are Windows':
 * a buffer shorter than the structure's fixed part gets nothing and STATUS_BUFFER_TOO_SMALL;
 * one that holds the fixed part but not the names and data gets what fits and
 * STATUS_BUFFER_OVERFLOW; either way ResultLength is the size the whole answer needs.
 */
import {
  STATUS_BUFFER_OVERFLOW, STATUS_BUFFER_TOO_SMALL, STATUS_INVALID_PARAMETER, STATUS_SUCCESS, type NTSTATUS,
} from "../ke/ntstatus.js";
import type { CM_KEY, CM_KEY_VALUE } from "./key.js";
import { utf16 } from "./value-types.js";

/** KEY_INFORMATION_CLASS. */
export enum KEY_INFORMATION_CLASS {
  KeyBasicInformation = 0,
  KeyNodeInformation = 1,
  KeyFullInformation = 2,
  KeyNameInformation = 3,
  KeyCachedInformation = 4,
  KeyFlagsInformation = 5,
  KeyVirtualizationInformation = 6,
  KeyHandleTagsInformation = 7,
  KeyTrustInformation = 8,
  KeyLayerInformation = 9,
}

/** KEY_VALUE_INFORMATION_CLASS. */
export enum KEY_VALUE_INFORMATION_CLASS {
  KeyValueBasicInformation = 0,
  KeyValueFullInformation = 1,
  KeyValuePartialInformation = 2,
  KeyValueFullInformationAlign64 = 3,
  KeyValuePartialInformationAlign64 = 4,
  KeyValueLayerInformation = 5,
}

/** An answer: the bytes to copy to the caller's buffer (at most its length), the status and ResultLength. */
export interface InformationResult {
  status: NTSTATUS;
  /** What to write at the start of the caller's buffer (empty on STATUS_BUFFER_TOO_SMALL). */
  bytes: Uint8Array;
  /** Bytes the whole structure needs. */
  ResultLength: number;
}

/** Fixed-part sizes (FIELD_OFFSET of the variable part), bytes. */
export const KEY_BASIC_INFORMATION_NAME = 16;
export const KEY_NODE_INFORMATION_NAME = 24;
export const KEY_FULL_INFORMATION_CLASS = 44;
export const KEY_NAME_INFORMATION_NAME = 4;
export const KEY_CACHED_INFORMATION_SIZE = 40;
export const KEY_VALUE_BASIC_INFORMATION_NAME = 12;
export const KEY_VALUE_FULL_INFORMATION_NAME = 20;
export const KEY_VALUE_PARTIAL_INFORMATION_DATA = 12;
export const KEY_VALUE_PARTIAL_INFORMATION_ALIGN64_DATA = 8;

/** A structure being laid out: fixed fields, then variable parts at given offsets. */
class Layout {
  readonly full: Uint8Array;
  readonly view: DataView;
  constructor(size: number) {
    this.full = new Uint8Array(size);
    this.view = new DataView(this.full.buffer);
  }
  u32(offset: number, value: number): this {
    this.view.setUint32(offset, value >>> 0, true);
    return this;
  }
  /** A LARGE_INTEGER (a number below 2^53). */
  time(offset: number, t: number): this {
    this.view.setUint32(offset, t % 2 ** 32, true);
    this.view.setUint32(offset + 4, Math.floor(t / 2 ** 32), true);
    return this;
  }
  put(offset: number, bytes: Uint8Array): this {
    this.full.set(bytes, offset);
    return this;
  }
}

/** The answer for a caller's buffer of `length` bytes, given the structure's fixed part and whole layout. */
function answer(layout: Layout, fixed: number, length: number): InformationResult {
  const needed = layout.full.length;
  if (length < fixed) return { status: STATUS_BUFFER_TOO_SMALL, bytes: new Uint8Array(0), ResultLength: needed };
  if (length < needed) return { status: STATUS_BUFFER_OVERFLOW, bytes: layout.full.subarray(0, length), ResultLength: needed };
  return { status: STATUS_SUCCESS, bytes: layout.full, ResultLength: needed };
}

const alignUp = (n: number, to: number) => Math.ceil(n / to) * to;

/** ClassOffset of a key with no class (KEY_NODE_INFORMATION / KEY_FULL_INFORMATION), as Windows reports it. */
export const NO_CLASS_OFFSET = 0xFFFFFFFF;

/**
 * KEY_*_INFORMATION of `key` for a buffer of `length` bytes. ZwEnumerateKey takes the
 * basic, node and full classes; ZwQueryKey these and the name and cached classes; other
 * classes are STATUS_INVALID_PARAMETER here.
 */
export function keyInformation(key: CM_KEY, cls: KEY_INFORMATION_CLASS, length: number): InformationResult {
  const name = utf16(key.name, false);
  const klass = utf16(key.Class, false);
  switch (cls) {
    case KEY_INFORMATION_CLASS.KeyBasicInformation: {
      const l = new Layout(KEY_BASIC_INFORMATION_NAME + name.length).time(0, key.LastWriteTime).u32(8, 0).u32(12, name.length).put(16, name);
      return answer(l, KEY_BASIC_INFORMATION_NAME, length);
    }
    case KEY_INFORMATION_CLASS.KeyNodeInformation: {
      const classOffset = klass.length > 0 ? KEY_NODE_INFORMATION_NAME + name.length : NO_CLASS_OFFSET;
      const l = new Layout(KEY_NODE_INFORMATION_NAME + name.length + klass.length)
        .time(0, key.LastWriteTime).u32(8, 0).u32(12, classOffset).u32(16, klass.length).u32(20, name.length)
        .put(KEY_NODE_INFORMATION_NAME, name).put(KEY_NODE_INFORMATION_NAME + name.length, klass);
      return answer(l, KEY_NODE_INFORMATION_NAME, length);
    }
    case KEY_INFORMATION_CLASS.KeyFullInformation: {
      const l = new Layout(KEY_FULL_INFORMATION_CLASS + klass.length)
        .time(0, key.LastWriteTime).u32(8, 0).u32(12, klass.length > 0 ? KEY_FULL_INFORMATION_CLASS : NO_CLASS_OFFSET).u32(16, klass.length)
        .u32(20, key.subkeyCount).u32(24, key.maxSubkeyNameBytes).u32(28, key.maxSubkeyClassBytes)
        .u32(32, key.values.size).u32(36, key.maxValueNameBytes).u32(40, key.maxValueDataBytes)
        .put(KEY_FULL_INFORMATION_CLASS, klass);
      return answer(l, KEY_FULL_INFORMATION_CLASS, length);
    }
    case KEY_INFORMATION_CLASS.KeyNameInformation: {
      const path = utf16(key.path, false);
      const l = new Layout(KEY_NAME_INFORMATION_NAME + path.length).u32(0, path.length).put(KEY_NAME_INFORMATION_NAME, path);
      return answer(l, KEY_NAME_INFORMATION_NAME, length);
    }
    case KEY_INFORMATION_CLASS.KeyCachedInformation: {
      const l = new Layout(KEY_CACHED_INFORMATION_SIZE)
        .time(0, key.LastWriteTime).u32(8, 0).u32(12, key.subkeyCount).u32(16, key.maxSubkeyNameBytes)
        .u32(20, key.values.size).u32(24, key.maxValueNameBytes).u32(28, key.maxValueDataBytes).u32(32, name.length);
      return answer(l, KEY_CACHED_INFORMATION_SIZE, length);
    }
    default:
      return { status: STATUS_INVALID_PARAMETER, bytes: new Uint8Array(0), ResultLength: 0 };
  }
}

/**
 * KEY_VALUE_*_INFORMATION of `value` for a buffer of `length` bytes. In the full classes
 * the data follows the name at DataOffset, aligned to 4 bytes (8 for the Align64 class).
 * KeyValueLayerInformation and unknown classes are STATUS_INVALID_PARAMETER.
 */
export function valueInformation(value: CM_KEY_VALUE, cls: KEY_VALUE_INFORMATION_CLASS, length: number): InformationResult {
  const name = utf16(value.name, false);
  const data = value.data;
  switch (cls) {
    case KEY_VALUE_INFORMATION_CLASS.KeyValueBasicInformation: {
      const l = new Layout(KEY_VALUE_BASIC_INFORMATION_NAME + name.length).u32(0, 0).u32(4, value.type).u32(8, name.length).put(KEY_VALUE_BASIC_INFORMATION_NAME, name);
      return answer(l, KEY_VALUE_BASIC_INFORMATION_NAME, length);
    }
    case KEY_VALUE_INFORMATION_CLASS.KeyValueFullInformation:
    case KEY_VALUE_INFORMATION_CLASS.KeyValueFullInformationAlign64: {
      const align = cls === KEY_VALUE_INFORMATION_CLASS.KeyValueFullInformation ? 4 : 8;
      const dataOffset = alignUp(KEY_VALUE_FULL_INFORMATION_NAME + name.length, align);
      const l = new Layout(dataOffset + data.length)
        .u32(0, 0).u32(4, value.type).u32(8, dataOffset).u32(12, data.length).u32(16, name.length)
        .put(KEY_VALUE_FULL_INFORMATION_NAME, name).put(dataOffset, data);
      return answer(l, KEY_VALUE_FULL_INFORMATION_NAME, length);
    }
    case KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation: {
      const l = new Layout(KEY_VALUE_PARTIAL_INFORMATION_DATA + data.length).u32(0, 0).u32(4, value.type).u32(8, data.length).put(KEY_VALUE_PARTIAL_INFORMATION_DATA, data);
      return answer(l, KEY_VALUE_PARTIAL_INFORMATION_DATA, length);
    }
    case KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformationAlign64: {
      const l = new Layout(KEY_VALUE_PARTIAL_INFORMATION_ALIGN64_DATA + data.length).u32(0, value.type).u32(4, data.length).put(KEY_VALUE_PARTIAL_INFORMATION_ALIGN64_DATA, data);
      return answer(l, KEY_VALUE_PARTIAL_INFORMATION_ALIGN64_DATA, length);
    }
    default:
      return { status: STATUS_INVALID_PARAMETER, bytes: new Uint8Array(0), ResultLength: 0 };
  }
}
