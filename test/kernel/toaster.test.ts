// The toaster family end to end: the software bus plugs in, unplugs and ejects toasters;
// the function driver and four filters bind in Windows' order; requests wait while a
// toaster is stopped; surprise removal and ejection follow the PnP rules; and nothing
// is left behind.
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, CloseHandle, CreateFile, DeviceIoControl, GENERIC_READ, GENERIC_WRITE, GetLastError, INVALID_HANDLE_VALUE, OPEN_EXISTING,
  ERROR_INVALID_PARAMETER, PNP, PNP_DEVICE_DONT_DISPLAY_IN_UI, IoGetDeviceProperty, DEVICE_REGISTRY_PROPERTY, INTERFACE_TYPE,
  STATUS_SUCCESS,
} from "../../src/index.js";
import { PNP_DEVNODE_STATE, type DEVICE_NODE } from "../../src/pnp/devnode.js";
import { IO } from "../../src/io/manager.js";
import { Sleep } from "../../src/io/sync-objects.js";
import { bootDefault, kernelOf } from "../support/kernel-harness.js";
import { interfacePaths } from "../support/interfaces.js";
import { runToasterWorkload, TOASTER_BOOT_OPTIONS } from "../../src/workloads/toaster.js";
import {
  BUS_HARDWARE_IDS, encodePlugin, encodeUnplug, GUID_DEVINTERFACE_BUSENUM_TOASTER, GUID_DEVINTERFACE_TOASTER, IOCTL_BUSENUM_EJECT_HARDWARE,
  IOCTL_BUSENUM_PLUGIN_HARDWARE, IOCTL_BUSENUM_UNPLUG_HARDWARE, IOCTL_TOASTER_DONT_DISPLAY_IN_UI_DEVICE,
} from "../../src/drivers/toaster/public.js";
import type { PDO_DEVICE_DATA } from "../../src/drivers/toaster/bus.js";

const paths = interfacePaths;

/** Sends a bus IOCTL from a program; returns whether it succeeded and the last error. */
async function bus(machine: Machine, code: number, input: Uint8Array): Promise<{ ok: boolean; error: number }> {
  return machine.runProgram("bus", async () => {
    const h = await CreateFile(paths(GUID_DEVINTERFACE_BUSENUM_TOASTER)[0], GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
    const r = await DeviceIoControl(h, code, input, input.length, null, 0);
    const error = GetLastError();
    await CloseHandle(h);
    // Let the PnP manager act on the change.
    await Sleep(2);
    return { ok: r.ok, error };
  });
}

function toasters(machine: Machine): DEVICE_NODE[] {
  return [...PNP(kernelOf(machine)).allNodes()].filter((n) => n.HardwareIds.includes(BUS_HARDWARE_IDS));
}

function stackOf(node: DEVICE_NODE): string[] {
  const out: string[] = [];
  for (let d: typeof node.PhysicalDeviceObject | null = node.PhysicalDeviceObject; d; d = d.AttachedDevice) out.push(d.DriverObject.serviceName);
  return out;
}

describe("the toaster scenario (wdmsim run --workload toaster)", () => {
  it("plugs in three, uses them, stops one, surprise-removes one, ejects one, unplugs all, and leaves nothing", async () => {
    const machine = await bootDefault({}, TOASTER_BOOT_OPTIONS);
    const r = await runToasterWorkload(machine);
    expect(r.enumerated).toHaveLength(3);
    expect(r.verified).toBe(3);
    expect(r.queuedWhileStopped).toBe(true);
    expect(r.failedAfterSurpriseRemoval).toBe(true);
    expect(r.leaks).toEqual({ irps: 0, devices: 0, drivers: [], poolBytes: 0 });
    expect(r.ok).toBe(true);
    // Every filter saw each toaster start (and toaster 3 start again); reads and writes stop at the
    // function driver, so only the upper filters see them: 3 writes, 3 reads and the read that waited.
    for (const service of ["devlower", "devupper", "clslower", "clsupper"]) {
      expect(r.filterCounts[service]["IRP_MJ_PNP/IRP_MN_START_DEVICE"]).toBe(4);
      expect(r.filterCounts[service]["IRP_MJ_PNP/IRP_MN_STOP_DEVICE"]).toBe(1);
    }
    for (const service of ["devupper", "clsupper"]) {
      expect(r.filterCounts[service]["IRP_MJ_WRITE"]).toBe(3);
      expect(r.filterCounts[service]["IRP_MJ_READ"]).toBe(4);
    }
    for (const service of ["devlower", "clslower"]) expect(r.filterCounts[service]["IRP_MJ_READ"]).toBeUndefined();
    // The device tree after each step: three toasters, then two, one, none.
    const counted = r.steps.map((s) => s.tree.filter((l) => l.includes("MsToaster")).length);
    expect(counted[0]).toBe(0);
    expect(counted[1]).toBe(3);
    expect(counted.at(-1)).toBe(0);
    // The bus stays: only the toaster drivers went.
    expect(IO(kernelOf(machine)).drivers.has("busenum")).toBe(true);
  });

  it("is deterministic: the same seed gives the same trees and counts", async () => {
    const a = await runToasterWorkload(await bootDefault({ seed: 7 }, TOASTER_BOOT_OPTIONS));
    const b = await runToasterWorkload(await bootDefault({ seed: 7 }, TOASTER_BOOT_OPTIONS));
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });
});

describe("the toaster bus", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault({}, TOASTER_BOOT_OPTIONS);
  });

  it("is root-enumerated, started, and found by GUID_DEVINTERFACE_BUSENUM_TOASTER", async () => {
    const node = [...PNP(kernelOf(machine)).allNodes()].find((n) => n.ServiceName === "busenum")!;
    expect(node.InstancePath).toBe("ROOT\\SYSTEM\\0000");
    expect(node.State).toBe(PNP_DEVNODE_STATE.DeviceNodeStarted);
    const found = await machine.runProgram("find", async () => paths(GUID_DEVINTERFACE_BUSENUM_TOASTER));
    expect(found).toHaveLength(1);
    expect(found[0].toLowerCase()).toContain("root#system#0000#{d35f7840-6a0c-11d2-b841-00c04fad5171}");
  });

  it("plugging in a toaster makes the PnP manager enumerate it and bind, bottom to top, devlower, clslower, toaster, devupper, clsupper", async () => {
    expect((await bus(machine, IOCTL_BUSENUM_PLUGIN_HARDWARE, encodePlugin(5))).ok).toBe(true);
    const [node] = toasters(machine);
    expect(node.State).toBe(PNP_DEVNODE_STATE.DeviceNodeStarted);
    expect(stackOf(node)).toEqual(["busenum", "devlower", "clslower", "toaster", "devupper", "clsupper"]);
    expect(node.InstancePath).toMatch(/^\{B85B7C50-6A01-11d2-B841-00C04FAD5171\}\\MsToaster\\\d+&[0-9a-f]+&0&05$/);
    expect(node.Description).toBe("Toaster 05");
    expect(node.CompatibleIds).toEqual(["{B85B7C50-6A01-11d2-B841-00C04FAD5171}\\MsCompatibleToaster"]);
    expect(node.capabilities).toMatchObject({ Removable: true, EjectSupported: true, SurpriseRemovalOK: true, UniqueID: false, Address: 5, UINumber: 5 });
    // The function driver took the bus's direct-call interface at start.
    expect((node.PhysicalDeviceObject.DeviceExtension as PDO_DEVICE_DATA).ToasterInterfaceRefCount).toBe(1);
  });

  it("IoGetDeviceProperty on a toaster's PDO gives what the bus reported and the binding", async () => {
    const [node] = toasters(machine);
    const P = DEVICE_REGISTRY_PROPERTY;
    const props = await machine.exec(() => Object.fromEntries([
      P.DevicePropertyDeviceDescription, P.DevicePropertyHardwareID, P.DevicePropertyCompatibleIDs, P.DevicePropertyClassName, P.DevicePropertyClassGuid,
      P.DevicePropertyLocationInformation, P.DevicePropertyEnumeratorName, P.DevicePropertyBusTypeGuid, P.DevicePropertyLegacyBusType,
      P.DevicePropertyAddress, P.DevicePropertyUINumber, P.DevicePropertyPhysicalDeviceObjectName, P.DevicePropertyDriverKeyName,
    ].map((p) => [P[p], IoGetDeviceProperty(node.PhysicalDeviceObject, p)])));
    expect(props.DevicePropertyDeviceDescription).toEqual({ status: STATUS_SUCCESS, value: "Toaster 05" });
    expect(props.DevicePropertyHardwareID).toEqual({ status: STATUS_SUCCESS, value: [BUS_HARDWARE_IDS] });
    expect(props.DevicePropertyCompatibleIDs.value).toEqual(["{B85B7C50-6A01-11d2-B841-00C04FAD5171}\\MsCompatibleToaster"]);
    expect(props.DevicePropertyClassName.value).toBe("TOASTER");
    expect(props.DevicePropertyClassGuid.value).toBe("{b85b7c50-6a01-11d2-b841-00c04fad5171}");
    expect(props.DevicePropertyLocationInformation.value).toBe("Toaster bus, slot 05");
    expect(props.DevicePropertyEnumeratorName.value).toBe("{B85B7C50-6A01-11d2-B841-00C04FAD5171}");
    expect(props.DevicePropertyBusTypeGuid.value).toBe("{b85b7c50-6a01-11d2-b841-00c04fad5171}");
    expect(props.DevicePropertyLegacyBusType.value).toBe(INTERFACE_TYPE.PNPBus);
    expect([props.DevicePropertyAddress.value, props.DevicePropertyUINumber.value]).toEqual([5, 5]);
    expect(props.DevicePropertyPhysicalDeviceObjectName.value).toBe(node.PhysicalDeviceObject.name);
    // The software key setup made under the TOASTER class: its first instance.
    expect(props.DevicePropertyDriverKeyName.value).toBe("{B85B7C50-6A01-11D2-B841-00C04FAD5171}\\0000");
  });

  it("a second toaster with the same serial number is refused with ERROR_INVALID_PARAMETER", async () => {
    expect(await bus(machine, IOCTL_BUSENUM_PLUGIN_HARDWARE, encodePlugin(5))).toEqual({ ok: false, error: ERROR_INVALID_PARAMETER });
    expect(toasters(machine)).toHaveLength(1);
  });

  it("a malformed request (wrong Size) and an unknown serial are refused", async () => {
    const bad = encodePlugin(6);
    bad[0] = 9;
    expect((await bus(machine, IOCTL_BUSENUM_PLUGIN_HARDWARE, bad)).ok).toBe(false);
    expect((await bus(machine, IOCTL_BUSENUM_UNPLUG_HARDWARE, encodeUnplug(42))).ok).toBe(false);
    expect((await bus(machine, IOCTL_BUSENUM_EJECT_HARDWARE, encodeUnplug(42))).ok).toBe(false);
  });

  it("IOCTL_TOASTER_DONT_DISPLAY_IN_UI_DEVICE makes the device report PNP_DEVICE_DONT_DISPLAY_IN_UI", async () => {
    const [node] = toasters(machine);
    const ok = await machine.runProgram("hide", async () => {
      const h = await CreateFile(paths(GUID_DEVINTERFACE_TOASTER)[0], GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
      const r = await DeviceIoControl(h, IOCTL_TOASTER_DONT_DISPLAY_IN_UI_DEVICE, null, 0, null, 0);
      await CloseHandle(h);
      await Sleep(2);
      return r.ok;
    });
    expect(ok).toBe(true);
    expect(node.pnpDeviceState & PNP_DEVICE_DONT_DISPLAY_IN_UI).toBe(PNP_DEVICE_DONT_DISPLAY_IN_UI);
  });

  it("ejecting sends QUERY_REMOVE, REMOVE and EJECT; the bus then stops listing the toaster and its PDO goes", async () => {
    const [node] = toasters(machine);
    const pdo = node.PhysicalDeviceObject;
    expect((await bus(machine, IOCTL_BUSENUM_EJECT_HARDWARE, encodeUnplug(5))).ok).toBe(true);
    expect(toasters(machine)).toHaveLength(0);
    expect(node.State).toBe(PNP_DEVNODE_STATE.DeviceNodeDeleted);
    expect(pdo.deleted).toBe(true);
    // The interface reference was given back before the toaster went.
    expect((pdo.DeviceExtension as PDO_DEVICE_DATA).ToasterInterfaceRefCount).toBe(0);
    const io = IO(kernelOf(machine));
    expect(io.drivers.has("toaster")).toBe(false);
    expect(io.devices.filter((d) => d.DriverObject.serviceName === "toaster")).toHaveLength(0);
  });

  it("an open handle keeps a surprise-removed toaster's REMOVE waiting; CreateFile on it then fails", async () => {
    expect((await bus(machine, IOCTL_BUSENUM_PLUGIN_HARDWARE, encodePlugin(7))).ok).toBe(true);
    const [node] = toasters(machine);
    const states = await machine.runProgram("holder", async () => {
      const path = paths(GUID_DEVINTERFACE_TOASTER)[0];
      const h = await CreateFile(path, GENERIC_READ, 0, null, OPEN_EXISTING, 0, null);
      const bus2 = await CreateFile(paths(GUID_DEVINTERFACE_BUSENUM_TOASTER)[0], GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
      await DeviceIoControl(bus2, IOCTL_BUSENUM_UNPLUG_HARDWARE, encodeUnplug(7), 16, null, 0);
      await CloseHandle(bus2);
      await Sleep(2);
      const whileOpen = node.State;
      const reopen = await CreateFile(path, GENERIC_READ, 0, null, OPEN_EXISTING, 0, null);
      await CloseHandle(h);
      await Sleep(2);
      return { whileOpen, reopenFailed: reopen === INVALID_HANDLE_VALUE, after: node.State };
    });
    expect(states).toEqual({ whileOpen: PNP_DEVNODE_STATE.DeviceNodeRemovePendingCloses, reopenFailed: true, after: PNP_DEVNODE_STATE.DeviceNodeDeleted });
  });
});
