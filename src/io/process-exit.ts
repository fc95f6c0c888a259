/**
 * How a user process ends, as Windows ends one: its main routine returns (the C runtime's
 * exit calls ExitProcess with main's return value), a thread calls ExitProcess, another
 * process calls TerminateProcess, or a thread raises an exception no code of the program
 * handles (the process ends with the exception's code). Ending a process ends each of its
 * threads — one blocked in a wait is woken by a kernel APC and leaves at once — and a thread
 * that ends has its outstanding requests cancelled (IoCancelThreadIo). When the last thread
 * has gone, the handles the process left open are closed (ObKillProcess), the process-exit
 * callbacks run, and the process object is signalled. Only the process ends: the machine
 * goes on, and a kernel bug check is never raised for a program's failure.
 */
import { KE } from "../ke/kernel.js";
import { BugCheck } from "../ke/bugcheck.js";
import { signal } from "../ke/dispatcher.js";
import { queueThreadExits } from "../ke/queue.js";
import { exceptionCodeOf, statusName, STATUS_ACCESS_DENIED, STATUS_INVALID_HANDLE, STATUS_INVALID_PARAMETER, STATUS_PENDING, type NTSTATUS } from "../ke/ntstatus.js";
import { PROCESS_QUERY_INFORMATION, PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_TERMINATE } from "../ob/access.js";
import { NtCurrentProcess } from "../ob/handle-table.js";
import { notifyThread } from "../ps/notify.js";
import { activeProcesses, userProcessEnded } from "../ps/process.js";
import { threadEnded } from "../ps/thread.js";
import { deliverKernelApcs, queueKernelApc } from "./apc.js";
import { IoCancelIrp } from "./cancel.js";
import { closeProcessHandles, EPROCESS, type ETHREAD, type KernelApc } from "./process.js";
import { closeServiceHandles } from "./service-control.js";
import { callingThread, NULL, RtlNtStatusToDosError, service, setLastError, type HANDLE } from "./win32.js";

/** GetExitCodeProcess's answer for a process that is still running (STILL_ACTIVE, the value of STATUS_PENDING). */
export const STILL_ACTIVE = STATUS_PENDING;

/** What unwinds a thread of a process that is ending (caught where the thread began; programs should not catch it). */
export class ProcessExit {
  constructor(readonly code: number) {}
}

/** What unwinds a thread that calls ExitThread (caught where the thread began). */
export class ThreadExit {
  constructor(readonly code: number) {}
}

/**
 * What Machine.runProgram rejects with when the program's process ended other than by its
 * main routine returning: ExitProcess, TerminateProcess, or an unhandled exception
 * (`exception` is what was thrown).
 */
export class ProcessTerminated extends Error {
  constructor(
    /** The program's name (the process's ImageFileName). */
    readonly ImageFileName: string,
    /** The process's exit code (GetExitCodeProcess). */
    readonly ExitCode: number,
    /** The unhandled exception that ended it, or undefined. */
    readonly exception: unknown,
  ) {
    super(exception !== undefined
      ? `program "${ImageFileName}" ended with an unhandled exception (exit code 0x${(ExitCode >>> 0).toString(16).padStart(8, "0")}, ${statusName(ExitCode)}): ${exception instanceof Error ? exception.message : String(exception)}`
      : `program "${ImageFileName}" ended with exit code ${ExitCode >>> 0}`);
    this.name = "ProcessTerminated";
    if (exception instanceof Error) this.cause = exception;
  }
}

/** The kernel APC that wakes a thread of an ending process (it finds the process ending and leaves). */
const WAKE_TO_EXIT: KernelApc = { KernelRoutine() {} };

/**
 * Starts ending `process` with exit code `code` (the first call wins): every other thread
 * of the process is woken to end. `exception` is the unhandled exception that ends it.
 */
export function beginProcessExit(process: EPROCESS, code: number, exception?: unknown): void {
  if (process.exiting) return;
  process.exiting = true;
  process.ExitStatus = code >>> 0;
  process.exception = exception;
  const self = KE().cpu.CurrentThread;
  for (const t of process.threads) if (!t.exited && t.Tcb !== self) queueKernelApc(t, WAKE_TO_EXIT);
}

/** Unwinds the calling thread if its process is ending (at every system service and after every wake). */
export function leaveIfProcessEnding(thread: ETHREAD): void {
  if (thread.process.exiting) throw new ProcessExit(thread.process.ExitStatus);
}

/**
 * Runs `body` as the code of user thread `thread` and ends the thread: a normal return
 * ends it with `exitCode(value)` (and, for the main thread, the process: `isMain`); an
 * exception no code handled ends the process with the exception's code. A bug check (the
 * kernel failed under the program) is not the program's: it goes on to the caller.
 * Resolves to what `body` returned, or undefined when the thread did not return.
 */
export async function runUserThread<T>(thread: ETHREAD, body: () => Promise<T>, exitCode: (value: T) => number, isMain: boolean): Promise<{ returned: boolean; value: T | undefined }> {
  const k = KE();
  let returned = false;
  let value: T | undefined;
  let code: number;
  try {
    value = await body();
    returned = true;
    code = exitCode(value) >>> 0;
    if (isMain) beginProcessExit(thread.process, code);
  } catch (e) {
    if (e instanceof BugCheck || k.crashed) throw e;
    if (e instanceof ProcessExit) code = thread.process.ExitStatus;
    else if (e instanceof ThreadExit) code = e.code;
    else {
      thread.exception = e;
      code = exceptionCodeOf(e) >>> 0;
      beginProcessExit(thread.process, code, e);
    }
  }
  await endUserThread(thread, code, true);
  return { returned, value };
}

/**
 * The thread ends with exit code `code`: its requests are cancelled and their completions
 * run, the thread callbacks are told (`notify`), and when it is the last thread of its
 * process the process ends (handles closed, exit callbacks, its object signalled).
 */
export async function endUserThread(thread: ETHREAD, code: number, notify: boolean): Promise<void> {
  const k = KE();
  thread.exited = true;
  for (const irp of [...thread.IrpList.keys()]) IoCancelIrp(irp);
  deliverKernelApcs(thread);
  queueThreadExits(thread.Tcb);
  const process = thread.process;
  if (notify) notifyThread(k, thread.Cid.UniqueProcess, thread.Cid.UniqueThread, false);
  const last = [...process.threads].every((t) => t.exited);
  if (last) {
    if (!process.exiting) beginProcessExit(process, code);
    await closeProcessHandles(process, k);
    closeServiceHandles(process, k);
  }
  threadEnded(k, thread, code);
  if (!last) return;
  userProcessEnded(k, process, notify);
  process.Header.SignalState = 1;
  signal(k, process.Header);
}

/** ExitProcess: ends the calling process and all its threads with exit code `uExitCode`; it does not return. */
export function ExitProcess(uExitCode: number): never {
  const thread = callingThread();
  beginProcessExit(thread.process, uExitCode);
  throw new ProcessExit(thread.process.ExitStatus);
}

/** GetCurrentProcess: the pseudo-handle for the calling process ((HANDLE)-1). */
export function GetCurrentProcess(): HANDLE {
  return NtCurrentProcess;
}

/** GetCurrentProcessId: the calling process's id (read from the thread's own block: no system call). */
export function GetCurrentProcessId(): number {
  return callingThread().process.UniqueProcessId;
}

/** The process `h` names with `access` granted, or the error to fail with. */
function processOfHandle(thread: ETHREAD, h: HANDLE, access: number): EPROCESS | NTSTATUS {
  if (h === NtCurrentProcess) return thread.process;
  const entry = h > 0 ? thread.process.handles.entry(h) : undefined;
  const o = entry?.Object.Body;
  if (!entry || !(o instanceof EPROCESS)) return STATUS_INVALID_HANDLE;
  return (entry.GrantedAccess & access) !== 0 ? o : STATUS_ACCESS_DENIED;
}

/**
 * OpenProcess: a handle with `dwDesiredAccess` (PROCESS_TERMINATE, SYNCHRONIZE,
 * PROCESS_QUERY_INFORMATION, ...) to the user process with id `dwProcessId`; NULL with
 * ERROR_INVALID_PARAMETER when there is none (also for an id of 0), ERROR_ACCESS_DENIED
 * for the System process.
 */
export function OpenProcess(dwDesiredAccess: number, bInheritHandle: boolean, dwProcessId: number): HANDLE {
  return service((c) => {
    const target = activeProcesses(c.k).find((p) => p.UniqueProcessId === dwProcessId && dwProcessId !== 0);
    if (!target || !(target instanceof EPROCESS)) {
      setLastError(c.thread, RtlNtStatusToDosError(target ? STATUS_ACCESS_DENIED : STATUS_INVALID_PARAMETER));
      return NULL;
    }
    return c.process.insertHandle(target, c.k, dwDesiredAccess);
  });
}

/**
 * TerminateProcess: ends the process `hProcess` names (a handle with PROCESS_TERMINATE)
 * and all its threads with exit code `uExitCode`. Termination is asynchronous: it returns
 * TRUE once begun (wait on the handle to know it is done). Ending the calling process
 * does not return. FALSE with ERROR_ACCESS_DENIED for a handle without PROCESS_TERMINATE or
 * a process that has already ended, ERROR_INVALID_HANDLE for a bad handle.
 */
export function TerminateProcess(hProcess: HANDLE, uExitCode: number): boolean {
  return service((c) => {
    const target = processOfHandle(c.thread, hProcess, PROCESS_TERMINATE);
    if (!(target instanceof EPROCESS) || target.Header.SignalState !== 0) {
      setLastError(c.thread, RtlNtStatusToDosError(target instanceof EPROCESS ? STATUS_ACCESS_DENIED : target));
      return false;
    }
    beginProcessExit(target, uExitCode);
    if (target === c.process) throw new ProcessExit(target.ExitStatus);
    return true;
  });
}

/**
 * GetExitCodeProcess: the process's exit code, or STILL_ACTIVE while it runs (a handle with
 * PROCESS_QUERY_INFORMATION or PROCESS_QUERY_LIMITED_INFORMATION).
 */
export function GetExitCodeProcess(hProcess: HANDLE): { ok: boolean; ExitCode: number } {
  return service((c) => {
    const target = processOfHandle(c.thread, hProcess, PROCESS_QUERY_INFORMATION | PROCESS_QUERY_LIMITED_INFORMATION);
    if (!(target instanceof EPROCESS)) {
      setLastError(c.thread, RtlNtStatusToDosError(target));
      return { ok: false, ExitCode: 0 };
    }
    return { ok: true, ExitCode: target.Header.SignalState !== 0 ? target.ExitStatus : STILL_ACTIVE };
  });
}
