/**
 * Fast mutexes: FAST_MUTEX, ExInitializeFastMutex, ExAcquireFastMutex,
 * ExTryToAcquireFastMutex, ExReleaseFastMutex, ExAcquireFastMutexUnsafe and
 * ExReleaseFastMutexUnsafe. ExAcquireFastMutex raises to APC_LEVEL and keeps the old IRQL
 * in the mutex until ExReleaseFastMutex restores it; the Unsafe forms leave the IRQL alone
 * and need the caller at APC_LEVEL or in a critical region. A fast mutex is not recursive:
 * its owner acquiring it again waits for itself forever (under the verifier's deadlock
 * detection, 0xC4 / 0x1000). Waiters get it in the order they came.
 */
import { APC_LEVEL, PASSIVE_LEVEL, type KIRQL } from "./irql.js";
import { KE, type Kernel } from "./kernel.js";
import { lowerTo, raiseTo } from "./level.js";
import { releaseOwnedLock, tryTakeOwnedLock, waitForLock, type OwnedLock } from "./lock-waiters.js";
import type { KTHREAD } from "./scheduler.js";
import { combinedApcDisable, threadAddress } from "./scheduler.js";
import {
  VERIFIER_FAST_MUTEX_ACQUIRE_IRQL, VERIFIER_FAST_MUTEX_RELEASE_IRQL, VERIFIER_RELEASE_UNACQUIRED, VERIFIER_SELF_DEADLOCK,
  VERIFIER_UNSAFE_MUTEX_ACQUIRE, VERIFIER_UNSAFE_MUTEX_RELEASE, VERIFIER_WRONG_THREAD_RELEASE, verifierViolation,
} from "./sync-verifier.js";

/** sizeof(FAST_MUTEX) on x64, bytes. */
const FAST_MUTEX_SIZE = 0x38;

/** FAST_MUTEX: an exclusive lock whose owner runs at APC_LEVEL (or in a critical region, for the Unsafe forms). */
export class FAST_MUTEX implements OwnedLock {
  Count = 1;
  Owner: KTHREAD | null = null;
  Contention = 0;
  /** The IRQL ExAcquireFastMutex raised from (restored by ExReleaseFastMutex). */
  OldIrql: KIRQL = PASSIVE_LEVEL;
  readonly waiters: KTHREAD[] = [];
  /** Kernel-space address, for bug check parameters. */
  address = 0;
}

/** The executing thread, for a routine that needs one. */
function currentThread(k: Kernel): KTHREAD {
  return k.cpu.CurrentThread!;
}

/** ExInitializeFastMutex: a free fast mutex. */
export function ExInitializeFastMutex(FastMutex: FAST_MUTEX): void {
  const k = KE();
  k.chargePs(k.cost.KeInitializeEvent);
  FastMutex.Count = 1;
  FastMutex.Owner = null;
  FastMutex.Contention = 0;
  FastMutex.waiters.length = 0;
  if (FastMutex.address === 0) FastMutex.address = k.objectAddress(FAST_MUTEX_SIZE);
}

/** Takes `m` for the executing thread, waiting while another thread owns it; recursion is a self-deadlock. */
function acquire(k: Kernel, m: FAST_MUTEX): Promise<unknown> | null {
  const thread = currentThread(k);
  if (thread !== null && tryTakeOwnedLock(m, thread)) return null;
  if (thread !== null && m.Owner === thread) verifierViolation(k, VERIFIER_SELF_DEADLOCK, m.address, 0, 0);
  m.Contention++;
  return waitForLock(k, m.waiters, true, "FAST_MUTEX");
}

/** Under the verifier, a release by a thread that does not own `m`: 0xC4 / 0x1007 if no one does, else 0x1004. */
function checkOwner(k: Kernel, m: FAST_MUTEX): void {
  const thread = currentThread(k);
  if (m.Owner === thread) return;
  if (m.Owner === null) verifierViolation(k, VERIFIER_RELEASE_UNACQUIRED, m.address, 0, 0);
  else verifierViolation(k, VERIFIER_WRONG_THREAD_RELEASE, m.address, threadAddress(m.Owner), thread ? threadAddress(thread) : 0);
}

/**
 * ExAcquireFastMutex: raises to APC_LEVEL and takes the mutex, waiting while another
 * thread owns it; the old IRQL is kept in the mutex. IRQL <= APC_LEVEL (0xC4 / 0x33 under
 * the verifier, P2 IRQL, P3 the mutex).
 */
export function ExAcquireFastMutex(FastMutex: FAST_MUTEX): Promise<void> {
  const k = KE();
  if (k.cpu.irql > APC_LEVEL) verifierViolation(k, VERIFIER_FAST_MUTEX_ACQUIRE_IRQL, k.cpu.irql, FastMutex.address, 0);
  k.chargePs(k.cost.ExAcquireFastMutex);
  const old = raiseTo(k, APC_LEVEL);
  const waited = acquire(k, FastMutex);
  if (waited === null) {
    FastMutex.OldIrql = old;
    return Promise.resolve();
  }
  return waited.then(() => {
    FastMutex.OldIrql = old;
  });
}

/**
 * ExTryToAcquireFastMutex: takes the mutex at once if it is free (raising to APC_LEVEL,
 * the old IRQL kept in the mutex) and returns TRUE; otherwise returns FALSE and changes
 * nothing. IRQL <= APC_LEVEL (0xC4 / 0x33 under the verifier).
 */
export function ExTryToAcquireFastMutex(FastMutex: FAST_MUTEX): boolean {
  const k = KE();
  if (k.cpu.irql > APC_LEVEL) verifierViolation(k, VERIFIER_FAST_MUTEX_ACQUIRE_IRQL, k.cpu.irql, FastMutex.address, 0);
  k.chargePs(k.cost.ExAcquireFastMutex);
  if (FastMutex.Count !== 1) return false;
  const old = raiseTo(k, APC_LEVEL);
  tryTakeOwnedLock(FastMutex, currentThread(k));
  FastMutex.OldIrql = old;
  return true;
}

/**
 * ExReleaseFastMutex: releases the mutex (the first waiter owns it next) and returns to
 * the IRQL the acquisition raised from. Must be called at APC_LEVEL (0xC4 / 0x34 under
 * the verifier) by the owner (0xC4 / 0x1004, or 0x1007 if no one owns it).
 */
export function ExReleaseFastMutex(FastMutex: FAST_MUTEX): void {
  const k = KE();
  if (k.cpu.irql !== APC_LEVEL) verifierViolation(k, VERIFIER_FAST_MUTEX_RELEASE_IRQL, k.cpu.irql, FastMutex.address, 0);
  checkOwner(k, FastMutex);
  k.chargePs(k.cost.ExReleaseFastMutex);
  const old = FastMutex.OldIrql;
  releaseOwnedLock(k, FastMutex);
  lowerTo(k, k.cpu, old);
}

/** Under the verifier, an Unsafe routine called below APC_LEVEL outside any critical region: 0xC4 with `subcode`. */
function checkUnsafe(k: Kernel, subcode: number, m: FAST_MUTEX): void {
  const thread = currentThread(k);
  if (k.cpu.irql === APC_LEVEL || (thread !== null && k.cpu.irql < APC_LEVEL && (thread.KernelApcDisable !== 0 || thread.SpecialApcDisable !== 0))) return;
  verifierViolation(k, subcode, k.cpu.irql, thread ? combinedApcDisable(thread) : 0, m.address);
}

/**
 * ExAcquireFastMutexUnsafe: takes the mutex without changing the IRQL, waiting while
 * another thread owns it. The caller must be at APC_LEVEL or in a critical region (0xC4 /
 * 0x39 under the verifier, P2 IRQL, P3 APC disable count, P4 the mutex).
 */
export function ExAcquireFastMutexUnsafe(FastMutex: FAST_MUTEX): Promise<void> {
  const k = KE();
  checkUnsafe(k, VERIFIER_UNSAFE_MUTEX_ACQUIRE, FastMutex);
  k.chargePs(k.cost.ExAcquireFastMutex);
  const waited = acquire(k, FastMutex);
  return waited === null ? Promise.resolve() : waited.then(() => undefined);
}

/**
 * ExReleaseFastMutexUnsafe: releases a mutex taken with ExAcquireFastMutexUnsafe, without
 * changing the IRQL. Same IRQL and region rule (0xC4 / 0x3A under the verifier) and owner
 * rule as ExReleaseFastMutex.
 */
export function ExReleaseFastMutexUnsafe(FastMutex: FAST_MUTEX): void {
  const k = KE();
  checkUnsafe(k, VERIFIER_UNSAFE_MUTEX_RELEASE, FastMutex);
  checkOwner(k, FastMutex);
  k.chargePs(k.cost.ExReleaseFastMutex);
  releaseOwnedLock(k, FastMutex);
}
