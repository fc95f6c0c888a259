/**
 * Push locks: EX_PUSH_LOCK, ExInitializePushLock, ExAcquirePushLockExclusive,
 * ExAcquirePushLockShared, ExReleasePushLockExclusive and ExReleasePushLockShared.
 * Reader/writer locks without owners: not recursive (a holder acquiring again waits
 * forever). Callers need normal kernel APCs disabled (a critical region; 0xC4 / 0xEA and
 * 0xEB under the verifier). Waiters queue first come first, and a shared acquisition
 * waits behind any waiter: a release grants the first waiter, with every shared waiter
 * right behind a shared one.
 */
import { KE, type Kernel } from "./kernel.js";
import { waitForLock, wakeLockWaiter } from "./lock-waiters.js";
import type { KTHREAD } from "./scheduler.js";
import { requireApcsDisabled, VERIFIER_PUSH_LOCK_ACQUIRE_APCS_ENABLED, VERIFIER_PUSH_LOCK_RELEASE_APCS_ENABLED } from "./sync-verifier.js";

/** sizeof(EX_PUSH_LOCK) on x64, bytes. */
const EX_PUSH_LOCK_SIZE = 8;

/** EX_PUSH_LOCK: a pointer-sized reader/writer lock. */
export class EX_PUSH_LOCK {
  /** Held exclusive. */
  Locked = false;
  /** Shared holders. */
  SharedCount = 0;
  /** Threads waiting, first come first (KTHREAD.lockWaitExclusive says how). */
  readonly waiters: KTHREAD[] = [];
  /** Kernel-space address, for bug check parameters. */
  address = 0;
}

/** ExInitializePushLock: a free push lock. */
export function ExInitializePushLock(PushLock: EX_PUSH_LOCK): void {
  const k = KE();
  PushLock.Locked = false;
  PushLock.SharedCount = 0;
  PushLock.waiters.length = 0;
  if (PushLock.address === 0) PushLock.address = k.objectAddress(EX_PUSH_LOCK_SIZE);
}

function begin(k: Kernel, p: EX_PUSH_LOCK, subcode: number, cost: number): void {
  requireApcsDisabled(k, k.cpu.CurrentThread, subcode, p.address);
  k.chargePs(cost);
}

/** ExAcquirePushLockExclusive: takes the lock exclusive, waiting while anyone holds it or waits for it. */
export function ExAcquirePushLockExclusive(PushLock: EX_PUSH_LOCK): Promise<void> {
  const k = KE();
  begin(k, PushLock, VERIFIER_PUSH_LOCK_ACQUIRE_APCS_ENABLED, k.cost.ExAcquirePushLock);
  if (!PushLock.Locked && PushLock.SharedCount === 0 && PushLock.waiters.length === 0) {
    PushLock.Locked = true;
    return Promise.resolve();
  }
  return waitForLock(k, PushLock.waiters, true, "EX_PUSH_LOCK").then(() => undefined);
}

/** ExAcquirePushLockShared: takes the lock shared, waiting while it is held exclusive or anyone waits for it. */
export function ExAcquirePushLockShared(PushLock: EX_PUSH_LOCK): Promise<void> {
  const k = KE();
  begin(k, PushLock, VERIFIER_PUSH_LOCK_ACQUIRE_APCS_ENABLED, k.cost.ExAcquirePushLock);
  if (!PushLock.Locked && PushLock.waiters.length === 0) {
    PushLock.SharedCount++;
    return Promise.resolve();
  }
  return waitForLock(k, PushLock.waiters, false, "EX_PUSH_LOCK").then(() => undefined);
}

/** Grants the free lock to the first waiter (exclusive), or to every shared waiter at the head of the queue. */
function grant(k: Kernel, p: EX_PUSH_LOCK): void {
  const first = p.waiters[0];
  if (!first) return;
  if (first.lockWaitExclusive) {
    p.waiters.shift();
    p.Locked = true;
    wakeLockWaiter(k, first);
    return;
  }
  while (p.waiters.length > 0 && !p.waiters[0].lockWaitExclusive) {
    p.SharedCount++;
    wakeLockWaiter(k, p.waiters.shift()!);
  }
}

/** ExReleasePushLockExclusive: releases an exclusive hold and grants the lock to its waiters. */
export function ExReleasePushLockExclusive(PushLock: EX_PUSH_LOCK): void {
  const k = KE();
  begin(k, PushLock, VERIFIER_PUSH_LOCK_RELEASE_APCS_ENABLED, k.cost.ExReleasePushLock);
  PushLock.Locked = false;
  grant(k, PushLock);
}

/** ExReleasePushLockShared: releases one shared hold; the last one grants the lock to its waiters. */
export function ExReleasePushLockShared(PushLock: EX_PUSH_LOCK): void {
  const k = KE();
  begin(k, PushLock, VERIFIER_PUSH_LOCK_RELEASE_APCS_ENABLED, k.cost.ExReleasePushLock);
  if (PushLock.SharedCount > 0) PushLock.SharedCount--;
  if (PushLock.SharedCount === 0) grant(k, PushLock);
}
