/**
 * Opening and referencing objects by name: ObReferenceObjectByName, and the open that
 * the ZwOpenXxx routines share (a name to a handle, checking the object's type).
 */
import { KE, type Kernel } from "../ke/kernel.js";
import { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import { NT_SUCCESS, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_TYPE_MISMATCH, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import type { ACCESS_MASK } from "./access.js";
import { OBJECT_ATTRIBUTES, OBJ_OPENLINK } from "./attributes.js";
import type { HANDLE } from "./handle-table.js";
import { createHandle, grantedAccess } from "./handles.js";
import { lookupAttributes } from "./insert.js";
import { lookupObjectName } from "./namespace.js";
import { ObpSymbolicLinkObjectType, type OBJECT_TYPE } from "./object-type.js";
import { reference } from "./reference.js";

/**
 * Opens a handle to the object `ObjectAttributes` names, which must be of `type`
 * (STATUS_OBJECT_TYPE_MISMATCH otherwise; a name that ends inside an object, such as a
 * path below a device, is STATUS_OBJECT_NAME_NOT_FOUND). Returns the status and handle.
 */
export function openObjectByName(k: Kernel, ObjectAttributes: OBJECT_ATTRIBUTES, type: OBJECT_TYPE, DesiredAccess: ACCESS_MASK, AccessMode: KPROCESSOR_MODE): { status: NTSTATUS; Handle: HANDLE } {
  k.chargePs(k.cost.ObLookupObjectName);
  const openLink = type === ObpSymbolicLinkObjectType || (ObjectAttributes.Attributes & OBJ_OPENLINK) !== 0;
  const found = lookupAttributes(k, ObjectAttributes, AccessMode, { openLink });
  if (!NT_SUCCESS(found.status)) return { status: found.status, Handle: 0 };
  if (found.remaining !== "") return { status: STATUS_OBJECT_NAME_NOT_FOUND, Handle: 0 };
  const h = found.object!;
  if (h.Type !== type) return { status: STATUS_OBJECT_TYPE_MISMATCH, Handle: 0 };
  return { status: STATUS_SUCCESS, Handle: createHandle(k, h, grantedAccess(h.Type, DesiredAccess), ObjectAttributes.Attributes, AccessMode) };
}

/**
 * ObReferenceObjectByName(ObjectName, Attributes, AccessState, DesiredAccess, ObjectType,
 * AccessMode, ParseContext): the object a full name ("\\Driver\\edu", "\\Device\\Edu0",
 * symbolic links followed) stands for, with a reference the caller drops with
 * ObDereferenceObject. STATUS_OBJECT_NAME_NOT_FOUND / STATUS_OBJECT_PATH_NOT_FOUND for a
 * name that names nothing, STATUS_OBJECT_TYPE_MISMATCH when `ObjectType` (null: any) is not
 * the object's. Returns the status and the object (null on failure).
 */
export function ObReferenceObjectByName<T = object>(ObjectName: string, Attributes: number, AccessState: null, DesiredAccess: ACCESS_MASK, ObjectType: OBJECT_TYPE | null, AccessMode: KPROCESSOR_MODE, ParseContext: unknown): { status: NTSTATUS; Object: T | null } {
  const k = KE();
  k.chargePs(k.cost.ObLookupObjectName);
  const found = lookupObjectName(k, ObjectName, { openLink: ObjectType === ObpSymbolicLinkObjectType || (Attributes & OBJ_OPENLINK) !== 0 });
  if (!NT_SUCCESS(found.status)) return { status: found.status, Object: null };
  if (found.remaining !== "") return { status: STATUS_OBJECT_NAME_NOT_FOUND, Object: null };
  const h = found.object!;
  if (ObjectType && h.Type !== ObjectType) return { status: STATUS_OBJECT_TYPE_MISMATCH, Object: null };
  reference(h);
  return { status: STATUS_SUCCESS, Object: h.Body as T };
}
