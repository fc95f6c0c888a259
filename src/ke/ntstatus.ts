/** NTSTATUS values (ntstatus.h) the kernel and drivers use, and helpers. */

/** An NTSTATUS value (a 32-bit code; severity in bits 31:30). */
export type NTSTATUS = number;

export const STATUS_SUCCESS: NTSTATUS = 0x00000000;
export const STATUS_WAIT_0: NTSTATUS = 0x00000000;
export const STATUS_WAIT_1: NTSTATUS = 0x00000001;
export const STATUS_ABANDONED: NTSTATUS = 0x00000080;
/** A wait ended on an abandoned mutex (STATUS_ABANDONED_WAIT_0 + index). */
export const STATUS_ABANDONED_WAIT_0: NTSTATUS = 0x00000080;
export const STATUS_USER_APC: NTSTATUS = 0x000000C0;
export const STATUS_KERNEL_APC: NTSTATUS = 0x00000100;
export const STATUS_ALERTED: NTSTATUS = 0x00000101;
export const STATUS_TIMEOUT: NTSTATUS = 0x00000102;
export const STATUS_PENDING: NTSTATUS = 0x00000103;
export const STATUS_REPARSE: NTSTATUS = 0x00000104;
export const STATUS_MORE_ENTRIES: NTSTATUS = 0x00000105;
export const STATUS_OBJECT_NAME_EXISTS: NTSTATUS = 0x40000000;
export const STATUS_BUFFER_OVERFLOW: NTSTATUS = 0x80000005;
export const STATUS_NO_MORE_ENTRIES: NTSTATUS = 0x8000001A;
export const STATUS_UNSUCCESSFUL: NTSTATUS = 0xC0000001;
export const STATUS_NOT_IMPLEMENTED: NTSTATUS = 0xC0000002;
export const STATUS_INVALID_INFO_CLASS: NTSTATUS = 0xC0000003;
export const STATUS_INFO_LENGTH_MISMATCH: NTSTATUS = 0xC0000004;
export const STATUS_ACCESS_VIOLATION: NTSTATUS = 0xC0000005;
export const STATUS_INVALID_HANDLE: NTSTATUS = 0xC0000008;
export const STATUS_INVALID_PARAMETER: NTSTATUS = 0xC000000D;
export const STATUS_NO_SUCH_DEVICE: NTSTATUS = 0xC000000E;
export const STATUS_NO_SUCH_FILE: NTSTATUS = 0xC000000F;
export const STATUS_INVALID_DEVICE_REQUEST: NTSTATUS = 0xC0000010;
export const STATUS_END_OF_FILE: NTSTATUS = 0xC0000011;
export const STATUS_NO_MEMORY: NTSTATUS = 0xC0000017;
export const STATUS_ACCESS_DENIED: NTSTATUS = 0xC0000022;
export const STATUS_BUFFER_TOO_SMALL: NTSTATUS = 0xC0000023;
export const STATUS_OBJECT_NAME_INVALID: NTSTATUS = 0xC0000033;
export const STATUS_OBJECT_NAME_NOT_FOUND: NTSTATUS = 0xC0000034;
export const STATUS_OBJECT_NAME_COLLISION: NTSTATUS = 0xC0000035;
/** A component of the path before the last does not exist. */
export const STATUS_OBJECT_PATH_NOT_FOUND: NTSTATUS = 0xC000003A;
/** The name is not a path the object manager can parse (it does not start at the root). */
export const STATUS_OBJECT_PATH_SYNTAX_BAD: NTSTATUS = 0xC000003B;
/** The object is not of the type the caller asked for. */
export const STATUS_OBJECT_TYPE_MISMATCH: NTSTATUS = 0xC0000024;
/** The routine was not registered (PsRemoveCreateThreadNotifyRoutine). */
export const STATUS_PROCEDURE_NOT_FOUND: NTSTATUS = 0xC000007A;
export const STATUS_INSUFFICIENT_RESOURCES: NTSTATUS = 0xC000009A;
export const STATUS_DEVICE_NOT_READY: NTSTATUS = 0xC00000A3;
export const STATUS_IO_DEVICE_ERROR: NTSTATUS = 0xC0000185;
export const STATUS_NOT_SUPPORTED: NTSTATUS = 0xC00000BB;
export const STATUS_INVALID_DEVICE_STATE: NTSTATUS = 0xC0000184;
export const STATUS_CANCELLED: NTSTATUS = 0xC0000120;
export const STATUS_DELETE_PENDING: NTSTATUS = 0xC0000056;
export const STATUS_DEVICE_BUSY: NTSTATUS = 0x80000011;
export const STATUS_UNHANDLED_EXCEPTION: NTSTATUS = 0xC0000144;
export const STATUS_MORE_PROCESSING_REQUIRED: NTSTATUS = 0xC0000016;
export const STATUS_DEVICE_CONFIGURATION_ERROR: NTSTATUS = 0xC0000182;
export const STATUS_INVALID_BUFFER_SIZE: NTSTATUS = 0xC0000206;
export const STATUS_NOT_FOUND: NTSTATUS = 0xC0000225;
export const STATUS_INVALID_PARAMETER_1: NTSTATUS = 0xC00000EF;
export const STATUS_INVALID_PARAMETER_10: NTSTATUS = 0xC00000F8;
export const STATUS_DEVICE_DOES_NOT_EXIST: NTSTATUS = 0xC00000C0;
/** The second parameter is invalid (PoRequestPowerIrp: not a minor code it sends). */
export const STATUS_INVALID_PARAMETER_2: NTSTATUS = 0xC00000F0;
/** A warning: the device is powered off (a request arrived while it was out of D0). */
export const STATUS_DEVICE_POWERED_OFF: NTSTATUS = 0x8000000F;
/** The sector does not exist: an LBA beyond the medium (ILLEGAL REQUEST / LBA OUT OF RANGE). */
export const STATUS_NONEXISTENT_SECTOR: NTSTATUS = 0xC0000015;
/** No medium in the device. */
export const STATUS_NO_MEDIA_IN_DEVICE: NTSTATUS = 0xC0000013;
export const STATUS_DATA_OVERRUN: NTSTATUS = 0xC000003C;
export const STATUS_DATA_ERROR: NTSTATUS = 0xC000003E;
/** A CRC or unrecovered read error on the device. */
export const STATUS_DEVICE_DATA_ERROR: NTSTATUS = 0xC000009C;
export const STATUS_DEVICE_NOT_CONNECTED: NTSTATUS = 0xC000009D;
export const STATUS_MEDIA_WRITE_PROTECTED: NTSTATUS = 0xC00000A2;
/** The request timed out in the device. */
export const STATUS_IO_TIMEOUT: NTSTATUS = 0xC00000B5;
export const STATUS_INVALID_BLOCK_LENGTH: NTSTATUS = 0xC0000109;
export const STATUS_DEVICE_PROTOCOL_ERROR: NTSTATUS = 0xC0000186;
export const STATUS_VERIFY_REQUIRED: NTSTATUS = 0x80000016;
export const STATUS_DEVICE_HARDWARE_ERROR: NTSTATUS = 0xC0000483;
/** The structure's revision (size) is not one the routine knows. */
export const STATUS_REVISION_MISMATCH: NTSTATUS = 0xC0000059;
/** The adapter hardware failed (a storage miniport's HwFindAdapter returned SP_RETURN_ERROR). */
export const STATUS_ADAPTER_HARDWARE_ERROR: NTSTATUS = 0xC00000C2;
/** The disk's partition table (or its signature sector) is corrupt (IoReadDiskSignature). */
export const STATUS_DISK_CORRUPT_ERROR: NTSTATUS = 0xC0000032;
/** The medium's format is not recognised (MEDIUM ERROR / INCOMPATIBLE MEDIUM, UNKNOWN FORMAT). */
export const STATUS_UNRECOGNIZED_MEDIA: NTSTATUS = 0xC0000014;
/** A thread released a mutex it does not own. */
export const STATUS_MUTANT_NOT_OWNED: NTSTATUS = 0xC0000046;
/** Releasing a semaphore would take its count past its limit. */
export const STATUS_SEMAPHORE_LIMIT_EXCEEDED: NTSTATUS = 0xC0000047;
/** A warning: no data was detected on the medium (BLANK CHECK). */
export const STATUS_NO_DATA_DETECTED: NTSTATUS = 0x80000022;
/** A datatype misalignment: a probe of a misaligned buffer (ProbeForRead / ProbeForWrite), or an 8-byte aligned information class into a buffer that is not. */
export const STATUS_DATATYPE_MISALIGNMENT: NTSTATUS = 0x80000002;
/** The third parameter is invalid. */
export const STATUS_INVALID_PARAMETER_3: NTSTATUS = 0xC00000F1;
/** The fourth parameter is invalid (ExInitializeLookasideListEx: the pool type). */
export const STATUS_INVALID_PARAMETER_4: NTSTATUS = 0xC00000F2;
/** The fifth parameter is invalid (ExInitializeLookasideListEx: the flags). */
export const STATUS_INVALID_PARAMETER_5: NTSTATUS = 0xC00000F3;

// The configuration manager (registry).
/** The key was deleted (ZwDeleteKey) while a handle to it was open. */
export const STATUS_KEY_DELETED: NTSTATUS = 0xC000017C;
/** A key with subkeys cannot be deleted. */
export const STATUS_CANNOT_DELETE: NTSTATUS = 0xC0000121;
/** A non-volatile key cannot be created under a volatile one. */
export const STATUS_CHILD_MUST_BE_VOLATILE: NTSTATUS = 0xC0000181;
/** A RegistryCallback routine handled the operation itself (pre) or replaced its status (post). */
export const STATUS_CALLBACK_BYPASS: NTSTATUS = 0xC0000503;
/** CmRegisterCallbackEx: a RegistryCallback routine is already registered at that altitude. */
export const STATUS_FLT_INSTANCE_ALTITUDE_COLLISION: NTSTATUS = 0xC01C0011;
// The kernel transaction manager.
/** A transactional operation conflicts with another transaction's change. */
export const STATUS_TRANSACTIONAL_CONFLICT: NTSTATUS = 0xC0190001;
/** The transaction a handle or key belongs to has committed or rolled back. */
export const STATUS_TRANSACTION_NOT_ACTIVE: NTSTATUS = 0xC0190003;
/** ZwCommitTransaction: the transaction was rolled back. */
export const STATUS_TRANSACTION_ALREADY_ABORTED: NTSTATUS = 0xC0190015;
/** ZwCommitTransaction / ZwRollbackTransaction: the transaction was committed. */
export const STATUS_TRANSACTION_ALREADY_COMMITTED: NTSTATUS = 0xC0190016;
/** TmCommitComplete / TmRollbackComplete: the enlistment has no such notification outstanding. */
export const STATUS_TRANSACTION_REQUEST_NOT_VALID: NTSTATUS = 0xC0190008;
// Debugger exceptions.
/** A breakpoint (DbgBreakPoint; a failed ASSERT). */
export const STATUS_BREAKPOINT: NTSTATUS = 0x80000003;
/** A failed NT_ASSERT. */
export const STATUS_ASSERTION_FAILURE: NTSTATUS = 0xC0000420;
// Driver loading.
/** ZwLoadDriver: the driver is already loaded. */
export const STATUS_IMAGE_ALREADY_LOADED: NTSTATUS = 0xC000010E;
/** ZwLoadDriver: the image is not a driver. */
export const STATUS_INVALID_IMAGE_FORMAT: NTSTATUS = 0xC000007B;

const NAMES = new Map<number, string>();
for (const [name, value] of Object.entries({
  STATUS_SUCCESS, STATUS_WAIT_1, STATUS_ABANDONED, STATUS_USER_APC, STATUS_KERNEL_APC, STATUS_ALERTED,
  STATUS_TIMEOUT, STATUS_PENDING, STATUS_REPARSE, STATUS_MORE_ENTRIES, STATUS_BUFFER_OVERFLOW,
  STATUS_NO_MORE_ENTRIES, STATUS_UNSUCCESSFUL, STATUS_NOT_IMPLEMENTED, STATUS_INVALID_INFO_CLASS,
  STATUS_INFO_LENGTH_MISMATCH, STATUS_ACCESS_VIOLATION, STATUS_INVALID_HANDLE, STATUS_INVALID_PARAMETER,
  STATUS_NO_SUCH_DEVICE, STATUS_NO_SUCH_FILE, STATUS_INVALID_DEVICE_REQUEST, STATUS_END_OF_FILE,
  STATUS_NO_MEMORY, STATUS_ACCESS_DENIED, STATUS_BUFFER_TOO_SMALL, STATUS_OBJECT_NAME_INVALID,
  STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_NAME_COLLISION, STATUS_INSUFFICIENT_RESOURCES,
  STATUS_OBJECT_PATH_NOT_FOUND, STATUS_OBJECT_PATH_SYNTAX_BAD, STATUS_OBJECT_TYPE_MISMATCH, STATUS_PROCEDURE_NOT_FOUND,
  STATUS_DEVICE_NOT_READY, STATUS_IO_DEVICE_ERROR, STATUS_NOT_SUPPORTED, STATUS_INVALID_DEVICE_STATE,
  STATUS_CANCELLED, STATUS_DELETE_PENDING, STATUS_DEVICE_BUSY, STATUS_UNHANDLED_EXCEPTION,
  STATUS_MORE_PROCESSING_REQUIRED, STATUS_DEVICE_CONFIGURATION_ERROR, STATUS_INVALID_BUFFER_SIZE,
  STATUS_NOT_FOUND, STATUS_DEVICE_DOES_NOT_EXIST, STATUS_INVALID_PARAMETER_1, STATUS_INVALID_PARAMETER_10,
  STATUS_OBJECT_NAME_EXISTS, STATUS_INVALID_PARAMETER_2, STATUS_DEVICE_POWERED_OFF,
  STATUS_NONEXISTENT_SECTOR, STATUS_NO_MEDIA_IN_DEVICE, STATUS_DATA_OVERRUN, STATUS_DATA_ERROR, STATUS_DEVICE_DATA_ERROR,
  STATUS_DEVICE_NOT_CONNECTED, STATUS_MEDIA_WRITE_PROTECTED, STATUS_IO_TIMEOUT, STATUS_INVALID_BLOCK_LENGTH, STATUS_DEVICE_PROTOCOL_ERROR,
  STATUS_VERIFY_REQUIRED, STATUS_DEVICE_HARDWARE_ERROR, STATUS_DISK_CORRUPT_ERROR, STATUS_UNRECOGNIZED_MEDIA, STATUS_NO_DATA_DETECTED,
  STATUS_KEY_DELETED, STATUS_CANNOT_DELETE, STATUS_CHILD_MUST_BE_VOLATILE, STATUS_DATATYPE_MISALIGNMENT,
  STATUS_CALLBACK_BYPASS, STATUS_FLT_INSTANCE_ALTITUDE_COLLISION, STATUS_TRANSACTIONAL_CONFLICT, STATUS_TRANSACTION_NOT_ACTIVE,
  STATUS_TRANSACTION_ALREADY_ABORTED, STATUS_TRANSACTION_ALREADY_COMMITTED, STATUS_TRANSACTION_REQUEST_NOT_VALID,
  STATUS_IMAGE_ALREADY_LOADED, STATUS_INVALID_IMAGE_FORMAT, STATUS_BREAKPOINT, STATUS_ASSERTION_FAILURE,
  STATUS_MUTANT_NOT_OWNED, STATUS_SEMAPHORE_LIMIT_EXCEEDED,
  STATUS_INVALID_PARAMETER_3, STATUS_INVALID_PARAMETER_4, STATUS_INVALID_PARAMETER_5,
})) NAMES.set(value, name);

/** NT_SUCCESS: true for success and informational codes (severity 0 or 1). */
export function NT_SUCCESS(status: NTSTATUS): boolean {
  return (status >>> 0) < 0x80000000;
}

/** NT_ERROR: true for error codes (severity 3). */
export function NT_ERROR(status: NTSTATUS): boolean {
  return (status >>> 0) >= 0xC0000000;
}

/** The symbolic name of a status, or its hex value. */
export function statusName(status: NTSTATUS): string {
  return NAMES.get(status >>> 0) ?? `0x${(status >>> 0).toString(16).toUpperCase().padStart(8, "0")}`;
}

/** A status thrown as an exception (ExRaiseStatus; probe failures), caught like SEH. */
export class NtStatusException extends Error {
  constructor(readonly status: NTSTATUS) {
    super(`exception ${statusName(status)}`);
    this.name = "NtStatusException";
  }
}

/**
 * The exception code of a thrown value no handler took: an NtStatusException's status,
 * STATUS_ACCESS_VIOLATION for a TypeError or RangeError (what a bad pointer or index is in
 * C), STATUS_UNHANDLED_EXCEPTION for anything else.
 */
export function exceptionCodeOf(e: unknown): NTSTATUS {
  if (e instanceof NtStatusException) return e.status;
  return e instanceof TypeError || e instanceof RangeError ? STATUS_ACCESS_VIOLATION : STATUS_UNHANDLED_EXCEPTION;
}
