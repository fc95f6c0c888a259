/**
 * Work items: IoAllocateWorkItem / IoQueueWorkItem / IoFreeWorkItem (and the
 * IoInitializeWorkItem / IoSizeofWorkItem forms for caller-allocated storage). A queued
 * item's routine runs later in a system worker thread at PASSIVE_LEVEL with the device
 * object and context; queueing is legal at IRQL <= DISPATCH_LEVEL.
 */
import { KE } from "../ke/kernel.js";
import { workers, WORK_QUEUE_TYPE } from "../ke/worker.js";
import { lowResourceFailure } from "../verifier/low-resources.js";
import type { DEVICE_OBJECT } from "./objects.js";

export { WORK_QUEUE_TYPE };

/** WorkerRoutine(DeviceObject, Context). */
export type PIO_WORKITEM_ROUTINE = (DeviceObject: DEVICE_OBJECT, Context: unknown) => void | Promise<void>;

/** An I/O work item. */
export class IO_WORKITEM {
  /** Kernel-space address (bug check parameters). */
  address = 0;
  DeviceObject: DEVICE_OBJECT | null = null;
  /** Queued and not yet run. */
  queued = false;
}

/** Bytes of an IO_WORKITEM (IoSizeofWorkItem). */
export function IoSizeofWorkItem(): number {
  return 0x58;
}

/**
 * IoAllocateWorkItem: a work item tied to `DeviceObject`, or null when there are not
 * enough resources (Low Resources Simulation fails a verified driver's calls).
 */
export function IoAllocateWorkItem(DeviceObject: DEVICE_OBJECT): IO_WORKITEM | null {
  if (lowResourceFailure(KE(), -1, "IoAllocateWorkItem")) return null;
  const item = new IO_WORKITEM();
  IoInitializeWorkItem(DeviceObject, item);
  return item;
}

/** IoInitializeWorkItem: prepares caller-provided work item storage. */
export function IoInitializeWorkItem(IoObject: DEVICE_OBJECT, IoWorkItem: IO_WORKITEM): void {
  IoWorkItem.DeviceObject = IoObject;
  IoWorkItem.address = KE().objectAddress(IoSizeofWorkItem());
  IoWorkItem.queued = false;
}

/** IoUninitializeWorkItem. */
export function IoUninitializeWorkItem(IoWorkItem: IO_WORKITEM): void {
  IoWorkItem.DeviceObject = null;
}

/** IoFreeWorkItem. */
export function IoFreeWorkItem(IoWorkItem: IO_WORKITEM): void {
  IoUninitializeWorkItem(IoWorkItem);
}

/** IoQueueWorkItem: runs `WorkerRoutine(DeviceObject, Context)` in a system worker thread at PASSIVE_LEVEL. */
export function IoQueueWorkItem(IoWorkItem: IO_WORKITEM, WorkerRoutine: PIO_WORKITEM_ROUTINE, QueueType: WORK_QUEUE_TYPE, Context: unknown): void {
  const k = KE();
  k.chargePs(k.cost.KeInsertQueueDpc);
  const device = IoWorkItem.DeviceObject!;
  IoWorkItem.queued = true;
  workers(k).queue(QueueType, {
    routine: () => { IoWorkItem.queued = false; return WorkerRoutine(device, Context); },
    owner: k.attribution().driver,
    name: WorkerRoutine.name || "WorkerRoutine",
    parameter: Context,
    address: IoWorkItem.address,
  });
}
