// MSI-X (shared/specs/pci.md): the capability in config space, and the table and pending
// bit array (PBA) that live in a BAR. The bus routes BAR accesses that fall on the table
// or PBA here before the device sees them. A message for a masked vector (entry mask or
// function mask) sets its pending bit and is sent when unmasked.

import { pciFunction, functionMsix } from "./function";
import { configDefine, configPeek, configSetBits } from "./config";
import { CAP_ID_MSIX, CFG_STATUS, MSIX_CONTROL, MSIX_CTL_ENABLE, MSIX_CTL_FUNCTION_MASK, MSIX_ENTRY_BYTES, MSIX_ENTRY_VECTOR_CONTROL, MSIX_PBA, MSIX_TABLE, STS_CAPABILITIES } from "./header";
import { deviceHeapAlloc } from "../devices/heap";
import { postMessage } from "../dma/port";

/** Builds the capability and allocates the table and PBA. False when the device heap is full. */
export function msixBuild(fn: u32, cap: u32, vectors: u32, tableBar: u32, tableOffset: u32, pbaBar: u32, pbaOffset: u32, next: u32): bool {
  const f = pciFunction(fn);
  const m = functionMsix(fn);
  const table = deviceHeapAlloc(vectors * MSIX_ENTRY_BYTES);
  const pba = deviceHeapAlloc(((vectors + 63) >> 6) << 3);
  if (table == 0 || pba == 0) return false;
  // Every entry starts masked.
  for (let v: u32 = 0; v < vectors; v++) store<u32>(table + v * MSIX_ENTRY_BYTES + MSIX_ENTRY_VECTOR_CONTROL, 1);
  m.table = <u32>table;
  m.pba = <u32>pba;
  m.tableBar = tableBar;
  m.tableOffset = tableOffset;
  m.pbaBar = pbaBar;
  m.pbaOffset = pbaOffset;
  f.msixCap = cap;
  f.msixVectors = vectors;
  configDefine(fn, cap, 1, CAP_ID_MSIX, 0);
  configDefine(fn, cap + 1, 1, next, 0);
  configDefine(fn, cap + MSIX_CONTROL, 2, vectors - 1, MSIX_CTL_ENABLE | MSIX_CTL_FUNCTION_MASK);
  configDefine(fn, cap + MSIX_TABLE, 4, tableOffset | tableBar, 0);
  configDefine(fn, cap + MSIX_PBA, 4, pbaOffset | pbaBar, 0);
  configSetBits(fn, CFG_STATUS, STS_CAPABILITIES, true);
  return true;
}

/** True when function `fn` has MSI-X enabled. */
export function msixEnabled(fn: u32): bool {
  const cap = pciFunction(fn).msixCap;
  return cap != 0 && (configPeek(fn, cap + MSIX_CONTROL, 2) & MSIX_CTL_ENABLE) != 0;
}

// @ts-ignore: decorator
@inline function entry(fn: u32, vector: u32): usize {
  return <usize>functionMsix(fn).table + vector * MSIX_ENTRY_BYTES;
}

function pbaWord(fn: u32, vector: u32): usize {
  return <usize>functionMsix(fn).pba + ((vector >> 5) << 2);
}

function masked(fn: u32, vector: u32): bool {
  const control = configPeek(fn, pciFunction(fn).msixCap + MSIX_CONTROL, 2);
  return (control & MSIX_CTL_FUNCTION_MASK) != 0 || (load<u32>(entry(fn, vector) + MSIX_ENTRY_VECTOR_CONTROL) & 1) != 0;
}

function send(fn: u32, vector: u32): void {
  const e = entry(fn, vector);
  postMessage(fn, (<u64>load<u32>(e, 4) << 32) | <u64>load<u32>(e), load<u32>(e, 8));
}

/** The device signals vector `vector` (taken modulo the table size). False when MSI-X is off. */
export function msixSignal(fn: u32, vector: u32): bool {
  if (!msixEnabled(fn)) return false;
  const v = vector % pciFunction(fn).msixVectors;
  if (masked(fn, v)) {
    const w = pbaWord(fn, v);
    store<u32>(w, load<u32>(w) | (<u32>1 << (v & 31)));
  } else {
    send(fn, v);
  }
  return true;
}

/** Sends every pending vector that is no longer masked. */
export function msixReleasePending(fn: u32): void {
  if (!msixEnabled(fn)) return;
  const n = pciFunction(fn).msixVectors;
  for (let v: u32 = 0; v < n; v++) {
    const w = pbaWord(fn, v);
    const bit: u32 = 1 << (v & 31);
    if ((load<u32>(w) & bit) == 0 || masked(fn, v)) continue;
    store<u32>(w, load<u32>(w) & ~bit);
    send(fn, v);
  }
}

/** Offset into the table (>= 0), PBA (MSIX_IN_PBA | offset) or -1 if (bar, offset) is neither. */
export function msixClaims(fn: u32, bar: u32, offset: u32): i32 {
  const f = pciFunction(fn);
  if (f.msixCap == 0) return -1;
  const m = functionMsix(fn);
  if (bar == m.tableBar && offset >= m.tableOffset && offset - m.tableOffset < f.msixVectors * MSIX_ENTRY_BYTES) return <i32>(offset - m.tableOffset);
  const pbaBytes = ((f.msixVectors + 63) >> 6) << 3;
  if (bar == m.pbaBar && offset >= m.pbaOffset && offset - m.pbaOffset < pbaBytes) return <i32>(MSIX_IN_PBA | (offset - m.pbaOffset));
  return -1;
}

/** Flag in msixClaims' result: the offset is in the PBA. */
export const MSIX_IN_PBA: u32 = 0x40000000;

/** Table/PBA read (aligned 4 or 8 bytes; anything else reads all ones). */
export function msixRead(fn: u32, claim: u32, size: u32): u64 {
  const off = claim & ~MSIX_IN_PBA;
  if ((size != 4 && size != 8) || (off & (size - 1)) != 0) return size == 8 ? 0xFFFFFFFFFFFFFFFF : 0xFFFFFFFF;
  const base: usize = (claim & MSIX_IN_PBA) != 0 ? functionMsix(fn).pba : functionMsix(fn).table;
  return size == 8 ? load<u64>(base + off) : <u64>load<u32>(base + off);
}

/** Table write (aligned 4 or 8 bytes); the PBA is read-only. Unmasking releases a pending message. */
export function msixWrite(fn: u32, claim: u32, size: u32, value: u64): void {
  if ((claim & MSIX_IN_PBA) != 0) return;
  if ((size != 4 && size != 8) || (claim & (size - 1)) != 0) return;
  const base = <usize>functionMsix(fn).table;
  for (let i: u32 = 0; i < size; i += 4) {
    const off = claim + i;
    let v = <u32>(value >> (<u64>i << 3));
    const field = off & 15;
    if (field == 0) v &= 0xFFFFFFFC;
    else if (field == MSIX_ENTRY_VECTOR_CONTROL) v &= 1;
    store<u32>(base + off, v);
  }
  msixReleasePending(fn);
}
