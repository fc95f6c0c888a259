/**
 * Bringing the controller up and down, from the NVMe specification: disable (CC.EN = 0,
 * wait for CSTS.RDY = 0), program the admin queue (AQA, ASQ, ACQ), enable (CC.EN = 1 with
 * 64-byte submission and 16-byte completion entries, wait for CSTS.RDY = 1 within CAP.TO),
 * Identify the controller and its active namespaces, then Set Features (number of queues,
 * interrupt coalescing) and create one I/O completion/submission queue pair per processor,
 * each completion queue on the MSI-X message delivered to that processor. Shutdown writes
 * CC.SHN = normal and waits for CSTS.SHST = complete.
 *
 * These admin commands are polled: the driver writes the entry, rings the doorbell and
 * reads the completion queue itself, stalling between reads, holding the admin message's
 * interrupt lock once interrupts are connected so its interrupt routine stays out. They
 * run at start (HwFindAdapter, the passive initialization routine), after a power-up, and
 * in a controller reset.
 */
import { readBytes, readU32, RtlZeroMemory, writeBytes, type PVOID } from "../../mm/memory.js";
import {
  NVME_ADMIN_CREATE_IO_CQ, NVME_ADMIN_CREATE_IO_SQ, NVME_ADMIN_IDENTIFY, NVME_ADMIN_SET_FEATURES, NVME_CAP_DSTRD, NVME_CAP_MQES, NVME_CAP_TO,
  NVME_CC_EN, NVME_CC_IOCQES_16, NVME_CC_IOSQES_64, NVME_CC_SHN_MASK, NVME_CC_SHN_NORMAL, NVME_CQE_SIZE, NVME_CSTS_CFS, NVME_CSTS_RDY,
  NVME_CSTS_SHST_COMPLETE, NVME_CSTS_SHST_MASK, NVME_FEATURE_INTERRUPT_COALESCING, NVME_FEATURE_NUMBER_OF_QUEUES, NVME_IDENTIFY_CNS_ACTIVE_NAMESPACES,
  NVME_IDENTIFY_CNS_CONTROLLER, NVME_IDENTIFY_CNS_SPECIFIC_NAMESPACE, NVME_IDENTIFY_CONTROLLER, NVME_IDENTIFY_NAMESPACE, NVME_REG_ACQ,
  NVME_REG_AQA, NVME_REG_ASQ, NVME_REG_CAP, NVME_REG_CC, NVME_REG_CSTS, NVME_REG_DOORBELL, NVME_SQE, NVME_SQE_SIZE, nvmeStatusField,
} from "../storage/nvme.js";
import {
  StorPortAcquireMSISpinLock, StorPortAcquireSpinLock, StorPortAllocateContiguousMemorySpecifyCacheNode, StorPortGetPhysicalAddress,
  StorPortReadRegisterUlong, StorPortReleaseMSISpinLock, StorPortReleaseSpinLock, StorPortStallExecution, StorPortWriteRegisterUlong,
  STOR_LOCK_HANDLE, STOR_SPINLOCK, STOR_STATUS_SUCCESS,
} from "../storport/index.js";
import { MEMORY_CACHING_TYPE } from "../../mm/physical.js";
import { PAGE_SIZE } from "../../mm/pfn.js";
import { NVME_QUEUE, type NVME_DEVICE_EXTENSION, type NvmeNamespace } from "./extension.js";

/** Entries of the admin queues. */
export const ADMIN_QUEUE_ENTRIES = 64;
/** Entries of each I/O queue (at most CAP.MQES + 1). */
export const IO_QUEUE_ENTRIES = 1024;
/** How long a polled admin command may take, microseconds. */
const ADMIN_TIMEOUT_US = 2_000_000;
/** Poll interval of registers and polled completions, microseconds. */
const POLL_US = 1;

function reg(ext: NVME_DEVICE_EXTENSION, offset: number): PVOID {
  return ext.Registers + offset;
}

/** Reads a controller register (32 bits). */
export function readReg(ext: NVME_DEVICE_EXTENSION, offset: number): number {
  return StorPortReadRegisterUlong(ext, reg(ext, offset));
}

/** Writes a controller register (32 bits). */
export function writeReg(ext: NVME_DEVICE_EXTENSION, offset: number, value: number): void {
  StorPortWriteRegisterUlong(ext, reg(ext, offset), value >>> 0);
}

/** Writes a 64-bit register as two dwords, low first. */
function writeReg64(ext: NVME_DEVICE_EXTENSION, offset: number, value: number): void {
  writeReg(ext, offset, value % 2 ** 32);
  writeReg(ext, offset + 4, Math.floor(value / 2 ** 32));
}

/** Polls CSTS until `(CSTS & mask) === want` or CFS; false on timeout or fatal status. */
function waitStatus(ext: NVME_DEVICE_EXTENSION, mask: number, want: number, timeoutUs: number): boolean {
  for (let waited = 0; ; waited += POLL_US) {
    const csts = readReg(ext, NVME_REG_CSTS);
    if (csts === 0xFFFFFFFF) return false;
    if ((csts & mask) === want) return true;
    if ((csts & NVME_CSTS_CFS) !== 0 && want !== 0) return false;
    if (waited >= timeoutUs) return false;
    StorPortStallExecution(POLL_US);
  }
}

/** Reads CAP: queue size, ready timeout, doorbell stride. */
export function readCapabilities(ext: NVME_DEVICE_EXTENSION): boolean {
  const low = readReg(ext, NVME_REG_CAP);
  const high = readReg(ext, NVME_REG_CAP + 4);
  if (low === 0xFFFFFFFF && high === 0xFFFFFFFF) return false;
  ext.MaxQueueEntries = NVME_CAP_MQES(low) + 1;
  ext.ReadyTimeoutMs = Math.max(1, NVME_CAP_TO(low)) * 500;
  ext.DoorbellStride = 4 << NVME_CAP_DSTRD(high);
  return true;
}

/** Device-reachable memory from the port: its virtual and logical addresses, or null. */
function dmaMemory(ext: NVME_DEVICE_EXTENSION, bytes: number): { va: PVOID; logical: number } | null {
  const r = StorPortAllocateContiguousMemorySpecifyCacheNode(ext, bytes, 0, Number.MAX_SAFE_INTEGER, 0, MEMORY_CACHING_TYPE.MmCached, 0);
  if (r.status !== STOR_STATUS_SUCCESS) return null;
  RtlZeroMemory(r.BufferPointer, bytes);
  return { va: r.BufferPointer, logical: StorPortGetPhysicalAddress(ext, null, r.BufferPointer).PhysicalAddress };
}

/** Allocates a queue pair's rings (and PRP lists for I/O queues) and sets its doorbells. */
export function allocateQueue(ext: NVME_DEVICE_EXTENSION, id: number, entries: number, listBytes: number): NVME_QUEUE | null {
  const q = new NVME_QUEUE(id, entries);
  const sq = dmaMemory(ext, Math.max(entries * NVME_SQE_SIZE, PAGE_SIZE));
  const cq = dmaMemory(ext, Math.max(entries * NVME_CQE_SIZE, PAGE_SIZE));
  if (!sq || !cq) return null;
  q.SqVa = sq.va;
  q.SqLogical = sq.logical;
  q.CqVa = cq.va;
  q.CqLogical = cq.logical;
  if (listBytes > 0) {
    const lists = dmaMemory(ext, entries * listBytes);
    if (!lists) return null;
    q.PrpVa = lists.va;
    q.PrpLogical = lists.logical;
    q.ListBytes = listBytes;
  }
  q.SqDoorbell = reg(ext, NVME_REG_DOORBELL + 2 * id * ext.DoorbellStride);
  q.CqDoorbell = reg(ext, NVME_REG_DOORBELL + (2 * id + 1) * ext.DoorbellStride);
  return q;
}

/** Disables the controller and waits for CSTS.RDY = 0. */
export function disableController(ext: NVME_DEVICE_EXTENSION): boolean {
  const cc = readReg(ext, NVME_REG_CC);
  if ((cc & NVME_CC_EN) !== 0) writeReg(ext, NVME_REG_CC, cc & ~NVME_CC_EN);
  return waitStatus(ext, NVME_CSTS_RDY, 0, ext.ReadyTimeoutMs * 1000);
}

/** Programs the admin queue, enables the controller and waits for CSTS.RDY = 1. */
export function enableController(ext: NVME_DEVICE_EXTENSION): boolean {
  const admin = ext.Admin!;
  admin.resetPointers();
  RtlZeroMemory(admin.CqVa, admin.Size * NVME_CQE_SIZE);
  writeReg(ext, NVME_REG_AQA, ((admin.Size - 1) << 16) | (admin.Size - 1));
  writeReg64(ext, NVME_REG_ASQ, admin.SqLogical);
  writeReg64(ext, NVME_REG_ACQ, admin.CqLogical);
  writeReg(ext, NVME_REG_CC, NVME_CC_EN | NVME_CC_IOSQES_64 | NVME_CC_IOCQES_16);
  return waitStatus(ext, NVME_CSTS_RDY, NVME_CSTS_RDY, ext.ReadyTimeoutMs * 1000);
}

/** Normal shutdown: CC.SHN = 01b, then CSTS.SHST = complete. */
export function shutdownController(ext: NVME_DEVICE_EXTENSION): boolean {
  const cc = readReg(ext, NVME_REG_CC);
  writeReg(ext, NVME_REG_CC, (cc & ~NVME_CC_SHN_MASK) | NVME_CC_SHN_NORMAL);
  return waitStatus(ext, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_COMPLETE, ext.ReadyTimeoutMs * 1000);
}

/** A submission entry: opcode, NSID, PRP1 and CDW10..15. */
export function adminEntry(opcode: number, nsid: number, prp1: number, cdw10: number, cdw11 = 0, cdw12 = 0): Uint8Array {
  const e = new Uint8Array(NVME_SQE_SIZE);
  const v = new DataView(e.buffer);
  v.setUint32(NVME_SQE.CDW0, opcode, true);
  v.setUint32(NVME_SQE.NSID, nsid >>> 0, true);
  v.setUint32(NVME_SQE.PRP1, prp1 % 2 ** 32, true);
  v.setUint32(NVME_SQE.PRP1 + 4, Math.floor(prp1 / 2 ** 32), true);
  v.setUint32(NVME_SQE.CDW10, cdw10 >>> 0, true);
  v.setUint32(NVME_SQE.CDW11, cdw11 >>> 0, true);
  v.setUint32(NVME_SQE.CDW12, cdw12 >>> 0, true);
  return e;
}

/** What a polled admin command came back with: the status field and DW0; null when it timed out. */
export interface AdminResult {
  status: number;
  dw0: number;
}

/**
 * Runs an admin command by polling (see the file comment). The admin message's interrupt
 * lock is held when interrupts are connected.
 */
export function adminPolled(ext: NVME_DEVICE_EXTENSION, entry: Uint8Array): AdminResult | null {
  const q = ext.Admin!;
  // Keep the admin queue's interrupt routine out while polling its completion queue.
  const perMessage = ext.InterruptsConnected && ext.MessageCount > 1;
  const handle = ext.InterruptsConnected && !perMessage ? new STOR_LOCK_HANDLE() : null;
  const irql = perMessage ? StorPortAcquireMSISpinLock(ext, 0) : 0;
  if (handle) StorPortAcquireSpinLock(ext, STOR_SPINLOCK.InterruptLock, null, handle);
  try {
    if (q.FreeCount === 0) return null;
    const cid = q.FreeCids[--q.FreeCount];
    new DataView(entry.buffer).setUint16(NVME_SQE.CDW0 + 2, cid, true);
    writeBytes(q.SqVa + q.SqTail * NVME_SQE_SIZE, entry);
    q.SqTail = (q.SqTail + 1) % q.Size;
    StorPortWriteRegisterUlong(ext, q.SqDoorbell, q.SqTail);
    for (let waited = 0; waited <= ADMIN_TIMEOUT_US; waited += POLL_US) {
      const e = q.CqVa + q.CqHead * NVME_CQE_SIZE;
      const dw3 = readU32(e + 12);
      if (((dw3 >>> 16) & 1) === q.Phase) {
        const result = { status: nvmeStatusField(dw3), dw0: readU32(e) };
        q.SqHead = readU32(e + 8) & 0xFFFF;
        q.CqHead = (q.CqHead + 1) % q.Size;
        if (q.CqHead === 0) q.Phase ^= 1;
        StorPortWriteRegisterUlong(ext, q.CqDoorbell, q.CqHead);
        q.FreeCids[q.FreeCount++] = dw3 & 0xFFFF;
        return result;
      }
      if ((readReg(ext, NVME_REG_CSTS) & NVME_CSTS_CFS) !== 0) break;
      StorPortStallExecution(POLL_US);
    }
    q.FreeCids[q.FreeCount++] = cid;
    return null;
  } finally {
    if (perMessage) StorPortReleaseMSISpinLock(ext, 0, irql);
    else if (handle) StorPortReleaseSpinLock(ext, handle);
  }
}

/** An admin command that moves data into the driver's data page; the bytes, or null on failure. */
function adminRead(ext: NVME_DEVICE_EXTENSION, entry: Uint8Array, length: number): Uint8Array | null {
  const r = adminPolled(ext, entry);
  return r && r.status === 0 ? readBytes(ext.DataPageVa, length) : null;
}

function ascii(b: Uint8Array, offset: number, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += String.fromCharCode(b[offset + i]);
  return s.replace(/[\0 ]+$/, "");
}

/** Identify Controller and every active namespace; false when the controller does not answer. */
export function identify(ext: NVME_DEVICE_EXTENSION): boolean {
  const c = NVME_IDENTIFY_CONTROLLER;
  const data = adminRead(ext, adminEntry(NVME_ADMIN_IDENTIFY, 0, ext.DataPageLogical, NVME_IDENTIFY_CNS_CONTROLLER), c.SIZE);
  if (!data) return false;
  ext.ControllerData = data;
  ext.SerialNumber = ascii(data, c.SN, 20);
  ext.ModelNumber = ascii(data, c.MN, 40);
  ext.FirmwareRevision = ascii(data, c.FR, 8);
  ext.MaxTransfer = data[c.MDTS] === 0 ? 0 : PAGE_SIZE * 2 ** data[c.MDTS];
  ext.VolatileWriteCache = (data[c.VWC] & 1) !== 0;
  const list = adminRead(ext, adminEntry(NVME_ADMIN_IDENTIFY, 0, ext.DataPageLogical, NVME_IDENTIFY_CNS_ACTIVE_NAMESPACES), 4096);
  if (!list) return false;
  ext.Namespaces.length = 0;
  const v = new DataView(list.buffer);
  for (let i = 0; i < 1024; i++) {
    const nsid = v.getUint32(i * 4, true);
    if (nsid === 0) break;
    const n = NVME_IDENTIFY_NAMESPACE;
    const ns = adminRead(ext, adminEntry(NVME_ADMIN_IDENTIFY, nsid, ext.DataPageLogical, NVME_IDENTIFY_CNS_SPECIFIC_NAMESPACE), n.SIZE);
    if (!ns) continue;
    const nv = new DataView(ns.buffer);
    const format = ns[n.FLBAS] & 0xF;
    const namespace: NvmeNamespace = {
      Nsid: nsid,
      Blocks: nv.getUint32(n.NSZE, true) + nv.getUint32(n.NSZE + 4, true) * 2 ** 32,
      BlockShift: (nv.getUint32(n.LBAF + 4 * format, true) >>> 16) & 0xFF,
      Nguid: ns.slice(n.NGUID, n.NGUID + 16),
    };
    ext.Namespaces.push(namespace);
  }
  return true;
}

/**
 * Set Features (number of queues, interrupt coalescing), then creates the first `wanted`
 * I/O queue pairs (queue ids 1..n, each completion queue on its queue's message). Returns
 * the pairs created.
 */
export function createIoQueues(ext: NVME_DEVICE_EXTENSION, wanted: number): number {
  const asked = Math.max(1, wanted);
  const r = adminPolled(ext, adminEntry(NVME_ADMIN_SET_FEATURES, 0, 0, NVME_FEATURE_NUMBER_OF_QUEUES, ((asked - 1) << 16) | (asked - 1)));
  if (!r || r.status !== 0) return 0;
  const allocated = Math.min(asked, (r.dw0 & 0xFFFF) + 1, (r.dw0 >>> 16) + 1, ext.IoQueues.length);
  if (ext.CoalescingThreshold > 0 || ext.CoalescingTime > 0) {
    const thr = Math.max(1, Math.min(256, ext.CoalescingThreshold)) - 1;
    const time = Math.max(0, Math.min(255, ext.CoalescingTime));
    adminPolled(ext, adminEntry(NVME_ADMIN_SET_FEATURES, 0, 0, NVME_FEATURE_INTERRUPT_COALESCING, (time << 8) | thr));
  }
  let made = 0;
  for (let i = 0; i < allocated; i++) {
    const q = ext.IoQueues[i];
    q.resetPointers();
    RtlZeroMemory(q.CqVa, q.Size * NVME_CQE_SIZE);
    const sizeField = ((q.Size - 1) << 16) | q.Id;
    // CDW11 of Create I/O CQ: interrupt vector 31:16, interrupts enabled (bit 1), physically contiguous (bit 0).
    const cq = adminPolled(ext, adminEntry(NVME_ADMIN_CREATE_IO_CQ, 0, q.CqLogical, sizeField, (q.MessageId << 16) | 0x3));
    if (!cq || cq.status !== 0) break;
    // CDW11 of Create I/O SQ: completion queue 31:16, physically contiguous (bit 0).
    const sq = adminPolled(ext, adminEntry(NVME_ADMIN_CREATE_IO_SQ, 0, q.SqLogical, sizeField, (q.Id << 16) | 0x1));
    if (!sq || sq.status !== 0) break;
    made++;
  }
  return made;
}
