// The Rtl registry routines: query tables (direct and by routine, defaults, required,
// type checks, subkeys), writing, deleting, checking and creating keys.
import { describe, expect, it } from "vitest";
import {
  ExAllocatePoolWithTag, ExFreePoolWithTag, Machine, POOL_TYPE, readU32, RtlFreeUnicodeString, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_TYPE_MISMATCH,
  STATUS_SUCCESS, UNICODE_STRING, unicodeStringText, writeU32, readBytes,
} from "../../src/index.js";
import { boot } from "../../src/pnp/boot.js";
import {
  RTL_QUERY_REGISTRY_DIRECT, RTL_QUERY_REGISTRY_REQUIRED, RTL_QUERY_REGISTRY_SUBKEY, RTL_QUERY_REGISTRY_TYPECHECK, RTL_QUERY_REGISTRY_TYPECHECK_SHIFT,
  RTL_REGISTRY_ABSOLUTE, RTL_REGISTRY_OPTIONAL, RTL_REGISTRY_SERVICES, RtlCheckRegistryKey, RtlCreateRegistryKey, RtlDeleteRegistryValue,
  RtlQueryRegistryValues, RtlWriteRegistryValue, type RegistryValueHolder,
} from "../../src/cm/rtl-registry.js";
import { REG_DWORD, REG_MULTI_SZ, REG_SZ, fromUtf16 } from "../../src/cm/value-types.js";
import { defaultDescription } from "../support/kernel-harness.js";

async function machine(): Promise<Machine> {
  const d = defaultDescription();
  d.driverParameters = { edu: { DebugLevel: 3, Name: "Edu" } };
  d.registry = { "HKLM\\SYSTEM\\CurrentControlSet\\Services\\edu\\Parameters\\Sub": { Tags: ["a", "bc"], Mode: 2 } };
  return boot(Machine.fromDescription(d));
}

describe("RtlQueryRegistryValues", () => {
  it("stores DIRECT values in a ULONG, a UNICODE_STRING or a holder, with defaults for missing values", async () => {
    const m = await machine();
    const out = await m.exec(() => {
      const level = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 4, "Test");
      writeU32(level, 0);
      const name = new UNICODE_STRING();
      const missing: RegistryValueHolder = { value: null };
      const status = RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, "edu\\Parameters", [
        { Flags: RTL_QUERY_REGISTRY_DIRECT, Name: "DebugLevel", EntryContext: level, DefaultType: REG_DWORD, DefaultData: 0, DefaultLength: 0 },
        { Flags: RTL_QUERY_REGISTRY_DIRECT, Name: "Name", EntryContext: name },
        { Flags: RTL_QUERY_REGISTRY_DIRECT, Name: "Missing", EntryContext: missing, DefaultType: REG_DWORD, DefaultData: 42 },
        {},
        { Flags: RTL_QUERY_REGISTRY_DIRECT, Name: "NotReached", EntryContext: missing, DefaultType: REG_DWORD, DefaultData: 7 },
      ], null);
      const r = [status, readU32(level), unicodeStringText(name), missing.value];
      RtlFreeUnicodeString(name);
      ExFreePoolWithTag(level, "Test");
      return r;
    });
    expect(out).toEqual([STATUS_SUCCESS, 3, "Edu", 42]);
  });

  it("calls a QueryRoutine per value (REG_MULTI_SZ string by string), under a subkey entry, and for every value with no Name", async () => {
    const m = await machine();
    const out = await m.exec(() => {
      const seen: unknown[] = [];
      const routine = (ValueName: string, ValueType: number, ValueData: number, ValueLength: number, Context: unknown) => {
        seen.push([ValueName, ValueType, ValueType === REG_SZ ? fromUtf16(readBytes(ValueData, ValueLength)) : readU32(ValueData), Context]);
        return STATUS_SUCCESS;
      };
      const status = RtlQueryRegistryValues(RTL_REGISTRY_ABSOLUTE, "\\Registry\\Machine\\System\\CurrentControlSet\\Services\\edu\\Parameters", [
        { Flags: RTL_QUERY_REGISTRY_SUBKEY, Name: "Sub" },
        { QueryRoutine: routine, Name: "Tags" },
        { QueryRoutine: routine, Name: null },
      ], "ctx");
      return { status, seen };
    });
    expect(out.status).toBe(STATUS_SUCCESS);
    expect(out.seen).toEqual([
      ["Tags", REG_SZ, "a", "ctx"], ["Tags", REG_SZ, "bc", "ctx"],
      ["Tags", REG_SZ, "a", "ctx"], ["Tags", REG_SZ, "bc", "ctx"], ["Mode", REG_DWORD, 2, "ctx"],
    ]);
  });

  it("fails for a missing key (unless optional), a missing required value and a type-check mismatch", async () => {
    const m = await machine();
    const out = await m.exec(() => {
      const holder: RegistryValueHolder = { value: null };
      return [
        RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, "nope\\Parameters", [{ Flags: RTL_QUERY_REGISTRY_DIRECT, Name: "x", EntryContext: holder }], null),
        RtlQueryRegistryValues(RTL_REGISTRY_SERVICES | RTL_REGISTRY_OPTIONAL, "nope\\Parameters", [{ Flags: RTL_QUERY_REGISTRY_DIRECT, Name: "x", EntryContext: holder }], null),
        RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, "edu\\Parameters", [{ Flags: RTL_QUERY_REGISTRY_DIRECT | RTL_QUERY_REGISTRY_REQUIRED, Name: "Absent", EntryContext: holder }], null),
        RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, "edu\\Parameters", [{
          Flags: RTL_QUERY_REGISTRY_DIRECT | RTL_QUERY_REGISTRY_TYPECHECK, Name: "Name", EntryContext: holder, DefaultType: (REG_DWORD << RTL_QUERY_REGISTRY_TYPECHECK_SHIFT) >>> 0,
        }], null),
      ];
    });
    expect(out).toEqual([STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_TYPE_MISMATCH]);
  });
});

describe("RtlWriteRegistryValue, RtlDeleteRegistryValue, RtlCheckRegistryKey, RtlCreateRegistryKey", () => {
  it("write to existing keys only; create makes the whole path", async () => {
    const m = await machine();
    const out = await m.exec(() => {
      const holder: RegistryValueHolder = { value: null };
      const r: unknown[] = [
        RtlCheckRegistryKey(RTL_REGISTRY_SERVICES, "edu\\State"),
        RtlWriteRegistryValue(RTL_REGISTRY_SERVICES, "edu\\State", "Runs", REG_DWORD, new Uint8Array([5, 0, 0, 0]), 4),
        RtlCreateRegistryKey(RTL_REGISTRY_SERVICES, "edu\\State\\Deep"),
        RtlCheckRegistryKey(RTL_REGISTRY_SERVICES, "edu\\State"),
        RtlWriteRegistryValue(RTL_REGISTRY_SERVICES, "edu\\State", "Runs", REG_DWORD, new Uint8Array([5, 0, 0, 0]), 4),
        RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, "edu\\State", [{ Flags: RTL_QUERY_REGISTRY_DIRECT, Name: "Runs", EntryContext: holder }], null),
      ];
      r.push(holder.value, RtlDeleteRegistryValue(RTL_REGISTRY_SERVICES, "edu\\State", "Runs"), RtlDeleteRegistryValue(RTL_REGISTRY_SERVICES, "edu\\State", "Runs"));
      r.push(RtlWriteRegistryValue(RTL_REGISTRY_SERVICES, "edu\\State", "List", REG_MULTI_SZ, new Uint8Array([0x61, 0, 0, 0, 0, 0]), 6));
      return r;
    });
    expect(out).toEqual([
      STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS, STATUS_SUCCESS, STATUS_SUCCESS, STATUS_SUCCESS,
      5, STATUS_SUCCESS, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS,
    ]);
  });
});
