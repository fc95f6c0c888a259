/**
 * Event throughput: how many events per host second the core's WebAssembly event queue
 * (a sorted front list and a timing wheel) gets through, next to a binary heap in plain
 * TypeScript (bench/ts-queue.ts, the algorithm the core's queue used before).
 *
 * 1. "edu workload": the default machine, no kernel. Each round starts a factorial and a
 *    4 KiB DMA (alternating direction) with posted MMIO writes, then `run(Infinity)`
 *    drains everything they cause (write arrivals, factorial done, DMA start, the landed
 *    write, DMA done). Timed: the whole round (the register writes push events too).
 *    Baseline: the TypeScript heap replays the exact push/pop sequence the core performed
 *    (times, priorities and kinds recorded by single-stepping the core once, untimed).
 * 2. "queue drain": posted writes to the liveness register fill the core's queue (1,024
 *    deep, and nearly full at 61,440); one timed `run(Infinity)` pops and dispatches
 *    them all (the dispatch is a register store). Baseline: the TypeScript heap loaded
 *    with the same events (the heap a binary heap builds from them), drained by pop().
 *    The writes arrive in time order, so every heap pop sifts the last record to the
 *    bottom (its worst case).
 */
import type { CoreHarness } from "../test/support/core-harness.js";
import { compare, now, row, type Benchmark, type Row, type RunOptions, type Sample } from "./lib.js";
import { TsEventQueue } from "./ts-queue.js";
import { defaultMachineWithEdu, drain, eventsProcessed, startDma, write32, EDU, EVENT_COUNT_INDEX, L } from "./core-machine.js";

const TWO_32 = 2 ** 32;
const SEQ_HIGH_MASK = 0xFFFF;

/** One edu round: a factorial and a DMA started by register writes. */
function startRound(h: CoreHarness, round: number): void {
  write32(h, EDU.FACTORIAL, 1 + (round % 20));
  startDma(h, (round & 1) === 1);
}

/** The push/pop sequence the core performed, for the TypeScript replay. */
class OpLog {
  length = 0;
  pops = 0;
  /** Pushes that were popped within the same run step, so their kind is unknown (should stay 0). */
  hidden = 0;
  maxDepth = 0;
  op = new Uint8Array(1 << 16);
  time = new Float64Array(1 << 16);
  priority = new Uint8Array(1 << 16);
  kind = new Uint32Array(1 << 16);
  target = new Uint32Array(1 << 16);

  add(op: number, time: number, priority: number, kind: number, target: number): void {
    if (this.length === this.op.length) this.grow();
    const i = this.length++;
    this.op[i] = op;
    this.time[i] = time;
    this.priority[i] = priority;
    this.kind[i] = kind;
    this.target[i] = target;
    if (op === 0) this.pops++;
  }

  private grow(): void {
    const n = this.op.length * 2;
    const g = <T extends Uint8Array | Float64Array | Uint32Array>(a: T, make: (n: number) => T): T => { const b = make(n); b.set(a as never); return b; };
    this.op = g(this.op, (k) => new Uint8Array(k));
    this.time = g(this.time, (k) => new Float64Array(k));
    this.priority = g(this.priority, (k) => new Uint8Array(k));
    this.kind = g(this.kind, (k) => new Uint32Array(k));
    this.target = g(this.target, (k) => new Uint32Array(k));
  }
}

interface HeapRecord { time: number; priority: number; seq: number; kind: number; target: number }

/** Pending events in the core's queue with an insertion sequence of at least `minSeq`, in insertion order. */
function heapRecordsFrom(h: CoreHarness, minSeq: number): HeapRecord[] {
  const u = h.core.u32;
  const top = u[(L.EVENT_QUEUE_BASE + L.QUEUE_POOL_TOP) >> 2];
  const out: HeapRecord[] = [];
  // The queue's records live in a pool; a free record has kind 0.
  for (let i = 1; i <= top; i++) {
    const base = L.EVENT_POOL_BASE + i * L.EVENT_RECORD_SIZE;
    const kind = u[(base + L.EVENT_RECORD_KIND) >> 2];
    if (kind === 0) continue;
    const o = (base + L.EVENT_RECORD_ORDER) >> 2;
    const orderHi = u[o + 1];
    const seq = u[o] + (orderHi & SEQ_HIGH_MASK) * TWO_32;
    if (seq < minSeq) continue;
    out.push({ time: u[base >> 2] + u[(base >> 2) + 1] * TWO_32, priority: orderHi >>> 16, seq, kind, target: u[(base + L.EVENT_RECORD_TARGET) >> 2] });
  }
  return out.sort((a, b) => a.seq - b.seq);
}

/**
 * Runs `rounds` edu rounds on a fresh machine one event time at a time, logging every
 * push (with its record) and pop in the order the core did them.
 */
function recordRounds(rounds: number): OpLog {
  const h = defaultMachineWithEdu();
  drain(h);
  const log = new OpLog();
  let nextSeq = 0;
  const logPushes = (records: HeapRecord[]) => {
    for (const r of records) {
      log.add(1, r.time, r.priority, r.kind, r.target);
      nextSeq = r.seq + 1;
    }
  };
  // Sequence numbers already used by setup: everything below the current maximum.
  for (const r of heapRecordsFrom(h, 0)) nextSeq = Math.max(nextSeq, r.seq + 1);
  const u = h.core.u32;
  for (let round = 0; round < rounds; round++) {
    startRound(h, round);
    logPushes(heapRecordsFrom(h, nextSeq));
    log.maxDepth = Math.max(log.maxDepth, u[EVENT_COUNT_INDEX]);
    while (h.core.nextEventPs !== Infinity) {
      const t = h.core.nextEventPs;
      const before = u[EVENT_COUNT_INDEX];
      const e0 = eventsProcessed(h);
      const r = h.x.run(t);
      if (r !== 0) throw new Error(`run() stopped early (${r})`);
      const popped = eventsProcessed(h) - e0;
      const after = u[EVENT_COUNT_INDEX];
      const fresh = heapRecordsFrom(h, nextSeq);
      const hidden = after - before + popped - fresh.length;
      for (let i = 0; i < popped - hidden; i++) log.add(0, t, 0, 0, 0);
      for (let i = 0; i < hidden; i++) { log.add(1, t, 8, 0, 0); log.add(0, t, 0, 0, 0); }
      log.hidden += hidden;
      logPushes(fresh);
      log.maxDepth = Math.max(log.maxDepth, after);
    }
  }
  return log;
}

/** Replays the log through the TypeScript heap; returns the events popped. */
function replay(q: TsEventQueue, log: OpLog, check: boolean): number {
  q.clear();
  const { op, time, priority, kind, target } = log;
  const n = log.length;
  let clock = 0;
  let popped = 0;
  for (let i = 0; i < n; i++) {
    if (op[i] === 1) {
      q.push(time[i], kind[i], target[i], 0, 0, priority[i]);
    } else {
      q.pop();
      const t = q.current[0];
      if (t > clock) clock = t;
      if (check && t !== time[i]) throw new Error(`replay diverged at op ${i}: popped t=${t}, the core popped t=${time[i]}`);
      popped++;
    }
  }
  if (q.count !== 0) throw new Error(`replay left ${q.count} events queued`);
  return popped;
}

async function eduWorkload(options: RunOptions): Promise<Row> {
  const rounds = Math.max(100, Math.round(120_000 * options.scale));
  const r0 = now();
  const log = recordRounds(rounds);
  const recordMs = now() - r0;
  const q = new TsEventQueue();
  replay(q, log, true);

  const h = defaultMachineWithEdu();
  drain(h);
  let round = 0;
  let simPs = 0;
  let simRounds = 0;
  const core: Sample = () => {
    const e0 = eventsProcessed(h);
    const s0 = h.now;
    const t0 = now();
    for (let i = 0; i < rounds; i++) {
      startRound(h, round++);
      drain(h);
    }
    const ms = now() - t0;
    simPs += h.now - s0;
    simRounds += rounds;
    return { units: eventsProcessed(h) - e0, ms };
  };
  const ts: Sample = () => {
    const t0 = now();
    const units = replay(q, log, false);
    return { units, ms: now() - t0 };
  };
  const samples = await compare(options.repeats, core, ts);
  return row("event queue, edu workload (factorial + 4 KiB DMA per round)", "events/s", "TS heap replaying the same push/pop sequence", samples, {
    rounds,
    eventsPerRound: log.pops / rounds,
    maxQueueDepth: log.maxDepth,
    replayHiddenPushes: log.hidden,
    simulatedNsPerRound: simPs / 1000 / simRounds,
    recordingSeconds: recordMs / 1000,
  }, { op: "round (factorial + DMA)", ns: simPs / 1000 / simRounds, unitsPerOp: log.pops / rounds });
}

async function queueDrain(options: RunOptions, depth: number, eventsPerRepeat: number): Promise<Row> {
  const cycles = Math.max(1, Math.round((eventsPerRepeat * options.scale) / depth));
  const h = defaultMachineWithEdu();
  drain(h);
  const q = new TsEventQueue();
  const u = h.core.u32;
  const times = new Float64Array(depth);
  const orders = new Float64Array(depth);
  const kinds = new Uint32Array(depth);
  const targets = new Uint32Array(depth);
  /** Fills the core's heap with `depth` posted writes (untimed). */
  const fill = () => {
    for (let i = 0; i < depth; i++) write32(h, EDU.LIVENESS, i);
    if (u[EVENT_COUNT_INDEX] !== depth) throw new Error(`expected ${depth} queued events, the core has ${u[EVENT_COUNT_INDEX]}`);
  };
  /**
   * Loads the TypeScript queue with the core's pending events in pop order (untimed): a
   * sorted array is a valid heap, and for writes that arrive in time order it is the
   * array a binary heap builds itself.
   */
  const copyHeap = () => {
    const records = heapRecordsFrom(h, 0).sort((a, b) => a.time - b.time || a.priority - b.priority || a.seq - b.seq);
    if (records.length !== depth) throw new Error(`expected ${depth} pending events, found ${records.length}`);
    let maxSeq = 0;
    records.forEach((r, i) => {
      times[i] = r.time;
      orders[i] = r.priority * 2 ** 48 + r.seq;
      kinds[i] = r.kind;
      targets[i] = r.target;
      maxSeq = Math.max(maxSeq, r.seq);
    });
    q.loadHeap(times, orders, kinds, targets, depth, maxSeq + 1);
  };
  const core: Sample = () => {
    let ms = 0;
    let units = 0;
    for (let c = 0; c < cycles; c++) {
      fill();
      const e0 = eventsProcessed(h);
      const t0 = now();
      drain(h);
      ms += now() - t0;
      units += eventsProcessed(h) - e0;
    }
    return { units, ms };
  };
  const ts: Sample = () => {
    let ms = 0;
    let units = 0;
    for (let c = 0; c < cycles; c++) {
      fill();
      copyHeap();
      drain(h);
      const t0 = now();
      let clock = 0;
      while (q.count > 0) {
        q.pop();
        const t = q.current[0];
        if (t > clock) clock = t;
        units++;
      }
      ms += now() - t0;
    }
    return { units, ms };
  };
  const samples = await compare(options.repeats, core, ts);
  return row(`event queue drain: ${depth.toLocaleString("en-US")} queued MMIO writes, run() only`, "events/s", "TS heap pop() of the same events", samples, { depth, drainsPerRepeat: cycles });
}

export const events: Benchmark = {
  name: "events",
  description: "core event queue throughput vs the same heap in plain TypeScript",
  async run(options) {
    return [await eduWorkload(options), await queueDrain(options, 1024, 1_000_000), await queueDrain(options, L.EVENT_CAPACITY - 4096, 1_000_000)];
  },
};
