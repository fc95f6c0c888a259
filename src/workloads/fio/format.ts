/**
 * Number formatting as fio's C code prints it: printf's "%.Nf" (rounding an exact tie to
 * even, as glibc does, where JavaScript's toFixed rounds it up), padded fields, and fio's
 * num2str, which shortens a number to a number of significant figures with a unit prefix
 * ("480MiB/s", "123k", "4096B"): it divides by 1000 or 1024 until the digits fit, then
 * spends the room left on decimals of the last remainder.
 */

/** printf("%.{decimals}f", x): fixed decimals, an exact tie rounded to the even digit. */
export function cFixed(x: number, decimals: number): string {
  if (!Number.isFinite(x)) return x > 0 ? "inf" : x < 0 ? "-inf" : "nan";
  const rounded = x.toFixed(decimals);
  // toFixed rounds ties away from zero; find exact ties in the value's full expansion.
  const wide = Math.abs(x).toFixed(Math.min(100, decimals + 30));
  const dot = wide.indexOf(".");
  const tail = wide.slice(dot + 1 + decimals);
  if (!/^50*$/.test(tail)) return rounded;
  const kept = wide.slice(0, dot + 1 + decimals).replace(/\.$/, "");
  const lastDigit = Number(kept[kept.length - 1]);
  if (lastDigit % 2 === 1) return rounded;
  return (x < 0 ? "-" : "") + kept;
}

/** printf("%{width}.{decimals}f"). */
export function cFloat(x: number, width: number, decimals: number): string {
  return cFixed(x, decimals).padStart(width);
}

/** printf("%{width}d") / "%{width}llu". */
export function cInt(x: number, width = 0): string {
  return String(x).padStart(width);
}

/** fio's units for num2str. */
export enum N2S {
  NONE = 0,
  PERSEC = 1,
  BYTE = 2,
  BIT = 3,
  BYTEPERSEC = 4,
  BITPERSEC = 5,
}

const UNIT_TEXT = ["", "/s", "B", "bit", "B/s", "bit/s"];
const SI = ["", "k", "M", "G", "T", "P", "E"];
const IEC = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

/**
 * fio's num2str: `num` (a whole number) with at most `maxlen` digits (the decimal point
 * counts), a power-of-two (`pow2`) or SI prefix, and the unit.
 */
export function num2str(num: number, maxlen: number, pow2: boolean, units: N2S): string {
  const thousand = pow2 ? 1024 : 1000;
  const prefixes = pow2 ? IEC : SI;
  let n = Math.floor(num);
  if (units === N2S.BIT || units === N2S.BITPERSEC) n *= 8;
  let post = 0;
  let modulo = -1;
  let carry = false;
  while (post < SI.length) {
    if (String(n).length <= maxlen) break;
    modulo = n % thousand;
    n = Math.floor(n / thousand);
    carry = modulo >= thousand / 2;
    post++;
  }
  if (post >= SI.length) post = 0;
  const unit = UNIT_TEXT[units];
  if (modulo === -1) return `${n}${prefixes[post]}${unit}`;
  const digits = String(n).length;
  if (maxlen - digits <= 1) {
    if (carry) n++;
    return `${n}${prefixes[post]}${unit}`;
  }
  const fraction = cFixed(modulo / thousand, maxlen - digits - 1);
  if (fraction[0] === "1") n++;
  return `${n}.${fraction.slice(2)}${prefixes[post]}${unit}`;
}

/** What ctime() prints for a time in seconds since 1970 (UTC), without the newline: "Thu Jan  1 00:00:00 1970". */
export function ctime(seconds: number): string {
  const d = new Date(Math.floor(seconds) * 1000);
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const two = (v: number) => String(v).padStart(2, "0");
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}
