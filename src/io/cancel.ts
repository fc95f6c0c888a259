/**
 * IRP cancellation: the cancel spin lock, IoSetCancelRoutine and IoCancelIrp
 * (shared/specs/nt-semantics.md, IRPs: Cancel).
 *
 * IoCancelIrp sets Irp.Cancel, takes the cancel spin lock (the old IRQL goes in
 * Irp.CancelIrql), swaps the cancel routine with null and, if there was one, calls it
 * with the lock still held: the routine must release it with
 * IoReleaseCancelSpinLock(Irp.CancelIrql). Without a routine the lock is released and
 * IoCancelIrp returns FALSE. "Completed" means IoCompleteRequest ran the whole stack (an
 * IRP a completion routine took back with STATUS_MORE_PROCESSING_REQUIRED is not).
 */
import { KE } from "../ke/kernel.js";
import { CANCEL_STATE_IN_COMPLETED_IRP, DRIVER_RETURNED_HOLDING_CANCEL_LOCK } from "../ke/bugcheck.js";
import { KeAcquireSpinLock, KeReleaseSpinLock } from "../ke/spinlock.js";
import type { KIRQL } from "../ke/irql.js";
import { IoGetCurrentIrpStackLocation, type IRP, type PDRIVER_CANCEL } from "./irp.js";
import { IO } from "./manager.js";
import { MM } from "../mm/manager.js";
import type { DEVICE_OBJECT } from "./objects.js";

/** IoAcquireCancelSpinLock: raises to DISPATCH_LEVEL and takes the system-wide cancel spin lock; returns the old IRQL. */
export function IoAcquireCancelSpinLock(): KIRQL {
  return KeAcquireSpinLock(IO().cancelSpinLock);
}

/** IoReleaseCancelSpinLock: releases the cancel spin lock and returns to `Irql`. */
export function IoReleaseCancelSpinLock(Irql: KIRQL): void {
  KeReleaseSpinLock(IO().cancelSpinLock, Irql);
}

/** IoSetCancelRoutine: atomically swaps the IRP's cancel routine; returns the previous one. */
export function IoSetCancelRoutine(Irp: IRP, CancelRoutine: PDRIVER_CANCEL | null): PDRIVER_CANCEL | null {
  const previous = Irp.CancelRoutine;
  Irp.CancelRoutine = CancelRoutine;
  if (CancelRoutine) Irp.cancelOwner = KE().attribution().driver;
  return previous;
}

/**
 * IoCancelIrp: marks the IRP cancelled and calls its cancel routine, if it has one, with
 * the cancel spin lock held at DISPATCH_LEVEL (the old IRQL in Irp.CancelIrql); TRUE if a
 * routine was called. A completed IRP that still has a cancel routine is 0x48
 * CANCEL_STATE_IN_COMPLETED_IRP (P1 IRP, P2 the routine); a routine that returns still
 * holding the cancel spin lock is 0x11B DRIVER_RETURNED_HOLDING_CANCEL_LOCK (P1 IRP, P2
 * the routine).
 */
export function IoCancelIrp(Irp: IRP): boolean {
  const k = KE();
  k.chargePs(k.cost.IoCancelIrp);
  Irp.CancelIrql = IoAcquireCancelSpinLock();
  Irp.Cancel = true;
  const routine = IoSetCancelRoutine(Irp, null);
  if (!routine) {
    IoReleaseCancelSpinLock(Irp.CancelIrql);
    return false;
  }
  const owner = Irp.cancelOwner;
  const name = routine.name || "CancelRoutine";
  const address = MM(k).codeAddress(owner, name);
  if (Irp.completed) k.bugCheck(CANCEL_STATE_IN_COMPLETED_IRP, Irp.address, address, 0, 0);
  const device = (Irp.CurrentLocation <= Irp.StackCount ? IoGetCurrentIrpStackLocation(Irp).DeviceObject : null) as DEVICE_OBJECT;
  k.invoke(owner, name, () => routine(device, Irp));
  if (IO(k).cancelSpinLock.owner === k.cpu.Number) {
    k.invoke(owner, name, () => k.bugCheck(DRIVER_RETURNED_HOLDING_CANCEL_LOCK, Irp.address, address, 0, 0));
  }
  return true;
}
