// The IOMMU: DMA remapping in the style of Intel VT-d. Software points the root table
// register at a 4 KiB root table (one 16-byte entry per bus), whose entries point at
// context tables (one 16-byte entry per device/function) naming each function's
// second-level page tables: four levels of 8-byte entries with Read (bit 0) and Write
// (bit 1) permissions and the frame in bits 51:12. Once translation is enabled every
// DMA address is translated through them, with an IOTLB in front whose misses cost time;
// a translation that fails is a fault: recorded (source, address, read or write, reason)
// in the fault recording register and the trace, and nothing is read or written. A fault
// that fills the recording register raises the fault event: an interrupt message to
// FEADDR with FEDATA, sent at once while FECTL.IM (interrupt mask, set at reset) is clear,
// else held as FECTL.IP until software clears IM.
//
//   Registers (IOMMU_MMIO_BASE, 4 KiB):
//   0x00 VER   0x08 CAP   0x10 ECAP   0x18 GCMD (TE 31, SRTP 30)   0x1C GSTS (TES 31, RTPS 30)
//   0x20 RTADDR   0x28 CCMD (ICC 63: invalidate context caches)   0x34 FSTS (PFO 0, PPF 1)
//   0x38 FECTL (IM 31, IP 30)   0x3C FEDATA   0x40 FEADDR   0x44 FEUADDR   0x100 IVA   0x108 IOTLB (IVT 63: invalidate)   0x200 FRCD (128-bit fault record)
//
//   IotlbEntry (IOTLB_ENTRY_SIZE = 16): +0 tag u64 (source << 37 | page << 1 | 1), +8 value u64 (frame | R | W)

import { IOMMU_BASE, IOTLB_BASE, IOTLB_ENTRY_SIZE } from "../memmap";
import { core, count, C_DEVICE_ERRORS } from "../sim/core";
import { trace, TR_IOMMU_FAULT } from "../sim/trace";
import { ramReadAt } from "../mem/ram";
import { apicReceive } from "../irq/apic";

@unmanaged
class IommuState {
  present: u32;
  status: u32;
  rootAddress: u64;
  rootTable: u64;
  iotlbEntries: u32;
  faultStatus: u32;
  missPs: u64;
  faultLow: u64;
  faultHigh: u64;
  faultEventControl: u32;
  faults: u32;
  faultEventData: u32;
  faultEventAddress: u64;
}

const state = changetype<IommuState>(IOMMU_BASE);

/** Physical base of the IOMMU's register window. */
export const IOMMU_MMIO_BASE: u64 = 0xFED90000;
/** Bytes of the register window. */
export const IOMMU_MMIO_SIZE: u64 = 0x1000;

/** Register offsets. */
export const IOMMU_VER: u32 = 0x00;
export const IOMMU_CAP: u32 = 0x08;
export const IOMMU_ECAP: u32 = 0x10;
export const IOMMU_GCMD: u32 = 0x18;
export const IOMMU_GSTS: u32 = 0x1C;
export const IOMMU_RTADDR: u32 = 0x20;
export const IOMMU_CCMD: u32 = 0x28;
export const IOMMU_FSTS: u32 = 0x34;
export const IOMMU_FECTL: u32 = 0x38;
export const IOMMU_FEDATA: u32 = 0x3C;
export const IOMMU_FEADDR: u32 = 0x40;
/** FECTL: interrupt mask (set at reset). */
export const IOMMU_FECTL_IM: u32 = 0x80000000;
/** FECTL: interrupt pending (a fault event held while IM is set). */
export const IOMMU_FECTL_IP: u32 = 0x40000000;
export const IOMMU_IVA: u32 = 0x100;
export const IOMMU_IOTLB: u32 = 0x108;
export const IOMMU_FRCD: u32 = 0x200;

/** GCMD / GSTS: translation enable / enabled. */
export const IOMMU_TE: u32 = 0x80000000;
/** GCMD / GSTS: set root table pointer / root table pointer set. */
export const IOMMU_SRTP: u32 = 0x40000000;
/** FSTS: primary fault overflow (w1c). */
export const IOMMU_FSTS_PFO: u32 = 0x1;
/** FSTS: primary pending fault (a fault record holds F). */
export const IOMMU_FSTS_PPF: u32 = 0x2;

/** Fault reason: root entry not present. */
export const IOMMU_FAULT_ROOT_NOT_PRESENT: u32 = 0x1;
/** Fault reason: context entry not present. */
export const IOMMU_FAULT_CONTEXT_NOT_PRESENT: u32 = 0x2;
/** Fault reason: context entry programmed wrongly (translation type or address width). */
export const IOMMU_FAULT_CONTEXT_INVALID: u32 = 0x3;
/** Fault reason: address above the 48-bit address width. */
export const IOMMU_FAULT_ADDRESS_WIDTH: u32 = 0x4;
/** Fault reason: write to a page without Write permission. */
export const IOMMU_FAULT_WRITE: u32 = 0x5;
/** Fault reason: read of a page without Read permission. */
export const IOMMU_FAULT_READ: u32 = 0x6;
/** Fault reason: a paging structure could not be read (not RAM). */
export const IOMMU_FAULT_TABLE_ACCESS: u32 = 0x7;

/** translate() result for a fault. */
export const IOMMU_FAULTED: u64 = 0xFFFFFFFFFFFFFFFF;

const ENTRY_R: u64 = 1;
const ENTRY_W: u64 = 2;
const FRAME: u64 = 0x000FFFFFFFFFF000;

/** Translation time of the last translate() call, ps (IOTLB miss cost, 0 on a hit). */
let lastCostPs: u64 = 0;

/** Sets up the IOMMU from the machine file (present or not, IOTLB size, miss cost) and resets it. */
export function iommuReset(present: bool, iotlbEntries: u32, missPs: u64): void {
  memory.fill(IOMMU_BASE, 0, offsetof<IommuState>());
  state.present = present ? 1 : 0;
  state.iotlbEntries = iotlbEntries;
  state.missPs = missPs;
  state.faultEventControl = IOMMU_FECTL_IM;
  iotlbFlush();
}

/** True when the machine has an IOMMU. */
export function iommuPresent(): bool {
  return state.present != 0;
}

function iotlbFlush(): void {
  memory.fill(IOTLB_BASE, 0, <usize>state.iotlbEntries * IOTLB_ENTRY_SIZE);
}

// @ts-ignore: decorator
@inline function slot(source: u32, page: u64): usize {
  const hash = <u32>(page ^ (page >> 11)) ^ (source * 0x9E37);
  return IOTLB_BASE + <usize>(hash & (state.iotlbEntries - 1)) * IOTLB_ENTRY_SIZE;
}

function fault(source: u32, address: u64, write: bool, reason: u32, record: bool): u64 {
  if (!record) return IOMMU_FAULTED;
  count(C_DEVICE_ERRORS);
  state.faults++;
  trace(core.nowPs, TR_IOMMU_FAULT, source, reason, address, write ? 1 : 0);
  // One fault recording register: a second fault while it is full sets Primary Fault Overflow.
  if ((state.faultHigh >> 63) != 0) {
    state.faultStatus |= IOMMU_FSTS_PFO;
  } else {
    state.faultLow = address & ~<u64>0xFFF;
    state.faultHigh = (<u64>1 << 63) | (write ? 0 : <u64>1 << 62) | (<u64>reason << 32) | <u64>source;
    faultEvent();
  }
  return IOMMU_FAULTED;
}

/** A fault was recorded: the fault event message goes out, or waits (IP) while IM is set. */
function faultEvent(): void {
  if ((state.faultEventControl & IOMMU_FECTL_IM) != 0) { state.faultEventControl |= IOMMU_FECTL_IP; return; }
  state.faultEventControl &= ~IOMMU_FECTL_IP;
  apicReceive(state.faultEventAddress, state.faultEventData, core.nowPs);
}

/** The 8-byte table entry at guest-physical `pa` (8-byte aligned), or IOMMU_FAULTED outside RAM. */
function readEntry(pa: u64): u64 {
  const p = ramReadAt(pa);
  return p == 0 ? IOMMU_FAULTED : load<u64>(p);
}

/**
 * Translates DMA address `address` from requester `source` (bus << 8 | devfn) for a read
 * or write. Returns the physical address (the address itself when translation is off),
 * or IOMMU_FAULTED; with `record` the fault is logged. The cost is in lastTranslationPs().
 */
export function iommuTranslate(source: u32, address: u64, write: bool, record: bool): u64 {
  lastCostPs = 0;
  if (state.present == 0 || (state.status & IOMMU_TE) == 0) return address;
  if (address >= (<u64>1 << 48)) return fault(source, address, write, IOMMU_FAULT_ADDRESS_WIDTH, record);
  const page = address >> 12;
  const e = slot(source, page);
  const tag = (<u64>source << 37) | (page << 1) | 1;
  if (load<u64>(e) == tag) {
    const v = load<u64>(e, 8);
    if ((v & (write ? ENTRY_W : ENTRY_R)) == 0) return fault(source, address, write, write ? IOMMU_FAULT_WRITE : IOMMU_FAULT_READ, record);
    return (v & FRAME) | (address & 0xFFF);
  }
  lastCostPs = state.missPs;
  const root = readEntry(state.rootTable + (<u64>(source >> 8) << 4));
  if (root == IOMMU_FAULTED) return fault(source, address, write, IOMMU_FAULT_TABLE_ACCESS, record);
  if ((root & 1) == 0) return fault(source, address, write, IOMMU_FAULT_ROOT_NOT_PRESENT, record);
  const contextAt = (root & FRAME) + (<u64>(source & 0xFF) << 4);
  const contextLo = readEntry(contextAt);
  const contextHi = readEntry(contextAt + 8);
  if (contextLo == IOMMU_FAULTED || contextHi == IOMMU_FAULTED) return fault(source, address, write, IOMMU_FAULT_TABLE_ACCESS, record);
  if ((contextLo & 1) == 0) return fault(source, address, write, IOMMU_FAULT_CONTEXT_NOT_PRESENT, record);
  const translationType = <u32>(contextLo >> 2) & 3;
  if (translationType == 2) return address;
  // Only second-level translation with 4-level tables (address width 2: 48 bits) is supported.
  if (translationType != 0 || (contextHi & 7) != 2) return fault(source, address, write, IOMMU_FAULT_CONTEXT_INVALID, record);
  let table = contextLo & FRAME;
  let entry: u64 = 0;
  let allowed: u64 = ENTRY_R | ENTRY_W;
  for (let level: i32 = 3; level >= 0; level--) {
    entry = readEntry(table + (((address >> (12 + 9 * <u64>level)) & 511) << 3));
    if (entry == IOMMU_FAULTED) return fault(source, address, write, IOMMU_FAULT_TABLE_ACCESS, record);
    allowed &= entry;
    if ((allowed & (write ? ENTRY_W : ENTRY_R)) == 0) return fault(source, address, write, write ? IOMMU_FAULT_WRITE : IOMMU_FAULT_READ, record);
    table = entry & FRAME;
  }
  store<u64>(e, tag);
  store<u64>(e, (entry & FRAME) | allowed, 8);
  return (entry & FRAME) | (address & 0xFFF);
}

/** Time the last translation took, ps (the IOTLB miss cost, 0 on a hit or with translation off). */
export function lastTranslationPs(): u64 {
  return lastCostPs;
}

/** Faults recorded since power-on. */
export function iommuFaults(): u32 {
  return state.faults;
}

/** Register read (4 or 8 bytes, aligned). */
export function iommuRead(offset: u32, size: u32): u64 {
  if ((size != 4 && size != 8) || (offset & (size - 1)) != 0) return size == 8 ? 0xFFFFFFFFFFFFFFFF : 0xFFFFFFFF;
  let v: u64 = 0;
  const dword = offset & ~7;
  if (dword == IOMMU_VER) v = 0x10;
  // CAP: one fault record (NFR 0) at FRO 0x20 (x16 = 0x200), MGAW 47, SAGAW 4-level, 256 domains.
  else if (dword == IOMMU_CAP) v = (<u64>(IOMMU_FRCD >> 4) << 24) | (<u64>47 << 16) | (<u64>4 << 8) | 2;
  // ECAP: IOTLB registers at IRO 0x10 (x16 = 0x100).
  else if (dword == IOMMU_ECAP) v = <u64>(IOMMU_IVA >> 4) << 8;
  else if (dword == IOMMU_GCMD) v = <u64>state.status << 32;
  else if (dword == IOMMU_RTADDR) v = state.rootAddress;
  else if (dword == IOMMU_FSTS - 4) v = (<u64>(state.faultStatus | (<u32>(state.faultHigh >> 63) << 1)) << 32);
  else if (dword == IOMMU_FECTL) v = <u64>state.faultEventControl | (<u64>state.faultEventData << 32);
  else if (dword == IOMMU_FEADDR) v = state.faultEventAddress;
  else if (dword == IOMMU_FRCD) v = state.faultLow;
  else if (dword == IOMMU_FRCD + 8) v = state.faultHigh;
  if (size == 8) return v;
  return (offset & 4) != 0 ? v >> 32 : v & 0xFFFFFFFF;
}

/** Register write (4 or 8 bytes, aligned) with its side effects. */
export function iommuWrite(offset: u32, size: u32, value: u64): void {
  if ((size != 4 && size != 8) || (offset & (size - 1)) != 0) return;
  // Split an 8-byte write into dwords so each register sees its own 32 bits.
  for (let i: u32 = 0; i < size; i += 4) {
    const at = offset + i;
    const v = <u32>(value >> (<u64>i << 3));
    if (at == IOMMU_GCMD) {
      if ((v & IOMMU_SRTP) != 0) {
        state.rootTable = state.rootAddress & FRAME;
        state.status |= IOMMU_SRTP;
      }
      if ((v & IOMMU_TE) != 0) state.status |= IOMMU_TE;
      else state.status &= ~IOMMU_TE;
      iotlbFlush();
    } else if (at == IOMMU_RTADDR) {
      state.rootAddress = (state.rootAddress & 0xFFFFFFFF00000000) | <u64>(v & 0xFFFFF000);
    } else if (at == IOMMU_RTADDR + 4) {
      state.rootAddress = (state.rootAddress & 0xFFFFFFFF) | (<u64>v << 32);
    } else if (at == IOMMU_CCMD + 4 || at == IOMMU_IOTLB + 4) {
      // ICC / IVT (bit 63): invalidate; the hardware finishes at once, so the bit reads back clear.
      if ((v & 0x80000000) != 0) iotlbFlush();
    } else if (at == IOMMU_FSTS) {
      state.faultStatus &= ~(v & IOMMU_FSTS_PFO);
    } else if (at == IOMMU_FECTL) {
      // IP is read-only; clearing IM sends a held fault event.
      state.faultEventControl = (state.faultEventControl & IOMMU_FECTL_IP) | (v & IOMMU_FECTL_IM);
      if ((v & IOMMU_FECTL_IM) == 0 && (state.faultEventControl & IOMMU_FECTL_IP) != 0) faultEvent();
    } else if (at == IOMMU_FEDATA) {
      state.faultEventData = v & 0xFFFF;
    } else if (at == IOMMU_FEADDR) {
      state.faultEventAddress = (state.faultEventAddress & 0xFFFFFFFF00000000) | <u64>(v & 0xFFFFFFFC);
    } else if (at == IOMMU_FEADDR + 4) {
      state.faultEventAddress = (state.faultEventAddress & 0xFFFFFFFF) | (<u64>v << 32);
    } else if (at == IOMMU_FRCD + 12) {
      // F (bit 127) is write-1-to-clear.
      if ((v & 0x80000000) != 0) state.faultHigh = 0;
    }
  }
}
