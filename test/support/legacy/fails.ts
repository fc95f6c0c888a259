/** A legacy driver whose DriverEntry fails, as one that finds no hardware does. */
import { STATUS_NO_SUCH_DEVICE, type DRIVER_OBJECT, type NTSTATUS } from "../../../src/index.js";
import type { UNICODE_STRING } from "../../../src/rtl/unicode-string.js";

export function DriverEntry(_DriverObject: DRIVER_OBJECT, _RegistryPath: UNICODE_STRING): NTSTATUS {
  return STATUS_NO_SUCH_DEVICE;
}
