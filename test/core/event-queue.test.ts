// The core's event queue pops in exactly (time, priority, insertion sequence) order,
// whatever mix of schedules, pops and clears reaches it: checked against a reference
// that sorts, with equal times, times before the last pop, clustered and far-apart times.
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { CoreHarness, L } from "../support/core-harness.js";
import { Machine } from "../../src/machine/machine.js";

const TWO_32 = 2 ** 32;
/** A kind the run loop does not dispatch (non-zero: zero marks a free record). */
const KIND = 0xE7;

interface Pending { time: number; priority: number; seq: number; id: number }

/** (time, priority, sequence) of `a` before that of `b`. */
function earlier(a: Pending, b: Pending): boolean {
  return a.time < b.time || (a.time === b.time && (a.priority < b.priority || (a.priority === b.priority && a.seq < b.seq)));
}

/** The reference: every pending event, popped by sorting on (time, priority, sequence). */
class Reference {
  pending: Pending[] = [];
  seq = 0;
  /** Time of the last event popped, the simulation's "now" for relative times. */
  last = 0;

  schedule(time: number, priority: number, id: number): void {
    this.pending.push({ time, priority, seq: this.seq++, id });
  }

  pop(): Pending | undefined {
    if (this.pending.length === 0) return undefined;
    let best = 0;
    for (let i = 1; i < this.pending.length; i++) if (earlier(this.pending[i], this.pending[best])) best = i;
    const [e] = this.pending.splice(best, 1);
    this.last = e.time;
    return e;
  }

  /** Every pending event in pop order (empties the reference). */
  drain(): Pending[] {
    const all = this.pending.sort((a, b) => (earlier(a, b) ? -1 : earlier(b, a) ? 1 : 0));
    this.pending = [];
    if (all.length > 0) this.last = all[all.length - 1].time;
    return all;
  }

  clear(): void {
    this.pending = [];
    this.seq = 0;
  }

  get nextTime(): number {
    return this.pending.length === 0 ? Infinity : Math.min(...this.pending.map((e) => e.time));
  }
}

/** The event the core popped last (the current-event record). */
function popped(h: CoreHarness): { time: number; priority: number; seq: number; kind: number; target: number } {
  const w = L.CURRENT_EVENT_BASE >> 2;
  const u = h.core.u32;
  return {
    time: u[w] + u[w + 1] * TWO_32,
    priority: u[w + 3] >>> 16,
    seq: u[w + 2] + (u[w + 3] & 0xFFFF) * TWO_32,
    kind: u[w + 4],
    target: u[w + 5],
  };
}

function pendingCount(h: CoreHarness): number {
  return h.core.u32[(L.CORE_STATE_BASE + L.CORE_EVENT_COUNT) >> 2];
}

/** Pops one event from both and checks they agree (order, payload); `want` when the reference already popped it. */
function popBoth(h: CoreHarness, ref: Reference, want = ref.pop()): void {
  const got = h.x.queuePop();
  if (!want) {
    expect(got).toBe(0);
    return;
  }
  expect(got).toBe(1);
  const e = popped(h);
  expect({ time: e.time, priority: e.priority, seq: e.seq, target: e.target, kind: e.kind })
    .toEqual({ time: want.time, priority: want.priority, seq: want.seq, target: want.id, kind: KIND });
}

function checkState(h: CoreHarness, ref: Reference): void {
  expect(h.core.nextEventPs).toBe(ref.nextTime);
  expect(pendingCount(h)).toBe(ref.pending.length);
}

// Times are resolved when the operation runs, relative to the last pop where asked.
type TimeSpec =
  | { at: "after"; delta: number }
  | { at: "before"; delta: number }
  | { at: "absolute"; time: number }
  | { at: "same"; pick: number };

type Op =
  | { op: "schedule"; when: TimeSpec; priority: number; repeat: number }
  | { op: "pop"; repeat: number }
  | { op: "clear" };

/** A delta of 0 .. 2^k ps for a random k: ties, the same bucket, neighbouring slots, far levels. */
const delta = fc.integer({ min: 0, max: 50 }).chain((k) => fc.integer({ min: 0, max: 2 ** k }));

const timeSpec: fc.Arbitrary<TimeSpec> = fc.oneof(
  { weight: 6, arbitrary: delta.map((d) => ({ at: "after" as const, delta: d })) },
  { weight: 1, arbitrary: delta.map((d) => ({ at: "before" as const, delta: d })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 ** 53 - 1 }).map((t) => ({ at: "absolute" as const, time: t })) },
  { weight: 2, arbitrary: fc.nat().map((p) => ({ at: "same" as const, pick: p })) },
);

const priority = fc.oneof({ weight: 5, arbitrary: fc.constant(L.PRIORITY_NORMAL) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) });

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ op: fc.constant("schedule" as const), when: timeSpec, priority, repeat: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 8, arbitrary: fc.record({ op: fc.constant("pop" as const), repeat: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: "clear" as const }) },
);

function resolve(when: TimeSpec, ref: Reference): number {
  switch (when.at) {
    case "after": return Math.min(ref.last + when.delta, 2 ** 53 - 1);
    case "before": return Math.max(ref.last - when.delta, 0);
    case "absolute": return when.time;
    case "same": return ref.pending.length === 0 ? ref.last : ref.pending[when.pick % ref.pending.length].time;
  }
}

function apply(h: CoreHarness, ref: Reference, o: Op, ids: { next: number }): void {
  if (o.op === "clear") {
    h.x.queueReset();
    ref.clear();
  } else if (o.op === "pop") {
    for (let i = 0; i < o.repeat; i++) popBoth(h, ref);
  } else {
    for (let i = 0; i < o.repeat; i++) {
      const time = resolve(o.when, ref);
      const id = ids.next++ >>> 0;
      expect(h.x.queueSchedule(time, o.priority, KIND, id, 0)).toBe(1);
      ref.schedule(time, o.priority, id);
    }
  }
  checkState(h, ref);
}

describe("event queue order", () => {
  const h = new CoreHarness();

  test("random schedules, pops and clears pop in (time, priority, sequence) order", () => {
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), (ops) => {
      h.x.queueReset();
      const ref = new Reference();
      const ids = { next: 0 };
      for (const o of ops) apply(h, ref, o, ids);
      while (ref.pending.length > 0) popBoth(h, ref);
      checkState(h, ref);
      expect(h.x.fault()).toBe(0);
    }), { numRuns: 300, seed: 20261203 });
  });

  test("times that arrive out of order within a few picoseconds, with equal times and mixed priorities", () => {
    h.x.queueReset();
    const ref = new Reference();
    let id = 0;
    // Descending, interleaved and repeated times inside one nanosecond, well after zero.
    const base = 5_000_000;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 400; i++) {
        const time = base + round * 1000 + ((i * 7919) % 997) - (i % 3 === 0 ? i : 0);
        const p = i % 11 === 0 ? 3 : i % 13 === 0 ? 12 : L.PRIORITY_NORMAL;
        h.x.queueSchedule(time, p, KIND, id, 0);
        ref.schedule(time, p, id++);
      }
      for (let i = 0; i < 150; i++) popBoth(h, ref);
      checkState(h, ref);
    }
    while (ref.pending.length > 0) popBoth(h, ref);
    checkState(h, ref);
  });

  test("a full queue refuses the next event with FAULT_EVENT_QUEUE_FULL and still pops in order", () => {
    const m = new CoreHarness();
    m.x.queueReset();
    const ref = new Reference();
    let refused = 0;
    for (let i = 0; i < L.EVENT_CAPACITY; i++) {
      // Spread over about a millisecond, in a scrambled order, with many equal times.
      const time = 1_000_000 + ((i * 40503) % 65521) * 16;
      if (!m.x.queueSchedule(time, L.PRIORITY_NORMAL, KIND, i, 0)) refused++;
      ref.schedule(time, L.PRIORITY_NORMAL, i);
    }
    expect(refused).toBe(0);
    expect(m.x.fault()).toBe(0);
    expect(m.x.queueSchedule(0, L.PRIORITY_NORMAL, KIND, 0, 0)).toBe(0);
    expect(m.x.fault()).toBe(L.FAULT_EVENT_QUEUE_FULL);
    checkState(m, ref);
    // Compare the whole pop order at once (per-pop expectations are slow at this size).
    const want = ref.drain();
    const got: number[] = [];
    while (m.x.queuePop()) got.push(popped(m).target);
    expect(got).toEqual(want.map((e) => e.id));
    checkState(m, ref);
  });

  test("a restored snapshot pops the same events in the same order as the original", () => {
    const a = new CoreHarness();
    a.x.queueReset();
    const ref = new Reference();
    let id = 0;
    for (let i = 0; i < 3000; i++) {
      const time = 7_000_000 + ((i * 2654435761) % 1_000_003) * 37;
      a.x.queueSchedule(time, i % 5 === 0 ? 2 : L.PRIORITY_NORMAL, KIND, id, 0);
      ref.schedule(time, i % 5 === 0 ? 2 : L.PRIORITY_NORMAL, id++);
      if (i % 3 === 2) popBoth(a, ref);
    }
    const restored = Machine.restore(a.machine.snapshot());
    const b = Object.assign(Object.create(CoreHarness.prototype) as CoreHarness, a, { machine: restored, core: restored.core, x: restored.core.x });
    const bRef = new Reference();
    bRef.pending = ref.pending.map((e) => ({ ...e }));
    bRef.seq = ref.seq;
    bRef.last = ref.last;
    checkState(b, bRef);
    for (const [hh, rr] of [[a, ref], [b, bRef]] as const) {
      for (let i = 0; i < 500; i++) {
        hh.x.queueSchedule(rr.last + (i * 7) % 5000, L.PRIORITY_NORMAL, KIND, id + i, 0);
        rr.schedule(rr.last + (i * 7) % 5000, L.PRIORITY_NORMAL, id + i);
        popBoth(hh, rr);
      }
      while (rr.pending.length > 0) popBoth(hh, rr);
    }
  });
});
