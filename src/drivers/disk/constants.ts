/**
 * The numbers disk.sys and classpnp.sys run on (disk.h, classp.h, classpnp.h): retry
 * counts, timeouts, retry intervals, transfer packet working sets, buffer sizes, device
 * flags, and the pool tags the driver allocates with.
 *
 * Pool tags are written as poolmon shows them (the characters in memory order), so the C
 * literal 'sDcS' is "ScDs" here.
 */

/** MAXIMUM_RETRIES (classpnp.h): retries of a synchronous SRB, a power SRB, a class-driver request. */
export const MAXIMUM_RETRIES = 4;
/** NUM_IO_RETRIES: retries of each read/write transfer packet (classp.h, Windows 8.1 and later). */
export const NUM_IO_RETRIES = MAXIMUM_RETRIES;
/** LEGACY_NUM_IO_RETRIES: retries of a read/write packet with the LegacyErrorHandling registry value. */
export const LEGACY_NUM_IO_RETRIES = 8;
/** NUM_DRIVECAPACITY_RETRIES: retries of the READ CAPACITY packet. */
export const NUM_DRIVECAPACITY_RETRIES = 1;
/** NUM_MODESENSE_RETRIES: retries of the MODE SENSE packet. */
export const NUM_MODESENSE_RETRIES = 1;

/** SCSI_DISK_TIMEOUT (disk.h): the disk's SRB TimeOutValue when the miniport names none, seconds. */
export const SCSI_DISK_TIMEOUT = 10;
/** NOT_READY_RETRY_INTERVAL (classp.h): wait before retrying a LOGICAL UNIT NOT READY, seconds. */
export const NOT_READY_RETRY_INTERVAL = 10;
/** Shortest wait before a synchronous SRB that found the unit not ready is retried, 100 ns units (2 s). */
export const NOT_READY_SYNC_DELAY_100NS = 2 * 1000 * 1000 * 10;
/** A power SRB's retry interval when the sense data names none, 100 ns units (200 ms). */
export const POWER_RETRY_DEFAULT_100NS = 1000000 * 2;

/** MIN_INITIAL_TRANSFER_PACKETS (classp.h): packets made at start. */
export const MIN_INITIAL_TRANSFER_PACKETS = 1;
/** MIN_WORKINGSET_TRANSFER_PACKETS_Client: packets kept once out of stress (client SKU). */
export const MIN_WORKINGSET_TRANSFER_PACKETS_Client = 16;
/** MAX_WORKINGSET_TRANSFER_PACKETS_Client: packets kept at most once all are free again (client SKU). */
export const MAX_WORKINGSET_TRANSFER_PACKETS_Client = 32;
/** MAX_OUTSTANDING_IO_PER_LUN_DEFAULT: assumed unit queue depth when the port reports none. */
export const MAX_OUTSTANDING_IO_PER_LUN_DEFAULT = 16;

/** MODE_DATA_SIZE (disk.h): the MODE SENSE buffer disk.sys uses, bytes. */
export const MODE_DATA_SIZE = 192;
/** MAX_SECTORS_PER_VERIFY (disk.h): the largest VERIFY disk.sys sends, blocks. */
export const MAX_SECTORS_PER_VERIFY = 0x100;
/** VPD_MAX_BUFFER_SIZE: the buffer classpnp reads VPD pages into, bytes (the one-byte allocation length). */
export const VPD_MAX_BUFFER_SIZE = 0xFF;
/** PARTITION0_LIST_SIZE (disk.h): SRBs in the FDO's lookaside list (informational here). */
export const PARTITION0_LIST_SIZE = 4;

// FUNCTIONAL_DEVICE_EXTENSION.DeviceFlags (classpnp.h).
/** The device's write cache is enabled (MODE SENSE caching page WCE). */
export const DEV_WRITE_CACHE = 0x00000001;
/** Use SCSI-1 CDBs. */
export const DEV_USE_SCSI1 = 0x00000002;
/** A START UNIT may be sent when the unit reports it needs one (fixed disks). */
export const DEV_SAFE_START_UNIT = 0x00000004;
/** No 12-byte CDBs. */
export const DEV_NO_12BYTE_CDB = 0x00000008;
/** The caches are power protected: flushes need not reach the medium. */
export const DEV_POWER_PROTECTED = 0x00000010;
/** Reads and writes use 16-byte CDBs (the capacity needs 8-byte LBAs). */
export const DEV_USE_16BYTE_CDB = 0x00000020;

// FUNCTIONAL_DEVICE_EXTENSION.ScanForSpecialFlags (classpnp.h) this driver consults.
/** The device fails writes with FUA set. */
export const CLASS_SPECIAL_FUA_NOT_SUPPORTED = 0x00000200;
/** Do not spin the device down. */
export const CLASS_SPECIAL_DISABLE_SPIN_DOWN = 0x00000001;
/** Do not spin the device up. */
export const CLASS_SPECIAL_DISABLE_SPIN_UP = 0x00000002;

// Pool tags (disk.h, classp.h, classpnp), as poolmon prints them.
/** DISK_TAG_START 'sDcS': the FDO's request sense buffer. */
export const DISK_TAG_START = "ScDs";
/** DISK_TAG_MODE_DATA 'MDcS': MODE SENSE buffers of IOCTL_DISK_IS_WRITABLE. */
export const DISK_TAG_MODE_DATA = "ScDM";
/** DISK_TAG_DISABLE_CACHE 'CDcS': the caching mode page buffer. */
export const DISK_TAG_DISABLE_CACHE = "ScDC";
/** DISK_TAG_WI_CONTEXT 'WDcS': a verify work item's context. */
export const DISK_TAG_WI_CONTEXT = "ScDW";
/** DISK_TAG_CCONTEXT 'cDcS': a bus reset's completion context. */
export const DISK_TAG_CCONTEXT = "ScDc";
/** DISK_TAG_READ_CAP 'PDcS': the READ CAPACITY data buffer. */
export const DISK_TAG_READ_CAP = "ScDP";
/** 'pnPC': a transfer packet (its sense buffer is part of it). */
export const CLASS_TAG_TRANSFER_PACKET = "CPnp";
/** '4BcS': a storage descriptor read with IOCTL_STORAGE_QUERY_PROPERTY. */
export const CLASS_TAG_DESCRIPTOR = "ScB4";
/** '7CcS': the sense buffer of a synchronous SRB. */
export const CLASS_TAG_SYNC_SENSE = "ScC7";
/** '3CcS': the VPD supported-pages buffer. */
export const CLASS_TAG_VPD = "ScC3";
/** '4CcS': the READ CAPACITY (16) buffer. */
export const CLASS_TAG_READ_CAPACITY16 = "ScC4";
/** '0CcS': other VPD page buffers. */
export const CLASS_TAG_VPD_PAGE = "ScC0";
/** 'WLcS' CLASS_TAG_POWER: the power path's sense buffer. */
export const CLASS_TAG_POWER = "ScLW";

/** Bytes of a transfer packet's pool block: the packet's bookkeeping, then its SENSE_DATA_EX at TRANSFER_PACKET_SENSE_OFFSET. */
export const TRANSFER_PACKET_SIZE = 0x200;
/** Offset of a transfer packet's sense buffer (SrbErrorSenseData) in its pool block, bytes. */
export const TRANSFER_PACKET_SENSE_OFFSET = 0x100;
