// Storport initialization: StorPortInitialize's checks of HW_INITIALIZATION_DATA, what
// HwStorFindAdapter's result does to the adapter's start, and the order, IRQL and locks of
// the miniport routines the port calls while it starts an adapter (storport.h, the
// HW_INITIALIZATION_DATA, HW_FIND_ADAPTER, HW_INITIALIZE, HW_PASSIVE_INITIALIZE_ROUTINE,
// HW_ADAPTER_CONTROL and StorPortGetUncachedExtension pages of the WDK documentation).
import { describe, expect, it } from "vitest";
import { IO } from "../../src/io/manager.js";
import { IRP_MJ_SCSI } from "../../src/drivers/storage/srb.js";
import { DISPATCH_LEVEL, PASSIVE_LEVEL } from "../../src/ke/irql.js";
import { NT_SUCCESS, STATUS_INVALID_PARAMETER, STATUS_REVISION_MISMATCH, STATUS_SUCCESS } from "../../src/ke/ntstatus.js";
import { CM_PROB_FAILED_START } from "../../src/pnp/devnode.js";
import { PNP } from "../../src/pnp/manager.js";
import {
  HW_INITIALIZATION_DATA, SCSI_ADAPTER_CONTROL_TYPE, SCSI_UNIT_CONTROL_TYPE, SP_RETURN_BAD_CONFIG, SP_RETURN_ERROR, SP_RETURN_NOT_FOUND,
  SRB_TYPE_FLAG_SCSI_REQUEST_BLOCK, SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK, STOR_FEATURE_VIRTUAL_MINIPORT, StorPortEnablePassiveInitialization,
  StorPortGetPhysicalAddress, StorPortGetUncachedExtension, StorPortInitialize,
} from "../../src/drivers/storport/index.js";
import { STORPORT } from "../../src/drivers/storport/adapter.js";
import type { DRIVER_OBJECT } from "../../src/io/objects.js";
import { adapterNode, bootWithMiniport, devicesOf, pnpAction, TEST_DEVICE_EXTENSION } from "../support/test-miniport.js";

/** HW_INITIALIZATION_DATA with every required routine, as a miniport's DriverEntry fills it. */
function completeInitializationData(): HW_INITIALIZATION_DATA {
  const hw = new HW_INITIALIZATION_DATA();
  hw.HwFindAdapter = () => 0;
  hw.HwInitialize = () => true;
  hw.HwStartIo = () => true;
  hw.HwInterrupt = () => false;
  hw.HwResetBus = () => true;
  hw.HwAdapterControl = () => 0;
  hw.DeviceExtensionSize = 64;
  return hw;
}

describe("StorPortInitialize", () => {
  it("checks HW_INITIALIZATION_DATA: its size (STATUS_REVISION_MISMATCH), the routines every miniport must supply and the SRB types (STATUS_INVALID_PARAMETER)", async () => {
    const { machine, k } = await bootWithMiniport();
    const results = await machine.exec(async () => {
      let n = 0;
      const load = async (edit: (hw: HW_INITIALIZATION_DATA) => void) => {
        let driver: DRIVER_OBJECT | null = null;
        const { status } = await IO(k).loadDriver(`spinit${n++}`, {
          DriverEntry: (DriverObject, RegistryPath) => {
            driver = DriverObject;
            const hw = completeInitializationData();
            edit(hw);
            return StorPortInitialize(DriverObject, RegistryPath, hw, null);
          },
        });
        // A driver object StorPortInitialize accepted is the port's: its AddDevice and dispatch routines.
        const d = driver as DRIVER_OBJECT | null;
        return { status, ports: d !== null && d.DriverExtension.AddDevice !== null && d.MajorFunction[IRP_MJ_SCSI] !== d.MajorFunction[0x1b] };
      };
      return {
        complete: await load(() => {}),
        size: await load((hw) => { hw.HwInitializationDataSize = 0; }),
        noFindAdapter: await load((hw) => { hw.HwFindAdapter = null; }),
        noInitialize: await load((hw) => { hw.HwInitialize = null; }),
        noStartIo: await load((hw) => { hw.HwStartIo = null; }),
        noInterrupt: await load((hw) => { hw.HwInterrupt = null; }),
        noResetBus: await load((hw) => { hw.HwResetBus = null; }),
        noAdapterControl: await load((hw) => { hw.HwAdapterControl = null; }),
        // HwBuildIo is optional; a virtual miniport has no interrupt to handle.
        noBuildIo: await load((hw) => { hw.HwBuildIo = null; }),
        virtualNoInterrupt: await load((hw) => { hw.HwInterrupt = null; hw.FeatureSupport = STOR_FEATURE_VIRTUAL_MINIPORT; }),
        // SrbTypeFlags is 0 or a combination of the SRB_TYPE_FLAG_* values.
        srbTypeZero: await load((hw) => { hw.SrbTypeFlags = 0; }),
        srbTypeBoth: await load((hw) => { hw.SrbTypeFlags = SRB_TYPE_FLAG_SCSI_REQUEST_BLOCK | SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK; }),
      };
    });
    expect(results.complete).toEqual({ status: STATUS_SUCCESS, ports: true });
    expect(results.size.status).toBe(STATUS_REVISION_MISMATCH);
    for (const missing of [results.noFindAdapter, results.noInitialize, results.noStartIo, results.noInterrupt, results.noResetBus, results.noAdapterControl]) {
      expect(missing.status).toBe(STATUS_INVALID_PARAMETER);
    }
    expect(results.noBuildIo.status).toBe(STATUS_SUCCESS);
    expect(results.virtualNoInterrupt.status).toBe(STATUS_SUCCESS);
    expect(results.srbTypeZero.status).toBe(STATUS_SUCCESS);
    expect(results.srbTypeBoth.status).toBe(STATUS_SUCCESS);
  });

  it("DriverEntry returns what StorPortInitialize returned; a refused miniport never gets HwFindAdapter", async () => {
    const { miniport, machine } = await bootWithMiniport({ editInitializationData: (hw) => { hw.HwResetBus = null; } });
    expect(miniport.initializeStatus).toBe(STATUS_INVALID_PARAMETER);
    expect(miniport.calls).toEqual([]);
    expect(NT_SUCCESS(adapterNode(machine, miniport).ProblemStatus)).toBe(false);
  });
});

describe("HwStorFindAdapter's result", () => {
  for (const [name, result] of [["SP_RETURN_NOT_FOUND", SP_RETURN_NOT_FOUND], ["SP_RETURN_ERROR", SP_RETURN_ERROR], ["SP_RETURN_BAD_CONFIG", SP_RETURN_BAD_CONFIG]] as const) {
    it(`${name} fails the adapter's start (CM_PROB_FAILED_START, an error status); HwStorInitialize is never called and the adapter is gone`, async () => {
      const { machine, miniport, k } = await bootWithMiniport({ findAdapterResult: result });
      const node = adapterNode(machine, miniport);
      expect(node.Problem).toBe(CM_PROB_FAILED_START);
      expect(NT_SUCCESS(node.ProblemStatus)).toBe(false);
      expect(miniport.callsOf("HwFindAdapter")).toHaveLength(1);
      expect(miniport.callsOf("HwInitialize")).toEqual([]);
      expect(miniport.callsOf("HwStartIo")).toEqual([]);
      // The failed start was followed by IRP_MN_REMOVE_DEVICE: no FDO, no \Device\RaidPortN, no adapter.
      expect(devicesOf(k, miniport.package.service)).toEqual([]);
      expect([...IO(k).namespace.keys()].filter((n) => n.startsWith("\\device\\raidport"))).toEqual([]);
      expect([...IO(k).symbolicLinks.keys()].filter((n) => n.startsWith("\\dosdevices\\scsi"))).toEqual([]);
      expect([...STORPORT(k).adapters.values()]).toEqual([]);
    });
  }
});

describe("adapter start", () => {
  it("calls HwStorFindAdapter at PASSIVE_LEVEL with no lock, asks ScsiQuerySupportedControlTypes at PASSIVE_LEVEL before the first I/O, then HwStorInitialize at DISPATCH_LEVEL (no interrupt: StartIo lock) and the passive initialization routine at PASSIVE_LEVEL with no lock", async () => {
    const { miniport } = await bootWithMiniport();
    const order = miniport.calls.map((c) => c.routine + (c.routine === "HwAdapterControl" || c.routine === "HwUnitControl" ? `(${c.detail})` : ""));
    const find = miniport.calls.findIndex((c) => c.routine === "HwFindAdapter");
    const query = miniport.calls.findIndex((c) => c.routine === "HwAdapterControl" && c.detail === SCSI_ADAPTER_CONTROL_TYPE.ScsiQuerySupportedControlTypes);
    const init = miniport.calls.findIndex((c) => c.routine === "HwInitialize");
    const passive = miniport.calls.findIndex((c) => c.routine === "HwPassiveInitializeRoutine");
    const firstIo = miniport.calls.findIndex((c) => c.routine === "HwBuildIo" || c.routine === "HwStartIo");
    expect(find, order.join(" ")).toBe(0);
    expect(query).toBeGreaterThan(find);
    expect(init).toBeGreaterThan(find);
    expect(passive).toBeGreaterThan(init);
    expect(firstIo).toBeGreaterThan(Math.max(query, passive));
    const at = (i: number) => miniport.calls[i];
    expect([at(find).irql, at(find).startIoLock]).toEqual([PASSIVE_LEVEL, false]);
    expect([at(query).irql, at(query).startIoLock]).toEqual([PASSIVE_LEVEL, false]);
    expect(at(init).irql).toBeGreaterThanOrEqual(DISPATCH_LEVEL);
    expect([at(passive).irql, at(passive).startIoLock]).toEqual([PASSIVE_LEVEL, false]);
    // Every routine ran once, and HwInterrupt never (the adapter has no interrupt).
    expect(miniport.callsOf("HwFindAdapter")).toHaveLength(1);
    expect(miniport.callsOf("HwInitialize")).toHaveLength(1);
    expect(miniport.callsOf("HwPassiveInitializeRoutine")).toHaveLength(1);
    expect(miniport.callsOf("HwInterrupt")).toEqual([]);
    expect(miniport.ext.PassiveInitializeEnabled).toBe(true);
  });

  it("runs no passive initialization routine unless HwStorInitialize enabled one; StorPortEnablePassiveInitialization outside HwStorInitialize returns FALSE", async () => {
    const calledFromFindAdapter: boolean[] = [];
    const { miniport } = await bootWithMiniport({
      passiveInitialization: false,
      onFindAdapter: (ext) => calledFromFindAdapter.push(StorPortEnablePassiveInitialization(ext, () => true)),
    });
    expect(calledFromFindAdapter).toEqual([false]);
    expect(miniport.callsOf("HwPassiveInitializeRoutine")).toEqual([]);
    expect(miniport.callsOf("HwStartIo").length).toBeGreaterThan(0);
  });

  it("a HwStorInitialize that returns FALSE fails the start", async () => {
    const { machine, miniport, k } = await bootWithMiniport({ editInitializationData: (hw) => { hw.HwInitialize = function TmInitializeFails() { return false; }; } });
    expect(adapterNode(machine, miniport).Problem).toBe(CM_PROB_FAILED_START);
    expect(miniport.callsOf("HwStartIo")).toEqual([]);
    expect(devicesOf(k, miniport.package.service)).toEqual([]);
  });

  it("asks ScsiQuerySupportedUnitControlTypes, then sends ScsiUnitStart at PASSIVE_LEVEL when a unit starts", async () => {
    const { miniport } = await bootWithMiniport({ luns: [0, 1] });
    const unit = miniport.callsOf("HwUnitControl");
    expect(unit[0].detail).toBe(SCSI_UNIT_CONTROL_TYPE.ScsiQuerySupportedUnitControlTypes);
    const starts = unit.filter((c) => c.detail === SCSI_UNIT_CONTROL_TYPE.ScsiUnitStart);
    expect(starts).toHaveLength(2);
    for (const c of starts) expect([c.irql, c.startIoLock]).toEqual([PASSIVE_LEVEL, false]);
  });

  it("keeps the device extension over a stop and restart: HwStorFindAdapter gets it as the miniport left it (zeroed only when first allocated)", async () => {
    const { machine, miniport, k } = await bootWithMiniport();
    const first = miniport.ext;
    (first as TEST_DEVICE_EXTENSION & { Mark?: number }).Mark = 0x5A5A;
    const node = adapterNode(machine, miniport);
    await pnpAction(machine, "stop and start", async () => {
      const pnp = PNP(k);
      expect(await pnp.removal.stop(node)).toBe(true);
      await pnp.startDevice(node);
    });
    const finds = miniport.callsOf("HwFindAdapter");
    expect(finds).toHaveLength(2);
    expect(miniport.extensions).toHaveLength(1);
    expect((miniport.ext as TEST_DEVICE_EXTENSION & { Mark?: number }).Mark).toBe(0x5A5A);
    expect(miniport.ext).toBe(first);
    expect(miniport.callsOf("HwAdapterControl").some((c) => c.detail === SCSI_ADAPTER_CONTROL_TYPE.ScsiStopAdapter)).toBe(true);
  });
});

describe("StorPortGetUncachedExtension", () => {
  it("from HwStorFindAdapter gives device-reachable memory (StorPortGetPhysicalAddress maps all of it), and a second call returns the same extension", async () => {
    const seen: { first: number; second: number; logical: number; length: number }[] = [];
    await bootWithMiniport({
      uncachedExtensionSize: 8192,
      onFindAdapter: (ext, ConfigInfo) => {
        const second = StorPortGetUncachedExtension(ext, ConfigInfo, 8192);
        const pa = StorPortGetPhysicalAddress(ext, null, ext.UncachedExtension);
        seen.push({ first: ext.UncachedExtension, second, logical: pa.PhysicalAddress, length: pa.Length });
      },
    });
    expect(seen).toHaveLength(1);
    const s = seen[0];
    expect(s.first).not.toBe(0);
    expect(s.second).toBe(s.first);
    expect(s.logical).not.toBe(0);
    expect(s.length).toBeGreaterThanOrEqual(8192);
  });

  it("outside HwStorFindAdapter returns NULL", async () => {
    const late: number[] = [];
    const { miniport } = await bootWithMiniport({
      onInitialize: (ext) => late.push(StorPortGetUncachedExtension(ext, STORPORT().adapters.get(ext)!.ConfigInfo, 4096)),
    });
    expect(late).toEqual([0]);
    expect(miniport.callsOf("HwStartIo").length).toBeGreaterThan(0);
  });
});
