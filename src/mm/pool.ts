/**
 * Pool: ExAllocatePoolWithTag / ExFreePoolWithTag over system virtual space backed by
 * physical pages mapped through the MMU. Nonpaged pool and paged pool live in separate
 * regions; paged pool pages are pageable (the pager may move them to the page file).
 * Small blocks carry a 16-byte pool header that holds the tag (as on x64 Windows);
 * blocks of a page or more are page aligned and occupy whole pages, which go back to
 * the free list when the block is freed. Every allocation is tracked by tag and owning
 * driver for !poolused-style figures (poolUsed, poolUsedByDriver).
 */
import { lowResourceFailure } from "../verifier/low-resources.js";
import { BAD_POOL_CALLER, DRIVER_VERIFIER_DETECTED_VIOLATION } from "../ke/bugcheck.js";
import { APC_LEVEL, DISPATCH_LEVEL } from "../ke/irql.js";
import { KE } from "../ke/kernel.js";
import { NtStatusException, STATUS_INSUFFICIENT_RESOURCES } from "../ke/ntstatus.js";
import { PAGE_SIZE } from "./pfn.js";
import { SYSTEM_SPACE_START } from "./address-space.js";
import { RangeAllocator } from "./va-allocator.js";
import type { MemoryManager } from "./manager.js";
import { MM, PAGED_POOL_SIZE, PAGED_POOL_START, POOL_SIZE, POOL_START, SPECIAL_POOL_SIZE, SPECIAL_POOL_START } from "./manager.js";
import { SpecialPool, type SpecialPoolPlacement } from "./special-pool.js";

/** POOL_TYPE. Odd values are paged pool. */
export enum POOL_TYPE {
  NonPagedPool = 0,
  PagedPool = 1,
  NonPagedPoolMustSucceed = 2,
  NonPagedPoolCacheAligned = 4,
  PagedPoolCacheAligned = 5,
  NonPagedPoolCacheAlignedMustS = 6,
  NonPagedPoolSession = 32,
  PagedPoolSession = 33,
  NonPagedPoolNx = 512,
}

/** True for the paged pool types (the odd ones). */
export function isPagedPoolType(type: POOL_TYPE): boolean {
  return (type & 1) === 1;
}

/** Bytes of the header in front of a small pool block. */
export const POOL_HEADER_SIZE = 16;
/** BAD_POOL_CALLER: zero-byte request. */
export const BAD_POOL_ZERO_BYTES = 0x00;
/** BAD_POOL_CALLER: freeing a block that is already free. */
export const BAD_POOL_DOUBLE_FREE = 0x07;
/** BAD_POOL_CALLER: allocation at an IRQL too high for the pool type. */
export const BAD_POOL_BAD_IRQL = 0x08;
/** BAD_POOL_CALLER: freeing at an IRQL too high for the pool type. */
export const BAD_POOL_FREE_BAD_IRQL = 0x09;
/** BAD_POOL_CALLER: freeing with a tag other than the one allocated with. */
export const BAD_POOL_WRONG_TAG = 0x0A;
/** BAD_POOL_CALLER: freeing a user-mode address (P2 start of system space). */
export const BAD_POOL_USER_ADDRESS = 0x40;
/** BAD_POOL_CALLER: freeing an address that was never in any pool. */
export const BAD_POOL_NOT_POOL = 0x42;
/** BAD_POOL_CALLER: freeing a nonpaged pool address that is not allocated. */
export const BAD_POOL_NONPAGED_NOT_ALLOCATED = 0x44;
/** BAD_POOL_CALLER: freeing a paged pool address that is not allocated. */
export const BAD_POOL_PAGED_NOT_ALLOCATED = 0x48;
/** Verifier 0xC4: paged pool above APC_LEVEL. */
export const VERIFIER_PAGED_POOL_IRQL = 0x01;
/** Verifier 0xC4: nonpaged pool above DISPATCH_LEVEL. */
export const VERIFIER_NONPAGED_POOL_IRQL = 0x02;
/** Verifier 0xC4: freeing paged pool above APC_LEVEL. */
export const VERIFIER_FREE_PAGED_POOL_IRQL = 0x11;
/** Verifier 0xC4: freeing nonpaged pool above DISPATCH_LEVEL. */
export const VERIFIER_FREE_NONPAGED_POOL_IRQL = 0x12;

/** A pool tag: a number, or four characters as poolmon shows them ("Edu "). */
export type PoolTag = number | string;

/** The numeric value of a tag (characters in memory order, as a C multi-character literal stores them). */
export function tagValue(tag: PoolTag): number {
  if (typeof tag === "number") return tag >>> 0;
  const s = tag.padEnd(4, " ").slice(0, 4);
  return (s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24)) >>> 0;
}

/** A tag as poolmon prints it. */
export function tagText(tag: number): string {
  return String.fromCharCode(tag & 0xFF, (tag >>> 8) & 0xFF, (tag >>> 16) & 0xFF, (tag >>> 24) & 0xFF);
}

interface Block {
  /** The block is in special pool (its page is the special pool's to free). */
  special: boolean;
  /** Start of the reservation (header included), VA. */
  reserved: number;
  bytes: number;
  requested: number;
  tag: number;
  type: POOL_TYPE;
  owner: string;
}

/** Allocations, frees and bytes in use (requested bytes of the blocks not yet freed). */
export interface PoolCounts {
  allocations: number;
  frees: number;
  bytes: number;
}

/** One tag's figures, as !poolused shows them: nonpaged and paged, and the drivers that used the tag. */
export interface PoolTagUsage {
  tag: string;
  nonPaged: PoolCounts;
  paged: PoolCounts;
  drivers: string[];
}

/** One driver's figures over all its tags. */
export interface PoolDriverUsage {
  driver: string;
  nonPaged: PoolCounts;
  paged: PoolCounts;
}

const counts = (): PoolCounts => ({ allocations: 0, frees: 0, bytes: 0 });

function addCounts(c: PoolCounts, allocations: number, frees: number, bytes: number): void {
  c.allocations += allocations;
  c.frees += frees;
  c.bytes += bytes;
}

/** Freed block records the pool keeps for reuse. */
const SPARE_BLOCKS = 256;

/** How pool pages are mapped: [nonpaged, paged]. */
const COMMIT_OPTIONS = [
  { writable: true, global: true, noExecute: true, pageable: false },
  { writable: true, global: true, noExecute: true, pageable: true },
] as const;

/** One pool region (nonpaged or paged): virtual space and the pages committed in it. */
class PoolRegion {
  readonly space: RangeAllocator;
  /** Committed page VAs to the number of live blocks touching them. */
  readonly pages = new Map<number, number>();

  constructor(start: number, size: number, readonly pageable: boolean) {
    this.space = new RangeAllocator(start, start + size, 16);
  }
}

/** The pool allocator. */
export class Pool {
  readonly nonPaged = new PoolRegion(POOL_START, POOL_SIZE, false);
  readonly paged = new PoolRegion(PAGED_POOL_START, PAGED_POOL_SIZE, true);
  /** Special pool, when the machine's verifier has the Special Pool option on. */
  readonly special: SpecialPool | null;
  /** Allocations special pool served. */
  specialAllocations = 0;
  /** Allocations may be failed on purpose (Low Resources Simulation, or a failPool fault armed): only then is each one asked about. */
  injectFailures: boolean;
  private readonly blocks = new Map<number, Block>();
  /** Records of freed blocks, reused for later allocations (at most SPARE_BLOCKS). */
  private readonly spareBlocks: Block[] = [];
  private readonly freed = new Set<number>();
  private readonly byTag = new Map<number, { nonPaged: PoolCounts; paged: PoolCounts; drivers: Set<string> }>();
  private readonly byDriver = new Map<string, { nonPaged: PoolCounts; paged: PoolCounts }>();

  constructor(private readonly mm: MemoryManager) {
    const placement = mm.k.machine.description.kernel.specialPool ?? "off";
    this.special = placement !== "off" && mm.k.verifier ? new SpecialPool(mm.k, mm.system, SPECIAL_POOL_START, SPECIAL_POOL_SIZE, placement) : null;
    this.injectFailures = Boolean(mm.k.machine.description.kernel.lowResources) && mm.k.verifier;
  }

  /** Maps the pages of [va, va + bytes) that are not committed yet; false when out of memory. */
  private commit(region: PoolRegion, va: number, bytes: number): boolean {
    const first = Math.floor(va / PAGE_SIZE) * PAGE_SIZE;
    for (let page = first; page < va + bytes; page += PAGE_SIZE) {
      const users = region.pages.get(page);
      if (users !== undefined) {
        region.pages.set(page, users + 1);
        continue;
      }
      const frame = this.mm.pfn.allocatePage();
      if (frame < 0) {
        for (let p = first; p < page; p += PAGE_SIZE) this.release(region, p);
        return false;
      }
      this.mm.k.x.physFill(frame * PAGE_SIZE, PAGE_SIZE, 0);
      this.mm.system.map(page, frame * PAGE_SIZE, COMMIT_OPTIONS[region.pageable ? 1 : 0]);
      region.pages.set(page, 1);
    }
    return true;
  }

  /** Drops one block's hold on a committed page; the last one unmaps it and frees its frame. */
  private release(region: PoolRegion, page: number): void {
    const users = region.pages.get(page)! - 1;
    if (users > 0) {
      region.pages.set(page, users);
      return;
    }
    region.pages.delete(page);
    const pa = this.mm.system.unmap(page);
    if (pa >= 0) this.mm.pfn.freePage(pa / PAGE_SIZE);
  }

  private regionOf(type: POOL_TYPE): PoolRegion {
    return isPagedPoolType(type) ? this.paged : this.nonPaged;
  }

  /**
   * Allocates `bytes`; returns the VA or 0 when out of memory. Small blocks start on a
   * multiple of `alignment` bytes (16, or a larger power of two such as the cache line).
   * With `special` a block of less than a page comes from special pool, placed as it says
   * (from normal pool when special pool is exhausted).
   */
  allocate(type: POOL_TYPE, bytes: number, tag: number, owner: string, alignment = POOL_HEADER_SIZE, special: SpecialPoolPlacement | null = null): number {
    if (special && this.special && bytes < PAGE_SIZE) {
      const va = this.special.allocate(bytes, special, () => this.mm.pfn.allocatePage());
      if (va !== 0) {
        this.specialAllocations++;
        this.record(va, true, va, PAGE_SIZE, bytes, tag, type, owner);
        return va;
      }
    }
    const region = this.regionOf(type);
    const big = bytes >= PAGE_SIZE;
    const headerRoom = Math.max(POOL_HEADER_SIZE, alignment);
    const reserve = big ? Math.ceil(bytes / PAGE_SIZE) * PAGE_SIZE : bytes + headerRoom;
    const reserved = region.space.allocate(reserve, big ? PAGE_SIZE : headerRoom);
    if (reserved < 0) return 0;
    if (!this.commit(region, reserved, reserve)) {
      region.space.release(reserved, reserve);
      return 0;
    }
    const va = big ? reserved : reserved + headerRoom;
    if (!big) {
      // POOL_HEADER: PreviousSize/PoolIndex/BlockSize/PoolType in the first 4 bytes, PoolTag at +4.
      const k = this.mm.k;
      const header = va - POOL_HEADER_SIZE;
      // System space is mapped in every address space; a paged pool page may need paging in first.
      let pa = k.x.cpuTranslate(k.cpu.Number, header, 0);
      if (pa < 0 && this.mm.makeResident(this.mm.system, header)) pa = k.x.cpuTranslate(k.cpu.Number, header, 0);
      k.x.physWrite32(pa, (((Math.ceil(reserve / 16) & 0xFF) << 16) | (((type & 0x7F) + 1) << 24)) >>> 0);
      k.x.physWrite32(pa + 4, tag);
    }
    this.record(va, false, reserved, reserve, bytes, tag, type, owner);
    return va;
  }

  /** Records the block at `va` and counts it. */
  private record(va: number, special: boolean, reserved: number, reserve: number, bytes: number, tag: number, type: POOL_TYPE, owner: string): void {
    const block = this.spareBlocks.pop();
    if (block) {
      block.special = special;
      block.reserved = reserved;
      block.bytes = reserve;
      block.requested = bytes;
      block.tag = tag;
      block.type = type;
      block.owner = owner;
      this.blocks.set(va, block);
    } else {
      this.blocks.set(va, { special, reserved, bytes: reserve, requested: bytes, tag, type, owner });
    }
    this.freed.delete(va);
    this.account(tag, type, owner, 1, 0, bytes);
  }

  /** Adds to the figures of `tag` and of `owner` in the pool of `type`. */
  private account(tag: number, type: POOL_TYPE, owner: string, allocations: number, frees: number, bytes: number): void {
    let t = this.byTag.get(tag);
    if (!t) this.byTag.set(tag, (t = { nonPaged: counts(), paged: counts(), drivers: new Set() }));
    t.drivers.add(owner);
    let d = this.byDriver.get(owner);
    if (!d) this.byDriver.set(owner, (d = { nonPaged: counts(), paged: counts() }));
    const paged = isPagedPoolType(type);
    addCounts(paged ? t.paged : t.nonPaged, allocations, frees, bytes);
    addCounts(paged ? d.paged : d.nonPaged, allocations, frees, bytes);
  }

  /** The block at `va`, if allocated. */
  block(va: number): Block | undefined {
    return this.blocks.get(va);
  }

  /**
   * The POOL_HEADER in front of a small block at `va` as one 64-bit value (the first
   * ULONG — sizes and pool type — low, the tag high), or 0 when there is none to read (a
   * page-sized block, or a page given back since).
   */
  headerContents(va: number): bigint {
    if (va % PAGE_SIZE === 0) return 0n;
    const k = this.mm.k;
    const pa = this.mm.system.lookup(va - POOL_HEADER_SIZE);
    if (pa < 0) return 0n;
    return BigInt(k.x.physRead32(pa) >>> 0) | (BigInt(k.x.physRead32(pa + 4) >>> 0) << 32n);
  }

  /** A freed small block's header says so: its PoolType byte becomes 0, as the pool marks a free block. */
  private markHeaderFree(va: number): void {
    const k = this.mm.k;
    const pa = this.mm.system.lookup(va - POOL_HEADER_SIZE);
    if (pa >= 0) k.x.physWrite32(pa, (k.x.physRead32(pa) & 0x00FFFFFF) >>> 0);
  }

  /** True if `va` was allocated and then freed. */
  wasFreed(va: number): boolean {
    return this.freed.has(va);
  }

  /** Frees the block at `va` (already validated). */
  free(va: number): void {
    const b = this.blocks.get(va)!;
    if (b.special) this.special!.free(va, (pa) => this.mm.pfn.freePage(pa / PAGE_SIZE));
    else if (va % PAGE_SIZE !== 0) this.markHeaderFree(va);
    this.blocks.delete(va);
    this.freed.add(va);
    if (!b.special) this.releaseBlock(b);
    this.account(b.tag, b.type, b.owner, 0, 1, -b.requested);
    if (this.spareBlocks.length < SPARE_BLOCKS) this.spareBlocks.push(b);
  }

  /** Gives a normal block's pages and virtual space back. */
  private releaseBlock(b: Block): void {
    const region = this.regionOf(b.type);
    for (let page = Math.floor(b.reserved / PAGE_SIZE) * PAGE_SIZE; page < b.reserved + b.bytes; page += PAGE_SIZE) this.release(region, page);
    region.space.release(b.reserved, b.bytes);
  }

  /** True if `va` lies in paged pool. */
  isPaged(va: number): boolean {
    return va >= PAGED_POOL_START && va < PAGED_POOL_START + PAGED_POOL_SIZE;
  }

  /** True if `va` lies in nonpaged pool. */
  isNonPaged(va: number): boolean {
    return va >= POOL_START && va < POOL_START + POOL_SIZE;
  }

  /** Usage by tag, sorted by tag. */
  usageByTag(): PoolTagUsage[] {
    return [...this.byTag.entries()]
      .map(([tag, u]) => ({ tag: tagText(tag), nonPaged: { ...u.nonPaged }, paged: { ...u.paged }, drivers: [...u.drivers].sort() }))
      .sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  }

  /** Usage by driver, sorted by driver name. */
  usageByDriver(): PoolDriverUsage[] {
    return [...this.byDriver.entries()]
      .map(([driver, u]) => ({ driver, nonPaged: { ...u.nonPaged }, paged: { ...u.paged } }))
      .sort((a, b) => (a.driver < b.driver ? -1 : a.driver > b.driver ? 1 : 0));
  }

  /** Allocations not yet freed. */
  outstanding(): { va: number; bytes: number; tag: string; type: POOL_TYPE; owner: string }[] {
    return [...this.blocks.entries()].map(([va, b]) => ({ va, bytes: b.requested, tag: tagText(b.tag), type: b.type, owner: b.owner }));
  }
}

/**
 * ExAllocatePoolWithTag: `NumberOfBytes` of pool tagged `Tag`; returns the virtual
 * address, or 0 (NULL) when the pool is exhausted (with POOL_RAISE_IF_ALLOCATION_FAILURE
 * ORed into PoolType it raises STATUS_INSUFFICIENT_RESOURCES instead). Blocks of a page or
 * more are page aligned; the cache-aligned types align to CACHE_LINE_SIZE. Paged pool
 * above APC_LEVEL and nonpaged pool above DISPATCH_LEVEL are bugs.
 */
export function ExAllocatePoolWithTag(PoolType: POOL_TYPE, NumberOfBytes: number, Tag: PoolTag): number {
  const va = allocatePool(PoolType, NumberOfBytes, tagValue(Tag), (PoolType & POOL_CACHE_ALIGNED) !== 0 ? CACHE_LINE_SIZE : POOL_HEADER_SIZE);
  if (va === 0 && (PoolType & POOL_RAISE_IF_ALLOCATION_FAILURE) !== 0) throw new NtStatusException(STATUS_INSUFFICIENT_RESOURCES);
  return va;
}

/** POOL_TYPE bit of the cache-aligned types (NonPagedPoolCacheAligned, PagedPoolCacheAligned...). */
export const POOL_CACHE_ALIGNED = 4;
/** POOL_TYPE modifier: raise STATUS_INSUFFICIENT_RESOURCES instead of returning NULL. */
export const POOL_RAISE_IF_ALLOCATION_FAILURE = 16;
/** Bytes of a processor cache line, the alignment of cache-aligned pool. */
export const CACHE_LINE_SIZE = 64;

/**
 * The allocation every pool routine makes: charges the call, applies the IRQL and
 * zero-byte rules of ExAllocatePoolWithTag, and returns the block's VA (`alignment`
 * bytes aligned) or 0 when the pool is exhausted. Under the Special Pool option a
 * driver's block comes from special pool, placed as `placement` says (a priority's
 * SpecialPoolOverrun / SpecialPoolUnderrun) or as the option does. `routine` names the
 * allocating routine for Low Resources Simulation's counts.
 */
export function allocatePool(PoolType: POOL_TYPE, NumberOfBytes: number, tag: number, alignment: number, placement: SpecialPoolPlacement | null = null, routine = "ExAllocatePoolWithTag"): number {
  const k = KE();
  k.chargePs(k.cost.ExAllocatePoolWithTag);
  const irql = k.cpu.irql;
  const paged = isPagedPoolType(PoolType);
  const limit = paged ? APC_LEVEL : DISPATCH_LEVEL;
  if (irql > limit) {
    if (k.verifier) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, paged ? VERIFIER_PAGED_POOL_IRQL : VERIFIER_NONPAGED_POOL_IRQL, irql, PoolType, NumberOfBytes);
    k.bugCheck(BAD_POOL_CALLER, BAD_POOL_BAD_IRQL, irql, PoolType, NumberOfBytes);
  }
  if (NumberOfBytes === 0 && k.verifier) k.bugCheck(BAD_POOL_CALLER, BAD_POOL_ZERO_BYTES, 0, PoolType, tag);
  const pool = MM(k).pool;
  if (pool.injectFailures && lowResourceFailure(k, tag, routine)) return 0;
  const owner = k.attribution().driver;
  // Special pool serves drivers' allocations (not the kernel's own), placed as the caller asked or as the machine's option says.
  const special = pool.special && owner !== "nt" ? placement ?? pool.special.placement : null;
  return pool.allocate(PoolType, Math.max(1, NumberOfBytes), tag, owner, alignment, special);
}

/**
 * ExFreePoolWithTag: frees a block. Freeing twice is 0xC2 / 0x07, with the wrong tag
 * 0xC2 / 0x0A; an address that is not a pool block is 0xC2 / 0x40 (user address), 0x44
 * (nonpaged pool), 0x48 (paged pool) or 0x42 (no pool at all); freeing paged pool above
 * APC_LEVEL or nonpaged pool above DISPATCH_LEVEL is 0xC4 / 0x11 or 0x12 under the
 * verifier (0xC2 / 0x09 without it).
 */
export function ExFreePoolWithTag(P: number, Tag: PoolTag): void {
  const k = KE();
  k.chargePs(k.cost.ExFreePoolWithTag);
  const pool = MM(k).pool;
  const b = pool.block(P);
  if (!b) {
    if (pool.wasFreed(P)) k.bugCheck(BAD_POOL_CALLER, BAD_POOL_DOUBLE_FREE, 0, pool.headerContents(P), P);
    if (P < SYSTEM_SPACE_START) k.bugCheck(BAD_POOL_CALLER, BAD_POOL_USER_ADDRESS, P, SYSTEM_SPACE_START, 0);
    if (pool.isNonPaged(P)) k.bugCheck(BAD_POOL_CALLER, BAD_POOL_NONPAGED_NOT_ALLOCATED, P, 0, 0);
    if (pool.isPaged(P)) k.bugCheck(BAD_POOL_CALLER, BAD_POOL_PAGED_NOT_ALLOCATED, P, 0, 0);
    return k.bugCheck(BAD_POOL_CALLER, BAD_POOL_NOT_POOL, P, 0, 0);
  }
  const irql = k.cpu.irql;
  const paged = isPagedPoolType(b.type);
  if (irql > (paged ? APC_LEVEL : DISPATCH_LEVEL)) {
    if (k.verifier) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, paged ? VERIFIER_FREE_PAGED_POOL_IRQL : VERIFIER_FREE_NONPAGED_POOL_IRQL, irql, b.type, P);
    k.bugCheck(BAD_POOL_CALLER, BAD_POOL_FREE_BAD_IRQL, irql, b.type, P);
  }
  const tag = tagValue(Tag);
  if (Tag !== 0 && tag !== b.tag) k.bugCheck(BAD_POOL_CALLER, BAD_POOL_WRONG_TAG, P, b.tag, tag);
  pool.free(P);
}

/** ExFreePool: frees a block without checking its tag. */
export function ExFreePool(P: number): void {
  ExFreePoolWithTag(P, 0);
}

/** Pool usage by tag, like the debugger's !poolused: allocations, frees and bytes in use, nonpaged and paged, per tag. */
export function poolUsed(): PoolTagUsage[] {
  return MM().pool.usageByTag();
}

/** Pool usage by driver (the driver whose routine allocated), nonpaged and paged. */
export function poolUsedByDriver(): PoolDriverUsage[] {
  return MM().pool.usageByDriver();
}
