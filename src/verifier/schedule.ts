/**
 * Schedule exploration: a schedule seed changes, within the rules, the interleaving the
 * machine chooses, the way Driver Verifier's kernel synchronization delay fuzzing inserts
 * random delays at kernel API calls, with a bound on the number of preemptions as in
 * probabilistic concurrency testing (PCT: d change points spread uniformly over the run's
 * K points).
 *
 * - Preemption points are the kernel routine calls a driver routine makes (each charges
 *   the processor and is where the model already lets interrupts in). At a chosen point
 *   the processor is delayed (up to maxDelayUs, as if preempted or interrupted), devices
 *   catch up, and — when it holds no spin lock (below DISPATCH_LEVEL) — the work other
 *   processors have by then runs in the middle: their interrupts and DPCs, and the clock's
 *   timers. Without a schedule that work waits until the running routine finishes.
 * - DPCs and work items are delivered late: each is delayed with probability
 *   `deliveryDelayProbability`, by up to maxDelayUs (as Driver Verifier's concurrency
 *   stress delays them).
 * - Work on two processors that starts within `overlapUs` of each other runs in an order
 *   the seed picks rather than strictly earliest first.
 *
 * The same machine, workload, seed and schedule give the same run, byte for byte.
 */
import type { Attribution, Kernel, KPRCB } from "../ke/kernel.js";
import { DISPATCH_LEVEL } from "../ke/irql.js";
import { FioRandom } from "../workloads/fio/random.js";
import { TRACK_CPU } from "../trace/recorder.js";

/** A schedule: which interleaving a run takes. */
export interface ScheduleOptions {
  /** Schedule seed, 0 to 4294967295: each seed is one interleaving. */
  seed: number;
  /** Preemptions in the run (PCT's bound); 0 counts points only. */
  preemptions?: number;
  /** Preemption points the preemptions are spread over (a plain run's count; see ScheduleExplorer.points). */
  points?: number;
  /** Longest delay of a preempted processor or a late DPC or work item, µs. */
  maxDelayUs?: number;
  /** Chance that a queued DPC or work item is delivered late, 0 to 1. */
  deliveryDelayProbability?: number;
  /** Work on two processors starting within this of each other runs in either order, µs. */
  overlapUs?: number;
  /** Only these drivers' routines are preempted (service names; all drivers when unset). */
  drivers?: string[];
}

/** The defaults `wdmsim explore` uses. */
export const SCHEDULE_DEFAULTS = { preemptions: 3, maxDelayUs: 100, deliveryDelayProbability: 0.1, overlapUs: 10 } as const;

/** Mixed into the schedule seed so its generator is its own. */
const SEED_STREAM = 0x5C4ED;

/** One machine's schedule. */
export class ScheduleExplorer {
  /** Preemption points passed so far (in driver routines, outside nested work). */
  points = 0;
  /** Preemptions made so far. */
  preempted = 0;
  /** DPCs and work items delivered late so far. */
  late = 0;
  private readonly random: FioRandom;
  /** The points to preempt at, ascending. */
  private readonly changePoints: number[];
  private nextChange = 0;
  private readonly maxDelayPs: number;
  private readonly deliveryDelayProbability: number;
  /** Start-time window within which processors' work runs in a chosen order, ps. */
  readonly overlapPs: number;
  private readonly drivers: Set<string> | null;
  /** Nesting of work run inside a preemption (no preemption within it). */
  private depth = 0;

  constructor(private readonly k: Kernel, readonly options: ScheduleOptions) {
    this.random = new FioRandom(options.seed >>> 0, SEED_STREAM);
    const d = options.preemptions ?? SCHEDULE_DEFAULTS.preemptions;
    const span = options.points ?? 0;
    this.changePoints = [];
    if (span > 0) for (let i = 0; i < d; i++) this.changePoints.push(this.random.below(span));
    this.changePoints.sort((a, b) => a - b);
    this.maxDelayPs = (options.maxDelayUs ?? SCHEDULE_DEFAULTS.maxDelayUs) * 1e6;
    this.deliveryDelayProbability = span > 0 ? options.deliveryDelayProbability ?? SCHEDULE_DEFAULTS.deliveryDelayProbability : 0;
    this.overlapPs = span > 0 ? (options.overlapUs ?? SCHEDULE_DEFAULTS.overlapUs) * 1e6 : 0;
    this.drivers = options.drivers ? new Set(options.drivers.map((n) => n.toLowerCase())) : null;
  }

  /** A preemption point on `cpu` (Kernel.preemptionPoint): preempts it when this is a chosen point. */
  point(cpu: KPRCB): void {
    if (this.depth > 0) return;
    const stack = cpu.stack;
    if (stack.length === 0) return;
    const running = stack[stack.length - 1];
    const driver = running.driver;
    if (driver === "nt" || (this.drivers !== null && !this.drivers.has(driver.toLowerCase()))) return;
    const n = this.points++;
    if (this.nextChange >= this.changePoints.length || this.changePoints[this.nextChange] > n) return;
    while (this.nextChange < this.changePoints.length && this.changePoints[this.nextChange] <= n) this.nextChange++;
    if (cpu.irql > DISPATCH_LEVEL) return;
    this.preempt(cpu, running);
  }

  /** Delays `cpu` and runs what the rest of the machine has to do meanwhile. */
  private preempt(cpu: KPRCB, running: Attribution): void {
    const k = this.k;
    const delay = Math.round(this.random.nextFloat() * this.maxDelayPs);
    this.preempted++;
    const what = `schedule: preempted for ${(delay / 1e6).toFixed(3)} us`;
    k.recorder.note(cpu.time, what, running.driver, running.routine, cpu.Number);
    if (k.recorder.enabled) k.recorder.instant(TRACK_CPU, cpu.Number, what, "schedule", cpu.time);
    cpu.time += delay;
    if (cpu.time >= k.core.nextEventPs) k.advanceCore(cpu.time);
    // Holding a spin lock (DISPATCH_LEVEL), the other processors' work could need it: it waits.
    if (cpu.irql >= DISPATCH_LEVEL) return;
    this.depth++;
    try {
      k.scheduler.runOthersUntil(cpu, cpu.time);
    } finally {
      this.depth--;
    }
  }

  /** How late a DPC or work item queued now is delivered, ps (0 for on time). */
  deliveryDelay(): number {
    if (this.deliveryDelayProbability === 0 || this.depth > 0) return 0;
    if (this.random.nextFloat() >= this.deliveryDelayProbability) return 0;
    this.late++;
    return Math.round(this.random.nextFloat() * this.maxDelayPs);
  }

  /** A choice among `n` alternatives (0 to n - 1). */
  choose(n: number): number {
    return this.random.below(n);
  }
}
