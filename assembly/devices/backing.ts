// Device backing storage: large per-device data (a namespace's blocks) placed in linear
// memory after guest RAM, growing memory as needed. Only device models reach it, never
// the guest: it is not in the RAM table, so no guest-physical address maps to it.

import { GUEST_RAM_BASE, WASM_PAGE } from "../memmap";
import { core, raiseFault, FAULT_DEVICE_HEAP_FULL } from "../sim/core";

/** Allocates `bytes` (zeroed, 4 KiB aligned) of backing storage; 0 when linear memory cannot hold it. */
export function backingAlloc(bytes: u64): usize {
  let top = <u64>core.backingTop;
  if (top < <u64>GUEST_RAM_BASE) top = GUEST_RAM_BASE;
  top = (top + 4095) & ~<u64>4095;
  const end = top + ((bytes + 4095) & ~<u64>4095);
  const limit: u64 = <u64>0x100000000 - WASM_PAGE;
  if (end > limit) { raiseFault(FAULT_DEVICE_HEAP_FULL); return 0; }
  const pages = <i32>((end + WASM_PAGE - 1) / WASM_PAGE) - memory.size();
  if (pages > 0 && memory.grow(pages) < 0) { raiseFault(FAULT_DEVICE_HEAP_FULL); return 0; }
  core.backingTop = <f64>end;
  // Memory beyond the old end is fresh from memory.grow and already zero.
  return <usize>top;
}
