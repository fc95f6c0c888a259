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
import { NT_SUCCESS, STATUS_CANNOT_DELETE, STATUS_NO_MORE_ENTRIES, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS } from "../ke/ntstatus.js";
import { DELETE } from "../ob/access.js";
import { OBJ_CASE_INSENSITIVE } from "../ob/attributes.js";
import type { HANDLE } from "../ob/handle-table.js";
import { NtClose, ObReferenceObjectByHandle } from "../ob/handles.js";
import { OB } from "../ob/manager.js";
import { dereference } from "../ob/reference.js";
import type { CM_KEY } from "../cm/key.js";
import { CM, REG_OPENED_EXISTING_KEY, splitPath, type KeyResult } from "../cm/registry.js";
import { CmKeyObjectType, keyHandleFor, newKeyObject, permanentKeyObject, type CM_KEY_BODY } from "../cm/zw.js";
import { filteredDeleteKey, filteredDeleteValueKey, filteredOpenKey, filteredQueryValueKey, filteredSetValueKey, filteredEnumerateKey, filteredEnumerateValueKey } from "../cm/filtered-operations.js";
import { KEY_INFORMATION_CLASS, KEY_VALUE_INFORMATION_CLASS } from "../cm/information.js";
import { ERROR_ACCESS_DENIED, ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER, ERROR_MORE_DATA, ERROR_NO_MORE_ITEMS, ERROR_SUCCESS, RtlNtStatusToDosError, service } from "./win32.js";

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

/** The key object an HKEY names (a predefined key's is the machine's permanent one), or null. */
function bodyOf(hKey: HKEY): CM_KEY_BODY | null {
  const k = KE();
  const predefined = PREDEFINED[hKey];
  if (predefined !== undefined) return permanentKeyObject(k, CM(k).ensure(predefined));
  const r = ObReferenceObjectByHandle<CM_KEY_BODY>(hKey as HANDLE, 0, CmKeyObjectType, KPROCESSOR_MODE.UserMode);
  if (!NT_SUCCESS(r.status) || !r.Object) return null;
  void dereference(k, OB(k).headerOf(r.Object)!);
  return r.Object.key.deleted ? null : r.Object;
}

/** The key an HKEY names, or null. */
function keyOf(hKey: HKEY): CM_KEY | null {
  return bodyOf(hKey)?.key ?? null;
}

/** The user-mode caller's mode, for the registry callbacks. */
const USER = KPROCESSOR_MODE.UserMode;

/** RegOpenKeyEx(hKey, lpSubKey, ulOptions, samDesired): { status, hkResult } (ERROR_FILE_NOT_FOUND when the key is missing). */
export function RegOpenKeyEx(hKey: HKEY, lpSubKey: string | null, _ulOptions: number, samDesired: number): { status: number; hkResult: HKEY } {
  return service(({ k }) => {
    const parent = bodyOf(hKey);
    if (!parent) return { status: ERROR_INVALID_HANDLE, hkResult: 0 };
    const parts = splitPath(lpSubKey ?? "");
    if (!parts) return { status: ERROR_INVALID_PARAMETER, hkResult: 0 };
    const outcome = filteredOpenKey(k, {
      create: false, RootObject: parent, CompleteName: lpSubKey ?? "", RemainingName: lpSubKey ?? "", Class: null, Options: 0,
      DesiredAccess: samDesired, Attributes: OBJ_CASE_INSENSITIVE, CheckAccessMode: USER, Transaction: null,
    }, USER, () => CM(k).resolve(parent.key, parts), (r) => newKeyObject(k, r.key!));
    if (!outcome.Object) return { status: RtlNtStatusToDosError(outcome.status), hkResult: 0 };
    return { status: ERROR_SUCCESS, hkResult: keyHandleFor(k, outcome, samDesired, 0, USER) };
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
    const parent = bodyOf(hKey);
    if (!parent) return { status: ERROR_INVALID_HANDLE, hkResult: 0, dwDisposition: 0 };
    const parts = splitPath(lpSubKey);
    if (!parts) return { status: ERROR_INVALID_PARAMETER, hkResult: 0, dwDisposition: 0 };
    const outcome = filteredOpenKey(k, {
      create: true, RootObject: parent, CompleteName: lpSubKey, RemainingName: lpSubKey, Class: lpClass, Options: dwOptions,
      DesiredAccess: samDesired, Attributes: OBJ_CASE_INSENSITIVE, CheckAccessMode: USER, Transaction: null,
    }, USER, () => {
      let key = parent.key;
      let r: KeyResult = { status: STATUS_SUCCESS, key, disposition: REG_OPENED_EXISTING_KEY };
      for (let i = 0; i < parts.length; i++) {
        r = registry.create(key, [parts[i]], i === parts.length - 1 ? lpClass ?? "" : "", dwOptions);
        if (!r.key) return r;
        key = r.key;
      }
      return r;
    }, (r) => newKeyObject(k, r.key!));
    if (!outcome.Object) return { status: RtlNtStatusToDosError(outcome.status), hkResult: 0, dwDisposition: 0 };
    return { status: ERROR_SUCCESS, hkResult: keyHandleFor(k, outcome, samDesired, 0, USER), dwDisposition: outcome.Disposition };
  });
}

/**
 * RegQueryValueEx(hKey, lpValueName, lpReserved, lpData, cbData): the value's type and
 * data. Returns { status, Type, cbData }: cbData is the data's size; the data is copied
 * into lpData when it fits (ERROR_MORE_DATA when not; lpData null asks the size only).
 */
export function RegQueryValueEx(hKey: HKEY, lpValueName: string | null, _lpReserved: null, lpData: Uint8Array | null, cbData: number): { status: number; Type: number; cbData: number } {
  return service(({ k }) => {
    const body = bodyOf(hKey);
    if (!body) return { status: ERROR_INVALID_HANDLE, Type: 0, cbData: 0 };
    const key = body.key;
    const name = lpValueName ?? "";
    let answer = { status: ERROR_SUCCESS, Type: 0, cbData: 0 };
    // The program's buffer is not guest memory: a callback that completes the query itself
    // is given none (KeyValueInformation NULL, Length 0).
    const r = filteredQueryValueKey(k, body, name, KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation, 0, 0, USER, () => {
      const value = key.value(name);
      if (!value) return { status: STATUS_OBJECT_NAME_NOT_FOUND, ResultLength: 0 };
      if (lpData === null) answer = { status: ERROR_SUCCESS, Type: value.type, cbData: value.data.length };
      else if (cbData < value.data.length || lpData.length < value.data.length) answer = { status: ERROR_MORE_DATA, Type: value.type, cbData: value.data.length };
      else {
        lpData.set(value.data);
        answer = { status: ERROR_SUCCESS, Type: value.type, cbData: value.data.length };
      }
      return { status: STATUS_SUCCESS, ResultLength: value.data.length + 12 };
    });
    if (!NT_SUCCESS(r.status)) return { status: RtlNtStatusToDosError(r.status), Type: 0, cbData: 0 };
    return answer;
  });
}

/** RegSetValueEx(hKey, lpValueName, Reserved, dwType, lpData, cbData): sets the value to the first cbData bytes of lpData. */
export function RegSetValueEx(hKey: HKEY, lpValueName: string | null, _Reserved: number, dwType: number, lpData: Uint8Array, cbData: number): number {
  return service(({ k }) => {
    const body = bodyOf(hKey);
    if (!body) return ERROR_INVALID_HANDLE;
    const name = lpValueName ?? "";
    return RtlNtStatusToDosError(filteredSetValueKey(k, body, name, 0, dwType, lpData, cbData, USER, () => CM(k).setValue(body.key, name, dwType, lpData.slice(0, cbData))));
  });
}

/** RegDeleteValue(hKey, lpValueName): ERROR_FILE_NOT_FOUND when there is no such value. */
export function RegDeleteValue(hKey: HKEY, lpValueName: string | null): number {
  return service(({ k }) => {
    const body = bodyOf(hKey);
    if (!body) return ERROR_INVALID_HANDLE;
    const name = lpValueName ?? "";
    return RtlNtStatusToDosError(filteredDeleteValueKey(k, body, name, USER, () => CM(k).deleteValue(body.key, name)));
  });
}

/** RegDeleteKey(hKey, lpSubKey): deletes a subkey that has no subkeys of its own (ERROR_ACCESS_DENIED otherwise, as Windows reports it). */
export function RegDeleteKey(hKey: HKEY, lpSubKey: string): number {
  return service(({ k }) => {
    const parent = keyOf(hKey);
    const parts = splitPath(lpSubKey);
    if (!parent) return ERROR_INVALID_HANDLE;
    if (!parts || parts.length === 0) return ERROR_INVALID_PARAMETER;
    // RegDeleteKey opens the subkey, deletes it through that key object and closes it.
    const opened = RegOpenKeyEx(hKey, lpSubKey, 0, DELETE);
    if (opened.status !== ERROR_SUCCESS) return opened.status;
    const body = bodyOf(opened.hkResult)!;
    const status = filteredDeleteKey(k, body, USER, () => CM(k).deleteKey(body.key));
    void NtClose(opened.hkResult as HANDLE);
    return NT_SUCCESS(status) ? ERROR_SUCCESS : status === STATUS_CANNOT_DELETE ? ERROR_ACCESS_DENIED : RtlNtStatusToDosError(status);
  });
}

/** RegEnumKeyEx(hKey, dwIndex): { status, Name } of subkey dwIndex (ERROR_NO_MORE_ITEMS past the last). */
export function RegEnumKeyEx(hKey: HKEY, dwIndex: number): { status: number; Name: string } {
  return service(({ k }) => {
    const body = bodyOf(hKey);
    if (!body) return { status: ERROR_INVALID_HANDLE, Name: "" };
    let Name = "";
    const r = filteredEnumerateKey(k, body, dwIndex, KEY_INFORMATION_CLASS.KeyBasicInformation, 0, 0, USER, () => {
      const sub = body.key.subkeyAt(dwIndex);
      if (!sub) return { status: STATUS_NO_MORE_ENTRIES, ResultLength: 0 };
      Name = sub.name;
      return { status: STATUS_SUCCESS, ResultLength: 16 + 2 * sub.name.length };
    });
    return NT_SUCCESS(r.status) ? { status: ERROR_SUCCESS, Name } : { status: r.status === STATUS_NO_MORE_ENTRIES ? ERROR_NO_MORE_ITEMS : RtlNtStatusToDosError(r.status), Name: "" };
  });
}

/** RegEnumValue(hKey, dwIndex): { status, ValueName, Type, Data } of value dwIndex (ERROR_NO_MORE_ITEMS past the last). */
export function RegEnumValue(hKey: HKEY, dwIndex: number): { status: number; ValueName: string; Type: number; Data: Uint8Array } {
  return service(({ k }) => {
    const body = bodyOf(hKey);
    if (!body) return { status: ERROR_INVALID_HANDLE, ValueName: "", Type: 0, Data: new Uint8Array(0) };
    let answer = { status: ERROR_NO_MORE_ITEMS, ValueName: "", Type: 0, Data: new Uint8Array(0) };
    const r = filteredEnumerateValueKey(k, body, dwIndex, KEY_VALUE_INFORMATION_CLASS.KeyValueFullInformation, 0, 0, USER, () => {
      const v = body.key.valueAt(dwIndex);
      if (!v) return { status: STATUS_NO_MORE_ENTRIES, ResultLength: 0 };
      answer = { status: ERROR_SUCCESS, ValueName: v.name, Type: v.type, Data: v.data.slice() };
      return { status: STATUS_SUCCESS, ResultLength: 20 + 2 * v.name.length + v.data.length };
    });
    return NT_SUCCESS(r.status) ? answer : { status: r.status === STATUS_NO_MORE_ENTRIES ? ERROR_NO_MORE_ITEMS : RtlNtStatusToDosError(r.status), ValueName: "", Type: 0, Data: new Uint8Array(0) };
  });
}

/** RegCloseKey(hKey): closes an opened key (a predefined key needs no closing). */
export async function RegCloseKey(hKey: HKEY): Promise<number> {
  if (PREDEFINED[hKey] !== undefined) return ERROR_SUCCESS;
  const status = await NtClose(hKey as HANDLE);
  return RtlNtStatusToDosError(status);
}
