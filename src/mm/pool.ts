/**
 * Pool: ExAllocatePoolWithTag / ExFreePoolWithTag over system virtual space backed by
 * physical pages mapped through the MMU. Small blocks carry a 16-byte pool header that
 * holds the tag (as on x64 Windows); blocks of a page or more are page aligned. Every
 * allocation is tracked by tag and owning driver for !poolused-style figures.
 */
import { BAD_POOL_CALLER, DRIVER_VERIFIER_DETECTED_VIOLATION } from "../ke/bugcheck.js";
import { APC_LEVEL, DISPATCH_LEVEL } from "../ke/irql.js";
import { KE } from "../ke/kernel.js";
import { PAGE_SIZE } from "./pfn.js";
import { RangeAllocator } from "./va-allocator.js";
import type { MemoryManager } from "./manager.js";
import { MM, POOL_SIZE, POOL_START } from "./manager.js";

/** POOL_TYPE. */
export enum POOL_TYPE {
  NonPagedPool = 0,
  PagedPool = 1,
  NonPagedPoolMustSucceed = 2,
  NonPagedPoolCacheAligned = 4,
  PagedPoolCacheAligned = 5,
  NonPagedPoolNx = 512,
}

/** Bytes of the header in front of a small pool block. */
export const POOL_HEADER_SIZE = 16;
/** BAD_POOL_CALLER: zero-byte request. */
export const BAD_POOL_ZERO_BYTES = 0x00;
/** BAD_POOL_CALLER: freeing a block that is already free. */
export const BAD_POOL_DOUBLE_FREE = 0x07;
/** BAD_POOL_CALLER: allocation at an IRQL too high for the pool type. */
export const BAD_POOL_BAD_IRQL = 0x08;
/** BAD_POOL_CALLER: freeing with a tag other than the one allocated with. */
export const BAD_POOL_WRONG_TAG = 0x0A;
/** BAD_POOL_CALLER: freeing an address that is not a pool block. */
export const BAD_POOL_NOT_ALLOCATED = 0x0D;
/** Verifier 0xC4: paged pool above APC_LEVEL. */
export const VERIFIER_PAGED_POOL_IRQL = 0x01;
/** Verifier 0xC4: nonpaged pool above DISPATCH_LEVEL. */
export const VERIFIER_NONPAGED_POOL_IRQL = 0x02;

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
  /** Start of the reservation (header included), VA. */
  reserved: number;
  bytes: number;
  requested: number;
  tag: number;
  type: POOL_TYPE;
  owner: string;
}

/** Per-tag totals. */
export interface PoolUsage {
  tag: string;
  type: "Nonp" | "Paged";
  allocations: number;
  frees: number;
  bytes: number;
  owner: string;
}

/** The pool allocator. */
export class NonPagedPool {
  private readonly space = new RangeAllocator(POOL_START, POOL_START + POOL_SIZE, 16);
  private readonly blocks = new Map<number, Block>();
  private readonly freed = new Set<number>();
  private readonly committed = new Set<number>();
  private readonly usage = new Map<string, PoolUsage>();

  constructor(private readonly mm: MemoryManager) {}

  private commit(va: number, bytes: number): boolean {
    for (let page = Math.floor(va / PAGE_SIZE) * PAGE_SIZE; page < va + bytes; page += PAGE_SIZE) {
      if (this.committed.has(page)) continue;
      const frame = this.mm.pfn.allocatePage();
      if (frame < 0) return false;
      this.mm.k.x.physFill(frame * PAGE_SIZE, PAGE_SIZE, 0);
      this.mm.system.map(page, frame * PAGE_SIZE, { writable: true, global: true, noExecute: true });
      this.committed.add(page);
    }
    return true;
  }

  /** Allocates `bytes`; returns the VA or 0 when out of memory. */
  allocate(type: POOL_TYPE, bytes: number, tag: number, owner: string): number {
    const big = bytes >= PAGE_SIZE;
    const reserve = big ? bytes : bytes + POOL_HEADER_SIZE;
    const reserved = this.space.allocate(reserve, big ? PAGE_SIZE : 16);
    if (reserved < 0 || !this.commit(reserved, reserve)) return 0;
    const va = big ? reserved : reserved + POOL_HEADER_SIZE;
    if (!big) {
      // POOL_HEADER: PreviousSize/PoolIndex/BlockSize/PoolType in the first 4 bytes, PoolTag at +4.
      const k = this.mm.k;
      const pa = this.mm.system.lookup(reserved);
      k.x.physWrite32(pa, (((Math.ceil(reserve / 16) & 0xFF) << 16) | (((type & 0x7F) + 1) << 24)) >>> 0);
      k.x.physWrite32(pa + 4, tag);
    }
    this.blocks.set(va, { reserved, bytes: reserve, requested: bytes, tag, type, owner });
    this.freed.delete(va);
    const u = this.usageOf(tag, type, owner);
    u.allocations++;
    u.bytes += bytes;
    return va;
  }

  private usageOf(tag: number, type: POOL_TYPE, owner: string): PoolUsage {
    const paged = type === POOL_TYPE.PagedPool || type === POOL_TYPE.PagedPoolCacheAligned;
    const key = `${tag}:${paged}`;
    let u = this.usage.get(key);
    if (!u) {
      u = { tag: tagText(tag), type: paged ? "Paged" : "Nonp", allocations: 0, frees: 0, bytes: 0, owner };
      this.usage.set(key, u);
    }
    return u;
  }

  /** The block at `va`, if allocated. */
  block(va: number): Block | undefined {
    return this.blocks.get(va);
  }

  /** True if `va` was allocated and then freed. */
  wasFreed(va: number): boolean {
    return this.freed.has(va);
  }

  /** Frees the block at `va` (already validated). */
  release(va: number): void {
    const b = this.blocks.get(va)!;
    this.blocks.delete(va);
    this.freed.add(va);
    this.space.release(b.reserved, b.bytes);
    const u = this.usageOf(b.tag, b.type, b.owner);
    u.frees++;
    u.bytes -= b.requested;
  }

  /** Usage by tag, sorted by tag. */
  usageByTag(): PoolUsage[] {
    return [...this.usage.values()].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : a.type < b.type ? -1 : 1));
  }

  /** Allocations not yet freed. */
  outstanding(): { va: number; bytes: number; tag: string; owner: string }[] {
    return [...this.blocks.entries()].map(([va, b]) => ({ va, bytes: b.requested, tag: tagText(b.tag), owner: b.owner }));
  }
}

/**
 * ExAllocatePoolWithTag: `NumberOfBytes` of pool tagged `Tag`; returns the virtual
 * address, or 0 (NULL) when the pool is exhausted. Blocks of a page or more are page
 * aligned. Paged pool above APC_LEVEL and nonpaged pool above DISPATCH_LEVEL are bugs.
 */
export function ExAllocatePoolWithTag(PoolType: POOL_TYPE, NumberOfBytes: number, Tag: PoolTag): number {
  const k = KE();
  k.charge("ExAllocatePoolWithTag");
  const irql = k.cpu.irql;
  const paged = PoolType === POOL_TYPE.PagedPool || PoolType === POOL_TYPE.PagedPoolCacheAligned;
  const limit = paged ? APC_LEVEL : DISPATCH_LEVEL;
  const tag = tagValue(Tag);
  if (irql > limit) {
    if (k.verifier) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, paged ? VERIFIER_PAGED_POOL_IRQL : VERIFIER_NONPAGED_POOL_IRQL, irql, PoolType, NumberOfBytes);
    k.bugCheck(BAD_POOL_CALLER, BAD_POOL_BAD_IRQL, irql, PoolType, NumberOfBytes);
  }
  if (NumberOfBytes === 0 && k.verifier) k.bugCheck(BAD_POOL_CALLER, BAD_POOL_ZERO_BYTES, 0, PoolType, tag);
  return MM(k).pool.allocate(PoolType, Math.max(1, NumberOfBytes), tag, k.attribution().driver);
}

/**
 * ExFreePoolWithTag: frees a block. Freeing twice is 0xC2 / 0x07, with the wrong tag
 * 0xC2 / 0x0A, something that is not a pool block 0xC2 / 0x0D.
 */
export function ExFreePoolWithTag(P: number, Tag: PoolTag): void {
  const k = KE();
  k.charge("ExFreePoolWithTag");
  const pool = MM(k).pool;
  const b = pool.block(P);
  if (!b) {
    if (pool.wasFreed(P)) k.bugCheck(BAD_POOL_CALLER, BAD_POOL_DOUBLE_FREE, 0, 0, P);
    return k.bugCheck(BAD_POOL_CALLER, BAD_POOL_NOT_ALLOCATED, P, 0, 0);
  }
  const tag = tagValue(Tag);
  if (Tag !== 0 && tag !== b.tag) k.bugCheck(BAD_POOL_CALLER, BAD_POOL_WRONG_TAG, P, b.tag, tag);
  pool.release(P);
}

/** ExFreePool: frees a block without checking its tag. */
export function ExFreePool(P: number): void {
  ExFreePoolWithTag(P, 0);
}
