// Clock domains: a domain converts its cycles to picoseconds exactly, as the rational
// 10^9 / kHz reduced by its greatest common divisor.
//
//   +0 psNum u64   picoseconds per cycle = psNum / psDen
//   +8 psDen u64

/** Bytes of one ClockDomain record. */
export const CLOCK_DOMAIN_SIZE: u32 = 16;

@unmanaged
export class ClockDomain {
  psNum: u64;
  psDen: u64;
}

function gcd(a: u64, b: u64): u64 {
  while (b != 0) { const t = a % b; a = b; b = t; }
  return a;
}

/** Sets a domain's frequency in kHz (1 .. 2^32-1). */
export function clockSetKHz(d: ClockDomain, kHz: u32): void {
  const num: u64 = 1000000000;
  const den: u64 = kHz == 0 ? 1 : <u64>kHz;
  const g = gcd(num, den);
  d.psNum = num / g;
  d.psDen = den / g;
}

/** Picoseconds taken by `cycles` cycles of domain `d` (rounded up). */
export function cyclesToPs(d: ClockDomain, cycles: u64): u64 {
  const q = cycles / d.psDen;
  const r = cycles % d.psDen;
  return q * d.psNum + (r * d.psNum + d.psDen - 1) / d.psDen;
}

/** Picoseconds in `ns` nanoseconds. */
@inline
export function nsToPs(ns: u64): u64 {
  return ns * 1000;
}
