/**
 * IoGetDeviceObjectPointer: how a driver reaches another driver's named device to send it
 * IRPs. The I/O manager opens the name as a file (IRP_MJ_CREATE to the device's stack),
 * references the file object, and closes its handle (IRP_MJ_CLEANUP); the caller gets the
 * file object and the device at the top of the stack, and drops the file object with
 * ObDereferenceObject when done (IRP_MJ_CLOSE then follows). The device object is not
 * referenced itself: the file object keeps it.
 */
import { KE } from "../ke/kernel.js";
import { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import { type NTSTATUS } from "../ke/ntstatus.js";
import type { ACCESS_MASK } from "../ob/access.js";
import { OBJ_KERNEL_HANDLE } from "../ob/attributes.js";
import { closeHandleAt, createHandle, grantedAccess } from "../ob/handles.js";
import { decodeKernelHandle } from "../ob/handle-table.js";
import { OB } from "../ob/manager.js";
import { IoFileObjectType } from "../ob/object-type.js";
import { dereference, reference } from "../ob/reference.js";
import { topOfStack, type DEVICE_OBJECT } from "./objects.js";
import { openDeviceFile } from "./open.js";
import type { FILE_OBJECT } from "./process.js";

/** FILE_NON_DIRECTORY_FILE: the open is of a file (a device), not a directory. */
export const FILE_NON_DIRECTORY_FILE = 0x00000040;
/** FILE_OPEN: the create disposition of an open (the object must exist). */
export const FILE_OPEN = 0x00000001;

/** What IoGetDeviceObjectPointer returns: the status, the file object (referenced) and the device (the C out-parameters). */
export interface DeviceObjectPointer {
  status: NTSTATUS;
  /** The file object, with a reference the caller drops with ObDereferenceObject (null on failure). */
  FileObject: FILE_OBJECT | null;
  /** The device at the top of the named device's stack (null on failure). */
  DeviceObject: DEVICE_OBJECT | null;
}

/**
 * IoGetDeviceObjectPointer(ObjectName, DesiredAccess): opens the device `ObjectName`
 * ("\\Device\\Edu0", or a name that reaches one through symbolic links). Failures are the
 * name's (STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_PATH_NOT_FOUND), STATUS_OBJECT_TYPE_MISMATCH
 * for a name that is not a device, or the driver's failure of IRP_MJ_CREATE. PASSIVE_LEVEL;
 * it waits for the create and the cleanup, so it is async.
 */
export async function IoGetDeviceObjectPointer(ObjectName: string, DesiredAccess: ACCESS_MASK): Promise<DeviceObjectPointer> {
  const k = KE();
  const { status, file } = await openDeviceFile(k, ObjectName, DesiredAccess, 0, (FILE_OPEN << 24) | FILE_NON_DIRECTORY_FILE, false);
  if (!file) return { status, FileObject: null, DeviceObject: null };
  const ob = OB(k);
  const h = ob.headerOf(file)!;
  // ZwOpenFile's kernel handle takes the creator's reference; the caller's reference is taken before the handle closes.
  const handle = createHandle(k, h, grantedAccess(IoFileObjectType, DesiredAccess), OBJ_KERNEL_HANDLE, KPROCESSOR_MODE.KernelMode);
  void dereference(k, h);
  reference(h);
  await closeHandleAt(k, ob.kernelHandles, decodeKernelHandle(handle));
  return { status, FileObject: file, DeviceObject: topOfStack(file.DeviceObject) };
}
