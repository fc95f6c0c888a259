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
export const CM_PROB_WILL_BE_REMOVED = 0x15;
export const CM_PROB_DISABLED = 0x16;
export const CM_PROB_DEVICE_NOT_THERE = 0x18;
export const CM_PROB_FAILED_INSTALL = 0x1C;
export const CM_PROB_FAILED_ADD = 0x1F;
export const CM_PROB_FAILED_DRIVER_ENTRY = 0x25;
export const CM_PROB_DRIVER_FAILED_LOAD = 0x27;
export const CM_PROB_FAILED_POST_START = 0x2B;
export const CM_PROB_HELD_FOR_EJECT = 0x2F;

/** Problem code names for inspection. */
export const CM_PROB_NAMES: Record<number, string> = {
  0x01: "CM_PROB_NOT_CONFIGURED", 0x0A: "CM_PROB_FAILED_START", 0x15: "CM_PROB_WILL_BE_REMOVED", 0x16: "CM_PROB_DISABLED",
  0x18: "CM_PROB_DEVICE_NOT_THERE", 0x1C: "CM_PROB_FAILED_INSTALL", 0x1F: "CM_PROB_FAILED_ADD",
  0x25: "CM_PROB_FAILED_DRIVER_ENTRY", 0x27: "CM_PROB_DRIVER_FAILED_LOAD", 0x2B: "CM_PROB_FAILED_POST_START",
  0x2F: "CM_PROB_HELD_FOR_EJECT",
};

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
  /** Service of the function driver, "" if none. */
  ServiceName = "";
  /** Setup class of the function driver's package ("" if none). */
  ClassName = "";
  /** Services of the stack's filters and function driver, bottom to top, as bound. */
  readonly boundServices: string[] = [];
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

  constructor(parent: DEVICE_NODE | null, readonly PhysicalDeviceObject: DEVICE_OBJECT) {
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
