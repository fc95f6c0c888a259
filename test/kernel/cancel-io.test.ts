// Cancelling requests from user mode (CancelIo, CancelIoEx, CancelSynchronousIo: "the
// function cancels ..."; cancelled requests complete with ERROR_OPERATION_ABORTED), the
// thread's IRP list and the file object's reference count, and what CloseHandle sends
// (IRP_MJ_CLEANUP when the last handle to a file object closes, IRP_MJ_CLOSE when its last
// reference goes: "Dispatch routines for IRP_MJ_CLEANUP / IRP_MJ_CLOSE" in the WDK).
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type Machine, CreateFile, CloseHandle, DeviceIoControl, GetLastError, SetLastError, GetOverlappedResult, HasOverlappedIoCompleted, OVERLAPPED,
  CancelIo, CancelIoEx, CancelSynchronousIo, CreateEvent, CreateThread, GetCurrentThread, WaitForSingleObject, Sleep, KE, KeGetCurrentThread,
  IoGetCurrentIrpStackLocation, INFINITE, GENERIC_READ, GENERIC_WRITE, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, INVALID_HANDLE_VALUE,
  ERROR_OPERATION_ABORTED, ERROR_NOT_FOUND, ERROR_SUCCESS, IRP_MJ_CREATE, IRP_MJ_CLEANUP, IRP_MJ_CLOSE, STATUS_CANCELLED, STATUS_SUCCESS,
  STATUS_PENDING, FILE_OBJECT, type HANDLE,
} from "../../src/index.js";
import { ethreadOf, type EPROCESS } from "../../src/io/process.js";
import { bootDefault } from "../support/kernel-harness.js";
import { FOREVER, IOCTL_PEND, IOCTL_PEND_NO_CANCEL, loadPendingDriver, PEND_DEVICE, pendInput, type PendingDriver } from "../support/pending-driver.js";

const PS_PER_US = 1_000_000;

function open(overlapped: boolean): Promise<HANDLE> {
  return CreateFile(PEND_DEVICE, GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, overlapped ? FILE_FLAG_OVERLAPPED : 0, null).then((h) => {
    if (h === INVALID_HANDLE_VALUE) throw new Error(`CreateFile failed: ${GetLastError()}`);
    return h;
  });
}

/** Starts IOCTL_PEND (or another code) with `delayUs` on `h`. */
function pend(h: HANDLE, ov: OVERLAPPED | null, delayUs: number, code = IOCTL_PEND) {
  return DeviceIoControl(h, code, pendInput(delayUs), 12, new Uint8Array(4), 4, ov);
}

function fileObjectOf(h: HANDLE): FILE_OBJECT {
  const process = KeGetCurrentThread()!.process as EPROCESS;
  return process.handles.get(h) as FILE_OBJECT;
}

/** GetOverlappedResult(bWait TRUE) with the error it leaves (cleared first: a call that succeeds leaves it alone). */
async function result(h: HANDLE, ov: OVERLAPPED): Promise<{ ok: boolean; error: number }> {
  SetLastError(ERROR_SUCCESS);
  const r = await GetOverlappedResult(h, ov, true);
  return { ok: r.ok, error: GetLastError() };
}

describe("the issuing thread's IRP list and the file object's references", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
    await loadPendingDriver(machine);
  });

  it("each IRP is on the issuing thread's IRP list (Tail.Overlay.Thread) and holds a reference on the file object until it completes", async () => {
    const r = await machine.runProgram("irp-list", async () => {
      const h = await open(true);
      const file = fileObjectOf(h);
      const thread = ethreadOf(KeGetCurrentThread()!)!;
      const ovs = [new OVERLAPPED({ hEvent: CreateEvent(null, true, false, null) }), new OVERLAPPED({ hEvent: CreateEvent(null, true, false, null) })];
      for (const ov of ovs) await pend(h, ov, 200);
      const irps = [...thread.IrpList.keys()];
      const during = {
        irps: irps.length,
        threads: irps.every((i) => i.Tail.Overlay.Thread === KeGetCurrentThread()),
        fileObjects: irps.every((i) => IoGetCurrentIrpStackLocation(i).FileObject === file),
        references: file.PointerCount,
        handles: file.HandleCount,
      };
      for (const ov of ovs) await GetOverlappedResult(h, ov, true);
      const after = { irps: thread.IrpList.size, references: file.PointerCount };
      await CloseHandle(h);
      return { during, after };
    });
    expect(r.during).toEqual({ irps: 2, threads: true, fileObjects: true, references: 3, handles: 1 });
    expect(r.after).toEqual({ irps: 0, references: 1 });
  });
});

describe("CancelIo, CancelIoEx, CancelSynchronousIo", () => {
  let machine: Machine;
  let driver: PendingDriver;
  beforeAll(async () => {
    machine = await bootDefault();
    driver = await loadPendingDriver(machine);
  });
  beforeEach(() => {
    driver.cleanupCancels = true;
  });

  it("CancelIo cancels the calling thread's requests on the file (ERROR_OPERATION_ABORTED), not another thread's", async () => {
    const r = await machine.runProgram("cancelio", async () => {
      const h = await open(true);
      const mine = new OVERLAPPED({ hEvent: CreateEvent(null, true, false, null) });
      const theirs = new OVERLAPPED({ hEvent: CreateEvent(null, true, false, null) });
      let other = { ok: false, error: -1 };
      const t = CreateThread(null, 0, async () => {
        await pend(h, theirs, 300);
        other = await result(h, theirs);
      }, null, 0);
      await pend(h, mine, FOREVER);
      await Sleep(0.05);
      const cancelled = await CancelIo(h);
      const own = await result(h, mine);
      await WaitForSingleObject(t, INFINITE);
      await CloseHandle(h);
      return { cancelled, own, other, internal: mine.Internal };
    });
    expect(r.cancelled).toBe(true);
    expect(r.own).toEqual({ ok: false, error: ERROR_OPERATION_ABORTED });
    expect(r.internal).toBe(STATUS_CANCELLED);
    expect(r.other).toEqual({ ok: true, error: ERROR_SUCCESS });
  });

  it("CancelIo with nothing outstanding still succeeds (the cancel was requested)", async () => {
    const r = await machine.runProgram("cancelio-none", async () => {
      const h = await open(true);
      const ok = await CancelIo(h);
      await CloseHandle(h);
      return ok;
    });
    expect(r).toBe(true);
  });

  it("CancelIoEx from another thread cancels only the request that uses lpOverlapped; with NULL, all the process's requests on the file", async () => {
    const r = await machine.runProgram("cancelioex", async () => {
      const h = await open(true);
      const a = new OVERLAPPED({ hEvent: CreateEvent(null, true, false, null) });
      const b = new OVERLAPPED({ hEvent: CreateEvent(null, true, false, null) });
      await pend(h, a, FOREVER);
      await pend(h, b, FOREVER);
      let one = false;
      const t = CreateThread(null, 0, async () => {
        one = await CancelIoEx(h, a);
      }, null, 0);
      await WaitForSingleObject(t, INFINITE);
      const first = await result(h, a);
      const bStillPending = !HasOverlappedIoCompleted(b);
      const all = await CancelIoEx(h, null);
      const second = await result(h, b);
      await CloseHandle(h);
      return { one, first, bStillPending, all, second };
    });
    expect(r).toEqual({
      one: true, first: { ok: false, error: ERROR_OPERATION_ABORTED }, bStillPending: true, all: true, second: { ok: false, error: ERROR_OPERATION_ABORTED },
    });
  });

  it("CancelIoEx returns FALSE with ERROR_NOT_FOUND when no request matches", async () => {
    const r = await machine.runProgram("cancelioex-none", async () => {
      const h = await open(true);
      const unused = await CancelIoEx(h, new OVERLAPPED());
      const e1 = GetLastError();
      const ov = new OVERLAPPED({ hEvent: CreateEvent(null, true, false, null) });
      await pend(h, ov, 20);
      await GetOverlappedResult(h, ov, true);
      const finished = await CancelIoEx(h, ov);
      const e2 = GetLastError();
      await CloseHandle(h);
      return { unused, e1, finished, e2 };
    });
    expect(r).toEqual({ unused: false, e1: ERROR_NOT_FOUND, finished: false, e2: ERROR_NOT_FOUND });
  });

  it("cancelling only asks: a request whose driver set no cancel routine completes normally", async () => {
    const r = await machine.runProgram("no-cancel-routine", async () => {
      const h = await open(true);
      const ov = new OVERLAPPED({ hEvent: CreateEvent(null, true, false, null) });
      await pend(h, ov, 200, IOCTL_PEND_NO_CANCEL);
      const cancelled = await CancelIoEx(h, ov);
      const res = await result(h, ov);
      await CloseHandle(h);
      return { cancelled, res, internal: ov.Internal };
    });
    expect(r).toEqual({ cancelled: true, res: { ok: true, error: ERROR_SUCCESS }, internal: STATUS_SUCCESS });
  });

  it("CancelSynchronousIo cancels the synchronous request another thread is waiting in; the call fails with ERROR_OPERATION_ABORTED", async () => {
    const r = await machine.runProgram("cancel-sync", async () => {
      const h = await open(false);
      let outcome = { ok: true, error: -1 };
      const t = CreateThread(null, 0, async () => {
        const res = await pend(h, null, FOREVER);
        outcome = { ok: res.ok, error: GetLastError() };
      }, null, 0);
      await Sleep(0.1);
      const cancelled = await CancelSynchronousIo(t);
      await WaitForSingleObject(t, INFINITE);
      await CloseHandle(h);
      return { cancelled, outcome };
    });
    expect(r).toEqual({ cancelled: true, outcome: { ok: false, error: ERROR_OPERATION_ABORTED } });
  });

  it("CancelSynchronousIo on a thread with no synchronous request returns FALSE with ERROR_NOT_FOUND", async () => {
    const r = await machine.runProgram("cancel-sync-none", async () => {
      const ok = await CancelSynchronousIo(GetCurrentThread());
      return { ok, error: GetLastError() };
    });
    expect(r).toEqual({ ok: false, error: ERROR_NOT_FOUND });
  });

  it("a thread that ends with requests outstanding has them cancelled", async () => {
    const r = await machine.runProgram("thread-exit", async () => {
      const h = await open(true);
      const ov = new OVERLAPPED({ hEvent: CreateEvent(null, true, false, null) });
      const t = CreateThread(null, 0, async () => {
        await pend(h, ov, FOREVER);
      }, null, 0);
      await WaitForSingleObject(t, INFINITE);
      const res = await result(h, ov);
      await CloseHandle(h);
      return res;
    });
    expect(r).toEqual({ ok: false, error: ERROR_OPERATION_ABORTED });
  });
});

describe("CloseHandle: IRP_MJ_CLEANUP on the last handle, IRP_MJ_CLOSE on the last reference", () => {
  let machine: Machine;
  let driver: PendingDriver;
  beforeAll(async () => {
    machine = await bootDefault();
    driver = await loadPendingDriver(machine);
  });

  it("with requests outstanding, IRP_MJ_CLEANUP is sent at once and IRP_MJ_CLOSE only after the last of them completes (which still signals the caller)", async () => {
    driver.cleanupCancels = false;
    const r = await machine.runProgram("close-outstanding", async () => {
      const h = await open(true);
      const file = fileObjectOf(h);
      const ev = CreateEvent(null, true, false, null);
      const ov = new OVERLAPPED({ hEvent: ev });
      const t0 = KE().cpu.time;
      await pend(h, ov, 500);
      await CloseHandle(h);
      const atClose = driver.fileEvents.filter((e) => e.fileObject === file).map((e) => ({ major: e.major, outstanding: e.outstanding }));
      const wait = await WaitForSingleObject(ev, INFINITE);
      await Sleep(0.1);
      const close = driver.fileEvents.find((e) => e.fileObject === file && e.major === IRP_MJ_CLOSE);
      return { atClose, wait, internal: ov.Internal, closeAfterUs: close ? (close.timePs - t0) / PS_PER_US : -1, references: file.PointerCount };
    });
    expect(r.atClose).toEqual([{ major: IRP_MJ_CREATE, outstanding: 0 }, { major: IRP_MJ_CLEANUP, outstanding: 1 }]);
    expect(r.wait).toBe(0);
    expect(r.internal).toBe(STATUS_SUCCESS);
    expect(r.closeAfterUs).toBeGreaterThanOrEqual(500);
    expect(r.references).toBe(0);
  });

  it("with nothing outstanding, CloseHandle sends IRP_MJ_CLEANUP and then IRP_MJ_CLOSE before it returns", async () => {
    const r = await machine.runProgram("close-idle", async () => {
      const h = await open(false);
      const file = fileObjectOf(h);
      await CloseHandle(h);
      return driver.fileEvents.filter((e) => e.fileObject === file).map((e) => e.major);
    });
    expect(r).toEqual([IRP_MJ_CREATE, IRP_MJ_CLEANUP, IRP_MJ_CLOSE]);
  });

  it("a driver that cancels the file's requests in IRP_MJ_CLEANUP: they complete with STATUS_CANCELLED, and IRP_MJ_CLOSE follows", async () => {
    driver.cleanupCancels = true;
    const r = await machine.runProgram("close-cancels", async () => {
      const h = await open(true);
      const file = fileObjectOf(h);
      const ev = CreateEvent(null, true, false, null);
      const ov = new OVERLAPPED({ hEvent: ev });
      await pend(h, ov, FOREVER);
      const before = ov.Internal;
      await CloseHandle(h);
      await WaitForSingleObject(ev, INFINITE);
      await Sleep(0.1);
      return { before, internal: ov.Internal, majors: driver.fileEvents.filter((e) => e.fileObject === file).map((e) => e.major) };
    });
    expect(r.before).toBe(STATUS_PENDING);
    expect(r.internal).toBe(STATUS_CANCELLED);
    expect(r.majors).toEqual([IRP_MJ_CREATE, IRP_MJ_CLEANUP, IRP_MJ_CLOSE]);
  });
});
