/**
 * Symbolic link objects: ZwCreateSymbolicLinkObject, ZwOpenSymbolicLinkObject and
 * ZwQuerySymbolicLinkObject. A link's target is not checked when it is created: it is
 * looked up each time a name passes through the link.
 */
import { KE } from "../ke/kernel.js";
import { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import { NT_SUCCESS, STATUS_BUFFER_TOO_SMALL, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import { SYMBOLIC_LINK_QUERY, type ACCESS_MASK } from "./access.js";
import type { OBJECT_ATTRIBUTES } from "./attributes.js";
import type { HANDLE } from "./handle-table.js";
import { ObReferenceObjectByHandle } from "./handles.js";
import { insertObject } from "./insert.js";
import { OB } from "./manager.js";
import { openObjectByName } from "./by-name.js";
import { ObpSymbolicLinkObjectType } from "./object-type.js";
import { dereference, headerOf } from "./reference.js";
import { OBJECT_SYMBOLIC_LINK } from "./symbolic-link-object.js";

export { OBJECT_SYMBOLIC_LINK };

/** Bytes a UTF-16 string of `text` takes (UNICODE_STRING.Length). */
function unicodeBytes(text: string): number {
  return text.length * 2;
}

/**
 * ZwCreateSymbolicLinkObject(DesiredAccess, ObjectAttributes, LinkTarget): creates a link
 * named by ObjectAttributes standing for `LinkTarget`. Returns the status and the link's
 * handle (STATUS_OBJECT_NAME_COLLISION if the name exists, without OBJ_OPENIF).
 */
export function ZwCreateSymbolicLinkObject(DesiredAccess: ACCESS_MASK, ObjectAttributes: OBJECT_ATTRIBUTES, LinkTarget: string): { status: NTSTATUS; LinkHandle: HANDLE } {
  const k = KE();
  k.chargePs(k.cost.ObCreateHandle);
  const h = OB(k).create(ObpSymbolicLinkObjectType, new OBJECT_SYMBOLIC_LINK(LinkTarget, k.cpu.time));
  const r = insertObject(k, h, ObjectAttributes, DesiredAccess, KPROCESSOR_MODE.KernelMode);
  return { status: r.status, LinkHandle: r.Handle };
}

/**
 * ZwOpenSymbolicLinkObject(DesiredAccess, ObjectAttributes): opens the link itself (the
 * last component is not followed). Returns the status and the handle
 * (STATUS_OBJECT_TYPE_MISMATCH if the name is not a symbolic link).
 */
export function ZwOpenSymbolicLinkObject(DesiredAccess: ACCESS_MASK, ObjectAttributes: OBJECT_ATTRIBUTES): { status: NTSTATUS; LinkHandle: HANDLE } {
  const k = KE();
  const r = openObjectByName(k, ObjectAttributes, ObpSymbolicLinkObjectType, DesiredAccess, KPROCESSOR_MODE.KernelMode);
  return { status: r.status, LinkHandle: r.Handle };
}

/** What ZwQuerySymbolicLinkObject returns. */
export interface SymbolicLinkQuery {
  status: NTSTATUS;
  /** The link's target ("" unless the status is STATUS_SUCCESS). */
  LinkTarget: string;
  /** Bytes the target takes with its terminating null (what the caller's buffer needs). */
  ReturnedLength: number;
}

/**
 * ZwQuerySymbolicLinkObject(LinkHandle, MaximumLength): the target of a link opened with
 * SYMBOLIC_LINK_QUERY. `MaximumLength` is the caller's UNICODE_STRING buffer size in bytes;
 * a target that does not fit is STATUS_BUFFER_TOO_SMALL, with ReturnedLength saying how many
 * bytes it needs. STATUS_INVALID_HANDLE / STATUS_OBJECT_TYPE_MISMATCH for a bad handle.
 */
export function ZwQuerySymbolicLinkObject(LinkHandle: HANDLE, MaximumLength: number): SymbolicLinkQuery {
  const k = KE();
  const r = ObReferenceObjectByHandle<OBJECT_SYMBOLIC_LINK>(LinkHandle, SYMBOLIC_LINK_QUERY, ObpSymbolicLinkObjectType, KPROCESSOR_MODE.KernelMode);
  if (!NT_SUCCESS(r.status)) return { status: r.status, LinkTarget: "", ReturnedLength: 0 };
  const target = r.Object!.LinkTarget;
  void dereference(k, headerOf(k, r.Object!));
  const needed = unicodeBytes(target) + 2;
  if (MaximumLength < unicodeBytes(target)) return { status: STATUS_BUFFER_TOO_SMALL, LinkTarget: "", ReturnedLength: needed };
  return { status: STATUS_SUCCESS, LinkTarget: target, ReturnedLength: needed };
}
