/**
 * System threads: PsCreateSystemThread starts a driver's routine as a new kernel-mode
 * thread (of the System process unless a process handle says otherwise) and returns a
 * handle to its thread object; PsTerminateSystemThread ends the calling system thread, as
 * does the start routine returning (exit status STATUS_SUCCESS). The thread object is
 * signalled when the thread ends, so a driver that references the handle
 * (ObReferenceObjectByHandle with PsThreadType) can wait for the thread with
 * KeWaitForSingleObject before it unloads.
 */
import { KE, type Kernel } from "../ke/kernel.js";
import { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import { NT_SUCCESS, STATUS_INVALID_PARAMETER, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import type { KPROCESS } from "../ke/scheduler.js";
import { MM } from "../mm/manager.js";
import { PROCESS_CREATE_THREAD, type ACCESS_MASK } from "../ob/access.js";
import type { OBJECT_ATTRIBUTES } from "../ob/attributes.js";
import type { HANDLE } from "../ob/handle-table.js";
import { createHandle, grantedAccess, ObReferenceObjectByHandle } from "../ob/handles.js";
import { OB } from "../ob/manager.js";
import { PsProcessType, PsThreadType } from "../ob/object-type.js";
import { ObDereferenceObject } from "../ob/reference.js";
import { checkPsPassive, notifyThread } from "./notify.js";
import { CLIENT_ID, ETHREAD, registerThread, threadEnded, threadObjectOf } from "./thread.js";

/** KSTART_ROUTINE: a system thread's start routine; gets StartContext. */
export type PKSTART_ROUTINE = (StartContext: unknown) => void | Promise<void>;

/** What PsTerminateSystemThread throws to unwind the thread's routine (caught where the thread started). */
class SystemThreadExit {
  constructor(readonly thread: ETHREAD, readonly ExitStatus: NTSTATUS) {}
}

let serial = 0;

/** Runs a system thread's routine, then ends the thread with the status it ended with. */
async function runSystemThread(k: Kernel, self: ETHREAD, driver: string, StartRoutine: PKSTART_ROUTINE, StartContext: unknown): Promise<void> {
  const pid = self.Cid.UniqueProcess;
  const tid = self.Cid.UniqueThread;
  notifyThread(k, pid, tid, true);
  let status: NTSTATUS = STATUS_SUCCESS;
  await k.invoke(driver, StartRoutine.name || "ThreadStart", async () => {
    try {
      await StartRoutine(StartContext);
    } catch (e) {
      if (!(e instanceof SystemThreadExit) || e.thread !== self) throw e;
      status = e.ExitStatus;
    }
  });
  notifyThread(k, pid, tid, false);
  threadEnded(k, self, status);
}

/** What PsCreateSystemThread returns: the status, the thread's handle and its client id (the C out-parameters). */
export interface SystemThreadResult {
  status: NTSTATUS;
  /** A handle to the thread object (0 on failure); close it with ZwClose. */
  ThreadHandle: HANDLE;
  /** The new thread's process and thread ids (null on failure). */
  ClientId: CLIENT_ID | null;
}

/**
 * PsCreateSystemThread(DesiredAccess, ObjectAttributes, ProcessHandle, StartRoutine,
 * StartContext): creates a kernel-mode thread that runs StartRoutine(StartContext), ready
 * now on any processor. ProcessHandle null puts it in the System process (what drivers
 * pass); otherwise a handle to a process (NtCurrentProcess() for the caller's) opened for
 * PROCESS_CREATE_THREAD. The handle is a kernel handle when ObjectAttributes has
 * OBJ_KERNEL_HANDLE (drivers should set it). PASSIVE_LEVEL (verifier: 0xC4 / 0x2001C).
 */
export function PsCreateSystemThread(DesiredAccess: ACCESS_MASK, ObjectAttributes: OBJECT_ATTRIBUTES | null, ProcessHandle: HANDLE | null, StartRoutine: PKSTART_ROUTINE, StartContext: unknown): SystemThreadResult {
  const k = KE();
  checkPsPassive(k);
  k.chargePs(k.cost.PsCreateSystemThread);
  let process: KPROCESS = MM(k).systemProcess;
  if (ProcessHandle) {
    const r = ObReferenceObjectByHandle<KPROCESS>(ProcessHandle, PROCESS_CREATE_THREAD, PsProcessType, KPROCESSOR_MODE.KernelMode);
    if (!NT_SUCCESS(r.status)) return { status: r.status, ThreadHandle: 0, ClientId: null };
    process = r.Object!;
    ObDereferenceObject(process);
  }
  const driver = k.attribution().driver;
  let self: ETHREAD | undefined;
  const kthread = k.scheduler.createThread(`${driver} system thread ${++serial}`, () => runSystemThread(k, self!, driver, StartRoutine, StartContext), {
    process, readyAtPs: k.cpu.time,
  });
  self = registerThread(k, new ETHREAD(kthread, process, true));
  self.StartAddress = StartRoutine;
  self.createdBySystem = true;
  const h = OB(k).headerOf(self)!;
  const ThreadHandle = createHandle(k, h, grantedAccess(PsThreadType, DesiredAccess), ObjectAttributes?.Attributes ?? 0, KPROCESSOR_MODE.KernelMode);
  return { status: STATUS_SUCCESS, ThreadHandle, ClientId: self.Cid };
}

/**
 * PsTerminateSystemThread(ExitStatus): ends the calling system thread with ExitStatus; it
 * does not return. A thread that PsCreateSystemThread did not create (a user thread, or
 * the thread Machine.exec runs) gets STATUS_INVALID_PARAMETER back. PASSIVE_LEVEL
 * (verifier: 0xC4 / 0x2001C).
 */
export function PsTerminateSystemThread(ExitStatus: NTSTATUS): NTSTATUS {
  const k = KE();
  checkPsPassive(k);
  const t = k.cpu.CurrentThread;
  const self = t ? threadObjectOf(k, t) : null;
  if (!self || !self.createdBySystem) return STATUS_INVALID_PARAMETER;
  throw new SystemThreadExit(self, ExitStatus);
}
