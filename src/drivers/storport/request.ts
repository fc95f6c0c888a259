/**
 * The port's request path. A class driver's SRB arrives in IRP_MJ_SCSI on a unit's PDO and
 * waits in the unit's queue until the unit and the adapter may take it (queue depth,
 * frozen or locked queue, pause, busy, reset hold, power). Starting it takes a request
 * object from the adapter's pool (Storport's XRB, with the miniport's SRB extension), maps
 * the data buffer for the processor when the miniport asked for mapped buffers, builds the
 * scatter/gather list through the HAL's DMA adapter (so map registers, bounce pages and the
 * IOMMU apply), calls HwBuildIo without a lock and HwStartIo under the StartIo lock (none
 * with concurrent channels; the interrupt lock too for half-duplex miniports).
 *
 * A miniport finishes a request with StorPortNotification(RequestComplete) from any of its
 * routines, at any IRQL: the request goes on a completion list and the completion DPC runs
 * on the processor that issued it (DPC redirection), or on the one that completed it. The
 * DPC puts the scatter/gather list back, maps the SRB status to the IRP's status, freezes
 * the unit's queue after an error unless the SRB says not to, completes the IRP and starts
 * what waited.
 *
 * Nothing on this path allocates once the pool is warm: requests, their scatter/gather
 * lists and SRB extensions are reused, and the miniport's routines are called without
 * closures.
 */
import { KE, type Attribution, type Kernel } from "../../ke/kernel.js";
import { DISPATCH_LEVEL } from "../../ke/irql.js";
import { raiseTo, lowerTo } from "../../ke/level.js";
import { KeInsertQueueDpc, type KDPC } from "../../ke/dpc.js";
import { KeAcquireSpinLockAtDpcLevel, KeReleaseSpinLockFromDpcLevel } from "../../ke/spinlock.js";
import { KeAcquireInterruptSpinLock, KeReleaseInterruptSpinLock, type KINTERRUPT } from "../../ke/interrupt.js";
import { IoCompleteRequest, IoGetCurrentIrpStackLocation, IoMarkIrpPending, IO_DISK_INCREMENT, type IRP } from "../../io/irp.js";
import {
  STATUS_CANCELLED, STATUS_DATA_OVERRUN, STATUS_DEVICE_BUSY, STATUS_DEVICE_DOES_NOT_EXIST, STATUS_DEVICE_NOT_CONNECTED,
  STATUS_DEVICE_POWERED_OFF, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_DEVICE_REQUEST, STATUS_IO_DEVICE_ERROR, STATUS_IO_TIMEOUT,
  STATUS_PENDING, STATUS_SUCCESS, STATUS_UNSUCCESSFUL, type NTSTATUS,
} from "../../ke/ntstatus.js";
import { MmGetMdlVirtualAddress, MmGetSystemAddressForMdlSafe, MM_PAGE_PRIORITY, type MDL } from "../../mm/mdl.js";
import type { SCATTER_GATHER_LIST } from "../../hal/scatter-gather.js";
import type { DEVICE_OBJECT } from "../../io/objects.js";
import { IS_SCSIOP_READWRITE, SCSISTAT_BUSY } from "../storage/scsi.js";
import {
  SRB_FLAGS_BYPASS_FROZEN_QUEUE, SRB_FLAGS_BYPASS_LOCKED_QUEUE, SRB_FLAGS_DATA_IN, SRB_FLAGS_DATA_OUT, SRB_FLAGS_NO_QUEUE_FREEZE,
  SRB_FUNCTION_EXECUTE_SCSI, SRB_STATUS, SRB_STATUS_ABORTED, SRB_STATUS_BAD_FUNCTION, SRB_STATUS_BAD_SRB_BLOCK_LENGTH, SRB_STATUS_BUSY,
  SRB_STATUS_COMMAND_TIMEOUT, SRB_STATUS_DATA_OVERRUN, SRB_STATUS_INSUFFICIENT_RESOURCES, SRB_STATUS_INVALID_LUN, SRB_STATUS_INVALID_REQUEST,
  SRB_STATUS_INVALID_TARGET_ID, SRB_STATUS_NO_DEVICE, SRB_STATUS_NO_HBA, SRB_STATUS_NOT_POWERED, SRB_STATUS_PENDING, SRB_STATUS_QUEUE_FROZEN,
  SRB_STATUS_REQUEST_FLUSHED, SRB_STATUS_SELECTION_TIMEOUT, SRB_STATUS_SUCCESS, SRB_STATUS_TIMEOUT, SRB_FUNCTION_IO_CONTROL, SRB_FUNCTION_WMI,
  SRB_STATUS_ERROR, SrbGetCdb, SrbGetScsiStatus, SrbGetSrbFunction, SrbSetMiniportContext, SrbSetScsiStatus, type SRB,
} from "../storage/srb.js";
import {
  STOR_MAP_ALL_BUFFERS, STOR_MAP_ALL_BUFFERS_INCLUDING_READ_WRITE, STOR_MAP_NON_READ_WRITE_BUFFERS,
  STOR_PERF_CONCURRENT_CHANNELS, STOR_PERF_DPC_REDIRECTION, STOR_PERF_DPC_REDIRECTION_CURRENT_CPU, STOR_PERF_NO_SGL,
  STOR_SCATTER_GATHER_ELEMENT, STOR_SCATTER_GATHER_LIST, STOR_SYNCHRONIZATION_MODEL, type PVOID_EXTENSION,
} from "./storport.js";
import { AdapterState, type RAID_ADAPTER_EXTENSION } from "./adapter.js";
import type { RAID_UNIT_EXTENSION } from "./unit.js";
import { armTimeoutTimer } from "./timeout.js";
import { scheduleRestart } from "./services.js";

/** The port's default number of requests an adapter takes at once (MaxNumberOfIO). */
export const DEFAULT_MAX_NUMBER_OF_IO = 1000;
/** The port's default queue depth of a logical unit. */
export const DEFAULT_LUN_QUEUE_DEPTH = 20;
/** Ticks of Storport's one-second timeout timer, ps. */
export const ONE_SECOND_PS = 1e12;
/** How long a unit waits before a request the miniport found busy is tried again, when the unit has nothing else outstanding, ps (10 ms). */
export const BUSY_RETRY_DELAY_PS = 10e9;

/** Where a request is. */
export const enum RequestState {
  Free,
  /** Scatter/gather list being built (waiting for map registers). */
  Mapping,
  /** With the miniport. */
  Started,
  /** The miniport completed it; on a completion list. */
  Completing,
}

/** A request in the port (Storport's XRB): the SRB, its IRP, its scatter/gather list and SRB extension. */
export class RAID_REQUEST {
  State = RequestState.Free;
  Srb: SRB | null = null;
  Irp: IRP | null = null;
  Unit: RAID_UNIT_EXTENSION | null = null;
  /** Processor that started it (DPC redirection target). */
  Cpu = 0;
  /** When it times out, ps (Infinity: never). */
  DeadlinePs = Infinity;
  /** Resets this request caused by timing out. */
  Timeouts = 0;
  /** The HAL's list, to put back. */
  HalSgList: SCATTER_GATHER_LIST | null = null;
  /** The miniport's view of it (StorPortGetScatterGatherList). */
  readonly SgList = new STOR_SCATTER_GATHER_LIST();
  /** The data buffer and where it was before the port mapped it (restored at completion). */
  OriginalDataBuffer = 0;
  Mapped = false;
  WriteToDevice = false;
  /** Bytes requested (to tell an underrun from an overrun). */
  RequestedLength = 0;
  /** The SRB extension that goes with this request. */
  readonly SrbExtension: PVOID_EXTENSION;
  /** Outstanding list links (per unit) and completion list link (per processor). */
  Prev: RAID_REQUEST | null = null;
  Next: RAID_REQUEST | null = null;
  NextCompleted: RAID_REQUEST | null = null;

  constructor(readonly Adapter: RAID_ADAPTER_EXTENSION, SrbExtension: PVOID_EXTENSION) {
    this.SrbExtension = SrbExtension;
  }
}

/** Slot in the IRP's DriverContext where the port keeps the request while it owns the IRP. */
const REQUEST_SLOT = 0;

/** The request an SRB belongs to while the port has it (null when it is not the port's). */
export function requestOf(srb: SRB): RAID_REQUEST | null {
  const irp = srb.OriginalRequest as IRP | null;
  const r = irp ? (irp.Tail.Overlay.DriverContext[REQUEST_SLOT] as RAID_REQUEST | null) : null;
  return r && r.Srb === srb ? r : null;
}

/** Calls a miniport routine with two arguments under its attribution, without a closure. */
export function callMiniport<A, B, R>(k: Kernel, who: Attribution, fn: (a: A, b: B) => R, a: A, b: B): R {
  const stack = k.cpu.stack;
  stack.push(who);
  try {
    return fn(a, b);
  } catch (e) {
    throw k.asBugCheck(e);
  } finally {
    stack.pop();
  }
}

/** The miniport routines' attributions, made once per adapter. */
export class MiniportCalls {
  readonly BuildIo: Attribution;
  readonly StartIo: Attribution;
  readonly Interrupt: Attribution;
  readonly MSInterrupt: Attribution;
  constructor(adapter: RAID_ADAPTER_EXTENSION) {
    const hw = adapter.Hw;
    const name = (f: ((...args: never[]) => unknown) | null, fallback: string) => (f?.name || fallback);
    this.BuildIo = { driver: adapter.Service, routine: name(hw.HwBuildIo, "HwBuildIo") };
    this.StartIo = { driver: adapter.Service, routine: name(hw.HwStartIo, "HwStartIo") };
    this.Interrupt = { driver: adapter.Service, routine: name(hw.HwInterrupt, "HwInterrupt") };
    this.MSInterrupt = { driver: adapter.Service, routine: name(adapter.ConfigInfo.HwMSInterruptRoutine, "HwMSInterruptRoutine") };
  }
}

/** The adapter's miniport-call attributions. */
export function miniportCalls(adapter: RAID_ADAPTER_EXTENSION): MiniportCalls {
  return (adapter.Calls ??= new MiniportCalls(adapter));
}

/** True when the SRB moves data (a direction flag and a length). */
function movesData(srb: SRB): boolean {
  return srb.DataTransferLength > 0 && (srb.SrbFlags & (SRB_FLAGS_DATA_IN | SRB_FLAGS_DATA_OUT)) !== 0;
}

/** Whether the adapter lets new requests start now. */
function adapterReady(a: RAID_ADAPTER_EXTENSION, nowPs: number): boolean {
  return a.State === AdapterState.Running && a.DevicePowerState === 1 && a.BusyRequestsToComplete === 0
    && a.PausedUntilPs <= nowPs && a.ResetHoldUntilPs <= nowPs && a.Outstanding < maxNumberOfIo(a);
}

/** MaxNumberOfIO or the port's default. */
export function maxNumberOfIo(a: RAID_ADAPTER_EXTENSION): number {
  return a.ConfigInfo.MaxNumberOfIO > 0 ? a.ConfigInfo.MaxNumberOfIO : DEFAULT_MAX_NUMBER_OF_IO;
}

/** Whether `unit` may start `srb` now (the request's own bypass flags considered). */
function unitReady(u: RAID_UNIT_EXTENSION, srb: SRB, nowPs: number): boolean {
  if (u.Frozen && (srb.SrbFlags & SRB_FLAGS_BYPASS_FROZEN_QUEUE) === 0) return false;
  if (u.Locked && (srb.SrbFlags & SRB_FLAGS_BYPASS_LOCKED_QUEUE) === 0) return false;
  return u.PausedUntilPs <= nowPs && u.BusyRequestsToComplete === 0 && u.Outstanding < u.QueueDepth;
}

/** The SRB an IRP_MJ_SCSI IRP carries (in its current stack location). */
export function srbOfIrp(irp: IRP): SRB {
  return IoGetCurrentIrpStackLocation(irp).Parameters.Scsi.Srb as SRB;
}

/**
 * Queues an SRB's IRP on its unit (the IRP is current at the unit's location), pends it and
 * starts what can start. Returns STATUS_PENDING.
 */
export function raidQueueRequest(unit: RAID_UNIT_EXTENSION, irp: IRP): NTSTATUS {
  const srb = srbOfIrp(irp);
  srb.SrbStatus = SRB_STATUS_PENDING;
  IoMarkIrpPending(irp);
  const k = KE();
  k.chargePs(k.cost.StorPortRequest);
  // A request that may bypass a frozen or locked queue goes ahead of the others.
  if ((srb.SrbFlags & (SRB_FLAGS_BYPASS_FROZEN_QUEUE | SRB_FLAGS_BYPASS_LOCKED_QUEUE)) !== 0) unit.Pending.unshift(irp);
  else unit.Pending.push(irp);
  raidStartUnit(unit);
  return STATUS_PENDING;
}

/** Starts the unit's waiting requests while the unit and its adapter take them. */
export function raidStartUnit(unit: RAID_UNIT_EXTENSION): void {
  const k = KE();
  const cpu = k.cpu;
  const old = cpu.irql < DISPATCH_LEVEL ? raiseTo(k, DISPATCH_LEVEL) : -1;
  try {
    const a = unit.Adapter;
    while (unit.Pending.length > 0) {
      const irp = unit.Pending.at(0)!;
      const srb = srbOfIrp(irp);
      if (unit.Removed || a.State === AdapterState.Removed) {
        unit.Pending.shift();
        raidCompleteIrp(irp, srb, SRB_STATUS_NO_DEVICE);
        continue;
      }
      if (!adapterReady(a, cpu.time) || !unitReady(unit, srb, cpu.time)) break;
      const r = a.FreeRequests.pop();
      if (!r) break;
      unit.Pending.shift();
      startRequest(k, r, unit, irp, srb);
    }
  } finally {
    if (old >= 0) lowerTo(k, cpu, old);
  }
}

/** Starts every unit of the adapter that has requests waiting. */
export function raidStartAdapter(a: RAID_ADAPTER_EXTENSION): void {
  for (const u of a.Units.values()) if (u.Pending.length > 0) raidStartUnit(u);
}

/** Takes the request for the unit and hands it on: buffer mapping, scatter/gather, then the miniport. */
function startRequest(k: Kernel, r: RAID_REQUEST, unit: RAID_UNIT_EXTENSION, irp: IRP, srb: SRB): void {
  const a = unit.Adapter;
  r.State = RequestState.Mapping;
  r.Srb = srb;
  r.Irp = irp;
  r.Unit = unit;
  r.Cpu = k.cpu.Number;
  r.Timeouts = 0;
  r.Mapped = false;
  r.HalSgList = null;
  r.SgList.NumberOfElements = 0;
  r.RequestedLength = srb.DataTransferLength;
  r.OriginalDataBuffer = srb.DataBuffer;
  r.WriteToDevice = (srb.SrbFlags & SRB_FLAGS_DATA_OUT) !== 0;
  r.DeadlinePs = srb.TimeOutValue > 0 ? k.cpu.time + srb.TimeOutValue * ONE_SECOND_PS : Infinity;
  irp.Tail.Overlay.DriverContext[REQUEST_SLOT] = r;
  SrbSetMiniportContext(srb, r.SrbExtension);
  // Outstanding from here: counted against the queue depth and watched for timeouts.
  r.Prev = null;
  r.Next = unit.OutstandingHead;
  if (unit.OutstandingHead) unit.OutstandingHead.Prev = r;
  unit.OutstandingHead = r;
  unit.Outstanding++;
  a.Outstanding++;
  if (r.DeadlinePs !== Infinity) armTimeoutTimer(a);

  const mdl = irp.MdlAddress as MDL | null;
  if (!movesData(srb) || !mdl) {
    raidDispatchToMiniport(k, r);
    return;
  }
  if (needsMapping(a, srb)) {
    const system = MmGetSystemAddressForMdlSafe(mdl, MM_PAGE_PRIORITY.NormalPagePriority);
    if (system === 0) {
      raidCompleteByPort(r, SRB_STATUS_INSUFFICIENT_RESOURCES);
      return;
    }
    srb.DataBuffer = system + (r.OriginalDataBuffer - MmGetMdlVirtualAddress(mdl));
    r.Mapped = true;
  }
  if ((a.PerfOpts && (a.PerfOpts.Flags & STOR_PERF_NO_SGL) !== 0) || !a.DmaAdapter) {
    raidDispatchToMiniport(k, r);
    return;
  }
  const status = a.DmaAdapter.DmaOperations.GetScatterGatherList(a.DmaAdapter, a.DeviceObject, mdl, r.OriginalDataBuffer, srb.DataTransferLength, RaidpAdapterScatterGatherExecute, r, r.WriteToDevice);
  if (status !== STATUS_SUCCESS) raidCompleteByPort(r, SRB_STATUS_INSUFFICIENT_RESOURCES);
}

/**
 * Whether the miniport gets this request's buffer mapped into system space
 * (HW_INITIALIZATION_DATA.MapBuffers): SRB_FUNCTION_IO_CONTROL and SRB_FUNCTION_WMI buffers
 * always are, even with STOR_MAP_NO_BUFFERS.
 */
function needsMapping(a: RAID_ADAPTER_EXTENSION, srb: SRB): boolean {
  const mode = a.Hw.MapBuffers;
  const fn = SrbGetSrbFunction(srb);
  if (mode === STOR_MAP_ALL_BUFFERS_INCLUDING_READ_WRITE || fn === SRB_FUNCTION_IO_CONTROL || fn === SRB_FUNCTION_WMI) return true;
  if (mode !== STOR_MAP_NON_READ_WRITE_BUFFERS && mode !== STOR_MAP_ALL_BUFFERS) return false;
  const cdb = fn === SRB_FUNCTION_EXECUTE_SCSI ? SrbGetCdb(srb) : null;
  return !cdb || !IS_SCSIOP_READWRITE(cdb[0]);
}

/** The HAL's execution routine: the list is built; hand the request to the miniport. */
function RaidpAdapterScatterGatherExecute(_DeviceObject: DEVICE_OBJECT, _Irp: unknown, ScatterGather: SCATTER_GATHER_LIST, Context: unknown): void {
  const r = Context as RAID_REQUEST;
  r.HalSgList = ScatterGather;
  const list = r.SgList;
  const n = ScatterGather.NumberOfElements;
  while (list.List.length < n) list.List.push(new STOR_SCATTER_GATHER_ELEMENT());
  for (let i = 0; i < n; i++) {
    const e = ScatterGather.Elements[i];
    list.List[i].PhysicalAddress = e.Address;
    list.List[i].Length = e.Length;
  }
  list.NumberOfElements = n;
  // A removal may have completed it while it waited for map registers.
  if (r.State !== RequestState.Mapping) return;
  raidDispatchToMiniport(KE(), r);
}

/** HwBuildIo without a lock, then HwStartIo under the locks the miniport's model needs (DISPATCH_LEVEL). */
function raidDispatchToMiniport(k: Kernel, r: RAID_REQUEST): void {
  const a = r.Adapter;
  const srb = r.Srb!;
  const hw = a.Hw;
  const calls = miniportCalls(a);
  r.State = RequestState.Started;
  if (hw.HwBuildIo && !callMiniport(k, calls.BuildIo, hw.HwBuildIo, a.HwDeviceExtension, srb)) return;
  if (r.State !== RequestState.Started || r.Srb !== srb) return;
  const concurrent = a.PerfOpts !== null && (a.PerfOpts.Flags & STOR_PERF_CONCURRENT_CHANNELS) !== 0;
  const halfDuplex = a.ConfigInfo.SynchronizationModel === STOR_SYNCHRONIZATION_MODEL.StorSynchronizeHalfDuplex;
  if (!concurrent) KeAcquireSpinLockAtDpcLevel(a.StartIoLock);
  const interrupt = halfDuplex ? interruptLockObject(a) : null;
  const irql = interrupt ? KeAcquireInterruptSpinLock(interrupt) : 0;
  try {
    callMiniport(k, calls.StartIo, hw.HwStartIo!, a.HwDeviceExtension, srb);
  } finally {
    if (interrupt) KeReleaseInterruptSpinLock(interrupt, irql);
    if (!concurrent) KeReleaseSpinLockFromDpcLevel(a.StartIoLock);
  }
}

/** The interrupt object whose lock serialises with the miniport's interrupt routine (half duplex). */
export function interruptLockObject(a: RAID_ADAPTER_EXTENSION): KINTERRUPT | null {
  if (a.LineInterrupt) return a.LineInterrupt;
  const table = a.MessageTable;
  if (!table || table.MessageCount === 0) return null;
  // Every message shares one lock when the miniport synchronises all of them.
  return table.MessageInfo[0].InterruptObject;
}

/**
 * StorPortNotification(RequestComplete): the miniport is done with `srb`. The request goes
 * to the completion DPC of the processor that issued it (DPC redirection) or of this one.
 * Returns false when the SRB is not one the port has outstanding.
 */
export function raidRequestComplete(a: RAID_ADAPTER_EXTENSION, srb: SRB): boolean {
  const k = KE();
  const r = requestOf(srb);
  if (!r || r.Adapter !== a || r.State !== RequestState.Started) return false;
  k.chargePs(k.cost.StorPortCompletion);
  r.State = RequestState.Completing;
  const flags = a.PerfOpts?.Flags ?? 0;
  const cpu = (flags & STOR_PERF_DPC_REDIRECTION) !== 0 && (flags & STOR_PERF_DPC_REDIRECTION_CURRENT_CPU) === 0 ? r.Cpu : k.cpu.Number;
  r.NextCompleted = a.CompletionLists[cpu];
  a.CompletionLists[cpu] = r;
  KeInsertQueueDpc(a.CompletionDpcs[cpu], null, null);
  return true;
}

/** The port completes a request the miniport never saw (or gave up on) with `srbStatus`. */
export function raidCompleteByPort(r: RAID_REQUEST, srbStatus: number): void {
  // finishRequest gives the request back to the pool: keep its unit to restart.
  const unit = r.Unit!;
  r.Srb!.SrbStatus = srbStatus;
  r.State = RequestState.Completing;
  finishRequest(KE(), r);
  raidStartUnit(unit);
}

/** The completion DPC of one processor: finishes its list (oldest first) and starts what waited. */
export function RaidpAdapterCompletionDpcRoutine(Dpc: KDPC, DeferredContext: unknown, _a1: unknown, _a2: unknown): void {
  const a = DeferredContext as RAID_ADAPTER_EXTENSION;
  const k = KE();
  const cpu = Dpc.Number ?? k.cpu.Number;
  let list = a.CompletionLists[cpu];
  a.CompletionLists[cpu] = null;
  // The list is newest first: reverse it so completions keep their order.
  let ordered: RAID_REQUEST | null = null;
  while (list) {
    const next = list.NextCompleted;
    list.NextCompleted = ordered;
    ordered = list;
    list = next;
  }
  while (ordered) {
    const next = ordered.NextCompleted;
    ordered.NextCompleted = null;
    finishRequest(k, ordered);
    ordered = next;
  }
  raidStartAdapter(a);
}

/**
 * Whether a completed request is to be tried again: the miniport or the target was busy
 * (SRB_STATUS_BUSY, or SCSISTAT_BUSY), and the port retries such requests until they
 * complete otherwise.
 */
function retryBusy(r: RAID_REQUEST, srb: SRB): boolean {
  const status = SRB_STATUS(srb.SrbStatus);
  const busy = status === SRB_STATUS_BUSY || (status === SRB_STATUS_ERROR && SrbGetScsiStatus(srb) === SCSISTAT_BUSY);
  return busy && r.Unit !== null && !r.Unit.Removed && r.Adapter.State === AdapterState.Running;
}

/**
 * Puts the list back, restores the buffer, maps the status, completes the IRP, returns the
 * request to the pool. A request the miniport found busy goes back to the head of its unit's
 * queue instead (with a new request and SRB extension, as HW_STARTIO describes): the unit
 * waits for one of its other requests to complete, or BUSY_RETRY_DELAY_PS when it has none.
 */
function finishRequest(k: Kernel, r: RAID_REQUEST): void {
  const a = r.Adapter;
  const unit = r.Unit!;
  const srb = r.Srb!;
  const irp = r.Irp!;
  const retry = retryBusy(r, srb);
  if (r.HalSgList && a.DmaAdapter && !r.HalSgList.released) {
    const old = k.cpu.irql < DISPATCH_LEVEL ? raiseTo(k, DISPATCH_LEVEL) : -1;
    a.DmaAdapter.DmaOperations.PutScatterGatherList(a.DmaAdapter, r.HalSgList, r.WriteToDevice);
    if (old >= 0) lowerTo(k, k.cpu, old);
  }
  r.HalSgList = null;
  if (r.Mapped) srb.DataBuffer = r.OriginalDataBuffer;
  if (r.Prev) r.Prev.Next = r.Next;
  else unit.OutstandingHead = r.Next;
  if (r.Next) r.Next.Prev = r.Prev;
  r.Prev = r.Next = null;
  unit.Outstanding--;
  a.Outstanding--;
  if (!retry) {
    unit.Completed++;
    if (a.BusyRequestsToComplete > 0) a.BusyRequestsToComplete--;
    if (unit.BusyRequestsToComplete > 0) unit.BusyRequestsToComplete--;
  }
  // StorPortBusy / StorPortDeviceBusy asked for more completions than are left: all of them are enough.
  a.BusyRequestsToComplete = Math.min(a.BusyRequestsToComplete, a.Outstanding);
  unit.BusyRequestsToComplete = Math.min(unit.BusyRequestsToComplete, unit.Outstanding);
  irp.Tail.Overlay.DriverContext[REQUEST_SLOT] = null;
  r.State = RequestState.Free;
  r.Srb = null;
  r.Irp = null;
  r.Unit = null;
  const underrun = srb.DataTransferLength < r.RequestedLength;
  const requested = r.RequestedLength;
  a.FreeRequests.push(r);
  if (retry) {
    srb.SrbStatus = SRB_STATUS_PENDING;
    SrbSetScsiStatus(srb, 0);
    srb.DataTransferLength = requested;
    unit.Pending.unshift(irp);
    if (unit.Outstanding > 0) unit.BusyRequestsToComplete = Math.max(unit.BusyRequestsToComplete, 1);
    else {
      unit.PausedUntilPs = Math.max(unit.PausedUntilPs, k.cpu.time + BUSY_RETRY_DELAY_PS);
      scheduleRestart(a, unit.PausedUntilPs);
    }
    return;
  }
  raidCompleteIrp(irp, srb, srb.SrbStatus, underrun);
}

/**
 * Completes an SRB's IRP with `srbStatus`: the SRB keeps the status (and is marked
 * queue-frozen when an error freezes the unit), the IRP gets the matching NTSTATUS and the
 * bytes moved.
 */
export function raidCompleteIrp(irp: IRP, srb: SRB, srbStatus: number, underrun = false): void {
  srb.SrbStatus = srbStatus;
  const status = SRB_STATUS(srbStatus);
  const unit = irpUnit(irp);
  // An underrun (SRB_STATUS_DATA_OVERRUN with less data than asked for) is a success, not an error that freezes.
  const failed = status !== SRB_STATUS_SUCCESS && status !== SRB_STATUS_PENDING && !(status === SRB_STATUS_DATA_OVERRUN && underrun);
  if (failed && unit && SrbGetSrbFunction(srb) === SRB_FUNCTION_EXECUTE_SCSI && (srb.SrbFlags & SRB_FLAGS_NO_QUEUE_FREEZE) === 0) {
    unit.Frozen = true;
    srb.SrbStatus |= SRB_STATUS_QUEUE_FROZEN;
  }
  irp.IoStatus.Status = srbStatusToNtStatus(srbStatus, underrun);
  irp.IoStatus.Information = srb.DataTransferLength;
  IoCompleteRequest(irp, IO_DISK_INCREMENT);
}

/** The unit an IRP_MJ_SCSI IRP is addressed to (its current location's device). */
function irpUnit(irp: IRP): RAID_UNIT_EXTENSION | null {
  if (irp.CurrentLocation > irp.StackCount) return null;
  const ext = IoGetCurrentIrpStackLocation(irp).DeviceObject?.DeviceExtension as { IsAdapter?: boolean } | undefined;
  return ext && ext.IsAdapter === false ? (ext as RAID_UNIT_EXTENSION) : null;
}

/**
 * The NTSTATUS the port completes an SRB's IRP with, for its SRB status; a data overrun
 * that moved less than asked for (`underrun`) is a success.
 */
export function srbStatusToNtStatus(srbStatus: number, underrun: boolean): NTSTATUS {
  switch (SRB_STATUS(srbStatus)) {
    case SRB_STATUS_SUCCESS: return STATUS_SUCCESS;
    case SRB_STATUS_DATA_OVERRUN: return underrun ? STATUS_SUCCESS : STATUS_DATA_OVERRUN;
    case SRB_STATUS_INVALID_LUN:
    case SRB_STATUS_INVALID_TARGET_ID:
    case SRB_STATUS_NO_DEVICE:
    case SRB_STATUS_NO_HBA: return STATUS_DEVICE_DOES_NOT_EXIST;
    case SRB_STATUS_TIMEOUT:
    case SRB_STATUS_COMMAND_TIMEOUT: return STATUS_IO_TIMEOUT;
    case SRB_STATUS_SELECTION_TIMEOUT: return STATUS_DEVICE_NOT_CONNECTED;
    case SRB_STATUS_BAD_FUNCTION:
    case SRB_STATUS_BAD_SRB_BLOCK_LENGTH:
    case SRB_STATUS_INVALID_REQUEST: return STATUS_INVALID_DEVICE_REQUEST;
    case SRB_STATUS_ABORTED: return STATUS_CANCELLED;
    case SRB_STATUS_BUSY: return STATUS_DEVICE_BUSY;
    case SRB_STATUS_INSUFFICIENT_RESOURCES: return STATUS_INSUFFICIENT_RESOURCES;
    case SRB_STATUS_REQUEST_FLUSHED: return STATUS_UNSUCCESSFUL;
    case SRB_STATUS_NOT_POWERED: return STATUS_DEVICE_POWERED_OFF;
    default: return STATUS_IO_DEVICE_ERROR;
  }
}

/** Completes every request the miniport holds on units matching the address (SP_UNTAGGED matches all) with `srbStatus`. */
export function raidCompleteOutstanding(a: RAID_ADAPTER_EXTENSION, match: (u: RAID_UNIT_EXTENSION) => boolean, srbStatus: number): number {
  let n = 0;
  for (const u of a.Units.values()) {
    if (!match(u)) continue;
    for (let r = u.OutstandingHead; r; ) {
      const next = r.Next;
      if (r.State === RequestState.Started || r.State === RequestState.Mapping) {
        raidCompleteByPortQuiet(r, srbStatus);
        n++;
      }
      r = next;
    }
  }
  raidStartAdapter(a);
  return n;
}

/** raidCompleteByPort without restarting the unit (the caller restarts once). */
function raidCompleteByPortQuiet(r: RAID_REQUEST, srbStatus: number): void {
  r.Srb!.SrbStatus = srbStatus;
  r.State = RequestState.Completing;
  finishRequest(KE(), r);
}

/** Fails every request waiting on the unit's queue with `srbStatus` (SRB_FUNCTION_FLUSH_QUEUE, removal). */
export function raidFlushPending(unit: RAID_UNIT_EXTENSION, srbStatus: number): number {
  let n = 0;
  for (let irp = unit.Pending.shift(); irp; irp = unit.Pending.shift()) {
    raidCompleteIrp(irp, srbOfIrp(irp), srbStatus);
    n++;
  }
  return n;
}
