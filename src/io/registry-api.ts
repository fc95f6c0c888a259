/**
 * The registry from user mode (advapi32): RegOpenKeyEx, RegCreateKeyEx, RegQueryValueEx,
 * RegSetValueEx, RegDeleteValue, RegDeleteKey, RegEnumKeyEx, RegEnumValue and RegCloseKey.
 * They return the Win32 error (an LSTATUS) rather than setting the last error, as advapi32
 * does. HKEY_LOCAL_MACHINE and HKEY_USERS are the predefined keys; an opened key is a
 * handle in the process's handle table (an object of CmKeyObjectType). Buffers are host
 * byte arrays; C's in/out sizes come back in the result. The program runs with
 * administrator rights, so no key is refused for access.
 */
import { KE } from "../ke/kernel.js";
import { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import { NT_SUCCESS, STATUS_SUCCESS } from "../ke/ntstatus.js";
import type { HANDLE } from "../ob/handle-table.js";
import { NtClose, ObReferenceObjectByHandle } from "../ob/handles.js";
import { OB } from "../ob/manager.js";
import { dereference } from "../ob/reference.js";
import type { CM_KEY } from "../cm/key.js";
import { CM, REG_OPENED_EXISTING_KEY, splitPath } from "../cm/registry.js";
import { CmKeyObjectType, openKeyHandle, type CM_KEY_BODY } from "../cm/zw.js";
import { ERROR_ACCESS_DENIED, ERROR_FILE_NOT_FOUND, ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER, ERROR_MORE_DATA, ERROR_NO_MORE_ITEMS, ERROR_SUCCESS, RtlNtStatusToDosError, service } from "./win32.js";

/** A registry key handle (a predefined key or an opened one). */
export type HKEY = number;

/** The predefined keys (winreg.h), as the signed 32-bit values a 64-bit HKEY holds. */
export const HKEY_CLASSES_ROOT: HKEY = 0x80000000 | 0;
export const HKEY_CURRENT_USER: HKEY = 0x80000001 | 0;
export const HKEY_LOCAL_MACHINE: HKEY = 0x80000002 | 0;
export const HKEY_USERS: HKEY = 0x80000003 | 0;

/** The registry path each predefined key stands for. */
const PREDEFINED: Readonly<Record<number, string>> = {
  [HKEY_LOCAL_MACHINE]: "\\REGISTRY\\MACHINE",
  [HKEY_USERS]: "\\REGISTRY\\USER",
  [HKEY_CURRENT_USER]: "\\REGISTRY\\USER\\.DEFAULT",
  [HKEY_CLASSES_ROOT]: "\\REGISTRY\\MACHINE\\SOFTWARE\\Classes",
};

/** The key an HKEY names, or null. */
function keyOf(hKey: HKEY): CM_KEY | null {
  const k = KE();
  const predefined = PREDEFINED[hKey];
  if (predefined !== undefined) return CM(k).ensure(predefined);
  const r = ObReferenceObjectByHandle<CM_KEY_BODY>(hKey as HANDLE, 0, CmKeyObjectType, KPROCESSOR_MODE.UserMode);
  if (!NT_SUCCESS(r.status) || !r.Object) return null;
  void dereference(k, OB(k).headerOf(r.Object)!);
  return r.Object.key.deleted ? null : r.Object.key;
}

/** RegOpenKeyEx(hKey, lpSubKey, ulOptions, samDesired): { status, hkResult } (ERROR_FILE_NOT_FOUND when the key is missing). */
export function RegOpenKeyEx(hKey: HKEY, lpSubKey: string | null, _ulOptions: number, samDesired: number): { status: number; hkResult: HKEY } {
  return service(({ k }) => {
    const parent = keyOf(hKey);
    if (!parent) return { status: ERROR_INVALID_HANDLE, hkResult: 0 };
    const parts = splitPath(lpSubKey ?? "");
    if (!parts) return { status: ERROR_INVALID_PARAMETER, hkResult: 0 };
    const r = CM(k).resolve(parent, parts);
    if (!r.key) return { status: RtlNtStatusToDosError(r.status), hkResult: 0 };
    return { status: ERROR_SUCCESS, hkResult: openKeyHandle(k, r.key, samDesired, 0) };
  });
}

/**
 * RegCreateKeyEx(hKey, lpSubKey, Reserved, lpClass, dwOptions, samDesired,
 * lpSecurityAttributes): opens the key, creating it and any missing key on the way.
 * Returns { status, hkResult, dwDisposition } (REG_CREATED_NEW_KEY or REG_OPENED_EXISTING_KEY).
 */
export function RegCreateKeyEx(hKey: HKEY, lpSubKey: string, _Reserved: number, lpClass: string | null, dwOptions: number, samDesired: number, _lpSecurityAttributes: null): { status: number; hkResult: HKEY; dwDisposition: number } {
  return service(({ k }) => {
    const registry = CM(k);
    let key = keyOf(hKey);
    if (!key) return { status: ERROR_INVALID_HANDLE, hkResult: 0, dwDisposition: 0 };
    const parts = splitPath(lpSubKey);
    if (!parts) return { status: ERROR_INVALID_PARAMETER, hkResult: 0, dwDisposition: 0 };
    let disposition = 0;
    for (let i = 0; i < parts.length; i++) {
      const r = registry.create(key!, [parts[i]], i === parts.length - 1 ? lpClass ?? "" : "", dwOptions);
      if (!r.key) return { status: RtlNtStatusToDosError(r.status), hkResult: 0, dwDisposition: 0 };
      key = r.key;
      disposition = r.disposition;
    }
    return { status: ERROR_SUCCESS, hkResult: openKeyHandle(k, key!, samDesired, 0), dwDisposition: parts.length === 0 ? REG_OPENED_EXISTING_KEY : disposition };
  });
}

/**
 * RegQueryValueEx(hKey, lpValueName, lpReserved, lpData, cbData): the value's type and
 * data. Returns { status, Type, cbData }: cbData is the data's size; the data is copied
 * into lpData when it fits (ERROR_MORE_DATA when not; lpData null asks the size only).
 */
export function RegQueryValueEx(hKey: HKEY, lpValueName: string | null, _lpReserved: null, lpData: Uint8Array | null, cbData: number): { status: number; Type: number; cbData: number } {
  return service(() => {
    const key = keyOf(hKey);
    if (!key) return { status: ERROR_INVALID_HANDLE, Type: 0, cbData: 0 };
    const value = key.value(lpValueName ?? "");
    if (!value) return { status: ERROR_FILE_NOT_FOUND, Type: 0, cbData: 0 };
    if (lpData === null) return { status: ERROR_SUCCESS, Type: value.type, cbData: value.data.length };
    if (cbData < value.data.length || lpData.length < value.data.length) return { status: ERROR_MORE_DATA, Type: value.type, cbData: value.data.length };
    lpData.set(value.data);
    return { status: ERROR_SUCCESS, Type: value.type, cbData: value.data.length };
  });
}

/** RegSetValueEx(hKey, lpValueName, Reserved, dwType, lpData, cbData): sets the value to the first cbData bytes of lpData. */
export function RegSetValueEx(hKey: HKEY, lpValueName: string | null, _Reserved: number, dwType: number, lpData: Uint8Array, cbData: number): number {
  return service(({ k }) => {
    const key = keyOf(hKey);
    if (!key) return ERROR_INVALID_HANDLE;
    return RtlNtStatusToDosError(CM(k).setValue(key, lpValueName ?? "", dwType, lpData.slice(0, cbData)));
  });
}

/** RegDeleteValue(hKey, lpValueName): ERROR_FILE_NOT_FOUND when there is no such value. */
export function RegDeleteValue(hKey: HKEY, lpValueName: string | null): number {
  return service(({ k }) => {
    const key = keyOf(hKey);
    return key ? RtlNtStatusToDosError(CM(k).deleteValue(key, lpValueName ?? "")) : ERROR_INVALID_HANDLE;
  });
}

/** RegDeleteKey(hKey, lpSubKey): deletes a subkey that has no subkeys of its own (ERROR_ACCESS_DENIED otherwise, as Windows reports it). */
export function RegDeleteKey(hKey: HKEY, lpSubKey: string): number {
  return service(({ k }) => {
    const parent = keyOf(hKey);
    const parts = splitPath(lpSubKey);
    if (!parent) return ERROR_INVALID_HANDLE;
    if (!parts || parts.length === 0) return ERROR_INVALID_PARAMETER;
    const r = CM(k).resolve(parent, parts);
    if (!r.key) return RtlNtStatusToDosError(r.status);
    const status = CM(k).deleteKey(r.key);
    return status === STATUS_SUCCESS ? ERROR_SUCCESS : ERROR_ACCESS_DENIED;
  });
}

/** RegEnumKeyEx(hKey, dwIndex): { status, Name } of subkey dwIndex (ERROR_NO_MORE_ITEMS past the last). */
export function RegEnumKeyEx(hKey: HKEY, dwIndex: number): { status: number; Name: string } {
  return service(() => {
    const key = keyOf(hKey);
    if (!key) return { status: ERROR_INVALID_HANDLE, Name: "" };
    const sub = key.subkeyAt(dwIndex);
    return sub ? { status: ERROR_SUCCESS, Name: sub.name } : { status: ERROR_NO_MORE_ITEMS, Name: "" };
  });
}

/** RegEnumValue(hKey, dwIndex): { status, ValueName, Type, Data } of value dwIndex (ERROR_NO_MORE_ITEMS past the last). */
export function RegEnumValue(hKey: HKEY, dwIndex: number): { status: number; ValueName: string; Type: number; Data: Uint8Array } {
  return service(() => {
    const key = keyOf(hKey);
    if (!key) return { status: ERROR_INVALID_HANDLE, ValueName: "", Type: 0, Data: new Uint8Array(0) };
    const v = key.valueAt(dwIndex);
    return v ? { status: ERROR_SUCCESS, ValueName: v.name, Type: v.type, Data: v.data.slice() } : { status: ERROR_NO_MORE_ITEMS, ValueName: "", Type: 0, Data: new Uint8Array(0) };
  });
}

/** RegCloseKey(hKey): closes an opened key (a predefined key needs no closing). */
export async function RegCloseKey(hKey: HKEY): Promise<number> {
  if (PREDEFINED[hKey] !== undefined) return ERROR_SUCCESS;
  const status = await NtClose(hKey as HANDLE);
  return RtlNtStatusToDosError(status);
}
