/**
 * A driver's registry keys by handle: IoOpenDeviceRegistryKey (a device's hardware key,
 * Enum\<instance>\Device Parameters, or its software key, Control\Class\{guid}\<nnnn>)
 * and IoOpenDriverRegistryKey (the driver's Parameters key under its service). The
 * handles are kernel handles the caller closes with ZwClose. PASSIVE_LEVEL.
 */
import { KE } from "../ke/kernel.js";
import {
  STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER, STATUS_NOT_SUPPORTED, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS, type NTSTATUS,
} from "../ke/ntstatus.js";
import type { ACCESS_MASK } from "../ob/access.js";
import { OBJ_KERNEL_HANDLE } from "../ob/attributes.js";
import type { HANDLE } from "../ob/handle-table.js";
import { CM, CLASS_KEY, ENUM_KEY } from "../cm/registry.js";
import { serviceKeyPath } from "../cm/service-key.js";
import { openKeyHandle } from "../cm/zw.js";
import type { DevicePropertySource } from "./device-property.js";
import type { DEVICE_OBJECT, DRIVER_OBJECT } from "./objects.js";

/** IoOpenDeviceRegistryKey DevInstKeyType: the device's hardware key ("Device Parameters"). */
export const PLUGPLAY_REGKEY_DEVICE = 1;
/** IoOpenDeviceRegistryKey DevInstKeyType: the device's software (driver) key. */
export const PLUGPLAY_REGKEY_DRIVER = 2;
/** IoOpenDeviceRegistryKey DevInstKeyType flag: the key in the current hardware profile. */
export const PLUGPLAY_REGKEY_CURRENT_HWPROFILE = 4;

/** IoOpenDriverRegistryKey RegKeyType. */
export enum DRIVER_REGKEY_TYPE {
  DriverRegKeyParameters = 0,
  DriverRegKeyPersistentState = 1,
  DriverRegKeySharedPersistentState = 2,
}

/** The subkey of a device's instance key that holds its hardware settings. */
export const DEVICE_PARAMETERS_KEY = "Device Parameters";

/**
 * IoOpenDeviceRegistryKey(DeviceObject, DevInstKeyType, DesiredAccess): a handle to the
 * PDO's hardware key (PLUGPLAY_REGKEY_DEVICE) or software key (PLUGPLAY_REGKEY_DRIVER).
 * STATUS_INVALID_DEVICE_REQUEST when DeviceObject is not a PDO the PnP manager knows;
 * STATUS_INVALID_PARAMETER for another key type; STATUS_NOT_SUPPORTED with
 * PLUGPLAY_REGKEY_CURRENT_HWPROFILE (the machine has no hardware profiles);
 * STATUS_OBJECT_NAME_NOT_FOUND for a software key of a device with no driver installed.
 * Returns the status and the handle.
 */
export function IoOpenDeviceRegistryKey(DeviceObject: DEVICE_OBJECT, DevInstKeyType: number, DesiredAccess: ACCESS_MASK): { status: NTSTATUS; DeviceRegKey: HANDLE } {
  const k = KE();
  const node = DeviceObject.deviceNode as DevicePropertySource | null;
  if (!node) return { status: STATUS_INVALID_DEVICE_REQUEST, DeviceRegKey: 0 };
  if ((DevInstKeyType & PLUGPLAY_REGKEY_CURRENT_HWPROFILE) !== 0) return { status: STATUS_NOT_SUPPORTED, DeviceRegKey: 0 };
  const registry = CM(k);
  const instance = `${ENUM_KEY}\\${node.InstancePath}`;
  let path: string;
  if (DevInstKeyType === PLUGPLAY_REGKEY_DEVICE) path = `${instance}\\${DEVICE_PARAMETERS_KEY}`;
  else if (DevInstKeyType === PLUGPLAY_REGKEY_DRIVER) {
    const driver = registry.get(instance, "Driver");
    if (typeof driver !== "string" || driver === "") return { status: STATUS_OBJECT_NAME_NOT_FOUND, DeviceRegKey: 0 };
    path = `${CLASS_KEY}\\${driver}`;
  } else return { status: STATUS_INVALID_PARAMETER, DeviceRegKey: 0 };
  return { status: STATUS_SUCCESS, DeviceRegKey: openKeyHandle(k, registry.ensure(path), DesiredAccess, OBJ_KERNEL_HANDLE) };
}

/**
 * IoOpenDriverRegistryKey(DriverObject, RegKeyType, DesiredAccess, Flags): a handle to the
 * driver's Parameters key (DriverRegKeyParameters; made if missing). The persistent-state
 * keys are not modelled (STATUS_NOT_SUPPORTED); Flags must be 0 (STATUS_INVALID_PARAMETER).
 * Returns the status and the handle.
 */
export function IoOpenDriverRegistryKey(DriverObject: DRIVER_OBJECT, RegKeyType: DRIVER_REGKEY_TYPE, DesiredAccess: ACCESS_MASK, Flags: number): { status: NTSTATUS; DriverRegKey: HANDLE } {
  const k = KE();
  if (Flags !== 0) return { status: STATUS_INVALID_PARAMETER, DriverRegKey: 0 };
  if (RegKeyType !== DRIVER_REGKEY_TYPE.DriverRegKeyParameters) return { status: STATUS_NOT_SUPPORTED, DriverRegKey: 0 };
  const key = CM(k).ensure(`${serviceKeyPath(DriverObject.serviceName)}\\Parameters`);
  return { status: STATUS_SUCCESS, DriverRegKey: openKeyHandle(k, key, DesiredAccess, OBJ_KERNEL_HANDLE) };
}
