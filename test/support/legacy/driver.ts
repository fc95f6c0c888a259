/**
 * A minimal legacy (non-PnP) driver for the Service Control Manager tests: DriverEntry
 * creates \Device\LegacyTest and \DosDevices\LegacyTest; IOCTL_LEGACY_ECHO returns its
 * input; DriverUnload deletes the link and the device.
 */
import {
  CTL_CODE, FILE_ANY_ACCESS, FILE_DEVICE_UNKNOWN, IoCompleteRequest, IoCreateDevice, IoCreateSymbolicLink, IoDeleteDevice, IoDeleteSymbolicLink,
  IoGetCurrentIrpStackLocation, IO_NO_INCREMENT, IRP_MJ_CLOSE, IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL, METHOD_BUFFERED, NT_SUCCESS,
  STATUS_INVALID_DEVICE_REQUEST, STATUS_SUCCESS, DO_BUFFERED_IO, DO_DEVICE_INITIALIZING,
  type DEVICE_OBJECT, type DRIVER_OBJECT, type IRP, type NTSTATUS,
} from "../../../src/index.js";
import type { UNICODE_STRING } from "../../../src/rtl/unicode-string.js";

export const IOCTL_LEGACY_ECHO = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS);
const NT_DEVICE_NAME = "\\Device\\LegacyTest";
const DOS_DEVICE_NAME = "\\DosDevices\\LegacyTest";

function CreateClose(_DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  Irp.IoStatus.Status = STATUS_SUCCESS;
  Irp.IoStatus.Information = 0;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
  return STATUS_SUCCESS;
}

function DeviceControl(_DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const s = IoGetCurrentIrpStackLocation(Irp);
  const p = s.Parameters.DeviceIoControl;
  let status = STATUS_INVALID_DEVICE_REQUEST;
  if (p.IoControlCode === IOCTL_LEGACY_ECHO) {
    const n = Math.min(p.InputBufferLength, p.OutputBufferLength);
    // METHOD_BUFFERED: the system buffer holds the input and becomes the output.
    Irp.IoStatus.Information = n;
    status = STATUS_SUCCESS;
  }
  Irp.IoStatus.Status = status;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
  return status;
}

export function Unload(DriverObject: DRIVER_OBJECT): void {
  IoDeleteSymbolicLink(DOS_DEVICE_NAME);
  if (DriverObject.DeviceObject) IoDeleteDevice(DriverObject.DeviceObject);
}

export function DriverEntry(DriverObject: DRIVER_OBJECT, _RegistryPath: UNICODE_STRING): NTSTATUS {
  const { status, DeviceObject } = IoCreateDevice(DriverObject, {}, NT_DEVICE_NAME, FILE_DEVICE_UNKNOWN, 0, false);
  if (!NT_SUCCESS(status) || !DeviceObject) return status;
  DriverObject.MajorFunction[IRP_MJ_CREATE] = CreateClose;
  DriverObject.MajorFunction[IRP_MJ_CLOSE] = CreateClose;
  DriverObject.MajorFunction[IRP_MJ_DEVICE_CONTROL] = DeviceControl;
  DriverObject.DriverUnload = Unload;
  DeviceObject.Flags |= DO_BUFFERED_IO;
  DeviceObject.Flags &= ~DO_DEVICE_INITIALIZING;
  const link = IoCreateSymbolicLink(DOS_DEVICE_NAME, NT_DEVICE_NAME);
  if (!NT_SUCCESS(link)) {
    IoDeleteDevice(DeviceObject);
    return link;
  }
  return STATUS_SUCCESS;
}
