/**
 * The disk FDO's device extension, as classpnp and disk.sys lay theirs out:
 * FUNCTIONAL_DEVICE_EXTENSION (what every class driver's FDO has: the stack around it, the
 * descriptors the port gave, geometry, SRB flags, power and removal state),
 * CLASS_PRIVATE_FDO_DATA (the transfer packet engine's state) and DISK_DATA (disk.sys's own:
 * names, partition signature, flush groups, readiness).
 *
 * Others may read: DeviceNumber (the N of \Device\HarddiskN and \\.\PhysicalDriveN),
 * DeviceName, DiskGeometry, PartitionLength, SectorShift, DevicePowerState,
 * AdapterDescriptor / DeviceDescriptor, and PrivateFdoData.HwMaxXferLen.
 */
import type { DEVICE_OBJECT } from "../../io/objects.js";
import type { IRP } from "../../io/irp.js";
import { IO_REMOVE_LOCK } from "../../io/remove-lock.js";
import { KEVENT } from "../../ke/dispatcher.js";
import { KSPIN_LOCK } from "../../ke/spinlock.js";
import { STATUS_SUCCESS, type NTSTATUS } from "../../ke/ntstatus.js";
import type { PVOID } from "../../mm/memory.js";
import { DEVICE_POWER_STATE, SYSTEM_POWER_STATE } from "../../po/power.js";
import type { DEVICE_CAPABILITIES } from "../../pnp/minor.js";
import { MEDIA_TYPE, PARTITION_STYLE } from "../storage/ntdddisk.js";
import { STORAGE_BUS_TYPE } from "../storage/ntddstor.js";
import { NUM_IO_RETRIES } from "./constants.js";
import type { TRANSFER_PACKET } from "./xferpkt.js";
import type { SRB } from "../storage/srb.js";

/** COMMON_DEVICE_EXTENSION.IsRemoved: where the device is in its removal. */
export enum REMOVE_STATE {
  NO_REMOVE = 0,
  /** IRP_MN_SURPRISE_REMOVAL or IRP_MN_REMOVE_DEVICE arrived: new requests fail. */
  REMOVE_PENDING = 1,
  /** The remove lock has been run down: the FDO is going. */
  REMOVE_COMPLETE = 2,
}

/** HoldReasons bit: the device is going to or is in a low-power state (held until it is back in D0). */
export const HOLD_POWER = 0x1;
/** HoldReasons bit: the device is stopped (QUERY_STOP / STOP; held until START_DEVICE or CANCEL_STOP). */
export const HOLD_STOPPED = 0x2;

/** DISK_GEOMETRY as the FDO keeps it. */
export class DISK_GEOMETRY_INFO {
  /** Cylinders (LARGE_INTEGER). */
  Cylinders = 0;
  MediaType = MEDIA_TYPE.Unknown;
  TracksPerCylinder = 0;
  SectorsPerTrack = 0;
  /** Bytes per logical block. */
  BytesPerSector = 0;
}

/** STORAGE_ADAPTER_DESCRIPTOR as the port returned it (kept in pool at `address`, fields read out). */
export class ADAPTER_DESCRIPTOR_INFO {
  /** The descriptor's pool block (ClassGetDescriptor's allocation), 0 when none. */
  address: PVOID = 0;
  /** Largest transfer the adapter takes in one request, bytes. */
  MaximumTransferLength = 0;
  /** Most physical pages (scatter/gather elements) in one request. */
  MaximumPhysicalPages = 0;
  /** Buffer alignment the adapter needs, as a mask (bytes - 1). */
  AlignmentMask = 0;
  AdapterUsesPio = false;
  CommandQueueing = false;
  BusType = STORAGE_BUS_TYPE.BusTypeUnknown;
  /** SRB_TYPE_SCSI_REQUEST_BLOCK or SRB_TYPE_STORAGE_REQUEST_BLOCK. */
  SrbType = 0;
  AddressType = 0;
}

/** STORAGE_DEVICE_DESCRIPTOR as the port returned it. */
export class DEVICE_DESCRIPTOR_INFO {
  address: PVOID = 0;
  DeviceType = 0;
  DeviceTypeModifier = 0;
  RemovableMedia = false;
  CommandQueueing = false;
  VendorId = "";
  ProductId = "";
  ProductRevision = "";
  SerialNumber = "";
  BusType = STORAGE_BUS_TYPE.BusTypeUnknown;
}

/** STORAGE_MINIPORT_DESCRIPTOR fields classpnp uses. */
export class MINIPORT_DESCRIPTOR_INFO {
  address: PVOID = 0;
  Portdriver = 0;
  /** The miniport's I/O timeout (Storport / USBport only; 0 otherwise), seconds. */
  IoTimeoutValue = 0;
}

/** SCSI_ADDRESS of the unit (IOCTL_SCSI_GET_ADDRESS). */
export class SCSI_ADDRESS_INFO {
  PortNumber = 0;
  PathId = 0;
  TargetId = 0;
  Lun = 0;
}

/** What the port's lower layers support for a property classpnp can also compute itself. */
export enum CLASS_FUNCTION_SUPPORT {
  SupportUnknown = 0,
  Supported = 1,
  NotSupported = 2,
}

/** CLASS_READ_CAPACITY16_DATA: READ CAPACITY (16) results classpnp caches. */
export class CLASS_READ_CAPACITY16_DATA {
  /** -1: not tried yet; otherwise the command's status (cached). */
  CommandStatus: number = -1;
  BytesPerLogicalSector = 0;
  BytesPerPhysicalSector = 0;
  BytesOffsetForSectorAlignment = 0;
  LBProvisioningEnabled = false;
  LBProvisioningReadZeros = false;
}

/** CLASS_VPD_B0_DATA: the Block Limits VPD page fields classpnp keeps (blocks). */
export class CLASS_VPD_B0_DATA {
  CommandStatus: number = -1;
  MaxUnmapLbaCount = 0;
  MaxUnmapBlockDescrCount = 0;
  OptimalUnmapGranularity = 0;
  UnmapGranularityAlignment = 0;
  UGAVALID = false;
  /** MAXIMUM TRANSFER LENGTH and OPTIMAL TRANSFER LENGTH of the page, blocks (0: not reported). */
  MaximumTransferLength = 0;
  OptimalTransferLength = 0;
}

/** CLASS_FUNCTION_SUPPORT_INFO: which VPD pages the unit has and what classpnp learned from them. */
export class CLASS_FUNCTION_SUPPORT_INFO {
  readonly ValidInquiryPages = { BlockLimits: false, BlockDeviceCharacteristics: false, LBProvisioning: false, BlockDeviceRODLimits: false };
  readonly ReadCapacity16Data = new CLASS_READ_CAPACITY16_DATA();
  readonly BlockLimitsData = new CLASS_VPD_B0_DATA();
  readonly LowerLayerSupport = { AccessAlignmentProperty: CLASS_FUNCTION_SUPPORT.SupportUnknown };
}

/** READ_CAPACITY_DATA_EX as classpnp caches it (host numbers). */
export class READ_CAPACITY_DATA_EX {
  /** The last logical block's address. */
  LogicalBlockAddress = 0;
  /** Bytes per logical block. */
  BytesPerBlock = 0;
}

/** CLASS_PRIVATE_FDO_DATA: the transfer packet engine and what classpnp keeps privately. */
export class CLASS_PRIVATE_FDO_DATA {
  /** The largest piece a request is split into before the page-alignment bonus, bytes. */
  HwMaxXferLen = 0;
  /** Free transfer packets (a LIFO, as the SList is). */
  readonly FreeTransferPackets: TRANSFER_PACKET[] = [];
  /** Every packet that exists (AllTransferPacketsList). */
  readonly AllTransferPackets = new Set<TRANSFER_PACKET>();
  NumTotalTransferPackets = 0;
  NumFreeTransferPackets = 0;
  /** The most packets there were at once. */
  DbgPeakNumTransferPackets = 0;
  LocalMinWorkingSetTransferPackets = 0;
  LocalMaxWorkingSetTransferPackets = 0;
  /** Client requests waiting for a packet (DeferredClientIrpList). */
  readonly DeferredClientIrpList: IRP[] = [];
  /** Retries of a read/write packet (NUM_IO_RETRIES, or LEGACY_NUM_IO_RETRIES). */
  MaxNumberOfIoRetries = NUM_IO_RETRIES;
  LegacyErrorHandling = false;
  readonly LastKnownDriveCapacityData = new READ_CAPACITY_DATA_EX();
  IsCachedDriveCapDataValid = false;
  LoggedTURFailureSinceLastIO = false;
  readonly SpinLock = new KSPIN_LOCK();
  /** Original requests (and the driver's own SRBs) in progress on the device. */
  ActiveIoCount = 0;
  /** Signalled when ActiveIoCount drops to zero while a power-down waits for it. */
  readonly IdleEvent = new KEVENT();
  /** Device errors seen (fdoExtension->ErrorCount: timeouts, bus errors, overruns). */
  ErrorCount = 0;
}

/** DISK_GROUP_CONTEXT: the flush requests disk.sys combines. */
export class DISK_GROUP_CONTEXT {
  /** The flush now at the device, and the requests that share its result. */
  CurrIrp: IRP | null = null;
  readonly CurrList: IRP[] = [];
  /** The representative of the next group, and its members. */
  NextIrp: IRP | null = null;
  readonly NextList: IRP[] = [];
  /** Signalled when the current group is done (a synchronization event). */
  readonly Event = new KEVENT();
  readonly Spinlock = new KSPIN_LOCK();
  /** The SRB the group's SRB_FUNCTION_FLUSH travels in (made on first use). */
  Srb: SRB | null = null;
  /** The result of the group's SYNCHRONIZE CACHE, for the completion routine. */
  SyncCacheStatus: NTSTATUS = STATUS_SUCCESS;
}

/** DISK_DATA: disk.sys's part of the FDO extension. */
export class DISK_DATA {
  PartitionStyle = PARTITION_STYLE.PARTITION_STYLE_MBR;
  readonly Mbr = { Signature: 0, MbrCheckSum: 0 };
  readonly Efi = { DiskId: "" };
  /** Whether the drive was ready the last time disk.sys asked (GET_LENGTH_INFO and friends). */
  ReadyStatus: NTSTATUS = STATUS_SUCCESS;
  readonly LinkStatus = { WellKnownNameCreated: false, PhysicalDriveLinkCreated: false };
  readonly ScsiAddress = new SCSI_ADDRESS_INFO();
  readonly FlushContext = new DISK_GROUP_CONTEXT();
  /** Serialises IOCTL_DISK_VERIFY (KMUTEX in disk.sys; a synchronization event here). */
  readonly VerifyMutex = new KEVENT();
}

/** The disk FDO's extension (FUNCTIONAL_DEVICE_EXTENSION with DISK_DATA as its DriverData). */
export class FUNCTIONAL_DEVICE_EXTENSION {
  DeviceObject!: DEVICE_OBJECT;
  /** The PDO the port created for the unit. */
  LowerPdo!: DEVICE_OBJECT;
  /** The device this FDO is attached to. */
  LowerDeviceObject!: DEVICE_OBJECT;
  /** The disk's number: \Device\HarddiskN, \\.\PhysicalDriveN, IOCTL_STORAGE_GET_DEVICE_NUMBER. */
  DeviceNumber = 0;
  /** The FDO's name, \Device\HarddiskN\DRm. */
  DeviceName = "";
  /** Partition0's number (the FDO is partition 0). */
  readonly PartitionNumber = 0;
  /** GUID_DEVINTERFACE_DISK's symbolic link. */
  DiskInterfaceName = "";
  IsRemoved = REMOVE_STATE.NO_REMOVE;
  readonly RemoveLock = new IO_REMOVE_LOCK();
  /** The last PnP minor code that changed the state (IRP_MN_START_DEVICE once started), and the one before. */
  CurrentState = 0xFF;
  PreviousState = 0xFF;
  /** Start has completed its one-time initialisation (descriptors, packets). */
  IsInitialized = false;
  readonly AdapterDescriptor = new ADAPTER_DESCRIPTOR_INFO();
  readonly DeviceDescriptor = new DEVICE_DESCRIPTOR_INFO();
  readonly MiniportDescriptor = new MINIPORT_DESCRIPTOR_INFO();
  readonly DiskGeometry = new DISK_GEOMETRY_INFO();
  /** log2(BytesPerSector). */
  SectorShift = 0;
  /** The disk's length, bytes. */
  PartitionLength = 0;
  /** TimeOutValue of the disk's SRBs, seconds. */
  TimeOutValue = 0;
  /** SRB flags every request starts with (SRB_FLAGS_*). */
  SrbFlags = 0;
  /** DEV_* flags. */
  DeviceFlags = 0;
  ScanForSpecialFlags = 0;
  /** FUA on write-through writes (ADJUST_FUA_FLAG). */
  CdbForceUnitAccess = false;
  /** Times a UNIT ATTENTION said the medium may have changed. */
  MediaChangeCount = 0;
  /** Nonpaged request sense buffer (SenseData) and its length, bytes. */
  SenseData: PVOID = 0;
  SenseDataLength = 0;
  readonly PrivateFdoData = new CLASS_PRIVATE_FDO_DATA();
  readonly FunctionSupportInfo = new CLASS_FUNCTION_SUPPORT_INFO();
  readonly DiskData = new DISK_DATA();
  /** Power: the device's state as the driver last set it. */
  DevicePowerState = DEVICE_POWER_STATE.PowerDeviceD0;
  SystemPowerState = SYSTEM_POWER_STATE.PowerSystemWorking;
  PowerDownInProgress = false;
  /** Power: IRP_MN_QUERY_CAPABILITIES from the bus (DeviceState maps system to device states). */
  PowerCapabilities: DEVICE_CAPABILITIES | null = null;
  /** HOLD_* reasons new requests are held for; 0 when requests run. */
  HoldReasons = 0;
  /** Requests held until the device runs again (guarded by the cancel spin lock). */
  readonly HeldRequests: IRP[] = [];
}
