/**
 * RaceCancel: a driver with a cancel race in it on purpose, for `wdmsim explore` and its
 * tests. Its one request (IOCTL_RACE_PEND) pends and completes from a timer DPC, as a
 * device driver completes from its interrupt's DPC, and it can be cancelled.
 *
 * The bug: the cancel routine gives back the cancel spin lock, then clears the driver's
 * pending request and completes the IRP without checking, under the driver's lock, that
 * the DPC has not taken it already (the check a cancel-safe queue makes). When cancel and
 * completion do not overlap, every request completes once. When the DPC runs between the
 * cancel routine's release of the cancel spin lock and its completion, it completes the
 * IRP, and the cancel routine completes it again: bug check 0x44
 * MULTIPLE_IRP_COMPLETE_REQUESTS.
 */
import {
  CTL_CODE, DO_BUFFERED_IO, DO_DEVICE_INITIALIZING, FILE_ANY_ACCESS, FILE_DEVICE_UNKNOWN, IO_NO_INCREMENT, IoCompleteRequest, IoCreateDevice,
  IoGetCurrentIrpStackLocation, IoMarkIrpPending, IoReleaseCancelSpinLock, IoSetCancelRoutine, IRP_MJ_CLOSE, IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL,
  KDPC, KeAcquireSpinLock, KeAcquireSpinLockAtDpcLevel, KeInitializeDpc, KeInitializeSpinLock, KeInitializeTimer, KeReleaseSpinLock,
  KeReleaseSpinLockFromDpcLevel, KeSetTimer, KSPIN_LOCK, KTIMER, METHOD_BUFFERED, STATUS_CANCELLED, STATUS_INVALID_DEVICE_REQUEST, STATUS_PENDING,
  STATUS_SUCCESS, type DEVICE_OBJECT, type DRIVER_OBJECT, type IRP, type NTSTATUS,
} from "../../../index.js";

/** The driver's service name. */
export const RACE_CANCEL_SERVICE = "racecancel";
/** Its device's name. */
export const RACE_CANCEL_DEVICE = "\\Device\\RaceCancel";
/** Pends; completes with STATUS_SUCCESS after RACE_CANCEL_COMPLETION_US, or is cancelled. */
export const IOCTL_RACE_PEND = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x980, METHOD_BUFFERED, FILE_ANY_ACCESS);
/** When the DPC completes a pending request, µs after it was sent. */
export const RACE_CANCEL_COMPLETION_US = 100;

/** The device extension. */
class RACE_CANCEL_EXTENSION {
  readonly Lock = new KSPIN_LOCK();
  Pending: IRP | null = null;
  readonly Timer = new KTIMER();
  readonly Dpc = new KDPC();
}

function complete(irp: IRP, status: NTSTATUS): NTSTATUS {
  irp.IoStatus.Status = status;
  irp.IoStatus.Information = 0;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
  return status;
}

function RaceCancelIrp(device: DEVICE_OBJECT, irp: IRP): void {
  const ext = device.DeviceExtension as RACE_CANCEL_EXTENSION;
  IoReleaseCancelSpinLock(irp.CancelIrql);
  const old = KeAcquireSpinLock(ext.Lock);
  ext.Pending = null; // The bug: no check that ext.Pending is still this IRP (the DPC may own it).
  KeReleaseSpinLock(ext.Lock, old);
  complete(irp, STATUS_CANCELLED);
}

function RaceCancelDpc(_dpc: KDPC, context: unknown): void {
  const ext = context as RACE_CANCEL_EXTENSION;
  KeAcquireSpinLockAtDpcLevel(ext.Lock);
  const irp = ext.Pending;
  ext.Pending = null;
  KeReleaseSpinLockFromDpcLevel(ext.Lock);
  if (irp === null) return;
  IoSetCancelRoutine(irp, null);
  complete(irp, STATUS_SUCCESS);
}

function RaceCancelDeviceControl(device: DEVICE_OBJECT, irp: IRP): NTSTATUS {
  const ext = device.DeviceExtension as RACE_CANCEL_EXTENSION;
  if (IoGetCurrentIrpStackLocation(irp).Parameters.DeviceIoControl.IoControlCode !== IOCTL_RACE_PEND) return complete(irp, STATUS_INVALID_DEVICE_REQUEST);
  IoMarkIrpPending(irp);
  const old = KeAcquireSpinLock(ext.Lock);
  IoSetCancelRoutine(irp, RaceCancelIrp);
  ext.Pending = irp;
  KeReleaseSpinLock(ext.Lock, old);
  KeSetTimer(ext.Timer, -RACE_CANCEL_COMPLETION_US * 10, ext.Dpc);
  return STATUS_PENDING;
}

function RaceCancelCreateClose(_device: DEVICE_OBJECT, irp: IRP): NTSTATUS {
  return complete(irp, STATUS_SUCCESS);
}

/** DriverEntry: one device, \\Device\\RaceCancel. */
export function DriverEntry(DriverObject: DRIVER_OBJECT): NTSTATUS {
  const ext = new RACE_CANCEL_EXTENSION();
  const { status, DeviceObject } = IoCreateDevice(DriverObject, ext, RACE_CANCEL_DEVICE, FILE_DEVICE_UNKNOWN, 0, false);
  if (DeviceObject === null) return status;
  KeInitializeSpinLock(ext.Lock);
  KeInitializeTimer(ext.Timer);
  KeInitializeDpc(ext.Dpc, RaceCancelDpc, ext);
  DeviceObject.Flags |= DO_BUFFERED_IO;
  DeviceObject.Flags &= ~DO_DEVICE_INITIALIZING;
  DriverObject.MajorFunction[IRP_MJ_CREATE] = RaceCancelCreateClose;
  DriverObject.MajorFunction[IRP_MJ_CLOSE] = RaceCancelCreateClose;
  DriverObject.MajorFunction[IRP_MJ_DEVICE_CONTROL] = RaceCancelDeviceControl;
  return STATUS_SUCCESS;
}
