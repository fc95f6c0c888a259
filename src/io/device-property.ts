/**
 * IoGetDeviceProperty for the properties that describe where a device sits on its bus:
 * DevicePropertyBusNumber, DevicePropertyLegacyBusType and DevicePropertyAddress (for
 * PCI, device number in the high word and function in the low word). The PnP manager
 * learns them from the bus driver (IRP_MN_QUERY_BUS_INFORMATION and
 * IRP_MN_QUERY_CAPABILITIES) before the device starts. Other properties are not kept
 * here and return STATUS_NOT_SUPPORTED.
 */
import { STATUS_INVALID_DEVICE_REQUEST, STATUS_NOT_SUPPORTED, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import type { DEVICE_OBJECT } from "./objects.js";

/** DEVICE_REGISTRY_PROPERTY (the values wdm.h gives). */
export enum DEVICE_REGISTRY_PROPERTY {
  DevicePropertyDeviceDescription = 0,
  DevicePropertyHardwareID = 1,
  DevicePropertyCompatibleIDs = 2,
  DevicePropertyBootConfiguration = 3,
  DevicePropertyBootConfigurationTranslated = 4,
  DevicePropertyClassName = 5,
  DevicePropertyClassGuid = 6,
  DevicePropertyDriverKeyName = 7,
  DevicePropertyManufacturer = 8,
  DevicePropertyFriendlyName = 9,
  DevicePropertyLocationInformation = 10,
  DevicePropertyPhysicalDeviceObjectName = 11,
  DevicePropertyBusTypeGuid = 12,
  DevicePropertyLegacyBusType = 13,
  DevicePropertyBusNumber = 14,
  DevicePropertyEnumeratorName = 15,
  DevicePropertyAddress = 16,
  DevicePropertyUINumber = 17,
}

/**
 * IoGetDeviceProperty: the property's value (ULONG properties as numbers). A device
 * object that is not a PDO the PnP manager knows is STATUS_INVALID_DEVICE_REQUEST.
 */
export function IoGetDeviceProperty(DeviceObject: DEVICE_OBJECT, DeviceProperty: DEVICE_REGISTRY_PROPERTY): { status: NTSTATUS; value: number } {
  const where = DeviceObject.busLocation;
  if (!where) return { status: STATUS_INVALID_DEVICE_REQUEST, value: 0 };
  switch (DeviceProperty) {
    case DEVICE_REGISTRY_PROPERTY.DevicePropertyBusNumber: return { status: STATUS_SUCCESS, value: where.BusNumber };
    case DEVICE_REGISTRY_PROPERTY.DevicePropertyLegacyBusType: return { status: STATUS_SUCCESS, value: where.LegacyBusType };
    case DEVICE_REGISTRY_PROPERTY.DevicePropertyAddress: return { status: STATUS_SUCCESS, value: where.Address };
    default: return { status: STATUS_NOT_SUPPORTED, value: 0 };
  }
}
