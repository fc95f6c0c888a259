/*++

Copyright (c) 1990-98  Microsoft Corporation All Rights Reserved

Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    sioctl.c (sioctl.ts)

Abstract:

    Purpose of this driver is to demonstrate how the four different types
    of IOCTLs can be used, and how the I/O manager handles the user I/O
    buffers in each case. This sample also helps to understand the usage of
    some of the memory manager functions.

Environment:

    Kernel mode only.

--*/


//
// Include files.
//

import {
  FILE_DEVICE_SECURE_OPEN, FILE_DEVICE_UNKNOWN, IoCreateDevice, IoCreateSymbolicLink, IoDeleteDevice, IoDeleteSymbolicLink,
  type DEVICE_OBJECT, type DRIVER_OBJECT,
} from "../../../io/objects.js";
import {
  IoCompleteRequest, IoGetCurrentIrpStackLocation, IO_NO_INCREMENT, IRP_MJ_CLOSE, IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL, type IO_STACK_LOCATION, type IRP,
} from "../../../io/irp.js";
import { IoAllocateMdl, IoFreeMdl } from "../../../io/mdl.js";
import { KPROCESSOR_MODE } from "../../../ke/dispatcher.js";
import { DbgPrint, KdPrint, PAGED_CODE } from "../../../ke/debug-print.js";
import { EXCEPTION_EXECUTE_HANDLER, GetExceptionCode, tryExcept } from "../../../ke/exception.js";
import {
  NT_SUCCESS, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER, STATUS_SUCCESS, type NTSTATUS,
} from "../../../ke/ntstatus.js";
import { readU8, type PVOID } from "../../../mm/memory.js";
import {
  LOCK_OPERATION, MdlMappingNoExecute, MM_PAGE_PRIORITY, MmGetMdlByteCount, MmGetSystemAddressForMdlSafe, MmProbeAndLockPages, MmUnlockPages, type MDL,
} from "../../../mm/mdl.js";
import { ProbeForRead } from "../../../mm/probe.js";
import type { FormatArgument } from "../../../rtl/format.js";
import { ansiLiteral, ansiText } from "../../../rtl/guest-text.js";
import { RtlCopyBytes } from "../../../rtl/memory.js";
import { RtlInitUnicodeString, UNICODE_STRING } from "../../../rtl/unicode-string.js";

import {
  IOCTL_SIOCTL_METHOD_BUFFERED, IOCTL_SIOCTL_METHOD_IN_DIRECT, IOCTL_SIOCTL_METHOD_NEITHER, IOCTL_SIOCTL_METHOD_OUT_DIRECT,
} from "./sioctl-public.js";

/** The device's name in the object namespace. */
export const NT_DEVICE_NAME = "\\Device\\SIOCTL";
/** The Win32 name (\\.\IoctlTest) linked to it. */
export const DOS_DEVICE_NAME = "\\DosDevices\\IoctlTest";

/** The driver's debug messages (a checked build's): "SIOCTL.SYS: " then the message, as two DbgPrint calls. */
function SIOCTL_KDPRINT(Format: string, ...args: FormatArgument[]): void {
  DbgPrint("SIOCTL.SYS: ");
  DbgPrint(Format, ...args);
}

const { IoReadAccess, IoWriteAccess } = LOCK_OPERATION;
const { NormalPagePriority } = MM_PAGE_PRIORITY;
const { UserMode } = KPROCESSOR_MODE;

/**
 * DriverEntry: creates \Device\SIOCTL (FILE_DEVICE_UNKNOWN, FILE_DEVICE_SECURE_OPEN, no
 * extension), fills in the dispatch entry points and links \DosDevices\IoctlTest to it.
 * STATUS_SUCCESS if initialized; an error otherwise.
 */
export function DriverEntry(
  DriverObject: DRIVER_OBJECT,
  RegistryPath: UNICODE_STRING,
): NTSTATUS
/*++

Routine Description:
    This routine is called by the Operating System to initialize the driver.

    It creates the device object, fills in the dispatch entry points and
    completes the initialization.

Arguments:
    DriverObject - a pointer to the object that represents this device
    driver.

    RegistryPath - a pointer to our Services key in the registry.

Return Value:
    STATUS_SUCCESS if initialized; an error otherwise.

--*/

{
  let ntStatus: NTSTATUS;
  const ntUnicodeString = new UNICODE_STRING();    // NT Device Name "\Device\SIOCTL"
  const ntWin32NameString = new UNICODE_STRING();    // Win32 Name "\DosDevices\IoctlTest"
  let deviceObject: DEVICE_OBJECT | null = null;    // ptr to device object

  void RegistryPath; // UNREFERENCED_PARAMETER

  RtlInitUnicodeString(ntUnicodeString, NT_DEVICE_NAME);

  ({ status: ntStatus, DeviceObject: deviceObject } = IoCreateDevice(
    DriverObject,                   // Our Driver Object
    null,                           // We don't use a device extension
    ntUnicodeString,                // Device name "\Device\SIOCTL"
    FILE_DEVICE_UNKNOWN,            // Device type
    FILE_DEVICE_SECURE_OPEN,        // Device characteristics
    false,                          // Not an exclusive device
  ));                               // Returned ptr to Device Object

  if (!NT_SUCCESS(ntStatus)) {
    SIOCTL_KDPRINT("Couldn't create the device object\n");
    return ntStatus;
  }

  //
  // Initialize the driver object with this driver's entry points.
  //

  DriverObject.MajorFunction[IRP_MJ_CREATE] = SioctlCreateClose;
  DriverObject.MajorFunction[IRP_MJ_CLOSE] = SioctlCreateClose;
  DriverObject.MajorFunction[IRP_MJ_DEVICE_CONTROL] = SioctlDeviceControl;
  DriverObject.DriverUnload = SioctlUnloadDriver;

  //
  // Initialize a Unicode String containing the Win32 name
  // for our device.
  //

  RtlInitUnicodeString(ntWin32NameString, DOS_DEVICE_NAME);

  //
  // Create a symbolic link between our device name  and the Win32 name
  //

  ntStatus = IoCreateSymbolicLink(
    ntWin32NameString, ntUnicodeString);

  if (!NT_SUCCESS(ntStatus)) {
    //
    // Delete everything that this routine has allocated.
    //
    SIOCTL_KDPRINT("Couldn't create symbolic link\n");
    IoDeleteDevice(deviceObject!);
  }


  return ntStatus;
}


/** IRP_MJ_CREATE and IRP_MJ_CLOSE: completes the request with STATUS_SUCCESS. */
export function SioctlCreateClose(
  DeviceObject: DEVICE_OBJECT,
  Irp: IRP,
): NTSTATUS
/*++

Routine Description:

    This routine is called by the I/O system when the SIOCTL is opened or
    closed.

    No action is performed other than completing the request successfully.

Arguments:

    DeviceObject - a pointer to the object that represents the device
    that I/O is to be done on.

    Irp - a pointer to the I/O Request Packet for this request.

Return Value:

    NT status code

--*/

{
  void DeviceObject; // UNREFERENCED_PARAMETER

  PAGED_CODE();

  Irp.IoStatus.Status = STATUS_SUCCESS;
  Irp.IoStatus.Information = 0;

  IoCompleteRequest(Irp, IO_NO_INCREMENT);

  return STATUS_SUCCESS;
}

/** DriverUnload: deletes the symbolic link and the device object. */
export function SioctlUnloadDriver(
  DriverObject: DRIVER_OBJECT,
): void
/*++

Routine Description:

    This routine is called by the I/O system to unload the driver.

    Any resources previously allocated must be freed.

Arguments:

    DriverObject - a pointer to the object that represents our driver.

Return Value:

    None
--*/

{
  const deviceObject = DriverObject.DeviceObject;
  const uniWin32NameString = new UNICODE_STRING();

  PAGED_CODE();

  //
  // Create counted string version of our Win32 device name.
  //

  RtlInitUnicodeString(uniWin32NameString, DOS_DEVICE_NAME);


  //
  // Delete the link from our device name to a name in the Win32 namespace.
  //

  IoDeleteSymbolicLink(uniWin32NameString);

  if (deviceObject !== null) {
    IoDeleteDevice(deviceObject);
  }



}

/**
 * IRP_MJ_DEVICE_CONTROL: serves the four IOCTL_SIOCTL_METHOD_* codes, printing the IRP's
 * buffers and the data from the user, and writing "This String is from Device Driver !!!"
 * to the output buffer (METHOD_IN_DIRECT only reads it). STATUS_INVALID_PARAMETER when
 * either buffer length is 0, STATUS_INVALID_DEVICE_REQUEST for another code, an exception
 * code for a METHOD_NEITHER buffer it cannot access, STATUS_INSUFFICIENT_RESOURCES when an
 * MDL or a mapping cannot be had.
 */
export function SioctlDeviceControl(
  DeviceObject: DEVICE_OBJECT,
  Irp: IRP,
): NTSTATUS

/*++

Routine Description:

    This routine is called by the I/O system to perform a device I/O
    control function.

Arguments:

    DeviceObject - a pointer to the object that represents the device
        that I/O is to be done on.

    Irp - a pointer to the I/O Request Packet for this request.

Return Value:

    NT status code

--*/

{
  let irpSp: IO_STACK_LOCATION;// Pointer to current stack location
  let ntStatus: NTSTATUS = STATUS_SUCCESS;// Assume success
  let inBufLength: number; // Input buffer length
  let outBufLength: number; // Output buffer length
  let inBuf: PVOID, outBuf: PVOID; // pointer to Input and output buffer
  const data: PVOID = ansiLiteral("This String is from Device Driver !!!");
  const datalen = ansiText(data).length + 1;//Length of data including null
  let mdl: MDL | null = null;
  let buffer: PVOID = 0;

  void DeviceObject; // UNREFERENCED_PARAMETER

  PAGED_CODE();

  irpSp = IoGetCurrentIrpStackLocation(Irp);
  inBufLength = irpSp.Parameters.DeviceIoControl.InputBufferLength;
  outBufLength = irpSp.Parameters.DeviceIoControl.OutputBufferLength;

  End: {
    if (!inBufLength || !outBufLength) {
      ntStatus = STATUS_INVALID_PARAMETER;
      break End;
    }

    //
    // Determine which I/O control code was specified.
    //

    switch (irpSp.Parameters.DeviceIoControl.IoControlCode) {
      case IOCTL_SIOCTL_METHOD_BUFFERED:

        //
        // In this method the I/O manager allocates a buffer large enough to
        // to accommodate larger of the user input buffer and output buffer,
        // assigns the address to Irp->AssociatedIrp.SystemBuffer, and
        // copies the content of the user input buffer into this SystemBuffer
        //

        SIOCTL_KDPRINT("Called IOCTL_SIOCTL_METHOD_BUFFERED\n");
        PrintIrpInfo(Irp);

        //
        // Input buffer and output buffer is same in this case, read the
        // content of the buffer before writing to it
        //

        inBuf = Irp.AssociatedIrp.SystemBuffer;
        outBuf = Irp.AssociatedIrp.SystemBuffer;

        //
        // Read the data from the buffer
        //

        SIOCTL_KDPRINT("\tData from User :");
        //
        // We are using the following function to print characters instead
        // DebugPrint with %s format because we string we get may or
        // may not be null terminated.
        //
        PrintChars(inBuf, inBufLength);

        //
        // Write to the buffer over-writes the input buffer content
        //

        RtlCopyBytes(outBuf, data, outBufLength);

        SIOCTL_KDPRINT("\tData to User : ");
        PrintChars(outBuf, datalen);

        //
        // Assign the length of the data copied to IoStatus.Information
        // of the Irp and complete the Irp.
        //

        Irp.IoStatus.Information = (outBufLength < datalen ? outBufLength : datalen);

        //
        // When the Irp is completed the content of the SystemBuffer
        // is copied to the User output buffer and the SystemBuffer is
        // is freed.
        //

        break;

      case IOCTL_SIOCTL_METHOD_NEITHER:

        //
        // In this type of transfer the I/O manager assigns the user input
        // to Type3InputBuffer and the output buffer to UserBuffer of the Irp.
        // The I/O manager doesn't copy or map the buffers to the kernel
        // buffers. Nor does it perform any validation of user buffer's address
        // range.
        //


        SIOCTL_KDPRINT("Called IOCTL_SIOCTL_METHOD_NEITHER\n");

        PrintIrpInfo(Irp);

        //
        // A driver may access these buffers directly if it is a highest level
        // driver whose Dispatch routine runs in the context
        // of the thread that made this request. The driver should always
        // check the validity of the user buffer's address range and check whether
        // the appropriate read or write access is permitted on the buffer.
        // It must also wrap its accesses to the buffer's address range within
        // an exception handler in case another user thread deallocates the buffer
        // or attempts to change the access rights for the buffer while the driver
        // is accessing memory.
        //

        inBuf = irpSp.Parameters.DeviceIoControl.Type3InputBuffer;
        outBuf = Irp.UserBuffer;

        //
        // Access the buffers directly if only if you are running in the
        // context of the calling process. Only top level drivers are
        // guaranteed to have the context of process that made the request.
        //

        if (tryExcept(() => {
          //
          // Before accessing user buffer, you must probe for read/write
          // to make sure the buffer is indeed an userbuffer with proper access
          // rights and length. ProbeForRead/Write will raise an exception if it's otherwise.
          //
          ProbeForRead(inBuf, inBufLength, 1 /* sizeof( UCHAR ) */);

          //
          // Since the buffer access rights can be changed or buffer can be freed
          // anytime by another thread of the same process, you must always access
          // it within an exception handler.
          //

          SIOCTL_KDPRINT("\tData from User :");
          PrintChars(inBuf, inBufLength);
          return false;
        }, EXCEPTION_EXECUTE_HANDLER, () => {

          ntStatus = GetExceptionCode();
          SIOCTL_KDPRINT(
            "Exception while accessing inBuf 0X%08X in METHOD_NEITHER\n",
            ntStatus);
          return true; // break
        })) break;


        //
        // If you are accessing these buffers in an arbitrary thread context,
        // say in your DPC or ISR, if you are using it for DMA, or passing these buffers to the
        // next level driver, you should map them in the system process address space.
        // First allocate an MDL large enough to describe the buffer
        // and initilize it. Please note that on a x86 system, the maximum size of a buffer
        // that an MDL can describe is 65508 KB.
        //

        mdl = IoAllocateMdl(inBuf, inBufLength, false, true, null);
        if (!mdl) {
          ntStatus = STATUS_INSUFFICIENT_RESOURCES;
          break;
        }

        if (tryExcept(() => {

          //
          // Probe and lock the pages of this buffer in physical memory.
          // You can specify IoReadAccess, IoWriteAccess or IoModifyAccess
          // Always perform this operation in a try except block.
          //  MmProbeAndLockPages will raise an exception if it fails.
          //
          MmProbeAndLockPages(mdl!, UserMode, IoReadAccess);
          return false;
        }, EXCEPTION_EXECUTE_HANDLER, () => {

          ntStatus = GetExceptionCode();
          SIOCTL_KDPRINT(
            "Exception while locking inBuf 0X%08X in METHOD_NEITHER\n",
            ntStatus);
          IoFreeMdl(mdl!);
          return true; // break
        })) break;

        //
        // Map the physical pages described by the MDL into system space.
        // Note: double mapping the buffer this way causes lot of
        // system overhead for large size buffers.
        //

        buffer = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority | MdlMappingNoExecute);

        if (!buffer) {
          ntStatus = STATUS_INSUFFICIENT_RESOURCES;
          MmUnlockPages(mdl);
          IoFreeMdl(mdl);
          break;
        }

        //
        // Now you can safely read the data from the buffer.
        //
        SIOCTL_KDPRINT("\tData from User (SystemAddress) : ");
        PrintChars(buffer, inBufLength);

        //
        // Once the read is over unmap and unlock the pages.
        //

        MmUnlockPages(mdl);
        IoFreeMdl(mdl);

        //
        // The same steps can be followed to access the output buffer.
        //

        mdl = IoAllocateMdl(outBuf, outBufLength, false, true, null);
        if (!mdl) {
          ntStatus = STATUS_INSUFFICIENT_RESOURCES;
          break;
        }


        if (tryExcept(() => {
          //
          // Probe and lock the pages of this buffer in physical memory.
          // You can specify IoReadAccess, IoWriteAccess or IoModifyAccess.
          //

          MmProbeAndLockPages(mdl!, UserMode, IoWriteAccess);
          return false;
        }, EXCEPTION_EXECUTE_HANDLER, () => {

          ntStatus = GetExceptionCode();
          SIOCTL_KDPRINT(
            "Exception while locking outBuf 0X%08X in METHOD_NEITHER\n",
            ntStatus);
          IoFreeMdl(mdl!);
          return true; // break
        })) break;


        buffer = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority | MdlMappingNoExecute);

        if (!buffer) {
          MmUnlockPages(mdl);
          IoFreeMdl(mdl);
          ntStatus = STATUS_INSUFFICIENT_RESOURCES;
          break;
        }
        //
        // Write to the buffer
        //

        RtlCopyBytes(buffer, data, outBufLength);

        SIOCTL_KDPRINT("\tData to User : %s\n", buffer);
        PrintChars(buffer, datalen);

        MmUnlockPages(mdl);

        //
        // Free the allocated MDL
        //

        IoFreeMdl(mdl);

        //
        // Assign the length of the data copied to IoStatus.Information
        // of the Irp and complete the Irp.
        //

        Irp.IoStatus.Information = (outBufLength < datalen ? outBufLength : datalen);

        break;

      case IOCTL_SIOCTL_METHOD_IN_DIRECT:

        //
        // In this type of transfer,  the I/O manager allocates a system buffer
        // large enough to accommodatethe User input buffer, sets the buffer address
        // in Irp->AssociatedIrp.SystemBuffer and copies the content of user input buffer
        // into the SystemBuffer. For the user output buffer, the  I/O manager
        // probes to see whether the virtual address is readable in the callers
        // access mode, locks the pages in memory and passes the pointer to
        // MDL describing the buffer in Irp->MdlAddress.
        //

        SIOCTL_KDPRINT("Called IOCTL_SIOCTL_METHOD_IN_DIRECT\n");

        PrintIrpInfo(Irp);

        inBuf = Irp.AssociatedIrp.SystemBuffer;

        SIOCTL_KDPRINT("\tData from User in InputBuffer: ");
        PrintChars(inBuf, inBufLength);

        //
        // To access the output buffer, just get the system address
        // for the buffer. For this method, this buffer is intended for transfering data
        // from the application to the driver.
        //

        buffer = MmGetSystemAddressForMdlSafe(Irp.MdlAddress as MDL, NormalPagePriority | MdlMappingNoExecute);

        if (!buffer) {
          ntStatus = STATUS_INSUFFICIENT_RESOURCES;
          break;
        }

        SIOCTL_KDPRINT("\tData from User in OutputBuffer: ");
        PrintChars(buffer, outBufLength);

        //
        // Return total bytes read from the output buffer.
        // Note OutBufLength = MmGetMdlByteCount(Irp->MdlAddress)
        //

        Irp.IoStatus.Information = MmGetMdlByteCount(Irp.MdlAddress as MDL);

        //
        // NOTE: Changes made to the  SystemBuffer are not copied
        // to the user input buffer by the I/O manager
        //

        break;

      case IOCTL_SIOCTL_METHOD_OUT_DIRECT:

        //
        // In this type of transfer, the I/O manager allocates a system buffer
        // large enough to accommodate the User input buffer, sets the buffer address
        // in Irp->AssociatedIrp.SystemBuffer and copies the content of user input buffer
        // into the SystemBuffer. For the output buffer, the I/O manager
        // probes to see whether the virtual address is writable in the callers
        // access mode, locks the pages in memory and passes the pointer to MDL
        // describing the buffer in Irp->MdlAddress.
        //


        SIOCTL_KDPRINT("Called IOCTL_SIOCTL_METHOD_OUT_DIRECT\n");

        PrintIrpInfo(Irp);


        inBuf = Irp.AssociatedIrp.SystemBuffer;

        SIOCTL_KDPRINT("\tData from User : ");
        PrintChars(inBuf, inBufLength);

        //
        // To access the output buffer, just get the system address
        // for the buffer. For this method, this buffer is intended for transfering data
        // from the driver to the application.
        //

        buffer = MmGetSystemAddressForMdlSafe(Irp.MdlAddress as MDL, NormalPagePriority | MdlMappingNoExecute);

        if (!buffer) {
          ntStatus = STATUS_INSUFFICIENT_RESOURCES;
          break;
        }

        //
        // Write data to be sent to the user in this buffer
        //

        RtlCopyBytes(buffer, data, outBufLength);

        SIOCTL_KDPRINT("\tData to User : ");
        PrintChars(buffer, datalen);

        Irp.IoStatus.Information = (outBufLength < datalen ? outBufLength : datalen);

        //
        // NOTE: Changes made to the  SystemBuffer are not copied
        // to the user input buffer by the I/O manager
        //

        break;

      default:

        //
        // The specified I/O control code is unrecognized by this driver.
        //

        ntStatus = STATUS_INVALID_DEVICE_REQUEST;
        SIOCTL_KDPRINT("ERROR: unrecognized IOCTL %x\n",
          irpSp.Parameters.DeviceIoControl.IoControlCode);
        break;
    }
  }

  // End:
  //
  // Finish the I/O operation by simply completing the packet and returning
  // the same status as in the packet itself.
  //

  Irp.IoStatus.Status = ntStatus;

  IoCompleteRequest(Irp, IO_NO_INCREMENT);

  return ntStatus;
}

/** Prints the IRP's buffer pointers and the IOCTL's buffer lengths to the debugger. */
export function PrintIrpInfo(
  Irp: IRP): void {
  let irpSp: IO_STACK_LOCATION;
  irpSp = IoGetCurrentIrpStackLocation(Irp);

  PAGED_CODE();

  SIOCTL_KDPRINT("\tIrp->AssociatedIrp.SystemBuffer = 0x%p\n",
    Irp.AssociatedIrp.SystemBuffer);
  SIOCTL_KDPRINT("\tIrp->UserBuffer = 0x%p\n", Irp.UserBuffer);
  SIOCTL_KDPRINT("\tirpSp->Parameters.DeviceIoControl.Type3InputBuffer = 0x%p\n",
    irpSp.Parameters.DeviceIoControl.Type3InputBuffer);
  SIOCTL_KDPRINT("\tirpSp->Parameters.DeviceIoControl.InputBufferLength = %d\n",
    irpSp.Parameters.DeviceIoControl.InputBufferLength);
  SIOCTL_KDPRINT("\tirpSp->Parameters.DeviceIoControl.OutputBufferLength = %d\n",
    irpSp.Parameters.DeviceIoControl.OutputBufferLength);
  return;
}

/**
 * Prints `CountChars` bytes at `BufferAddress` to the debugger, one KdPrint per
 * character: printable ones as themselves, control characters, DEL and bytes above 127
 * (negative as a signed CHAR) as '.'; then a newline. Nothing when CountChars is 0.
 */
export function PrintChars(
  BufferAddress: PVOID,
  CountChars: number,
): void {
  PAGED_CODE();

  if (CountChars) {

    while (CountChars--) {
      const ch = (readU8(BufferAddress) << 24) >> 24; // *BufferAddress, a signed CHAR

      if (ch > 31
        && ch !== 127) {

        KdPrint("%c", ch);

      } else {

        KdPrint(".");

      }
      BufferAddress++;
    }
    KdPrint("\n");
  }
  return;
}
