/**
 * IRP_MJ_FLUSH_BUFFERS (disk.sys's DiskShutdownFlush, DiskFlushDispatch, DiskFlushComplete).
 *
 * Flushes are combined: while one flush is at the device, the next one to arrive becomes
 * the representative of the following group and every later one joins that group; when
 * the flush at the device completes, its group's members complete with its status and
 * the representative's group goes next. A group's flush is SYNCHRONIZE CACHE (only when
 * the device's write cache is on), then SRB_FUNCTION_FLUSH sent in the representative IRP
 * itself; a failed SYNCHRONIZE CACHE makes the group fail even when the FLUSH succeeds. A
 * disk whose caches are power protected completes flushes at once.
 */
import type { DEVICE_OBJECT } from "../../io/objects.js";
import {
  IoCallDriver, IoGetCurrentIrpStackLocation, IoGetNextIrpStackLocation, IoMarkIrpPending, IoSetCompletionRoutine, IO_NO_INCREMENT, type IRP,
} from "../../io/irp.js";
import { KeSetEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON } from "../../ke/dispatcher.js";
import { KeAcquireSpinLock, KeReleaseSpinLock } from "../../ke/spinlock.js";
import { NT_SUCCESS, STATUS_DEVICE_DOES_NOT_EXIST, STATUS_PENDING, STATUS_SUCCESS, type NTSTATUS } from "../../ke/ntstatus.js";
import {
  IRP_MJ_SCSI, SP_UNTAGGED, SRB_FUNCTION_FLUSH, SRB_STATUS, SRB_STATUS_SUCCESS, SrbSetOriginalRequest, SrbSetRequestTag, SrbSetSrbFunction,
  SrbSetTimeOutValue, STORAGE_REQUEST_BLOCK,
} from "../storage/srb.js";
import { DEV_POWER_PROTECTED, DEV_WRITE_CACHE } from "./constants.js";
import { REMOVE_STATE, type FUNCTIONAL_DEVICE_EXTENSION } from "./extension.js";
import { DiskSynchronizeCache } from "./ioctl.js";
import {
  ClassAcquireRemoveLock, ClassCompleteRequest, ClasspHoldRequest, ClasspIoDone, ClasspIoStarted, ClassReleaseRemoveLock, completeAndRelease,
  fdoExtensionOf,
} from "./queue.js";
import { ClasspAllocateSrb, ClasspInitializeSrb } from "./request-block.js";
import { ClassInterpretSenseInfo } from "./sense.js";

/** IRP_MJ_FLUSH_BUFFERS: a removed disk fails it; a disk that is not running holds it. */
export async function DiskShutdownFlush(DeviceObject: DEVICE_OBJECT, Irp: IRP): Promise<NTSTATUS> {
  const fdoExtension = fdoExtensionOf(DeviceObject);
  const isRemoved = ClassAcquireRemoveLock(fdoExtension, Irp);
  if (isRemoved !== REMOVE_STATE.NO_REMOVE) {
    Irp.IoStatus.Status = STATUS_DEVICE_DOES_NOT_EXIST;
    if (isRemoved !== REMOVE_STATE.REMOVE_COMPLETE) ClassReleaseRemoveLock(fdoExtension, Irp);
    ClassCompleteRequest(DeviceObject, Irp, IO_NO_INCREMENT);
    return STATUS_DEVICE_DOES_NOT_EXIST;
  }
  if (fdoExtension.HoldReasons !== 0) return ClasspHoldRequest(fdoExtension, Irp);
  return DiskFlushWorker(fdoExtension, Irp);
}

/** The flush path for a request that holds the remove lock and may run now. */
export async function DiskFlushWorker(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Irp: IRP): Promise<NTSTATUS> {
  // Battery-backed caches: nothing to flush.
  if ((fdoExtension.DeviceFlags & DEV_POWER_PROTECTED) !== 0) return completeAndRelease(fdoExtension, Irp, STATUS_SUCCESS, 0);
  const flush = fdoExtension.DiskData.FlushContext;
  const irql = KeAcquireSpinLock(flush.Spinlock);
  // Most likely completed later.
  IoMarkIrpPending(Irp);
  if (flush.CurrIrp !== null) {
    if (flush.NextIrp !== null) {
      // Joins the next group; its representative completes it.
      flush.NextList.push(Irp);
      KeReleaseSpinLock(flush.Spinlock, irql);
      return STATUS_PENDING;
    }
    flush.NextIrp = Irp;
    KeReleaseSpinLock(flush.Spinlock, irql);
    // The flush at the device finishes first; then this group goes.
    await KeWaitForSingleObject(flush.Event, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
    const again = KeAcquireSpinLock(flush.Spinlock);
    flush.CurrList.push(...flush.NextList.splice(0));
    flush.CurrIrp = flush.NextIrp;
    flush.NextIrp = null;
    KeReleaseSpinLock(flush.Spinlock, again);
  } else {
    flush.CurrIrp = Irp;
    KeReleaseSpinLock(flush.Spinlock, irql);
  }
  await DiskFlushDispatch(fdoExtension);
  return STATUS_PENDING;
}

/** DiskFlushDispatch: SYNCHRONIZE CACHE when the write cache is on, then SRB_FUNCTION_FLUSH in the group's IRP. */
async function DiskFlushDispatch(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION): Promise<void> {
  const flush = fdoExtension.DiskData.FlushContext;
  const irp = flush.CurrIrp!;
  ClasspIoStarted(fdoExtension);
  flush.SyncCacheStatus = STATUS_SUCCESS;
  if ((fdoExtension.DeviceFlags & DEV_WRITE_CACHE) !== 0) flush.SyncCacheStatus = await DiskSynchronizeCache(fdoExtension);
  const srb = (flush.Srb ??= ClasspAllocateSrb(fdoExtension));
  ClasspInitializeSrb(fdoExtension, srb);
  SrbSetSrbFunction(srb, SRB_FUNCTION_FLUSH);
  // Not a SCSI command: no CDB.
  if (srb instanceof STORAGE_REQUEST_BLOCK) srb.SrbExData = [];
  else srb.CdbLength = 0;
  SrbSetTimeOutValue(srb, fdoExtension.TimeOutValue * 4);
  SrbSetRequestTag(srb, SP_UNTAGGED);
  srb.SrbFlags = fdoExtension.SrbFlags;
  SrbSetOriginalRequest(srb, irp);
  const next = IoGetNextIrpStackLocation(irp);
  next.MajorFunction = IRP_MJ_SCSI;
  next.MinorFunction = 0;
  next.Parameters.Scsi.Srb = srb;
  IoSetCompletionRoutine(irp, DiskFlushComplete, fdoExtension, true, true, true);
  void IoCallDriver(fdoExtension.LowerDeviceObject, irp);
}

/**
 * DiskFlushComplete: the FLUSH's status (ClassIoComplete: interpreted from the SRB, never
 * retried), or the SYNCHRONIZE CACHE's when that failed; the group's members complete
 * with it, and the next group may go.
 */
function DiskFlushComplete(_Fdo: DEVICE_OBJECT | null, Irp: IRP, Context: unknown): NTSTATUS {
  const fdoExtension = Context as FUNCTIONAL_DEVICE_EXTENSION;
  const flush = fdoExtension.DiskData.FlushContext;
  const srb = flush.Srb!;
  let status: NTSTATUS;
  if (SRB_STATUS(srb.SrbStatus) === SRB_STATUS_SUCCESS) status = STATUS_SUCCESS;
  else status = ClassInterpretSenseInfo(fdoExtension.DeviceObject, srb, IoGetCurrentIrpStackLocation(Irp).MajorFunction, 0, 0).Status;
  if (NT_SUCCESS(status) && !NT_SUCCESS(flush.SyncCacheStatus)) status = flush.SyncCacheStatus;
  Irp.IoStatus.Status = status;
  Irp.IoStatus.Information = 0;
  if (Irp.PendingReturned) IoMarkIrpPending(Irp);
  for (const member of flush.CurrList.splice(0)) {
    member.IoStatus.Status = Irp.IoStatus.Status;
    member.IoStatus.Information = Irp.IoStatus.Information;
    ClassReleaseRemoveLock(fdoExtension, member);
    ClassCompleteRequest(fdoExtension.DeviceObject, member, IO_NO_INCREMENT);
  }
  ClassReleaseRemoveLock(fdoExtension, Irp);
  ClasspIoDone(fdoExtension);
  // The next group's representative may go now.
  KeSetEvent(flush.Event, 0, false);
  return status;
}
