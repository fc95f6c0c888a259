// Overlapped I/O from user mode, as the Win32 documentation describes it (ReadFile,
// DeviceIoControl, GetOverlappedResult, HasOverlappedIoCompleted, OVERLAPPED, "Synchronous
// and Asynchronous I/O"), and the events and waits it uses (CreateEvent, SetEvent,
// ResetEvent, WaitForSingleObject, WaitForMultipleObjects).
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, CreateFile, CloseHandle, DeviceIoControl, ReadFile, GetLastError, GetOverlappedResult, HasOverlappedIoCompleted, OVERLAPPED,
  CreateEvent, SetEvent, ResetEvent, WaitForSingleObject, WaitForMultipleObjects, Sleep, CreateThread, KE, INFINITE,
  GENERIC_READ, GENERIC_WRITE, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, INVALID_HANDLE_VALUE, WAIT_OBJECT_0, WAIT_TIMEOUT, WAIT_FAILED,
  ERROR_IO_PENDING, ERROR_IO_INCOMPLETE, ERROR_SUCCESS, ERROR_INVALID_PARAMETER, ERROR_INVALID_HANDLE, ERROR_NOT_SUPPORTED,
  STATUS_PENDING, STATUS_SUCCESS, STATUS_NOT_SUPPORTED, type HANDLE,
} from "../../src/index.js";
import { bootDefault } from "../support/kernel-harness.js";
import { IOCTL_PEND, loadPendingDriver, PEND_DEVICE, pendInput, type PendingDriver } from "../support/pending-driver.js";

const PS_PER_US = 1_000_000;

function le32(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset).getUint32(0, true);
}

function open(overlapped: boolean): Promise<HANDLE> {
  return CreateFile(PEND_DEVICE, GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, overlapped ? FILE_FLAG_OVERLAPPED : 0, null).then((h) => {
    if (h === INVALID_HANDLE_VALUE) throw new Error(`CreateFile failed: ${GetLastError()}`);
    return h;
  });
}

const now = () => KE().cpu.time;

describe("overlapped requests", () => {
  let machine: Machine;
  let driver: PendingDriver;
  beforeAll(async () => {
    machine = await bootDefault();
    driver = await loadPendingDriver(machine);
  });

  it("a request that pends returns FALSE with ERROR_IO_PENDING; Internal stays STATUS_PENDING until it completes", async () => {
    const r = await machine.runProgram("pend", async () => {
      const h = await open(true);
      const ov = new OVERLAPPED();
      const out = new Uint8Array(4);
      const res = await DeviceIoControl(h, IOCTL_PEND, pendInput(200, 0x1234), 12, out, 4, ov);
      const error = GetLastError();
      const before = { internal: ov.Internal, done: HasOverlappedIoCompleted(ov), out: le32(out) };
      const result = await GetOverlappedResult(h, ov, true);
      const after = { internal: ov.Internal, high: ov.InternalHigh, done: HasOverlappedIoCompleted(ov), out: le32(out) };
      await CloseHandle(h);
      return { res, error, before, result, after };
    });
    expect(r.res).toEqual({ ok: false, bytes: 0 });
    expect(r.error).toBe(ERROR_IO_PENDING);
    expect(r.before).toEqual({ internal: STATUS_PENDING, done: false, out: 0 });
    expect(r.result).toEqual({ ok: true, bytes: 4 });
    expect(r.after).toEqual({ internal: STATUS_SUCCESS, high: 4, done: true, out: 0x1234 });
  });

  it("GetOverlappedResult with bWait FALSE on a request in progress: FALSE, ERROR_IO_INCOMPLETE", async () => {
    const r = await machine.runProgram("incomplete", async () => {
      const h = await open(true);
      const ov = new OVERLAPPED();
      await DeviceIoControl(h, IOCTL_PEND, pendInput(500), 12, new Uint8Array(4), 4, ov);
      const result = await GetOverlappedResult(h, ov, false);
      const error = GetLastError();
      await GetOverlappedResult(h, ov, true);
      await CloseHandle(h);
      return { result, error };
    });
    expect(r.result.ok).toBe(false);
    expect(r.error).toBe(ERROR_IO_INCOMPLETE);
  });

  it("the completion work runs when the IRP completes: another thread waiting on hEvent sees the status and the data while the issuer sleeps", async () => {
    const r = await machine.runProgram("completion-time", async () => {
      const h = await open(true);
      const ev = CreateEvent(null, true, false, null);
      const ov = new OVERLAPPED({ hEvent: ev });
      const out = new Uint8Array(4);
      const seen: { internal: number; out: number; atPs: number }[] = [];
      const waiter = CreateThread(null, 0, async () => {
        await WaitForSingleObject(ev, INFINITE);
        seen.push({ internal: ov.Internal, out: le32(out), atPs: now() });
        return 0;
      }, null, 0);
      const t0 = now();
      await DeviceIoControl(h, IOCTL_PEND, pendInput(100, 77), 12, out, 4, ov);
      await Sleep(20);
      const t1 = now();
      await WaitForSingleObject(waiter, INFINITE);
      await CloseHandle(h);
      return { seen, t0, t1 };
    });
    expect(r.seen).toHaveLength(1);
    expect(r.seen[0].internal).toBe(STATUS_SUCCESS);
    expect(r.seen[0].out).toBe(77);
    // Seen about 100 µs after the request, long before the issuer's 20 ms sleep ended.
    expect(r.seen[0].atPs - r.t0).toBeGreaterThanOrEqual(100 * PS_PER_US);
    expect(r.seen[0].atPs - r.t0).toBeLessThan(1000 * PS_PER_US);
    expect(r.t1 - r.t0).toBeGreaterThanOrEqual(20_000 * PS_PER_US);
  });

  it("the I/O manager resets hEvent when the request starts and sets it when it completes", async () => {
    const r = await machine.runProgram("event-reset", async () => {
      const h = await open(true);
      const ev = CreateEvent(null, true, true, null);
      const ov = new OVERLAPPED({ hEvent: ev });
      await DeviceIoControl(h, IOCTL_PEND, pendInput(100), 12, new Uint8Array(4), 4, ov);
      const atStart = await WaitForSingleObject(ev, 0);
      const later = await WaitForSingleObject(ev, INFINITE);
      await CloseHandle(h);
      return { atStart, later, internal: ov.Internal };
    });
    expect(r).toEqual({ atStart: WAIT_TIMEOUT, later: WAIT_OBJECT_0, internal: STATUS_SUCCESS });
  });

  it("without hEvent the file handle is signalled when the request completes (GetOverlappedResult and WaitForSingleObject wait on it)", async () => {
    const r = await machine.runProgram("file-handle", async () => {
      const h = await open(true);
      const ov = new OVERLAPPED();
      await DeviceIoControl(h, IOCTL_PEND, pendInput(100), 12, new Uint8Array(4), 4, ov);
      const before = await WaitForSingleObject(h, 0);
      const wait = await WaitForSingleObject(h, INFINITE);
      const result = await GetOverlappedResult(h, ov, false);
      await CloseHandle(h);
      return { before, wait, result };
    });
    expect(r).toEqual({ before: WAIT_TIMEOUT, wait: WAIT_OBJECT_0, result: { ok: true, bytes: 4 } });
  });

  it("a request that completes at once on an overlapped handle returns TRUE with its bytes, and still sets hEvent and the status block", async () => {
    const r = await machine.runProgram("at-once", async () => {
      const h = await open(true);
      const ev = CreateEvent(null, true, false, null);
      const ov = new OVERLAPPED({ hEvent: ev });
      const out = new Uint8Array(4);
      const res = await DeviceIoControl(h, IOCTL_PEND, pendInput(0, 9), 12, out, 4, ov);
      const state = await WaitForSingleObject(ev, 0);
      await CloseHandle(h);
      return { res, state, internal: ov.Internal, high: ov.InternalHigh, out: le32(out) };
    });
    expect(r).toEqual({ res: { ok: true, bytes: 4 }, state: WAIT_OBJECT_0, internal: STATUS_SUCCESS, high: 4, out: 9 });
  });

  it("a request that fails at once returns FALSE with its error and signals nothing (no completion indication)", async () => {
    const r = await machine.runProgram("fails-at-once", async () => {
      const h = await open(true);
      const ev = CreateEvent(null, true, false, null);
      const ov = new OVERLAPPED({ hEvent: ev });
      const res = await DeviceIoControl(h, IOCTL_PEND, pendInput(0, 0, STATUS_NOT_SUPPORTED), 12, new Uint8Array(4), 4, ov);
      const error = GetLastError();
      const state = await WaitForSingleObject(ev, 0);
      await CloseHandle(h);
      return { res, error, state };
    });
    expect(r).toEqual({ res: { ok: false, bytes: 0 }, error: ERROR_NOT_SUPPORTED, state: WAIT_TIMEOUT });
  });

  it("a request that pends and then fails: GetOverlappedResult gives FALSE with its error", async () => {
    const r = await machine.runProgram("fails-later", async () => {
      const h = await open(true);
      const ov = new OVERLAPPED();
      const res = await DeviceIoControl(h, IOCTL_PEND, pendInput(100, 0, STATUS_NOT_SUPPORTED), 12, new Uint8Array(4), 4, ov);
      const pendingError = GetLastError();
      const result = await GetOverlappedResult(h, ov, true);
      const error = GetLastError();
      await CloseHandle(h);
      return { res, pendingError, result: result.ok, error, internal: ov.Internal };
    });
    expect(r).toEqual({ res: { ok: false, bytes: 0 }, pendingError: ERROR_IO_PENDING, result: false, error: ERROR_NOT_SUPPORTED, internal: STATUS_NOT_SUPPORTED });
  });

  it("OVERLAPPED.Offset and OffsetHigh are the read's byte offset, and the caller's buffer is filled only when the read completes", async () => {
    driver.offsets.length = 0;
    const r = await machine.runProgram("offset", async () => {
      const h = await open(true);
      const ov = new OVERLAPPED({ Offset: 0x10, OffsetHigh: 2 });
      const buf = new Uint8Array(8);
      const res = await ReadFile(h, buf, 8, ov);
      const early = [...buf];
      const result = await GetOverlappedResult(h, ov, true);
      await CloseHandle(h);
      return { res, early, result, buf: [...buf] };
    });
    expect(driver.offsets).toEqual([2 * 2 ** 32 + 0x10]);
    expect(r.res.ok).toBe(false);
    expect(r.early).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(r.result).toEqual({ ok: true, bytes: 8 });
    expect(r.buf).toEqual([0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17]);
  });

  it("on a handle opened without FILE_FLAG_OVERLAPPED the call waits and returns the result (an OVERLAPPED there still gives the offset and gets the status)", async () => {
    driver.offsets.length = 0;
    const r = await machine.runProgram("synchronous", async () => {
      const h = await open(false);
      const t0 = now();
      const out = new Uint8Array(4);
      const res = await DeviceIoControl(h, IOCTL_PEND, pendInput(300, 5), 12, out, 4);
      const elapsed = now() - t0;
      const ov = new OVERLAPPED({ Offset: 64 });
      const read = await ReadFile(h, new Uint8Array(4), 4, ov);
      await CloseHandle(h);
      return { res, elapsed, out: le32(out), read, internal: ov.Internal, high: ov.InternalHigh, error: GetLastError() };
    });
    expect(r.res).toEqual({ ok: true, bytes: 4 });
    expect(r.out).toBe(5);
    expect(r.elapsed).toBeGreaterThanOrEqual(300 * PS_PER_US);
    expect(r.read).toEqual({ ok: true, bytes: 4 });
    expect(driver.offsets).toEqual([64]);
    expect(r.internal).toBe(STATUS_SUCCESS);
    expect(r.high).toBe(4);
    expect(r.error).toBe(ERROR_SUCCESS);
  });

  it("requests on an overlapped handle run at the same time: eight 200 µs requests finish in about 200 µs, not 1.6 ms", async () => {
    const r = await machine.runProgram("concurrent", async () => {
      const h = await open(true);
      const t0 = now();
      const ovs = Array.from({ length: 8 }, () => new OVERLAPPED({ hEvent: CreateEvent(null, true, false, null) }));
      for (const ov of ovs) await DeviceIoControl(h, IOCTL_PEND, pendInput(200), 12, new Uint8Array(4), 4, ov);
      for (const ov of ovs) await GetOverlappedResult(h, ov, true);
      const elapsed = now() - t0;
      await CloseHandle(h);
      return { elapsed, all: ovs.every((o) => o.Internal === STATUS_SUCCESS) };
    });
    expect(r.all).toBe(true);
    expect(r.elapsed).toBeGreaterThanOrEqual(200 * PS_PER_US);
    expect(r.elapsed).toBeLessThan(800 * PS_PER_US);
  });
});

describe("user-mode events and waits", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("an auto-reset event releases one waiter and resets; a manual-reset event stays signalled until ResetEvent", async () => {
    const r = await machine.runProgram("events", async () => {
      const auto = CreateEvent(null, false, true, null);
      const manual = CreateEvent(null, true, true, null);
      const a1 = await WaitForSingleObject(auto, 0);
      const a2 = await WaitForSingleObject(auto, 0);
      const m1 = await WaitForSingleObject(manual, 0);
      const m2 = await WaitForSingleObject(manual, 0);
      ResetEvent(manual);
      const m3 = await WaitForSingleObject(manual, 0);
      SetEvent(auto);
      const a3 = await WaitForSingleObject(auto, 0);
      return [a1, a2, m1, m2, m3, a3];
    });
    expect(r).toEqual([WAIT_OBJECT_0, WAIT_TIMEOUT, WAIT_OBJECT_0, WAIT_OBJECT_0, WAIT_TIMEOUT, WAIT_OBJECT_0]);
  });

  it("WaitForMultipleObjects: the lowest signalled index for wait-any, all at once for wait-all, WAIT_TIMEOUT after the timeout", async () => {
    const r = await machine.runProgram("multiple", async () => {
      const e = [CreateEvent(null, true, false, null), CreateEvent(null, true, true, null), CreateEvent(null, true, true, null)];
      const any = await WaitForMultipleObjects(3, e, false, 0);
      const allEarly = await WaitForMultipleObjects(3, e, true, 0);
      const t0 = now();
      const timedOut = await WaitForMultipleObjects(3, e, true, 5);
      const waited = now() - t0;
      SetEvent(e[0]);
      const all = await WaitForMultipleObjects(3, e, true, INFINITE);
      return { any, allEarly, timedOut, waited, all };
    });
    expect(r.any).toBe(WAIT_OBJECT_0 + 1);
    expect(r.allEarly).toBe(WAIT_TIMEOUT);
    expect(r.timedOut).toBe(WAIT_TIMEOUT);
    expect(r.waited).toBeGreaterThanOrEqual(5_000 * PS_PER_US);
    expect(r.all).toBe(WAIT_OBJECT_0);
  });

  it("a thread blocked on an event is released by SetEvent from another thread", async () => {
    const r = await machine.runProgram("release", async () => {
      const e = CreateEvent(null, false, false, null);
      let released = -1;
      const t = CreateThread(null, 0, async () => {
        await WaitForSingleObject(e, INFINITE);
        released = now();
        return 7;
      }, null, 0);
      await Sleep(1);
      const setAt = now();
      SetEvent(e);
      await WaitForSingleObject(t, INFINITE);
      return { setAt, released };
    });
    expect(r.released).toBeGreaterThanOrEqual(r.setAt);
  });

  it("bad handles and counts fail the wait: WAIT_FAILED with ERROR_INVALID_HANDLE or ERROR_INVALID_PARAMETER", async () => {
    const r = await machine.runProgram("bad-waits", async () => {
      const w1 = await WaitForSingleObject(0x7FF0, 0);
      const e1 = GetLastError();
      const w2 = await WaitForMultipleObjects(0, [], false, 0);
      const e2 = GetLastError();
      const set = SetEvent(0x7FF0);
      const e3 = GetLastError();
      return { w1, e1, w2, e2, set, e3 };
    });
    expect(r).toEqual({ w1: WAIT_FAILED, e1: ERROR_INVALID_HANDLE, w2: WAIT_FAILED, e2: ERROR_INVALID_PARAMETER, set: false, e3: ERROR_INVALID_HANDLE });
  });
});
