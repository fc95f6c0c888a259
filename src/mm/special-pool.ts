/**
 * Driver Verifier's Special Pool option: each allocation of less than a page a driver
 * makes is given a page of its own, with the page after it (Verify End, the default) or
 * before it (Verify Start) never mapped. Verify End places the block as high in its page
 * as its 16-byte alignment allows, so reading or writing past its end faults at once;
 * Verify Start places it at the page's start, so an underrun faults at once. The rest of
 * the page is filled with a pattern; freeing the block checks the pattern and bug checks
 * 0xC1 SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION where it was overwritten (P4 0x23 before
 * the block, 0x24 after its end). A freed block's page is unmapped and its addresses are
 * not given out again for a while, so a touch after the free faults: 0xD5
 * DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL (0xCC when no driver made the access); a touch
 * of the inaccessible page of a live block is 0xD6 DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION
 * (0xCD). When special pool runs out, allocations come from the normal pool, as Windows
 * does. Special pool pages are never paged out, paged pool's included.
 */
import { SPECIAL_POOL_BYTES_AFTER_END_OVERWRITTEN, SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION, SPECIAL_POOL_NEARBY_BYTES_CORRUPTED } from "../ke/bugcheck.js";
import type { Kernel } from "../ke/kernel.js";
import { PAGE_SIZE } from "./pfn.js";
import { RangeAllocator } from "./va-allocator.js";
import type { AddressSpace } from "./address-space.js";

/** Where a special pool block sits in its page. */
export type SpecialPoolPlacement = "verifyEnd" | "verifyStart";

/** The byte the unused part of a special pool page is filled with. */
export const SPECIAL_POOL_FILL = 0xA5;
/** Alignment of a special pool block's start, bytes (a pool block's alignment on x64). */
const SPECIAL_POOL_ALIGNMENT = 16;
/** Freed pages kept inaccessible before their addresses are used again. */
const FREED_PAGES_KEPT = 4096;

/** A live special pool block. */
interface SpecialBlock {
  /** Start of its two pages (the data page and the inaccessible one). */
  reserved: number;
  /** The block's page. */
  page: number;
  /** Start of the block. */
  va: number;
  /** Bytes requested. */
  bytes: number;
  placement: SpecialPoolPlacement;
}

/** What a faulting address in special pool is. */
export type SpecialPoolFault = "beyond" | "freed" | null;

/** The special pool of one memory manager: a range of system space, one data page and one inaccessible page per block. */
export class SpecialPool {
  private readonly space: RangeAllocator;
  /** Live blocks by start address. */
  private readonly blocks = new Map<number, SpecialBlock>();
  /** Data pages of live blocks, by page (for classifying faults on their neighbours). */
  private readonly livePages = new Map<number, SpecialBlock>();
  /** Freed blocks, oldest first; their reservations go back after FREED_PAGES_KEPT later frees. */
  private readonly freedBlocks: SpecialBlock[] = [];
  /** Data pages of the freed blocks kept inaccessible. */
  private readonly freedPages = new Set<number>();

  constructor(private readonly k: Kernel, private readonly system: AddressSpace, readonly start: number, readonly size: number, readonly placement: SpecialPoolPlacement) {
    this.space = new RangeAllocator(start, start + size, PAGE_SIZE);
  }

  /** True if `va` lies in this special pool's range. */
  contains(va: number): boolean {
    return va >= this.start && va < this.start + this.size;
  }

  /**
   * A block of `bytes` (less than a page) on a page of its own placed as `placement` says;
   * returns its address, or 0 when special pool is exhausted (the caller uses normal pool).
   */
  allocate(bytes: number, placement: SpecialPoolPlacement, allocatePage: () => number): number {
    const reserved = this.space.allocate(2 * PAGE_SIZE, PAGE_SIZE);
    if (reserved < 0) return 0;
    const page = placement === "verifyEnd" ? reserved : reserved + PAGE_SIZE;
    const frame = allocatePage();
    if (frame < 0) {
      this.space.release(reserved, 2 * PAGE_SIZE);
      return 0;
    }
    this.k.x.physFill(frame * PAGE_SIZE, PAGE_SIZE, SPECIAL_POOL_FILL);
    this.system.map(page, frame * PAGE_SIZE, { writable: true, global: true, noExecute: true, pageable: false });
    const offset = placement === "verifyEnd" ? PAGE_SIZE - Math.ceil(bytes / SPECIAL_POOL_ALIGNMENT) * SPECIAL_POOL_ALIGNMENT : 0;
    const block: SpecialBlock = { reserved, page, va: page + offset, bytes, placement };
    this.blocks.set(block.va, block);
    this.livePages.set(page, block);
    return block.va;
  }

  /** True if `va` is the start of a live special pool block. */
  owns(va: number): boolean {
    return this.blocks.has(va);
  }

  /**
   * Frees the block at `va`: checks the pattern around it (0xC1 where it was overwritten),
   * unmaps its page, and keeps the addresses inaccessible for a while.
   */
  free(va: number, freePage: (pa: number) => void): void {
    const b = this.blocks.get(va)!;
    const corrupted = this.firstCorrupted(b);
    if (corrupted >= 0) {
      const kind = corrupted < b.va ? SPECIAL_POOL_NEARBY_BYTES_CORRUPTED : SPECIAL_POOL_BYTES_AFTER_END_OVERWRITTEN;
      this.k.bugCheck(SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION, va, corrupted, 0, kind);
    }
    this.blocks.delete(va);
    this.livePages.delete(b.page);
    const pa = this.system.unmap(b.page);
    if (pa >= 0) freePage(pa);
    this.freedBlocks.push(b);
    this.freedPages.add(b.page);
    if (this.freedBlocks.length > FREED_PAGES_KEPT) {
      const old = this.freedBlocks.shift()!;
      this.freedPages.delete(old.page);
      this.space.release(old.reserved, 2 * PAGE_SIZE);
    }
  }

  /** What a fault at `va` touched: the inaccessible page beside a live block, a freed block's page, or neither. */
  classify(va: number): SpecialPoolFault {
    if (!this.contains(va)) return null;
    const page = Math.floor(va / PAGE_SIZE) * PAGE_SIZE;
    if (this.freedPages.has(page)) return "freed";
    const after = this.livePages.get(page - PAGE_SIZE);
    const before = this.livePages.get(page + PAGE_SIZE);
    if ((after && after.placement === "verifyEnd") || (before && before.placement === "verifyStart")) return "beyond";
    return null;
  }

  /** The first byte of the page outside the block that no longer holds the fill pattern, or -1. */
  private firstCorrupted(b: SpecialBlock): number {
    const pa = this.system.lookup(b.page);
    if (pa < 0) return -1;
    const bytes = this.k.core.readPhysical(pa, PAGE_SIZE);
    const start = b.va - b.page;
    const end = start + b.bytes;
    for (let off = 0; off < PAGE_SIZE; off++) {
      if (off === start) off = end;
      if (off < PAGE_SIZE && bytes[off] !== SPECIAL_POOL_FILL) return b.page + off;
    }
    return -1;
  }
}
