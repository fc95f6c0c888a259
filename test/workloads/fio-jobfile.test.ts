// fio job files: sections, comments, every option wdmsim's fio reads with fio's defaults and
// units, and every mistake reported as fio reports it, with the file and the line.
import { describe, expect, it } from "vitest";
import { parseJobFile, FioJobFileError } from "../../src/workloads/fio/jobfile.js";
import { DEFAULT_PERCENTILES, resolveJobFile, type FioJobOptions } from "../../src/workloads/fio/options.js";
import { parseInteger, parseSize, parseTime, parseCpuList, parseRange } from "../../src/workloads/fio/units.js";

const DISK = "filename=\\\\.\\PhysicalDrive0";

/** The single job of a file made of `lines` under [job] (with a filename). */
function job(...lines: string[]): FioJobOptions {
  return resolveJobFile(["[job]", DISK, ...lines].join("\n"), "t.fio", 4).jobs[0];
}

/** The FioJobFileError a file makes. */
function errorOf(text: string, cpuCount = 4): FioJobFileError {
  try {
    resolveJobFile(text, "bad.fio", cpuCount);
  } catch (e) {
    if (e instanceof FioJobFileError) return e;
    throw e;
  }
  throw new Error("the job file was accepted");
}

describe("fio job file format", () => {
  it("reads sections, key=value lines, bare flags, and ; and # comments with their line numbers", () => {
    const f = parseJobFile("; comment\n# another\n[global]\n  bs=8k  \n\n[a]\ntime_based\nrw = randread\n", "x.fio");
    expect(f.sections.map((s) => [s.name, s.line])).toEqual([["global", 3], ["a", 6]]);
    expect(f.sections[0].entries).toEqual([{ key: "bs", value: "8k", line: 4 }]);
    expect(f.sections[1].entries).toEqual([{ key: "time_based", value: null, line: 7 }, { key: "rw", value: "randread", line: 8 }]);
  });

  it("keeps the filename as written, backslashes and all", () => {
    expect(job().filename).toBe("\\\\.\\PhysicalDrive0");
  });

  it("[global] applies to the jobs after it; a job's own options win; options listed as written", () => {
    const set = resolveJobFile(`[global]\n${DISK}\nbs=8k\niodepth=4\n[one]\niodepth=16\n[two]\n`, "g.fio");
    expect(set.jobs.map((j) => [j.name, j.bs[0], j.iodepth])).toEqual([["one", 8192, 16], ["two", 8192, 4]]);
    expect(set.global).toEqual([["filename", "\\\\.\\PhysicalDrive0"], ["bs", "8k"], ["iodepth", "4"]]);
    expect(set.jobs[0].written).toEqual([["iodepth", "16"]]);
    expect(set.jobs[1].written).toEqual([]);
  });

  it("has fio's defaults", () => {
    const j = job();
    expect(j).toMatchObject({
      rw: "read", rwmixread: 50, bs: [4096, 4096], iodepth: 1, numjobs: 1, size: null, offset: { bytes: 0 }, runtimePs: 0, timeBased: false,
      ioengine: "sync", direct: false, thread: false, randrepeat: true, randseed: null, verify: "none", doVerify: true, norandommap: false,
      loops: 1, kbBase: 1024, bwAvgTimeMs: 500, iopsAvgTimeMs: 500, unifiedRwReporting: "none", groupReporting: false, percentilePrecision: 2,
    });
    expect(j.percentileList).toEqual(DEFAULT_PERCENTILES);
    expect(j.randomDistribution).toEqual({ kind: "random" });
  });

  it("reads every option", () => {
    const j = job(
      "name=renamed", "description=what it does", "readwrite=randrw", "rwmixwrite=30", "bs=8k,32k", "iodepth=32", "numjobs=3", "size=50%",
      "offset=1m", "runtime=20ms", "time_based", "ramp_time=2ms", "ioengine=windowsaio", "direct=1", "thread", "cpus_allowed=0,2-3",
      "random_distribution=zipf:1.2", "randrepeat=0", "randseed=1234", "verify=crc32c", "do_verify=0", "verify_fatal=1", "group_reporting",
      "stonewall", "new_group", "loops=2", "unified_rw_reporting=both", "bwavgtime=5", "iopsavgtime=7", "percentile_list=50:99.5",
      "clat_percentiles=0",
    );
    expect(j).toMatchObject({
      name: "renamed", description: "what it does", rw: "randrw", rwmixread: 70, bs: [8192, 32768], iodepth: 32, numjobs: 3, size: { percent: 50 },
      offset: { bytes: 1048576 }, runtimePs: 20e9, timeBased: true, rampTimePs: 2e9, ioengine: "windowsaio", direct: true, thread: true,
      cpusAllowed: [0, 2, 3], randomDistribution: { kind: "zipf", theta: 1.2 }, randrepeat: false, randseed: 1234, verify: "crc32c",
      doVerify: false, verifyFatal: true, groupReporting: true, stonewall: true, newGroup: true, loops: 2, unifiedRwReporting: "both",
      bwAvgTimeMs: 5, iopsAvgTimeMs: 7, percentileList: [50, 99.5], percentilePrecision: 1, clatPercentiles: false,
      // zipf turns the random map off, as in fio.
      norandommap: true,
    });
    expect(job("rw=readwrite").rw).toBe("rw");
    expect(job("rw=write", "rwmixread=80").rwmixread).toBe(80);
    expect(job("bsrange=1k-16k").bsrange).toEqual([[1024, 16384], [1024, 16384]]);
    expect(job("bsrange=16k:1k,2k-8k").bsrange).toEqual([[1024, 16384], [2048, 8192]]);
    expect(job("bssplit=4k/10:64k/50:32k/40").bssplit![0]).toEqual([{ bs: 4096, percent: 10 }, { bs: 65536, percent: 50 }, { bs: 32768, percent: 40 }]);
    expect(job("bssplit=4k/50:1k/:32k/").bssplit![0].map((e) => e.percent)).toEqual([50, 25, 25]);
    expect(job("bssplit=2k/50:4k/50,4k/90:8k/10").bssplit![1]).toEqual([{ bs: 4096, percent: 90 }, { bs: 8192, percent: 10 }]);
    expect(job("random_distribution=pareto:0.2").randomDistribution).toEqual({ kind: "pareto", h: 0.2 });
    expect(job("norandommap").norandommap).toBe(true);
    expect(job("randommap=0").norandommap).toBe(true);
    expect(job("time_based=0", "runtime=1").timeBased).toBe(false);
    expect(job("buffered=0", "ioengine=windowsaio").direct).toBe(true);
    expect(job("bs=,8k").bs).toEqual([4096, 8192]);
    expect(job("unified_rw_reporting=1").unifiedRwReporting).toBe("mixed");
    expect(job("verify=0").verify).toBe("none");
  });

  it("reads sizes with fio's kb_base rules (1024: k is 1024 and ki 1000; 1000: the other way round)", () => {
    expect(["4096", "4096b", "4096B", "4k", "4kb", "4kB", "4K", "4KB"].map((s) => parseInteger(s, 1024))).toEqual(Array(8).fill(4096));
    expect(parseInteger("1m", 1024)).toBe(1048576);
    expect(parseInteger("1mi", 1024)).toBe(1000000);
    expect(parseInteger("1000ki", 1024)).toBe(1000000);
    expect(parseInteger("1t", 1024)).toBe(2 ** 40);
    expect(parseInteger("4ki", 1000)).toBe(4096);
    expect(parseInteger("4KiB", 1000)).toBe(4096);
    expect(parseInteger("1m", 1000)).toBe(1000000);
    expect(parseInteger("0x1000")).toBe(4096);
    expect(parseInteger("1.5g")).toBe(1.5 * 2 ** 30);
    expect(parseInteger("4q")).toBeNull();
    expect(job("kb_base=1000", "bs=4k").bs[0]).toBe(4000);
    // kb_base is applied first wherever it is written.
    expect(job("bs=4k", "kb_base=1000").bs[0]).toBe(4000);
    expect(parseSize("20%")).toEqual({ percent: 20 });
    expect(parseSize("0%")).toBeNull();
    expect(parseRange("4k-1k")).toEqual([1024, 4096]);
  });

  it("reads times with fio's suffixes (seconds by default, m is minutes)", () => {
    expect(parseTime("2")).toBe(2e12);
    expect(parseTime("10m")).toBe(600e12);
    expect(parseTime("1h")).toBe(3600e12);
    expect(parseTime("50ms")).toBe(50e9);
    expect(parseTime("50msec")).toBe(50e9);
    expect(parseTime("7us")).toBe(7e6);
    expect(parseTime("3d")).toBe(3 * 86400e12);
    expect(parseTime("5", "ms")).toBe(5e9);
    expect(parseTime("5x")).toBeNull();
    expect(parseCpuList("0,5,8-10")).toEqual([0, 5, 8, 9, 10]);
    expect(parseCpuList("3-1")).toBeNull();
  });

  it("makes numjobs clones' job and section lines available", () => {
    const set = resolveJobFile(`[a]\n${DISK}\nnumjobs=2\n\n[b]\n${DISK}\nstonewall\n`, "n.fio");
    expect(set.jobs.map((j) => [j.name, j.numjobs, j.line, j.stonewall])).toEqual([["a", 2, 1, false], ["b", 1, 5, true]]);
  });
});

describe("fio job file errors name the file, the line and the option", () => {
  const cases: [string, string, number, string][] = [
    [`[j]\n${DISK}\nrw=sideways\n`, "bad.fio:3: fio: failed parsing rw=sideways (valid values: read, write, randread, randwrite, rw, readwrite, randrw)", 3, "rw"],
    [`[j]\n${DISK}\n\nbogus=1\n`, "bad.fio:4: Bad option <bogus=1>", 4, "bogus"],
    [`rw=read\n[j]\n`, "bad.fio:1: fio: option <rw=read> outside of [] job section", 1, ""],
    [`[j]\n${DISK}\niodepth\n`, "bad.fio:3: Option iodepth requires an argument", 3, "iodepth"],
    [`[j]\n${DISK}\niodepth=0\n`, "bad.fio:3: fio: failed parsing iodepth=0 (a whole number from 1)", 3, "iodepth"],
    [`[j]\n${DISK}\nbs=4z\n`, "bad.fio:3: fio: failed parsing bs=4z", 3, "bs"],
    [`[j]\n${DISK}\nsize=200%\n`, "bad.fio:3: fio: failed parsing size=200%", 3, "size"],
    [`[j]\n${DISK}\nruntime=5 parsecs\n`, "bad.fio:3: fio: failed parsing runtime=5 parsecs (a time: a number with d, h, m, s, ms or us (seconds if none))", 3, "runtime"],
    [`[j]\n${DISK}\nioengine=libaio\n`, "bad.fio:3: fio: failed parsing ioengine=libaio (valid values: windowsaio, sync)", 3, "ioengine"],
    [`[j]\n${DISK}\nrandom_distribution=zipf\n`, "bad.fio:3: fio: failed parsing random_distribution=zipf (zipf needs a theta above 0 other than 1 (zipf:1.2))", 3, "random_distribution"],
    [`[j]\n${DISK}\nrandom_distribution=pareto:1.5\n`, "bad.fio:3: fio: failed parsing random_distribution=pareto:1.5 (pareto needs an h between 0 and 1 (pareto:0.2))", 3, "random_distribution"],
    [`[j]\n${DISK}\nrandom_distribution=gauss:3\n`, "bad.fio:3: fio: failed parsing random_distribution=gauss:3 (valid values: random, zipf:theta, pareto:h)", 3, "random_distribution"],
    [`[j]\n${DISK}\nbssplit=4k/70:8k/40\n`, "bad.fio:3: fio: failed parsing bssplit=4k/70:8k/40 (blocksize/percentage:blocksize/percentage..., the percentages adding up to 100 at most)", 3, "bssplit"],
    [`[j]\n${DISK}\nrwmixread=101\n`, "bad.fio:3: fio: failed parsing rwmixread=101 (a percentage from 0 to 100)", 3, "rwmixread"],
    [`[j]\n${DISK}\ndirect=maybe\n`, "bad.fio:3: fio: failed parsing direct=maybe (0 or 1)", 3, "direct"],
    [`[j]\n${DISK}\nverify=md5\n`, "bad.fio:3: fio: failed parsing verify=md5 (valid values: 0, crc32c, crc32c-intel)", 3, "verify"],
    [`[j]\n${DISK}\ncpus_allowed=x\n`, "bad.fio:3: fio: failed parsing cpus_allowed=x (processor numbers and ranges, e.g. 0,2-3)", 3, "cpus_allowed"],
    [`[j]\n${DISK}\nkb_base=512\n`, "bad.fio:3: fio: failed parsing kb_base=512 (valid values: 1024, 1000)", 3, "kb_base"],
    [`[j]\n${DISK}\nunified_rw_reporting=sometimes\n`, "bad.fio:3: fio: failed parsing unified_rw_reporting=sometimes (valid values: none, mixed, both, 0, 1, 2)", 3, "unified_rw_reporting"],
    [`[j]\n${DISK}\npercentile_list=50:101\n`, "bad.fio:3: fio: failed parsing percentile_list=50:101 (up to 20 numbers in (0, 100] separated by ':')", 3, "percentile_list"],
    [`[j]\n${DISK}\nloops=0\n`, "bad.fio:3: fio: failed parsing loops=0 (a whole number from 1)", 3, "loops"],
    [`\n[j]\nrw=read\n`, "bad.fio:2: fio: job <j> has no filename= (name the disk, e.g. filename=\\\\.\\PhysicalDrive0)", 2, "filename"],
    [`[j]\n${DISK}\ndirect=1\n`, "bad.fio:1: fio: Windows does not support direct or non-buffered io with the synchronous ioengines. Use the 'windowsaio' ioengine with 'direct=1' and 'iodepth=1' instead.", 1, "direct"],
    [`[j]\n${DISK}\ncpus_allowed=0-4\n`, "bad.fio:1: fio: CPU 4 too large (max=3)", 1, "cpus_allowed"],
    [`[global]\n${DISK}\n`, "bad.fio: fio: no jobs defined", 0, ""],
    [`[j]\n${DISK}\n[]\n`, "bad.fio:3: fio: bad job section header <[]>", 3, ""],
  ];
  for (const [text, message, line, option] of cases) {
    it(message, () => {
      const e = errorOf(text);
      expect(e.message).toBe(message);
      expect(e.line).toBe(line);
      expect(e.option).toBe(option);
      expect(e.file).toBe("bad.fio");
    });
  }

  it("an error in [global] names the global line", () => {
    expect(errorOf(`[global]\nbs=huge\n[j]\n${DISK}\n`).message).toBe("bad.fio:2: fio: failed parsing bs=huge");
  });

  it("time_based without runtime is fio's warning, and the job is not time based", () => {
    const set = resolveJobFile(`[j]\n${DISK}\ntime_based\n`, "w.fio");
    expect(set.warnings).toEqual(["fio: time_based requires a runtime/timeout setting"]);
    expect(set.jobs[0].timeBased).toBe(false);
  });
});
