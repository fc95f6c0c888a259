// The trace ring: what the bus, DMA engine and interrupt path did, with timestamps, for
// the TypeScript recorder to drain after each run. With tracing off, emitting costs one
// branch.
//
//   TraceRecord (TRACE_RECORD_SIZE = 32 bytes)
//   +0  time u64   picoseconds
//   +8  kind u16   TR_*
//   +10 fn   u16   PCI function index (0xFFFF: none)
//   +12 a    u32   kind-specific
//   +16 b    u64   kind-specific
//   +24 c    u64   kind-specific

import { TRACE_CAPACITY, TRACE_RECORD_SIZE, TRACE_RING_BASE } from "../memmap";
import { core, count, C_TRACE_DROPPED, STOP_TRACE_FULL } from "./core";

/** MMIO read reached a device: a = bar << 24 | offset, b = value, c = size. */
export const TR_MMIO_READ: u32 = 1;
/** MMIO write reached a device: a = bar << 24 | offset, b = value, c = size. */
export const TR_MMIO_WRITE: u32 = 2;
/** Config read: a = offset, b = value, c = size. */
export const TR_CONFIG_READ: u32 = 3;
/** Config write: a = offset, b = value, c = size. */
export const TR_CONFIG_WRITE: u32 = 4;
/** DMA read (memory to device) issued: a = length, b = bus address, c = completion time (ps). */
export const TR_DMA_READ: u32 = 5;
/** DMA write (device to memory) issued: a = length, b = bus address, c = arrival time of the last TLP (ps). */
export const TR_DMA_WRITE: u32 = 6;
/** MSI sent: a = data, b = address, c = arrival time at the interrupt controller (ps). */
export const TR_MSI: u32 = 7;
/** INTx level change: a = 1 asserted / 0 deasserted, b = pin. */
export const TR_INTX: u32 = 8;
/** Master abort: a = reason (MA_*), b = address. */
export const TR_MASTER_ABORT: u32 = 9;
/** Device error: a = device-specific code, b = argument. */
export const TR_DEVICE_ERROR: u32 = 10;
/** Interrupt vector became pending at a CPU: a = vector, b = cpu. */
export const TR_APIC_PENDING: u32 = 11;
/** Posted write landed in memory: a = length, b = address. */
export const TR_WRITE_LANDED: u32 = 12;
/** IOMMU fault: fn = requester ID (bus << 8 | devfn), a = fault reason, b = DMA address, c = 1 write / 0 read. */
export const TR_IOMMU_FAULT: u32 = 13;
/** Injected fault: a = what (FAULT_* of pci/injected-faults.ts), b and c as that constant says. */
export const TR_FAULT: u32 = 14;

/** Master-abort reason: a CPU or device addressed nothing. */
export const MA_UNBACKED: u32 = 1;
/** Master-abort reason: a device tried DMA with bus mastering disabled. */
export const MA_BUS_MASTER_DISABLED: u32 = 2;

/** Appends a record when tracing is on. */
export function trace(time: u64, kind: u32, fn: u32, a: u32, b: u64, c: u64): void {
  if (core.traceEnabled == 0) return;
  if (core.traceHead - core.traceTail >= TRACE_CAPACITY) {
    count(C_TRACE_DROPPED);
    core.stopFlags |= STOP_TRACE_FULL;
    return;
  }
  const p = TRACE_RING_BASE + <usize>(core.traceHead & (TRACE_CAPACITY - 1)) * TRACE_RECORD_SIZE;
  store<u64>(p, time);
  store<u16>(p, <u16>kind, 8);
  store<u16>(p, <u16>fn, 10);
  store<u32>(p, a, 12);
  store<u64>(p, b, 16);
  store<u64>(p, c, 24);
  core.traceHead++;
  if (core.traceHead - core.traceTail >= TRACE_CAPACITY) core.stopFlags |= STOP_TRACE_FULL;
}
