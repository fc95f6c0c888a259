/**
 * The memory manager of one machine: physical pages, the system address space and its
 * regions, process address spaces, and the pager. Registered with the kernel as the "mm"
 * service.
 *
 * System space (lower-half form; WinDbg shows it from 0xFFFF8000`00000000):
 *
 *   0x8000_0000_0000  nonpaged pool          1 GiB
 *   0x8000_4000_0000  I/O space (MmMapIoSpace) 1 GiB
 *   0x8000_8000_0000  system PTEs (contiguous memory, MDL mappings) 1 GiB
 *   0x8000_C000_0000  paged pool             1 GiB
 */
import { KE, type Kernel, type KPRCB } from "../ke/kernel.js";
import { KPROCESS } from "../ke/scheduler.js";
import { AddressSpace, SYSTEM_SPACE_START } from "./address-space.js";
import { PageFrameDatabase, PAGE_SIZE } from "./pfn.js";
import { RangeAllocator } from "./va-allocator.js";
import { Pool } from "./pool.js";
import { Pager } from "./paging.js";
import { NO_PAGES_AVAILABLE } from "../ke/bugcheck.js";

/** Nonpaged pool: [start, start + size). */
export const POOL_START = SYSTEM_SPACE_START;
/** Bytes of virtual space reserved for nonpaged pool. */
export const POOL_SIZE = 0x40000000;
/** I/O space mappings (MmMapIoSpace). */
export const IO_SPACE_START = POOL_START + POOL_SIZE;
/** Bytes of I/O space. */
export const IO_SPACE_SIZE = 0x40000000;
/** Mappings of contiguous and locked memory (common buffers, MDL mappings). */
export const SYSTEM_PTE_START = IO_SPACE_START + IO_SPACE_SIZE;
/** Bytes of system PTE space. */
export const SYSTEM_PTE_SIZE = 0x40000000;
/** Paged pool: [start, start + size). */
export const PAGED_POOL_START = SYSTEM_PTE_START + SYSTEM_PTE_SIZE;
/** Bytes of virtual space reserved for paged pool. */
export const PAGED_POOL_SIZE = 0x40000000;
/** Special pool (Driver Verifier's Special Pool option): [start, start + size). */
export const SPECIAL_POOL_START = PAGED_POOL_START + PAGED_POOL_SIZE;
/** Bytes of virtual space reserved for special pool (two pages per block). */
export const SPECIAL_POOL_SIZE = 0x40000000;
/** Where the registry's hive and key nodes have their (inspection) addresses, up to CODE_START. */
export const REGISTRY_SPACE_START = 0x8F0000000000;
/** Where driver images (and so the synthetic code addresses of their routines) live: 1 TiB. */
const CODE_START = 0x8F8000000000;
/** Bytes of one driver image's range, and the image slots there are (2^16: 1 TiB of address space). */
const IMAGE_BYTES = 0x1000000;
const IMAGE_SLOT_MASK = 0xFFFF;
/** Bytes between two routines' code addresses in an image, and the routine slots an image has (2^12). */
const CODE_SLOT_BYTES = 0x1000;
const CODE_SLOT_MASK = 0x0FFF;

/** FNV-1a hash of a name. */
function nameHash(name: string): number {
  let h = 0x811C9DC5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Force IRQL checking's figures for one driver. */
export interface IrqlCheckingCounters {
  /** Rises of the IRQL from below DISPATCH_LEVEL to DISPATCH_LEVEL or above (KeRaiseIrql, spin locks, KeSynchronizeExecution). */
  raises: number;
  /** Trimming passes those rises made (each pages out all system pageable memory that is not locked). */
  trims: number;
}

/** The memory manager. */
export class MemoryManager {
  readonly pfn: PageFrameDatabase;
  readonly system: AddressSpace;
  readonly systemProcess: KPROCESS;
  readonly ioSpace = new RangeAllocator(IO_SPACE_START, IO_SPACE_START + IO_SPACE_SIZE, PAGE_SIZE);
  readonly systemPtes = new RangeAllocator(SYSTEM_PTE_START, SYSTEM_PTE_START + SYSTEM_PTE_SIZE, PAGE_SIZE);
  readonly pool: Pool;
  readonly pager: Pager;
  /** Every address space by its CR3 (the system space and one per process). */
  readonly spaces = new Map<number, AddressSpace>();
  /** MmMapIoSpace mappings: virtual base to bytes. */
  readonly ioMappings = new Map<number, number>();
  /** Contiguous allocations: virtual base to pages and first frame. */
  readonly contiguous = new Map<number, { pages: number; firstPfn: number }>();
  /**
   * Driver Verifier's Force IRQL checking (machine file kernel.trimming, on with the verifier
   * unless set false): system pageable memory is trimmed whenever a processor's IRQL rises
   * to DISPATCH_LEVEL or above.
   */
  readonly trimming: boolean;
  /** Force IRQL checking's counters since boot, by the driver whose code raised the IRQL ("nt" for the kernel's own). */
  readonly irqlChecking = new Map<string, IrqlCheckingCounters>();
  /** The driver that last raised and its counters (raises come in runs from one driver). */
  private lastRaiseDriver = "";
  private lastRaiseCounters: IrqlCheckingCounters | undefined;
  private nextSpaceId = 1;
  private readonly codeAddresses = new Map<string, number>();
  /** Code address to the routine there ("driver!routine"). */
  private readonly routineNames = new Map<number, string>();
  /** Image base by driver service name, and the image slots taken. */
  private readonly imageBases = new Map<string, number>();
  private readonly imageSlots = new Set<number>();

  constructor(readonly k: Kernel, usableRam: { base: number; size: number }[]) {
    this.pfn = new PageFrameDatabase(usableRam);
    this.pager = new Pager(k.core, this.pfn);
    this.system = new AddressSpace(k.core, this.pfn, null, k.processors.length, 0);
    this.system.pager = this.pager;
    this.spaces.set(this.system.cr3, this.system);
    // The system half is created up front so every process shares it.
    this.system.populateTopLevel(256);
    this.system.populateTopLevel(258);
    this.systemProcess = new KPROCESS("System", this.system.cr3, k.newId());
    this.pool = new Pool(this);
    for (const cpu of k.processors) {
      cpu.cr3 = this.system.cr3;
      k.x.setCr3(cpu.Number, cpu.cr3);
    }
    // Under memory pressure, page out the oldest pageable pages until twice the low-water mark is free.
    this.pfn.onLow = () => {
      const target = this.pfn.lowWaterPages * 2;
      this.pager.trim(() => this.pfn.freePages >= target);
    };
    this.trimming = k.machine.description.kernel.trimming ?? k.verifier;
    if (this.trimming) {
      for (const cpu of k.processors) cpu.onRaisedToDispatch = () => this.raisedToDispatch(cpu);
    }
  }

  /**
   * Force IRQL checking on a rise to DISPATCH_LEVEL or above: counts the raise for the
   * driver running on `cpu` and trims system pageable memory (O(1) when none is resident).
   */
  private raisedToDispatch(cpu: KPRCB): void {
    const stack = cpu.stack;
    const driver = stack.length > 0 ? stack[stack.length - 1].driver : "nt";
    let counters = this.lastRaiseCounters;
    if (driver !== this.lastRaiseDriver) {
      counters = this.irqlChecking.get(driver);
      if (counters === undefined) this.irqlChecking.set(driver, (counters = { raises: 0, trims: 0 }));
      this.lastRaiseDriver = driver;
      this.lastRaiseCounters = counters;
    }
    counters!.raises++;
    if (this.pager.trimSystem()) counters!.trims++;
  }

  /** A new address space sharing the system half (for a user process). */
  createAddressSpace(): AddressSpace {
    const space = new AddressSpace(this.k.core, this.pfn, this.system, this.k.processors.length, this.nextSpaceId++);
    space.pager = this.pager;
    this.spaces.set(space.cr3, space);
    return space;
  }

  /** The address space whose page tables translate `va` for a processor with `cr3` loaded. */
  spaceFor(cr3: number, va: number): AddressSpace | undefined {
    return va >= SYSTEM_SPACE_START ? this.system : this.spaces.get(cr3);
  }

  /**
   * Brings the page at `va` of `space` back from the page file if it is there, charging
   * a page-in (a disk read) to the executing processor. Returns true if it paged in.
   * No free page at all is 0x4D NO_PAGES_AVAILABLE.
   */
  makeResident(space: AddressSpace, va: number): boolean {
    if (!space.isPagedOut(va)) return false;
    const k = this.k;
    if (!this.pager.pageIn(space, va)) k.bugCheck(NO_PAGES_AVAILABLE, 0, this.pfn.totalPages, 0, 0);
    // The processor waits for the read; no preemption point here, so a retried access makes progress.
    k.cpu.time += k.cost.PageIn;
    return true;
  }

  /**
   * The kernel-space range of `driver`'s image, [start, end): a slot of IMAGE_BYTES chosen
   * by a hash of the service name, so it does not depend on the order drivers load (two
   * names hashing to one slot: the next free slot). Its routines' code addresses lie in it.
   */
  imageRange(driver: string): { start: number; end: number } {
    let start = this.imageBases.get(driver);
    if (start === undefined) {
      let slot = nameHash(driver) & IMAGE_SLOT_MASK;
      while (this.imageSlots.has(slot)) slot = (slot + 1) & IMAGE_SLOT_MASK;
      this.imageSlots.add(slot);
      start = CODE_START + slot * IMAGE_BYTES;
      this.imageBases.set(driver, start);
    }
    return { start, end: start + IMAGE_BYTES };
  }

  /**
   * A stable made-up code address for a driver routine (what bug checks report as the
   * faulting instruction), inside the driver's image (imageRange): a slot chosen by a hash
   * of the routine's name, so the address does not depend on which routines were named
   * before (a bug check's parameters are the same whether or not anything was inspected
   * first). Two names hashing to one slot take the next free slot.
   */
  codeAddress(driver: string, routine: string): number {
    const name = `${driver}!${routine}`;
    let a = this.codeAddresses.get(name);
    if (a !== undefined) return a;
    const base = this.imageRange(driver).start;
    let slot = nameHash(routine) & CODE_SLOT_MASK;
    while (this.routineNames.has(base + slot * CODE_SLOT_BYTES + 0x10)) slot = (slot + 1) & CODE_SLOT_MASK;
    a = base + slot * CODE_SLOT_BYTES + 0x10;
    this.codeAddresses.set(name, a);
    this.routineNames.set(a, name);
    return a;
  }

  /** The routine a code address from codeAddress() stands for ("driver!routine"), or undefined. */
  routineAt(address: number): string | undefined {
    return this.routineNames.get(address);
  }
}

/** The executing machine's memory manager. */
export function MM(k: Kernel = KE()): MemoryManager {
  if (k === lastMMKernel) return lastMM!;
  const mm = k.services.get("mm");
  if (!mm) throw new Error("the memory manager is not initialised");
  lastMMKernel = k;
  lastMM = mm as MemoryManager;
  return lastMM;
}

// The last kernel asked about and its memory manager (machines rarely change between calls).
let lastMMKernel: Kernel | undefined;
let lastMM: MemoryManager | undefined;
