// User-mode APCs: QueueUserAPC routines run only in an alertable wait of the target
// thread, which then returns WAIT_IO_COMPLETION.
import { describe, expect, it } from "vitest";
import {
  CreateEvent, CreateThread, GetCurrentThread, QueueUserAPC, SetEvent, Sleep, SleepEx, WaitForSingleObject, WaitForSingleObjectEx,
  WAIT_IO_COMPLETION, WAIT_OBJECT_0, WAIT_TIMEOUT, GetLastError, ERROR_INVALID_HANDLE,
} from "../../src/io/usermode.js";
import { bootDefault } from "../support/kernel-harness.js";

describe("QueueUserAPC and alertable waits", () => {
  it("an APC waits for an alertable wait; a non-alertable wait does not run it", async () => {
    const m = await bootDefault();
    const out = await m.runProgram("apc", async () => {
      const log: unknown[] = [];
      const self = GetCurrentThread();
      log.push(QueueUserAPC((d) => { log.push(`apc ${d}`); }, self, 7));
      const event = CreateEvent(null, true, false, null);
      // Not alertable: the APC stays queued, the wait times out.
      log.push(await WaitForSingleObject(event, 1) === WAIT_TIMEOUT);
      // Alertable: the queued APC runs at once.
      log.push(await WaitForSingleObjectEx(event, 1000, true) === WAIT_IO_COMPLETION);
      // Nothing queued: an alertable wait times out, or returns the object.
      log.push(await WaitForSingleObjectEx(event, 1, true) === WAIT_TIMEOUT);
      SetEvent(event);
      log.push(await WaitForSingleObjectEx(event, 1, true) === WAIT_OBJECT_0);
      log.push(QueueUserAPC(() => undefined, 12345, 0), GetLastError() === ERROR_INVALID_HANDLE);
      return log;
    });
    expect(out).toEqual([true, true, "apc 7", true, true, true, false, true]);
  });

  it("an APC queued by another thread wakes the target's alertable sleep", async () => {
    const m = await bootDefault();
    const out = await m.runProgram("apc2", async () => {
      const log: string[] = [];
      const target = CreateThread(null, 0, async () => {
        const r = await SleepEx(10_000, true);
        log.push(r === WAIT_IO_COMPLETION ? "woken" : `slept ${r}`);
        return 0;
      }, null, 0);
      await Sleep(5);
      QueueUserAPC(() => { log.push("apc ran"); }, target, 0);
      await WaitForSingleObject(target, 100_000);
      return log;
    });
    expect(out).toEqual(["apc ran", "woken"]);
  });
});
