/**
 * The adapter's DMA: the HAL DMA adapter the port gets for the miniport from what
 * PORT_CONFIGURATION_INFORMATION says (bus master, scatter/gather, 32 or 64-bit, an
 * explicit address width, the largest transfer and the number of physical breaks), and the
 * memory the device reaches that the port hands out — the uncached extension, contiguous
 * memory, SRB extensions — as common buffers, so under an IOMMU their logical addresses
 * are IOVAs mapped for this adapter only.
 */
import { DEVICE_DESCRIPTION, DEVICE_DESCRIPTION_VERSION3, IoGetDmaAdapter, INTERFACE_TYPE } from "../../hal/dma.js";
import { PAGE_SIZE } from "../../mm/pfn.js";
import type { PVOID } from "../../mm/memory.js";
import { SCSI_DMA64_MINIPORT_SUPPORTED, STOR_ADAPTER_DMA_ADDRESS_WIDTH_SPECIFIED } from "./storport.js";
import type { DmaRegion, RAID_ADAPTER_EXTENSION } from "./adapter.js";

/** Gets the adapter's DMA adapter once, as the configuration describes the device. */
export function ensureDmaAdapter(a: RAID_ADAPTER_EXTENSION): boolean {
  if (a.DmaAdapter) return true;
  const c = a.ConfigInfo;
  const d = new DEVICE_DESCRIPTION();
  d.Version = DEVICE_DESCRIPTION_VERSION3;
  d.Master = c.Master;
  d.ScatterGather = c.ScatterGather;
  d.Dma32BitAddresses = c.Dma32BitAddresses;
  d.Dma64BitAddresses = (c.Dma64BitAddresses & SCSI_DMA64_MINIPORT_SUPPORTED) !== 0 || c.Dma64BitAddresses > 1;
  d.InterfaceType = INTERFACE_TYPE.PCIBus;
  // Enough map registers for the largest transfer at any page offset, or as many breaks as the adapter takes.
  d.MaximumLength = Math.max(c.MaximumTransferLength, (c.NumberOfPhysicalBreaks + 1) * PAGE_SIZE - PAGE_SIZE);
  if ((c.FeatureSupport & STOR_ADAPTER_DMA_ADDRESS_WIDTH_SPECIFIED) !== 0) d.DmaAddressWidth = c.DmaAddressWidth;
  const { DmaAdapter, NumberOfMapRegisters } = IoGetDmaAdapter(a.PhysicalDeviceObject, d);
  if (!DmaAdapter) return false;
  a.DmaAdapter = DmaAdapter;
  a.NumberOfMapRegisters = NumberOfMapRegisters;
  return true;
}

/** `length` bytes of memory the adapter's DMA reaches (PASSIVE_LEVEL), recorded for StorPortGetPhysicalAddress. */
export function allocateDmaMemory(a: RAID_ADAPTER_EXTENSION, length: number): DmaRegion | null {
  if (!ensureDmaAdapter(a)) return null;
  const dma = a.DmaAdapter!;
  const { VirtualAddress, LogicalAddress } = dma.DmaOperations.AllocateCommonBuffer(dma, length, true);
  if (VirtualAddress === 0) return null;
  const region: DmaRegion = { va: VirtualAddress, logical: LogicalAddress, length };
  a.DmaRegions.push(region);
  return region;
}

/** Gives back memory from allocateDmaMemory; false when `va` is not the start of such memory. */
export function freeDmaMemory(a: RAID_ADAPTER_EXTENSION, va: PVOID): boolean {
  const i = a.DmaRegions.findIndex((r) => r.va === va);
  if (i < 0 || !a.DmaAdapter) return false;
  const r = a.DmaRegions[i];
  a.DmaAdapter.DmaOperations.FreeCommonBuffer(a.DmaAdapter, r.length, r.logical, r.va, true);
  a.DmaRegions.splice(i, 1);
  if (a.UncachedExtension === r) a.UncachedExtension = null;
  return true;
}

/** Releases every region and the DMA adapter (the adapter is being removed or stopped). */
export function releaseDma(a: RAID_ADAPTER_EXTENSION): void {
  while (a.DmaRegions.length > 0) freeDmaMemory(a, a.DmaRegions[a.DmaRegions.length - 1].va);
  if (a.DmaAdapter) {
    a.DmaAdapter.DmaOperations.PutDmaAdapter(a.DmaAdapter);
    a.DmaAdapter = null;
  }
}
