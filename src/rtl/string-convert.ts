/**
 * Conversions of counted strings: RtlUnicodeStringToAnsiString, RtlAnsiStringToUnicodeString
 * (the ANSI code page is ISO-8859-1, see guest-text.ts), RtlIntegerToUnicodeString and
 * RtlUnicodeStringToInteger. A destination allocated by a conversion comes from paged
 * pool (STRING_POOL_TAG) and is freed with RtlFreeAnsiString / RtlFreeUnicodeString.
 */
import {
  STATUS_BUFFER_OVERFLOW, STATUS_INVALID_PARAMETER, STATUS_INVALID_PARAMETER_2, STATUS_NO_MEMORY, STATUS_SUCCESS, type NTSTATUS,
} from "../ke/ntstatus.js";
import { writeU16 } from "../mm/memory.js";
import { ExAllocatePoolWithTag, POOL_TYPE } from "../mm/pool.js";
import { WCHAR_SIZE, writeAnsi, writeWide } from "./guest-text.js";
import {
  ANSI_STRING, ansiStringText, MAX_USTRING, STRING_POOL_TAG, terminateAnsiIfRoom, UNICODE_STRING, unicodeStringText,
} from "./unicode-string.js";

/**
 * RtlUnicodeStringToAnsiString: converts `SourceString` into `DestinationString`. With
 * `AllocateDestinationString` the buffer (length + 1 bytes, null-terminated) is
 * allocated: STATUS_NO_MEMORY when it cannot be. Otherwise the caller's buffer is used:
 * when the characters do not fit, as many as leave room for a null are converted and
 * the status is STATUS_BUFFER_OVERFLOW. A result longer than a counted string can be is
 * STATUS_INVALID_PARAMETER_2.
 */
export function RtlUnicodeStringToAnsiString(DestinationString: ANSI_STRING, SourceString: UNICODE_STRING, AllocateDestinationString: boolean): NTSTATUS {
  let text = unicodeStringText(SourceString);
  if (text.length + 1 > MAX_USTRING + 1) return STATUS_INVALID_PARAMETER_2;
  let status = STATUS_SUCCESS;
  if (AllocateDestinationString) {
    const buffer = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, text.length + 1, STRING_POOL_TAG);
    if (buffer === 0) return STATUS_NO_MEMORY;
    DestinationString.Buffer = buffer;
    DestinationString.MaximumLength = text.length + 1;
  } else if (text.length + 1 > DestinationString.MaximumLength) {
    if (DestinationString.MaximumLength === 0) return STATUS_BUFFER_OVERFLOW;
    text = text.slice(0, DestinationString.MaximumLength - 1);
    status = STATUS_BUFFER_OVERFLOW;
  }
  writeAnsi(DestinationString.Buffer, text);
  DestinationString.Length = text.length;
  terminateAnsiIfRoom(DestinationString);
  return status;
}

/**
 * RtlAnsiStringToUnicodeString: converts `SourceString` into `DestinationString`. With
 * `AllocateDestinationString` the buffer (null-terminated) is allocated: STATUS_NO_MEMORY
 * when it cannot be. Otherwise the characters must fit the caller's MaximumLength
 * (STATUS_BUFFER_OVERFLOW, nothing written, when they do not); a null follows when there
 * is room. A result longer than a counted string can be is STATUS_INVALID_PARAMETER_2.
 */
export function RtlAnsiStringToUnicodeString(DestinationString: UNICODE_STRING, SourceString: ANSI_STRING, AllocateDestinationString: boolean): NTSTATUS {
  const text = ansiStringText(SourceString);
  const bytes = text.length * WCHAR_SIZE;
  if (bytes + WCHAR_SIZE > MAX_USTRING + 1) return STATUS_INVALID_PARAMETER_2;
  if (AllocateDestinationString) {
    const buffer = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, bytes + WCHAR_SIZE, STRING_POOL_TAG);
    if (buffer === 0) return STATUS_NO_MEMORY;
    DestinationString.Buffer = buffer;
    DestinationString.MaximumLength = bytes + WCHAR_SIZE;
  } else if (bytes > DestinationString.MaximumLength) {
    return STATUS_BUFFER_OVERFLOW;
  }
  writeWide(DestinationString.Buffer, text);
  DestinationString.Length = bytes;
  if (bytes + WCHAR_SIZE <= DestinationString.MaximumLength) writeU16(DestinationString.Buffer + bytes, 0);
  return STATUS_SUCCESS;
}

/** The bases RtlIntegerToUnicodeString and RtlUnicodeStringToInteger accept (0 means 10, or a prefix's base). */
const BASES = new Set([0, 2, 8, 10, 16]);

/**
 * RtlIntegerToUnicodeString: writes the ULONG `Value` in `Base` (2, 8, 10 or 16; 0 means
 * 10; hex digits uppercase) into `String`'s buffer, sets Length and null-terminates when
 * there is room. STATUS_INVALID_PARAMETER for another base; STATUS_BUFFER_OVERFLOW, with
 * nothing written, when the digits do not fit MaximumLength.
 */
export function RtlIntegerToUnicodeString(Value: number, Base: number, String: UNICODE_STRING): NTSTATUS {
  if (!BASES.has(Base)) return STATUS_INVALID_PARAMETER;
  const digits = (Value >>> 0).toString(Base === 0 ? 10 : Base).toUpperCase();
  const bytes = digits.length * WCHAR_SIZE;
  if (bytes > String.MaximumLength) return STATUS_BUFFER_OVERFLOW;
  writeWide(String.Buffer, digits);
  String.Length = bytes;
  if (bytes + WCHAR_SIZE <= String.MaximumLength) writeU16(String.Buffer + bytes, 0);
  return STATUS_SUCCESS;
}

/** The value of digit character `c` in `base`, or -1. */
function digitValue(c: number, base: number): number {
  const v = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x41 + 10 : c >= 0x61 && c <= 0x66 ? c - 0x61 + 10 : -1;
  return v >= 0 && v < base ? v : -1;
}

/**
 * RtlUnicodeStringToInteger: the number `String` represents, as a ULONG (a leading '-'
 * negates it, modulo 2^32). White space is skipped, then an optional sign; with `Base` 0
 * a "0x", "0o" or "0b" prefix picks 16, 8 or 2 (10 otherwise). Digits end at the first
 * character not valid in the base; no digits gives 0. STATUS_INVALID_PARAMETER for an
 * empty string or a base other than 0, 2, 8, 10 and 16.
 */
export function RtlUnicodeStringToInteger(String: UNICODE_STRING, Base: number): { status: NTSTATUS; Value: number } {
  if (!BASES.has(Base) || String.Length === 0) return { status: STATUS_INVALID_PARAMETER, Value: 0 };
  const text = unicodeStringText(String);
  let i = 0;
  while (i < text.length && text.charCodeAt(i) <= 0x20) i++;
  let negative = false;
  if (text[i] === "-" || text[i] === "+") negative = text[i++] === "-";
  let base = Base;
  if (base === 0) {
    base = 10;
    if (text[i] === "0" && i + 1 < text.length) {
      const prefix = text[i + 1].toLowerCase();
      const prefixed = prefix === "x" ? 16 : prefix === "o" ? 8 : prefix === "b" ? 2 : 0;
      if (prefixed !== 0) {
        base = prefixed;
        i += 2;
      }
    }
  }
  let value = 0;
  for (; i < text.length; i++) {
    const d = digitValue(text.charCodeAt(i), base);
    if (d < 0) break;
    value = (value * base + d) % 2 ** 32;
  }
  return { status: STATUS_SUCCESS, Value: (negative ? -value : value) >>> 0 };
}
