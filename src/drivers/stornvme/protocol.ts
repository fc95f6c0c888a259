/**
 * NVMe pass-through. The port brings protocol requests as SRB_FUNCTION_IO_CONTROL with an
 * SRB_IO_CONTROL header signed "PROTOCOL" in front of the caller's buffer:
 * - IOCTL_STORAGE_QUERY_PROPERTY with StorageAdapterProtocolSpecificProperty or
 *   StorageDeviceProtocolSpecificProperty and STORAGE_PROTOCOL_SPECIFIC_DATA naming NVMe
 *   Identify (CNS and NSID), a log page (identifier) or a feature (identifier): the answer
 *   comes back as STORAGE_PROTOCOL_DATA_DESCRIPTOR with the data at ProtocolDataOffset;
 * - IOCTL_STORAGE_PROTOCOL_COMMAND with an NVMe admin command (Identify, Get Log Page, Get
 *   Features, or a vendor-specific opcode 0xC0..0xFF): ReturnStatus, ErrorCode (the NVMe
 *   status field), FixedProtocolReturnData (DW0) and the data from the device come back in
 *   the STORAGE_PROTOCOL_COMMAND; other commands are STORAGE_PROTOCOL_STATUS_NOT_SUPPORTED.
 * One such command is on the admin queue at a time (its data goes through the driver's
 * data page); others wait their turn.
 */
import { readBytes, readU32, RtlCopyMemory, RtlZeroMemory, writeU32 } from "../../mm/memory.js";
import {
  NVME_ADMIN_GET_FEATURES, NVME_ADMIN_GET_LOG_PAGE, NVME_ADMIN_IDENTIFY, NVME_SQE, NVME_SQE_SIZE,
} from "../storage/nvme.js";
import {
  IOCTL_STORAGE_PROTOCOL_COMMAND, IOCTL_STORAGE_QUERY_PROPERTY, STORAGE_PROPERTY_ID, STORAGE_PROTOCOL_COMMAND,
  STORAGE_PROTOCOL_DATA_DESCRIPTOR, STORAGE_PROTOCOL_NVME_DATA_TYPE, STORAGE_PROTOCOL_SPECIFIC_DATA, STORAGE_PROTOCOL_STATUS_ERROR,
  STORAGE_PROTOCOL_STATUS_INVALID_REQUEST, STORAGE_PROTOCOL_STATUS_NOT_SUPPORTED, STORAGE_PROTOCOL_STATUS_SUCCESS,
  STORAGE_PROTOCOL_STRUCTURE_VERSION, STORAGE_PROTOCOL_TYPE, STORAGE_PROTOCOL_COMMAND_LENGTH_NVME,
} from "../storage/ntddstor.js";
import { SRB_IO_CONTROL } from "../storage/ntddscsi.js";
import { SRB_STATUS_BUS_RESET, SRB_STATUS_INVALID_REQUEST, SRB_STATUS_SUCCESS, SrbGetMiniportContext, type SRB } from "../storage/srb.js";
import { PAGE_SIZE } from "../../mm/pfn.js";
import { SCSI_NOTIFICATION_TYPE, StorPortNotification } from "../storport/index.js";
import type { NVME_DEVICE_EXTENSION, NVME_SRB_EXTENSION } from "./extension.js";
import { lockQueue, submit, unlockQueue } from "./queue.js";

/** The signature the port puts on protocol requests. */
const PROTOCOL_SIGNATURE = "PROTOCOL";

function complete(ext: NVME_DEVICE_EXTENSION, srb: SRB, status: number): void {
  srb.SrbStatus = status;
  StorPortNotification(SCSI_NOTIFICATION_TYPE.RequestComplete, ext, srb);
}

/** The request's payload (after the SRB_IO_CONTROL header) and its length, or null for a request that is not a protocol request. */
function payload(srb: SRB): { at: number; length: number; code: number } | null {
  const b = srb.DataBuffer;
  if (b === 0 || srb.DataTransferLength < SRB_IO_CONTROL.SIZE) return null;
  const signature = String.fromCharCode(...readBytes(b + SRB_IO_CONTROL.Signature, 8));
  if (signature !== PROTOCOL_SIGNATURE) return null;
  return { at: b + SRB_IO_CONTROL.SIZE, length: readU32(b + SRB_IO_CONTROL.Length), code: readU32(b + SRB_IO_CONTROL.ControlCode) };
}

/** Tells the port how many bytes of the payload go back to the caller. */
function setReturned(srb: SRB, bytes: number): void {
  writeU32(srb.DataBuffer + SRB_IO_CONTROL.Length, bytes);
}

/** Builds the admin command for a protocol-specific property query; false for one this driver does not answer. */
function queryCommand(ext: NVME_DEVICE_EXTENSION, x: NVME_SRB_EXTENSION, at: number, room: number): boolean {
  const id = readU32(at);
  if (id !== STORAGE_PROPERTY_ID.StorageAdapterProtocolSpecificProperty && id !== STORAGE_PROPERTY_ID.StorageDeviceProtocolSpecificProperty) return false;
  const p = at + 8;
  const s = STORAGE_PROTOCOL_SPECIFIC_DATA;
  if (readU32(p + s.ProtocolType) !== STORAGE_PROTOCOL_TYPE.ProtocolTypeNvme) return false;
  const type = readU32(p + s.DataType);
  const value = readU32(p + s.ProtocolDataRequestValue);
  const sub = readU32(p + s.ProtocolDataRequestSubValue);
  const offset = readU32(p + s.ProtocolDataOffset);
  const length = readU32(p + s.ProtocolDataLength);
  if (length > PAGE_SIZE || 8 + offset + length > room || (length > 0 && offset < s.SIZE)) return false;
  x.Sqe.fill(0);
  x.PrpCount = 0;
  x.ProtocolDataVa = p + offset;
  x.ProtocolDataLength = length;
  x.ProtocolReturnVa = p + s.FixedProtocolReturnData;
  const v = x.SqeView;
  switch (type) {
    case STORAGE_PROTOCOL_NVME_DATA_TYPE.NVMeDataTypeIdentify:
      v.setUint32(NVME_SQE.CDW0, NVME_ADMIN_IDENTIFY, true);
      v.setUint32(NVME_SQE.NSID, sub, true);
      v.setUint32(NVME_SQE.CDW10, value & 0xFF, true);
      break;
    case STORAGE_PROTOCOL_NVME_DATA_TYPE.NVMeDataTypeLogPage: {
      if (length < 4) return false;
      const dwords = length / 4 - 1;
      v.setUint32(NVME_SQE.CDW0, NVME_ADMIN_GET_LOG_PAGE, true);
      v.setUint32(NVME_SQE.NSID, 0xFFFFFFFF, true);
      v.setUint32(NVME_SQE.CDW10, ((dwords & 0xFFFF) << 16) | (value & 0xFF), true);
      v.setUint32(NVME_SQE.CDW11, dwords >>> 16, true);
      v.setUint32(NVME_SQE.CDW12, sub, true);
      break;
    }
    case STORAGE_PROTOCOL_NVME_DATA_TYPE.NVMeDataTypeFeature:
      v.setUint32(NVME_SQE.CDW0, NVME_ADMIN_GET_FEATURES, true);
      v.setUint32(NVME_SQE.CDW10, value & 0xFF, true);
      v.setUint32(NVME_SQE.CDW11, sub, true);
      break;
    default:
      return false;
  }
  v.setUint32(NVME_SQE.PRP1, ext.DataPageLogical % 2 ** 32, true);
  v.setUint32(NVME_SQE.PRP1 + 4, Math.floor(ext.DataPageLogical / 2 ** 32), true);
  return true;
}

/** The admin opcodes a protocol command may carry. */
function passable(opcode: number): boolean {
  return opcode === NVME_ADMIN_IDENTIFY || opcode === NVME_ADMIN_GET_LOG_PAGE || opcode === NVME_ADMIN_GET_FEATURES || opcode >= 0xC0;
}

/** Builds the admin command of a STORAGE_PROTOCOL_COMMAND; a ReturnStatus when it cannot go to the device. */
function protocolCommand(ext: NVME_DEVICE_EXTENSION, x: NVME_SRB_EXTENSION, at: number, room: number): number {
  const c = STORAGE_PROTOCOL_COMMAND;
  if (room < c.SIZE || readU32(at + c.Version) !== STORAGE_PROTOCOL_STRUCTURE_VERSION || readU32(at + c.Length) !== c.SIZE
    || readU32(at + c.ProtocolType) !== STORAGE_PROTOCOL_TYPE.ProtocolTypeNvme || readU32(at + c.CommandLength) !== STORAGE_PROTOCOL_COMMAND_LENGTH_NVME) {
    return STORAGE_PROTOCOL_STATUS_INVALID_REQUEST;
  }
  const command = readBytes(at + c.Command, NVME_SQE_SIZE);
  if (!passable(command[0])) return STORAGE_PROTOCOL_STATUS_NOT_SUPPORTED;
  const length = readU32(at + c.DataFromDeviceTransferLength);
  const offset = readU32(at + c.DataFromDeviceBufferOffset);
  if (length > PAGE_SIZE || (length > 0 && offset + length > room) || readU32(at + c.DataToDeviceTransferLength) > 0) return STORAGE_PROTOCOL_STATUS_INVALID_REQUEST;
  x.Sqe.set(command);
  x.PrpCount = 0;
  x.ProtocolDataVa = length > 0 ? at + offset : 0;
  x.ProtocolDataLength = length;
  x.ProtocolReturnVa = 0;
  x.SqeView.setUint32(NVME_SQE.PRP1, ext.DataPageLogical % 2 ** 32, true);
  x.SqeView.setUint32(NVME_SQE.PRP1 + 4, Math.floor(ext.DataPageLogical / 2 ** 32), true);
  x.SqeView.setUint32(NVME_SQE.PRP2, 0, true);
  x.SqeView.setUint32(NVME_SQE.PRP2 + 4, 0, true);
  return STORAGE_PROTOCOL_STATUS_SUCCESS;
}

/** Puts the next waiting protocol request on the admin queue (the admin lock held by the caller or taken here). */
function startNext(ext: NVME_DEVICE_EXTENSION): void {
  if (ext.ProtocolBusy) return;
  const srb = ext.ProtocolWaiting.shift();
  if (!srb) return;
  const admin = ext.Admin!;
  ext.ProtocolBusy = true;
  const x = SrbGetMiniportContext(srb) as NVME_SRB_EXTENSION;
  RtlZeroMemory(ext.DataPageVa, PAGE_SIZE);
  if (!submit(ext, admin, srb, x)) {
    ext.ProtocolBusy = false;
    complete(ext, srb, SRB_STATUS_BUS_RESET);
  }
}

/** SRB_FUNCTION_IO_CONTROL from HwStartIo: a protocol request, queued for the admin queue. */
export function startProtocolRequest(ext: NVME_DEVICE_EXTENSION, srb: SRB): void {
  const p = payload(srb);
  const x = SrbGetMiniportContext(srb) as NVME_SRB_EXTENSION;
  if (!p || !ext.Admin) return complete(ext, srb, SRB_STATUS_INVALID_REQUEST);
  if (p.code === IOCTL_STORAGE_QUERY_PROPERTY) {
    if (!queryCommand(ext, x, p.at, p.length)) return complete(ext, srb, SRB_STATUS_INVALID_REQUEST);
  } else if (p.code === IOCTL_STORAGE_PROTOCOL_COMMAND) {
    const verdict = protocolCommand(ext, x, p.at, p.length);
    if (verdict !== STORAGE_PROTOCOL_STATUS_SUCCESS) {
      writeU32(p.at + STORAGE_PROTOCOL_COMMAND.ReturnStatus, verdict);
      setReturned(srb, STORAGE_PROTOCOL_COMMAND.SIZE);
      return complete(ext, srb, SRB_STATUS_SUCCESS);
    }
  } else {
    return complete(ext, srb, SRB_STATUS_INVALID_REQUEST);
  }
  x.ProtocolCode = p.code;
  const irql = lockQueue(ext, ext.Admin);
  try {
    ext.ProtocolWaiting.push(srb);
    startNext(ext);
  } finally {
    unlockQueue(ext, ext.Admin, irql);
  }
}

/** A protocol request's admin command completed (admin lock held): its data and status go back, the next one starts. */
export function completeProtocolRequest(ext: NVME_DEVICE_EXTENSION, srb: SRB, status: number, dw0: number): void {
  ext.ProtocolBusy = false;
  const x = SrbGetMiniportContext(srb) as NVME_SRB_EXTENSION;
  const p = payload(srb)!;
  if (x.ProtocolCode === IOCTL_STORAGE_QUERY_PROPERTY) {
    if (status === 0) {
      if (x.ProtocolDataLength > 0) RtlCopyMemory(x.ProtocolDataVa, ext.DataPageVa, x.ProtocolDataLength);
      writeU32(x.ProtocolReturnVa, dw0);
      writeU32(p.at + STORAGE_PROTOCOL_DATA_DESCRIPTOR.Version, STORAGE_PROTOCOL_DATA_DESCRIPTOR.SIZE);
      writeU32(p.at + STORAGE_PROTOCOL_DATA_DESCRIPTOR.Size, STORAGE_PROTOCOL_DATA_DESCRIPTOR.SIZE);
      setReturned(srb, x.ProtocolDataVa - p.at + x.ProtocolDataLength);
      complete(ext, srb, SRB_STATUS_SUCCESS);
    } else {
      complete(ext, srb, SRB_STATUS_INVALID_REQUEST);
    }
  } else {
    const c = STORAGE_PROTOCOL_COMMAND;
    writeU32(p.at + c.ReturnStatus, status === 0 ? STORAGE_PROTOCOL_STATUS_SUCCESS : STORAGE_PROTOCOL_STATUS_ERROR);
    writeU32(p.at + c.ErrorCode, status);
    writeU32(p.at + c.FixedProtocolReturnData, dw0);
    if (status === 0 && x.ProtocolDataLength > 0) RtlCopyMemory(x.ProtocolDataVa, ext.DataPageVa, x.ProtocolDataLength);
    const end = x.ProtocolDataLength > 0 ? x.ProtocolDataVa - p.at + x.ProtocolDataLength : 0;
    setReturned(srb, Math.max(c.SIZE, end));
    complete(ext, srb, SRB_STATUS_SUCCESS);
  }
  startNext(ext);
}

/** Fails the protocol requests waiting or on the admin queue (a reset or stop forgot them). */
export function failProtocolRequests(ext: NVME_DEVICE_EXTENSION, forgotten: SRB[]): void {
  ext.ProtocolBusy = false;
  for (const srb of [...forgotten, ...ext.ProtocolWaiting.splice(0)]) complete(ext, srb, SRB_STATUS_BUS_RESET);
}

