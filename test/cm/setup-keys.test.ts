// What setup leaves in the registry: service keys, device instance keys under Enum with
// their hardware keys, software keys under the setup class, a machine file's presets and
// a package's AddReg; and how bad registry data in a file is refused.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FirmwareError, inspect, Machine, PNP } from "../../src/index.js";
import { boot } from "../../src/pnp/boot.js";
import { CM } from "../../src/cm/registry.js";
import { loadDriverPackageFile } from "../../src/pnp/inf.js";
import { REG_BINARY, REG_EXPAND_SZ, REG_QWORD } from "../../src/cm/value-types.js";
import { defaultDescription, kernelOf } from "../support/kernel-harness.js";

const root = join(import.meta.dirname, "../..");
const tmp = mkdtempSync(join(tmpdir(), "wdmsim-reg-"));
const CCS = "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet";
const SYSTEM_CLASS = "{4D36E97D-E325-11CE-BFC1-08002BE10318}";

async function bootToaster(extra: Partial<ReturnType<typeof defaultDescription>> = {}, driverFiles: string[] = []) {
  const d = { ...defaultDescription(), ...extra };
  d.drivers = ["toaster"];
  const machine = await boot(Machine.fromDescription(d), { driverFiles });
  const k = kernelOf(machine);
  return { machine, k, reg: CM(k) };
}

describe("the registry setup leaves", () => {
  it("a demand-start kernel-driver service key per package", async () => {
    const { reg } = await bootToaster();
    const svc = `${CCS}\\Services\\toaster`;
    expect(reg.get(svc, "Type")).toBe(1);
    expect(reg.get(svc, "Start")).toBe(3);
    expect(reg.get(svc, "ErrorControl")).toBe(1);
    expect(reg.get(svc, "ImagePath")).toBe("\\SystemRoot\\System32\\drivers\\toaster.sys");
    expect(reg.find(svc)!.value("ImagePath")!.type).toBe(REG_EXPAND_SZ);
    expect(reg.get(svc, "DisplayName")).toBe("Toaster function driver");
  });

  it("an Enum key per device, with its hardware key, and a software key under its class", async () => {
    const { k, reg } = await bootToaster();
    const node = [...PNP(k).allNodes()].find((n) => n.ServiceName === "busenum")!;
    const key = `${CCS}\\Enum\\ROOT\\SYSTEM\\0000`;
    expect(node.InstancePath).toBe("ROOT\\SYSTEM\\0000");
    expect(reg.get(key, "HardwareID")).toEqual(["root\\busenum"]);
    expect(reg.get(key, "Service")).toBe("busenum");
    expect(reg.get(key, "Class")).toBe("System");
    expect(reg.get(key, "ClassGUID")).toBe(SYSTEM_CLASS);
    expect(reg.get(key, "Driver")).toBe(`${SYSTEM_CLASS}\\0000`);
    expect(reg.find(`${key}\\Device Parameters`)).toBeDefined();
    expect(reg.get(`${CCS}\\Control\\Class\\${SYSTEM_CLASS}`, "Class")).toBe("System");
    expect(reg.get(`${CCS}\\Control\\Class\\${SYSTEM_CLASS}\\0000`, "DriverDesc")).toBe("Toaster bus enumerator");
  });

  it("the machine file's presets, over its driverParameters", async () => {
    const { reg } = await bootToaster({
      driverParameters: { toaster: { Level: 1, Name: "n" } },
      registry: {
        "HKLM\\SYSTEM\\CurrentControlSet\\Services\\toaster\\Parameters": { Level: 2, Tags: ["a", "b"], Blob: { type: "REG_BINARY", data: "01 02 ff" } },
        "HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor": { Big: { type: "REG_QWORD", data: 2 ** 40 } },
      },
    });
    const p = `${CCS}\\Services\\toaster\\Parameters`;
    expect(reg.get(p, "Level")).toBe(2);
    expect(reg.get(p, "Name")).toBe("n");
    expect(reg.get(p, "Tags")).toEqual(["a", "b"]);
    expect(reg.find(p)!.value("Blob")).toMatchObject({ type: REG_BINARY, data: new Uint8Array([1, 2, 0xFF]) });
    expect(reg.find("\\REGISTRY\\MACHINE\\SOFTWARE\\Vendor")!.value("big")!.type).toBe(REG_QWORD);
  });

  it("a package's AddReg below its service, hardware and software keys", async () => {
    const file = join(tmp, "addreg.json");
    writeFileSync(file, JSON.stringify({
      description: "the toaster bus with AddReg", classes: { System: SYSTEM_CLASS },
      drivers: [{
        service: "busenum", description: "Toaster bus (AddReg)", module: join(root, "src/drivers/toaster/bus.ts"), role: "function",
        ids: ["root\\busenum"], class: "System",
        addReg: { service: { Parameters: { DebugLevel: 3 } }, hardware: { "": { Exclusive: 1 } }, software: { Settings: { Color: "red" } } },
      }],
    }));
    const { k, reg } = await bootToaster({}, [file]);
    expect([...PNP(k).allNodes()].some((n) => n.ServiceName === "busenum")).toBe(true);
    expect(reg.get(`${CCS}\\Services\\busenum\\Parameters`, "DebugLevel")).toBe(3);
    expect(reg.get(`${CCS}\\Enum\\ROOT\\SYSTEM\\0000\\Device Parameters`, "Exclusive")).toBe(1);
    expect(reg.get(`${CCS}\\Control\\Class\\${SYSTEM_CLASS}\\0000\\Settings`, "Color")).toBe("red");
  });
});

describe("!reg querykey", () => {
  it("prints the key through CurrentControlSet, its subkeys and its values", async () => {
    const { machine } = await bootToaster({ driverParameters: { busenum: { Level: 7 } } });
    const out = inspect(machine, "!reg q \\Registry\\Machine\\System\\CurrentControlSet\\Services\\busenum");
    expect(out).toMatch(/^Found KCB = ffff8f00[0-9a-f]{8} :: \\REGISTRY\\MACHINE\\SYSTEM\\CONTROLSET001\\SERVICES\\BUSENUM$/m);
    expect(out).toMatch(/^\[SubKeyAddr\]\s+\[SubKeyName\]\n[0-9a-f]{16}\s+Parameters$/m);
    expect(out).toMatch(/^REG_DWORD\s+Start\s+3$/m);
    expect(out).toMatch(/^REG_EXPAND_SZ\s+ImagePath\s+\\SystemRoot\\System32\\drivers\\busenum\.sys$/m);
    expect(inspect(machine, "!reg q \\REGISTRY\\MACHINE\\SOFTWARE\\Nope")).toContain("not found");
    expect(() => inspect(machine, "!reg q HKLM\\SOFTWARE")).toThrow(/full key path starting with \\REGISTRY/);
  });
});

describe("registry data in files is checked", () => {
  it("a machine file's bad key path or data names the JSON path", async () => {
    const refuse = async (registry: object, path: string, rule: RegExp) => {
      const d = { ...defaultDescription(), registry } as ReturnType<typeof defaultDescription>;
      const e = await boot(Machine.fromDescription(d)).then(() => null, (x) => x);
      expect(e).toBeInstanceOf(FirmwareError);
      expect((e as FirmwareError).message).toContain(path);
      expect((e as FirmwareError).message).toMatch(rule);
    };
    await refuse({ "HKCU\\Software": { A: 1 } }, "/registry/HKCU\\Software", /full key path/);
    await refuse({ "HKLM\\SOFTWARE\\X": { A: { type: "REG_BINARY", data: "0g" } } }, "/registry/HKLM\\SOFTWARE\\X/A/data", /hex string/);
    await refuse({ "HKLM\\SOFTWARE\\X": { A: { type: "REG_DWORD", data: "three" } } }, "/registry/HKLM\\SOFTWARE\\X/A/data", /REG_DWORD data cannot be string/);
  });

  it("a package's AddReg with an absolute path is refused at load", async () => {
    const file = join(tmp, "bad-addreg.json");
    writeFileSync(file, JSON.stringify({
      description: "bad", drivers: [{ service: "f", module: join(root, "src/drivers/toaster/filter.ts"), role: "upperFilter", ids: ["X"], addReg: { service: { "\\Registry\\Machine": { A: 1 } } } }],
    }));
    const e = await loadDriverPackageFile(file).then(() => null, (x) => x);
    expect(e).toBeInstanceOf(FirmwareError);
    expect((e as FirmwareError).message).toContain("/drivers/0/addReg/service/\\Registry\\Machine");
  });
});
