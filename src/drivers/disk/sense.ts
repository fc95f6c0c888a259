/**
 * Interpreting a failed SRB (classpnp's ClassInterpretSenseInfo, then disk.sys's
 * DiskFdoProcessError): the NTSTATUS the request completes with, whether to retry, and
 * how many seconds to wait first.
 *
 * With valid autosense data the sense key decides: RECOVERED ERROR succeeds; NOT READY is
 * STATUS_DEVICE_NOT_READY (LOGICAL UNIT NOT READY retried after 10 s; no medium, a format
 * in progress, manual intervention not retried); MEDIUM ERROR STATUS_DEVICE_DATA_ERROR and
 * HARDWARE ERROR STATUS_DEVICE_HARDWARE_ERROR, not retried; ILLEGAL REQUEST
 * STATUS_INVALID_DEVICE_REQUEST, LBA OUT OF RANGE STATUS_NONEXISTENT_SECTOR (retried after
 * 5 s only when the blocks are inside the capacity last read), INVALID LUN
 * STATUS_NO_SUCH_DEVICE; UNIT ATTENTION STATUS_IO_DEVICE_ERROR and retried; DATA PROTECT
 * STATUS_MEDIA_WRITE_PROTECTED for writes; ABORTED COMMAND retried after 1 s. Without sense
 * data the SRB status decides: a bus reset or a timeout is retried (STATUS_IO_DEVICE_ERROR,
 * STATUS_IO_TIMEOUT), a missing unit or selection timeout is not (STATUS_NO_SUCH_DEVICE,
 * STATUS_DEVICE_NOT_CONNECTED), and so on. A reservation conflict is STATUS_DEVICE_BUSY.
 */
import type { DEVICE_OBJECT } from "../../io/objects.js";
import { IoAllocateIrp, IoCallDriver, IoFreeIrp, IoGetNextIrpStackLocation, IoSetCompletionRoutine, type IRP } from "../../io/irp.js";
import {
  STATUS_ACCESS_DENIED, STATUS_DATA_OVERRUN, STATUS_DEVICE_BUSY, STATUS_DEVICE_DATA_ERROR, STATUS_DEVICE_HARDWARE_ERROR, STATUS_DEVICE_NOT_CONNECTED,
  STATUS_DEVICE_NOT_READY, STATUS_INVALID_BLOCK_LENGTH, STATUS_INVALID_DEVICE_REQUEST, STATUS_IO_DEVICE_ERROR, STATUS_IO_TIMEOUT,
  STATUS_MEDIA_WRITE_PROTECTED, STATUS_MORE_PROCESSING_REQUIRED, STATUS_NO_DATA_DETECTED, STATUS_NO_MEDIA_IN_DEVICE, STATUS_NO_SUCH_DEVICE,
  STATUS_NONEXISTENT_SECTOR, STATUS_SUCCESS, STATUS_UNRECOGNIZED_MEDIA, STATUS_VERIFY_REQUIRED, type NTSTATUS,
} from "../../ke/ntstatus.js";
import { DO_VERIFY_VOLUME, FILE_DEVICE_DISK, FILE_REMOVABLE_MEDIA } from "../../io/objects.js";
import { readBytes } from "../../mm/memory.js";
import {
  IRP_MJ_SCSI, SRB_FUNCTION_RESET_BUS, SRB_STATUS, SRB_STATUS_ABORTED, SRB_STATUS_AUTOSENSE_VALID, SRB_STATUS_BUS_RESET, SRB_STATUS_COMMAND_TIMEOUT,
  SRB_STATUS_DATA_OVERRUN, SRB_STATUS_ERROR, SRB_STATUS_INTERNAL_ERROR, SRB_STATUS_INVALID_LUN, SRB_STATUS_INVALID_PATH_ID, SRB_STATUS_INVALID_REQUEST,
  SRB_STATUS_INVALID_TARGET_ID, SRB_STATUS_NO_DEVICE, SRB_STATUS_NO_HBA, SRB_STATUS_PARITY_ERROR, SRB_STATUS_PHASE_SEQUENCE_FAILURE,
  SRB_STATUS_REQUEST_FLUSHED, SRB_STATUS_SELECTION_TIMEOUT, SRB_STATUS_TIMEOUT, SRB_STATUS_UNEXPECTED_BUS_FREE, SrbGetCdb, SrbGetDataTransferLength,
  SrbGetScsiStatus, SrbGetSenseInfoBuffer, SrbGetSenseInfoBufferLength, SrbGetSystemStatus, SrbSetCdbLength, SrbSetOriginalRequest, SrbSetSrbFunction, STORAGE_REQUEST_BLOCK, type SRB,
} from "../storage/srb.js";
import {
  IS_SCSIOP_READWRITE, MAX_SENSE_BUFFER_SIZE, parseReadWriteCdb, readBE, type ReadWriteCdb, SCSI_ADSENSE_BUS_RESET, SCSI_ADSENSE_ILLEGAL_BLOCK, SCSI_ADSENSE_ILLEGAL_COMMAND,
  SCSI_ADSENSE_INVALID_CDB, SCSI_ADSENSE_INVALID_LUN, SCSI_ADSENSE_INVALID_MEDIA, SCSI_ADSENSE_LUN_COMMUNICATION, SCSI_ADSENSE_LUN_NOT_READY,
  SCSI_ADSENSE_MEDIUM_CHANGED, SCSI_ADSENSE_NO_MEDIA_IN_DEVICE, SCSI_ADSENSE_PARAMETERS_CHANGED, SCSI_ADSENSE_WRITE_PROTECT, SCSI_SENSE_ABORTED_COMMAND,
  SCSI_SENSE_BLANK_CHECK, SCSI_SENSE_DATA_PROTECT, SCSI_SENSE_HARDWARE_ERROR, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_SENSE_MEDIUM_ERROR, SCSI_SENSE_NO_SENSE,
  SCSI_SENSE_NOT_READY, SCSI_SENSE_RECOVERED_ERROR, SCSI_SENSE_UNIT_ATTENTION, SCSI_SENSEQ_BECOMING_READY, SCSI_SENSEQ_CAPACITY_DATA_CHANGED,
  SCSI_SENSEQ_CAUSE_NOT_REPORTABLE, SCSI_SENSEQ_FORMAT_IN_PROGRESS, SCSI_SENSEQ_LONG_WRITE_IN_PROGRESS, SCSI_SENSEQ_MANUAL_INTERVENTION_REQUIRED,
  SCSI_SENSEQ_OPERATION_IN_PROGRESS, SCSI_SENSEQ_UNKNOWN_FORMAT, SCSI_SESNEQ_COMM_CRC_ERROR, SCSISTAT_BUSY, SCSISTAT_GOOD,
  SCSISTAT_RESERVATION_CONFLICT, SCSIOP_INQUIRY, SCSIOP_MODE_SENSE, SCSIOP_MODE_SENSE10, SCSIOP_START_STOP_UNIT, SCSIOP_WRITE, SCSIOP_WRITE12,
  SCSIOP_WRITE16, SENSE_DATA_INCORRECT_LENGTH,
} from "../storage/scsi.js";
import { CLASS_SPECIAL_FUA_NOT_SUPPORTED, DEV_SAFE_START_UNIT, DISK_TAG_CCONTEXT, NOT_READY_RETRY_INTERVAL } from "./constants.js";
import { ClasspAllocateSrb, ClasspInitializeSrb } from "./request-block.js";
import { ClassAcquireRemoveLock, ClassReleaseRemoveLock, fdoExtensionOf } from "./queue.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../../mm/pool.js";
import type { FUNCTIONAL_DEVICE_EXTENSION } from "./extension.js";

/** What ClassInterpretSenseInfo decided (the C out-parameters and return value). */
export interface SENSE_INTERPRETATION {
  /** Retry the request. */
  Retry: boolean;
  /** The status the request completes with. */
  Status: NTSTATUS;
  /** Wait before the retry, seconds (0: at once). */
  RetryInterval: number;
}

/** Sense key and codes of a sense buffer (ScsiGetSenseKeyAndCodes), with the fixed format's ILI bit. */
export interface SENSE_CODES {
  senseKey: number;
  asc: number;
  ascq: number;
  /** Fixed format only: ILI (the transfer length did not match the block). */
  incorrectLength: boolean;
  /** Fixed format: the INFORMATION field is present. */
  fixed: boolean;
}

/**
 * The sense key, ASC and ASCQ of an SRB whose autosense data is valid, or null (no valid
 * sense). Descriptor-format data (0x72/0x73) is read as such; anything else as fixed format.
 */
export function senseCodesOf(Srb: SRB): SENSE_CODES | null {
  const va = SrbGetSenseInfoBuffer(Srb);
  if ((Srb.SrbStatus & SRB_STATUS_AUTOSENSE_VALID) === 0 || va === 0) return null;
  const length = Math.min(SrbGetSenseInfoBufferLength(Srb), MAX_SENSE_BUFFER_SIZE);
  if (length < 3) return null;
  const b = readBytes(va, length);
  const code = b[0] & 0x7F;
  if (code === 0x72 || code === 0x73) {
    if (length < 4) return null;
    return { senseKey: b[1] & 0x0F, asc: b[2], ascq: b[3], incorrectLength: false, fixed: false };
  }
  return {
    senseKey: b[2] & 0x0F, asc: length > 12 ? b[12] : 0, ascq: length > 13 ? b[13] : 0,
    incorrectLength: (b[2] & SENSE_DATA_INCORRECT_LENGTH) !== 0, fixed: true,
  };
}

/** True for the WRITE CDBs (IS_SCSIOP_WRITE). */
function isWrite(opcode: number): boolean {
  return opcode === SCSIOP_WRITE || opcode === SCSIOP_WRITE12 || opcode === SCSIOP_WRITE16 || opcode === 0x0A;
}

/** Sends START UNIT to the device (ClassSendStartUnit), asynchronously; the unit said it needs one. */
function ClassSendStartUnit(Fdo: DEVICE_OBJECT): void {
  const fdoExt = fdoExtensionOf(Fdo);
  const srb = ClasspAllocateSrb(fdoExt);
  ClasspInitializeSrb(fdoExt, srb);
  srb.TimeOutValue = fdoExt.TimeOutValue;
  const cdb = SrbGetCdb(srb)!;
  cdb[0] = SCSIOP_START_STOP_UNIT;
  cdb[4] = 1;
  SrbSetCdbLength(srb, 6);
  sendAsynchronousSrb(fdoExt, srb);
}

/**
 * ClassInterpretSenseInfo: the status, retry decision and retry interval for the failed
 * `Srb`. `MajorFunctionCode` and `RetryCount` (retries done so far) are as classpnp takes
 * them. The disk's ClassError routine (DiskFdoProcessError) has the last word.
 */
export function ClassInterpretSenseInfo(Fdo: DEVICE_OBJECT, Srb: SRB, _MajorFunctionCode: number, _IoDeviceCode: number, RetryCount: number): SENSE_INTERPRETATION {
  const fdoExtension = fdoExtensionOf(Fdo);
  const fdoData = fdoExtension.PrivateFdoData;
  const cdb = SrbGetCdb(Srb);
  const cdbOpcode = cdb ? cdb[0] : 0;
  let retry = true;
  let status: NTSTATUS = STATUS_IO_DEVICE_ERROR;
  let retryInterval = 0;
  let incrementErrorCount = false;

  if (SRB_STATUS(Srb.SrbStatus) === SRB_STATUS_INTERNAL_ERROR) {
    retry = false;
    status = SrbGetSystemStatus(Srb);
  } else if (SrbGetScsiStatus(Srb) === SCSISTAT_RESERVATION_CONFLICT) {
    // Upper layers read STATUS_DEVICE_BUSY on a read or write as a reservation conflict.
    status = STATUS_DEVICE_BUSY;
    retry = false;
  } else {
    const sense = senseCodesOf(Srb);
    if (sense) {
      const { senseKey, asc, ascq } = sense;
      switch (senseKey) {
        case SCSI_SENSE_NO_SENSE:
          if (sense.incorrectLength) {
            status = STATUS_INVALID_BLOCK_LENGTH;
            retry = false;
          } else {
            status = STATUS_IO_DEVICE_ERROR;
            retry = true;
          }
          break;
        case SCSI_SENSE_RECOVERED_ERROR:
          status = sense.incorrectLength ? STATUS_INVALID_BLOCK_LENGTH : STATUS_SUCCESS;
          retry = false;
          break;
        case SCSI_SENSE_NOT_READY:
          status = STATUS_DEVICE_NOT_READY;
          if (asc === SCSI_ADSENSE_LUN_NOT_READY) {
            retryInterval = NOT_READY_RETRY_INTERVAL;
            switch (ascq) {
              case SCSI_SENSEQ_BECOMING_READY:
              case SCSI_SENSEQ_OPERATION_IN_PROGRESS:
                break;
              case SCSI_SENSEQ_MANUAL_INTERVENTION_REQUIRED:
                status = STATUS_NO_MEDIA_IN_DEVICE;
                retry = false;
                break;
              case SCSI_SENSEQ_FORMAT_IN_PROGRESS:
                retry = false;
                break;
              case SCSI_SENSEQ_LONG_WRITE_IN_PROGRESS:
                retry = false;
                retryInterval = 1;
                break;
              case SCSI_SENSEQ_CAUSE_NOT_REPORTABLE:
                retry = false;
                break;
              default:
                // INITIALIZING COMMAND REQUIRED and the rest: a disk may need a START UNIT.
                retryInterval = 0;
                if ((fdoExtension.DeviceFlags & DEV_SAFE_START_UNIT) !== 0) ClassSendStartUnit(Fdo);
                break;
            }
          } else if (asc === SCSI_ADSENSE_NO_MEDIA_IN_DEVICE) {
            status = STATUS_NO_MEDIA_IN_DEVICE;
            retry = false;
          }
          break;
        case SCSI_SENSE_MEDIUM_ERROR:
          status = STATUS_DEVICE_DATA_ERROR;
          retry = false;
          if (asc === SCSI_ADSENSE_INVALID_MEDIA && ascq === SCSI_SENSEQ_UNKNOWN_FORMAT) status = STATUS_UNRECOGNIZED_MEDIA;
          break;
        case SCSI_SENSE_HARDWARE_ERROR:
          if (!fdoData.LegacyErrorHandling) {
            // Something is seriously wrong with the device; retries will not help.
            retry = false;
            status = STATUS_DEVICE_HARDWARE_ERROR;
          } else {
            retry = true;
            status = STATUS_IO_DEVICE_ERROR;
          }
          // A link CRC error is retried after a second.
          if (asc === SCSI_ADSENSE_LUN_COMMUNICATION && ascq === SCSI_SESNEQ_COMM_CRC_ERROR) {
            retry = true;
            retryInterval = 1;
          }
          break;
        case SCSI_SENSE_ILLEGAL_REQUEST:
          status = STATUS_INVALID_DEVICE_REQUEST;
          retry = false;
          switch (asc) {
            case SCSI_ADSENSE_ILLEGAL_COMMAND:
              break;
            case SCSI_ADSENSE_ILLEGAL_BLOCK: {
              status = STATUS_NONEXISTENT_SECTOR;
              const rw: ReadWriteCdb = { lba: 0, blocks: 0, fua: false };
              if (Fdo.DeviceType === FILE_DEVICE_DISK && cdb && IS_SCSIOP_READWRITE(cdbOpcode) && parseReadWriteCdb(cdb, rw)) {
                const lastLBA = fdoData.LastKnownDriveCapacityData.LogicalBlockAddress;
                if (!(rw.lba > lastLBA || rw.lba + rw.blocks - 1 > lastLBA)) {
                  // Inside the capacity: some drives report this transiently for a legal LBA.
                  retry = true;
                  retryInterval = 5;
                }
              }
              break;
            }
            case SCSI_ADSENSE_INVALID_CDB:
              retryInterval = 3;
              break;
            case SCSI_ADSENSE_INVALID_LUN:
              status = STATUS_NO_SUCH_DEVICE;
              break;
            default:
              break;
          }
          break;
        case SCSI_SENSE_UNIT_ATTENTION: {
          // The medium may have changed.
          fdoExtension.MediaChangeCount = (fdoExtension.MediaChangeCount + 1) >>> 0;
          switch (asc) {
            case SCSI_ADSENSE_MEDIUM_CHANGED:
            case SCSI_ADSENSE_BUS_RESET:
              break;
            case SCSI_ADSENSE_PARAMETERS_CHANGED:
              if (ascq === SCSI_SENSEQ_CAPACITY_DATA_CHANGED) {
                retryInterval = 1;
                retry = true;
              }
              break;
            default:
              break;
          }
          status = STATUS_IO_DEVICE_ERROR;
          break;
        }
        case SCSI_SENSE_DATA_PROTECT:
          retry = false;
          // WRITE PROTECTED (0x27) keeps the general status (classpnp only singles out its
          // space-allocation qualifier, thin provisioning); any other code depends on the command.
          if (asc !== SCSI_ADSENSE_WRITE_PROTECT) status = isWrite(cdbOpcode) ? STATUS_MEDIA_WRITE_PROTECTED : STATUS_ACCESS_DENIED;
          break;
        case SCSI_SENSE_BLANK_CHECK:
          retry = false;
          status = STATUS_NO_DATA_DETECTED;
          break;
        case SCSI_SENSE_ABORTED_COMMAND:
          status = STATUS_IO_DEVICE_ERROR;
          retryInterval = 1;
          break;
        default:
          status = STATUS_IO_DEVICE_ERROR;
          break;
      }
    } else {
      // No sense data to go on: the SRB status decides.
      retry = true;
      switch (SRB_STATUS(Srb.SrbStatus)) {
        case SRB_STATUS_ABORTED:
          incrementErrorCount = true;
          status = STATUS_IO_TIMEOUT;
          retryInterval = 1;
          break;
        case SRB_STATUS_ERROR:
          status = STATUS_IO_DEVICE_ERROR;
          if (SrbGetScsiStatus(Srb) === SCSISTAT_GOOD) incrementErrorCount = true;
          else if (SrbGetScsiStatus(Srb) === SCSISTAT_BUSY) status = STATUS_DEVICE_NOT_READY;
          break;
        case SRB_STATUS_INVALID_REQUEST:
          status = STATUS_INVALID_DEVICE_REQUEST;
          retry = false;
          break;
        case SRB_STATUS_INVALID_PATH_ID:
        case SRB_STATUS_NO_DEVICE:
        case SRB_STATUS_NO_HBA:
        case SRB_STATUS_INVALID_LUN:
        case SRB_STATUS_INVALID_TARGET_ID:
          status = STATUS_NO_SUCH_DEVICE;
          retry = false;
          break;
        case SRB_STATUS_SELECTION_TIMEOUT:
          status = STATUS_DEVICE_NOT_CONNECTED;
          retry = false;
          break;
        case SRB_STATUS_TIMEOUT:
        case SRB_STATUS_COMMAND_TIMEOUT:
          incrementErrorCount = true;
          status = STATUS_IO_TIMEOUT;
          break;
        case SRB_STATUS_PARITY_ERROR:
        case SRB_STATUS_UNEXPECTED_BUS_FREE:
          incrementErrorCount = true;
          status = STATUS_IO_DEVICE_ERROR;
          break;
        case SRB_STATUS_BUS_RESET:
          status = STATUS_IO_DEVICE_ERROR;
          break;
        case SRB_STATUS_DATA_OVERRUN: {
          status = STATUS_DATA_OVERRUN;
          retry = false;
          // A buffer larger than the data (MODE SENSE, INQUIRY): the command succeeded.
          const transferred = SrbGetDataTransferLength(Srb);
          if ((cdbOpcode === SCSIOP_MODE_SENSE && cdb && transferred <= cdb[4]) || (cdbOpcode === SCSIOP_INQUIRY && cdb && transferred <= readBE(cdb, 3, 2))) {
            status = STATUS_SUCCESS;
          } else if (cdbOpcode === SCSIOP_MODE_SENSE10 && cdb && transferred <= readBE(cdb, 7, 2)) {
            status = STATUS_SUCCESS;
          }
          break;
        }
        case SRB_STATUS_PHASE_SEQUENCE_FAILURE:
          incrementErrorCount = true;
          status = STATUS_IO_DEVICE_ERROR;
          if (RetryCount > 1) retry = false;
          break;
        case SRB_STATUS_REQUEST_FLUSHED:
          if ((Fdo.Flags & DO_VERIFY_VOLUME) !== 0) {
            status = STATUS_VERIFY_REQUIRED;
            retry = false;
          } else {
            status = STATUS_IO_DEVICE_ERROR;
          }
          break;
        default:
          status = STATUS_IO_DEVICE_ERROR;
          break;
      }
    }
  }

  if (incrementErrorCount) {
    // Any device error delays the retry by at least a second.
    if (retryInterval === 0) retryInterval = 1;
    fdoData.ErrorCount++;
  }
  const r: SENSE_INTERPRETATION = { Retry: retry, Status: status, RetryInterval: retryInterval };
  DiskFdoProcessError(Fdo, Srb, r);
  return r;
}

/**
 * DiskFdoProcessError (disk.sys's ClassError): an overrun on a read or write is retried; a
 * drive busy far too long gets a bus reset; a write with FUA the device rejects is retried
 * without FUA (and FUA is not used again); on removable media, anything that may mean the
 * medium changed asks for the volume to be verified.
 */
export function DiskFdoProcessError(Fdo: DEVICE_OBJECT, Srb: SRB, r: SENSE_INTERPRETATION): void {
  const fdoExtension = fdoExtensionOf(Fdo);
  const cdb = SrbGetCdb(Srb);
  const opcode = cdb ? cdb[0] : 0;
  if (r.Status === STATUS_DATA_OVERRUN && IS_SCSIOP_READWRITE(opcode)) {
    r.Retry = true;
    fdoExtension.PrivateFdoData.ErrorCount++;
    return;
  }
  if (SRB_STATUS(Srb.SrbStatus) === SRB_STATUS_ERROR && SrbGetScsiStatus(Srb) === SCSISTAT_BUSY) {
    // A disk should never be busy this long: reset the bus, which may clear it.
    ResetBus(Fdo);
    fdoExtension.PrivateFdoData.ErrorCount++;
    return;
  }
  let invalidatePartitionTable = false;
  const sense = senseCodesOf(Srb);
  if (sense && cdb) {
    switch (sense.senseKey) {
      case SCSI_SENSE_ILLEGAL_REQUEST:
        if (sense.asc === SCSI_ADSENSE_INVALID_CDB && (opcode === SCSIOP_WRITE || opcode === SCSIOP_WRITE16) && (cdb[1] & 0x08) !== 0) {
          // The device does not take FUA: no more FUA writes; this one again without it.
          fdoExtension.ScanForSpecialFlags |= CLASS_SPECIAL_FUA_NOT_SUPPORTED;
          fdoExtension.CdbForceUnitAccess = false;
          cdb[1] &= ~0x08;
          r.Retry = true;
        }
        break;
      case SCSI_SENSE_NOT_READY:
        if ((sense.asc === SCSI_ADSENSE_LUN_NOT_READY && (sense.ascq === SCSI_SENSEQ_BECOMING_READY || sense.ascq === SCSI_SENSEQ_MANUAL_INTERVENTION_REQUIRED
          || sense.ascq === SCSI_SENSEQ_CAUSE_NOT_REPORTABLE)) || sense.asc === SCSI_ADSENSE_NO_MEDIA_IN_DEVICE) invalidatePartitionTable = true;
        break;
      case SCSI_SENSE_MEDIUM_ERROR:
      case SCSI_SENSE_HARDWARE_ERROR:
      case SCSI_SENSE_UNIT_ATTENTION:
      case SCSI_SENSE_RECOVERED_ERROR:
        invalidatePartitionTable = true;
        break;
      default:
        break;
    }
  } else if (!sense) {
    switch (SRB_STATUS(Srb.SrbStatus)) {
      case SRB_STATUS_INVALID_LUN:
      case SRB_STATUS_INVALID_TARGET_ID:
      case SRB_STATUS_NO_DEVICE:
      case SRB_STATUS_NO_HBA:
      case SRB_STATUS_INVALID_PATH_ID:
      case SRB_STATUS_COMMAND_TIMEOUT:
      case SRB_STATUS_TIMEOUT:
      case SRB_STATUS_SELECTION_TIMEOUT:
      case SRB_STATUS_REQUEST_FLUSHED:
      case SRB_STATUS_UNEXPECTED_BUS_FREE:
      case SRB_STATUS_PARITY_ERROR:
        invalidatePartitionTable = true;
        break;
      case SRB_STATUS_ERROR:
        if (SrbGetScsiStatus(Srb) === SCSISTAT_RESERVATION_CONFLICT) invalidatePartitionTable = true;
        break;
      default:
        break;
    }
  }
  if (invalidatePartitionTable && (Fdo.Characteristics & FILE_REMOVABLE_MEDIA) !== 0) Fdo.Flags |= DO_VERIFY_VOLUME;
}

/** The context of an SRB the driver sends and forgets (a bus reset, a START UNIT): freed by its completion routine. */
class ASYNCHRONOUS_SRB_CONTEXT {
  constructor(readonly fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, readonly Srb: SRB, readonly address: number) {}
}

/** ClassAsynchronousCompletion: frees the IRP and context of a fire-and-forget SRB and drops its remove lock. */
function ClassAsynchronousCompletion(_DeviceObject: DEVICE_OBJECT | null, Irp: IRP, Context: unknown): NTSTATUS {
  const context = Context as ASYNCHRONOUS_SRB_CONTEXT;
  ClassReleaseRemoveLock(context.fdoExtension, Irp);
  IoFreeIrp(Irp);
  ExFreePoolWithTag(context.address, DISK_TAG_CCONTEXT);
  return STATUS_MORE_PROCESSING_REQUIRED;
}

/** Sends `Srb` down in a new IRP and lets ClassAsynchronousCompletion clean up. */
function sendAsynchronousSrb(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Srb: SRB): void {
  const address = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 0x80, DISK_TAG_CCONTEXT);
  if (address === 0) return;
  const Fdo = fdoExtension.DeviceObject;
  const irp = IoAllocateIrp(Fdo.StackSize, false);
  if (!irp) {
    ExFreePoolWithTag(address, DISK_TAG_CCONTEXT);
    return;
  }
  ClassAcquireRemoveLock(fdoExtension, irp);
  IoSetCompletionRoutine(irp, ClassAsynchronousCompletion, new ASYNCHRONOUS_SRB_CONTEXT(fdoExtension, Srb, address), true, true, true);
  const s = IoGetNextIrpStackLocation(irp);
  s.MajorFunction = IRP_MJ_SCSI;
  s.Parameters.Scsi.Srb = Srb;
  SrbSetOriginalRequest(Srb, irp);
  void IoCallDriver(fdoExtension.LowerDeviceObject, irp);
}

/** ResetBus: sends SRB_FUNCTION_RESET_BUS to the port and does not wait for it. */
export function ResetBus(Fdo: DEVICE_OBJECT): void {
  const fdoExt = fdoExtensionOf(Fdo);
  const srb = ClasspAllocateSrb(fdoExt);
  ClasspInitializeSrb(fdoExt, srb);
  SrbSetSrbFunction(srb, SRB_FUNCTION_RESET_BUS);
  // Not a SCSI command: an extended SRB carries no CDB block.
  if (srb instanceof STORAGE_REQUEST_BLOCK) srb.SrbExData = [];
  else srb.CdbLength = 0;
  sendAsynchronousSrb(fdoExt, srb);
}
