// The arithmetic behind fio's report, each checked against values worked out another way:
// the log-linear latency histogram and its percentiles, Welford statistics, num2str and
// printf rounding, CRC-32C, the zipf and pareto shapes, the random map, verify blocks.
import { describe, expect, it } from "vitest";
import { IoStat, PLAT_NR, platIndex, platPercentiles, platValue } from "../../src/workloads/fio/histogram.js";
import { cFixed, ctime, N2S, num2str } from "../../src/workloads/fio/format.js";
import { crc32c } from "../../src/workloads/fio/crc32c.js";
import { FioRandom, ParetoGenerator, ZipfGenerator } from "../../src/workloads/fio/random.js";
import { IoPlanner, RandomMap, type PlannedIo } from "../../src/workloads/fio/offsets.js";
import { resolveJobFile } from "../../src/workloads/fio/options.js";
import { checkVerifyBlock, fillVerifyBlock } from "../../src/workloads/fio/verify.js";
import { percentileLines } from "../../src/workloads/fio/report-normal.js";

/** The bucket a value falls in, from fio's documented table: exact below 128; above, 64 equal buckets per power of two. */
function bucketOf(v: number): { lo: number; width: number } {
  if (v < 128) return { lo: v, width: 1 };
  const n = BigInt(v).toString(2).length - 1; // position of the most significant bit
  const width = 2 ** (n - 6);
  return { lo: Math.floor(v / width) * width, width };
}

/** What fio prints for a bucket: the value itself when exact, else the middle of the range. */
function representative(v: number): number {
  const { lo, width } = bucketOf(v);
  return width === 1 ? lo : lo + width / 2;
}

describe("the latency histogram (FIO_IO_U_PLAT_BITS 6, 29 groups)", () => {
  it("has 1856 buckets", () => {
    expect(PLAT_NR).toBe(1856);
  });

  it("keeps values below 128 ns exactly and puts larger ones in 64 buckets per power of two", () => {
    const random = new FioRandom(7, 1);
    for (let i = 0; i < 5000; i++) {
      const v = i < 300 ? i : Math.floor(2 ** (random.nextFloat() * 33));
      expect(platValue(platIndex(v))).toBe(representative(v));
    }
  });

  it("bucket values are increasing and within 1/128 of every value in the bucket", () => {
    let previous = -1;
    for (let i = 0; i < PLAT_NR; i++) {
      const v = platValue(i);
      expect(v).toBeGreaterThan(previous);
      previous = v;
      expect(platIndex(v)).toBe(i);
    }
    for (const v of [129, 1000, 87_000, 12_345_678, 2 ** 32 + 5]) expect(Math.abs(platValue(platIndex(v)) - v) / v).toBeLessThanOrEqual(1 / 128);
  });

  it("matches the bin values fio's HOWTO shows in its json+ example", () => {
    for (const v of [87552, 89600, 94720, 96768, 97792, 99840, 100864, 103936, 104960, 105984, 107008]) expect(platValue(platIndex(v))).toBe(v);
  });

  it("a percentile p of N samples is the bucket of the sample of rank ceil(p/100 * N)", () => {
    const random = new FioRandom(11, 2);
    const list = [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99];
    for (const n of [1, 7, 100, 1000, 12345]) {
      const samples = Array.from({ length: n }, () => 20_000 + Math.floor(random.nextFloat() ** 3 * 5_000_000));
      const buckets = new Float64Array(PLAT_NR);
      for (const s of samples) buckets[platIndex(s)]++;
      const sorted = [...samples].sort((a, b) => a - b);
      const expected = list.map((p) => representative(sorted[Math.max(1, Math.ceil((p / 100) * n)) - 1]));
      expect(platPercentiles(buckets, n, list)).toEqual(expected);
    }
  });

  it("prints percentiles in the unit and layout fio uses", () => {
    const buckets = new Float64Array(PLAT_NR);
    for (let v = 100_000; v < 200_000; v += 10) buckets[platIndex(v)]++;
    const lines = percentileLines("clat", buckets, 10_000, [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99], 2);
    expect(lines[0]).toBe("    clat percentiles (usec):");
    // 100 µs .. 200 µs, rounded up to whole µs; four to a line.
    expect(lines[1]).toBe(`     |  1.00th=[  ${Math.ceil(representative(100_990) / 1000)}],  5.00th=[  ${Math.ceil(representative(104_990) / 1000)}], 10.00th=[  ${Math.ceil(representative(109_990) / 1000)}], 20.00th=[  ${Math.ceil(representative(119_990) / 1000)}],`);
    expect(lines).toHaveLength(6);
    expect(lines[5]).toMatch(/^ {5}\| 99\.99th=\[ {2}\d{3}\]$/);
  });
});

describe("running statistics", () => {
  it("match the direct formulas, and merging two series equals one series of both", () => {
    const xs = [3, 9, 27, 81, 5, 7, 11];
    const s = new IoStat();
    xs.forEach((x) => s.add(x));
    const mean = xs.reduce((a, b) => a + b) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
    expect([s.min, s.max, s.samples]).toEqual([3, 81, 7]);
    expect(s.mean).toBeCloseTo(mean, 10);
    expect(s.stdev).toBeCloseTo(sd, 10);
    const a = new IoStat();
    const b = new IoStat();
    xs.slice(0, 3).forEach((x) => a.add(x));
    xs.slice(3).forEach((x) => b.add(x));
    a.merge(b);
    expect(a.mean).toBeCloseTo(mean, 10);
    expect(a.stdev).toBeCloseTo(sd, 10);
    expect([a.min, a.max, a.samples]).toEqual([3, 81, 7]);
  });
});

describe("number formatting", () => {
  it("num2str shortens to four significant figures as fio does", () => {
    expect(num2str(503316480, 4, true, N2S.BYTEPERSEC)).toBe("480MiB/s");
    expect(num2str(527765581, 4, false, N2S.BYTEPERSEC)).toBe("528MB/s");
    expect(num2str(1013666, 4, false, N2S.NONE)).toBe("1014k");
    expect(num2str(88, 4, false, N2S.NONE)).toBe("88");
    expect(num2str(65536, 4, true, N2S.BYTE)).toBe("64.0KiB");
    expect(num2str(4096, 4, true, N2S.BYTE)).toBe("4096B");
    expect(num2str(31876710, 4, true, N2S.BYTE)).toBe("30.4MiB");
    expect(num2str(1999999, 6, false, N2S.NONE)).toBe("2000.0k");
    expect(num2str(145500, 6, false, N2S.NONE)).toBe("145500");
  });

  it("printf rounds an exact tie to even, as glibc does", () => {
    expect(cFixed(0.125, 2)).toBe("0.12");
    expect(cFixed(0.375, 2)).toBe("0.38");
    expect(cFixed(2.5, 0)).toBe("2");
    expect(cFixed(3.5, 0)).toBe("4");
    expect(cFixed(1.005, 2)).toBe("1.00");
    expect(cFixed(99.99, 6)).toBe("99.990000");
    expect(cFixed(-0.125, 2)).toBe("-0.12");
  });

  it("ctime of simulated time 0", () => {
    expect(ctime(0)).toBe("Thu Jan  1 00:00:00 1970");
  });
});

describe("CRC-32C and verify blocks", () => {
  it("has the standard check value", () => {
    expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xE3069283);
  });

  it("a block checks out, and a flipped byte, a wrong offset or a blank block is reported as fio reports it", () => {
    const block = new Uint8Array(4096);
    fillVerifyBlock(block, 4096, 8192, new FioRandom(1, 4));
    expect(checkVerifyBlock(block, 4096, 8192, "\\\\.\\PhysicalDrive0")).toBeNull();
    const expected = crc32c(block, 20, 4096);
    block[1000] ^= 0xFF;
    const received = crc32c(block, 20, 4096);
    const hex = (v: number) => [0, 8, 16, 24].map((s) => ((v >>> s) & 0xFF).toString(16).padStart(2, "0")).join("");
    expect(checkVerifyBlock(block, 4096, 8192, "\\\\.\\PhysicalDrive0")).toEqual([
      "crc32c: verify failed at file \\\\.\\PhysicalDrive0 offset 8192, length 4096 (requested block: offset=8192, length=4096)",
      `       Expected CRC: ${hex(expected)}`,
      `       Received CRC: ${hex(received)}`,
    ]);
    block[1000] ^= 0xFF;
    expect(checkVerifyBlock(block, 4096, 12288, "f")![0]).toBe("verify: bad header offset 8192, wanted 12288 at file f offset 12288, length 4096 (requested block: offset=12288, length=4096)");
    expect(checkVerifyBlock(new Uint8Array(4096), 4096, 0, "f")![0]).toBe("verify: bad magic header 0, wanted acca at file f offset 0, length 4096 (requested block: offset=0, length=4096)");
  });
});

describe("random distributions", () => {
  it("zipf(theta): ranks 1 and 2 have probability 1/zeta and 2^-theta/zeta, and the head matches the Zipf law", () => {
    const n = 1000;
    const theta = 1.2;
    const zeta = Array.from({ length: n }, (_, i) => (i + 1) ** -theta).reduce((a, b) => a + b);
    const z = new ZipfGenerator(n, theta, new FioRandom(3, 5));
    const counts = new Float64Array(n);
    const draws = 200_000;
    for (let i = 0; i < draws; i++) counts[z.nextRank()]++;
    expect(counts[0] / draws).toBeCloseTo(1 / zeta, 2);
    expect(counts[1] / draws).toBeCloseTo(2 ** -theta / zeta, 2);
    const head = counts.slice(0, 10).reduce((a, b) => a + b) / draws;
    const law = Array.from({ length: 10 }, (_, i) => (i + 1) ** -theta).reduce((a, b) => a + b) / zeta;
    expect(Math.abs(head - law)).toBeLessThan(0.03);
    // Scattered items stay in range and the hottest item is hit as often as rank 0.
    const items = new Float64Array(n);
    const z2 = new ZipfGenerator(n, theta, new FioRandom(3, 5));
    for (let i = 0; i < draws; i++) items[z2.next()]++;
    expect(Math.max(...items)).toBeGreaterThanOrEqual(counts[0]);
  });

  it("pareto(h): a fraction x of the ranks gets x^(log(1-h)/log(h)) of the draws (h=0.2: 80% go to the first 20%)", () => {
    const n = 10_000;
    const p = new ParetoGenerator(n, 0.2, new FioRandom(9, 5));
    let first20 = 0;
    let first5 = 0;
    const draws = 100_000;
    for (let i = 0; i < draws; i++) {
      const r = p.nextRank();
      if (r < 0.2 * n) first20++;
      if (r < 0.05 * n) first5++;
    }
    const share = (x: number) => x ** (Math.log(0.8) / Math.log(0.2));
    expect(first20 / draws).toBeCloseTo(share(0.2), 2);
    expect(first5 / draws).toBeCloseTo(share(0.05), 2);
  });

  it("uniform draws cover [0, n) evenly", () => {
    const r = new FioRandom(1, 1);
    const counts = new Float64Array(10);
    for (let i = 0; i < 100_000; i++) counts[r.below(10)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
  });

  it("the same seed and stream give the same series; another seed another", () => {
    const a = new FioRandom(42, 1);
    const b = new FioRandom(42, 1);
    const c = new FioRandom(43, 1);
    const sa = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(sa);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(sa);
  });
});

describe("offsets", () => {
  it("the random map finds the next free block, wrapping, and says when all are done", () => {
    const m = new RandomMap(70);
    for (let b = 0; b < 70; b++) if (b !== 3 && b !== 65) m.set(b);
    expect(m.nextFree(0)).toBe(3);
    expect(m.nextFree(4)).toBe(65);
    expect(m.nextFree(66)).toBe(3);
    m.set(3);
    m.set(65);
    expect(m.nextFree(0)).toBe(-1);
  });

  it("randread with the random map touches every block once per loop; norandommap repeats some", () => {
    const blocks = (extra: string) => {
      const job = resolveJobFile(`[j]\nfilename=x\nrw=randread\nbs=4k\n${extra}\n`, "j.fio").jobs[0];
      const planner = new IoPlanner(job, 1 << 20, 1000 * 4096, 5);
      planner.startLoop();
      const seen = new Map<number, number>();
      const io: PlannedIo = { ddir: 0, offset: 0, length: 0 };
      while (planner.next(io)) {
        expect(io.offset % 4096).toBe(0);
        expect(io.length).toBe(4096);
        seen.set(io.offset, (seen.get(io.offset) ?? 0) + 1);
      }
      return seen;
    };
    const mapped = blocks("");
    expect(mapped.size).toBe(1000);
    expect([...mapped.values()].every((c) => c === 1)).toBe(true);
    expect(Math.min(...mapped.keys())).toBe(1 << 20);
    const unmapped = blocks("norandommap");
    expect([...unmapped.values()].reduce((a, b) => a + b)).toBe(1000);
    expect(unmapped.size).toBeLessThan(1000);
  });

  it("sequential reads go in order; bssplit sizes come in their shares; rwmixread splits directions", () => {
    const plan = (text: string, n: number) => {
      const job = resolveJobFile(`[j]\nfilename=x\n${text}\n`, "j.fio").jobs[0];
      const planner = new IoPlanner(job, 0, 64 << 20, 8);
      planner.startLoop();
      const out: PlannedIo[] = [];
      for (let i = 0; i < n; i++) {
        const io: PlannedIo = { ddir: 0, offset: 0, length: 0 };
        if (!planner.next(io)) break;
        out.push(io);
      }
      return out;
    };
    expect(plan("rw=read\nbs=64k", 4).map((io) => io.offset)).toEqual([0, 65536, 131072, 196608]);
    const split = plan("rw=randread\nbssplit=4k/60:64k/40\nnorandommap", 5000);
    const share4k = split.filter((io) => io.length === 4096).length / split.length;
    expect(share4k).toBeGreaterThan(0.57);
    expect(share4k).toBeLessThan(0.63);
    const mixed = plan("rw=randrw\nrwmixread=70\nnorandommap", 5000);
    const reads = mixed.filter((io) => io.ddir === 0).length / mixed.length;
    expect(reads).toBeGreaterThan(0.67);
    expect(reads).toBeLessThan(0.73);
  });
});
