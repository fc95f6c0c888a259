/**
 * DMA adapters (IoGetDmaAdapter) and common buffers. The adapter remembers how many
 * address bits the device drives; a common buffer is physically contiguous memory the
 * device can reach (below 2^width) and the CPU can reach through system space. Without
 * an IOMMU the logical address the device uses is the physical address.
 */
import { KE } from "../ke/kernel.js";
import { MmAllocateContiguousMemorySpecifyCache, MmFreeContiguousMemory, MmGetPhysicalAddress, MEMORY_CACHING_TYPE, type PHYSICAL_ADDRESS } from "../mm/physical.js";
import type { PVOID } from "../mm/memory.js";
import { PAGE_SIZE } from "../mm/pfn.js";

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
  /** Address bits the device drives (version 3). */
  DmaAddressWidth = 0;
}

/** DMA_OPERATIONS: the adapter's routines. */
export interface DMA_OPERATIONS {
  PutDmaAdapter(DmaAdapter: DMA_ADAPTER): void;
  AllocateCommonBuffer(DmaAdapter: DMA_ADAPTER, Length: number, CacheEnabled: boolean): { VirtualAddress: PVOID; LogicalAddress: PHYSICAL_ADDRESS };
  FreeCommonBuffer(DmaAdapter: DMA_ADAPTER, Length: number, LogicalAddress: PHYSICAL_ADDRESS, VirtualAddress: PVOID, CacheEnabled: boolean): void;
}

/** A DMA adapter. */
export class DMA_ADAPTER {
  Version = 1;
  readonly DmaOperations: DMA_OPERATIONS = OPERATIONS;
  /** Highest logical address the device can drive. */
  readonly maximumAddress: number;
  constructor(readonly description: DEVICE_DESCRIPTION) {
    const width = description.Version >= DEVICE_DESCRIPTION_VERSION3 && description.DmaAddressWidth > 0 ? description.DmaAddressWidth
      : description.Dma64BitAddresses ? 64 : description.Dma32BitAddresses || description.Master ? 32 : 24;
    this.maximumAddress = Math.min(2 ** width, Number.MAX_SAFE_INTEGER + 1) - 1;
  }
}

const OPERATIONS: DMA_OPERATIONS = {
  PutDmaAdapter(): void {},

  AllocateCommonBuffer(DmaAdapter, Length, CacheEnabled) {
    const k = KE();
    k.charge("AllocateCommonBuffer");
    const va = MmAllocateContiguousMemorySpecifyCache(Length, 0, DmaAdapter.maximumAddress, 0,
      CacheEnabled ? MEMORY_CACHING_TYPE.MmCached : MEMORY_CACHING_TYPE.MmNonCached);
    return { VirtualAddress: va, LogicalAddress: va === 0 ? 0 : MmGetPhysicalAddress(va) };
  },

  FreeCommonBuffer(_DmaAdapter, _Length, _LogicalAddress, VirtualAddress) {
    MmFreeContiguousMemory(VirtualAddress);
  },
};

/**
 * IoGetDmaAdapter: an adapter for the device's DMA, and the number of map registers
 * (pages one transfer may span) the driver may use.
 */
export function IoGetDmaAdapter(PhysicalDeviceObject: object, DeviceDescription: DEVICE_DESCRIPTION): { DmaAdapter: DMA_ADAPTER | null; NumberOfMapRegisters: number } {
  if (!PhysicalDeviceObject || DeviceDescription.Version > DEVICE_DESCRIPTION_VERSION3) return { DmaAdapter: null, NumberOfMapRegisters: 0 };
  const adapter = new DMA_ADAPTER(DeviceDescription);
  const pages = Math.ceil(Math.max(DeviceDescription.MaximumLength, PAGE_SIZE) / PAGE_SIZE) + 1;
  return { DmaAdapter: adapter, NumberOfMapRegisters: Math.min(pages, 256) };
}
