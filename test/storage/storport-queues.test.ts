// Storport's per-unit queues and the miniport's control over them (Storport Queue Management;
// SCSI_REQUEST_BLOCK's queue functions and flags; StorPortSetDeviceQueueDepth, StorPortBusy /
// Ready, StorPortPause / Resume, StorPortPauseDevice / ResumeDevice, StorPortDeviceBusy /
// DeviceReady, StorPortCompleteRequest; HW_STARTIO's SRB_STATUS_BUSY): queue depth, frozen
// and locked queues, flushing, claims, busy and paused adapters and units, and retries.
import { describe, expect, it } from "vitest";
import { DISPATCH_LEVEL } from "../../src/ke/irql.js";
import { NT_SUCCESS, STATUS_SUCCESS } from "../../src/ke/ntstatus.js";
import { KeLowerIrql, KeRaiseIrql } from "../../src/ke/level.js";
import { KeDelayExecutionThread, KPROCESSOR_MODE } from "../../src/ke/dispatcher.js";
import { SCSIOP_TEST_UNIT_READY } from "../../src/drivers/storage/scsi.js";
import {
  SRB_FLAGS_BYPASS_FROZEN_QUEUE, SRB_FLAGS_BYPASS_LOCKED_QUEUE, SRB_FLAGS_NO_QUEUE_FREEZE, SRB_FUNCTION_CLAIM_DEVICE, SRB_FUNCTION_FLUSH,
  SRB_FUNCTION_FLUSH_QUEUE, SRB_FUNCTION_LOCK_QUEUE, SRB_FUNCTION_RELEASE_DEVICE, SRB_FUNCTION_RELEASE_QUEUE, SRB_FUNCTION_SHUTDOWN,
  SRB_FUNCTION_UNLOCK_QUEUE, SRB_STATUS, SRB_STATUS_ABORTED, SRB_STATUS_BUSY, SRB_STATUS_ERROR, SRB_STATUS_QUEUE_FROZEN,
  SRB_STATUS_REQUEST_FLUSHED, SRB_STATUS_SUCCESS, type SRB,
} from "../../src/drivers/storage/srb.js";
import {
  SP_UNTAGGED, StorPortBusy, StorPortCompleteRequest, StorPortDeviceBusy, StorPortDeviceReady, StorPortPause, StorPortPauseDevice, StorPortReady,
  StorPortResume, StorPortResumeDevice, StorPortSetDeviceQueueDepth,
} from "../../src/drivers/storport/index.js";
import type { RAID_UNIT_EXTENSION } from "../../src/drivers/storport/unit.js";
import {
  bootWithMiniport, cdbSrb, completeHeld, completeRequest, sendCdb, sendFunction, submitSrb, unitOf, type MiniportMachine, type SrbRequest, type TEST_DEVICE_EXTENSION,
} from "../support/test-miniport.js";

const TUR = [SCSIOP_TEST_UNIT_READY, 0, 0, 0, 0, 0];
/** An operation code the test LUNs refuse with CHECK CONDITION. */
const BAD = [0xC7, 0, 0, 0, 0, 0];

/** Runs `fn` at DISPATCH_LEVEL (as a miniport's DPC or timer would call the service). */
function atDispatch<T>(fn: () => T): T {
  const old = KeRaiseIrql(DISPATCH_LEVEL);
  try {
    return fn();
  } finally {
    KeLowerIrql(old);
  }
}

/** Sends `n` TEST UNIT READY requests without waiting. */
function submitMany(u: RAID_UNIT_EXTENSION, n: number, flags = 0): SrbRequest[] {
  return Array.from({ length: n }, () => submitSrb(u.DeviceObject!, cdbSrb(u, TUR, { flags, senseLength: 0 }).srb, null));
}

/** Boots with every request held by the miniport once the scan is done. */
async function holding(options: Parameters<typeof bootWithMiniport>[0] = {}): Promise<MiniportMachine & { ext: TEST_DEVICE_EXTENSION }> {
  const m = await bootWithMiniport(options);
  m.miniport.config.completion = "never";
  return { ...m, ext: m.miniport.ext };
}

/** Lets simulated time pass in the calling thread (PASSIVE_LEVEL), 100 ns units. */
function sleep(units: number) {
  return KeDelayExecutionThread(KPROCESSOR_MODE.KernelMode, false, -units);
}

describe("queue depth", () => {
  it("the port gives a unit at most its queue depth of requests at once, 20 unless the miniport says otherwise (InitialLunQueueDepth); the rest wait in order", async () => {
    const m = await holding();
    const u = unitOf(m.adapter(), 0);
    const seen = await m.exec(async () => {
      const reqs = submitMany(u, 25);
      const first = m.ext.Held.length;
      const waiting = reqs.filter((r) => !m.ext.Held.includes(r.srb));
      atDispatch(() => completeHeld(m.ext, 3));
      const after = m.ext.Held.length;
      const startedNext = waiting.slice(0, 3).every((r) => m.ext.Held.includes(r.srb));
      atDispatch(() => completeHeld(m.ext));
      atDispatch(() => completeHeld(m.ext));
      for (const r of reqs) await r.wait();
      return { first, after, startedNext, statuses: new Set(reqs.map((r) => r.status)) };
    });
    expect(seen.first).toBe(20);
    expect(seen.after).toBe(20);
    expect(seen.startedNext).toBe(true);
    expect(seen.statuses).toEqual(new Set([STATUS_SUCCESS]));
  });

  it("InitialLunQueueDepth sets every unit's depth at start", async () => {
    const m = await holding({ initialLunQueueDepth: 4, luns: [0, 1] });
    const a = m.adapter();
    const seen = await m.exec(async () => {
      const reqs = [...submitMany(unitOf(a, 0), 6), ...submitMany(unitOf(a, 1), 6)];
      const held = m.ext.Held.length;
      atDispatch(() => completeHeld(m.ext));
      atDispatch(() => completeHeld(m.ext));
      for (const r of reqs) await r.wait();
      return held;
    });
    expect(seen).toBe(8);
  });

  it("StorPortSetDeviceQueueDepth changes one unit's depth; FALSE for a depth of 0, one above MaxIOsPerLun, or no such unit", async () => {
    const m = await holding({ luns: [0, 1], maxIosPerLun: 64 });
    const a = m.adapter();
    const r = await m.exec(async () => {
      const results = atDispatch(() => [
        StorPortSetDeviceQueueDepth(m.ext, 0, 0, 0, 2),
        StorPortSetDeviceQueueDepth(m.ext, 0, 0, 0, 0),
        StorPortSetDeviceQueueDepth(m.ext, 0, 0, 1, 65),
        StorPortSetDeviceQueueDepth(m.ext, 0, 0, 7, 8),
      ]);
      const reqs = [...submitMany(unitOf(a, 0), 5), ...submitMany(unitOf(a, 1), 5)];
      const perLun = [0, 1].map((lun) => m.ext.Held.filter((s) => (s as { Lun: number }).Lun === lun).length);
      atDispatch(() => completeHeld(m.ext));
      atDispatch(() => completeHeld(m.ext));
      atDispatch(() => completeHeld(m.ext));
      for (const x of reqs) await x.wait();
      return { results, perLun };
    });
    expect(r.results).toEqual([true, false, false, false]);
    expect(r.perLun).toEqual([2, 5]);
  });
});

describe("frozen queues", () => {
  it("a request that fails without SRB_FLAGS_NO_QUEUE_FREEZE freezes its unit: it comes back with SRB_STATUS_QUEUE_FROZEN, later requests wait until SRB_FUNCTION_RELEASE_QUEUE, and SRB_FLAGS_BYPASS_FROZEN_QUEUE requests go ahead", async () => {
    const m = await bootWithMiniport();
    const u = unitOf(m.adapter(), 0);
    const r = await m.exec(async () => {
      const bad = await sendCdb(u, BAD);
      const waiting = submitSrb(u.DeviceObject!, cdbSrb(u, TUR).srb, null);
      const heldWhileFrozen = !waiting.completed;
      const bypass = await sendCdb(u, TUR, { flags: SRB_FLAGS_BYPASS_FROZEN_QUEUE });
      const stillHeld = !waiting.completed;
      const release = await sendFunction(u, SRB_FUNCTION_RELEASE_QUEUE);
      const after = await waiting.wait();
      return { badStatus: bad.srb.SrbStatus, bad: bad.status, heldWhileFrozen, bypass: bypass.status, stillHeld, release: release.status, after };
    });
    expect(SRB_STATUS(r.badStatus)).toBe(SRB_STATUS_ERROR);
    expect(r.badStatus & SRB_STATUS_QUEUE_FROZEN).toBe(SRB_STATUS_QUEUE_FROZEN);
    expect(NT_SUCCESS(r.bad)).toBe(false);
    expect(r.heldWhileFrozen).toBe(true);
    expect(r.bypass).toBe(STATUS_SUCCESS);
    expect(r.stillHeld).toBe(true);
    expect(r.release).toBe(STATUS_SUCCESS);
    expect(r.after).toBe(STATUS_SUCCESS);
  });

  it("with SRB_FLAGS_NO_QUEUE_FREEZE a failed request leaves the queue running", async () => {
    const m = await bootWithMiniport();
    const u = unitOf(m.adapter(), 0);
    const r = await m.exec(async () => {
      const bad = await sendCdb(u, BAD, { flags: SRB_FLAGS_NO_QUEUE_FREEZE });
      const next = await sendCdb(u, TUR);
      return { bad: bad.srb.SrbStatus, next: next.status };
    });
    expect(r.bad & SRB_STATUS_QUEUE_FROZEN).toBe(0);
    expect(r.next).toBe(STATUS_SUCCESS);
  });

  it("an underrun (SRB_STATUS_DATA_OVERRUN with less data) is a success and freezes nothing", async () => {
    const m = await bootWithMiniport();
    const u = unitOf(m.adapter(), 0);
    const r = await m.exec(async () => {
      const short = await sendCdb(u, [0x12, 0, 0, 0, 96, 0], { dataIn: 96 });
      const next = submitSrb(u.DeviceObject!, cdbSrb(u, TUR).srb, null);
      return { status: short.status, frozenBit: short.srb.SrbStatus & SRB_STATUS_QUEUE_FROZEN, nextDone: next.completed, next: await next.wait() };
    });
    expect(r).toEqual({ status: STATUS_SUCCESS, frozenBit: 0, nextDone: true, next: STATUS_SUCCESS });
  });
});

describe("locked queues", () => {
  it("after SRB_FUNCTION_LOCK_QUEUE only SRB_FLAGS_BYPASS_LOCKED_QUEUE requests run; SRB_FUNCTION_UNLOCK_QUEUE (itself with the bypass flag) lets the others go in order", async () => {
    const m = await bootWithMiniport();
    const u = unitOf(m.adapter(), 0);
    const r = await m.exec(async () => {
      const lock = await sendFunction(u, SRB_FUNCTION_LOCK_QUEUE);
      const w = submitMany(u, 2);
      const held = w.map((x) => x.completed);
      const bypass = await sendCdb(u, TUR, { flags: SRB_FLAGS_BYPASS_LOCKED_QUEUE });
      const unlock = await sendFunction(u, SRB_FUNCTION_UNLOCK_QUEUE, SRB_FLAGS_BYPASS_LOCKED_QUEUE);
      const after = [await w[0].wait(), await w[1].wait()];
      return { lock: lock.status, held, bypass: bypass.status, unlock: unlock.status, after };
    });
    expect(r.lock).toBe(STATUS_SUCCESS);
    expect(r.held).toEqual([false, false]);
    expect(r.bypass).toBe(STATUS_SUCCESS);
    expect(r.unlock).toBe(STATUS_SUCCESS);
    expect(r.after).toEqual([STATUS_SUCCESS, STATUS_SUCCESS]);
    // The two that waited reached the miniport after the bypassing one, in the order they were sent.
    const order = m.miniport.callsOf("HwStartIo").slice(-3).map((c) => c.srb!.SrbFlags & SRB_FLAGS_BYPASS_LOCKED_QUEUE);
    expect(order).toEqual([SRB_FLAGS_BYPASS_LOCKED_QUEUE, 0, 0]);
  });
});

describe("SRB_FUNCTION_FLUSH_QUEUE", () => {
  it("completes the requests waiting in the port for the unit with SRB_STATUS_REQUEST_FLUSHED; the one the miniport holds is not touched", async () => {
    const m = await holding({ initialLunQueueDepth: 1 });
    const u = unitOf(m.adapter(), 0);
    const r = await m.exec(async () => {
      const reqs = submitMany(u, 3);
      const flush = await sendFunction(u, SRB_FUNCTION_FLUSH_QUEUE);
      const flushed = reqs.slice(1).map((x) => [x.completed, SRB_STATUS(x.srb.SrbStatus)]);
      const first = reqs[0].completed;
      atDispatch(() => completeHeld(m.ext));
      for (const x of reqs) await x.wait();
      return { flush: flush.status, flushed, first, firstStatus: reqs[0].status };
    });
    expect(r.flush).toBe(STATUS_SUCCESS);
    expect(r.flushed).toEqual([[true, SRB_STATUS_REQUEST_FLUSHED], [true, SRB_STATUS_REQUEST_FLUSHED]]);
    expect(r.first).toBe(false);
    expect(r.firstStatus).toBe(STATUS_SUCCESS);
  });
});

describe("SRB_FUNCTION_CLAIM_DEVICE / RELEASE_DEVICE", () => {
  it("a class driver claims a unit once; a second claim fails until the claim is released", async () => {
    const m = await bootWithMiniport();
    const u = unitOf(m.adapter(), 0);
    const r = await m.exec(async () => [
      (await sendFunction(u, SRB_FUNCTION_CLAIM_DEVICE)).status,
      (await sendFunction(u, SRB_FUNCTION_CLAIM_DEVICE)).status,
      (await sendFunction(u, SRB_FUNCTION_RELEASE_DEVICE)).status,
      (await sendFunction(u, SRB_FUNCTION_CLAIM_DEVICE)).status,
    ]);
    expect(r[0]).toBe(STATUS_SUCCESS);
    expect(NT_SUCCESS(r[1])).toBe(false);
    expect(r[2]).toBe(STATUS_SUCCESS);
    expect(r[3]).toBe(STATUS_SUCCESS);
    // Claims are the port's business: the miniport saw none of them.
    expect(m.miniport.calls.filter((c) => c.function === SRB_FUNCTION_CLAIM_DEVICE || c.function === SRB_FUNCTION_RELEASE_DEVICE)).toEqual([]);
  });
});

describe("SRB_FUNCTION_FLUSH and SHUTDOWN", () => {
  it("reach the miniport only when it set CachesData; otherwise the port completes them", async () => {
    for (const caches of [false, true]) {
      const m = await bootWithMiniport({ onFindAdapter: (_e, c) => { c.CachesData = caches; } });
      const u = unitOf(m.adapter(), 0);
      const r = await m.exec(async () => [(await sendFunction(u, SRB_FUNCTION_FLUSH)).status, (await sendFunction(u, SRB_FUNCTION_SHUTDOWN)).status]);
      expect(r).toEqual([STATUS_SUCCESS, STATUS_SUCCESS]);
      const seen = m.miniport.calls.filter((c) => c.routine === "HwStartIo" && (c.function === SRB_FUNCTION_FLUSH || c.function === SRB_FUNCTION_SHUTDOWN));
      expect(seen.length).toBe(caches ? 2 : 0);
    }
  });
});

describe("busy and paused adapters and units", () => {
  it("StorPortBusy(N): no new request reaches the miniport until N of the outstanding ones complete", async () => {
    const m = await holding();
    const u = unitOf(m.adapter(), 0);
    const r = await m.exec(async () => {
      const first = submitMany(u, 3);
      atDispatch(() => StorPortBusy(m.ext, 2));
      const later = submitMany(u, 2);
      const heldAtBusy = m.ext.Held.length;
      atDispatch(() => completeHeld(m.ext, 1));
      const afterOne = m.ext.Held.length;
      atDispatch(() => completeHeld(m.ext, 1));
      const afterTwo = m.ext.Held.length;
      atDispatch(() => completeHeld(m.ext));
      for (const x of [...first, ...later]) await x.wait();
      return { heldAtBusy, afterOne, afterTwo };
    });
    expect(r).toEqual({ heldAtBusy: 3, afterOne: 2, afterTwo: 3 });
  });

  it("StorPortBusy with more requests than are outstanding resumes once all outstanding ones completed", async () => {
    const m = await holding();
    const u = unitOf(m.adapter(), 0);
    const r = await m.exec(async () => {
      const first = submitMany(u, 2);
      atDispatch(() => StorPortBusy(m.ext, 10));
      const later = submitMany(u, 1);
      atDispatch(() => completeHeld(m.ext));
      const resumed = m.ext.Held.includes(later[0].srb);
      atDispatch(() => completeHeld(m.ext));
      for (const x of [...first, ...later]) await x.wait();
      return resumed;
    });
    expect(r).toBe(true);
  });

  it("StorPortReady ends a busy state at once", async () => {
    const m = await holding();
    const u = unitOf(m.adapter(), 0);
    const r = await m.exec(async () => {
      const first = submitMany(u, 1);
      atDispatch(() => StorPortBusy(m.ext, 1));
      const later = submitMany(u, 1);
      const before = m.ext.Held.includes(later[0].srb);
      atDispatch(() => StorPortReady(m.ext));
      const after = m.ext.Held.includes(later[0].srb);
      atDispatch(() => completeHeld(m.ext));
      for (const x of [...first, ...later]) await x.wait();
      return [before, after];
    });
    expect(r).toEqual([false, true]);
  });

  it("StorPortPause(TimeOut) holds every request to the adapter until the timeout expires; StorPortResume ends it early", async () => {
    const m = await bootWithMiniport({ luns: [0, 1] });
    const a = m.adapter();
    const ext = m.miniport.ext;
    const r = await m.exec(async () => {
      atDispatch(() => StorPortPause(ext, 2));
      const t0 = m.k.cpu.time;
      const reqs = [submitMany(unitOf(a, 0), 1)[0], submitMany(unitOf(a, 1), 1)[0]];
      const heldAtFirst = reqs.map((x) => x.completed);
      await sleep(15_000_000);
      const heldAfter1_5s = reqs.map((x) => x.completed);
      for (const x of reqs) await x.wait();
      const waited = (m.k.cpu.time - t0) / 1e12;
      atDispatch(() => StorPortPause(ext, 60));
      const paused = submitMany(unitOf(a, 0), 1)[0];
      const pausedHeld = paused.completed;
      atDispatch(() => StorPortResume(ext));
      await paused.wait();
      return { heldAtFirst, heldAfter1_5s, waited, pausedHeld, resumed: paused.status };
    });
    expect(r.heldAtFirst).toEqual([false, false]);
    expect(r.heldAfter1_5s).toEqual([false, false]);
    expect(r.waited).toBeGreaterThanOrEqual(2);
    expect(r.waited).toBeLessThan(2.1);
    expect(r.pausedHeld).toBe(false);
    expect(r.resumed).toBe(STATUS_SUCCESS);
  });

  it("StorPortPauseDevice holds one unit's requests until its timeout or StorPortResumeDevice; other units keep going", async () => {
    const m = await bootWithMiniport({ luns: [0, 1] });
    const a = m.adapter();
    const ext = m.miniport.ext;
    const r = await m.exec(async () => {
      const ok = atDispatch(() => StorPortPauseDevice(ext, 0, 0, 1, 1));
      const paused = submitMany(unitOf(a, 1), 1)[0];
      const other = submitMany(unitOf(a, 0), 1)[0];
      const state = [paused.completed, other.completed];
      const t0 = m.k.cpu.time;
      await paused.wait();
      const waited = (m.k.cpu.time - t0) / 1e12;
      atDispatch(() => StorPortPauseDevice(ext, 0, 0, 1, 30));
      const again = submitMany(unitOf(a, 1), 1)[0];
      const againHeld = again.completed;
      const resumed = atDispatch(() => StorPortResumeDevice(ext, 0, 0, 1));
      await again.wait();
      await other.wait();
      const missing = atDispatch(() => StorPortPauseDevice(ext, 0, 0, 5, 1));
      return { ok, state, waited, againHeld, resumed, again: again.status, missing };
    });
    expect(r.ok).toBe(true);
    expect(r.state).toEqual([false, true]);
    expect(r.waited).toBeGreaterThan(0.9);
    expect(r.waited).toBeLessThan(1.1);
    expect([r.againHeld, r.resumed, r.again]).toEqual([false, true, STATUS_SUCCESS]);
    expect(r.missing).toBe(false);
  });

  it("StorPortDeviceBusy holds one unit until N of its requests complete (all of them when N is larger); StorPortDeviceReady ends it", async () => {
    const m = await holding({ luns: [0, 1] });
    const a = m.adapter();
    const u0 = unitOf(a, 0);
    const r = await m.exec(async () => {
      const first = submitMany(u0, 2);
      atDispatch(() => StorPortDeviceBusy(m.ext, 0, 0, 0, 5));
      const waiting = submitMany(u0, 1)[0];
      const other = submitMany(unitOf(a, 1), 1)[0];
      const state = [m.ext.Held.includes(waiting.srb), m.ext.Held.includes(other.srb)];
      atDispatch(() => completeHeld(m.ext, 1));
      const afterOne = m.ext.Held.includes(waiting.srb);
      atDispatch(() => completeHeld(m.ext, 1));
      const afterAll = m.ext.Held.includes(waiting.srb);
      atDispatch(() => StorPortDeviceBusy(m.ext, 0, 0, 0, 1));
      const next = submitMany(u0, 1)[0];
      const heldByBusy = !m.ext.Held.includes(next.srb);
      atDispatch(() => StorPortDeviceReady(m.ext, 0, 0, 0));
      const readied = m.ext.Held.includes(next.srb);
      atDispatch(() => completeHeld(m.ext));
      for (const x of [...first, waiting, other, next]) await x.wait();
      return { state, afterOne, afterAll, heldByBusy, readied };
    });
    expect(r.state).toEqual([false, true]);
    expect(r.afterOne).toBe(false);
    expect(r.afterAll).toBe(true);
    expect(r.heldByBusy).toBe(true);
    expect(r.readied).toBe(true);
  });
});

describe("StorPortCompleteRequest", () => {
  it("completes every request the miniport holds on the matching units (SP_UNTAGGED matches any) with the given status; requests still waiting in the port are not touched", async () => {
    const m = await holding({ luns: [0, 1], initialLunQueueDepth: 2 });
    const a = m.adapter();
    const r = await m.exec(async () => {
      // Without SRB_FLAGS_NO_QUEUE_FREEZE each aborted request would freeze its unit.
      const on0 = submitMany(unitOf(a, 0), 3, SRB_FLAGS_NO_QUEUE_FREEZE);
      const on1 = submitMany(unitOf(a, 1), 2, SRB_FLAGS_NO_QUEUE_FREEZE);
      atDispatch(() => StorPortCompleteRequest(m.ext, 0, 0, 0, SRB_STATUS_ABORTED));
      const lun0 = on0.map((x) => (x.completed ? SRB_STATUS(x.srb.SrbStatus) : "outstanding"));
      const thirdStarted = m.ext.Held.includes(on0[2].srb);
      const lun1 = on1.map((x) => x.completed);
      atDispatch(() => StorPortCompleteRequest(m.ext, SP_UNTAGGED, SP_UNTAGGED, SP_UNTAGGED, SRB_STATUS_ABORTED));
      const all = on1.map((x) => x.completed);
      atDispatch(() => completeHeld(m.ext));
      for (const x of [...on0, ...on1]) await x.wait();
      return { lun0, thirdStarted, lun1, all };
    });
    // LUN 0 had two with the miniport and one waiting (depth 2); the waiting one then started and is not completed by the call.
    expect(r.lun0).toEqual([SRB_STATUS_ABORTED, SRB_STATUS_ABORTED, "outstanding"]);
    expect(r.thirdStarted).toBe(true);
    expect(r.lun1).toEqual([false, false]);
    expect(r.all).toEqual([true, true]);
  });
});

describe("SRB_STATUS_BUSY", () => {
  it("a request the miniport completes with SRB_STATUS_BUSY is sent to HwStorBuildIo and HwStorStartIo again, and the class driver sees only its final status", async () => {
    let refusals = 2;
    const m = await bootWithMiniport({
      onStartIo: (ext, srb: SRB) => {
        if (!("Cdb" in srb) || srb.Cdb[0] !== SCSIOP_TEST_UNIT_READY || refusals === 0) return false;
        refusals--;
        srb.SrbStatus = SRB_STATUS_BUSY;
        completeRequest(ext, srb);
        return true;
      },
    });
    const u = unitOf(m.adapter(), 0);
    const r = await m.exec(() => sendCdb(u, TUR));
    expect(r.status).toBe(STATUS_SUCCESS);
    expect(SRB_STATUS(r.srb.SrbStatus)).toBe(SRB_STATUS_SUCCESS);
    expect(m.miniport.calls.filter((c) => c.srb === r.srb).map((c) => c.routine)).toEqual(["HwBuildIo", "HwStartIo", "HwBuildIo", "HwStartIo", "HwBuildIo", "HwStartIo"]);
    // Nothing was frozen by the refusals.
    expect(unitOf(m.adapter(), 0).Frozen).toBe(false);
  });
});
