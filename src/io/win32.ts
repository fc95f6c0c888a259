/**
 * The boundary between user-mode programs and the kernel: handles, Win32 error codes and
 * RtlNtStatusToDosError, the calling thread's last error, and the system-service wrappers
 * every user-mode API goes through (the transition's cost; kernel APCs queued to the
 * thread run on the way in and on the way out).
 */
import { KE, type Kernel } from "../ke/kernel.js";
import {
  NT_SUCCESS, STATUS_ABANDONED, STATUS_ACCESS_DENIED, STATUS_ACCESS_VIOLATION, STATUS_BUFFER_OVERFLOW, STATUS_BUFFER_TOO_SMALL,
  STATUS_CANCELLED, STATUS_DEVICE_BUSY, STATUS_DEVICE_NOT_READY, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_DEVICE_REQUEST,
  STATUS_INVALID_HANDLE, STATUS_INVALID_PARAMETER, STATUS_IO_DEVICE_ERROR, STATUS_NO_MEMORY, STATUS_NO_MORE_ENTRIES, STATUS_NO_SUCH_DEVICE,
  STATUS_NOT_FOUND, STATUS_NOT_IMPLEMENTED, STATUS_NOT_SUPPORTED, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_PENDING, STATUS_SUCCESS,
  STATUS_TIMEOUT, STATUS_UNSUCCESSFUL, NtStatusException, type NTSTATUS, STATUS_NONEXISTENT_SECTOR, STATUS_NO_MEDIA_IN_DEVICE,
  STATUS_DEVICE_NOT_CONNECTED, STATUS_DATA_OVERRUN, STATUS_DATA_ERROR, STATUS_DEVICE_DATA_ERROR, STATUS_MEDIA_WRITE_PROTECTED, STATUS_IO_TIMEOUT,
  STATUS_INVALID_BLOCK_LENGTH, STATUS_DEVICE_PROTOCOL_ERROR, STATUS_VERIFY_REQUIRED, STATUS_INFO_LENGTH_MISMATCH, STATUS_DEVICE_HARDWARE_ERROR,
  STATUS_DEVICE_DOES_NOT_EXIST, STATUS_DISK_CORRUPT_ERROR, STATUS_UNRECOGNIZED_MEDIA, STATUS_NO_DATA_DETECTED,
  STATUS_INVALID_IMAGE_FORMAT, STATUS_IMAGE_ALREADY_LOADED,
  STATUS_OBJECT_PATH_NOT_FOUND, STATUS_OBJECT_NAME_COLLISION, STATUS_OBJECT_NAME_EXISTS, STATUS_OBJECT_NAME_INVALID, STATUS_OBJECT_PATH_SYNTAX_BAD,
  STATUS_OBJECT_TYPE_MISMATCH,
} from "../ke/ntstatus.js";
import { deliverKernelApcs } from "./apc.js";
import { leaveIfProcessEnding } from "./process-exit.js";
import { ethreadOf, type EPROCESS, type ETHREAD } from "./process.js";

/** A handle (a multiple of 4, see src/ob/handle-table.ts), or one of the special values below. */
export type { HANDLE } from "../ob/handle-table.js";
import type { HANDLE } from "../ob/handle-table.js";
/** What CreateFile returns on failure. */
export const INVALID_HANDLE_VALUE: HANDLE = -1;
/** The NULL handle (what CreateEvent, CreateIoCompletionPort and CreateThread return on failure). */
export const NULL: HANDLE = 0;

// Win32 error codes (winerror.h).
export const ERROR_SUCCESS = 0;
export const ERROR_INVALID_FUNCTION = 1;
export const ERROR_FILE_NOT_FOUND = 2;
export const ERROR_PATH_NOT_FOUND = 3;
export const ERROR_ACCESS_DENIED = 5;
export const ERROR_INVALID_HANDLE = 6;
export const ERROR_NOT_ENOUGH_MEMORY = 8;
export const ERROR_WRITE_PROTECT = 19;
export const ERROR_BAD_UNIT = 20;
export const ERROR_NOT_READY = 21;
export const ERROR_CRC = 23;
export const ERROR_BAD_LENGTH = 24;
export const ERROR_SECTOR_NOT_FOUND = 27;
export const ERROR_GEN_FAILURE = 31;
export const ERROR_NOT_SUPPORTED = 50;
export const ERROR_INVALID_PARAMETER = 87;
export const ERROR_CALL_NOT_IMPLEMENTED = 120;
export const ERROR_SEM_TIMEOUT = 121;
export const ERROR_INSUFFICIENT_BUFFER = 122;
export const ERROR_INVALID_NAME = 123;
export const ERROR_BAD_PATHNAME = 161;
export const ERROR_BUSY = 170;
export const ERROR_ALREADY_EXISTS = 183;
export const ERROR_MORE_DATA = 234;
/** Also the value of WAIT_TIMEOUT. */
export const ERROR_WAIT_TIMEOUT = 258;
export const ERROR_NO_MORE_ITEMS = 259;
export const ERROR_DEVICE_HARDWARE_ERROR = 483;
export const ERROR_ABANDONED_WAIT_0 = 735;
export const ERROR_OPERATION_ABORTED = 995;
export const ERROR_IO_INCOMPLETE = 996;
export const ERROR_IO_PENDING = 997;
export const ERROR_NOACCESS = 998;
export const ERROR_NO_DATA_DETECTED = 1104;
export const ERROR_INVALID_BLOCK_LENGTH = 1106;
export const ERROR_MEDIA_CHANGED = 1110;
export const ERROR_IO_DEVICE = 1117;
export const ERROR_NOT_FOUND = 1168;
export const ERROR_DISK_CORRUPT = 1393;
export const ERROR_UNRECOGNIZED_MEDIA = 1785;
export const ERROR_BAD_EXE_FORMAT = 193;
export const ERROR_INVALID_SERVICE_CONTROL = 1052;
export const ERROR_SERVICE_ALREADY_RUNNING = 1056;
export const ERROR_SERVICE_DISABLED = 1058;
export const ERROR_SERVICE_DOES_NOT_EXIST = 1060;
export const ERROR_SERVICE_CANNOT_ACCEPT_CTRL = 1061;
export const ERROR_SERVICE_NOT_ACTIVE = 1062;
export const ERROR_SERVICE_MARKED_FOR_DELETE = 1072;
export const ERROR_SERVICE_EXISTS = 1073;
export const ERROR_SERVICE_NEVER_STARTED = 1077;
export const RPC_S_SERVER_UNAVAILABLE = 1722;

const DOS_ERRORS: Record<number, number> = {
  [STATUS_SUCCESS]: ERROR_SUCCESS,
  [STATUS_PENDING]: ERROR_IO_PENDING,
  [STATUS_TIMEOUT]: ERROR_WAIT_TIMEOUT,
  [STATUS_ABANDONED]: ERROR_ABANDONED_WAIT_0,
  [STATUS_INVALID_DEVICE_REQUEST >>> 0]: ERROR_INVALID_FUNCTION,
  [STATUS_OBJECT_NAME_NOT_FOUND >>> 0]: ERROR_FILE_NOT_FOUND,
  [STATUS_OBJECT_PATH_NOT_FOUND >>> 0]: ERROR_PATH_NOT_FOUND,
  [STATUS_OBJECT_NAME_COLLISION >>> 0]: ERROR_ALREADY_EXISTS,
  [STATUS_OBJECT_NAME_EXISTS >>> 0]: ERROR_ALREADY_EXISTS,
  [STATUS_OBJECT_NAME_INVALID >>> 0]: ERROR_INVALID_NAME,
  [STATUS_OBJECT_PATH_SYNTAX_BAD >>> 0]: ERROR_BAD_PATHNAME,
  [STATUS_OBJECT_TYPE_MISMATCH >>> 0]: ERROR_INVALID_HANDLE,
  [STATUS_NO_SUCH_DEVICE >>> 0]: ERROR_FILE_NOT_FOUND,
  [STATUS_ACCESS_DENIED >>> 0]: ERROR_ACCESS_DENIED,
  [STATUS_INVALID_HANDLE >>> 0]: ERROR_INVALID_HANDLE,
  [STATUS_INSUFFICIENT_RESOURCES >>> 0]: ERROR_NOT_ENOUGH_MEMORY,
  [STATUS_NO_MEMORY >>> 0]: ERROR_NOT_ENOUGH_MEMORY,
  [STATUS_DEVICE_NOT_READY >>> 0]: ERROR_NOT_READY,
  [STATUS_UNSUCCESSFUL >>> 0]: ERROR_GEN_FAILURE,
  [STATUS_NOT_SUPPORTED >>> 0]: ERROR_NOT_SUPPORTED,
  [STATUS_NOT_IMPLEMENTED >>> 0]: ERROR_CALL_NOT_IMPLEMENTED,
  [STATUS_INVALID_PARAMETER >>> 0]: ERROR_INVALID_PARAMETER,
  [STATUS_BUFFER_TOO_SMALL >>> 0]: ERROR_INSUFFICIENT_BUFFER,
  [STATUS_DEVICE_BUSY >>> 0]: ERROR_BUSY,
  [STATUS_BUFFER_OVERFLOW >>> 0]: ERROR_MORE_DATA,
  [STATUS_NO_MORE_ENTRIES >>> 0]: ERROR_NO_MORE_ITEMS,
  [STATUS_CANCELLED >>> 0]: ERROR_OPERATION_ABORTED,
  [STATUS_ACCESS_VIOLATION >>> 0]: ERROR_NOACCESS,
  [STATUS_IO_DEVICE_ERROR >>> 0]: ERROR_IO_DEVICE,
  [STATUS_NOT_FOUND >>> 0]: ERROR_NOT_FOUND,
  [STATUS_NONEXISTENT_SECTOR >>> 0]: ERROR_SECTOR_NOT_FOUND,
  [STATUS_NO_MEDIA_IN_DEVICE >>> 0]: ERROR_NOT_READY,
  [STATUS_DEVICE_NOT_CONNECTED >>> 0]: ERROR_NOT_READY,
  [STATUS_DATA_OVERRUN >>> 0]: ERROR_IO_DEVICE,
  [STATUS_DATA_ERROR >>> 0]: ERROR_CRC,
  [STATUS_DEVICE_DATA_ERROR >>> 0]: ERROR_CRC,
  [STATUS_MEDIA_WRITE_PROTECTED >>> 0]: ERROR_WRITE_PROTECT,
  [STATUS_IO_TIMEOUT >>> 0]: ERROR_SEM_TIMEOUT,
  [STATUS_INVALID_BLOCK_LENGTH >>> 0]: ERROR_INVALID_BLOCK_LENGTH,
  [STATUS_DEVICE_PROTOCOL_ERROR >>> 0]: ERROR_IO_DEVICE,
  [STATUS_VERIFY_REQUIRED >>> 0]: ERROR_MEDIA_CHANGED,
  [STATUS_INFO_LENGTH_MISMATCH >>> 0]: ERROR_BAD_LENGTH,
  [STATUS_DEVICE_HARDWARE_ERROR >>> 0]: ERROR_DEVICE_HARDWARE_ERROR,
  [STATUS_DEVICE_DOES_NOT_EXIST >>> 0]: ERROR_BAD_UNIT,
  [STATUS_DISK_CORRUPT_ERROR >>> 0]: ERROR_DISK_CORRUPT,
  [STATUS_UNRECOGNIZED_MEDIA >>> 0]: ERROR_UNRECOGNIZED_MEDIA,
  [STATUS_NO_DATA_DETECTED >>> 0]: ERROR_NO_DATA_DETECTED,
  [STATUS_INVALID_IMAGE_FORMAT >>> 0]: ERROR_BAD_EXE_FORMAT,
  [STATUS_IMAGE_ALREADY_LOADED >>> 0]: ERROR_SERVICE_ALREADY_RUNNING,
};

/** RtlNtStatusToDosError for the codes the I/O path produces (others: ERROR_GEN_FAILURE). */
export function RtlNtStatusToDosError(Status: NTSTATUS): number {
  return DOS_ERRORS[Status >>> 0] ?? ERROR_GEN_FAILURE;
}

/** The executing user thread and its process, for a system service. */
export interface ServiceContext {
  k: Kernel;
  thread: ETHREAD;
  process: EPROCESS;
}

/** `thread`'s context for system services (one per thread: the kernel, the thread and its process do not change). */
function contextOf(k: Kernel, thread: ETHREAD): ServiceContext {
  return (thread.serviceContext ??= { k, thread, process: thread.process });
}

/** The executing thread of a user process; throws when called from anywhere else. */
export function callingThread(k: Kernel = KE()): ETHREAD {
  const t = k.cpu.CurrentThread;
  const e = t ? ethreadOf(t) : undefined;
  if (!e) throw new Error("user-mode APIs can only be called from a program running in a user process (Machine.runProgram)");
  return e;
}

/** Sets the calling thread's last error. */
export function setLastError(thread: ETHREAD, error: number): void {
  thread.LastErrorValue = error;
}

/** GetLastError: the calling thread's last Win32 error. */
export function GetLastError(): number {
  return callingThread().LastErrorValue;
}

/** SetLastError: sets the calling thread's last Win32 error. */
export function SetLastError(dwErrCode: number): void {
  callingThread().LastErrorValue = dwErrCode;
}

/**
 * A system service that does not wait: charges the transition and runs the APCs queued to
 * the thread before and after `body`.
 */
export function service<T>(body: (c: ServiceContext) => T): T {
  const k = KE();
  const thread = callingThread(k);
  k.chargePs(k.cost.SystemCall);
  deliverKernelApcs(thread);
  leaveIfProcessEnding(thread);
  try {
    return body(contextOf(k, thread));
  } finally {
    deliverKernelApcs(thread);
  }
}

/**
 * A system service that may wait. `body` returns the NTSTATUS the kernel ended with and
 * the Win32 value to return. When the call fails — it returns `failure`, or ends with an
 * error status or STATUS_PENDING — the status becomes the thread's last error
 * (RtlNtStatusToDosError); a call that succeeds leaves the last error alone, as kernel32
 * does. A status raised inside (a probe of a bad buffer) returns `failure` with that
 * status's error.
 */
export async function systemService<T>(failure: T, body: (c: ServiceContext) => Promise<ServiceOutcome<T>>): Promise<T> {
  const k = KE();
  const thread = callingThread(k);
  k.chargePs(k.cost.SystemCall);
  deliverKernelApcs(thread);
  leaveIfProcessEnding(thread);
  let outcome: ServiceOutcome<T>;
  try {
    outcome = await body(contextOf(k, thread));
  } catch (e) {
    if (!(e instanceof NtStatusException)) throw e;
    outcome = { status: e.status, value: failure };
  }
  deliverKernelApcs(thread);
  // kernel32 sets the last error only when the call fails (BaseSetLastNTError); success leaves it alone.
  if (outcome.error !== undefined || outcome.value === failure || !NT_SUCCESS(outcome.status) || outcome.status === STATUS_PENDING) {
    setLastError(thread, outcome.error ?? RtlNtStatusToDosError(outcome.status));
  }
  return outcome.value;
}

/** What a system service's body ends with. */
export interface ServiceOutcome<T> {
  /** The kernel's status (it becomes the last error unless `error` is given). */
  status: NTSTATUS;
  /** The Win32 return value. */
  value: T;
  /** A Win32 error the API sets itself (kernel32 does for a few outcomes, such as ERROR_IO_INCOMPLETE). */
  error?: number;
}

/** A Win32 BOOL-style outcome: `ok` when the status is a success other than STATUS_PENDING. */
export function succeeded(status: NTSTATUS): boolean {
  return NT_SUCCESS(status) && status !== STATUS_PENDING;
}
