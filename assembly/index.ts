// The whole WebAssembly boundary of the machine core: numeric functions and the layout
// constants the build exports to TypeScript. Addresses and times cross as f64 (exact
// integers below 2^53); 64-bit register values cross as two u32 halves.

import { functionRemove, functionRemoved } from "./pci/hotplug";
import { RUNTIME_SIZE, POOL_BASE, RAM_PAGE_BYTES, WASM_PAGE } from "./memmap";
import { core } from "./sim/core";
import { cpuState } from "./sim/cpu";
import { randomNext } from "./sim/random";
import { runUntil, NO_LIMIT, currentEvent } from "./sim/run";
import { scheduleWithPriority, pop, queueClear } from "./sim/queue";
import { ramReadAt, ramCopyIn, ramCopyInEntry, ramPageEntry, ramFill, ramLoadSpan, ramStoreSpan, ramSpanIsRam, ramReset } from "./mem/ram";
import { poolUsed } from "./mem/pool";
import { translate, TRANSLATE_FAULT } from "./mem/mmu";
import { tlbFlush, tlbFlushPage } from "./mem/tlb";
import { cpuRead as coreCpuRead, cpuWrite as coreCpuWrite, cpuBlock as coreCpuBlock } from "./mem/access";
import { apicAccept as coreApicAccept } from "./irq/apic";
import { configRead as coreConfigRead, configPeek } from "./pci/config";
import { functionCount as coreFunctionCount, pciFunction } from "./pci/function";
import { deliverConfigWrite } from "./pci/bus";
import { intxSignalled } from "./irq/intx";
import { powerOn as corePowerOn, addDevice as coreAddDevice } from "./platform/power";
import { writeFirmwareTables } from "./platform/firmware";
import { ioapicEoi } from "./irq/ioapic";
import { SCRATCH_BASE, SCRATCH_SIZE } from "./memmap";
import { deviceInjectFault } from "./devices/index";
import { INJECT_ERROR_FUNCTION, INJECT_ERROR_MODEL, INJECT_ERROR_ARGUMENT, INJECT_OK } from "./devices/faults";
import { armFault, interruptArm, dmaArm, INTERRUPT_FAULT_DELAY, DMA_FAULT_COMPLETER_ABORT, FAULT_MATCH_MESSAGE, FAULT_MATCH_INTX, FAULT_MATCH_WRITE, FAULT_MATCH_READ } from "./pci/injected-faults";
import { DEVICE_MODEL_BRIDGE, DEVICE_MODEL_NVME } from "./devices/index";
import { nvmeInjectMediaError } from "./devices/nvme";

export * from "./layout";

/**
 * Grows linear memory to hold every fixed region and checks that the runtime's static
 * data fits below the core state. Returns 0, or the overflow in bytes.
 */
export function init(): u32 {
  if (__heap_base > RUNTIME_SIZE) return <u32>(__heap_base - RUNTIME_SIZE);
  const pages = <i32>(POOL_BASE / WASM_PAGE) - memory.size();
  if (pages > 0) memory.grow(pages);
  ramReset();
  return 0;
}

/** Builds the platform from the MachineConfig staged at CONFIG_BASE. 0 or a POWER_ERROR_*. */
export function powerOn(): i32 {
  return corePowerOn();
}

/** Adds the device staged at DEVICE_CONFIG_BASE. Its function index, or a DEVICE_ERROR_*. */
export function addDevice(): i32 {
  return coreAddDevice();
}

/** The firmware stage, after every device is added: writes the ACPI tables into guest RAM. False if RAM misses 0xE0000. */
export function firmwareStage(): bool {
  return writeFirmwareTables();
}

/** The CPU's end-of-interrupt for `vector` (level-triggered IOAPIC inputs re-arm). */
export function apicEoi(cpu: u32, vector: u32): void {
  ioapicEoi(vector);
}

/**
 * Runs device events up to `untilPs` (picoseconds; Infinity for no limit). Returns 0 at
 * the limit or RUN_* bits when the kernel is needed earlier.
 */
export function run(untilPs: f64): u32 {
  return runUntil(untilPs == Infinity ? NO_LIMIT : <u64>untilPs, true);
}

/** Core time, picoseconds. */
export function now(): f64 {
  return <f64>core.nowPs;
}

/** Enables (1) or disables (0) the trace ring. */
export function traceEnable(on: u32): void {
  core.traceEnabled = on;
}

/** CPU `cpu` reads `size` bytes at virtual `va`; returns the low 32 bits (high half and status in its record). */
export function cpuRead(cpu: u32, va: f64, size: u32, access: u32): u32 {
  const v = coreCpuRead(cpu, <u64>va, size, access);
  cpuState(cpu).valueHi = <u32>(v >> 32);
  return <u32>v;
}

/** CPU `cpu` writes `size` bytes (lo, hi halves) at virtual `va`; status in its record. */
export function cpuWrite(cpu: u32, va: f64, size: u32, lo: u32, hi: u32, access: u32): void {
  coreCpuWrite(cpu, <u64>va, size, (<u64>hi << 32) | lo, access);
}

/** Block operation BLOCK_* of `length` bytes at virtual `dst` (and `src`); returns bytes done. */
export function cpuBlock(cpu: u32, op: u32, dst: f64, src: f64, length: f64, access: u32): f64 {
  return <f64>coreCpuBlock(cpu, op, <u64>dst, <u64>src, <u64>length, access);
}

/** Translates virtual `va` for `cpu`; the physical address, or -1 with the fault in its record. */
export function cpuTranslate(cpu: u32, va: f64, access: u32): f64 {
  const pa = translate(cpu, <u64>va, access);
  return pa == TRANSLATE_FAULT ? -1 : <f64>pa;
}

/** Loads CR3 on `cpu` (flushes its non-global TLB entries). */
export function setCr3(cpu: u32, cr3: f64): void {
  cpuState(cpu).cr3 = <u64>cr3;
  tlbFlush(cpu, true);
}

/** Invalidates one page in `cpu`'s TLB (INVLPG), or everything when `va` is -1. */
export function invalidatePage(cpu: u32, va: f64): void {
  if (va < 0) tlbFlush(cpu, false);
  else tlbFlushPage(cpu, <u64>va >> 12);
}

/** Reads a u32 of guest RAM at physical `pa` (bytes); all ones when not RAM. Never backs a page. */
export function physRead32(pa: f64): u32 {
  return <u32>ramLoadSpan(<u64>pa, 4);
}

/** Writes a u32 of guest RAM at physical `pa` (bytes); returns false when not RAM. */
export function physWrite32(pa: f64, value: u32): bool {
  return ramStoreSpan(<u64>pa, 4, value);
}

/**
 * Copies `length` bytes between guest RAM at physical `pa` and the scratch buffer at
 * `offset` (bytes; toScratch 1: RAM to scratch), page by page. False, with nothing
 * copied, when any of it is not RAM.
 */
export function physBlock(pa: f64, offset: u32, length: u32, toScratch: u32): bool {
  if (<u64>offset + length > SCRATCH_SIZE) return false;
  const start = <u64>pa;
  if ((start & (RAM_PAGE_BYTES - 1)) + length <= RAM_PAGE_BYTES) {
    // Within one page: one lookup.
    const entry = ramPageEntry(start);
    if (entry == 0) return false;
    if (toScratch != 0) memory.copy(SCRATCH_BASE + offset, <usize>entry + <usize>(start & (RAM_PAGE_BYTES - 1)), length);
    else return ramCopyInEntry(start, entry, SCRATCH_BASE + offset, length);
    return true;
  }
  if (!ramSpanIsRam(start, length)) return false;
  let done: u32 = 0;
  while (done < length) {
    const at = start + done;
    const room = RAM_PAGE_BYTES - <u32>(at & (RAM_PAGE_BYTES - 1));
    const n = length - done < room ? length - done : room;
    const scratch = SCRATCH_BASE + offset + done;
    if (toScratch != 0) memory.copy(scratch, ramReadAt(at), n);
    else if (!ramCopyIn(at, scratch, n)) return false;
    done += n;
  }
  return true;
}

/** Fills `length` bytes of guest RAM at physical `pa` with `byte`, page by page; false, with nothing written, when any of it is not RAM. */
export function physFill(pa: f64, length: f64, byte: u32): bool {
  const start = <u64>pa;
  const total = <u64>length;
  if (!ramSpanIsRam(start, total == 0 ? 1 : total)) return false;
  let done: u64 = 0;
  while (done < total) {
    const at = start + done;
    const room = <u64>RAM_PAGE_BYTES - (at & (RAM_PAGE_BYTES - 1));
    const n = total - done < room ? total - done : room;
    if (!ramFill(at, <u8>byte, <u32>n)) return false;
    done += n;
  }
  return true;
}

/** Bytes of linear memory the backing pool has handed out: RAM leaf tables, backed RAM pages and device backing storage. */
export function poolBytes(): f64 {
  return poolUsed();
}

/** `cpu` accepts its highest pending interrupt vector (0 if none). */
export function apicAccept(cpu: u32): u32 {
  return coreApicAccept(cpu);
}

/** Next 32 bits of the machine's seeded generator. */
export function random(): u32 {
  return <u32>(randomNext() >> 32);
}

/** Number of PCI functions. */
export function functionCount(): u32 {
  return coreFunctionCount();
}

/** Bus/device/function of function `fn` (bus << 8 | device << 3 | function). */
export function functionBdf(fn: u32): u32 {
  return pciFunction(fn).bdf;
}

/** Config read of function `fn` without bus timing (tools and tests). */
export function configRead(fn: u32, offset: u32, size: u32): u32 {
  return coreConfigRead(fn, offset, size, pciFunction(fn).pciExpress != 0);
}

/** Config write of function `fn` without bus timing (tools and tests); side effects apply. */
export function configWrite(fn: u32, offset: u32, size: u32, value: u32): void {
  deliverConfigWrite(fn, size, offset, value);
}

/** Pulls function `fn` (and everything below it) out of the machine: a surprise removal. */
export function removeFunction(fn: u32): void {
  functionRemove(fn);
}

/** 1 once function `fn` has been pulled out of the machine. */
export function functionIsRemoved(fn: u32): u32 {
  return functionRemoved(fn) ? 1 : 0;
}

/** 1 while function `fn` signals its INTx line. */
export function intxState(fn: u32): u32 {
  return intxSignalled(fn) ? 1 : 0;
}

/**
 * Injects fault `kind` into the device model of function `fn` at the current core time
 * (NVMe: NVME_INJECT_DROP / _STATUS for the next `count` I/O commands, `value` the status
 * field; NVME_INJECT_FATAL now). INJECT_OK, or an INJECT_ERROR_* saying what is wrong.
 */
export function injectFault(fn: u32, kind: u32, count: u32, value: u32): i32 {
  if (fn >= coreFunctionCount() || functionRemoved(fn)) return INJECT_ERROR_FUNCTION;
  return deviceInjectFault(fn, kind, count, value);
}

/**
 * Arms function `fn`'s interrupt faults: the next `count` matching interrupts (`filter`:
 * FAULT_MATCH_MESSAGE for MSI/MSI-X, FAULT_MATCH_INTX for INTx assertions) after `skip`
 * matching ones are dropped, duplicated or delayed by `delayPs` ps (`action` an
 * INTERRUPT_FAULT_*, 0 disarms); with `chance` non-zero each is hit only when a draw of
 * the fault generator falls below `threshold` (of 2^32). INJECT_OK or an INJECT_ERROR_*.
 */
export function armInterruptFault(fn: u32, action: u32, count: u32, skip: u32, chance: u32, threshold: u32, filter: u32, delayPs: f64): i32 {
  if (fn >= coreFunctionCount() || functionRemoved(fn)) return INJECT_ERROR_FUNCTION;
  if (pciFunction(fn).model == DEVICE_MODEL_BRIDGE) return INJECT_ERROR_MODEL;
  if (action > INTERRUPT_FAULT_DELAY || (action != 0 && (filter & (FAULT_MATCH_MESSAGE | FAULT_MATCH_INTX)) == 0)) return INJECT_ERROR_ARGUMENT;
  armFault(interruptArm(fn), action, count, skip, chance, threshold, filter, <u64>delayPs);
  return INJECT_OK;
}

/**
 * Arms function `fn`'s DMA faults: the next `count` matching transfers (`filter`:
 * FAULT_MATCH_READ, FAULT_MATCH_WRITE) after `skip` matching ones complete as Unsupported
 * Request or Completer Abort (`action` a DMA_FAULT_*, 0 disarms); `chance` and `threshold`
 * as for armInterruptFault. INJECT_OK or an INJECT_ERROR_*.
 */
export function armDmaFault(fn: u32, action: u32, count: u32, skip: u32, chance: u32, threshold: u32, filter: u32): i32 {
  if (fn >= coreFunctionCount() || functionRemoved(fn)) return INJECT_ERROR_FUNCTION;
  if (pciFunction(fn).model == DEVICE_MODEL_BRIDGE) return INJECT_ERROR_MODEL;
  if (action > DMA_FAULT_COMPLETER_ABORT || (action != 0 && (filter & (FAULT_MATCH_READ | FAULT_MATCH_WRITE)) == 0)) return INJECT_ERROR_ARGUMENT;
  armFault(dmaArm(fn), action, count, skip, chance, threshold, filter, 0);
  return INJECT_OK;
}

/**
 * Arms (blocks > 0) or clears (blocks 0) a media error on the NVMe controller `fn`:
 * namespace `nsid`, LBAs `first` .. `first + blocks - 1`, reads and, with `writes`, writes.
 * INJECT_OK or an INJECT_ERROR_*.
 */
export function injectMediaError(fn: u32, nsid: u32, first: f64, blocks: f64, writes: u32): i32 {
  if (fn >= coreFunctionCount() || functionRemoved(fn)) return INJECT_ERROR_FUNCTION;
  if (pciFunction(fn).model != DEVICE_MODEL_NVME) return INJECT_ERROR_MODEL;
  return nvmeInjectMediaError(fn, nsid, <u64>first, <u64>blocks, writes != 0);
}

/**
 * Queue access for tests and tools: schedules an event of `kind` (non-zero; a kind the
 * run loop does not dispatch, above the EV_* of sim/events.ts, is never acted on) for
 * `target` at `timePs` (ps, exact below 2^53) with `priority` (lower runs first at equal
 * times) and argument `a`. False (and the FAULT_EVENT_QUEUE_FULL fault) when full.
 */
export function queueSchedule(timePs: f64, priority: u32, kind: u32, target: u32, a: f64): bool {
  return scheduleWithPriority(<u64>timePs, kind, target, <u64>a, 0, priority);
}

/**
 * Queue access for tests and tools: removes the earliest event without dispatching it and
 * copies it to the current-event record (CURRENT_EVENT_BASE, an Event). False when empty.
 */
export function queuePop(): bool {
  if (core.eventCount == 0) return false;
  pop(currentEvent());
  return true;
}

/** Queue access for tests and tools: drops every pending event and restarts the insertion sequence. */
export function queueReset(): void {
  queueClear();
}

/** The core's first internal fault code (FAULT_*), 0 if none. */
export function fault(): u32 {
  return core.fault;
}

export {
  fuzzStart, fuzzRun, FUZZ_RECORD_BASE, FUZZ_OP_INDEX, FUZZ_FINDING, FUZZ_DETAIL, FUZZ_COUNTERS, FUZZ_COUNTER_COUNT,
} from "./devices/fuzz";
