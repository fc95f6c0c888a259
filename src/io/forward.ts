/** IoForwardIrpSynchronously: sends an IRP to the next lower driver and waits for it. */
import { EVENT_TYPE, KEVENT, KeInitializeEvent, KeSetEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON } from "../ke/dispatcher.js";
import { STATUS_MORE_PROCESSING_REQUIRED, STATUS_PENDING } from "../ke/ntstatus.js";
import { IoCallDriver, IoCopyCurrentIrpStackLocationToNext, IoSetCompletionRoutine, type IRP } from "./irp.js";
import type { DEVICE_OBJECT } from "./objects.js";

/**
 * IoForwardIrpSynchronously: copies the current stack location to the next, sends the
 * IRP to `DeviceObject` (the next lower device) and waits at PASSIVE_LEVEL until the
 * lower drivers complete it; the IRP then belongs to the caller again. Resolves TRUE.
 */
export async function IoForwardIrpSynchronously(DeviceObject: DEVICE_OBJECT, Irp: IRP): Promise<boolean> {
  const event = new KEVENT();
  KeInitializeEvent(event, EVENT_TYPE.NotificationEvent, false);
  IoCopyCurrentIrpStackLocationToNext(Irp);
  IoSetCompletionRoutine(Irp, function IopForwardCompletion(_d, _irp, context) {
    KeSetEvent(context as KEVENT, 0, false);
    return STATUS_MORE_PROCESSING_REQUIRED;
  }, event, true, true, true);
  const status = await IoCallDriver(DeviceObject, Irp);
  if (status === STATUS_PENDING) await KeWaitForSingleObject(event, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
  return true;
}
