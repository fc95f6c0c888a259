/**
 * IRP_MJ_SCSI on a unit's PDO: the port fills in the unit's address, then queues requests
 * for the miniport (EXECUTE_SCSI and the functions a miniport may handle) or carries out
 * the queue-management functions itself: RELEASE_QUEUE (unfreeze), FLUSH_QUEUE (fail what
 * waits), LOCK_QUEUE / UNLOCK_QUEUE, CLAIM_DEVICE / RELEASE_DEVICE, RESET_BUS. A removed
 * unit fails everything with SRB_STATUS_NO_DEVICE.
 */
import { KE } from "../../ke/kernel.js";
import { DISPATCH_LEVEL } from "../../ke/irql.js";
import { raiseTo, lowerTo } from "../../ke/level.js";
import { KeAcquireSpinLockAtDpcLevel, KeReleaseSpinLockFromDpcLevel } from "../../ke/spinlock.js";
import type { DEVICE_OBJECT } from "../../io/objects.js";
import { IoCompleteRequest, IO_NO_INCREMENT, type IRP } from "../../io/irp.js";
import { STATUS_INVALID_PARAMETER, type NTSTATUS } from "../../ke/ntstatus.js";
import {
  SRB_FUNCTION_ABORT_COMMAND, SRB_FUNCTION_CLAIM_DEVICE, SRB_FUNCTION_DUMP_POINTERS, SRB_FUNCTION_EXECUTE_SCSI, SRB_FUNCTION_FLUSH,
  SRB_FUNCTION_FLUSH_QUEUE, SRB_FUNCTION_FREE_DUMP_POINTERS, SRB_FUNCTION_IO_CONTROL, SRB_FUNCTION_LOCK_QUEUE, SRB_FUNCTION_PNP, SRB_FUNCTION_POWER,
  SRB_FUNCTION_RELEASE_DEVICE, SRB_FUNCTION_RELEASE_QUEUE, SRB_FUNCTION_RESET_BUS, SRB_FUNCTION_RESET_DEVICE, SRB_FUNCTION_RESET_LOGICAL_UNIT,
  SRB_FUNCTION_SHUTDOWN, SRB_FUNCTION_UNLOCK_QUEUE, SRB_FUNCTION_WMI, SRB_STATUS_BUSY, SRB_STATUS_ERROR,
  SRB_STATUS_INVALID_REQUEST, SRB_STATUS_NO_DEVICE, SRB_STATUS_REQUEST_FLUSHED, SRB_STATUS_SUCCESS, SrbGetSrbFunction, STORAGE_REQUEST_BLOCK, type SRB,
} from "../storage/srb.js";
import { AdapterState } from "./adapter.js";
import type { RAID_UNIT_EXTENSION } from "./unit.js";
import { callMiniport, raidCompleteIrp, raidFlushPending, raidQueueRequest, raidStartUnit, srbOfIrp } from "./request.js";

/** SRB functions the port passes to the miniport through the unit's queue. */
const MINIPORT_FUNCTIONS = new Set([
  SRB_FUNCTION_EXECUTE_SCSI, SRB_FUNCTION_IO_CONTROL, SRB_FUNCTION_SHUTDOWN, SRB_FUNCTION_FLUSH, SRB_FUNCTION_ABORT_COMMAND,
  SRB_FUNCTION_RESET_LOGICAL_UNIT, SRB_FUNCTION_RESET_DEVICE, SRB_FUNCTION_POWER, SRB_FUNCTION_PNP, SRB_FUNCTION_WMI,
  SRB_FUNCTION_DUMP_POINTERS, SRB_FUNCTION_FREE_DUMP_POINTERS,
]);

/** Puts the unit's address into the SRB, as the port does before a request goes anywhere. */
function address(unit: RAID_UNIT_EXTENSION, srb: SRB, irp: IRP): void {
  if (srb instanceof STORAGE_REQUEST_BLOCK) {
    srb.Address.Path = unit.PathId;
    srb.Address.Target = unit.TargetId;
    srb.Address.Lun = unit.Lun;
  } else {
    srb.PathId = unit.PathId;
    srb.TargetId = unit.TargetId;
    srb.Lun = unit.Lun;
  }
  srb.OriginalRequest = irp;
}

/** IRP_MJ_SCSI on a unit. */
export function RaidUnitScsi(unit: RAID_UNIT_EXTENSION, Irp: IRP): NTSTATUS {
  const srb = srbOfIrp(Irp);
  if (!srb) {
    Irp.IoStatus.Status = STATUS_INVALID_PARAMETER;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_INVALID_PARAMETER;
  }
  address(unit, srb, Irp);
  const fn = SrbGetSrbFunction(srb);
  if (unit.Removed || unit.Adapter.State === AdapterState.Removed) return done(Irp, srb, SRB_STATUS_NO_DEVICE);
  // Flush and shutdown go to a miniport only when it said its adapter caches data.
  if ((fn === SRB_FUNCTION_FLUSH || fn === SRB_FUNCTION_SHUTDOWN) && !unit.Adapter.ConfigInfo.CachesData) return done(Irp, srb, SRB_STATUS_SUCCESS);
  if (MINIPORT_FUNCTIONS.has(fn)) return raidQueueRequest(unit, Irp);
  switch (fn) {
    case SRB_FUNCTION_RELEASE_QUEUE:
      unit.Frozen = false;
      done(Irp, srb, SRB_STATUS_SUCCESS);
      raidStartUnit(unit);
      return srbStatusResult(Irp);
    case SRB_FUNCTION_FLUSH_QUEUE:
      raidFlushPending(unit, SRB_STATUS_REQUEST_FLUSHED);
      unit.Frozen = false;
      return done(Irp, srb, SRB_STATUS_SUCCESS);
    case SRB_FUNCTION_LOCK_QUEUE:
      unit.Locked = true;
      return done(Irp, srb, SRB_STATUS_SUCCESS);
    case SRB_FUNCTION_UNLOCK_QUEUE:
      unit.Locked = false;
      done(Irp, srb, SRB_STATUS_SUCCESS);
      raidStartUnit(unit);
      return srbStatusResult(Irp);
    case SRB_FUNCTION_CLAIM_DEVICE: {
      const claimant = srb.DataBuffer as unknown as DEVICE_OBJECT | number;
      if (unit.ClaimedBy) return done(Irp, srb, SRB_STATUS_BUSY);
      unit.ClaimedBy = typeof claimant === "object" ? claimant : unit.DeviceObject;
      return done(Irp, srb, SRB_STATUS_SUCCESS);
    }
    case SRB_FUNCTION_RELEASE_DEVICE:
      unit.ClaimedBy = null;
      return done(Irp, srb, SRB_STATUS_SUCCESS);
    case SRB_FUNCTION_RESET_BUS:
      return done(Irp, srb, resetBus(unit) ? SRB_STATUS_SUCCESS : SRB_STATUS_ERROR);
    default:
      return done(Irp, srb, SRB_STATUS_INVALID_REQUEST);
  }
}

/** Completes the SRB's IRP now with `srbStatus`; returns the IRP's status. */
function done(Irp: IRP, srb: SRB, srbStatus: number): NTSTATUS {
  raidCompleteIrp(Irp, srb, srbStatus);
  return srbStatusResult(Irp);
}

function srbStatusResult(Irp: IRP): NTSTATUS {
  return Irp.IoStatus.Status;
}

/** SRB_FUNCTION_RESET_BUS: HwResetBus with the StartIo lock held. */
function resetBus(unit: RAID_UNIT_EXTENSION): boolean {
  const a = unit.Adapter;
  const reset = a.Hw.HwResetBus;
  if (!reset) return false;
  const k = KE();
  const old = k.cpu.irql < DISPATCH_LEVEL ? raiseTo(k, DISPATCH_LEVEL) : -1;
  KeAcquireSpinLockAtDpcLevel(a.StartIoLock);
  try {
    return callMiniport(k, { driver: a.Service, routine: reset.name || "HwResetBus" }, reset, a.HwDeviceExtension, unit.PathId);
  } finally {
    KeReleaseSpinLockFromDpcLevel(a.StartIoLock);
    if (old >= 0) lowerTo(k, k.cpu, old);
  }
}
