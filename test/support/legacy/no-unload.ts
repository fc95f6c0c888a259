/** A legacy driver with no DriverUnload: once started it cannot be stopped. */
import { STATUS_SUCCESS, type DRIVER_OBJECT, type NTSTATUS } from "../../../src/index.js";
import type { UNICODE_STRING } from "../../../src/rtl/unicode-string.js";

export function DriverEntry(_DriverObject: DRIVER_OBJECT, _RegistryPath: UNICODE_STRING): NTSTATUS {
  return STATUS_SUCCESS;
}
