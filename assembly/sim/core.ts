// Core state: the simulated clock, the run loop's stop flags, the seeded generator and
// the machine-wide counters. One record at CORE_STATE_BASE.
//
//   +0   nowPs           u64   current core time, picoseconds
//   +8   nextEventPs     f64   time of the earliest pending event (Infinity if none), for TypeScript
//   +16  seq             u64   insertion counter for FIFO tie order
//   +24  eventCount      u32   events pending in the queue (sim/queue.ts)
//   +28  stopFlags       u32   why the run loop should return (STOP_*)
//   +32  rng             u64 x 4  xoshiro256** state
//   +64  traceEnabled    u32
//   +68  traceHead       u32   next record to write (monotonic)
//   +72  traceTail       u32   next record TypeScript will read (monotonic)
//   +76  cpuCount        u32
//   +80  fault           u32   first internal fault (FAULT_*), 0 if none
//   +88  nowF64          f64   nowPs as an f64, for TypeScript to read without BigInt
//   +96  functionCount   u32   populated PCI functions
//   +100 decodeCount     u32   BAR windows decoding
//   +104 deviceHeapTop   u32   next free byte of the device heap
//   +108 ramRegionCount  u32
//   +112 poolTop         f64   next free byte of the backing pool (mem/pool.ts)
//   +120 ramDirUsed      u32   RAM directory entries ramMap wrote (mem/ram.ts), from 0
//   +124 decodeLast      u32   decode entry of the last BAR hit (pci/decode.ts)
//   +128 counters        f64 x COUNTER_COUNT

import { CORE_RECORD_BASE } from "../memmap";

@unmanaged
export class CoreState {
  nowPs: u64;
  nextEventPs: f64;
  seq: u64;
  eventCount: u32;
  stopFlags: u32;
  rng0: u64;
  rng1: u64;
  rng2: u64;
  rng3: u64;
  traceEnabled: u32;
  traceHead: u32;
  traceTail: u32;
  cpuCount: u32;
  fault: u32;
  nowF64: f64;
  functionCount: u32;
  decodeCount: u32;
  deviceHeapTop: u32;
  ramRegionCount: u32;
  poolTop: f64;
  ramDirUsed: u32;
  decodeLast: u32;
}

/** The one CoreState record. */
export const core = changetype<CoreState>(CORE_RECORD_BASE);

/** Run-loop stop flag: an interrupt became deliverable to a CPU above its current IRQL. */
export const STOP_INTERRUPT: u32 = 1;
/** Run-loop stop flag: the trace ring is full and must be drained. */
export const STOP_TRACE_FULL: u32 = 2;
/** Run-loop stop flag: the core hit an internal fault (see CoreState.fault). */
export const STOP_FAULT: u32 = 4;

/** Internal fault: the event queue is full (EVENT_CAPACITY events pending). */
export const FAULT_EVENT_QUEUE_FULL: u32 = 1;
/** Internal fault: the device heap is exhausted. */
export const FAULT_DEVICE_HEAP_FULL: u32 = 2;
/** Internal fault: linear memory cannot back another guest RAM page (the write was dropped). */
export const FAULT_RAM_BACKING_FULL: u32 = 3;

/** Offset of the counters (f64 each) from CORE_STATE_BASE. */
export const COUNTERS_OFFSET: u32 = 128;

// Counter indices (each an f64 so TypeScript reads exact integers below 2^53).
/** Events processed by the run loop. */
export const C_EVENTS: u32 = 0;
/** MMIO reads that reached a device. */
export const C_MMIO_READS: u32 = 1;
/** MMIO writes that reached a device. */
export const C_MMIO_WRITES: u32 = 2;
/** Configuration-space reads. */
export const C_CONFIG_READS: u32 = 3;
/** Configuration-space writes. */
export const C_CONFIG_WRITES: u32 = 4;
/** Bytes devices read from memory by DMA. */
export const C_DMA_READ_BYTES: u32 = 5;
/** Bytes devices wrote to memory by DMA. */
export const C_DMA_WRITE_BYTES: u32 = 6;
/** DMA transfers started by devices. */
export const C_DMA_TRANSFERS: u32 = 7;
/** MSI messages sent. */
export const C_MSI_SENT: u32 = 8;
/** INTx assertions. */
export const C_INTX_ASSERTS: u32 = 9;
/** Master aborts: accesses to nothing, or DMA without bus mastering. */
export const C_MASTER_ABORTS: u32 = 10;
/** Device error events (refused or clamped requests). */
export const C_DEVICE_ERRORS: u32 = 11;
/** TLB hits. */
export const C_TLB_HITS: u32 = 12;
/** TLB misses (page walks). */
export const C_TLB_MISSES: u32 = 13;
/** Page faults reported. */
export const C_PAGE_FAULTS: u32 = 14;
/** Trace records lost because the ring was full and tracing could not stop the run. */
export const C_TRACE_DROPPED: u32 = 15;
/** TLPs sent on all links. */
export const C_TLPS: u32 = 16;
/** Interrupts accepted by CPUs. */
export const C_INTERRUPTS_ACCEPTED: u32 = 17;
/** Guest RAM pages (4 KiB) with backing in linear memory: pages written at least once. */
export const C_RAM_PAGES_BACKED: u32 = 18;
/** Faults injected into PCI functions (pci/injected-faults.ts). */
export const C_FAULTS_INJECTED: u32 = 19;
/** Number of counters. */
export const COUNTER_COUNT: u32 = 20;

/** Adds `n` to counter `index`. */
@inline
export function count(index: u32, n: f64 = 1.0): void {
  const p = CORE_RECORD_BASE + COUNTERS_OFFSET + (index << 3);
  store<f64>(p, load<f64>(p) + n);
}

/** Records the first internal fault and asks the run loop to stop. */
export function raiseFault(code: u32): void {
  if (core.fault == 0) core.fault = code;
  core.stopFlags |= STOP_FAULT;
}
