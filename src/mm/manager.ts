/**
 * The memory manager of one machine: physical pages, the system address space and its
 * regions, and process address spaces. Registered with the kernel as the "mm" service.
 */
import { KE, type Kernel } from "../ke/kernel.js";
import { KPROCESS } from "../ke/scheduler.js";
import { AddressSpace, SYSTEM_SPACE_START } from "./address-space.js";
import { PageFrameDatabase, PAGE_SIZE } from "./pfn.js";
import { RangeAllocator } from "./va-allocator.js";
import { NonPagedPool } from "./pool.js";

/** Nonpaged pool: [start, start + size). */
export const POOL_START = SYSTEM_SPACE_START;
/** Bytes of virtual space reserved for pool. */
export const POOL_SIZE = 0x40000000;
/** I/O space mappings (MmMapIoSpace). */
export const IO_SPACE_START = POOL_START + POOL_SIZE;
/** Bytes of I/O space. */
export const IO_SPACE_SIZE = 0x40000000;
/** Mappings of contiguous and locked memory (common buffers, MDL mappings). */
export const SYSTEM_PTE_START = IO_SPACE_START + IO_SPACE_SIZE;
/** Bytes of system PTE space. */
export const SYSTEM_PTE_SIZE = 0x40000000;

/** The memory manager. */
export class MemoryManager {
  readonly pfn: PageFrameDatabase;
  readonly system: AddressSpace;
  readonly systemProcess: KPROCESS;
  readonly ioSpace = new RangeAllocator(IO_SPACE_START, IO_SPACE_START + IO_SPACE_SIZE, PAGE_SIZE);
  readonly systemPtes = new RangeAllocator(SYSTEM_PTE_START, SYSTEM_PTE_START + SYSTEM_PTE_SIZE, PAGE_SIZE);
  readonly pool: NonPagedPool;
  /** MmMapIoSpace mappings: virtual base to bytes. */
  readonly ioMappings = new Map<number, number>();
  /** Contiguous allocations: virtual base to pages and first frame. */
  readonly contiguous = new Map<number, { pages: number; firstPfn: number }>();

  constructor(readonly k: Kernel, usableRam: { base: number; size: number }[]) {
    this.pfn = new PageFrameDatabase(usableRam);
    this.system = new AddressSpace(k.core, this.pfn, null, k.processors.length);
    // The system half is created up front so every process shares it.
    this.system.populateTopLevel(256);
    this.system.populateTopLevel(258);
    this.systemProcess = new KPROCESS("System", this.system.cr3, k.newId());
    this.pool = new NonPagedPool(this);
    for (const cpu of k.processors) {
      cpu.cr3 = this.system.cr3;
      k.x.setCr3(cpu.Number, cpu.cr3);
    }
  }

  /** A new address space sharing the system half (for a user process). */
  createAddressSpace(): AddressSpace {
    return new AddressSpace(this.k.core, this.pfn, this.system, this.k.processors.length);
  }
}

/** The executing machine's memory manager. */
export function MM(k: Kernel = KE()): MemoryManager {
  const mm = k.services.get("mm");
  if (!mm) throw new Error("the memory manager is not initialised");
  return mm as MemoryManager;
}
