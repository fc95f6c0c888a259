/**
 * Memory descriptor lists (WDK "Using MDLs"): the MDL structure with its field names, the
 * MDL_* flags with their wdm.h values, the address macros, and the memory manager's MDL
 * routines: MmInitializeMdl, MmSizeOfMdl, MmProbeAndLockPages, MmUnlockPages,
 * MmBuildMdlForNonPagedPool, MmGetSystemAddressForMdlSafe, MmMapLockedPagesSpecifyCache,
 * MmUnmapLockedPages, MmPrepareMdlForReuse and the MmGetMdl* accessors. IoAllocateMdl,
 * IoFreeMdl and IoBuildPartialMdl are in src/io/mdl.ts.
 *
 * The header fields are properties of the MDL object; the page frame number array is
 * `PfnArray` (what MmGetMdlPfnArray returns). An MDL from IoAllocateMdl also occupies a
 * nonpaged pool block of its Size (tag "Mdl "), whose array part holds a copy of the
 * page frame numbers in guest memory.
 *
 * Rule checks follow Driver Verifier (bug check 0xC4 with the WDK's subcodes); without
 * the verifier, unlocking pages that are not locked is 0x4E PFN_LIST_CORRUPT / 0x07.
 */
import { lowResourceFailure } from "../verifier/low-resources.js";
import * as L from "../machine/generated/layout.js";
import { DRIVER_VERIFIER_DETECTED_VIOLATION } from "../ke/bugcheck.js";
import { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import { APC_LEVEL, DISPATCH_LEVEL } from "../ke/irql.js";
import { KE, type Kernel } from "../ke/kernel.js";
import { NtStatusException, STATUS_ACCESS_VIOLATION, STATUS_INSUFFICIENT_RESOURCES } from "../ke/ntstatus.js";
import { PsGetCurrentProcess } from "../ke/attach.js";
import type { KPROCESS } from "../ke/scheduler.js";
import { PTE_IN_PAGE_FILE, PTE_PAGEABLE, SYSTEM_SPACE_START, USER_SPACE_END } from "./address-space.js";
import { MM, SYSTEM_PTE_SIZE, type MemoryManager } from "./manager.js";
import { resolvePageFault, type PVOID } from "./memory.js";
import { PAGE_SIZE } from "./pfn.js";
import { MEMORY_CACHING_TYPE } from "./physical.js";
import { NO_MORE_SYSTEM_PTES, PFN_LIST_CORRUPT, PFN_UNLOCKED_TOO_OFTEN } from "../ke/bugcheck.js";

// MDL flags (wdm.h).
export const MDL_MAPPED_TO_SYSTEM_VA = 0x0001;
export const MDL_PAGES_LOCKED = 0x0002;
export const MDL_SOURCE_IS_NONPAGED_POOL = 0x0004;
export const MDL_ALLOCATED_FIXED_SIZE = 0x0008;
export const MDL_PARTIAL = 0x0010;
export const MDL_PARTIAL_HAS_BEEN_MAPPED = 0x0020;
export const MDL_IO_PAGE_READ = 0x0040;
export const MDL_WRITE_OPERATION = 0x0080;
export const MDL_PARENT_MAPPED_SYSTEM_VA = 0x0100;
export const MDL_FREE_EXTRA_PTES = 0x0200;
export const MDL_DESCRIBES_AWE = 0x0400;
export const MDL_IO_SPACE = 0x0800;
export const MDL_NETWORK_HEADER = 0x1000;
export const MDL_MAPPING_CAN_FAIL = 0x2000;
export const MDL_ALLOCATED_MUST_SUCCEED = 0x4000;
export const MDL_INTERNAL = 0x8000;
/** Flags that say the MDL's pages have a system mapping or are locked. */
export const MDL_MAPPING_FLAGS = MDL_MAPPED_TO_SYSTEM_VA | MDL_PAGES_LOCKED | MDL_SOURCE_IS_NONPAGED_POOL
  | MDL_PARTIAL_HAS_BEEN_MAPPED | MDL_PARENT_MAPPED_SYSTEM_VA | MDL_IO_SPACE;

/** sizeof(MDL) on x64: the header before the page frame number array, bytes. */
export const MDL_HEADER_SIZE = 48;
/** sizeof(PFN_NUMBER) on x64, bytes. */
export const PFN_NUMBER_SIZE = 8;

/** LOCK_OPERATION for MmProbeAndLockPages. */
export enum LOCK_OPERATION {
  IoReadAccess = 0,
  IoWriteAccess = 1,
  IoModifyAccess = 2,
}

/** MM_PAGE_PRIORITY, optionally ORed with MdlMappingNoWrite / MdlMappingNoExecute. */
export enum MM_PAGE_PRIORITY {
  LowPagePriority = 0,
  NormalPagePriority = 16,
  HighPagePriority = 32,
}
/** Priority flag: map the pages read-only. */
export const MdlMappingNoWrite = 0x80000000;
/** Priority flag: map the pages no-execute. */
export const MdlMappingNoExecute = 0x40000000;

// Driver Verifier 0xC4 subcodes for MDL misuse (WDK, Bug Check 0xC4).
/** MmProbeAndLockPages above DISPATCH_LEVEL (P2 IRQL, P3 MDL, P4 access mode). */
export const VERIFIER_PROBE_IRQL = 0x70;
/** MmMapLockedPagesSpecifyCache in kernel mode above DISPATCH_LEVEL (P2 IRQL, P3 MDL, P4 access mode). */
export const VERIFIER_MAP_KERNEL_IRQL = 0x76;
/** MmMapLockedPagesSpecifyCache in user mode above APC_LEVEL. */
export const VERIFIER_MAP_USER_IRQL = 0x77;
/** MmUnlockPages above DISPATCH_LEVEL (P2 IRQL, P3 MDL). */
export const VERIFIER_UNLOCK_IRQL = 0x78;
/** MmUnmapLockedPages in kernel mode above DISPATCH_LEVEL (P2 IRQL, P3 address, P4 MDL). */
export const VERIFIER_UNMAP_KERNEL_IRQL = 0x79;
/** MmUnmapLockedPages in user mode above APC_LEVEL. */
export const VERIFIER_UNMAP_USER_IRQL = 0x7A;
/** MmUnlockPages on an MDL whose pages were never locked (P2 MDL, P3 flags). */
export const VERIFIER_UNLOCK_NOT_LOCKED = 0x7C;
/** MmUnlockPages on an MDL built for nonpaged pool (P2 MDL, P3 flags). */
export const VERIFIER_UNLOCK_NONPAGED = 0x7D;
/** MmBuildMdlForNonPagedPool on pageable memory (P2 IRQL, P3 MDL, P4 flags). */
export const VERIFIER_BUILD_MDL_PAGED = 0x7F;
/** MmMapLockedPagesSpecifyCache with BugCheckOnFailure TRUE (P2 MDL, P3 flags). */
export const VERIFIER_MAP_BUGCHECK_ON_FAILURE = 0x82;
/** MmProbeAndLockPages on an MDL with wrong flags (P2 MDL, P3 flags, P4 the wrong flags). */
export const VERIFIER_PROBE_BAD_FLAGS = 0xB0;
/** Mapping an MDL that is already mapped (P2 MDL, P3 flags, P4 the wrong flags). */
export const VERIFIER_MAP_BAD_FLAGS = 0xB2;
/** Mapping an MDL whose pages are not locked (P2 MDL, P3 flags, P4 the missing flags). */
export const VERIFIER_MAP_MISSING_FLAGS = 0xB3;
/** MmUnlockPages on a partial MDL (P2 MDL, P3 flags, P4 MDL_PARTIAL). */
export const VERIFIER_UNLOCK_PARTIAL = 0xB4;
/** IoFreeMdl while the MDL's pages are still mapped (P2 MDL, P3 flags). */
export const VERIFIER_FREE_MAPPED_MDL = 0xB8;

/** MDL: describes the physical pages behind a virtual buffer. */
export class MDL {
  /** Next MDL of a chain (Irp.MdlAddress lists). */
  Next: MDL | null = null;
  /** Bytes of the structure including its page frame array (CSHORT in C). */
  Size = MDL_HEADER_SIZE;
  MdlFlags = 0;
  AllocationProcessorNumber = 0;
  Reserved = 0;
  /** The process whose user addresses the MDL describes (null for system addresses). */
  Process: KPROCESS | null = null;
  /** System address of the buffer when mapped (or nonpaged), including ByteOffset. */
  MappedSystemVa: PVOID = 0;
  /** Page-aligned start of the buffer. */
  StartVa: PVOID = 0;
  /** Bytes described. */
  ByteCount = 0;
  /** Offset of the buffer in its first page. */
  ByteOffset = 0;
  /** The page frame numbers, one per page spanned (the array after the header in C). */
  readonly PfnArray: number[] = [];
  /** Kernel address of the structure (its pool block for IoAllocateMdl), 0 until one is needed. */
  address: PVOID = 0;
}

/** BYTE_OFFSET: the offset of `Va` within its page. */
export function BYTE_OFFSET(Va: PVOID): number {
  return Va % PAGE_SIZE;
}

/** PAGE_ALIGN: `Va` rounded down to its page. */
export function PAGE_ALIGN(Va: PVOID): PVOID {
  return Va - (Va % PAGE_SIZE);
}

/** ADDRESS_AND_SIZE_TO_SPAN_PAGES: pages touched by `Size` bytes at `Va` (((Va & 0xFFF) + Size + 0xFFF) >> 12). */
export function ADDRESS_AND_SIZE_TO_SPAN_PAGES(Va: PVOID, Size: number): number {
  return Math.floor(((Va % PAGE_SIZE) + Size + PAGE_SIZE - 1) / PAGE_SIZE);
}

/** BYTES_TO_PAGES: pages needed for `Size` bytes. */
export function BYTES_TO_PAGES(Size: number): number {
  return Math.floor((Size + PAGE_SIZE - 1) / PAGE_SIZE);
}

/** ROUND_TO_PAGES: `Size` rounded up to whole pages, bytes. */
export function ROUND_TO_PAGES(Size: number): number {
  return BYTES_TO_PAGES(Size) * PAGE_SIZE;
}

/** MmSizeOfMdl: bytes of an MDL describing `Length` bytes at `Base` (header plus one PFN per page). */
export function MmSizeOfMdl(Base: PVOID, Length: number): number {
  return MDL_HEADER_SIZE + ADDRESS_AND_SIZE_TO_SPAN_PAGES(Base, Length) * PFN_NUMBER_SIZE;
}

/** MmInitializeMdl: sets up a caller-allocated MDL to describe `Length` bytes at `BaseVa` (no pages yet). */
export function MmInitializeMdl(MemoryDescriptorList: MDL, BaseVa: PVOID, Length: number): void {
  const m = MemoryDescriptorList;
  m.Next = null;
  m.Size = MmSizeOfMdl(BaseVa, Length);
  m.MdlFlags = 0;
  m.StartVa = PAGE_ALIGN(BaseVa);
  m.ByteOffset = BYTE_OFFSET(BaseVa);
  m.ByteCount = Length;
  m.PfnArray.length = 0;
}

/** MmGetMdlVirtualAddress: the buffer's virtual address (StartVa + ByteOffset). */
export function MmGetMdlVirtualAddress(Mdl: MDL): PVOID {
  return Mdl.StartVa + Mdl.ByteOffset;
}

/** MmGetMdlBaseVa: the page-aligned start of the buffer. */
export function MmGetMdlBaseVa(Mdl: MDL): PVOID {
  return Mdl.StartVa;
}

/** MmGetMdlByteCount: bytes described. */
export function MmGetMdlByteCount(Mdl: MDL): number {
  return Mdl.ByteCount;
}

/** MmGetMdlByteOffset: offset of the buffer in its first page. */
export function MmGetMdlByteOffset(Mdl: MDL): number {
  return Mdl.ByteOffset;
}

/** MmGetMdlPfnArray: the page frame numbers (physical address >> 12), one per page spanned. */
export function MmGetMdlPfnArray(Mdl: MDL): number[] {
  return Mdl.PfnArray;
}

/** Pages the MDL spans. */
function spanOf(m: MDL): number {
  return ADDRESS_AND_SIZE_TO_SPAN_PAGES(m.ByteOffset, m.ByteCount);
}

/** The MDL's kernel address for bug check parameters (assigned on first use for caller-made MDLs). */
export function mdlAddress(k: Kernel, m: MDL): number {
  if (m.address === 0) m.address = k.objectAddress(m.Size);
  return m.address;
}

/** A Driver Verifier MDL rule: 0xC4 with `subcode` when the verifier is on. */
function verify(k: Kernel, broken: boolean, subcode: number, p2: number, p3: number, p4: number): void {
  if (broken && k.verifier) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, subcode, p2, p3, p4);
}

/** Copies the page frame numbers into the MDL's pool block (its array part), if it has one. */
export function storePfnArray(mm: MemoryManager, m: MDL): void {
  if (!mm.pool.isNonPaged(m.address)) return;
  const n = Math.min(m.PfnArray.length, Math.floor((m.Size - MDL_HEADER_SIZE) / PFN_NUMBER_SIZE));
  const k = mm.k;
  const x = k.x;
  let page = -1;
  let pa = 0;
  for (let i = 0; i < n; i++) {
    const va = m.address + MDL_HEADER_SIZE + i * PFN_NUMBER_SIZE;
    if (PAGE_ALIGN(va) !== page) {
      page = PAGE_ALIGN(va);
      // Nonpaged pool is mapped in every address space: the processor's TLB has it.
      pa = x.cpuTranslate(k.cpu.Number, page, 0);
      if (pa < 0) return;
    }
    const pfn = m.PfnArray[i];
    const at = pa + (va - page);
    x.physWrite32(at, pfn % 2 ** 32);
    x.physWrite32(at + 4, Math.floor(pfn / 2 ** 32));
  }
}

/** True if the page at `va` is pageable (or already in the page file) or not system memory at all. */
function isPageable(mm: MemoryManager, va: PVOID): boolean {
  if (va < SYSTEM_SPACE_START) return true;
  const e = mm.system.pte(va);
  return e !== null && (e[0] & (PTE_PAGEABLE | PTE_IN_PAGE_FILE)) !== 0;
}

/**
 * MmProbeAndLockPages: makes every page of the MDL's buffer resident (paging in what is
 * in the page file), checks it allows `Operation` from `AccessMode`, locks it so it is
 * never paged out until MmUnlockPages, and fills the page frame numbers. Sets
 * MDL_PAGES_LOCKED, and MDL_WRITE_OPERATION unless `Operation` is IoReadAccess. A bad
 * user-mode address raises STATUS_ACCESS_VIOLATION, and pages that cannot be locked (Low
 * Resources Simulation) STATUS_INSUFFICIENT_RESOURCES (the caller's try/except: catch the
 * NtStatusException); nothing stays locked then.
 */
export function MmProbeAndLockPages(MemoryDescriptorList: MDL, AccessMode: KPROCESSOR_MODE, Operation: LOCK_OPERATION): void {
  const k = KE();
  const m = MemoryDescriptorList;
  k.chargePs(k.cost.MmProbeAndLockPages);
  const irql = k.cpu.irql;
  verify(k, irql > DISPATCH_LEVEL, VERIFIER_PROBE_IRQL, irql, mdlAddress(k, m), AccessMode);
  const bad = m.MdlFlags & (MDL_PAGES_LOCKED | MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARTIAL);
  verify(k, bad !== 0, VERIFIER_PROBE_BAD_FLAGS, mdlAddress(k, m), m.MdlFlags, bad);
  const va = MmGetMdlVirtualAddress(m);
  const write = Operation !== LOCK_OPERATION.IoReadAccess;
  const user = AccessMode === KPROCESSOR_MODE.UserMode;
  if (user && m.ByteCount > 0 && (va + m.ByteCount > USER_SPACE_END || va + m.ByteCount < va)) throw new NtStatusException(STATUS_ACCESS_VIOLATION);
  // Low Resources Simulation: the pages could not be locked (raised, as a failure to lock is).
  if (lowResourceFailure(k, -1, "MmProbeAndLockPages")) throw new NtStatusException(STATUS_INSUFFICIENT_RESOURCES);
  const mm = MM(k);
  const access = (write ? L.ACCESS_WRITE : 0) | (user ? L.ACCESS_USER : 0);
  const pages = spanOf(m);
  const frames: number[] = [];
  try {
    for (let i = 0; i < pages; i++) {
      const page = m.StartVa + i * PAGE_SIZE;
      let pa: number;
      for (;;) {
        pa = k.x.cpuTranslate(k.cpu.Number, page, access);
        if (pa >= 0) break;
        // Not resident (paged in, then retried), or a bad address (raises or bug checks).
        resolvePageFault(k, Math.max(page, va), write);
      }
      const frame = Math.floor(pa / PAGE_SIZE);
      mm.pfn.lock(frame);
      frames.push(frame);
    }
  } catch (e) {
    for (const f of frames) mm.pfn.unlock(f);
    throw e;
  }
  k.chargePs(k.cost.MdlPage * pages);
  m.PfnArray.length = 0;
  m.PfnArray.push(...frames);
  m.Process = va < SYSTEM_SPACE_START ? PsGetCurrentProcess() : null;
  m.MdlFlags = (m.MdlFlags | MDL_PAGES_LOCKED) & ~MDL_WRITE_OPERATION;
  if (write) m.MdlFlags |= MDL_WRITE_OPERATION;
  storePfnArray(mm, m);
}

/** Removes the MDL's system mapping (from MmMapLockedPagesSpecifyCache) and clears its mapped flags. */
function unmapSystemView(mm: MemoryManager, m: MDL): void {
  const base = PAGE_ALIGN(m.MappedSystemVa);
  const pages = spanOf(m);
  for (let i = 0; i < pages; i++) mm.system.unmap(base + i * PAGE_SIZE);
  mm.systemPtes.release(base, pages * PAGE_SIZE);
  m.MdlFlags &= ~(MDL_MAPPED_TO_SYSTEM_VA | MDL_PARTIAL_HAS_BEEN_MAPPED);
}

/**
 * MmUnlockPages: unlocks the pages MmProbeAndLockPages locked, removing a system mapping
 * of them first (MmGetSystemAddressForMdlSafe's). Verifier: above DISPATCH_LEVEL 0xC4 /
 * 0x78; an MDL never locked 0x7C; built for nonpaged pool 0x7D; partial 0xB4.
 */
export function MmUnlockPages(MemoryDescriptorList: MDL): void {
  const k = KE();
  const m = MemoryDescriptorList;
  k.chargePs(k.cost.MmUnlockPages);
  const irql = k.cpu.irql;
  verify(k, irql > DISPATCH_LEVEL, VERIFIER_UNLOCK_IRQL, irql, mdlAddress(k, m), 0);
  verify(k, (m.MdlFlags & MDL_PARTIAL) !== 0, VERIFIER_UNLOCK_PARTIAL, mdlAddress(k, m), m.MdlFlags, MDL_PARTIAL);
  verify(k, (m.MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL) !== 0, VERIFIER_UNLOCK_NONPAGED, mdlAddress(k, m), m.MdlFlags, 0);
  verify(k, (m.MdlFlags & MDL_PAGES_LOCKED) === 0, VERIFIER_UNLOCK_NOT_LOCKED, mdlAddress(k, m), m.MdlFlags, 0);
  const mm = MM(k);
  if ((m.MdlFlags & MDL_PAGES_LOCKED) === 0) k.bugCheck(PFN_LIST_CORRUPT, PFN_UNLOCKED_TOO_OFTEN, m.PfnArray[0] ?? 0, 0, 0);
  if ((m.MdlFlags & MDL_MAPPED_TO_SYSTEM_VA) !== 0) unmapSystemView(mm, m);
  for (const pfn of m.PfnArray) {
    if (mm.pfn.unlock(pfn) < 0) k.bugCheck(PFN_LIST_CORRUPT, PFN_UNLOCKED_TOO_OFTEN, pfn, 0, 0);
  }
  k.chargePs(k.cost.MdlPage * m.PfnArray.length);
  m.MdlFlags &= ~MDL_PAGES_LOCKED;
}

/**
 * MmBuildMdlForNonPagedPool: fills the page frame numbers of an MDL that describes
 * nonpaged system memory, sets MDL_SOURCE_IS_NONPAGED_POOL and MappedSystemVa (the
 * buffer's own address). The pages are not locked: nonpaged memory needs no lock.
 * Pageable memory is 0xC4 / 0x7F under the verifier.
 */
export function MmBuildMdlForNonPagedPool(MemoryDescriptorList: MDL): void {
  const k = KE();
  const m = MemoryDescriptorList;
  k.chargePs(k.cost.MmBuildMdlForNonPagedPool);
  const mm = MM(k);
  const va = MmGetMdlVirtualAddress(m);
  verify(k, isPageable(mm, va), VERIFIER_BUILD_MDL_PAGED, k.cpu.irql, mdlAddress(k, m), m.MdlFlags);
  const pages = spanOf(m);
  m.PfnArray.length = 0;
  const cpu = k.cpu.Number;
  for (let i = 0; i < pages; i++) {
    const page = m.StartVa + i * PAGE_SIZE;
    let pa = k.x.cpuTranslate(cpu, page, 0);
    while (pa < 0) {
      resolvePageFault(k, Math.max(page, va), false);
      pa = k.x.cpuTranslate(cpu, page, 0);
    }
    m.PfnArray.push(Math.floor(pa / PAGE_SIZE));
  }
  k.chargePs(k.cost.MdlPage * pages);
  m.Process = null;
  m.MappedSystemVa = va;
  m.MdlFlags |= MDL_SOURCE_IS_NONPAGED_POOL;
  storePfnArray(mm, m);
}

/**
 * MmMapLockedPagesSpecifyCache: maps the MDL's (locked) pages. KernelMode: into system
 * PTE space; sets MappedSystemVa and MDL_MAPPED_TO_SYSTEM_VA (and, for a partial MDL,
 * MDL_PARTIAL_HAS_BEEN_MAPPED) and returns the address of the buffer (mapping +
 * ByteOffset), or 0 when system space is exhausted (a bug check 0x3F instead when
 * `BugCheckOnFailure`). An MDL that already has a system address (nonpaged, or a partial
 * MDL of a mapped one) returns it. UserMode: into the current process's user space,
 * raising an exception (STATUS_INSUFFICIENT_RESOURCES) on failure. `Priority` may carry MdlMappingNoWrite and
 * MdlMappingNoExecute. `RequestedAddress` is not supported (pass null).
 */
export function MmMapLockedPagesSpecifyCache(MemoryDescriptorList: MDL, AccessMode: KPROCESSOR_MODE, CacheType: MEMORY_CACHING_TYPE, RequestedAddress: PVOID | null, BugCheckOnFailure: boolean, Priority: number): PVOID {
  return mapLockedPages(MemoryDescriptorList, AccessMode, CacheType, RequestedAddress, BugCheckOnFailure, Priority, "MmMapLockedPagesSpecifyCache");
}

/** MmMapLockedPagesSpecifyCache's work; `routine` is the routine the driver called (what Low Resources Simulation fails and counts). */
function mapLockedPages(MemoryDescriptorList: MDL, AccessMode: KPROCESSOR_MODE, CacheType: MEMORY_CACHING_TYPE, RequestedAddress: PVOID | null, BugCheckOnFailure: boolean, Priority: number, routine: string): PVOID {
  const k = KE();
  const m = MemoryDescriptorList;
  k.chargePs(k.cost.MmMapLockedPages);
  const irql = k.cpu.irql;
  const user = AccessMode === KPROCESSOR_MODE.UserMode;
  verify(k, !user && irql > DISPATCH_LEVEL, VERIFIER_MAP_KERNEL_IRQL, irql, mdlAddress(k, m), AccessMode);
  verify(k, user && irql > APC_LEVEL, VERIFIER_MAP_USER_IRQL, irql, mdlAddress(k, m), AccessMode);
  verify(k, BugCheckOnFailure, VERIFIER_MAP_BUGCHECK_ON_FAILURE, mdlAddress(k, m), m.MdlFlags, 0);
  if (!user && (m.MdlFlags & (MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARENT_MAPPED_SYSTEM_VA)) !== 0) return m.MappedSystemVa;
  verify(k, !user && (m.MdlFlags & MDL_MAPPED_TO_SYSTEM_VA) !== 0, VERIFIER_MAP_BAD_FLAGS, mdlAddress(k, m), m.MdlFlags, MDL_MAPPED_TO_SYSTEM_VA);
  verify(k, (m.MdlFlags & (MDL_PAGES_LOCKED | MDL_PARTIAL | MDL_SOURCE_IS_NONPAGED_POOL)) === 0, VERIFIER_MAP_MISSING_FLAGS, mdlAddress(k, m), m.MdlFlags, MDL_PAGES_LOCKED);
  void RequestedAddress;
  if (lowResourceFailure(k, -1, routine)) {
    if (user) throw new NtStatusException(STATUS_INSUFFICIENT_RESOURCES);
    return 0;
  }
  const mm = MM(k);
  const pages = spanOf(m);
  const protection = {
    writable: (Priority & MdlMappingNoWrite) === 0,
    noExecute: user || (Priority & MdlMappingNoExecute) !== 0,
    noCache: CacheType === MEMORY_CACHING_TYPE.MmNonCached,
    pageable: false,
  };
  if (user) {
    const space = mm.spaces.get(PsGetCurrentProcess().DirectoryTableBase);
    const base = space && space !== mm.system ? space.userViews.allocate(pages * PAGE_SIZE) : -1;
    if (!space || base < 0) throw new NtStatusException(STATUS_INSUFFICIENT_RESOURCES);
    for (let i = 0; i < pages; i++) {
      k.chargePs(k.cost.MdlPage);
      space.map(base + i * PAGE_SIZE, m.PfnArray[i] * PAGE_SIZE, { ...protection, user: true });
    }
    return base + m.ByteOffset;
  }
  const base = mm.systemPtes.allocate(pages * PAGE_SIZE);
  if (base < 0) {
    if (BugCheckOnFailure) k.bugCheck(NO_MORE_SYSTEM_PTES, 0, pages, 0, SYSTEM_PTE_SIZE / PAGE_SIZE);
    return 0;
  }
  for (let i = 0; i < pages; i++) {
    k.chargePs(k.cost.MdlPage);
    mm.system.map(base + i * PAGE_SIZE, m.PfnArray[i] * PAGE_SIZE, { ...protection, global: true });
  }
  m.MappedSystemVa = base + m.ByteOffset;
  m.MdlFlags |= MDL_MAPPED_TO_SYSTEM_VA;
  if ((m.MdlFlags & MDL_PARTIAL) !== 0) m.MdlFlags |= MDL_PARTIAL_HAS_BEEN_MAPPED;
  return m.MappedSystemVa;
}

/**
 * MmUnmapLockedPages: removes a mapping made by MmMapLockedPagesSpecifyCache (a system
 * address, or a user address in the current process). The pages stay locked.
 */
export function MmUnmapLockedPages(BaseAddress: PVOID, MemoryDescriptorList: MDL): void {
  const k = KE();
  const m = MemoryDescriptorList;
  k.chargePs(k.cost.MmUnmapLockedPages);
  const irql = k.cpu.irql;
  const mm = MM(k);
  if (BaseAddress >= SYSTEM_SPACE_START) {
    verify(k, irql > DISPATCH_LEVEL, VERIFIER_UNMAP_KERNEL_IRQL, irql, BaseAddress, mdlAddress(k, m));
    if ((m.MdlFlags & MDL_MAPPED_TO_SYSTEM_VA) !== 0 && PAGE_ALIGN(m.MappedSystemVa) === PAGE_ALIGN(BaseAddress)) unmapSystemView(mm, m);
    return;
  }
  verify(k, irql > APC_LEVEL, VERIFIER_UNMAP_USER_IRQL, irql, BaseAddress, mdlAddress(k, m));
  const space = mm.spaces.get(PsGetCurrentProcess().DirectoryTableBase);
  if (!space || space === mm.system) return;
  const base = PAGE_ALIGN(BaseAddress);
  const pages = spanOf(m);
  for (let i = 0; i < pages; i++) space.unmap(base + i * PAGE_SIZE);
  space.userViews.release(base, pages * PAGE_SIZE);
}

/**
 * MmGetSystemAddressForMdlSafe: a system address for the MDL's buffer: MappedSystemVa
 * when the MDL is mapped or describes nonpaged memory, otherwise a new mapping of its
 * locked pages (MDL_MAPPED_TO_SYSTEM_VA) plus ByteOffset; 0 (NULL) when system address
 * space is exhausted.
 */
export function MmGetSystemAddressForMdlSafe(Mdl: MDL, Priority: number): PVOID {
  if ((Mdl.MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL)) !== 0) return Mdl.MappedSystemVa;
  return mapLockedPages(Mdl, KPROCESSOR_MODE.KernelMode, MEMORY_CACHING_TYPE.MmCached, null, false, Priority, "MmGetSystemAddressForMdlSafe");
}

/**
 * MmPrepareMdlForReuse: before a partial MDL is built again, releases the system mapping
 * MmGetSystemAddressForMdlSafe made for it (MDL_PARTIAL_HAS_BEEN_MAPPED).
 */
export function MmPrepareMdlForReuse(Mdl: MDL): void {
  if ((Mdl.MdlFlags & MDL_PARTIAL_HAS_BEEN_MAPPED) !== 0) unmapSystemView(MM(), Mdl);
}

/** Unmaps a partial MDL's own system mapping (IoFreeMdl); true if it had one. */
export function releasePartialMapping(mm: MemoryManager, m: MDL): boolean {
  if ((m.MdlFlags & MDL_PARTIAL_HAS_BEEN_MAPPED) === 0) return false;
  unmapSystemView(mm, m);
  return true;
}
