// The device heap: model state for each device, bump-allocated at power-on and never freed
// (the machine is rebuilt to change its devices).

import { DEVICE_HEAP_BASE, DEVICE_HEAP_SIZE } from "../memmap";
import { core, raiseFault, FAULT_DEVICE_HEAP_FULL } from "../sim/core";

/** Empties the device heap. */
export function deviceHeapReset(): void {
  core.deviceHeapTop = DEVICE_HEAP_BASE;
}

/** Allocates `bytes` (zeroed, 64-byte aligned) of device state; 0 when the heap is full. */
export function deviceHeapAlloc(bytes: u32): usize {
  const top = core.deviceHeapTop;
  const end = <u64>top + ((<u64>bytes + 63) & ~63);
  if (end > <u64>(DEVICE_HEAP_BASE + DEVICE_HEAP_SIZE)) { raiseFault(FAULT_DEVICE_HEAP_FULL); return 0; }
  core.deviceHeapTop = <u32>end;
  memory.fill(top, 0, bytes);
  return top;
}
