/**
 * User-mode APCs of I/O completion (the routines ReadFileEx and WriteFileEx take) and the
 * alertable wait that runs them (SleepEx with bAlertable TRUE).
 *
 * When a request issued with a completion routine finishes, the I/O manager queues the
 * routine to the issuing thread as a user-mode APC. It runs only when that thread is in an
 * alertable wait: the wait ends, the thread runs every routine queued to it (oldest first)
 * in user mode, and the wait returns WAIT_IO_COMPLETION. A routine queued to a thread that
 * has ended is dropped, as Windows discards the user APCs of an exiting thread.
 * QueueUserAPC queues a program's own routine the same way; WaitForSingleObjectEx and
 * WaitForMultipleObjectsEx wait alertably as SleepEx does.
 */
import { EVENT_TYPE, KeInitializeEvent, KeResetEvent, KeSetEvent, KEVENT, WAIT_TYPE } from "../ke/dispatcher.js";
import { STATUS_SUCCESS, STATUS_USER_APC } from "../ke/ntstatus.js";
import type { ETHREAD } from "./process.js";
import { userWait } from "./user-wait.js";
import { ERROR_INVALID_HANDLE, service, systemService, type HANDLE } from "./win32.js";
import { waitForHandles, WAIT_OBJECT_0 } from "./sync-objects.js";
import { threadOfHandle } from "./threads.js";

/** WAIT_IO_COMPLETION: an alertable wait ended to run queued I/O completion routines (STATUS_USER_APC). */
export const WAIT_IO_COMPLETION = STATUS_USER_APC;

/** A user-mode APC: a routine to run in user mode in the thread it was queued to. */
export type UserApcRoutine = () => void | Promise<void>;

/** A thread's queued user APCs and the event that tells an alertable wait about them. */
class UserApcQueue {
  readonly routines: UserApcRoutine[] = [];
  /** Signalled while routines are queued (a synchronization event an alertable wait includes). */
  readonly pending = new KEVENT();

  constructor() {
    KeInitializeEvent(this.pending, EVENT_TYPE.SynchronizationEvent, false);
  }
}

/** Each thread's user APC queue (made when something is first queued to it). */
const queues = new WeakMap<ETHREAD, UserApcQueue>();

function queueOf(thread: ETHREAD): UserApcQueue {
  let q = queues.get(thread);
  if (!q) queues.set(thread, (q = new UserApcQueue()));
  return q;
}

/** Queues `routine` to `thread` as a user-mode APC (dropped when the thread has ended); callable at APC_LEVEL. */
export function queueUserApc(thread: ETHREAD, routine: UserApcRoutine): void {
  if (thread.terminated) return;
  const q = queueOf(thread);
  q.routines.push(routine);
  KeSetEvent(q.pending, 0, false);
}

/** Runs the user APCs queued to `thread` (the caller, in user mode), oldest first; whether any ran. */
async function deliverUserApcs(thread: ETHREAD): Promise<boolean> {
  const q = queues.get(thread);
  if (!q || q.routines.length === 0) return false;
  while (q.routines.length > 0) await q.routines.shift()!();
  KeResetEvent(q.pending);
  return true;
}

/**
 * SleepEx: suspends the calling thread for `dwMilliseconds` of simulated time (INFINITE:
 * no limit). With `bAlertable` TRUE the sleep ends early when I/O completion routines are
 * queued to the thread (or returns at once if some already are): they run, and SleepEx
 * returns WAIT_IO_COMPLETION. Returns 0 when the interval elapsed.
 */
export async function SleepEx(dwMilliseconds: number, bAlertable: boolean): Promise<number> {
  let thread: ETHREAD | null = null;
  const status = await systemService(STATUS_SUCCESS, async (c) => {
    thread = c.thread;
    const q = bAlertable ? queueOf(c.thread) : null;
    if (q && q.routines.length > 0) return { status: STATUS_SUCCESS, value: STATUS_USER_APC };
    const r = await userWait(c.thread, q ? [q.pending] : [], WAIT_TYPE.WaitAny, dwMilliseconds);
    return { status: STATUS_SUCCESS, value: q && r === 0 ? STATUS_USER_APC : STATUS_SUCCESS };
  });
  if (status === STATUS_USER_APC && await deliverUserApcs(thread!)) return WAIT_IO_COMPLETION;
  return 0;
}

/** PAPCFUNC: a user APC routine, called with the value QueueUserAPC was given. */
export type PAPCFUNC = (dwParam: number) => void | Promise<void>;

/**
 * QueueUserAPC(pfnAPC, hThread, dwData): queues pfnAPC(dwData) to the thread; it runs when
 * that thread next waits alertably. FALSE with ERROR_INVALID_HANDLE for a handle that is
 * not a thread.
 */
export function QueueUserAPC(pfnAPC: PAPCFUNC, hThread: HANDLE, dwData: number): boolean {
  return service((c) => {
    const thread = threadOfHandle(c.process, c.thread, hThread);
    if (!thread) {
      c.thread.LastErrorValue = ERROR_INVALID_HANDLE;
      return false;
    }
    queueUserApc(thread, () => pfnAPC(dwData));
    return true;
  });
}

/**
 * WaitForMultipleObjectsEx: WaitForMultipleObjects that, with bAlertable TRUE, also ends
 * when user APCs (I/O completion routines, QueueUserAPC routines) are queued to the
 * calling thread — or at once if some already are: they run, and it returns
 * WAIT_IO_COMPLETION. A wait for all objects (bWaitAll) is alerted only by APCs queued
 * before it starts.
 */
export async function WaitForMultipleObjectsEx(nCount: number, lpHandles: readonly HANDLE[], bWaitAll: boolean, dwMilliseconds: number, bAlertable: boolean): Promise<number> {
  if (!bAlertable) return waitForHandles(nCount, lpHandles, bWaitAll, dwMilliseconds, null);
  const thread = service((c) => c.thread);
  const q = queueOf(thread);
  while (q.routines.length === 0) {
    const r = await waitForHandles(nCount, lpHandles, bWaitAll, dwMilliseconds, q.pending);
    if (bWaitAll || r !== WAIT_OBJECT_0 + nCount) return r;
  }
  await deliverUserApcs(thread);
  return WAIT_IO_COMPLETION;
}

/** WaitForSingleObjectEx(hHandle, dwMilliseconds, bAlertable): WaitForMultipleObjectsEx on one object. */
export function WaitForSingleObjectEx(hHandle: HANDLE, dwMilliseconds: number, bAlertable: boolean): Promise<number> {
  return WaitForMultipleObjectsEx(1, [hHandle], false, dwMilliseconds, bAlertable);
}
