/**
 * `wdmsim run --workload fio --job FILE`: runs a fio job file on the machine's disks
 * (\\.\PhysicalDriveN, which the storage stack creates) and gives fio's report — the normal
 * text followed by the interrupt view, or with --output-format=json fio's JSON document
 * (with the interrupt view as its "interrupts" object).
 */
import type { Machine } from "../../machine/machine.js";
import { runFio, type FioRunResult } from "./fio.js";
import type { FioJobSet } from "./options.js";
import { formatFioNormal } from "./report-normal.js";
import { formatFioJson } from "./report-json.js";
import { formatInterruptView } from "./interrupts.js";

/** fio's --output-format values wdmsim prints. */
export type FioOutputFormat = "normal" | "json";

/** What the fio workload runs and how it reports. */
export interface FioWorkloadOptions {
  /** The resolved job file (loadFioJobFile). */
  jobs: FioJobSet;
  outputFormat: FioOutputFormat;
}

/** A fio run with its reports. */
export interface FioWorkloadResult {
  run: FioRunResult;
  /** fio's normal output followed by the interrupt view (text). */
  normal: string;
  /** fio's JSON document (text, as fio prints it). */
  json: string;
  ok: boolean;
}

/** Runs the job file on a booted machine and formats both reports. */
export async function runFioWorkload(machine: Machine, options: FioWorkloadOptions): Promise<FioWorkloadResult> {
  const run = await runFio(machine, options.jobs);
  const normal = `${formatFioNormal(run)}\n${formatInterruptView(run.interrupts).join("\n")}\n`;
  return { run, normal, json: formatFioJson(run), ok: run.ok };
}
