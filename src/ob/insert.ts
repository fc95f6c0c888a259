/**
 * Giving a new object its name and its first handle (what ObInsertObject does). The name
 * comes from OBJECT_ATTRIBUTES (a full path, or relative to RootDirectory). If the name
 * is taken: with OBJ_OPENIF and an object of the same type there, the existing object is
 * opened instead (STATUS_OBJECT_NAME_EXISTS, a success) and the new one discarded;
 * otherwise STATUS_OBJECT_NAME_COLLISION (STATUS_OBJECT_TYPE_MISMATCH for OBJ_OPENIF on an
 * object of another type). A name holds a reference; OBJ_PERMANENT keeps it when the last
 * handle closes. The creator's reference becomes the handle's.
 */
import type { Kernel } from "../ke/kernel.js";
import { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import {
  NT_SUCCESS, STATUS_INVALID_HANDLE, STATUS_OBJECT_NAME_COLLISION, STATUS_OBJECT_NAME_EXISTS, STATUS_OBJECT_TYPE_MISMATCH, STATUS_SUCCESS,
  type NTSTATUS,
} from "../ke/ntstatus.js";
import type { ACCESS_MASK } from "./access.js";
import { OBJ_OPENIF, OBJ_PERMANENT, type OBJECT_ATTRIBUTES } from "./attributes.js";
import type { OBJECT_DIRECTORY } from "./directory.js";
import { OB_FLAG_PERMANENT_OBJECT, type OBJECT_HEADER } from "./header.js";
import type { HANDLE } from "./handle-table.js";
import { createHandle, grantedAccess, handleEntry } from "./handles.js";
import { lookupObjectName, type LookupResult } from "./namespace.js";
import { ObpDirectoryObjectType } from "./object-type.js";
import { dereference, reference } from "./reference.js";

/** What inserting an object gave: the status, the handle (0 without one) and the object that was opened or created. */
export interface InsertResult {
  status: NTSTATUS;
  Handle: HANDLE;
  object: OBJECT_HEADER | null;
}

/** Looks `ObjectAttributes`'s name up relative to its RootDirectory (if any) with `options`. */
export function lookupAttributes(k: Kernel, ObjectAttributes: OBJECT_ATTRIBUTES, AccessMode: KPROCESSOR_MODE, options: { forInsert?: boolean; openLink?: boolean }): LookupResult {
  let root: OBJECT_DIRECTORY | undefined;
  if (ObjectAttributes.RootDirectory) {
    const e = handleEntry(k, ObjectAttributes.RootDirectory, AccessMode);
    if (!e) return { status: STATUS_INVALID_HANDLE, remaining: "" };
    if (e.Object.Type !== ObpDirectoryObjectType) return { status: STATUS_OBJECT_TYPE_MISMATCH, remaining: "" };
    root = e.Object.Body as OBJECT_DIRECTORY;
  }
  return lookupObjectName(k, ObjectAttributes.ObjectName ?? "", { ...options, root });
}

/** Puts `h` (a new object with its creator's reference) in `directory` as `name`: the name takes a reference. */
export function insertName(h: OBJECT_HEADER, directory: OBJECT_DIRECTORY, name: string, permanent: boolean): void {
  directory.insert(name, h);
  reference(h);
  if (permanent) h.Flags |= OB_FLAG_PERMANENT_OBJECT;
}

/**
 * Names `h` as `ObjectAttributes` says (when it has a name) and, if `wantHandle`, opens a
 * handle granting `DesiredAccess`; the creator's reference goes to the handle (without a
 * handle the caller keeps it). See the file comment for collisions.
 */
export function insertObject(k: Kernel, h: OBJECT_HEADER, ObjectAttributes: OBJECT_ATTRIBUTES | null, DesiredAccess: ACCESS_MASK, AccessMode: KPROCESSOR_MODE, wantHandle = true): InsertResult {
  const attributes = ObjectAttributes?.Attributes ?? 0;
  let status: NTSTATUS = STATUS_SUCCESS;
  let object = h;
  if (ObjectAttributes?.ObjectName) {
    const found = lookupAttributes(k, ObjectAttributes, AccessMode, { forInsert: true });
    if (!NT_SUCCESS(found.status)) {
      void dereference(k, h);
      return { status: found.status, Handle: 0, object: null };
    }
    const existing = found.directory!.lookup(found.leaf!);
    if (existing) {
      void dereference(k, h);
      if ((attributes & OBJ_OPENIF) === 0) return { status: STATUS_OBJECT_NAME_COLLISION, Handle: 0, object: null };
      if (existing.Type !== h.Type) return { status: STATUS_OBJECT_TYPE_MISMATCH, Handle: 0, object: null };
      object = existing;
      reference(object);
      status = STATUS_OBJECT_NAME_EXISTS;
    } else {
      insertName(h, found.directory!, found.leaf!, (attributes & OBJ_PERMANENT) !== 0);
    }
  }
  if (!wantHandle) return { status, Handle: 0, object };
  const Handle = createHandle(k, object, grantedAccess(object.Type, DesiredAccess), attributes, AccessMode);
  void dereference(k, object);
  return { status, Handle, object };
}
