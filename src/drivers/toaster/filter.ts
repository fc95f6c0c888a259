/**
 * The toaster filters: one driver module, installed under four services — a device
 * upper and lower filter (by the toaster's hardware ID) and a class upper and lower
 * filter (for the Toaster setup class). Each passes everything down unchanged and counts
 * the IRPs it sees by major function (and PnP/power minor function), per device.
 */
import {
  DEVICE_OBJECT, DO_BUFFERED_IO, DO_DEVICE_INITIALIZING, DO_DIRECT_IO, DO_POWER_PAGABLE, DRIVER_OBJECT, IoAttachDeviceToDeviceStack,
  IoCreateDevice, IoDeleteDevice, IoDetachDevice,
} from "../../io/objects.js";
import { IoCallDriver, IoGetCurrentIrpStackLocation, IoSkipCurrentIrpStackLocation, IRP_MJ_MAXIMUM_FUNCTION, IRP_MJ_NAMES, IRP_MJ_PNP, type IRP } from "../../io/irp.js";
import { NT_SUCCESS, STATUS_NO_SUCH_DEVICE, STATUS_SUCCESS, type NTSTATUS } from "../../ke/ntstatus.js";
import { IRP_MN_PNP_NAMES, IRP_MN_REMOVE_DEVICE } from "../../pnp/minor.js";
import type { UNICODE_STRING } from "../../rtl/unicode-string.js";

/** A filter device's extension. */
export class FILTER_DEVICE_EXTENSION {
  Self!: DEVICE_OBJECT;
  NextLowerDriver: DEVICE_OBJECT | null = null;
  /** IRPs seen: "IRP_MJ_READ", "IRP_MJ_PNP/IRP_MN_START_DEVICE", ... -> count. */
  readonly Seen = new Map<string, number>();
}

function record(ext: FILTER_DEVICE_EXTENSION, Irp: IRP): number {
  const s = IoGetCurrentIrpStackLocation(Irp);
  const major = IRP_MJ_NAMES[s.MajorFunction] ?? `IRP_MJ_0x${s.MajorFunction.toString(16)}`;
  const key = s.MajorFunction === IRP_MJ_PNP ? `${major}/${IRP_MN_PNP_NAMES[s.MinorFunction] ?? s.MinorFunction}` : major;
  ext.Seen.set(key, (ext.Seen.get(key) ?? 0) + 1);
  return s.MinorFunction;
}

/** Every major function: count it and pass it down; on REMOVE also detach and delete. */
async function FilterDispatchAny(DeviceObject: DEVICE_OBJECT, Irp: IRP): Promise<NTSTATUS> {
  const ext = DeviceObject.DeviceExtension as FILTER_DEVICE_EXTENSION;
  const major = IoGetCurrentIrpStackLocation(Irp).MajorFunction;
  const minor = record(ext, Irp);
  const lower = ext.NextLowerDriver!;
  IoSkipCurrentIrpStackLocation(Irp);
  const status = await IoCallDriver(lower, Irp);
  if (major === IRP_MJ_PNP && minor === IRP_MN_REMOVE_DEVICE) {
    IoDetachDevice(lower);
    IoDeleteDevice(DeviceObject);
  }
  return status;
}

/** AddDevice: a filter device above whatever is on the stack, taking on its I/O flags. */
function FilterAddDevice(DriverObject: DRIVER_OBJECT, PhysicalDeviceObject: DEVICE_OBJECT): NTSTATUS {
  const ext = new FILTER_DEVICE_EXTENSION();
  const { status, DeviceObject } = IoCreateDevice(DriverObject, ext, null, PhysicalDeviceObject.DeviceType, 0, false);
  if (!NT_SUCCESS(status) || !DeviceObject) return status;
  ext.Self = DeviceObject;
  ext.NextLowerDriver = IoAttachDeviceToDeviceStack(DeviceObject, PhysicalDeviceObject);
  if (!ext.NextLowerDriver) {
    IoDeleteDevice(DeviceObject);
    return STATUS_NO_SUCH_DEVICE;
  }
  DeviceObject.DeviceType = ext.NextLowerDriver.DeviceType;
  DeviceObject.Characteristics = ext.NextLowerDriver.Characteristics;
  DeviceObject.Flags |= ext.NextLowerDriver.Flags & (DO_BUFFERED_IO | DO_DIRECT_IO | DO_POWER_PAGABLE);
  DeviceObject.Flags &= ~DO_DEVICE_INITIALIZING;
  return STATUS_SUCCESS;
}

/** DriverUnload: nothing global to free. */
function FilterUnload(_DriverObject: DRIVER_OBJECT): void {}

/** DriverEntry of a toaster filter. */
export function DriverEntry(DriverObject: DRIVER_OBJECT, _RegistryPath: UNICODE_STRING): NTSTATUS {
  DriverObject.DriverExtension.AddDevice = FilterAddDevice;
  DriverObject.DriverUnload = FilterUnload;
  for (let major = 0; major <= IRP_MJ_MAXIMUM_FUNCTION; major++) DriverObject.MajorFunction[major] = FilterDispatchAny;
  return STATUS_SUCCESS;
}
