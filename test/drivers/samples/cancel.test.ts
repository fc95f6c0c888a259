// The WDM cancel sample: the test program installs the cancel driver, reader threads read
// it with ReadFileEx and alertable waits while the driver's polling thread serves the
// cancel-safe queue; 'q' lets the readers finish, any other key closes the device with
// reads outstanding so the driver's cleanup cancels them. Then the driver is removed.
import { describe, expect, it } from "vitest";
import { KD, KeDelayExecutionThread, KPROCESSOR_MODE, Machine } from "../../../src/index.js";
import { CloseServiceHandle, OpenSCManager, OpenService, QueryServiceStatus, SC_MANAGER_CONNECT, SERVICE_QUERY_STATUS } from "../../../src/io/usermode.js";
import { boot } from "../../../src/pnp/boot.js";
import { CM } from "../../../src/cm/registry.js";
import { IO } from "../../../src/io/manager.js";
import { ConsoleOutput } from "../../../src/drivers/samples/common/crt.js";
import { ConsoleInput } from "../../../src/drivers/samples/cancel/console-input.js";
import { DRIVER_NAME, main } from "../../../src/drivers/samples/cancel/testapp.js";
import { DRIVER_FUNC_REMOVE, ManageDriver } from "../../../src/drivers/samples/common/install.js";
import { defaultDescription, kernelOf } from "../../support/kernel-harness.js";

const FILTER = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Debug Print Filter";
const SERVICE_KEY = "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services\\cancel";

async function machine(debugOutput: boolean): Promise<Machine> {
  const d = defaultDescription();
  if (debugOutput) d.registry = { [FILTER]: { DEFAULT: 15 } };
  return boot(Machine.fromDescription(d));
}

/** Runs testapp; its lines, and the process's exit code. */
async function runApp(m: Machine, argv: string[], input: ConsoleInput): Promise<{ lines: string[]; ExitCode: number }> {
  const out = new ConsoleOutput();
  const { ExitCode } = await m.runProcess("testapp", () => main(argv, out, input));
  return { lines: out.lines(), ExitCode };
}

function debugLines(m: Machine): string[] {
  const text = KD(kernelOf(m)).output.entries().map((e) => e.text).join("");
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
}

const READ = /^Thread \d+ read: 4 bytes$/;

describe("cancel sample (testapp and the cancel driver)", () => {
  it("'q': the readers' reads complete with 4 bytes, each thread exits, the driver is removed", async () => {
    const m = await machine(true);
    const { lines, ExitCode } = await runApp(m, ["testapp", "2"], new ConsoleInput("q\n", 3000));
    // The program ends with ExitProcess(1).
    expect(ExitCode).toBe(1);
    expect(lines[0]).toBe("Number of threads : 2");
    expect(lines[1]).toMatch(/^Enter 'q' to exit gracefully:Thread \d+ read: 4 bytes$/);
    const rest = lines.slice(2);
    expect(rest.filter((l) => /^Exiting thread \d+ $/.test(l))).toHaveLength(2);
    expect(rest.every((l) => READ.test(l) || /^Exiting thread \d+ $/.test(l))).toBe(true);
    const debug = debugLines(m);
    expect(debug.slice(0, 6)).toEqual([
      "CANCEL.SYS: DriverEntry Enter ", expect.stringMatching(/^DeviceObject [0-9A-F]{16}$/), "CANCEL.SYS: DriverEntry Exit = 0",
      "CANCEL.SYS: CsampCreateClose Enter", "CANCEL.SYS: IRP_MJ_CREATE", "CANCEL.SYS:  CsampCreateClose Exit = 0",
    ]);
    expect(debug.slice(-7)).toEqual([
      "CANCEL.SYS: CsampCleanupIrp enter", "CANCEL.SYS: CsampCleanupIrp exit",
      "CANCEL.SYS: CsampCreateClose Enter", "CANCEL.SYS: IRP_MJ_CLOSE", "CANCEL.SYS:  CsampCreateClose Exit = 0",
      "CANCEL.SYS: CsampUnload Enter", "CANCEL.SYS: CsampUnload Exit",
    ]);
    expect(CM(kernelOf(m)).find(SERVICE_KEY)).toBeUndefined();
    expect(IO(kernelOf(m)).drivers.has("cancel")).toBe(false);
  });

  it("another key: closing the device cancels the queued reads (0 bytes); the next read fails with ERROR_INVALID_HANDLE and ends the process", async () => {
    const m = await machine(true);
    const out = new ConsoleOutput();
    const { ExitCode } = await m.runProcess("testapp", () => main(["testapp", "2"], out, new ConsoleInput("\n", 1200)));
    const lines = out.lines();
    expect(lines[0]).toBe("Number of threads : 2");
    expect(lines).toContainEqual(expect.stringMatching(/^Thread \d+ read: 0 bytes$/));
    expect(debugLines(m)).toContain("CANCEL.SYS: Cleanup cancelled irp");
    // The first reader whose read fails ends the process with ExitProcess(1): the other
    // reader and main (on its way to removing the driver) go with it.
    expect(lines.filter((l) => l === "Error: Read Failed: 6")).toHaveLength(1);
    expect(lines[lines.length - 1]).toBe("Error: Read Failed: 6");
    expect(ExitCode).toBe(1);
    // The service the program installed is still there; removing it as the program would have unloads the driver.
    const service = await m.runProgram("sc", async () => {
      const scm = OpenSCManager(null, null, SC_MANAGER_CONNECT);
      const h = OpenService(scm, "cancel", SERVICE_QUERY_STATUS);
      const state = h === 0 ? 0 : QueryServiceStatus(h).ServiceStatus!.dwCurrentState;
      if (h !== 0) CloseServiceHandle(h);
      CloseServiceHandle(scm);
      return state;
    });
    expect(service).not.toBe(0);
    expect(CM(kernelOf(m)).find(SERVICE_KEY)).toBeDefined();
    expect(await m.runProgram("remove", () => ManageDriver(DRIVER_NAME, "", DRIVER_FUNC_REMOVE))).toBe(true);
    await m.exec(() => KeDelayExecutionThread(KPROCESSOR_MODE.KernelMode, false, -10_000_000));
    expect(CM(kernelOf(m)).find(SERVICE_KEY)).toBeUndefined();
    expect(IO(kernelOf(m)).drivers.has("cancel")).toBe(false);
  });

  it("argument errors: a letter prints the usage, more than MAXTHREADS is refused", async () => {
    const m = await machine(false);
    // main returns: exit code 0.
    expect(await runApp(m, ["testapp", "x"], new ConsoleInput("", 0))).toEqual({ lines: ["Usage:testapp <NumberOfThreads>", ""], ExitCode: 0 });
    expect(await runApp(m, ["testapp", "11"], new ConsoleInput("", 0))).toEqual({ lines: ["Invalid option:Only a maximun of 10 threads allowed."], ExitCode: 0 });
  });
});
