/**
 * ACCESS_MASK bits (winnt.h): the standard and generic rights, the file object's specific
 * rights, and the generic mapping of files and devices (what GENERIC_READ and the others
 * mean for a file object).
 */

/** An access mask: specific rights in bits 0-15, standard rights 16-20, generic rights 28-31. */
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
export const ACCESS_SYSTEM_SECURITY = 0x01000000;
/** Ask for every right the security descriptor grants. */
export const MAXIMUM_ALLOWED = 0x02000000;
export const GENERIC_ALL = 0x10000000;
export const GENERIC_EXECUTE = 0x20000000;
export const GENERIC_WRITE = 0x40000000;
export const GENERIC_READ = 0x80000000;

// File (and device) specific rights.
export const FILE_READ_DATA = 0x0001;
export const FILE_LIST_DIRECTORY = 0x0001;
export const FILE_WRITE_DATA = 0x0002;
export const FILE_ADD_FILE = 0x0002;
export const FILE_APPEND_DATA = 0x0004;
export const FILE_READ_EA = 0x0008;
export const FILE_WRITE_EA = 0x0010;
export const FILE_EXECUTE = 0x0020;
export const FILE_TRAVERSE = 0x0020;
export const FILE_DELETE_CHILD = 0x0040;
export const FILE_READ_ATTRIBUTES = 0x0080;
export const FILE_WRITE_ATTRIBUTES = 0x0100;
export const FILE_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x1FF;
export const FILE_GENERIC_READ = STANDARD_RIGHTS_READ | FILE_READ_DATA | FILE_READ_ATTRIBUTES | FILE_READ_EA | SYNCHRONIZE;
export const FILE_GENERIC_WRITE = STANDARD_RIGHTS_WRITE | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | FILE_WRITE_EA | FILE_APPEND_DATA | SYNCHRONIZE;
export const FILE_GENERIC_EXECUTE = STANDARD_RIGHTS_EXECUTE | FILE_READ_ATTRIBUTES | FILE_EXECUTE | SYNCHRONIZE;

/** GENERIC_MAPPING: the specific rights each generic right stands for. */
export interface GENERIC_MAPPING {
  GenericRead: ACCESS_MASK;
  GenericWrite: ACCESS_MASK;
  GenericExecute: ACCESS_MASK;
  GenericAll: ACCESS_MASK;
}

/** The generic mapping of file objects (IoFileObjectType), which device opens use. */
export const FILE_GENERIC_MAPPING: Readonly<GENERIC_MAPPING> = {
  GenericRead: FILE_GENERIC_READ, GenericWrite: FILE_GENERIC_WRITE, GenericExecute: FILE_GENERIC_EXECUTE, GenericAll: FILE_ALL_ACCESS,
};

/** RtlMapGenericMask: `mask` with its generic rights replaced by the specific rights `mapping` gives them. */
export function RtlMapGenericMask(mask: ACCESS_MASK, mapping: Readonly<GENERIC_MAPPING>): ACCESS_MASK {
  let m = mask >>> 0;
  if (m & GENERIC_READ) m |= mapping.GenericRead;
  if (m & GENERIC_WRITE) m |= mapping.GenericWrite;
  if (m & GENERIC_EXECUTE) m |= mapping.GenericExecute;
  if (m & GENERIC_ALL) m |= mapping.GenericAll;
  return (m & ~(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL)) >>> 0;
}
