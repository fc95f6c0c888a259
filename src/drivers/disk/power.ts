/**
 * Power (the disk is its device's power policy owner, with classpnp's spin-down sequence).
 *
 * A system set-power IRP goes down the stack; once the bus has completed it the driver
 * requests the matching device set-power IRP (D0 for S0; for a sleep state what the bus's
 * DeviceState says, D3 when that names no low-power state), and the system IRP completes
 * with the device IRP's status.
 *
 * Device IRP to D3 (ClasspPowerDownCompletion's steps): new requests are held, the power
 * manager is told, the requests in progress are let finish, SYNCHRONIZE CACHE and START
 * STOP UNIT (stop, immediate) go to the device (each retried up to MAXIMUM_RETRIES times,
 * 200 ms apart unless the sense data says otherwise; failures are ignored, as classpnp
 * ignores them), and the IRP goes down. Device IRP to D0 (ClasspPowerUpCompletion): the IRP
 * goes down first, then START STOP UNIT (start), then the power manager is told and the
 * held requests run. Other power IRPs pass down.
 */
import type { DEVICE_OBJECT } from "../../io/objects.js";
import {
  IO_STATUS_BLOCK, IoAllocateIrp, IoCallDriver, IoCompleteRequest, IoCopyCurrentIrpStackLocationToNext, IoFreeIrp, IoGetCurrentIrpStackLocation,
  IoGetNextIrpStackLocation, IoMarkIrpPending, IoSetCompletionRoutine, IoSkipCurrentIrpStackLocation, IO_NO_INCREMENT, type IRP,
} from "../../io/irp.js";
import { IoForwardIrpSynchronously } from "../../io/forward.js";
import {
  EVENT_TYPE, KEVENT, KeDelayExecutionThread, KeInitializeEvent, KeSetEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON,
} from "../../ke/dispatcher.js";
import { NT_SUCCESS, STATUS_DEVICE_DOES_NOT_EXIST, STATUS_MORE_PROCESSING_REQUIRED, STATUS_PENDING, STATUS_SUCCESS, type NTSTATUS } from "../../ke/ntstatus.js";
import { DEVICE_POWER_STATE, IRP_MN_SET_POWER, POWER_STATE, POWER_STATE_TYPE, SYSTEM_POWER_STATE } from "../../po/power.js";
import { PoCallDriver, PoRequestPowerIrp, PoSetPowerState, PoStartNextPowerIrp } from "../../po/routines.js";
import { IRP_MN_START_DEVICE } from "../../pnp/minor.js";
import {
  IRP_MJ_SCSI, SP_UNTAGGED, SRB_FLAGS_BYPASS_LOCKED_QUEUE, SRB_FLAGS_D3_PROCESSING, SRB_FLAGS_DISABLE_AUTOSENSE, SRB_FLAGS_DISABLE_SYNCH_TRANSFER,
  SRB_FLAGS_NO_DATA_TRANSFER, SRB_FLAGS_NO_QUEUE_FREEZE, SRB_STATUS, SRB_STATUS_SUCCESS, SrbAssignSrbFlags, SrbGetCdb, SrbSetCdbLength,
  SrbSetOriginalRequest, SrbSetRequestTag, SrbSetSenseInfoBuffer, SrbSetSenseInfoBufferLength, SrbSetTimeOutValue, type SRB,
} from "../storage/srb.js";
import { SCSIOP_START_STOP_UNIT, SCSIOP_SYNCHRONIZE_CACHE, START_STOP_IMMEDIATE, START_STOP_START } from "../storage/scsi.js";
import { CLASS_SPECIAL_DISABLE_SPIN_DOWN, CLASS_SPECIAL_DISABLE_SPIN_UP, MAXIMUM_RETRIES, POWER_RETRY_DEFAULT_100NS } from "./constants.js";
import { HOLD_POWER, REMOVE_STATE, type FUNCTIONAL_DEVICE_EXTENSION } from "./extension.js";
import { ClassAcquireRemoveLock, ClassReleaseRemoveLock, fdoExtensionOf } from "./queue.js";
import { ClasspAllocateSrb, ClasspInitializeSrb } from "./request-block.js";
import { InterpretSenseInfoWithoutHistory } from "./sync-srb.js";
import { ClasspWaitForIdle } from "./pnp.js";
import { ClasspResumeHeldRequests } from "./resume.js";

/** One power SRB's wait. */
class POWER_SRB_CONTEXT {
  readonly Event = new KEVENT();
  readonly IoStatus = new IO_STATUS_BLOCK();
}

/** Completion of a power SRB's IRP: frees it and wakes the sender. */
function ClasspPowerSrbCompletion(_DeviceObject: DEVICE_OBJECT | null, Irp: IRP, Context: unknown): NTSTATUS {
  const context = Context as POWER_SRB_CONTEXT;
  context.IoStatus.Status = Irp.IoStatus.Status;
  IoFreeIrp(Irp);
  KeSetEvent(context.Event, 0, false);
  return STATUS_MORE_PROCESSING_REQUIRED;
}

/**
 * Sends a power-path SRB (no data, no autosense, bypassing a locked queue) built by
 * `build`, retrying a failure up to MAXIMUM_RETRIES times after the interpreted interval
 * (200 ms when none). Resolves to whether it finally succeeded.
 */
async function ClasspSendPowerSrb(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Srb: SRB, flags: number, build: (cdb: Uint8Array) => number): Promise<boolean> {
  const lower = fdoExtension.LowerDeviceObject;
  const context = new POWER_SRB_CONTEXT();
  let retryCount = MAXIMUM_RETRIES;
  for (;;) {
    ClasspInitializeSrb(fdoExtension, Srb);
    SrbSetSenseInfoBuffer(Srb, fdoExtension.SenseData);
    SrbSetSenseInfoBufferLength(Srb, fdoExtension.SenseDataLength);
    SrbSetTimeOutValue(Srb, fdoExtension.TimeOutValue);
    SrbSetRequestTag(Srb, SP_UNTAGGED);
    SrbAssignSrbFlags(Srb, flags);
    SrbSetCdbLength(Srb, build(SrbGetCdb(Srb)!));
    KeInitializeEvent(context.Event, EVENT_TYPE.NotificationEvent, false);
    const irp = IoAllocateIrp(lower.StackSize + 1, false);
    if (!irp) return false;
    const next = IoGetNextIrpStackLocation(irp);
    next.MajorFunction = IRP_MJ_SCSI;
    next.Parameters.Scsi.Srb = Srb;
    SrbSetOriginalRequest(Srb, irp);
    IoSetCompletionRoutine(irp, ClasspPowerSrbCompletion, context, true, true, true);
    await IoCallDriver(lower, irp);
    await KeWaitForSingleObject(context.Event, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
    SrbSetOriginalRequest(Srb, null);
    if (SRB_STATUS(Srb.SrbStatus) === SRB_STATUS_SUCCESS) return true;
    const r = InterpretSenseInfoWithoutHistory(fdoExtension.DeviceObject, Srb, IRP_MJ_SCSI, 0x16, MAXIMUM_RETRIES - retryCount);
    if (!r.retry || retryCount-- === 0) return false;
    // The interval in whole seconds (rounded up), 200 ms when none.
    const seconds = Math.ceil(r.retryIn100nsUnits / (10 * 1000 * 1000));
    await KeDelayExecutionThread(KPROCESSOR_MODE.KernelMode, false, -(seconds === 0 ? POWER_RETRY_DEFAULT_100NS : seconds * 1000 * 1000 * 10));
  }
}

/** SYNCHRONIZE CACHE (10), as the power-down path sends it. */
function buildSynchronizeCache(cdb: Uint8Array): number {
  cdb.fill(0);
  cdb[0] = SCSIOP_SYNCHRONIZE_CACHE;
  return 10;
}

/** START STOP UNIT: stop (immediate) or start. */
function buildStartStop(start: boolean): (cdb: Uint8Array) => number {
  return (cdb) => {
    cdb.fill(0);
    cdb[0] = SCSIOP_START_STOP_UNIT;
    if (start) cdb[4] = START_STOP_START;
    else cdb[1] = START_STOP_IMMEDIATE;
    return 6;
  };
}

/** The device state for a system state: D0 in S0; otherwise what DeviceState names, D3 if it names no low-power state. */
function DiskDeviceStateFor(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, system: SYSTEM_POWER_STATE): DEVICE_POWER_STATE {
  if (system === SYSTEM_POWER_STATE.PowerSystemWorking) return DEVICE_POWER_STATE.PowerDeviceD0;
  const mapped = fdoExtension.PowerCapabilities?.DeviceState[system] ?? DEVICE_POWER_STATE.PowerDeviceUnspecified;
  return mapped > DEVICE_POWER_STATE.PowerDeviceD0 ? mapped : DEVICE_POWER_STATE.PowerDeviceD3;
}

/** PowerCompletion of the device IRP requested for a system IRP: the system IRP completes with its status. */
function DiskDevicePowerComplete(_DeviceObject: DEVICE_OBJECT, _MinorFunction: number, _PowerState: POWER_STATE, Context: unknown, IoStatus: IO_STATUS_BLOCK): void {
  const SystemIrp = Context as IRP;
  const fdoExtension = fdoExtensionOf(IoGetCurrentIrpStackLocation(SystemIrp).DeviceObject!);
  SystemIrp.IoStatus.Status = IoStatus.Status;
  PoStartNextPowerIrp(SystemIrp);
  ClassReleaseRemoveLock(fdoExtension, SystemIrp);
  IoCompleteRequest(SystemIrp, IO_NO_INCREMENT);
}

/** IoCompletion of a system set-power IRP: the bus is done with it; the device IRP is requested. */
function DiskSystemPowerComplete(_DeviceObject: DEVICE_OBJECT | null, Irp: IRP, Context: unknown): NTSTATUS {
  const fdoExtension = Context as FUNCTIONAL_DEVICE_EXTENSION;
  if (Irp.PendingReturned) IoMarkIrpPending(Irp);
  const system = IoGetCurrentIrpStackLocation(Irp).Parameters.Power.State as SYSTEM_POWER_STATE;
  if (!NT_SUCCESS(Irp.IoStatus.Status)) {
    PoStartNextPowerIrp(Irp);
    ClassReleaseRemoveLock(fdoExtension, Irp);
    return STATUS_SUCCESS;
  }
  fdoExtension.SystemPowerState = system;
  const state = new POWER_STATE();
  state.DeviceState = DiskDeviceStateFor(fdoExtension, system);
  const { status } = PoRequestPowerIrp(fdoExtension.LowerPdo, IRP_MN_SET_POWER, state, DiskDevicePowerComplete, Irp);
  if (status !== STATUS_PENDING) {
    PoStartNextPowerIrp(Irp);
    ClassReleaseRemoveLock(fdoExtension, Irp);
    return STATUS_SUCCESS;
  }
  return STATUS_MORE_PROCESSING_REQUIRED;
}

/** Powers the device down to `state` (see the file comment); the caller sends the IRP down afterwards. */
async function DiskPowerDown(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, state: DEVICE_POWER_STATE): Promise<void> {
  const Fdo = fdoExtension.DeviceObject;
  fdoExtension.HoldReasons |= HOLD_POWER;
  fdoExtension.PowerDownInProgress = true;
  PoSetPowerState(Fdo, POWER_STATE_TYPE.DevicePowerState, new POWER_STATE(state));
  await ClasspWaitForIdle(fdoExtension);
  const srb = ClasspAllocateSrb(fdoExtension);
  const flags = SRB_FLAGS_NO_DATA_TRANSFER | SRB_FLAGS_DISABLE_AUTOSENSE | SRB_FLAGS_DISABLE_SYNCH_TRANSFER | SRB_FLAGS_NO_QUEUE_FREEZE
    | SRB_FLAGS_BYPASS_LOCKED_QUEUE | SRB_FLAGS_D3_PROCESSING;
  // Whatever the write cache holds goes to the medium; a device that cannot is not waited for.
  await ClasspSendPowerSrb(fdoExtension, srb, flags, buildSynchronizeCache);
  if ((fdoExtension.ScanForSpecialFlags & CLASS_SPECIAL_DISABLE_SPIN_DOWN) === 0) await ClasspSendPowerSrb(fdoExtension, srb, flags, buildStartStop(false));
  fdoExtension.DevicePowerState = state;
  fdoExtension.PowerDownInProgress = false;
}

/** Back in D0 (the bus has powered the device): START UNIT, tell the power manager, run the held requests. */
async function DiskPowerUp(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION): Promise<void> {
  const Fdo = fdoExtension.DeviceObject;
  if ((fdoExtension.ScanForSpecialFlags & CLASS_SPECIAL_DISABLE_SPIN_UP) === 0) {
    const srb = ClasspAllocateSrb(fdoExtension);
    const flags = SRB_FLAGS_NO_DATA_TRANSFER | SRB_FLAGS_DISABLE_AUTOSENSE | SRB_FLAGS_DISABLE_SYNCH_TRANSFER | SRB_FLAGS_NO_QUEUE_FREEZE | SRB_FLAGS_BYPASS_LOCKED_QUEUE;
    await ClasspSendPowerSrb(fdoExtension, srb, flags, buildStartStop(true));
  }
  fdoExtension.DevicePowerState = DEVICE_POWER_STATE.PowerDeviceD0;
  PoSetPowerState(Fdo, POWER_STATE_TYPE.DevicePowerState, new POWER_STATE(DEVICE_POWER_STATE.PowerDeviceD0));
  fdoExtension.HoldReasons &= ~HOLD_POWER;
  if (fdoExtension.HoldReasons === 0) ClasspResumeHeldRequests(fdoExtension);
}

/** A device set-power IRP (holds the remove lock). */
async function DiskDeviceSetPower(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Irp: IRP, state: DEVICE_POWER_STATE): Promise<NTSTATUS> {
  if (state === DEVICE_POWER_STATE.PowerDeviceD0) {
    await IoForwardIrpSynchronously(fdoExtension.LowerDeviceObject, Irp);
    const status = Irp.IoStatus.Status;
    if (NT_SUCCESS(status) && fdoExtension.DevicePowerState !== DEVICE_POWER_STATE.PowerDeviceD0) await DiskPowerUp(fdoExtension);
    PoStartNextPowerIrp(Irp);
    ClassReleaseRemoveLock(fdoExtension, Irp);
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
  }
  if (fdoExtension.DevicePowerState === DEVICE_POWER_STATE.PowerDeviceD0) {
    await DiskPowerDown(fdoExtension, state);
  } else if (fdoExtension.DevicePowerState !== state) {
    // From one low-power state to another: the device is stopped already.
    fdoExtension.DevicePowerState = state;
    PoSetPowerState(fdoExtension.DeviceObject, POWER_STATE_TYPE.DevicePowerState, new POWER_STATE(state));
  }
  PoStartNextPowerIrp(Irp);
  IoSkipCurrentIrpStackLocation(Irp);
  ClassReleaseRemoveLock(fdoExtension, Irp);
  return PoCallDriver(fdoExtension.LowerDeviceObject, Irp);
}

/** IRP_MJ_POWER: set-power IRPs as the power policy owner once started; everything else goes down. */
export async function DiskDispatchPower(DeviceObject: DEVICE_OBJECT, Irp: IRP): Promise<NTSTATUS> {
  const fdoExtension = fdoExtensionOf(DeviceObject);
  const s = IoGetCurrentIrpStackLocation(Irp);
  const isRemoved = ClassAcquireRemoveLock(fdoExtension, Irp);
  if (isRemoved !== REMOVE_STATE.NO_REMOVE) {
    if (isRemoved !== REMOVE_STATE.REMOVE_COMPLETE) ClassReleaseRemoveLock(fdoExtension, Irp);
    Irp.IoStatus.Status = STATUS_DEVICE_DOES_NOT_EXIST;
    PoStartNextPowerIrp(Irp);
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_DEVICE_DOES_NOT_EXIST;
  }
  if (s.MinorFunction === IRP_MN_SET_POWER && fdoExtension.CurrentState === IRP_MN_START_DEVICE) {
    if (s.Parameters.Power.Type === POWER_STATE_TYPE.SystemPowerState) {
      IoMarkIrpPending(Irp);
      IoCopyCurrentIrpStackLocationToNext(Irp);
      IoSetCompletionRoutine(Irp, DiskSystemPowerComplete, fdoExtension, true, true, true);
      await PoCallDriver(fdoExtension.LowerDeviceObject, Irp);
      return STATUS_PENDING;
    }
    return DiskDeviceSetPower(fdoExtension, Irp, s.Parameters.Power.State as DEVICE_POWER_STATE);
  }
  PoStartNextPowerIrp(Irp);
  IoSkipCurrentIrpStackLocation(Irp);
  ClassReleaseRemoveLock(fdoExtension, Irp);
  return PoCallDriver(fdoExtension.LowerDeviceObject, Irp);
}
