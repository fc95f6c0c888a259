// The backing pool: linear memory from POOL_BASE up, handed out by a bump allocator in
// 4 KiB-aligned pieces to the RAM directory's leaf tables, guest RAM pages as they
// are first written (mem/ram.ts), and device backing storage (devices/backing.ts).
// Nothing is freed while the machine lives. Linear memory grows only when the pool needs
// it, by at least POOL_GROW_BYTES, so the core holds what the machine has used.
//
// Memory past the pool's top is zero: it is fresh from memory.grow, and a restored
// snapshot carries the zeros of the machine it came from.

import { POOL_BASE, POOL_LIMIT, POOL_GROW_BYTES, WASM_PAGE, RAM_PAGE_BYTES } from "../memmap";
import { core } from "../sim/core";

/** Empties the pool (power-on). */
export function poolReset(): void {
  core.poolTop = <f64>POOL_BASE;
}

/**
 * Takes `bytes` (rounded up to 4 KiB) from the pool, 4 KiB aligned and zero; grows linear
 * memory when needed. Returns the linear address, or 0 when linear memory cannot hold it.
 */
export function poolAlloc(bytes: u64): usize {
  let top = <u64>core.poolTop;
  if (top < <u64>POOL_BASE) top = POOL_BASE;
  const end = top + ((bytes + (RAM_PAGE_BYTES - 1)) & ~<u64>(RAM_PAGE_BYTES - 1));
  if (<f64>end > POOL_LIMIT) return 0;
  const have = <u64>memory.size() * WASM_PAGE;
  if (end > have) {
    let want = end - have;
    if (want < <u64>POOL_GROW_BYTES) want = POOL_GROW_BYTES;
    if (<f64>(have + want) > POOL_LIMIT) want = <u64>POOL_LIMIT - have;
    if (memory.grow(<i32>((want + WASM_PAGE - 1) / WASM_PAGE)) < 0) return 0;
  }
  core.poolTop = <f64>end;
  return <usize>top;
}

/** Bytes of the pool in use (RAM leaf tables, backed RAM pages, device backing storage). */
export function poolUsed(): f64 {
  return core.poolTop < <f64>POOL_BASE ? 0 : core.poolTop - <f64>POOL_BASE;
}
