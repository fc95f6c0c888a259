// npm run fuzz's engines: device runs are deterministic and reach every interesting path
// in a short run; a planted core invariant break and a planted driver bug are found and
// reported with the seed and operation index that reproduce them; the command line.
import { describe, expect, test } from "vitest";
import { DEVICE_REQUIRED_COVERAGE, fuzzDevice } from "../../src/fuzz/device-fuzz.js";
import { fuzzKernel } from "../../src/fuzz/kernel-fuzz.js";
import { formatFinding, reproduceCommand } from "../../src/fuzz/report.js";
import { DEFAULT_DEVICE_OPS, parseFuzzArguments } from "../../src/fuzz/arguments.js";
import * as L from "../../src/machine/generated/layout.js";
import { IOCTL_OVERRUN, loadOverrunDriver, OVERRUN_DEVICE } from "./overrun-driver.js";

const SHORT = 200_000;

describe("device fuzzing", () => {
  for (const device of ["edu", "nvme"] as const) {
    test(`${device}: the same seed gives the same coverage; another seed another stream`, () => {
      const a = fuzzDevice({ device, seed: 7, ops: 50_000 });
      const b = fuzzDevice({ device, seed: 7, ops: 50_000 });
      const c = fuzzDevice({ device, seed: 8, ops: 50_000 });
      expect(a.coverage).toEqual(b.coverage);
      expect(a.simulatedPs).toBe(b.simulatedPs);
      expect(c.coverage).not.toEqual(a.coverage);
    });

    test(`${device}: a short run reaches every interesting path without a finding`, () => {
      const r = fuzzDevice({ device, seed: 1, ops: SHORT });
      expect(r.findings).toEqual([]);
      expect(r.ops).toBe(SHORT);
      expect(r.uncovered).toEqual([]);
      for (const name of DEVICE_REQUIRED_COVERAGE[device]) expect(r.coverage[name], name).toBeGreaterThan(0);
    });
  }

  test("a write into the core's static data between chunks is caught, with the seed and operation index", () => {
    const r = fuzzDevice({
      device: "edu", seed: 3, ops: 100_000, chunk: 10_000,
      between: (m) => { if (m.core.f64[(L.FUZZ_RECORD_BASE + L.FUZZ_OP_INDEX) >> 3] === 30_000) m.core.u8[0x100] ^= 0xFF; },
    });
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ kind: "memory-guard", seed: 3, op: 30_000, target: "device:edu", blame: "core" });
    expect(reproduceCommand(r.findings[0])).toBe("npm run fuzz -- --device edu --seed 3 --ops 30001");
  });

  test("an event pending before core time (planted through the queue's test access) is caught at the next operation", () => {
    const r = fuzzDevice({
      device: "nvme", seed: 3, ops: 100_000, chunk: 10_000,
      between: (m) => {
        // A kind the run loop never dispatches, one picosecond in the past.
        if (m.core.f64[(L.FUZZ_RECORD_BASE + L.FUZZ_OP_INDEX) >> 3] === 20_000) m.core.x.queueSchedule(m.core.nowPs - 1, 0, 200, 0, 0);
      },
    });
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ kind: "invariant", seed: 3, op: 20_000, target: "device:nvme" });
    expect(r.findings[0].message).toMatch(/an event is pending before core time/);
  });
});

describe("kernel user-mode surface fuzzing", () => {
  const targets = [{ path: OVERRUN_DEVICE, codes: [IOCTL_OVERRUN] }];

  test("finds a planted METHOD_NEITHER overrun under special pool, blames the driver, and reproduces from seed and operation", async () => {
    const r = await fuzzKernel({ seed: 11, ops: 400, specialPool: true, targets, setup: loadOverrunDriver });
    expect(r.findings.length).toBeGreaterThan(0);
    const f = r.findings[0];
    expect(f.kind).toBe("bugcheck");
    expect(f.blame).toBe("overrun");
    expect(f.bugCheck?.code).toBeGreaterThan(0);
    expect(formatFinding(f).join("\n")).toContain(`reproduce: npm run fuzz -- --kernel --seed 11 --kernel-ops ${f.op + 1}`);
    // Replaying exactly that many operations stops at the same operation with the same bug check.
    const again = await fuzzKernel({ seed: 11, ops: f.op + 1, specialPool: true, targets, setup: loadOverrunDriver });
    expect(again.findings[0]).toMatchObject({ op: f.op, message: f.message, blame: "overrun" });
  }, 60_000);

  test("the same seed gives the same operations and outcomes", async () => {
    const a = await fuzzKernel({ seed: 5, ops: 150, targets, setup: loadOverrunDriver });
    const b = await fuzzKernel({ seed: 5, ops: 150, targets, setup: loadOverrunDriver });
    expect(a.coverage).toEqual(b.coverage);
    expect(a.findings.map((f) => [f.op, f.message])).toEqual(b.findings.map((f) => [f.op, f.message]));
    expect(a.coverage.ioctl).toBeGreaterThan(0);
    expect(a.coverage.invalidHandle).toBeGreaterThan(0);
  }, 60_000);
});

describe("the command line", () => {
  test("defaults: every device and the kernel, 10 million device operations", () => {
    expect(parseFuzzArguments([])).toMatchObject({ devices: ["edu", "nvme"], kernel: true, ops: DEFAULT_DEVICE_OPS, seed: 1, json: false });
    expect(parseFuzzArguments(["--device", "nvme", "--ops", "1_000", "--seed", "9", "--json"])).toMatchObject({ devices: ["nvme"], kernel: false, ops: 1000, seed: 9, json: true });
    expect(parseFuzzArguments(["--kernel"])).toMatchObject({ devices: [], kernel: true });
  });

  test("bad flags are errors that name the problem", () => {
    expect(parseFuzzArguments(["--device", "sata"])).toEqual({ error: '--device takes edu, nvme or all, not "sata"' });
    expect(parseFuzzArguments(["--ops", "-3"])).toEqual({ error: '--ops takes a non-negative integer, not "-3"' });
    expect(parseFuzzArguments(["--seed"])).toEqual({ error: "--seed needs a value" });
    expect(parseFuzzArguments(["--frobnicate"])).toEqual({ error: 'unknown option "--frobnicate"' });
  });
});
