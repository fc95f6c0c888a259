/**
 * ntstrsafe.h's wide-character routines: RtlStringCbCopyW, RtlStringCchCopyW,
 * RtlStringCbCatW, RtlStringCchCatW, RtlStringCbPrintfW, RtlStringCchPrintfW,
 * RtlStringCbLengthW, RtlStringCchLengthW, and for counted strings RtlUnicodeStringCopy,
 * RtlUnicodeStringCat and RtlUnicodeStringPrintf.
 *
 * Destinations are guest buffers; sizes are in bytes (Cb) or characters (Cch). The
 * null-terminated routines always leave the destination null-terminated when they write
 * it. Results:
 * - STATUS_SUCCESS.
 * - STATUS_BUFFER_OVERFLOW: the result did not fit and was truncated (still
 *   null-terminated for the Cb/Cch routines); the truncated result is written.
 * - STATUS_INVALID_PARAMETER: a size of 0 or above NTSTRSAFE_MAX_CCH characters, a
 *   destination with no null within its size (Cat), a string with no null within cchMax
 *   (Length), an invalid UNICODE_STRING (odd lengths, Length > MaximumLength,
 *   MaximumLength above NTSTRSAFE_UNICODE_STRING_MAX_CCH characters, a NULL Buffer with a
 *   non-zero MaximumLength), or a format string formatWide cannot use. The destination is
 *   then left as it was.
 * Sources and formats are PCWSTRs: a guest address or a JS string literal. Printf
 * arguments and conversions: see format.ts.
 */
import { STATUS_BUFFER_OVERFLOW, STATUS_INVALID_PARAMETER, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import { writeU16 } from "../mm/memory.js";
import { formatWide, type FormatArgument } from "./format.js";
import { readTerminated, WCHAR_SIZE, wideText, writeWide, type PCWSTR, type PWSTR } from "./guest-text.js";
import { UNICODE_STRING, unicodeStringText } from "./unicode-string.js";

/** The largest buffer, in characters, the Cb/Cch routines accept. */
export const NTSTRSAFE_MAX_CCH = 2147483647;
/** The largest UNICODE_STRING, in characters, the RtlUnicodeString... routines accept. */
export const NTSTRSAFE_UNICODE_STRING_MAX_CCH = 32767;

/** Writes as much of `text` as fits `cchDest` characters, null-terminated; the status says whether all of it did. */
function putTerminated(pszDest: PWSTR, cchDest: number, text: string): NTSTATUS {
  const fits = text.length <= cchDest - 1;
  const written = fits ? text : text.slice(0, cchDest - 1);
  writeWide(pszDest, written);
  writeU16(pszDest + written.length * WCHAR_SIZE, 0);
  return fits ? STATUS_SUCCESS : STATUS_BUFFER_OVERFLOW;
}

/** The text of a source, reading no more than `limit` characters (enough to know it does not fit). */
function sourceText(pszSrc: PCWSTR, limit: number): string {
  return typeof pszSrc === "string" ? pszSrc : wideText(pszSrc, limit);
}

/** True for a destination size, in characters, the routines accept. */
function validCch(cch: number): boolean {
  return Number.isInteger(cch) && cch > 0 && cch <= NTSTRSAFE_MAX_CCH;
}

/** RtlStringCchCopyW: copies `pszSrc` into `pszDest` (`cchDest` characters), truncating with STATUS_BUFFER_OVERFLOW. */
export function RtlStringCchCopyW(pszDest: PWSTR, cchDest: number, pszSrc: PCWSTR): NTSTATUS {
  if (!validCch(cchDest)) return STATUS_INVALID_PARAMETER;
  return putTerminated(pszDest, cchDest, sourceText(pszSrc, cchDest));
}

/** RtlStringCbCopyW: RtlStringCchCopyW with the destination size in bytes (cbDest / 2 characters). */
export function RtlStringCbCopyW(pszDest: PWSTR, cbDest: number, pszSrc: PCWSTR): NTSTATUS {
  return RtlStringCchCopyW(pszDest, Math.floor(cbDest / WCHAR_SIZE), pszSrc);
}

/**
 * RtlStringCchCatW: appends `pszSrc` to the null-terminated string in `pszDest`
 * (`cchDest` characters in all), truncating with STATUS_BUFFER_OVERFLOW;
 * STATUS_INVALID_PARAMETER when `pszDest` has no null within `cchDest`.
 */
export function RtlStringCchCatW(pszDest: PWSTR, cchDest: number, pszSrc: PCWSTR): NTSTATUS {
  if (!validCch(cchDest)) return STATUS_INVALID_PARAMETER;
  const existing = readTerminated(pszDest, cchDest, WCHAR_SIZE);
  if (!existing.terminated) return STATUS_INVALID_PARAMETER;
  const used = existing.text.length;
  return putTerminated(pszDest + used * WCHAR_SIZE, cchDest - used, sourceText(pszSrc, cchDest - used));
}

/** RtlStringCbCatW: RtlStringCchCatW with the destination size in bytes. */
export function RtlStringCbCatW(pszDest: PWSTR, cbDest: number, pszSrc: PCWSTR): NTSTATUS {
  return RtlStringCchCatW(pszDest, Math.floor(cbDest / WCHAR_SIZE), pszSrc);
}

/**
 * RtlStringCchPrintfW: formats `pszFormat` with `args` into `pszDest` (`cchDest`
 * characters), truncating with STATUS_BUFFER_OVERFLOW.
 */
export function RtlStringCchPrintfW(pszDest: PWSTR, cchDest: number, pszFormat: PCWSTR, ...args: FormatArgument[]): NTSTATUS {
  if (!validCch(cchDest)) return STATUS_INVALID_PARAMETER;
  const text = formatWide(wideText(pszFormat), args);
  if (text === null) return STATUS_INVALID_PARAMETER;
  return putTerminated(pszDest, cchDest, text);
}

/** RtlStringCbPrintfW: RtlStringCchPrintfW with the destination size in bytes. */
export function RtlStringCbPrintfW(pszDest: PWSTR, cbDest: number, pszFormat: PCWSTR, ...args: FormatArgument[]): NTSTATUS {
  return RtlStringCchPrintfW(pszDest, Math.floor(cbDest / WCHAR_SIZE), pszFormat, ...args);
}

/**
 * RtlStringCchLengthW: the length in characters of the null-terminated string at `psz`,
 * looking at no more than `cchMax` characters. STATUS_INVALID_PARAMETER (and length 0)
 * for a NULL `psz`, a `cchMax` above NTSTRSAFE_MAX_CCH, or no null within `cchMax`.
 */
export function RtlStringCchLengthW(psz: PCWSTR | null, cchMax: number): { status: NTSTATUS; cchLength: number } {
  if (psz === null || psz === 0 || !Number.isInteger(cchMax) || cchMax < 0 || cchMax > NTSTRSAFE_MAX_CCH) return { status: STATUS_INVALID_PARAMETER, cchLength: 0 };
  if (typeof psz === "string") {
    return psz.length < cchMax ? { status: STATUS_SUCCESS, cchLength: psz.length } : { status: STATUS_INVALID_PARAMETER, cchLength: 0 };
  }
  const r = readTerminated(psz, cchMax, WCHAR_SIZE);
  return r.terminated ? { status: STATUS_SUCCESS, cchLength: r.text.length } : { status: STATUS_INVALID_PARAMETER, cchLength: 0 };
}

/** RtlStringCbLengthW: RtlStringCchLengthW with sizes in bytes (`cbMax`, and the length returned). */
export function RtlStringCbLengthW(psz: PCWSTR | null, cbMax: number): { status: NTSTATUS; cbLength: number } {
  if (cbMax > NTSTRSAFE_MAX_CCH * WCHAR_SIZE) return { status: STATUS_INVALID_PARAMETER, cbLength: 0 };
  const r = RtlStringCchLengthW(psz, Math.floor(cbMax / WCHAR_SIZE));
  return { status: r.status, cbLength: r.cchLength * WCHAR_SIZE };
}

/** True for a UNICODE_STRING the RtlUnicodeString... routines accept. */
function validUnicodeString(s: UNICODE_STRING): boolean {
  return (s.Length & 1) === 0 && (s.MaximumLength & 1) === 0 && s.Length <= s.MaximumLength
    && s.MaximumLength <= NTSTRSAFE_UNICODE_STRING_MAX_CCH * WCHAR_SIZE && (s.Buffer !== 0 || s.MaximumLength === 0);
}

/** Writes `text` after the first `keepBytes` of `Destination`, as much as fits MaximumLength (no terminator). */
function putCounted(Destination: UNICODE_STRING, keepBytes: number, text: string): NTSTATUS {
  const room = (Destination.MaximumLength - keepBytes) / WCHAR_SIZE;
  const fits = text.length <= room;
  const written = fits ? text : text.slice(0, room);
  writeWide(Destination.Buffer + keepBytes, written);
  Destination.Length = keepBytes + written.length * WCHAR_SIZE;
  return fits ? STATUS_SUCCESS : STATUS_BUFFER_OVERFLOW;
}

/** RtlUnicodeStringCopy: copies `SourceString` into `DestinationString` (not null-terminated), truncating with STATUS_BUFFER_OVERFLOW. */
export function RtlUnicodeStringCopy(DestinationString: UNICODE_STRING, SourceString: UNICODE_STRING): NTSTATUS {
  if (!validUnicodeString(DestinationString) || !validUnicodeString(SourceString)) return STATUS_INVALID_PARAMETER;
  return putCounted(DestinationString, 0, unicodeStringText(SourceString));
}

/** RtlUnicodeStringCat: appends `SourceString` to `DestinationString`, truncating with STATUS_BUFFER_OVERFLOW. */
export function RtlUnicodeStringCat(DestinationString: UNICODE_STRING, SourceString: UNICODE_STRING): NTSTATUS {
  if (!validUnicodeString(DestinationString) || !validUnicodeString(SourceString)) return STATUS_INVALID_PARAMETER;
  return putCounted(DestinationString, DestinationString.Length, unicodeStringText(SourceString));
}

/** RtlUnicodeStringPrintf: formats into `DestinationString` (Length set; not null-terminated), truncating with STATUS_BUFFER_OVERFLOW. */
export function RtlUnicodeStringPrintf(DestinationString: UNICODE_STRING, pszFormat: PCWSTR, ...args: FormatArgument[]): NTSTATUS {
  if (!validUnicodeString(DestinationString)) return STATUS_INVALID_PARAMETER;
  const text = formatWide(wideText(pszFormat), args);
  if (text === null) return STATUS_INVALID_PARAMETER;
  return putCounted(DestinationString, 0, text);
}
