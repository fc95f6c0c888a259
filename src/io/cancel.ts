/**
 * IRP cancellation: the cancel spin lock, IoSetCancelRoutine and IoCancelIrp
 * (shared/specs/nt-semantics.md, IRPs: Cancel).
 *
 * IoCancelIrp sets Irp.Cancel, takes the cancel spin lock (the old IRQL goes in
 * Irp.CancelIrql), swaps the cancel routine with null and, if there was one, calls it
 * with the lock still held: the routine must release it with
 * IoReleaseCancelSpinLock(Irp.CancelIrql). Without a routine the lock is released and
 * IoCancelIrp returns FALSE.
 */
import { KE } from "../ke/kernel.js";
import { CANCEL_STATE_IN_COMPLETED_IRP } from "../ke/bugcheck.js";
import { KeAcquireSpinLock, KeReleaseSpinLock } from "../ke/spinlock.js";
import type { KIRQL } from "../ke/irql.js";
import { IoGetCurrentIrpStackLocation, type IRP, type PDRIVER_CANCEL } from "./irp.js";
import { IO } from "./manager.js";

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
 * the cancel spin lock held; TRUE if a routine was called. An IRP whose every location
 * has completed cannot hold a cancel routine: 0x48 CANCEL_STATE_IN_COMPLETED_IRP.
 */
export function IoCancelIrp(Irp: IRP): boolean {
  const k = KE();
  k.charge("IoCancelIrp");
  Irp.CancelIrql = IoAcquireCancelSpinLock();
  Irp.Cancel = true;
  const routine = IoSetCancelRoutine(Irp, null);
  if (!routine) {
    IoReleaseCancelSpinLock(Irp.CancelIrql);
    return false;
  }
  if (Irp.CurrentLocation > Irp.StackCount + 1) k.bugCheck(CANCEL_STATE_IN_COMPLETED_IRP, Irp.address, 0, 0, 0);
  const device = IoGetCurrentIrpStackLocation(Irp).DeviceObject!;
  k.invoke(Irp.cancelOwner, routine.name || "CancelRoutine", () => routine(device, Irp));
  return true;
}
