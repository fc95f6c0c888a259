/** The device tree: one DEVICE_NODE per physical device object, with its state. */
import type { DEVICE_OBJECT } from "../io/objects.js";
import type { AssignedResources } from "../io/resources.js";

/** Device node states (the subset this PnP manager moves through). */
export enum PNP_DEVNODE_STATE {
  DeviceNodeUninitialized = 0x300,
  DeviceNodeInitialized = 0x301,
  DeviceNodeDriversAdded = 0x303,
  DeviceNodeResourcesAssigned = 0x304,
  DeviceNodeStartPending = 0x305,
  DeviceNodeStarted = 0x308,
  DeviceNodeStartFailed = 0x306,
  DeviceNodeRemoved = 0x312,
}

/** A node of the device tree. */
export class DEVICE_NODE {
  readonly Child: DEVICE_NODE[] = [];
  State = PNP_DEVNODE_STATE.DeviceNodeUninitialized;
  /** "PCI\\VEN_1234&DEV_11E8&SUBSYS_11001AF4&REV_10\\3&0&0&18". */
  InstancePath = "";
  HardwareIds: string[] = [];
  CompatibleIds: string[] = [];
  /** Service of the function driver, "" if none. */
  ServiceName = "";
  /** Status of the last start attempt. */
  Problem = 0;
  resources: AssignedResources | null = null;

  constructor(readonly Parent: DEVICE_NODE | null, readonly PhysicalDeviceObject: DEVICE_OBJECT) {
    Parent?.Child.push(this);
  }
}
