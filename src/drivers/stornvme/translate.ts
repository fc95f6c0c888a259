/**
 * SCSI to NVMe, as Windows' NVMe miniport translates it (following the NVM Express SCSI
 * Translation Reference): a logical unit is a namespace (LUN n is the n-th active
 * namespace). READ and WRITE (10, 12, 16) become NVMe Read and Write with PRPs built from
 * the port's scatter/gather list, SYNCHRONIZE CACHE becomes Flush; INQUIRY (standard data
 * and the VPD pages 0x00, 0x80, 0x83, 0xB0, 0xB1), READ CAPACITY (10, 16), REPORT LUNS,
 * TEST UNIT READY, REQUEST SENSE, MODE SENSE (6, 10) and START STOP UNIT are answered from
 * what Identify said, without a command. Anything else is CHECK CONDITION, ILLEGAL REQUEST,
 * INVALID COMMAND OPERATION CODE. NVMe completion status comes back as SRB status and
 * fixed-format sense data.
 */
import { writeBytes } from "../../mm/memory.js";
import { PAGE_SIZE } from "../../mm/pfn.js";
import {
  DIRECT_ACCESS_DEVICE, INQUIRY_VERSION_SPC4, LOGICAL_UNIT_NOT_PRESENT_DEVICE, READ_CAPACITY16_DATA_SIZE, READ_CAPACITY_DATA_SIZE,
  SCSIOP_INQUIRY, SCSIOP_MODE_SENSE, SCSIOP_MODE_SENSE10, SCSIOP_READ, SCSIOP_READ12, SCSIOP_READ16, SCSIOP_READ_CAPACITY,
  SCSIOP_REPORT_LUNS, SCSIOP_REQUEST_SENSE, SCSIOP_SERVICE_ACTION_IN16, SCSIOP_START_STOP_UNIT, SCSIOP_SYNCHRONIZE_CACHE,
  SCSIOP_SYNCHRONIZE_CACHE16, SCSIOP_TEST_UNIT_READY, SCSIOP_WRITE, SCSIOP_WRITE12, SCSIOP_WRITE16, SCSISTAT_CHECK_CONDITION, SCSISTAT_GOOD,
  SCSI_ADSENSE_ILLEGAL_BLOCK, SCSI_ADSENSE_ILLEGAL_COMMAND, SCSI_ADSENSE_INTERNAL_TARGET_FAILURE, SCSI_ADSENSE_INVALID_CDB,
  SCSI_ADSENSE_INVALID_LUN, SCSI_ADSENSE_LUN_NOT_READY, SCSI_ADSENSE_NO_SENSE, SCSI_ADSENSE_UNRECOVERED_ERROR, SCSI_ADSENSE_WRITE_ERROR,
  SCSI_SENSE_ABORTED_COMMAND, SCSI_SENSE_DATA_PROTECT, SCSI_SENSE_HARDWARE_ERROR, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_SENSE_MEDIUM_ERROR,
  SCSI_SENSE_NOT_READY, SENSE_BUFFER_SIZE, SERVICE_ACTION_READ_CAPACITY16, VPD_BLOCK_DEVICE_CHARACTERISTICS, VPD_BLOCK_LIMITS,
  VPD_DEVICE_IDENTIFIERS, VPD_SERIAL_NUMBER, VPD_SUPPORTED_PAGES, fixedSense, inquiryAllocationLength, parseReadWriteCdb, readBE, writeBE, type ReadWriteCdb,
} from "../storage/scsi.js";
import {
  SRB_FLAGS_DISABLE_AUTOSENSE, SRB_STATUS_AUTOSENSE_VALID, SRB_STATUS_ERROR, SRB_STATUS_INVALID_LUN, SRB_STATUS_SUCCESS, SrbGetCdb,
  SrbGetLun, SrbGetSenseInfoBuffer, SrbGetSenseInfoBufferLength, SrbSetScsiStatus, SrbSetSenseInfoBufferLength, type SRB,
} from "../storage/srb.js";
import {
  NVME_NVM_FLUSH, NVME_NVM_READ, NVME_NVM_WRITE, NVME_SQE, NVME_STATUS_COMMAND_ABORTED_DUE_TO_SQ_DELETION, NVME_STATUS_COMMAND_ABORT_REQUESTED,
  NVME_STATUS_DATA_TRANSFER_ERROR, NVME_STATUS_INTERNAL_DEVICE_ERROR, NVME_STATUS_INVALID_COMMAND_OPCODE, NVME_STATUS_INVALID_FIELD_IN_COMMAND,
  NVME_STATUS_INVALID_NAMESPACE_OR_FORMAT, NVME_STATUS_LBA_OUT_OF_RANGE, NVME_STATUS_NAMESPACE_NOT_READY, NVME_STATUS_TYPE_GENERIC_COMMAND,
  NVME_STATUS_TYPE_MEDIA_ERROR, NVME_STATUS_UNRECOVERED_READ_ERROR, NVME_STATUS_WRITE_FAULT, NVME_STATUS_CAPACITY_EXCEEDED,
} from "../storage/nvme.js";
import { StorPortGetScatterGatherList } from "../storport/index.js";
import type { NVME_DEVICE_EXTENSION, NVME_SRB_EXTENSION, NvmeNamespace } from "./extension.js";

/** What building a request came to. */
export const enum Build {
  /** A command is ready to submit. */
  Submit,
  /** Answered here: the SRB's status is set and it is the port's to complete. */
  Done,
}

/** INQUIRY vendor identification of an NVMe device: "NVMe" and four spaces. */
export const NVME_VENDOR_ID = "NVMe    ";
/** The VPD pages the miniport answers, in order. */
const VPD_PAGES = [VPD_SUPPORTED_PAGES, VPD_SERIAL_NUMBER, VPD_DEVICE_IDENTIFIERS, VPD_BLOCK_LIMITS, VPD_BLOCK_DEVICE_CHARACTERISTICS];

/** The namespace behind the SRB's LUN, or null. */
export function namespaceOf(ext: NVME_DEVICE_EXTENSION, srb: SRB): NvmeNamespace | null {
  return ext.Namespaces[SrbGetLun(srb)] ?? null;
}

/** Ends the request with CHECK CONDITION and fixed-format sense (key, code, qualifier). */
export function checkCondition(srb: SRB, senseKey: number, asc: number, ascq: number): void {
  SrbSetScsiStatus(srb, SCSISTAT_CHECK_CONDITION);
  srb.DataTransferLength = 0;
  const buffer = SrbGetSenseInfoBuffer(srb);
  const room = SrbGetSenseInfoBufferLength(srb);
  if (buffer !== 0 && room > 0 && (srb.SrbFlags & SRB_FLAGS_DISABLE_AUTOSENSE) === 0) {
    const n = Math.min(room, SENSE_BUFFER_SIZE);
    writeBytes(buffer, fixedSense(senseKey, asc, ascq).subarray(0, n));
    SrbSetSenseInfoBufferLength(srb, n);
    srb.SrbStatus = SRB_STATUS_ERROR | SRB_STATUS_AUTOSENSE_VALID;
  } else {
    srb.SrbStatus = SRB_STATUS_ERROR;
  }
}

/** Ends the request with GOOD status, having returned `data` (as much as the buffer and CDB allow). */
function good(srb: SRB, data: Uint8Array | null, allocation = Infinity): void {
  SrbSetScsiStatus(srb, SCSISTAT_GOOD);
  if (data) {
    const n = Math.min(data.length, srb.DataTransferLength, allocation);
    if (n > 0 && srb.DataBuffer !== 0) writeBytes(srb.DataBuffer, data.subarray(0, n));
    srb.DataTransferLength = n;
  } else {
    srb.DataTransferLength = 0;
  }
  srb.SrbStatus = SRB_STATUS_SUCCESS;
}

/** ASCII of `s` in `length` bytes, space padded. */
function asciiField(s: string, length: number): Uint8Array {
  const b = new Uint8Array(length).fill(0x20);
  for (let i = 0; i < Math.min(s.length, length); i++) b[i] = s.charCodeAt(i) & 0x7F;
  return b;
}

/** The unit serial number: the NGUID as hex in groups of four with "_" and a final ".", as Windows shows NVMe serials; else the controller's. */
export function unitSerial(ext: NVME_DEVICE_EXTENSION, ns: NvmeNamespace): string {
  if (ns.Nguid.some((b) => b !== 0)) {
    const hex = [...ns.Nguid].map((b) => b.toString(16).toUpperCase().padStart(2, "0")).join("");
    return `${hex.match(/.{4}/g)!.join("_")}.`;
  }
  return ext.SerialNumber;
}

function standardInquiry(ext: NVME_DEVICE_EXTENSION): Uint8Array {
  const d = new Uint8Array(36);
  d[0] = DIRECT_ACCESS_DEVICE;
  d[2] = INQUIRY_VERSION_SPC4;
  // Response data format 2, HISUP.
  d[3] = 0x12;
  d[4] = 36 - 5;
  // CMDQUE: the device queues commands.
  d[7] = 0x02;
  d.set(asciiField(NVME_VENDOR_ID, 8), 8);
  d.set(asciiField(ext.ModelNumber, 16), 16);
  d.set(asciiField(ext.FirmwareRevision, 4), 32);
  return d;
}

function vpdPage(ext: NVME_DEVICE_EXTENSION, ns: NvmeNamespace, page: number): Uint8Array | null {
  const body: number[] = [];
  switch (page) {
    case VPD_SUPPORTED_PAGES:
      body.push(...VPD_PAGES);
      break;
    case VPD_SERIAL_NUMBER:
      for (const c of unitSerial(ext, ns)) body.push(c.charCodeAt(0) & 0x7F);
      break;
    case VPD_DEVICE_IDENTIFIERS: {
      if (ns.Nguid.some((b) => b !== 0)) {
        // EUI-64 based 16-byte designator (type 2), binary, associated with the unit.
        body.push(0x01, 0x02, 0x00, 16, ...ns.Nguid);
      }
      // T10 vendor ID based designator (type 1), ASCII: vendor, model, serial.
      const t10 = [...asciiField(NVME_VENDOR_ID, 8), ...asciiField(ext.ModelNumber, 40), ...asciiField(ext.SerialNumber, 20)];
      body.push(0x02, 0x01, 0x00, t10.length, ...t10);
      break;
    }
    case VPD_BLOCK_LIMITS: {
      const b = new Uint8Array(0x3C);
      const maxBlocks = ext.MaxTransfer > 0 ? ext.MaxTransfer >>> ns.BlockShift : 0;
      writeBE(b, 4, 4, maxBlocks);
      writeBE(b, 8, 4, maxBlocks);
      body.push(...b);
      break;
    }
    case VPD_BLOCK_DEVICE_CHARACTERISTICS: {
      const b = new Uint8Array(0x3C);
      // Medium rotation rate 0001h: non-rotating medium.
      writeBE(b, 0, 2, 0x0001);
      body.push(...b);
      break;
    }
    default:
      return null;
  }
  const d = new Uint8Array(4 + body.length);
  d[0] = DIRECT_ACCESS_DEVICE;
  d[1] = page;
  writeBE(d, 2, 2, body.length);
  d.set(body, 4);
  return d;
}

function readCapacity(ns: NvmeNamespace, sixteen: boolean): Uint8Array {
  const last = ns.Blocks - 1;
  if (!sixteen) {
    const d = new Uint8Array(READ_CAPACITY_DATA_SIZE);
    writeBE(d, 0, 4, Math.min(last, 0xFFFFFFFF));
    writeBE(d, 4, 4, 2 ** ns.BlockShift);
    return d;
  }
  const d = new Uint8Array(READ_CAPACITY16_DATA_SIZE);
  writeBE(d, 0, 8, last);
  writeBE(d, 8, 4, 2 ** ns.BlockShift);
  return d;
}

function reportLuns(ext: NVME_DEVICE_EXTENSION): Uint8Array {
  const d = new Uint8Array(8 + 8 * ext.Namespaces.length);
  writeBE(d, 0, 4, 8 * ext.Namespaces.length);
  ext.Namespaces.forEach((_, i) => {
    d[8 + i * 8] = (i >> 8) & 0x3F;
    d[8 + i * 8 + 1] = i & 0xFF;
  });
  return d;
}

/** The caching mode page (08h): WCE when the controller has a volatile write cache. */
function cachingPage(ext: NVME_DEVICE_EXTENSION): number[] {
  const p = new Array<number>(20).fill(0);
  p[0] = 0x08;
  p[1] = 0x12;
  if (ext.VolatileWriteCache) p[2] = 0x04;
  return p;
}

/** The control mode page (0Ah). */
function controlPage(): number[] {
  const p = new Array<number>(12).fill(0);
  p[0] = 0x0A;
  p[1] = 0x0A;
  // Queue algorithm modifier 1: unrestricted reordering.
  p[3] = 0x10;
  return p;
}

/** MODE SENSE (6 or 10): the pages asked for behind the header; null for a page not supported. */
function modeSense(ext: NVME_DEVICE_EXTENSION, cdb: Uint8Array, ten: boolean): Uint8Array | null {
  const page = cdb[2] & 0x3F;
  const pages = page === 0x3F ? [...cachingPage(ext), ...controlPage()] : page === 0x08 ? cachingPage(ext) : page === 0x0A ? controlPage() : null;
  if (!pages) return null;
  const header = ten ? 8 : 4;
  const d = new Uint8Array(header + pages.length);
  if (ten) {
    writeBE(d, 0, 2, d.length - 2);
    // Device-specific parameter: DPOFUA.
    d[3] = 0x10;
  } else {
    d[0] = d.length - 1;
    d[2] = 0x10;
  }
  d.set(pages, header);
  return d;
}

/** Fills the entry's PRPs from the request's scatter/gather list; false when the list cannot be expressed as PRPs. */
function buildPrps(ext: NVME_DEVICE_EXTENSION, srb: SRB, x: NVME_SRB_EXTENSION): boolean {
  const list = StorPortGetScatterGatherList(ext, srb);
  x.PrpCount = 0;
  if (!list) return false;
  for (let i = 0; i < list.NumberOfElements; i++) {
    const e = list.List[i];
    let address = e.PhysicalAddress;
    let left = e.Length;
    // Only the first entry may start inside a page, dword aligned; every page after it starts at 0.
    if ((i > 0 && address % PAGE_SIZE !== 0) || (address & 3) !== 0) return false;
    while (left > 0) {
      if (x.PrpCount === x.Prps.length) return false;
      x.Prps[x.PrpCount++] = address;
      const step = Math.min(left, PAGE_SIZE - (address % PAGE_SIZE));
      address += step;
      left -= step;
    }
  }
  return x.PrpCount > 0;
}

/** Sets the 64-bit field at `offset` of the entry. */
function setU64(x: NVME_SRB_EXTENSION, offset: number, value: number): void {
  x.SqeView.setUint32(offset, value % 2 ** 32, true);
  x.SqeView.setUint32(offset + 4, Math.floor(value / 2 ** 32), true);
}

/** Starts an entry: opcode and NSID, everything else zero. */
function newEntry(x: NVME_SRB_EXTENSION, opcode: number, nsid: number): void {
  x.Sqe.fill(0);
  x.SqeView.setUint32(NVME_SQE.CDW0, opcode, true);
  x.SqeView.setUint32(NVME_SQE.NSID, nsid, true);
  x.PrpCount = 0;
  x.QueueId = -1;
}

/** The decoded READ/WRITE CDB of the request being translated (translation is synchronous: one scratch serves all). */
const readWrite: ReadWriteCdb = { lba: 0, blocks: 0, fua: false };

/**
 * Translates an EXECUTE_SCSI request: builds its NVMe command in the SRB extension
 * (Build.Submit) or answers it here (Build.Done, status set).
 */
export function translateScsi(ext: NVME_DEVICE_EXTENSION, srb: SRB, x: NVME_SRB_EXTENSION): Build {
  const cdb = SrbGetCdb(srb)!;
  const op = cdb[0];
  const ns = namespaceOf(ext, srb);
  if (op === SCSIOP_INQUIRY) {
    const allocation = inquiryAllocationLength(cdb);
    if ((cdb[1] & 0x01) === 0) {
      if (cdb[2] !== 0) return done(checkCondition(srb, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ADSENSE_INVALID_CDB, 0));
      const data = standardInquiry(ext);
      // A LUN with no namespace: peripheral qualifier 011b, no device.
      if (!ns) data[0] = LOGICAL_UNIT_NOT_PRESENT_DEVICE;
      return done(good(srb, data, allocation));
    }
    if (!ns) return done(checkCondition(srb, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ADSENSE_INVALID_LUN, 0));
    const page = vpdPage(ext, ns, cdb[2]);
    return done(page ? good(srb, page, allocation) : checkCondition(srb, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ADSENSE_INVALID_CDB, 0));
  }
  if (op === SCSIOP_REPORT_LUNS) return done(good(srb, reportLuns(ext), readBE(cdb, 6, 4)));
  if (!ns) {
    srb.SrbStatus = SRB_STATUS_INVALID_LUN;
    return Build.Done;
  }
  switch (op) {
    case SCSIOP_READ:
    case SCSIOP_WRITE:
    case SCSIOP_READ12:
    case SCSIOP_WRITE12:
    case SCSIOP_READ16:
    case SCSIOP_WRITE16: {
      const rw = readWrite;
      parseReadWriteCdb(cdb, rw);
      if (rw.blocks === 0) return done(good(srb, null));
      const bytes = rw.blocks * 2 ** ns.BlockShift;
      if (rw.blocks > 0x10000 || bytes > srb.DataTransferLength) return done(checkCondition(srb, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ADSENSE_INVALID_CDB, 0));
      const write = op === SCSIOP_WRITE || op === SCSIOP_WRITE12 || op === SCSIOP_WRITE16;
      newEntry(x, write ? NVME_NVM_WRITE : NVME_NVM_READ, ns.Nsid);
      if (!buildPrps(ext, srb, x)) return done(checkCondition(srb, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ADSENSE_INVALID_CDB, 0));
      setU64(x, NVME_SQE.PRP1, x.Prps[0]);
      setU64(x, NVME_SQE.CDW10, rw.lba);
      x.SqeView.setUint32(NVME_SQE.CDW12, ((rw.blocks - 1) | (rw.fua ? 1 << 30 : 0)) >>> 0, true);
      x.Bytes = bytes;
      return Build.Submit;
    }
    case SCSIOP_SYNCHRONIZE_CACHE:
    case SCSIOP_SYNCHRONIZE_CACHE16:
      newEntry(x, NVME_NVM_FLUSH, ns.Nsid);
      x.Bytes = 0;
      return Build.Submit;
    case SCSIOP_READ_CAPACITY:
      return done(good(srb, readCapacity(ns, false)));
    case SCSIOP_SERVICE_ACTION_IN16:
      if ((cdb[1] & 0x1F) !== SERVICE_ACTION_READ_CAPACITY16) break;
      return done(good(srb, readCapacity(ns, true), readBE(cdb, 10, 4)));
    case SCSIOP_TEST_UNIT_READY:
      return done(ext.Ready && !ext.Resetting ? good(srb, null) : checkCondition(srb, SCSI_SENSE_NOT_READY, SCSI_ADSENSE_LUN_NOT_READY, 0));
    case SCSIOP_REQUEST_SENSE:
      return done(good(srb, fixedSense(0, SCSI_ADSENSE_NO_SENSE, 0), cdb[4]));
    case SCSIOP_START_STOP_UNIT:
      return done(good(srb, null));
    case SCSIOP_MODE_SENSE:
    case SCSIOP_MODE_SENSE10: {
      const ten = op === SCSIOP_MODE_SENSE10;
      const data = modeSense(ext, cdb, ten);
      return done(data ? good(srb, data, ten ? readBE(cdb, 7, 2) : cdb[4]) : checkCondition(srb, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ADSENSE_INVALID_CDB, 0));
    }
    default:
      break;
  }
  return done(checkCondition(srb, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ADSENSE_ILLEGAL_COMMAND, 0));
}

/** Says the request is done; its argument is the answer, already given (an expression of type void), so no closure is made. */
function done(_answered: void): Build {
  return Build.Done;
}

/**
 * Sets an I/O request's outcome from its completion's status field: success moves the
 * whole transfer; an error becomes CHECK CONDITION with the sense the translation
 * reference gives for it.
 */
export function completeFromStatus(srb: SRB, status: number): void {
  if (status === 0) {
    SrbSetScsiStatus(srb, SCSISTAT_GOOD);
    srb.SrbStatus = SRB_STATUS_SUCCESS;
    return;
  }
  const sc = status & 0xFF;
  const sct = (status >>> 8) & 0x7;
  if (sct === NVME_STATUS_TYPE_GENERIC_COMMAND) {
    switch (sc) {
      case NVME_STATUS_INVALID_COMMAND_OPCODE: return checkCondition(srb, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ADSENSE_ILLEGAL_COMMAND, 0);
      case NVME_STATUS_INVALID_FIELD_IN_COMMAND: return checkCondition(srb, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ADSENSE_INVALID_CDB, 0);
      case NVME_STATUS_DATA_TRANSFER_ERROR: return checkCondition(srb, SCSI_SENSE_MEDIUM_ERROR, SCSI_ADSENSE_NO_SENSE, 0);
      case NVME_STATUS_INTERNAL_DEVICE_ERROR: return checkCondition(srb, SCSI_SENSE_HARDWARE_ERROR, SCSI_ADSENSE_INTERNAL_TARGET_FAILURE, 0);
      case NVME_STATUS_COMMAND_ABORT_REQUESTED:
      case NVME_STATUS_COMMAND_ABORTED_DUE_TO_SQ_DELETION: return checkCondition(srb, SCSI_SENSE_ABORTED_COMMAND, SCSI_ADSENSE_NO_SENSE, 0);
      case NVME_STATUS_INVALID_NAMESPACE_OR_FORMAT: return checkCondition(srb, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ADSENSE_INVALID_LUN, 0);
      case NVME_STATUS_LBA_OUT_OF_RANGE: return checkCondition(srb, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ADSENSE_ILLEGAL_BLOCK, 0);
      case NVME_STATUS_CAPACITY_EXCEEDED: return checkCondition(srb, SCSI_SENSE_MEDIUM_ERROR, SCSI_ADSENSE_NO_SENSE, 0);
      case NVME_STATUS_NAMESPACE_NOT_READY: return checkCondition(srb, SCSI_SENSE_NOT_READY, SCSI_ADSENSE_LUN_NOT_READY, 0);
      default: return checkCondition(srb, SCSI_SENSE_HARDWARE_ERROR, SCSI_ADSENSE_INTERNAL_TARGET_FAILURE, 0);
    }
  }
  if (sct === NVME_STATUS_TYPE_MEDIA_ERROR) {
    if (sc === NVME_STATUS_WRITE_FAULT) return checkCondition(srb, SCSI_SENSE_MEDIUM_ERROR, SCSI_ADSENSE_WRITE_ERROR, 0);
    if (sc === NVME_STATUS_UNRECOVERED_READ_ERROR) return checkCondition(srb, SCSI_SENSE_MEDIUM_ERROR, SCSI_ADSENSE_UNRECOVERED_ERROR, 0);
    // Access denied (86h) is a protection error; the rest are medium errors.
    if (sc === 0x86) return checkCondition(srb, SCSI_SENSE_DATA_PROTECT, SCSI_ADSENSE_NO_SENSE, 0);
    return checkCondition(srb, SCSI_SENSE_MEDIUM_ERROR, SCSI_ADSENSE_NO_SENSE, 0);
  }
  return checkCondition(srb, SCSI_SENSE_HARDWARE_ERROR, SCSI_ADSENSE_INTERNAL_TARGET_FAILURE, 0);
}
