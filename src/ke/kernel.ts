/**
 * The kernel's per-machine state and the notion of "what is executing": the processors
 * (each with its IRQL, DPC queue and local clock), the processor currently running
 * code, what driver routine is running on it, the cost table, and bug checks.
 *
 * Kernel routines are free functions that act on the executing kernel and processor,
 * as NT's current processor is implicit. One machine executes at a time per process.
 */
import type { Machine } from "../machine/machine.js";
import type { Core, CoreExports } from "../machine/core.js";
import * as L from "../machine/generated/layout.js";
import { Recorder, TRACK_CPU, TRACK_IO, TRACK_PCI } from "../trace/recorder.js";
import { APIC_TRACK } from "../trace/core-events.js";
import { BugCheck, DPC_WATCHDOG_VIOLATION, KMODE_EXCEPTION_NOT_HANDLED } from "./bugcheck.js";

/** The clock interrupt interval the DPC watchdog counts in, ps (15.625 ms, Windows' default tick). */
export const CLOCK_TICK_PS = 15_625_000_000;

/** A duration in the DPC watchdog's ticks (rounded up). */
function watchdogTicks(ps: number): number {
  return Math.ceil(ps / CLOCK_TICK_PS);
}
import { costTableInPs, type CostTable } from "./costs.js";
import { DISPATCH_LEVEL, PASSIVE_LEVEL, type KIRQL } from "./irql.js";
import { exceptionCodeOf } from "./ntstatus.js";
import type { KDPC } from "./dpc.js";
import type { KINTERRUPT } from "./interrupt.js";
import type { KTHREAD, Scheduler } from "./scheduler.js";
import type { ScheduleExplorer } from "../verifier/schedule.js";
import { drainCoreTrace } from "../trace/core-events.js";

/** Who is running: a driver (by service name) and its routine. */
export interface Attribution {
  driver: string;
  routine: string;
}

/** An interrupt being serviced on a processor (for latency and trace flows). */
export interface ActiveInterrupt {
  vector: number;
  /** Arrival at the local APIC, ps. */
  arrivalPs: number;
  /** Flow id linking the ISR to the DPC it queues. */
  flow: number;
}

/** A processor's control block (KPRCB): IRQL, DPC queue, local clock, interrupt table. */
export class KPRCB {
  /** Processor number. */
  readonly Number: number;
  private irqlValue: KIRQL = PASSIVE_LEVEL;
  /** Queued DPCs, in the order they will run. */
  readonly DpcQueue: KDPC[] = [];
  /** The thread running on this processor, if any. */
  CurrentThread: KTHREAD | null = null;
  /** Attribution stack when no thread is running (interrupts and DPCs from idle). */
  readonly idleStack: Attribution[] = [];
  /** Interrupt objects connected per vector. */
  readonly InterruptTable = new Map<number, KINTERRUPT[]>();
  /** The level-triggered vector last found pending again at its EOI, and how many times in a row. */
  stormVector = 0;
  stormCount = 0;
  /** Interrupts being serviced, innermost last. */
  readonly activeInterrupts: ActiveInterrupt[] = [];
  /** True while the processor runs its DPC queue. */
  DpcRoutineActive = false;
  /** CR3 currently loaded, physical address. */
  cr3 = 0;
  /** When the running DPC or ISR began, ps (for the DPC watchdog). */
  watchdogStartPs = 0;
  /** When the running DPC or ISR exceeds its allotment, ps (Infinity when none runs). */
  watchdogDeadlinePs = Infinity;
  private readonly timeIndex: number;

  constructor(private readonly core: Core, index: number) {
    this.Number = index;
    this.timeIndex = core.cpuTimeIndex(index);
  }

  /** The processor's local clock, ps. */
  get time(): number {
    return this.core.f64[this.timeIndex];
  }

  set time(ps: number) {
    this.core.f64[this.timeIndex] = ps;
  }

  /** Current IRQL. */
  get irql(): KIRQL {
    return this.irqlValue;
  }

  /** Sets the IRQL, where the local APIC reads it too. No rule checks: see KeRaiseIrql. */
  set irql(level: KIRQL) {
    const old = this.irqlValue;
    this.irqlValue = level;
    this.core.setIrql(this.Number, level);
    if (old < DISPATCH_LEVEL && level >= DISPATCH_LEVEL) {
      this.dispatchSincePs = this.time;
      this.onRaisedToDispatch?.();
    }
  }

  /** When the processor's IRQL last rose to DISPATCH_LEVEL or above, ps. */
  dispatchSincePs = 0;
  /** Called whenever the IRQL rises from below DISPATCH_LEVEL to or above it (the memory manager's trimming hooks here). */
  onRaisedToDispatch: (() => void) | null = null;

  /** The attribution stack of whatever runs on this processor now. */
  get stack(): Attribution[] {
    return this.CurrentThread ? this.CurrentThread.attribution : this.idleStack;
  }
}

/** Options for booting the kernel on a machine. */
export interface KernelOptions extends RunLimits {
  /** Record full trace events (slices, flows, bus and DMA events). */
  trace?: boolean;
}

/** Limits on a run (boot, exec, runProgram): past one it stops with RunLimitReached. */
export interface RunLimits {
  /** Simulated time the machine may reach, s (from power-on for boot; from the call for exec and runProgram). */
  maxSimTime?: number;
  /** Host time the run may take, s (from the call). */
  timeout?: number;
}

/**
 * An error that is not a bug check: the workload can never finish (everything waits, or
 * only timers tick). `report` says what was still waiting (filled in by the caller that
 * has the machine: threads and their waits, requests, DPCs, timers).
 */
export class KernelHang extends Error {
  report = "";
  constructor(message: string) {
    super(message);
    this.name = "KernelHang";
  }
}

/** A run limit was reached (simulated or host time); `report` says what was still waiting. */
export class RunLimitReached extends Error {
  report = "";
  constructor(
    /** Which limit: "simulated time" or "host time". */
    readonly limit: "simulated time" | "host time",
    message: string,
  ) {
    super(message);
    this.name = "RunLimitReached";
  }
}

let current: Kernel | undefined;

/** Where a routine function keeps its attribution, made on its first call. */
const ATTRIBUTION = Symbol("wdmsim.attribution");

/** The attribution of `driver`'s routine `fn`: named by the function (`fallback` when it has no name); made once per function. */
export function routineAttribution(driver: string, fn: object, fallback: string): Attribution {
  const f = fn as { [ATTRIBUTION]?: Attribution; name?: string };
  const known = f[ATTRIBUTION];
  if (known !== undefined && known.driver === driver) return known;
  const made = { driver, routine: f.name || fallback };
  if (Object.isExtensible(fn)) f[ATTRIBUTION] = made;
  return made;
}

/** The kernel executing now; throws when kernel routines are called outside a machine. */
export function KE(): Kernel {
  if (!current) throw new Error("No machine is running: kernel routines can only be called from code a machine runs (Machine.exec, a driver, a workload).");
  return current;
}

/** The kernel of one machine. */
export class Kernel {
  readonly machine: Machine;
  readonly core: Core;
  readonly x: CoreExports;
  readonly processors: KPRCB[];
  readonly recorder = new Recorder();
  readonly cost: CostTable;
  /** Driver Verifier's rule checks on. */
  readonly verifier: boolean;
  /** How long one DPC or ISR may run, ps (machine file: kernel.dpcWatchdogUs). */
  readonly watchdogAllotmentPs: number;
  /** How long a processor may stay at DISPATCH_LEVEL or above at a stretch, ps (kernel.dpcWatchdogCumulativeUs). */
  readonly cumulativeWatchdogPs: number;
  /** The clock interrupt interval timers expire on, ps (kernel.clockTickUs; 0: exact). */
  readonly clockTickPs: number;
  /** The processor executing now. */
  cpu: KPRCB;
  /** Set once the machine has bug checked; everything after rethrows it. */
  crashed?: BugCheck;
  scheduler!: Scheduler;
  /** The schedule being explored (src/verifier/schedule.ts), or null for the machine's own. */
  explorer: ScheduleExplorer | null = null;
  /** Services other layers register (I/O manager, PnP manager...), by name. */
  readonly services = new Map<string, unknown>();
  private nextFlow = 1;
  private nextClientId = 4;
  /** Serial numbers of IRPs, for trace slices. */
  nextIrpSerial = 1;
  private nextObjectAddress = 0x810000000000;

  constructor(machine: Machine, options: KernelOptions = {}) {
    this.machine = machine;
    this.core = machine.core;
    this.x = machine.core.x;
    this.processors = Array.from({ length: machine.cpuCount }, (_, i) => new KPRCB(this.core, i));
    this.cpu = this.processors[0];
    this.cost = costTableInPs(machine.description.kernel.costs, machine.description.cpu.kHz);
    this.verifier = machine.description.kernel.verifier;
    this.watchdogAllotmentPs = machine.description.kernel.dpcWatchdogUs * 1e6;
    this.cumulativeWatchdogPs = machine.description.kernel.dpcWatchdogCumulativeUs * 1e6;
    this.clockTickPs = machine.description.kernel.clockTickUs * 1e6;
    this.recorder.enabled = options.trace ?? false;
    this.x.traceEnable(this.recorder.enabled ? 1 : 0);
    this.recorder.nameTrack(TRACK_CPU, undefined, "CPUs");
    for (const p of this.processors) this.recorder.nameTrack(TRACK_CPU, p.Number, `CPU ${p.Number}`);
    this.recorder.nameTrack(TRACK_PCI, undefined, "PCI functions");
    const hex2 = (n: number) => n.toString(16).padStart(2, "0");
    for (const f of machine.functions) {
      this.recorder.nameTrack(TRACK_PCI, f.index, `${hex2(f.bus)}:${hex2(f.device)}.${f.function} ${f.deviceFile}`);
    }
    this.recorder.nameTrack(TRACK_PCI, APIC_TRACK, "local APICs");
    this.recorder.nameTrack(TRACK_IO, undefined, "I/O requests");
  }

  /** Makes this kernel the executing one (for routines called from the host). */
  activate(): void {
    current = this;
  }

  /** Runs `fn` with `cpu` as the executing processor. */
  on<T>(cpu: KPRCB, fn: () => T): T {
    const previous = this.cpu;
    current = this;
    this.cpu = cpu;
    try {
      return fn();
    } finally {
      this.cpu = previous;
    }
  }

  /** A fresh process or thread id (multiples of 4, as Windows hands them out). */
  newId(): number {
    const id = this.nextClientId;
    this.nextClientId += 4;
    return id;
  }

  /** A fresh id for a trace flow arrow. */
  flowId(): number {
    return this.nextFlow++;
  }

  /** A stable kernel-space address for a bookkeeping object of `size` bytes (IRPs, locks...). */
  objectAddress(size: number): number {
    const a = this.nextObjectAddress;
    this.nextObjectAddress += (size + 15) & ~15;
    return a;
  }

  /** The first clock tick at or after `ps`, where timers and wait timeouts expire (`ps` itself when the machine has no tick). */
  nextClockTickPs(ps: number): number {
    const tick = this.clockTickPs;
    return tick > 0 ? Math.ceil(ps / tick) * tick : ps;
  }

  /** Charges `ps` picoseconds (usually an entry of `cost`) to the executing processor, then lets pending work preempt it. */
  chargePs(ps: number): void {
    const cpu = this.cpu;
    cpu.time += ps;
    this.preemptionPoint(cpu);
  }

  /**
   * A point where the model lets hardware catch up with the processor and lets a
   * higher-IRQL interrupt preempt what runs: device events up to the processor's clock
   * are processed, and a deliverable interrupt is dispatched right here.
   */
  preemptionPoint(cpu: KPRCB): void {
    if (this.crashed) throw this.crashed;
    if (this.explorer !== null) this.explorer.point(cpu);
    if (cpu.time > cpu.watchdogDeadlinePs) this.watchdogExpired(cpu);
    if (cpu.irql >= DISPATCH_LEVEL && cpu.time - cpu.dispatchSincePs > this.cumulativeWatchdogPs) this.cumulativeWatchdogExpired();
    if (cpu.time >= this.core.nextEventPs) this.advanceCore(cpu.time);
    const v = this.core.highestPending(cpu.Number);
    if (v !== 0 && v >> 4 > cpu.irql) this.scheduler.dispatchInterrupts(cpu);
  }

  /**
   * Runs a DPC or ISR, `fn(a, b, c, d)` of `driver` with attribution (see invokeRoutine),
   * under the DPC watchdog: past its allotment it is 0x133 DPC_WATCHDOG_VIOLATION (P1 0: a
   * single routine), at the next point the model allows or when it returns. Nested
   * routines get their own allotment.
   */
  watchdogRoutine<A, B, C, D, R>(cpu: KPRCB, driver: string, fn: (a: A, b: B, c: C, d: D) => R, fallback: string, a: A, b: B, c: C, d?: D): R {
    const start = cpu.watchdogStartPs;
    const deadline = cpu.watchdogDeadlinePs;
    cpu.watchdogStartPs = cpu.time;
    cpu.watchdogDeadlinePs = cpu.time + this.watchdogAllotmentPs;
    try {
      const result = this.invokeRoutine(driver, fn, fallback, a, b, c, d);
      if (cpu.time > cpu.watchdogDeadlinePs) this.watchdogExpired(cpu);
      return result;
    } finally {
      cpu.watchdogStartPs = start;
      cpu.watchdogDeadlinePs = deadline;
    }
  }

  /**
   * Spins the executing processor (at DISPATCH_LEVEL or above) until the DPC watchdog stops
   * it: a spin lock held by a processor that will never release it. Whichever allotment runs
   * out first decides: the running DPC's or ISR's own (P1 0) or the cumulative one (P1 1).
   */
  spinUntilWatchdog(cpu: KPRCB): never {
    const cumulativeDeadline = cpu.dispatchSincePs + this.cumulativeWatchdogPs;
    cpu.time = Math.max(cpu.time, Math.min(cpu.watchdogDeadlinePs, cumulativeDeadline)) + 1;
    if (cpu.time > cpu.watchdogDeadlinePs) this.watchdogExpired(cpu);
    this.cumulativeWatchdogExpired();
  }

  private watchdogExpired(cpu: KPRCB): never {
    this.bugCheck(DPC_WATCHDOG_VIOLATION, 0, watchdogTicks(cpu.time - cpu.watchdogStartPs), watchdogTicks(this.watchdogAllotmentPs), 0);
  }

  /**
   * 0x133 with P1 1: the processor stayed at DISPATCH_LEVEL or above longer than the
   * cumulative allotment. P2 is the watchdog period in ticks; P3 (Windows' triage block) is 0.
   */
  private cumulativeWatchdogExpired(): never {
    this.bugCheck(DPC_WATCHDOG_VIOLATION, 1, watchdogTicks(this.cumulativeWatchdogPs), 0, 0);
  }

  /** Runs device events up to `ps`, draining the trace ring as needed. */
  advanceCore(ps: number): void {
    for (;;) {
      const r = this.x.run(ps);
      if (r === 0) return;
      this.afterCoreRun(r);
      if (this.core.nowPs >= ps && this.core.nextEventPs > ps) return;
    }
  }

  /** Handles the non-interrupt reasons a core run returned. */
  afterCoreRun(reason: number): void {
    if (reason & L.RUN_FAULT) {
      const code = this.x.fault();
      const what = code === L.FAULT_EVENT_QUEUE_FULL ? "the event queue is full"
        : code === L.FAULT_RAM_BACKING_FULL ? "the guest has written more RAM than the core's linear memory can back (about 4 GiB, less device backing storage)"
        : "the device heap is full";
      throw new Error(`machine core fault ${code}: ${what}`);
    }
    if (this.recorder.enabled) drainCoreTrace(this.core, this.recorder);
  }

  /** Attribution of what runs now ("nt" when no driver routine is on the stack). */
  attribution(): Attribution {
    const stack = this.cpu.stack;
    return stack.length > 0 ? stack[stack.length - 1] : { driver: "nt", routine: "KiSystemStartup" };
  }

  /**
   * Calls a driver's routine with attribution. A thrown error that is not a bug check
   * becomes 0x1E KMODE_EXCEPTION_NOT_HANDLED; async routines are followed to the end.
   */
  invoke<T>(driver: string, routine: string, fn: () => T): T {
    return this.callAttributed({ driver, routine }, fn);
  }

  /**
   * Calls a driver's routine `fn(a, b, c, d)` with attribution, as `invoke` does, without a
   * closure: the routine is named by its function's name (`fallback` when it has none).
   */
  invokeRoutine<A, B, C, D, R>(driver: string, fn: (a: A, b: B, c: C, d: D) => R, fallback: string, a: A, b: B, c?: C, d?: D): R {
    return this.callAttributed(routineAttribution(driver, fn, fallback), fn, a, b, c, d);
  }

  /** Calls `fn(a, b, c, d)` with `who` on the attribution stack until it (or the promise it returns) finishes. */
  private callAttributed<A, B, C, D, R>(who: Attribution, fn: (a: A, b: B, c: C, d: D) => R, a?: A, b?: B, c?: C, d?: D): R {
    const stack = this.cpu.stack;
    stack.push(who);
    let result: R;
    try {
      result = fn(a as A, b as B, c as C, d as D);
    } catch (e) {
      const bc = this.asBugCheck(e);
      stack.pop();
      throw bc;
    }
    if (result instanceof Promise) {
      return result.then(
        (v) => { stack.pop(); return v; },
        (e) => { const bc = this.asBugCheck(e); stack.pop(); throw bc; },
      ) as R;
    }
    stack.pop();
    return result;
  }

  /** A driver's error as the bug check Windows would raise (0x1E for anything but a bug check); stops the machine. */
  asBugCheck(e: unknown): BugCheck {
    if (e instanceof BugCheck) return e;
    if (this.crashed) return this.crashed;
    return this.stop(KMODE_EXCEPTION_NOT_HANDLED, [exceptionCodeOf(e) >>> 0, 0, 0, 0], e);
  }

  /** Stops the machine with a bug check and throws it. */
  bugCheck(code: number, p1: number | bigint, p2: number | bigint, p3: number | bigint, p4: number | bigint, original?: unknown): never {
    if (this.crashed) throw this.crashed;
    throw this.stop(code, [p1, p2, p3, p4], original);
  }

  /** Records the bug check, marks the machine crashed, and returns the BugCheck. */
  private stop(code: number, parameters: (number | bigint)[], original?: unknown): BugCheck {
    const who = this.attribution();
    const cpu = this.cpu;
    const params = parameters.map((p) => (typeof p === "bigint" ? p : BigInt(Math.trunc(p)))) as [bigint, bigint, bigint, bigint];
    this.recorder.note(cpu.time, `KeBugCheckEx 0x${code.toString(16)}`, who.driver, who.routine, cpu.Number);
    this.recorder.instant(TRACK_CPU, cpu.Number, `BugCheck 0x${code.toString(16)}`, "bugcheck", cpu.time);
    this.crashed = new BugCheck(code, params, {
      driver: who.driver,
      routine: who.routine,
      irql: cpu.irql,
      cpu: cpu.Number,
      timePs: cpu.time,
      lastEvents: this.recorder.lastNotes(),
    }, original);
    return this.crashed;
  }
}

/** KeBugCheckEx: stops the machine with `BugCheckCode` and four parameters. */
export function KeBugCheckEx(BugCheckCode: number, P1: number | bigint, P2: number | bigint, P3: number | bigint, P4: number | bigint): never {
  return KE().bugCheck(BugCheckCode, P1, P2, P3, P4);
}

/** The executing processor's number (KeGetCurrentProcessorNumber). */
export function KeGetCurrentProcessorNumber(): number {
  return KE().cpu.Number;
}

/** Number of processors (KeQueryActiveProcessorCount without the affinity out-parameter). */
export function KeQueryActiveProcessorCount(): number {
  return KE().processors.length;
}
