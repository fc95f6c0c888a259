/**
 * System-queued I/O: IoStartPacket, IoStartNextPacket and IoStartNextPacketByKey, which
 * serialize a driver's requests for a device through DeviceObject.DeviceQueue and call
 * its DriverObject.DriverStartIo routine one IRP at a time, at DISPATCH_LEVEL, with
 * DeviceObject.CurrentIrp set to that IRP.
 *
 * IoStartPacket raises to DISPATCH_LEVEL (its callers are at <= DISPATCH_LEVEL, usually a
 * dispatch routine at PASSIVE_LEVEL). With a cancel routine it holds the cancel spin lock
 * while it sets the routine in the IRP and queues or starts it, and releases it before
 * StartIo runs, so StartIo (and IoStartNextPacket's callers) follow the documented
 * pattern: take the cancel spin lock, check Irp == DeviceObject->CurrentIrp, clear the
 * cancel routine, and check Irp->Cancel. A cancel routine for a queued packet takes it out
 * with KeRemoveEntryDeviceQueue (Tail.Overlay.DeviceQueueEntry).
 *
 * IoStartNextPacket needs DISPATCH_LEVEL (0xC4 / 0x00020003 under the verifier, the DDI
 * compliance rule IrqlDispatch); IoStartNextPacketByKey raises to it from <= DISPATCH_LEVEL.
 * A driver without a StartIo routine cannot use these routines.
 */
import { KE, type Kernel } from "../ke/kernel.js";
import { DRIVER_VERIFIER_DETECTED_VIOLATION } from "../ke/bugcheck.js";
import { DISPATCH_LEVEL, type KIRQL } from "../ke/irql.js";
import { lowerTo, raiseTo } from "../ke/level.js";
import {
  DDI_RULE_IRQL_DISPATCH, KeInsertByKeyDeviceQueue, KeInsertDeviceQueue, KeRemoveByKeyDeviceQueue, KeRemoveDeviceQueue, type KDEVICE_QUEUE_ENTRY,
} from "../ke/device-queue.js";
import type { IRP, PDRIVER_CANCEL } from "./irp.js";
import { IoAcquireCancelSpinLock, IoReleaseCancelSpinLock, IoSetCancelRoutine } from "./cancel.js";
import type { DEVICE_OBJECT } from "./objects.js";

/** DriverStartIo(DeviceObject, Irp): starts the device on an IRP, at DISPATCH_LEVEL. */
export type PDRIVER_STARTIO = (DeviceObject: DEVICE_OBJECT, Irp: IRP) => void;

/** Makes `Irp` the device's current IRP and calls the driver's StartIo routine with it (at DISPATCH_LEVEL). */
function startIo(k: Kernel, DeviceObject: DEVICE_OBJECT, Irp: IRP): void {
  const driver = DeviceObject.DriverObject;
  const routine = driver.DriverStartIo;
  if (!routine) throw new TypeError(`${driver.DriverName} has no StartIo routine: it cannot use IoStartPacket or IoStartNextPacket`);
  k.invoke(driver.serviceName, routine.name || "StartIo", () => routine(DeviceObject, Irp));
}

/**
 * IoStartPacket: if the device is busy, queues `Irp` in DeviceObject.DeviceQueue (at the
 * tail, or by `Key` when one is given); otherwise makes it DeviceObject.CurrentIrp and
 * calls the driver's StartIo routine with it at DISPATCH_LEVEL. `CancelFunction`
 * (optional) becomes the IRP's cancel routine. The caller has marked the IRP pending and
 * returns STATUS_PENDING. IRQL <= DISPATCH_LEVEL.
 */
export function IoStartPacket(DeviceObject: DEVICE_OBJECT, Irp: IRP, Key: number | null, CancelFunction: PDRIVER_CANCEL | null): void {
  const k = KE();
  k.chargePs(k.cost.IoStartPacket);
  const old = raiseTo(k, DISPATCH_LEVEL);
  let cancelIrql: KIRQL = DISPATCH_LEVEL;
  if (CancelFunction) {
    cancelIrql = IoAcquireCancelSpinLock();
    IoSetCancelRoutine(Irp, CancelFunction);
  }
  const entry = Irp.Tail.Overlay.DeviceQueueEntry;
  const queued = Key !== null && Key !== undefined
    ? KeInsertByKeyDeviceQueue(DeviceObject.DeviceQueue, entry, Key)
    : KeInsertDeviceQueue(DeviceObject.DeviceQueue, entry);
  if (!queued) DeviceObject.CurrentIrp = Irp;
  if (CancelFunction) IoReleaseCancelSpinLock(cancelIrql);
  if (!queued) startIo(k, DeviceObject, Irp);
  lowerTo(k, k.cpu, old);
}

/** The common body of IoStartNextPacket(ByKey): dequeue with `remove` and start what it gives. */
function startNext(k: Kernel, DeviceObject: DEVICE_OBJECT, Cancelable: boolean, remove: () => KDEVICE_QUEUE_ENTRY | null): void {
  DeviceObject.CurrentIrp = null;
  const cancelIrql = Cancelable ? IoAcquireCancelSpinLock() : DISPATCH_LEVEL;
  const entry = remove();
  const irp = entry ? (entry.container as IRP) : null;
  if (irp) DeviceObject.CurrentIrp = irp;
  if (Cancelable) IoReleaseCancelSpinLock(cancelIrql);
  if (irp) startIo(k, DeviceObject, irp);
}

/**
 * IoStartNextPacket: sets DeviceObject.CurrentIrp to NULL, then dequeues the next IRP from
 * DeviceObject.DeviceQueue and calls the driver's StartIo routine with it (as the new
 * CurrentIrp); with nothing queued the device becomes idle and the routine just returns.
 * `Cancelable` (TRUE when IoStartPacket was given a cancel routine): the dequeue and the
 * CurrentIrp update happen under the cancel spin lock. IRQL == DISPATCH_LEVEL.
 */
export function IoStartNextPacket(DeviceObject: DEVICE_OBJECT, Cancelable: boolean): void {
  const k = KE();
  k.chargePs(k.cost.IoStartNextPacket);
  if (k.verifier && k.cpu.irql !== DISPATCH_LEVEL) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_DISPATCH, 0, 0, 0);
  startNext(k, DeviceObject, Cancelable, () => KeRemoveDeviceQueue(DeviceObject.DeviceQueue));
}

/**
 * IoStartNextPacketByKey: as IoStartNextPacket, but dequeues the first IRP whose sort key
 * is >= `Key` (or the first IRP if none is) with KeRemoveByKeyDeviceQueue. IRQL <=
 * DISPATCH_LEVEL.
 */
export function IoStartNextPacketByKey(DeviceObject: DEVICE_OBJECT, Cancelable: boolean, Key: number): void {
  const k = KE();
  k.chargePs(k.cost.IoStartNextPacket);
  const old = raiseTo(k, DISPATCH_LEVEL);
  startNext(k, DeviceObject, Cancelable, () => KeRemoveByKeyDeviceQueue(DeviceObject.DeviceQueue, Key));
  lowerTo(k, k.cpu, old);
}
