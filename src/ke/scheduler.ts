/**
 * Threads and the dispatcher loop. Driver and workload code runs to completion on the
 * host; threads are async functions that give up their processor only in a kernel wait.
 * The loop always runs next the work that can start earliest in simulated time (an
 * interrupt, a DPC, a ready thread, a timer), first letting the devices run up to that
 * time, so a run depends only on the machine, the workload and the seed.
 *
 * Approximation: work on two processors that overlaps in simulated time runs one after
 * the other on the host; the later one sees the device state as of its own start (or
 * later), and the trace shows the overlap.
 */
import { TRACK_CPU } from "../trace/recorder.js";
import { IRQL_GT_ZERO_AT_SYSTEM_SERVICE, KERNEL_APC_PENDING_DURING_EXIT } from "./bugcheck.js";
import { PASSIVE_LEVEL, type KIRQL } from "./irql.js";
import { KE, KernelHang, RunLimitReached, type Attribution, type Kernel, type KPRCB } from "./kernel.js";
import type { NTSTATUS } from "./ntstatus.js";
import { STATUS_SUCCESS } from "./ntstatus.js";
import { dispatchInterrupts } from "./interrupt.js";
import { drainDpcs } from "./dpc.js";
import { currentProcessOf } from "./attach.js";
import { KWAIT_BLOCK } from "./wait-block.js";
import type { ScheduleExplorer } from "../verifier/schedule.js";

/** A process: its name and the physical address of its page-table root. */
export class KPROCESS {
  constructor(
    readonly ImageFileName: string,
    /** CR3: physical address of the PML4. */
    public DirectoryTableBase: number,
    /** Process id (multiples of 4, per machine). */
    readonly UniqueProcessId: number,
  ) {}
}

/** Thread states. */
export type ThreadState = "initialized" | "ready" | "running" | "waiting" | "terminated";

/** A thread: an async body that runs on one processor at a time. */
export class KTHREAD {
  State: ThreadState = "initialized";
  /** When the thread became ready, ps. */
  readyAtPs = 0;
  /** Status the current wait ends with. */
  WaitStatus: NTSTATUS = STATUS_SUCCESS;
  /** IRQL the thread had when it last gave up its processor (restored when it resumes). */
  WaitIrql: KIRQL = PASSIVE_LEVEL;
  /** What the thread waits on, for diagnostics. */
  waitingOn = "";
  /** Driver attribution stack of this thread. */
  readonly attribution: Attribution[] = [];
  /** Cleanup for the current wait (removes wait blocks and its timer). */
  cancelWait?: () => void;
  /**
   * A kernel APC (an I/O completion) was queued to the thread while it ran on its way into
   * a user-mode wait (ApcState.KernelApcPending): the wait it enters returns
   * STATUS_KERNEL_APC at once instead of blocking, so the APC is delivered.
   */
  KernelApcPending = false;
  /**
   * Processors the thread may run on, one bit per processor (SetThreadAffinityMask);
   * all ones by default. The scheduler picks a ready thread for a processor only if its
   * bit is set (and `affinity`, when not -1, names that processor).
   */
  AffinityMask = -1;
  /** Times the thread was switched to a processor. */
  ContextSwitches = 0;
  /** Processor time the thread used, ps: its slices, less the ISRs and DPCs that interrupted them. */
  runPs = 0;
  /** The part of runPs spent in user-mode work that programs charge themselves, ps. */
  userPs = 0;
  /** When the thread was created, ps. */
  createdAtPs = 0;
  /** When the thread ended, ps (NaN while it runs). */
  exitedAtPs = NaN;
  /** When the thread last gave up its processor, ps. */
  stoppedAtPs = 0;
  /**
   * KernelApcDisable: 0, or minus the number of critical regions the thread is in (each
   * KeEnterCriticalRegion and each kernel mutex it holds counts down by one). Normal kernel
   * APCs are not delivered while it is non-zero.
   */
  KernelApcDisable = 0;
  /**
   * SpecialApcDisable: 0, or minus the number of guarded regions the thread is in
   * (KeEnterGuardedRegion, each guarded mutex it holds). No kernel APC at all (special ones
   * included) is delivered while it is non-zero.
   */
  SpecialApcDisable = 0;
  /** Current priority, 0 (LOW_PRIORITY) to 31 (HIGH_PRIORITY); system threads start at 8. */
  Priority = 8;
  /**
   * WaitNext: the thread called a set or release routine with Wait = TRUE and stays at
   * DISPATCH_LEVEL until its next KeWaitXxx, which returns it to WaitNextIrql.
   */
  WaitNext = false;
  /** The IRQL the next KeWaitXxx returns to when WaitNext is set. */
  WaitNextIrql: KIRQL = PASSIVE_LEVEL;
  /**
   * The thread's built-in wait blocks (THREAD_WAIT_OBJECTS of them), used when a wait
   * names no more objects than that and its caller passes no WaitBlockArray.
   */
  readonly WaitBlock: KWAIT_BLOCK[] = [new KWAIT_BLOCK(), new KWAIT_BLOCK(), new KWAIT_BLOCK()];
  /** Kernel-space address of the thread object, for bug check parameters (given on first use: threadAddress). */
  Address = 0;
  /** Whether the thread waits for an executive lock exclusively (read by the lock that grants it). */
  lockWaitExclusive = false;
  result: unknown;
  error: unknown;
  private wake?: (status: NTSTATUS) => void;
  private yielded?: () => void;

  constructor(
    readonly name: string,
    readonly process: KPROCESS,
    private readonly body: () => unknown,
    /** Thread id (multiples of 4, per machine). */
    readonly ThreadId: number,
    /** Processor the thread must run on, or -1 for any. */
    readonly affinity = -1,
  ) {}

  /** Runs the thread until it waits or ends (scheduler only). */
  resume(): Promise<void> {
    return new Promise<void>((yielded) => {
      this.yielded = yielded;
      this.State = "running";
      if (this.wake) {
        const wake = this.wake;
        this.wake = undefined;
        wake(this.WaitStatus);
        return;
      }
      let r: unknown;
      try {
        r = this.body();
      } catch (e) {
        this.finish(undefined, e);
        return;
      }
      Promise.resolve(r).then((v) => this.finish(v, undefined), (e) => this.finish(undefined, e));
    });
  }

  private finish(value: unknown, error: unknown): void {
    this.result = value;
    this.error = error;
    this.State = "terminated";
    this.yielded?.();
  }

  /** Gives up the processor until the scheduler resumes the thread; resolves to WaitStatus. */
  block(what: string): Promise<NTSTATUS> {
    this.State = "waiting";
    this.waitingOn = what;
    const p = new Promise<NTSTATUS>((resolve) => (this.wake = resolve));
    const y = this.yielded!;
    this.yielded = undefined;
    y();
    return p;
  }
}

/** A kernel timer entry: fires `fire` at `duePs`. */
export interface TimerEntry {
  duePs: number;
  seq: number;
  fire: () => void;
  cancelled: boolean;
  /** What armed it, for reports: a KTIMER, or the KTHREAD whose wait times out. */
  owner: unknown;
}

/**
 * Simulated time, ps, that only timers may run with nothing else happening (no thread made
 * ready, no device event, no interrupt) before the machine counts as hung: five minutes,
 * longer than the timeouts and retry intervals drivers count in timer ticks (Storport's
 * request timeouts and resets, the disk class driver's 10 s retries), and cheap to
 * simulate when nothing but ticks happens.
 */
export const HANG_WINDOW_PS = 300e12;
/** A simulated time for messages, in the largest unit that keeps it at 1 or more (ns, us, ms, s). */
export function formatPs(ps: number): string {
  for (const [unit, per] of [["s", 1e12], ["ms", 1e9], ["us", 1e6]] as const) if (ps >= per) return `${+(ps / per).toPrecision(6)} ${unit}`;
  return `${+(ps / 1e3).toPrecision(6)} ns`;
}

/** Scheduler loop turns between two looks at the host clock (run time limit). */
const HOST_CLOCK_EVERY = 4096;

/** Host time between two progress reports (Scheduler.onProgress), ms. */
export const PROGRESS_EVERY_MS = 500;

/** sizeof(KTHREAD) on x64 (Windows 10), bytes: the span of a thread's kernel-space address. */
const KTHREAD_SIZE = 0x5F0;

const WORK_INTERRUPT = 1;
const WORK_DPC = 2;
const WORK_THREAD = 3;

/** The dispatcher: ready threads, timers, and the loop. */
export class Scheduler {
  readonly ready: KTHREAD[] = [];
  /** Threads that have not ended, in creation order (a thread leaves when it ends, so the list does not grow with a run). */
  readonly threads: KTHREAD[] = [];
  private readonly timers: TimerEntry[] = [];
  private timerSeq = 0;
  /** Simulated time the machine may not run past, ps (a run limit). */
  simDeadlinePs = Infinity;
  /** Host time (performance.now(), ms) a run must stop by (a run limit). */
  hostDeadlineMs = Infinity;
  /**
   * Called every PROGRESS_EVERY_MS of host time while the machine runs (a progress display;
   * null for none). It must not touch the machine.
   */
  onProgress: (() => void) | null = null;
  private nextProgressMs = 0;
  /** Threads made ready so far (what counts as progress for hang detection). */
  private progress = 0;
  /** When only timers were left with no progress since, ps (-1: something else can run). */
  private idleFromPs = -1;
  private idleProgress = -1;
  /** What armed the timers that fired since idleFromPs (a KTIMER re-armed stays one owner). */
  private readonly idleFired = new Set<unknown>();
  private turns = 0;
  /** Each processor's next work this turn: when it starts, its kind, its thread (for a schedule's choice). */
  private readonly pickTime: number[] = [];
  private readonly pickKind: number[] = [];
  private readonly pickThread: (KTHREAD | undefined)[] = [];

  constructor(private readonly k: Kernel, readonly systemProcess: KPROCESS) {}

  /** Creates a thread (system process unless given) and makes it ready now. */
  createThread(name: string, body: () => unknown, options: { process?: KPROCESS; affinity?: number; readyAtPs?: number } = {}): KTHREAD {
    const t = new KTHREAD(name, options.process ?? this.systemProcess, body, this.k.newId(), options.affinity ?? -1);
    t.createdAtPs = options.readyAtPs ?? this.k.cpu.time;
    this.threads.push(t);
    this.makeReady(t, options.readyAtPs ?? this.k.cpu.time);
    return t;
  }

  /**
   * Puts a thread on the ready queue as of `atPs`, or as of when it last gave up its
   * processor if that is later: a wait satisfied by work another processor did at an
   * earlier simulated time cannot end before the thread began waiting.
   */
  makeReady(t: KTHREAD, atPs: number): void {
    this.progress++;
    t.State = "ready";
    t.readyAtPs = Math.max(atPs, t.stoppedAtPs);
    t.waitingOn = "";
    this.ready.push(t);
  }

  /** Arms a timer at `duePs` for `owner` (a KTIMER, or a waiting KTHREAD); returns it for cancelling. */
  addTimer(duePs: number, fire: () => void, owner: unknown): TimerEntry {
    const e: TimerEntry = { duePs, seq: this.timerSeq++, fire, cancelled: false, owner };
    let i = this.timers.length;
    while (i > 0 && (this.timers[i - 1].duePs > duePs)) i--;
    this.timers.splice(i, 0, e);
    return e;
  }

  /** Disarms a timer; returns whether it was armed. */
  cancelTimer(e: TimerEntry): boolean {
    const i = this.timers.indexOf(e);
    if (i < 0) return false;
    this.timers.splice(i, 1);
    e.cancelled = true;
    return true;
  }

  /** The armed timers, soonest first. */
  armedTimers(): readonly TimerEntry[] {
    return this.timers;
  }

  /** Dispatches the interrupts deliverable on `cpu` now (preemption points call this). */
  dispatchInterrupts(cpu: KPRCB): void {
    dispatchInterrupts(this.k, cpu);
  }

  /**
   * The thread `cpu` runs next: the first ready thread it may run, unless a thread of
   * higher priority it may run is ready by the time that one would start (the highest
   * such priority wins; among equals, the first to become ready).
   */
  private firstReady(cpu: KPRCB): KTHREAD | undefined {
    const bit = 1 << cpu.Number;
    let best: KTHREAD | undefined;
    let startPs = 0;
    for (const t of this.ready) {
      if ((t.affinity >= 0 && t.affinity !== cpu.Number) || (t.AffinityMask & bit) === 0) continue;
      if (!best) {
        best = t;
        startPs = Math.max(cpu.time, t.readyAtPs);
      } else if (t.Priority > best.Priority && t.readyAtPs <= startPs) {
        best = t;
      }
    }
    return best;
  }

  /**
   * Runs the machine until `done()` holds, or until simulated time `limitPs`. Throws the
   * BugCheck if the machine stops; KernelHang if nothing can ever happen again, or if for
   * HANG_WINDOW_PS only timers fired with nothing else happening; RunLimitReached past the
   * simulated-time or host-time limit.
   */
  async run(done: () => boolean, limitPs = Infinity): Promise<void> {
    const k = this.k;
    const core = k.core;
    k.activate();
    while (!done()) {
      if (k.crashed) throw k.crashed;
      if (k.machine.stopped) return;
      let bestCpu: KPRCB | undefined;
      let bestTime = Infinity;
      let bestKind = 0;
      let bestThread: KTHREAD | undefined;
      for (const cpu of k.processors) {
        let t = Infinity;
        let kind = 0;
        let thread: KTHREAD | undefined;
        const v = core.highestPending(cpu.Number);
        if (v !== 0 && v >> 4 > cpu.irql) {
          t = Math.max(cpu.time, core.arrivalPs(cpu.Number, v));
          kind = WORK_INTERRUPT;
        } else {
          // A DPC comes before any thread, unless it was queued for later than the thread can start.
          let queued = Infinity;
          for (const d of cpu.DpcQueue) queued = Math.min(queued, d.queuedAtPs);
          thread = this.firstReady(cpu);
          const threadStart = thread ? Math.max(cpu.time, thread.readyAtPs) : Infinity;
          if (queued !== Infinity && Math.max(cpu.time, queued) <= threadStart) {
            t = Math.max(cpu.time, queued);
            kind = WORK_DPC;
            thread = undefined;
          } else if (thread) {
            t = threadStart;
            kind = WORK_THREAD;
          }
        }
        this.pickTime[cpu.Number] = t;
        this.pickKind[cpu.Number] = kind;
        this.pickThread[cpu.Number] = thread;
        if (t < bestTime) {
          bestTime = t;
          bestCpu = cpu;
          bestKind = kind;
          bestThread = thread;
        }
      }
      const explorer = k.explorer;
      if (explorer !== null && explorer.overlapPs > 0 && bestCpu) {
        // Schedule exploration: work that starts close enough to overlap runs in the order the seed picks.
        const chosen = this.overlapping(bestTime + explorer.overlapPs, explorer);
        if (chosen >= 0) {
          bestCpu = k.processors[chosen];
          bestTime = this.pickTime[chosen];
          bestKind = this.pickKind[chosen];
          bestThread = this.pickThread[chosen];
        }
      }
      const timerDue = this.timers.length > 0 ? this.timers[0].duePs : Infinity;
      const target = Math.min(bestTime, timerDue, limitPs);
      const next = Math.min(bestTime, timerDue, core.nextEventPs);
      if (next !== Infinity && next > this.simDeadlinePs && limitPs > this.simDeadlinePs) {
        throw new RunLimitReached("simulated time", `the run reached its simulated-time limit (${formatPs(this.simDeadlinePs)})`);
      }
      if (++this.turns % HOST_CLOCK_EVERY === 0 && (this.hostDeadlineMs !== Infinity || this.onProgress !== null)) this.lookAtHostClock();
      // With no thread ready and no device event coming, only timers (and the DPCs and
      // interrupts they cause) can make anything happen: a hang once they have gone on for
      // a window in which no thread was made ready and every armed timer has fired (so a
      // long timeout still to come is waited for). A run to a given time runs there.
      if (this.ready.length > 0 || core.nextEventPs !== Infinity || limitPs !== Infinity) {
        this.idleFromPs = -1;
      } else if (timerDue !== Infinity) {
        if (this.idleFromPs < 0 || this.idleProgress !== this.progress) {
          this.idleFromPs = timerDue;
          this.idleProgress = this.progress;
          this.idleFired.clear();
        } else if (timerDue - this.idleFromPs > HANG_WINDOW_PS && this.timers.every((e) => this.idleFired.has(e.owner))) {
          throw this.hang("only timers fired");
        }
      }

      if (target === Infinity) {
        // Nothing can start until a device interrupts.
        if (core.nextEventPs === Infinity) throw this.hang("no device has anything scheduled");
        const r = k.x.run(Infinity);
        if (r !== 0) k.afterCoreRun(r);
        continue;
      }
      if (core.nextEventPs <= target) {
        const r = k.x.run(target);
        if (r !== 0) {
          k.afterCoreRun(r);
          continue;
        }
      } else if (core.nowPs < target) {
        k.x.run(target);
      }
      if (timerDue <= bestTime && timerDue <= limitPs) {
        this.fireTimers(timerDue);
        continue;
      }
      if (!bestCpu || bestTime > limitPs) return;
      await this.execute(bestCpu, bestKind, bestTime, bestThread);
    }
  }

  /** Every HOST_CLOCK_EVERY turns: the host-time limit, and the progress display. */
  private lookAtHostClock(): void {
    const now = performance.now();
    if (now > this.hostDeadlineMs) throw new RunLimitReached("host time", "the run reached its host-time limit (--timeout)");
    if (this.onProgress !== null && now >= this.nextProgressMs) {
      this.nextProgressMs = now + PROGRESS_EVERY_MS;
      this.onProgress();
    }
  }

  /** The processor picked among those whose next work starts by `byPs` (-1 when only one does). */
  private overlapping(byPs: number, explorer: ScheduleExplorer): number {
    let n = 0;
    for (const cpu of this.k.processors) if (this.pickTime[cpu.Number] <= byPs) n++;
    if (n < 2) return -1;
    let i = explorer.choose(n);
    for (const cpu of this.k.processors) if (this.pickTime[cpu.Number] <= byPs && i-- === 0) return cpu.Number;
    return -1;
  }

  /**
   * Runs, inside what `current` is doing, the timers due and the interrupts and DPCs the
   * other processors have to start by `untilPs`, earliest first (schedule exploration:
   * that work would overlap it on real processors).
   */
  runOthersUntil(current: KPRCB, untilPs: number): void {
    const k = this.k;
    const core = k.core;
    for (;;) {
      if (this.timers.length > 0 && this.timers[0].duePs <= untilPs) {
        this.fireTimers(untilPs);
        continue;
      }
      let next: KPRCB | undefined;
      let nextTime = Infinity;
      let nextKind = 0;
      for (const cpu of k.processors) {
        if (cpu === current || cpu.CurrentThread !== null) continue;
        const v = core.highestPending(cpu.Number);
        let t = Infinity;
        let kind = 0;
        if (v !== 0 && v >> 4 > cpu.irql) {
          t = Math.max(cpu.time, core.arrivalPs(cpu.Number, v));
          kind = WORK_INTERRUPT;
        } else {
          for (const d of cpu.DpcQueue) t = Math.min(t, d.queuedAtPs);
          t = Math.max(cpu.time, t);
          kind = WORK_DPC;
        }
        if (t < nextTime) {
          nextTime = t;
          next = cpu;
          nextKind = kind;
        }
      }
      if (!next || nextTime > untilPs) return;
      const previous = k.cpu;
      next.time = nextTime;
      try {
        if (nextKind === WORK_INTERRUPT) dispatchInterrupts(k, next);
        else drainDpcs(k, next);
      } finally {
        k.cpu = previous;
      }
    }
  }

  /** Fires the timers due by `nowPs` on processor 0, which owns the clock, at their due time. */
  private fireTimers(nowPs: number): void {
    const k = this.k;
    const clock = k.processors[0];
    while (this.timers.length > 0 && this.timers[0].duePs <= nowPs) {
      const e = this.timers.shift()!;
      if (this.idleFromPs >= 0) this.idleFired.add(e.owner);
      if (clock.time < e.duePs) clock.time = e.duePs;
      k.on(clock, () => e.fire());
    }
  }

  private async execute(cpu: KPRCB, kind: number, startPs: number, thread?: KTHREAD): Promise<void> {
    const k = this.k;
    k.activate();
    k.cpu = cpu;
    cpu.time = startPs;
    if (kind === WORK_INTERRUPT) {
      dispatchInterrupts(k, cpu);
      return;
    }
    if (kind === WORK_DPC) {
      drainDpcs(k, cpu);
      return;
    }
    const t = thread!;
    this.ready.splice(this.ready.indexOf(t), 1);
    cpu.CurrentThread = t;
    t.ContextSwitches++;
    const busy = k.recorder.stats.processor(cpu.Number);
    const sliceStart = cpu.time;
    const interruptsBefore = busy.isrPs + busy.dpcPs;
    k.chargePs(k.cost.ContextSwitch);
    const space = currentProcessOf(t).DirectoryTableBase;
    if (cpu.cr3 !== space) {
      cpu.cr3 = space;
      k.x.setCr3(cpu.Number, cpu.cr3);
    }
    const begin = cpu.time;
    cpu.irql = t.WaitIrql;
    await t.resume();
    k.activate();
    k.cpu = cpu;
    cpu.CurrentThread = null;
    const ran = cpu.time - sliceStart - (busy.isrPs + busy.dpcPs - interruptsBefore);
    busy.threadPs += ran;
    t.runPs += ran;
    t.stoppedAtPs = cpu.time;
    if (t.State === "terminated") {
      t.exitedAtPs = cpu.time;
      this.threads.splice(this.threads.indexOf(t), 1);
    }
    // A thread may wait at APC_LEVEL; the level is its own, not the processor's.
    t.WaitIrql = cpu.irql;
    if (t.State !== "terminated") cpu.irql = PASSIVE_LEVEL;
    if (k.recorder.enabled) k.recorder.slice(TRACK_CPU, cpu.Number, t.name, "thread", begin, cpu.time, { thread: t.ThreadId });
    if (t.State === "terminated" && t.error === undefined && cpu.irql !== PASSIVE_LEVEL) {
      const irql = cpu.irql;
      cpu.irql = PASSIVE_LEVEL;
      try {
        k.bugCheck(IRQL_GT_ZERO_AT_SYSTEM_SERVICE, 0, irql, 0, 0);
      } catch (e) {
        t.error = e;
      }
    }
    if (t.State === "terminated" && t.error === undefined && (t.KernelApcDisable !== 0 || t.SpecialApcDisable !== 0)) {
      // A thread must leave every critical and guarded region (and release every kernel mutex) before it ends.
      try {
        k.bugCheck(KERNEL_APC_PENDING_DURING_EXIT, 0, combinedApcDisable(t), cpu.irql, 0);
      } catch (e) {
        t.error = e;
      }
    }
    if (t.State === "terminated" && k.crashed) t.error = k.crashed;
  }

  private hang(why: string): KernelHang {
    this.idleFromPs = -1;
    const waiting = this.threads.filter((t) => t.State === "waiting").map((t) => `"${t.name}" waits on ${t.waitingOn}`);
    return new KernelHang(`Nothing can run any more (${why}): ${waiting.length ? waiting.join("; ") : "no thread is waiting"}.`);
  }
}

/**
 * The thread's CombinedApcDisable as Windows reports it in bug checks: SpecialApcDisable in
 * the high 16 bits, KernelApcDisable in the low 16 (each as a 16-bit two's complement count).
 */
export function combinedApcDisable(t: KTHREAD): number {
  return (((t.SpecialApcDisable & 0xFFFF) << 16) | (t.KernelApcDisable & 0xFFFF)) >>> 0;
}

/** The kernel-space address of `t`'s thread object (bug check parameters), given the first time it is asked for. */
export function threadAddress(t: KTHREAD): number {
  if (t.Address === 0) t.Address = KE().objectAddress(KTHREAD_SIZE);
  return t.Address;
}

/** The thread running on the executing processor (KeGetCurrentThread). */
export function KeGetCurrentThread(): KTHREAD | null {
  return KE().cpu.CurrentThread;
}

