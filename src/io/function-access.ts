/**
 * IoCheckFunctionAccess, and the access an I/O control code requires: what a handle must
 * have been granted for a read (FILE_READ_DATA), a write (FILE_WRITE_DATA) or a device
 * control (the control code's RequiredAccess: FILE_READ_ACCESS is FILE_READ_DATA,
 * FILE_WRITE_ACCESS is FILE_WRITE_DATA, FILE_ANY_ACCESS nothing).
 */
import { STATUS_ACCESS_DENIED, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import { FILE_READ_DATA, FILE_WRITE_DATA, type ACCESS_MASK } from "../ob/access.js";
import { IRP_MJ_DEVICE_CONTROL, IRP_MJ_INTERNAL_DEVICE_CONTROL, IRP_MJ_READ, IRP_MJ_WRITE } from "./irp.js";
import { FILE_READ_ACCESS, FILE_WRITE_ACCESS } from "./ioctl.js";

/** The rights a device control with `IoControlCode` needs on its handle. */
export function ioctlRequiredAccess(IoControlCode: number): ACCESS_MASK {
  const access = (IoControlCode >>> 14) & 3;
  return ((access & FILE_READ_ACCESS) !== 0 ? FILE_READ_DATA : 0) | ((access & FILE_WRITE_ACCESS) !== 0 ? FILE_WRITE_DATA : 0);
}

/**
 * IoCheckFunctionAccess(GrantedAccess, MajorFunction, MinorFunction, IoControlCode,
 * Argument1, Argument2): STATUS_SUCCESS when `GrantedAccess` allows the operation,
 * STATUS_ACCESS_DENIED when not. Reads need FILE_READ_DATA, writes FILE_WRITE_DATA, device
 * controls what their code requires; other major functions need nothing here.
 */
export function IoCheckFunctionAccess(
  GrantedAccess: ACCESS_MASK, MajorFunction: number, _MinorFunction: number, IoControlCode: number, _Argument1: unknown = null, _Argument2: unknown = null,
): NTSTATUS {
  let needed = 0;
  if (MajorFunction === IRP_MJ_READ) needed = FILE_READ_DATA;
  else if (MajorFunction === IRP_MJ_WRITE) needed = FILE_WRITE_DATA;
  else if (MajorFunction === IRP_MJ_DEVICE_CONTROL || MajorFunction === IRP_MJ_INTERNAL_DEVICE_CONTROL) needed = ioctlRequiredAccess(IoControlCode);
  return (needed & ~GrantedAccess) === 0 ? STATUS_SUCCESS : STATUS_ACCESS_DENIED;
}
