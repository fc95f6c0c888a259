/**
 * IoGetDeviceProperty: what the PnP manager learned about a PDO from its bus driver —
 * IDs, description and location text, setup class, the PDO's name, the enumerator, bus
 * type, number and address (PCI: device in the high word, function in the low word), and
 * UI number. Strings come back as strings, REG_MULTI_SZ properties as string arrays,
 * ULONGs as numbers. A property the bus did not give is STATUS_OBJECT_NAME_NOT_FOUND;
 * the driver key name comes from the registry ("{class guid}\\nnnn"); the boot
 * configuration is not kept (STATUS_NOT_SUPPORTED).
 */
import { STATUS_INVALID_DEVICE_REQUEST, STATUS_NOT_SUPPORTED, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import type { DEVICE_OBJECT } from "./objects.js";
import { KE } from "../ke/kernel.js";
import { CM, ENUM_KEY } from "../cm/registry.js";

/** What the PnP manager's device node holds that IoGetDeviceProperty reads (DEVICE_NODE satisfies it). */
export interface DevicePropertySource {
  InstancePath: string;
  HardwareIds: string[];
  CompatibleIds: string[];
  Description: string;
  Location: string;
  ClassName: string;
  ClassGuid: string;
  BusTypeGuid: string;
  capabilities: { UINumber: number } | null;
}

/** A property's value: a ULONG, a string, or a REG_MULTI_SZ list. */
export type DevicePropertyValue = number | string | string[];

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
 * IoGetDeviceProperty: the property's value. A device object that is not a PDO the PnP
 * manager knows is STATUS_INVALID_DEVICE_REQUEST.
 */
export function IoGetDeviceProperty(DeviceObject: DEVICE_OBJECT, DeviceProperty: DEVICE_REGISTRY_PROPERTY): { status: NTSTATUS; value: DevicePropertyValue } {
  const node = DeviceObject.deviceNode as DevicePropertySource | null;
  if (!node) return { status: STATUS_INVALID_DEVICE_REQUEST, value: 0 };
  const where = DeviceObject.busLocation;
  const P = DEVICE_REGISTRY_PROPERTY;
  const found = (value: DevicePropertyValue | undefined) => (value === undefined || value === "" ? { status: STATUS_OBJECT_NAME_NOT_FOUND, value: 0 } : { status: STATUS_SUCCESS, value });
  switch (DeviceProperty) {
    case P.DevicePropertyDeviceDescription: return found(node.Description);
    case P.DevicePropertyHardwareID: return found(node.HardwareIds.length ? [...node.HardwareIds] : undefined);
    case P.DevicePropertyCompatibleIDs: return found(node.CompatibleIds.length ? [...node.CompatibleIds] : undefined);
    case P.DevicePropertyClassName: return found(node.ClassName);
    case P.DevicePropertyClassGuid: return found(node.ClassGuid);
    case P.DevicePropertyLocationInformation: return found(node.Location);
    case P.DevicePropertyPhysicalDeviceObjectName: return found(DeviceObject.name);
    case P.DevicePropertyEnumeratorName: return found(node.InstancePath.split("\\")[0]);
    case P.DevicePropertyBusTypeGuid: return found(node.BusTypeGuid);
    case P.DevicePropertyBusNumber: return found(where?.BusNumber);
    case P.DevicePropertyLegacyBusType: return found(where?.LegacyBusType);
    case P.DevicePropertyAddress: return found(where?.Address);
    case P.DevicePropertyDriverKeyName: {
      const driver = CM(KE()).get(`${ENUM_KEY}\\${node.InstancePath}`, "Driver");
      return found(typeof driver === "string" ? driver : undefined);
    }
    case P.DevicePropertyUINumber: return found(node.capabilities && node.capabilities.UINumber !== 0xFFFFFFFF ? node.capabilities.UINumber : undefined);
    default: return { status: STATUS_NOT_SUPPORTED, value: 0 };
  }
}
