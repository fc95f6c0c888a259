/**
 * Event objects by handle: ZwCreateEvent and ZwOpenEvent. An event made here is an
 * object of ExEventObjectType (a KEVENT body), named in the namespace when the
 * OBJECT_ATTRIBUTES give it a name (usually in \BaseNamedObjects, where user-mode
 * CreateEvent puts its named events).
 */
import { KE, type Kernel } from "../ke/kernel.js";
import { EVENT_TYPE, KEVENT, KPROCESSOR_MODE } from "../ke/dispatcher.js";
import { STATUS_INVALID_PARAMETER, type NTSTATUS } from "../ke/ntstatus.js";
import type { ACCESS_MASK } from "./access.js";
import type { OBJECT_ATTRIBUTES } from "./attributes.js";
import { openObjectByName } from "./by-name.js";
import type { HANDLE } from "./handle-table.js";
import { insertObject, type InsertResult } from "./insert.js";
import { OB } from "./manager.js";
import { ExEventObjectType } from "./object-type.js";

/** An event object's body, not yet named or with a handle: a KEVENT of `type` in state `signalled`. */
export function newEventObject(k: Kernel, type: EVENT_TYPE, signalled: boolean): KEVENT {
  const e = new KEVENT();
  e.Header.Type = type;
  e.Header.SignalState = signalled ? 1 : 0;
  OB(k).create(ExEventObjectType, e, 0x18);
  return e;
}

/** Creates (or with OBJ_OPENIF opens) an event for a caller in `AccessMode`. */
export function createEvent(k: Kernel, DesiredAccess: ACCESS_MASK, ObjectAttributes: OBJECT_ATTRIBUTES | null, EventType: EVENT_TYPE, InitialState: boolean, AccessMode: KPROCESSOR_MODE): InsertResult {
  k.chargePs(k.cost.KeInitializeEvent);
  const e = newEventObject(k, EventType, InitialState);
  return insertObject(k, OB(k).headerOf(e)!, ObjectAttributes, DesiredAccess, AccessMode);
}

/**
 * ZwCreateEvent(DesiredAccess, ObjectAttributes, EventType, InitialState): creates an event
 * (named if ObjectAttributes names it). Returns the status and the handle. A name that
 * exists is STATUS_OBJECT_NAME_COLLISION, or with OBJ_OPENIF opens that event
 * (STATUS_OBJECT_NAME_EXISTS; STATUS_OBJECT_TYPE_MISMATCH if it is not an event).
 */
export function ZwCreateEvent(DesiredAccess: ACCESS_MASK, ObjectAttributes: OBJECT_ATTRIBUTES | null, EventType: EVENT_TYPE, InitialState: boolean): { status: NTSTATUS; EventHandle: HANDLE } {
  const k = KE();
  if (EventType !== EVENT_TYPE.NotificationEvent && EventType !== EVENT_TYPE.SynchronizationEvent) return { status: STATUS_INVALID_PARAMETER, EventHandle: 0 };
  k.chargePs(k.cost.ObCreateHandle);
  const r = createEvent(k, DesiredAccess, ObjectAttributes, EventType, InitialState, KPROCESSOR_MODE.KernelMode);
  return { status: r.status, EventHandle: r.Handle };
}

/** ZwOpenEvent(DesiredAccess, ObjectAttributes): opens a named event. Returns the status and the handle. */
export function ZwOpenEvent(DesiredAccess: ACCESS_MASK, ObjectAttributes: OBJECT_ATTRIBUTES): { status: NTSTATUS; EventHandle: HANDLE } {
  const r = openObjectByName(KE(), ObjectAttributes, ExEventObjectType, DesiredAccess, KPROCESSOR_MODE.KernelMode);
  return { status: r.status, EventHandle: r.Handle };
}
