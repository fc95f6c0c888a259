/**
 * Storage I/O controls (what ntddstor.h and winioctl.h define): IOCTL_STORAGE_QUERY_PROPERTY
 * with its property IDs and the device, adapter, device ID and access alignment
 * descriptors, IOCTL_STORAGE_GET_DEVICE_NUMBER, and IOCTL_STORAGE_PROTOCOL_COMMAND with the
 * protocol-specific structures NVMe pass-through uses. Structures that cross to user mode
 * are byte layouts (x64 offsets, little-endian), given here as offsets and sizes.
 */
import { CTL_CODE, FILE_ANY_ACCESS, FILE_READ_ACCESS, FILE_WRITE_ACCESS, METHOD_BUFFERED } from "../../io/ioctl.js";

/** FILE_DEVICE_MASS_STORAGE: IOCTL_STORAGE_BASE. */
export const IOCTL_STORAGE_BASE = 0x2D;

export const IOCTL_STORAGE_CHECK_VERIFY = CTL_CODE(IOCTL_STORAGE_BASE, 0x0200, METHOD_BUFFERED, FILE_READ_ACCESS);
export const IOCTL_STORAGE_GET_DEVICE_NUMBER = CTL_CODE(IOCTL_STORAGE_BASE, 0x0420, METHOD_BUFFERED, FILE_ANY_ACCESS);
export const IOCTL_STORAGE_QUERY_PROPERTY = CTL_CODE(IOCTL_STORAGE_BASE, 0x0500, METHOD_BUFFERED, FILE_ANY_ACCESS);
export const IOCTL_STORAGE_PROTOCOL_COMMAND = CTL_CODE(IOCTL_STORAGE_BASE, 0x04F0, METHOD_BUFFERED, FILE_READ_ACCESS | FILE_WRITE_ACCESS);

/** STORAGE_PROPERTY_ID values used here. */
export enum STORAGE_PROPERTY_ID {
  StorageDeviceProperty = 0,
  StorageAdapterProperty = 1,
  StorageDeviceIdProperty = 2,
  StorageDeviceUniqueIdProperty = 3,
  StorageDeviceWriteCacheProperty = 4,
  StorageMiniportProperty = 5,
  StorageAccessAlignmentProperty = 6,
  StorageDeviceSeekPenaltyProperty = 7,
  StorageDeviceTrimProperty = 8,
  StorageAdapterProtocolSpecificProperty = 49,
  StorageDeviceProtocolSpecificProperty = 50,
}

/** STORAGE_QUERY_TYPE. */
export enum STORAGE_QUERY_TYPE {
  PropertyStandardQuery = 0,
  PropertyExistsQuery = 1,
  PropertyMaskQuery = 2,
}

/** STORAGE_BUS_TYPE values used here. */
export enum STORAGE_BUS_TYPE {
  BusTypeUnknown = 0x00,
  BusTypeScsi = 0x01,
  BusTypeAta = 0x03,
  BusTypeSas = 0x0A,
  BusTypeSata = 0x0B,
  BusTypeVirtual = 0x0E,
  BusTypeNvme = 0x11,
}

/** STORAGE_PROPERTY_QUERY: PropertyId (4), QueryType (4), AdditionalParameters[1]. */
export const STORAGE_PROPERTY_QUERY_SIZE = 12;
/** STORAGE_DESCRIPTOR_HEADER: Version (4), Size (4). */
export const STORAGE_DESCRIPTOR_HEADER_SIZE = 8;

/** STORAGE_DEVICE_DESCRIPTOR field offsets and its size without raw properties. */
export const STORAGE_DEVICE_DESCRIPTOR = {
  Version: 0, Size: 4, DeviceType: 8, DeviceTypeModifier: 9, RemovableMedia: 10, CommandQueueing: 11, VendorIdOffset: 12,
  ProductIdOffset: 16, ProductRevisionOffset: 20, SerialNumberOffset: 24, BusType: 28, RawPropertiesLength: 32, RawDeviceProperties: 36,
  SIZE: 40,
} as const;

/** STORAGE_ADAPTER_DESCRIPTOR field offsets and size. */
export const STORAGE_ADAPTER_DESCRIPTOR = {
  Version: 0, Size: 4, MaximumTransferLength: 8, MaximumPhysicalPages: 12, AlignmentMask: 16, AdapterUsesPio: 20, AdapterScansDown: 21,
  CommandQueueing: 22, AcceleratedTransfer: 23, BusType: 24, BusMajorVersion: 26, BusMinorVersion: 28, SrbType: 30, AddressType: 31,
  SIZE: 32,
} as const;

/** STORAGE_ADAPTER_DESCRIPTOR.SrbType. */
export const SRB_TYPE_SCSI_REQUEST_BLOCK = 0;
export const SRB_TYPE_STORAGE_REQUEST_BLOCK = 1;
/** STORAGE_ADAPTER_DESCRIPTOR.AddressType. */
export const STORAGE_ADDRESS_TYPE_BTL8 = 0;

/** STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR field offsets and size. */
export const STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR = {
  Version: 0, Size: 4, BytesPerCacheLine: 8, BytesOffsetForCacheAlignment: 12, BytesPerLogicalSector: 16, BytesPerPhysicalSector: 20,
  BytesOffsetForSectorAlignment: 24, SIZE: 28,
} as const;

/** STORAGE_DEVICE_ID_DESCRIPTOR: Version, Size, NumberOfIdentifiers, then the VPD 0x83 identifiers. */
export const STORAGE_DEVICE_ID_DESCRIPTOR = { Version: 0, Size: 4, NumberOfIdentifiers: 8, Identifiers: 12, SIZE: 16 } as const;

/** STORAGE_DEVICE_NUMBER: DeviceType (4), DeviceNumber (4), PartitionNumber (4). */
export const STORAGE_DEVICE_NUMBER = { DeviceType: 0, DeviceNumber: 4, PartitionNumber: 8, SIZE: 12 } as const;

/** STORAGE_PROTOCOL_TYPE. */
export enum STORAGE_PROTOCOL_TYPE {
  ProtocolTypeUnknown = 0,
  ProtocolTypeScsi,
  ProtocolTypeAta,
  ProtocolTypeNvme,
  ProtocolTypeSd,
  ProtocolTypeUfs,
  ProtocolTypeProprietary = 0x7E,
}

/** STORAGE_PROTOCOL_NVME_DATA_TYPE. */
export enum STORAGE_PROTOCOL_NVME_DATA_TYPE {
  NVMeDataTypeUnknown = 0,
  NVMeDataTypeIdentify,
  NVMeDataTypeLogPage,
  NVMeDataTypeFeature,
}

/** STORAGE_PROTOCOL_SPECIFIC_DATA field offsets and size (follows STORAGE_PROPERTY_QUERY's first 8 bytes, or a descriptor header). */
export const STORAGE_PROTOCOL_SPECIFIC_DATA = {
  ProtocolType: 0, DataType: 4, ProtocolDataRequestValue: 8, ProtocolDataRequestSubValue: 12, ProtocolDataOffset: 16, ProtocolDataLength: 20,
  FixedProtocolReturnData: 24, ProtocolDataRequestSubValue2: 28, ProtocolDataRequestSubValue3: 32, ProtocolDataRequestSubValue4: 36, SIZE: 40,
} as const;

/** STORAGE_PROTOCOL_DATA_DESCRIPTOR: Version, Size, then STORAGE_PROTOCOL_SPECIFIC_DATA. */
export const STORAGE_PROTOCOL_DATA_DESCRIPTOR = { Version: 0, Size: 4, ProtocolSpecificData: 8, SIZE: 48 } as const;

/** STORAGE_PROTOCOL_COMMAND field offsets; the command follows at Command (sizeof = 84). */
export const STORAGE_PROTOCOL_COMMAND = {
  Version: 0, Length: 4, ProtocolType: 8, Flags: 12, ReturnStatus: 16, ErrorCode: 20, CommandLength: 24, ErrorInfoLength: 28,
  DataToDeviceTransferLength: 32, DataFromDeviceTransferLength: 36, TimeOutValue: 40, ErrorInfoOffset: 44, DataToDeviceBufferOffset: 48,
  DataFromDeviceBufferOffset: 52, CommandSpecific: 56, Reserved0: 60, FixedProtocolReturnData: 64, FixedProtocolReturnData2: 68,
  Command: 80, SIZE: 84,
} as const;

/** STORAGE_PROTOCOL_COMMAND.Version. */
export const STORAGE_PROTOCOL_STRUCTURE_VERSION = 1;
/** STORAGE_PROTOCOL_COMMAND.Flags: the command is for the adapter, not the device. */
export const STORAGE_PROTOCOL_COMMAND_FLAG_ADAPTER_REQUEST = 0x80000000;
/** STORAGE_PROTOCOL_COMMAND.CommandLength of an NVMe command. */
export const STORAGE_PROTOCOL_COMMAND_LENGTH_NVME = 0x40;
/** STORAGE_PROTOCOL_COMMAND.CommandSpecific for NVMe: an admin or an NVM command. */
export const STORAGE_PROTOCOL_SPECIFIC_NVME_ADMIN_COMMAND = 0x01;
export const STORAGE_PROTOCOL_SPECIFIC_NVME_NVM_COMMAND = 0x02;

/** STORAGE_PROTOCOL_COMMAND.ReturnStatus (STORAGE_PROTOCOL_STATUS_*). */
export const STORAGE_PROTOCOL_STATUS_PENDING = 0x0;
export const STORAGE_PROTOCOL_STATUS_SUCCESS = 0x1;
export const STORAGE_PROTOCOL_STATUS_ERROR = 0x2;
export const STORAGE_PROTOCOL_STATUS_INVALID_REQUEST = 0x3;
export const STORAGE_PROTOCOL_STATUS_NO_DEVICE = 0x4;
export const STORAGE_PROTOCOL_STATUS_BUSY = 0x5;
export const STORAGE_PROTOCOL_STATUS_DATA_OVERRUN = 0x6;
export const STORAGE_PROTOCOL_STATUS_INSUFFICIENT_RESOURCES = 0x7;
export const STORAGE_PROTOCOL_STATUS_NOT_SUPPORTED = 0xFF;

/** GUID_DEVINTERFACE_DISK. */
export const GUID_DEVINTERFACE_DISK = "{53f56307-b6bf-11d0-94f2-00a0c91efb8b}";
/** GUID_DEVCLASS_DISKDRIVE: the DiskDrive setup class. */
export const GUID_DEVCLASS_DISKDRIVE = "{4d36e967-e325-11ce-bfc1-08002be10318}";
/** GUID_DEVCLASS_SCSIADAPTER: the SCSIAdapter setup class (storage controllers). */
export const GUID_DEVCLASS_SCSIADAPTER = "{4d36e97b-e325-11ce-bfc1-08002be10318}";

/** IOCTL_STORAGE_CHECK_VERIFY2: CHECK_VERIFY that must not spin the device up (FILE_ANY_ACCESS). */
export const IOCTL_STORAGE_CHECK_VERIFY2 = CTL_CODE(IOCTL_STORAGE_BASE, 0x0200, METHOD_BUFFERED, FILE_ANY_ACCESS);
/** IOCTL_STORAGE_READ_CAPACITY: output STORAGE_READ_CAPACITY. */
export const IOCTL_STORAGE_READ_CAPACITY = CTL_CODE(IOCTL_STORAGE_BASE, 0x0450, METHOD_BUFFERED, FILE_READ_ACCESS);

/** STORAGE_READ_CAPACITY: Version (4), Size (4), BlockLength (4, bytes), NumberOfBlocks (8 at 16), DiskLength (8 at 24, bytes). */
export const STORAGE_READ_CAPACITY = { Version: 0, Size: 4, BlockLength: 8, NumberOfBlocks: 16, DiskLength: 24, SIZE: 32 } as const;

/** STORAGE_PORT_CODE_SET: which port driver answers StorageMiniportProperty. */
export enum STORAGE_PORT_CODE_SET {
  StoragePortCodeSetReserved = 0,
  StoragePortCodeSetStorport = 1,
  StoragePortCodeSetSCSIport = 2,
  StoragePortCodeSetSpaceport = 3,
  StoragePortCodeSetATAport = 4,
  StoragePortCodeSetUSBport = 5,
  StoragePortCodeSetSBP2port = 6,
  StoragePortCodeSetSDport = 7,
}

/**
 * STORAGE_MINIPORT_DESCRIPTOR field offsets and size: Portdriver (STORAGE_PORT_CODE_SET),
 * LUN and target reset support, IoTimeoutValue (USHORT, seconds), ExtraIoInfoSupported, Flags.
 */
export const STORAGE_MINIPORT_DESCRIPTOR = {
  Version: 0, Size: 4, Portdriver: 8, LUNResetSupported: 12, TargetResetSupported: 13, IoTimeoutValue: 14, ExtraIoInfoSupported: 16, Flags: 17,
  SIZE: 24,
} as const;
