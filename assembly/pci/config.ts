// Configuration space as data: per function three 4 KiB planes of little-endian words,
// the value, the writable mask and the write-1-to-clear mask. Every write merges through
// them (new = old & ~wmask | val & wmask, then clear w1c bits written as 1); the few
// registers with side effects (command, BARs, MSI control) are handled after the merge.

import { CONFIG_SPACE_BYTES } from "../memmap";
import { configPlane, pciFunction, barSize, barFlags, functionTopology } from "./function";
import {
  CFG_BAR0, CFG_COMMAND, CFG_STATUS, CFG_VENDOR_ID, CFG_DEVICE_ID, CFG_REVISION_ID, CFG_CLASS_CODE,
  CFG_CACHE_LINE_SIZE, CFG_LATENCY_TIMER, CFG_SUBSYSTEM_VENDOR_ID, CFG_SUBSYSTEM_ID, CFG_CAPABILITIES_PTR,
  CFG_INTERRUPT_LINE, CFG_INTERRUPT_PIN, CMD_WRITABLE, STS_W1C, STS_CAPABILITIES, BAR_IO, BAR_MEM_64,
  BAR_PREFETCHABLE, CAP_ID_MSI, MSI_CONTROL, MSI_ADDRESS_LO, MSI_ADDRESS_HI, MSI_CTL_ENABLE,
  MSI_CTL_MMC_SHIFT, MSI_CTL_MME_SHIFT, MSI_CTL_64BIT, MSI_CTL_MASKING, msiDataOffset, msiMaskOffset,
  CMD_INTERRUPT_DISABLE, CFG_HEADER_TYPE, HEADER_TYPE_BRIDGE, CFG_PRIMARY_BUS, CFG_SECONDARY_BUS, CFG_SUBORDINATE_BUS,
  CFG_SECONDARY_LATENCY, CFG_IO_BASE, CFG_SECONDARY_STATUS, CFG_MEMORY_BASE, CFG_MEMORY_LIMIT, CFG_PREFETCH_BASE,
  CFG_PREFETCH_LIMIT, CFG_PREFETCH_BASE_UPPER, CFG_PREFETCH_LIMIT_UPPER, CFG_BRIDGE_CONTROL,
} from "./header";
import { BAR_FLAG_64BIT, BAR_FLAG_IO, BAR_FLAG_PREFETCHABLE, DeviceConfig, MSI_FLAG_64BIT, MSI_FLAG_MASKING } from "../platform/config";
import { decodeRebuild } from "./decode";
import { intxUpdate } from "../irq/intx";
import { capabilityWritten } from "./capabilities";

/** Bytes of the conventional (non-extended) configuration space. */
export const CONVENTIONAL_CONFIG_BYTES: u32 = 256;

// @ts-ignore: decorator
@inline function lanes(offset: u32, size: u32): u32 {
  return (size == 4 ? 0xFFFFFFFF : ((<u32>1 << (size << 3)) - 1)) << ((offset & 3) << 3);
}

/** Sets bits of a config field at function init: value, writable and w1c masks (size 1, 2 or 4). */
export function configDefine(fn: u32, offset: u32, size: u32, value: u32, wmask: u32, w1c: u32 = 0): void {
  const p = configPlane(fn) + (offset & ~3);
  const shift = (offset & 3) << 3;
  const lane = lanes(offset, size);
  store<u32>(p, (load<u32>(p) & ~lane) | ((value << shift) & lane));
  store<u32>(p + CONFIG_SPACE_BYTES, (load<u32>(p + CONFIG_SPACE_BYTES) & ~lane) | ((wmask << shift) & lane));
  store<u32>(p + 2 * CONFIG_SPACE_BYTES, (load<u32>(p + 2 * CONFIG_SPACE_BYTES) & ~lane) | ((w1c << shift) & lane));
}

/** Reads a config field without side effects (size 1, 2 or 4, naturally aligned). */
export function configPeek(fn: u32, offset: u32, size: u32): u32 {
  const word = load<u32>(configPlane(fn) + (offset & ~3));
  return (word & lanes(offset, size)) >>> ((offset & 3) << 3);
}

/** Sets read-only status bits directly (device-driven state such as the INTx status bit). */
export function configSetBits(fn: u32, offset: u32, bits: u32, on: bool): void {
  const p = configPlane(fn) + (offset & ~3);
  const b = bits << ((offset & 3) << 3);
  store<u32>(p, on ? load<u32>(p) | b : load<u32>(p) & ~b);
}

/** Builds function `fn`'s type 0 configuration header (capabilities: pci/capabilities.ts) from a DeviceConfig. */
export function configBuild(fn: u32, cfg: DeviceConfig): void {
  memory.fill(configPlane(fn), 0, CONFIG_SPACE_BYTES * 3);
  configDefine(fn, CFG_VENDOR_ID, 2, cfg.vendorId, 0);
  configDefine(fn, CFG_DEVICE_ID, 2, cfg.deviceId, 0);
  configDefine(fn, CFG_COMMAND, 2, 0, CMD_WRITABLE);
  configDefine(fn, CFG_STATUS, 2, 0, 0, STS_W1C);
  configDefine(fn, CFG_REVISION_ID, 1, cfg.revisionId, 0);
  configDefine(fn, CFG_CLASS_CODE, 1, cfg.classCode & 0xFF, 0);
  configDefine(fn, CFG_CLASS_CODE + 1, 2, (cfg.classCode >> 8) & 0xFFFF, 0);
  configDefine(fn, CFG_CACHE_LINE_SIZE, 1, 0, 0xFF);
  // The latency timer is a conventional-PCI register; PCI Express hardwires it to 0.
  configDefine(fn, CFG_LATENCY_TIMER, 1, 0, cfg.pciExpress != 0 ? 0 : 0xFF);
  configDefine(fn, CFG_SUBSYSTEM_VENDOR_ID, 2, cfg.subsystemVendorId, 0);
  configDefine(fn, CFG_SUBSYSTEM_ID, 2, cfg.subsystemId, 0);
  configDefine(fn, CFG_INTERRUPT_LINE, 1, 0, 0xFF);
  configDefine(fn, CFG_INTERRUPT_PIN, 1, cfg.interruptPin, 0);

  if (cfg.isBridge != 0) bridgeHeader(fn, cfg);
  for (let bar: u32 = 0; bar < (cfg.isBridge != 0 ? <u32>2 : <u32>6); bar++) {
    const size = barSize(fn, bar);
    if (size == 0) continue;
    const flags = barFlags(fn, bar);
    const off = CFG_BAR0 + (bar << 2);
    if ((flags & BAR_FLAG_IO) != 0) {
      configDefine(fn, off, 4, BAR_IO, <u32>~(size - 1) & 0xFFFFFFFC);
      continue;
    }
    let low: u32 = (flags & BAR_FLAG_PREFETCHABLE) != 0 ? BAR_PREFETCHABLE : 0;
    if ((flags & BAR_FLAG_64BIT) != 0) low |= BAR_MEM_64;
    configDefine(fn, off, 4, low, <u32>(~(size - 1)) & 0xFFFFFFF0);
    if ((flags & BAR_FLAG_64BIT) != 0) configDefine(fn, off + 4, 4, 0, <u32>(~(size - 1) >> 32));
  }

}

/**
 * The type 1 (PCI-to-PCI bridge) header: bus numbers (primary, secondary, subordinate as
 * firmware programmed them), I/O, memory and prefetchable windows (closed until software
 * opens them), secondary status and bridge control.
 */
function bridgeHeader(fn: u32, cfg: DeviceConfig): void {
  configDefine(fn, CFG_HEADER_TYPE, 1, HEADER_TYPE_BRIDGE, 0);
  configDefine(fn, CFG_PRIMARY_BUS, 1, cfg.bus, 0xFF);
  configDefine(fn, CFG_SECONDARY_BUS, 1, cfg.secondaryBus, 0xFF);
  configDefine(fn, CFG_SUBORDINATE_BUS, 1, cfg.subordinateBus, 0xFF);
  configDefine(fn, CFG_SECONDARY_LATENCY, 1, 0, cfg.pciExpress != 0 ? 0 : 0xFF);
  configDefine(fn, CFG_IO_BASE, 2, 0x00F0, 0xF0F0);
  configDefine(fn, CFG_SECONDARY_STATUS, 2, 0, 0, STS_W1C);
  // Closed windows: base above limit.
  configDefine(fn, CFG_MEMORY_BASE, 2, 0xFFF0, 0xFFF0);
  configDefine(fn, CFG_MEMORY_LIMIT, 2, 0x0000, 0xFFF0);
  configDefine(fn, CFG_PREFETCH_BASE, 2, 0xFFF1, 0xFFF0);
  configDefine(fn, CFG_PREFETCH_LIMIT, 2, 0x0001, 0xFFF0);
  configDefine(fn, CFG_PREFETCH_BASE_UPPER, 4, 0, 0xFFFFFFFF);
  configDefine(fn, CFG_PREFETCH_LIMIT_UPPER, 4, 0, 0xFFFFFFFF);
  configDefine(fn, CFG_BRIDGE_CONTROL, 2, 0, 0x0FFF);
}

/** Marks function `fn` as part of a multi-function device (header type bit 7). */
export function configSetMultiFunction(fn: u32): void {
  configSetBits(fn, CFG_HEADER_TYPE, 0x80, true);
}

/** True when `offset`/`size` is a legal config access for function `fn`. */
function accessOk(offset: u32, size: u32): bool {
  return (size == 1 || size == 2 || size == 4) && (offset & (size - 1)) == 0 && offset < CONFIG_SPACE_BYTES;
}

/** Config read of `size` bytes at `offset` (1, 2 or 4, aligned); all ones when illegal or beyond the function's space. */
export function configRead(fn: u32, offset: u32, size: u32, pcie: bool): u32 {
  const ones: u32 = size == 4 ? 0xFFFFFFFF : (<u32>1 << (size << 3)) - 1;
  if (!accessOk(offset, size)) return ones;
  if (!pcie && offset >= CONVENTIONAL_CONFIG_BYTES) return ones;
  return configPeek(fn, offset, size);
}

/** Config write of `size` bytes at `offset`, merged through the masks, then side effects. */
export function configWrite(fn: u32, offset: u32, size: u32, value: u32, pcie: bool): void {
  if (!accessOk(offset, size)) return;
  if (!pcie && offset >= CONVENTIONAL_CONFIG_BYTES) return;
  const p = configPlane(fn) + (offset & ~3);
  const shift = (offset & 3) << 3;
  const lane = lanes(offset, size);
  const v = (value << shift) & lane;
  const wm = load<u32>(p + CONFIG_SPACE_BYTES) & lane;
  const w1c = load<u32>(p + 2 * CONFIG_SPACE_BYTES) & lane;
  const old = load<u32>(p);
  const merged = ((old & ~wm) | (v & wm)) & ~(v & w1c);
  store<u32>(p, merged);
  if (merged == old) return;

  const dword = offset & ~3;
  if (dword == CFG_COMMAND) {
    decodeRebuild();
    if (((old ^ merged) & CMD_INTERRUPT_DISABLE) != 0) intxUpdate(fn);
  } else if (dword >= CFG_BAR0 && dword < CFG_BAR0 + 24) {
    // BARs, and on a bridge also its bus numbers and memory windows (0x18..0x2C).
    decodeRebuild();
  } else if (functionTopology(fn).isBridge != 0 && dword >= CFG_PRIMARY_BUS && dword <= CFG_PREFETCH_LIMIT_UPPER) {
    decodeRebuild();
  } else {
    capabilityWritten(fn, dword, old, merged);
  }
}
