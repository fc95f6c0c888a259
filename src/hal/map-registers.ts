/**
 * Map registers: how the HAL makes a buffer's pages reachable by a device. A transfer is
 * cut into page pieces from its MDL chain (the physical pages behind CurrentVa..+Length),
 * and each piece gets a logical address the device uses:
 *  - with DMA remapping (an IOMMU), a page of IOVA space mapped to the piece's page, read-
 *    only when the device reads memory (WriteToDevice) and write-only when it writes;
 *  - without, the physical address itself when the device can reach it;
 *  - otherwise a bounce page (a map register's buffer, contiguous low memory the adapter
 *    owns): the HAL copies the data in before a write to the device and out after a read
 *    from it, charging the copy to the CPU.
 * Map registers are reserved per transfer (a scatter/gather list or an adapter channel),
 * one per page it spans, in a contiguous run so that consecutive pages stay logically
 * contiguous.
 */
import type { Kernel } from "../ke/kernel.js";
import { MDL, MDL_PAGES_LOCKED, MDL_PARTIAL, MDL_SOURCE_IS_NONPAGED_POOL, MDL_IO_SPACE, MmGetMdlVirtualAddress, mdlAddress } from "../mm/mdl.js";
import { MM } from "../mm/manager.js";
import { PAGE_SIZE } from "../mm/pfn.js";
import type { HalIommu, IommuDomain } from "./iommu.js";
import { IOMMU_READ, IOMMU_WRITE } from "./iommu.js";
import {
  DMA_ADDRESS_OUTSIDE_MDL, DMA_BUFFER_NOT_LOCKED, DMA_INSUFFICIENT_BUFFER, DMA_ZERO_LENGTH, dmaViolation, verify,
} from "./dma-verifier.js";

/** The bounce pages of an adapter whose device cannot reach all of memory. */
export class BouncePages {
  /** Physical address of the first page (the pages are contiguous). */
  readonly base: number;
  private readonly used: boolean[];

  /** Takes `count` contiguous pages at or below `highest`; throws if memory has none. */
  constructor(k: Kernel, readonly count: number, highest: number) {
    const first = MM(k).pfn.allocateContiguous(count, 0, highest);
    if (first < 0) throw new Error(`no ${count} contiguous pages below 0x${(highest + 1).toString(16)} for map registers`);
    this.base = first * PAGE_SIZE;
    this.used = new Array<boolean>(count).fill(false);
  }

  /** Reserves `n` consecutive registers; the first index, or -1 if no run is free. */
  take(n: number): number {
    for (let start = 0; start + n <= this.count; start++) {
      let run = 0;
      while (run < n && !this.used[start + run]) run++;
      if (run === n) {
        for (let i = 0; i < n; i++) this.used[start + i] = true;
        return start;
      }
      start += run;
    }
    return -1;
  }

  /** Releases registers [start, start + n). */
  give(start: number, n: number): void {
    for (let i = 0; i < n; i++) this.used[start + i] = false;
  }

  /** Returns the pages to the PFN database. */
  free(k: Kernel): void {
    for (let i = 0; i < this.count; i++) MM(k).pfn.freePage(this.base / PAGE_SIZE + i);
  }
}

/** What a transfer's mapping needs from its adapter. */
export interface MappingTarget {
  /** Highest logical address the device drives. */
  readonly maximumAddress: number;
  readonly bounce: BouncePages | null;
  readonly iommu: HalIommu | null;
  readonly domain: IommuDomain | null;
}

/**
 * The page pieces of a transfer, each within one page: entry i (below `count`) is
 * `length[i]` bytes at virtual address `va[i]`, physical address `pa[i]`. The arrays are
 * kept and refilled for the next transfer, so a warm list allocates nothing.
 */
export class PagePieces {
  readonly va: number[] = [];
  readonly pa: number[] = [];
  /** Bytes. */
  readonly length: number[] = [];
  count = 0;

  /** Appends a piece. */
  push(va: number, pa: number, length: number): void {
    const i = this.count++;
    this.va[i] = va;
    this.pa[i] = pa;
    this.length[i] = length;
  }
}

/**
 * Map registers reserved for one transfer and the pieces mapped through them: piece i
 * (below `count`) is `length[i]` bytes at `va[i]` / `pa[i]`, at logical address
 * `logical[i]` for the device, through the bounce page at `bounce[i]` (or -1). The
 * arrays are reused from one transfer to the next.
 */
export class TransferMapping {
  readonly va: number[] = [];
  readonly pa: number[] = [];
  /** Bytes. */
  readonly length: number[] = [];
  readonly logical: number[] = [];
  readonly bounce: number[] = [];
  /** Pieces mapped and not yet flushed. */
  count = 0;
  /** Registers reserved (pages), and the next one to use. */
  registers = 0;
  next = 0;
  /** First bounce register, or the first IOVA, of the reservation. */
  start = 0;

  constructor(readonly target: MappingTarget) {}

  /** Reserves `pages` map registers; false when the adapter has not that many free now. */
  reserve(pages: number): boolean {
    const t = this.target;
    if (t.domain) {
      const iova = t.domain.iova.allocate(pages * PAGE_SIZE);
      if (iova < 0 || iova + pages * PAGE_SIZE - 1 > t.maximumAddress) {
        if (iova >= 0) t.domain.iova.release(iova, pages * PAGE_SIZE);
        return false;
      }
      this.start = iova;
    } else if (t.bounce) {
      const first = t.bounce.take(pages);
      if (first < 0) return false;
      this.start = first;
    }
    this.registers = pages;
    this.next = 0;
    return true;
  }

  /** Releases the reservation (every piece must have been flushed). */
  release(): void {
    const t = this.target;
    if (this.registers === 0) return;
    if (t.domain) t.domain.iova.release(this.start, this.registers * PAGE_SIZE);
    else if (t.bounce) t.bounce.give(this.start, this.registers);
    this.registers = 0;
    this.next = 0;
  }

  /**
   * Maps `pieces` for the device, in order; returns how many it mapped. It stops when the
   * reserved registers run out, and with `contiguous` before the first piece that would
   * not continue the logical range (packet DMA maps one contiguous range per call). Data
   * for the device is copied into bounce pages now.
   */
  map(k: Kernel, pieces: PagePieces, writeToDevice: boolean, contiguous = false): number {
    const t = this.target;
    const remapped = t.domain !== null && t.iommu !== null;
    let n = 0;
    let end = -1;
    for (let i = 0; i < pieces.count; i++) {
      const pa = pieces.pa[i];
      const length = pieces.length[i];
      const offset = pa % PAGE_SIZE;
      const direct = !remapped && (pa + length - 1 <= t.maximumAddress || !t.bounce);
      if (!direct && this.next >= this.registers) break;
      const logical = remapped ? this.start + this.next * PAGE_SIZE + offset
        : direct ? pa
        : t.bounce!.base + (this.start + this.next) * PAGE_SIZE + offset;
      if (contiguous && n > 0 && logical !== end) break;
      k.chargePs(k.cost.DmaMapPage);
      let bounce = -1;
      if (remapped) {
        t.iommu!.map(t.domain!, logical - offset, pa, writeToDevice ? IOMMU_READ : IOMMU_WRITE);
        this.next++;
      } else if (!direct) {
        bounce = logical;
        if (writeToDevice) copyPhysical(k, pa, bounce, length);
        this.next++;
      }
      const j = this.count++;
      this.va[j] = pieces.va[i];
      this.pa[j] = pa;
      this.length[j] = length;
      this.logical[j] = logical;
      this.bounce[j] = bounce;
      end = logical + length;
      n++;
    }
    return n;
  }

  /**
   * Finishes the mapped pieces that overlap [va, va + length) (all of them when `va` is
   * undefined): copies bounce pages back after a read from the device, unmaps IOVA pages.
   * Returns how many it finished.
   */
  flush(k: Kernel, writeToDevice: boolean, va?: number, length = 0): number {
    const t = this.target;
    const remapped = t.domain !== null && t.iommu !== null;
    let kept = 0;
    for (let i = 0; i < this.count; i++) {
      const pva = this.va[i];
      const plength = this.length[i];
      if (va !== undefined && (pva + plength <= va || pva >= va + length)) {
        if (kept !== i) {
          this.va[kept] = pva;
          this.pa[kept] = this.pa[i];
          this.length[kept] = plength;
          this.logical[kept] = this.logical[i];
          this.bounce[kept] = this.bounce[i];
        }
        kept++;
        continue;
      }
      if (this.bounce[i] >= 0 && !writeToDevice) copyPhysical(k, this.bounce[i], this.pa[i], plength);
      if (remapped) t.iommu!.clear(t.domain!, this.logical[i] - (this.logical[i] % PAGE_SIZE));
    }
    const finished = this.count - kept;
    if (finished > 0 && remapped) t.iommu!.invalidate();
    this.count = kept;
    if (kept === 0) this.next = 0;
    return finished;
  }
}

/** Copies `length` physical bytes, charging the copy to the executing processor. */
function copyPhysical(k: Kernel, from: number, to: number, length: number): void {
  k.x.physBlock(from, 0, length, 1);
  k.x.physBlock(to, 0, length, 0);
  k.chargePs(k.cost.CopyPer64Bytes * Math.ceil(length / 64));
}

/**
 * True when an MDL's page frame numbers may be used for DMA: locked, nonpaged or I/O space,
 * or a partial MDL (IoBuildPartialMdl), whose pages are its locked source's.
 */
function usableForDma(m: MDL): boolean {
  return (m.MdlFlags & (MDL_PAGES_LOCKED | MDL_SOURCE_IS_NONPAGED_POOL | MDL_IO_SPACE | MDL_PARTIAL)) !== 0;
}

/**
 * The page pieces of `length` bytes from `currentVa`, which must lie in the first MDL; a
 * transfer longer than the rest of that MDL continues at the start of the next MDL of the
 * chain. Misuse is 0xE6: an address outside the MDL (0x1B), an MDL whose pages are not
 * locked (0x0E), a chain too short (0x24), and under the verifier a zero length (0x21).
 * The pieces go into `pieces` (emptied first), which is returned.
 */
export function pagePieces(k: Kernel, mdl: MDL, currentVa: number, length: number, pieces: PagePieces): PagePieces {
  pieces.count = 0;
  const first = MmGetMdlVirtualAddress(mdl);
  if (currentVa < first || currentVa > first + mdl.ByteCount || (length > 0 && currentVa === first + mdl.ByteCount)) {
    dmaViolation(k, DMA_ADDRESS_OUTSIDE_MDL, currentVa, mdlAddress(k, mdl), 0);
  }
  verify(k, length > 0, DMA_ZERO_LENGTH, 0);
  let m: MDL | null = mdl;
  let va = currentVa;
  let left = length;
  while (left > 0 && m) {
    const end = MmGetMdlVirtualAddress(m) + m.ByteCount;
    verify(k, usableForDma(m), DMA_BUFFER_NOT_LOCKED, mdlAddress(k, m));
    while (left > 0 && va < end) {
      const index = Math.floor((va - m.StartVa) / PAGE_SIZE);
      const pfn = m.PfnArray[index];
      if (pfn === undefined) dmaViolation(k, DMA_BUFFER_NOT_LOCKED, mdlAddress(k, m), 0, 0);
      const inPage = va % PAGE_SIZE;
      const n = Math.min(left, PAGE_SIZE - inPage, end - va);
      pieces.push(va, pfn * PAGE_SIZE + inPage, n);
      va += n;
      left -= n;
    }
    m = m.Next;
    if (m) va = MmGetMdlVirtualAddress(m);
  }
  if (left > 0) dmaViolation(k, DMA_INSUFFICIENT_BUFFER, left, 0, 0);
  return pieces;
}

/** An element of a scatter/gather list: a logically contiguous range. */
export interface LogicalRun {
  /** Logical address. */
  Address: number;
  /** Bytes. */
  Length: number;
  Reserved: number;
}

/**
 * The logically contiguous runs of `m`'s mapped pieces, written into `runs` (its length set
 * to the number of runs). Element objects in `spare` (at least as long as `runs`) are
 * reused: `runs[i]` becomes `spare[i]`, made when missing.
 */
export function logicalRuns(m: TransferMapping, runs: LogicalRun[], spare: LogicalRun[]): void {
  let n = 0;
  let last: LogicalRun | null = null;
  for (let i = 0; i < m.count; i++) {
    const logical = m.logical[i];
    if (last !== null && last.Address + last.Length === logical) {
      last.Length += m.length[i];
      continue;
    }
    let e = spare[n];
    if (e === undefined) {
      e = { Address: 0, Length: 0, Reserved: 0 };
      spare[n] = e;
    }
    e.Address = logical;
    e.Length = m.length[i];
    e.Reserved = 0;
    runs[n] = e;
    last = e;
    n++;
  }
  if (runs.length !== n) runs.length = n;
}
