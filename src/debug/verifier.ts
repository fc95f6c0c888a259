/**
 * !verifier: Driver Verifier's options on this machine as verifier flags (the standard
 * settings and the additional options, each with its flag value, [X] when on) and its
 * statistics: Force IRQL checking's raises and trims (in all and per driver), pool
 * allocations by drivers, those special pool served, the allocations Low Resources
 * Simulation failed on purpose, in all, per driver and per routine, with its log, and an
 * explored schedule's preemptions and late deliveries (delay fuzzing).
 */
import { lowResourcesOf } from "../verifier/low-resources.js";
import { SCHEDULE_DEFAULTS } from "../verifier/schedule.js";
import { expectAtMost } from "./args.js";
import type { InspectContext } from "./context.js";

const USAGE = "!verifier  (no arguments)";

/** Verifier flags (verifier /flags), as Driver Verifier documents them. */
const STANDARD: readonly [number, string][] = [
  [0x00000000, "Automatic Checks"],
  [0x00000001, "Special pool"],
  [0x00000002, "Force IRQL checking"],
  [0x00000008, "Pool tracking"],
  [0x00000010, "I/O verification"],
  [0x00000020, "Deadlock detection"],
  [0x00000080, "DMA checking"],
  [0x00000100, "Security checks"],
  [0x00000800, "Miscellaneous checks"],
  [0x00020000, "DDI compliance checking"],
];
const ADDITIONAL: readonly [number, string][] = [
  [0x00000004, "Randomized low resources simulation"],
  [0x00040000, "Systematic low resources simulation"],
  [0x00800000, "Kernel synchronization delay fuzzing"],
];

/** Parses !verifier's arguments (none). */
export function parseVerifier(words: string[]): null {
  expectAtMost(words, 0, USAGE);
  return null;
}

/** Runs !verifier. */
export function verifier(ctx: InspectContext): string {
  const k = ctx.k;
  const lowResources = lowResourcesOf(k);
  const on = new Set<number>();
  if (k.verifier) {
    // What the verifier checks whenever it is on here: the automatic, pool tracking, I/O, DMA, miscellaneous and DDI rules.
    for (const flag of [0x00000000, 0x00000008, 0x00000010, 0x00000080, 0x00000800, 0x00020000]) on.add(flag);
    if (ctx.mm.pool.special) on.add(0x00000001);
    if (ctx.mm.trimming) on.add(0x00000002);
    if (lowResources) on.add(lowResources.options.systematic ? 0x00040000 : 0x00000004);
  }
  // An explored schedule (wdmsim explore, --schedule-seed) is this machine's delay fuzzing.
  if (k.explorer !== null) on.add(0x00800000);
  const level = [...on].reduce((a, f) => a | f, 0) >>> 0;
  const hex = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, "0")}`;
  const flagLines = (list: readonly [number, string][]) => list.map(([f, name]) => `    [${on.has(f) ? "X" : " "}] (${hex(f)}) ${name}`);
  const out = [`Verify Flags Level ${hex(level)}`, "", "  STANDARD FLAGS:", ...flagLines(STANDARD), "", "  ADDITIONAL FLAGS:", ...flagLines(ADDITIONAL), "",
    "    [X] Indicates flag is enabled", ""];
  if (!k.verifier) return [...out, "Driver Verifier is off (the machine file's kernel.verifier)."].join("\n");
  let attempted = 0;
  for (const u of ctx.mm.pool.usageByDriver()) if (u.driver !== "nt") attempted += u.nonPaged.allocations + u.paged.allocations;
  const injected = lowResources ? [...lowResources.injected.values()].reduce((a, b) => a + b, 0) : 0;
  const stat = (name: string, v: number) => `  ${name.padEnd(42)}${hex(v)}`;
  const irql = [...ctx.mm.irqlChecking.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  let raises = 0;
  let trims = 0;
  for (const [driver, c] of irql) {
    if (driver !== "nt") raises += c.raises;
    trims += c.trims;
  }
  out.push("Summary of All Verifier Statistics", "",
    stat("RaiseIrqls", raises),
    stat("Trims", trims),
    "",
    stat("Pool Allocations Succeeded", attempted),
    stat("Pool Allocations Succeeded SpecialPool", ctx.mm.pool.specialAllocations),
    stat("Resource Allocations Failed Deliberately", injected));
  if (ctx.mm.trimming && irql.length > 0) {
    out.push("", "Force IRQL checking, by driver (raises to DISPATCH_LEVEL or above, and the trims they made):");
    for (const [driver, c] of irql) out.push(`  ${driver.padEnd(20)} IRQL raises ${String(c.raises).padStart(8)}   trims ${String(c.trims).padStart(8)}`);
  }
  if (k.explorer !== null) {
    const e = k.explorer;
    out.push("", `Kernel synchronization delay fuzzing: schedule seed ${e.options.seed}, ${e.options.preemptions ?? SCHEDULE_DEFAULTS.preemptions} preemptions over ${e.options.points ?? 0} points`,
      `  preemption points passed ${String(e.points).padStart(8)}   preemptions ${String(e.preempted).padStart(8)}   late DPCs and work items ${String(e.late).padStart(8)}`);
  }
  if (lowResources) {
    const o = lowResources.options;
    const how = o.systematic ? "systematic (each call site fails once)" : `probability ${o.probability}`;
    out.push("", `Low resources simulation: ${how}, after ${o.delaySeconds} s, drivers ${o.drivers?.join(", ") ?? "all"}, pool tags ${o.poolTags?.join(", ") ?? "all"}`);
    for (const [driver, considered] of [...lowResources.considered.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      out.push(`  ${driver.padEnd(20)} allocations ${String(considered).padStart(8)}   failed deliberately ${String(lowResources.injected.get(driver) ?? 0).padStart(8)}`);
    }
    const byRoutine = [...lowResources.injectedByRoutine.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (byRoutine.length > 0) {
      out.push("", "Failed deliberately, by routine:");
      for (const [routine, n] of byRoutine) out.push(`  ${routine.padEnd(40)} ${String(n).padStart(8)}`);
    }
    out.push("", "Fault injection trace log (latest first):");
    if (lowResources.log.length === 0) out.push("  Driver Verifier didn't inject any faults.");
    for (let i = lowResources.log.length - 1; i >= 0; i--) {
      const f = lowResources.log[i];
      out.push(`  ${(f.timePs / 1e6).toFixed(3).padStart(14)} us  ${f.driver}!${f.caller} -> ${f.routine} failed`);
    }
  }
  return out.join("\n");
}
