/**
 * I/O completion ports: CreateIoCompletionPort, GetQueuedCompletionStatus(Ex),
 * PostQueuedCompletionStatus and SetFileCompletionNotificationModes. A port is a kernel
 * queue (src/ke/queue.ts) in the process's handle table; a file associated with it (its
 * FILE_OBJECT.CompletionContext: the port and a key) gets a packet queued for each
 * overlapped request that completes, unless the request failed at once, its hEvent had
 * the low bit set, or it succeeded at once on a file marked
 * FILE_SKIP_COMPLETION_PORT_ON_SUCCESS. Threads that wait on the port are released
 * last-in first-out and at most NumberOfConcurrentThreads of them run at a time.
 */
import { KQUEUE, KeInitializeQueue, KeInsertQueue, KeRundownQueue } from "../ke/queue.js";
import {
  NT_SUCCESS, STATUS_ABANDONED, STATUS_INVALID_HANDLE, STATUS_INVALID_PARAMETER, STATUS_SUCCESS, STATUS_TIMEOUT, type NTSTATUS,
} from "../ke/ntstatus.js";
import { FILE_OBJECT, FO_SKIP_COMPLETION_PORT, FO_SKIP_SET_EVENT, FO_SYNCHRONOUS_IO, type CompletionPacket, type EPROCESS } from "./process.js";
import { userRemoveQueue } from "./user-wait.js";
import { IoCompletionObjectType } from "../ob/object-type.js";
import { ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER, INVALID_HANDLE_VALUE, NULL, service, setLastError, systemService, type HANDLE } from "./win32.js";

/** SetFileCompletionNotificationModes: no completion packet for a request that succeeds at once. */
export const FILE_SKIP_COMPLETION_PORT_ON_SUCCESS = 0x1;
/** SetFileCompletionNotificationModes: the file's own event is not set when a request completes. */
export const FILE_SKIP_SET_EVENT_ON_HANDLE = 0x2;


function portOf(process: EPROCESS, h: HANDLE): KQUEUE<CompletionPacket> | null {
  const o = process.handles.get(h);
  return o instanceof KQUEUE ? (o as KQUEUE<CompletionPacket>) : null;
}

/** The port type's close procedure: closing a port's last handle runs its queue down (waiters get ERROR_ABANDONED_WAIT_0). */
function closePortHandle(port: object, HandleCount: number): void {
  if (HandleCount === 0) KeRundownQueue(port as KQUEUE<CompletionPacket>);
}

IoCompletionObjectType.TypeInfo.CloseProcedure = closePortHandle;

/**
 * CreateIoCompletionPort: with FileHandle INVALID_HANDLE_VALUE and no ExistingCompletionPort,
 * creates a port whose threads may run NumberOfConcurrentThreads at a time (0: one per
 * processor). With a file handle, associates the file (opened with FILE_FLAG_OVERLAPPED,
 * not yet associated) with ExistingCompletionPort, or with a new port, under
 * CompletionKey. Returns the port's handle, or NULL (ERROR_INVALID_PARAMETER for a file
 * opened for synchronous I/O or already associated, ERROR_INVALID_HANDLE for a bad handle).
 */
export function CreateIoCompletionPort(FileHandle: HANDLE, ExistingCompletionPort: HANDLE | null, CompletionKey: unknown, NumberOfConcurrentThreads: number): HANDLE {
  return service((c) => {
    const fail = (error: number) => {
      setLastError(c.thread, error);
      return NULL;
    };
    let file: FILE_OBJECT | null = null;
    if (FileHandle !== INVALID_HANDLE_VALUE) {
      const o = c.process.handles.get(FileHandle);
      if (!(o instanceof FILE_OBJECT)) return fail(ERROR_INVALID_HANDLE);
      file = o;
      if ((file.Flags & FO_SYNCHRONOUS_IO) !== 0 || file.CompletionContext) return fail(ERROR_INVALID_PARAMETER);
    } else if (ExistingCompletionPort) {
      return fail(ERROR_INVALID_PARAMETER);
    }
    let handle: HANDLE;
    let port: KQUEUE<CompletionPacket>;
    if (ExistingCompletionPort) {
      const p = portOf(c.process, ExistingCompletionPort);
      if (!p) return fail(ERROR_INVALID_HANDLE);
      port = p;
      handle = ExistingCompletionPort;
    } else {
      port = new KQUEUE<CompletionPacket>();
      KeInitializeQueue(port, NumberOfConcurrentThreads);
      handle = c.process.insertHandle(port);
    }
    if (file) file.CompletionContext = { Port: port, Key: CompletionKey };
    return handle;
  });
}

/**
 * PostQueuedCompletionStatus: queues a packet with the given bytes, key and overlapped
 * value (GetQueuedCompletionStatus returns them as they are, with success).
 */
export function PostQueuedCompletionStatus(CompletionPort: HANDLE, dwNumberOfBytesTransferred: number, dwCompletionKey: unknown, lpOverlapped: unknown): boolean {
  return service((c) => {
    const port = portOf(c.process, CompletionPort);
    if (!port) {
      setLastError(c.thread, ERROR_INVALID_HANDLE);
      return false;
    }
    KeInsertQueue(port, { Key: dwCompletionKey, Overlapped: lpOverlapped, Status: STATUS_SUCCESS, Information: dwNumberOfBytesTransferred });
    return true;
  });
}

/** What GetQueuedCompletionStatus returns (the C out-parameters with the BOOL). */
export interface QueuedCompletionStatus {
  /** TRUE for a packet of a request that succeeded. */
  ok: boolean;
  /** *lpNumberOfBytesTransferred (0 when no packet was dequeued). */
  bytes: number;
  /** *lpCompletionKey (null when no packet was dequeued). */
  key: unknown;
  /** *lpOverlapped: the request's OVERLAPPED; null when no packet was dequeued. */
  overlapped: unknown;
}

/**
 * GetQueuedCompletionStatus: takes one packet, waiting up to `dwMilliseconds` (INFINITE
 * for no limit). A packet of a request that failed gives FALSE with its error and the
 * packet's values (overlapped not null); a timeout gives FALSE, overlapped null and
 * WAIT_TIMEOUT; a port closed while waiting, FALSE with ERROR_ABANDONED_WAIT_0.
 */
export function GetQueuedCompletionStatus(CompletionPort: HANDLE, dwMilliseconds: number): Promise<QueuedCompletionStatus> {
  const none: QueuedCompletionStatus = { ok: false, bytes: 0, key: null, overlapped: null };
  return systemService(none, async (c) => {
    const port = portOf(c.process, CompletionPort);
    if (!port) return { status: STATUS_INVALID_HANDLE, value: none };
    const r = await userRemoveQueue(c.thread, port, 1, dwMilliseconds);
    if (!Array.isArray(r)) return { status: r === STATUS_TIMEOUT || r === STATUS_ABANDONED ? r : STATUS_TIMEOUT, value: none };
    const p = r[0];
    return { status: p.Status, value: { ok: NT_SUCCESS(p.Status), bytes: p.Information, key: p.Key, overlapped: p.Overlapped } };
  });
}

/** OVERLAPPED_ENTRY: one packet GetQueuedCompletionStatusEx removed. */
export interface OVERLAPPED_ENTRY {
  lpCompletionKey: unknown;
  lpOverlapped: unknown;
  /** The request's status (NTSTATUS). */
  Internal: NTSTATUS;
  dwNumberOfBytesTransferred: number;
}

/**
 * GetQueuedCompletionStatusEx: takes up to `ulCount` packets at once, waiting up to
 * `dwMilliseconds` for the first. TRUE with the entries (a failed request's status is in
 * its entry's Internal); FALSE with WAIT_TIMEOUT when none came. `fAlertable` is accepted
 * (the model has no user APCs to deliver).
 */
export function GetQueuedCompletionStatusEx(CompletionPort: HANDLE, ulCount: number, dwMilliseconds: number, fAlertable: boolean): Promise<{ ok: boolean; entries: OVERLAPPED_ENTRY[] }> {
  const none = { ok: false, entries: [] as OVERLAPPED_ENTRY[] };
  return systemService(none, async (c) => {
    const port = portOf(c.process, CompletionPort);
    if (!port) return { status: STATUS_INVALID_HANDLE, value: none };
    if (ulCount < 1) return { status: STATUS_INVALID_PARAMETER, value: none };
    const r = await userRemoveQueue(c.thread, port, ulCount, dwMilliseconds);
    if (!Array.isArray(r)) return { status: r === STATUS_ABANDONED ? r : STATUS_TIMEOUT, value: none };
    const entries = r.map((p) => ({ lpCompletionKey: p.Key, lpOverlapped: p.Overlapped, Internal: p.Status, dwNumberOfBytesTransferred: p.Information }));
    return { status: STATUS_SUCCESS, value: { ok: true, entries } };
  });
}

/**
 * SetFileCompletionNotificationModes: FILE_SKIP_COMPLETION_PORT_ON_SUCCESS and / or
 * FILE_SKIP_SET_EVENT_ON_HANDLE for the file (modes cannot be cleared once set).
 */
export function SetFileCompletionNotificationModes(FileHandle: HANDLE, Flags: number): boolean {
  return service((c) => {
    const file = c.process.handles.get(FileHandle);
    if (!(file instanceof FILE_OBJECT)) {
      setLastError(c.thread, ERROR_INVALID_HANDLE);
      return false;
    }
    if ((Flags & ~(FILE_SKIP_COMPLETION_PORT_ON_SUCCESS | FILE_SKIP_SET_EVENT_ON_HANDLE)) !== 0) {
      setLastError(c.thread, ERROR_INVALID_PARAMETER);
      return false;
    }
    if (Flags & FILE_SKIP_COMPLETION_PORT_ON_SUCCESS) file.Flags |= FO_SKIP_COMPLETION_PORT;
    if (Flags & FILE_SKIP_SET_EVENT_ON_HANDLE) file.Flags |= FO_SKIP_SET_EVENT;
    return true;
  });
}

