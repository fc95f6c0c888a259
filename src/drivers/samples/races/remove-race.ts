/**
 * RaceRemove: a PnP function driver with a remove race in it on purpose, for `wdmsim
 * explore` and its tests. Its request (IOCTL_RACE_READ) pends and completes from a timer
 * DPC, which copies a value from the device's buffer in pool into the request, as a
 * device driver's DPC copies from its common buffer.
 *
 * The bug: IRP_MN_REMOVE_DEVICE cancels the timer and, when KeCancelTimer says it was no
 * longer set, takes it that the DPC has already run; it frees the buffer and deletes the
 * device. KeCancelTimer returning FALSE only says the timer expired: its DPC may still be
 * queued, waiting for a processor (the driver should wait for it, with a remove lock
 * around the request or KeFlushQueuedDpcs). When the DPC runs on time, every request
 * completes. When it is delivered after the remove, the driver unloads with its DPC still
 * queued: bug check 0xC7 TIMER_OR_DPC_INVALID at the unload (P1 1, a DPC object). (Were
 * it to stay loaded, the DPC would read through the freed buffer's NULL pointer: 0xD1.)
 */
import {
  CTL_CODE, DO_BUFFERED_IO, DO_DEVICE_INITIALIZING, ExAllocatePool2, ExFreePoolWithTag, FILE_ANY_ACCESS, FILE_DEVICE_UNKNOWN, IO_NO_INCREMENT,
  IoAttachDeviceToDeviceStack, IoCallDriver, IoCompleteRequest, IoCreateDevice, IoDeleteDevice, IoDetachDevice, IoGetCurrentIrpStackLocation,
  IoMarkIrpPending, IoSkipCurrentIrpStackLocation, IRP_MJ_CLOSE, IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL, IRP_MJ_PNP, IRP_MN_CANCEL_REMOVE_DEVICE, IRP_MN_QUERY_REMOVE_DEVICE, IRP_MN_REMOVE_DEVICE, KDPC,
  KeCancelTimer, KeInitializeDpc, KeInitializeTimer, KeSetTimer, KTIMER, METHOD_BUFFERED, POOL_FLAG_NON_PAGED, RtlCopyMemory,
  STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_DEVICE_REQUEST, STATUS_NO_SUCH_DEVICE, STATUS_PENDING, STATUS_SUCCESS, writeU32,
  type DEVICE_OBJECT, type DRIVER_OBJECT, type IRP, type NTSTATUS,
} from "../../../index.js";

/** The driver's service name. */
export const RACE_REMOVE_SERVICE = "raceremove";
/** The hardware ID of its root-enumerated device. */
export const RACE_REMOVE_HARDWARE_ID = "root\\raceremove";
/** Pends; the DPC completes it after RACE_REMOVE_COMPLETION_US with the device's 4-byte value. */
export const IOCTL_RACE_READ = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x982, METHOD_BUFFERED, FILE_ANY_ACCESS);
/** When the DPC completes a pending request, µs after it was sent. */
export const RACE_REMOVE_COMPLETION_US = 40;
/** The value the device's buffer holds. */
export const RACE_REMOVE_VALUE = 0x5EED;
/** Pool tag of the device's buffer ('RcRm'). */
const TAG = 0x6D526352;

/** The device extension (the workload finds the device by it). */
export class RACE_REMOVE_EXTENSION {
  Lower: DEVICE_OBJECT | null = null;
  Pdo: DEVICE_OBJECT | null = null;
  /** The device's buffer in non-paged pool (0 once freed). */
  Buffer = 0;
  Pending: IRP | null = null;
  readonly Timer = new KTIMER();
  readonly Dpc = new KDPC();
}

function complete(irp: IRP, status: NTSTATUS, information: number): NTSTATUS {
  irp.IoStatus.Status = status;
  irp.IoStatus.Information = information;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
  return status;
}

function RaceRemoveDpc(_dpc: KDPC, context: unknown): void {
  const ext = context as RACE_REMOVE_EXTENSION;
  const irp = ext.Pending!;
  ext.Pending = null;
  RtlCopyMemory(irp.AssociatedIrp.SystemBuffer, ext.Buffer, 4);
  complete(irp, STATUS_SUCCESS, 4);
}

function RaceRemoveDeviceControl(device: DEVICE_OBJECT, irp: IRP): NTSTATUS {
  const ext = device.DeviceExtension as RACE_REMOVE_EXTENSION;
  const p = IoGetCurrentIrpStackLocation(irp).Parameters.DeviceIoControl;
  if (p.IoControlCode !== IOCTL_RACE_READ || p.OutputBufferLength < 4 || ext.Pending !== null) return complete(irp, STATUS_INVALID_DEVICE_REQUEST, 0);
  IoMarkIrpPending(irp);
  ext.Pending = irp;
  KeSetTimer(ext.Timer, -RACE_REMOVE_COMPLETION_US * 10, ext.Dpc);
  return STATUS_PENDING;
}

function RaceRemoveDispatchPnp(device: DEVICE_OBJECT, irp: IRP): NTSTATUS | Promise<NTSTATUS> {
  const ext = device.DeviceExtension as RACE_REMOVE_EXTENSION;
  const lower = ext.Lower!;
  const minor = IoGetCurrentIrpStackLocation(irp).MinorFunction;
  if (minor !== IRP_MN_REMOVE_DEVICE) {
    // The driver agrees to be removed (a function driver says so before passing the query down).
    if (minor === IRP_MN_QUERY_REMOVE_DEVICE || minor === IRP_MN_CANCEL_REMOVE_DEVICE) irp.IoStatus.Status = STATUS_SUCCESS;
    IoSkipCurrentIrpStackLocation(irp);
    return IoCallDriver(lower, irp);
  }
  if (KeCancelTimer(ext.Timer) && ext.Pending !== null) {
    complete(ext.Pending, STATUS_NO_SUCH_DEVICE, 0);
    ext.Pending = null;
  }
  // The bug: a timer no longer set may still have its DPC queued; nothing waits for it.
  ExFreePoolWithTag(ext.Buffer, TAG);
  ext.Buffer = 0;
  irp.IoStatus.Status = STATUS_SUCCESS;
  IoSkipCurrentIrpStackLocation(irp);
  const status = IoCallDriver(lower, irp);
  IoDetachDevice(lower);
  IoDeleteDevice(device);
  return status;
}

function RaceRemoveCreateClose(_device: DEVICE_OBJECT, irp: IRP): NTSTATUS {
  return complete(irp, STATUS_SUCCESS, 0);
}

function RaceRemoveAddDevice(DriverObject: DRIVER_OBJECT, Pdo: DEVICE_OBJECT): NTSTATUS {
  const ext = new RACE_REMOVE_EXTENSION();
  const { status, DeviceObject } = IoCreateDevice(DriverObject, ext, null, FILE_DEVICE_UNKNOWN, 0, false);
  if (DeviceObject === null) return status;
  ext.Buffer = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, TAG);
  if (ext.Buffer === 0) {
    IoDeleteDevice(DeviceObject);
    return STATUS_INSUFFICIENT_RESOURCES;
  }
  writeU32(ext.Buffer, RACE_REMOVE_VALUE);
  KeInitializeTimer(ext.Timer);
  KeInitializeDpc(ext.Dpc, RaceRemoveDpc, ext);
  ext.Pdo = Pdo;
  ext.Lower = IoAttachDeviceToDeviceStack(DeviceObject, Pdo);
  DeviceObject.Flags |= DO_BUFFERED_IO;
  DeviceObject.Flags &= ~DO_DEVICE_INITIALIZING;
  return STATUS_SUCCESS;
}

/** Unload: nothing of the driver's own is left once its devices are gone (every WDM driver has one). */
function RaceRemoveUnload(_DriverObject: DRIVER_OBJECT): void {}

/** DriverEntry: a PnP function driver. */
export function DriverEntry(DriverObject: DRIVER_OBJECT): NTSTATUS {
  DriverObject.DriverUnload = RaceRemoveUnload;
  DriverObject.DriverExtension.AddDevice = RaceRemoveAddDevice;
  DriverObject.MajorFunction[IRP_MJ_CREATE] = RaceRemoveCreateClose;
  DriverObject.MajorFunction[IRP_MJ_CLOSE] = RaceRemoveCreateClose;
  DriverObject.MajorFunction[IRP_MJ_DEVICE_CONTROL] = RaceRemoveDeviceControl;
  DriverObject.MajorFunction[IRP_MJ_PNP] = RaceRemoveDispatchPnp;
  return STATUS_SUCCESS;
}
