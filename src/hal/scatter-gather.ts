/**
 * Scatter/gather DMA: GetScatterGatherList maps a buffer (an MDL chain from CurrentVa for
 * Length bytes) for the device and calls the driver's execution routine at
 * DISPATCH_LEVEL with the list of logical ranges; PutScatterGatherList finishes the
 * transfer (bounce pages copied back after a read from the device, IOVA pages unmapped)
 * and frees the map registers, which starts any request that was waiting for them.
 * BuildScatterGatherList does the same in a buffer the caller supplies, sized with
 * CalculateScatterGatherList, and also writes the list there in its x64 layout.
 */
import { lowResourceFailure } from "../verifier/low-resources.js";
import { KE, type Kernel } from "../ke/kernel.js";
import { DISPATCH_LEVEL } from "../ke/irql.js";
import { raiseTo, lowerTo } from "../ke/level.js";
import { STATUS_BUFFER_TOO_SMALL, STATUS_INSUFFICIENT_RESOURCES, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import type { MDL } from "../mm/mdl.js";
import { ADDRESS_AND_SIZE_TO_SPAN_PAGES } from "../mm/mdl.js";
import { writeU32, writeU64, type PVOID } from "../mm/memory.js";
import { liveAdapter, type DMA_ADAPTER, type DmaDeviceObject, type DmaWaiter } from "./dma.js";
import { PagePieces, TransferMapping, logicalRuns, pagePieces } from "./map-registers.js";
import { DMA_FREED_TOO_MANY_SCATTER_GATHER_LISTS, verify, verifyIrqlAtMost, verifyIrqlIs } from "./dma-verifier.js";

/** sizeof(SCATTER_GATHER_LIST) on x64 before its elements: NumberOfElements, Reserved. */
export const SCATTER_GATHER_LIST_HEADER_SIZE = 16;
/** sizeof(SCATTER_GATHER_ELEMENT) on x64: Address (8), Length (4, padded), Reserved (8). */
export const SCATTER_GATHER_ELEMENT_SIZE = 24;

/** SCATTER_GATHER_ELEMENT: one logical range the device transfers. */
export interface SCATTER_GATHER_ELEMENT {
  /** Logical address (what the device puts on the bus). */
  Address: number;
  /** Bytes. */
  Length: number;
  Reserved: number;
}

/**
 * SCATTER_GATHER_LIST. The HAL reuses a list put back (with its element objects and its
 * map register bookkeeping) for a later transfer of the same adapter, but only once
 * SG_LIST_QUARANTINE other lists of the adapter have been put back after it: until then it
 * stays as it was left, `released`, so putting it back again is still recognised.
 */
export class SCATTER_GATHER_LIST {
  NumberOfElements = 0;
  Reserved = 0;
  Elements: SCATTER_GATHER_ELEMENT[] = [];
  /** The map registers behind the list. */
  readonly mapping: TransferMapping;
  /** The caller's buffer (BuildScatterGatherList), 0 when the HAL allocated the list. */
  buffer: PVOID = 0;
  released = false;
  /** The HAL's request that builds the list (reused with it). */
  readonly request: ListRequest;
  /** Element objects kept for reuse (Elements holds the first NumberOfElements of them). */
  readonly spareElements: SCATTER_GATHER_ELEMENT[] = [];
  constructor(readonly adapter: DMA_ADAPTER) {
    this.mapping = new TransferMapping(adapter);
    this.request = new ListRequest(this);
  }
}

/** Lists put back that an adapter keeps: reused oldest first, each once SG_LIST_QUARANTINE others were put back after it. */
export const SG_LIST_QUARANTINE = 64;
/** Most lists put back that an adapter keeps (more are left to the garbage collector). */
export const SG_LIST_LIMIT = 1024;

/** DRIVER_LIST_CONTROL: the execution routine of (Get|Build)ScatterGatherList, called at DISPATCH_LEVEL. */
export type PDRIVER_LIST_CONTROL<D extends DmaDeviceObject = DmaDeviceObject> = (DeviceObject: D, Irp: D["CurrentIrp"], ScatterGather: SCATTER_GATHER_LIST, Context: unknown) => void;

/** Calls `owner`'s routine `fn(a, b, c, d)` at DISPATCH_LEVEL (raising from below if need be), as invokeRoutine does. */
export function atDispatch<A, B, C, D, R>(k: Kernel, owner: string, fn: (a: A, b: B, c: C, d: D) => R, fallback: string, a: A, b: B, c: C, d: D): R {
  const cpu = k.cpu;
  const old = cpu.irql < DISPATCH_LEVEL ? raiseTo(k, DISPATCH_LEVEL) : -1;
  try {
    return k.invokeRoutine(owner, fn, fallback, a, b, c, d);
  } finally {
    if (old >= 0) lowerTo(k, cpu, old);
  }
}

/** A scatter/gather list being built: mapped and handed to the execution routine once map registers are free. One per list, reused with it. */
class ListRequest implements DmaWaiter {
  /** The transfer's page pieces. */
  readonly pieces = new PagePieces();
  k: Kernel | null = null;
  owner = "";
  device: DmaDeviceObject | null = null;
  routine: PDRIVER_LIST_CONTROL<DmaDeviceObject> | null = null;
  context: unknown = null;
  writeToDevice = false;

  constructor(private readonly list: SCATTER_GATHER_LIST) {}

  attempt(): boolean {
    const { k, list, pieces } = this;
    const a = list.adapter;
    if (!list.mapping.reserve(pieces.count)) return false;
    list.mapping.map(k!, pieces, this.writeToDevice);
    logicalRuns(list.mapping, list.Elements, list.spareElements);
    list.NumberOfElements = list.Elements.length;
    if (list.buffer !== 0) writeList(list, list.buffer);
    a.listsAllocated++;
    const device = this.device!;
    const routine = this.routine!;
    const context = this.context;
    // The list is the driver's now: the request keeps nothing of its caller.
    this.device = null;
    this.routine = null;
    this.context = null;
    atDispatch(k!, this.owner, routine, "ExecutionRoutine", device, device.CurrentIrp, list, context);
    return true;
  }
}

/** Shared by Get- and BuildScatterGatherList: map, then call the routine now or when map registers free up. */
function startList<D extends DmaDeviceObject>(
  a: DMA_ADAPTER, DeviceObject: D, Mdl: MDL, CurrentVa: PVOID, Length: number, ExecutionRoutine: PDRIVER_LIST_CONTROL<D>,
  Context: unknown, WriteToDevice: boolean, buffer: PVOID, bufferLength: number, routine: string,
): NTSTATUS {
  const k = KE();
  liveAdapter(k, a);
  verifyIrqlAtMost(k, DISPATCH_LEVEL);
  k.chargePs(k.cost.GetScatterGatherList);
  if (lowResourceFailure(k, -1, routine)) return STATUS_INSUFFICIENT_RESOURCES;
  const list = a.freedLists.take() ?? new SCATTER_GATHER_LIST(a);
  const request = list.request;
  const pieces = pagePieces(k, Mdl, CurrentVa, Length, request.pieces);
  if (pieces.count > a.mapRegisterLimit) {
    a.freedLists.put(list);
    return STATUS_INSUFFICIENT_RESOURCES;
  }
  if (buffer !== 0 && bufferLength < SCATTER_GATHER_LIST_HEADER_SIZE + pieces.count * SCATTER_GATHER_ELEMENT_SIZE) {
    a.freedLists.put(list);
    return STATUS_BUFFER_TOO_SMALL;
  }
  list.NumberOfElements = 0;
  list.Reserved = 0;
  list.buffer = buffer;
  list.released = false;
  request.k = k;
  request.owner = k.attribution().driver;
  request.device = DeviceObject;
  request.routine = ExecutionRoutine as PDRIVER_LIST_CONTROL<DmaDeviceObject>;
  request.context = Context;
  request.writeToDevice = WriteToDevice;
  if (a.waiting.length > 0 || !request.attempt()) a.waiting.push(request);
  return STATUS_SUCCESS;
}

/** Writes the list in its x64 layout at `va`. */
function writeList(list: SCATTER_GATHER_LIST, va: PVOID): void {
  writeU32(va, list.NumberOfElements);
  writeU64(va + 8, 0);
  for (let i = 0; i < list.NumberOfElements; i++) {
    const e = list.Elements[i];
    const at = va + SCATTER_GATHER_LIST_HEADER_SIZE + i * SCATTER_GATHER_ELEMENT_SIZE;
    writeU64(at, e.Address);
    writeU32(at + 8, e.Length);
    writeU64(at + 16, 0);
  }
}

/**
 * GetScatterGatherList (IRQL <= DISPATCH_LEVEL): maps the buffer and calls
 * ExecutionRoutine(DeviceObject, DeviceObject.CurrentIrp, list, Context) at
 * DISPATCH_LEVEL — before returning when map registers are free, else once they are.
 * STATUS_INSUFFICIENT_RESOURCES when the buffer spans more pages than the adapter's map
 * registers, or when Low Resources Simulation fails the call (the routine is not called).
 */
export function GetScatterGatherList<D extends DmaDeviceObject>(
  DmaAdapter: DMA_ADAPTER, DeviceObject: D, Mdl: MDL, CurrentVa: PVOID, Length: number,
  ExecutionRoutine: PDRIVER_LIST_CONTROL<D>, Context: unknown, WriteToDevice: boolean,
): NTSTATUS {
  return startList(DmaAdapter, DeviceObject, Mdl, CurrentVa, Length, ExecutionRoutine, Context, WriteToDevice, 0, 0, "GetScatterGatherList");
}

/**
 * BuildScatterGatherList: GetScatterGatherList with the list in the caller's buffer of
 * ScatterGatherBufferLength bytes (STATUS_BUFFER_TOO_SMALL when it cannot hold it).
 */
export function BuildScatterGatherList<D extends DmaDeviceObject>(
  DmaAdapter: DMA_ADAPTER, DeviceObject: D, Mdl: MDL, CurrentVa: PVOID, Length: number,
  ExecutionRoutine: PDRIVER_LIST_CONTROL<D>, Context: unknown, WriteToDevice: boolean, ScatterGatherBuffer: PVOID, ScatterGatherBufferLength: number,
): NTSTATUS {
  return startList(DmaAdapter, DeviceObject, Mdl, CurrentVa, Length, ExecutionRoutine, Context, WriteToDevice, ScatterGatherBuffer, ScatterGatherBufferLength, "BuildScatterGatherList");
}

/**
 * CalculateScatterGatherList: the bytes a list for Length bytes at CurrentVa needs, and
 * the map registers the transfer takes (one per page spanned).
 */
export function CalculateScatterGatherList(DmaAdapter: DMA_ADAPTER, Mdl: MDL | null, CurrentVa: PVOID, Length: number): { status: NTSTATUS; ScatterGatherListSize: number; NumberOfMapRegisters: number } {
  liveAdapter(KE(), DmaAdapter);
  let pages = 0;
  if (Mdl) {
    for (let m: MDL | null = Mdl, va = CurrentVa, left = Length; m && left > 0; m = m.Next) {
      const start = m === Mdl ? va : m.StartVa + m.ByteOffset;
      const bytes = Math.min(left, m.StartVa + m.ByteOffset + m.ByteCount - start);
      pages += ADDRESS_AND_SIZE_TO_SPAN_PAGES(start, bytes);
      left -= bytes;
      va = start + bytes;
    }
  } else {
    pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(CurrentVa, Length);
  }
  return { status: STATUS_SUCCESS, ScatterGatherListSize: SCATTER_GATHER_LIST_HEADER_SIZE + pages * SCATTER_GATHER_ELEMENT_SIZE, NumberOfMapRegisters: pages };
}

/**
 * PutScatterGatherList (DISPATCH_LEVEL): finishes the transfer and frees the list's map
 * registers; putting a list twice is 0xE6 0x06 under the verifier. The list is kept for
 * reuse after the quarantine (SG_LIST_QUARANTINE).
 */
export function PutScatterGatherList(DmaAdapter: DMA_ADAPTER, ScatterGather: SCATTER_GATHER_LIST, WriteToDevice: boolean): void {
  const k = KE();
  const a = DmaAdapter;
  liveAdapter(k, a);
  verifyIrqlIs(k, DISPATCH_LEVEL);
  verify(k, !ScatterGather.released, DMA_FREED_TOO_MANY_SCATTER_GATHER_LISTS, a.listsAllocated, a.listsFreed + 1);
  if (ScatterGather.released) return;
  k.chargePs(k.cost.PutScatterGatherList);
  ScatterGather.mapping.flush(k, WriteToDevice);
  ScatterGather.mapping.release();
  ScatterGather.released = true;
  a.listsFreed++;
  a.freedLists.put(ScatterGather);
  a.retryWaiting();
}
