/*++
Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    regfltr.c (driver.ts: the sample's driver.c)

Abstract:

    Sample driver used to run the kernel mode registry callback samples.

    This module is the driver's image (the sample's RegFltr.sys): it exports DriverEntry.

Environment:

    Kernel mode only

--*/

import { IoCreateDeviceSecure } from "../../../../io/device-secure.js";
import {
  IoCompleteRequest, IoGetCurrentIrpStackLocation, IO_NO_INCREMENT, IRP_MJ_CLEANUP, IRP_MJ_CLOSE, IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL,
  type IRP,
} from "../../../../io/irp.js";
import { FILE_DEVICE_UNKNOWN, IoCreateSymbolicLink, IoDeleteDevice, IoDeleteSymbolicLink, type DEVICE_OBJECT, type DRIVER_OBJECT } from "../../../../io/objects.js";
import { DbgPrintEx, DPFLTR_ERROR_LEVEL, DPFLTR_IHVDRIVER_ID } from "../../../../ke/debug-print.js";
import { InitializeListHead } from "../../../../rtl/list.js";
import { ExInitializeFastMutex } from "../../../../ke/fast-mutex.js";
import { NT_SUCCESS, STATUS_REVISION_MISMATCH, STATUS_SUCCESS, type NTSTATUS } from "../../../../ke/ntstatus.js";
import { DrvRtPoolNxOptIn, ExInitializeDriverRuntime } from "../../../../mm/pool2.js";
import { RtlInitUnicodeString, UNICODE_STRING } from "../../../../rtl/unicode-string.js";
import {
  RtlVerifyVersionInfo, RTL_OSVERSIONINFOEXW, VER_LESS_EQUAL, VER_MAJORVERSION, VER_MINORVERSION, VER_SET_CONDITION,
} from "../../../../rtl/version.js";
import { CmGetCallbackVersion } from "../../../../cm/callbacks.js";
import {
  DEVICE_SDDL, DOS_DEVICES_LINK_NAME, IOCTL_DO_KERNELMODE_SAMPLES, IOCTL_GET_CALLBACK_VERSION, IOCTL_REGISTER_CALLBACK, IOCTL_UNREGISTER_CALLBACK,
  NT_DEVICE_NAME,
} from "../common.js";
import { DoCallbackSamples, GetCallbackVersion, RegisterCallback, RMCallback, UnRegisterCallback } from "./regfltr.js";
import { ErrorPrint, globals, InfoPrint } from "./regfltr-header.js";
import { CreateKTMResourceManager, DeleteKTMResourceManager } from "./txrutil.js";


/** DetectOSVersion: sets g_IsWin8OrGreater from RtlVerifyVersionInfo. */
export function DetectOSVersion(
): void
/*++

Routine Description:

    This routine determines the OS version and initializes some globals used
    in the sample.

Arguments:

    None

Return value:

    None. On failure, global variables stay at default value

--*/
{

  const VersionInfo = new RTL_OSVERSIONINFOEXW();
  let Status: NTSTATUS;
  let ConditionMask = 0n;

  //
  // Set VersionInfo to Win7's version number and then use
  // RtlVerifVersionInfo to see if this is win8 or greater.
  //

  VersionInfo.dwOSVersionInfoSize = 284;   // sizeof(VersionInfo)
  VersionInfo.dwMajorVersion = 6;
  VersionInfo.dwMinorVersion = 1;

  ConditionMask = VER_SET_CONDITION(ConditionMask, VER_MAJORVERSION, VER_LESS_EQUAL);
  ConditionMask = VER_SET_CONDITION(ConditionMask, VER_MINORVERSION, VER_LESS_EQUAL);



  Status = RtlVerifyVersionInfo(VersionInfo,
    VER_MAJORVERSION | VER_MINORVERSION,
    ConditionMask);
  if (NT_SUCCESS(Status)) {
    globals.g_IsWin8OrGreater = false;
    InfoPrint("DetectOSVersion: This machine is running Windows 7 or an older OS.");
  } else if (Status === STATUS_REVISION_MISMATCH) {
    globals.g_IsWin8OrGreater = true;
    InfoPrint("DetectOSVersion: This machine is running Windows 8 or a newer OS.");
  } else {
    ErrorPrint("RtlVerifyVersionInfo returned unexpected error status 0x%x.",
      Status);

    //
    // default action is to assume this is not win8
    //
    globals.g_IsWin8OrGreater = false;
  }

}



/** DriverEntry: creates \Device\RegFltr (admins and system only) and its link, reads the callback version and creates the KTM resource manager. */
export function DriverEntry(
  DriverObject: DRIVER_OBJECT,
  RegistryPath: UNICODE_STRING,
): NTSTATUS
/*++

Routine Description:

    This routine is called by the operating system to initialize the driver.
    It allocates a device object, initializes the supported Io callbacks, and
    creates a symlink to make the device accessible to Win32.

    It gets the registry callback version and stores it in the global
    variables g_MajorVersion and g_MinorVersion. It also calls
    CreateKTMResourceManager to create a resource manager that is used in
    the transaction samples.

Arguments:

    DriverObject - Supplies the system control object for this test driver.

    RegistryPath - The string location of the driver's corresponding services
                   key in the registry.

Return value:

    Success or appropriate failure code.

--*/
{
  let Status: NTSTATUS;
  const NtDeviceName = new UNICODE_STRING();
  const DosDevicesLinkName = new UNICODE_STRING();
  const DeviceSDDLString = new UNICODE_STRING();

  void RegistryPath; // UNREFERENCED_PARAMETER(RegistryPath);

  DbgPrintEx(DPFLTR_IHVDRIVER_ID,
    DPFLTR_ERROR_LEVEL,
    "RegFltr: DriverEntry()\n");

  DbgPrintEx(DPFLTR_IHVDRIVER_ID,
    DPFLTR_ERROR_LEVEL,
    "RegFltr: Use ed nt!Kd_IHVDRIVER_Mask 8 to enable more detailed printouts\n");

  //
  //  Default to NonPagedPoolNx for non paged pool allocations where supported.
  //

  ExInitializeDriverRuntime(DrvRtPoolNxOptIn);

  //
  // Create our device object.
  //

  RtlInitUnicodeString(NtDeviceName, NT_DEVICE_NAME);
  RtlInitUnicodeString(DeviceSDDLString, DEVICE_SDDL);

  ({ status: Status, DeviceObject: globals.g_DeviceObj } = IoCreateDeviceSecure(
    DriverObject,                 // pointer to driver object
    null,                         // device extension size
    NtDeviceName,                 // device name
    FILE_DEVICE_UNKNOWN,          // device type
    0,                            // device characteristics
    true,                         // not exclusive
    DeviceSDDLString,             // SDDL string specifying access
    null));                       // device class guid
                                  // returned device object pointer

  if (!NT_SUCCESS(Status)) {
    return Status;
  }

  //
  // Set dispatch routines.
  //

  DriverObject.MajorFunction[IRP_MJ_CREATE] = DeviceCreate;
  DriverObject.MajorFunction[IRP_MJ_CLOSE] = DeviceClose;
  DriverObject.MajorFunction[IRP_MJ_CLEANUP] = DeviceCleanup;
  DriverObject.MajorFunction[IRP_MJ_DEVICE_CONTROL] = DeviceControl;
  DriverObject.DriverUnload = DeviceUnload;

  //
  // Create a link in the Win32 namespace.
  //

  RtlInitUnicodeString(DosDevicesLinkName, DOS_DEVICES_LINK_NAME);

  Status = IoCreateSymbolicLink(DosDevicesLinkName, NtDeviceName);

  if (!NT_SUCCESS(Status)) {
    IoDeleteDevice(DriverObject.DeviceObject!);
    return Status;
  }

  //
  // Get callback version.
  //

  ({ Major: globals.g_MajorVersion, Minor: globals.g_MinorVersion } = CmGetCallbackVersion());
  InfoPrint("Callback version %u.%u", globals.g_MajorVersion, globals.g_MinorVersion);

  //
  // Some variations depend on knowing if the OS is win8 or above
  //

  DetectOSVersion();

  //
  // Set up KTM resource manager and pass in RMCallback as our
  // callback routine.
  //

  Status = CreateKTMResourceManager(RMCallback, null);

  if (NT_SUCCESS(Status)) {
    globals.g_RMCreated = true;
  }

  //
  // Initialize the callback context list
  //

  InitializeListHead(globals.g_CallbackCtxListHead);
  ExInitializeFastMutex(globals.g_CallbackCtxListLock);
  globals.g_NumCallbackCtxListEntries = 0;

  return STATUS_SUCCESS;

}



/** DeviceCreate: IRP_MJ_CREATE, completed with STATUS_SUCCESS. */
export function DeviceCreate(
  DeviceObject: DEVICE_OBJECT,
  Irp: IRP,
): NTSTATUS
/*++

Routine Description:

    Dispatches file create requests.

Arguments:

    DeviceObject - The device object receiving the request.

    Irp - The request packet.

Return Value:

    STATUS_NOT_IMPLEMENTED

--*/
{
  void DeviceObject; // UNREFERENCED_PARAMETER(DeviceObject);

  Irp.IoStatus.Status = STATUS_SUCCESS;
  Irp.IoStatus.Information = 0;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);

  return STATUS_SUCCESS;
}



/** DeviceClose: IRP_MJ_CLOSE, completed with STATUS_SUCCESS. */
export function DeviceClose(
  DeviceObject: DEVICE_OBJECT,
  Irp: IRP,
): NTSTATUS
/*++

Routine Description:

    Dispatches close requests.

Arguments:

    DeviceObject - The device object receiving the request.

    Irp - The request packet.

Return Value:

    STATUS_SUCCESS

--*/
{
  void DeviceObject; // UNREFERENCED_PARAMETER(DeviceObject);

  Irp.IoStatus.Status = STATUS_SUCCESS;
  Irp.IoStatus.Information = 0;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);

  return STATUS_SUCCESS;
}



/** DeviceCleanup: IRP_MJ_CLEANUP, completed with STATUS_SUCCESS. */
export function DeviceCleanup(
  DeviceObject: DEVICE_OBJECT,
  Irp: IRP,
): NTSTATUS
/*++

Routine Description:

    Dispatches cleanup requests.  Does nothing right now.

Arguments:

    DeviceObject - The device object receiving the request.

    Irp - The request packet.

Return Value:

    STATUS_SUCCESS

--*/
{
  void DeviceObject; // UNREFERENCED_PARAMETER(DeviceObject);

  Irp.IoStatus.Status = STATUS_SUCCESS;
  Irp.IoStatus.Information = 0;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);

  return STATUS_SUCCESS;
}



/** DeviceControl: IRP_MJ_DEVICE_CONTROL: runs the IOCTL's routine and completes the IRP with its status. */
export async function DeviceControl(
  DeviceObject: DEVICE_OBJECT,
  Irp: IRP,
): Promise<NTSTATUS>
/*++

Routine Description:

    Dispatches ioctl requests.

Arguments:

    DeviceObject - The device object receiving the request.

    Irp - The request packet.

Return Value:

    Status returned from the method called.

--*/
{
  let Ioctl: number;
  let Status: NTSTATUS;

  Status = STATUS_SUCCESS;

  const IrpStack = IoGetCurrentIrpStackLocation(Irp);
  Ioctl = IrpStack.Parameters.DeviceIoControl.IoControlCode;

  switch (Ioctl) {

    case IOCTL_DO_KERNELMODE_SAMPLES:
      Status = await DoCallbackSamples(DeviceObject, Irp);
      break;

    case IOCTL_REGISTER_CALLBACK:
      Status = await RegisterCallback(DeviceObject, Irp);
      break;

    case IOCTL_UNREGISTER_CALLBACK:
      Status = await UnRegisterCallback(DeviceObject, Irp);
      break;

    case IOCTL_GET_CALLBACK_VERSION:
      Status = GetCallbackVersion(DeviceObject, Irp);
      break;

    default:
      ErrorPrint("Unrecognized ioctl code 0x%x", Ioctl);
  }

  //
  // Complete the irp and return.
  //

  Irp.IoStatus.Status = Status;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);

  return Status;

}


/** DeviceUnload: closes the KTM handles, deletes the symbolic link and the device object. */
export async function DeviceUnload(
  DriverObject: DRIVER_OBJECT,
): Promise<void>
/*++

Routine Description:

    Cleans up any driver-level allocations and prepares for unload. All
    this driver needs to do is to delete the device object and the
    symbolic link between our device name and the Win32 visible name.

Arguments:

    DeviceObject - The device object receiving the request.

    Irp - The request packet.

Return Value:

    STATUS_NOT_IMPLEMENTED

--*/
{
  const DosDevicesLinkName = new UNICODE_STRING();

  //
  // Clean up the KTM data structures
  //

  await DeleteKTMResourceManager();

  //
  // Delete the link from our device name to a name in the Win32 namespace.
  //

  RtlInitUnicodeString(DosDevicesLinkName, DOS_DEVICES_LINK_NAME);
  IoDeleteSymbolicLink(DosDevicesLinkName);

  //
  // Finally delete our device object
  //

  IoDeleteDevice(DriverObject.DeviceObject!);

  DbgPrintEx(DPFLTR_IHVDRIVER_ID,
    DPFLTR_ERROR_LEVEL,
    "RegFltr: DeviceUnload\n");
}
