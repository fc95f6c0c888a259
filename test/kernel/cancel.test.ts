// IRP cancellation: the cancel spin lock, IoSetCancelRoutine, IoCancelIrp and the rules
// around them (shared/specs/nt-semantics.md, IRPs: Cancel; WDK: IoCancelIrp,
// IoSetCancelRoutine, IoAcquireCancelSpinLock, "Synchronizing IRP Cancellation", bug checks
// 0x48 CANCEL_STATE_IN_COMPLETED_IRP, 0x11B DRIVER_RETURNED_HOLDING_CANCEL_LOCK and 0xC9
// DRIVER_VERIFIER_IOMANAGER_VIOLATION / 0x07).
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, type IRP, type DEVICE_OBJECT, type NTSTATUS, type PDRIVER_CANCEL,
  IoAllocateIrp, IoCallDriver, IoMarkIrpPending, IoSetCompletionRoutine,
  IoSetCancelRoutine, IoCancelIrp, IoAcquireCancelSpinLock, IoReleaseCancelSpinLock, KeGetCurrentIrql, KeRaiseIrql, KeLowerIrql, KE,
  PASSIVE_LEVEL, APC_LEVEL, DISPATCH_LEVEL,
  STATUS_SUCCESS, STATUS_PENDING, STATUS_CANCELLED,
} from "../../src/index.js";
import { IO } from "../../src/io/manager.js";
import { MM } from "../../src/mm/manager.js";
import { bootDefault, crash, createTestDevice, expectBugCheck } from "../support/kernel-harness.js";
import { complete, deviceControlIrp, onDeviceControl } from "../support/irp-helpers.js";

const SPIN_LOCK_ALREADY_OWNED = 0x0F;
const CANCEL_STATE_IN_COMPLETED_IRP = 0x48;
const DRIVER_RETURNED_HOLDING_CANCEL_LOCK = 0x11B;
const DRIVER_VERIFIER_IOMANAGER_VIOLATION = 0xC9;




/** A device whose dispatch routine holds every IRP pending (in `held`) with `cancel` as its cancel routine. */
async function holdingDevice(cancel: PDRIVER_CANCEL | null): Promise<{ device: DEVICE_OBJECT; held: IRP[] }> {
  const device = await createTestDevice("cancel");
  const held: IRP[] = [];
  onDeviceControl(device, function HoldingDispatch(_d, irp) {
    IoMarkIrpPending(irp);
    if (cancel) IoSetCancelRoutine(irp, cancel);
    held.push(irp);
    return STATUS_PENDING;
  });
  return { device, held };
}

/** The driver's cancel routine of the documented pattern: release the lock at CancelIrql, complete with STATUS_CANCELLED. */
function CancelAndComplete(_d: DEVICE_OBJECT, irp: IRP): void {
  IoReleaseCancelSpinLock(irp.CancelIrql);
  complete(irp, STATUS_CANCELLED);
}

describe("the cancel spin lock and IoSetCancelRoutine", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  // Rule (WDK IoAcquireCancelSpinLock: raises to DISPATCH_LEVEL; IoReleaseCancelSpinLock(Irql) restores).
  it("IoAcquireCancelSpinLock raises to DISPATCH_LEVEL and returns the old IRQL; IoReleaseCancelSpinLock restores it", async () => {
    const r = await machine.exec(() => {
      const old = IoAcquireCancelSpinLock();
      const held = { irql: KeGetCurrentIrql(), owner: IO().cancelSpinLock.owner };
      IoReleaseCancelSpinLock(old);
      return { old, held, after: KeGetCurrentIrql(), ownerAfter: IO().cancelSpinLock.owner };
    }, { irql: APC_LEVEL, cpu: 1 });
    expect(r).toEqual({ old: APC_LEVEL, held: { irql: DISPATCH_LEVEL, owner: 1 }, after: APC_LEVEL, ownerAfter: -1 });
  });

  // Rule (nt-semantics.md, Spin locks: acquiring a lock the processor already holds is 0x0F).
  it("acquiring the cancel spin lock twice on one processor is 0x0F SPIN_LOCK_ALREADY_OWNED (P1 the lock)", async () => {
    let lockAddress = 0;
    const bc = await crash(() => {
      lockAddress = IO().cancelSpinLock.address;
      IoAcquireCancelSpinLock();
      IoAcquireCancelSpinLock();
    });
    expect(lockAddress).not.toBe(0);
    expectBugCheck(bc, SPIN_LOCK_ALREADY_OWNED, lockAddress);
  });

  // Rule (nt-semantics.md: IoSetCancelRoutine swaps and returns the previous routine).
  it("IoSetCancelRoutine swaps the routine in and returns the previous one", async () => {
    const r = await machine.exec(() => {
      const irp = IoAllocateIrp(1, false)!;
      const a: PDRIVER_CANCEL = () => {};
      const b: PDRIVER_CANCEL = () => {};
      const first = IoSetCancelRoutine(irp, a);
      const second = IoSetCancelRoutine(irp, b);
      const held = irp.CancelRoutine;
      const third = IoSetCancelRoutine(irp, null);
      return { first, secondIsA: second === a, heldIsB: held === b, thirdIsB: third === b, now: irp.CancelRoutine };
    });
    expect(r).toEqual({ first: null, secondIsA: true, heldIsB: true, thirdIsB: true, now: null });
  });
});

describe("IoCancelIrp", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  // Rule (WDK IoCancelIrp: returns TRUE if the IRP had a cancel routine and it was called; the cancel bit is set).
  it("with a cancel routine: sets Irp.Cancel, calls the routine once and returns TRUE", async () => {
    const r = await machine.exec(async () => {
      let calls = 0;
      const { device, held } = await holdingDevice(function CountingCancel(d, irp) {
        calls++;
        CancelAndComplete(d, irp);
      });
      const irp = deviceControlIrp(device);
      await IoCallDriver(device, irp);
      const cancelBefore = held[0].Cancel;
      const returned = IoCancelIrp(held[0]);
      return { cancelBefore, returned, cancel: irp.Cancel, calls, status: irp.IoStatus.Status };
    });
    expect(r).toEqual({ cancelBefore: false, returned: true, cancel: true, calls: 1, status: STATUS_CANCELLED });
  });

  // Rule (nt-semantics.md: IoCancelIrp swaps the routine with null before calling it).
  it("the routine is taken out of the IRP before it is called (Irp.CancelRoutine is NULL inside it)", async () => {
    const r = await machine.exec(async () => {
      let seen: unknown = "not called";
      const { device, held } = await holdingDevice(function SeeRoutineCancel(d, irp) {
        seen = irp.CancelRoutine;
        CancelAndComplete(d, irp);
      });
      await IoCallDriver(device, deviceControlIrp(device));
      IoCancelIrp(held[0]);
      return seen;
    });
    expect(r).toBe(null);
  });

  // Rule (nt-semantics.md: the routine is called with the cancel spin lock held; WDK: cancel routines run at
  // DISPATCH_LEVEL and release the lock with IoReleaseCancelSpinLock(Irp->CancelIrql)).
  for (const [name, irql] of [["PASSIVE_LEVEL", PASSIVE_LEVEL], ["APC_LEVEL", APC_LEVEL], ["DISPATCH_LEVEL", DISPATCH_LEVEL]] as const) {
    it(`called at ${name}: the routine runs at DISPATCH_LEVEL holding the cancel spin lock, with Irp.CancelIrql = ${name}`, async () => {
      const r = await machine.exec(async () => {
        const seen: Record<string, unknown> = {};
        const { device, held } = await holdingDevice(function InspectCancel(d, irp) {
          seen.irql = KeGetCurrentIrql();
          seen.lockHeldHere = IO().cancelSpinLock.owner === KE().cpu.Number;
          seen.cancelIrql = irp.CancelIrql;
          seen.device = d === device;
          CancelAndComplete(d, irp);
        });
        await IoCallDriver(device, deviceControlIrp(device));
        const prior = KeRaiseIrql(irql);
        IoCancelIrp(held[0]);
        const after = KeGetCurrentIrql();
        KeLowerIrql(prior);
        return { ...seen, after, lockFree: IO().cancelSpinLock.owner === -1 };
      });
      expect(r).toEqual({ irql: DISPATCH_LEVEL, lockHeldHere: true, cancelIrql: irql, device: true, after: irql, lockFree: true });
    });
  }

  // Rule (WDK IoCancelIrp: with Irp->CancelRoutine NULL the IRP is not cancelable: the cancel bit is set, FALSE returned).
  it("without a cancel routine: sets Irp.Cancel, returns FALSE, and releases the lock at the caller's IRQL", async () => {
    const r = await machine.exec(async () => {
      const { device, held } = await holdingDevice(null);
      const irp = deviceControlIrp(device);
      await IoCallDriver(device, irp);
      const returned = IoCancelIrp(held[0]);
      const state = { returned, cancel: irp.Cancel, irql: KeGetCurrentIrql(), lockFree: IO().cancelSpinLock.owner === -1 };
      complete(held[0], STATUS_SUCCESS);
      return state;
    });
    expect(r).toEqual({ returned: false, cancel: true, irql: PASSIVE_LEVEL, lockFree: true });
  });

  // Rule (follows from the swap: once called, the routine is gone; a second IoCancelIrp finds none).
  it("cancelling again after the routine ran returns FALSE and does not call it again", async () => {
    const r = await machine.exec(async () => {
      let calls = 0;
      const { device, held } = await holdingDevice(function OnceCancel(d, irp) {
        calls++;
        // Releases the lock but keeps the IRP (completes it later).
        IoReleaseCancelSpinLock(irp.CancelIrql);
      });
      await IoCallDriver(device, deviceControlIrp(device));
      const first = IoCancelIrp(held[0]);
      const second = IoCancelIrp(held[0]);
      complete(held[0], STATUS_CANCELLED);
      return { first, second, calls };
    });
    expect(r).toEqual({ first: true, second: false, calls: 1 });
  });

  // Rule ("Synchronizing IRP Cancellation": a driver clears the routine (IoSetCancelRoutine NULL) before completing; a
  // non-NULL result means the driver owns the IRP and the cancel routine will never run).
  it("race, driver first: clearing the routine before completing wins; a later IoCancelIrp returns FALSE and the routine never runs", async () => {
    const r = await machine.exec(async () => {
      let cancelCalls = 0;
      const { device, held } = await holdingDevice(function NeverCancel(d, irp) {
        cancelCalls++;
        CancelAndComplete(d, irp);
      });
      const irp = deviceControlIrp(device);
      const completions: NTSTATUS[] = [];
      IoSetCompletionRoutine(irp, (_d, i) => {
        completions.push(i.IoStatus.Status);
        return STATUS_SUCCESS;
      }, null, true, true, true);
      await IoCallDriver(device, irp);
      // The driver finishes the request: it takes the IRP out of the cancelable state first.
      const cleared = IoSetCancelRoutine(held[0], null);
      const owns = cleared !== null;
      const cancelled = IoCancelIrp(held[0]);
      if (owns) complete(held[0], STATUS_SUCCESS);
      return { owns, cancelled, cancelCalls, completions, cancelBit: irp.Cancel };
    });
    expect(r).toEqual({ owns: true, cancelled: false, cancelCalls: 0, completions: [STATUS_SUCCESS], cancelBit: true });
  });

  // Rule (same pattern, cancel first: IoSetCancelRoutine(NULL) returns NULL, so the routine owns the IRP and the
  // driver must not complete it; the IRP completes exactly once, cancelled).
  it("race, cancel first: the driver's IoSetCancelRoutine(NULL) returns NULL and it leaves the IRP to the cancel routine", async () => {
    const r = await machine.exec(async () => {
      const { device, held } = await holdingDevice(CancelAndComplete);
      const irp = deviceControlIrp(device);
      const completions: NTSTATUS[] = [];
      IoSetCompletionRoutine(irp, (_d, i) => {
        completions.push(i.IoStatus.Status);
        return STATUS_SUCCESS;
      }, null, true, true, true);
      await IoCallDriver(device, irp);
      const cancelled = IoCancelIrp(held[0]);
      const cleared = IoSetCancelRoutine(held[0], null);
      if (cleared !== null) complete(held[0], STATUS_SUCCESS);
      return { cancelled, cleared, completions };
    });
    expect(r).toEqual({ cancelled: true, cleared: null, completions: [STATUS_CANCELLED] });
  });

  // Rule ("Synchronizing IRP Cancellation": an IRP cancelled before it became cancelable keeps Cancel set; the
  // driver sets its routine, then checks Irp->Cancel, and completes it itself if it can take the routine back).
  it("an IRP cancelled while it had no routine: the driver sees Irp.Cancel after setting its routine and completes it as cancelled", async () => {
    const r = await machine.exec(async () => {
      const device = await createTestDevice("cancel");
      let cancelCalls = 0;
      const MyCancel: PDRIVER_CANCEL = (d, irp) => {
        cancelCalls++;
        CancelAndComplete(d, irp);
      };
      onDeviceControl(device, function QueueDispatch(_d, irp) {
        // Someone cancelled the IRP before the driver made it cancelable.
        IoCancelIrp(irp);
        IoMarkIrpPending(irp);
        IoSetCancelRoutine(irp, MyCancel);
        if (irp.Cancel && IoSetCancelRoutine(irp, null) !== null) complete(irp, STATUS_CANCELLED);
        return STATUS_PENDING;
      });
      const irp = deviceControlIrp(device);
      const returned = await IoCallDriver(device, irp);
      return { returned, status: irp.IoStatus.Status, cancelCalls };
    });
    expect(r).toEqual({ returned: STATUS_PENDING, status: STATUS_CANCELLED, cancelCalls: 0 });
  });
});

describe("cancel bug checks", () => {
  // Rule (nt-semantics.md: completing an IRP while its cancel routine is still set is 0xC9 P1 0x07; the WDK gives
  // P2 the cancel routine's address and P3 the IRP).
  it("IoCompleteRequest with the cancel routine still set is 0xC9 / 0x07 (P2 the routine, P3 the IRP)", async () => {
    let irpAddress = 0;
    let routineAddress = 0;
    const bc = await crash(async () => {
      const device = await createTestDevice("cancel");
      routineAddress = MM().codeAddress(device.DriverObject.serviceName, "ForgottenCancel");
      onDeviceControl(device, function CompleteStillCancelable(_d, irp) {
        IoSetCancelRoutine(irp, function ForgottenCancel() {});
        complete(irp, STATUS_SUCCESS);
        return STATUS_SUCCESS;
      });
      const irp = deviceControlIrp(device);
      irpAddress = irp.address;
      return IoCallDriver(device, irp);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x07, routineAddress, irpAddress);
  });

  // Rule (bug check 0x48: an IRP with a cancel routine was completed, then cancelled; P1 the IRP, P2 the cancel
  // routine). Without the verifier, completing with the routine set passes; the cancel afterwards is fatal.
  it("cancelling a completed IRP that still has a cancel routine is 0x48 CANCEL_STATE_IN_COMPLETED_IRP (P1 IRP, P2 routine)", async () => {
    let irpAddress = 0;
    let routineAddress = 0;
    const bc = await crash(async () => {
      const device = await createTestDevice("cancel");
      routineAddress = MM().codeAddress(device.DriverObject.serviceName, "StaleCancel");
      onDeviceControl(device, function CompleteStillCancelable(_d, irp) {
        IoSetCancelRoutine(irp, function StaleCancel() {});
        complete(irp, STATUS_SUCCESS);
        return STATUS_SUCCESS;
      });
      const irp = deviceControlIrp(device);
      irpAddress = irp.address;
      await IoCallDriver(device, irp);
      IoCancelIrp(irp);
    }, {}, { verifier: false });
    expectBugCheck(bc, CANCEL_STATE_IN_COMPLETED_IRP, irpAddress, routineAddress);
    expect(bc.bugCheckName).toBe("CANCEL_STATE_IN_COMPLETED_IRP");
  });

  // Rule (bug check 0x48 is about completed IRPs only: an IRP a completion routine took back with
  // STATUS_MORE_PROCESSING_REQUIRED is the driver's again and may be cancelled).
  it("an IRP stopped by STATUS_MORE_PROCESSING_REQUIRED is not completed: cancelling it calls its routine", async () => {
    const machine = await bootDefault({ verifier: false });
    const r = await machine.exec(async () => {
      const device = await createTestDevice("cancel");
      onDeviceControl(device, (_d, irp) => {
        complete(irp, STATUS_SUCCESS);
        return STATUS_SUCCESS;
      });
      const irp = deviceControlIrp(device);
      IoSetCompletionRoutine(irp, () => 0xC0000016 /* STATUS_MORE_PROCESSING_REQUIRED */, null, true, true, true);
      await IoCallDriver(device, irp);
      let called = false;
      IoSetCancelRoutine(irp, (_d, i) => {
        called = true;
        IoReleaseCancelSpinLock(i.CancelIrql);
      });
      return { returned: IoCancelIrp(irp), called };
    });
    expect(r).toEqual({ returned: true, called: true });
  });

  // Rule (bug check 0x11B: a cancel routine returned holding the global cancel spin lock; P1 the IRP, P2 the routine).
  it("a cancel routine that returns without releasing the cancel spin lock is 0x11B DRIVER_RETURNED_HOLDING_CANCEL_LOCK", async () => {
    let irpAddress = 0;
    let routineAddress = 0;
    const bc = await crash(async () => {
      const { device, held } = await holdingDevice(function KeepsLockCancel() {});
      routineAddress = MM().codeAddress(device.DriverObject.serviceName, "KeepsLockCancel");
      await IoCallDriver(device, deviceControlIrp(device));
      irpAddress = held[0].address;
      IoCancelIrp(held[0]);
    });
    expectBugCheck(bc, DRIVER_RETURNED_HOLDING_CANCEL_LOCK, irpAddress, routineAddress);
    expect(bc.bugCheckName).toBe("DRIVER_RETURNED_HOLDING_CANCEL_LOCK");
    expect(bc.context.routine).toBe("KeepsLockCancel");
  });
});
