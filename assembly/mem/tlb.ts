// Per-CPU TLB: direct-mapped, indexed by the low bits of the virtual page number.
//
//   TlbEntry (TLB_ENTRY_SIZE = 16 bytes)
//   +0 tag   u64   vpn << 1 | 1 (0: empty)
//   +8 value u64   frame address | PTE_P | effective PTE_RW, PTE_US, PTE_D, PTE_G | PTE_NX

import { TLB_BASE, TLB_ENTRY_SIZE, TLB_MAX_ENTRIES } from "../memmap";
import { platform } from "../platform/platform";
import { PTE_G } from "./paging";

// @ts-ignore: decorator
@inline function tlbBase(cpu: u32): usize {
  return TLB_BASE + <usize>cpu * TLB_MAX_ENTRIES * TLB_ENTRY_SIZE;
}

/** Address of the entry that would hold `vpn` for `cpu`. */
// @ts-ignore: decorator
@inline
export function tlbSlot(cpu: u32, vpn: u64): usize {
  return tlbBase(cpu) + <usize>(<u32>vpn & (platform.tlbEntries - 1)) * TLB_ENTRY_SIZE;
}

/** Cached value for `vpn` (frame | effective bits) or 0 on a miss. */
// @ts-ignore: decorator
@inline
export function tlbLookup(cpu: u32, vpn: u64): u64 {
  const e = tlbSlot(cpu, vpn);
  return load<u64>(e) == ((vpn << 1) | 1) ? load<u64>(e, 8) : 0;
}

/** Caches a translation. */
// @ts-ignore: decorator
@inline
export function tlbInsert(cpu: u32, vpn: u64, value: u64): void {
  const e = tlbSlot(cpu, vpn);
  store<u64>(e, (vpn << 1) | 1);
  store<u64>(e, value, 8);
}

/** Drops the entry for one page (INVLPG). */
export function tlbFlushPage(cpu: u32, vpn: u64): void {
  const e = tlbSlot(cpu, vpn);
  if (load<u64>(e) == ((vpn << 1) | 1)) store<u64>(e, 0);
}

/** Drops every entry, or every non-global entry (a CR3 reload) when `keepGlobal`. */
export function tlbFlush(cpu: u32, keepGlobal: bool): void {
  const base = tlbBase(cpu);
  const n = platform.tlbEntries;
  for (let i: u32 = 0; i < n; i++) {
    const e = base + <usize>i * TLB_ENTRY_SIZE;
    if (!keepGlobal || (load<u64>(e, 8) & PTE_G) == 0) store<u64>(e, 0);
  }
}
