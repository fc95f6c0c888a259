/**
 * OBJECT_HEADER: what the object manager keeps in front of every object's body — its
 * type, its two counts and its name. PointerCount counts references (each handle holds
 * one); HandleCount counts handles. An object goes away, and its type's DeleteProcedure
 * runs, when PointerCount reaches zero (which needs HandleCount zero first). A named
 * object that is not permanent loses its name when its last handle closes.
 *
 * The body is the TypeScript object drivers hold (a FILE_OBJECT, a KEVENT, an ETHREAD,
 * a DEVICE_OBJECT...); the object manager finds its header from it.
 */
import type { OBJECT_TYPE } from "./object-type.js";
import type { OBJECT_DIRECTORY } from "./directory.js";

/** Bytes of the x64 OBJECT_HEADER in front of an object's body (the body's address minus this is the header's). */
export const OBJECT_HEADER_SIZE = 0x30;

/** OBJECT_HEADER.Flags: the object keeps its name without handles (OBJ_PERMANENT). */
export const OB_FLAG_PERMANENT_OBJECT = 0x10;

/** The object manager's header of one object. */
export class OBJECT_HEADER {
  /** References to the object (each handle holds one); starts at 1, the creator's. */
  PointerCount = 1;
  /** Handles open to the object, in every handle table. */
  HandleCount = 0;
  /** OB_FLAG_XXX. */
  Flags = 0;
  /** The object's name in its directory ("" when unnamed; OBJECT_HEADER_NAME_INFO.Name). */
  Name = "";
  /** The directory the name is in (OBJECT_HEADER_NAME_INFO.Directory), or null. */
  Directory: OBJECT_DIRECTORY | null = null;
  /** The last reference went: the delete procedure ran (or is running). */
  deleted = false;
  /** ObReferenceObjectWithTag references outstanding, per tag (null until the first tagged reference). */
  tags: Map<number, number> | null = null;

  constructor(
    readonly Type: OBJECT_TYPE,
    readonly Body: object,
    /** Kernel-space address of the body (the header is OBJECT_HEADER_SIZE bytes below it). */
    readonly bodyAddress: number,
  ) {}

  /** Kernel-space address of the header. */
  get address(): number {
    return this.bodyAddress - OBJECT_HEADER_SIZE;
  }

  /** The object's full name in the namespace ("\\Device\\Edu0"), or "" when it has none. */
  get fullName(): string {
    if (!this.Directory) return this.Name === "\\" ? "\\" : "";
    const parent = this.Directory.header.fullName;
    return parent === "\\" ? `\\${this.Name}` : `${parent}\\${this.Name}`;
  }
}
