/**
 * Referencing objects by pointer: ObReferenceObject / ObfReferenceObject,
 * ObDereferenceObject / ObfDereferenceObject, their ...WithTag forms (the tag is recorded
 * per object, as the object reference tracing of gflags keeps it), ObReferenceObjectByPointer
 * and ObGetObjectType.
 *
 * When an object's last reference goes its type's DeleteProcedure runs and the object is
 * gone. Dereferencing an object whose count is already zero, or taking its count to zero
 * while handles are still open to it, is bug check 0x18 REFERENCE_BY_POINTER (P1 the
 * object type, P2 the object), as the kernel checks it. Referencing a value that is not an
 * object the object manager made raises an access violation (what touching the header in
 * front of a non-object does), which is 0x1E in a driver.
 */
import { KE, type Kernel } from "../ke/kernel.js";
import { REFERENCE_BY_POINTER } from "../ke/bugcheck.js";
import { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import { NtStatusException, STATUS_ACCESS_VIOLATION, STATUS_OBJECT_TYPE_MISMATCH, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import { tagValue, type PoolTag } from "../mm/pool.js";
import type { ACCESS_MASK } from "./access.js";
import type { OBJECT_HEADER } from "./header.js";
import { OB } from "./manager.js";
import type { OBJECT_TYPE } from "./object-type.js";

/** The header of `Object`; a value that is not an object raises STATUS_ACCESS_VIOLATION. */
export function headerOf(k: Kernel, Object: unknown): OBJECT_HEADER {
  const ob = OB(k);
  if (typeof Object === "object" && Object !== null) {
    const h = ob.headerOf(Object);
    if (h) return h;
  }
  throw new NtStatusException(STATUS_ACCESS_VIOLATION);
}

/** Adds a reference; returns the new count. */
export function reference(h: OBJECT_HEADER): number {
  return ++h.PointerCount;
}

/**
 * Drops a reference (see the file comment for the checks). Returns what the type's
 * DeleteProcedure returned when this was the last reference (a promise for a delete that
 * sends I/O), otherwise undefined.
 */
export function dereference(k: Kernel, h: OBJECT_HEADER): void | Promise<void> {
  if (h.PointerCount <= 0 || (h.PointerCount === 1 && h.HandleCount > 0)) {
    k.bugCheck(REFERENCE_BY_POINTER, OB(k).typeAddress(h.Type), h.bodyAddress, 0, 0);
  }
  if (--h.PointerCount > 0) return;
  h.deleted = true;
  OB(k).countsOf(h.Type).TotalNumberOfObjects--;
  return h.Type.TypeInfo.DeleteProcedure?.(h.Body);
}

/** ObfReferenceObject: adds a reference to `Object`; returns the new pointer count. Any IRQL up to DISPATCH_LEVEL. */
export function ObfReferenceObject(Object: object): number {
  const k = KE();
  k.chargePs(k.cost.ObReferenceObject);
  return reference(headerOf(k, Object));
}

/** ObReferenceObject: adds a reference to `Object` (ObfReferenceObject); returns the new pointer count. */
export function ObReferenceObject(Object: object): number {
  return ObfReferenceObject(Object);
}

/**
 * ObfDereferenceObject: drops a reference to `Object`; returns the new pointer count. The
 * last one deletes the object (its type's delete procedure runs; a file object's sends
 * IRP_MJ_CLOSE, from a worker thread when the caller is not at PASSIVE_LEVEL).
 */
export function ObfDereferenceObject(Object: object): number {
  const k = KE();
  k.chargePs(k.cost.ObDereferenceObject);
  const h = headerOf(k, Object);
  const deleting = dereference(k, h);
  if (deleting instanceof Promise) deleting.catch((e) => k.asBugCheck(e));
  return h.PointerCount;
}

/** ObDereferenceObject: drops a reference to `Object` (ObfDereferenceObject); returns the new pointer count. */
export function ObDereferenceObject(Object: object): number {
  return ObfDereferenceObject(Object);
}

/** Records `delta` tagged references of `tag` on `h`. */
export function countTag(h: OBJECT_HEADER, tag: PoolTag, delta: number): void {
  const t = tagValue(tag);
  if (!h.tags) h.tags = new Map();
  const n = (h.tags.get(t) ?? 0) + delta;
  if (n === 0) h.tags.delete(t);
  else h.tags.set(t, n);
}

/** ObReferenceObjectWithTag: adds a reference recorded under the four-character `Tag`; returns the new pointer count. */
export function ObReferenceObjectWithTag(Object: object, Tag: PoolTag): number {
  const k = KE();
  k.chargePs(k.cost.ObReferenceObject);
  const h = headerOf(k, Object);
  countTag(h, Tag, 1);
  return reference(h);
}

/** ObDereferenceObjectWithTag: drops a reference recorded under `Tag` (as ObDereferenceObject); returns the new pointer count. */
export function ObDereferenceObjectWithTag(Object: object, Tag: PoolTag): number {
  const k = KE();
  k.chargePs(k.cost.ObDereferenceObject);
  const h = headerOf(k, Object);
  const deleting = dereference(k, h);
  countTag(h, Tag, -1);
  if (deleting instanceof Promise) deleting.catch((e) => k.asBugCheck(e));
  return h.PointerCount;
}

/**
 * ObReferenceObjectByPointer: adds a reference to `Object` after checking it is of
 * `ObjectType` (null: any). STATUS_OBJECT_TYPE_MISMATCH otherwise. `DesiredAccess` and
 * `AccessMode` are not checked (a pointer carries no granted access), as on Windows.
 */
export function ObReferenceObjectByPointer(Object: object, DesiredAccess: ACCESS_MASK, ObjectType: OBJECT_TYPE | null, AccessMode: KPROCESSOR_MODE): NTSTATUS {
  const k = KE();
  k.chargePs(k.cost.ObReferenceObject);
  const h = headerOf(k, Object);
  if (ObjectType && h.Type !== ObjectType) return STATUS_OBJECT_TYPE_MISMATCH;
  reference(h);
  return STATUS_SUCCESS;
}

/** ObGetObjectType: the type of `Object` (POBJECT_TYPE). */
export function ObGetObjectType(Object: object): OBJECT_TYPE {
  return headerOf(KE(), Object).Type;
}
