/**
 * The power manager of one machine (service "po"): it keeps the power state each driver
 * reports for its device object (PoSetPowerState) and moves the system between the
 * working state S0 and a sleep state or shutdown by sending system power IRPs
 * (S-IRPs) to the top of every started device stack:
 *
 * - Going to sleep (or shutting down) it first sends IRP_MN_QUERY_POWER to every stack;
 *   a stack that fails the query vetoes the transition: no stack is told to sleep, and
 *   every stack gets IRP_MN_SET_POWER for S0 to reaffirm the working state.
 * - Then IRP_MN_SET_POWER goes to each stack, devices farther from the root before those
 *   closer to it (children before parents).
 * - Waking up, IRP_MN_SET_POWER for S0 goes parents before children, with no query.
 *
 * Each S-IRP is sent and waited for before the next. Device power policy owners turn
 * S-IRPs into device power IRPs (PoRequestPowerIrp); the power manager never sets a
 * device power state itself.
 */
import { KE, type Kernel } from "../ke/kernel.js";
import { EVENT_TYPE, KEVENT, KeInitializeEvent, KeSetEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON } from "../ke/dispatcher.js";
import {
  NT_SUCCESS, STATUS_DEVICE_BUSY, STATUS_INVALID_DEVICE_STATE, STATUS_INVALID_PARAMETER, STATUS_MORE_PROCESSING_REQUIRED, STATUS_NOT_SUPPORTED, STATUS_PENDING,
  STATUS_SUCCESS, type NTSTATUS,
} from "../ke/ntstatus.js";
import { allocateKernelIrp, IoCallDriver, IoFreeIrp, IoGetNextIrpStackLocation, IoSetCompletionRoutine, IRP_MJ_POWER } from "../io/irp.js";
import { topOfStack, type DEVICE_OBJECT } from "../io/objects.js";
import { PNP } from "../pnp/manager.js";
import { PNP_DEVNODE_STATE, type DEVICE_NODE } from "../pnp/devnode.js";
import {
  DEVICE_POWER_STATE, IRP_MN_QUERY_POWER, IRP_MN_SET_POWER, POWER_ACTION, POWER_STATE_TYPE, SYSTEM_POWER_STATE, powerStateName,
} from "./power.js";

/** One device node's power state, as the power manager knows it. */
export interface DevicePowerReport {
  node: DEVICE_NODE;
  instancePath: string;
  /** The last system state the node's stack was set to (S0 after boot). */
  SystemState: SYSTEM_POWER_STATE;
  /** The device state its bus driver last reported for the PDO (PoSetPowerState); PowerDeviceUnspecified if never. */
  DeviceState: DEVICE_POWER_STATE;
}

/** One S-IRP the power manager sent and how it completed (in sending order). */
export interface SystemPowerIrpRecord {
  instancePath: string;
  MinorFunction: number;
  State: SYSTEM_POWER_STATE;
  ShutdownType: POWER_ACTION;
  Status: NTSTATUS;
}

/** The power manager. */
export class PowerManager {
  /** The system power state (S0 after boot). */
  SystemState: SYSTEM_POWER_STATE = SYSTEM_POWER_STATE.PowerSystemWorking;
  /** The action of the system transition in progress (PowerActionNone when none); device IRPs carry it in ShutdownType. */
  currentAction: POWER_ACTION = POWER_ACTION.PowerActionNone;
  /** Every S-IRP sent, oldest first. */
  readonly systemIrps: SystemPowerIrpRecord[] = [];
  private readonly deviceStates = new Map<DEVICE_OBJECT, DEVICE_POWER_STATE>();
  private readonly systemStates = new Map<DEVICE_OBJECT, SYSTEM_POWER_STATE>();
  private readonly nodeSystemStates = new Map<DEVICE_NODE, SYSTEM_POWER_STATE>();
  private transitioning = false;

  constructor(readonly k: Kernel) {}

  /** Records the state a driver reports for its device object; returns the previous one (PoSetPowerState). */
  record(DeviceObject: DEVICE_OBJECT, Type: POWER_STATE_TYPE, State: number): number {
    const map: Map<DEVICE_OBJECT, number> = Type === POWER_STATE_TYPE.SystemPowerState ? this.systemStates : this.deviceStates;
    const previous = map.get(DeviceObject) ?? 0;
    map.set(DeviceObject, State);
    return previous;
  }

  /** The device power state last reported for a device object (PowerDeviceUnspecified if none was). */
  devicePowerState(DeviceObject: DEVICE_OBJECT): DEVICE_POWER_STATE {
    return this.deviceStates.get(DeviceObject) ?? DEVICE_POWER_STATE.PowerDeviceUnspecified;
  }

  /** The system state a device node's stack was last set to. */
  nodeSystemState(node: DEVICE_NODE): SYSTEM_POWER_STATE {
    return this.nodeSystemStates.get(node) ?? SYSTEM_POWER_STATE.PowerSystemWorking;
  }

  /** Every device node below the root with its system state and its PDO's device state, depth first. */
  powerStates(): DevicePowerReport[] {
    const out: DevicePowerReport[] = [];
    for (const node of PNP(this.k).allNodes()) {
      if (!node.Parent) continue;
      out.push({ node, instancePath: node.InstancePath, SystemState: this.nodeSystemState(node), DeviceState: this.devicePowerState(node.PhysicalDeviceObject) });
    }
    return out;
  }

  /** Started device nodes below the root, parents before children (the order for powering up). */
  private startedNodes(): DEVICE_NODE[] {
    return [...PNP(this.k).allNodes()].filter((n) => n.Parent !== null && n.State === PNP_DEVNODE_STATE.DeviceNodeStarted);
  }

  /**
   * Moves the system to `State`: from S0 to a sleep state (S1..S4) or to shutdown (S5),
   * or from a sleep state back to S0. Runs at PASSIVE_LEVEL in a system thread and waits
   * for each S-IRP. Resolves to STATUS_SUCCESS, or to the status of the query a driver
   * failed (the system then stays in S0). `Action` defaults to PowerActionSleep for
   * S1..S3 and waking, PowerActionHibernate for S4 and PowerActionShutdown for S5. A value
   * that is no system state is STATUS_INVALID_PARAMETER; a transition that cannot be made
   * (to the current state, between sleep states, after shutdown) STATUS_INVALID_DEVICE_STATE;
   * one while another is in progress STATUS_DEVICE_BUSY. Nothing is sent then.
   */
  async setSystemPowerState(State: SYSTEM_POWER_STATE, Action?: POWER_ACTION): Promise<NTSTATUS> {
    const from = this.SystemState;
    const working = SYSTEM_POWER_STATE.PowerSystemWorking;
    if (!Number.isInteger(State) || State <= SYSTEM_POWER_STATE.PowerSystemUnspecified || State >= SYSTEM_POWER_STATE.PowerSystemMaximum) return STATUS_INVALID_PARAMETER;
    if (this.transitioning) return STATUS_DEVICE_BUSY;
    if (from === SYSTEM_POWER_STATE.PowerSystemShutdown || State === from || (State !== working && from !== working)) return STATUS_INVALID_DEVICE_STATE;
    const action = Action ?? defaultAction(State);
    this.transitioning = true;
    this.currentAction = action;
    try {
      const up = this.startedNodes();
      if (State === working) {
        for (const node of up) await this.sendSystemIrp(node, IRP_MN_SET_POWER, working, action);
        this.SystemState = working;
        return STATUS_SUCCESS;
      }
      const down = [...up].reverse();
      for (const node of down) {
        const status = await this.sendSystemIrp(node, IRP_MN_QUERY_POWER, State, action);
        if (!NT_SUCCESS(status)) {
          // Vetoed: reaffirm the working state everywhere.
          for (const n of up) await this.sendSystemIrp(n, IRP_MN_SET_POWER, working, action);
          return status;
        }
      }
      for (const node of down) await this.sendSystemIrp(node, IRP_MN_SET_POWER, State, action);
      this.SystemState = State;
      return STATUS_SUCCESS;
    } finally {
      this.currentAction = POWER_ACTION.PowerActionNone;
      this.transitioning = false;
    }
  }

  /**
   * Sends one S-IRP to the top of a node's stack (IoStatus.Status starts as
   * STATUS_NOT_SUPPORTED, as for every power IRP) and waits for it. A completed SET_POWER
   * records the node's system state (a driver cannot fail it; its status is ignored).
   */
  private async sendSystemIrp(node: DEVICE_NODE, minor: number, State: SYSTEM_POWER_STATE, Action: POWER_ACTION): Promise<NTSTATUS> {
    const top = topOfStack(node.PhysicalDeviceObject);
    const irp = allocateKernelIrp(top.StackSize);
    irp.IoStatus.Status = STATUS_NOT_SUPPORTED;
    const s = IoGetNextIrpStackLocation(irp);
    s.MajorFunction = IRP_MJ_POWER;
    s.MinorFunction = minor;
    s.Parameters.Power.SystemContext = 0;
    s.Parameters.Power.Type = POWER_STATE_TYPE.SystemPowerState;
    s.Parameters.Power.State = State;
    s.Parameters.Power.ShutdownType = Action;
    const event = new KEVENT();
    KeInitializeEvent(event, EVENT_TYPE.NotificationEvent, false);
    IoSetCompletionRoutine(irp, function PopSystemIrpCompletion(_d, _irp, context) {
      KeSetEvent(context as KEVENT, 0, false);
      return STATUS_MORE_PROCESSING_REQUIRED;
    }, event, true, true, true);
    const returned = await IoCallDriver(top, irp);
    if (returned === STATUS_PENDING) await KeWaitForSingleObject(event, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
    const status = irp.IoStatus.Status;
    IoFreeIrp(irp);
    if (minor === IRP_MN_SET_POWER) this.nodeSystemStates.set(node, State);
    this.systemIrps.push({ instancePath: node.InstancePath, MinorFunction: minor, State, ShutdownType: Action, Status: status });
    this.k.recorder.note(this.k.cpu.time, `Po: ${minor === IRP_MN_SET_POWER ? "IRP_MN_SET_POWER" : "IRP_MN_QUERY_POWER"} ${powerStateName(POWER_STATE_TYPE.SystemPowerState, State)} ${node.InstancePath}`, "", "", this.k.cpu.Number);
    return status;
  }
}

/** The action a transition to `State` implies when the caller names none. */
function defaultAction(State: SYSTEM_POWER_STATE): POWER_ACTION {
  if (State === SYSTEM_POWER_STATE.PowerSystemHibernate) return POWER_ACTION.PowerActionHibernate;
  if (State === SYSTEM_POWER_STATE.PowerSystemShutdown) return POWER_ACTION.PowerActionShutdown;
  return POWER_ACTION.PowerActionSleep;
}

/** The executing machine's power manager. */
export function PO(k: Kernel = KE()): PowerManager {
  const p = k.services.get("po");
  if (!p) throw new Error("the power manager is not initialised");
  return p as PowerManager;
}
