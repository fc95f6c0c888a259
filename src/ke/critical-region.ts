/**
 * Critical and guarded regions: KeEnterCriticalRegion / KeLeaveCriticalRegion (normal
 * kernel APCs disabled, counted in KTHREAD.KernelApcDisable), KeEnterGuardedRegion /
 * KeLeaveGuardedRegion (every kernel APC disabled, counted in SpecialApcDisable),
 * KeAreApcsDisabled and KeAreAllApcsDisabled. Regions nest; each enter needs its leave,
 * and a thread that ends inside one is bug check 0x20 KERNEL_APC_PENDING_DURING_EXIT.
 *
 * The kernel APCs this kernel delivers (I/O completions) are special kernel APCs: a
 * guarded region holds them back until it ends, a critical region does not.
 */
import { APC_LEVEL } from "./irql.js";
import { KE } from "./kernel.js";
import {
  VERIFIER_ENTER_CRITICAL_REGION_IRQL, VERIFIER_LEAVE_CRITICAL_REGION_IRQL, VERIFIER_LEAVE_CRITICAL_REGION_NOT_ENTERED, verifierViolation,
} from "./sync-verifier.js";

/**
 * KeEnterCriticalRegion: disables normal kernel APCs for the calling thread until the
 * matching KeLeaveCriticalRegion. IRQL <= APC_LEVEL (0xC4 / 0x11A under the verifier).
 */
export function KeEnterCriticalRegion(): void {
  const k = KE();
  k.chargePs(k.cost.KeEnterCriticalRegion);
  if (k.cpu.irql > APC_LEVEL) verifierViolation(k, VERIFIER_ENTER_CRITICAL_REGION_IRQL, k.cpu.irql, 0, 0);
  const thread = k.cpu.CurrentThread;
  if (thread) thread.KernelApcDisable--;
}

/**
 * KeLeaveCriticalRegion: leaves the innermost critical region. IRQL <= APC_LEVEL (0xC4 /
 * 0x11B under the verifier); leaving when in none is 0xC4 / 0x3E under the verifier.
 */
export function KeLeaveCriticalRegion(): void {
  const k = KE();
  k.chargePs(k.cost.KeEnterCriticalRegion);
  if (k.cpu.irql > APC_LEVEL) verifierViolation(k, VERIFIER_LEAVE_CRITICAL_REGION_IRQL, k.cpu.irql, 0, 0);
  const thread = k.cpu.CurrentThread;
  if (!thread) return;
  if (thread.KernelApcDisable >= 0) verifierViolation(k, VERIFIER_LEAVE_CRITICAL_REGION_NOT_ENTERED, 0, 0, 0);
  thread.KernelApcDisable++;
}

/** KeEnterGuardedRegion: disables every kernel APC for the calling thread until KeLeaveGuardedRegion. IRQL <= APC_LEVEL. */
export function KeEnterGuardedRegion(): void {
  const k = KE();
  k.chargePs(k.cost.KeEnterCriticalRegion);
  const thread = k.cpu.CurrentThread;
  if (thread) thread.SpecialApcDisable--;
}

/** KeLeaveGuardedRegion: leaves the innermost guarded region. IRQL <= APC_LEVEL. */
export function KeLeaveGuardedRegion(): void {
  const k = KE();
  k.chargePs(k.cost.KeEnterCriticalRegion);
  const thread = k.cpu.CurrentThread;
  if (thread) thread.SpecialApcDisable++;
}

/** KeAreApcsDisabled: TRUE if the calling thread is in a critical region or a guarded region. */
export function KeAreApcsDisabled(): boolean {
  const thread = KE().cpu.CurrentThread;
  return thread !== null && (thread.KernelApcDisable !== 0 || thread.SpecialApcDisable !== 0);
}

/** KeAreAllApcsDisabled: TRUE if the calling thread is in a guarded region or runs at IRQL >= APC_LEVEL. */
export function KeAreAllApcsDisabled(): boolean {
  const k = KE();
  const thread = k.cpu.CurrentThread;
  return k.cpu.irql >= APC_LEVEL || (thread !== null && thread.SpecialApcDisable !== 0);
}
