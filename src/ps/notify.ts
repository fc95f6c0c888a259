/**
 * Notify routines: PsSetCreateProcessNotifyRoutineEx, PsSetCreateThreadNotifyRoutine /
 * PsRemoveCreateThreadNotifyRoutine and PsSetLoadImageNotifyRoutine /
 * PsRemoveLoadImageNotifyRoutine register them; the process manager calls them at
 * PASSIVE_LEVEL, in registration order, attributed to the driver that registered them:
 *
 * - process callbacks when a user process is created (a PS_CREATE_NOTIFY_INFO; a callback
 *   may fail the creation by setting CreationStatus) and when it exits (CreateInfo null);
 * - thread callbacks in a new thread before its start routine runs (Create TRUE) and in
 *   the thread when it ends (FALSE), for system threads from PsCreateSystemThread and the
 *   threads of user processes;
 * - image callbacks when a driver image loads, before its DriverEntry (ProcessId 0), and
 *   when a user process's executable is mapped.
 *
 * Each list holds at most PSP_MAX_NOTIFY_ROUTINES routines. Registration is PASSIVE_LEVEL
 * (verifier: 0xC4 with the IrqlPsPassive rule, 0x2001C).
 */
import { KE, type Kernel } from "../ke/kernel.js";
import { DRIVER_VERIFIER_DETECTED_VIOLATION } from "../ke/bugcheck.js";
import { PASSIVE_LEVEL } from "../ke/irql.js";
import {
  NT_ERROR, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER, STATUS_PROCEDURE_NOT_FOUND, STATUS_SUCCESS, type NTSTATUS,
} from "../ke/ntstatus.js";
import type { KPROCESS } from "../ke/scheduler.js";
import type { HANDLE } from "../ob/handle-table.js";
import { PS, type Registration } from "./manager.js";
import {
  IMAGE_INFO, PS_CREATE_NOTIFY_INFO, type PCREATE_PROCESS_NOTIFY_ROUTINE_EX, type PCREATE_THREAD_NOTIFY_ROUTINE,
  type PLOAD_IMAGE_NOTIFY_ROUTINE,
} from "./notify-types.js";
import type { CLIENT_ID } from "./thread.js";

export { IMAGE_INFO, PS_CREATE_NOTIFY_INFO, type PCREATE_PROCESS_NOTIFY_ROUTINE_EX, type PCREATE_THREAD_NOTIFY_ROUTINE, type PLOAD_IMAGE_NOTIFY_ROUTINE };

/** How many routines each notify list holds. */
export const PSP_MAX_NOTIFY_ROUTINES = 64;
/** 0xC4 P1: DDI compliance rule IrqlPsPassive (process-structure routines need PASSIVE_LEVEL). */
export const DDI_RULE_IRQL_PS_PASSIVE = 0x0002001C;

/** The verifier's IrqlPsPassive check. */
export function checkPsPassive(k: Kernel): void {
  if (k.verifier && k.cpu.irql !== PASSIVE_LEVEL) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_PS_PASSIVE, 0, 0, 0);
}

function indexOf<R>(list: Registration<R>[], routine: R): number {
  return list.findIndex((r) => r.routine === routine);
}

/**
 * PsSetCreateProcessNotifyRoutineEx(NotifyRoutine, Remove): registers the routine (Remove
 * FALSE) or removes it (TRUE). STATUS_INVALID_PARAMETER when registering a routine already
 * registered or with the list full, or removing one that is not registered.
 */
export function PsSetCreateProcessNotifyRoutineEx(NotifyRoutine: PCREATE_PROCESS_NOTIFY_ROUTINE_EX, Remove: boolean): NTSTATUS {
  const k = KE();
  checkPsPassive(k);
  const list = PS(k).processNotify;
  const i = indexOf(list, NotifyRoutine);
  if (Remove) {
    if (i < 0) return STATUS_INVALID_PARAMETER;
    list.splice(i, 1);
    return STATUS_SUCCESS;
  }
  if (i >= 0 || list.length >= PSP_MAX_NOTIFY_ROUTINES) return STATUS_INVALID_PARAMETER;
  list.push({ routine: NotifyRoutine, driver: k.attribution().driver });
  return STATUS_SUCCESS;
}

/** PsSetCreateThreadNotifyRoutine(NotifyRoutine): registers a thread callback; STATUS_INSUFFICIENT_RESOURCES when the list is full. */
export function PsSetCreateThreadNotifyRoutine(NotifyRoutine: PCREATE_THREAD_NOTIFY_ROUTINE): NTSTATUS {
  const k = KE();
  checkPsPassive(k);
  const list = PS(k).threadNotify;
  if (list.length >= PSP_MAX_NOTIFY_ROUTINES) return STATUS_INSUFFICIENT_RESOURCES;
  list.push({ routine: NotifyRoutine, driver: k.attribution().driver });
  return STATUS_SUCCESS;
}

/** PsRemoveCreateThreadNotifyRoutine(NotifyRoutine): removes a thread callback; STATUS_PROCEDURE_NOT_FOUND if it is not registered. */
export function PsRemoveCreateThreadNotifyRoutine(NotifyRoutine: PCREATE_THREAD_NOTIFY_ROUTINE): NTSTATUS {
  const k = KE();
  const list = PS(k).threadNotify;
  const i = indexOf(list, NotifyRoutine);
  if (i < 0) return STATUS_PROCEDURE_NOT_FOUND;
  list.splice(i, 1);
  return STATUS_SUCCESS;
}

/** PsSetLoadImageNotifyRoutine(NotifyRoutine): registers an image-load callback; STATUS_INSUFFICIENT_RESOURCES when the list is full. */
export function PsSetLoadImageNotifyRoutine(NotifyRoutine: PLOAD_IMAGE_NOTIFY_ROUTINE): NTSTATUS {
  const k = KE();
  checkPsPassive(k);
  const list = PS(k).imageNotify;
  if (list.length >= PSP_MAX_NOTIFY_ROUTINES) return STATUS_INSUFFICIENT_RESOURCES;
  list.push({ routine: NotifyRoutine, driver: k.attribution().driver });
  return STATUS_SUCCESS;
}

/** PsRemoveLoadImageNotifyRoutine(NotifyRoutine): removes an image-load callback; STATUS_PROCEDURE_NOT_FOUND if it is not registered. */
export function PsRemoveLoadImageNotifyRoutine(NotifyRoutine: PLOAD_IMAGE_NOTIFY_ROUTINE): NTSTATUS {
  const k = KE();
  const list = PS(k).imageNotify;
  const i = indexOf(list, NotifyRoutine);
  if (i < 0) return STATUS_PROCEDURE_NOT_FOUND;
  list.splice(i, 1);
  return STATUS_SUCCESS;
}

/**
 * Tells the process callbacks `process` is being created; returns the CreationStatus a
 * callback set (an error fails the creation) or STATUS_SUCCESS.
 */
export function notifyProcessCreate(k: Kernel, process: KPROCESS, ParentProcessId: HANDLE, CreatingThreadId: CLIENT_ID, CommandLine: string): NTSTATUS {
  const info = new PS_CREATE_NOTIFY_INFO(ParentProcessId, CreatingThreadId, process.ImageFileName, CommandLine);
  for (const r of [...PS(k).processNotify]) {
    k.invoke(r.driver, r.routine.name || "CreateProcessNotifyRoutine", () => r.routine(process, process.UniqueProcessId, info));
    if (NT_ERROR(info.CreationStatus)) return info.CreationStatus;
  }
  return STATUS_SUCCESS;
}

/** Tells the process callbacks `process` exits. */
export function notifyProcessExit(k: Kernel, process: KPROCESS): void {
  for (const r of [...PS(k).processNotify]) k.invoke(r.driver, r.routine.name || "CreateProcessNotifyRoutine", () => r.routine(process, process.UniqueProcessId, null));
}

/** Tells the thread callbacks a thread was created (`Create`) or ended. */
export function notifyThread(k: Kernel, ProcessId: HANDLE, ThreadId: HANDLE, Create: boolean): void {
  for (const r of [...PS(k).threadNotify]) k.invoke(r.driver, r.routine.name || "CreateThreadNotifyRoutine", () => r.routine(ProcessId, ThreadId, Create));
}

/** Tells the image callbacks an image was mapped (ProcessId 0 for a driver). */
export function notifyImageLoad(k: Kernel, FullImageName: string, ProcessId: HANDLE, ImageInfo: IMAGE_INFO): void {
  for (const r of [...PS(k).imageNotify]) k.invoke(r.driver, r.routine.name || "LoadImageNotifyRoutine", () => r.routine(FullImageName, ProcessId, ImageInfo));
}
