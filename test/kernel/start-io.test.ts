// Device queues and StartIo (WDK KeInitializeDeviceQueue, KeInsertDeviceQueue,
// KeInsertByKeyDeviceQueue, KeRemoveDeviceQueue, KeRemoveByKeyDeviceQueue,
// KeRemoveEntryDeviceQueue, IoStartPacket, IoStartNextPacket, IoStartNextPacketByKey,
// DRIVER_STARTIO, "Synchronizing Cancellation in Driver Routines that Process IRPs";
// DDI compliance rules IrqlDispatch and IrqlKeDispatchLte).
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, type IRP, type DEVICE_OBJECT, type NTSTATUS,
  KDEVICE_QUEUE, KDEVICE_QUEUE_ENTRY, DeviceQueueObject, KeInitializeDeviceQueue, KeInsertDeviceQueue, KeInsertByKeyDeviceQueue,
  KeRemoveDeviceQueue, KeRemoveByKeyDeviceQueue, KeRemoveEntryDeviceQueue,
  IoStartPacket, IoStartNextPacket, IoStartNextPacketByKey, IoAllocateIrp, IoCallDriver, IoCancelIrp, IoCompleteRequest, IoGetNextIrpStackLocation,
  IoMarkIrpPending, IoSetCompletionRoutine, IoSetCancelRoutine, IoAcquireCancelSpinLock, IoReleaseCancelSpinLock, KeGetCurrentIrql,
  KeRaiseIrql, KeLowerIrql, KDPC, KeInitializeDpc, KeInsertQueueDpc,
  IO_NO_INCREMENT, IRP_MJ_READ, PASSIVE_LEVEL, DISPATCH_LEVEL, HIGH_LEVEL, STATUS_SUCCESS, STATUS_PENDING, STATUS_CANCELLED,
} from "../../src/index.js";
import { IO } from "../../src/io/manager.js";
import { bootDefault, crash, createTestDevice, expectBugCheck } from "../support/kernel-harness.js";

const DRIVER_VERIFIER_DETECTED_VIOLATION = 0xC4;

/** Runs `fn` at DISPATCH_LEVEL (where the insert and remove routines must be called). */
function atDispatch<T>(fn: () => T): T {
  const old = KeRaiseIrql(DISPATCH_LEVEL);
  try {
    return fn();
  } finally {
    KeLowerIrql(old);
  }
}

function entries(n: number): KDEVICE_QUEUE_ENTRY[] {
  return Array.from({ length: n }, (_, i) => new KDEVICE_QUEUE_ENTRY(`e${i}`));
}

const names = (q: KDEVICE_QUEUE) => q.DeviceListHead.map((e) => e.container);

describe("device queues", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("KeInitializeDeviceQueue: an empty device queue object that is not busy", async () => {
    const r = await machine.exec(() => {
      const q = new KDEVICE_QUEUE();
      q.Busy = true;
      KeInitializeDeviceQueue(q);
      return { type: q.Type, busy: q.Busy, queued: q.DeviceListHead.length };
    });
    expect(r).toEqual({ type: DeviceQueueObject, busy: false, queued: 0 });
    expect(DeviceQueueObject).toBe(20);
  });

  it("KeInsertDeviceQueue on a queue that is not busy: returns FALSE, does not queue the entry, and makes the queue busy", async () => {
    const r = await machine.exec(() => atDispatch(() => {
      const q = new KDEVICE_QUEUE();
      KeInitializeDeviceQueue(q);
      const [e] = entries(1);
      const inserted = KeInsertDeviceQueue(q, e);
      return { inserted, busy: q.Busy, queued: q.DeviceListHead.length, entryInserted: e.Inserted };
    }));
    expect(r).toEqual({ inserted: false, busy: true, queued: 0, entryInserted: false });
  });

  it("KeInsertDeviceQueue on a busy queue: returns TRUE and queues the entry at the tail", async () => {
    const r = await machine.exec(() => atDispatch(() => {
      const q = new KDEVICE_QUEUE();
      KeInitializeDeviceQueue(q);
      const [first, a, b, c] = entries(4);
      KeInsertDeviceQueue(q, first);
      const results = [a, b, c].map((e) => KeInsertDeviceQueue(q, e));
      return { results, order: names(q), inserted: [a, b, c].map((e) => e.Inserted) };
    }));
    expect(r).toEqual({ results: [true, true, true], order: ["e1", "e2", "e3"], inserted: [true, true, true] });
  });

  it("KeInsertByKeyDeviceQueue: a queued entry goes after every entry with a key <= its own and before greater keys", async () => {
    const r = await machine.exec(() => atDispatch(() => {
      const q = new KDEVICE_QUEUE();
      KeInitializeDeviceQueue(q);
      const es = entries(6);
      const notBusy = KeInsertByKeyDeviceQueue(q, es[0], 50);
      const keys = [30, 10, 30, 20, 40];
      keys.forEach((k, i) => KeInsertByKeyDeviceQueue(q, es[i + 1], k));
      return { notBusy, order: names(q), keys: q.DeviceListHead.map((e) => e.SortKey) };
    }));
    expect(r).toEqual({ notBusy: false, order: ["e2", "e4", "e1", "e3", "e5"], keys: [10, 20, 30, 30, 40] });
  });

  it("KeRemoveDeviceQueue: removes the head entry; with nothing queued it returns NULL and the queue is no longer busy", async () => {
    const r = await machine.exec(() => atDispatch(() => {
      const q = new KDEVICE_QUEUE();
      KeInitializeDeviceQueue(q);
      const es = entries(3);
      es.forEach((e) => KeInsertDeviceQueue(q, e));
      const first = KeRemoveDeviceQueue(q);
      const second = KeRemoveDeviceQueue(q);
      const busyWhenEmpty = q.Busy;
      const none = KeRemoveDeviceQueue(q);
      return { first: first?.container, firstInserted: first?.Inserted, second: second?.container, busyWhenEmpty, none, busy: q.Busy };
    }));
    expect(r).toEqual({ first: "e1", firstInserted: false, second: "e2", busyWhenEmpty: true, none: null, busy: false });
  });

  it("KeRemoveByKeyDeviceQueue: the first entry with a key >= SortKey, else the first entry; NULL and not busy when empty", async () => {
    const r = await machine.exec(() => atDispatch(() => {
      const q = new KDEVICE_QUEUE();
      KeInitializeDeviceQueue(q);
      const es = entries(4);
      KeInsertDeviceQueue(q, es[0]);
      [10, 20, 30].forEach((k, i) => KeInsertByKeyDeviceQueue(q, es[i + 1], k));
      const geq = KeRemoveByKeyDeviceQueue(q, 15)?.container;
      const wrap = KeRemoveByKeyDeviceQueue(q, 99)?.container;
      const last = KeRemoveByKeyDeviceQueue(q, 0)?.container;
      const none = KeRemoveByKeyDeviceQueue(q, 0);
      return { geq, wrap, last, none, busy: q.Busy };
    }));
    expect(r).toEqual({ geq: "e2", wrap: "e1", last: "e3", none: null, busy: false });
  });

  it("KeRemoveEntryDeviceQueue: TRUE and removed if the entry was queued, FALSE if not; the queue stays busy", async () => {
    const r = await machine.exec(() => {
      const q = new KDEVICE_QUEUE();
      KeInitializeDeviceQueue(q);
      const es = entries(3);
      atDispatch(() => es.forEach((e) => KeInsertDeviceQueue(q, e)));
      // Legal below DISPATCH_LEVEL (<= DISPATCH_LEVEL).
      const queued = KeRemoveEntryDeviceQueue(q, es[1]);
      const again = KeRemoveEntryDeviceQueue(q, es[1]);
      const never = KeRemoveEntryDeviceQueue(q, es[0]);
      return { queued, again, never, order: names(q), busy: q.Busy, irql: KeGetCurrentIrql() };
    });
    expect(r).toEqual({ queued: true, again: false, never: false, order: ["e2"], busy: true, irql: PASSIVE_LEVEL });
  });

  it("IoCreateDevice gives the device object an initialized DeviceQueue (not busy) and no CurrentIrp", async () => {
    const r = await machine.exec(async () => {
      const d = await createTestDevice("sio");
      return { busy: d.DeviceQueue.Busy, type: d.DeviceQueue.Type, current: d.CurrentIrp };
    });
    expect(r).toEqual({ busy: false, type: DeviceQueueObject, current: null });
  });
});

describe("device queue IRQL rules under the verifier (DDI compliance checking)", () => {
  for (const [name, call] of [
    ["KeInsertDeviceQueue", (q: KDEVICE_QUEUE) => KeInsertDeviceQueue(q, new KDEVICE_QUEUE_ENTRY())],
    ["KeInsertByKeyDeviceQueue", (q: KDEVICE_QUEUE) => KeInsertByKeyDeviceQueue(q, new KDEVICE_QUEUE_ENTRY(), 1)],
    ["KeRemoveDeviceQueue", (q: KDEVICE_QUEUE) => KeRemoveDeviceQueue(q)],
    ["KeRemoveByKeyDeviceQueue", (q: KDEVICE_QUEUE) => KeRemoveByKeyDeviceQueue(q, 1)],
  ] as const) {
    it(`${name} below DISPATCH_LEVEL is 0xC4 / 0x00020003 (IrqlDispatch)`, async () => {
      const bc = await crash(() => {
        const q = new KDEVICE_QUEUE();
        KeInitializeDeviceQueue(q);
        q.Busy = true;
        call(q);
      });
      expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0x00020003);
    });
  }

  it("KeRemoveEntryDeviceQueue above DISPATCH_LEVEL is 0xC4 / 0x00020011 (IrqlKeDispatchLte)", async () => {
    const bc = await crash(() => {
      const q = new KDEVICE_QUEUE();
      KeInitializeDeviceQueue(q);
      KeRaiseIrql(HIGH_LEVEL);
      KeRemoveEntryDeviceQueue(q, new KDEVICE_QUEUE_ENTRY());
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0x00020011);
  });

  it("IoStartNextPacket below DISPATCH_LEVEL is 0xC4 / 0x00020003 (IrqlDispatch)", async () => {
    const bc = await crash(async () => {
      const device = await createTestDevice("sio");
      device.DriverObject.DriverStartIo = () => {};
      IoStartNextPacket(device, false);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0x00020003);
  });

  it("the same calls pass without the verifier", async () => {
    const machine = await bootDefault({ verifier: false });
    const r = await machine.exec(() => {
      const q = new KDEVICE_QUEUE();
      KeInitializeDeviceQueue(q);
      return [KeInsertDeviceQueue(q, new KDEVICE_QUEUE_ENTRY()), KeRemoveDeviceQueue(q), q.Busy];
    });
    expect(r).toEqual([false, null, false]);
  });
});

/**
 * A StartIo driver: its read dispatch routine marks the IRP pending and calls IoStartPacket
 * (with `key` and `cancel` from the IRP's tag); StartIo records what it sees and leaves
 * the IRP for the test to finish (as a device would, from its DPC).
 */
async function startIoDriver(options: { cancel?: (d: DEVICE_OBJECT, irp: IRP) => void; key?: boolean } = {}) {
  const device = await createTestDevice("sio");
  const started: { tag: string; irql: number; current: boolean; cancelLockFree: boolean }[] = [];
  device.DriverObject.DriverStartIo = function StartIo(d, irp) {
    started.push({
      tag: (irp as IRP & { tag: string }).tag, irql: KeGetCurrentIrql(), current: d.CurrentIrp === irp,
      cancelLockFree: IO().cancelSpinLock.owner === -1,
    });
  };
  device.DriverObject.MajorFunction[IRP_MJ_READ] = function StartIoDispatch(d, irp) {
    IoMarkIrpPending(irp);
    const key = options.key ? (irp as IRP & { key: number }).key : null;
    IoStartPacket(d, irp, key, options.cancel ?? null);
    return STATUS_PENDING;
  };
  const completions = new Map<string, NTSTATUS[]>();
  const send = async (tag: string, key = 0): Promise<IRP> => {
    const irp = IoAllocateIrp(device.StackSize, false)! as IRP & { tag: string; key: number };
    irp.tag = tag;
    irp.key = key;
    IoGetNextIrpStackLocation(irp).MajorFunction = IRP_MJ_READ;
    const seen: NTSTATUS[] = [];
    completions.set(tag, seen);
    IoSetCompletionRoutine(irp, (_d, i) => {
      seen.push(i.IoStatus.Status);
      return STATUS_SUCCESS;
    }, null, true, true, true);
    const returned = await IoCallDriver(device, irp);
    if (returned !== STATUS_PENDING) throw new Error("the StartIo driver must pend its IRPs");
    return irp;
  };
  return { device, started, send, completions };
}

/** What a driver's DpcForIsr does when the device finishes the current IRP: complete it and start the next (at DISPATCH_LEVEL). */
function finishCurrent(device: DEVICE_OBJECT, cancelable: boolean, byKey?: number): void {
  atDispatch(() => {
    const irp = device.CurrentIrp!;
    if (cancelable) IoSetCancelRoutine(irp, null);
    if (byKey === undefined) IoStartNextPacket(device, cancelable);
    else IoStartNextPacketByKey(device, cancelable, byKey);
    irp.IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
  });
}

describe("IoStartPacket and IoStartNextPacket", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("an idle device: IoStartPacket makes the IRP CurrentIrp and calls StartIo at once at DISPATCH_LEVEL; the caller's IRQL comes back", async () => {
    const r = await machine.exec(async () => {
      const { device, started, send } = await startIoDriver();
      const irp = await send("a");
      return { started, current: device.CurrentIrp === irp, busy: device.DeviceQueue.Busy, irql: KeGetCurrentIrql() };
    });
    expect(r).toEqual({ started: [{ tag: "a", irql: DISPATCH_LEVEL, current: true, cancelLockFree: true }], current: true, busy: true, irql: PASSIVE_LEVEL });
  });

  it("a busy device: IoStartPacket queues the IRP (StartIo is not called); IoStartNextPacket starts the queued IRPs one at a time, in order", async () => {
    const r = await machine.exec(async () => {
      const { device, started, send, completions } = await startIoDriver();
      await send("a");
      await send("b");
      await send("c");
      const queuedTags = device.DeviceQueue.DeviceListHead.map((e) => (e.container as IRP & { tag: string }).tag);
      const startedBefore = started.map((s) => s.tag);
      finishCurrent(device, false);
      const afterOne = started.map((s) => s.tag);
      finishCurrent(device, false);
      finishCurrent(device, false);
      return {
        queuedTags, startedBefore, afterOne, started: started.map((s) => `${s.tag}@${s.irql}:${s.current}`),
        completions: [...completions.values()].map((c) => c.length), current: device.CurrentIrp, busy: device.DeviceQueue.Busy,
      };
    });
    expect(r).toEqual({
      queuedTags: ["b", "c"], startedBefore: ["a"], afterOne: ["a", "b"], started: ["a@2:true", "b@2:true", "c@2:true"],
      completions: [1, 1, 1], current: null, busy: false,
    });
  });

  it("with nothing queued IoStartNextPacket sets CurrentIrp to NULL and the device idle; the next IoStartPacket starts at once", async () => {
    const r = await machine.exec(async () => {
      const { device, started, send } = await startIoDriver();
      await send("a");
      finishCurrent(device, false);
      const idle = { current: device.CurrentIrp, busy: device.DeviceQueue.Busy };
      await send("b");
      return { idle, started: started.map((s) => s.tag) };
    });
    expect(r).toEqual({ idle: { current: null, busy: false }, started: ["a", "b"] });
  });

  it("IoStartPacket with a Key queues by key; IoStartNextPacketByKey starts the first IRP with a key >= its Key", async () => {
    const r = await machine.exec(async () => {
      const { device, started, send } = await startIoDriver({ key: true });
      await send("first", 0);
      await send("k30", 30);
      await send("k10", 10);
      await send("k20", 20);
      const queued = device.DeviceQueue.DeviceListHead.map((e) => (e.container as IRP & { tag: string }).tag);
      finishCurrent(device, false, 15);
      finishCurrent(device, false, 0);
      finishCurrent(device, false, 0);
      return { queued, started: started.map((s) => s.tag) };
    });
    expect(r).toEqual({ queued: ["k10", "k20", "k30"], started: ["first", "k20", "k10", "k30"] });
  });

  it("StartIo runs without the cancel spin lock held, and with Cancelable TRUE IoStartNextPacket releases it before calling StartIo", async () => {
    const r = await machine.exec(async () => {
      const { device, started, send } = await startIoDriver({ cancel: () => {} });
      await send("a");
      await send("b");
      finishCurrent(device, true);
      finishCurrent(device, true);
      return started.map((s) => s.cancelLockFree);
    });
    expect(r).toEqual([true, true]);
  });

  it("IoStartPacket sets CancelFunction as the IRP's cancel routine", async () => {
    const r = await machine.exec(async () => {
      const CancelQueued = () => {};
      const { device, send } = await startIoDriver({ cancel: CancelQueued });
      const a = await send("a");
      const b = await send("b");
      const out = { a: a.CancelRoutine === CancelQueued, b: b.CancelRoutine === CancelQueued };
      finishCurrent(device, true);
      finishCurrent(device, true);
      return out;
    });
    expect(r).toEqual({ a: true, b: true });
  });

  it("cancelling a queued packet: the driver's cancel routine takes it out with KeRemoveEntryDeviceQueue and completes it; it never reaches StartIo", async () => {
    const r = await machine.exec(async () => {
      let removed: boolean | undefined;
      const { device, started, send, completions } = await startIoDriver({
        cancel: function CancelQueuedPacket(d, irp) {
          if (irp === d.CurrentIrp) {
            IoReleaseCancelSpinLock(irp.CancelIrql);
            return;
          }
          removed = KeRemoveEntryDeviceQueue(d.DeviceQueue, irp.Tail.Overlay.DeviceQueueEntry);
          IoReleaseCancelSpinLock(irp.CancelIrql);
          irp.IoStatus.Status = STATUS_CANCELLED;
          IoCompleteRequest(irp, IO_NO_INCREMENT);
        },
      });
      await send("a");
      const b = await send("b");
      await send("c");
      const cancelled = IoCancelIrp(b);
      finishCurrent(device, true);
      finishCurrent(device, true);
      return { cancelled, removed, started: started.map((s) => s.tag), b: completions.get("b"), c: completions.get("c") };
    });
    expect(r).toEqual({ cancelled: true, removed: true, started: ["a", "c"], b: [STATUS_CANCELLED], c: [STATUS_SUCCESS] });
  });

  it("the documented StartIo pattern: an IRP cancelled while queued (no routine left) is found with Irp.Cancel set and completed as cancelled, and the next packet starts", async () => {
    const r = await machine.exec(async () => {
      const device = await createTestDevice("sio");
      const started: string[] = [];
      device.DriverObject.DriverStartIo = function StartIo(d, irp) {
        started.push((irp as IRP & { tag: string }).tag);
        const old = IoAcquireCancelSpinLock();
        if (irp !== d.CurrentIrp) {
          IoReleaseCancelSpinLock(old);
          return;
        }
        IoSetCancelRoutine(irp, null);
        if (irp.Cancel) {
          IoReleaseCancelSpinLock(old);
          irp.IoStatus.Status = STATUS_CANCELLED;
          irp.IoStatus.Information = 0;
          IoStartNextPacket(d, true);
          IoCompleteRequest(irp, IO_NO_INCREMENT);
          return;
        }
        IoReleaseCancelSpinLock(old);
      };
      device.DriverObject.MajorFunction[IRP_MJ_READ] = (d, irp) => {
        IoMarkIrpPending(irp);
        IoStartPacket(d, irp, null, null);
        return STATUS_PENDING;
      };
      const statuses = new Map<string, NTSTATUS>();
      const send = async (tag: string) => {
        const irp = IoAllocateIrp(device.StackSize, false)! as IRP & { tag: string };
        irp.tag = tag;
        IoGetNextIrpStackLocation(irp).MajorFunction = IRP_MJ_READ;
        IoSetCompletionRoutine(irp, (_d, i) => {
          statuses.set(tag, i.IoStatus.Status);
          return STATUS_SUCCESS;
        }, null, true, true, true);
        await IoCallDriver(device, irp);
        return irp;
      };
      await send("a");
      const b = await send("b");
      await send("c");
      // No cancel routine: IoCancelIrp only sets the cancel bit.
      const cancelled = IoCancelIrp(b);
      finishCurrent(device, true);
      return { cancelled, started, b: statuses.get("b"), current: (device.CurrentIrp as (IRP & { tag: string }) | null)?.tag };
    });
    expect(r).toEqual({ cancelled: false, started: ["a", "b", "c"], b: STATUS_CANCELLED, current: "c" });
  });

  it("StartIo called from a DPC for the next packet runs on the DPC's processor at DISPATCH_LEVEL", async () => {
    const r = await machine.exec(async () => {
      const { device, started, send } = await startIoDriver();
      await send("a");
      await send("b");
      const dpc = new KDPC();
      KeInitializeDpc(dpc, function DpcForIsr() {
        const irp = device.CurrentIrp!;
        IoStartNextPacket(device, false);
        irp.IoStatus.Status = STATUS_SUCCESS;
        IoCompleteRequest(irp, IO_NO_INCREMENT);
      }, null);
      KeInsertQueueDpc(dpc, null, null);
      return started.map((s) => `${s.tag}@${s.irql}`);
    }, { cpu: 1 });
    expect(r).toEqual(["a@2", "b@2"]);
  });
});
