// QEMU's `edu` teaching device, register-exact (shared/specs/edu.md). Timing is ours:
// factorial steps and DMA setup cost device-clock cycles; DMA goes through the bus-master
// port and the function's link; interrupts are MSI (one vector) or INTA# (or MSI-X
// vector 0, for a device file that gives it an MSI-X capability).
//
//   EduState (EDU_STATE_BYTES); DMA buffer of EDU_BUFFER_SIZE bytes at EDU_BUFFER_OFFSET
//   +0  registers      u64 x EDU_REGISTER_COUNT   current values, in EDU_REGISTERS order
//   +96 cyclesPerStep  u32   device cycles per factorial multiplication
//   +100 dmaSetupCycles u32  device cycles from the command write to the first TLP

import { core, count, C_DEVICE_ERRORS } from "../sim/core";
import { schedule } from "../sim/queue";
import { EV_DEVICE } from "../sim/events";
import { cyclesToPs } from "../sim/clock";
import { trace, TR_DEVICE_ERROR } from "../sim/trace";
import { pciFunction, functionClock } from "../pci/function";
import { dmaRead, dmaWrite, DMA_OK } from "../dma/port";
import { messagesEnabled, signalMessage } from "../irq/signal";
import { intxSetLevel } from "../irq/intx";
import { deviceParam } from "../platform/config";
import {
  registerFind, registerRead, registerReset, registerSet, registerValue, registerWrite, REG_WRITE_ONLY, REG_ZERO_EXTEND, SIZE_4, SIZE_8,
} from "./registers";

const EDU_REGISTER_COUNT: u32 = 11;

@unmanaged
class EduState {
  r0: u64; r1: u64; r2: u64; r3: u64; r4: u64; r5: u64; r6: u64; r7: u64; r8: u64; r9: u64; r10: u64;
  cyclesPerStep: u32;
  dmaSetupCycles: u32;
}

// Register map (BAR0).
/** Identification (RO). */
export const EDU_IDENTIFICATION: u32 = 0x00;
/** Liveness check (RW: stores the bitwise NOT). */
export const EDU_LIVENESS: u32 = 0x04;
/** Factorial (RW). */
export const EDU_FACTORIAL: u32 = 0x08;
/** Status (RW: bit 0x01 computing is read-only). */
export const EDU_STATUS: u32 = 0x20;
/** Interrupt status (RO). */
export const EDU_IRQ_STATUS: u32 = 0x24;
/** Interrupt raise (WO). */
export const EDU_IRQ_RAISE: u32 = 0x60;
/** Interrupt acknowledge (WO). */
export const EDU_IRQ_ACK: u32 = 0x64;
/** DMA source address (RW, 64-bit). */
export const EDU_DMA_SOURCE: u32 = 0x80;
/** DMA destination address (RW, 64-bit). */
export const EDU_DMA_DESTINATION: u32 = 0x88;
/** DMA transfer count (RW, 64-bit). */
export const EDU_DMA_COUNT: u32 = 0x90;
/** DMA command (RW). */
export const EDU_DMA_COMMAND: u32 = 0x98;

/** Value of the identification register: major 1, minor 0. */
export const EDU_ID_VALUE: u32 = 0x010000ED;
/** Status: factorial computing. */
export const EDU_STATUS_COMPUTING: u32 = 0x01;
/** Status: raise interrupt 0x001 when the factorial is done. */
export const EDU_STATUS_IRQ_FACTORIAL: u32 = 0x80;
/** Interrupt status: factorial done. */
export const EDU_IRQ_FACTORIAL: u32 = 0x001;
/** Interrupt status: DMA done. */
export const EDU_IRQ_DMA: u32 = 0x100;
/** DMA command: start (reads as set while running). */
export const EDU_DMA_RUN: u64 = 0x1;
/** DMA command: direction, 0 RAM to device, 1 device to RAM. */
export const EDU_DMA_TO_RAM: u64 = 0x2;
/** DMA command: raise interrupt 0x100 when done. */
export const EDU_DMA_IRQ: u64 = 0x4;
// Register rows: offset, accepted sizes, flags, reset value, writable mask, w1c mask.
const ALL: u64 = 0xFFFFFFFFFFFFFFFF;
const EDU_REGISTERS: usize = memory.data<u64>([
  EDU_IDENTIFICATION, SIZE_4, 0, EDU_ID_VALUE, 0, 0,
  EDU_LIVENESS, SIZE_4, 0, 0, 0xFFFFFFFF, 0,                  // holds the NOT of the write
  EDU_FACTORIAL, SIZE_4, 0, 0, 0xFFFFFFFF, 0,
  EDU_STATUS, SIZE_4, 0, 0, EDU_STATUS_IRQ_FACTORIAL, 0,      // 0x01 computing is read-only
  EDU_IRQ_STATUS, SIZE_4, 0, 0, 0, 0,
  EDU_IRQ_RAISE, SIZE_4, REG_WRITE_ONLY, 0, 0, 0,
  EDU_IRQ_ACK, SIZE_4, REG_WRITE_ONLY, 0, 0, 0,
  EDU_DMA_SOURCE, SIZE_4 | SIZE_8, REG_ZERO_EXTEND, 0, ALL, 0,
  EDU_DMA_DESTINATION, SIZE_4 | SIZE_8, REG_ZERO_EXTEND, 0, ALL, 0,
  EDU_DMA_COUNT, SIZE_4 | SIZE_8, REG_ZERO_EXTEND, 0, ALL, 0,
  EDU_DMA_COMMAND, SIZE_4 | SIZE_8, REG_ZERO_EXTEND, 0, ALL, 0,
]);

// Row indices.
const R_LIVENESS: u32 = 1;
const R_FACTORIAL: u32 = 2;
const R_STATUS: u32 = 3;
const R_IRQ_STATUS: u32 = 4;
const R_IRQ_RAISE: u32 = 5;
const R_IRQ_ACK: u32 = 6;
const R_DMA_SOURCE: u32 = 7;
const R_DMA_DESTINATION: u32 = 8;
const R_DMA_COUNT: u32 = 9;
const R_DMA_COMMAND: u32 = 10;

/** Device address of the DMA buffer. */
export const EDU_BUFFER_ADDRESS: u64 = 0x40000;
/** Bytes of the DMA buffer. */
export const EDU_BUFFER_SIZE: u32 = 4096;
/** The DMA mask: RAM-side addresses are truncated to 28 bits. */
export const EDU_DMA_MASK: u64 = (<u64>1 << 28) - 1;

/** Device error: a DMA whose device-side range falls outside the buffer was refused. */
export const EDU_ERROR_DMA_RANGE: u32 = 1;
/** Device error: a RAM-side DMA address was truncated to the 28-bit mask. */
export const EDU_ERROR_DMA_CLAMPED: u32 = 2;
/** Device error: a DMA transfer came back with an error completion (b = its DMA_* status); its register map has no error bit, so the transfer ends as usual. */
export const EDU_ERROR_DMA_FAILED: u32 = 3;

/** Model parameter 0: device cycles per factorial multiplication step. */
export const EDU_PARAM_CYCLES_PER_STEP: u32 = 0;
/** Model parameter 1: device cycles from a DMA command to its first TLP. */
export const EDU_PARAM_DMA_SETUP_CYCLES: u32 = 1;

const EV_FACTORIAL_DONE: u32 = 1;
const EV_DMA_START: u32 = 2;
const EV_DMA_DONE: u32 = 3;

const EDU_BUFFER_OFFSET: u32 = 128;
/** Bytes of model state per edu function. */
export const EDU_STATE_BYTES: u32 = EDU_BUFFER_OFFSET + EDU_BUFFER_SIZE;

// @ts-ignore: decorator
@inline function state(fn: u32): EduState {
  return changetype<EduState>(pciFunction(fn).state);
}

/** Initialises the model from the staged DeviceConfig's parameters. */
export function eduInit(fn: u32): void {
  const s = state(fn);
  registerReset(EDU_REGISTERS, changetype<usize>(s), EDU_REGISTER_COUNT);
  s.cyclesPerStep = deviceParam(EDU_PARAM_CYCLES_PER_STEP);
  s.dmaSetupCycles = deviceParam(EDU_PARAM_DMA_SETUP_CYCLES);
}

/** n! in 32-bit unsigned arithmetic (0! = 1; every n >= 34 wraps to 0). */
export function factorial32(n: u32): u32 {
  if (n >= 34) return 0;
  let r: u32 = 1;
  for (let i: u32 = 2; i <= n; i++) r *= i;
  return r;
}

// @ts-ignore: decorator
@inline function regs(s: EduState): usize {
  return changetype<usize>(s);
}

function raise(fn: u32, s: EduState, bits: u64): void {
  const status = registerValue(regs(s), R_IRQ_STATUS) | (bits & 0xFFFFFFFF);
  registerSet(regs(s), R_IRQ_STATUS, status);
  if (status == 0) return;
  if (!signalMessage(fn, 0)) intxSetLevel(fn, 1);
}

function acknowledge(fn: u32, s: EduState, bits: u64): void {
  const status = registerValue(regs(s), R_IRQ_STATUS) & ~bits;
  registerSet(regs(s), R_IRQ_STATUS, status);
  if (status == 0 && !messagesEnabled(fn)) intxSetLevel(fn, 0);
}

function deviceError(fn: u32, code: u32, arg: u64): void {
  count(C_DEVICE_ERRORS);
  trace(core.nowPs, TR_DEVICE_ERROR, fn, code, arg, 0);
}

// @ts-ignore: decorator
@inline function dmaRunning(s: EduState): bool {
  return (registerValue(regs(s), R_DMA_COMMAND) & EDU_DMA_RUN) != 0;
}

/** MMIO read of `size` bytes at BAR0 `offset`: all ones for sizes a register refuses and offsets it does not decode. */
export function eduRead(fn: u32, offset: u32, size: u32): u64 {
  const i = registerFind(EDU_REGISTERS, EDU_REGISTER_COUNT, offset, size);
  if (i < 0) return size >= 8 ? 0xFFFFFFFFFFFFFFFF : ((<u64>1 << (<u64>size << 3)) - 1);
  return registerRead(EDU_REGISTERS, regs(state(fn)), <u32>i, size);
}

/** Whether the device takes a write to row `i` now (the rules that depend on its state). */
function accepts(s: EduState, i: u32, value: u64): bool {
  if (i == R_FACTORIAL) return (registerValue(regs(s), R_STATUS) & EDU_STATUS_COMPUTING) == 0;
  if (i >= R_DMA_SOURCE && dmaRunning(s)) return false;
  if (i == R_DMA_COMMAND) return (value & EDU_DMA_RUN) != 0;
  return true;
}

/** MMIO write of `size` bytes at BAR0 `offset` (arrives at the device now). */
export function eduWrite(fn: u32, offset: u32, size: u32, value: u64): void {
  const found = registerFind(EDU_REGISTERS, EDU_REGISTER_COUNT, offset, size);
  if (found < 0) return;
  const i = <u32>found;
  const s = state(fn);
  if (!accepts(s, i, value)) return;
  registerWrite(EDU_REGISTERS, regs(s), i, size, value);
  const v = registerValue(regs(s), i);
  if (i == R_LIVENESS) {
    registerSet(regs(s), i, ~v & 0xFFFFFFFF);
  } else if (i == R_FACTORIAL) {
    registerSet(regs(s), R_STATUS, registerValue(regs(s), R_STATUS) | EDU_STATUS_COMPUTING);
    const steps = v * <u64>s.cyclesPerStep;
    schedule(core.nowPs + cyclesToPs(functionClock(fn), steps), EV_DEVICE, fn, EV_FACTORIAL_DONE, 0);
  } else if (i == R_IRQ_RAISE) {
    raise(fn, s, value);
  } else if (i == R_IRQ_ACK) {
    acknowledge(fn, s, value);
  } else if (i == R_DMA_COMMAND) {
    schedule(core.nowPs + cyclesToPs(functionClock(fn), s.dmaSetupCycles), EV_DEVICE, fn, EV_DMA_START, 0);
  }
}

function startDma(fn: u32, s: EduState): void {
  const r = regs(s);
  const toRam = (registerValue(r, R_DMA_COMMAND) & EDU_DMA_TO_RAM) != 0;
  const deviceSide = toRam ? registerValue(r, R_DMA_SOURCE) : registerValue(r, R_DMA_DESTINATION);
  const ramSide = toRam ? registerValue(r, R_DMA_DESTINATION) : registerValue(r, R_DMA_SOURCE);
  const n = registerValue(r, R_DMA_COUNT);
  if (deviceSide < EDU_BUFFER_ADDRESS || n > <u64>EDU_BUFFER_SIZE
      || deviceSide - EDU_BUFFER_ADDRESS > <u64>EDU_BUFFER_SIZE - n) {
    deviceError(fn, EDU_ERROR_DMA_RANGE, deviceSide);
    registerSet(r, R_DMA_COMMAND, registerValue(r, R_DMA_COMMAND) & ~EDU_DMA_RUN);
    return;
  }
  const clamped = ramSide & EDU_DMA_MASK;
  if (clamped != ramSide) deviceError(fn, EDU_ERROR_DMA_CLAMPED, ramSide);
  const buffer = changetype<usize>(s) + EDU_BUFFER_OFFSET + <usize>(deviceSide - EDU_BUFFER_ADDRESS);
  if (toRam) dmaWrite(fn, clamped, buffer, <u32>n, EV_DMA_DONE);
  else dmaRead(fn, clamped, buffer, <u32>n, EV_DMA_DONE);
}

/** Device-internal event `code` (with `arg`) for function `fn`. */
export function eduEvent(fn: u32, code: u32, arg: u64): void {
  const s = state(fn);
  const r = regs(s);
  if (code == EV_FACTORIAL_DONE) {
    registerSet(r, R_FACTORIAL, factorial32(<u32>registerValue(r, R_FACTORIAL)));
    const status = registerValue(r, R_STATUS) & ~EDU_STATUS_COMPUTING;
    registerSet(r, R_STATUS, status);
    if ((status & EDU_STATUS_IRQ_FACTORIAL) != 0) raise(fn, s, EDU_IRQ_FACTORIAL);
  } else if (code == EV_DMA_START) {
    startDma(fn, s);
  } else if (code == EV_DMA_DONE) {
    if (<u32>arg != DMA_OK) deviceError(fn, EDU_ERROR_DMA_FAILED, arg);
    const command = registerValue(r, R_DMA_COMMAND) & ~EDU_DMA_RUN;
    registerSet(r, R_DMA_COMMAND, command);
    if ((command & EDU_DMA_IRQ) != 0) raise(fn, s, EDU_IRQ_DMA);
  }
}
