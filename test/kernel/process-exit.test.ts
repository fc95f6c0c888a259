// How a user process ends (Win32 "Terminating a Process", ExitProcess, TerminateProcess,
// GetExitCodeProcess, OpenProcess): main returning ends the process and its other threads
// (C's exit); ExitProcess and TerminateProcess end every thread; an exception no code of
// the program handles ends the process with the exception's code. Its handles are closed
// (IRP_MJ_CLEANUP / IRP_MJ_CLOSE reach the driver), its threads' requests are cancelled
// (IoCancelThreadIo), the process object is signalled, and the machine goes on: a
// program's failure is never a bug check.
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, CreateFile, DeviceIoControl, GetLastError, SetLastError, OVERLAPPED, CreateEvent, CreateThread, WaitForSingleObject,
  Sleep, ExitProcess, ExitThread, TerminateProcess, GetCurrentProcess, GetCurrentProcessId, OpenProcess, GetExitCodeProcess, GetExitCodeThread,
  ProcessTerminated, NtStatusException, STILL_ACTIVE, INFINITE, GENERIC_READ, GENERIC_WRITE, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, INVALID_HANDLE_VALUE,
  ERROR_ACCESS_DENIED, ERROR_INVALID_PARAMETER, ERROR_INVALID_HANDLE, ERROR_SUCCESS, WAIT_OBJECT_0, WAIT_TIMEOUT, IRP_MJ_CLEANUP, IRP_MJ_CLOSE,
  PROCESS_TERMINATE, PROCESS_QUERY_INFORMATION, SYNCHRONIZE, STATUS_ACCESS_VIOLATION, STATUS_UNHANDLED_EXCEPTION, STATUS_INVALID_DEVICE_STATE,
  type HANDLE,
} from "../../src/index.js";
import { kernelOf, bootDefault } from "../support/kernel-harness.js";
import { FOREVER, IOCTL_PEND, loadPendingDriver, PEND_DEVICE, pendInput, type PendingDriver } from "../support/pending-driver.js";

async function open(): Promise<HANDLE> {
  const h = await CreateFile(PEND_DEVICE, GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, null);
  if (h === INVALID_HANDLE_VALUE) throw new Error(`CreateFile failed: ${GetLastError()}`);
  return h;
}

/** Issues IOCTL_PEND that the driver holds until cancelled. */
function pendForever(h: HANDLE): Promise<unknown> {
  return DeviceIoControl(h, IOCTL_PEND, pendInput(FOREVER), 12, new Uint8Array(4), 4, new OVERLAPPED());
}

describe("a process ends", () => {
  let machine: Machine;
  let driver: PendingDriver;
  beforeAll(async () => {
    machine = await bootDefault();
    driver = await loadPendingDriver(machine);
    // The driver's cleanup leaves requests alone: only the thread's exit cancels them.
    driver.cleanupCancels = false;
  });

  it("an exception the program does not handle ends its process with the exception's code, not the machine", async () => {
    const thrown = new Error("the program failed");
    const failed = await machine.runProcess("throws", async () => {
      throw thrown;
    });
    expect(failed).toEqual({ ExitCode: STATUS_UNHANDLED_EXCEPTION, returned: false, value: undefined, exception: thrown });
    // A bad pointer in C is an access violation; a raised status is its own code.
    expect((await machine.runProcess("type-error", async () => (null as unknown as { x: number }).x)).ExitCode).toBe(STATUS_ACCESS_VIOLATION);
    expect((await machine.runProcess("raised", async () => { throw new NtStatusException(STATUS_INVALID_DEVICE_STATE); })).ExitCode).toBe(STATUS_INVALID_DEVICE_STATE);
    // runProgram rejects with ProcessTerminated naming the program and the code.
    const e = await machine.runProgram("throws-again", async () => { throw thrown; }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProcessTerminated);
    expect((e as ProcessTerminated).ExitCode).toBe(STATUS_UNHANDLED_EXCEPTION);
    expect((e as Error).message).toMatch(/program "throws-again" ended with an unhandled exception \(exit code 0xc0000144, STATUS_UNHANDLED_EXCEPTION\): the program failed/);
    // The machine goes on.
    expect(kernelOf(machine).crashed).toBeUndefined();
    expect(await machine.runProgram("after", async () => 42)).toBe(42);
  });

  it("its open handles are closed (IRP_MJ_CLEANUP, IRP_MJ_CLOSE) and its threads' requests cancelled", async () => {
    const before = driver.fileEvents.length;
    const r = await machine.runProcess("leaves-io", async () => {
      const h = await open();
      await pendForever(h);
      await pendForever(h);
      throw new Error("gone with requests outstanding");
    });
    expect(r.ExitCode).toBe(STATUS_UNHANDLED_EXCEPTION);
    const events = driver.fileEvents.slice(before).map((e) => [e.major, e.outstanding]);
    // By the time the handle is closed (the last thread has ended) its requests are cancelled.
    expect(events.slice(1)).toEqual([[IRP_MJ_CLEANUP, 0], [IRP_MJ_CLOSE, 0]]);
    expect(driver.pending).toHaveLength(0);
  });

  it("main returning ends the process with its return value, and every other thread with it", async () => {
    let reached = false;
    const r = await machine.runProcess("main-returns", async () => {
      CreateThread(null, 0, async () => {
        await Sleep(INFINITE);
        reached = true;
        return 0;
      }, null, 0);
      await Sleep(1);
      return 3;
    });
    expect(r).toEqual({ ExitCode: 3, returned: true, value: 3, exception: undefined });
    expect(reached).toBe(false);
  });

  it("ExitProcess from another thread ends main in its wait; the exit code is ExitProcess's", async () => {
    let resumed = false;
    const r = await machine.runProcess("exit-process", async () => {
      const never = CreateEvent(null, true, false, null);
      CreateThread(null, 0, async () => {
        await Sleep(5);
        ExitProcess(9);
      }, null, 0);
      await WaitForSingleObject(never, INFINITE);
      resumed = true;
      return 0;
    });
    expect(r).toEqual({ ExitCode: 9, returned: false, value: undefined, exception: undefined });
    expect(resumed).toBe(false);
  });

  it("ExitThread on the last other thread leaves the process running; the thread's exit code is ExitThread's", async () => {
    const r = await machine.runProgram("exit-thread", async () => {
      const t = CreateThread(null, 0, async () => ExitThread(17), null, 0);
      const waited = await WaitForSingleObject(t, INFINITE);
      return { waited, code: GetExitCodeThread(t).ExitCode };
    });
    expect(r).toEqual({ waited: WAIT_OBJECT_0, code: 17 });
  });

  it("an unhandled exception in any thread ends the whole process", async () => {
    const r = await machine.runProcess("thread-throws", async () => {
      CreateThread(null, 0, async () => { throw new NtStatusException(STATUS_ACCESS_VIOLATION); }, null, 0);
      await Sleep(INFINITE);
      return 0;
    });
    expect(r.ExitCode).toBe(STATUS_ACCESS_VIOLATION);
    expect(r.returned).toBe(false);
    expect(r.exception).toBeInstanceOf(NtStatusException);
  });

  it("TerminateProcess: the current process does not return; a handle without PROCESS_TERMINATE is refused", async () => {
    const log: unknown[] = [];
    const r = await machine.runProcess("terminate", async () => {
      const pid = GetCurrentProcessId();
      const limited = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_INFORMATION, false, pid);
      log.push(limited !== 0, GetExitCodeProcess(limited), GetExitCodeProcess(GetCurrentProcess()));
      log.push(TerminateProcess(limited, 1), GetLastError() === ERROR_ACCESS_DENIED);
      log.push(TerminateProcess(0x7FFC, 1), GetLastError() === ERROR_INVALID_HANDLE);
      // A process that has not ended is not signalled.
      log.push(await WaitForSingleObject(limited, 0) === WAIT_TIMEOUT);
      SetLastError(ERROR_SUCCESS);
      TerminateProcess(GetCurrentProcess(), 0x1234);
      log.push("returned");
      return 0;
    });
    expect(r.ExitCode).toBe(0x1234);
    expect(log).toEqual([true, { ok: true, ExitCode: STILL_ACTIVE }, { ok: true, ExitCode: STILL_ACTIVE }, false, true, false, true, true]);
  });

  it("OpenProcess: no such process is ERROR_INVALID_PARAMETER, the System process is ERROR_ACCESS_DENIED", async () => {
    const r = await machine.runProgram("open-process", async () => {
      const none = OpenProcess(PROCESS_TERMINATE, false, 0x7FFC);
      const noneError = GetLastError();
      const idle = OpenProcess(PROCESS_TERMINATE, false, 0);
      const idleError = GetLastError();
      const system = OpenProcess(PROCESS_TERMINATE, false, 4);
      const systemError = GetLastError();
      return { none, noneError, idle, idleError, system, systemError };
    });
    expect(r).toEqual({ none: 0, noneError: ERROR_INVALID_PARAMETER, idle: 0, idleError: ERROR_INVALID_PARAMETER, system: 0, systemError: ERROR_ACCESS_DENIED });
  });
});
