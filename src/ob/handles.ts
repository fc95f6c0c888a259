/**
 * Handles: creating them, ObReferenceObjectByHandle(WithTag), ObOpenObjectByPointer,
 * ZwClose / NtClose, ZwDuplicateObject and ObIsKernelHandle.
 *
 * Which table a handle is in: OBJ_KERNEL_HANDLE from kernel mode puts it in the kernel
 * handle table (its value has the kernel bit set, see handle-table.ts); otherwise it goes in
 * the table of the process the thread runs in now (for a system thread, the System
 * process, whose table is the kernel table: such a handle works only in the System
 * process). A kernel-bit handle is looked up in the kernel table only for KernelMode; from
 * UserMode it is invalid.
 *
 * The classic bug: a driver takes a handle from a user application and references it with
 * AccessMode KernelMode. In the application's thread the lookup finds the application's
 * object but skips the access check (the caller may do what the application could not);
 * in a system thread (a work item, a thread the driver created) the same number is looked
 * up in the System process's table and finds nothing (STATUS_INVALID_HANDLE) or an
 * unrelated kernel object. Under Driver Verifier a KernelMode reference of a handle that is
 * not a kernel handle, made in a process other than System, is bug check 0xC4 with P1
 * 0xF6 (P2 the handle, P3 the current process, P4 the caller's address).
 */
import { popPreviousMode, pushPreviousMode } from "./previous-mode.js";
import { KE, type Kernel } from "../ke/kernel.js";
import { DRIVER_VERIFIER_DETECTED_VIOLATION, INVALID_KERNEL_HANDLE } from "../ke/bugcheck.js";
import { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import { PASSIVE_LEVEL } from "../ke/irql.js";
import {
  STATUS_ACCESS_DENIED, STATUS_INVALID_HANDLE, STATUS_INVALID_PARAMETER, STATUS_OBJECT_TYPE_MISMATCH, STATUS_SUCCESS, type NTSTATUS,
} from "../ke/ntstatus.js";
import { PsGetCurrentProcess } from "../ke/attach.js";
import type { KPROCESS } from "../ke/scheduler.js";
import { MM } from "../mm/manager.js";
import type { PoolTag } from "../mm/pool.js";
import { GENERIC_ALL, MAXIMUM_ALLOWED, RtlMapGenericMask, type ACCESS_MASK } from "./access.js";
import { OBJ_INHERIT, OBJ_KERNEL_HANDLE } from "./attributes.js";
import { OB_FLAG_PERMANENT_OBJECT, type OBJECT_HEADER } from "./header.js";
import {
  decodeKernelHandle, encodeKernelHandle, HANDLE_TABLE_ENTRY, isKernelHandleValue, NtCurrentProcess, NtCurrentThread, type HANDLE,
  type HANDLE_TABLE,
} from "./handle-table.js";
import { OB } from "./manager.js";
import { PsProcessType, PsThreadType, type OBJECT_TYPE } from "./object-type.js";
import { countTag, dereference, headerOf, reference } from "./reference.js";

/** 0xC4 P1: a driver referenced a user-mode handle as kernel mode (P2 handle, P3 current process, P4 caller address). */
export const VERIFIER_USER_HANDLE_AS_KERNEL = 0xF6;
/** 0xC4 P1: DDI compliance rule IrqlObPassive (ObReferenceObjectByHandle needs PASSIVE_LEVEL). */
export const DDI_RULE_IRQL_OB_PASSIVE = 0x0002001B;
/** 0xC4 P1: DDI compliance rule IrqlZwPassive (ZwClose needs PASSIVE_LEVEL). */
export const DDI_RULE_IRQL_ZW_PASSIVE = 0x0002001F;
/** 0x93 P2: an invalid handle was closed or referenced. */
export const INVALID_HANDLE_CLOSED = 1;

/** ZwDuplicateObject Options: close the source handle. */
export const DUPLICATE_CLOSE_SOURCE = 0x1;
/** ZwDuplicateObject Options: the new handle gets the source handle's access (DesiredAccess is ignored). */
export const DUPLICATE_SAME_ACCESS = 0x2;
/** ZwDuplicateObject Options: the new handle gets the source handle's attributes. */
export const DUPLICATE_SAME_ATTRIBUTES = 0x4;

/** OBJECT_HANDLE_INFORMATION: what ObReferenceObjectByHandle reports about the handle. */
export interface OBJECT_HANDLE_INFORMATION {
  /** OBJ_INHERIT and the other attributes of the handle. */
  HandleAttributes: number;
  /** The access the handle was granted. */
  GrantedAccess: ACCESS_MASK;
}

/** Resolves the thread object of the executing thread (installed by the process manager). */
let currentThreadObject: ((k: Kernel) => object | null) | null = null;

/** Installs how NtCurrentThread() resolves to the executing thread's object (the process manager's ETHREAD). */
export function setCurrentThreadResolver(resolve: (k: Kernel) => object | null): void {
  currentThreadObject = resolve;
}

/** The previous mode of the executing thread (ExGetPreviousMode): UserMode in a user process's thread, KernelMode in a system thread. */
export function previousMode(k: Kernel): KPROCESSOR_MODE {
  const t = k.cpu.CurrentThread;
  return t && t.process !== MM(k).systemProcess ? KPROCESSOR_MODE.UserMode : KPROCESSOR_MODE.KernelMode;
}

/** The process whose handle table a handle without the kernel bit is in: the one the thread runs in now. */
function currentProcess(): KPROCESS {
  return PsGetCurrentProcess();
}

/** The access a request for `DesiredAccess` on an object of `type` is granted (generic rights mapped; no security model). */
export function grantedAccess(type: OBJECT_TYPE, DesiredAccess: ACCESS_MASK): ACCESS_MASK {
  // MAXIMUM_ALLOWED, with no security descriptor to limit it, is everything the type has.
  const mask = (DesiredAccess & MAXIMUM_ALLOWED) !== 0 ? (DesiredAccess | GENERIC_ALL) & ~MAXIMUM_ALLOWED : DesiredAccess;
  return (RtlMapGenericMask(mask, type.TypeInfo.GenericMapping) & (type.TypeInfo.ValidAccessMask | 0x01000000)) >>> 0;
}

/**
 * Opens a handle to `h` granting `GrantedAccess`, in the kernel table when
 * `HandleAttributes` has OBJ_KERNEL_HANDLE and the caller is kernel mode, otherwise in the
 * current process's table. The handle holds a reference. Returns the handle.
 */
export function createHandle(k: Kernel, h: OBJECT_HEADER, GrantedAccess: ACCESS_MASK, HandleAttributes: number, AccessMode: KPROCESSOR_MODE, process: KPROCESS = currentProcess()): HANDLE {
  const ob = OB(k);
  const kernel = (HandleAttributes & OBJ_KERNEL_HANDLE) !== 0 && AccessMode === KPROCESSOR_MODE.KernelMode;
  const table = kernel ? ob.kernelHandles : ob.handleTableOf(process);
  const index = table.insert(new HANDLE_TABLE_ENTRY(h, GrantedAccess, HandleAttributes & OBJ_INHERIT));
  h.HandleCount++;
  reference(h);
  ob.countsOf(h.Type).TotalNumberOfHandles++;
  return kernel ? encodeKernelHandle(index) : index;
}

/** Where a handle is: its table and index. */
interface HandleSlot {
  table: HANDLE_TABLE;
  index: number;
}

/** The table and index `Handle` names for a caller in `AccessMode`, or null when it cannot name anything. */
function slotOf(k: Kernel, Handle: HANDLE, AccessMode: KPROCESSOR_MODE): HandleSlot | null {
  if (isKernelHandleValue(Handle)) {
    if (AccessMode !== KPROCESSOR_MODE.KernelMode) return null;
    return { table: OB(k).kernelHandles, index: decodeKernelHandle(Handle) };
  }
  if (Handle <= 0) return null;
  return { table: OB(k).handleTableOf(currentProcess()), index: Handle };
}

/** The entry `Handle` names for a caller in `AccessMode`, or undefined. */
export function handleEntry(k: Kernel, Handle: HANDLE, AccessMode: KPROCESSOR_MODE): HANDLE_TABLE_ENTRY | undefined {
  const slot = slotOf(k, Handle, AccessMode);
  return slot ? slot.table.entry(slot.index) : undefined;
}

/** ObReferenceObjectByHandle's answer: the status, the object (referenced) and the handle's information. */
export interface ReferencedObject<T = object> {
  status: NTSTATUS;
  /** The object, with a reference the caller drops with ObDereferenceObject (null on failure). */
  Object: T | null;
  /** The handle's attributes and granted access (zeros on failure). */
  HandleInformation: OBJECT_HANDLE_INFORMATION;
}

const NO_HANDLE_INFORMATION: OBJECT_HANDLE_INFORMATION = Object.freeze({ HandleAttributes: 0, GrantedAccess: 0 });

function failed<T>(status: NTSTATUS): ReferencedObject<T> {
  return { status, Object: null, HandleInformation: NO_HANDLE_INFORMATION };
}

/** Resolves a pseudo-handle (NtCurrentProcess, NtCurrentThread) to its object, or null. */
function pseudoHandleObject(k: Kernel, Handle: HANDLE): { object: object; type: OBJECT_TYPE } | null {
  if (Handle === NtCurrentProcess) return { object: currentProcess(), type: PsProcessType };
  if (Handle === NtCurrentThread) {
    const t = currentThreadObject?.(k);
    return t ? { object: t, type: PsThreadType } : null;
  }
  return null;
}

function referenceByHandle<T>(k: Kernel, Handle: HANDLE, DesiredAccess: ACCESS_MASK, ObjectType: OBJECT_TYPE | null, AccessMode: KPROCESSOR_MODE): ReferencedObject<T> {
  k.chargePs(k.cost.ObReferenceObjectByHandle);
  if (k.verifier && k.cpu.irql !== PASSIVE_LEVEL) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_OB_PASSIVE, 0, 0, 0);
  const pseudo = pseudoHandleObject(k, Handle);
  if (pseudo) {
    if (ObjectType && ObjectType !== pseudo.type) return failed(STATUS_OBJECT_TYPE_MISMATCH);
    const h = headerOf(k, pseudo.object);
    reference(h);
    return { status: STATUS_SUCCESS, Object: pseudo.object as T, HandleInformation: { HandleAttributes: 0, GrantedAccess: pseudo.type.TypeInfo.ValidAccessMask } };
  }
  if (k.verifier && AccessMode === KPROCESSOR_MODE.KernelMode && !isKernelHandleValue(Handle) && Handle > 0) {
    const process = currentProcess();
    if (process !== MM(k).systemProcess) {
      const who = k.attribution();
      k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_USER_HANDLE_AS_KERNEL, Handle, headerOf(k, process).bodyAddress, MM(k).codeAddress(who.driver, who.routine));
    }
  }
  const entry = handleEntry(k, Handle, AccessMode);
  if (!entry) return failed(STATUS_INVALID_HANDLE);
  const h = entry.Object;
  if (ObjectType && h.Type !== ObjectType) return failed(STATUS_OBJECT_TYPE_MISMATCH);
  if (AccessMode === KPROCESSOR_MODE.UserMode) {
    const wanted = grantedAccess(h.Type, DesiredAccess);
    if ((entry.GrantedAccess & wanted) >>> 0 !== wanted) return failed(STATUS_ACCESS_DENIED);
  }
  reference(h);
  return { status: STATUS_SUCCESS, Object: h.Body as T, HandleInformation: { HandleAttributes: entry.Attributes, GrantedAccess: entry.GrantedAccess } };
}

/**
 * ObReferenceObjectByHandle(Handle, DesiredAccess, ObjectType, AccessMode): the object a
 * handle names, with a reference the caller drops with ObDereferenceObject, and the
 * handle's information (the C routine's Object and HandleInformation out-parameters).
 * STATUS_INVALID_HANDLE for a handle that names nothing in the caller's table (or a kernel
 * handle from UserMode), STATUS_OBJECT_TYPE_MISMATCH when `ObjectType` (null: any) is not
 * the object's, STATUS_ACCESS_DENIED when AccessMode is UserMode and the handle was not
 * granted every right in DesiredAccess (generic rights mapped). KernelMode skips the
 * access check. NtCurrentProcess() and NtCurrentThread() name the caller's process and
 * thread. PASSIVE_LEVEL (verifier: 0xC4 / 0x2001B); see the file comment for 0xC4 / 0xF6.
 */
export function ObReferenceObjectByHandle<T = object>(Handle: HANDLE, DesiredAccess: ACCESS_MASK, ObjectType: OBJECT_TYPE | null, AccessMode: KPROCESSOR_MODE): ReferencedObject<T> {
  return referenceByHandle<T>(KE(), Handle, DesiredAccess, ObjectType, AccessMode);
}

/** ObReferenceObjectByHandleWithTag: ObReferenceObjectByHandle, the reference recorded under `Tag` (drop it with ObDereferenceObjectWithTag). */
export function ObReferenceObjectByHandleWithTag<T = object>(Handle: HANDLE, DesiredAccess: ACCESS_MASK, ObjectType: OBJECT_TYPE | null, AccessMode: KPROCESSOR_MODE, Tag: PoolTag): ReferencedObject<T> {
  const k = KE();
  const r = referenceByHandle<T>(k, Handle, DesiredAccess, ObjectType, AccessMode);
  if (r.Object) countTag(headerOf(k, r.Object), Tag, 1);
  return r;
}

/**
 * ObOpenObjectByPointer(Object, HandleAttributes, PassedAccessState, DesiredAccess,
 * ObjectType, AccessMode): opens a handle to an object the caller holds a pointer to.
 * Returns the status and the handle (OBJ_KERNEL_HANDLE honoured for KernelMode only).
 * STATUS_OBJECT_TYPE_MISMATCH when `ObjectType` (null: any) is not the object's.
 */
export function ObOpenObjectByPointer(Object: object, HandleAttributes: number, PassedAccessState: null, DesiredAccess: ACCESS_MASK, ObjectType: OBJECT_TYPE | null, AccessMode: KPROCESSOR_MODE): { status: NTSTATUS; Handle: HANDLE } {
  const k = KE();
  k.chargePs(k.cost.ObCreateHandle);
  const h = headerOf(k, Object);
  if (ObjectType && h.Type !== ObjectType) return { status: STATUS_OBJECT_TYPE_MISMATCH, Handle: 0 };
  return { status: STATUS_SUCCESS, Handle: createHandle(k, h, grantedAccess(h.Type, DesiredAccess), HandleAttributes, AccessMode) };
}

/**
 * Closes the handle at `index` of `table` (it exists): the object's type's close procedure
 * runs (a file's last handle sends IRP_MJ_CLEANUP), a temporary named object whose last
 * handle this was loses its name, and the handle's reference is dropped (the last one
 * deletes the object). Resolves once that is done. With `AccessMode` (NtClose / ZwClose) the
 * close procedure runs with that previous mode (ExGetPreviousMode); otherwise with the thread's.
 */
export async function closeHandleAt(k: Kernel, table: HANDLE_TABLE, index: number, AccessMode?: KPROCESSOR_MODE): Promise<void> {
  const entry = table.remove(index)!;
  const h = entry.Object;
  h.HandleCount--;
  OB(k).countsOf(h.Type).TotalNumberOfHandles--;
  const procedure = h.Type.TypeInfo.CloseProcedure;
  let close: void | Promise<void> = undefined;
  if (procedure) {
    if (AccessMode !== undefined) pushPreviousMode(k, AccessMode);
    try {
      close = procedure(h.Body, h.HandleCount);
    } finally {
      if (AccessMode !== undefined) popPreviousMode(k);
    }
  }
  if (close instanceof Promise) await close;
  if (h.HandleCount === 0 && h.Directory && (h.Flags & OB_FLAG_PERMANENT_OBJECT) === 0) removeName(k, h);
  const deleting = dereference(k, h);
  if (deleting instanceof Promise) await deleting;
}

/** Takes a named object's name out of its directory and drops the reference the name held. */
export function removeName(k: Kernel, h: OBJECT_HEADER): void | Promise<void> {
  if (!h.Directory) return;
  h.Directory.remove(h);
  return dereference(k, h);
}

/** Closes `Handle` for a caller in `AccessMode` (NtClose's work). */
async function close(k: Kernel, Handle: HANDLE, AccessMode: KPROCESSOR_MODE): Promise<NTSTATUS> {
  k.chargePs(k.cost.ObCloseHandle);
  if (k.verifier && k.cpu.irql !== PASSIVE_LEVEL) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_ZW_PASSIVE, 0, 0, 0);
  const slot = slotOf(k, Handle, AccessMode);
  if (!slot || !slot.table.entry(slot.index)) {
    if (k.verifier && AccessMode === KPROCESSOR_MODE.KernelMode) k.bugCheck(INVALID_KERNEL_HANDLE, Handle, INVALID_HANDLE_CLOSED, 0, 0);
    return STATUS_INVALID_HANDLE;
  }
  await closeHandleAt(k, slot.table, slot.index, AccessMode);
  return STATUS_SUCCESS;
}

/**
 * ZwClose: closes a handle (previous mode KernelMode, so kernel handles may be closed).
 * STATUS_INVALID_HANDLE for a handle that is not open; under the verifier that is bug check
 * 0x93 INVALID_KERNEL_HANDLE (P1 the handle, P2 1). Closing a file's last handle sends
 * IRP_MJ_CLEANUP and waits for it, so the routine is async. PASSIVE_LEVEL (verifier:
 * 0xC4 / 0x2001F).
 */
export function ZwClose(Handle: HANDLE): Promise<NTSTATUS> {
  return close(KE(), Handle, KPROCESSOR_MODE.KernelMode);
}

/**
 * NtClose: ZwClose with the caller's previous mode: UserMode in a user process's thread
 * (kernel handles are then invalid to it, and an invalid handle is only an error).
 */
export function NtClose(Handle: HANDLE): Promise<NTSTATUS> {
  const k = KE();
  return close(k, Handle, previousMode(k));
}

/** The process a process handle names (NtCurrentProcess() or a handle to a process object), or null. */
function processOf(k: Kernel, ProcessHandle: HANDLE): KPROCESS | null {
  if (ProcessHandle === NtCurrentProcess) return currentProcess();
  const e = handleEntry(k, ProcessHandle, KPROCESSOR_MODE.KernelMode);
  return e && e.Object.Type === PsProcessType ? (e.Object.Body as KPROCESS) : null;
}

/**
 * ZwDuplicateObject(SourceProcessHandle, SourceHandle, TargetProcessHandle, DesiredAccess,
 * HandleAttributes, Options): a new handle in the target process to the object SourceHandle
 * names in the source process. DUPLICATE_SAME_ACCESS copies the source's access,
 * DUPLICATE_SAME_ATTRIBUTES its attributes, DUPLICATE_CLOSE_SOURCE closes the source handle.
 * Returns the status and the new handle (0 when TargetProcessHandle is null: only the close).
 */
export async function ZwDuplicateObject(SourceProcessHandle: HANDLE, SourceHandle: HANDLE, TargetProcessHandle: HANDLE | null, DesiredAccess: ACCESS_MASK, HandleAttributes: number, Options: number): Promise<{ status: NTSTATUS; TargetHandle: HANDLE }> {
  const k = KE();
  k.chargePs(k.cost.ObCreateHandle);
  const source = processOf(k, SourceProcessHandle);
  const target = TargetProcessHandle === null ? null : processOf(k, TargetProcessHandle);
  if (!source || (TargetProcessHandle !== null && !target)) return { status: STATUS_INVALID_HANDLE, TargetHandle: 0 };
  const ob = OB(k);
  const kernelSource = isKernelHandleValue(SourceHandle);
  const table = kernelSource ? ob.kernelHandles : ob.handleTableOf(source);
  const index = kernelSource ? decodeKernelHandle(SourceHandle) : SourceHandle;
  const entry = SourceHandle > 0 || kernelSource ? table.entry(index) : undefined;
  if (!entry) return { status: STATUS_INVALID_HANDLE, TargetHandle: 0 };
  if ((HandleAttributes & ~0x7F2) !== 0) return { status: STATUS_INVALID_PARAMETER, TargetHandle: 0 };
  let TargetHandle: HANDLE = 0;
  if (target) {
    const access = (Options & DUPLICATE_SAME_ACCESS) !== 0 ? entry.GrantedAccess : grantedAccess(entry.Object.Type, DesiredAccess);
    const attributes = (Options & DUPLICATE_SAME_ATTRIBUTES) !== 0 ? entry.Attributes : HandleAttributes;
    TargetHandle = createHandle(k, entry.Object, access, attributes, KPROCESSOR_MODE.KernelMode, target);
  }
  if ((Options & DUPLICATE_CLOSE_SOURCE) !== 0) await closeHandleAt(k, table, index);
  return { status: STATUS_SUCCESS, TargetHandle };
}

/** ObIsKernelHandle: TRUE if `Handle` is a kernel handle (one from the kernel handle table). */
export function ObIsKernelHandle(Handle: HANDLE): boolean {
  return isKernelHandleValue(Handle);
}
