/**
 * Running the requests that were held while the device was not running (a power
 * transition, a stop): in arrival order, in a system worker thread (an I/O control may
 * wait for the device), each as if it had just arrived — held again if the device has
 * stopped running meanwhile, failed if it is being removed.
 */
import type { DEVICE_OBJECT } from "../../io/objects.js";
import { IoGetCurrentIrpStackLocation, IRP_MJ_DEVICE_CONTROL, IRP_MJ_FLUSH_BUFFERS, IRP_MJ_READ, IRP_MJ_WRITE, type IRP } from "../../io/irp.js";
import { IoAllocateWorkItem, IoFreeWorkItem, IoQueueWorkItem, WORK_QUEUE_TYPE, type IO_WORKITEM } from "../../io/workitem.js";
import { STATUS_DEVICE_DOES_NOT_EXIST, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_DEVICE_REQUEST } from "../../ke/ntstatus.js";
import { REMOVE_STATE, type FUNCTIONAL_DEVICE_EXTENSION } from "./extension.js";
import { ClasspHoldRequest, ClasspTakeHeldRequests, completeAndRelease, fdoExtensionOf } from "./queue.js";
import { ClasspStartReadWrite } from "./readwrite.js";
import { DiskDeviceControlWorker } from "./ioctl.js";
import { DiskFlushWorker } from "./flush.js";

/** A batch of held requests and the work item that runs them. */
class HELD_REQUEST_BATCH {
  constructor(readonly WorkItem: IO_WORKITEM, readonly Requests: IRP[]) {}
}

/** Starts one held request (it holds the remove lock and is marked pending). */
async function restartRequest(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION, Irp: IRP): Promise<void> {
  if (fdoExtension.IsRemoved !== REMOVE_STATE.NO_REMOVE) {
    completeAndRelease(fdoExtension, Irp, STATUS_DEVICE_DOES_NOT_EXIST, 0);
    return;
  }
  if (fdoExtension.HoldReasons !== 0) {
    ClasspHoldRequest(fdoExtension, Irp);
    return;
  }
  switch (IoGetCurrentIrpStackLocation(Irp).MajorFunction) {
    case IRP_MJ_READ:
    case IRP_MJ_WRITE:
      ClasspStartReadWrite(fdoExtension, Irp);
      return;
    case IRP_MJ_DEVICE_CONTROL:
      await DiskDeviceControlWorker(fdoExtension, Irp);
      return;
    case IRP_MJ_FLUSH_BUFFERS:
      await DiskFlushWorker(fdoExtension, Irp);
      return;
    default:
      completeAndRelease(fdoExtension, Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
  }
}

/** The worker routine: runs the batch's requests one after the other. */
async function DiskRunHeldRequests(DeviceObject: DEVICE_OBJECT, Context: unknown): Promise<void> {
  const batch = Context as HELD_REQUEST_BATCH;
  const fdoExtension = fdoExtensionOf(DeviceObject);
  for (const irp of batch.Requests) await restartRequest(fdoExtension, irp);
  IoFreeWorkItem(batch.WorkItem);
}

/** Takes the held requests off the queue and runs them from a work item. */
export function ClasspResumeHeldRequests(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION): void {
  const requests = ClasspTakeHeldRequests(fdoExtension);
  if (requests.length === 0) return;
  const item = IoAllocateWorkItem(fdoExtension.DeviceObject);
  if (!item) {
    // No work item to run them from: the held requests fail.
    for (const irp of requests) completeAndRelease(fdoExtension, irp, STATUS_INSUFFICIENT_RESOURCES, 0);
    return;
  }
  IoQueueWorkItem(item, DiskRunHeldRequests, WORK_QUEUE_TYPE.DelayedWorkQueue, new HELD_REQUEST_BATCH(item, requests));
}
