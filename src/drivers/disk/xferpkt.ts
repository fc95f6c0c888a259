/**
 * Transfer packets (classpnp's xferpkt.c): the preallocated units every read and write is
 * cut into. A packet owns an IRP (one stack location more than the FDO's stack needs), an
 * SRB of the port's kind, a partial MDL able to describe HwMaxXferLen bytes at any page
 * offset, a sense buffer inside its pool block, and a retry timer and DPC. Nothing is
 * allocated per request on the read/write path: packets come from the FDO's free list
 * (made on demand only when every packet is busy, and trimmed back to the working set once
 * the stress is over), and their completion routine is TransferPktComplete.
 *
 * A packet's IRP is reused for each submission (IoReuseIrp): IRP_MJ_SCSI with the SRB in
 * Parameters.Scsi.Srb, Irp.MdlAddress the original request's MDL when it is not split,
 * the packet's partial MDL of its piece when it is. On completion the transferred bytes
 * add up in the original IRP's IoStatus.Information, the status goes in with
 * IoSetMasterIrpStatus, and the last packet of a request completes it.
 */
import type { DEVICE_OBJECT } from "../../io/objects.js";
import {
  IoAllocateIrp, IoCallDriver, IoFreeIrp, IoGetCurrentIrpStackLocation, IoGetNextIrpStackLocation, IoMarkIrpPending, IoSetCompletionRoutine,
  IO_DISK_INCREMENT, IRP_MJ_READ, IRP_MJ_WRITE, IRP, SL_WRITE_THROUGH,
} from "../../io/irp.js";
import { IoReuseIrp } from "../../io/build-irp.js";
import { IoAllocateMdl, IoBuildPartialMdl, IoFreeMdl } from "../../io/mdl.js";
import { IoSetMasterIrpStatus } from "../../io/associated.js";
import { KEVENT, KeSetEvent } from "../../ke/dispatcher.js";
import { KDPC } from "../../ke/dpc.js";
import { KTIMER } from "../../ke/timer.js";
import {
  NT_SUCCESS, STATUS_INSUFFICIENT_RESOURCES, STATUS_MORE_PROCESSING_REQUIRED, STATUS_NOT_SUPPORTED, STATUS_SUCCESS, STATUS_UNSUCCESSFUL,
  type NTSTATUS,
} from "../../ke/ntstatus.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../../mm/pool.js";
import { MmPrepareMdlForReuse, type MDL } from "../../mm/mdl.js";
import { RtlZeroMemory, type PVOID } from "../../mm/memory.js";
import { PAGE_SIZE } from "../../mm/pfn.js";
import { IRP_MJ_SCSI, SRB_FLAGS_ADAPTER_CACHE_ENABLE, SRB_FLAGS_DATA_IN, SRB_FLAGS_DATA_OUT, SRB_STATUS, SRB_STATUS_SUCCESS, SrbAssignSrbFlags,
  SrbGetCdb, SrbGetDataBuffer, SrbGetDataTransferLength, SrbSetCdbLength, SrbSetDataBuffer, SrbSetDataTransferLength, SrbSetOriginalRequest,
  SrbSetQueueSortKey, SrbSetScsiStatus, SrbSetSenseInfoBuffer, SrbSetSenseInfoBufferLength, SrbSetSrbFlags, SrbSetTimeOutValue, type SRB,
} from "../storage/srb.js";
import { buildReadWriteCdb, SCSIOP_MODE_SENSE, SCSIOP_READ_CAPACITY, SCSIOP_READ_CAPACITY16, SENSE_BUFFER_SIZE_EX, SERVICE_ACTION_READ_CAPACITY16, writeBE } from "../storage/scsi.js";
import {
  CLASS_TAG_TRANSFER_PACKET, DEV_USE_16BYTE_CDB, MAX_OUTSTANDING_IO_PER_LUN_DEFAULT, MAX_WORKINGSET_TRANSFER_PACKETS_Client,
  MIN_INITIAL_TRANSFER_PACKETS, MIN_WORKINGSET_TRANSFER_PACKETS_Client, NUM_DRIVECAPACITY_RETRIES, NUM_MODESENSE_RETRIES, TRANSFER_PACKET_SENSE_OFFSET,
  TRANSFER_PACKET_SIZE,
} from "./constants.js";
import type { FUNCTIONAL_DEVICE_EXTENSION } from "./extension.js";
import { ClasspAllocateSrb, ClasspInitializeSrb } from "./request-block.js";
import { ClassAcquireRemoveLock, ClassCompleteRequest, ClasspIoDone, ClassReleaseRemoveLock, fdoExtensionOf } from "./queue.js";
import { InterpretTransferPacketError, RetryTransferPacket, StepLowMemRetry } from "./retry.js";
import { DequeueDeferredClientIrp, ServiceTransferRequest } from "./readwrite.js";

/** What a packet carries: a piece of a read or write, or one of the driver's own commands. */
export enum TRANSFER_PACKET_KIND {
  ReadWrite = 0,
  DriveCapacity = 1,
  ModeSense = 2,
}

/** TRANSFER_PACKET. */
export class TRANSFER_PACKET {
  /** The packet's pool block ('pnPC'); its sense buffer lives at TRANSFER_PACKET_SENSE_OFFSET in it. */
  readonly address: PVOID;
  /** SrbErrorSenseData: the SENSE_DATA_EX the SRB's SenseInfoBuffer points at. */
  readonly SenseBuffer: PVOID;
  Kind = TRANSFER_PACKET_KIND.ReadWrite;
  /** The request this packet serves (a real IRP, or the pseudo IRP of a synchronous command). */
  OriginalIrp: IRP | null = null;
  /** The piece: buffer address (inside the original MDL), bytes, and byte offset on the disk. */
  BufPtrCopy: PVOID = 0;
  BufLenCopy = 0;
  TargetLocationCopy = 0;
  /** Retries left, and retries left for timeouts and bus resets (read/write packets). */
  NumRetries = 0;
  NumIoTimeoutRetries = 0;
  /** The packet timed out (or saw a bus reset) at least once. */
  TimedOut = false;
  /** Wait before the next retry, 100 ns units. */
  RetryIn100nsUnits = 0;
  /** Set when the packet is done (synchronous commands). */
  SyncEventPtr: KEVENT | null = null;
  /** A piece of a client request: the last packet of the request completes it. */
  CompleteOriginalIrpWhenLastPacketCompletes = true;
  /** The piece is described by the packet's partial MDL (the request was split). */
  UsePartialMdl = false;
  /** Low-memory retry: the rest is sent one page at a time through this packet. */
  InLowMemRetry = false;
  LowMemRetry_remainingBufPtr: PVOID = 0;
  LowMemRetry_remainingBufLen = 0;
  LowMemRetry_nextChunkTargetLocation = 0;
  readonly RetryTimer = new KTIMER();
  readonly RetryTimerDPC = new KDPC();

  constructor(
    readonly Fdo: DEVICE_OBJECT,
    address: PVOID,
    readonly Irp: IRP,
    readonly Srb: SRB,
    readonly PartialMdl: MDL,
  ) {
    this.address = address;
    this.SenseBuffer = address + TRANSFER_PACKET_SENSE_OFFSET;
  }
}

/**
 * InitializeTransferPackets: the largest piece a request is cut into (HwMaxXferLen: the
 * adapter's MaximumTransferLength, and MaximumPhysicalPages - 1 pages so that a buffer
 * at any page offset fits, at least a page), the working set, and the first packets.
 */
export function InitializeTransferPackets(Fdo: DEVICE_OBJECT): NTSTATUS {
  const fdoExt = fdoExtensionOf(Fdo);
  const fdoData = fdoExt.PrivateFdoData;
  const adapter = fdoExt.AdapterDescriptor;
  const hwMaxPages = adapter.MaximumPhysicalPages ? adapter.MaximumPhysicalPages - 1 : 0;
  fdoData.HwMaxXferLen = Math.max(Math.min(adapter.MaximumTransferLength, hwMaxPages * PAGE_SIZE), PAGE_SIZE);
  // Client SKU working set; the port reports no queue depth here, so the default one stands.
  fdoData.LocalMinWorkingSetTransferPackets = MIN_WORKINGSET_TRANSFER_PACKETS_Client;
  fdoData.LocalMaxWorkingSetTransferPackets = Math.max(MAX_WORKINGSET_TRANSFER_PACKETS_Client, 2 * MAX_OUTSTANDING_IO_PER_LUN_DEFAULT);
  while (fdoData.NumFreeTransferPackets < MIN_INITIAL_TRANSFER_PACKETS) {
    const pkt = NewTransferPacket(Fdo);
    if (!pkt) return STATUS_INSUFFICIENT_RESOURCES;
    fdoData.NumTotalTransferPackets++;
    EnqueueFreeTransferPacket(Fdo, pkt);
  }
  fdoData.DbgPeakNumTransferPackets = fdoData.NumTotalTransferPackets;
  return STATUS_SUCCESS;
}

/** DestroyAllTransferPackets: frees every free packet (at removal none is busy). */
export function DestroyAllTransferPackets(Fdo: DEVICE_OBJECT): void {
  const fdoData = fdoExtensionOf(Fdo).PrivateFdoData;
  for (let pkt = DequeueFreeTransferPacket(Fdo, false); pkt; pkt = DequeueFreeTransferPacket(Fdo, false)) {
    DestroyTransferPacket(pkt);
    fdoData.NumTotalTransferPackets--;
  }
}

/**
 * NewTransferPacket: a packet with its pool block, IRP, SRB and an MDL for HwMaxXferLen +
 * one page (a piece may start anywhere in a page); null when something cannot be allocated.
 */
export function NewTransferPacket(Fdo: DEVICE_OBJECT): TRANSFER_PACKET | null {
  const fdoExt = fdoExtensionOf(Fdo);
  const fdoData = fdoExt.PrivateFdoData;
  const transferLength = fdoData.HwMaxXferLen + PAGE_SIZE;
  const address = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPoolNx, TRANSFER_PACKET_SIZE, CLASS_TAG_TRANSFER_PACKET);
  if (address === 0) return null;
  RtlZeroMemory(address, TRANSFER_PACKET_SIZE);
  const irp = IoAllocateIrp(Fdo.StackSize, false);
  if (!irp) {
    ExFreePoolWithTag(address, CLASS_TAG_TRANSFER_PACKET);
    return null;
  }
  const mdl = IoAllocateMdl(0, transferLength, false, false, null);
  if (!mdl) {
    IoFreeIrp(irp);
    ExFreePoolWithTag(address, CLASS_TAG_TRANSFER_PACKET);
    return null;
  }
  const pkt = new TRANSFER_PACKET(Fdo, address, irp, ClasspAllocateSrb(fdoExt), mdl);
  fdoData.AllTransferPackets.add(pkt);
  return pkt;
}

/** DestroyTransferPacket: frees a packet's MDL, IRP and pool block. */
export function DestroyTransferPacket(Pkt: TRANSFER_PACKET): void {
  const fdoData = fdoExtensionOf(Pkt.Fdo).PrivateFdoData;
  fdoData.AllTransferPackets.delete(Pkt);
  IoFreeMdl(Pkt.PartialMdl);
  IoFreeIrp(Pkt.Irp);
  ExFreePoolWithTag(Pkt.address, CLASS_TAG_TRANSFER_PACKET);
}

/**
 * EnqueueFreeTransferPacket: back on the free list. When every packet is free again and
 * there are more than the working set's maximum, the extras go at once; above its minimum,
 * one goes each time (the lazy trim after stress).
 */
export function EnqueueFreeTransferPacket(Fdo: DEVICE_OBJECT, Pkt: TRANSFER_PACKET): void {
  const fdoData = fdoExtensionOf(Fdo).PrivateFdoData;
  fdoData.FreeTransferPackets.push(Pkt);
  fdoData.NumFreeTransferPackets++;
  if (fdoData.NumFreeTransferPackets < fdoData.NumTotalTransferPackets) return;
  while (fdoData.NumTotalTransferPackets > fdoData.LocalMaxWorkingSetTransferPackets) {
    const extra = DequeueFreeTransferPacket(Fdo, false);
    if (!extra) break;
    fdoData.NumTotalTransferPackets--;
    DestroyTransferPacket(extra);
  }
  if (fdoData.NumTotalTransferPackets > fdoData.LocalMinWorkingSetTransferPackets) {
    const extra = DequeueFreeTransferPacket(Fdo, false);
    if (extra) {
      fdoData.NumTotalTransferPackets--;
      DestroyTransferPacket(extra);
    }
  }
}

/** DequeueFreeTransferPacket: a free packet, or (with AllocIfNeeded) a new one when none is free; null when none can be had. */
export function DequeueFreeTransferPacket(Fdo: DEVICE_OBJECT, AllocIfNeeded: boolean): TRANSFER_PACKET | null {
  const fdoData = fdoExtensionOf(Fdo).PrivateFdoData;
  const pkt = fdoData.FreeTransferPackets.pop();
  if (pkt) {
    fdoData.NumFreeTransferPackets--;
    return pkt;
  }
  if (!AllocIfNeeded) return null;
  const fresh = NewTransferPacket(Fdo);
  if (fresh) {
    fdoData.NumTotalTransferPackets++;
    fdoData.DbgPeakNumTransferPackets = Math.max(fdoData.DbgPeakNumTransferPackets, fdoData.NumTotalTransferPackets);
  }
  return fresh;
}

/** The common part of setting a packet up: the template SRB with the packet's sense buffer, timeout and IRP. */
function setupPacketSrb(fdoExt: FUNCTIONAL_DEVICE_EXTENSION, Pkt: TRANSFER_PACKET): SRB {
  const srb = Pkt.Srb;
  ClasspInitializeSrb(fdoExt, srb);
  SrbSetOriginalRequest(srb, Pkt.Irp);
  SrbSetSenseInfoBuffer(srb, Pkt.SenseBuffer);
  SrbSetSenseInfoBufferLength(srb, SENSE_BUFFER_SIZE_EX);
  SrbSetTimeOutValue(srb, fdoExt.TimeOutValue);
  return srb;
}

/**
 * SetupReadWriteTransferPacket: a piece of a read or write: `Len` bytes at `Buf` (an
 * address inside the original IRP's MDL) to or from byte `DiskLocation`. READ/WRITE (16)
 * when the disk needs 8-byte LBAs (DEV_USE_16BYTE_CDB), (10) otherwise; FUA for a
 * write-through write when the write cache is on, else SRB_FLAGS_ADAPTER_CACHE_ENABLE.
 * Called once per piece, not before retries (the port may change SRB fields the retry needs).
 */
export function SetupReadWriteTransferPacket(Pkt: TRANSFER_PACKET, Buf: PVOID, Len: number, DiskLocation: number, OriginalIrp: IRP): void {
  const fdoExt = fdoExtensionOf(Pkt.Fdo);
  const fdoData = fdoExt.PrivateFdoData;
  const origCurSp = IoGetCurrentIrpStackLocation(OriginalIrp);
  const majorFunc = origCurSp.MajorFunction;
  const logicalBlockAddr = Math.floor(DiskLocation / 2 ** fdoExt.SectorShift);
  const numTransferBlocks = Math.floor(Len / 2 ** fdoExt.SectorShift);
  const srb = setupPacketSrb(fdoExt, Pkt);
  SrbSetDataBuffer(srb, Buf);
  SrbSetDataTransferLength(srb, Len);
  // Lower drivers sort by the starting block; LBAs beyond 32 bits sort last.
  SrbSetQueueSortKey(srb, logicalBlockAddr > 0xFFFFFFFF ? 0xFFFFFFFF : logicalBlockAddr);
  const cdb = SrbGetCdb(srb)!;
  const write = majorFunc === IRP_MJ_WRITE;
  SrbSetCdbLength(srb, buildReadWriteCdb(cdb, write, logicalBlockAddr, numTransferBlocks, (fdoExt.DeviceFlags & DEV_USE_16BYTE_CDB) !== 0));
  SrbAssignSrbFlags(srb, fdoExt.SrbFlags);
  SrbSetSrbFlags(srb, majorFunc === IRP_MJ_READ ? SRB_FLAGS_DATA_IN : SRB_FLAGS_DATA_OUT);
  // Caching only when the write is not write-through; a write-through write with the cache on forces media access.
  if (write && (origCurSp.Flags & SL_WRITE_THROUGH) !== 0) {
    if (fdoExt.CdbForceUnitAccess) cdb[1] |= 0x08;
  } else {
    SrbSetSrbFlags(srb, SRB_FLAGS_ADAPTER_CACHE_ENABLE);
  }
  // Kept because the port may overwrite SRB.DataBuffer / DataTransferLength and a retry needs them.
  Pkt.Kind = TRANSFER_PACKET_KIND.ReadWrite;
  Pkt.BufPtrCopy = Buf;
  Pkt.BufLenCopy = Len;
  Pkt.TargetLocationCopy = DiskLocation;
  Pkt.OriginalIrp = OriginalIrp;
  Pkt.NumRetries = fdoData.MaxNumberOfIoRetries;
  Pkt.NumIoTimeoutRetries = fdoData.MaxNumberOfIoRetries;
  Pkt.TimedOut = false;
  Pkt.SyncEventPtr = null;
  Pkt.CompleteOriginalIrpWhenLastPacketCompletes = true;
}

/**
 * SetupDriveCapacityTransferPacket: READ CAPACITY (10), or (16) with service action 0x10
 * and a 32-byte allocation length, into `ReadCapacityBuffer` (described by the pseudo
 * IRP's MDL); NUM_DRIVECAPACITY_RETRIES retries; `SyncEventPtr` is set when it is done.
 */
export function SetupDriveCapacityTransferPacket(Pkt: TRANSFER_PACKET, ReadCapacityBuffer: PVOID, ReadCapacityBufferLen: number, SyncEventPtr: KEVENT, OriginalIrp: IRP, Use16ByteCdb: boolean): void {
  const fdoExt = fdoExtensionOf(Pkt.Fdo);
  const srb = setupPacketSrb(fdoExt, Pkt);
  SrbSetDataBuffer(srb, ReadCapacityBuffer);
  SrbSetDataTransferLength(srb, ReadCapacityBufferLen);
  SrbAssignSrbFlags(srb, fdoExt.SrbFlags | SRB_FLAGS_DATA_IN);
  const cdb = SrbGetCdb(srb)!;
  if (Use16ByteCdb) {
    SrbSetCdbLength(srb, 16);
    cdb[0] = SCSIOP_READ_CAPACITY16;
    cdb[1] = SERVICE_ACTION_READ_CAPACITY16;
    writeBE(cdb, 10, 4, ReadCapacityBufferLen);
  } else {
    SrbSetCdbLength(srb, 10);
    cdb[0] = SCSIOP_READ_CAPACITY;
  }
  Pkt.Kind = TRANSFER_PACKET_KIND.DriveCapacity;
  Pkt.BufPtrCopy = ReadCapacityBuffer;
  Pkt.BufLenCopy = ReadCapacityBufferLen;
  Pkt.OriginalIrp = OriginalIrp;
  Pkt.NumRetries = NUM_DRIVECAPACITY_RETRIES;
  Pkt.NumIoTimeoutRetries = NUM_DRIVECAPACITY_RETRIES;
  Pkt.TimedOut = false;
  Pkt.SyncEventPtr = SyncEventPtr;
  Pkt.CompleteOriginalIrpWhenLastPacketCompletes = false;
}

/**
 * SetupModeSenseTransferPacket: MODE SENSE (6) of `PageMode` (page control `PageControl`)
 * into `ModeSenseBuffer` (`ModeSenseBufferLen` bytes, at most 255); NUM_MODESENSE_RETRIES retries.
 */
export function SetupModeSenseTransferPacket(Pkt: TRANSFER_PACKET, SyncEventPtr: KEVENT, ModeSenseBuffer: PVOID, ModeSenseBufferLen: number, PageMode: number, SubPage: number, OriginalIrp: IRP, PageControl: number): void {
  const fdoExt = fdoExtensionOf(Pkt.Fdo);
  const srb = setupPacketSrb(fdoExt, Pkt);
  SrbSetDataBuffer(srb, ModeSenseBuffer);
  SrbSetDataTransferLength(srb, ModeSenseBufferLen);
  SrbAssignSrbFlags(srb, fdoExt.SrbFlags | SRB_FLAGS_DATA_IN);
  SrbSetCdbLength(srb, 6);
  const cdb = SrbGetCdb(srb)!;
  cdb[0] = SCSIOP_MODE_SENSE;
  cdb[2] = ((PageControl & 3) << 6) | (PageMode & 0x3F);
  cdb[3] = SubPage;
  cdb[4] = ModeSenseBufferLen & 0xFF;
  Pkt.Kind = TRANSFER_PACKET_KIND.ModeSense;
  Pkt.BufPtrCopy = ModeSenseBuffer;
  Pkt.BufLenCopy = ModeSenseBufferLen;
  Pkt.OriginalIrp = OriginalIrp;
  Pkt.NumRetries = NUM_MODESENSE_RETRIES;
  Pkt.NumIoTimeoutRetries = NUM_MODESENSE_RETRIES;
  Pkt.TimedOut = false;
  Pkt.SyncEventPtr = SyncEventPtr;
  Pkt.CompleteOriginalIrpWhenLastPacketCompletes = false;
}

/**
 * SubmitTransferPacket: sets the packet's IRP up again (IRP_MJ_SCSI, the SRB, the MDL,
 * TransferPktComplete) and sends it to the port. Returns what IoCallDriver returned.
 */
export function SubmitTransferPacket(Pkt: TRANSFER_PACKET): NTSTATUS | Promise<NTSTATUS> {
  const fdoExt = fdoExtensionOf(Pkt.Fdo);
  const irp = Pkt.Irp;
  const original = Pkt.OriginalIrp!;
  IoReuseIrp(irp, STATUS_NOT_SUPPORTED);
  const nextSp = IoGetNextIrpStackLocation(irp);
  nextSp.MajorFunction = IRP_MJ_SCSI;
  nextSp.Parameters.Scsi.Srb = Pkt.Srb;
  SrbSetScsiStatus(Pkt.Srb, 0);
  Pkt.Srb.SrbStatus = 0;
  SrbSetSenseInfoBufferLength(Pkt.Srb, SENSE_BUFFER_SIZE_EX);
  // A client request's storage flags (SL_WRITE_THROUGH, SL_OVERRIDE_VERIFY_VOLUME) go with every piece.
  if (Pkt.CompleteOriginalIrpWhenLastPacketCompletes) nextSp.Flags = IoGetCurrentIrpStackLocation(original).Flags;
  // A split request's pieces each get a partial MDL: more than one driver may map the original.
  if (!Pkt.UsePartialMdl) {
    irp.MdlAddress = original.MdlAddress;
  } else {
    IoBuildPartialMdl(original.MdlAddress as MDL, Pkt.PartialMdl, SrbGetDataBuffer(Pkt.Srb), SrbGetDataTransferLength(Pkt.Srb));
    irp.MdlAddress = Pkt.PartialMdl;
  }
  IoSetCompletionRoutine(irp, TransferPktComplete, Pkt, true, true, true);
  return IoCallDriver(fdoExt.LowerDeviceObject, irp);
}

/** The number of pieces of a client request still outstanding (Tail.Overlay.DriverContext[0]). */
export function packetsRemaining(Irp: IRP): number {
  return Number(Irp.Tail.Overlay.DriverContext[0] ?? 0);
}

/**
 * TransferPktComplete: a packet's IRP came back from the port. Success adds the bytes the
 * port moved to the original request; a failure is interpreted (InterpretTransferPacketError)
 * and retried while retries last; when the packet is done its status goes into the
 * original request, and the request's last packet completes it. The packet goes back on
 * the free list and a request that waited for one is started.
 */
export function TransferPktComplete(_NullFdo: DEVICE_OBJECT | null, Irp: IRP, Context: unknown): NTSTATUS {
  const pkt = Context as TRANSFER_PACKET;
  const Fdo = pkt.Fdo;
  const fdoExt = fdoExtensionOf(Fdo);
  const original = pkt.OriginalIrp!;
  let packetDone = false;

  // The partial MDL's own mapping goes; a retry builds it again, a finished packet reuses it.
  if (pkt.UsePartialMdl) MmPrepareMdlForReuse(pkt.PartialMdl);

  if (SRB_STATUS(pkt.Srb.SrbStatus) === SRB_STATUS_SUCCESS) {
    original.IoStatus.Information = Number(original.IoStatus.Information) + SrbGetDataTransferLength(pkt.Srb);
    packetDone = pkt.InLowMemRetry ? StepLowMemRetry(pkt) : true;
  } else {
    // The IRP's status must say failure, since it is propagated.
    if (NT_SUCCESS(Irp.IoStatus.Status)) Irp.IoStatus.Status = STATUS_UNSUCCESSFUL;
    // The request may now finish on another thread (a retry): it must be marked pending.
    if (pkt.CompleteOriginalIrpWhenLastPacketCompletes) IoMarkIrpPending(original);
    const shouldRetry = InterpretTransferPacketError(pkt);
    if (NT_SUCCESS(Irp.IoStatus.Status)) {
      // Recovered: count the bytes as a success does.
      original.IoStatus.Information = Number(original.IoStatus.Information) + SrbGetDataTransferLength(pkt.Srb);
      packetDone = pkt.InLowMemRetry ? StepLowMemRetry(pkt) : true;
    } else if (shouldRetry && pkt.NumRetries > 0) {
      packetDone = RetryTransferPacket(pkt);
    } else {
      packetDone = true;
    }
  }

  if (packetDone) {
    // A removal may be waiting: hold the lock until the packet is back on the free list.
    ClassAcquireRemoveLock(fdoExt, pkt);
    RtlZeroMemory(pkt.SenseBuffer, SENSE_BUFFER_SIZE_EX);
    IoSetMasterIrpStatus(original, Irp.IoStatus.Status);
    const remaining = packetsRemaining(original) - 1;
    original.Tail.Overlay.DriverContext[0] = remaining;
    if (remaining === 0 && pkt.CompleteOriginalIrpWhenLastPacketCompletes) {
      ClassReleaseRemoveLock(fdoExt, original);
      // The pieces went down on the caller's thread; if the last one completed elsewhere, so does the request.
      if (Irp.PendingReturned) IoMarkIrpPending(original);
      ClasspIoDone(fdoExt);
      ClassCompleteRequest(Fdo, original, IO_DISK_INCREMENT);
    }
    if (pkt.SyncEventPtr) {
      KeSetEvent(pkt.SyncEventPtr, 0, false);
      pkt.SyncEventPtr = null;
    }
    pkt.UsePartialMdl = false;
    pkt.InLowMemRetry = false;
    pkt.OriginalIrp = null;
    EnqueueFreeTransferPacket(Fdo, pkt);
    // A packet is free again: start a request that waited for one (from a DPC, not nested in this completion).
    const deferred = DequeueDeferredClientIrp(Fdo);
    if (deferred) ServiceTransferRequest(Fdo, deferred, true);
    ClassReleaseRemoveLock(fdoExt, pkt);
  }
  return STATUS_MORE_PROCESSING_REQUIRED;
}

/**
 * The packet engine's "original IRP" for a request the driver makes itself (capacity, mode
 * sense): a pseudo IRP over `mdl` that never goes anywhere (a stack variable in classpnp),
 * with one piece outstanding.
 */
export function newPseudoIrp(mdl: MDL): IRP {
  const pseudoIrp = new IRP(1, 0, 0);
  pseudoIrp.Tail.Overlay.DriverContext[0] = 1;
  pseudoIrp.IoStatus.Status = STATUS_SUCCESS;
  pseudoIrp.IoStatus.Information = 0;
  pseudoIrp.MdlAddress = mdl;
  return pseudoIrp;
}
