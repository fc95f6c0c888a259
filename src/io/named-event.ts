/**
 * Named kernel events drivers share with each other and with applications:
 * IoCreateNotificationEvent and IoCreateSynchronizationEvent create the named event (or
 * open it if it exists) and return the event with a kernel handle; the event is valid while
 * the handle is open (close it with ZwClose). A new event starts signalled. A driver's
 * "\\BaseNamedObjects\\Xxx" is what an application opens as "Global\\Xxx" (or "Xxx").
 */
import { KE } from "../ke/kernel.js";
import { DRIVER_VERIFIER_DETECTED_VIOLATION } from "../ke/bugcheck.js";
import { EVENT_TYPE, KPROCESSOR_MODE, type KEVENT } from "../ke/dispatcher.js";
import { PASSIVE_LEVEL } from "../ke/irql.js";
import { NT_SUCCESS } from "../ke/ntstatus.js";
import { EVENT_ALL_ACCESS } from "../ob/access.js";
import { InitializeObjectAttributes, OBJECT_ATTRIBUTES, OBJ_KERNEL_HANDLE, OBJ_OPENIF } from "../ob/attributes.js";
import { createEvent } from "../ob/event.js";
import type { HANDLE } from "../ob/handle-table.js";
import { DDI_RULE_IRQL_IO_PASSIVE4 } from "./objects.js";

/** What IoCreateNotificationEvent and IoCreateSynchronizationEvent return: the event (null on failure) and its kernel handle (the C out-parameter). */
export interface NamedEvent {
  Event: KEVENT | null;
  EventHandle: HANDLE;
}

function createNamedEvent(EventName: string, type: EVENT_TYPE): NamedEvent {
  const k = KE();
  if (k.verifier && k.cpu.irql !== PASSIVE_LEVEL) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_IO_PASSIVE4, 0, 0, 0);
  const attributes = new OBJECT_ATTRIBUTES();
  InitializeObjectAttributes(attributes, EventName, OBJ_OPENIF | OBJ_KERNEL_HANDLE, null, null);
  const r = createEvent(k, EVENT_ALL_ACCESS, attributes, type, true, KPROCESSOR_MODE.KernelMode);
  if (!NT_SUCCESS(r.status)) return { Event: null, EventHandle: 0 };
  return { Event: r.object!.Body as KEVENT, EventHandle: r.Handle };
}

/**
 * IoCreateNotificationEvent(EventName): creates the notification event `EventName`
 * ("\\BaseNamedObjects\\Xxx"), signalled, or opens it if it exists. Returns the event and a
 * kernel handle; the event is null (and the handle 0) if it could not be created or opened
 * (a name that is another kind of object, a path that does not exist). PASSIVE_LEVEL
 * (verifier: 0xC4 / 0x2000D).
 */
export function IoCreateNotificationEvent(EventName: string): NamedEvent {
  return createNamedEvent(EventName, EVENT_TYPE.NotificationEvent);
}

/** IoCreateSynchronizationEvent(EventName): as IoCreateNotificationEvent, for a synchronization (auto-reset) event. */
export function IoCreateSynchronizationEvent(EventName: string): NamedEvent {
  return createNamedEvent(EventName, EVENT_TYPE.SynchronizationEvent);
}
