// Security descriptors in self-relative form (SECURITY_DESCRIPTOR_RELATIVE, as the
// registry's REG_BINARY "Security" values hold them), and a setup class's Security
// property ("Setting Device Object Properties in the Registry"): stored under
// Control\Class\{guid}\Properties, it overrides the driver's descriptor — on every object
// of a PnP stack of the class, and on a device IoCreateDeviceSecure makes with the class GUID.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FirmwareError, Machine, PNP } from "../../src/index.js";
import {
  CloseHandle, CreateFile, DeviceIoControl, ERROR_ACCESS_DENIED, GENERIC_READ, GENERIC_WRITE, GetLastError, INVALID_HANDLE_VALUE, OPEN_EXISTING, Sleep,
} from "../../src/io/usermode.js";
import { interfacePaths } from "../support/interfaces.js";
import { encodePlugin, GUID_DEVINTERFACE_BUSENUM_TOASTER, GUID_DEVINTERFACE_TOASTER, IOCTL_BUSENUM_PLUGIN_HARDWARE } from "../../src/drivers/toaster/public.js";
import { FILE_DEVICE_UNKNOWN, IoCompleteRequest, IoCreateSymbolicLink, IO_NO_INCREMENT, IRP_MJ_CLOSE, IRP_MJ_CREATE, STATUS_SUCCESS, type DEVICE_OBJECT, type IRP } from "../../src/index.js";
import { IoCreateDeviceSecure } from "../../src/io/device-secure.js";
import { IO } from "../../src/io/manager.js";
import { boot } from "../../src/pnp/boot.js";
import { CM } from "../../src/cm/registry.js";
import { loadDriverPackageFile } from "../../src/pnp/inf.js";
import { parseSddl } from "../../src/se/security-descriptor.js";
import { makeSelfRelativeSD, parseSelfRelativeSD } from "../../src/se/self-relative.js";
import { SDDL_DEVOBJ_SYS_ALL_ADM_ALL, SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_R, SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_RW_RES_R } from "../../src/se/device-sddl.js";
import { defaultDescription, kernelOf } from "../support/kernel-harness.js";

const root = join(import.meta.dirname, "../..");
const tmp = mkdtempSync(join(tmpdir(), "wdmsim-classsec-"));
const CCS = "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet";
const TOASTER_CLASS = "{B85B7C50-6A01-11D2-B841-00C04FAD5171}";
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");

describe("self-relative security descriptors", () => {
  it("D:P(A;;GA;;;SY) lays out as SECURITY_DESCRIPTOR_RELATIVE, its ACL and its SID", () => {
    expect(hex(makeSelfRelativeSD(parseSddl("D:P(A;;GA;;;SY)")))).toBe([
      // Revision 1, Sbz1, Control SE_SELF_RELATIVE | SE_DACL_PROTECTED | SE_DACL_PRESENT, no owner, group or SACL, DACL at 0x14.
      "01 00 04 90 00 00 00 00 00 00 00 00 00 00 00 00 14 00 00 00",
      // ACL: revision 2, size 0x1c, one ACE.
      "02 00 1c 00 01 00 00 00",
      // ACCESS_ALLOWED_ACE: size 0x14, GENERIC_ALL, S-1-5-18.
      "00 00 14 00 00 00 00 10 01 01 00 00 00 00 00 05 12 00 00 00",
    ].join(" "));
  });

  it("round-trips owners, groups, deny entries and flags; refuses what is not a descriptor", () => {
    for (const sddl of [SDDL_DEVOBJ_SYS_ALL_ADM_ALL, SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_RW_RES_R, "O:BAG:SYD:(D;CI;GW;;;BU)(A;;0x1f01ff;;;S-1-5-21-1-2-3-1001)", "D:NO_ACCESS_CONTROL"]) {
      expect(parseSelfRelativeSD(makeSelfRelativeSD(parseSddl(sddl)))).toEqual(parseSddl(sddl));
    }
    const good = makeSelfRelativeSD(parseSddl(SDDL_DEVOBJ_SYS_ALL_ADM_ALL));
    expect(parseSelfRelativeSD(good.slice(0, 30))).toBeNull();
    expect(parseSelfRelativeSD(new Uint8Array(20))).toBeNull();
    const absolute = good.slice();
    absolute[3] &= 0x7F; // SE_SELF_RELATIVE cleared
    expect(parseSelfRelativeSD(absolute)).toBeNull();
  });
});

describe("a setup class's Security property", () => {
  it("setup stores the package's class security as REG_BINARY; the PnP manager puts it on every object of the class's stacks", async () => {
    const file = join(tmp, "toaster-secure.json");
    writeFileSync(file, JSON.stringify({
      description: "the toaster function driver, its class admins-only",
      classes: { TOASTER: { guid: TOASTER_CLASS, security: SDDL_DEVOBJ_SYS_ALL_ADM_ALL } },
      drivers: [{
        service: "toaster", description: "Toaster function driver", module: join(root, "src/drivers/toaster/function.ts"), role: "function",
        ids: [`${TOASTER_CLASS}\\MsToaster`], class: "TOASTER",
      }],
    }));
    const d = defaultDescription();
    d.drivers = ["toaster"];
    const machine = await boot(Machine.fromDescription(d), { driverFiles: [file] });
    const k = kernelOf(machine);
    const stored = CM(k).get(`${CCS}\\Control\\Class\\${TOASTER_CLASS}\\Properties`, "Security");
    expect(stored).toBeInstanceOf(Uint8Array);
    expect(parseSelfRelativeSD(stored as Uint8Array)).toEqual(parseSddl(SDDL_DEVOBJ_SYS_ALL_ADM_ALL));
    // Plug in a toaster: its PDO (the bus driver's) and the toaster's FDO both get the class's descriptor.
    await machine.runProgram("plug", async () => {
      const h = await CreateFile(interfacePaths(GUID_DEVINTERFACE_BUSENUM_TOASTER)[0], GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
      await DeviceIoControl(h, IOCTL_BUSENUM_PLUGIN_HARDWARE, encodePlugin(1), encodePlugin(1).length, null, 0);
      await CloseHandle(h);
      await Sleep(2);
    });
    const nodes = [...PNP(k).allNodes()].filter((n) => n.ClassGuid.toUpperCase() === TOASTER_CLASS);
    expect(nodes).toHaveLength(1);
    const stack: DEVICE_OBJECT[] = [];
    for (let dev: DEVICE_OBJECT | null = nodes[0].PhysicalDeviceObject; dev; dev = dev.AttachedDevice) stack.push(dev);
    expect(stack.length).toBeGreaterThan(1);
    for (const dev of stack) expect(dev.SecurityDescriptor).toEqual(parseSddl(SDDL_DEVOBJ_SYS_ALL_ADM_ALL));
    // A standard user cannot open the toaster; an administrator can.
    const open = async () => {
      const h = await CreateFile(interfacePaths(GUID_DEVINTERFACE_TOASTER)[0], GENERIC_READ, 0, null, OPEN_EXISTING, 0, null);
      if (h === INVALID_HANDLE_VALUE) return GetLastError();
      await CloseHandle(h);
      return 0;
    };
    expect(await machine.runProgram("user", open, { user: "standard" })).toBe(ERROR_ACCESS_DENIED);
    expect(await machine.runProgram("admin", open)).toBe(0);
  });

  it("IoCreateDeviceSecure with a class GUID takes the registry's descriptor over its DefaultSDDLString", async () => {
    const d = defaultDescription();
    const guid = "{5D2B3F9A-0C1E-4B7F-9A2D-3E4F5A6B7C8D}";
    d.registry = { [`HKLM\\SYSTEM\\CurrentControlSet\\Control\\Class\\${guid}\\Properties`]: { Security: { type: "REG_BINARY", data: hex(makeSelfRelativeSD(parseSddl(SDDL_DEVOBJ_SYS_ALL_ADM_ALL))).replace(/ /g, "") } } };
    const m = await boot(Machine.fromDescription(d));
    const complete = (_d: DEVICE_OBJECT, irp: IRP) => {
      irp.IoStatus.Status = STATUS_SUCCESS;
      IoCompleteRequest(irp, IO_NO_INCREMENT);
      return STATUS_SUCCESS;
    };
    await m.exec(() => IO().loadDriver("ClassSecure", {
      DriverEntry: (driver) => {
        IoCreateDeviceSecure(driver, {}, "\\Device\\ClassOverride", FILE_DEVICE_UNKNOWN, 0, false, SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_R, guid);
        IoCreateSymbolicLink("\\DosDevices\\ClassOverride", "\\Device\\ClassOverride");
        IoCreateDeviceSecure(driver, {}, "\\Device\\NoClass", FILE_DEVICE_UNKNOWN, 0, false, SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_R, null);
        IoCreateSymbolicLink("\\DosDevices\\NoClass", "\\Device\\NoClass");
        driver.MajorFunction[IRP_MJ_CREATE] = complete;
        driver.MajorFunction[IRP_MJ_CLOSE] = complete;
        return STATUS_SUCCESS;
      },
    }));
    const open = async (name: string) => {
      const h = await CreateFile(`\\\\.\\${name}`, GENERIC_READ, 0, null, OPEN_EXISTING, 0, null);
      if (h === INVALID_HANDLE_VALUE) return GetLastError();
      await CloseHandle(h);
      return 0;
    };
    // The driver's own descriptor lets everyone read; the class's lets only administrators in.
    expect(await m.runProgram("user", async () => [await open("ClassOverride"), await open("NoClass")], { user: "standard" })).toEqual([ERROR_ACCESS_DENIED, 0]);
    expect(await m.runProgram("admin", async () => [await open("ClassOverride"), await open("NoClass")])).toEqual([0, 0]);
  });

  it("a class security that is not SDDL is refused at load, naming the JSON path", async () => {
    const file = join(tmp, "bad-security.json");
    writeFileSync(file, JSON.stringify({
      description: "bad", classes: { TOASTER: { guid: TOASTER_CLASS, security: "D:P(A;;GA;;;NOBODY)" } },
      drivers: [{ service: "toaster", module: join(root, "src/drivers/toaster/function.ts"), role: "function", ids: ["X"], class: "TOASTER" }],
    }));
    const e = await loadDriverPackageFile(file).then(() => null, (x) => x);
    expect(e).toBeInstanceOf(FirmwareError);
    expect((e as FirmwareError).message).toContain("/classes/TOASTER/security");
    expect((e as FirmwareError).message).toMatch(/"NOBODY" is not a SID/);
  });
});
