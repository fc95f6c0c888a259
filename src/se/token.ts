/**
 * Access tokens: the user, the groups and the privileges a process runs with. A program
 * runs as an administrator (the elevated token of a member of BUILTIN\Administrators) or
 * as a standard user; system threads run as LocalSystem.
 */
import {
  SID_AUTHENTICATED_USERS, SID_BUILTIN_ADMINISTRATORS, SID_BUILTIN_USERS, SID_EVERYONE, SID_INTERACTIVE, SID_LOCAL_SYSTEM, type SID,
} from "./sid.js";

/** Privilege LUIDs (the LowPart of SE_*_PRIVILEGE, wdm.h). */
export const SE_CREATE_TOKEN_PRIVILEGE = 2;
export const SE_LOCK_MEMORY_PRIVILEGE = 4;
export const SE_TCB_PRIVILEGE = 7;
export const SE_SECURITY_PRIVILEGE = 8;
export const SE_TAKE_OWNERSHIP_PRIVILEGE = 9;
export const SE_LOAD_DRIVER_PRIVILEGE = 10;
export const SE_SYSTEM_PROFILE_PRIVILEGE = 11;
export const SE_SYSTEMTIME_PRIVILEGE = 12;
export const SE_INC_BASE_PRIORITY_PRIVILEGE = 14;
export const SE_BACKUP_PRIVILEGE = 17;
export const SE_RESTORE_PRIVILEGE = 18;
export const SE_SHUTDOWN_PRIVILEGE = 19;
export const SE_DEBUG_PRIVILEGE = 20;
export const SE_SYSTEM_ENVIRONMENT_PRIVILEGE = 22;
export const SE_CHANGE_NOTIFY_PRIVILEGE = 23;
export const SE_UNDOCK_PRIVILEGE = 25;
export const SE_MANAGE_VOLUME_PRIVILEGE = 28;
export const SE_IMPERSONATE_PRIVILEGE = 29;
export const SE_CREATE_GLOBAL_PRIVILEGE = 30;
export const SE_INC_WORKING_SET_PRIVILEGE = 33;
export const SE_TIME_ZONE_PRIVILEGE = 34;

/** A LUID (privileges: LowPart is the SE_*_PRIVILEGE value, HighPart 0). */
export interface LUID {
  LowPart: number;
  HighPart: number;
}

/** An access token. */
export class ACCESS_TOKEN {
  constructor(
    /** The user. */
    readonly User: SID,
    /** Enabled groups. */
    readonly Groups: readonly SID[],
    /** Enabled privileges (SE_*_PRIVILEGE values). */
    readonly Privileges: ReadonlySet<number>,
    /** A short name for traces and errors ("administrator", "user", "system"). */
    readonly kind: string,
  ) {}

  /** True when the token's user or an enabled group is `sid`. */
  hasSid(sid: SID): boolean {
    return this.User === sid || this.Groups.includes(sid);
  }

  /** True when the privilege is enabled. */
  hasPrivilege(privilege: number): boolean {
    return this.Privileges.has(privilege);
  }
}

/** A local account's SID for the tokens programs run with. */
const INTERACTIVE_USER: SID = "S-1-5-21-1000-1000-1000-1001";

/** An elevated administrator: BUILTIN\Administrators enabled, with the privileges Windows gives it (load driver, debug, backup, ...). */
export function administratorToken(): ACCESS_TOKEN {
  return new ACCESS_TOKEN(INTERACTIVE_USER, [SID_BUILTIN_ADMINISTRATORS, SID_BUILTIN_USERS, SID_EVERYONE, SID_INTERACTIVE, SID_AUTHENTICATED_USERS], new Set([
    SE_SECURITY_PRIVILEGE, SE_TAKE_OWNERSHIP_PRIVILEGE, SE_LOAD_DRIVER_PRIVILEGE, SE_SYSTEM_PROFILE_PRIVILEGE, SE_SYSTEMTIME_PRIVILEGE,
    SE_INC_BASE_PRIORITY_PRIVILEGE, SE_BACKUP_PRIVILEGE, SE_RESTORE_PRIVILEGE, SE_SHUTDOWN_PRIVILEGE, SE_DEBUG_PRIVILEGE,
    SE_SYSTEM_ENVIRONMENT_PRIVILEGE, SE_CHANGE_NOTIFY_PRIVILEGE, SE_UNDOCK_PRIVILEGE, SE_MANAGE_VOLUME_PRIVILEGE, SE_IMPERSONATE_PRIVILEGE,
    SE_CREATE_GLOBAL_PRIVILEGE, SE_INC_WORKING_SET_PRIVILEGE, SE_TIME_ZONE_PRIVILEGE,
  ]), "administrator");
}

/** A standard user: BUILTIN\Users, with the few privileges a standard user has. */
export function standardUserToken(): ACCESS_TOKEN {
  return new ACCESS_TOKEN(INTERACTIVE_USER, [SID_BUILTIN_USERS, SID_EVERYONE, SID_INTERACTIVE, SID_AUTHENTICATED_USERS],
    new Set([SE_SHUTDOWN_PRIVILEGE, SE_CHANGE_NOTIFY_PRIVILEGE, SE_UNDOCK_PRIVILEGE, SE_INC_WORKING_SET_PRIVILEGE, SE_TIME_ZONE_PRIVILEGE]), "user");
}

/** LocalSystem: what system threads run as. */
export function systemToken(): ACCESS_TOKEN {
  return new ACCESS_TOKEN(SID_LOCAL_SYSTEM, [SID_BUILTIN_ADMINISTRATORS, SID_EVERYONE, SID_AUTHENTICATED_USERS], new Set([
    SE_CREATE_TOKEN_PRIVILEGE, SE_LOCK_MEMORY_PRIVILEGE, SE_TCB_PRIVILEGE, SE_SECURITY_PRIVILEGE, SE_TAKE_OWNERSHIP_PRIVILEGE, SE_LOAD_DRIVER_PRIVILEGE,
    SE_SYSTEM_PROFILE_PRIVILEGE, SE_SYSTEMTIME_PRIVILEGE, SE_INC_BASE_PRIORITY_PRIVILEGE, SE_BACKUP_PRIVILEGE, SE_RESTORE_PRIVILEGE,
    SE_SHUTDOWN_PRIVILEGE, SE_DEBUG_PRIVILEGE, SE_SYSTEM_ENVIRONMENT_PRIVILEGE, SE_CHANGE_NOTIFY_PRIVILEGE, SE_UNDOCK_PRIVILEGE,
    SE_MANAGE_VOLUME_PRIVILEGE, SE_IMPERSONATE_PRIVILEGE, SE_CREATE_GLOBAL_PRIVILEGE, SE_INC_WORKING_SET_PRIVILEGE, SE_TIME_ZONE_PRIVILEGE,
  ]), "system");
}
