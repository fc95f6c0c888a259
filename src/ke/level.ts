/** IRQL control: KeGetCurrentIrql, KeRaiseIrql, KeLowerIrql, and lowering's side effects. */
import { DRIVER_VERIFIER_DETECTED_VIOLATION, IRQL_NOT_GREATER_OR_EQUAL } from "./bugcheck.js";
import { DISPATCH_LEVEL, HIGH_LEVEL, type KIRQL } from "./irql.js";
import { KE, type Kernel, type KPRCB } from "./kernel.js";
import { dispatchInterrupts } from "./interrupt.js";
import { drainDpcs } from "./dpc.js";

/** Verifier 0xC4 subcode: KeRaiseIrql to a lower IRQL. */
export const VERIFIER_RAISE_TO_LOWER = 0x30;
/** Verifier 0xC4 subcode: KeLowerIrql to a higher IRQL. */
export const VERIFIER_LOWER_TO_HIGHER = 0x31;

/**
 * Lowers `cpu` to `level` and runs what becomes deliverable: interrupts above the new
 * level, then the DPC queue when the level drops below DISPATCH_LEVEL (where an explored
 * schedule may also preempt the thread).
 */
export function lowerTo(k: Kernel, cpu: KPRCB, level: KIRQL): void {
  cpu.irql = level;
  const v = k.core.highestPending(cpu.Number);
  if (v !== 0 && v >> 4 > level) dispatchInterrupts(k, cpu);
  if (level < DISPATCH_LEVEL && cpu.DpcQueue.length > 0 && !cpu.DpcRoutineActive) drainDpcs(k, cpu);
  // Below DISPATCH_LEVEL the thread may be preempted again: a point for an explored schedule.
  if (level < DISPATCH_LEVEL && k.explorer !== null) k.explorer.point(cpu);
}

/** KeGetCurrentIrql: the executing processor's IRQL. */
export function KeGetCurrentIrql(): KIRQL {
  const k = KE();
  k.chargePs(k.cost.KeGetCurrentIrql);
  return k.cpu.irql;
}

/**
 * KeRaiseIrql: raises to `NewIrql` and returns the old IRQL. Raising to a lower level is
 * bug check 0x9 (0xC4 / 0x30 under Driver Verifier).
 */
export function KeRaiseIrql(NewIrql: KIRQL): KIRQL {
  const k = KE();
  const old = raiseTo(k, NewIrql);
  k.chargePs(k.cost.KeRaiseIrql);
  return old;
}

/** Raises the executing processor to `NewIrql` with KeRaiseIrql's rule check; returns the old IRQL. */
export function raiseTo(k: Kernel, NewIrql: KIRQL): KIRQL {
  const cpu = k.cpu;
  const old = cpu.irql;
  if (!Number.isInteger(NewIrql) || NewIrql < old || NewIrql > HIGH_LEVEL) {
    if (k.verifier) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_RAISE_TO_LOWER, old, NewIrql, 0);
    k.bugCheck(IRQL_NOT_GREATER_OR_EQUAL, old, NewIrql, 0, 0);
  }
  cpu.irql = NewIrql;
  return old;
}

/**
 * KeLowerIrql: lowers to `NewIrql`; pending interrupts and DPCs that become deliverable
 * run before it returns. Lowering to a higher level is 0xC4 / 0x31 under Driver Verifier
 * (without it, Windows simply loads the new level).
 */
export function KeLowerIrql(NewIrql: KIRQL): void {
  const k = KE();
  const cpu = k.cpu;
  if (NewIrql > cpu.irql && k.verifier) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_LOWER_TO_HIGHER, cpu.irql, NewIrql, 0);
  k.chargePs(k.cost.KeLowerIrql);
  lowerTo(k, cpu, NewIrql);
}
