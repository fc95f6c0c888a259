/**
 * Disk I/O controls (what ntdddisk.h and winioctl.h define): drive geometry, the disk's
 * length, and the byte layouts of DISK_GEOMETRY, DISK_GEOMETRY_EX and
 * GET_LENGTH_INFORMATION (x64, little-endian).
 */
import { CTL_CODE, FILE_ANY_ACCESS, FILE_READ_ACCESS, FILE_WRITE_ACCESS, METHOD_BUFFERED } from "../../io/ioctl.js";
import { FILE_DEVICE_DISK } from "../../io/objects.js";

/** IOCTL_DISK_BASE: FILE_DEVICE_DISK. */
export const IOCTL_DISK_BASE = FILE_DEVICE_DISK;

export const IOCTL_DISK_GET_DRIVE_GEOMETRY = CTL_CODE(IOCTL_DISK_BASE, 0x0000, METHOD_BUFFERED, FILE_ANY_ACCESS);
export const IOCTL_DISK_GET_PARTITION_INFO = CTL_CODE(IOCTL_DISK_BASE, 0x0001, METHOD_BUFFERED, FILE_READ_ACCESS);
export const IOCTL_DISK_VERIFY = CTL_CODE(IOCTL_DISK_BASE, 0x0005, METHOD_BUFFERED, FILE_ANY_ACCESS);
export const IOCTL_DISK_IS_WRITABLE = CTL_CODE(IOCTL_DISK_BASE, 0x0009, METHOD_BUFFERED, FILE_ANY_ACCESS);
export const IOCTL_DISK_GET_LENGTH_INFO = CTL_CODE(IOCTL_DISK_BASE, 0x0017, METHOD_BUFFERED, FILE_READ_ACCESS);
export const IOCTL_DISK_GET_DRIVE_GEOMETRY_EX = CTL_CODE(IOCTL_DISK_BASE, 0x0028, METHOD_BUFFERED, FILE_ANY_ACCESS);
export const IOCTL_DISK_FLUSH_CACHE = CTL_CODE(IOCTL_DISK_BASE, 0x0095, METHOD_BUFFERED, FILE_READ_ACCESS);
export const IOCTL_DISK_GET_CACHE_INFORMATION = CTL_CODE(IOCTL_DISK_BASE, 0x0035, METHOD_BUFFERED, FILE_READ_ACCESS);
export const IOCTL_DISK_UPDATE_PROPERTIES = CTL_CODE(IOCTL_DISK_BASE, 0x0050, METHOD_BUFFERED, FILE_ANY_ACCESS);
/** Kept for the FILE_WRITE_ACCESS form some tools send. */
export const IOCTL_DISK_SET_DRIVE_LAYOUT = CTL_CODE(IOCTL_DISK_BASE, 0x0004, METHOD_BUFFERED, FILE_READ_ACCESS | FILE_WRITE_ACCESS);

/** MEDIA_TYPE values a disk reports. */
export enum MEDIA_TYPE {
  Unknown = 0,
  RemovableMedia = 11,
  FixedMedia = 12,
}

/** DISK_GEOMETRY: Cylinders (8), MediaType (4), TracksPerCylinder (4), SectorsPerTrack (4), BytesPerSector (4). */
export const DISK_GEOMETRY = { Cylinders: 0, MediaType: 8, TracksPerCylinder: 12, SectorsPerTrack: 16, BytesPerSector: 20, SIZE: 24 } as const;
/** DISK_GEOMETRY_EX: Geometry, DiskSize (8), then partition and detection information from Data. */
export const DISK_GEOMETRY_EX = { Geometry: 0, DiskSize: 24, Data: 32 } as const;
/** What disk.sys returns for IOCTL_DISK_GET_DRIVE_GEOMETRY_EX with a large enough buffer: header, DISK_PARTITION_INFO (24), DISK_DETECTION_INFO (48). */
export const DISK_GEOMETRY_EX_INTERNAL = { Partition: 32, Detection: 56, SIZE: 104 } as const;
/** GET_LENGTH_INFORMATION: Length (8). */
export const GET_LENGTH_INFORMATION_SIZE = 8;

/** PARTITION_STYLE (DISK_PARTITION_INFO.PartitionStyle). */
export enum PARTITION_STYLE {
  PARTITION_STYLE_MBR = 0,
  PARTITION_STYLE_GPT = 1,
  PARTITION_STYLE_RAW = 2,
}

/** IOCTL_DISK_CHECK_VERIFY: the disk form of IOCTL_STORAGE_CHECK_VERIFY (classpnp maps IOCTL_DISK_BASE codes to IOCTL_STORAGE_BASE). */
export const IOCTL_DISK_CHECK_VERIFY = CTL_CODE(IOCTL_DISK_BASE, 0x0200, METHOD_BUFFERED, FILE_READ_ACCESS);

/** VERIFY_INFORMATION (IOCTL_DISK_VERIFY input): StartingOffset (8, bytes), Length (4, bytes); 16 bytes with padding. */
export const VERIFY_INFORMATION = { StartingOffset: 0, Length: 8, SIZE: 16 } as const;

/** DISK_PARTITION_INFO: SizeOfPartitionInfo (4), PartitionStyle (4), then Mbr { Signature (4), CheckSum (4) } or Gpt { DiskId (16) }. */
export const DISK_PARTITION_INFO = { SizeOfPartitionInfo: 0, PartitionStyle: 4, MbrSignature: 8, MbrCheckSum: 12, GptDiskId: 8, SIZE: 24 } as const;

/** DISK_DETECTION_INFO: SizeOfDetectInfo (4), DetectionType (4), then the Int13 / ExInt13 union (40). */
export const DISK_DETECTION_INFO = { SizeOfDetectInfo: 0, DetectionType: 4, SIZE: 48 } as const;

/** DETECTION_TYPE. */
export enum DETECTION_TYPE {
  DetectNone = 0,
  DetectInt13 = 1,
  DetectExInt13 = 2,
}
