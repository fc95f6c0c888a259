// NVMe controller state (shared/specs/nvme.md): the controller record, its queue tables,
// interrupt-vector records and command slots, all carved out of one device-heap block at
// init; namespace data and per-slot transfer buffers live in backing storage. Nothing here
// allocates after init.
//
//   NvmeState (one block, NVME_STATE_BYTES + tables)
//   +0    registers      u64 x NVME_REGISTER_COUNT, in NVME_REGISTERS order (nvme.ts)
//   then  parameters, derived sizes, runtime state (fields below)
//   then  sqTable        NvmeSq x queueCount      (NVME_QUEUE_BYTES each)
//         cqTable        NvmeCq x queueCount
//         vectorTable    NvmeVector x vectorCount (NVME_VECTOR_BYTES each)
//         slotTable      NvmeSlot x slotCount     (slotBytes each: record, SQE, CQE, PRP entries)
//         freeStack      u32 x slotCount          free slot indices
//         waitRing       u32 x slotCount          slots waiting for room in their CQ, FIFO
//   backing: namespaces  namespaceCount x namespaceBytes (namespaceBlocks << blockShift each),
//                        namespace n (nsid n) at namespace + (n - 1) * namespaceBytes
//            staging     maxTransfer bytes per slot

import { core, count, C_DEVICE_ERRORS } from "../sim/core";
import { schedule } from "../sim/queue";
import { EV_DEVICE } from "../sim/events";
import { trace, TR_DEVICE_ERROR } from "../sim/trace";
import { pciFunction } from "../pci/function";

/** Rows in the register table (nvme.ts). */
export const NVME_REGISTER_COUNT: u32 = 9;

/** The controller record. Registers first, so the record's address is the register-value array. */
@unmanaged
export class NvmeState {
  r0: u64; r1: u64; r2: u64; r3: u64; r4: u64; r5: u64; r6: u64; r7: u64; r8: u64;
  // Parameters (device file), in their units.
  /** Largest I/O queue, entries (CAP.MQES + 1). */
  maxQueueEntries: u32;
  /** I/O submission/completion queue pairs supported. */
  ioQueuePairs: u32;
  /** Size of every namespace, logical blocks. */
  namespaceBlocks: u64;
  /** Bytes of one namespace's data (namespaceBlocks << blockShift). */
  namespaceBytes: u64;
  /** Namespaces, all active: NSIDs 1..namespaceCount (Identify Controller NN). */
  namespaceCount: u32;
  /** log2 of the logical block size (9 or 12). */
  blockShift: u32;
  /** Command slots: commands in flight at once (internal parallelism). */
  slotCount: u32;
  /** CC.EN 0 -> 1 until CSTS.RDY, ps. */
  readyDelayPs: u64;
  /** CC.SHN written until CSTS.SHST = complete, ps. */
  shutdownDelayPs: u64;
  /** Doorbell to submission-entry fetch, device cycles. */
  fetchCycles: u32;
  /** Submission entry arrived to command execution, device cycles. */
  commandCycles: u32;
  /** Media read latency, ps. */
  readLatencyPs: u64;
  /** Media write latency, ps. */
  writeLatencyPs: u64;
  /** Flush latency, ps. */
  flushLatencyPs: u64;
  /** Extra processing for an admin command, ps. */
  adminLatencyPs: u64;
  /** Read jitter: uniform 0..readJitterNs ns added per read. */
  readJitterNs: u32;
  /** Write jitter: uniform 0..writeJitterNs ns added per write. */
  writeJitterNs: u32;
  /** Identify MDTS: largest transfer = 2^mdts pages of 4 KiB. */
  mdts: u32;
  /** CAP.DSTRD: doorbell stride = 4 << dstrd bytes. */
  dstrd: u32;
  // Derived.
  /** Largest data transfer, bytes (also each slot's staging size). */
  maxTransfer: u32;
  /** Queue ids 0 (admin) .. queueCount - 1. */
  queueCount: u32;
  /** Interrupt vectors the function supports (MSI-X table size, else MSI vectors, else 1). */
  vectorCount: u32;
  /** PRP entries each slot can hold. */
  prpCapacity: u32;
  /** Bytes per slot record. */
  slotBytes: u32;
  // Runtime.
  /** Generation: bumped by every controller reset; events of older generations are dropped. */
  epoch: u32;
  /** 1 once CSTS.RDY is set (the admin queues exist). */
  ready: u32;
  /** 1 from CC.SHN written until reset: no more commands are fetched. */
  shutdown: u32;
  /** 1 while a fetch event is pending. */
  fetchScheduled: u32;
  /** Next submission queue the round-robin arbiter looks at. */
  rrNext: u32;
  /** INTMS/INTMC mask, one bit per vector. */
  intMask: u32;
  /** Pin-based / MSI interrupt status, one bit per vector. */
  intStatus: u32;
  /** intStatus & ~intMask as last signalled. */
  legacyActive: u32;
  /** I/O submission queues allocated (feature 0x07), 1-based count. */
  nsqAllocated: u32;
  /** I/O completion queues allocated (feature 0x07), 1-based count. */
  ncqAllocated: u32;
  /** Feature 0x08: threshold 7:0 (zero-based), time 15:8 (100 us units). */
  coalescing: u32;
  /** Feature 0x01 value. */
  arbitration: u32;
  /** Feature 0x02 value. */
  powerManagement: u32;
  /** Feature 0x04 value. */
  temperatureThreshold: u32;
  /** Feature 0x05 value. */
  errorRecovery: u32;
  /** Feature 0x0A value. */
  writeAtomicity: u32;
  /** Feature 0x0B value. */
  asyncEventConfig: u32;
  /** Outstanding Asynchronous Event Request commands. */
  aerCount: u32;
  /** Their command identifiers, oldest first. */
  aerCid0: u32; aerCid1: u32; aerCid2: u32; aerCid3: u32;
  /** Asynchronous events waiting for a request: bit n = error event with information n. */
  aenPending: u32;
  /** Free slots on freeStack. */
  freeCount: u32;
  /** First entry of waitRing. */
  waitHead: u32;
  /** Entries in waitRing. */
  waitCount: u32;
  // Injected faults (nvmeInjectFault).
  /** 1 from an injected fatal error until reset: CSTS.CFS set, nothing fetched, executed or completed. */
  fatal: u32;
  /** I/O commands still to drop (fetched, then held without completion). */
  dropPending: u32;
  /** I/O commands still to fail with statusInjected. */
  statusPending: u32;
  /** Status field those commands complete with (code | type << 8 | more, do-not-retry bits). */
  statusInjected: u32;
  /** Injected media error: namespace (0: none), also failing writes (1), first LBA and blocks of the bad range. */
  mediaErrorNsid: u32;
  mediaErrorWrites: u32;
  mediaErrorFirst: u64;
  mediaErrorBlocks: u64;
  sqTable: u32;
  cqTable: u32;
  vectorTable: u32;
  slotTable: u32;
  freeStack: u32;
  waitRing: u32;
  /** Linear address of namespace 1's data (backing storage); the others follow it. */
  namespace: u32;
  /** Linear address of slot 0's staging buffer (backing storage). */
  staging: u32;
}

/** Bytes of the NvmeState record (tables follow, 64-byte aligned). */
export const NVME_STATE_BYTES: u32 = (offsetof<NvmeState>() + 63) & ~63;

/** A submission queue. */
@unmanaged
export class NvmeSq {
  /** Bus address of entry 0. */
  base: u64;
  /** Entries. */
  size: u32;
  /** Next entry the controller fetches. */
  head: u32;
  /** Tail doorbell value. */
  tail: u32;
  /** Completion queue its commands complete to. */
  cqid: u32;
  /** 1 when created. */
  valid: u32;
  /** Commands fetched and not yet completed. */
  inflight: u32;
  /** Slot + 1 of a Delete I/O SQ command waiting for inflight to drain; 0 if none. */
  drainSlot: u32;
}

/** A completion queue. */
@unmanaged
export class NvmeCq {
  /** Bus address of entry 0. */
  base: u64;
  /** Entries. */
  size: u32;
  /** Head doorbell value. */
  head: u32;
  /** Next entry the controller writes. */
  tail: u32;
  /** Phase tag written with the next entry (1 on the first pass). */
  phase: u32;
  /** Interrupt vector. */
  vector: u32;
  /** 1 when created. */
  valid: u32;
  /** 1 when interrupts are enabled. */
  interrupts: u32;
  /** Submission queues bound to it. */
  sqCount: u32;
}

/** Bytes per queue record. */
export const NVME_QUEUE_BYTES: u32 = 48;

/** Interrupt coalescing state of one vector. */
@unmanaged
export class NvmeVector {
  /** Aggregation-time deadline (ps) while armed, 0 when not. */
  deadline: u64;
  /** Completions not yet signalled. */
  pending: u32;
  /** Feature 0x09 coalescing disable. */
  coalescingDisabled: u32;
}

/** Bytes per vector record. */
export const NVME_VECTOR_BYTES: u32 = 16;

/** One command in flight: what it is, where it is in its life, and its buffers. */
@unmanaged
export class NvmeSlot {
  /** SLOT_* */
  state: u32;
  /** Controller generation it belongs to. */
  epoch: u32;
  /** Submission queue it came from. */
  sqid: u32;
  /** Command identifier. */
  cid: u32;
  /** DMA transfers not yet done. */
  outstanding: u32;
  /** First failed DMA status (DMA_*), 0 if none. */
  dmaStatus: u32;
  /** NEXT_*: what follows the data transfer. */
  next: u32;
  /** Status field for the completion (code | type << 8 | do-not-retry << 14). */
  status: u32;
  /** Completion DW0. */
  dw0: u32;
  /** Data transfer length, bytes. */
  length: u32;
  /** PRP entries gathered (entry 0 is PRP1). */
  prpCount: u32;
  /** PRP entries the transfer needs besides PRP1. */
  prpNeeded: u32;
  /** Entries the pending PRP-list read brings. */
  listEntries: u32;
  /** 1 when the last entry of that read points to the next list page. */
  listChained: u32;
  /** 1 when data moves controller -> host. */
  toHost: u32;
  /** Namespace block count of a read or write. */
  blocks: u32;
  /** Namespace of a read or write (1-based). */
  nsid: u32;
  /** Injected status field to complete with instead of executing; 0 when none. */
  injected: u32;
  /** Starting LBA. */
  lba: u64;
}

/** Offset of the 64-byte submission entry in a slot. */
export const SLOT_SQE: u32 = (offsetof<NvmeSlot>() + 15) & ~15;
/** Offset of the 16-byte completion entry in a slot. */
export const SLOT_CQE: u32 = SLOT_SQE + 64;
/** Offset of the PRP entries (u64 each) in a slot. */
export const SLOT_PRP: u32 = SLOT_CQE + 16;

// Slot states. A slot waits on exactly one thing: DMA completions, a timer, or room in a queue.
/** Free. */
export const SLOT_FREE: u32 = 0;
/** Submission entry being read (DMA). */
export const SLOT_FETCH: u32 = 1;
/** Decoding (timer). */
export const SLOT_EXEC: u32 = 2;
/** PRP list page being read (DMA). */
export const SLOT_PRP_LIST: u32 = 3;
/** Data moving (DMA). */
export const SLOT_DATA: u32 = 4;
/** Media or flush busy (timer). */
export const SLOT_MEDIA: u32 = 5;
/** Completion ready, its completion queue is full. */
export const SLOT_WAIT_CQ: u32 = 6;
/** Delete I/O SQ waiting for the queue's commands to finish. */
export const SLOT_DRAIN: u32 = 7;
/** Completion entry being written (DMA). */
export const SLOT_CQE_WRITE: u32 = 8;
/** Dropped by an injected fault: held without progress until aborted, its SQ deleted, or a reset. */
export const SLOT_HUNG: u32 = 9;
/** Stopped by an injected fatal error: held until a reset. */
export const SLOT_STALLED: u32 = 10;

// What follows a slot's data transfer.
/** Post the completion. */
export const NEXT_COMPLETE: u32 = 0;
/** Start the media write. */
export const NEXT_MEDIA_WRITE: u32 = 1;

// Device events: code = kind | slot << 8 | epoch << 16; timers carry their index in arg.
/** CSTS.RDY. */
export const EV_READY: u32 = 1;
/** CSTS.SHST complete. */
export const EV_SHUTDOWN: u32 = 2;
/** Fetch submission entries (arbitration). */
export const EV_FETCH: u32 = 3;
/** A submission entry arrived (DMA done). */
export const EV_SQE: u32 = 4;
/** Decoding done: execute. */
export const EV_EXEC: u32 = 5;
/** A PRP list read arrived (DMA done). */
export const EV_PRP: u32 = 6;
/** One data DMA done. */
export const EV_DATA: u32 = 7;
/** Media or flush done. */
export const EV_MEDIA: u32 = 8;
/** Completion entry sent (DMA done). */
export const EV_CQE: u32 = 9;
/** Aggregation time of a vector elapsed (arg = vector). */
export const EV_COALESCE: u32 = 10;

// Status field values (code | type << 8 | do-not-retry << 14).
/** Status code type: generic. */
export const SCT_GENERIC: u32 = 0;
/** Status code type: command specific. */
export const SCT_COMMAND: u32 = 1;
/** Do-not-retry bit in the 15-bit status field. */
export const STATUS_DNR: u32 = 1 << 14;
/** Generic: success. */
export const SC_SUCCESS: u32 = 0x00;
/** Generic: invalid command opcode. */
export const SC_INVALID_OPCODE: u32 = 0x01;
/** Generic: invalid field in command. */
export const SC_INVALID_FIELD: u32 = 0x02;
/** Generic: data transfer error. */
export const SC_DATA_TRANSFER: u32 = 0x04;
/** Generic: command abort requested. */
export const SC_ABORT_REQUESTED: u32 = 0x07;
/** Generic: command aborted due to SQ deletion. */
export const SC_ABORTED_SQ_DELETION: u32 = 0x08;
/** Generic: invalid namespace or format. */
export const SC_INVALID_NAMESPACE: u32 = 0x0B;
/** Generic: invalid PRP offset. */
export const SC_INVALID_PRP_OFFSET: u32 = 0x13;
/** Generic: LBA out of range. */
export const SC_LBA_RANGE: u32 = 0x80;
/** Command specific: completion queue invalid. */
export const SC_CQ_INVALID: u32 = 0x00;
/** Command specific: invalid queue identifier. */
export const SC_INVALID_QID: u32 = 0x01;
/** Command specific: invalid queue size. */
export const SC_INVALID_QSIZE: u32 = 0x02;
/** Command specific: asynchronous event request limit exceeded. */
export const SC_AER_LIMIT: u32 = 0x05;
/** Command specific: invalid interrupt vector. */
export const SC_INVALID_VECTOR: u32 = 0x08;
/** Command specific: invalid log page. */
export const SC_INVALID_LOG_PAGE: u32 = 0x09;
/** Command specific: invalid queue deletion. */
export const SC_INVALID_DELETION: u32 = 0x0C;
/** Command specific: feature identifier not saveable. */
export const SC_NOT_SAVEABLE: u32 = 0x0D;

/** Status code type 2h: media and data integrity errors. */
export const SCT_MEDIA: u32 = 2;
/** Media and data integrity error: write fault. */
export const SC_WRITE_FAULT: u32 = 0x80;
/** Media and data integrity error: unrecovered read error. */
export const SC_UNRECOVERED_READ: u32 = 0x81;

/** Status field for a generic error that will fail again if retried. */
// @ts-ignore: decorator
@inline export function genericError(code: u32): u32 { return code | STATUS_DNR; }
/** Status field for a command-specific error (never worth retrying). */
// @ts-ignore: decorator
@inline export function commandError(code: u32): u32 { return code | (SCT_COMMAND << 8) | STATUS_DNR; }

/** Asynchronous event information (error type): write to an invalid doorbell register. */
export const AEN_INVALID_DOORBELL: u32 = 0x00;
/** Asynchronous event information (error type): invalid doorbell write value. */
export const AEN_INVALID_DOORBELL_VALUE: u32 = 0x01;
/** Most outstanding Asynchronous Event Request commands (Identify AERL + 1). */
export const NVME_AER_LIMIT: u32 = 4;

/** Device error: a doorbell write for a queue that does not exist (b = BAR offset). */
export const NVME_ERROR_DOORBELL_QUEUE: u32 = 1;
/** Device error: a doorbell value outside the queue (b = BAR offset << 32 | value). */
export const NVME_ERROR_DOORBELL_VALUE: u32 = 2;
/** Device error: a doorbell write while the controller is not ready (b = BAR offset). */
export const NVME_ERROR_NOT_READY: u32 = 3;
/** Device error: CC.EN set with unsupported CC or AQA fields; CSTS.CFS set (b = AQA << 32 | CC). */
export const NVME_ERROR_ENABLE: u32 = 4;
/** Device error: a submission entry could not be read (b = DMA status << 32 | bus address low). */
export const NVME_ERROR_FETCH: u32 = 5;
/** Device error: a PRP list or data DMA failed (b = DMA status << 32 | sqid << 16 | cid). */
export const NVME_ERROR_DATA: u32 = 6;
/** Device error: a completion entry could not be written (bus mastering off); CSTS.CFS set (b = DMA status). */
export const NVME_ERROR_COMPLETION: u32 = 7;
/** Injected fault: an I/O command was fetched and dropped; it never completes (b = sqid << 16 | cid). */
export const NVME_ERROR_INJECTED_DROP: u32 = 8;
/** Injected fault: CSTS.CFS set; fetching and completing stop until reset (b = 0). */
export const NVME_ERROR_INJECTED_FATAL: u32 = 9;
/** Injected fault: an I/O command was taken to fail with an injected status (b = status << 32 | sqid << 16 | cid). */
export const NVME_ERROR_INJECTED_STATUS: u32 = 10;

/** The controller record of function `fn`. */
// @ts-ignore: decorator
@inline export function nvmeState(fn: u32): NvmeState {
  return changetype<NvmeState>(pciFunction(fn).state);
}

/** Register-value array of the controller. */
// @ts-ignore: decorator
@inline export function regs(s: NvmeState): usize {
  return changetype<usize>(s);
}

/** Submission queue `q`. */
// @ts-ignore: decorator
@inline export function sqAt(s: NvmeState, q: u32): NvmeSq {
  return changetype<NvmeSq>(<usize>s.sqTable + <usize>q * NVME_QUEUE_BYTES);
}

/** Completion queue `q`. */
// @ts-ignore: decorator
@inline export function cqAt(s: NvmeState, q: u32): NvmeCq {
  return changetype<NvmeCq>(<usize>s.cqTable + <usize>q * NVME_QUEUE_BYTES);
}

/** Coalescing record of vector `v`. */
// @ts-ignore: decorator
@inline export function vectorAt(s: NvmeState, v: u32): NvmeVector {
  return changetype<NvmeVector>(<usize>s.vectorTable + <usize>v * NVME_VECTOR_BYTES);
}

/** Slot `i`. */
// @ts-ignore: decorator
@inline export function slotAt(s: NvmeState, i: u32): NvmeSlot {
  return changetype<NvmeSlot>(<usize>s.slotTable + <usize>i * s.slotBytes);
}

/** Address of slot `i`'s submission entry. */
// @ts-ignore: decorator
@inline export function slotSqe(s: NvmeState, i: u32): usize {
  return <usize>s.slotTable + <usize>i * s.slotBytes + SLOT_SQE;
}

/** Address of slot `i`'s PRP entries. */
// @ts-ignore: decorator
@inline export function slotPrp(s: NvmeState, i: u32): usize {
  return <usize>s.slotTable + <usize>i * s.slotBytes + SLOT_PRP;
}

/** Address of slot `i`'s staging buffer (maxTransfer bytes). */
// @ts-ignore: decorator
@inline export function slotStaging(s: NvmeState, i: u32): usize {
  return <usize>s.staging + <usize>i * s.maxTransfer;
}

/** Submission-entry dword `n` (0..15) of slot `i`. */
// @ts-ignore: decorator
@inline export function cdw(s: NvmeState, i: u32, n: u32): u32 {
  return load<u32>(slotSqe(s, i) + (n << 2));
}

/** Event code for `kind` concerning slot `slot` in the current generation. */
// @ts-ignore: decorator
@inline export function eventCode(s: NvmeState, kind: u32, slot: u32): u32 {
  return kind | (slot << 8) | ((s.epoch & 0xFFFF) << 16);
}

/** Schedules device event `kind` for `fn` at absolute time `at` (ps). */
export function nvmeSchedule(fn: u32, s: NvmeState, at: u64, kind: u32, slot: u32, arg: u64): void {
  schedule(at, EV_DEVICE, fn, eventCode(s, kind, slot), arg);
}

/** Records device error `code` with argument `arg` (counter and trace). */
export function nvmeError(fn: u32, code: u32, arg: u64): void {
  count(C_DEVICE_ERRORS);
  trace(core.nowPs, TR_DEVICE_ERROR, fn, code, arg, 0);
}

/** Takes a free slot for the current generation; the caller checked freeCount. */
export function slotTake(s: NvmeState): u32 {
  s.freeCount--;
  const i = load<u32>(<usize>s.freeStack + (<usize>s.freeCount << 2));
  const slot = slotAt(s, i);
  slot.epoch = s.epoch & 0xFFFF;
  slot.outstanding = 0;
  slot.dmaStatus = 0;
  slot.status = 0;
  slot.dw0 = 0;
  slot.next = NEXT_COMPLETE;
  slot.injected = 0;
  return i;
}

/** Returns slot `i` to the free stack. */
export function slotFree(s: NvmeState, i: u32): void {
  slotAt(s, i).state = SLOT_FREE;
  store<u32>(<usize>s.freeStack + (<usize>s.freeCount << 2), i);
  s.freeCount++;
}
