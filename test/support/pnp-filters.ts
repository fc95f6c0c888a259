/**
 * Filter drivers for PnP tests: a filter that passes everything down and records every
 * PnP IRP it sees (minor name and IoStatus.Status on arrival), and that can be told to
 * fail a minor function or to break a rule (keep DO_DEVICE_INITIALIZING, skip the
 * detach or the delete on REMOVE).
 */
import {
  IoAttachDeviceToDeviceStack, IoCallDriver, IoCompleteRequest, IoCreateDevice, IoDeleteDevice, IoDetachDevice, IoGetCurrentIrpStackLocation,
  IoSkipCurrentIrpStackLocation, IO_NO_INCREMENT, IRP_MJ_MAXIMUM_FUNCTION, IRP_MJ_PNP, IRP_MN_PNP_NAMES, IRP_MN_REMOVE_DEVICE,
  DO_BUFFERED_IO, DO_DEVICE_INITIALIZING, DO_DIRECT_IO, DO_POWER_PAGABLE, FILE_DEVICE_UNKNOWN, NT_SUCCESS, STATUS_SUCCESS,
  IRP_MN_FILTER_RESOURCE_REQUIREMENTS, ExAllocatePoolWithTag, POOL_TYPE, type IO_RESOURCE_REQUIREMENTS_LIST,
  type DEVICE_OBJECT, type DRIVER_OBJECT, type DriverPackage, type IRP, type NTSTATUS,
} from "../../src/index.js";

/** What a recording filter does wrong or differently. */
export interface FilterBehaviour {
  /** Minor functions to fail, with the status. */
  fail?: Record<number, NTSTATUS>;
  /** AddDevice leaves DO_DEVICE_INITIALIZING set. */
  keepInitializing?: boolean;
  /** REMOVE does not detach. */
  noDetach?: boolean;
  /** REMOVE does not delete the device object. */
  noDelete?: boolean;
  /** AddDevice allocates this many pool blocks and nothing frees them. */
  leakPool?: number;
  /** Answers IRP_MN_FILTER_RESOURCE_REQUIREMENTS with this change of the list it was given. */
  filterRequirements?: (list: IO_RESOURCE_REQUIREMENTS_LIST) => IO_RESOURCE_REQUIREMENTS_LIST;
}

/** One PnP IRP a filter saw: "<service>:<IRP_MN_...>" and IoStatus.Status on arrival. */
export interface SeenIrp {
  at: string;
  minor: string;
  status: number;
}

class FilterExtension {
  lower: DEVICE_OBJECT | null = null;
}

/** A filter driver module that records into `log`. */
export function recordingFilterModule(service: string, log: SeenIrp[], behaviour: FilterBehaviour = {}) {
  return {
    DriverEntry(DriverObject: DRIVER_OBJECT): NTSTATUS {
      DriverObject.DriverExtension.AddDevice = function FilterAddDevice(driver: DRIVER_OBJECT, pdo: DEVICE_OBJECT): NTSTATUS {
        const ext = new FilterExtension();
        const { status, DeviceObject } = IoCreateDevice(driver, ext, null, FILE_DEVICE_UNKNOWN, 0, false);
        if (!NT_SUCCESS(status) || !DeviceObject) return status;
        ext.lower = IoAttachDeviceToDeviceStack(DeviceObject, pdo);
        DeviceObject.Flags |= ext.lower!.Flags & (DO_BUFFERED_IO | DO_DIRECT_IO | DO_POWER_PAGABLE);
        if (!behaviour.keepInitializing) DeviceObject.Flags &= ~DO_DEVICE_INITIALIZING;
        for (let i = 0; i < (behaviour.leakPool ?? 0); i++) ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 64, "Leak");
        log.push({ at: service, minor: "AddDevice", status: 0 });
        return STATUS_SUCCESS;
      };
      DriverObject.DriverUnload = function FilterUnload(): void {
        log.push({ at: service, minor: "DriverUnload", status: 0 });
      };
      for (let major = 0; major <= IRP_MJ_MAXIMUM_FUNCTION; major++) {
        DriverObject.MajorFunction[major] = function FilterPassThrough(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS | Promise<NTSTATUS> {
          const ext = DeviceObject.DeviceExtension as FilterExtension;
          IoSkipCurrentIrpStackLocation(Irp);
          return IoCallDriver(ext.lower!, Irp);
        };
      }
      DriverObject.MajorFunction[IRP_MJ_PNP] = async function FilterDispatchPnp(DeviceObject: DEVICE_OBJECT, Irp: IRP): Promise<NTSTATUS> {
        const ext = DeviceObject.DeviceExtension as FilterExtension;
        const minor = IoGetCurrentIrpStackLocation(Irp).MinorFunction;
        log.push({ at: service, minor: IRP_MN_PNP_NAMES[minor] ?? `0x${minor.toString(16)}`, status: Irp.IoStatus.Status });
        const failWith = behaviour.fail?.[minor];
        if (failWith !== undefined) {
          Irp.IoStatus.Status = failWith;
          IoCompleteRequest(Irp, IO_NO_INCREMENT);
          return failWith;
        }
        if (minor === IRP_MN_FILTER_RESOURCE_REQUIREMENTS && behaviour.filterRequirements) {
          Irp.IoStatus.Information = behaviour.filterRequirements(Irp.IoStatus.Information as IO_RESOURCE_REQUIREMENTS_LIST);
          Irp.IoStatus.Status = STATUS_SUCCESS;
        }
        const lower = ext.lower!;
        IoSkipCurrentIrpStackLocation(Irp);
        const status = await IoCallDriver(lower, Irp);
        if (minor === IRP_MN_REMOVE_DEVICE) {
          if (!behaviour.noDetach) IoDetachDevice(lower);
          if (!behaviour.noDelete) IoDeleteDevice(DeviceObject);
        }
        return status;
      };
      return STATUS_SUCCESS;
    },
  };
}

/** A recording device filter package for devices with these IDs. */
export function deviceFilter(service: string, role: "upperFilter" | "lowerFilter", ids: string[], log: SeenIrp[], behaviour: FilterBehaviour = {}): DriverPackage {
  return { service, description: `recording ${role}`, ids, role, module: recordingFilterModule(service, log, behaviour) };
}

/** A recording class filter package for a setup class (name or GUID). */
export function classFilter(service: string, role: "upperFilter" | "lowerFilter", classes: string[], log: SeenIrp[], behaviour: FilterBehaviour = {}): DriverPackage {
  return { service, description: `recording class ${role}`, ids: [], classes, role, module: recordingFilterModule(service, log, behaviour) };
}
