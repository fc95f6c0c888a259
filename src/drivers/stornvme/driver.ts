/**
 * The NVMe Storport miniport (service "stornvme"), written from the NVMe specification and
 * the Storport model as Windows' inbox NVMe driver works:
 * - HwFindAdapter maps the registers, reads CAP, gets memory for the admin queue, one I/O
 *   queue pair per processor and a data page, resets and enables the controller, identifies
 *   it and its namespaces, and tells the port its limits (transfer size, queue depth, one
 *   logical unit per namespace, message-signalled interrupts synchronised per message,
 *   full duplex);
 * - HwInitialize turns on Storport's DPC redirection, concurrent channels and message
 *   ranges, and asks for passive initialization, which creates the I/O queues with each
 *   completion queue's MSI-X message steered to the processor that submits on it;
 * - HwBuildIo translates SCSI to NVMe (translate.ts) without a lock; HwStartIo submits on
 *   the issuing processor's queue under that queue's message lock; each message's interrupt
 *   routine reaps its completion queue and completes requests to the port;
 * - a request the port times out, or a controller fatal status (checked once a second while
 *   commands are outstanding), resets the controller and resubmits what was outstanding, so
 *   each request completes once;
 * - ScsiStopAdapter shuts the controller down (CC.SHN), ScsiRestartAdapter brings it back,
 *   surprise removal stops all register access.
 */
import type { DRIVER_OBJECT } from "../../io/objects.js";
import { KE } from "../../ke/kernel.js";
import type { NTSTATUS } from "../../ke/ntstatus.js";
import { KeQueryActiveProcessorCount } from "../../ke/kernel.js";
import { PAGE_SIZE } from "../../mm/pfn.js";
import { STORAGE_BUS_TYPE } from "../storage/ntddstor.js";
import { NVME_CSTS_CFS, NVME_REG_CSTS } from "../storage/nvme.js";
import {
  SRB_FUNCTION_ABORT_COMMAND, SRB_FUNCTION_EXECUTE_SCSI, SRB_FUNCTION_FLUSH, SRB_FUNCTION_IO_CONTROL, SRB_FUNCTION_POWER,
  SRB_FUNCTION_RESET_DEVICE, SRB_FUNCTION_RESET_LOGICAL_UNIT, SRB_FUNCTION_SHUTDOWN, SRB_STATUS_BUSY, SRB_STATUS_BUS_RESET,
  SRB_STATUS_INVALID_REQUEST, SRB_STATUS_NO_DEVICE, SRB_STATUS_SUCCESS, SrbGetMiniportContext, SrbGetSrbFunction, type SRB,
} from "../storage/srb.js";
import {
  HW_INITIALIZATION_DATA, INTERRUPT_SYNCHRONIZATION_MODE, MESSAGE_INTERRUPT_INFORMATION, PERF_CONFIGURATION_DATA, SCSI_ADAPTER_CONTROL_STATUS,
  SCSI_ADAPTER_CONTROL_TYPE, SCSI_DMA64_MINIPORT_FULL64BIT_SUPPORTED, SCSI_NOTIFICATION_TYPE, SCSI_SUPPORTED_CONTROL_TYPE_LIST,
  SP_RETURN_ERROR, SP_RETURN_FOUND, SP_RETURN_NOT_FOUND, SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK, STARTIO_PERFORMANCE_PARAMETERS,
  STOR_FEATURE_DEVICE_NAME_NO_SUFFIX, STOR_FEATURE_SUPPORTS_NVME_ADAPTER, STOR_MAP_NON_READ_WRITE_BUFFERS, STOR_PERF_ADV_CONFIG_LOCALITY,
  STOR_PERF_CONCURRENT_CHANNELS, STOR_PERF_DPC_REDIRECTION, STOR_PERF_INTERRUPT_MESSAGE_RANGES, STOR_PERF_VERSION, STOR_STATUS_SUCCESS,
  STOR_SYNCHRONIZATION_MODEL, StorPortEnablePassiveInitialization, StorPortGetDeviceBase, StorPortGetMSIInfo,
  StorPortGetStartIoPerfParams, StorPortInitialize, StorPortInitializePerfOpts, StorPortInitializeTimer, StorPortNotification,
  StorPortRequestTimer, StorPortSetAdapterBusType, type PORT_CONFIGURATION_INFORMATION,
} from "../storport/index.js";
import { NVME_DEVICE_EXTENSION, NVME_SRB_EXTENSION, type NVME_QUEUE } from "./extension.js";
import {
  ADMIN_QUEUE_ENTRIES, IO_QUEUE_ENTRIES, allocateQueue, createIoQueues, disableController, enableController, identify, readCapabilities,
  readReg, shutdownController,
} from "./controller.js";
import { forgetOutstanding, lockQueue, processCompletions, submit, unlockQueue } from "./queue.js";
import { Build, translateScsi } from "./translate.js";
import { completeProtocolRequest, failProtocolRequests, startProtocolRequest } from "./protocol.js";
import { driverParameter } from "./parameters.js";
import type { UNICODE_STRING } from "../../rtl/unicode-string.js";

/** The largest transfer the driver takes, bytes (less when the controller's MDTS says so). */
export const NVME_DEFAULT_MAX_TRANSFER = 128 * 1024;
/** How often the controller's health is checked while commands are outstanding, microseconds. */
const HEALTH_CHECK_US = 1_000_000;

function complete(ext: NVME_DEVICE_EXTENSION, srb: SRB, status: number): void {
  srb.SrbStatus = status;
  StorPortNotification(SCSI_NOTIFICATION_TYPE.RequestComplete, ext, srb);
}

/** Bytes of one PRP list slot: enough entries for the largest transfer, a power of two. */
function prpListBytes(maxTransfer: number): number {
  const entries = Math.ceil(maxTransfer / PAGE_SIZE);
  let bytes = 8;
  while (bytes < entries * 8) bytes *= 2;
  return Math.min(bytes, PAGE_SIZE);
}

/** HwFindAdapter: see the file comment. */
function NVMeFindAdapter(ext: NVME_DEVICE_EXTENSION, _HwContext: unknown, _BusInformation: unknown, _ArgumentString: string, ConfigInfo: PORT_CONFIGURATION_INFORMATION, _Reserved3: { value: boolean }): number {
  const range = ConfigInfo.AccessRanges[0];
  if (!range) return SP_RETURN_NOT_FOUND;
  ext.Registers = StorPortGetDeviceBase(ext, ConfigInfo.AdapterInterfaceType, ConfigInfo.SystemIoBusNumber, range.RangeStart, range.RangeLength, !range.RangeInMemory);
  ext.RegistersLength = range.RangeLength;
  if (ext.Registers === 0) return SP_RETURN_ERROR;
  if (!readCapabilities(ext)) return SP_RETURN_NOT_FOUND;
  ext.CoalescingThreshold = driverParameter("stornvme", "InterruptCoalescingEntries", 0);
  ext.CoalescingTime = driverParameter("stornvme", "InterruptCoalescingTime", 0);

  ConfigInfo.MaximumTransferLength = NVME_DEFAULT_MAX_TRANSFER;
  ConfigInfo.NumberOfPhysicalBreaks = NVME_DEFAULT_MAX_TRANSFER / PAGE_SIZE;
  ConfigInfo.AlignmentMask = 0x3;
  ConfigInfo.ScatterGather = true;
  ConfigInfo.Master = true;
  ConfigInfo.Dma32BitAddresses = true;
  ConfigInfo.Dma64BitAddresses = SCSI_DMA64_MINIPORT_FULL64BIT_SUPPORTED;
  ConfigInfo.SynchronizationModel = STOR_SYNCHRONIZATION_MODEL.StorSynchronizeFullDuplex;
  ConfigInfo.HwMSInterruptRoutine = NVMeMSInterrupt;
  ConfigInfo.InterruptSynchronizationMode = INTERRUPT_SYNCHRONIZATION_MODE.InterruptSynchronizePerMessage;
  ConfigInfo.NumberOfBuses = 1;
  ConfigInfo.MaximumNumberOfTargets = 1;
  ConfigInfo.BusResetHoldTime = 0;

  const entries = Math.min(IO_QUEUE_ENTRIES, ext.MaxQueueEntries);
  const listBytes = prpListBytes(NVME_DEFAULT_MAX_TRANSFER);
  ext.Admin = allocateQueue(ext, 0, Math.min(ADMIN_QUEUE_ENTRIES, ext.MaxQueueEntries), 0);
  const page = allocateQueue(ext, 0, 2, 0);
  if (!ext.Admin || !page) return SP_RETURN_ERROR;
  // The second allocation's submission ring serves as the data page (4 KiB, reachable by the controller).
  ext.DataPageVa = page.SqVa;
  ext.DataPageLogical = page.SqLogical;
  const cpus = KeQueryActiveProcessorCount();
  ext.IoQueues.length = 0;
  for (let i = 0; i < cpus; i++) {
    const q = allocateQueue(ext, i + 1, entries, listBytes);
    if (!q) return SP_RETURN_ERROR;
    ext.IoQueues.push(q);
  }
  if (!disableController(ext) || !enableController(ext) || !identify(ext)) return SP_RETURN_ERROR;
  const max = ext.MaxTransfer > 0 ? Math.min(NVME_DEFAULT_MAX_TRANSFER, ext.MaxTransfer) : NVME_DEFAULT_MAX_TRANSFER;
  ConfigInfo.MaximumTransferLength = max;
  ConfigInfo.NumberOfPhysicalBreaks = max / PAGE_SIZE;
  ConfigInfo.MaximumNumberOfLogicalUnits = Math.max(1, Math.min(255, ext.Namespaces.length));
  ConfigInfo.CachesData = ext.VolatileWriteCache;
  ConfigInfo.MaxNumberOfIO = entries - 1;
  ConfigInfo.MaxIOsPerLun = entries - 1;
  ConfigInfo.InitialLunQueueDepth = entries - 1;
  StorPortSetAdapterBusType(ext, STORAGE_BUS_TYPE.BusTypeNvme);
  ext.HealthTimer = StorPortInitializeTimer(ext).TimerHandle;
  return SP_RETURN_FOUND;
}

/** HwInitialize: performance options, then passive initialization (interrupts are connected now). */
function NVMeInitialize(ext: NVME_DEVICE_EXTENSION): boolean {
  ext.InterruptsConnected = true;
  const info = new MESSAGE_INTERRUPT_INFORMATION();
  let messages = 0;
  while (StorPortGetMSIInfo(ext, messages, info) === STOR_STATUS_SUCCESS) messages++;
  ext.MessageCount = messages;
  const perf = new PERF_CONFIGURATION_DATA();
  perf.Version = STOR_PERF_VERSION;
  if (StorPortInitializePerfOpts(ext, true, perf) === STOR_STATUS_SUCCESS) {
    const supported = perf.Flags;
    perf.Flags = supported & (STOR_PERF_DPC_REDIRECTION | STOR_PERF_CONCURRENT_CHANNELS);
    perf.ConcurrentChannels = ext.IoQueues.length;
    if (messages > 1) {
      perf.Flags |= supported & (STOR_PERF_INTERRUPT_MESSAGE_RANGES | STOR_PERF_ADV_CONFIG_LOCALITY);
      perf.FirstRedirectionMessageNumber = 1;
      perf.LastRedirectionMessageNumber = messages - 1;
    }
    StorPortInitializePerfOpts(ext, false, perf);
    assignMessages(ext, perf);
  } else {
    assignMessages(ext, null);
  }
  return StorPortEnablePassiveInitialization(ext, NVMePassiveInitialize);
}

/**
 * Gives each I/O queue the message delivered to its processor (queue i serves processor i):
 * the lowest message above 0 whose targets include it, as MessageTargets reports; with a
 * single message or the line every queue shares message 0.
 */
function assignMessages(ext: NVME_DEVICE_EXTENSION, perf: PERF_CONFIGURATION_DATA | null): void {
  const targets = perf?.MessageTargets ?? null;
  ext.IoQueues.forEach((q, cpu) => {
    q.MessageId = 0;
    if (ext.MessageCount <= 1) return;
    let chosen = 1 + (cpu % (ext.MessageCount - 1));
    if (targets) {
      for (let m = 1; m < ext.MessageCount; m++) {
        if (Math.floor(targets[m].Mask / 2 ** cpu) % 2 === 1) {
          chosen = m;
          break;
        }
      }
    }
    q.MessageId = chosen;
  });
}

/** Which queues each message serves, and which queue each processor submits on. */
function mapQueues(ext: NVME_DEVICE_EXTENSION, created: number): void {
  ext.QueuesForMessage.length = 0;
  for (let m = 0; m < Math.max(1, ext.MessageCount); m++) ext.QueuesForMessage.push([]);
  ext.QueuesForMessage[0].push(ext.Admin!);
  for (let i = 0; i < created; i++) ext.QueuesForMessage[ext.IoQueues[i].MessageId].push(ext.IoQueues[i]);
  ext.IoQueueForCpu.length = 0;
  const cpus = KeQueryActiveProcessorCount();
  for (let c = 0; c < cpus; c++) ext.IoQueueForCpu.push(ext.IoQueues[c % created]);
}

/** Creates the I/O queues; true when at least one pair exists. */
function bringUpQueues(ext: NVME_DEVICE_EXTENSION): boolean {
  const wanted = ext.MessageCount > 1 ? ext.IoQueues.length : 1;
  const created = createIoQueues(ext, wanted);
  if (created === 0) return false;
  mapQueues(ext, created);
  ext.Ready = true;
  return true;
}

/** HwPassiveInitializeRoutine: the I/O queues. */
function NVMePassiveInitialize(ext: NVME_DEVICE_EXTENSION): boolean {
  return bringUpQueues(ext);
}

/** HwBuildIo: translation, no lock held. FALSE when the request was answered here. */
function NVMeBuildIo(ext: NVME_DEVICE_EXTENSION, srb: SRB): boolean {
  if (SrbGetSrbFunction(srb) !== SRB_FUNCTION_EXECUTE_SCSI) return true;
  if (ext.Removed) {
    complete(ext, srb, SRB_STATUS_NO_DEVICE);
    return false;
  }
  const x = SrbGetMiniportContext(srb) as NVME_SRB_EXTENSION;
  if (translateScsi(ext, srb, x) === Build.Done) {
    StorPortNotification(SCSI_NOTIFICATION_TYPE.RequestComplete, ext, srb);
    return false;
  }
  return true;
}

/** STARTIO_PERFORMANCE_PARAMETERS per processor, reused. */
const perfParams: STARTIO_PERFORMANCE_PARAMETERS[] = [];

/** The queue a request submits on: its channel (the issuing processor's queue). */
function queueFor(ext: NVME_DEVICE_EXTENSION, srb: SRB): NVME_QUEUE {
  const cpu = KE().cpu.Number;
  const params = (perfParams[cpu] ??= new STARTIO_PERFORMANCE_PARAMETERS());
  if (StorPortGetStartIoPerfParams(ext, srb, params) === STOR_STATUS_SUCCESS) return ext.IoQueueForCpu[params.ChannelNumber % ext.IoQueueForCpu.length];
  return ext.IoQueueForCpu[cpu % ext.IoQueueForCpu.length];
}

/** Submits an I/O request on `q`; busy when the queue has no room. */
function startCommand(ext: NVME_DEVICE_EXTENSION, q: NVME_QUEUE, srb: SRB): void {
  const x = SrbGetMiniportContext(srb) as NVME_SRB_EXTENSION;
  const irql = lockQueue(ext, q);
  let ok: boolean;
  try {
    ok = submit(ext, q, srb, x);
  } finally {
    unlockQueue(ext, q, irql);
  }
  if (!ok) return complete(ext, srb, SRB_STATUS_BUSY);
  armHealthTimer(ext);
}

/** HwStartIo. */
function NVMeStartIo(ext: NVME_DEVICE_EXTENSION, srb: SRB): boolean {
  if (ext.Removed) {
    complete(ext, srb, SRB_STATUS_NO_DEVICE);
    return true;
  }
  switch (SrbGetSrbFunction(srb)) {
    case SRB_FUNCTION_EXECUTE_SCSI:
      if (!ext.Ready || ext.Resetting) ext.Held.push(srb);
      else startCommand(ext, queueFor(ext, srb), srb);
      return true;
    case SRB_FUNCTION_IO_CONTROL:
      startProtocolRequest(ext, srb);
      return true;
    case SRB_FUNCTION_RESET_LOGICAL_UNIT:
    case SRB_FUNCTION_RESET_DEVICE:
    case SRB_FUNCTION_ABORT_COMMAND:
    case SRB_FUNCTION_FLUSH:
    case SRB_FUNCTION_SHUTDOWN:
    case SRB_FUNCTION_POWER:
      complete(ext, srb, SRB_STATUS_SUCCESS);
      return true;
    default:
      complete(ext, srb, SRB_STATUS_INVALID_REQUEST);
      return true;
  }
}

/** Reaps the queues of one message (its lock is held by the port). */
function serviceMessage(ext: NVME_DEVICE_EXTENSION, message: number): boolean {
  const queues = ext.QueuesForMessage[message];
  if (!queues || ext.Removed) return false;
  let any = false;
  for (const q of queues) {
    if (processCompletions(ext, q, completeProtocolRequest) > 0) {
      q.Interrupts++;
      any = true;
    }
  }
  return any;
}

/** HwMSInterruptRoutine: one MSI-X (or MSI) message. */
function NVMeMSInterrupt(ext: NVME_DEVICE_EXTENSION, MessageId: number): boolean {
  return serviceMessage(ext, MessageId);
}

/** HwInterrupt: the line (INTx) — every queue. */
function NVMeInterrupt(ext: NVME_DEVICE_EXTENSION): boolean {
  if (ext.Removed) return false;
  let any = false;
  for (let m = 0; m < ext.QueuesForMessage.length; m++) any = serviceMessage(ext, m) || any;
  return any;
}

/** Arms the health check while commands are outstanding. */
function armHealthTimer(ext: NVME_DEVICE_EXTENSION): void {
  if (ext.HealthTimerArmed || !ext.HealthTimer) return;
  ext.HealthTimerArmed = true;
  StorPortRequestTimer(ext, ext.HealthTimer, NVMeHealthCheck, null, HEALTH_CHECK_US, 0);
}

/** The health check: a controller fatal status resets the controller. */
function NVMeHealthCheck(ext: NVME_DEVICE_EXTENSION, _Context: unknown): void {
  ext.HealthTimerArmed = false;
  if (ext.Removed || ext.Stopped || !ext.Ready) return;
  const csts = readReg(ext, NVME_REG_CSTS);
  if (csts !== 0xFFFFFFFF && (csts & NVME_CSTS_CFS) !== 0) resetController(ext, "controller fatal status");
  if (ext.IoQueues.some((q) => q.Outstanding > 0)) armHealthTimer(ext);
}

/**
 * Resets the controller and resubmits what it had outstanding: completions already posted
 * are reaped first, the rest is taken back from the queues, the controller is disabled,
 * enabled and given its I/O queues again, and the requests go back on their queues (with
 * any that arrived meanwhile). If the controller does not come back, everything fails
 * with SRB_STATUS_BUS_RESET.
 */
export function resetController(ext: NVME_DEVICE_EXTENSION, why: string): boolean {
  const k = KE();
  k.recorder.note(k.cpu.time, `stornvme: resetting the controller (${why})`, "stornvme", "NVMeResetController", k.cpu.Number);
  ext.Resetting = true;
  ext.Resets++;
  const again: SRB[] = [];
  const protocol: SRB[] = [];
  for (const q of [ext.Admin!, ...ext.IoQueues]) {
    const irql = lockQueue(ext, q);
    try {
      if (q.Id !== 0 || !ext.ProtocolBusy) processCompletions(ext, q, completeProtocolRequest);
      forgetOutstanding(q, q.Id === 0 ? protocol : again);
    } finally {
      unlockQueue(ext, q, irql);
    }
  }
  failProtocolRequests(ext, protocol);
  const ok = disableController(ext) && enableController(ext) && bringUpQueues(ext);
  ext.Resetting = false;
  const waiting = [...again, ...ext.Held.splice(0)];
  if (!ok) {
    ext.Ready = false;
    for (const srb of waiting) complete(ext, srb, SRB_STATUS_BUS_RESET);
    return false;
  }
  for (const srb of waiting) startCommand(ext, queueFor(ext, srb), srb);
  ext.Resubmitted += again.length;
  return true;
}

/** HwResetBus: the port timed a request out; reset the controller and resubmit. */
function NVMeResetBus(ext: NVME_DEVICE_EXTENSION, _PathId: number): boolean {
  if (ext.Removed) return false;
  return resetController(ext, "a request timed out");
}

/** The adapter-control types this miniport handles. */
const SUPPORTED_CONTROLS = [
  SCSI_ADAPTER_CONTROL_TYPE.ScsiQuerySupportedControlTypes, SCSI_ADAPTER_CONTROL_TYPE.ScsiStopAdapter, SCSI_ADAPTER_CONTROL_TYPE.ScsiRestartAdapter,
  SCSI_ADAPTER_CONTROL_TYPE.ScsiSetBootConfig, SCSI_ADAPTER_CONTROL_TYPE.ScsiSetRunningConfig, SCSI_ADAPTER_CONTROL_TYPE.ScsiAdapterSurpriseRemoval,
];

/** HwAdapterControl. */
function NVMeAdapterControl(ext: NVME_DEVICE_EXTENSION, ControlType: SCSI_ADAPTER_CONTROL_TYPE, Parameters: unknown): SCSI_ADAPTER_CONTROL_STATUS {
  switch (ControlType) {
    case SCSI_ADAPTER_CONTROL_TYPE.ScsiQuerySupportedControlTypes: {
      const list = Parameters as SCSI_SUPPORTED_CONTROL_TYPE_LIST;
      for (const t of SUPPORTED_CONTROLS) if (t < list.MaxControlType) list.SupportedTypeList[t] = true;
      return SCSI_ADAPTER_CONTROL_STATUS.ScsiAdapterControlSuccess;
    }
    case SCSI_ADAPTER_CONTROL_TYPE.ScsiStopAdapter: {
      ext.Ready = false;
      ext.Stopped = true;
      const forgotten: SRB[] = [];
      for (const q of [ext.Admin!, ...ext.IoQueues]) forgetOutstanding(q, forgotten);
      failProtocolRequests(ext, []);
      ext.ShutdownComplete = !ext.Removed && shutdownController(ext);
      return SCSI_ADAPTER_CONTROL_STATUS.ScsiAdapterControlSuccess;
    }
    case SCSI_ADAPTER_CONTROL_TYPE.ScsiRestartAdapter: {
      if (ext.Removed) return SCSI_ADAPTER_CONTROL_STATUS.ScsiAdapterControlUnsuccessful;
      ext.Stopped = false;
      const ok = disableController(ext) && enableController(ext) && bringUpQueues(ext);
      for (const srb of ext.Held.splice(0)) startCommand(ext, queueFor(ext, srb), srb);
      return ok ? SCSI_ADAPTER_CONTROL_STATUS.ScsiAdapterControlSuccess : SCSI_ADAPTER_CONTROL_STATUS.ScsiAdapterControlUnsuccessful;
    }
    case SCSI_ADAPTER_CONTROL_TYPE.ScsiSetBootConfig:
    case SCSI_ADAPTER_CONTROL_TYPE.ScsiSetRunningConfig:
      return SCSI_ADAPTER_CONTROL_STATUS.ScsiAdapterControlSuccess;
    case SCSI_ADAPTER_CONTROL_TYPE.ScsiAdapterSurpriseRemoval:
      ext.Removed = true;
      ext.Ready = false;
      return SCSI_ADAPTER_CONTROL_STATUS.ScsiAdapterControlSuccess;
    default:
      return SCSI_ADAPTER_CONTROL_STATUS.ScsiAdapterControlUnsuccessful;
  }
}

/** DriverEntry: registers the miniport with the port. */
export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: UNICODE_STRING): NTSTATUS {
  const hw = new HW_INITIALIZATION_DATA();
  hw.HwFindAdapter = NVMeFindAdapter;
  hw.HwInitialize = NVMeInitialize;
  hw.HwBuildIo = NVMeBuildIo;
  hw.HwStartIo = NVMeStartIo;
  hw.HwInterrupt = NVMeInterrupt;
  hw.HwResetBus = NVMeResetBus;
  hw.HwAdapterControl = NVMeAdapterControl;
  hw.DeviceExtensionSize = NVME_DEVICE_EXTENSION;
  hw.SrbExtensionSize = NVME_SRB_EXTENSION;
  hw.NumberOfAccessRanges = 1;
  hw.MapBuffers = STOR_MAP_NON_READ_WRITE_BUFFERS;
  hw.NeedPhysicalAddresses = true;
  hw.TaggedQueuing = true;
  hw.AutoRequestSense = true;
  hw.MultipleRequestPerLu = true;
  hw.SrbTypeFlags = SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK;
  hw.FeatureSupport = STOR_FEATURE_SUPPORTS_NVME_ADAPTER | STOR_FEATURE_DEVICE_NAME_NO_SUFFIX;
  return StorPortInitialize(DriverObject, RegistryPath, hw, null);
}

