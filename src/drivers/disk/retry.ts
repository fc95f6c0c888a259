/**
 * Retrying transfer packets (classpnp's retry.c). A failed packet's SRB is interpreted
 * (ClassInterpretSenseInfo, by what the packet carried) into the status it would complete
 * with, whether to retry, and after how long. A retry resends the same SRB (the port may
 * have left fields it needs) after the interval, from a timer DPC (at once: from a DPC);
 * the last retry is toned down (no disconnect, no synchronous transfer, untagged). A
 * timeout or bus reset may be retried only as often as NumIoTimeoutRetries allows.
 * STATUS_INSUFFICIENT_RESOURCES on a read or write switches to the low-memory retry: the
 * rest of the piece goes one page at a time through the same packet.
 */
import { IoGetCurrentIrpStackLocation, SL_OVERRIDE_VERIFY_VOLUME } from "../../io/irp.js";
import { KeInitializeDpc, KeInsertQueueDpc, type KDPC } from "../../ke/dpc.js";
import { KeInitializeTimer, KeSetTimer } from "../../ke/timer.js";
import { STATUS_DEVICE_NOT_READY, STATUS_INSUFFICIENT_RESOURCES, STATUS_IO_DEVICE_ERROR, STATUS_SUCCESS, STATUS_VERIFY_REQUIRED } from "../../ke/ntstatus.js";
import { RtlZeroMemory } from "../../mm/memory.js";
import { PAGE_SIZE } from "../../mm/pfn.js";
import {
  IRP_MJ_SCSI, SP_UNTAGGED, SRB_FLAGS_DISABLE_DISCONNECT, SRB_FLAGS_DISABLE_SYNCH_TRANSFER, SRB_FLAGS_QUEUE_ACTION_ENABLE, SRB_STATUS,
  SRB_STATUS_ABORTED, SRB_STATUS_BUS_RESET, SRB_STATUS_COMMAND_TIMEOUT, SRB_STATUS_DATA_OVERRUN, SRB_STATUS_SELECTION_TIMEOUT, SRB_STATUS_TIMEOUT,
  SrbClearSrbFlags, SrbSetDataBuffer, SrbSetDataTransferLength, SrbSetRequestTag, SrbSetSrbFlags, type SRB,
} from "../storage/srb.js";
import { SCSI_ADSENSE_LUN_NOT_READY, SENSE_BUFFER_SIZE_EX } from "../storage/scsi.js";
import { NUM_DRIVECAPACITY_RETRIES, NUM_MODESENSE_RETRIES } from "./constants.js";
import { fdoExtensionOf } from "./queue.js";
import { ClassInterpretSenseInfo, senseCodesOf } from "./sense.js";
import { SetupReadWriteTransferPacket, SubmitTransferPacket, TRANSFER_PACKET_KIND, type TRANSFER_PACKET } from "./xferpkt.js";

/** ClasspSrbTimeOutStatus: the SRB timed out, was aborted, or hit a bus reset. */
export function ClasspSrbTimeOutStatus(Srb: SRB): boolean {
  const s = SRB_STATUS(Srb.SrbStatus);
  return s === SRB_STATUS_BUS_RESET || s === SRB_STATUS_TIMEOUT || s === SRB_STATUS_COMMAND_TIMEOUT || s === SRB_STATUS_ABORTED;
}

/** How many times the packet has been retried already (ClasspTransferPacketGetNumberOfRetriesDone). */
function retriesDone(Pkt: TRANSFER_PACKET): number {
  switch (Pkt.Kind) {
    case TRANSFER_PACKET_KIND.ModeSense: return NUM_MODESENSE_RETRIES - Pkt.NumRetries;
    case TRANSFER_PACKET_KIND.DriveCapacity: return NUM_DRIVECAPACITY_RETRIES - Pkt.NumRetries;
    default: return fdoExtensionOf(Pkt.Fdo).PrivateFdoData.MaxNumberOfIoRetries - Pkt.NumRetries;
  }
}

/** A timed-out packet may be retried only while NumIoTimeoutRetries lasts; counts one. */
function limitTimeoutRetries(Pkt: TRANSFER_PACKET, shouldRetry: boolean): boolean {
  if (!ClasspSrbTimeOutStatus(Pkt.Srb)) return shouldRetry;
  Pkt.TimedOut = true;
  if (!shouldRetry) return false;
  if (Pkt.NumIoTimeoutRetries === 0) return false;
  Pkt.NumIoTimeoutRetries--;
  return true;
}

/**
 * InterpretTransferPacketError: sets the packet IRP's status from the failed SRB and the
 * retry interval, and returns whether the packet should be retried.
 */
export function InterpretTransferPacketError(Pkt: TRANSFER_PACKET): boolean {
  const srb = Pkt.Srb;
  Pkt.RetryIn100nsUnits = 0;
  const timesAlreadyRetried = retriesDone(Pkt);
  let shouldRetry = false;
  let seconds = 0;
  switch (Pkt.Kind) {
    case TRANSFER_PACKET_KIND.ModeSense: {
      const r = ClassInterpretSenseInfo(Pkt.Fdo, srb, IRP_MJ_SCSI, 0, timesAlreadyRetried);
      Pkt.Irp.IoStatus.Status = r.Status;
      shouldRetry = r.Retry;
      seconds = r.RetryInterval;
      if (shouldRetry) {
        // A unit becoming ready, or not answering selection, gets at least two seconds.
        const codes = senseCodesOf(srb);
        if ((codes && r.Status === STATUS_DEVICE_NOT_READY && codes.asc === SCSI_ADSENSE_LUN_NOT_READY) || SRB_STATUS(srb.SrbStatus) === SRB_STATUS_SELECTION_TIMEOUT) {
          seconds = Math.max(seconds, 2);
        }
      }
      if (r.Status === STATUS_VERIFY_REQUIRED) {
        shouldRetry = true;
      } else if (SRB_STATUS(srb.SrbStatus) === SRB_STATUS_DATA_OVERRUN) {
        // An underrun reported as an overrun: the data is there.
        Pkt.Irp.IoStatus.Status = STATUS_SUCCESS;
        shouldRetry = false;
      }
      break;
    }
    case TRANSFER_PACKET_KIND.DriveCapacity: {
      const r = ClassInterpretSenseInfo(Pkt.Fdo, srb, IRP_MJ_SCSI, 0, timesAlreadyRetried);
      Pkt.Irp.IoStatus.Status = r.Status;
      shouldRetry = r.Retry;
      seconds = r.RetryInterval;
      if (r.Status === STATUS_VERIFY_REQUIRED) shouldRetry = true;
      else shouldRetry = limitTimeoutRetries(Pkt, shouldRetry);
      break;
    }
    default: {
      const origCurrentSp = IoGetCurrentIrpStackLocation(Pkt.OriginalIrp!);
      const r = ClassInterpretSenseInfo(Pkt.Fdo, srb, origCurrentSp.MajorFunction, 0, timesAlreadyRetried);
      Pkt.Irp.IoStatus.Status = r.Status;
      shouldRetry = r.Retry;
      seconds = r.RetryInterval;
      if (r.Status === STATUS_INSUFFICIENT_RESOURCES) {
        // Extreme low-memory stress: retried in smaller pieces.
        shouldRetry = true;
      } else if ((origCurrentSp.Flags & SL_OVERRIDE_VERIFY_VOLUME) !== 0 && r.Status === STATUS_VERIFY_REQUIRED) {
        // Still verifying a (possibly) changed medium: retry.
        Pkt.Irp.IoStatus.Status = STATUS_IO_DEVICE_ERROR;
        shouldRetry = true;
      } else {
        shouldRetry = limitTimeoutRetries(Pkt, shouldRetry);
      }
      break;
    }
  }
  if (shouldRetry) Pkt.RetryIn100nsUnits = seconds * 1000 * 1000 * 10;
  return shouldRetry;
}

/**
 * RetryTransferPacket: counts a retry and sends the packet again after its interval (the
 * last retry toned down). Returns true when the packet is done instead (a low-memory
 * failure that cannot be split further).
 */
export function RetryTransferPacket(Pkt: TRANSFER_PACKET): boolean {
  Pkt.NumRetries--;
  // The last retry (or the last one a timeout allows) goes without disconnect, synchronous transfer or tagging.
  if (Pkt.NumRetries === 0 || (Pkt.TimedOut && Pkt.NumIoTimeoutRetries === 0)) {
    SrbSetSrbFlags(Pkt.Srb, SRB_FLAGS_DISABLE_DISCONNECT | SRB_FLAGS_DISABLE_SYNCH_TRANSFER);
    SrbClearSrbFlags(Pkt.Srb, SRB_FLAGS_QUEUE_ACTION_ENABLE);
    SrbSetRequestTag(Pkt.Srb, SP_UNTAGGED);
  }
  if (Pkt.Irp.IoStatus.Status === STATUS_INSUFFICIENT_RESOURCES) {
    if (Pkt.InLowMemRetry || Pkt.Kind !== TRANSFER_PACKET_KIND.ReadWrite) return true;
    InitLowMemRetry(Pkt, Pkt.BufPtrCopy, Pkt.BufLenCopy, Pkt.TargetLocationCopy);
    StepLowMemRetry(Pkt);
    return false;
  }
  // The port may have changed these when it failed the SRB.
  SrbSetDataBuffer(Pkt.Srb, Pkt.BufPtrCopy);
  SrbSetDataTransferLength(Pkt.Srb, Pkt.BufLenCopy);
  TransferPacketQueueRetryDpc(Pkt);
  return false;
}

/** Resends the packet from its DPC: at once, or when its retry timer expires. */
export function TransferPacketQueueRetryDpc(Pkt: TRANSFER_PACKET): void {
  KeInitializeDpc(Pkt.RetryTimerDPC, TransferPacketRetryTimerDpc, Pkt);
  if (Pkt.RetryIn100nsUnits === 0) {
    KeInsertQueueDpc(Pkt.RetryTimerDPC, null, null);
  } else {
    KeInitializeTimer(Pkt.RetryTimer);
    KeSetTimer(Pkt.RetryTimer, -Pkt.RetryIn100nsUnits, Pkt.RetryTimerDPC);
  }
}

/** The retry DPC: clears the sense data the last attempt left and submits the packet again. */
export function TransferPacketRetryTimerDpc(_Dpc: KDPC, DeferredContext: unknown): void {
  const pkt = DeferredContext as TRANSFER_PACKET;
  RtlZeroMemory(pkt.SenseBuffer, SENSE_BUFFER_SIZE_EX);
  void SubmitTransferPacket(pkt);
}

/** InitLowMemRetry: the rest of the piece (`Len` bytes at `BufPtr`, disk byte `TargetLocation`) goes page by page. */
export function InitLowMemRetry(Pkt: TRANSFER_PACKET, BufPtr: number, Len: number, TargetLocation: number): void {
  Pkt.InLowMemRetry = true;
  Pkt.LowMemRetry_remainingBufPtr = BufPtr;
  Pkt.LowMemRetry_remainingBufLen = Len;
  Pkt.LowMemRetry_nextChunkTargetLocation = TargetLocation;
}

/**
 * StepLowMemRetry: sends the next chunk (at most a page, never crossing a page boundary)
 * through the packet's partial MDL. Returns true when nothing is left (the packet is done).
 */
export function StepLowMemRetry(Pkt: TRANSFER_PACKET): boolean {
  if (Pkt.LowMemRetry_remainingBufLen === 0) return true;
  const bytesToNextPageBoundary = PAGE_SIZE - (Pkt.LowMemRetry_remainingBufPtr % PAGE_SIZE);
  const thisChunkLen = Math.min(Pkt.LowMemRetry_remainingBufLen, bytesToNextPageBoundary);
  SetupReadWriteTransferPacket(Pkt, Pkt.LowMemRetry_remainingBufPtr, thisChunkLen, Pkt.LowMemRetry_nextChunkTargetLocation, Pkt.OriginalIrp!);
  Pkt.LowMemRetry_remainingBufPtr += thisChunkLen;
  Pkt.LowMemRetry_remainingBufLen -= thisChunkLen;
  Pkt.LowMemRetry_nextChunkTargetLocation += thisChunkLen;
  Pkt.UsePartialMdl = true;
  Pkt.RetryIn100nsUnits = 0;
  TransferPacketQueueRetryDpc(Pkt);
  return false;
}
