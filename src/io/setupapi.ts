/**
 * Finding devices by interface class from user mode: SetupDiGetClassDevs (with
 * DIGCF_DEVICEINTERFACE), SetupDiEnumDeviceInterfaces, SetupDiGetDeviceInterfaceDetail,
 * SetupDiDestroyDeviceInfoList, and the configuration manager's CM_Get_Device_Interface_List.
 * A device path is the interface's symbolic link in Win32 form ("\\\\?\\..."), what
 * CreateFile opens. Device setup classes (a set without DIGCF_DEVICEINTERFACE) are not
 * modelled.
 */
import { canonicalGuid, deviceInterfaceInstances, type DeviceInterfaceInstance, type GUID } from "./interfaces.js";
import { ERROR_INVALID_PARAMETER, ERROR_NO_MORE_ITEMS, INVALID_HANDLE_VALUE, service, setLastError, type HANDLE } from "./win32.js";

/** SetupDiGetClassDevs flags. */
export const DIGCF_DEFAULT = 0x00000001;
export const DIGCF_PRESENT = 0x00000002;
export const DIGCF_ALLCLASSES = 0x00000004;
export const DIGCF_PROFILE = 0x00000008;
export const DIGCF_DEVICEINTERFACE = 0x00000010;

/** SP_DEVICE_INTERFACE_DATA.Flags. */
export const SPINT_ACTIVE = 0x00000001;
export const SPINT_DEFAULT = 0x00000002;
export const SPINT_REMOVED = 0x00000004;

/** CM_Get_Device_Interface_List flags. */
export const CM_GET_DEVICE_INTERFACE_LIST_PRESENT = 0x00000000;
export const CM_GET_DEVICE_INTERFACE_LIST_ALL_DEVICES = 0x00000001;

/** CONFIGRET values. */
export const CR_SUCCESS = 0x00000000;
export const CR_INVALID_POINTER = 0x00000003;
export const CR_INVALID_FLAG = 0x00000004;

/** SP_DEVICE_INTERFACE_DATA: one interface of a device information set. */
export interface SP_DEVICE_INTERFACE_DATA {
  InterfaceClassGuid: GUID;
  /** SPINT_ACTIVE when the interface is enabled. */
  Flags: number;
  /** The set's own record of the interface. */
  Reserved: unknown;
}

/** A device information set (HDEVINFO): the interfaces found when it was built. */
export class HDEVINFO {
  destroyed = false;
  constructor(readonly interfaces: readonly SP_DEVICE_INTERFACE_DATA[]) {}
}

/** The device instance ID (instance path) of the interface's device. */
function instancePathOf(instance: DeviceInterfaceInstance): string {
  return (instance.PhysicalDeviceObject.deviceNode as { InstancePath?: string } | null)?.InstancePath ?? "";
}

/** "\\??\\X" as a Win32 device path, "\\\\?\\X". */
function devicePath(instance: DeviceInterfaceInstance): string {
  return `\\\\?\\${instance.SymbolicLinkName.replace(/^\\\?\?\\/, "")}`;
}

/**
 * SetupDiGetClassDevs with DIGCF_DEVICEINTERFACE: a set of the interfaces of class
 * `ClassGuid` (of every class with DIGCF_ALLCLASSES); with DIGCF_PRESENT only enabled
 * ones; with an `Enumerator` (a device instance ID) only that device's. Returns the set, or INVALID_HANDLE_VALUE with ERROR_INVALID_PARAMETER without
 * DIGCF_DEVICEINTERFACE or without a valid class.
 */
export function SetupDiGetClassDevs(ClassGuid: GUID | null, Enumerator: string | null, hwndParent: null, Flags: number): HDEVINFO | HANDLE {
  return service((c) => {
    const all = (Flags & DIGCF_ALLCLASSES) !== 0;
    const guid = ClassGuid ? canonicalGuid(ClassGuid) : null;
    if ((Flags & DIGCF_DEVICEINTERFACE) === 0 || (!all && !guid)) {
      setLastError(c.thread, ERROR_INVALID_PARAMETER);
      return INVALID_HANDLE_VALUE;
    }
    const present = (Flags & DIGCF_PRESENT) !== 0;
    const enumerator = Enumerator?.toLowerCase();
    const interfaces = deviceInterfaceInstances(c.k)
      .filter((i) => (all || i.InterfaceClassGuid === guid) && (!present || i.enabled))
      .filter((i) => !enumerator || instancePathOf(i).toLowerCase() === enumerator)
      .map((i) => ({ InterfaceClassGuid: i.InterfaceClassGuid, Flags: i.enabled ? SPINT_ACTIVE : 0, Reserved: i }));
    setLastError(c.thread, 0);
    return new HDEVINFO(interfaces);
  });
}

/**
 * SetupDiEnumDeviceInterfaces: the `MemberIndex`-th interface of class
 * `InterfaceClassGuid` in the set; FALSE with ERROR_NO_MORE_ITEMS past the last one.
 */
export function SetupDiEnumDeviceInterfaces(DeviceInfoSet: HDEVINFO, DeviceInfoData: null, InterfaceClassGuid: GUID, MemberIndex: number): { ok: boolean; DeviceInterfaceData: SP_DEVICE_INTERFACE_DATA | null } {
  return service((c) => {
    const guid = canonicalGuid(InterfaceClassGuid);
    if (DeviceInfoSet.destroyed || !guid) {
      setLastError(c.thread, ERROR_INVALID_PARAMETER);
      return { ok: false, DeviceInterfaceData: null };
    }
    const data = DeviceInfoSet.interfaces.filter((i) => i.InterfaceClassGuid === guid)[MemberIndex];
    if (!data) {
      setLastError(c.thread, ERROR_NO_MORE_ITEMS);
      return { ok: false, DeviceInterfaceData: null };
    }
    return { ok: true, DeviceInterfaceData: { ...data } };
  });
}

/** SetupDiGetDeviceInterfaceDetail: the interface's DevicePath ("\\\\?\\..."), what CreateFile opens. */
export function SetupDiGetDeviceInterfaceDetail(DeviceInfoSet: HDEVINFO, DeviceInterfaceData: SP_DEVICE_INTERFACE_DATA): { ok: boolean; DevicePath: string } {
  return service((c) => {
    const instance = DeviceInterfaceData.Reserved as DeviceInterfaceInstance | undefined;
    if (DeviceInfoSet.destroyed || !instance || !DeviceInfoSet.interfaces.some((i) => i.Reserved === instance)) {
      setLastError(c.thread, ERROR_INVALID_PARAMETER);
      return { ok: false, DevicePath: "" };
    }
    return { ok: true, DevicePath: devicePath(instance) };
  });
}

/** SetupDiDestroyDeviceInfoList: frees the set. */
export function SetupDiDestroyDeviceInfoList(DeviceInfoSet: HDEVINFO): boolean {
  return service(() => {
    DeviceInfoSet.destroyed = true;
    return true;
  });
}

/**
 * CM_Get_Device_Interface_List: device paths of the interfaces of a class — enabled ones
 * (CM_GET_DEVICE_INTERFACE_LIST_PRESENT) or all registered ones (_ALL_DEVICES) — of one
 * device instance when `pDeviceID` names it. The C routine's MULTI_SZ buffer as an array.
 */
export function CM_Get_Device_Interface_List(InterfaceClassGuid: GUID, pDeviceID: string | null, ulFlags: number): { cr: number; Buffer: string[] } {
  return service(() => {
    const guid = canonicalGuid(InterfaceClassGuid);
    if (!guid) return { cr: CR_INVALID_POINTER, Buffer: [] };
    if ((ulFlags & ~CM_GET_DEVICE_INTERFACE_LIST_ALL_DEVICES) !== 0) return { cr: CR_INVALID_FLAG, Buffer: [] };
    const all = (ulFlags & CM_GET_DEVICE_INTERFACE_LIST_ALL_DEVICES) !== 0;
    const device = pDeviceID?.toLowerCase();
    const Buffer = deviceInterfaceInstances()
      .filter((i) => i.InterfaceClassGuid === guid && (all || i.enabled))
      .filter((i) => !device || instancePathOf(i).toLowerCase() === device)
      .map(devicePath);
    return { cr: CR_SUCCESS, Buffer };
  });
}
