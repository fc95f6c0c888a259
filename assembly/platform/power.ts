// Power-on: builds the platform from the staged MachineConfig (CPUs, RAM, ECAM, TLBs) and
// adds devices one DeviceConfig at a time; then the firmware stage (firmware.ts) describes
// the result in guest RAM.

import { CORE_STATE_BASE, CORE_STATE_SIZE, IOTLB_MAX_ENTRIES, MAX_CPUS, MAX_FUNCTIONS, TLB_MAX_ENTRIES } from "../memmap";
import { core, COUNTERS_OFFSET, COUNTER_COUNT } from "../sim/core";
import { cpuBase, cpuState, CPU_ARRIVAL_OFFSET } from "../sim/cpu";
import { queueClear } from "../sim/queue";
import { randomSeed } from "../sim/random";
import { faultsReset } from "../pci/injected-faults";
import { clockSetKHz } from "../sim/clock";
import { ramReset, ramAddRegion, ramMap, ramCovers, ramRegionCount, ramRegionBase, ramRegionSize, RAM_ERROR_TOO_LARGE } from "../mem/ram";
import { poolReset } from "../mem/pool";
import { tlbFlush } from "../mem/tlb";
import { apicReset } from "../irq/apic";
import { ioapicReset, IOAPIC_MMIO_BASE, IOAPIC_MMIO_SIZE } from "../irq/ioapic";
import { iommuReset, IOMMU_MMIO_BASE, IOMMU_MMIO_SIZE } from "../dma/iommu";
import { intxReset } from "../irq/intx";
import { decodeReset } from "../pci/decode";
import { PciFunction, functionCount, setFunctionCount, pciFunction, findFunction, functionClock, functionLink, functionTopology, NO_PARENT } from "../pci/function";
import { configBuild, configSetMultiFunction } from "../pci/config";
import { capabilitiesBuild, capabilitiesValid } from "../pci/capabilities";
import { linkConfigure } from "../dma/link";
import { deviceCreate } from "../devices/index";
import { deviceHeapReset } from "../devices/heap";
import { platform } from "./platform";
import { cpuClockSetKHz, cyclesToPsCpu } from "./cpuclock";
import { machineConfig, deviceConfig, RAM_REGION_STRIDE, BAR_FLAG_64BIT, BAR_FLAG_IO, DeviceConfig, MachineConfig } from "./config";
import { FIRMWARE_TABLES_BASE, FIRMWARE_TABLES_SIZE, LAPIC_WINDOW_BASE, LAPIC_WINDOW_SIZE } from "./platform";

/** powerOn result: the machine is built. */
export const POWER_OK: i32 = 0;
/** powerOn error: CPU count outside 1..MAX_CPUS or a zero clock. */
export const POWER_ERROR_CPUS: i32 = -1;
/** powerOn error: RAM regions overlap, are not 4 KiB aligned, or are too many. */
export const POWER_ERROR_RAM_LAYOUT: i32 = -2;
/** powerOn error: a RAM region reaches past RAM_PHYS_LIMIT, or linear memory cannot hold the RAM directory's leaf tables. */
export const POWER_ERROR_RAM_TOO_LARGE: i32 = -3;
/** powerOn error: TLB size not a power of two in 1..TLB_MAX_ENTRIES. */
export const POWER_ERROR_TLB: i32 = -4;
/** powerOn error: no RAM backs the firmware area below 1 MiB. */
export const POWER_ERROR_NO_LOW_RAM: i32 = -5;
/** powerOn error: ECAM bus count outside 1..256. */
export const POWER_ERROR_ECAM: i32 = -6;
/** powerOn error: IOTLB size not a power of two up to IOTLB_MAX_ENTRIES. */
export const POWER_ERROR_IOMMU: i32 = -7;
/** powerOn error: a RAM region overlaps ECAM, the PCI memory window, or the interrupt controllers' or IOMMU's registers. */
export const POWER_ERROR_RAM_OVERLAPS_MMIO: i32 = -8;

/** addDevice error: bus, device or function number out of range or outside ECAM, a parent that is not a bridge added earlier, or bad bridge bus numbers. */
export const DEVICE_ERROR_ADDRESS: i32 = -1;
/** addDevice error: that bus/device/function is already populated. */
export const DEVICE_ERROR_DUPLICATE: i32 = -2;
/** addDevice error: a BAR size is not a power of two, too small, or a 64-bit BAR lacks its upper slot. */
export const DEVICE_ERROR_BAR: i32 = -3;
/** addDevice error: a capability's offset or size is invalid, or capabilities overlap. */
export const DEVICE_ERROR_MSI: i32 = -4;
/** addDevice error: link generation or width invalid. */
export const DEVICE_ERROR_LINK: i32 = -5;
/** addDevice error: unknown device model, or the device heap is full. */
export const DEVICE_ERROR_MODEL: i32 = -6;
/** addDevice error: the machine already has MAX_FUNCTIONS functions. */
export const DEVICE_ERROR_FULL: i32 = -7;

function isPowerOfTwo(x: u64): bool {
  return x != 0 && (x & (x - 1)) == 0;
}

/** True if some RAM region overlaps [base, base + size) (bytes). */
function ramOverlaps(base: u64, size: u64): bool {
  for (let i: u32 = 0; i < ramRegionCount(); i++) {
    const b = ramRegionBase(i);
    if (base < b + ramRegionSize(i) && b < base + size) return true;
  }
  return false;
}

/** True if RAM stays clear of every window that decodes to registers (RAM would shadow them). */
function ramClearOfMmio(mc: MachineConfig): bool {
  return !ramOverlaps(platform.ecamBase, <u64>platform.ecamBusCount << 20)
    && !ramOverlaps(<u64>mc.mmioWindowBase, <u64>mc.mmioWindowSize)
    && !ramOverlaps(IOAPIC_MMIO_BASE, IOAPIC_MMIO_SIZE)
    && !ramOverlaps(IOMMU_MMIO_BASE, IOMMU_MMIO_SIZE)
    && !ramOverlaps(LAPIC_WINDOW_BASE, LAPIC_WINDOW_SIZE);
}

/** Builds the platform from MachineConfig. Returns POWER_OK or a POWER_ERROR_*. */
export function powerOn(): i32 {
  const mc = machineConfig;
  if (mc.cpuCount == 0 || mc.cpuCount > MAX_CPUS || mc.cpuKHz == 0) return POWER_ERROR_CPUS;
  if (!isPowerOfTwo(mc.tlbEntries) || mc.tlbEntries > TLB_MAX_ENTRIES) return POWER_ERROR_TLB;
  if (mc.ecamBusCount == 0 || mc.ecamBusCount > 256) return POWER_ERROR_ECAM;

  // No RAM until the regions are added and mapped below (before the core state, which records what to clear).
  ramReset();
  const traceEnabled = core.traceEnabled;
  memory.fill(CORE_STATE_BASE, 0, CORE_STATE_SIZE);
  core.traceEnabled = traceEnabled;
  poolReset();
  queueClear();
  randomSeed((<u64>mc.seedHi << 32) | mc.seedLo);
  faultsReset((<u64>mc.seedHi << 32) | mc.seedLo);
  core.cpuCount = mc.cpuCount;

  platform.ecamBase = <u64>mc.ecamBase;
  platform.ecamBusCount = mc.ecamBusCount;
  platform.memoryReadLatencyPs = <u64>mc.memoryReadLatencyNs * 1000;
  platform.postedWriteCredits = mc.postedWriteCredits;
  platform.tlbEntries = mc.tlbEntries;
  platform.tlbMissCycles = mc.tlbMissCycles;
  cpuClockSetKHz(mc.cpuKHz);
  platform.tlbMissPs = cyclesToPsCpu(mc.tlbMissCycles);

  for (let i: u32 = 0; i < mc.cpuCount; i++) {
    memory.fill(cpuBase(i), 0, CPU_ARRIVAL_OFFSET + 256 * 8);
    cpuState(i).apicId = i;
    tlbFlush(i, false);
  }
  apicReset();
  ioapicReset();
  if (mc.iommuPresent != 0 && (!isPowerOfTwo(mc.iotlbEntries) || mc.iotlbEntries > IOTLB_MAX_ENTRIES)) return POWER_ERROR_IOMMU;
  iommuReset(mc.iommuPresent != 0, mc.iommuPresent != 0 ? mc.iotlbEntries : 1, <u64>mc.iotlbMissNs * 1000);

  for (let i: u32 = 0; i < mc.ramRegionCount; i++) {
    const b = load<f64>(changetype<usize>(mc) + offsetof<MachineConfig>("ramBase0") + i * RAM_REGION_STRIDE);
    const s = load<f64>(changetype<usize>(mc) + offsetof<MachineConfig>("ramSize0") + i * RAM_REGION_STRIDE);
    const err = ramAddRegion(<u64>b, <u64>s);
    if (err == RAM_ERROR_TOO_LARGE) return POWER_ERROR_RAM_TOO_LARGE;
    if (err != 0) return POWER_ERROR_RAM_LAYOUT;
  }
  if (!ramClearOfMmio(mc)) return POWER_ERROR_RAM_OVERLAPS_MMIO;
  if (ramMap() != 0) return POWER_ERROR_RAM_TOO_LARGE;

  setFunctionCount(0);
  decodeReset();
  intxReset();
  deviceHeapReset();
  if (!ramCovers(FIRMWARE_TABLES_BASE, FIRMWARE_TABLES_SIZE)) return POWER_ERROR_NO_LOW_RAM;
  return POWER_OK;
}

function barsValid(dc: DeviceConfig): bool {
  for (let bar: u32 = 0; bar < 6; bar++) {
    const size = <u64>load<f64>(changetype<usize>(dc) + offsetof<DeviceConfig>("barSize0") + (bar << 3));
    const flags = load<u32>(changetype<usize>(dc) + offsetof<DeviceConfig>("barFlags0") + (bar << 2));
    if (size == 0) continue;
    if (!isPowerOfTwo(size)) return false;
    if ((flags & BAR_FLAG_IO) != 0) { if (size < 4 || size > 256) return false; continue; }
    if (size < 16) return false;
    if ((flags & BAR_FLAG_64BIT) != 0) {
      if (bar == 5) return false;
      const upper = <u64>load<f64>(changetype<usize>(dc) + offsetof<DeviceConfig>("barSize0") + ((bar + 1) << 3));
      if (upper != 0) return false;
      bar++;
    } else if (size > 0x80000000) return false;
  }
  return true;
}

/** Adds the device in DeviceConfig. Returns its function index or a DEVICE_ERROR_*. */
export function addDevice(): i32 {
  const dc = deviceConfig;
  if (dc.bus >= platform.ecamBusCount || dc.device >= 32 || dc.function >= 8) return DEVICE_ERROR_ADDRESS;
  const bdf = (dc.bus << 8) | (dc.device << 3) | dc.function;
  if (findFunction(bdf) >= 0) return DEVICE_ERROR_DUPLICATE;
  if (dc.isBridge != 0 && (dc.secondaryBus <= dc.bus || dc.subordinateBus < dc.secondaryBus || dc.subordinateBus >= platform.ecamBusCount)) return DEVICE_ERROR_ADDRESS;
  if (functionCount() >= MAX_FUNCTIONS) return DEVICE_ERROR_FULL;
  if (!barsValid(dc)) return DEVICE_ERROR_BAR;
  if (!capabilitiesValid(dc)) return DEVICE_ERROR_MSI;

  const fn = functionCount();
  if (dc.parent != NO_PARENT && (dc.parent >= fn || functionTopology(dc.parent).isBridge == 0)) return DEVICE_ERROR_ADDRESS;
  const f = pciFunction(fn);
  memory.fill(changetype<usize>(f), 0, 256);
  f.bdf = bdf;
  functionTopology(fn).parent = dc.parent;
  functionTopology(fn).isBridge = dc.isBridge;
  f.model = dc.model;
  f.pciExpress = dc.pciExpress;
  for (let bar: u32 = 0; bar < 6; bar++) {
    store<u64>(changetype<usize>(f) + offsetof<PciFunction>("barSize0") + (bar << 3),
      <u64>load<f64>(changetype<usize>(dc) + offsetof<DeviceConfig>("barSize0") + (bar << 3)));
    store<u32>(changetype<usize>(f) + offsetof<PciFunction>("barFlags0") + (bar << 2),
      load<u32>(changetype<usize>(dc) + offsetof<DeviceConfig>("barFlags0") + (bar << 2)));
  }
  if (!linkConfigure(functionLink(fn), dc.linkGeneration, dc.linkWidth, dc.linkLatencyNs,
      dc.tlpOverheadBytes, dc.maxPayloadSize, dc.maxReadRequestSize)
      || !isPowerOfTwo(dc.maxPayloadSize) || dc.maxPayloadSize < 128 || dc.maxPayloadSize > 4096
      || !isPowerOfTwo(dc.maxReadRequestSize) || dc.maxReadRequestSize < 128 || dc.maxReadRequestSize > 4096) {
    return DEVICE_ERROR_LINK;
  }
  clockSetKHz(functionClock(fn), dc.clockKHz);
  setFunctionCount(fn + 1);
  configBuild(fn, dc);
  if (!capabilitiesBuild(fn, dc) || !deviceCreate(fn)) { setFunctionCount(fn); return DEVICE_ERROR_MODEL; }

  // A device with more than one function sets the multi-function bit.
  let siblings: u32 = 0;
  for (let i: u32 = 0; i <= fn; i++) if ((pciFunction(i).bdf >> 3) == (bdf >> 3)) siblings++;
  if (siblings > 1) {
    for (let i: u32 = 0; i <= fn; i++) if ((pciFunction(i).bdf >> 3) == (bdf >> 3)) configSetMultiFunction(i);
  }
  return <i32>fn;
}
