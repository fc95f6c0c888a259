/**
 * The transacted registry routines: ZwCreateKeyTransacted, ZwOpenKeyTransacted and
 * ZwOpenKeyTransactedEx open or create a key in a transaction (an object of
 * TmTransactionObjectType). The key object is bound to the transaction: what is done
 * through it, and through keys opened relative to it, is isolated in the transaction until
 * it commits and discarded if it rolls back (src/cm/transacted-keys.ts). PASSIVE_LEVEL.
 */
import { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import { KE } from "../ke/kernel.js";
import { NT_SUCCESS, STATUS_TRANSACTION_NOT_ACTIVE, type NTSTATUS } from "../ke/ntstatus.js";
import type { ACCESS_MASK } from "../ob/access.js";
import type { OBJECT_ATTRIBUTES } from "../ob/attributes.js";
import type { HANDLE } from "../ob/handle-table.js";
import { ObReferenceObjectByHandle } from "../ob/handles.js";
import { OB } from "../ob/manager.js";
import { dereference } from "../ob/reference.js";
import type { UNICODE_STRING } from "../rtl/unicode-string.js";
import { TmTransactionObjectType } from "../tm/object-types.js";
import type { KTRANSACTION } from "../tm/transaction.js";
import { createKeyIn, openKeyIn } from "./zw.js";

/** The active transaction a handle names, or the status why not. */
function transactionOf(TransactionHandle: HANDLE): { status: NTSTATUS; transaction: KTRANSACTION | null } {
  const k = KE();
  const r = ObReferenceObjectByHandle<KTRANSACTION>(TransactionHandle, 0, TmTransactionObjectType, KPROCESSOR_MODE.KernelMode);
  if (!NT_SUCCESS(r.status) || !r.Object) return { status: r.status, transaction: null };
  void dereference(k, OB(k).headerOf(r.Object)!);
  return r.Object.active ? { status: r.status, transaction: r.Object } : { status: STATUS_TRANSACTION_NOT_ACTIVE, transaction: null };
}

/**
 * ZwCreateKeyTransacted(DesiredAccess, ObjectAttributes, TitleIndex, Class, CreateOptions,
 * TransactionHandle): ZwCreateKey in the transaction. Returns the status, the KeyHandle
 * and the Disposition. STATUS_TRANSACTION_NOT_ACTIVE for a transaction that has ended;
 * the transaction handle's errors (STATUS_INVALID_HANDLE, STATUS_OBJECT_TYPE_MISMATCH).
 */
export function ZwCreateKeyTransacted(DesiredAccess: ACCESS_MASK, ObjectAttributes: OBJECT_ATTRIBUTES, TitleIndex: number, Class: UNICODE_STRING | string | null, CreateOptions: number, TransactionHandle: HANDLE): { status: NTSTATUS; KeyHandle: HANDLE; Disposition: number } {
  const { status, transaction } = transactionOf(TransactionHandle);
  if (!transaction) return { status, KeyHandle: 0, Disposition: 0 };
  return createKeyIn(DesiredAccess, ObjectAttributes, TitleIndex, Class, CreateOptions, transaction);
}

/** ZwOpenKeyTransactedEx(DesiredAccess, ObjectAttributes, OpenOptions, TransactionHandle): ZwOpenKeyEx in the transaction (statuses as ZwCreateKeyTransacted's). */
export function ZwOpenKeyTransactedEx(DesiredAccess: ACCESS_MASK, ObjectAttributes: OBJECT_ATTRIBUTES, OpenOptions: number, TransactionHandle: HANDLE): { status: NTSTATUS; KeyHandle: HANDLE } {
  const { status, transaction } = transactionOf(TransactionHandle);
  if (!transaction) return { status, KeyHandle: 0 };
  return openKeyIn(DesiredAccess, ObjectAttributes, OpenOptions, transaction);
}

/** ZwOpenKeyTransacted(DesiredAccess, ObjectAttributes, TransactionHandle): ZwOpenKey in the transaction. */
export function ZwOpenKeyTransacted(DesiredAccess: ACCESS_MASK, ObjectAttributes: OBJECT_ATTRIBUTES, TransactionHandle: HANDLE): { status: NTSTATUS; KeyHandle: HANDLE } {
  return ZwOpenKeyTransactedEx(DesiredAccess, ObjectAttributes, 0, TransactionHandle);
}
