// I/O work items and system worker threads (WDK: IoAllocateWorkItem, IoInitializeWorkItem,
// IoSizeofWorkItem, IoQueueWorkItem, IoFreeWorkItem, IoUninitializeWorkItem, "System Worker
// Threads"; Bug Check 0xE1 WORKER_THREAD_RETURNED_AT_BAD_IRQL):
// - IoQueueWorkItem may be called at IRQL <= DISPATCH_LEVEL, so from a DPC; the routine runs
//   later at PASSIVE_LEVEL in a system worker thread (a thread of the System process, not the
//   caller's), and gets the item's device object and the context passed to IoQueueWorkItem;
// - items queued to one work queue are taken in the order they were queued;
// - running at PASSIVE_LEVEL, a work routine may wait;
// - caller-allocated storage of IoSizeofWorkItem bytes prepared with IoInitializeWorkItem works as
//   an allocated item; an item may be queued again once its routine has started;
// - a routine that returns to the worker thread above PASSIVE_LEVEL is bug check 0xE1 with the
//   IRQL it returned at in P2 and the work item's address in P4.
import { beforeAll, describe, expect, it } from "vitest";
import {
  APC_LEVEL, DISPATCH_LEVEL, PASSIVE_LEVEL, type Machine, type DEVICE_OBJECT, type NTSTATUS,
  KeGetCurrentIrql, KeGetCurrentThread, KeRaiseIrql, KeLowerIrql,
  KDPC, KeInitializeDpc, KeInsertQueueDpc,
  KEVENT, KeSetEvent, IO_WORKITEM, IoAllocateWorkItem, IoFreeWorkItem, IoInitializeWorkItem, IoQueueWorkItem, IoSizeofWorkItem, IoUninitializeWorkItem,
  WORK_QUEUE_TYPE, WORKER_THREAD_RETURNED_AT_BAD_IRQL, STATUS_WAIT_0, KE,
} from "../../src/index.js";
import { asDriver, bootDefault, crash, createTestDevice, expectBugCheck, sleep100ns, notificationEvent, waitMs } from "../support/kernel-harness.js";

/** What a work routine saw when it ran. */
interface Seen {
  name: string;
  irql: number;
  thread: unknown;
  process: string;
  device: DEVICE_OBJECT;
  context: unknown;
}

/** A work routine that records what it saw under `name` and sets `done` if given. */
function recordingRoutine(log: Seen[], name: string, done?: KEVENT) {
  return function RecordingWorkRoutine(DeviceObject: DEVICE_OBJECT, Context: unknown): void {
    const thread = KeGetCurrentThread();
    log.push({ name, irql: KeGetCurrentIrql(), thread, process: thread?.process.ImageFileName ?? "", device: DeviceObject, context: Context });
    if (done) KeSetEvent(done, 0, false);
  };
}

describe("I/O work items", () => {
  let machine: Machine;
  let device: DEVICE_OBJECT;
  beforeAll(async () => {
    machine = await bootDefault();
    device = await machine.exec(() => createTestDevice("workitem"));
  });

  it("IoQueueWorkItem runs the routine at PASSIVE_LEVEL in a System worker thread, not the caller's, with the item's device object and the context", async () => {
    const r = await machine.exec(async () => {
      const log: Seen[] = [];
      const done = notificationEvent();
      const item = IoAllocateWorkItem(device)!;
      const context = { tag: "ctx" };
      IoQueueWorkItem(item, function FreeingWorkRoutine(DeviceObject, Context) {
        recordingRoutine(log, "only")(DeviceObject, Context);
        // The usual pattern: the routine frees its own item.
        IoFreeWorkItem(item);
        KeSetEvent(done, 0, false);
      }, WORK_QUEUE_TYPE.DelayedWorkQueue, context);
      const status = await waitMs(done, 10);
      return { status, log, caller: KeGetCurrentThread(), context };
    });
    expect(r.status).toBe(STATUS_WAIT_0);
    expect(r.log).toHaveLength(1);
    const seen = r.log[0];
    expect(seen.irql).toBe(PASSIVE_LEVEL);
    expect(seen.thread).not.toBeNull();
    expect(seen.thread).not.toBe(r.caller);
    expect(seen.process).toBe("System");
    expect(seen.device).toBe(device);
    expect(seen.context).toBe(r.context);
  });

  it("queued from a DPC at DISPATCH_LEVEL, the routine runs at PASSIVE_LEVEL in a worker thread", async () => {
    const r = await machine.exec(async () => {
      const log: Seen[] = [];
      const done = notificationEvent();
      const item = IoAllocateWorkItem(device)!;
      const inDpc: number[] = [];
      const dpc = new KDPC();
      KeInitializeDpc(dpc, function QueueingDpc() {
        IoQueueWorkItem(item, recordingRoutine(log, "from DPC", done), WORK_QUEUE_TYPE.DelayedWorkQueue, "dpc ctx");
        inDpc.push(KeGetCurrentIrql());
      }, null);
      KeInsertQueueDpc(dpc, null, null);
      const status = await waitMs(done, 10);
      IoFreeWorkItem(item);
      return { status, inDpc, log };
    });
    expect(r.inDpc).toEqual([DISPATCH_LEVEL]);
    expect(r.status).toBe(STATUS_WAIT_0);
    expect(r.log.map((s) => [s.name, s.irql, s.context, s.process])).toEqual([["from DPC", PASSIVE_LEVEL, "dpc ctx", "System"]]);
    expect(r.log[0].device).toBe(device);
  });

  it("items queued to one work queue are taken in the order they were queued", async () => {
    const r = await machine.exec(async () => {
      const log: Seen[] = [];
      const done = notificationEvent();
      const names = ["first", "second", "third", "fourth", "fifth"];
      const items = names.map(() => IoAllocateWorkItem(device)!);
      const old = KeRaiseIrql(DISPATCH_LEVEL);
      names.forEach((name, i) => IoQueueWorkItem(items[i], recordingRoutine(log, name, i === names.length - 1 ? done : undefined), WORK_QUEUE_TYPE.DelayedWorkQueue, i));
      KeLowerIrql(old);
      const status = await waitMs(done, 10);
      for (const item of items) IoFreeWorkItem(item);
      return { status, order: log.map((s) => s.name), contexts: log.map((s) => s.context) };
    });
    expect(r.status).toBe(STATUS_WAIT_0);
    expect(r.order).toEqual(["first", "second", "third", "fourth", "fifth"]);
    expect(r.contexts).toEqual([0, 1, 2, 3, 4]);
  });

  it("a work routine runs at PASSIVE_LEVEL and so may wait", async () => {
    const r = await machine.exec(async () => {
      const done = notificationEvent();
      const item = IoAllocateWorkItem(device)!;
      const inside: { irql: number; status: NTSTATUS; elapsedPs: number }[] = [];
      IoQueueWorkItem(item, async function WaitingWorkRoutine() {
        const k = KE();
        const before = k.cpu.time;
        const status = await waitMs(notificationEvent(), 1);
        inside.push({ irql: KeGetCurrentIrql(), status, elapsedPs: k.cpu.time - before });
        KeSetEvent(done, 0, false);
      }, WORK_QUEUE_TYPE.DelayedWorkQueue, null);
      const status = await waitMs(done, 10);
      IoFreeWorkItem(item);
      return { status, inside };
    });
    expect(r.status).toBe(STATUS_WAIT_0);
    expect(r.inside).toHaveLength(1);
    expect(r.inside[0].irql).toBe(PASSIVE_LEVEL);
    expect(r.inside[0].status).not.toBe(STATUS_WAIT_0);
    // The 1 ms timeout passed in simulated time while the routine waited.
    expect(r.inside[0].elapsedPs).toBeGreaterThanOrEqual(1e9);
  });

  it("IoInitializeWorkItem prepares caller storage of IoSizeofWorkItem bytes, which then queues like an allocated item", async () => {
    const r = await machine.exec(async () => {
      const log: Seen[] = [];
      const done = notificationEvent();
      const size = IoSizeofWorkItem();
      const item = new IO_WORKITEM();
      IoInitializeWorkItem(device, item);
      IoQueueWorkItem(item, recordingRoutine(log, "initialized", done), WORK_QUEUE_TYPE.CriticalWorkQueue, 42);
      const status = await waitMs(done, 10);
      IoUninitializeWorkItem(item);
      return { size, status, log };
    });
    expect(r.size).toBeGreaterThan(0);
    expect(r.status).toBe(STATUS_WAIT_0);
    expect(r.log.map((s) => [s.name, s.irql, s.context, s.process])).toEqual([["initialized", PASSIVE_LEVEL, 42, "System"]]);
    expect(r.log[0].device).toBe(device);
  });

  it("once its routine has started, an item may be queued again (here by the routine itself)", async () => {
    const r = await machine.exec(async () => {
      const done = notificationEvent();
      const item = IoAllocateWorkItem(device)!;
      const runs: unknown[] = [];
      const routine = function RequeueingWorkRoutine(_d: DEVICE_OBJECT, Context: unknown): void {
        runs.push(Context);
        if ((Context as number) < 3) IoQueueWorkItem(item, routine, WORK_QUEUE_TYPE.DelayedWorkQueue, (Context as number) + 1);
        else KeSetEvent(done, 0, false);
      };
      IoQueueWorkItem(item, routine, WORK_QUEUE_TYPE.DelayedWorkQueue, 1);
      const status = await waitMs(done, 10);
      IoFreeWorkItem(item);
      return { status, runs };
    });
    expect(r.status).toBe(STATUS_WAIT_0);
    expect(r.runs).toEqual([1, 2, 3]);
  });
});

describe("WORKER_THREAD_RETURNED_AT_BAD_IRQL", () => {
  for (const [level, name] of [[DISPATCH_LEVEL, "DISPATCH_LEVEL"], [APC_LEVEL, "APC_LEVEL"]] as const) {
    it(`a work routine that returns at ${name} is bug check 0xE1 with that IRQL in P2 and the work item in P4, naming the routine and its driver`, async () => {
      let service = "";
      let itemAddress = 0;
      const bc = await crash(async () => {
        const device = await createTestDevice("badirql");
        service = device.DriverObject.serviceName;
        const item = IoAllocateWorkItem(device)!;
        itemAddress = item.address;
        asDriver(service, "QueueBadWorkItem", () => IoQueueWorkItem(item, function ReturnsRaised() {
          KeRaiseIrql(level);
        }, WORK_QUEUE_TYPE.DelayedWorkQueue, null));
        await sleep100ns(10_000);
      });
      expect(WORKER_THREAD_RETURNED_AT_BAD_IRQL).toBe(0xE1);
      expect(itemAddress).not.toBe(0);
      expectBugCheck(bc, 0xE1, undefined, level, undefined, itemAddress);
      expect(bc.bugCheckName).toBe("WORKER_THREAD_RETURNED_AT_BAD_IRQL");
      expect(bc.context.driver).toBe(service);
      expect(bc.context.routine).toBe("ReturnsRaised");
    });
  }
});
