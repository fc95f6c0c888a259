/**
 * I/O controls (disk.sys's DiskDeviceControl, then classpnp's ClassDeviceControl for the
 * rest). Buffer rules and results as disk.sys and classpnp give them:
 *
 * - IOCTL_DISK_GET_DRIVE_GEOMETRY: DISK_GEOMETRY (24 bytes); a smaller buffer is
 *   STATUS_BUFFER_TOO_SMALL with nothing returned.
 * - IOCTL_DISK_GET_DRIVE_GEOMETRY_EX: at least the geometry and DiskSize (32 bytes, else
 *   STATUS_BUFFER_TOO_SMALL); DISK_PARTITION_INFO from 56 bytes, DISK_DETECTION_INFO
 *   (DetectNone: no BIOS data here) from 104; Information = min(length, 104).
 * - IOCTL_DISK_GET_LENGTH_INFO: the capacity is read again; 8 bytes (else
 *   STATUS_BUFFER_TOO_SMALL); a drive that is not ready returns that status.
 * - IOCTL_DISK_IS_WRITABLE: MODE SENSE (all pages); STATUS_MEDIA_WRITE_PROTECTED when the
 *   device-specific parameter says so.
 * - IOCTL_DISK_VERIFY: VERIFY_INFORMATION (16 bytes, else STATUS_INFO_LENGTH_MISMATCH); a
 *   range outside the disk is STATUS_NONEXISTENT_SECTOR; VERIFY commands of at most 256
 *   blocks from a work item.
 * - IOCTL_DISK_FLUSH_CACHE: SYNCHRONIZE CACHE.
 * - IOCTL_STORAGE_CHECK_VERIFY (and its disk form): TEST UNIT READY; with an output buffer
 *   (at least 4 bytes, else STATUS_BUFFER_TOO_SMALL with Information 4) the media change count.
 * - IOCTL_STORAGE_GET_DEVICE_NUMBER: STORAGE_DEVICE_NUMBER { FILE_DEVICE_DISK, N, 0 }
 *   (12 bytes, else STATUS_BUFFER_TOO_SMALL with Information 12).
 * - IOCTL_STORAGE_READ_CAPACITY: STORAGE_READ_CAPACITY (32 bytes, else
 *   STATUS_BUFFER_TOO_SMALL with Information 32).
 * - IOCTL_STORAGE_QUERY_PROPERTY: a query shorter than 12 bytes is
 *   STATUS_INFO_LENGTH_MISMATCH; StorageAccessAlignmentProperty is asked of the port first
 *   and, when it does not know it, answered from READ CAPACITY (16); other properties go
 *   to the port.
 * - SCSI pass-through (input shorter than SCSI_PASS_THROUGH: STATUS_INVALID_PARAMETER) and
 *   everything else go to the port.
 */
import type { DEVICE_OBJECT } from "../../io/objects.js";
import { FILE_REMOVABLE_MEDIA } from "../../io/objects.js";
import {
  IoCallDriver, IoCopyCurrentIrpStackLocationToNext, IoGetCurrentIrpStackLocation, IoGetNextIrpStackLocation, IoMarkIrpPending, IO_NO_INCREMENT, type IRP,
} from "../../io/irp.js";
import { IoAllocateWorkItem, IoFreeWorkItem, IoQueueWorkItem, WORK_QUEUE_TYPE, type IO_WORKITEM } from "../../io/workitem.js";
import { KeSetEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON } from "../../ke/dispatcher.js";
import {
  NT_SUCCESS, STATUS_BUFFER_TOO_SMALL, STATUS_DEVICE_DOES_NOT_EXIST, STATUS_INFO_LENGTH_MISMATCH, STATUS_INVALID_PARAMETER, STATUS_MEDIA_WRITE_PROTECTED,
  STATUS_NONEXISTENT_SECTOR, STATUS_NOT_IMPLEMENTED, STATUS_NOT_SUPPORTED, STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER_1, STATUS_PENDING,
  STATUS_SUCCESS, STATUS_VERIFY_REQUIRED, STATUS_INSUFFICIENT_RESOURCES, type NTSTATUS,
} from "../../ke/ntstatus.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../../mm/pool.js";
import { readBytes, readU32, RtlZeroMemory, writeBytes, writeU32, writeU64 } from "../../mm/memory.js";
import { IoInvalidateDeviceRelations } from "../../pnp/requests.js";
import { DEVICE_RELATION_TYPE } from "../../pnp/minor.js";
import { SP_UNTAGGED, SRB_STATUS, SRB_STATUS_DATA_OVERRUN, SrbGetCdb, SrbSetCdbLength, SrbSetRequestTag, SrbSetTimeOutValue } from "../storage/srb.js";
import {
  buildVerifyCdb, MODE_DSP_WRITE_PROTECT, MODE_PARAMETER_HEADER, MODE_SENSE_RETURN_ALL, SCSIOP_MODE_SENSE, SCSIOP_SYNCHRONIZE_CACHE,
  SCSIOP_TEST_UNIT_READY,
} from "../storage/scsi.js";
import {
  DETECTION_TYPE, DISK_DETECTION_INFO, DISK_GEOMETRY, DISK_GEOMETRY_EX, DISK_GEOMETRY_EX_INTERNAL, DISK_PARTITION_INFO, GET_LENGTH_INFORMATION_SIZE,
  IOCTL_DISK_BASE, IOCTL_DISK_FLUSH_CACHE, IOCTL_DISK_GET_DRIVE_GEOMETRY, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, IOCTL_DISK_GET_LENGTH_INFO,
  IOCTL_DISK_IS_WRITABLE, IOCTL_DISK_VERIFY, PARTITION_STYLE, VERIFY_INFORMATION,
} from "../storage/ntdddisk.js";
import {
  IOCTL_STORAGE_BASE, IOCTL_STORAGE_CHECK_VERIFY, IOCTL_STORAGE_CHECK_VERIFY2, IOCTL_STORAGE_GET_DEVICE_NUMBER, IOCTL_STORAGE_QUERY_PROPERTY,
  IOCTL_STORAGE_READ_CAPACITY, STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR, STORAGE_DESCRIPTOR_HEADER_SIZE, STORAGE_DEVICE_NUMBER, STORAGE_PROPERTY_ID,
  STORAGE_PROPERTY_QUERY_SIZE, STORAGE_QUERY_TYPE, STORAGE_READ_CAPACITY,
} from "../storage/ntddstor.js";
import { IOCTL_SCSI_PASS_THROUGH, IOCTL_SCSI_PASS_THROUGH_DIRECT, SCSI_PASS_THROUGH } from "../storage/ntddscsi.js";
import { FILE_DEVICE_DISK } from "../../io/objects.js";
import { DEV_USE_16BYTE_CDB, DISK_TAG_MODE_DATA, DISK_TAG_WI_CONTEXT, MAX_SECTORS_PER_VERIFY, MODE_DATA_SIZE } from "./constants.js";
import { CLASS_FUNCTION_SUPPORT, REMOVE_STATE, type FUNCTIONAL_DEVICE_EXTENSION } from "./extension.js";
import { ClassReadCapacity16, ClassReadDriveCapacity, DiskReadDriveCapacity } from "./capacity.js";
import { ClassForwardIrpSynchronous } from "./lower.js";
import {
  ClassAcquireRemoveLock, ClassCompleteRequest, ClasspHoldRequest, ClasspIoDone, ClasspIoStarted, ClassReleaseRemoveLock, completeAndRelease,
  fdoExtensionOf,
} from "./queue.js";
import { ClasspAllocateSrb, ClasspInitializeSrb } from "./request-block.js";
import { ClassSendSrbSynchronous } from "./sync-srb.js";

/** The IOCTL_STORAGE_BASE form of a disk I/O control (classpnp's switch normalises IOCTL_DISK_BASE codes). */
function storageFormOf(code: number): number {
  return ((code >>> 16) & 0xFFFF) === IOCTL_DISK_BASE ? ((code & 0xFFFF) | (IOCTL_STORAGE_BASE << 16)) >>> 0 : code;
}

/** IRP_MJ_DEVICE_CONTROL: a removed disk fails it; a disk that is not running holds it. */
export async function DiskDeviceControl(DeviceObject: DEVICE_OBJECT, Irp: IRP): Promise<NTSTATUS> {
  const fdoExtension = fdoExtensionOf(DeviceObject);
  const isRemoved = ClassAcquireRemoveLock(fdoExtension, Irp);
  if (isRemoved !== REMOVE_STATE.NO_REMOVE) {
    Irp.IoStatus.Status = STATUS_DEVICE_DOES_NOT_EXIST;
    Irp.IoStatus.Information = 0;
    if (isRemoved !== REMOVE_STATE.REMOVE_COMPLETE) ClassReleaseRemoveLock(fdoExtension, Irp);
    ClassCompleteRequest(DeviceObject, Irp, IO_NO_INCREMENT);
    return STATUS_DEVICE_DOES_NOT_EXIST;
  }
  if (fdoExtension.HoldReasons !== 0) return ClasspHoldRequest(fdoExtension, Irp);
  return DiskDeviceControlWorker(fdoExtension, Irp);
}

/** DiskDeviceControl for a request that holds the remove lock and may run now. */
export async function DiskDeviceControlWorker(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Irp: IRP): Promise<NTSTATUS> {
  const DeviceObject = fdoExtension.DeviceObject;
  const ioctlCode = IoGetCurrentIrpStackLocation(Irp).Parameters.DeviceIoControl.IoControlCode;
  Irp.IoStatus.Information = 0;
  ClasspIoStarted(fdoExtension);
  try {
    let status: NTSTATUS;
    switch (ioctlCode) {
      case IOCTL_DISK_GET_DRIVE_GEOMETRY: status = await DiskIoctlGetDriveGeometry(fdoExtension, Irp); break;
      case IOCTL_DISK_GET_DRIVE_GEOMETRY_EX: status = await DiskIoctlGetDriveGeometryEx(fdoExtension, Irp); break;
      case IOCTL_DISK_VERIFY: status = DiskIoctlVerify(fdoExtension, Irp); break;
      case IOCTL_DISK_GET_LENGTH_INFO: status = await DiskIoctlGetLengthInfo(fdoExtension, Irp); break;
      case IOCTL_DISK_IS_WRITABLE: status = await DiskIoctlIsWritable(fdoExtension); break;
      case IOCTL_DISK_FLUSH_CACHE: status = await DiskSynchronizeCache(fdoExtension); break;
      default:
        return await ClassDeviceControl(fdoExtension, Irp);
    }
    // IOCTL_DISK_VERIFY completes from its work item.
    if (status !== STATUS_PENDING) {
      Irp.IoStatus.Status = status;
      ClassReleaseRemoveLock(fdoExtension, Irp);
      ClassCompleteRequest(DeviceObject, Irp, IO_NO_INCREMENT);
    }
    return status;
  } finally {
    ClasspIoDone(fdoExtension);
  }
}

/** DiskIoctlGetDriveGeometry. */
async function DiskIoctlGetDriveGeometry(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Irp: IRP): Promise<NTSTATUS> {
  const irpStack = IoGetCurrentIrpStackLocation(Irp);
  if (irpStack.Parameters.DeviceIoControl.OutputBufferLength < DISK_GEOMETRY.SIZE) return STATUS_BUFFER_TOO_SMALL;
  if ((fdoExtension.DeviceObject.Characteristics & FILE_REMOVABLE_MEDIA) !== 0) {
    // The current medium's capacity.
    const status = await DiskReadDriveCapacity(fdoExtension.DeviceObject);
    fdoExtension.DiskData.ReadyStatus = status;
    if (!NT_SUCCESS(status)) return status;
  }
  writeGeometry(fdoExtension, Irp.AssociatedIrp.SystemBuffer);
  Irp.IoStatus.Information = DISK_GEOMETRY.SIZE;
  return STATUS_SUCCESS;
}

/** Writes the FDO's DISK_GEOMETRY at `va` (BytesPerSector 0 reported as 512). */
function writeGeometry(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, va: number): void {
  const g = fdoExtension.DiskGeometry;
  writeU64(va + DISK_GEOMETRY.Cylinders, g.Cylinders);
  writeU32(va + DISK_GEOMETRY.MediaType, g.MediaType);
  writeU32(va + DISK_GEOMETRY.TracksPerCylinder, g.TracksPerCylinder);
  writeU32(va + DISK_GEOMETRY.SectorsPerTrack, g.SectorsPerTrack);
  writeU32(va + DISK_GEOMETRY.BytesPerSector, g.BytesPerSector === 0 ? 512 : g.BytesPerSector);
}

/** A "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" GUID as its 16 bytes. */
function guidBytes(guid: string): Uint8Array {
  const hex = guid.replace(/[{}-]/g, "");
  const b = new Uint8Array(16);
  if (hex.length !== 32) return b;
  const v = new DataView(b.buffer);
  v.setUint32(0, parseInt(hex.slice(0, 8), 16), true);
  v.setUint16(4, parseInt(hex.slice(8, 12), 16), true);
  v.setUint16(6, parseInt(hex.slice(12, 16), 16), true);
  for (let i = 0; i < 8; i++) b[8 + i] = parseInt(hex.slice(16 + 2 * i, 18 + 2 * i), 16);
  return b;
}

/** DiskIoctlGetDriveGeometryEx. */
async function DiskIoctlGetDriveGeometryEx(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Irp: IRP): Promise<NTSTATUS> {
  const OutputBufferLength = IoGetCurrentIrpStackLocation(Irp).Parameters.DeviceIoControl.OutputBufferLength;
  const diskData = fdoExtension.DiskData;
  // At least Geometry and DiskSize.
  if (OutputBufferLength < DISK_GEOMETRY_EX.Data) return STATUS_BUFFER_TOO_SMALL;
  if ((fdoExtension.DeviceObject.Characteristics & FILE_REMOVABLE_MEDIA) !== 0) {
    const status = await DiskReadDriveCapacity(fdoExtension.DeviceObject);
    diskData.ReadyStatus = status;
    if (!NT_SUCCESS(status)) return status;
  }
  const va = Irp.AssociatedIrp.SystemBuffer;
  writeGeometry(fdoExtension, va + DISK_GEOMETRY_EX.Geometry);
  writeU64(va + DISK_GEOMETRY_EX.DiskSize, fdoExtension.PartitionLength);
  if (OutputBufferLength >= DISK_GEOMETRY_EX_INTERNAL.Detection) {
    const p = va + DISK_GEOMETRY_EX_INTERNAL.Partition;
    writeU32(p + DISK_PARTITION_INFO.SizeOfPartitionInfo, DISK_PARTITION_INFO.SIZE);
    writeU32(p + DISK_PARTITION_INFO.PartitionStyle, diskData.PartitionStyle);
    switch (diskData.PartitionStyle) {
      case PARTITION_STYLE.PARTITION_STYLE_GPT:
        writeBytes(p + DISK_PARTITION_INFO.GptDiskId, guidBytes(diskData.Efi.DiskId));
        break;
      case PARTITION_STYLE.PARTITION_STYLE_MBR:
        writeU32(p + DISK_PARTITION_INFO.MbrSignature, diskData.Mbr.Signature);
        writeU32(p + DISK_PARTITION_INFO.MbrCheckSum, diskData.Mbr.MbrCheckSum);
        break;
      default:
        // A raw disk: nothing that could be mistaken for a signature.
        RtlZeroMemory(p, DISK_PARTITION_INFO.SIZE);
    }
  }
  if (OutputBufferLength >= DISK_GEOMETRY_EX_INTERNAL.SIZE) {
    const d = va + DISK_GEOMETRY_EX_INTERNAL.Detection;
    writeU32(d + DISK_DETECTION_INFO.SizeOfDetectInfo, DISK_DETECTION_INFO.SIZE);
    // No BIOS detection data on this machine (DiskGetDetectInfo finds none).
    writeU32(d + DISK_DETECTION_INFO.DetectionType, DETECTION_TYPE.DetectNone);
  }
  Irp.IoStatus.Information = Math.min(OutputBufferLength, DISK_GEOMETRY_EX_INTERNAL.SIZE);
  return STATUS_SUCCESS;
}

/** DiskIoctlGetLengthInfo: reads the capacity again; a change in readiness makes the port look at the bus again. */
async function DiskIoctlGetLengthInfo(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Irp: IRP): Promise<NTSTATUS> {
  if (IoGetCurrentIrpStackLocation(Irp).Parameters.DeviceIoControl.OutputBufferLength < GET_LENGTH_INFORMATION_SIZE) return STATUS_BUFFER_TOO_SMALL;
  const status = await DiskReadDriveCapacity(fdoExtension.DeviceObject);
  const diskData = fdoExtension.DiskData;
  const oldReadyStatus = diskData.ReadyStatus;
  diskData.ReadyStatus = status;
  if (status !== oldReadyStatus) IoInvalidateDeviceRelations(fdoExtension.LowerPdo, DEVICE_RELATION_TYPE.BusRelations);
  if (!NT_SUCCESS(status)) return status;
  writeU64(Irp.AssociatedIrp.SystemBuffer, fdoExtension.PartitionLength);
  Irp.IoStatus.Information = GET_LENGTH_INFORMATION_SIZE;
  return STATUS_SUCCESS;
}

/** DiskIoctlIsWritable: MODE SENSE of every page (up to 4 times while the medium needs verifying); the header's write-protect bit. */
async function DiskIoctlIsWritable(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION): Promise<NTSTATUS> {
  const modeData = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPoolNx, MODE_DATA_SIZE, DISK_TAG_MODE_DATA);
  if (modeData === 0) return STATUS_INSUFFICIENT_RESOURCES;
  RtlZeroMemory(modeData, MODE_DATA_SIZE);
  const srb = ClasspAllocateSrb(fdoExtension);
  ClasspInitializeSrb(fdoExtension, srb);
  SrbSetTimeOutValue(srb, fdoExtension.TimeOutValue);
  SrbSetCdbLength(srb, 6);
  const cdb = SrbGetCdb(srb)!;
  // Every page: may fail on a device with more than 255 bytes of them (DiskFdoProcessError then asks for the caching page only).
  cdb[0] = SCSIOP_MODE_SENSE;
  cdb[2] = MODE_SENSE_RETURN_ALL;
  cdb[4] = MODE_DATA_SIZE;
  let status: NTSTATUS = STATUS_SUCCESS;
  for (let retries = 4; retries !== 0; retries--) {
    status = await ClassSendSrbSynchronous(fdoExtension.DeviceObject, srb, modeData, MODE_DATA_SIZE, false);
    if (status !== STATUS_VERIFY_REQUIRED) {
      if (SRB_STATUS(srb.SrbStatus) === SRB_STATUS_DATA_OVERRUN) status = STATUS_SUCCESS;
      break;
    }
  }
  if (NT_SUCCESS(status) && (readBytes(modeData + MODE_PARAMETER_HEADER.DeviceSpecificParameter, 1)[0] & MODE_DSP_WRITE_PROTECT) !== 0) {
    status = STATUS_MEDIA_WRITE_PROTECTED;
  }
  ExFreePoolWithTag(modeData, DISK_TAG_MODE_DATA);
  return status;
}

/** SYNCHRONIZE CACHE (10) for the whole disk, untagged, with four times the disk's timeout. */
export async function DiskSynchronizeCache(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION): Promise<NTSTATUS> {
  const srb = ClasspAllocateSrb(fdoExtension);
  ClasspInitializeSrb(fdoExtension, srb);
  SrbSetTimeOutValue(srb, fdoExtension.TimeOutValue * 4);
  SrbSetRequestTag(srb, SP_UNTAGGED);
  SrbSetCdbLength(srb, 10);
  SrbGetCdb(srb)![0] = SCSIOP_SYNCHRONIZE_CACHE;
  return ClassSendSrbSynchronous(fdoExtension.DeviceObject, srb, 0, 0, true);
}

/** What a verify work item needs (DISK_VERIFY_WORKITEM_CONTEXT): the request, its work item, its pool block. */
class DISK_VERIFY_WORKITEM_CONTEXT {
  constructor(readonly Irp: IRP, readonly WorkItem: IO_WORKITEM, readonly address: number) {}
}

/** DiskIoctlVerify: checks the range and hands the request to DiskIoctlVerifyThread. */
function DiskIoctlVerify(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Irp: IRP): NTSTATUS {
  const irpStack = IoGetCurrentIrpStackLocation(Irp);
  if (irpStack.Parameters.DeviceIoControl.InputBufferLength < VERIFY_INFORMATION.SIZE) return STATUS_INFO_LENGTH_MISMATCH;
  const va = Irp.AssociatedIrp.SystemBuffer;
  const startingOffset = Number(readVerifyOffset(va));
  const length = readU32(va + VERIFY_INFORMATION.Length);
  if (startingOffset > fdoExtension.PartitionLength || startingOffset < 0) return STATUS_NONEXISTENT_SECTOR;
  if (length > fdoExtension.PartitionLength - startingOffset) return STATUS_NONEXISTENT_SECTOR;
  const address = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 0x20, DISK_TAG_WI_CONTEXT);
  if (address === 0) return STATUS_INSUFFICIENT_RESOURCES;
  const item = IoAllocateWorkItem(fdoExtension.DeviceObject);
  if (!item) {
    ExFreePoolWithTag(address, DISK_TAG_WI_CONTEXT);
    return STATUS_INSUFFICIENT_RESOURCES;
  }
  IoMarkIrpPending(Irp);
  ClasspIoStarted(fdoExtension);
  IoQueueWorkItem(item, DiskIoctlVerifyThread, WORK_QUEUE_TYPE.DelayedWorkQueue, new DISK_VERIFY_WORKITEM_CONTEXT(Irp, item, address));
  return STATUS_PENDING;
}

/** VERIFY_INFORMATION.StartingOffset (a signed LARGE_INTEGER), bytes. */
function readVerifyOffset(va: number): number {
  const b = readBytes(va + VERIFY_INFORMATION.StartingOffset, 8);
  return Number(new DataView(b.buffer).getBigInt64(0, true));
}

/**
 * DiskIoctlVerifyThread: one verify at a time (the verify mutex); VERIFY (10), or (16) on a
 * disk with 8-byte LBAs, in pieces of at most MAX_SECTORS_PER_VERIFY blocks, each with a
 * timeout of the disk's per 128 blocks; stops at the first failure.
 */
async function DiskIoctlVerifyThread(Fdo: DEVICE_OBJECT, Context: unknown): Promise<void> {
  const work = Context as DISK_VERIFY_WORKITEM_CONTEXT;
  const fdoExtension = fdoExtensionOf(Fdo);
  const irp = work.Irp;
  IoFreeWorkItem(work.WorkItem);
  const va = irp.AssociatedIrp.SystemBuffer;
  let sectorOffset = Math.floor(readVerifyOffset(va) / 2 ** fdoExtension.SectorShift);
  let sectorCount = Math.floor(readU32(va + VERIFY_INFORMATION.Length) / 2 ** fdoExtension.SectorShift);
  const mutex = fdoExtension.DiskData.VerifyMutex;
  await KeWaitForSingleObject(mutex, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
  const srb = ClasspAllocateSrb(fdoExtension);
  const use16 = (fdoExtension.DeviceFlags & DEV_USE_16BYTE_CDB) !== 0;
  let status: NTSTATUS = STATUS_SUCCESS;
  while (NT_SUCCESS(status) && sectorCount !== 0) {
    const numSectors = Math.min(sectorCount, MAX_SECTORS_PER_VERIFY);
    ClasspInitializeSrb(fdoExtension, srb);
    SrbSetTimeOutValue(srb, ((numSectors + 0x7F) >>> 7) * fdoExtension.TimeOutValue);
    SrbSetCdbLength(srb, buildVerifyCdb(SrbGetCdb(srb)!, sectorOffset, numSectors, use16));
    status = await ClassSendSrbSynchronous(Fdo, srb, 0, 0, false);
    sectorCount -= numSectors;
    sectorOffset += numSectors;
  }
  KeSetEvent(mutex, 0, false);
  ExFreePoolWithTag(work.address, DISK_TAG_WI_CONTEXT);
  ClasspIoDone(fdoExtension);
  completeAndRelease(fdoExtension, irp, status, 0);
}

/** Passes the request to the port unchanged (the remove lock released first). */
function forward(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Irp: IRP): NTSTATUS | Promise<NTSTATUS> {
  IoCopyCurrentIrpStackLocationToNext(Irp);
  ClassReleaseRemoveLock(fdoExtension, Irp);
  return IoCallDriver(fdoExtension.LowerDeviceObject, Irp);
}

/** ClassDeviceControl: the storage I/O controls classpnp answers, and forwarding for the rest. */
async function ClassDeviceControl(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Irp: IRP): Promise<NTSTATUS> {
  const irpStack = IoGetCurrentIrpStackLocation(Irp);
  const p = irpStack.Parameters.DeviceIoControl;
  const controlCode = p.IoControlCode >>> 0;
  if (controlCode === IOCTL_SCSI_PASS_THROUGH || controlCode === IOCTL_SCSI_PASS_THROUGH_DIRECT) {
    if (p.InputBufferLength < SCSI_PASS_THROUGH.SIZE) return completeAndRelease(fdoExtension, Irp, STATUS_INVALID_PARAMETER, 0);
    IoCopyCurrentIrpStackLocationToNext(Irp);
    IoGetNextIrpStackLocation(Irp).MinorFunction = 1;
    ClassReleaseRemoveLock(fdoExtension, Irp);
    return IoCallDriver(fdoExtension.LowerDeviceObject, Irp);
  }
  Irp.IoStatus.Information = 0;
  const va = Irp.AssociatedIrp.SystemBuffer;
  switch (storageFormOf(controlCode)) {
    case IOCTL_STORAGE_CHECK_VERIFY:
    case IOCTL_STORAGE_CHECK_VERIFY2: {
      // A media change count needs room for a ULONG.
      if (p.OutputBufferLength !== 0 && p.OutputBufferLength < 4) return completeAndRelease(fdoExtension, Irp, STATUS_BUFFER_TOO_SMALL, 4);
      const srb = ClasspAllocateSrb(fdoExtension);
      ClasspInitializeSrb(fdoExtension, srb);
      SrbSetCdbLength(srb, 6);
      SrbGetCdb(srb)![0] = SCSIOP_TEST_UNIT_READY;
      SrbSetTimeOutValue(srb, fdoExtension.TimeOutValue);
      const status = await ClassSendSrbSynchronous(fdoExtension.DeviceObject, srb, 0, 0, false);
      if (p.OutputBufferLength !== 0) {
        writeU32(va, fdoExtension.MediaChangeCount);
        return completeAndRelease(fdoExtension, Irp, status, 4);
      }
      return completeAndRelease(fdoExtension, Irp, status, 0);
    }
    case IOCTL_STORAGE_GET_DEVICE_NUMBER: {
      if (p.OutputBufferLength < STORAGE_DEVICE_NUMBER.SIZE) return completeAndRelease(fdoExtension, Irp, STATUS_BUFFER_TOO_SMALL, STORAGE_DEVICE_NUMBER.SIZE);
      writeU32(va + STORAGE_DEVICE_NUMBER.DeviceType, fdoExtension.DeviceObject.DeviceType);
      writeU32(va + STORAGE_DEVICE_NUMBER.DeviceNumber, fdoExtension.DeviceNumber);
      writeU32(va + STORAGE_DEVICE_NUMBER.PartitionNumber, fdoExtension.PartitionNumber);
      return completeAndRelease(fdoExtension, Irp, STATUS_SUCCESS, STORAGE_DEVICE_NUMBER.SIZE);
    }
    case IOCTL_STORAGE_READ_CAPACITY: {
      if (p.OutputBufferLength < STORAGE_READ_CAPACITY.SIZE) return completeAndRelease(fdoExtension, Irp, STATUS_BUFFER_TOO_SMALL, STORAGE_READ_CAPACITY.SIZE);
      const status = await ClassReadDriveCapacity(fdoExtension.DeviceObject);
      const fdoData = fdoExtension.PrivateFdoData;
      if (!NT_SUCCESS(status) || !fdoData.IsCachedDriveCapDataValid) return completeAndRelease(fdoExtension, Irp, status, 0);
      writeU32(va + STORAGE_READ_CAPACITY.Version, STORAGE_READ_CAPACITY.SIZE);
      writeU32(va + STORAGE_READ_CAPACITY.Size, STORAGE_READ_CAPACITY.SIZE);
      writeU32(va + STORAGE_READ_CAPACITY.BlockLength, fdoData.LastKnownDriveCapacityData.BytesPerBlock);
      writeU64(va + STORAGE_READ_CAPACITY.NumberOfBlocks, fdoData.LastKnownDriveCapacityData.LogicalBlockAddress + 1);
      writeU64(va + STORAGE_READ_CAPACITY.DiskLength, fdoExtension.PartitionLength);
      return completeAndRelease(fdoExtension, Irp, STATUS_SUCCESS, STORAGE_READ_CAPACITY.SIZE);
    }
    case IOCTL_STORAGE_QUERY_PROPERTY: {
      if (p.InputBufferLength < STORAGE_PROPERTY_QUERY_SIZE) return completeAndRelease(fdoExtension, Irp, STATUS_INFO_LENGTH_MISMATCH, 0);
      if (readU32(va) === STORAGE_PROPERTY_ID.StorageAccessAlignmentProperty) return ClasspAccessAlignmentProperty(fdoExtension, Irp);
      return forward(fdoExtension, Irp);
    }
    default:
      return forward(fdoExtension, Irp);
  }
}

/** ClasspLowerLayerNotSupport: the statuses that say the layer below does not know a request. */
function ClasspLowerLayerNotSupport(status: NTSTATUS): boolean {
  return status === STATUS_NOT_SUPPORTED || status === STATUS_NOT_IMPLEMENTED || status === STATUS_INVALID_DEVICE_REQUEST || status === STATUS_INVALID_PARAMETER_1;
}

/** Writes STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR from READ CAPACITY (16) (cache line fields zero) into `length` bytes at `va`. */
function writeAccessAlignment(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, va: number, length: number): void {
  const D = STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR;
  const rc16 = fdoExtension.FunctionSupportInfo.ReadCapacity16Data;
  RtlZeroMemory(va, length);
  writeU32(va + D.Version, D.SIZE);
  writeU32(va + D.Size, D.SIZE);
  writeU32(va + D.BytesPerLogicalSector, rc16.BytesPerLogicalSector);
  writeU32(va + D.BytesPerPhysicalSector, rc16.BytesPerPhysicalSector);
  writeU32(va + D.BytesOffsetForSectorAlignment, rc16.BytesOffsetForSectorAlignment);
}

/**
 * ClasspAccessAlignmentProperty: the port is asked first (once); if it does not know the
 * property, classpnp answers from READ CAPACITY (16) from then on.
 */
async function ClasspAccessAlignmentProperty(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Irp: IRP): Promise<NTSTATUS> {
  const support = fdoExtension.FunctionSupportInfo.LowerLayerSupport;
  if (fdoExtension.DeviceObject.DeviceType !== FILE_DEVICE_DISK || support.AccessAlignmentProperty === CLASS_FUNCTION_SUPPORT.Supported) {
    return forward(fdoExtension, Irp);
  }
  const va = Irp.AssociatedIrp.SystemBuffer;
  const queryType = readU32(va + 4);
  if (queryType === STORAGE_QUERY_TYPE.PropertyExistsQuery) return completeAndRelease(fdoExtension, Irp, STATUS_SUCCESS, 0);
  if (queryType !== STORAGE_QUERY_TYPE.PropertyStandardQuery) return completeAndRelease(fdoExtension, Irp, STATUS_NOT_SUPPORTED, 0);
  const length = IoGetCurrentIrpStackLocation(Irp).Parameters.DeviceIoControl.OutputBufferLength;
  const D = STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR;
  if (length < D.SIZE) {
    if (length >= STORAGE_DESCRIPTOR_HEADER_SIZE) {
      writeU32(va + D.Version, D.SIZE);
      writeU32(va + D.Size, D.SIZE);
      return completeAndRelease(fdoExtension, Irp, STATUS_SUCCESS, STORAGE_DESCRIPTOR_HEADER_SIZE);
    }
    return completeAndRelease(fdoExtension, Irp, STATUS_BUFFER_TOO_SMALL, 0);
  }
  let status: NTSTATUS;
  if (support.AccessAlignmentProperty === CLASS_FUNCTION_SUPPORT.SupportUnknown) {
    status = await ClassForwardIrpSynchronous(fdoExtension.LowerDeviceObject, Irp);
    if (!ClasspLowerLayerNotSupport(status)) {
      // The port answers it: from now on it goes straight down.
      support.AccessAlignmentProperty = CLASS_FUNCTION_SUPPORT.Supported;
      return completeAndRelease(fdoExtension, Irp, status, Number(Irp.IoStatus.Information));
    }
    status = await ClassReadCapacity16(fdoExtension);
    support.AccessAlignmentProperty = CLASS_FUNCTION_SUPPORT.NotSupported;
  } else {
    status = await ClassReadCapacity16(fdoExtension);
  }
  if (!NT_SUCCESS(status)) return completeAndRelease(fdoExtension, Irp, status, 0);
  writeAccessAlignment(fdoExtension, va, length);
  return completeAndRelease(fdoExtension, Irp, STATUS_SUCCESS, D.SIZE);
}
