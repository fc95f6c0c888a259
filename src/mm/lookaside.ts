/**
 * Lookaside lists: caches of fixed-size pool blocks. NPAGED_LOOKASIDE_LIST and
 * PAGED_LOOKASIDE_LIST (ExInitialize/ExAllocateFrom/ExFreeTo/ExDelete...LookasideList)
 * and LOOKASIDE_LIST_EX (ExInitializeLookasideListEx, ExAllocateFromLookasideListEx,
 * ExFreeToLookasideListEx, ExFlushLookasideListEx, ExDeleteLookasideListEx).
 *
 * Allocating takes a cached block when there is one (a hit) and otherwise calls the
 * list's Allocate routine, or allocates from pool when there is none (a miss). Freeing
 * keeps the block while the list holds fewer than Depth blocks, and otherwise calls the
 * Free routine, or frees to pool (a miss). The counters are GENERAL_LOOKASIDE's. Windows
 * adjusts Depth over time from the miss rates; here it stays at its initial value,
 * MINIMUM_LOOKASIDE_DEPTH. Cached blocks are kept by address in the list object, not
 * linked through their first bytes as Windows does; their memory is not touched.
 *
 * IRQL: nonpaged lists at <= DISPATCH_LEVEL, paged lists at <= APC_LEVEL. Under Driver
 * Verifier, ExInitializePagedLookasideList and ExDeletePagedLookasideList above APC_LEVEL
 * are 0xC4 with P1 0x00020006 (rule IrqlExApcLte2); allocating or freeing above the
 * list's level is the pool's IRQL violation (0xC4 P1 0x01 / 0x02 to allocate, 0x11 / 0x12
 * to free; without the verifier 0xC2 P1 0x08 / 0x09), whether or not the block is cached.
 */
import { BAD_POOL_CALLER, DRIVER_VERIFIER_DETECTED_VIOLATION } from "../ke/bugcheck.js";
import { APC_LEVEL, DISPATCH_LEVEL } from "../ke/irql.js";
import { KE } from "../ke/kernel.js";
import {
  NtStatusException, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER_4, STATUS_INVALID_PARAMETER_5, STATUS_SUCCESS, type NTSTATUS,
} from "../ke/ntstatus.js";
import type { PVOID } from "./memory.js";
import { DDI_RULE_IRQL_EX_APC_LTE2 } from "./probe.js";
import {
  BAD_POOL_BAD_IRQL, BAD_POOL_FREE_BAD_IRQL, ExAllocatePoolWithTag, ExFreePool, isPagedPoolType, POOL_RAISE_IF_ALLOCATION_FAILURE, POOL_TYPE,
  tagValue, VERIFIER_FREE_NONPAGED_POOL_IRQL, VERIFIER_FREE_PAGED_POOL_IRQL, VERIFIER_NONPAGED_POOL_IRQL, VERIFIER_PAGED_POOL_IRQL, type PoolTag,
} from "./pool.js";
import { POOL_QUOTA_FAIL_INSTEAD_OF_RAISE } from "./pool2.js";

/** The depth a lookaside list starts with (ExMinimumLookasideDepth). */
export const MINIMUM_LOOKASIDE_DEPTH = 4;
/** The most blocks a lookaside list may ever cache. */
export const MAXIMUM_LOOKASIDE_DEPTH = 256;
/** ExInitializeNPagedLookasideList flag: entries from no-execute nonpaged pool. */
export const POOL_NX_ALLOCATION = 512;
/** ExInitializeLookasideListEx flag: raise an exception when an allocation fails. */
export const EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL = 0x00000001;
/** ExInitializeLookasideListEx flag: return NULL instead of raising (for quota-charging allocate routines). */
export const EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE = 0x00000002;

/** An Allocate routine of ExInitialize(N)PagedLookasideList: returns a block of NumberOfBytes, or 0. */
export type PALLOCATE_FUNCTION = (PoolType: POOL_TYPE, NumberOfBytes: number, Tag: number) => PVOID;
/** A Free routine of ExInitialize(N)PagedLookasideList. */
export type PFREE_FUNCTION = (Buffer: PVOID) => void;
/** LookasideListAllocateEx: returns a block of NumberOfBytes, or 0. */
export type PALLOCATE_FUNCTION_EX = (PoolType: POOL_TYPE, NumberOfBytes: number, Tag: number, Lookaside: LOOKASIDE_LIST_EX) => PVOID;
/** LookasideListFreeEx. */
export type PFREE_FUNCTION_EX = (Buffer: PVOID, Lookaside: LOOKASIDE_LIST_EX) => void;

/** GENERAL_LOOKASIDE: what every kind of lookaside list holds. */
export class GENERAL_LOOKASIDE {
  /** The cached blocks (addresses), most recently freed last. */
  readonly ListHead: PVOID[] = [];
  /** Blocks the list may cache now. */
  Depth = MINIMUM_LOOKASIDE_DEPTH;
  MaximumDepth = MAXIMUM_LOOKASIDE_DEPTH;
  TotalAllocates = 0;
  /** Allocations the cache could not serve. */
  AllocateMisses = 0;
  TotalFrees = 0;
  /** Frees the cache could not keep. */
  FreeMisses = 0;
  /** The pool type of the entries (with the modifiers the allocate routine gets). */
  Type: POOL_TYPE = POOL_TYPE.NonPagedPool;
  Tag = 0;
  /** Bytes of each entry. */
  Size = 0;
  Allocate: PALLOCATE_FUNCTION | null = null;
  Free: PFREE_FUNCTION | null = null;
  AllocateEx: PALLOCATE_FUNCTION_EX | null = null;
  FreeEx: PFREE_FUNCTION_EX | null = null;
  /** False once deleted (and before initialisation). */
  initialized = false;
}

/** NPAGED_LOOKASIDE_LIST: a lookaside list of nonpaged entries. */
export class NPAGED_LOOKASIDE_LIST {
  readonly L = new GENERAL_LOOKASIDE();

  /** `record`: the object this list is embedded in (what CONTAINING_RECORD returns). */
  constructor(readonly record: object | null = null) {}
}

/** PAGED_LOOKASIDE_LIST: a lookaside list of pageable entries. */
export class PAGED_LOOKASIDE_LIST {
  readonly L = new GENERAL_LOOKASIDE();

  /** `record`: the object this list is embedded in (what CONTAINING_RECORD returns). */
  constructor(readonly record: object | null = null) {}
}

/** LOOKASIDE_LIST_EX: a lookaside list of ExInitializeLookasideListEx. */
export class LOOKASIDE_LIST_EX {
  readonly L = new GENERAL_LOOKASIDE();

  /** `record`: the object this list is embedded in (what CONTAINING_RECORD returns). */
  constructor(readonly record: object | null = null) {}
}

/** Applies the pool's allocation IRQL rule for the list's pool type. */
function checkAllocateIrql(L: GENERAL_LOOKASIDE): void {
  const k = KE();
  const paged = isPagedPoolType(L.Type);
  const irql = k.cpu.irql;
  if (irql <= (paged ? APC_LEVEL : DISPATCH_LEVEL)) return;
  if (k.verifier) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, paged ? VERIFIER_PAGED_POOL_IRQL : VERIFIER_NONPAGED_POOL_IRQL, irql, L.Type, L.Size);
  k.bugCheck(BAD_POOL_CALLER, BAD_POOL_BAD_IRQL, irql, L.Type, L.Size);
}

/** Applies the pool's free IRQL rule for the list's pool type. */
function checkFreeIrql(L: GENERAL_LOOKASIDE, Entry: PVOID): void {
  const k = KE();
  const paged = isPagedPoolType(L.Type);
  const irql = k.cpu.irql;
  if (irql <= (paged ? APC_LEVEL : DISPATCH_LEVEL)) return;
  if (k.verifier) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, paged ? VERIFIER_FREE_PAGED_POOL_IRQL : VERIFIER_FREE_NONPAGED_POOL_IRQL, irql, L.Type, Entry);
  k.bugCheck(BAD_POOL_CALLER, BAD_POOL_FREE_BAD_IRQL, irql, L.Type, Entry);
}

/** Under the verifier, a paged-list routine above APC_LEVEL is 0xC4 / IrqlExApcLte2. */
function checkPagedListIrql(): void {
  const k = KE();
  if (k.verifier && k.cpu.irql > APC_LEVEL) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_EX_APC_LTE2, k.cpu.irql, 0, 0);
}

function initialize(L: GENERAL_LOOKASIDE, type: POOL_TYPE, Size: number, Tag: PoolTag): void {
  L.ListHead.length = 0;
  L.Depth = MINIMUM_LOOKASIDE_DEPTH;
  L.MaximumDepth = MAXIMUM_LOOKASIDE_DEPTH;
  L.TotalAllocates = L.AllocateMisses = L.TotalFrees = L.FreeMisses = 0;
  L.Type = type;
  L.Tag = tagValue(Tag);
  L.Size = Size;
  L.Allocate = L.Free = null;
  L.AllocateEx = L.FreeEx = null;
  L.initialized = true;
}

/** Takes a cached block, or 0 after counting a miss. */
function takeCached(L: GENERAL_LOOKASIDE): PVOID {
  L.TotalAllocates++;
  const cached = L.ListHead.pop();
  if (cached !== undefined) return cached;
  L.AllocateMisses++;
  return 0;
}

/** Keeps `Entry` when there is room (true), or counts a miss (false: the caller frees it). */
function keep(L: GENERAL_LOOKASIDE, Entry: PVOID): boolean {
  L.TotalFrees++;
  if (L.ListHead.length < L.Depth) {
    L.ListHead.push(Entry);
    return true;
  }
  L.FreeMisses++;
  return false;
}

/** The default allocation: pool of the list's type, size and tag (raising when the type says so). */
function allocateDefault(L: GENERAL_LOOKASIDE): PVOID {
  if ((L.Type & POOL_QUOTA_FAIL_INSTEAD_OF_RAISE) !== 0) return ExAllocatePoolWithTag(L.Type & ~POOL_QUOTA_FAIL_INSTEAD_OF_RAISE, L.Size, L.Tag);
  return ExAllocatePoolWithTag(L.Type, L.Size, L.Tag);
}

/** Frees every cached block through `free`. */
function drain(L: GENERAL_LOOKASIDE, free: (entry: PVOID) => void): void {
  while (L.ListHead.length > 0) free(L.ListHead.pop()!);
}

/**
 * ExInitializeNPagedLookasideList: an empty list of `Size`-byte nonpaged entries tagged
 * `Tag`. `Allocate` / `Free` replace pool allocation when given. `Flags` may hold
 * POOL_RAISE_IF_ALLOCATION_FAILURE and POOL_NX_ALLOCATION. `Depth` is reserved (0).
 */
export function ExInitializeNPagedLookasideList(
  Lookaside: NPAGED_LOOKASIDE_LIST, Allocate: PALLOCATE_FUNCTION | null, Free: PFREE_FUNCTION | null, Flags: number, Size: number, Tag: PoolTag, _Depth: number,
): void {
  const type = ((Flags & POOL_NX_ALLOCATION) !== 0 ? POOL_TYPE.NonPagedPoolNx : POOL_TYPE.NonPagedPool) | (Flags & POOL_RAISE_IF_ALLOCATION_FAILURE);
  initialize(Lookaside.L, type, Size, Tag);
  Lookaside.L.Allocate = Allocate;
  Lookaside.L.Free = Free;
}

/** ExAllocateFromNPagedLookasideList: a cached entry, or a new one (Allocate routine or pool); 0 (NULL) when none can be had. */
export function ExAllocateFromNPagedLookasideList(Lookaside: NPAGED_LOOKASIDE_LIST): PVOID {
  return allocateClassic(Lookaside.L);
}

/** ExFreeToNPagedLookasideList: caches `Entry`, or frees it (Free routine or pool) when the list is full. */
export function ExFreeToNPagedLookasideList(Lookaside: NPAGED_LOOKASIDE_LIST, Entry: PVOID): void {
  freeClassic(Lookaside.L, Entry);
}

/** ExDeleteNPagedLookasideList: frees every cached entry; the list may not be used again until initialised. */
export function ExDeleteNPagedLookasideList(Lookaside: NPAGED_LOOKASIDE_LIST): void {
  deleteClassic(Lookaside.L);
}

/**
 * ExInitializePagedLookasideList: an empty list of `Size`-byte pageable entries tagged
 * `Tag` (IRQL <= APC_LEVEL). `Flags` may hold POOL_RAISE_IF_ALLOCATION_FAILURE.
 */
export function ExInitializePagedLookasideList(
  Lookaside: PAGED_LOOKASIDE_LIST, Allocate: PALLOCATE_FUNCTION | null, Free: PFREE_FUNCTION | null, Flags: number, Size: number, Tag: PoolTag, _Depth: number,
): void {
  checkPagedListIrql();
  initialize(Lookaside.L, POOL_TYPE.PagedPool | (Flags & POOL_RAISE_IF_ALLOCATION_FAILURE), Size, Tag);
  Lookaside.L.Allocate = Allocate;
  Lookaside.L.Free = Free;
}

/** ExAllocateFromPagedLookasideList: as the nonpaged form, for pageable entries (IRQL <= APC_LEVEL). */
export function ExAllocateFromPagedLookasideList(Lookaside: PAGED_LOOKASIDE_LIST): PVOID {
  return allocateClassic(Lookaside.L);
}

/** ExFreeToPagedLookasideList: as the nonpaged form (IRQL <= APC_LEVEL). */
export function ExFreeToPagedLookasideList(Lookaside: PAGED_LOOKASIDE_LIST, Entry: PVOID): void {
  freeClassic(Lookaside.L, Entry);
}

/** ExDeletePagedLookasideList: frees every cached entry (IRQL <= APC_LEVEL). */
export function ExDeletePagedLookasideList(Lookaside: PAGED_LOOKASIDE_LIST): void {
  checkPagedListIrql();
  deleteClassic(Lookaside.L);
}

function allocateClassic(L: GENERAL_LOOKASIDE): PVOID {
  checkAllocateIrql(L);
  const cached = takeCached(L);
  if (cached !== 0) return cached;
  if (!L.Allocate) return allocateDefault(L);
  const va = L.Allocate(L.Type, L.Size, L.Tag);
  if (va === 0 && (L.Type & POOL_RAISE_IF_ALLOCATION_FAILURE) !== 0) throw new NtStatusException(STATUS_INSUFFICIENT_RESOURCES);
  return va;
}

function freeClassic(L: GENERAL_LOOKASIDE, Entry: PVOID): void {
  checkFreeIrql(L, Entry);
  if (keep(L, Entry)) return;
  if (L.Free) L.Free(Entry);
  else ExFreePool(Entry);
}

function deleteClassic(L: GENERAL_LOOKASIDE): void {
  const free = L.Free;
  drain(L, free ?? ExFreePool);
  L.initialized = false;
}

/** The POOL_TYPE values a lookaside list's entries may come from. */
const LOOKASIDE_POOL_TYPES = new Set<number>([
  POOL_TYPE.NonPagedPool, POOL_TYPE.PagedPool, POOL_TYPE.NonPagedPoolCacheAligned, POOL_TYPE.PagedPoolCacheAligned,
  POOL_TYPE.NonPagedPoolNx, POOL_TYPE.NonPagedPoolNx | POOL_TYPE.NonPagedPoolCacheAligned,
]);

/**
 * ExInitializeLookasideListEx: an empty list of `Size`-byte entries from `PoolType`
 * tagged `Tag`; `Allocate` / `Free` replace pool allocation when given. `Flags`: 0,
 * EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL (PoolType gets POOL_RAISE_IF_ALLOCATION_FAILURE)
 * or EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE (PoolType gets POOL_QUOTA_FAIL_INSTEAD_OF_RAISE),
 * not both. `Depth` is reserved (0). Returns STATUS_SUCCESS, STATUS_INVALID_PARAMETER_4
 * for a pool type that is not valid, or STATUS_INVALID_PARAMETER_5 for invalid flags.
 */
export function ExInitializeLookasideListEx(
  Lookaside: LOOKASIDE_LIST_EX, Allocate: PALLOCATE_FUNCTION_EX | null, Free: PFREE_FUNCTION_EX | null, PoolType: POOL_TYPE, Flags: number,
  Size: number, Tag: PoolTag, _Depth: number,
): NTSTATUS {
  if (!LOOKASIDE_POOL_TYPES.has(PoolType)) return STATUS_INVALID_PARAMETER_4;
  const known = EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL | EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE;
  if ((Flags & ~known) !== 0 || (Flags & known) === known) return STATUS_INVALID_PARAMETER_5;
  const modifier = (Flags & EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL) !== 0 ? POOL_RAISE_IF_ALLOCATION_FAILURE
    : (Flags & EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE) !== 0 ? POOL_QUOTA_FAIL_INSTEAD_OF_RAISE : 0;
  initialize(Lookaside.L, PoolType | modifier, Size, Tag);
  Lookaside.L.AllocateEx = Allocate;
  Lookaside.L.FreeEx = Free;
  return STATUS_SUCCESS;
}

/**
 * ExAllocateFromLookasideListEx: a cached entry, or a new one (LookasideListAllocateEx or
 * pool); 0 (NULL) when none can be had (with EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL it
 * raises STATUS_INSUFFICIENT_RESOURCES instead).
 */
export function ExAllocateFromLookasideListEx(Lookaside: LOOKASIDE_LIST_EX): PVOID {
  const L = Lookaside.L;
  checkAllocateIrql(L);
  const cached = takeCached(L);
  if (cached !== 0) return cached;
  if (!L.AllocateEx) return allocateDefault(L);
  const va = L.AllocateEx(L.Type, L.Size, L.Tag, Lookaside);
  if (va === 0 && (L.Type & POOL_RAISE_IF_ALLOCATION_FAILURE) !== 0) throw new NtStatusException(STATUS_INSUFFICIENT_RESOURCES);
  return va;
}

/** ExFreeToLookasideListEx: caches `Entry`, or frees it (LookasideListFreeEx or pool) when the list is full. */
export function ExFreeToLookasideListEx(Lookaside: LOOKASIDE_LIST_EX, Entry: PVOID): void {
  const L = Lookaside.L;
  checkFreeIrql(L, Entry);
  if (keep(L, Entry)) return;
  if (L.FreeEx) L.FreeEx(Entry, Lookaside);
  else ExFreePool(Entry);
}

/** ExFlushLookasideListEx: frees every cached entry; the list stays usable. */
export function ExFlushLookasideListEx(Lookaside: LOOKASIDE_LIST_EX): void {
  const L = Lookaside.L;
  const free = L.FreeEx;
  drain(L, free ? (entry) => free(entry, Lookaside) : ExFreePool);
}

/** ExDeleteLookasideListEx: frees every cached entry; the list may not be used again until initialised. */
export function ExDeleteLookasideListEx(Lookaside: LOOKASIDE_LIST_EX): void {
  ExFlushLookasideListEx(Lookaside);
  Lookaside.L.initialized = false;
}
