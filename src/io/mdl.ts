/**
 * The I/O manager's MDL routines: IoAllocateMdl (optionally linking the MDL into an IRP's
 * MdlAddress chain), IoFreeMdl and IoBuildPartialMdl. The MDL structure and the memory
 * manager's routines are in src/mm/mdl.ts.
 *
 * IoAllocateMdl takes the MDL's storage from nonpaged pool (tag "Mdl "); MDLs of up to
 * FIXED_SIZE_MDL_PAGES pages come from one fixed-size class and carry
 * MDL_ALLOCATED_FIXED_SIZE.
 */
import { KE } from "../ke/kernel.js";
import {
  ADDRESS_AND_SIZE_TO_SPAN_PAGES, BYTE_OFFSET, MDL, MDL_ALLOCATED_FIXED_SIZE, MDL_ALLOCATED_MUST_SUCCEED, MDL_HEADER_SIZE,
  MDL_IO_PAGE_READ, MDL_IO_SPACE, MDL_MAPPED_TO_SYSTEM_VA, MDL_PARENT_MAPPED_SYSTEM_VA, MDL_PARTIAL, MDL_SOURCE_IS_NONPAGED_POOL,
  MDL_WRITE_OPERATION, MmGetMdlVirtualAddress, MmInitializeMdl, MmSizeOfMdl, PAGE_ALIGN, PFN_NUMBER_SIZE, VERIFIER_FREE_MAPPED_MDL,
  mdlAddress, releasePartialMapping, storePfnArray,
} from "../mm/mdl.js";
import { MM } from "../mm/manager.js";
import { allocatePool, ExFreePoolWithTag, POOL_HEADER_SIZE, POOL_TYPE, tagValue } from "../mm/pool.js";
import { PAGE_SIZE } from "../mm/pfn.js";
import type { PVOID } from "../mm/memory.js";
import { DRIVER_VERIFIER_DETECTED_VIOLATION } from "../ke/bugcheck.js";
import type { IRP } from "./irp.js";

/** Pool tag of MDLs IoAllocateMdl makes. */
export const MDL_POOL_TAG = "Mdl ";
/** MDLs spanning up to this many pages use one fixed allocation size (MDL_ALLOCATED_FIXED_SIZE). */
export const FIXED_SIZE_MDL_PAGES = 16;
/** Largest buffer IoAllocateMdl describes (Windows 7 and later: 4 GB - PAGE_SIZE), bytes. */
export const MAX_MDL_LENGTH = 2 ** 32 - PAGE_SIZE;

/**
 * IoAllocateMdl: an MDL large enough for `Length` bytes at `VirtualAddress`, or null
 * when it cannot be allocated (or the buffer is larger than 4 GB - PAGE_SIZE). With an
 * `Irp`, a primary buffer's MDL becomes Irp.MdlAddress and a secondary buffer's is
 * appended to the chain there. `ChargeQuota` is reserved (FALSE).
 */
export function IoAllocateMdl(VirtualAddress: PVOID, Length: number, SecondaryBuffer: boolean, ChargeQuota: boolean, Irp: IRP | null): MDL | null {
  const k = KE();
  k.chargePs(k.cost.IoAllocateMdl);
  void ChargeQuota;
  if (!(Length >= 0) || Length > MAX_MDL_LENGTH) return null;
  const pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(VirtualAddress, Length);
  const fixed = pages <= FIXED_SIZE_MDL_PAGES;
  const size = fixed ? MDL_HEADER_SIZE + FIXED_SIZE_MDL_PAGES * PFN_NUMBER_SIZE : MmSizeOfMdl(VirtualAddress, Length);
  const address = allocatePool(POOL_TYPE.NonPagedPool, size, tagValue(MDL_POOL_TAG), POOL_HEADER_SIZE, null, "IoAllocateMdl");
  if (address === 0) return null;
  const mdl = new MDL();
  MmInitializeMdl(mdl, VirtualAddress, Length);
  mdl.Size = size;
  mdl.address = address;
  mdl.AllocationProcessorNumber = k.cpu.Number;
  if (fixed) mdl.MdlFlags |= MDL_ALLOCATED_FIXED_SIZE;
  if (Irp) {
    const head = Irp.MdlAddress as MDL | null;
    if (SecondaryBuffer && head) {
      let last = head;
      while (last.Next) last = last.Next;
      last.Next = mdl;
    } else {
      Irp.MdlAddress = mdl;
    }
  }
  return mdl;
}

/**
 * IoFreeMdl: frees an MDL from IoAllocateMdl, releasing the system mapping of a partial
 * MDL that MmGetSystemAddressForMdlSafe made. An MDL whose pages are still mapped is
 * 0xC4 / 0xB8 under the verifier (unmap or unlock first).
 */
export function IoFreeMdl(Mdl: MDL): void {
  const k = KE();
  k.chargePs(k.cost.IoFreeMdl);
  const mm = MM(k);
  if (!releasePartialMapping(mm, Mdl) && (Mdl.MdlFlags & MDL_MAPPED_TO_SYSTEM_VA) !== 0 && k.verifier) {
    k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_FREE_MAPPED_MDL, mdlAddress(k, Mdl), Mdl.MdlFlags, 0);
  }
  if (Mdl.address !== 0 && mm.pool.isNonPaged(Mdl.address)) ExFreePoolWithTag(Mdl.address, MDL_POOL_TAG);
}

/**
 * IoBuildPartialMdl: makes `TargetMdl` describe `Length` bytes at `VirtualAddress`, a
 * subrange of the buffer `SourceMdl` describes (Length 0: to the end of it). The target
 * gets MDL_PARTIAL and the source's page frame numbers for the subrange; if the source
 * is mapped in system space (or nonpaged) the partial MDL shares that mapping, otherwise
 * MmGetSystemAddressForMdlSafe maps it on its own (MDL_PARTIAL_HAS_BEEN_MAPPED, released
 * by MmPrepareMdlForReuse or IoFreeMdl). The source's pages must be locked.
 */
export function IoBuildPartialMdl(SourceMdl: MDL, TargetMdl: MDL, VirtualAddress: PVOID, Length: number): void {
  const k = KE();
  k.chargePs(k.cost.IoBuildPartialMdl);
  const offset = VirtualAddress - MmGetMdlVirtualAddress(SourceMdl);
  const length = Length === 0 ? SourceMdl.ByteCount - offset : Length;
  if (offset < 0 || length < 0 || offset + length > SourceMdl.ByteCount) {
    throw new RangeError(`IoBuildPartialMdl: ${length} bytes at offset ${offset} are not within the source MDL's ${SourceMdl.ByteCount} bytes`);
  }
  const pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(VirtualAddress, length);
  const capacity = Math.floor((TargetMdl.Size - MDL_HEADER_SIZE) / PFN_NUMBER_SIZE);
  if (TargetMdl.address !== 0 && pages > capacity) {
    throw new RangeError(`IoBuildPartialMdl: the target MDL holds ${capacity} pages, the subrange spans ${pages}`);
  }
  const first = Math.floor((PAGE_ALIGN(VirtualAddress) - SourceMdl.StartVa) / PAGE_SIZE);
  const source = SourceMdl.MdlFlags;
  TargetMdl.Process = SourceMdl.Process;
  TargetMdl.StartVa = PAGE_ALIGN(VirtualAddress);
  TargetMdl.ByteOffset = BYTE_OFFSET(VirtualAddress);
  TargetMdl.ByteCount = length;
  TargetMdl.MdlFlags = (TargetMdl.MdlFlags & (MDL_ALLOCATED_FIXED_SIZE | MDL_ALLOCATED_MUST_SUCCEED)) | MDL_PARTIAL
    | (source & (MDL_SOURCE_IS_NONPAGED_POOL | MDL_IO_PAGE_READ | MDL_IO_SPACE | MDL_WRITE_OPERATION));
  TargetMdl.MappedSystemVa = 0;
  if ((source & (MDL_MAPPED_TO_SYSTEM_VA | MDL_PARENT_MAPPED_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL)) !== 0) {
    TargetMdl.MappedSystemVa = SourceMdl.MappedSystemVa + offset;
    if ((source & (MDL_MAPPED_TO_SYSTEM_VA | MDL_PARENT_MAPPED_SYSTEM_VA)) !== 0) TargetMdl.MdlFlags |= MDL_PARENT_MAPPED_SYSTEM_VA;
  }
  TargetMdl.PfnArray.length = 0;
  for (let i = 0; i < pages; i++) TargetMdl.PfnArray.push(SourceMdl.PfnArray[first + i]);
  storePfnArray(MM(k), TargetMdl);
}
