/**
 * Device queues: KDEVICE_QUEUE and KDEVICE_QUEUE_ENTRY, the kernel object under the I/O
 * manager's StartIo queueing (DEVICE_OBJECT.DeviceQueue), with KeInitializeDeviceQueue,
 * KeInsertDeviceQueue, KeInsertByKeyDeviceQueue, KeRemoveDeviceQueue,
 * KeRemoveByKeyDeviceQueue and KeRemoveEntryDeviceQueue.
 *
 * A queue is Busy while its device processes a request. Inserting into a queue that is
 * not busy does not queue the entry: it makes the queue busy and returns FALSE (the
 * caller starts the request itself). Removing from a busy queue with nothing queued
 * makes it not busy and returns NULL.
 *
 * IRQL: the insert and remove routines need DISPATCH_LEVEL exactly; KeInitializeDeviceQueue
 * and KeRemoveEntryDeviceQueue need <= DISPATCH_LEVEL. Under Driver Verifier (its DDI
 * compliance rules) a call at another IRQL is 0xC4 with P1 the rule's ID: IrqlDispatch
 * 0x00020003, IrqlKeDispatchLte 0x00020011. P2-P4 (the rule's text and state blocks in
 * Windows) are 0 here.
 */
import { DRIVER_VERIFIER_DETECTED_VIOLATION } from "./bugcheck.js";
import { DISPATCH_LEVEL } from "./irql.js";
import { KE, type Kernel } from "./kernel.js";
import { KSPIN_LOCK, KeAcquireSpinLockAtDpcLevel, KeReleaseSpinLockFromDpcLevel } from "./spinlock.js";
import { lowerTo, raiseTo } from "./level.js";

/** KOBJECTS: the Type of a device queue object. */
export const DeviceQueueObject = 20;
/** sizeof(KDEVICE_QUEUE) on x64, bytes (the Size field). */
export const KDEVICE_QUEUE_SIZE = 0x28;

/** 0xC4 P1: DDI compliance rule IrqlDispatch (the routine needs IRQL == DISPATCH_LEVEL). */
export const DDI_RULE_IRQL_DISPATCH = 0x00020003;
/** 0xC4 P1: DDI compliance rule IrqlKeDispatchLte (the routine needs IRQL <= DISPATCH_LEVEL). */
export const DDI_RULE_IRQL_KE_DISPATCH_LTE = 0x00020011;

/** KDEVICE_QUEUE_ENTRY: what a device queue holds (in an IRP: Tail.Overlay.DeviceQueueEntry). */
export class KDEVICE_QUEUE_ENTRY {
  /** The key KeInsertByKeyDeviceQueue sorted the entry by. */
  SortKey = 0;
  /** TRUE while the entry is in a device queue. */
  Inserted = false;

  /** `container`: the structure the entry is embedded in (what CONTAINING_RECORD gives back in C). */
  constructor(readonly container: unknown = null) {}
}

/** KDEVICE_QUEUE: a queue of entries, its spin lock and its Busy state. */
export class KDEVICE_QUEUE {
  Type = DeviceQueueObject;
  Size = KDEVICE_QUEUE_SIZE;
  /** The queued entries, head first. */
  readonly DeviceListHead: KDEVICE_QUEUE_ENTRY[] = [];
  readonly Lock = new KSPIN_LOCK();
  /** TRUE while the device processes a request. */
  Busy = false;
}

/** Under the verifier, a DDI compliance rule on the IRQL: 0xC4 with the rule's ID. */
function checkIrql(k: Kernel, exactlyDispatch: boolean): void {
  if (!k.verifier) return;
  const irql = k.cpu.irql;
  if (exactlyDispatch ? irql !== DISPATCH_LEVEL : irql > DISPATCH_LEVEL) {
    k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, exactlyDispatch ? DDI_RULE_IRQL_DISPATCH : DDI_RULE_IRQL_KE_DISPATCH_LTE, 0, 0, 0);
  }
}

/** Sets a queue to its initial state (not busy, empty) without charging (the I/O manager's device objects). */
export function initializeDeviceQueue(k: Kernel, DeviceQueue: KDEVICE_QUEUE): void {
  DeviceQueue.Type = DeviceQueueObject;
  DeviceQueue.Size = KDEVICE_QUEUE_SIZE;
  DeviceQueue.DeviceListHead.length = 0;
  DeviceQueue.Busy = false;
  DeviceQueue.Lock.owner = -1;
  DeviceQueue.Lock.lastHolder = -1;
  DeviceQueue.Lock.address = k.objectAddress(8);
}

/** KeInitializeDeviceQueue: an empty queue that is not busy. IRQL <= DISPATCH_LEVEL. */
export function KeInitializeDeviceQueue(DeviceQueue: KDEVICE_QUEUE): void {
  const k = KE();
  checkIrql(k, false);
  k.chargePs(k.cost.KeInitializeDeviceQueue);
  initializeDeviceQueue(k, DeviceQueue);
}

/** Inserts at `index` (or makes the queue busy); the common body of the two insert routines. */
function insert(DeviceQueue: KDEVICE_QUEUE, DeviceQueueEntry: KDEVICE_QUEUE_ENTRY, position: (list: KDEVICE_QUEUE_ENTRY[]) => number): boolean {
  const k = KE();
  checkIrql(k, true);
  k.chargePs(k.cost.KeInsertDeviceQueue);
  KeAcquireSpinLockAtDpcLevel(DeviceQueue.Lock);
  let inserted = false;
  if (!DeviceQueue.Busy) {
    DeviceQueue.Busy = true;
  } else {
    const list = DeviceQueue.DeviceListHead;
    list.splice(position(list), 0, DeviceQueueEntry);
    inserted = true;
  }
  DeviceQueueEntry.Inserted = inserted;
  KeReleaseSpinLockFromDpcLevel(DeviceQueue.Lock);
  return inserted;
}

/**
 * KeInsertDeviceQueue: if the queue is busy, queues the entry at its tail and returns
 * TRUE; otherwise makes the queue busy and returns FALSE without queueing (the caller
 * processes the request now). IRQL == DISPATCH_LEVEL.
 */
export function KeInsertDeviceQueue(DeviceQueue: KDEVICE_QUEUE, DeviceQueueEntry: KDEVICE_QUEUE_ENTRY): boolean {
  return insert(DeviceQueue, DeviceQueueEntry, (list) => list.length);
}

/**
 * KeInsertByKeyDeviceQueue: as KeInsertDeviceQueue, but a queued entry goes after every
 * entry whose SortKey is <= `SortKey` and before those with greater keys.
 */
export function KeInsertByKeyDeviceQueue(DeviceQueue: KDEVICE_QUEUE, DeviceQueueEntry: KDEVICE_QUEUE_ENTRY, SortKey: number): boolean {
  DeviceQueueEntry.SortKey = SortKey >>> 0;
  return insert(DeviceQueue, DeviceQueueEntry, (list) => {
    let i = 0;
    while (i < list.length && list[i].SortKey <= DeviceQueueEntry.SortKey) i++;
    return i;
  });
}

/** Removes the entry `pick` chooses, or makes the queue not busy when it is empty; the common body of the remove routines. */
function remove(DeviceQueue: KDEVICE_QUEUE, pick: (list: KDEVICE_QUEUE_ENTRY[]) => number): KDEVICE_QUEUE_ENTRY | null {
  const k = KE();
  checkIrql(k, true);
  k.chargePs(k.cost.KeRemoveDeviceQueue);
  KeAcquireSpinLockAtDpcLevel(DeviceQueue.Lock);
  const list = DeviceQueue.DeviceListHead;
  let entry: KDEVICE_QUEUE_ENTRY | null = null;
  if (list.length === 0) {
    DeviceQueue.Busy = false;
  } else {
    entry = list.splice(pick(list), 1)[0];
    entry.Inserted = false;
  }
  KeReleaseSpinLockFromDpcLevel(DeviceQueue.Lock);
  return entry;
}

/**
 * KeRemoveDeviceQueue: removes and returns the entry at the head of a busy queue; with
 * nothing queued, sets the queue not busy and returns NULL. IRQL == DISPATCH_LEVEL.
 */
export function KeRemoveDeviceQueue(DeviceQueue: KDEVICE_QUEUE): KDEVICE_QUEUE_ENTRY | null {
  return remove(DeviceQueue, () => 0);
}

/**
 * KeRemoveByKeyDeviceQueue: removes and returns the first entry whose SortKey is >=
 * `SortKey`, or the first entry if none is; with nothing queued, sets the queue not busy
 * and returns NULL. IRQL == DISPATCH_LEVEL.
 */
export function KeRemoveByKeyDeviceQueue(DeviceQueue: KDEVICE_QUEUE, SortKey: number): KDEVICE_QUEUE_ENTRY | null {
  const key = SortKey >>> 0;
  return remove(DeviceQueue, (list) => Math.max(0, list.findIndex((e) => e.SortKey >= key)));
}

/**
 * KeRemoveEntryDeviceQueue: removes a particular entry; TRUE if it was queued, FALSE if
 * it was not. The Busy state does not change. IRQL <= DISPATCH_LEVEL.
 */
export function KeRemoveEntryDeviceQueue(DeviceQueue: KDEVICE_QUEUE, DeviceQueueEntry: KDEVICE_QUEUE_ENTRY): boolean {
  const k = KE();
  checkIrql(k, false);
  k.chargePs(k.cost.KeRemoveDeviceQueue);
  const old = raiseTo(k, DISPATCH_LEVEL);
  KeAcquireSpinLockAtDpcLevel(DeviceQueue.Lock);
  const wasInserted = DeviceQueueEntry.Inserted;
  if (wasInserted) {
    const list = DeviceQueue.DeviceListHead;
    list.splice(list.indexOf(DeviceQueueEntry), 1);
    DeviceQueueEntry.Inserted = false;
  }
  KeReleaseSpinLockFromDpcLevel(DeviceQueue.Lock);
  lowerTo(k, k.cpu, old);
  return wasInserted;
}
