/** Byte helpers for tests: little-endian 32-bit values and deterministic byte patterns. */

/** `value` as 4 little-endian bytes. */
export function u32(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value >>> 0, true);
  return b;
}

/** The little-endian 32-bit value at the start of `b`. */
export function le32(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset).getUint32(0, true);
}

/** `length` pseudo-random bytes from `seed` (a linear congruential generator's high bytes). */
export function pattern(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
