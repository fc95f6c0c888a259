/**
 * The disk FDO's Plug and Play life (disk.sys's DiskAddDevice / DiskCreateFdo, classpnp's
 * ClassDispatchPnp and ClassRemoveDevice, disk.sys's DiskRemoveDevice):
 *
 * - AddDevice: the FDO \Device\HarddiskN\DRm (FILE_DEVICE_DISK, DO_DIRECT_IO, the lower
 *   device's alignment), attached to the unit's PDO; GUID_DEVINTERFACE_DISK registered on
 *   the PDO; the machine's DiskCount counts it.
 * - START_DEVICE: down first, then ClassPnpStartDevice (start.ts); held requests run.
 * - QUERY_STOP holds new requests and waits for those in progress; CANCEL_STOP lets them
 *   run; STOP passes down; a later START runs what was held.
 * - SURPRISE_REMOVAL: new requests fail with STATUS_DEVICE_DOES_NOT_EXIST, held ones too;
 *   the links and the interface go; requests in flight complete with whatever the port
 *   says. REMOVE_DEVICE additionally waits until every request has left the driver (the
 *   remove lock), then frees the packets, descriptors and sense buffer, lowers DiskCount,
 *   detaches and deletes the FDO.
 */
import {
  DO_DEVICE_INITIALIZING, DO_DIRECT_IO, DO_POWER_PAGABLE, FILE_DEVICE_DISK, FILE_DEVICE_SECURE_OPEN, IoAttachDeviceToDeviceStack, IoCreateDevice,
  IoDeleteDevice, IoDetachDevice, IoGetAttachedDeviceReference, type DEVICE_OBJECT, type DRIVER_OBJECT,
} from "../../io/objects.js";
import { IoCallDriver, IoCompleteRequest, IoCopyCurrentIrpStackLocationToNext, IoGetCurrentIrpStackLocation, IoSkipCurrentIrpStackLocation, IO_NO_INCREMENT, type IRP } from "../../io/irp.js";
import { IoInitializeRemoveLock, IoReleaseRemoveLockAndWait } from "../../io/remove-lock.js";
import { IoRegisterDeviceInterface, IoSetDeviceInterfaceState } from "../../io/interfaces.js";
import { IoGetConfigurationInformation } from "../../io/configuration.js";
import { KeClearEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON } from "../../ke/dispatcher.js";
import { NT_SUCCESS, STATUS_DEVICE_DOES_NOT_EXIST, STATUS_INSUFFICIENT_RESOURCES, STATUS_SUCCESS, STATUS_UNSUCCESSFUL, type NTSTATUS } from "../../ke/ntstatus.js";
import { ExFreePoolWithTag } from "../../mm/pool.js";
import {
  IRP_MN_CANCEL_REMOVE_DEVICE, IRP_MN_CANCEL_STOP_DEVICE, IRP_MN_QUERY_REMOVE_DEVICE, IRP_MN_QUERY_STOP_DEVICE, IRP_MN_REMOVE_DEVICE, IRP_MN_START_DEVICE,
  IRP_MN_STOP_DEVICE, IRP_MN_SURPRISE_REMOVAL,
} from "../../pnp/minor.js";
import { GUID_DEVINTERFACE_DISK } from "../storage/ntddstor.js";
import { DISK_TAG_START } from "./constants.js";
import { FUNCTIONAL_DEVICE_EXTENSION, HOLD_STOPPED, REMOVE_STATE } from "./extension.js";
import { ClassForwardIrpSynchronous } from "./lower.js";
import { DiskAllocateDeviceNumber, DiskDeleteSymbolicLinks, DiskGenerateDeviceName } from "./names.js";
import { ClassAcquireRemoveLock, ClasspFailHeldRequests, ClassReleaseRemoveLock, fdoExtensionOf } from "./queue.js";
import { ClasspFreeStartResources, ClassPnpStartDevice } from "./start.js";
import { DestroyAllTransferPackets } from "./xferpkt.js";
import { ClasspResumeHeldRequests } from "./resume.js";

/**
 * DiskAddDevice (DiskCreateFdo): creates and attaches the FDO for the unit's PDO and counts
 * the disk in CONFIGURATION_INFORMATION.DiskCount.
 */
export function DiskAddDevice(DriverObject: DRIVER_OBJECT, PhysicalDeviceObject: DEVICE_OBJECT): NTSTATUS {
  const deviceCount = DiskAllocateDeviceNumber();
  const lowerDevice = IoGetAttachedDeviceReference(PhysicalDeviceObject);
  const deviceName = DiskGenerateDeviceName(DriverObject, deviceCount);
  const fdoExtension = new FUNCTIONAL_DEVICE_EXTENSION();
  const { status, DeviceObject } = IoCreateDevice(DriverObject, fdoExtension, deviceName, FILE_DEVICE_DISK, FILE_DEVICE_SECURE_OPEN, false);
  if (!NT_SUCCESS(status) || !DeviceObject) return status || STATUS_INSUFFICIENT_RESOURCES;
  // Data transfers come with MDLs.
  DeviceObject.Flags |= DO_DIRECT_IO | DO_POWER_PAGABLE;
  fdoExtension.DeviceObject = DeviceObject;
  fdoExtension.DeviceName = deviceName;
  fdoExtension.DeviceNumber = deviceCount;
  // The host adapter's alignment needs.
  if (lowerDevice.AlignmentRequirement > DeviceObject.AlignmentRequirement) DeviceObject.AlignmentRequirement = lowerDevice.AlignmentRequirement;
  fdoExtension.LowerPdo = PhysicalDeviceObject;
  const lower = IoAttachDeviceToDeviceStack(DeviceObject, PhysicalDeviceObject);
  if (!lower) {
    IoDeleteDevice(DeviceObject);
    return STATUS_UNSUCCESSFUL;
  }
  fdoExtension.LowerDeviceObject = lower;
  // The remove lock is held for the FDO's life: REMOVE_DEVICE releases this acquisition and waits for the rest.
  IoInitializeRemoveLock(fdoExtension.RemoveLock, 0, 0, 0);
  ClassAcquireRemoveLock(fdoExtension, DeviceObject);
  const registered = IoRegisterDeviceInterface(PhysicalDeviceObject, GUID_DEVINTERFACE_DISK, null);
  if (NT_SUCCESS(registered.status)) fdoExtension.DiskInterfaceName = registered.SymbolicLinkName;
  DeviceObject.Flags &= ~DO_DEVICE_INITIALIZING;
  IoGetConfigurationInformation().DiskCount++;
  return STATUS_SUCCESS;
}

/** Waits until the driver has no request in progress on the device (ActiveIoCount 0). */
export async function ClasspWaitForIdle(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION): Promise<void> {
  const d = fdoExtension.PrivateFdoData;
  for (;;) {
    KeClearEvent(d.IdleEvent);
    if (d.ActiveIoCount === 0) return;
    await KeWaitForSingleObject(d.IdleEvent, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
  }
}

/** DiskRemoveDevice for a surprise removal or a removal: the links (and on REMOVE the sense buffer and DiskCount). */
function DiskRemoveDevice(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Type: number): void {
  if (Type === IRP_MN_REMOVE_DEVICE) {
    if (fdoExtension.SenseData !== 0) ExFreePoolWithTag(fdoExtension.SenseData, DISK_TAG_START);
    fdoExtension.SenseData = 0;
    IoGetConfigurationInformation().DiskCount--;
  }
  DiskDeleteSymbolicLinks(fdoExtension);
}

/**
 * ClassRemoveDevice: the interface goes; on REMOVE_DEVICE the driver waits for every request
 * to leave (the remove lock), then frees everything and deletes the FDO.
 */
async function ClassRemoveDevice(DeviceObject: DEVICE_OBJECT, RemoveType: number): Promise<void> {
  const fdoExtension = fdoExtensionOf(DeviceObject);
  if (fdoExtension.DiskInterfaceName) IoSetDeviceInterfaceState(fdoExtension.DiskInterfaceName, false);
  if (RemoveType === IRP_MN_REMOVE_DEVICE) {
    // The acquisition made at creation; wait for all the others.
    await IoReleaseRemoveLockAndWait(fdoExtension.RemoveLock, DeviceObject);
    fdoExtension.IsRemoved = REMOVE_STATE.REMOVE_COMPLETE;
  }
  DiskRemoveDevice(fdoExtension, RemoveType);
  if (RemoveType !== IRP_MN_REMOVE_DEVICE) return;
  DestroyAllTransferPackets(DeviceObject);
  ClasspFreeStartResources(fdoExtension);
  IoDetachDevice(fdoExtension.LowerDeviceObject);
  IoDeleteDevice(DeviceObject);
}

/** Passes a PnP IRP down untouched (the remove lock released first). */
function passDown(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Irp: IRP): NTSTATUS | Promise<NTSTATUS> {
  IoSkipCurrentIrpStackLocation(Irp);
  ClassReleaseRemoveLock(fdoExtension, Irp);
  return IoCallDriver(fdoExtension.LowerDeviceObject, Irp);
}

/** Completes a PnP IRP with `status` and releases the remove lock. */
function complete(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Irp: IRP, status: NTSTATUS): NTSTATUS {
  Irp.IoStatus.Status = status;
  ClassReleaseRemoveLock(fdoExtension, Irp);
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
  return status;
}

/** IRP_MJ_PNP (ClassDispatchPnp for the FDO). */
export async function DiskDispatchPnp(DeviceObject: DEVICE_OBJECT, Irp: IRP): Promise<NTSTATUS> {
  const fdoExtension = fdoExtensionOf(DeviceObject);
  const irpStack = IoGetCurrentIrpStackLocation(Irp);
  const minor = irpStack.MinorFunction;
  const isRemoved = ClassAcquireRemoveLock(fdoExtension, Irp);
  if (isRemoved === REMOVE_STATE.REMOVE_COMPLETE) {
    Irp.IoStatus.Status = STATUS_DEVICE_DOES_NOT_EXIST;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_DEVICE_DOES_NOT_EXIST;
  }
  switch (minor) {
    case IRP_MN_START_DEVICE: {
      let status = await ClassForwardIrpSynchronous(fdoExtension.LowerDeviceObject, Irp);
      if (NT_SUCCESS(status)) status = await ClassPnpStartDevice(DeviceObject);
      if (NT_SUCCESS(status)) {
        fdoExtension.CurrentState = IRP_MN_START_DEVICE;
        fdoExtension.HoldReasons &= ~HOLD_STOPPED;
        if (fdoExtension.HoldReasons === 0) ClasspResumeHeldRequests(fdoExtension);
      }
      return complete(fdoExtension, Irp, status);
    }
    case IRP_MN_QUERY_STOP_DEVICE:
    case IRP_MN_QUERY_REMOVE_DEVICE: {
      if (minor === IRP_MN_QUERY_STOP_DEVICE) {
        // The port stops with the unit: nothing may be in flight then.
        fdoExtension.HoldReasons |= HOLD_STOPPED;
        await ClasspWaitForIdle(fdoExtension);
      }
      fdoExtension.PreviousState = fdoExtension.CurrentState;
      fdoExtension.CurrentState = minor;
      Irp.IoStatus.Status = STATUS_SUCCESS;
      const status = await ClassForwardIrpSynchronous(fdoExtension.LowerDeviceObject, Irp);
      return complete(fdoExtension, Irp, status);
    }
    case IRP_MN_CANCEL_STOP_DEVICE:
    case IRP_MN_CANCEL_REMOVE_DEVICE: {
      const query = minor === IRP_MN_CANCEL_STOP_DEVICE ? IRP_MN_QUERY_STOP_DEVICE : IRP_MN_QUERY_REMOVE_DEVICE;
      if (fdoExtension.CurrentState === query) {
        fdoExtension.CurrentState = fdoExtension.PreviousState;
        fdoExtension.PreviousState = 0xFF;
      }
      if (minor === IRP_MN_CANCEL_STOP_DEVICE && (fdoExtension.HoldReasons & HOLD_STOPPED) !== 0) {
        fdoExtension.HoldReasons &= ~HOLD_STOPPED;
        if (fdoExtension.HoldReasons === 0) ClasspResumeHeldRequests(fdoExtension);
      }
      Irp.IoStatus.Status = STATUS_SUCCESS;
      IoCopyCurrentIrpStackLocationToNext(Irp);
      ClassReleaseRemoveLock(fdoExtension, Irp);
      return IoCallDriver(fdoExtension.LowerDeviceObject, Irp);
    }
    case IRP_MN_STOP_DEVICE: {
      fdoExtension.HoldReasons |= HOLD_STOPPED;
      Irp.IoStatus.Status = STATUS_SUCCESS;
      const status = await ClassForwardIrpSynchronous(fdoExtension.LowerDeviceObject, Irp);
      if (NT_SUCCESS(status)) {
        fdoExtension.CurrentState = minor;
        fdoExtension.PreviousState = 0xFF;
      }
      return complete(fdoExtension, Irp, status);
    }
    case IRP_MN_SURPRISE_REMOVAL:
    case IRP_MN_REMOVE_DEVICE: {
      ClassReleaseRemoveLock(fdoExtension, Irp);
      // Set before the IRP goes down: no new request may start after it.
      fdoExtension.IsRemoved = REMOVE_STATE.REMOVE_PENDING;
      ClasspFailHeldRequests(fdoExtension, STATUS_DEVICE_DOES_NOT_EXIST);
      Irp.IoStatus.Status = STATUS_SUCCESS;
      IoCopyCurrentIrpStackLocationToNext(Irp);
      const status = await IoCallDriver(fdoExtension.LowerDeviceObject, Irp);
      fdoExtension.PreviousState = fdoExtension.CurrentState;
      fdoExtension.CurrentState = minor;
      await ClassRemoveDevice(DeviceObject, minor);
      return status;
    }
    default:
      return passDown(fdoExtension, Irp);
  }
}
