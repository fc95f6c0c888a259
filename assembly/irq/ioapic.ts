// The I/O APIC: 24 level- or edge-triggered inputs (GSIs) with a redirection entry each,
// reached through IOREGSEL (+0x00) and IOWIN (+0x10) in its MMIO window. PCI INTx lines
// are level-triggered and shared: an input's level is the OR of every function whose
// INTx routes to it. An unmasked level input with Remote IRR clear sends its vector to
// the destination local APIC and sets Remote IRR; the CPU's EOI for that vector clears
// Remote IRR, and a line still asserted sends again.
//
//   IoApicState (at IOAPIC_BASE)
//   +0   select   u32          IOREGSEL
//   +4   id       u32          IOAPIC ID (register 0x00 bits 27:24)
//   +8   levels   u32          input levels, bit per GSI
//   +16  entries  u64 x 24     redirection table (registers 0x10 + 2n, 0x11 + 2n)

import { IOAPIC_BASE } from "../memmap";
import { core } from "../sim/core";
import { apicReceive } from "./apic";
import { trace, TR_INTX } from "../sim/trace";
import { LAPIC_WINDOW_BASE } from "../platform/platform";

/** Inputs (global system interrupts 0..23). */
export const IOAPIC_INPUTS: u32 = 24;
/** Physical base of the IOAPIC's MMIO window. */
export const IOAPIC_MMIO_BASE: u64 = 0xFEC00000;
/** Bytes of the IOAPIC's MMIO window. */
export const IOAPIC_MMIO_SIZE: u64 = 0x1000;
/** IOREGSEL offset. */
export const IOAPIC_IOREGSEL: u32 = 0x00;
/** IOWIN offset. */
export const IOAPIC_IOWIN: u32 = 0x10;
/** Register: ID. */
export const IOAPIC_REG_ID: u32 = 0x00;
/** Register: version (bits 7:0 version 0x20, bits 23:16 highest entry index). */
export const IOAPIC_REG_VERSION: u32 = 0x01;
/** Register: first redirection entry (low dword; high dword at +1). */
export const IOAPIC_REG_REDIRECTION: u32 = 0x10;
/** Redirection entry: mask. */
export const IOREDTBL_MASK: u64 = 1 << 16;
/** Redirection entry: trigger mode level. */
export const IOREDTBL_LEVEL: u64 = 1 << 15;
/** Redirection entry: remote IRR (read-only). */
export const IOREDTBL_REMOTE_IRR: u64 = 1 << 14;
/** Redirection entry: delivery status (read-only). */
export const IOREDTBL_DELIVERY_STATUS: u64 = 1 << 12;
/** First GSI PCI INTx lines route to (PIRQ A..D -> 16..19). */
export const PCI_INTX_FIRST_GSI: u32 = 16;

@unmanaged
class IoApicState {
  select: u32;
  id: u32;
  levels: u32;
  reserved: u32;
}

const state = changetype<IoApicState>(IOAPIC_BASE);
const ENTRIES: usize = IOAPIC_BASE + 16;

// @ts-ignore: decorator
@inline function entry(gsi: u32): u64 {
  return load<u64>(ENTRIES + (gsi << 3));
}

// @ts-ignore: decorator
@inline function setEntry(gsi: u32, value: u64): void {
  store<u64>(ENTRIES + (gsi << 3), value);
}

/** Resets: every entry masked, edge-triggered, vector 0; all lines low. */
export function ioapicReset(): void {
  state.select = 0;
  state.id = 0;
  state.levels = 0;
  for (let i: u32 = 0; i < IOAPIC_INPUTS; i++) setEntry(i, IOREDTBL_MASK);
}

/** Sends input `gsi`'s interrupt if it is unmasked and (level) not awaiting EOI. */
function evaluate(gsi: u32): void {
  const e = entry(gsi);
  if ((state.levels & (<u32>1 << gsi)) == 0 || (e & IOREDTBL_MASK) != 0) return;
  const level = (e & IOREDTBL_LEVEL) != 0;
  if (level && (e & IOREDTBL_REMOTE_IRR) != 0) return;
  const vector = <u32>(e & 0xFF);
  const mode = <u32>(e >> 8) & 7;
  const destination = <u32>(e >> 56);
  if (level) setEntry(gsi, e | IOREDTBL_REMOTE_IRR);
  apicReceive(LAPIC_WINDOW_BASE | (<u64>destination << 12), vector | (mode << 8), core.nowPs);
}

/** Input `gsi` goes to `level` (1 high). An edge input fires on the rising edge. */
export function ioapicSetLevel(gsi: u32, level: bool): void {
  if (gsi >= IOAPIC_INPUTS) return;
  const bit: u32 = 1 << gsi;
  const was = (state.levels & bit) != 0;
  if (level == was) return;
  state.levels = level ? state.levels | bit : state.levels & ~bit;
  trace(core.nowPs, TR_INTX, 0xFFFF, level ? 1 : 0, gsi, 1);
  if (level) evaluate(gsi);
}

/** The CPU's EOI for `vector`: clears Remote IRR of level inputs with that vector and re-evaluates them. */
export function ioapicEoi(vector: u32): void {
  for (let gsi: u32 = 0; gsi < IOAPIC_INPUTS; gsi++) {
    const e = entry(gsi);
    if ((e & IOREDTBL_REMOTE_IRR) == 0 || <u32>(e & 0xFF) != vector) continue;
    setEntry(gsi, e & ~IOREDTBL_REMOTE_IRR);
    evaluate(gsi);
  }
}

/** MMIO read of the IOAPIC window (4-byte IOREGSEL or IOWIN). */
export function ioapicRead(offset: u32, size: u32): u32 {
  if (size != 4) return 0xFFFFFFFF;
  if (offset == IOAPIC_IOREGSEL) return state.select;
  if (offset != IOAPIC_IOWIN) return 0xFFFFFFFF;
  const reg = state.select & 0xFF;
  if (reg == IOAPIC_REG_ID) return state.id << 24;
  if (reg == IOAPIC_REG_VERSION) return 0x20 | ((IOAPIC_INPUTS - 1) << 16);
  if (reg >= IOAPIC_REG_REDIRECTION && reg < IOAPIC_REG_REDIRECTION + 2 * IOAPIC_INPUTS) {
    const e = entry((reg - IOAPIC_REG_REDIRECTION) >> 1);
    return (reg & 1) != 0 ? <u32>(e >> 32) : <u32>e;
  }
  return 0;
}

/** MMIO write of the IOAPIC window. Writing an entry re-evaluates its input. */
export function ioapicWrite(offset: u32, size: u32, value: u32): void {
  if (size != 4) return;
  if (offset == IOAPIC_IOREGSEL) { state.select = value & 0xFF; return; }
  if (offset != IOAPIC_IOWIN) return;
  const reg = state.select & 0xFF;
  if (reg == IOAPIC_REG_ID) { state.id = (value >> 24) & 0xF; return; }
  if (reg < IOAPIC_REG_REDIRECTION || reg >= IOAPIC_REG_REDIRECTION + 2 * IOAPIC_INPUTS) return;
  const gsi = (reg - IOAPIC_REG_REDIRECTION) >> 1;
  const e = entry(gsi);
  const readOnly = IOREDTBL_REMOTE_IRR | IOREDTBL_DELIVERY_STATUS;
  let next: u64;
  if ((reg & 1) != 0) next = (e & 0x00FFFFFFFFFFFFFF) | (<u64>(value & 0xFF000000) << 32);
  else next = (e & (0xFFFFFFFF00000000 | readOnly)) | (<u64>value & ~readOnly & 0xFFFFFFFF);
  setEntry(gsi, next);
  evaluate(gsi);
}
