/**
 * IoCreateDeviceSecure (wdmsec.h): IoCreateDevice with a security descriptor given in
 * SDDL (DefaultSDDLString; wdmsec.h's SDDL_DEVOBJ_* strings or any the parser takes),
 * which CreateFile checks a caller's token against. The class GUID names the device's
 * setup class: a Security property stored for the class in the registry
 * (Control\Class\{guid}\Properties) overrides the default descriptor.
 */
import { KE } from "../ke/kernel.js";
import { STATUS_INVALID_PARAMETER, type NTSTATUS } from "../ke/ntstatus.js";
import { CM } from "../cm/registry.js";
import { classSecurity } from "../pnp/class-security.js";
import { parseSddl, SddlError, type SECURITY_DESCRIPTOR } from "../se/security-descriptor.js";
import { IoCreateDevice, type DEVICE_OBJECT, type DRIVER_OBJECT } from "./objects.js";
import type { GUID } from "./interfaces.js";
import { unicodeStringOrText, type UNICODE_STRING } from "../rtl/unicode-string.js";

/**
 * IoCreateDeviceSecure(DriverObject, DeviceExtension, DeviceName, DeviceType,
 * DeviceCharacteristics, Exclusive, DefaultSDDLString, DeviceClassGuid): as IoCreateDevice,
 * with the device's security descriptor from DefaultSDDLString, or from the registry's
 * setting for DeviceClassGuid when there is one. STATUS_INVALID_PARAMETER when the SDDL
 * string cannot be parsed. Returns the status and the device.
 */
export function IoCreateDeviceSecure(
  DriverObject: DRIVER_OBJECT, DeviceExtension: unknown, DeviceName: UNICODE_STRING | string | null, DeviceType: number, DeviceCharacteristics: number,
  Exclusive: boolean, DefaultSDDLString: UNICODE_STRING | string, DeviceClassGuid: GUID | null,
): { status: NTSTATUS; DeviceObject: DEVICE_OBJECT | null } {
  let sd: SECURITY_DESCRIPTOR;
  try {
    sd = parseSddl(unicodeStringOrText(DefaultSDDLString));
  } catch (e) {
    if (e instanceof SddlError) return { status: STATUS_INVALID_PARAMETER, DeviceObject: null };
    throw e;
  }
  const r = IoCreateDevice(DriverObject, DeviceExtension, DeviceName, DeviceType, DeviceCharacteristics, Exclusive);
  if (r.DeviceObject) r.DeviceObject.SecurityDescriptor = (DeviceClassGuid ? classSecurity(CM(KE()), DeviceClassGuid) : null) ?? sd;
  return r;
}
