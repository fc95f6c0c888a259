/**
 * Cancel-safe IRP queues: IO_CSQ and IO_CSQ_IRP_CONTEXT, IoCsqInitialize,
 * IoCsqInitializeEx, IoCsqInsertIrp, IoCsqInsertIrpEx, IoCsqRemoveIrp and
 * IoCsqRemoveNextIrp.
 *
 * The driver keeps the queue and its lock; the system calls the driver's routines
 * (CsqInsertIrp or CsqInsertIrpEx, CsqRemoveIrp, CsqPeekNextIrp, CsqAcquireLock,
 * CsqReleaseLock, CsqCompleteCanceledIrp) and owns the cancel logic: a queued IRP carries
 * the queue's own cancel routine, and the IoCsq routines use IRP DriverContext[3] to find
 * the queue (or the IO_CSQ_IRP_CONTEXT) again.
 *
 * Every removal takes the IRP out of its cancelable state first (IoSetCancelRoutine with
 * NULL) under the queue's lock. Whoever clears the cancel routine owns the IRP: a removal
 * that finds it already cleared knows the cancel routine is running, leaves the IRP to it
 * (IoCsqRemoveIrp returns NULL, IoCsqRemoveNextIrp goes on to the next match), and the
 * cancel routine removes it with CsqRemoveIrp and hands it to CsqCompleteCanceledIrp.
 * An IRP that is already cancelled when it is inserted does not stay queued: it is
 * removed again and handed to CsqCompleteCanceledIrp before the insert returns.
 *
 * CsqAcquireLock returns the IRQL to restore (the KIRQL out-parameter of C).
 */
import { KE } from "../ke/kernel.js";
import type { KIRQL } from "../ke/irql.js";
import { NT_SUCCESS, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import { IoMarkIrpPending, type IRP } from "./irp.js";
import { IoReleaseCancelSpinLock, IoSetCancelRoutine } from "./cancel.js";
import type { DEVICE_OBJECT } from "./objects.js";

/** IO_CSQ_IRP_CONTEXT.Type. */
export const IO_TYPE_CSQ_IRP_CONTEXT = 1;
/** IO_CSQ.Type of a queue from IoCsqInitialize. */
export const IO_TYPE_CSQ = 2;
/** IO_CSQ.Type of a queue from IoCsqInitializeEx. */
export const IO_TYPE_CSQ_EX = 3;

/** CsqInsertIrp(Csq, Irp): inserts the IRP into the driver's queue. */
export type PIO_CSQ_INSERT_IRP = (Csq: IO_CSQ, Irp: IRP) => void;
/** CsqInsertIrpEx(Csq, Irp, InsertContext): inserts, or returns an error status to refuse the IRP. */
export type PIO_CSQ_INSERT_IRP_EX = (Csq: IO_CSQ, Irp: IRP, InsertContext: unknown) => NTSTATUS;
/** CsqRemoveIrp(Csq, Irp): removes the IRP from the driver's queue. */
export type PIO_CSQ_REMOVE_IRP = (Csq: IO_CSQ, Irp: IRP) => void;
/** CsqPeekNextIrp(Csq, Irp, PeekContext): the next IRP after `Irp` (the first for NULL) that matches `PeekContext`, or NULL. */
export type PIO_CSQ_PEEK_NEXT_IRP = (Csq: IO_CSQ, Irp: IRP | null, PeekContext: unknown) => IRP | null;
/** CsqAcquireLock(Csq): takes the queue's lock; returns the IRQL CsqReleaseLock restores. */
export type PIO_CSQ_ACQUIRE_LOCK = (Csq: IO_CSQ) => KIRQL;
/** CsqReleaseLock(Csq, Irql): releases the queue's lock. */
export type PIO_CSQ_RELEASE_LOCK = (Csq: IO_CSQ, Irql: KIRQL) => void;
/** CsqCompleteCanceledIrp(Csq, Irp): completes an IRP that was cancelled (already removed from the queue). */
export type PIO_CSQ_COMPLETE_CANCELED_IRP = (Csq: IO_CSQ, Irp: IRP) => void;

/** IO_CSQ: a cancel-safe queue's dispatch table (drivers embed it in their device extension, or extend this class). */
export class IO_CSQ {
  Type = 0;
  CsqInsertIrp: PIO_CSQ_INSERT_IRP | PIO_CSQ_INSERT_IRP_EX | null = null;
  CsqRemoveIrp: PIO_CSQ_REMOVE_IRP | null = null;
  CsqPeekNextIrp: PIO_CSQ_PEEK_NEXT_IRP | null = null;
  CsqAcquireLock: PIO_CSQ_ACQUIRE_LOCK | null = null;
  CsqReleaseLock: PIO_CSQ_RELEASE_LOCK | null = null;
  CsqCompleteCanceledIrp: PIO_CSQ_COMPLETE_CANCELED_IRP | null = null;
  ReservePointer: unknown = null;
  /** Driver that initialised the queue (its routines run attributed to it). */
  owner = "nt";
}

/** IO_CSQ_IRP_CONTEXT: ties one queued IRP to the driver, for IoCsqRemoveIrp. */
export class IO_CSQ_IRP_CONTEXT {
  Type = 0;
  /** The queued IRP; NULL once it has left the queue. */
  Irp: IRP | null = null;
  Csq: IO_CSQ | null = null;
}

/** Index of the IRP driver context slot the IoCsq routines use. */
const CSQ_DRIVER_CONTEXT = 3;

function initialize(Csq: IO_CSQ, Type: number, CsqInsertIrp: PIO_CSQ_INSERT_IRP | PIO_CSQ_INSERT_IRP_EX, CsqRemoveIrp: PIO_CSQ_REMOVE_IRP, CsqPeekNextIrp: PIO_CSQ_PEEK_NEXT_IRP, CsqAcquireLock: PIO_CSQ_ACQUIRE_LOCK, CsqReleaseLock: PIO_CSQ_RELEASE_LOCK, CsqCompleteCanceledIrp: PIO_CSQ_COMPLETE_CANCELED_IRP): NTSTATUS {
  Csq.Type = Type;
  Csq.CsqInsertIrp = CsqInsertIrp;
  Csq.CsqRemoveIrp = CsqRemoveIrp;
  Csq.CsqPeekNextIrp = CsqPeekNextIrp;
  Csq.CsqAcquireLock = CsqAcquireLock;
  Csq.CsqReleaseLock = CsqReleaseLock;
  Csq.CsqCompleteCanceledIrp = CsqCompleteCanceledIrp;
  Csq.ReservePointer = null;
  Csq.owner = KE().attribution().driver;
  return STATUS_SUCCESS;
}

/** IoCsqInitialize: fills the queue's dispatch table with the driver's routines; STATUS_SUCCESS. */
export function IoCsqInitialize(Csq: IO_CSQ, CsqInsertIrp: PIO_CSQ_INSERT_IRP, CsqRemoveIrp: PIO_CSQ_REMOVE_IRP, CsqPeekNextIrp: PIO_CSQ_PEEK_NEXT_IRP, CsqAcquireLock: PIO_CSQ_ACQUIRE_LOCK, CsqReleaseLock: PIO_CSQ_RELEASE_LOCK, CsqCompleteCanceledIrp: PIO_CSQ_COMPLETE_CANCELED_IRP): NTSTATUS {
  return initialize(Csq, IO_TYPE_CSQ, CsqInsertIrp, CsqRemoveIrp, CsqPeekNextIrp, CsqAcquireLock, CsqReleaseLock, CsqCompleteCanceledIrp);
}

/** IoCsqInitializeEx: as IoCsqInitialize, with a CsqInsertIrpEx routine that may refuse an IRP; STATUS_SUCCESS. */
export function IoCsqInitializeEx(Csq: IO_CSQ, CsqInsertIrp: PIO_CSQ_INSERT_IRP_EX, CsqRemoveIrp: PIO_CSQ_REMOVE_IRP, CsqPeekNextIrp: PIO_CSQ_PEEK_NEXT_IRP, CsqAcquireLock: PIO_CSQ_ACQUIRE_LOCK, CsqReleaseLock: PIO_CSQ_RELEASE_LOCK, CsqCompleteCanceledIrp: PIO_CSQ_COMPLETE_CANCELED_IRP): NTSTATUS {
  return initialize(Csq, IO_TYPE_CSQ_EX, CsqInsertIrp, CsqRemoveIrp, CsqPeekNextIrp, CsqAcquireLock, CsqReleaseLock, CsqCompleteCanceledIrp);
}

/** Calls one of the driver's queue routines, attributed to the driver. */
function call<T>(Csq: IO_CSQ, routine: ((...args: never[]) => unknown) | null, fallback: string, fn: () => T): T {
  if (!routine) throw new TypeError(`the cancel-safe queue has no ${fallback} routine (IoCsqInitialize was not called)`);
  return KE().invoke(Csq.owner, routine.name || fallback, fn);
}

function acquire(Csq: IO_CSQ): KIRQL {
  return call(Csq, Csq.CsqAcquireLock, "CsqAcquireLock", () => Csq.CsqAcquireLock!(Csq));
}

function release(Csq: IO_CSQ, Irql: KIRQL): void {
  call(Csq, Csq.CsqReleaseLock, "CsqReleaseLock", () => Csq.CsqReleaseLock!(Csq, Irql));
}

function removeFromQueue(Csq: IO_CSQ, Irp: IRP): void {
  call(Csq, Csq.CsqRemoveIrp, "CsqRemoveIrp", () => Csq.CsqRemoveIrp!(Csq, Irp));
  // The IRP has left the queue: its context no longer refers to it.
  const context = Irp.Tail.Overlay.DriverContext[CSQ_DRIVER_CONTEXT];
  if (context instanceof IO_CSQ_IRP_CONTEXT) context.Irp = null;
  Irp.Tail.Overlay.DriverContext[CSQ_DRIVER_CONTEXT] = null;
}

function completeCanceled(Csq: IO_CSQ, Irp: IRP): void {
  call(Csq, Csq.CsqCompleteCanceledIrp, "CsqCompleteCanceledIrp", () => Csq.CsqCompleteCanceledIrp!(Csq, Irp));
}

/**
 * The queue's cancel routine (IoCancelIrp calls it holding the cancel spin lock): releases
 * the cancel spin lock, takes the queue's lock, removes the IRP (CsqRemoveIrp), releases
 * the lock and hands the IRP to CsqCompleteCanceledIrp.
 */
function IopCsqCancelRoutine(_DeviceObject: DEVICE_OBJECT, Irp: IRP): void {
  IoReleaseCancelSpinLock(Irp.CancelIrql);
  const context = Irp.Tail.Overlay.DriverContext[CSQ_DRIVER_CONTEXT];
  const Csq = (context instanceof IO_CSQ_IRP_CONTEXT ? context.Csq : context) as IO_CSQ;
  const irql = acquire(Csq);
  removeFromQueue(Csq, Irp);
  release(Csq, irql);
  completeCanceled(Csq, Irp);
}

/**
 * IoCsqInsertIrpEx: under the queue's lock, calls CsqInsertIrpEx (an IoCsqInitializeEx
 * queue; its status is returned, and an error status leaves the IRP unqueued, not pending
 * and not cancelable) or CsqInsertIrp (STATUS_SUCCESS); ties `Context` (optional) to the
 * IRP, marks the IRP pending and makes it cancelable with the queue's cancel routine. An
 * IRP that was already cancelled is removed again and handed to CsqCompleteCanceledIrp.
 * IRQL <= DISPATCH_LEVEL.
 */
export function IoCsqInsertIrpEx(Csq: IO_CSQ, Irp: IRP, Context: IO_CSQ_IRP_CONTEXT | null, InsertContext: unknown): NTSTATUS {
  const k = KE();
  k.chargePs(k.cost.IoCsqInsertIrp);
  const irql = acquire(Csq);
  let status: NTSTATUS = STATUS_SUCCESS;
  if (Csq.Type === IO_TYPE_CSQ_EX) {
    const insertEx = Csq.CsqInsertIrp as PIO_CSQ_INSERT_IRP_EX | null;
    status = call(Csq, insertEx, "CsqInsertIrpEx", () => insertEx!(Csq, Irp, InsertContext));
  } else {
    const insert = Csq.CsqInsertIrp as PIO_CSQ_INSERT_IRP | null;
    call(Csq, insert, "CsqInsertIrp", () => insert!(Csq, Irp));
  }
  if (!NT_SUCCESS(status)) {
    release(Csq, irql);
    return status;
  }
  if (Context) {
    Context.Type = IO_TYPE_CSQ_IRP_CONTEXT;
    Context.Irp = Irp;
    Context.Csq = Csq;
  }
  Irp.Tail.Overlay.DriverContext[CSQ_DRIVER_CONTEXT] = Context ?? Csq;
  IoMarkIrpPending(Irp);
  IoSetCancelRoutine(Irp, IopCsqCancelRoutine);
  Irp.cancelOwner = "nt";
  // Cancelled before it became cancelable: nobody else will call the cancel routine.
  if (Irp.Cancel && IoSetCancelRoutine(Irp, null) !== null) {
    removeFromQueue(Csq, Irp);
    release(Csq, irql);
    completeCanceled(Csq, Irp);
    return status;
  }
  release(Csq, irql);
  return status;
}

/** IoCsqInsertIrp: IoCsqInsertIrpEx without an insert context (and without a status). */
export function IoCsqInsertIrp(Csq: IO_CSQ, Irp: IRP, Context: IO_CSQ_IRP_CONTEXT | null): void {
  IoCsqInsertIrpEx(Csq, Irp, Context, null);
}

/**
 * IoCsqRemoveIrp: under the queue's lock, removes the IRP `Context` ties to the driver
 * (CsqRemoveIrp) and returns it, no longer cancelable; NULL if it has left the queue or
 * is being cancelled (its cancel routine completes it). IRQL <= DISPATCH_LEVEL.
 */
export function IoCsqRemoveIrp(Csq: IO_CSQ, Context: IO_CSQ_IRP_CONTEXT): IRP | null {
  const k = KE();
  k.chargePs(k.cost.IoCsqRemoveIrp);
  const irql = acquire(Csq);
  let irp = Context.Irp;
  if (irp !== null) {
    if (IoSetCancelRoutine(irp, null) !== null) removeFromQueue(Csq, irp);
    else irp = null;
  }
  release(Csq, irql);
  return irp;
}

/**
 * IoCsqRemoveNextIrp: under the queue's lock, finds the next IRP matching `PeekContext`
 * with CsqPeekNextIrp, skipping IRPs that are being cancelled, removes it (CsqRemoveIrp)
 * and returns it, no longer cancelable; NULL if there is none. IRQL <= DISPATCH_LEVEL.
 */
export function IoCsqRemoveNextIrp(Csq: IO_CSQ, PeekContext: unknown): IRP | null {
  const k = KE();
  k.chargePs(k.cost.IoCsqRemoveIrp);
  const irql = acquire(Csq);
  const peek = (after: IRP | null): IRP | null => call(Csq, Csq.CsqPeekNextIrp, "CsqPeekNextIrp", () => Csq.CsqPeekNextIrp!(Csq, after, PeekContext));
  let irp = peek(null);
  while (irp !== null) {
    if (IoSetCancelRoutine(irp, null) !== null) {
      removeFromQueue(Csq, irp);
      break;
    }
    irp = peek(irp);
  }
  release(Csq, irql);
  return irp;
}
