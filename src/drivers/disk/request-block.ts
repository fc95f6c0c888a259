/**
 * SRBs the disk sends, in the kind its port asks for (STORAGE_ADAPTER_DESCRIPTOR.SrbType):
 * a SCSI_REQUEST_BLOCK, or a STORAGE_REQUEST_BLOCK with one SRBEX_DATA_SCSI_CDB16 block.
 * InitializeSrb puts an SRB back in the state classpnp's SrbTemplate holds (EXECUTE_SCSI,
 * simple-tag queue action, the unit's address, a 10-byte CDB of zeros, no status), which
 * every request starts from.
 */
import {
  SCSI_REQUEST_BLOCK_SIZE, SRB_FUNCTION_EXECUTE_SCSI, SRB_SIMPLE_TAG_REQUEST, SRB_STATUS_PENDING, SrbGetCdb, SrbSetCdbLength, SrbSetPathTargetLun,
  SrbSetRequestAttribute, SrbSetRequestTag, SrbSetScsiStatus, SrbSetSenseInfoBuffer, SrbSetSenseInfoBufferLength, STORAGE_REQUEST_BLOCK,
  SCSI_REQUEST_BLOCK, newScsiSrb, type SRB,
} from "../storage/srb.js";
import { SRB_TYPE_STORAGE_REQUEST_BLOCK } from "../storage/ntddstor.js";
import type { FUNCTIONAL_DEVICE_EXTENSION } from "./extension.js";

/** A new SRB of the adapter's kind addressed to the unit. */
export function ClasspAllocateSrb(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION): SRB {
  const a = fdoExtension.DiskData.ScsiAddress;
  return newScsiSrb(fdoExtension.AdapterDescriptor.SrbType === SRB_TYPE_STORAGE_REQUEST_BLOCK, a.PathId, a.TargetId, a.Lun);
}

/**
 * Resets `Srb` to the template: SRB_FUNCTION_EXECUTE_SCSI, no status, no flags, no data,
 * no sense buffer, simple-tag queue action, queue tag 0, the unit's address, a zeroed CDB
 * of 10 bytes.
 */
export function ClasspInitializeSrb(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Srb: SRB): void {
  if (Srb instanceof STORAGE_REQUEST_BLOCK) {
    Srb.SrbFunction = SRB_FUNCTION_EXECUTE_SCSI;
    Srb.SystemStatus = 0;
    Srb.RequestPriority = 0;
    Srb.ClassContext = null;
  } else if (Srb instanceof SCSI_REQUEST_BLOCK) {
    Srb.Length = SCSI_REQUEST_BLOCK_SIZE;
    Srb.Function = SRB_FUNCTION_EXECUTE_SCSI;
    Srb.QueueSortKey = 0;
  }
  Srb.SrbStatus = SRB_STATUS_PENDING;
  Srb.SrbFlags = 0;
  Srb.DataBuffer = 0;
  Srb.DataTransferLength = 0;
  Srb.TimeOutValue = 0;
  Srb.OriginalRequest = null;
  Srb.NextSrb = null;
  SrbSetScsiStatus(Srb, 0);
  SrbSetSenseInfoBuffer(Srb, 0);
  SrbSetSenseInfoBufferLength(Srb, 0);
  SrbSetRequestAttribute(Srb, SRB_SIMPLE_TAG_REQUEST);
  SrbSetRequestTag(Srb, 0);
  const a = fdoExtension.DiskData.ScsiAddress;
  SrbSetPathTargetLun(Srb, a.PathId, a.TargetId, a.Lun);
  SrbGetCdb(Srb)?.fill(0);
  SrbSetCdbLength(Srb, 10);
}
