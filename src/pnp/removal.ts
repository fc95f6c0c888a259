/**
 * Taking devices away, as the PnP manager does it:
 *
 * - Orderly removal (disable, eject): IRP_MN_QUERY_REMOVE_DEVICE to the device and every
 *   device below it, children first; one failure vetoes it and those already asked get
 *   IRP_MN_CANCEL_REMOVE_DEVICE. Then IRP_MN_REMOVE_DEVICE, children first; for an eject,
 *   IRP_MN_EJECT to the device's (now bare) PDO and a fresh look at its parent's children.
 * - Surprise removal (the bus stops listing a running device, or the device reports
 *   itself failed): IRP_MN_SURPRISE_REMOVAL to the device and everything below it; each
 *   then gets IRP_MN_REMOVE_DEVICE once its children are removed and the last file object
 *   open on its stack is closed (the node waits in DeviceNodeRemovePendingCloses).
 * - Stop for rebalancing: IRP_MN_QUERY_STOP_DEVICE (a failure gets
 *   IRP_MN_CANCEL_STOP_DEVICE), IRP_MN_STOP_DEVICE, and later START_DEVICE again.
 *
 * After each REMOVE the verifier checks that every driver above the PDO detached
 * (0xC9 0x21D) and deleted (0xC9 0x21E) its device object, interfaces still enabled are
 * disabled, and a driver left with no device objects is unloaded.
 */
import { DRIVER_VERIFIER_IOMANAGER_VIOLATION } from "../ke/bugcheck.js";
import { NT_SUCCESS } from "../ke/ntstatus.js";
import { IRP_MJ_PNP, VERIFIER_REMOVE_NOT_DELETED, VERIFIER_REMOVE_NOT_DETACHED } from "../io/irp.js";
import type { DEVICE_OBJECT, DRIVER_OBJECT } from "../io/objects.js";
import { MM } from "../mm/manager.js";
import { disableDeviceInterfaces } from "../io/interfaces.js";
import {
  CM_PROB_DISABLED, CM_PROB_FAILED_POST_START, CM_PROB_HELD_FOR_EJECT, PNP_DEVNODE_STATE, type DEVICE_NODE,
} from "./devnode.js";
import {
  IRP_MN_CANCEL_REMOVE_DEVICE, IRP_MN_CANCEL_STOP_DEVICE, IRP_MN_EJECT, IRP_MN_QUERY_REMOVE_DEVICE, IRP_MN_QUERY_STOP_DEVICE, IRP_MN_REMOVE_DEVICE,
  IRP_MN_STOP_DEVICE, IRP_MN_SURPRISE_REMOVAL,
} from "./minor.js";
import type { PnpManager } from "./manager.js";

const S = PNP_DEVNODE_STATE;

/** States in which a node has its drivers attached and may be running. */
const HAS_DRIVERS = new Set([
  S.DeviceNodeDriversAdded, S.DeviceNodeResourcesAssigned, S.DeviceNodeStartPending, S.DeviceNodeStarted,
  S.DeviceNodeQueryStopped, S.DeviceNodeStopped, S.DeviceNodeQueryRemoved,
]);

/** `node` and every node below it, children before parents. */
export function childrenFirst(node: DEVICE_NODE): DEVICE_NODE[] {
  const out: DEVICE_NODE[] = [];
  const walk = (n: DEVICE_NODE) => {
    for (const c of n.Child) walk(c);
    out.push(n);
  };
  walk(node);
  return out;
}

/** Device objects above the PDO, bottom to top. */
function driversAbove(pdo: DEVICE_OBJECT): DEVICE_OBJECT[] {
  const out: DEVICE_OBJECT[] = [];
  for (let d = pdo.AttachedDevice; d; d = d.AttachedDevice) out.push(d);
  return out;
}

/** A node waiting for IRP_MN_REMOVE_DEVICE, and whether its device is physically gone. */
interface PendingRemoval {
  node: DEVICE_NODE;
  gone: boolean;
}

/** The removal and stop machinery of one PnP manager. */
export class DeviceRemoval {
  private readonly pending: PendingRemoval[] = [];

  constructor(private readonly pnp: PnpManager) {}

  /** File objects open on any device object of the node's stack. */
  openHandles(node: DEVICE_NODE): number {
    let n = 0;
    for (let d: DEVICE_OBJECT | null = node.PhysicalDeviceObject; d; d = d.AttachedDevice) n += d.ReferenceCount;
    return n;
  }

  /**
   * Sends IRP_MN_REMOVE_DEVICE to the node's stack, checks every driver above the PDO
   * detached and deleted its device, and unloads drivers left without devices.
   */
  async sendRemove(node: DEVICE_NODE): Promise<void> {
    const pnp = this.pnp;
    const k = pnp.k;
    const pdo = node.PhysicalDeviceObject;
    const above = driversAbove(pdo);
    const drivers = new Set<DRIVER_OBJECT>(above.map((d) => d.DriverObject));
    const irp = await pnp.sendPnp(pdo, IRP_MN_REMOVE_DEVICE);
    if (k.verifier) {
      for (const d of above) {
        const attached = d.lowerDevice !== null && d.lowerDevice.AttachedDevice === d;
        const code = attached ? VERIFIER_REMOVE_NOT_DETACHED : !d.deleted ? VERIFIER_REMOVE_NOT_DELETED : 0;
        if (code === 0) continue;
        const driver = d.DriverObject;
        const routine = driver.MajorFunction[IRP_MJ_PNP].name || "DispatchPnp";
        const dispatch = MM(k).codeAddress(driver.serviceName, routine);
        k.invoke(driver.serviceName, routine, () => k.bugCheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, code, dispatch, irp.address, d.address));
      }
    }
    // Interfaces a driver left enabled go with the device.
    disableDeviceInterfaces(pdo);
    node.resources = null;
    pdo.resources = null;
    for (const driver of drivers) if (!driver.DeviceObject) await pnp.io.unloadDriver(driver);
  }

  /** The bus no longer lists the node's PDO: the device and everything below it are gone. */
  async deviceGone(node: DEVICE_NODE): Promise<void> {
    if (HAS_DRIVERS.has(node.State)) {
      await this.surpriseRemove(node, true);
      return;
    }
    // Never started, or removed earlier while still present: the bus now deletes the PDO.
    for (const n of childrenFirst(node)) {
      await this.sendRemove(n);
      this.delete(n);
    }
  }

  /** The device reported PNP_DEVICE_FAILED or PNP_DEVICE_REMOVED: it is surprise-removed but stays in the tree. */
  async failDevice(node: DEVICE_NODE): Promise<void> {
    node.setProblem(CM_PROB_FAILED_POST_START, 0);
    await this.surpriseRemove(node, false);
  }

  /**
   * IRP_MN_SURPRISE_REMOVAL to `node` and every node below it (children first), then each
   * waits for IRP_MN_REMOVE_DEVICE. Nodes below are always gone (their bus went with
   * `node`); `node` itself stays in the tree, removed, unless `gone`.
   */
  async surpriseRemove(node: DEVICE_NODE, gone: boolean): Promise<void> {
    for (const n of childrenFirst(node)) {
      if (HAS_DRIVERS.has(n.State)) {
        await this.pnp.sendPnp(n.PhysicalDeviceObject, IRP_MN_SURPRISE_REMOVAL);
      }
      n.setState(S.DeviceNodeAwaitingQueuedRemoval);
      this.pending.push({ node: n, gone: n !== node || gone });
    }
    await this.finishRemovals();
  }

  /**
   * Sends REMOVE to every pending node whose children are removed and whose stack has no
   * open file object; the others wait in DeviceNodeRemovePendingCloses.
   */
  async finishRemovals(): Promise<void> {
    for (let progress = true; progress; ) {
      progress = false;
      for (const p of [...this.pending]) {
        const waitingForChild = p.node.Child.some((c) => this.pending.some((q) => q.node === c));
        if (waitingForChild || this.openHandles(p.node) > 0) {
          p.node.setState(S.DeviceNodeRemovePendingCloses);
          continue;
        }
        this.pending.splice(this.pending.indexOf(p), 1);
        await this.sendRemove(p.node);
        if (p.gone) this.delete(p.node);
        else p.node.setState(S.DeviceNodeRemoved);
        progress = true;
      }
    }
  }

  /** A device's last file object closed: pending removals may now proceed. */
  deviceUnreferenced(_device: DEVICE_OBJECT): void {
    if (this.pending.length > 0) this.pnp.queueAction("PiFinishRemovals", () => this.finishRemovals());
  }

  private delete(node: DEVICE_NODE): void {
    node.setState(S.DeviceNodeDeleted);
    this.pnp.dropNode(node);
  }

  /**
   * QUERY_REMOVE to the node and everything below it, children first; a failure vetoes
   * the removal and those already asked get CANCEL_REMOVE. Returns true when all agreed.
   */
  async queryRemove(node: DEVICE_NODE): Promise<boolean> {
    const asked: { node: DEVICE_NODE; state: PNP_DEVNODE_STATE }[] = [];
    for (const n of childrenFirst(node)) {
      if (!HAS_DRIVERS.has(n.State)) continue;
      const irp = await this.pnp.sendPnp(n.PhysicalDeviceObject, IRP_MN_QUERY_REMOVE_DEVICE);
      if (!NT_SUCCESS(irp.IoStatus.Status)) {
        // The stack that vetoed hears the cancel too: the drivers above the one that failed saw the query.
        await this.pnp.sendPnp(n.PhysicalDeviceObject, IRP_MN_CANCEL_REMOVE_DEVICE);
        for (const a of asked.reverse()) {
          await this.pnp.sendPnp(a.node.PhysicalDeviceObject, IRP_MN_CANCEL_REMOVE_DEVICE);
          a.node.setState(a.state);
        }
        return false;
      }
      asked.push({ node: n, state: n.State });
      n.setState(S.DeviceNodeQueryRemoved);
    }
    return true;
  }

  /**
   * Orderly removal of a node that stays present (a disable): QUERY_REMOVE, then REMOVE,
   * children first; the children are deleted, the node stays removed with `problem`.
   * Returns false when a driver vetoed.
   */
  async remove(node: DEVICE_NODE, problem = CM_PROB_DISABLED): Promise<boolean> {
    if (!(await this.queryRemove(node))) return false;
    for (const n of childrenFirst(node)) {
      await this.sendRemove(n);
      if (n === node) n.setState(S.DeviceNodeRemoved);
      else this.delete(n);
    }
    node.setProblem(problem, 0);
    return true;
  }

  /**
   * IoRequestDeviceEject: orderly removal, then IRP_MN_EJECT to the PDO and a fresh
   * enumeration of the parent (an ejected device is no longer listed). Returns false when
   * a driver vetoed.
   */
  async eject(node: DEVICE_NODE): Promise<boolean> {
    if (!(await this.remove(node, CM_PROB_HELD_FOR_EJECT))) return false;
    await this.pnp.sendPnp(node.PhysicalDeviceObject, IRP_MN_EJECT);
    if (node.Parent) await this.pnp.enumerate(node.Parent);
    return true;
  }

  /** QUERY_STOP then STOP (a failed query gets CANCEL_STOP). Returns false when vetoed. */
  async stop(node: DEVICE_NODE): Promise<boolean> {
    if (node.State !== S.DeviceNodeStarted) return false;
    const q = await this.pnp.sendPnp(node.PhysicalDeviceObject, IRP_MN_QUERY_STOP_DEVICE);
    if (!NT_SUCCESS(q.IoStatus.Status)) {
      await this.pnp.sendPnp(node.PhysicalDeviceObject, IRP_MN_CANCEL_STOP_DEVICE);
      return false;
    }
    node.setState(S.DeviceNodeQueryStopped);
    await this.pnp.sendPnp(node.PhysicalDeviceObject, IRP_MN_STOP_DEVICE);
    node.setState(S.DeviceNodeStopped);
    return true;
  }
}
