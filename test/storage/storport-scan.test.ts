// The bus scan and the unit PDOs: what the port sends to find logical units (INQUIRY to LUN 0,
// REPORT LUNS, VPD pages), how it names and identifies each unit as Windows names SCSI units
// (SCSI\<type>&Ven_..&Prod_.., the hardware IDs down to GenDisk, SCSI\<type> and SCSI\RAW),
// the adapter's \Device\RaidPortN, \DosDevices\ScsiN: and GUID_DEVINTERFACE_STORAGEPORT, and
// rescans (IOCTL_SCSI_RESCAN_BUS, StorPortNotification(BusChangeDetected)).
import { describe, expect, it } from "vitest";
import { IO } from "../../src/io/manager.js";
import { IoGetNextIrpStackLocation } from "../../src/io/irp.js";
import { PNP } from "../../src/pnp/manager.js";
import { BUS_QUERY_ID_TYPE, DEVICE_CAPABILITIES, IRP_MN_QUERY_CAPABILITIES, IRP_MN_QUERY_ID } from "../../src/pnp/minor.js";
import { PNP_DEVNODE_STATE } from "../../src/pnp/devnode.js";
import { deviceInterfaceInstances } from "../../src/io/interfaces.js";
import { CloseHandle, CreateFile, DeviceIoControl, GENERIC_READ, GENERIC_WRITE, GetLastError, INVALID_HANDLE_VALUE, OPEN_EXISTING } from "../../src/io/usermode.js";
import { IOCTL_SCSI_RESCAN_BUS } from "../../src/drivers/storage/ntddscsi.js";
import {
  SCSIOP_INQUIRY, SCSIOP_REPORT_LUNS, SCSIOP_TEST_UNIT_READY, VPD_DEVICE_IDENTIFIERS, VPD_SERIAL_NUMBER, VPD_SUPPORTED_PAGES,
} from "../../src/drivers/storage/scsi.js";
import { SCSI_NOTIFICATION_TYPE, STOR_FEATURE_DEVICE_NAME_NO_SUFFIX, StorPortNotification } from "../../src/drivers/storport/index.js";
import { GUID_DEVINTERFACE_STORAGEPORT } from "../../src/drivers/storport/pnp.js";
import type { DEVICE_OBJECT } from "../../src/io/objects.js";
import { STORPORT } from "../../src/drivers/storport/adapter.js";
import { STATUS_SUCCESS } from "../../src/ke/ntstatus.js";
import { adapterNode, bootWithMiniport, sendCdb, unitOf, type MiniportCall, type MiniportMachine } from "../support/test-miniport.js";

/** The scan's requests to the miniport: "lun:INQUIRY", "lun:INQUIRY/0x80", "lun:REPORT LUNS". */
function scanLog(calls: MiniportCall[]): string[] {
  return calls.filter((c) => c.routine === "HwStartIo").map((c) => {
    const cdb = c.srb && "Cdb" in c.srb ? (c.srb.Cdb as Uint8Array) : null;
    if (c.opcode === SCSIOP_REPORT_LUNS) return `${c.lun}:REPORT LUNS`;
    if (c.opcode === SCSIOP_INQUIRY) return cdb && (cdb[1] & 1) ? `${c.lun}:INQUIRY/0x${cdb[2].toString(16)}` : `${c.lun}:INQUIRY`;
    return `${c.lun}:0x${c.opcode.toString(16)}`;
  });
}

/** The device nodes of the adapter's units. */
function unitNodes(m: MiniportMachine) {
  return adapterNode(m.machine, m.miniport).Child;
}

async function queryId(m: MiniportMachine, pdo: DEVICE_OBJECT, type: BUS_QUERY_ID_TYPE): Promise<unknown> {
  return m.exec(async () => {
    const irp = await PNP(m.k).sendPnp(pdo, IRP_MN_QUERY_ID, (i) => { IoGetNextIrpStackLocation(i).Parameters.QueryId.IdType = type; });
    return irp.IoStatus.Information;
  });
}

describe("bus scan", () => {
  it("sends INQUIRY to LUN 0 of each target, reads its VPD pages (supported pages, serial number, device identifiers), then REPORT LUNS, and identifies each LUN listed", async () => {
    const m = await bootWithMiniport({ luns: [0, 1] });
    const log = scanLog(m.miniport.calls);
    expect(log.slice(0, 5)).toEqual(["0:INQUIRY", `0:INQUIRY/0x${VPD_SUPPORTED_PAGES.toString(16)}`, `0:INQUIRY/0x${VPD_SERIAL_NUMBER.toString(16)}`, `0:INQUIRY/0x${VPD_DEVICE_IDENTIFIERS.toString(16)}`, "0:REPORT LUNS"]);
    expect(log.slice(5, 9)).toEqual(["1:INQUIRY", "1:INQUIRY/0x0", "1:INQUIRY/0x80", "1:INQUIRY/0x83"]);
    expect(unitNodes(m)).toHaveLength(2);
    const a = m.adapter();
    expect(unitOf(a, 0).Identity.SerialNumber).toBe("SPT-0");
    expect(unitOf(a, 1).Identity.SerialNumber).toBe("SPT-1");
    expect(unitOf(a, 1).Identity.DeviceIdentifiers.length).toBeGreaterThan(4);
  });

  it("finds the LUNs REPORT LUNS lists, gaps included, and no others", async () => {
    const m = await bootWithMiniport({ luns: [0, 3, 6], maxLuns: 8 });
    const a = m.adapter();
    expect([...a.Units.values()].filter((u) => u.DeviceObject).map((u) => u.Lun).sort()).toEqual([0, 3, 6]);
    // Only listed LUNs were asked about.
    expect(new Set(scanLog(m.miniport.calls).map((e) => e.split(":")[0]))).toEqual(new Set(["0", "3", "6"]));
    expect(unitNodes(m).map((n) => n.InstancePath.slice(-6)).sort()).toEqual(["000000", "000003", "000006"]);
  });

  it("when REPORT LUNS fails, tries every LUN up to MaximumNumberOfLogicalUnits and keeps those whose INQUIRY answers", async () => {
    const m = await bootWithMiniport({ luns: [0, 2], maxLuns: 4, reportLuns: false });
    const inquired = scanLog(m.miniport.calls).filter((e) => e.endsWith(":INQUIRY")).map((e) => Number(e.split(":")[0]));
    expect(inquired).toEqual([0, 1, 2, 3]);
    expect(unitNodes(m).map((n) => n.InstancePath.slice(-6)).sort()).toEqual(["000000", "000002"]);
  });

  it("scans LUN 0 of every target up to MaximumNumberOfTargets; a target that does not answer has no unit", async () => {
    const m = await bootWithMiniport({ luns: [0], targets: 3 });
    const targets = m.miniport.calls.filter((c) => c.routine === "HwStartIo" && c.opcode === SCSIOP_INQUIRY && c.srb)
      .map((c) => ("TargetId" in c.srb! ? c.srb.TargetId : c.srb!.Address.Target));
    expect(new Set(targets)).toEqual(new Set([0, 1, 2]));
    expect(unitNodes(m)).toHaveLength(1);
  });

  it("the port's own scan requests ask not to freeze the queue (a missing LUN is no error to hold the unit for)", async () => {
    const m = await bootWithMiniport({ luns: [0], maxLuns: 2, reportLuns: false });
    const u = unitOf(m.adapter(), 0);
    expect(u.Frozen).toBe(false);
    // The failed REPORT LUNS and the INQUIRY to the missing LUN 1 held nothing: a class request runs at once.
    const r = await m.exec(() => sendCdb(u, [SCSIOP_TEST_UNIT_READY, 0, 0, 0, 0, 0]));
    expect(r.status).toBe(STATUS_SUCCESS);
  });
});

describe("unit PDOs", () => {
  it("are identified as Windows identifies SCSI disk units: device ID SCSI\\Disk&Ven_..&Prod_.., hardware IDs from the most specific down to GenDisk, compatible IDs SCSI\\Disk and SCSI\\RAW", async () => {
    const m = await bootWithMiniport({ vendor: "WDMSIM", product: "Storport Test", revision: "1.0" });
    const node = unitNodes(m)[0];
    expect(node.InstancePath.startsWith("SCSI\\Disk&Ven_WDMSIM&Prod_Storport_Test\\")).toBe(true);
    expect(node.HardwareIds).toEqual([
      "SCSI\\DiskWDMSIM__Storport_Test___1.0_",
      "SCSI\\DiskWDMSIM__Storport_Test___",
      "SCSI\\DiskWDMSIM__",
      "SCSI\\WDMSIM__Storport_Test___1",
      "WDMSIM__Storport_Test___1",
      "GenDisk",
    ]);
    expect(node.CompatibleIds).toEqual(["SCSI\\Disk", "SCSI\\RAW"]);
    // The class driver bound by GenDisk.
    expect(node.ServiceName).toBe("sptclass");
    expect(node.State).toBe(PNP_DEVNODE_STATE.DeviceNodeStarted);
    const pdo = node.PhysicalDeviceObject;
    expect(await queryId(m, pdo, BUS_QUERY_ID_TYPE.BusQueryDeviceID)).toBe("SCSI\\Disk&Ven_WDMSIM&Prod_Storport_Test");
    expect(await queryId(m, pdo, BUS_QUERY_ID_TYPE.BusQueryInstanceID)).toBe("000000");
    expect(await queryId(m, pdo, BUS_QUERY_ID_TYPE.BusQueryDeviceSerialNumber)).toBe("SPT-0");
  });

  it("describe themselves as \"<vendor> <product> SCSI Disk Device\" (no suffix with STOR_FEATURE_DEVICE_NAME_NO_SUFFIX) at \"Bus Number 0, Target Id 0, LUN n\"", async () => {
    const m = await bootWithMiniport({ luns: [0, 2], vendor: "WDMSIM", product: "Storport Test" });
    const nodes = unitNodes(m);
    expect(nodes.map((n) => n.Description)).toEqual(["WDMSIM Storport Test SCSI Disk Device", "WDMSIM Storport Test SCSI Disk Device"]);
    expect(nodes.map((n) => n.Location).sort()).toEqual(["Bus Number 0, Target Id 0, LUN 0", "Bus Number 0, Target Id 0, LUN 2"]);
    const plain = await bootWithMiniport({ vendor: "WDMSIM", product: "Storport Test", featureSupport: STOR_FEATURE_DEVICE_NAME_NO_SUFFIX });
    expect(unitNodes(plain)[0].Description).toBe("WDMSIM Storport Test");
  });

  it("report their capabilities: removable as the INQUIRY RMB bit says, silent install, D0 in S0", async () => {
    for (const removable of [false, true]) {
      const m = await bootWithMiniport({ removable });
      const pdo = unitOf(m.adapter(), 0).DeviceObject!;
      const caps = await m.exec(async () => {
        const c = new DEVICE_CAPABILITIES();
        const irp = await PNP(m.k).sendPnp(pdo, IRP_MN_QUERY_CAPABILITIES, (i) => { IoGetNextIrpStackLocation(i).Parameters.DeviceCapabilities.Capabilities = c; });
        return { status: irp.IoStatus.Status, c };
      });
      expect(caps.status).toBe(0);
      expect(caps.c.Removable).toBe(removable);
      expect(caps.c.SilentInstall).toBe(true);
      expect(caps.c.DeviceState[1]).toBe(1);
    }
  });

  it("are named by the I/O manager (FILE_AUTOGENERATED_DEVICE_NAME) and enumerated by the adapter", async () => {
    const m = await bootWithMiniport({ luns: [0, 1] });
    const a = m.adapter();
    for (const lun of [0, 1]) {
      const pdo = unitOf(a, lun).DeviceObject!;
      expect(pdo.DriverObject.serviceName).toBe(m.miniport.package.service);
      expect([...IO(m.k).namespace.entries()].some(([name, d]) => d === pdo && name.startsWith("\\device\\"))).toBe(true);
    }
  });
});

describe("the adapter's names", () => {
  it("\\Device\\RaidPortN with the link \\DosDevices\\ScsiN:, and GUID_DEVINTERFACE_STORAGEPORT registered on the adapter's PDO and enabled", async () => {
    const m = await bootWithMiniport();
    const a = m.adapter();
    const io = IO(m.k);
    expect(io.namespace.get(`\\device\\raidport${a.PortNumber}`)).toBe(a.DeviceObject);
    expect(io.symbolicLinks.get(`\\dosdevices\\scsi${a.PortNumber}:`)).toBe(`\\device\\raidport${a.PortNumber}`);
    const instances = deviceInterfaceInstances(m.k).filter((i) => i.InterfaceClassGuid.toLowerCase() === GUID_DEVINTERFACE_STORAGEPORT);
    expect(instances).toHaveLength(1);
    expect(instances[0].enabled).toBe(true);
    expect(instances[0].PhysicalDeviceObject).toBe(a.PhysicalDeviceObject);
    // A user-mode program opens the adapter by its DOS name.
    const opened = await m.machine.runProgram("open-scsi", async () => {
      const h = await CreateFile(`\\\\.\\Scsi${a.PortNumber}:`, GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
      if (h === INVALID_HANDLE_VALUE) return GetLastError();
      await CloseHandle(h);
      return 0;
    });
    expect(opened).toBe(0);
  });

  it("each adapter gets the next port number, its own RaidPortN and ScsiN:, and its own device extension", async () => {
    const m = await bootWithMiniport({ adapters: 2 });
    const adapters = [...STORPORT(m.k).adapters.values()].sort((x, y) => x.PortNumber - y.PortNumber);
    expect(adapters.map((a) => a.PortNumber)).toEqual([0, 1]);
    const io = IO(m.k);
    for (const a of adapters) {
      expect(io.namespace.get(`\\device\\raidport${a.PortNumber}`)).toBe(a.DeviceObject);
      expect(io.symbolicLinks.get(`\\dosdevices\\scsi${a.PortNumber}:`)).toBe(`\\device\\raidport${a.PortNumber}`);
    }
    expect(m.miniport.extensions).toHaveLength(2);
    expect(new Set(adapters.map((a) => a.HwDeviceExtension))).toEqual(new Set(m.miniport.extensions));
  });
});

describe("rescans", () => {
  it("IOCTL_SCSI_RESCAN_BUS to the adapter scans again: a LUN that appeared gets a PDO, one that went is removed", async () => {
    const m = await bootWithMiniport({ luns: [0, 1] });
    const ext = m.miniport.ext;
    ext.Media.set(4, new Uint8Array(256 * 512));
    ext.Media.delete(1);
    const a = m.adapter();
    const r = await m.machine.runProgram("rescan", async () => {
      const h = await CreateFile(`\\\\.\\Scsi${a.PortNumber}:`, GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
      const io = await DeviceIoControl(h, IOCTL_SCSI_RESCAN_BUS, null, 0, null, 0);
      await CloseHandle(h);
      return { ok: io.ok, bytes: io.bytes };
    });
    expect(r).toEqual({ ok: true, bytes: 0 });
    await m.exec(() => PNP(m.k).perform("sync", async () => {}));
    expect(unitNodes(m).map((n) => n.InstancePath.slice(-6)).sort()).toEqual(["000000", "000004"]);
    expect([...a.Units.values()].filter((u) => u.DeviceObject && !u.DeviceObject.deleted).map((u) => u.Lun).sort()).toEqual([0, 4]);
  });

  it("StorPortNotification(BusChangeDetected) from the miniport makes the port scan again", async () => {
    const m = await bootWithMiniport({ luns: [0] });
    const ext = m.miniport.ext;
    ext.Media.set(1, new Uint8Array(256 * 512));
    await m.exec(() => StorPortNotification(SCSI_NOTIFICATION_TYPE.BusChangeDetected, ext, 0), { irql: 2 });
    await m.exec(() => PNP(m.k).perform("sync", async () => {}));
    expect(unitNodes(m)).toHaveLength(2);
  });
});
