/**
 * How a user thread waits: on dispatcher objects (KeWaitForXxx in UserMode) or on a
 * completion port's queue (KeRemoveQueueEx), with a timeout in milliseconds. Kernel APCs
 * queued to the thread while it waits (I/O completions) interrupt the wait: the thread
 * runs them and waits again for what is left of the timeout, as Windows delivers kernel
 * APCs to a waiting thread; a thread whose process is ending leaves the wait then. A thread associated with a completion port stops counting as
 * one of the port's running threads while it waits on anything else.
 */
import { KE, type Kernel } from "../ke/kernel.js";
import {
  KEVENT, KeWaitForMultipleObjects, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON, WAIT_TYPE, type DispatcherObject,
} from "../ke/dispatcher.js";
import { KeRemoveQueueEx, queueThreadBlocks, queueThreadResumes, type KQUEUE } from "../ke/queue.js";
import { STATUS_KERNEL_APC, type NTSTATUS } from "../ke/ntstatus.js";
import { KWAIT_BLOCK, THREAD_WAIT_OBJECTS } from "../ke/wait-block.js";
import { deliverKernelApcs } from "./apc.js";
import { leaveIfProcessEnding } from "./process-exit.js";
import type { ETHREAD } from "./process.js";

/** INFINITE: a wait without a timeout. */
export const INFINITE = 0xFFFFFFFF;

/** Picoseconds per millisecond. */
const PS_PER_MS = 1e9;

/** When a wait of `ms` milliseconds started now ends, ps (Infinity for INFINITE). */
function deadline(k: Kernel, ms: number): number {
  return ms === INFINITE || ms === Infinity ? Infinity : k.cpu.time + ms * PS_PER_MS;
}

/** The kernel timeout (100 ns units, negative relative; null for none) left until `due`. */
function remaining(k: Kernel, due: number): number | null {
  if (due === Infinity) return null;
  const left = Math.max(0, due - k.cpu.time);
  return left === 0 ? 0 : -Math.ceil(left / 100_000);
}

/** Whether a wait on `objects` would be satisfied without blocking. */
function satisfiable(objects: DispatcherObject[], waitType: WAIT_TYPE): boolean {
  return waitType === WAIT_TYPE.WaitAll
    ? objects.length > 0 && objects.every((o) => o.Header.SignalState !== 0)
    : objects.some((o) => o.Header.SignalState !== 0);
}

/**
 * Waits for `objects` (WaitAny: one; WaitAll: all) up to `ms` milliseconds (INFINITE for
 * no limit), delivering kernel APCs meanwhile. Resolves to STATUS_WAIT_0 + index
 * (WaitAny), STATUS_SUCCESS (WaitAll) or STATUS_TIMEOUT; with no objects it sleeps for `ms`.
 */
export async function userWait(thread: ETHREAD, objects: DispatcherObject[], waitType: WAIT_TYPE, ms: number): Promise<NTSTATUS> {
  const k = KE();
  const due = deadline(k, ms);
  // A sleep is a wait on something that is never signalled.
  if (objects.length === 0) objects = [new KEVENT()];
  // The wait blocks of a wait on more objects than a thread has of its own (NtWaitForMultipleObjects passes its own).
  const waitBlocks = objects.length > THREAD_WAIT_OBJECTS ? objects.map(() => new KWAIT_BLOCK()) : null;
  for (;;) {
    deliverKernelApcs(thread);
    leaveIfProcessEnding(thread);
    const timeout = remaining(k, due);
    const blocks = timeout !== 0 && !satisfiable(objects, waitType);
    if (blocks) queueThreadBlocks(thread.Tcb);
    thread.inUserWait = true;
    let status: NTSTATUS;
    try {
      status = objects.length === 1
          ? await KeWaitForSingleObject(objects[0], KWAIT_REASON.UserRequest, KPROCESSOR_MODE.UserMode, false, timeout)
          : await KeWaitForMultipleObjects(objects.length, objects, waitType, KWAIT_REASON.UserRequest, KPROCESSOR_MODE.UserMode, false, timeout, waitBlocks);
    } finally {
      thread.inUserWait = false;
      if (blocks) queueThreadResumes(thread.Tcb);
    }
    if (status !== STATUS_KERNEL_APC) {
      deliverKernelApcs(thread);
      return status;
    }
  }
}

/**
 * Takes up to `count` entries from a completion port's queue, waiting up to `ms`
 * milliseconds and delivering kernel APCs meanwhile. Resolves to the entries or to the
 * status that ended the wait (STATUS_TIMEOUT, STATUS_ABANDONED).
 */
export async function userRemoveQueue<T>(thread: ETHREAD, queue: KQUEUE<T>, count: number, ms: number): Promise<T[] | NTSTATUS> {
  const k = KE();
  const due = deadline(k, ms);
  for (;;) {
    deliverKernelApcs(thread);
    leaveIfProcessEnding(thread);
    thread.inUserWait = true;
    let r: T[] | NTSTATUS;
    try {
      r = await KeRemoveQueueEx(queue, KPROCESSOR_MODE.UserMode, false, remaining(k, due), count);
    } finally {
      thread.inUserWait = false;
    }
    if (r !== STATUS_KERNEL_APC) {
      deliverKernelApcs(thread);
      return r;
    }
  }
}
