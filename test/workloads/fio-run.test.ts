// fio jobs run end to end on the RAM disk: the report's figures against the ones computed
// from each I/O's own timestamps and from the disk's side, queue depth as the disk sees it,
// byte-identical JSON for a seed, pinned threads, verify finding a corrupted block, the
// sync engine, group reporting and stonewall.
import { describe, expect, it } from "vitest";
import { boot } from "../../src/pnp/boot.js";
import { Machine } from "../../src/machine/machine.js";
import { loadMachine } from "../../src/machine/firmwareFiles.js";
import { ramDisk, type RamDisk, type RamDiskOptions } from "../support/ramdisk.js";
import { runFio, type FioRunResult } from "../../src/workloads/fio/fio.js";
import { resolveJobFile } from "../../src/workloads/fio/options.js";
import { formatFioJson } from "../../src/workloads/fio/report-json.js";
import { formatFioNormal } from "../../src/workloads/fio/report-normal.js";
import { platIndex, platValue, PLAT_NR } from "../../src/workloads/fio/histogram.js";
import { DEFAULT_PERCENTILES } from "../../src/workloads/fio/options.js";
import { FIO_VERIFY_FAILURES_LOGGED } from "../../src/workloads/fio/job.js";

const GLOBAL = "[global]\nfilename=\\\\.\\PhysicalDrive0\nioengine=windowsaio\ndirect=1\nthread\n";

/** Boots the storage machine's processors and memory with a RAM disk and runs a job file on it. */
async function run(jobText: string, disk: RamDiskOptions = {}, seed = 1, traceIos = false): Promise<{ result: FioRunResult; disk: RamDisk; machine: Machine }> {
  // The storage machine's four processors, without its NVMe controller: the RAM disk is PhysicalDrive0.
  const description = loadMachine("storage");
  description.slots = description.slots.filter((s) => s.spec.model !== "nvme");
  description.seed = seed;
  const r = ramDisk({ sizeBytes: 4 << 20, ...disk });
  const machine = await boot(Machine.fromDescription(description), r.boot);
  const set = resolveJobFile(jobText, "test.fio", description.cpu.count);
  const result = await runFio(machine, set, { traceIos });
  return { result, disk: r.disk, machine };
}

function stats(values: number[]) {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, min: Math.min(...values), max: Math.max(...values), mean, sd };
}

describe("fio on the RAM disk", () => {
  it("reports what the I/Os' own timestamps and the disk say", async () => {
    const { result, disk } = await run(`${GLOBAL}[rr]\nrw=randread\nbs=4k\niodepth=8\nruntime=3ms\ntime_based\nbwavgtime=1\niopsavgtime=1\n`, { keepLog: true, latencyUs: 30, jitterUs: 20 }, 1, true);
    expect(result.ok).toBe(true);
    const job = result.jobs[0];
    const trace = job.trace!;
    const doc = JSON.parse(formatFioJson(result));
    const read = doc.jobs[0].read;
    const ns = (ps: number) => Math.round(ps / 1000);
    const clat = trace.map((t) => ns(t.reapPs - t.issuePs));
    const slat = trace.map((t) => ns(t.issuePs - t.startPs));
    const lat = trace.map((t) => ns(t.reapPs - t.startPs));
    for (const [name, values] of [["clat_ns", clat], ["slat_ns", slat], ["lat_ns", lat]] as const) {
      const s = stats(values);
      expect(read[name].N).toBe(s.n);
      expect(read[name].min).toBe(s.min);
      expect(read[name].max).toBe(s.max);
      expect(read[name].mean).toBeCloseTo(s.mean, 3);
      expect(read[name].stddev).toBeCloseTo(s.sd, 3);
    }
    // Percentiles: the bucket (fio's documented 64-per-power-of-two) of the sample at rank ceil(p N / 100).
    const sorted = [...clat].sort((a, b) => a - b);
    const bucketMiddle = (v: number) => {
      if (v < 128) return v;
      const width = 2 ** (BigInt(v).toString(2).length - 7);
      return Math.floor(v / width) * width + width / 2;
    };
    for (const p of DEFAULT_PERCENTILES) {
      expect(read.clat_ns.percentile[p.toFixed(6)]).toBe(bucketMiddle(sorted[Math.ceil((p / 100) * sorted.length) - 1]));
    }
    // Bytes, I/Os, runtime, bandwidth and IOPS as fio derives them.
    const bytes = trace.reduce((a, t) => a + t.bytes, 0);
    expect(read.io_bytes).toBe(bytes);
    expect(read.total_ios).toBe(trace.length);
    const runtimeMs = Math.ceil(Math.floor((job.endPs - job.startPs) / 1e6 - 0) / 1000);
    expect(read.runtime).toBeLessThanOrEqual(runtimeMs);
    expect(read.runtime).toBeGreaterThanOrEqual(3);
    expect(read.bw_bytes).toBe(Math.floor((bytes * 1000) / read.runtime));
    expect(read.bw).toBe(Math.floor(read.bw_bytes / 1024));
    expect(read.iops).toBeCloseTo((trace.length * 1000) / read.runtime, 6);
    // Bandwidth samples: one per full millisecond, each from the completions reaped in it.
    const start = job.startPs;
    const perMs = new Map<number, number>();
    for (const t of trace) {
      const interval = Math.ceil((t.reapPs - start) / 1e9) - 1;
      perMs.set(interval, (perMs.get(interval) ?? 0) + t.bytes);
    }
    const full = [...perMs.entries()].filter(([i]) => (i + 1) * 1e9 + start < Math.max(...trace.map((t) => t.reapPs))).map(([, b]) => Math.floor(Math.floor((b * 1000) / 1) / 1024));
    expect(read.bw_samples).toBe(full.length);
    expect(read.bw_min).toBe(Math.min(...full));
    expect(read.bw_max).toBe(Math.max(...full));
    // The disk saw each I/O between fio's issue start and its reaping, for the right place and size.
    expect(disk.reads).toBe(trace.length);
    expect(disk.log.length).toBe(trace.length);
    const byOffset = new Map(disk.log.map((r) => [r.offset, r]));
    for (const t of trace) {
      const d = byOffset.get(t.offset)!;
      expect(d.length).toBe(t.length);
      expect(d.arrivalPs).toBeGreaterThanOrEqual(t.startPs);
      expect(d.arrivalPs).toBeLessThanOrEqual(t.issuePs);
      expect(d.completionPs).toBeLessThanOrEqual(t.reapPs);
      expect(d.completionPs - d.arrivalPs).toBeGreaterThanOrEqual(disk.latencyAt(t.offset) * 1e6 - 1);
    }
    // Random map: no block read twice within the run (4 MiB = 1024 blocks, fewer I/Os than that).
    expect(new Set(trace.map((t) => t.offset)).size).toBe(trace.length);
    // The clat latency buckets add up to every I/O.
    const latUs = Object.values(doc.jobs[0].latency_us as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(latUs).toBeCloseTo(100, 1);
    const text = formatFioNormal(result);
    expect(text).toContain(`  read: IOPS=`);
    const pv = Object.values(read.clat_ns.percentile as Record<string, number>);
    const unit = Math.min(...pv) > 2000 && Math.max(...pv) > 99_999 ? "usec" : "nsec";
    expect(text).toContain(`    clat percentiles (${unit}):`);
    expect(text).toContain("\nRun status group 0 (all jobs):\n   READ: bw=");
  });

  it("keeps iodepth requests in flight at the disk", async () => {
    const { disk, result } = await run(`${GLOBAL}[qd]\nrw=randread\nbs=4k\niodepth=24\nruntime=1ms\ntime_based\n`, { latencyUs: 100 });
    expect(disk.maxInFlight).toBe(24);
    // Most requests arrive with 20 or more others in flight.
    const deep = disk.depthHistogram.slice(20).reduce((a, b) => a + (b ?? 0), 0);
    expect(deep / (disk.reads + disk.writes)).toBeGreaterThan(0.8);
    const doc = JSON.parse(formatFioJson(result));
    expect(doc.jobs[0].iodepth_level["16"] + doc.jobs[0].iodepth_level["32"]).toBeGreaterThan(90);
    const { disk: one } = await run(`${GLOBAL}[qd1]\nrw=randread\nbs=4k\niodepth=1\nruntime=1ms\ntime_based\n`, { latencyUs: 100 });
    expect(one.maxInFlight).toBe(1);
  });

  it("gives byte-identical JSON for the same seed, and other JSON for another seed", async () => {
    const job = `${GLOBAL}[rr]\nrw=randrw\nbssplit=4k/50:16k/50\niodepth=4\nruntime=1ms\ntime_based\nbwavgtime=1\n`;
    const a = formatFioJson((await run(job, { jitterUs: 40 }, 5)).result);
    const b = formatFioJson((await run(job, { jitterUs: 40 }, 5)).result);
    const c = formatFioJson((await run(job, { jitterUs: 40 }, 6)).result);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(a.startsWith('{\n  "fio version" : "fio-3.36",\n  "timestamp" : 0,\n  "timestamp_ms" : ')).toBe(true);
    // fio's layout and names.
    const doc = JSON.parse(a);
    expect(Object.keys(doc)).toEqual(["fio version", "timestamp", "timestamp_ms", "time", "global options", "jobs", "interrupts"]);
    expect(Object.keys(doc.jobs[0]).slice(0, 12)).toEqual(["jobname", "groupid", "job_start", "error", "eta", "elapsed", "job options", "read", "write", "trim", "sync", "job_runtime"]);
    expect(Object.keys(doc.jobs[0]).slice(12)).toEqual(["usr_cpu", "sys_cpu", "ctx", "majf", "minf", "iodepth_level", "iodepth_submit", "iodepth_complete", "latency_ns", "latency_us", "latency_ms"]);
    expect(Object.keys(doc.jobs[0].read)).toEqual(["io_bytes", "io_kbytes", "bw_bytes", "bw", "iops", "runtime", "total_ios", "short_ios", "drop_ios", "slat_ns", "clat_ns", "lat_ns",
      "bw_min", "bw_max", "bw_agg", "bw_mean", "bw_dev", "bw_samples", "iops_min", "iops_max", "iops_mean", "iops_stddev", "iops_samples"]);
    expect(Object.keys(doc.jobs[0].iodepth_level)).toEqual(["1", "2", "4", "8", "16", "32", ">=64"]);
    expect(Object.keys(doc.jobs[0].iodepth_submit)).toEqual(["0", "4", "8", "16", "32", "64", ">=64"]);
    expect(Object.keys(doc.jobs[0].latency_ms)).toEqual(["2", "4", "10", "20", "50", "100", "250", "500", "750", "1000", "2000", ">=2000"]);
    expect(doc.jobs[0]["job options"]).toEqual({ rw: "randrw", bssplit: "4k/50:16k/50", iodepth: "4", runtime: "1ms", time_based: "", bwavgtime: "1" });
    expect(doc["global options"].filename).toBe("\\\\.\\PhysicalDrive0");
    expect(a).toContain('"filename" : "\\\\\\\\.\\\\PhysicalDrive0"');
    expect(a).toMatch(/"iops" : \d+\.\d{6},/);
    expect(Object.keys(doc.jobs[0].read.clat_ns.percentile)[12]).toBe("99.000000");
  });

  it("pins each job's thread to its cpus_allowed", async () => {
    const { result } = await run(`${GLOBAL}runtime=1ms\ntime_based\nrw=randread\niodepth=4\n[a]\ncpus_allowed=1\n[b]\ncpus_allowed=2-3\n[c]\n`);
    const [a, b, c] = result.jobs;
    expect(a.cpusSeen).toBe(0b0010);
    expect(b.cpusSeen & ~0b1100).toBe(0);
    expect(b.cpusSeen).not.toBe(0);
    expect(c.cpusSeen).not.toBe(0);
  });

  it("verify=crc32c reads every written block back; a block corrupted on the media fails the job as fio reports it", async () => {
    const job = `${GLOBAL}[v]\nrw=randwrite\nbs=4k\nsize=256k\niodepth=8\nverify=crc32c\n`;
    const good = await run(job);
    expect(good.result.ok).toBe(true);
    expect(good.result.jobs[0].outcome.verified).toBe(64);
    expect(good.disk.writes).toBe(64);
    expect(good.disk.reads).toBe(64);
    const doc = JSON.parse(formatFioJson(good.result));
    expect(doc.jobs[0].read.io_bytes).toBe(256 * 1024);
    expect(doc.jobs[0].write.io_bytes).toBe(256 * 1024);

    const r = ramDisk({ sizeBytes: 4 << 20 });
    r.disk.corruptOnWrite.add(40 * 4096 + 1000);
    const description = loadMachine("storage");
    description.slots = description.slots.filter((s) => s.spec.model !== "nvme");
    const machine = await boot(Machine.fromDescription(description), r.boot);
    const bad = await runFio(machine, resolveJobFile(job, "v.fio"));
    expect(bad.ok).toBe(false);
    const j = bad.jobs[0];
    expect(j.outcome.verifyFailures).toBe(1);
    expect(j.stats.error).toBe(84);
    expect(j.outcome.log[0]).toBe("crc32c: verify failed at file \\\\.\\PhysicalDrive0 offset 163840, length 4096 (requested block: offset=163840, length=4096)");
    expect(j.outcome.log[1]).toMatch(/^ {7}Expected CRC: [0-9a-f]{8}$/);
    expect(j.outcome.log[2]).toMatch(/^ {7}Received CRC: [0-9a-f]{8}$/);
    const text = formatFioNormal(bad);
    expect(text).toContain(`v: (groupid=0, jobs=1): err=84 (func=io_u_queued_complete, error=Invalid or incomplete multibyte or wide character): pid=${j.threadId}:`);
    expect(JSON.parse(formatFioJson(bad)).jobs[0].error).toBe(84);
  });

  it("a read job with verify on a disk never written reports bad magic headers", async () => {
    const { result } = await run(`${GLOBAL}[v]\nrw=read\nbs=4k\nsize=16k\nverify=crc32c\n`);
    expect(result.ok).toBe(false);
    expect(result.jobs[0].outcome.verifyFailures).toBe(4);
    expect(result.jobs[0].outcome.log[0]).toBe("verify: bad magic header 0, wanted acca at file \\\\.\\PhysicalDrive0 offset 0, length 4096 (requested block: offset=0, length=4096)");
  });

  it("a job keeps the messages of its first FIO_VERIFY_FAILURES_LOGGED verify failures and counts the rest", async () => {
    const blocks = FIO_VERIFY_FAILURES_LOGGED + 28;
    const { result } = await run(`${GLOBAL}[v]\nrw=read\nbs=4k\nsize=${blocks * 4}k\nverify=crc32c\n`);
    const { outcome, threadId } = result.jobs[0];
    expect(outcome.verifyFailures).toBe(blocks);
    // One line per bad magic header (as above), then the count of the rest, then the job's error.
    expect(outcome.log).toHaveLength(FIO_VERIFY_FAILURES_LOGGED + 2);
    expect(outcome.log[FIO_VERIFY_FAILURES_LOGGED - 1]).toContain(`offset ${(FIO_VERIFY_FAILURES_LOGGED - 1) * 4096}, length 4096`);
    expect(outcome.log.slice(-2)).toEqual(["fio: 28 more verify failures not shown", `fio: pid=${threadId}, err=84/func=io_u_queued_complete, error=Invalid or incomplete multibyte or wide character`]);
  });

  it("the sync engine does one blocking I/O at a time and has no slat", async () => {
    const { result, disk } = await run(`[s]\nfilename=\\\\.\\PhysicalDrive0\nioengine=sync\nrw=read\nbs=64k\nsize=1m\niodepth=16\n`, { keepLog: true });
    expect(result.ok).toBe(true);
    expect(disk.maxInFlight).toBe(1);
    expect(disk.log.map((r) => r.offset)).toEqual(Array.from({ length: 16 }, (_, i) => i * 65536));
    const doc = JSON.parse(formatFioJson(result));
    expect(doc.jobs[0].read.slat_ns.N).toBe(0);
    expect(doc.jobs[0].read.clat_ns.N).toBe(16);
    expect(formatFioNormal(result)).not.toContain("slat (");
    expect(formatFioNormal(result)).toContain("Starting 1 process");
  });

  it("an I/O the disk refuses fails the job with fio's io_u error", async () => {
    const { result } = await run(`${GLOBAL}[odd]\nrw=read\nbs=1000\nsize=8000\n`);
    expect(result.ok).toBe(false);
    expect(result.jobs[0].stats.error).toBe(22);
    expect(result.jobs[0].outcome.log[0]).toBe("fio: io_u error on file \\\\.\\PhysicalDrive0: Invalid argument: read offset=0, buflen=1000");
  });

  it("a disk that does not exist fails the job with ENOENT", async () => {
    const { result } = await run(`[gone]\nfilename=\\\\.\\PhysicalDrive7\nrw=read\n`);
    expect(result.ok).toBe(false);
    expect(result.jobs[0].stats.error).toBe(2);
    expect(result.jobs[0].outcome.log[0]).toBe("fio: pid=" + result.jobs[0].threadId + ", err=2/func=open(\\\\.\\PhysicalDrive7), error=No such file or directory");
  });

  it("numjobs clones report as one with group_reporting; stonewall starts a new group after the others end", async () => {
    const { result, disk } = await run(`${GLOBAL}rw=randread\niodepth=2\nsize=64k\ngroup_reporting\n[four]\nnumjobs=4\n[after]\nstonewall\nrw=write\n`, { keepLog: true });
    expect(result.jobs.map((j) => [j.options.name, j.groupid])).toEqual([["four", 0], ["four", 0], ["four", 0], ["four", 0], ["after", 1]]);
    expect(result.reports.map((r) => [r.name, r.members, r.groupid])).toEqual([["four", 4, 0], ["after", 1, 1]]);
    expect(result.reports[0].dirs[0].ioBytes).toBe(4 * 64 * 1024);
    // The stonewalled job's first write comes after the last read of the first group completed.
    const lastRead = Math.max(...disk.log.filter((r) => !r.write).map((r) => r.completionPs));
    const firstWrite = Math.min(...disk.log.filter((r) => r.write).map((r) => r.arrivalPs));
    expect(firstWrite).toBeGreaterThan(lastRead);
    const text = formatFioNormal(result);
    expect(text).toContain("four: (g=0): rw=randread, bs=(R) 4096B-4096B, (W) 4096B-4096B, (T) 4096B-4096B, ioengine=windowsaio, iodepth=2\n...\nafter: (g=1): rw=write");
    expect(text).toContain("Starting 5 threads");
    expect(text).toContain("four: (groupid=0, jobs=4): err= 0:");
    expect(text).toContain("Run status group 1 (all jobs):\n  WRITE: bw=");
  });

  it("ramp_time leaves the first I/Os out; loops repeats the region", async () => {
    const { result } = await run(`${GLOBAL}[r]\nrw=read\nbs=4k\nsize=64k\nloops=3\n`, {}, 1, true);
    expect(result.jobs[0].trace!.length).toBe(48);
    const ramp = await run(`${GLOBAL}[r]\nrw=randread\nbs=4k\niodepth=4\nruntime=1ms\nramp_time=1ms\ntime_based\n`, { keepLog: true }, 1, true);
    const job = ramp.result.jobs[0];
    expect(job.trace!.every((t) => t.startPs >= job.startPs + 1e9)).toBe(true);
    expect(ramp.disk.reads).toBeGreaterThan(job.trace!.length + 4);
  });

  it("unified_rw_reporting=mixed reports one direction named mixed", async () => {
    const { result } = await run(`${GLOBAL}[m]\nrw=randrw\nsize=64k\niodepth=4\nunified_rw_reporting=mixed\n`);
    const doc = JSON.parse(formatFioJson(result));
    expect(doc.jobs[0].mixed.io_bytes).toBe(64 * 1024);
    expect(doc.jobs[0].read).toBeUndefined();
    expect(formatFioNormal(result)).toContain("  mixed: IOPS=");
  });
});

describe("the histogram index and value round trip used above", () => {
  it("covers every bucket", () => {
    for (let i = 0; i < PLAT_NR; i++) expect(platIndex(platValue(i))).toBe(i);
  });
});
