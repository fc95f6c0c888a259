/**
 * Arguments of the inspection commands, parsed as WinDbg's kernel extensions take them:
 * numbers in hexadecimal by default (with or without 0x, and with the backtick WinDbg
 * puts between the two halves of a 64-bit value: ffff8100`00001230), decimal with 0n,
 * and words split on blanks (a double-quoted word may contain blanks).
 */

/** A mistake in an inspection command; the message says what to fix. */
export class InspectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InspectError";
  }
}

/** Splits a command's argument text into words ("..." keeps blanks inside a word). */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) words.push(m[1] ?? m[2]);
  return words;
}

/**
 * A number as WinDbg reads it: hexadecimal unless prefixed 0n (decimal); 0x and the
 * 64-bit backtick are allowed. Returns a bigint, or undefined when `word` is not a number.
 */
export function parseNumber(word: string): bigint | undefined {
  let w = word.trim();
  let radix = 16;
  if (/^0n/i.test(w)) {
    radix = 10;
    w = w.slice(2);
  } else if (/^0x/i.test(w)) {
    w = w.slice(2);
  }
  w = w.replace(/`/g, "");
  if (w === "" || (radix === 16 ? !/^[0-9a-f]+$/i.test(w) : !/^[0-9]+$/.test(w))) return undefined;
  const v = radix === 16 ? BigInt(`0x${w}`) : BigInt(w);
  return v < 1n << 64n ? v : undefined;
}

/** The mask of the upper 16 bits of a sign-extended (canonical) kernel address. */
const SIGN_EXTENSION = 0xFFFF000000000000n;

/**
 * A kernel address as the machine holds it: WinDbg's sign-extended form
 * (ffff8000`00001000) and the lower-half form the model stores (0x800000001000) both
 * name the same place. Returns undefined for a word that is not a number; throws for a
 * number that is not a canonical address.
 */
export function parseAddress(word: string, what: string): number | undefined {
  const v = parseNumber(word);
  if (v === undefined) return undefined;
  let lower = v;
  if ((v & SIGN_EXTENSION) === SIGN_EXTENSION) lower = v & ~SIGN_EXTENSION;
  else if ((v & SIGN_EXTENSION) !== 0n) throw new InspectError(`${what} "${word}" is not a canonical address (the upper 16 bits must be all ones or all zeros)`);
  return Number(lower);
}

/** A flags or count argument (hexadecimal as WinDbg reads it) no larger than `max`. */
export function parseFlags(word: string, what: string, max = 0xFFFFFFFF): number {
  const v = parseNumber(word);
  if (v === undefined || v > BigInt(max)) throw new InspectError(`${what} must be a hexadecimal number up to 0x${max.toString(16)}, not "${word}"`);
  return Number(v);
}

/** Throws unless at most `max` words were given. */
export function expectAtMost(words: string[], max: number, usage: string): void {
  if (words.length > max) throw new InspectError(`too many arguments ("${words.slice(max).join(" ")}"); usage: ${usage}`);
}
