/**
 * The user-mode API programs call: CreateFile, CloseHandle, DeviceIoControl, ReadFile,
 * WriteFile (synchronous), GetLastError, VirtualAlloc and VirtualFree. Each call enters
 * the kernel (a system call's cost), and the I/O manager builds an IRP for the top of the
 * device's stack, with buffered I/O through a system buffer in nonpaged pool, direct I/O
 * through an MDL of the caller's buffer locked for the transfer's access (Irp.MdlAddress;
 * unlocked and freed once the IRP completes), METHOD_NEITHER with the caller's own
 * addresses, and copy-back of IoStatus.Information bytes on success.
 *
 * Buffers may be host byte arrays (copied into the process's user memory for the call, and
 * back out after it) or user-mode addresses from VirtualAlloc.
 */
import { KE, type Kernel } from "../ke/kernel.js";
import { EVENT_TYPE, KEVENT, KeInitializeEvent, KeSetEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON } from "../ke/dispatcher.js";
import {
  NT_SUCCESS, STATUS_ACCESS_VIOLATION, STATUS_BUFFER_OVERFLOW, STATUS_BUFFER_TOO_SMALL, STATUS_CANCELLED, STATUS_DEVICE_BUSY,
  STATUS_DEVICE_NOT_READY, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_HANDLE,
  STATUS_INVALID_PARAMETER, STATUS_IO_DEVICE_ERROR, STATUS_NOT_IMPLEMENTED, STATUS_NOT_SUPPORTED, STATUS_NO_SUCH_DEVICE,
  STATUS_OBJECT_NAME_NOT_FOUND, STATUS_PENDING, STATUS_SUCCESS, STATUS_UNSUCCESSFUL, STATUS_ACCESS_DENIED, STATUS_NO_MEMORY,
  NtStatusException, type NTSTATUS,
} from "../ke/ntstatus.js";
import { readBytes, writeBytes, RtlCopyMemory } from "../mm/memory.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../mm/pool.js";
import { USER_SPACE_END } from "../mm/address-space.js";
import {
  IoAllocateIrp, IoCallDriver, IoFreeIrp, IoGetNextIrpStackLocation, IRP_MJ_CLEANUP, IRP_MJ_CLOSE, IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL,
  IRP_MJ_READ, IRP_MJ_WRITE, type IRP,
} from "./irp.js";
import { METHOD_BUFFERED, METHOD_FROM_CTL_CODE, METHOD_IN_DIRECT, METHOD_NEITHER } from "./ioctl.js";
import { LOCK_OPERATION, MDL, MDL_PAGES_LOCKED, MmProbeAndLockPages, MmUnlockPages } from "../mm/mdl.js";
import { IoAllocateMdl, IoFreeMdl } from "./mdl.js";
import { DO_BUFFERED_IO, DO_DIRECT_IO, topOfStack } from "./objects.js";
import { IO } from "./manager.js";
import { allocateUserMemory, borrowUserBuffer, EPROCESS, FILE_OBJECT, freeUserMemory, returnUserBuffer } from "./process.js";

/** A handle, or INVALID_HANDLE_VALUE. */
export type HANDLE = number;
export const INVALID_HANDLE_VALUE: HANDLE = -1;

export const GENERIC_READ = 0x80000000;
export const GENERIC_WRITE = 0x40000000;
export const FILE_SHARE_READ = 1;
export const FILE_SHARE_WRITE = 2;
export const CREATE_NEW = 1;
export const CREATE_ALWAYS = 2;
export const OPEN_EXISTING = 3;
export const FILE_ATTRIBUTE_NORMAL = 0x80;

// Win32 error codes.
export const ERROR_SUCCESS = 0;
export const ERROR_INVALID_FUNCTION = 1;
export const ERROR_FILE_NOT_FOUND = 2;
export const ERROR_ACCESS_DENIED = 5;
export const ERROR_INVALID_HANDLE = 6;
export const ERROR_NOT_ENOUGH_MEMORY = 8;
export const ERROR_NOT_READY = 21;
export const ERROR_GEN_FAILURE = 31;
export const ERROR_NOT_SUPPORTED = 50;
export const ERROR_INVALID_PARAMETER = 87;
export const ERROR_INSUFFICIENT_BUFFER = 122;
export const ERROR_BUSY = 170;
export const ERROR_MORE_DATA = 234;
export const ERROR_OPERATION_ABORTED = 995;
export const ERROR_IO_PENDING = 997;
export const ERROR_NOACCESS = 998;
export const ERROR_IO_DEVICE = 1117;
export const ERROR_CALL_NOT_IMPLEMENTED = 120;

const DOS_ERRORS: Record<number, number> = {
  [STATUS_SUCCESS]: ERROR_SUCCESS,
  [STATUS_INVALID_DEVICE_REQUEST >>> 0]: ERROR_INVALID_FUNCTION,
  [STATUS_OBJECT_NAME_NOT_FOUND >>> 0]: ERROR_FILE_NOT_FOUND,
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
  [STATUS_CANCELLED >>> 0]: ERROR_OPERATION_ABORTED,
  [STATUS_ACCESS_VIOLATION >>> 0]: ERROR_NOACCESS,
  [STATUS_IO_DEVICE_ERROR >>> 0]: ERROR_IO_DEVICE,
};

/** RtlNtStatusToDosError for the codes the I/O path produces (others: ERROR_GEN_FAILURE). */
export function RtlNtStatusToDosError(Status: NTSTATUS): number {
  return DOS_ERRORS[Status >>> 0] ?? ERROR_GEN_FAILURE;
}

/** IRP flags the I/O manager sets. */
export const IRP_BUFFERED_IO = 0x10;
export const IRP_DEALLOCATE_BUFFER = 0x20;
export const IRP_INPUT_OPERATION = 0x40;
export const IRP_SYNCHRONOUS_API = 0x04;

const SYSTEM_BUFFER_TAG = "Iosb";

function currentProcess(k: Kernel): EPROCESS {
  const t = k.cpu.CurrentThread;
  if (!t || !(t.process instanceof EPROCESS)) throw new Error("user-mode APIs can only be called from a program running in a user process");
  return t.process;
}

function setLastError(k: Kernel, process: EPROCESS, error: number): void {
  process.lastError.set(k.cpu.CurrentThread!, error);
}

/** GetLastError: the calling thread's last Win32 error. */
export function GetLastError(): number {
  const k = KE();
  const p = currentProcess(k);
  return p.lastError.get(k.cpu.CurrentThread!) ?? ERROR_SUCCESS;
}

/** VirtualAlloc: commits zeroed, read-write user memory; returns its address or 0. */
export function VirtualAlloc(dwSize: number): number {
  const k = KE();
  return allocateUserMemory(currentProcess(k), dwSize, k);
}

/** VirtualFree: releases memory from VirtualAlloc. */
export function VirtualFree(lpAddress: number, dwSize: number): boolean {
  const k = KE();
  freeUserMemory(currentProcess(k), lpAddress, dwSize, k);
  return true;
}

/** A caller's buffer: host bytes, a user-mode address, or none. */
export type UserBuffer = Uint8Array | number | null;

/** A user buffer made addressable for the call: its VA, and how to give it back. */
interface StagedBuffer {
  va: number;
  release(copyBack: boolean): void;
}

function stage(k: Kernel, process: EPROCESS, buffer: UserBuffer, length: number): StagedBuffer {
  if (buffer === null || length === 0) return { va: 0, release() {} };
  if (typeof buffer === "number") return { va: buffer, release() {} };
  if (length > buffer.length) throw new RangeError(`buffer of ${buffer.length} bytes is shorter than the ${length} bytes passed`);
  const va = borrowUserBuffer(process, length, k);
  writeBytes(va, buffer.subarray(0, length));
  return {
    va,
    release(copyBack: boolean) {
      if (copyBack) buffer.set(readBytes(va, length));
      returnUserBuffer(process, va, length);
    },
  };
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

/** Sends an I/O manager IRP to the top of `file`'s stack and waits for it to complete. */
async function sendSynchronous(k: Kernel, file: FILE_OBJECT, fill: (irp: IRP) => void): Promise<IRP> {
  const device = topOfStack(file.DeviceObject);
  const irp = IoAllocateIrp(device.StackSize, false);
  const event = new KEVENT();
  KeInitializeEvent(event, EVENT_TYPE.NotificationEvent, false);
  irp.UserEvent = event;
  irp.Flags |= IRP_SYNCHRONOUS_API;
  irp.RequestorMode = KPROCESSOR_MODE.UserMode;
  irp.Tail.Overlay.Thread = k.cpu.CurrentThread;
  irp.onCompleted = (done) => {
    if (done.UserEvent) KeSetEvent(done.UserEvent, 0, false);
  };
  const next = IoGetNextIrpStackLocation(irp);
  next.FileObject = file;
  fill(irp);
  const status = await IoCallDriver(device, irp);
  if (status === STATUS_PENDING || !irp.completed) {
    await KeWaitForSingleObject(event, KWAIT_REASON.Executive, KPROCESSOR_MODE.UserMode, false, null);
  }
  IoFreeIrp(irp);
  return irp;
}

/** Runs a system service: charges the transition and maps errors to Win32 last errors. */
async function systemService<T>(failure: T, body: (k: Kernel, process: EPROCESS) => Promise<{ status: NTSTATUS; value: T }>): Promise<T> {
  const k = KE();
  const process = currentProcess(k);
  k.charge("SystemCall");
  let status: NTSTATUS;
  let value = failure;
  try {
    ({ status, value } = await body(k, process));
  } catch (e) {
    if (!(e instanceof NtStatusException)) throw e;
    status = e.status;
  }
  setLastError(k, process, RtlNtStatusToDosError(status));
  return NT_SUCCESS(status) ? value : failure;
}

/**
 * CreateFile: opens a device by name ("\\\\.\\Edu0" or "\\Device\\Edu0"); sends
 * IRP_MJ_CREATE down its stack; returns a handle or INVALID_HANDLE_VALUE.
 */
export function CreateFile(lpFileName: string, dwDesiredAccess: number, dwShareMode: number, lpSecurityAttributes: null, dwCreationDisposition: number, dwFlagsAndAttributes: number, hTemplateFile: null): Promise<HANDLE> {
  return systemService(INVALID_HANDLE_VALUE, async (k, process) => {
    const device = IO(k).resolve(lpFileName);
    if (!device) return { status: STATUS_OBJECT_NAME_NOT_FOUND, value: INVALID_HANDLE_VALUE };
    const file = new FILE_OBJECT(device, lpFileName);
    const irp = await sendSynchronous(k, file, (i) => {
      const s = IoGetNextIrpStackLocation(i);
      s.MajorFunction = IRP_MJ_CREATE;
      s.Parameters.Create.Options = dwCreationDisposition << 24;
      s.Parameters.Create.ShareAccess = dwShareMode;
    });
    const status = irp.IoStatus.Status;
    if (!NT_SUCCESS(status)) return { status, value: INVALID_HANDLE_VALUE };
    IO(k).referenceDevice(device);
    return { status, value: process.insertHandle(file) };
  });
}

/** CloseHandle: sends IRP_MJ_CLEANUP then IRP_MJ_CLOSE and drops the handle. */
export function CloseHandle(hObject: HANDLE): Promise<boolean> {
  return systemService(false, async (k, process) => {
    const file = process.handles.get(hObject);
    if (!file) return { status: STATUS_INVALID_HANDLE, value: false };
    process.handles.delete(hObject);
    for (const major of [IRP_MJ_CLEANUP, IRP_MJ_CLOSE]) {
      await sendSynchronous(k, file, (i) => (IoGetNextIrpStackLocation(i).MajorFunction = major));
    }
    IO(k).dereferenceDevice(file.DeviceObject);
    return { status: STATUS_SUCCESS, value: true };
  });
}

/** What DeviceIoControl, ReadFile and WriteFile return: success and bytes transferred. */
export interface IoResult {
  /** The Win32 BOOL result. */
  ok: boolean;
  /** lpBytesReturned / lpNumberOfBytesRead / lpNumberOfBytesWritten. */
  bytes: number;
}

/**
 * DeviceIoControl: sends IRP_MJ_DEVICE_CONTROL. METHOD_BUFFERED goes through one system
 * buffer of max(in, out) bytes holding the input, and IoStatus.Information bytes are
 * copied back on success; METHOD_IN_DIRECT and METHOD_OUT_DIRECT put the input in a
 * system buffer and describe the output buffer with an MDL locked for read (IN) or
 * write (OUT) access in Irp.MdlAddress; METHOD_NEITHER passes the caller's addresses.
 */
export function DeviceIoControl(hDevice: HANDLE, dwIoControlCode: number, lpInBuffer: UserBuffer, nInBufferSize: number, lpOutBuffer: UserBuffer, nOutBufferSize: number): Promise<IoResult> {
  const failure: IoResult = { ok: false, bytes: 0 };
  return systemService(failure, async (k, process) => {
    const file = process.handles.get(hDevice);
    if (!file) return { status: STATUS_INVALID_HANDLE, value: failure };
    const method = METHOD_FROM_CTL_CODE(dwIoControlCode);
    const direct = method !== METHOD_BUFFERED && method !== METHOD_NEITHER;
    const input = stage(k, process, lpInBuffer, nInBufferSize);
    const output = stage(k, process, lpOutBuffer, nOutBufferSize);
    let systemBuffer = 0;
    let mdl: MDL | null = null;
    let copied = 0;
    let status: NTSTATUS = STATUS_SUCCESS;
    try {
      probe(input.va, nInBufferSize);
      probe(output.va, nOutBufferSize);
      const length = method === METHOD_BUFFERED ? Math.max(nInBufferSize, nOutBufferSize) : direct ? nInBufferSize : 0;
      if (length > 0) {
        systemBuffer = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, length, SYSTEM_BUFFER_TAG);
        if (systemBuffer === 0) return { status: STATUS_INSUFFICIENT_RESOURCES, value: failure };
        if (nInBufferSize > 0) RtlCopyMemory(systemBuffer, input.va, nInBufferSize);
      }
      if (direct) mdl = lockUserBuffer(output.va, nOutBufferSize, method === METHOD_IN_DIRECT ? LOCK_OPERATION.IoReadAccess : LOCK_OPERATION.IoWriteAccess);
      const irp = await sendSynchronous(k, file, (i) => {
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
      });
      mdl = irp.MdlAddress as MDL | null;
      status = irp.IoStatus.Status;
      copied = Math.min(irp.IoStatus.Information, nOutBufferSize);
      // Buffered output is copied back for success and warning statuses (not errors).
      if (method === METHOD_BUFFERED && copied > 0 && (status >>> 0) < 0xC0000000) RtlCopyMemory(output.va, systemBuffer, copied);
      return { status, value: { ok: NT_SUCCESS(status), bytes: NT_SUCCESS(status) ? copied : 0 } };
    } finally {
      releaseMdls(mdl);
      if (systemBuffer !== 0) ExFreePoolWithTag(systemBuffer, SYSTEM_BUFFER_TAG);
      input.release(false);
      output.release(NT_SUCCESS(status));
    }
  });
}

function transfer(major: number, hFile: HANDLE, buffer: UserBuffer, length: number): Promise<IoResult> {
  const failure: IoResult = { ok: false, bytes: 0 };
  return systemService(failure, async (k, process) => {
    const file = process.handles.get(hFile);
    if (!file) return { status: STATUS_INVALID_HANDLE, value: failure };
    const device = topOfStack(file.DeviceObject);
    const direct = (device.Flags & DO_DIRECT_IO) !== 0;
    const buffered = !direct && (device.Flags & DO_BUFFERED_IO) !== 0;
    const user = stage(k, process, buffer, length);
    let systemBuffer = 0;
    let mdl: MDL | null = null;
    let status: NTSTATUS = STATUS_SUCCESS;
    try {
      probe(user.va, length);
      if (buffered && length > 0) {
        systemBuffer = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, length, SYSTEM_BUFFER_TAG);
        if (systemBuffer === 0) return { status: STATUS_INSUFFICIENT_RESOURCES, value: failure };
        if (major === IRP_MJ_WRITE) RtlCopyMemory(systemBuffer, user.va, length);
      }
      // A read fills the caller's buffer (the device writes memory); a write only reads it.
      if (direct) mdl = lockUserBuffer(user.va, length, major === IRP_MJ_READ ? LOCK_OPERATION.IoWriteAccess : LOCK_OPERATION.IoReadAccess);
      const irp = await sendSynchronous(k, file, (i) => {
        const s = IoGetNextIrpStackLocation(i);
        s.MajorFunction = major;
        s.Parameters.Read.Length = length;
        s.Parameters.Read.ByteOffset = 0;
        if (buffered) {
          i.AssociatedIrp.SystemBuffer = systemBuffer;
          i.Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | (major === IRP_MJ_READ ? IRP_INPUT_OPERATION : 0);
        }
        if (direct) i.MdlAddress = mdl;
        i.UserBuffer = user.va;
      });
      mdl = irp.MdlAddress as MDL | null;
      status = irp.IoStatus.Status;
      const bytes = Math.min(irp.IoStatus.Information, length);
      if (buffered && major === IRP_MJ_READ && bytes > 0 && NT_SUCCESS(status)) RtlCopyMemory(user.va, systemBuffer, bytes);
      return { status, value: { ok: NT_SUCCESS(status), bytes: NT_SUCCESS(status) ? bytes : 0 } };
    } finally {
      releaseMdls(mdl);
      if (systemBuffer !== 0) ExFreePoolWithTag(systemBuffer, SYSTEM_BUFFER_TAG);
      user.release(major === IRP_MJ_READ && NT_SUCCESS(status));
    }
  });
}

/** ReadFile: sends IRP_MJ_READ for `nNumberOfBytesToRead` bytes into the buffer. */
export function ReadFile(hFile: HANDLE, lpBuffer: UserBuffer, nNumberOfBytesToRead: number): Promise<IoResult> {
  return transfer(IRP_MJ_READ, hFile, lpBuffer, nNumberOfBytesToRead);
}

/** WriteFile: sends IRP_MJ_WRITE with `nNumberOfBytesToWrite` bytes from the buffer. */
export function WriteFile(hFile: HANDLE, lpBuffer: UserBuffer, nNumberOfBytesToWrite: number): Promise<IoResult> {
  return transfer(IRP_MJ_WRITE, hFile, lpBuffer, nNumberOfBytesToWrite);
}

