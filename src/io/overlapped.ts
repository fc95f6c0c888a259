/**
 * OVERLAPPED and the calls that ask about an overlapped request: GetOverlappedResult and
 * HasOverlappedIoCompleted.
 *
 * An OVERLAPPED is the request's I/O status block: Internal holds the status
 * (STATUS_PENDING while the request is in progress) and InternalHigh the bytes
 * transferred; both are written when the request completes. Offset / OffsetHigh give
 * the byte offset of a read or write; hEvent, if set, is an event the I/O manager resets
 * when the request starts and sets when it completes (a handle with its low bit set also
 * keeps the completion off the file's completion port).
 */
import { STATUS_PENDING, STATUS_INVALID_HANDLE, STATUS_SUCCESS, NT_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import { KEVENT, WAIT_TYPE } from "../ke/dispatcher.js";
import { FILE_OBJECT } from "./process.js";
import { ERROR_IO_INCOMPLETE, systemService, type HANDLE } from "./win32.js";
import { INFINITE, userWait } from "./user-wait.js";

/** OVERLAPPED: position, event and status block of an overlapped request. */
export class OVERLAPPED {
  /** The request's status (NTSTATUS); STATUS_PENDING while it is in progress. */
  Internal: NTSTATUS = 0;
  /** Bytes transferred (the status block's Information). */
  InternalHigh = 0;
  /** Low 32 bits of the byte offset of a read or write. */
  Offset = 0;
  /** High 32 bits of the byte offset. */
  OffsetHigh = 0;
  /** An event handle (CreateEvent) set when the request completes, or 0. */
  hEvent: HANDLE = 0;

  constructor(init: { Offset?: number; OffsetHigh?: number; hEvent?: HANDLE } = {}) {
    this.Offset = init.Offset ?? 0;
    this.OffsetHigh = init.OffsetHigh ?? 0;
    this.hEvent = init.hEvent ?? 0;
  }
}

/** HasOverlappedIoCompleted: TRUE once the request's status is no longer STATUS_PENDING (a macro: no system call). */
export function HasOverlappedIoCompleted(lpOverlapped: OVERLAPPED): boolean {
  return lpOverlapped.Internal !== STATUS_PENDING;
}

/** What GetOverlappedResult returns: the BOOL and *lpNumberOfBytesTransferred. */
export interface OverlappedResult {
  ok: boolean;
  /** InternalHigh, also when the request failed. */
  bytes: number;
}

/**
 * GetOverlappedResult: the outcome of an overlapped request on `hFile`. While it is still
 * in progress: with `bWait` FALSE, FALSE with ERROR_IO_INCOMPLETE; with `bWait` TRUE it
 * waits once for lpOverlapped.hEvent, or for the file handle itself when hEvent is 0 (which
 * any request on the file signals: the documentation warns against it with several
 * requests outstanding). A request that failed (a status that is not NT_SUCCESS) gives
 * FALSE with its error.
 */
export function GetOverlappedResult(hFile: HANDLE, lpOverlapped: OVERLAPPED, bWait: boolean): Promise<OverlappedResult> {
  const failure: OverlappedResult = { ok: false, bytes: 0 };
  return systemService(failure, async (c) => {
    const file = c.process.handles.get(hFile);
    if (!(file instanceof FILE_OBJECT)) return { status: STATUS_INVALID_HANDLE, value: failure };
    let waitOn: KEVENT = file.Event;
    if (lpOverlapped.hEvent) {
      const e = c.process.handles.get(lpOverlapped.hEvent & ~3);
      if (!(e instanceof KEVENT)) return { status: STATUS_INVALID_HANDLE, value: failure };
      waitOn = e;
    }
    if (lpOverlapped.Internal === STATUS_PENDING) {
      if (!bWait) return { status: STATUS_PENDING, value: failure, error: ERROR_IO_INCOMPLETE };
      // One wait: a file handle shared by several requests may be signalled by another one.
      await userWait(c.thread, [waitOn], WAIT_TYPE.WaitAny, INFINITE);
    }
    const status = lpOverlapped.Internal;
    return { status: status === STATUS_PENDING ? STATUS_SUCCESS : status, value: { ok: NT_SUCCESS(status), bytes: lpOverlapped.InternalHigh } };
  });
}
