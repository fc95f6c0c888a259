/**
 * SCSI request blocks (what srb.h and srbhelper.h define): the SCSI_REQUEST_BLOCK a class
 * driver sends its port in IRP_MJ_SCSI, the extended STORAGE_REQUEST_BLOCK (address and
 * SRBEX_DATA blocks, SRB_FUNCTION_STORAGE_REQUEST_BLOCK), their function, status and flag
 * codes, and the SrbGet / SrbSet helpers that read either form, so a miniport or class
 * driver handles both the way srbhelper.h lets C code do.
 *
 * An SRB is a kernel bookkeeping object (as IRPs are here); what it points to — the data
 * buffer, the sense buffer — is guest memory, reached by virtual address.
 */
import type { PVOID } from "../../mm/memory.js";

/** IRP_MJ_SCSI: SRBs travel in IRP_MJ_INTERNAL_DEVICE_CONTROL, Parameters.Scsi.Srb. */
export const IRP_MJ_SCSI = 0x0F;

// SRB functions (SRB_FUNCTION_*).
export const SRB_FUNCTION_EXECUTE_SCSI = 0x00;
export const SRB_FUNCTION_CLAIM_DEVICE = 0x01;
export const SRB_FUNCTION_IO_CONTROL = 0x02;
export const SRB_FUNCTION_RECEIVE_EVENT = 0x03;
export const SRB_FUNCTION_RELEASE_QUEUE = 0x04;
export const SRB_FUNCTION_ATTACH_DEVICE = 0x05;
export const SRB_FUNCTION_RELEASE_DEVICE = 0x06;
export const SRB_FUNCTION_SHUTDOWN = 0x07;
export const SRB_FUNCTION_FLUSH = 0x08;
export const SRB_FUNCTION_ABORT_COMMAND = 0x10;
export const SRB_FUNCTION_RELEASE_RECOVERY = 0x11;
export const SRB_FUNCTION_RESET_BUS = 0x12;
export const SRB_FUNCTION_RESET_DEVICE = 0x13;
export const SRB_FUNCTION_TERMINATE_IO = 0x14;
export const SRB_FUNCTION_FLUSH_QUEUE = 0x15;
export const SRB_FUNCTION_REMOVE_DEVICE = 0x16;
export const SRB_FUNCTION_WMI = 0x17;
export const SRB_FUNCTION_LOCK_QUEUE = 0x18;
export const SRB_FUNCTION_UNLOCK_QUEUE = 0x19;
export const SRB_FUNCTION_QUIESCE_DEVICE = 0x1A;
export const SRB_FUNCTION_RESET_LOGICAL_UNIT = 0x20;
export const SRB_FUNCTION_SET_LINK_TIMEOUT = 0x21;
export const SRB_FUNCTION_LINK_TIMEOUT_OCCURRED = 0x22;
export const SRB_FUNCTION_LINK_TIMEOUT_COMPLETE = 0x23;
export const SRB_FUNCTION_POWER = 0x24;
export const SRB_FUNCTION_PNP = 0x25;
export const SRB_FUNCTION_DUMP_POINTERS = 0x26;
export const SRB_FUNCTION_FREE_DUMP_POINTERS = 0x27;
/** The SRB is a STORAGE_REQUEST_BLOCK; its own function is in SrbFunction. */
export const SRB_FUNCTION_STORAGE_REQUEST_BLOCK = 0x28;

// SRB status (SRB_STATUS_*); the two high bits are flags.
export const SRB_STATUS_PENDING = 0x00;
export const SRB_STATUS_SUCCESS = 0x01;
export const SRB_STATUS_ABORTED = 0x02;
export const SRB_STATUS_ABORT_FAILED = 0x03;
export const SRB_STATUS_ERROR = 0x04;
export const SRB_STATUS_BUSY = 0x05;
export const SRB_STATUS_INVALID_REQUEST = 0x06;
export const SRB_STATUS_INVALID_PATH_ID = 0x07;
export const SRB_STATUS_NO_DEVICE = 0x08;
export const SRB_STATUS_TIMEOUT = 0x09;
export const SRB_STATUS_SELECTION_TIMEOUT = 0x0A;
export const SRB_STATUS_COMMAND_TIMEOUT = 0x0B;
export const SRB_STATUS_MESSAGE_REJECTED = 0x0D;
export const SRB_STATUS_BUS_RESET = 0x0E;
export const SRB_STATUS_PARITY_ERROR = 0x0F;
export const SRB_STATUS_REQUEST_SENSE_FAILED = 0x10;
export const SRB_STATUS_NO_HBA = 0x11;
export const SRB_STATUS_DATA_OVERRUN = 0x12;
export const SRB_STATUS_UNEXPECTED_BUS_FREE = 0x13;
export const SRB_STATUS_PHASE_SEQUENCE_FAILURE = 0x14;
export const SRB_STATUS_BAD_SRB_BLOCK_LENGTH = 0x15;
export const SRB_STATUS_REQUEST_FLUSHED = 0x16;
export const SRB_STATUS_INVALID_LUN = 0x20;
export const SRB_STATUS_INVALID_TARGET_ID = 0x21;
export const SRB_STATUS_BAD_FUNCTION = 0x22;
export const SRB_STATUS_ERROR_RECOVERY = 0x23;
export const SRB_STATUS_NOT_POWERED = 0x24;
export const SRB_STATUS_LINK_DOWN = 0x25;
export const SRB_STATUS_INSUFFICIENT_RESOURCES = 0x26;
export const SRB_STATUS_THROTTLED_REQUEST = 0x27;
export const SRB_STATUS_INTERNAL_ERROR = 0x30;
/** The port froze the unit's queue after this request failed. */
export const SRB_STATUS_QUEUE_FROZEN = 0x40;
/** The sense buffer holds valid sense data. */
export const SRB_STATUS_AUTOSENSE_VALID = 0x80;

/** SRB_STATUS(status): the status without its flag bits. */
export function SRB_STATUS(status: number): number {
  return status & ~(SRB_STATUS_AUTOSENSE_VALID | SRB_STATUS_QUEUE_FROZEN);
}

/** Names of the SRB status codes, for traces and inspection. */
export const SRB_STATUS_NAMES: Readonly<Record<number, string>> = {
  0x00: "SRB_STATUS_PENDING", 0x01: "SRB_STATUS_SUCCESS", 0x02: "SRB_STATUS_ABORTED", 0x03: "SRB_STATUS_ABORT_FAILED", 0x04: "SRB_STATUS_ERROR",
  0x05: "SRB_STATUS_BUSY", 0x06: "SRB_STATUS_INVALID_REQUEST", 0x07: "SRB_STATUS_INVALID_PATH_ID", 0x08: "SRB_STATUS_NO_DEVICE",
  0x09: "SRB_STATUS_TIMEOUT", 0x0A: "SRB_STATUS_SELECTION_TIMEOUT", 0x0B: "SRB_STATUS_COMMAND_TIMEOUT", 0x0E: "SRB_STATUS_BUS_RESET",
  0x12: "SRB_STATUS_DATA_OVERRUN", 0x16: "SRB_STATUS_REQUEST_FLUSHED", 0x20: "SRB_STATUS_INVALID_LUN", 0x21: "SRB_STATUS_INVALID_TARGET_ID",
  0x22: "SRB_STATUS_BAD_FUNCTION", 0x23: "SRB_STATUS_ERROR_RECOVERY", 0x24: "SRB_STATUS_NOT_POWERED", 0x26: "SRB_STATUS_INSUFFICIENT_RESOURCES",
  0x30: "SRB_STATUS_INTERNAL_ERROR",
};

// SRB flags (SRB_FLAGS_*).
export const SRB_FLAGS_QUEUE_ACTION_ENABLE = 0x00000002;
export const SRB_FLAGS_DISABLE_DISCONNECT = 0x00000004;
export const SRB_FLAGS_DISABLE_SYNCH_TRANSFER = 0x00000008;
export const SRB_FLAGS_BYPASS_FROZEN_QUEUE = 0x00000010;
export const SRB_FLAGS_DISABLE_AUTOSENSE = 0x00000020;
export const SRB_FLAGS_DATA_IN = 0x00000040;
export const SRB_FLAGS_DATA_OUT = 0x00000080;
export const SRB_FLAGS_NO_DATA_TRANSFER = 0x00000000;
export const SRB_FLAGS_UNSPECIFIED_DIRECTION = 0x000000C0;
export const SRB_FLAGS_NO_QUEUE_FREEZE = 0x00000100;
export const SRB_FLAGS_ADAPTER_CACHE_ENABLE = 0x00000200;
export const SRB_FLAGS_FREE_SENSE_BUFFER = 0x00000400;
export const SRB_FLAGS_D3_PROCESSING = 0x00000800;
export const SRB_FLAGS_IS_ACTIVE = 0x00010000;
export const SRB_FLAGS_BYPASS_LOCKED_QUEUE = 0x00080000;
export const SRB_FLAGS_NO_KEEP_AWAKE = 0x00100000;
export const SRB_FLAGS_PORT_DRIVER_ALLOCSENSE = 0x00200000;
export const SRB_FLAGS_DONT_START_NEXT_PACKET = 0x00800000;

// Queue actions (SRB.QueueAction with SRB_FLAGS_QUEUE_ACTION_ENABLE).
export const SRB_SIMPLE_TAG_REQUEST = 0x20;
export const SRB_HEAD_OF_QUEUE_TAG_REQUEST = 0x21;
export const SRB_ORDERED_QUEUE_TAG_REQUEST = 0x22;

/** sizeof(SCSI_REQUEST_BLOCK) on x64. */
export const SCSI_REQUEST_BLOCK_SIZE = 0x58;
/** STORAGE_REQUEST_BLOCK.Signature: "SRBX". */
export const SRB_SIGNATURE = 0x53524258;
/** STORAGE_REQUEST_BLOCK.Version. */
export const STORAGE_REQUEST_BLOCK_VERSION_1 = 0x10;
/** STOR_ADDRESS.Type of a bus/target/LUN address. */
export const STOR_ADDRESS_TYPE_BTL8 = 0x0001;
/** STOR_ADDR_BTL8.AddressLength. */
export const STOR_ADDR_BTL8_ADDRESS_LENGTH = 4;

// SRBEX_DATA types.
export const SrbExDataTypeUnknown = 0;
export const SrbExDataTypeBidirectional = 1;
export const SrbExDataTypeScsiCdb16 = 0x40;
export const SrbExDataTypeScsiCdb32 = 0x41;
export const SrbExDataTypeScsiCdbVar = 0x42;
export const SrbExDataTypeWmi = 0x60;
export const SrbExDataTypePower = 0x61;
export const SrbExDataTypePnP = 0x62;
export const SrbExDataTypeIoInfo = 0x80;

/** STOR_DEVICE_POWER_STATE (SRB_FUNCTION_POWER). */
export enum STOR_DEVICE_POWER_STATE {
  StorPowerDeviceUnspecified = 0,
  StorPowerDeviceD0,
  StorPowerDeviceD1,
  StorPowerDeviceD2,
  StorPowerDeviceD3,
  StorPowerDeviceMaximum,
}

/** STOR_POWER_ACTION. */
export enum STOR_POWER_ACTION {
  StorPowerActionNone = 0,
  StorPowerActionReserved,
  StorPowerActionSleep,
  StorPowerActionHibernate,
  StorPowerActionShutdown,
  StorPowerActionShutdownReset,
  StorPowerActionShutdownOff,
  StorPowerActionWarmEject,
}

/** The legacy SCSI_REQUEST_BLOCK. */
export class SCSI_REQUEST_BLOCK {
  Length = SCSI_REQUEST_BLOCK_SIZE;
  Function = SRB_FUNCTION_EXECUTE_SCSI;
  SrbStatus = SRB_STATUS_PENDING;
  ScsiStatus = 0;
  PathId = 0;
  TargetId = 0;
  Lun = 0;
  QueueTag = 0;
  QueueAction = 0;
  CdbLength = 0;
  SenseInfoBufferLength = 0;
  SrbFlags = 0;
  /** Bytes to transfer; on completion, bytes transferred. */
  DataTransferLength = 0;
  /** Seconds before the port times the request out. */
  TimeOutValue = 0;
  /** Virtual address of the data (inside the IRP's MDL). */
  DataBuffer: PVOID = 0;
  /** Virtual address of the sense buffer (nonpaged). */
  SenseInfoBuffer: PVOID = 0;
  NextSrb: PSCSI_REQUEST_BLOCK | null = null;
  /** The IRP the SRB travels in. */
  OriginalRequest: unknown = null;
  /** The miniport's per-request extension (SrbExtensionSize). */
  SrbExtension: unknown = null;
  /** QueueSortKey / InternalStatus union: the starting block of a read or write. */
  QueueSortKey = 0;
  readonly Cdb = new Uint8Array(16);
}

/** STOR_ADDR_BTL8: the unit's path (bus), target and LUN. */
export class STOR_ADDR_BTL8 {
  Type = STOR_ADDRESS_TYPE_BTL8;
  Port = 0;
  AddressLength = STOR_ADDR_BTL8_ADDRESS_LENGTH;
  Path = 0;
  Target = 0;
  Lun = 0;
  Reserved = 0;
}

/** SRBEX_DATA_SCSI_CDB16: the CDB, SCSI status and sense buffer of an extended SRB. */
export class SRBEX_DATA_SCSI_CDB16 {
  readonly Type = SrbExDataTypeScsiCdb16;
  readonly Length = 0x28;
  ScsiStatus = 0;
  SenseInfoBufferLength = 0;
  CdbLength = 0;
  SenseInfoBuffer: PVOID = 0;
  readonly Cdb = new Uint8Array(16);
}

/** SRBEX_DATA_POWER: the target state of SRB_FUNCTION_POWER. */
export class SRBEX_DATA_POWER {
  readonly Type = SrbExDataTypePower;
  readonly Length = 0x10;
  SrbPowerFlags = 0;
  DevicePowerState = STOR_DEVICE_POWER_STATE.StorPowerDeviceUnspecified;
  PowerAction = STOR_POWER_ACTION.StorPowerActionNone;
}

/** One SRBEX_DATA block. */
export type SRBEX_DATA = SRBEX_DATA_SCSI_CDB16 | SRBEX_DATA_POWER;

/** The extended STORAGE_REQUEST_BLOCK (Function = SRB_FUNCTION_STORAGE_REQUEST_BLOCK). */
export class STORAGE_REQUEST_BLOCK {
  Length = SCSI_REQUEST_BLOCK_SIZE;
  readonly Function = SRB_FUNCTION_STORAGE_REQUEST_BLOCK;
  SrbStatus = SRB_STATUS_PENDING;
  readonly Signature = SRB_SIGNATURE;
  readonly Version = STORAGE_REQUEST_BLOCK_VERSION_1;
  SrbLength = 0;
  /** The request's function (SRB_FUNCTION_EXECUTE_SCSI, ...). */
  SrbFunction = SRB_FUNCTION_EXECUTE_SCSI;
  SrbFlags = 0;
  RequestTag = 0;
  RequestPriority = 0;
  RequestAttribute = 0;
  TimeOutValue = 0;
  /** NTSTATUS the port or miniport reports besides SrbStatus. */
  SystemStatus = 0;
  DataTransferLength = 0;
  DataBuffer: PVOID = 0;
  OriginalRequest: unknown = null;
  ClassContext: unknown = null;
  PortContext: unknown = null;
  /** The miniport's per-request extension. */
  MiniportContext: unknown = null;
  NextSrb: PSTORAGE_REQUEST_BLOCK | null = null;
  readonly Address = new STOR_ADDR_BTL8();
  /** The SRBEX_DATA blocks (SrbExDataOffset[i] in C). */
  SrbExData: SRBEX_DATA[] = [];
  get NumSrbExData(): number { return this.SrbExData.length; }
}

/** Either kind of SRB. */
export type PSCSI_REQUEST_BLOCK = SCSI_REQUEST_BLOCK;
export type PSTORAGE_REQUEST_BLOCK = STORAGE_REQUEST_BLOCK;
export type SRB = SCSI_REQUEST_BLOCK | STORAGE_REQUEST_BLOCK;

/** The extended SRB's SCSI CDB block, or null (srbhelper's SrbGetScsiData). */
export function SrbGetScsiData(Srb: STORAGE_REQUEST_BLOCK): SRBEX_DATA_SCSI_CDB16 | null {
  for (const d of Srb.SrbExData) if (d.Type === SrbExDataTypeScsiCdb16) return d as SRBEX_DATA_SCSI_CDB16;
  return null;
}

/** The first SRBEX_DATA block of `type`, or null (SrbGetSrbExDataByType). */
export function SrbGetSrbExDataByType<T extends SRBEX_DATA>(Srb: STORAGE_REQUEST_BLOCK, type: number): T | null {
  for (const d of Srb.SrbExData) if (d.Type === type) return d as T;
  return null;
}

function isExtended(Srb: SRB): Srb is STORAGE_REQUEST_BLOCK {
  return Srb.Function === SRB_FUNCTION_STORAGE_REQUEST_BLOCK;
}

/** SrbGetSrbFunction: the request's function for either kind. */
export function SrbGetSrbFunction(Srb: SRB): number {
  return isExtended(Srb) ? Srb.SrbFunction : Srb.Function;
}

/** SrbGetCdb: the CDB bytes (16; CdbLength says how many count), or null. */
export function SrbGetCdb(Srb: SRB): Uint8Array | null {
  if (!isExtended(Srb)) return Srb.Cdb;
  return SrbGetScsiData(Srb)?.Cdb ?? null;
}

/** SrbGetCdbLength. */
export function SrbGetCdbLength(Srb: SRB): number {
  return isExtended(Srb) ? SrbGetScsiData(Srb)?.CdbLength ?? 0 : Srb.CdbLength;
}

/** SrbGetScsiStatus. */
export function SrbGetScsiStatus(Srb: SRB): number {
  return isExtended(Srb) ? SrbGetScsiData(Srb)?.ScsiStatus ?? 0 : Srb.ScsiStatus;
}

/** SrbSetScsiStatus. */
export function SrbSetScsiStatus(Srb: SRB, ScsiStatus: number): void {
  if (!isExtended(Srb)) Srb.ScsiStatus = ScsiStatus;
  else {
    const d = SrbGetScsiData(Srb);
    if (d) d.ScsiStatus = ScsiStatus;
  }
}

/** SrbGetSenseInfoBuffer: its virtual address (0 for none). */
export function SrbGetSenseInfoBuffer(Srb: SRB): PVOID {
  return isExtended(Srb) ? SrbGetScsiData(Srb)?.SenseInfoBuffer ?? 0 : Srb.SenseInfoBuffer;
}

/** SrbGetSenseInfoBufferLength. */
export function SrbGetSenseInfoBufferLength(Srb: SRB): number {
  return isExtended(Srb) ? SrbGetScsiData(Srb)?.SenseInfoBufferLength ?? 0 : Srb.SenseInfoBufferLength;
}

/** SrbSetSenseInfoBuffer. */
export function SrbSetSenseInfoBuffer(Srb: SRB, SenseInfoBuffer: PVOID): void {
  if (!isExtended(Srb)) Srb.SenseInfoBuffer = SenseInfoBuffer;
  else {
    const d = SrbGetScsiData(Srb);
    if (d) d.SenseInfoBuffer = SenseInfoBuffer;
  }
}

/** SrbSetSenseInfoBufferLength: the sense bytes valid (set by whoever fills the buffer). */
export function SrbSetSenseInfoBufferLength(Srb: SRB, SenseInfoBufferLength: number): void {
  if (!isExtended(Srb)) Srb.SenseInfoBufferLength = SenseInfoBufferLength;
  else {
    const d = SrbGetScsiData(Srb);
    if (d) d.SenseInfoBufferLength = SenseInfoBufferLength;
  }
}

/** SrbGetDataBuffer. */
export function SrbGetDataBuffer(Srb: SRB): PVOID {
  return Srb.DataBuffer;
}

/** SrbGetDataTransferLength. */
export function SrbGetDataTransferLength(Srb: SRB): number {
  return Srb.DataTransferLength;
}

/** SrbSetDataTransferLength: on completion, the bytes actually moved. */
export function SrbSetDataTransferLength(Srb: SRB, DataTransferLength: number): void {
  Srb.DataTransferLength = DataTransferLength;
}

/** SrbGetSrbFlags. */
export function SrbGetSrbFlags(Srb: SRB): number {
  return Srb.SrbFlags;
}

/** SrbGetTimeOutValue: seconds. */
export function SrbGetTimeOutValue(Srb: SRB): number {
  return Srb.TimeOutValue;
}

/** SrbGetOriginalRequest: the IRP. */
export function SrbGetOriginalRequest(Srb: SRB): unknown {
  return Srb.OriginalRequest;
}

/** SrbGetMiniportContext: the SRB extension (SrbExtension or MiniportContext). */
export function SrbGetMiniportContext(Srb: SRB): unknown {
  return isExtended(Srb) ? Srb.MiniportContext : Srb.SrbExtension;
}

/** SrbSetMiniportContext (the port sets the SRB extension). */
export function SrbSetMiniportContext(Srb: SRB, context: unknown): void {
  if (isExtended(Srb)) Srb.MiniportContext = context;
  else Srb.SrbExtension = context;
}

/** SrbGetPathId, SrbGetTargetId, SrbGetLun: the unit's address. */
export function SrbGetPathId(Srb: SRB): number {
  return isExtended(Srb) ? Srb.Address.Path : Srb.PathId;
}
export function SrbGetTargetId(Srb: SRB): number {
  return isExtended(Srb) ? Srb.Address.Target : Srb.TargetId;
}
export function SrbGetLun(Srb: SRB): number {
  return isExtended(Srb) ? Srb.Address.Lun : Srb.Lun;
}

/** SrbGetPathTargetLun: all three. */
export function SrbGetPathTargetLun(Srb: SRB): { PathId: number; TargetId: number; Lun: number } {
  return { PathId: SrbGetPathId(Srb), TargetId: SrbGetTargetId(Srb), Lun: SrbGetLun(Srb) };
}

/** SrbGetQueueTag / request tag. */
export function SrbGetQueueTag(Srb: SRB): number {
  return isExtended(Srb) ? Srb.RequestTag : Srb.QueueTag;
}

/**
 * A new SRB of the given kind for a CDB request, addressed to path/target/LUN, with its
 * CDB block (extended SRBs get one SRBEX_DATA_SCSI_CDB16).
 */
export function newScsiSrb(extended: boolean, PathId: number, TargetId: number, Lun: number): SRB {
  if (!extended) {
    const s = new SCSI_REQUEST_BLOCK();
    s.PathId = PathId;
    s.TargetId = TargetId;
    s.Lun = Lun;
    return s;
  }
  const s = new STORAGE_REQUEST_BLOCK();
  s.Address.Path = PathId;
  s.Address.Target = TargetId;
  s.Address.Lun = Lun;
  s.SrbExData = [new SRBEX_DATA_SCSI_CDB16()];
  s.SrbLength = 0x100;
  return s;
}

/** Sets an SRB's CDB (either kind). */
export function SrbSetCdb(Srb: SRB, cdb: Uint8Array, length: number): void {
  if (!isExtended(Srb)) {
    Srb.Cdb.set(cdb.subarray(0, length));
    Srb.CdbLength = length;
    return;
  }
  const d = SrbGetScsiData(Srb);
  if (!d) throw new Error("SrbSetCdb: the extended SRB has no SRBEX_DATA_SCSI_CDB16 block");
  d.Cdb.set(cdb.subarray(0, length));
  d.CdbLength = length;
}

/** SP_UNTAGGED: QueueTag / RequestTag of a request that is not tagged (the port assigns tags to tagged ones). */
export const SP_UNTAGGED = 0xFF;

/** SrbSetDataBuffer: the data's virtual address (inside the IRP's MDL). */
export function SrbSetDataBuffer(Srb: SRB, DataBuffer: PVOID): void {
  Srb.DataBuffer = DataBuffer;
}

/** SrbAssignSrbFlags: replaces every SRB flag with `Flags`. */
export function SrbAssignSrbFlags(Srb: SRB, Flags: number): void {
  Srb.SrbFlags = Flags >>> 0;
}

/** SrbSetSrbFlags: sets the flags in `Flags` (ORs them in). */
export function SrbSetSrbFlags(Srb: SRB, Flags: number): void {
  Srb.SrbFlags = (Srb.SrbFlags | Flags) >>> 0;
}

/** SrbClearSrbFlags: clears the flags in `Flags`. */
export function SrbClearSrbFlags(Srb: SRB, Flags: number): void {
  Srb.SrbFlags = (Srb.SrbFlags & ~Flags) >>> 0;
}

/** SrbSetTimeOutValue: seconds before the port times the request out. */
export function SrbSetTimeOutValue(Srb: SRB, TimeOutValue: number): void {
  Srb.TimeOutValue = TimeOutValue;
}

/** SrbSetOriginalRequest: the IRP the SRB travels in. */
export function SrbSetOriginalRequest(Srb: SRB, OriginalRequest: unknown): void {
  Srb.OriginalRequest = OriginalRequest;
}

/** SrbSetNextSrb: the next SRB of a chain (null for none). */
export function SrbSetNextSrb(Srb: SRB, NextSrb: SRB | null): void {
  Srb.NextSrb = NextSrb as never;
}

/** SrbGetRequestAttribute: the queue action (SRB_SIMPLE_TAG_REQUEST, ...): QueueAction or RequestAttribute. */
export function SrbGetRequestAttribute(Srb: SRB): number {
  return isExtended(Srb) ? Srb.RequestAttribute : Srb.QueueAction;
}

/** SrbSetRequestAttribute: the queue action (QueueAction or RequestAttribute). */
export function SrbSetRequestAttribute(Srb: SRB, RequestAttribute: number): void {
  if (isExtended(Srb)) Srb.RequestAttribute = RequestAttribute;
  else Srb.QueueAction = RequestAttribute;
}

/** SrbSetRequestTag: the queue tag (QueueTag or RequestTag; SP_UNTAGGED for none). */
export function SrbSetRequestTag(Srb: SRB, RequestTag: number): void {
  if (isExtended(Srb)) Srb.RequestTag = RequestTag;
  else Srb.QueueTag = RequestTag;
}

/** SrbSetQueueSortKey: the starting block of a read or write (the legacy SRB's QueueSortKey; extended SRBs have none). */
export function SrbSetQueueSortKey(Srb: SRB, QueueSortKey: number): void {
  if (!isExtended(Srb)) Srb.QueueSortKey = QueueSortKey >>> 0;
}

/** SrbGetSystemStatus: the NTSTATUS the port reports with SRB_STATUS_INTERNAL_ERROR (extended SRBs; 0 for legacy ones). */
export function SrbGetSystemStatus(Srb: SRB): number {
  return isExtended(Srb) ? Srb.SystemStatus : 0;
}

/** SrbSetPathTargetLun: the unit's address (path, target, LUN) in either kind of SRB. */
export function SrbSetPathTargetLun(Srb: SRB, PathId: number, TargetId: number, Lun: number): void {
  if (isExtended(Srb)) {
    Srb.Address.Path = PathId;
    Srb.Address.Target = TargetId;
    Srb.Address.Lun = Lun;
  } else {
    Srb.PathId = PathId;
    Srb.TargetId = TargetId;
    Srb.Lun = Lun;
  }
}

/** SrbSetSrbFunction: the request's function (Function of a legacy SRB, SrbFunction of an extended one). */
export function SrbSetSrbFunction(Srb: SRB, SrbFunction: number): void {
  if (isExtended(Srb)) Srb.SrbFunction = SrbFunction;
  else Srb.Function = SrbFunction;
}

/** SrbSetCdbLength: how many bytes of the CDB count (either kind). */
export function SrbSetCdbLength(Srb: SRB, CdbLength: number): void {
  if (!isExtended(Srb)) Srb.CdbLength = CdbLength;
  else {
    const d = SrbGetScsiData(Srb);
    if (d) d.CdbLength = CdbLength;
  }
}
