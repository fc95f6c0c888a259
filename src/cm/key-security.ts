/**
 * Key security the registry enforces when it is asked to check access: the Enum tree
 * (`\REGISTRY\MACHINE\SYSTEM\CurrentControlSet\Enum` and below) is protected as on
 * Windows: LocalSystem has full control, Administrators and Everyone may only read. Other
 * keys have no DACL here (every access is granted). Access is checked only for an open or
 * create whose OBJECT_ATTRIBUTES carry OBJ_FORCE_ACCESS_CHECK (kernel callers are otherwise
 * trusted, as on Windows); the user-mode Reg* API runs as an administrator and is not
 * checked.
 */
import type { Kernel } from "../ke/kernel.js";
import type { ACCESS_MASK } from "../ob/access.js";
import { accessCheck } from "../se/access-check.js";
import { callerToken } from "../se/privilege.js";
import { parseSddl, type SECURITY_DESCRIPTOR } from "../se/security-descriptor.js";
import type { CM_KEY } from "./key.js";
import { CM, ENUM_KEY } from "./registry.js";
import { CmKeyObjectType } from "./zw.js";

/** The Enum tree's security descriptor (SDDL). */
export const ENUM_KEY_SDDL = "D:P(A;CI;KA;;;SY)(A;CI;KR;;;BA)(A;CI;KR;;;WD)";

let enumSecurity: SECURITY_DESCRIPTOR | null = null;

/** The security descriptor that protects `key`, or null for none. */
export function keySecurity(k: Kernel, key: CM_KEY): SECURITY_DESCRIPTOR | null {
  const enumKey = CM(k).find(ENUM_KEY);
  for (let p: CM_KEY | null = key; p; p = p.parent) {
    if (p === enumKey) return (enumSecurity ??= parseSddl(ENUM_KEY_SDDL));
  }
  return null;
}

/** Whether the calling thread's token is granted `DesiredAccess` to `key` (generic rights mapped with the key type's mapping). */
export function keyAccessGranted(k: Kernel, key: CM_KEY, DesiredAccess: ACCESS_MASK): boolean {
  const sd = keySecurity(k, key);
  return sd === null || accessCheck(sd, callerToken(k), DesiredAccess, CmKeyObjectType.TypeInfo.GenericMapping).granted;
}
