/**
 * ProbeForRead and ProbeForWrite: the checks a driver makes on a user-mode buffer before
 * touching it (METHOD_NEITHER I/O, Irp.UserBuffer). They raise exceptions rather than
 * return a status: STATUS_DATATYPE_MISALIGNMENT when the start is not aligned,
 * STATUS_ACCESS_VIOLATION when the range is not all in user space (a kernel address
 * included) or, for ProbeForWrite, a page of it is not writable. A driver calls them
 * inside tryExcept (src/ke/exception.ts), C's __try/__except. A zero Length checks
 * nothing. Both need IRQL <= APC_LEVEL (Driver Verifier: 0xC4, P1 0x00020006, rule
 * IrqlExApcLte2); they act in the current process's address space.
 */
import { DRIVER_VERIFIER_DETECTED_VIOLATION } from "../ke/bugcheck.js";
import { APC_LEVEL } from "../ke/irql.js";
import { KE } from "../ke/kernel.js";
import { NtStatusException, STATUS_ACCESS_VIOLATION, STATUS_DATATYPE_MISALIGNMENT } from "../ke/ntstatus.js";
import { USER_SPACE_END } from "./address-space.js";
import { readU8, writeU8, type PVOID } from "./memory.js";
import { PAGE_SIZE } from "./pfn.js";

/** 0xC4 P1: DDI compliance rule IrqlExApcLte2 (ProbeForRead, ProbeForWrite and the paged lookaside routines need IRQL <= APC_LEVEL). */
export const DDI_RULE_IRQL_EX_APC_LTE2 = 0x00020006;

/** MmUserProbeAddress: one past the highest address a probe accepts. */
export const MM_USER_PROBE_ADDRESS = USER_SPACE_END;

/** Checks IRQL, alignment and the user range shared by both probes. */
function checkRange(Address: PVOID, Length: number, Alignment: number): void {
  const k = KE();
  if (k.verifier && k.cpu.irql > APC_LEVEL) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_EX_APC_LTE2, k.cpu.irql, 0, 0);
  k.chargePs(k.cost.MemoryAccess);
  if (Alignment > 1 && Address % Alignment !== 0) throw new NtStatusException(STATUS_DATATYPE_MISALIGNMENT);
  const end = Address + Length;
  if (Address < 0 || end > MM_USER_PROBE_ADDRESS) throw new NtStatusException(STATUS_ACCESS_VIOLATION);
}

/**
 * ProbeForRead: checks that `Length` bytes at `Address` lie in user space and that
 * `Address` is a multiple of `Alignment` (bytes: 1, 2, 4, 8 or 16); raises
 * STATUS_DATATYPE_MISALIGNMENT or STATUS_ACCESS_VIOLATION otherwise. It does not touch
 * the pages: a later read can still fault (keep it inside the same tryExcept).
 */
export function ProbeForRead(Address: PVOID, Length: number, Alignment: number): void {
  if (Length === 0) return;
  checkRange(Address, Length, Alignment);
}

/**
 * ProbeForWrite: as ProbeForRead, and also touches every page of the range for writing
 * (reads a byte and writes it back), so an unmapped or read-only page raises
 * STATUS_ACCESS_VIOLATION.
 */
export function ProbeForWrite(Address: PVOID, Length: number, Alignment: number): void {
  if (Length === 0) return;
  checkRange(Address, Length, Alignment);
  const last = Address + Length - 1;
  for (let page = Math.floor(Address / PAGE_SIZE) * PAGE_SIZE; page <= last; page += PAGE_SIZE) {
    const va = Math.max(page, Address);
    writeU8(va, readU8(va));
  }
}
