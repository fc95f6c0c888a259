/**
 * Power. The port is its adapter's power policy owner: a system set-power IRP goes down to
 * the bus driver, then the port requests the matching device IRP (D0 for S0, D3 for a
 * sleep or shutdown state) and completes the system IRP when that one completes. Leaving D0
 * the adapter stops taking requests, lets what the miniport holds finish, tells the
 * miniport (ScsiSetBootConfig, ScsiStopAdapter — an NVMe miniport shuts its controller down
 * there), and the IRP goes down; back in D0 the IRP goes down first, then the miniport
 * restarts its hardware (ScsiSetRunningConfig, ScsiRestartAdapter, or HwInitialize again)
 * and waiting requests start. Units record their device state and tell the miniport through
 * HwUnitControl(ScsiUnitPower) when it handles it.
 */
import { IoCompleteRequest, IoCopyCurrentIrpStackLocationToNext, IoGetCurrentIrpStackLocation, IoMarkIrpPending, IoSetCompletionRoutine, IoSkipCurrentIrpStackLocation, IO_NO_INCREMENT, type IO_STATUS_BLOCK, type IRP } from "../../io/irp.js";
import { IoForwardIrpSynchronously } from "../../io/forward.js";
import type { DEVICE_OBJECT } from "../../io/objects.js";
import { KE } from "../../ke/kernel.js";
import { KeDelayExecutionThread, KPROCESSOR_MODE } from "../../ke/dispatcher.js";
import { NT_SUCCESS, STATUS_MORE_PROCESSING_REQUIRED, STATUS_PENDING, STATUS_SUCCESS, type NTSTATUS } from "../../ke/ntstatus.js";
import { DEVICE_POWER_STATE, IRP_MN_QUERY_POWER, IRP_MN_SET_POWER, POWER_STATE, POWER_STATE_TYPE, SYSTEM_POWER_STATE } from "../../po/power.js";
import { PoCallDriver, PoRequestPowerIrp, PoSetPowerState, PoStartNextPowerIrp } from "../../po/routines.js";
import { SCSI_ADAPTER_CONTROL_TYPE, SCSI_UNIT_CONTROL_TYPE, type STOR_UNIT_CONTROL_POWER } from "./storport.js";
import { AdapterState, type RAID_ADAPTER_EXTENSION } from "./adapter.js";
import type { RAID_UNIT_EXTENSION } from "./unit.js";
import { raidStartAdapter } from "./request.js";
import { adapterControl, restartAdapter, unitControl } from "./pnp.js";
import { KeAcquireSpinLock, KeReleaseSpinLock } from "../../ke/spinlock.js";

/** How often a power-down checks that the miniport has finished what it holds, 100 ns units (negative: relative). */
const DRAIN_POLL = -10_000;

/** PowerCompletion of the device IRP requested for a system IRP: completes the system IRP with its status. */
function RaidpAdapterDevicePowerComplete(_d: DEVICE_OBJECT, _m: number, _s: POWER_STATE, Context: unknown, IoStatus: IO_STATUS_BLOCK): void {
  const SystemIrp = Context as IRP;
  SystemIrp.IoStatus.Status = IoStatus.Status;
  PoStartNextPowerIrp(SystemIrp);
  IoCompleteRequest(SystemIrp, IO_NO_INCREMENT);
}

/** IoCompletion of a system set-power IRP: the bus driver has it; request the device IRP. */
function RaidpAdapterSystemPowerComplete(_d: DEVICE_OBJECT | null, Irp: IRP, Context: unknown): NTSTATUS {
  const a = Context as RAID_ADAPTER_EXTENSION;
  if (!NT_SUCCESS(Irp.IoStatus.Status) || a.State === AdapterState.Removed) {
    PoStartNextPowerIrp(Irp);
    return STATUS_SUCCESS;
  }
  const system = IoGetCurrentIrpStackLocation(Irp).Parameters.Power.State as SYSTEM_POWER_STATE;
  const state = new POWER_STATE();
  state.DeviceState = system === SYSTEM_POWER_STATE.PowerSystemWorking ? DEVICE_POWER_STATE.PowerDeviceD0 : DEVICE_POWER_STATE.PowerDeviceD3;
  if (state.DeviceState === a.DevicePowerState) {
    PoStartNextPowerIrp(Irp);
    return STATUS_SUCCESS;
  }
  const { status } = PoRequestPowerIrp(a.PhysicalDeviceObject, IRP_MN_SET_POWER, state, RaidpAdapterDevicePowerComplete, Irp);
  if (status !== STATUS_PENDING) {
    PoStartNextPowerIrp(Irp);
    return STATUS_SUCCESS;
  }
  return STATUS_MORE_PROCESSING_REQUIRED;
}

/** Waits until the miniport holds nothing (PASSIVE_LEVEL). */
async function drain(a: RAID_ADAPTER_EXTENSION): Promise<void> {
  while (a.Outstanding > 0) await KeDelayExecutionThread(KPROCESSOR_MODE.KernelMode, false, DRAIN_POLL);
}

/** Leaving D0: no new requests, the miniport finishes what it has, then stops its hardware. */
async function powerDown(a: RAID_ADAPTER_EXTENSION, state: DEVICE_POWER_STATE): Promise<void> {
  a.DevicePowerState = state;
  await drain(a);
  // ScsiSetBootConfig runs at PASSIVE_LEVEL with no lock held; ScsiStopAdapter under the StartIo lock.
  adapterControl(a, SCSI_ADAPTER_CONTROL_TYPE.ScsiSetBootConfig, null);
  const irql = KeAcquireSpinLock(a.StartIoLock);
  try {
    adapterControl(a, SCSI_ADAPTER_CONTROL_TYPE.ScsiStopAdapter, null);
  } finally {
    KeReleaseSpinLock(a.StartIoLock, irql);
  }
  PoSetPowerState(a.DeviceObject, POWER_STATE_TYPE.DevicePowerState, new POWER_STATE(state));
}

/** IRP_MJ_POWER on the adapter. */
export async function RaidAdapterPower(a: RAID_ADAPTER_EXTENSION, Irp: IRP): Promise<NTSTATUS> {
  const s = IoGetCurrentIrpStackLocation(Irp);
  if (s.MinorFunction !== IRP_MN_SET_POWER || a.State !== AdapterState.Running && a.State !== AdapterState.Stopped) {
    PoStartNextPowerIrp(Irp);
    IoSkipCurrentIrpStackLocation(Irp);
    return PoCallDriver(a.LowerDeviceObject!, Irp);
  }
  if (s.Parameters.Power.Type === POWER_STATE_TYPE.SystemPowerState) {
    IoMarkIrpPending(Irp);
    IoCopyCurrentIrpStackLocationToNext(Irp);
    IoSetCompletionRoutine(Irp, RaidpAdapterSystemPowerComplete, a, true, true, true);
    await PoCallDriver(a.LowerDeviceObject!, Irp);
    return STATUS_PENDING;
  }
  const state = s.Parameters.Power.State as DEVICE_POWER_STATE;
  if (state === DEVICE_POWER_STATE.PowerDeviceD0) {
    await IoForwardIrpSynchronously(a.LowerDeviceObject!, Irp);
    const status = Irp.IoStatus.Status;
    if (NT_SUCCESS(status) && a.DevicePowerState !== DEVICE_POWER_STATE.PowerDeviceD0) {
      const restarted = await restartAdapter(a);
      a.DevicePowerState = DEVICE_POWER_STATE.PowerDeviceD0;
      PoSetPowerState(a.DeviceObject, POWER_STATE_TYPE.DevicePowerState, new POWER_STATE(DEVICE_POWER_STATE.PowerDeviceD0));
      const k = KE();
      k.recorder.note(k.cpu.time, `storport: adapter back in D0${restarted ? "" : " (restart failed)"}`, a.Service, "RaidAdapterPowerUp", k.cpu.Number);
      raidStartAdapter(a);
    }
    PoStartNextPowerIrp(Irp);
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
  }
  if (a.DevicePowerState === DEVICE_POWER_STATE.PowerDeviceD0 && a.State === AdapterState.Running) await powerDown(a, state);
  else a.DevicePowerState = state;
  PoStartNextPowerIrp(Irp);
  IoSkipCurrentIrpStackLocation(Irp);
  return PoCallDriver(a.LowerDeviceObject!, Irp);
}

/** IRP_MJ_POWER on a unit: system IRPs succeed; device IRPs set the unit's state (and tell the miniport). */
export function RaidUnitPower(u: RAID_UNIT_EXTENSION, Irp: IRP): NTSTATUS {
  const s = IoGetCurrentIrpStackLocation(Irp);
  let status = Irp.IoStatus.Status;
  if (s.MinorFunction === IRP_MN_SET_POWER) {
    if (s.Parameters.Power.Type === POWER_STATE_TYPE.DevicePowerState) {
      const state = s.Parameters.Power.State as DEVICE_POWER_STATE;
      const parameters: STOR_UNIT_CONTROL_POWER = { Address: { Path: u.PathId, Target: u.TargetId, Lun: u.Lun }, PowerAction: s.Parameters.Power.ShutdownType, PowerState: state };
      unitControl(u.Adapter, SCSI_UNIT_CONTROL_TYPE.ScsiUnitPower, parameters);
      u.DevicePowerState = state;
      if (u.DeviceObject) PoSetPowerState(u.DeviceObject, POWER_STATE_TYPE.DevicePowerState, new POWER_STATE(state));
    }
    status = STATUS_SUCCESS;
  } else if (s.MinorFunction === IRP_MN_QUERY_POWER) {
    status = STATUS_SUCCESS;
  }
  Irp.IoStatus.Status = status;
  PoStartNextPowerIrp(Irp);
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
  return status;
}

