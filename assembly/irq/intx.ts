// INTx: a function's level-triggered interrupt pin. The device drives its output level;
// the status register's interrupt bit follows it, and the line is signalled only while
// the command register's interrupt-disable bit is clear and MSI and MSI-X are off.
// Signalled lines reach the IOAPIC, shared: an input is high while any function on it is.

import { functionCount, functionTopology, pciFunction, NO_PARENT } from "../pci/function";
import { ioapicSetLevel, IOAPIC_INPUTS, PCI_INTX_FIRST_GSI } from "./ioapic";
import { configPeek, configSetBits } from "../pci/config";
import { CFG_COMMAND, CFG_STATUS, CFG_INTERRUPT_PIN, CMD_INTERRUPT_DISABLE, STS_INTERRUPT } from "../pci/header";
import { core, count, C_INTX_ASSERTS } from "../sim/core";
import { trace, TR_INTX } from "../sim/trace";
import { msiEnabled } from "./msi";
import { msixEnabled } from "../pci/msix";
import { INTX_SIGNALLED_BASE, MAX_FUNCTIONS } from "../memmap";
import { schedule } from "../sim/queue";
import { EV_FAULT_TIMER } from "../sim/events";
import {
  armFires, interruptArm, interruptArmed, intxHeld, noteInjected, setIntxHeld, FAULT_INTX_DELAYED, FAULT_INTX_DROPPED,
  FAULT_INTX_DUPLICATED, FAULT_MATCH_INTX, INTERRUPT_FAULT_DELAY, INTERRUPT_FAULT_DROP, INTERRUPT_FAULT_DUPLICATE,
} from "../pci/injected-faults";

/** EV_FAULT_TIMER: a held-back INTx assertion reaches the line. */
export const FAULT_TIMER_INTX_RELEASE: u32 = 1;
/** EV_FAULT_TIMER: a duplicated INTx assertion: the line falls and rises again. */
export const FAULT_TIMER_INTX_REPEAT: u32 = 2;
/** How long after the assertion a duplicated INTx edge comes (ps): 1 us. */
const INTX_REPEAT_AFTER_PS: u64 = 1_000_000;

const SIGNALLED_BASE: u32 = INTX_SIGNALLED_BASE;

/** True while function `fn` signals its INTx line to the interrupt controller. */
export function intxSignalled(fn: u32): bool {
  return (load<u32>(SIGNALLED_BASE + ((fn >> 5) << 2)) & (<u32>1 << (fn & 31))) != 0;
}

/** Recomputes whether function `fn`'s line is signalled from its level, command and MSI state. */
export function intxUpdate(fn: u32): void {
  const f = pciFunction(fn);
  const pin = configPeek(fn, CFG_INTERRUPT_PIN, 1);
  const on = f.intxLevel != 0 && intxHeld(fn) == 0 && pin != 0 && functionTopology(fn).removed == 0
    && (configPeek(fn, CFG_COMMAND, 2) & CMD_INTERRUPT_DISABLE) == 0 && !msiEnabled(fn) && !msixEnabled(fn);
  if (on == intxSignalled(fn)) return;
  const word = SIGNALLED_BASE + ((fn >> 5) << 2);
  const bit: u32 = 1 << (fn & 31);
  store<u32>(word, on ? load<u32>(word) | bit : load<u32>(word) & ~bit);
  if (on) count(C_INTX_ASSERTS);
  trace(core.nowPs, TR_INTX, fn, on ? 1 : 0, pin, 0);
  updateLine(intxGsi(fn));
}

/**
 * The IOAPIC input function `fn`'s INTx pin reaches: the pin is swizzled by device number
 * at every bridge on the way up ((pin - 1 + device) mod 4), and again on the root bus,
 * where INTA..INTD# of the result map to GSI 16..19 (PIRQ A..D). Returns IOAPIC_INPUTS
 * for a function without a pin.
 */
export function intxGsi(fn: u32): u32 {
  let pin = configPeek(fn, CFG_INTERRUPT_PIN, 1);
  if (pin == 0 || pin > 4) return IOAPIC_INPUTS;
  let f = fn;
  while (true) {
    pin = ((pin - 1 + ((pciFunction(f).bdf >> 3) & 0x1F)) & 3) + 1;
    const parent = functionTopology(f).parent;
    if (parent == NO_PARENT) break;
    f = parent;
  }
  return PCI_INTX_FIRST_GSI + pin - 1;
}

/** Drives IOAPIC input `gsi` with the OR of every function signalling INTx to it. */
function updateLine(gsi: u32): void {
  if (gsi >= IOAPIC_INPUTS) return;
  let level = false;
  const n = functionCount();
  for (let i: u32 = 0; i < n && !level; i++) level = intxSignalled(i) && intxGsi(i) == gsi;
  ioapicSetLevel(gsi, level);
}

/** The device drives its INTx output to `level` (1 asserted, 0 deasserted). */
export function intxSetLevel(fn: u32, level: u32): void {
  const f = pciFunction(fn);
  const rising = level != 0 && f.intxLevel == 0;
  f.intxLevel = level;
  configSetBits(fn, CFG_STATUS, STS_INTERRUPT, level != 0);
  if (level == 0) setIntxHeld(fn, 0);
  else if (rising && interruptArmed(fn)) injectIntxFault(fn);
  intxUpdate(fn);
}

/** An assertion of function `fn`'s INTx output meets its interrupt arm: dropped, held back or repeated. */
function injectIntxFault(fn: u32): void {
  const arm = interruptArm(fn);
  const injected = armFires(arm, FAULT_MATCH_INTX);
  if (injected == INTERRUPT_FAULT_DROP) {
    // Kept off the line until the device deasserts: this assertion is never seen.
    setIntxHeld(fn, 1);
    noteInjected(fn, FAULT_INTX_DROPPED, 0, 0);
  } else if (injected == INTERRUPT_FAULT_DELAY) {
    setIntxHeld(fn, 1);
    const rises = core.nowPs + arm.delayPs;
    noteInjected(fn, FAULT_INTX_DELAYED, 0, rises);
    schedule(rises, EV_FAULT_TIMER, fn, FAULT_TIMER_INTX_RELEASE, 0);
  } else if (injected == INTERRUPT_FAULT_DUPLICATE) {
    noteInjected(fn, FAULT_INTX_DUPLICATED, 0, 0);
    schedule(core.nowPs + INTX_REPEAT_AFTER_PS, EV_FAULT_TIMER, fn, FAULT_TIMER_INTX_REPEAT, 0);
  }
}

/** An INTx fault timer of function `fn` fires (`what` a FAULT_TIMER_INTX_*). */
export function intxFaultTimer(fn: u32, what: u32): void {
  if (what == FAULT_TIMER_INTX_RELEASE) {
    // The device may have deasserted meanwhile (intxHeld is then already clear): no edge.
    setIntxHeld(fn, 0);
    intxUpdate(fn);
  } else if (what == FAULT_TIMER_INTX_REPEAT && intxSignalled(fn)) {
    setIntxHeld(fn, 1);
    intxUpdate(fn);
    setIntxHeld(fn, 0);
    intxUpdate(fn);
  }
}

/** Clears every line's signalled state. */
export function intxReset(): void {
  memory.fill(SIGNALLED_BASE, 0, MAX_FUNCTIONS >> 3);
}
