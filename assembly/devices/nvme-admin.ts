// NVMe admin command set (shared/specs/nvme.md): I/O queue creation and deletion with
// their command-specific errors, identify (controller, namespace, active namespace list,
// namespace identification descriptors),
// set/get features, abort, get log page and asynchronous event requests. Anything else
// completes with "invalid opcode".
//
// Choices the specification leaves open, as implemented:
// - Abort aborts only a command the controller holds without progress (one dropped by an
//   injected fault): that command completes with "command abort requested" and the Abort
//   with DW0 bit 0 clear. Any other command is not aborted (DW0 bit 0 set).
// - Every namespace 1..NN is active and alike (namespaceBlocks blocks of one LBA format);
//   an NSID outside them is "invalid namespace or format". Each namespace has an NGUID:
//   "WDMSIM", the function's bus/device/function and the NSID.
// - Number of queues (0x07) may be set at any time; creation checks queue ids against it.
// - Create I/O queues require physically contiguous queues (CAP.CQR = 1); a page offset
//   in PRP1 or CC.IOSQES/IOCQES other than 6/4 is an invalid field.
// - Get Log Page supports the error (0x01, empty), SMART (0x02) and firmware slot (0x03)
//   pages at offset 0; other pages are "invalid log page".
// - Set Features with SV (save) is "feature identifier not saveable".
// - Delete I/O SQ stops fetching from the queue and completes once the commands already
//   fetched from it have completed; commands dropped by an injected fault complete at once
//   with "command aborted due to SQ deletion".

import { configPeek } from "../pci/config";
import { CFG_VENDOR_ID, CFG_SUBSYSTEM_VENDOR_ID } from "../pci/header";
import { pciFunction } from "../pci/function";
import {
  NvmeState, sqAt, cqAt, slotAt, slotStaging, vectorAt, cdw, regs, genericError, commandError, NVME_AER_LIMIT,
  SC_SUCCESS, SC_INVALID_OPCODE, SC_INVALID_FIELD, SC_INVALID_NAMESPACE, SC_CQ_INVALID, SC_INVALID_QID, SC_INVALID_QSIZE,
  SC_AER_LIMIT, SC_INVALID_VECTOR, SC_INVALID_LOG_PAGE, SC_INVALID_DELETION, SC_NOT_SAVEABLE, SC_ABORT_REQUESTED,
  SC_ABORTED_SQ_DELETION, SLOT_DRAIN, SLOT_HUNG, NEXT_COMPLETE,
} from "./nvme-state";
import { complete, aerPark, legacyConsumed } from "./nvme-queues";
import { transferStart } from "./nvme-prp";

/** NVMe version reported in VS and Identify: 1.4.0. */
export const NVME_VERSION: u32 = 0x00010400;
/** Register row of CC (nvme.ts keeps the same order). */
const R_CC: u32 = 4;

// @ts-ignore: decorator
@inline function ok(fn: u32, s: NvmeState, i: u32, dw0: u32): void {
  complete(fn, s, i, SC_SUCCESS, dw0);
}

/** Executes the admin command in slot `i`. */
export function adminExecute(fn: u32, s: NvmeState, i: u32): void {
  const cdw0 = cdw(s, i, 0);
  const opcode = cdw0 & 0xFF;
  // Fused operations and SGLs are not supported.
  if ((cdw0 & 0xC300) != 0) { complete(fn, s, i, genericError(SC_INVALID_FIELD), 0); return; }
  if (opcode == 0x00) deleteSq(fn, s, i);
  else if (opcode == 0x01) createSq(fn, s, i);
  else if (opcode == 0x02) getLogPage(fn, s, i);
  else if (opcode == 0x04) deleteCq(fn, s, i);
  else if (opcode == 0x05) createCq(fn, s, i);
  else if (opcode == 0x06) identify(fn, s, i);
  else if (opcode == 0x08) abort(fn, s, i);
  else if (opcode == 0x09) setFeatures(fn, s, i);
  else if (opcode == 0x0A) getFeatures(fn, s, i);
  else if (opcode == 0x0C) { if (!aerPark(fn, s, i)) complete(fn, s, i, commandError(SC_AER_LIMIT), 0); }
  else complete(fn, s, i, genericError(SC_INVALID_OPCODE), 0);
}

// ---- queues ---------------------------------------------------------------------------

function createCq(fn: u32, s: NvmeState, i: u32): void {
  const c10 = cdw(s, i, 10);
  const c11 = cdw(s, i, 11);
  const qid = c10 & 0xFFFF;
  const entries = (c10 >> 16) + 1;
  const interrupts = (c11 >> 1) & 1;
  const vector = c11 >> 16;
  const base = (<u64>cdw(s, i, 7) << 32) | <u64>cdw(s, i, 6);
  if (qid == 0 || qid > s.ncqAllocated || qid >= s.queueCount || cqAt(s, qid).valid != 0) { complete(fn, s, i, commandError(SC_INVALID_QID), 0); return; }
  if (entries < 2 || entries > s.maxQueueEntries) { complete(fn, s, i, commandError(SC_INVALID_QSIZE), 0); return; }
  if (interrupts != 0 && vector >= s.vectorCount) { complete(fn, s, i, commandError(SC_INVALID_VECTOR), 0); return; }
  const cc = <u32>load<u64>(regs(s) + (R_CC << 3));
  if ((c11 & 1) == 0 || (base & 0xFFF) != 0 || ((cc >> 20) & 0xF) != 4) { complete(fn, s, i, genericError(SC_INVALID_FIELD), 0); return; }
  const cq = cqAt(s, qid);
  cq.base = base;
  cq.size = entries;
  cq.head = 0;
  cq.tail = 0;
  cq.phase = 1;
  cq.vector = vector;
  cq.interrupts = interrupts;
  cq.sqCount = 0;
  cq.valid = 1;
  ok(fn, s, i, 0);
}

function createSq(fn: u32, s: NvmeState, i: u32): void {
  const c10 = cdw(s, i, 10);
  const c11 = cdw(s, i, 11);
  const qid = c10 & 0xFFFF;
  const entries = (c10 >> 16) + 1;
  const cqid = c11 >> 16;
  const base = (<u64>cdw(s, i, 7) << 32) | <u64>cdw(s, i, 6);
  if (qid == 0 || qid > s.nsqAllocated || qid >= s.queueCount || sqAt(s, qid).valid != 0) { complete(fn, s, i, commandError(SC_INVALID_QID), 0); return; }
  if (entries < 2 || entries > s.maxQueueEntries) { complete(fn, s, i, commandError(SC_INVALID_QSIZE), 0); return; }
  if (cqid == 0 || cqid >= s.queueCount || cqAt(s, cqid).valid == 0) { complete(fn, s, i, commandError(SC_CQ_INVALID), 0); return; }
  const cc = <u32>load<u64>(regs(s) + (R_CC << 3));
  if ((c11 & 1) == 0 || (base & 0xFFF) != 0 || ((cc >> 16) & 0xF) != 6) { complete(fn, s, i, genericError(SC_INVALID_FIELD), 0); return; }
  const sq = sqAt(s, qid);
  sq.base = base;
  sq.size = entries;
  sq.head = 0;
  sq.tail = 0;
  sq.cqid = cqid;
  sq.inflight = 0;
  sq.drainSlot = 0;
  sq.valid = 1;
  cqAt(s, cqid).sqCount++;
  ok(fn, s, i, 0);
}

function deleteSq(fn: u32, s: NvmeState, i: u32): void {
  const qid = cdw(s, i, 10) & 0xFFFF;
  if (qid == 0 || qid >= s.queueCount || sqAt(s, qid).valid == 0 || sqAt(s, qid).drainSlot != 0) { complete(fn, s, i, commandError(SC_INVALID_QID), 0); return; }
  const sq = sqAt(s, qid);
  if (sq.inflight == 0) {
    sq.valid = 0;
    const cq = cqAt(s, sq.cqid);
    if (cq.sqCount > 0) cq.sqCount--;
    ok(fn, s, i, 0);
    return;
  }
  sq.drainSlot = i + 1;
  slotAt(s, i).state = SLOT_DRAIN;
  // Dropped commands would never drain: they are aborted (the last one completes the deletion).
  for (let k: u32 = 0; k < s.slotCount; k++) {
    const held = slotAt(s, k);
    if (held.state == SLOT_HUNG && held.sqid == qid) complete(fn, s, k, SC_ABORTED_SQ_DELETION, 0);
  }
}

/** Abort (CDW10 SQID 15:0, CID 31:16): only a dropped command can be aborted. */
function abort(fn: u32, s: NvmeState, i: u32): void {
  const c10 = cdw(s, i, 10);
  const sqid = c10 & 0xFFFF;
  const cid = c10 >> 16;
  for (let k: u32 = 0; k < s.slotCount; k++) {
    const held = slotAt(s, k);
    if (held.state == SLOT_HUNG && held.sqid == sqid && held.cid == cid) {
      complete(fn, s, k, SC_ABORT_REQUESTED, 0);
      ok(fn, s, i, 0);
      return;
    }
  }
  ok(fn, s, i, 1);
}

function deleteCq(fn: u32, s: NvmeState, i: u32): void {
  const qid = cdw(s, i, 10) & 0xFFFF;
  if (qid == 0 || qid >= s.queueCount || cqAt(s, qid).valid == 0) { complete(fn, s, i, commandError(SC_INVALID_QID), 0); return; }
  const cq = cqAt(s, qid);
  if (cq.sqCount != 0) { complete(fn, s, i, commandError(SC_INVALID_DELETION), 0); return; }
  // Entries left unconsumed no longer hold the pin-based/MSI interrupt status.
  cq.head = cq.tail;
  if (cq.interrupts != 0) legacyConsumed(fn, s, qid);
  cq.valid = 0;
  ok(fn, s, i, 0);
}

// ---- identify -------------------------------------------------------------------------

/** Writes `text` as ASCII at `dst`, padded with spaces to `length` bytes. */
function ascii(dst: usize, text: string, length: u32): void {
  for (let k: u32 = 0; k < length; k++) {
    store<u8>(dst + k, k < <u32>text.length ? <u8>text.charCodeAt(k) : 0x20);
  }
}

function hexDigit(n: u32): u8 {
  return <u8>(n < 10 ? 0x30 + n : 0x41 + n - 10);
}

function identifyController(fn: u32, s: NvmeState, d: usize): void {
  store<u16>(d, <u16>configPeek(fn, CFG_VENDOR_ID, 2));
  store<u16>(d + 2, <u16>configPeek(fn, CFG_SUBSYSTEM_VENDOR_ID, 2));
  // Serial number: WDMSIM-NVME- and the function's bus/device/function in hex.
  ascii(d + 4, "WDMSIM-NVME-", 20);
  const bdf = pciFunction(fn).bdf;
  for (let k: u32 = 0; k < 4; k++) store<u8>(d + 16 + k, hexDigit((bdf >> ((3 - k) << 2)) & 0xF));
  ascii(d + 24, "wdmsim NVMe controller", 40);
  ascii(d + 64, "1.0", 8);
  store<u8>(d + 77, <u8>s.mdts);
  store<u16>(d + 78, 0);
  store<u32>(d + 80, NVME_VERSION);
  store<u8>(d + 111, 1);            // CNTRLTYPE: I/O controller
  store<u8>(d + 258, 3);            // ACL: 4 concurrent aborts (zero-based)
  store<u8>(d + 259, <u8>(NVME_AER_LIMIT - 1));
  store<u8>(d + 260, 0x02);         // FRMW: one firmware slot
  store<u8>(d + 512, 0x66);         // SQES: 64-byte entries
  store<u8>(d + 513, 0x44);         // CQES: 16-byte entries
  store<u32>(d + 516, s.namespaceCount); // NN
  ascii(d + 768, "nqn.2024-01.org.wdmsim:nvme:", 256);
  for (let k: u32 = 0; k < 4; k++) store<u8>(d + 796 + k, hexDigit((bdf >> ((3 - k) << 2)) & 0xF));
  for (let k: u32 = 800; k < 1024; k++) store<u8>(d + k, 0);
  store<u16>(d + 2048, 2500);       // power state 0: 25.00 W
}

/** Writes namespace `nsid`'s 16-byte NGUID at `d`: "WDMSIM", 0, 0, bus/device/function, 0, 0, NSID (big-endian). */
function nguid(fn: u32, nsid: u32, d: usize): void {
  ascii(d, "WDMSIM", 6);
  store<u16>(d + 6, 0);
  store<u16>(d + 8, bswap<u16>(<u16>pciFunction(fn).bdf));
  store<u16>(d + 10, 0);
  store<u32>(d + 12, bswap<u32>(nsid));
}

function identifyNamespace(fn: u32, s: NvmeState, nsid: u32, d: usize): void {
  store<u64>(d, s.namespaceBlocks);       // NSZE
  store<u64>(d + 8, s.namespaceBlocks);   // NCAP
  store<u64>(d + 16, s.namespaceBlocks);  // NUSE
  store<u8>(d + 25, 0);                   // NLBAF: one format
  store<u8>(d + 26, 0);                   // FLBAS: format 0
  nguid(fn, nsid, d + 104);               // NGUID
  store<u32>(d + 128, s.blockShift << 16); // LBAF0: no metadata, LBADS
}

/** True when `nsid` names an active namespace. */
// @ts-ignore: decorator
@inline function activeNamespace(s: NvmeState, nsid: u32): bool {
  return nsid != 0 && nsid <= s.namespaceCount;
}

function identify(fn: u32, s: NvmeState, i: u32): void {
  const cns = cdw(s, i, 10) & 0xFF;
  const nsid = cdw(s, i, 1);
  const d = slotStaging(s, i);
  if (cns == 0x00) {
    if (!activeNamespace(s, nsid)) { complete(fn, s, i, genericError(SC_INVALID_NAMESPACE), 0); return; }
    memory.fill(d, 0, 4096);
    identifyNamespace(fn, s, nsid, d);
  } else if (cns == 0x01) {
    memory.fill(d, 0, 4096);
    identifyController(fn, s, d);
  } else if (cns == 0x02) {
    // Active NSIDs above CDW1.NSID, ascending, at most 1024 of them.
    if (nsid >= 0xFFFFFFFE) { complete(fn, s, i, genericError(SC_INVALID_NAMESPACE), 0); return; }
    memory.fill(d, 0, 4096);
    let at: u32 = 0;
    for (let n = nsid + 1; n <= s.namespaceCount && at < 1024; n++) store<u32>(d + (at++ << 2), n);
  } else if (cns == 0x03) {
    // Namespace identification descriptor list: the NGUID (type 2, 16 bytes), then zeroes.
    if (!activeNamespace(s, nsid)) { complete(fn, s, i, genericError(SC_INVALID_NAMESPACE), 0); return; }
    memory.fill(d, 0, 4096);
    store<u8>(d, 0x02);                   // NIDT: NGUID
    store<u8>(d + 1, 16);                 // NIDL
    nguid(fn, nsid, d + 4);
  } else {
    complete(fn, s, i, genericError(SC_INVALID_FIELD), 0);
    return;
  }
  transferStart(fn, s, i, 4096, 1, NEXT_COMPLETE);
}

// ---- log pages ------------------------------------------------------------------------

function getLogPage(fn: u32, s: NvmeState, i: u32): void {
  const c10 = cdw(s, i, 10);
  const lid = c10 & 0xFF;
  const dwords = ((cdw(s, i, 11) & 0xFFFF) << 16 | (c10 >> 16)) + 1;
  const offset = (<u64>cdw(s, i, 13) << 32) | <u64>cdw(s, i, 12);
  if (lid != 0x01 && lid != 0x02 && lid != 0x03) { complete(fn, s, i, commandError(SC_INVALID_LOG_PAGE), 0); return; }
  if (offset != 0 || dwords == 0 || dwords > (s.maxTransfer >> 2)) { complete(fn, s, i, genericError(SC_INVALID_FIELD), 0); return; }
  const length = dwords << 2;
  const d = slotStaging(s, i);
  memory.fill(d, 0, length);
  if (lid == 0x02 && length >= 5) {
    store<u8>(d + 1, <u8>(313 & 0xFF));   // composite temperature 313 K
    store<u8>(d + 2, <u8>(313 >> 8));
    store<u8>(d + 3, 100);               // available spare, percent
    store<u8>(d + 4, 10);                // available spare threshold, percent
  } else if (lid == 0x03 && length >= 16) {
    store<u8>(d, 1);                     // active firmware: slot 1
    ascii(d + 8, "1.0", 8);
  }
  transferStart(fn, s, i, length, 1, NEXT_COMPLETE);
}

// ---- features -------------------------------------------------------------------------

/** Number-of-queues value: I/O CQs allocated - 1 in 31:16, SQs - 1 in 15:0. */
function queuesValue(s: NvmeState): u32 {
  return ((s.ncqAllocated - 1) << 16) | (s.nsqAllocated - 1);
}

function setFeatures(fn: u32, s: NvmeState, i: u32): void {
  const c10 = cdw(s, i, 10);
  const value = cdw(s, i, 11);
  const fid = c10 & 0xFF;
  if ((c10 & 0x80000000) != 0) { complete(fn, s, i, commandError(SC_NOT_SAVEABLE), 0); return; }
  if (fid == 0x07) {
    const nsqr = value & 0xFFFF;
    const ncqr = value >> 16;
    if (nsqr == 0xFFFF || ncqr == 0xFFFF) { complete(fn, s, i, genericError(SC_INVALID_FIELD), 0); return; }
    s.nsqAllocated = nsqr + 1 < s.ioQueuePairs ? nsqr + 1 : s.ioQueuePairs;
    s.ncqAllocated = ncqr + 1 < s.ioQueuePairs ? ncqr + 1 : s.ioQueuePairs;
    ok(fn, s, i, queuesValue(s));
  } else if (fid == 0x08) {
    s.coalescing = value & 0xFFFF;
    ok(fn, s, i, 0);
  } else if (fid == 0x09) {
    const v = value & 0xFFFF;
    if (v >= s.vectorCount) { complete(fn, s, i, genericError(SC_INVALID_FIELD), 0); return; }
    vectorAt(s, v).coalescingDisabled = (value >> 16) & 1;
    ok(fn, s, i, 0);
  } else if (fid == 0x01) { s.arbitration = value; ok(fn, s, i, 0); }
  else if (fid == 0x02) {
    if ((value & 0x1F) != 0) { complete(fn, s, i, genericError(SC_INVALID_FIELD), 0); return; }
    s.powerManagement = value; ok(fn, s, i, 0);
  }
  else if (fid == 0x04) { s.temperatureThreshold = value; ok(fn, s, i, 0); }
  else if (fid == 0x05) { s.errorRecovery = value; ok(fn, s, i, 0); }
  else if (fid == 0x0A) { s.writeAtomicity = value & 1; ok(fn, s, i, 0); }
  else if (fid == 0x0B) { s.asyncEventConfig = value; ok(fn, s, i, 0); }
  else complete(fn, s, i, genericError(SC_INVALID_FIELD), 0);
}

/** Default value of a feature (what reset and Get Features with SEL = default return). */
function featureDefault(s: NvmeState, fid: u32, vector: u32): u32 {
  if (fid == 0x07) return ((s.ioQueuePairs - 1) << 16) | (s.ioQueuePairs - 1);
  if (fid == 0x09) return vector;
  if (fid == 0x04) return 0x0157; // 343 K over-temperature threshold
  return 0;
}

function getFeatures(fn: u32, s: NvmeState, i: u32): void {
  const c10 = cdw(s, i, 10);
  const fid = c10 & 0xFF;
  const select = (c10 >> 8) & 7;
  const c11 = cdw(s, i, 11);
  const known = fid == 0x01 || fid == 0x02 || fid == 0x04 || fid == 0x05 || fid == 0x07 || fid == 0x08 || fid == 0x09 || fid == 0x0A || fid == 0x0B;
  if (!known || select > 3) { complete(fn, s, i, genericError(SC_INVALID_FIELD), 0); return; }
  if (fid == 0x09 && (c11 & 0xFFFF) >= s.vectorCount) { complete(fn, s, i, genericError(SC_INVALID_FIELD), 0); return; }
  // Select 3 (supported capabilities): changeable, not saveable, not namespace specific.
  if (select == 3) { ok(fn, s, i, 0x4); return; }
  if (select != 0) { ok(fn, s, i, featureDefault(s, fid, c11 & 0xFFFF)); return; }
  let value: u32 = 0;
  if (fid == 0x07) value = queuesValue(s);
  else if (fid == 0x08) value = s.coalescing;
  else if (fid == 0x09) value = (c11 & 0xFFFF) | (vectorAt(s, c11 & 0xFFFF).coalescingDisabled << 16);
  else if (fid == 0x01) value = s.arbitration;
  else if (fid == 0x02) value = s.powerManagement;
  else if (fid == 0x04) value = s.temperatureThreshold;
  else if (fid == 0x05) value = s.errorRecovery;
  else if (fid == 0x0A) value = s.writeAtomicity;
  else if (fid == 0x0B) value = s.asyncEventConfig;
  ok(fn, s, i, value);
}

/** Restores every feature to its default (controller reset). */
export function featuresReset(s: NvmeState): void {
  s.nsqAllocated = s.ioQueuePairs;
  s.ncqAllocated = s.ioQueuePairs;
  s.coalescing = 0;
  s.arbitration = 0;
  s.powerManagement = 0;
  s.temperatureThreshold = featureDefault(s, 0x04, 0);
  s.errorRecovery = 0;
  s.writeAtomicity = 0;
  s.asyncEventConfig = 0;
  for (let v: u32 = 0; v < s.vectorCount; v++) vectorAt(s, v).coalescingDisabled = 0;
}
