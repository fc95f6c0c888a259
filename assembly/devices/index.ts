// The device contract: every model implements init, MMIO read and write at an offset
// within one of its BARs, and its own events. This file is the one place that maps a
// model number to its implementation.

import { pciFunction } from "../pci/function";
import { deviceHeapAlloc } from "./heap";
import { eduInit, eduRead, eduWrite, eduEvent, EDU_STATE_BYTES } from "./edu";
import { nvmeCreate, nvmeRead, nvmeWrite, nvmeEvent, nvmeInjectFault } from "./nvme";
import { INJECT_ERROR_MODEL } from "./faults";

/** Model number of QEMU's edu device. */
export const DEVICE_MODEL_EDU: u32 = 1;
/** Model number of the NVMe controller. */
export const DEVICE_MODEL_NVME: u32 = 2;
/** Model number of a PCI-to-PCI bridge (root port, switch port): all its behaviour is its config space. */
export const DEVICE_MODEL_BRIDGE: u32 = 3;

/** Allocates and initialises model state for function `fn`; false for an unknown model or a full heap. */
export function deviceCreate(fn: u32): bool {
  const f = pciFunction(fn);
  // The NVMe controller sizes its state from its parameters and allocates it itself.
  if (f.model == DEVICE_MODEL_NVME) return nvmeCreate(fn);
  let bytes: u32 = 0;
  if (f.model == DEVICE_MODEL_EDU) bytes = EDU_STATE_BYTES;
  else if (f.model == DEVICE_MODEL_BRIDGE) return true;
  else return false;
  const p = deviceHeapAlloc(bytes);
  if (p == 0) return false;
  f.state = <u32>p;
  if (f.model == DEVICE_MODEL_EDU) eduInit(fn);
  return true;
}

/** MMIO read reaching function `fn` at `offset` of BAR `bar`. */
export function deviceRead(fn: u32, bar: u32, offset: u32, size: u32): u64 {
  const model = pciFunction(fn).model;
  if (model == DEVICE_MODEL_EDU && bar == 0) return eduRead(fn, offset, size);
  if (model == DEVICE_MODEL_NVME && bar == 0) return nvmeRead(fn, offset, size);
  return size == 8 ? 0xFFFFFFFFFFFFFFFF : 0xFFFFFFFF;
}

/** MMIO write reaching function `fn` at `offset` of BAR `bar`. */
export function deviceWrite(fn: u32, bar: u32, offset: u32, size: u32, value: u64): void {
  const model = pciFunction(fn).model;
  if (model == DEVICE_MODEL_EDU && bar == 0) eduWrite(fn, offset, size, value);
  else if (model == DEVICE_MODEL_NVME && bar == 0) nvmeWrite(fn, offset, size, value);
}

/** Device-internal event for function `fn`. */
export function deviceEvent(fn: u32, code: u32, arg: u64): void {
  const model = pciFunction(fn).model;
  if (model == DEVICE_MODEL_EDU) eduEvent(fn, code, arg);
  else if (model == DEVICE_MODEL_NVME) nvmeEvent(fn, code, arg);
}

/** Injects fault `kind` (the model's own kinds) with `count` and `value` into function `fn`; INJECT_OK or an INJECT_ERROR_*. */
export function deviceInjectFault(fn: u32, kind: u32, count: u32, value: u32): i32 {
  if (pciFunction(fn).model == DEVICE_MODEL_NVME) return nvmeInjectFault(fn, kind, count, value);
  return INJECT_ERROR_MODEL;
}
