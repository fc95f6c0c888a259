/**
 * Memory at virtual addresses, as the executing processor sees it through its MMU:
 * RtlCopyMemory and friends, typed reads and writes (what `*(PULONG)p` is in C), and
 * block transfers to and from host byte arrays.
 *
 * A fault on a pageable page that is in the page file is resolved below DISPATCH_LEVEL:
 * the page is read back (a page-in, charged to the processor) and the access retried.
 * Any other fault, and any fault at or above DISPATCH_LEVEL, is fatal on kernel memory:
 * 0x50 below DISPATCH_LEVEL; 0xD1 from a driver or 0xA from the kernel at or above (P1
 * address, P2 IRQL, P3 0 read / 1 write, P4 the code address). A fault on a user-mode
 * address below DISPATCH_LEVEL raises STATUS_ACCESS_VIOLATION for the caller to handle.
 * A touch of special pool's inaccessible pages is its own bug check (see special-pool.ts).
 */
import * as L from "../machine/generated/layout.js";
import {
  DRIVER_IRQL_NOT_LESS_OR_EQUAL, DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION, DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL, IRQL_NOT_LESS_OR_EQUAL,
  PAGE_FAULT_BEYOND_END_OF_ALLOCATION, PAGE_FAULT_IN_FREED_SPECIAL_POOL, PAGE_FAULT_IN_NONPAGED_AREA,
} from "../ke/bugcheck.js";
import { DISPATCH_LEVEL } from "../ke/irql.js";
import { KE, type Kernel } from "../ke/kernel.js";
import { NtStatusException, STATUS_ACCESS_VIOLATION } from "../ke/ntstatus.js";
import { SYSTEM_SPACE_START } from "./address-space.js";
import { MM } from "./manager.js";
import { PAGER_SCRATCH_OFFSET } from "./pfn.js";

/** Bytes readBytes / writeBytes stage at a time (the scratch buffer below the pager's page). */
const STAGE_BYTES = PAGER_SCRATCH_OFFSET;

/** A virtual address (lower-half form; system space from 0x8000_0000_0000). */
export type PVOID = number;

/** Raises or bug checks for a fault that cannot be resolved. */
function fault(k: Kernel, va: number, write: boolean): never {
  const irql = k.cpu.irql;
  const who = k.attribution();
  // Special pool's inaccessible pages: past a live block, or a freed block's page (at any IRQL).
  const special = MM(k).pool.special?.classify(va);
  if (special) {
    const driver = who.driver !== "nt";
    const code = special === "freed"
      ? (driver ? DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL : PAGE_FAULT_IN_FREED_SPECIAL_POOL)
      : (driver ? DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION : PAGE_FAULT_BEYOND_END_OF_ALLOCATION);
    k.bugCheck(code, va, write ? 1 : 0, MM(k).codeAddress(who.driver, who.routine), 0);
  }
  if (irql >= DISPATCH_LEVEL) {
    const code = who.driver === "nt" ? IRQL_NOT_LESS_OR_EQUAL : DRIVER_IRQL_NOT_LESS_OR_EQUAL;
    k.bugCheck(code, va, irql, write ? 1 : 0, MM(k).codeAddress(who.driver, who.routine));
  }
  if (va < SYSTEM_SPACE_START) throw new NtStatusException(STATUS_ACCESS_VIOLATION);
  k.bugCheck(PAGE_FAULT_IN_NONPAGED_AREA, va, write ? 2 : 0, MM(k).codeAddress(who.driver, who.routine), 0);
}

/**
 * Handles a page fault at `va` by the executing processor: a page in the page file is
 * paged in when the IRQL allows it (the caller retries); anything else does not return
 * (a bug check, or STATUS_ACCESS_VIOLATION raised for a user-mode address).
 */
export function resolvePageFault(k: Kernel, va: number, write: boolean): void {
  const cpu = k.cpu;
  if (cpu.irql < DISPATCH_LEVEL) {
    const mm = MM(k);
    const space = mm.spaceFor(cpu.cr3, va);
    if (space && mm.makeResident(space, va)) return;
  }
  fault(k, va, write);
}

/** After an access that did not succeed: resolves a page fault (to retry) or throws. */
function recover(k: Kernel, status: number, write: boolean): void {
  if (status === L.ACCESS_PAGE_FAULT) return resolvePageFault(k, k.core.lastFault(k.cpu.Number).va, write);
  throw new RangeError(`memory access failed (status ${status})`);
}

function read(size: number, va: PVOID): number {
  const k = KE();
  k.chargePs(k.cost.MemoryAccess);
  const cpu = k.cpu.Number;
  for (;;) {
    const v = k.x.cpuRead(cpu, va, size, 0) >>> 0;
    const status = k.core.accessStatus(cpu);
    if (status === L.ACCESS_OK || status === L.ACCESS_MASTER_ABORT) return v;
    recover(k, status, false);
  }
}

function write(size: number, va: PVOID, value: number, hi = 0): void {
  const k = KE();
  k.chargePs(k.cost.MemoryAccess);
  const cpu = k.cpu.Number;
  for (;;) {
    k.x.cpuWrite(cpu, va, size, value >>> 0, hi >>> 0, 0);
    const status = k.core.accessStatus(cpu);
    if (status === L.ACCESS_OK || status === L.ACCESS_MASTER_ABORT) return;
    recover(k, status, true);
  }
}

/** Reads a UCHAR at `va`. */
export const readU8 = (va: PVOID): number => read(1, va);
/** Reads a USHORT at `va`. */
export const readU16 = (va: PVOID): number => read(2, va);
/** Reads a ULONG at `va`. */
export const readU32 = (va: PVOID): number => read(4, va);
/** Reads a ULONG64 at `va`. */
export function readU64(va: PVOID): bigint {
  const k = KE();
  k.chargePs(k.cost.MemoryAccess);
  const cpu = k.cpu.Number;
  for (;;) {
    const lo = k.x.cpuRead(cpu, va, 8, 0) >>> 0;
    const status = k.core.accessStatus(cpu);
    if (status === L.ACCESS_OK || status === L.ACCESS_MASTER_ABORT) return (BigInt(k.core.valueHi(cpu)) << 32n) | BigInt(lo);
    recover(k, status, false);
  }
}
/** Writes a UCHAR at `va`. */
export const writeU8 = (va: PVOID, value: number): void => write(1, va, value);
/** Writes a USHORT at `va`. */
export const writeU16 = (va: PVOID, value: number): void => write(2, va, value);
/** Writes a ULONG at `va`. */
export const writeU32 = (va: PVOID, value: number): void => write(4, va, value);
/** The low and high 32 bits of a 64-bit value (numbers must be exact, below 2^53; they take no BigInt). */
export function splitU64(value: bigint | number): [number, number] {
  if (typeof value === "number") return [value % 2 ** 32 >>> 0, Math.floor(value / 2 ** 32) >>> 0];
  return [Number(value & 0xFFFFFFFFn), Number((value >> 32n) & 0xFFFFFFFFn)];
}

/** Writes a ULONG64 at `va`. */
export function writeU64(va: PVOID, value: bigint | number): void {
  const [lo, hi] = splitU64(value);
  write(8, va, lo, hi);
}

function chargeCopy(k: Kernel, length: number): void {
  k.cpu.time += k.cost.CopyPer64Bytes * Math.ceil(length / 64);
  k.chargePs(k.cost.MemoryAccess);
}

/**
 * Runs block operation `op` over `length` bytes, paging in what it faults on and going
 * on from where it stopped. Returns the bytes done (for compare: the equal prefix).
 */
function block(op: number, dst: PVOID, src: number, length: number): number {
  const k = KE();
  chargeCopy(k, length);
  const cpu = k.cpu.Number;
  const writes = op === L.BLOCK_COPY || op === L.BLOCK_FILL || op === L.BLOCK_FROM_SCRATCH;
  let off = 0;
  for (;;) {
    const done = k.x.cpuBlock(cpu, op, dst + off, op === L.BLOCK_FILL ? src : src + off, length - off, 0);
    const status = k.core.accessStatus(cpu);
    if (status === L.ACCESS_OK) return off + done;
    if (status === L.ACCESS_MASTER_ABORT) throw new NtStatusException(STATUS_ACCESS_VIOLATION);
    off += done;
    const va = status === L.ACCESS_PAGE_FAULT ? k.core.lastFault(cpu).va : 0;
    recover(k, status, writes && va >= dst && va < dst + length);
  }
}

/** RtlCopyMemory: copies `Length` bytes from `Source` to `Destination` (non-overlapping). */
export function RtlCopyMemory(Destination: PVOID, Source: PVOID, Length: number): void {
  if (Length > 0) block(L.BLOCK_COPY, Destination, Source, Length);
}

/** RtlMoveMemory: copies `Length` bytes; the ranges may overlap. */
export function RtlMoveMemory(Destination: PVOID, Source: PVOID, Length: number): void {
  if (Length <= 0) return;
  if (Destination > Source && Destination < Source + Length) {
    // Overlap with the destination above: go through a host copy.
    writeBytes(Destination, readBytes(Source, Length));
  } else {
    block(L.BLOCK_COPY, Destination, Source, Length);
  }
}

/** RtlZeroMemory: zeroes `Length` bytes. */
export function RtlZeroMemory(Destination: PVOID, Length: number): void {
  if (Length > 0) block(L.BLOCK_FILL, Destination, 0, Length);
}

/** RtlFillMemory: fills `Length` bytes with `Fill`. */
export function RtlFillMemory(Destination: PVOID, Length: number, Fill: number): void {
  if (Length > 0) block(L.BLOCK_FILL, Destination, Fill & 0xFF, Length);
}

/** RtlCompareMemory: the number of leading bytes that are equal. */
export function RtlCompareMemory(Source1: PVOID, Source2: PVOID, Length: number): number {
  return Length > 0 ? block(L.BLOCK_COMPARE, Source1, Source2, Length) : 0;
}

/** Reads `length` bytes at `va` into a new host array. */
export function readBytes(va: PVOID, length: number): Uint8Array {
  const k = KE();
  const out = new Uint8Array(length);
  for (let done = 0; done < length; ) {
    const n = Math.min(STAGE_BYTES, length - done);
    block(L.BLOCK_TO_SCRATCH, va + done, 0, n);
    out.set(k.core.u8.subarray(L.SCRATCH_BASE, L.SCRATCH_BASE + n), done);
    done += n;
  }
  return out;
}

/** Writes host bytes at `va`. */
export function writeBytes(va: PVOID, bytes: Uint8Array): void {
  const k = KE();
  for (let done = 0; done < bytes.length; ) {
    const n = Math.min(STAGE_BYTES, bytes.length - done);
    k.core.u8.set(bytes.subarray(done, done + n), L.SCRATCH_BASE);
    block(L.BLOCK_FROM_SCRATCH, va + done, 0, n);
    done += n;
  }
}

/**
 * MmIsAddressValid: TRUE if reading `VirtualAddress` would not page fault on the
 * executing processor (the page is mapped and resident); FALSE for a page that is in
 * the page file or not mapped at all.
 */
export function MmIsAddressValid(VirtualAddress: PVOID): boolean {
  const k = KE();
  const space = MM(k).spaceFor(k.cpu.cr3, VirtualAddress);
  return space !== undefined && space.lookup(VirtualAddress) >= 0;
}
