// DPCs, events and timed waits (shared/specs/nt-semantics.md: DPCs; Events, timers, waits).
import { beforeAll, describe, expect, it } from "vitest";
import {
  APC_LEVEL, DISPATCH_LEVEL, PASSIVE_LEVEL, type Machine,
  KeRaiseIrql, KeLowerIrql, KeGetCurrentIrql, KeGetCurrentProcessorNumber,
  KDPC, KDPC_IMPORTANCE, KeInitializeDpc, KeInsertQueueDpc, KeRemoveQueueDpc, KeSetImportanceDpc, KeSetTargetProcessorDpc,
  KEVENT, EVENT_TYPE, KeInitializeEvent, KeSetEvent, KeResetEvent, KeClearEvent, KeReadStateEvent,
  KeWaitForSingleObject, KeWaitForMultipleObjects, KeDelayExecutionThread, KWAIT_REASON, KPROCESSOR_MODE, WAIT_TYPE,
  KeQueryPerformanceCounter, KeStallExecutionProcessor, STATUS_SUCCESS, STATUS_TIMEOUT, STATUS_WAIT_0, type NTSTATUS,
} from "../../src/index.js";
import { bootDefault, crash, defaultDescription, expectBugCheck, relativeMs, sleep100ns, spawnThread } from "../support/kernel-harness.js";

const DIRQL = 6;

/** A DPC whose routine records what it saw. */
function recordingDpc(log: { name: string; args: unknown[]; irql: number; cpu: number }[], name: string): KDPC {
  const dpc = new KDPC();
  KeInitializeDpc(dpc, function RecordingDpc(_d, context, a1, a2) {
    log.push({ name: context as string, args: [a1, a2], irql: KeGetCurrentIrql(), cpu: KeGetCurrentProcessorNumber() });
  }, name);
  return dpc;
}

function wait(object: KEVENT, timeout: number | null): Promise<NTSTATUS> {
  return KeWaitForSingleObject(object, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, timeout);
}

describe("DPCs", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("KeInitializeDpc sets Medium importance, no target processor, the routine and its context", async () => {
    const r = await machine.exec(() => {
      const dpc = new KDPC();
      const routine = () => {};
      KeInitializeDpc(dpc, routine, "ctx");
      const fresh = { importance: dpc.Importance, target: dpc.Number, routine: dpc.DeferredRoutine === routine, context: dpc.DeferredContext };
      // Initializing again resets what was changed.
      KeSetImportanceDpc(dpc, KDPC_IMPORTANCE.HighImportance);
      KeSetTargetProcessorDpc(dpc, 1);
      KeInitializeDpc(dpc, routine, "ctx2");
      return { fresh, again: { importance: dpc.Importance, target: dpc.Number } };
    });
    expect(r.fresh).toEqual({ importance: KDPC_IMPORTANCE.MediumImportance, target: null, routine: true, context: "ctx" });
    expect(r.again).toEqual({ importance: KDPC_IMPORTANCE.MediumImportance, target: null });
  });

  it("KeInsertQueueDpc returns FALSE for an already-queued DPC and keeps the first arguments", async () => {
    const r = await machine.exec(() => {
      const log: { name: string; args: unknown[]; irql: number; cpu: number }[] = [];
      const dpc = recordingDpc(log, "A");
      const old = KeRaiseIrql(DISPATCH_LEVEL);
      const first = KeInsertQueueDpc(dpc, 1, 2);
      const second = KeInsertQueueDpc(dpc, 3, 4);
      KeLowerIrql(old);
      return { first, second, log };
    });
    expect(r.first).toBe(true);
    expect(r.second).toBe(false);
    expect(r.log.map((e) => e.args)).toEqual([[1, 2]]);
  });

  it("a DPC runs at DISPATCH_LEVEL", async () => {
    const log = await machine.exec(() => {
      const l: { name: string; args: unknown[]; irql: number; cpu: number }[] = [];
      KeInsertQueueDpc(recordingDpc(l, "A"), null, null);
      const old = KeRaiseIrql(APC_LEVEL);
      KeInsertQueueDpc(recordingDpc(l, "B"), null, null);
      KeLowerIrql(old);
      return l;
    });
    expect(log.map((e) => [e.name, e.irql])).toEqual([["A", DISPATCH_LEVEL], ["B", DISPATCH_LEVEL]]);
  });

  it("inserted at PASSIVE_LEVEL for the current processor, a DPC runs before KeInsertQueueDpc returns, on that processor", async () => {
    for (const cpu of [0, 1]) {
      const r = await machine.exec(() => {
        const log: { name: string; args: unknown[]; irql: number; cpu: number }[] = [];
        KeInsertQueueDpc(recordingDpc(log, "now"), "x", "y");
        return { ranBeforeReturn: log.length, entry: log[0], irqlAfter: KeGetCurrentIrql() };
      }, { cpu });
      expect(r.ranBeforeReturn).toBe(1);
      expect(r.entry).toEqual({ name: "now", args: ["x", "y"], irql: DISPATCH_LEVEL, cpu });
      expect(r.irqlAfter).toBe(PASSIVE_LEVEL);
    }
  });

  it("inserted at DISPATCH_LEVEL, a DPC runs only once KeLowerIrql drops below DISPATCH_LEVEL", async () => {
    const r = await machine.exec(() => {
      const log: { name: string; args: unknown[]; irql: number; cpu: number }[] = [];
      const old = KeRaiseIrql(DISPATCH_LEVEL);
      KeInsertQueueDpc(recordingDpc(log, "later"), null, null);
      const atInsert = log.length;
      KeRaiseIrql(DIRQL);
      KeLowerIrql(DISPATCH_LEVEL);
      const afterLoweringToDispatch = log.length;
      KeLowerIrql(old);
      return { atInsert, afterLoweringToDispatch, afterLower: log.length, irql: log[0]?.irql };
    });
    expect(r).toEqual({ atInsert: 0, afterLoweringToDispatch: 0, afterLower: 1, irql: DISPATCH_LEVEL });
  });

  it("lowering from DISPATCH_LEVEL to APC_LEVEL is enough for queued DPCs to run", async () => {
    const r = await machine.exec(() => {
      const log: { name: string; args: unknown[]; irql: number; cpu: number }[] = [];
      const old = KeRaiseIrql(DISPATCH_LEVEL);
      KeInsertQueueDpc(recordingDpc(log, "apc"), null, null);
      KeLowerIrql(APC_LEVEL);
      const ran = log.length;
      KeLowerIrql(old);
      return ran;
    });
    expect(r).toBe(1);
  });

  it("a DPC inserted from a DPC runs after the running one returns, in the same drain", async () => {
    const order = await machine.exec(() => {
      const seen: string[] = [];
      const inner = new KDPC();
      KeInitializeDpc(inner, () => seen.push("inner"), null);
      const outer = new KDPC();
      KeInitializeDpc(outer, () => {
        KeInsertQueueDpc(inner, null, null);
        seen.push("outer returns");
      }, null);
      KeInsertQueueDpc(outer, null, null);
      return seen;
    });
    expect(order).toEqual(["outer returns", "inner"]);
  });

  it("High importance inserts at the head of the queue; Medium and Low at the tail", async () => {
    const order = await machine.exec(() => {
      const log: { name: string; args: unknown[]; irql: number; cpu: number }[] = [];
      const a = recordingDpc(log, "A medium");
      const b = recordingDpc(log, "B low");
      KeSetImportanceDpc(b, KDPC_IMPORTANCE.LowImportance);
      const c = recordingDpc(log, "C high");
      KeSetImportanceDpc(c, KDPC_IMPORTANCE.HighImportance);
      const d = recordingDpc(log, "D medium");
      const e = recordingDpc(log, "E high");
      KeSetImportanceDpc(e, KDPC_IMPORTANCE.HighImportance);
      const old = KeRaiseIrql(DISPATCH_LEVEL);
      for (const dpc of [a, b, c, d, e]) KeInsertQueueDpc(dpc, null, null);
      KeLowerIrql(old);
      return log.map((x) => x.name);
    });
    expect(order).toEqual(["E high", "C high", "A medium", "B low", "D medium"]);
  });

  it("KeRemoveQueueDpc returns TRUE only if the DPC was queued, and a removed DPC never runs", async () => {
    const r = await machine.exec(() => {
      const log: { name: string; args: unknown[]; irql: number; cpu: number }[] = [];
      const dpc = recordingDpc(log, "removed");
      const other = recordingDpc(log, "kept");
      const neverQueued = KeRemoveQueueDpc(dpc);
      const old = KeRaiseIrql(DISPATCH_LEVEL);
      KeInsertQueueDpc(dpc, null, null);
      KeInsertQueueDpc(other, null, null);
      const removed = KeRemoveQueueDpc(dpc);
      const again = KeRemoveQueueDpc(dpc);
      KeLowerIrql(old);
      const ranAfterRemove = log.map((x) => x.name);
      // Once removed it is an ordinary idle DPC: it can be queued again.
      const requeued = KeInsertQueueDpc(dpc, "second", null);
      return { neverQueued, removed, again, ranAfterRemove, requeued, final: log.map((x) => x.name) };
    });
    expect(r.neverQueued).toBe(false);
    expect(r.removed).toBe(true);
    expect(r.again).toBe(false);
    expect(r.ranAfterRemove).toEqual(["kept"]);
    expect(r.requeued).toBe(true);
    expect(r.final).toEqual(["kept", "removed"]);
  });

  it("a DPC is no longer queued while it runs, so it may queue itself again", async () => {
    const r = await machine.exec(() => {
      const runs: unknown[] = [];
      const inserts: boolean[] = [];
      const dpc = new KDPC();
      KeInitializeDpc(dpc, function SelfRequeueDpc(self, _ctx, a1) {
        runs.push(a1);
        if (runs.length < 3) inserts.push(KeInsertQueueDpc(self, runs.length + 1, null));
      }, null);
      KeInsertQueueDpc(dpc, 1, null);
      return { runs, inserts, removeAfter: KeRemoveQueueDpc(dpc) };
    });
    expect(r.runs).toEqual([1, 2, 3]);
    expect(r.inserts).toEqual([true, true]);
    expect(r.removeAfter).toBe(false);
  });

  it("KeSetTargetProcessorDpc makes the DPC run on the other processor", async () => {
    for (const [from, to] of [[0, 1], [1, 0]]) {
      const r = await machine.exec(async () => {
        const done = new KEVENT();
        KeInitializeEvent(done, EVENT_TYPE.NotificationEvent, false);
        const seen: { cpu: number; irql: number; args: unknown[] }[] = [];
        const dpc = new KDPC();
        KeInitializeDpc(dpc, function TargetedDpc(_d, ctx, a1, a2) {
          seen.push({ cpu: KeGetCurrentProcessorNumber(), irql: KeGetCurrentIrql(), args: [a1, a2] });
          KeSetEvent(ctx as KEVENT, 0, false);
        }, done);
        KeSetTargetProcessorDpc(dpc, to);
        const inserted = KeInsertQueueDpc(dpc, "a1", "a2");
        const ranInline = seen.length;
        const status = await wait(done, relativeMs(10));
        return { inserted, ranInline, status, seen, me: KeGetCurrentProcessorNumber() };
      }, { cpu: from });
      expect(r.me).toBe(from);
      expect(r.inserted).toBe(true);
      expect(r.ranInline).toBe(0);
      expect(r.status).toBe(STATUS_SUCCESS);
      expect(r.seen).toEqual([{ cpu: to, irql: DISPATCH_LEVEL, args: ["a1", "a2"] }]);
    }
  });

  it("machine.kernel's recorder counts the DPCs that ran", async () => {
    const k = (machine.kernel as unknown as { k: { recorder: { stats: { dpcs: number } } } }).k;
    const before = k.recorder.stats.dpcs;
    await machine.exec(() => {
      for (let i = 0; i < 3; i++) {
        const dpc = new KDPC();
        KeInitializeDpc(dpc, () => {}, null);
        KeInsertQueueDpc(dpc, null, null);
      }
    });
    expect(k.recorder.stats.dpcs - before).toBe(3);
  });
});

describe("DPC watchdog", () => {
  // Rule (nt-semantics.md, DPCs: "a DPC or ISR that runs past the watchdog allotment is 0x133
  // DPC_WATCHDOG_VIOLATION (P1 0 single, 1 cumulative)"; the machine file's
  // kernel.dpcWatchdogUs is that allotment).
  it("a DPC that runs past the watchdog allotment is 0x133 DPC_WATCHDOG_VIOLATION with P1 0", async () => {
    const allotmentUs = defaultDescription().kernel.dpcWatchdogUs;
    const bc = await crash(() => {
      const dpc = new KDPC();
      KeInitializeDpc(dpc, function EndlessDpc() {
        KeStallExecutionProcessor(2 * allotmentUs);
      }, null);
      KeInsertQueueDpc(dpc, null, null);
    });
    expectBugCheck(bc, 0x133, 0);
    expect(bc.context.routine).toBe("EndlessDpc");
  });
});

describe("events and waits", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("KeSetEvent and KeResetEvent return the previous state", async () => {
    const r = await machine.exec(() => {
      const e = new KEVENT();
      KeInitializeEvent(e, EVENT_TYPE.NotificationEvent, false);
      const out = [KeReadStateEvent(e), KeSetEvent(e, 0, false), KeSetEvent(e, 0, false), KeReadStateEvent(e), KeResetEvent(e), KeResetEvent(e)];
      const s = new KEVENT();
      KeInitializeEvent(s, EVENT_TYPE.SynchronizationEvent, true);
      out.push(KeReadStateEvent(s));
      KeClearEvent(s);
      out.push(KeReadStateEvent(s), KeSetEvent(s, 0, false));
      return out;
    });
    expect(r).toEqual([0, 0, 1, 1, 1, 0, 1, 0, 0]);
  });

  it("a notification event wakes every waiter and stays signalled", async () => {
    const r = await machine.exec(async () => {
      const e = new KEVENT();
      KeInitializeEvent(e, EVENT_TYPE.NotificationEvent, false);
      const woke: { id: number; status: NTSTATUS }[] = [];
      const threads = [1, 2, 3].map((id) => spawnThread(`waiter ${id}`, async () => {
        woke.push({ id, status: await wait(e, null) });
      }));
      await sleep100ns(10_000);
      const beforeSet = woke.length;
      const previous = KeSetEvent(e, 0, false);
      await sleep100ns(10_000);
      const state = KeReadStateEvent(e);
      // Still signalled: a later wait is satisfied at once.
      const late = await wait(e, 0);
      return { beforeSet, previous, woke: [...woke].sort((a, b) => a.id - b.id), state, late, ended: threads.every((t) => t.State === "terminated") };
    });
    expect(r.beforeSet).toBe(0);
    expect(r.previous).toBe(0);
    expect(r.woke).toEqual([1, 2, 3].map((id) => ({ id, status: STATUS_WAIT_0 })));
    expect(r.state).toBe(1);
    expect(r.late).toBe(STATUS_WAIT_0);
    expect(r.ended).toBe(true);
  });

  it("a synchronization event wakes one waiter and resets", async () => {
    const r = await machine.exec(async () => {
      const e = new KEVENT();
      KeInitializeEvent(e, EVENT_TYPE.SynchronizationEvent, false);
      const woke: number[] = [];
      const threads = [1, 2].map((id) => spawnThread(`waiter ${id}`, async () => {
        await wait(e, null);
        woke.push(id);
      }));
      await sleep100ns(10_000);
      const first = KeSetEvent(e, 0, false);
      const stateRightAfter = KeReadStateEvent(e);
      await sleep100ns(10_000);
      const afterFirst = woke.length;
      const second = KeSetEvent(e, 0, false);
      await sleep100ns(10_000);
      return { first, stateRightAfter, afterFirst, second, afterSecond: woke.length, state: KeReadStateEvent(e), ended: threads.every((t) => t.State === "terminated") };
    });
    expect(r.first).toBe(0);
    expect(r.stateRightAfter).toBe(0);
    expect(r.afterFirst).toBe(1);
    expect(r.second).toBe(0);
    expect(r.afterSecond).toBe(2);
    expect(r.state).toBe(0);
    expect(r.ended).toBe(true);
  });

  it("waiting on a signalled synchronization event returns at once and resets it", async () => {
    const r = await machine.exec(async () => {
      const e = new KEVENT();
      KeInitializeEvent(e, EVENT_TYPE.SynchronizationEvent, true);
      const status = await wait(e, null);
      return { status, state: KeReadStateEvent(e), second: await wait(e, 0) };
    });
    expect(r).toEqual({ status: STATUS_WAIT_0, state: 0, second: STATUS_TIMEOUT });
  });

  it("a wait on an event nobody sets returns STATUS_TIMEOUT", async () => {
    const r = await machine.exec(async () => {
      const e = new KEVENT();
      KeInitializeEvent(e, EVENT_TYPE.NotificationEvent, false);
      return wait(e, relativeMs(1));
    });
    expect(r).toBe(STATUS_TIMEOUT);
  });

  it("timed waits end in the order of their due times", async () => {
    const order = await machine.exec(async () => {
      const e = new KEVENT();
      KeInitializeEvent(e, EVENT_TYPE.NotificationEvent, false);
      const ended: string[] = [];
      spawnThread("long", async () => ended.push(`long ${await wait(e, -30_000)}`));
      spawnThread("short", async () => ended.push(`short ${await wait(e, -10_000)}`));
      await sleep100ns(60_000);
      return ended;
    });
    expect(order).toEqual([`short ${STATUS_TIMEOUT}`, `long ${STATUS_TIMEOUT}`]);
  });

  // Rule (nt-semantics.md, Events, timers, waits: negative timeouts are relative, in 100 ns
  // units; DESIGN.md Time: waits are scheduled in simulated time, so the waiter resumes no
  // earlier than the due time).
  it("a wait that times out returns STATUS_TIMEOUT after the relative timeout (100 ns units) in simulated time", async () => {
    for (const units of [5_000, 123_456]) {
      const r = await machine.exec(async () => {
        const e = new KEVENT();
        KeInitializeEvent(e, EVENT_TYPE.NotificationEvent, false);
        const t0 = KeQueryPerformanceCounter();
        const status = await wait(e, -units);
        const t1 = KeQueryPerformanceCounter();
        return { status, ticks: t1.QuadPart - t0.QuadPart, frequency: t0.PerformanceFrequency };
      });
      expect(r.frequency).toBe(10_000_000);
      expect(r.status).toBe(STATUS_TIMEOUT);
      // One 10 MHz tick is 100 ns: the elapsed ticks equal the timeout, plus the wait's own cost.
      expect(r.ticks).toBeGreaterThanOrEqual(units);
      expect(r.ticks).toBeLessThan(units + 20);
    }
  });

  it("a wait satisfied before its timeout returns STATUS_WAIT_0 when the event is set, well before the timeout", async () => {
    const r = await machine.exec(async () => {
      const e = new KEVENT();
      KeInitializeEvent(e, EVENT_TYPE.NotificationEvent, false);
      spawnThread("setter", async () => {
        await sleep100ns(1_000);
        KeSetEvent(e, 0, false);
      });
      const t0 = KeQueryPerformanceCounter().QuadPart;
      const status = await wait(e, relativeMs(50));
      return { status, ticks: KeQueryPerformanceCounter().QuadPart - t0 };
    });
    expect(r.status).toBe(STATUS_WAIT_0);
    expect(r.ticks).toBeLessThan(500_000);
  });

  it("KeWaitForMultipleObjects WaitAny returns STATUS_WAIT_0 + the index of the signalled object", async () => {
    const r = await machine.exec(async () => {
      const events = [0, 1, 2].map(() => {
        const e = new KEVENT();
        KeInitializeEvent(e, EVENT_TYPE.NotificationEvent, false);
        return e;
      });
      spawnThread("setter", async () => {
        await sleep100ns(500);
        KeSetEvent(events[2], 0, false);
      });
      return KeWaitForMultipleObjects(3, events, WAIT_TYPE.WaitAny, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, relativeMs(10));
    });
    expect(r).toBe(STATUS_WAIT_0 + 2);
  });

  it("KeWaitForMultipleObjects WaitAll returns STATUS_SUCCESS only once every object is signalled, and consumes synchronization events", async () => {
    const r = await machine.exec(async () => {
      const sync = new KEVENT();
      KeInitializeEvent(sync, EVENT_TYPE.SynchronizationEvent, false);
      const note = new KEVENT();
      KeInitializeEvent(note, EVENT_TYPE.NotificationEvent, false);
      const log: string[] = [];
      spawnThread("setter", async () => {
        KeSetEvent(sync, 0, false);
        await sleep100ns(100);
        log.push("only the first is set");
        KeSetEvent(note, 0, false);
      });
      const status = await KeWaitForMultipleObjects(2, [sync, note], WAIT_TYPE.WaitAll, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, relativeMs(10));
      log.push(`woke ${status}`);
      return { log, sync: KeReadStateEvent(sync), note: KeReadStateEvent(note) };
    });
    expect(r).toEqual({ log: ["only the first is set", `woke ${STATUS_SUCCESS}`], sync: 0, note: 1 });
  });

  it("a thread may wait at APC_LEVEL", async () => {
    const r = await machine.exec(async () => {
      const e = new KEVENT();
      KeInitializeEvent(e, EVENT_TYPE.NotificationEvent, false);
      return wait(e, -1_000);
    }, { irql: APC_LEVEL });
    expect(r).toBe(STATUS_TIMEOUT);
  });

  // Rule (WDK: a thread that waits at APC_LEVEL gets its IRQL back when it resumes; a thread
  // the processor switches to runs at its own IRQL, and system threads start at
  // PASSIVE_LEVEL).
  it("a thread waiting at APC_LEVEL does not pass its IRQL on to another thread that runs on the processor meanwhile", async () => {
    const m = await bootDefault();
    const seen = await m.exec(async () => {
      const out: [string, number][] = [];
      spawnThread("other", () => {
        out.push(["other", KeGetCurrentIrql()]);
      }, 0);
      await sleep100ns(1_000);
      out.push(["waiter", KeGetCurrentIrql()]);
      return out;
    }, { cpu: 0, irql: APC_LEVEL });
    expect(seen).toEqual([["other", PASSIVE_LEVEL], ["waiter", APC_LEVEL]]);
  });

  it("KeDelayExecutionThread returns STATUS_SUCCESS", async () => {
    const status = await machine.exec(() => KeDelayExecutionThread(KPROCESSOR_MODE.KernelMode, false, relativeMs(2)));
    expect(status).toBe(STATUS_SUCCESS);
  });

  // Same rule as the timed-wait test above: the delay is a wait with a timeout.
  it("KeDelayExecutionThread advances simulated time by the interval", async () => {
    const r = await machine.exec(async () => {
      const t0 = KeQueryPerformanceCounter().QuadPart;
      const status = await KeDelayExecutionThread(KPROCESSOR_MODE.KernelMode, false, relativeMs(2));
      return { status, ticks: KeQueryPerformanceCounter().QuadPart - t0 };
    });
    expect(r.status).toBe(STATUS_SUCCESS);
    expect(r.ticks).toBeGreaterThanOrEqual(20_000);
    expect(r.ticks).toBeLessThan(20_020);
  });
});
