// Driver package files: the INF-like data (firmware/drivers/*.json) the PnP manager binds
// drivers from, and the errors a bad file gets (file, JSON path, rule).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FirmwareError, Machine, PNP } from "../../src/index.js";
import { loadDriverPackageFile } from "../../src/pnp/inf.js";
import { boot } from "../../src/pnp/boot.js";
import { defaultDescription, kernelOf } from "../support/kernel-harness.js";

const root = join(import.meta.dirname, "../..");
const tmp = mkdtempSync(join(tmpdir(), "wdmsim-inf-"));

/** Writes a package file whose modules are given relative to the repository. */
function packageFile(name: string, doc: object): string {
  const file = join(tmp, `${name}.json`);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

const filterModule = join(root, "src/drivers/toaster/filter.ts");

async function errorOf(file: string): Promise<FirmwareError> {
  try {
    await loadDriverPackageFile(file);
  } catch (e) {
    if (e instanceof FirmwareError) return e;
    throw e;
  }
  throw new Error("the file loaded");
}

describe("driver package files", () => {
  it("firmware/drivers/toaster.json gives the bus, the function driver and four filters, class filters bound by class GUID", async () => {
    const f = await loadDriverPackageFile("toaster");
    expect(f.packages.map((p) => `${p.service}:${p.role}`)).toEqual([
      "busenum:function", "toaster:function", "devlower:lowerFilter", "devupper:upperFilter", "clslower:lowerFilter", "clsupper:upperFilter",
    ]);
    expect(f.packages[1].setupClass).toEqual({ name: "TOASTER", guid: "{b85b7c50-6a01-11d2-b841-00c04fad5171}" });
    expect(f.packages[5].classes).toEqual(["{b85b7c50-6a01-11d2-b841-00c04fad5171}"]);
    // One module serves the four filters.
    expect(f.packages[2].module).toBe(f.packages[5].module);
    expect(f.rootDevices).toEqual([{ deviceId: "ROOT\\SYSTEM", hardwareIds: ["root\\busenum"], compatibleIds: [], instanceId: "0000" }]);
  });

  it("a machine file's drivers are installed at boot", async () => {
    const d = defaultDescription();
    d.drivers = ["toaster"];
    const machine = await boot(Machine.fromDescription(d));
    const bus = [...PNP(kernelOf(machine)).allNodes()].find((n) => n.InstancePath === "ROOT\\SYSTEM\\0000");
    expect(bus?.ServiceName).toBe("busenum");
  });

  it("errors name the file, the JSON path and the rule", async () => {
    const base = { description: "test", classes: { C: "{11111111-2222-3333-4444-555555555555}" } };
    const cases: [string, object, string, RegExp][] = [
      ["bad-role", { ...base, drivers: [{ service: "a", module: filterModule, role: "middleFilter" }] }, "/drivers/0/role", /must be one of/],
      ["no-ids", { ...base, drivers: [{ service: "a", module: filterModule, role: "function" }] }, "/drivers/0/ids", /needs the IDs/],
      ["unknown-class", { ...base, drivers: [{ service: "a", module: filterModule, role: "function", ids: ["X"], class: "Nope" }] }, "/drivers/0/class", /no setup class "Nope"/],
      ["unknown-filter-class", { ...base, drivers: [{ service: "a", module: filterModule, role: "upperFilter", classes: ["Nope"] }] }, "/drivers/0/classes/0", /no setup class/],
      ["no-module", { ...base, drivers: [{ service: "a", module: "./nowhere.ts", role: "function", ids: ["X"] }] }, "/drivers/0/module", /no module at/],
      ["no-entry", { ...base, drivers: [{ service: "a", module: join(root, "src/drivers/toaster/public.ts"), role: "function", ids: ["X"] }] }, "/drivers/0/module", /does not export DriverEntry/],
      ["unknown-property", { ...base, drivers: [{ service: "a", module: filterModule, role: "function", ids: ["X"], extra: 1 }] }, "/drivers/0", /unknown property "extra"/],
    ];
    for (const [name, doc, path, rule] of cases) {
      const e = await errorOf(packageFile(name, doc));
      expect(e.file).toContain(`${name}.json`);
      expect(e.path).toBe(path);
      expect(e.rule).toMatch(rule);
    }
  });

  it("a name that is neither a file nor in firmware/drivers says so", async () => {
    const e = await errorOf("no-such-package");
    expect(e.rule).toContain("firmware/drivers/no-such-package.json");
  });
});
