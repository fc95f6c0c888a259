/**
 * The benchmark suite: `npm run bench` runs every benchmark, prints one markdown table and
 * writes bench/results.json. Every row compares with a baseline measured in the same
 * process and run; each measurement has a warm-up repeat, then several timed repeats
 * with the two sides interleaved.
 *
 * Each benchmark runs in a process of its own (so one benchmark's garbage, JIT state and
 * heap never slow the next), in a fixed order, and the whole order is repeated over
 * several processes. A row's value is the median over processes of each process's median;
 * its ratio is the median over processes of each process's ratio, with the spread (lowest
 * and highest process ratio) beside it.
 *
 *   node dist/bench/index.js [--only NAME[,NAME...]] [--repeats N] [--processes N] [--scale X]
 *                            [--out FILE] [--compare FILE]
 *
 * NAME is one of the benchmark names below; --repeats is the timed repeats per process;
 * --scale multiplies the work per repeat (0.1 for a quick look); --out changes where the
 * JSON goes; --compare prints each ratio's change against an earlier results file and
 * flags the ratios that moved by more than the measured spread.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import os from "node:os";
import { DEFAULT_REPEATS, hostNsPerOp, markdownTable, median, now, simulatedTable, type Benchmark, type Row } from "./lib.js";
import { compareTable, type Results, type SuiteRow } from "./compare.js";
import { events } from "./events.js";
import { dma } from "./dma.js";
import { mmio } from "./mmio.js";
import { ioctl } from "./ioctl.js";
import { iommu } from "./iommu.js";
import { scaling } from "./scaling.js";
import { nvme } from "./nvme.js";
import { kernel } from "./kernel.js";
import { mdl } from "./mdl.js";
import { sglist } from "./sglist.js";
import { irpStack } from "./irp-stack.js";
import { iocp } from "./iocp.js";
import { storage } from "./storage.js";
import { longRun } from "./long-run.js";
import { memory } from "./memory.js";

/** Every benchmark, in the order they run. */
export const BENCHMARKS: Benchmark[] = [events, scaling, dma, iommu, nvme, mmio, ioctl, kernel, mdl, sglist, irpStack, iocp, storage, longRun, memory];

/** Processes each benchmark runs in, by default. */
const DEFAULT_PROCESSES = 3;

interface Args {
  only: string[] | null;
  repeats: number;
  processes: number;
  scale: number;
  out: string;
  compare: string | null;
  /** Set in a child process: the one benchmark it runs. */
  child: string | null;
}

function usage(message: string): never {
  console.error(`${message}\nusage: node dist/bench/index.js [--only ${BENCHMARKS.map((b) => b.name).join("|")}[,...]] [--repeats N] [--processes N] [--scale X] [--out FILE] [--compare FILE]`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    only: null, repeats: DEFAULT_REPEATS, processes: DEFAULT_PROCESSES, scale: 1,
    out: fileURLToPath(new URL("./results.json", import.meta.url)), compare: null, child: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    switch (flag) {
      case "--only": args.only = value().split(",").filter(Boolean); break;
      case "--repeats": args.repeats = Number(value()); break;
      case "--processes": args.processes = Number(value()); break;
      case "--scale": args.scale = Number(value()); break;
      case "--out": args.out = value(); break;
      case "--compare": args.compare = value(); break;
      case "--child": args.child = value(); break;
      case "--help": case "-h": usage("Runs the wdmsim benchmarks.");
      default: usage(`unknown argument ${a}`);
    }
  }
  if (!Number.isInteger(args.repeats) || args.repeats < 1) usage("--repeats must be a positive integer");
  if (!Number.isInteger(args.processes) || args.processes < 1) usage("--processes must be a positive integer");
  if (!(args.scale > 0)) usage("--scale must be a positive number");
  for (const name of [...(args.only ?? []), ...(args.child ? [args.child] : [])]) {
    if (!BENCHMARKS.some((b) => b.name === name)) usage(`unknown benchmark ${name}`);
  }
  if (args.compare && !existsSync(args.compare)) usage(`--compare: no such file ${args.compare}`);
  return args;
}

/** Child side: runs one benchmark and writes its rows as one JSON line on stdout. */
async function runChild(args: Args): Promise<void> {
  const b = BENCHMARKS.find((x) => x.name === args.child)!;
  const rows = await b.run({ repeats: args.repeats, scale: args.scale });
  process.stdout.write(JSON.stringify(rows) + "\n");
}

/** Runs benchmark `name` in a new process and returns its rows. */
function runInProcess(name: string, args: Args): Row[] {
  const script = fileURLToPath(import.meta.url);
  // --expose-gc: a benchmark that reads the heap collects garbage first.
  const r = spawnSync(process.execPath, [...process.execArgv, "--expose-gc", script, "--child", name, "--repeats", String(args.repeats), "--scale", String(args.scale)], {
    encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`benchmark ${name} failed (exit ${r.status ?? r.signal})`);
  const last = r.stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(last) as Row[];
}

/** One row from the same row of every process. */
function combine(group: string, perProcess: Row[]): SuiteRow {
  const first = perProcess[0];
  const ratios = perProcess.map((r) => r.ratio);
  return {
    ...first,
    group,
    value: median(perProcess.map((r) => r.value)),
    baselineValue: median(perProcess.map((r) => r.baselineValue)),
    ratio: median(ratios),
    ratioLow: Math.min(...ratios),
    ratioHigh: Math.max(...ratios),
    processRatios: ratios,
    samples: perProcess.flatMap((r) => r.samples),
    baselineSamples: perProcess.flatMap((r) => r.baselineSamples),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.child) return runChild(args);
  const selected = BENCHMARKS.filter((b) => !args.only || args.only.includes(b.name));
  const perBenchmark = new Map<string, Row[][]>(selected.map((b) => [b.name, []]));
  const durations: Record<string, number> = {};
  const started = now();
  for (let p = 0; p < args.processes; p++) {
    for (const b of selected) {
      process.stderr.write(`bench: ${b.name} (${b.description}), process ${p + 1}/${args.processes} ...`);
      const t0 = now();
      perBenchmark.get(b.name)!.push(runInProcess(b.name, args));
      const seconds = (now() - t0) / 1000;
      durations[b.name] = (durations[b.name] ?? 0) + seconds;
      process.stderr.write(` ${seconds.toFixed(1)} s\n`);
    }
  }
  const totalSeconds = (now() - started) / 1000;
  const rows: SuiteRow[] = [];
  for (const [name, runs] of perBenchmark) {
    runs[0].forEach((_, i) => rows.push(combine(name, runs.map((r) => r[i]))));
  }

  console.log(markdownTable(rows));
  console.log();
  console.log(`Values: median over ${args.processes} processes of each process's median of ${args.repeats} timed repeats after a warm-up, value and baseline interleaved. ratio: median over processes of the per-process ratio (the median of per-repeat value / baseline), with the lowest and highest process beside it (higher favours the value side; where the unit is a time, ns or µs, lower does).`);
  console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? "unknown CPU"} x${os.cpus().length}, ${totalSeconds.toFixed(1)} s.`);
  if (rows.some((r) => r.simulated)) {
    console.log();
    console.log(simulatedTable(rows));
    console.log();
    console.log("Simulated time is deterministic (the machine's own clock); host ns/op follows from the value column. sim/host above 1: faster than real time.");
  }

  const results: Results = {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${process.arch}`,
    cpu: os.cpus()[0]?.model ?? "unknown",
    cpus: os.cpus().length,
    repeats: args.repeats,
    processes: args.processes,
    scale: args.scale,
    statistic: "median over processes of the per-process median",
    ratio: "median over processes of the per-process median of value / baseline (pairs measured back to back); ratioLow / ratioHigh: lowest and highest process",
    seconds: { total: totalSeconds, ...durations },
    results: rows.map((r) => (r.simulated ? { ...r, simulated: { ...r.simulated, hostNs: hostNsPerOp(r) } } : r)),
  };
  writeFileSync(args.out, JSON.stringify(results, null, 2) + "\n");
  process.stderr.write(`bench: wrote ${args.out}\n`);
  if (args.compare) {
    console.log();
    console.log(compareTable(JSON.parse(readFileSync(args.compare, "utf8")) as Results, results, args.compare));
  }
}

await main();
