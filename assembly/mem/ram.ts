// Guest RAM regions: which guest-physical ranges are backed, and where each lives in
// linear memory. Every physical access goes through physToLinear, so an address outside
// the table never reaches linear memory.
//
//   RamRegion (RAM_REGION_SIZE = 32 bytes), table at RAM_TABLE_BASE
//   +0  base    u64   guest-physical base
//   +8  size    u64   bytes (multiple of 4 KiB)
//   +16 linear  u32   linear-memory offset of the first byte

import { GUEST_RAM_BASE, GUEST_RAM_MAX, RAM_TABLE_BASE, WASM_PAGE } from "../memmap";
import { core } from "../sim/core";
import { MAX_RAM_REGIONS } from "../platform/config";

@unmanaged
export class RamRegion {
  base: u64;
  size: u64;
  linear: u32;
}

/** Bytes of one RamRegion record. */
export const RAM_REGION_SIZE: u32 = 32;

// @ts-ignore: decorator
@inline function region(i: u32): RamRegion {
  return changetype<RamRegion>(RAM_TABLE_BASE + i * RAM_REGION_SIZE);
}

/** Number of RAM regions. */
export function ramRegionCount(): u32 {
  return core.ramRegionCount;
}

/** Guest-physical base of region i. */
export function ramRegionBase(i: u32): u64 { return region(i).base; }
/** Size in bytes of region i. */
export function ramRegionSize(i: u32): u64 { return region(i).size; }

/** Error: too many regions, a region is not 4 KiB aligned, or they overlap. */
export const RAM_ERROR_LAYOUT: u32 = 1;
/** Error: the regions together do not fit in linear memory. */
export const RAM_ERROR_TOO_LARGE: u32 = 2;

/** Clears the table. */
export function ramReset(): void {
  core.ramRegionCount = 0;
}

/** Adds a region; regions are laid out in linear memory in the order added. Returns 0 or RAM_ERROR_*. */
export function ramAddRegion(base: u64, size: u64): u32 {
  const n = ramRegionCount();
  if (n >= MAX_RAM_REGIONS || size == 0 || (base & 0xFFF) != 0 || (size & 0xFFF) != 0) return RAM_ERROR_LAYOUT;
  let linear: u64 = GUEST_RAM_BASE;
  for (let i: u32 = 0; i < n; i++) {
    const r = region(i);
    if (base < r.base + r.size && r.base < base + size) return RAM_ERROR_LAYOUT;
    linear += r.size;
  }
  if (<f64>(linear - GUEST_RAM_BASE + size) > GUEST_RAM_MAX) return RAM_ERROR_TOO_LARGE;
  const end = linear + size;
  const pagesNeeded = <i32>((end + WASM_PAGE - 1) / WASM_PAGE) - memory.size();
  if (pagesNeeded > 0 && memory.grow(pagesNeeded) < 0) return RAM_ERROR_TOO_LARGE;
  const r = region(n);
  r.base = base;
  r.size = size;
  r.linear = <u32>linear;
  // Memory past the fixed regions is fresh from memory.grow and already zero.
  core.ramRegionCount = n + 1;
  core.backingTop = <f64>end;
  return 0;
}

/**
 * Linear-memory offset of guest-physical [gpa, gpa + len) if RAM backs all of it, else 0.
 * len must be at least 1.
 */
export function physToLinear(gpa: u64, len: u64): usize {
  const n = ramRegionCount();
  for (let i: u32 = 0; i < n; i++) {
    const r = region(i);
    const off = gpa - r.base;
    if (gpa >= r.base && off < r.size && len <= r.size - off) return <usize>(<u64>r.linear + off);
  }
  return 0;
}
