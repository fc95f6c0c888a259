// NVMe controller (shared/specs/nvme.md): registers and doorbells in BAR0, controller
// enable / reset / shutdown, and the dispatch of the model's events. Queues, PRP
// transfers, admin and I/O commands live in nvme-*.ts.
//
// BAR0: registers at 0x000 (table below; offsets and sizes the table does not accept read
// as 0 and ignore writes; the upper dword of CAP, ASQ and ACQ is also reachable as a
// 4-byte access at +4), doorbells from 0x1000 with a stride of 4 << CAP.DSTRD bytes; the
// MSI-X table and PBA sit above the doorbells where the device file places them (the bus
// serves them). Doorbells read as 0.
//
// Reported errors: a doorbell write for a queue that does not exist, or with a value
// outside the queue (an SQ tail >= size, a CQ head beyond the entries posted), is recorded
// as a device error and raises an error-type asynchronous event (information 0x00 /
// 0x01, log page 0x01), completed through an outstanding Asynchronous Event Request or
// held until one arrives; the controller carries on. Enabling with unsupported CC or AQA
// fields (CSS, MPS or AMS not 0, an admin queue of fewer than 2 entries) sets CSTS.CFS, and
// so does a completion entry the controller cannot write (bus mastering off or D3hot).
//
// Injected faults (nvmeInjectFault, for recovery tests): "drop" holds the next I/O
// commands fetched without ever completing them (no completion entry, no interrupt); a
// dropped command keeps its command slot until an Abort names it (it completes with
// "command abort requested"), a Delete I/O SQ of its queue (it completes with "aborted due
// to SQ deletion"), or a reset; once every slot holds one, nothing more is fetched. "fatal"
// sets CSTS.CFS at once: from then on nothing is fetched, executed, completed or signalled
// until CC.EN is cleared (commands in flight stop at their next step; DMAs already issued
// finish). "status" makes the next I/O commands fail with a given status after the media
// time of their kind, moving no data. Armed counts outlive a reset (they count commands,
// whatever the driver does between); each effect is a device error.
//
// Timing: CC.EN 0 -> 1 sets CSTS.RDY after readyDelayNs; CC.EN 1 -> 0 clears RDY at once
// (in-flight work is dropped: events of the old generation are ignored, and a slot stays
// busy only until its DMAs are done). CC.SHN sets SHST to "in progress", then "complete"
// after shutdownDelayNs; from then on no command is fetched until a reset.

import { core } from "../sim/core";
import { cyclesToPs } from "../sim/clock";
import { pciFunction, functionClock } from "../pci/function";
import { intxSetLevel } from "../irq/intx";
import { DMA_OK } from "../dma/port";
import { deviceParam, deviceConfig } from "../platform/config";
import { deviceHeapAlloc } from "./heap";
import { INJECT_OK, INJECT_ERROR_KIND, INJECT_ERROR_ARGUMENT, INJECT_ERROR_STATE } from "./faults";
import { backingAlloc } from "./backing";
import { registerFind, registerRead, registerReset, registerSet, registerValue, registerWrite, SIZE_4, SIZE_8 } from "./registers";
import {
  NvmeState, NVME_STATE_BYTES, NVME_REGISTER_COUNT, NVME_QUEUE_BYTES, NVME_VECTOR_BYTES, SLOT_PRP, SLOT_FREE, SLOT_WAIT_CQ,
  SLOT_DRAIN, SLOT_EXEC, SLOT_HUNG, SLOT_STALLED, nvmeState, regs, sqAt, cqAt, slotAt, slotSqe, vectorAt, nvmeSchedule, nvmeError, slotFree,
  EV_READY, EV_SHUTDOWN, EV_FETCH, EV_SQE, EV_EXEC, EV_PRP, EV_DATA, EV_MEDIA, EV_CQE, EV_COALESCE, NEXT_MEDIA_WRITE,
  SC_SUCCESS, SC_DATA_TRANSFER, AEN_INVALID_DOORBELL, AEN_INVALID_DOORBELL_VALUE, NVME_ERROR_DOORBELL_QUEUE,
  NVME_ERROR_DOORBELL_VALUE, NVME_ERROR_NOT_READY, NVME_ERROR_ENABLE, NVME_ERROR_FETCH, NVME_ERROR_COMPLETION,
  NVME_ERROR_INJECTED_DROP, NVME_ERROR_INJECTED_FATAL, NVME_ERROR_INJECTED_STATUS,
} from "./nvme-state";
import {
  fetchKick, fetchDelayPs, fetchRun, complete, cqeSent, waitRetry, coalesceTimeout, legacyUpdate, legacyConsumed, aenRaise,
} from "./nvme-queues";
import { listArrived, transferDone } from "./nvme-prp";
import { adminExecute, featuresReset, NVME_VERSION } from "./nvme-admin";
import { ioExecute, ioWriteDataArrived, ioMediaDone } from "./nvme-io";

// Register map (BAR0).
/** Controller capabilities (RO, 64-bit). */
export const NVME_CAP: u32 = 0x00;
/** Version (RO). */
export const NVME_VS: u32 = 0x08;
/** Interrupt mask set (write 1 to mask; reads the mask). */
export const NVME_INTMS: u32 = 0x0C;
/** Interrupt mask clear (write 1 to unmask; reads the mask). */
export const NVME_INTMC: u32 = 0x10;
/** Controller configuration (RW). */
export const NVME_CC: u32 = 0x14;
/** Controller status (RO). */
export const NVME_CSTS: u32 = 0x1C;
/** Admin queue attributes (RW). */
export const NVME_AQA: u32 = 0x24;
/** Admin submission queue base (RW, 64-bit, page aligned). */
export const NVME_ASQ: u32 = 0x28;
/** Admin completion queue base (RW, 64-bit, page aligned). */
export const NVME_ACQ: u32 = 0x30;
/** First doorbell (SQ 0 tail). */
export const NVME_DOORBELL_BASE: u32 = 0x1000;

/** CC.EN. */
const CC_EN: u32 = 1;
/** CSTS.RDY. */
const CSTS_RDY: u64 = 1;
/** CSTS.CFS. */
const CSTS_CFS: u64 = 2;
/** CSTS.SHST field. */
const CSTS_SHST: u64 = 0xC;
/** CSTS.SHST: shutdown processing occurring. */
const SHST_IN_PROGRESS: u64 = 0x4;
/** CSTS.SHST: shutdown processing complete. */
const SHST_COMPLETE: u64 = 0x8;

// Register rows: offset, accepted sizes, flags, reset value, writable mask, w1c mask.
// CAP's reset value comes from the model parameters (nvmeCreate).
const NVME_REGISTERS: usize = memory.data<u64>([
  NVME_CAP, SIZE_4 | SIZE_8, 0, 0, 0, 0,
  NVME_VS, SIZE_4, 0, NVME_VERSION, 0, 0,
  NVME_INTMS, SIZE_4, 0, 0, 0, 0,                       // writes handled by the model
  NVME_INTMC, SIZE_4, 0, 0, 0, 0,                       // writes handled by the model
  NVME_CC, SIZE_4, 0, 0, 0x00FFFFF1, 0,                 // EN, CSS, MPS, AMS, SHN, IOSQES, IOCQES
  NVME_CSTS, SIZE_4, 0, 0, 0, 0,
  NVME_AQA, SIZE_4, 0, 0, 0x0FFF0FFF, 0,                // ACQS 27:16, ASQS 11:0
  NVME_ASQ, SIZE_4 | SIZE_8, 0, 0, 0xFFFFFFFFFFFFF000, 0,
  NVME_ACQ, SIZE_4 | SIZE_8, 0, 0, 0xFFFFFFFFFFFFF000, 0,
]);

// Row indices.
const R_CAP: u32 = 0;
const R_INTMS: u32 = 2;
const R_INTMC: u32 = 3;
const R_CC: u32 = 4;
const R_CSTS: u32 = 5;
const R_AQA: u32 = 6;
const R_ASQ: u32 = 7;
const R_ACQ: u32 = 8;

// Model parameters (DeviceConfig.param0 + i), named in src/machine/models.ts.
/** Parameter: largest I/O queue in entries (CAP.MQES + 1), 2..65536; 0 means 1024. */
export const NVME_PARAM_MAX_QUEUE_ENTRIES: u32 = 0;
/** Parameter: I/O queue pairs supported, 1..1023; 0 means 16. */
export const NVME_PARAM_IO_QUEUE_PAIRS: u32 = 1;
/** Parameter: size of every namespace in logical blocks; 0 means 65536. */
export const NVME_PARAM_NAMESPACE_BLOCKS: u32 = 2;
/** Parameter: logical block size in bytes, 512 or 4096 (anything else means 512). */
export const NVME_PARAM_BLOCK_SIZE: u32 = 3;
/** Parameter: CC.EN 0 -> 1 until CSTS.RDY, ns (CAP.TO reports it in 500 ms units, rounded up). */
export const NVME_PARAM_READY_DELAY_NS: u32 = 4;
/** Parameter: CC.SHN written until CSTS.SHST = complete, ns. */
export const NVME_PARAM_SHUTDOWN_DELAY_NS: u32 = 5;
/** Parameter: SQ tail doorbell to submission-entry fetch, device cycles. */
export const NVME_PARAM_FETCH_CYCLES: u32 = 6;
/** Parameter: submission entry arrived to execution (decode), device cycles. */
export const NVME_PARAM_COMMAND_CYCLES: u32 = 7;
/** Parameter: media read latency per command, ns. */
export const NVME_PARAM_READ_LATENCY_NS: u32 = 8;
/** Parameter: media write latency per command, ns. */
export const NVME_PARAM_WRITE_LATENCY_NS: u32 = 9;
/** Parameter: read jitter, ns (uniform 0..n added per read from the seeded generator). */
export const NVME_PARAM_READ_JITTER_NS: u32 = 10;
/** Parameter: write jitter, ns (uniform 0..n added per write). */
export const NVME_PARAM_WRITE_JITTER_NS: u32 = 11;
/** Parameter: flush latency, ns. */
export const NVME_PARAM_FLUSH_LATENCY_NS: u32 = 12;
/** Parameter: commands in flight at once (internal parallelism), 1..255; 0 means 32. */
export const NVME_PARAM_PARALLELISM: u32 = 13;
/** Parameter: MDTS, largest transfer = 2^n 4 KiB pages, 1..8; 0 means 5. */
export const NVME_PARAM_MDTS: u32 = 14;
/** Parameter: CAP.DSTRD, doorbell stride = 4 << n bytes, 0..4. */
export const NVME_PARAM_DOORBELL_STRIDE: u32 = 15;
/** Parameter: extra processing time of an admin command, ns. */
export const NVME_PARAM_ADMIN_LATENCY_NS: u32 = 16;
/** Parameter: namespaces (NSIDs 1..n, all active, each namespaceBlocks blocks), 1..1024; 0 means 1. */
export const NVME_PARAM_NAMESPACE_COUNT: u32 = 17;

/** Most namespaces (the active namespace list holds 1024 NSIDs). */
const MAX_NAMESPACES: u32 = 1024;

// Fault kinds of nvmeInjectFault.
/** Injected fault: the next `count` I/O commands fetched are dropped (never completed). */
export const NVME_INJECT_DROP: u32 = 1;
/** Injected fault: controller fatal status now (CSTS.CFS); fetching and completing stop until CC.EN is cleared. */
export const NVME_INJECT_FATAL: u32 = 2;
/** Injected fault: the next `count` I/O commands fetched fail with status field `value`. */
export const NVME_INJECT_STATUS: u32 = 3;

/** 500 ms, the unit of CAP.TO, in ns. */
const TIMEOUT_UNIT_NS: u64 = 500000000;

function paramOr(i: u32, fallback: u32): u32 {
  const v = deviceParam(i);
  return v == 0 ? fallback : v;
}

function clampU32(v: u32, lo: u32, hi: u32): u32 {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Allocates and initialises the controller of function `fn` from the staged DeviceConfig. False when memory is short. */
export function nvmeCreate(fn: u32): bool {
  const maxQueueEntries = clampU32(paramOr(NVME_PARAM_MAX_QUEUE_ENTRIES, 1024), 2, 65536);
  const ioQueuePairs = clampU32(paramOr(NVME_PARAM_IO_QUEUE_PAIRS, 16), 1, 1023);
  const blocks = <u64>paramOr(NVME_PARAM_NAMESPACE_BLOCKS, 65536);
  const blockShift: u32 = deviceParam(NVME_PARAM_BLOCK_SIZE) == 4096 ? 12 : 9;
  const namespaces = clampU32(paramOr(NVME_PARAM_NAMESPACE_COUNT, 1), 1, MAX_NAMESPACES);
  const slots = clampU32(paramOr(NVME_PARAM_PARALLELISM, 32), 1, 255);
  const mdts = clampU32(paramOr(NVME_PARAM_MDTS, 5), 1, 8);
  const dstrd = clampU32(deviceParam(NVME_PARAM_DOORBELL_STRIDE), 0, 4);
  const f = pciFunction(fn);
  let vectors: u32 = 1;
  if (f.msixVectors != 0) vectors = f.msixVectors;
  else if (deviceConfig.msiVectors != 0) vectors = deviceConfig.msiVectors;

  const queues = ioQueuePairs + 1;
  const maxTransfer: u32 = <u32>4096 << mdts;
  const prpCapacity = (maxTransfer >> 12) + 2;
  const slotBytes = (SLOT_PRP + prpCapacity * 8 + 63) & ~63;
  const sqTable = NVME_STATE_BYTES;
  const cqTable = sqTable + queues * NVME_QUEUE_BYTES;
  const vectorTable = cqTable + queues * NVME_QUEUE_BYTES;
  const slotTable = (vectorTable + vectors * NVME_VECTOR_BYTES + 63) & ~63;
  const freeStack = slotTable + slots * slotBytes;
  const waitRing = freeStack + slots * 4;
  const total = waitRing + slots * 4;
  const base = deviceHeapAlloc(total);
  if (base == 0) return false;
  const namespaceBytes = blocks << blockShift;
  // Each product is checked before the next can overflow: the core holds under 4 GiB.
  if (namespaceBytes >= <u64>0x100000000) return false;
  const dataBytes = namespaceBytes * namespaces;
  if (dataBytes >= <u64>0x100000000) return false;
  const backing = backingAlloc(dataBytes + <u64>slots * maxTransfer);
  if (backing == 0) return false;
  f.state = <u32>base;

  const s = changetype<NvmeState>(base);
  s.maxQueueEntries = maxQueueEntries;
  s.ioQueuePairs = ioQueuePairs;
  s.namespaceBlocks = blocks;
  s.namespaceBytes = namespaceBytes;
  s.namespaceCount = namespaces;
  s.blockShift = blockShift;
  s.slotCount = slots;
  s.readyDelayPs = <u64>deviceParam(NVME_PARAM_READY_DELAY_NS) * 1000;
  s.shutdownDelayPs = <u64>deviceParam(NVME_PARAM_SHUTDOWN_DELAY_NS) * 1000;
  s.fetchCycles = deviceParam(NVME_PARAM_FETCH_CYCLES);
  s.commandCycles = deviceParam(NVME_PARAM_COMMAND_CYCLES);
  s.readLatencyPs = <u64>deviceParam(NVME_PARAM_READ_LATENCY_NS) * 1000;
  s.writeLatencyPs = <u64>deviceParam(NVME_PARAM_WRITE_LATENCY_NS) * 1000;
  s.readJitterNs = deviceParam(NVME_PARAM_READ_JITTER_NS);
  s.writeJitterNs = deviceParam(NVME_PARAM_WRITE_JITTER_NS);
  s.flushLatencyPs = <u64>deviceParam(NVME_PARAM_FLUSH_LATENCY_NS) * 1000;
  s.adminLatencyPs = <u64>deviceParam(NVME_PARAM_ADMIN_LATENCY_NS) * 1000;
  s.mdts = mdts;
  s.dstrd = dstrd;
  s.maxTransfer = maxTransfer;
  s.queueCount = queues;
  s.vectorCount = vectors;
  s.prpCapacity = prpCapacity;
  s.slotBytes = slotBytes;
  s.sqTable = <u32>(base + sqTable);
  s.cqTable = <u32>(base + cqTable);
  s.vectorTable = <u32>(base + vectorTable);
  s.slotTable = <u32>(base + slotTable);
  s.freeStack = <u32>(base + freeStack);
  s.waitRing = <u32>(base + waitRing);
  s.namespace = <u32>backing;
  s.staging = <u32>(backing + <usize>dataBytes);

  registerReset(NVME_REGISTERS, regs(s), NVME_REGISTER_COUNT);
  let timeout = (<u64>deviceParam(NVME_PARAM_READY_DELAY_NS) + TIMEOUT_UNIT_NS - 1) / TIMEOUT_UNIT_NS;
  if (timeout == 0) timeout = 1;
  if (timeout > 255) timeout = 255;
  const cap: u64 = <u64>(maxQueueEntries - 1)   // MQES
    | (<u64>1 << 16)                             // CQR: contiguous queues required
    | (timeout << 24)                            // TO
    | (<u64>dstrd << 32)                         // DSTRD
    | (<u64>1 << 37);                            // CSS: NVM command set; MPSMIN = MPSMAX = 0 (4 KiB)
  registerSet(regs(s), R_CAP, cap);
  for (let i: u32 = 0; i < slots; i++) slotFree(s, i);
  featuresReset(s);
  return true;
}

// ---- registers --------------------------------------------------------------------------

/** MMIO read of `size` bytes at BAR0 `offset`. */
export function nvmeRead(fn: u32, offset: u32, size: u32): u64 {
  if (offset >= NVME_DOORBELL_BASE) return 0;
  const s = nvmeState(fn);
  const i = registerFind(NVME_REGISTERS, NVME_REGISTER_COUNT, offset, size);
  if (i >= 0) return registerRead(NVME_REGISTERS, regs(s), <u32>i, size);
  if (size == 4 && (offset & 7) == 4) {
    const j = registerFind(NVME_REGISTERS, NVME_REGISTER_COUNT, offset - 4, 8);
    if (j >= 0) return registerRead(NVME_REGISTERS, regs(s), <u32>j, 8) >> 32;
  }
  return 0;
}

/** MMIO write of `size` bytes at BAR0 `offset` (arrives at the device now). */
export function nvmeWrite(fn: u32, offset: u32, size: u32, value: u64): void {
  const s = nvmeState(fn);
  if (offset >= NVME_DOORBELL_BASE) { doorbell(fn, s, offset, size, <u32>value); return; }
  const r = regs(s);
  const found = registerFind(NVME_REGISTERS, NVME_REGISTER_COUNT, offset, size);
  if (found < 0) {
    if (size == 4 && (offset & 7) == 4) {
      const j = registerFind(NVME_REGISTERS, NVME_REGISTER_COUNT, offset - 4, 8);
      if (j >= 0) registerWrite(NVME_REGISTERS, r, <u32>j, 8, (registerValue(r, <u32>j) & 0xFFFFFFFF) | (value << 32));
    }
    return;
  }
  const i = <u32>found;
  if (i == R_CC) { ccWrite(fn, s, size, value); return; }
  if (i == R_INTMS || i == R_INTMC) {
    if (i == R_INTMS) s.intMask |= <u32>value;
    else s.intMask &= ~<u32>value;
    registerSet(r, R_INTMS, s.intMask);
    registerSet(r, R_INTMC, s.intMask);
    legacyUpdate(fn, s);
    return;
  }
  registerWrite(NVME_REGISTERS, r, i, size, value);
}

function cstsSet(s: NvmeState, clear: u64, set: u64): void {
  registerSet(regs(s), R_CSTS, (registerValue(regs(s), R_CSTS) & ~clear) | set);
}

function ccWrite(fn: u32, s: NvmeState, size: u32, value: u64): void {
  const r = regs(s);
  const old = <u32>registerValue(r, R_CC);
  registerWrite(NVME_REGISTERS, r, R_CC, size, value);
  const cc = <u32>registerValue(r, R_CC);
  if ((old & CC_EN) != 0 && (cc & CC_EN) == 0) controllerReset(fn, s);
  else if ((old & CC_EN) == 0 && (cc & CC_EN) != 0) controllerEnable(fn, s, cc);
  if (((old >> 14) & 3) == 0 && ((cc >> 14) & 3) != 0) {
    s.shutdown = 1;
    cstsSet(s, CSTS_SHST, SHST_IN_PROGRESS);
    nvmeSchedule(fn, s, core.nowPs + s.shutdownDelayPs, EV_SHUTDOWN, 0, 0);
  }
}

function controllerEnable(fn: u32, s: NvmeState, cc: u32): void {
  const aqa = <u32>registerValue(regs(s), R_AQA);
  const css = (cc >> 4) & 7;
  const mps = (cc >> 7) & 0xF;
  const ams = (cc >> 11) & 7;
  if (css != 0 || mps != 0 || ams != 0 || (aqa & 0xFFF) == 0 || ((aqa >> 16) & 0xFFF) == 0) {
    nvmeError(fn, NVME_ERROR_ENABLE, (<u64>aqa << 32) | <u64>cc);
    cstsSet(s, 0, CSTS_CFS);
    return;
  }
  nvmeSchedule(fn, s, core.nowPs + s.readyDelayPs, EV_READY, 0, 0);
}

/** The enable delay is over: the admin queues exist and CSTS.RDY is set. */
function becomeReady(s: NvmeState): void {
  const r = regs(s);
  const aqa = <u32>registerValue(r, R_AQA);
  const sq = sqAt(s, 0);
  sq.base = registerValue(r, R_ASQ);
  sq.size = (aqa & 0xFFF) + 1;
  sq.head = 0;
  sq.tail = 0;
  sq.cqid = 0;
  sq.inflight = 0;
  sq.drainSlot = 0;
  sq.valid = 1;
  const cq = cqAt(s, 0);
  cq.base = registerValue(r, R_ACQ);
  cq.size = ((aqa >> 16) & 0xFFF) + 1;
  cq.head = 0;
  cq.tail = 0;
  cq.phase = 1;
  cq.vector = 0;
  cq.interrupts = 1;
  cq.sqCount = 1;
  cq.valid = 1;
  s.ready = 1;
  cstsSet(s, 0, CSTS_RDY);
}

/** Controller reset (CC.EN 1 -> 0): queues deleted, work in flight dropped, status and features back to defaults. */
function controllerReset(fn: u32, s: NvmeState): void {
  s.epoch = (s.epoch + 1) & 0xFFFF;
  s.ready = 0;
  s.shutdown = 0;
  s.fetchScheduled = 0;
  s.rrNext = 0;
  for (let q: u32 = 0; q < s.queueCount; q++) {
    const sq = sqAt(s, q);
    sq.valid = 0; sq.inflight = 0; sq.drainSlot = 0;
    cqAt(s, q).valid = 0;
  }
  for (let v: u32 = 0; v < s.vectorCount; v++) {
    const vec = vectorAt(s, v);
    vec.pending = 0;
    vec.deadline = 0;
  }
  s.intStatus = 0;
  s.intMask = 0;
  s.legacyActive = 0;
  registerSet(regs(s), R_INTMS, 0);
  registerSet(regs(s), R_INTMC, 0);
  if (pciFunction(fn).intxLevel != 0) intxSetLevel(fn, 0);
  s.aerCount = 0;
  s.aenPending = 0;
  s.waitHead = 0;
  s.waitCount = 0;
  s.fatal = 0;
  featuresReset(s);
  // Slots waiting on nothing in flight are free now (dropped and stalled commands are
  // forgotten); the others free themselves when their DMA or timer event of the old
  // generation arrives.
  s.freeCount = 0;
  for (let i: u32 = 0; i < s.slotCount; i++) {
    const state = slotAt(s, i).state;
    if (state == SLOT_FREE || state == SLOT_WAIT_CQ || state == SLOT_DRAIN || state == SLOT_HUNG || state == SLOT_STALLED) slotFree(s, i);
  }
  registerSet(regs(s), R_CSTS, 0);
}

// ---- doorbells --------------------------------------------------------------------------

function doorbell(fn: u32, s: NvmeState, offset: u32, size: u32, value: u32): void {
  const rel = offset - NVME_DOORBELL_BASE;
  if (size != 4 || (rel & ((<u32>4 << s.dstrd) - 1)) != 0) return;
  const index = rel >> (2 + s.dstrd);
  const q = index >> 1;
  const isCq = (index & 1) != 0;
  if (s.ready == 0) { nvmeError(fn, NVME_ERROR_NOT_READY, offset); return; }
  if (q >= s.queueCount || (isCq ? cqAt(s, q).valid : sqAt(s, q).valid) == 0) {
    nvmeError(fn, NVME_ERROR_DOORBELL_QUEUE, offset);
    aenRaise(fn, s, AEN_INVALID_DOORBELL);
    return;
  }
  if (!isCq) {
    const sq = sqAt(s, q);
    if (value >= sq.size) { badValue(fn, s, offset, value); return; }
    sq.tail = value;
    fetchKick(fn, s, fetchDelayPs(fn, s));
    return;
  }
  const cq = cqAt(s, q);
  const posted = cq.tail >= cq.head ? cq.tail - cq.head : cq.tail + cq.size - cq.head;
  const advance = value >= cq.head ? value - cq.head : value + cq.size - cq.head;
  if (value >= cq.size || advance > posted) { badValue(fn, s, offset, value); return; }
  cq.head = value;
  if (cq.interrupts != 0) legacyConsumed(fn, s, q);
  waitRetry(fn, s);
}

function badValue(fn: u32, s: NvmeState, offset: u32, value: u32): void {
  nvmeError(fn, NVME_ERROR_DOORBELL_VALUE, (<u64>offset << 32) | <u64>value);
  aenRaise(fn, s, AEN_INVALID_DOORBELL_VALUE);
}

// ---- events -----------------------------------------------------------------------------

function sqeArrived(fn: u32, s: NvmeState, i: u32, status: u32): void {
  const slot = slotAt(s, i);
  slot.outstanding = 0;
  const sqe = slotSqe(s, i);
  if (status != DMA_OK) {
    memory.fill(sqe, 0xFF, 64);
    const sq = sqAt(s, slot.sqid);
    nvmeError(fn, NVME_ERROR_FETCH, (<u64>status << 32) | (sq.base & 0xFFFFFFFF));
    complete(fn, s, i, SC_DATA_TRANSFER, 0);
    return;
  }
  slot.cid = load<u32>(sqe) >> 16;
  if (slot.sqid != 0) {
    const who = (<u64>slot.sqid << 16) | <u64>slot.cid;
    if (s.dropPending > 0) {
      s.dropPending--;
      slot.state = SLOT_HUNG;
      nvmeError(fn, NVME_ERROR_INJECTED_DROP, who);
      return;
    }
    if (s.statusPending > 0) {
      s.statusPending--;
      slot.injected = s.statusInjected;
      nvmeError(fn, NVME_ERROR_INJECTED_STATUS, (<u64>s.statusInjected << 32) | who);
    }
  }
  slot.state = SLOT_EXEC;
  let delay = cyclesToPs(functionClock(fn), s.commandCycles);
  if (slot.sqid == 0) delay += s.adminLatencyPs;
  nvmeSchedule(fn, s, core.nowPs + delay, EV_EXEC, i, 0);
}

/** Device-internal event `code` (kind | slot << 8 | generation << 16) with `arg` for function `fn`. */
export function nvmeEvent(fn: u32, code: u32, arg: u64): void {
  const s = nvmeState(fn);
  const kind = code & 0xFF;
  const i = (code >> 8) & 0xFF;
  const current = (code >> 16) == (s.epoch & 0xFFFF);
  if (kind == EV_READY) { if (current && s.fatal == 0) becomeReady(s); return; }
  if (kind == EV_SHUTDOWN) { if (current) cstsSet(s, CSTS_SHST, SHST_COMPLETE); return; }
  if (kind == EV_FETCH) { if (current) fetchRun(fn, s); return; }
  if (kind == EV_COALESCE) { if (current && s.fatal == 0) coalesceTimeout(fn, s, <u32>arg); return; }
  if (i >= s.slotCount) return;
  const slot = slotAt(s, i);
  if (!current) {
    // A slot of an older generation: done once its last DMA has reported.
    if (kind == EV_SQE || kind == EV_PRP || kind == EV_DATA || kind == EV_CQE) {
      if (slot.outstanding > 0) slot.outstanding--;
      if (slot.outstanding > 0) return;
    }
    slotFree(s, i);
    return;
  }
  const status = <u32>arg;
  if (s.fatal != 0 && (kind == EV_SQE || kind == EV_EXEC || kind == EV_MEDIA)) {
    // After an injected fatal error a command goes no further: it waits for the reset.
    slot.outstanding = 0;
    slot.state = SLOT_STALLED;
    return;
  }
  if (kind == EV_SQE) sqeArrived(fn, s, i, status);
  else if (kind == EV_EXEC) { if (slot.sqid == 0) adminExecute(fn, s, i); else ioExecute(fn, s, i); }
  else if (kind == EV_PRP) listArrived(fn, s, i, status);
  else if (kind == EV_DATA) {
    if (transferDone(fn, s, i, status)) {
      if (slot.next == NEXT_MEDIA_WRITE) ioWriteDataArrived(fn, s, i);
      else complete(fn, s, i, SC_SUCCESS, slot.dw0);
    }
  }
  else if (kind == EV_MEDIA) ioMediaDone(fn, s, i);
  else if (kind == EV_CQE) {
    // A completion that cannot reach its queue is a fatal controller error.
    if (status != DMA_OK) { nvmeError(fn, NVME_ERROR_COMPLETION, status); cstsSet(s, 0, CSTS_CFS); }
    cqeSent(fn, s, i);
  }
}

// ---- injected faults --------------------------------------------------------------------

/**
 * Arms or raises fault `kind` (NVME_INJECT_*) on controller `fn` at the current core time:
 * DROP and STATUS apply to the next `count` I/O commands fetched (0 disarms), STATUS with
 * status field `value` (code 7:0, type 10:8, more 13, do-not-retry 14; not success); FATAL
 * needs CC.EN = 1. INJECT_OK or an INJECT_ERROR_*.
 */
export function nvmeInjectFault(fn: u32, kind: u32, count: u32, value: u32): i32 {
  const s = nvmeState(fn);
  if (kind == NVME_INJECT_DROP) {
    s.dropPending = count;
    return INJECT_OK;
  }
  if (kind == NVME_INJECT_STATUS) {
    if (count != 0 && (value > 0x7FFF || (value & 0x7FF) == 0)) return INJECT_ERROR_ARGUMENT;
    s.statusPending = count;
    s.statusInjected = count != 0 ? value : 0;
    return INJECT_OK;
  }
  if (kind == NVME_INJECT_FATAL) {
    if ((<u32>registerValue(regs(s), R_CC) & CC_EN) == 0) return INJECT_ERROR_STATE;
    if (s.fatal != 0) return INJECT_OK;
    s.fatal = 1;
    cstsSet(s, 0, CSTS_CFS);
    nvmeError(fn, NVME_ERROR_INJECTED_FATAL, 0);
    return INJECT_OK;
  }
  return INJECT_ERROR_KIND;
}

/**
 * Arms a media error on controller `fn`: reads of namespace `nsid` touching blocks
 * `first` .. `first + blocks - 1` (and writes too, with `writes`) complete with Unrecovered
 * Read Error (Write Fault for a write) until disarmed (`blocks` 0). The range outlives a
 * controller reset, as bad media would. INJECT_OK, or INJECT_ERROR_ARGUMENT for a namespace
 * the controller does not have or a range outside it.
 */
export function nvmeInjectMediaError(fn: u32, nsid: u32, first: u64, blocks: u64, writes: bool): i32 {
  const s = nvmeState(fn);
  if (blocks == 0) { s.mediaErrorNsid = 0; return INJECT_OK; }
  if (nsid == 0 || nsid > s.namespaceCount || first >= s.namespaceBlocks || blocks > s.namespaceBlocks - first) return INJECT_ERROR_ARGUMENT;
  s.mediaErrorFirst = first;
  s.mediaErrorBlocks = blocks;
  s.mediaErrorWrites = writes ? 1 : 0;
  s.mediaErrorNsid = nsid;
  return INJECT_OK;
}
