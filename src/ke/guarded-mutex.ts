/**
 * Guarded mutexes: KGUARDED_MUTEX, KeInitializeGuardedMutex, KeAcquireGuardedMutex,
 * KeTryToAcquireGuardedMutex, KeReleaseGuardedMutex, KeAcquireGuardedMutexUnsafe and
 * KeReleaseGuardedMutexUnsafe. Acquiring enters a guarded region (every kernel APC
 * disabled) that releasing leaves; the IRQL does not change. The Unsafe forms enter no
 * region and need the caller at APC_LEVEL or in a guarded region. Not recursive: the owner
 * acquiring it again waits for itself forever (under the verifier's deadlock detection,
 * 0xC4 / 0x1000). All routines need IRQL <= APC_LEVEL (0xC4 / IrqlKeApcLte1 under the
 * verifier). Waiters get it in the order they came.
 */
import { APC_LEVEL } from "./irql.js";
import { KE, type Kernel } from "./kernel.js";
import { releaseOwnedLock, tryTakeOwnedLock, waitForLock, type OwnedLock } from "./lock-waiters.js";
import { combinedApcDisable, threadAddress, type KTHREAD } from "./scheduler.js";
import {
  DDI_RULE_IRQL_KE_APC_LTE1, VERIFIER_RELEASE_UNACQUIRED, VERIFIER_SELF_DEADLOCK, VERIFIER_UNSAFE_MUTEX_ACQUIRE, VERIFIER_UNSAFE_MUTEX_RELEASE,
  VERIFIER_WRONG_THREAD_RELEASE, verifierViolation,
} from "./sync-verifier.js";

/** sizeof(KGUARDED_MUTEX) on x64, bytes. */
const KGUARDED_MUTEX_SIZE = 0x38;

/** KGUARDED_MUTEX: an exclusive lock whose owner runs in a guarded region. */
export class KGUARDED_MUTEX implements OwnedLock {
  Count = 1;
  Owner: KTHREAD | null = null;
  Contention = 0;
  readonly waiters: KTHREAD[] = [];
  /** Kernel-space address, for bug check parameters. */
  address = 0;
}

/** KeInitializeGuardedMutex: a free guarded mutex. */
export function KeInitializeGuardedMutex(Mutex: KGUARDED_MUTEX): void {
  const k = KE();
  k.chargePs(k.cost.KeInitializeEvent);
  Mutex.Count = 1;
  Mutex.Owner = null;
  Mutex.Contention = 0;
  Mutex.waiters.length = 0;
  if (Mutex.address === 0) Mutex.address = k.objectAddress(KGUARDED_MUTEX_SIZE);
}

/** Under the verifier, the IRQL rule every guarded mutex routine has. */
function checkIrql(k: Kernel): void {
  if (k.cpu.irql > APC_LEVEL) verifierViolation(k, DDI_RULE_IRQL_KE_APC_LTE1, 0, 0, 0);
}

/** Takes `m` for the executing thread, waiting while another thread owns it; recursion is a self-deadlock. */
function acquire(k: Kernel, m: KGUARDED_MUTEX): Promise<void> {
  const thread = k.cpu.CurrentThread!;
  if (tryTakeOwnedLock(m, thread)) return Promise.resolve();
  if (m.Owner === thread) verifierViolation(k, VERIFIER_SELF_DEADLOCK, m.address, 0, 0);
  m.Contention++;
  return waitForLock(k, m.waiters, true, "KGUARDED_MUTEX").then(() => undefined);
}

/** Under the verifier, a release by a thread that does not own `m`: 0xC4 / 0x1007 if no one does, else 0x1004. */
function checkOwner(k: Kernel, m: KGUARDED_MUTEX): void {
  const thread = k.cpu.CurrentThread;
  if (m.Owner === thread) return;
  if (m.Owner === null) verifierViolation(k, VERIFIER_RELEASE_UNACQUIRED, m.address, 0, 0);
  else verifierViolation(k, VERIFIER_WRONG_THREAD_RELEASE, m.address, threadAddress(m.Owner), thread ? threadAddress(thread) : 0);
}

/** Under the verifier, an Unsafe routine called below APC_LEVEL outside a guarded region: 0xC4 with `subcode`. */
function checkUnsafe(k: Kernel, subcode: number, m: KGUARDED_MUTEX): void {
  const thread = k.cpu.CurrentThread;
  if (k.cpu.irql === APC_LEVEL || (thread !== null && k.cpu.irql < APC_LEVEL && thread.SpecialApcDisable !== 0)) return;
  verifierViolation(k, subcode, k.cpu.irql, thread ? combinedApcDisable(thread) : 0, m.address);
}

/** KeAcquireGuardedMutex: enters a guarded region and takes the mutex, waiting while another thread owns it. */
export function KeAcquireGuardedMutex(Mutex: KGUARDED_MUTEX): Promise<void> {
  const k = KE();
  checkIrql(k);
  k.chargePs(k.cost.ExAcquireFastMutex);
  const thread = k.cpu.CurrentThread;
  if (thread) thread.SpecialApcDisable--;
  return acquire(k, Mutex);
}

/**
 * KeTryToAcquireGuardedMutex: takes the mutex if it is free and returns TRUE (the caller
 * is then in a guarded region); otherwise returns FALSE and changes nothing.
 */
export function KeTryToAcquireGuardedMutex(Mutex: KGUARDED_MUTEX): boolean {
  const k = KE();
  checkIrql(k);
  k.chargePs(k.cost.ExAcquireFastMutex);
  const thread = k.cpu.CurrentThread!;
  if (!tryTakeOwnedLock(Mutex, thread)) return false;
  thread.SpecialApcDisable--;
  return true;
}

/**
 * KeReleaseGuardedMutex: releases the mutex (the first waiter owns it next) and leaves the
 * guarded region its acquisition entered. The owner must call it (0xC4 / 0x1004, or
 * 0x1007 if no one owns it, under the verifier).
 */
export function KeReleaseGuardedMutex(Mutex: KGUARDED_MUTEX): void {
  const k = KE();
  checkIrql(k);
  checkOwner(k, Mutex);
  k.chargePs(k.cost.ExReleaseFastMutex);
  releaseOwnedLock(k, Mutex);
  const thread = k.cpu.CurrentThread;
  if (thread) thread.SpecialApcDisable++;
}

/**
 * KeAcquireGuardedMutexUnsafe: takes the mutex without entering a guarded region; the
 * caller must be at APC_LEVEL or in one (0xC4 / 0x39 under the verifier, P2 IRQL, P3 APC
 * disable count, P4 the mutex).
 */
export function KeAcquireGuardedMutexUnsafe(FastMutex: KGUARDED_MUTEX): Promise<void> {
  const k = KE();
  checkIrql(k);
  checkUnsafe(k, VERIFIER_UNSAFE_MUTEX_ACQUIRE, FastMutex);
  k.chargePs(k.cost.ExAcquireFastMutex);
  return acquire(k, FastMutex);
}

/** KeReleaseGuardedMutexUnsafe: releases a mutex taken with KeAcquireGuardedMutexUnsafe (0xC4 / 0x3A for the region rule). */
export function KeReleaseGuardedMutexUnsafe(FastMutex: KGUARDED_MUTEX): void {
  const k = KE();
  checkIrql(k);
  checkUnsafe(k, VERIFIER_UNSAFE_MUTEX_RELEASE, FastMutex);
  checkOwner(k, FastMutex);
  k.chargePs(k.cost.ExReleaseFastMutex);
  releaseOwnedLock(k, FastMutex);
}
