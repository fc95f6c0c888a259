// The bus-master port: the only way a device reaches memory. A transfer is checked
// against the function's bus-master enable, split into TLPs (writes of at most Max
// Payload Size, read requests of at most Max Read Request Size, neither crossing a 4 KiB
// boundary), timed on the function's link, and looked up page by page in the RAM
// directory (pages that are apart in linear memory): a device can only ever touch guest RAM.
//
// Reads: the data is copied when the requests are issued; the device hears about the
// transfer at the arrival of the last completion. Writes: the data lands at the arrival
// of the last write TLP; the device hears when the last TLP has left it (posted). With an
// IOMMU translating, every page goes through it (dma/iommu.ts) and its misses add time.

import { core, count, C_DMA_READ_BYTES, C_DMA_WRITE_BYTES, C_DMA_TRANSFERS, C_MASTER_ABORTS, C_MSI_SENT } from "../sim/core";
import { schedule } from "../sim/queue";
import { EV_DEVICE, EV_MEM_WRITE, EV_MESSAGE, EV_DELAYED_MESSAGE } from "../sim/events";
import { trace, TR_DMA_READ, TR_DMA_WRITE, TR_MASTER_ABORT, TR_MSI, TR_WRITE_LANDED, MA_BUS_MASTER_DISABLED, MA_UNBACKED } from "../sim/trace";
import { functionLink, functionTopology, pciFunction } from "../pci/function";
import { configPeek, configSetBits } from "../pci/config";
import { CFG_COMMAND, CFG_STATUS, CMD_BUS_MASTER, STS_RECEIVED_MASTER_ABORT, STS_RECEIVED_TARGET_ABORT } from "../pci/header";
import { ramReadAt, ramCopyIn, ramStoreSpan } from "../mem/ram";
import { platform, LAPIC_WINDOW_BASE, LAPIC_WINDOW_SIZE } from "../platform/platform";
import { apicReceive } from "../irq/apic";
import { poweredDown } from "../pci/capabilities";
import { functionBus, sendDownPath, sendUpPath, upstreamOpen } from "../pci/topology";
import { iommuTranslate, lastTranslationPs, IOMMU_FAULTED } from "./iommu";
import {
  armFires, dmaArm, dmaArmed, interruptArm, interruptArmed, noteInjected, DMA_FAULT_UNSUPPORTED_REQUEST, FAULT_DMA_COMPLETER_ABORT,
  FAULT_DMA_UNSUPPORTED_REQUEST, FAULT_MATCH_MESSAGE, FAULT_MATCH_READ, FAULT_MATCH_WRITE, FAULT_MESSAGE_DELAYED, FAULT_MESSAGE_DROPPED,
  FAULT_MESSAGE_DUPLICATED, INTERRUPT_FAULT_DELAY, INTERRUPT_FAULT_DROP, INTERRUPT_FAULT_DUPLICATE,
} from "../pci/injected-faults";

/** DMA completion status: all data moved. */
export const DMA_OK: u32 = 0;
/** DMA completion status: bus mastering is disabled; nothing was issued (master abort). */
export const DMA_MASTER_ABORT: u32 = 1;
/** DMA completion status: part of the range is not backed by memory (unsupported request). */
export const DMA_UNSUPPORTED_REQUEST: u32 = 2;
/** DMA completion status: the IOMMU refused part of the range (completer abort); nothing moved there. */
export const DMA_COMPLETER_ABORT: u32 = 3;

/** The requester ID the root complex sees for function `fn`: its current bus, device and function. */
function requester(fn: u32): u32 {
  return (functionBus(fn) << 8) | (pciFunction(fn).bdf & 0xFF);
}

const PAGE: u64 = 4096;

// @ts-ignore: decorator
@inline function chunkLength(address: u64, remaining: u64, limit: u32): u32 {
  const toBoundary = PAGE - (address & (PAGE - 1));
  let n = remaining < <u64>limit ? remaining : <u64>limit;
  if (n > toBoundary) n = toBoundary;
  return <u32>n;
}

/**
 * True when function `fn` may master the bus (bus master enabled, function in D0, every
 * bridge above forwarding upstream); records a master abort when it may not.
 */
function mayMaster(fn: u32, address: u64): bool {
  if ((configPeek(fn, CFG_COMMAND, 2) & CMD_BUS_MASTER) != 0 && !poweredDown(fn) && functionTopology(fn).removed == 0 && upstreamOpen(fn)) return true;
  count(C_MASTER_ABORTS);
  trace(core.nowPs, TR_MASTER_ABORT, fn, MA_BUS_MASTER_DISABLED, address, 0);
  return false;
}

/**
 * A request to an address nothing backs. The root complex records it; a non-posted
 * request (a read) also comes back as an Unsupported Request completion, which the
 * function notes as a received master abort. A posted write gets no completion.
 */
function unsupported(fn: u32, address: u64, posted: bool): void {
  count(C_MASTER_ABORTS);
  trace(core.nowPs, TR_MASTER_ABORT, fn, MA_UNBACKED, address, 0);
  if (!posted) configSetBits(fn, CFG_STATUS, STS_RECEIVED_MASTER_ABORT, true);
}

/**
 * Device `fn` reads `length` bytes of memory at bus address `address` into its own state
 * at `dst`. When the last completion arrives the device gets EV_DEVICE(doneCode, status).
 */
export function dmaRead(fn: u32, address: u64, dst: usize, length: u32, doneCode: u32): void {
  const now = core.nowPs;
  if (!mayMaster(fn, address)) { schedule(now, EV_DEVICE, fn, doneCode, DMA_MASTER_ABORT); return; }
  if (dmaArmed(fn)) {
    const injected = armFires(dmaArm(fn), FAULT_MATCH_READ);
    if (injected != 0) { failTransfer(fn, address, length, doneCode, injected, false); return; }
  }
  const link = functionLink(fn);
  const source = requester(fn);
  let status = DMA_OK;
  let done = now;
  let a = address;
  let remaining = <u64>length;
  let out = dst;
  while (remaining > 0) {
    const request = chunkLength(a, remaining, link.maxReadRequest);
    const pa = iommuTranslate(source, a, false, true);
    const translation = lastTranslationPs();
    // A request never crosses 4 KiB, so one page backs all of it.
    const src = pa == IOMMU_FAULTED ? 0 : ramReadAt(pa);
    if (src != 0) memory.copy(out, src, request);
    else {
      memory.fill(out, 0xFF, request);
      if (pa == IOMMU_FAULTED) status = DMA_COMPLETER_ABORT;
      else { unsupported(fn, pa, false); if (status == DMA_OK) status = DMA_UNSUPPORTED_REQUEST; }
    }
    // The request goes up, is translated, memory answers after its latency, completions come down.
    const ready = sendUpPath(fn, now, 0) + translation + platform.memoryReadLatencyPs;
    let sent: u32 = 0;
    while (sent < request) {
      const piece = request - sent < link.maxPayload ? request - sent : link.maxPayload;
      done = sendDownPath(fn, ready, piece);
      sent += piece;
    }
    a += request; out += request; remaining -= request;
  }
  count(C_DMA_TRANSFERS);
  count(C_DMA_READ_BYTES, <f64>length);
  trace(now, TR_DMA_READ, fn, length, address, done);
  schedule(done, EV_DEVICE, fn, doneCode, status);
}

/**
 * Device `fn` writes `length` bytes from its own state at `src` to bus address `address`.
 * The source must stay unchanged until the device gets EV_DEVICE(doneCode, status).
 */
export function dmaWrite(fn: u32, address: u64, src: usize, length: u32, doneCode: u32): void {
  const now = core.nowPs;
  if (!mayMaster(fn, address)) { schedule(now, EV_DEVICE, fn, doneCode, DMA_MASTER_ABORT); return; }
  if (dmaArmed(fn)) {
    const injected = armFires(dmaArm(fn), FAULT_MATCH_WRITE);
    if (injected != 0) { failTransfer(fn, address, length, doneCode, injected, true); return; }
  }
  const link = functionLink(fn);
  const source = requester(fn);
  let arrival = now;
  let translation: u64 = 0;
  let status = DMA_OK;
  let a = address;
  let remaining = <u64>length;
  while (remaining > 0) {
    const piece = chunkLength(a, remaining, link.maxPayload);
    arrival = sendUpPath(fn, now, piece);
    // The IOMMU's verdict is known to the device (as an error completion) when it refuses
    // a page; the translation itself happens, and is recorded, as the data lands.
    if ((a & 0xFFF) == 0 || a == address) {
      if (iommuTranslate(source, a, true, false) == IOMMU_FAULTED) status = DMA_COMPLETER_ABORT;
      translation += lastTranslationPs();
    }
    a += piece; remaining -= piece;
  }
  // Posted writes from one requester land in order: one held up by its translation holds up those after it.
  let lands = arrival + translation;
  if (lands < link.postedLandsAt) lands = link.postedLandsAt;
  link.postedLandsAt = lands;
  count(C_DMA_TRANSFERS);
  trace(now, TR_DMA_WRITE, fn, length, address, lands);
  schedule(lands, EV_MEM_WRITE, fn, address, (<u64>length << 32) | <u64>src);
  schedule(link.upBusyUntil, EV_DEVICE, fn, doneCode, status);
}

/**
 * A transfer an injected fault fails (`injected` a DMA_FAULT_*): the completer answers
 * Unsupported Request or Completer Abort. A read's request goes up and its completion comes
 * back with no data (the device's buffer is left as it was) and the function records the
 * received master or target abort in its status register; a write's TLPs go up and land
 * nowhere. Either way the device model hears DMA_UNSUPPORTED_REQUEST or
 * DMA_COMPLETER_ABORT, as it hears an IOMMU's refusal.
 */
function failTransfer(fn: u32, address: u64, length: u32, doneCode: u32, injected: u32, write: bool): void {
  const now = core.nowPs;
  const ur = injected == DMA_FAULT_UNSUPPORTED_REQUEST;
  const status = ur ? DMA_UNSUPPORTED_REQUEST : DMA_COMPLETER_ABORT;
  noteInjected(fn, ur ? FAULT_DMA_UNSUPPORTED_REQUEST : FAULT_DMA_COMPLETER_ABORT, address, <u64>length | (write ? <u64>1 << 32 : 0));
  count(C_DMA_TRANSFERS);
  if (write) {
    const link = functionLink(fn);
    let a = address;
    let remaining = <u64>length;
    while (remaining > 0) {
      const piece = chunkLength(a, remaining, link.maxPayload);
      sendUpPath(fn, now, piece);
      a += piece; remaining -= piece;
    }
    schedule(link.upBusyUntil, EV_DEVICE, fn, doneCode, status);
    return;
  }
  configSetBits(fn, CFG_STATUS, ur ? STS_RECEIVED_MASTER_ABORT : STS_RECEIVED_TARGET_ABORT, true);
  const answered = sendDownPath(fn, sendUpPath(fn, now, 0), 0);
  schedule(answered, EV_DEVICE, fn, doneCode, status);
}

/**
 * Device `fn` sends an interrupt message (posted 4-byte write of `data` to `address`),
 * unless an injected fault drops, repeats or holds it back.
 */
export function postMessage(fn: u32, address: u64, data: u32): void {
  if (interruptArmed(fn)) {
    const arm = interruptArm(fn);
    const injected = armFires(arm, FAULT_MATCH_MESSAGE);
    if (injected == INTERRUPT_FAULT_DROP) {
      noteInjected(fn, FAULT_MESSAGE_DROPPED, address, data);
      return;
    }
    if (injected == INTERRUPT_FAULT_DELAY) {
      const leaves = core.nowPs + arm.delayPs;
      noteInjected(fn, FAULT_MESSAGE_DELAYED, address, leaves);
      schedule(leaves, EV_DELAYED_MESSAGE, fn, address, data);
      return;
    }
    if (injected == INTERRUPT_FAULT_DUPLICATE) {
      noteInjected(fn, FAULT_MESSAGE_DUPLICATED, address, data);
      sendMessage(fn, address, data);
    }
  }
  sendMessage(fn, address, data);
}

/** Device `fn`'s interrupt message goes out now (posted 4-byte write of `data` to `address`). */
export function sendMessage(fn: u32, address: u64, data: u32): void {
  if (!mayMaster(fn, address)) return;
  // A message is a posted write: it never lands before the data the function wrote before it.
  const link = functionLink(fn);
  let arrival = sendUpPath(fn, core.nowPs, 4);
  if (arrival < link.postedLandsAt) arrival = link.postedLandsAt;
  link.postedLandsAt = arrival;
  count(C_MSI_SENT);
  trace(core.nowPs, TR_MSI, fn, data, address, arrival);
  schedule(arrival, EV_MESSAGE, fn, address, data);
}

/** A posted write from `fn` lands: translated by the IOMMU page by page into RAM, or the interrupt window. */
export function landWrite(fn: u32, address: u64, src: usize, length: u32): void {
  if (address >= LAPIC_WINDOW_BASE && address < LAPIC_WINDOW_BASE + LAPIC_WINDOW_SIZE) {
    apicReceive(address, length >= 4 ? load<u32>(src) : 0, core.nowPs);
    return;
  }
  const source = requester(fn);
  let a = address;
  let s = src;
  let remaining = <u64>length;
  let moved: u32 = 0;
  while (remaining > 0) {
    const piece = chunkLength(a, remaining, <u32>PAGE);
    const pa = iommuTranslate(source, a, true, true);
    // A piece never crosses 4 KiB; a piece the IOMMU refused lands nowhere.
    if (pa != IOMMU_FAULTED) {
      if (ramCopyIn(pa, s, piece)) moved += piece;
      else unsupported(fn, pa, true);
    }
    a += piece; s += piece; remaining -= piece;
  }
  count(C_DMA_WRITE_BYTES, <f64>moved);
  trace(core.nowPs, TR_WRITE_LANDED, fn, length, address, 0);
}

/** An interrupt message from `fn` lands at the root complex. */
export function landMessage(fn: u32, address: u64, data: u32): void {
  if (address >= LAPIC_WINDOW_BASE && address < LAPIC_WINDOW_BASE + LAPIC_WINDOW_SIZE) {
    apicReceive(address, data, core.nowPs);
    return;
  }
  // A message aimed elsewhere is an ordinary 4-byte memory write, translated like DMA.
  const pa = iommuTranslate(requester(fn), address, true, true);
  if (pa == IOMMU_FAULTED) return;
  if (!ramStoreSpan(pa, 4, data)) unsupported(fn, pa, true);
}
