/**
 * IoReadDiskSignature (ntddk.h): reads a disk's signature the way the kernel's partition
 * support does, for disk drivers that report it (IOCTL_DISK_GET_DRIVE_GEOMETRY_EX). It
 * reads sector 0 with an IRP_MJ_READ sent to the disk's own device object
 * (SL_OVERRIDE_VERIFY_VOLUME set). A protective MBR (first partition entry of type 0xEE)
 * means GPT: sector 1 must then hold a GPT header ("EFI PART", a good header CRC32) and
 * the disk GUID comes from it. Otherwise the disk is MBR: the signature is the ULONG at
 * byte 0x1B8 and the checksum the two's complement of the sum of the sector's first 128
 * ULONGs.
 */
import { EVENT_TYPE, KEVENT, KeInitializeEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON } from "../ke/dispatcher.js";
import { NT_SUCCESS, STATUS_DISK_CORRUPT_ERROR, STATUS_INSUFFICIENT_RESOURCES, STATUS_PENDING, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../mm/pool.js";
import { readBytes } from "../mm/memory.js";
import { IO_STATUS_BLOCK, IoCallDriver, IoGetNextIrpStackLocation, IRP_MJ_READ, SL_OVERRIDE_VERIFY_VOLUME } from "./irp.js";
import { IoBuildSynchronousFsdRequest } from "./build-irp.js";
import type { DEVICE_OBJECT } from "./objects.js";

/** DISK_SIGNATURE.PartitionStyle of an MBR disk (PARTITION_STYLE_MBR). */
export const PARTITION_STYLE_MBR = 0;
/** DISK_SIGNATURE.PartitionStyle of a GPT disk (PARTITION_STYLE_GPT). */
export const PARTITION_STYLE_GPT = 1;

/** DISK_SIGNATURE: the partition style and the MBR signature and checksum, or the GPT disk GUID. */
export class DISK_SIGNATURE {
  PartitionStyle = PARTITION_STYLE_MBR;
  readonly Mbr = { Signature: 0, CheckSum: 0 };
  /** DiskId as "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" (lower case). */
  readonly Gpt = { DiskId: "" };
}

/** Pool tag of the sector buffer (the kernel's partition support, "FstB"). */
const FSTUB_TAG = "FstB";
/** Byte offset of the MBR's first partition entry and of its type byte within it. */
const PARTITION_TABLE_OFFSET = 0x1BE;
const PARTITION_TYPE_OFFSET = 4;
/** Partition type of a protective MBR. */
const EFI_PMBR_OSTYPE_EFI = 0xEE;
/** Byte offset of the MBR disk signature. */
const MBR_SIGNATURE_OFFSET = 0x1B8;
/** GPT header fields: signature (8 bytes), header size (4 at 12), header CRC32 (4 at 16), disk GUID (16 at 56). */
const GPT_SIGNATURE = "EFI PART";
const GPT_HEADER_SIZE_OFFSET = 12;
const GPT_HEADER_CRC_OFFSET = 16;
const GPT_DISK_GUID_OFFSET = 56;
/** Smallest GPT header (UEFI), bytes. */
const GPT_MIN_HEADER_SIZE = 92;

let crcTable: Uint32Array | null = null;

/** CRC-32 (IEEE 802.3, reflected, as UEFI uses for GPT headers) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let j = 0; j < 8; j++) c = (c & 1) !== 0 ? 0xEDB88320 ^ (c >>> 1) : c >>> 1;
      crcTable[i] = c >>> 0;
    }
  }
  let crc = 0xFFFFFFFF;
  for (const b of bytes) crc = crcTable[(crc ^ b) & 0xFF] ^ (crc >>> 8);
  return (crc ^ 0xFFFFFFFF) >>> 0;
}

/** A GUID's 16 bytes (little-endian Data1..Data3) as "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}". */
function guidText(b: Uint8Array): string {
  const v = new DataView(b.buffer, b.byteOffset, 16);
  const hex = (n: number, w: number) => n.toString(16).padStart(w, "0");
  const tail = [...b.subarray(8, 16)].map((x) => hex(x, 2)).join("");
  return `{${hex(v.getUint32(0, true), 8)}-${hex(v.getUint16(4, true), 4)}-${hex(v.getUint16(6, true), 4)}-${tail.slice(0, 4)}-${tail.slice(4)}}`;
}

/** Reads `length` bytes at byte `offset` of the disk into `buffer` with a synchronous IRP_MJ_READ. */
async function readSector(DeviceObject: DEVICE_OBJECT, buffer: number, length: number, offset: number): Promise<NTSTATUS> {
  const event = new KEVENT();
  KeInitializeEvent(event, EVENT_TYPE.NotificationEvent, false);
  const iosb = new IO_STATUS_BLOCK();
  const irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, DeviceObject, buffer, length, offset, event, iosb);
  if (!irp) return STATUS_INSUFFICIENT_RESOURCES;
  IoGetNextIrpStackLocation(irp).Flags |= SL_OVERRIDE_VERIFY_VOLUME;
  let status = await IoCallDriver(DeviceObject, irp);
  if (status === STATUS_PENDING) {
    await KeWaitForSingleObject(event, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
    status = iosb.Status;
  }
  return status;
}

/**
 * IoReadDiskSignature: the signature of the disk `DeviceObject` is (the C out-parameter
 * as `Signature`); `BytesPerSector` is the disk's sector size (at least 512 is read).
 * STATUS_DISK_CORRUPT_ERROR for a protective MBR without a valid GPT header; a failed read's
 * status otherwise. PASSIVE_LEVEL (it waits).
 */
export async function IoReadDiskSignature(DeviceObject: DEVICE_OBJECT, BytesPerSector: number): Promise<{ status: NTSTATUS; Signature: DISK_SIGNATURE }> {
  const Signature = new DISK_SIGNATURE();
  const sectorSize = Math.max(BytesPerSector, 512);
  const buffer = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, sectorSize, FSTUB_TAG);
  if (buffer === 0) return { status: STATUS_INSUFFICIENT_RESOURCES, Signature };
  try {
    let status = await readSector(DeviceObject, buffer, sectorSize, 0);
    if (!NT_SUCCESS(status)) return { status, Signature };
    const mbr = readBytes(buffer, 512);
    if (mbr[PARTITION_TABLE_OFFSET + PARTITION_TYPE_OFFSET] === EFI_PMBR_OSTYPE_EFI) {
      status = await readSector(DeviceObject, buffer, sectorSize, sectorSize);
      if (!NT_SUCCESS(status)) return { status, Signature };
      const header = readBytes(buffer, sectorSize);
      const view = new DataView(header.buffer);
      const size = view.getUint32(GPT_HEADER_SIZE_OFFSET, true);
      const signature = String.fromCharCode(...header.subarray(0, 8));
      if (signature !== GPT_SIGNATURE || size < GPT_MIN_HEADER_SIZE || size > sectorSize) return { status: STATUS_DISK_CORRUPT_ERROR, Signature };
      const stored = view.getUint32(GPT_HEADER_CRC_OFFSET, true);
      const copy = header.slice(0, size);
      copy.fill(0, GPT_HEADER_CRC_OFFSET, GPT_HEADER_CRC_OFFSET + 4);
      if (crc32(copy) !== stored) return { status: STATUS_DISK_CORRUPT_ERROR, Signature };
      Signature.PartitionStyle = PARTITION_STYLE_GPT;
      Signature.Gpt.DiskId = guidText(header.subarray(GPT_DISK_GUID_OFFSET, GPT_DISK_GUID_OFFSET + 16));
      return { status: STATUS_SUCCESS, Signature };
    }
    const view = new DataView(mbr.buffer);
    let sum = 0;
    for (let i = 0; i < 128; i++) sum = (sum + view.getUint32(i * 4, true)) >>> 0;
    Signature.PartitionStyle = PARTITION_STYLE_MBR;
    Signature.Mbr.Signature = view.getUint32(MBR_SIGNATURE_OFFSET, true);
    Signature.Mbr.CheckSum = (0x100000000 - sum) % 0x100000000;
    return { status: STATUS_SUCCESS, Signature };
  } finally {
    ExFreePoolWithTag(buffer, FSTUB_TAG);
  }
}
