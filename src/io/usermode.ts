/**
 * The user-mode API programs call (Machine.runProgram), with Win32 names and parameter
 * order; C out-parameters come back as return values. This file has the file calls —
 * CreateFile, CloseHandle, ReadFile, WriteFile, DeviceIoControl — and VirtualAlloc /
 * VirtualFree, and re-exports the rest: overlapped results, events and waits, threads,
 * cancellation, completion ports and the SetupAPI / configuration manager calls.
 *
 * Each call enters the kernel (a system call's cost) and the I/O manager builds an IRP
 * for the top of the device's stack (src/io/request.ts): buffered I/O through a system
 * buffer in nonpaged pool, direct I/O through an MDL of the caller's buffer locked for the
 * transfer's access (Irp.MdlAddress), METHOD_NEITHER with the caller's own addresses. A
 * file opened with FILE_FLAG_OVERLAPPED takes an OVERLAPPED: a request that pends returns
 * FALSE with ERROR_IO_PENDING and completes later (status block, event, completion port).
 *
 * Buffers may be host byte arrays (copied into the process's user memory for the request
 * and back out when it completes) or user-mode addresses from VirtualAlloc.
 */
import { ioctlRequiredAccess } from "./function-access.js";
import { handleEntry } from "../ob/handles.js";
import { KEVENT, KPROCESSOR_MODE } from "../ke/dispatcher.js";
import {
  NT_ERROR, NT_SUCCESS, STATUS_ACCESS_DENIED, STATUS_ACCESS_VIOLATION, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_HANDLE, STATUS_PENDING,
  STATUS_SUCCESS, NtStatusException, type NTSTATUS,
} from "../ke/ntstatus.js";
import { readBytes, writeBytes, RtlCopyMemory } from "../mm/memory.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../mm/pool.js";
import { USER_SPACE_END } from "../mm/address-space.js";
import { LOCK_OPERATION, MDL, MDL_PAGES_LOCKED, MmProbeAndLockPages, MmUnlockPages } from "../mm/mdl.js";
import {
  IoGetNextIrpStackLocation, IRP_MJ_DEVICE_CONTROL, IRP_MJ_READ, IRP_MJ_WRITE, type IRP,
} from "./irp.js";
import { METHOD_BUFFERED, METHOD_FROM_CTL_CODE, METHOD_IN_DIRECT, METHOD_NEITHER } from "./ioctl.js";
import { IoAllocateMdl, IoFreeMdl } from "./mdl.js";
import { DO_BUFFERED_IO, DO_DIRECT_IO, topOfStack, type DEVICE_OBJECT } from "./objects.js";
import {
  allocateUserMemory, borrowUserBuffer, EPROCESS, FILE_OBJECT, FO_SYNCHRONOUS_IO, freeUserMemory, returnUserBuffer, type ETHREAD,
} from "./process.js";
import {
  IRP_BUFFERED_IO, IRP_DEALLOCATE_BUFFER, IRP_INPUT_OPERATION, issueRequest, type RequestOptions,
} from "./request.js";
import { OVERLAPPED } from "./overlapped.js";
import { openDeviceFile, ntNameOf } from "./open.js";
import { closeHandleAt } from "../ob/handles.js";
import { OB } from "../ob/manager.js";
import { FILE_READ_ATTRIBUTES, SYNCHRONIZE } from "../ob/access.js";
import { dereference } from "../ob/reference.js";
import { ERROR_SUCCESS, INVALID_HANDLE_VALUE, RtlNtStatusToDosError, service, succeeded, systemService, type HANDLE, type ServiceContext } from "./win32.js";
import { queueUserApc } from "./user-apc.js";

export * from "./win32.js";
export * from "./overlapped.js";
export * from "./sync-objects.js";
export * from "./threads.js";
export * from "./process-exit.js";
export * from "./cancel-io.js";
export * from "./completion-port.js";
export * from "./user-apc.js";
export * from "./setupapi.js";
export * from "./service-control.js";
export * from "./registry-api.js";
export { IRP_SYNCHRONOUS_API, IRP_BUFFERED_IO, IRP_DEALLOCATE_BUFFER, IRP_INPUT_OPERATION } from "./request.js";
export { FO_SYNCHRONOUS_IO, FO_SKIP_COMPLETION_PORT, FO_SKIP_SET_EVENT, FILE_OBJECT } from "./process.js";

export { GENERIC_ALL, GENERIC_EXECUTE, GENERIC_READ, GENERIC_WRITE } from "../ob/access.js";
export const FILE_SHARE_READ = 1;
export const FILE_SHARE_WRITE = 2;
export const CREATE_NEW = 1;
export const CREATE_ALWAYS = 2;
export const OPEN_EXISTING = 3;
export const FILE_ATTRIBUTE_NORMAL = 0x80;
/** CreateFile: open for overlapped (asynchronous) I/O. */
export const FILE_FLAG_OVERLAPPED = 0x40000000;
/** IRP_MJ_CREATE's CreateOptions for a file opened for synchronous I/O (what CreateFile passes without FILE_FLAG_OVERLAPPED). */
export const FILE_SYNCHRONOUS_IO_NONALERT = 0x00000020;

const SYSTEM_BUFFER_TAG = "Iosb";

/** VirtualAlloc: commits zeroed, read-write user memory; returns its address or 0. */
export function VirtualAlloc(dwSize: number): number {
  return service((c) => allocateUserMemory(c.process, dwSize, c.k));
}

/** VirtualFree: releases memory from VirtualAlloc. */
export function VirtualFree(lpAddress: number, dwSize: number): boolean {
  return service((c) => {
    freeUserMemory(c.process, lpAddress, dwSize, c.k);
    return true;
  });
}

/** A caller's buffer: host bytes, a user-mode address, or none. */
export type UserBuffer = Uint8Array | number | null;

/** A caller's buffer made addressable for a request: its VA, and how to give it back. */
class StagedBuffer {
  constructor(
    readonly va: number,
    /** The host bytes staged at `va` (null when the caller passed an address or nothing). */
    private readonly host: Uint8Array | null,
    private readonly process: EPROCESS | null,
    private readonly length: number,
  ) {}

  /** Gives a staged buffer back, first copying its bytes out to the host array if `copyBack`. */
  release(copyBack: boolean): void {
    if (!this.host) return;
    // Completion runs in the caller's address space; a buffer the program unmapped meanwhile is skipped.
    if (copyBack) {
      try {
        this.host.set(readBytes(this.va, this.length));
      } catch (e) {
        if (!(e instanceof NtStatusException) || e.status !== STATUS_ACCESS_VIOLATION) throw e;
      }
    }
    returnUserBuffer(this.process!, this.va, this.length);
  }
}

const NO_BUFFER = new StagedBuffer(0, null, null, 0);

function stage(c: ServiceContext, buffer: UserBuffer, length: number): StagedBuffer {
  if (buffer === null || length === 0) return NO_BUFFER;
  if (typeof buffer === "number") return new StagedBuffer(buffer, null, null, length);
  if (length > buffer.length) throw new RangeError(`buffer of ${buffer.length} bytes is shorter than the ${length} bytes passed`);
  const va = borrowUserBuffer(c.process, length, c.k);
  writeBytes(va, buffer.subarray(0, length));
  return new StagedBuffer(va, buffer, c.process, length);
}

/** Copies buffered output to the caller's memory the way IopCompleteRequest does: inside try/except (a bad address is skipped). */
function ignoreAccessViolation(userVa: number, systemBuffer: number, bytes: number): void {
  try {
    RtlCopyMemory(userVa, systemBuffer, bytes);
  } catch (e) {
    if (!(e instanceof NtStatusException) || e.status !== STATUS_ACCESS_VIOLATION) throw e;
  }
}

function probe(va: number, length: number): void {
  if (length > 0 && (va <= 0 || va + length > USER_SPACE_END)) throw new NtStatusException(STATUS_ACCESS_VIOLATION);
}

/**
 * Direct I/O: an MDL for the caller's buffer, probed and locked for `operation` in the
 * caller's process (a bad address raises STATUS_ACCESS_VIOLATION); null for no buffer.
 */
function lockUserBuffer(va: number, length: number, operation: LOCK_OPERATION): MDL | null {
  if (length === 0) return null;
  const mdl = IoAllocateMdl(va, length, false, false, null);
  if (!mdl) throw new NtStatusException(STATUS_INSUFFICIENT_RESOURCES);
  try {
    MmProbeAndLockPages(mdl, KPROCESSOR_MODE.UserMode, operation);
  } catch (e) {
    IoFreeMdl(mdl);
    throw e;
  }
  return mdl;
}

/** After a direct I/O request completes: unlocks and frees every MDL on the IRP's chain. */
function releaseMdls(first: MDL | null): void {
  for (let mdl = first; mdl; ) {
    const next = mdl.Next;
    if ((mdl.MdlFlags & MDL_PAGES_LOCKED) !== 0) MmUnlockPages(mdl);
    IoFreeMdl(mdl);
    mdl = next;
  }
}

/** The file object behind `h`, or null. */
function fileOf(process: EPROCESS, h: HANDLE): FILE_OBJECT | null {
  const o = process.handles.get(h);
  return o instanceof FILE_OBJECT ? o : null;
}

/**
 * Checks lpOverlapped.hEvent and marks the OVERLAPPED in progress (kernel32 sets Internal
 * to STATUS_PENDING before it calls the kernel). Returns the event object (null for none),
 * or false if hEvent is not an event.
 */
function prepareOverlapped(c: ServiceContext, lpOverlapped: OVERLAPPED | null | undefined): KEVENT | null | false {
  if (!lpOverlapped) return null;
  let userEvent: KEVENT | null = null;
  if (lpOverlapped.hEvent) {
    const e = c.process.handles.get(lpOverlapped.hEvent & ~3);
    if (!(e instanceof KEVENT)) return false;
    userEvent = e;
  }
  lpOverlapped.Internal = STATUS_PENDING;
  lpOverlapped.InternalHigh = 0;
  return userEvent;
}

/**
 * One DeviceIoControl, ReadFile or WriteFile: the caller's buffers, how the IRP carries
 * them (its RequestOptions), and what happens to them when the request completes.
 */
abstract class Transfer implements RequestOptions {
  readonly overlapped: OVERLAPPED | null;
  readonly noPort: boolean;
  /** Nonpaged system buffer (buffered I/O, and the input of direct IOCTLs), or 0. */
  systemBuffer = 0;
  /** The caller's buffer locked for direct I/O, or null. */
  mdl: MDL | null = null;

  constructor(lpOverlapped: OVERLAPPED | null | undefined, readonly userEvent: KEVENT | null) {
    this.overlapped = lpOverlapped ?? null;
    this.noPort = lpOverlapped ? (lpOverlapped.hEvent & 1) !== 0 : false;
  }

  /** Allocates and fills the system buffer, locks the MDL; on a failure releases what it took and rethrows. */
  prepare(): void {
    try {
      this.acquire();
    } catch (e) {
      this.release(e instanceof NtStatusException ? e.status : STATUS_ACCESS_VIOLATION, this.mdl);
      throw e;
    }
  }

  protected abstract acquire(): void;
  abstract setup(irp: IRP): void;
  abstract finish(irp: IRP): void;
  /** Unlocks and frees the MDLs, frees the system buffer, gives the staged buffers back. */
  protected abstract release(status: NTSTATUS, mdl: MDL | null): void;

  protected allocateSystemBuffer(length: number): void {
    this.systemBuffer = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, length, SYSTEM_BUFFER_TAG);
    if (this.systemBuffer === 0) throw new NtStatusException(STATUS_INSUFFICIENT_RESOURCES);
  }

  protected freeBuffers(mdl: MDL | null): void {
    releaseMdls(mdl);
    if (this.systemBuffer !== 0) ExFreePoolWithTag(this.systemBuffer, SYSTEM_BUFFER_TAG);
  }
}

/** A DeviceIoControl. */
class IoctlTransfer extends Transfer {
  readonly method: number;
  readonly direct: boolean;

  constructor(lpOverlapped: OVERLAPPED | null | undefined, userEvent: KEVENT | null, readonly code: number, readonly input: StagedBuffer, readonly inLength: number, readonly output: StagedBuffer, readonly outLength: number) {
    super(lpOverlapped, userEvent);
    this.method = METHOD_FROM_CTL_CODE(code);
    this.direct = this.method !== METHOD_BUFFERED && this.method !== METHOD_NEITHER;
  }

  protected acquire(): void {
    probe(this.input.va, this.inLength);
    probe(this.output.va, this.outLength);
    const length = this.method === METHOD_BUFFERED ? Math.max(this.inLength, this.outLength) : this.direct ? this.inLength : 0;
    if (length > 0) {
      this.allocateSystemBuffer(length);
      if (this.inLength > 0) RtlCopyMemory(this.systemBuffer, this.input.va, this.inLength);
    }
    if (this.direct) this.mdl = lockUserBuffer(this.output.va, this.outLength, this.method === METHOD_IN_DIRECT ? LOCK_OPERATION.IoReadAccess : LOCK_OPERATION.IoWriteAccess);
  }

  setup(i: IRP): void {
    const s = IoGetNextIrpStackLocation(i);
    s.MajorFunction = IRP_MJ_DEVICE_CONTROL;
    s.Parameters.DeviceIoControl.IoControlCode = this.code;
    s.Parameters.DeviceIoControl.InputBufferLength = this.inLength;
    s.Parameters.DeviceIoControl.OutputBufferLength = this.outLength;
    if (this.method === METHOD_BUFFERED) {
      i.AssociatedIrp.SystemBuffer = this.systemBuffer;
      i.Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | (this.outLength > 0 ? IRP_INPUT_OPERATION : 0);
    } else if (this.direct) {
      i.AssociatedIrp.SystemBuffer = this.systemBuffer;
      if (this.systemBuffer !== 0) i.Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER;
      i.MdlAddress = this.mdl;
    } else {
      s.Parameters.DeviceIoControl.Type3InputBuffer = this.input.va;
    }
    i.UserBuffer = this.output.va;
  }

  finish(i: IRP): void {
    const status = i.IoStatus.Status;
    const copied = Math.min(typeof i.IoStatus.Information === "number" ? i.IoStatus.Information : 0, this.outLength);
    // Buffered output is copied back for success and warning statuses (not errors).
    if (this.method === METHOD_BUFFERED && copied > 0 && !NT_ERROR(status)) ignoreAccessViolation(this.output.va, this.systemBuffer, copied);
    this.release(status, i.MdlAddress as MDL | null);
  }

  protected release(status: NTSTATUS, mdl: MDL | null): void {
    this.freeBuffers(mdl);
    this.input.release(false);
    this.output.release(!NT_ERROR(status));
  }
}

/** A ReadFile or WriteFile. */
class ReadWriteTransfer extends Transfer {
  readonly read: boolean;
  readonly direct: boolean;
  readonly buffered: boolean;
  /** ReadFileEx / WriteFileEx: the completion routine and the thread it is queued to (null: none). */
  completion: { routine: LPOVERLAPPED_COMPLETION_ROUTINE; thread: ETHREAD } | null = null;

  constructor(lpOverlapped: OVERLAPPED | null | undefined, userEvent: KEVENT | null, readonly major: number, device: DEVICE_OBJECT, readonly user: StagedBuffer, readonly length: number, readonly byteOffset: number) {
    super(lpOverlapped, userEvent);
    this.read = major === IRP_MJ_READ;
    this.direct = (device.Flags & DO_DIRECT_IO) !== 0;
    this.buffered = !this.direct && (device.Flags & DO_BUFFERED_IO) !== 0;
  }

  protected acquire(): void {
    probe(this.user.va, this.length);
    if (this.buffered && this.length > 0) {
      this.allocateSystemBuffer(this.length);
      if (!this.read) RtlCopyMemory(this.systemBuffer, this.user.va, this.length);
    }
    // A read fills the caller's buffer (the device writes memory); a write only reads it.
    if (this.direct) this.mdl = lockUserBuffer(this.user.va, this.length, this.read ? LOCK_OPERATION.IoWriteAccess : LOCK_OPERATION.IoReadAccess);
  }

  setup(i: IRP): void {
    const s = IoGetNextIrpStackLocation(i);
    s.MajorFunction = this.major;
    s.Parameters.Read.Length = this.length;
    s.Parameters.Read.ByteOffset = this.byteOffset;
    if (this.buffered) {
      i.AssociatedIrp.SystemBuffer = this.systemBuffer;
      i.Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | (this.read ? IRP_INPUT_OPERATION : 0);
    }
    if (this.direct) i.MdlAddress = this.mdl;
    i.UserBuffer = this.user.va;
  }

  finish(i: IRP): void {
    const status = i.IoStatus.Status;
    const bytes = Math.min(typeof i.IoStatus.Information === "number" ? i.IoStatus.Information : 0, this.length);
    if (this.buffered && this.read && bytes > 0 && !NT_ERROR(status)) ignoreAccessViolation(this.user.va, this.systemBuffer, bytes);
    this.release(status, i.MdlAddress as MDL | null);
    // The completion routine is queued unless the request failed without pending (the caller then gets the error).
    const c = this.completion;
    if (c && (!NT_ERROR(status) || i.PendingReturned)) {
      const overlapped = this.overlapped!;
      const error = RtlNtStatusToDosError(status);
      queueUserApc(c.thread, () => c.routine(error, bytes, overlapped));
    }
  }

  protected release(status: NTSTATUS, mdl: MDL | null): void {
    this.freeBuffers(mdl);
    this.user.release(this.read && !NT_ERROR(status));
  }
}

/**
 * CreateFile: opens a device by name — "\\\\.\\Edu0" (a DOS device name: \??\Edu0, a symbolic
 * link in \GLOBAL??), a device interface path "\\\\?\\..." from SetupDiGetDeviceInterfaceDetail,
 * or an NT name "\\Device\\Edu0" — and sends IRP_MJ_CREATE down its stack
 * (FileObject.FileName is what follows the device's own name). With FILE_FLAG_OVERLAPPED in
 * `dwFlagsAndAttributes` the handle is for overlapped I/O; otherwise for synchronous I/O.
 * Returns a handle or INVALID_HANDLE_VALUE: ERROR_FILE_NOT_FOUND when the last component of
 * the name does not exist, ERROR_PATH_NOT_FOUND when an earlier one does not, or the error
 * of the driver's failed create. A handle returned leaves the last error 0, as CreateFile does.
 */
export function CreateFile(lpFileName: string, dwDesiredAccess: number, dwShareMode: number, lpSecurityAttributes: null, dwCreationDisposition: number, dwFlagsAndAttributes: number, hTemplateFile: null): Promise<HANDLE> {
  return systemService(INVALID_HANDLE_VALUE, async (c) => {
    const synchronous = (dwFlagsAndAttributes & FILE_FLAG_OVERLAPPED) === 0;
    const options = (dwCreationDisposition << 24) | (synchronous ? FILE_SYNCHRONOUS_IO_NONALERT : 0);
    const { status, file } = await openDeviceFile(c.k, ntNameOf(lpFileName), dwDesiredAccess, dwShareMode, options, synchronous, c.process.Token);
    if (!file) return { status, value: INVALID_HANDLE_VALUE };
    // The handle takes over the creator's reference; kernel32 asks for SYNCHRONIZE and FILE_READ_ATTRIBUTES besides.
    const handle = c.process.insertHandle(file, c.k, dwDesiredAccess | SYNCHRONIZE | FILE_READ_ATTRIBUTES);
    void dereference(c.k, OB(c.k).headerOf(file)!);
    // CreateFile sets the last error on success too: 0 (devices are never an existing file ERROR_ALREADY_EXISTS would report).
    return { status, value: handle, error: ERROR_SUCCESS };
  });
}

/**
 * CloseHandle: drops the handle. For a file: when it was the file object's last handle
 * the I/O manager sends IRP_MJ_CLEANUP (even with requests still outstanding: the driver
 * cancels or completes them), and when the last reference goes — the handle's, or that of
 * the last outstanding IRP once it completes — IRP_MJ_CLOSE. Closing a completion port's
 * last handle runs its queue down; closing a named object's last handle takes its name away.
 */
export function CloseHandle(hObject: HANDLE): Promise<boolean> {
  return systemService(false, async (c) => {
    if (hObject <= 0 || !c.process.handles.entry(hObject)) return { status: STATUS_INVALID_HANDLE, value: false };
    await closeHandleAt(c.k, c.process.handles, hObject);
    return { status: STATUS_SUCCESS, value: true };
  });
}

/** What DeviceIoControl, ReadFile and WriteFile return: the BOOL and the bytes transferred (the C out-parameter). */
export interface IoResult {
  /** The Win32 BOOL result. */
  ok: boolean;
  /** lpBytesReturned / lpNumberOfBytesRead / lpNumberOfBytesWritten (0 unless `ok`). */
  bytes: number;
}

/** What a failed call returns. */
const FAILED: IoResult = Object.freeze({ ok: false, bytes: 0 });

/** The Win32 outcome of a request: TRUE with its bytes, or FALSE (STATUS_PENDING included). */
function outcome(status: NTSTATUS, information: number, limit: number): { status: NTSTATUS; value: IoResult } {
  const ok = succeeded(status);
  return { status, value: { ok, bytes: ok ? Math.min(information, limit) : 0 } };
}

/**
 * DeviceIoControl: sends IRP_MJ_DEVICE_CONTROL. METHOD_BUFFERED goes through one system
 * buffer of max(in, out) bytes holding the input, and IoStatus.Information bytes are
 * copied back when the request completes without an error status; METHOD_IN_DIRECT and
 * METHOD_OUT_DIRECT put the input in a system buffer and describe the output buffer with
 * an MDL locked for read (IN) or write (OUT) access in Irp.MdlAddress; METHOD_NEITHER
 * passes the caller's addresses. With `lpOverlapped` on an overlapped handle a request
 * that pends returns FALSE with ERROR_IO_PENDING.
 */
export function DeviceIoControl(hDevice: HANDLE, dwIoControlCode: number, lpInBuffer: UserBuffer, nInBufferSize: number, lpOutBuffer: UserBuffer, nOutBufferSize: number, lpOverlapped?: OVERLAPPED | null): Promise<IoResult> {
  return systemService(FAILED, async (c) => {
    const file = fileOf(c.process, hDevice);
    const userEvent = prepareOverlapped(c, lpOverlapped);
    if (!file || userEvent === false) return { status: STATUS_INVALID_HANDLE, value: FAILED };
    // The control code's RequiredAccess must have been granted to the handle.
    const required = ioctlRequiredAccess(dwIoControlCode);
    if (required !== 0 && (required & ~(handleEntry(c.k, hDevice, KPROCESSOR_MODE.UserMode)?.GrantedAccess ?? 0)) !== 0) return { status: STATUS_ACCESS_DENIED, value: FAILED };
    const t = new IoctlTransfer(lpOverlapped, userEvent, dwIoControlCode, stage(c, lpInBuffer, nInBufferSize), nInBufferSize, stage(c, lpOutBuffer, nOutBufferSize), nOutBufferSize);
    t.prepare();
    const { status, information } = await issueRequest(c.thread, file, t);
    return outcome(status, information, nOutBufferSize);
  });
}

function transfer(major: number, hFile: HANDLE, buffer: UserBuffer, length: number, lpOverlapped: OVERLAPPED | null | undefined): Promise<IoResult> {
  return systemService(FAILED, async (c) => {
    const file = fileOf(c.process, hFile);
    const userEvent = prepareOverlapped(c, lpOverlapped);
    if (!file || userEvent === false) return { status: STATUS_INVALID_HANDLE, value: FAILED };
    const byteOffset = lpOverlapped ? lpOverlapped.Offset + lpOverlapped.OffsetHigh * 2 ** 32 : file.CurrentByteOffset;
    const t = new ReadWriteTransfer(lpOverlapped, userEvent, major, topOfStack(file.DeviceObject), stage(c, buffer, length), length, byteOffset);
    t.prepare();
    const { status, information } = await issueRequest(c.thread, file, t);
    return outcome(status, information, length);
  });
}

/** ReadFileEx / WriteFileEx: a transfer whose completion is reported by queueing `routine` to the calling thread. */
function transferEx(major: number, hFile: HANDLE, buffer: UserBuffer, length: number, lpOverlapped: OVERLAPPED, routine: LPOVERLAPPED_COMPLETION_ROUTINE): Promise<boolean> {
  return systemService(false, async (c) => {
    const file = fileOf(c.process, hFile);
    if (!file || (file.Flags & FO_SYNCHRONOUS_IO) !== 0) return { status: STATUS_INVALID_HANDLE, value: false };
    // hEvent is the caller's to use: no event is set.
    lpOverlapped.Internal = STATUS_PENDING;
    lpOverlapped.InternalHigh = 0;
    const byteOffset = lpOverlapped.Offset + lpOverlapped.OffsetHigh * 2 ** 32;
    const t = new ReadWriteTransfer(lpOverlapped, null, major, topOfStack(file.DeviceObject), stage(c, buffer, length), length, byteOffset);
    t.completion = { routine, thread: c.thread };
    t.prepare();
    const { status } = await issueRequest(c.thread, file, t);
    return NT_SUCCESS(status) ? { status: STATUS_SUCCESS, value: true } : { status, value: false };
  });
}

/**
 * LPOVERLAPPED_COMPLETION_ROUTINE: what ReadFileEx and WriteFileEx call when the request
 * completes or is cancelled and the thread is in an alertable wait: the Win32 error (0
 * for success; ERROR_OPERATION_ABORTED when cancelled), the bytes transferred, the
 * request's OVERLAPPED.
 */
export type LPOVERLAPPED_COMPLETION_ROUTINE = (dwErrorCode: number, dwNumberOfBytesTransfered: number, lpOverlapped: OVERLAPPED) => void | Promise<void>;

/**
 * ReadFileEx: sends IRP_MJ_READ on a handle opened with FILE_FLAG_OVERLAPPED, at
 * lpOverlapped's offset (hEvent is ignored). TRUE when the request was issued (it pends or
 * completed): `lpCompletionRoutine` is then queued to the calling thread when it finishes
 * and runs in the thread's next alertable wait (SleepEx). FALSE with the error when the
 * request failed at once (nothing is queued); ERROR_INVALID_HANDLE for a bad handle or a
 * handle not opened for overlapped I/O.
 */
export function ReadFileEx(hFile: HANDLE, lpBuffer: UserBuffer, nNumberOfBytesToRead: number, lpOverlapped: OVERLAPPED, lpCompletionRoutine: LPOVERLAPPED_COMPLETION_ROUTINE): Promise<boolean> {
  return transferEx(IRP_MJ_READ, hFile, lpBuffer, nNumberOfBytesToRead, lpOverlapped, lpCompletionRoutine);
}

/** WriteFileEx: WriteFile's counterpart of ReadFileEx (IRP_MJ_WRITE; same completion and errors). */
export function WriteFileEx(hFile: HANDLE, lpBuffer: UserBuffer, nNumberOfBytesToWrite: number, lpOverlapped: OVERLAPPED, lpCompletionRoutine: LPOVERLAPPED_COMPLETION_ROUTINE): Promise<boolean> {
  return transferEx(IRP_MJ_WRITE, hFile, lpBuffer, nNumberOfBytesToWrite, lpOverlapped, lpCompletionRoutine);
}

/**
 * ReadFile: sends IRP_MJ_READ for `nNumberOfBytesToRead` bytes into the buffer, at
 * lpOverlapped's offset when one is given (else at the file's current byte offset).
 */
export function ReadFile(hFile: HANDLE, lpBuffer: UserBuffer, nNumberOfBytesToRead: number, lpOverlapped?: OVERLAPPED | null): Promise<IoResult> {
  return transfer(IRP_MJ_READ, hFile, lpBuffer, nNumberOfBytesToRead, lpOverlapped);
}

/** WriteFile: sends IRP_MJ_WRITE with `nNumberOfBytesToWrite` bytes from the buffer (offset as ReadFile). */
export function WriteFile(hFile: HANDLE, lpBuffer: UserBuffer, nNumberOfBytesToWrite: number, lpOverlapped?: OVERLAPPED | null): Promise<IoResult> {
  return transfer(IRP_MJ_WRITE, hFile, lpBuffer, nNumberOfBytesToWrite, lpOverlapped);
}
