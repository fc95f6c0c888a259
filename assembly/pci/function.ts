// The PCI function table: one record per populated bus/device/function, holding where
// its config space and model state live, its BAR sizes, its link and its device clock.
//
//   PciFunction (FUNCTION_RECORD_SIZE = 256 bytes)
//   +0   bdf         u32   bus << 8 | device << 3 | function as firmware numbered it at power-on
//   +4   model       u32   DEVICE_MODEL_* (devices/index.ts)
//   +8   state       u32   linear address of the model's state (device heap)
//   +12  pcieCap     u32   config offset of the PCI Express capability, 0 if none
//   +16  msiCap      u32   config offset of the MSI capability, 0 if none
//   +20  intxLevel   u32   the device's INTx output (1 asserted)
//   +24  pmCap       u32   config offset of the power-management capability, 0 if none
//   +28  pciExpress  u32   1 for a PCI Express function (4 KiB config space)
//   +32  barSize0..5 u64 x 6 (+32..+80)
//   +80  barFlags0..5 u32 x 6 (+80..+104)
//   +104 msixCap     u32   config offset of the MSI-X capability, 0 if none
//   +108 msixVectors u32
//   +112 clock       ClockDomain (16 bytes)
//   +128 link        Link (64 bytes)
//   +192 msixTable   u32   linear address of the MSI-X table (16 bytes per vector)
//   +196 msixPba     u32   linear address of the pending-bit array
//   +200 msixTableBar u32, +204 msixTableOffset u32, +208 msixPbaBar u32, +212 msixPbaOffset u32
//   +216 topology    Topology: parent bridge (NO_PARENT on the root bus), header type, removed

import { FUNCTION_RECORD_SIZE, FUNCTION_TABLE_BASE, CONFIG_SPACE_BASE, CONFIG_SPACE_BYTES } from "../memmap";
import { core } from "../sim/core";
import { ClockDomain } from "../sim/clock";
import { Link } from "../dma/link";

@unmanaged
export class PciFunction {
  bdf: u32;
  model: u32;
  state: u32;
  pcieCap: u32;
  msiCap: u32;
  intxLevel: u32;
  pmCap: u32;
  pciExpress: u32;
  barSize0: u64;
  barSize1: u64;
  barSize2: u64;
  barSize3: u64;
  barSize4: u64;
  barSize5: u64;
  barFlags0: u32;
  barFlags1: u32;
  barFlags2: u32;
  barFlags3: u32;
  barFlags4: u32;
  barFlags5: u32;
  msixCap: u32;
  msixVectors: u32;
}

/** MSI-X placement of a function (record offset FUNCTION_MSIX_OFFSET). */
@unmanaged
export class MsixPlacement {
  table: u32;
  pba: u32;
  tableBar: u32;
  tableOffset: u32;
  pbaBar: u32;
  pbaOffset: u32;
}

/** Offset of the function's ClockDomain in its record. */
export const FUNCTION_CLOCK_OFFSET: u32 = 112;
/** Offset of the function's Link in its record. */
export const FUNCTION_LINK_OFFSET: u32 = 128;
/** Offset of the function's MsixPlacement in its record. */
export const FUNCTION_MSIX_OFFSET: u32 = 192;
/** Offset of the function's Topology in its record. */
export const FUNCTION_TOPOLOGY_OFFSET: u32 = 216;

/** Where a function sits: the bridge above it, and whether it is a bridge itself. */
@unmanaged
export class Topology {
  parent: u32;
  isBridge: u32;
  /** 1 once the function has been pulled out of the machine (surprise removal). */
  removed: u32;
}

/** Topology.parent of a function on the root bus. */
export const NO_PARENT: u32 = 0xFFFFFFFF;

/** Topology of function `i`. */
// @ts-ignore: decorator
@inline
export function functionTopology(i: u32): Topology {
  return changetype<Topology>(FUNCTION_TABLE_BASE + i * FUNCTION_RECORD_SIZE + FUNCTION_TOPOLOGY_OFFSET);
}

/** Number of populated functions. */
// @ts-ignore: decorator
@inline
export function functionCount(): u32 {
  return core.functionCount;
}

/** Sets the number of populated functions. */
export function setFunctionCount(n: u32): void {
  core.functionCount = n;
}

/** Function record `i`. */
// @ts-ignore: decorator
@inline
export function pciFunction(i: u32): PciFunction {
  return changetype<PciFunction>(FUNCTION_TABLE_BASE + i * FUNCTION_RECORD_SIZE);
}

/** Clock domain of function `i`'s device core. */
// @ts-ignore: decorator
@inline
export function functionClock(i: u32): ClockDomain {
  return changetype<ClockDomain>(FUNCTION_TABLE_BASE + i * FUNCTION_RECORD_SIZE + FUNCTION_CLOCK_OFFSET);
}

/** Link of function `i`. */
// @ts-ignore: decorator
@inline
export function functionLink(i: u32): Link {
  return changetype<Link>(FUNCTION_TABLE_BASE + i * FUNCTION_RECORD_SIZE + FUNCTION_LINK_OFFSET);
}

/** MSI-X placement of function `i`. */
// @ts-ignore: decorator
@inline
export function functionMsix(i: u32): MsixPlacement {
  return changetype<MsixPlacement>(FUNCTION_TABLE_BASE + i * FUNCTION_RECORD_SIZE + FUNCTION_MSIX_OFFSET);
}

/** Linear address of function `i`'s config value plane (the writable mask follows, then the w1c mask). */
// @ts-ignore: decorator
@inline
export function configPlane(i: u32): usize {
  return CONFIG_SPACE_BASE + <usize>i * CONFIG_SPACE_BYTES * 3;
}

/** Size in bytes of BAR `bar` of function `i` (0 if none or the upper half of a 64-bit BAR). */
export function barSize(i: u32, bar: u32): u64 {
  return load<u64>(changetype<usize>(pciFunction(i)) + offsetof<PciFunction>("barSize0") + (bar << 3));
}

/** BAR_FLAG_* of BAR `bar` of function `i`. */
export function barFlags(i: u32, bar: u32): u32 {
  return load<u32>(changetype<usize>(pciFunction(i)) + offsetof<PciFunction>("barFlags0") + (bar << 2));
}

/** Index of the function whose power-on bus/device/function is `bdf`, or -1. */
export function findFunction(bdf: u32): i32 {
  const n = functionCount();
  for (let i: u32 = 0; i < n; i++) if (pciFunction(i).bdf == bdf) return <i32>i;
  return -1;
}
