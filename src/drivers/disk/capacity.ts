/**
 * The disk's size and geometry (classpnp's ClassReadDriveCapacity, InterpretCapacityData,
 * ClassReadCapacity16; disk.sys's DiskReadDriveCapacity).
 *
 * READ CAPACITY (10) goes first, on a transfer packet; a last LBA of 0xFFFFFFFF means the
 * disk needs 8-byte LBAs: READ CAPACITY (16) then, and reads and writes use 16-byte CDBs
 * from then on (DEV_USE_16BYTE_CDB). From the capacity: BytesPerSector (0 means 512; not a
 * power of two: rounded down to one), the disk's length, and the geometry classpnp makes
 * up: 255 heads and 63 sectors per track, cylinders = blocks / (255 * 63) (a disk smaller
 * than one cylinder gets 1 head, 1 sector per track, a cylinder per block). When the
 * command fails the geometry is zeroed with 512-byte sectors and a length of 0.
 *
 * READ CAPACITY (16) is also what StorageAccessAlignmentProperty is answered from when the
 * port does not answer it: the physical sector size (logical blocks per physical block
 * exponent) and the offset of the first aligned block; its result is cached.
 */
import { IoAllocateMdl, IoFreeMdl } from "../../io/mdl.js";
import { FILE_REMOVABLE_MEDIA } from "../../io/objects.js";
import { EVENT_TYPE, KEVENT, KeInitializeEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON } from "../../ke/dispatcher.js";
import {
  NT_SUCCESS, STATUS_DATA_OVERRUN, STATUS_DEVICE_BUSY, STATUS_INFO_LENGTH_MISMATCH, STATUS_INSUFFICIENT_RESOURCES, STATUS_SUCCESS, STATUS_UNSUCCESSFUL,
  type NTSTATUS,
} from "../../ke/ntstatus.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../../mm/pool.js";
import { MmBuildMdlForNonPagedPool } from "../../mm/mdl.js";
import { readBytes, RtlZeroMemory } from "../../mm/memory.js";
import type { DEVICE_OBJECT } from "../../io/objects.js";
import { MEDIA_TYPE } from "../storage/ntdddisk.js";
import { SP_UNTAGGED, SrbGetCdb, SrbGetDataTransferLength, SrbSetCdbLength, SrbSetRequestTag, SrbSetTimeOutValue } from "../storage/srb.js";
import {
  READ_CAPACITY16_DATA, READ_CAPACITY16_DATA_SIZE, READ_CAPACITY_DATA_SIZE, readBE, SCSIOP_READ_CAPACITY16, SERVICE_ACTION_READ_CAPACITY16, writeBE,
} from "../storage/scsi.js";
import { CLASS_TAG_READ_CAPACITY16, DEV_USE_16BYTE_CDB, DISK_TAG_READ_CAP } from "./constants.js";
import type { FUNCTIONAL_DEVICE_EXTENSION } from "./extension.js";
import { fdoExtensionOf } from "./queue.js";
import { ClasspAllocateSrb, ClasspInitializeSrb } from "./request-block.js";
import { ClassSendSrbSynchronous } from "./sync-srb.js";
import { DequeueFreeTransferPacket, newPseudoIrp, SetupDriveCapacityTransferPacket, SubmitTransferPacket } from "./xferpkt.js";

/** ClasspCalculateLogicalSectorSize: 0 means 512; anything not a power of two is rounded down to one. */
export function ClasspCalculateLogicalSectorSize(BytesPerBlock: number): number {
  if (BytesPerBlock === 0) return 512;
  let size = BytesPerBlock >>> 0;
  while ((size & (size - 1)) !== 0) size = (size & (size - 1)) >>> 0;
  return size;
}

/**
 * InterpretCapacityData: BytesPerSector, SectorShift, the geometry (255 heads and 63
 * sectors per track unless set before) and PartitionLength from the last LBA and block size.
 */
export function InterpretCapacityData(Fdo: DEVICE_OBJECT, LogicalBlockAddress: number, BytesPerBlock: number): void {
  const fdoExt = fdoExtensionOf(Fdo);
  const g = fdoExt.DiskGeometry;
  const bytesPerSector = ClasspCalculateLogicalSectorSize(BytesPerBlock);
  g.BytesPerSector = bytesPerSector;
  fdoExt.SectorShift = Math.log2(bytesPerSector);
  const lastSector = LogicalBlockAddress;
  let cylinderSize = g.TracksPerCylinder * g.SectorsPerTrack;
  if (cylinderSize === 0) {
    g.TracksPerCylinder = 0xFF;
    g.SectorsPerTrack = 0x3F;
    cylinderSize = g.TracksPerCylinder * g.SectorsPerTrack;
  }
  g.Cylinders = Math.floor((lastSector + 1) / cylinderSize);
  if (g.Cylinders === 0) {
    // Smaller than a cylinder: a geometry that still works.
    g.SectorsPerTrack = 1;
    g.TracksPerCylinder = 1;
    g.Cylinders = lastSector + 1;
  }
  fdoExt.PartitionLength = (lastSector + 1) * 2 ** fdoExt.SectorShift;
  g.MediaType = (Fdo.Characteristics & FILE_REMOVABLE_MEDIA) !== 0 ? MEDIA_TYPE.RemovableMedia : MEDIA_TYPE.FixedMedia;
}

/** Sends READ CAPACITY (10 or 16) on a transfer packet into `buffer` and waits; the pseudo request's status and bytes. */
async function readCapacityOnce(Fdo: DEVICE_OBJECT, buffer: number, length: number, use16: boolean): Promise<{ status: NTSTATUS; information: number }> {
  const mdl = IoAllocateMdl(buffer, length, false, false, null);
  if (!mdl) return { status: STATUS_INSUFFICIENT_RESOURCES, information: 0 };
  MmBuildMdlForNonPagedPool(mdl);
  try {
    const pkt = DequeueFreeTransferPacket(Fdo, true);
    if (!pkt) return { status: STATUS_INSUFFICIENT_RESOURCES, information: 0 };
    const pseudoIrp = newPseudoIrp(mdl);
    const event = new KEVENT();
    KeInitializeEvent(event, EVENT_TYPE.SynchronizationEvent, false);
    SetupDriveCapacityTransferPacket(pkt, buffer, length, event, pseudoIrp, use16);
    void SubmitTransferPacket(pkt);
    await KeWaitForSingleObject(event, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
    return { status: pseudoIrp.IoStatus.Status, information: Number(pseudoIrp.IoStatus.Information) };
  } finally {
    IoFreeMdl(mdl);
  }
}

/**
 * ClassReadDriveCapacity: reads the capacity (READ CAPACITY (10), then (16) if needed),
 * retrying once on an underrun, and updates geometry, length and the cached capacity. On
 * failure the geometry is reset as described in the file comment. For a disk without
 * 16-byte CDBs, HwMaxXferLen is capped at 65535 blocks (READ/WRITE (10)'s count). PASSIVE_LEVEL.
 */
export async function ClassReadDriveCapacity(Fdo: DEVICE_OBJECT): Promise<NTSTATUS> {
  const fdoExt = fdoExtensionOf(Fdo);
  const fdoData = fdoExt.PrivateFdoData;
  let use16ByteCdb = (fdoExt.DeviceFlags & DEV_USE_16BYTE_CDB) !== 0;
  const buffer = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPoolNx, READ_CAPACITY16_DATA_SIZE, DISK_TAG_READ_CAP);
  let status: NTSTATUS = STATUS_INSUFFICIENT_RESOURCES;
  if (buffer !== 0) {
    for (;;) {
      const size = use16ByteCdb ? READ_CAPACITY16_DATA_SIZE : READ_CAPACITY_DATA_SIZE;
      RtlZeroMemory(buffer, READ_CAPACITY16_DATA_SIZE);
      let r = await readCapacityOnce(Fdo, buffer, size, use16ByteCdb);
      status = r.status;
      // An underrun is a success to the packet engine: retried exactly once here.
      if (NT_SUCCESS(status) && r.information < size) {
        r = await readCapacityOnce(Fdo, buffer, size, use16ByteCdb);
        status = r.status;
        if (r.information < size) status = STATUS_DEVICE_BUSY;
      }
      if (!NT_SUCCESS(status)) break;
      const data = readBytes(buffer, size);
      if (!use16ByteCdb) {
        const lastLba = readBE(data, 0, 4);
        // The disk does not fit 4-byte LBAs: ask again with READ CAPACITY (16).
        if (lastLba === 0xFFFFFFFF) {
          use16ByteCdb = true;
          continue;
        }
        fdoData.LastKnownDriveCapacityData.LogicalBlockAddress = lastLba;
        fdoData.LastKnownDriveCapacityData.BytesPerBlock = readBE(data, 4, 4);
      } else {
        fdoExt.DeviceFlags |= DEV_USE_16BYTE_CDB;
        fdoData.LastKnownDriveCapacityData.LogicalBlockAddress = readBE(data, READ_CAPACITY16_DATA.LogicalBlockAddress, 8);
        fdoData.LastKnownDriveCapacityData.BytesPerBlock = readBE(data, READ_CAPACITY16_DATA.BytesPerBlock, 4);
      }
      InterpretCapacityData(Fdo, fdoData.LastKnownDriveCapacityData.LogicalBlockAddress, fdoData.LastKnownDriveCapacityData.BytesPerBlock);
      fdoData.IsCachedDriveCapDataValid = true;
      break;
    }
    ExFreePoolWithTag(buffer, DISK_TAG_READ_CAP);
  }
  if (!NT_SUCCESS(status)) {
    // A geometry we hope is right, so nothing fails in unexpected places.
    const g = fdoExt.DiskGeometry;
    g.Cylinders = 0;
    g.TracksPerCylinder = 0;
    g.SectorsPerTrack = 0;
    g.BytesPerSector = 512;
    fdoExt.SectorShift = 9;
    fdoExt.PartitionLength = 0;
    g.MediaType = (Fdo.Characteristics & FILE_REMOVABLE_MEDIA) !== 0 ? MEDIA_TYPE.RemovableMedia : MEDIA_TYPE.FixedMedia;
  }
  // READ/WRITE (10) count blocks in two bytes: pieces stay within that.
  if ((fdoExt.DeviceFlags & DEV_USE_16BYTE_CDB) === 0) {
    fdoData.HwMaxXferLen = Math.min(0xFFFF * 2 ** fdoExt.SectorShift, fdoData.HwMaxXferLen);
  }
  if (!NT_SUCCESS(status) && fdoExt.DiskGeometry.MediaType === MEDIA_TYPE.RemovableMedia) fdoData.IsCachedDriveCapDataValid = false;
  // Memory failures do not put a fixed disk in an error state: the last capacity read stands.
  if (status === STATUS_INSUFFICIENT_RESOURCES && fdoData.IsCachedDriveCapDataValid && fdoExt.DiskGeometry.MediaType === MEDIA_TYPE.FixedMedia) {
    InterpretCapacityData(Fdo, fdoData.LastKnownDriveCapacityData.LogicalBlockAddress, fdoData.LastKnownDriveCapacityData.BytesPerBlock);
    status = STATUS_SUCCESS;
  }
  return status;
}

/** DiskReadDriveCapacity: disk.sys's wrapper (no BIOS geometry on this machine, so just ClassReadDriveCapacity). */
export function DiskReadDriveCapacity(Fdo: DEVICE_OBJECT): Promise<NTSTATUS> {
  return ClassReadDriveCapacity(Fdo);
}

/**
 * ClassReadCapacity16: READ CAPACITY (16) (a synchronous SRB, 32-byte allocation length)
 * for the physical sector size and alignment, once; later calls return the cached status.
 */
export async function ClassReadCapacity16(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION): Promise<NTSTATUS> {
  const cached = fdoExtension.FunctionSupportInfo.ReadCapacity16Data;
  if (cached.CommandStatus !== -1) return cached.CommandStatus;
  const bufferLength = READ_CAPACITY16_DATA_SIZE;
  const dataBuffer = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPoolNx, bufferLength, CLASS_TAG_READ_CAPACITY16);
  // No memory: left untried, so a later call sends the command.
  if (dataBuffer === 0) return STATUS_INSUFFICIENT_RESOURCES;
  RtlZeroMemory(dataBuffer, bufferLength);
  const srb = ClasspAllocateSrb(fdoExtension);
  ClasspInitializeSrb(fdoExtension, srb);
  SrbSetTimeOutValue(srb, fdoExtension.TimeOutValue);
  SrbSetRequestTag(srb, SP_UNTAGGED);
  SrbSetCdbLength(srb, 16);
  const cdb = SrbGetCdb(srb)!;
  cdb[0] = SCSIOP_READ_CAPACITY16;
  cdb[1] = SERVICE_ACTION_READ_CAPACITY16;
  writeBE(cdb, 10, 4, bufferLength);
  let status = await ClassSendSrbSynchronous(fdoExtension.DeviceObject, srb, dataBuffer, bufferLength, false);
  const dataTransferLength = SrbGetDataTransferLength(srb);
  // The device must return at least the first 16 bytes.
  if (NT_SUCCESS(status) && dataTransferLength < 16) status = STATUS_INFO_LENGTH_MISMATCH;
  if (status === STATUS_DATA_OVERRUN && dataTransferLength < bufferLength) status = STATUS_SUCCESS;
  if (NT_SUCCESS(status)) {
    const data = readBytes(dataBuffer, bufferLength);
    cached.BytesPerLogicalSector = ClasspCalculateLogicalSectorSize(readBE(data, READ_CAPACITY16_DATA.BytesPerBlock, 4));
    const logicalBlocksPerPhysicalBlock = 1 << (data[READ_CAPACITY16_DATA.Exponents] & 0x0F);
    let lowestAlignedBlock = ((data[READ_CAPACITY16_DATA.LowestAligned] & 0x3F) << 8) | data[READ_CAPACITY16_DATA.LowestAligned + 1];
    if (lowestAlignedBlock > logicalBlocksPerPhysicalBlock) {
      // Garbage.
      status = STATUS_UNSUCCESSFUL;
    } else {
      // The T10 value (the first aligned LBA) as the offset Windows reports.
      lowestAlignedBlock = (logicalBlocksPerPhysicalBlock - lowestAlignedBlock) % logicalBlocksPerPhysicalBlock;
      cached.BytesPerPhysicalSector = cached.BytesPerLogicalSector * logicalBlocksPerPhysicalBlock;
      cached.BytesOffsetForSectorAlignment = cached.BytesPerLogicalSector * lowestAlignedBlock;
      cached.LBProvisioningEnabled = (data[READ_CAPACITY16_DATA.LowestAligned] & 0x80) !== 0;
      cached.LBProvisioningReadZeros = (data[READ_CAPACITY16_DATA.LowestAligned] & 0x40) !== 0;
    }
  }
  cached.CommandStatus = status;
  ExFreePoolWithTag(dataBuffer, CLASS_TAG_READ_CAPACITY16);
  return status;
}
