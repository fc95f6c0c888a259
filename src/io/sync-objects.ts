/**
 * User-mode events and waits: CreateEvent, OpenEvent, SetEvent, ResetEvent,
 * WaitForSingleObject, WaitForMultipleObjects and Sleep. Events are objects in the
 * process's handle table (CloseHandle drops them); named ones are in \BaseNamedObjects,
 * shared with other processes and with drivers (IoCreateNotificationEvent). A wait can name an event, a file (signalled when a request on it
 * completes), a thread (signalled when it ends) or a completion port (signalled while it
 * holds packets). Waits deliver the thread's kernel APCs (I/O completions) as they come.
 */
import { EVENT_TYPE, KEVENT, KeResetEvent, KeSetEvent, KPROCESSOR_MODE, WAIT_TYPE, type DispatcherObject } from "../ke/dispatcher.js";
import {
  NT_SUCCESS, STATUS_INVALID_HANDLE, STATUS_INVALID_PARAMETER, STATUS_OBJECT_NAME_EXISTS, STATUS_SUCCESS, STATUS_TIMEOUT, STATUS_WAIT_0,
} from "../ke/ntstatus.js";
import { EVENT_ALL_ACCESS, EVENT_MODIFY_STATE } from "../ob/access.js";
import { InitializeObjectAttributes, OBJECT_ATTRIBUTES, OBJ_INHERIT, OBJ_OPENIF } from "../ob/attributes.js";
import { openObjectByName } from "../ob/by-name.js";
import { createEvent } from "../ob/event.js";
import { ExEventObjectType } from "../ob/object-type.js";
import { FILE_OBJECT, type EPROCESS, type ETHREAD } from "./process.js";
import {
  ERROR_ACCESS_DENIED, ERROR_ALREADY_EXISTS, ERROR_INVALID_HANDLE, NULL, RtlNtStatusToDosError, service, setLastError, systemService, type HANDLE,
} from "./win32.js";
import { INFINITE, userWait } from "./user-wait.js";
import { threadOfHandle } from "./threads.js";
import { MAXIMUM_WAIT_OBJECTS } from "../ke/wait-block.js";

export { INFINITE };

/** WaitForXxx: the first object (WAIT_OBJECT_0 + index for WaitForMultipleObjects). */
export const WAIT_OBJECT_0 = 0;
/** WaitForXxx: the timeout passed. */
export const WAIT_TIMEOUT = 258;
/** WaitForXxx: the wait failed (GetLastError says why). */
export const WAIT_FAILED = 0xFFFFFFFF;
/** The most handles WaitForMultipleObjects takes (the kernel's MAXIMUM_WAIT_OBJECTS). */
export { MAXIMUM_WAIT_OBJECTS };

/** The NT name of a named kernel object a Win32 program names `lpName` ("Global\\X" and "Local\\X" are links in it). */
function baseNamedObject(lpName: string): string {
  return `\\BaseNamedObjects\\${lpName}`;
}

/**
 * CreateEvent: a manual-reset (notification) or auto-reset (synchronization) event,
 * signalled if `bInitialState`, with every right (EVENT_ALL_ACCESS). With `lpName` the
 * event is named in \BaseNamedObjects: if that name is an event already, the handle is to
 * it (the other arguments are ignored) and the last error is ERROR_ALREADY_EXISTS; if it is
 * another kind of object, NULL with ERROR_INVALID_HANDLE. Returns the handle (NULL on failure).
 */
export function CreateEvent(lpEventAttributes: null, bManualReset: boolean, bInitialState: boolean, lpName: string | null): HANDLE {
  return service((c) => {
    const attributes = lpName ? new OBJECT_ATTRIBUTES() : null;
    if (attributes) InitializeObjectAttributes(attributes, baseNamedObject(lpName!), OBJ_OPENIF, null, null);
    const type = bManualReset ? EVENT_TYPE.NotificationEvent : EVENT_TYPE.SynchronizationEvent;
    const r = createEvent(c.k, EVENT_ALL_ACCESS, attributes, type, bInitialState, KPROCESSOR_MODE.UserMode);
    setLastError(c.thread, r.status === STATUS_OBJECT_NAME_EXISTS ? ERROR_ALREADY_EXISTS : RtlNtStatusToDosError(r.status));
    return NT_SUCCESS(r.status) ? r.Handle : NULL;
  });
}

/**
 * OpenEvent: a handle, with `dwDesiredAccess` (EVENT_MODIFY_STATE to set or reset it,
 * SYNCHRONIZE to wait on it), to the event named `lpName`. NULL with ERROR_FILE_NOT_FOUND
 * when there is none, ERROR_INVALID_HANDLE when the name is another kind of object.
 */
export function OpenEvent(dwDesiredAccess: number, bInheritHandle: boolean, lpName: string): HANDLE {
  return service((c) => {
    const attributes = new OBJECT_ATTRIBUTES();
    InitializeObjectAttributes(attributes, baseNamedObject(lpName), bInheritHandle ? OBJ_INHERIT : 0, null, null);
    const r = openObjectByName(c.k, attributes, ExEventObjectType, dwDesiredAccess, KPROCESSOR_MODE.UserMode);
    if (!NT_SUCCESS(r.status)) setLastError(c.thread, RtlNtStatusToDosError(r.status));
    return NT_SUCCESS(r.status) ? r.Handle : NULL;
  });
}

/** The event `h` names if its handle grants `access`; otherwise null with the last error set. */
function eventOf(c: { process: EPROCESS; thread: ETHREAD }, h: HANDLE, access: number): KEVENT | null {
  const entry = h > 0 ? c.process.handles.entry(h) : undefined;
  if (!entry || !(entry.Object.Body instanceof KEVENT)) {
    setLastError(c.thread, ERROR_INVALID_HANDLE);
    return null;
  }
  if ((entry.GrantedAccess & access) !== access) {
    setLastError(c.thread, ERROR_ACCESS_DENIED);
    return null;
  }
  return entry.Object.Body;
}

/** SetEvent: signals the event (waking its waiters); FALSE with ERROR_INVALID_HANDLE for a handle that is not an event, ERROR_ACCESS_DENIED without EVENT_MODIFY_STATE. */
export function SetEvent(hEvent: HANDLE): boolean {
  return service((c) => {
    const e = eventOf(c, hEvent, EVENT_MODIFY_STATE);
    if (!e) return false;
    KeSetEvent(e, 0, false);
    return true;
  });
}

/** ResetEvent: clears the event (EVENT_MODIFY_STATE, as SetEvent). */
export function ResetEvent(hEvent: HANDLE): boolean {
  return service((c) => {
    const e = eventOf(c, hEvent, EVENT_MODIFY_STATE);
    if (!e) return false;
    KeResetEvent(e);
    return true;
  });
}

/** The object a wait on `h` waits for, or null. */
function waitable(process: EPROCESS, thread: ETHREAD, h: HANDLE): DispatcherObject | null {
  const entry = h > 0 ? process.handles.entry(h) : undefined;
  if (!entry) return threadOfHandle(process, thread, h);
  const o = entry.Object.Body;
  if (o instanceof FILE_OBJECT) return o.Event;
  return o as DispatcherObject;
}

/**
 * WaitForSingleObject: waits up to `dwMilliseconds` (INFINITE for no limit) for the object
 * to be signalled. Returns WAIT_OBJECT_0, WAIT_TIMEOUT, or WAIT_FAILED.
 */
export function WaitForSingleObject(hHandle: HANDLE, dwMilliseconds: number): Promise<number> {
  return WaitForMultipleObjects(1, [hHandle], false, dwMilliseconds);
}

/**
 * WaitForMultipleObjects: with `bWaitAll` FALSE, returns WAIT_OBJECT_0 + the index of the
 * object that satisfied the wait (the lowest index when several are signalled); with TRUE,
 * WAIT_OBJECT_0 once all are signalled at the same time. WAIT_TIMEOUT when the timeout
 * passes; WAIT_FAILED (ERROR_INVALID_PARAMETER for a count of 0 or above
 * MAXIMUM_WAIT_OBJECTS, ERROR_INVALID_HANDLE for a bad handle).
 */
export function WaitForMultipleObjects(nCount: number, lpHandles: readonly HANDLE[], bWaitAll: boolean, dwMilliseconds: number): Promise<number> {
  return waitForHandles(nCount, lpHandles, bWaitAll, dwMilliseconds, null);
}

/**
 * The wait of WaitForMultipleObjects(Ex): the objects the handles name, plus — for an
 * alertable wait — `alert`, an object that ends the wait when it is signalled (its index,
 * nCount, comes back as WAIT_OBJECT_0 + nCount). With bWaitAll, `alert` is not waited on.
 */
export function waitForHandles(nCount: number, lpHandles: readonly HANDLE[], bWaitAll: boolean, dwMilliseconds: number, alert: DispatcherObject | null): Promise<number> {
  return systemService(WAIT_FAILED, async (c) => {
    if (nCount < 1 || nCount > MAXIMUM_WAIT_OBJECTS || lpHandles.length < nCount) return { status: STATUS_INVALID_PARAMETER, value: WAIT_FAILED };
    const objects: DispatcherObject[] = [];
    for (const h of lpHandles.slice(0, nCount)) {
      const o = waitable(c.process, c.thread, h);
      if (!o) return { status: STATUS_INVALID_HANDLE, value: WAIT_FAILED };
      objects.push(o);
    }
    if (alert && !bWaitAll) objects.push(alert);
    const status = await userWait(c.thread, objects, bWaitAll ? WAIT_TYPE.WaitAll : WAIT_TYPE.WaitAny, dwMilliseconds);
    if (status === STATUS_TIMEOUT) return { status: STATUS_SUCCESS, value: WAIT_TIMEOUT };
    return { status: STATUS_SUCCESS, value: WAIT_OBJECT_0 + (status - STATUS_WAIT_0) };
  });
}

/** Sleep: suspends the calling thread for `dwMilliseconds` of simulated time (I/O completions still run). */
export async function Sleep(dwMilliseconds: number): Promise<void> {
  await systemService(undefined, async (c) => {
    await userWait(c.thread, [], WAIT_TYPE.WaitAny, dwMilliseconds);
    return { status: STATUS_SUCCESS, value: undefined };
  });
}

