/**
 * The WDM event sample (general/event): event.sys and EventTest, run as on Windows.
 */
import { describe, expect, it } from "vitest";
import { CM } from "../../../src/cm/registry.js";
import { serviceKeyPath } from "../../../src/cm/service-key.js";
import { ConsoleOutput } from "../../../src/drivers/samples/common/crt.js";
import { ConsoleInput, sscanf_s } from "../../../src/drivers/samples/common/console-input.js";
import { main } from "../../../src/drivers/samples/event/eventtest.js";
import { DRIVER_NAME, EVENT_BASED, IOCTL_REGISTER_EVENT, IRP_BASED, SIZEOF_REGISTER_EVENT } from "../../../src/drivers/samples/event/public.js";
import { IO } from "../../../src/io/manager.js";
import { KD } from "../../../src/ke/debug-print.js";
import { STATUS_BREAKPOINT } from "../../../src/ke/ntstatus.js";
import { Machine } from "../../../src/machine/machine.js";
import { boot } from "../../../src/pnp/boot.js";
import { bugCheckOf, defaultDescription, expectBugCheck, kernelOf } from "../../support/kernel-harness.js";

const FILTER = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Debug Print Filter";
const KMODE_EXCEPTION_NOT_HANDLED = 0x1E;
/** Picoseconds in a second. */
const PS_PER_SECOND = 1e12;

/** The default machine with DbgPrint let through; `debugger`: a kernel debugger attached. */
async function machine(debugger_: boolean): Promise<Machine> {
  const d = defaultDescription();
  d.registry = { [FILTER]: { DEFAULT: 15 } };
  const m = await boot(Machine.fromDescription(d));
  KD(kernelOf(m)).attached = debugger_;
  return m;
}

/** The exit code of the last EventTest run. */
let lastExitCode = -1;

/** Runs EventTest with `args`; a key is pressed `keyAfterSeconds` after it starts. Its lines (its exit code goes to lastExitCode). */
async function runEventTest(m: Machine, args: (string | null)[], keyAfterSeconds = Infinity): Promise<string[]> {
  const out = new ConsoleOutput();
  const start = kernelOf(m).cpu.time;
  lastExitCode = (await m.runProcess("event", () => main(["event", ...args], out, new ConsoleInput(start + keyAfterSeconds * PS_PER_SECOND)))).ExitCode;
  return out.lines();
}

/** The debugger's text as lines. */
function debugLines(m: Machine): string[] {
  const text = KD(kernelOf(m)).output.entries().map((e) => e.text).join("");
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
}

/** The driver is unloaded and its service deleted. */
function expectRemoved(m: Machine): void {
  const k = kernelOf(m);
  expect(IO(k).drivers.has(DRIVER_NAME)).toBe(false);
  expect(IO(k).resolve("\\Device\\Event_Sample")).toBeUndefined();
  expect(IO(k).resolve("\\DosDevices\\Event_Sample")).toBeUndefined();
  expect(CM(k).find(serviceKeyPath(DRIVER_NAME))).toBeUndefined();
}

describe("the event sample's public header", () => {
  it("IOCTL_REGISTER_EVENT is CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS); REGISTER_EVENT is 24 bytes", () => {
    expect(IOCTL_REGISTER_EVENT).toBe(0x222000);
    expect(SIZEOF_REGISTER_EVENT).toBe(24);
    expect([IRP_BASED, EVENT_BASED]).toEqual([0, 1]);
    expect(DRIVER_NAME).toBe("event");
  });
});

describe("sscanf_s", () => {
  it("converts one %f or %d field, 0 fields for text that is not a number, -1 for an empty buffer", () => {
    expect(sscanf_s("2.5", "%f")).toEqual({ fields: 1, value: 2.5 });
    expect(sscanf_s(" 1", "%d")).toEqual({ fields: 1, value: 1 });
    expect(sscanf_s("x", "%d").fields).toBe(0);
    expect(sscanf_s("", "%f").fields).toBe(-1);
  });
});

describe("EventTest and event.sys", () => {
  it("event based: the driver signals the app's event from its timer DPC until a key is pressed, then is removed", async () => {
    const m = await machine(true);
    const lines = await runEventTest(m, ["1", "1"], 2.5);
    expect(lines[0]).toMatch(/^Event HANDLE = [0-9A-F]{16}$/);
    expect(lines.slice(1)).toEqual([
      "Press any key to exit.",
      ...Array.from({ length: 3 }, () => ["Waiting for Event...", "Event signalled.", ""]).flat(),
    ]);
    expectRemoved(m);
    const debug = debugLines(m);
    expect(debug).toContain("Break instruction exception - code 80000003 (first chance)");
    expect(debug.filter((l) => l === "EVENT.SYS: \tRegisterEventBasedNotification")).toHaveLength(3);
    expect(debug.filter((l) => l === "EVENT.SYS: ==> CustomTimerDPC ")).toHaveLength(3);
    expect(debug).toContain("EVENT.SYS: ==>Unload");
  });

  it("IRP based: the driver completes the pending IOCTL from its timer DPC until a key is pressed", async () => {
    const m = await machine(true);
    const lines = await runEventTest(m, ["1", "0"], 1.5);
    expect(lines).toEqual([
      "Press any key to exit.",
      ...Array.from({ length: 2 }, () => ["Event occurred.", "", "", "Registering event again....", ""]).flat(),
    ]);
    expectRemoved(m);
    expect(debugLines(m).filter((l) => l === "EVENT.SYS: \tRegisterIrpBasedNotification")).toHaveLength(2);
  });

  it("prints the usage without two arguments, and for an unknown type (after installing, then removes the driver)", async () => {
    const m = await machine(true);
    const usage = ["event <delay> <0/1>", "\twhere <delay> = time to delay the event signal in seconds.", "\t 0 for IRP based and 1 for event based notification."];
    // Too few arguments: exit(1) before anything is opened.
    expect(await runEventTest(m, ["1"])).toEqual(usage);
    expect(lastExitCode).toBe(1);
    expect(await runEventTest(m, ["1", "7"])).toEqual(usage);
    expect(lastExitCode).toBe(0);
    expectRemoved(m);
  });

  it("without a kernel debugger, DriverEntry's DbgBreakPoint is 0x1E KMODE_EXCEPTION_NOT_HANDLED with STATUS_BREAKPOINT", async () => {
    const m = await machine(false);
    const bc = await bugCheckOf(runEventTest(m, ["1", "1"], 0));
    expectBugCheck(bc, KMODE_EXCEPTION_NOT_HANDLED, STATUS_BREAKPOINT);
  });
});
