/**
 * A user-mode program's view of a disk, shared by the storage test fixtures: open
 * \\.\PhysicalDriveN, read and write at byte offsets, run a body with the disk open, and
 * deterministic data patterns (the edu workload's xorshift32 generator).
 */
import type { Machine } from "../../src/machine/machine.js";
import {
  CloseHandle, CreateFile, FILE_FLAG_OVERLAPPED, FILE_SHARE_READ, FILE_SHARE_WRITE, GENERIC_READ, GENERIC_WRITE, GetLastError, INVALID_HANDLE_VALUE,
  OPEN_EXISTING, OVERLAPPED, ReadFile, WriteFile,
} from "../../src/io/usermode.js";

export { pattern } from "../../src/workloads/edu.js";

type HANDLE = number;

/** Opens \\.\PhysicalDriveN in a user program (overlapped when asked); throws with the Win32 error when it fails. */
export async function openDisk(n = 0, overlapped = false): Promise<HANDLE> {
  const h = await CreateFile(`\\\\.\\PhysicalDrive${n}`, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, null, OPEN_EXISTING, overlapped ? FILE_FLAG_OVERLAPPED : 0, null);
  if (h === INVALID_HANDLE_VALUE) throw new Error(`CreateFile(\\\\.\\PhysicalDrive${n}) failed: error ${GetLastError()}`);
  return h;
}

/** An OVERLAPPED for byte `offset` (and event `hEvent`). */
export function at(offset: number, hEvent: HANDLE = 0): OVERLAPPED {
  return new OVERLAPPED({ Offset: offset % 2 ** 32, OffsetHigh: Math.floor(offset / 2 ** 32), hEvent });
}

/** What a user-mode read or write came back with. */
export interface UserIo {
  ok: boolean;
  bytes: number;
  /** GetLastError() when it failed, else 0. */
  error: number;
}

/** ReadFile of `length` bytes at byte `offset` (synchronous handle): the outcome and the bytes. */
export async function readAt(h: HANDLE, offset: number, length: number): Promise<UserIo & { data: Uint8Array }> {
  const data = new Uint8Array(length);
  const r = await ReadFile(h, data, length, at(offset));
  return { ok: r.ok, bytes: r.bytes, error: r.ok ? 0 : GetLastError(), data };
}

/** WriteFile of `data` at byte `offset` (synchronous handle). */
export async function writeAt(h: HANDLE, offset: number, data: Uint8Array): Promise<UserIo> {
  const r = await WriteFile(h, data, data.length, at(offset));
  return { ok: r.ok, bytes: r.bytes, error: r.ok ? 0 : GetLastError() };
}

/** Runs `body` in a user program on `on` (a machine, or a fixture holding one) with \\.\PhysicalDriveN open (closed afterwards). */
export function withDisk<T>(on: Machine | { machine: Machine }, body: (h: HANDLE) => Promise<T>, options: { disk?: number; overlapped?: boolean } = {}): Promise<T> {
  const machine = "machine" in on ? on.machine : on;
  return machine.runProgram("disk-test", async () => {
    const h = await openDisk(options.disk ?? 0, options.overlapped ?? false);
    try {
      return await body(h);
    } finally {
      await CloseHandle(h);
    }
  });
}
