/**
 * Counted strings: UNICODE_STRING and ANSI_STRING, with RtlInitUnicodeString,
 * RtlInitAnsiString, RtlCopyUnicodeString, RtlAppendUnicodeToString,
 * RtlAppendUnicodeStringToString, RtlCompareUnicodeString, RtlEqualUnicodeString,
 * RtlUpcaseUnicodeChar, RtlCreateUnicodeString, RtlFreeUnicodeString, RtlFreeAnsiString
 * and RTL_CONSTANT_STRING.
 *
 * The structure is a TypeScript object; its characters live in guest memory at Buffer
 * (UTF-16LE for Unicode). Length and MaximumLength are in bytes; Length excludes any
 * terminating null, which counted strings need not have. Strings these routines allocate
 * come from paged pool, tagged STRING_POOL_TAG, and are freed with RtlFreeUnicodeString /
 * RtlFreeAnsiString (so they need IRQL <= APC_LEVEL, as the pool rules say).
 *
 * For a TypeScript driver: pass a JS string where C passes L"..." (a literal, see
 * guest-text.ts); unicodeStringFromText allocates a UNICODE_STRING holding any JS string,
 * and unicodeStringText / ansiStringText read one back.
 */
import { STATUS_BUFFER_TOO_SMALL, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import { RtlMoveMemory, writeU16, writeU8, type PVOID } from "../mm/memory.js";
import { ExAllocatePoolWithTag, ExFreePool, POOL_TYPE } from "../mm/pool.js";
import {
  ansiLiteral, ansiText, readAnsi, readWide, WCHAR_SIZE, wideLiteral, wideText, writeWide, type PCSTR, type PCWSTR,
} from "./guest-text.js";

/** UNICODE_STRING: a counted string of wide characters in guest memory. */
export class UNICODE_STRING {
  /** Bytes of characters (no terminator). */
  Length = 0;
  /** Bytes of Buffer. */
  MaximumLength = 0;
  /** Guest address of the characters (0: NULL). */
  Buffer: PVOID = 0;
}

/** ANSI_STRING (STRING): a counted string of 8-bit characters in guest memory. */
export class ANSI_STRING {
  /** Bytes of characters (no terminator). */
  Length = 0;
  /** Bytes of Buffer. */
  MaximumLength = 0;
  /** Guest address of the characters (0: NULL). */
  Buffer: PVOID = 0;
}

/** The largest Length a counted string can have, bytes (MaximumLength is a USHORT). */
export const MAX_USTRING = 0xFFFE;
/** The pool tag of the strings the Rtl routines allocate. */
export const STRING_POOL_TAG = "Strg";

/**
 * RtlInitUnicodeString: points `DestinationString` at the null-terminated `SourceString`
 * (a guest address or a literal): Length is its length in bytes, MaximumLength that plus
 * the terminator; NULL gives an empty string with a NULL Buffer. Nothing is copied.
 */
export function RtlInitUnicodeString(DestinationString: UNICODE_STRING, SourceString: PCWSTR | null): void {
  if (SourceString === null || SourceString === 0) {
    DestinationString.Length = DestinationString.MaximumLength = 0;
    DestinationString.Buffer = 0;
    return;
  }
  const text = wideText(SourceString, MAX_USTRING / WCHAR_SIZE);
  const length = Math.min(text.length * WCHAR_SIZE, MAX_USTRING - WCHAR_SIZE);
  DestinationString.Buffer = typeof SourceString === "string" ? wideLiteral(SourceString) : SourceString;
  DestinationString.Length = length;
  DestinationString.MaximumLength = length + WCHAR_SIZE;
}

/** RtlInitAnsiString: as RtlInitUnicodeString, for an ANSI string (lengths in bytes = characters). */
export function RtlInitAnsiString(DestinationString: ANSI_STRING, SourceString: PCSTR | null): void {
  if (SourceString === null || SourceString === 0) {
    DestinationString.Length = DestinationString.MaximumLength = 0;
    DestinationString.Buffer = 0;
    return;
  }
  const length = Math.min(ansiText(SourceString, MAX_USTRING).length, MAX_USTRING - 1);
  DestinationString.Buffer = typeof SourceString === "string" ? ansiLiteral(SourceString) : SourceString;
  DestinationString.Length = length;
  DestinationString.MaximumLength = length + 1;
}

/** RTL_CONSTANT_STRING: a UNICODE_STRING for a literal (Length its bytes, MaximumLength with the terminator). */
export function RTL_CONSTANT_STRING(Text: string): UNICODE_STRING {
  const s = new UNICODE_STRING();
  RtlInitUnicodeString(s, Text);
  return s;
}

/** The text of a UNICODE_STRING (its Length bytes). */
export function unicodeStringText(String: UNICODE_STRING): string {
  return String.Buffer === 0 ? "" : readWide(String.Buffer, String.Length >>> 1);
}

/**
 * The text of a name a routine takes as a PUNICODE_STRING: a UNICODE_STRING (its Length
 * bytes), or a JS string standing for one (TypeScript drivers may pass either).
 */
export function unicodeStringOrText(Name: UNICODE_STRING | string): string {
  return typeof Name === "string" ? Name : unicodeStringText(Name);
}

/** The text of an ANSI_STRING (its Length bytes). */
export function ansiStringText(String: ANSI_STRING): string {
  return String.Buffer === 0 ? "" : readAnsi(String.Buffer, String.Length);
}

/**
 * A UNICODE_STRING holding `text`, null-terminated, in pool of `PoolType` (paged by
 * default) tagged STRING_POOL_TAG; null when the pool is exhausted or `text` is longer
 * than a counted string can be. Free it with RtlFreeUnicodeString.
 */
export function unicodeStringFromText(text: string, PoolType: POOL_TYPE = POOL_TYPE.PagedPool): UNICODE_STRING | null {
  const length = text.length * WCHAR_SIZE;
  if (length > MAX_USTRING - WCHAR_SIZE) return null;
  const buffer = ExAllocatePoolWithTag(PoolType, length + WCHAR_SIZE, STRING_POOL_TAG);
  if (buffer === 0) return null;
  writeWide(buffer, text);
  writeU16(buffer + length, 0);
  const s = new UNICODE_STRING();
  s.Buffer = buffer;
  s.Length = length;
  s.MaximumLength = length + WCHAR_SIZE;
  return s;
}

/**
 * RtlCreateUnicodeString: a copy of the null-terminated `SourceString` in paged pool,
 * null-terminated; returns TRUE, or FALSE when it cannot be allocated. Free it with
 * RtlFreeUnicodeString.
 */
export function RtlCreateUnicodeString(DestinationString: UNICODE_STRING, SourceString: PCWSTR): boolean {
  const made = unicodeStringFromText(wideText(SourceString, MAX_USTRING / WCHAR_SIZE));
  if (!made) return false;
  DestinationString.Buffer = made.Buffer;
  DestinationString.Length = made.Length;
  DestinationString.MaximumLength = made.MaximumLength;
  return true;
}

/** RtlFreeUnicodeString: frees a string an Rtl routine allocated and zeroes the structure. */
export function RtlFreeUnicodeString(UnicodeString: UNICODE_STRING): void {
  if (UnicodeString.Buffer !== 0) ExFreePool(UnicodeString.Buffer);
  UnicodeString.Buffer = 0;
  UnicodeString.Length = UnicodeString.MaximumLength = 0;
}

/** RtlFreeAnsiString: frees a string an Rtl routine allocated and zeroes the structure. */
export function RtlFreeAnsiString(AnsiString: ANSI_STRING): void {
  if (AnsiString.Buffer !== 0) ExFreePool(AnsiString.Buffer);
  AnsiString.Buffer = 0;
  AnsiString.Length = AnsiString.MaximumLength = 0;
}

/** Writes a null after `Length` bytes when MaximumLength leaves room for one. */
function terminateIfRoom(s: UNICODE_STRING): void {
  if (s.Length + WCHAR_SIZE <= s.MaximumLength) writeU16(s.Buffer + s.Length, 0);
}

/**
 * RtlCopyUnicodeString: copies `SourceString` into `DestinationString`'s buffer, as many
 * bytes as fit (the source's Length or the destination's MaximumLength, whichever is
 * smaller), sets Length, and null-terminates when there is room. A NULL source gives
 * Length 0.
 */
export function RtlCopyUnicodeString(DestinationString: UNICODE_STRING, SourceString: UNICODE_STRING | null): void {
  if (!SourceString) {
    DestinationString.Length = 0;
    return;
  }
  const bytes = Math.min(SourceString.Length, DestinationString.MaximumLength) & ~1;
  RtlMoveMemory(DestinationString.Buffer, SourceString.Buffer, bytes);
  DestinationString.Length = bytes;
  terminateIfRoom(DestinationString);
}

/**
 * RtlAppendUnicodeToString: appends the null-terminated `Source` (a guest address or a
 * literal). Returns STATUS_SUCCESS (null-terminating when there is room), or
 * STATUS_BUFFER_TOO_SMALL, changing nothing, when it does not fit. NULL appends nothing.
 */
export function RtlAppendUnicodeToString(Destination: UNICODE_STRING, Source: PCWSTR | null): NTSTATUS {
  if (Source === null || Source === 0) return STATUS_SUCCESS;
  const text = wideText(Source, MAX_USTRING / WCHAR_SIZE);
  const bytes = text.length * WCHAR_SIZE;
  if (Destination.Length + bytes > Destination.MaximumLength) return STATUS_BUFFER_TOO_SMALL;
  writeWide(Destination.Buffer + Destination.Length, text);
  Destination.Length += bytes;
  terminateIfRoom(Destination);
  return STATUS_SUCCESS;
}

/**
 * RtlAppendUnicodeStringToString: appends `Source`. Returns STATUS_SUCCESS
 * (null-terminating when there is room), or STATUS_BUFFER_TOO_SMALL, changing nothing,
 * when Destination.Length + Source.Length exceeds Destination.MaximumLength.
 */
export function RtlAppendUnicodeStringToString(Destination: UNICODE_STRING, Source: UNICODE_STRING): NTSTATUS {
  const bytes = Source.Length;
  if (bytes === 0) return STATUS_SUCCESS;
  if (Destination.Length + bytes > Destination.MaximumLength) return STATUS_BUFFER_TOO_SMALL;
  RtlMoveMemory(Destination.Buffer + Destination.Length, Source.Buffer, bytes);
  Destination.Length += bytes;
  terminateIfRoom(Destination);
  return STATUS_SUCCESS;
}

/** RtlUpcaseUnicodeChar: the uppercase form of a wide character (itself when it has none that is one character). */
export function RtlUpcaseUnicodeChar(SourceCharacter: number): number {
  const upper = String.fromCharCode(SourceCharacter).toUpperCase();
  return upper.length === 1 ? upper.charCodeAt(0) : SourceCharacter;
}

/**
 * RtlCompareUnicodeString: compares two strings character by character (uppercased when
 * `CaseInSensitive`): zero if equal, negative if String1 sorts first, positive if
 * String2 does; a string that is a prefix of the other sorts first.
 */
export function RtlCompareUnicodeString(String1: UNICODE_STRING, String2: UNICODE_STRING, CaseInSensitive: boolean): number {
  const a = unicodeStringText(String1);
  const b = unicodeStringText(String2);
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let c1 = a.charCodeAt(i);
    let c2 = b.charCodeAt(i);
    if (c1 !== c2 && CaseInSensitive) {
      c1 = RtlUpcaseUnicodeChar(c1);
      c2 = RtlUpcaseUnicodeChar(c2);
    }
    if (c1 !== c2) return c1 - c2;
  }
  return a.length - b.length;
}

/** RtlEqualUnicodeString: TRUE if the strings are equal (ignoring case when `CaseInSensitive`). */
export function RtlEqualUnicodeString(String1: UNICODE_STRING, String2: UNICODE_STRING, CaseInSensitive: boolean): boolean {
  if (String1.Length !== String2.Length) return false;
  return RtlCompareUnicodeString(String1, String2, CaseInSensitive) === 0;
}

/** Writes a null ANSI character after `Length` bytes when MaximumLength leaves room. */
export function terminateAnsiIfRoom(s: ANSI_STRING): void {
  if (s.Length + 1 <= s.MaximumLength) writeU8(s.Buffer + s.Length, 0);
}
