/**
 * The VPD pages classpnp reads once the disk is up (ClasspGetInquiryVpdSupportInfo,
 * ClasspGetLBProvisioningInfo): INQUIRY EVPD page 0x00 for the pages the unit has (a list
 * that does not start with page 0x00, or is not ascending, is not trusted), then the
 * Block Limits page (0xB0) when it is listed. The Block Device Characteristics (0xB1) and
 * Logical Block Provisioning (0xB2) pages are noted as present.
 */
import { NT_SUCCESS, STATUS_DATA_OVERRUN, STATUS_INFO_LENGTH_MISMATCH, STATUS_INSUFFICIENT_RESOURCES, STATUS_NOT_SUPPORTED, STATUS_SUCCESS, type NTSTATUS } from "../../ke/ntstatus.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../../mm/pool.js";
import { readBytes, RtlZeroMemory } from "../../mm/memory.js";
import { SP_UNTAGGED, SrbGetCdb, SrbGetDataTransferLength, SrbSetCdbLength, SrbSetRequestTag, SrbSetTimeOutValue } from "../storage/srb.js";
import { readBE, SCSIOP_INQUIRY, VPD_BLOCK_DEVICE_CHARACTERISTICS, VPD_BLOCK_LIMITS, VPD_LOGICAL_BLOCK_PROVISIONING, VPD_SUPPORTED_PAGES } from "../storage/scsi.js";
import { CLASS_TAG_VPD, CLASS_TAG_VPD_PAGE, VPD_MAX_BUFFER_SIZE } from "./constants.js";
import type { FUNCTIONAL_DEVICE_EXTENSION } from "./extension.js";
import { ClasspAllocateSrb, ClasspInitializeSrb } from "./request-block.js";
import { ClassSendSrbSynchronous } from "./sync-srb.js";

/** Reads VPD page `page` into a fresh buffer with INQUIRY (EVPD); the status and the bytes transferred. */
async function readVpdPage(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, page: number, tag: string): Promise<{ status: NTSTATUS; data: Uint8Array }> {
  const bufferLength = VPD_MAX_BUFFER_SIZE;
  const buffer = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPoolNx, bufferLength, tag);
  if (buffer === 0) return { status: STATUS_INSUFFICIENT_RESOURCES, data: new Uint8Array(0) };
  RtlZeroMemory(buffer, bufferLength);
  const srb = ClasspAllocateSrb(fdoExtension);
  ClasspInitializeSrb(fdoExtension, srb);
  SrbSetTimeOutValue(srb, fdoExtension.TimeOutValue);
  SrbSetRequestTag(srb, SP_UNTAGGED);
  SrbSetCdbLength(srb, 6);
  const cdb = SrbGetCdb(srb)!;
  cdb[0] = SCSIOP_INQUIRY;
  cdb[1] = 0x01;
  cdb[2] = page;
  // CDB6INQUIRY3.AllocationLength is one byte.
  cdb[4] = bufferLength;
  let status = await ClassSendSrbSynchronous(fdoExtension.DeviceObject, srb, buffer, bufferLength, false);
  const transferred = SrbGetDataTransferLength(srb);
  // A buffer larger than the page: not an error.
  if (status === STATUS_DATA_OVERRUN && transferred < bufferLength) status = STATUS_SUCCESS;
  const data = NT_SUCCESS(status) ? readBytes(buffer, Math.min(transferred, bufferLength)) : new Uint8Array(0);
  ExFreePoolWithTag(buffer, tag);
  return { status, data };
}

/** ClasspGetInquiryVpdSupportInfo: which of the pages classpnp uses the unit lists in VPD page 0x00. */
export async function ClasspGetInquiryVpdSupportInfo(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION): Promise<void> {
  const { status, data } = await readVpdPage(fdoExtension, VPD_SUPPORTED_PAGES, CLASS_TAG_VPD);
  const valid = fdoExtension.FunctionSupportInfo.ValidInquiryPages;
  if (!NT_SUCCESS(status) || data.length < 4) return;
  const pageLength = data[3];
  // A device that answers every INQUIRY with standard data puts its additional length first: not a page list.
  if (pageLength > 0 && data[4] > 0) return;
  for (let i = 0; i < pageLength && 4 + i < data.length; i++) {
    const code = data[4 + i];
    if (i > 0 && code <= data[4 + i - 1]) {
      // The list must ascend from page 0x00.
      valid.BlockDeviceRODLimits = false;
      valid.BlockLimits = false;
      valid.BlockDeviceCharacteristics = false;
      valid.LBProvisioning = false;
      break;
    }
    if (code === VPD_BLOCK_LIMITS) valid.BlockLimits = true;
    else if (code === VPD_BLOCK_DEVICE_CHARACTERISTICS) valid.BlockDeviceCharacteristics = true;
    else if (code === VPD_LOGICAL_BLOCK_PROVISIONING) valid.LBProvisioning = true;
  }
}

/**
 * ClasspDeviceGetBlockLimitsVPDPage: the Block Limits page's maximum and optimal transfer
 * lengths and UNMAP parameters (blocks), when the unit lists the page; cached with its status.
 */
export async function ClasspGetBlockLimitsInfo(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION): Promise<NTSTATUS> {
  const limits = fdoExtension.FunctionSupportInfo.BlockLimitsData;
  if (limits.CommandStatus !== -1) return limits.CommandStatus;
  if (!fdoExtension.FunctionSupportInfo.ValidInquiryPages.BlockLimits) {
    limits.CommandStatus = STATUS_NOT_SUPPORTED;
    return limits.CommandStatus;
  }
  const { status, data } = await readVpdPage(fdoExtension, VPD_BLOCK_LIMITS, CLASS_TAG_VPD_PAGE);
  let result = status;
  // The page must be the one asked for and carry the fields used (through byte 31).
  if (NT_SUCCESS(status) && (data.length < 0x14 || data[1] !== VPD_BLOCK_LIMITS || readBE(data, 2, 2) < 0x10)) result = STATUS_INFO_LENGTH_MISMATCH;
  if (NT_SUCCESS(result)) {
    limits.MaximumTransferLength = readBE(data, 8, 4);
    limits.OptimalTransferLength = readBE(data, 12, 4);
    if (data.length >= 0x24) {
      limits.MaxUnmapLbaCount = readBE(data, 20, 4);
      limits.MaxUnmapBlockDescrCount = readBE(data, 24, 4);
      limits.OptimalUnmapGranularity = readBE(data, 28, 4);
      limits.UGAVALID = (data[32] & 0x80) !== 0;
      limits.UnmapGranularityAlignment = readBE(data, 32, 4) & 0x7FFFFFFF;
    }
  }
  limits.CommandStatus = result;
  return result;
}
