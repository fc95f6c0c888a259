// Semaphores, kernel mutexes, critical and guarded regions, KeWaitForMultipleObjects' wait
// block rules and thread priorities (WDK: KeInitializeSemaphore, KeReleaseSemaphore,
// KeReadStateSemaphore, KeInitializeMutex, KeReleaseMutex, KeReadStateMutex,
// KeEnterCriticalRegion, KeLeaveCriticalRegion, KeEnterGuardedRegion, KeAreApcsDisabled,
// KeAreAllApcsDisabled, KeWaitForMultipleObjects, KeSetPriorityThread, KeQueryPriorityThread;
// bug checks 0xC, 0x20, 0x1E and 0xC4):
// - a semaphore is signalled while its count is positive; each satisfied wait takes one;
//   KeReleaseSemaphore returns the previous count and raises STATUS_SEMAPHORE_LIMIT_EXCEEDED
//   past the limit, leaving the count;
// - a mutex is owned by the thread whose wait it satisfied, may be acquired again by it,
//   disables normal kernel APCs while held, and is free after as many releases; releasing
//   one not owned raises STATUS_MUTANT_NOT_OWNED; KeReleaseMutex returns 0 when the mutex
//   becomes signalled;
// - waiters are satisfied in the order they began waiting;
// - Count > THREAD_WAIT_OBJECTS without a WaitBlockArray, or > MAXIMUM_WAIT_OBJECTS, is 0xC;
// - a thread may not end inside a critical region or holding a mutex (0x20, P2 APC disable count);
// - KeSetPriorityThread returns the old priority; a higher priority ready thread runs first.
import { describe, expect, it } from "vitest";
import {
  APC_LEVEL, DISPATCH_LEVEL, KeGetCurrentIrql, KeRaiseIrql, KeLowerIrql, KeGetCurrentThread,
  KSEMAPHORE, KeInitializeSemaphore, KeReleaseSemaphore, KeReadStateSemaphore,
  KMUTEX, KeInitializeMutex, KeReleaseMutex, KeReadStateMutex, KeWaitForMutexObject,
  KeEnterCriticalRegion, KeLeaveCriticalRegion, KeEnterGuardedRegion, KeLeaveGuardedRegion, KeAreApcsDisabled, KeAreAllApcsDisabled,
  KeWaitForSingleObject, KeWaitForMultipleObjects, KWAIT_BLOCK, KWAIT_REASON, KPROCESSOR_MODE, WAIT_TYPE, THREAD_WAIT_OBJECTS, MAXIMUM_WAIT_OBJECTS,
  KeSetEvent, KEVENT, KeInitializeEvent, EVENT_TYPE,
  KeSetPriorityThread, KeQueryPriorityThread, LOW_REALTIME_PRIORITY,
  STATUS_SUCCESS, STATUS_TIMEOUT, STATUS_WAIT_0, STATUS_SEMAPHORE_LIMIT_EXCEEDED, STATUS_MUTANT_NOT_OWNED,
  DRIVER_VERIFIER_DETECTED_VIOLATION, MAXIMUM_WAIT_OBJECTS_EXCEEDED, KERNEL_APC_PENDING_DURING_EXIT, KMODE_EXCEPTION_NOT_HANDLED,
  VERIFIER_LEAVE_CRITICAL_REGION_NOT_ENTERED, VERIFIER_ENTER_CRITICAL_REGION_IRQL, DDI_RULE_IRQL_KE_DISPATCH_LTE,
  type DispatcherObject, type NTSTATUS,
} from "../../src/index.js";
import { bootDefault, crash, expectBugCheck, sleep100ns, spawnThread } from "../support/kernel-harness.js";

function wait(object: DispatcherObject, timeout: number | null = null): Promise<NTSTATUS> {
  return KeWaitForSingleObject(object, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, timeout);
}

function semaphore(count: number, limit: number): KSEMAPHORE {
  const s = new KSEMAPHORE();
  KeInitializeSemaphore(s, count, limit);
  return s;
}

function mutex(): KMUTEX {
  const m = new KMUTEX();
  KeInitializeMutex(m, 0);
  return m;
}

function event(): KEVENT {
  const e = new KEVENT();
  KeInitializeEvent(e, EVENT_TYPE.NotificationEvent, false);
  return e;
}

/** Waits until every thread in `done` has pushed its mark (sleeping 10 us at a time). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await sleep100ns(100);
  expect(cond()).toBe(true);
}

describe("semaphores", () => {
  it("KeInitializeSemaphore sets the count (signalled when non-zero); waits take one each; a zero count times out", async () => {
    const machine = await bootDefault();
    const r = await machine.exec(async () => {
      const s = semaphore(2, 5);
      const initial = KeReadStateSemaphore(s);
      const w1 = await wait(s, 0);
      const w2 = await wait(s, 0);
      const w3 = await wait(s, 0);
      return { initial, w1, w2, w3, after: KeReadStateSemaphore(s) };
    });
    expect(r).toEqual({ initial: 2, w1: STATUS_SUCCESS, w2: STATUS_SUCCESS, w3: STATUS_TIMEOUT, after: 0 });
  });

  it("KeReleaseSemaphore returns the previous count and adds Adjustment", async () => {
    const machine = await bootDefault();
    const r = await machine.exec(() => {
      const s = semaphore(0, 10);
      const a = KeReleaseSemaphore(s, 0, 3, false);
      const b = KeReleaseSemaphore(s, 0, 2, false);
      return { a, b, count: KeReadStateSemaphore(s) };
    });
    expect(r).toEqual({ a: 0, b: 3, count: 5 });
  });

  it("releasing past the limit raises STATUS_SEMAPHORE_LIMIT_EXCEEDED and leaves the count", async () => {
    const machine = await bootDefault();
    const r = await machine.exec(() => {
      const s = semaphore(2, 3);
      let status = 0;
      try {
        KeReleaseSemaphore(s, 0, 2, false);
      } catch (e) {
        status = (e as { status: number }).status;
      }
      return { status, count: KeReadStateSemaphore(s) };
    });
    expect(r.status >>> 0).toBe(STATUS_SEMAPHORE_LIMIT_EXCEEDED);
    expect(r.count).toBe(2);
  });

  it("the exception not caught is 0x1E KMODE_EXCEPTION_NOT_HANDLED with P1 STATUS_SEMAPHORE_LIMIT_EXCEEDED", async () => {
    const bc = await crash(() => KeReleaseSemaphore(semaphore(1, 1), 0, 1, false));
    expectBugCheck(bc, KMODE_EXCEPTION_NOT_HANDLED, STATUS_SEMAPHORE_LIMIT_EXCEEDED);
  });

  it("a release of N satisfies N waiters, in the order they began waiting, and the count keeps the rest", async () => {
    const machine = await bootDefault();
    const r = await machine.exec(async () => {
      const s = semaphore(0, 10);
      const order: string[] = [];
      for (const name of ["A", "B", "C"]) {
        spawnThread(name, async () => {
          await wait(s);
          order.push(name);
        }, 1);
        await sleep100ns(10);
      }
      await sleep100ns(100);
      const before = order.length;
      const previous = KeReleaseSemaphore(s, 0, 2, false);
      await until(() => order.length === 2);
      const afterTwo = [...order];
      KeReleaseSemaphore(s, 0, 2, false);
      await until(() => order.length === 3);
      return { before, previous, afterTwo, order, count: KeReadStateSemaphore(s) };
    });
    expect(r).toEqual({ before: 0, previous: 0, afterTwo: ["A", "B"], order: ["A", "B", "C"], count: 1 });
  });

  it("above DISPATCH_LEVEL under the verifier: 0xC4 with IrqlKeDispatchLte", async () => {
    const bc = await crash(() => {
      const s = semaphore(0, 1);
      KeRaiseIrql(DISPATCH_LEVEL + 1);
      KeReleaseSemaphore(s, 0, 1, false);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_KE_DISPATCH_LTE);
  });

  it("Wait = TRUE leaves the caller at DISPATCH_LEVEL until its next wait, which returns it to its IRQL", async () => {
    const machine = await bootDefault();
    const r = await machine.exec(async () => {
      const s = semaphore(0, 1);
      KeReleaseSemaphore(s, 0, 1, true);
      const between = KeGetCurrentIrql();
      const status = await wait(s, 0);
      return { between, status, after: KeGetCurrentIrql() };
    });
    expect(r).toEqual({ between: DISPATCH_LEVEL, status: STATUS_SUCCESS, after: 0 });
  });
});

describe("kernel mutexes", () => {
  it("a free mutex reads 1; the waiter owns it, can take it again, and it is free after as many releases (the last returns 0)", async () => {
    const machine = await bootDefault();
    const r = await machine.exec(async () => {
      const m = mutex();
      const free = KeReadStateMutex(m);
      const w1 = await KeWaitForMutexObject(m, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
      const owner = m.OwnerThread === KeGetCurrentThread();
      const apcs = KeAreApcsDisabled();
      const w2 = await wait(m, 0);
      const held = KeReadStateMutex(m);
      const r1 = KeReleaseMutex(m, false);
      const r2 = KeReleaseMutex(m, false);
      return { free, w1, owner, apcs, w2, held, r1, r2, end: KeReadStateMutex(m), apcsAfter: KeAreApcsDisabled() };
    });
    expect(r).toEqual({ free: 1, w1: STATUS_SUCCESS, owner: true, apcs: true, w2: STATUS_SUCCESS, held: -1, r1: -1, r2: 0, end: 1, apcsAfter: false });
  });

  it("another thread waits until the owner releases it, then owns it; waiters get it in the order they came", async () => {
    const machine = await bootDefault();
    const r = await machine.exec(async () => {
      const m = mutex();
      await wait(m);
      const order: string[] = [];
      for (const name of ["B", "C"]) {
        spawnThread(name, async () => {
          await wait(m);
          order.push(`${name} owns=${m.OwnerThread === KeGetCurrentThread()}`);
          await sleep100ns(10);
          KeReleaseMutex(m, false);
        }, 1);
        await sleep100ns(10);
      }
      const polls: NTSTATUS[] = [];
      spawnThread("D", async () => polls.push(await wait(m, 0)), 1);
      await until(() => polls.length === 1);
      const timedOut = polls[0];
      const whileHeld = order.length;
      KeReleaseMutex(m, false);
      await until(() => order.length === 2);
      return { whileHeld, timedOut, order, end: KeReadStateMutex(m) };
    });
    expect(r).toEqual({ whileHeld: 0, timedOut: STATUS_TIMEOUT, order: ["B owns=true", "C owns=true"], end: 1 });
  });

  it("releasing a mutex the thread does not own raises STATUS_MUTANT_NOT_OWNED (0x1E when not caught)", async () => {
    const machine = await bootDefault();
    const status = await machine.exec(() => {
      try {
        KeReleaseMutex(mutex(), false);
        return 0;
      } catch (e) {
        return (e as { status: number }).status >>> 0;
      }
    });
    expect(status).toBe(STATUS_MUTANT_NOT_OWNED);
    const bc = await crash(() => KeReleaseMutex(mutex(), false));
    expectBugCheck(bc, KMODE_EXCEPTION_NOT_HANDLED, STATUS_MUTANT_NOT_OWNED);
  });

  it("a thread that ends holding a mutex is 0x20 KERNEL_APC_PENDING_DURING_EXIT (P2 APC disable count 0xFFFF, P3 IRQL)", async () => {
    const bc = await crash(async () => {
      await wait(mutex());
    });
    expectBugCheck(bc, KERNEL_APC_PENDING_DURING_EXIT, 0, 0xFFFF, 0);
  });
});

describe("critical and guarded regions", () => {
  it("regions nest; KeAreApcsDisabled reports either, KeAreAllApcsDisabled a guarded region or APC_LEVEL", async () => {
    const machine = await bootDefault();
    const r = await machine.exec(() => {
      const out: boolean[][] = [];
      const look = () => out.push([KeAreApcsDisabled(), KeAreAllApcsDisabled()]);
      look();
      KeEnterCriticalRegion();
      KeEnterCriticalRegion();
      look();
      KeLeaveCriticalRegion();
      look();
      KeLeaveCriticalRegion();
      look();
      KeEnterGuardedRegion();
      look();
      KeLeaveGuardedRegion();
      const old = KeRaiseIrql(APC_LEVEL);
      look();
      KeLowerIrql(old);
      return out;
    });
    expect(r).toEqual([[false, false], [true, false], [true, false], [false, false], [true, true], [false, true]]);
  });

  it("leaving a critical region never entered is 0xC4 / 0x3E under the verifier", async () => {
    const bc = await crash(() => KeLeaveCriticalRegion());
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_LEAVE_CRITICAL_REGION_NOT_ENTERED);
  });

  it("entering one above APC_LEVEL is 0xC4 / 0x11A under the verifier (P2 IRQL)", async () => {
    const bc = await crash(() => KeEnterCriticalRegion(), { irql: DISPATCH_LEVEL });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_ENTER_CRITICAL_REGION_IRQL, DISPATCH_LEVEL);
  });

  it("a thread that ends inside a critical region is 0x20 (P2 0xFFFF); inside a guarded region P2 0xFFFF0000", async () => {
    expectBugCheck(await crash(() => KeEnterCriticalRegion()), KERNEL_APC_PENDING_DURING_EXIT, 0, 0xFFFF, 0);
    expectBugCheck(await crash(() => KeEnterGuardedRegion()), KERNEL_APC_PENDING_DURING_EXIT, 0, 0xFFFF0000, 0);
  });
});

describe("KeWaitForMultipleObjects over semaphores, mutexes and events", () => {
  it("WaitAny returns STATUS_WAIT_0 + the index of the first signalled object and takes only from it", async () => {
    const machine = await bootDefault();
    const r = await machine.exec(async () => {
      const s = semaphore(0, 1);
      const m = mutex();
      const e = event();
      const status = await KeWaitForMultipleObjects(3, [s, m, e], WAIT_TYPE.WaitAny, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
      const owned = m.OwnerThread === KeGetCurrentThread();
      KeReleaseMutex(m, false);
      return { status, owned, sem: KeReadStateSemaphore(s) };
    });
    expect(r).toEqual({ status: STATUS_WAIT_0 + 1, owned: true, sem: 0 });
  });

  it("WaitAll waits until every object is signalled, then takes from all of them at once", async () => {
    const machine = await bootDefault();
    const r = await machine.exec(async () => {
      const s = semaphore(1, 1);
      const m = mutex();
      const e = event();
      spawnThread("setter", async () => {
        await sleep100ns(100);
        KeSetEvent(e, 0, false);
      }, 1);
      const status = await KeWaitForMultipleObjects(3, [s, m, e], WAIT_TYPE.WaitAll, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
      const result = { status, sem: KeReadStateSemaphore(s), mutexState: KeReadStateMutex(m), owned: m.OwnerThread === KeGetCurrentThread() };
      KeReleaseMutex(m, false);
      return result;
    });
    expect(r).toEqual({ status: STATUS_SUCCESS, sem: 0, mutexState: 0, owned: true });
  });

  it("more than THREAD_WAIT_OBJECTS objects work with a WaitBlockArray", async () => {
    const machine = await bootDefault();
    const r = await machine.exec(async () => {
      const events = [event(), event(), event(), event(), event()];
      const blocks = events.map(() => new KWAIT_BLOCK());
      spawnThread("setter", () => KeSetEvent(events[4], 0, false), 1);
      return KeWaitForMultipleObjects(5, events, WAIT_TYPE.WaitAny, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null, blocks);
    });
    expect(r).toBe(STATUS_WAIT_0 + 4);
  });

  it(`more than THREAD_WAIT_OBJECTS (${THREAD_WAIT_OBJECTS}) without a WaitBlockArray is 0xC MAXIMUM_WAIT_OBJECTS_EXCEEDED`, async () => {
    const bc = await crash(() => {
      const events = [event(), event(), event(), event()];
      return KeWaitForMultipleObjects(4, events, WAIT_TYPE.WaitAny, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
    });
    expectBugCheck(bc, MAXIMUM_WAIT_OBJECTS_EXCEEDED, 0, 0, 0, 0);
  });

  it(`more than MAXIMUM_WAIT_OBJECTS (${MAXIMUM_WAIT_OBJECTS}) even with a WaitBlockArray is 0xC`, async () => {
    const bc = await crash(() => {
      const events = Array.from({ length: MAXIMUM_WAIT_OBJECTS + 1 }, () => event());
      const blocks = events.map(() => new KWAIT_BLOCK());
      return KeWaitForMultipleObjects(events.length, events, WAIT_TYPE.WaitAny, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null, blocks);
    });
    expectBugCheck(bc, MAXIMUM_WAIT_OBJECTS_EXCEEDED);
  });
});

describe("thread priorities", () => {
  it("KeSetPriorityThread returns the old priority (system threads start at 8); KeQueryPriorityThread reads it", async () => {
    const machine = await bootDefault();
    const r = await machine.exec(() => {
      const t = KeGetCurrentThread()!;
      const old = KeSetPriorityThread(t, LOW_REALTIME_PRIORITY);
      return { old, now: KeQueryPriorityThread(t), again: KeSetPriorityThread(t, 8) };
    });
    expect(r).toEqual({ old: 8, now: LOW_REALTIME_PRIORITY, again: LOW_REALTIME_PRIORITY });
  });

  it("of two threads ready together on one processor, the higher priority one runs first", async () => {
    const machine = await bootDefault();
    const order = await machine.exec(async () => {
      const ran: string[] = [];
      const low = spawnThread("low", () => ran.push("low"), 1);
      const high = spawnThread("high", () => ran.push("high"), 1);
      KeSetPriorityThread(high, LOW_REALTIME_PRIORITY);
      KeSetPriorityThread(low, 4);
      await until(() => ran.length === 2);
      return ran;
    });
    expect(order).toEqual(["high", "low"]);
  });
});
