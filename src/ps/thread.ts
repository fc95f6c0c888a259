/**
 * Thread objects: ETHREAD, the executive's thread (a PsThreadType object) around the
 * kernel's KTHREAD, with its client id and exit status. It is waitable: KeWaitForSingleObject
 * on it returns once the thread has ended. Every thread gets its ETHREAD when it is first
 * asked for (threads of user processes get the I/O manager's, which adds their I/O state).
 */
import type { Kernel } from "../ke/kernel.js";
import { DISPATCHER_HEADER, signal, type DispatcherObject } from "../ke/dispatcher.js";
import { STATUS_PENDING, type NTSTATUS } from "../ke/ntstatus.js";
import type { KPROCESS, KTHREAD } from "../ke/scheduler.js";
import { MM } from "../mm/manager.js";
import type { HANDLE } from "../ob/handle-table.js";
import { setCurrentThreadResolver } from "../ob/handles.js";
import { OB } from "../ob/manager.js";
import { PsThreadType } from "../ob/object-type.js";
import { dereference } from "../ob/reference.js";

/** DISPATCHER_HEADER.Type of a thread (KOBJECTS ThreadObject). */
export const ThreadObject = 6;
/** Bytes of an x64 ETHREAD (for its address). */
const ETHREAD_SIZE = 0x898;

/** CLIENT_ID: a thread's process id and thread id. */
export class CLIENT_ID {
  constructor(
    /** Id of the thread's process. */
    readonly UniqueProcess: HANDLE,
    /** Id of the thread. */
    readonly UniqueThread: HANDLE,
  ) {}
}

/** ETHREAD (PETHREAD): the executive's thread object. */
export class ETHREAD implements DispatcherObject {
  /** Signalled once the thread has ended. */
  readonly Header = new DISPATCHER_HEADER();
  readonly Cid: CLIENT_ID;
  /** The thread's exit status (STATUS_PENDING while it runs). */
  ExitStatus: NTSTATUS = STATUS_PENDING;
  /** The routine the thread started in (PsCreateSystemThread's StartRoutine), or null. */
  StartAddress: unknown = null;
  /** The thread was made by PsCreateSystemThread (PsTerminateSystemThread may end it). */
  createdBySystem = false;

  constructor(
    /** The kernel's thread. */
    readonly Tcb: KTHREAD,
    /** The process the thread belongs to. */
    readonly ThreadsProcess: KPROCESS,
    /** A kernel-mode thread of the System process (PsIsSystemThread). */
    readonly SystemThread: boolean,
  ) {
    this.Header.Type = ThreadObject;
    this.Cid = new CLIENT_ID(ThreadsProcess.UniqueProcessId, Tcb.ThreadId);
  }
}

const threadObjects = new WeakMap<KTHREAD, ETHREAD>();

/** Makes `thread` the ETHREAD of its KTHREAD and an object of PsThreadType (one reference: the running thread's own). */
export function registerThread(k: Kernel, thread: ETHREAD): ETHREAD {
  threadObjects.set(thread.Tcb, thread);
  OB(k).create(PsThreadType, thread, ETHREAD_SIZE);
  return thread;
}

/** Makes the ETHREAD of a user process's thread (the I/O manager's, installed by it), or returns undefined for other threads. */
let userThreadFactory: ((kthread: KTHREAD) => ETHREAD | undefined) | null = null;

/** Installs how the ETHREAD of a user process's thread is made (the I/O manager's ethreadOf). */
export function setUserThreadFactory(factory: (kthread: KTHREAD) => ETHREAD | undefined): void {
  userThreadFactory = factory;
}

/** The ETHREAD of `kthread`, made when first asked for (a system thread's, in the System process). */
export function threadObjectOf(k: Kernel, kthread: KTHREAD): ETHREAD {
  return threadObjects.get(kthread) ?? userThreadFactory?.(kthread) ?? registerThread(k, new ETHREAD(kthread, kthread.process, kthread.process === MM(k).systemProcess));
}

/** The ETHREAD of `kthread` if it has one. */
export function existingThreadObject(kthread: KTHREAD): ETHREAD | undefined {
  return threadObjects.get(kthread);
}

/**
 * The thread ended with `ExitStatus`: its object is signalled (waiters wake) and the
 * running thread's own reference goes (the object stays while handles and references remain).
 */
export function threadEnded(k: Kernel, thread: ETHREAD, ExitStatus: NTSTATUS): void {
  thread.ExitStatus = ExitStatus;
  thread.Header.SignalState = 1;
  signal(k, thread.Header);
  const h = OB(k).headerOf(thread);
  if (h && !h.deleted) void dereference(k, h);
}

setCurrentThreadResolver((k) => {
  const t = k.cpu.CurrentThread;
  return t ? threadObjectOf(k, t) : null;
});
