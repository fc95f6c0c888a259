/**
 * The PnP routines drivers call to ask for changes, and the same changes as a library
 * API for tests and workloads. Each queues an action for the PnP manager's thread (so a
 * driver may call it at IRQL <= DISPATCH_LEVEL) and returns at once; the library forms
 * run the action and resolve when it is done.
 */
import { KE } from "../ke/kernel.js";
import { DRIVER_VERIFIER_IOMANAGER_VIOLATION } from "../ke/bugcheck.js";
import type { DEVICE_OBJECT } from "../io/objects.js";
import { MM } from "../mm/manager.js";
import { PNP, type PnpManager } from "./manager.js";
import { PNP_DEVNODE_STATE, type DEVICE_NODE } from "./devnode.js";
import { DEVICE_RELATION_TYPE } from "./minor.js";

/** Verifier 0xC9: a routine that needs a PDO was passed another device object. */
export const VERIFIER_NOT_A_PDO = 0x24D;

/** The node of a PDO; anything else is 0xC9 0x24D under the verifier (and an error without it). */
function nodeOfPdo(pnp: PnpManager, device: DEVICE_OBJECT, routine: string): DEVICE_NODE {
  const node = pnp.nodeOf(device);
  if (node) return node;
  const k = pnp.k;
  if (k.verifier) k.bugCheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, VERIFIER_NOT_A_PDO, MM(k).codeAddress(k.attribution().driver, k.attribution().routine), 0, device.address);
  throw new Error(`${routine}: ${device.name || "the device object"} is not a physical device object`);
}

/**
 * IoInvalidateDeviceRelations: the bus driver's children changed; the PnP manager asks
 * for BusRelations again. Other relation types do nothing here: this PnP manager keeps no
 * ejection, removal or power relations.
 */
export function IoInvalidateDeviceRelations(DeviceObject: DEVICE_OBJECT, Type: DEVICE_RELATION_TYPE): void {
  const pnp = PNP();
  const node = nodeOfPdo(pnp, DeviceObject, "IoInvalidateDeviceRelations");
  if (Type !== DEVICE_RELATION_TYPE.BusRelations) return;
  pnp.queueAction("PiEnumerate", () => pnp.enumerate(node));
}

/** IoInvalidateDeviceState: the PnP manager sends IRP_MN_QUERY_PNP_DEVICE_STATE to the device's stack. */
export function IoInvalidateDeviceState(PhysicalDeviceObject: DEVICE_OBJECT): void {
  const pnp = PNP();
  const node = nodeOfPdo(pnp, PhysicalDeviceObject, "IoInvalidateDeviceState");
  pnp.queueAction("PiQueryDeviceState", async () => {
    if (node.State === PNP_DEVNODE_STATE.DeviceNodeStarted) await pnp.queryDeviceState(node);
  });
}

/** IoRequestDeviceEject: queries removal of the device and everything below it, removes them and sends IRP_MN_EJECT. */
export function IoRequestDeviceEject(PhysicalDeviceObject: DEVICE_OBJECT): void {
  const pnp = PNP();
  const node = nodeOfPdo(pnp, PhysicalDeviceObject, "IoRequestDeviceEject");
  pnp.queueAction("PiEject", async () => {
    await pnp.removal.eject(node);
  });
}

/** True when the node is started (read through a function: the state changes under an await). */
function started(node: DEVICE_NODE): boolean {
  return node.State === PNP_DEVNODE_STATE.DeviceNodeStarted;
}

/** What a library PnP request did. */
export interface PnpRequestResult {
  /** False when a driver vetoed (failed the query). */
  ok: boolean;
}

/** Runs a PnP change on the PnP manager's thread and waits for it (PASSIVE_LEVEL, kernel code). */
async function request(name: string, node: DEVICE_NODE, change: (pnp: PnpManager, node: DEVICE_NODE) => Promise<boolean>): Promise<PnpRequestResult> {
  const pnp = PNP(KE());
  let ok = false;
  await pnp.perform(name, async () => {
    ok = await change(pnp, node);
  });
  return { ok };
}

/** Disables a device (as Device Manager does): orderly removal; the node stays with CM_PROB_DISABLED. */
export function disableDevice(node: DEVICE_NODE): Promise<PnpRequestResult> {
  return request("PiDisable", node, (pnp, n) => pnp.removal.remove(n));
}

/** Enables a removed (disabled) device: drivers are bound and the device started again. */
export function enableDevice(node: DEVICE_NODE): Promise<PnpRequestResult> {
  return request("PiEnable", node, async (pnp, n) => {
    if (n.State !== PNP_DEVNODE_STATE.DeviceNodeRemoved) return false;
    n.setProblem(0, 0);
    await pnp.processDevice(n);
    return started(n);
  });
}

/** Ejects a device (IoRequestDeviceEject, waiting for the outcome). */
export function ejectDevice(node: DEVICE_NODE): Promise<PnpRequestResult> {
  return request("PiEject", node, (pnp, n) => pnp.removal.eject(n));
}

/** Stops a started device for rebalancing (QUERY_STOP, STOP); it stays stopped until restartDevice. */
export function stopDevice(node: DEVICE_NODE): Promise<PnpRequestResult> {
  return request("PiStop", node, (pnp, n) => pnp.removal.stop(n));
}

/** Starts a stopped device again with the resources it had. */
export function restartDevice(node: DEVICE_NODE): Promise<PnpRequestResult> {
  return request("PiRestart", node, async (pnp, n) => {
    if (n.State !== PNP_DEVNODE_STATE.DeviceNodeStopped) return false;
    await pnp.startDevice(n);
    return started(n);
  });
}

/** Asks a device for its children again (IoInvalidateDeviceRelations, waiting for the outcome). */
export function enumerateDevice(node: DEVICE_NODE): Promise<PnpRequestResult> {
  return request("PiEnumerate", node, async (pnp, n) => {
    await pnp.enumerate(n);
    return true;
  });
}
