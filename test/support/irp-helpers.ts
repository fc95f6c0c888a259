/** IRP helpers for I/O manager tests: a device-control dispatch hook, a device-control IRP, completing an IRP. */
import {
  CTL_CODE, FILE_ANY_ACCESS, FILE_DEVICE_UNKNOWN, IoAllocateIrp, IoCompleteRequest, IoGetNextIrpStackLocation, IO_NO_INCREMENT, IRP_MJ_DEVICE_CONTROL,
  METHOD_BUFFERED, type DEVICE_OBJECT, type IRP, type NTSTATUS,
} from "../../src/index.js";

/** Sets the same dispatch routine for IRP_MJ_DEVICE_CONTROL on a device's driver. */
export function onDeviceControl(device: DEVICE_OBJECT, routine: (d: DEVICE_OBJECT, irp: IRP) => NTSTATUS | Promise<NTSTATUS>): void {
  device.DriverObject.MajorFunction[IRP_MJ_DEVICE_CONTROL] = routine;
}

/** An IRP for `top`'s stack with the next location set to IRP_MJ_DEVICE_CONTROL. */
export function deviceControlIrp(top: DEVICE_OBJECT, stackSize = top.StackSize): IRP {
  const irp = IoAllocateIrp(stackSize, false)!;
  const s = IoGetNextIrpStackLocation(irp);
  s.MajorFunction = IRP_MJ_DEVICE_CONTROL;
  s.Parameters.DeviceIoControl.IoControlCode = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS);
  return irp;
}

/** Completes `irp` with `status` and `information`. */
export function complete(irp: IRP, status: NTSTATUS, information = 0): void {
  irp.IoStatus.Status = status;
  irp.IoStatus.Information = information;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
}
