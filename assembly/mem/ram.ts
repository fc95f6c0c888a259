// Guest RAM: which guest-physical ranges are RAM (the region table), and where each
// 4 KiB page lives in linear memory (the RAM directory). RAM is backed sparsely: a page
// gets a page of the backing pool (mem/pool.ts) when it is first written; until then it
// reads from the shared zero page and costs nothing. Every physical access goes through
// the directory, so an address outside RAM never reaches linear memory.
//
//   RamRegion (RAM_REGION_SIZE = 32 bytes), table at RAM_TABLE_BASE
//   +0  base    u64   guest-physical base
//   +8  size    u64   bytes (multiple of 4 KiB)
//
//   Directory: RAM_DIR_LAST + 1 u32 entries at RAM_DIRECTORY_BASE, one per 4 MiB of
//   guest-physical space up to RAM_PHYS_LIMIT; every address from there up uses the last,
//   which never holds RAM. An entry holds the address of the span's leaf table less
//   RAM_ZERO_PAGE, so a fresh (zero) entry is the zero page read as a leaf table: all
//   "not RAM". Other leaves: RAM_ZERO_LEAF (all RAM, nothing written) or a table of its
//   own. Only the entries over RAM are ever written.
//   Leaf table: RAM_LEAF_BYTES, one u32 per 4 KiB page. Entry: 0 (not RAM),
//   RAM_ZERO_PAGE (RAM never written), or the linear address of the page's backing.
//
// Lookups are two loads without a branch and never allocate; the page pointers they
// return are valid up to the end of that page only (callers split at 4 KiB boundaries).
// Anything that stores into RAM goes through a write (ramStore, ramCopyIn, ramFill,
// ramStoreSpan), which backs the page first; the one exception, the MMU's
// Accessed and Dirty updates, stores only into an entry it read as present, which a zero
// page never holds. Backing is never taken back, so a page's address never changes.

import {
  RAM_TABLE_BASE, RAM_PAGE_BYTES, RAM_PAGE_SHIFT, RAM_LEAF_PAGES_SHIFT, RAM_LEAF_SPAN_SHIFT, RAM_LEAF_BYTES,
  RAM_PHYS_LIMIT, RAM_ZERO_PAGE, RAM_ZERO_LEAF, RAM_DIRECTORY_BASE, RAM_DIR_LAST,
} from "../memmap";
import { core, count, raiseFault, C_RAM_PAGES_BACKED, FAULT_RAM_BACKING_FULL } from "../sim/core";
import { MAX_RAM_REGIONS } from "../platform/config";
import { poolAlloc } from "./pool";

@unmanaged
export class RamRegion {
  base: u64;
  size: u64;
}

/** Bytes of one RamRegion record. */
export const RAM_REGION_SIZE: u32 = 32;

const PAGE_MASK: u64 = <u64>RAM_PAGE_BYTES - 1;
const LEAF_INDEX_MASK: u32 = (1 << RAM_LEAF_PAGES_SHIFT) - 1;
const LEAF_SPAN: u64 = <u64>1 << RAM_LEAF_SPAN_SHIFT;

// @ts-ignore: decorator
@inline function region(i: u32): RamRegion {
  return changetype<RamRegion>(RAM_TABLE_BASE + i * RAM_REGION_SIZE);
}

/** Number of RAM regions. */
export function ramRegionCount(): u32 {
  return core.ramRegionCount;
}

/** Guest-physical base of region i, bytes. */
export function ramRegionBase(i: u32): u64 { return region(i).base; }
/** Size in bytes of region i. */
export function ramRegionSize(i: u32): u64 { return region(i).size; }

/** Error: too many regions, a region is not 4 KiB aligned, or they overlap. */
export const RAM_ERROR_LAYOUT: u32 = 1;
/** Error: a region reaches past RAM_PHYS_LIMIT, or linear memory cannot hold its leaf tables. */
export const RAM_ERROR_TOO_LARGE: u32 = 2;

/** Clears the table and the directory entries ramMap wrote (every address is then not RAM); refills the zero leaf. */
export function ramReset(): void {
  memory.fill(RAM_DIRECTORY_BASE, 0, <usize>core.ramDirUsed << 2);
  core.ramDirUsed = 0;
  core.ramRegionCount = 0;
  for (let i: u32 = 0; i < (1 << RAM_LEAF_PAGES_SHIFT); i++) store<u32>(RAM_ZERO_LEAF + (i << 2), RAM_ZERO_PAGE);
}

/** Adds region [base, base + size) (bytes). Returns 0 or RAM_ERROR_*. Call ramMap after the last. */
export function ramAddRegion(base: u64, size: u64): u32 {
  const n = ramRegionCount();
  if (n >= MAX_RAM_REGIONS || size == 0 || (base & PAGE_MASK) != 0 || (size & PAGE_MASK) != 0) return RAM_ERROR_LAYOUT;
  if (<f64>base + <f64>size > RAM_PHYS_LIMIT) return RAM_ERROR_TOO_LARGE;
  for (let i: u32 = 0; i < n; i++) {
    const r = region(i);
    if (base < r.base + r.size && r.base < base + size) return RAM_ERROR_LAYOUT;
  }
  const r = region(n);
  r.base = base;
  r.size = size;
  core.ramRegionCount = n + 1;
  return 0;
}

/** True if guest-physical [gpa, gpa + len) lies in one region (len >= 1 bytes). */
export function ramCovers(gpa: u64, len: u64): bool {
  for (let i: u32 = 0; i < ramRegionCount(); i++) {
    const r = region(i);
    const off = gpa - r.base;
    if (gpa >= r.base && off < r.size && len <= r.size - off) return true;
  }
  return false;
}

/** True if any region overlaps guest-physical [gpa, gpa + len). */
function ramOverlaps(gpa: u64, len: u64): bool {
  for (let i: u32 = 0; i < ramRegionCount(); i++) {
    const r = region(i);
    if (gpa < r.base + r.size && r.base < gpa + len) return true;
  }
  return false;
}

/** True if the 4 KiB page at guest-physical `page` (aligned) is RAM. */
function pageIsRam(page: u64): bool {
  return ramCovers(page, RAM_PAGE_BYTES);
}

/**
 * Fills the directory for the regions added: a 4 MiB span that is all RAM points at the
 * zero leaf, one that is partly RAM gets its own leaf from the backing pool at once, one
 * without RAM keeps its zero entry. Returns 0 or RAM_ERROR_TOO_LARGE.
 */
export function ramMap(): u32 {
  let end: u64 = 0;
  for (let i: u32 = 0; i < ramRegionCount(); i++) {
    const r = region(i);
    if (r.base + r.size > end) end = r.base + r.size;
  }
  const used = <u32>((end + LEAF_SPAN - 1) >> RAM_LEAF_SPAN_SHIFT);
  core.ramDirUsed = used;
  for (let g: u32 = 0; g < used; g++) {
    const span = <u64>g << RAM_LEAF_SPAN_SHIFT;
    let leaf: u32 = RAM_ZERO_PAGE;
    if (ramCovers(span, LEAF_SPAN)) leaf = RAM_ZERO_LEAF;
    else if (ramOverlaps(span, LEAF_SPAN)) {
      const fresh = poolAlloc(RAM_LEAF_BYTES);
      if (fresh == 0) return RAM_ERROR_TOO_LARGE;
      memory.fill(fresh, 0, RAM_LEAF_BYTES);
      for (let p: u32 = 0; p <= LEAF_INDEX_MASK; p++) {
        if (pageIsRam(span + (<u64>p << RAM_PAGE_SHIFT))) store<u32>(fresh + (p << 2), RAM_ZERO_PAGE);
      }
      leaf = <u32>fresh;
    }
    store<u32>(RAM_DIRECTORY_BASE + (g << 2), leaf - RAM_ZERO_PAGE);
  }
  return 0;
}

/** Address of the directory entry of the 4 MiB span holding guest-physical `gpa` (the last one from RAM_PHYS_LIMIT up). */
// @ts-ignore: decorator
@inline function dirSlot(gpa: u64): usize {
  const g = gpa >> RAM_LEAF_SPAN_SHIFT;
  return RAM_DIRECTORY_BASE + (<usize>(g < <u64>RAM_DIR_LAST ? g : <u64>RAM_DIR_LAST) << 2);
}

/** The leaf table a directory entry at `slot` stands for. */
// @ts-ignore: decorator
@inline function leafAt(slot: usize): u32 {
  return load<u32>(slot) + RAM_ZERO_PAGE;
}

/**
 * The leaf entry of guest-physical `gpa`: 0 (not RAM), RAM_ZERO_PAGE (RAM never written),
 * or the linear address of its page's backing.
 */
// @ts-ignore: decorator
@inline export function ramPageEntry(gpa: u64): u32 {
  const leaf = leafAt(dirSlot(gpa));
  return load<u32>(<usize>leaf + ((<usize>(gpa >> RAM_PAGE_SHIFT) & LEAF_INDEX_MASK) << 2));
}

/**
 * Linear address of the byte at guest-physical `gpa` for reading (valid to the end of its
 * 4 KiB page), or 0 when no RAM is there. Never allocates: unwritten RAM reads zeros.
 */
// @ts-ignore: decorator
@inline export function ramReadAt(gpa: u64): usize {
  const page = ramPageEntry(gpa);
  return page == 0 ? 0 : <usize>page + <usize>(gpa & PAGE_MASK);
}

/**
 * Gives the page holding guest-physical `gpa` its backing (the slow path of every
 * write). Returns the page's linear address (the existing one if it has backing), or 0
 * when `gpa` is not RAM or linear memory is full (then FAULT_RAM_BACKING_FULL).
 */
function backPage(gpa: u64): u32 {
  const at = dirSlot(gpa);
  let leaf = leafAt(at);
  const slot = <usize>leaf + ((<usize>(gpa >> RAM_PAGE_SHIFT) & LEAF_INDEX_MASK) << 2);
  const page = load<u32>(slot);
  if (page != RAM_ZERO_PAGE) return page;
  if (leaf == RAM_ZERO_LEAF) {
    const fresh = poolAlloc(RAM_LEAF_BYTES);
    if (fresh == 0) { raiseFault(FAULT_RAM_BACKING_FULL); return 0; }
    memory.copy(fresh, RAM_ZERO_LEAF, RAM_LEAF_BYTES);
    store<u32>(at, <u32>fresh - RAM_ZERO_PAGE);
    leaf = <u32>fresh;
  }
  const leafSlot = <usize>leaf + ((<usize>(gpa >> RAM_PAGE_SHIFT) & LEAF_INDEX_MASK) << 2);
  const fresh = poolAlloc(RAM_PAGE_BYTES);
  if (fresh == 0) { raiseFault(FAULT_RAM_BACKING_FULL); return 0; }
  memory.fill(fresh, 0, RAM_PAGE_BYTES);
  store<u32>(leafSlot, <u32>fresh);
  count(C_RAM_PAGES_BACKED);
  return <u32>fresh;
}

/**
 * Stores the low `size` (1, 2, 4, 8) bytes of `value` at guest-physical `gpa` (within one
 * page). False when no RAM is there. Zero into a page nothing wrote leaves it unbacked.
 */
// @ts-ignore: decorator
@inline export function ramStore(gpa: u64, size: u32, value: u64): bool {
  let page = ramPageEntry(gpa);
  if (page <= RAM_ZERO_PAGE) {
    if (page == 0) return false;
    if (value == 0) return true;
    page = backPage(gpa);
    if (page == 0) return false;
  }
  const p = <usize>page + <usize>(gpa & PAGE_MASK);
  if (size == 1) store<u8>(p, <u8>value);
  else if (size == 2) store<u16>(p, <u16>value);
  else if (size == 4) store<u32>(p, <u32>value);
  else store<u64>(p, value);
  return true;
}

/** True if the `n` bytes at linear `p` are all zero. */
function allZero(p: usize, n: u32): bool {
  let i: u32 = 0;
  for (; i + 8 <= n; i += 8) if (load<u64>(p + i) != 0) return false;
  for (; i < n; i++) if (load<u8>(p + i) != 0) return false;
  return true;
}

/**
 * Copies `n` bytes from linear `src` to guest-physical `gpa` (within one page). False when
 * no RAM is there. Zeros into a page nothing wrote leave it unbacked.
 */
export function ramCopyIn(gpa: u64, src: usize, n: u32): bool {
  return ramCopyInEntry(gpa, ramPageEntry(gpa), src, n);
}

/** ramCopyIn with the leaf entry of `gpa` (ramPageEntry) already looked up. */
export function ramCopyInEntry(gpa: u64, entry: u32, src: usize, n: u32): bool {
  let page = entry;
  if (page <= RAM_ZERO_PAGE) {
    if (page == 0) return false;
    if (allZero(src, n)) return true;
    page = backPage(gpa);
    if (page == 0) return false;
  }
  memory.copy(<usize>page + <usize>(gpa & PAGE_MASK), src, n);
  return true;
}

/** Fills `n` bytes at guest-physical `gpa` (within one page) with `byte`. False when no RAM is there. */
export function ramFill(gpa: u64, byte: u8, n: u32): bool {
  return ramFillEntry(gpa, ramPageEntry(gpa), byte, n);
}

/** ramFill with the leaf entry of `gpa` (ramPageEntry) already looked up. */
export function ramFillEntry(gpa: u64, entry: u32, byte: u8, n: u32): bool {
  let page = entry;
  if (page <= RAM_ZERO_PAGE) {
    if (page == 0) return false;
    if (byte == 0) return true;
    page = backPage(gpa);
    if (page == 0) return false;
  }
  memory.fill(<usize>page + <usize>(gpa & PAGE_MASK), byte, n);
  return true;
}

/** True if every page of guest-physical [gpa, gpa + len) is RAM (len >= 1 bytes). */
export function ramSpanIsRam(gpa: u64, len: u64): bool {
  const last = (gpa + len - 1) & ~PAGE_MASK;
  for (let page = gpa & ~PAGE_MASK; page <= last; page += RAM_PAGE_BYTES) {
    if (ramPageEntry(page) == 0) return false;
  }
  return true;
}

/**
 * Reads `size` (1, 2, 4, 8) bytes at guest-physical `gpa`, which may cross a page; all
 * ones of that size when any byte is not RAM.
 */
export function ramLoadSpan(gpa: u64, size: u32): u64 {
  const ones: u64 = size == 8 ? 0xFFFFFFFFFFFFFFFF : (<u64>1 << (<u64>size << 3)) - 1;
  if ((gpa & PAGE_MASK) + size <= <u64>RAM_PAGE_BYTES) {
    const p = ramReadAt(gpa);
    if (p == 0) return ones;
    if (size == 1) return load<u8>(p);
    if (size == 2) return load<u16>(p);
    if (size == 4) return load<u32>(p);
    return load<u64>(p);
  }
  if (!ramSpanIsRam(gpa, size)) return ones;
  let v: u64 = 0;
  for (let i: u32 = 0; i < size; i++) v |= <u64>load<u8>(ramReadAt(gpa + i)) << (<u64>i << 3);
  return v;
}

/**
 * Stores `size` (1, 2, 4, 8) bytes of `value` at guest-physical `gpa`, which may cross a
 * page; nothing is written, and false returned, when any byte is not RAM.
 */
export function ramStoreSpan(gpa: u64, size: u32, value: u64): bool {
  if ((gpa & PAGE_MASK) + size <= <u64>RAM_PAGE_BYTES) return ramStore(gpa, size, value);
  if (!ramSpanIsRam(gpa, size)) return false;
  for (let i: u32 = 0; i < size; i++) {
    if (!ramStore(gpa + i, 1, (value >> (<u64>i << 3)) & 0xFF)) return false;
  }
  return true;
}
