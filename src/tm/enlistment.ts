/**
 * Enlistments: ZwCreateEnlistment enlists a resource manager in a transaction, asking for
 * the TRANSACTION_NOTIFY_XXX notifications in its NotificationMask; the transaction
 * manager then calls the resource manager's callback (TmEnableCallbacks) with the
 * enlistment object, and the resource manager completes each notification with
 * TmCommitComplete or TmRollbackComplete. Closing an enlistment's last handle while its
 * transaction is active rolls the transaction back.
 */
import { DRIVER_VERIFIER_DETECTED_VIOLATION } from "../ke/bugcheck.js";
import { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import { PASSIVE_LEVEL } from "../ke/irql.js";
import { KE, type Kernel } from "../ke/kernel.js";
import {
  NT_SUCCESS, STATUS_INVALID_PARAMETER, STATUS_SUCCESS, STATUS_TRANSACTION_NOT_ACTIVE, STATUS_TRANSACTION_REQUEST_NOT_VALID, type NTSTATUS,
} from "../ke/ntstatus.js";
import type { ACCESS_MASK } from "../ob/access.js";
import type { OBJECT_ATTRIBUTES } from "../ob/attributes.js";
import type { HANDLE } from "../ob/handle-table.js";
import { DDI_RULE_IRQL_ZW_PASSIVE, ObReferenceObjectByHandle } from "../ob/handles.js";
import { OB } from "../ob/manager.js";
import { dereference } from "../ob/reference.js";
import { TRANSACTION_NOTIFY_COMMIT, TRANSACTION_NOTIFY_MASK, TRANSACTION_NOTIFY_ROLLBACK, type TM_VIRTUAL_CLOCK } from "./notification.js";
import { RESOURCEMANAGER_ENLIST, TmEnlistmentObjectType, TmResourceManagerObjectType, TmTransactionObjectType, TRANSACTION_ENLIST } from "./object-types.js";
import { KRESOURCEMANAGER, openNew } from "./resource-manager.js";
import type { KTRANSACTION, TransactionEnlistment } from "./transaction.js";

/** Bytes of an enlistment's body (KENLISTMENT on x64), for its address. */
const KENLISTMENT_BYTES = 0x1E0;

/** KENLISTMENT: a resource manager's enlistment in a transaction. */
export class KENLISTMENT implements TransactionEnlistment {
  outstanding = 0;
  constructor(
    readonly ResourceManager: KRESOURCEMANAGER,
    readonly Transaction: KTRANSACTION,
    readonly NotificationMask: number,
    /** The EnlistmentKey (the callback's TransactionContext). */
    readonly Key: unknown,
  ) {}

  /** Calls the resource manager's callback with `notification`, attributed to its driver. */
  notify(notification: number, clock: TM_VIRTUAL_CLOCK): void {
    const rm = this.ResourceManager;
    const routine = rm.NotificationRoutine;
    if (!routine) return;
    KE().invoke(rm.driver, routine.name || "ResourceManagerNotification", () => routine(this, rm.Key, this.Key, notification, clock, 0, null));
  }
}

/** An enlistment's last handle closed: an active transaction is rolled back. */
TmEnlistmentObjectType.TypeInfo.CloseProcedure = (Object: object, HandleCount: number): void => {
  const enlistment = Object as KENLISTMENT;
  if (HandleCount === 0 && enlistment.Transaction.active) enlistment.Transaction.finish(TRANSACTION_NOTIFY_ROLLBACK);
};

function zwEntry(k: Kernel): void {
  if (k.verifier && k.cpu.irql !== PASSIVE_LEVEL) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_ZW_PASSIVE, k.cpu.irql, 0, 0);
}

/** The object a handle names (type checked, with `access`), or the status why not. */
function objectOf<T>(k: Kernel, Handle: HANDLE, access: ACCESS_MASK, type: typeof TmTransactionObjectType): { status: NTSTATUS; object: T | null } {
  const r = ObReferenceObjectByHandle<T>(Handle, access, type, KPROCESSOR_MODE.KernelMode);
  if (!NT_SUCCESS(r.status) || !r.Object) return { status: r.status, object: null };
  void dereference(k, OB(k).headerOf(r.Object as object)!);
  return { status: STATUS_SUCCESS, object: r.Object };
}

/**
 * ZwCreateEnlistment(DesiredAccess, ResourceManagerHandle, TransactionHandle,
 * ObjectAttributes, CreateOptions, NotificationMask, EnlistmentKey): enlists the resource
 * manager in the transaction. Returns the status and the EnlistmentHandle.
 * STATUS_INVALID_PARAMETER for a NotificationMask outside TRANSACTION_NOTIFY_MASK or
 * CreateOptions other than 0; STATUS_TRANSACTION_NOT_ACTIVE for a transaction that has
 * ended; the handles' errors.
 */
export function ZwCreateEnlistment(DesiredAccess: ACCESS_MASK, ResourceManagerHandle: HANDLE, TransactionHandle: HANDLE, ObjectAttributes: OBJECT_ATTRIBUTES | null, CreateOptions: number, NotificationMask: number, EnlistmentKey: unknown): { status: NTSTATUS; EnlistmentHandle: HANDLE } {
  const k = KE();
  zwEntry(k);
  if (CreateOptions !== 0 || NotificationMask === 0 || (NotificationMask & ~TRANSACTION_NOTIFY_MASK) !== 0) return { status: STATUS_INVALID_PARAMETER, EnlistmentHandle: 0 };
  const rm = objectOf<KRESOURCEMANAGER>(k, ResourceManagerHandle, RESOURCEMANAGER_ENLIST, TmResourceManagerObjectType);
  if (!rm.object) return { status: rm.status, EnlistmentHandle: 0 };
  const tx = objectOf<KTRANSACTION>(k, TransactionHandle, TRANSACTION_ENLIST, TmTransactionObjectType);
  if (!tx.object) return { status: tx.status, EnlistmentHandle: 0 };
  if (!tx.object.active) return { status: STATUS_TRANSACTION_NOT_ACTIVE, EnlistmentHandle: 0 };
  const enlistment = new KENLISTMENT(rm.object, tx.object, NotificationMask, EnlistmentKey);
  tx.object.enlistments.push(enlistment);
  return { status: STATUS_SUCCESS, EnlistmentHandle: openNew(k, TmEnlistmentObjectType, enlistment, KENLISTMENT_BYTES, DesiredAccess, ObjectAttributes) };
}

/** Completes an outstanding notification of an enlistment. */
function completeNotification(EnlistmentObject: object, notification: number): NTSTATUS {
  if (!(EnlistmentObject instanceof KENLISTMENT)) return STATUS_INVALID_PARAMETER;
  if ((EnlistmentObject.outstanding & notification) === 0) return STATUS_TRANSACTION_REQUEST_NOT_VALID;
  EnlistmentObject.Transaction.complete(EnlistmentObject, notification);
  return STATUS_SUCCESS;
}

/**
 * TmCommitComplete(EnlistmentObject, TmVirtualClock): the resource manager has finished
 * its commit. STATUS_TRANSACTION_REQUEST_NOT_VALID when no TRANSACTION_NOTIFY_COMMIT is
 * outstanding for the enlistment. IRQL <= APC_LEVEL.
 */
export function TmCommitComplete(EnlistmentObject: object, _TmVirtualClock: TM_VIRTUAL_CLOCK | null): NTSTATUS {
  return completeNotification(EnlistmentObject, TRANSACTION_NOTIFY_COMMIT);
}

/** TmRollbackComplete(EnlistmentObject, TmVirtualClock): the resource manager has finished its rollback (statuses as TmCommitComplete's). */
export function TmRollbackComplete(EnlistmentObject: object, _TmVirtualClock: TM_VIRTUAL_CLOCK | null): NTSTATUS {
  return completeNotification(EnlistmentObject, TRANSACTION_NOTIFY_ROLLBACK);
}
