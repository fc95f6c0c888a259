/**
 * fio's value syntax (HOWTO "Parameter types"): integers with an optional 0x prefix and a
 * unit suffix read by `kb_base`, percentages, times with a unit suffix, booleans and
 * ranges. Each parser returns null for text it does not accept (the option parser turns
 * that into fio's "failed parsing" error).
 */

/** A size given either in bytes or as a percentage of the target's size. */
export type SizeValue = { bytes: number } | { percent: number };

/** Picoseconds per unit of time fio accepts (suffixes compare case-insensitively). */
const TIME_UNITS_PS: Record<string, number> = {
  d: 86_400e12, h: 3_600e12, m: 60e12, s: 1e12, sec: 1e12, ms: 1e9, msec: 1e9, us: 1e6, usec: 1e6,
};

/** Powers of the unit prefixes, by letter. */
const PREFIX_POWER: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5, e: 6 };

/**
 * An integer with fio's suffixes, in bytes: "4k", "4KiB", "1m", "0x1000", "512b". With
 * kb_base=1024 (fio's default) a bare prefix is binary (k = 1024) and one with "i" decimal
 * (ki = 1000), the compatibility mode fio documents; with kb_base=1000 it is the other way
 * round. A trailing "b"/"B" means bytes. Fractions are accepted ("1.5g") and rounded down
 * to a whole byte. Returns null if the text is not such a number.
 */
export function parseInteger(text: string, kbBase: 1000 | 1024 = 1024): number | null {
  const t = text.trim();
  const hex = /^0x([0-9a-f]+)$/i.exec(t);
  if (hex) return parseInt(hex[1], 16);
  const m = /^([0-9]+(?:\.[0-9]*)?)\s*(?:([kmgtpe])(i)?)?(b)?$/i.exec(t);
  if (!m) return null;
  const value = Number(m[1]);
  if (!Number.isFinite(value)) return null;
  if (!m[2]) return Math.floor(value);
  const binary = (kbBase === 1024) !== (m[3] !== undefined);
  return Math.floor(value * (binary ? 1024 : 1000) ** PREFIX_POWER[m[2].toLowerCase()]);
}

/** A size: an integer with suffix (parseInteger) or a percentage "1%".."100%". Null if neither. */
export function parseSize(text: string, kbBase: 1000 | 1024 = 1024): SizeValue | null {
  const p = /^\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*$/.exec(text);
  if (p) {
    const percent = Number(p[1]);
    return percent > 0 && percent <= 100 ? { percent } : null;
  }
  const bytes = parseInteger(text, kbBase);
  return bytes === null ? null : { bytes };
}

/**
 * A time with fio's suffixes (d, h, m, s, ms/msec, us/usec; case-insensitive, "m" is
 * minutes), in picoseconds; a bare number is in `defaultUnit` ("s" for runtime and
 * ramp_time, "ms" for bwavgtime). Null if the text is not such a time.
 */
export function parseTime(text: string, defaultUnit: "s" | "ms" | "us" = "s"): number | null {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return null;
  const unit = (m[2] || defaultUnit).toLowerCase();
  const ps = TIME_UNITS_PS[unit];
  return ps === undefined ? null : Math.round(Number(m[1]) * ps);
}

/** A bool: 1/0, true/false, yes/no, on/off (case-insensitive). Null otherwise. */
export function parseBool(text: string): boolean | null {
  const t = text.trim().toLowerCase();
  if (t === "1" || t === "true" || t === "yes" || t === "on") return true;
  if (t === "0" || t === "false" || t === "no" || t === "off") return false;
  return null;
}

/** A whole number in [min, max] (decimal or 0x hexadecimal, no unit). Null otherwise. */
export function parseWhole(text: string, min: number, max: number): number | null {
  const t = text.trim();
  const n = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t, 16) : /^[0-9]+$/.test(t) ? Number(t) : NaN;
  return Number.isInteger(n) && n >= min && n <= max ? n : null;
}

/** A range "lo-hi" or "lo:hi" of sizes in bytes (swapped if given high first). Null if not one. */
export function parseRange(text: string, kbBase: 1000 | 1024 = 1024): [number, number] | null {
  const m = /^\s*([^:-]+)[:-]([^:-]+)\s*$/.exec(text);
  if (!m) return null;
  const a = parseInteger(m[1], kbBase);
  const b = parseInteger(m[2], kbBase);
  if (a === null || b === null) return null;
  return a <= b ? [a, b] : [b, a];
}

/**
 * A processor list as cpus_allowed takes it: "0,5,8-15". Returns the processor numbers,
 * ascending and without repeats, or null.
 */
export function parseCpuList(text: string): number[] | null {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^\s*([0-9]+)\s*(?:-\s*([0-9]+)\s*)?$/.exec(part);
    if (!m) return null;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return null;
    for (let c = lo; c <= hi; c++) out.add(c);
  }
  return [...out].sort((a, b) => a - b);
}
