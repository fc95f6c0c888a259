/**
 * How the I/O manager carries out a user thread's request on a file: it builds the IRP
 * for the top of the device's stack, puts it on the thread's IRP list and counts it
 * against the file object (a reference), calls the driver, and finishes the request when
 * the IRP completes (IopCompleteRequest):
 *
 * - copy-back of buffered output and of the caller's host buffers, MDL unlock and free,
 *   system buffer free (the transfer's own `finish`);
 * - the status block (the OVERLAPPED's Internal / InternalHigh), the event (hEvent, or
 *   the file object's own event when there is none), the completion-port packet;
 * - the IRP is freed and the file's reference dropped (the last one sends IRP_MJ_CLOSE).
 *
 * A request whose dispatch routine did not return STATUS_PENDING is finished by the
 * issuing thread right after IoCallDriver returns; one that pended is finished by a
 * kernel APC to the issuing thread when the IRP completes (src/io/apc.ts). A request
 * that fails at once with an error status (not pended) reports the error to the caller
 * only: no status block, no event, no completion packet (the documented Win32 rule that
 * an overlapped call failing with an error other than ERROR_IO_PENDING has no completion
 * indication). On a file opened for synchronous I/O (FO_SYNCHRONOUS_IO) requests are
 * serialised by the file object's lock and the caller waits for the file's event.
 */
import { KE } from "../ke/kernel.js";
import { APC_LEVEL, PASSIVE_LEVEL } from "../ke/irql.js";
import { KeLowerIrql, KeRaiseIrql } from "../ke/level.js";
import { EVENT_TYPE, KEVENT, KeClearEvent, KeInitializeEvent, KeResetEvent, KeSetEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON, WAIT_TYPE } from "../ke/dispatcher.js";
import { KeInsertQueue } from "../ke/queue.js";
import { workers, WORK_QUEUE_TYPE } from "../ke/worker.js";
import { NT_ERROR, NT_SUCCESS, STATUS_INSUFFICIENT_RESOURCES, STATUS_PENDING, type NTSTATUS } from "../ke/ntstatus.js";
import { IO } from "./manager.js";
import { IoAllocateIrp, IoCallDriver, IoFreeIrp, IoGetNextIrpStackLocation, IRP_MJ_CLEANUP, IRP_MJ_CLOSE, IRP_MJ_CREATE, type IRP } from "./irp.js";
import { OB } from "../ob/manager.js";
import { IoFileObjectType } from "../ob/object-type.js";
import { dereference } from "../ob/reference.js";
import { topOfStack } from "./objects.js";
import { queueKernelApc } from "./apc.js";
import { ethreadOf, FILE_OBJECT, FO_SKIP_COMPLETION_PORT, FO_SKIP_SET_EVENT, FO_SYNCHRONOUS_IO, type ETHREAD, type KernelApc } from "./process.js";
import type { OVERLAPPED } from "./overlapped.js";
import { INFINITE, userWait } from "./user-wait.js";

/** IRP flags the I/O manager sets. */
export const IRP_SYNCHRONOUS_API = 0x04;
export const IRP_BUFFERED_IO = 0x10;
export const IRP_DEALLOCATE_BUFFER = 0x20;
export const IRP_INPUT_OPERATION = 0x40;

/** A request the I/O manager issued for a user thread, until it is finished (also the kernel APC that finishes it). */
export class IoRequest implements KernelApc {
  /** What IoCallDriver returned (undefined until it returns). */
  returned: NTSTATUS | undefined = undefined;
  /** The completion work was handed to the thread (inline or as an APC). */
  completionQueued = false;
  /** Finished: status block written, events set, IRP freed. */
  done = false;
  /** Final status and bytes. */
  status: NTSTATUS = STATUS_PENDING;
  information = 0;
  /** Set once the request is finished (what the I/O manager itself waits on for a caller that waits); made when first needed. */
  private done_: KEVENT | null = null;

  constructor(
    readonly irp: IRP,
    readonly file: FILE_OBJECT,
    readonly thread: ETHREAD,
    /** The caller's OVERLAPPED, or null. */
    readonly overlapped: OVERLAPPED | null,
    /** The event to set on completion (hEvent), or null. */
    readonly userEvent: KEVENT | null,
    /** hEvent had its low bit set: no completion packet. */
    readonly noPort: boolean,
    /** Issued on a file opened for synchronous I/O (IRP_SYNCHRONOUS_API). */
    readonly synchronous: boolean,
    /** Releases the transfer's buffers with the final status (copy-back, unlock, free). */
    readonly transfer: { finish(irp: IRP): void },
  ) {}

  /** The completion APC's routine: IopCompleteRequest in the issuing thread. */
  KernelRoutine(): void {
    completeRequest(this);
  }

  /** The event set when the request is finished. */
  get doneEvent(): KEVENT {
    return (this.done_ ??= new KEVENT());
  }

  /** Marks the request finished and wakes whoever waits for it. */
  markDone(): void {
    this.done = true;
    if (this.done_) KeSetEvent(this.done_, 0, false);
  }
}

/** Takes the lock of a file opened for synchronous I/O (one request at a time). */
async function acquireFileLock(thread: ETHREAD, file: FILE_OBJECT): Promise<void> {
  while (file.Busy) {
    file.Waiters++;
    try {
      await userWait(thread, [file.Lock], WAIT_TYPE.WaitAny, INFINITE);
    } finally {
      file.Waiters--;
    }
  }
  file.Busy = true;
}

function releaseFileLock(file: FILE_OBJECT): void {
  file.Busy = false;
  if (file.Waiters > 0) KeSetEvent(file.Lock, 0, false);
}

/**
 * Drops a reference to `file`; the last one deletes it (IopDeleteFile below). Resolves
 * once the close (if sent here) is done.
 */
export async function dereferenceFileObject(file: FILE_OBJECT): Promise<void> {
  const k = KE();
  const deleting = dereference(k, OB(k).headerOf(file)!);
  if (deleting instanceof Promise) await deleting;
}

/**
 * IopCloseFile, the file type's close procedure: when the file's last handle closes, the
 * I/O manager sends IRP_MJ_CLEANUP (even with requests still outstanding: the driver
 * cancels or completes them) and waits for it.
 */
async function IopCloseFile(object: object, HandleCount: number): Promise<void> {
  const file = object as FILE_OBJECT;
  if (HandleCount > 0 || file.cleanedUp || file.closed) return;
  file.cleanedUp = true;
  await sendFileIrp(file, IRP_MJ_CLEANUP);
}

/**
 * IopDeleteFile, the file type's delete procedure: the last reference sends IRP_MJ_CLOSE,
 * from a system worker thread when the caller is not at PASSIVE_LEVEL in a thread (as
 * object deletion is deferred), then drops the file's count on its device. A file whose
 * create failed (`closed` already) sends nothing.
 */
async function IopDeleteFile(object: object): Promise<void> {
  const file = object as FILE_OBJECT;
  if (file.closed) return;
  file.closed = true;
  const k = KE();
  // Once closed, the device may go (a removal waiting for its last handle).
  const close = async () => {
    await sendFileIrp(file, IRP_MJ_CLOSE);
    IO(k).dereferenceDevice(file.DeviceObject);
  };
  if (k.cpu.irql === PASSIVE_LEVEL && k.cpu.CurrentThread) {
    await close();
    return;
  }
  workers(k).queue(WORK_QUEUE_TYPE.DelayedWorkQueue, {
    routine: close,
    owner: "nt",
    name: "IopDeleteFile",
    parameter: file,
    address: 0,
  });
}

IoFileObjectType.TypeInfo.CloseProcedure = IopCloseFile;
IoFileObjectType.TypeInfo.DeleteProcedure = IopDeleteFile;

/**
 * IopCompleteRequest: finishes `req` in the issuing thread's context at APC_LEVEL (see the
 * file comment for what it does and when a failed request skips notification).
 */
function completeRequest(req: IoRequest): void {
  const k = KE();
  k.chargePs(k.cost.IoCompletionApc);
  const { irp, file, thread } = req;
  // NTSTATUS values are kept as unsigned 32-bit numbers, as the status block holds them.
  const status = irp.IoStatus.Status >>> 0;
  const information = typeof irp.IoStatus.Information === "number" ? irp.IoStatus.Information : 0;
  req.transfer.finish(irp);
  thread.IrpList.delete(irp);
  file.outstandingIrps.delete(irp);
  const pended = irp.PendingReturned || req.returned === STATUS_PENDING;
  req.status = status;
  req.information = information;
  if (req.synchronous) file.FinalStatus = status;
  if (!NT_ERROR(status) || pended) {
    if (req.overlapped) {
      req.overlapped.Internal = status;
      req.overlapped.InternalHigh = information;
    }
    if (req.userEvent) KeSetEvent(req.userEvent, 0, false);
    else if (req.synchronous || (file.Flags & FO_SKIP_SET_EVENT) === 0) KeSetEvent(file.Event, 0, false);
    const port = file.CompletionContext;
    const skip = (file.Flags & FO_SKIP_COMPLETION_PORT) !== 0 && !pended && NT_SUCCESS(status);
    if (port && req.overlapped && !req.noPort && !skip) {
      KeInsertQueue(port.Port, { Key: port.Key, Overlapped: req.overlapped, Status: status, Information: information });
    }
  }
  IoFreeIrp(irp);
  req.markDone();
  if (file.PointerCount > 1) file.PointerCount--;
  else void dereferenceFileObject(file);
}

/** Finishes `req` now, on the issuing thread, at APC_LEVEL. */
function completeInline(req: IoRequest): void {
  req.completionQueued = true;
  const old = KeRaiseIrql(APC_LEVEL);
  try {
    completeRequest(req);
  } finally {
    KeLowerIrql(old);
  }
}

/** The IRP reached the top of its stack: hand the completion to the issuing thread. */
function irpCompleted(req: IoRequest): void {
  // Not pended and IoCallDriver has not returned yet: the issuing thread finishes it inline.
  if (req.returned === undefined && !req.irp.PendingReturned) return;
  if (req.completionQueued) return;
  req.completionQueued = true;
  queueKernelApc(req.thread, req);
}

/** onCompleted of a request's IRP (its request is the IRP's onCompletedContext). */
function requestIrpCompleted(irp: IRP): void {
  irpCompleted(irp.onCompletedContext as IoRequest);
}

/** The transfer of a request that has no buffers (IRP_MJ_CREATE). */
const NOTHING_TO_FINISH = { finish(): void {} };

/** How the caller wants a request carried out. */
export interface RequestOptions {
  /** The caller's OVERLAPPED (null: none). */
  overlapped: OVERLAPPED | null;
  /** The event object named by overlapped.hEvent, or null. */
  userEvent: KEVENT | null;
  /** hEvent's low bit was set. */
  noPort: boolean;
  /** Fills the IRP (its next stack location is the driver's). */
  setup(irp: IRP): void;
  /** Releases the transfer's buffers once the IRP completed (status in irp.IoStatus). */
  finish(irp: IRP): void;
}

/**
 * Issues a request on `file` for the calling thread. On a synchronous file, or without an
 * OVERLAPPED, waits until it is finished and resolves to its final status and bytes; an
 * overlapped request resolves as soon as the driver returned (STATUS_PENDING while it is
 * in progress).
 */
export async function issueRequest(thread: ETHREAD, file: FILE_OBJECT, options: RequestOptions): Promise<{ status: NTSTATUS; information: number }> {
  const synchronous = (file.Flags & FO_SYNCHRONOUS_IO) !== 0;
  if (synchronous) {
    if (file.Busy) await acquireFileLock(thread, file);
    else file.Busy = true;
  }
  const device = topOfStack(file.DeviceObject);
  const irp = IoAllocateIrp(device.StackSize, false);
  if (!irp) {
    if (synchronous) releaseFileLock(file);
    return { status: STATUS_INSUFFICIENT_RESOURCES, information: 0 };
  }
  irp.RequestorMode = KPROCESSOR_MODE.UserMode;
  irp.Tail.Overlay.Thread = thread.Tcb;
  if (synchronous) irp.Flags |= IRP_SYNCHRONOUS_API;
  irp.UserEvent = options.userEvent;
  if (options.userEvent) KeResetEvent(options.userEvent);
  KeClearEvent(file.Event);
  IoGetNextIrpStackLocation(irp).FileObject = file;
  options.setup(irp);
  const req = new IoRequest(irp, file, thread, options.overlapped, options.userEvent, options.noPort, synchronous, options);
  thread.IrpList.set(irp, req);
  file.outstandingIrps.add(irp);
  file.PointerCount++;
  irp.onCompleted = requestIrpCompleted;
  irp.onCompletedContext = req;
  try {
    const returned = IoCallDriver(device, irp);
    req.returned = returned instanceof Promise ? await returned : returned;
    if (irp.completed && !req.completionQueued) completeInline(req);
    // Without an OVERLAPPED the caller waits for the request (kernel32 waits on the file
    // handle; the request's own event stands in, so another request's completion cannot end it).
    if (synchronous || !options.overlapped) {
      while (!req.done) await userWait(thread, [req.doneEvent], WAIT_TYPE.WaitAny, INFINITE);
    }
  } finally {
    if (synchronous) releaseFileLock(file);
  }
  if (req.done) return { status: req.status, information: req.information };
  return { status: req.returned, information: 0 };
}

/**
 * Sends IRP_MJ_CREATE, IRP_MJ_CLEANUP or IRP_MJ_CLOSE for `file` and waits for it (a user
 * thread delivers its kernel APCs meanwhile). Resolves to the final status.
 */
export async function sendFileIrp(file: FILE_OBJECT, major: number, setup: (irp: IRP) => void = () => {}): Promise<NTSTATUS> {
  const k = KE();
  const device = topOfStack(file.DeviceObject);
  const irp = IoAllocateIrp(device.StackSize, false);
  if (!irp) return STATUS_INSUFFICIENT_RESOURCES;
  const event = new KEVENT();
  KeInitializeEvent(event, EVENT_TYPE.NotificationEvent, false);
  irp.UserEvent = event;
  irp.Flags |= IRP_SYNCHRONOUS_API;
  const current = k.cpu.CurrentThread;
  const thread = current ? ethreadOf(current) : undefined;
  irp.RequestorMode = thread ? KPROCESSOR_MODE.UserMode : KPROCESSOR_MODE.KernelMode;
  irp.Tail.Overlay.Thread = current;
  irp.onCompleted = (done) => {
    KeSetEvent(done.UserEvent!, 0, false);
  };
  const next = IoGetNextIrpStackLocation(irp);
  next.MajorFunction = major;
  next.FileObject = file;
  setup(irp);
  // The create is on the thread's IRP list while it runs (CancelSynchronousIo can cancel it).
  if (thread && major === IRP_MJ_CREATE) {
    thread.IrpList.set(irp, new IoRequest(irp, file, thread, null, null, true, true, NOTHING_TO_FINISH));
  }
  try {
    await IoCallDriver(device, irp);
    while (!irp.completed) {
      if (thread) await userWait(thread, [event], WAIT_TYPE.WaitAny, INFINITE);
      else await KeWaitForSingleObject(event, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
    }
  } finally {
    thread?.IrpList.delete(irp);
  }
  IoFreeIrp(irp);
  return irp.IoStatus.Status;
}
