/**
 * The disk class driver (service "disk"): the FDO on each disk unit's PDO the storage port
 * creates, doing what disk.sys does on top of classpnp.sys. It turns reads, writes, flushes
 * and disk I/O controls into SCSI commands (SRBs in IRP_MJ_SCSI) for the port, splits and
 * retries them, interprets their sense data, and owns the disk's power policy.
 *
 * One concept per file: pnp.ts (AddDevice, PnP), start.ts, readwrite.ts, xferpkt.ts
 * (transfer packets), retry.ts, sense.ts (ClassInterpretSenseInfo), sync-srb.ts
 * (ClassSendSrbSynchronous), capacity.ts, mode-sense.ts, vpd.ts, ioctl.ts, flush.ts,
 * power.ts, queue.ts (remove lock, held requests), resume.ts, names.ts, lower.ts.
 */
import type { DEVICE_OBJECT, DRIVER_OBJECT } from "../../io/objects.js";
import {
  IoCallDriver, IoCompleteRequest, IoCopyCurrentIrpStackLocationToNext, IoGetCurrentIrpStackLocation, IoSkipCurrentIrpStackLocation, IO_NO_INCREMENT,
  IRP_MJ_CLOSE, IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL, IRP_MJ_FLUSH_BUFFERS, IRP_MJ_INTERNAL_DEVICE_CONTROL, IRP_MJ_PNP, IRP_MJ_POWER, IRP_MJ_READ,
  IRP_MJ_SYSTEM_CONTROL, IRP_MJ_WRITE, type IRP,
} from "../../io/irp.js";
import { STATUS_DEVICE_DOES_NOT_EXIST, STATUS_SUCCESS, type NTSTATUS } from "../../ke/ntstatus.js";
import { REMOVE_STATE } from "./extension.js";
import { ClassAcquireRemoveLock, ClassReleaseRemoveLock, fdoExtensionOf } from "./queue.js";
import { DiskAddDevice, DiskDispatchPnp } from "./pnp.js";
import { DiskDispatchReadWrite } from "./readwrite.js";
import { DiskDeviceControl } from "./ioctl.js";
import { DiskShutdownFlush } from "./flush.js";
import { DiskDispatchPower } from "./power.js";
import { diskDriverExtension } from "./names.js";
import type { UNICODE_STRING } from "../../rtl/unicode-string.js";

/**
 * IRP_MJ_CREATE and IRP_MJ_CLOSE (ClassCreateClose): a removed disk cannot be opened; both
 * go on to the port, which keeps its own count of opens.
 */
function ClassCreateClose(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS | Promise<NTSTATUS> {
  const fdoExtension = fdoExtensionOf(DeviceObject);
  const isRemoved = ClassAcquireRemoveLock(fdoExtension, Irp);
  const create = IoGetCurrentIrpStackLocation(Irp).MajorFunction === IRP_MJ_CREATE;
  if (isRemoved !== REMOVE_STATE.NO_REMOVE && create) {
    if (isRemoved !== REMOVE_STATE.REMOVE_COMPLETE) ClassReleaseRemoveLock(fdoExtension, Irp);
    Irp.IoStatus.Status = STATUS_DEVICE_DOES_NOT_EXIST;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_DEVICE_DOES_NOT_EXIST;
  }
  if (isRemoved === REMOVE_STATE.REMOVE_COMPLETE) {
    // The lower stack is gone: a close just succeeds.
    Irp.IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
  }
  IoCopyCurrentIrpStackLocationToNext(Irp);
  ClassReleaseRemoveLock(fdoExtension, Irp);
  return IoCallDriver(fdoExtension.LowerDeviceObject, Irp);
}

/** IRP_MJ_SCSI from a driver above (ClassInternalIoControl): the port's business. */
function ClassInternalIoControl(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS | Promise<NTSTATUS> {
  const fdoExtension = fdoExtensionOf(DeviceObject);
  IoSkipCurrentIrpStackLocation(Irp);
  return IoCallDriver(fdoExtension.LowerDeviceObject, Irp);
}

/** IRP_MJ_SYSTEM_CONTROL: the disk is no WMI provider here; it goes down. */
function ClassSystemControl(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS | Promise<NTSTATUS> {
  const fdoExtension = fdoExtensionOf(DeviceObject);
  IoSkipCurrentIrpStackLocation(Irp);
  return IoCallDriver(fdoExtension.LowerDeviceObject, Irp);
}

/** DiskUnload: the driver extension goes with the driver object. */
function DiskUnload(_DriverObject: DRIVER_OBJECT): void {}

/** DriverEntry of the disk class driver. */
export function DriverEntry(DriverObject: DRIVER_OBJECT, _RegistryPath: UNICODE_STRING): NTSTATUS {
  diskDriverExtension(DriverObject);
  DriverObject.DriverExtension.AddDevice = DiskAddDevice;
  DriverObject.DriverUnload = DiskUnload;
  DriverObject.MajorFunction[IRP_MJ_CREATE] = ClassCreateClose;
  DriverObject.MajorFunction[IRP_MJ_CLOSE] = ClassCreateClose;
  DriverObject.MajorFunction[IRP_MJ_READ] = DiskDispatchReadWrite;
  DriverObject.MajorFunction[IRP_MJ_WRITE] = DiskDispatchReadWrite;
  DriverObject.MajorFunction[IRP_MJ_DEVICE_CONTROL] = DiskDeviceControl;
  DriverObject.MajorFunction[IRP_MJ_INTERNAL_DEVICE_CONTROL] = ClassInternalIoControl;
  DriverObject.MajorFunction[IRP_MJ_FLUSH_BUFFERS] = DiskShutdownFlush;
  DriverObject.MajorFunction[IRP_MJ_PNP] = DiskDispatchPnp;
  DriverObject.MajorFunction[IRP_MJ_POWER] = DiskDispatchPower;
  DriverObject.MajorFunction[IRP_MJ_SYSTEM_CONTROL] = ClassSystemControl;
  return STATUS_SUCCESS;
}
