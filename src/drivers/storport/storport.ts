/**
 * What storport.h gives a miniport: HW_INITIALIZATION_DATA and the callbacks it names,
 * PORT_CONFIGURATION_INFORMATION and its access ranges, the notification, adapter-control
 * and unit-control codes, the STOR_STATUS values, and the structures of the performance,
 * interrupt and scatter/gather services.
 *
 * The TypeScript form of a C size field that asks the port for memory
 * (DeviceExtensionSize, SpecificLuExtensionSize, SrbExtensionSize) is an ExtensionSpec:
 * either a byte count, and the port hands out nonpaged memory of that size (its virtual
 * address), or a class, and the port hands out an instance of it — the way IoCreateDevice
 * here takes the extension object.
 */
import type { DEVICE_OBJECT } from "../../io/objects.js";
import { KDPC } from "../../ke/dpc.js";
import { KSPIN_LOCK } from "../../ke/spinlock.js";
import type { KINTERRUPT_MODE } from "../../ke/interrupt.js";
import type { KIRQL } from "../../ke/irql.js";
import type { SRB } from "../storage/srb.js";

/** A miniport-sized block of memory: a byte count (nonpaged memory, by address) or a class to instantiate. */
export type ExtensionSpec = number | (new () => object);
/** What the port hands a miniport for an ExtensionSpec: an address, or an object. */
export type PVOID_EXTENSION = any;

// HwFindAdapter results.
export const SP_RETURN_NOT_FOUND = 0;
export const SP_RETURN_FOUND = 1;
export const SP_RETURN_ERROR = 2;
export const SP_RETURN_BAD_CONFIG = 3;

/** PathId/TargetId/Lun wildcard of StorPortCompleteRequest and friends. */
export const SP_UNTAGGED = 0xFF;

// Storport status values (STOR_STATUS_*), the storage analogue of NTSTATUS.
export const STOR_STATUS_SUCCESS = 0x00000000;
export const STOR_STATUS_UNSUCCESSFUL = 0xC1000001;
export const STOR_STATUS_NOT_IMPLEMENTED = 0xC1000002;
export const STOR_STATUS_INSUFFICIENT_RESOURCES = 0xC1000003;
export const STOR_STATUS_BUFFER_TOO_SMALL = 0xC1000004;
export const STOR_STATUS_ACCESS_DENIED = 0xC1000005;
export const STOR_STATUS_INVALID_PARAMETER = 0xC1000006;
export const STOR_STATUS_INVALID_DEVICE_REQUEST = 0xC1000007;
export const STOR_STATUS_INVALID_IRQL = 0xC1000008;
export const STOR_STATUS_INVALID_DEVICE_STATE = 0xC1000009;
export const STOR_STATUS_INVALID_BUFFER_SIZE = 0xC100000A;
export const STOR_STATUS_UNSUPPORTED_VERSION = 0xC100000B;
export const STOR_STATUS_BUSY = 0xC100000C;

// HW_INITIALIZATION_DATA.MapBuffers.
export const STOR_MAP_NO_BUFFERS = 0;
export const STOR_MAP_ALL_BUFFERS = 1;
export const STOR_MAP_NON_READ_WRITE_BUFFERS = 2;
export const STOR_MAP_ALL_BUFFERS_INCLUDING_READ_WRITE = 3;

// HW_INITIALIZATION_DATA.SrbTypeFlags.
export const SRB_TYPE_FLAG_SCSI_REQUEST_BLOCK = 0x1;
export const SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK = 0x2;
// HW_INITIALIZATION_DATA.AddressTypeFlags.
export const ADDRESS_TYPE_FLAG_BTL8 = 0x1;

// HW_INITIALIZATION_DATA.FeatureSupport.
export const STOR_FEATURE_VIRTUAL_MINIPORT = 0x00000001;
export const STOR_FEATURE_FULL_PNP_DEVICE_CAPABILITIES = 0x00000004;
export const STOR_FEATURE_DEVICE_NAME_NO_SUFFIX = 0x00000010;
export const STOR_FEATURE_ADAPTER_CONTROL_PRE_FINDADAPTER = 0x00000100;
export const STOR_FEATURE_ADAPTER_NOT_REQUIRE_IO_PORT = 0x00000200;
export const STOR_FEATURE_DMA_ALLOCATION_NO_BOUNDARY = 0x00002000;
export const STOR_FEATURE_SUPPORTS_NVME_ADAPTER = 0x00004000;

/** STOR_SYNCHRONIZATION_MODEL: half duplex serialises StartIo with the interrupt; full duplex does not. */
export enum STOR_SYNCHRONIZATION_MODEL {
  StorSynchronizeHalfDuplex = 0,
  StorSynchronizeFullDuplex = 1,
}

/** INTERRUPT_SYNCHRONIZATION_MODE of message-signalled interrupts. */
export enum INTERRUPT_SYNCHRONIZATION_MODE {
  InterruptSupportNone = 0,
  InterruptSynchronizeAll = 1,
  InterruptSynchronizePerMessage = 2,
}

/** SCSI_NOTIFICATION_TYPE: StorPortNotification's first argument. */
export enum SCSI_NOTIFICATION_TYPE {
  RequestComplete = 0,
  NextRequest = 1,
  NextLuRequest = 2,
  ResetDetected = 3,
  _obsolete1 = 4,
  _obsolete2 = 5,
  RequestTimerCall = 6,
  BusChangeDetected = 7,
  WMIEvent = 8,
  WMIReregister = 9,
  LinkUp = 0x0A,
  LinkDown = 0x0B,
  QueryTickCount = 0x0C,
  BufferOverrunDetected = 0x0D,
  TraceNotification = 0x0E,
  GetExtendedFunctionTable = 0x0F,
  EnablePassiveInitialization = 0x1000,
  InitializeDpc = 0x1001,
  IssueDpc = 0x1002,
  AcquireSpinLock = 0x1003,
  ReleaseSpinLock = 0x1004,
}

/** SCSI_ADAPTER_CONTROL_TYPE. */
export enum SCSI_ADAPTER_CONTROL_TYPE {
  ScsiQuerySupportedControlTypes = 0,
  ScsiStopAdapter = 1,
  ScsiRestartAdapter = 2,
  ScsiSetBootConfig = 3,
  ScsiSetRunningConfig = 4,
  ScsiPowerSettingNotification = 5,
  ScsiAdapterPower = 6,
  ScsiAdapterPoFxPowerRequired = 7,
  ScsiAdapterPoFxPowerActive = 8,
  ScsiAdapterPoFxPowerSetFState = 9,
  ScsiAdapterPoFxPowerControl = 10,
  ScsiAdapterPrepareForBusReScan = 11,
  ScsiAdapterSystemPowerHints = 12,
  ScsiAdapterFilterResourceRequirements = 13,
  ScsiAdapterPoFxMaxOperationalPower = 14,
  ScsiAdapterPoFxSetPerfState = 15,
  ScsiAdapterSurpriseRemoval = 16,
  ScsiAdapterSerialNumber = 17,
  ScsiAdapterCryptoOperation = 18,
  ScsiAdapterQueryFruId = 19,
  ScsiAdapterSetEventLogging = 20,
  ScsiAdapterControlMax = 21,
}

/** SCSI_ADAPTER_CONTROL_STATUS. */
export enum SCSI_ADAPTER_CONTROL_STATUS {
  ScsiAdapterControlSuccess = 0,
  ScsiAdapterControlUnsuccessful = 1,
}

/** SCSI_SUPPORTED_CONTROL_TYPE_LIST: the miniport marks the adapter-control types it handles. */
export class SCSI_SUPPORTED_CONTROL_TYPE_LIST {
  constructor(readonly MaxControlType: number) {
    this.SupportedTypeList = new Array<boolean>(MaxControlType).fill(false);
  }
  readonly SupportedTypeList: boolean[];
}

/** SCSI_UNIT_CONTROL_TYPE. */
export enum SCSI_UNIT_CONTROL_TYPE {
  ScsiQuerySupportedUnitControlTypes = 0,
  ScsiUnitUsage = 1,
  ScsiUnitStart = 2,
  ScsiUnitPower = 3,
  ScsiUnitPoFxPowerInfo = 4,
  ScsiUnitPoFxPowerRequired = 5,
  ScsiUnitPoFxPowerActive = 6,
  ScsiUnitPoFxPowerSetFState = 7,
  ScsiUnitPoFxPowerControl = 8,
  ScsiUnitRemove = 9,
  ScsiUnitSurpriseRemoval = 10,
  ScsiUnitRichDescription = 11,
  ScsiUnitQueryBusType = 12,
  ScsiUnitQueryFruId = 13,
  ScsiUnitReportInternalData = 14,
  ScsiUnitKsrPowerDown = 15,
  ScsiUnitNvmeIceInformation = 16,
  ScsiUnitControlMax = 17,
}

/** SCSI_UNIT_CONTROL_STATUS. */
export enum SCSI_UNIT_CONTROL_STATUS {
  ScsiUnitControlSuccess = 0,
  ScsiUnitControlUnsuccessful = 1,
}

/** SCSI_SUPPORTED_CONTROL_TYPE_LIST for units (same shape). */
export const SCSI_SUPPORTED_UNIT_CONTROL_TYPE_LIST = SCSI_SUPPORTED_CONTROL_TYPE_LIST;

/** STOR_ADDR_BTL8-style unit address passed to unit-control routines. */
export interface STOR_UNIT_ADDRESS {
  Path: number;
  Target: number;
  Lun: number;
}

/** STOR_UNIT_CONTROL_POWER: ScsiUnitPower's parameter. */
export interface STOR_UNIT_CONTROL_POWER {
  Address: STOR_UNIT_ADDRESS;
  PowerAction: number;
  PowerState: number;
}

/** STOR_ADAPTER_CONTROL_POWER: ScsiAdapterPower's parameter. */
export interface STOR_ADAPTER_CONTROL_POWER {
  PowerAction: number;
  PowerState: number;
}

/** STOR_DMA_WIDTH. */
export enum STOR_DMA_WIDTH {
  DmaUnknown = 0,
  Dma32Bit = 1,
  Dma64BitScatterGather = 2,
  Dma64Bit = 3,
}

/** STOR_SPINLOCK: which port lock StorPortAcquireSpinLock takes. */
export enum STOR_SPINLOCK {
  DpcLock = 1,
  StartIoLock = 2,
  InterruptLock = 3,
}

/** ACCESS_RANGE: one of the adapter's register ranges, from its translated resources. */
export class ACCESS_RANGE {
  /** Bus-relative physical address. */
  RangeStart = 0;
  /** Bytes. */
  RangeLength = 0;
  RangeInMemory = true;
}

/** PORT_CONFIGURATION_INFORMATION: what the port knows of the adapter, and what HwFindAdapter tells it back. */
export class PORT_CONFIGURATION_INFORMATION {
  Length = 0xD0;
  SystemIoBusNumber = 0;
  AdapterInterfaceType = 5;
  /** Line interrupt: IRQL and vector (translated), when the adapter has one. */
  BusInterruptLevel = 0;
  BusInterruptVector = 0;
  InterruptMode: KINTERRUPT_MODE = 0;
  /** Largest transfer, bytes. */
  MaximumTransferLength = 0x10000;
  /** Scatter/gather elements one request may use, minus one (as the WDK defines it). */
  NumberOfPhysicalBreaks = 0x11;
  DmaChannel = 0xFFFFFFFF;
  DmaPort = 0xFFFFFFFF;
  DmaWidth = 0;
  DmaSpeed = 0;
  AlignmentMask = 0;
  NumberOfAccessRanges = 0;
  AccessRanges: ACCESS_RANGE[] = [];
  NumberOfBuses = 1;
  readonly InitiatorBusId = new Uint8Array(8).fill(0xFF);
  ScatterGather = true;
  Master = true;
  CachesData = false;
  AdapterScansDown = false;
  Dma32BitAddresses = true;
  DemandMode = false;
  MapBuffers = STOR_MAP_NO_BUFFERS;
  NeedPhysicalAddresses = true;
  TaggedQueuing = true;
  AutoRequestSense = true;
  MultipleRequestPerLu = true;
  ReceiveEvent = false;
  RealModeInitialized = false;
  BufferAccessScsiPortControlled = false;
  MaximumNumberOfTargets = 1;
  SlotNumber = 0;
  DeviceExtensionSize: ExtensionSpec = 0;
  SpecificLuExtensionSize: ExtensionSpec = 0;
  SrbExtensionSize: ExtensionSpec = 0;
  /** 1 for DMA above 4 GiB (SCSI_DMA64_MINIPORT_SUPPORTED). */
  Dma64BitAddresses = 0;
  ResetTargetSupported = false;
  MaximumNumberOfLogicalUnits = 8;
  WmiDataProvider = false;
  SynchronizationModel = STOR_SYNCHRONIZATION_MODEL.StorSynchronizeHalfDuplex;
  HwMSInterruptRoutine: HW_MESSAGE_SIGNALED_INTERRUPT_ROUTINE | null = null;
  InterruptSynchronizationMode = INTERRUPT_SYNCHRONIZATION_MODE.InterruptSupportNone;
  VirtualDevice = false;
  DumpMode = 0;
  ExtendedFlags1 = 0;
  /** Requests the adapter takes at once; 0 = the port's default. */
  MaxNumberOfIO = 0;
  /** Requests one logical unit takes at once; 0 = the port's default. */
  MaxIOsPerLun = 0;
  /** A logical unit's queue depth at start; 0 = the port's default. */
  InitialLunQueueDepth = 0;
  /** How long the port holds requests after a bus reset, microseconds. */
  BusResetHoldTime = 4_000_000;
  FeatureSupport = 0;
  /** Address bits the adapter drives when STOR_ADAPTER_DMA_ADDRESS_WIDTH_SPECIFIED is in FeatureSupport. */
  DmaAddressWidth = 0;
}

/** Value for PORT_CONFIGURATION_INFORMATION.Dma64BitAddresses. */
export const SCSI_DMA64_MINIPORT_SUPPORTED = 0x01;
export const SCSI_DMA64_MINIPORT_FULL64BIT_SUPPORTED = 0x02;
/** PORT_CONFIGURATION_INFORMATION.FeatureSupport: DmaAddressWidth is set. */
export const STOR_ADAPTER_DMA_ADDRESS_WIDTH_SPECIFIED = 0x00000040;

// Callbacks (HW_* routine types).
/** HwFindAdapter(DeviceExtension, HwContext, BusInformation, ArgumentString, ConfigInfo, Reserved3) → SP_RETURN_*. */
export type HW_FIND_ADAPTER = (DeviceExtension: PVOID_EXTENSION, HwContext: unknown, BusInformation: unknown, ArgumentString: string, ConfigInfo: PORT_CONFIGURATION_INFORMATION, Reserved3: { value: boolean }) => number;
/** HwInitialize(DeviceExtension): the adapter is ready (DIRQL, interrupt lock held for half duplex). */
export type HW_INITIALIZE = (DeviceExtension: PVOID_EXTENSION) => boolean;
/** HwPassiveInitializeRoutine(DeviceExtension), at PASSIVE_LEVEL after HwInitialize; may wait. */
export type HW_PASSIVE_INITIALIZE_ROUTINE = (DeviceExtension: PVOID_EXTENSION) => boolean | Promise<boolean>;
/** HwStartIo(DeviceExtension, Srb): start the request (DISPATCH_LEVEL, StartIo lock held unless concurrent channels). */
export type HW_STARTIO = (DeviceExtension: PVOID_EXTENSION, Srb: SRB) => boolean;
/** HwBuildIo(DeviceExtension, Srb): prepare the request, no lock held; FALSE when the miniport completed it. */
export type HW_BUILDIO = (DeviceExtension: PVOID_EXTENSION, Srb: SRB) => boolean;
/** HwInterrupt(DeviceExtension): the line interrupt (DIRQL). */
export type HW_INTERRUPT = (DeviceExtension: PVOID_EXTENSION) => boolean;
/** HwMSInterruptRoutine(HwDeviceExtension, MessageId): one message (DIRQL). */
export type HW_MESSAGE_SIGNALED_INTERRUPT_ROUTINE = (HwDeviceExtension: PVOID_EXTENSION, MessageId: number) => boolean;
/** HwResetBus(DeviceExtension, PathId): reset the bus; outstanding requests are the miniport's to finish. */
export type HW_RESET_BUS = (DeviceExtension: PVOID_EXTENSION, PathId: number) => boolean;
/** HwAdapterControl(DeviceExtension, ControlType, Parameters). */
export type HW_ADAPTER_CONTROL = (DeviceExtension: PVOID_EXTENSION, ControlType: SCSI_ADAPTER_CONTROL_TYPE, Parameters: unknown) => SCSI_ADAPTER_CONTROL_STATUS;
/** HwUnitControl(DeviceExtension, ControlType, Parameters). */
export type HW_UNIT_CONTROL = (DeviceExtension: PVOID_EXTENSION, ControlType: SCSI_UNIT_CONTROL_TYPE, Parameters: unknown) => SCSI_UNIT_CONTROL_STATUS;
/** HwTimer(DeviceExtension): the RequestTimerCall callback (DIRQL-synchronised). */
export type HW_TIMER = (DeviceExtension: PVOID_EXTENSION) => void;
/** HwTimerEx(DeviceExtension, Context): a StorPortRequestTimer callback. */
export type HW_TIMER_EX = (DeviceExtension: PVOID_EXTENSION, Context: unknown) => void;
/** HwDpcRoutine(Dpc, HwDeviceExtension, SystemArgument1, SystemArgument2) (DISPATCH_LEVEL). */
export type HW_DPC_ROUTINE = (Dpc: STOR_DPC, HwDeviceExtension: PVOID_EXTENSION, SystemArgument1: unknown, SystemArgument2: unknown) => void;
/** A StorPortSynchronizeAccess routine. */
export type STOR_SYNCHRONIZED_ACCESS = (HwDeviceExtension: PVOID_EXTENSION, Context: unknown) => boolean;

/** HW_INITIALIZATION_DATA: what the miniport gives StorPortInitialize. */
export class HW_INITIALIZATION_DATA {
  HwInitializationDataSize = 0xB8;
  AdapterInterfaceType = 5;
  HwInitialize: HW_INITIALIZE | null = null;
  HwStartIo: HW_STARTIO | null = null;
  HwInterrupt: HW_INTERRUPT | null = null;
  HwFindAdapter: HW_FIND_ADAPTER | null = null;
  HwResetBus: HW_RESET_BUS | null = null;
  HwDmaStarted: null = null;
  HwAdapterState: null = null;
  DeviceExtensionSize: ExtensionSpec = 0;
  SpecificLuExtensionSize: ExtensionSpec = 0;
  SrbExtensionSize: ExtensionSpec = 0;
  NumberOfAccessRanges = 0;
  MapBuffers = STOR_MAP_NO_BUFFERS;
  NeedPhysicalAddresses = true;
  TaggedQueuing = true;
  AutoRequestSense = true;
  MultipleRequestPerLu = true;
  ReceiveEvent = false;
  VendorIdLength = 0;
  VendorId = "";
  DeviceIdLength = 0;
  DeviceId = "";
  HwAdapterControl: HW_ADAPTER_CONTROL | null = null;
  HwBuildIo: HW_BUILDIO | null = null;
  HwFreeAdapterResources: ((DeviceExtension: PVOID_EXTENSION) => void) | null = null;
  FeatureSupport = 0;
  SrbTypeFlags = SRB_TYPE_FLAG_SCSI_REQUEST_BLOCK;
  AddressTypeFlags = ADDRESS_TYPE_FLAG_BTL8;
  HwUnitControl: HW_UNIT_CONTROL | null = null;
}

/** STOR_DPC: a miniport DPC (StorPortInitializeDpc): the kernel DPC that runs it and its DpcLock. */
export class STOR_DPC {
  readonly Dpc = new KDPC();
  /** The lock StorPortAcquireSpinLock(DpcLock, this) takes. */
  readonly Lock = new KSPIN_LOCK();
}

/** STOR_LOCK_HANDLE: which lock was taken and the IRQL to return to. */
export class STOR_LOCK_HANDLE {
  Lock: STOR_SPINLOCK = STOR_SPINLOCK.DpcLock;
  /** The lock's context (the STOR_DPC for DpcLock, the message for InterruptLock). */
  Context: unknown = null;
  OldIrql: KIRQL = 0;
}

/** STOR_SCATTER_GATHER_ELEMENT. */
export class STOR_SCATTER_GATHER_ELEMENT {
  /** Logical address the device puts on the bus. */
  PhysicalAddress = 0;
  /** Bytes. */
  Length = 0;
  Reserved = 0;
}

/** STOR_SCATTER_GATHER_LIST. */
export class STOR_SCATTER_GATHER_LIST {
  NumberOfElements = 0;
  Reserved = 0;
  /** Elements; only the first NumberOfElements are meaningful (the array is reused). */
  readonly List: STOR_SCATTER_GATHER_ELEMENT[] = [];
}

// Performance optimisations (StorPortInitializePerfOpts).
export const STOR_PERF_DPC_REDIRECTION = 0x00000001;
export const STOR_PERF_CONCURRENT_CHANNELS = 0x00000002;
export const STOR_PERF_INTERRUPT_MESSAGE_RANGES = 0x00000004;
export const STOR_PERF_ADV_CONFIG_LOCALITY = 0x00000008;
export const STOR_PERF_OPTIMIZE_FOR_COMPLETION_DURING_STARTIO = 0x00000010;
export const STOR_PERF_DPC_REDIRECTION_CURRENT_CPU = 0x00000020;
export const STOR_PERF_NO_SGL = 0x00000040;
export const STOR_PERF_VERSION_2 = 2;
export const STOR_PERF_VERSION_3 = 3;
export const STOR_PERF_VERSION_4 = 4;
export const STOR_PERF_VERSION_5 = 5;
export const STOR_PERF_VERSION = STOR_PERF_VERSION_5;

/** GROUP_AFFINITY of one message (PERF_CONFIGURATION_DATA.MessageTargets). */
export interface GROUP_AFFINITY {
  /** Bit per processor. */
  Mask: number;
  Group: number;
}

/** PERF_CONFIGURATION_DATA. */
export class PERF_CONFIGURATION_DATA {
  Version = STOR_PERF_VERSION;
  Size = 40;
  Flags = 0;
  ConcurrentChannels = 0;
  FirstRedirectionMessageNumber = 0;
  LastRedirectionMessageNumber = 0;
  DeviceNode = 0;
  Reserved = 0;
  /** With STOR_PERF_ADV_CONFIG_LOCALITY: each message's target processors, filled by the port. */
  MessageTargets: GROUP_AFFINITY[] | null = null;
}

/** STARTIO_PERFORMANCE_PARAMETERS. */
export class STARTIO_PERFORMANCE_PARAMETERS {
  Version = 1;
  Size = 16;
  /** The message the request's completion should be signalled on. */
  MessageNumber = 0;
  /** The channel (submission queue) for the request, 0-based. */
  ChannelNumber = 0;
}

/** MESSAGE_INTERRUPT_INFORMATION. */
export class MESSAGE_INTERRUPT_INFORMATION {
  MessageId = 0;
  MessageData = 0;
  MessageAddress = 0;
  InterruptVector = 0;
  InterruptLevel = 0;
  InterruptMode: KINTERRUPT_MODE = 1;
}

/** PROCESSOR_NUMBER. */
export interface PROCESSOR_NUMBER {
  Group: number;
  Number: number;
}

/** What the port keeps of a miniport driver: its initialization data (the DriverObject's driver extension). */
export interface MiniportDriver {
  readonly DriverObject: { serviceName: string };
  readonly HwInitializationData: HW_INITIALIZATION_DATA;
}

/** The device objects behind an adapter, for tests and inspection. */
export interface AdapterDeviceObjects {
  Fdo: DEVICE_OBJECT;
  Pdo: DEVICE_OBJECT;
}
