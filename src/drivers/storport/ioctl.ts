/**
 * I/O controls the port answers. On the adapter: IOCTL_STORAGE_QUERY_PROPERTY for the
 * adapter descriptor and IOCTL_SCSI_RESCAN_BUS. On a unit: the device, adapter and device-ID
 * descriptors, protocol-specific property queries and IOCTL_STORAGE_PROTOCOL_COMMAND (sent
 * to the miniport as SRB_FUNCTION_IO_CONTROL with an SRB_IO_CONTROL header signed
 * "PROTOCOL"), IOCTL_SCSI_GET_ADDRESS, and SCSI pass-through (buffered and direct), which
 * builds an SRB from SCSI_PASS_THROUGH and sends it through the unit's queue. Pass-through
 * sent to the adapter goes to the unit the structure addresses. A property
 * query with an output buffer only large enough for a STORAGE_DESCRIPTOR_HEADER gets the
 * descriptor's Version and Size, as callers use to size their buffer.
 */
import {
  IoCallDriver, IoCompleteRequest, IoGetCurrentIrpStackLocation, IoSkipCurrentIrpStackLocation, IO_NO_INCREMENT, type IRP,
} from "../../io/irp.js";
import { IoAllocateMdl, IoFreeMdl } from "../../io/mdl.js";
import { KPROCESSOR_MODE } from "../../ke/dispatcher.js";
import {
  NtStatusException, STATUS_BUFFER_TOO_SMALL, STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER, STATUS_INSUFFICIENT_RESOURCES,
  STATUS_NOT_SUPPORTED, STATUS_SUCCESS, STATUS_NO_SUCH_DEVICE, type NTSTATUS,
} from "../../ke/ntstatus.js";
import { LOCK_OPERATION, MmBuildMdlForNonPagedPool, MmProbeAndLockPages, MmUnlockPages, type MDL } from "../../mm/mdl.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../../mm/pool.js";
import { readBytes, readU32, readU8, RtlCopyMemory, RtlZeroMemory, writeBytes, writeU32, writeU8 } from "../../mm/memory.js";
import { IoInvalidateDeviceRelations } from "../../pnp/requests.js";
import { DEVICE_RELATION_TYPE } from "../../pnp/minor.js";
import { SENSE_BUFFER_SIZE } from "../storage/scsi.js";
import {
  SRB_FLAGS_DATA_IN, SRB_FLAGS_DATA_OUT, SRB_FLAGS_NO_DATA_TRANSFER, SRB_FLAGS_NO_QUEUE_FREEZE, SRB_FUNCTION_IO_CONTROL,
  SRB_STATUS, SRB_STATUS_AUTOSENSE_VALID, SRB_STATUS_DATA_OVERRUN, SRB_STATUS_ERROR,
  SRB_STATUS_INVALID_REQUEST, SRB_STATUS_SUCCESS, SrbGetScsiStatus, SrbGetSenseInfoBufferLength, SrbSetCdb, SrbSetSenseInfoBuffer,
  SrbSetSenseInfoBufferLength, newScsiSrb, SCSI_REQUEST_BLOCK, STORAGE_REQUEST_BLOCK, type SRB,
} from "../storage/srb.js";
import {
  IOCTL_STORAGE_PROTOCOL_COMMAND, IOCTL_STORAGE_QUERY_PROPERTY, SRB_TYPE_SCSI_REQUEST_BLOCK, SRB_TYPE_STORAGE_REQUEST_BLOCK,
  STORAGE_ADAPTER_DESCRIPTOR, STORAGE_ADDRESS_TYPE_BTL8, STORAGE_DESCRIPTOR_HEADER_SIZE, STORAGE_DEVICE_DESCRIPTOR, STORAGE_DEVICE_ID_DESCRIPTOR,
  STORAGE_PROPERTY_ID, STORAGE_PROPERTY_QUERY_SIZE, STORAGE_QUERY_TYPE,
} from "../storage/ntddstor.js";
import {
  IOCTL_SCSI_GET_ADDRESS, IOCTL_SCSI_PASS_THROUGH, IOCTL_SCSI_PASS_THROUGH_DIRECT, IOCTL_SCSI_RESCAN_BUS, SCSI_ADDRESS, SCSI_IOCTL_DATA_IN,
  SCSI_IOCTL_DATA_OUT, SCSI_IOCTL_DATA_UNSPECIFIED, SCSI_PASS_THROUGH, SRB_IO_CONTROL,
} from "../storage/ntddscsi.js";
import { STOR_MAP_NO_BUFFERS } from "./storport.js";
import { AdapterState, unitKey, type RAID_ADAPTER_EXTENSION } from "./adapter.js";
import type { RAID_UNIT_EXTENSION } from "./unit.js";
import { srbStatusToNtStatus } from "./request.js";
import { raidSendSrbSynchronous } from "./scan.js";

/** Pool tag of buffers the port builds for I/O controls. */
const IOCTL_TAG = "RaiI";
/** SRB_IO_CONTROL.Signature of protocol requests the port sends its miniport. */
export const IOCTL_MINIPORT_SIGNATURE_QUERY_PROTOCOL = "PROTOCOL";
/** The longest a pass-through request may ask to take, seconds (30 hours, as Storport allows). */
const MAX_PASS_THROUGH_TIMEOUT = 108000;

function complete(Irp: IRP, status: NTSTATUS, information = 0): NTSTATUS {
  Irp.IoStatus.Status = status;
  Irp.IoStatus.Information = information;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
  return status;
}

/** The bus type the adapter reports (StorPortSetAdapterBusType, or SCSI). */
function busType(a: RAID_ADAPTER_EXTENSION): number {
  return a.BusType;
}

/** STORAGE_ADAPTER_DESCRIPTOR's bytes. */
function adapterDescriptor(a: RAID_ADAPTER_EXTENSION): Uint8Array {
  const d = STORAGE_ADAPTER_DESCRIPTOR;
  const b = new Uint8Array(d.SIZE);
  const v = new DataView(b.buffer);
  const c = a.ConfigInfo;
  v.setUint32(d.Version, d.SIZE, true);
  v.setUint32(d.Size, d.SIZE, true);
  v.setUint32(d.MaximumTransferLength, c.MaximumTransferLength, true);
  v.setUint32(d.MaximumPhysicalPages, Math.min(c.NumberOfPhysicalBreaks + 1, a.NumberOfMapRegisters || c.NumberOfPhysicalBreaks + 1), true);
  v.setUint32(d.AlignmentMask, c.AlignmentMask, true);
  b[d.AdapterUsesPio] = 0;
  b[d.AdapterScansDown] = c.AdapterScansDown ? 1 : 0;
  b[d.CommandQueueing] = c.TaggedQueuing ? 1 : 0;
  b[d.AcceleratedTransfer] = c.MapBuffers === STOR_MAP_NO_BUFFERS ? 1 : 0;
  b[d.BusType] = busType(a);
  v.setUint16(d.BusMajorVersion, 1, true);
  v.setUint16(d.BusMinorVersion, 0, true);
  b[d.SrbType] = a.ExtendedSrbs ? SRB_TYPE_STORAGE_REQUEST_BLOCK : SRB_TYPE_SCSI_REQUEST_BLOCK;
  b[d.AddressType] = STORAGE_ADDRESS_TYPE_BTL8;
  return b;
}

/** STORAGE_DEVICE_DESCRIPTOR's bytes: the header, the INQUIRY data as raw properties, then the strings. */
function deviceDescriptor(u: RAID_UNIT_EXTENSION): Uint8Array {
  const d = STORAGE_DEVICE_DESCRIPTOR;
  const i = u.Identity;
  const raw = i.InquiryData;
  const strings = [i.Vendor, i.Product, i.Revision, i.SerialNumber];
  const stringBytes = strings.reduce((n, s) => n + s.length + 1, 0);
  const size = d.RawDeviceProperties + raw.length + stringBytes;
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  v.setUint32(d.Version, d.SIZE, true);
  v.setUint32(d.Size, size, true);
  b[d.DeviceType] = i.DeviceType;
  b[d.DeviceTypeModifier] = (raw[1] ?? 0) & 0x7F;
  b[d.RemovableMedia] = i.Removable ? 1 : 0;
  b[d.CommandQueueing] = u.Adapter.ConfigInfo.TaggedQueuing ? 1 : 0;
  v.setUint32(d.BusType, busType(u.Adapter), true);
  v.setUint32(d.RawPropertiesLength, raw.length, true);
  b.set(raw, d.RawDeviceProperties);
  let at = d.RawDeviceProperties + raw.length;
  const offsets = [d.VendorIdOffset, d.ProductIdOffset, d.ProductRevisionOffset, d.SerialNumberOffset];
  strings.forEach((s, k) => {
    v.setUint32(offsets[k], at, true);
    for (let c = 0; c < s.length; c++) b[at + c] = s.charCodeAt(c) & 0x7F;
    at += s.length + 1;
  });
  return b;
}

/** STORAGE_DEVICE_ID_DESCRIPTOR's bytes: the identification descriptors of VPD page 0x83. */
function deviceIdDescriptor(u: RAID_UNIT_EXTENSION): Uint8Array | null {
  const page = u.Identity.DeviceIdentifiers;
  if (page.length < 4) return null;
  const body = page.subarray(4, 4 + ((page[2] << 8) | page[3]));
  let count = 0;
  for (let at = 0; at + 4 <= body.length; at += 4 + body[at + 3]) count++;
  const d = STORAGE_DEVICE_ID_DESCRIPTOR;
  const size = d.Identifiers + body.length;
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  v.setUint32(d.Version, d.SIZE, true);
  v.setUint32(d.Size, size, true);
  v.setUint32(d.NumberOfIdentifiers, count, true);
  b.set(body, d.Identifiers);
  return b;
}

/** Answers a property query with `descriptor` (or its header, when that is all the buffer holds). */
function answerProperty(Irp: IRP, queryType: number, descriptor: Uint8Array | null): NTSTATUS {
  if (!descriptor) return complete(Irp, STATUS_NOT_SUPPORTED);
  if (queryType === STORAGE_QUERY_TYPE.PropertyExistsQuery) return complete(Irp, STATUS_SUCCESS);
  if (queryType !== STORAGE_QUERY_TYPE.PropertyStandardQuery) return complete(Irp, STATUS_NOT_SUPPORTED);
  const out = IoGetCurrentIrpStackLocation(Irp).Parameters.DeviceIoControl.OutputBufferLength;
  if (out < STORAGE_DESCRIPTOR_HEADER_SIZE) return complete(Irp, STATUS_BUFFER_TOO_SMALL);
  const n = Math.min(out, descriptor.length);
  writeBytes(Irp.AssociatedIrp.SystemBuffer, descriptor.subarray(0, n));
  return complete(Irp, STATUS_SUCCESS, n);
}

/** The query in the system buffer; null (after failing the IRP) when the input is too short. */
function readQuery(Irp: IRP): { id: number; type: number } | null {
  const s = IoGetCurrentIrpStackLocation(Irp).Parameters.DeviceIoControl;
  if (s.InputBufferLength < STORAGE_PROPERTY_QUERY_SIZE) {
    complete(Irp, STATUS_INVALID_PARAMETER);
    return null;
  }
  return { id: readU32(Irp.AssociatedIrp.SystemBuffer), type: readU32(Irp.AssociatedIrp.SystemBuffer + 4) };
}

/** IRP_MJ_DEVICE_CONTROL on the adapter. */
export function RaidAdapterDeviceControl(a: RAID_ADAPTER_EXTENSION, Irp: IRP): NTSTATUS | Promise<NTSTATUS> {
  const code = IoGetCurrentIrpStackLocation(Irp).Parameters.DeviceIoControl.IoControlCode;
  switch (code) {
    case IOCTL_STORAGE_QUERY_PROPERTY: {
      const q = readQuery(Irp);
      if (!q) return Irp.IoStatus.Status;
      return answerProperty(Irp, q.type, q.id === STORAGE_PROPERTY_ID.StorageAdapterProperty ? adapterDescriptor(a) : null);
    }
    case IOCTL_SCSI_RESCAN_BUS:
      if (a.State === AdapterState.Running) IoInvalidateDeviceRelations(a.PhysicalDeviceObject, DEVICE_RELATION_TYPE.BusRelations);
      return complete(Irp, STATUS_SUCCESS);
    case IOCTL_SCSI_PASS_THROUGH:
    case IOCTL_SCSI_PASS_THROUGH_DIRECT:
      return adapterPassThrough(a, Irp, code === IOCTL_SCSI_PASS_THROUGH_DIRECT);
    default:
      IoSkipCurrentIrpStackLocation(Irp);
      return IoCallDriver(a.LowerDeviceObject!, Irp);
  }
}

/**
 * Pass-through sent to the adapter: the unit is the one SCSI_PASS_THROUGH's PathId, TargetId
 * and Lun name. A request from user mode for a unit a class driver has claimed fails with
 * STATUS_INVALID_DEVICE_REQUEST (it must go to the class driver).
 */
function adapterPassThrough(a: RAID_ADAPTER_EXTENSION, Irp: IRP, direct: boolean): NTSTATUS | Promise<NTSTATUS> {
  const p = IoGetCurrentIrpStackLocation(Irp).Parameters.DeviceIoControl;
  const sys = Irp.AssociatedIrp.SystemBuffer;
  const h = SCSI_PASS_THROUGH;
  if (p.InputBufferLength < h.SIZE) return complete(Irp, STATUS_INVALID_PARAMETER);
  const u = a.Units.get(unitKey(readU8(sys + h.PathId), readU8(sys + h.TargetId), readU8(sys + h.Lun)));
  if (!u || !u.DeviceObject || !u.Present || u.Removed || a.State === AdapterState.Removed) return complete(Irp, STATUS_INVALID_PARAMETER);
  if (Irp.RequestorMode === KPROCESSOR_MODE.UserMode && u.ClaimedBy) return complete(Irp, STATUS_INVALID_DEVICE_REQUEST);
  return passThrough(u, Irp, direct);
}

/** IRP_MJ_DEVICE_CONTROL on a unit. */
export function RaidUnitDeviceControl(u: RAID_UNIT_EXTENSION, Irp: IRP): NTSTATUS | Promise<NTSTATUS> {
  const s = IoGetCurrentIrpStackLocation(Irp).Parameters.DeviceIoControl;
  if (u.Removed || u.Adapter.State === AdapterState.Removed) return complete(Irp, STATUS_NO_SUCH_DEVICE);
  switch (s.IoControlCode) {
    case IOCTL_STORAGE_QUERY_PROPERTY: {
      const q = readQuery(Irp);
      if (!q) return Irp.IoStatus.Status;
      switch (q.id) {
        case STORAGE_PROPERTY_ID.StorageDeviceProperty: return answerProperty(Irp, q.type, deviceDescriptor(u));
        case STORAGE_PROPERTY_ID.StorageAdapterProperty: return answerProperty(Irp, q.type, adapterDescriptor(u.Adapter));
        case STORAGE_PROPERTY_ID.StorageDeviceIdProperty: return answerProperty(Irp, q.type, deviceIdDescriptor(u));
        case STORAGE_PROPERTY_ID.StorageAdapterProtocolSpecificProperty:
        case STORAGE_PROPERTY_ID.StorageDeviceProtocolSpecificProperty:
          return protocolRequest(u, Irp, IOCTL_STORAGE_QUERY_PROPERTY);
        default:
          return complete(Irp, STATUS_NOT_SUPPORTED);
      }
    }
    case IOCTL_STORAGE_PROTOCOL_COMMAND:
      return protocolRequest(u, Irp, IOCTL_STORAGE_PROTOCOL_COMMAND);
    case IOCTL_SCSI_GET_ADDRESS: {
      if (s.OutputBufferLength < SCSI_ADDRESS.SIZE) return complete(Irp, STATUS_BUFFER_TOO_SMALL);
      const b = Irp.AssociatedIrp.SystemBuffer;
      writeU32(b + SCSI_ADDRESS.Length, SCSI_ADDRESS.SIZE);
      writeU8(b + SCSI_ADDRESS.PortNumber, u.Adapter.PortNumber);
      writeU8(b + SCSI_ADDRESS.PathId, u.PathId);
      writeU8(b + SCSI_ADDRESS.TargetId, u.TargetId);
      writeU8(b + SCSI_ADDRESS.Lun, u.Lun);
      return complete(Irp, STATUS_SUCCESS, SCSI_ADDRESS.SIZE);
    }
    case IOCTL_SCSI_PASS_THROUGH:
    case IOCTL_SCSI_PASS_THROUGH_DIRECT:
      return passThrough(u, Irp, s.IoControlCode === IOCTL_SCSI_PASS_THROUGH_DIRECT);
    default:
      return complete(Irp, STATUS_INVALID_DEVICE_REQUEST);
  }
}

/**
 * A protocol-specific request (property query or protocol command) for the miniport: the
 * IOCTL's buffer behind an SRB_IO_CONTROL header, in SRB_FUNCTION_IO_CONTROL. What the
 * miniport writes back (SRB_IO_CONTROL.Length bytes) returns to the caller.
 */
async function protocolRequest(u: RAID_UNIT_EXTENSION, Irp: IRP, controlCode: number): Promise<NTSTATUS> {
  const p = IoGetCurrentIrpStackLocation(Irp).Parameters.DeviceIoControl;
  const length = Math.max(p.InputBufferLength, p.OutputBufferLength);
  const h = SRB_IO_CONTROL;
  const buffer = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, h.SIZE + length, IOCTL_TAG);
  if (buffer === 0) return complete(Irp, STATUS_INSUFFICIENT_RESOURCES);
  RtlZeroMemory(buffer, h.SIZE + length);
  writeU32(buffer + h.HeaderLength, h.SIZE);
  for (let i = 0; i < 8; i++) writeU8(buffer + h.Signature + i, IOCTL_MINIPORT_SIGNATURE_QUERY_PROTOCOL.charCodeAt(i));
  writeU32(buffer + h.Timeout, 60);
  writeU32(buffer + h.ControlCode, controlCode);
  writeU32(buffer + h.Length, length);
  RtlCopyMemory(buffer + h.SIZE, Irp.AssociatedIrp.SystemBuffer, p.InputBufferLength);
  let srb: SRB;
  if (u.Adapter.ExtendedSrbs) {
    const x = new STORAGE_REQUEST_BLOCK();
    x.SrbFunction = SRB_FUNCTION_IO_CONTROL;
    srb = x;
  } else {
    const x = new SCSI_REQUEST_BLOCK();
    x.Function = SRB_FUNCTION_IO_CONTROL;
    srb = x;
  }
  srb.SrbFlags = SRB_FLAGS_DATA_IN | SRB_FLAGS_DATA_OUT | SRB_FLAGS_NO_QUEUE_FREEZE;
  srb.TimeOutValue = 60;
  srb.DataBuffer = buffer;
  srb.DataTransferLength = h.SIZE + length;
  const mdl = IoAllocateMdl(buffer, h.SIZE + length, false, false, null);
  if (mdl) MmBuildMdlForNonPagedPool(mdl);
  await raidSendSrbSynchronous(u, srb, mdl);
  const status = SRB_STATUS(srb.SrbStatus);
  const returned = Math.min(readU32(buffer + h.Length), p.OutputBufferLength);
  if (status === SRB_STATUS_SUCCESS && returned > 0) RtlCopyMemory(Irp.AssociatedIrp.SystemBuffer, buffer + h.SIZE, returned);
  if (mdl) IoFreeMdl(mdl);
  ExFreePoolWithTag(buffer, IOCTL_TAG);
  if (status === SRB_STATUS_SUCCESS) return complete(Irp, STATUS_SUCCESS, returned);
  return complete(Irp, status === SRB_STATUS_INVALID_REQUEST ? STATUS_NOT_SUPPORTED : srbStatusToNtStatus(srb.SrbStatus, false));
}

/** IOCTL_SCSI_PASS_THROUGH(_DIRECT): the caller's CDB as an SRB to the unit; results back in the structure. */
async function passThrough(u: RAID_UNIT_EXTENSION, Irp: IRP, direct: boolean): Promise<NTSTATUS> {
  const p = IoGetCurrentIrpStackLocation(Irp).Parameters.DeviceIoControl;
  const sys = Irp.AssociatedIrp.SystemBuffer;
  const h = SCSI_PASS_THROUGH;
  if (p.InputBufferLength < h.SIZE) return complete(Irp, STATUS_INVALID_PARAMETER);
  // A Length other than sizeof(SCSI_PASS_THROUGH) is an improperly set structure: STATUS_INVALID_PARAMETER.
  if ((readU32(sys) & 0xFFFF) !== h.SIZE) return complete(Irp, STATUS_INVALID_PARAMETER);
  const cdbLength = readU8(sys + h.CdbLength);
  const senseLength = readU8(sys + h.SenseInfoLength);
  const dataIn = readU8(sys + h.DataIn);
  const length = readU32(sys + h.DataTransferLength);
  const timeout = readU32(sys + h.TimeOutValue);
  const senseOffset = readU32(sys + h.SenseInfoOffset);
  const dataAt = readU32(sys + h.DataBufferOffset) + readU32(sys + h.DataBufferOffset + 4) * 2 ** 32;
  const outLength = p.OutputBufferLength;
  if (cdbLength === 0 || cdbLength > 16 || dataIn > SCSI_IOCTL_DATA_UNSPECIFIED || timeout === 0 || timeout > MAX_PASS_THROUGH_TIMEOUT) return complete(Irp, STATUS_INVALID_PARAMETER);
  if (senseLength > 0 && senseOffset + senseLength > outLength) return complete(Irp, STATUS_INVALID_PARAMETER);
  if (!direct && length > 0 && dataAt + length > (dataIn === SCSI_IOCTL_DATA_IN ? outLength : p.InputBufferLength)) return complete(Irp, STATUS_INVALID_PARAMETER);
  if (direct && length > 0 && (dataAt & u.Adapter.ConfigInfo.AlignmentMask) !== 0) return complete(Irp, STATUS_INVALID_PARAMETER);

  const srb: SRB = newScsiSrb(u.Adapter.ExtendedSrbs, u.PathId, u.TargetId, u.Lun);
  SrbSetCdb(srb, readBytes(sys + h.Cdb, 16), cdbLength);
  srb.TimeOutValue = timeout;
  srb.SrbFlags = SRB_FLAGS_NO_QUEUE_FREEZE | (length === 0 ? SRB_FLAGS_NO_DATA_TRANSFER
    : dataIn === SCSI_IOCTL_DATA_IN ? SRB_FLAGS_DATA_IN : dataIn === SCSI_IOCTL_DATA_OUT ? SRB_FLAGS_DATA_OUT : SRB_FLAGS_DATA_IN | SRB_FLAGS_DATA_OUT);
  const sense = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, Math.max(senseLength, SENSE_BUFFER_SIZE), IOCTL_TAG);
  if (sense === 0) return complete(Irp, STATUS_INSUFFICIENT_RESOURCES);
  RtlZeroMemory(sense, Math.max(senseLength, SENSE_BUFFER_SIZE));
  SrbSetSenseInfoBuffer(srb, sense);
  SrbSetSenseInfoBufferLength(srb, senseLength);
  let mdl: MDL | null = null;
  let locked = false;
  try {
    if (length > 0) {
      const va = direct ? dataAt : sys + dataAt;
      mdl = IoAllocateMdl(va, length, false, false, null);
      if (!mdl) return complete(Irp, STATUS_INSUFFICIENT_RESOURCES);
      if (direct) {
        MmProbeAndLockPages(mdl, KPROCESSOR_MODE.UserMode, dataIn === SCSI_IOCTL_DATA_OUT ? LOCK_OPERATION.IoReadAccess : LOCK_OPERATION.IoWriteAccess);
        locked = true;
      } else {
        MmBuildMdlForNonPagedPool(mdl);
      }
      srb.DataBuffer = va;
      srb.DataTransferLength = length;
    }
  } catch (e) {
    if (mdl) IoFreeMdl(mdl);
    ExFreePoolWithTag(sense, IOCTL_TAG);
    if (e instanceof NtStatusException) return complete(Irp, e.status);
    throw e;
  }
  await raidSendSrbSynchronous(u, srb, mdl);
  if (mdl) {
    if (locked) MmUnlockPages(mdl);
    IoFreeMdl(mdl);
  }
  const status = SRB_STATUS(srb.SrbStatus);
  const senseValid = (srb.SrbStatus & SRB_STATUS_AUTOSENSE_VALID) !== 0 ? Math.min(SrbGetSenseInfoBufferLength(srb), senseLength) : 0;
  if (senseValid > 0) RtlCopyMemory(sys + senseOffset, sense, senseValid);
  ExFreePoolWithTag(sense, IOCTL_TAG);
  writeU8(sys + h.ScsiStatus, SrbGetScsiStatus(srb));
  writeU8(sys + h.SenseInfoLength, senseValid);
  writeU32(sys + h.DataTransferLength, status === SRB_STATUS_SUCCESS || status === SRB_STATUS_DATA_OVERRUN ? srb.DataTransferLength : 0);
  // The request reached the device: the IOCTL succeeds and the SCSI status tells the rest.
  if (status === SRB_STATUS_SUCCESS || status === SRB_STATUS_DATA_OVERRUN || status === SRB_STATUS_ERROR) {
    const transferred = status === SRB_STATUS_ERROR ? 0 : srb.DataTransferLength;
    const dataEnd = !direct && dataIn === SCSI_IOCTL_DATA_IN ? dataAt + transferred : 0;
    const senseEnd = senseValid > 0 ? senseOffset + senseValid : 0;
    return complete(Irp, STATUS_SUCCESS, Math.min(outLength, Math.max(h.SIZE, dataEnd, senseEnd)));
  }
  return complete(Irp, srbStatusToNtStatus(srb.SrbStatus, false));
}
