/**
 * Opening a device by name, as IoCreateFile does for both user-mode CreateFile and kernel
 * callers (IoGetDeviceObjectPointer): the object manager looks the name up (following
 * symbolic links such as \GLOBAL??\Edu0 -> \Device\Edu0), the name must reach a device
 * object, a FILE_OBJECT is made for it (FileName: what followed the device's name) and
 * IRP_MJ_CREATE goes to the top of the device's stack, its Parameters.Create.SecurityContext
 * an IO_SECURITY_CONTEXT with the DesiredAccess asked for (generic rights mapped). A device
 * with DO_DEVICE_INITIALIZING still set cannot be opened (STATUS_NO_SUCH_DEVICE), nor an
 * exclusive one (DO_EXCLUSIVE) that is open already (STATUS_ACCESS_DENIED).
 */
import { accessCheck } from "../se/access-check.js";
import type { ACCESS_TOKEN } from "../se/token.js";
import { FILE_GENERIC_MAPPING } from "../ob/access.js";
import type { Kernel } from "../ke/kernel.js";
import { NT_SUCCESS, STATUS_ACCESS_DENIED, STATUS_NO_SUCH_DEVICE, STATUS_OBJECT_TYPE_MISMATCH, type NTSTATUS } from "../ke/ntstatus.js";
import { lookupObjectName } from "../ob/namespace.js";
import { OB } from "../ob/manager.js";
import { IoDeviceObjectType, IoFileObjectType } from "../ob/object-type.js";
import { grantedAccess } from "../ob/handles.js";
import { dereference } from "../ob/reference.js";
import type { ACCESS_MASK } from "../ob/access.js";
import { IoGetNextIrpStackLocation, IRP_MJ_CREATE } from "./irp.js";
import { IO } from "./manager.js";

export { ntNameOf } from "./manager.js";
import { DO_DEVICE_INITIALIZING, DO_EXCLUSIVE, FILE_DEVICE_SECURE_OPEN, type DEVICE_OBJECT } from "./objects.js";
import { FILE_OBJECT, FO_SYNCHRONOUS_IO } from "./process.js";
import { sendFileIrp } from "./request.js";

/** What opening a device gave: the status and the file object (with its creator's reference), or null. */
export interface OpenResult {
  status: NTSTATUS;
  file: FILE_OBJECT | null;
}

/**
 * Opens the device `ntName` reaches and sends IRP_MJ_CREATE with `Options` (the create
 * disposition in the top byte, FILE_XXX options below) and `ShareAccess`. The name's
 * failures (STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_PATH_NOT_FOUND, ...) and
 * STATUS_OBJECT_TYPE_MISMATCH for a name that is not a device come back as they are; so
 * does the driver's failure of the create (the file object then goes, without
 * IRP_MJ_CLEANUP or IRP_MJ_CLOSE).
 */
export async function openDeviceFile(k: Kernel, ntName: string, DesiredAccess: ACCESS_MASK, ShareAccess: number, Options: number, synchronous: boolean, token: ACCESS_TOKEN | null = null): Promise<OpenResult> {
  const found = lookupObjectName(k, ntName);
  if (!NT_SUCCESS(found.status)) return { status: found.status, file: null };
  if (found.object!.Type !== IoDeviceObjectType) return { status: STATUS_OBJECT_TYPE_MISMATCH, file: null };
  const device = found.object!.Body as DEVICE_OBJECT;
  // A device still initializing, or whose driver is being unloaded, takes no opens; an exclusive device takes one at a time.
  if ((device.Flags & DO_DEVICE_INITIALIZING) !== 0 || IO(k).unloadPending(device.DriverObject)) return { status: STATUS_NO_SUCH_DEVICE, file: null };
  if ((device.Flags & DO_EXCLUSIVE) !== 0 && device.ReferenceCount !== 0) return { status: STATUS_ACCESS_DENIED, file: null };
  // A user-mode open is checked against the device's security descriptor: for the device
  // itself always, for a name below it only with FILE_DEVICE_SECURE_OPEN.
  const sd = device.SecurityDescriptor;
  if (token && sd && (found.remaining === "" || (device.Characteristics & FILE_DEVICE_SECURE_OPEN) !== 0)) {
    if (!accessCheck(sd, token, DesiredAccess, FILE_GENERIC_MAPPING).granted) return { status: STATUS_ACCESS_DENIED, file: null };
  }
  const file = new FILE_OBJECT(device, found.remaining, k);
  if (synchronous) file.Flags |= FO_SYNCHRONOUS_IO;
  const status = await sendFileIrp(file, IRP_MJ_CREATE, (i) => {
    const s = IoGetNextIrpStackLocation(i);
    s.Parameters.Create.SecurityContext = { SecurityQos: null, AccessState: null, DesiredAccess: grantedAccess(IoFileObjectType, DesiredAccess), FullCreateOptions: Options };
    s.Parameters.Create.Options = Options;
    s.Parameters.Create.ShareAccess = ShareAccess;
  });
  if (!NT_SUCCESS(status)) {
    file.closed = true;
    void dereference(k, OB(k).headerOf(file)!);
    return { status, file: null };
  }
  IO(k).referenceDevice(device);
  return { status, file };
}
