// The kernel's streaming statistics (src/trace/histogram.ts): count, min, max and mean
// exact; a percentile within the histogram's stated resolution of the exact nearest-rank
// percentile of the same values; memory that does not depend on how many were added.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  HISTOGRAM_BUCKETS, HISTOGRAM_RELATIVE_ERROR, HISTOGRAM_SUB_BUCKETS, HISTOGRAM_TOP_BIT, LogLinearHistogram, histogramBucket, histogramBucketLower,
  histogramBucketWidth,
} from "../../src/trace/histogram.js";
import { KernelStats } from "../../src/trace/recorder.js";
import { retained } from "../support/retained.js";

/** The exact p-th percentile by nearest rank: the smallest value with at least p% of the values at or below it. */
function exactPercentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

function histogramOf(values: readonly number[]): LogLinearHistogram {
  const h = new LogLinearHistogram();
  for (const v of values) h.add(v);
  return h;
}

/** Values over many orders of magnitude, whole and fractional, as durations in ps are. */
const value = fc.oneof(
  fc.integer({ min: 0, max: 200 }),
  fc.integer({ min: 0, max: 2 ** 40 }),
  fc.double({ min: 0, max: 2 ** 45, noNaN: true }),
);

describe("the histogram's layout", () => {
  it("buckets are contiguous from 0 to 2^53, each value falls in the bucket that holds it, and none is wider than 1/64 of its values", () => {
    expect(histogramBucketLower(0)).toBe(0);
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      const lower = histogramBucketLower(i);
      const width = histogramBucketWidth(i);
      if (i + 1 < HISTOGRAM_BUCKETS) expect(histogramBucketLower(i + 1)).toBe(lower + width);
      expect(histogramBucket(lower)).toBe(i);
      expect(histogramBucket(lower + width * 0.999)).toBe(i);
      if (width > 1) expect(width / lower).toBeLessThanOrEqual(1 / HISTOGRAM_SUB_BUCKETS);
    }
    expect(histogramBucketLower(HISTOGRAM_BUCKETS - 1) + histogramBucketWidth(HISTOGRAM_BUCKETS - 1)).toBe(2 ** HISTOGRAM_TOP_BIT);
    expect(histogramBucket(2 ** 60)).toBe(HISTOGRAM_BUCKETS - 1);
    expect(histogramBucket(-5)).toBe(0);
  });
});

describe("LogLinearHistogram", () => {
  it("keeps count, min, max, total and mean exactly", () => {
    const h = histogramOf([3, 1, 4, 1, 5, 9, 2, 6]);
    expect(h.count).toBe(8);
    expect(h.min).toBe(1);
    expect(h.max).toBe(9);
    expect(h.total).toBe(31);
    expect(h.mean).toBe(31 / 8);
  });

  it("keeps the total exact where adding one double at a time would lose it", () => {
    const h = new LogLinearHistogram();
    h.add(2 ** 53);
    for (let i = 0; i < 10; i++) h.add(1);
    // 2^53 + 1 is not a double, so each 1 added to the running sum alone would vanish.
    expect(h.total).toBe(2 ** 53 + 10);
  });

  it("is empty before anything is added", () => {
    const h = new LogLinearHistogram();
    expect(h.count).toBe(0);
    expect(h.percentile(50)).toBeNaN();
    expect(h.mean).toBeNaN();
  });

  it("gives the exact minimum and maximum as the 0th and 100th percentiles", () => {
    fc.assert(fc.property(fc.array(value, { minLength: 1, maxLength: 300 }), (values) => {
      const h = histogramOf(values);
      expect(h.percentile(0)).toBe(Math.min(...values));
      expect(h.percentile(100)).toBe(Math.max(...values));
    }));
  });

  it("gives every percentile within its stated resolution of the exact one, and inside [min, max]", () => {
    const ps = [1, 5, 10, 25, 50, 75, 90, 95, 99, 99.9];
    fc.assert(fc.property(fc.array(value, { minLength: 1, maxLength: 400 }), (values) => {
      const h = histogramOf(values);
      for (const p of ps) {
        const exact = exactPercentile(values, p);
        const got = h.percentile(p);
        // Below 128 units buckets are one unit wide and report their lower end: exact for whole numbers, under one unit low otherwise.
        const slack = exact < 2 * HISTOGRAM_SUB_BUCKETS ? 1 : exact * HISTOGRAM_RELATIVE_ERROR;
        expect(Math.abs(got - exact)).toBeLessThanOrEqual(slack);
        expect(got).toBeGreaterThanOrEqual(h.min);
        expect(got).toBeLessThanOrEqual(h.max);
      }
    }));
  });

  it("gives whole numbers below 128 exactly", () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i * 37) % 128);
    const h = histogramOf(values);
    for (const p of [10, 33, 50, 90]) expect(h.percentile(p)).toBe(exactPercentile(values, p));
  });

  it("copyFrom makes an equal histogram and reset empties it", () => {
    const a = histogramOf([10, 2000, 3e6, 4e9]);
    const b = new LogLinearHistogram();
    b.copyFrom(a);
    expect([b.count, b.min, b.max, b.total, b.percentile(50)]).toEqual([a.count, a.min, a.max, a.total, a.percentile(50)]);
    b.reset();
    expect([b.count, b.min, b.max, b.total]).toEqual([0, Infinity, -Infinity, 0]);
  });
});

describe("the kernel's statistics in constant memory", () => {
  /** Records `n` interrupts' worth of ISR, DPC and latency figures the way ke/interrupt.ts and ke/dpc.ts do, over 4 vectors on 2 processors. */
  function record(n: number): KernelStats {
    const s = new KernelStats();
    for (let i = 0; i < n; i++) {
      const cpu = i & 1;
      const duration = 150_000 + ((i * 7919) % 5_000_000);
      s.isrs++;
      s.isrDuration.add(duration);
      s.interruptToIsr.add(200_000 + (i % 1000));
      s.processor(cpu).isr.add(duration);
      s.vector(cpu, 0x50 + (i & 3)).isr.add(duration);
      s.driver("stornvme").isr.add(duration);
      s.dpcs++;
      s.dpcDuration.add(duration * 3);
      s.interruptToDpc.add(700_000 + (i % 3000));
      s.processor(cpu).dpc.add(duration * 3);
      s.driver("stornvme").dpc.add(duration * 3);
    }
    return s;
  }

  it("hold the same objects and elements after 100 interrupts as after 100 000", () => {
    const small = retained(record(100));
    const large = retained(record(100_000));
    expect(large.objects).toBe(small.objects);
    expect(large.elements).toBe(small.elements);
    expect([...large.containers]).toEqual([...small.containers]);
  });
});
