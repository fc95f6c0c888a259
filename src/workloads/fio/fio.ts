/**
 * The fio load generator: reads a job file, runs its jobs as threads of one user-mode
 * program on the machine (each job section `numjobs` times; jobs run together, a
 * `stonewall` job only after every job before it has finished), and gathers fio's
 * figures: per job or per reporting group (group_reporting), the group run statistics,
 * and the interrupt view over the run. The reports are in report-normal.ts and
 * report-json.ts.
 */
import { readFileSync } from "node:fs";
import type { Machine } from "../../machine/machine.js";
import type { BootedKernel } from "../../pnp/boot.js";
import { CloseHandle, CreateThread, SetThreadAffinityMask, WaitForSingleObject, INFINITE, NULL } from "../../io/usermode.js";
import { KE } from "../../ke/kernel.js";
import { FioJobFileError } from "./jobfile.js";
import { FioJob } from "./job.js";
import { resolveJobFile, type FioJobSet } from "./options.js";
import { DDIR_RWDIR_CNT, ThreadStats } from "./stats.js";
import { interruptView, type InterruptView } from "./interrupts.js";

/** The fio release whose output layout the reports follow. */
export const FIO_VERSION = "fio-3.36";

/** fio's group_run_stats: per reporting group and direction, bytes and the spread of run times and bandwidths. */
export interface FioGroupStats {
  groupid: number;
  kbBase: 1000 | 1024;
  unified: "none" | "mixed" | "both";
  /** Per direction (read, write, trim): shortest and longest run, ms. */
  minRunMs: number[];
  maxRunMs: number[];
  /** Per direction: lowest and highest job bandwidth, and aggregate (bytes over the longest run), bytes/s. */
  minBw: number[];
  maxBw: number[];
  agg: number[];
  ioBytes: number[];
}

/** How to run: extras for tests and tools. */
export interface FioRunOptions {
  /** Keep every measured I/O's times in FioJob.trace (one record per I/O: for checking the report, not for long runs). */
  traceIos?: boolean;
}

/** What a fio run produced. */
export interface FioRunResult {
  set: FioJobSet;
  /** Every job clone, in thread_number order. */
  jobs: FioJob[];
  /** What the reports show: one per job, or one per group with group_reporting. */
  reports: ThreadStats[];
  groups: FioGroupStats[];
  /** Jobs that ran as threads (`thread`) and as processes (fio's "Starting ..." line). */
  threads: number;
  processes: number;
  interrupts: InterruptView;
  /** Simulated time when the run started and ended, ps. */
  startPs: number;
  endPs: number;
  /** Every job finished without an error. */
  ok: boolean;
}

/** Reads and resolves a job file from disk; FioJobFileError for a bad one (also when it cannot be read). */
export function loadFioJobFile(path: string, cpuCount = Infinity): FioJobSet {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new FioJobFileError(`fio: unable to open '${path}' job file`, path, 0);
  }
  return resolveJobFile(text, path, cpuCount);
}

/** Builds the report units: each job alone, or the jobs of a group together with group_reporting. */
export function reportUnits(jobs: FioJob[]): ThreadStats[] {
  const out: ThreadStats[] = [];
  let current: ThreadStats | null = null;
  let currentGroup = -1;
  for (const job of jobs) {
    const j = job.stats;
    const merge = job.options.groupReporting && current !== null && currentGroup === job.groupid;
    if (!merge) {
      current = new ThreadStats(j.name);
      current.groupid = j.groupid;
      current.pid = j.pid;
      current.description = j.description;
      current.jobStartMs = j.jobStartMs;
      current.unified = j.unified;
      current.percentileList = j.percentileList;
      current.percentilePrecision = j.percentilePrecision;
      current.clatPercentiles = j.clatPercentiles;
      current.kbBase = j.kbBase;
      currentGroup = job.groupid;
      out.push(current);
    }
    current!.add(j);
  }
  return out;
}

/** fio's run status per group, from the report units. */
export function groupStats(reports: ThreadStats[]): FioGroupStats[] {
  const groups: FioGroupStats[] = [];
  for (const ts of reports) {
    let g = groups.find((x) => x.groupid === ts.groupid);
    if (!g) {
      const zero = () => [0, 0, 0];
      g = { groupid: ts.groupid, kbBase: ts.kbBase, unified: ts.unified, minRunMs: zero(), maxRunMs: zero(), minBw: [Infinity, Infinity, Infinity], maxBw: zero(), agg: zero(), ioBytes: zero() };
      groups.push(g);
    }
    for (let d = 0; d < DDIR_RWDIR_CNT; d++) {
      const dir = ts.dirs[d];
      if (!dir.runtimeMs) continue;
      if (dir.runtimeMs < g.minRunMs[d] || !g.minRunMs[d]) g.minRunMs[d] = dir.runtimeMs;
      if (dir.runtimeMs > g.maxRunMs[d]) g.maxRunMs[d] = dir.runtimeMs;
      const bw = Math.floor((dir.ioBytes * 1000) / dir.runtimeMs);
      if (bw < g.minBw[d]) g.minBw[d] = bw;
      if (bw > g.maxBw[d]) g.maxBw[d] = bw;
      g.ioBytes[d] += dir.ioBytes;
    }
  }
  for (const g of groups) {
    for (let d = 0; d < DDIR_RWDIR_CNT; d++) {
      if (g.minBw[d] === Infinity) g.minBw[d] = 0;
      if (g.maxRunMs[d]) g.agg[d] = Math.floor((g.ioBytes[d] * 1000) / g.maxRunMs[d]);
    }
  }
  return groups.sort((a, b) => a.groupid - b.groupid);
}

/**
 * Runs a resolved job file on a booted machine. Each job is a thread of the program
 * "fio"; a job with cpus_allowed gets SetThreadAffinityMask before it first runs.
 * Resolves when every job has finished.
 */
export async function runFio(machine: Machine, set: FioJobSet, options: FioRunOptions = {}): Promise<FioRunResult> {
  const k = (machine.kernel as BootedKernel).k;
  const seed = machine.description.seed;
  const psPerCycle = 1e9 / machine.description.cpu.kHz;
  // Expand numjobs and number the groups: a stonewall or new_group job (not the first) starts a new group.
  const jobs: FioJob[] = [];
  const waves: FioJob[][] = [];
  let groupid = 0;
  const runOptions = options;
  set.jobs.forEach((options, i) => {
    if (i > 0 && (options.stonewall || options.newGroup)) groupid++;
    if (i === 0 || options.stonewall) waves.push([]);
    for (let c = 0; c < options.numjobs; c++) {
      const job = new FioJob(options, jobs.length + 1, groupid, seed, psPerCycle);
      if (runOptions.traceIos) job.trace = [];
      jobs.push(job);
      waves[waves.length - 1].push(job);
    }
  });
  // Every processor appears in the view, busy or not.
  k.recorder.stats.processor(k.processors.length - 1);
  const before = k.recorder.stats.interruptActivity(Math.max(...k.processors.map((p) => p.time)));
  let startPs = 0;
  let endPs = 0;
  await machine.runProgram("fio", async () => {
    startPs = KE().cpu.time;
    for (const wave of waves) {
      const failures: unknown[] = [];
      const handles = wave.map((job) => {
        const h = CreateThread(null, 0, async () => {
          try {
            await job.run();
          } catch (e) {
            failures.push(e);
          }
        }, null, 0);
        if (h === NULL) throw new Error(`fio: CreateThread failed for job ${job.options.name}`);
        if (job.options.cpusAllowed) SetThreadAffinityMask(h, job.options.cpusAllowed.reduce((m, c) => m | (1 << c), 0));
        return h;
      });
      for (const h of handles) {
        await WaitForSingleObject(h, INFINITE);
        await CloseHandle(h);
      }
      if (failures.length > 0) throw failures[0];
    }
    endPs = KE().cpu.time;
  });
  const after = k.recorder.stats.interruptActivity(Math.max(...k.processors.map((p) => p.time)));
  const reports = reportUnits(jobs);
  const ios = jobs.reduce((n, j) => n + j.stats.dirs.reduce((m, d) => m + d.clat.samples, 0), 0);
  const threads = jobs.filter((j) => j.options.thread).length;
  return {
    set, jobs, reports, groups: groupStats(reports), threads, processes: jobs.length - threads,
    interrupts: interruptView(before, after, ios), startPs, endPs: Math.max(endPs, ...jobs.map((j) => j.endPs)),
    ok: jobs.every((j) => j.stats.error === 0),
  };
}
