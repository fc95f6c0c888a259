// System sleep and resume as the miniport sees it: the adapter-control calls the port makes
// on the way to S3 and back (HW_ADAPTER_CONTROL's table of IRQLs and locks per control type),
// and requests sent while the adapter is out of D0 wait and then complete.
import { describe, expect, it } from "vitest";
import { DISPATCH_LEVEL, PASSIVE_LEVEL } from "../../src/ke/irql.js";
import { STATUS_SUCCESS } from "../../src/ke/ntstatus.js";
import { PO } from "../../src/po/manager.js";
import { SYSTEM_POWER_STATE } from "../../src/po/power.js";
import { SCSIOP_TEST_UNIT_READY } from "../../src/drivers/storage/scsi.js";
import { SCSI_ADAPTER_CONTROL_TYPE } from "../../src/drivers/storport/index.js";
import { bootWithMiniport, cdbSrb, submitSrb, unitOf } from "../support/test-miniport.js";

const T = SCSI_ADAPTER_CONTROL_TYPE;

describe("system sleep and resume", () => {
  it("calls ScsiSetBootConfig at PASSIVE_LEVEL with no lock, then ScsiStopAdapter; back in S0 ScsiSetRunningConfig at PASSIVE_LEVEL with no lock, then ScsiRestartAdapter; I/O works again", async () => {
    const m = await bootWithMiniport({
      adapterControlTypes: [T.ScsiStopAdapter, T.ScsiRestartAdapter, T.ScsiSetBootConfig, T.ScsiSetRunningConfig, T.ScsiAdapterSurpriseRemoval],
    });
    const before = m.miniport.calls.length;
    const r = await m.exec(async () => {
      const sleep = await PO(m.k).setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemSleeping3);
      const wake = await PO(m.k).setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemWorking);
      const u = unitOf(m.adapter(), 0);
      const x = submitSrb(u.DeviceObject!, cdbSrb(u, [SCSIOP_TEST_UNIT_READY, 0, 0, 0, 0, 0], { senseLength: 0 }).srb, null);
      return { sleep, wake, io: await x.wait() };
    });
    expect(r).toEqual({ sleep: STATUS_SUCCESS, wake: STATUS_SUCCESS, io: STATUS_SUCCESS });
    const controls = m.miniport.calls.slice(before).filter((c) => c.routine === "HwAdapterControl");
    expect(controls.map((c) => c.detail)).toEqual([T.ScsiSetBootConfig, T.ScsiStopAdapter, T.ScsiSetRunningConfig, T.ScsiRestartAdapter]);
    const [boot, stop, running, restart] = controls;
    expect([boot.irql, boot.startIoLock]).toEqual([PASSIVE_LEVEL, false]);
    expect([running.irql, running.startIoLock]).toEqual([PASSIVE_LEVEL, false]);
    // Documented at DIRQL under the interrupt lock; an adapter without an interrupt gets DISPATCH_LEVEL under the StartIo lock.
    for (const c of [stop, restart]) expect(c.irql).toBeGreaterThanOrEqual(DISPATCH_LEVEL);
  });

  it("a request sent while the adapter is asleep waits and completes once it is back in D0", async () => {
    const m = await bootWithMiniport();
    const r = await m.exec(async () => {
      await PO(m.k).setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemSleeping3);
      const u = unitOf(m.adapter(), 0);
      const starts = m.miniport.callsOf("HwStartIo").length;
      const x = submitSrb(u.DeviceObject!, cdbSrb(u, [SCSIOP_TEST_UNIT_READY, 0, 0, 0, 0, 0], { senseLength: 0 }).srb, null);
      const heldAsleep = !x.completed && m.miniport.callsOf("HwStartIo").length === starts;
      await PO(m.k).setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemWorking);
      return { heldAsleep, io: await x.wait() };
    });
    expect(r).toEqual({ heldAsleep: true, io: STATUS_SUCCESS });
  });
});
