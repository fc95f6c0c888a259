// `wdmsim run --workload fio`: the flags, and a bad job file refused with fio's message,
// the file and the line, exit code 2, before anything boots.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const tmp = mkdtempSync(join(tmpdir(), "wdmsim-fio-"));

function wdmsim(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, "bin/wdmsim.js"), ...args], { cwd: root, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("wdmsim run --workload fio", () => {
  it("refuses a bad job file with fio's message, file:line, and exit code 2", () => {
    const file = join(tmp, "bad.fio");
    writeFileSync(file, "[global]\nfilename=\\\\.\\PhysicalDrive0\n\n[job]\nrw=sideways\n");
    const r = wdmsim("run", "--machine", "storage", "--workload", "fio", "--job", file);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`${file}:5: fio: failed parsing rw=sideways (valid values: read, write, randread, randwrite, rw, readwrite, randrw)`);
    expect(r.stdout).toBe("");
  });

  it("needs --job, a readable file, a machine with a disk, and a known --output-format", () => {
    const noJob = wdmsim("run", "--machine", "storage", "--workload", "fio");
    expect(noJob.code).toBe(2);
    expect(noJob.stderr).toContain("the fio workload needs a job file: --job FILE");
    const missing = wdmsim("run", "--machine", "storage", "--workload", "fio", "--job", join(tmp, "nope.fio"));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`fio: unable to open '${join(tmp, "nope.fio")}' job file`);
    const noDisk = wdmsim("run", "--machine", "default", "--workload", "fio", "--job", "firmware/jobs/randread.fio");
    expect(noDisk.code).toBe(2);
    expect(noDisk.stderr).toContain('machine "default" has no disk');
    const format = wdmsim("run", "--machine", "storage", "--workload", "fio", "--job", "firmware/jobs/randread.fio", "--output-format", "terse");
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('--output-format takes normal or json, not "terse"');
    const notFio = wdmsim("run", "--job", "firmware/jobs/randread.fio");
    expect(notFio.code).toBe(2);
    expect(notFio.stderr).toContain("--job and --output-format are options of the fio workload");
  });

  it("runs a job on the storage machine's NVMe disk: fio's report and the interrupt view, or fio's JSON only, the same bytes for the same seed", () => {
    const file = join(tmp, "short.fio");
    writeFileSync(file, "[global]\nfilename=\\\\.\\PhysicalDrive0\nioengine=windowsaio\ndirect=1\nthread\ntime_based\nruntime=2ms\n\n[rr]\nrw=randread\nbs=4k\niodepth=8\n");
    const normal = wdmsim("run", "--workload", "fio", "--job", file, "--seed", "3");
    expect(normal.code).toBe(0);
    for (const text of ["rr: (g=0): rw=randread, bs=(R) 4096B-4096B", "fio-3.36", "Starting 1 thread", "rr: (groupid=0, jobs=1): err= 0:", "  read: IOPS=",
      "    clat percentiles (", "  IO depths    :", "Run status group 0 (all jobs):", "Interrupts (", "stornvme", "Simulated time"]) {
      expect(normal.stdout).toContain(text);
    }
    const a = wdmsim("run", "--workload", "fio", "--job", file, "--seed", "3", "--output-format", "json");
    const b = wdmsim("run", "--workload", "fio", "--job", file, "--seed", "3", "--output-format", "json");
    expect(a.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    const doc = JSON.parse(a.stdout);
    expect(doc["fio version"]).toBe("fio-3.36");
    expect(doc.jobs[0].read.total_ios).toBeGreaterThan(0);
    expect(doc.jobs[0].read.clat_ns.percentile["99.000000"]).toBeGreaterThan(0);
    expect(doc.interrupts.interrupts).toBeGreaterThan(0);
  });

  it("every sample job file parses", async () => {
    const { loadFioJobFile } = await import("../../src/workloads/fio/fio.js");
    for (const name of ["randread", "seqread", "randrw", "verify"]) {
      const set = loadFioJobFile(join(root, "firmware/jobs", `${name}.fio`), 4);
      expect(set.jobs.length).toBeGreaterThan(0);
      expect(set.warnings).toEqual([]);
    }
  });
});
