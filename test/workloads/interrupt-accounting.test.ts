// The kernel's accounting behind fio's cpu line and the interrupt view: per-processor
// thread, ISR and DPC time, xperf-bucket histograms per processor, vector and driver, IRP
// completions per vector; SetThreadAffinityMask and GetThreadTimes.
import { describe, expect, it } from "vitest";
import { boot } from "../../src/pnp/boot.js";
import { kernelOf } from "../support/kernel-harness.js";
import { runEduWorkload } from "../../src/workloads/edu.js";
import { DurationHistogram, durationBucketBoundsUs, DURATION_BUCKETS } from "../../src/trace/recorder.js";
import {
  chargeUserTime, CloseHandle, CreateThread, GetCurrentThread, GetLastError, GetThreadTimes, SetThreadAffinityMask, Sleep, WaitForSingleObject,
  INFINITE, ERROR_INVALID_PARAMETER,
} from "../../src/io/usermode.js";
import { KE } from "../../src/ke/kernel.js";
import { interruptView, formatInterruptView, interruptViewJson } from "../../src/workloads/fio/interrupts.js";

describe("duration histograms in xperf's buckets", () => {
  it("bucket 0 is (0, 1] µs, bucket i is (2^(i-1), 2^i] µs, the last is open", () => {
    const h = new DurationHistogram();
    const us = [0, 0.5, 1, 1.5, 2, 3, 4, 4.1, 1000, 1e9];
    for (const u of us) h.add(u * 1e6);
    expect(Array.from(h.counts.slice(0, 4))).toEqual([3, 2, 2, 1]);
    expect(h.counts[10]).toBe(1); // (512, 1024]
    expect(h.counts[DURATION_BUCKETS - 1]).toBe(1);
    expect(h.count).toBe(us.length);
    expect(h.maxPs).toBe(1e15);
    expect(durationBucketBoundsUs(0)).toEqual([0, 1]);
    expect(durationBucketBoundsUs(3)).toEqual([4, 8]);
    expect(durationBucketBoundsUs(DURATION_BUCKETS - 1)[1]).toBe(Infinity);
  });
});

describe("per-processor, per-vector and per-driver interrupt accounting", () => {
  it("adds up to the kernel's totals for the edu device's interrupts", async () => {
    const machine = await boot("default");
    const k = kernelOf(machine);
    const stats = k.recorder.stats;
    const before = stats.interruptActivity(0);
    await runEduWorkload(machine, { factorials: 12, dmaRoundTrips: 4, livenessChecks: 2, fileRoundTrips: 2 });
    const after = stats.interruptActivity(Math.max(...k.processors.map((p) => p.time)));
    expect(stats.isrs).toBeGreaterThan(0);
    expect(after.processors.reduce((n, p) => n + p.isr.count, 0)).toBe(stats.isrs);
    expect(after.processors.reduce((n, p) => n + p.dpc.count, 0)).toBe(stats.dpcs);
    expect(after.vectors.reduce((n, v) => n + v.interrupts, 0)).toBe(stats.isrs);
    for (const p of after.processors) {
      expect(Array.from(p.isr.counts).reduce((a, b) => a + b, 0)).toBe(p.isr.count);
      expect(p.threadPs + p.isrPs + p.dpcPs).toBeLessThanOrEqual(k.processors[p.cpu].time);
      expect(p.isrPs).toBeGreaterThanOrEqual(p.isr.totalPs);
    }
    const edu = after.vectors.find((v) => v.driver === "edu")!;
    expect(edu.interrupts).toBeGreaterThanOrEqual(16);
    // Each factorial and DMA interrupt's DPC completes its IRP.
    expect(edu.dpcs).toBe(edu.interrupts);
    expect(edu.completions).toBeGreaterThanOrEqual(16);
    expect(after.drivers.find((d) => d.driver === "edu")!.isr.count).toBe(edu.interrupts);
    const view = interruptView(before, after, 16);
    expect(view.interrupts).toBe(stats.isrs - before.processors.reduce((n, p) => n + p.isr.count, 0));
    expect(view.interruptsPerIo).toBeCloseTo(view.interrupts / 16, 10);
    const v = view.vectors.find((x) => x.driver === "edu")!;
    expect(v.completionsPerInterrupt).toBeCloseTo(v.completions / v.interrupts, 10);
    const text = formatInterruptView(view).join("\n");
    expect(text).toMatch(/Elapsed Time, > +\d+ usecs AND <= +\d+ usecs, +\d+, or +\d+\.\d\d%/);
    expect(text).toContain("driver edu:");
    const json = interruptViewJson(view) as { vectors: { driver: string; isr: { buckets_us: Record<string, number> } }[] };
    expect(Object.keys(json.vectors[0].isr.buckets_us).slice(0, 3)).toEqual(["0-1", "1-2", "2-4"]);
  });
});

describe("SetThreadAffinityMask and GetThreadTimes", () => {
  it("a thread runs only on the processors of its mask; a mask naming none fails with ERROR_INVALID_PARAMETER", async () => {
    const machine = await boot("default");
    const r = await machine.runProgram("affinity", async () => {
      const seen: number[][] = [[], []];
      const body = (i: number) => async () => {
        for (let n = 0; n < 6; n++) {
          seen[i].push(KE().cpu.Number);
          await Sleep(1);
        }
      };
      const a = CreateThread(null, 0, body(0), null, 0);
      const b = CreateThread(null, 0, body(1), null, 0);
      const previous = SetThreadAffinityMask(a, 0b10);
      SetThreadAffinityMask(b, 0b01);
      const zero = SetThreadAffinityMask(a, 0b100);
      const error = GetLastError();
      await WaitForSingleObject(a, INFINITE);
      await WaitForSingleObject(b, INFINITE);
      await CloseHandle(a);
      await CloseHandle(b);
      return { seen, previous, zero, error };
    });
    expect(r.previous).toBe(0b11);
    expect(r.zero).toBe(0);
    expect(r.error).toBe(ERROR_INVALID_PARAMETER);
    expect(new Set(r.seen[0])).toEqual(new Set([1]));
    expect(new Set(r.seen[1])).toEqual(new Set([0]));
  });

  it("GetThreadTimes splits the thread's processor time into what it charged as user work and the rest", async () => {
    const machine = await boot("default");
    const k = kernelOf(machine);
    const t = await machine.runProgram("times", async () => {
      const start = GetThreadTimes(GetCurrentThread());
      chargeUserTime(5e9); // 5 ms of user-mode computation
      await Sleep(1);
      const end = GetThreadTimes(GetCurrentThread());
      return { start, end, thread: KE().cpu.CurrentThread! };
    });
    expect(t.end.ok).toBe(true);
    expect(t.end.UserTime - t.start.UserTime).toBe(50_000);
    expect(t.end.KernelTime).toBeGreaterThan(t.start.KernelTime);
    expect(t.end.KernelTime + t.end.UserTime).toBeLessThanOrEqual(Math.ceil(t.thread.runPs / 100_000));
    expect(t.thread.ContextSwitches).toBeGreaterThanOrEqual(2);
    expect(k.recorder.stats.processors.reduce((n, p) => n + p.threadPs, 0)).toBeGreaterThanOrEqual(t.thread.runPs);
  });
});
