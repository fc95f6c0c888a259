/**
 * Spin locks. Acquiring raises to DISPATCH_LEVEL and returns the old IRQL; releasing
 * restores it. A processor acquiring a lock it holds is 0x0F SPIN_LOCK_ALREADY_OWNED;
 * releasing a lock it does not hold is 0x10 SPIN_LOCK_NOT_OWNED. The ...AtDpcLevel forms
 * need DISPATCH_LEVEL already; in-stack queued locks keep the old IRQL in the handle.
 *
 * Contention: processors run one after another on the host, so a lock is never found
 * held at the moment another processor asks for it. What contention costs in simulated
 * time is still charged: a lock remembers when its last holder took and released it, and
 * a processor that asks for it inside that interval, on its own clock, spins until the
 * release. A lock held by a processor that is not running is never released: the spin
 * ends in the DPC watchdog, 0x133 (P1 0 when a DPC or ISR spins past its own allotment,
 * P1 1 when the cumulative allotment runs out first).
 */
import { DRIVER_VERIFIER_DETECTED_VIOLATION, SPIN_LOCK_ALREADY_OWNED, SPIN_LOCK_NOT_OWNED } from "./bugcheck.js";
import { DISPATCH_LEVEL, type KIRQL } from "./irql.js";
import { KE, type Kernel } from "./kernel.js";
import { lowerTo, raiseTo } from "./level.js";

/** A spin lock. */
export class KSPIN_LOCK {
  /** The owning processor, or -1. */
  owner = -1;
  /** Kernel-space address, for bug check parameters. */
  address = 0;
  /** The last holder and when it held the lock, ps (for contention). */
  lastHolder = -1;
  acquiredAtPs = 0;
  releasedAtPs = 0;
  /** Time processors spent spinning on this lock, ps. */
  spinPs = 0;
}

/** KLOCK_QUEUE_HANDLE: the in-stack queued lock's handle, holding the old IRQL. */
export class KLOCK_QUEUE_HANDLE {
  LockQueue: { Lock: KSPIN_LOCK | null } = { Lock: null };
  OldIrql: KIRQL = 0;
}

/** KeInitializeSpinLock. */
export function KeInitializeSpinLock(SpinLock: KSPIN_LOCK): void {
  SpinLock.owner = -1;
  SpinLock.lastHolder = -1;
  SpinLock.address = KE().objectAddress(8);
}

function take(k: Kernel, lock: KSPIN_LOCK): void {
  const cpu = k.cpu;
  if (lock.owner === cpu.Number) k.bugCheck(SPIN_LOCK_ALREADY_OWNED, lock.address, 0, 0, 0);
  // Held by a processor that is not running: the spin never ends, and the watchdog ends it.
  if (lock.owner >= 0) k.spinUntilWatchdog(cpu);
  if (lock.lastHolder >= 0 && lock.lastHolder !== cpu.Number && cpu.time >= lock.acquiredAtPs && cpu.time < lock.releasedAtPs) {
    const spin = lock.releasedAtPs - cpu.time;
    lock.spinPs += spin;
    k.chargePs(spin);
  }
  lock.owner = cpu.Number;
  lock.acquiredAtPs = cpu.time;
}

function give(k: Kernel, lock: KSPIN_LOCK): void {
  if (lock.owner !== k.cpu.Number) k.bugCheck(SPIN_LOCK_NOT_OWNED, lock.address, 0, 0, 0);
  lock.owner = -1;
  lock.lastHolder = k.cpu.Number;
  lock.releasedAtPs = k.cpu.time;
}

/** 0xC4 P1: KeAcquireSpinLockAtDpcLevel with IRQL < DISPATCH_LEVEL (P2 IRQL, P3 the lock). */
export const VERIFIER_ACQUIRE_AT_DPC_BELOW_DISPATCH = 0x40;
/** 0xC4 P1: KeReleaseSpinLockFromDpcLevel with IRQL < DISPATCH_LEVEL. */
export const VERIFIER_RELEASE_FROM_DPC_BELOW_DISPATCH = 0x41;
/** 0xC4 P1: KeAcquireSpinLock with IRQL > DISPATCH_LEVEL. */
export const VERIFIER_ACQUIRE_ABOVE_DISPATCH = 0x42;

/** Under the verifier, `code` (P2 the IRQL, P3 the lock) when `wrong`. */
function checkIrql(k: Kernel, wrong: boolean, code: number, lock: KSPIN_LOCK): void {
  if (wrong && k.verifier) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, code, k.cpu.irql, lock.address, 0);
}

/**
 * KeAcquireSpinLock: raises to DISPATCH_LEVEL, takes the lock (spinning if another
 * processor holds it), returns the old IRQL. Above DISPATCH_LEVEL it is 0xC4 / 0x42 under
 * the verifier.
 */
export function KeAcquireSpinLock(SpinLock: KSPIN_LOCK): KIRQL {
  const k = KE();
  checkIrql(k, k.cpu.irql > DISPATCH_LEVEL, VERIFIER_ACQUIRE_ABOVE_DISPATCH, SpinLock);
  const old = raiseTo(k, DISPATCH_LEVEL);
  k.chargePs(k.cost.KeAcquireSpinLock);
  take(k, SpinLock);
  return old;
}

/** KeAcquireSpinLockRaiseToDpc: the same as KeAcquireSpinLock. */
export const KeAcquireSpinLockRaiseToDpc = KeAcquireSpinLock;

/** KeReleaseSpinLock: releases the lock and returns to `NewIrql`. */
export function KeReleaseSpinLock(SpinLock: KSPIN_LOCK, NewIrql: KIRQL): void {
  const k = KE();
  give(k, SpinLock);
  k.chargePs(k.cost.KeReleaseSpinLock);
  lowerTo(k, k.cpu, NewIrql);
}

/**
 * KiAcquireSpinLock: the kernel's own raw acquire — takes the lock at whatever IRQL the
 * caller is at (the ExInterlocked list routines, which Windows allows at any IRQL, run
 * with interrupts off around it). Not a driver routine: no IRQL rule applies.
 */
export function KiAcquireSpinLock(SpinLock: KSPIN_LOCK): void {
  const k = KE();
  k.chargePs(k.cost.KeAcquireSpinLock);
  take(k, SpinLock);
}

/** KiReleaseSpinLock: the kernel's own raw release, at any IRQL. */
export function KiReleaseSpinLock(SpinLock: KSPIN_LOCK): void {
  const k = KE();
  give(k, SpinLock);
  k.chargePs(k.cost.KeReleaseSpinLock);
}

/** KeAcquireSpinLockAtDpcLevel: takes the lock without changing IRQL (caller is at DISPATCH_LEVEL; below it, 0xC4 / 0x40 under the verifier). */
export function KeAcquireSpinLockAtDpcLevel(SpinLock: KSPIN_LOCK): void {
  const k = KE();
  checkIrql(k, k.cpu.irql < DISPATCH_LEVEL, VERIFIER_ACQUIRE_AT_DPC_BELOW_DISPATCH, SpinLock);
  k.chargePs(k.cost.KeAcquireSpinLock);
  take(k, SpinLock);
}

/** KeReleaseSpinLockFromDpcLevel: releases the lock without changing IRQL (below DISPATCH_LEVEL, 0xC4 / 0x41 under the verifier). */
export function KeReleaseSpinLockFromDpcLevel(SpinLock: KSPIN_LOCK): void {
  const k = KE();
  checkIrql(k, k.cpu.irql < DISPATCH_LEVEL, VERIFIER_RELEASE_FROM_DPC_BELOW_DISPATCH, SpinLock);
  give(k, SpinLock);
  k.chargePs(k.cost.KeReleaseSpinLock);
}

/**
 * KeTryToAcquireSpinLockAtDpcLevel: takes the lock if no other processor holds it (on
 * its clock: the last holder's interval counts as held) and returns TRUE; else FALSE.
 */
export function KeTryToAcquireSpinLockAtDpcLevel(SpinLock: KSPIN_LOCK): boolean {
  const k = KE();
  k.chargePs(k.cost.KeAcquireSpinLock);
  const cpu = k.cpu;
  if (SpinLock.owner === cpu.Number) k.bugCheck(SPIN_LOCK_ALREADY_OWNED, SpinLock.address, 0, 0, 0);
  const busy = SpinLock.owner >= 0
    || (SpinLock.lastHolder >= 0 && SpinLock.lastHolder !== cpu.Number && cpu.time >= SpinLock.acquiredAtPs && cpu.time < SpinLock.releasedAtPs);
  if (busy) return false;
  SpinLock.owner = cpu.Number;
  SpinLock.acquiredAtPs = cpu.time;
  return true;
}

/** KeAcquireInStackQueuedSpinLock: raises to DISPATCH_LEVEL, takes the lock; the old IRQL goes in the handle. */
export function KeAcquireInStackQueuedSpinLock(SpinLock: KSPIN_LOCK, LockHandle: KLOCK_QUEUE_HANDLE): void {
  LockHandle.LockQueue.Lock = SpinLock;
  LockHandle.OldIrql = KeAcquireSpinLock(SpinLock);
}

/** KeReleaseInStackQueuedSpinLock: releases the handle's lock and returns to its old IRQL. */
export function KeReleaseInStackQueuedSpinLock(LockHandle: KLOCK_QUEUE_HANDLE): void {
  KeReleaseSpinLock(LockHandle.LockQueue.Lock!, LockHandle.OldIrql);
}

/** KeAcquireInStackQueuedSpinLockAtDpcLevel: takes the lock at DISPATCH_LEVEL; the IRQL stays. */
export function KeAcquireInStackQueuedSpinLockAtDpcLevel(SpinLock: KSPIN_LOCK, LockHandle: KLOCK_QUEUE_HANDLE): void {
  LockHandle.LockQueue.Lock = SpinLock;
  KeAcquireSpinLockAtDpcLevel(SpinLock);
}

/** KeReleaseInStackQueuedSpinLockFromDpcLevel. */
export function KeReleaseInStackQueuedSpinLockFromDpcLevel(LockHandle: KLOCK_QUEUE_HANDLE): void {
  KeReleaseSpinLockFromDpcLevel(LockHandle.LockQueue.Lock!);
}
