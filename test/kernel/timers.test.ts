// Kernel timers and waits with timeouts (shared/specs/nt-semantics.md: Events, timers, waits;
// WDK: KeInitializeTimer(Ex), KeSetTimer(Ex), KeCancelTimer, KeReadStateTimer,
// KeQueryInterruptTime, KeQuerySystemTime, KeWaitForMultipleObjects, KeDelayExecutionThread,
// "Timer Objects and DPCs", "Timer Accuracy"):
// - a negative due time is relative, in 100 ns units; a positive one is an absolute system time;
// - KeSetTimer(Ex) returns TRUE when the timer was already set (that setting is replaced) and
//   leaves the timer not signalled; at expiry the timer is signalled and its DPC queued, and a
//   non-zero period (ms) re-arms it;
// - KeCancelTimer returns whether the timer was set, and a cancelled timer's DPC never runs;
// - a notification timer releases every waiter and stays signalled, a synchronization timer
//   releases one waiter and resets;
// - timers and wait timeouts expire on the clock interrupt: at the first clock tick at or after
//   the due time (machine file: kernel.clockTickUs), and the tick-based time queries move only
//   at ticks;
// - KeWaitForMultipleObjects WaitAny / WaitAll return STATUS_TIMEOUT when the timeout passes
//   first, and a WaitAll that times out takes nothing from the objects that were signalled.
import { beforeAll, describe, expect, it } from "vitest";
import {
  DISPATCH_LEVEL, type Machine, type NTSTATUS, KE,
  KDPC, KeInitializeDpc, KeGetCurrentIrql,
  KEVENT, EVENT_TYPE, KeInitializeEvent, KeSetEvent, KeReadStateEvent,
  KTIMER, TIMER_TYPE, KeInitializeTimer, KeInitializeTimerEx, KeSetTimer, KeSetTimerEx, KeCancelTimer, KeReadStateTimer,
  KeQueryInterruptTime, KeQueryInterruptTimePrecise, KeQuerySystemTime, KeQuerySystemTimePrecise,
  KeWaitForSingleObject, KeWaitForMultipleObjects, KeDelayExecutionThread, KWAIT_REASON, KPROCESSOR_MODE, WAIT_TYPE,
  STATUS_SUCCESS, STATUS_TIMEOUT, STATUS_WAIT_0, type DispatcherObject,
} from "../../src/index.js";
import { Machine as MachineClass } from "../../src/machine/machine.js";
import { boot } from "../../src/pnp/boot.js";
import { bootDefault, defaultDescription, PS_PER_100NS, relativeMs, sleep100ns, spawnThread, notificationEvent } from "../support/kernel-harness.js";

/** Picoseconds per millisecond. */
const PS_PER_MS = 1e9;
/** Slack allowed after an expiry for the kernel's own costs: dispatch, and a context switch to a woken thread (2 us). */
const SLACK_PS = 2e6;
/** Windows' default clock interrupt interval, us. */
const WINDOWS_TICK_US = 15_625;

/** The executing processor's simulated time, ps. */
function nowPs(): number {
  return KE().cpu.time;
}

function wait(object: DispatcherObject, timeout: number | null): Promise<NTSTATUS> {
  return KeWaitForSingleObject(object, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, timeout);
}

/** A DPC that records when it ran (ps), its IRQL and its context, and sets `done` if given. */
function timerDpc(runs: { atPs: number; irql: number; context: unknown }[], context: unknown = null, done?: KEVENT): KDPC {
  const dpc = new KDPC();
  KeInitializeDpc(dpc, function TimerDpc(_d, ctx) {
    runs.push({ atPs: nowPs(), irql: KeGetCurrentIrql(), context: ctx });
    if (done) KeSetEvent(done, 0, false);
  }, context);
  return dpc;
}

/** Expects `actualPs` to be at `expectedPs` or at most SLACK_PS after it. */
function expectAt(actualPs: number, expectedPs: number): void {
  expect(actualPs).toBeGreaterThanOrEqual(expectedPs);
  expect(actualPs - expectedPs).toBeLessThan(SLACK_PS);
}

/** Boots the default machine with a clock tick of `tickUs`. */
function bootWithTick(tickUs: number): Promise<Machine> {
  const d = defaultDescription();
  d.kernel = { ...d.kernel, clockTickUs: tickUs };
  return boot(MachineClass.fromDescription(d));
}

describe("kernel timers", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("KeInitializeTimer gives a notification timer, KeInitializeTimerEx the type asked for; neither is set or signalled", async () => {
    const r = await machine.exec(() => {
      const n = new KTIMER();
      KeInitializeTimer(n);
      const s = new KTIMER();
      KeInitializeTimerEx(s, TIMER_TYPE.SynchronizationTimer);
      const x = new KTIMER();
      KeInitializeTimerEx(x, TIMER_TYPE.NotificationTimer);
      return {
        types: [n.Header.Type, s.Header.Type, x.Header.Type],
        signalled: [KeReadStateTimer(n), KeReadStateTimer(s), KeReadStateTimer(x)],
        cancelled: [KeCancelTimer(n), KeCancelTimer(s), KeCancelTimer(x)],
      };
    });
    expect(r.types).toEqual([TIMER_TYPE.NotificationTimer, TIMER_TYPE.SynchronizationTimer, TIMER_TYPE.NotificationTimer]);
    expect(r.signalled).toEqual([false, false, false]);
    expect(r.cancelled).toEqual([false, false, false]);
  });

  it("a negative due time is relative in 100 ns units: the timer expires that much later and its DPC runs at DISPATCH_LEVEL with its context", async () => {
    for (const units of [10_000, 123_457]) {
      const r = await machine.exec(async () => {
        const runs: { atPs: number; irql: number; context: unknown }[] = [];
        const done = notificationEvent();
        const timer = new KTIMER();
        KeInitializeTimer(timer);
        const dpc = timerDpc(runs, "ctx", done);
        const wasSet = KeSetTimer(timer, -units, dpc);
        const setAtPs = nowPs();
        const stateBefore = KeReadStateTimer(timer);
        const status = await wait(done, relativeMs(100));
        return { wasSet, setAtPs, stateBefore, status, runs, stateAfter: KeReadStateTimer(timer) };
      });
      expect(r.wasSet).toBe(false);
      expect(r.stateBefore).toBe(false);
      expect(r.status).toBe(STATUS_WAIT_0);
      expect(r.runs).toHaveLength(1);
      expectAt(r.runs[0].atPs, r.setAtPs + units * PS_PER_100NS);
      expect(r.runs[0].irql).toBe(DISPATCH_LEVEL);
      expect(r.runs[0].context).toBe("ctx");
      expect(r.stateAfter).toBe(true);
    }
  });

  it("KeSetTimer on a set timer returns TRUE and replaces its due time: only the new expiry queues the DPC", async () => {
    const r = await machine.exec(async () => {
      const runs: { atPs: number; irql: number; context: unknown }[] = [];
      const timer = new KTIMER();
      KeInitializeTimer(timer);
      const dpc = timerDpc(runs);
      const first = KeSetTimer(timer, relativeMs(1), dpc);
      const second = KeSetTimer(timer, relativeMs(3), dpc);
      const secondAtPs = nowPs();
      await sleep100ns(50_000);
      // Expired, so no longer set: setting it again returns FALSE.
      const third = KeSetTimer(timer, relativeMs(1), dpc);
      await sleep100ns(20_000);
      return { first, second, third, secondAtPs, runs };
    });
    expect(r.first).toBe(false);
    expect(r.second).toBe(true);
    expect(r.third).toBe(false);
    expect(r.runs).toHaveLength(2);
    expectAt(r.runs[0].atPs, r.secondAtPs + 3 * PS_PER_MS);
  });

  it("KeSetTimer leaves the timer not signalled: an expired timer that is set again reads FALSE until it expires again", async () => {
    const r = await machine.exec(async () => {
      const timer = new KTIMER();
      KeInitializeTimer(timer);
      KeSetTimer(timer, relativeMs(1), null);
      const beforeExpiry = KeReadStateTimer(timer);
      await sleep100ns(20_000);
      const afterExpiry = KeReadStateTimer(timer);
      KeSetTimer(timer, relativeMs(1), null);
      const afterReset = KeReadStateTimer(timer);
      await sleep100ns(20_000);
      return [beforeExpiry, afterExpiry, afterReset, KeReadStateTimer(timer)];
    });
    expect(r).toEqual([false, true, false, true]);
  });

  it("a positive due time is an absolute system time", async () => {
    const r = await machine.exec(async () => {
      const runs: { atPs: number; irql: number; context: unknown }[] = [];
      const done = notificationEvent();
      const timer = new KTIMER();
      KeInitializeTimer(timer);
      const systemTime = KeQuerySystemTimePrecise();
      const due = systemTime + 25_000;
      KeSetTimer(timer, due, timerDpc(runs, null, done));
      const status = await wait(done, relativeMs(100));
      return { systemTime, due, status, runs };
    });
    expect(r.systemTime).toBeGreaterThan(0);
    expect(r.status).toBe(STATUS_WAIT_0);
    expect(r.runs).toHaveLength(1);
    expectAt(r.runs[0].atPs, r.due * PS_PER_100NS);
  });

  it("an absolute due time that has already passed expires at once", async () => {
    const r = await machine.exec(async () => {
      const runs: { atPs: number; irql: number; context: unknown }[] = [];
      const done = notificationEvent();
      const timer = new KTIMER();
      KeInitializeTimer(timer);
      const past = KeQuerySystemTimePrecise() - 10_000;
      KeSetTimer(timer, past, timerDpc(runs, null, done));
      const setAtPs = nowPs();
      const status = await wait(done, relativeMs(100));
      return { setAtPs, status, runs, signalled: KeReadStateTimer(timer) };
    });
    expect(r.status).toBe(STATUS_WAIT_0);
    expect(r.runs).toHaveLength(1);
    expectAt(r.runs[0].atPs, r.setAtPs);
    expect(r.signalled).toBe(true);
  });

  it("KeSetTimerEx with a period re-arms the timer every Period ms and queues the DPC at each expiry, until KeCancelTimer (which returns TRUE)", async () => {
    const r = await machine.exec(async () => {
      const runs: { atPs: number; irql: number; context: unknown }[] = [];
      const timer = new KTIMER();
      KeInitializeTimer(timer);
      const dpc = timerDpc(runs, "periodic");
      const wasSet = KeSetTimerEx(timer, relativeMs(1), 2, dpc);
      const setAtPs = nowPs();
      // Expiries at 1, 3, 5 and 7 ms.
      await sleep100ns(75_000);
      const cancelled = KeCancelTimer(timer);
      const runsAtCancel = runs.length;
      await sleep100ns(100_000);
      return { wasSet, setAtPs, cancelled, runsAtCancel, runs, cancelledAgain: KeCancelTimer(timer) };
    });
    expect(r.wasSet).toBe(false);
    expect(r.runsAtCancel).toBe(4);
    expect(r.runs).toHaveLength(4);
    r.runs.forEach((run, i) => {
      expectAt(run.atPs, r.setAtPs + (1 + 2 * i) * PS_PER_MS);
      expect(run.irql).toBe(DISPATCH_LEVEL);
      expect(run.context).toBe("periodic");
    });
    // A periodic timer is still set after it expired: cancelling it reports that.
    expect(r.cancelled).toBe(true);
    expect(r.cancelledAgain).toBe(false);
  });

  it("KeCancelTimer returns TRUE for a set timer and its DPC never runs; FALSE when the timer is not set or already expired", async () => {
    const r = await machine.exec(async () => {
      const runs: { atPs: number; irql: number; context: unknown }[] = [];
      const timer = new KTIMER();
      KeInitializeTimer(timer);
      const dpc = timerDpc(runs, "cancelled");
      KeSetTimer(timer, relativeMs(1), dpc);
      const whileSet = KeCancelTimer(timer);
      const again = KeCancelTimer(timer);
      await sleep100ns(30_000);
      const runsAfterCancel = runs.length;
      const signalledAfterCancel = KeReadStateTimer(timer);
      KeSetTimer(timer, relativeMs(1), dpc);
      await sleep100ns(20_000);
      const afterExpiry = KeCancelTimer(timer);
      return { whileSet, again, runsAfterCancel, signalledAfterCancel, afterExpiry, runs: runs.length };
    });
    expect(r.whileSet).toBe(true);
    expect(r.again).toBe(false);
    expect(r.runsAfterCancel).toBe(0);
    expect(r.signalledAfterCancel).toBe(false);
    expect(r.afterExpiry).toBe(false);
    expect(r.runs).toBe(1);
  });

  it("a notification timer releases every waiter at its expiry and stays signalled", async () => {
    const r = await machine.exec(async () => {
      const timer = new KTIMER();
      KeInitializeTimerEx(timer, TIMER_TYPE.NotificationTimer);
      const woke: { id: number; status: NTSTATUS; atPs: number }[] = [];
      const threads = [1, 2, 3].map((id) => spawnThread(`timer waiter ${id}`, async () => {
        const status = await wait(timer, null);
        woke.push({ id, status, atPs: nowPs() });
      }));
      KeSetTimer(timer, relativeMs(2), null);
      const dueAtPs = nowPs() + 2 * PS_PER_MS;
      await sleep100ns(10_000);
      const beforeExpiry = woke.length;
      await sleep100ns(30_000);
      const late = await wait(timer, 0);
      return { dueAtPs, beforeExpiry, woke, state: KeReadStateTimer(timer), late, ended: threads.every((t) => t.State === "terminated") };
    });
    expect(r.beforeExpiry).toBe(0);
    expect(r.woke.map((w) => [w.id, w.status]).sort()).toEqual([[1, STATUS_WAIT_0], [2, STATUS_WAIT_0], [3, STATUS_WAIT_0]]);
    for (const w of r.woke) expect(w.atPs).toBeGreaterThanOrEqual(r.dueAtPs);
    expect(r.state).toBe(true);
    expect(r.late).toBe(STATUS_WAIT_0);
    expect(r.ended).toBe(true);
  });

  it("a synchronization timer releases one waiter per expiry and resets", async () => {
    const r = await machine.exec(async () => {
      const timer = new KTIMER();
      KeInitializeTimerEx(timer, TIMER_TYPE.SynchronizationTimer);
      const woke: number[] = [];
      const threads = [1, 2].map((id) => spawnThread(`sync waiter ${id}`, async () => {
        await wait(timer, null);
        woke.push(id);
      }));
      // Expiries at 1 ms and 3 ms.
      KeSetTimerEx(timer, relativeMs(1), 2, null);
      await sleep100ns(20_000);
      const afterFirst = woke.length;
      const stateAfterFirst = KeReadStateTimer(timer);
      await sleep100ns(20_000);
      const afterSecond = woke.length;
      KeCancelTimer(timer);
      return { afterFirst, stateAfterFirst, afterSecond, ended: threads.every((t) => t.State === "terminated") };
    });
    expect(r.afterFirst).toBe(1);
    expect(r.stateAfterFirst).toBe(false);
    expect(r.afterSecond).toBe(2);
    expect(r.ended).toBe(true);
  });

  it("a synchronization timer that expires with nobody waiting stays signalled until one wait takes it", async () => {
    const r = await machine.exec(async () => {
      const timer = new KTIMER();
      KeInitializeTimerEx(timer, TIMER_TYPE.SynchronizationTimer);
      KeSetTimer(timer, -1_000, null);
      await sleep100ns(10_000);
      const expired = KeReadStateTimer(timer);
      const first = await wait(timer, 0);
      const afterWait = KeReadStateTimer(timer);
      const second = await wait(timer, 0);
      return { expired, first, afterWait, second };
    });
    expect(r).toEqual({ expired: true, first: STATUS_WAIT_0, afterWait: false, second: STATUS_TIMEOUT });
  });
});

describe("waits with timeouts", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("KeWaitForMultipleObjects WaitAny returns STATUS_TIMEOUT when nothing is signalled before the timeout, no earlier than the timeout", async () => {
    const r = await machine.exec(async () => {
      const events = [notificationEvent(), notificationEvent()];
      const before = nowPs();
      const status = await KeWaitForMultipleObjects(2, events, WAIT_TYPE.WaitAny, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, -20_000);
      return { status, elapsedPs: nowPs() - before };
    });
    expect(r.status).toBe(STATUS_TIMEOUT);
    expect(r.elapsedPs).toBeGreaterThanOrEqual(20_000 * PS_PER_100NS);
    expect(r.elapsedPs - 20_000 * PS_PER_100NS).toBeLessThan(SLACK_PS);
  });

  it("a WaitAll that times out returns STATUS_TIMEOUT and leaves the objects that were signalled as they were", async () => {
    const r = await machine.exec(async () => {
      const sync = new KEVENT();
      KeInitializeEvent(sync, EVENT_TYPE.SynchronizationEvent, true);
      const never = notificationEvent();
      const before = nowPs();
      const status = await KeWaitForMultipleObjects(2, [sync, never], WAIT_TYPE.WaitAll, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, -20_000);
      return { status, elapsedPs: nowPs() - before, syncState: KeReadStateEvent(sync) };
    });
    expect(r.status).toBe(STATUS_TIMEOUT);
    expect(r.elapsedPs).toBeGreaterThanOrEqual(20_000 * PS_PER_100NS);
    // WaitAll is satisfied all at once or not at all: the synchronization event was not taken.
    expect(r.syncState).toBe(1);
  });

  it("WaitAny on an event and a timer returns STATUS_WAIT_0 + the timer's index when the timer expires first", async () => {
    const r = await machine.exec(async () => {
      const e = notificationEvent();
      const timer = new KTIMER();
      KeInitializeTimer(timer);
      KeSetTimer(timer, relativeMs(1), null);
      const dueAtPs = nowPs() + PS_PER_MS;
      const status = await KeWaitForMultipleObjects(2, [e, timer], WAIT_TYPE.WaitAny, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, relativeMs(10));
      return { status, dueAtPs, woke: nowPs() };
    });
    expect(r.status).toBe(STATUS_WAIT_0 + 1);
    expectAt(r.woke, r.dueAtPs);
  });

  it("WaitAll on two timers is satisfied when the later one expires; with a shorter timeout it returns STATUS_TIMEOUT", async () => {
    const r = await machine.exec(async () => {
      const make = (ms: number) => {
        const t = new KTIMER();
        KeInitializeTimer(t);
        KeSetTimer(t, relativeMs(ms), null);
        return t;
      };
      const start = nowPs();
      const all = await KeWaitForMultipleObjects(2, [make(1), make(2)], WAIT_TYPE.WaitAll, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, relativeMs(10));
      const allElapsed = nowPs() - start;
      const start2 = nowPs();
      const timedOut = await KeWaitForMultipleObjects(2, [make(1), make(5)], WAIT_TYPE.WaitAll, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, relativeMs(3));
      const timedOutElapsed = nowPs() - start2;
      return { all, allElapsed, timedOut, timedOutElapsed };
    });
    expect(r.all).toBe(STATUS_SUCCESS);
    expect(r.allElapsed).toBeGreaterThanOrEqual(2 * PS_PER_MS);
    expect(r.allElapsed).toBeLessThan(2 * PS_PER_MS + 2 * SLACK_PS);
    expect(r.timedOut).toBe(STATUS_TIMEOUT);
    expect(r.timedOutElapsed).toBeGreaterThanOrEqual(3 * PS_PER_MS);
    expect(r.timedOutElapsed).toBeLessThan(5 * PS_PER_MS);
  });
});

describe("the clock tick", () => {
  const tickPs = WINDOWS_TICK_US * 1e6;
  const tickUnits = tickPs / PS_PER_100NS;
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootWithTick(WINDOWS_TICK_US);
  });

  /** The first clock tick at or after `ps`. */
  const nextTick = (ps: number) => Math.ceil(ps / tickPs) * tickPs;

  it("a relative timer expires at the first clock tick at or after its due time", async () => {
    const r = await machine.exec(async () => {
      const runs: { atPs: number; irql: number; context: unknown }[] = [];
      const done = notificationEvent();
      const timer = new KTIMER();
      KeInitializeTimer(timer);
      KeSetTimer(timer, relativeMs(1), timerDpc(runs, null, done));
      const dueAtPs = nowPs() + PS_PER_MS;
      await wait(done, null);
      return { dueAtPs, runs };
    });
    expect(r.runs).toHaveLength(1);
    // The due time itself is not on a tick here, so the expiry is strictly later.
    expect(r.dueAtPs % tickPs).not.toBe(0);
    expectAt(r.runs[0].atPs, nextTick(r.dueAtPs));
    expect(r.runs[0].atPs - r.dueAtPs).toBeGreaterThan(SLACK_PS);
  });

  it("an absolute due time on a tick expires at that tick; one 100 ns past a tick waits for the next", async () => {
    const r = await machine.exec(async () => {
      const runs: { atPs: number; irql: number; context: unknown }[] = [];
      const done = notificationEvent();
      const onTick = new KTIMER();
      KeInitializeTimer(onTick);
      const pastTick = new KTIMER();
      KeInitializeTimer(pastTick);
      const base = (Math.floor(KeQuerySystemTimePrecise() / tickUnits) + 2) * tickUnits;
      KeSetTimer(onTick, base, timerDpc(runs, "on tick"));
      KeSetTimer(pastTick, base + 1, timerDpc(runs, "past tick", done));
      await wait(done, null);
      return { base, runs: runs.map((x) => ({ context: x.context, atPs: x.atPs })) };
    });
    expect(r.runs.map((x) => x.context)).toEqual(["on tick", "past tick"]);
    expectAt(r.runs[0].atPs, r.base * PS_PER_100NS);
    expectAt(r.runs[1].atPs, r.base * PS_PER_100NS + tickPs);
  });

  it("KeQueryInterruptTime and KeQuerySystemTime move only at clock ticks; the Precise forms give the exact time", async () => {
    const r = await machine.exec(() => {
      const precise = KeQueryInterruptTimePrecise();
      const preciseSystem = KeQuerySystemTimePrecise();
      return { interrupt: KeQueryInterruptTime(), system: KeQuerySystemTime(), precise, preciseSystem, exact: Math.floor(nowPs() / PS_PER_100NS) };
    });
    for (const t of [r.interrupt, r.system]) {
      expect(t % tickUnits).toBe(0);
      expect(t).toBeLessThanOrEqual(r.precise);
      expect(r.precise - t).toBeLessThan(tickUnits);
    }
    expect(r.preciseSystem).toBeGreaterThanOrEqual(r.precise);
    expect(r.exact - r.preciseSystem).toBeLessThan(10);
  });

  it("a wait's timeout also ends on a clock tick (KeWaitForSingleObject, KeDelayExecutionThread)", async () => {
    const r = await machine.exec(async () => {
      const e = notificationEvent();
      const waitDue = nowPs() + PS_PER_MS;
      const status = await wait(e, relativeMs(1));
      const waitEnded = nowPs();
      const delayDue = nowPs() + 2 * PS_PER_MS;
      const delayStatus = await KeDelayExecutionThread(KPROCESSOR_MODE.KernelMode, false, relativeMs(2));
      const delayEnded = nowPs();
      return { status, waitDue, waitEnded, delayStatus, delayDue, delayEnded };
    });
    expect(r.status).toBe(STATUS_TIMEOUT);
    expect(r.delayStatus).toBe(STATUS_SUCCESS);
    expect(r.waitEnded).toBeGreaterThanOrEqual(nextTick(r.waitDue));
    expect(r.waitEnded - nextTick(r.waitDue)).toBeLessThan(SLACK_PS);
    expect(r.delayEnded).toBeGreaterThanOrEqual(nextTick(r.delayDue));
    expect(r.delayEnded - nextTick(r.delayDue)).toBeLessThan(SLACK_PS);
  });
});
