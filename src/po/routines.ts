/**
 * The power manager's routines drivers call: PoCallDriver, PoStartNextPowerIrp,
 * PoSetPowerState and PoRequestPowerIrp, with Windows Vista and later semantics
 * (PoCallDriver is IoCallDriver; PoStartNextPowerIrp does nothing but is still legal).
 */
import { KE } from "../ke/kernel.js";
import { STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER_2, STATUS_MORE_PROCESSING_REQUIRED, STATUS_NOT_SUPPORTED, STATUS_PENDING, type NTSTATUS } from "../ke/ntstatus.js";
import {
  IO_STATUS_BLOCK, IoAllocateIrp, IoCallDriver, IoFreeIrp, IoGetNextIrpStackLocation, IoSetCompletionRoutine, IoSetNextIrpStackLocation, IRP_MJ_POWER,
  type IRP,
} from "../io/irp.js";
import { topOfStack, type DEVICE_OBJECT } from "../io/objects.js";
import { PO } from "./manager.js";
import {
  IRP_MN_QUERY_POWER, IRP_MN_SET_POWER, IRP_MN_WAIT_WAKE, POWER_STATE, POWER_STATE_TYPE, powerStateName,
} from "./power.js";

/**
 * PowerCompletion(DeviceObject, MinorFunction, PowerState, Context, IoStatus): called
 * once every driver has completed a requested power IRP (at PASSIVE_LEVEL or
 * DISPATCH_LEVEL). DeviceObject is the target given to PoRequestPowerIrp.
 */
export type PREQUEST_POWER_COMPLETE = (DeviceObject: DEVICE_OBJECT, MinorFunction: number, PowerState: POWER_STATE, Context: unknown, IoStatus: IO_STATUS_BLOCK) => void;

/** PoCallDriver: passes a power IRP to the next lower driver; returns what IoCallDriver returns. */
export function PoCallDriver(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS | Promise<NTSTATUS> {
  return IoCallDriver(DeviceObject, Irp);
}

/**
 * PoStartNextPowerIrp: tells the power manager the driver is ready for the next power
 * IRP. Since Windows Vista it performs no power management operation; drivers written
 * for earlier versions call it and it is charged as a call.
 */
export function PoStartNextPowerIrp(_Irp: IRP): void {
  const k = KE();
  k.chargePs(k.cost.PoStartNextPowerIrp);
}

/**
 * PoSetPowerState: tells the power manager the new power state of `DeviceObject` (drivers
 * pass DevicePowerState: after reaching D0, and before leaving it). Returns the previous
 * state the power manager held for it (PowerDeviceUnspecified before the first call).
 */
export function PoSetPowerState(DeviceObject: DEVICE_OBJECT, Type: POWER_STATE_TYPE, State: POWER_STATE): POWER_STATE {
  const k = KE();
  k.chargePs(k.cost.PoSetPowerState);
  const previous = PO(k).record(DeviceObject, Type, State.value);
  k.recorder.note(k.cpu.time, `PoSetPowerState ${powerStateName(Type, State.value)}`, k.attribution().driver, k.attribution().routine, k.cpu.Number);
  return new POWER_STATE(previous);
}

/**
 * PoRequestPowerIrp: allocates a power IRP (IRP_MN_SET_POWER or IRP_MN_QUERY_POWER for a
 * device power state, or IRP_MN_WAIT_WAKE with the lowest system state to wake from),
 * sends it to the top of `DeviceObject`'s device stack, and returns STATUS_PENDING with
 * the IRP (use it only to cancel a wait/wake IRP). The IRP starts with IoStatus.Status =
 * STATUS_NOT_SUPPORTED; a set or query carries the current system transition's action in
 * ShutdownType (PowerActionNone when none). It is sent from a power manager thread at
 * PASSIVE_LEVEL; when every driver has completed it the power manager calls
 * `CompletionFunction` with `Context` and the final IoStatus, then frees the IRP. Another
 * minor code: STATUS_INVALID_PARAMETER_2 and nothing is sent. Callable at IRQL <= DISPATCH_LEVEL.
 */
export function PoRequestPowerIrp(DeviceObject: DEVICE_OBJECT, MinorFunction: number, PowerState: POWER_STATE, CompletionFunction: PREQUEST_POWER_COMPLETE | null, Context: unknown): { status: NTSTATUS; Irp: IRP | null } {
  const k = KE();
  k.chargePs(k.cost.PoRequestPowerIrp);
  if (MinorFunction !== IRP_MN_SET_POWER && MinorFunction !== IRP_MN_QUERY_POWER && MinorFunction !== IRP_MN_WAIT_WAKE) {
    return { status: STATUS_INVALID_PARAMETER_2, Irp: null };
  }
  const requester = k.attribution().driver;
  const requested = new POWER_STATE(PowerState.value);
  return k.invoke("nt", "PoRequestPowerIrp", () => {
    const top = topOfStack(DeviceObject);
    // One location more than the stack needs: the power manager's own, above the top driver's.
    const irp = IoAllocateIrp(top.StackSize + 1, false);
    if (!irp) return { status: STATUS_INSUFFICIENT_RESOURCES, Irp: null };
    IoSetNextIrpStackLocation(irp);
    irp.IoStatus.Status = STATUS_NOT_SUPPORTED;
    irp.IoStatus.Information = 0;
    const s = IoGetNextIrpStackLocation(irp);
    s.MajorFunction = IRP_MJ_POWER;
    s.MinorFunction = MinorFunction;
    if (MinorFunction === IRP_MN_WAIT_WAKE) {
      // Parameters.WaitWake.PowerState: the union's first member.
      s.Parameters.Others.Argument1 = requested.SystemState;
    } else {
      s.Parameters.Power.SystemContext = 0;
      s.Parameters.Power.Type = POWER_STATE_TYPE.DevicePowerState;
      s.Parameters.Power.State = requested.DeviceState;
      s.Parameters.Power.ShutdownType = PO(k).currentAction;
    }
    IoSetCompletionRoutine(irp, function PopRequestCompletion(_d, Irp) {
      const status = new IO_STATUS_BLOCK();
      status.Status = Irp.IoStatus.Status;
      status.Information = Irp.IoStatus.Information;
      IoFreeIrp(Irp);
      if (CompletionFunction) {
        k.invoke(requester, CompletionFunction.name || "PowerCompletion", () => CompletionFunction(DeviceObject, MinorFunction, new POWER_STATE(requested.value), Context, status));
      }
      return STATUS_MORE_PROCESSING_REQUIRED;
    }, null, true, true, true);
    k.scheduler.createThread("PopIrpWorker", () => IoCallDriver(top, irp));
    return { status: STATUS_PENDING, Irp: irp };
  });
}
