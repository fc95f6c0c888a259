/**
 * The access check: which of the rights asked for a security descriptor grants a token,
 * as SeAccessCheck decides. Generic rights are mapped first; the DACL's entries are read
 * in order, an access-denied entry for one of the token's SIDs refusing the rights it
 * names that are not granted yet, an access-allowed entry granting its rights; the owner
 * is granted READ_CONTROL and WRITE_DAC. A null DACL grants everything; an empty one
 * nothing. MAXIMUM_ALLOWED asks for whatever the DACL grants.
 */
import { MAXIMUM_ALLOWED, READ_CONTROL, RtlMapGenericMask, WRITE_DAC, type ACCESS_MASK, type GENERIC_MAPPING } from "../ob/access.js";
import { ACCESS_DENIED_ACE_TYPE, INHERIT_ONLY_ACE, type SECURITY_DESCRIPTOR } from "./security-descriptor.js";
import type { ACCESS_TOKEN } from "./token.js";

/** The outcome: whether access is granted, and the rights granted. */
export interface AccessCheckResult {
  granted: boolean;
  GrantedAccess: ACCESS_MASK;
}

/** Every right a mask can hold once generic rights are mapped. */
const ALL_SPECIFIC = 0x01FFFFFF;

/** Checks `DesiredAccess` against `sd` for `token` (see the file comment). */
export function accessCheck(sd: SECURITY_DESCRIPTOR, token: ACCESS_TOKEN, DesiredAccess: ACCESS_MASK, mapping: Readonly<GENERIC_MAPPING>): AccessCheckResult {
  const maximum = (DesiredAccess & MAXIMUM_ALLOWED) !== 0;
  const desired = RtlMapGenericMask(DesiredAccess & ~MAXIMUM_ALLOWED, mapping);
  if (sd.Dacl === null) {
    const all = maximum ? (desired | RtlMapGenericMask(0x10000000, mapping)) >>> 0 : desired;
    return { granted: true, GrantedAccess: all };
  }
  let granted = sd.Owner !== null && token.hasSid(sd.Owner) ? READ_CONTROL | WRITE_DAC : 0;
  let denied = 0;
  for (const ace of sd.Dacl) {
    if ((ace.AceFlags & INHERIT_ONLY_ACE) !== 0 || !token.hasSid(ace.Sid)) continue;
    const mask = RtlMapGenericMask(ace.Mask, mapping);
    if (ace.AceType === ACCESS_DENIED_ACE_TYPE) denied |= mask & ~granted;
    else granted |= mask & ~denied;
  }
  granted >>>= 0;
  if (maximum) {
    const g = (granted | (desired & granted)) >>> 0;
    return { granted: g !== 0 && (desired & ~g) === 0, GrantedAccess: g & ALL_SPECIFIC };
  }
  return (desired & ~granted) === 0 ? { granted: true, GrantedAccess: desired } : { granted: false, GrantedAccess: 0 };
}
