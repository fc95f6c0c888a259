/**
 * The binary heap the core's event queue (assembly/sim/queue.ts) used to be, in plain
 * TypeScript, as the baseline for the event benchmark: a binary min-heap of 40-byte
 * records in one ArrayBuffer, ordered by (time, priority << 48 | insertion sequence), so
 * equal times and priorities pop in FIFO order. Sift-up on push, "move the last record
 * down from the root" on pop, a copy of the popped record into a fixed `current` slot.
 *
 *   Event (40 bytes)
 *   +0  time   f64   picoseconds (exact below 2^53)
 *   +8  order  f64   priority * 2^48 + sequence (exact while priority < 32)
 *   +16 kind   u32
 *   +20 target u32
 *   +24 a      f64
 *   +32 b      f64
 *
 * The 64-bit fields are doubles rather than BigInt: that is how a TypeScript engine
 * would be written for speed, and every value the core uses fits.
 */

/** Bytes of one record. */
export const TS_EVENT_SIZE = 40;
const SLOTS = TS_EVENT_SIZE / 8;
const TWO_48 = 2 ** 48;

/** Priority for ordinary events (the core's PRIORITY_NORMAL). */
export const TS_PRIORITY_NORMAL = 8;

export class TsEventQueue {
  readonly capacity: number;
  /** Events in the heap. */
  count = 0;
  /** Insertion counter. */
  seq = 0;
  /** Time of the earliest event (Infinity when empty). */
  nextTime = Infinity;
  private readonly f: Float64Array;
  private readonly u: Uint32Array;
  /** The record pop() copied out: time, order, kind, target, a, b. */
  readonly current: Float64Array;
  private readonly currentU: Uint32Array;

  constructor(capacity = 65536) {
    this.capacity = capacity;
    const buffer = new ArrayBuffer(capacity * TS_EVENT_SIZE);
    this.f = new Float64Array(buffer);
    this.u = new Uint32Array(buffer);
    const cur = new ArrayBuffer(TS_EVENT_SIZE);
    this.current = new Float64Array(cur);
    this.currentU = new Uint32Array(cur);
  }

  /** Kind of the record pop() copied out. */
  get currentKind(): number {
    return this.currentU[4];
  }

  /** Target of the record pop() copied out. */
  get currentTarget(): number {
    return this.currentU[5];
  }

  /** Schedules an event at `time` (ps). Returns false when full. */
  push(time: number, kind: number, target: number, a: number, b: number, priority = TS_PRIORITY_NORMAL): boolean {
    if (this.count >= this.capacity) return false;
    const f = this.f;
    const u = this.u;
    const order = priority * TWO_48 + this.seq++;
    let i = this.count++;
    // Sift up: move parents down until the new record's place is found.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = parent * SLOTS;
      const pt = f[p];
      if (!(time < pt || (time === pt && order < f[p + 1]))) break;
      const d = i * SLOTS;
      f[d] = pt;
      f[d + 1] = f[p + 1];
      u[2 * d + 4] = u[2 * p + 4];
      u[2 * d + 5] = u[2 * p + 5];
      f[d + 3] = f[p + 3];
      f[d + 4] = f[p + 4];
      i = parent;
    }
    const e = i * SLOTS;
    f[e] = time;
    f[e + 1] = order;
    u[2 * e + 4] = kind;
    u[2 * e + 5] = target;
    f[e + 3] = a;
    f[e + 4] = b;
    if (i === 0) this.nextTime = time;
    return true;
  }

  /** Removes the earliest event into `current`. The queue must not be empty. */
  pop(): void {
    const f = this.f;
    const u = this.u;
    const c = this.current;
    const cu = this.currentU;
    c[0] = f[0];
    c[1] = f[1];
    cu[4] = u[4];
    cu[5] = u[5];
    c[3] = f[3];
    c[4] = f[4];
    const n = --this.count;
    if (n > 0) {
      // Sift the last record down from the root.
      const last = n * SLOTS;
      const lt = f[last];
      const lo = f[last + 1];
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        let cs = child * SLOTS;
        let ct = f[cs];
        let co = f[cs + 1];
        if (child + 1 < n) {
          const rs = cs + SLOTS;
          const rt = f[rs];
          const ro = f[rs + 1];
          if (rt < ct || (rt === ct && ro < co)) { child++; cs = rs; ct = rt; co = ro; }
        }
        if (!(ct < lt || (ct === lt && co < lo))) break;
        const d = i * SLOTS;
        f[d] = ct;
        f[d + 1] = co;
        u[2 * d + 4] = u[2 * cs + 4];
        u[2 * d + 5] = u[2 * cs + 5];
        f[d + 3] = f[cs + 3];
        f[d + 4] = f[cs + 4];
        i = child;
      }
      if (i !== n) {
        const d = i * SLOTS;
        f[d] = lt;
        f[d + 1] = lo;
        u[2 * d + 4] = u[2 * last + 4];
        u[2 * d + 5] = u[2 * last + 5];
        f[d + 3] = f[last + 3];
        f[d + 4] = f[last + 4];
      }
    }
    this.nextTime = n === 0 ? Infinity : f[0];
  }

  /** Empties the queue. */
  clear(): void {
    this.count = 0;
    this.seq = 0;
    this.nextTime = Infinity;
  }

  /**
   * Loads `count` records already in heap order (say, a copy of the core's heap), with
   * times and orders as doubles. Used to give both queues the identical heap.
   */
  loadHeap(times: Float64Array, orders: Float64Array, kinds: Uint32Array, targets: Uint32Array, count: number, seq: number): void {
    if (count > this.capacity) throw new RangeError("heap larger than the queue");
    const f = this.f;
    const u = this.u;
    for (let i = 0; i < count; i++) {
      const e = i * SLOTS;
      f[e] = times[i];
      f[e + 1] = orders[i];
      u[2 * e + 4] = kinds[i];
      u[2 * e + 5] = targets[i];
      f[e + 3] = 0;
      f[e + 4] = 0;
    }
    this.count = count;
    this.seq = seq;
    this.nextTime = count === 0 ? Infinity : f[0];
  }
}
