/**
 * DMA adapters: IoGetDmaAdapter takes a DEVICE_DESCRIPTION (bus master, scatter/gather,
 * 32- or 64-bit addressing or an explicit address width) and returns a DMA_ADAPTER whose
 * DmaOperations are the HAL's DMA routines, and the number of map registers one transfer
 * may use. The adapter owns what makes memory reachable for its device: bounce pages
 * below its reach when the machine has RAM above it, or, on a machine with an IOMMU, the
 * device's translation domain (every logical address is then an IOVA). Common buffers
 * are here; scatter/gather lists in scatter-gather.ts; packet DMA (adapter channels,
 * MapTransfer, FlushAdapterBuffers) in adapter-channel.ts.
 */
import { KE, type Kernel } from "../ke/kernel.js";
import { PASSIVE_LEVEL } from "../ke/irql.js";
import { MmAllocateContiguousMemorySpecifyCache, MmFreeContiguousMemory, MmGetPhysicalAddress, MEMORY_CACHING_TYPE, type PHYSICAL_ADDRESS } from "../mm/physical.js";
import type { PVOID } from "../mm/memory.js";
import { PAGE_SIZE } from "../mm/pfn.js";
import type { MDL } from "../mm/mdl.js";
import type { NTSTATUS } from "../ke/ntstatus.js";
import { HAL } from "./hal.js";
import type { BusLocation } from "./bus.js";
import type { HalIommu, IommuDomain } from "./iommu.js";
import { QuarantineRing } from "../ke/quarantine.js";
import { IOMMU_READ, IOMMU_WRITE } from "./iommu.js";
import { BouncePages, type MappingTarget } from "./map-registers.js";
import {
  DMA_ADAPTER_RELEASED, DMA_FREED_TOO_MANY_COMMON_BUFFERS, DMA_OUTSTANDING_ADAPTER_CHANNELS, DMA_OUTSTANDING_COMMON_BUFFERS,
  DMA_OUTSTANDING_MAP_REGISTERS, DMA_OUTSTANDING_SCATTER_GATHER_LISTS, dmaViolation, verify, verifyIrqlIs,
} from "./dma-verifier.js";
import {
  BuildScatterGatherList, CalculateScatterGatherList, GetScatterGatherList, PutScatterGatherList, SG_LIST_LIMIT, SG_LIST_QUARANTINE,
  type PDRIVER_LIST_CONTROL, type SCATTER_GATHER_LIST,
} from "./scatter-gather.js";
import {
  AllocateAdapterChannel, FlushAdapterBuffers, FreeAdapterChannel, FreeMapRegisters, MapTransfer,
  type MAP_REGISTER_BASE, type PDRIVER_CONTROL,
} from "./adapter-channel.js";

/** What the DMA routines need of a device object (the I/O manager's DEVICE_OBJECT has it): its current IRP, and for a PDO where it sits on its bus. */
export interface DmaDeviceObject {
  CurrentIrp: unknown;
  busLocation?: BusLocation | null;
}

/** DEVICE_DESCRIPTION versions. */
export const DEVICE_DESCRIPTION_VERSION = 0;
export const DEVICE_DESCRIPTION_VERSION1 = 1;
export const DEVICE_DESCRIPTION_VERSION2 = 2;
export const DEVICE_DESCRIPTION_VERSION3 = 3;

/** INTERFACE_TYPE values used for DMA descriptions. */
export enum INTERFACE_TYPE {
  Internal = 0,
  Isa = 1,
  PCIBus = 5,
  PNPBus = 15,
}

/** DEVICE_DESCRIPTION: what a device's DMA can do. */
export class DEVICE_DESCRIPTION {
  Version = DEVICE_DESCRIPTION_VERSION;
  Master = false;
  ScatterGather = false;
  Dma32BitAddresses = false;
  Dma64BitAddresses = false;
  InterfaceType: INTERFACE_TYPE = INTERFACE_TYPE.PCIBus;
  /** Largest transfer, bytes. */
  MaximumLength = 0;
  /** Address bits the device drives (version 3; 0 = decided by the flags). */
  DmaAddressWidth = 0;
}

/** DMA_OPERATIONS: the adapter's routines, as in the WDK (out parameters are returned). */
export interface DMA_OPERATIONS {
  PutDmaAdapter(DmaAdapter: DMA_ADAPTER): void;
  AllocateCommonBuffer(DmaAdapter: DMA_ADAPTER, Length: number, CacheEnabled: boolean): { VirtualAddress: PVOID; LogicalAddress: PHYSICAL_ADDRESS };
  FreeCommonBuffer(DmaAdapter: DMA_ADAPTER, Length: number, LogicalAddress: PHYSICAL_ADDRESS, VirtualAddress: PVOID, CacheEnabled: boolean): void;
  AllocateAdapterChannel<D extends DmaDeviceObject>(DmaAdapter: DMA_ADAPTER, DeviceObject: D, NumberOfMapRegisters: number, ExecutionRoutine: PDRIVER_CONTROL<D>, Context: unknown): NTSTATUS;
  FlushAdapterBuffers(DmaAdapter: DMA_ADAPTER, Mdl: MDL, MapRegisterBase: MAP_REGISTER_BASE, CurrentVa: PVOID, Length: number, WriteToDevice: boolean): boolean;
  FreeAdapterChannel(DmaAdapter: DMA_ADAPTER): void;
  FreeMapRegisters(DmaAdapter: DMA_ADAPTER, MapRegisterBase: MAP_REGISTER_BASE, NumberOfMapRegisters: number): void;
  MapTransfer(DmaAdapter: DMA_ADAPTER, Mdl: MDL, MapRegisterBase: MAP_REGISTER_BASE, CurrentVa: PVOID, Length: number, WriteToDevice: boolean): { LogicalAddress: PHYSICAL_ADDRESS; Length: number };
  GetDmaAlignment(DmaAdapter: DMA_ADAPTER): number;
  GetScatterGatherList<D extends DmaDeviceObject>(DmaAdapter: DMA_ADAPTER, DeviceObject: D, Mdl: MDL, CurrentVa: PVOID, Length: number, ExecutionRoutine: PDRIVER_LIST_CONTROL<D>, Context: unknown, WriteToDevice: boolean): NTSTATUS;
  PutScatterGatherList(DmaAdapter: DMA_ADAPTER, ScatterGather: SCATTER_GATHER_LIST, WriteToDevice: boolean): void;
  CalculateScatterGatherList(DmaAdapter: DMA_ADAPTER, Mdl: MDL | null, CurrentVa: PVOID, Length: number): { status: NTSTATUS; ScatterGatherListSize: number; NumberOfMapRegisters: number };
  BuildScatterGatherList<D extends DmaDeviceObject>(DmaAdapter: DMA_ADAPTER, DeviceObject: D, Mdl: MDL, CurrentVa: PVOID, Length: number, ExecutionRoutine: PDRIVER_LIST_CONTROL<D>, Context: unknown, WriteToDevice: boolean, ScatterGatherBuffer: PVOID, ScatterGatherBufferLength: number): NTSTATUS;
}

/** A common buffer handed out: its length and, under DMA remapping, its IOVA. */
interface CommonBuffer {
  length: number;
  logical: number;
  pages: number;
}

/** A DMA adapter. */
export class DMA_ADAPTER implements MappingTarget {
  Version = 1;
  readonly DmaOperations: DMA_OPERATIONS = OPERATIONS;
  /** Kernel-space address, for bug check parameters. */
  readonly address: number;
  /** Highest logical address the device can drive. */
  readonly maximumAddress: number;
  /** Map registers one transfer may use (IoGetDmaAdapter's NumberOfMapRegisters). */
  readonly mapRegisterLimit: number;
  readonly bounce: BouncePages | null;
  readonly iommu: HalIommu | null;
  readonly domain: IommuDomain | null;
  released = false;
  readonly commonBuffers = new Map<PVOID, CommonBuffer>();
  /** Scatter/gather lists built and put back, map register bases outstanding, the adapter channel's holder. */
  listsAllocated = 0;
  listsFreed = 0;
  mapRegisterBases = 0;
  channel: MAP_REGISTER_BASE | null = null;
  /** Requests waiting for map registers or the channel, retried in order as they free up. */
  readonly waiting: DmaWaiter[] = [];
  /** Scatter/gather lists put back, kept for reuse. */
  readonly freedLists = new QuarantineRing<SCATTER_GATHER_LIST>(SG_LIST_QUARANTINE, SG_LIST_LIMIT);

  constructor(k: Kernel, readonly description: DEVICE_DESCRIPTION, readonly device: DmaDeviceObject, mapRegisters: number, requester: number) {
    this.address = k.objectAddress(0x100);
    const width = description.Version >= DEVICE_DESCRIPTION_VERSION3 && description.DmaAddressWidth > 0 ? description.DmaAddressWidth
      : description.Dma64BitAddresses ? 64 : description.Dma32BitAddresses || description.Master ? 32 : 24;
    this.maximumAddress = Math.min(2 ** width, Number.MAX_SAFE_INTEGER + 1) - 1;
    this.mapRegisterLimit = mapRegisters;
    const hal = HAL(k);
    this.iommu = hal.iommu;
    this.domain = hal.iommu && requester >= 0 ? hal.iommu.domain(requester, (device as { address?: number }).address ?? 0) : null;
    const ramEnd = Math.max(...hal.platform.usableRam.map((r) => r.base + r.size));
    this.bounce = !this.domain && ramEnd - 1 > this.maximumAddress
      ? new BouncePages(k, mapRegisters, Math.min(this.maximumAddress, 2 ** 32 - 1)) : null;
  }

  /** Runs waiting requests, in order, while they can proceed. */
  retryWaiting(): void {
    while (this.waiting.length > 0 && this.waiting[0].attempt()) this.waiting.shift();
  }
}

/** A request for map registers or the adapter channel: `attempt` starts it and returns true, or returns false while it must wait. */
export interface DmaWaiter {
  attempt(): boolean;
}

/** 0xE6 0x18 when a driver uses an adapter it has put back. */
export function liveAdapter(k: Kernel, a: DMA_ADAPTER): void {
  if (a.released) dmaViolation(k, DMA_ADAPTER_RELEASED, a.address, 0, 0);
}

/** PutDmaAdapter: releases the adapter; under the verifier it must hold nothing. */
function PutDmaAdapter(a: DMA_ADAPTER): void {
  const k = KE();
  liveAdapter(k, a);
  verifyIrqlIs(k, PASSIVE_LEVEL);
  verify(k, a.commonBuffers.size === 0, DMA_OUTSTANDING_COMMON_BUFFERS, a.address, a.commonBuffers.size);
  verify(k, a.channel === null, DMA_OUTSTANDING_ADAPTER_CHANNELS, a.address, 1);
  verify(k, a.mapRegisterBases === 0, DMA_OUTSTANDING_MAP_REGISTERS, a.address, a.mapRegisterBases);
  verify(k, a.listsAllocated === a.listsFreed, DMA_OUTSTANDING_SCATTER_GATHER_LISTS, a.address, a.listsAllocated - a.listsFreed);
  a.bounce?.free(k);
  a.released = true;
}

/**
 * AllocateCommonBuffer (PASSIVE_LEVEL): physically contiguous memory both the CPU and the
 * device reach; its logical address is the physical address, or an IOVA mapped for the
 * device under DMA remapping.
 */
function AllocateCommonBuffer(a: DMA_ADAPTER, Length: number, CacheEnabled: boolean): { VirtualAddress: PVOID; LogicalAddress: PHYSICAL_ADDRESS } {
  const k = KE();
  liveAdapter(k, a);
  verifyIrqlIs(k, PASSIVE_LEVEL);
  k.chargePs(k.cost.AllocateCommonBuffer);
  const none = { VirtualAddress: 0, LogicalAddress: 0 };
  const pages = Math.ceil(Length / PAGE_SIZE);
  const highest = a.domain ? Number.MAX_SAFE_INTEGER : a.maximumAddress;
  const va = Length > 0 ? MmAllocateContiguousMemorySpecifyCache(Length, 0, highest, 0, CacheEnabled ? MEMORY_CACHING_TYPE.MmCached : MEMORY_CACHING_TYPE.MmNonCached) : 0;
  if (va === 0) return none;
  const pa = MmGetPhysicalAddress(va);
  let logical = pa;
  if (a.domain && a.iommu) {
    const iova = a.domain.iova.allocate(pages * PAGE_SIZE);
    if (iova < 0 || iova + pages * PAGE_SIZE - 1 > a.maximumAddress) {
      if (iova >= 0) a.domain.iova.release(iova, pages * PAGE_SIZE);
      MmFreeContiguousMemory(va);
      return none;
    }
    for (let i = 0; i < pages; i++) a.iommu.map(a.domain, iova + i * PAGE_SIZE, pa + i * PAGE_SIZE, IOMMU_READ | IOMMU_WRITE);
    logical = iova;
  }
  a.commonBuffers.set(va, { length: Length, logical, pages });
  return { VirtualAddress: va, LogicalAddress: logical };
}

/** FreeCommonBuffer: frees a common buffer; freeing one twice is 0xE6 0x03 under the verifier. */
function FreeCommonBuffer(a: DMA_ADAPTER, _Length: number, _LogicalAddress: PHYSICAL_ADDRESS, VirtualAddress: PVOID): void {
  const k = KE();
  liveAdapter(k, a);
  const b = a.commonBuffers.get(VirtualAddress);
  verify(k, b !== undefined, DMA_FREED_TOO_MANY_COMMON_BUFFERS, 1);
  if (!b) return;
  if (a.domain && a.iommu) {
    a.iommu.unmap(a.domain, b.logical, b.pages);
    a.domain.iova.release(b.logical, b.pages * PAGE_SIZE);
  }
  MmFreeContiguousMemory(VirtualAddress);
  a.commonBuffers.delete(VirtualAddress);
}

const OPERATIONS: DMA_OPERATIONS = {
  PutDmaAdapter,
  AllocateCommonBuffer,
  FreeCommonBuffer,
  AllocateAdapterChannel,
  FlushAdapterBuffers,
  FreeAdapterChannel,
  FreeMapRegisters,
  MapTransfer,
  /** x64 DMA needs no alignment beyond a byte. */
  GetDmaAlignment: () => 1,
  GetScatterGatherList,
  PutScatterGatherList,
  CalculateScatterGatherList,
  BuildScatterGatherList,
};

/** The PCI requester ID (bus << 8 | device << 3 | function) of a PCI PDO, from its bus location; -1 for other devices. */
function requesterOf(pdo: DmaDeviceObject): number {
  const where = pdo.busLocation;
  if (!where || where.LegacyBusType !== INTERFACE_TYPE.PCIBus) return -1;
  return (where.BusNumber << 8) | ((where.Address >>> 16) << 3) | (where.Address & 0x7);
}

/** Most map registers the HAL gives one adapter. */
const MAX_MAP_REGISTERS = 256;

/**
 * IoGetDmaAdapter: an adapter for the device's DMA, and the number of map registers one
 * transfer may use: the pages of a MaximumLength transfer at any offset, capped.
 */
export function IoGetDmaAdapter(PhysicalDeviceObject: DmaDeviceObject, DeviceDescription: DEVICE_DESCRIPTION): { DmaAdapter: DMA_ADAPTER | null; NumberOfMapRegisters: number } {
  const k = KE();
  if (!PhysicalDeviceObject || DeviceDescription.Version > DEVICE_DESCRIPTION_VERSION3) return { DmaAdapter: null, NumberOfMapRegisters: 0 };
  const registers = Math.min(Math.ceil(Math.max(DeviceDescription.MaximumLength, 1) / PAGE_SIZE) + 1, MAX_MAP_REGISTERS);
  const adapter = new DMA_ADAPTER(k, DeviceDescription, PhysicalDeviceObject, registers, requesterOf(PhysicalDeviceObject));
  return { DmaAdapter: adapter, NumberOfMapRegisters: registers };
}
