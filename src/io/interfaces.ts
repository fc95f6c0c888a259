/**
 * Device interfaces: IoRegisterDeviceInterface, IoSetDeviceInterfaceState,
 * IoGetDeviceInterfaces, and interface-change notification (IoRegisterPlugPlayNotification
 * with EventCategoryDeviceInterfaceChange, IoUnregisterPlugPlayNotification(Ex)).
 *
 * An interface instance belongs to a PDO and a class GUID (and an optional reference
 * string). Its symbolic link is "\\??\\" + the device's instance path with each "\\"
 * turned into "#", then "#" and the class GUID, then "\\" and the reference string if
 * there is one. Enabling the instance creates the link to the PDO's name (so CreateFile on
 * the interface path opens the PDO and IRPs go to the top of its stack; the reference
 * string reaches IRP_MJ_CREATE as FileObject.FileName, "\\RefString"); disabling removes
 * it. Each change is announced to the registered callbacks (GUID_DEVICE_INTERFACE_ARRIVAL
 * / _REMOVAL) at PASSIVE_LEVEL in a system worker thread. When the PnP manager removes a
 * device it disables the device's interfaces (disableDeviceInterfaces).
 */
import { KE, type Kernel } from "../ke/kernel.js";
import {
  STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER, STATUS_NOT_IMPLEMENTED, STATUS_OBJECT_NAME_EXISTS, STATUS_OBJECT_NAME_NOT_FOUND,
  STATUS_SUCCESS, type NTSTATUS,
} from "../ke/ntstatus.js";
import { workers, WORK_QUEUE_TYPE } from "../ke/worker.js";
import { createLink, deleteLink, type DEVICE_OBJECT, type DRIVER_OBJECT } from "./objects.js";

/** A GUID in registry form, "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" (any case; braces optional on input). */
export type GUID = string;

/** Interface-change event: an interface instance was enabled. */
export const GUID_DEVICE_INTERFACE_ARRIVAL: GUID = "{cb3a4004-46f0-11d0-b08f-00609713053f}";
/** Interface-change event: an interface instance was disabled. */
export const GUID_DEVICE_INTERFACE_REMOVAL: GUID = "{cb3a4005-46f0-11d0-b08f-00609713053f}";

/** IoGetDeviceInterfaces: include instances that are not enabled. */
export const DEVICE_INTERFACE_INCLUDE_NONACTIVE = 0x00000001;
/** IoRegisterPlugPlayNotification: call the routine at once for each interface already enabled. */
export const PNPNOTIFY_DEVICE_INTERFACE_INCLUDE_EXISTING_INTERFACES = 0x00000001;

/** IO_NOTIFICATION_EVENT_CATEGORY. */
export enum IO_NOTIFICATION_EVENT_CATEGORY {
  EventCategoryReserved = 0,
  EventCategoryHardwareProfileChange = 1,
  EventCategoryDeviceInterfaceChange = 2,
  EventCategoryTargetDeviceChange = 3,
  EventCategoryKernelSoftRestart = 4,
}

/** What an interface-change callback receives. */
export class DEVICE_INTERFACE_CHANGE_NOTIFICATION {
  /** Version of the structure, 1. */
  readonly Version = 1;
  /** Bytes of the structure on x64 (two USHORTs, two GUIDs, a pointer). */
  readonly Size = 48;
  constructor(
    /** GUID_DEVICE_INTERFACE_ARRIVAL or GUID_DEVICE_INTERFACE_REMOVAL. */
    readonly Event: GUID,
    readonly InterfaceClassGuid: GUID,
    readonly SymbolicLinkName: string,
  ) {}
}

/** DRIVER_NOTIFICATION_CALLBACK_ROUTINE(NotificationStructure, Context); runs at PASSIVE_LEVEL. */
export type PDRIVER_NOTIFICATION_CALLBACK_ROUTINE = (NotificationStructure: DEVICE_INTERFACE_CHANGE_NOTIFICATION, Context: unknown) => NTSTATUS | Promise<NTSTATUS>;

/** A registered interface instance. */
export interface DeviceInterfaceInstance {
  /** As IoRegisterDeviceInterface returned it. */
  readonly SymbolicLinkName: string;
  readonly InterfaceClassGuid: GUID;
  readonly PhysicalDeviceObject: DEVICE_OBJECT;
  /** "" when none. */
  readonly ReferenceString: string;
  /** The symbolic link's name (\\??\\..., without the reference string). */
  readonly linkKey: string;
  enabled: boolean;
}

/** A registration from IoRegisterPlugPlayNotification (the NotificationEntry). */
export class PNP_NOTIFICATION_ENTRY {
  active = true;
  constructor(
    readonly InterfaceClassGuid: GUID,
    readonly DriverObject: DRIVER_OBJECT,
    readonly CallbackRoutine: PDRIVER_NOTIFICATION_CALLBACK_ROUTINE,
    readonly Context: unknown,
  ) {}
}

/** The machine's interface instances and notification registrations. */
class DeviceInterfaces {
  /** By lower-case symbolic link name, in registration order. */
  readonly instances = new Map<string, DeviceInterfaceInstance>();
  readonly registrations: PNP_NOTIFICATION_ENTRY[] = [];
}

function registry(k: Kernel): DeviceInterfaces {
  let r = k.services.get("interfaces") as DeviceInterfaces | undefined;
  if (!r) k.services.set("interfaces", (r = new DeviceInterfaces()));
  return r;
}

const GUID_FORM = /^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?$/i;

/** A GUID in canonical form (lower case, braces), or null if it is not one. */
export function canonicalGuid(guid: GUID): GUID | null {
  const m = GUID_FORM.exec(guid.trim());
  return m ? `{${m[1].toLowerCase()}}` : null;
}

/** Every registered interface instance (enabled or not), in registration order. */
export function deviceInterfaceInstances(k: Kernel = KE()): DeviceInterfaceInstance[] {
  return [...registry(k).instances.values()];
}

/**
 * IoRegisterDeviceInterface: registers an instance of interface class
 * `InterfaceClassGuid` for the device of `PhysicalDeviceObject` (not yet enabled) and
 * returns its symbolic link name; registering the same instance again returns the same
 * name. A device object that is not a PDO the PnP manager knows, or a reference string
 * with a path separator, is STATUS_INVALID_DEVICE_REQUEST.
 */
export function IoRegisterDeviceInterface(PhysicalDeviceObject: DEVICE_OBJECT, InterfaceClassGuid: GUID, ReferenceString: string | null): { status: NTSTATUS; SymbolicLinkName: string } {
  const k = KE();
  k.chargePs(k.cost.IoRegisterDeviceInterface);
  const instancePath = (PhysicalDeviceObject.deviceNode as { InstancePath?: string } | null)?.InstancePath ?? "";
  const guid = canonicalGuid(InterfaceClassGuid);
  const ref = ReferenceString ?? "";
  if (!instancePath || !PhysicalDeviceObject.name || /[\\/]/.test(ref)) return { status: STATUS_INVALID_DEVICE_REQUEST, SymbolicLinkName: "" };
  if (!guid) return { status: STATUS_INVALID_PARAMETER, SymbolicLinkName: "" };
  const base = `\\??\\${instancePath.replace(/\\/g, "#")}#${guid}`;
  const SymbolicLinkName = ref ? `${base}\\${ref}` : base;
  const r = registry(k);
  const key = SymbolicLinkName.toLowerCase();
  if (!r.instances.has(key)) {
    r.instances.set(key, {
      SymbolicLinkName, InterfaceClassGuid: guid, PhysicalDeviceObject, ReferenceString: ref,
      linkKey: base, enabled: false,
    });
  }
  return { status: STATUS_SUCCESS, SymbolicLinkName };
}

/** Calls the callbacks registered for `instance`'s class, later, in a system worker thread. */
function announce(k: Kernel, instance: DeviceInterfaceInstance, event: GUID): void {
  const r = registry(k);
  const notification = new DEVICE_INTERFACE_CHANGE_NOTIFICATION(event, instance.InterfaceClassGuid, instance.SymbolicLinkName);
  workers(k).queue(WORK_QUEUE_TYPE.DelayedWorkQueue, {
    routine: async () => {
      for (const entry of [...r.registrations]) {
        if (!entry.active || entry.InterfaceClassGuid !== instance.InterfaceClassGuid) continue;
        await callback(k, entry, notification);
      }
    },
    owner: "nt",
    name: "PnpNotifyDeviceClassChange",
    parameter: notification,
    address: 0,
  });
}

function callback(k: Kernel, entry: PNP_NOTIFICATION_ENTRY, notification: DEVICE_INTERFACE_CHANGE_NOTIFICATION): NTSTATUS | Promise<NTSTATUS> {
  const routine = entry.CallbackRoutine;
  return k.invoke(entry.DriverObject.serviceName, routine.name || "NotificationCallback", () => routine(notification, entry.Context));
}

/**
 * IoSetDeviceInterfaceState: enables (creates the symbolic link to the PDO and announces
 * GUID_DEVICE_INTERFACE_ARRIVAL) or disables (removes it, GUID_DEVICE_INTERFACE_REMOVAL)
 * a registered interface instance. Enabling an enabled instance returns the informational
 * STATUS_OBJECT_NAME_EXISTS; disabling one that is not enabled (or not registered),
 * STATUS_OBJECT_NAME_NOT_FOUND.
 */
export function IoSetDeviceInterfaceState(SymbolicLinkName: string, Enable: boolean): NTSTATUS {
  const k = KE();
  k.chargePs(k.cost.IoSetDeviceInterfaceState);
  const r = registry(k);
  const instance = r.instances.get(SymbolicLinkName.toLowerCase());
  if (!instance) return STATUS_OBJECT_NAME_NOT_FOUND;
  if (Enable === instance.enabled) return Enable ? STATUS_OBJECT_NAME_EXISTS : STATUS_OBJECT_NAME_NOT_FOUND;
  instance.enabled = Enable;
  // Instances that differ only in their reference string share one link to the PDO.
  const shared = [...r.instances.values()].some((i) => i.enabled && i.linkKey === instance.linkKey);
  if (shared) createLink(k, instance.linkKey, instance.PhysicalDeviceObject.name);
  else deleteLink(k, instance.linkKey);
  announce(k, instance, Enable ? GUID_DEVICE_INTERFACE_ARRIVAL : GUID_DEVICE_INTERFACE_REMOVAL);
  return STATUS_SUCCESS;
}

/**
 * IoGetDeviceInterfaces: the symbolic link names of the enabled instances of a class
 * (all registered ones with DEVICE_INTERFACE_INCLUDE_NONACTIVE), only `PhysicalDeviceObject`'s
 * when it is given. The C routine's MULTI_SZ list as an array.
 */
export function IoGetDeviceInterfaces(InterfaceClassGuid: GUID, PhysicalDeviceObject: DEVICE_OBJECT | null, Flags: number): { status: NTSTATUS; SymbolicLinkList: string[] } {
  const k = KE();
  k.chargePs(k.cost.IoGetDeviceInterfaces);
  const guid = canonicalGuid(InterfaceClassGuid);
  if (!guid) return { status: STATUS_INVALID_PARAMETER, SymbolicLinkList: [] };
  const all = (Flags & DEVICE_INTERFACE_INCLUDE_NONACTIVE) !== 0;
  const SymbolicLinkList = deviceInterfaceInstances(k)
    .filter((i) => i.InterfaceClassGuid === guid && (all || i.enabled) && (!PhysicalDeviceObject || i.PhysicalDeviceObject === PhysicalDeviceObject))
    .map((i) => i.SymbolicLinkName);
  return { status: STATUS_SUCCESS, SymbolicLinkList };
}

/**
 * IoRegisterPlugPlayNotification for EventCategoryDeviceInterfaceChange: `CallbackRoutine`
 * is called at PASSIVE_LEVEL for each arrival and removal of an instance of the class
 * `EventCategoryData` names; with PNPNOTIFY_DEVICE_INTERFACE_INCLUDE_EXISTING_INTERFACES,
 * first (before this returns) for each instance already enabled. Returns the status and
 * the NotificationEntry. Other categories are not modelled (STATUS_NOT_IMPLEMENTED).
 */
export async function IoRegisterPlugPlayNotification(EventCategory: IO_NOTIFICATION_EVENT_CATEGORY, EventCategoryFlags: number, EventCategoryData: GUID, DriverObject: DRIVER_OBJECT, CallbackRoutine: PDRIVER_NOTIFICATION_CALLBACK_ROUTINE, Context: unknown): Promise<{ status: NTSTATUS; NotificationEntry: PNP_NOTIFICATION_ENTRY | null }> {
  const k = KE();
  k.chargePs(k.cost.IoRegisterPlugPlayNotification);
  if (EventCategory !== IO_NOTIFICATION_EVENT_CATEGORY.EventCategoryDeviceInterfaceChange) return { status: STATUS_NOT_IMPLEMENTED, NotificationEntry: null };
  const guid = canonicalGuid(EventCategoryData);
  if (!guid) return { status: STATUS_INVALID_PARAMETER, NotificationEntry: null };
  const entry = new PNP_NOTIFICATION_ENTRY(guid, DriverObject, CallbackRoutine, Context);
  if ((EventCategoryFlags & PNPNOTIFY_DEVICE_INTERFACE_INCLUDE_EXISTING_INTERFACES) !== 0) {
    for (const i of deviceInterfaceInstances(k)) {
      if (i.enabled && i.InterfaceClassGuid === guid) await callback(k, entry, new DEVICE_INTERFACE_CHANGE_NOTIFICATION(GUID_DEVICE_INTERFACE_ARRIVAL, guid, i.SymbolicLinkName));
    }
  }
  registry(k).registrations.push(entry);
  return { status: STATUS_SUCCESS, NotificationEntry: entry };
}

/**
 * IoUnregisterPlugPlayNotificationEx: cancels a registration; its routine is not called
 * again once this returns (announcements still queued skip it).
 */
export function IoUnregisterPlugPlayNotificationEx(NotificationEntry: PNP_NOTIFICATION_ENTRY): NTSTATUS {
  const r = registry(KE());
  const i = r.registrations.indexOf(NotificationEntry);
  if (i < 0) return STATUS_INVALID_PARAMETER;
  r.registrations.splice(i, 1);
  NotificationEntry.active = false;
  return STATUS_SUCCESS;
}

/** IoUnregisterPlugPlayNotification: as IoUnregisterPlugPlayNotificationEx. */
export function IoUnregisterPlugPlayNotification(NotificationEntry: PNP_NOTIFICATION_ENTRY): NTSTATUS {
  return IoUnregisterPlugPlayNotificationEx(NotificationEntry);
}

/**
 * For the PnP manager when it removes a device: disables every enabled interface
 * instance of `pdo` (removing the links, announcing removal), as Windows does for
 * interfaces a driver left enabled. The registrations stay (not enabled).
 */
export function disableDeviceInterfaces(pdo: DEVICE_OBJECT): void {
  for (const i of deviceInterfaceInstances()) {
    if (i.PhysicalDeviceObject === pdo && i.enabled) IoSetDeviceInterfaceState(i.SymbolicLinkName, false);
  }
}
