/**
 * Transactions of the kernel transaction manager: ZwCreateTransaction, ZwCommitTransaction
 * and ZwRollbackTransaction. A transaction (KTRANSACTION, an object of
 * TmTransactionObjectType) groups work whose outcome is all or nothing: the components
 * that took part (the configuration manager for transacted registry keys) apply their
 * changes on commit and discard them on rollback, and then every enlistment that asked
 * for it is sent TRANSACTION_NOTIFY_COMMIT or TRANSACTION_NOTIFY_ROLLBACK through its
 * resource manager's callback. With Wait TRUE the routine returns once each of those
 * enlistments has completed its notification (TmCommitComplete / TmRollbackComplete).
 * A transaction whose last handle closes while it is still active is rolled back. All
 * routines run at PASSIVE_LEVEL (verifier: 0xC4 / 0x2001F).
 */
import { KeClearEvent, KeInitializeEvent, KeReadStateEvent, KeSetEvent, KeWaitForSingleObject, KEVENT, EVENT_TYPE, KPROCESSOR_MODE, KWAIT_REASON } from "../ke/dispatcher.js";
import { DRIVER_VERIFIER_DETECTED_VIOLATION } from "../ke/bugcheck.js";
import { PASSIVE_LEVEL } from "../ke/irql.js";
import { KE, type Kernel } from "../ke/kernel.js";
import {
  NT_SUCCESS, STATUS_INVALID_PARAMETER, STATUS_PENDING, STATUS_SUCCESS, STATUS_TRANSACTION_ALREADY_ABORTED, STATUS_TRANSACTION_ALREADY_COMMITTED,
  type NTSTATUS,
} from "../ke/ntstatus.js";
import type { ACCESS_MASK } from "../ob/access.js";
import type { OBJECT_ATTRIBUTES } from "../ob/attributes.js";
import type { HANDLE } from "../ob/handle-table.js";
import { createHandle, DDI_RULE_IRQL_ZW_PASSIVE, grantedAccess, ObReferenceObjectByHandle } from "../ob/handles.js";
import { OB } from "../ob/manager.js";
import { dereference } from "../ob/reference.js";
import { TRANSACTION_NOTIFY_COMMIT, TRANSACTION_NOTIFY_ROLLBACK, TM_VIRTUAL_CLOCK } from "./notification.js";
import { TRANSACTION_COMMIT, TRANSACTION_ROLLBACK, TmTransactionObjectType } from "./object-types.js";

/** KTRANSACTION_STATE. */
export enum KTRANSACTION_STATE {
  KTransactionUninitialized = 0,
  KTransactionActive = 1,
  KTransactionPreparing = 2,
  KTransactionPrepared = 3,
  KTransactionInDoubt = 4,
  KTransactionCommitted = 5,
  KTransactionAborted = 6,
  KTransactionDelegated = 7,
  KTransactionPrePreparing = 8,
  KTransactionForgotten = 9,
  KTransactionRecovering = 10,
  KTransactionPrePrepared = 11,
}

/** A component whose work is part of transactions (the configuration manager): told the outcome before the enlistments are. */
export interface TransactionParticipant {
  /** Makes the transaction's changes permanent. */
  commit(transaction: KTRANSACTION): void;
  /** Discards the transaction's changes. */
  rollback(transaction: KTRANSACTION): void;
}

/** An enlistment as the transaction sees it (src/tm/enlistment.ts). */
export interface TransactionEnlistment {
  /** TRANSACTION_NOTIFY_XXX the enlistment asked for. */
  readonly NotificationMask: number;
  /** Notifications sent and not yet completed. */
  outstanding: number;
  /** Sends `notification` to the enlistment's resource manager (the enlistment records it outstanding first). */
  notify(notification: number, clock: TM_VIRTUAL_CLOCK): void;
}

/** Bytes of a transaction object's body (KTRANSACTION on x64), for its address. */
const KTRANSACTION_BYTES = 0x2D8;

/** KTRANSACTION: a transaction. */
export class KTRANSACTION {
  State = KTRANSACTION_STATE.KTransactionActive;
  /** The components with work in the transaction. */
  readonly participants: TransactionParticipant[] = [];
  /** The enlistments, in the order they were made. */
  readonly enlistments: TransactionEnlistment[] = [];
  /** Set when every outstanding notification has been completed. */
  readonly completed = new KEVENT();
  /** The transaction manager's virtual clock at the last notification (100 ns units). */
  readonly clock = new TM_VIRTUAL_CLOCK();

  constructor(
    /** The unit of work GUID ("{...}"), or null. */
    readonly Uow: string | null,
    /** A description, or "". */
    readonly Description: string,
  ) {
    KeInitializeEvent(this.completed, EVENT_TYPE.NotificationEvent, true);
  }

  /** True while the transaction has neither committed nor rolled back. */
  get active(): boolean {
    return this.State === KTRANSACTION_STATE.KTransactionActive;
  }

  /** Adds a component to tell the outcome (once). */
  join(participant: TransactionParticipant): void {
    if (!this.participants.includes(participant)) this.participants.push(participant);
  }

  /** An enlistment completed `notification`: when none is outstanding any more, the waiters go. */
  complete(enlistment: TransactionEnlistment, notification: number): void {
    enlistment.outstanding &= ~notification;
    if (this.enlistments.every((e) => e.outstanding === 0)) KeSetEvent(this.completed, 0, false);
  }

  /** Ends the transaction with `outcome` (commit or rollback): participants, then the enlistments that asked. */
  finish(outcome: number): void {
    this.State = outcome === TRANSACTION_NOTIFY_COMMIT ? KTRANSACTION_STATE.KTransactionCommitted : KTRANSACTION_STATE.KTransactionAborted;
    for (const p of this.participants) {
      if (outcome === TRANSACTION_NOTIFY_COMMIT) p.commit(this);
      else p.rollback(this);
    }
    this.clock.QuadPart += 1;
    const notified = this.enlistments.filter((e) => (e.NotificationMask & outcome) !== 0);
    if (notified.length > 0) KeClearEvent(this.completed);
    for (const e of notified) e.outstanding |= outcome;
    for (const e of notified) e.notify(outcome, this.clock);
  }
}

function zwEntry(k: Kernel): void {
  if (k.verifier && k.cpu.irql !== PASSIVE_LEVEL) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_ZW_PASSIVE, k.cpu.irql, 0, 0);
}

/** The transaction's last handle closed: an active transaction is rolled back. */
TmTransactionObjectType.TypeInfo.CloseProcedure = (Object: object, HandleCount: number): void => {
  const transaction = Object as KTRANSACTION;
  if (HandleCount === 0 && transaction.active) transaction.finish(TRANSACTION_NOTIFY_ROLLBACK);
};

/**
 * ZwCreateTransaction(DesiredAccess, ObjectAttributes, Uow, TmHandle, CreateOptions,
 * IsolationLevel, IsolationFlags, Timeout, Description): a new active transaction.
 * Returns the status and the TransactionHandle (OBJ_KERNEL_HANDLE in the attributes makes
 * it a kernel handle). CreateOptions other than 0 or TRANSACTION_DO_NOT_PROMOTE (1) are
 * STATUS_INVALID_PARAMETER.
 */
export function ZwCreateTransaction(
  DesiredAccess: ACCESS_MASK, ObjectAttributes: OBJECT_ATTRIBUTES | null, Uow: string | null, _TmHandle: HANDLE | null, CreateOptions: number,
  _IsolationLevel: number, _IsolationFlags: number, _Timeout: number | null, Description: string | null,
): { status: NTSTATUS; TransactionHandle: HANDLE } {
  const k = KE();
  zwEntry(k);
  if ((CreateOptions & ~TRANSACTION_DO_NOT_PROMOTE) !== 0) return { status: STATUS_INVALID_PARAMETER, TransactionHandle: 0 };
  const transaction = new KTRANSACTION(Uow, Description ?? "");
  const h = OB(k).create(TmTransactionObjectType, transaction, KTRANSACTION_BYTES);
  const TransactionHandle = createHandle(k, h, grantedAccess(TmTransactionObjectType, DesiredAccess), ObjectAttributes?.Attributes ?? 0, KPROCESSOR_MODE.KernelMode);
  void dereference(k, h);
  return { status: STATUS_SUCCESS, TransactionHandle };
}

/** ZwCreateTransaction CreateOptions: the transaction may not be promoted to a distributed one. */
export const TRANSACTION_DO_NOT_PROMOTE = 0x00000001;

/** The transaction a handle names with `access`, or the status why not. */
function transactionOf(TransactionHandle: HANDLE, access: ACCESS_MASK): { status: NTSTATUS; transaction: KTRANSACTION | null } {
  const k = KE();
  const r = ObReferenceObjectByHandle<KTRANSACTION>(TransactionHandle, access, TmTransactionObjectType, KPROCESSOR_MODE.KernelMode);
  if (!NT_SUCCESS(r.status) || !r.Object) return { status: r.status, transaction: null };
  void dereference(k, OB(k).headerOf(r.Object)!);
  return { status: STATUS_SUCCESS, transaction: r.Object };
}

/** Commit or rollback through a handle; waits for the enlistments when `Wait`. */
async function end(TransactionHandle: HANDLE, Wait: boolean, outcome: number): Promise<NTSTATUS> {
  const k = KE();
  zwEntry(k);
  const { status, transaction } = transactionOf(TransactionHandle, outcome === TRANSACTION_NOTIFY_COMMIT ? TRANSACTION_COMMIT : TRANSACTION_ROLLBACK);
  if (!transaction) return status;
  if (transaction.State === KTRANSACTION_STATE.KTransactionCommitted) return STATUS_TRANSACTION_ALREADY_COMMITTED;
  if (transaction.State === KTRANSACTION_STATE.KTransactionAborted) return STATUS_TRANSACTION_ALREADY_ABORTED;
  transaction.finish(outcome);
  if (KeReadStateEvent(transaction.completed) !== 0) return STATUS_SUCCESS;
  if (!Wait) return STATUS_PENDING;
  await KeWaitForSingleObject(transaction.completed, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false);
  return STATUS_SUCCESS;
}

/**
 * ZwCommitTransaction(TransactionHandle, Wait): commits the transaction. STATUS_SUCCESS;
 * STATUS_PENDING when Wait is FALSE and an enlistment has not yet completed its commit
 * notification; STATUS_TRANSACTION_ALREADY_COMMITTED / STATUS_TRANSACTION_ALREADY_ABORTED
 * for a transaction that has ended; the handle's errors (STATUS_INVALID_HANDLE,
 * STATUS_OBJECT_TYPE_MISMATCH).
 */
export function ZwCommitTransaction(TransactionHandle: HANDLE, Wait: boolean): Promise<NTSTATUS> {
  return end(TransactionHandle, Wait, TRANSACTION_NOTIFY_COMMIT);
}

/** ZwRollbackTransaction(TransactionHandle, Wait): rolls the transaction back; statuses as ZwCommitTransaction's. */
export function ZwRollbackTransaction(TransactionHandle: HANDLE, Wait: boolean): Promise<NTSTATUS> {
  return end(TransactionHandle, Wait, TRANSACTION_NOTIFY_ROLLBACK);
}
