/**
 * Permanent and temporary objects: an object created with OBJ_PERMANENT keeps its name when
 * its last handle closes; ObMakeTemporaryObject / ZwMakeTemporaryObject take that away, so
 * the name goes now if no handle is open, or with the last handle otherwise (and the object
 * with its last reference).
 */
import { KE, type Kernel } from "../ke/kernel.js";
import { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import { DELETE } from "./access.js";
import { STATUS_ACCESS_DENIED, STATUS_INVALID_HANDLE, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import { OB_FLAG_PERMANENT_OBJECT, type OBJECT_HEADER } from "./header.js";
import type { HANDLE } from "./handle-table.js";
import { handleEntry, removeName } from "./handles.js";
import { headerOf } from "./reference.js";

/** Clears the permanent flag; the name goes now when no handle is open. */
function makeTemporary(k: Kernel, h: OBJECT_HEADER): void {
  h.Flags &= ~OB_FLAG_PERMANENT_OBJECT;
  if (h.HandleCount === 0 && h.Directory) void removeName(k, h);
}

/** ObMakeTemporaryObject(Object): makes a permanent object temporary (see the file comment). PASSIVE_LEVEL. */
export function ObMakeTemporaryObject(Object: object): void {
  const k = KE();
  makeTemporary(k, headerOf(k, Object));
}

/**
 * ZwMakeTemporaryObject(Handle): makes the object a handle names temporary; the handle must
 * have DELETE access (STATUS_ACCESS_DENIED otherwise; STATUS_INVALID_HANDLE for a bad handle).
 */
export function ZwMakeTemporaryObject(Handle: HANDLE): NTSTATUS {
  const k = KE();
  const entry = handleEntry(k, Handle, KPROCESSOR_MODE.KernelMode);
  if (!entry) return STATUS_INVALID_HANDLE;
  if ((entry.GrantedAccess & DELETE) === 0) return STATUS_ACCESS_DENIED;
  makeTemporary(k, entry.Object);
  return STATUS_SUCCESS;
}
