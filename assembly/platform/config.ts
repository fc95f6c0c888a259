// Configuration structs that TypeScript writes into CONFIG_BASE before power-on and
// before each addDevice call. Field offsets reach TypeScript through index.ts (offsetof),
// never as retyped numbers.

import { CONFIG_BASE } from "../memmap";

/** Most guest RAM regions. */
export const MAX_RAM_REGIONS: u32 = 8;

/** Machine-wide parameters (written at CONFIG_BASE before powerOn). */
@unmanaged
export class MachineConfig {
  seedLo: u32;
  seedHi: u32;
  cpuCount: u32;
  cpuKHz: u32;
  tlbEntries: u32;
  tlbMissCycles: u32;
  memoryReadLatencyNs: u32;
  ramRegionCount: u32;
  ecamBase: f64;
  ecamBusCount: u32;
  postedWriteCredits: u32;
  mmioWindowBase: f64;
  mmioWindowSize: f64;
  iommuPresent: u32;
  iotlbEntries: u32;
  iotlbMissNs: u32;
  reserved: u32;
  /** RAM region i: base at ramBase0 + 16 * i, size at ramSize0 + 16 * i (bytes, f64). */
  ramBase0: f64;
  ramSize0: f64;
}

/** Bytes from ramBase0 to the next region's base. */
export const RAM_REGION_STRIDE: u32 = 16;
/** Bytes reserved for MachineConfig including its region table. */
export const MACHINE_CONFIG_BYTES: u32 = <u32>offsetof<MachineConfig>("ramBase0") + MAX_RAM_REGIONS * RAM_REGION_STRIDE;

/** Per-device parameters (written at DEVICE_CONFIG_BASE before each addDevice). */
@unmanaged
export class DeviceConfig {
  model: u32;
  bus: u32;
  device: u32;
  function: u32;
  vendorId: u32;
  deviceId: u32;
  revisionId: u32;
  classCode: u32;
  subsystemVendorId: u32;
  subsystemId: u32;
  interruptPin: u32;
  msiVectors: u32;
  msiFlags: u32;
  msiOffset: u32;
  linkGeneration: u32;
  linkWidth: u32;
  maxPayloadSize: u32;
  maxReadRequestSize: u32;
  linkLatencyNs: u32;
  tlpOverheadBytes: u32;
  clockKHz: u32;
  pciExpress: u32;
  /** MSI-X: vectors (0 = no capability), capability offset, table BAR and offset, PBA BAR and offset. */
  msixVectors: u32;
  msixOffset: u32;
  msixTableBar: u32;
  msixTableOffset: u32;
  msixPbaBar: u32;
  msixPbaOffset: u32;
  /** Power-management capability offset (0 = none). */
  pmOffset: u32;
  /** PCI Express capability offset (0 = none) and device/port type (PCIE_TYPE_*). */
  pcieOffset: u32;
  pcieType: u32;
  /** Largest Max Payload Size the function supports, bytes. */
  maxPayloadSupported: u32;
  /** Function index of the bridge this function sits behind (NO_PARENT: the root bus). */
  parent: u32;
  /** 1 for a PCI-to-PCI bridge (type 1 header). */
  isBridge: u32;
  /** For a bridge: the secondary and subordinate bus numbers firmware programs at power-on. */
  secondaryBus: u32;
  subordinateBus: u32;
  /** BAR i: size (bytes, f64, 0 = none) at barSize0 + 8 * i; flags (BAR_FLAG_*) at barFlags0 + 4 * i. */
  barSize0: f64;
  barSize1: f64;
  barSize2: f64;
  barSize3: f64;
  barSize4: f64;
  barSize5: f64;
  barFlags0: u32;
  barFlags1: u32;
  barFlags2: u32;
  barFlags3: u32;
  barFlags4: u32;
  barFlags5: u32;
  /** Model-specific parameters, DEVICE_PARAM_COUNT u32 values from param0. */
  param0: u32;
}

/** Model-specific u32 parameters per device. */
export const DEVICE_PARAM_COUNT: u32 = 32;
/** Where TypeScript writes a DeviceConfig. */
export const DEVICE_CONFIG_BASE: u32 = CONFIG_BASE + 0x400;
/** Bytes reserved for DeviceConfig. */
export const DEVICE_CONFIG_BYTES: u32 = <u32>offsetof<DeviceConfig>("param0") + DEVICE_PARAM_COUNT * 4;

/** BAR flag: I/O space instead of memory. */
export const BAR_FLAG_IO: u32 = 1;
/** BAR flag: 64-bit memory BAR (takes two slots). */
export const BAR_FLAG_64BIT: u32 = 2;
/** BAR flag: prefetchable memory. */
export const BAR_FLAG_PREFETCHABLE: u32 = 4;

/** PCI Express device/port type: endpoint. */
export const PCIE_TYPE_ENDPOINT: u32 = 0;
/** PCI Express device/port type: root port. */
export const PCIE_TYPE_ROOT_PORT: u32 = 4;
/** PCI Express device/port type: switch upstream port. */
export const PCIE_TYPE_UPSTREAM_PORT: u32 = 5;
/** PCI Express device/port type: switch downstream port. */
export const PCIE_TYPE_DOWNSTREAM_PORT: u32 = 6;

/** MSI flag: 64-bit message address. */
export const MSI_FLAG_64BIT: u32 = 1;
/** MSI flag: per-vector masking. */
export const MSI_FLAG_MASKING: u32 = 2;

/** The staged machine config. */
export const machineConfig = changetype<MachineConfig>(CONFIG_BASE);
/** The staged device config. */
export const deviceConfig = changetype<DeviceConfig>(DEVICE_CONFIG_BASE);

/** Model-specific parameter `i` of the staged device config. */
export function deviceParam(i: u32): u32 {
  return load<u32>(DEVICE_CONFIG_BASE + offsetof<DeviceConfig>("param0") + (i << 2));
}
