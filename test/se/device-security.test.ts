// Device security: CreateFile checks the caller's token against a device made with
// IoCreateDeviceSecure, DeviceIoControl checks the control code's required access against
// the handle, and SeSinglePrivilegeCheck answers for the caller's token.
import { describe, expect, it } from "vitest";
import {
  CloseHandle, CreateFile, DeviceIoControl, ERROR_ACCESS_DENIED, ERROR_FILE_NOT_FOUND, GENERIC_ALL, GENERIC_READ, GENERIC_WRITE, GetLastError, INVALID_HANDLE_VALUE, OPEN_EXISTING,
} from "../../src/io/usermode.js";
import {
  CTL_CODE, FILE_DEVICE_UNKNOWN, FILE_READ_ACCESS, FILE_WRITE_ACCESS, IoCompleteRequest, IoCreateSymbolicLink, IO_NO_INCREMENT, IRP_MJ_CLOSE,
  IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL, KPROCESSOR_MODE, METHOD_BUFFERED, STATUS_SUCCESS, type IRP, type DEVICE_OBJECT, IoCreateDevice,
  DO_DEVICE_INITIALIZING,
} from "../../src/index.js";
import { IoCreateDeviceSecure } from "../../src/io/device-secure.js";
import { IO } from "../../src/io/manager.js";
import { SDDL_DEVOBJ_SYS_ALL_ADM_ALL, SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_R } from "../../src/se/device-sddl.js";
import { SeSinglePrivilegeCheck } from "../../src/se/privilege.js";
import { SE_LOAD_DRIVER_PRIVILEGE } from "../../src/se/token.js";
import { bootDefault } from "../support/kernel-harness.js";

const IOCTL_READ = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_BUFFERED, FILE_READ_ACCESS);
const IOCTL_WRITE = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x901, METHOD_BUFFERED, FILE_WRITE_ACCESS);

/** Boots and loads a driver with two secure devices; its create routine records SeSinglePrivilegeCheck for the caller. */
async function machine() {
  const m = await bootDefault();
  const privileged: boolean[] = [];
  const complete = (_d: DEVICE_OBJECT, irp: IRP) => {
    irp.IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
  };
  await m.exec(() => IO().loadDriver("SecureTest", {
    DriverEntry: (driver) => {
      for (const [name, sddl] of [["AdminOnly", SDDL_DEVOBJ_SYS_ALL_ADM_ALL], ["WorldRead", SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_R]]) {
        IoCreateDeviceSecure(driver, {}, `\\Device\\${name}`, FILE_DEVICE_UNKNOWN, 0, false, sddl, null);
        IoCreateSymbolicLink(`\\DosDevices\\${name}`, `\\Device\\${name}`);
      }
      // Plain IoCreateDevice: the default security descriptor; one exclusive.
      IoCreateDevice(driver, {}, "\\Device\\Plain", FILE_DEVICE_UNKNOWN, 0, false);
      IoCreateSymbolicLink("\\DosDevices\\Plain", "\\Device\\Plain");
      IoCreateDevice(driver, {}, "\\Device\\OneAtATime", FILE_DEVICE_UNKNOWN, 0, true);
      IoCreateSymbolicLink("\\DosDevices\\OneAtATime", "\\Device\\OneAtATime");
      driver.MajorFunction[IRP_MJ_CREATE] = (d, irp) => {
        privileged.push(SeSinglePrivilegeCheck({ LowPart: SE_LOAD_DRIVER_PRIVILEGE, HighPart: 0 }, irp.RequestorMode as KPROCESSOR_MODE));
        return complete(d, irp);
      };
      driver.MajorFunction[IRP_MJ_CLOSE] = complete;
      driver.MajorFunction[IRP_MJ_DEVICE_CONTROL] = complete;
      return STATUS_SUCCESS;
    },
  }));
  return { m, privileged };
}

async function tryOpen(name: string, access: number): Promise<number> {
  const h = await CreateFile(`\\\\.\\${name}`, access, 0, null, OPEN_EXISTING, 0, null);
  if (h === INVALID_HANDLE_VALUE) return GetLastError();
  await CloseHandle(h);
  return 0;
}

describe("device security", () => {
  it("a device made with IoCreateDevice has the default descriptor: administrators all access, everyone read, write and execute", async () => {
    const { m } = await machine();
    const admin = await m.runProgram("admin", async () => [await tryOpen("Plain", GENERIC_ALL), await tryOpen("Plain", GENERIC_READ | GENERIC_WRITE)]);
    const user = await m.runProgram("user", async () => [await tryOpen("Plain", GENERIC_ALL), await tryOpen("Plain", GENERIC_READ | GENERIC_WRITE)], { user: "standard" });
    expect(admin).toEqual([0, 0]);
    expect(user).toEqual([ERROR_ACCESS_DENIED, 0]);
  });

  it("an exclusive device (DO_EXCLUSIVE) takes one open at a time: the second is ERROR_ACCESS_DENIED", async () => {
    const { m } = await machine();
    const r = await m.runProgram("exclusive", async () => {
      const first = await CreateFile("\\\\.\\OneAtATime", GENERIC_READ, 0, null, OPEN_EXISTING, 0, null);
      const second = await tryOpen("OneAtATime", GENERIC_READ);
      await CloseHandle(first);
      const third = await tryOpen("OneAtATime", GENERIC_READ);
      return [first !== INVALID_HANDLE_VALUE, second, third];
    });
    expect(r).toEqual([true, ERROR_ACCESS_DENIED, 0]);
  });

  it("a device still initializing (DO_DEVICE_INITIALIZING) cannot be opened: ERROR_FILE_NOT_FOUND (STATUS_NO_SUCH_DEVICE) until its flag is cleared", async () => {
    const { m } = await machine();
    // Made outside DriverEntry, the flag stays until the driver clears it.
    const device = await m.exec(() => {
      const r = IoCreateDevice(IO().drivers.get("SecureTest")!, {}, "\\Device\\Late", FILE_DEVICE_UNKNOWN, 0, false);
      IoCreateSymbolicLink("\\DosDevices\\Late", "\\Device\\Late");
      return r.DeviceObject!;
    });
    expect(device.Flags & DO_DEVICE_INITIALIZING).toBe(DO_DEVICE_INITIALIZING);
    expect(await m.runProgram("early", () => tryOpen("Late", GENERIC_READ))).toBe(ERROR_FILE_NOT_FOUND);
    device.Flags &= ~DO_DEVICE_INITIALIZING;
    expect(await m.runProgram("ready", () => tryOpen("Late", GENERIC_READ))).toBe(0);
  });

  it("an administrator opens what a standard user may not; everyone may read a world-readable device", async () => {
    const { m, privileged } = await machine();
    const admin = await m.runProgram("admin", async () => [await tryOpen("AdminOnly", GENERIC_READ | GENERIC_WRITE), await tryOpen("WorldRead", GENERIC_WRITE)]);
    const user = await m.runProgram("user", async () => [
      await tryOpen("AdminOnly", GENERIC_READ), await tryOpen("WorldRead", GENERIC_READ), await tryOpen("WorldRead", GENERIC_WRITE),
    ], { user: "standard" });
    expect(admin).toEqual([0, 0]);
    expect(user).toEqual([ERROR_ACCESS_DENIED, 0, ERROR_ACCESS_DENIED]);
    // SE_LOAD_DRIVER_PRIVILEGE: the administrator's two opens, then the user's one that got through.
    expect(privileged).toEqual([true, true, false]);
  });

  it("DeviceIoControl needs the access the control code requires on the handle", async () => {
    const { m } = await machine();
    const out = await m.runProgram("app", async () => {
      const h = await CreateFile("\\\\.\\WorldRead", GENERIC_READ, 0, null, OPEN_EXISTING, 0, null);
      const r = [(await DeviceIoControl(h, IOCTL_READ, null, 0, null, 0)).ok, (await DeviceIoControl(h, IOCTL_WRITE, null, 0, null, 0)).ok, GetLastError()];
      await CloseHandle(h);
      return r;
    });
    expect(out).toEqual([true, false, ERROR_ACCESS_DENIED]);
  });
});
