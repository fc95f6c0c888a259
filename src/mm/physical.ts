/**
 * Physical memory for drivers: MmGetPhysicalAddress, MmMapIoSpace / MmUnmapIoSpace (device
 * registers mapped uncached into system space), and contiguous memory below an address
 * limit (MmAllocateContiguousMemorySpecifyCache), which DMA common buffers are built on.
 */
import { lowResourceFailure } from "../verifier/low-resources.js";
import { KE } from "../ke/kernel.js";
import { MM } from "./manager.js";
import { PAGE_SIZE } from "./pfn.js";
import type { PVOID } from "./memory.js";

/** A physical address, bytes. */
export type PHYSICAL_ADDRESS = number;

/** MEMORY_CACHING_TYPE. */
export enum MEMORY_CACHING_TYPE {
  MmNonCached = 0,
  MmCached = 1,
  MmWriteCombined = 2,
}

/** MmGetPhysicalAddress: the physical address `BaseAddress` maps to, or 0 if it maps to nothing. */
export function MmGetPhysicalAddress(BaseAddress: PVOID): PHYSICAL_ADDRESS {
  const k = KE();
  k.chargePs(k.cost.MmGetPhysicalAddress);
  const pa = k.x.cpuTranslate(k.cpu.Number, BaseAddress, 0);
  return pa < 0 ? 0 : pa;
}

/**
 * MmMapIoSpace: maps `NumberOfBytes` of physical address space (device registers) into
 * system space, uncached unless asked otherwise; returns the virtual address or 0.
 */
export function MmMapIoSpace(PhysicalAddress: PHYSICAL_ADDRESS, NumberOfBytes: number, CacheType: MEMORY_CACHING_TYPE): PVOID {
  const k = KE();
  k.chargePs(k.cost.MmMapIoSpace);
  if (lowResourceFailure(k, -1, "MmMapIoSpace")) return 0;
  const mm = MM(k);
  const offset = PhysicalAddress % PAGE_SIZE;
  const bytes = Math.ceil((offset + NumberOfBytes) / PAGE_SIZE) * PAGE_SIZE;
  const va = mm.ioSpace.allocate(bytes);
  if (va < 0 || NumberOfBytes <= 0) return 0;
  const base = PhysicalAddress - offset;
  for (let i = 0; i < bytes; i += PAGE_SIZE) {
    mm.system.map(va + i, base + i, { writable: true, global: true, noExecute: true, noCache: CacheType !== MEMORY_CACHING_TYPE.MmCached });
  }
  mm.ioMappings.set(va, bytes);
  return va + offset;
}

/** MmUnmapIoSpace: removes a mapping made by MmMapIoSpace. */
export function MmUnmapIoSpace(BaseAddress: PVOID, NumberOfBytes: number): void {
  const mm = MM();
  const va = BaseAddress - (BaseAddress % PAGE_SIZE);
  const bytes = mm.ioMappings.get(va);
  if (bytes === undefined) return;
  for (let i = 0; i < bytes; i += PAGE_SIZE) mm.system.unmap(va + i);
  mm.ioSpace.release(va, bytes);
  mm.ioMappings.delete(va);
}

/**
 * MmAllocateContiguousMemorySpecifyCache: physically contiguous, page-aligned memory
 * whose every byte lies in [Lowest, Highest], mapped into system space; returns the
 * virtual address or 0 (NULL; also when Low Resources Simulation fails the call).
 */
export function MmAllocateContiguousMemorySpecifyCache(NumberOfBytes: number, LowestAcceptableAddress: PHYSICAL_ADDRESS, HighestAcceptableAddress: PHYSICAL_ADDRESS, BoundaryAddressMultiple: PHYSICAL_ADDRESS, CacheType: MEMORY_CACHING_TYPE): PVOID {
  return allocateContiguous(NumberOfBytes, LowestAcceptableAddress, HighestAcceptableAddress, CacheType, "MmAllocateContiguousMemorySpecifyCache");
}

/**
 * MmAllocateContiguousMemory: `NumberOfBytes` of physically contiguous, page-aligned,
 * cached memory below `HighestAcceptableAddress` (inclusive), mapped into system space;
 * returns the virtual address or 0 (NULL). Freed with MmFreeContiguousMemory.
 */
export function MmAllocateContiguousMemory(NumberOfBytes: number, HighestAcceptableAddress: PHYSICAL_ADDRESS): PVOID {
  return allocateContiguous(NumberOfBytes, 0, HighestAcceptableAddress, MEMORY_CACHING_TYPE.MmCached, "MmAllocateContiguousMemory");
}

/** The contiguous allocation both routines make; `routine` is the one the driver called (what Low Resources Simulation fails and counts). */
function allocateContiguous(NumberOfBytes: number, LowestAcceptableAddress: PHYSICAL_ADDRESS, HighestAcceptableAddress: PHYSICAL_ADDRESS, CacheType: MEMORY_CACHING_TYPE, routine: string): PVOID {
  const k = KE();
  const mm = MM(k);
  const pages = Math.ceil(NumberOfBytes / PAGE_SIZE);
  if (pages === 0 || lowResourceFailure(k, -1, routine)) return 0;
  const first = mm.pfn.allocateContiguous(pages, LowestAcceptableAddress, HighestAcceptableAddress);
  if (first < 0) return 0;
  const va = mm.systemPtes.allocate(pages * PAGE_SIZE);
  if (va < 0) {
    for (let i = 0; i < pages; i++) mm.pfn.freePage(first + i);
    return 0;
  }
  k.x.physFill(first * PAGE_SIZE, pages * PAGE_SIZE, 0);
  for (let i = 0; i < pages; i++) {
    mm.system.map(va + i * PAGE_SIZE, (first + i) * PAGE_SIZE, { writable: true, global: true, noExecute: true, noCache: CacheType === MEMORY_CACHING_TYPE.MmNonCached });
  }
  mm.contiguous.set(va, { pages, firstPfn: first });
  return va;
}

/** MmFreeContiguousMemory: frees memory from MmAllocateContiguousMemory(SpecifyCache). */
export function MmFreeContiguousMemory(BaseAddress: PVOID): void {
  const mm = MM();
  const e = mm.contiguous.get(BaseAddress);
  if (!e) return;
  for (let i = 0; i < e.pages; i++) {
    mm.system.unmap(BaseAddress + i * PAGE_SIZE);
    mm.pfn.freePage(e.firstPfn + i);
  }
  mm.systemPtes.release(BaseAddress, e.pages * PAGE_SIZE);
  mm.contiguous.delete(BaseAddress);
}
