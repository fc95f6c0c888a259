// The registry from user mode: advapi32's Reg* calls return Win32 errors and work on the
// machine's registry through key handles in the process.
import { describe, expect, it } from "vitest";
import {
  ERROR_FILE_NOT_FOUND, ERROR_INVALID_HANDLE, ERROR_MORE_DATA, ERROR_NO_MORE_ITEMS, ERROR_SUCCESS, ERROR_ACCESS_DENIED, HKEY_LOCAL_MACHINE,
  RegCloseKey, RegCreateKeyEx, RegDeleteKey, RegDeleteValue, RegEnumKeyEx, RegEnumValue, RegOpenKeyEx, RegQueryValueEx, RegSetValueEx,
} from "../../src/io/usermode.js";
import { CM } from "../../src/cm/registry.js";
import { REG_CREATED_NEW_KEY, REG_OPENED_EXISTING_KEY } from "../../src/cm/registry.js";
import { REG_DWORD, REG_SZ, utf16 } from "../../src/cm/value-types.js";
import { bootDefault, kernelOf } from "../support/kernel-harness.js";

const KEY_ALL_ACCESS = 0xF003F;
const KEY_READ = 0x20019;

describe("Reg* from a program", () => {
  it("creates, writes, reads, enumerates and deletes keys and values", async () => {
    const m = await bootDefault();
    const out = await m.runProgram("regedit", async () => {
      const r: unknown[] = [];
      const c = RegCreateKeyEx(HKEY_LOCAL_MACHINE, "SOFTWARE\\Vendor\\App", 0, null, 0, KEY_ALL_ACCESS, null);
      r.push(c.status, c.dwDisposition, RegCreateKeyEx(HKEY_LOCAL_MACHINE, "SOFTWARE\\Vendor\\App", 0, null, 0, KEY_ALL_ACCESS, null).dwDisposition);
      r.push(RegSetValueEx(c.hkResult, "Count", 0, REG_DWORD, new Uint8Array([3, 0, 0, 0]), 4));
      r.push(RegSetValueEx(c.hkResult, "Title", 0, REG_SZ, utf16("hi", true), 6));
      const size = RegQueryValueEx(c.hkResult, "Title", null, null, 0);
      r.push(size);
      r.push(RegQueryValueEx(c.hkResult, "Title", null, new Uint8Array(2), 2).status);
      const data = new Uint8Array(4);
      r.push(RegQueryValueEx(c.hkResult, "Count", null, data, 4), data[0]);
      r.push(RegQueryValueEx(c.hkResult, "Nope", null, null, 0).status);
      r.push(RegEnumValue(c.hkResult, 1).ValueName, RegEnumValue(c.hkResult, 2).status);
      const vendor = RegOpenKeyEx(HKEY_LOCAL_MACHINE, "SOFTWARE\\Vendor", 0, KEY_READ);
      r.push(vendor.status, RegEnumKeyEx(vendor.hkResult, 0).Name, RegEnumKeyEx(vendor.hkResult, 1).status);
      r.push(RegOpenKeyEx(HKEY_LOCAL_MACHINE, "SOFTWARE\\Missing", 0, KEY_READ).status);
      r.push(RegDeleteValue(c.hkResult, "Title"), RegDeleteValue(c.hkResult, "Title"));
      r.push(RegDeleteKey(HKEY_LOCAL_MACHINE, "SOFTWARE\\Vendor"));
      r.push(await RegCloseKey(c.hkResult), await RegCloseKey(vendor.hkResult), await RegCloseKey(vendor.hkResult));
      r.push(RegDeleteKey(HKEY_LOCAL_MACHINE, "SOFTWARE\\Vendor\\App"), RegDeleteKey(HKEY_LOCAL_MACHINE, "SOFTWARE\\Vendor"));
      return r;
    });
    expect(out).toEqual([
      ERROR_SUCCESS, REG_CREATED_NEW_KEY, REG_OPENED_EXISTING_KEY,
      ERROR_SUCCESS, ERROR_SUCCESS,
      { status: ERROR_SUCCESS, Type: REG_SZ, cbData: 6 },
      ERROR_MORE_DATA,
      { status: ERROR_SUCCESS, Type: REG_DWORD, cbData: 4 }, 3,
      ERROR_FILE_NOT_FOUND,
      "Title", ERROR_NO_MORE_ITEMS,
      ERROR_SUCCESS, "App", ERROR_NO_MORE_ITEMS,
      ERROR_FILE_NOT_FOUND,
      ERROR_SUCCESS, ERROR_FILE_NOT_FOUND,
      ERROR_ACCESS_DENIED,
      ERROR_SUCCESS, ERROR_SUCCESS, ERROR_INVALID_HANDLE,
      ERROR_SUCCESS, ERROR_SUCCESS,
    ]);
    expect(CM(kernelOf(m)).find("\\REGISTRY\\MACHINE\\SOFTWARE\\Vendor")).toBeUndefined();
  });

  it("reads what the kernel side wrote: a driver's Parameters", async () => {
    const m = await bootDefault();
    CM(kernelOf(m)).set("\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services\\edu\\Parameters", "Level", REG_DWORD, 4);
    const level = await m.runProgram("reader", async () => {
      const h = RegOpenKeyEx(HKEY_LOCAL_MACHINE, "SYSTEM\\CurrentControlSet\\Services\\edu\\Parameters", 0, KEY_READ);
      const data = new Uint8Array(4);
      RegQueryValueEx(h.hkResult, "Level", null, data, 4);
      await RegCloseKey(h.hkResult);
      return data[0];
    });
    expect(level).toBe(4);
  });
});
