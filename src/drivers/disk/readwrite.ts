/**
 * Reads and writes (classpnp's ClassReadWrite and ServiceTransferRequest, disk.sys's
 * DiskReadWriteVerification).
 *
 * A request is checked first: the offset and the length must be multiples of the sector
 * size (else STATUS_INVALID_PARAMETER); one that reaches past the end of the disk as the
 * driver knows it is sent anyway while the drive is ready, and the device decides (LBA
 * OUT OF RANGE becomes STATUS_NONEXISTENT_SECTOR). A zero-length request succeeds at once.
 * Then it is cut into pieces of at most HwMaxXferLen bytes (one page more when the buffer
 * starts on a page boundary, never more than MaximumTransferLength), each on a transfer
 * packet of its own, all sent at once; the request completes when the last piece does,
 * with the bytes moved in IoStatus.Information. When packets cannot be had the request
 * goes through a single packet a page at a time, or waits for a packet to come free.
 */
import type { DEVICE_OBJECT } from "../../io/objects.js";
import { DO_VERIFY_VOLUME } from "../../io/objects.js";
import { IoGetCurrentIrpStackLocation, IoMarkIrpPending, IO_NO_INCREMENT, SL_OVERRIDE_VERIFY_VOLUME, type IRP } from "../../io/irp.js";
import { KeAcquireSpinLock, KeReleaseSpinLock } from "../../ke/spinlock.js";
import {
  NT_SUCCESS, STATUS_DEVICE_DOES_NOT_EXIST, STATUS_INVALID_PARAMETER, STATUS_PENDING, STATUS_SUCCESS, STATUS_VERIFY_REQUIRED, type NTSTATUS,
} from "../../ke/ntstatus.js";
import { MmGetMdlVirtualAddress, type MDL } from "../../mm/mdl.js";
import { PAGE_SIZE } from "../../mm/pfn.js";
import { DEV_USE_16BYTE_CDB } from "./constants.js";
import { REMOVE_STATE, type FUNCTIONAL_DEVICE_EXTENSION } from "./extension.js";
import {
  ClassAcquireRemoveLock, ClassCompleteRequest, ClasspHoldRequest, ClasspIoStarted, ClassReleaseRemoveLock, completeAndRelease, fdoExtensionOf,
} from "./queue.js";
import { InitLowMemRetry, StepLowMemRetry, TransferPacketQueueRetryDpc } from "./retry.js";
import { DequeueFreeTransferPacket, EnqueueFreeTransferPacket, SetupReadWriteTransferPacket, SubmitTransferPacket, type TRANSFER_PACKET } from "./xferpkt.js";

/** CLASSP_VOLUME_VERIFY_CHECKED: the minor code classpnp stamps on a read/write that passed the verify-volume check. */
export const CLASSP_VOLUME_VERIFY_CHECKED = 0x34;

/**
 * DiskReadWriteVerification: the offset and length must be sector multiples and inside
 * the disk. A request outside the disk goes to the device anyway when the drive is ready
 * (the device decides); when it is not ready it fails with that status.
 */
export function DiskReadWriteVerification(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const fdoExt = fdoExtensionOf(DeviceObject);
  const irpSp = IoGetCurrentIrpStackLocation(Irp);
  const bytesPerSector = fdoExt.DiskGeometry.BytesPerSector;
  const length = irpSp.Parameters.Read.Length;
  const offset = irpSp.Parameters.Read.ByteOffset;
  const residualBytes = length & (bytesPerSector - 1);
  // ByteOffset.LowPart & (BytesPerSector - 1).
  const residualOffset = (offset % 2 ** 32) & (bytesPerSector - 1);
  let status: NTSTATUS = STATUS_SUCCESS;
  if (offset > fdoExt.PartitionLength || offset < 0 || residualBytes !== 0 || residualOffset !== 0) {
    status = STATUS_INVALID_PARAMETER;
  } else if (length > fdoExt.PartitionLength - offset) {
    status = STATUS_INVALID_PARAMETER;
  }
  if (!NT_SUCCESS(status)) {
    // The drive may just not be ready.
    status = fdoExt.DiskData.ReadyStatus;
    if (NT_SUCCESS(status)) {
      // Aligned but beyond what the driver thinks the disk holds: the device decides.
      status = residualBytes === 0 && residualOffset === 0 ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
    }
  }
  Irp.IoStatus.Status = status;
  return status;
}

/**
 * IRP_MJ_READ and IRP_MJ_WRITE (ClassReadWrite). A removed disk fails the request with
 * STATUS_DEVICE_DOES_NOT_EXIST; one that is not running (power transition, stopped) holds it.
 */
export function DiskDispatchReadWrite(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const fdoExt = fdoExtensionOf(DeviceObject);
  const isRemoved = ClassAcquireRemoveLock(fdoExt, Irp);
  if (isRemoved !== REMOVE_STATE.NO_REMOVE) {
    Irp.IoStatus.Status = STATUS_DEVICE_DOES_NOT_EXIST;
    Irp.IoStatus.Information = 0;
    if (isRemoved !== REMOVE_STATE.REMOVE_COMPLETE) ClassReleaseRemoveLock(fdoExt, Irp);
    ClassCompleteRequest(DeviceObject, Irp, IO_NO_INCREMENT);
    return STATUS_DEVICE_DOES_NOT_EXIST;
  }
  if (fdoExt.HoldReasons !== 0) return ClasspHoldRequest(fdoExt, Irp);
  return ClasspStartReadWrite(fdoExt, Irp);
}

/** The rest of ClassReadWrite, for a request that holds the remove lock and may run now. */
export function ClasspStartReadWrite(fdoExt: FUNCTIONAL_DEVICE_EXTENSION, Irp: IRP): NTSTATUS {
  const DeviceObject = fdoExt.DeviceObject;
  const currentIrpStack = IoGetCurrentIrpStackLocation(Irp);
  const transferByteCount = currentIrpStack.Parameters.Read.Length;
  if ((DeviceObject.Flags & DO_VERIFY_VOLUME) !== 0 && currentIrpStack.MinorFunction !== CLASSP_VOLUME_VERIFY_CHECKED
    && (currentIrpStack.Flags & SL_OVERRIDE_VERIFY_VOLUME) === 0) {
    return completeAndRelease(fdoExt, Irp, STATUS_VERIFY_REQUIRED, 0);
  }
  currentIrpStack.MinorFunction = CLASSP_VOLUME_VERIFY_CHECKED;
  const status = DiskReadWriteVerification(DeviceObject, Irp);
  if (!NT_SUCCESS(status)) return completeAndRelease(fdoExt, Irp, status, 0);
  // Several paths turn a zero length into 0xFFFFFFFF: it goes no further.
  if (transferByteCount === 0) return completeAndRelease(fdoExt, Irp, STATUS_SUCCESS, 0);
  // READ/WRITE (10) carry a 4-byte LBA: a request beyond it cannot be expressed.
  if ((fdoExt.DeviceFlags & DEV_USE_16BYTE_CDB) === 0) {
    const startingLba = Math.floor(currentIrpStack.Parameters.Read.ByteOffset / 2 ** fdoExt.SectorShift);
    if (startingLba > 0xFFFFFFFF) return completeAndRelease(fdoExt, Irp, STATUS_INVALID_PARAMETER, 0);
  }
  ClasspIoStarted(fdoExt);
  return ServiceTransferRequest(DeviceObject, Irp, false);
}

/** EnqueueDeferredClientIrp: a request waits for a transfer packet. */
export function EnqueueDeferredClientIrp(Fdo: DEVICE_OBJECT, Irp: IRP): void {
  const fdoData = fdoExtensionOf(Fdo).PrivateFdoData;
  const irql = KeAcquireSpinLock(fdoData.SpinLock);
  fdoData.DeferredClientIrpList.push(Irp);
  KeReleaseSpinLock(fdoData.SpinLock, irql);
}

/** DequeueDeferredClientIrp: the oldest request waiting for a packet, or null. */
export function DequeueDeferredClientIrp(Fdo: DEVICE_OBJECT): IRP | null {
  const fdoData = fdoExtensionOf(Fdo).PrivateFdoData;
  if (fdoData.DeferredClientIrpList.length === 0) return null;
  const irql = KeAcquireSpinLock(fdoData.SpinLock);
  const irp = fdoData.DeferredClientIrpList.shift() ?? null;
  KeReleaseSpinLock(fdoData.SpinLock, irql);
  return irp;
}

/**
 * ServiceTransferRequest: cuts the request into pieces and sends each on a transfer
 * packet (from a DPC when `PostToDpc`: a request restarted from a packet's completion
 * must not nest further completions). The request is marked pending and STATUS_PENDING
 * returned; it completes when its last piece does.
 */
export function ServiceTransferRequest(Fdo: DEVICE_OBJECT, Irp: IRP, PostToDpc: boolean): NTSTATUS {
  const fdoExt = fdoExtensionOf(Fdo);
  const fdoData = fdoExt.PrivateFdoData;
  const adapter = fdoExt.AdapterDescriptor;
  const currentSp = IoGetCurrentIrpStackLocation(Irp);
  Irp.IoStatus.Status = STATUS_SUCCESS;
  let entireXferLen = currentSp.Parameters.Read.Length;
  let bufPtr = MmGetMdlVirtualAddress(Irp.MdlAddress as MDL);
  let targetLocation = currentSp.Parameters.Read.ByteOffset;
  // HwMaxXferLen assumes a buffer that starts mid-page; a page-aligned one fits a page more.
  let hwMaxXferLen: number;
  if (bufPtr % PAGE_SIZE !== 0 || fdoData.HwMaxXferLen > 0xFFFFFFFF - PAGE_SIZE) hwMaxXferLen = fdoData.HwMaxXferLen;
  else hwMaxXferLen = Math.min(fdoData.HwMaxXferLen + PAGE_SIZE, adapter.MaximumTransferLength);
  const numPackets = Math.ceil(entireXferLen / hwMaxXferLen);
  if (numPackets === 1) {
    // The common case, one piece on one packet: no list of packets is needed.
    const pkt = DequeueFreeTransferPacket(Fdo, true);
    IoMarkIrpPending(Irp);
    if (!pkt) {
      EnqueueDeferredClientIrp(Fdo, Irp);
      return STATUS_PENDING;
    }
    Irp.IoStatus.Information = 0;
    Irp.Tail.Overlay.DriverContext[0] = 1;
    SetupReadWriteTransferPacket(pkt, bufPtr, entireXferLen, targetLocation, Irp);
    if (PostToDpc) {
      pkt.RetryIn100nsUnits = 0;
      TransferPacketQueueRetryDpc(pkt);
    } else {
      void SubmitTransferPacket(pkt);
    }
    return STATUS_PENDING;
  }
  // Every packet the request needs, at once.
  const packets: TRANSFER_PACKET[] = [];
  for (let i = 0; i < numPackets; i++) {
    const pkt = DequeueFreeTransferPacket(Fdo, true);
    if (!pkt) break;
    packets.push(pkt);
  }
  IoMarkIrpPending(Irp);
  if (packets.length === numPackets) {
    Irp.IoStatus.Information = 0;
    Irp.Tail.Overlay.DriverContext[0] = numPackets;
    while (entireXferLen > 0) {
      const thisPieceLen = Math.min(hwMaxXferLen, entireXferLen);
      const pkt = packets.pop()!;
      SetupReadWriteTransferPacket(pkt, bufPtr, thisPieceLen, targetLocation, Irp);
      // A split request's pieces each get a partial MDL.
      if (numPackets > 1) pkt.UsePartialMdl = true;
      if (PostToDpc) {
        pkt.RetryIn100nsUnits = 0;
        TransferPacketQueueRetryDpc(pkt);
      } else {
        void SubmitTransferPacket(pkt);
      }
      entireXferLen -= thisPieceLen;
      bufPtr += thisPieceLen;
      targetLocation += thisPieceLen;
    }
  } else if (packets.length >= 1) {
    // Not all the packets could be had: extreme low-memory stress. One packet, a page at a time.
    while (packets.length > 1) EnqueueFreeTransferPacket(Fdo, packets.pop()!);
    const pkt = packets.pop()!;
    Irp.IoStatus.Information = 0;
    Irp.Tail.Overlay.DriverContext[0] = 1;
    SetupReadWriteTransferPacket(pkt, bufPtr, entireXferLen, targetLocation, Irp);
    InitLowMemRetry(pkt, bufPtr, entireXferLen, targetLocation);
    StepLowMemRetry(pkt);
  } else {
    // No packet at all: the request waits until one comes free.
    EnqueueDeferredClientIrp(Fdo, Irp);
  }
  return STATUS_PENDING;
}
