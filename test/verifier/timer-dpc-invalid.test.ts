// Bug check 0xC7 TIMER_OR_DPC_INVALID ("Bug Check 0xC7" in the WDK debugger reference): a
// kernel timer or DPC found in memory where it is not permitted — a driver unloaded
// without cancelling a timer or DPC in its memory. P1 0: the timer object (P2 its
// address), 1: the DPC object (P2 its address); P3 and P4 the start and end of the memory
// range checked (the driver image's).
import { describe, expect, it } from "vitest";
import {
  KDPC, KTIMER, KeInitializeDpc, KeInitializeTimer, KeSetTimer, KeCancelTimer, KeInsertQueueDpc, KeRaiseIrql, DISPATCH_LEVEL,
  KE, STATUS_SUCCESS,
} from "../../src/index.js";
import { IO } from "../../src/io/manager.js";
import { MM } from "../../src/mm/manager.js";
import { asDriver, bootDefault, crash, createTestDriver, kernelOf, params, relativeMs } from "../support/kernel-harness.js";

const TIMER_OR_DPC_INVALID = 0xC7;

describe("0xC7 TIMER_OR_DPC_INVALID at driver unload", () => {
  it("a timer the driver set and did not cancel: P1 0, P2 the timer's address, P3..P4 the driver image's range", async () => {
    let service = "";
    let timer: KTIMER | null = null;
    const bc = await crash(async () => {
      const driver = await createTestDriver("timerdrv");
      service = driver.serviceName;
      timer = new KTIMER();
      asDriver(service, "StartPolling", () => {
        KeInitializeTimer(timer!);
        KeSetTimer(timer!, relativeMs(1000), null);
      });
      await IO(KE()).unloadDriver(driver);
    });
    expect(bc.code).toBe(TIMER_OR_DPC_INVALID);
    const [p1, p2, p3, p4] = params(bc);
    expect(p1).toBe(0);
    expect(p2).toBe((timer as unknown as { address: number }).address);
    expect(p2).toBeGreaterThan(0);
    expect(bc.context.driver).toBe(service);
    // The range is the driver's image: its routines' code addresses lie in it.
    const code = MM(KE()).codeAddress(service, "StartPolling");
    expect(code).toBeGreaterThanOrEqual(p3);
    expect(code).toBeLessThan(p4);
    expect(MM(KE()).imageRange(service)).toEqual({ start: p3, end: p4 });
  });

  it("the driver's DPC on a set timer the kernel initialised: P1 1, P2 the DPC's address", async () => {
    const bc = await crash(async () => {
      const driver = await createTestDriver("dpcdrv");
      const dpc = new KDPC();
      asDriver(driver.serviceName, "QueueWork", () => KeInitializeDpc(dpc, function DpcForWork() {}, null));
      // A timer the kernel owns, whose expiry would run the driver's DPC.
      const timer = new KTIMER();
      KeInitializeTimer(timer);
      KeSetTimer(timer, relativeMs(1000), dpc);
      await IO(KE()).unloadDriver(driver);
    });
    expect(bc.code).toBe(TIMER_OR_DPC_INVALID);
    expect(params(bc)[0]).toBe(1);
    expect(params(bc)[1]).toBeGreaterThan(0);
  });

  it("a DPC sitting in a processor's queue is found too (P1 1)", async () => {
    let driverName = "";
    const bc = await crash(async () => {
      const driver = await createTestDriver("queuedrv");
      driverName = driver.serviceName;
      const dpc = new KDPC();
      asDriver(driver.serviceName, "Isr", () => KeInitializeDpc(dpc, function DpcForIsr() {}, null));
      // Queued at DISPATCH_LEVEL, so it has not run when the driver (without DriverUnload) goes.
      KeRaiseIrql(DISPATCH_LEVEL);
      KeInsertQueueDpc(dpc, null, null);
      await IO(KE()).unloadDriver(driver);
    });
    expect(bc.code).toBe(TIMER_OR_DPC_INVALID);
    expect(params(bc)[0]).toBe(1);
    expect(bc.context.driver).toBe(driverName);
  });

  it("a driver that cancelled its timer before unloading unloads cleanly", async () => {
    const m = await bootDefault();
    const r = await m.exec(async () => {
      const driver = await createTestDriver("tidydrv");
      const timer = new KTIMER();
      const wasSet = asDriver(driver.serviceName, "Poll", () => {
        KeInitializeTimer(timer);
        KeSetTimer(timer, relativeMs(1000), null);
        return KeCancelTimer(timer);
      });
      await IO(KE()).unloadDriver(driver);
      return { wasSet, loaded: IO(KE()).drivers.has(driver.serviceName) };
    });
    expect(r).toEqual({ wasSet: true, loaded: false });
    expect(kernelOf(m).crashed).toBeUndefined();
  });

  it("a timer another driver set is not the unloading driver's business", async () => {
    const m = await bootDefault();
    const status = await m.exec(async () => {
      const keeper = await createTestDriver("keeper");
      const leaving = await createTestDriver("leaving");
      const timer = new KTIMER();
      asDriver(keeper.serviceName, "Poll", () => {
        KeInitializeTimer(timer);
        KeSetTimer(timer, relativeMs(1000), null);
      });
      await IO(KE()).unloadDriver(leaving);
      KeCancelTimer(timer);
      return STATUS_SUCCESS;
    });
    expect(status).toBe(STATUS_SUCCESS);
  });

  it("each driver image has its own range, and code addresses name their routine", async () => {
    const m = await bootDefault();
    const mm = MM(kernelOf(m));
    const a = mm.imageRange("alpha");
    const b = mm.imageRange("beta");
    expect(a.end - a.start).toBe(b.end - b.start);
    expect(a.end <= b.start || b.end <= a.start).toBe(true);
    const f = mm.codeAddress("alpha", "AlphaDpc");
    expect(f).toBeGreaterThanOrEqual(a.start);
    expect(f).toBeLessThan(a.end);
    expect(mm.routineAt(f)).toBe("alpha!AlphaDpc");
    expect(mm.codeAddress("alpha", "AlphaDpc")).toBe(f);
  });
});
