/**
 * Directory objects drivers create and open: ZwCreateDirectoryObject and
 * ZwOpenDirectoryObject (disk drivers keep \Device\HarddiskN this way).
 */
import { KE } from "../ke/kernel.js";
import { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import type { NTSTATUS } from "../ke/ntstatus.js";
import type { ACCESS_MASK } from "./access.js";
import type { OBJECT_ATTRIBUTES } from "./attributes.js";
import { openObjectByName } from "./by-name.js";
import { OBJECT_DIRECTORY } from "./directory.js";
import type { HANDLE } from "./handle-table.js";
import { insertObject } from "./insert.js";
import { OB } from "./manager.js";
import { ObpDirectoryObjectType } from "./object-type.js";

/**
 * ZwCreateDirectoryObject(DesiredAccess, ObjectAttributes): creates a directory named by
 * ObjectAttributes. Returns the status and its handle (STATUS_OBJECT_NAME_COLLISION if the
 * name exists, STATUS_OBJECT_NAME_EXISTS with OBJ_OPENIF on an existing directory).
 */
export function ZwCreateDirectoryObject(DesiredAccess: ACCESS_MASK, ObjectAttributes: OBJECT_ATTRIBUTES): { status: NTSTATUS; DirectoryHandle: HANDLE } {
  const k = KE();
  k.chargePs(k.cost.ObCreateHandle);
  const d = new OBJECT_DIRECTORY();
  d.header = OB(k).create(ObpDirectoryObjectType, d, 0x150);
  const r = insertObject(k, d.header, ObjectAttributes, DesiredAccess, KPROCESSOR_MODE.KernelMode);
  return { status: r.status, DirectoryHandle: r.Handle };
}

/** ZwOpenDirectoryObject(DesiredAccess, ObjectAttributes): opens a directory. Returns the status and the handle. */
export function ZwOpenDirectoryObject(DesiredAccess: ACCESS_MASK, ObjectAttributes: OBJECT_ATTRIBUTES): { status: NTSTATUS; DirectoryHandle: HANDLE } {
  const r = openObjectByName(KE(), ObjectAttributes, ObpDirectoryObjectType, DesiredAccess, KPROCESSOR_MODE.KernelMode);
  return { status: r.status, DirectoryHandle: r.Handle };
}
