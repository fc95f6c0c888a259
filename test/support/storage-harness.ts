/**
 * Test harness for the storage stack: boots the storage machine (with a smaller namespace,
 * or other NVMe parameters, when a test asks), opens \\.\PhysicalDriveN from a user-mode
 * program, reads and writes at byte offsets, sends SCSI pass-through CDBs, and reaches the
 * port's adapter and the miniport's extension for assertions.
 */
import { boot, type BootOptions } from "../../src/pnp/boot.js";
import { Machine } from "../../src/machine/machine.js";
import { loadMachine, type MachineDescription } from "../../src/machine/firmwareFiles.js";
import { DeviceIoControl, GetLastError } from "../../src/io/usermode.js";
import { STORPORT, type RAID_ADAPTER_EXTENSION } from "../../src/drivers/storport/adapter.js";
import type { NVME_DEVICE_EXTENSION } from "../../src/drivers/stornvme/extension.js";
import { IOCTL_SCSI_PASS_THROUGH, SCSI_IOCTL_DATA_IN, SCSI_IOCTL_DATA_OUT, SCSI_IOCTL_DATA_UNSPECIFIED, SCSI_PASS_THROUGH } from "../../src/drivers/storage/ntddscsi.js";
import {
  IOCTL_STORAGE_PROTOCOL_COMMAND, IOCTL_STORAGE_QUERY_PROPERTY, STORAGE_PROPERTY_ID, STORAGE_PROTOCOL_COMMAND, STORAGE_PROTOCOL_COMMAND_FLAG_ADAPTER_REQUEST,
  STORAGE_PROTOCOL_COMMAND_LENGTH_NVME, STORAGE_PROTOCOL_SPECIFIC_DATA, STORAGE_PROTOCOL_SPECIFIC_NVME_ADMIN_COMMAND, STORAGE_PROTOCOL_STRUCTURE_VERSION,
  STORAGE_PROTOCOL_TYPE, STORAGE_QUERY_TYPE,
} from "../../src/drivers/storage/ntddstor.js";
import { kernelOf } from "./kernel-harness.js";

/** What to change in the storage machine before booting. */
export interface StorageTweaks {
  /** NVMe parameters of the controller at 01:00.0 (namespaceBlocks, blockSize, latencies...). */
  nvme?: Record<string, number>;
  /** Drop the IOMMU. */
  noIommu?: boolean;
  seed?: number;
  cpus?: number;
  driverParameters?: MachineDescription["driverParameters"];
}

/** Namespace blocks of the tests' default controller (4 KiB blocks: 32 MiB). */
export const TEST_NAMESPACE_BLOCKS = 8192;

/** The storage machine's description with tweaks (a 32 MiB namespace unless told otherwise). */
export function storageDescription(t: StorageTweaks = {}): MachineDescription {
  const d = loadMachine("storage");
  const slot = d.slots.find((s) => s.spec.model === "nvme")!;
  slot.spec.params = { ...slot.spec.params, namespaceBlocks: TEST_NAMESPACE_BLOCKS, ...(t.nvme ?? {}) };
  if (t.noIommu) d.iommu = null;
  if (t.seed !== undefined) d.seed = t.seed;
  if (t.cpus !== undefined) d.cpu = { ...d.cpu, count: t.cpus };
  if (t.driverParameters) d.driverParameters = t.driverParameters;
  return d;
}

/** Boots the storage machine with tweaks. */
export function bootStorage(t: StorageTweaks = {}, options: BootOptions = {}): Promise<Machine> {
  return boot(Machine.fromDescription(storageDescription(t)), options);
}

/** The port's adapter of the first NVMe controller. */
export function adapterOf(machine: Machine): RAID_ADAPTER_EXTENSION {
  const a = [...STORPORT(kernelOf(machine)).adapters.values()][0];
  if (!a) throw new Error("no storport adapter");
  return a;
}

/** The NVMe miniport's device extension of the first controller. */
export function nvmeOf(machine: Machine): NVME_DEVICE_EXTENSION {
  return adapterOf(machine).HwDeviceExtension as NVME_DEVICE_EXTENSION;
}

export { at, openDisk, pattern, readAt, withDisk, writeAt } from "./disk-user.js";

/** What a pass-through request came back with. */
export interface PassThroughResult {
  /** DeviceIoControl's BOOL and Win32 error. */
  ok: boolean;
  error: number;
  scsiStatus: number;
  /** Sense bytes returned (SenseInfoLength of them). */
  sense: Uint8Array;
  /** Data returned (DataTransferLength bytes, for data-in). */
  data: Uint8Array;
  transferLength: number;
}

/** Offset of the sense buffer and of the data in the pass-through buffer this harness builds. */
const SENSE_AT = SCSI_PASS_THROUGH.SIZE;
const SENSE_LENGTH = 32;
const DATA_AT = SENSE_AT + SENSE_LENGTH;

/**
 * IOCTL_SCSI_PASS_THROUGH (buffered) with `cdb`: reads `dataIn` bytes, or writes `dataOut`,
 * or moves nothing.
 */
export async function passThrough(h: number, cdb: number[], options: { dataIn?: number; dataOut?: Uint8Array; timeout?: number } = {}): Promise<PassThroughResult> {
  const length = options.dataIn ?? options.dataOut?.length ?? 0;
  const buffer = new Uint8Array(DATA_AT + length);
  const v = new DataView(buffer.buffer);
  const p = SCSI_PASS_THROUGH;
  v.setUint16(p.Length, p.SIZE, true);
  buffer[p.CdbLength] = cdb.length;
  buffer[p.SenseInfoLength] = SENSE_LENGTH;
  buffer[p.DataIn] = options.dataIn !== undefined ? SCSI_IOCTL_DATA_IN : options.dataOut ? SCSI_IOCTL_DATA_OUT : SCSI_IOCTL_DATA_UNSPECIFIED;
  v.setUint32(p.DataTransferLength, length, true);
  v.setUint32(p.TimeOutValue, options.timeout ?? 10, true);
  v.setUint32(p.DataBufferOffset, DATA_AT, true);
  v.setUint32(p.SenseInfoOffset, SENSE_AT, true);
  buffer.set(cdb, p.Cdb);
  if (options.dataOut) buffer.set(options.dataOut, DATA_AT);
  const r = await DeviceIoControl(h, IOCTL_SCSI_PASS_THROUGH, buffer, buffer.length, buffer, buffer.length);
  const transferLength = v.getUint32(p.DataTransferLength, true);
  return {
    ok: r.ok,
    error: r.ok ? 0 : GetLastError(),
    scsiStatus: buffer[p.ScsiStatus],
    sense: buffer.slice(SENSE_AT, SENSE_AT + buffer[p.SenseInfoLength]),
    data: options.dataIn !== undefined ? buffer.slice(DATA_AT, DATA_AT + transferLength) : new Uint8Array(0),
    transferLength,
  };
}

/** What an NVMe protocol request came back with. */
export interface ProtocolResult {
  ok: boolean;
  error: number;
  /** Bytes DeviceIoControl returned. */
  returned: number;
  /** The request's DW0 (FixedProtocolReturnData). */
  dw0: number;
  /** The data area (ProtocolDataLength bytes, or DataFromDeviceTransferLength). */
  data: Uint8Array;
  /** The whole output buffer, for layout checks. */
  buffer: Uint8Array;
  /** STORAGE_PROTOCOL_COMMAND's ReturnStatus and ErrorCode (protocolCommand only). */
  returnStatus: number;
  errorCode: number;
}

/**
 * IOCTL_STORAGE_QUERY_PROPERTY for NVMe protocol-specific data (the layout Windows' NVMe
 * pass-through documentation gives: STORAGE_PROPERTY_QUERY whose AdditionalParameters are a
 * STORAGE_PROTOCOL_SPECIFIC_DATA, the data right after it).
 */
export async function protocolQuery(h: number, q: { device?: boolean; dataType: number; value: number; subValue?: number; length?: number }): Promise<ProtocolResult> {
  const s = STORAGE_PROTOCOL_SPECIFIC_DATA;
  const length = q.length ?? 4096;
  const buffer = new Uint8Array(8 + s.SIZE + length);
  const v = new DataView(buffer.buffer);
  v.setUint32(0, q.device ? STORAGE_PROPERTY_ID.StorageDeviceProtocolSpecificProperty : STORAGE_PROPERTY_ID.StorageAdapterProtocolSpecificProperty, true);
  v.setUint32(4, STORAGE_QUERY_TYPE.PropertyStandardQuery, true);
  v.setUint32(8 + s.ProtocolType, STORAGE_PROTOCOL_TYPE.ProtocolTypeNvme, true);
  v.setUint32(8 + s.DataType, q.dataType, true);
  v.setUint32(8 + s.ProtocolDataRequestValue, q.value, true);
  v.setUint32(8 + s.ProtocolDataRequestSubValue, q.subValue ?? 0, true);
  v.setUint32(8 + s.ProtocolDataOffset, s.SIZE, true);
  v.setUint32(8 + s.ProtocolDataLength, length, true);
  const r = await DeviceIoControl(h, IOCTL_STORAGE_QUERY_PROPERTY, buffer, buffer.length, buffer, buffer.length);
  return {
    ok: r.ok, error: r.ok ? 0 : GetLastError(), returned: r.bytes, dw0: v.getUint32(8 + s.FixedProtocolReturnData, true),
    data: buffer.slice(8 + s.SIZE), buffer, returnStatus: 0, errorCode: 0,
  };
}

/** IOCTL_STORAGE_PROTOCOL_COMMAND with a 64-byte NVMe admin command reading up to `dataIn` bytes (Version as given, 1 by default). */
export async function protocolCommand(h: number, command: Uint8Array, dataIn = 0, options: { version?: number } = {}): Promise<ProtocolResult> {
  const c = STORAGE_PROTOCOL_COMMAND;
  const dataAt = c.Command + STORAGE_PROTOCOL_COMMAND_LENGTH_NVME;
  const buffer = new Uint8Array(dataAt + dataIn);
  const v = new DataView(buffer.buffer);
  v.setUint32(c.Version, options.version ?? STORAGE_PROTOCOL_STRUCTURE_VERSION, true);
  v.setUint32(c.Length, c.SIZE, true);
  v.setUint32(c.ProtocolType, STORAGE_PROTOCOL_TYPE.ProtocolTypeNvme, true);
  v.setUint32(c.Flags, STORAGE_PROTOCOL_COMMAND_FLAG_ADAPTER_REQUEST, true);
  v.setUint32(c.CommandLength, STORAGE_PROTOCOL_COMMAND_LENGTH_NVME, true);
  v.setUint32(c.DataFromDeviceTransferLength, dataIn, true);
  v.setUint32(c.DataFromDeviceBufferOffset, dataIn > 0 ? dataAt : 0, true);
  v.setUint32(c.TimeOutValue, 10, true);
  v.setUint32(c.CommandSpecific, STORAGE_PROTOCOL_SPECIFIC_NVME_ADMIN_COMMAND, true);
  buffer.set(command, c.Command);
  const r = await DeviceIoControl(h, IOCTL_STORAGE_PROTOCOL_COMMAND, buffer, buffer.length, buffer, buffer.length);
  return {
    ok: r.ok, error: r.ok ? 0 : GetLastError(), returned: r.bytes, dw0: v.getUint32(c.FixedProtocolReturnData, true),
    data: buffer.slice(dataAt), buffer, returnStatus: v.getUint32(c.ReturnStatus, true), errorCode: v.getUint32(c.ErrorCode, true),
  };
}

/** A 64-byte NVMe command: opcode, NSID and CDW10..15. */
export function nvmeCommand(opcode: number, nsid: number, cdw: { 10?: number; 11?: number; 12?: number; 13?: number; 14?: number; 15?: number } = {}): Uint8Array {
  const b = new Uint8Array(64);
  const v = new DataView(b.buffer);
  v.setUint32(0, opcode, true);
  v.setUint32(4, nsid, true);
  for (const k of [10, 11, 12, 13, 14, 15] as const) v.setUint32(k * 4, (cdw[k] ?? 0) >>> 0, true);
  return b;
}
