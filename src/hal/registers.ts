/**
 * Device register access: READ_REGISTER_* and WRITE_REGISTER_* at virtual addresses
 * (from MmMapIoSpace). Each goes through the executing processor's MMU to the bus. A read
 * stalls the processor for the PCIe round trip the core models; a write is posted.
 */
import * as L from "../machine/generated/layout.js";
import { KE, type Kernel } from "../ke/kernel.js";
import { DRIVER_IRQL_NOT_LESS_OR_EQUAL, IRQL_NOT_LESS_OR_EQUAL, PAGE_FAULT_IN_NONPAGED_AREA } from "../ke/bugcheck.js";
import { DISPATCH_LEVEL } from "../ke/irql.js";
import { splitU64 } from "../mm/memory.js";

function faulted(k: Kernel, write: boolean): void {
  const cpu = k.cpu.Number;
  if (k.core.accessStatus(cpu) !== L.ACCESS_PAGE_FAULT) return;
  const va = k.core.lastFault(cpu).va;
  if (k.cpu.irql >= DISPATCH_LEVEL) {
    k.bugCheck(k.attribution().driver === "nt" ? IRQL_NOT_LESS_OR_EQUAL : DRIVER_IRQL_NOT_LESS_OR_EQUAL, va, k.cpu.irql, write ? 1 : 0, 0);
  }
  k.bugCheck(PAGE_FAULT_IN_NONPAGED_AREA, va, write ? 2 : 0, 0, 0);
}

function read(size: number, Register: number): number {
  const k = KE();
  const cpu = k.cpu;
  if (cpu.time >= k.core.nextEventPs) k.advanceCore(cpu.time);
  const v = k.x.cpuRead(cpu.Number, Register, size, 0) >>> 0;
  faulted(k, false);
  k.chargePs(k.cost.READ_REGISTER);
  return v;
}

function write(size: number, Register: number, lo: number, hi: number): void {
  const k = KE();
  const cpu = k.cpu;
  if (cpu.time >= k.core.nextEventPs) k.advanceCore(cpu.time);
  k.x.cpuWrite(cpu.Number, Register, size, lo >>> 0, hi >>> 0, 0);
  faulted(k, true);
  k.chargePs(k.cost.WRITE_REGISTER);
}

/** READ_REGISTER_UCHAR. */
export function READ_REGISTER_UCHAR(Register: number): number {
  return read(1, Register);
}
/** READ_REGISTER_USHORT. */
export function READ_REGISTER_USHORT(Register: number): number {
  return read(2, Register);
}
/** READ_REGISTER_ULONG. */
export function READ_REGISTER_ULONG(Register: number): number {
  return read(4, Register);
}
/** READ_REGISTER_ULONG64 (a bigint: 64-bit registers exceed a double's exact range). */
export function READ_REGISTER_ULONG64(Register: number): bigint {
  const lo = read(8, Register);
  const k = KE();
  return (BigInt(k.core.valueHi(k.cpu.Number)) << 32n) | BigInt(lo);
}
/** WRITE_REGISTER_UCHAR. */
export function WRITE_REGISTER_UCHAR(Register: number, Value: number): void {
  write(1, Register, Value & 0xFF, 0);
}
/** WRITE_REGISTER_USHORT. */
export function WRITE_REGISTER_USHORT(Register: number, Value: number): void {
  write(2, Register, Value & 0xFFFF, 0);
}
/** WRITE_REGISTER_ULONG. */
export function WRITE_REGISTER_ULONG(Register: number, Value: number): void {
  write(4, Register, Value, 0);
}
/** WRITE_REGISTER_ULONG64 (number values must be exact, below 2^53). */
export function WRITE_REGISTER_ULONG64(Register: number, Value: bigint | number): void {
  const [lo, hi] = splitU64(Value);
  write(8, Register, lo, hi);
}
