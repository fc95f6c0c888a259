/**
 * Looking names up in the object namespace (what ObpLookupObjectName does). A name is a
 * path from the root ("\\Device\\Edu0") or, with a root directory, from that directory.
 * Component by component: a directory is entered; a symbolic link is replaced by its
 * target and the lookup starts again from the root with the rest of the name appended
 * (at most MAX_REPARSE times); any other object ends the walk, and what is left of the name
 * goes with it (a device's "remaining name" becomes the file object's FileName). A name
 * beginning \??\ is looked up in \GLOBAL??.
 *
 * Failures: a name not starting at the root (without a root directory) is
 * STATUS_OBJECT_PATH_SYNTAX_BAD; an empty component is STATUS_OBJECT_NAME_INVALID; a
 * missing last component is STATUS_OBJECT_NAME_NOT_FOUND and a missing earlier one
 * STATUS_OBJECT_PATH_NOT_FOUND.
 */
import type { Kernel } from "../ke/kernel.js";
import {
  STATUS_OBJECT_NAME_INVALID, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_PATH_NOT_FOUND, STATUS_OBJECT_PATH_SYNTAX_BAD, STATUS_SUCCESS,
  type NTSTATUS,
} from "../ke/ntstatus.js";
import type { OBJECT_DIRECTORY } from "./directory.js";
import type { OBJECT_HEADER } from "./header.js";
import { OB } from "./manager.js";
import { ObpDirectoryObjectType, ObpSymbolicLinkObjectType } from "./object-type.js";
import type { OBJECT_SYMBOLIC_LINK } from "./symbolic-link-object.js";

/** How many symbolic links one lookup follows before it gives up (OBJ_MAX_REPARSE_ATTEMPTS). */
export const MAX_REPARSE = 32;

/** What a lookup found. */
export interface LookupResult {
  status: NTSTATUS;
  /** The object the name reached (undefined on failure, and for `forInsert` lookups). */
  object?: OBJECT_HEADER;
  /** What followed the object's name ("" when the name ended at it; "\\Ref" below a device). */
  remaining: string;
  /** For `forInsert` lookups: the directory the last component goes in, and that component. */
  directory?: OBJECT_DIRECTORY;
  leaf?: string;
}

/** What a lookup should do with the last component. */
export interface LookupOptions {
  /** Stop before the last component and return its directory and name (to create an object there). */
  forInsert?: boolean;
  /** A symbolic link that is the last component is returned itself, not followed. */
  openLink?: boolean;
  /** The directory a relative name starts from. */
  root?: OBJECT_DIRECTORY;
}

function fail(status: NTSTATUS): LookupResult {
  return { status, remaining: "" };
}

/** Looks `name` up (see the file comment). */
export function lookupObjectName(k: Kernel, name: string, options: LookupOptions = {}): LookupResult {
  const ob = OB(k);
  let path = name;
  let start: OBJECT_DIRECTORY = options.root ?? ob.root;
  if (options.root) {
    if (path.startsWith("\\")) return fail(STATUS_OBJECT_PATH_SYNTAX_BAD);
    path = `\\${path}`;
  } else if (!path.startsWith("\\")) {
    return fail(STATUS_OBJECT_PATH_SYNTAX_BAD);
  }
  for (let reparse = 0; reparse <= MAX_REPARSE; reparse++) {
    if (path === "\\") return options.forInsert ? fail(STATUS_OBJECT_NAME_INVALID) : { status: STATUS_SUCCESS, object: start.header, remaining: "" };
    const parts = path.slice(1).split("\\");
    let dir = start;
    let i = 0;
    if (start === ob.root && parts[0] === "??") {
      dir = ob.dosDevices;
      i = 1;
      if (parts.length === 1) return options.forInsert ? fail(STATUS_OBJECT_NAME_INVALID) : { status: STATUS_SUCCESS, object: dir.header, remaining: "" };
    }
    let followed = false;
    for (; i < parts.length; i++) {
      const part = parts[i];
      if (part === "") return fail(STATUS_OBJECT_NAME_INVALID);
      const last = i === parts.length - 1;
      if (last && options.forInsert) return { status: STATUS_SUCCESS, remaining: "", directory: dir, leaf: part };
      const entry = dir.lookup(part);
      if (!entry) return fail(last ? STATUS_OBJECT_NAME_NOT_FOUND : STATUS_OBJECT_PATH_NOT_FOUND);
      if (entry.Type === ObpDirectoryObjectType) {
        if (last) return { status: STATUS_SUCCESS, object: entry, remaining: "" };
        dir = entry.Body as OBJECT_DIRECTORY;
        continue;
      }
      if (entry.Type === ObpSymbolicLinkObjectType) {
        if (last && options.openLink) return { status: STATUS_SUCCESS, object: entry, remaining: "" };
        const rest = last ? "" : `\\${parts.slice(i + 1).join("\\")}`;
        const target = (entry.Body as OBJECT_SYMBOLIC_LINK).LinkTarget;
        if (!target.startsWith("\\")) return fail(STATUS_OBJECT_PATH_SYNTAX_BAD);
        path = target === "\\" ? rest || "\\" : target + rest;
        start = ob.root;
        followed = true;
        break;
      }
      return { status: STATUS_SUCCESS, object: entry, remaining: last ? "" : `\\${parts.slice(i + 1).join("\\")}` };
    }
    if (!followed) break;
  }
  return fail(STATUS_OBJECT_NAME_NOT_FOUND);
}
