/**
 * `wdmsim explore`: runs a workload under many schedules (src/verifier/schedule.ts) and
 * stops at the first that ends in a bug check, a hang or a failed check, with the schedule
 * seed that replays it exactly. A plain run comes first: it must pass (a failure there is
 * no race), and it counts the preemption points the schedules spread their preemptions over.
 */
import { BugCheck } from "../ke/bugcheck.js";
import { KernelHang, RunLimitReached, type Kernel } from "../ke/kernel.js";
import { ProcessTerminated } from "../io/process-exit.js";
import type { Machine } from "../machine/machine.js";
import type { BootedKernel } from "../pnp/boot.js";
import { ScheduleExplorer, SCHEDULE_DEFAULTS, type ScheduleOptions } from "./schedule.js";

/** What explore runs: a fresh booted machine each time, and a run that says whether it passed. */
export interface ExploreTarget {
  boot(): Promise<Machine>;
  run(machine: Machine): Promise<boolean>;
}

/** How one run ended. */
export interface ExploreRun {
  /** The schedule seed (null for the plain run). */
  seed: number | null;
  outcome: "passed" | "bugcheck" | "hang" | "failed" | "program";
  /** One line: the bug check and the routine blamed, the hang, or the failed check. */
  message: string;
  /** The bug check, when the run ended in one. */
  bugCheck?: BugCheck;
  /** Preemption points passed, preemptions made, DPCs and work items delivered late. */
  points: number;
  preempted: number;
  late: number;
}

/** What exploration found. */
export interface ExploreReport {
  plain: ExploreRun;
  /** The schedule used, with the points counted in the plain run (what a replay needs). */
  schedule: Omit<ScheduleOptions, "seed"> & { points: number; preemptions: number };
  runs: ExploreRun[];
  /** The first failing run, or null. */
  failure: ExploreRun | null;
}

/** Arms `schedule` on a booted machine: from now on its interleaving is the schedule's. */
export function armSchedule(machine: Machine, schedule: ScheduleOptions): ScheduleExplorer {
  const k: Kernel = (machine.kernel as BootedKernel).k;
  k.explorer = new ScheduleExplorer(k, schedule);
  return k.explorer;
}

/** Runs `target` once on a fresh machine under `schedule`, within `limitPs` of simulated time from the start of the run. */
async function runOnce(target: ExploreTarget, schedule: ScheduleOptions, seed: number | null, limitPs: number): Promise<ExploreRun & { durationPs: number }> {
  const machine = await target.boot();
  const k: Kernel = (machine.kernel as BootedKernel).k;
  const explorer = armSchedule(machine, schedule);
  const start = machine.nowPs;
  k.scheduler.simDeadlinePs = start + limitPs;
  let outcome: ExploreRun["outcome"] = "passed";
  let message = "passed";
  let bugCheck: BugCheck | undefined;
  try {
    if (!(await target.run(machine))) {
      outcome = "failed";
      message = "the workload's checks failed";
    }
  } catch (e) {
    if (e instanceof BugCheck) {
      outcome = "bugcheck";
      bugCheck = e;
      message = e.message.replace(/^\*\*\* STOP: /, "bug check ");
    } else if (e instanceof KernelHang || e instanceof RunLimitReached) {
      outcome = "hang";
      message = e instanceof RunLimitReached ? "the run did not finish in ten times the plain run's simulated time" : e.message;
    } else if (e instanceof ProcessTerminated) {
      outcome = "program";
      message = e.message;
    } else {
      // A check of the workload's own that threw (a test's assertion).
      outcome = "failed";
      message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
  }
  return { seed, outcome, message, bugCheck, points: explorer.points, preempted: explorer.preempted, late: explorer.late, durationPs: machine.nowPs - start };
}

/** Options for exploring. */
export interface ExploreOptions {
  /** Schedules to try. */
  runs: number;
  /** The first schedule seed (the others follow it). */
  firstSeed?: number;
  /** The schedules' bounds (preemptions, delays...). */
  schedule?: Omit<ScheduleOptions, "seed" | "points">;
}

/**
 * Runs the plain schedule, then up to `runs` explored ones, stopping at the first failure.
 * `onRun` hears of each run as it ends.
 */
export async function explore(target: ExploreTarget, options: ExploreOptions, onRun?: (run: ExploreRun) => void): Promise<ExploreReport> {
  const bounds = { ...options.schedule, preemptions: options.schedule?.preemptions ?? SCHEDULE_DEFAULTS.preemptions };
  const plain = await runOnce(target, { seed: 0, ...bounds, points: 0 }, null, Infinity);
  onRun?.(plain);
  const schedule = { ...bounds, points: plain.points };
  const report: ExploreReport = { plain, schedule, runs: [], failure: null };
  if (plain.outcome !== "passed" || plain.points === 0) return report;
  // A run that takes ten times the plain run's simulated time (plus 10 ms) counts as hung.
  const limitPs = plain.durationPs * 10 + 10e9;
  const first = options.firstSeed ?? 1;
  for (let i = 0; i < options.runs; i++) {
    const seed = (first + i) >>> 0;
    const run = await runOnce(target, { seed, ...schedule }, seed, limitPs);
    report.runs.push(run);
    onRun?.(run);
    if (run.outcome !== "passed") {
      report.failure = run;
      break;
    }
  }
  return report;
}
