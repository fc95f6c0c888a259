/**
 * Driver object extensions: IoAllocateDriverObjectExtension and IoGetDriverObjectExtension,
 * per-driver storage a driver (or a class library such as classpnp) keys by an address
 * of its own and finds again from any of its routines. The extension lives as long as the
 * driver object: it goes when the driver is unloaded.
 */
import { STATUS_OBJECT_NAME_COLLISION, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import type { DRIVER_OBJECT } from "./objects.js";

const extensions = new WeakMap<DRIVER_OBJECT, Map<unknown, unknown>>();

/**
 * IoAllocateDriverObjectExtension: attaches `Extension` (the TypeScript form of
 * DriverObjectExtensionSize: pass the extension object) to `DriverObject` under the key
 * `ClientIdentificationAddress`. Returns STATUS_SUCCESS and the extension, or
 * STATUS_OBJECT_NAME_COLLISION and null when the key is already used. IRQL <= APC_LEVEL.
 */
export function IoAllocateDriverObjectExtension<T>(DriverObject: DRIVER_OBJECT, ClientIdentificationAddress: unknown, Extension: T): { status: NTSTATUS; DriverObjectExtension: T | null } {
  let map = extensions.get(DriverObject);
  if (!map) {
    map = new Map();
    extensions.set(DriverObject, map);
  }
  if (map.has(ClientIdentificationAddress)) return { status: STATUS_OBJECT_NAME_COLLISION, DriverObjectExtension: null };
  map.set(ClientIdentificationAddress, Extension);
  return { status: STATUS_SUCCESS, DriverObjectExtension: Extension };
}

/** IoGetDriverObjectExtension: the extension allocated under `ClientIdentificationAddress`, or null. Any IRQL. */
export function IoGetDriverObjectExtension<T>(DriverObject: DRIVER_OBJECT, ClientIdentificationAddress: unknown): T | null {
  return (extensions.get(DriverObject)?.get(ClientIdentificationAddress) as T | undefined) ?? null;
}
