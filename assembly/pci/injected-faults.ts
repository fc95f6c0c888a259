// Injected hardware faults armed per PCI function: what the function's interrupts and DMA
// transfers suffer next. An arm names an action, how many matching events it hits, how
// many matching events it lets pass first (so the Nth one is hit), and optionally a chance
// per matching event drawn from the fault generator (seeded from the machine's seed, a
// stream of its own so that arming a fault does not move the device models' jitter).
// The hot paths (postMessage, dmaRead/dmaWrite, intxSetLevel) test one word per call; an
// arm is counted down in place, and every fault it injects is a TR_FAULT trace record.
//
//   Fault table (FAULT_TABLE_BASE): header (FAULT_HEADER_SIZE) then FunctionFaults x MAX_FUNCTIONS
//   header +0 generator u64   SplitMix64 state of the fault generator
//
//   FunctionFaults (FAULT_RECORD_SIZE = 128 bytes)
//   +0   interrupt arm FaultArm (32 bytes)   actions INTERRUPT_FAULT_*, filter FAULT_MATCH_MESSAGE | FAULT_MATCH_INTX
//   +32  dma arm       FaultArm (32 bytes)   actions DMA_FAULT_*, filter FAULT_MATCH_READ | FAULT_MATCH_WRITE
//   +64  intxHeld  u32   1 while the device's INTx assertion is kept off the line (dropped or delayed)
//
//   FaultArm: +0 action u32 (0: disarmed), +4 remaining u32 (faults still to inject), +8 skip u32
//   (matching events still to let pass), +12 threshold u32 (with chance: an event is hit when a
//   32-bit draw is below it), +16 filter u32, +20 chance u32 (1: draw per event), +24 delayPs u64.

import { FAULT_TABLE_BASE, FAULT_HEADER_SIZE, FAULT_RECORD_SIZE, FAULT_TABLE_SIZE } from "../memmap";
import { core, count, C_FAULTS_INJECTED } from "../sim/core";
import { trace, TR_FAULT } from "../sim/trace";
import { splitmix } from "../sim/random";

@unmanaged
export class FaultArm {
  action: u32;
  remaining: u32;
  skip: u32;
  threshold: u32;
  filter: u32;
  chance: u32;
  delayPs: u64;
}

/** Offset of the DMA arm in a function's fault record. */
const DMA_ARM_OFFSET: u32 = 32;
/** Offset of intxHeld in a function's fault record. */
const INTX_HELD_OFFSET: u32 = 64;

/** Interrupt fault: the message or INTx assertion is lost. */
export const INTERRUPT_FAULT_DROP: u32 = 1;
/** Interrupt fault: the message is sent twice; an INTx line drops and rises again just after it rose. */
export const INTERRUPT_FAULT_DUPLICATE: u32 = 2;
/** Interrupt fault: the message leaves, or the INTx line rises, the arm's delay later. */
export const INTERRUPT_FAULT_DELAY: u32 = 3;
/** DMA fault: the transfer completes as an Unsupported Request. */
export const DMA_FAULT_UNSUPPORTED_REQUEST: u32 = 1;
/** DMA fault: the transfer completes as a Completer Abort. */
export const DMA_FAULT_COMPLETER_ABORT: u32 = 2;

/** Interrupt arm filter: MSI and MSI-X messages. */
export const FAULT_MATCH_MESSAGE: u32 = 1;
/** Interrupt arm filter: INTx assertions (rising edges of the device's output). */
export const FAULT_MATCH_INTX: u32 = 2;
/** DMA arm filter: reads (memory to device). */
export const FAULT_MATCH_READ: u32 = 1;
/** DMA arm filter: writes (device to memory). */
export const FAULT_MATCH_WRITE: u32 = 2;

// What a TR_FAULT record's `a` says was injected (b and c: see each).
/** A message was dropped: b = address, c = data. */
export const FAULT_MESSAGE_DROPPED: u32 = 1;
/** A message was sent twice: b = address, c = data. */
export const FAULT_MESSAGE_DUPLICATED: u32 = 2;
/** A message was held back: b = address, c = when it leaves (ps). */
export const FAULT_MESSAGE_DELAYED: u32 = 3;
/** An INTx assertion was dropped: b = 0. */
export const FAULT_INTX_DROPPED: u32 = 4;
/** An INTx assertion was repeated: b = 0. */
export const FAULT_INTX_DUPLICATED: u32 = 5;
/** An INTx assertion was held back: c = when the line rises (ps). */
export const FAULT_INTX_DELAYED: u32 = 6;
/** A DMA transfer completed as Unsupported Request: b = bus address, c = length | 1 << 32 for a write. */
export const FAULT_DMA_UNSUPPORTED_REQUEST: u32 = 7;
/** A DMA transfer completed as Completer Abort: b = bus address, c = length | 1 << 32 for a write. */
export const FAULT_DMA_COMPLETER_ABORT: u32 = 8;
/** A device model failed a command for an injected media error: b = model-specific argument. */
export const FAULT_MEDIA_ERROR: u32 = 9;

// @ts-ignore: decorator
@inline function record(fn: u32): usize {
  return FAULT_TABLE_BASE + FAULT_HEADER_SIZE + <usize>fn * FAULT_RECORD_SIZE;
}

/** The interrupt arm of function `fn`. */
// @ts-ignore: decorator
@inline
export function interruptArm(fn: u32): FaultArm {
  return changetype<FaultArm>(record(fn));
}

/** The DMA arm of function `fn`. */
// @ts-ignore: decorator
@inline
export function dmaArm(fn: u32): FaultArm {
  return changetype<FaultArm>(record(fn) + DMA_ARM_OFFSET);
}

/** True when anything is armed on function `fn`'s interrupts (the hot path's one test). */
// @ts-ignore: decorator
@inline
export function interruptArmed(fn: u32): bool {
  return load<u32>(record(fn)) != 0;
}

/** True when anything is armed on function `fn`'s DMA (the hot path's one test). */
// @ts-ignore: decorator
@inline
export function dmaArmed(fn: u32): bool {
  return load<u32>(record(fn) + DMA_ARM_OFFSET) != 0;
}

/** 1 while function `fn`'s INTx assertion is kept off the line. */
// @ts-ignore: decorator
@inline
export function intxHeld(fn: u32): u32 {
  return load<u32>(record(fn) + INTX_HELD_OFFSET);
}

/** Keeps function `fn`'s INTx assertion off the line (1) or lets it through (0). */
export function setIntxHeld(fn: u32, held: u32): void {
  store<u32>(record(fn) + INTX_HELD_OFFSET, held);
}

/** Clears every arm and seeds the fault generator from the machine's 64-bit seed. */
export function faultsReset(seed: u64): void {
  memory.fill(FAULT_TABLE_BASE, 0, FAULT_TABLE_SIZE);
  // A stream apart from the device models' generator: same seed, different sequence.
  store<u64>(FAULT_TABLE_BASE, splitmix(seed ^ 0x6A09E667F3BCC909));
}

/** Next 32 random bits of the fault generator (SplitMix64). */
function faultDraw(): u32 {
  const s = load<u64>(FAULT_TABLE_BASE) + 0x9E3779B97F4A7C15;
  store<u64>(FAULT_TABLE_BASE, s);
  return <u32>(splitmix(s) >> 32);
}

/**
 * Arms `arm` with `action` (0 disarms) for `count` faults (0 disarms), hitting matching
 * events (`filter`) after letting `skip` pass; with `chance` each later matching event is
 * hit when a draw is below `threshold` (of 2^32). `delayPs` is the delay of a delaying action.
 */
export function armFault(arm: FaultArm, action: u32, count: u32, skip: u32, chance: u32, threshold: u32, filter: u32, delayPs: u64): void {
  if (action == 0 || count == 0) { arm.action = 0; return; }
  arm.remaining = count;
  arm.skip = skip;
  arm.chance = chance;
  arm.threshold = threshold;
  arm.filter = filter;
  arm.delayPs = delayPs;
  arm.action = action;
}

/**
 * Whether `arm` hits the event that matches `kind` (a filter bit): the arm's action, or 0.
 * A hit counts down the arm, and the last hit disarms it.
 */
export function armFires(arm: FaultArm, kind: u32): u32 {
  const action = arm.action;
  if (action == 0 || (arm.filter & kind) == 0) return 0;
  if (arm.skip != 0) { arm.skip--; return 0; }
  if (arm.chance != 0 && faultDraw() >= arm.threshold) return 0;
  if (--arm.remaining == 0) arm.action = 0;
  return action;
}

/** Counts and traces a fault injected into function `fn` (`what` a FAULT_*; b and c as each says). */
export function noteInjected(fn: u32, what: u32, b: u64, c: u64): void {
  count(C_FAULTS_INJECTED);
  trace(core.nowPs, TR_FAULT, fn, what, b, c);
}
