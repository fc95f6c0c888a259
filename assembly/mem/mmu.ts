// The MMU: walks the 4-level page tables in guest RAM for a CPU's CR3, with a TLB in
// front. It sets Accessed on every level and Dirty on the leaf for writes, and reports
// page faults as results (error code and address), never as traps.
//
// A walk finds each table's page in the RAM directory (mem/ram.ts); a per-CPU cache
// remembers, per level, the last table page and where its backing is, which saves the
// directory's two dependent loads when consecutive walks share tables. It holds only
// pages with backing, which never move, so it never goes stale; it changes nothing a
// guest can see (no timing, no state).

import { core, count, C_TLB_HITS, C_TLB_MISSES, C_PAGE_FAULTS } from "../sim/core";
import { cpuBase, cpuState, CpuState, CPU_WALK_TAG_OFFSET, CPU_WALK_PAGE_OFFSET } from "../sim/cpu";
import { platform } from "../platform/platform";
import { ramPageEntry } from "./ram";
import { RAM_ZERO_PAGE } from "../memmap";
import { tlbInsert, tlbLookup } from "./tlb";
import {
  ACCESS_EXECUTE, ACCESS_USER, ACCESS_WRITE, PF_FETCH, PF_PRESENT, PF_RESERVED, PF_USER, PF_WRITE,
  PTE_A, PTE_ADDRESS_MASK, PTE_D, PTE_G, PTE_NX, PTE_P, PTE_PS, PTE_RW, PTE_US, VA_LIMIT,
} from "./paging";

/** Marker returned by translate on a fault (faultVa/faultCode are in the CPU record). */
export const TRANSLATE_FAULT: u64 = 0xFFFFFFFFFFFFFFFF;

function fault(s: CpuState, va: u64, code: u32, access: u32): u64 {
  s.faultVa = <f64>va;
  s.faultCode = code | ((access & ACCESS_WRITE) != 0 ? PF_WRITE : 0)
    | ((access & ACCESS_USER) != 0 ? PF_USER : 0) | ((access & ACCESS_EXECUTE) != 0 ? PF_FETCH : 0);
  count(C_PAGE_FAULTS);
  return TRANSLATE_FAULT;
}

function allowed(bits: u64, access: u32): bool {
  if ((access & ACCESS_WRITE) != 0 && (bits & PTE_RW) == 0) return false;
  if ((access & ACCESS_USER) != 0 && (bits & PTE_US) == 0) return false;
  if ((access & ACCESS_EXECUTE) != 0 && (bits & PTE_NX) != 0) return false;
  return true;
}

/**
 * Translates virtual address `va` for `cpu` (ACCESS_* flags). Returns the physical
 * address, or TRANSLATE_FAULT with the fault recorded in the CPU's record. A TLB miss
 * charges the page-walk cost to the CPU's local clock.
 */
export function translate(cpu: u32, va: u64, access: u32): u64 {
  const s = cpuState(cpu);
  if (va >= VA_LIMIT) return fault(s, va, PF_RESERVED, access);
  const vpn = va >> 12;
  const cached = tlbLookup(cpu, vpn);
  // A cached entry serves reads, and writes once the page is already dirty.
  if (cached != 0 && ((access & ACCESS_WRITE) == 0 || (cached & PTE_D) != 0)) {
    if (!allowed(cached, access)) return fault(s, va, PF_PRESENT, access);
    count(C_TLB_HITS);
    return (cached & PTE_ADDRESS_MASK) | (va & 0xFFF);
  }
  count(C_TLB_MISSES);
  s.localTimePs += <f64>platform.tlbMissPs;

  let table = s.cr3 & PTE_ADDRESS_MASK;
  let effective: u64 = PTE_RW | PTE_US;
  let nx: u64 = 0;
  let entryAddr: usize = 0;
  let entry: u64 = 0;
  const walkTags = cpuBase(cpu) + CPU_WALK_TAG_OFFSET;
  const walkPages = cpuBase(cpu) + CPU_WALK_PAGE_OFFSET;
  for (let level: i32 = 3; level >= 0; level--) {
    const index = (va >> (12 + 9 * <u64>level)) & 511;
    // A read lookup: the Accessed and Dirty stores below only go to a present entry, which
    // is never in RAM nothing wrote (that reads as zeros), so the page has its backing.
    let page: u32;
    if (load<u64>(walkTags + (level << 3)) == (table | 1)) page = load<u32>(walkPages + (level << 2));
    else {
      page = ramPageEntry(table);
      if (page > RAM_ZERO_PAGE) {
        store<u64>(walkTags + (level << 3), table | 1);
        store<u32>(walkPages + (level << 2), page);
      }
    }
    // A table outside RAM reads as all ones: present with reserved bits set.
    if (page == 0) return fault(s, va, PF_PRESENT | PF_RESERVED, access);
    entryAddr = <usize>page + <usize>(index << 3);
    entry = load<u64>(entryAddr);
    if ((entry & PTE_P) == 0) return fault(s, va, 0, access);
    if (level > 0 && level < 3 && (entry & PTE_PS) != 0) return fault(s, va, PF_PRESENT | PF_RESERVED, access);
    effective &= entry | ~(PTE_RW | PTE_US);
    nx |= entry & PTE_NX;
    if (level > 0) {
      if ((entry & PTE_A) == 0) store<u64>(entryAddr, entry | PTE_A);
      table = entry & PTE_ADDRESS_MASK;
    }
  }
  const bits = effective | nx;
  if (!allowed(bits, access)) return fault(s, va, PF_PRESENT, access);
  let leaf = entry | PTE_A;
  if ((access & ACCESS_WRITE) != 0) leaf |= PTE_D;
  if (leaf != entry) store<u64>(entryAddr, leaf);
  // PTE_P marks the cached value as valid: a read-only supervisor mapping of frame 0 is otherwise 0, a miss.
  tlbInsert(cpu, vpn, (leaf & PTE_ADDRESS_MASK) | bits | (leaf & (PTE_D | PTE_G)) | PTE_P);
  return (leaf & PTE_ADDRESS_MASK) | (va & 0xFFF);
}
