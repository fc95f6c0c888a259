/**
 * Cancelling requests from user mode: CancelIo, CancelIoEx and CancelSynchronousIo. Each
 * finds the requests in the issuing threads' IRP lists and calls IoCancelIrp on them; a
 * request whose driver set a cancel routine completes with STATUS_CANCELLED, which the
 * caller sees as ERROR_OPERATION_ABORTED (GetOverlappedResult, the completion port).
 * Cancelling only asks: a request without a cancel routine completes when its driver
 * completes it.
 */
import { STATUS_INVALID_HANDLE, STATUS_NOT_FOUND, STATUS_SUCCESS } from "../ke/ntstatus.js";
import type { IRP } from "./irp.js";
import { IoCancelIrp } from "./cancel.js";
import { FILE_OBJECT, type ETHREAD } from "./process.js";
import type { IoRequest } from "./request.js";
import type { OVERLAPPED } from "./overlapped.js";
import { threadOfHandle } from "./threads.js";
import { systemService, type HANDLE } from "./win32.js";

/** Calls IoCancelIrp on each IRP of `threads` whose request `match` accepts; returns how many matched. */
function cancelMatching(threads: Iterable<ETHREAD>, match: (req: IoRequest) => boolean): number {
  const found: IRP[] = [];
  for (const t of threads) for (const [irp, req] of t.IrpList) if (match(req)) found.push(irp);
  for (const irp of found) IoCancelIrp(irp);
  return found.length;
}

/**
 * CancelIo: cancels the requests the calling thread issued on `hFile` (not other
 * threads'). TRUE once cancellation was requested, also when there was nothing to cancel.
 */
export function CancelIo(hFile: HANDLE): Promise<boolean> {
  return systemService(false, async (c) => {
    const file = c.process.handles.get(hFile);
    if (!(file instanceof FILE_OBJECT)) return { status: STATUS_INVALID_HANDLE, value: false };
    cancelMatching([c.thread], (req) => req.file === file);
    return { status: STATUS_SUCCESS, value: true };
  });
}

/**
 * CancelIoEx: cancels the requests on `hFile` that any thread of the process issued — all
 * of them, or only the one that uses `lpOverlapped`. FALSE with ERROR_NOT_FOUND when no
 * request matched.
 */
export function CancelIoEx(hFile: HANDLE, lpOverlapped: OVERLAPPED | null): Promise<boolean> {
  return systemService(false, async (c) => {
    const file = c.process.handles.get(hFile);
    if (!(file instanceof FILE_OBJECT)) return { status: STATUS_INVALID_HANDLE, value: false };
    const n = cancelMatching(c.process.threads, (req) => req.file === file && (lpOverlapped === null || req.overlapped === lpOverlapped));
    return n > 0 ? { status: STATUS_SUCCESS, value: true } : { status: STATUS_NOT_FOUND, value: false };
  });
}

/**
 * CancelSynchronousIo: cancels the synchronous request (one on a handle opened without
 * FILE_FLAG_OVERLAPPED, or a CreateFile in progress) that thread `hThread` is waiting
 * for. FALSE with ERROR_NOT_FOUND when it has none.
 */
export function CancelSynchronousIo(hThread: HANDLE): Promise<boolean> {
  return systemService(false, async (c) => {
    const thread = threadOfHandle(c.process, c.thread, hThread);
    if (!thread) return { status: STATUS_INVALID_HANDLE, value: false };
    const n = cancelMatching([thread], (req) => req.synchronous);
    return n > 0 ? { status: STATUS_SUCCESS, value: true } : { status: STATUS_NOT_FOUND, value: false };
  });
}
