/**
 * Kernel mutex objects: KMUTEX, KeInitializeMutex, KeReleaseMutex and KeReadStateMutex
 * (acquired with KeWaitForSingleObject, KeWaitForMutexObject or KeWaitForMultipleObjects).
 * The owner may acquire it again (each acquisition needs its release); while a thread owns
 * one it is in a critical region (normal kernel APCs disabled). Releasing a mutex the
 * thread does not own raises STATUS_MUTANT_NOT_OWNED. A thread cannot end holding one:
 * its APC disable count is not zero then, bug check 0x20 KERNEL_APC_PENDING_DURING_EXIT,
 * so a kernel mutex is never abandoned.
 */
import { holdForWaitNext, MUTANT_HEADER, MutantObject, signal, type DispatcherObject } from "./dispatcher.js";
import { DDI_RULE_IRQL_KE_DISPATCH_LTE } from "./device-queue.js";
import { DISPATCH_LEVEL } from "./irql.js";
import { KE } from "./kernel.js";
import { NtStatusException, STATUS_ABANDONED, STATUS_MUTANT_NOT_OWNED } from "./ntstatus.js";
import type { KTHREAD } from "./scheduler.js";
import { verifierViolation } from "./sync-verifier.js";

/** KMUTEX: a kernel mutex (a mutant whose owner runs in a critical region). */
export class KMUTEX implements DispatcherObject {
  /** SignalState 1 while free, 1 - (acquisitions) while owned. */
  readonly Header = new MUTANT_HEADER();

  constructor() {
    this.Header.Type = MutantObject;
  }

  /** The owning thread, or null while free. */
  get OwnerThread(): KTHREAD | null {
    return this.Header.OwnerThread;
  }

  /** TRUE if the owner ended without releasing it. */
  get Abandoned(): boolean {
    return this.Header.Abandoned;
  }
}

/** KeInitializeMutex: a free (signalled) mutex. `Level` is ignored, as on Windows. */
export function KeInitializeMutex(Mutex: KMUTEX, Level: number): void {
  const k = KE();
  k.chargePs(k.cost.KeInitializeEvent);
  const h = Mutex.Header;
  h.Type = MutantObject;
  h.SignalState = 1;
  h.OwnerThread = null;
  h.Abandoned = false;
  h.ApcDisable = 1;
  h.WaitListHead.length = 0;
}

/**
 * KeReleaseMutex: gives back one acquisition; the last one frees the mutex (the owner
 * leaves its critical region) and the first waiter takes it. Returns the previous signal
 * state (0: the mutex is now free and signalled). A thread that does not own the mutex
 * raises STATUS_MUTANT_NOT_OWNED (STATUS_ABANDONED for an abandoned one): a thrown
 * NtStatusException, 0x1E if uncaught. With Wait = TRUE the caller stays at
 * DISPATCH_LEVEL until its next KeWaitXxx. IRQL <= DISPATCH_LEVEL (0xC4 / IrqlKeDispatchLte
 * under the verifier).
 */
export function KeReleaseMutex(Mutex: KMUTEX, Wait: boolean): number {
  const k = KE();
  if (k.cpu.irql > DISPATCH_LEVEL) verifierViolation(k, DDI_RULE_IRQL_KE_DISPATCH_LTE, 0, 0, 0);
  k.chargePs(k.cost.KeReleaseMutex);
  const h = Mutex.Header;
  const thread = k.cpu.CurrentThread;
  if (thread === null || h.OwnerThread !== thread) throw new NtStatusException(h.Abandoned ? STATUS_ABANDONED : STATUS_MUTANT_NOT_OWNED);
  const previous = h.SignalState;
  h.SignalState++;
  if (h.SignalState === 1) {
    h.OwnerThread = null;
    thread.KernelApcDisable += h.ApcDisable;
    signal(k, h);
  }
  holdForWaitNext(k, Wait);
  return previous;
}

/** KeReadStateMutex: the mutex's signal state (1: free). */
export function KeReadStateMutex(Mutex: KMUTEX): number {
  return Mutex.Header.SignalState;
}
