/**
 * Threads of a user process: CreateThread, GetCurrentThread, GetCurrentThreadId,
 * GetThreadId, GetExitCodeThread, SetThreadAffinityMask, GetThreadTimes and ExitThread. A
 * thread handle is waitable: it is signalled when the thread ends. How a thread ends (its
 * requests cancelled, an unhandled exception ending its process) is in process-exit.ts.
 */
import { KE } from "../ke/kernel.js";
import { notifyThread } from "../ps/notify.js";
import { runUserThread, STILL_ACTIVE, ThreadExit } from "./process-exit.js";
import { ETHREAD, ethreadOf, type EPROCESS } from "./process.js";
import { callingThread, ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER, service, setLastError, type HANDLE } from "./win32.js";

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

/** ExitThread: ends the calling thread with exit code `dwExitCode` (the process too when it is the last); it does not return. */
export function ExitThread(dwExitCode: number): never {
  throw new ThreadExit(dwExitCode >>> 0);
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
      notifyThread(c.k, self!.Cid.UniqueProcess, self!.Cid.UniqueThread, true);
      await runUserThread(self!, async () => (await lpStartAddress(lpParameter)) ?? 0, (code) => code, false);
    }, { process: c.process, readyAtPs: c.k.cpu.time });
    self = ethreadOf(t)!;
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


/**
 * SetThreadAffinityMask: the processors the thread may run on, one bit per processor.
 * Returns the previous mask, or 0 with ERROR_INVALID_PARAMETER when the mask names no
 * processor of the machine (or ERROR_INVALID_HANDLE for a bad handle). A thread that is
 * ready runs next only on a processor in its mask; a thread running now on a processor
 * outside it moves there when it next waits (the model does not preempt a running thread).
 */
export function SetThreadAffinityMask(hThread: HANDLE, dwThreadAffinityMask: number): number {
  return service((c) => {
    const t = threadOfHandle(c.process, c.thread, hThread);
    if (!t) {
      setLastError(c.thread, ERROR_INVALID_HANDLE);
      return 0;
    }
    const all = c.k.processors.length >= 32 ? -1 : (1 << c.k.processors.length) - 1;
    const mask = dwThreadAffinityMask & all;
    if (mask === 0) {
      setLastError(c.thread, ERROR_INVALID_PARAMETER);
      return 0;
    }
    const previous = t.Tcb.AffinityMask & all;
    t.Tcb.AffinityMask = mask;
    return previous >>> 0;
  });
}

/** What GetThreadTimes returns: the BOOL and the four FILETIMEs as counts of 100 ns. */
export interface ThreadTimes {
  ok: boolean;
  /** When the thread was created, 100 ns units of simulated time since power-on. */
  CreationTime: number;
  /** When it ended (0 while it runs), 100 ns units since power-on. */
  ExitTime: number;
  /** Processor time it spent in kernel mode, 100 ns units. */
  KernelTime: number;
  /** Processor time it spent in user mode, 100 ns units. */
  UserTime: number;
}

/** Picoseconds per 100 ns (the FILETIME unit). */
const PS_PER_FILETIME_UNIT = 100_000;

/**
 * GetThreadTimes: creation and exit time, and the processor time the thread used in
 * kernel and user mode (exact, not sampled at clock ticks; ISRs and DPCs that interrupted
 * it are not counted). User time is what the program charged with chargeUserTime; the rest
 * of its processor time is kernel time.
 */
export function GetThreadTimes(hThread: HANDLE): ThreadTimes {
  return service((c) => {
    const t = threadOfHandle(c.process, c.thread, hThread);
    if (!t) {
      setLastError(c.thread, ERROR_INVALID_HANDLE);
      return { ok: false, CreationTime: 0, ExitTime: 0, KernelTime: 0, UserTime: 0 };
    }
    const k = t.Tcb;
    const unit = (ps: number) => Math.floor(ps / PS_PER_FILETIME_UNIT);
    return {
      ok: true,
      CreationTime: unit(k.createdAtPs),
      ExitTime: Number.isNaN(k.exitedAtPs) ? 0 : unit(k.exitedAtPs),
      KernelTime: unit(k.runPs - k.userPs),
      UserTime: unit(k.userPs),
    };
  });
}

/**
 * Charges `ps` picoseconds of user-mode computation to the calling thread: what a
 * program's own code costs (the model runs host code for free). The processor's clock
 * advances, and the time counts as the thread's user time. No system call.
 */
export function chargeUserTime(ps: number): void {
  const k = KE();
  const thread = callingThread(k);
  k.chargePs(ps);
  thread.Tcb.userPs += ps;
}
