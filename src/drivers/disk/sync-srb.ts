/**
 * ClassSendSrbSynchronous: the driver's own commands that are not reads or writes (INQUIRY,
 * READ CAPACITY (16), TEST UNIT READY, SYNCHRONIZE CACHE, VERIFY, MODE SENSE for the
 * write-protect bit). The SRB goes down in an IRP of its own with a nonpaged sense buffer
 * and, for data, an MDL built for the nonpaged buffer; the caller waits. A failure is
 * interpreted (ClassInterpretSenseInfo) and retried up to MAXIMUM_RETRIES times, at once,
 * or after at least two seconds when the unit is becoming ready or did not answer selection.
 */
import type { DEVICE_OBJECT } from "../../io/objects.js";
import { IO_STATUS_BLOCK, IoAllocateIrp, IoCallDriver, IoFreeIrp, IoGetNextIrpStackLocation, IoSetCompletionRoutine, type IRP } from "../../io/irp.js";
import { IoAllocateMdl, IoFreeMdl } from "../../io/mdl.js";
import {
  EVENT_TYPE, KEVENT, KeDelayExecutionThread, KeInitializeEvent, KeSetEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON,
} from "../../ke/dispatcher.js";
import { STATUS_DEVICE_NOT_READY, STATUS_INSUFFICIENT_RESOURCES, STATUS_MORE_PROCESSING_REQUIRED, STATUS_PENDING, STATUS_SUCCESS, type NTSTATUS } from "../../ke/ntstatus.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../../mm/pool.js";
import { MmBuildMdlForNonPagedPool, type MDL } from "../../mm/mdl.js";
import { RtlZeroMemory, type PVOID } from "../../mm/memory.js";
import {
  IRP_MJ_SCSI, SRB_FLAGS_DATA_IN, SRB_FLAGS_DATA_OUT, SRB_FLAGS_DISABLE_SYNCH_TRANSFER, SRB_FLAGS_NO_QUEUE_FREEZE, SRB_SIMPLE_TAG_REQUEST, SRB_STATUS,
  SRB_STATUS_SELECTION_TIMEOUT, SRB_STATUS_SUCCESS, SrbAssignSrbFlags, SrbSetDataBuffer, SrbSetDataTransferLength, SrbSetNextSrb, SrbSetOriginalRequest,
  SrbSetRequestAttribute, SrbSetScsiStatus, SrbSetSenseInfoBuffer, SrbSetSenseInfoBufferLength, SrbSetSrbFlags, type SRB,
} from "../storage/srb.js";
import { SCSI_ADSENSE_LUN_NOT_READY, SENSE_BUFFER_SIZE_EX } from "../storage/scsi.js";
import { CLASS_TAG_SYNC_SENSE, MAXIMUM_RETRIES, NOT_READY_SYNC_DELAY_100NS } from "./constants.js";
import { fdoExtensionOf } from "./queue.js";
import { ClassInterpretSenseInfo, senseCodesOf } from "./sense.js";

/** One synchronous SRB's wait: the event its completion routine sets and the status it copies. */
class SYNCHRONOUS_SRB_CONTEXT {
  readonly Event = new KEVENT();
  readonly IoStatus = new IO_STATUS_BLOCK();
}

/** ClasspSendSynchronousCompletion: copies the status, frees the MDL and the IRP, wakes the sender. */
function ClasspSendSynchronousCompletion(_DeviceObject: DEVICE_OBJECT | null, Irp: IRP, Context: unknown): NTSTATUS {
  const context = Context as SYNCHRONOUS_SRB_CONTEXT;
  context.IoStatus.Status = Irp.IoStatus.Status;
  context.IoStatus.Information = Irp.IoStatus.Information;
  if (Irp.MdlAddress) IoFreeMdl(Irp.MdlAddress as MDL);
  Irp.MdlAddress = null;
  IoFreeIrp(Irp);
  KeSetEvent(context.Event, 0, false);
  return STATUS_MORE_PROCESSING_REQUIRED;
}

/**
 * InterpretSenseInfoWithoutHistory: ClassInterpretSenseInfo with the retry interval in 100
 * ns units. Returns whether to retry, the status and the interval.
 */
export function InterpretSenseInfoWithoutHistory(Fdo: DEVICE_OBJECT, Srb: SRB, MajorFunctionCode: number, IoDeviceCode: number, PreviousRetryCount: number): { retry: boolean; status: NTSTATUS; retryIn100nsUnits: number } {
  const r = ClassInterpretSenseInfo(Fdo, Srb, MajorFunctionCode, IoDeviceCode, PreviousRetryCount);
  return { retry: r.Retry, status: r.Status, retryIn100nsUnits: r.RetryInterval * 1000 * 1000 * 10 };
}

/**
 * ClassSendSrbSynchronous: sends `Srb` (a SCSI command set up by the caller) with
 * `BufferLength` bytes of nonpaged `BufferAddress` (0 for none; to the device when
 * `WriteToDevice`), retrying as described above, and resolves to the final status. The
 * SRB's DataTransferLength then says how many bytes moved. PASSIVE_LEVEL.
 */
export async function ClassSendSrbSynchronous(Fdo: DEVICE_OBJECT, Srb: SRB, BufferAddress: PVOID, BufferLength: number, WriteToDevice: boolean): Promise<NTSTATUS> {
  const fdoExtension = fdoExtensionOf(Fdo);
  const lower = fdoExtension.LowerDeviceObject;
  const senseInfoBuffer = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPoolNx, SENSE_BUFFER_SIZE_EX, CLASS_TAG_SYNC_SENSE);
  if (senseInfoBuffer === 0) return STATUS_INSUFFICIENT_RESOURCES;
  RtlZeroMemory(senseInfoBuffer, SENSE_BUFFER_SIZE_EX);
  SrbSetSenseInfoBufferLength(Srb, SENSE_BUFFER_SIZE_EX);
  SrbSetSenseInfoBuffer(Srb, senseInfoBuffer);
  SrbSetDataBuffer(Srb, BufferAddress);
  let retryCount = MAXIMUM_RETRIES;
  let status: NTSTATUS = STATUS_SUCCESS;
  const context = new SYNCHRONOUS_SRB_CONTEXT();
  for (;;) {
    // The FDO's flags by default (they may change as commands fail).
    SrbAssignSrbFlags(Srb, fdoExtension.SrbFlags);
    if (BufferAddress !== 0) SrbSetSrbFlags(Srb, WriteToDevice ? SRB_FLAGS_DATA_OUT : SRB_FLAGS_DATA_IN);
    SrbSetRequestAttribute(Srb, SRB_SIMPLE_TAG_REQUEST);
    SrbSetSrbFlags(Srb, SRB_FLAGS_DISABLE_SYNCH_TRANSFER | SRB_FLAGS_NO_QUEUE_FREEZE);
    KeInitializeEvent(context.Event, EVENT_TYPE.NotificationEvent, false);
    const irp = IoAllocateIrp(lower.StackSize + 1, false);
    if (!irp) {
      status = STATUS_INSUFFICIENT_RESOURCES;
      break;
    }
    const irpStack = IoGetNextIrpStackLocation(irp);
    irpStack.MajorFunction = IRP_MJ_SCSI;
    irpStack.Parameters.Scsi.Srb = Srb;
    IoSetCompletionRoutine(irp, ClasspSendSynchronousCompletion, context, true, true, true);
    if (BufferAddress !== 0) {
      const mdl = IoAllocateMdl(BufferAddress, BufferLength, false, false, irp);
      if (!mdl) {
        IoFreeIrp(irp);
        status = STATUS_INSUFFICIENT_RESOURCES;
        break;
      }
      MmBuildMdlForNonPagedPool(mdl);
    }
    SrbSetDataTransferLength(Srb, BufferLength);
    SrbSetScsiStatus(Srb, 0);
    Srb.SrbStatus = 0;
    SrbSetNextSrb(Srb, null);
    SrbSetOriginalRequest(Srb, irp);
    status = await IoCallDriver(lower, irp);
    if (status === STATUS_PENDING) {
      await KeWaitForSingleObject(context.Event, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
      status = context.IoStatus.Status;
    }
    // The IRP is gone: no reference to it may stay.
    SrbSetOriginalRequest(Srb, null);
    if (SRB_STATUS(Srb.SrbStatus) === SRB_STATUS_SUCCESS) {
      fdoExtension.PrivateFdoData.LoggedTURFailureSinceLastIO = false;
      status = STATUS_SUCCESS;
      break;
    }
    const r = InterpretSenseInfoWithoutHistory(Fdo, Srb, IRP_MJ_SCSI, 0, MAXIMUM_RETRIES - retryCount);
    status = r.status;
    if (!r.retry) break;
    const codes = status === STATUS_DEVICE_NOT_READY ? senseCodesOf(Srb) : null;
    if ((codes && codes.asc === SCSI_ADSENSE_LUN_NOT_READY) || SRB_STATUS(Srb.SrbStatus) === SRB_STATUS_SELECTION_TIMEOUT) {
      // Give the device at least two seconds to become ready.
      await KeDelayExecutionThread(KPROCESSOR_MODE.KernelMode, false, -Math.max(r.retryIn100nsUnits, NOT_READY_SYNC_DELAY_100NS));
    }
    if (retryCount-- === 0) break;
  }
  ExFreePoolWithTag(senseInfoBuffer, CLASS_TAG_SYNC_SENSE);
  SrbSetSenseInfoBuffer(Srb, 0);
  SrbSetSenseInfoBufferLength(Srb, 0);
  return status;
}
