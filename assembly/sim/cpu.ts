// Per-CPU state shared with the kernel: the CPU's local clock (loosely timed CPUs run
// ahead of the core and are charged per kernel call), its IRQL (the kernel writes it; the
// interrupt controller reads it as the task priority), its CR3, its local APIC's pending
// vectors, and the result of its last memory access.
//
//   CpuState (CPU_RECORD_SIZE = 4096 bytes)
//   +0    localTimePs   f64   the CPU's own clock, picoseconds
//   +8    irql          u32   current IRQL (0..15), written by the kernel
//   +12   apicId        u32
//   +16   cr3           u64   physical address of the PML4
//   +24   highestIrr    u32   highest pending vector, 0 if none
//   +28   status        u32   result of the last access (ACCESS_*)
//   +32   valueHi       u32   high half of the last 8-byte read
//   +36   faultCode     u32   x86 page-fault error code of the last fault
//   +40   faultVa       f64   faulting virtual address
//   +48   physAddr      f64   physical address of the last translation
//   +64   irr           u32 x 8   pending vectors (256 bits)
//   +128  walkTag       u64 x 4   page-walk cache (mem/mmu.ts): guest-physical page of the
//                                  table last read at each level, | 1 (0: empty)
//   +160  walkPage      u32 x 4   linear address of that table page's backing
//   +2048 arrivalPs     f64 x 256 time each pending vector arrived

import { CPU_RECORD_SIZE, CPU_TABLE_BASE } from "../memmap";

@unmanaged
export class CpuState {
  localTimePs: f64;
  irql: u32;
  apicId: u32;
  cr3: u64;
  highestIrr: u32;
  status: u32;
  valueHi: u32;
  faultCode: u32;
  faultVa: f64;
  physAddr: f64;
}

/** Offset of the pending-vector bitmap in a CpuState record. */
export const CPU_IRR_OFFSET: u32 = 64;
/** Offset of the page-walk cache's tags (u64 x 4, one per paging level) in a CpuState record. */
export const CPU_WALK_TAG_OFFSET: u32 = 128;
/** Offset of the page-walk cache's linear page addresses (u32 x 4) in a CpuState record. */
export const CPU_WALK_PAGE_OFFSET: u32 = 160;
/** Offset of the per-vector arrival times (f64 x 256) in a CpuState record. */
export const CPU_ARRIVAL_OFFSET: u32 = 2048;

/** Access result: completed. */
export const ACCESS_OK: u32 = 0;
/** Access result: page fault (see faultVa, faultCode). */
export const ACCESS_PAGE_FAULT: u32 = 1;
/** Access result: the physical address decodes to nothing (reads return all ones). */
export const ACCESS_MASTER_ABORT: u32 = 2;
/** Access result: the access size or alignment is not allowed. */
export const ACCESS_BAD_SIZE: u32 = 3;
/** Access result: the block does not fit the scratch buffer. */
export const ACCESS_TOO_LARGE: u32 = 4;

/** The CpuState record of CPU `index`. */
// @ts-ignore: decorator
@inline
export function cpuState(index: u32): CpuState {
  return changetype<CpuState>(CPU_TABLE_BASE + index * CPU_RECORD_SIZE);
}

/** Address of CPU `index`'s record. */
// @ts-ignore: decorator
@inline
export function cpuBase(index: u32): usize {
  return CPU_TABLE_BASE + index * CPU_RECORD_SIZE;
}
