/**
 * The benchmark suite: `npm run bench` runs every benchmark, prints one markdown table and
 * writes bench/results.json. Every row compares with a baseline measured in the same
 * process and run; each measurement has a warm-up repeat, then several timed repeats
 * with the two sides interleaved. Values are medians; the ratio is the median of the
 * per-repeat ratios value / baseline (higher favours the value side).
 *
 *   tsx bench/index.ts [--only NAME[,NAME...]] [--repeats N] [--scale X] [--out FILE]
 *
 * NAME is one of the benchmark names below; --scale multiplies the work per repeat
 * (0.1 for a quick look); --out changes where the JSON goes.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import os from "node:os";
import { DEFAULT_REPEATS, hostNsPerOp, markdownTable, now, simulatedTable, type Benchmark, type Row } from "./lib.js";
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

/** Every benchmark, in the order they run. */
export const BENCHMARKS: Benchmark[] = [events, scaling, dma, iommu, nvme, mmio, ioctl, kernel, mdl, sglist, irpStack, iocp, storage, (await import("./memory.js")).memory];

interface Args {
  only: string[] | null;
  repeats: number;
  scale: number;
  out: string;
}

function usage(message: string): never {
  console.error(`${message}\nusage: tsx bench/index.ts [--only ${BENCHMARKS.map((b) => b.name).join("|")}[,...]] [--repeats N] [--scale X] [--out FILE]`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const args: Args = { only: null, repeats: DEFAULT_REPEATS, scale: 1, out: fileURLToPath(new URL("./results.json", import.meta.url)) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    switch (flag) {
      case "--only": args.only = value().split(",").filter(Boolean); break;
      case "--repeats": args.repeats = Number(value()); break;
      case "--scale": args.scale = Number(value()); break;
      case "--out": args.out = value(); break;
      case "--help": case "-h": usage("Runs the wdmsim benchmarks.");
      default: usage(`unknown argument ${a}`);
    }
  }
  if (!Number.isInteger(args.repeats) || args.repeats < 1) usage("--repeats must be a positive integer");
  if (!(args.scale > 0)) usage("--scale must be a positive number");
  for (const name of args.only ?? []) {
    if (!BENCHMARKS.some((b) => b.name === name)) usage(`unknown benchmark ${name}`);
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const selected = BENCHMARKS.filter((b) => !args.only || args.only.includes(b.name));
  const rows: (Row & { group: string })[] = [];
  const durations: Record<string, number> = {};
  const started = now();
  for (const b of selected) {
    process.stderr.write(`bench: ${b.name} (${b.description}) ...`);
    const t0 = now();
    for (const r of await b.run({ repeats: args.repeats, scale: args.scale })) rows.push({ group: b.name, ...r });
    durations[b.name] = (now() - t0) / 1000;
    process.stderr.write(` ${durations[b.name].toFixed(1)} s\n`);
  }
  const totalSeconds = (now() - started) / 1000;

  console.log(markdownTable(rows));
  console.log();
  console.log(`Values: medians of ${args.repeats} timed repeats after a warm-up, value and baseline interleaved. ratio: median of the per-repeat value / baseline (higher favours the value side; where the unit is a time, ns or µs, lower does).`);
  console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? "unknown CPU"} x${os.cpus().length}, ${totalSeconds.toFixed(1)} s.`);
  if (rows.some((r) => r.simulated)) {
    console.log();
    console.log(simulatedTable(rows));
    console.log();
    console.log("Simulated time is deterministic (the machine's own clock); host ns/op follows from the value column. sim/host above 1: faster than real time.");
  }

  const results = {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${process.arch}`,
    cpu: os.cpus()[0]?.model ?? "unknown",
    cpus: os.cpus().length,
    repeats: args.repeats,
    scale: args.scale,
    statistic: "median",
    ratio: "median over repeats of value / baseline (pairs measured back to back)",
    seconds: { total: totalSeconds, ...durations },
    results: rows.map((r) => (r.simulated ? { ...r, simulated: { ...r.simulated, hostNs: hostNsPerOp(r) } } : r)),
  };
  writeFileSync(args.out, JSON.stringify(results, null, 2) + "\n");
  process.stderr.write(`bench: wrote ${args.out}\n`);
}

await main();
