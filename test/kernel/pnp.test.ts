// The PnP manager: device node states, driver binding order, the IRPs of start, stop,
// removal, surprise removal and ejection, and the verifier's PnP rules, as Windows does
// them (WDK: "Starting, Stopping and Removing Devices", "Handling IRPs", Driver Verifier
// I/O verification; shared/specs/nt-semantics.md).
import { describe, expect, it } from "vitest";
import {
  type Machine, type DriverPackage, type DEVICE_OBJECT, type IRP, IO_NO_INCREMENT, IoAllocateIrp, IoCallDriver, IoGetNextIrpStackLocation, IRP_MJ_PNP,
  IRP_MN_QUERY_CAPABILITIES, STATUS_SUCCESS, STATUS_UNSUCCESSFUL, STATUS_NOT_SUPPORTED, STATUS_DEVICE_BUSY,
  IRP_MN_QUERY_REMOVE_DEVICE, IRP_MN_QUERY_STOP_DEVICE, IRP_MN_START_DEVICE, PNP, CreateFile, CloseHandle, DeviceIoControl,
  GENERIC_READ, GENERIC_WRITE, OPEN_EXISTING, INVALID_HANDLE_VALUE, GetLastError, ERROR_FILE_NOT_FOUND, IoCompleteRequest,
  IoSetCompletionRoutine, STATUS_MORE_PROCESSING_REQUIRED, IoGetCurrentIrpStackLocation, IRP_MN_QUERY_PNP_DEVICE_STATE, PNP_DEVICE_FAILED,
  CmResourceTypeMemory, IRP_MN_QUERY_RESOURCE_REQUIREMENTS, CM_RESOURCE_INTERRUPT_MESSAGE, CM_RESOURCE_INTERRUPT_LATCHED, CM_RESOURCE_INTERRUPT_MESSAGE_TOKEN,
  IO_RESOURCE_ALTERNATIVE, type IO_RESOURCE_REQUIREMENTS_LIST, IRP_MJ_POWER, IRP_MJ_DEVICE_CONTROL, IoMarkIrpPending, STATUS_PENDING, IoSetNextIrpStackLocation, IoCopyCurrentIrpStackLocationToNext, MmMapIoSpace, MmUnmapIoSpace, MEMORY_CACHING_TYPE, IRP_MN_QUERY_INTERFACE, ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE,
} from "../../src/index.js";
import { type DEVICE_NODE, PNP_DEVNODE_STATE, CM_PROB_DISABLED, CM_PROB_FAILED_INSTALL, CM_PROB_FAILED_START, CM_PROB_FAILED_POST_START } from "../../src/pnp/devnode.js";
import { disableDevice, enableDevice, restartDevice, stopDevice, IoInvalidateDeviceState } from "../../src/pnp/requests.js";
import { eduPackage } from "../../src/drivers/edu/package.js";
import { IOCTL_EDU_CHECK_LIVENESS, IOCTL_EDU_COMPUTE_FACTORIAL } from "../../src/drivers/edu/public.js";
import { IO } from "../../src/io/manager.js";
import { READ_REGISTER_ULONG } from "../../src/hal/registers.js";
import { asDriver, bootDefault, crash, createTestDevice, createTestDriver, expectBugCheck, kernelOf, eduExtension, spawnThread, sleep100ns } from "../support/kernel-harness.js";
import { KE } from "../../src/ke/kernel.js";
import { HAL } from "../../src/hal/hal.js";
import { BUS_INTERFACE_STANDARD, GUID_BUS_INTERFACE_STANDARD, PCI_WHICHSPACE_CONFIG } from "../../src/pnp/interface.js";
import { READ_REGISTER_USHORT } from "../../src/hal/registers.js";
import { classFilter, deviceFilter, type SeenIrp } from "../support/pnp-filters.js";

const S = PNP_DEVNODE_STATE;
const EDU_ID = "PCI\\VEN_1234&DEV_11E8";
const EDU_CLASS = { name: "EduClass", guid: "{6f1c2b8e-3d4a-4c5b-9e7f-0a1b2c3d4e5f}" };

function eduNode(machine: Machine): DEVICE_NODE {
  const node = [...PNP(kernelOf(machine)).allNodes()].find((n) => n.HardwareIds.some((id) => id.startsWith(EDU_ID)));
  if (!node) throw new Error("no edu node");
  return node;
}

/** The services of the edu stack, bottom (PDO's bus driver) to top. */
function stackServices(node: DEVICE_NODE): string[] {
  const out: string[] = [];
  for (let d: typeof node.PhysicalDeviceObject | null = node.PhysicalDeviceObject; d; d = d.AttachedDevice) out.push(d.DriverObject.serviceName);
  return out;
}

function minorsAt(log: SeenIrp[], service: string): string[] {
  return log.filter((e) => e.at === service).map((e) => e.minor);
}

async function bootWithFilters(packages: DriverPackage[], verifier = true): Promise<Machine> {
  return bootDefault({ verifier }, { packages: [{ ...eduPackage, setupClass: EDU_CLASS }, ...packages] });
}

describe("device nodes and binding", () => {
  it("a started device has gone Uninitialized -> Initialized -> DriversAdded -> ResourcesAssigned -> StartPending -> Started", async () => {
    const machine = await bootDefault();
    const node = eduNode(machine);
    expect(node.State).toBe(S.DeviceNodeStarted);
    expect(node.PreviousState).toBe(S.DeviceNodeStartPending);
    expect(node.StateHistory).toEqual([S.DeviceNodeUninitialized, S.DeviceNodeInitialized, S.DeviceNodeDriversAdded, S.DeviceNodeResourcesAssigned, S.DeviceNodeStartPending]);
    expect(node.Problem).toBe(0);
  });

  it("the state values are Windows' PNP_DEVNODE_STATE values", () => {
    expect([S.DeviceNodeUnspecified, S.DeviceNodeUninitialized, S.DeviceNodeInitialized, S.DeviceNodeDriversAdded, S.DeviceNodeStarted, S.DeviceNodeQueryRemoved, S.DeviceNodeRemoved, S.DeviceNodeDeleted])
      .toEqual([0x300, 0x301, 0x302, 0x303, 0x308, 0x310, 0x312, 0x314]);
    expect([CM_PROB_FAILED_START, CM_PROB_DISABLED, CM_PROB_FAILED_INSTALL, CM_PROB_FAILED_POST_START]).toEqual([10, 22, 28, 43]);
  });

  it("drivers load bottom to top: device lower filters, class lower filters, the function driver, device upper filters, class upper filters", async () => {
    const log: SeenIrp[] = [];
    const machine = await bootWithFilters([
      classFilter("clsupper", "upperFilter", [EDU_CLASS.name], log),
      deviceFilter("devupper", "upperFilter", [EDU_ID], log),
      classFilter("clslower", "lowerFilter", [EDU_CLASS.guid], log),
      deviceFilter("devlower", "lowerFilter", [EDU_ID], log),
    ]);
    const node = eduNode(machine);
    expect(stackServices(node)).toEqual(["pci", "devlower", "clslower", "edu", "devupper", "clsupper"]);
    expect(log.filter((e) => e.minor === "AddDevice").map((e) => e.at)).toEqual(["devlower", "clslower", "devupper", "clsupper"]);
    expect(node.ServiceName).toBe("edu");
    expect(node.ClassName).toBe(EDU_CLASS.name);
  });

  it("every PnP IRP reaches the top of the stack with IoStatus.Status = STATUS_NOT_SUPPORTED", async () => {
    const log: SeenIrp[] = [];
    await bootWithFilters([deviceFilter("devupper", "upperFilter", [EDU_ID], log)]);
    const seen = log.filter((e) => e.minor !== "AddDevice");
    expect(seen.map((e) => e.minor)).toContain("IRP_MN_START_DEVICE");
    expect(seen.map((e) => e.minor)).toContain("IRP_MN_QUERY_DEVICE_RELATIONS");
    for (const e of seen) expect(e.status >>> 0).toBe(STATUS_NOT_SUPPORTED >>> 0);
  });

  it("after START_DEVICE the PnP manager asks for the PnP device state and the children", async () => {
    const log: SeenIrp[] = [];
    await bootWithFilters([deviceFilter("devupper", "upperFilter", [EDU_ID], log)]);
    const minors = minorsAt(log, "devupper");
    const start = minors.indexOf("IRP_MN_START_DEVICE");
    expect(start).toBeGreaterThan(0);
    expect(minors.slice(start + 1)).toEqual(["IRP_MN_QUERY_PNP_DEVICE_STATE", "IRP_MN_QUERY_DEVICE_RELATIONS"]);
    // Resources are gathered before the start.
    expect(minors.slice(0, start)).toContain("IRP_MN_QUERY_RESOURCES");
    expect(minors.slice(0, start)).toContain("IRP_MN_QUERY_RESOURCE_REQUIREMENTS");
  });

  it("a device no package matches keeps CM_PROB_FAILED_INSTALL and no driver", async () => {
    const machine = await bootDefault({}, { packages: [{ ...eduPackage, ids: ["PCI\\VEN_FFFF&DEV_FFFF"] }] });
    const node = eduNode(machine);
    expect(node.Problem).toBe(CM_PROB_FAILED_INSTALL);
    expect(node.State).toBe(S.DeviceNodeInitialized);
    expect(node.PhysicalDeviceObject.AttachedDevice).toBeNull();
  });

  it("a failed START_DEVICE leaves the node removed with CM_PROB_FAILED_START, its drivers' devices gone", async () => {
    const log: SeenIrp[] = [];
    const machine = await bootWithFilters([deviceFilter("devupper", "upperFilter", [EDU_ID], log, { fail: { [IRP_MN_START_DEVICE]: STATUS_UNSUCCESSFUL } })]);
    const node = eduNode(machine);
    expect(node.State).toBe(S.DeviceNodeRemoved);
    expect(node.Problem).toBe(CM_PROB_FAILED_START);
    expect(node.ProblemStatus >>> 0).toBe(STATUS_UNSUCCESSFUL >>> 0);
    expect(minorsAt(log, "devupper")).toContain("IRP_MN_REMOVE_DEVICE");
    expect(node.PhysicalDeviceObject.AttachedDevice).toBeNull();
  });
});

describe("orderly removal, stop and restart", () => {
  it("disable sends QUERY_REMOVE then REMOVE; the node stays with CM_PROB_DISABLED; drivers left without devices unload", async () => {
    const log: SeenIrp[] = [];
    const machine = await bootWithFilters([deviceFilter("devupper", "upperFilter", [EDU_ID], log)]);
    const node = eduNode(machine);
    const before = log.length;
    const r = await machine.exec(() => disableDevice(node));
    expect(r.ok).toBe(true);
    expect(log.slice(before).map((e) => e.minor)).toEqual(["IRP_MN_QUERY_REMOVE_DEVICE", "IRP_MN_REMOVE_DEVICE", "DriverUnload"]);
    expect(node.State).toBe(S.DeviceNodeRemoved);
    expect(node.Problem).toBe(CM_PROB_DISABLED);
    expect(node.PhysicalDeviceObject.AttachedDevice).toBeNull();
    const io = IO(kernelOf(machine));
    expect(io.drivers.has("edu")).toBe(false);
    expect(io.drivers.has("devupper")).toBe(false);
    // The PDO stays: the device is still there.
    expect(node.PhysicalDeviceObject.deleted).toBe(false);
  });

  it("enable loads the drivers again and the device works", async () => {
    const machine = await bootDefault();
    const node = eduNode(machine);
    await machine.exec(() => disableDevice(node));
    const r = await machine.exec(() => enableDevice(node));
    expect(r.ok).toBe(true);
    expect(node.State).toBe(S.DeviceNodeStarted);
    expect(node.Problem).toBe(0);
    const alive = await machine.runProgram("user", async () => {
      const h = await CreateFile("\\\\.\\Edu0", GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
      const input = new Uint8Array([0x78, 0x56, 0x34, 0x12]);
      const out = new Uint8Array(4);
      const res = await DeviceIoControl(h, IOCTL_EDU_CHECK_LIVENESS, input, 4, out, 4);
      await CloseHandle(h);
      return { ok: res.ok, value: new DataView(out.buffer).getUint32(0, true) };
    });
    expect(alive).toEqual({ ok: true, value: ~0x12345678 >>> 0 });
  });

  it("a driver failing QUERY_REMOVE vetoes it: the others get CANCEL_REMOVE and the device keeps running", async () => {
    const log: SeenIrp[] = [];
    const machine = await bootWithFilters([
      deviceFilter("devlower", "lowerFilter", [EDU_ID], log),
      deviceFilter("devupper", "upperFilter", [EDU_ID], log, { fail: { [IRP_MN_QUERY_REMOVE_DEVICE]: STATUS_UNSUCCESSFUL } }),
    ]);
    const node = eduNode(machine);
    const before = log.length;
    const r = await machine.exec(() => disableDevice(node));
    expect(r.ok).toBe(false);
    const after = log.slice(before).map((e) => `${e.at}:${e.minor}`);
    // The vetoing stack gets CANCEL_REMOVE too: drivers above the one that failed saw the query.
    expect(after).toEqual(["devupper:IRP_MN_QUERY_REMOVE_DEVICE", "devupper:IRP_MN_CANCEL_REMOVE_DEVICE", "devlower:IRP_MN_CANCEL_REMOVE_DEVICE"]);
    expect(node.State).toBe(S.DeviceNodeStarted);
  });

  it("stop sends QUERY_STOP then STOP; restart sends START_DEVICE with the same resources", async () => {
    const log: SeenIrp[] = [];
    const machine = await bootWithFilters([deviceFilter("devupper", "upperFilter", [EDU_ID], log)]);
    const node = eduNode(machine);
    const resources = node.resources;
    const before = log.length;
    expect((await machine.exec(() => stopDevice(node))).ok).toBe(true);
    expect(node.State).toBe(S.DeviceNodeStopped);
    expect((await machine.exec(() => restartDevice(node))).ok).toBe(true);
    expect(log.slice(before).map((e) => e.minor)).toEqual([
      "IRP_MN_QUERY_STOP_DEVICE", "IRP_MN_STOP_DEVICE", "IRP_MN_START_DEVICE", "IRP_MN_QUERY_PNP_DEVICE_STATE", "IRP_MN_QUERY_DEVICE_RELATIONS",
    ]);
    expect(node.State).toBe(S.DeviceNodeStarted);
    expect(node.resources).toBe(resources);
  });

  it("a failed QUERY_STOP is followed by CANCEL_STOP and the device stays started", async () => {
    const log: SeenIrp[] = [];
    const machine = await bootWithFilters([deviceFilter("devupper", "upperFilter", [EDU_ID], log, { fail: { [IRP_MN_QUERY_STOP_DEVICE]: STATUS_DEVICE_BUSY } })]);
    const node = eduNode(machine);
    const before = log.length;
    expect((await machine.exec(() => stopDevice(node))).ok).toBe(false);
    expect(log.slice(before).map((e) => e.minor)).toEqual(["IRP_MN_QUERY_STOP_DEVICE", "IRP_MN_CANCEL_STOP_DEVICE"]);
    expect(node.State).toBe(S.DeviceNodeStarted);
  });
});

describe("surprise removal", () => {
  it("a PCI function pulled out with a request in flight: reads return all ones, the request fails, SURPRISE_REMOVAL now and REMOVE after the last handle closes", async () => {
    const log: SeenIrp[] = [];
    const machine = await bootWithFilters([deviceFilter("devupper", "upperFilter", [EDU_ID], log)]);
    const k = kernelOf(machine);
    const node = eduNode(machine);
    const ext = eduExtension(machine);
    const bar0 = node.resources!.translated.List[0].PartialResourceList.PartialDescriptors.find((d) => d.Type === CmResourceTypeMemory)!.u.Memory!.Start;
    const irpsBefore = IO(k).irps.size;
    // A program opens the device and starts a long factorial; a system thread pulls the function while it is in the device.
    const program = machine.runProgram("user", async () => {
      spawnThread("hot-unplug", async () => {
        while (!ext.PendingIrp) await sleep100ns(1);
        HAL(k).presenceChanged(machine.pullFunction("00:03.0"));
      });
      const h = await CreateFile("\\\\.\\Edu0", GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
      const input = new Uint8Array([12, 0, 0, 0]);
      const out = new Uint8Array(4);
      const r = await DeviceIoControl(h, IOCTL_EDU_COMPUTE_FACTORIAL, input, 4, out, 4);
      const error = GetLastError();
      // The PnP manager has sent SURPRISE_REMOVAL (it completed the request); REMOVE waits for this handle.
      await sleep100ns(1000);
      const stateBeforeClose = node.State;
      await CloseHandle(h);
      return { ok: r.ok, error, stateBeforeClose };
    });
    const result = await program;
    // The last close queued the REMOVE for the PnP manager's thread; let it run.
    await machine.exec(() => PNP(k).perform("sync", async () => {}));
    expect(result.ok).toBe(false);
    // The driver failed it with STATUS_NO_SUCH_DEVICE.
    expect(result.error).toBe(ERROR_FILE_NOT_FOUND);
    expect(result.stateBeforeClose).toBe(S.DeviceNodeRemovePendingCloses);
    const minors = minorsAt(log, "devupper");
    expect(minors.slice(-3)).toEqual(["IRP_MN_SURPRISE_REMOVAL", "IRP_MN_REMOVE_DEVICE", "DriverUnload"]);
    expect(node.State).toBe(S.DeviceNodeDeleted);
    expect([...PNP(k).allNodes()]).not.toContain(node);
    expect(node.PhysicalDeviceObject.deleted).toBe(true);
    // The hardware is gone: its registers, mapped afresh, read as all ones.
    const id = await machine.exec(() => {
      const va = MmMapIoSpace(bar0, 0x1000, MEMORY_CACHING_TYPE.MmNonCached);
      const value = READ_REGISTER_ULONG(va);
      MmUnmapIoSpace(va, 0x1000);
      return value;
    });
    expect(id >>> 0).toBe(0xFFFFFFFF);
    // Nothing leaks: no IRP is left, and the name is free again.
    expect(IO(k).irps.size).toBe(irpsBefore);
    const reopen = await machine.runProgram("user2", async () => {
      const h = await CreateFile("\\\\.\\Edu0", GENERIC_READ, 0, null, OPEN_EXISTING, 0, null);
      return { invalid: h === INVALID_HANDLE_VALUE, error: GetLastError() };
    });
    expect(reopen).toEqual({ invalid: true, error: ERROR_FILE_NOT_FOUND });
  });

  it("without open handles REMOVE follows SURPRISE_REMOVAL at once, and the edu driver unloads", async () => {
    const log: SeenIrp[] = [];
    const machine = await bootWithFilters([deviceFilter("devupper", "upperFilter", [EDU_ID], log)]);
    const node = eduNode(machine);
    await machine.surpriseRemove("00:03.0");
    expect(minorsAt(log, "devupper").slice(-3)).toEqual(["IRP_MN_SURPRISE_REMOVAL", "IRP_MN_REMOVE_DEVICE", "DriverUnload"]);
    expect(node.State).toBe(S.DeviceNodeDeleted);
    expect(IO(kernelOf(machine)).drivers.has("edu")).toBe(false);
  });

  it("a device reporting PNP_DEVICE_FAILED is surprise-removed and stays with CM_PROB_FAILED_POST_START", async () => {
    const log: SeenIrp[] = [];
    const machine = await bootWithFilters([deviceFilter("devupper", "upperFilter", [EDU_ID], log)]);
    const k = kernelOf(machine);
    const node = eduNode(machine);
    // The filter below answers QUERY_PNP_DEVICE_STATE with PNP_DEVICE_FAILED from now on.
    const top = node.PhysicalDeviceObject.AttachedDevice!.AttachedDevice!;
    const original = top.DriverObject.MajorFunction[IRP_MJ_PNP];
    top.DriverObject.MajorFunction[IRP_MJ_PNP] = (d: DEVICE_OBJECT, irp: IRP) => {
      if (IoGetCurrentIrpStackLocation(irp).MinorFunction === IRP_MN_QUERY_PNP_DEVICE_STATE) {
        irp.IoStatus.Status = STATUS_SUCCESS;
        irp.IoStatus.Information = PNP_DEVICE_FAILED;
        IoCompleteRequest(irp, IO_NO_INCREMENT);
        return STATUS_SUCCESS;
      }
      return original(d, irp);
    };
    await machine.exec(async () => {
      IoInvalidateDeviceState(node.PhysicalDeviceObject);
      await PNP(k).perform("sync", async () => {});
    });
    expect(node.Problem).toBe(CM_PROB_FAILED_POST_START);
    expect(node.State).toBe(S.DeviceNodeRemoved);
    expect(minorsAt(log, "devupper")).toContain("IRP_MN_SURPRISE_REMOVAL");
  });

});

describe("verifier PnP rules (0xC9)", () => {
  it("AddDevice leaving DO_DEVICE_INITIALIZING set is 0xC9 / 0x243 with P4 = the device object", async () => {
    const log: SeenIrp[] = [];
    let error: unknown;
    try {
      await bootWithFilters([deviceFilter("devupper", "upperFilter", [EDU_ID], log, { keepInitializing: true })]);
    } catch (e) {
      error = e;
    }
    const bc = error as { code: number; parameters: bigint[] };
    expect(bc.code).toBe(0xC9);
    expect(bc.parameters[0]).toBe(0x243n);
    expect(bc.parameters[3]).not.toBe(0n);
  });

  it("a driver that does not detach on REMOVE is 0xC9 / 0x21D; one that does not delete is 0x21E", async () => {
    for (const [behaviour, code] of [[{ noDetach: true }, 0x21D], [{ noDelete: true }, 0x21E]] as const) {
      const log: SeenIrp[] = [];
      const machine = await bootWithFilters([deviceFilter("devupper", "upperFilter", [EDU_ID], log, behaviour)]);
      const node = eduNode(machine);
      const filterDevice = node.PhysicalDeviceObject.AttachedDevice!.AttachedDevice!;
      let error: unknown;
      try {
        await machine.exec(() => disableDevice(node));
      } catch (e) {
        error = e;
      }
      const bc = error as { code: number; parameters: bigint[] };
      expect(bc.code).toBe(0xC9);
      expect(bc.parameters[0]).toBe(BigInt(code));
      expect(bc.parameters[3]).toBe(BigInt(filterDevice.address));
    }
  });

  for (const [major, code, what] of [[IRP_MJ_PNP, 0x20E, "PnP"], [IRP_MJ_POWER, 0x20F, "power"]] as const) {
    it(`a ${what} IRP sent without IoStatus.Status = STATUS_NOT_SUPPORTED is 0xC9 / 0x${code.toString(16).toUpperCase()} (P3 the IRP)`, async () => {
      let irpAddress = 0;
      const bc = await crash(async () => {
        const node = [...PNP(KE()).allNodes()].find((n) => n.ServiceName === "edu")!;
        const top = node.PhysicalDeviceObject.AttachedDevice!;
        const irp = IoAllocateIrp(top.StackSize, false)!;
        irpAddress = irp.address;
        // A fresh IRP's status is 0 (STATUS_SUCCESS): the sender forgot to set STATUS_NOT_SUPPORTED.
        const s = IoGetNextIrpStackLocation(irp);
        s.MajorFunction = major;
        s.MinorFunction = major === IRP_MJ_PNP ? IRP_MN_QUERY_CAPABILITIES : 0x03;
        IoSetCompletionRoutine(irp, () => STATUS_MORE_PROCESSING_REQUIRED, null, true, true, true);
        await IoCallDriver(top, irp);
      });
      expectBugCheck(bc, 0xC9, code, undefined, irpAddress);
    });
  }

  it("a completion routine of a driver unloaded while its IRP was pending is 0xCE, P1 = P3 = the routine", async () => {
    const bc = await crash(async () => {
      const holder = await createTestDevice("holder");
      let held: IRP | null = null;
      holder.DriverObject.MajorFunction[IRP_MJ_DEVICE_CONTROL] = (_d: DEVICE_OBJECT, irp: IRP) => {
        IoMarkIrpPending(irp);
        held = irp;
        return STATUS_PENDING;
      };
      const leaky = await createTestDriver("leaky");
      const irp = IoAllocateIrp(holder.StackSize + 1, false)!;
      IoSetNextIrpStackLocation(irp);
      IoGetCurrentIrpStackLocation(irp).MajorFunction = IRP_MJ_DEVICE_CONTROL;
      IoCopyCurrentIrpStackLocationToNext(irp);
      asDriver(leaky.serviceName, "LeakyDispatch", () => IoSetCompletionRoutine(irp, function LeakyCompletion() { return STATUS_SUCCESS; }, null, true, true, true));
      await IoCallDriver(holder, irp);
      // The driver goes (it has no device objects) while its IRP is still in the device below.
      await IO(KE()).unloadDriver(leaky);
      held!.IoStatus.Status = STATUS_SUCCESS;
      IoCompleteRequest(held!, IO_NO_INCREMENT);
    });
    expect(bc.code).toBe(0xCE);
    expect(bc.parameters[0]).not.toBe(0n);
    expect(bc.parameters[2]).toBe(bc.parameters[0]);
  });

  it("a driver that unloads without freeing its pool is 0xC4 / 0x62 (P2 its name, P4 the allocations left)", async () => {
    const log: SeenIrp[] = [];
    const machine = await bootWithFilters([deviceFilter("devupper", "upperFilter", [EDU_ID], log, { leakPool: 2 })]);
    const driver = IO(kernelOf(machine)).drivers.get("devupper")!;
    const node = eduNode(machine);
    let error: unknown;
    try {
      await machine.exec(() => disableDevice(node));
    } catch (e) {
      error = e;
    }
    const bc = error as { code: number; parameters: bigint[]; context: { driver: string } };
    expect(bc.code).toBe(0xC4);
    expect(bc.parameters[0]).toBe(0x62n);
    expect(bc.parameters[1]).toBe(BigInt(driver.address + 0x38));
    expect(bc.parameters[3]).toBe(2n);
    expect(bc.context.driver).toBe("devupper");
  });

  it("without the verifier the same mistakes pass", async () => {
    const log: SeenIrp[] = [];
    const machine = await bootWithFilters([deviceFilter("devupper", "upperFilter", [EDU_ID], log, { keepInitializing: true })], false);
    expect(eduNode(machine).State).toBe(S.DeviceNodeStarted);
  });
});

describe("IRP_MN_QUERY_INTERFACE", () => {
  it("the PCI bus driver hands out BUS_INTERFACE_STANDARD: GetBusData reads the function's configuration space, with a reference taken", async () => {
    const machine = await bootDefault();
    const k = kernelOf(machine);
    const node = eduNode(machine);
    const r = await machine.exec(async () => {
      const wanted = new BUS_INTERFACE_STANDARD();
      const irp = await PNP(k).sendPnp(node.PhysicalDeviceObject, IRP_MN_QUERY_INTERFACE, (i) => {
        const q = IoGetNextIrpStackLocation(i).Parameters.QueryInterface;
        q.InterfaceType = GUID_BUS_INTERFACE_STANDARD;
        q.Size = BUS_INTERFACE_STANDARD.SIZE;
        q.Version = 1;
        q.Interface = wanted;
      });
      const buffer = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 8, "Test");
      const read = wanted.GetBusData(wanted.Context, PCI_WHICHSPACE_CONFIG, buffer, 0, 4);
      const ids = [READ_REGISTER_USHORT(buffer), READ_REGISTER_USHORT(buffer + 2)];
      const clipped = wanted.GetBusData(wanted.Context, PCI_WHICHSPACE_CONFIG, buffer, 254, 8);
      const references = (wanted.Context as { interfaceReferences: number }).interfaceReferences;
      wanted.InterfaceDereference(wanted.Context);
      ExFreePoolWithTag(buffer, "Test");
      return { status: irp.IoStatus.Status, read, ids, clipped, references, after: (wanted.Context as { interfaceReferences: number }).interfaceReferences };
    });
    expect(r).toEqual({ status: STATUS_SUCCESS, read: 4, ids: [0x1234, 0x11E8], clipped: 2, references: 1, after: 0 });
  });

  it("an interface the bus does not export leaves the IRP at STATUS_NOT_SUPPORTED", async () => {
    const machine = await bootDefault();
    const k = kernelOf(machine);
    const node = eduNode(machine);
    const status = await machine.exec(async () => {
      const irp = await PNP(k).sendPnp(node.PhysicalDeviceObject, IRP_MN_QUERY_INTERFACE, (i) => {
        const q = IoGetNextIrpStackLocation(i).Parameters.QueryInterface;
        q.InterfaceType = "{00000000-0000-0000-0000-000000000001}";
        q.Size = 0x40;
        q.Version = 1;
        q.Interface = new BUS_INTERFACE_STANDARD();
      });
      return irp.IoStatus.Status;
    });
    expect(status >>> 0).toBe(STATUS_NOT_SUPPORTED >>> 0);
  });
});

describe("resource requirements", () => {
  it("the PCI bus driver asks for the BAR where it placed it, one MSI message (MaximumVector the message token), and the INTx line as the alternative", async () => {
    const machine = await bootDefault();
    const node = eduNode(machine);
    const list = await machine.exec(() => PNP(KE()).query<IO_RESOURCE_REQUIREMENTS_LIST>(node.PhysicalDeviceObject, IRP_MN_QUERY_RESOURCE_REQUIREMENTS));
    const [memory, message, line] = list!.List[0].Descriptors;
    const bar = node.resources!.raw.List[0].PartialResourceList.PartialDescriptors[0].u.Memory!;
    expect(memory.u.Memory).toEqual({ Length: 0x100000, Alignment: 0x100000, MinimumAddress: bar.Start, MaximumAddress: bar.Start + 0xFFFFF });
    expect(message.Flags).toBe(CM_RESOURCE_INTERRUPT_MESSAGE | CM_RESOURCE_INTERRUPT_LATCHED);
    expect(message.u.Interrupt).toEqual({ MinimumVector: 0xFFFFFFFE, MaximumVector: CM_RESOURCE_INTERRUPT_MESSAGE_TOKEN });
    expect(line.Option).toBe(IO_RESOURCE_ALTERNATIVE);
    expect(line.u.Interrupt!.MinimumVector).toBe(line.u.Interrupt!.MaximumVector);
    expect(node.resources!.messages).toHaveLength(1);
  });

  it("a filter that takes the message descriptors out of IRP_MN_FILTER_RESOURCE_REQUIREMENTS leaves the device its line interrupt, and it still works", async () => {
    const log: SeenIrp[] = [];
    const withoutMessages = (list: IO_RESOURCE_REQUIREMENTS_LIST): IO_RESOURCE_REQUIREMENTS_LIST => ({
      ...list,
      List: list.List.map((l) => {
        const Descriptors = l.Descriptors.filter((d) => (d.Flags & CM_RESOURCE_INTERRUPT_MESSAGE) === 0).map((d) => ({ ...d, Option: 0 }));
        return { ...l, Count: Descriptors.length, Descriptors };
      }),
    });
    const machine = await bootWithFilters([deviceFilter("devupper", "upperFilter", [EDU_ID], log, { filterRequirements: withoutMessages })]);
    const node = eduNode(machine);
    expect(node.resources!.messages).toHaveLength(0);
    expect(node.resources!.lines).toHaveLength(1);
    const result = await machine.runProgram("user", async () => {
      const h = await CreateFile("\\\\.\\Edu0", GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
      const out = new Uint8Array(4);
      const r = await DeviceIoControl(h, IOCTL_EDU_COMPUTE_FACTORIAL, new Uint8Array([5, 0, 0, 0]), 4, out, 4);
      await CloseHandle(h);
      return { ok: r.ok, value: new DataView(out.buffer).getUint32(0, true) };
    });
    expect(result).toEqual({ ok: true, value: 120 });
  });
});
