// The WDM IOCTL sample: IOCTLAPP installs SIOCTL through the Service Control Manager,
// sends the four transfer types and removes it again; the driver's checked-build debug
// output shows how the I/O manager described each request's buffers.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CloseHandle, CreateFile, DeviceIoControl, DISPATCH_LEVEL, ERROR_FILE_NOT_FOUND, ERROR_INVALID_FUNCTION, ERROR_INVALID_PARAMETER, ERROR_NOACCESS,
  ERROR_SERVICE_DOES_NOT_EXIST, ERROR_SERVICE_MARKED_FOR_DELETE, ERROR_SERVICE_NOT_ACTIVE, GENERIC_READ, GENERIC_WRITE, GetLastError, INVALID_HANDLE_VALUE, KD, Machine, ansiLiteral, readAnsi, OPEN_EXISTING, STATUS_ASSERTION_FAILURE, VirtualAlloc,
} from "../../../src/index.js";
import { boot } from "../../../src/pnp/boot.js";
import { CM } from "../../../src/cm/registry.js";
import { IO } from "../../../src/io/manager.js";
import {
  attachConsole, ConsoleOutput, memset, printf, S_OK, strlen, StringCbCopy, STRSAFE_E_INSUFFICIENT_BUFFER, STRSAFE_E_INVALID_PARAMETER,
} from "../../../src/drivers/samples/common/crt.js";
import { ManageDriver, programDirectory, SetupDriverName } from "../../../src/drivers/samples/common/install.js";
import { PrintChars } from "../../../src/drivers/samples/ioctl/sioctl.js";
import {
  DRIVER_FUNC_INSTALL, DRIVER_FUNC_REMOVE, DRIVER_NAME, IOCTL_SIOCTL_METHOD_BUFFERED, IOCTL_SIOCTL_METHOD_IN_DIRECT, IOCTL_SIOCTL_METHOD_NEITHER,
  IOCTL_SIOCTL_METHOD_OUT_DIRECT, SIOCTL_TYPE,
} from "../../../src/drivers/samples/ioctl/sioctl-public.js";
import { DRIVER_MODULE, main } from "../../../src/drivers/samples/ioctl/testapp.js";
import { asDriver, bugCheckOf, defaultDescription, expectBugCheck, kernelOf } from "../../support/kernel-harness.js";

/** Where IOCTLAPP runs from (its current directory). */
const IOCTLAPP_DIRECTORY = programDirectory(new URL("../../../src/drivers/samples/ioctl/testapp.ts", import.meta.url).href);

const FILTER = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Debug Print Filter";
const SERVICE_KEY = "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services\\SIoctl";
const KMODE_EXCEPTION_NOT_HANDLED = 0x1E;
/** The start of system address space (kernel pointers are at or above it). */
const SYSTEM_SPACE = 0x8000_0000_0000;
const DRIVER_STRING = "This String is from Device Driver !!!";

/** The default machine; with `debugOutput`, its Debug Print Filter lets DEFAULT's INFO messages (DbgPrint) through. */
async function machine(debugOutput: boolean): Promise<Machine> {
  const d = defaultDescription();
  if (debugOutput) d.registry = { [FILTER]: { DEFAULT: 15 } };
  return boot(Machine.fromDescription(d));
}

/** Runs IOCTLAPP; returns the lines it printed. */
async function runIoctlApp(m: Machine): Promise<string[]> {
  const out = new ConsoleOutput();
  await m.runProgram("ioctlapp", () => main(["ioctlapp"], out));
  return out.lines();
}

/** The debugger's text (messages concatenated, as DebugView shows them) as lines. */
function debugLines(m: Machine): string[] {
  const text = KD(kernelOf(m)).output.entries().map((e) => e.text).join("");
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
}

const POINTER = /^InputBuffer Pointer = ([0-9A-F]{16}), BufLength = 100$/;
const OUT_POINTER = /^OutputBuffer Pointer = ([0-9A-F]{16}) BufLength = 100$/;

/** What IOCTLAPP prints on Windows, with the two pointers it reports. */
function expectedApp(inPtr: string, outPtr: string): string[] {
  return [
    `InputBuffer Pointer = ${inPtr}, BufLength = 100`,
    `OutputBuffer Pointer = ${outPtr} BufLength = 100`,
    "",
    "Calling DeviceIoControl METHOD_BUFFERED:",
    `    OutBuffer (38): ${DRIVER_STRING}`,
    "",
    "Calling DeviceIoControl METHOD_NEITHER",
    `    OutBuffer (38): ${DRIVER_STRING}`,
    "",
    "Calling DeviceIoControl METHOD_IN_DIRECT",
    "    Number of bytes transfered from OutBuffer: 100",
    "",
    "Calling DeviceIoControl METHOD_OUT_DIRECT",
    `    OutBuffer (38): ${DRIVER_STRING}`,
  ];
}

const systemPointer = expect.stringMatching(/^SIOCTL\.SYS: \tIrp->AssociatedIrp\.SystemBuffer = 0x([0-9A-F]{16})$/);
const anyType3 = expect.stringMatching(/^SIOCTL\.SYS: \tirpSp->Parameters\.DeviceIoControl\.Type3InputBuffer = 0x[0-9A-F]{16}$/);

/** The driver's debug output for one request (PrintIrpInfo's lines, then what the case prints). */
function irpInfo(name: string, inLength: number, userBuffer: string, type3: unknown, systemBuffer: unknown): unknown[] {
  return [
    `SIOCTL.SYS: Called IOCTL_SIOCTL_METHOD_${name}`,
    systemBuffer,
    `SIOCTL.SYS: \tIrp->UserBuffer = 0x${userBuffer}`,
    type3,
    `SIOCTL.SYS: \tirpSp->Parameters.DeviceIoControl.InputBufferLength = ${inLength}`,
    "SIOCTL.SYS: \tirpSp->Parameters.DeviceIoControl.OutputBufferLength = 100",
  ];
}

function expectedDebug(inPtr: string, outPtr: string): unknown[] {
  const fromUser = (method: string) => `This String is from User Application; using METHOD_${method}.`;
  // IN_DIRECT's output buffer: the app's string, its null, then what the earlier requests left in the rest of the 100 bytes.
  const inDirectOut = expect.stringMatching(/^SIOCTL\.SYS: \tData from User in OutputBuffer: This String is from User Application in OutBuffer; using METHOD_IN_DIRECT\.[\x20-\x7E]{26}$/);
  return [
    ...irpInfo("BUFFERED", 60, outPtr, anyType3, systemPointer),
    `SIOCTL.SYS: \tData from User :${fromUser("BUFFERED")}`,
    `SIOCTL.SYS: \tData to User : ${DRIVER_STRING}.`,
    ...irpInfo("NEITHER", 59, outPtr, `SIOCTL.SYS: \tirpSp->Parameters.DeviceIoControl.Type3InputBuffer = 0x${inPtr}`,
      "SIOCTL.SYS: \tIrp->AssociatedIrp.SystemBuffer = 0x0000000000000000"),
    `SIOCTL.SYS: \tData from User :${fromUser("NEITHER")}`,
    `SIOCTL.SYS: \tData from User (SystemAddress) : ${fromUser("NEITHER")}`,
    `SIOCTL.SYS: \tData to User : ${DRIVER_STRING}`,
    `${DRIVER_STRING}.`,
    ...irpInfo("IN_DIRECT", 61, outPtr, anyType3, systemPointer),
    `SIOCTL.SYS: \tData from User in InputBuffer: ${fromUser("IN_DIRECT")}`,
    inDirectOut,
    ...irpInfo("OUT_DIRECT", 62, outPtr, anyType3, systemPointer),
    `SIOCTL.SYS: \tData from User : ${fromUser("OUT_DIRECT")}`,
    `SIOCTL.SYS: \tData to User : ${DRIVER_STRING}.`,
  ];
}

/** The two pointers IOCTLAPP printed on its first lines. */
function pointers(lines: string[]): { inPtr: string; outPtr: string } {
  const inPtr = POINTER.exec(lines[0])?.[1];
  const outPtr = OUT_POINTER.exec(lines[1])?.[1];
  expect(inPtr).toBeDefined();
  expect(outPtr).toBeDefined();
  return { inPtr: inPtr!, outPtr: outPtr! };
}

describe("the IOCTL sample's control codes (sioctl.h)", () => {
  it("are CTL_CODE(40000, 0x900..0x903, method, FILE_ANY_ACCESS)", () => {
    expect(SIOCTL_TYPE).toBe(40000);
    expect([IOCTL_SIOCTL_METHOD_IN_DIRECT, IOCTL_SIOCTL_METHOD_OUT_DIRECT, IOCTL_SIOCTL_METHOD_BUFFERED, IOCTL_SIOCTL_METHOD_NEITHER])
      .toEqual([0x9C402401, 0x9C402406, 0x9C402408, 0x9C40240F]);
    expect(DRIVER_NAME).toBe("SIoctl");
  });
});

describe("IOCTLAPP and SIOCTL", () => {
  it("installs the driver, sends the four transfer types, prints the driver's replies, and removes the driver", async () => {
    const m = await machine(true);
    const k = kernelOf(m);
    const lines = await runIoctlApp(m);
    const { inPtr, outPtr } = pointers(lines);
    // The two global buffers are user-mode addresses, OutputBuffer first (declaration order), 100 bytes apart.
    expect(parseInt(inPtr, 16) - parseInt(outPtr, 16)).toBe(100);
    expect(parseInt(outPtr, 16)).toBeLessThan(SYSTEM_SPACE);
    expect(lines).toEqual(expectedApp(inPtr, outPtr));

    const debug = debugLines(m);
    expect(debug).toEqual(expectedDebug(inPtr, outPtr));
    // The system buffers of buffered and direct requests are in system space.
    for (const line of debug.filter((l) => l.includes("SystemBuffer = ") && !l.endsWith("0x0000000000000000"))) {
      expect(parseInt(line.slice(-16), 16)).toBeGreaterThanOrEqual(SYSTEM_SPACE);
    }

    // Stopped and removed: no driver, no device, no link, no service key.
    expect(IO(k).drivers.has(DRIVER_NAME)).toBe(false);
    expect(IO(k).resolve("\\Device\\SIOCTL")).toBeUndefined();
    expect(IO(k).resolve("\\DosDevices\\IoctlTest")).toBeUndefined();
    expect(CM(k).find(SERVICE_KEY)).toBeUndefined();
  });

  it("runs again on the same machine (installs afresh), and prints the same", async () => {
    const m = await machine(true);
    const first = await runIoctlApp(m);
    const before = debugLines(m).length;
    const second = await runIoctlApp(m);
    const { inPtr, outPtr } = pointers(second);
    expect(second).toEqual(expectedApp(inPtr, outPtr));
    expect(second).toEqual(first);
    expect(debugLines(m).slice(before)).toEqual(expectedDebug(inPtr, outPtr));
    expect(CM(kernelOf(m)).find(SERVICE_KEY)).toBeUndefined();
  });

  it("with no Debug Print Filter the driver's messages are filtered out; the program prints the same", async () => {
    const m = await machine(false);
    const lines = await runIoctlApp(m);
    const { inPtr, outPtr } = pointers(lines);
    expect(lines).toEqual(expectedApp(inPtr, outPtr));
    expect(debugLines(m)).toEqual([]);
  });

  it("uses a driver that is already running and still removes it at the end", async () => {
    const m = await machine(false);
    const k = kernelOf(m);
    const installed = await m.runProgram("install", async () => {
      const location = SetupDriverName(DRIVER_NAME, DRIVER_MODULE, IOCTLAPP_DIRECTORY);
      return location !== null && await ManageDriver(DRIVER_NAME, location, DRIVER_FUNC_INSTALL);
    });
    expect(installed).toBe(true);
    expect(IO(k).drivers.has(DRIVER_NAME)).toBe(true);
    const lines = await runIoctlApp(m);
    const { inPtr, outPtr } = pointers(lines);
    expect(lines).toEqual(expectedApp(inPtr, outPtr));
    expect(IO(k).drivers.has(DRIVER_NAME)).toBe(false);
    expect(CM(k).find(SERVICE_KEY)).toBeUndefined();
  });

  it("ManageDriver refuses an unknown function and missing names", async () => {
    const m = await machine(false);
    const out = new ConsoleOutput();
    const r = await m.runProgram("manage", async () => {
      attachConsole(out);
      return [await ManageDriver(DRIVER_NAME, "x", 3), await ManageDriver(null, "x", DRIVER_FUNC_INSTALL)];
    });
    expect(r).toEqual([false, false]);
    expect(out.lines()).toEqual(["Unknown ManageDriver() function. ", "Invalid Driver or Service provided to ManageDriver() "]);
  });
});

describe("IOCTLAPP's install routines (install.c)", () => {
  it("report each Service Control Manager failure with its Win32 error, and REMOVE ignores them", async () => {
    const m = await machine(false);
    const k = kernelOf(m);
    const out = new ConsoleOutput();
    const r = await m.runProgram("install", async () => {
      attachConsole(out);
      const missing = "/nonexistent/sioctl.ts";
      return [
        await ManageDriver("NoSuchService", missing, DRIVER_FUNC_REMOVE), // nothing to stop or remove
        await ManageDriver(DRIVER_NAME, missing, DRIVER_FUNC_INSTALL), // created, but StartService finds no image
        await ManageDriver(DRIVER_NAME, missing, DRIVER_FUNC_INSTALL), // exists (ignored), still no image
        // Not running; marked for deletion, but StartDriver's failure path left its service handles open (as the C does).
        await ManageDriver(DRIVER_NAME, missing, DRIVER_FUNC_REMOVE),
        await ManageDriver(DRIVER_NAME, missing, DRIVER_FUNC_REMOVE), // still there, already marked
        CM(k).find(SERVICE_KEY) !== undefined,
      ];
    });
    expect(r.slice(0, 5)).toEqual([true, false, false, true, true]);
    expect(out.lines()).toEqual([
      `OpenService failed!  Error = ${ERROR_SERVICE_DOES_NOT_EXIST} `,
      `OpenService failed!  Error = ${ERROR_SERVICE_DOES_NOT_EXIST} `,
      `StartService failure! Error = ${ERROR_FILE_NOT_FOUND} `,
      `StartService failure! Error = ${ERROR_FILE_NOT_FOUND} `,
      `ControlService failed!  Error = ${ERROR_SERVICE_NOT_ACTIVE} `,
      `ControlService failed!  Error = ${ERROR_SERVICE_NOT_ACTIVE} `,
      `DeleteService failed!  Error = ${ERROR_SERVICE_MARKED_FOR_DELETE} `,
    ]);
    // DeleteService only marks it: the key stays while a handle to the service is open.
    expect(r[5]).toBe(true);
  });

  it("SetupDriverName names the driver's module next to the program's", async () => {
    const m = await machine(false);
    const location = await m.runProgram("setup", async () => SetupDriverName(DRIVER_NAME, DRIVER_MODULE, IOCTLAPP_DIRECTORY));
    expect(location).toBe(join(import.meta.dirname, "../../../src/drivers/samples/ioctl/sioctl.ts"));
  });
});

describe("IOCTLAPP's C run-time calls", () => {
  it("StringCbCopy null-terminates, truncating to cbDest - 1 characters; strlen and memset act on process memory", async () => {
    const m = await machine(false);
    const r = await m.runProgram("crt", async () => {
      const buffer = VirtualAlloc(16);
      const results: unknown[] = [StringCbCopy(buffer, 16, "fits"), strlen(buffer)];
      results.push(StringCbCopy(buffer, 8, "much too long"), strlen(buffer), readAnsi(buffer, 8));
      results.push(StringCbCopy(buffer, 0, "x"), strlen(buffer));
      memset(buffer, 0x41, 3);
      results.push(readAnsi(buffer, 8));
      return results;
    });
    expect(r).toEqual([S_OK, 4, STRSAFE_E_INSUFFICIENT_BUFFER, 7, "much to\0", STRSAFE_E_INVALID_PARAMETER, 7, "AAAh to\0"]);
  });

  it("printf writes to the process's console and returns the characters written (-1 for a bad format)", async () => {
    const m = await machine(false);
    const out = new ConsoleOutput();
    const r = await m.runProgram("crt", async () => {
      const before = printf("not attached\n");
      attachConsole(out);
      return [before, printf("%s=%d %Iu\n", "n", -3, 100), printf("partial"), printf("%q")];
    });
    expect(r).toEqual([13, 9, 7, -1]);
    expect(out.text).toBe("n=-3 100\npartial");
    expect(out.lines()).toEqual(["n=-3 100", "partial"]);
    expect(new ConsoleOutput().lines()).toEqual([]);
  });
});

describe("SIOCTL's errors", () => {
  /** Installs the driver, runs `body` with a handle to \\.\IoctlTest, then removes the driver. */
  async function withDevice<T>(m: Machine, body: (h: number) => Promise<T>): Promise<T> {
    return m.runProgram("errors", async () => {
      const location = SetupDriverName(DRIVER_NAME, DRIVER_MODULE, IOCTLAPP_DIRECTORY)!;
      expect(await ManageDriver(DRIVER_NAME, location, DRIVER_FUNC_INSTALL)).toBe(true);
      const h = await CreateFile("\\\\.\\IoctlTest", GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
      expect(h).not.toBe(INVALID_HANDLE_VALUE);
      try {
        return await body(h);
      } finally {
        await CloseHandle(h);
        await ManageDriver(DRIVER_NAME, location, DRIVER_FUNC_REMOVE);
      }
    });
  }

  it("a zero-length buffer is STATUS_INVALID_PARAMETER (ERROR_INVALID_PARAMETER), nothing printed", async () => {
    const m = await machine(true);
    const r = await withDevice(m, async (h) => {
      const a = await DeviceIoControl(h, IOCTL_SIOCTL_METHOD_BUFFERED, new Uint8Array(4), 4, null, 0);
      const ea = GetLastError();
      const b = await DeviceIoControl(h, IOCTL_SIOCTL_METHOD_BUFFERED, null, 0, new Uint8Array(4), 4);
      return [a.ok, ea, b.ok, GetLastError()];
    });
    expect(r).toEqual([false, ERROR_INVALID_PARAMETER, false, ERROR_INVALID_PARAMETER]);
    expect(debugLines(m)).toEqual([]);
  });

  it("another control code is STATUS_INVALID_DEVICE_REQUEST (ERROR_INVALID_FUNCTION), reported as unrecognized", async () => {
    const m = await machine(true);
    const code = (IOCTL_SIOCTL_METHOD_NEITHER + 4) >>> 0;
    const r = await withDevice(m, async (h) => {
      const a = await DeviceIoControl(h, code, new Uint8Array(4), 4, new Uint8Array(4), 4);
      return [a.ok, GetLastError()];
    });
    expect(r).toEqual([false, ERROR_INVALID_FUNCTION]);
    expect(debugLines(m)).toEqual([`SIOCTL.SYS: ERROR: unrecognized IOCTL ${code.toString(16)}`]);
  });

  it("METHOD_NEITHER with an input buffer it cannot read: the exception's code, caught and reported", async () => {
    const m = await machine(true);
    const r = await withDevice(m, async (h) => {
      const unmapped = 0x7000_0000; // a user-mode address nothing is committed at
      const a = await DeviceIoControl(h, IOCTL_SIOCTL_METHOD_NEITHER, unmapped, 16, new Uint8Array(100), 100);
      return [a.ok, GetLastError()];
    });
    expect(r).toEqual([false, ERROR_NOACCESS]);
    // "\tData from User :" is printed before the read that faults.
    expect(debugLines(m).at(-1)).toBe("SIOCTL.SYS: \tData from User :SIOCTL.SYS: Exception while accessing inBuf 0XC0000005 in METHOD_NEITHER");
  });

  it("METHOD_NEITHER with an output buffer it cannot lock: the exception's code, the MDL freed", async () => {
    const m = await machine(true);
    const r = await withDevice(m, async (h) => {
      const input = VirtualAlloc(16);
      const a = await DeviceIoControl(h, IOCTL_SIOCTL_METHOD_NEITHER, input, 16, 0x7000_0000, 100);
      return [a.ok, GetLastError()];
    });
    expect(r).toEqual([false, ERROR_NOACCESS]);
    expect(debugLines(m).at(-1)).toBe("SIOCTL.SYS: Exception while locking outBuf 0XC0000005 in METHOD_NEITHER");
  });

  it("CreateFile fails with ERROR_FILE_NOT_FOUND once the driver is removed", async () => {
    const m = await machine(false);
    await runIoctlApp(m);
    const r = await m.runProgram("after", async () => {
      const h = await CreateFile("\\\\.\\IoctlTest", GENERIC_READ, 0, null, OPEN_EXISTING, 0, null);
      return [h, GetLastError()];
    });
    expect(r).toEqual([INVALID_HANDLE_VALUE, ERROR_FILE_NOT_FOUND]);
  });
});

describe("SIOCTL's pageable routines", () => {
  it("PrintChars prints printable characters and '.' for the rest, then a newline", async () => {
    const m = await machine(true);
    await m.exec(() => asDriver(DRIVER_NAME, "PrintChars", () => PrintChars(ansiLiteral("A\x1F\x7F\xE9~"), 6)));
    await m.exec(() => asDriver(DRIVER_NAME, "PrintChars", () => PrintChars(ansiLiteral("none"), 0)));
    expect(KD(kernelOf(m)).output.entries().map((e) => e.text)).toEqual(["A", ".", ".", ".", "~", ".", "\n"]);
  });

  it("PrintChars above APC_LEVEL fails PAGED_CODE: 0x1E with STATUS_ASSERTION_FAILURE", async () => {
    const m = await machine(true);
    const bc = await bugCheckOf(m.exec(() => asDriver(DRIVER_NAME, "PrintChars", () => PrintChars(ansiLiteral("x"), 1)), { irql: DISPATCH_LEVEL }));
    expectBugCheck(bc, KMODE_EXCEPTION_NOT_HANDLED, STATUS_ASSERTION_FAILURE);
    expect(debugLines(m)[0]).toBe("EX: Pageable code called at IRQL 2");
  });
});
