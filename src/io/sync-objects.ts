/**
 * User-mode events and waits: CreateEvent, SetEvent, ResetEvent, WaitForSingleObject,
 * WaitForMultipleObjects and Sleep. Events live in the process's handle table (CloseHandle
 * drops them). A wait can name an event, a file (signalled when a request on it
 * completes), a thread (signalled when it ends) or a completion port (signalled while it
 * holds packets). Waits deliver the thread's kernel APCs (I/O completions) as they come.
 */
import { EVENT_TYPE, KEVENT, KeInitializeEvent, KeResetEvent, KeSetEvent, WAIT_TYPE, type DispatcherObject } from "../ke/dispatcher.js";
import { STATUS_INVALID_HANDLE, STATUS_INVALID_PARAMETER, STATUS_SUCCESS, STATUS_TIMEOUT, STATUS_WAIT_0 } from "../ke/ntstatus.js";
import { FILE_OBJECT, type EPROCESS, type ETHREAD } from "./process.js";
import { ERROR_INVALID_HANDLE, service, setLastError, systemService, type HANDLE } from "./win32.js";
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

/**
 * CreateEvent: a manual-reset (notification) or auto-reset (synchronization) event,
 * signalled if `bInitialState`. Returns its handle (NULL on failure).
 */
export function CreateEvent(lpEventAttributes: null, bManualReset: boolean, bInitialState: boolean, lpName: null): HANDLE {
  return service((c) => {
    const e = new KEVENT();
    KeInitializeEvent(e, bManualReset ? EVENT_TYPE.NotificationEvent : EVENT_TYPE.SynchronizationEvent, bInitialState);
    setLastError(c.thread, 0);
    return c.process.insertHandle(e);
  });
}

function eventOf(c: { process: EPROCESS; thread: ETHREAD }, h: HANDLE): KEVENT | null {
  const e = c.process.handles.get(h & ~3);
  if (e instanceof KEVENT) return e;
  setLastError(c.thread, ERROR_INVALID_HANDLE);
  return null;
}

/** SetEvent: signals the event (waking its waiters); FALSE with ERROR_INVALID_HANDLE for a handle that is not an event. */
export function SetEvent(hEvent: HANDLE): boolean {
  return service((c) => {
    const e = eventOf(c, hEvent);
    if (!e) return false;
    KeSetEvent(e, 0, false);
    return true;
  });
}

/** ResetEvent: clears the event. */
export function ResetEvent(hEvent: HANDLE): boolean {
  return service((c) => {
    const e = eventOf(c, hEvent);
    if (!e) return false;
    KeResetEvent(e);
    return true;
  });
}

/** The object a wait on `h` waits for, or null. */
function waitable(process: EPROCESS, thread: ETHREAD, h: HANDLE): DispatcherObject | null {
  const o = process.handles.get(h);
  if (o instanceof FILE_OBJECT) return o.Event;
  if (o) return o;
  return threadOfHandle(process, thread, h);
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
  return systemService(WAIT_FAILED, async (c) => {
    if (nCount < 1 || nCount > MAXIMUM_WAIT_OBJECTS || lpHandles.length < nCount) return { status: STATUS_INVALID_PARAMETER, value: WAIT_FAILED };
    const objects: DispatcherObject[] = [];
    for (const h of lpHandles.slice(0, nCount)) {
      const o = waitable(c.process, c.thread, h);
      if (!o) return { status: STATUS_INVALID_HANDLE, value: WAIT_FAILED };
      objects.push(o);
    }
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

