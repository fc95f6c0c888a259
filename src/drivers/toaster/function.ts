/**
 * The toaster function driver (service "toaster"). Its FDO keeps the device's PnP state
 * as a WDM function driver does and decides from it what happens to a request:
 *
 * - Started: requests run (reads return what was last written; IOCTL_TOASTER_DONT_
 *   DISPLAY_IN_UI_DEVICE hides the device through IoInvalidateDeviceState).
 * - Stop or removal pending, and Stopped: new requests wait in a cancelable queue, and
 *   run when the device starts again or the query is cancelled.
 * - Surprise-removed and removed: requests fail with STATUS_NO_SUCH_DEVICE, and the
 *   queue is emptied the same way.
 *
 * QUERY_STOP and QUERY_REMOVE wait until the requests in progress are done; REMOVE waits
 * for every request that entered the driver before the FDO goes. At start the driver
 * takes the bus's TOASTER_INTERFACE_STANDARD (IRP_MN_QUERY_INTERFACE) and enables
 * GUID_DEVINTERFACE_TOASTER for programs.
 */
import {
  DEVICE_OBJECT, DO_BUFFERED_IO, DO_DEVICE_INITIALIZING, DO_POWER_PAGABLE, DRIVER_OBJECT, FILE_DEVICE_UNKNOWN, FILE_DEVICE_SECURE_OPEN,
  IoAttachDeviceToDeviceStack, IoCreateDevice, IoDeleteDevice, IoDetachDevice,
} from "../../io/objects.js";
import {
  IoAllocateIrp, IoCallDriver, IoCompleteRequest, IoFreeIrp, IoGetCurrentIrpStackLocation, IoGetNextIrpStackLocation, IoMarkIrpPending,
  IoSetCompletionRoutine, IoSkipCurrentIrpStackLocation, IO_NO_INCREMENT, IRP_MJ_CLEANUP, IRP_MJ_CLOSE, IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL,
  IRP_MJ_PNP, IRP_MJ_POWER, IRP_MJ_READ, IRP_MJ_SYSTEM_CONTROL, IRP_MJ_WRITE, type IRP,
} from "../../io/irp.js";
import { IoAcquireCancelSpinLock, IoReleaseCancelSpinLock, IoSetCancelRoutine } from "../../io/cancel.js";
import { IoForwardIrpSynchronously } from "../../io/forward.js";
import { IoRegisterDeviceInterface, IoSetDeviceInterfaceState } from "../../io/interfaces.js";
import { EVENT_TYPE, KEVENT, KeClearEvent, KeInitializeEvent, KeSetEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON } from "../../ke/dispatcher.js";
import { readBytes, writeBytes } from "../../mm/memory.js";
import {
  NT_SUCCESS, STATUS_CANCELLED, STATUS_INVALID_DEVICE_REQUEST, STATUS_MORE_PROCESSING_REQUIRED, STATUS_NOT_SUPPORTED, STATUS_NO_SUCH_DEVICE,
  STATUS_PENDING, STATUS_SUCCESS, type NTSTATUS,
} from "../../ke/ntstatus.js";
import {
  IRP_MN_CANCEL_REMOVE_DEVICE, IRP_MN_CANCEL_STOP_DEVICE, IRP_MN_QUERY_INTERFACE, IRP_MN_QUERY_PNP_DEVICE_STATE, IRP_MN_QUERY_REMOVE_DEVICE,
  IRP_MN_QUERY_STOP_DEVICE, IRP_MN_REMOVE_DEVICE, IRP_MN_START_DEVICE, IRP_MN_STOP_DEVICE, IRP_MN_SURPRISE_REMOVAL, PNP_DEVICE_DONT_DISPLAY_IN_UI,
} from "../../pnp/minor.js";
import { IoInvalidateDeviceState } from "../../pnp/requests.js";
import { GUID_DEVINTERFACE_TOASTER, GUID_TOASTER_INTERFACE_STANDARD, IOCTL_TOASTER_DONT_DISPLAY_IN_UI_DEVICE } from "./public.js";
import { TOASTER_INTERFACE_STANDARD } from "./interface.js";
import type { UNICODE_STRING } from "../../rtl/unicode-string.js";

/** DEVICE_PNP_STATE: where the FDO is in its PnP life. */
export enum DEVICE_PNP_STATE {
  NotStarted = 0,
  Started,
  StopPending,
  Stopped,
  RemovePending,
  SurpriseRemovePending,
  Deleted,
}

/** What happens to new requests. */
export enum QUEUE_STATE {
  HoldRequests = 0,
  AllowRequests,
  FailRequests,
}

/** Bytes a toaster holds. */
export const TOASTER_CAPACITY = 4096;

/** The toaster FDO's extension. */
export class FDO_DATA {
  Self!: DEVICE_OBJECT;
  UnderlyingPDO!: DEVICE_OBJECT;
  NextLowerDriver: DEVICE_OBJECT | null = null;
  DevicePnPState = DEVICE_PNP_STATE.NotStarted;
  PreviousPnPState = DEVICE_PNP_STATE.NotStarted;
  QueueState = QUEUE_STATE.HoldRequests;
  /** Requests waiting for the device to run (guarded by the cancel spin lock). */
  readonly NewRequestsQueue: IRP[] = [];
  /** Requests in the driver, plus one while the device is not removed. */
  OutstandingIO = 1;
  /** Set when OutstandingIO reaches 0 (the device may be removed). */
  readonly RemoveEvent = new KEVENT();
  /** Set when only the bias is left (no request in progress: the device may stop). */
  readonly StopEvent = new KEVENT();
  InterfaceName = "";
  DontDisplayInUI = false;
  /** The bus's direct-call interface, taken at start. */
  BusInterface: TOASTER_INTERFACE_STANDARD | null = null;
  /** What the toaster holds (the last write). */
  Contents: Uint8Array = new Uint8Array(0);
  /** Requests the driver has completed, by major function (for the workload's summary). */
  readonly Completed = new Map<number, number>();
}

function complete(fdoData: FDO_DATA | null, Irp: IRP, status: NTSTATUS, information = 0): NTSTATUS {
  if (fdoData) {
    const major = IoGetCurrentIrpStackLocation(Irp).MajorFunction;
    fdoData.Completed.set(major, (fdoData.Completed.get(major) ?? 0) + 1);
  }
  Irp.IoStatus.Status = status;
  Irp.IoStatus.Information = information;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
  return status;
}

/** A request enters the driver. */
function ToasterIoIncrement(fdoData: FDO_DATA): void {
  fdoData.OutstandingIO++;
  if (fdoData.OutstandingIO === 2) KeClearEvent(fdoData.StopEvent);
}

/** A request leaves the driver. */
function ToasterIoDecrement(fdoData: FDO_DATA): void {
  fdoData.OutstandingIO--;
  if (fdoData.OutstandingIO === 1) KeSetEvent(fdoData.StopEvent, 0, false);
  if (fdoData.OutstandingIO === 0) KeSetEvent(fdoData.RemoveEvent, 0, false);
}

function setState(fdoData: FDO_DATA, state: DEVICE_PNP_STATE): void {
  fdoData.PreviousPnPState = fdoData.DevicePnPState;
  fdoData.DevicePnPState = state;
}

function restoreState(fdoData: FDO_DATA): void {
  fdoData.DevicePnPState = fdoData.PreviousPnPState;
}

/** The cancel routine of a queued request: takes it off the queue and completes it cancelled. */
function ToasterCancelQueued(DeviceObject: DEVICE_OBJECT, Irp: IRP): void {
  const fdoData = DeviceObject.DeviceExtension as FDO_DATA;
  const i = fdoData.NewRequestsQueue.indexOf(Irp);
  if (i >= 0) fdoData.NewRequestsQueue.splice(i, 1);
  IoReleaseCancelSpinLock(Irp.CancelIrql);
  complete(fdoData, Irp, STATUS_CANCELLED);
}

/** Queues a request until the device runs again; returns STATUS_PENDING (or completes it if cancelled already). */
function ToasterQueueRequest(fdoData: FDO_DATA, Irp: IRP): NTSTATUS {
  const irql = IoAcquireCancelSpinLock();
  if (Irp.Cancel) {
    IoReleaseCancelSpinLock(irql);
    return complete(fdoData, Irp, STATUS_CANCELLED);
  }
  IoMarkIrpPending(Irp);
  IoSetCancelRoutine(Irp, ToasterCancelQueued);
  fdoData.NewRequestsQueue.push(Irp);
  IoReleaseCancelSpinLock(irql);
  return STATUS_PENDING;
}

/** Takes the queued requests off the queue (those whose cancel routine already ran are not there). */
function takeQueued(fdoData: FDO_DATA): IRP[] {
  const taken: IRP[] = [];
  const irql = IoAcquireCancelSpinLock();
  for (const irp of fdoData.NewRequestsQueue.splice(0)) {
    // A request being cancelled right now belongs to its cancel routine.
    if (IoSetCancelRoutine(irp, null)) taken.push(irp);
  }
  IoReleaseCancelSpinLock(irql);
  return taken;
}

/** Runs the queued requests (the device runs again). */
function ToasterProcessQueuedRequests(fdoData: FDO_DATA): void {
  for (const irp of takeQueued(fdoData)) {
    ToasterIoIncrement(fdoData);
    ToasterProcessRequest(fdoData, irp);
    ToasterIoDecrement(fdoData);
  }
}

/** Fails every queued request (the device is going). */
function ToasterFailQueuedRequests(fdoData: FDO_DATA, status: NTSTATUS): void {
  for (const irp of takeQueued(fdoData)) complete(fdoData, irp, status);
}

/** Does a read, write or I/O control on a running toaster. */
function ToasterProcessRequest(fdoData: FDO_DATA, Irp: IRP): NTSTATUS {
  const s = IoGetCurrentIrpStackLocation(Irp);
  switch (s.MajorFunction) {
    case IRP_MJ_WRITE: {
      const length = Math.min(s.Parameters.Write.Length, TOASTER_CAPACITY);
      fdoData.Contents = length > 0 ? readBytes(Irp.AssociatedIrp.SystemBuffer, length) : new Uint8Array(0);
      return complete(fdoData, Irp, STATUS_SUCCESS, length);
    }
    case IRP_MJ_READ: {
      const length = Math.min(s.Parameters.Read.Length, fdoData.Contents.length);
      if (length > 0) writeBytes(Irp.AssociatedIrp.SystemBuffer, fdoData.Contents.subarray(0, length));
      return complete(fdoData, Irp, STATUS_SUCCESS, length);
    }
    case IRP_MJ_DEVICE_CONTROL:
      if (s.Parameters.DeviceIoControl.IoControlCode === IOCTL_TOASTER_DONT_DISPLAY_IN_UI_DEVICE) {
        fdoData.DontDisplayInUI = true;
        IoInvalidateDeviceState(fdoData.UnderlyingPDO);
        return complete(fdoData, Irp, STATUS_SUCCESS);
      }
      return complete(fdoData, Irp, STATUS_INVALID_DEVICE_REQUEST);
    default:
      return complete(fdoData, Irp, STATUS_INVALID_DEVICE_REQUEST);
  }
}

/** IRP_MJ_READ, IRP_MJ_WRITE, IRP_MJ_DEVICE_CONTROL: run, queue or fail by the queue state. */
function ToasterDispatchIO(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const fdoData = DeviceObject.DeviceExtension as FDO_DATA;
  if (fdoData.QueueState === QUEUE_STATE.FailRequests) return complete(fdoData, Irp, STATUS_NO_SUCH_DEVICE);
  if (fdoData.QueueState === QUEUE_STATE.HoldRequests) return ToasterQueueRequest(fdoData, Irp);
  ToasterIoIncrement(fdoData);
  const status = ToasterProcessRequest(fdoData, Irp);
  ToasterIoDecrement(fdoData);
  return status;
}

/** IRP_MJ_CREATE and IRP_MJ_CLOSE: a removed toaster cannot be opened. */
function ToasterCreateClose(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const fdoData = DeviceObject.DeviceExtension as FDO_DATA;
  const create = IoGetCurrentIrpStackLocation(Irp).MajorFunction === IRP_MJ_CREATE;
  if (create && fdoData.DevicePnPState >= DEVICE_PNP_STATE.SurpriseRemovePending) return complete(fdoData, Irp, STATUS_NO_SUCH_DEVICE);
  return complete(fdoData, Irp, STATUS_SUCCESS);
}

/** IRP_MJ_CLEANUP: the handle's queued requests are cancelled. */
function ToasterCleanup(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const fdoData = DeviceObject.DeviceExtension as FDO_DATA;
  const file = IoGetCurrentIrpStackLocation(Irp).FileObject;
  const mine: IRP[] = [];
  const irql = IoAcquireCancelSpinLock();
  for (const irp of [...fdoData.NewRequestsQueue]) {
    if (IoGetCurrentIrpStackLocation(irp).FileObject !== file || !IoSetCancelRoutine(irp, null)) continue;
    fdoData.NewRequestsQueue.splice(fdoData.NewRequestsQueue.indexOf(irp), 1);
    mine.push(irp);
  }
  IoReleaseCancelSpinLock(irql);
  for (const irp of mine) complete(fdoData, irp, STATUS_CANCELLED);
  return complete(fdoData, Irp, STATUS_SUCCESS);
}

/** Waits until no request is in progress (only the bias is left). */
async function waitForIdle(fdoData: FDO_DATA): Promise<void> {
  ToasterIoDecrement(fdoData);
  await KeWaitForSingleObject(fdoData.StopEvent, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
  ToasterIoIncrement(fdoData);
}

/** Sends IRP_MN_QUERY_INTERFACE for the bus's toaster interface down the stack; returns it or null. */
async function queryBusInterface(fdoData: FDO_DATA): Promise<TOASTER_INTERFACE_STANDARD | null> {
  const lower = fdoData.NextLowerDriver!;
  const irp = IoAllocateIrp(lower.StackSize, false);
  if (!irp) return null;
  // A PnP IRP starts at STATUS_NOT_SUPPORTED.
  irp.IoStatus.Status = STATUS_NOT_SUPPORTED;
  const s = IoGetNextIrpStackLocation(irp);
  s.MajorFunction = IRP_MJ_PNP;
  s.MinorFunction = IRP_MN_QUERY_INTERFACE;
  const wanted = new TOASTER_INTERFACE_STANDARD();
  wanted.Size = TOASTER_INTERFACE_STANDARD.SIZE;
  wanted.Version = 1;
  s.Parameters.QueryInterface.InterfaceType = GUID_TOASTER_INTERFACE_STANDARD;
  s.Parameters.QueryInterface.Size = TOASTER_INTERFACE_STANDARD.SIZE;
  s.Parameters.QueryInterface.Version = 1;
  s.Parameters.QueryInterface.Interface = wanted;
  s.Parameters.QueryInterface.InterfaceSpecificData = null;
  const done = new KEVENT();
  KeInitializeEvent(done, EVENT_TYPE.NotificationEvent, false);
  IoSetCompletionRoutine(irp, function ToasterQueryInterfaceCompletion(_d, _i, context) {
    KeSetEvent(context as KEVENT, 0, false);
    return STATUS_MORE_PROCESSING_REQUIRED;
  }, done, true, true, true);
  if ((await IoCallDriver(lower, irp)) === STATUS_PENDING) await KeWaitForSingleObject(done, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
  const ok = NT_SUCCESS(irp.IoStatus.Status);
  IoFreeIrp(irp);
  return ok ? wanted : null;
}

/** Lets go of the bus interface. */
function releaseBusInterface(fdoData: FDO_DATA): void {
  const bus = fdoData.BusInterface;
  if (!bus) return;
  bus.InterfaceDereference(bus.Context);
  fdoData.BusInterface = null;
}

/** Passes a PnP IRP down with success set. */
function passDown(fdoData: FDO_DATA, Irp: IRP): NTSTATUS | Promise<NTSTATUS> {
  Irp.IoStatus.Status = STATUS_SUCCESS;
  IoSkipCurrentIrpStackLocation(Irp);
  return IoCallDriver(fdoData.NextLowerDriver!, Irp);
}

/** IRP_MJ_PNP. */
async function ToasterDispatchPnp(DeviceObject: DEVICE_OBJECT, Irp: IRP): Promise<NTSTATUS> {
  const fdoData = DeviceObject.DeviceExtension as FDO_DATA;
  const s = IoGetCurrentIrpStackLocation(Irp);
  if (fdoData.DevicePnPState === DEVICE_PNP_STATE.Deleted) return complete(null, Irp, STATUS_NO_SUCH_DEVICE);
  ToasterIoIncrement(fdoData);
  try {
    switch (s.MinorFunction) {
      case IRP_MN_START_DEVICE: {
        await IoForwardIrpSynchronously(fdoData.NextLowerDriver!, Irp);
        let status = Irp.IoStatus.Status;
        if (NT_SUCCESS(status)) {
          fdoData.BusInterface ??= await queryBusInterface(fdoData);
          status = IoSetDeviceInterfaceState(fdoData.InterfaceName, true);
          // Enabling an interface that is already enabled (a restart) is not a failure.
          if (!NT_SUCCESS(status) && fdoData.DevicePnPState === DEVICE_PNP_STATE.Stopped) status = STATUS_SUCCESS;
        }
        if (NT_SUCCESS(status)) {
          setState(fdoData, DEVICE_PNP_STATE.Started);
          fdoData.QueueState = QUEUE_STATE.AllowRequests;
          ToasterProcessQueuedRequests(fdoData);
        }
        return complete(null, Irp, status);
      }
      case IRP_MN_QUERY_STOP_DEVICE:
      case IRP_MN_QUERY_REMOVE_DEVICE:
        setState(fdoData, s.MinorFunction === IRP_MN_QUERY_STOP_DEVICE ? DEVICE_PNP_STATE.StopPending : DEVICE_PNP_STATE.RemovePending);
        fdoData.QueueState = QUEUE_STATE.HoldRequests;
        await waitForIdle(fdoData);
        return passDown(fdoData, Irp);
      case IRP_MN_CANCEL_STOP_DEVICE:
      case IRP_MN_CANCEL_REMOVE_DEVICE: {
        const pending = s.MinorFunction === IRP_MN_CANCEL_STOP_DEVICE ? DEVICE_PNP_STATE.StopPending : DEVICE_PNP_STATE.RemovePending;
        if (fdoData.DevicePnPState === pending) {
          restoreState(fdoData);
          fdoData.QueueState = QUEUE_STATE.AllowRequests;
          ToasterProcessQueuedRequests(fdoData);
        }
        return passDown(fdoData, Irp);
      }
      case IRP_MN_STOP_DEVICE:
        setState(fdoData, DEVICE_PNP_STATE.Stopped);
        return passDown(fdoData, Irp);
      case IRP_MN_SURPRISE_REMOVAL:
        setState(fdoData, DEVICE_PNP_STATE.SurpriseRemovePending);
        fdoData.QueueState = QUEUE_STATE.FailRequests;
        ToasterFailQueuedRequests(fdoData, STATUS_NO_SUCH_DEVICE);
        IoSetDeviceInterfaceState(fdoData.InterfaceName, false);
        return passDown(fdoData, Irp);
      case IRP_MN_REMOVE_DEVICE: {
        if (fdoData.DevicePnPState !== DEVICE_PNP_STATE.SurpriseRemovePending) IoSetDeviceInterfaceState(fdoData.InterfaceName, false);
        setState(fdoData, DEVICE_PNP_STATE.Deleted);
        fdoData.QueueState = QUEUE_STATE.FailRequests;
        ToasterFailQueuedRequests(fdoData, STATUS_NO_SUCH_DEVICE);
        releaseBusInterface(fdoData);
        // Drop this IRP's count and the bias, and wait for every other request to leave.
        ToasterIoDecrement(fdoData);
        ToasterIoDecrement(fdoData);
        await KeWaitForSingleObject(fdoData.RemoveEvent, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
        const lower = fdoData.NextLowerDriver!;
        const status = await passDown(fdoData, Irp);
        IoDetachDevice(lower);
        IoDeleteDevice(DeviceObject);
        return status;
      }
      case IRP_MN_QUERY_PNP_DEVICE_STATE:
        if (fdoData.DontDisplayInUI) {
          Irp.IoStatus.Information = (Number(Irp.IoStatus.Information) | PNP_DEVICE_DONT_DISPLAY_IN_UI) >>> 0;
          return passDown(fdoData, Irp);
        }
        break;
      default:
        break;
    }
    IoSkipCurrentIrpStackLocation(Irp);
    return await IoCallDriver(fdoData.NextLowerDriver!, Irp);
  } finally {
    if (s.MinorFunction !== IRP_MN_REMOVE_DEVICE) ToasterIoDecrement(fdoData);
  }
}

/** IRP_MJ_POWER and IRP_MJ_SYSTEM_CONTROL: the bus below handles them. */
function ToasterPassThrough(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS | Promise<NTSTATUS> {
  const fdoData = DeviceObject.DeviceExtension as FDO_DATA;
  IoSkipCurrentIrpStackLocation(Irp);
  return IoCallDriver(fdoData.NextLowerDriver!, Irp);
}

/** AddDevice: the FDO, attached above the toaster's PDO, with GUID_DEVINTERFACE_TOASTER registered. */
function ToasterAddDevice(DriverObject: DRIVER_OBJECT, PhysicalDeviceObject: DEVICE_OBJECT): NTSTATUS {
  const fdoData = new FDO_DATA();
  const { status, DeviceObject } = IoCreateDevice(DriverObject, fdoData, null, FILE_DEVICE_UNKNOWN, FILE_DEVICE_SECURE_OPEN, false);
  if (!NT_SUCCESS(status) || !DeviceObject) return status;
  fdoData.Self = DeviceObject;
  fdoData.UnderlyingPDO = PhysicalDeviceObject;
  KeInitializeEvent(fdoData.RemoveEvent, EVENT_TYPE.NotificationEvent, false);
  KeInitializeEvent(fdoData.StopEvent, EVENT_TYPE.NotificationEvent, true);
  const registered = IoRegisterDeviceInterface(PhysicalDeviceObject, GUID_DEVINTERFACE_TOASTER, null);
  if (!NT_SUCCESS(registered.status)) {
    IoDeleteDevice(DeviceObject);
    return registered.status;
  }
  fdoData.InterfaceName = registered.SymbolicLinkName;
  fdoData.NextLowerDriver = IoAttachDeviceToDeviceStack(DeviceObject, PhysicalDeviceObject);
  if (!fdoData.NextLowerDriver) {
    IoDeleteDevice(DeviceObject);
    return STATUS_NO_SUCH_DEVICE;
  }
  DeviceObject.Flags |= DO_BUFFERED_IO | DO_POWER_PAGABLE;
  DeviceObject.Flags &= ~DO_DEVICE_INITIALIZING;
  return STATUS_SUCCESS;
}

/** DriverUnload: nothing global to free. */
function ToasterUnload(_DriverObject: DRIVER_OBJECT): void {}

/** DriverEntry of the toaster function driver. */
export function DriverEntry(DriverObject: DRIVER_OBJECT, _RegistryPath: UNICODE_STRING): NTSTATUS {
  DriverObject.DriverExtension.AddDevice = ToasterAddDevice;
  DriverObject.DriverUnload = ToasterUnload;
  DriverObject.MajorFunction[IRP_MJ_CREATE] = ToasterCreateClose;
  DriverObject.MajorFunction[IRP_MJ_CLOSE] = ToasterCreateClose;
  DriverObject.MajorFunction[IRP_MJ_CLEANUP] = ToasterCleanup;
  DriverObject.MajorFunction[IRP_MJ_READ] = ToasterDispatchIO;
  DriverObject.MajorFunction[IRP_MJ_WRITE] = ToasterDispatchIO;
  DriverObject.MajorFunction[IRP_MJ_DEVICE_CONTROL] = ToasterDispatchIO;
  DriverObject.MajorFunction[IRP_MJ_PNP] = ToasterDispatchPnp;
  DriverObject.MajorFunction[IRP_MJ_POWER] = ToasterPassThrough;
  DriverObject.MajorFunction[IRP_MJ_SYSTEM_CONTROL] = ToasterPassThrough;
  return STATUS_SUCCESS;
}
