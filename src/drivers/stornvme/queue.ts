/**
 * Submission and completion on a queue pair. Submitting takes a free command identifier,
 * writes the PRP list (when the data spans more than two pages) into that identifier's
 * slot, copies the 64-byte entry into the submission ring and rings the tail doorbell.
 * Completing reads entries whose phase tag is the queue's current phase, frees their
 * identifiers, hands each request its outcome, and rings the head doorbell once for all of
 * them. Both run holding the queue's interrupt lock (its message's, or the line's).
 */
import { readU32, writeBytes } from "../../mm/memory.js";
import type { KIRQL } from "../../ke/irql.js";
import { NVME_CQE_SIZE, NVME_SQE, NVME_SQE_SIZE, nvmeStatusField } from "../storage/nvme.js";
import { SrbGetMiniportContext, type SRB } from "../storage/srb.js";
import {
  SCSI_NOTIFICATION_TYPE, STOR_LOCK_HANDLE, STOR_SPINLOCK, StorPortAcquireMSISpinLock, StorPortAcquireSpinLock, StorPortNotification,
  StorPortReleaseMSISpinLock, StorPortReleaseSpinLock, StorPortWriteRegisterUlong,
} from "../storport/index.js";
import type { NVME_DEVICE_EXTENSION, NVME_QUEUE, NVME_SRB_EXTENSION } from "./extension.js";
import { completeFromStatus } from "./translate.js";

/** Lock handles for queues whose interrupt is the line or a single message (one per queue, reused). */
const lineHandles = new WeakMap<NVME_QUEUE, STOR_LOCK_HANDLE>();

/** Takes the queue's interrupt lock; returns the IRQL to go back to. */
export function lockQueue(ext: NVME_DEVICE_EXTENSION, q: NVME_QUEUE): KIRQL {
  if (ext.MessageCount > 1) return StorPortAcquireMSISpinLock(ext, q.MessageId);
  let h = lineHandles.get(q);
  if (!h) {
    h = new STOR_LOCK_HANDLE();
    lineHandles.set(q, h);
  }
  StorPortAcquireSpinLock(ext, STOR_SPINLOCK.InterruptLock, null, h);
  return h.OldIrql;
}

/** Releases what lockQueue took. */
export function unlockQueue(ext: NVME_DEVICE_EXTENSION, q: NVME_QUEUE, irql: KIRQL): void {
  if (ext.MessageCount > 1) StorPortReleaseMSISpinLock(ext, q.MessageId, irql);
  else StorPortReleaseSpinLock(ext, lineHandles.get(q)!);
}

/** Writes a 64-bit field of the entry. */
function setU64(x: NVME_SRB_EXTENSION, offset: number, value: number): void {
  x.SqeView.setUint32(offset, value % 2 ** 32, true);
  x.SqeView.setUint32(offset + 4, Math.floor(value / 2 ** 32), true);
}

/**
 * Submits the request's entry on `q` (its lock held). False when the queue has no free
 * command identifier.
 */
export function submit(ext: NVME_DEVICE_EXTENSION, q: NVME_QUEUE, srb: SRB, x: NVME_SRB_EXTENSION): boolean {
  if (q.FreeCount === 0) return false;
  const cid = q.FreeCids[--q.FreeCount];
  q.Requests[cid] = srb;
  x.QueueId = q.Id;
  x.Cid = cid;
  x.SqeView.setUint16(NVME_SQE.CDW0 + 2, cid, true);
  if (x.PrpCount === 2) {
    setU64(x, NVME_SQE.PRP2, x.Prps[1]);
  } else if (x.PrpCount > 2) {
    const entries = x.PrpCount - 1;
    for (let i = 0; i < entries; i++) {
      const p = x.Prps[i + 1];
      x.PrpListView.setUint32(i * 8, p % 2 ** 32, true);
      x.PrpListView.setUint32(i * 8 + 4, Math.floor(p / 2 ** 32), true);
    }
    writeBytes(q.PrpVa + cid * q.ListBytes, x.PrpList.subarray(0, entries * 8));
    setU64(x, NVME_SQE.PRP2, q.PrpLogical + cid * q.ListBytes);
  }
  writeBytes(q.SqVa + q.SqTail * NVME_SQE_SIZE, x.Sqe);
  q.SqTail = (q.SqTail + 1) % q.Size;
  q.Outstanding++;
  StorPortWriteRegisterUlong(ext, q.SqDoorbell, q.SqTail);
  return true;
}

/** What the admin queue does with a completed request of its own (a pass-through command). */
export type AdminCompletion = (ext: NVME_DEVICE_EXTENSION, srb: SRB, status: number, dw0: number) => void;

/**
 * Consumes `q`'s new completion entries (its lock held): I/O requests get their outcome
 * and go back to the port; admin requests go to `onAdmin`. Returns how many were consumed.
 */
export function processCompletions(ext: NVME_DEVICE_EXTENSION, q: NVME_QUEUE, onAdmin: AdminCompletion | null): number {
  let n = 0;
  for (;;) {
    const e = q.CqVa + q.CqHead * NVME_CQE_SIZE;
    const dw3 = readU32(e + 12);
    if (((dw3 >>> 16) & 1) !== q.Phase) break;
    q.SqHead = readU32(e + 8) & 0xFFFF;
    q.CqHead++;
    if (q.CqHead === q.Size) {
      q.CqHead = 0;
      q.Phase ^= 1;
    }
    n++;
    const cid = dw3 & 0xFFFF;
    const srb = cid < q.Size ? q.Requests[cid] : null;
    if (!srb) continue;
    q.Requests[cid] = null;
    q.FreeCids[q.FreeCount++] = cid;
    q.Outstanding--;
    const status = nvmeStatusField(dw3);
    const x = SrbGetMiniportContext(srb) as NVME_SRB_EXTENSION;
    x.QueueId = -1;
    if (q.Id === 0) {
      if (onAdmin) onAdmin(ext, srb, status, readU32(e));
      continue;
    }
    completeFromStatus(srb, status);
    StorPortNotification(SCSI_NOTIFICATION_TYPE.RequestComplete, ext, srb);
  }
  if (n > 0) {
    q.Completions += n;
    StorPortWriteRegisterUlong(ext, q.CqDoorbell, q.CqHead);
  }
  return n;
}

/**
 * Takes back every request `q` has outstanding (its lock held) and frees all its
 * identifiers: the controller forgot them (reset, shutdown). Returns them in identifier order.
 */
export function forgetOutstanding(q: NVME_QUEUE, into: SRB[]): void {
  for (let cid = 0; cid < q.Size; cid++) {
    const srb = q.Requests[cid];
    if (srb) into.push(srb);
    q.Requests[cid] = null;
  }
  q.FreeCount = q.Size - 1;
  for (let i = 0; i < q.Size - 1; i++) q.FreeCids[i] = q.Size - 2 - i;
  q.Outstanding = 0;
}
