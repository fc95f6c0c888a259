/**
 * Request bookkeeping of the disk FDO:
 *
 * - The remove lock (ClassAcquireRemoveLock / ClassReleaseRemoveLock): every request that
 *   enters the driver holds it until it is completed or passed down; IRP_MN_REMOVE_DEVICE
 *   waits for all of them. Acquiring tells the caller whether a removal has begun
 *   (REMOVE_STATE), as classpnp's routine does: requests then fail with
 *   STATUS_DEVICE_DOES_NOT_EXIST.
 * - Held requests: while the device is powering down, out of D0, powering up, or stopped
 *   for rebalancing, new reads, writes, flushes and I/O controls wait (pending, cancelable)
 *   and run in arrival order once the device runs again; a removal fails them.
 * - Active I/O: original requests the driver has started on the device, so a power-down
 *   can wait until none is left.
 */
import type { DEVICE_OBJECT } from "../../io/objects.js";
import {
  IoCompleteRequest, IoGetCurrentIrpStackLocation, IoMarkIrpPending, IO_NO_INCREMENT, IRP_MJ_DEVICE_CONTROL, IRP_MJ_FLUSH_BUFFERS, IRP_MJ_READ,
  IRP_MJ_WRITE, type IRP,
} from "../../io/irp.js";
import { IoAcquireCancelSpinLock, IoReleaseCancelSpinLock, IoSetCancelRoutine } from "../../io/cancel.js";
import { IoAcquireRemoveLock, IoReleaseRemoveLock } from "../../io/remove-lock.js";
import { KeSetEvent } from "../../ke/dispatcher.js";
import { NT_SUCCESS, STATUS_CANCELLED, STATUS_PENDING, type NTSTATUS } from "../../ke/ntstatus.js";
import { REMOVE_STATE, type FUNCTIONAL_DEVICE_EXTENSION } from "./extension.js";

/** The FDO extension of a disk device object. */
export function fdoExtensionOf(DeviceObject: DEVICE_OBJECT): FUNCTIONAL_DEVICE_EXTENSION {
  return DeviceObject.DeviceExtension as FUNCTIONAL_DEVICE_EXTENSION;
}

/**
 * ClassAcquireRemoveLock: takes the remove lock for `Tag` and returns the removal state
 * (NO_REMOVE: go ahead). REMOVE_PENDING: the lock was taken, the caller releases it and
 * fails the request; REMOVE_COMPLETE: the lock is run down and was not taken.
 */
export function ClassAcquireRemoveLock(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Tag: unknown): REMOVE_STATE {
  if (!NT_SUCCESS(IoAcquireRemoveLock(fdoExtension.RemoveLock, Tag))) return REMOVE_STATE.REMOVE_COMPLETE;
  return fdoExtension.IsRemoved;
}

/** ClassReleaseRemoveLock: releases an acquisition made for `Tag`. */
export function ClassReleaseRemoveLock(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Tag: unknown): void {
  IoReleaseRemoveLock(fdoExtension.RemoveLock, Tag);
}

/** ClassCompleteRequest: completes `Irp` with the status and information already in it. */
export function ClassCompleteRequest(_DeviceObject: DEVICE_OBJECT, Irp: IRP, PriorityBoost: number): void {
  IoCompleteRequest(Irp, PriorityBoost);
}

/** Completes `Irp` with `status` and `information`, releasing the remove lock it holds. Returns `status`. */
export function completeAndRelease(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Irp: IRP, status: NTSTATUS, information = 0): NTSTATUS {
  Irp.IoStatus.Status = status;
  Irp.IoStatus.Information = information;
  ClassReleaseRemoveLock(fdoExtension, Irp);
  ClassCompleteRequest(fdoExtension.DeviceObject, Irp, IO_NO_INCREMENT);
  return status;
}

/** An original request starts on the device (counts toward what a power-down waits for). */
export function ClasspIoStarted(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION): void {
  fdoExtension.PrivateFdoData.ActiveIoCount++;
}

/** An original request is done on the device; the last one wakes a waiting power-down. */
export function ClasspIoDone(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION): void {
  const d = fdoExtension.PrivateFdoData;
  d.ActiveIoCount--;
  if (d.ActiveIoCount === 0) KeSetEvent(d.IdleEvent, 0, false);
}

/** True for the requests that wait while the device does not run. */
export function isHoldable(Irp: IRP): boolean {
  const major = IoGetCurrentIrpStackLocation(Irp).MajorFunction;
  return major === IRP_MJ_READ || major === IRP_MJ_WRITE || major === IRP_MJ_DEVICE_CONTROL || major === IRP_MJ_FLUSH_BUFFERS;
}

/** Cancel routine of a held request: takes it off the queue and completes it cancelled. */
function DiskCancelHeldRequest(DeviceObject: DEVICE_OBJECT, Irp: IRP): void {
  const fdoExtension = fdoExtensionOf(DeviceObject);
  const held = fdoExtension.HeldRequests;
  const i = held.indexOf(Irp);
  if (i >= 0) held.splice(i, 1);
  IoReleaseCancelSpinLock(Irp.CancelIrql);
  completeAndRelease(fdoExtension, Irp, STATUS_CANCELLED, 0);
}

/**
 * Holds `Irp` (which holds the remove lock) until the device runs again: marks it pending
 * and queues it with a cancel routine. Returns STATUS_PENDING, or STATUS_CANCELLED when
 * the request was cancelled already (then it is completed).
 */
export function ClasspHoldRequest(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Irp: IRP): NTSTATUS {
  const irql = IoAcquireCancelSpinLock();
  if (Irp.Cancel) {
    IoReleaseCancelSpinLock(irql);
    return completeAndRelease(fdoExtension, Irp, STATUS_CANCELLED, 0);
  }
  IoMarkIrpPending(Irp);
  IoSetCancelRoutine(Irp, DiskCancelHeldRequest);
  fdoExtension.HeldRequests.push(Irp);
  IoReleaseCancelSpinLock(irql);
  return STATUS_PENDING;
}

/** Takes every held request off the queue (those being cancelled right now stay with their cancel routine). */
export function ClasspTakeHeldRequests(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION): IRP[] {
  const taken: IRP[] = [];
  const irql = IoAcquireCancelSpinLock();
  for (const irp of fdoExtension.HeldRequests.splice(0)) {
    if (IoSetCancelRoutine(irp, null)) taken.push(irp);
  }
  IoReleaseCancelSpinLock(irql);
  return taken;
}

/** Fails every held request with `status` (the device is going). */
export function ClasspFailHeldRequests(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, status: NTSTATUS): void {
  for (const irp of ClasspTakeHeldRequests(fdoExtension)) completeAndRelease(fdoExtension, irp, status, 0);
}
