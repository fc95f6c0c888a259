/**
 * Golden traces: the SHA-256 of the Chrome trace each main-job workload writes, so a
 * change meant to keep behaviour (an optimisation, a refactor) can show that every trace
 * is byte-identical to the recorded one.
 *
 *   tsx scripts/golden-traces.ts            compare with test/golden/traces.json (exit 1 on a difference)
 *   tsx scripts/golden-traces.ts --update   record the current digests
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** Where the recorded digests live. */
export const GOLDEN_FILE = join(ROOT, "test/golden/traces.json");

/** The runs whose traces are recorded: name → `wdmsim run` arguments. */
export const GOLDEN_RUNS: Record<string, string[]> = {
  edu: ["--workload", "edu", "--seed", "7"],
  toaster: ["--workload", "toaster", "--seed", "7"],
  "fio-randread": ["--workload", "fio", "--job", "firmware/jobs/randread.fio"],
  "fio-randrw": ["--workload", "fio", "--job", "firmware/jobs/randrw.fio"],
  "fio-seqread": ["--workload", "fio", "--job", "firmware/jobs/seqread.fio"],
  "fio-verify": ["--workload", "fio", "--job", "firmware/jobs/verify.fio"],
};

/** Runs one golden run and returns its trace's SHA-256 (hex); throws with the CLI's output if it fails. */
export function traceDigest(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), "wdmsim-golden-"));
  try {
    const file = join(dir, "trace.json");
    const r = spawnSync(process.execPath, [join(ROOT, "bin/wdmsim.js"), "run", ...GOLDEN_RUNS[name], "--trace", file], { cwd: ROOT, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`wdmsim run ${GOLDEN_RUNS[name].join(" ")} exited ${r.status}:\n${r.stderr}${r.stdout}`);
    return createHash("sha256").update(readFileSync(file)).digest("hex");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The recorded digests, name → SHA-256. */
export function recordedDigests(): Record<string, string> {
  return JSON.parse(readFileSync(GOLDEN_FILE, "utf8"));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const update = process.argv.includes("--update");
  const recorded = update ? {} : recordedDigests();
  const now: Record<string, string> = {};
  let differ = 0;
  for (const name of Object.keys(GOLDEN_RUNS)) {
    now[name] = traceDigest(name);
    const same = update || recorded[name] === now[name];
    if (!same) differ++;
    console.log(`${name.padEnd(14)} ${now[name].slice(0, 16)}  ${update ? "recorded" : same ? "identical" : `DIFFERS (recorded ${String(recorded[name]).slice(0, 16)})`}`);
  }
  if (update) writeFileSync(GOLDEN_FILE, JSON.stringify(now, null, 2) + "\n");
  process.exitCode = differ ? 1 : 0;
}
