/**
 * The wdmsim command. `wdmsim run` boots a machine, runs a workload (edu by default, or
 * `--workload toaster`) and prints what happened: the device tree, the workload's results, counts and timing, simulated and
 * host time. `--json` prints the same as one object; `--trace FILE` writes a Chrome
 * trace for Perfetto; `--inspect "!devnode 0 1"` prints WinDbg-style inspections of the
 * machine after the run (or after a bug check). `wdmsim inspect [run options] "<command>"...`
 * runs the same workload and prints only the inspections. Bad flags, files or commands get
 * a message naming what to fix and exit 2; a bug check prints its analysis and exits 1.
 */
import { parseDuration } from "../ke/time.js";
import { closeSync, openSync, readdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { boot } from "../pnp/boot.js";
import { FirmwareError, loadMachine, MACHINES_DIR, type MachineDescription } from "../machine/firmwareFiles.js";
import { Machine } from "../machine/machine.js";
import { BugCheck } from "../ke/bugcheck.js";
import { ProcessTerminated } from "../io/process-exit.js";
import { KernelHang, RunLimitReached, type Kernel } from "../ke/kernel.js";
import type { BootedKernel } from "../pnp/boot.js";
import { deviceTree, formatDeviceTree, type DeviceTreeNode } from "../pnp/tree.js";
import { runReport, formatNs, type RunReport, type Spread } from "../trace/report.js";
import { toChromeTrace } from "../trace/chrome.js";
import { toVcd } from "../trace/vcd.js";
import { EDU_WORKLOAD_DEFAULTS, WORKLOADS, type Workload, type WorkloadOptions, type WorkloadOutcome } from "../workloads/index.js";
import { loadFioJobFile } from "../workloads/fio/fio.js";
import { FioJobFileError } from "../workloads/fio/jobfile.js";
import { KD } from "../ke/debug-print.js";
import { INSPECT_COMMANDS, InspectError, parseInspectCommand, type InspectCommand } from "../debug/inspect.js";
import { SCHEDULE_DEFAULTS, type ScheduleOptions } from "../verifier/schedule.js";
import { testWorkload, TestModuleError } from "../workloads/test-module.js";
import { showProgress } from "./progress.js";
import { armSchedule, explore, type ExploreRun, type ExploreTarget } from "../verifier/explore.js";

const USAGE = `Usage: wdmsim <command> [options]

Commands:
  run         Boot a machine and run a workload (default)
  inspect     Run as \`run\` does, then print WinDbg-style inspections:
                wdmsim inspect [run options] "<command>"...
  explore     Run a workload under many schedules; stop at the first bug check, hang or
              failed check and print the schedule seed that replays it:
                wdmsim explore [--runs N] [--workload NAME | --test FILE] [schedule options]
  machines    List the machine files in firmware/machines
  help        Show this help

Options for run and inspect:
  --machine NAME|PATH   Machine file (a name in firmware/machines, or a path)   [default; storage for fio]
  --seed N              Seed for the machine's generator (0..4294967295)       [from the machine file]
  --workload NAME       ${Object.values(WORKLOADS).map((w) => `${w.name}: ${w.summary}`).join("\n                        ")}
                                                                                [edu]
  --test FILE           Run a test module instead: its default export is given the booted machine and
                        passes unless it throws or returns false (it may export \`machine\` and \`boot\`)
  (edu workload)
  --factorials N        Factorials to compute                                   [${EDU_WORKLOAD_DEFAULTS.factorials}]
  --dma N               DMA round trips (to the device and back, verified)      [${EDU_WORKLOAD_DEFAULTS.dmaRoundTrips}]
  --liveness N          Liveness checks                                         [${EDU_WORKLOAD_DEFAULTS.livenessChecks}]
  --files N             WriteFile/ReadFile round trips of the device buffer    [${EDU_WORKLOAD_DEFAULTS.fileRoundTrips}]
  (fio workload)
  --job FILE            fio job file to run (required), e.g. firmware/jobs/randread.fio
  --output-format FMT   normal: fio's report and the interrupt view in the summary;
                        json: fio's JSON document only                          [normal]
  --json                Print the summary as one JSON object (on a terminal, a run otherwise shows its
                        progress on stderr: simulated time, events per second, host time)
  --trace FILE          Write a Chrome Trace Event JSON file (open it in Perfetto)
  --vcd FILE            Write a Value Change Dump (open it in GTKWave or Surfer): IRQL and ISR/DPC/thread
                        activity per CPU; INTx, MSI pulses per vector, DMA in flight, register writes per
                        PCI function; simulated picoseconds
  --debug-output        Print the drivers' debug output (DbgPrint, DbgPrintEx, KdPrint) as DebugView
                        shows it; the machine's Debug Print Filter key decides what passes, as on
                        Windows (set it with the machine file's "registry")
  --max-sim-time T      Stop when simulated time reaches T (e.g. 10s, 250ms, 40us): exit 3 with a
                        report of what was still waiting
  --timeout T           Stop after T of host time (e.g. 60s, 5m): exit 3, as --max-sim-time
  --schedule-seed N     Run on the explored schedule N (what wdmsim explore prints to replay a failure)
  --schedule-points K   The preemption points the schedule spreads its preemptions over (from explore)
  --preemptions D       Preemptions per schedule                                [${SCHEDULE_DEFAULTS.preemptions}]
  --max-delay T         Longest delay of a preempted processor, late DPC or work item [${SCHEDULE_DEFAULTS.maxDelayUs}us]
  --inspect "COMMAND"   After the run (or a bug check) print a WinDbg-style inspection; repeatable.
                        Commands: ${INSPECT_COMMANDS.join(" ")}
                        e.g. --inspect "!devnode 0 1" --inspect "!drvobj edu 2" --inspect "!irpfind"

Options for explore (and --machine, --seed, --workload, --test, the edu counts, --preemptions, --max-delay):
  --runs N              Schedules to try after the plain run                    [100]
  --schedule-seed N     The first schedule seed (the others follow it)          [1]
  --json                Print the report as one JSON object
`;

/** A command-line mistake: the message says what to fix. */
class UsageError extends Error {}

/** Refuses, before anything runs, an output file that cannot be written (it is created, empty, to find out). */
function checkWritable(flag: string, path: string): void {
  try {
    closeSync(openSync(path, "w"));
  } catch (e) {
    throw new UsageError(`--${flag} ${path}: cannot write the file: ${(e as Error).message}`);
  }
}

/** A duration flag's value ("10s", "250ms", "1.5m"; a bare number is seconds), in seconds. */
function duration(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = parseDuration(value);
  if (seconds === null || seconds <= 0) throw new UsageError(`--${name} takes a positive duration such as 10s, 250ms, 40us or 5m, not "${value}"`);
  return seconds;
}

function count(name: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^[0-9]+$/.test(value) || Number(value) > max) throw new UsageError(`--${name} takes a whole number from 0 to ${max}, not "${value}"`);
  return Number(value);
}

interface Summary {
  machine: { name: string; file: string; description: string; cpus: number; ramBytes: number; seed: number };
  deviceTree: DeviceTreeNode;
  workload: { name: string; title: string; ok: boolean; result: unknown; lines: string[] };
  report: RunReport;
  hostMs: number;
  trace?: string;
  /** The --vcd file written. */
  vcd?: string;
  /** The --inspect commands and what they printed. */
  inspect?: InspectionResult[];
  /** With --debug-output: the messages the debugger received. */
  debugOutput?: { timeNs: number; cpu: number; driver: string; text: string }[];
}

/** The messages the machine's debugger received, oldest first. */
function debugMessages(machine: Machine): { timeNs: number; cpu: number; driver: string; text: string }[] {
  const k = (machine.kernel as BootedKernel | undefined)?.k;
  return k ? KD(k).output.entries().map((m) => ({ timeNs: m.timePs / 1000, cpu: m.cpu, driver: m.driver, text: m.text })) : [];
}

/**
 * Prints debug messages as DebugView lists them: sequence number, seconds since boot, the
 * text (a line per line). A message that does not end its line is continued by the next
 * ones (DebugView without "Force Carriage Returns"); the line has the time of its first part.
 */
function printDebugOutput(messages: { timeNs: number; text: string }[]): void {
  let n = 0;
  let pending = "";
  let pendingNs = 0;
  for (const m of messages) {
    if (pending === "") pendingNs = m.timeNs;
    const lines = (pending + m.text).split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      console.log(`${String(n++).padStart(8, "0")}\t${(pendingNs / 1e9).toFixed(8)}\t${line}`);
      pendingNs = m.timeNs;
    }
  }
  if (pending !== "") console.log(`${String(n++).padStart(8, "0")}\t${(pendingNs / 1e9).toFixed(8)}\t${pending}`);
}

function spreadLine(label: string, s: Spread): string {
  if (s.count === 0) return `  ${label.padEnd(26)} (none)`;
  return `  ${label.padEnd(26)} min ${formatNs(s.minNs).padStart(9)}   median ${formatNs(s.medianNs).padStart(9)}   max ${formatNs(s.maxNs).padStart(9)}   (${s.count})`;
}

function printSummary(s: Summary): void {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const c = s.report.counts;
  const lines = [
    `wdmsim: machine "${s.machine.name}" (${s.machine.file}): ${s.machine.cpus} CPUs, ${mib(s.machine.ramBytes)} RAM, seed ${s.machine.seed}`,
    "",
    "Device tree",
    ...formatDeviceTree(s.deviceTree).map((l) => `  ${l}`),
    "",
    s.workload.title,
    ...s.workload.lines,
    "",
    "Counts",
    `  IRPs ${c.irps}   MMIO reads ${c.mmioReads}   MMIO writes ${c.mmioWrites}   config reads ${c.configReads}   config writes ${c.configWrites}`,
    `  DMA ${c.dmaTransfers} transfers, ${c.dmaReadBytes} bytes read, ${c.dmaWriteBytes} bytes written   MSIs ${c.msiSent}   ISRs ${c.isrs}   DPCs ${c.dpcs}`,
    `  device events ${c.events}   master aborts ${c.masterAborts}   device errors ${c.deviceErrors}`,
    "",
    "Timing (simulated)",
    spreadLine("ISR duration", s.report.timing.isrDuration),
    spreadLine("DPC duration", s.report.timing.dpcDuration),
    spreadLine("interrupt to ISR", s.report.timing.interruptToIsr),
    spreadLine("interrupt to DPC", s.report.timing.interruptToDpc),
    "",
    `Simulated time ${formatNs(s.report.simulatedNs)}   host time ${s.hostMs.toFixed(0)} ms`,
  ];
  if (s.trace) lines.push(`Trace written to ${s.trace} (open it at https://ui.perfetto.dev)`);
  if (s.vcd) lines.push(`Waveforms written to ${s.vcd} (open them in GTKWave or Surfer)`);
  console.log(lines.join("\n"));
}

/** What a run came to: finished, stopped by a bug check, hung or stopped at a limit, or its program failed. */
type Outcome = { kind: "finished"; workload: WorkloadOutcome } | { kind: "bugcheck"; bugCheck: BugCheck } | { kind: "stalled"; stall: KernelHang | RunLimitReached }
  | { kind: "program"; failure: ProcessTerminated };

/** Exit code of a run that hung or reached a limit. */
const EXIT_STALLED = 3;

/** How a hang or a limit is told on stderr: what happened, then what was still waiting. */
function stallText(e: KernelHang | RunLimitReached): string {
  const what = e instanceof KernelHang ? `the machine hung: ${e.message}` : `${e.message}; stopped`;
  return `wdmsim: ${what}${e.report ? `\n\n${e.report}` : ""}`;
}

/** One inspection's result, for the JSON summary. */
interface InspectionResult {
  command: string;
  output?: string;
  error?: string;
}

/** Checks the inspection commands before anything runs: a bad one is a usage error. */
function inspectionCommands(texts: string[]): InspectCommand[] {
  return texts.map((text) => {
    try {
      return parseInspectCommand(text);
    } catch (e) {
      if (e instanceof InspectError) throw new UsageError(`bad inspection command "${text}": ${e.message}`);
      throw e;
    }
  });
}

/** Runs every inspection on the machine as it is now. */
function runInspections(machine: Machine, commands: InspectCommand[]): InspectionResult[] {
  return commands.map((c) => {
    try {
      return { command: c.text, output: c.run(machine) };
    } catch (e) {
      if (e instanceof InspectError) return { command: c.text, error: e.message };
      throw e;
    }
  });
}

/** Prints inspections as a kernel debugger session shows them (prompt "N: kd>", N the processor); errors go to stderr. */
function printInspections(results: InspectionResult[], cpu: number): void {
  for (const r of results) {
    console.log(`${cpu}: kd> ${r.command}`);
    if (r.output !== undefined) console.log(`${r.output}\n`);
    else console.error(`wdmsim: ${r.error}`);
  }
}

/** `run` and `inspect`: boot, run the workload, report; `inspect` prints only the inspections. */
async function run(argv: string[], mode: "run" | "inspect"): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: mode === "inspect",
    options: {
      ...WORKLOAD_FLAGS,
      job: { type: "string" },
      "output-format": { type: "string" },
      trace: { type: "string" },
      vcd: { type: "string" },
      "debug-output": { type: "boolean", default: false },
      inspect: { type: "string", multiple: true },
      "max-sim-time": { type: "string" },
      timeout: { type: "string" },
      "schedule-points": { type: "string" },
    },
  });
  const schedule = scheduleOptions(values);
  if (schedule && values["schedule-points"] === undefined) throw new UsageError("--schedule-seed needs --schedule-points (wdmsim explore prints both)");
  const options = eduCounts(values);
  if (values.trace === "") throw new UsageError("--trace needs a file name");
  if (values.trace !== undefined) checkWritable("trace", values.trace);
  if (values.vcd === "") throw new UsageError("--vcd needs a file name");
  if (values.vcd !== undefined) checkWritable("vcd", values.vcd);
  const commands = inspectionCommands([...(values.inspect ?? []), ...positionals]);
  if (mode === "inspect" && commands.length === 0) {
    throw new UsageError(`inspect needs at least one command, e.g. wdmsim inspect "!devnode 0 1" (commands: ${INSPECT_COMMANDS.join(" ")})`);
  }
  const { workload, description } = await workloadAndMachine(values);
  const outputFormat = values["output-format"] ?? "normal";
  if (outputFormat !== "normal" && outputFormat !== "json") throw new UsageError(`--output-format takes normal or json, not "${outputFormat}"`);
  if (workload.name === "fio") {
    if (values.job === undefined || values.job === "") throw new UsageError("the fio workload needs a job file: --job FILE (e.g. --job firmware/jobs/randread.fio)");
    options.fio = { jobs: loadFioJobFile(values.job, description.cpu.count), outputFormat };
  } else if (values.job !== undefined || values["output-format"] !== undefined) {
    throw new UsageError("--job and --output-format are options of the fio workload (--workload fio)");
  }

  const maxSimTime = duration("max-sim-time", values["max-sim-time"]);
  const timeout = duration("timeout", values.timeout);

  const started = performance.now();
  // The machine is kept outside the run so it can be inspected after a bug check or a hang.
  const machine = Machine.fromDescription(description);
  let outcome: Outcome;
  try {
    await boot(machine, { ...workload.boot, trace: values.trace !== undefined || values.vcd !== undefined, maxSimTime, timeout });
    if (schedule) armSchedule(machine, { ...schedule, points: count("schedule-points", values["schedule-points"], 0, 0xFFFFFFFF) });
    const stopProgress = process.stderr.isTTY && !values.json ? showProgress(machine, process.stderr) : null;
    try {
      outcome = { kind: "finished", workload: await workload.run(machine, options) };
    } finally {
      stopProgress?.();
    }
  } catch (e) {
    if (e instanceof BugCheck) outcome = { kind: "bugcheck", bugCheck: e };
    else if (e instanceof KernelHang || e instanceof RunLimitReached) outcome = { kind: "stalled", stall: e };
    else if (e instanceof ProcessTerminated) outcome = { kind: "program", failure: e };
    else throw e;
  }
  const hostMs = performance.now() - started;
  const inspections = runInspections(machine, commands);
  const inspectionsFailed = inspections.some((r) => r.error !== undefined);

  const debugOutput = values["debug-output"] ? debugMessages(machine) : undefined;
  if (debugOutput && !values.json && mode === "run") printDebugOutput(debugOutput);
  if (outcome.kind !== "finished") {
    if (outcome.kind === "bugcheck") console.error(outcome.bugCheck.analyze());
    else if (outcome.kind === "program") console.error(`wdmsim: the workload's ${outcome.failure.message}`);
    else console.error(stallText(outcome.stall));
    if (values.json && commands.length > 0) console.log(JSON.stringify({ inspect: inspections }, null, 2));
    else if (!values.json) printInspections(inspections, outcome.kind === "bugcheck" ? outcome.bugCheck.context.cpu : 0);
    return outcome.kind === "stalled" ? EXIT_STALLED : 1;
  }
  if (mode === "inspect") {
    if (values.json) console.log(JSON.stringify({ inspect: inspections }, null, 2));
    else printInspections(inspections, 0);
  } else {
    const k: Kernel = (machine.kernel as BootedKernel).k;
    const summary: Summary = {
      machine: {
        name: description.name, file: description.file, description: description.description, cpus: description.cpu.count,
        ramBytes: description.memory.reduce((n, r) => n + r.size, 0), seed: description.seed,
      },
      deviceTree: deviceTree(k),
      workload: { name: workload.name, title: workload.title, ...outcome.workload },
      report: runReport(machine.core.counters(), k.recorder.stats, machine.nowPs),
      hostMs,
    };
    if (values.trace !== undefined) {
      writeFileSync(values.trace, toChromeTrace(k.recorder, { machine: description.name, seed: description.seed }));
      summary.trace = values.trace;
    }
    if (values.vcd !== undefined) {
      writeFileSync(values.vcd, toVcd(k.recorder, description.name));
      summary.vcd = values.vcd;
    }
    if (commands.length > 0) summary.inspect = inspections;
    if (debugOutput) summary.debugOutput = debugOutput;
    if (outcome.workload.document !== undefined) process.stdout.write(outcome.workload.document);
    else if (values.json) console.log(JSON.stringify(summary, null, 2));
    else {
      printSummary(summary);
      if (commands.length > 0) {
        console.log("");
        printInspections(inspections, 0);
      }
    }
  }
  if (!outcome.workload.ok) return 1;
  return inspectionsFailed ? 2 : 0;
}

/** Flags `run`, `inspect` and `explore` share: the machine, the workload and its counts, the schedule, --json. */
const WORKLOAD_FLAGS = {
  machine: { type: "string" },
  seed: { type: "string" },
  workload: { type: "string", default: "edu" },
  test: { type: "string" },
  factorials: { type: "string" },
  dma: { type: "string" },
  liveness: { type: "string" },
  files: { type: "string" },
  "schedule-seed": { type: "string" },
  preemptions: { type: "string" },
  "max-delay": { type: "string" },
  json: { type: "boolean", default: false },
} as const;

/** The edu workload's counts the flags give. */
function eduCounts(values: { factorials?: string; dma?: string; liveness?: string; files?: string }): WorkloadOptions {
  return {
    factorials: count("factorials", values.factorials, EDU_WORKLOAD_DEFAULTS.factorials, 100000),
    dmaRoundTrips: count("dma", values.dma, EDU_WORKLOAD_DEFAULTS.dmaRoundTrips, 100000),
    livenessChecks: count("liveness", values.liveness, EDU_WORKLOAD_DEFAULTS.livenessChecks, 100000),
    fileRoundTrips: count("files", values.files, EDU_WORKLOAD_DEFAULTS.fileRoundTrips, 100000),
  };
}

/** The workload --workload names (or the test --test imports) and the machine it runs on (--machine, --seed), checked to suit it. */
async function workloadAndMachine(values: { workload?: string; test?: string; machine?: string; seed?: string }): Promise<{ workload: Workload; description: MachineDescription }> {
  if (values.test === "") throw new UsageError("--test needs a file name");
  const workload = values.test !== undefined ? await testModuleWorkload(values.test) : WORKLOADS[values.workload!];
  if (!workload) throw new UsageError(`--workload takes one of ${Object.keys(WORKLOADS).join(", ")}, not "${values.workload}"`);
  const description = loadMachine(values.machine ?? workload.machine ?? "default");
  if (values.seed !== undefined) description.seed = count("seed", values.seed, 0, 0xFFFFFFFF);
  const lacking = workload.check(description);
  if (lacking) throw new UsageError(lacking);
  return { workload, description };
}

/** The test module --test names, as a workload; a module that cannot be used is a usage error. */
async function testModuleWorkload(file: string): Promise<Workload> {
  try {
    return await testWorkload(file);
  } catch (e) {
    if (e instanceof TestModuleError) throw new UsageError(e.message);
    throw e;
  }
}

/** The schedule bounds the flags give (null without --schedule-seed). */
function scheduleOptions(values: { "schedule-seed"?: string; preemptions?: string; "max-delay"?: string }): ScheduleOptions | null {
  if (values["schedule-seed"] === undefined) return null;
  const maxDelay = duration("max-delay", values["max-delay"]);
  return {
    seed: count("schedule-seed", values["schedule-seed"], 1, 0xFFFFFFFF),
    preemptions: count("preemptions", values.preemptions, SCHEDULE_DEFAULTS.preemptions, 1000),
    ...(maxDelay !== undefined ? { maxDelayUs: maxDelay * 1e6 } : {}),
  };
}

/** `explore`: the workload under many schedules; stops at the first failure and prints how to replay it. */
async function exploreCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { ...WORKLOAD_FLAGS, runs: { type: "string" } } });
  if (values.workload === "fio") throw new UsageError("explore runs workloads without a job file; the fio workload is not one of them");
  const { workload, description } = await workloadAndMachine(values);
  const options = eduCounts(values);
  const runs = count("runs", values.runs, 100, 1_000_000);
  const bounds = scheduleOptions({ ...values, "schedule-seed": values["schedule-seed"] ?? "1" })!;
  const target: ExploreTarget = {
    async boot() {
      const machine = Machine.fromDescription(description);
      await boot(machine, workload.boot);
      return machine;
    },
    run: async (machine) => (await workload.run(machine, options)).ok,
  };
  const say = (line: string) => { if (!values.json) console.log(line); };
  say(`Exploring workload ${workload.name} on machine ${description.name} (seed ${description.seed}): up to ${runs} schedules, ${bounds.preemptions} preemptions each`);
  const report = await explore(target, { runs, firstSeed: bounds.seed, schedule: { preemptions: bounds.preemptions, maxDelayUs: bounds.maxDelayUs } }, (run) => {
    const what = run.seed === null ? `plain run: ${run.points} preemption points in driver routines` : `schedule ${run.seed}: ${run.preempted} preemptions, ${run.late} late deliveries`;
    say(`  ${what.padEnd(60)} ${run.message}`);
  });
  const replay = (seed: number) => [
    "wdmsim run", ...(values.test !== undefined ? ["--test", values.test] : ["--workload", workload.name]), ...(values.machine ? ["--machine", values.machine] : []), ...(values.seed !== undefined ? ["--seed", values.seed] : []),
    "--schedule-seed", String(seed), "--schedule-points", String(report.schedule.points), "--preemptions", String(report.schedule.preemptions),
    ...(values["max-delay"] ? ["--max-delay", values["max-delay"]] : []),
  ].join(" ");
  const failure = report.failure;
  if (values.json) {
    const brief = (r: ExploreRun) => ({ seed: r.seed, outcome: r.outcome, message: r.message, points: r.points, preempted: r.preempted, late: r.late });
    console.log(JSON.stringify({
      workload: workload.name, machine: description.name, seed: description.seed, schedule: report.schedule, plain: brief(report.plain),
      runs: report.runs.length, failure: failure ? { ...brief(failure), replay: replay(failure.seed!) } : null,
    }, null, 2));
  }
  if (report.plain.outcome !== "passed") {
    console.error(`wdmsim: the workload fails on the machine's own schedule already (${report.plain.message}): that is not a race; run it with wdmsim run`);
    return 1;
  }
  if (!failure) {
    say(report.plain.points === 0 ? "No driver routine called the kernel: nothing to explore." : `No failure in ${report.runs.length} schedules.`);
    return 0;
  }
  if (!values.json) {
    if (failure.bugCheck) console.log(`\n${failure.bugCheck.analyze()}`);
    console.log(`\nSchedule ${failure.seed} fails (run ${report.runs.length} of ${runs}). Replay it exactly with:\n  ${replay(failure.seed!)}`);
  }
  return 1;
}

function machines(): number {
  for (const f of readdirSync(MACHINES_DIR).filter((f) => f.endsWith(".json")).sort()) {
    const d = loadMachine(f.replace(/\.json$/, ""));
    console.log(`${d.name.padEnd(12)} ${d.description}`);
  }
  return 0;
}

/** Runs the command line; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command = "run", ...rest] = argv;
  try {
    switch (command) {
      case "run":
        return await run(rest, "run");
      case "inspect":
        return await run(rest, "inspect");
      case "explore":
        return await exploreCommand(rest);
      case "machines":
        return machines();
      case "help":
      case "--help":
      case "-h":
        console.log(USAGE);
        return 0;
      default:
        if (command.startsWith("-")) return await run(argv, "run");
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof BugCheck) {
      console.error(e.analyze());
      return 1;
    }
    if (e instanceof FirmwareError) {
      console.error(`wdmsim: bad machine file: ${e.message}`);
      return 2;
    }
    if (e instanceof FioJobFileError) {
      console.error(e.message);
      return 2;
    }
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`wdmsim: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof KernelHang || e instanceof RunLimitReached) {
      console.error(stallText(e));
      return EXIT_STALLED;
    }
    throw e;
  }
}

if (process.argv[1] && /main\.[tj]s$/.test(process.argv[1])) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
