// The event queue: a binary min-heap of Event records ordered by (time, priority,
// insertion sequence). Ties in time and priority run in insertion (FIFO) order, so the
// order of a run depends only on what was scheduled, never on the heap's shape.
//
//   Event (EVENT_SIZE = 40 bytes)
//   +0  time   u64   picoseconds
//   +8  order  u64   priority << 48 | insertion sequence
//   +16 kind   u32   EV_*
//   +20 target u32   PCI function index (or other owner)
//   +24 a      u64   kind-specific
//   +32 b      u64   kind-specific

import { EVENT_CAPACITY, EVENT_QUEUE_BASE, EVENT_SIZE } from "../memmap";
import { core, raiseFault, FAULT_EVENT_QUEUE_FULL } from "./core";

@unmanaged
export class Event {
  time: u64;
  order: u64;
  kind: u32;
  target: u32;
  a: u64;
  b: u64;
}

/** Priority for ordinary events. Lower priorities run first at equal times. */
export const PRIORITY_NORMAL: u32 = 8;

// @ts-ignore: decorator
@inline function slot(i: u32): usize {
  return EVENT_QUEUE_BASE + <usize>i * EVENT_SIZE;
}

// @ts-ignore: decorator
@inline function before(ta: u64, oa: u64, tb: u64, ob: u64): bool {
  return ta < tb || (ta == tb && oa < ob);
}

/** Copies one 40-byte record as five u64 words (cheaper than memory.copy at this size). */
// @ts-ignore: decorator
@inline function move(dst: usize, src: usize): void {
  store<u64>(dst, load<u64>(src));
  store<u64>(dst, load<u64>(src, 8), 8);
  store<u64>(dst, load<u64>(src, 16), 16);
  store<u64>(dst, load<u64>(src, 24), 24);
  store<u64>(dst, load<u64>(src, 32), 32);
}

function publishNext(): void {
  core.nextEventPs = core.eventCount == 0 ? Infinity : <f64>load<u64>(slot(0));
}

/** Schedules an event at absolute time `time` (ps). Returns false (and faults) when full. */
export function schedule(time: u64, kind: u32, target: u32, a: u64, b: u64, priority: u32 = PRIORITY_NORMAL): bool {
  if (core.eventCount >= EVENT_CAPACITY) {
    raiseFault(FAULT_EVENT_QUEUE_FULL);
    return false;
  }
  const order = (<u64>priority << 48) | core.seq++;
  // Sift up: move parents down until the new record's place is found.
  let i = core.eventCount++;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = slot(parent);
    if (!before(time, order, load<u64>(p), load<u64>(p, 8))) break;
    move(slot(i), p);
    i = parent;
  }
  const e = slot(i);
  store<u64>(e, time);
  store<u64>(e, order, 8);
  store<u32>(e, kind, 16);
  store<u32>(e, target, 20);
  store<u64>(e, a, 24);
  store<u64>(e, b, 32);
  if (i == 0) core.nextEventPs = <f64>time;
  return true;
}

/** Time of the earliest event; only meaningful when the queue is not empty. */
@inline
export function peekTime(): u64 {
  return load<u64>(EVENT_QUEUE_BASE);
}

/** Removes the earliest event, copying it into `out`. The queue must not be empty. */
export function pop(out: Event): void {
  move(changetype<usize>(out), slot(0));
  const n = --core.eventCount;
  if (n > 0) {
    // Sift the last record down from the root.
    const last = slot(n);
    const lt = load<u64>(last);
    const lo = load<u64>(last, 8);
    let i: u32 = 0;
    while (true) {
      let child: u32 = 2 * i + 1;
      if (child >= n) break;
      let c = slot(child);
      let ct = load<u64>(c);
      let co = load<u64>(c, 8);
      if (child + 1 < n) {
        const r = slot(child + 1);
        const rt = load<u64>(r);
        const ro = load<u64>(r, 8);
        if (before(rt, ro, ct, co)) { child++; c = r; ct = rt; co = ro; }
      }
      if (!before(ct, co, lt, lo)) break;
      move(slot(i), c);
      i = child;
    }
    if (i != n) move(slot(i), last);
  }
  publishNext();
}

/** Empties the queue. */
export function queueClear(): void {
  core.eventCount = 0;
  core.seq = 0;
  publishNext();
}
