/**
 * Wait blocks (KWAIT_BLOCK): one per object a waiting thread names, queued on the
 * object's wait list. A thread has THREAD_WAIT_OBJECTS of its own; a wait on more objects
 * needs the caller's WaitBlockArray, and no wait may name more than MAXIMUM_WAIT_OBJECTS.
 */
import type { DISPATCHER_HEADER } from "./dispatcher.js";
import type { KTHREAD } from "./scheduler.js";

/** THREAD_WAIT_OBJECTS: the most objects a wait may name without a WaitBlockArray. */
export const THREAD_WAIT_OBJECTS = 3;

/** MAXIMUM_WAIT_OBJECTS: the most objects one wait may name at all. */
export const MAXIMUM_WAIT_OBJECTS = 64;

/** KWAIT_BLOCK: one object of one thread's wait. */
export class KWAIT_BLOCK {
  /** The waiting thread (null while the block is unused). */
  Thread: KTHREAD | null = null;
  /** The header of the object waited on. */
  Object: DISPATCHER_HEADER | null = null;
  /** Index of the object in the wait (the wait ends with STATUS_WAIT_0 + WaitKey for WaitAny). */
  WaitKey = 0;
  /** WAIT_TYPE of the wait: WaitAll (0) or WaitAny (1). */
  WaitType = 1;
  /** The blocks of the whole wait (this one among them), for a WaitAll to check the others. */
  WaitBlockList: KWAIT_BLOCK[] | null = null;
  /** How many blocks of WaitBlockList the wait uses. */
  WaitCount = 0;
}
