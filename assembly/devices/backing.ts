// Device backing storage: large per-device data (a namespace's blocks) taken from the
// backing pool (mem/pool.ts) at power-on. Only device models reach it, never the guest:
// no RAM directory entry points into it, so no guest-physical address maps to it.

import { raiseFault, FAULT_DEVICE_HEAP_FULL } from "../sim/core";
import { poolAlloc } from "../mem/pool";

/** Allocates `bytes` (zeroed, 4 KiB aligned) of backing storage; 0 when linear memory cannot hold it. */
export function backingAlloc(bytes: u64): usize {
  const p = poolAlloc(bytes);
  if (p == 0) raiseFault(FAULT_DEVICE_HEAP_FULL);
  return p;
}
