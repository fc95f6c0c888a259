// Removal of an adapter with requests in flight and waiting: surprise removal
// (ScsiAdapterSurpriseRemoval, ScsiUnitSurpriseRemoval) and orderly removal (ScsiStopAdapter,
// ScsiUnitRemove); every request completes with SRB_STATUS_NO_DEVICE, new ones fail at once,
// and nothing is left behind: IRPs, pool, device objects, names, the DMA adapter and its
// common buffers, the storage port interface (HW_ADAPTER_CONTROL, HW_UNIT_CONTROL).
import { describe, expect, it } from "vitest";
import { DISPATCH_LEVEL } from "../../src/ke/irql.js";
import { STATUS_SUCCESS } from "../../src/ke/ntstatus.js";
import { IO } from "../../src/io/manager.js";
import { MM } from "../../src/mm/manager.js";
import { PNP } from "../../src/pnp/manager.js";
import { deviceInterfaceInstances } from "../../src/io/interfaces.js";
import { SCSIOP_TEST_UNIT_READY } from "../../src/drivers/storage/scsi.js";
import { SRB_STATUS, SRB_STATUS_NO_DEVICE } from "../../src/drivers/storage/srb.js";
import { SCSI_ADAPTER_CONTROL_TYPE, SCSI_UNIT_CONTROL_TYPE } from "../../src/drivers/storport/index.js";
import { GUID_DEVINTERFACE_STORAGEPORT } from "../../src/drivers/storport/pnp.js";
import type { Kernel } from "../../src/ke/kernel.js";
import {
  adapterNode, bootWithMiniport, cdbSrb, devicesOf, pnpAction, submitSrb, unitOf, type MiniportMachine, type SrbRequest,
} from "../support/test-miniport.js";

const TUR = [SCSIOP_TEST_UNIT_READY, 0, 0, 0, 0, 0];

/** What the machine holds that belongs to the storage stack. */
function holdings(k: Kernel, service: string) {
  return {
    irps: IO(k).irps.size,
    pool: MM(k).pool.outstanding().filter((b) => b.tag.startsWith("Rai") || b.tag.startsWith("SpT")).map((b) => `${b.tag}:${b.bytes}`).sort(),
    devices: [...devicesOf(k, service), ...devicesOf(k, "sptclass")].length,
    names: [...IO(k).namespace.keys()].filter((n) => n.includes("raidport") || n.includes("sptestunit")),
    links: [...IO(k).symbolicLinks.keys()].filter((n) => n.includes("scsi") || n.includes("sptestunit")),
    interfaces: deviceInterfaceInstances(k).filter((i) => i.InterfaceClassGuid.toLowerCase() === GUID_DEVINTERFACE_STORAGEPORT && i.enabled).length,
  };
}

/** Requests on two units: two with the miniport and two waiting on LUN 0 (depth 2), one with the miniport on LUN 1. */
async function inFlight(m: MiniportMachine): Promise<SrbRequest[]> {
  m.miniport.config.completion = "never";
  const a = m.adapter();
  return m.exec(() => {
    const send = (lun: number) => {
      const u = unitOf(a, lun);
      return submitSrb(u.DeviceObject!, cdbSrb(u, TUR, { senseLength: 0 }).srb, null);
    };
    return [send(0), send(0), send(0), send(0), send(1)];
  });
}

describe("surprise removal", () => {
  it("completes every request the miniport holds or the port queued with SRB_STATUS_NO_DEVICE, fails new ones at once, tells the miniport (ScsiAdapterSurpriseRemoval and ScsiUnitSurpriseRemoval below DISPATCH_LEVEL), and leaves nothing behind", async () => {
    const m = await bootWithMiniport({ luns: [0, 1], initialLunQueueDepth: 2 });
    const { k, machine, miniport } = m;
    const a = m.adapter();
    const dma = a.DmaAdapter!;
    const baseline = holdings(k, miniport.package.service);
    expect(baseline.pool.some((p) => p.startsWith("Rai"))).toBe(true);
    expect(baseline.devices).toBeGreaterThan(0);
    const reqs = await inFlight(m);
    expect(miniport.ext.Held).toHaveLength(3);
    // A handle open on LUN 0's class device keeps the removal pending after the surprise removal.
    const top = unitOf(a, 0).DeviceObject!.AttachedDevice!;
    IO(k).referenceDevice(top);
    const node = adapterNode(machine, miniport);
    await pnpAction(machine, "surprise removal", () => PNP(k).removal.surpriseRemove(node, true));
    const statuses = reqs.map((r) => [r.completed, SRB_STATUS(r.srb.SrbStatus)]);
    expect(statuses).toEqual(reqs.map(() => [true, SRB_STATUS_NO_DEVICE]));
    // A request sent now (the unit's PDO still exists) fails at once.
    const late = await m.exec(async () => {
      const u = unitOf(a, 0);
      const r = submitSrb(u.DeviceObject!, cdbSrb(u, TUR, { senseLength: 0 }).srb, null);
      const done = r.completed;
      await r.wait();
      return { done, srbStatus: SRB_STATUS(r.srb.SrbStatus) };
    });
    expect(late).toEqual({ done: true, srbStatus: SRB_STATUS_NO_DEVICE });
    for (const r of reqs) await m.exec(() => r.wait());
    const adapterSurprise = miniport.callsOf("HwAdapterControl").filter((c) => c.detail === SCSI_ADAPTER_CONTROL_TYPE.ScsiAdapterSurpriseRemoval);
    expect(adapterSurprise).toHaveLength(1);
    expect(adapterSurprise[0].irql).toBeLessThan(DISPATCH_LEVEL);
    const unitSurprise = miniport.callsOf("HwUnitControl").filter((c) => c.detail === SCSI_UNIT_CONTROL_TYPE.ScsiUnitSurpriseRemoval);
    expect(unitSurprise).toHaveLength(2);
    for (const c of unitSurprise) expect(c.irql).toBeLessThan(DISPATCH_LEVEL);
    // The last handle closes: the removal finishes.
    await m.exec(async () => {
      IO(k).dereferenceDevice(top);
      await PNP(k).perform("sync", async () => {});
    });
    const after = holdings(k, miniport.package.service);
    expect(after).toEqual({ irps: baseline.irps, pool: [], devices: 0, names: [], links: [], interfaces: 0 });
    expect(dma.released).toBe(true);
    expect(dma.commonBuffers.size).toBe(0);
    expect(dma.listsAllocated).toBe(dma.listsFreed);
    expect(IO(k).drivers.has(miniport.package.service)).toBe(false);
  });
});

describe("orderly removal", () => {
  it("with requests in flight and waiting: ScsiUnitRemove for each unit, ScsiStopAdapter, every request completes with SRB_STATUS_NO_DEVICE, and nothing is left behind", async () => {
    const m = await bootWithMiniport({ luns: [0, 1], initialLunQueueDepth: 2 });
    const { k, machine, miniport } = m;
    const a = m.adapter();
    const dma = a.DmaAdapter!;
    const baseline = holdings(k, miniport.package.service);
    const reqs = await inFlight(m);
    const node = adapterNode(machine, miniport);
    let removed = false;
    await pnpAction(machine, "disable", async () => { removed = await PNP(k).removal.remove(node); });
    expect(removed).toBe(true);
    for (const r of reqs) {
      expect(r.completed).toBe(true);
      expect(SRB_STATUS(r.srb.SrbStatus)).toBe(SRB_STATUS_NO_DEVICE);
      await m.exec(() => r.wait());
    }
    expect(miniport.callsOf("HwUnitControl").filter((c) => c.detail === SCSI_UNIT_CONTROL_TYPE.ScsiUnitRemove)).toHaveLength(2);
    expect(miniport.callsOf("HwAdapterControl").filter((c) => c.detail === SCSI_ADAPTER_CONTROL_TYPE.ScsiStopAdapter)).toHaveLength(1);
    // Nothing reached the miniport after ScsiStopAdapter.
    const stop = miniport.calls.findIndex((c) => c.routine === "HwAdapterControl" && c.detail === SCSI_ADAPTER_CONTROL_TYPE.ScsiStopAdapter);
    expect(miniport.calls.slice(stop + 1).filter((c) => c.routine === "HwStartIo" || c.routine === "HwBuildIo")).toEqual([]);
    const after = holdings(k, miniport.package.service);
    expect(after).toEqual({ irps: baseline.irps, pool: [], devices: 0, names: [], links: [], interfaces: 0 });
    expect(dma.released).toBe(true);
    expect(dma.commonBuffers.size).toBe(0);
    expect(dma.listsAllocated).toBe(dma.listsFreed);
  });

  it("an adapter removed while idle gives everything back too, and a new adapter of the miniport can start afterwards", async () => {
    const m = await bootWithMiniport({ uncachedExtensionSize: 4096 });
    const { k, machine, miniport } = m;
    const a = m.adapter();
    const dma = a.DmaAdapter!;
    expect(dma.commonBuffers.size).toBeGreaterThan(0);
    const node = adapterNode(machine, miniport);
    await pnpAction(machine, "disable", () => PNP(k).removal.remove(node));
    expect(dma.released).toBe(true);
    expect(dma.commonBuffers.size).toBe(0);
    expect(holdings(k, miniport.package.service).pool).toEqual([]);
    // Enable again: the PnP manager starts the device anew.
    await pnpAction(machine, "enable", () => PNP(k).processDevice(node));
    const again = m.adapter();
    expect(again).not.toBe(a);
    const r = await m.exec(async () => {
      const u = unitOf(again, 0);
      const x = submitSrb(u.DeviceObject!, cdbSrb(u, TUR, { senseLength: 0 }).srb, null);
      return x.wait();
    });
    expect(r).toBe(STATUS_SUCCESS);
  });
});
