/**
 * Who is running: PsGetCurrentThread, PsGetCurrentThreadId, PsGetCurrentProcessId,
 * PsIsSystemThread, PsGetThreadId, PsGetThreadProcessId and PsGetProcessId. (PsGetCurrentProcess
 * and IoGetCurrentProcess, which follow an attached thread into the process it is attached
 * to, are in src/ke/attach.ts.) Any IRQL.
 */
import { KE } from "../ke/kernel.js";
import type { KPROCESS } from "../ke/scheduler.js";
import { MM } from "../mm/manager.js";
import type { HANDLE } from "../ob/handle-table.js";
import { threadObjectOf, type ETHREAD } from "./thread.js";

/** PsGetCurrentThread: the executing thread's ETHREAD (null when no thread runs: a DPC or ISR from idle). */
export function PsGetCurrentThread(): ETHREAD | null {
  const k = KE();
  const t = k.cpu.CurrentThread;
  return t ? threadObjectOf(k, t) : null;
}

/** PsGetCurrentThreadId: the executing thread's id (0 when no thread runs). */
export function PsGetCurrentThreadId(): HANDLE {
  return KE().cpu.CurrentThread?.ThreadId ?? 0;
}

/**
 * PsGetCurrentProcessId: the id of the executing thread's own process (its
 * Cid.UniqueProcess: not the process it may be attached to); the System process's id (4)
 * when no thread runs.
 */
export function PsGetCurrentProcessId(): HANDLE {
  const k = KE();
  return (k.cpu.CurrentThread?.process ?? MM(k).systemProcess).UniqueProcessId;
}

/** PsIsSystemThread: TRUE if `Thread` is a kernel-mode thread of the System process. */
export function PsIsSystemThread(Thread: ETHREAD): boolean {
  return Thread.SystemThread;
}

/** PsGetThreadId: the thread's id (Cid.UniqueThread). */
export function PsGetThreadId(Thread: ETHREAD): HANDLE {
  return Thread.Cid.UniqueThread;
}

/** PsGetThreadProcessId: the id of the thread's process (Cid.UniqueProcess). */
export function PsGetThreadProcessId(Thread: ETHREAD): HANDLE {
  return Thread.Cid.UniqueProcess;
}

/** PsGetProcessId: the process's id (UniqueProcessId). */
export function PsGetProcessId(Process: KPROCESS): HANDLE {
  return Process.UniqueProcessId;
}
