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
import { KEVENT, KPROCESSOR_MODE } from "../ke/dispatcher.js";
import { KQUEUE } from "../ke/queue.js";
import {
  NT_ERROR, STATUS_ACCESS_VIOLATION, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_HANDLE, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_PENDING,
  STATUS_SUCCESS, NtStatusException, NT_SUCCESS, type NTSTATUS,
} from "../ke/ntstatus.js";
import { readBytes, writeBytes, RtlCopyMemory } from "../mm/memory.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../mm/pool.js";
import { USER_SPACE_END } from "../mm/address-space.js";
import { LOCK_OPERATION, MDL, MDL_PAGES_LOCKED, MmProbeAndLockPages, MmUnlockPages } from "../mm/mdl.js";
import {
  IoGetNextIrpStackLocation, IRP_MJ_CLEANUP, IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL, IRP_MJ_READ, IRP_MJ_WRITE, type IRP,
} from "./irp.js";
import { METHOD_BUFFERED, METHOD_FROM_CTL_CODE, METHOD_IN_DIRECT, METHOD_NEITHER } from "./ioctl.js";
import { IoAllocateMdl, IoFreeMdl } from "./mdl.js";
import { DO_BUFFERED_IO, DO_DIRECT_IO, topOfStack } from "./objects.js";
import { IO } from "./manager.js";
import {
  allocateUserMemory, borrowUserBuffer, EPROCESS, FILE_OBJECT, FO_SYNCHRONOUS_IO, freeUserMemory, returnUserBuffer,
} from "./process.js";
import {
  dereferenceFileObject, IRP_BUFFERED_IO, IRP_DEALLOCATE_BUFFER, IRP_INPUT_OPERATION, issueRequest, sendFileIrp,
} from "./request.js";
import { OVERLAPPED } from "./overlapped.js";
import { closePortHandle } from "./completion-port.js";
import { INVALID_HANDLE_VALUE, service, succeeded, systemService, type HANDLE, type ServiceContext } from "./win32.js";

export * from "./win32.js";
export * from "./overlapped.js";
export * from "./sync-objects.js";
export * from "./threads.js";
export * from "./cancel-io.js";
export * from "./completion-port.js";
export * from "./setupapi.js";
export { IRP_SYNCHRONOUS_API, IRP_BUFFERED_IO, IRP_DEALLOCATE_BUFFER, IRP_INPUT_OPERATION } from "./request.js";
export { FO_SYNCHRONOUS_IO, FO_SKIP_COMPLETION_PORT, FO_SKIP_SET_EVENT, FILE_OBJECT } from "./process.js";

export const GENERIC_READ = 0x80000000;
export const GENERIC_WRITE = 0x40000000;
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

/** A user buffer made addressable for the request: its VA, and how to give it back. */
interface StagedBuffer {
  va: number;
  release(copyBack: boolean): void;
}

function stage(c: ServiceContext, buffer: UserBuffer, length: number): StagedBuffer {
  if (buffer === null || length === 0) return { va: 0, release() {} };
  if (typeof buffer === "number") return { va: buffer, release() {} };
  if (length > buffer.length) throw new RangeError(`buffer of ${buffer.length} bytes is shorter than the ${length} bytes passed`);
  const process = c.process;
  const va = borrowUserBuffer(process, length, c.k);
  writeBytes(va, buffer.subarray(0, length));
  return {
    va,
    release(copyBack: boolean) {
      // Completion runs in the caller's address space; a buffer the program unmapped meanwhile is skipped.
      if (copyBack) ignoreAccessViolation(() => buffer.set(readBytes(va, length)));
      returnUserBuffer(process, va, length);
    },
  };
}

/** Runs a copy to or from user memory the way IopCompleteRequest does: inside try/except. */
function ignoreAccessViolation(copy: () => void): void {
  try {
    copy();
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

/** Everything a transfer needs besides its buffers: the OVERLAPPED, its event and whether it skips the port. */
interface OverlappedRequest {
  overlapped: OVERLAPPED | null;
  userEvent: KEVENT | null;
  noPort: boolean;
}

/**
 * Validates lpOverlapped.hEvent and marks the OVERLAPPED in progress (kernel32 sets
 * Internal to STATUS_PENDING before it calls the kernel). Null if hEvent is not an event.
 */
function prepareOverlapped(c: ServiceContext, lpOverlapped: OVERLAPPED | null | undefined): OverlappedRequest | null {
  if (!lpOverlapped) return { overlapped: null, userEvent: null, noPort: false };
  let userEvent: KEVENT | null = null;
  if (lpOverlapped.hEvent) {
    const e = c.process.handles.get(lpOverlapped.hEvent & ~3);
    if (!(e instanceof KEVENT)) return null;
    userEvent = e;
  }
  lpOverlapped.Internal = STATUS_PENDING;
  lpOverlapped.InternalHigh = 0;
  return { overlapped: lpOverlapped, userEvent, noPort: (lpOverlapped.hEvent & 1) !== 0 };
}

/**
 * CreateFile: opens a device by name — "\\\\.\\Edu0", "\\Device\\Edu0", or a device
 * interface path "\\\\?\\..." from SetupDiGetDeviceInterfaceDetail — and sends IRP_MJ_CREATE
 * down its stack (FileObject.FileName is what follows the device's own name). With
 * FILE_FLAG_OVERLAPPED in `dwFlagsAndAttributes` the handle is for overlapped I/O;
 * otherwise for synchronous I/O. Returns a handle or INVALID_HANDLE_VALUE.
 */
export function CreateFile(lpFileName: string, dwDesiredAccess: number, dwShareMode: number, lpSecurityAttributes: null, dwCreationDisposition: number, dwFlagsAndAttributes: number, hTemplateFile: null): Promise<HANDLE> {
  return systemService(INVALID_HANDLE_VALUE, async (c) => {
    const found = IO(c.k).parse(lpFileName);
    if (!found) return { status: STATUS_OBJECT_NAME_NOT_FOUND, value: INVALID_HANDLE_VALUE };
    const file = new FILE_OBJECT(found.device, found.remaining);
    const synchronous = (dwFlagsAndAttributes & FILE_FLAG_OVERLAPPED) === 0;
    if (synchronous) file.Flags |= FO_SYNCHRONOUS_IO;
    const status = await sendFileIrp(file, IRP_MJ_CREATE, (i) => {
      const s = IoGetNextIrpStackLocation(i);
      s.Parameters.Create.Options = (dwCreationDisposition << 24) | (synchronous ? FILE_SYNCHRONOUS_IO_NONALERT : 0);
      s.Parameters.Create.ShareAccess = dwShareMode;
    });
    if (!NT_SUCCESS(status)) return { status, value: INVALID_HANDLE_VALUE };
    file.HandleCount = 1;
    file.PointerCount = 1;
    return { status, value: c.process.insertHandle(file) };
  });
}

/**
 * CloseHandle: drops the handle. For a file: when it was the file object's last handle
 * the I/O manager sends IRP_MJ_CLEANUP (even with requests still outstanding: the driver
 * cancels or completes them), and when the last reference goes — the handle's, or that of
 * the last outstanding IRP once it completes — IRP_MJ_CLOSE. Closing a completion port's
 * last handle runs its queue down.
 */
export function CloseHandle(hObject: HANDLE): Promise<boolean> {
  return systemService(false, async (c) => {
    const object = c.process.handles.get(hObject);
    if (!object) return { status: STATUS_INVALID_HANDLE, value: false };
    c.process.handles.delete(hObject);
    if (object instanceof FILE_OBJECT) {
      if (--object.HandleCount === 0 && !object.cleanedUp) {
        object.cleanedUp = true;
        await sendFileIrp(object, IRP_MJ_CLEANUP);
      }
      await dereferenceFileObject(object);
    } else if (object instanceof KQUEUE) {
      closePortHandle(object);
    }
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
  const failure: IoResult = { ok: false, bytes: 0 };
  return systemService(failure, async (c) => {
    const file = fileOf(c.process, hDevice);
    const o = prepareOverlapped(c, lpOverlapped);
    if (!file || !o) return { status: STATUS_INVALID_HANDLE, value: failure };
    const method = METHOD_FROM_CTL_CODE(dwIoControlCode);
    const direct = method !== METHOD_BUFFERED && method !== METHOD_NEITHER;
    const input = stage(c, lpInBuffer, nInBufferSize);
    const output = stage(c, lpOutBuffer, nOutBufferSize);
    let systemBuffer = 0;
    let mdl: MDL | null = null;
    const release = (status: NTSTATUS, irp: IRP | null) => {
      releaseMdls(irp ? (irp.MdlAddress as MDL | null) : mdl);
      if (systemBuffer !== 0) ExFreePoolWithTag(systemBuffer, SYSTEM_BUFFER_TAG);
      input.release(false);
      output.release(!NT_ERROR(status));
    };
    try {
      probe(input.va, nInBufferSize);
      probe(output.va, nOutBufferSize);
      const length = method === METHOD_BUFFERED ? Math.max(nInBufferSize, nOutBufferSize) : direct ? nInBufferSize : 0;
      if (length > 0) {
        systemBuffer = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, length, SYSTEM_BUFFER_TAG);
        if (systemBuffer === 0) throw new NtStatusException(STATUS_INSUFFICIENT_RESOURCES);
        if (nInBufferSize > 0) RtlCopyMemory(systemBuffer, input.va, nInBufferSize);
      }
      if (direct) mdl = lockUserBuffer(output.va, nOutBufferSize, method === METHOD_IN_DIRECT ? LOCK_OPERATION.IoReadAccess : LOCK_OPERATION.IoWriteAccess);
    } catch (e) {
      release(e instanceof NtStatusException ? e.status : STATUS_ACCESS_VIOLATION, null);
      throw e;
    }
    const { status, information } = await issueRequest(c.thread, file, {
      ...o,
      setup(i) {
        const s = IoGetNextIrpStackLocation(i);
        s.MajorFunction = IRP_MJ_DEVICE_CONTROL;
        s.Parameters.DeviceIoControl.IoControlCode = dwIoControlCode;
        s.Parameters.DeviceIoControl.InputBufferLength = nInBufferSize;
        s.Parameters.DeviceIoControl.OutputBufferLength = nOutBufferSize;
        if (method === METHOD_BUFFERED) {
          i.AssociatedIrp.SystemBuffer = systemBuffer;
          i.Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | (nOutBufferSize > 0 ? IRP_INPUT_OPERATION : 0);
        } else if (direct) {
          i.AssociatedIrp.SystemBuffer = systemBuffer;
          if (systemBuffer !== 0) i.Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER;
          i.MdlAddress = mdl;
        } else {
          s.Parameters.DeviceIoControl.Type3InputBuffer = input.va;
        }
        i.UserBuffer = output.va;
      },
      finish(i) {
        const status = i.IoStatus.Status;
        const copied = Math.min(typeof i.IoStatus.Information === "number" ? i.IoStatus.Information : 0, nOutBufferSize);
        // Buffered output is copied back for success and warning statuses (not errors).
        if (method === METHOD_BUFFERED && copied > 0 && !NT_ERROR(status)) ignoreAccessViolation(() => RtlCopyMemory(output.va, systemBuffer, copied));
        release(status, i);
      },
    });
    return outcome(status, information, nOutBufferSize);
  });
}

function transfer(major: number, hFile: HANDLE, buffer: UserBuffer, length: number, lpOverlapped: OVERLAPPED | null | undefined): Promise<IoResult> {
  const failure: IoResult = { ok: false, bytes: 0 };
  return systemService(failure, async (c) => {
    const file = fileOf(c.process, hFile);
    const o = prepareOverlapped(c, lpOverlapped);
    if (!file || !o) return { status: STATUS_INVALID_HANDLE, value: failure };
    const device = topOfStack(file.DeviceObject);
    const direct = (device.Flags & DO_DIRECT_IO) !== 0;
    const buffered = !direct && (device.Flags & DO_BUFFERED_IO) !== 0;
    const read = major === IRP_MJ_READ;
    const byteOffset = lpOverlapped ? lpOverlapped.Offset + lpOverlapped.OffsetHigh * 2 ** 32 : file.CurrentByteOffset;
    const user = stage(c, buffer, length);
    let systemBuffer = 0;
    let mdl: MDL | null = null;
    const release = (status: NTSTATUS, irp: IRP | null) => {
      releaseMdls(irp ? (irp.MdlAddress as MDL | null) : mdl);
      if (systemBuffer !== 0) ExFreePoolWithTag(systemBuffer, SYSTEM_BUFFER_TAG);
      user.release(read && !NT_ERROR(status));
    };
    try {
      probe(user.va, length);
      if (buffered && length > 0) {
        systemBuffer = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, length, SYSTEM_BUFFER_TAG);
        if (systemBuffer === 0) throw new NtStatusException(STATUS_INSUFFICIENT_RESOURCES);
        if (!read) RtlCopyMemory(systemBuffer, user.va, length);
      }
      // A read fills the caller's buffer (the device writes memory); a write only reads it.
      if (direct) mdl = lockUserBuffer(user.va, length, read ? LOCK_OPERATION.IoWriteAccess : LOCK_OPERATION.IoReadAccess);
    } catch (e) {
      release(e instanceof NtStatusException ? e.status : STATUS_ACCESS_VIOLATION, null);
      throw e;
    }
    const { status, information } = await issueRequest(c.thread, file, {
      ...o,
      setup(i) {
        const s = IoGetNextIrpStackLocation(i);
        s.MajorFunction = major;
        s.Parameters.Read.Length = length;
        s.Parameters.Read.ByteOffset = byteOffset;
        if (buffered) {
          i.AssociatedIrp.SystemBuffer = systemBuffer;
          i.Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | (read ? IRP_INPUT_OPERATION : 0);
        }
        if (direct) i.MdlAddress = mdl;
        i.UserBuffer = user.va;
      },
      finish(i) {
        const status = i.IoStatus.Status;
        const bytes = Math.min(typeof i.IoStatus.Information === "number" ? i.IoStatus.Information : 0, length);
        if (buffered && read && bytes > 0 && !NT_ERROR(status)) ignoreAccessViolation(() => RtlCopyMemory(user.va, systemBuffer, bytes));
        release(status, i);
      },
    });
    return outcome(status, information, length);
  });
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
