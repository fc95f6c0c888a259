// QEMU's `edu` teaching device, register-exact (shared/specs/edu.md). Timing is ours:
// factorial steps and DMA setup cost device-clock cycles; DMA goes through the bus-master
// port and the function's link; interrupts are MSI (one vector) or INTA#.
//
//   EduState (EDU_STATE_BYTES), buffer of EDU_BUFFER_SIZE bytes at EDU_BUFFER_OFFSET
//   +0  liveness   u32   stored bitwise NOT of the last write to 0x04
//   +4  factorial  u32
//   +8  status     u32   STATUS_COMPUTING | STATUS_IRQ_FACTORIAL
//   +12 irqStatus  u32
//   +16 dmaSrc     u64
//   +24 dmaDst     u64
//   +32 dmaCount   u64
//   +40 dmaCmd     u64
//   +48 cyclesPerStep  u32   device cycles per factorial multiplication
//   +52 dmaSetupCycles u32   device cycles from the command write to the first TLP

import { core, count, C_DEVICE_ERRORS } from "../sim/core";
import { schedule } from "../sim/queue";
import { EV_DEVICE } from "../sim/events";
import { cyclesToPs } from "../sim/clock";
import { trace, TR_DEVICE_ERROR } from "../sim/trace";
import { pciFunction, functionClock } from "../pci/function";
import { dmaRead, dmaWrite } from "../dma/port";
import { msiEnabled, msiSignal } from "../irq/msi";
import { intxSetLevel } from "../irq/intx";
import { deviceParam } from "../platform/config";

@unmanaged
class EduState {
  liveness: u32;
  factorial: u32;
  status: u32;
  irqStatus: u32;
  dmaSrc: u64;
  dmaDst: u64;
  dmaCount: u64;
  dmaCmd: u64;
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

/** Model parameter 0: device cycles per factorial multiplication step. */
export const EDU_PARAM_CYCLES_PER_STEP: u32 = 0;
/** Model parameter 1: device cycles from a DMA command to its first TLP. */
export const EDU_PARAM_DMA_SETUP_CYCLES: u32 = 1;

const EV_FACTORIAL_DONE: u32 = 1;
const EV_DMA_START: u32 = 2;
const EV_DMA_DONE: u32 = 3;

const EDU_BUFFER_OFFSET: u32 = 64;
/** Bytes of model state per edu function. */
export const EDU_STATE_BYTES: u32 = EDU_BUFFER_OFFSET + EDU_BUFFER_SIZE;

// @ts-ignore: decorator
@inline function state(fn: u32): EduState {
  return changetype<EduState>(pciFunction(fn).state);
}

/** Initialises the model from the staged DeviceConfig's parameters. */
export function eduInit(fn: u32): void {
  const s = state(fn);
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

function raise(fn: u32, s: EduState, bits: u32): void {
  s.irqStatus |= bits;
  if (s.irqStatus == 0) return;
  if (msiEnabled(fn)) msiSignal(fn, 0);
  else intxSetLevel(fn, 1);
}

function acknowledge(fn: u32, s: EduState, bits: u32): void {
  s.irqStatus &= ~bits;
  if (s.irqStatus == 0 && !msiEnabled(fn)) intxSetLevel(fn, 0);
}

function deviceError(fn: u32, code: u32, arg: u64): void {
  count(C_DEVICE_ERRORS);
  trace(core.nowPs, TR_DEVICE_ERROR, fn, code, arg, 0);
}

/** MMIO read of `size` bytes at BAR0 `offset`. */
export function eduRead(fn: u32, offset: u32, size: u32): u64 {
  const ones: u64 = size == 8 ? 0xFFFFFFFFFFFFFFFF : 0xFFFFFFFF;
  if (offset < 0x80 ? size != 4 : size != 4 && size != 8) return ones;
  const s = state(fn);
  let v: u64;
  switch (offset) {
    case EDU_IDENTIFICATION: v = EDU_ID_VALUE; break;
    case EDU_LIVENESS: v = s.liveness; break;
    case EDU_FACTORIAL: v = s.factorial; break;
    case EDU_STATUS: v = s.status; break;
    case EDU_IRQ_STATUS: v = s.irqStatus; break;
    case EDU_DMA_SOURCE: v = s.dmaSrc; break;
    case EDU_DMA_DESTINATION: v = s.dmaDst; break;
    case EDU_DMA_COUNT: v = s.dmaCount; break;
    case EDU_DMA_COMMAND: v = s.dmaCmd; break;
    default: return ones;
  }
  return size == 4 ? v & 0xFFFFFFFF : v;
}

/** MMIO write of `size` bytes at BAR0 `offset` (arrives at the device now). */
export function eduWrite(fn: u32, offset: u32, size: u32, value: u64): void {
  if (offset < 0x80 ? size != 4 : size != 4 && size != 8) return;
  const s = state(fn);
  const v32 = <u32>value;
  switch (offset) {
    case EDU_LIVENESS: s.liveness = ~v32; break;
    case EDU_FACTORIAL: {
      if ((s.status & EDU_STATUS_COMPUTING) != 0) break;
      s.factorial = v32;
      s.status |= EDU_STATUS_COMPUTING;
      const steps = <u64>v32 * <u64>s.cyclesPerStep;
      schedule(core.nowPs + cyclesToPs(functionClock(fn), steps), EV_DEVICE, fn, EV_FACTORIAL_DONE, 0);
      break;
    }
    case EDU_STATUS: {
      if ((v32 & EDU_STATUS_IRQ_FACTORIAL) != 0) s.status |= EDU_STATUS_IRQ_FACTORIAL;
      else s.status &= ~EDU_STATUS_IRQ_FACTORIAL;
      break;
    }
    case EDU_IRQ_RAISE: raise(fn, s, v32); break;
    case EDU_IRQ_ACK: acknowledge(fn, s, v32); break;
    case EDU_DMA_SOURCE: if ((s.dmaCmd & EDU_DMA_RUN) == 0) s.dmaSrc = value; break;
    case EDU_DMA_DESTINATION: if ((s.dmaCmd & EDU_DMA_RUN) == 0) s.dmaDst = value; break;
    case EDU_DMA_COUNT: if ((s.dmaCmd & EDU_DMA_RUN) == 0) s.dmaCount = value; break;
    case EDU_DMA_COMMAND: {
      if ((s.dmaCmd & EDU_DMA_RUN) != 0 || (value & EDU_DMA_RUN) == 0) break;
      s.dmaCmd = value;
      schedule(core.nowPs + cyclesToPs(functionClock(fn), s.dmaSetupCycles), EV_DEVICE, fn, EV_DMA_START, 0);
      break;
    }
    default: break;
  }
}

function startDma(fn: u32, s: EduState): void {
  const toRam = (s.dmaCmd & EDU_DMA_TO_RAM) != 0;
  const deviceSide = toRam ? s.dmaSrc : s.dmaDst;
  const ramSide = toRam ? s.dmaDst : s.dmaSrc;
  const n = s.dmaCount;
  if (deviceSide < EDU_BUFFER_ADDRESS || n > <u64>EDU_BUFFER_SIZE
      || deviceSide - EDU_BUFFER_ADDRESS > <u64>EDU_BUFFER_SIZE - n) {
    deviceError(fn, EDU_ERROR_DMA_RANGE, deviceSide);
    s.dmaCmd &= ~EDU_DMA_RUN;
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
  if (code == EV_FACTORIAL_DONE) {
    s.factorial = factorial32(s.factorial);
    s.status &= ~EDU_STATUS_COMPUTING;
    if ((s.status & EDU_STATUS_IRQ_FACTORIAL) != 0) raise(fn, s, EDU_IRQ_FACTORIAL);
  } else if (code == EV_DMA_START) {
    startDma(fn, s);
  } else if (code == EV_DMA_DONE) {
    s.dmaCmd &= ~EDU_DMA_RUN;
    if ((s.dmaCmd & EDU_DMA_IRQ) != 0) raise(fn, s, EDU_IRQ_DMA);
  }
}
