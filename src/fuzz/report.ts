/** What a fuzz run found and how to print it. */

/** One finding: what broke, and the seed and operation index that reproduce it. */
export interface FuzzFinding {
  /** "device:edu", "device:nvme" or "kernel". */
  target: string;
  /** Seed of the run. */
  seed: number;
  /** Index of the operation (from 0) during which it happened. */
  op: number;
  /** "host-exception", "invariant", "memory-guard", "bugcheck" or "hang". */
  kind: string;
  /** One line saying what happened. */
  message: string;
  /** Who is to blame: "core", "nt" (the kernel) or a driver's service name. */
  blame: string;
  /** For bug checks: code and parameters, as printed by WinDbg. */
  bugCheck?: { code: number; name: string; parameters: string[] };
  /** What the machine reported (threads waiting, requests not completed, ...) or the host stack. */
  details?: string;
  /** Times the same finding came back later in the run (1 when it did not). */
  repeats?: number;
}

/** The command line that reproduces `f`. */
export function reproduceCommand(f: FuzzFinding): string {
  if (f.target.startsWith("device:")) return `npm run fuzz -- --device ${f.target.slice(7)} --seed ${f.seed} --ops ${f.op + 1}`;
  return `npm run fuzz -- --kernel --seed ${f.seed} --kernel-ops ${f.op + 1}`;
}

/** A finding as text lines. */
export function formatFinding(f: FuzzFinding): string[] {
  const again = f.repeats && f.repeats > 1 ? ` (seen ${f.repeats} times)` : "";
  const lines = [`  FINDING [${f.kind}] ${f.target} seed ${f.seed} operation ${f.op}: ${f.message}${again}`, `    blamed on: ${f.blame}`];
  if (f.bugCheck) lines.push(`    bug check 0x${f.bugCheck.code.toString(16).toUpperCase()} ${f.bugCheck.name} (${f.bugCheck.parameters.join(", ")})`);
  lines.push(`    reproduce: ${reproduceCommand(f)}`);
  return lines;
}
