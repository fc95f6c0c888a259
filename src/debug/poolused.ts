/**
 * !poolused [Flags [TagString]]: pool use by tag: for nonpaged and paged pool, the
 * allocations still outstanding and the bytes they hold (bytes as requested), with the
 * drivers that allocated under the tag. Flags: 0x1 verbose (also the allocations and
 * frees so far), 0x2 sort by nonpaged bytes, 0x4 sort by paged bytes (not both);
 * default: sorted by tag. TagString is case-sensitive, four characters, with * for any
 * characters and ? for one ("Ed*", "Dev?"); quote a tag that ends in blanks ("Irp ").
 */
import type { PoolCounts, PoolTagUsage } from "../mm/pool.js";
import { InspectError, expectAtMost, parseFlags } from "./args.js";
import type { InspectContext } from "./context.js";

const USAGE = "!poolused [Flags [TagString]]  (Flags 0x1 verbose, 0x2 sort by nonpaged use, 0x4 sort by paged use)";
const VERBOSE = 0x1;
const SORT_NONPAGED = 0x2;
const SORT_PAGED = 0x4;
const SESSION = 0x8;

/** A parsed !poolused command. */
export interface PoolusedArgs {
  flags: number;
  tag?: RegExp;
}

/** Parses !poolused's arguments. */
export function parsePoolused(words: string[]): PoolusedArgs {
  expectAtMost(words, 2, USAGE);
  const flags = words.length > 0 ? parseFlags(words[0], "!poolused Flags", 0xF) : 0;
  if ((flags & SORT_NONPAGED) && (flags & SORT_PAGED)) throw new InspectError("!poolused: flags 0x2 (sort by nonpaged use) and 0x4 (sort by paged use) cannot be used together");
  if (flags & SESSION) throw new InspectError("!poolused: flag 0x8 shows session pool, and this machine has none");
  if (words.length < 2) return { flags };
  const text = words[1];
  if (!text.includes("*") && text.length !== 4) {
    throw new InspectError(`!poolused: TagString "${text}" must be four characters unless it uses * (quote a tag that ends in blanks: "Irp ")`);
  }
  const pattern = [...text].map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&"))).join("");
  return { flags, tag: new RegExp(`^${pattern}$`) };
}

const outstanding = (c: PoolCounts) => c.allocations - c.frees;
const n = (v: number, width: number) => String(v).padStart(width);

function row(label: string, u: { nonPaged: PoolCounts; paged: PoolCounts }, verbose: boolean): string {
  const part = (c: PoolCounts, first: boolean) => verbose
    ? `${n(c.allocations, first ? 9 : 10)}${n(c.frees, 9)}${n(outstanding(c), 9)}${n(c.bytes, 9)}`
    : `${n(outstanding(c), first ? 9 : 10)}${n(c.bytes, 9)}`;
  return ` ${label.padEnd(4)}${part(u.nonPaged, true)}${part(u.paged, false)}`;
}

/** Runs !poolused. */
export function poolused(ctx: InspectContext, args: PoolusedArgs): string {
  const verbose = (args.flags & VERBOSE) !== 0;
  let usage: PoolTagUsage[] = ctx.mm.pool.usageByTag();
  if (args.tag) usage = usage.filter((u) => args.tag!.test(u.tag));
  let sorting = "Tag";
  if (args.flags & SORT_NONPAGED) {
    usage.sort((a, b) => b.nonPaged.bytes - a.nonPaged.bytes);
    sorting = "NonPaged Pool Consumed";
  } else if (args.flags & SORT_PAGED) {
    usage.sort((a, b) => b.paged.bytes - a.paged.bytes);
    sorting = "Paged Pool Consumed";
  }
  const out = [`   Sorting by  ${sorting}`, "", "  Pool Used:"];
  if (verbose) {
    const columns = (first: number) => `${"Allocs".padStart(first)}${"Frees".padStart(9)}${"Diff".padStart(9)}${"Used".padStart(9)}`;
    out.push(`            NonPaged${" ".repeat(31)}Paged`, ` ${"Tag".padEnd(4)}${columns(9)}${columns(10)}`);
  } else {
    out.push("            NonPaged            Paged", " Tag    Allocs     Used    Allocs     Used");
  }
  const total = { nonPaged: { allocations: 0, frees: 0, bytes: 0 }, paged: { allocations: 0, frees: 0, bytes: 0 } };
  for (const u of usage) {
    out.push(`${row(u.tag, u, verbose)} Allocated by ${u.drivers.join(", ")}`);
    for (const kind of ["nonPaged", "paged"] as const) {
      total[kind].allocations += u[kind].allocations;
      total[kind].frees += u[kind].frees;
      total[kind].bytes += u[kind].bytes;
    }
  }
  out.push(row("TOTAL", total, verbose).replace(/^ TOTAL /, " TOTAL"));
  return out.join("\n");
}
