/**
 * User processes: a KPROCESS with its own address space (sharing the system half), a
 * handle table and a heap of user-mode pages. Programs run as threads of a process.
 */
import { KE, type Kernel } from "../ke/kernel.js";
import { KPROCESS, type KTHREAD } from "../ke/scheduler.js";
import { MM } from "../mm/manager.js";
import { PAGE_SIZE } from "../mm/pfn.js";
import { RangeAllocator } from "../mm/va-allocator.js";
import type { AddressSpace } from "../mm/address-space.js";
import type { DEVICE_OBJECT } from "./objects.js";

/** Lowest user-mode allocation address. */
export const USER_HEAP_START = 0x10000;
/** One past the highest user-mode allocation address. */
export const USER_HEAP_END = 0x7FFE0000;

/** FILE_OBJECT: an open instance of a device. */
export class FILE_OBJECT {
  readonly Type = 5;
  FsContext: unknown = null;
  FsContext2: unknown = null;
  constructor(readonly DeviceObject: DEVICE_OBJECT, readonly FileName: string) {}
}

/** A user process. */
export class EPROCESS extends KPROCESS {
  readonly handles = new Map<number, FILE_OBJECT>();
  private nextHandle = 4;
  readonly heap = new RangeAllocator(USER_HEAP_START, USER_HEAP_END, PAGE_SIZE);
  /** Win32 last-error value per thread. */
  readonly lastError = new Map<KTHREAD, number>();
  /** Committed user buffers free for reuse by the API's staging, by size in pages. */
  readonly spareBuffers = new Map<number, number[]>();

  constructor(name: string, readonly space: AddressSpace, id: number) {
    super(name, space.cr3, id);
  }

  /** Adds a handle for `file`. */
  insertHandle(file: FILE_OBJECT): number {
    const h = this.nextHandle;
    this.nextHandle += 4;
    this.handles.set(h, file);
    return h;
  }
}

/** Creates a user process. */
export function createProcess(name: string, k: Kernel = KE()): EPROCESS {
  return new EPROCESS(name, MM(k).createAddressSpace(), k.newId());
}

/** Commits `bytes` of zeroed user memory in `process`; returns its address or 0. */
export function allocateUserMemory(process: EPROCESS, bytes: number, k: Kernel = KE()): number {
  const mm = MM(k);
  const size = Math.ceil(Math.max(bytes, 1) / PAGE_SIZE) * PAGE_SIZE;
  const va = process.heap.allocate(size);
  if (va < 0) return 0;
  for (let off = 0; off < size; off += PAGE_SIZE) {
    const frame = mm.pfn.allocatePage();
    if (frame < 0) return 0;
    k.x.physFill(frame * PAGE_SIZE, PAGE_SIZE, 0);
    process.space.map(va + off, frame * PAGE_SIZE, { writable: true, user: true, noExecute: true });
  }
  return va;
}

/** Frees user memory from allocateUserMemory. */
export function freeUserMemory(process: EPROCESS, va: number, bytes: number, k: Kernel = KE()): void {
  const mm = MM(k);
  const size = Math.ceil(Math.max(bytes, 1) / PAGE_SIZE) * PAGE_SIZE;
  for (let off = 0; off < size; off += PAGE_SIZE) {
    const pa = process.space.unmap(va + off);
    if (pa >= 0) mm.pfn.freePage(pa / PAGE_SIZE);
  }
  process.heap.release(va, size);
}

/**
 * A committed user buffer of at least `bytes` for the API to stage a caller's bytes in,
 * reusing one an earlier call gave back (contents are overwritten by the caller).
 */
export function borrowUserBuffer(process: EPROCESS, bytes: number, k: Kernel = KE()): number {
  const pages = Math.ceil(Math.max(bytes, 1) / PAGE_SIZE);
  const spare = process.spareBuffers.get(pages)?.pop();
  return spare ?? allocateUserMemory(process, pages * PAGE_SIZE, k);
}

/** Gives a staging buffer back for reuse. */
export function returnUserBuffer(process: EPROCESS, va: number, bytes: number): void {
  const pages = Math.ceil(Math.max(bytes, 1) / PAGE_SIZE);
  let list = process.spareBuffers.get(pages);
  if (!list) process.spareBuffers.set(pages, (list = []));
  list.push(va);
}
