// NVMe queues (shared/specs/nvme.md): round-robin fetch of submission entries into free
// command slots, completion entries written by DMA with the phase tag, then the interrupt
// with coalescing; asynchronous events.
//
// Interrupts. MSI-X: every signalled completion (after coalescing) sends the CQ's vector;
// masking and pending bits are the bus's (pci/msix.ts). Pin-based and MSI: the controller
// keeps an interrupt status bit per vector (intStatus), set when a completion is signalled
// and cleared when a CQ head doorbell leaves no unconsumed entry in any interrupt-enabled
// CQ on that vector; INTMS/INTMC mask bits (intMask) hide status bits. INTx is asserted
// while any status bit is unmasked; MSI sends a message for each vector whose unmasked
// status goes from 0 to 1 (so unmasking a set status sends one). Vectors above 31 (possible
// only when an MSI-X table larger than 32 entries is not in use) share status bit v & 31.
//
// Coalescing (feature 0x08) applies to I/O completion queues on vectors without the
// coalescing-disable bit (feature 0x09), and only while the aggregation time is non-zero:
// a vector fires when threshold + 1 completions are pending, or when the aggregation time
// has passed since the first pending one. Admin completions are never delayed.

import { core } from "../sim/core";
import { cyclesToPs } from "../sim/clock";
import { functionClock, pciFunction } from "../pci/function";
import { msixEnabled } from "../pci/msix";
import { msiEnabled } from "../irq/msi";
import { signalMessage } from "../irq/signal";
import { intxSetLevel } from "../irq/intx";
import { dmaRead, dmaWrite } from "../dma/port";
import {
  NvmeState, NvmeCq, sqAt, cqAt, slotAt, slotSqe, vectorAt, nvmeSchedule, eventCode, slotTake, slotFree, SLOT_CQE,
  SLOT_FETCH, SLOT_WAIT_CQ, SLOT_CQE_WRITE, SLOT_STALLED, EV_FETCH, EV_SQE, EV_CQE, EV_COALESCE, SC_SUCCESS, NVME_AER_LIMIT,
} from "./nvme-state";

/** Picoseconds per unit of the coalescing aggregation time (100 us). */
const AGGREGATION_UNIT_PS: u64 = 100000000;

/** Schedules a fetch `delayPs` from now unless one is already pending. */
export function fetchKick(fn: u32, s: NvmeState, delayPs: u64): void {
  if (s.fetchScheduled != 0 || s.ready == 0) return;
  s.fetchScheduled = 1;
  nvmeSchedule(fn, s, core.nowPs + delayPs, EV_FETCH, 0, 0);
}

/** Doorbell to fetch latency, ps. */
export function fetchDelayPs(fn: u32, s: NvmeState): u64 {
  return cyclesToPs(functionClock(fn), s.fetchCycles);
}

/** Next submission queue with entries to fetch, round robin from rrNext; -1 if none. */
function nextSq(s: NvmeState): i32 {
  const n = s.queueCount;
  for (let k: u32 = 0; k < n; k++) {
    let q = s.rrNext + k;
    if (q >= n) q -= n;
    const sq = sqAt(s, q);
    if (sq.valid != 0 && sq.drainSlot == 0 && sq.head != sq.tail) return <i32>q;
  }
  return -1;
}

/** Fetch event: one entry per non-empty queue per round, while slots are free. */
export function fetchRun(fn: u32, s: NvmeState): void {
  s.fetchScheduled = 0;
  if (s.ready == 0 || s.shutdown != 0 || s.fatal != 0) return;
  while (s.freeCount > 0) {
    const found = nextSq(s);
    if (found < 0) break;
    const q = <u32>found;
    const sq = sqAt(s, q);
    const i = slotTake(s);
    const slot = slotAt(s, i);
    slot.state = SLOT_FETCH;
    slot.sqid = q;
    slot.cid = 0xFFFF;
    slot.outstanding = 1;
    const address = sq.base + (<u64>sq.head << 6);
    sq.head = sq.head + 1 == sq.size ? 0 : sq.head + 1;
    sq.inflight++;
    s.rrNext = q + 1 == s.queueCount ? 0 : q + 1;
    dmaRead(fn, address, slotSqe(s, i), 64, eventCode(s, EV_SQE, i));
  }
}

/** True when completion queue `cq` has no free entry. */
// @ts-ignore: decorator
@inline function cqFull(cq: NvmeCq): bool {
  return (cq.tail + 1 == cq.size ? 0 : cq.tail + 1) == cq.head;
}

/** Completes slot `i` with `status` (status field) and completion DW0 `dw0`. */
export function complete(fn: u32, s: NvmeState, i: u32, status: u32, dw0: u32): void {
  const slot = slotAt(s, i);
  slot.status = status;
  slot.dw0 = dw0;
  post(fn, s, i);
}

/** Writes slot `i`'s completion entry if its CQ has room, else queues it behind the others waiting. */
function post(fn: u32, s: NvmeState, i: u32): void {
  const slot = slotAt(s, i);
  // After an injected fatal error nothing completes: the command waits for the reset.
  if (s.fatal != 0) { slot.state = SLOT_STALLED; return; }
  const sq = sqAt(s, slot.sqid);
  const cqid = sq.cqid;
  const cq = cqAt(s, cqid);
  if (cqFull(cq)) {
    slot.state = SLOT_WAIT_CQ;
    let at = s.waitHead + s.waitCount;
    if (at >= s.slotCount) at -= s.slotCount;
    store<u32>(<usize>s.waitRing + (<usize>at << 2), i);
    s.waitCount++;
    return;
  }
  const e = changetype<usize>(slot) + SLOT_CQE;
  store<u32>(e, slot.dw0);
  store<u32>(e, 0, 4);
  store<u32>(e, (sq.head & 0xFFFF) | (slot.sqid << 16), 8);
  store<u32>(e, (slot.cid & 0xFFFF) | (cq.phase << 16) | ((slot.status & 0x7FFF) << 17), 12);
  slot.state = SLOT_CQE_WRITE;
  slot.outstanding = 1;
  const address = cq.base + (<u64>cq.tail << 4);
  cq.tail++;
  if (cq.tail == cq.size) { cq.tail = 0; cq.phase ^= 1; }
  dmaWrite(fn, address, e, 16, eventCode(s, EV_CQE, i));
  // The interrupt message follows the entry on the link, so it lands after it.
  completionSignal(fn, s, cqid);
  sq.inflight--;
  if (sq.inflight == 0 && sq.drainSlot != 0) sqDeleteFinish(fn, s, slot.sqid);
}

/** Deletes submission queue `q` now that its commands are done, and completes the Delete command waiting on it. */
export function sqDeleteFinish(fn: u32, s: NvmeState, q: u32): void {
  const sq = sqAt(s, q);
  const waiting = sq.drainSlot - 1;
  sq.drainSlot = 0;
  sq.valid = 0;
  const cq = cqAt(s, sq.cqid);
  if (cq.sqCount > 0) cq.sqCount--;
  complete(fn, s, waiting, SC_SUCCESS, 0);
}

/** Completion entry sent: the slot is free; fetch and pending events may use it. */
export function cqeSent(fn: u32, s: NvmeState, i: u32): void {
  slotFree(s, i);
  aenTryPost(fn, s);
  fetchKick(fn, s, 0);
}

/** Frees slot `i` without a completion (a parked Asynchronous Event Request). */
export function slotRelease(fn: u32, s: NvmeState, i: u32): void {
  const sq = sqAt(s, slotAt(s, i).sqid);
  if (sq.inflight > 0) sq.inflight--;
  slotFree(s, i);
  fetchKick(fn, s, 0);
}

/** Retries the completions waiting for room, in arrival order (after a CQ head doorbell). */
export function waitRetry(fn: u32, s: NvmeState): void {
  let n = s.waitCount;
  while (n-- > 0) {
    const i = load<u32>(<usize>s.waitRing + (<usize>s.waitHead << 2));
    s.waitHead = s.waitHead + 1 == s.slotCount ? 0 : s.waitHead + 1;
    s.waitCount--;
    post(fn, s, i);
  }
}

// ---- interrupts ---------------------------------------------------------------------

/** A completion was posted to CQ `cqid`: signal it now or let it aggregate. */
function completionSignal(fn: u32, s: NvmeState, cqid: u32): void {
  const cq = cqAt(s, cqid);
  if (cq.interrupts == 0) return;
  const v = cq.vector;
  const vec = vectorAt(s, v);
  const threshold = s.coalescing & 0xFF;
  const time = (s.coalescing >> 8) & 0xFF;
  if (cqid != 0 && vec.coalescingDisabled == 0 && time != 0 && threshold != 0) {
    vec.pending++;
    if (vec.pending > threshold) {
      vectorFire(fn, s, v);
    } else if (vec.pending == 1) {
      vec.deadline = core.nowPs + <u64>time * AGGREGATION_UNIT_PS;
      nvmeSchedule(fn, s, vec.deadline, EV_COALESCE, 0, v);
    }
    return;
  }
  vectorFire(fn, s, v);
}

/** Aggregation time of vector `v` elapsed (stale timers are ignored). */
export function coalesceTimeout(fn: u32, s: NvmeState, v: u32): void {
  if (v >= s.vectorCount) return;
  const vec = vectorAt(s, v);
  if (vec.deadline != core.nowPs || vec.pending == 0) return;
  vectorFire(fn, s, v);
}

/** Signals vector `v`: an MSI-X message, or the pin-based/MSI interrupt status. */
function vectorFire(fn: u32, s: NvmeState, v: u32): void {
  const vec = vectorAt(s, v);
  vec.pending = 0;
  vec.deadline = 0;
  if (msixEnabled(fn)) { signalMessage(fn, v); return; }
  s.intStatus |= <u32>1 << (v & 31);
  legacyUpdate(fn, s);
}

/** Drives INTx or sends MSI messages from intStatus and intMask (not used with MSI-X). */
export function legacyUpdate(fn: u32, s: NvmeState): void {
  if (msixEnabled(fn)) return;
  const active = s.intStatus & ~s.intMask;
  if (msiEnabled(fn)) {
    let rising = active & ~s.legacyActive;
    while (rising != 0) {
      const v = <u32>ctz<u32>(rising);
      rising &= rising - 1;
      signalMessage(fn, v);
    }
    if (pciFunction(fn).intxLevel != 0) intxSetLevel(fn, 0);
  } else {
    const level: u32 = active != 0 ? 1 : 0;
    if (pciFunction(fn).intxLevel != level) intxSetLevel(fn, level);
  }
  s.legacyActive = active;
}

/** After a head doorbell on CQ `cqid`: clears its vector's status once every CQ on it is consumed. */
export function legacyConsumed(fn: u32, s: NvmeState, cqid: u32): void {
  const bit = cqAt(s, cqid).vector & 31;
  if ((s.intStatus & (<u32>1 << bit)) == 0) return;
  for (let q: u32 = 0; q < s.queueCount; q++) {
    const cq = cqAt(s, q);
    if (cq.valid != 0 && cq.interrupts != 0 && (cq.vector & 31) == bit && cq.head != cq.tail) return;
  }
  s.intStatus &= ~(<u32>1 << bit);
  legacyUpdate(fn, s);
}

// ---- asynchronous events ------------------------------------------------------------

/** Parks an Asynchronous Event Request (slot `i`); false when the limit is reached. */
export function aerPark(fn: u32, s: NvmeState, i: u32): bool {
  if (s.aerCount >= NVME_AER_LIMIT) return false;
  store<u32>(changetype<usize>(s) + offsetof<NvmeState>("aerCid0") + (s.aerCount << 2), slotAt(s, i).cid);
  s.aerCount++;
  slotRelease(fn, s, i);
  aenTryPost(fn, s);
  return true;
}

/** Raises an error-type asynchronous event with information `info` (AEN_*). */
export function aenRaise(fn: u32, s: NvmeState, info: u32): void {
  s.aenPending |= <u32>1 << info;
  aenTryPost(fn, s);
}

/** Completes outstanding Asynchronous Event Requests for pending events while slots are free. */
export function aenTryPost(fn: u32, s: NvmeState): void {
  while (s.aenPending != 0 && s.aerCount > 0 && s.freeCount > 0 && s.ready != 0 && s.fatal == 0) {
    const info = <u32>ctz<u32>(s.aenPending);
    s.aenPending &= ~(<u32>1 << info);
    const cids = changetype<usize>(s) + offsetof<NvmeState>("aerCid0");
    const cid = load<u32>(cids);
    for (let k: u32 = 1; k < s.aerCount; k++) store<u32>(cids + ((k - 1) << 2), load<u32>(cids + (k << 2)));
    s.aerCount--;
    const i = slotTake(s);
    const slot = slotAt(s, i);
    slot.sqid = 0;
    slot.cid = cid;
    sqAt(s, 0).inflight++;
    // DW0: event type 0 (error status), event information, log page 0x01 (error information).
    complete(fn, s, i, SC_SUCCESS, (info << 8) | (0x01 << 16));
  }
}
