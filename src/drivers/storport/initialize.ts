/**
 * StorPortInitialize: a miniport calls it from DriverEntry with its HW_INITIALIZATION_DATA;
 * the port checks it, keeps it in the driver's extension and takes over the driver object:
 * AddDevice makes the adapter FDO (\Device\RaidPortN, \DosDevices\ScsiN:) on the
 * controller's PDO, and every dispatch routine is the port's, routing each IRP to the
 * adapter or to the unit it is for (unit PDOs belong to the miniport's driver object, as on
 * Windows). The miniport's own code runs only when the port calls its Hw* routines.
 */
import {
  DO_DEVICE_INITIALIZING, DO_DIRECT_IO, DO_POWER_PAGABLE, FILE_DEVICE_CONTROLLER, FILE_DEVICE_SECURE_OPEN, IoAttachDeviceToDeviceStack,
  IoCreateDevice, IoCreateSymbolicLink, IoDeleteDevice, type DEVICE_OBJECT, type DRIVER_OBJECT,
} from "../../io/objects.js";
import {
  IoCallDriver, IoCompleteRequest, IoGetCurrentIrpStackLocation, IoSkipCurrentIrpStackLocation, IO_NO_INCREMENT, IRP_MJ_CLEANUP,
  IRP_MJ_CLOSE, IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL, IRP_MJ_FLUSH_BUFFERS, IRP_MJ_PNP, IRP_MJ_POWER, IRP_MJ_SHUTDOWN, IRP_MJ_SYSTEM_CONTROL,
  type IRP,
} from "../../io/irp.js";
import { NT_SUCCESS, STATUS_INVALID_PARAMETER, STATUS_INVALID_DEVICE_REQUEST, STATUS_NO_SUCH_DEVICE, STATUS_REVISION_MISMATCH, STATUS_SUCCESS, type NTSTATUS } from "../../ke/ntstatus.js";
import { KE } from "../../ke/kernel.js";
import { KDPC, KeInitializeDpc, KeSetTargetProcessorDpc } from "../../ke/dpc.js";
import { KeInitializeTimer } from "../../ke/timer.js";
import { KeInitializeSpinLock } from "../../ke/spinlock.js";
import { IRP_MJ_SCSI } from "../storage/srb.js";
import { SRB_TYPE_FLAG_SCSI_REQUEST_BLOCK, SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK, STOR_FEATURE_VIRTUAL_MINIPORT, type HW_INITIALIZATION_DATA } from "./storport.js";
import { RAID_ADAPTER_EXTENSION, RAID_DRIVER_EXTENSION, STORPORT } from "./adapter.js";
import type { RAID_UNIT_EXTENSION } from "./unit.js";
import { RaidpAdapterCompletionDpcRoutine } from "./request.js";
import { RaidpAdapterTimeoutDpcRoutine } from "./timeout.js";
import { RaidpAdapterHwTimerDpcRoutine, RaidpAdapterRestartDpcRoutine } from "./services.js";
import { RaidAdapterPnp, RaidUnitPnp } from "./pnp.js";
import { RaidAdapterPower, RaidUnitPower } from "./power.js";
import { RaidAdapterDeviceControl, RaidUnitDeviceControl } from "./ioctl.js";
import { RaidUnitScsi } from "./dispatch.js";
import type { UNICODE_STRING } from "../../rtl/unicode-string.js";

/** The miniport registration a driver object carries (StorPortInitialize put it there). */
const registrations = new WeakMap<DRIVER_OBJECT, RAID_DRIVER_EXTENSION>();

/** The registration of a miniport's driver object, or undefined. */
export function miniportOf(DriverObject: DRIVER_OBJECT): RAID_DRIVER_EXTENSION | undefined {
  return registrations.get(DriverObject);
}

/**
 * StorPortInitialize(Argument1 = DriverObject, Argument2 = RegistryPath, HwInitializationData,
 * HwContext): registers the miniport. STATUS_INVALID_PARAMETER for a missing argument,
 * STATUS_REVISION_MISMATCH for a structure of the wrong size, STATUS_INVALID_PARAMETER when a
 * routine every miniport must supply is missing (HwFindAdapter, HwInitialize, HwStartIo,
 * HwResetBus, HwAdapterControl, and HwInterrupt unless the miniport is virtual) or the SRB
 * types are unknown (0 means standard SRBs); otherwise STATUS_SUCCESS and the driver object
 * is the port's.
 */
export function StorPortInitialize(Argument1: DRIVER_OBJECT, Argument2: UNICODE_STRING, HwInitializationData: HW_INITIALIZATION_DATA, _HwContext: unknown): NTSTATUS {
  const hw = HwInitializationData;
  if (!Argument1 || Argument2 === null || Argument2 === undefined || !hw) return STATUS_INVALID_PARAMETER;
  if (hw.HwInitializationDataSize < 0xB8) return STATUS_REVISION_MISMATCH;
  if (!hw.HwFindAdapter || !hw.HwInitialize || !hw.HwStartIo || !hw.HwResetBus || !hw.HwAdapterControl) return STATUS_INVALID_PARAMETER;
  if (!hw.HwInterrupt && (hw.FeatureSupport & STOR_FEATURE_VIRTUAL_MINIPORT) === 0) return STATUS_INVALID_PARAMETER;
  const known = SRB_TYPE_FLAG_SCSI_REQUEST_BLOCK | SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK;
  if ((hw.SrbTypeFlags & ~known) !== 0) return STATUS_INVALID_PARAMETER;
  registrations.set(Argument1, new RAID_DRIVER_EXTENSION(Argument1.serviceName, hw));
  Argument1.DriverExtension.AddDevice = RaDriverAddDevice;
  Argument1.DriverUnload = RaDriverUnload;
  Argument1.MajorFunction[IRP_MJ_CREATE] = RaDriverCreateIrp;
  Argument1.MajorFunction[IRP_MJ_CLOSE] = RaDriverCreateIrp;
  Argument1.MajorFunction[IRP_MJ_CLEANUP] = RaDriverCreateIrp;
  Argument1.MajorFunction[IRP_MJ_DEVICE_CONTROL] = RaDriverDeviceControlIrp;
  Argument1.MajorFunction[IRP_MJ_SCSI] = RaDriverScsiIrp;
  Argument1.MajorFunction[IRP_MJ_PNP] = RaDriverPnpIrp;
  Argument1.MajorFunction[IRP_MJ_POWER] = RaDriverPowerIrp;
  Argument1.MajorFunction[IRP_MJ_SYSTEM_CONTROL] = RaDriverSystemControlIrp;
  Argument1.MajorFunction[IRP_MJ_SHUTDOWN] = RaDriverCreateIrp;
  Argument1.MajorFunction[IRP_MJ_FLUSH_BUFFERS] = RaDriverCreateIrp;
  return STATUS_SUCCESS;
}

/** AddDevice: the adapter FDO on the controller's PDO. */
function RaDriverAddDevice(DriverObject: DRIVER_OBJECT, PhysicalDeviceObject: DEVICE_OBJECT): NTSTATUS {
  const driver = registrations.get(DriverObject);
  if (!driver) return STATUS_INVALID_DEVICE_REQUEST;
  const state = STORPORT();
  const a = new RAID_ADAPTER_EXTENSION(driver);
  const port = state.nextPortNumber;
  const name = `\\Device\\RaidPort${port}`;
  const { status, DeviceObject } = IoCreateDevice(DriverObject, a, name, FILE_DEVICE_CONTROLLER, FILE_DEVICE_SECURE_OPEN, false);
  if (!NT_SUCCESS(status) || !DeviceObject) return status;
  state.nextPortNumber++;
  a.PortNumber = port;
  a.DeviceObject = DeviceObject;
  a.PhysicalDeviceObject = PhysicalDeviceObject;
  a.LowerDeviceObject = IoAttachDeviceToDeviceStack(DeviceObject, PhysicalDeviceObject);
  if (!a.LowerDeviceObject) {
    IoDeleteDevice(DeviceObject);
    return STATUS_NO_SUCH_DEVICE;
  }
  IoCreateSymbolicLink(`\\DosDevices\\Scsi${port}:`, name);
  initializeAdapterObjects(a);
  driver.adapters.push(a);
  DeviceObject.Flags |= DO_DIRECT_IO | DO_POWER_PAGABLE;
  DeviceObject.Flags &= ~DO_DEVICE_INITIALIZING;
  return STATUS_SUCCESS;
}

/** The adapter's DPCs (a completion DPC per processor, timeout, restart, HwTimer), timers and locks. */
function initializeAdapterObjects(a: RAID_ADAPTER_EXTENSION): void {
  const k = KE();
  for (const p of k.processors) {
    const dpc = a.CompletionDpcs[p.Number] ?? new KDPC();
    KeInitializeDpc(dpc, RaidpAdapterCompletionDpcRoutine, a);
    KeSetTargetProcessorDpc(dpc, p.Number);
    a.CompletionDpcs[p.Number] = dpc;
    a.CompletionLists[p.Number] = null;
  }
  KeInitializeTimer(a.TimeoutTimer);
  KeInitializeDpc(a.TimeoutDpc, RaidpAdapterTimeoutDpcRoutine, a);
  KeInitializeTimer(a.PauseTimer);
  KeInitializeDpc(a.PauseDpc, RaidpAdapterRestartDpcRoutine, a);
  KeInitializeTimer(a.HwTimer);
  KeInitializeDpc(a.HwTimerDpc, RaidpAdapterHwTimerDpcRoutine, a);
  KeInitializeSpinLock(a.StartIoLock);
  KeInitializeSpinLock(a.SharedInterruptLock);
}

/** DriverUnload: the port keeps nothing of the driver once its adapters are gone. */
function RaDriverUnload(DriverObject: DRIVER_OBJECT): void {
  registrations.delete(DriverObject);
}

/** The adapter or unit a device object of the miniport is. */
function extensionOf(DeviceObject: DEVICE_OBJECT): RAID_ADAPTER_EXTENSION | RAID_UNIT_EXTENSION {
  return DeviceObject.DeviceExtension as RAID_ADAPTER_EXTENSION | RAID_UNIT_EXTENSION;
}

function complete(Irp: IRP, status: NTSTATUS, information = 0): NTSTATUS {
  Irp.IoStatus.Status = status;
  Irp.IoStatus.Information = information;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
  return status;
}

/** IRP_MJ_CREATE, CLOSE, CLEANUP, SHUTDOWN, FLUSH_BUFFERS: nothing to do; a removed unit cannot be opened. */
function RaDriverCreateIrp(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = extensionOf(DeviceObject);
  const major = IoGetCurrentIrpStackLocation(Irp).MajorFunction;
  if (!ext.IsAdapter && ext.Removed && major === IRP_MJ_CREATE) return complete(Irp, STATUS_NO_SUCH_DEVICE);
  return complete(Irp, STATUS_SUCCESS);
}

/** IRP_MJ_DEVICE_CONTROL. */
function RaDriverDeviceControlIrp(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS | Promise<NTSTATUS> {
  const ext = extensionOf(DeviceObject);
  return ext.IsAdapter ? RaidAdapterDeviceControl(ext, Irp) : RaidUnitDeviceControl(ext, Irp);
}

/** IRP_MJ_SCSI: SRBs are for units; the adapter takes none. */
function RaDriverScsiIrp(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = extensionOf(DeviceObject);
  if (ext.IsAdapter) return complete(Irp, STATUS_INVALID_DEVICE_REQUEST);
  return RaidUnitScsi(ext, Irp);
}

/** IRP_MJ_PNP. */
function RaDriverPnpIrp(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS | Promise<NTSTATUS> {
  const ext = extensionOf(DeviceObject);
  return ext.IsAdapter ? RaidAdapterPnp(ext, Irp) : RaidUnitPnp(ext, Irp);
}

/** IRP_MJ_POWER. */
function RaDriverPowerIrp(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS | Promise<NTSTATUS> {
  const ext = extensionOf(DeviceObject);
  return ext.IsAdapter ? RaidAdapterPower(ext, Irp) : RaidUnitPower(ext, Irp);
}

/** IRP_MJ_SYSTEM_CONTROL: not a WMI provider; the adapter passes it on, units leave it as it is. */
function RaDriverSystemControlIrp(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS | Promise<NTSTATUS> {
  const ext = extensionOf(DeviceObject);
  if (ext.IsAdapter) {
    IoSkipCurrentIrpStackLocation(Irp);
    return IoCallDriver(ext.LowerDeviceObject!, Irp);
  }
  return complete(Irp, Irp.IoStatus.Status, Irp.IoStatus.Information);
}
