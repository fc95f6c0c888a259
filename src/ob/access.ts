/**
 * Access masks (ACCESS_MASK bits, winnt.h / wdm.h): the standard rights, the generic
 * rights and each object type's specific rights, and GENERIC_MAPPING, which turns the
 * generic bits of a request into the type's specific bits. All values are 32-bit masks.
 */

/** An ACCESS_MASK: standard rights in bits 16..20, specific rights in bits 0..15, generic rights in bits 28..31. */
export type ACCESS_MASK = number;

export const DELETE = 0x00010000;
export const READ_CONTROL = 0x00020000;
export const WRITE_DAC = 0x00040000;
export const WRITE_OWNER = 0x00080000;
export const SYNCHRONIZE = 0x00100000;
export const STANDARD_RIGHTS_REQUIRED = 0x000F0000;
export const STANDARD_RIGHTS_READ = READ_CONTROL;
export const STANDARD_RIGHTS_WRITE = READ_CONTROL;
export const STANDARD_RIGHTS_EXECUTE = READ_CONTROL;
export const STANDARD_RIGHTS_ALL = 0x001F0000;
export const SPECIFIC_RIGHTS_ALL = 0x0000FFFF;
export const ACCESS_SYSTEM_SECURITY = 0x01000000;
/** Ask for every right the caller may have. */
export const MAXIMUM_ALLOWED = 0x02000000;
export const GENERIC_READ = 0x80000000;
export const GENERIC_WRITE = 0x40000000;
export const GENERIC_EXECUTE = 0x20000000;
export const GENERIC_ALL = 0x10000000;

// Event objects.
export const EVENT_QUERY_STATE = 0x0001;
export const EVENT_MODIFY_STATE = 0x0002;
export const EVENT_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x3;

// Semaphore objects.
export const SEMAPHORE_QUERY_STATE = 0x0001;
export const SEMAPHORE_MODIFY_STATE = 0x0002;
export const SEMAPHORE_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x3;

// Thread objects.
export const THREAD_TERMINATE = 0x0001;
export const THREAD_SUSPEND_RESUME = 0x0002;
export const THREAD_ALERT = 0x0004;
export const THREAD_GET_CONTEXT = 0x0008;
export const THREAD_SET_CONTEXT = 0x0010;
export const THREAD_SET_INFORMATION = 0x0020;
export const THREAD_QUERY_INFORMATION = 0x0040;
export const THREAD_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0xFFFF;

// Process objects.
export const PROCESS_TERMINATE = 0x0001;
export const PROCESS_CREATE_THREAD = 0x0002;
export const PROCESS_VM_OPERATION = 0x0008;
export const PROCESS_VM_READ = 0x0010;
export const PROCESS_VM_WRITE = 0x0020;
export const PROCESS_DUP_HANDLE = 0x0040;
export const PROCESS_CREATE_PROCESS = 0x0080;
export const PROCESS_SET_QUOTA = 0x0100;
export const PROCESS_SET_INFORMATION = 0x0200;
export const PROCESS_QUERY_INFORMATION = 0x0400;
export const PROCESS_SUSPEND_RESUME = 0x0800;
export const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
export const PROCESS_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0xFFFF;

// File (and device) objects.
export const FILE_READ_DATA = 0x0001;
export const FILE_LIST_DIRECTORY = 0x0001;
export const FILE_ADD_FILE = 0x0002;
export const FILE_TRAVERSE = 0x0020;
export const FILE_DELETE_CHILD = 0x0040;
export const FILE_WRITE_DATA = 0x0002;
export const FILE_APPEND_DATA = 0x0004;
export const FILE_READ_EA = 0x0008;
export const FILE_WRITE_EA = 0x0010;
export const FILE_EXECUTE = 0x0020;
export const FILE_READ_ATTRIBUTES = 0x0080;
export const FILE_WRITE_ATTRIBUTES = 0x0100;
export const FILE_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x1FF;
export const FILE_GENERIC_READ = STANDARD_RIGHTS_READ | FILE_READ_DATA | FILE_READ_ATTRIBUTES | FILE_READ_EA | SYNCHRONIZE;
export const FILE_GENERIC_WRITE = STANDARD_RIGHTS_WRITE | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | FILE_WRITE_EA | FILE_APPEND_DATA | SYNCHRONIZE;
export const FILE_GENERIC_EXECUTE = STANDARD_RIGHTS_EXECUTE | FILE_READ_ATTRIBUTES | FILE_EXECUTE | SYNCHRONIZE;

// Directory objects.
export const DIRECTORY_QUERY = 0x0001;
export const DIRECTORY_TRAVERSE = 0x0002;
export const DIRECTORY_CREATE_OBJECT = 0x0004;
export const DIRECTORY_CREATE_SUBDIRECTORY = 0x0008;
export const DIRECTORY_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | 0xF;

// Symbolic link objects.
export const SYMBOLIC_LINK_QUERY = 0x0001;
export const SYMBOLIC_LINK_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | 0x1;

// Token objects.
export const TOKEN_QUERY = 0x0008;
export const TOKEN_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | 0x1FF;

/** GENERIC_MAPPING: the specific rights each generic right stands for. */
export interface GENERIC_MAPPING {
  readonly GenericRead: ACCESS_MASK;
  readonly GenericWrite: ACCESS_MASK;
  readonly GenericExecute: ACCESS_MASK;
  readonly GenericAll: ACCESS_MASK;
}

/** The generic mapping of file objects (IoFileObjectType), which device opens use. */
export const FILE_GENERIC_MAPPING: GENERIC_MAPPING = {
  GenericRead: FILE_GENERIC_READ, GenericWrite: FILE_GENERIC_WRITE, GenericExecute: FILE_GENERIC_EXECUTE, GenericAll: FILE_ALL_ACCESS,
};

/**
 * RtlMapGenericMask: replaces the generic bits of `AccessMask` with the rights the mapping
 * gives them (other bits, MAXIMUM_ALLOWED among them, are kept). Returns the mapped mask
 * (the C routine's in/out parameter).
 */
export function RtlMapGenericMask(AccessMask: ACCESS_MASK, GenericMapping: GENERIC_MAPPING): ACCESS_MASK {
  let m = AccessMask >>> 0;
  if (m & GENERIC_READ) m |= GenericMapping.GenericRead;
  if (m & GENERIC_WRITE) m |= GenericMapping.GenericWrite;
  if (m & GENERIC_EXECUTE) m |= GenericMapping.GenericExecute;
  if (m & GENERIC_ALL) m |= GenericMapping.GenericAll;
  return (m & ~(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL)) >>> 0;
}
