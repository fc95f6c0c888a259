/**
 * Thread priorities: KeSetPriorityThread and KeQueryPriorityThread. Priorities run from
 * LOW_PRIORITY (0) to HIGH_PRIORITY (31); 16 and above are real-time. The scheduler runs a
 * ready thread of higher priority before one of lower priority that became ready no later
 * than it; a thread runs until it waits, so a change never preempts a running thread.
 */
import { KE } from "./kernel.js";
import type { KTHREAD } from "./scheduler.js";

/** KPRIORITY: a thread priority, 0..31. */
export type KPRIORITY = number;

/** The lowest priority (reserved for the system's idle work). */
export const LOW_PRIORITY: KPRIORITY = 0;
/** The lowest real-time priority. */
export const LOW_REALTIME_PRIORITY: KPRIORITY = 16;
/** The highest priority. */
export const HIGH_PRIORITY: KPRIORITY = 31;
/** The number of priority levels. */
export const MAXIMUM_PRIORITY: KPRIORITY = 32;

/** KeSetPriorityThread: sets `Thread`'s priority and returns the old one. IRQL PASSIVE_LEVEL. */
export function KeSetPriorityThread(Thread: KTHREAD, Priority: KPRIORITY): KPRIORITY {
  const k = KE();
  k.chargePs(k.cost.KeSetPriorityThread);
  const old = Thread.Priority;
  Thread.Priority = Priority;
  return old;
}

/** KeQueryPriorityThread: `Thread`'s current priority. */
export function KeQueryPriorityThread(Thread: KTHREAD): KPRIORITY {
  return Thread.Priority;
}
