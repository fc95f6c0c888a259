/**
 * Address spaces: x86-64 4-level page tables written into guest RAM, which the core's
 * MMU walks. The system half (PML4 entries 256..511) is shared by every address space.
 * Virtual addresses are JS numbers in lower-half form: the system space starts at
 * 0x8000_0000_0000 (WinDbg prints it sign-extended, 0xFFFF8000`00000000).
 *
 * Leaf entries use two of the bits x86 leaves to software: on a present entry bit 9
 * marks a pageable page; on a not-present entry bit 10 marks a page that is in the page
 * file, with its page-file slot in bits 12..31 and its protection kept in place, as
 * Windows' software PTEs do. The MMU faults on both kinds of not-present entry; the
 * memory manager tells them apart.
 */
import type { Core } from "../machine/core.js";
import * as L from "../machine/generated/layout.js";
import { PAGE_SHIFT, PAGE_SIZE, type PageFrameDatabase } from "./pfn.js";
import { RangeAllocator } from "./va-allocator.js";

/** First system-space virtual address. */
export const SYSTEM_SPACE_START = 0x800000000000;
/** One past the highest user-mode address (MmUserProbeAddress). */
export const USER_SPACE_END = 0x7FFFFFFF0000;
/** User-mode views of locked pages (MmMapLockedPagesSpecifyCache with UserMode): [start, end). */
export const USER_MAPPING_START = 0x10000000000;
/** One past the last user-mode view address. */
export const USER_MAPPING_END = 0x20000000000;

/** Software bit of a present leaf entry: the page is pageable. */
export const PTE_PAGEABLE = 0x200;
/** Software bit of a not-present leaf entry: the page's contents are in the page file. */
export const PTE_IN_PAGE_FILE = 0x400;
/** Bits of a leaf entry kept across a page-out (protection, caching, global). */
const PTE_KEPT_BITS = L.PTE_WRITABLE | L.PTE_USER | 0x8 | L.PTE_CACHE_DISABLE | L.PTE_GLOBAL;
const NX_HI = 1 << (L.PTE_NO_EXECUTE_BIT - 32);

/** Page protection for map(): writable, user, cache-disabled, global, no-execute, pageable. */
export interface PageProtection {
  writable: boolean;
  user?: boolean;
  noCache?: boolean;
  global?: boolean;
  noExecute?: boolean;
  /** The page may be paged out (default: user pages are, system pages are not). */
  pageable?: boolean;
}

/** What the pager wants to know about pageable pages (src/mm/paging.ts). */
export interface PagingHooks {
  /** A pageable page became resident at `va`. */
  resident(space: AddressSpace, va: number): void;
  /** A resident pageable page at `va` was unmapped. */
  forget(space: AddressSpace, va: number): void;
  /** A page-file entry was dropped (its memory was freed or remapped): release the slot. */
  discard(slot: number): void;
}

const ADDRESS_MASK_HI = 0x000FFFFF;
const ENTRY_BYTES = 8;
const TWO32 = 2 ** 32;

/** Thrown when physical memory runs out while building page tables. */
export class OutOfPhysicalMemory extends Error {}

/** One address space (a PML4 and the tables below it). */
export class AddressSpace {
  /** Physical address of the PML4 (the CR3 value). */
  readonly cr3: number;
  /** Where the pager hears about pageable pages (set by the memory manager). */
  pager: PagingHooks | null = null;
  /** User-mode views of locked pages in this address space. */
  readonly userViews = new RangeAllocator(USER_MAPPING_START, USER_MAPPING_END, PAGE_SIZE);

  constructor(
    private readonly core: Core,
    private readonly pfn: PageFrameDatabase,
    /** Address space whose system half this one shares; null for the system space itself. */
    system: AddressSpace | null,
    private readonly cpuCount: number,
    /** A small number naming this address space within its machine. */
    readonly id = 0,
  ) {
    this.cr3 = this.newTable();
    if (system) {
      for (let i = 256; i < 512; i++) {
        const [lo, hi] = core.readPhysical64(system.cr3 + i * ENTRY_BYTES);
        core.writePhysical64(this.cr3 + i * ENTRY_BYTES, lo, hi);
      }
    }
  }

  private newTable(): number {
    const frame = this.pfn.allocatePage();
    if (frame < 0) throw new OutOfPhysicalMemory("no physical page left for a page table");
    const pa = frame * PAGE_SIZE;
    this.core.x.physFill(pa, PAGE_SIZE, 0);
    return pa;
  }

  /** Creates the tables for PML4 entry `index` (used at boot for the shared system half). */
  populateTopLevel(index: number): void {
    const at = this.cr3 + index * ENTRY_BYTES;
    if ((this.core.x.physRead32(at) & L.PTE_PRESENT) === 0) {
      const table = this.newTable();
      this.core.writePhysical64(at, (table % TWO32) | L.PTE_PRESENT | L.PTE_WRITABLE | L.PTE_USER, Math.floor(table / TWO32));
    }
  }

  /** Physical address of the leaf entry for `va`, creating missing tables when `create`. Returns -1 if absent. */
  private leafEntry(va: number, create: boolean): number {
    let table = this.cr3;
    for (let level = 3; level > 0; level--) {
      const index = Math.floor(va / 2 ** (PAGE_SHIFT + 9 * level)) % 512;
      const at = table + index * ENTRY_BYTES;
      const lo = this.core.x.physRead32(at) >>> 0;
      if ((lo & L.PTE_PRESENT) === 0) {
        if (!create) return -1;
        const next = this.newTable();
        // Intermediate entries allow everything; the leaf decides.
        this.core.writePhysical64(at, (next % TWO32) | L.PTE_PRESENT | L.PTE_WRITABLE | L.PTE_USER, Math.floor(next / TWO32));
        table = next;
      } else {
        const hi = this.core.x.physRead32(at + 4) >>> 0;
        table = (hi & ADDRESS_MASK_HI) * TWO32 + ((lo & ~0xFFF) >>> 0);
      }
    }
    return table + (Math.floor(va / PAGE_SIZE) % 512) * ENTRY_BYTES;
  }

  /** Maps the page at `va` to physical `pa` (both page aligned). */
  map(va: number, pa: number, protection: PageProtection): void {
    const at = this.leafEntry(va, true);
    this.drop(va, at);
    const pageable = protection.pageable ?? protection.user === true;
    let lo = (pa % TWO32) | L.PTE_PRESENT;
    if (protection.writable) lo |= L.PTE_WRITABLE;
    if (protection.user) lo |= L.PTE_USER;
    if (protection.noCache) lo |= L.PTE_CACHE_DISABLE;
    if (protection.global) lo |= L.PTE_GLOBAL;
    if (pageable) lo |= PTE_PAGEABLE;
    let hi = Math.floor(pa / TWO32) & ADDRESS_MASK_HI;
    if (protection.noExecute) hi |= NX_HI;
    this.core.writePhysical64(at, lo >>> 0, hi >>> 0);
    this.invalidate(va);
    if (pageable) this.pager?.resident(this, va);
  }

  /** Tells the pager an entry is going away: a page-file slot is released, a resident pageable page forgotten. */
  private drop(va: number, at: number): void {
    const lo = this.core.x.physRead32(at) >>> 0;
    if ((lo & L.PTE_PRESENT) !== 0) {
      if ((lo & PTE_PAGEABLE) !== 0) this.pager?.forget(this, va);
    } else if ((lo & PTE_IN_PAGE_FILE) !== 0) {
      this.pager?.discard(lo >>> PAGE_SHIFT);
    }
  }

  /**
   * Unmaps the page at `va`; returns its physical address, or -1 if it was not mapped
   * (a page that was in the page file has its slot released and returns -1).
   */
  unmap(va: number): number {
    const at = this.leafEntry(va, false);
    if (at < 0) return -1;
    const [lo, hi] = this.core.readPhysical64(at);
    if (lo === 0 && hi === 0) return -1;
    this.drop(va, at);
    this.core.writePhysical64(at, 0, 0);
    if ((lo & L.PTE_PRESENT) === 0) return -1;
    this.invalidate(va);
    return (hi & ADDRESS_MASK_HI) * TWO32 + ((lo & ~0xFFF) >>> 0);
  }

  /** Physical address `va` maps to (with its page offset), or -1. */
  lookup(va: number): number {
    const at = this.leafEntry(va, false);
    if (at < 0) return -1;
    const lo = this.core.x.physRead32(at) >>> 0;
    if ((lo & L.PTE_PRESENT) === 0) return -1;
    const hi = this.core.x.physRead32(at + 4) >>> 0;
    return (hi & ADDRESS_MASK_HI) * TWO32 + ((lo & ~0xFFF) >>> 0) + (va % PAGE_SIZE);
  }

  /** The leaf entry for `va` as [lo, hi], or null when no page table covers it. */
  pte(va: number): [number, number] | null {
    const at = this.leafEntry(va, false);
    return at < 0 ? null : this.core.readPhysical64(at);
  }

  /** True if the page at `va` is in the page file (not resident, contents saved). */
  isPagedOut(va: number): boolean {
    const at = this.leafEntry(va, false);
    if (at < 0) return false;
    const lo = this.core.x.physRead32(at);
    return (lo & (L.PTE_PRESENT | PTE_IN_PAGE_FILE)) === PTE_IN_PAGE_FILE;
  }

  /**
   * Replaces a resident pageable page's entry with a page-file entry for `slot`, keeping
   * its protection, and shoots down the TLBs. Returns the frame it used.
   */
  toPageFile(va: number, slot: number): number {
    const at = this.leafEntry(va, false);
    const [lo, hi] = this.core.readPhysical64(at);
    this.core.writePhysical64(at, ((slot * PAGE_SIZE) | (lo & PTE_KEPT_BITS) | PTE_IN_PAGE_FILE) >>> 0, (hi & NX_HI) >>> 0);
    this.invalidate(va);
    return (hi & ADDRESS_MASK_HI) * TWO32 + ((lo & ~0xFFF) >>> 0);
  }

  /** Makes a page-file entry resident again at physical `pa`, with the protection it had. */
  fromPageFile(va: number, pa: number): void {
    const at = this.leafEntry(va, false);
    const [lo, hi] = this.core.readPhysical64(at);
    const newLo = (pa % TWO32) | L.PTE_PRESENT | PTE_PAGEABLE | (lo & PTE_KEPT_BITS);
    const newHi = (Math.floor(pa / TWO32) & ADDRESS_MASK_HI) | (hi & NX_HI);
    this.core.writePhysical64(at, newLo >>> 0, newHi >>> 0);
    this.invalidate(va);
  }

  /** TLB shootdown of one page on every processor. */
  private invalidate(va: number): void {
    for (let cpu = 0; cpu < this.cpuCount; cpu++) this.core.x.invalidatePage(cpu, va);
  }
}
