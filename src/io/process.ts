/**
 * User processes: a KPROCESS with its own address space (sharing the system half), a
 * handle table and a heap of user-mode pages. Programs run as threads of a process; each
 * has an ETHREAD beside its KTHREAD with the IRPs it issued (IrpList), the kernel APCs
 * queued to it, and its Win32 last error. A FILE_OBJECT is an open instance of a device,
 * counted by handles and by references (each outstanding IRP holds one).
 */
import { administratorToken, type ACCESS_TOKEN } from "../se/token.js";
import { setCallerTokenResolver } from "../se/privilege.js";
import type { ServiceContext } from "./win32.js";
import { KE, type Kernel } from "../ke/kernel.js";
import { KPROCESS, type KTHREAD } from "../ke/scheduler.js";
import { DISPATCHER_HEADER, EVENT_TYPE, KEVENT, KPROCESSOR_MODE } from "../ke/dispatcher.js";
import { KQUEUE } from "../ke/queue.js";
import { STATUS_PENDING, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import { GENERIC_ALL } from "../ob/access.js";
import { HANDLE_TABLE, type HANDLE } from "../ob/handle-table.js";
import { closeHandleAt, createHandle, grantedAccess } from "../ob/handles.js";
import { OB, PROCESS_OBJECT_SIZE } from "../ob/manager.js";
import type { OBJECT_HEADER } from "../ob/header.js";
import { ExEventObjectType, IoCompletionObjectType, IoFileObjectType, PsProcessType, type OBJECT_TYPE } from "../ob/object-type.js";
import { dereference } from "../ob/reference.js";
import { ETHREAD as PS_ETHREAD, registerThread, setUserThreadFactory } from "../ps/thread.js";
import { processCreated } from "../ps/process.js";
import { MM } from "../mm/manager.js";
import { PAGE_SIZE } from "../mm/pfn.js";
import { RangeAllocator } from "../mm/va-allocator.js";
import type { AddressSpace } from "../mm/address-space.js";
import type { DEVICE_OBJECT } from "./objects.js";
import type { IRP } from "./irp.js";
import type { IoRequest } from "./request.js";

/** Lowest user-mode allocation address. */
export const USER_HEAP_START = 0x10000;
/** One past the highest user-mode allocation address. */
export const USER_HEAP_END = 0x7FFE0000;

// FILE_OBJECT.Flags.
/** The file was opened for synchronous I/O (CreateFile without FILE_FLAG_OVERLAPPED). */
export const FO_SYNCHRONOUS_IO = 0x00000002;
/** FILE_SKIP_COMPLETION_PORT_ON_SUCCESS was set on the file. */
export const FO_SKIP_COMPLETION_PORT = 0x02000000;
/** FILE_SKIP_SET_EVENT_ON_HANDLE was set on the file. */
export const FO_SKIP_SET_EVENT = 0x04000000;

/** An I/O completion packet: what GetQueuedCompletionStatus returns. */
export interface CompletionPacket {
  /** The file's completion key (or PostQueuedCompletionStatus's dwCompletionKey). */
  Key: unknown;
  /** The request's OVERLAPPED (or whatever PostQueuedCompletionStatus passed). */
  Overlapped: unknown;
  /** Final status of the request. */
  Status: NTSTATUS;
  /** Bytes transferred (IoStatus.Information). */
  Information: number;
}

/** IO_COMPLETION_CONTEXT: the completion port a file is associated with, and its key. */
export interface IO_COMPLETION_CONTEXT {
  Port: KQUEUE<CompletionPacket>;
  Key: unknown;
}

/** Makes an event without charging a processor (objects the I/O manager builds for itself). */
function event(type: EVENT_TYPE): KEVENT {
  const e = new KEVENT();
  e.Header.Type = type;
  return e;
}

/** FILE_OBJECT: an open instance of a device. */
export class FILE_OBJECT {
  readonly Type = 5;
  FsContext: unknown = null;
  FsContext2: unknown = null;
  /** FO_XXX flags. */
  Flags = 0;
  /** Signalled when a request on the file completes (waiting on the file handle); cleared when one starts. */
  readonly Event = event(EVENT_TYPE.NotificationEvent);
  /** Synchronous I/O (FO_SYNCHRONOUS_IO) runs one request at a time: the file is Busy, others wait on Lock. */
  Busy = false;
  Waiters = 0;
  readonly Lock = event(EVENT_TYPE.SynchronizationEvent);
  /** Status of the last synchronous request. */
  FinalStatus: NTSTATUS = STATUS_SUCCESS;
  /** Position of synchronous reads and writes, bytes (devices that keep one update it). */
  CurrentByteOffset = 0;
  /** The completion port the file is associated with (CreateIoCompletionPort). */
  CompletionContext: IO_COMPLETION_CONTEXT | null = null;
  /** The file's object header (it is an object of IoFileObjectType). */
  private readonly header: OBJECT_HEADER;

  /** Handles open to the file (its object header's HandleCount). */
  get HandleCount(): number {
    return this.header.HandleCount;
  }

  /** References: one per handle and one per outstanding IRP (its object header's PointerCount). */
  get PointerCount(): number {
    return this.header.PointerCount;
  }

  set PointerCount(count: number) {
    this.header.PointerCount = count;
  }
  /** IRPs the I/O manager issued on the file that have not completed. */
  readonly outstandingIrps = new Set<IRP>();
  /** IRP_MJ_CLEANUP was sent (the last handle closed). */
  cleanedUp = false;
  /** IRP_MJ_CLOSE was sent (the last reference went). */
  closed = false;

  /**
   * @param DeviceObject the device the name resolved to (IRPs go to the top of its stack)
   * @param FileName what followed the device's name ("" for the device itself, "\\RefString" for an interface with a reference string)
   */
  constructor(readonly DeviceObject: DEVICE_OBJECT, readonly FileName: string, k: Kernel = KE()) {
    // An object of IoFileObjectType with its creator's reference.
    this.header = OB(k).create(IoFileObjectType, this, FILE_OBJECT_SIZE);
  }
}

/** Bytes of an x64 FILE_OBJECT (for its address). */
const FILE_OBJECT_SIZE = 0xD8;

/** The ETHREAD of a user process's thread: the executive thread with the I/O manager's state (its IRPs, kernel APCs, last error). */
export class ETHREAD extends PS_ETHREAD {
  /** IRPs the I/O manager issued for the thread that have not been finished, with their requests. */
  readonly IrpList = new Map<IRP, IoRequest>();
  /** Kernel APCs queued to the thread (I/O completions to finish in its context), oldest first. */
  readonly kernelApcs: KernelApc[] = [];
  /** The thread is blocked in a user-mode wait that a kernel APC may interrupt. */
  inUserWait = false;
  /** Win32 last error (the TEB's LastErrorValue). */
  LastErrorValue = 0;
  /** What the thread's start routine threw, if it threw. */
  exception: unknown = undefined;
  /** The thread has begun to end (it is counted out of its process's live threads). */
  exited = false;
  /** The thread's context for system services (made on its first call). */
  serviceContext: ServiceContext | null = null;

  constructor(Tcb: KTHREAD, readonly process: EPROCESS) {
    super(Tcb, process, false);
  }

  /** True once the thread's body has returned. */
  get terminated(): boolean {
    return this.Tcb.State === "terminated";
  }
}

/** A kernel APC: work to run in a thread's context (its process's address space) at APC_LEVEL. */
export interface KernelApc {
  /** Runs at APC_LEVEL; does not wait. */
  KernelRoutine(): void;
}

/** What a handle refers to. */
export type HandleObject = FILE_OBJECT | KEVENT | ETHREAD | EPROCESS | KQUEUE<CompletionPacket>;

/** DISPATCHER_HEADER.Type of a process (KOBJECTS ProcessObject). */
export const ProcessObject = 3;

/** The object type of a handle's object, for the kinds of objects user-mode services open. */
function typeOf(object: HandleObject): OBJECT_TYPE | null {
  if (object instanceof KEVENT) return ExEventObjectType;
  if (object instanceof KQUEUE) return IoCompletionObjectType;
  return null;
}

/** A user process. */
export class EPROCESS extends KPROCESS {
  /** The handle table (ObjectTable). */
  readonly handles: HANDLE_TABLE;
  readonly heap = new RangeAllocator(USER_HEAP_START, USER_HEAP_END, PAGE_SIZE);
  /** The process's threads (ThreadListHead). */
  readonly threads = new Set<ETHREAD>();
  /** Committed user buffers free for reuse by the API's staging, by size in pages. */
  readonly spareBuffers = new Map<number, number[]>();
  /** The access token the process runs with (an elevated administrator's unless the program was started as a standard user). */
  Token: ACCESS_TOKEN = administratorToken();
  /** Signalled once the process has ended (waiting on a process handle). */
  readonly Header = new DISPATCHER_HEADER();
  /** The exit code (STILL_ACTIVE, i.e. STATUS_PENDING, until the process begins to end). */
  ExitStatus: NTSTATUS = STATUS_PENDING;
  /** The process has begun to end (ExitProcess, TerminateProcess, main returned, an unhandled exception). */
  exiting = false;
  /** The unhandled exception that ended the process, if one did. */
  exception: unknown = undefined;

  constructor(name: string, readonly space: AddressSpace, id: number, tableAddress: number) {
    super(name, space.cr3, id);
    this.Header.Type = ProcessObject;
    this.handles = new HANDLE_TABLE(false, tableAddress);
  }

  /**
   * Opens a handle to `object` granting `DesiredAccess` (generic rights mapped; every right
   * of its type by default); returns it (a multiple of 4, as Windows hands them out). An
   * object new to the object manager (an event or port the caller just made) becomes one,
   * and its handle holds its only reference.
   */
  insertHandle(object: HandleObject, k: Kernel = KE(), DesiredAccess: number = GENERIC_ALL): HANDLE {
    const ob = OB(k);
    let h = ob.headerOf(object);
    const created = !h;
    if (!h) h = ob.create(typeOf(object)!, object);
    const handle = createHandle(k, h, grantedAccess(h.Type, DesiredAccess), 0, KPROCESSOR_MODE.UserMode, this);
    if (created) void dereference(k, h);
    return handle;
  }
}

const ethreads = new WeakMap<KTHREAD, ETHREAD>();

/** The ETHREAD of a thread of a user process (created on first use). */
export function ethreadOf(thread: KTHREAD): ETHREAD | undefined {
  let e = ethreads.get(thread);
  if (!e && thread.process instanceof EPROCESS) {
    e = new ETHREAD(thread, thread.process);
    ethreads.set(thread, e);
    registerThread(KE(), e);
    thread.process.threads.add(e);
  }
  return e;
}

setUserThreadFactory(ethreadOf);

/**
 * ObKillProcess: when a process ends, the handles still open in its table are closed, as
 * if the program had closed them (a file's last handle sends IRP_MJ_CLEANUP, its last
 * reference IRP_MJ_CLOSE), lowest handle first. Resolves once they are closed.
 */
export async function closeProcessHandles(process: EPROCESS, k: Kernel = KE()): Promise<void> {
  for (const [index] of process.handles.list()) {
    if (process.handles.entry(index)) await closeHandleAt(k, process.handles, index);
  }
}

/** Creates a user process. */
export function createProcess(name: string, k: Kernel = KE()): EPROCESS {
  const process = new EPROCESS(name, MM(k).createAddressSpace(), k.newId(), OB(k).allocateAddress(0x80));
  OB(k).create(PsProcessType, process, PROCESS_OBJECT_SIZE);
  OB(k).setHandleTable(process, process.handles);
  processCreated(k, process, MM(k).systemProcess);
  return process;
}

/** Commits `bytes` of zeroed user memory in `process`; returns its address or 0. */
export function allocateUserMemory(process: EPROCESS, bytes: number, k: Kernel = KE()): number {
  const mm = MM(k);
  const size = Math.ceil(Math.max(bytes, 1) / PAGE_SIZE) * PAGE_SIZE;
  const va = process.heap.allocate(size);
  if (va < 0) return 0;
  for (let off = 0; off < size; off += PAGE_SIZE) {
    const frame = mm.pfn.allocatePage();
    if (frame < 0) return 0;
    k.x.physFill(frame * PAGE_SIZE, PAGE_SIZE, 0);
    process.space.map(va + off, frame * PAGE_SIZE, { writable: true, user: true, noExecute: true });
  }
  return va;
}

/** Frees user memory from allocateUserMemory. */
export function freeUserMemory(process: EPROCESS, va: number, bytes: number, k: Kernel = KE()): void {
  const mm = MM(k);
  const size = Math.ceil(Math.max(bytes, 1) / PAGE_SIZE) * PAGE_SIZE;
  for (let off = 0; off < size; off += PAGE_SIZE) {
    const pa = process.space.unmap(va + off);
    if (pa >= 0) mm.pfn.freePage(pa / PAGE_SIZE);
  }
  process.heap.release(va, size);
}

/**
 * A committed user buffer of at least `bytes` for the API to stage a caller's bytes in,
 * reusing one an earlier call gave back (contents are overwritten by the caller).
 */
export function borrowUserBuffer(process: EPROCESS, bytes: number, k: Kernel = KE()): number {
  const pages = Math.ceil(Math.max(bytes, 1) / PAGE_SIZE);
  const spare = process.spareBuffers.get(pages)?.pop();
  return spare ?? allocateUserMemory(process, pages * PAGE_SIZE, k);
}

/** Gives a staging buffer back for reuse. */
export function returnUserBuffer(process: EPROCESS, va: number, bytes: number): void {
  const pages = Math.ceil(Math.max(bytes, 1) / PAGE_SIZE);
  let list = process.spareBuffers.get(pages);
  if (!list) process.spareBuffers.set(pages, (list = []));
  list.push(va);
}

// A thread of a user process runs with its process's token.
setCallerTokenResolver((k) => {
  const t = k.cpu.CurrentThread;
  const e = t ? ethreadOf(t) : undefined;
  return e ? e.process.Token : null;
});
