/**
 * Packet DMA: AllocateAdapterChannel (DISPATCH_LEVEL) gives the driver the adapter and a
 * set of map registers and calls its DRIVER_CONTROL routine with the map register base;
 * the routine's IO_ALLOCATION_ACTION says what it keeps. MapTransfer maps the next
 * logically contiguous piece of a buffer and returns its logical address and length;
 * FlushAdapterBuffers finishes what was mapped (copying bounce pages back after a read
 * from the device). FreeMapRegisters and FreeAdapterChannel give them back, starting any
 * request that was waiting. One adapter has one channel: a second request waits for it
 * (under the verifier, holding two at once is 0xE6 0x0B).
 */
import { lowResourceFailure } from "../verifier/low-resources.js";
import { KE, type Kernel } from "../ke/kernel.js";
import { DISPATCH_LEVEL } from "../ke/irql.js";
import { STATUS_INSUFFICIENT_RESOURCES, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import { mdlAddress, type MDL } from "../mm/mdl.js";
import type { PVOID } from "../mm/memory.js";
import { liveAdapter, type DMA_ADAPTER, type DmaDeviceObject, type DmaWaiter } from "./dma.js";
import { PagePieces, TransferMapping, pagePieces } from "./map-registers.js";
import { atDispatch } from "./scatter-gather.js";
import {
  DMA_FLUSH_UNMAPPED, DMA_FREED_TOO_MANY_ADAPTER_CHANNELS, DMA_FREED_TOO_MANY_MAP_REGISTERS, DMA_MAP_REGISTERS_STILL_MAPPED,
  DMA_MISCELLANEOUS, DMA_OUT_OF_CONTIGUOUS_MAP_REGISTERS, DMA_TOO_MANY_ADAPTER_CHANNELS, DMA_TOO_MANY_MAP_REGISTERS,
  dmaViolation, verify, verifyIrqlAtMost, verifyIrqlIs,
} from "./dma-verifier.js";

/** IO_ALLOCATION_ACTION: what a DRIVER_CONTROL routine keeps. */
export enum IO_ALLOCATION_ACTION {
  KeepObject = 1,
  DeallocateObject = 2,
  DeallocateObjectKeepRegisters = 3,
}

/** The map registers AllocateAdapterChannel gave a driver (the PVOID MapRegisterBase). */
export class MAP_REGISTER_BASE {
  readonly mapping: TransferMapping;
  /** Kernel-space address, for bug check parameters. */
  readonly address: number;
  freed = false;
  constructor(adapter: DMA_ADAPTER, readonly count: number, address: number) {
    this.mapping = new TransferMapping(adapter);
    this.address = address;
  }
}

/** DRIVER_CONTROL: AllocateAdapterChannel's execution routine, called at DISPATCH_LEVEL. */
export type PDRIVER_CONTROL<D extends DmaDeviceObject = DmaDeviceObject> = (DeviceObject: D, Irp: D["CurrentIrp"], MapRegisterBase: MAP_REGISTER_BASE, Context: unknown) => IO_ALLOCATION_ACTION;

/**
 * AllocateAdapterChannel (DISPATCH_LEVEL): reserves the adapter and NumberOfMapRegisters
 * map registers, then calls ExecutionRoutine(DeviceObject, DeviceObject.CurrentIrp,
 * MapRegisterBase, Context) — now, or when the channel and registers free up. More
 * registers than IoGetDmaAdapter allowed: STATUS_INSUFFICIENT_RESOURCES (0xE6 0x0C under
 * the verifier); so is a failure Low Resources Simulation injects.
 */
export function AllocateAdapterChannel<D extends DmaDeviceObject>(
  DmaAdapter: DMA_ADAPTER, DeviceObject: D, NumberOfMapRegisters: number, ExecutionRoutine: PDRIVER_CONTROL<D>, Context: unknown,
): NTSTATUS {
  const k = KE();
  const a = DmaAdapter;
  liveAdapter(k, a);
  verifyIrqlIs(k, DISPATCH_LEVEL);
  k.chargePs(k.cost.AllocateAdapterChannel);
  verify(k, NumberOfMapRegisters <= a.mapRegisterLimit, DMA_TOO_MANY_MAP_REGISTERS, NumberOfMapRegisters, a.mapRegisterLimit);
  if (NumberOfMapRegisters > a.mapRegisterLimit) return STATUS_INSUFFICIENT_RESOURCES;
  verify(k, a.channel === null, DMA_TOO_MANY_ADAPTER_CHANNELS, 1);
  if (lowResourceFailure(k, -1, "AllocateAdapterChannel")) return STATUS_INSUFFICIENT_RESOURCES;
  const base = new MAP_REGISTER_BASE(a, NumberOfMapRegisters, k.objectAddress(0x40));
  const request = new ChannelRequest(k, a, base, NumberOfMapRegisters, k.attribution().driver, DeviceObject, ExecutionRoutine, Context);
  if (a.waiting.length > 0 || !request.attempt()) a.waiting.push(request);
  return STATUS_SUCCESS;
}

/** A request for the adapter channel and its map registers: the execution routine runs once both are free. */
class ChannelRequest<D extends DmaDeviceObject> implements DmaWaiter {
  constructor(
    private readonly k: Kernel, private readonly a: DMA_ADAPTER, private readonly base: MAP_REGISTER_BASE, private readonly registers: number,
    private readonly owner: string, private readonly device: D, private readonly routine: PDRIVER_CONTROL<D>, private readonly context: unknown,
  ) {}

  attempt(): boolean {
    const { a, base } = this;
    if (a.channel || !base.mapping.reserve(this.registers)) return false;
    a.channel = base;
    a.mapRegisterBases++;
    const action = atDispatch(this.k, this.owner, this.routine, "ExecutionRoutine", this.device, this.device.CurrentIrp, base, this.context);
    if (action === IO_ALLOCATION_ACTION.DeallocateObject) {
      releaseRegisters(a, base);
      a.channel = null;
    } else if (action === IO_ALLOCATION_ACTION.DeallocateObjectKeepRegisters) {
      a.channel = null;
    }
    return true;
  }
}

function releaseRegisters(a: DMA_ADAPTER, base: MAP_REGISTER_BASE): void {
  base.mapping.release();
  base.freed = true;
  a.mapRegisterBases--;
}

/** MapTransfer's page pieces (it maps them before it returns, so one set serves every call). */
const transferPieces = new PagePieces();

/**
 * MapTransfer (IRQL <= DISPATCH_LEVEL): maps the logically contiguous start of
 * [CurrentVa, CurrentVa + Length) through the map registers and returns its logical
 * address and how many bytes it covers. Data for the device is in place when it returns.
 */
export function MapTransfer(
  DmaAdapter: DMA_ADAPTER, Mdl: MDL, MapRegisterBase: MAP_REGISTER_BASE, CurrentVa: PVOID, Length: number, WriteToDevice: boolean,
): { LogicalAddress: number; Length: number } {
  const k = KE();
  liveAdapter(k, DmaAdapter);
  verifyIrqlAtMost(k, DISPATCH_LEVEL);
  k.chargePs(k.cost.MapTransfer);
  const pieces = pagePieces(k, Mdl, CurrentVa, Length, transferPieces);
  if (pieces.count === 0) return { LogicalAddress: 0, Length: 0 };
  const m = MapRegisterBase.mapping;
  const before = m.count;
  if (m.map(k, pieces, WriteToDevice, true) === 0) {
    dmaViolation(k, DMA_MISCELLANEOUS, DMA_OUT_OF_CONTIGUOUS_MAP_REGISTERS, pieces.count, m.registers - m.next);
  }
  let bytes = 0;
  for (let i = before; i < m.count; i++) bytes += m.length[i];
  return { LogicalAddress: m.logical[before], Length: bytes };
}

/**
 * FlushAdapterBuffers (IRQL <= DISPATCH_LEVEL): finishes the mapped pieces of
 * [CurrentVa, CurrentVa + Length); flushing what was not mapped is 0xE6 0x20 under the
 * verifier. Returns TRUE.
 */
export function FlushAdapterBuffers(
  DmaAdapter: DMA_ADAPTER, Mdl: MDL, MapRegisterBase: MAP_REGISTER_BASE, CurrentVa: PVOID, Length: number, WriteToDevice: boolean,
): boolean {
  const k = KE();
  liveAdapter(k, DmaAdapter);
  verifyIrqlAtMost(k, DISPATCH_LEVEL);
  k.chargePs(k.cost.FlushAdapterBuffers);
  const finished = MapRegisterBase.mapping.flush(k, WriteToDevice, CurrentVa, Length);
  verify(k, finished > 0, DMA_FLUSH_UNMAPPED, MapRegisterBase.address, CurrentVa, mdlAddress(k, Mdl));
  return true;
}

/**
 * FreeMapRegisters (DISPATCH_LEVEL): frees registers kept with
 * DeallocateObjectKeepRegisters. Under the verifier: freeing them twice is 0xE6 0x05,
 * freeing them while pieces are still mapped 0xE6 0x10.
 */
export function FreeMapRegisters(DmaAdapter: DMA_ADAPTER, MapRegisterBase: MAP_REGISTER_BASE, NumberOfMapRegisters: number): void {
  const k = KE();
  liveAdapter(k, DmaAdapter);
  verifyIrqlIs(k, DISPATCH_LEVEL);
  verify(k, !MapRegisterBase.freed, DMA_FREED_TOO_MANY_MAP_REGISTERS, NumberOfMapRegisters);
  if (MapRegisterBase.freed) return;
  verify(k, MapRegisterBase.mapping.count === 0, DMA_MAP_REGISTERS_STILL_MAPPED, MapRegisterBase.mapping.count);
  releaseRegisters(DmaAdapter, MapRegisterBase);
  DmaAdapter.retryWaiting();
}

/**
 * FreeAdapterChannel (DISPATCH_LEVEL): releases the channel a KeepObject routine kept,
 * with its map registers; with no channel held it is 0xE6 0x04 under the verifier.
 */
export function FreeAdapterChannel(DmaAdapter: DMA_ADAPTER): void {
  const k = KE();
  const a = DmaAdapter;
  liveAdapter(k, a);
  verifyIrqlIs(k, DISPATCH_LEVEL);
  verify(k, a.channel !== null, DMA_FREED_TOO_MANY_ADAPTER_CHANNELS, 1);
  if (!a.channel) return;
  verify(k, a.channel.mapping.count === 0, DMA_MAP_REGISTERS_STILL_MAPPED, a.channel.mapping.count);
  releaseRegisters(a, a.channel);
  a.channel = null;
  a.retryWaiting();
}
