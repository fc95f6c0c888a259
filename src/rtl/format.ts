/**
 * The format strings of the ntstrsafe printf routines (RtlStringCbPrintfW and friends),
 * for wide-character output. A conversion is
 * `%[flags][width][.precision][size]type`:
 *
 * - flags: `-` left-justify, `0` pad with zeros, `+` always a sign, ` ` a space for a
 *   sign, `#` a 0x / 0X / 0 prefix for x / X / o.
 * - width and precision: digits, or `*` to take the next argument.
 * - size: `h`, `l`, `w` (no effect on integers: int and long are 32 bits), `ll` or `I64`
 *   for 64-bit integers, `I32`, `I` for size_t and ptrdiff_t (64 bits on x64); for strings and characters `h` means ANSI, `l` and `w` wide.
 * - type: `d` `i` signed, `u` unsigned, `x` `X` hex, `o` octal, `c` a WCHAR (`C` or `hc`
 *   a CHAR), `s` a wide string (`S` or `hs` an ANSI string; `ws` `ls` wide), `wZ` a
 *   UNICODE_STRING, `Z` (`hZ`) an ANSI_STRING, `p` a pointer (16 uppercase hex digits), `%%`.
 *
 * Arguments are JS values: numbers (or bigints for 64-bit conversions), string
 * arguments as a JS string or the guest address of a null-terminated string (0 prints
 * "(null)"), counted strings as UNICODE_STRING / ANSI_STRING objects (null prints
 * "(null)"), characters as a number or a one-character string. A conversion this list
 * does not have, or a missing argument, makes the format invalid.
 */
import { ansiText, wideText } from "./guest-text.js";
import { ANSI_STRING, ansiStringText, UNICODE_STRING, unicodeStringText } from "./unicode-string.js";

/** A format that cannot be used (caught: the routine reports an invalid parameter). */
class FormatError extends Error {}

/** A printf argument. */
export type FormatArgument = number | bigint | string | UNICODE_STRING | ANSI_STRING | null;

/** The parsed pieces of one conversion. */
interface Spec {
  left: boolean;
  zero: boolean;
  plus: boolean;
  space: boolean;
  alternate: boolean;
  width: number;
  precision: number;
  size: string;
}

function pad(body: string, spec: Spec, zeroAllowed: boolean, signLength = 0): string {
  if (body.length >= spec.width) return body;
  const fill = spec.width - body.length;
  if (spec.left) return body + " ".repeat(fill);
  if (spec.zero && zeroAllowed) return body.slice(0, signLength) + "0".repeat(fill) + body.slice(signLength);
  return " ".repeat(fill) + body;
}

function asInteger(arg: FormatArgument, wide: boolean, signed: boolean): bigint {
  let v: bigint;
  if (typeof arg === "bigint") v = arg;
  else if (typeof arg === "number") v = BigInt(Math.trunc(arg));
  else if (typeof arg === "string" && arg.length === 1) v = BigInt(arg.charCodeAt(0));
  else throw new FormatError("not an integer");
  const bits = wide ? 64 : 32;
  return signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);
}

function formatInteger(type: string, arg: FormatArgument, spec: Spec): string {
  const wide = spec.size === "ll" || spec.size === "I64" || spec.size === "I";
  const signed = type === "d" || type === "i";
  const v = asInteger(arg, wide, signed);
  const negative = v < 0n;
  let digits = (negative ? -v : v).toString(type === "x" || type === "X" ? 16 : type === "o" ? 8 : 10);
  if (type === "X") digits = digits.toUpperCase();
  if (spec.precision >= 0) {
    digits = digits.padStart(spec.precision, "0");
    if (spec.precision === 0 && v === 0n) digits = "";
  }
  let prefix = "";
  if (signed) prefix = negative ? "-" : spec.plus ? "+" : spec.space ? " " : "";
  else if (spec.alternate && v !== 0n) prefix = type === "x" ? "0x" : type === "X" ? "0X" : type === "o" && !digits.startsWith("0") ? "0" : "";
  return pad(prefix + digits, spec, spec.precision < 0, prefix.length);
}

function charOf(arg: FormatArgument): string {
  if (typeof arg === "string" && arg.length === 1) return arg;
  if (typeof arg === "number") return String.fromCharCode(arg & 0xFFFF);
  throw new FormatError("not a character");
}

function stringOf(arg: FormatArgument, ansi: boolean, maxChars: number): string {
  if (arg === null || arg === 0) return "(null)";
  if (typeof arg === "string") return arg.slice(0, maxChars);
  if (typeof arg === "number") return ansi ? ansiText(arg, maxChars) : wideText(arg, maxChars);
  throw new FormatError("not a string");
}

function countedOf(arg: FormatArgument, ansi: boolean): string {
  if (arg === null) return "(null)";
  if (ansi && arg instanceof ANSI_STRING) return ansiStringText(arg);
  if (!ansi && arg instanceof UNICODE_STRING) return unicodeStringText(arg);
  throw new FormatError("not a counted string");
}

/**
 * Formats `format` with `args` for wide-character output (the ntstrsafe ...W routines; see
 * the file comment); returns the text, or null when the format is invalid (an unknown
 * conversion, a missing or mistyped argument).
 */
export function formatWide(format: string, args: readonly FormatArgument[]): string | null {
  return formatPrintf(format, args, true);
}

/**
 * Formats `format` with `args` as the narrow printf routines (DbgPrint, the ...A
 * routines) do: as formatWide, except that `%s` and `%c` take ANSI strings and characters
 * unless sized `l` or `w`, and `%S` and `%C` take wide ones unless sized `h`.
 */
export function formatAnsi(format: string, args: readonly FormatArgument[]): string | null {
  return formatPrintf(format, args, false);
}

function formatPrintf(format: string, args: readonly FormatArgument[], wide: boolean): string | null {
  let out = "";
  let next = 0;
  const take = (): FormatArgument => {
    if (next >= args.length) throw new FormatError("missing argument");
    return args[next++];
  };
  try {
    for (let i = 0; i < format.length; i++) {
      const ch = format[i];
      if (ch !== "%") {
        out += ch;
        continue;
      }
      i++;
      if (format[i] === "%") {
        out += "%";
        continue;
      }
      const spec: Spec = { left: false, zero: false, plus: false, space: false, alternate: false, width: 0, precision: -1, size: "" };
      for (;; i++) {
        const f = format[i];
        if (f === "-") spec.left = true;
        else if (f === "0") spec.zero = true;
        else if (f === "+") spec.plus = true;
        else if (f === " ") spec.space = true;
        else if (f === "#") spec.alternate = true;
        else break;
      }
      if (format[i] === "*") {
        spec.width = Number(asInteger(take(), false, true));
        if (spec.width < 0) {
          spec.left = true;
          spec.width = -spec.width;
        }
        i++;
      } else {
        while (format[i] >= "0" && format[i] <= "9") spec.width = spec.width * 10 + Number(format[i++]);
      }
      if (format[i] === ".") {
        i++;
        spec.precision = 0;
        if (format[i] === "*") {
          spec.precision = Math.max(0, Number(asInteger(take(), false, true)));
          i++;
        } else {
          while (format[i] >= "0" && format[i] <= "9") spec.precision = spec.precision * 10 + Number(format[i++]);
        }
      }
      for (const size of ["I64", "I32", "I", "ll", "h", "l", "w"]) {
        if (format.startsWith(size, i)) {
          spec.size = size;
          i += size.length;
          break;
        }
      }
      const type = format[i];
      const maxChars = spec.precision >= 0 ? spec.precision : Number.MAX_SAFE_INTEGER;
      switch (type) {
        case "d": case "i": case "u": case "x": case "X": case "o":
          out += formatInteger(type, take(), spec);
          break;
        case "c": case "C":
          out += pad(charOf(take()), spec, false);
          break;
        case "s":
          out += pad(stringOf(take(), wide ? spec.size === "h" : spec.size !== "l" && spec.size !== "w", maxChars), spec, false);
          break;
        case "S":
          out += pad(stringOf(take(), wide ? spec.size !== "l" && spec.size !== "w" : spec.size === "h", maxChars), spec, false);
          break;
        case "Z":
          out += pad(countedOf(take(), spec.size !== "w").slice(0, maxChars), spec, false);
          break;
        case "p":
          out += pad(asInteger(take(), true, false).toString(16).toUpperCase().padStart(16, "0"), spec, false);
          break;
        default:
          return null;
      }
    }
  } catch (e) {
    if (e instanceof FormatError) return null;
    throw e;
  }
  return out;
}
