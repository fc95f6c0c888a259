/**
 * SCSI facts (what scsi.h defines, from SPC-4 and SBC-3): operation codes, status bytes,
 * sense keys and additional sense codes, VPD page codes, and the byte layouts of the
 * CDBs, sense data, INQUIRY and READ CAPACITY data the storage stack builds and parses.
 * Multi-byte SCSI fields are big-endian; the helpers here read and write them in host
 * byte arrays (CDBs live in the SRB) or through a DataView.
 */

// Operation codes (SCSIOP_*).
export const SCSIOP_TEST_UNIT_READY = 0x00;
export const SCSIOP_REQUEST_SENSE = 0x03;
export const SCSIOP_INQUIRY = 0x12;
export const SCSIOP_MODE_SELECT = 0x15;
export const SCSIOP_MODE_SENSE = 0x1A;
export const SCSIOP_START_STOP_UNIT = 0x1B;
export const SCSIOP_MEDIUM_REMOVAL = 0x1E;
export const SCSIOP_READ_CAPACITY = 0x25;
export const SCSIOP_READ = 0x28;
export const SCSIOP_WRITE = 0x2A;
export const SCSIOP_VERIFY = 0x2F;
export const SCSIOP_SYNCHRONIZE_CACHE = 0x35;
export const SCSIOP_WRITE_BUFFER = 0x3B;
export const SCSIOP_UNMAP = 0x42;
export const SCSIOP_MODE_SENSE10 = 0x5A;
export const SCSIOP_READ16 = 0x88;
export const SCSIOP_WRITE16 = 0x8A;
export const SCSIOP_VERIFY16 = 0x8F;
export const SCSIOP_SYNCHRONIZE_CACHE16 = 0x91;
/** SERVICE ACTION IN (16); service action 0x10 is READ CAPACITY (16). */
export const SCSIOP_SERVICE_ACTION_IN16 = 0x9E;
export const SCSIOP_READ_CAPACITY16 = 0x9E;
export const SERVICE_ACTION_READ_CAPACITY16 = 0x10;
export const SCSIOP_REPORT_LUNS = 0xA0;
export const SCSIOP_SECURITY_PROTOCOL_IN = 0xA2;
export const SCSIOP_READ12 = 0xA8;
export const SCSIOP_WRITE12 = 0xAA;

/** Every operation code's name, for traces and inspection. */
export const SCSIOP_NAMES: Readonly<Record<number, string>> = {
  [SCSIOP_TEST_UNIT_READY]: "TEST UNIT READY", [SCSIOP_REQUEST_SENSE]: "REQUEST SENSE", [SCSIOP_INQUIRY]: "INQUIRY",
  [SCSIOP_MODE_SELECT]: "MODE SELECT(6)", [SCSIOP_MODE_SENSE]: "MODE SENSE(6)", [SCSIOP_START_STOP_UNIT]: "START STOP UNIT",
  [SCSIOP_MEDIUM_REMOVAL]: "PREVENT ALLOW MEDIUM REMOVAL", [SCSIOP_READ_CAPACITY]: "READ CAPACITY(10)", [SCSIOP_READ]: "READ(10)",
  [SCSIOP_WRITE]: "WRITE(10)", [SCSIOP_VERIFY]: "VERIFY(10)", [SCSIOP_SYNCHRONIZE_CACHE]: "SYNCHRONIZE CACHE(10)",
  [SCSIOP_WRITE_BUFFER]: "WRITE BUFFER", [SCSIOP_UNMAP]: "UNMAP", [SCSIOP_MODE_SENSE10]: "MODE SENSE(10)", [SCSIOP_READ16]: "READ(16)",
  [SCSIOP_WRITE16]: "WRITE(16)", [SCSIOP_VERIFY16]: "VERIFY(16)", [SCSIOP_SYNCHRONIZE_CACHE16]: "SYNCHRONIZE CACHE(16)",
  [SCSIOP_SERVICE_ACTION_IN16]: "SERVICE ACTION IN(16)", [SCSIOP_REPORT_LUNS]: "REPORT LUNS", [SCSIOP_SECURITY_PROTOCOL_IN]: "SECURITY PROTOCOL IN",
  [SCSIOP_READ12]: "READ(12)", [SCSIOP_WRITE12]: "WRITE(12)",
};

/** True for the READ and WRITE CDBs (6/10/12/16 byte forms the stack uses). */
export function IS_SCSIOP_READWRITE(opcode: number): boolean {
  return opcode === SCSIOP_READ || opcode === SCSIOP_WRITE || opcode === SCSIOP_READ16 || opcode === SCSIOP_WRITE16
    || opcode === SCSIOP_READ12 || opcode === SCSIOP_WRITE12;
}

/** True for the READ CDBs. */
export function IS_SCSIOP_READ(opcode: number): boolean {
  return opcode === SCSIOP_READ || opcode === SCSIOP_READ16 || opcode === SCSIOP_READ12;
}

// SCSI status bytes (SCSISTAT_*).
export const SCSISTAT_GOOD = 0x00;
export const SCSISTAT_CHECK_CONDITION = 0x02;
export const SCSISTAT_CONDITION_MET = 0x04;
export const SCSISTAT_BUSY = 0x08;
export const SCSISTAT_RESERVATION_CONFLICT = 0x18;
export const SCSISTAT_COMMAND_TERMINATED = 0x22;
export const SCSISTAT_QUEUE_FULL = 0x28;

// Sense keys (SCSI_SENSE_*).
export const SCSI_SENSE_NO_SENSE = 0x00;
export const SCSI_SENSE_RECOVERED_ERROR = 0x01;
export const SCSI_SENSE_NOT_READY = 0x02;
export const SCSI_SENSE_MEDIUM_ERROR = 0x03;
export const SCSI_SENSE_HARDWARE_ERROR = 0x04;
export const SCSI_SENSE_ILLEGAL_REQUEST = 0x05;
export const SCSI_SENSE_UNIT_ATTENTION = 0x06;
export const SCSI_SENSE_DATA_PROTECT = 0x07;
export const SCSI_SENSE_ABORTED_COMMAND = 0x0B;
export const SCSI_SENSE_MISCOMPARE = 0x0E;

// Additional sense codes (SCSI_ADSENSE_*) and qualifiers (SCSI_SENSEQ_*).
export const SCSI_ADSENSE_NO_SENSE = 0x00;
export const SCSI_ADSENSE_LUN_NOT_READY = 0x04;
export const SCSI_ADSENSE_WRITE_ERROR = 0x0C;
export const SCSI_ADSENSE_UNRECOVERED_ERROR = 0x11;
export const SCSI_ADSENSE_PARAMETER_LIST_LENGTH = 0x1A;
export const SCSI_ADSENSE_ILLEGAL_COMMAND = 0x20;
/** LOGICAL BLOCK ADDRESS OUT OF RANGE (qualifier 0x00). */
export const SCSI_ADSENSE_ILLEGAL_BLOCK = 0x21;
export const SCSI_ADSENSE_INVALID_CDB = 0x24;
export const SCSI_ADSENSE_INVALID_LUN = 0x25;
export const SCSI_ADSENSE_INVALID_FIELD_PARAMETER_LIST = 0x26;
export const SCSI_ADSENSE_WRITE_PROTECT = 0x27;
export const SCSI_ADSENSE_BUS_RESET = 0x29;
export const SCSI_ADSENSE_NO_MEDIA_IN_DEVICE = 0x3A;
export const SCSI_ADSENSE_LUN_COMMUNICATION = 0x08;
export const SCSI_ADSENSE_INTERNAL_TARGET_FAILURE = 0x44;
export const SCSI_SENSEQ_CAUSE_NOT_REPORTABLE = 0x00;
export const SCSI_SENSEQ_BECOMING_READY = 0x01;
export const SCSI_SENSEQ_FORMAT_IN_PROGRESS = 0x04;

// VPD pages (INQUIRY with EVPD).
export const VPD_SUPPORTED_PAGES = 0x00;
export const VPD_SERIAL_NUMBER = 0x80;
export const VPD_DEVICE_IDENTIFIERS = 0x83;
export const VPD_BLOCK_LIMITS = 0xB0;
export const VPD_BLOCK_DEVICE_CHARACTERISTICS = 0xB1;
export const VPD_LOGICAL_BLOCK_PROVISIONING = 0xB2;

// Peripheral device types (INQUIRYDATA.DeviceType).
export const DIRECT_ACCESS_DEVICE = 0x00;
/** Peripheral qualifier 011b with type 0x1F: no logical unit at this LUN. */
export const LOGICAL_UNIT_NOT_PRESENT_DEVICE = 0x7F;

/** Bytes of standard INQUIRY data Windows asks for (INQUIRYDATABUFFERSIZE). */
export const INQUIRYDATABUFFERSIZE = 36;
/** Offsets in standard INQUIRY data: vendor (8 bytes), product (16), revision (4). */
export const INQUIRY_VENDOR_ID = 8;
export const INQUIRY_PRODUCT_ID = 16;
export const INQUIRY_PRODUCT_REVISION = 32;
/** SPC-4 version code in standard INQUIRY data byte 2. */
export const INQUIRY_VERSION_SPC4 = 0x06;

/** Bytes of fixed-format sense data (SENSE_BUFFER_SIZE). */
export const SENSE_BUFFER_SIZE = 18;
/** Fixed-format sense data, current errors (SCSI_SENSE_ERRORCODE_FIXED_CURRENT). */
export const SCSI_SENSE_ERRORCODE_FIXED_CURRENT = 0x70;
/** Offsets in fixed-format sense data (SENSE_DATA). */
export const SENSE_DATA_SENSE_KEY = 2;
export const SENSE_DATA_ADDITIONAL_LENGTH = 7;
export const SENSE_DATA_ASC = 12;
export const SENSE_DATA_ASCQ = 13;

/** Bytes of READ_CAPACITY_DATA (READ CAPACITY (10)) and READ_CAPACITY_DATA_EX (16, as Windows asks: 32). */
export const READ_CAPACITY_DATA_SIZE = 8;
export const READ_CAPACITY16_DATA_SIZE = 32;

/** Fixed-format sense data: key, code and qualifier (the 18 bytes a request's sense buffer receives). */
export function fixedSense(senseKey: number, asc: number, ascq: number): Uint8Array {
  const s = new Uint8Array(SENSE_BUFFER_SIZE);
  s[0] = SCSI_SENSE_ERRORCODE_FIXED_CURRENT;
  s[SENSE_DATA_SENSE_KEY] = senseKey & 0x0F;
  s[SENSE_DATA_ADDITIONAL_LENGTH] = SENSE_BUFFER_SIZE - 8;
  s[SENSE_DATA_ASC] = asc;
  s[SENSE_DATA_ASCQ] = ascq;
  return s;
}

/** Sense key, ASC and ASCQ of fixed or descriptor-format sense data. */
export function parseSense(sense: Uint8Array): { senseKey: number; asc: number; ascq: number } {
  const code = sense[0] & 0x7F;
  if (code === 0x72 || code === 0x73) return { senseKey: sense[1] & 0x0F, asc: sense[2], ascq: sense[3] };
  return { senseKey: sense[SENSE_DATA_SENSE_KEY] & 0x0F, asc: sense[SENSE_DATA_ASC], ascq: sense[SENSE_DATA_ASCQ] };
}

/** Reads a big-endian field of `bytes` (1..8 bytes) as a number (< 2^53). */
export function readBE(b: Uint8Array, offset: number, bytes: number): number {
  let v = 0;
  for (let i = 0; i < bytes; i++) v = v * 256 + b[offset + i];
  return v;
}

/** Writes `value` (< 2^53) big-endian into `bytes` bytes of `b` at `offset`. */
export function writeBE(b: Uint8Array, offset: number, bytes: number, value: number): void {
  for (let i = bytes - 1; i >= 0; i--) {
    b[offset + i] = value % 256;
    value = Math.floor(value / 256);
  }
}

/** A read or write CDB's logical block address, block count and FUA bit (10, 12 and 16-byte forms). */
export interface ReadWriteCdb {
  lba: number;
  blocks: number;
  /** Force unit access. */
  fua: boolean;
}

/** Decodes READ/WRITE (10, 12, 16) into `into` (no allocation); false for other operation codes. */
export function parseReadWriteCdb(cdb: Uint8Array, into: ReadWriteCdb): boolean {
  switch (cdb[0]) {
    case SCSIOP_READ:
    case SCSIOP_WRITE:
      into.lba = readBE(cdb, 2, 4);
      into.blocks = readBE(cdb, 7, 2);
      break;
    case SCSIOP_READ12:
    case SCSIOP_WRITE12:
      into.lba = readBE(cdb, 2, 4);
      into.blocks = readBE(cdb, 6, 4);
      break;
    case SCSIOP_READ16:
    case SCSIOP_WRITE16:
      into.lba = readBE(cdb, 2, 8);
      into.blocks = readBE(cdb, 10, 4);
      break;
    default:
      return false;
  }
  into.fua = (cdb[1] & 0x08) !== 0;
  return true;
}

/**
 * Fills `cdb` with READ or WRITE: the 10-byte form when the LBA and count fit (LBA below
 * 2^32, at most 65535 blocks) and `use16` is false, else the 16-byte form. Returns the CDB length.
 */
export function buildReadWriteCdb(cdb: Uint8Array, write: boolean, lba: number, blocks: number, use16: boolean): number {
  cdb.fill(0);
  if (!use16 && lba < 2 ** 32 && blocks <= 0xFFFF) {
    cdb[0] = write ? SCSIOP_WRITE : SCSIOP_READ;
    writeBE(cdb, 2, 4, lba);
    writeBE(cdb, 7, 2, blocks);
    return 10;
  }
  cdb[0] = write ? SCSIOP_WRITE16 : SCSIOP_READ16;
  writeBE(cdb, 2, 8, lba);
  writeBE(cdb, 10, 4, blocks);
  return 16;
}

/** The allocation length of an INQUIRY CDB (bytes 3..4). */
export function inquiryAllocationLength(cdb: Uint8Array): number {
  return readBE(cdb, 3, 2);
}

// More sense keys, additional sense codes and qualifiers (scsi.h).
export const SCSI_SENSE_BLANK_CHECK = 0x08;
export const SCSI_SENSE_UNIQUE = 0x09;
export const SCSI_SENSE_COPY_ABORTED = 0x0A;
export const SCSI_SENSE_EQUAL = 0x0C;
export const SCSI_SENSE_VOL_OVERFLOW = 0x0D;
export const SCSI_ADSENSE_SEEK_ERROR = 0x15;
export const SCSI_ADSENSE_REC_DATA_NOECC = 0x17;
export const SCSI_ADSENSE_REC_DATA_ECC = 0x18;
export const SCSI_ADSENSE_MEDIUM_CHANGED = 0x28;
export const SCSI_ADSENSE_PARAMETERS_CHANGED = 0x2A;
export const SCSI_ADSENSE_INVALID_MEDIA = 0x30;
export const SCSI_ADSENSE_OPERATING_CONDITIONS_CHANGED = 0x3F;
export const SCSI_ADSENSE_FAILURE_PREDICTION_THRESHOLD_EXCEEDED = 0x5D;
export const SCSI_SENSEQ_INIT_COMMAND_REQUIRED = 0x02;
export const SCSI_SENSEQ_MANUAL_INTERVENTION_REQUIRED = 0x03;
export const SCSI_SENSEQ_OPERATION_IN_PROGRESS = 0x07;
export const SCSI_SENSEQ_LONG_WRITE_IN_PROGRESS = 0x08;
/** With SCSI_ADSENSE_LUN_COMMUNICATION: a communication CRC error (scsi.h spells it SESNEQ). */
export const SCSI_SESNEQ_COMM_CRC_ERROR = 0x03;
/** With SCSI_ADSENSE_PARAMETERS_CHANGED: CAPACITY DATA HAS CHANGED. */
export const SCSI_SENSEQ_CAPACITY_DATA_CHANGED = 0x09;
/** With SCSI_ADSENSE_INVALID_MEDIA: cannot read medium, unknown format. */
export const SCSI_SENSEQ_UNKNOWN_FORMAT = 0x01;
export const SCSI_SENSEQ_CLEANING_CARTRIDGE_INSTALLED = 0x03;

/** MAX_SENSE_BUFFER_SIZE: the most sense bytes a request can carry. */
export const MAX_SENSE_BUFFER_SIZE = 255;
/** SENSE_BUFFER_SIZE_EX: sizeof(SENSE_DATA_EX), the sense buffer classpnp gives every request, bytes. */
export const SENSE_BUFFER_SIZE_EX = 255;
/** Fixed-format sense: bit 5 of byte 2 is ILI (incorrect length), bytes 3..6 the INFORMATION field. */
export const SENSE_DATA_INCORRECT_LENGTH = 0x20;
/** Descriptor-format sense data, current errors. */
export const SCSI_SENSE_ERRORCODE_DESCRIPTOR_CURRENT = 0x72;

// Mode pages (MODE SENSE / MODE SELECT).
/** The caching mode page (WCE in byte 2 bit 2, RCD in byte 2 bit 0). */
export const MODE_PAGE_CACHING = 0x08;
/** Page code 0x3F: every page. */
export const MODE_SENSE_RETURN_ALL = 0x3F;
/** MODE_PARAMETER_HEADER (6-byte MODE SENSE): ModeDataLength, MediumType, DeviceSpecificParameter, BlockDescriptorLength. */
export const MODE_PARAMETER_HEADER = { ModeDataLength: 0, MediumType: 1, DeviceSpecificParameter: 2, BlockDescriptorLength: 3, SIZE: 4 } as const;
/** MODE_PARAMETER_HEADER.DeviceSpecificParameter: the medium is write protected. */
export const MODE_DSP_WRITE_PROTECT = 0x80;
/** MODE_CACHING_PAGE byte 2 (Flags): write cache enable, read cache disable. */
export const MODE_CACHING_WCE = 0x04;
export const MODE_CACHING_RCD = 0x01;
/** Bytes of a MODE_CACHING_PAGE (header 2 + 18). */
export const MODE_CACHING_PAGE_SIZE = 20;

/** START STOP UNIT CDB: IMMED (byte 1 bit 0), START (byte 4 bit 0), LOEJ (byte 4 bit 1). */
export const START_STOP_IMMEDIATE = 0x01;
export const START_STOP_START = 0x01;
export const START_STOP_LOAD_EJECT = 0x02;

/**
 * READ_CAPACITY16_DATA (READ CAPACITY (16) parameter data, big-endian): LogicalBlockAddress
 * (8), BytesPerBlock (4), byte 12 PROT_EN (bit 0) and P_TYPE (bits 3:1), byte 13
 * LogicalPerPhysicalExponent (bits 3:0), bytes 14..15 LBPME (bit 7 of 14), LBPRZ (bit 6 of
 * 14) and the LOWEST ALIGNED LOGICAL BLOCK ADDRESS (14 bits).
 */
export const READ_CAPACITY16_DATA = { LogicalBlockAddress: 0, BytesPerBlock: 8, Protection: 12, Exponents: 13, LowestAligned: 14, SIZE: 32 } as const;

/** VERIFY (10) and VERIFY (16): the LBA and block count fields are those of READ (10) / READ (16). */
export function buildVerifyCdb(cdb: Uint8Array, lba: number, blocks: number, use16: boolean): number {
  cdb.fill(0);
  if (!use16) {
    cdb[0] = SCSIOP_VERIFY;
    writeBE(cdb, 2, 4, lba);
    writeBE(cdb, 7, 2, blocks);
    return 10;
  }
  cdb[0] = SCSIOP_VERIFY16;
  writeBE(cdb, 2, 8, lba);
  writeBE(cdb, 10, 4, blocks);
  return 16;
}
