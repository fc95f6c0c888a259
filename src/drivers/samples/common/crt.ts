/**
 * The C run-time and strsafe.h routines the sample's console program calls, in user
 * mode: printf (to the program's console), exit, memset, strlen and StringCbCopy on
 * buffers in the process's memory (user-mode addresses).
 *
 * A console is attached to the calling process (attachConsole) before the program runs;
 * printf formats as the C run-time does (the conversions of src/rtl/format.ts: %d %u %x
 * %p %s %c, sizes h l ll I I64; %s takes a JS string or the address of a null-terminated
 * string in the process's memory) and appends the text to that console.
 */
import type { EPROCESS } from "../../../io/process.js";
import { ExitProcess } from "../../../io/process-exit.js";
import { service } from "../../../io/win32.js";
import { writeBytes, type PVOID } from "../../../mm/memory.js";
import { formatAnsi, type FormatArgument } from "../../../rtl/format.js";
import { ansiText, encodeAnsi } from "../../../rtl/guest-text.js";

/** A console window's text: what a program printed. */
export class ConsoleOutput {
  /** Everything printed, in order. */
  text = "";

  /** The printed text as lines (a last line without its newline included; none for no text). */
  lines(): string[] {
    if (this.text === "") return [];
    const lines = this.text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    return lines;
  }
}

/** The console each process prints to. */
const consoles = new WeakMap<EPROCESS, ConsoleOutput>();

/** Makes `output` the calling process's console (its stdout). */
export function attachConsole(output: ConsoleOutput): void {
  service((c) => consoles.set(c.process, output));
}

/** printf: formats `format` with `args` and writes it to the process's console; returns the characters written, or -1 for a bad format. */
export function printf(format: string, ...args: FormatArgument[]): number {
  return service((c) => {
    const text = formatAnsi(format, args);
    if (text === null) return -1;
    const console = consoles.get(c.process);
    if (console) console.text += text;
    return text.length;
  });
}

/** exit: ends the program's process with exit code `status` (the console needs no flushing); it does not return. */
export function exit(status: number): never {
  ExitProcess(status);
}

/** memset: sets `count` bytes at `dest` to `c`; returns `dest`. */
export function memset(dest: PVOID, c: number, count: number): PVOID {
  if (count > 0) writeBytes(dest, new Uint8Array(count).fill(c & 0xFF));
  return dest;
}

/** strlen: characters of the null-terminated string at `str` (bytes, the null excluded). */
export function strlen(str: PVOID): number {
  return ansiText(str).length;
}

/** HRESULT S_OK. */
export const S_OK = 0;
/** HRESULT STRSAFE_E_INSUFFICIENT_BUFFER: the copy was truncated. */
export const STRSAFE_E_INSUFFICIENT_BUFFER = 0x8007007A;
/** HRESULT STRSAFE_E_INVALID_PARAMETER: cbDest is 0. */
export const STRSAFE_E_INVALID_PARAMETER = 0x80070057;

/**
 * StringCbCopy (ANSI): copies `pszSrc` into the `cbDest`-byte buffer at `pszDest`, always
 * null-terminated. S_OK; STRSAFE_E_INSUFFICIENT_BUFFER when it had to be truncated to
 * cbDest - 1 characters; STRSAFE_E_INVALID_PARAMETER when cbDest is 0.
 */
export function StringCbCopy(pszDest: PVOID, cbDest: number, pszSrc: string): number {
  if (cbDest === 0) return STRSAFE_E_INVALID_PARAMETER;
  const fits = pszSrc.length < cbDest;
  const text = fits ? pszSrc : pszSrc.slice(0, cbDest - 1);
  const bytes = new Uint8Array(text.length + 1);
  bytes.set(encodeAnsi(text));
  writeBytes(pszDest, bytes);
  return fits ? S_OK : STRSAFE_E_INSUFFICIENT_BUFFER;
}
