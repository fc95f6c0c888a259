// Request timeouts and bus resets: a request the miniport never completes is timed out after
// its TimeOutValue (seconds of simulated time), the port calls HwStorResetBus holding the
// StartIo lock (HW_RESET_BUS, StorPortAcquireSpinLock's lock table), the miniport completes
// what it had with SRB_STATUS_BUS_RESET or keeps it, the other outstanding requests get their
// full timeout again, a request that keeps timing out is completed by the port with
// SRB_STATUS_TIMEOUT and a late completion of it is ignored; ResetDetected holds new requests
// for BusResetHoldTime; and an idle adapter leaves no timer armed.
import { describe, expect, it } from "vitest";
import { DISPATCH_LEVEL } from "../../src/ke/irql.js";
import { KeLowerIrql, KeRaiseIrql } from "../../src/ke/level.js";
import { EVENT_TYPE, KEVENT, KeDelayExecutionThread, KeInitializeEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON } from "../../src/ke/dispatcher.js";
import { NT_SUCCESS, STATUS_IO_TIMEOUT, STATUS_SUCCESS } from "../../src/ke/ntstatus.js";
import { KernelHang } from "../../src/ke/kernel.js";
import { SCSIOP_TEST_UNIT_READY } from "../../src/drivers/storage/scsi.js";
import { SRB_FLAGS_NO_QUEUE_FREEZE, SRB_STATUS, SRB_STATUS_BUS_RESET, SRB_STATUS_TIMEOUT } from "../../src/drivers/storage/srb.js";
import { SCSI_NOTIFICATION_TYPE, StorPortNotification } from "../../src/drivers/storport/index.js";
import { MAX_TIMEOUT_RESETS } from "../../src/drivers/storport/timeout.js";
import { bootWithMiniport, cdbSrb, completeRequest, sendCdb, submitSrb, unitOf, type MiniportMachine, type SrbRequest } from "../support/test-miniport.js";

const TUR = [SCSIOP_TEST_UNIT_READY, 0, 0, 0, 0, 0];
const SECOND = 1e12;

function atDispatch<T>(fn: () => T): T {
  const old = KeRaiseIrql(DISPATCH_LEVEL);
  try {
    return fn();
  } finally {
    KeLowerIrql(old);
  }
}

/** A TEST UNIT READY with `timeout` seconds, not waited for. */
function submitTur(m: MiniportMachine, timeout: number): SrbRequest {
  const u = unitOf(m.adapter(), 0);
  return submitSrb(u.DeviceObject!, cdbSrb(u, TUR, { timeout, flags: SRB_FLAGS_NO_QUEUE_FREEZE, senseLength: 0 }).srb, null);
}

/** Seconds since `t0` of each HwResetBus call. */
function resetTimes(m: MiniportMachine, t0: number): number[] {
  return m.miniport.callsOf("HwResetBus").map((c) => (c.timePs - t0) / SECOND);
}

describe("request timeouts", () => {
  it("a request the miniport never completes is timed out after TimeOutValue seconds: HwStorResetBus is called for its path at DISPATCH_LEVEL holding the StartIo lock, and the requests the miniport completes with SRB_STATUS_BUS_RESET fail", async () => {
    const m = await bootWithMiniport();
    m.miniport.config.completion = "never";
    const r = await m.exec(async () => {
      const t0 = m.k.cpu.time;
      const x = submitTur(m, 3);
      const status = await x.wait();
      return { t0, status, srbStatus: x.srb.SrbStatus, done: m.k.cpu.time };
    });
    const resets = m.miniport.callsOf("HwResetBus");
    expect(resets).toHaveLength(1);
    const at = (resets[0].timePs - r.t0) / SECOND;
    expect(at).toBeGreaterThanOrEqual(3);
    expect(at).toBeLessThan(4.01);
    expect([resets[0].irql, resets[0].startIoLock, resets[0].detail]).toEqual([DISPATCH_LEVEL, true, 0]);
    expect(SRB_STATUS(r.srbStatus)).toBe(SRB_STATUS_BUS_RESET);
    expect(NT_SUCCESS(r.status)).toBe(false);
  });

  it("a request without a TimeOutValue is never timed out", async () => {
    const m = await bootWithMiniport();
    m.miniport.config.completion = "never";
    const held = await m.exec(async () => {
      const x = submitTur(m, 0);
      await KeDelayExecutionThread(KPROCESSOR_MODE.KernelMode, false, -100_000_000);
      const stillHeld = !x.completed;
      atDispatch(() => completeRequest(m.miniport.ext, m.miniport.ext.Held.shift()!));
      await x.wait();
      return { stillHeld, status: x.status };
    });
    expect(held).toEqual({ stillHeld: true, status: STATUS_SUCCESS });
    expect(m.miniport.callsOf("HwResetBus")).toEqual([]);
  });

  it("after a reset the outstanding requests get their full timeout again; a request still not completed after MAX_TIMEOUT_RESETS timeouts is completed by the port with SRB_STATUS_TIMEOUT, and the miniport's late completion of it is ignored", async () => {
    const m = await bootWithMiniport({ resetBus: "keep" });
    m.miniport.config.completion = "never";
    const ext = m.miniport.ext;
    const r = await m.exec(async () => {
      const t0 = m.k.cpu.time;
      const a = submitTur(m, 2);
      const b = submitTur(m, 5);
      const aStatus = await a.wait();
      const aDoneAt = (m.k.cpu.time - t0) / SECOND;
      // The miniport finally completes A: the port no longer has it and ignores the completion.
      atDispatch(() => completeRequest(ext, a.srb));
      const bStatus = await b.wait();
      const bDoneAt = (m.k.cpu.time - t0) / SECOND;
      return { t0, aStatus, aSrb: a.srb.SrbStatus, aDoneAt, bStatus, bSrb: b.srb.SrbStatus, bDoneAt };
    });
    expect(MAX_TIMEOUT_RESETS).toBe(4);
    // A (2 s) times out at about 2, 4 and 6 s, each time resetting the bus; the fourth time (8 s) the port completes it.
    expect(SRB_STATUS(r.aSrb)).toBe(SRB_STATUS_TIMEOUT);
    expect(r.aStatus).toBe(STATUS_IO_TIMEOUT);
    expect(r.aDoneAt).toBeGreaterThanOrEqual(8);
    expect(r.aDoneAt).toBeLessThan(9.5);
    // B (5 s) got its full 5 s again at every reset: its first timeout is 5 s after the last reset A caused.
    const times = resetTimes(m, r.t0);
    expect(times).toHaveLength(2 * (MAX_TIMEOUT_RESETS - 1));
    const [a1, a2, a3, b1, b2, b3] = times;
    for (const [t, want] of [[a1, 2], [a2, 4], [a3, 6]] as const) {
      expect(t).toBeGreaterThanOrEqual(want);
      expect(t).toBeLessThan(want + 1.5);
    }
    expect(b1 - a3).toBeGreaterThanOrEqual(5);
    expect(b1 - a3).toBeLessThan(6.5);
    expect(b2 - b1).toBeGreaterThanOrEqual(5);
    expect(b3 - b2).toBeGreaterThanOrEqual(5);
    expect(SRB_STATUS(r.bSrb)).toBe(SRB_STATUS_TIMEOUT);
    expect(r.bDoneAt - b3).toBeGreaterThanOrEqual(5);
    // Both requests are gone from the port; the adapter is idle again.
    const a = m.adapter();
    expect(a.Outstanding).toBe(0);
  });

  it("leaves no timer armed on an idle adapter: within the one-second timeout check the machine goes idle", async () => {
    const m = await bootWithMiniport();
    const u = unitOf(m.adapter(), 0);
    await m.exec(() => sendCdb(u, TUR, { timeout: 10 }));
    const a = m.adapter();
    // Waiting forever on an event nobody sets: the kernel soon finds nothing left to run.
    const before = Math.max(...m.k.processors.map((p) => p.time));
    let hang: unknown = null;
    try {
      await m.exec(async () => {
        const e = new KEVENT();
        KeInitializeEvent(e, EVENT_TYPE.NotificationEvent, false);
        await KeWaitForSingleObject(e, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
      });
    } catch (e) {
      hang = e;
    }
    expect(hang).toBeInstanceOf(KernelHang);
    expect(Math.max(...m.k.processors.map((p) => p.time)) - before).toBeLessThanOrEqual(1.01 * SECOND);
    expect([a.TimeoutTimer.entry, a.PauseTimer.entry, a.HwTimer.entry]).toEqual([null, null, null]);
  });
});

describe("StorPortNotification(ResetDetected)", () => {
  it("holds new requests for BusResetHoldTime microseconds after the miniport reports a reset", async () => {
    const m = await bootWithMiniport({ busResetHoldTime: 500_000 });
    const ext = m.miniport.ext;
    const r = await m.exec(async () => {
      atDispatch(() => StorPortNotification(SCSI_NOTIFICATION_TYPE.ResetDetected, ext, 0));
      const t0 = m.k.cpu.time;
      const x = submitTur(m, 10);
      const held = !x.completed;
      await x.wait();
      return { held, waited: (m.k.cpu.time - t0) / SECOND, status: x.status };
    });
    expect(r.held).toBe(true);
    expect(r.waited).toBeGreaterThanOrEqual(0.5);
    expect(r.waited).toBeLessThan(0.6);
    expect(r.status).toBe(STATUS_SUCCESS);
  });
});
