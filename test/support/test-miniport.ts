/**
 * A virtual Storport miniport for testing the port driver: no hardware, root-enumerated
 * (as the toaster bus is), written as a C miniport is — DriverEntry fills
 * HW_INITIALIZATION_DATA and calls StorPortInitialize; HwFindAdapter fills
 * PORT_CONFIGURATION_INFORMATION; HwInitialize, HwStartIo, HwBuildIo, HwResetBus,
 * HwAdapterControl and HwUnitControl do what their documentation asks.
 *
 * Target 0 has RAM-backed logical units (LUN numbers configurable, gaps allowed) that answer
 * INQUIRY (standard data and VPD pages 0x00, 0x80, 0x83), REPORT LUNS, TEST UNIT READY, READ
 * CAPACITY (10, 16), READ / WRITE (10, 12, 16), MODE SENSE (6, 10), SYNCHRONIZE CACHE and
 * START STOP UNIT; anything else is CHECK CONDITION with sense data. Each request completes
 * in the way the test asks: at once (from HwStartIo), after a StorPortRequestTimer delay,
 * from a miniport DPC (StorPortIssueDpc), or never (to test timeouts). Every call the port
 * makes into the miniport is recorded with the IRQL, the processor, the SRB and whether the
 * port's StartIo lock was held, so tests can check the port's rules.
 *
 * A small class driver ("sptclass") can sit on the units in place of disk.sys: it attaches
 * to each unit PDO, names its FDO \Device\SpTestUnitN with a \DosDevices link so user-mode
 * programs can open it, and passes every request to the PDO unchanged.
 */
import {
  DO_DEVICE_INITIALIZING, DO_DIRECT_IO, DO_POWER_PAGABLE, FILE_DEVICE_DISK, IoAttachDeviceToDeviceStack, IoCreateDevice, IoCreateSymbolicLink,
  IoDeleteDevice, IoDeleteSymbolicLink, IoDetachDevice, type DEVICE_OBJECT, type DRIVER_OBJECT,
} from "../../src/io/objects.js";
import {
  IoAllocateIrp, IoCallDriver, IoCompleteRequest, IoFreeIrp, IoGetCurrentIrpStackLocation, IoGetNextIrpStackLocation, IoSetCompletionRoutine,
  IoSkipCurrentIrpStackLocation, IO_NO_INCREMENT, IO_STATUS_BLOCK, IRP_MJ_CLEANUP, IRP_MJ_CLOSE, IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL, IRP_MJ_PNP, IRP_MJ_POWER,
  type IRP,
} from "../../src/io/irp.js";
import { IoAllocateMdl, IoFreeMdl } from "../../src/io/mdl.js";
import { IoBuildDeviceIoControlRequest } from "../../src/io/build-irp.js";
import { EVENT_TYPE, KEVENT, KeInitializeEvent, KeSetEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON } from "../../src/ke/dispatcher.js";
import { KE, KeGetCurrentProcessorNumber, type Kernel } from "../../src/ke/kernel.js";
import { KeGetCurrentIrql } from "../../src/ke/level.js";
import { STATUS_MORE_PROCESSING_REQUIRED, STATUS_PENDING, STATUS_SUCCESS, type NTSTATUS } from "../../src/ke/ntstatus.js";
import { LOCK_OPERATION, MmBuildMdlForNonPagedPool, MmProbeAndLockPages, MmUnlockPages, type MDL } from "../../src/mm/mdl.js";
import { readBytes, writeBytes, RtlZeroMemory, type PVOID } from "../../src/mm/memory.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../../src/mm/pool.js";
import { IRP_MN_REMOVE_DEVICE } from "../../src/pnp/minor.js";
import { PoCallDriver, PoStartNextPowerIrp } from "../../src/po/routines.js";
import type { DriverPackage } from "../../src/pnp/packages.js";
import type { RootChild } from "../../src/pnp/manager.js";
import { PNP } from "../../src/pnp/manager.js";
import type { DEVICE_NODE } from "../../src/pnp/devnode.js";
import type { Machine } from "../../src/machine/machine.js";
import { GUID_DEVCLASS_DISKDRIVE, GUID_DEVCLASS_SCSIADAPTER } from "../../src/drivers/storage/ntddstor.js";
import {
  DIRECT_ACCESS_DEVICE, fixedSense, parseReadWriteCdb, readBE, writeBE, INQUIRY_PRODUCT_ID, INQUIRY_PRODUCT_REVISION, INQUIRY_VENDOR_ID,
  SCSI_ADSENSE_ILLEGAL_BLOCK, SCSI_ADSENSE_ILLEGAL_COMMAND, SCSI_ADSENSE_INVALID_CDB, SCSI_ADSENSE_INVALID_LUN, SCSI_SENSE_ILLEGAL_REQUEST,
  SCSIOP_INQUIRY, SCSIOP_MODE_SENSE, SCSIOP_MODE_SENSE10, SCSIOP_READ, SCSIOP_READ12, SCSIOP_READ16, SCSIOP_READ_CAPACITY,
  SCSIOP_READ_CAPACITY16, SCSIOP_REPORT_LUNS, SCSIOP_START_STOP_UNIT, SCSIOP_SYNCHRONIZE_CACHE, SCSIOP_SYNCHRONIZE_CACHE16,
  SCSIOP_TEST_UNIT_READY, SCSIOP_WRITE, SCSIOP_WRITE12, SCSIOP_WRITE16, SCSISTAT_CHECK_CONDITION, SCSISTAT_GOOD, SERVICE_ACTION_READ_CAPACITY16,
  VPD_DEVICE_IDENTIFIERS, VPD_SERIAL_NUMBER, VPD_SUPPORTED_PAGES, IS_SCSIOP_READWRITE,
} from "../../src/drivers/storage/scsi.js";
import {
  IRP_MJ_SCSI, SRB_FLAGS_DISABLE_AUTOSENSE, SRB_FUNCTION_ABORT_COMMAND, SRB_FUNCTION_EXECUTE_SCSI, SRB_FUNCTION_FLUSH, SRB_FUNCTION_PNP,
  SRB_FUNCTION_POWER, SRB_FUNCTION_RESET_DEVICE, SRB_FUNCTION_RESET_LOGICAL_UNIT, SRB_FUNCTION_SHUTDOWN, SRB_STATUS_AUTOSENSE_VALID,
  SRB_STATUS_BUS_RESET, SRB_STATUS_DATA_OVERRUN, SRB_STATUS_ERROR, SRB_STATUS_INVALID_REQUEST, SRB_STATUS_SELECTION_TIMEOUT,
  SRB_STATUS_SUCCESS, SrbGetCdb, SrbGetPathTargetLun, SrbGetSenseInfoBuffer, SrbGetSenseInfoBufferLength, SrbGetSrbFunction,
  SrbSetScsiStatus, SrbSetSenseInfoBufferLength, newScsiSrb, SrbSetCdb, type SRB, STORAGE_REQUEST_BLOCK,
} from "../../src/drivers/storage/srb.js";
import {
  HW_INITIALIZATION_DATA, PERF_CONFIGURATION_DATA, SCSI_ADAPTER_CONTROL_STATUS, SCSI_ADAPTER_CONTROL_TYPE, SCSI_NOTIFICATION_TYPE,
  SCSI_SUPPORTED_CONTROL_TYPE_LIST, SCSI_UNIT_CONTROL_STATUS, SCSI_UNIT_CONTROL_TYPE, SP_RETURN_FOUND, SP_UNTAGGED, STOR_DPC, STOR_LOCK_HANDLE,
  STOR_MAP_ALL_BUFFERS, STOR_MAP_ALL_BUFFERS_INCLUDING_READ_WRITE, STOR_MAP_NON_READ_WRITE_BUFFERS, STOR_MAP_NO_BUFFERS, STOR_SPINLOCK,
  STOR_STATUS_SUCCESS, SRB_TYPE_FLAG_SCSI_REQUEST_BLOCK, StorPortAcquireSpinLock, StorPortCompleteRequest, StorPortEnablePassiveInitialization,
  StorPortGetSystemAddress, StorPortGetUncachedExtension, StorPortInitialize, StorPortInitializeDpc, StorPortInitializePerfOpts, StorPortInitializeTimer, StorPortIssueDpc,
  StorPortNotification, StorPortReleaseSpinLock, StorPortRequestTimer, type PORT_CONFIGURATION_INFORMATION, type STOR_TIMER,
} from "../../src/drivers/storport/index.js";
import { STORPORT, type RAID_ADAPTER_EXTENSION } from "../../src/drivers/storport/adapter.js";
import type { RAID_UNIT_EXTENSION } from "../../src/drivers/storport/unit.js";
import { bootDefault, kernelOf, type MachineTweaks } from "./kernel-harness.js";
import { MM } from "../../src/mm/manager.js";
import { IO } from "../../src/io/manager.js";
import type { UNICODE_STRING } from "../../src/rtl/unicode-string.js";

/** How the miniport finishes a request it started. */
export type CompletionMode = "immediate" | "timer" | "dpc" | "never";

/** What the test miniport is and does; every field has a default. */
export interface TestMiniportOptions {
  /** Service name (default "sptest"). */
  service?: string;
  /** Root-enumerated adapters of this miniport (default 1). */
  adapters?: number;
  /** LUN numbers on target 0 (default [0]). */
  luns?: number[];
  /** Targets the adapter reports (MaximumNumberOfTargets; default 1, only target 0 has units). */
  targets?: number;
  /** MaximumNumberOfLogicalUnits (default 8). */
  maxLuns?: number;
  /** Blocks and block size of each LUN (default 256 blocks of 512 bytes). */
  blocks?: number;
  blockSize?: number;
  /** INQUIRY identity. */
  vendor?: string;
  product?: string;
  revision?: string;
  /** VPD page 0x80 serial number of LUN n is `${serial}${n}` (default "SPT-"). */
  serial?: string;
  /** Peripheral device type (default DIRECT_ACCESS_DEVICE). */
  deviceType?: number;
  removable?: boolean;
  /** Answer REPORT LUNS (default true; false: CHECK CONDITION, ILLEGAL REQUEST). */
  reportLuns?: boolean;
  /** How requests complete (default "immediate"), or a function choosing per request. */
  completion?: CompletionMode | ((srb: SRB) => CompletionMode);
  /** Delay of "timer" completions, microseconds (default 50). */
  delayUs?: number;
  /** HwFindAdapter's result (default SP_RETURN_FOUND). */
  findAdapterResult?: number;
  /** HW_INITIALIZATION_DATA.SrbTypeFlags (default SRB_TYPE_FLAG_SCSI_REQUEST_BLOCK). */
  srbTypeFlags?: number;
  /** Provide HwBuildIo (default true). */
  buildIo?: boolean;
  /** HwResetBus: complete what is outstanding with SRB_STATUS_BUS_RESET (default) or keep it. */
  resetBus?: "complete" | "keep";
  /** HwInitialize asks for passive initialization (default true). */
  passiveInitialization?: boolean;
  /** Performance options HwInitialize turns on (none by default). */
  perf?: { Version?: number; Flags: number; ConcurrentChannels?: number; FirstRedirectionMessageNumber?: number; LastRedirectionMessageNumber?: number };
  /** HW_INITIALIZATION_DATA.MapBuffers (default STOR_MAP_NO_BUFFERS: the miniport asks StorPortGetSystemAddress). */
  mapBuffers?: number;
  /** SrbExtensionSize, bytes (default 64). */
  srbExtensionSize?: number;
  /** Bytes of uncached extension HwFindAdapter asks for (default 0: none). */
  uncachedExtensionSize?: number;
  /** PORT_CONFIGURATION_INFORMATION fields HwFindAdapter sets. */
  alignmentMask?: number;
  maxIosPerLun?: number;
  initialLunQueueDepth?: number;
  maxNumberOfIo?: number;
  maximumTransferLength?: number;
  numberOfPhysicalBreaks?: number;
  busResetHoldTime?: number;
  /** FeatureSupport of HW_INITIALIZATION_DATA. */
  featureSupport?: number;
  /** Adapter-control and unit-control types the miniport handles (besides the query). */
  adapterControlTypes?: SCSI_ADAPTER_CONTROL_TYPE[];
  unitControlTypes?: SCSI_UNIT_CONTROL_TYPE[];
  /** Changes to HW_INITIALIZATION_DATA before StorPortInitialize (argument checks). */
  editInitializationData?: (hw: HW_INITIALIZATION_DATA) => void;
  /** Class driver on the units: the test one (default), disk.sys, or none. */
  classDriver?: "test" | "disk" | "none";
  /** Hooks called inside the miniport's routines, for tests that call StorPort services from there. */
  onFindAdapter?: (ext: TEST_DEVICE_EXTENSION, ConfigInfo: PORT_CONFIGURATION_INFORMATION) => void;
  onInitialize?: (ext: TEST_DEVICE_EXTENSION) => void;
  onPassiveInitialize?: (ext: TEST_DEVICE_EXTENSION) => void;
  /** Before HwBuildIo's own work; return false to complete the request here (HwBuildIo returns FALSE). */
  onBuildIo?: (ext: TEST_DEVICE_EXTENSION, srb: SRB) => boolean | void;
  /** Before HwStartIo's own work; return true when the hook took the request over. */
  onStartIo?: (ext: TEST_DEVICE_EXTENSION, srb: SRB) => boolean | void;
  onTimerCompletion?: (ext: TEST_DEVICE_EXTENSION, srb: SRB) => void;
}

/** One call the port made into the miniport. */
export interface MiniportCall {
  routine: string;
  irql: number;
  cpu: number;
  /** Simulated time of the call, ps. */
  timePs: number;
  srb: SRB | null;
  /** The SRB's function and CDB operation code (-1 when none) at the time of the call. */
  function: number;
  opcode: number;
  lun: number;
  /** The SRB's DataBuffer when the call was made. */
  dataBuffer: PVOID;
  /** Whether the port's StartIo lock was held by this processor. */
  startIoLock: boolean;
  /** Adapter or unit control type, PathId of a reset, or a return value. */
  detail: number;
}

/** The miniport's per-adapter extension (DeviceExtensionSize is this class). */
export class TEST_DEVICE_EXTENSION {
  readonly Miniport: TestMiniport;
  readonly Config: Required<Pick<TestMiniportOptions, "luns" | "blocks" | "blockSize">> & TestMiniportOptions;
  /** Each LUN's media. */
  readonly Media = new Map<number, Uint8Array>();
  /** Requests the miniport holds and will never complete by itself ("never"). */
  readonly Held: SRB[] = [];
  /** Requests waiting for the completion timer, with their due times (µs of simulated time). */
  readonly TimerQueue: { srb: SRB; dueUs: number }[] = [];
  /** Requests waiting for the completion DPC. */
  readonly DpcQueue: SRB[] = [];
  CompletionDpc = new STOR_DPC();
  DpcInitialized = false;
  CompletionTimer: STOR_TIMER | null = null;
  /** The completion timer is armed and its callback has not run yet. */
  TimerArmed = false;
  /** Results of what HwFindAdapter / HwInitialize asked the port for. */
  UncachedExtension: PVOID = 0;
  PerfStatus = -1;
  PerfData: PERF_CONFIGURATION_DATA | null = null;
  PassiveInitializeEnabled = false;
  /** SRBs the miniport completed, in order, with the SRB status it gave. */
  readonly Completed: { srb: SRB; status: number; cpu: number }[] = [];
  Resets = 0;

  constructor(miniport: TestMiniport) {
    this.Miniport = miniport;
    this.Config = miniport.config;
    for (const lun of this.Config.luns) this.Media.set(lun, new Uint8Array(this.Config.blocks * this.Config.blockSize));
    miniport.extensions.push(this);
  }
}

/** A test miniport package and what it recorded. */
export class TestMiniport {
  readonly config: TEST_DEVICE_EXTENSION["Config"];
  /** Every call the port made into the miniport, in order. */
  readonly calls: MiniportCall[] = [];
  /** Every extension the port made for it (one per adapter start). */
  readonly extensions: TEST_DEVICE_EXTENSION[] = [];
  /** StorPortInitialize's result in DriverEntry. */
  initializeStatus: NTSTATUS | null = null;
  readonly package: DriverPackage;
  /** The first adapter's root device (the others differ in their instance ID). */
  readonly rootDevice: RootChild;
  readonly rootDevices: RootChild[];

  constructor(options: TestMiniportOptions) {
    this.config = { luns: [0], blocks: 256, blockSize: 512, ...options };
    const service = options.service ?? "sptest";
    const miniport = this;
    this.package = {
      service,
      description: "Storport test miniport",
      ids: [`ROOT\\${service.toUpperCase()}`],
      role: "function",
      setupClass: { name: "SCSIAdapter", guid: GUID_DEVCLASS_SCSIADAPTER },
      module: { DriverEntry: (DriverObject: DRIVER_OBJECT, RegistryPath: UNICODE_STRING) => TmDriverEntry(miniport, DriverObject, RegistryPath) },
    };
    this.rootDevices = Array.from({ length: options.adapters ?? 1 }, (_, i) => ({
      deviceId: `ROOT\\${service.toUpperCase()}`, hardwareIds: [`ROOT\\${service.toUpperCase()}`], compatibleIds: [], instanceId: i.toString().padStart(4, "0"),
    }));
    this.rootDevice = this.rootDevices[0];
  }

  /** Calls of one routine. */
  callsOf(routine: string): MiniportCall[] {
    return this.calls.filter((c) => c.routine === routine);
  }

  /** The extension of the running adapter (the last one made). */
  get ext(): TEST_DEVICE_EXTENSION {
    const e = this.extensions[this.extensions.length - 1];
    if (!e) throw new Error("the test miniport has no adapter");
    return e;
  }

  /** Boot options that install this miniport, its root device and the class driver chosen. */
  bootOptions(): { packages: DriverPackage[]; rootDevices: RootChild[] } {
    const packages = [this.package];
    const cls = this.config.classDriver ?? "test";
    if (cls !== "disk") packages.push(inertDiskPackage);
    if (cls === "test") packages.push(testClassPackage);
    return { packages, rootDevices: this.rootDevices };
  }
}

/** Records a call the port made into the miniport. */
function record(ext: TEST_DEVICE_EXTENSION, routine: string, srb: SRB | null, detail = 0): void {
  const k = KE();
  const cdb = srb && SrbGetSrbFunction(srb) === SRB_FUNCTION_EXECUTE_SCSI ? SrbGetCdb(srb) : null;
  // Test instrumentation: the port's own lock object, to tell whether it is held.
  const adapter = STORPORT(k).adapters.get(ext);
  ext.Miniport.calls.push({
    routine, irql: KeGetCurrentIrql(), cpu: KeGetCurrentProcessorNumber(), timePs: k.cpu.time, srb,
    function: srb ? SrbGetSrbFunction(srb) : -1, opcode: cdb ? cdb[0] : -1, lun: srb ? SrbGetPathTargetLun(srb).Lun : -1,
    dataBuffer: srb ? srb.DataBuffer : 0, startIoLock: adapter ? adapter.StartIoLock.owner === k.cpu.Number : false, detail,
  });
}

// ---- DriverEntry and the Hw* routines --------------------------------------------------------

function TmDriverEntry(miniport: TestMiniport, DriverObject: DRIVER_OBJECT, RegistryPath: UNICODE_STRING): NTSTATUS {
  const c = miniport.config;
  const hw = new HW_INITIALIZATION_DATA();
  hw.AdapterInterfaceType = 0; // Internal: no bus.
  hw.HwFindAdapter = TmFindAdapter;
  hw.HwInitialize = TmInitialize;
  hw.HwStartIo = TmStartIo;
  hw.HwInterrupt = TmInterrupt;
  hw.HwBuildIo = c.buildIo === false ? null : TmBuildIo;
  hw.HwResetBus = TmResetBus;
  hw.HwAdapterControl = TmAdapterControl;
  hw.HwUnitControl = TmUnitControl;
  // The port makes one extension object per adapter, bound to this package's configuration.
  hw.DeviceExtensionSize = class extends TEST_DEVICE_EXTENSION {
    constructor() {
      super(miniport);
    }
  };
  hw.SpecificLuExtensionSize = 32;
  hw.SrbExtensionSize = c.srbExtensionSize ?? 64;
  hw.MapBuffers = c.mapBuffers ?? STOR_MAP_NO_BUFFERS;
  hw.NeedPhysicalAddresses = true;
  hw.TaggedQueuing = true;
  hw.AutoRequestSense = true;
  hw.MultipleRequestPerLu = true;
  hw.SrbTypeFlags = c.srbTypeFlags ?? SRB_TYPE_FLAG_SCSI_REQUEST_BLOCK;
  hw.FeatureSupport = c.featureSupport ?? 0;
  c.editInitializationData?.(hw);
  const status = StorPortInitialize(DriverObject, RegistryPath, hw, null);
  miniport.initializeStatus = status;
  return status;
}

function TmFindAdapter(ext: TEST_DEVICE_EXTENSION, _HwContext: unknown, _BusInformation: unknown, _ArgumentString: string, ConfigInfo: PORT_CONFIGURATION_INFORMATION, _Reserved3: { value: boolean }): number {
  record(ext, "HwFindAdapter", null);
  const c = ext.Config;
  ConfigInfo.MaximumTransferLength = c.maximumTransferLength ?? 0x20000;
  ConfigInfo.NumberOfPhysicalBreaks = c.numberOfPhysicalBreaks ?? 33;
  ConfigInfo.AlignmentMask = c.alignmentMask ?? 0x3;
  ConfigInfo.ScatterGather = true;
  ConfigInfo.Master = true;
  ConfigInfo.Dma32BitAddresses = true;
  ConfigInfo.NumberOfBuses = 1;
  ConfigInfo.MaximumNumberOfTargets = c.targets ?? 1;
  ConfigInfo.MaximumNumberOfLogicalUnits = c.maxLuns ?? 8;
  ConfigInfo.BusResetHoldTime = c.busResetHoldTime ?? 0;
  if (c.maxIosPerLun !== undefined) ConfigInfo.MaxIOsPerLun = c.maxIosPerLun;
  if (c.initialLunQueueDepth !== undefined) ConfigInfo.InitialLunQueueDepth = c.initialLunQueueDepth;
  if (c.maxNumberOfIo !== undefined) ConfigInfo.MaxNumberOfIO = c.maxNumberOfIo;
  if (c.uncachedExtensionSize) ext.UncachedExtension = StorPortGetUncachedExtension(ext, ConfigInfo, c.uncachedExtensionSize);
  ext.CompletionTimer = StorPortInitializeTimer(ext).TimerHandle;
  c.onFindAdapter?.(ext, ConfigInfo);
  return c.findAdapterResult ?? SP_RETURN_FOUND;
}

function TmInitialize(ext: TEST_DEVICE_EXTENSION): boolean {
  record(ext, "HwInitialize", null);
  const c = ext.Config;
  if (c.perf) {
    const perf = new PERF_CONFIGURATION_DATA();
    if (c.perf.Version !== undefined) perf.Version = c.perf.Version;
    perf.Flags = c.perf.Flags;
    perf.ConcurrentChannels = c.perf.ConcurrentChannels ?? 0;
    perf.FirstRedirectionMessageNumber = c.perf.FirstRedirectionMessageNumber ?? 0;
    perf.LastRedirectionMessageNumber = c.perf.LastRedirectionMessageNumber ?? 0;
    ext.PerfStatus = StorPortInitializePerfOpts(ext, false, perf);
    ext.PerfData = perf;
  }
  c.onInitialize?.(ext);
  if (c.passiveInitialization !== false) ext.PassiveInitializeEnabled = StorPortEnablePassiveInitialization(ext, TmPassiveInitialize);
  else initializeCompletionDpc(ext);
  return true;
}

function TmPassiveInitialize(ext: TEST_DEVICE_EXTENSION): boolean {
  record(ext, "HwPassiveInitializeRoutine", null);
  initializeCompletionDpc(ext);
  ext.Config.onPassiveInitialize?.(ext);
  return true;
}

function initializeCompletionDpc(ext: TEST_DEVICE_EXTENSION): void {
  StorPortInitializeDpc(ext, ext.CompletionDpc, TmCompletionDpc);
  ext.DpcInitialized = true;
}

/** HwInterrupt: the adapter has no interrupt line; a call would be a stray interrupt, never ours. */
function TmInterrupt(ext: TEST_DEVICE_EXTENSION): boolean {
  record(ext, "HwInterrupt", null);
  return false;
}

function TmBuildIo(ext: TEST_DEVICE_EXTENSION, srb: SRB): boolean {
  record(ext, "HwBuildIo", srb);
  const hook = ext.Config.onBuildIo?.(ext, srb);
  return hook !== false;
}

function TmStartIo(ext: TEST_DEVICE_EXTENSION, srb: SRB): boolean {
  record(ext, "HwStartIo", srb);
  if (ext.Config.onStartIo?.(ext, srb) === true) return true;
  execute(ext, srb);
  const c = ext.Config;
  const mode = typeof c.completion === "function" ? c.completion(srb) : (c.completion ?? "immediate");
  switch (mode) {
    case "immediate":
      completeRequest(ext, srb);
      break;
    case "timer":
      queueTimerCompletion(ext, srb);
      break;
    case "dpc":
      ext.DpcQueue.push(srb);
      StorPortIssueDpc(ext, ext.CompletionDpc, null, null);
      break;
    case "never":
      ext.Held.push(srb);
      break;
  }
  return true;
}

/** Completes a request to the port (StorPortNotification(RequestComplete)). */
export function completeRequest(ext: TEST_DEVICE_EXTENSION, srb: SRB): void {
  ext.Completed.push({ srb, status: srb.SrbStatus, cpu: KeGetCurrentProcessorNumber() });
  StorPortNotification(SCSI_NOTIFICATION_TYPE.RequestComplete, ext, srb);
}

function simulatedUs(): number {
  return KE().cpu.time / 1e6;
}

/** Puts a request on the timer queue and (re)arms the completion timer for the earliest. */
function queueTimerCompletion(ext: TEST_DEVICE_EXTENSION, srb: SRB): void {
  ext.TimerQueue.push({ srb, dueUs: simulatedUs() + (ext.Config.delayUs ?? 50) });
  armCompletionTimer(ext);
}

/** Arms the completion timer for the earliest waiting request (every request waits as long, so an armed timer is already due first). */
function armCompletionTimer(ext: TEST_DEVICE_EXTENSION): void {
  if (ext.TimerQueue.length === 0 || !ext.CompletionTimer || ext.TimerArmed) return;
  const now = simulatedUs();
  const first = Math.min(...ext.TimerQueue.map((e) => e.dueUs));
  ext.TimerArmed = StorPortRequestTimer(ext, ext.CompletionTimer, TmCompletionTimer, null, Math.max(1, Math.ceil(first - now)), 0) === STOR_STATUS_SUCCESS;
}

function TmCompletionTimer(ext: TEST_DEVICE_EXTENSION, _Context: unknown): void {
  record(ext, "HwTimerEx", null);
  ext.TimerArmed = false;
  const now = simulatedUs();
  const due = ext.TimerQueue.filter((e) => e.dueUs <= now + 1);
  for (const e of due) {
    ext.TimerQueue.splice(ext.TimerQueue.indexOf(e), 1);
    ext.Config.onTimerCompletion?.(ext, e.srb);
    completeRequest(ext, e.srb);
  }
  armCompletionTimer(ext);
}

function TmCompletionDpc(_Dpc: STOR_DPC, ext: TEST_DEVICE_EXTENSION, _a1: unknown, _a2: unknown): void {
  record(ext, "HwDpcRoutine", null);
  const lock = new STOR_LOCK_HANDLE();
  StorPortAcquireSpinLock(ext, STOR_SPINLOCK.DpcLock, ext.CompletionDpc, lock);
  const list = ext.DpcQueue.splice(0);
  StorPortReleaseSpinLock(ext, lock);
  for (const srb of list) completeRequest(ext, srb);
}

function TmResetBus(ext: TEST_DEVICE_EXTENSION, PathId: number): boolean {
  record(ext, "HwResetBus", null, PathId);
  ext.Resets++;
  if ((ext.Config.resetBus ?? "complete") === "complete") {
    ext.Held.length = 0;
    ext.TimerQueue.length = 0;
    ext.DpcQueue.length = 0;
    StorPortCompleteRequest(ext, PathId, SP_UNTAGGED, SP_UNTAGGED, SRB_STATUS_BUS_RESET);
  }
  return true;
}

function TmAdapterControl(ext: TEST_DEVICE_EXTENSION, ControlType: SCSI_ADAPTER_CONTROL_TYPE, Parameters: unknown): SCSI_ADAPTER_CONTROL_STATUS {
  record(ext, "HwAdapterControl", null, ControlType);
  if (ControlType === SCSI_ADAPTER_CONTROL_TYPE.ScsiQuerySupportedControlTypes) {
    const list = Parameters as SCSI_SUPPORTED_CONTROL_TYPE_LIST;
    const types = ext.Config.adapterControlTypes ?? [
      SCSI_ADAPTER_CONTROL_TYPE.ScsiStopAdapter, SCSI_ADAPTER_CONTROL_TYPE.ScsiRestartAdapter, SCSI_ADAPTER_CONTROL_TYPE.ScsiAdapterSurpriseRemoval,
    ];
    list.SupportedTypeList[SCSI_ADAPTER_CONTROL_TYPE.ScsiQuerySupportedControlTypes] = true;
    for (const t of types) if (t < list.MaxControlType) list.SupportedTypeList[t] = true;
  }
  return SCSI_ADAPTER_CONTROL_STATUS.ScsiAdapterControlSuccess;
}

function TmUnitControl(ext: TEST_DEVICE_EXTENSION, ControlType: SCSI_UNIT_CONTROL_TYPE, Parameters: unknown): SCSI_UNIT_CONTROL_STATUS {
  record(ext, "HwUnitControl", null, ControlType);
  if (ControlType === SCSI_UNIT_CONTROL_TYPE.ScsiQuerySupportedUnitControlTypes) {
    const list = Parameters as SCSI_SUPPORTED_CONTROL_TYPE_LIST;
    const types = ext.Config.unitControlTypes ?? [
      SCSI_UNIT_CONTROL_TYPE.ScsiUnitStart, SCSI_UNIT_CONTROL_TYPE.ScsiUnitRemove, SCSI_UNIT_CONTROL_TYPE.ScsiUnitSurpriseRemoval,
    ];
    list.SupportedTypeList[SCSI_UNIT_CONTROL_TYPE.ScsiQuerySupportedUnitControlTypes] = true;
    for (const t of types) if (t < list.MaxControlType) list.SupportedTypeList[t] = true;
  }
  return SCSI_UNIT_CONTROL_STATUS.ScsiUnitControlSuccess;
}

// ---- the logical units -------------------------------------------------------------------------

/** Fixed-width, space-padded ASCII. */
function asciiField(s: string, width: number): Uint8Array {
  const b = new Uint8Array(width).fill(0x20);
  for (let i = 0; i < Math.min(width, s.length); i++) b[i] = s.charCodeAt(i);
  return b;
}

/** The system address of the request's data: DataBuffer when the port mapped it, else StorPortGetSystemAddress. */
function dataAddress(ext: TEST_DEVICE_EXTENSION, srb: SRB): PVOID {
  const mode = ext.Config.mapBuffers ?? STOR_MAP_NO_BUFFERS;
  const cdb = SrbGetSrbFunction(srb) === SRB_FUNCTION_EXECUTE_SCSI ? SrbGetCdb(srb) : null;
  const readWrite = cdb !== null && IS_SCSIOP_READWRITE(cdb[0]);
  const mapped = mode === STOR_MAP_ALL_BUFFERS_INCLUDING_READ_WRITE || ((mode === STOR_MAP_NON_READ_WRITE_BUFFERS || mode === STOR_MAP_ALL_BUFFERS) && !readWrite);
  if (mapped) return srb.DataBuffer;
  const r = StorPortGetSystemAddress(ext, srb);
  return r.status === STOR_STATUS_SUCCESS ? r.SystemAddress : 0;
}

/** Returns `data` to the initiator: at most DataTransferLength bytes; fewer is an underrun (SRB_STATUS_DATA_OVERRUN). */
function returnData(ext: TEST_DEVICE_EXTENSION, srb: SRB, data: Uint8Array): void {
  const n = Math.min(data.length, srb.DataTransferLength);
  if (n > 0) writeBytes(dataAddress(ext, srb), data.subarray(0, n));
  SrbSetScsiStatus(srb, SCSISTAT_GOOD);
  if (n < srb.DataTransferLength) {
    srb.DataTransferLength = n;
    srb.SrbStatus = SRB_STATUS_DATA_OVERRUN;
  } else {
    srb.SrbStatus = SRB_STATUS_SUCCESS;
  }
}

/** CHECK CONDITION with fixed-format sense, and autosense when the SRB has a buffer for it. */
function checkCondition(srb: SRB, senseKey: number, asc: number, ascq = 0): void {
  SrbSetScsiStatus(srb, SCSISTAT_CHECK_CONDITION);
  srb.DataTransferLength = 0;
  srb.SrbStatus = SRB_STATUS_ERROR;
  const buffer = SrbGetSenseInfoBuffer(srb);
  const room = SrbGetSenseInfoBufferLength(srb);
  if (buffer !== 0 && room > 0 && (srb.SrbFlags & SRB_FLAGS_DISABLE_AUTOSENSE) === 0) {
    const sense = fixedSense(senseKey, asc, ascq);
    const n = Math.min(room, sense.length);
    writeBytes(buffer, sense.subarray(0, n));
    SrbSetSenseInfoBufferLength(srb, n);
    srb.SrbStatus |= SRB_STATUS_AUTOSENSE_VALID;
  }
}

function good(srb: SRB): void {
  SrbSetScsiStatus(srb, SCSISTAT_GOOD);
  srb.DataTransferLength = 0;
  srb.SrbStatus = SRB_STATUS_SUCCESS;
}

/** Standard INQUIRY data of a LUN, or of an address with no unit (qualifier 011b, type 1Fh). */
function inquiryData(c: TEST_DEVICE_EXTENSION["Config"], present: boolean): Uint8Array {
  const d = new Uint8Array(36);
  if (!present) {
    d[0] = 0x7F;
    return d;
  }
  d[0] = c.deviceType ?? DIRECT_ACCESS_DEVICE;
  d[1] = c.removable ? 0x80 : 0;
  d[2] = 0x06;
  d[3] = 0x12;
  d[4] = 36 - 5;
  d[7] = 0x02;
  d.set(asciiField(c.vendor ?? "WDMSIM", 8), INQUIRY_VENDOR_ID);
  d.set(asciiField(c.product ?? "Storport Test", 16), INQUIRY_PRODUCT_ID);
  d.set(asciiField(c.revision ?? "1.0", 4), INQUIRY_PRODUCT_REVISION);
  return d;
}

function serialOf(c: TEST_DEVICE_EXTENSION["Config"], lun: number): string {
  return `${c.serial ?? "SPT-"}${lun}`;
}

/** VPD page `page` of a LUN, or null when the LUN does not have it. */
function vpdPage(c: TEST_DEVICE_EXTENSION["Config"], lun: number, page: number): Uint8Array | null {
  const type = c.deviceType ?? DIRECT_ACCESS_DEVICE;
  switch (page) {
    case VPD_SUPPORTED_PAGES:
      return new Uint8Array([type, 0x00, 0x00, 3, VPD_SUPPORTED_PAGES, VPD_SERIAL_NUMBER, VPD_DEVICE_IDENTIFIERS]);
    case VPD_SERIAL_NUMBER: {
      const s = serialOf(c, lun);
      const b = new Uint8Array(4 + s.length);
      b[0] = type;
      b[1] = VPD_SERIAL_NUMBER;
      b[3] = s.length;
      b.set(asciiField(s, s.length), 4);
      return b;
    }
    case VPD_DEVICE_IDENTIFIERS: {
      // One NAA (type 3, binary) designator: NAA 6 with the LUN in its last byte.
      const naa = new Uint8Array([0x60, 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0, 0, 0, 0, 0, 0, lun & 0xFF]);
      const b = new Uint8Array(4 + 4 + naa.length);
      b[0] = type;
      b[1] = VPD_DEVICE_IDENTIFIERS;
      writeBE(b, 2, 2, 4 + naa.length);
      b[4] = 0x01; // binary
      b[5] = 0x03; // NAA, associated with the logical unit
      b[7] = naa.length;
      b.set(naa, 8);
      return b;
    }
    default:
      return null;
  }
}

/** Carries out a request against the logical unit's media (the data moves now; completion comes as configured). */
function execute(ext: TEST_DEVICE_EXTENSION, srb: SRB): void {
  const fn = SrbGetSrbFunction(srb);
  if (fn !== SRB_FUNCTION_EXECUTE_SCSI) {
    const known = [SRB_FUNCTION_FLUSH, SRB_FUNCTION_SHUTDOWN, SRB_FUNCTION_RESET_DEVICE, SRB_FUNCTION_RESET_LOGICAL_UNIT, SRB_FUNCTION_ABORT_COMMAND, SRB_FUNCTION_POWER, SRB_FUNCTION_PNP];
    srb.SrbStatus = known.includes(fn) ? SRB_STATUS_SUCCESS : SRB_STATUS_INVALID_REQUEST;
    srb.DataTransferLength = 0;
    return;
  }
  const c = ext.Config;
  const { TargetId, Lun } = SrbGetPathTargetLun(srb);
  const cdb = SrbGetCdb(srb)!;
  const media = TargetId === 0 ? ext.Media.get(Lun) : undefined;
  const op = cdb[0];
  if (TargetId !== 0) {
    srb.SrbStatus = SRB_STATUS_SELECTION_TIMEOUT;
    srb.DataTransferLength = 0;
    return;
  }
  if (op === SCSIOP_INQUIRY) {
    const length = readBE(cdb, 3, 2);
    if ((cdb[1] & 0x01) === 0) return returnData(ext, srb, inquiryData(c, media !== undefined).subarray(0, length));
    const page = media ? vpdPage(c, Lun, cdb[2]) : null;
    if (!page) return checkCondition(srb, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ADSENSE_INVALID_CDB);
    return returnData(ext, srb, page.subarray(0, length));
  }
  if (op === SCSIOP_REPORT_LUNS) {
    if (c.reportLuns === false) return checkCondition(srb, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ADSENSE_ILLEGAL_COMMAND);
    const luns = [...ext.Media.keys()].sort((x, y) => x - y);
    const b = new Uint8Array(8 + 8 * luns.length);
    writeBE(b, 0, 4, 8 * luns.length);
    luns.forEach((l, i) => {
      b[8 + i * 8] = (l >> 8) & 0x3F;
      b[9 + i * 8] = l & 0xFF;
    });
    return returnData(ext, srb, b.subarray(0, readBE(cdb, 6, 4)));
  }
  if (!media) return checkCondition(srb, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ADSENSE_INVALID_LUN);
  switch (op) {
    case SCSIOP_TEST_UNIT_READY:
    case SCSIOP_SYNCHRONIZE_CACHE:
    case SCSIOP_SYNCHRONIZE_CACHE16:
    case SCSIOP_START_STOP_UNIT:
      return good(srb);
    case SCSIOP_READ_CAPACITY: {
      const b = new Uint8Array(8);
      writeBE(b, 0, 4, c.blocks - 1);
      writeBE(b, 4, 4, c.blockSize);
      return returnData(ext, srb, b);
    }
    case SCSIOP_READ_CAPACITY16: {
      if ((cdb[1] & 0x1F) !== SERVICE_ACTION_READ_CAPACITY16) return checkCondition(srb, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ADSENSE_INVALID_CDB);
      const b = new Uint8Array(32);
      writeBE(b, 0, 8, c.blocks - 1);
      writeBE(b, 8, 4, c.blockSize);
      return returnData(ext, srb, b.subarray(0, readBE(cdb, 10, 4)));
    }
    case SCSIOP_MODE_SENSE:
    case SCSIOP_MODE_SENSE10: {
      // A header and no pages: no write protection, no block descriptors.
      const ten = op === SCSIOP_MODE_SENSE10;
      const b = new Uint8Array(ten ? 8 : 4);
      if (ten) writeBE(b, 0, 2, 6);
      else b[0] = 3;
      return returnData(ext, srb, b.subarray(0, ten ? readBE(cdb, 7, 2) : cdb[4]));
    }
    case SCSIOP_READ:
    case SCSIOP_READ12:
    case SCSIOP_READ16:
    case SCSIOP_WRITE:
    case SCSIOP_WRITE12:
    case SCSIOP_WRITE16: {
      const rw = { lba: 0, blocks: 0, fua: false };
      parseReadWriteCdb(cdb, rw);
      const bytes = rw.blocks * c.blockSize;
      if (rw.lba + rw.blocks > c.blocks) return checkCondition(srb, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ADSENSE_ILLEGAL_BLOCK);
      if (bytes !== srb.DataTransferLength) {
        srb.SrbStatus = SRB_STATUS_INVALID_REQUEST;
        srb.DataTransferLength = 0;
        return;
      }
      const at = rw.lba * c.blockSize;
      const va = dataAddress(ext, srb);
      if (op === SCSIOP_READ || op === SCSIOP_READ12 || op === SCSIOP_READ16) writeBytes(va, media.subarray(at, at + bytes));
      else media.set(readBytes(va, bytes), at);
      SrbSetScsiStatus(srb, SCSISTAT_GOOD);
      srb.SrbStatus = SRB_STATUS_SUCCESS;
      return;
    }
    default:
      return checkCondition(srb, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ADSENSE_ILLEGAL_COMMAND);
  }
}

// ---- the test class driver ----------------------------------------------------------------------

/** disk.sys replaced by a package that binds to nothing, so units get the test class driver (or none). */
const inertDiskPackage: DriverPackage = {
  service: "disk", description: "Disk drive (not installed)", ids: [], role: "function",
  module: { DriverEntry: () => STATUS_SUCCESS },
};

/** The test class driver's FDO extension. */
class SPT_CLASS_EXTENSION {
  Lower: DEVICE_OBJECT | null = null;
  Pdo: DEVICE_OBJECT | null = null;
  Number = 0;
}

/** Class FDOs made on each machine, for their names. */
const classDevices = new WeakMap<Kernel, number>();

function SptAddDevice(DriverObject: DRIVER_OBJECT, PhysicalDeviceObject: DEVICE_OBJECT): NTSTATUS {
  const e = new SPT_CLASS_EXTENSION();
  const k = KE();
  e.Number = classDevices.get(k) ?? 0;
  classDevices.set(k, e.Number + 1);
  const { status, DeviceObject } = IoCreateDevice(DriverObject, e, `\\Device\\SpTestUnit${e.Number}`, FILE_DEVICE_DISK, 0, false);
  if (status !== STATUS_SUCCESS || !DeviceObject) return status;
  e.Pdo = PhysicalDeviceObject;
  e.Lower = IoAttachDeviceToDeviceStack(DeviceObject, PhysicalDeviceObject);
  IoCreateSymbolicLink(`\\DosDevices\\SpTestUnit${e.Number}`, `\\Device\\SpTestUnit${e.Number}`);
  DeviceObject.Flags |= DO_DIRECT_IO | DO_POWER_PAGABLE;
  DeviceObject.Flags &= ~DO_DEVICE_INITIALIZING;
  return STATUS_SUCCESS;
}

function SptCreateClose(_DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  Irp.IoStatus.Status = STATUS_SUCCESS;
  Irp.IoStatus.Information = 0;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
  return STATUS_SUCCESS;
}

function SptPassDown(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS | Promise<NTSTATUS> {
  const e = DeviceObject.DeviceExtension as SPT_CLASS_EXTENSION;
  IoSkipCurrentIrpStackLocation(Irp);
  return IoCallDriver(e.Lower!, Irp);
}

async function SptPnp(DeviceObject: DEVICE_OBJECT, Irp: IRP): Promise<NTSTATUS> {
  const e = DeviceObject.DeviceExtension as SPT_CLASS_EXTENSION;
  const minor = IoGetCurrentIrpStackLocation(Irp).MinorFunction;
  const lower = e.Lower!;
  IoSkipCurrentIrpStackLocation(Irp);
  const status = await IoCallDriver(lower, Irp);
  if (minor === IRP_MN_REMOVE_DEVICE) {
    IoDeleteSymbolicLink(`\\DosDevices\\SpTestUnit${e.Number}`);
    IoDetachDevice(lower);
    IoDeleteDevice(DeviceObject);
  }
  return status;
}

function SptPower(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS | Promise<NTSTATUS> {
  const e = DeviceObject.DeviceExtension as SPT_CLASS_EXTENSION;
  PoStartNextPowerIrp(Irp);
  IoSkipCurrentIrpStackLocation(Irp);
  return PoCallDriver(e.Lower!, Irp);
}

function SptDriverEntry(DriverObject: DRIVER_OBJECT, _RegistryPath: UNICODE_STRING): NTSTATUS {
  DriverObject.DriverExtension.AddDevice = SptAddDevice;
  DriverObject.MajorFunction[IRP_MJ_CREATE] = SptCreateClose;
  DriverObject.MajorFunction[IRP_MJ_CLOSE] = SptCreateClose;
  DriverObject.MajorFunction[IRP_MJ_CLEANUP] = SptCreateClose;
  DriverObject.MajorFunction[IRP_MJ_DEVICE_CONTROL] = SptPassDown;
  DriverObject.MajorFunction[IRP_MJ_SCSI] = SptPassDown;
  DriverObject.MajorFunction[IRP_MJ_PNP] = SptPnp;
  DriverObject.MajorFunction[IRP_MJ_POWER] = SptPower;
  return STATUS_SUCCESS;
}

/** The test class driver's package: it binds to disk units (GenDisk) and raw units. */
export const testClassPackage: DriverPackage = {
  service: "sptclass", description: "Storport test class driver", ids: ["GenDisk"], role: "function",
  setupClass: { name: "DiskDrive", guid: GUID_DEVCLASS_DISKDRIVE },
  module: { DriverEntry: SptDriverEntry },
};

// ---- helpers for tests -----------------------------------------------------------------------------

/** The port's adapter of the test miniport (the running one). */
export function adapterOfMiniport(machine: Machine, miniport: TestMiniport): RAID_ADAPTER_EXTENSION {
  const k = kernelOf(machine);
  for (const a of STORPORT(k).adapters.values()) if (a.Service === miniport.package.service) return a;
  throw new Error(`no adapter of ${miniport.package.service}`);
}

/** The unit at path 0, target 0, `lun`. */
export function unitOf(adapter: RAID_ADAPTER_EXTENSION, lun: number, target = 0): RAID_UNIT_EXTENSION {
  const u = [...adapter.Units.values()].find((x) => x.PathId === 0 && x.TargetId === target && x.Lun === lun);
  if (!u || !u.DeviceObject) throw new Error(`no unit PDO at 0:${target}:${lun}`);
  return u;
}

/** The Win32 name of the test class driver's device on `unit` ("\\\\.\\SpTestUnitN"). */
export function unitPath(unit: RAID_UNIT_EXTENSION): string {
  const fdo = unit.DeviceObject?.AttachedDevice;
  if (!fdo || !(fdo.DeviceExtension instanceof SPT_CLASS_EXTENSION)) throw new Error("the unit has no test class driver on it");
  return `\\\\.\\SpTestUnit${fdo.DeviceExtension.Number}`;
}

/** The device node of the adapter. */
export function adapterNode(machine: Machine, miniport: TestMiniport): DEVICE_NODE {
  const k = kernelOf(machine);
  const node = [...PNP(k).allNodes()].find((n) => n.InstancePath.toUpperCase().startsWith(miniport.rootDevice.deviceId.toUpperCase()));
  if (!node) throw new Error("no device node for the test adapter");
  return node;
}

/** A nonpaged buffer described by an MDL, for an SRB's data. */
export class SrbBuffer {
  readonly va: PVOID;
  readonly mdl: MDL;
  /**
   * `locked`: the MDL's pages are probed and locked (as for a caller's buffer) rather than
   * described as nonpaged pool, so a system address for it is a new mapping, not `va`.
   */
  constructor(readonly length: number, readonly tag = "SpTb", readonly locked = false) {
    this.va = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPoolNx, Math.max(length, 1), tag);
    RtlZeroMemory(this.va, Math.max(length, 1));
    this.mdl = IoAllocateMdl(this.va, length, false, false, null)!;
    if (locked) MmProbeAndLockPages(this.mdl, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoModifyAccess);
    else MmBuildMdlForNonPagedPool(this.mdl);
  }
  bytes(n = this.length): Uint8Array {
    return readBytes(this.va, n);
  }
  free(): void {
    if (this.locked) MmUnlockPages(this.mdl);
    IoFreeMdl(this.mdl);
    ExFreePoolWithTag(this.va, this.tag);
  }
}

/** An SRB in flight from a test acting as the class driver: its IRP and when it completes. */
export class SrbRequest {
  readonly done = new KEVENT();
  status: NTSTATUS = STATUS_PENDING;
  information = 0;
  completed = false;
  /** Processor the IRP completed on. */
  completionCpu = -1;
  irp: IRP | null = null;
  returned: NTSTATUS | null = null;
  constructor(readonly srb: SRB, readonly buffer: SrbBuffer | null) {
    KeInitializeEvent(this.done, EVENT_TYPE.NotificationEvent, false);
  }
  /** Waits for completion (PASSIVE_LEVEL), frees the IRP, and returns the IRP's status. */
  async wait(): Promise<NTSTATUS> {
    if (!this.completed) await KeWaitForSingleObject(this.done, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
    if (this.irp) {
      IoFreeIrp(this.irp);
      this.irp = null;
    }
    return this.status;
  }
}

function SptTestCompletion(_DeviceObject: unknown, Irp: IRP, Context: unknown): NTSTATUS {
  const r = Context as SrbRequest;
  r.status = Irp.IoStatus.Status;
  r.information = Irp.IoStatus.Information as number;
  r.completed = true;
  r.completionCpu = KeGetCurrentProcessorNumber();
  KeSetEvent(r.done, 0, false);
  return STATUS_MORE_PROCESSING_REQUIRED;
}

/** Sends `srb` (with `buffer` as its data) to `device` in IRP_MJ_SCSI, without waiting. */
export function submitSrb(device: DEVICE_OBJECT, srb: SRB, buffer: SrbBuffer | null): SrbRequest {
  const r = new SrbRequest(srb, buffer);
  const irp = IoAllocateIrp(device.StackSize, false)!;
  r.irp = irp;
  irp.MdlAddress = buffer ? buffer.mdl : null;
  srb.OriginalRequest = irp;
  if (buffer) {
    srb.DataBuffer = buffer.va;
    if (srb.DataTransferLength === 0) srb.DataTransferLength = buffer.length;
  }
  const s = IoGetNextIrpStackLocation(irp);
  s.MajorFunction = IRP_MJ_SCSI;
  s.Parameters.Scsi.Srb = srb;
  IoSetCompletionRoutine(irp, SptTestCompletion, r, true, true, true);
  const returned = IoCallDriver(device, irp);
  if (typeof returned === "number") r.returned = returned;
  return r;
}

/** What a CDB is sent with. */
export interface CdbOptions {
  /** Describe the data buffer with a locked MDL (see SrbBuffer). */
  lockedBuffer?: boolean;
  /** Data-in bytes (a buffer of that size is made). */
  dataIn?: number;
  /** Data-out bytes. */
  dataOut?: Uint8Array;
  /** SRB flags besides the direction (e.g. SRB_FLAGS_NO_QUEUE_FREEZE). */
  flags?: number;
  timeout?: number;
  /** Use a STORAGE_REQUEST_BLOCK (default: the kind the adapter's miniport takes). */
  extended?: boolean;
  senseLength?: number;
}

/** Builds an SRB for `cdb` addressed to `unit`, with a data buffer when it moves data. */
export function cdbSrb(unit: RAID_UNIT_EXTENSION, cdb: number[], o: CdbOptions = {}): { srb: SRB; buffer: SrbBuffer | null; sense: SrbBuffer | null } {
  const extended = o.extended ?? unit.Adapter.ExtendedSrbs;
  const srb = newScsiSrb(extended, unit.PathId, unit.TargetId, unit.Lun);
  const bytes = new Uint8Array(16);
  bytes.set(cdb);
  SrbSetCdb(srb, bytes, cdb.length);
  srb.TimeOutValue = o.timeout ?? 10;
  const length = o.dataIn ?? o.dataOut?.length ?? 0;
  const buffer = length > 0 ? new SrbBuffer(length, "SpTb", o.lockedBuffer ?? false) : null;
  if (buffer && o.dataOut) writeBytes(buffer.va, o.dataOut);
  srb.SrbFlags = (o.flags ?? 0) | (o.dataIn ? 0x40 : o.dataOut ? 0x80 : 0);
  srb.DataTransferLength = length;
  let sense: SrbBuffer | null = null;
  const senseLength = o.senseLength ?? 18;
  if (senseLength > 0) {
    sense = new SrbBuffer(senseLength, "SpTs");
    if (srb instanceof STORAGE_REQUEST_BLOCK) {
      const d = srb.SrbExData[0] as { SenseInfoBuffer: PVOID; SenseInfoBufferLength: number };
      d.SenseInfoBuffer = sense.va;
      d.SenseInfoBufferLength = senseLength;
    } else {
      srb.SenseInfoBuffer = sense.va;
      srb.SenseInfoBufferLength = senseLength;
    }
  }
  return { srb, buffer, sense };
}

/** A CDB to `unit`, sent and waited for (PASSIVE_LEVEL); buffers are freed, data and sense returned. */
export async function sendCdb(unit: RAID_UNIT_EXTENSION, cdb: number[], o: CdbOptions = {}): Promise<{ status: NTSTATUS; information: number; srb: SRB; data: Uint8Array; sense: Uint8Array }> {
  const { srb, buffer, sense } = cdbSrb(unit, cdb, o);
  const r = submitSrb(unit.DeviceObject!, srb, buffer);
  const status = await r.wait();
  const data = buffer ? buffer.bytes(Math.min(buffer.length, srb.DataTransferLength)) : new Uint8Array(0);
  const senseBytes = sense && (srb.SrbStatus & SRB_STATUS_AUTOSENSE_VALID) !== 0 ? sense.bytes(SrbGetSenseInfoBufferLength(srb)) : new Uint8Array(0);
  buffer?.free();
  sense?.free();
  return { status, information: r.information, srb, data, sense: senseBytes };
}

/** An SRB of a non-SCSI function (RELEASE_QUEUE, LOCK_QUEUE, ...) to `unit`, sent and waited for. */
export async function sendFunction(unit: RAID_UNIT_EXTENSION, fn: number, flags = 0): Promise<{ status: NTSTATUS; srb: SRB }> {
  const srb = newScsiSrb(unit.Adapter.ExtendedSrbs, unit.PathId, unit.TargetId, unit.Lun);
  if (srb instanceof STORAGE_REQUEST_BLOCK) srb.SrbFunction = fn;
  else srb.Function = fn;
  srb.SrbFlags = flags;
  const r = submitSrb(unit.DeviceObject!, srb, null);
  return { status: await r.wait(), srb };
}

/**
 * Completes the first `n` requests the miniport holds ("never" mode) with the status their
 * execution gave them, as the miniport's own completion would (DISPATCH_LEVEL).
 */
export function completeHeld(ext: TEST_DEVICE_EXTENSION, n = ext.Held.length): SRB[] {
  const done = ext.Held.splice(0, n);
  for (const srb of done) completeRequest(ext, srb);
  return done;
}

/**
 * An I/O control request from kernel code (IoBuildDeviceIoControlRequest, METHOD_BUFFERED):
 * the status, Information and the first `outLength` bytes of output (PASSIVE_LEVEL).
 */
export async function kernelIoctl(device: DEVICE_OBJECT, code: number, input: Uint8Array, outLength: number): Promise<{ status: NTSTATUS; information: number; output: Uint8Array }> {
  const inVa = input.length > 0 ? ExAllocatePoolWithTag(POOL_TYPE.NonPagedPoolNx, input.length, "SpTi") : 0;
  if (inVa) writeBytes(inVa, input);
  const outVa = outLength > 0 ? ExAllocatePoolWithTag(POOL_TYPE.NonPagedPoolNx, outLength, "SpTi") : 0;
  if (outVa) RtlZeroMemory(outVa, outLength);
  const event = new KEVENT();
  KeInitializeEvent(event, EVENT_TYPE.NotificationEvent, false);
  const iosb = new IO_STATUS_BLOCK();
  const irp = IoBuildDeviceIoControlRequest(code, device, inVa || null, input.length, outVa || null, outLength, false, event, iosb)!;
  let status = await IoCallDriver(device, irp);
  if (status === STATUS_PENDING) {
    await KeWaitForSingleObject(event, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
    status = iosb.Status;
  }
  const output = outVa ? readBytes(outVa, outLength) : new Uint8Array(0);
  if (inVa) ExFreePoolWithTag(inVa, "SpTi");
  if (outVa) ExFreePoolWithTag(outVa, "SpTi");
  return { status, information: iosb.Information as number, output };
}

/** Runs `fn` in the machine's PnP manager (removals, stops) and waits for it. */
export async function pnpAction(machine: Machine, name: string, fn: () => Promise<unknown>): Promise<void> {
  const k = kernelOf(machine);
  await machine.exec(() => PNP(k).perform(name, async () => {
    await fn();
  }), { name });
}

/** A machine booted with a test miniport on it. */
export interface MiniportMachine {
  machine: Machine;
  miniport: TestMiniport;
  k: Kernel;
  /** The port's adapter (throws when the adapter did not start). */
  adapter(): RAID_ADAPTER_EXTENSION;
  /** Runs kernel code on a processor (PASSIVE_LEVEL unless told otherwise). */
  exec<T>(fn: () => T | Promise<T>, options?: { cpu?: number; irql?: number }): Promise<T>;
}

/** Boots the default machine (two processors) with a test miniport made from `options`. */
export async function bootWithMiniport(options: TestMiniportOptions = {}, tweaks: MachineTweaks = {}): Promise<MiniportMachine> {
  const miniport = new TestMiniport(options);
  const machine = await bootDefault(tweaks, miniport.bootOptions());
  return {
    machine, miniport, k: kernelOf(machine),
    adapter: () => adapterOfMiniport(machine, miniport),
    exec: (fn, o = {}) => machine.exec(fn, o),
  };
}

/** Outstanding pool blocks of the given tags, as "tag:bytes" (for leak checks). */
export function poolBlocks(k: Kernel, tags: string[]): string[] {
  return MM(k).pool.outstanding().filter((b) => tags.includes(b.tag)).map((b) => `${b.tag}:${b.bytes}`).sort();
}

/** Device objects of a driver that still exist. */
export function devicesOf(k: Kernel, service: string): DEVICE_OBJECT[] {
  return IO(k).devices.filter((d) => d.DriverObject.serviceName === service && !d.deleted);
}
