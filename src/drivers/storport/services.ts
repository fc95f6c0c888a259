/**
 * The port's services to its miniport (StorPort* routines, storport.h), each acting on the
 * adapter the miniport's device extension belongs to: notifications, DPCs and locks,
 * memory the device reaches and its logical addresses, scatter/gather lists, registers and
 * configuration space, message-signalled interrupt information and locks, performance
 * options, pausing, busy and ready, timers, logical-unit lookup and queue depth, and
 * completing outstanding requests. Out-parameters come back as return values.
 */
import { CLOCK_TICK_PS, KE } from "../../ke/kernel.js";
import { KeInitializeDpc, KeInsertQueueDpc, type KDPC } from "../../ke/dpc.js";
import { KeAcquireSpinLock, KeReleaseSpinLock } from "../../ke/spinlock.js";
import { KeAcquireInterruptSpinLock, KeReleaseInterruptSpinLock } from "../../ke/interrupt.js";
import { KeCancelTimer, KeInitializeTimer, KeSetTimer } from "../../ke/timer.js";
import { KeQuerySystemTime } from "../../ke/time.js";
import { DISPATCH_LEVEL, type KIRQL } from "../../ke/irql.js";
import { raiseTo, lowerTo } from "../../ke/level.js";
import {
  READ_REGISTER_UCHAR, READ_REGISTER_ULONG, READ_REGISTER_ULONG64, READ_REGISTER_USHORT, WRITE_REGISTER_UCHAR, WRITE_REGISTER_ULONG,
  WRITE_REGISTER_ULONG64, WRITE_REGISTER_USHORT,
} from "../../hal/registers.js";
import { KeStallExecutionProcessor, KeQueryPerformanceCounter } from "../../hal/timing.js";
import { HalGetBusDataByOffset, HalSetBusDataByOffset, type BUS_DATA_TYPE } from "../../hal/bus.js";
import { MmGetPhysicalAddress, MmMapIoSpace, MmUnmapIoSpace, MEMORY_CACHING_TYPE } from "../../mm/physical.js";
import { MmGetMdlVirtualAddress, MmGetSystemAddressForMdlSafe, MM_PAGE_PRIORITY, type MDL } from "../../mm/mdl.js";
import { RtlMoveMemory, type PVOID } from "../../mm/memory.js";
import { ExAllocatePoolWithTag, ExFreePool, POOL_TYPE, type PoolTag } from "../../mm/pool.js";
import { PAGE_SIZE } from "../../mm/pfn.js";
import { IoInvalidateDeviceRelations } from "../../pnp/requests.js";
import { DEVICE_RELATION_TYPE } from "../../pnp/minor.js";
import type { IRP } from "../../io/irp.js";
import type { SRB } from "../storage/srb.js";
import {
  MESSAGE_INTERRUPT_INFORMATION, PERF_CONFIGURATION_DATA, SCSI_NOTIFICATION_TYPE, SP_UNTAGGED, STARTIO_PERFORMANCE_PARAMETERS, STOR_DPC,
  STOR_LOCK_HANDLE, STOR_PERF_ADV_CONFIG_LOCALITY, STOR_PERF_CONCURRENT_CHANNELS, STOR_PERF_DPC_REDIRECTION, STOR_PERF_DPC_REDIRECTION_CURRENT_CPU,
  STOR_PERF_INTERRUPT_MESSAGE_RANGES, STOR_PERF_NO_SGL, STOR_PERF_OPTIMIZE_FOR_COMPLETION_DURING_STARTIO, STOR_PERF_VERSION_2,
  STOR_PERF_VERSION_3, STOR_PERF_VERSION_4, STOR_PERF_VERSION_5, STOR_SPINLOCK, STOR_STATUS_INSUFFICIENT_RESOURCES,
  STOR_STATUS_BUSY, STOR_STATUS_INVALID_IRQL, STOR_STATUS_INVALID_PARAMETER, STOR_STATUS_SUCCESS, STOR_STATUS_UNSUCCESSFUL, STOR_STATUS_UNSUPPORTED_VERSION,
  type HW_DPC_ROUTINE, type HW_PASSIVE_INITIALIZE_ROUTINE, type HW_TIMER, type HW_TIMER_EX, type PORT_CONFIGURATION_INFORMATION,
  type PROCESSOR_NUMBER, type PVOID_EXTENSION, type STOR_SCATTER_GATHER_LIST, type STOR_SYNCHRONIZED_ACCESS, type GROUP_AFFINITY,
} from "./storport.js";
import { adapterOf, AdapterState, RAID_TIMER, unitKey, type DmaRegion, type RAID_ADAPTER_EXTENSION } from "./adapter.js";
import type { RAID_UNIT_EXTENSION } from "./unit.js";
import { callMiniport, interruptLockObject, raidCompleteOutstanding, raidRequestComplete, raidStartAdapter, raidStartUnit, requestOf } from "./request.js";
import { allocateDmaMemory, freeDmaMemory } from "./dma.js";

// ---- notifications --------------------------------------------------------------------

/**
 * StorPortNotification(NotificationType, HwDeviceExtension, ...): RequestComplete (Srb),
 * NextRequest and NextLuRequest (accepted: the port is full duplex), ResetDetected
 * (PathId: new requests wait BusResetHoldTime), RequestTimerCall (HwTimer, microseconds; 0
 * cancels), BusChangeDetected (PathId: the bus is scanned again), QueryTickCount (returns
 * the tick count), and the Storport forms of EnablePassiveInitialization, InitializeDpc,
 * IssueDpc, AcquireSpinLock and ReleaseSpinLock. Returns what the routine returns, if anything.
 * The variable arguments are named (at most three are used), so a call makes no array.
 */
export function StorPortNotification(NotificationType: SCSI_NOTIFICATION_TYPE, HwDeviceExtension: PVOID_EXTENSION, Arg1?: unknown, Arg2?: unknown, Arg3?: unknown): unknown {
  const a = adapterOf(HwDeviceExtension);
  switch (NotificationType) {
    case SCSI_NOTIFICATION_TYPE.RequestComplete:
      raidRequestComplete(a, Arg1 as SRB);
      return undefined;
    case SCSI_NOTIFICATION_TYPE.NextRequest:
    case SCSI_NOTIFICATION_TYPE.NextLuRequest:
      return undefined;
    case SCSI_NOTIFICATION_TYPE.ResetDetected:
      holdAfterReset(a);
      return undefined;
    case SCSI_NOTIFICATION_TYPE.RequestTimerCall:
      requestTimerCall(a, Arg1 as HW_TIMER | null, Arg2 as number);
      return undefined;
    case SCSI_NOTIFICATION_TYPE.BusChangeDetected:
      if (a.State === AdapterState.Running) IoInvalidateDeviceRelations(a.PhysicalDeviceObject, DEVICE_RELATION_TYPE.BusRelations);
      return undefined;
    case SCSI_NOTIFICATION_TYPE.QueryTickCount:
      return Math.floor(KE().cpu.time / CLOCK_TICK_PS);
    case SCSI_NOTIFICATION_TYPE.EnablePassiveInitialization:
      return StorPortEnablePassiveInitialization(HwDeviceExtension, Arg1 as HW_PASSIVE_INITIALIZE_ROUTINE);
    case SCSI_NOTIFICATION_TYPE.InitializeDpc:
      StorPortInitializeDpc(HwDeviceExtension, Arg1 as STOR_DPC, Arg2 as HW_DPC_ROUTINE);
      return undefined;
    case SCSI_NOTIFICATION_TYPE.IssueDpc:
      return StorPortIssueDpc(HwDeviceExtension, Arg1 as STOR_DPC, Arg2, Arg3);
    case SCSI_NOTIFICATION_TYPE.AcquireSpinLock:
      StorPortAcquireSpinLock(HwDeviceExtension, Arg1 as STOR_SPINLOCK, Arg2, Arg3 as STOR_LOCK_HANDLE);
      return undefined;
    case SCSI_NOTIFICATION_TYPE.ReleaseSpinLock:
      StorPortReleaseSpinLock(HwDeviceExtension, Arg1 as STOR_LOCK_HANDLE);
      return undefined;
    default:
      // WMI, link, trace and the extended-function table notifications are accepted and have no effect here.
      return undefined;
  }
}

/** After a bus reset, the port holds new requests for BusResetHoldTime. */
function holdAfterReset(a: RAID_ADAPTER_EXTENSION): void {
  const k = KE();
  a.ResetHoldUntilPs = Math.max(a.ResetHoldUntilPs, k.cpu.time + a.ConfigInfo.BusResetHoldTime * 1e6);
  scheduleRestart(a, a.ResetHoldUntilPs);
}

/** Arms the adapter's restart timer so waiting requests start at `atPs` (pause or hold over). */
export function scheduleRestart(a: RAID_ADAPTER_EXTENSION, atPs: number): void {
  const k = KE();
  const now = k.cpu.time;
  if (atPs <= now) return;
  if (a.PauseTimer.entry && a.PauseTimer.DueTime <= atPs) return;
  KeSetTimer(a.PauseTimer, -Math.ceil((atPs - now) / 1e5), a.PauseDpc);
}

/** The restart timer's DPC: pauses and holds that ended let requests start again. */
export function RaidpAdapterRestartDpcRoutine(_Dpc: KDPC, DeferredContext: unknown, _a1: unknown, _a2: unknown): void {
  const a = DeferredContext as RAID_ADAPTER_EXTENSION;
  const now = KE().cpu.time;
  let next = Infinity;
  if (a.PausedUntilPs > now) next = Math.min(next, a.PausedUntilPs);
  if (a.ResetHoldUntilPs > now) next = Math.min(next, a.ResetHoldUntilPs);
  for (const u of a.Units.values()) if (u.PausedUntilPs > now) next = Math.min(next, u.PausedUntilPs);
  if (next !== Infinity) scheduleRestart(a, next);
  raidStartAdapter(a);
}

/** RequestTimerCall: (re)arms the miniport's single timer, `microseconds` from now; 0 cancels it. */
function requestTimerCall(a: RAID_ADAPTER_EXTENSION, routine: HW_TIMER | null, microseconds: number): void {
  KeCancelTimer(a.HwTimer);
  a.HwTimerRoutine = routine;
  if (!routine || microseconds <= 0) return;
  KeSetTimer(a.HwTimer, -Math.max(1, Math.ceil(microseconds * 10)), a.HwTimerDpc);
}

/** The RequestTimerCall DPC: calls HwTimer holding the StartIo lock. */
export function RaidpAdapterHwTimerDpcRoutine(_Dpc: KDPC, DeferredContext: unknown, _a1: unknown, _a2: unknown): void {
  const a = DeferredContext as RAID_ADAPTER_EXTENSION;
  const routine = a.HwTimerRoutine;
  if (!routine || a.State === AdapterState.Removed) return;
  a.HwTimerRoutine = null;
  const k = KE();
  const irql = KeAcquireSpinLock(a.StartIoLock);
  try {
    callMiniport(k, { driver: a.Service, routine: routine.name || "HwTimer" }, routine as (e: unknown, _: null) => void, a.HwDeviceExtension, null);
  } finally {
    KeReleaseSpinLock(a.StartIoLock, irql);
  }
}

// ---- initialization -----------------------------------------------------------------

/** StorPortEnablePassiveInitialization: from HwInitialize, asks for `HwPassiveInitializeRoutine` at PASSIVE_LEVEL afterwards. */
export function StorPortEnablePassiveInitialization(DeviceExtension: PVOID_EXTENSION, HwPassiveInitializeRoutine: HW_PASSIVE_INITIALIZE_ROUTINE): boolean {
  const a = adapterOf(DeviceExtension);
  if (!a.Initializing || typeof HwPassiveInitializeRoutine !== "function") return false;
  a.PassiveInitialize = HwPassiveInitializeRoutine;
  return true;
}

// ---- DPCs and locks ---------------------------------------------------------------------

/** StorPortInitializeDpc: `Dpc` will call `HwDpcRoutine(Dpc, HwDeviceExtension, a1, a2)` at DISPATCH_LEVEL. */
export function StorPortInitializeDpc(DeviceExtension: PVOID_EXTENSION, Dpc: STOR_DPC, HwDpcRoutine: HW_DPC_ROUTINE): void {
  const a = adapterOf(DeviceExtension);
  // The kernel DPC calls the miniport's routine, and traces show the routine's own name.
  const name = HwDpcRoutine.name || "HwDpcRoutine";
  const routine = { [name]: (_k: KDPC, _c: unknown, a1: unknown, a2: unknown) => HwDpcRoutine(Dpc, a.HwDeviceExtension, a1, a2) }[name];
  KeInitializeDpc(Dpc.Dpc, routine, null);
}

/** StorPortIssueDpc: queues the miniport DPC on this processor; FALSE when it was already queued. */
export function StorPortIssueDpc(DeviceExtension: PVOID_EXTENSION, Dpc: STOR_DPC, SystemArgument1: unknown, SystemArgument2: unknown): boolean {
  adapterOf(DeviceExtension);
  return KeInsertQueueDpc(Dpc.Dpc, SystemArgument1, SystemArgument2);
}

/**
 * StorPortAcquireSpinLock: DpcLock (LockContext: the STOR_DPC) and StartIoLock raise to
 * DISPATCH_LEVEL, InterruptLock to the interrupt's IRQL; the handle keeps what to release.
 */
export function StorPortAcquireSpinLock(DeviceExtension: PVOID_EXTENSION, SpinLock: STOR_SPINLOCK, LockContext: unknown, LockHandle: STOR_LOCK_HANDLE): void {
  const a = adapterOf(DeviceExtension);
  LockHandle.Lock = SpinLock;
  LockHandle.Context = LockContext;
  switch (SpinLock) {
    case STOR_SPINLOCK.DpcLock:
      LockHandle.OldIrql = KeAcquireSpinLock((LockContext as STOR_DPC).Lock);
      return;
    case STOR_SPINLOCK.StartIoLock:
      LockHandle.OldIrql = KeAcquireSpinLock(a.StartIoLock);
      return;
    case STOR_SPINLOCK.InterruptLock: {
      const i = interruptLockObject(a);
      LockHandle.Context = i;
      LockHandle.OldIrql = i ? KeAcquireInterruptSpinLock(i) : raiseTo(KE(), DISPATCH_LEVEL);
      return;
    }
    default:
      throw new Error(`StorPortAcquireSpinLock: ${SpinLock} is not a STOR_SPINLOCK`);
  }
}

/** StorPortReleaseSpinLock: releases what the handle's acquisition took and returns to its IRQL. */
export function StorPortReleaseSpinLock(DeviceExtension: PVOID_EXTENSION, LockHandle: STOR_LOCK_HANDLE): void {
  const a = adapterOf(DeviceExtension);
  switch (LockHandle.Lock) {
    case STOR_SPINLOCK.DpcLock:
      KeReleaseSpinLock((LockHandle.Context as STOR_DPC).Lock, LockHandle.OldIrql);
      return;
    case STOR_SPINLOCK.StartIoLock:
      KeReleaseSpinLock(a.StartIoLock, LockHandle.OldIrql);
      return;
    case STOR_SPINLOCK.InterruptLock: {
      const i = LockHandle.Context as ReturnType<typeof interruptLockObject>;
      if (i) KeReleaseInterruptSpinLock(i, LockHandle.OldIrql);
      else lowerTo(KE(), KE().cpu, LockHandle.OldIrql);
      return;
    }
  }
}

/** The interrupt object of message `MessageId`, or null. */
function messageObject(a: RAID_ADAPTER_EXTENSION, MessageId: number) {
  return a.MessageTable?.MessageInfo[MessageId]?.InterruptObject ?? (MessageId === 0 ? a.LineInterrupt : null);
}

/** StorPortAcquireMSISpinLock: takes message `MessageId`'s interrupt lock; returns the old IRQL. */
export function StorPortAcquireMSISpinLock(HwDeviceExtension: PVOID_EXTENSION, MessageId: number): KIRQL {
  const i = messageObject(adapterOf(HwDeviceExtension), MessageId);
  if (!i) throw new Error(`StorPortAcquireMSISpinLock: the adapter has no message ${MessageId}`);
  return KeAcquireInterruptSpinLock(i);
}

/** StorPortReleaseMSISpinLock. */
export function StorPortReleaseMSISpinLock(HwDeviceExtension: PVOID_EXTENSION, MessageId: number, OldIrql: KIRQL): void {
  const i = messageObject(adapterOf(HwDeviceExtension), MessageId);
  if (!i) throw new Error(`StorPortReleaseMSISpinLock: the adapter has no message ${MessageId}`);
  KeReleaseInterruptSpinLock(i, OldIrql);
}

/** StorPortSynchronizeAccess: calls `SynchronizedAccessRoutine(ext, Context)` holding the interrupt lock. */
export function StorPortSynchronizeAccess(HwDeviceExtension: PVOID_EXTENSION, SynchronizedAccessRoutine: STOR_SYNCHRONIZED_ACCESS, Context: unknown): boolean {
  const a = adapterOf(HwDeviceExtension);
  const handle = new STOR_LOCK_HANDLE();
  StorPortAcquireSpinLock(HwDeviceExtension, STOR_SPINLOCK.InterruptLock, null, handle);
  try {
    return SynchronizedAccessRoutine(a.HwDeviceExtension, Context);
  } finally {
    StorPortReleaseSpinLock(HwDeviceExtension, handle);
  }
}

// ---- interrupts and performance options -------------------------------------------------

/** StorPortGetMSIInfo: message `MessageId`'s address, data, vector and level. */
export function StorPortGetMSIInfo(HwDeviceExtension: PVOID_EXTENSION, MessageId: number, InterruptInfo: MESSAGE_INTERRUPT_INFORMATION): number {
  const a = adapterOf(HwDeviceExtension);
  const m = a.MessageTable?.MessageInfo[MessageId];
  if (!m) return STOR_STATUS_INVALID_PARAMETER;
  InterruptInfo.MessageId = MessageId;
  InterruptInfo.MessageData = m.MessageData;
  InterruptInfo.MessageAddress = m.MessageAddress;
  InterruptInfo.InterruptVector = m.Vector;
  InterruptInfo.InterruptLevel = m.Irql;
  InterruptInfo.InterruptMode = m.Mode;
  return STOR_STATUS_SUCCESS;
}

/** The optimisations each PERF_CONFIGURATION_DATA version may name. */
function perfFlagsFor(version: number): number {
  let f = STOR_PERF_DPC_REDIRECTION | STOR_PERF_CONCURRENT_CHANNELS;
  if (version >= STOR_PERF_VERSION_2) f |= STOR_PERF_INTERRUPT_MESSAGE_RANGES;
  if (version >= STOR_PERF_VERSION_3) f |= STOR_PERF_ADV_CONFIG_LOCALITY | STOR_PERF_OPTIMIZE_FOR_COMPLETION_DURING_STARTIO;
  if (version >= STOR_PERF_VERSION_4) f |= STOR_PERF_DPC_REDIRECTION_CURRENT_CPU;
  if (version >= STOR_PERF_VERSION_5) f |= STOR_PERF_NO_SGL;
  return f;
}

/**
 * StorPortInitializePerfOpts: with Query, fills Flags with what the port supports for the
 * structure's version; otherwise turns on the optimisations in Flags. Only from HwInitialize
 * or the passive initialization routine (else STOR_STATUS_UNSUCCESSFUL); a flag the version
 * does not know is STOR_STATUS_UNSUCCESSFUL, a version above the port's STOR_STATUS_UNSUPPORTED_VERSION.
 */
export function StorPortInitializePerfOpts(HwDeviceExtension: PVOID_EXTENSION, Query: boolean, PerfConfigData: PERF_CONFIGURATION_DATA): number {
  const a = adapterOf(HwDeviceExtension);
  if (!PerfConfigData) return STOR_STATUS_INVALID_PARAMETER;
  if (PerfConfigData.Version < STOR_PERF_VERSION_2 - 1 || PerfConfigData.Version > STOR_PERF_VERSION_5) return STOR_STATUS_UNSUPPORTED_VERSION;
  const supported = perfFlagsFor(PerfConfigData.Version);
  if (Query) {
    PerfConfigData.Flags = supported;
    return STOR_STATUS_SUCCESS;
  }
  if (!a.Initializing) return STOR_STATUS_UNSUCCESSFUL;
  const f = PerfConfigData.Flags;
  if ((f & ~supported) !== 0) return STOR_STATUS_UNSUCCESSFUL;
  const needsRedirection = STOR_PERF_INTERRUPT_MESSAGE_RANGES | STOR_PERF_ADV_CONFIG_LOCALITY | STOR_PERF_OPTIMIZE_FOR_COMPLETION_DURING_STARTIO | STOR_PERF_DPC_REDIRECTION_CURRENT_CPU;
  if ((f & needsRedirection) !== 0 && (f & STOR_PERF_DPC_REDIRECTION) === 0) return STOR_STATUS_UNSUCCESSFUL;
  // Locality is reported per redirection message: it needs the message ranges as well.
  if ((f & STOR_PERF_ADV_CONFIG_LOCALITY) !== 0 && (f & STOR_PERF_INTERRUPT_MESSAGE_RANGES) === 0) return STOR_STATUS_UNSUCCESSFUL;
  const messages = a.MessageTable?.MessageCount ?? 0;
  if ((f & STOR_PERF_INTERRUPT_MESSAGE_RANGES) !== 0
    && (PerfConfigData.FirstRedirectionMessageNumber > PerfConfigData.LastRedirectionMessageNumber || PerfConfigData.LastRedirectionMessageNumber >= Math.max(messages, 1))) {
    return STOR_STATUS_INVALID_PARAMETER;
  }
  if ((f & STOR_PERF_CONCURRENT_CHANNELS) !== 0 && PerfConfigData.ConcurrentChannels === 0) return STOR_STATUS_INVALID_PARAMETER;
  const kept = new PERF_CONFIGURATION_DATA();
  Object.assign(kept, PerfConfigData);
  if ((f & STOR_PERF_ADV_CONFIG_LOCALITY) !== 0 && a.MessageTable) {
    // The port reports where each message is delivered.
    const targets: GROUP_AFFINITY[] = a.MessageTable.MessageInfo.map((m) => ({ Mask: m.TargetProcessorSet, Group: 0 }));
    PerfConfigData.MessageTargets = targets;
    kept.MessageTargets = targets;
  }
  a.PerfOpts = kept;
  return STOR_STATUS_SUCCESS;
}

/** Bytes of STARTIO_PERFORMANCE_PARAMETERS: Version, Size, MessageNumber, ChannelNumber. */
const STARTIO_PERFORMANCE_PARAMETERS_SIZE = 16;

/**
 * StorPortGetStartIoPerfParams: for a request in HwStartIo, the message its completion should
 * use (the redirection-range message delivered to the processor that issued it; 0 without
 * message ranges) and its channel (the processor's number modulo ConcurrentChannels; 0 without
 * concurrent channels). STOR_STATUS_INVALID_PARAMETER for an SRB the port did not send or a
 * structure too small for the answer.
 */
export function StorPortGetStartIoPerfParams(HwDeviceExtension: PVOID_EXTENSION, Srb: SRB, StartIoPerfParams: STARTIO_PERFORMANCE_PARAMETERS): number {
  const a = adapterOf(HwDeviceExtension);
  if (!Srb || !StartIoPerfParams || StartIoPerfParams.Size < STARTIO_PERFORMANCE_PARAMETERS_SIZE) return STOR_STATUS_INVALID_PARAMETER;
  const r = requestOf(Srb);
  if (!r || r.Adapter !== a) return STOR_STATUS_INVALID_PARAMETER;
  const p = a.PerfOpts;
  if (!p) {
    StartIoPerfParams.MessageNumber = 0;
    StartIoPerfParams.ChannelNumber = 0;
    return STOR_STATUS_SUCCESS;
  }
  const cpu = r.Cpu;
  let message = 0;
  if ((p.Flags & STOR_PERF_INTERRUPT_MESSAGE_RANGES) !== 0 && a.MessageTable) {
    const first = p.FirstRedirectionMessageNumber;
    const last = p.LastRedirectionMessageNumber;
    message = first + (cpu % (last - first + 1));
    for (let m = first; m <= last; m++) {
      const target = a.MessageTable.MessageInfo[m]?.TargetProcessorSet ?? 0;
      if (Math.floor(target / 2 ** cpu) % 2 === 1) {
        message = m;
        break;
      }
    }
  }
  StartIoPerfParams.MessageNumber = message;
  StartIoPerfParams.ChannelNumber = (p.Flags & STOR_PERF_CONCURRENT_CHANNELS) !== 0 ? cpu % p.ConcurrentChannels : 0;
  return STOR_STATUS_SUCCESS;
}

// ---- memory and addresses -----------------------------------------------------------------

/**
 * StorPortGetUncachedExtension: `NumberOfBytes` of memory the adapter's DMA reaches (a common
 * buffer), allocated from HwFindAdapter only; its logical address comes from
 * StorPortGetPhysicalAddress. One per adapter: once allocated, every call returns it. 0 when
 * it cannot be had.
 */
export function StorPortGetUncachedExtension(HwDeviceExtension: PVOID_EXTENSION, ConfigInfo: PORT_CONFIGURATION_INFORMATION, NumberOfBytes: number): PVOID {
  const a = adapterOf(HwDeviceExtension);
  if (a.UncachedExtension) return a.UncachedExtension.va;
  if (!a.FindingAdapter || ConfigInfo !== a.ConfigInfo || NumberOfBytes <= 0) return 0;
  const region = allocateDmaMemory(a, NumberOfBytes);
  if (!region) return 0;
  a.UncachedExtension = region;
  return region.va;
}

/**
 * StorPortAllocateContiguousMemorySpecifyCacheNode: physically contiguous memory the
 * adapter's DMA reaches (PASSIVE_LEVEL). Returns STOR_STATUS and the buffer.
 */
export function StorPortAllocateContiguousMemorySpecifyCacheNode(HwDeviceExtension: PVOID_EXTENSION, NumberOfBytes: number, _LowestAcceptableAddress: number, _HighestAcceptableAddress: number, _BoundaryAddressMultiple: number, _CacheType: MEMORY_CACHING_TYPE, _PreferredNode: number): { status: number; BufferPointer: PVOID } {
  const a = adapterOf(HwDeviceExtension);
  if (NumberOfBytes <= 0) return { status: STOR_STATUS_INVALID_PARAMETER, BufferPointer: 0 };
  const region = allocateDmaMemory(a, NumberOfBytes);
  return region ? { status: STOR_STATUS_SUCCESS, BufferPointer: region.va } : { status: STOR_STATUS_INSUFFICIENT_RESOURCES, BufferPointer: 0 };
}

/** StorPortFreeContiguousMemorySpecifyCache. */
export function StorPortFreeContiguousMemorySpecifyCache(HwDeviceExtension: PVOID_EXTENSION, BaseAddress: PVOID, _NumberOfBytes: number, _CacheType: MEMORY_CACHING_TYPE): number {
  const a = adapterOf(HwDeviceExtension);
  return freeDmaMemory(a, BaseAddress) ? STOR_STATUS_SUCCESS : STOR_STATUS_INVALID_PARAMETER;
}

/** The device-reachable region holding `va`, or null. */
function regionOf(a: RAID_ADAPTER_EXTENSION, va: PVOID): DmaRegion | null {
  for (const r of a.DmaRegions) if (va >= r.va && va < r.va + r.length) return r;
  return null;
}

/**
 * StorPortGetPhysicalAddress: the logical address the adapter uses for `VirtualAddress` and
 * how many bytes are contiguous from there — in memory the port gave the miniport (uncached
 * extension, contiguous memory, SRB extensions) or, with `Srb`, in its data buffer (from the
 * request's scatter/gather list).
 */
export function StorPortGetPhysicalAddress(HwDeviceExtension: PVOID_EXTENSION, Srb: SRB | null, VirtualAddress: PVOID): { PhysicalAddress: number; Length: number } {
  const a = adapterOf(HwDeviceExtension);
  const region = regionOf(a, VirtualAddress);
  if (region) return { PhysicalAddress: region.logical + (VirtualAddress - region.va), Length: region.va + region.length - VirtualAddress };
  const r = Srb ? requestOf(Srb) : null;
  if (r && Srb) {
    const base = Srb.DataBuffer;
    let offset = VirtualAddress - base;
    if (offset >= 0 && offset < Srb.DataTransferLength) {
      const list = r.SgList;
      for (let i = 0; i < list.NumberOfElements; i++) {
        const e = list.List[i];
        if (offset < e.Length) return { PhysicalAddress: e.PhysicalAddress + offset, Length: e.Length - offset };
        offset -= e.Length;
      }
    }
  }
  return { PhysicalAddress: MmGetPhysicalAddress(VirtualAddress), Length: PAGE_SIZE - (VirtualAddress % PAGE_SIZE) };
}

/** StorPortGetScatterGatherList: the request's logical ranges (null when it moves no data or has no list). */
export function StorPortGetScatterGatherList(DeviceExtension: PVOID_EXTENSION, Srb: SRB): STOR_SCATTER_GATHER_LIST | null {
  const a = adapterOf(DeviceExtension);
  const r = requestOf(Srb);
  if (!r || r.Adapter !== a || !r.HalSgList || (a.PerfOpts && (a.PerfOpts.Flags & STOR_PERF_NO_SGL) !== 0)) return null;
  return r.SgList;
}

/** StorPortGetSystemAddress: a system address of the SRB's data buffer; STOR_STATUS and the address. */
export function StorPortGetSystemAddress(HwDeviceExtension: PVOID_EXTENSION, Srb: SRB): { status: number; SystemAddress: PVOID } {
  adapterOf(HwDeviceExtension);
  const irp = Srb.OriginalRequest as IRP | null;
  const mdl = irp?.MdlAddress as MDL | null;
  if (!mdl) return { status: STOR_STATUS_INVALID_PARAMETER, SystemAddress: 0 };
  const r = requestOf(Srb);
  const va = r ? r.OriginalDataBuffer : Srb.DataBuffer;
  const system = MmGetSystemAddressForMdlSafe(mdl, MM_PAGE_PRIORITY.NormalPagePriority);
  if (system === 0) return { status: STOR_STATUS_INSUFFICIENT_RESOURCES, SystemAddress: 0 };
  return { status: STOR_STATUS_SUCCESS, SystemAddress: system + (va - MmGetMdlVirtualAddress(mdl)) };
}

/** StorPortAllocatePool: nonpaged pool; STOR_STATUS and the buffer. */
export function StorPortAllocatePool(HwDeviceExtension: PVOID_EXTENSION, NumberOfBytes: number, Tag: PoolTag): { status: number; BufferPointer: PVOID } {
  adapterOf(HwDeviceExtension);
  const p = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPoolNx, NumberOfBytes, Tag);
  return p ? { status: STOR_STATUS_SUCCESS, BufferPointer: p } : { status: STOR_STATUS_INSUFFICIENT_RESOURCES, BufferPointer: 0 };
}

/** StorPortFreePool. */
export function StorPortFreePool(HwDeviceExtension: PVOID_EXTENSION, BufferPointer: PVOID): number {
  adapterOf(HwDeviceExtension);
  ExFreePool(BufferPointer);
  return STOR_STATUS_SUCCESS;
}

/** StorPortMoveMemory(WriteBuffer, ReadBuffer, Length). */
export function StorPortMoveMemory(WriteBuffer: PVOID, ReadBuffer: PVOID, Length: number): void {
  RtlMoveMemory(WriteBuffer, ReadBuffer, Length);
}

// ---- registers and configuration space -----------------------------------------------------

/**
 * StorPortGetDeviceBase: maps `NumberOfBytes` of an access range of the adapter at
 * `IoAddress` into system space; 0 for a range the adapter was not given or I/O space.
 */
export function StorPortGetDeviceBase(HwDeviceExtension: PVOID_EXTENSION, _BusType: number, _SystemIoBusNumber: number, IoAddress: number, NumberOfBytes: number, InIoSpace: boolean): PVOID {
  const a = adapterOf(HwDeviceExtension);
  if (InIoSpace) return 0;
  const inside = a.ConfigInfo.AccessRanges.some((r) => r.RangeInMemory && IoAddress >= r.RangeStart && IoAddress + NumberOfBytes <= r.RangeStart + r.RangeLength);
  if (!inside) return 0;
  const va = MmMapIoSpace(IoAddress, NumberOfBytes, MEMORY_CACHING_TYPE.MmNonCached);
  if (va !== 0) a.MappedAddresses.push({ va, physical: IoAddress, length: NumberOfBytes });
  return va;
}

/** StorPortFreeDeviceBase. */
export function StorPortFreeDeviceBase(HwDeviceExtension: PVOID_EXTENSION, MappedAddress: PVOID): void {
  const a = adapterOf(HwDeviceExtension);
  const i = a.MappedAddresses.findIndex((m) => m.va === MappedAddress);
  if (i < 0) return;
  MmUnmapIoSpace(MappedAddress, a.MappedAddresses[i].length);
  a.MappedAddresses.splice(i, 1);
}

/** StorPortReadRegisterUchar / Ushort / Ulong / Ulong64 and the matching writes (the extension is not used). */
export function StorPortReadRegisterUchar(_HwDeviceExtension: PVOID_EXTENSION, Register: PVOID): number { return READ_REGISTER_UCHAR(Register); }
export function StorPortReadRegisterUshort(_HwDeviceExtension: PVOID_EXTENSION, Register: PVOID): number { return READ_REGISTER_USHORT(Register); }
export function StorPortReadRegisterUlong(_HwDeviceExtension: PVOID_EXTENSION, Register: PVOID): number { return READ_REGISTER_ULONG(Register); }
export function StorPortReadRegisterUlong64(_HwDeviceExtension: PVOID_EXTENSION, Register: PVOID): bigint { return READ_REGISTER_ULONG64(Register); }
export function StorPortWriteRegisterUchar(_HwDeviceExtension: PVOID_EXTENSION, Register: PVOID, Value: number): void { WRITE_REGISTER_UCHAR(Register, Value); }
export function StorPortWriteRegisterUshort(_HwDeviceExtension: PVOID_EXTENSION, Register: PVOID, Value: number): void { WRITE_REGISTER_USHORT(Register, Value); }
export function StorPortWriteRegisterUlong(_HwDeviceExtension: PVOID_EXTENSION, Register: PVOID, Value: number): void { WRITE_REGISTER_ULONG(Register, Value); }
export function StorPortWriteRegisterUlong64(_HwDeviceExtension: PVOID_EXTENSION, Register: PVOID, Value: bigint | number): void { WRITE_REGISTER_ULONG64(Register, Value); }

/** StorPortGetBusData: `Length` bytes of the adapter's configuration space from offset 0; returns the bytes read. */
export function StorPortGetBusData(HwDeviceExtension: PVOID_EXTENSION, BusDataType: BUS_DATA_TYPE, SystemIoBusNumber: number, SlotNumber: number, Buffer: Uint8Array, Length: number): number {
  adapterOf(HwDeviceExtension);
  return HalGetBusDataByOffset(BusDataType, SystemIoBusNumber, SlotNumber, Buffer, 0, Length);
}

/** StorPortSetBusDataByOffset: writes configuration space; returns the bytes written. */
export function StorPortSetBusDataByOffset(HwDeviceExtension: PVOID_EXTENSION, BusDataType: BUS_DATA_TYPE, SystemIoBusNumber: number, SlotNumber: number, Buffer: Uint8Array, Offset: number, Length: number): number {
  adapterOf(HwDeviceExtension);
  return HalSetBusDataByOffset(BusDataType, SystemIoBusNumber, SlotNumber, Buffer, Offset, Length);
}

// ---- time ----------------------------------------------------------------------------------

/** StorPortStallExecution: busy-waits `Delay` microseconds. */
export function StorPortStallExecution(Delay: number): void {
  KeStallExecutionProcessor(Delay);
}

/** StorPortQuerySystemTime: system time, 100 ns units. */
export function StorPortQuerySystemTime(): number {
  return KeQuerySystemTime();
}

/** StorPortQueryPerformanceCounter: STOR_STATUS, the counter and its frequency (Hz). */
export function StorPortQueryPerformanceCounter(HwDeviceExtension: PVOID_EXTENSION): { status: number; PerformanceCounter: number; PerformanceFrequency: number } {
  adapterOf(HwDeviceExtension);
  const c = KeQueryPerformanceCounter();
  return { status: STOR_STATUS_SUCCESS, PerformanceCounter: c.QuadPart, PerformanceFrequency: c.PerformanceFrequency };
}

/** StorPortGetCurrentProcessorNumber: STOR_STATUS and the executing processor. */
export function StorPortGetCurrentProcessorNumber(HwDeviceExtension: PVOID_EXTENSION): { status: number; ProcNumber: PROCESSOR_NUMBER } {
  adapterOf(HwDeviceExtension);
  return { status: STOR_STATUS_SUCCESS, ProcNumber: { Group: 0, Number: KE().cpu.Number } };
}

/** StorPortInitializeTimer: a timer for StorPortRequestTimer; STOR_STATUS (STOR_STATUS_INVALID_IRQL above DISPATCH_LEVEL) and its handle. */
export function StorPortInitializeTimer(HwDeviceExtension: PVOID_EXTENSION): { status: number; TimerHandle: RAID_TIMER | null } {
  const a = adapterOf(HwDeviceExtension);
  if (KE().cpu.irql > DISPATCH_LEVEL) return { status: STOR_STATUS_INVALID_IRQL, TimerHandle: null };
  const t = new RAID_TIMER();
  KeInitializeTimer(t.Timer);
  KeInitializeDpc(t.Dpc, function RaidpTimerDpcRoutine() {
    const cb = t.callback;
    if (!cb || t.freed || a.State === AdapterState.Removed) return;
    t.callback = null;
    callMiniport(KE(), { driver: a.Service, routine: cb.name || "HwTimerEx" }, cb, a.HwDeviceExtension, t.context);
  }, null);
  a.Timers.push(t);
  return { status: STOR_STATUS_SUCCESS, TimerHandle: t };
}

/**
 * StorPortRequestTimer: calls `TimerCallback(ext, CallbackContext)` at DISPATCH_LEVEL after
 * `TimerValue` microseconds; 0 cancels a pending request. STOR_STATUS_BUSY while an earlier
 * request has not fired yet, STOR_STATUS_INVALID_PARAMETER for no callback or an invalid
 * (freed) timer.
 */
export function StorPortRequestTimer(HwDeviceExtension: PVOID_EXTENSION, TimerHandle: RAID_TIMER, TimerCallback: HW_TIMER_EX | null, CallbackContext: unknown, TimerValue: number, _TolerableDelay: number): number {
  adapterOf(HwDeviceExtension);
  if (!TimerHandle || TimerHandle.freed || !TimerCallback) return STOR_STATUS_INVALID_PARAMETER;
  if (TimerValue <= 0) {
    KeCancelTimer(TimerHandle.Timer);
    TimerHandle.callback = null;
    return STOR_STATUS_SUCCESS;
  }
  if (TimerHandle.callback) return STOR_STATUS_BUSY;
  TimerHandle.callback = TimerCallback;
  TimerHandle.context = CallbackContext;
  KeSetTimer(TimerHandle.Timer, -Math.max(1, Math.ceil(TimerValue * 10)), TimerHandle.Dpc);
  return STOR_STATUS_SUCCESS;
}

/** StorPortFreeTimer: STOR_STATUS_UNSUCCESSFUL when the timer is already free; a pending callback never runs. */
export function StorPortFreeTimer(HwDeviceExtension: PVOID_EXTENSION, TimerHandle: RAID_TIMER): number {
  const a = adapterOf(HwDeviceExtension);
  if (!TimerHandle) return STOR_STATUS_INVALID_PARAMETER;
  if (TimerHandle.freed) return STOR_STATUS_UNSUCCESSFUL;
  KeCancelTimer(TimerHandle.Timer);
  TimerHandle.freed = true;
  a.Timers.splice(a.Timers.indexOf(TimerHandle), 1);
  return STOR_STATUS_SUCCESS;
}

// ---- flow control ----------------------------------------------------------------------------

/** StorPortPause: no new requests reach the miniport for `TimeOut` seconds or until StorPortResume. */
export function StorPortPause(HwDeviceExtension: PVOID_EXTENSION, TimeOut: number): boolean {
  const a = adapterOf(HwDeviceExtension);
  a.PausedUntilPs = KE().cpu.time + TimeOut * 1e12;
  scheduleRestart(a, a.PausedUntilPs);
  return true;
}

/** StorPortResume: ends a pause; waiting requests start. */
export function StorPortResume(HwDeviceExtension: PVOID_EXTENSION): boolean {
  const a = adapterOf(HwDeviceExtension);
  a.PausedUntilPs = 0;
  raidStartAdapter(a);
  return true;
}

/**
 * StorPortBusy: the adapter takes no new request until `RequestsToComplete` of its outstanding
 * requests complete (all of them when it has fewer), or StorPortReady.
 */
export function StorPortBusy(HwDeviceExtension: PVOID_EXTENSION, RequestsToComplete: number): boolean {
  const a = adapterOf(HwDeviceExtension);
  a.BusyRequestsToComplete = Math.min(Math.max(1, RequestsToComplete), a.Outstanding);
  return true;
}

/** StorPortReady: the adapter takes requests again. */
export function StorPortReady(HwDeviceExtension: PVOID_EXTENSION): boolean {
  const a = adapterOf(HwDeviceExtension);
  a.BusyRequestsToComplete = 0;
  raidStartAdapter(a);
  return true;
}

/** The unit at an address, or null. */
function unitAt(a: RAID_ADAPTER_EXTENSION, PathId: number, TargetId: number, Lun: number): RAID_UNIT_EXTENSION | null {
  return a.Units.get(unitKey(PathId, TargetId, Lun)) ?? null;
}

/** StorPortPauseDevice: the unit takes no new request for `TimeOut` seconds or until StorPortResumeDevice. */
export function StorPortPauseDevice(HwDeviceExtension: PVOID_EXTENSION, PathId: number, TargetId: number, Lun: number, TimeOut: number): boolean {
  const a = adapterOf(HwDeviceExtension);
  const u = unitAt(a, PathId, TargetId, Lun);
  if (!u) return false;
  u.PausedUntilPs = KE().cpu.time + TimeOut * 1e12;
  scheduleRestart(a, u.PausedUntilPs);
  return true;
}

/** StorPortResumeDevice. */
export function StorPortResumeDevice(HwDeviceExtension: PVOID_EXTENSION, PathId: number, TargetId: number, Lun: number): boolean {
  const u = unitAt(adapterOf(HwDeviceExtension), PathId, TargetId, Lun);
  if (!u) return false;
  u.PausedUntilPs = 0;
  raidStartUnit(u);
  return true;
}

/**
 * StorPortDeviceBusy: the unit takes no new request until `RequestsToComplete` of its
 * outstanding requests complete (all of them when it has fewer), or StorPortDeviceReady.
 */
export function StorPortDeviceBusy(HwDeviceExtension: PVOID_EXTENSION, PathId: number, TargetId: number, Lun: number, RequestsToComplete: number): boolean {
  const u = unitAt(adapterOf(HwDeviceExtension), PathId, TargetId, Lun);
  if (!u) return false;
  u.BusyRequestsToComplete = Math.min(Math.max(1, RequestsToComplete), u.Outstanding);
  return true;
}

/** StorPortDeviceReady. */
export function StorPortDeviceReady(HwDeviceExtension: PVOID_EXTENSION, PathId: number, TargetId: number, Lun: number): boolean {
  const u = unitAt(adapterOf(HwDeviceExtension), PathId, TargetId, Lun);
  if (!u) return false;
  u.BusyRequestsToComplete = 0;
  raidStartUnit(u);
  return true;
}

// ---- logical units -----------------------------------------------------------------------------

/** StorPortGetLogicalUnit: the unit's miniport extension (SpecificLuExtensionSize), or null. */
export function StorPortGetLogicalUnit(HwDeviceExtension: PVOID_EXTENSION, PathId: number, TargetId: number, Lun: number): PVOID_EXTENSION | null {
  return unitAt(adapterOf(HwDeviceExtension), PathId, TargetId, Lun)?.LuExtension ?? null;
}

/** StorPortSetDeviceQueueDepth: the unit's queue depth (1..MaxIOsPerLun); FALSE for no such unit or a bad depth. */
export function StorPortSetDeviceQueueDepth(HwDeviceExtension: PVOID_EXTENSION, PathId: number, TargetId: number, Lun: number, Depth: number): boolean {
  const a = adapterOf(HwDeviceExtension);
  const u = unitAt(a, PathId, TargetId, Lun);
  const most = a.ConfigInfo.MaxIOsPerLun > 0 ? a.ConfigInfo.MaxIOsPerLun : 255;
  if (!u || !Number.isInteger(Depth) || Depth < 1 || Depth > most) return false;
  u.QueueDepth = Depth;
  raidStartUnit(u);
  return true;
}

/**
 * StorPortCompleteRequest: completes every request the miniport has outstanding on the
 * matching units (SP_UNTAGGED in an address field matches all) with `SrbStatus`.
 */
export function StorPortCompleteRequest(HwDeviceExtension: PVOID_EXTENSION, PathId: number, TargetId: number, Lun: number, SrbStatus: number): void {
  const a = adapterOf(HwDeviceExtension);
  const match = (u: RAID_UNIT_EXTENSION) => (PathId === SP_UNTAGGED || u.PathId === PathId) && (TargetId === SP_UNTAGGED || u.TargetId === TargetId) && (Lun === SP_UNTAGGED || u.Lun === Lun);
  const k = KE();
  const old = k.cpu.irql < DISPATCH_LEVEL ? raiseTo(k, DISPATCH_LEVEL) : -1;
  try {
    raidCompleteOutstanding(a, match, SrbStatus);
  } finally {
    if (old >= 0) lowerTo(k, k.cpu, old);
  }
}

/** StorPortGetSrb: Storport keeps no SRB table; always null. */
export function StorPortGetSrb(_DeviceExtension: PVOID_EXTENSION, _PathId: number, _TargetId: number, _Lun: number, _QueueTag: number): SRB | null {
  return null;
}

// ---- diagnostics -------------------------------------------------------------------------------

/** StorPortLogError: records an error against the adapter (and its trace). */
export function StorPortLogError(HwDeviceExtension: PVOID_EXTENSION, _Srb: SRB | null, PathId: number, TargetId: number, Lun: number, ErrorCode: number, UniqueId: number): void {
  const a = adapterOf(HwDeviceExtension);
  const k = KE();
  a.ErrorLog.add({ PathId, TargetId, Lun, ErrorCode, UniqueId, timePs: k.cpu.time });
  k.recorder.note(k.cpu.time, `StorPortLogError 0x${ErrorCode.toString(16)} (${UniqueId})`, a.Service, k.attribution().routine, k.cpu.Number);
}

/** StorPortDebugPrint: goes to the trace. */
export function StorPortDebugPrint(_DebugPrintLevel: number, DebugMessage: string): void {
  const k = KE();
  const who = k.attribution();
  k.recorder.note(k.cpu.time, DebugMessage, who.driver, who.routine, k.cpu.Number);
}

/** StorPortSetAdapterBusType: the STORAGE_BUS_TYPE the adapter reports in its descriptors (BusTypeNvme for an NVMe miniport). */
export function StorPortSetAdapterBusType(HwDeviceExtension: PVOID_EXTENSION, BusType: number): number {
  adapterOf(HwDeviceExtension).BusType = BusType;
  return STOR_STATUS_SUCCESS;
}

/** StorPortConvertUlong64ToPhysicalAddress / StorPortConvertPhysicalAddressToUlong64 (physical addresses are numbers here). */
export function StorPortConvertUlong64ToPhysicalAddress(UlongAddress: number): number {
  return UlongAddress;
}
export function StorPortConvertPhysicalAddressToUlong64(Address: number): number {
  return Address;
}
