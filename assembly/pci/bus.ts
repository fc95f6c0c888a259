// The root complex as the CPU sees it: physical addresses in the ECAM window become
// configuration requests, addresses inside a decoded BAR become memory requests to that
// function, anything else is a master abort (reads return all ones, writes vanish).
//
// Timing: a read is a request TLP down the function's link and a completion back up;
// the CPU stalls for the round trip. A configuration write is non-posted and costs the
// same round trip. A memory write is posted: it reaches the device when its TLP arrives
// (an event), and the CPU only stalls when the link has more than its posted credits queued.

import { core, count, C_CONFIG_READS, C_CONFIG_WRITES, C_MASTER_ABORTS, C_MMIO_READS, C_MMIO_WRITES } from "../sim/core";
import { CpuState, ACCESS_OK, ACCESS_MASTER_ABORT } from "../sim/cpu";
import { schedule } from "../sim/queue";
import { runUntil } from "../sim/run";
import { EV_MMIO_WRITE } from "../sim/events";
import { trace, TR_CONFIG_READ, TR_CONFIG_WRITE, TR_MASTER_ABORT, TR_MMIO_READ, TR_MMIO_WRITE, MA_UNBACKED } from "../sim/trace";
import { platform, ROOT_COMPLEX_REGISTER_LATENCY_PS, ROOT_COMPLEX_UR_LATENCY_PS } from "../platform/platform";
import { ioapicRead, ioapicWrite, IOAPIC_MMIO_BASE, IOAPIC_MMIO_SIZE } from "../irq/ioapic";
import { iommuPresent, iommuRead, iommuWrite, IOMMU_MMIO_BASE, IOMMU_MMIO_SIZE } from "../dma/iommu";
import { deviceRead, deviceWrite } from "../devices/index";
import { tlpTime, Link } from "../dma/link";
import { decodeEntry, decodeFind } from "./decode";
import { functionLink, pciFunction } from "./function";
import { configTarget, sendDownPath, sendUpPath } from "./topology";
import { configRead, configWrite } from "./config";
import { msixClaims, msixRead, msixWrite } from "./msix";

/** Bytes of ECAM space per bus. */
const ECAM_BUS_BYTES: u64 = 1 << 20;

// @ts-ignore: decorator
@inline function allOnes(size: u32): u64 {
  return size >= 8 ? 0xFFFFFFFFFFFFFFFF : ((<u64>1 << (<u64>size << 3)) - 1);
}

function issueTime(s: CpuState): u64 {
  const t = <u64>s.localTimePs;
  return t > core.nowPs ? t : core.nowPs;
}

function masterAbort(s: CpuState, pa: u64, t: u64): void {
  count(C_MASTER_ABORTS);
  trace(t, TR_MASTER_ABORT, 0xFFFF, MA_UNBACKED, pa, 0);
  s.status = ACCESS_MASTER_ABORT;
  s.localTimePs = <f64>(t + ROOT_COMPLEX_UR_LATENCY_PS);
}

/**
 * Function index a configuration request to ECAM address `pa` reaches through the
 * bridges (with the config offset in ecamOffset), -1 if none answers, -2 outside ECAM.
 */
let ecamOffset: u32 = 0;
function ecamFunction(pa: u64): i32 {
  const rel = pa - platform.ecamBase;
  if (pa < platform.ecamBase || rel >= <u64>platform.ecamBusCount * ECAM_BUS_BYTES) return -2;
  ecamOffset = <u32>rel & 0xFFF;
  return configTarget(<u32>(rel >> 20) & 0xFF, <u32>(rel >> 15) & 0x1F, <u32>(rel >> 12) & 0x7);
}

/** Posted-write stall: the CPU may not run further ahead of the link than its credits allow. */
function postedStall(s: CpuState, link: Link, t: u64, size: u32): void {
  const window = <u64>platform.postedWriteCredits * tlpTime(link, size);
  if (link.downBusyUntil > t + window) s.localTimePs = <f64>(link.downBusyUntil - window);
}

/** A CPU reads `size` bytes at physical address `pa` outside RAM. Charges the round trip to the CPU. */
export function busCpuRead(s: CpuState, pa: u64, size: u32): u64 {
  const t = issueTime(s);
  s.status = ACCESS_OK;
  if (pa >= IOAPIC_MMIO_BASE && pa < IOAPIC_MMIO_BASE + IOAPIC_MMIO_SIZE) {
    runUntil(t, false);
    s.localTimePs = <f64>(t + ROOT_COMPLEX_REGISTER_LATENCY_PS);
    return ioapicRead(<u32>(pa - IOAPIC_MMIO_BASE), size);
  }
  if (iommuPresent() && pa >= IOMMU_MMIO_BASE && pa < IOMMU_MMIO_BASE + IOMMU_MMIO_SIZE) {
    runUntil(t, false);
    s.localTimePs = <f64>(t + ROOT_COMPLEX_REGISTER_LATENCY_PS);
    return iommuRead(<u32>(pa - IOMMU_MMIO_BASE), size);
  }
  const d = decodeFind(pa, size);
  if (d >= 0) {
    const e = decodeEntry(d);
    const fn = e.fn;
    const arrive = sendDownPath(fn, t, 0);
    runUntil(arrive, false);
    const offset = <u32>(pa - e.base);
    // A completion carries `size` bytes: whatever the model returns beyond them is not on the wire.
    const claim = msixClaims(fn, e.bar, offset);
    const v = (claim >= 0 ? msixRead(fn, <u32>claim, size) : deviceRead(fn, e.bar, offset, size)) & allOnes(size);
    count(C_MMIO_READS);
    trace(arrive, TR_MMIO_READ, fn, (e.bar << 24) | offset, v, size);
    s.localTimePs = <f64>sendUpPath(fn, arrive, size);
    return v;
  }
  const fn = ecamFunction(pa);
  if (fn >= 0 && size <= 4) {
    const offset = ecamOffset;
    const arrive = sendDownPath(fn, t, 0);
    runUntil(arrive, false);
    const v = configRead(fn, offset, size, pciFunction(fn).pciExpress != 0);
    count(C_CONFIG_READS);
    trace(arrive, TR_CONFIG_READ, fn, offset, v, size);
    s.localTimePs = <f64>sendUpPath(fn, arrive, size);
    return v;
  }
  if (fn == -1) {
    // ECAM of a function that does not exist: the root complex answers all ones.
    count(C_CONFIG_READS);
    s.localTimePs = <f64>(t + ROOT_COMPLEX_UR_LATENCY_PS);
    return allOnes(size);
  }
  masterAbort(s, pa, t);
  return allOnes(size);
}

/** A CPU writes `size` bytes of `value` at physical address `pa` outside RAM (posted). */
export function busCpuWrite(s: CpuState, pa: u64, size: u32, value: u64): void {
  const t = issueTime(s);
  s.status = ACCESS_OK;
  if (pa >= IOAPIC_MMIO_BASE && pa < IOAPIC_MMIO_BASE + IOAPIC_MMIO_SIZE) {
    // A root-complex register: applied in order with the devices, as a non-posted access.
    runUntil(t, false);
    ioapicWrite(<u32>(pa - IOAPIC_MMIO_BASE), size, <u32>value);
    s.localTimePs = <f64>(t + ROOT_COMPLEX_REGISTER_LATENCY_PS);
    return;
  }
  if (iommuPresent() && pa >= IOMMU_MMIO_BASE && pa < IOMMU_MMIO_BASE + IOMMU_MMIO_SIZE) {
    runUntil(t, false);
    iommuWrite(<u32>(pa - IOMMU_MMIO_BASE), size, value);
    s.localTimePs = <f64>(t + ROOT_COMPLEX_REGISTER_LATENCY_PS);
    return;
  }
  const d = decodeFind(pa, size);
  if (d >= 0) {
    const e = decodeEntry(d);
    const link = functionLink(e.fn);
    const arrive = sendDownPath(e.fn, t, size);
    const offset = <u32>(pa - e.base);
    // A write TLP carries `size` bytes: bits of `value` above them never reach the device.
    schedule(arrive, EV_MMIO_WRITE, e.fn, (<u64>e.bar << 40) | (<u64>size << 32) | <u64>offset, value & allOnes(size));
    postedStall(s, link, t, size);
    return;
  }
  const fn = ecamFunction(pa);
  if (fn >= 0 && size <= 4) {
    // Configuration writes are non-posted (PCIe CfgWr): the CPU waits for the completion,
    // so what it does next (say, an MMIO access through a BAR it just programmed, decoded
    // here at issue) already sees the write.
    const offset = ecamOffset;
    const arrive = sendDownPath(fn, t, size);
    runUntil(arrive, false);
    deliverConfigWrite(fn, size, offset, <u32>value);
    s.localTimePs = <f64>sendUpPath(fn, arrive, 0);
    return;
  }
  if (fn == -1) return;
  masterAbort(s, pa, t);
}

/** A posted MMIO write arrives at function `fn`. */
export function deliverMmioWrite(fn: u32, bar: u32, size: u32, offset: u32, value: u64): void {
  count(C_MMIO_WRITES);
  trace(core.nowPs, TR_MMIO_WRITE, fn, (bar << 24) | offset, value, size);
  const claim = msixClaims(fn, bar, offset);
  if (claim >= 0) msixWrite(fn, <u32>claim, size, value);
  else deviceWrite(fn, bar, offset, size, value);
}

/** A configuration write arrives at function `fn`. */
export function deliverConfigWrite(fn: u32, size: u32, offset: u32, value: u32): void {
  count(C_CONFIG_WRITES);
  trace(core.nowPs, TR_CONFIG_WRITE, fn, offset, value, size);
  configWrite(fn, offset, size, value, pciFunction(fn).pciExpress != 0);
}
