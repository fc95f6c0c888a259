// I/O completion ports as the Win32 documentation describes them (CreateIoCompletionPort,
// GetQueuedCompletionStatus(Ex), PostQueuedCompletionStatus, SetFileCompletionNotificationModes,
// "I/O Completion Ports": packets are queued FIFO, waiting threads are released LIFO, at most
// NumberOfConcurrentThreads run at once), and the kernel queue object under them.
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, CreateFile, CloseHandle, DeviceIoControl, GetLastError, OVERLAPPED, CreateEvent, CreateThread, WaitForSingleObject, Sleep, ResetEvent,
  CreateIoCompletionPort, GetQueuedCompletionStatus, GetQueuedCompletionStatusEx, PostQueuedCompletionStatus, SetFileCompletionNotificationModes,
  CancelIoEx, KE, KQUEUE, KeInitializeQueue, KeInsertQueue, KeRemoveQueue, KeReadStateQueue, KPROCESSOR_MODE, INFINITE, GENERIC_READ, GENERIC_WRITE,
  OPEN_EXISTING, FILE_FLAG_OVERLAPPED, INVALID_HANDLE_VALUE, NULL, WAIT_OBJECT_0, ERROR_WAIT_TIMEOUT, ERROR_OPERATION_ABORTED,
  ERROR_NOT_SUPPORTED, ERROR_INVALID_PARAMETER, ERROR_ABANDONED_WAIT_0, ERROR_IO_PENDING, FILE_SKIP_COMPLETION_PORT_ON_SUCCESS,
  STATUS_NOT_SUPPORTED, STATUS_SUCCESS, STATUS_TIMEOUT, type HANDLE,
} from "../../src/index.js";
import { bootDefault, defaultDescription } from "../support/kernel-harness.js";
import { boot } from "../../src/pnp/boot.js";
import { Machine as MachineClass } from "../../src/machine/machine.js";
import { EDU_USER_DEVICE_NAME, IOCTL_EDU_COMPUTE_FACTORIAL } from "../../src/drivers/edu/public.js";
import { FOREVER, IOCTL_PEND, loadPendingDriver, PEND_DEVICE, pendInput } from "../support/pending-driver.js";

const PS_PER_US = 1_000_000;
const now = () => KE().cpu.time;

function open(overlapped = true): Promise<HANDLE> {
  return CreateFile(PEND_DEVICE, GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, overlapped ? FILE_FLAG_OVERLAPPED : 0, null).then((h) => {
    if (h === INVALID_HANDLE_VALUE) throw new Error(`CreateFile failed: ${GetLastError()}`);
    return h;
  });
}

function pend(h: HANDLE, ov: OVERLAPPED, delayUs: number, status = STATUS_SUCCESS) {
  return DeviceIoControl(h, IOCTL_PEND, pendInput(delayUs, 0, status), 12, new Uint8Array(4), 4, ov);
}

describe("completion ports", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
    await loadPendingDriver(machine);
  });

  it("a completed overlapped request on an associated file gives a packet: TRUE, its bytes, the file's key and the same OVERLAPPED", async () => {
    const r = await machine.runProgram("packet", async () => {
      const h = await open();
      const port = CreateIoCompletionPort(h, null, 0x5A, 0);
      const ov = new OVERLAPPED();
      const issued = await pend(h, ov, 100);
      const error = GetLastError();
      const got = await GetQueuedCompletionStatus(port, INFINITE);
      await CloseHandle(h);
      await CloseHandle(port);
      return { port, issued, error, got, same: got.overlapped === ov };
    });
    expect(r.port).not.toBe(NULL);
    expect(r.issued.ok).toBe(false);
    expect(r.error).toBe(ERROR_IO_PENDING);
    expect(r.got).toMatchObject({ ok: true, bytes: 4, key: 0x5A });
    expect(r.same).toBe(true);
  });

  it("a timeout gives FALSE with WAIT_TIMEOUT and no OVERLAPPED, after the time given", async () => {
    const r = await machine.runProgram("timeout", async () => {
      const port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, null, 0, 0);
      const t0 = now();
      const got = await GetQueuedCompletionStatus(port, 5);
      const error = GetLastError();
      const elapsed = now() - t0;
      await CloseHandle(port);
      return { got, error, elapsed };
    });
    expect(r.got).toEqual({ ok: false, bytes: 0, key: null, overlapped: null });
    expect(r.error).toBe(ERROR_WAIT_TIMEOUT);
    expect(r.elapsed).toBeGreaterThanOrEqual(5000 * PS_PER_US);
  });

  it("a packet of a failed request gives FALSE with its error and its OVERLAPPED (a cancelled one: ERROR_OPERATION_ABORTED)", async () => {
    const r = await machine.runProgram("failed", async () => {
      const h = await open();
      const port = CreateIoCompletionPort(h, null, 1, 0);
      const failed = new OVERLAPPED();
      const cancelled = new OVERLAPPED();
      await pend(h, failed, 50, STATUS_NOT_SUPPORTED);
      await pend(h, cancelled, FOREVER);
      await CancelIoEx(h, cancelled);
      const out: { ok: boolean; error: number; which: string }[] = [];
      for (let i = 0; i < 2; i++) {
        const got = await GetQueuedCompletionStatus(port, INFINITE);
        out.push({ ok: got.ok, error: GetLastError(), which: got.overlapped === failed ? "failed" : got.overlapped === cancelled ? "cancelled" : "?" });
      }
      await CloseHandle(h);
      await CloseHandle(port);
      return out;
    });
    expect(r).toEqual([
      { ok: false, error: ERROR_OPERATION_ABORTED, which: "cancelled" },
      { ok: false, error: ERROR_NOT_SUPPORTED, which: "failed" },
    ]);
  });

  it("PostQueuedCompletionStatus's values come back as they are, in FIFO order", async () => {
    const r = await machine.runProgram("post", async () => {
      const port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, null, 0, 0);
      const marker = { tag: "mine" };
      PostQueuedCompletionStatus(port, 10, "a", marker);
      PostQueuedCompletionStatus(port, 20, "b", null);
      const first = await GetQueuedCompletionStatus(port, 0);
      const second = await GetQueuedCompletionStatus(port, 0);
      await CloseHandle(port);
      return { first, second, same: first.overlapped === marker };
    });
    expect(r.first).toMatchObject({ ok: true, bytes: 10, key: "a" });
    expect(r.same).toBe(true);
    expect(r.second).toEqual({ ok: true, bytes: 20, key: "b", overlapped: null });
  });

  it("a request that completes at once still queues a packet, unless FILE_SKIP_COMPLETION_PORT_ON_SUCCESS is set; a pended one always does", async () => {
    const r = await machine.runProgram("skip-on-success", async () => {
      const h = await open();
      const port = CreateIoCompletionPort(h, null, 7, 0);
      const plain = await pend(h, new OVERLAPPED(), 0);
      const packet = await GetQueuedCompletionStatus(port, 0);
      const set = SetFileCompletionNotificationModes(h, FILE_SKIP_COMPLETION_PORT_ON_SUCCESS);
      const skipped = await pend(h, new OVERLAPPED(), 0);
      const none = await GetQueuedCompletionStatus(port, 0);
      const noneError = GetLastError();
      await pend(h, new OVERLAPPED(), 50);
      const pended = await GetQueuedCompletionStatus(port, INFINITE);
      await CloseHandle(h);
      await CloseHandle(port);
      return { plain: plain.ok, packet: packet.ok, set, skipped: skipped.ok, none: none.overlapped, noneError, pended: pended.ok };
    });
    expect(r).toEqual({ plain: true, packet: true, set: true, skipped: true, none: null, noneError: ERROR_WAIT_TIMEOUT, pended: true });
  });

  it("no packet for a request that fails at once, nor for one whose hEvent has its low bit set (that event is still set)", async () => {
    const r = await machine.runProgram("no-packet", async () => {
      const h = await open();
      const port = CreateIoCompletionPort(h, null, 7, 0);
      const failed = await pend(h, new OVERLAPPED(), 0, STATUS_NOT_SUPPORTED);
      const failedError = GetLastError();
      const ev = CreateEvent(null, true, false, null);
      await pend(h, new OVERLAPPED({ hEvent: ev | 1 }), 50);
      const signalled = await WaitForSingleObject(ev, INFINITE);
      const none = await GetQueuedCompletionStatus(port, 0);
      await CloseHandle(h);
      await CloseHandle(port);
      return { failed: failed.ok, failedError, signalled, none: none.overlapped, noneError: GetLastError() };
    });
    // The timeout's WAIT_TIMEOUT is still the last error: the CloseHandle calls that succeeded after it leave it alone.
    expect(r).toEqual({ failed: false, failedError: ERROR_NOT_SUPPORTED, signalled: WAIT_OBJECT_0, none: null, noneError: ERROR_WAIT_TIMEOUT });
  });

  it("threads waiting on a port are released last-in first-out", async () => {
    const r = await machine.runProgram("lifo", async () => {
      const port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, null, 0, 4);
      const order: string[] = [];
      const waiter = (name: string) => CreateThread(null, 0, async () => {
        const got = await GetQueuedCompletionStatus(port, INFINITE);
        order.push(`${name}:${String(got.key)}`);
      }, null, 0);
      const a = waiter("first");
      await Sleep(0.01);
      const b = waiter("second");
      await Sleep(0.01);
      PostQueuedCompletionStatus(port, 0, 1, null);
      await WaitForSingleObject(b, 1);
      PostQueuedCompletionStatus(port, 0, 2, null);
      await WaitForSingleObject(a, INFINITE);
      await CloseHandle(port);
      return order;
    });
    expect(r).toEqual(["second:1", "first:2"]);
  });

  it("at most NumberOfConcurrentThreads threads run for a port: with 1, a second packet waits until the running thread blocks", async () => {
    const run = (concurrency: number) => machine.runProgram(`concurrency-${concurrency}`, async () => {
      const port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, null, 0, concurrency);
      const busy = CreateEvent(null, true, false, null);
      let secondAt = 0;
      let busyUntil = 0;
      const worker = () => CreateThread(null, 0, async () => {
        const got = await GetQueuedCompletionStatus(port, INFINITE);
        if (got.key === 2) {
          secondAt = now();
          return;
        }
        // Runs without blocking for a while (system calls only), then blocks.
        for (let i = 0; i < 2000; i++) ResetEvent(busy);
        busyUntil = now();
        await Sleep(0.1);
      }, null, 0);
      const a = worker();
      const b = worker();
      await Sleep(0.01);
      const postedAt = now();
      PostQueuedCompletionStatus(port, 0, 1, null);
      PostQueuedCompletionStatus(port, 0, 2, null);
      await WaitForSingleObject(a, INFINITE);
      await WaitForSingleObject(b, INFINITE);
      await CloseHandle(port);
      return { secondAfterUs: (secondAt - postedAt) / PS_PER_US, busyForUs: (busyUntil - postedAt) / PS_PER_US };
    });
    const one = await run(1);
    const two = await run(2);
    expect(one.busyForUs).toBeGreaterThan(100);
    expect(one.secondAfterUs).toBeGreaterThanOrEqual(one.busyForUs);
    expect(two.secondAfterUs).toBeLessThan(two.busyForUs);
  });

  it("closing the port while a thread waits ends the wait: FALSE with ERROR_ABANDONED_WAIT_0", async () => {
    const r = await machine.runProgram("abandoned", async () => {
      const port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, null, 0, 0);
      let outcome = { ok: true, overlapped: {} as unknown, error: -1 };
      const t = CreateThread(null, 0, async () => {
        const got = await GetQueuedCompletionStatus(port, INFINITE);
        outcome = { ok: got.ok, overlapped: got.overlapped, error: GetLastError() };
      }, null, 0);
      await Sleep(0.01);
      await CloseHandle(port);
      await WaitForSingleObject(t, INFINITE);
      return outcome;
    });
    expect(r).toEqual({ ok: false, overlapped: null, error: ERROR_ABANDONED_WAIT_0 });
  });

  it("a handle opened for synchronous I/O, or one already associated, cannot be associated: NULL with ERROR_INVALID_PARAMETER", async () => {
    const r = await machine.runProgram("association", async () => {
      const sync = await open(false);
      const p1 = CreateIoCompletionPort(sync, null, 0, 0);
      const e1 = GetLastError();
      const h = await open(true);
      const port = CreateIoCompletionPort(h, null, 0, 0);
      const again = CreateIoCompletionPort(h, port, 1, 0);
      const e2 = GetLastError();
      await CloseHandle(sync);
      await CloseHandle(h);
      await CloseHandle(port);
      return { p1, e1, again, e2 };
    });
    expect(r).toEqual({ p1: NULL, e1: ERROR_INVALID_PARAMETER, again: NULL, e2: ERROR_INVALID_PARAMETER });
  });

  it("GetQueuedCompletionStatusEx removes several packets at once; a failed request's status is in its entry", async () => {
    const r = await machine.runProgram("ex", async () => {
      const h = await open();
      const port = CreateIoCompletionPort(h, null, 3, 0);
      const ovs = [new OVERLAPPED(), new OVERLAPPED(), new OVERLAPPED()];
      await pend(h, ovs[0], 10);
      await pend(h, ovs[1], 20, STATUS_NOT_SUPPORTED);
      await pend(h, ovs[2], 30);
      await Sleep(0.1);
      const got = await GetQueuedCompletionStatusEx(port, 8, INFINITE, false);
      const empty = await GetQueuedCompletionStatusEx(port, 8, 0, false);
      const emptyError = GetLastError();
      await CloseHandle(h);
      await CloseHandle(port);
      return {
        ok: got.ok,
        entries: got.entries.map((e) => ({ which: ovs.indexOf(e.lpOverlapped as OVERLAPPED), key: e.lpCompletionKey, internal: e.Internal, bytes: e.dwNumberOfBytesTransferred })),
        empty: empty.ok,
        emptyError,
      };
    });
    expect(r.ok).toBe(true);
    expect(r.entries).toEqual([
      { which: 0, key: 3, internal: STATUS_SUCCESS, bytes: 4 },
      { which: 1, key: 3, internal: STATUS_NOT_SUPPORTED, bytes: 4 },
      { which: 2, key: 3, internal: STATUS_SUCCESS, bytes: 4 },
    ]);
    expect(r.empty).toBe(false);
    expect(r.emptyError).toBe(ERROR_WAIT_TIMEOUT);
  });
});

describe("kernel queue objects", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("KeInsertQueue returns the previous number of entries; KeRemoveQueue takes the oldest; an empty queue times out with STATUS_TIMEOUT", async () => {
    const r = await machine.exec(async () => {
      const q = new KQUEUE<string>();
      KeInitializeQueue(q, 0);
      const prev = [KeInsertQueue(q, "a"), KeInsertQueue(q, "b")];
      const state = KeReadStateQueue(q);
      const first = await KeRemoveQueue(q, KPROCESSOR_MODE.KernelMode, null);
      const second = await KeRemoveQueue(q, KPROCESSOR_MODE.KernelMode, null);
      const none = await KeRemoveQueue(q, KPROCESSOR_MODE.KernelMode, -1000);
      return { prev, state, first, second, none, max: q.MaximumCount };
    });
    expect(r).toEqual({ prev: [0, 1], state: 2, first: "a", second: "b", none: STATUS_TIMEOUT, max: 2 });
  });
});

describe("an I/O completion that arrives while the thread is on its way into the wait", () => {
  it("is delivered: the wait on the port returns the packet instead of blocking with the completion pending", async () => {
    // KeRemoveQueue made to cost about a millisecond: the device's interrupt, and with it the
    // request's completion (a kernel APC to the thread), lands while the thread still runs
    // into its wait, as an interrupt taken on the way into KeRemoveQueueEx does.
    const d = defaultDescription();
    d.kernel = { ...d.kernel, costs: { ...d.kernel.costs, KeRemoveQueue: 2_000_000 } };
    const machine = await boot(MachineClass.fromDescription(d));
    const r = await machine.runProgram("into-the-wait", async () => {
      const h = await CreateFile(EDU_USER_DEVICE_NAME, GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, null);
      const port = CreateIoCompletionPort(h, null, 7, 0);
      const out = new Uint8Array(4);
      const issued = await DeviceIoControl(h, IOCTL_EDU_COMPUTE_FACTORIAL, new Uint8Array([5, 0, 0, 0]), 4, out, 4, new OVERLAPPED());
      const error = GetLastError();
      const got = await GetQueuedCompletionStatus(port, INFINITE);
      await CloseHandle(h);
      await CloseHandle(port);
      return { issued: issued.ok, error, got: { ok: got.ok, key: got.key, bytes: got.bytes }, factorial: new DataView(out.buffer).getUint32(0, true) };
    }, { cpu: 0 });
    expect(r.issued).toBe(false);
    expect(r.error).toBe(ERROR_IO_PENDING);
    expect(r.got).toEqual({ ok: true, key: 7, bytes: 4 });
    expect(r.factorial).toBe(120);
  });
});
