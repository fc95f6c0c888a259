// BAR decode: the list of memory windows that currently decode (memory space enabled,
// function in D0, BAR programmed to a non-zero address, every bridge above forwarding it), rebuilt whenever a command register or a BAR is
// written. Only the bus knows base addresses; devices see offsets.
//
//   DecodeEntry (DECODE_ENTRY_SIZE = 32 bytes)
//   +0  base u64
//   +8  size u64
//   +16 fn   u32
//   +20 bar  u32

import { DECODE_CAPACITY, DECODE_ENTRY_SIZE, DECODE_TABLE_BASE } from "../memmap";
import { core } from "../sim/core";
import { functionCount, functionTopology, barSize, barFlags, configPlane } from "./function";
import { CFG_BAR0, CFG_COMMAND, CMD_MEMORY_SPACE } from "./header";
import { BAR_FLAG_64BIT, BAR_FLAG_IO } from "../platform/config";
import { poweredDown } from "./capabilities";
import { memoryReaches } from "./topology";

@unmanaged
export class DecodeEntry {
  base: u64;
  size: u64;
  fn: u32;
  bar: u32;
}

// @ts-ignore: decorator
@inline function entry(i: u32): DecodeEntry {
  return changetype<DecodeEntry>(DECODE_TABLE_BASE + i * DECODE_ENTRY_SIZE);
}

/** Rebuilds the decode list from every function's command register and BARs. */
export function decodeRebuild(): void {
  let n: u32 = 0;
  const count = functionCount();
  for (let fn: u32 = 0; fn < count; fn++) {
    const cfg = configPlane(fn);
    if ((load<u16>(cfg + CFG_COMMAND) & CMD_MEMORY_SPACE) == 0 || poweredDown(fn) || functionTopology(fn).removed != 0) continue;
    for (let bar: u32 = 0; bar < 6; bar++) {
      const size = barSize(fn, bar);
      const flags = barFlags(fn, bar);
      if (size == 0 || (flags & BAR_FLAG_IO) != 0) continue;
      let base = <u64>(load<u32>(cfg + CFG_BAR0 + (bar << 2)) & 0xFFFFFFF0);
      if ((flags & BAR_FLAG_64BIT) != 0) base |= <u64>load<u32>(cfg + CFG_BAR0 + ((bar + 1) << 2)) << 32;
      if (base == 0 || n >= DECODE_CAPACITY || !memoryReaches(fn, base, size)) continue;
      // Keep the list sorted by base (insertion), so lookups can bisect.
      let i = n++;
      while (i > 0 && entry(i - 1).base > base) {
        memory.copy(changetype<usize>(entry(i)), changetype<usize>(entry(i - 1)), DECODE_ENTRY_SIZE);
        i--;
      }
      const e = entry(i);
      e.base = base;
      e.size = size;
      e.fn = fn;
      e.bar = bar;
    }
  }
  core.decodeCount = n;
  core.decodeLast = 0;
}

/** Clears the decode list. */
export function decodeReset(): void {
  core.decodeCount = 0;
  core.decodeLast = 0;
}

/**
 * Index of the decode entry holding [pa, pa + size), or -1: the entry with the highest
 * base at or below pa, if it holds the range. Accesses come in runs to one BAR, so the
 * entry of the last hit is tried first; it is the answer when it holds the range and
 * the next entry starts above pa, which is what bisecting the sorted list would find.
 */
export function decodeFind(pa: u64, size: u32): i32 {
  const last = core.decodeLast;
  const n = core.decodeCount;
  if (last < n) {
    const e = entry(last);
    const off = pa - e.base;
    if (pa >= e.base && off < e.size && <u64>size <= e.size - off && (last + 1 == n || entry(last + 1).base > pa)) return <i32>last;
  }
  const found = decodeBisect(pa, size);
  if (found >= 0) core.decodeLast = <u32>found;
  return found;
}

function decodeBisect(pa: u64, size: u32): i32 {
  // The last entry whose base is at or below pa, without data-dependent branches: keep
  // the upper half of [at, at + n) when its first entry is at or below pa.
  let n = core.decodeCount;
  if (n == 0) return -1;
  let at: u32 = 0;
  while (n > 1) {
    const half = n >> 1;
    at = select<u32>(at + half, at, entry(at + half).base <= pa);
    n -= half;
  }
  const e = entry(at);
  if (e.base > pa) return -1;
  const off = pa - e.base;
  return off < e.size && <u64>size <= e.size - off ? <i32>at : -1;
}

/** The decode entry `i` (from decodeFind). */
export function decodeEntry(i: u32): DecodeEntry {
  return entry(i);
}
