/**
 * Semaphore objects: KSEMAPHORE, KeInitializeSemaphore, KeReleaseSemaphore and
 * KeReadStateSemaphore. The semaphore's count is its signal state: signalled while
 * positive. Each wait it satisfies takes one from the count; a release adds Adjustment and
 * satisfies as many waiters as the count allows, in the order they began waiting.
 */
import { DISPATCHER_HEADER, holdForWaitNext, SemaphoreObject, signal, type DispatcherObject } from "./dispatcher.js";
import { DDI_RULE_IRQL_KE_DISPATCH_LTE } from "./device-queue.js";
import { DISPATCH_LEVEL } from "./irql.js";
import { KE } from "./kernel.js";
import { NtStatusException, STATUS_SEMAPHORE_LIMIT_EXCEEDED } from "./ntstatus.js";
import { verifierViolation } from "./sync-verifier.js";

/** KSEMAPHORE: a counting semaphore. */
export class KSEMAPHORE implements DispatcherObject {
  /** SignalState is the count. */
  readonly Header = new DISPATCHER_HEADER();
  /** The highest count the semaphore may reach. */
  Limit = 0;

  constructor() {
    this.Header.Type = SemaphoreObject;
  }
}

/** KeInitializeSemaphore: a semaphore with count `Count` (signalled if non-zero) that may reach `Limit`. */
export function KeInitializeSemaphore(Semaphore: KSEMAPHORE, Count: number, Limit: number): void {
  const k = KE();
  k.chargePs(k.cost.KeInitializeEvent);
  Semaphore.Header.Type = SemaphoreObject;
  Semaphore.Header.SignalState = Count;
  Semaphore.Header.WaitListHead.length = 0;
  Semaphore.Limit = Limit;
}

/**
 * KeReleaseSemaphore: adds `Adjustment` to the count, satisfies waiters, and returns the
 * previous count (zero: it was not signalled). A count that would pass the limit (or
 * wrap) is left as it was and the routine raises STATUS_SEMAPHORE_LIMIT_EXCEEDED (a
 * thrown NtStatusException; uncaught, 0x1E KMODE_EXCEPTION_NOT_HANDLED). With Wait = TRUE
 * the caller stays at DISPATCH_LEVEL until its next KeWaitXxx. IRQL <= DISPATCH_LEVEL
 * (0xC4 / IrqlKeDispatchLte under the verifier).
 */
export function KeReleaseSemaphore(Semaphore: KSEMAPHORE, Increment: number, Adjustment: number, Wait: boolean): number {
  const k = KE();
  if (k.cpu.irql > DISPATCH_LEVEL) verifierViolation(k, DDI_RULE_IRQL_KE_DISPATCH_LTE, 0, 0, 0);
  k.chargePs(k.cost.KeReleaseSemaphore);
  const h = Semaphore.Header;
  const previous = h.SignalState;
  const count = previous + Adjustment;
  if (count > Semaphore.Limit || count < previous || count > 0x7FFFFFFF) throw new NtStatusException(STATUS_SEMAPHORE_LIMIT_EXCEEDED);
  h.SignalState = count;
  signal(k, h);
  holdForWaitNext(k, Wait);
  return previous;
}

/** KeReadStateSemaphore: the semaphore's current count. */
export function KeReadStateSemaphore(Semaphore: KSEMAPHORE): number {
  return Semaphore.Header.SignalState;
}
