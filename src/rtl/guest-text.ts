/**
 * Text in guest memory, as the string routines see it: UTF-16LE wide characters (WCHAR)
 * and 8-bit ANSI characters (CHAR; the machine's ANSI code page is ISO-8859-1, so code
 * points above 0xFF become '?'), read and written through the MMU accessors, and string
 * literals.
 *
 * A string literal (what L"..." is in C) is a JS string a driver passes where a PCWSTR or
 * PCSTR goes. The first use of a literal places it, null-terminated, in nonpaged memory
 * owned by the kernel (as a driver image's read-only data is), once per machine; later
 * uses get the same address. Literals are never freed and do not count as a driver's
 * pool.
 */
import { KE } from "../ke/kernel.js";
import { MM } from "../mm/manager.js";
import { readBytes, writeBytes, type PVOID } from "../mm/memory.js";
import { PAGE_SIZE } from "../mm/pfn.js";
import { POOL_TYPE, tagValue } from "../mm/pool.js";

/** A pointer to a null-terminated wide string: a guest address, or a JS string literal. */
export type PCWSTR = PVOID | string;
/** A pointer to a null-terminated ANSI string: a guest address, or a JS string literal. */
export type PCSTR = PVOID | string;
/** A pointer to a wide character buffer in guest memory. */
export type PWSTR = PVOID;
/** A pointer to an ANSI character buffer in guest memory. */
export type PSTR = PVOID;

/** Bytes of a WCHAR. */
export const WCHAR_SIZE = 2;
/** Characters read at a time when looking for a terminating null. */
const SCAN_CHARS = 64;
/** The pool tag literals are placed with (owned by the kernel). */
const LITERAL_TAG = tagValue("Lit ");
/** Where a kernel keeps its placed literals (wide and ANSI), by text. */
const WIDE_LITERALS = "rtl.wideLiterals";
const ANSI_LITERALS = "rtl.ansiLiterals";

/** UTF-16LE bytes of `text`. */
export function encodeWide(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length * WCHAR_SIZE);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    bytes[2 * i] = c & 0xFF;
    bytes[2 * i + 1] = c >>> 8;
  }
  return bytes;
}

/** The text of UTF-16LE bytes (an odd last byte is ignored). */
export function decodeWide(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i + 1 < bytes.length; i += 2) text += String.fromCharCode(bytes[i] | (bytes[i + 1] << 8));
  return text;
}

/** ANSI bytes of `text` (ISO-8859-1; other characters become '?'). */
export function encodeAnsi(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    bytes[i] = c <= 0xFF ? c : 0x3F;
  }
  return bytes;
}

/** The text of ANSI bytes. */
export function decodeAnsi(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
  return text;
}

/** Reads `chars` wide characters at `va`. */
export function readWide(va: PVOID, chars: number): string {
  return chars > 0 ? decodeWide(readBytes(va, chars * WCHAR_SIZE)) : "";
}

/** Writes `text` as wide characters at `va` (no terminator). */
export function writeWide(va: PVOID, text: string): void {
  if (text.length > 0) writeBytes(va, encodeWide(text));
}

/** Reads `chars` ANSI characters at `va`. */
export function readAnsi(va: PVOID, chars: number): string {
  return chars > 0 ? decodeAnsi(readBytes(va, chars)) : "";
}

/** Writes `text` as ANSI characters at `va` (no terminator). */
export function writeAnsi(va: PVOID, text: string): void {
  if (text.length > 0) writeBytes(va, encodeAnsi(text));
}

/**
 * The text of the null-terminated string at `va`, reading at most `maxChars` characters
 * (`charSize` 2 for wide, 1 for ANSI); `terminated` is false when no null was found.
 * Reads only what it needs: a few characters past the end at most, never past `maxChars`
 * and never into a page the string does not reach.
 */
export function readTerminated(va: PVOID, maxChars: number, charSize: number): { text: string; terminated: boolean } {
  let text = "";
  for (let done = 0; done < maxChars; ) {
    const at = va + done * charSize;
    const toPageEnd = Math.max(1, Math.floor((PAGE_SIZE - (at % PAGE_SIZE)) / charSize));
    const n = Math.min(SCAN_CHARS, maxChars - done, toPageEnd);
    const bytes = readBytes(at, n * charSize);
    for (let i = 0; i < n; i++) {
      const c = charSize === WCHAR_SIZE ? bytes[2 * i] | (bytes[2 * i + 1] << 8) : bytes[i];
      if (c === 0) return { text, terminated: true };
      text += String.fromCharCode(c);
    }
    done += n;
  }
  return { text, terminated: false };
}

/** The text a PCWSTR names: a literal's own text, or the null-terminated string at its address ("" for NULL). */
export function wideText(source: PCWSTR, maxChars = Number.MAX_SAFE_INTEGER): string {
  if (typeof source === "string") return source;
  return source === 0 ? "" : readTerminated(source, maxChars, WCHAR_SIZE).text;
}

/** The text a PCSTR names ("" for NULL). */
export function ansiText(source: PCSTR, maxChars = Number.MAX_SAFE_INTEGER): string {
  if (typeof source === "string") return source;
  return source === 0 ? "" : readTerminated(source, maxChars, 1).text;
}

/** Places `text` null-terminated in kernel-owned nonpaged memory, once per machine; returns its address. */
function placeLiteral(key: string, text: string, bytes: Uint8Array): PVOID {
  const k = KE();
  let placed = k.services.get(key) as Map<string, number> | undefined;
  if (!placed) k.services.set(key, (placed = new Map()));
  const known = placed.get(text);
  if (known !== undefined) return known;
  const va = MM(k).pool.allocate(POOL_TYPE.NonPagedPoolNx, bytes.length, LITERAL_TAG, "nt");
  if (va === 0) throw new Error("no nonpaged pool left for a string literal");
  writeBytes(va, bytes);
  placed.set(text, va);
  return va;
}

/** The guest address of the wide string literal `text` (null-terminated, kernel-owned). */
export function wideLiteral(text: string): PWSTR {
  const bytes = new Uint8Array((text.length + 1) * WCHAR_SIZE);
  bytes.set(encodeWide(text));
  return placeLiteral(WIDE_LITERALS, text, bytes);
}

/** The guest address of the ANSI string literal `text` (null-terminated, kernel-owned). */
export function ansiLiteral(text: string): PSTR {
  const bytes = new Uint8Array(text.length + 1);
  bytes.set(encodeAnsi(text));
  return placeLiteral(ANSI_LITERALS, text, bytes);
}
