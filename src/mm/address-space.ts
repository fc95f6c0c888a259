/**
 * Address spaces: x86-64 4-level page tables written into guest RAM, which the core's
 * MMU walks. The system half (PML4 entries 256..511) is shared by every address space.
 * Virtual addresses are JS numbers in lower-half form: the system space starts at
 * 0x8000_0000_0000 (WinDbg prints it sign-extended, 0xFFFF8000`00000000).
 */
import type { Core } from "../machine/core.js";
import * as L from "../machine/generated/layout.js";
import { PAGE_SHIFT, PAGE_SIZE, type PageFrameDatabase } from "./pfn.js";

/** First system-space virtual address. */
export const SYSTEM_SPACE_START = 0x800000000000;
/** One past the highest user-mode address. */
export const USER_SPACE_END = 0x7FFFFFFF0000;

/** Page protection for map(): writable, user, cache-disabled, global, no-execute. */
export interface PageProtection {
  writable: boolean;
  user?: boolean;
  noCache?: boolean;
  global?: boolean;
  noExecute?: boolean;
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

  constructor(
    private readonly core: Core,
    private readonly pfn: PageFrameDatabase,
    /** Address space whose system half this one shares; null for the system space itself. */
    system: AddressSpace | null,
    private readonly cpuCount: number,
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
      const [lo, hi] = this.core.readPhysical64(at);
      if ((lo & L.PTE_PRESENT) === 0) {
        if (!create) return -1;
        const next = this.newTable();
        // Intermediate entries allow everything; the leaf decides.
        this.core.writePhysical64(at, (next % TWO32) | L.PTE_PRESENT | L.PTE_WRITABLE | L.PTE_USER, Math.floor(next / TWO32));
        table = next;
      } else {
        table = (hi & ADDRESS_MASK_HI) * TWO32 + ((lo & ~0xFFF) >>> 0);
      }
    }
    return table + (Math.floor(va / PAGE_SIZE) % 512) * ENTRY_BYTES;
  }

  /** Maps the page at `va` to physical `pa` (both page aligned). */
  map(va: number, pa: number, protection: PageProtection): void {
    const at = this.leafEntry(va, true);
    let lo = (pa % TWO32) | L.PTE_PRESENT;
    if (protection.writable) lo |= L.PTE_WRITABLE;
    if (protection.user) lo |= L.PTE_USER;
    if (protection.noCache) lo |= L.PTE_CACHE_DISABLE;
    if (protection.global) lo |= L.PTE_GLOBAL;
    let hi = Math.floor(pa / TWO32) & ADDRESS_MASK_HI;
    if (protection.noExecute) hi |= 1 << (L.PTE_NO_EXECUTE_BIT - 32);
    this.core.writePhysical64(at, lo >>> 0, hi >>> 0);
    this.invalidate(va);
  }

  /** Unmaps the page at `va`; returns its physical address or -1 if it was not mapped. */
  unmap(va: number): number {
    const at = this.leafEntry(va, false);
    if (at < 0) return -1;
    const [lo, hi] = this.core.readPhysical64(at);
    if ((lo & L.PTE_PRESENT) === 0) return -1;
    this.core.writePhysical64(at, 0, 0);
    this.invalidate(va);
    return (hi & ADDRESS_MASK_HI) * TWO32 + ((lo & ~0xFFF) >>> 0);
  }

  /** Physical address `va` maps to (with its page offset), or -1. */
  lookup(va: number): number {
    const at = this.leafEntry(va, false);
    if (at < 0) return -1;
    const [lo, hi] = this.core.readPhysical64(at);
    if ((lo & L.PTE_PRESENT) === 0) return -1;
    return (hi & ADDRESS_MASK_HI) * TWO32 + ((lo & ~0xFFF) >>> 0) + (va % PAGE_SIZE);
  }

  /** TLB shootdown of one page on every processor. */
  private invalidate(va: number): void {
    for (let cpu = 0; cpu < this.cpuCount; cpu++) this.core.x.invalidatePage(cpu, va);
  }
}
