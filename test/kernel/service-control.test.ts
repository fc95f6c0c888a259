// Legacy drivers through the Service Control Manager: CreateService writes the service
// key, StartService is ZwLoadDriver, ControlService(SERVICE_CONTROL_STOP) is
// ZwUnloadDriver, and DeleteService removes the key once the service is stopped and
// closed; with the Win32 errors the SCM gives.
import { join } from "node:path";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import {
  CloseHandle, CloseServiceHandle, ControlService, CreateFile, CreateService, DeleteService, DeviceIoControl, GENERIC_READ, GENERIC_WRITE,
  GetLastError, INVALID_HANDLE_VALUE, OPEN_EXISTING, Sleep, OpenSCManager, OpenService, QueryServiceStatus, SC_MANAGER_ALL_ACCESS, SC_MANAGER_CONNECT,
  SERVICE_ACCEPT_STOP, SERVICE_ALL_ACCESS, SERVICE_CONTROL_STOP, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL, SERVICE_KERNEL_DRIVER,
  SERVICE_QUERY_STATUS, SERVICE_RUNNING, SERVICE_STOPPED, SERVICE_STOP_PENDING, StartService, ERROR_ACCESS_DENIED, ERROR_FILE_NOT_FOUND,
  ERROR_INVALID_SERVICE_CONTROL, ERROR_SERVICE_ALREADY_RUNNING, ERROR_SERVICE_DOES_NOT_EXIST, ERROR_SERVICE_EXISTS, ERROR_SERVICE_MARKED_FOR_DELETE,
  ERROR_SERVICE_NEVER_STARTED, ERROR_SERVICE_NOT_ACTIVE, ERROR_BAD_EXE_FORMAT, ERROR_FILE_NOT_FOUND as NOT_FOUND,
} from "../../src/io/usermode.js";
import { ERROR_INVALID_HANDLE } from "../../src/io/win32.js";
import { CM } from "../../src/cm/registry.js";
import { IO } from "../../src/io/manager.js";
import { MM } from "../../src/mm/manager.js";
import { unicodeStringText } from "../../src/rtl/unicode-string.js";
import { STATUS_SUCCESS } from "../../src/ke/ntstatus.js";
import { boot } from "../../src/pnp/boot.js";
import { Machine } from "../../src/machine/machine.js";
import { bootDefault, defaultDescription, kernelOf } from "../support/kernel-harness.js";
import { IOCTL_LEGACY_ECHO } from "../support/legacy/driver.js";

const here = import.meta.dirname;
const DRIVER = join(here, "../support/legacy/driver.ts");
const NO_UNLOAD = join(here, "../support/legacy/no-unload.ts");
const FAILS = join(here, "../support/legacy/fails.ts");
const KEY = "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services\\LegacyTest";

/** Creates a demand-start kernel-driver service for `image`; returns the SCM and service handles. */
function install(name: string, image: string) {
  const scm = OpenSCManager(null, null, SC_MANAGER_ALL_ACCESS);
  const svc = CreateService(scm, name, `${name} driver`, SERVICE_ALL_ACCESS, SERVICE_KERNEL_DRIVER, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL, image);
  return { scm, svc };
}

describe("the Service Control Manager and legacy drivers", () => {
  it("installs, starts, uses, stops (deferred by an open handle) and deletes a driver", async () => {
    const machine = await bootDefault();
    const k = kernelOf(machine);
    const log = await machine.runProgram("ioctlapp", async () => {
      const out: unknown[] = [];
      const { scm, svc } = install("LegacyTest", DRIVER);
      out.push(svc !== 0);
      out.push(CreateService(scm, "LegacyTest", null, SERVICE_ALL_ACCESS, SERVICE_KERNEL_DRIVER, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL, DRIVER), GetLastError());
      out.push(QueryServiceStatus(svc).ServiceStatus);
      out.push(await StartService(svc, 0, null));
      out.push(await StartService(svc, 0, null), GetLastError());
      out.push(QueryServiceStatus(svc).ServiceStatus!.dwCurrentState, QueryServiceStatus(svc).ServiceStatus!.dwControlsAccepted);
      const h = await CreateFile("\\\\.\\LegacyTest", GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
      out.push(h !== INVALID_HANDLE_VALUE);
      const r = await DeviceIoControl(h, IOCTL_LEGACY_ECHO, new Uint8Array([1, 2, 3]), 3, new Uint8Array(3), 3);
      out.push(r.ok, r.bytes);
      // Stopped with the handle still open: DriverUnload waits for the last close; the device takes no new opens.
      const stop = await ControlService(svc, SERVICE_CONTROL_STOP);
      out.push(stop.ok, stop.ServiceStatus!.dwCurrentState, IO(k).resolve("\\Device\\LegacyTest") !== undefined);
      out.push(await CreateFile("\\\\.\\LegacyTest", GENERIC_READ, 0, null, OPEN_EXISTING, 0, null), GetLastError());
      out.push((await ControlService(svc, SERVICE_CONTROL_STOP)).ok);
      await CloseHandle(h);
      // DriverUnload runs in a system worker thread once the last file is closed.
      await Sleep(1);
      out.push(QueryServiceStatus(svc).ServiceStatus!.dwCurrentState, QueryServiceStatus(svc).ServiceStatus!.dwWin32ExitCode);
      out.push((await ControlService(svc, SERVICE_CONTROL_STOP)).ok, GetLastError());
      // Deleted while a handle is open: the key stays until it closes.
      out.push(DeleteService(svc), DeleteService(svc), GetLastError());
      out.push(CM(k).find(KEY) !== undefined);
      out.push(CloseServiceHandle(svc), CM(k).find(KEY) === undefined);
      out.push(OpenService(scm, "LegacyTest", SERVICE_ALL_ACCESS), GetLastError());
      out.push(CloseServiceHandle(scm), CloseServiceHandle(scm), GetLastError());
      return out;
    });
    expect(log).toEqual([
      true,
      0, ERROR_SERVICE_EXISTS,
      { dwServiceType: SERVICE_KERNEL_DRIVER, dwCurrentState: SERVICE_STOPPED, dwControlsAccepted: 0, dwWin32ExitCode: ERROR_SERVICE_NEVER_STARTED, dwServiceSpecificExitCode: 0, dwCheckPoint: 0, dwWaitHint: 0 },
      true,
      false, ERROR_SERVICE_ALREADY_RUNNING,
      SERVICE_RUNNING, SERVICE_ACCEPT_STOP,
      true,
      true, 3,
      true, SERVICE_STOP_PENDING, true,
      INVALID_HANDLE_VALUE, ERROR_FILE_NOT_FOUND,
      false,
      SERVICE_STOPPED, 0,
      false, ERROR_SERVICE_NOT_ACTIVE,
      true, false, ERROR_SERVICE_MARKED_FOR_DELETE,
      true,
      true, true,
      0, ERROR_SERVICE_DOES_NOT_EXIST,
      true, false, ERROR_INVALID_HANDLE,
    ]);
    expect(IO(k).drivers.has("LegacyTest")).toBe(false);
  });

  it("writes the service key CreateService describes", async () => {
    const machine = await bootDefault();
    await machine.runProgram("install", async () => { install("LegacyTest", DRIVER); });
    const r = CM(kernelOf(machine));
    expect([r.get(KEY, "Type"), r.get(KEY, "Start"), r.get(KEY, "ErrorControl"), r.get(KEY, "ImagePath"), r.get(KEY, "DisplayName")])
      .toEqual([SERVICE_KERNEL_DRIVER, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL, DRIVER, "LegacyTest driver"]);
  });

  it("refuses to stop a driver without DriverUnload", async () => {
    const machine = await bootDefault();
    const out = await machine.runProgram("app", async () => {
      const { svc } = install("NoUnload", NO_UNLOAD);
      const started = await StartService(svc, 0, null);
      const stop = await ControlService(svc, SERVICE_CONTROL_STOP);
      return [started, stop.ok, GetLastError(), stop.ServiceStatus!.dwCurrentState, stop.ServiceStatus!.dwControlsAccepted];
    });
    expect(out).toEqual([true, false, ERROR_INVALID_SERVICE_CONTROL, SERVICE_RUNNING, 0]);
  });

  it("reports why a driver did not start: no image, not a driver, DriverEntry's status", async () => {
    const machine = await bootDefault();
    const tmp = mkdtempSync(join(tmpdir(), "wdmsim-scm-"));
    const notADriver = join(tmp, "lib.mjs");
    writeFileSync(notADriver, "export const x = 1;\n");
    const out = await machine.runProgram("app", async () => {
      const r: unknown[] = [];
      for (const [name, image] of [["Missing", join(tmp, "nope.ts")], ["NotADriver", notADriver], ["Fails", FAILS]]) {
        const { svc } = install(name, image);
        r.push(await StartService(svc, 0, null), GetLastError(), QueryServiceStatus(svc).ServiceStatus!.dwWin32ExitCode);
      }
      return r;
    });
    // STATUS_NO_SUCH_DEVICE is ERROR_FILE_NOT_FOUND in Windows' table.
    expect(out).toEqual([false, NOT_FOUND, NOT_FOUND, false, ERROR_BAD_EXE_FORMAT, ERROR_BAD_EXE_FORMAT, false, NOT_FOUND, NOT_FOUND]);
    expect(IO(kernelOf(machine)).drivers.has("Fails")).toBe(false);
  });

  it("checks the access each handle was opened with", async () => {
    const machine = await bootDefault();
    const out = await machine.runProgram("app", async () => {
      install("LegacyTest", DRIVER);
      const connect = OpenSCManager(null, null, SC_MANAGER_CONNECT);
      const r: unknown[] = [CreateService(connect, "Other", null, SERVICE_ALL_ACCESS, SERVICE_KERNEL_DRIVER, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL, DRIVER), GetLastError()];
      const query = OpenService(connect, "LegacyTest", SERVICE_QUERY_STATUS);
      r.push(await StartService(query, 0, null), GetLastError(), DeleteService(query), GetLastError(), QueryServiceStatus(query).ok);
      return r;
    });
    expect(out).toEqual([0, ERROR_ACCESS_DENIED, false, ERROR_ACCESS_DENIED, false, ERROR_ACCESS_DENIED, true]);
  });

  it("loads a package's system-start legacy driver at boot", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "wdmsim-legacy-"));
    const file = join(tmp, "legacy.json");
    writeFileSync(file, JSON.stringify({ description: "legacy", drivers: [{ service: "LegacyTest", module: DRIVER, role: "legacy", start: "system" }] }));
    const d = defaultDescription();
    d.drivers = [file];
    const machine = await boot(Machine.fromDescription(d));
    const k = kernelOf(machine);
    expect(IO(k).drivers.has("LegacyTest")).toBe(true);
    expect(CM(k).get(KEY, "Start")).toBe(1);
    const state = await machine.runProgram("sc", async () => {
      const s = OpenService(OpenSCManager(null, null, SC_MANAGER_CONNECT), "LegacyTest", SERVICE_QUERY_STATUS);
      return QueryServiceStatus(s).ServiceStatus!.dwCurrentState;
    });
    expect(state).toBe(SERVICE_RUNNING);
  });
});

describe("service handles at process exit", () => {
  it("a program that ends with a service handle open has it closed: a service it deleted goes then", async () => {
    const machine = await bootDefault();
    const k = kernelOf(machine);
    await machine.runProgram("leaky", async () => {
      const { svc } = install("LegacyTest", DRIVER);
      DeleteService(svc);
      // svc and the SCM handle are left open.
    });
    expect(CM(k).find(KEY)).toBeUndefined();
  });
});

describe("DriverEntry's RegistryPath", () => {
  it("is a UNICODE_STRING in pool naming the service key, freed once DriverEntry returns", async () => {
    const m = await bootDefault();
    const seen = await m.exec(async () => {
      let text = "";
      let buffer = 0;
      let lengths: number[] = [];
      let allocatedDuring = false;
      await IO().loadDriver("PathProbe", {
        DriverEntry: (_driver, RegistryPath) => {
          text = unicodeStringText(RegistryPath);
          buffer = RegistryPath.Buffer;
          lengths = [RegistryPath.Length, RegistryPath.MaximumLength];
          allocatedDuring = MM().pool.block(buffer) !== undefined;
          return STATUS_SUCCESS;
        },
      });
      return { text, lengths, allocatedDuring, allocatedAfter: MM().pool.block(buffer) !== undefined };
    });
    const path = "\\Registry\\Machine\\System\\CurrentControlSet\\Services\\PathProbe";
    expect(seen).toEqual({ text: path, lengths: [path.length * 2, path.length * 2 + 2], allocatedDuring: true, allocatedAfter: false });
  });
});
