// NVMe data transfer through PRPs (shared/specs/nvme.md): PRP1 may start inside a page;
// a transfer ending in the second page takes that page from PRP2; a longer one reads a
// PRP list at PRP2, whose last entry chains to the next list page when the list goes on.
// List pages are read by DMA; the data then moves in one DMA per run of physically
// contiguous pages, all issued at once and timed by the link. The memory page size is
// 4 KiB (CAP.MPSMIN = CAP.MPSMAX = 0).

import { dmaRead, dmaWrite, DMA_OK } from "../dma/port";
import {
  NvmeState, slotAt, slotSqe, slotPrp, slotStaging, eventCode, nvmeError, genericError, SLOT_PRP_LIST, SLOT_DATA,
  EV_PRP, EV_DATA, SC_DATA_TRANSFER, SC_INVALID_PRP_OFFSET, NVME_ERROR_DATA,
} from "./nvme-state";
import { complete } from "./nvme-queues";

/** Memory page size, bytes. */
const PAGE: u64 = 4096;

/**
 * Starts moving `length` bytes between slot `i`'s staging buffer and the host pages its
 * PRP1/PRP2 describe (`toHost` 1: controller to host). When every DMA is done the slot
 * gets EV_DATA and transferDone() says whether it succeeded; `next` is what follows.
 */
export function transferStart(fn: u32, s: NvmeState, i: u32, length: u32, toHost: u32, next: u32): void {
  const slot = slotAt(s, i);
  const prp1 = load<u64>(slotSqe(s, i), 24);
  const prp2 = load<u64>(slotSqe(s, i), 32);
  slot.length = length;
  slot.toHost = toHost;
  slot.next = next;
  slot.dmaStatus = 0;
  if ((prp1 & 3) != 0) { complete(fn, s, i, genericError(SC_INVALID_PRP_OFFSET), 0); return; }
  const prp = slotPrp(s, i);
  store<u64>(prp, prp1);
  slot.prpCount = 1;
  const first = PAGE - (prp1 & (PAGE - 1));
  if (<u64>length <= first) { slot.prpNeeded = 0; dataStart(fn, s, i); return; }
  const more = <u32>((<u64>length - first + PAGE - 1) / PAGE);
  slot.prpNeeded = more;
  if (more == 1) {
    store<u64>(prp + 8, prp2);
    slot.prpCount = 2;
    dataStart(fn, s, i);
    return;
  }
  if ((prp2 & 7) != 0) { complete(fn, s, i, genericError(SC_INVALID_PRP_OFFSET), 0); return; }
  listRead(fn, s, i, prp2);
}

/** Reads the PRP entries at `address` up to the end of its page (or as many as still needed). */
function listRead(fn: u32, s: NvmeState, i: u32, address: u64): void {
  const slot = slotAt(s, i);
  const inPage = <u32>((PAGE - (address & (PAGE - 1))) >> 3);
  const need = slot.prpNeeded + 1 - slot.prpCount;
  slot.listChained = need > inPage ? 1 : 0;
  slot.listEntries = need > inPage ? inPage : need;
  slot.state = SLOT_PRP_LIST;
  slot.outstanding = 1;
  dmaRead(fn, address, slotPrp(s, i) + (<usize>slot.prpCount << 3), slot.listEntries << 3, eventCode(s, EV_PRP, i));
}

/** A PRP list read arrived with DMA status `status`. */
export function listArrived(fn: u32, s: NvmeState, i: u32, status: u32): void {
  const slot = slotAt(s, i);
  slot.outstanding = 0;
  if (status != DMA_OK) { fail(fn, s, i, status); return; }
  if (slot.listChained != 0) {
    slot.prpCount += slot.listEntries - 1;
    const next = load<u64>(slotPrp(s, i) + (<usize>slot.prpCount << 3));
    if ((next & 7) != 0) { complete(fn, s, i, genericError(SC_INVALID_PRP_OFFSET), 0); return; }
    listRead(fn, s, i, next);
    return;
  }
  slot.prpCount += slot.listEntries;
  dataStart(fn, s, i);
}

function issue(fn: u32, s: NvmeState, i: u32, address: u64, length: u64, buffer: usize): void {
  const slot = slotAt(s, i);
  slot.outstanding++;
  if (slot.toHost != 0) dmaWrite(fn, address, buffer, <u32>length, eventCode(s, EV_DATA, i));
  else dmaRead(fn, address, buffer, <u32>length, eventCode(s, EV_DATA, i));
}

/** Every PRP entry is known: checks their offsets and issues the data DMAs. */
function dataStart(fn: u32, s: NvmeState, i: u32): void {
  const slot = slotAt(s, i);
  const prp = slotPrp(s, i);
  for (let k: u32 = 1; k < slot.prpCount; k++) {
    if ((load<u64>(prp + (<usize>k << 3)) & (PAGE - 1)) != 0) { complete(fn, s, i, genericError(SC_INVALID_PRP_OFFSET), 0); return; }
  }
  slot.state = SLOT_DATA;
  slot.outstanding = 0;
  let buffer = slotStaging(s, i);
  let remaining = <u64>slot.length;
  let start = load<u64>(prp);
  let run = PAGE - (start & (PAGE - 1));
  if (run > remaining) run = remaining;
  remaining -= run;
  for (let k: u32 = 1; k < slot.prpCount; k++) {
    const a = load<u64>(prp + (<usize>k << 3));
    const n = remaining < PAGE ? remaining : PAGE;
    if (a == start + run) {
      run += n;
    } else {
      issue(fn, s, i, start, run, buffer);
      buffer += <usize>run;
      start = a;
      run = n;
    }
    remaining -= n;
  }
  issue(fn, s, i, start, run, buffer);
}

/** One data DMA of slot `i` is done. True when it was the last and all succeeded; a failure completes the command. */
export function transferDone(fn: u32, s: NvmeState, i: u32, status: u32): bool {
  const slot = slotAt(s, i);
  slot.outstanding--;
  if (status != DMA_OK && slot.dmaStatus == 0) slot.dmaStatus = status;
  if (slot.outstanding > 0) return false;
  if (slot.dmaStatus != 0) { fail(fn, s, i, slot.dmaStatus); return false; }
  return true;
}

/** A DMA of slot `i` failed: recorded, and the command completes with data transfer error. */
function fail(fn: u32, s: NvmeState, i: u32, status: u32): void {
  const slot = slotAt(s, i);
  nvmeError(fn, NVME_ERROR_DATA, (<u64>status << 32) | (<u64>slot.sqid << 16) | <u64>(slot.cid & 0xFFFF));
  complete(fn, s, i, SC_DATA_TRANSFER, 0);
}
