// Cancel-safe IRP queues (WDK IoCsqInitialize(Ex), IoCsqInsertIrp(Ex), IoCsqRemoveIrp,
// IoCsqRemoveNextIrp, the Csq* callbacks, "Cancel-Safe IRP Queues").
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, type IRP, type DEVICE_OBJECT, type NTSTATUS, type KIRQL,
  IO_CSQ, IO_CSQ_IRP_CONTEXT, IoCsqInitialize, IoCsqInitializeEx, IoCsqInsertIrp, IoCsqInsertIrpEx, IoCsqRemoveIrp, IoCsqRemoveNextIrp,
  IO_TYPE_CSQ, IO_TYPE_CSQ_EX, IO_TYPE_CSQ_IRP_CONTEXT, IoAllocateIrp, IoCallDriver, IoCancelIrp, IoSetCompletionRoutine, IoSetNextIrpStackLocation, IoCompleteRequest, IoGetNextIrpStackLocation,
  KSPIN_LOCK, KeInitializeSpinLock, KeAcquireSpinLock, KeReleaseSpinLock, KE, IO_NO_INCREMENT, IRP_MJ_READ, SL_PENDING_RETURNED,
  STATUS_SUCCESS, STATUS_PENDING, STATUS_CANCELLED, STATUS_DEVICE_BUSY,
} from "../../src/index.js";
import { IO } from "../../src/io/manager.js";
import { bootDefault, createTestDevice } from "../support/kernel-harness.js";

/** A driver's cancel-safe queue: an array of IRPs under a spin lock, with a log of the callbacks in order. */
class TestQueue extends IO_CSQ {
  readonly irps: IRP[] = [];
  readonly lock = new KSPIN_LOCK();
  readonly log: string[] = [];
  /** Runs once, in the next CsqAcquireLock, before the lock is taken (another processor's work in a race window). */
  beforeNextAcquire: (() => void) | null = null;
  /** Cancel spin lock held when CsqAcquireLock was last called. */
  cancelLockHeldAtAcquire = false;
  /** CsqInsertIrpEx's result. */
  insertStatus: NTSTATUS = STATUS_SUCCESS;
  insertContexts: unknown[] = [];
}

function name(_q: TestQueue, irp: IRP | null): string {
  return irp ? `#${(irp as IRP & { tag?: string }).tag ?? "?"}` : "null";
}

function CsqInsertIrp(csq: IO_CSQ, irp: IRP): void {
  const q = csq as TestQueue;
  q.log.push(`insert ${name(q, irp)}`);
  q.irps.push(irp);
}

function CsqInsertIrpEx(csq: IO_CSQ, irp: IRP, insertContext: unknown): NTSTATUS {
  const q = csq as TestQueue;
  q.insertContexts.push(insertContext);
  if (q.insertStatus !== STATUS_SUCCESS) {
    q.log.push(`refuse ${name(q, irp)}`);
    return q.insertStatus;
  }
  CsqInsertIrp(csq, irp);
  return STATUS_SUCCESS;
}

function CsqRemoveIrp(csq: IO_CSQ, irp: IRP): void {
  const q = csq as TestQueue;
  q.log.push(`remove ${name(q, irp)}`);
  q.irps.splice(q.irps.indexOf(irp), 1);
}

/** Matches IRPs whose tag starts with the peek context (any IRP for null). */
function CsqPeekNextIrp(csq: IO_CSQ, irp: IRP | null, peekContext: unknown): IRP | null {
  const q = csq as TestQueue;
  q.log.push(`peek after ${name(q, irp)}`);
  const start = irp ? q.irps.indexOf(irp) + 1 : 0;
  for (let i = start; i < q.irps.length; i++) {
    const tag = (q.irps[i] as IRP & { tag?: string }).tag ?? "";
    if (peekContext === null || tag.startsWith(String(peekContext))) return q.irps[i];
  }
  return null;
}

function CsqAcquireLock(csq: IO_CSQ): KIRQL {
  const q = csq as TestQueue;
  const race = q.beforeNextAcquire;
  q.beforeNextAcquire = null;
  race?.();
  q.cancelLockHeldAtAcquire = IO().cancelSpinLock.owner === KE().cpu.Number;
  q.log.push("lock");
  return KeAcquireSpinLock(q.lock);
}

function CsqReleaseLock(csq: IO_CSQ, irql: KIRQL): void {
  const q = csq as TestQueue;
  q.log.push("unlock");
  KeReleaseSpinLock(q.lock, irql);
}

function CsqCompleteCanceledIrp(csq: IO_CSQ, irp: IRP): void {
  const q = csq as TestQueue;
  q.log.push(`complete cancelled ${name(q, irp)}`);
  irp.IoStatus.Status = STATUS_CANCELLED;
  irp.IoStatus.Information = 0;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
}

function newQueue(ex = false): TestQueue {
  const q = new TestQueue();
  KeInitializeSpinLock(q.lock);
  if (ex) IoCsqInitializeEx(q, CsqInsertIrpEx, CsqRemoveIrp, CsqPeekNextIrp, CsqAcquireLock, CsqReleaseLock, CsqCompleteCanceledIrp);
  else IoCsqInitialize(q, CsqInsertIrp, CsqRemoveIrp, CsqPeekNextIrp, CsqAcquireLock, CsqReleaseLock, CsqCompleteCanceledIrp);
  return q;
}

/**
 * A device whose read dispatch routine queues every IRP in `q` (with a context of its own
 * when `withContext`) and returns STATUS_PENDING. Returns a function that sends a tagged
 * read and reports how it completed.
 */
async function queueingDevice(q: TestQueue, withContext = true) {
  const device = await createTestDevice("csq");
  const contexts = new Map<IRP, IO_CSQ_IRP_CONTEXT>();
  device.DriverObject.MajorFunction[IRP_MJ_READ] = function CsqDispatch(_d: DEVICE_OBJECT, irp: IRP) {
    const context = withContext ? new IO_CSQ_IRP_CONTEXT() : null;
    if (context) contexts.set(irp, context);
    IoCsqInsertIrp(q, irp, context);
    return STATUS_PENDING;
  };
  const completions = new Map<IRP, NTSTATUS[]>();
  const send = async (tag: string, cancelFirst = false) => {
    const irp = IoAllocateIrp(device.StackSize, false)! as IRP & { tag?: string };
    irp.tag = tag;
    IoGetNextIrpStackLocation(irp).MajorFunction = IRP_MJ_READ;
    const seen: NTSTATUS[] = [];
    completions.set(irp, seen);
    IoSetCompletionRoutine(irp, (_d, i) => {
      seen.push(i.IoStatus.Status);
      return STATUS_SUCCESS;
    }, null, true, true, true);
    if (cancelFirst) IoCancelIrp(irp);
    const returned = await IoCallDriver(device, irp);
    return { irp, returned };
  };
  return { device, send, contexts, completions };
}

function finish(irp: IRP): void {
  irp.IoStatus.Status = STATUS_SUCCESS;
  irp.IoStatus.Information = 0;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
}

describe("cancel-safe queues", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("IoCsqInitialize and IoCsqInitializeEx fill the dispatch table, set the queue's Type and return STATUS_SUCCESS", async () => {
    const r = await machine.exec(() => {
      const a = new IO_CSQ();
      const b = new IO_CSQ();
      const sa = IoCsqInitialize(a, CsqInsertIrp, CsqRemoveIrp, CsqPeekNextIrp, CsqAcquireLock, CsqReleaseLock, CsqCompleteCanceledIrp);
      const sb = IoCsqInitializeEx(b, CsqInsertIrpEx, CsqRemoveIrp, CsqPeekNextIrp, CsqAcquireLock, CsqReleaseLock, CsqCompleteCanceledIrp);
      return {
        sa, sb, ta: a.Type, tb: b.Type, insert: a.CsqInsertIrp === CsqInsertIrp, insertEx: b.CsqInsertIrp === CsqInsertIrpEx,
        rest: [a.CsqRemoveIrp, a.CsqPeekNextIrp, a.CsqAcquireLock, a.CsqReleaseLock, a.CsqCompleteCanceledIrp].map((f) => f?.name),
      };
    });
    expect(r).toEqual({
      sa: STATUS_SUCCESS, sb: STATUS_SUCCESS, ta: IO_TYPE_CSQ, tb: IO_TYPE_CSQ_EX, insert: true, insertEx: true,
      rest: ["CsqRemoveIrp", "CsqPeekNextIrp", "CsqAcquireLock", "CsqReleaseLock", "CsqCompleteCanceledIrp"],
    });
    expect([IO_TYPE_CSQ_IRP_CONTEXT, IO_TYPE_CSQ, IO_TYPE_CSQ_EX]).toEqual([1, 2, 3]);
  });

  it("IoCsqInsertIrp: takes the queue's lock, calls CsqInsertIrp, marks the IRP pending, releases the lock; the IRP is now cancelable", async () => {
    const r = await machine.exec(async () => {
      const q = newQueue();
      const { send } = await queueingDevice(q);
      const { irp, returned } = await send("a");
      return { log: q.log, returned, pending: (irp.Stack[0].Control & SL_PENDING_RETURNED) !== 0, cancelable: irp.CancelRoutine !== null, queued: q.irps.length };
    });
    expect(r).toEqual({ log: ["lock", "insert #a", "unlock"], returned: STATUS_PENDING, pending: true, cancelable: true, queued: 1 });
  });

  it("the IRP context ties the IRP to the queue: Context.Irp, Context.Csq, Type, and DriverContext[3] (the queue itself without a context)", async () => {
    const r = await machine.exec(async () => {
      const q = newQueue();
      const withContext = await queueingDevice(q, true);
      const { irp } = await withContext.send("a");
      const context = withContext.contexts.get(irp)!;
      const q2 = newQueue();
      const without = await queueingDevice(q2, false);
      const { irp: irp2 } = await without.send("b");
      return {
        irp: context.Irp === irp, csq: context.Csq === q, type: context.Type, slot: irp.Tail.Overlay.DriverContext[3] === context,
        slotWithout: irp2.Tail.Overlay.DriverContext[3] === q2,
      };
    });
    expect(r).toEqual({ irp: true, csq: true, type: IO_TYPE_CSQ_IRP_CONTEXT, slot: true, slotWithout: true });
  });

  it("IoCsqRemoveIrp: removes the context's IRP under the lock (CsqRemoveIrp), returns it no longer cancelable, and clears the context; again returns NULL", async () => {
    const r = await machine.exec(async () => {
      const q = newQueue();
      const { send, contexts, completions } = await queueingDevice(q);
      const { irp } = await send("a");
      q.log.length = 0;
      const context = contexts.get(irp)!;
      const removed = IoCsqRemoveIrp(q, context);
      const state = { same: removed === irp, log: [...q.log], cancelable: irp.CancelRoutine !== null, contextIrp: context.Irp, slot: irp.Tail.Overlay.DriverContext[3] };
      const again = IoCsqRemoveIrp(q, context);
      // Not cancelable any more, so completing it is legal (no 0xC9 / 0x07).
      finish(removed!);
      return { ...state, again, completions: completions.get(irp) };
    });
    expect(r).toEqual({ same: true, log: ["lock", "remove #a", "unlock"], cancelable: false, contextIrp: null, slot: null, again: null, completions: [STATUS_SUCCESS] });
  });

  it("IoCsqRemoveNextIrp: CsqPeekNextIrp(NULL, PeekContext) finds the first match, which is removed and returned; NULL when nothing matches", async () => {
    const r = await machine.exec(async () => {
      const q = newQueue();
      const { send } = await queueingDevice(q);
      await send("x1");
      const b = await send("y1");
      await send("y2");
      q.log.length = 0;
      const got = IoCsqRemoveNextIrp(q, "y");
      const log = [...q.log];
      const none = IoCsqRemoveNextIrp(q, "z");
      finish(got!);
      return { same: got === b.irp, log, none, left: q.irps.length, cancelable: got!.CancelRoutine !== null };
    });
    expect(r).toEqual({ same: true, log: ["lock", "peek after null", "remove #y1", "unlock"], none: null, left: 2, cancelable: false });
  });

  it("IoCancelIrp on a queued IRP: the queue's cancel routine releases the cancel spin lock, removes the IRP under the queue's lock, then calls CsqCompleteCanceledIrp", async () => {
    const r = await machine.exec(async () => {
      const q = newQueue();
      const { send, contexts, completions } = await queueingDevice(q);
      const { irp } = await send("a");
      q.log.length = 0;
      const returned = IoCancelIrp(irp);
      return {
        returned, log: q.log, cancelLockHeldAtAcquire: q.cancelLockHeldAtAcquire, completions: completions.get(irp),
        contextIrp: contexts.get(irp)!.Irp, queued: q.irps.length,
      };
    });
    expect(r).toEqual({
      returned: true, log: ["lock", "remove #a", "unlock", "complete cancelled #a"], cancelLockHeldAtAcquire: false,
      completions: [STATUS_CANCELLED], contextIrp: null, queued: 0,
    });
  });

  it("race, cancel first: IoCsqRemoveIrp during the cancel window returns NULL, and the IRP completes exactly once, cancelled", async () => {
    const r = await machine.exec(async () => {
      const q = newQueue();
      const { send, contexts, completions } = await queueingDevice(q);
      const { irp } = await send("a");
      const context = contexts.get(irp)!;
      let removal: IRP | null | undefined;
      // IoCancelIrp has taken the routine; before the cancel routine gets the queue's lock, the driver tries to remove.
      q.beforeNextAcquire = () => {
        removal = IoCsqRemoveIrp(q, context);
      };
      const cancelled = IoCancelIrp(irp);
      return { cancelled, removal, completions: completions.get(irp), queued: q.irps.length };
    });
    expect(r).toEqual({ cancelled: true, removal: null, completions: [STATUS_CANCELLED], queued: 0 });
  });

  it("race, cancel first: IoCsqRemoveNextIrp skips the IRP being cancelled and returns the next one", async () => {
    const r = await machine.exec(async () => {
      const q = newQueue();
      const { send, completions } = await queueingDevice(q);
      const a = await send("a");
      const b = await send("b");
      let next: IRP | null = null;
      q.beforeNextAcquire = () => {
        next = IoCsqRemoveNextIrp(q, null);
      };
      IoCancelIrp(a.irp);
      const gotB = next === b.irp;
      finish(next!);
      return { gotB, a: completions.get(a.irp), b: completions.get(b.irp), queued: q.irps.length };
    });
    expect(r).toEqual({ gotB: true, a: [STATUS_CANCELLED], b: [STATUS_SUCCESS], queued: 0 });
  });

  it("race, removal first: once IoCsqRemoveIrp has the IRP, IoCancelIrp returns FALSE and CsqCompleteCanceledIrp is never called", async () => {
    const r = await machine.exec(async () => {
      const q = newQueue();
      const { send, contexts, completions } = await queueingDevice(q);
      const { irp } = await send("a");
      const removed = IoCsqRemoveIrp(q, contexts.get(irp)!);
      q.log.length = 0;
      const cancelled = IoCancelIrp(irp);
      finish(removed!);
      return { cancelled, cancelBit: irp.Cancel, log: q.log, completions: completions.get(irp) };
    });
    expect(r).toEqual({ cancelled: false, cancelBit: true, log: [], completions: [STATUS_SUCCESS] });
  });

  it("an IRP that is already cancelled does not stay queued: it is removed (CsqRemoveIrp) and handed to CsqCompleteCanceledIrp during the insert", async () => {
    const r = await machine.exec(async () => {
      const q = newQueue();
      const { send, completions } = await queueingDevice(q);
      const { irp, returned } = await send("a", true);
      return { returned, log: q.log, queued: q.irps.length, completions: completions.get(irp), pending: irp.PendingReturned };
    });
    expect(r.returned).toBe(STATUS_PENDING);
    expect(r.queued).toBe(0);
    expect(r.completions).toEqual([STATUS_CANCELLED]);
    expect(r.pending).toBe(true);
    // Whatever CsqInsertIrp did, CsqRemoveIrp undid it before CsqCompleteCanceledIrp ran, outside the lock.
    expect(r.log.slice(-3)).toEqual(["remove #a", "unlock", "complete cancelled #a"]);
  });

  it("IoCsqInsertIrpEx on an IoCsqInitializeEx queue returns CsqInsertIrpEx's status and passes InsertContext; on an error status the IRP is not queued, pending or cancelable", async () => {
    const r = await machine.exec(async () => {
      const q = newQueue(true);
      // IRPs at a driver's location, as in its dispatch routine.
      const ok = IoAllocateIrp(1, false)!;
      const refused = IoAllocateIrp(1, false)!;
      IoSetNextIrpStackLocation(ok);
      IoSetNextIrpStackLocation(refused);
      const context = new IO_CSQ_IRP_CONTEXT();
      const s1 = IoCsqInsertIrpEx(q, ok, null, "first");
      q.insertStatus = STATUS_DEVICE_BUSY;
      const s2 = IoCsqInsertIrpEx(q, refused, context, "second");
      const out = {
        s1, s2, contexts: [...q.insertContexts], queued: q.irps.length, refusedCancelable: refused.CancelRoutine !== null,
        refusedSlot: refused.Tail.Overlay.DriverContext[3], contextIrp: context.Irp, log: [...q.log],
        okPending: (ok.Stack[0].Control & SL_PENDING_RETURNED) !== 0, refusedPending: (refused.Stack[0].Control & SL_PENDING_RETURNED) !== 0,
      };
      IoCsqRemoveNextIrp(q, null);
      return out;
    });
    expect(r).toEqual({
      s1: STATUS_SUCCESS, s2: STATUS_DEVICE_BUSY, contexts: ["first", "second"], queued: 1, refusedCancelable: false,
      refusedSlot: null, contextIrp: null, log: ["lock", "insert #?", "unlock", "lock", "refuse #?", "unlock"], okPending: true, refusedPending: false,
    });
  });

  it("IoCsqInsertIrpEx on an IoCsqInitialize queue calls CsqInsertIrp and returns STATUS_SUCCESS", async () => {
    const r = await machine.exec(() => {
      const q = newQueue(false);
      const irp = IoAllocateIrp(1, false)!;
      IoSetNextIrpStackLocation(irp);
      const status = IoCsqInsertIrpEx(q, irp, null, "ignored");
      IoCsqRemoveNextIrp(q, null);
      return { status, contexts: q.insertContexts, log: q.log.slice(0, 3) };
    });
    expect(r).toEqual({ status: STATUS_SUCCESS, contexts: [], log: ["lock", "insert #?", "unlock"] });
  });
});
