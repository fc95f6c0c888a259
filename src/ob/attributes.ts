/**
 * OBJECT_ATTRIBUTES and InitializeObjectAttributes: how a caller names an object it
 * creates or opens (a full path, or a path relative to an open directory handle) and the
 * OBJ_XXX attributes of the object and of the handle it gets.
 */
import type { HANDLE } from "./handle-table.js";

/** The handle is inherited by child processes. */
export const OBJ_INHERIT = 0x00000002;
/** The named object stays in the namespace when its last handle closes (until ZwMakeTemporaryObject). */
export const OBJ_PERMANENT = 0x00000010;
/** Only one handle may be open to the object. */
export const OBJ_EXCLUSIVE = 0x00000020;
/** Names compare without regard to case (the namespace always does, as Windows does by default). */
export const OBJ_CASE_INSENSITIVE = 0x00000040;
/** Creating a name that exists opens the existing object (STATUS_OBJECT_NAME_EXISTS) instead of failing. */
export const OBJ_OPENIF = 0x00000080;
/** Opening a symbolic link opens the link itself, not what it names. */
export const OBJ_OPENLINK = 0x00000100;
/** The handle goes in the kernel handle table: valid in every process, only from kernel mode. */
export const OBJ_KERNEL_HANDLE = 0x00000200;
/** Access checks are made even for a kernel-mode caller. */
export const OBJ_FORCE_ACCESS_CHECK = 0x00000400;
/** Every valid OBJ_XXX bit. */
export const OBJ_VALID_ATTRIBUTES = 0x000007F2;

/** sizeof(OBJECT_ATTRIBUTES) on x64, bytes (the Length field). */
export const OBJECT_ATTRIBUTES_SIZE = 48;

/** OBJECT_ATTRIBUTES: an object's name and attributes. */
export class OBJECT_ATTRIBUTES {
  Length = OBJECT_ATTRIBUTES_SIZE;
  /** A directory handle `ObjectName` is relative to, or null for a full path. */
  RootDirectory: HANDLE | null = null;
  /** The object's name ("\\BaseNamedObjects\\MyEvent"), or null for an unnamed object. */
  ObjectName: string | null = null;
  /** OBJ_XXX. */
  Attributes = 0;
  /** A security descriptor for a new object (kept, not enforced: the model has no security). */
  SecurityDescriptor: unknown = null;
  SecurityQualityOfService: unknown = null;
}

/**
 * InitializeObjectAttributes(p, n, a, r, s): fills the OBJECT_ATTRIBUTES `p` with the name
 * `n`, the attributes `a`, the root directory handle `r` and the security descriptor `s`.
 */
export function InitializeObjectAttributes(p: OBJECT_ATTRIBUTES, n: string | null, a: number, r: HANDLE | null, s: unknown): void {
  p.Length = OBJECT_ATTRIBUTES_SIZE;
  p.RootDirectory = r;
  p.Attributes = a;
  p.ObjectName = n;
  p.SecurityDescriptor = s;
  p.SecurityQualityOfService = null;
}
