/**
 * The device tree: one DEVICE_NODE per physical device object, with its state (as
 * `!devnode` shows it: State, Previous State, the state history), its problem code and
 * status, and what the PnP manager learned from the bus (IDs, capabilities, resources).
 */
import type { DEVICE_OBJECT } from "../io/objects.js";
import type { AssignedResources } from "../io/resources.js";
import type { DEVICE_CAPABILITIES } from "./minor.js";

/** PNP_DEVNODE_STATE: where a device node is in its life. */
export enum PNP_DEVNODE_STATE {
  DeviceNodeUnspecified = 0x300,
  DeviceNodeUninitialized = 0x301,
  DeviceNodeInitialized = 0x302,
  DeviceNodeDriversAdded = 0x303,
  DeviceNodeResourcesAssigned = 0x304,
  DeviceNodeStartPending = 0x305,
  DeviceNodeStartCompletion = 0x306,
  DeviceNodeStartPostWork = 0x307,
  DeviceNodeStarted = 0x308,
  DeviceNodeQueryStopped = 0x309,
  DeviceNodeStopped = 0x30A,
  DeviceNodeRestartCompletion = 0x30B,
  DeviceNodeEnumeratePending = 0x30C,
  DeviceNodeEnumerateCompletion = 0x30D,
  DeviceNodeAwaitingQueuedDeletion = 0x30E,
  DeviceNodeAwaitingQueuedRemoval = 0x30F,
  DeviceNodeQueryRemoved = 0x310,
  DeviceNodeRemovePendingCloses = 0x311,
  DeviceNodeRemoved = 0x312,
  DeviceNodeDeletePendingCloses = 0x313,
  DeviceNodeDeleted = 0x314,
}

// Problem codes (CM_PROB_*), as Device Manager numbers them.
export const CM_PROB_NOT_CONFIGURED = 0x01;
export const CM_PROB_FAILED_START = 0x0A;
export const CM_PROB_NORMAL_CONFLICT = 0x0C;
export const CM_PROB_WILL_BE_REMOVED = 0x15;
export const CM_PROB_DISABLED = 0x16;
export const CM_PROB_DEVICE_NOT_THERE = 0x18;
export const CM_PROB_FAILED_INSTALL = 0x1C;
export const CM_PROB_FAILED_ADD = 0x1F;
export const CM_PROB_FAILED_DRIVER_ENTRY = 0x25;
export const CM_PROB_DRIVER_FAILED_LOAD = 0x27;
export const CM_PROB_FAILED_POST_START = 0x2B;
export const CM_PROB_HELD_FOR_EJECT = 0x2F;

/** Problem code names (CM_PROB_*, cfg.h), for inspection. */
export const CM_PROB_NAMES: Record<number, string> = {
  1: "CM_PROB_NOT_CONFIGURED", 3: "CM_PROB_OUT_OF_MEMORY", 9: "CM_PROB_INVALID_DATA", 10: "CM_PROB_FAILED_START",
  12: "CM_PROB_NORMAL_CONFLICT", 14: "CM_PROB_NEED_RESTART", 16: "CM_PROB_PARTIAL_LOG_CONF", 18: "CM_PROB_REINSTALL",
  19: "CM_PROB_REGISTRY", 21: "CM_PROB_WILL_BE_REMOVED", 22: "CM_PROB_DISABLED", 24: "CM_PROB_DEVICE_NOT_THERE",
  28: "CM_PROB_FAILED_INSTALL", 29: "CM_PROB_HARDWARE_DISABLED", 31: "CM_PROB_FAILED_ADD", 32: "CM_PROB_DISABLED_SERVICE",
  33: "CM_PROB_TRANSLATION_FAILED", 34: "CM_PROB_NO_SOFTCONFIG", 35: "CM_PROB_BIOS_TABLE", 36: "CM_PROB_IRQ_TRANSLATION_FAILED",
  37: "CM_PROB_FAILED_DRIVER_ENTRY", 38: "CM_PROB_DRIVER_FAILED_PRIOR_UNLOAD", 39: "CM_PROB_DRIVER_FAILED_LOAD",
  40: "CM_PROB_DRIVER_SERVICE_KEY_INVALID", 41: "CM_PROB_LEGACY_SERVICE_NO_DEVICES", 42: "CM_PROB_DUPLICATE_DEVICE",
  43: "CM_PROB_FAILED_POST_START", 44: "CM_PROB_HALTED", 45: "CM_PROB_PHANTOM", 46: "CM_PROB_SYSTEM_SHUTDOWN",
  47: "CM_PROB_HELD_FOR_EJECT", 48: "CM_PROB_DRIVER_BLOCKED", 49: "CM_PROB_REGISTRY_TOO_LARGE", 50: "CM_PROB_SETPROPERTIES_FAILED",
  51: "CM_PROB_WAITING_ON_DEPENDENCY", 52: "CM_PROB_UNSIGNED_DRIVER", 53: "CM_PROB_USED_BY_DEBUGGER", 54: "CM_PROB_DEVICE_RESET",
  55: "CM_PROB_CONSOLE_LOCKED", 56: "CM_PROB_NEED_CLASS_CONFIG",
};

/** Bytes of a DEVICE_NODE (x64), for its address. */
export const DEVICE_NODE_SIZE = 0x2B0;

/** Entries kept in DEVICE_NODE.StateHistory. */
export const DEVNODE_STATE_HISTORY = 20;

/** A node of the device tree. */
export class DEVICE_NODE {
  readonly Child: DEVICE_NODE[] = [];
  State = PNP_DEVNODE_STATE.DeviceNodeUninitialized;
  PreviousState = PNP_DEVNODE_STATE.DeviceNodeUnspecified;
  /** Earlier states, oldest first (at most DEVNODE_STATE_HISTORY). */
  readonly StateHistory: PNP_DEVNODE_STATE[] = [];
  /** "PCI\\VEN_1234&DEV_11E8&SUBSYS_11001AF4&REV_10\\2&619bc8df&0&18". */
  InstancePath = "";
  HardwareIds: string[] = [];
  CompatibleIds: string[] = [];
  /** IRP_MN_QUERY_DEVICE_TEXT's description, if the bus gave one. */
  Description = "";
  /** IRP_MN_QUERY_DEVICE_TEXT's location information, if the bus gave it. */
  Location = "";
  /** IRP_MN_QUERY_BUS_INFORMATION's bus type GUID. */
  BusTypeGuid = "";
  /** Service of the function driver, "" if none. */
  ServiceName = "";
  /** Setup class of the function driver's package, name and GUID ("" if none). */
  ClassName = "";
  ClassGuid = "";
  /** CM_PROB_* (0: none). */
  Problem = 0;
  /** The NTSTATUS behind Problem. */
  ProblemStatus = 0;
  /** What the bus reported in IRP_MN_QUERY_CAPABILITIES. */
  capabilities: DEVICE_CAPABILITIES | null = null;
  /** PNP_DEVICE_STATE flags from the last IRP_MN_QUERY_PNP_DEVICE_STATE. */
  pnpDeviceState = 0;
  resources: AssignedResources | null = null;
  /** The parent node (null for the root, and once unlinked). */
  Parent: DEVICE_NODE | null;

  /** Kernel-space address (for inspection). */
  readonly address: number;

  constructor(parent: DEVICE_NODE | null, readonly PhysicalDeviceObject: DEVICE_OBJECT, address: number) {
    this.address = address;
    this.Parent = parent;
    parent?.Child.push(this);
  }

  /** Moves to `state`, remembering the one before. */
  setState(state: PNP_DEVNODE_STATE): void {
    if (state === this.State) return;
    this.StateHistory.push(this.State);
    if (this.StateHistory.length > DEVNODE_STATE_HISTORY) this.StateHistory.shift();
    this.PreviousState = this.State;
    this.State = state;
  }

  /** Records a problem and its status. */
  setProblem(problem: number, status: number): void {
    this.Problem = problem;
    this.ProblemStatus = status;
  }

  /** Takes the node out of its parent's list of children. */
  unlink(): void {
    const p = this.Parent;
    if (!p) return;
    const i = p.Child.indexOf(this);
    if (i >= 0) p.Child.splice(i, 1);
    this.Parent = null;
  }
}
