/**
 * Transaction managers and resource managers: ZwCreateTransactionManager,
 * ZwCreateResourceManager and TmEnableCallbacks. A resource manager (KRESOURCEMANAGER, an
 * object of TmResourceManagerObjectType) belongs to a transaction manager (KTM); once
 * TmEnableCallbacks gave it a callback, the transaction manager calls it with the
 * notifications of every enlistment made through it (src/tm/enlistment.ts). This machine
 * keeps no log: only volatile managers exist (TRANSACTION_MANAGER_VOLATILE,
 * RESOURCE_MANAGER_VOLATILE). All routines run at PASSIVE_LEVEL (verifier: 0xC4 / 0x2001F).
 */
import { DRIVER_VERIFIER_DETECTED_VIOLATION } from "../ke/bugcheck.js";
import { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import { PASSIVE_LEVEL } from "../ke/irql.js";
import { KE, type Kernel } from "../ke/kernel.js";
import { NT_SUCCESS, STATUS_INVALID_PARAMETER, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import type { ACCESS_MASK } from "../ob/access.js";
import type { OBJECT_ATTRIBUTES } from "../ob/attributes.js";
import type { HANDLE } from "../ob/handle-table.js";
import { createHandle, DDI_RULE_IRQL_ZW_PASSIVE, grantedAccess, ObReferenceObjectByHandle } from "../ob/handles.js";
import { OB } from "../ob/manager.js";
import { dereference } from "../ob/reference.js";
import type { OBJECT_TYPE } from "../ob/object-type.js";
import type { TM_RM_NOTIFICATION } from "./notification.js";
import { TmResourceManagerObjectType, TmTransactionManagerObjectType, TRANSACTIONMANAGER_CREATE_RM } from "./object-types.js";

/** ZwCreateTransactionManager CreateOptions: a transaction manager without a log. */
export const TRANSACTION_MANAGER_VOLATILE = 0x00000001;
/** ZwCreateResourceManager CreateOptions: a resource manager without recovery. */
export const RESOURCE_MANAGER_VOLATILE = 0x00000001;

/** Bytes of the bodies, for their addresses (x64). */
const KTM_BYTES = 0x3C0;
const KRESOURCEMANAGER_BYTES = 0x250;

/** KTM: a transaction manager. */
export class KTM {
  constructor(readonly CreateOptions: number) {}
}

/** KRESOURCEMANAGER: a resource manager. */
export class KRESOURCEMANAGER {
  /** The callback TmEnableCallbacks installed, or null. */
  NotificationRoutine: TM_RM_NOTIFICATION | null = null;
  /** The RMKey TmEnableCallbacks gave (the callback's RMContext). */
  Key: unknown = null;
  /** The driver that enabled the callbacks (for attribution). */
  driver = "nt";

  constructor(
    readonly Tm: KTM,
    /** The resource manager's GUID ("{...}"). */
    readonly RmGuid: string,
    readonly CreateOptions: number,
    readonly Description: string,
  ) {}
}

function zwEntry(k: Kernel): void {
  if (k.verifier && k.cpu.irql !== PASSIVE_LEVEL) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_ZW_PASSIVE, k.cpu.irql, 0, 0);
}

/** Makes an object of `type` for `body` and returns a handle to it (kernel handle with OBJ_KERNEL_HANDLE). */
export function openNew(k: Kernel, type: OBJECT_TYPE, body: object, bytes: number, DesiredAccess: ACCESS_MASK, ObjectAttributes: OBJECT_ATTRIBUTES | null): HANDLE {
  const h = OB(k).create(type, body, bytes);
  const handle = createHandle(k, h, grantedAccess(type, DesiredAccess), ObjectAttributes?.Attributes ?? 0, KPROCESSOR_MODE.KernelMode);
  void dereference(k, h);
  return handle;
}

/**
 * ZwCreateTransactionManager(DesiredAccess, ObjectAttributes, LogFileName, CreateOptions,
 * CommitStrength): a new transaction manager. Only TRANSACTION_MANAGER_VOLATILE with no
 * log file is supported here (anything else: STATUS_INVALID_PARAMETER). Returns the status
 * and the TmHandle.
 */
export function ZwCreateTransactionManager(DesiredAccess: ACCESS_MASK, ObjectAttributes: OBJECT_ATTRIBUTES | null, LogFileName: string | null, CreateOptions: number, _CommitStrength: number): { status: NTSTATUS; TmHandle: HANDLE } {
  const k = KE();
  zwEntry(k);
  if (LogFileName !== null || (CreateOptions & TRANSACTION_MANAGER_VOLATILE) === 0) return { status: STATUS_INVALID_PARAMETER, TmHandle: 0 };
  return { status: STATUS_SUCCESS, TmHandle: openNew(k, TmTransactionManagerObjectType, new KTM(CreateOptions), KTM_BYTES, DesiredAccess, ObjectAttributes) };
}

/**
 * ZwCreateResourceManager(DesiredAccess, TmHandle, RmGuid, ObjectAttributes,
 * CreateOptions, Description): a new resource manager of the transaction manager TmHandle
 * names (which needs TRANSACTIONMANAGER_CREATE_RM access). Only RESOURCE_MANAGER_VOLATILE
 * is supported (anything else: STATUS_INVALID_PARAMETER). Returns the status and the
 * ResourceManagerHandle.
 */
export function ZwCreateResourceManager(DesiredAccess: ACCESS_MASK, TmHandle: HANDLE, RmGuid: string, ObjectAttributes: OBJECT_ATTRIBUTES | null, CreateOptions: number, Description: string | null): { status: NTSTATUS; ResourceManagerHandle: HANDLE } {
  const k = KE();
  zwEntry(k);
  const r = ObReferenceObjectByHandle<KTM>(TmHandle, TRANSACTIONMANAGER_CREATE_RM, TmTransactionManagerObjectType, KPROCESSOR_MODE.KernelMode);
  if (!NT_SUCCESS(r.status) || !r.Object) return { status: r.status, ResourceManagerHandle: 0 };
  void dereference(k, OB(k).headerOf(r.Object)!);
  if ((CreateOptions & RESOURCE_MANAGER_VOLATILE) === 0) return { status: STATUS_INVALID_PARAMETER, ResourceManagerHandle: 0 };
  const rm = new KRESOURCEMANAGER(r.Object, RmGuid, CreateOptions, Description ?? "");
  return { status: STATUS_SUCCESS, ResourceManagerHandle: openNew(k, TmResourceManagerObjectType, rm, KRESOURCEMANAGER_BYTES, DesiredAccess, ObjectAttributes) };
}

/**
 * TmEnableCallbacks(ResourceManager, CallbackRoutine, RMKey): the routine the transaction
 * manager calls with the resource manager's enlistments' notifications (RMKey is its
 * RMContext). STATUS_INVALID_PARAMETER for an object that is not a resource manager.
 * PASSIVE_LEVEL.
 */
export function TmEnableCallbacks(ResourceManager: object, CallbackRoutine: TM_RM_NOTIFICATION, RMKey: unknown): NTSTATUS {
  const k = KE();
  zwEntry(k);
  if (!(ResourceManager instanceof KRESOURCEMANAGER)) return STATUS_INVALID_PARAMETER;
  ResourceManager.NotificationRoutine = CallbackRoutine;
  ResourceManager.Key = RMKey;
  ResourceManager.driver = k.attribution().driver;
  return STATUS_SUCCESS;
}
