// Snapshot and restore of the whole machine: a run forked from a snapshot does exactly
// what the original does from that point, event for event.
import { describe, expect, test } from "vitest";
import { CoreHarness, EDU, pattern, readyEdu } from "../support/core-harness.js";
import { Machine } from "../../src/machine/machine.js";

/** Drives a workload that keeps events in flight across the snapshot point. */
function work(h: CoreHarness, round: number): void {
  h.mmioWrite(EDU.STATUS, 0x80);
  h.mmioWrite(EDU.FACTORIAL, 5 + round);
  h.mmioWrite(EDU.DMA_SRC, BigInt(EDU.BUFFER), 8);
  h.mmioWrite(EDU.DMA_DST, BigInt(0x500000 + round * 0x1000), 8);
  h.mmioWrite(EDU.DMA_COUNT, 4096n, 8);
  h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START | EDU.DMA_TO_RAM | EDU.DMA_IRQ);
  h.advance(3e6);
}

/** A harness over a restored machine, with the CPU clock and page tables as they were. */
function fork(original: CoreHarness, snapshot = original.machine.snapshot()): CoreHarness {
  const m = Machine.restore(snapshot);
  return Object.assign(Object.create(CoreHarness.prototype) as CoreHarness, original, { machine: m, core: m.core, x: m.core.x });
}

describe("snapshot and restore", () => {
  test("a restored machine has byte-identical memory, time and counters", () => {
    const h = readyEdu();
    h.enableMsi();
    work(h, 0);
    const s = h.machine.snapshot();
    const r = Machine.restore(s);
    expect(r.core.nowPs).toBe(h.core.nowPs);
    expect(r.core.nextEventPs).toBe(h.core.nextEventPs);
    expect(r.core.counters()).toEqual(h.core.counters());
    expect(Buffer.from(r.core.snapshot()).equals(Buffer.from(s.memory))).toBe(true);
  });

  test("running the same inputs after restore gives the identical trace, with events in flight at the snapshot", () => {
    const h = readyEdu({ trace: true });
    h.enableMsi();
    h.core.writePhysical(0x400000, pattern(4096, 5));
    work(h, 0);
    // Leave a DMA and a factorial in flight.
    h.mmioWrite(EDU.FACTORIAL, 12);
    h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START | EDU.DMA_TO_RAM | EDU.DMA_IRQ);
    h.drainTrace();
    expect(h.core.nextEventPs).toBeLessThan(Infinity);
    const snapshot = h.machine.snapshot();
    const a = fork(h, snapshot);
    const b = fork(h, snapshot);
    for (const run of [a, b]) for (let round = 1; round < 4; round++) work(run, round);
    expect(a.core.nowPs).toBe(b.core.nowPs);
    expect(Buffer.from(a.traceBytes()).equals(Buffer.from(b.traceBytes()))).toBe(true);
    expect(Buffer.from(a.core.snapshot()).equals(Buffer.from(b.core.snapshot()))).toBe(true);
    expect(a.drainTrace().length).toBeGreaterThan(10);
    // And the original, continued, matches the forks.
    for (let round = 1; round < 4; round++) work(h, round);
    expect(h.core.readPhysical(0x500000, 0x4000)).toEqual(a.core.readPhysical(0x500000, 0x4000));
    expect(h.core.counters()).toEqual(a.core.counters());
  });

  test("a snapshot is independent of the machine it came from", () => {
    const h = readyEdu();
    const s = h.machine.snapshot();
    h.core.writePhysical(0x500000, new Uint8Array([1, 2, 3]));
    expect(Machine.restore(s).core.readPhysical(0x500000, 3)).toEqual(new Uint8Array(3));
  });
});
