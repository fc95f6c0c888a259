// The wdmsim command runs compiled JavaScript; a driver package that names a user's own
// TypeScript module still loads it (compiled on import), sharing the command's kernel.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const tmp = mkdtempSync(join(tmpdir(), "wdmsim-user-driver-"));

describe("a user's TypeScript driver under the wdmsim command", () => {
  it("is imported, its DriverEntry, AddDevice and PnP dispatch run, and the debugger sees its driver object", () => {
    const api = pathToFileURL(join(root, "dist/src/index.js")).href;
    writeFileSync(join(tmp, "package.json"), JSON.stringify({ type: "module" }));
    writeFileSync(join(tmp, "hello.ts"), `import {
  IoCreateDevice, IoAttachDeviceToDeviceStack, IoCallDriver, IoDetachDevice, IoDeleteDevice, IoGetCurrentIrpStackLocation, IoSkipCurrentIrpStackLocation,
  IRP_MJ_PNP, IRP_MN_REMOVE_DEVICE, STATUS_SUCCESS, FILE_DEVICE_UNKNOWN, DO_DEVICE_INITIALIZING, type DRIVER_OBJECT, type DEVICE_OBJECT, type IRP,
} from ${JSON.stringify(api)};
interface HelloExtension { lower: DEVICE_OBJECT | null }
export function DriverEntry(DriverObject: DRIVER_OBJECT): number {
  DriverObject.DriverExtension.AddDevice = function HelloAddDevice(driver: DRIVER_OBJECT, pdo: DEVICE_OBJECT): number {
    const extension: HelloExtension = { lower: null };
    const { DeviceObject } = IoCreateDevice(driver, extension, null, FILE_DEVICE_UNKNOWN, 0, false);
    extension.lower = IoAttachDeviceToDeviceStack(DeviceObject!, pdo);
    DeviceObject!.Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
  };
  DriverObject.MajorFunction[IRP_MJ_PNP] = function HelloDispatchPnp(device: DEVICE_OBJECT, irp: IRP) {
    const lower = (device.DeviceExtension as HelloExtension).lower!;
    const remove = IoGetCurrentIrpStackLocation(irp).MinorFunction === IRP_MN_REMOVE_DEVICE;
    if (remove) irp.IoStatus.Status = STATUS_SUCCESS;
    IoSkipCurrentIrpStackLocation(irp);
    const status = IoCallDriver(lower, irp);
    if (remove) {
      IoDetachDevice(lower);
      IoDeleteDevice(device);
    }
    return status;
  };
  return STATUS_SUCCESS;
}
`);
    writeFileSync(join(tmp, "hello.json"), JSON.stringify({
      description: "one root-enumerated device and its driver",
      drivers: [{ service: "hello", module: "./hello.ts", role: "function", ids: ["root\\hello"] }],
      rootDevices: [{ deviceId: "ROOT\\HELLO", hardwareIds: ["root\\hello"], instanceId: "0000" }],
    }));
    const machine = JSON.parse(readFileSync(join(root, "firmware/machines/default.json"), "utf8"));
    machine.drivers = [join(tmp, "hello.json")];
    writeFileSync(join(tmp, "machine.json"), JSON.stringify(machine));
    const run = spawnSync(process.execPath, [join(root, "bin/wdmsim.js"), "run", "--machine", join(tmp, "machine.json"), "--inspect", "!drvobj hello"], { cwd: root, encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("kd> !drvobj hello");
    expect(run.stdout).toMatch(/Driver object \(.*\) is for:\n \\Driver\\hello\n/);
  }, 60_000);

  it("a TypeScript module that would load as CommonJS is refused before the run, naming the file, the JSON path and what to do", () => {
    const dir = mkdtempSync(join(tmpdir(), "wdmsim-cjs-driver-"));
    writeFileSync(join(dir, "plain.ts"), "export function DriverEntry(): number { return 0; }\n");
    writeFileSync(join(dir, "plain.json"), JSON.stringify({ description: "a driver in CommonJS TypeScript", drivers: [{ service: "plain", module: "./plain.ts", role: "function", ids: ["root\\plain"] }] }));
    const machine = JSON.parse(readFileSync(join(root, "firmware/machines/default.json"), "utf8"));
    machine.drivers = [join(dir, "plain.json")];
    writeFileSync(join(dir, "machine.json"), JSON.stringify(machine));
    const run = spawnSync(process.execPath, [join(root, "bin/wdmsim.js"), "run", "--machine", join(dir, "machine.json")], { cwd: root, encoding: "utf8" });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("plain.json: /drivers/0/module:");
    expect(run.stderr).toContain('name it .mts, or put it in a package whose package.json has "type": "module"');
  }, 60_000);

  it("a module with a syntax error, one that throws as it is imported, or none at all is refused before the run: exit 2, naming the file and the error", () => {
    const dir = mkdtempSync(join(tmpdir(), "wdmsim-bad-driver-"));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    writeFileSync(join(dir, "syntax.ts"), "export function DriverEntry( {\n");
    writeFileSync(join(dir, "throws.ts"), 'throw new Error("boom at import");\nexport function DriverEntry(): number { return 0; }\n');
    const cases: [string, RegExp][] = [
      ["syntax.ts", /syntax\.ts cannot be imported: Transform failed with 1 error:\n.*syntax\.ts:2:0: ERROR: Expected identifier but found end of file/],
      ["throws.ts", /throws\.ts cannot be imported: boom at import/],
      ["missing.ts", /\/drivers\/0\/module: no module at .*missing\.ts/],
    ];
    for (const [module, message] of cases) {
      const pkg = join(dir, `${module}.json`);
      writeFileSync(pkg, JSON.stringify({ description: "a broken driver", drivers: [{ service: "broken", module: `./${module}`, role: "legacy" }] }));
      const machine = JSON.parse(readFileSync(join(root, "firmware/machines/default.json"), "utf8"));
      machine.drivers = [pkg];
      writeFileSync(join(dir, "machine.json"), JSON.stringify(machine));
      const run = spawnSync(process.execPath, [join(root, "bin/wdmsim.js"), "run", "--machine", join(dir, "machine.json")], { cwd: root, encoding: "utf8" });
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe("");
    }
  }, 60_000);

  it("an output file that cannot be written is refused before the run: exit 2, naming the flag, the file and the error", () => {
    const run = spawnSync(process.execPath, [join(root, "bin/wdmsim.js"), "run", "--trace", "/nonexistent-dir/trace.json"], { cwd: root, encoding: "utf8" });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("wdmsim: --trace /nonexistent-dir/trace.json: cannot write the file: ENOENT: no such file or directory");
    expect(run.stdout).toBe("");
    const vcd = spawnSync(process.execPath, [join(root, "bin/wdmsim.js"), "run", "--vcd", "/nonexistent-dir/run.vcd"], { cwd: root, encoding: "utf8" });
    expect(vcd.status).toBe(2);
    expect(vcd.stderr).toContain("wdmsim: --vcd /nonexistent-dir/run.vcd: cannot write the file: ENOENT");
  });

  it("--vcd writes the waveforms and says where", () => {
    const file = join(tmp, "run.vcd");
    const run = spawnSync(process.execPath, [join(root, "bin/wdmsim.js"), "run", "--vcd", file], { cwd: root, encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Waveforms written to ${file} (open them in GTKWave or Surfer)`);
    expect(readFileSync(file, "utf8")).toMatch(/^\$version wdmsim \$end\n\$comment machine default \$end\n\$timescale 1ps \$end\n/);
  });
});
