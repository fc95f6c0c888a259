// CPU memory accesses at virtual addresses: translate through the MMU, then RAM or the
// bus. Results go to the CPU's record (status, fault, high half of 8-byte reads); block
// operations stop at the first fault and return the bytes done.

import { SCRATCH_BASE, SCRATCH_SIZE } from "../memmap";
import { cpuState, CpuState, ACCESS_OK, ACCESS_PAGE_FAULT, ACCESS_MASTER_ABORT, ACCESS_BAD_SIZE, ACCESS_TOO_LARGE } from "../sim/cpu";
import { busCpuRead, busCpuWrite } from "../pci/bus";
import { ramReadAt, ramStore, ramPageEntry, ramCopyInEntry, ramFillEntry } from "./ram";
import { translate, TRANSLATE_FAULT } from "./mmu";
import { ACCESS_WRITE } from "./paging";

// @ts-ignore: decorator
@inline function sizeOk(size: u32): bool {
  return size == 1 || size == 2 || size == 4 || size == 8;
}

function loadSized(p: usize, size: u32): u64 {
  if (size == 1) return load<u8>(p);
  if (size == 2) return load<u16>(p);
  if (size == 4) return load<u32>(p);
  return load<u64>(p);
}

/** Reads `size` bytes at `va` (within one page) as CPU `cpu`; RAM or the bus. */
function readInPage(cpu: u32, s: CpuState, va: u64, size: u32, access: u32): u64 {
  const pa = translate(cpu, va, access);
  if (pa == TRANSLATE_FAULT) { s.status = ACCESS_PAGE_FAULT; return 0; }
  s.physAddr = <f64>pa;
  const p = ramReadAt(pa);
  if (p != 0) { s.status = ACCESS_OK; return loadSized(p, size); }
  return busCpuRead(s, pa, size);
}

/**
 * CPU `cpu` reads `size` (1, 2, 4, 8) bytes at virtual address `va` with ACCESS_* flags
 * `access`. Status in the CPU record; an access that crosses a page is done byte by byte.
 */
export function cpuRead(cpu: u32, va: u64, size: u32, access: u32): u64 {
  const s = cpuState(cpu);
  if (!sizeOk(size)) { s.status = ACCESS_BAD_SIZE; return 0; }
  if ((va & 0xFFF) + size <= 4096) return readInPage(cpu, s, va, size, access);
  let v: u64 = 0;
  for (let i: u32 = 0; i < size; i++) {
    const b = readInPage(cpu, s, va + i, 1, access);
    if (s.status == ACCESS_PAGE_FAULT) return 0;
    v |= (b & 0xFF) << (<u64>i << 3);
  }
  return v;
}

function writeInPage(cpu: u32, s: CpuState, va: u64, size: u32, value: u64, access: u32): void {
  const pa = translate(cpu, va, access | ACCESS_WRITE);
  if (pa == TRANSLATE_FAULT) { s.status = ACCESS_PAGE_FAULT; return; }
  s.physAddr = <f64>pa;
  if (ramStore(pa, size, value)) { s.status = ACCESS_OK; return; }
  busCpuWrite(s, pa, size, value);
}

/** CPU `cpu` writes `size` bytes of `value` at virtual address `va`. Status in the CPU record. */
export function cpuWrite(cpu: u32, va: u64, size: u32, value: u64, access: u32): void {
  const s = cpuState(cpu);
  if (!sizeOk(size)) { s.status = ACCESS_BAD_SIZE; return; }
  if ((va & 0xFFF) + size <= 4096) { writeInPage(cpu, s, va, size, value, access); return; }
  for (let i: u32 = 0; i < size; i++) {
    writeInPage(cpu, s, va + i, 1, value >> (<u64>i << 3), access);
    if (s.status == ACCESS_PAGE_FAULT) return;
  }
}

/** The RAM directory's leaf entry of the page ramAt translated last (see ramPageEntry). */
let atEntry: u32 = 0;

/**
 * Guest-physical address of `va` for a RAM block access within one page, its leaf entry
 * in atEntry; or NOT_RAM with the status set.
 */
function ramAt(cpu: u32, s: CpuState, va: u64, access: u32): u64 {
  const pa = translate(cpu, va, access);
  if (pa == TRANSLATE_FAULT) { s.status = ACCESS_PAGE_FAULT; return NOT_RAM; }
  atEntry = ramPageEntry(pa);
  if (atEntry == 0) { s.status = ACCESS_MASTER_ABORT; return NOT_RAM; }
  return pa;
}

/** ramAt's answer when the access cannot go on. */
const NOT_RAM: u64 = 0xFFFFFFFFFFFFFFFF;

/** Linear address of guest-physical `pa` for reading, from its leaf entry `entry` (backed or the zero page). */
// @ts-ignore: decorator
@inline function readPointer(entry: u32, pa: u64): usize {
  return <usize>entry + <usize>(pa & 0xFFF);
}

// @ts-ignore: decorator
@inline function inPage(va: u64, remaining: u64): u32 {
  const room = 4096 - (va & 0xFFF);
  return <u32>(remaining < room ? remaining : room);
}

/** Block operation selector for cpuBlock. */
export const BLOCK_COPY: u32 = 0;
/** Fill: `src` is the byte value. */
export const BLOCK_FILL: u32 = 1;
/** Compare: returns the length of the equal prefix. */
export const BLOCK_COMPARE: u32 = 2;
/** Read into the scratch buffer (src = scratch offset). */
export const BLOCK_TO_SCRATCH: u32 = 3;
/** Write from the scratch buffer (src = scratch offset). */
export const BLOCK_FROM_SCRATCH: u32 = 4;

/**
 * Block operation `op` over `length` bytes at virtual `dst` (and virtual `src` for copy
 * and compare), page by page, RAM only. Returns the bytes done; status in the CPU record.
 */
export function cpuBlock(cpu: u32, op: u32, dst: u64, src: u64, length: u64, access: u32): u64 {
  const s = cpuState(cpu);
  s.status = ACCESS_OK;
  if ((op == BLOCK_TO_SCRATCH || op == BLOCK_FROM_SCRATCH) && src + length > <u64>SCRATCH_SIZE) {
    s.status = ACCESS_TOO_LARGE;
    return 0;
  }
  const dstAccess = op == BLOCK_COPY || op == BLOCK_FILL || op == BLOCK_FROM_SCRATCH ? access | ACCESS_WRITE : access;
  let done: u64 = 0;
  while (done < length) {
    let n = inPage(dst + done, length - done);
    if (op == BLOCK_COPY || op == BLOCK_COMPARE) n = min(n, inPage(src + done, length - done));
    const d = ramAt(cpu, s, dst + done, dstAccess);
    if (d == NOT_RAM) return done;
    const dEntry = atEntry;
    let ok = true;
    if (op == BLOCK_COPY || op == BLOCK_COMPARE) {
      const ps = ramAt(cpu, s, src + done, access);
      if (ps == NOT_RAM) return done;
      const p = readPointer(atEntry, ps);
      if (op == BLOCK_COPY) ok = ramCopyInEntry(d, dEntry, p, n);
      else {
        const q = readPointer(dEntry, d);
        for (let i: u32 = 0; i < n; i++) {
          if (load<u8>(q + i) != load<u8>(p + i)) return done + i;
        }
      }
    } else if (op == BLOCK_FILL) ok = ramFillEntry(d, dEntry, <u8>src, n);
    else if (op == BLOCK_TO_SCRATCH) memory.copy(SCRATCH_BASE + <usize>(src + done), readPointer(dEntry, d), n);
    else ok = ramCopyInEntry(d, dEntry, SCRATCH_BASE + <usize>(src + done), n);
    // Not ok only when linear memory cannot back the page (a core fault is raised).
    if (!ok) { s.status = ACCESS_MASTER_ABORT; return done; }
    done += n;
  }
  return done;
}
