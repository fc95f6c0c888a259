/**
 * Security identifiers: a SID as its string form ("S-1-5-32-544"), and the well-known
 * SIDs SDDL names with two letters (SY, BA, BU, WD, ...).
 */

/** A SID in string form, "S-1-<authority>-<subauthority>...". */
export type SID = string;

/** LocalSystem. */
export const SID_LOCAL_SYSTEM: SID = "S-1-5-18";
/** BUILTIN\Administrators. */
export const SID_BUILTIN_ADMINISTRATORS: SID = "S-1-5-32-544";
/** BUILTIN\Users. */
export const SID_BUILTIN_USERS: SID = "S-1-5-32-545";
/** Everyone (World). */
export const SID_EVERYONE: SID = "S-1-1-0";
/** NT AUTHORITY\Authenticated Users. */
export const SID_AUTHENTICATED_USERS: SID = "S-1-5-11";
/** NT AUTHORITY\INTERACTIVE. */
export const SID_INTERACTIVE: SID = "S-1-5-4";
/** Restricted code. */
export const SID_RESTRICTED_CODE: SID = "S-1-5-12";
/** NT AUTHORITY\LOCAL SERVICE. */
export const SID_LOCAL_SERVICE: SID = "S-1-5-19";
/** NT AUTHORITY\NETWORK SERVICE. */
export const SID_NETWORK_SERVICE: SID = "S-1-5-20";
/** NT AUTHORITY\ANONYMOUS LOGON. */
export const SID_ANONYMOUS: SID = "S-1-5-7";
/** CREATOR OWNER. */
export const SID_CREATOR_OWNER: SID = "S-1-3-0";

/** SDDL's two-letter SID aliases. */
export const SDDL_SID_ALIASES: Readonly<Record<string, SID>> = {
  SY: SID_LOCAL_SYSTEM, BA: SID_BUILTIN_ADMINISTRATORS, BU: SID_BUILTIN_USERS, WD: SID_EVERYONE, AU: SID_AUTHENTICATED_USERS,
  IU: SID_INTERACTIVE, RC: SID_RESTRICTED_CODE, LS: SID_LOCAL_SERVICE, NS: SID_NETWORK_SERVICE, AN: SID_ANONYMOUS, CO: SID_CREATOR_OWNER,
};

/** True when `s` is a SID in string form. */
export function isSid(s: string): boolean {
  return /^S-1-\d+(-\d+)*$/i.test(s);
}
