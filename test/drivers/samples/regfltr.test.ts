// The registry filter sample (general/registry/regfltr): regctrl loads RegFltr through the
// Service Control Manager, runs the kernel-mode samples (each one's result is printed) and
// its user-mode samples, and unloads the driver; the driver's debug output tells what each
// callback did.
import { describe, expect, it } from "vitest";
import { KD, Machine } from "../../../src/index.js";
import { boot } from "../../../src/pnp/boot.js";
import { CM } from "../../../src/cm/registry.js";
import { IO } from "../../../src/io/manager.js";
import { ConsoleOutput } from "../../../src/drivers/samples/common/crt.js";
import { wmain } from "../../../src/drivers/samples/regfltr/exe/regctrl.js";
import { DRIVER_FILE_NAME, UtilLoadDriver } from "../../../src/drivers/samples/regfltr/exe/util.js";
import { DRIVER_NAME, ROOT_KEY_ABS_PATH, WIN32_DEVICE_NAME } from "../../../src/drivers/samples/regfltr/common.js";
import { globals } from "../../../src/drivers/samples/regfltr/sys/regfltr-header.js";
import { BugCheckSample } from "../../../src/drivers/samples/regfltr/sys/version.js";
import { InitializeObjectAttributes, OBJECT_ATTRIBUTES, OBJ_CASE_INSENSITIVE, OBJ_KERNEL_HANDLE, STATUS_ACCESS_VIOLATION } from "../../../src/index.js";
import { KEY_ALL_ACCESS, ZwCreateKey } from "../../../src/cm/zw.js";
import { MM } from "../../../src/mm/manager.js";
import { bugCheckOf, defaultDescription, expectBugCheck, kernelOf } from "../../support/kernel-harness.js";

const FILTER = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Debug Print Filter";
const SERVICE_KEY = "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services\\RegFltr";

/** The default machine; with `debugOutput`, its Debug Print Filter shows IHVDRIVER's INFO messages (Kd_IHVDRIVER_Mask 0x8). */
async function machine(debugOutput: boolean): Promise<Machine> {
  const d = defaultDescription();
  if (debugOutput) d.registry = { [FILTER]: { IHVDRIVER: 8 } };
  return boot(Machine.fromDescription(d));
}

/** Runs regctrl; returns the lines it printed. */
async function runRegctrl(m: Machine): Promise<string[]> {
  const out = new ConsoleOutput();
  await m.runProgram("regctrl", () => wmain(["regctrl"], out));
  return out.lines();
}

/** The debugger's text as lines. */
function debugLines(m: Machine): string[] {
  const text = KD(kernelOf(m)).output.entries().map((e) => e.text).join("");
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
}

/** What regctrl prints on Windows when every sample succeeds. */
const EXPECTED = [
  "",
  "Starting Callback samples...",
  "",
  "To get more detailed output from the sample, do either one of these steps:",
  "",
  "\tA. In kernel debugger: ",
  "\tkd> ed nt!Kd_IHVDRIVER_Mask 0x8",
  "",
  "\tB. Run this script and reboot:",
  "\treg add \"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Debug Print Filter\" /v IHVDRIVER /t REG_DWORD /d 0x8",
  "",
  "Callback version is 1.1",
  "",
  "=== Results of KernelMode Samples ===",
  "\tPre-Notification Block Sample: Succeeded",
  "\tPre-Notification Bypass Sample: Succeeded",
  "\tPost-Notification Override Error Sample: Succeeded",
  "\tPost-Notification Override Success Sample: Succeeded",
  "\tTransaction Replay Sample: Succeeded",
  "\tTransaction Enlist Sample: Succeeded",
  "\tMultiple Altitude Block During Pre Sample: Succeeded",
  "\tMultiple Altitude Internal Invocation Sample: Succeeded",
  "\tSet Call Context Sample: Succeeded",
  "\tSet Object Context Sample: Succeeded",
  "\tCreate Open V1 Sample: Succeeded",
  "",
  "=== Pre-Notification Block Sample ====",
  "Pre-Notification Block Sample succeeded.",
  "",
  "=== Pre-Notification Bypass Sample ====",
  "Pre-Notification Bypass Sample succeeded.",
  "",
  "=== Post-Notification Override Success Sample ====",
  "Post-Notification Override Success Sample succeeded.",
  "",
  "=== Post-Notification Override Error Sample ====",
  "Post-Notification Override Error Sample succeeded.",
  "",
  "=== Capture Sample ====",
  "Capture Sample succeeded.",
];

describe("the regfltr sample", () => {
  it("regctrl prints every kernel-mode sample Succeeded and every user-mode sample succeeded, then the driver is unloaded and its service gone", async () => {
    const m = await machine(false);
    const lines = await runRegctrl(m);
    expect(lines).toEqual(EXPECTED);
    const k = kernelOf(m);
    expect(IO(k).drivers.has("RegFltr")).toBe(false);
    expect(CM(k).find(SERVICE_KEY)).toBeUndefined();
    expect(CM(k).find("\\REGISTRY\\MACHINE\\Software\\_RegFltrRoot")).toBeUndefined();
  });

  it("the driver's debug output shows the callbacks at work", async () => {
    const m = await machine(true);
    await runRegctrl(m);
    const debug = debugLines(m);
    expect(debug).toContain("RegFltr: \tCallback: Create key _RegFltrKey blocked.");
    expect(debug).toContain("RegFltr: \tCallback: Set value _RegFltrValue bypassed.");
    expect(debug).toContain("RegFltr: \tCallback: Opening key _RegFltrKey overrided from error to success.");
    expect(debug).toContain("RegFltr: \tRMCallback: NotifyClass-TRANSACTION_NOTIFY_COMMIT.");
    expect(debug).toContain("RegFltr: \tCallback: Create key _RegFltrKey replayed in same transaction context.");
    expect(debug).toContain("RegFltr: Kernel Mode Samples End");
    expect(debug.filter((l) => l.includes("FAILED"))).toEqual([]);
    // BugCheckSample is not one of the samples the driver runs.
    expect(debug).not.toContain("RegFltr: === Bugcheck Sample ====");
  });

  it("a second run finds nothing left by the first (UtilLoadDriver removes a stale service first)", async () => {
    const m = await machine(false);
    await runRegctrl(m);
    expect(await runRegctrl(m)).toEqual(EXPECTED);
  });

  it("BugCheckSample: the callback's NULL write is an exception the registry does not swallow: 0x135 REGISTRY_FILTER_DRIVER_EXCEPTION", async () => {
    const m = await machine(false);
    const loaded = await m.runProgram("loader", () => UtilLoadDriver(DRIVER_NAME, DRIVER_FILE_NAME, WIN32_DEVICE_NAME));
    expect(loaded.ok).toBe(true);
    const bc = await bugCheckOf(m.exec(async () => {
      const oa = new OBJECT_ATTRIBUTES();
      InitializeObjectAttributes(oa, ROOT_KEY_ABS_PATH, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, null, null);
      globals.g_RootKey = ZwCreateKey(KEY_ALL_ACCESS, oa, 0, null, 0).KeyHandle;
      await BugCheckSample();
    }));
    expectBugCheck(bc, 0x135, STATUS_ACCESS_VIOLATION, 0, MM(kernelOf(m)).codeAddress("RegFltr", "Callback"));
    expect(bc.context.driver).toBe("RegFltr");
  });
});
