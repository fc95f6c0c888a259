// `wdmsim explore`: runs a workload's plain schedule, then explored ones, stops at the
// first failure with the bug check and the exact command that replays it; bad flags are
// refused with what to fix.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const root = join(import.meta.dirname, "../..");

function wdmsim(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, "bin/wdmsim.js"), ...args], { cwd: root, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("wdmsim explore", () => {
  it("finds the race, prints its bug check and a replay command that reproduces it exactly", () => {
    const r = wdmsim("explore", "--workload", "race-cancel", "--runs", "30");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/plain run: \d+ preemption points in driver routines +passed/);
    expect(r.stdout).toContain("MULTIPLE_IRP_COMPLETE_REQUESTS (44)");
    const replay = /Replay it exactly with:\n {2}wdmsim (run .*)\n/.exec(r.stdout);
    expect(replay).not.toBeNull();
    const stop = /TIME: +.*\n/.exec(r.stdout)![0];
    const again = wdmsim(...replay![1].split(" "));
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("MULTIPLE_IRP_COMPLETE_REQUESTS (44)");
    expect(again.stderr).toContain("SYMBOL_NAME:   racecancel!RaceCancelIrp");
    expect(again.stderr).toContain(stop);
  }, 120_000);

  it("reports no failure for a correct driver and exits 0; --json gives the report as data", () => {
    const r = wdmsim("explore", "--workload", "edu", "--runs", "2", "--json");
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.plain.outcome).toBe("passed");
    expect(report.runs).toBe(2);
    expect(report.failure).toBeNull();
    expect(report.schedule.points).toBeGreaterThan(0);
  }, 120_000);

  it("explores a user's test module (--test) and replays it with the same --test", () => {
    const dir = mkdtempSync(join(tmpdir(), "wdmsim-explore-test-"));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    const races = pathToFileURL(join(root, "dist/src/workloads/races.js")).href;
    writeFileSync(join(dir, "count.ts"), `import { runCounterRace } from ${JSON.stringify(races)};
export default async function (machine: unknown) {
  return (await runCounterRace(machine as never)).ok;
}
`);
    writeFileSync(join(dir, "false.ts"), "export default async function () { return false; }\n");
    const r = wdmsim("explore", "--test", join(dir, "count.ts"), "--runs", "30");
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("KMODE_EXCEPTION_NOT_HANDLED (1e)");
    const replay = /Replay it exactly with:\n {2}wdmsim (run --test .*)\n/.exec(r.stdout);
    expect(replay).not.toBeNull();
    const again = wdmsim(...replay![1].split(" "));
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("SYMBOL_NAME:   racecount!RaceCountPollDpc");
    // A test that fails on the machine's own schedule is not a race.
    const plain = wdmsim("explore", "--test", join(dir, "false.ts"), "--runs", "3");
    expect(plain.status).toBe(1);
    expect(plain.stderr).toContain("the workload fails on the machine's own schedule already (the workload's checks failed)");
    const missing = wdmsim("explore", "--test", join(dir, "nothere.ts"));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("nothere.ts: the module cannot be imported");
  }, 120_000);

  it("refuses bad flags, saying what to fix (exit 2)", () => {
    expect(wdmsim("explore", "--runs", "many").stderr).toContain('--runs takes a whole number from 0 to 1000000, not "many"');
    expect(wdmsim("explore", "--workload", "fio").stderr).toContain("the fio workload is not one of them");
    const r = wdmsim("run", "--workload", "race-count", "--schedule-seed", "3");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--schedule-seed needs --schedule-points");
    expect(wdmsim("run", "--schedule-seed", "3", "--schedule-points", "10", "--max-delay", "soon").stderr).toContain("--max-delay takes a positive duration");
  }, 60_000);
});
