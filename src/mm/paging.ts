/**
 * Paging of pageable memory (paged pool and user pages): the machine's page file (host
 * memory, per machine), the set of resident pageable pages in the order they became
 * resident, page-out and page-in.
 *
 * Page-out copies a page to the page file, turns its PTE into a not-present page-file
 * entry and frees the frame. It happens when free pages run low (oldest pages first), on
 * demand (MmTrimPageable), and, for system space only (paged pool), whenever a processor's
 * IRQL rises to DISPATCH_LEVEL under Driver Verifier's Force IRQL checking. Locked pages (pinned by an MDL) are
 * never paged out. Page-out is the modified page writer's work and is not charged to the
 * processor that caused it; page-in is charged to the faulting processor (see memory.ts).
 */
import type { Core } from "../machine/core.js";
import * as L from "../machine/generated/layout.js";
import { PAGE_SIZE, PAGER_SCRATCH_OFFSET, type PageFrameDatabase } from "./pfn.js";
import type { AddressSpace, PagingHooks } from "./address-space.js";
import { MM } from "./manager.js";

/** Counters of the pager, since boot. */
export interface PagingStatistics {
  /** Pages written to the page file. */
  pageOuts: number;
  /** Pages read back from the page file. */
  pageIns: number;
  /** Pages now in the page file. */
  pageFilePages: number;
  /** Resident pageable pages now. */
  residentPageable: number;
  /** Trims done (on demand, under memory pressure, or on a raise to DISPATCH_LEVEL). */
  trims: number;
}

const VPN_SPAN = 2 ** 36;

/** The pager of one machine. */
export class Pager implements PagingHooks {
  /** Page file: slot to the page's bytes. */
  private readonly pageFile = new Map<number, Uint8Array>();
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  /** Resident pageable pages, oldest first: key (space id, page number) to the space. */
  private readonly resident_ = new Map<number, AddressSpace>();
  /** The resident pageable pages of system space (paged pool), oldest first: key to the space. */
  private readonly systemResident_ = new Map<number, AddressSpace>();
  private readonly stats = { pageOuts: 0, pageIns: 0, trims: 0 };

  constructor(private readonly core: Core, private readonly pfn: PageFrameDatabase) {}

  private static key(space: AddressSpace, va: number): number {
    return space.id * VPN_SPAN + Math.floor(va / PAGE_SIZE);
  }

  resident(space: AddressSpace, va: number): void {
    const key = Pager.key(space, va);
    this.resident_.set(key, space);
    if (space.id === 0) this.systemResident_.set(key, space);
  }

  forget(space: AddressSpace, va: number): void {
    const key = Pager.key(space, va);
    this.resident_.delete(key);
    this.systemResident_.delete(key);
  }

  discard(slot: number): void {
    if (this.pageFile.delete(slot)) this.freeSlots.push(slot);
  }

  /** Pages out the page at `va` of `space` unless it is locked; returns true if it did. */
  pageOut(space: AddressSpace, va: number): boolean {
    const pa = space.lookup(va);
    if (pa < 0) return false;
    const frame = Math.floor(pa / PAGE_SIZE);
    if (this.pfn.lockCount(frame) > 0) return false;
    const slot = this.freeSlots.length > 0 ? this.freeSlots.pop()! : this.nextSlot++;
    this.core.x.physBlock(frame * PAGE_SIZE, PAGER_SCRATCH_OFFSET, PAGE_SIZE, 1);
    const at = L.SCRATCH_BASE + PAGER_SCRATCH_OFFSET;
    this.pageFile.set(slot, this.core.u8.slice(at, at + PAGE_SIZE));
    space.toPageFile(va, slot);
    this.forget(space, va);
    this.pfn.freePage(frame);
    this.stats.pageOuts++;
    return true;
  }

  /**
   * Brings the page at `va` of `space` back from the page file into a new frame. Returns
   * false when no frame is free.
   */
  pageIn(space: AddressSpace, va: number): boolean {
    const page = va - (va % PAGE_SIZE);
    const entry = space.pte(page);
    if (!entry) return false;
    const slot = entry[0] >>> 12;
    const bytes = this.pageFile.get(slot);
    if (!bytes) return false;
    const frame = this.pfn.allocatePage();
    if (frame < 0) return false;
    this.core.u8.set(bytes, L.SCRATCH_BASE + PAGER_SCRATCH_OFFSET);
    this.core.x.physBlock(frame * PAGE_SIZE, PAGER_SCRATCH_OFFSET, PAGE_SIZE, 0);
    space.fromPageFile(page, frame * PAGE_SIZE);
    this.discard(slot);
    this.resident(space, page);
    this.stats.pageIns++;
    return true;
  }

  /**
   * Pages out resident pageable pages, oldest first, until `enough()` holds (default:
   * all of them). Locked pages stay. Returns the number of pages paged out.
   */
  trim(enough: () => boolean = () => false): number {
    if (this.resident_.size === 0) return 0;
    this.stats.trims++;
    let n = 0;
    for (const [key, space] of [...this.resident_]) {
      if (enough()) break;
      const va = (key % VPN_SPAN) * PAGE_SIZE;
      if (this.pageOut(space, va)) n++;
    }
    return n;
  }

  /**
   * Force IRQL checking's pass: pages out every resident pageable page of system space
   * (paged pool) that is not locked; user pages stay. Returns false, at the cost of one
   * test, when no system pageable page is resident; true when a pass was made.
   */
  trimSystem(): boolean {
    if (this.systemResident_.size === 0) return false;
    this.stats.trims++;
    // Deleting the entry being visited is safe in a Map iteration; locked pages stay and are passed over.
    for (const [key, space] of this.systemResident_) this.pageOut(space, (key % VPN_SPAN) * PAGE_SIZE);
    return true;
  }

  /** Figures since boot. */
  statistics(): PagingStatistics {
    return { ...this.stats, pageFilePages: this.pageFile.size, residentPageable: this.resident_.size };
  }
}

/**
 * Pages out every resident pageable page of the machine that is not locked (what the
 * working-set trimmer does under memory pressure, all at once). Returns the number of
 * pages it paged out. Any IRQL; nothing is charged to the processor.
 */
export function MmTrimPageable(): number {
  return MM().pager.trim();
}

/** The executing machine's paging figures since boot. */
export function pagingStatistics(): PagingStatistics {
  return MM().pager.statistics();
}
