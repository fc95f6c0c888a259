// NVMe I/O commands (shared/specs/nvme.md): flush, write and read on the RAM-backed
// namespaces (NSIDs 1..namespaceCount; a flush may also name 0xFFFFFFFF, every
// namespace, and takes the same time). A write first pulls its data into the slot's staging buffer by
// DMA, then spends the media write latency and stores it; a read spends the media read
// latency, copies the blocks to staging and pushes them to the host by DMA; a flush takes
// the flush latency (there is no volatile cache). Latencies get optional uniform jitter
// from the machine's seeded generator. FUA needs nothing extra.
//
// A read (or, when armed so, a write) touching an injected media error's LBA range spends its
// media time and completes with Unrecovered Read Error (Write Fault for a write), status code
// type 2h, moving no data.
//
// A command taken with an injected status (nvme.ts, "status") skips every check: it spends
// the media time of its kind (read, write or flush latency with jitter; none for other
// opcodes), moves no data, and completes with that status.

import { core } from "../sim/core";
import { randomBelow } from "../sim/random";
import {
  NvmeState, slotAt, slotStaging, cdw, nvmeSchedule, genericError, SLOT_MEDIA, EV_MEDIA, NEXT_MEDIA_WRITE, NEXT_COMPLETE,
  SC_SUCCESS, SC_INVALID_OPCODE, SC_INVALID_FIELD, SC_INVALID_NAMESPACE, SC_LBA_RANGE, SCT_MEDIA, SC_UNRECOVERED_READ, SC_WRITE_FAULT,
} from "./nvme-state";
import { noteInjected, FAULT_MEDIA_ERROR } from "../pci/injected-faults";
import { complete } from "./nvme-queues";
import { transferStart } from "./nvme-prp";

/** I/O opcode: flush. */
const OP_FLUSH: u32 = 0x00;
/** I/O opcode: write. */
const OP_WRITE: u32 = 0x01;
/** I/O opcode: read. */
const OP_READ: u32 = 0x02;

/** Media busy time for one command: `latencyPs` plus uniform 0..jitterNs ns. */
function mediaTime(latencyPs: u64, jitterNs: u32): u64 {
  return jitterNs == 0 ? latencyPs : latencyPs + <u64>randomBelow(jitterNs + 1) * 1000;
}

function mediaStart(fn: u32, s: NvmeState, i: u32, busyPs: u64): void {
  slotAt(s, i).state = SLOT_MEDIA;
  nvmeSchedule(fn, s, core.nowPs + busyPs, EV_MEDIA, i, 0);
}

/** Executes the I/O command in slot `i`. */
export function ioExecute(fn: u32, s: NvmeState, i: u32): void {
  const cdw0 = cdw(s, i, 0);
  const opcode = cdw0 & 0xFF;
  const nsid = cdw(s, i, 1);
  const injected = slotAt(s, i).injected;
  if (injected != 0) {
    if (opcode == OP_READ) mediaStart(fn, s, i, mediaTime(s.readLatencyPs, s.readJitterNs));
    else if (opcode == OP_WRITE) mediaStart(fn, s, i, mediaTime(s.writeLatencyPs, s.writeJitterNs));
    else if (opcode == OP_FLUSH) mediaStart(fn, s, i, s.flushLatencyPs);
    else complete(fn, s, i, injected, 0);
    return;
  }
  if (opcode != OP_FLUSH && opcode != OP_WRITE && opcode != OP_READ) { complete(fn, s, i, genericError(SC_INVALID_OPCODE), 0); return; }
  // Fused operations and SGLs are not supported.
  if ((cdw0 & 0xC300) != 0) { complete(fn, s, i, genericError(SC_INVALID_FIELD), 0); return; }
  if (opcode == OP_FLUSH) {
    if ((nsid == 0 || nsid > s.namespaceCount) && nsid != 0xFFFFFFFF) { complete(fn, s, i, genericError(SC_INVALID_NAMESPACE), 0); return; }
    mediaStart(fn, s, i, s.flushLatencyPs);
    return;
  }
  if (nsid == 0 || nsid > s.namespaceCount) { complete(fn, s, i, genericError(SC_INVALID_NAMESPACE), 0); return; }
  const lba = (<u64>cdw(s, i, 11) << 32) | <u64>cdw(s, i, 10);
  const blocks = (cdw(s, i, 12) & 0xFFFF) + 1;
  if (lba >= s.namespaceBlocks || <u64>blocks > s.namespaceBlocks - lba) { complete(fn, s, i, genericError(SC_LBA_RANGE), 0); return; }
  const bytes = <u64>blocks << s.blockShift;
  if (bytes > <u64>s.maxTransfer) { complete(fn, s, i, genericError(SC_INVALID_FIELD), 0); return; }
  const slot = slotAt(s, i);
  slot.lba = lba;
  slot.blocks = blocks;
  slot.nsid = nsid;
  if (opcode == OP_WRITE) transferStart(fn, s, i, <u32>bytes, 0, NEXT_MEDIA_WRITE);
  else mediaStart(fn, s, i, mediaTime(s.readLatencyPs, s.readJitterNs));
}

/** The data of a write arrived in staging: the media write begins. */
export function ioWriteDataArrived(fn: u32, s: NvmeState, i: u32): void {
  mediaStart(fn, s, i, mediaTime(s.writeLatencyPs, s.writeJitterNs));
}

/** Media (or flush) time of slot `i` is over. */
export function ioMediaDone(fn: u32, s: NvmeState, i: u32): void {
  const slot = slotAt(s, i);
  if (slot.injected != 0) { complete(fn, s, i, slot.injected, 0); return; }
  const opcode = cdw(s, i, 0) & 0xFF;
  if (opcode == OP_FLUSH) { complete(fn, s, i, SC_SUCCESS, 0); return; }
  if (s.mediaErrorNsid == slot.nsid && (opcode == OP_READ || s.mediaErrorWrites != 0)
    && slot.lba < s.mediaErrorFirst + s.mediaErrorBlocks && s.mediaErrorFirst < slot.lba + <u64>slot.blocks) {
    noteInjected(fn, FAULT_MEDIA_ERROR, slot.lba, (<u64>slot.nsid << 32) | <u64>slot.blocks);
    complete(fn, s, i, ((opcode == OP_READ ? SC_UNRECOVERED_READ : SC_WRITE_FAULT) | (SCT_MEDIA << 8)), 0);
    return;
  }
  const at = <usize>s.namespace + <usize>(<u64>(slot.nsid - 1) * s.namespaceBytes + (slot.lba << s.blockShift));
  const bytes = slot.blocks << s.blockShift;
  if (opcode == OP_WRITE) {
    memory.copy(at, slotStaging(s, i), bytes);
    complete(fn, s, i, SC_SUCCESS, 0);
  } else {
    memory.copy(slotStaging(s, i), at, bytes);
    transferStart(fn, s, i, bytes, 1, NEXT_COMPLETE);
  }
}
