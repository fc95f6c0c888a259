/**
 * A service's key, `HKLM\SYSTEM\CurrentControlSet\Services\<name>`, as setup writes it for
 * a driver: Type, Start, ErrorControl, ImagePath and DisplayName (winnt.h's SERVICE_*
 * values), with the driver's own settings under its Parameters subkey.
 */
import type { Registry } from "./registry.js";
import { SERVICES_KEY } from "./registry.js";
import { REG_DWORD, REG_EXPAND_SZ, REG_SZ } from "./value-types.js";

/** Type: a kernel-mode driver. */
export const SERVICE_KERNEL_DRIVER = 0x1;
/** Type: a file system driver. */
export const SERVICE_FILE_SYSTEM_DRIVER = 0x2;
/** Type: a user-mode service in its own process. */
export const SERVICE_WIN32_OWN_PROCESS = 0x10;

/** Start: loaded by the boot loader. */
export const SERVICE_BOOT_START = 0x0;
/** Start: loaded during kernel initialisation. */
export const SERVICE_SYSTEM_START = 0x1;
/** Start: started by the Service Control Manager at system start. */
export const SERVICE_AUTO_START = 0x2;
/** Start: started on demand (StartService, or by the PnP manager for a device). */
export const SERVICE_DEMAND_START = 0x3;
/** Start: cannot be started. */
export const SERVICE_DISABLED = 0x4;

/** ErrorControl: a failure to load is logged and ignored. */
export const SERVICE_ERROR_IGNORE = 0x0;
/** ErrorControl: a failure to load is logged and startup goes on. */
export const SERVICE_ERROR_NORMAL = 0x1;

/** A service's settings. */
export interface ServiceKeyValues {
  /** SERVICE_KERNEL_DRIVER, ... */
  type: number;
  /** SERVICE_BOOT_START ... SERVICE_DISABLED. */
  start: number;
  errorControl: number;
  /** The driver image, as setup writes it ("\\SystemRoot\\System32\\drivers\\<name>.sys"). */
  imagePath: string;
  displayName: string;
}

/** The full path of `service`'s key. */
export function serviceKeyPath(service: string): string {
  return `${SERVICES_KEY}\\${service}`;
}

/** The image path setup gives a driver service installed from a package. */
export function driverImagePath(service: string): string {
  return `\\SystemRoot\\System32\\drivers\\${service}.sys`;
}

/** Writes `service`'s key (made if missing) with its settings. */
export function writeServiceKey(registry: Registry, service: string, v: ServiceKeyValues): void {
  const path = serviceKeyPath(service);
  registry.set(path, "Type", REG_DWORD, v.type);
  registry.set(path, "Start", REG_DWORD, v.start);
  registry.set(path, "ErrorControl", REG_DWORD, v.errorControl);
  registry.set(path, "ImagePath", REG_EXPAND_SZ, v.imagePath);
  registry.set(path, "DisplayName", REG_SZ, v.displayName);
}
