// Multi-processor rules (shared/specs/nt-semantics.md: DPCs, Spin locks, Interrupts; WDK:
// KeSetTargetProcessorDpc, KeAcquireSpinLock, KeAcquireInStackQueuedSpinLock,
// KeTryToAcquireSpinLockAtDpcLevel, "Introduction to DPC Objects", Bug Check 0x133):
// - a DPC targeted at another processor runs there, at DISPATCH_LEVEL, even when an ISR on
//   a different processor queued it;
// - a processor that wants a spin lock another processor holds spins until it is released:
//   it acquires it no earlier than the release and the spin is charged to its own clock;
//   KeTryToAcquireSpinLockAtDpcLevel returns FALSE instead of spinning; a lock that is never
//   released spins its waiter into the DPC watchdog (the single allotment inside a DPC, the
//   cumulative one otherwise);
// - a device interrupt above DISPATCH_LEVEL preempts a running DPC: its ISR runs at its DIRQL
//   on that processor, and the DPC resumes at DISPATCH_LEVEL and finishes afterwards;
// - the DPC watchdog: a single DPC or ISR past its allotment is 0x133 with P1 0 (P2 the time it
//   ran, P3 the allotment, in clock ticks); a processor that stays at DISPATCH_LEVEL or above,
//   or runs DPCs back to back, past the cumulative allotment is 0x133 with P1 1 (P2 the
//   watchdog period, in clock ticks).
import { beforeAll, describe, expect, it } from "vitest";
import {
  DISPATCH_LEVEL, PASSIVE_LEVEL, type Machine, type KINTERRUPT, type PKMESSAGE_SERVICE_ROUTINE, KE,
  KeGetCurrentIrql, KeGetCurrentProcessorNumber, KeRaiseIrql, KeLowerIrql, KeStallExecutionProcessor,
  KDPC, KeInitializeDpc, KeInsertQueueDpc, KeSetTargetProcessorDpc,
  KeSetEvent, KSPIN_LOCK, KLOCK_QUEUE_HANDLE, KeInitializeSpinLock, KeAcquireSpinLock, KeReleaseSpinLock,
  KeAcquireInStackQueuedSpinLock, KeReleaseInStackQueuedSpinLock, KeTryToAcquireSpinLockAtDpcLevel, KeAcquireSpinLockAtDpcLevel, KeReleaseSpinLockFromDpcLevel,
  IoConnectInterrupt, IoDisconnectInterrupt, IoDisconnectInterruptEx, CONNECT_LINE_BASED, KINTERRUPT_MODE,
  READ_REGISTER_ULONG, WRITE_REGISTER_ULONG, STATUS_SUCCESS, STATUS_WAIT_0, DPC_WATCHDOG_VIOLATION,
} from "../../src/index.js";
import { Machine as MachineClass } from "../../src/machine/machine.js";
import { boot } from "../../src/pnp/boot.js";
import { CLOCK_TICK_PS } from "../../src/ke/kernel.js";
import { TRACK_CPU } from "../../src/trace/recorder.js";
import { eduPackage } from "../../src/drivers/edu/package.js";
import * as HW from "../../src/drivers/edu/hw.js";
import { asDriver, bugCheckOf, defaultDescription, expectBugCheck, kernelOf, params, spawnThread, notificationEvent, waitMs, eduExtension } from "../support/kernel-harness.js";

/** An edu interrupt status bit none of the device's operations sets (those are 0x001 and 0x100); ISRs acknowledge what they read. */
const TEST_INTERRUPT_BIT = 0x1000;
/** Picoseconds per microsecond. */
const PS_PER_US = 1e6;

/** The executing processor's simulated time, ps. */
function nowPs(): number {
  return KE().cpu.time;
}

/** Boots the default machine with kernel options changed. */
function bootWithKernel(kernel: { dpcWatchdogUs?: number; dpcWatchdogCumulativeUs?: number }): Promise<Machine> {
  const d = defaultDescription();
  d.kernel = { ...d.kernel, ...kernel };
  return boot(MachineClass.fromDescription(d));
}

/** Clock ticks (15.625 ms) in `us` microseconds, rounded up. */
function ticks(us: number): number {
  return Math.ceil((us * PS_PER_US) / CLOCK_TICK_PS);
}

describe("an ISR on one processor queueing a DPC for another", () => {
  it("the DPC, targeted at CPU 0 by KeSetTargetProcessorDpc, runs on CPU 0 at DISPATCH_LEVEL after the ISR on CPU 1 queued it", async () => {
    // The edu device on its INTx line, so the line can be steered to CPU 1 by connecting there.
    const machine = await boot("default", { packages: [{ ...eduPackage, msiSupported: false }] });
    const ext = eduExtension(machine);
    const line = ext.PhysicalDeviceObject.resources!.lines[0];
    const stats = kernelOf(machine).recorder.stats;
    const samplesBefore = stats.interruptToDpc.count;
    const totalBefore = stats.interruptToDpc.total;
    const r = await machine.exec(async () => {
      const done = notificationEvent();
      const isrs: { cpu: number; irql: number; queued: boolean; atPs: number }[] = [];
      const dpcs: { cpu: number; irql: number; atPs: number; args: unknown[] }[] = [];
      const dpc = new KDPC();
      KeInitializeDpc(dpc, function CrossProcessorDpc(_d, _ctx, a1, a2) {
        dpcs.push({ cpu: KeGetCurrentProcessorNumber(), irql: KeGetCurrentIrql(), atPs: nowPs(), args: [a1, a2] });
        KeSetEvent(done, 0, false);
      }, null);
      KeSetTargetProcessorDpc(dpc, 0);
      IoDisconnectInterruptEx({ Version: CONNECT_LINE_BASED, ConnectionContext: { InterruptMessageTable: null, InterruptObject: ext.Interrupt } });
      const connection = IoConnectInterrupt(function Cpu1Isr() {
        const status = READ_REGISTER_ULONG(ext.Registers + HW.EDU_REG_INTERRUPT_STATUS);
        if (status === 0) return false;
        WRITE_REGISTER_ULONG(ext.Registers + HW.EDU_REG_INTERRUPT_ACK, status);
        // A read flushes the posted acknowledgement: the line is low before the EOI.
        READ_REGISTER_ULONG(ext.Registers + HW.EDU_REG_INTERRUPT_STATUS);
        const queued = KeInsertQueueDpc(dpc, "from", "cpu1");
        isrs.push({ cpu: KeGetCurrentProcessorNumber(), irql: KeGetCurrentIrql(), queued, atPs: nowPs() });
        return true;
      }, null, null, line.vector, line.irql, line.irql, KINTERRUPT_MODE.LevelSensitive, true, 0b10, false);
      WRITE_REGISTER_ULONG(ext.Registers + HW.EDU_REG_INTERRUPT_RAISE, TEST_INTERRUPT_BIT);
      const status = await waitMs(done, 10);
      IoDisconnectInterrupt(connection.InterruptObject!);
      return { connected: connection.status, status, isrs, dpcs };
    });
    expect(r.connected).toBe(STATUS_SUCCESS);
    expect(r.status).toBe(STATUS_WAIT_0);
    expect(line.irql).toBeGreaterThan(DISPATCH_LEVEL);
    expect(r.isrs).toHaveLength(1);
    expect(r.isrs[0]).toMatchObject({ cpu: 1, irql: line.irql, queued: true });
    expect(r.dpcs).toHaveLength(1);
    expect(r.dpcs[0]).toMatchObject({ cpu: 0, irql: DISPATCH_LEVEL, args: ["from", "cpu1"] });
    expect(r.dpcs[0].atPs).toBeGreaterThanOrEqual(r.isrs[0].atPs);
    // The interrupt-to-DPC latency was measured across the two processors.
    expect(stats.interruptToDpc.count).toBe(samplesBefore + 1);
    // The one latency added is what the total grew by.
    expect(stats.interruptToDpc.total - totalBefore).toBeGreaterThan(0);
  });
});

describe("spin lock contention across processors", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await boot("default");
  });

  /** What the processor that had to wait saw. */
  interface Contender {
    askedPs: number;
    gotPs: number;
    irqlInside: number;
    irqlAfter: number;
  }

  /**
   * CPU 0 holds `lock` for `holdUs` (from `heldFromPs` to `releasedPs`) while a thread on CPU 1
   * that started just after CPU 0 took it asks for it with `acquire`.
   */
  async function contend(acquire: (lock: KSPIN_LOCK) => () => void, holdUs: number) {
    return machine.exec(async () => {
      const lock = new KSPIN_LOCK();
      KeInitializeSpinLock(lock);
      const done = notificationEvent();
      const seen: Contender[] = [];
      const old = KeAcquireSpinLock(lock);
      const heldFromPs = nowPs();
      spawnThread("contender on CPU 1", () => {
        const askedPs = nowPs();
        const release = acquire(lock);
        const gotPs = nowPs();
        const irqlInside = KeGetCurrentIrql();
        release();
        seen.push({ askedPs, gotPs, irqlInside, irqlAfter: KeGetCurrentIrql() });
        KeSetEvent(done, 0, false);
      }, 1);
      KeStallExecutionProcessor(holdUs);
      const releasingPs = nowPs();
      KeReleaseSpinLock(lock, old);
      const status = await waitMs(done, 10);
      return { status, heldFromPs, releasingPs, seen, spinPs: lock.spinPs };
    });
  }

  for (const [name, acquire] of [
    ["KeAcquireSpinLock", (lock: KSPIN_LOCK) => {
      const old = KeAcquireSpinLock(lock);
      return () => KeReleaseSpinLock(lock, old);
    }],
    ["KeAcquireInStackQueuedSpinLock", (lock: KSPIN_LOCK) => {
      const handle = new KLOCK_QUEUE_HANDLE();
      KeAcquireInStackQueuedSpinLock(lock, handle);
      return () => KeReleaseInStackQueuedSpinLock(handle);
    }],
  ] as const) {
    it(`${name} on CPU 1 of a lock CPU 0 holds acquires it no earlier than the release, and CPU 1's clock is charged the spin`, async () => {
      const holdUs = 50;
      const r = await contend(acquire, holdUs);
      expect(r.status).toBe(STATUS_WAIT_0);
      expect(r.seen).toHaveLength(1);
      const c = r.seen[0];
      // Precondition: CPU 1 asked while CPU 0 held the lock (on CPU 1's clock).
      expect(c.askedPs).toBeGreaterThanOrEqual(r.heldFromPs);
      expect(c.askedPs).toBeLessThan(r.releasingPs);
      expect(c.gotPs).toBeGreaterThanOrEqual(r.releasingPs);
      // The processor's time advanced by the wait, plus the cost of the calls (well under 1 us).
      const waitedPs = r.releasingPs - c.askedPs;
      expect(c.gotPs - c.askedPs).toBeGreaterThanOrEqual(waitedPs);
      expect(c.gotPs - c.askedPs - waitedPs).toBeLessThan(PS_PER_US);
      expect(waitedPs).toBeGreaterThan((holdUs / 2) * PS_PER_US);
      // The lock counts the time spent spinning on it.
      expect(r.spinPs).toBeGreaterThan(waitedPs - PS_PER_US);
      expect(r.spinPs).toBeLessThanOrEqual(c.gotPs - c.askedPs);
      expect(c.irqlInside).toBe(DISPATCH_LEVEL);
      expect(c.irqlAfter).toBe(PASSIVE_LEVEL);
    });
  }

  it("a lock released before CPU 1 asks for it (on CPU 1's clock) costs CPU 1 no spin", async () => {
    const r = await machine.exec(async () => {
      const lock = new KSPIN_LOCK();
      KeInitializeSpinLock(lock);
      const done = notificationEvent();
      const seen: { askedPs: number; gotPs: number }[] = [];
      const old = KeAcquireSpinLock(lock);
      KeStallExecutionProcessor(50);
      KeReleaseSpinLock(lock, old);
      const releasedPs = nowPs();
      spawnThread("late contender on CPU 1", () => {
        const askedPs = nowPs();
        const o = KeAcquireSpinLock(lock);
        seen.push({ askedPs, gotPs: nowPs() });
        KeReleaseSpinLock(lock, o);
        KeSetEvent(done, 0, false);
      }, 1);
      const status = await waitMs(done, 10);
      return { status, releasedPs, seen, spinPs: lock.spinPs };
    });
    expect(r.status).toBe(STATUS_WAIT_0);
    expect(r.seen[0].askedPs).toBeGreaterThanOrEqual(r.releasedPs);
    expect(r.seen[0].gotPs - r.seen[0].askedPs).toBeLessThan(PS_PER_US / 10);
    expect(r.spinPs).toBe(0);
  });

  it("KeTryToAcquireSpinLockAtDpcLevel returns FALSE while another processor holds the lock, and TRUE once it was released", async () => {
    const r = await machine.exec(async () => {
      const lock = new KSPIN_LOCK();
      KeInitializeSpinLock(lock);
      const done = notificationEvent();
      const tries: { atPs: number; got: boolean }[] = [];
      const old = KeAcquireSpinLock(lock);
      const heldFromPs = nowPs();
      let releasingPs = 0;
      spawnThread("trying on CPU 1", () => {
        const o = KeRaiseIrql(DISPATCH_LEVEL);
        const atPs = nowPs();
        tries.push({ atPs, got: KeTryToAcquireSpinLockAtDpcLevel(lock) });
        // Do something else until CPU 0 has let go, then try again.
        KeStallExecutionProcessor(Math.ceil((releasingPs - nowPs()) / PS_PER_US) + 1);
        const again = nowPs();
        const got = KeTryToAcquireSpinLockAtDpcLevel(lock);
        tries.push({ atPs: again, got });
        if (got) KeReleaseSpinLockFromDpcLevel(lock);
        KeLowerIrql(o);
        KeSetEvent(done, 0, false);
      }, 1);
      KeStallExecutionProcessor(50);
      releasingPs = nowPs();
      KeReleaseSpinLock(lock, old);
      const status = await waitMs(done, 10);
      return { status, heldFromPs, releasingPs, tries, spinPs: lock.spinPs };
    });
    expect(r.status).toBe(STATUS_WAIT_0);
    expect(r.tries).toHaveLength(2);
    expect(r.tries[0].atPs).toBeGreaterThanOrEqual(r.heldFromPs);
    expect(r.tries[0].atPs).toBeLessThan(r.releasingPs);
    expect(r.tries[0].got).toBe(false);
    expect(r.tries[1].atPs).toBeGreaterThan(r.releasingPs);
    expect(r.tries[1].got).toBe(true);
    // Trying does not spin.
    expect(r.spinPs).toBe(0);
  });
});

describe("a spin lock that is never released", () => {
  /**
   * A DPC on CPU 0 takes `lock` and returns without releasing it (a driver bug); then `spin`
   * runs on CPU 1 and asks for the lock.
   */
  async function strand(machine: Machine, spin: (lock: KSPIN_LOCK) => unknown) {
    return bugCheckOf(machine.exec(async () => {
      const lock = new KSPIN_LOCK();
      KeInitializeSpinLock(lock);
      const dpc = new KDPC();
      KeInitializeDpc(dpc, function ForgetsToRelease() {
        KeAcquireSpinLockAtDpcLevel(lock);
      }, null);
      KeInsertQueueDpc(dpc, null, null);
      spawnThread("spinner on CPU 1", () => spin(lock), 1);
      await waitMs(notificationEvent(), 10_000);
    }));
  }

  it("a thread on another processor spins at DISPATCH_LEVEL until the cumulative DPC watchdog: 0x133 with P1 1", async () => {
    const cumulativeUs = 250_000;
    const machine = await bootWithKernel({ dpcWatchdogCumulativeUs: cumulativeUs });
    const bc = await strand(machine, (lock) => asDriver("spinner", "SpinningThread", () => KeAcquireSpinLock(lock)));
    expectBugCheck(bc, DPC_WATCHDOG_VIOLATION, 1, ticks(cumulativeUs));
    expect(bc.context.cpu).toBe(1);
    expect(bc.context.routine).toBe("SpinningThread");
  });

  it("a DPC on another processor spins until its own allotment runs out: 0x133 with P1 0", async () => {
    const allotmentUs = 31_250;
    const machine = await bootWithKernel({ dpcWatchdogUs: allotmentUs, dpcWatchdogCumulativeUs: 250_000 });
    const bc = await strand(machine, (lock) => {
      const dpc = new KDPC();
      KeInitializeDpc(dpc, function SpinningDpc() {
        KeAcquireSpinLockAtDpcLevel(lock);
      }, null);
      KeInsertQueueDpc(dpc, null, null);
    });
    expectBugCheck(bc, DPC_WATCHDOG_VIOLATION, 0, undefined, ticks(allotmentUs));
    expect(params(bc)[1]).toBeGreaterThanOrEqual(ticks(allotmentUs));
    expect(bc.context.cpu).toBe(1);
    expect(bc.context.routine).toBe("SpinningDpc");
  });
});

describe("a DPC preempted by a device interrupt", () => {
  it("the edu MSI arriving while a DPC runs is taken at the DPC's next preemption point: the ISR runs at its DIRQL on that processor, then the DPC resumes at DISPATCH_LEVEL and finishes", async () => {
    const machine = await boot("default", { trace: true });
    const k = kernelOf(machine);
    const ext = eduExtension(machine);
    const info = ext.InterruptTable!.MessageInfo[0];
    const interrupt = ext.Interrupt as KINTERRUPT;
    const cpu = info.InterruptObject.Processors[0];
    const isr = interrupt.MessageServiceRoutine!;
    const log: { what: string; irql: number; cpu: number; atPs: number }[] = [];
    const note = (what: string) => log.push({ what, irql: KeGetCurrentIrql(), cpu: KeGetCurrentProcessorNumber(), atPs: nowPs() });
    const probe: PKMESSAGE_SERVICE_ROUTINE = function EduInterruptService(i, ctx, message) {
      note("ISR");
      return isr(i, ctx, message);
    };
    interrupt.MessageServiceRoutine = probe;
    const before = { isrs: k.recorder.stats.isrs, dpcs: k.recorder.stats.dpcs, events: k.recorder.events.length };
    try {
      await machine.exec(() => {
        const dpc = new KDPC();
        KeInitializeDpc(dpc, function InterruptedDpc() {
          note("DPC begins");
          WRITE_REGISTER_ULONG(ext.Registers + HW.EDU_REG_INTERRUPT_RAISE, TEST_INTERRUPT_BIT);
          note("interrupt raised");
          KeStallExecutionProcessor(20);
          note("DPC resumes");
          KeStallExecutionProcessor(5);
          note("DPC ends");
        }, null);
        KeInsertQueueDpc(dpc, null, null);
      }, { cpu });
    } finally {
      interrupt.MessageServiceRoutine = isr;
    }
    expect(info.Irql).toBeGreaterThan(DISPATCH_LEVEL);
    expect(log.map((e) => e.what)).toEqual(["DPC begins", "interrupt raised", "ISR", "DPC resumes", "DPC ends"]);
    const at = (what: string) => log.find((e) => e.what === what)!;
    expect(at("ISR")).toMatchObject({ irql: info.Irql, cpu });
    for (const w of ["DPC begins", "interrupt raised", "DPC resumes", "DPC ends"]) expect(at(w)).toMatchObject({ irql: DISPATCH_LEVEL, cpu });
    // The ISR ran inside the stall, after the write that raised the interrupt.
    expect(at("ISR").atPs).toBeGreaterThan(at("interrupt raised").atPs);
    expect(at("ISR").atPs).toBeLessThanOrEqual(at("DPC resumes").atPs);
    // Counted: one ISR; our DPC and the edu driver's DPC its ISR requested.
    expect(k.recorder.stats.isrs - before.isrs).toBe(1);
    expect(k.recorder.stats.dpcs - before.dpcs).toBe(2);
    // The trace shows the ISR's slice inside the DPC's slice, on the same processor.
    const events = k.recorder.events.slice(before.events).filter((e) => e.ph === "X" && e.pid === TRACK_CPU && e.tid === cpu);
    const isrSlice = events.find((e) => e.cat === "isr");
    const dpcSlice = events.find((e) => e.cat === "dpc" && e.name.includes("InterruptedDpc"));
    expect(isrSlice).toBeDefined();
    expect(dpcSlice).toBeDefined();
    expect(isrSlice!.args).toMatchObject({ irql: info.Irql, vector: info.Vector });
    expect(isrSlice!.ts).toBeGreaterThan(dpcSlice!.ts);
    expect(isrSlice!.ts + isrSlice!.dur!).toBeLessThanOrEqual(dpcSlice!.ts + dpcSlice!.dur!);
    // The DPC's duration includes the ISR that interrupted it.
    expect(dpcSlice!.dur!).toBeGreaterThan(25 * PS_PER_US);
  });
});

describe("the DPC watchdog", () => {
  it("a single DPC past its allotment is 0x133 with P1 0, P2 the time it ran and P3 the allotment, in clock ticks", async () => {
    const allotmentUs = 31_250;
    const machine = await bootWithKernel({ dpcWatchdogUs: allotmentUs });
    const bc = await bugCheckOf(machine.exec(() => {
      const dpc = new KDPC();
      KeInitializeDpc(dpc, function LongDpc() {
        KeStallExecutionProcessor(40_000);
      }, null);
      KeInsertQueueDpc(dpc, null, null);
    }));
    expectBugCheck(bc, DPC_WATCHDOG_VIOLATION, 0, ticks(40_000), ticks(allotmentUs));
    expect(params(bc)[2]).toBe(2);
    expect(bc.context.routine).toBe("LongDpc");
    expect(bc.context.irql).toBe(DISPATCH_LEVEL);
  });

  it("an ISR past its allotment is 0x133 with P1 0", async () => {
    const machine = await bootWithKernel({ dpcWatchdogUs: 31_250 });
    const ext = eduExtension(machine);
    const interrupt = ext.Interrupt as KINTERRUPT;
    const cpu = interrupt.Processors[0];
    interrupt.MessageServiceRoutine = function SlowIsr() {
      KeStallExecutionProcessor(40_000);
      return true;
    };
    const bc = await bugCheckOf(machine.exec(async () => {
      WRITE_REGISTER_ULONG(ext.Registers + HW.EDU_REG_INTERRUPT_RAISE, TEST_INTERRUPT_BIT);
      await waitMs(notificationEvent(), 10);
    }, { cpu }));
    expectBugCheck(bc, DPC_WATCHDOG_VIOLATION, 0, ticks(40_000), 2);
    expect(bc.context.routine).toBe("SlowIsr");
    expect(bc.context.irql).toBe(interrupt.Irql);
  });

  it("DPCs run back to back past the cumulative allotment, each within its own, are 0x133 with P1 1 and P2 the watchdog period in clock ticks", async () => {
    const cumulativeUs = 250_000;
    const machine = await bootWithKernel({ dpcWatchdogUs: 100_000, dpcWatchdogCumulativeUs: cumulativeUs });
    const ran: string[] = [];
    const bc = await bugCheckOf(machine.exec(() => {
      const old = KeRaiseIrql(DISPATCH_LEVEL);
      for (const name of ["first", "second", "third", "fourth"]) {
        const dpc = new KDPC();
        // 80 ms each: under the single allotment (100 ms), 320 ms together.
        KeInitializeDpc(dpc, { [name]: function () { KeStallExecutionProcessor(80_000); ran.push(name); } }[name], null);
        KeInsertQueueDpc(dpc, null, null);
      }
      KeLowerIrql(old);
    }));
    expectBugCheck(bc, DPC_WATCHDOG_VIOLATION, 1, ticks(cumulativeUs));
    expect(ran).toEqual(["first", "second", "third"]);
    expect(bc.context.routine).toBe("fourth");
  });

  it("staying at DISPATCH_LEVEL past the cumulative allotment outside any DPC is 0x133 with P1 1, at the first check past the allotment", async () => {
    const cumulativeUs = 250_000;
    const machine = await bootWithKernel({ dpcWatchdogCumulativeUs: cumulativeUs });
    let raisedAtPs = 0;
    const bc = await bugCheckOf(machine.exec(() => {
      KeRaiseIrql(DISPATCH_LEVEL);
      raisedAtPs = nowPs();
      for (let i = 0; i < 40; i++) KeStallExecutionProcessor(10_000);
    }));
    expectBugCheck(bc, DPC_WATCHDOG_VIOLATION, 1, ticks(cumulativeUs));
    expect(bc.context.irql).toBe(DISPATCH_LEVEL);
    const elapsedPs = bc.context.timePs - raisedAtPs;
    expect(elapsedPs).toBeGreaterThan(cumulativeUs * PS_PER_US);
    expect(elapsedPs).toBeLessThanOrEqual((cumulativeUs + 10_000 + 1) * PS_PER_US);
  });

  it("the cumulative count starts again when the processor drops below DISPATCH_LEVEL", async () => {
    const machine = await bootWithKernel({ dpcWatchdogCumulativeUs: 250_000 });
    const r = await machine.exec(() => {
      const stretches: number[] = [];
      for (let i = 0; i < 3; i++) {
        const old = KeRaiseIrql(DISPATCH_LEVEL);
        const from = nowPs();
        for (let j = 0; j < 20; j++) KeStallExecutionProcessor(10_000);
        stretches.push(nowPs() - from);
        KeLowerIrql(old);
      }
      return { stretches, irql: KeGetCurrentIrql() };
    });
    // 600 ms at DISPATCH_LEVEL in all, in stretches of 200 ms: no bug check.
    expect(r.stretches).toHaveLength(3);
    for (const s of r.stretches) expect(s).toBeGreaterThanOrEqual(200_000 * PS_PER_US);
    expect(r.irql).toBe(PASSIVE_LEVEL);
  });
});
