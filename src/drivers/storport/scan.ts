/**
 * The port's own requests and the bus scan. The port sends SRBs of its own through a unit's
 * queue exactly as a class driver's travel (an IRP of one stack location, a nonpaged data
 * buffer described by an MDL). The scan, run when the PnP manager asks the adapter for its
 * children (and after BusChangeDetected or IOCTL_SCSI_RESCAN_BUS), sends INQUIRY to LUN 0 of
 * every target the configuration allows, REPORT LUNS where one answers (LUN 0 to
 * MaximumNumberOfLogicalUnits - 1 in order when REPORT LUNS fails), then INQUIRY and the
 * VPD pages (supported pages, serial number, device identifiers) to every LUN found.
 */
import { EVENT_TYPE, KEVENT, KeInitializeEvent, KeSetEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON } from "../../ke/dispatcher.js";
import { STATUS_MORE_PROCESSING_REQUIRED, STATUS_PENDING } from "../../ke/ntstatus.js";
import {
  IoAllocateIrp, IoFreeIrp, IoGetNextIrpStackLocation, IoSetCompletionRoutine, IoSetNextIrpStackLocation, type IRP,
} from "../../io/irp.js";
import { IoAllocateMdl, IoFreeMdl } from "../../io/mdl.js";
import { MmBuildMdlForNonPagedPool, type MDL } from "../../mm/mdl.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../../mm/pool.js";
import { readBytes, RtlZeroMemory } from "../../mm/memory.js";
import {
  INQUIRYDATABUFFERSIZE, LOGICAL_UNIT_NOT_PRESENT_DEVICE, SCSIOP_INQUIRY, SCSIOP_REPORT_LUNS, SENSE_BUFFER_SIZE, VPD_DEVICE_IDENTIFIERS,
  VPD_SERIAL_NUMBER, VPD_SUPPORTED_PAGES, readBE, writeBE,
} from "../storage/scsi.js";
import {
  IRP_MJ_SCSI, SRB_FLAGS_DATA_IN, SRB_FLAGS_DISABLE_SYNCH_TRANSFER, SRB_FLAGS_NO_DATA_TRANSFER, SRB_FLAGS_NO_QUEUE_FREEZE, SRB_STATUS,
  SRB_STATUS_DATA_OVERRUN, SRB_STATUS_INSUFFICIENT_RESOURCES, SRB_STATUS_SUCCESS, SrbGetScsiStatus, SrbSetCdb, SrbSetSenseInfoBuffer, SrbSetSenseInfoBufferLength, newScsiSrb,
  type SRB,
} from "../storage/srb.js";
import { AdapterState, unitKey, type RAID_ADAPTER_EXTENSION } from "./adapter.js";
import { RAID_UNIT_EXTENSION, parseInquiry } from "./unit.js";
import { raidQueueRequest } from "./request.js";
import { allocateExtension, freeExtension } from "./extensions.js";

/** Pool tag of the port's own buffers. */
export const RAID_TAG = "RaiD";
/** Seconds the port's own requests may take. */
export const PORT_REQUEST_TIMEOUT = 10;

/** What one of the port's own requests came back with. */
export interface SrbResult {
  SrbStatus: number;
  ScsiStatus: number;
  /** Data the device returned (DataTransferLength bytes). */
  data: Uint8Array;
  /** Sense bytes, when the SRB status says they are valid. */
  sense: Uint8Array;
}

/** IoCompletion of the port's own IRPs: wakes the waiter and keeps the IRP. */
function RaidpInternalIrpCompletion(_DeviceObject: unknown, _Irp: IRP, Context: unknown): number {
  KeSetEvent(Context as KEVENT, 0, false);
  return STATUS_MORE_PROCESSING_REQUIRED;
}

/**
 * Sends `srb` through `unit`'s queue in an IRP of the port's own, with `mdl` describing its
 * data (or none), and waits for it (PASSIVE_LEVEL).
 */
export async function raidSendSrbSynchronous(unit: RAID_UNIT_EXTENSION, srb: SRB, mdl: MDL | null): Promise<void> {
  const irp = IoAllocateIrp(1, false);
  if (!irp) {
    srb.SrbStatus = SRB_STATUS_INSUFFICIENT_RESOURCES;
    return;
  }
  irp.MdlAddress = mdl;
  srb.OriginalRequest = irp;
  const done = new KEVENT();
  KeInitializeEvent(done, EVENT_TYPE.NotificationEvent, false);
  const s = IoGetNextIrpStackLocation(irp);
  s.MajorFunction = IRP_MJ_SCSI;
  s.Parameters.Scsi.Srb = srb;
  s.DeviceObject = unit.DeviceObject;
  IoSetCompletionRoutine(irp, RaidpInternalIrpCompletion, done, true, true, true);
  IoSetNextIrpStackLocation(irp);
  if (raidQueueRequest(unit, irp) === STATUS_PENDING) await KeWaitForSingleObject(done, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
  IoFreeIrp(irp);
}

/**
 * Sends a CDB that reads up to `length` bytes (0: no data) to `unit` and waits; returns
 * the SRB status, SCSI status, data and sense (PASSIVE_LEVEL).
 */
export async function raidSendCdb(unit: RAID_UNIT_EXTENSION, cdb: Uint8Array, cdbLength: number, length: number): Promise<SrbResult> {
  const a = unit.Adapter;
  const srb = newScsiSrb(a.ExtendedSrbs, unit.PathId, unit.TargetId, unit.Lun);
  SrbSetCdb(srb, cdb, cdbLength);
  srb.TimeOutValue = PORT_REQUEST_TIMEOUT;
  srb.SrbFlags = (length > 0 ? SRB_FLAGS_DATA_IN : SRB_FLAGS_NO_DATA_TRANSFER) | SRB_FLAGS_NO_QUEUE_FREEZE | SRB_FLAGS_DISABLE_SYNCH_TRANSFER;
  const buffer = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, Math.max(length, 1) + SENSE_BUFFER_SIZE, RAID_TAG);
  if (buffer === 0) return { SrbStatus: SRB_STATUS_INSUFFICIENT_RESOURCES, ScsiStatus: 0, data: new Uint8Array(0), sense: new Uint8Array(0) };
  RtlZeroMemory(buffer, Math.max(length, 1) + SENSE_BUFFER_SIZE);
  const senseVa = buffer + Math.max(length, 1);
  SrbSetSenseInfoBuffer(srb, senseVa);
  SrbSetSenseInfoBufferLength(srb, SENSE_BUFFER_SIZE);
  let mdl: MDL | null = null;
  if (length > 0) {
    mdl = IoAllocateMdl(buffer, length, false, false, null);
    if (mdl) MmBuildMdlForNonPagedPool(mdl);
    srb.DataBuffer = buffer;
    srb.DataTransferLength = length;
  }
  await raidSendSrbSynchronous(unit, srb, mdl);
  const status = SRB_STATUS(srb.SrbStatus);
  const ok = status === SRB_STATUS_SUCCESS || status === SRB_STATUS_DATA_OVERRUN;
  const result: SrbResult = {
    SrbStatus: srb.SrbStatus,
    ScsiStatus: SrbGetScsiStatus(srb),
    data: ok && length > 0 ? readBytes(buffer, Math.min(srb.DataTransferLength, length)) : new Uint8Array(0),
    sense: (srb.SrbStatus & 0x80) !== 0 ? readBytes(senseVa, SENSE_BUFFER_SIZE) : new Uint8Array(0),
  };
  if (mdl) IoFreeMdl(mdl);
  ExFreePoolWithTag(buffer, RAID_TAG);
  return result;
}

/** INQUIRY: standard data (`page` < 0) or a VPD page; the data, or null when the unit did not answer. */
async function inquiry(unit: RAID_UNIT_EXTENSION, page: number, length: number): Promise<Uint8Array | null> {
  const cdb = new Uint8Array(16);
  cdb[0] = SCSIOP_INQUIRY;
  if (page >= 0) {
    cdb[1] = 0x01;
    cdb[2] = page;
  }
  writeBE(cdb, 3, 2, length);
  const r = await raidSendCdb(unit, cdb, 6, length);
  const status = SRB_STATUS(r.SrbStatus);
  return status === SRB_STATUS_SUCCESS || status === SRB_STATUS_DATA_OVERRUN ? r.data : null;
}

/** REPORT LUNS to LUN 0 of a target: the LUNs listed (single-level addressing), or null when it fails. */
async function reportLuns(unit: RAID_UNIT_EXTENSION, most: number): Promise<number[] | null> {
  const length = 8 + 8 * Math.max(most, 1);
  const cdb = new Uint8Array(16);
  cdb[0] = SCSIOP_REPORT_LUNS;
  writeBE(cdb, 6, 4, length);
  const r = await raidSendCdb(unit, cdb, 12, length);
  // A list shorter than the allocation length comes back as an underrun (SRB_STATUS_DATA_OVERRUN).
  const status = SRB_STATUS(r.SrbStatus);
  if ((status !== SRB_STATUS_SUCCESS && status !== SRB_STATUS_DATA_OVERRUN) || r.data.length < 8) return null;
  const listed = readBE(r.data, 0, 4) / 8;
  const luns: number[] = [];
  for (let i = 0; i < listed && 8 + i * 8 + 8 <= r.data.length; i++) {
    const e = 8 + i * 8;
    // Peripheral device addressing: bus 0 in byte 0, the LUN in byte 1.
    if ((r.data[e] & 0xC0) === 0) luns.push(((r.data[e] & 0x3F) << 8) | r.data[e + 1]);
  }
  return luns;
}

/** The unit object at an address, made (with its miniport extension) when new. */
export function unitFor(a: RAID_ADAPTER_EXTENSION, PathId: number, TargetId: number, Lun: number): RAID_UNIT_EXTENSION {
  const key = unitKey(PathId, TargetId, Lun);
  let u = a.Units.get(key);
  if (!u) {
    u = new RAID_UNIT_EXTENSION(a, PathId, TargetId, Lun);
    u.LuExtension = allocateExtension(a.ConfigInfo.SpecificLuExtensionSize, "RaiU");
    const c = a.ConfigInfo;
    const most = c.MaxIOsPerLun > 0 ? c.MaxIOsPerLun : 255;
    u.QueueDepth = Math.min(most, c.InitialLunQueueDepth > 0 ? c.InitialLunQueueDepth : 20);
    a.Units.set(key, u);
  }
  return u;
}

/** Forgets a unit the scan found absent that was never reported (no PDO to delete). */
function dropUnit(a: RAID_ADAPTER_EXTENSION, u: RAID_UNIT_EXTENSION): void {
  a.Units.delete(unitKey(u.PathId, u.TargetId, u.Lun));
  freeExtension(u.LuExtension, "RaiU");
  u.LuExtension = null;
}

/** Reads a unit's identity; false when nothing is at the address. */
async function identify(u: RAID_UNIT_EXTENSION): Promise<boolean> {
  const data = await inquiry(u, -1, INQUIRYDATABUFFERSIZE);
  if (!data || data.length < 5 || data[0] === LOGICAL_UNIT_NOT_PRESENT_DEVICE || (data[0] >> 5) !== 0) return false;
  parseInquiry(u.Identity, data);
  const pages = await inquiry(u, VPD_SUPPORTED_PAGES, 0xFF);
  u.Identity.SupportedVpdPages = pages && pages.length >= 4 ? [...pages.subarray(4, 4 + pages[3])] : [];
  if (u.Identity.SupportedVpdPages.includes(VPD_SERIAL_NUMBER)) {
    const serial = await inquiry(u, VPD_SERIAL_NUMBER, 0xFF);
    if (serial && serial.length >= 4) u.Identity.SerialNumber = String.fromCharCode(...serial.subarray(4, 4 + serial[3])).trim();
  }
  if (u.Identity.SupportedVpdPages.includes(VPD_DEVICE_IDENTIFIERS)) {
    const ids = await inquiry(u, VPD_DEVICE_IDENTIFIERS, 0xFF);
    if (ids) u.Identity.DeviceIdentifiers = ids;
  }
  return true;
}

/** LUN 0 to `most` - 1: what the scan tries when REPORT LUNS fails. */
function sequentialLuns(most: number): number[] {
  return Array.from({ length: Math.max(most, 1) }, (_, lun) => lun);
}

/** Scans the bus; afterwards every unit's Present says whether the scan found it. */
export async function raidScanBus(a: RAID_ADAPTER_EXTENSION): Promise<void> {
  if (a.State !== AdapterState.Running) return;
  const found = new Set<RAID_UNIT_EXTENSION>();
  const c = a.ConfigInfo;
  for (let path = 0; path < c.NumberOfBuses; path++) {
    for (let target = 0; target < c.MaximumNumberOfTargets; target++) {
      const lun0 = unitFor(a, path, target, 0);
      const luns = (await identify(lun0)) ? ((await reportLuns(lun0, c.MaximumNumberOfLogicalUnits)) ?? sequentialLuns(c.MaximumNumberOfLogicalUnits)) : [];
      if (luns.includes(0)) found.add(lun0);
      for (const lun of luns) {
        if (lun === 0 || lun >= c.MaximumNumberOfLogicalUnits) continue;
        const u = unitFor(a, path, target, lun);
        if (await identify(u)) found.add(u);
      }
    }
  }
  for (const u of [...a.Units.values()]) {
    u.Present = found.has(u);
    if (!u.Present && !u.Reported) dropUnit(a, u);
  }
}
