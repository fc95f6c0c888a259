/**
 * !verifier: Driver Verifier's options on this machine as verifier flags (the standard
 * settings and the additional options, each with its flag value, [X] when on) and its
 * statistics: pool allocations by drivers, those special pool served, and the
 * allocations Low Resources Simulation failed on purpose, in all and per driver.
 */
import { lowResourcesOf } from "../verifier/low-resources.js";
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
];

/** Parses !verifier's arguments (none). */
export function parseVerifier(words: string[]): null {
  expectAtMost(words, 0, USAGE);
  return null;
}

/** Runs !verifier. */
export function verifier(ctx: InspectContext): string {
  const k = ctx.k;
  const kernel = k.machine.description.kernel;
  const lowResources = lowResourcesOf(k);
  const on = new Set<number>();
  if (k.verifier) {
    // What the verifier checks whenever it is on here: the automatic, pool tracking, I/O, DMA, miscellaneous and DDI rules.
    for (const flag of [0x00000000, 0x00000008, 0x00000010, 0x00000080, 0x00000800, 0x00020000]) on.add(flag);
    if (ctx.mm.pool.special) on.add(0x00000001);
    if (kernel.trimming) on.add(0x00000002);
    if (lowResources) on.add(0x00000004);
  }
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
  out.push("Summary of All Verifier Statistics", "",
    stat("Pool Allocations Succeeded", attempted),
    stat("Pool Allocations Succeeded SpecialPool", ctx.mm.pool.specialAllocations),
    stat("Resource Allocations Failed Deliberately", injected));
  if (lowResources) {
    const o = lowResources.options;
    out.push("", `Low resources simulation: probability ${o.probability}, after ${o.delaySeconds} s, drivers ${o.drivers?.join(", ") ?? "all"}, pool tags ${o.poolTags?.join(", ") ?? "all"}`);
    for (const [driver, considered] of [...lowResources.considered.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      out.push(`  ${driver.padEnd(20)} allocations ${String(considered).padStart(8)}   failed deliberately ${String(lowResources.injected.get(driver) ?? 0).padStart(8)}`);
    }
  }
  return out.join("\n");
}
