/**
 * A test driver with a planted bug: its METHOD_NEITHER IOCTL fills a pool staging buffer of the
 * output buffer's size with 64 bytes when that size is 13: an overrun of the pool
 * allocation (special pool catches it).
 */
import {
  CTL_CODE, DO_BUFFERED_IO, DO_DEVICE_INITIALIZING, ExAllocatePoolWithTag, ExFreePoolWithTag, FILE_ANY_ACCESS, FILE_DEVICE_UNKNOWN,
  IoCompleteRequest, IoCreateDevice, IoCreateSymbolicLink, IoGetCurrentIrpStackLocation, IO_NO_INCREMENT, IRP_MJ_CLOSE, IRP_MJ_CREATE,
  IRP_MJ_DEVICE_CONTROL, METHOD_NEITHER, POOL_TYPE, STATUS_INVALID_DEVICE_REQUEST, STATUS_SUCCESS, writeBytes, type IRP, type Machine,
  type NTSTATUS,
} from "../../src/index.js";
import { IO } from "../../src/io/manager.js";

/** The planted IOCTL. */
export const IOCTL_OVERRUN = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x950, METHOD_NEITHER, FILE_ANY_ACCESS);
/** Win32 path of the device. */
export const OVERRUN_DEVICE = "\\\\.\\OverrunTest";

function complete(irp: IRP, status: NTSTATUS, information: number): NTSTATUS {
  irp.IoStatus.Status = status;
  irp.IoStatus.Information = information;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
  return status;
}

/** Loads the driver (service "overrun") on a booted machine. */
export async function loadOverrunDriver(machine: Machine): Promise<void> {
  await machine.exec(() => IO().loadDriver("overrun", {
    DriverEntry(driver) {
      const { DeviceObject } = IoCreateDevice(driver, 0, "\\Device\\OverrunTest", FILE_DEVICE_UNKNOWN, 0, false);
      DeviceObject!.Flags |= DO_BUFFERED_IO;
      DeviceObject!.Flags &= ~DO_DEVICE_INITIALIZING;
      IoCreateSymbolicLink("\\DosDevices\\OverrunTest", "\\Device\\OverrunTest");
      driver.MajorFunction[IRP_MJ_CREATE] = driver.MajorFunction[IRP_MJ_CLOSE] = function OverrunCreateClose(_d, irp) {
        return complete(irp, STATUS_SUCCESS, 0);
      };
      driver.MajorFunction[IRP_MJ_DEVICE_CONTROL] = function OverrunDeviceControl(_d, irp) {
        const s = IoGetCurrentIrpStackLocation(irp);
        if (s.Parameters.DeviceIoControl.IoControlCode !== IOCTL_OVERRUN) return complete(irp, STATUS_INVALID_DEVICE_REQUEST, 0);
        const length = s.Parameters.DeviceIoControl.OutputBufferLength;
        if (length === 13) {
          // The bug: a staging buffer of the caller's size, filled with 16 bytes.
          const staging = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPoolNx, length, 0x6E72764F);
          writeBytes(staging, new Uint8Array(64).fill(0x4F));
          ExFreePoolWithTag(staging, 0x6E72764F);
        }
        return complete(irp, STATUS_SUCCESS, 0);
      };
      return STATUS_SUCCESS;
    },
  }));
}
