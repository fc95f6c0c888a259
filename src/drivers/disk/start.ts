/**
 * Starting the disk (classpnp's ClassPnpStartDevice with disk.sys's DiskInitFdo and
 * DiskStartFdo), once the port has started the unit's PDO:
 *
 * 1. The first time only: the miniport descriptor (optional: the port's I/O timeout), the
 *    adapter descriptor (transfer limits, alignment, SRB kind) and the device descriptor
 *    (INQUIRY identity, removable, command queueing); the transfer packets; then
 *    DiskInitFdo: SRB flags (tagged queuing when both descriptors allow it, no queue
 *    freeze on a fixed disk), the sense buffer, the timeout (the miniport's, else 10 s),
 *    READ CAPACITY and the geometry, the disk signature (sector 0, read through the FDO
 *    itself), the names and links, the unit's SCSI address; then the VPD pages.
 * 2. Every time: the write cache state (MODE SENSE, caching page), the bus's power
 *    capabilities, D0, and GUID_DEVINTERFACE_DISK enabled.
 */
import type { DEVICE_OBJECT } from "../../io/objects.js";
import { FILE_REMOVABLE_MEDIA } from "../../io/objects.js";
import { IoSetDeviceInterfaceState } from "../../io/interfaces.js";
import { IoReadDiskSignature, PARTITION_STYLE_GPT } from "../../io/disk-signature.js";
import { EVENT_TYPE, KeInitializeEvent } from "../../ke/dispatcher.js";
import { NT_SUCCESS, STATUS_INSUFFICIENT_RESOURCES, STATUS_SUCCESS, type NTSTATUS } from "../../ke/ntstatus.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../../mm/pool.js";
import { readBytes, RtlZeroMemory, type PVOID } from "../../mm/memory.js";
import { PoSetPowerState } from "../../po/routines.js";
import { DEVICE_POWER_STATE, POWER_STATE, POWER_STATE_TYPE } from "../../po/power.js";
import {
  SRB_FLAGS_NO_QUEUE_FREEZE, SRB_FLAGS_QUEUE_ACTION_ENABLE,
} from "../storage/srb.js";
import {
  STORAGE_ADAPTER_DESCRIPTOR, STORAGE_DEVICE_DESCRIPTOR, STORAGE_MINIPORT_DESCRIPTOR, STORAGE_PORT_CODE_SET, STORAGE_PROPERTY_ID,
} from "../storage/ntddstor.js";
import { IOCTL_SCSI_GET_ADDRESS, SCSI_ADDRESS } from "../storage/ntddscsi.js";
import { PARTITION_STYLE } from "../storage/ntdddisk.js";
import { SENSE_BUFFER_SIZE_EX } from "../storage/scsi.js";
import { DEV_SAFE_START_UNIT, DISK_TAG_START, SCSI_DISK_TIMEOUT } from "./constants.js";
import type { FUNCTIONAL_DEVICE_EXTENSION } from "./extension.js";
import { ClassFreeDescriptor, ClassGetDescriptor, ClassSendDeviceIoControlSynchronous, DiskQueryCapabilities } from "./lower.js";
import { ClassReadDriveCapacity, DiskReadDriveCapacity } from "./capacity.js";
import { DiskUpdateWriteCacheState } from "./mode-sense.js";
import { DiskCreateSymbolicLinks } from "./names.js";
import { fdoExtensionOf } from "./queue.js";
import { ClasspGetBlockLimitsInfo, ClasspGetInquiryVpdSupportInfo } from "./vpd.js";
import { InitializeTransferPackets } from "./xferpkt.js";

/** The ASCII string at `offset` of a descriptor (0: none), up to its NUL. */
function descriptorString(bytes: Uint8Array, offset: number): string {
  if (offset === 0 || offset >= bytes.length) return "";
  let end = offset;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return String.fromCharCode(...bytes.subarray(offset, end));
}

/** Reads a descriptor block's bytes (its Size, from the header). */
function descriptorBytes(address: PVOID): Uint8Array {
  const header = readBytes(address, 8);
  const size = new DataView(header.buffer).getUint32(4, true);
  return readBytes(address, Math.max(size, 8));
}

/** The adapter descriptor's fields into the extension (the block stays allocated until removal). */
function keepAdapterDescriptor(fdoExt: FUNCTIONAL_DEVICE_EXTENSION, address: PVOID): void {
  const b = descriptorBytes(address);
  const v = new DataView(b.buffer);
  const D = STORAGE_ADAPTER_DESCRIPTOR;
  const a = fdoExt.AdapterDescriptor;
  a.address = address;
  a.MaximumTransferLength = v.getUint32(D.MaximumTransferLength, true);
  a.MaximumPhysicalPages = v.getUint32(D.MaximumPhysicalPages, true);
  a.AlignmentMask = v.getUint32(D.AlignmentMask, true);
  a.AdapterUsesPio = b[D.AdapterUsesPio] !== 0;
  a.CommandQueueing = b[D.CommandQueueing] !== 0;
  a.BusType = b[D.BusType];
  a.SrbType = b.length > D.SrbType ? b[D.SrbType] : 0;
  a.AddressType = b.length > D.AddressType ? b[D.AddressType] : 0;
}

/** The device descriptor's fields into the extension. */
function keepDeviceDescriptor(fdoExt: FUNCTIONAL_DEVICE_EXTENSION, address: PVOID): void {
  const b = descriptorBytes(address);
  const v = new DataView(b.buffer);
  const D = STORAGE_DEVICE_DESCRIPTOR;
  const d = fdoExt.DeviceDescriptor;
  d.address = address;
  d.DeviceType = b[D.DeviceType];
  d.DeviceTypeModifier = b[D.DeviceTypeModifier];
  d.RemovableMedia = b[D.RemovableMedia] !== 0;
  d.CommandQueueing = b[D.CommandQueueing] !== 0;
  d.VendorId = descriptorString(b, v.getUint32(D.VendorIdOffset, true));
  d.ProductId = descriptorString(b, v.getUint32(D.ProductIdOffset, true));
  d.ProductRevision = descriptorString(b, v.getUint32(D.ProductRevisionOffset, true));
  d.SerialNumber = descriptorString(b, v.getUint32(D.SerialNumberOffset, true));
  d.BusType = v.getUint32(D.BusType, true);
}

/** The miniport descriptor's port driver and I/O timeout (only Storport's and USBport's timeout counts). */
function keepMiniportDescriptor(fdoExt: FUNCTIONAL_DEVICE_EXTENSION, address: PVOID): void {
  const b = descriptorBytes(address);
  const v = new DataView(b.buffer);
  const m = fdoExt.MiniportDescriptor;
  m.address = address;
  m.Portdriver = b.length > STORAGE_MINIPORT_DESCRIPTOR.Portdriver + 3 ? v.getUint32(STORAGE_MINIPORT_DESCRIPTOR.Portdriver, true) : 0;
  const timeout = b.length > STORAGE_MINIPORT_DESCRIPTOR.IoTimeoutValue + 1 ? v.getUint16(STORAGE_MINIPORT_DESCRIPTOR.IoTimeoutValue, true) : 0;
  m.IoTimeoutValue = m.Portdriver === STORAGE_PORT_CODE_SET.StoragePortCodeSetStorport || m.Portdriver === STORAGE_PORT_CODE_SET.StoragePortCodeSetUSBport ? timeout : 0;
}

/** IOCTL_SCSI_GET_ADDRESS to the port: the unit's port, path, target and LUN. */
async function DiskGetScsiAddress(fdoExt: FUNCTIONAL_DEVICE_EXTENSION): Promise<NTSTATUS> {
  const buffer = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPoolNx, SCSI_ADDRESS.SIZE, DISK_TAG_START);
  if (buffer === 0) return STATUS_INSUFFICIENT_RESOURCES;
  RtlZeroMemory(buffer, SCSI_ADDRESS.SIZE);
  const iosb = await ClassSendDeviceIoControlSynchronous(IOCTL_SCSI_GET_ADDRESS, fdoExt.LowerDeviceObject, buffer, 0, SCSI_ADDRESS.SIZE, false);
  if (NT_SUCCESS(iosb.Status)) {
    const b = readBytes(buffer, SCSI_ADDRESS.SIZE);
    const a = fdoExt.DiskData.ScsiAddress;
    a.PortNumber = b[SCSI_ADDRESS.PortNumber];
    a.PathId = b[SCSI_ADDRESS.PathId];
    a.TargetId = b[SCSI_ADDRESS.TargetId];
    a.Lun = b[SCSI_ADDRESS.Lun];
  }
  ExFreePoolWithTag(buffer, DISK_TAG_START);
  return iosb.Status;
}

/** DiskReadSignature: the partition style and MBR signature and checksum, or GPT disk GUID, from the disk itself. */
async function DiskReadSignature(Fdo: DEVICE_OBJECT): Promise<NTSTATUS> {
  const fdoExt = fdoExtensionOf(Fdo);
  const { status, Signature } = await IoReadDiskSignature(Fdo, fdoExt.DiskGeometry.BytesPerSector);
  if (!NT_SUCCESS(status)) return status;
  const d = fdoExt.DiskData;
  if (Signature.PartitionStyle === PARTITION_STYLE_GPT) {
    d.PartitionStyle = PARTITION_STYLE.PARTITION_STYLE_GPT;
    d.Efi.DiskId = Signature.Gpt.DiskId;
  } else {
    d.PartitionStyle = PARTITION_STYLE.PARTITION_STYLE_MBR;
    d.Mbr.Signature = Signature.Mbr.Signature;
    d.Mbr.MbrCheckSum = Signature.Mbr.CheckSum;
  }
  return STATUS_SUCCESS;
}

/** DiskInitFdo: the one-time initialisation of the disk once the descriptors and packets exist. */
async function DiskInitFdo(Fdo: DEVICE_OBJECT): Promise<NTSTATUS> {
  const fdoExt = fdoExtensionOf(Fdo);
  const diskData = fdoExt.DiskData;
  if (fdoExt.DeviceDescriptor.RemovableMedia) Fdo.Characteristics |= FILE_REMOVABLE_MEDIA;
  if (fdoExt.DeviceDescriptor.CommandQueueing && fdoExt.AdapterDescriptor.CommandQueueing) fdoExt.SrbFlags |= SRB_FLAGS_QUEUE_ACTION_ENABLE;
  const g = fdoExt.DiskGeometry;
  g.Cylinders = 0;
  g.TracksPerCylinder = 0;
  g.SectorsPerTrack = 0;
  g.BytesPerSector = 0;
  fdoExt.SenseData = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPoolNx, SENSE_BUFFER_SIZE_EX, DISK_TAG_START);
  if (fdoExt.SenseData === 0) return STATUS_INSUFFICIENT_RESOURCES;
  fdoExt.SenseDataLength = SENSE_BUFFER_SIZE_EX;
  fdoExt.TimeOutValue = fdoExt.MiniportDescriptor.IoTimeoutValue > 0 ? fdoExt.MiniportDescriptor.IoTimeoutValue : SCSI_DISK_TIMEOUT;
  if ((Fdo.Characteristics & FILE_REMOVABLE_MEDIA) === 0) {
    fdoExt.DeviceFlags |= DEV_SAFE_START_UNIT;
    fdoExt.SrbFlags |= SRB_FLAGS_NO_QUEUE_FREEZE;
  }
  // The commands below may change the flags on errors: restored at the end.
  const srbFlags = fdoExt.SrbFlags;
  // The SRBs carry the unit's address.
  await DiskGetScsiAddress(fdoExt);
  await ClassReadDriveCapacity(Fdo);
  if (g.BytesPerSector === 0) {
    g.BytesPerSector = 512;
    fdoExt.SectorShift = 9;
  }
  if ((Fdo.Characteristics & FILE_REMOVABLE_MEDIA) === 0) {
    await DiskReadSignature(Fdo);
    await DiskReadDriveCapacity(Fdo);
  }
  DiskCreateSymbolicLinks(fdoExt);
  KeInitializeEvent(diskData.VerifyMutex, EVENT_TYPE.SynchronizationEvent, true);
  KeInitializeEvent(diskData.FlushContext.Event, EVENT_TYPE.SynchronizationEvent, false);
  fdoExt.SrbFlags = srbFlags;
  return STATUS_SUCCESS;
}

/** ClassPnpStartDevice for the disk FDO (see the file comment). Resolves to the start's status. PASSIVE_LEVEL. */
export async function ClassPnpStartDevice(Fdo: DEVICE_OBJECT): Promise<NTSTATUS> {
  const fdoExt = fdoExtensionOf(Fdo);
  const lower = fdoExt.LowerDeviceObject;
  if (!fdoExt.IsInitialized) {
    KeInitializeEvent(fdoExt.PrivateFdoData.IdleEvent, EVENT_TYPE.NotificationEvent, false);
    // The miniport's properties: optional.
    const miniport = await ClassGetDescriptor(lower, STORAGE_PROPERTY_ID.StorageMiniportProperty);
    if (NT_SUCCESS(miniport.status)) keepMiniportDescriptor(fdoExt, miniport.Descriptor);
    const adapter = await ClassGetDescriptor(lower, STORAGE_PROPERTY_ID.StorageAdapterProperty);
    if (!NT_SUCCESS(adapter.status)) return adapter.status;
    keepAdapterDescriptor(fdoExt, adapter.Descriptor);
    const device = await ClassGetDescriptor(lower, STORAGE_PROPERTY_ID.StorageDeviceProperty);
    if (!NT_SUCCESS(device.status)) return device.status;
    keepDeviceDescriptor(fdoExt, device.Descriptor);
    // Buffers must meet the adapter's alignment.
    Fdo.AlignmentRequirement = Math.max(Fdo.AlignmentRequirement, fdoExt.AdapterDescriptor.AlignmentMask);
    let status = InitializeTransferPackets(Fdo);
    if (!NT_SUCCESS(status)) return status;
    status = await DiskInitFdo(Fdo);
    if (!NT_SUCCESS(status)) return status;
    await ClasspGetInquiryVpdSupportInfo(fdoExt);
    await ClasspGetBlockLimitsInfo(fdoExt);
    fdoExt.IsInitialized = true;
  }
  await DiskUpdateWriteCacheState(Fdo);
  fdoExt.PowerCapabilities = await DiskQueryCapabilities(lower);
  fdoExt.DevicePowerState = DEVICE_POWER_STATE.PowerDeviceD0;
  PoSetPowerState(Fdo, POWER_STATE_TYPE.DevicePowerState, new POWER_STATE(DEVICE_POWER_STATE.PowerDeviceD0));
  // Enabling an interface already enabled (a restart after a stop) is not a failure.
  if (fdoExt.DiskInterfaceName) IoSetDeviceInterfaceState(fdoExt.DiskInterfaceName, true);
  return STATUS_SUCCESS;
}

/** Frees what start allocated for the device's lifetime (descriptors, sense buffer). */
export function ClasspFreeStartResources(fdoExt: FUNCTIONAL_DEVICE_EXTENSION): void {
  ClassFreeDescriptor(fdoExt.MiniportDescriptor.address);
  fdoExt.MiniportDescriptor.address = 0;
  ClassFreeDescriptor(fdoExt.AdapterDescriptor.address);
  fdoExt.AdapterDescriptor.address = 0;
  ClassFreeDescriptor(fdoExt.DeviceDescriptor.address);
  fdoExt.DeviceDescriptor.address = 0;
}
