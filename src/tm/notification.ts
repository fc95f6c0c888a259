/**
 * TRANSACTION_NOTIFY_XXX (ktmtypes.h): the notifications the kernel transaction manager
 * sends a resource manager's callback for an enlistment (a bit mask; an enlistment names
 * the ones it wants in its NotificationMask), and the callback's type.
 */
import type { NTSTATUS } from "../ke/ntstatus.js";

export const TRANSACTION_NOTIFY_PREPREPARE = 0x00000001;
export const TRANSACTION_NOTIFY_PREPARE = 0x00000002;
export const TRANSACTION_NOTIFY_COMMIT = 0x00000004;
export const TRANSACTION_NOTIFY_ROLLBACK = 0x00000008;
export const TRANSACTION_NOTIFY_PREPREPARE_COMPLETE = 0x00000010;
export const TRANSACTION_NOTIFY_PREPARE_COMPLETE = 0x00000020;
export const TRANSACTION_NOTIFY_COMMIT_COMPLETE = 0x00000040;
export const TRANSACTION_NOTIFY_ROLLBACK_COMPLETE = 0x00000080;
export const TRANSACTION_NOTIFY_RECOVER = 0x00000100;
export const TRANSACTION_NOTIFY_SINGLE_PHASE_COMMIT = 0x00000200;
export const TRANSACTION_NOTIFY_DELEGATE_COMMIT = 0x00000400;
export const TRANSACTION_NOTIFY_RECOVER_QUERY = 0x00000800;
export const TRANSACTION_NOTIFY_ENLIST_PREPREPARE = 0x00001000;
export const TRANSACTION_NOTIFY_LAST_RECOVER = 0x00002000;
export const TRANSACTION_NOTIFY_INDOUBT = 0x00004000;
/** Every notification an enlistment may ask for. */
export const TRANSACTION_NOTIFY_MASK = 0x3FFFFFFF;

/** A LARGE_INTEGER passed by pointer (the TMVirtualClock a notification carries), in 100 ns units. */
export class TM_VIRTUAL_CLOCK {
  QuadPart = 0;
}

/**
 * TM_RM_NOTIFICATION (PTM_RM_NOTIFICATION): a resource manager's callback. EnlistmentObject
 * is the enlistment (KENLISTMENT), RMContext the RMKey of TmEnableCallbacks,
 * TransactionContext the EnlistmentKey of ZwCreateEnlistment. Returns STATUS_SUCCESS; it
 * completes the notification now or later with TmCommitComplete / TmRollbackComplete.
 */
export type TM_RM_NOTIFICATION = (
  EnlistmentObject: object, RMContext: unknown, TransactionContext: unknown, TransactionNotification: number,
  TmVirtualClock: TM_VIRTUAL_CLOCK, ArgumentLength: number, Argument: unknown,
) => NTSTATUS;
