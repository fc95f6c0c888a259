// Run limits and hang detection: a run past its simulated-time or host-time limit stops
// with RunLimitReached, and a machine where nothing but timers can happen any more stops
// with KernelHang — each with a report of what was still waiting (threads and their waits,
// requests, DPCs, timers). The machine is never left spinning.
import { describe, expect, it } from "vitest";
import {
  KernelHang, RunLimitReached, KeDelayExecutionThread, KeInitializeTimerEx, KeSetTimerEx, KeInitializeDpc, KeWaitForSingleObject, KTIMER, KDPC,
  KPROCESSOR_MODE, KWAIT_REASON, TIMER_TYPE, STATUS_TIMEOUT, CreateEvent, WaitForSingleObject, INFINITE, HANG_WINDOW_PS,
} from "../../src/index.js";
import { bootDefault, kernelOf, notificationEvent, relativeMs } from "../support/kernel-harness.js";

/** Arms a periodic 1 ms timer whose DPC does nothing (a driver's idle watchdog). */
function tick(): void {
  const timer = new KTIMER();
  const dpc = new KDPC();
  KeInitializeTimerEx(timer, TIMER_TYPE.NotificationTimer);
  KeInitializeDpc(dpc, function IdleWatchdogDpc() {}, null);
  KeSetTimerEx(timer, relativeMs(1), 1, dpc);
}

describe("run limits", () => {
  it("a program waiting forever while a periodic timer ticks is a hang: KernelHang with the report, soon in host time", async () => {
    const m = await bootDefault();
    await m.exec(tick);
    const started = performance.now();
    const e = await m.runProgram("waits-forever", async () => WaitForSingleObject(CreateEvent(null, true, false, null), INFINITE)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KernelHang);
    const hang = e as KernelHang;
    expect(hang.message).toMatch(/only timers fired/);
    expect(hang.report).toMatch(/^Threads waiting:\n {2}"waits-forever" \(process waits-forever, thread \d+\) waits on/m);
    expect(hang.report).toMatch(/^Timers armed:\n {2}due at [0-9.]+ ms: KTIMER with DPC IdleWatchdogDpc, every 1 ms$/m);
    expect(hang.report).toMatch(/^Requests not completed:/m);
    expect(hang.report).toMatch(/^DPCs queued:/m);
    // Stopped after the hang window of simulated time, not at once and not never.
    const now = Math.max(...kernelOf(m).processors.map((p) => p.time));
    expect(now).toBeGreaterThan(HANG_WINDOW_PS);
    expect(now).toBeLessThan(HANG_WINDOW_PS + 1e12);
    expect(performance.now() - started).toBeLessThan(30_000);
  });

  it("a wait with a timeout longer than nothing happening is not a hang: the timeout ends it", async () => {
    const m = await bootDefault();
    await m.exec(tick);
    const status = await m.exec(() => KeWaitForSingleObject(notificationEvent(), KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, relativeMs(12_000)));
    expect(status).toBe(STATUS_TIMEOUT);
  });

  it("maxSimTime stops a routine that runs on and on (exec), naming what it waits on; the limit is from the call", async () => {
    const m = await bootDefault();
    const start = Math.max(...kernelOf(m).processors.map((p) => p.time));
    const e = await m.exec(async () => {
      for (;;) await KeDelayExecutionThread(KPROCESSOR_MODE.KernelMode, false, relativeMs(1));
    }, { name: "spinner", maxSimTime: 0.05 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RunLimitReached);
    expect((e as RunLimitReached).limit).toBe("simulated time");
    expect((e as RunLimitReached).report).toMatch(/"spinner" \(process System, thread \d+\) waits on/);
    expect((e as RunLimitReached).report).toMatch(/timeout of thread "spinner"'s wait/);
    const now = Math.max(...kernelOf(m).processors.map((p) => p.time));
    expect(now - start).toBeLessThanOrEqual(0.05e12 + 2e9);
  });

  it("timeout stops a run after that much host time", async () => {
    const m = await bootDefault();
    const started = performance.now();
    const e = await m.runProgram("sleeper", async () => {
      for (;;) await WaitForSingleObject(CreateEvent(null, true, false, null), 1);
    }, { timeout: 0.3 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RunLimitReached);
    expect((e as RunLimitReached).limit).toBe("host time");
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
