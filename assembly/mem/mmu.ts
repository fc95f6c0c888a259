// The MMU: walks the 4-level page tables in guest RAM for a CPU's CR3, with a TLB in
// front. It sets Accessed on every level and Dirty on the leaf for writes, and reports
// page faults as results (error code and address), never as traps.

import { core, count, C_TLB_HITS, C_TLB_MISSES, C_PAGE_FAULTS } from "../sim/core";
import { cpuState, CpuState } from "../sim/cpu";
import { platform } from "../platform/platform";
import { physToLinear } from "./ram";
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
  for (let level: i32 = 3; level >= 0; level--) {
    const index = (va >> (12 + 9 * <u64>level)) & 511;
    entryAddr = physToLinear(table + index * 8, 8);
    // A table outside RAM reads as all ones: present with reserved bits set.
    if (entryAddr == 0) return fault(s, va, PF_PRESENT | PF_RESERVED, access);
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
