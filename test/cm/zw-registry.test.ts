// The registry through handles, as drivers use it: ZwCreateKey / ZwOpenKey with
// OBJECT_ATTRIBUTES, values set and queried into guest buffers, enumeration, deletion.
import { describe, expect, it } from "vitest";
import {
  ExAllocatePoolWithTag, ExFreePoolWithTag, InitializeObjectAttributes, OBJECT_ATTRIBUTES, OBJ_CASE_INSENSITIVE, OBJ_KERNEL_HANDLE, POOL_TYPE,
  readU32, RTL_CONSTANT_STRING, STATUS_BUFFER_OVERFLOW, STATUS_BUFFER_TOO_SMALL, STATUS_CANNOT_DELETE, STATUS_DATATYPE_MISALIGNMENT,
  STATUS_KEY_DELETED, STATUS_NO_MORE_ENTRIES, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_TYPE_MISMATCH, STATUS_SUCCESS, ZwClose,
  ZwCreateEvent, NotificationEvent, DISPATCH_LEVEL, writeU32,
} from "../../src/index.js";
import {
  KEY_ALL_ACCESS, KEY_READ, ZwCreateKey, ZwDeleteKey, ZwDeleteValueKey, ZwEnumerateKey, ZwEnumerateValueKey, ZwOpenKey, ZwQueryKey,
  ZwQueryValueKey, ZwSetValueKey,
} from "../../src/cm/zw.js";
import { KEY_INFORMATION_CLASS, KEY_VALUE_INFORMATION_CLASS } from "../../src/cm/information.js";
import { REG_CREATED_NEW_KEY, REG_OPENED_EXISTING_KEY } from "../../src/cm/registry.js";
import { REG_DWORD, REG_SZ, utf16 } from "../../src/cm/value-types.js";
import { bootDefault, bugCheckOf, expectBugCheck } from "../support/kernel-harness.js";

const PARAMS = "\\Registry\\Machine\\System\\CurrentControlSet\\Services\\edu\\Parameters";

function attributes(name: string, root: number | null = null): OBJECT_ATTRIBUTES {
  const oa = new OBJECT_ATTRIBUTES();
  InitializeObjectAttributes(oa, name, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, root, null);
  return oa;
}

describe("the registry through Zw routines", () => {
  it("creates a key, sets and reads back values through KEY_VALUE_PARTIAL_INFORMATION", async () => {
    const m = await bootDefault();
    const out = await m.exec(async () => {
      const r: unknown[] = [];
      const created = ZwCreateKey(KEY_ALL_ACCESS, attributes(PARAMS), 0, null, 0);
      r.push(created.status, created.Disposition, ZwCreateKey(KEY_ALL_ACCESS, attributes(PARAMS), 0, null, 0).Disposition);
      const h = created.KeyHandle;
      const dword = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 4, "Test");
      writeU32(dword, 7);
      r.push(ZwSetValueKey(h, RTL_CONSTANT_STRING("Level"), 0, REG_DWORD, dword, 4));
      r.push(ZwSetValueKey(h, "Name", 0, REG_SZ, utf16("edu", true), 8));
      const buf = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 64, "Test");
      const q = ZwQueryValueKey(h, "LEVEL", KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation, buf, 64);
      r.push(q.status, q.ResultLength, readU32(buf + 4), readU32(buf + 8), readU32(buf + 12));
      r.push(ZwQueryValueKey(h, "Level", KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation, buf, 12).status);
      r.push(ZwQueryValueKey(h, "Level", KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation, buf, 8));
      r.push(ZwQueryValueKey(h, "Missing", KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation, buf, 64).status);
      r.push(ZwQueryValueKey(h, "Level", KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformationAlign64, buf + 4, 60).status);
      r.push(ZwEnumerateValueKey(h, 1, KEY_VALUE_INFORMATION_CLASS.KeyValueBasicInformation, buf, 64).status, readU32(buf + 4));
      r.push(ZwEnumerateValueKey(h, 2, KEY_VALUE_INFORMATION_CLASS.KeyValueBasicInformation, buf, 64).status);
      r.push(ZwDeleteValueKey(h, "Name"), ZwDeleteValueKey(h, "Name"));
      ExFreePoolWithTag(buf, "Test");
      ExFreePoolWithTag(dword, "Test");
      r.push(await ZwClose(h));
      return r;
    });
    expect(out).toEqual([
      STATUS_SUCCESS, REG_CREATED_NEW_KEY, REG_OPENED_EXISTING_KEY,
      STATUS_SUCCESS, STATUS_SUCCESS,
      STATUS_SUCCESS, 16, REG_DWORD, 4, 7,
      STATUS_BUFFER_OVERFLOW,
      { status: STATUS_BUFFER_TOO_SMALL, ResultLength: 16 },
      STATUS_OBJECT_NAME_NOT_FOUND,
      STATUS_DATATYPE_MISALIGNMENT,
      STATUS_SUCCESS, REG_SZ,
      STATUS_NO_MORE_ENTRIES,
      STATUS_SUCCESS, STATUS_OBJECT_NAME_NOT_FOUND,
      STATUS_SUCCESS,
    ]);
  });

  it("opens relative to a root key handle, enumerates subkeys, and refuses to delete a key with subkeys", async () => {
    const m = await bootDefault();
    const out = await m.exec(async () => {
      const r: unknown[] = [];
      const soft = ZwOpenKey(KEY_ALL_ACCESS, attributes("\\Registry\\Machine\\Software"));
      const vendor = ZwCreateKey(KEY_ALL_ACCESS, attributes("Vendor", soft.KeyHandle), 0, "VendorClass", 0);
      const b = ZwCreateKey(KEY_ALL_ACCESS, attributes("Vendor\\b", soft.KeyHandle), 0, null, 0);
      const a = ZwCreateKey(KEY_ALL_ACCESS, attributes("Vendor\\A", soft.KeyHandle), 0, null, 0);
      r.push(ZwOpenKey(KEY_READ, attributes("\\Registry\\Machine\\Software\\Nope")).status);
      r.push(ZwCreateKey(KEY_ALL_ACCESS, attributes("Missing\\Child", soft.KeyHandle), 0, null, 0).status);
      const buf = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 128, "Test");
      for (let i = 0; i < 3; i++) {
        const e = ZwEnumerateKey(vendor.KeyHandle, i, KEY_INFORMATION_CLASS.KeyBasicInformation, buf, 128);
        r.push(e.status, e.status === STATUS_SUCCESS ? readU32(buf + 12) : 0);
      }
      const full = ZwQueryKey(vendor.KeyHandle, KEY_INFORMATION_CLASS.KeyFullInformation, buf, 128);
      r.push(full.status, readU32(buf + 16), readU32(buf + 20));
      r.push(ZwDeleteKey(vendor.KeyHandle), ZwDeleteKey(a.KeyHandle), ZwDeleteKey(a.KeyHandle));
      r.push(ZwSetValueKey(a.KeyHandle, "x", 0, REG_DWORD, new Uint8Array(4), 4));
      // A handle of another type is refused.
      const ev = ZwCreateEvent(0x1F0003, null, NotificationEvent, false);
      r.push(ZwQueryKey(ev.EventHandle, KEY_INFORMATION_CLASS.KeyBasicInformation, buf, 128).status);
      ExFreePoolWithTag(buf, "Test");
      for (const h of [soft.KeyHandle, vendor.KeyHandle, a.KeyHandle, b.KeyHandle, ev.EventHandle]) await ZwClose(h);
      return r;
    });
    expect(out).toEqual([
      STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_NAME_NOT_FOUND,
      // Subkeys by upper-cased name: "A" then "b"; NameLength in bytes.
      STATUS_SUCCESS, 2, STATUS_SUCCESS, 2, STATUS_NO_MORE_ENTRIES, 0,
      // ClassLength ("VendorClass": 22 bytes), SubKeys 2.
      STATUS_SUCCESS, 22, 2,
      STATUS_CANNOT_DELETE, STATUS_SUCCESS, STATUS_KEY_DELETED,
      STATUS_KEY_DELETED,
      STATUS_OBJECT_TYPE_MISMATCH,
    ]);
  });

  it("is PASSIVE_LEVEL only under the verifier (0xC4 / 0x2001F)", async () => {
    const m = await bootDefault();
    const bc = await bugCheckOf(m.exec(() => ZwOpenKey(KEY_READ, attributes(PARAMS)), { irql: DISPATCH_LEVEL }));
    expectBugCheck(bc, 0xC4, 0x2001F);
  });
});

describe("IoOpenDeviceRegistryKey and IoOpenDriverRegistryKey", () => {
  it("open a PDO's hardware and software keys and a driver's Parameters key, as kernel handles", async () => {
    const { boot } = await import("../../src/pnp/boot.js");
    const { Machine, PNP, IoOpenDeviceRegistryKey, IoOpenDriverRegistryKey, PLUGPLAY_REGKEY_DEVICE, PLUGPLAY_REGKEY_DRIVER, PLUGPLAY_REGKEY_CURRENT_HWPROFILE,
      DRIVER_REGKEY_TYPE, ObIsKernelHandle, STATUS_INVALID_DEVICE_REQUEST, STATUS_NOT_SUPPORTED, readBytes } = await import("../../src/index.js");
    const { IO } = await import("../../src/io/manager.js");
    const { fromUtf16 } = await import("../../src/cm/value-types.js");
    const { defaultDescription, kernelOf } = await import("../support/kernel-harness.js");
    const d = defaultDescription();
    d.drivers = ["toaster"];
    d.driverParameters = { busenum: { Level: 9 } };
    d.registry = { "HKLM\\SYSTEM\\CurrentControlSet\\Enum\\ROOT\\SYSTEM\\0000\\Device Parameters": { Exclusive: 1 } };
    const m = await boot(Machine.fromDescription(d));
    const k = kernelOf(m);
    const pdo = [...PNP(k).allNodes()].find((n) => n.ServiceName === "busenum")!.PhysicalDeviceObject;
    const fdo = pdo.AttachedDevice!;
    const out = await m.exec(async () => {
      const r: unknown[] = [];
      const buf = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 256, "Test");
      const hw = IoOpenDeviceRegistryKey(pdo, PLUGPLAY_REGKEY_DEVICE, KEY_READ);
      r.push(hw.status, ObIsKernelHandle(hw.DeviceRegKey));
      r.push(ZwQueryValueKey(hw.DeviceRegKey, "Exclusive", KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation, buf, 256).status, readU32(buf + 12));
      const sw = IoOpenDeviceRegistryKey(pdo, PLUGPLAY_REGKEY_DRIVER, KEY_READ);
      const q = ZwQueryValueKey(sw.DeviceRegKey, "DriverDesc", KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation, buf, 256);
      r.push(sw.status, q.status, fromUtf16(readBytes(buf + 12, readU32(buf + 8))));
      r.push(IoOpenDeviceRegistryKey(fdo, PLUGPLAY_REGKEY_DEVICE, KEY_READ).status);
      r.push(IoOpenDeviceRegistryKey(pdo, PLUGPLAY_REGKEY_DEVICE | PLUGPLAY_REGKEY_CURRENT_HWPROFILE, KEY_READ).status);
      const params = IoOpenDriverRegistryKey(IO(k).drivers.get("busenum")!, DRIVER_REGKEY_TYPE.DriverRegKeyParameters, KEY_READ, 0);
      r.push(params.status, ZwQueryValueKey(params.DriverRegKey, "Level", KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation, buf, 256).status, readU32(buf + 12));
      for (const h of [hw.DeviceRegKey, sw.DeviceRegKey, params.DriverRegKey]) await ZwClose(h);
      ExFreePoolWithTag(buf, "Test");
      return r;
    });
    expect(out).toEqual([
      STATUS_SUCCESS, true, STATUS_SUCCESS, 1,
      STATUS_SUCCESS, STATUS_SUCCESS, "Toaster bus enumerator",
      STATUS_INVALID_DEVICE_REQUEST, STATUS_NOT_SUPPORTED,
      STATUS_SUCCESS, STATUS_SUCCESS, 9,
    ]);
  });
});
