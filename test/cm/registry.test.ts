import { describe, expect, it } from "vitest";
import { Registry, REG_CREATED_NEW_KEY, REG_OPENED_EXISTING_KEY, REG_OPTION_CREATE_LINK, REG_OPTION_OPEN_LINK, REG_OPTION_VOLATILE, SYMBOLIC_LINK_VALUE, splitPath } from "../../src/cm/registry.js";
import { KEY_INFORMATION_CLASS, KEY_VALUE_INFORMATION_CLASS, NO_CLASS_OFFSET, keyInformation, valueInformation } from "../../src/cm/information.js";
import { REG_BINARY, REG_DWORD, REG_DWORD_BIG_ENDIAN, REG_LINK, REG_MULTI_SZ, REG_QWORD, REG_SZ, encodeValue, decodeValue } from "../../src/cm/value-types.js";
import {
  STATUS_BUFFER_OVERFLOW, STATUS_BUFFER_TOO_SMALL, STATUS_CANNOT_DELETE, STATUS_CHILD_MUST_BE_VOLATILE, STATUS_KEY_DELETED,
  STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS,
} from "../../src/ke/ntstatus.js";

const T0 = 1_000_000;
const fresh = () => {
  let t = T0;
  return new Registry(() => t++);
};
const u32 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset).getUint32(o, true);
const text = (b: Uint8Array, o: number, bytes: number) => String.fromCharCode(...new Uint16Array(b.slice(o, o + bytes).buffer));

describe("the registry's key tree", () => {
  it("resolves CurrentControlSet to ControlSet001, any case, keeping the case names were created with", () => {
    const r = fresh();
    r.set("\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MyDriver\\Parameters", "Level", REG_DWORD, 3);
    const key = r.find("\\registry\\machine\\system\\controlset001\\services\\mydriver\\PARAMETERS")!;
    expect(key.name).toBe("Parameters");
    expect(key.path).toBe("\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services\\MyDriver\\Parameters");
    expect(r.get("\\Registry\\Machine\\System\\CurrentControlSet\\Services\\MyDriver\\Parameters", "level")).toBe(3);
  });

  it("creates only the last component: a missing parent is STATUS_OBJECT_NAME_NOT_FOUND", () => {
    const r = fresh();
    const services = r.find("\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services")!;
    expect(r.create(services, ["Missing", "Child"], "", 0).status).toBe(STATUS_OBJECT_NAME_NOT_FOUND);
    const made = r.create(services, ["Svc"], "", 0);
    expect(made).toMatchObject({ status: STATUS_SUCCESS, disposition: REG_CREATED_NEW_KEY });
    expect(r.create(services, ["SVC"], "", 0)).toMatchObject({ status: STATUS_SUCCESS, disposition: REG_OPENED_EXISTING_KEY, key: made.key });
  });

  it("will not put a non-volatile key under a volatile one", () => {
    const r = fresh();
    const software = r.find("\\REGISTRY\\MACHINE\\SOFTWARE")!;
    const v = r.create(software, ["Scratch"], "", REG_OPTION_VOLATILE).key!;
    expect(r.create(v, ["Kept"], "", 0).status).toBe(STATUS_CHILD_MUST_BE_VOLATILE);
    expect(r.create(v, ["AlsoVolatile"], "", REG_OPTION_VOLATILE).status).toBe(STATUS_SUCCESS);
  });

  it("deletes only keys without subkeys; a deleted key refuses further use", () => {
    const r = fresh();
    const parent = r.ensure("\\REGISTRY\\MACHINE\\SOFTWARE\\Vendor\\Product");
    const vendor = parent.parent!;
    expect(r.deleteKey(vendor)).toBe(STATUS_CANNOT_DELETE);
    expect(r.deleteKey(parent)).toBe(STATUS_SUCCESS);
    expect(r.setValue(parent, "x", REG_DWORD, encodeValue(REG_DWORD, 1))).toBe(STATUS_KEY_DELETED);
    expect(r.deleteKey(parent)).toBe(STATUS_KEY_DELETED);
    expect(r.find("\\REGISTRY\\MACHINE\\SOFTWARE\\Vendor\\Product")).toBeUndefined();
    expect(r.deleteKey(vendor)).toBe(STATUS_SUCCESS);
  });

  it("enumerates subkeys by upper-cased name and values in the order first set", () => {
    const r = fresh();
    for (const n of ["beta", "Alpha", "_under", "Zulu", "gamma"]) r.ensure(`\\REGISTRY\\MACHINE\\SOFTWARE\\E\\${n}`);
    const e = r.find("\\REGISTRY\\MACHINE\\SOFTWARE\\E")!;
    // Upper-cased, "_" (0x5F) sorts after the letters.
    expect(e.subkeys().map((k) => k.name)).toEqual(["Alpha", "beta", "gamma", "Zulu", "_under"]);
    for (const n of ["z", "a", "m"]) r.set(e.path, n, REG_DWORD, 1);
    r.set(e.path, "A", REG_SZ, "again");
    expect([0, 1, 2].map((i) => e.valueAt(i)!.name)).toEqual(["z", "a", "m"]);
    expect(e.valueAt(1)!.decoded).toBe("again");
    expect(e.valueAt(3)).toBeUndefined();
  });

  it("follows link keys, and opens the link itself with REG_OPTION_OPEN_LINK", () => {
    const r = fresh();
    const software = r.find("\\REGISTRY\\MACHINE\\SOFTWARE")!;
    r.ensure("\\REGISTRY\\MACHINE\\SOFTWARE\\Target\\Inner");
    const link = r.create(software, ["Alias"], "", REG_OPTION_CREATE_LINK).key!;
    r.setValue(link, SYMBOLIC_LINK_VALUE, REG_LINK, encodeValue(REG_LINK, "\\REGISTRY\\MACHINE\\SOFTWARE\\Target"));
    expect(r.resolve(software, ["Alias", "Inner"]).key!.path).toBe("\\REGISTRY\\MACHINE\\SOFTWARE\\Target\\Inner");
    expect(r.resolve(software, ["Alias"], true).key).toBe(link);
    expect(r.create(software, ["Alias"], "", REG_OPTION_OPEN_LINK).key).toBe(link);
  });

  it("splits paths and refuses empty or over-long components", () => {
    expect(splitPath("\\A\\B\\")).toEqual(["A", "B"]);
    expect(splitPath("A\\\\B")).toBeNull();
    expect(splitPath(`\\${"x".repeat(256)}`)).toBeNull();
  });
});

describe("value data as Windows stores it", () => {
  it("keeps strings in UTF-16LE with their NUL, REG_MULTI_SZ with a final empty string", () => {
    expect([...encodeValue(REG_SZ, "Hi")]).toEqual([0x48, 0, 0x69, 0, 0, 0]);
    expect([...encodeValue(REG_MULTI_SZ, ["a", "b"])]).toEqual([0x61, 0, 0, 0, 0x62, 0, 0, 0, 0, 0]);
    expect(decodeValue(REG_MULTI_SZ, encodeValue(REG_MULTI_SZ, ["one", "two"]))).toEqual(["one", "two"]);
    expect([...encodeValue(REG_DWORD_BIG_ENDIAN, 0x01020304)]).toEqual([1, 2, 3, 4]);
    expect(decodeValue(REG_QWORD, encodeValue(REG_QWORD, 2 ** 40 + 5))).toBe(2 ** 40 + 5);
    expect(() => encodeValue(REG_DWORD, "3")).toThrow(/REG_DWORD data cannot be string/);
  });
});

describe("KEY_VALUE_*_INFORMATION", () => {
  const r = fresh();
  r.set("\\REGISTRY\\MACHINE\\SOFTWARE\\V", "Abc", REG_DWORD, 0x11223344);
  const value = r.find("\\REGISTRY\\MACHINE\\SOFTWARE\\V")!.value("abc")!;

  it("KeyValuePartialInformation: TitleIndex, Type, DataLength, Data; TOO_SMALL below 12 bytes, OVERFLOW below 16", () => {
    const ok = valueInformation(value, KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation, 64);
    expect(ok.status).toBe(STATUS_SUCCESS);
    expect(ok.ResultLength).toBe(16);
    expect([u32(ok.bytes, 0), u32(ok.bytes, 4), u32(ok.bytes, 8), u32(ok.bytes, 12)]).toEqual([0, REG_DWORD, 4, 0x11223344]);
    expect(valueInformation(value, KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation, 12)).toMatchObject({ status: STATUS_BUFFER_OVERFLOW, ResultLength: 16 });
    const small = valueInformation(value, KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation, 11);
    expect(small).toMatchObject({ status: STATUS_BUFFER_TOO_SMALL, ResultLength: 16 });
    expect(small.bytes.length).toBe(0);
  });

  it("KeyValueFullInformation: the data after the name at a 4-byte aligned DataOffset (8 for Align64)", () => {
    const full = valueInformation(value, KEY_VALUE_INFORMATION_CLASS.KeyValueFullInformation, 64);
    // Name "Abc" is 6 bytes at offset 20: data at 28.
    expect([u32(full.bytes, 4), u32(full.bytes, 8), u32(full.bytes, 12), u32(full.bytes, 16)]).toEqual([REG_DWORD, 28, 4, 6]);
    expect(text(full.bytes, 20, 6)).toBe("Abc");
    expect(u32(full.bytes, 28)).toBe(0x11223344);
    expect(full.ResultLength).toBe(32);
    const a64 = valueInformation(value, KEY_VALUE_INFORMATION_CLASS.KeyValueFullInformationAlign64, 64);
    expect(u32(a64.bytes, 8)).toBe(32);
    expect(a64.ResultLength).toBe(36);
  });

  it("KeyValueBasicInformation and KeyValuePartialInformationAlign64", () => {
    const basic = valueInformation(value, KEY_VALUE_INFORMATION_CLASS.KeyValueBasicInformation, 64);
    expect([u32(basic.bytes, 4), u32(basic.bytes, 8), basic.ResultLength]).toEqual([REG_DWORD, 6, 18]);
    const p64 = valueInformation(value, KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformationAlign64, 64);
    expect([u32(p64.bytes, 0), u32(p64.bytes, 4), u32(p64.bytes, 8), p64.ResultLength]).toEqual([REG_DWORD, 4, 0x11223344, 12]);
  });
});

describe("KEY_*_INFORMATION", () => {
  it("basic, node and full information of a key with a class", () => {
    const r = fresh();
    const parent = r.ensure("\\REGISTRY\\MACHINE\\SOFTWARE\\K");
    const key = r.create(parent, ["Node"], "Cls", 0).key!;
    r.set(key.path, "LongerName", REG_BINARY, new Uint8Array(10));
    r.ensure(`${key.path}\\Sub`);
    const basic = keyInformation(key, KEY_INFORMATION_CLASS.KeyBasicInformation, 100);
    expect([u32(basic.bytes, 12), text(basic.bytes, 16, 8), basic.ResultLength]).toEqual([8, "Node", 24]);
    const node = keyInformation(key, KEY_INFORMATION_CLASS.KeyNodeInformation, 100);
    // Class right after the name: 24 + 8.
    expect([u32(node.bytes, 12), u32(node.bytes, 16), u32(node.bytes, 20), text(node.bytes, 32, 6)]).toEqual([32, 6, 8, "Cls"]);
    const full = keyInformation(key, KEY_INFORMATION_CLASS.KeyFullInformation, 100);
    expect([12, 16, 20, 24, 28, 32, 36, 40].map((o) => u32(full.bytes, o))).toEqual([44, 6, 1, 6, 0, 1, 20, 10]);
    const noClass = keyInformation(parent, KEY_INFORMATION_CLASS.KeyNodeInformation, 100);
    expect([u32(noClass.bytes, 12), u32(noClass.bytes, 16)]).toEqual([NO_CLASS_OFFSET, 0]);
    const name = keyInformation(key, KEY_INFORMATION_CLASS.KeyNameInformation, 200);
    expect(text(name.bytes, 4, u32(name.bytes, 0))).toBe("\\REGISTRY\\MACHINE\\SOFTWARE\\K\\Node");
    expect(keyInformation(key, KEY_INFORMATION_CLASS.KeyBasicInformation, 15).status).toBe(STATUS_BUFFER_TOO_SMALL);
  });
});
