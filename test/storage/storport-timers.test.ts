// Timers, DPCs and locks a miniport gets from Storport: StorPortNotification(RequestTimerCall)
// and HwStorTimer, StorPortInitializeTimer / StorPortRequestTimer / StorPortFreeTimer,
// StorPortInitializeDpc / StorPortIssueDpc and HwStorDpcRoutine, StorPortAcquireSpinLock /
// StorPortReleaseSpinLock for each STOR_SPINLOCK (the pages of those names in the WDK).
import { describe, expect, it } from "vitest";
import { DISPATCH_LEVEL, PASSIVE_LEVEL } from "../../src/ke/irql.js";
import { KeGetCurrentIrql, KeLowerIrql, KeRaiseIrql } from "../../src/ke/level.js";
import { KeGetCurrentProcessorNumber } from "../../src/ke/kernel.js";
import { KeDelayExecutionThread, KPROCESSOR_MODE } from "../../src/ke/dispatcher.js";
import { SCSIOP_TEST_UNIT_READY } from "../../src/drivers/storage/scsi.js";
import {
  SCSI_NOTIFICATION_TYPE, STOR_DPC, STOR_LOCK_HANDLE, STOR_SPINLOCK, STOR_STATUS_BUSY, STOR_STATUS_INVALID_IRQL, STOR_STATUS_INVALID_PARAMETER,
  STOR_STATUS_SUCCESS, STOR_STATUS_UNSUCCESSFUL, StorPortAcquireSpinLock, StorPortFreeTimer, StorPortInitializeDpc, StorPortInitializeTimer,
  StorPortIssueDpc, StorPortNotification, StorPortReleaseSpinLock, StorPortRequestTimer, type STOR_TIMER,
} from "../../src/drivers/storport/index.js";
import { bugCheckOf, expectBugCheck } from "../support/kernel-harness.js";
import { bootWithMiniport, sendCdb, unitOf, type MiniportMachine, type TEST_DEVICE_EXTENSION } from "../support/test-miniport.js";

const US = 1e6;

/** Lets simulated time pass in the calling thread, microseconds. */
function sleepUs(us: number) {
  return KeDelayExecutionThread(KPROCESSOR_MODE.KernelMode, false, -Math.round(us * 10));
}

function atDispatch<T>(fn: () => T): T {
  const old = KeRaiseIrql(DISPATCH_LEVEL);
  try {
    return fn();
  } finally {
    KeLowerIrql(old);
  }
}

/** What a timer or DPC routine saw when it ran. */
interface Fired {
  timePs: number;
  irql: number;
  startIoLock: boolean;
  context?: unknown;
}

function fired(m: MiniportMachine, context?: unknown): Fired {
  return { timePs: m.k.cpu.time, irql: KeGetCurrentIrql(), startIoLock: m.adapter().StartIoLock.owner === KeGetCurrentProcessorNumber(), context };
}

describe("StorPortNotification(RequestTimerCall)", () => {
  it("calls HwStorTimer once, no sooner than the microseconds asked for, at DISPATCH_LEVEL holding the StartIo lock", async () => {
    const m = await bootWithMiniport();
    const ext = m.miniport.ext;
    const calls: Fired[] = [];
    const t0 = await m.exec(async () => {
      const start = m.k.cpu.time;
      atDispatch(() => StorPortNotification(SCSI_NOTIFICATION_TYPE.RequestTimerCall, ext, function TmHwTimer() { calls.push(fired(m)); }, 500));
      await sleepUs(2000);
      return start;
    });
    expect(calls).toHaveLength(1);
    expect(calls[0].timePs - t0).toBeGreaterThanOrEqual(500 * US);
    expect(calls[0].timePs - t0).toBeLessThan(600 * US);
    expect([calls[0].irql, calls[0].startIoLock]).toEqual([DISPATCH_LEVEL, true]);
  });

  it("a HwStorTimer may ask for itself again (a periodic timer), and a request of 0 microseconds cancels the timer", async () => {
    const m = await bootWithMiniport();
    const ext = m.miniport.ext;
    const times: number[] = [];
    function TmPeriodic(e: TEST_DEVICE_EXTENSION): void {
      times.push(m.k.cpu.time);
      if (times.length < 3) StorPortNotification(SCSI_NOTIFICATION_TYPE.RequestTimerCall, e, TmPeriodic, 100);
    }
    const cancelled: number[] = [];
    await m.exec(async () => {
      atDispatch(() => StorPortNotification(SCSI_NOTIFICATION_TYPE.RequestTimerCall, ext, TmPeriodic, 100));
      await sleepUs(1000);
      atDispatch(() => StorPortNotification(SCSI_NOTIFICATION_TYPE.RequestTimerCall, ext, () => cancelled.push(1), 100));
      atDispatch(() => StorPortNotification(SCSI_NOTIFICATION_TYPE.RequestTimerCall, ext, () => cancelled.push(2), 0));
      await sleepUs(1000);
    });
    expect(times).toHaveLength(3);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(100 * US);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(100 * US);
    expect(cancelled).toEqual([]);
  });

  it("the miniport has one such timer: a second request replaces the first", async () => {
    const m = await bootWithMiniport();
    const ext = m.miniport.ext;
    const calls: string[] = [];
    await m.exec(async () => {
      atDispatch(() => StorPortNotification(SCSI_NOTIFICATION_TYPE.RequestTimerCall, ext, () => calls.push("first"), 300));
      atDispatch(() => StorPortNotification(SCSI_NOTIFICATION_TYPE.RequestTimerCall, ext, () => calls.push("second"), 100));
      await sleepUs(1000);
    });
    expect(calls).toEqual(["second"]);
  });
});

describe("StorPortInitializeTimer, StorPortRequestTimer, StorPortFreeTimer", () => {
  it("a timer calls its callback with its context once, after TimerValue microseconds, at DISPATCH_LEVEL; several timers run independently", async () => {
    const m = await bootWithMiniport();
    const ext = m.miniport.ext;
    const calls: Fired[] = [];
    const r = await m.exec(async () => {
      const a = StorPortInitializeTimer(ext);
      const b = StorPortInitializeTimer(ext);
      const t0 = m.k.cpu.time;
      const sa = StorPortRequestTimer(ext, a.TimerHandle!, (_e, c) => calls.push(fired(m, c)), "A", 200, 0);
      const sb = StorPortRequestTimer(ext, b.TimerHandle!, (_e, c) => calls.push(fired(m, c)), "B", 100, 0);
      await sleepUs(1000);
      StorPortFreeTimer(ext, a.TimerHandle!);
      StorPortFreeTimer(ext, b.TimerHandle!);
      return { init: [a.status, b.status], sa, sb, t0 };
    });
    expect(r.init).toEqual([STOR_STATUS_SUCCESS, STOR_STATUS_SUCCESS]);
    expect([r.sa, r.sb]).toEqual([STOR_STATUS_SUCCESS, STOR_STATUS_SUCCESS]);
    expect(calls.map((c) => c.context)).toEqual(["B", "A"]);
    expect(calls[0].timePs - r.t0).toBeGreaterThanOrEqual(100 * US);
    expect(calls[1].timePs - r.t0).toBeGreaterThanOrEqual(200 * US);
    for (const c of calls) expect(c.irql).toBe(DISPATCH_LEVEL);
  });

  it("StorPortRequestTimer: STOR_STATUS_BUSY while an earlier request has not fired (it still fires); TimerValue 0 cancels; a NULL callback or a freed timer is STOR_STATUS_INVALID_PARAMETER", async () => {
    const m = await bootWithMiniport();
    const ext = m.miniport.ext;
    const calls: string[] = [];
    const r = await m.exec(async () => {
      const t = StorPortInitializeTimer(ext).TimerHandle!;
      const first = StorPortRequestTimer(ext, t, () => calls.push("first"), null, 200, 0);
      const busy = StorPortRequestTimer(ext, t, () => calls.push("second"), null, 50, 0);
      await sleepUs(500);
      const again = StorPortRequestTimer(ext, t, () => calls.push("cancelled"), null, 200, 0);
      const cancel = StorPortRequestTimer(ext, t, () => calls.push("cancelled"), null, 0, 0);
      await sleepUs(500);
      const nullCallback = StorPortRequestTimer(ext, t, null, null, 100, 0);
      const free = StorPortFreeTimer(ext, t);
      const freed = StorPortRequestTimer(ext, t, () => calls.push("freed"), null, 100, 0);
      await sleepUs(500);
      return { first, busy, again, cancel, nullCallback, free, freed };
    });
    expect(r).toEqual({
      first: STOR_STATUS_SUCCESS, busy: STOR_STATUS_BUSY, again: STOR_STATUS_SUCCESS, cancel: STOR_STATUS_SUCCESS,
      nullCallback: STOR_STATUS_INVALID_PARAMETER, free: STOR_STATUS_SUCCESS, freed: STOR_STATUS_INVALID_PARAMETER,
    });
    expect(calls).toEqual(["first"]);
  });

  it("StorPortFreeTimer: a pending callback never runs; freeing again is STOR_STATUS_UNSUCCESSFUL", async () => {
    const m = await bootWithMiniport();
    const ext = m.miniport.ext;
    const calls: number[] = [];
    const r = await m.exec(async () => {
      const t: STOR_TIMER = StorPortInitializeTimer(ext).TimerHandle!;
      StorPortRequestTimer(ext, t, () => calls.push(1), null, 100, 0);
      const free = StorPortFreeTimer(ext, t);
      await sleepUs(500);
      return { free, again: StorPortFreeTimer(ext, t) };
    });
    expect(r).toEqual({ free: STOR_STATUS_SUCCESS, again: STOR_STATUS_UNSUCCESSFUL });
    expect(calls).toEqual([]);
  });

  it("StorPortInitializeTimer above DISPATCH_LEVEL is STOR_STATUS_INVALID_IRQL", async () => {
    const m = await bootWithMiniport();
    const r = await m.exec(() => StorPortInitializeTimer(m.miniport.ext).status, { irql: DISPATCH_LEVEL + 3 });
    expect(r).toBe(STOR_STATUS_INVALID_IRQL);
  });

  it("the test miniport's timer completions go through StorPortRequestTimer: a request completes after the delay", async () => {
    const m = await bootWithMiniport({ delayUs: 300 });
    m.miniport.config.completion = "timer";
    const u = unitOf(m.adapter(), 0);
    const r = await m.exec(async () => {
      const t0 = m.k.cpu.time;
      const x = await sendCdb(u, [SCSIOP_TEST_UNIT_READY, 0, 0, 0, 0, 0]);
      return { status: x.status, took: m.k.cpu.time - t0 };
    });
    expect(r.status).toBe(0);
    expect(r.took).toBeGreaterThanOrEqual(300 * US);
    expect(m.miniport.callsOf("HwTimerEx").length).toBeGreaterThan(0);
  });
});

describe("StorPortInitializeDpc and StorPortIssueDpc", () => {
  it("the DPC runs HwStorDpcRoutine at DISPATCH_LEVEL with its arguments; issuing it again while it is queued returns FALSE and changes nothing", async () => {
    const m = await bootWithMiniport();
    const ext = m.miniport.ext;
    const runs: { irql: number; a1: unknown; a2: unknown; dpc: unknown; ext: unknown; cpu: number }[] = [];
    const dpc = new STOR_DPC();
    const r = await m.exec(async () => {
      StorPortInitializeDpc(ext, dpc, function TmTestDpc(d, e, a1, a2) {
        runs.push({ irql: KeGetCurrentIrql(), a1, a2, dpc: d, ext: e, cpu: KeGetCurrentProcessorNumber() });
      });
      const issued = atDispatch(() => [StorPortIssueDpc(ext, dpc, "one", 1), StorPortIssueDpc(ext, dpc, "two", 2)]);
      await sleepUs(10);
      const later = atDispatch(() => StorPortIssueDpc(ext, dpc, "three", 3));
      await sleepUs(10);
      return { issued, later };
    }, { cpu: 1 });
    expect(r.issued).toEqual([true, false]);
    expect(r.later).toBe(true);
    expect(runs.map((x) => [x.a1, x.a2])).toEqual([["one", 1], ["three", 3]]);
    for (const x of runs) {
      expect(x.irql).toBe(DISPATCH_LEVEL);
      expect(x.dpc).toBe(dpc);
      expect(x.ext).toBe(ext);
      expect(x.cpu).toBe(1);
    }
  });

  it("the test miniport's DPC completions: HwStartIo issues the DPC, which completes under the DpcLock", async () => {
    const m = await bootWithMiniport();
    m.miniport.config.completion = "dpc";
    const u = unitOf(m.adapter(), 0);
    const r = await m.exec(() => sendCdb(u, [SCSIOP_TEST_UNIT_READY, 0, 0, 0, 0, 0]));
    expect(r.status).toBe(0);
    const dpcs = m.miniport.callsOf("HwDpcRoutine");
    expect(dpcs.length).toBe(1);
    expect(dpcs[0].irql).toBe(DISPATCH_LEVEL);
  });
});

describe("StorPortAcquireSpinLock / StorPortReleaseSpinLock", () => {
  it("StartIoLock is the port's StartIo lock: taken at DISPATCH_LEVEL, released back to the caller's IRQL; DpcLock is the STOR_DPC's own lock", async () => {
    const m = await bootWithMiniport();
    const ext = m.miniport.ext;
    const a = m.adapter();
    const r = await m.exec(() => {
      const h = new STOR_LOCK_HANDLE();
      StorPortAcquireSpinLock(ext, STOR_SPINLOCK.StartIoLock, null, h);
      const held = { irql: KeGetCurrentIrql(), owner: a.StartIoLock.owner };
      StorPortReleaseSpinLock(ext, h);
      const after = { irql: KeGetCurrentIrql(), owner: a.StartIoLock.owner };
      const d = new STOR_LOCK_HANDLE();
      StorPortAcquireSpinLock(ext, STOR_SPINLOCK.DpcLock, ext.CompletionDpc, d);
      const dpcHeld = { irql: KeGetCurrentIrql(), owner: ext.CompletionDpc.Lock.owner };
      StorPortReleaseSpinLock(ext, d);
      const i = new STOR_LOCK_HANDLE();
      StorPortAcquireSpinLock(ext, STOR_SPINLOCK.InterruptLock, null, i);
      const interruptIrql = KeGetCurrentIrql();
      StorPortReleaseSpinLock(ext, i);
      return { held, after, dpcHeld, dpcAfter: ext.CompletionDpc.Lock.owner, interruptIrql, end: KeGetCurrentIrql() };
    }, { cpu: 1 });
    expect(r.held).toEqual({ irql: DISPATCH_LEVEL, owner: 1 });
    expect(r.after).toEqual({ irql: PASSIVE_LEVEL, owner: -1 });
    expect(r.dpcHeld).toEqual({ irql: DISPATCH_LEVEL, owner: 1 });
    expect(r.dpcAfter).toBe(-1);
    expect(r.interruptIrql).toBeGreaterThanOrEqual(DISPATCH_LEVEL);
    expect(r.end).toBe(PASSIVE_LEVEL);
  });

  it("HwStorStartIo already holds the StartIo lock: a miniport that takes it there deadlocks (SPIN_LOCK_ALREADY_OWNED)", async () => {
    const m = await bootWithMiniport({
      onStartIo: (ext, srb) => {
        if (!("Cdb" in srb) || srb.Cdb[0] !== SCSIOP_TEST_UNIT_READY) return false;
        StorPortAcquireSpinLock(ext, STOR_SPINLOCK.StartIoLock, null, new STOR_LOCK_HANDLE());
        return false;
      },
    });
    const u = unitOf(m.adapter(), 0);
    const bc = await bugCheckOf(m.machine.exec(() => sendCdb(u, [SCSIOP_TEST_UNIT_READY, 0, 0, 0, 0, 0])));
    expectBugCheck(bc, 0x0F);
    expect(bc.context.routine).toBe("TmStartIo");
  });
});
