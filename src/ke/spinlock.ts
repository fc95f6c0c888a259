/**
 * Spin locks. Acquiring raises to DISPATCH_LEVEL and returns the old IRQL; releasing
 * restores it. A processor acquiring a lock it holds is 0x0F SPIN_LOCK_ALREADY_OWNED;
 * releasing a lock it does not hold is 0x10 SPIN_LOCK_NOT_OWNED.
 */
import { DPC_WATCHDOG_VIOLATION, SPIN_LOCK_ALREADY_OWNED, SPIN_LOCK_NOT_OWNED } from "./bugcheck.js";
import { DISPATCH_LEVEL, type KIRQL } from "./irql.js";
import { KE, type Kernel } from "./kernel.js";
import { lowerTo } from "./level.js";

/** A spin lock: the owning processor, or -1. */
export class KSPIN_LOCK {
  owner = -1;
  /** Kernel-space address, for bug check parameters. */
  address = 0;
}

/** KeInitializeSpinLock. */
export function KeInitializeSpinLock(SpinLock: KSPIN_LOCK): void {
  SpinLock.owner = -1;
  SpinLock.address = KE().objectAddress(8);
}

function take(k: Kernel, lock: KSPIN_LOCK): void {
  const cpu = k.cpu.Number;
  if (lock.owner === cpu) k.bugCheck(SPIN_LOCK_ALREADY_OWNED, lock.address, 0, 0, 0);
  if (lock.owner >= 0) {
    // Held by a processor that is not running: the spin never ends, and the DPC
    // watchdog ends it.
    k.bugCheck(DPC_WATCHDOG_VIOLATION, 1, 0, 0, 0);
  }
  lock.owner = cpu;
}

function give(k: Kernel, lock: KSPIN_LOCK): void {
  if (lock.owner !== k.cpu.Number) k.bugCheck(SPIN_LOCK_NOT_OWNED, lock.address, 0, 0, 0);
  lock.owner = -1;
}

/** KeAcquireSpinLock: raises to DISPATCH_LEVEL, takes the lock, returns the old IRQL. */
export function KeAcquireSpinLock(SpinLock: KSPIN_LOCK): KIRQL {
  const k = KE();
  const old = k.cpu.irql;
  if (old < DISPATCH_LEVEL) k.cpu.irql = DISPATCH_LEVEL;
  k.charge("KeAcquireSpinLock");
  take(k, SpinLock);
  return old;
}

/** KeReleaseSpinLock: releases the lock and returns to `NewIrql`. */
export function KeReleaseSpinLock(SpinLock: KSPIN_LOCK, NewIrql: KIRQL): void {
  const k = KE();
  give(k, SpinLock);
  k.charge("KeReleaseSpinLock");
  lowerTo(k, k.cpu, NewIrql);
}

/** KeAcquireSpinLockAtDpcLevel: takes the lock without changing IRQL (caller is at DISPATCH_LEVEL). */
export function KeAcquireSpinLockAtDpcLevel(SpinLock: KSPIN_LOCK): void {
  const k = KE();
  k.charge("KeAcquireSpinLock");
  take(k, SpinLock);
}

/** KeReleaseSpinLockFromDpcLevel: releases the lock without changing IRQL. */
export function KeReleaseSpinLockFromDpcLevel(SpinLock: KSPIN_LOCK): void {
  const k = KE();
  give(k, SpinLock);
  k.charge("KeReleaseSpinLock");
}
