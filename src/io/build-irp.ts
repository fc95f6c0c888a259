/**
 * IRPs the I/O manager builds for drivers, and their reuse: IoBuildSynchronousFsdRequest,
 * IoBuildAsynchronousFsdRequest, IoBuildDeviceIoControlRequest and IoReuseIrp.
 *
 * Buffers are kernel virtual addresses. How the buffer reaches the target device depends
 * on the device (read and write: DO_DIRECT_IO, DO_BUFFERED_IO or neither) or on the
 * control code's method (METHOD_BUFFERED, METHOD_IN_DIRECT / METHOD_OUT_DIRECT,
 * METHOD_NEITHER): a system buffer in nonpaged pool (Irp.AssociatedIrp.SystemBuffer, with
 * IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER, and IRP_INPUT_OPERATION when data comes back),
 * an MDL locked with MmProbeAndLockPages (Irp.MdlAddress), or the caller's own address
 * (Irp.UserBuffer, Type3InputBuffer).
 *
 * The IRPs are the caller thread's (Tail.Overlay.Thread), and the I/O manager finishes
 * them when IoCompleteRequest reaches the top of the stack, in the two stages Windows
 * documents ("How Completion Processing Is Performed"):
 *
 * 1. in the completing context (any thread, IRQL <= DISPATCH_LEVEL): the pages of the
 *    IRP's MDLs are unlocked;
 * 2. at APC_LEVEL in the requesting context: buffered data is copied from the system
 *    buffer to Irp.UserBuffer (IoStatus.Information bytes, unless the status is an
 *    error) and the system buffer freed, the MDLs freed, IoStatus copied to the caller's
 *    IO_STATUS_BLOCK, the caller's event signalled, and the IRP freed.
 *
 * Windows runs stage 2 as a special kernel APC in the requesting thread. Here it runs at
 * once, at APC_LEVEL, when the IRP completes in that thread at PASSIVE_LEVEL (where the
 * APC would be delivered at once); otherwise (a DPC, another thread) it runs at APC_LEVEL
 * in a system worker thread, which stands in for the APC: the buffers are system
 * addresses, so the thread context does not matter, and the copy may page in what it
 * needs, as it may at APC_LEVEL. A completion routine that returns
 * STATUS_MORE_PROCESSING_REQUIRED stops both stages until the IRP is completed again.
 *
 * Drivers must not IoFreeIrp a synchronous FSD or device control request (the I/O manager
 * frees it). An asynchronous FSD request is normally freed by the caller, in a completion
 * routine that unlocks and frees the IRP's MDLs, calls IoFreeIrp and returns
 * STATUS_MORE_PROCESSING_REQUIRED; if it lets completion reach the top instead, the I/O
 * manager finishes it as above (it has a thread, and no event).
 */
import { KE, type Kernel } from "../ke/kernel.js";
import { DRIVER_VERIFIER_DETECTED_VIOLATION } from "../ke/bugcheck.js";
import { APC_LEVEL, PASSIVE_LEVEL } from "../ke/irql.js";
import { KeSetEvent, KPROCESSOR_MODE, type KEVENT } from "../ke/dispatcher.js";
import { lowerTo, raiseTo } from "../ke/level.js";
import { NT_ERROR, NtStatusException, type NTSTATUS } from "../ke/ntstatus.js";
import { WORK_QUEUE_TYPE, workers } from "../ke/worker.js";
import { RtlCopyMemory, type PVOID } from "../mm/memory.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../mm/pool.js";
import { LOCK_OPERATION, MDL, MDL_PAGES_LOCKED, MmProbeAndLockPages, MmUnlockPages } from "../mm/mdl.js";
import {
  IoAllocateIrp, IoFreeIrp, IoGetNextIrpStackLocation, IO_STATUS_BLOCK, IRP, IRP_MJ_DEVICE_CONTROL, IRP_MJ_INTERNAL_DEVICE_CONTROL,
  IRP_MJ_READ, IRP_MJ_WRITE,
} from "./irp.js";
import { METHOD_BUFFERED, METHOD_FROM_CTL_CODE, METHOD_IN_DIRECT, METHOD_NEITHER } from "./ioctl.js";
import { IoAllocateMdl, IoFreeMdl } from "./mdl.js";
import { DO_BUFFERED_IO, DO_DIRECT_IO, type DEVICE_OBJECT } from "./objects.js";
import { IRP_BUFFERED_IO, IRP_DEALLOCATE_BUFFER, IRP_INPUT_OPERATION } from "./usermode.js";

/** Pool tag of the system buffers the I/O manager allocates for the IRPs it builds. */
export const IO_SYSTEM_BUFFER_TAG = "Iosb";

/** 0xC4 P1: DDI compliance rule IrqlIoPassive1 (IoBuildDeviceIoControlRequest needs PASSIVE_LEVEL). */
export const DDI_RULE_IRQL_IO_PASSIVE1 = 0x0002000A;

/** Bytes the caller's output buffer holds, per IRP the I/O manager built (the limit of the buffered copy back). */
const outputLengths = new WeakMap<IRP, number>();

/** An IRP for `DeviceObject`'s stack, the next location set to `MajorFunction`, owned by the calling thread; null when none can be allocated. */
function newRequest(k: Kernel, DeviceObject: DEVICE_OBJECT, MajorFunction: number, IoStatusBlock: IO_STATUS_BLOCK | null, Event: KEVENT | null): IRP | null {
  const irp = IoAllocateIrp(DeviceObject.StackSize, false);
  if (!irp) return null;
  IoGetNextIrpStackLocation(irp).MajorFunction = MajorFunction;
  irp.RequestorMode = KPROCESSOR_MODE.KernelMode;
  irp.Tail.Overlay.Thread = k.cpu.CurrentThread;
  irp.UserIosb = IoStatusBlock;
  irp.UserEvent = Event;
  irp.onCompleted = IopCompleteRequest;
  return irp;
}

/**
 * Gives `Irp` a system buffer of `Length` bytes in nonpaged pool holding a copy of
 * `Length` bytes at `Input` (none when `Input` is 0); FALSE when the pool is exhausted.
 */
export function allocateSystemBuffer(Irp: IRP, Length: number, Input: PVOID, InputLength: number): boolean {
  const buffer = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, Length, IO_SYSTEM_BUFFER_TAG);
  if (buffer === 0) return false;
  Irp.AssociatedIrp.SystemBuffer = buffer;
  Irp.Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER;
  if (Input !== 0 && InputLength > 0) RtlCopyMemory(buffer, Input, InputLength);
  return true;
}

/**
 * Describes `Length` bytes at `Buffer` with an MDL on `Irp`'s chain (Irp.MdlAddress) and
 * locks its pages for `Operation` in kernel mode; FALSE when the MDL cannot be allocated
 * or the buffer cannot be probed (nothing stays locked or allocated then).
 */
export function lockBufferForIrp(Irp: IRP, Buffer: PVOID, Length: number, Operation: LOCK_OPERATION): boolean {
  const mdl = IoAllocateMdl(Buffer, Length, Irp.MdlAddress !== null, false, Irp);
  if (!mdl) return false;
  try {
    MmProbeAndLockPages(mdl, KPROCESSOR_MODE.KernelMode, Operation);
  } catch (e) {
    if (!(e instanceof NtStatusException)) throw e;
    unlinkMdl(Irp, mdl);
    IoFreeMdl(mdl);
    return false;
  }
  return true;
}

function unlinkMdl(Irp: IRP, mdl: MDL): void {
  if (Irp.MdlAddress === mdl) {
    Irp.MdlAddress = mdl.Next;
    return;
  }
  for (let m = Irp.MdlAddress as MDL | null; m; m = m.Next) {
    if (m.Next === mdl) {
      m.Next = mdl.Next;
      return;
    }
  }
}

/** Unlocks the pages of every MDL on the IRP's chain that has them locked (completion's first stage). */
export function unlockIrpMdls(Irp: IRP): void {
  for (let m = Irp.MdlAddress as MDL | null; m; m = m.Next) {
    if ((m.MdlFlags & MDL_PAGES_LOCKED) !== 0) MmUnlockPages(m);
  }
}

/** Unlocks (if still locked) and frees every MDL on the IRP's chain; Irp.MdlAddress becomes NULL. */
export function releaseIrpMdls(Irp: IRP): void {
  for (let m = Irp.MdlAddress as MDL | null; m; ) {
    const next = m.Next;
    if ((m.MdlFlags & MDL_PAGES_LOCKED) !== 0) MmUnlockPages(m);
    IoFreeMdl(m);
    m = next;
  }
  Irp.MdlAddress = null;
}

/** Frees what a partly built IRP holds and the IRP itself; returns NULL for the builder to return. */
function abandon(Irp: IRP): null {
  releaseIrpMdls(Irp);
  if ((Irp.Flags & IRP_DEALLOCATE_BUFFER) !== 0 && Irp.AssociatedIrp.SystemBuffer !== 0) {
    ExFreePoolWithTag(Irp.AssociatedIrp.SystemBuffer, IO_SYSTEM_BUFFER_TAG);
    Irp.AssociatedIrp.SystemBuffer = 0;
  }
  Irp.onCompleted = null;
  IoFreeIrp(Irp);
  return null;
}

/** The read/write part common to both FSD builders: parameters and the buffer by transfer type. */
function setUpFsdRequest(Irp: IRP, MajorFunction: number, DeviceObject: DEVICE_OBJECT, Buffer: PVOID, Length: number, StartingOffset: number | null): IRP | null {
  if (MajorFunction !== IRP_MJ_READ && MajorFunction !== IRP_MJ_WRITE) return Irp;
  const s = IoGetNextIrpStackLocation(Irp);
  s.Parameters.Read.Length = Length;
  s.Parameters.Read.ByteOffset = StartingOffset ?? 0;
  Irp.UserBuffer = Buffer;
  const read = MajorFunction === IRP_MJ_READ;
  if ((DeviceObject.Flags & DO_DIRECT_IO) !== 0) {
    // A read fills the caller's buffer (the device writes memory); a write only reads it.
    if (Length > 0 && !lockBufferForIrp(Irp, Buffer, Length, read ? LOCK_OPERATION.IoWriteAccess : LOCK_OPERATION.IoReadAccess)) return abandon(Irp);
  } else if ((DeviceObject.Flags & DO_BUFFERED_IO) !== 0) {
    if (Length > 0 && !allocateSystemBuffer(Irp, Length, read ? 0 : Buffer, Length)) return abandon(Irp);
    if (read) {
      Irp.Flags |= IRP_INPUT_OPERATION;
      outputLengths.set(Irp, Length);
    }
  }
  return Irp;
}

/**
 * IoBuildSynchronousFsdRequest: an IRP for `MajorFunction` (IRP_MJ_READ, IRP_MJ_WRITE,
 * IRP_MJ_FLUSH_BUFFERS, IRP_MJ_SHUTDOWN or IRP_MJ_PNP) to send to `DeviceObject` (the next
 * lower driver's device), with the next stack location set up; NULL if it cannot be
 * built. For a read or write, `Length` bytes at `Buffer` (a kernel address) starting at
 * byte `StartingOffset` of the device go through a system buffer (DO_BUFFERED_IO), a
 * locked MDL (DO_DIRECT_IO) or Irp.UserBuffer (neither). The I/O manager completes the
 * IRP: it copies the final IoStatus into `IoStatusBlock`, sets `Event` and frees the IRP.
 * The caller waits on `Event` when IoCallDriver returns STATUS_PENDING. PASSIVE_LEVEL.
 */
export function IoBuildSynchronousFsdRequest(MajorFunction: number, DeviceObject: DEVICE_OBJECT, Buffer: PVOID, Length: number, StartingOffset: number | null, Event: KEVENT, IoStatusBlock: IO_STATUS_BLOCK): IRP | null {
  const k = KE();
  k.chargePs(k.cost.IoBuildSynchronousFsdRequest);
  const irp = newRequest(k, DeviceObject, MajorFunction, IoStatusBlock, Event);
  return irp && setUpFsdRequest(irp, MajorFunction, DeviceObject, Buffer, Length, StartingOffset);
}

/**
 * IoBuildAsynchronousFsdRequest: as IoBuildSynchronousFsdRequest without an event. The
 * caller frees the IRP: a completion routine unlocks and frees Irp.MdlAddress's MDLs,
 * calls IoFreeIrp and returns STATUS_MORE_PROCESSING_REQUIRED. `IoStatusBlock` (optional)
 * receives the final status if completion is left to reach the I/O manager. IRQL <=
 * DISPATCH_LEVEL; Tail.Overlay.Thread is the calling thread (none in a DPC).
 */
export function IoBuildAsynchronousFsdRequest(MajorFunction: number, DeviceObject: DEVICE_OBJECT, Buffer: PVOID, Length: number, StartingOffset: number | null, IoStatusBlock: IO_STATUS_BLOCK | null): IRP | null {
  const k = KE();
  k.chargePs(k.cost.IoBuildAsynchronousFsdRequest);
  const irp = newRequest(k, DeviceObject, MajorFunction, IoStatusBlock, null);
  return irp && setUpFsdRequest(irp, MajorFunction, DeviceObject, Buffer, Length, StartingOffset);
}

/**
 * IoBuildDeviceIoControlRequest: an IRP_MJ_DEVICE_CONTROL (IRP_MJ_INTERNAL_DEVICE_CONTROL
 * when `InternalDeviceIoControl`) request for `IoControlCode` to `DeviceObject`; NULL if it
 * cannot be built. Buffers by the code's method: METHOD_BUFFERED, one system buffer of
 * max(input, output) bytes holding the input, IoStatus.Information bytes copied back to
 * `OutputBuffer` when it completes without an error status; METHOD_IN_DIRECT /
 * METHOD_OUT_DIRECT, the input in a system buffer and `OutputBuffer` described by an MDL
 * locked for read (IN) or write (OUT) access; METHOD_NEITHER, `InputBuffer` as
 * Parameters.DeviceIoControl.Type3InputBuffer and `OutputBuffer` as Irp.UserBuffer. The
 * I/O manager completes and frees the IRP, copies IoStatus to `IoStatusBlock` and sets
 * `Event` (optional: without one the caller learns of completion from a completion
 * routine). PASSIVE_LEVEL (0xC4 / 0x0002000A under the verifier otherwise).
 */
export function IoBuildDeviceIoControlRequest(
  IoControlCode: number, DeviceObject: DEVICE_OBJECT, InputBuffer: PVOID | null, InputBufferLength: number, OutputBuffer: PVOID | null,
  OutputBufferLength: number, InternalDeviceIoControl: boolean, Event: KEVENT | null, IoStatusBlock: IO_STATUS_BLOCK,
): IRP | null {
  const k = KE();
  k.chargePs(k.cost.IoBuildDeviceIoControlRequest);
  if (k.verifier && k.cpu.irql !== PASSIVE_LEVEL) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_IO_PASSIVE1, 0, 0, 0);
  const input = InputBuffer ?? 0;
  const output = OutputBuffer ?? 0;
  const irp = newRequest(k, DeviceObject, InternalDeviceIoControl ? IRP_MJ_INTERNAL_DEVICE_CONTROL : IRP_MJ_DEVICE_CONTROL, IoStatusBlock, Event);
  if (!irp) return null;
  const p = IoGetNextIrpStackLocation(irp).Parameters.DeviceIoControl;
  p.OutputBufferLength = OutputBufferLength;
  p.InputBufferLength = InputBufferLength;
  p.IoControlCode = IoControlCode >>> 0;
  irp.UserBuffer = output;
  const method = METHOD_FROM_CTL_CODE(IoControlCode);
  if (method === METHOD_BUFFERED) {
    const length = Math.max(InputBufferLength, OutputBufferLength);
    if (length > 0 && !allocateSystemBuffer(irp, length, input, InputBufferLength)) return abandon(irp);
    if (output !== 0 && OutputBufferLength > 0) {
      irp.Flags |= IRP_INPUT_OPERATION;
      outputLengths.set(irp, OutputBufferLength);
    }
  } else if (method === METHOD_NEITHER) {
    p.Type3InputBuffer = input;
  } else {
    if (input !== 0 && InputBufferLength > 0 && !allocateSystemBuffer(irp, InputBufferLength, input, InputBufferLength)) return abandon(irp);
    const operation = method === METHOD_IN_DIRECT ? LOCK_OPERATION.IoReadAccess : LOCK_OPERATION.IoWriteAccess;
    if (output !== 0 && OutputBufferLength > 0 && !lockBufferForIrp(irp, output, OutputBufferLength, operation)) return abandon(irp);
  }
  return irp;
}

/**
 * The I/O manager's end of an IRP it built, once IoCompleteRequest has run the whole
 * stack: stage 1 (unlock the MDLs' pages) here, stage 2 at APC_LEVEL in the requesting
 * context (see the file comment).
 */
function IopCompleteRequest(Irp: IRP): void {
  const k = KE();
  unlockIrpMdls(Irp);
  const cpu = k.cpu;
  const thread = Irp.Tail.Overlay.Thread;
  if (thread !== null && thread === cpu.CurrentThread && cpu.irql === PASSIVE_LEVEL) {
    k.invoke("nt", "IopCompleteRequest", () => finishRequest(k, Irp));
    return;
  }
  workers(k).queue(WORK_QUEUE_TYPE.CriticalWorkQueue, {
    routine: () => finishRequest(KE(), Irp), owner: "nt", name: "IopCompleteRequest", parameter: Irp, address: Irp.address,
  });
}

/** Completion's second stage, at APC_LEVEL: copy back, free the buffers, report the status, signal, free the IRP. */
function finishRequest(k: Kernel, Irp: IRP): void {
  const old = raiseTo(k, APC_LEVEL);
  k.chargePs(k.cost.IopCompleteRequest);
  const status: NTSTATUS = Irp.IoStatus.Status;
  const systemBuffer = Irp.AssociatedIrp.SystemBuffer;
  if ((Irp.Flags & (IRP_BUFFERED_IO | IRP_INPUT_OPERATION)) === (IRP_BUFFERED_IO | IRP_INPUT_OPERATION) && !NT_ERROR(status) && systemBuffer !== 0) {
    const bytes = Math.min(Number(Irp.IoStatus.Information) || 0, outputLengths.get(Irp) ?? 0);
    if (bytes > 0 && Irp.UserBuffer !== 0) RtlCopyMemory(Irp.UserBuffer, systemBuffer, bytes);
  }
  if ((Irp.Flags & IRP_DEALLOCATE_BUFFER) !== 0 && systemBuffer !== 0) {
    ExFreePoolWithTag(systemBuffer, IO_SYSTEM_BUFFER_TAG);
    Irp.AssociatedIrp.SystemBuffer = 0;
  }
  releaseIrpMdls(Irp);
  if (Irp.UserIosb) {
    Irp.UserIosb.Status = status;
    Irp.UserIosb.Information = Irp.IoStatus.Information;
  }
  if (Irp.UserEvent) KeSetEvent(Irp.UserEvent, 0, false);
  outputLengths.delete(Irp);
  IoFreeIrp(Irp);
  lowerTo(k, k.cpu, old);
}

/**
 * IoReuseIrp: reinitializes an IRP the driver allocated (IoAllocateIrp) so it can be sent
 * again: no current stack location (CurrentLocation = StackCount + 1), every location
 * cleared, no MDL, buffers, flags, cancel state or pending state, IoStatus.Status =
 * `Iostatus` and Information 0. Not for IRPs from IoMakeAssociatedIrp or the IoBuild*
 * routines. IRQL <= DISPATCH_LEVEL.
 */
export function IoReuseIrp(Irp: IRP, Iostatus: NTSTATUS): void {
  const k = KE();
  k.chargePs(k.cost.IoReuseIrp);
  if (Irp.traced) k.recorder.asyncEnd(Irp.serial, Irp.traced, "irp", k.cpu.time, { reused: true });
  Irp.traced = "";
  Irp.reinitialize(Iostatus);
  outputLengths.delete(Irp);
}
