/**
 * NVM Express facts a host driver and pass-through callers use (shared/specs/nvme.md, NVMe
 * 1.4): controller registers and their fields, admin and NVM opcodes, feature identifiers,
 * status code types and codes, and the byte offsets of submission and completion entries
 * and of the Identify data structures.
 */

// Controller registers (BAR0 offsets).
export const NVME_REG_CAP = 0x00;
export const NVME_REG_VS = 0x08;
export const NVME_REG_INTMS = 0x0C;
export const NVME_REG_INTMC = 0x10;
export const NVME_REG_CC = 0x14;
export const NVME_REG_CSTS = 0x1C;
export const NVME_REG_AQA = 0x24;
export const NVME_REG_ASQ = 0x28;
export const NVME_REG_ACQ = 0x30;
/** First doorbell (SQ0TDBL). */
export const NVME_REG_DOORBELL = 0x1000;

// CC fields.
export const NVME_CC_EN = 0x1;
/** CC.CSS = NVM command set (0) at 6:4, CC.MPS at 10:7 (0 = 4 KiB), CC.AMS round robin (0) at 13:11. */
export const NVME_CC_SHN_NORMAL = 0x1 << 14;
export const NVME_CC_SHN_ABRUPT = 0x2 << 14;
export const NVME_CC_SHN_MASK = 0x3 << 14;
/** CC.IOSQES = 6 (64-byte entries) and CC.IOCQES = 4 (16-byte entries). */
export const NVME_CC_IOSQES_64 = 6 << 16;
export const NVME_CC_IOCQES_16 = 4 << 20;

// CSTS fields.
export const NVME_CSTS_RDY = 0x1;
export const NVME_CSTS_CFS = 0x2;
export const NVME_CSTS_SHST_MASK = 0xC;
export const NVME_CSTS_SHST_COMPLETE = 0x8;

/** CAP fields of the low dword: MQES 15:0, CQR 16, TO 31:24 (500 ms units). */
export function NVME_CAP_MQES(capLow: number): number {
  return capLow & 0xFFFF;
}
export function NVME_CAP_TO(capLow: number): number {
  return (capLow >>> 24) & 0xFF;
}
/** CAP fields of the high dword: DSTRD 3:0, MPSMIN 19:16. */
export function NVME_CAP_DSTRD(capHigh: number): number {
  return capHigh & 0xF;
}

// Admin opcodes.
export const NVME_ADMIN_DELETE_IO_SQ = 0x00;
export const NVME_ADMIN_CREATE_IO_SQ = 0x01;
export const NVME_ADMIN_GET_LOG_PAGE = 0x02;
export const NVME_ADMIN_DELETE_IO_CQ = 0x04;
export const NVME_ADMIN_CREATE_IO_CQ = 0x05;
export const NVME_ADMIN_IDENTIFY = 0x06;
export const NVME_ADMIN_ABORT = 0x08;
export const NVME_ADMIN_SET_FEATURES = 0x09;
export const NVME_ADMIN_GET_FEATURES = 0x0A;
export const NVME_ADMIN_ASYNC_EVENT_REQUEST = 0x0C;

// NVM command set opcodes.
export const NVME_NVM_FLUSH = 0x00;
export const NVME_NVM_WRITE = 0x01;
export const NVME_NVM_READ = 0x02;

// Identify CNS values.
export const NVME_IDENTIFY_CNS_SPECIFIC_NAMESPACE = 0x00;
export const NVME_IDENTIFY_CNS_CONTROLLER = 0x01;
export const NVME_IDENTIFY_CNS_ACTIVE_NAMESPACES = 0x02;

// Feature identifiers.
export const NVME_FEATURE_NUMBER_OF_QUEUES = 0x07;
export const NVME_FEATURE_INTERRUPT_COALESCING = 0x08;
export const NVME_FEATURE_INTERRUPT_VECTOR_CONFIG = 0x09;

// Log pages.
export const NVME_LOG_PAGE_ERROR_INFO = 0x01;
export const NVME_LOG_PAGE_HEALTH_INFO = 0x02;
export const NVME_LOG_PAGE_FIRMWARE_SLOT_INFO = 0x03;

// Status code types and the codes the stack translates.
export const NVME_STATUS_TYPE_GENERIC_COMMAND = 0;
export const NVME_STATUS_TYPE_COMMAND_SPECIFIC = 1;
export const NVME_STATUS_TYPE_MEDIA_ERROR = 2;
export const NVME_STATUS_SUCCESS_COMPLETION = 0x00;
export const NVME_STATUS_INVALID_COMMAND_OPCODE = 0x01;
export const NVME_STATUS_INVALID_FIELD_IN_COMMAND = 0x02;
export const NVME_STATUS_DATA_TRANSFER_ERROR = 0x04;
export const NVME_STATUS_INTERNAL_DEVICE_ERROR = 0x06;
export const NVME_STATUS_COMMAND_ABORT_REQUESTED = 0x07;
export const NVME_STATUS_COMMAND_ABORTED_DUE_TO_SQ_DELETION = 0x08;
export const NVME_STATUS_INVALID_NAMESPACE_OR_FORMAT = 0x0B;
export const NVME_STATUS_LBA_OUT_OF_RANGE = 0x80;
export const NVME_STATUS_CAPACITY_EXCEEDED = 0x81;
export const NVME_STATUS_NAMESPACE_NOT_READY = 0x82;
export const NVME_STATUS_WRITE_FAULT = 0x80;
export const NVME_STATUS_UNRECOVERED_READ_ERROR = 0x81;

/** Bytes of a submission entry and of a completion entry. */
export const NVME_SQE_SIZE = 64;
export const NVME_CQE_SIZE = 16;
/** Submission entry offsets: CDW0 (opcode 7:0, CID 31:16), NSID, PRP1, PRP2, CDW10..15. */
export const NVME_SQE = { CDW0: 0, NSID: 4, MPTR: 16, PRP1: 24, PRP2: 32, CDW10: 40, CDW11: 44, CDW12: 48, CDW13: 52, CDW14: 56, CDW15: 60 } as const;
/** Completion entry offsets: DW0, DW2 (SQHD 15:0, SQID 31:16), DW3 (CID 15:0, phase 16, status 31:17). */
export const NVME_CQE = { DW0: 0, DW2: 8, DW3: 12 } as const;

/** Identify Controller offsets. */
export const NVME_IDENTIFY_CONTROLLER = {
  VID: 0, SSVID: 2, SN: 4, MN: 24, FR: 64, RAB: 72, IEEE: 73, MDTS: 77, CNTLID: 78, VER: 80, OACS: 256, SQES: 512, CQES: 513, NN: 516,
  ONCS: 520, VWC: 525, SIZE: 4096,
} as const;
/** Identify Namespace offsets; LBA format n is a dword at LBAF + 4n (LBADS 23:16). */
export const NVME_IDENTIFY_NAMESPACE = { NSZE: 0, NCAP: 8, NUSE: 16, NSFEAT: 24, NLBAF: 25, FLBAS: 26, NGUID: 104, EUI64: 120, LBAF: 128, SIZE: 4096 } as const;

/** The status field (15 bits: code 7:0, type 10:8, more 13, do-not-retry 14) of a completion's DW3. */
export function nvmeStatusField(dw3: number): number {
  return (dw3 >>> 17) & 0x7FFF;
}
