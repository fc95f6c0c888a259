// A PCIe link between a function and the root complex: serialisation time per byte from
// the generation and width, per-TLP header/framing overhead, one-way latency, and a
// busy-until time per direction. TLPs in one direction leave in the order they were
// sent, and posted writes land in that order (the IOMMU translating one holds up those
// behind it), so a posted write (an MSI) never passes the writes sent before it.
//
//   Link (LINK_SIZE = 64 bytes)
//   +0  downBusyUntil u64   ps, root complex -> function
//   +8  upBusyUntil   u64   ps, function -> root complex
//   +16 psPerByteNum  u64   serialisation time per byte = psPerByteNum / psPerByteDen
//   +24 psPerByteDen  u64
//   +32 latencyPs     u64   one-way latency after serialisation (PHY, switch, root complex)
//   +40 overhead      u32   bytes of header, sequence number, LCRC and framing per TLP
//   +44 maxPayload    u32   Max Payload Size, bytes
//   +48 maxReadRequest u32  Max Read Request Size, bytes
//   +56 postedLandsAt u64   ps, when the function's latest posted write lands in memory (after any IOMMU
//                           translation); its later posted writes and messages land no earlier

import { count, C_TLPS } from "../sim/core";

@unmanaged
export class Link {
  downBusyUntil: u64;
  upBusyUntil: u64;
  psPerByteNum: u64;
  psPerByteDen: u64;
  latencyPs: u64;
  overhead: u32;
  maxPayload: u32;
  maxReadRequest: u32;
  postedLandsAt: u64;
}

/** Bytes of one Link record. */
export const LINK_SIZE: u32 = 64;

/**
 * Configures a link. Per lane: gen 1 2.5 GT/s 8b/10b = 250 MB/s (4000 ps/byte), gen 2
 * 500 MB/s (2000 ps/byte), gen 3+ 128b/130b: 8 GT/s -> 1015.625 ps/byte, halving per
 * generation. Returns false for a generation or width outside the specification.
 */
export function linkConfigure(l: Link, generation: u32, width: u32, latencyNs: u32, overhead: u32, mps: u32, mrrs: u32): bool {
  if (width == 0 || width > 32 || (width & (width - 1)) != 0) return false;
  let num: u64, den: u64;
  if (generation == 1) { num = 4000; den = 1; }
  else if (generation == 2) { num = 2000; den = 1; }
  else if (generation >= 3 && generation <= 6) { num = 8125; den = <u64>8 << (generation - 3); }
  else return false;
  l.psPerByteNum = num;
  l.psPerByteDen = den * width;
  l.latencyPs = <u64>latencyNs * 1000;
  l.overhead = overhead;
  l.maxPayload = mps;
  l.maxReadRequest = mrrs;
  l.downBusyUntil = 0;
  l.upBusyUntil = 0;
  l.postedLandsAt = 0;
  return true;
}

/** Picoseconds to serialise one TLP with `payload` data bytes. */
export function tlpTime(l: Link, payload: u32): u64 {
  return (<u64>(payload + l.overhead) * l.psPerByteNum + l.psPerByteDen - 1) / l.psPerByteDen;
}

/** Sends a TLP toward the root complex no earlier than `t`; returns its arrival time (ps). */
export function sendUp(l: Link, t: u64, payload: u32): u64 {
  const start = t > l.upBusyUntil ? t : l.upBusyUntil;
  const end = start + tlpTime(l, payload);
  l.upBusyUntil = end;
  count(C_TLPS);
  return end + l.latencyPs;
}

/** Sends a TLP toward the function no earlier than `t`; returns its arrival time (ps). */
export function sendDown(l: Link, t: u64, payload: u32): u64 {
  const start = t > l.downBusyUntil ? t : l.downBusyUntil;
  const end = start + tlpTime(l, payload);
  l.downBusyUntil = end;
  count(C_TLPS);
  return end + l.latencyPs;
}
