/**
 * fio's I/O engines on Windows, over wdmsim's Win32 calls:
 *
 * - windowsaio: the file is opened with FILE_FLAG_OVERLAPPED (and FILE_FLAG_NO_BUFFERING
 *   for direct=1) and associated with an I/O completion port; each I/O is an overlapped
 *   ReadFile / WriteFile at its offset, and completions are reaped with
 *   GetQueuedCompletionStatusEx, up to 16 at a time as fio does.
 * - sync: a plain ReadFile / WriteFile that returns when the I/O is done (the offset is
 *   given in an OVERLAPPED, which a synchronous handle accepts).
 *
 * Each in-flight I/O has a slot made when the job starts: a page-aligned buffer from
 * VirtualAlloc, its OVERLAPPED and its timestamps; issuing and reaping allocate nothing of
 * their own.
 */
import {
  CloseHandle, CreateEvent, CreateFile, CreateIoCompletionPort, DeviceIoControl, FILE_FLAG_OVERLAPPED, FILE_SHARE_READ, FILE_SHARE_WRITE,
  GENERIC_READ, GENERIC_WRITE, GetLastError, GetOverlappedResult, GetQueuedCompletionStatusEx, INFINITE, INVALID_HANDLE_VALUE, NULL, OPEN_EXISTING,
  OVERLAPPED, ReadFile, RtlNtStatusToDosError, VirtualAlloc, WriteFile, ERROR_IO_PENDING, type HANDLE,
} from "../../io/usermode.js";
import { NT_SUCCESS } from "../../ke/ntstatus.js";
import { IOCTL_DISK_GET_LENGTH_INFO } from "../../drivers/storage/ntdddisk.js";
import { DDIR_READ } from "./stats.js";

/** CreateFile flags fio's windowsaio engine adds (winbase.h values). */
export const FILE_FLAG_NO_BUFFERING = 0x20000000;
export const FILE_FLAG_RANDOM_ACCESS = 0x10000000;
export const FILE_FLAG_SEQUENTIAL_SCAN = 0x08000000;
/** Completions one GetQueuedCompletionStatusEx call takes at most (fio's windowsaio uses 16). */
export const REAP_BATCH = 16;

/** errno values fio reports, and their strerror text. */
export const ERRNO_TEXT: Record<number, string> = {
  2: "No such file or directory", 5: "Input/output error", 12: "Cannot allocate memory", 13: "Permission denied", 16: "Device or resource busy",
  22: "Invalid argument", 28: "No space left on device", 125: "Operation canceled",
};

/** The errno fio's windowsaio engine makes of a Win32 error (its win_to_posix_error, for the errors a disk returns). */
export function winToPosixError(error: number): number {
  switch (error) {
    case 2: case 3: return 2; // ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND: ENOENT
    case 5: return 13; // ERROR_ACCESS_DENIED: EACCES
    case 8: case 14: return 12; // ERROR_NOT_ENOUGH_MEMORY, ERROR_OUTOFMEMORY: ENOMEM
    case 87: return 22; // ERROR_INVALID_PARAMETER: EINVAL
    case 112: return 28; // ERROR_DISK_FULL: ENOSPC
    case 170: return 16; // ERROR_BUSY: EBUSY
    case 995: return 125; // ERROR_OPERATION_ABORTED: ECANCELED
    default: return 5; // EIO
  }
}

/** An OVERLAPPED that knows its slot. */
class SlotOverlapped extends OVERLAPPED {
  constructor(readonly slot: IoSlot) {
    super();
  }
}

/** One I/O in flight: its buffer, OVERLAPPED, what it does and when (ps of simulated time). */
export class IoSlot {
  /** User-mode address of the slot's buffer. */
  va = 0;
  readonly overlapped: SlotOverlapped;
  ddir = DDIR_READ;
  offset = 0;
  length = 0;
  /** When fio took the I/O unit (start_time), when the engine had it queued (issue_time), ps. */
  startPs = 0;
  issuePs = 0;
  /** Bytes moved and errno (0: none), once it completed. */
  bytes = 0;
  error = 0;
  /** A verify read of a block written earlier (not a job I/O). */
  verifyRead = false;

  constructor(readonly index: number) {
    this.overlapped = new SlotOverlapped(this);
  }
}

/** The executing processor's clock, ps (what fio's clock reads: a time-stamp counter, no system call). */
export type Clock = () => number;

/** An engine: open the target, issue, reap, close. */
export interface FioEngine {
  /** Whether submissions complete before submit returns (fio's FIO_SYNCIO engines). */
  readonly synchronous: boolean;
  /** Target size, bytes (after open). */
  readonly sizeBytes: number;
  /** Opens `filename`; resolves to 0 or an errno, with the failing call's name in `failedCall`. */
  open(filename: string, writes: boolean, direct: boolean, random: boolean): Promise<number>;
  failedCall: string;
  /** Issues the slot's I/O; sets issuePs. */
  submit(slot: IoSlot): Promise<void>;
  /** Waits for at least one completion; puts the completed slots in `done` and resolves to how many. */
  reap(done: IoSlot[]): Promise<number>;
  close(): Promise<void>;
}

/** Opens the target and reads its size with IOCTL_DISK_GET_LENGTH_INFO (waiting with an event if it pends). */
async function openTarget(filename: string, writes: boolean, flags: number): Promise<{ handle: HANDLE; size: number; error: number; call: string }> {
  const handle = await CreateFile(filename, GENERIC_READ | (writes ? GENERIC_WRITE : 0), FILE_SHARE_READ | FILE_SHARE_WRITE, null, OPEN_EXISTING, flags, null);
  if (handle === INVALID_HANDLE_VALUE) return { handle, size: 0, error: winToPosixError(GetLastError()), call: `open(${filename})` };
  const out = new Uint8Array(8);
  const event = CreateEvent(null, true, false, null);
  const ov = new OVERLAPPED({ hEvent: event });
  let r = await DeviceIoControl(handle, IOCTL_DISK_GET_LENGTH_INFO, null, 0, out, 8, (flags & FILE_FLAG_OVERLAPPED) !== 0 ? ov : null);
  if (!r.ok && GetLastError() === ERROR_IO_PENDING) r = await GetOverlappedResult(handle, ov, true);
  await CloseHandle(event);
  if (!r.ok || r.bytes < 8) {
    const error = winToPosixError(GetLastError());
    await CloseHandle(handle);
    return { handle: INVALID_HANDLE_VALUE, size: 0, error, call: `ioctl(IOCTL_DISK_GET_LENGTH_INFO, ${filename})` };
  }
  const v = new DataView(out.buffer);
  return { handle, size: v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32, error: 0, call: "" };
}

/** Allocates one page-aligned buffer of `bytes` per slot; false if memory ran out. */
export function allocateSlotBuffers(slots: IoSlot[], bytes: number): boolean {
  for (const s of slots) {
    s.va = VirtualAlloc(bytes);
    if (s.va === 0) return false;
  }
  return true;
}

/** fio's windowsaio engine. */
export class WindowsAioEngine implements FioEngine {
  readonly synchronous = false;
  sizeBytes = 0;
  failedCall = "";
  private handle: HANDLE = INVALID_HANDLE_VALUE;
  private port: HANDLE = NULL;
  /** Slots whose I/O failed when issued (no completion packet comes for them). */
  private readonly failedNow: IoSlot[] = [];

  constructor(private readonly clock: Clock) {}

  async open(filename: string, writes: boolean, direct: boolean, random: boolean): Promise<number> {
    const flags = FILE_FLAG_OVERLAPPED | (direct ? FILE_FLAG_NO_BUFFERING : 0) | (random ? FILE_FLAG_RANDOM_ACCESS : FILE_FLAG_SEQUENTIAL_SCAN);
    const t = await openTarget(filename, writes, flags);
    if (t.error) {
      this.failedCall = t.call;
      return t.error;
    }
    this.handle = t.handle;
    this.sizeBytes = t.size;
    this.port = CreateIoCompletionPort(this.handle, null, 0, 0);
    if (this.port === NULL) {
      this.failedCall = "CreateIoCompletionPort";
      return winToPosixError(GetLastError());
    }
    return 0;
  }

  async submit(slot: IoSlot): Promise<void> {
    const ov = slot.overlapped;
    ov.Offset = slot.offset % 2 ** 32;
    ov.OffsetHigh = Math.floor(slot.offset / 2 ** 32);
    const r = slot.ddir === DDIR_READ ? await ReadFile(this.handle, slot.va, slot.length, ov) : await WriteFile(this.handle, slot.va, slot.length, ov);
    slot.issuePs = this.clock();
    if (!r.ok) {
      const error = GetLastError();
      if (error !== ERROR_IO_PENDING) {
        slot.bytes = 0;
        slot.error = winToPosixError(error);
        this.failedNow.push(slot);
      }
    }
  }

  async reap(done: IoSlot[]): Promise<number> {
    if (this.failedNow.length > 0) {
      let n = 0;
      while (this.failedNow.length > 0 && n < done.length) done[n++] = this.failedNow.shift()!;
      return n;
    }
    const r = await GetQueuedCompletionStatusEx(this.port, Math.min(REAP_BATCH, done.length), INFINITE, false);
    if (!r.ok) throw new Error(`GetQueuedCompletionStatusEx failed: error ${GetLastError()}`);
    let n = 0;
    for (const e of r.entries) {
      const slot = (e.lpOverlapped as SlotOverlapped).slot;
      slot.bytes = e.dwNumberOfBytesTransferred;
      slot.error = NT_SUCCESS(e.Internal) ? 0 : winToPosixError(RtlNtStatusToDosError(e.Internal));
      done[n++] = slot;
    }
    return n;
  }

  async close(): Promise<void> {
    if (this.handle !== INVALID_HANDLE_VALUE) await CloseHandle(this.handle);
    if (this.port !== NULL) await CloseHandle(this.port);
    this.handle = INVALID_HANDLE_VALUE;
    this.port = NULL;
  }
}

/** fio's sync engine: one blocking ReadFile / WriteFile at a time. */
export class SyncEngine implements FioEngine {
  readonly synchronous = true;
  sizeBytes = 0;
  failedCall = "";
  private handle: HANDLE = INVALID_HANDLE_VALUE;
  private last: IoSlot | null = null;

  constructor(private readonly clock: Clock) {}

  async open(filename: string, writes: boolean, _direct: boolean, random: boolean): Promise<number> {
    const t = await openTarget(filename, writes, random ? FILE_FLAG_RANDOM_ACCESS : FILE_FLAG_SEQUENTIAL_SCAN);
    if (t.error) {
      this.failedCall = t.call;
      return t.error;
    }
    this.handle = t.handle;
    this.sizeBytes = t.size;
    return 0;
  }

  async submit(slot: IoSlot): Promise<void> {
    const ov = slot.overlapped;
    ov.Offset = slot.offset % 2 ** 32;
    ov.OffsetHigh = Math.floor(slot.offset / 2 ** 32);
    // A synchronous engine's issue time is just before the call.
    slot.issuePs = this.clock();
    const r = slot.ddir === DDIR_READ ? await ReadFile(this.handle, slot.va, slot.length, ov) : await WriteFile(this.handle, slot.va, slot.length, ov);
    slot.bytes = r.ok ? r.bytes : 0;
    slot.error = r.ok ? 0 : winToPosixError(GetLastError());
    this.last = slot;
  }

  async reap(done: IoSlot[]): Promise<number> {
    if (!this.last) return 0;
    done[0] = this.last;
    this.last = null;
    return 1;
  }

  async close(): Promise<void> {
    if (this.handle !== INVALID_HANDLE_VALUE) await CloseHandle(this.handle);
    this.handle = INVALID_HANDLE_VALUE;
  }
}
