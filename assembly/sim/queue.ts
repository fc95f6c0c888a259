// The event queue, ordered by (time, priority, insertion sequence). Ties in time and
// priority run in insertion (FIFO) order, so the order of a run depends only on what was
// scheduled, never on how the queue stores it. Scheduling and popping cost the same
// whatever the number of pending events.
//
// Two parts, every event of the first before every event of the second in that order:
//
// - The front: at most EVENT_FRONT_CAPACITY records in a sorted doubly-linked list. A
//   new event joins it when it comes before the front's last record, or when the front
//   has room and the event is earlier than everything in the wheel; a front that grows
//   past its capacity hands its last record to the wheel. A machine with a few events in
//   flight never leaves the front.
//
// - The wheel: a hierarchical timing wheel over the bits of the time (a radix queue).
//   Level 0 has EVENT_WHEEL_SLOTS buckets of 2^EVENT_BUCKET_BITS ps, each a list sorted
//   by (time, order); each level above resolves the next EVENT_WHEEL_BITS bits of the
//   time. The wheel is anchored at `cursor`, the time of the last event popped from it,
//   and every event in it is at or after the cursor: an event goes to level 0 when its
//   time agrees with the cursor's above the bits level 0 resolves, else to the level
//   whose bits hold the highest bit where they differ, in the slot those bits give. So
//   level 0 holds the earliest events, bucket by bucket, and a slot of level L a range of
//   times later than anything below level L. Popping takes the head of the first
//   non-empty bucket of level 0, or of the first slot of the lowest non-empty level when
//   that slot has a single record; otherwise that slot (which holds the earliest time) is
//   spread again relative to its earliest time, which becomes the cursor, and each record
//   moves at least one level down. Events scheduled before the cursor (in the past of
//   the last event popped from the wheel) wait in a list sorted by (time, order) that
//   pops before the rest of the wheel. The machine does not do that (the cursor is never
//   past core time, and events are scheduled at or after it), so that list is for
//   completeness and its insertion cost is linear.
//
// Sorted lists (the front, level-0 buckets, the early list) insert by walking back from
// the tail: events mostly arrive in time order, so that is usually one comparison.
// Slot lists above level 0 are unsorted (appended).
//
//   QueueState (EVENT_QUEUE_HEADER_SIZE bytes at EVENT_QUEUE_BASE)
//   +0  cursor      u64   ps, time of the last event popped from the wheel
//   +8  minTime     u64   ps, time of the earliest pending event (valid while any is pending)
//   +16 wheelMin    u64   ps, time of the earliest event in the wheel (EMPTY_WHEEL when it holds none)
//   +24 freeCount   u32   records on the free stack (EVENT_FREE_BASE)
//   +28 poolTop     u32   highest record index handed out since the last clear
//   +32 levelMask   u32   bit L set while wheel level L holds an event
//   +36 earlyHead   u32   first record of the wheel's list of events before the cursor (0: none)
//   +40 earlyTail   u32   its last record
//   +44 frontHead   u32   first record of the front (0: empty)
//   +48 frontTail   u32   last record of the front
//   +52 frontCount  u32   records in the front
//   +56 firstAt     u32   level << EVENT_WHEEL_BITS | slot of the wheel's first non-empty slot (NONE: empty)
//
//   Event record (EVENT_RECORD_SIZE = 48 bytes, in the pool, fields at the EVENT_RECORD_*
//   offsets of memmap.ts; pop() copies it out as an Event). Time and links share 16 bytes,
//   so never two cache lines.
//   +0  time   u64   picoseconds
//   +8  next   u32   next record in its list (0: none)
//   +12 prev   u32   previous record (sorted lists; not kept for a list's head)
//   +16 order  u64   priority << 48 | insertion sequence
//   +24 kind   u32   EV_* (0 while the record is free)
//   +28 target u32   PCI function index (or other owner)
//   +32 a      u64   kind-specific
//   +40 b      u64   kind-specific

import {
  EVENT_BUCKET_BITS, EVENT_CAPACITY, EVENT_FREE_BASE, EVENT_FRONT_CAPACITY, EVENT_POOL_BASE, EVENT_QUEUE_BASE,
  EVENT_RECORD_SIZE, EVENT_WHEEL_BITMAP_BASE, EVENT_WHEEL_BITMAP_SIZE, EVENT_WHEEL_BITS, EVENT_WHEEL_LEVELS,
  EVENT_WHEEL_LIST_SIZE, EVENT_WHEEL_LISTS_BASE, EVENT_WHEEL_LISTS_SIZE, EVENT_WHEEL_SLOTS, EVENT_WHEEL_SUMMARY_BASE,
  EVENT_WHEEL_SUMMARY_SIZE, EVENT_RECORD_NEXT, EVENT_RECORD_PREV, EVENT_RECORD_ORDER, EVENT_RECORD_KIND,
  EVENT_RECORD_TARGET, EVENT_RECORD_A, EVENT_RECORD_B, EVENT_QUEUE_HEADER_SIZE,
} from "../memmap";
import { core, raiseFault, FAULT_EVENT_QUEUE_FULL } from "./core";

/**
 * An event as pop() hands it out (the run loop's current event at CURRENT_EVENT_BASE):
 * time in ps, order = priority << 48 | insertion sequence, kind EV_*, target function,
 * kind-specific a and b.
 */
@unmanaged
export class Event {
  time: u64;
  order: u64;
  kind: u32;
  target: u32;
  a: u64;
  b: u64;
}

@unmanaged
class QueueState {
  cursor: u64;
  minTime: u64;
  wheelMin: u64;
  freeCount: u32;
  poolTop: u32;
  levelMask: u32;
  earlyHead: u32;
  earlyTail: u32;
  frontHead: u32;
  frontTail: u32;
  frontCount: u32;
  firstAt: u32;
}

/** The queue's header record. */
const q = changetype<QueueState>(EVENT_QUEUE_BASE);

/** Priority for ordinary events. Lower priorities run first at equal times. */
export const PRIORITY_NORMAL: u32 = 8;

/** log2 of the u64 bitmap words per level. */
const WORDS_SHIFT: u32 = EVENT_WHEEL_BITS - 6;
/** QueueState.wheelMin of an empty wheel: no time is before it, and an event at it may go to the wheel. */
const EMPTY_WHEEL: u64 = 0xFFFFFFFFFFFFFFFF;
/** Bits of a level-0 tail word that hold the tail's index (enough for EVENT_CAPACITY). */
const TAIL_BITS: u32 = 32 - clz<u32>(EVENT_CAPACITY);
/** Mask of the index in a level-0 tail word. */
const TAIL_MASK: u32 = (1 << TAIL_BITS) - 1;
/** Mask of a time's bits below the bucket. */
const BUCKET_LOW_MASK: u32 = (1 << EVENT_BUCKET_BITS) - 1;
/** QueueState.firstAt when the wheel's levels are empty. */
const NONE: u32 = 0xFFFFFFFF;
/** Bits of the order word below the priority. */
const PRIORITY_SHIFT: u64 = 48;

// A level's summary has one bit per bitmap word; the level mask one bit per level; a
// level-0 tail word an index and the low bits of a time.
if (EVENT_WHEEL_SLOTS >> 6 > 64 || EVENT_WHEEL_LEVELS > 32) ERROR("the wheel's summaries must fit their words");
if (TAIL_BITS + EVENT_BUCKET_BITS > 32) ERROR("a level-0 tail word must hold a record index and a time within a bucket");
if (offsetof<QueueState>() > EVENT_QUEUE_HEADER_SIZE) ERROR("QueueState must fit EVENT_QUEUE_HEADER_SIZE");

// ---- records -------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function rec(i: u32): usize {
  return EVENT_POOL_BASE + <usize>i * EVENT_RECORD_SIZE;
}

// @ts-ignore: decorator
@inline function nextOf(i: u32): u32 {
  return load<u32>(rec(i) + EVENT_RECORD_NEXT);
}

// @ts-ignore: decorator
@inline function setNext(i: u32, n: u32): void {
  store<u32>(rec(i) + EVENT_RECORD_NEXT, n);
}

// @ts-ignore: decorator
@inline function prevOf(i: u32): u32 {
  return load<u32>(rec(i) + EVENT_RECORD_PREV);
}

// @ts-ignore: decorator
@inline function setPrev(i: u32, p: u32): void {
  store<u32>(rec(i) + EVENT_RECORD_PREV, p);
}

// @ts-ignore: decorator
@inline function timeOf(i: u32): u64 {
  return load<u64>(rec(i));
}

// @ts-ignore: decorator
@inline function orderOf(i: u32): u64 {
  return load<u64>(rec(i) + EVENT_RECORD_ORDER);
}

/** (time, order) comes before record `b`'s. */
// @ts-ignore: decorator
@inline function before(time: u64, order: u64, b: u32): bool {
  const t = timeOf(b);
  return time < t || (time == t && order < orderOf(b));
}

// ---- the wheel -----------------------------------------------------------------------

/**
 * Address of the head (u32) and tail word (u32, +4) of slot `s` of level `level`. The tail
 * word is the tail's index; at level 0 it also holds the tail's time below
 * EVENT_BUCKET_BITS (the bits above are the bucket's) from bit TAIL_BITS up.
 */
// @ts-ignore: decorator
@inline function list(level: u32, s: u32): usize {
  return EVENT_WHEEL_LISTS_BASE + <usize>((level << EVENT_WHEEL_BITS) | s) * EVENT_WHEEL_LIST_SIZE;
}

// @ts-ignore: decorator
@inline function summaryAt(level: u32): usize {
  return EVENT_WHEEL_SUMMARY_BASE + (<usize>level << 3);
}

/** Address of bitmap word `w` of level `level`. */
// @ts-ignore: decorator
@inline function wordAt(level: u32, w: u32): usize {
  return EVENT_WHEEL_BITMAP_BASE + (<usize>((level << WORDS_SHIFT) | w) << 3);
}

/** The level for `time` relative to the cursor. */
// @ts-ignore: decorator
@inline function levelFor(time: u64, cursor: u64): u32 {
  // The highest bit where they differ, counted from the first bit level 0 resolves.
  const high = <u32>(63 - clz<u64>((time ^ cursor) | 1));
  return high < EVENT_BUCKET_BITS + EVENT_WHEEL_BITS ? 0 : (high - EVENT_BUCKET_BITS) / EVENT_WHEEL_BITS;
}

/** Slot of `time` at `level`. */
// @ts-ignore: decorator
@inline function slotFor(time: u64, level: u32): u32 {
  return <u32>(time >> <u64>(EVENT_BUCKET_BITS + level * EVENT_WHEEL_BITS)) & (EVENT_WHEEL_SLOTS - 1);
}

/** Level << EVENT_WHEEL_BITS | slot of the first non-empty slot of the lowest non-empty level, or NONE. */
function findFirst(): u32 {
  const mask = q.levelMask;
  if (mask == 0) return NONE;
  const level = <u32>ctz<u32>(mask);
  const w = <u32>ctz<u64>(load<u64>(summaryAt(level)));
  return (level << EVENT_WHEEL_BITS) | (w << 6) | <u32>ctz<u64>(load<u64>(wordAt(level, w)));
}

/** Marks slot `s` of `level`, which was empty, non-empty. */
// @ts-ignore: decorator
@inline function markSlot(level: u32, s: u32): void {
  const w = s >> 6;
  const p = wordAt(level, w);
  const bits = load<u64>(p);
  store<u64>(p, bits | (<u64>1 << <u64>(s & 63)));
  if (bits == 0) {
    const m = summaryAt(level);
    const summary = load<u64>(m);
    store<u64>(m, summary | (<u64>1 << <u64>w));
    if (summary == 0) q.levelMask |= 1 << level;
  }
  // Lower levels hold earlier times, and lower slots of a level earlier ones.
  const at = (level << EVENT_WHEEL_BITS) | s;
  if (at < q.firstAt) q.firstAt = at;
}

/** Marks the first non-empty slot, `s` of `level`, empty, and finds the next. */
function clearFirst(level: u32, s: u32): void {
  const w = s >> 6;
  const p = wordAt(level, w);
  const bits = load<u64>(p) & ~(<u64>1 << <u64>(s & 63));
  store<u64>(p, bits);
  if (bits != 0) {
    // The next slot is later in the same word (slots before `s` are empty).
    q.firstAt = (level << EVENT_WHEEL_BITS) | (w << 6) | <u32>ctz<u64>(bits);
    return;
  }
  const m = summaryAt(level);
  const summary = load<u64>(m) & ~(<u64>1 << <u64>w);
  store<u64>(m, summary);
  if (summary == 0) q.levelMask &= ~(1 << level);
  q.firstAt = findFirst();
}

/** Appends record `r` to slot `s` of `level` (r's next must be 0). */
// @ts-ignore: decorator
@inline function append(level: u32, s: u32, r: u32): void {
  const l = list(level, s);
  const tail = load<u32>(l, 4);
  if (tail == 0) {
    store<u32>(l, r);
    markSlot(level, s);
  } else {
    setNext(tail, r);
  }
  store<u32>(l, r, 4);
}

/**
 * Inserts record `r` into the sorted list whose head and tail (u32 each) are at `l`, in
 * (time, order) order, walking back from the tail. Returns true when the list was empty.
 * Only `prev` links of records other than the head are kept.
 */
// @ts-ignore: decorator
@inline function insertSorted(l: usize, r: u32, time: u64, order: u64): bool {
  const tail = load<u32>(l, 4);
  if (tail == 0) {
    setNext(r, 0);
    store<u32>(l, r);
    store<u32>(l, r, 4);
    return true;
  }
  if (!before(time, order, tail)) {
    setNext(tail, r);
    setNext(r, 0);
    setPrev(r, tail);
    store<u32>(l, r, 4);
  } else {
    insertBefore(l, r, time, order, tail);
  }
  return false;
}

/**
 * Inserts record `r` into level-0 bucket list `l` in (time, order) order, like
 * insertSorted, comparing with the tail's time kept in the tail word. Returns true when
 * the bucket was empty.
 */
// @ts-ignore: decorator
@inline function insertBucket(l: usize, r: u32, time: u64, order: u64): bool {
  const word = load<u32>(l, 4);
  const low = <u32>time & BUCKET_LOW_MASK;
  if (word == 0) {
    setNext(r, 0);
    store<u32>(l, r);
    store<u32>(l, r | (low << TAIL_BITS), 4);
    return true;
  }
  const tail = word & TAIL_MASK;
  const tailLow = word >> TAIL_BITS;
  if (low > tailLow || (low == tailLow && order > orderOf(tail))) {
    setNext(tail, r);
    setNext(r, 0);
    setPrev(r, tail);
    store<u32>(l, r | (low << TAIL_BITS), 4);
  } else {
    insertBefore(l, r, time, order, tail);
  }
  return false;
}

/** insertSorted for a record that comes before the list's tail `tail`. */
function insertBefore(l: usize, r: u32, time: u64, order: u64, tail: u32): void {
  const head = load<u32>(l);
  let after = tail;
  while (after != head) {
    const prev = prevOf(after);
    if (!before(time, order, prev)) {
      setNext(prev, r);
      setPrev(r, prev);
      setNext(r, after);
      setPrev(after, r);
      return;
    }
    after = prev;
  }
  setNext(r, head);
  setPrev(head, r);
  store<u32>(l, r);
}

/** Files record `r` (next 0) at `time`, at or after the cursor, in the wheel's levels. */
// @ts-ignore: decorator
@inline function file(r: u32, time: u64): void {
  const level = levelFor(time, q.cursor);
  const s = slotFor(time, level);
  if (level == 0) {
    if (insertBucket(list(0, s), r, time, orderOf(r))) markSlot(0, s);
  } else {
    append(level, s, r);
  }
}

/** Address of the head and tail of the wheel's list of events before the cursor. */
const EARLY: usize = EVENT_QUEUE_BASE + offsetof<QueueState>("earlyHead");

// @ts-ignore: decorator
@inline function wheelEmpty(): bool {
  return q.levelMask == 0 && q.earlyHead == 0;
}

/** Puts record `r` (time `time`, order `order`) in the wheel. */
function wheelAdd(r: u32, time: u64, order: u64): void {
  if (time < q.wheelMin) q.wheelMin = time;
  setNext(r, 0);
  if (time >= q.cursor) file(r, time);
  else insertSorted(EARLY, r, time, order);
}

/**
 * Empties slot `s` of `level` (> 0), which holds the wheel's earliest time, into the
 * levels below relative to that time, which becomes the cursor.
 */
function spread(level: u32, s: u32): void {
  const l = list(level, s);
  let r = load<u32>(l);
  store<u64>(l, 0);
  clearFirst(level, s);
  q.cursor = q.wheelMin;
  while (r != 0) {
    const n = nextOf(r);
    setNext(r, 0);
    file(r, timeOf(r));
    r = n;
  }
}

/** The earliest time in the wheel, which must hold an event. */
function wheelEarliest(): u64 {
  if (q.earlyHead != 0) return timeOf(q.earlyHead);
  const at = q.firstAt;
  const level = at >> EVENT_WHEEL_BITS;
  const l = list(level, at & (EVENT_WHEEL_SLOTS - 1));
  let r = load<u32>(l);
  let t = timeOf(r);
  // A level-0 bucket is sorted; a slot above holds a range unless it has one record.
  if (level == 0 || r == load<u32>(l, 4)) return t;
  r = nextOf(r);
  while (r != 0) {
    const u = timeOf(r);
    if (u < t) t = u;
    r = nextOf(r);
  }
  return t;
}

/** Takes the wheel's earliest record out of it (the wheel must hold one) and returns it. */
function wheelTake(): u32 {
  let r = q.earlyHead;
  if (r != 0) {
    const n = nextOf(r);
    q.earlyHead = n;
    if (n == 0) q.earlyTail = 0;
  } else {
    const at = q.firstAt;
    let level = at >> EVENT_WHEEL_BITS;
    let s = at & (EVENT_WHEEL_SLOTS - 1);
    let l = list(level, s);
    r = load<u32>(l);
    if (level != 0 && r != load<u32>(l, 4)) {
      // Several records over a range of times: spread them; the earliest heads level 0.
      spread(level, s);
      level = 0;
      s = slotFor(q.wheelMin, 0);
      l = list(0, s);
      r = load<u32>(l);
    }
    const n = nextOf(r);
    store<u32>(l, n);
    q.cursor = timeOf(r);
    if (n != 0) {
      // Still the first bucket (only a level-0 bucket has several records here), sorted.
      q.wheelMin = timeOf(n);
      return r;
    }
    store<u32>(l, 0, 4);
    clearFirst(level, s);
  }
  q.wheelMin = wheelEmpty() ? EMPTY_WHEEL : wheelEarliest();
  return r;
}

// ---- the front -----------------------------------------------------------------------

/** Address of the front's head and tail (a list like a wheel slot's). */
const FRONT: usize = EVENT_QUEUE_BASE + offsetof<QueueState>("frontHead");

// ---- the queue -----------------------------------------------------------------------

function publishNext(): void {
  if (core.eventCount == 0) {
    core.nextEventPs = Infinity;
    return;
  }
  const t = q.frontCount != 0 ? timeOf(q.frontHead) : q.wheelMin;
  q.minTime = t;
  core.nextEventPs = <f64>t;
}

/** Schedules an event at absolute time `time` (ps) with PRIORITY_NORMAL. Returns false (and faults) when full. */
// @ts-ignore: decorator
@inline
export function schedule(time: u64, kind: u32, target: u32, a: u64, b: u64): bool {
  return scheduleWithPriority(time, kind, target, a, b, PRIORITY_NORMAL);
}

/** Schedules an event at absolute time `time` (ps); lower `priority` runs first at equal times. False (and faults) when full. */
export function scheduleWithPriority(time: u64, kind: u32, target: u32, a: u64, b: u64, priority: u32): bool {
  if (core.eventCount >= EVENT_CAPACITY) {
    raiseFault(FAULT_EVENT_QUEUE_FULL);
    return false;
  }
  const order = (<u64>priority << PRIORITY_SHIFT) | core.seq++;
  let r: u32;
  const free = q.freeCount;
  if (free != 0) {
    r = load<u32>(EVENT_FREE_BASE + (<usize>(free - 1) << 2));
    q.freeCount = free - 1;
  } else {
    r = ++q.poolTop;
  }
  const e = rec(r);
  store<u64>(e, time);
  store<u64>(e + EVENT_RECORD_ORDER, order);
  store<u32>(e + EVENT_RECORD_KIND, kind);
  store<u32>(e + EVENT_RECORD_TARGET, target);
  store<u64>(e + EVENT_RECORD_A, a);
  store<u64>(e + EVENT_RECORD_B, b);
  const tail = q.frontTail;
  if (tail != 0 && before(time, order, tail)) {
    insertSorted(FRONT, r, time, order);
    if (q.frontCount == EVENT_FRONT_CAPACITY) {
      // Full: the last record moves to the wheel, before everything there.
      const last = q.frontTail;
      const prev = prevOf(last);
      setNext(prev, 0);
      q.frontTail = prev;
      wheelAdd(last, timeOf(last), orderOf(last));
    } else {
      q.frontCount++;
    }
  } else if (q.frontCount < EVENT_FRONT_CAPACITY && time < q.wheelMin) {
    // After the front's tail and before the wheel: append.
    setNext(r, 0);
    setPrev(r, tail);
    if (tail == 0) q.frontHead = r;
    else setNext(tail, r);
    q.frontTail = r;
    q.frontCount++;
  } else {
    wheelAdd(r, time, order);
  }
  if (core.eventCount++ == 0 || time < q.minTime) {
    q.minTime = time;
    core.nextEventPs = <f64>time;
  }
  return true;
}

/** Time (ps) of the earliest event; only meaningful when the queue is not empty. */
@inline
export function peekTime(): u64 {
  return q.minTime;
}

/** Removes the earliest event, copying it into `out`. The queue must not be empty. */
// @ts-ignore: decorator
@inline
export function pop(out: Event): void {
  let r = q.frontHead;
  if (r != 0) {
    const n = nextOf(r);
    q.frontHead = n;
    if (n == 0) q.frontTail = 0;
    q.frontCount--;
  } else {
    r = wheelTake();
  }
  const e = rec(r);
  out.time = load<u64>(e);
  out.order = load<u64>(e + EVENT_RECORD_ORDER);
  // kind and target together.
  store<u64>(changetype<usize>(out) + offsetof<Event>("kind"), load<u64>(e + EVENT_RECORD_KIND));
  out.a = load<u64>(e + EVENT_RECORD_A);
  out.b = load<u64>(e + EVENT_RECORD_B);
  store<u32>(e + EVENT_RECORD_KIND, 0);
  const free = q.freeCount;
  store<u32>(EVENT_FREE_BASE + (<usize>free << 2), r);
  q.freeCount = free + 1;
  core.eventCount--;
  publishNext();
}

/** Empties the queue and restarts the insertion sequence. */
export function queueClear(): void {
  core.eventCount = 0;
  core.seq = 0;
  memory.fill(EVENT_QUEUE_BASE, 0, offsetof<QueueState>());
  q.wheelMin = EMPTY_WHEEL;
  q.firstAt = NONE;
  memory.fill(EVENT_WHEEL_SUMMARY_BASE, 0, EVENT_WHEEL_SUMMARY_SIZE);
  memory.fill(EVENT_WHEEL_BITMAP_BASE, 0, EVENT_WHEEL_BITMAP_SIZE);
  memory.fill(EVENT_WHEEL_LISTS_BASE, 0, EVENT_WHEEL_LISTS_SIZE);
  publishNext();
}

/** Byte offset of QueueState.poolTop from EVENT_QUEUE_BASE (records 1 .. poolTop may be live: kind != 0). */
export const QUEUE_POOL_TOP: u32 = offsetof<QueueState>("poolTop");
