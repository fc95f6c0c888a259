/**
 * The bare machine the core-level benchmarks drive: the default machine file (its own
 * RAM size), powered on without a kernel, with identity page tables, the edu device's
 * BAR0 at 0xC0000000 and memory space + bus mastering on (test/support/core-harness.ts).
 * Interrupts stay off (MSI disabled, no interrupt-enable bits), so `run()` only returns
 * at its time limit or when the queue is empty.
 */
import { readyEdu, EDU, DATA_BASE, type CoreHarness } from "../test/support/core-harness.js";
import * as L from "../src/machine/generated/layout.js";

export { EDU, DATA_BASE, L };

/** The default machine with edu ready for MMIO and DMA. */
export function defaultMachineWithEdu(): CoreHarness {
  return readyEdu({ ramBytes: null });
}

/** Word index (u32 view) of the core's pending-event count. */
export const EVENT_COUNT_INDEX = (L.CORE_STATE_BASE + L.CORE_EVENT_COUNT) >> 2;
/** f64 index of the events counter. */
export const EVENTS_COUNTER_INDEX = (L.CORE_STATE_BASE + L.COUNTERS_OFFSET + L.C_EVENTS * 8) >> 3;

/** Events the core has processed so far (counter C_EVENTS). */
export function eventsProcessed(h: CoreHarness): number {
  return h.core.f64[EVENTS_COUNTER_INDEX];
}

/** Runs until the event queue is empty; throws on a core fault. */
export function drain(h: CoreHarness): void {
  const r = h.x.run(Infinity);
  if (r & L.RUN_FAULT) throw new Error(`core fault ${h.x.fault()}`);
  if (r !== 0) throw new Error(`run() stopped early (${r}): the benchmark machine should raise no interrupts`);
}

/** A posted 4-byte MMIO write to BAR0 + `offset` from CPU 0. */
export function write32(h: CoreHarness, offset: number, value: number): void {
  h.x.cpuWrite(0, h.barBase + offset, 4, value >>> 0, 0, 0);
}

/** A posted 8-byte MMIO write to BAR0 + `offset` from CPU 0 (`value` below 2^32). */
export function write64(h: CoreHarness, offset: number, value: number): void {
  h.x.cpuWrite(0, h.barBase + offset, 8, value >>> 0, 0, 0);
}

/** A 4-byte MMIO read of BAR0 + `offset` by CPU 0 (stalls CPU 0 for the round trip). */
export function read32(h: CoreHarness, offset: number): number {
  return h.x.cpuRead(0, h.barBase + offset, 4, 0) >>> 0;
}

/** RAM the DMA benchmarks use: DATA_BASE .. DATA_BASE + 2 pages. */
export const DMA_RAM_SOURCE = DATA_BASE;
export const DMA_RAM_DESTINATION = DATA_BASE + 4096;

/**
 * Starts one edu DMA of `length` bytes: RAM at DMA_RAM_SOURCE to the device buffer, or
 * (toRam) the device buffer to RAM at DMA_RAM_DESTINATION. No completion interrupt.
 */
export function startDma(h: CoreHarness, toRam: boolean, length = EDU.BUFFER_SIZE): void {
  write64(h, EDU.DMA_SRC, toRam ? EDU.BUFFER : DMA_RAM_SOURCE);
  write64(h, EDU.DMA_DST, toRam ? DMA_RAM_DESTINATION : EDU.BUFFER);
  write64(h, EDU.DMA_COUNT, length);
  write32(h, EDU.DMA_CMD, EDU.DMA_START | (toRam ? EDU.DMA_TO_RAM : 0));
}
