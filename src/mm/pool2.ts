/**
 * The pool routines of Windows 10, version 2004 and later: ExAllocatePool2 and
 * ExAllocatePool3 (POOL_FLAGS), the wrappers ExAllocatePoolZero,
 * ExAllocatePoolUninitialized, ExAllocatePoolQuotaZero, ExAllocatePoolQuotaUninitialized
 * and ExAllocatePoolWithQuotaTag, and ExInitializeDriverRuntime. Blocks come from the
 * same pool as ExAllocatePoolWithTag (pool.ts) and are freed with ExFreePoolWithTag.
 *
 * POOL_FLAGS is a ULONG64: the low 32 bits are required flags (the allocation fails when
 * one is not recognised or cannot be satisfied), the high 32 bits optional ones (ignored
 * when not recognised). Exactly one of POOL_FLAG_NON_PAGED, POOL_FLAG_NON_PAGED_EXECUTE and
 * POOL_FLAG_PAGED must be given. Failing means returning 0 (NULL), or raising
 * STATUS_INSUFFICIENT_RESOURCES with POOL_FLAG_RAISE_ON_FAILURE; a tag of 0 and invalid
 * flags fail the same way, as documented. This machine has no session pool and no secure
 * pool: POOL_FLAG_SESSION and the secure-pool extended parameter cannot be satisfied.
 * Quota is not modelled: POOL_FLAG_USE_QUOTA and the Quota routines allocate as the
 * others do. The IRQL and zero-byte rules are ExAllocatePoolWithTag's.
 */
import { KE } from "../ke/kernel.js";
import { NtStatusException, STATUS_INSUFFICIENT_RESOURCES } from "../ke/ntstatus.js";
import { RtlZeroMemory, splitU64 } from "./memory.js";
import { MM } from "./manager.js";
import { PAGE_SIZE } from "./pfn.js";
import type { SpecialPoolPlacement } from "./special-pool.js";
import {
  allocatePool, CACHE_LINE_SIZE, POOL_CACHE_ALIGNED, POOL_HEADER_SIZE, POOL_RAISE_IF_ALLOCATION_FAILURE, POOL_TYPE, tagValue, type PoolTag,
} from "./pool.js";

/** POOL_FLAGS: a ULONG64 of POOL_FLAG_* bits (a number, exact below 2^53, or a bigint). */
export type POOL_FLAGS = number | bigint;

export const POOL_FLAG_REQUIRED_START = 0x0000000000000001;
/** Charge quota. */
export const POOL_FLAG_USE_QUOTA = 0x0000000000000001;
/** Don't zero-initialize the allocation. */
export const POOL_FLAG_UNINITIALIZED = 0x0000000000000002;
/** Use session-specific pool. */
export const POOL_FLAG_SESSION = 0x0000000000000004;
/** Cache-aligned allocation. */
export const POOL_FLAG_CACHE_ALIGNED = 0x0000000000000008;
/** Reserved for system use. */
export const POOL_FLAG_RESERVED1 = 0x0000000000000010;
/** Raise an exception on failure. */
export const POOL_FLAG_RAISE_ON_FAILURE = 0x0000000000000020;
/** Nonpaged pool, no-execute. */
export const POOL_FLAG_NON_PAGED = 0x0000000000000040;
/** Nonpaged pool, executable. */
export const POOL_FLAG_NON_PAGED_EXECUTE = 0x0000000000000080;
/** Paged pool. */
export const POOL_FLAG_PAGED = 0x0000000000000100;
/** Reserved for system use. */
export const POOL_FLAG_RESERVED2 = 0x0000000000000200;
/** Reserved for system use. */
export const POOL_FLAG_RESERVED3 = 0x0000000000000400;
export const POOL_FLAG_REQUIRED_END = 0x0000000080000000;
export const POOL_FLAG_OPTIONAL_START = 0x0000000100000000;
/** Make special pool allocation (optional: ignored when special pool is not available). */
export const POOL_FLAG_SPECIAL_POOL = 0x0000000100000000;
export const POOL_FLAG_OPTIONAL_END = 2 ** 63;

/** POOL_TYPE modifier of the Quota routines: return NULL instead of raising on failure. */
export const POOL_QUOTA_FAIL_INSTEAD_OF_RAISE = 8;
/** POOL_TYPE modifier: a hint that the allocation is rarely used (advisory). */
export const POOL_COLD_ALLOCATION = 256;

/** ExInitializeDriverRuntime flag: opt in to no-execute nonpaged pool by default. */
export const DrvRtPoolNxOptIn = 0x00000001;

/** The required flags this pool recognises and can satisfy. */
const SUPPORTED_REQUIRED = POOL_FLAG_USE_QUOTA | POOL_FLAG_UNINITIALIZED | POOL_FLAG_CACHE_ALIGNED | POOL_FLAG_RAISE_ON_FAILURE
  | POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED;

/** POOL_EXTENDED_PARAMETER_TYPE. */
export enum POOL_EXTENDED_PARAMETER_TYPE {
  PoolExtendedParameterInvalidType = 0,
  PoolExtendedParameterPriority = 1,
  PoolExtendedParameterSecurePool = 2,
  PoolExtendedParameterNumaNode = 3,
  PoolExtendedParameterMax = 4,
}

/** EX_POOL_PRIORITY: how hard the allocation should try when memory is low. */
export enum EX_POOL_PRIORITY {
  LowPoolPriority = 0,
  LowPoolPrioritySpecialPoolOverrun = 8,
  LowPoolPrioritySpecialPoolUnderrun = 9,
  NormalPoolPriority = 16,
  NormalPoolPrioritySpecialPoolOverrun = 24,
  NormalPoolPrioritySpecialPoolUnderrun = 25,
  HighPoolPriority = 32,
  HighPoolPrioritySpecialPoolOverrun = 40,
  HighPoolPrioritySpecialPoolUnderrun = 41,
}

/** POOL_NODE_REQUIREMENT flag: another NUMA node will do when the preferred one cannot. */
export const MM_ANY_NODE_OK = 0x80000000;

/** POOL_EXTENDED_PARAMETER: one extended parameter of ExAllocatePool3 (the union's members as optional fields). */
export interface POOL_EXTENDED_PARAMETER {
  Type: POOL_EXTENDED_PARAMETER_TYPE;
  /** 1: the parameter may be ignored (when its Type is not recognised); 0: it must be honoured. */
  Optional: number;
  /** For PoolExtendedParameterPriority. */
  Priority?: EX_POOL_PRIORITY;
  /** For PoolExtendedParameterNumaNode: a node number, optionally ORed with MM_ANY_NODE_OK. */
  PreferredNode?: number;
  /** For PoolExtendedParameterSecurePool. */
  SecurePoolParams?: unknown;
}

/** Why an allocation was refused before trying the pool. */
const REFUSED = -1;

/** The POOL_TYPE a valid set of required flags asks for, or REFUSED. */
function poolTypeOf(required: number): POOL_TYPE | typeof REFUSED {
  if ((required & ~SUPPORTED_REQUIRED) !== 0) return REFUSED;
  const kinds = required & (POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED);
  const aligned = (required & POOL_FLAG_CACHE_ALIGNED) !== 0 ? POOL_CACHE_ALIGNED : 0;
  if (kinds === POOL_FLAG_NON_PAGED) return POOL_TYPE.NonPagedPoolNx | aligned;
  if (kinds === POOL_FLAG_NON_PAGED_EXECUTE) return POOL_TYPE.NonPagedPool | aligned;
  if (kinds === POOL_FLAG_PAGED) return POOL_TYPE.PagedPool | aligned;
  return REFUSED;
}

/**
 * Whether the machine's free memory allows an allocation of `bytes` at `priority`: low
 * priority fails once free pages would drop below the low-water mark, normal priority
 * below half of it, high priority only when memory is exhausted.
 */
function priorityAllows(priority: EX_POOL_PRIORITY, bytes: number): boolean {
  const pfn = MM().pfn;
  const after = pfn.freePages - Math.ceil(bytes / PAGE_SIZE);
  if (priority < EX_POOL_PRIORITY.NormalPoolPriority) return after >= pfn.lowWaterPages;
  if (priority < EX_POOL_PRIORITY.HighPoolPriority) return after >= pfn.lowWaterPages / 2;
  return true;
}

/** The priority the extended parameters ask for, or REFUSED when a required one cannot be honoured. */
function priorityOf(parameters: readonly POOL_EXTENDED_PARAMETER[] | null, count: number): EX_POOL_PRIORITY | typeof REFUSED {
  let priority = EX_POOL_PRIORITY.NormalPoolPriority;
  for (let i = 0; i < count; i++) {
    const p = parameters![i];
    if (p.Type === POOL_EXTENDED_PARAMETER_TYPE.PoolExtendedParameterPriority && p.Priority !== undefined && EX_POOL_PRIORITY[p.Priority] !== undefined) {
      priority = p.Priority;
    } else if (p.Type === POOL_EXTENDED_PARAMETER_TYPE.PoolExtendedParameterNumaNode && p.PreferredNode !== undefined) {
      // One NUMA node (0): any node request is met by it; another node only with MM_ANY_NODE_OK.
      const node = p.PreferredNode & ~MM_ANY_NODE_OK;
      if (node !== 0 && (p.PreferredNode & MM_ANY_NODE_OK) === 0 && p.Optional === 0) return REFUSED;
    } else if (p.Optional === 0) {
      return REFUSED;
    }
  }
  return priority;
}

/** EX_POOL_PRIORITY bit of the special-pool priorities (XxxSpecialPoolOverrun and XxxSpecialPoolUnderrun). */
const SPECIAL_POOL_PRIORITY = 8;
/** EX_POOL_PRIORITY bit of XxxSpecialPoolUnderrun. */
const SPECIAL_POOL_UNDERRUN = 1;

/** The special pool placement a priority asks for (only the placement: it cannot turn special pool on), or null. */
export function specialPoolPlacementOf(priority: EX_POOL_PRIORITY): SpecialPoolPlacement | null {
  if ((priority & SPECIAL_POOL_PRIORITY) === 0) return null;
  return (priority & SPECIAL_POOL_UNDERRUN) !== 0 ? "verifyStart" : "verifyEnd";
}

/**
 * ExAllocatePoolWithTagPriority: ExAllocatePoolWithTag with an EX_POOL_PRIORITY. When memory
 * is low, LowPoolPriority fails first and HighPoolPriority last (see priorityAllows); the
 * XxxSpecialPoolOverrun / XxxSpecialPoolUnderrun priorities choose where in its page a
 * special pool block goes when the Special Pool option is on. Returns the address or 0.
 */
export function ExAllocatePoolWithTagPriority(PoolType: POOL_TYPE, NumberOfBytes: number, Tag: PoolTag, Priority: EX_POOL_PRIORITY): number {
  if (!priorityAllows(Priority & ~(SPECIAL_POOL_PRIORITY | SPECIAL_POOL_UNDERRUN), NumberOfBytes)) {
    KE().chargePs(KE().cost.ExAllocatePoolWithTag);
    return 0;
  }
  const alignment = (PoolType & POOL_CACHE_ALIGNED) !== 0 ? CACHE_LINE_SIZE : POOL_HEADER_SIZE;
  return allocatePool(PoolType, NumberOfBytes, tagValue(Tag), alignment, specialPoolPlacementOf(Priority), "ExAllocatePoolWithTagPriority");
}

/** Fails an allocation as its flags say: 0, or a raised STATUS_INSUFFICIENT_RESOURCES. */
function fail(raise: boolean): number {
  if (raise) throw new NtStatusException(STATUS_INSUFFICIENT_RESOURCES);
  return 0;
}

/** The shared body of ExAllocatePool2 and ExAllocatePool3. */
function allocateWithFlags(Flags: POOL_FLAGS, NumberOfBytes: number, Tag: PoolTag, priority: EX_POOL_PRIORITY | typeof REFUSED): number {
  const [required] = splitU64(Flags);
  const raise = (required & POOL_FLAG_RAISE_ON_FAILURE) !== 0;
  const type = poolTypeOf(required);
  const tag = tagValue(Tag);
  if (type === REFUSED || tag === 0 || priority === REFUSED) {
    KE().chargePs(KE().cost.ExAllocatePoolWithTag);
    return fail(raise);
  }
  if (!priorityAllows(priority & ~(SPECIAL_POOL_PRIORITY | SPECIAL_POOL_UNDERRUN), NumberOfBytes)) return fail(raise);
  const va = allocatePool(type, NumberOfBytes, tag, (type & POOL_CACHE_ALIGNED) !== 0 ? CACHE_LINE_SIZE : POOL_HEADER_SIZE, specialPoolPlacementOf(priority), "ExAllocatePool2");
  if (va === 0) return fail(raise);
  if ((required & POOL_FLAG_UNINITIALIZED) === 0) RtlZeroMemory(va, NumberOfBytes);
  return va;
}

/**
 * ExAllocatePool2: `NumberOfBytes` (non-zero) of the pool `Flags` selects, tagged `Tag`
 * (non-zero); returns its virtual address. The memory is zeroed unless
 * POOL_FLAG_UNINITIALIZED. Returns 0 (NULL) when memory is insufficient, `Tag` is 0 or
 * `Flags` are invalid; with POOL_FLAG_RAISE_ON_FAILURE it raises
 * STATUS_INSUFFICIENT_RESOURCES instead. Blocks of a page or more are page aligned;
 * POOL_FLAG_CACHE_ALIGNED aligns to CACHE_LINE_SIZE.
 */
export function ExAllocatePool2(Flags: POOL_FLAGS, NumberOfBytes: number, Tag: PoolTag): number {
  return allocateWithFlags(Flags, NumberOfBytes, Tag, EX_POOL_PRIORITY.NormalPoolPriority);
}

/**
 * ExAllocatePool3: ExAllocatePool2 with `ExtendedParametersCount` extended parameters:
 * a priority (EX_POOL_PRIORITY: low priority fails first when memory runs low), a NUMA node
 * (the machine has one, node 0), or a secure pool (not available). A parameter that
 * cannot be honoured fails the allocation unless it is Optional.
 */
export function ExAllocatePool3(
  Flags: POOL_FLAGS, NumberOfBytes: number, Tag: PoolTag, ExtendedParameters: readonly POOL_EXTENDED_PARAMETER[] | null, ExtendedParametersCount: number,
): number {
  const count = ExtendedParameters ? Math.min(ExtendedParametersCount, ExtendedParameters.length) : 0;
  return allocateWithFlags(Flags, NumberOfBytes, Tag, priorityOf(ExtendedParameters, count));
}

/** ExAllocatePoolZero: ExAllocatePoolWithTag with the memory zeroed; 0 (NULL) on failure. */
export function ExAllocatePoolZero(PoolType: POOL_TYPE, NumberOfBytes: number, Tag: PoolTag): number {
  const va = allocateTyped(PoolType, NumberOfBytes, Tag, (PoolType & POOL_RAISE_IF_ALLOCATION_FAILURE) !== 0);
  if (va !== 0) RtlZeroMemory(va, NumberOfBytes);
  return va;
}

/** ExAllocatePoolUninitialized: ExAllocatePoolWithTag (the memory is not initialised); 0 (NULL) on failure. */
export function ExAllocatePoolUninitialized(PoolType: POOL_TYPE, NumberOfBytes: number, Tag: PoolTag): number {
  return allocateTyped(PoolType, NumberOfBytes, Tag, (PoolType & POOL_RAISE_IF_ALLOCATION_FAILURE) !== 0);
}

/**
 * ExAllocatePoolWithQuotaTag: pool charged to the current process (quota is not
 * modelled). On failure it raises STATUS_INSUFFICIENT_RESOURCES unless PoolType has
 * POOL_QUOTA_FAIL_INSTEAD_OF_RAISE, when it returns 0 (NULL).
 */
export function ExAllocatePoolWithQuotaTag(PoolType: POOL_TYPE, NumberOfBytes: number, Tag: PoolTag): number {
  return allocateTyped(PoolType & ~POOL_QUOTA_FAIL_INSTEAD_OF_RAISE, NumberOfBytes, Tag, (PoolType & POOL_QUOTA_FAIL_INSTEAD_OF_RAISE) === 0);
}

/** ExAllocatePoolQuotaZero: ExAllocatePoolWithQuotaTag with the memory zeroed. */
export function ExAllocatePoolQuotaZero(PoolType: POOL_TYPE, NumberOfBytes: number, Tag: PoolTag): number {
  const va = ExAllocatePoolWithQuotaTag(PoolType, NumberOfBytes, Tag);
  if (va !== 0) RtlZeroMemory(va, NumberOfBytes);
  return va;
}

/** ExAllocatePoolQuotaUninitialized: ExAllocatePoolWithQuotaTag (the memory is not initialised). */
export function ExAllocatePoolQuotaUninitialized(PoolType: POOL_TYPE, NumberOfBytes: number, Tag: PoolTag): number {
  return ExAllocatePoolWithQuotaTag(PoolType, NumberOfBytes, Tag);
}

/** Allocates from a POOL_TYPE (modifier bits stripped), raising on failure when `raise`. */
function allocateTyped(PoolType: POOL_TYPE, NumberOfBytes: number, Tag: PoolTag, raise: boolean): number {
  const type = PoolType & ~(POOL_RAISE_IF_ALLOCATION_FAILURE | POOL_COLD_ALLOCATION);
  const va = allocatePool(type, NumberOfBytes, tagValue(Tag), (type & POOL_CACHE_ALIGNED) !== 0 ? CACHE_LINE_SIZE : POOL_HEADER_SIZE, null, "ExAllocatePoolWithQuotaTag");
  return va === 0 ? fail(raise) : va;
}

/** Where the kernel keeps which drivers called ExInitializeDriverRuntime(DrvRtPoolNxOptIn). */
const NX_OPT_IN = "ex.driverRuntimeNxOptIn";

/**
 * ExInitializeDriverRuntime: with DrvRtPoolNxOptIn, the calling driver's default
 * nonpaged pool type (ExDefaultNonPagedPoolType) becomes NonPagedPoolNx. Call it in
 * DriverEntry before allocating.
 */
export function ExInitializeDriverRuntime(RuntimeFlags: number): void {
  const k = KE();
  let drivers = k.services.get(NX_OPT_IN) as Set<string> | undefined;
  if (!drivers) k.services.set(NX_OPT_IN, (drivers = new Set()));
  if ((RuntimeFlags & DrvRtPoolNxOptIn) !== 0) drivers.add(k.attribution().driver);
}

/** ExDefaultNonPagedPoolType: the calling driver's default nonpaged pool type (NonPagedPoolNx after opting in, NonPagedPool otherwise). */
export function ExDefaultNonPagedPoolType(): POOL_TYPE {
  const k = KE();
  const drivers = k.services.get(NX_OPT_IN) as Set<string> | undefined;
  return drivers?.has(k.attribution().driver) ? POOL_TYPE.NonPagedPoolNx : POOL_TYPE.NonPagedPool;
}
