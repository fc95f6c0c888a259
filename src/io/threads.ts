/**
 * Threads of a user process: CreateThread, GetCurrentThread, GetCurrentThreadId,
 * GetThreadId and GetExitCodeThread. A thread handle is waitable: it is signalled when the
 * thread ends. When a thread ends, the I/O manager cancels the requests it still has
 * outstanding (IoCancelThreadIo); ones that complete afterwards are finished in its
 * process by a system worker thread.
 */
import { signal } from "../ke/dispatcher.js";
import { KE } from "../ke/kernel.js";
import { queueThreadExits } from "../ke/queue.js";
import { NtStatusException, STATUS_UNHANDLED_EXCEPTION, type NTSTATUS } from "../ke/ntstatus.js";
import { IoCancelIrp } from "./cancel.js";
import { deliverKernelApcs } from "./apc.js";
import { ETHREAD, ethreadOf, type EPROCESS } from "./process.js";
import { callingThread, ERROR_INVALID_HANDLE, service, setLastError, type HANDLE } from "./win32.js";

/** GetExitCodeThread's answer for a thread that is still running. */
export const STILL_ACTIVE = 259;
/** The pseudo-handle GetCurrentThread returns ((HANDLE)-2): the calling thread. */
export const CURRENT_THREAD_HANDLE: HANDLE = -2;

/** A thread's start routine: gets lpParameter, returns the exit code. */
export type LPTHREAD_START_ROUTINE = (lpParameter: unknown) => number | void | Promise<number | void>;

/** The thread `h` names (a thread handle or the current-thread pseudo-handle), or null. */
export function threadOfHandle(process: EPROCESS, current: ETHREAD, h: HANDLE): ETHREAD | null {
  if (h === CURRENT_THREAD_HANDLE) return current;
  const o = process.handles.get(h);
  return o instanceof ETHREAD ? o : null;
}

/** The thread ends: its I/O is cancelled, its completions run, its handle is signalled. */
function exitThread(thread: ETHREAD, code: NTSTATUS): void {
  const k = KE();
  for (const irp of [...thread.IrpList.keys()]) IoCancelIrp(irp);
  deliverKernelApcs(thread);
  queueThreadExits(thread.Tcb);
  thread.ExitStatus = code;
  thread.Header.SignalState = 1;
  signal(k, thread.Header);
}

let threadSerial = 0;

/**
 * CreateThread: starts `lpStartAddress(lpParameter)` as a new thread of the calling
 * process (ready now, on any processor; `dwCreationFlags` 0 — CREATE_SUSPENDED is not
 * modelled). Its exit code is what the routine returns (0 for none). Returns its handle.
 */
export function CreateThread(lpThreadAttributes: null, dwStackSize: number, lpStartAddress: LPTHREAD_START_ROUTINE, lpParameter: unknown, dwCreationFlags: number): HANDLE {
  return service((c) => {
    let self: ETHREAD | undefined;
    const t = c.k.scheduler.createThread(`${c.process.ImageFileName} thread ${++threadSerial}`, async () => {
      let code: NTSTATUS = 0;
      try {
        code = (await lpStartAddress(lpParameter)) ?? 0;
      } catch (e) {
        self!.exception = e;
        code = e instanceof NtStatusException ? e.status : STATUS_UNHANDLED_EXCEPTION;
      }
      exitThread(self!, code >>> 0);
      return code;
    }, { process: c.process, readyAtPs: c.k.cpu.time });
    self = ethreadOf(t)!;
    setLastError(c.thread, 0);
    return c.process.insertHandle(self);
  });
}

/** GetCurrentThread: the pseudo-handle for the calling thread. */
export function GetCurrentThread(): HANDLE {
  return CURRENT_THREAD_HANDLE;
}

/** GetCurrentThreadId: the calling thread's id (read from the thread's own block: no system call). */
export function GetCurrentThreadId(): number {
  return callingThread().Tcb.ThreadId;
}

/** GetThreadId: the id of the thread `Thread` names (0 with ERROR_INVALID_HANDLE if none). */
export function GetThreadId(Thread: HANDLE): number {
  return service((c) => {
    const t = threadOfHandle(c.process, c.thread, Thread);
    if (!t) setLastError(c.thread, ERROR_INVALID_HANDLE);
    return t ? t.Tcb.ThreadId : 0;
  });
}

/** GetExitCodeThread: the thread's exit code, or STILL_ACTIVE while it runs. */
export function GetExitCodeThread(hThread: HANDLE): { ok: boolean; ExitCode: number } {
  return service((c) => {
    const t = threadOfHandle(c.process, c.thread, hThread);
    if (!t) {
      setLastError(c.thread, ERROR_INVALID_HANDLE);
      return { ok: false, ExitCode: 0 };
    }
    return { ok: true, ExitCode: t.Header.SignalState ? t.ExitStatus : STILL_ACTIVE };
  });
}

