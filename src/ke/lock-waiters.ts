/**
 * How executive locks (fast and guarded mutexes, resources, push locks) make threads wait:
 * a thread that cannot have a lock joins the lock's FIFO of waiters and gives up its
 * processor; the thread that releases the lock grants it to waiters in the order they came
 * and wakes them, so a woken thread owns the lock already. Waiting needs a thread below
 * DISPATCH_LEVEL (else 0xA IRQL_NOT_LESS_OR_EQUAL, as for any wait there).
 */
import { IRQL_NOT_LESS_OR_EQUAL } from "./bugcheck.js";
import { DISPATCH_LEVEL } from "./irql.js";
import type { Kernel } from "./kernel.js";
import { STATUS_SUCCESS, type NTSTATUS } from "./ntstatus.js";
import type { KTHREAD } from "./scheduler.js";

/** Blocks the executing thread on `waiters` until a release grants it the lock; `exclusive` says how it wants it. */
export function waitForLock(k: Kernel, waiters: KTHREAD[], exclusive: boolean, what: string): Promise<NTSTATUS> {
  const cpu = k.cpu;
  const thread = cpu.CurrentThread;
  if (cpu.irql >= DISPATCH_LEVEL || thread === null) k.bugCheck(IRQL_NOT_LESS_OR_EQUAL, 0, cpu.irql, 0, 0);
  k.chargePs(k.cost.KeWaitForSingleObject);
  thread.lockWaitExclusive = exclusive;
  waiters.push(thread);
  return thread.block(what);
}

/** Wakes `thread`, to which the releasing thread has just granted a lock. */
export function wakeLockWaiter(k: Kernel, thread: KTHREAD): void {
  thread.WaitStatus = STATUS_SUCCESS;
  k.scheduler.makeReady(thread, k.cpu.time);
}

/** An exclusive lock with an owner: the part fast and guarded mutexes share. */
export interface OwnedLock {
  /** 1 while free, 0 while owned. */
  Count: number;
  /** The owning thread, or null. */
  Owner: KTHREAD | null;
  /** How many times a thread had to wait for it. */
  Contention: number;
  /** Threads waiting for it, first come first. */
  readonly waiters: KTHREAD[];
}

/** Takes `lock` for `thread` if it is free; returns whether it did. */
export function tryTakeOwnedLock(lock: OwnedLock, thread: KTHREAD): boolean {
  if (lock.Count !== 1) return false;
  lock.Count = 0;
  lock.Owner = thread;
  return true;
}

/** Gives `lock` up: the first waiter owns it next (and is woken), or it becomes free. */
export function releaseOwnedLock(k: Kernel, lock: OwnedLock): void {
  const next = lock.waiters.shift();
  if (next) {
    lock.Owner = next;
    wakeLockWaiter(k, next);
  } else {
    lock.Owner = null;
    lock.Count = 1;
  }
}
