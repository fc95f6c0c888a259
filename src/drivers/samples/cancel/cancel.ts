/*++
Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    cancel.c and cancel.h (cancel.ts)

Abstract:   Demonstrates the use of new Cancel-Safe queue
            APIs to perform queuing of IRPs without worrying about
            any synchronization issues between cancel lock in the I/O
            manager and the driver's queue lock.

            This driver is written for an hypothetical data acquisition
            device that requires polling at a regular interval.
            The device has some settling period between two reads.
            Upon user request the driver reads data and records the time.
            When the next read request comes in, it checks the interval
            to see if it's reading the device too soon. If so, it pends
            the IRP and sleeps for while and tries again.

            Upon arrival, IRPs are queued in a cancel-safe queue and a
            semaphore is signaled. A polling thread indefinitely waits on the
            semaphore to process queued IRPs sequentially.

            This sample is adapted from the original cancel
            sample (KB Q188276) available in MSDN.

Environment:

    Kernel mode

--*/

import {
  IoCsqInitialize, IoCsqInsertIrp, IoCsqRemoveNextIrp, IO_CSQ,
} from "../../../io/csq.js";
import { IoCreateDeviceSecure } from "../../../io/device-secure.js";
import {
  IoCompleteRequest, IoGetCurrentIrpStackLocation, IO_NO_INCREMENT, IRP_MJ_CLEANUP, IRP_MJ_CLOSE, IRP_MJ_CREATE, IRP_MJ_READ,
  type IO_STACK_LOCATION, type IRP,
} from "../../../io/irp.js";
import {
  DO_BUFFERED_IO, FILE_DEVICE_SECURE_OPEN, FILE_DEVICE_UNKNOWN, IoCreateSymbolicLink, IoDeleteDevice, IoDeleteSymbolicLink,
  type DEVICE_OBJECT, type DRIVER_OBJECT,
} from "../../../io/objects.js";
import type { FILE_OBJECT } from "../../../io/process.js";
import {
  IoAcquireRemoveLock, IoInitializeRemoveLock, IoReleaseRemoveLock, IoReleaseRemoveLockAndWait, IO_REMOVE_LOCK,
} from "../../../io/remove-lock.js";
import { KeEnterCriticalRegion, KeLeaveCriticalRegion } from "../../../ke/critical-region.js";
import { DbgPrint, PAGED_CODE } from "../../../ke/debug-print.js";
import {
  KeDelayExecutionThread, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON, type LARGE_INTEGER,
} from "../../../ke/dispatcher.js";
import { APC_LEVEL, type KIRQL } from "../../../ke/irql.js";
import { KeGetCurrentIrql } from "../../../ke/level.js";
import {
  NT_SUCCESS, STATUS_BUFFER_TOO_SMALL, STATUS_CANCELLED, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER, STATUS_PENDING,
  STATUS_SUCCESS, type NTSTATUS,
} from "../../../ke/ntstatus.js";
import { KeSetPriorityThread, LOW_REALTIME_PRIORITY } from "../../../ke/priority.js";
import { KeGetCurrentThread } from "../../../ke/scheduler.js";
import { KeInitializeSemaphore, KeReleaseSemaphore, KSEMAPHORE } from "../../../ke/semaphore.js";
import { KeAcquireSpinLock, KeInitializeSpinLock, KeReleaseSpinLock, KSPIN_LOCK } from "../../../ke/spinlock.js";
import { KeQuerySystemTime } from "../../../ke/time.js";
import { readU32, writeU32, type PVOID } from "../../../mm/memory.js";
import { ExFreePoolWithTag, POOL_TYPE } from "../../../mm/pool.js";
import { ExAllocatePoolQuotaZero, ExInitializeDriverRuntime, DrvRtPoolNxOptIn, POOL_QUOTA_FAIL_INSTEAD_OF_RAISE } from "../../../mm/pool2.js";
import { THREAD_ALL_ACCESS } from "../../../ob/access.js";
import { ObReferenceObjectByHandle, ZwClose } from "../../../ob/handles.js";
import { ObDereferenceObject } from "../../../ob/reference.js";
import type { ETHREAD } from "../../../ps/thread.js";
import { PsCreateSystemThread, PsTerminateSystemThread } from "../../../ps/system-thread.js";
import type { FormatArgument } from "../../../rtl/format.js";
import { CONTAINING_RECORD, InitializeListHead, InsertTailList, LIST_ENTRY, RemoveEntryList } from "../../../rtl/list.js";
import { Int32x32To64 } from "../../../rtl/memory.js";
import { RtlInitUnicodeString, UNICODE_STRING } from "../../../rtl/unicode-string.js";

//
// cancel.h
//

//
// Since this driver is a legacy driver and gets installed as a service
// (without an INF file),  we will define a class guid for use in
// IoCreateDeviceSecure function. This would allow  the system to store
// Security, DeviceType, Characteristics and Exclusivity information of the
// deviceobject in the registery under
// HKLM\SYSTEM\CurrentControlSet\Control\Class\ClassGUID\Properties.
// This information can be overrided by an Administrators giving them the ability
// to control access to the device beyond what is initially allowed
// by the driver developer.
//

/** {5D006E1A-2631-466c-B8A0-32FD498E4424}: the class GUID passed to IoCreateDeviceSecure. */
export const GUID_DEVCLASS_CANCEL_SAMPLE = "{5d006e1a-2631-466c-b8a0-32fd498e4424}";

/** The driver's debug messages (a checked build's): "CANCEL.SYS: " then the message, as two DbgPrint calls. */
function CSAMP_KDPRINT(Format: string, ...args: FormatArgument[]): void {
  DbgPrint("CANCEL.SYS: ");
  DbgPrint(Format, ...args);
}

/** The device's name in the object namespace. */
export const CSAMP_DEVICE_NAME_U = "\\Device\\CANCELSAMP";
/** The Win32 name (\\.\CancelSamp) linked to it. */
export const CSAMP_DOS_DEVICE_NAME_U = "\\DosDevices\\CancelSamp";
/** The polling thread's retry interval, microseconds (500 ms). */
export const CSAMP_RETRY_INTERVAL = 500 * 1000; //500 ms
/** The pool tag, (ULONG)'MASC' ("CSAM" in memory). */
export const TAG = 0x4D415343;

/** INPUT_DATA: what a read returns, bytes (ULONG Data: device data is stored here). */
export const SIZEOF_INPUT_DATA = 4;

/** A LARGE_INTEGER variable (QuadPart: 100 ns units for times and intervals). */
export class LARGE_INTEGER_VALUE {
  QuadPart: LARGE_INTEGER = 0;
}

/** DEVICE_EXTENSION: the device's state. */
export class DEVICE_EXTENSION {

  ThreadShouldStop = false;

  // Irps waiting to be processed are queued here
  readonly PendingIrpQueue = new LIST_ENTRY(this);

  //  SpinLock to protect access to the queue
  readonly QueueLock = new KSPIN_LOCK();

  readonly CancelSafeQueue = Object.assign(new IO_CSQ(), { record: this as object });

  // Time at which the device was last polled
  readonly LastPollTime = new LARGE_INTEGER_VALUE();

  // Polling interval (retry interval)
  readonly PollingInterval = new LARGE_INTEGER_VALUE();

  readonly IrpQueueSemaphore = new KSEMAPHORE();

  ThreadObject: ETHREAD | null = null;
}

/** FILE_CONTEXT: per open handle, kept in the file object's FsContext. */
export class FILE_CONTEXT {
  //
  // Lock to rundown threads that are dispatching I/Os on a file handle
  // while the cleanup for that handle is in progress.
  //
  readonly FileRundownLock = new IO_REMOVE_LOCK();

  /** `Pool`: the nonpaged pool allocation (sizeof(FILE_CONTEXT)) the context occupies. */
  constructor(readonly Pool: PVOID) {}
}

/** sizeof(FILE_CONTEXT) on x64, bytes (an IO_REMOVE_LOCK of a free build). */
const SIZEOF_FILE_CONTEXT = 0x20;

/** The IRP's Tail.Overlay.ListEntry as a link (made the first time the IRP is queued). */
function IrpListEntry(Irp: IRP): LIST_ENTRY {
  const o = Irp.Tail.Overlay;
  if (!(o.ListEntry instanceof LIST_ENTRY) || o.ListEntry.record !== Irp) o.ListEntry = new LIST_ENTRY(Irp);
  return o.ListEntry as LIST_ENTRY;
}

/** CONTAINING_RECORD(entry, IRP, Tail.Overlay.ListEntry). */
function IrpOfListEntry(Entry: LIST_ENTRY): IRP {
  return Entry.record as IRP;
}

const { KernelMode } = KPROCESSOR_MODE;
const { Executive } = KWAIT_REASON;

//
// cancel.c
//

/**
 * DriverEntry: creates \Device\CANCELSAMP (secure: SYSTEM and Administrators only), links
 * \DosDevices\CancelSamp to it, sets up the cancel-safe queue and the semaphore and starts
 * the polling thread. STATUS_SUCCESS if successful; the failing call's status otherwise.
 */
export async function DriverEntry(
  DriverObject: DRIVER_OBJECT,
  RegistryPath: UNICODE_STRING,
): Promise<NTSTATUS>
/*++

Routine Description:

    Installable driver initialization entry point.
    This entry point is called directly by the I/O system.

Arguments:

    DriverObject - pointer to the driver object

    registryPath - pointer to a unicode string representing the path,
                   to driver-specific key in the registry.

Return Value:

    STATUS_SUCCESS if successful,
    STATUS_UNSUCCESSFUL otherwise

--*/
{
  let status: NTSTATUS = STATUS_SUCCESS;
  const unicodeDeviceName = new UNICODE_STRING();
  const unicodeDosDeviceName = new UNICODE_STRING();
  let deviceObject: DEVICE_OBJECT | null;
  let devExtension: DEVICE_EXTENSION;
  let threadHandle: number;
  const sddlString = new UNICODE_STRING();

  void RegistryPath; // UNREFERENCED_PARAMETER (RegistryPath);

  CSAMP_KDPRINT("DriverEntry Enter \n");

  //
  // Opt-in to using non-executable pool memory on Windows 8 and later.
  // https://msdn.microsoft.com/en-us/library/windows/hardware/hh920402(v=vs.85).aspx
  //

  ExInitializeDriverRuntime(DrvRtPoolNxOptIn);

  RtlInitUnicodeString(unicodeDeviceName, CSAMP_DEVICE_NAME_U);

  RtlInitUnicodeString(sddlString, "D:P(A;;GA;;;SY)(A;;GA;;;BA)");

  //
  // We will create a secure deviceobject so that only processes running
  // in admin and local system account can access the device. Refer
  // "Security Descriptor String Format" section in the platform
  // SDK documentation to understand the format of the sddl string.
  // We need to do because this is a legacy driver and there is no INF
  // involved in installing the driver. For PNP drivers, security descriptor
  // is typically specified for the FDO in the INF file.
  //

  ({ status, DeviceObject: deviceObject } = IoCreateDeviceSecure(
    DriverObject,
    new DEVICE_EXTENSION(), // sizeof(DEVICE_EXTENSION)
    unicodeDeviceName,
    FILE_DEVICE_UNKNOWN,
    FILE_DEVICE_SECURE_OPEN,
    false,
    sddlString,
    GUID_DEVCLASS_CANCEL_SAMPLE,
  ));
  if (!NT_SUCCESS(status)) {
    return status;
  }

  DbgPrint("DeviceObject %p\n", deviceObject!.address);

  //
  // Allocate and initialize a Unicode String containing the Win32 name
  // for our device.
  //

  RtlInitUnicodeString(unicodeDosDeviceName, CSAMP_DOS_DEVICE_NAME_U);


  status = IoCreateSymbolicLink(
    unicodeDosDeviceName,
    unicodeDeviceName,
  );

  if (!NT_SUCCESS(status)) {
    IoDeleteDevice(deviceObject!);
    return status;
  }

  devExtension = deviceObject!.DeviceExtension as DEVICE_EXTENSION;

  DriverObject.MajorFunction[IRP_MJ_CREATE] =
  DriverObject.MajorFunction[IRP_MJ_CLOSE] = CsampCreateClose;
  DriverObject.MajorFunction[IRP_MJ_READ] = CsampRead;
  DriverObject.MajorFunction[IRP_MJ_CLEANUP] = CsampCleanup;

  DriverObject.DriverUnload = CsampUnload;

  //
  // Set the flag signifying that we will do buffered I/O. This causes NT
  // to allocate a buffer on a ReadFile operation which will then be copied
  // back to the calling application by the I/O subsystem
  //

  deviceObject!.Flags |= DO_BUFFERED_IO;

  //
  // This is used to serailize access to the queue.
  //

  KeInitializeSpinLock(devExtension.QueueLock);

  KeInitializeSemaphore(devExtension.IrpQueueSemaphore, 0, 0x7FFFFFFF /* MAXLONG */);

  //
  // Initialize the pending Irp devicequeue
  //

  InitializeListHead(devExtension.PendingIrpQueue);

  //
  // Initialize the cancel safe queue
  //
  IoCsqInitialize(devExtension.CancelSafeQueue,
    CsampInsertIrp,
    CsampRemoveIrp,
    CsampPeekNextIrp,
    CsampAcquireLock,
    CsampReleaseLock,
    CsampCompleteCanceledIrp);
  //
  // 10 is multiplied because system time is specified in 100ns units
  //

  devExtension.PollingInterval.QuadPart = Int32x32To64(
    CSAMP_RETRY_INTERVAL, -10);
  //
  // Note down system time
  //

  devExtension.LastPollTime.QuadPart = KeQuerySystemTime();

  //
  // Start the polling thread.
  //

  devExtension.ThreadShouldStop = false;

  ({ status, ThreadHandle: threadHandle } = PsCreateSystemThread(
    0,
    null,
    0,
    CsampPollingThread,
    deviceObject));

  if (!NT_SUCCESS(status)) {
    IoDeleteSymbolicLink(unicodeDosDeviceName);
    IoDeleteDevice(deviceObject!);
    return status;
  }

  //
  // Convert the Thread object handle into a pointer to the Thread object
  // itself. Then close the handle.
  //

  devExtension.ThreadObject = ObReferenceObjectByHandle<ETHREAD>(threadHandle,
    THREAD_ALL_ACCESS,
    null,
    KernelMode,
  ).Object;

  await ZwClose(threadHandle);

  CSAMP_KDPRINT("DriverEntry Exit = %x\n", status);

  return status;
}


/** IRP_MJ_CREATE (allocates the handle's FILE_CONTEXT) and IRP_MJ_CLOSE (frees it). */
export function CsampCreateClose(
  DeviceObject: DEVICE_OBJECT,
  Irp: IRP,
): NTSTATUS
/*++

Routine Description:

   Process the Create and close IRPs sent to this device.

Arguments:

   DeviceObject - pointer to a device object.

   Irp - pointer to an I/O Request Packet.

Return Value:

      NT Status code

--*/
{
  let irpStack: IO_STACK_LOCATION;
  let status: NTSTATUS = STATUS_SUCCESS;
  let fileContext: FILE_CONTEXT;

  void DeviceObject; // UNREFERENCED_PARAMETER(DeviceObject);

  PAGED_CODE();

  CSAMP_KDPRINT("CsampCreateClose Enter\n");

  irpStack = IoGetCurrentIrpStackLocation(Irp);

  const FileObject = irpStack.FileObject as FILE_OBJECT; // ASSERT(irpStack->FileObject != NULL);

  switch (irpStack.MajorFunction) {
    case IRP_MJ_CREATE: {

      //
      // The dispatch routine for IRP_MJ_CREATE is called when a
      // file object associated with the device is created.
      // This is typically because of a call to CreateFile() in
      // a user-mode program or because a another driver is
      // layering itself over a this driver. A driver is
      // required to supply a dispatch routine for IRP_MJ_CREATE.
      //
      const pool = ExAllocatePoolQuotaZero(POOL_TYPE.NonPagedPoolNx | POOL_QUOTA_FAIL_INSTEAD_OF_RAISE,
        SIZEOF_FILE_CONTEXT,
        TAG);

      if (0 === pool) {
        status = STATUS_INSUFFICIENT_RESOURCES;
        break;
      }
      fileContext = new FILE_CONTEXT(pool);

      IoInitializeRemoveLock(fileContext.FileRundownLock, TAG, 0, 0);

      //
      // Make sure nobody is using the FsContext scratch area.
      //
      // ASSERT(irpStack->FileObject->FsContext == NULL);

      //
      // Store the context in the FileObject's scratch area.
      //
      FileObject.FsContext = fileContext;

      CSAMP_KDPRINT("IRP_MJ_CREATE\n");
      break;
    }

    case IRP_MJ_CLOSE:
      //
      // The IRP_MJ_CLOSE dispatch routine is called when a file object
      // opened on the driver is being removed from the system; that is,
      // all file object handles have been closed and the reference count
      // of the file object is down to 0.
      //
      fileContext = FileObject.FsContext as FILE_CONTEXT;

      ExFreePoolWithTag(fileContext.Pool, TAG);

      CSAMP_KDPRINT("IRP_MJ_CLOSE\n");
      break;

    default:
      CSAMP_KDPRINT(" Invalid CreateClose Parameter\n");
      status = STATUS_INVALID_PARAMETER;
      break;
  }

  //
  // Save Status for return and complete Irp
  //
  Irp.IoStatus.Status = status;
  Irp.IoStatus.Information = 0;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);

  CSAMP_KDPRINT(" CsampCreateClose Exit = %x\n", status);

  return status;
}


/**
 * IRP_MJ_READ: STATUS_BUFFER_TOO_SMALL for a buffer shorter than INPUT_DATA; otherwise
 * stores (system time's low part / 13) % 2 in the buffer (how many times the polling
 * thread retries), queues the IRP in the cancel-safe queue, signals the semaphore and
 * returns STATUS_PENDING.
 */
export function CsampRead(
  DeviceObject: DEVICE_OBJECT,
  Irp: IRP,
): NTSTATUS
/*++
     Routine Description:

           Read disptach routine

     Arguments:

         DeviceObject - pointer to a device object.
                 Irp             - pointer to current Irp

     Return Value:

         NT status code.

--*/
{
  let status: NTSTATUS;
  let devExtension: DEVICE_EXTENSION;
  let irpStack: IO_STACK_LOCATION;
  let currentTime: number;
  let fileContext: FILE_CONTEXT;
  let readBuffer: PVOID;
  let inCriticalRegion: boolean;

  PAGED_CODE();

  CSAMP_KDPRINT("CsampRead Enter:0x%p\n", Irp.address);

  devExtension = DeviceObject.DeviceExtension as DEVICE_EXTENSION;
  inCriticalRegion = false;

  irpStack = IoGetCurrentIrpStackLocation(Irp);
  // ASSERT(irpStack->FileObject != NULL);

  fileContext = (irpStack.FileObject as FILE_OBJECT).FsContext as FILE_CONTEXT;

  status = IoAcquireRemoveLock(fileContext.FileRundownLock, Irp);
  if (!NT_SUCCESS(status)) {
    //
    // Lock is in a removed state. That means we have already received
    // cleaned up request for this handle.
    //
    Irp.IoStatus.Status = status;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
  }

  //
  // First make sure there is enough room.
  //
  if (irpStack.Parameters.Read.Length < SIZEOF_INPUT_DATA) {
    Irp.IoStatus.Status = status = STATUS_BUFFER_TOO_SMALL;
    Irp.IoStatus.Information = 0;
    IoReleaseRemoveLock(fileContext.FileRundownLock, Irp);
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
  }

  //
  // FOR TESTING:
  // Initialize the data to mod 2 of some random number.
  // With this value you can control the number of times the
  // Irp will be queued before completion. Check
  // CsampPollDevice routine to know how this works.
  //

  currentTime = KeQuerySystemTime();

  readBuffer = Irp.AssociatedIrp.SystemBuffer;

  writeU32(readBuffer, Math.floor((currentTime % 2 ** 32) / 13) % 2); // (currentTime.LowPart/13)%2

  //
  // To avoid the thread from being suspended after it has queued the IRP and
  // before it signalled the semaphore, we will enter critical region.
  //
  if (KeGetCurrentIrql() > APC_LEVEL) throw new Error("ASSERT(KeGetCurrentIrql() <= APC_LEVEL)");
  KeEnterCriticalRegion();
  inCriticalRegion = true;

  //
  // Queue the IRP and return STATUS_PENDING after signalling the
  // polling thread.
  // Note: IoCsqInsertIrp marks the IRP pending.
  //
  IoCsqInsertIrp(devExtension.CancelSafeQueue, Irp, null);

  //
  // Do not touch the IRP once it has been queued because another thread
  // could remove the IRP and complete it before this one gets to run.
  //

  //
  // A semaphore remains signaled as long as its count is greater than
  // zero, and non-signaled when the count is zero. Following function
  // increments the semaphore count by 1.
  //

  KeReleaseSemaphore(devExtension.IrpQueueSemaphore,
    0,// No priority boost
    1,// Increment semaphore by 1
    false);// No WaitForXxx after this call
  if (inCriticalRegion === true) {
    KeLeaveCriticalRegion();
  }
  //
  // We don't hold the lock for IRP that's pending in the list because this
  // lock is meant to rundown currently dispatching threads when the cleanup
  // is handled.
  //
  IoReleaseRemoveLock(fileContext.FileRundownLock, Irp);

  return STATUS_PENDING;
}

/**
 * The polling thread: waits on the semaphore for a queued IRP (or for the unload to stop
 * it), takes the next IRP from the cancel-safe queue and polls the device for it, waiting
 * the polling interval (500 ms) between polls that return STATUS_PENDING, then completes it.
 */
export async function CsampPollingThread(
  Context: unknown,
): Promise<void>
/*++

Routine Description:

    This is the main thread that removes IRP from the queue
    and peforms I/O on it.

Arguments:

    Context     -- pointer to the device object

--*/
{
  const DeviceObject = Context as DEVICE_OBJECT;
  const DevExtension = DeviceObject.DeviceExtension as DEVICE_EXTENSION;
  let Irp: IRP | null;
  let Status: NTSTATUS;

  KeSetPriorityThread(KeGetCurrentThread()!, LOW_REALTIME_PRIORITY);

  //
  // Now enter the main IRP-processing loop
  //
  for (; ;) {
    //
    // Wait indefinitely for an IRP to appear in the work queue or for
    // the Unload routine to stop the thread. Every successful return
    // from the wait decrements the semaphore count by 1.
    //
    await KeWaitForSingleObject(DevExtension.IrpQueueSemaphore,
      Executive,
      KernelMode,
      false,
      null);

    //
    // See if thread was awakened because driver is unloading itself...
    //

    if (DevExtension.ThreadShouldStop) {
      PsTerminateSystemThread(STATUS_SUCCESS);
    }

    //
    // Remove a pending IRP from the queue.
    //
    Irp = IoCsqRemoveNextIrp(DevExtension.CancelSafeQueue, null);

    if (!Irp) {
      CSAMP_KDPRINT("Oops, a queued irp got cancelled\n");
      continue; // go back to waiting
    }

    for (; ;) {
      //
      // Perform I/O
      //
      Status = CsampPollDevice(DeviceObject, Irp);
      if (Status === STATUS_PENDING) {

        //
        // Device is not ready, so sleep for a while and try again.
        //
        await KeDelayExecutionThread(KernelMode, false,
          DevExtension.PollingInterval.QuadPart);

      } else {

        //
        // I/O is successful, so complete the Irp.
        //
        Irp.IoStatus.Status = Status;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        break;
      }

    }
    //
    // Go back to the top of the loop to see if there's another request waiting.
    //
  } // end of while-loop
}

/**
 * Polls for data: STATUS_SUCCESS (Information = sizeof(INPUT_DATA)) when the buffer's
 * count of retries is down to 0, else decrements it and returns STATUS_PENDING.
 */
export function CsampPollDevice(
  DeviceObject: DEVICE_OBJECT,
  Irp: IRP,
): NTSTATUS

/*++

Routine Description:

   Polls for data

Arguments:

    DeviceObject     -- pointer to the device object
    Irp             -- pointer to the requesing Irp


Return Value:

    STATUS_SUCCESS   -- if the poll succeeded,
    STATUS_TIMEOUT   -- if the poll failed (timeout),
                        or the checksum was incorrect
    STATUS_PENDING   -- if polled too soon

--*/
{
  let pInput: PVOID;

  void DeviceObject; // UNREFERENCED_PARAMETER( DeviceObject );

  pInput = Irp.AssociatedIrp.SystemBuffer; // (PINPUT_DATA)

  //
  // With this conditional statement
  // you can control the number of times the
  // i/o should be retried before completing.
  //

  const Data = readU32(pInput);
  writeU32(pInput, (Data - 1) >>> 0); // pInput->Data--
  if (Data <= 0) {
    Irp.IoStatus.Information = SIZEOF_INPUT_DATA;
    return STATUS_SUCCESS;
  }
  return STATUS_PENDING;

}

/**
 * IRP_MJ_CLEANUP: runs down the handle's dispatching threads (its remove lock), completes
 * every IRP of the file object still in the queue with STATUS_CANCELLED, then completes
 * the cleanup IRP with STATUS_SUCCESS.
 */
export async function CsampCleanup(
  DeviceObject: DEVICE_OBJECT,
  Irp: IRP,
): Promise<NTSTATUS>
/*++

Routine Description:
    This dispatch routine is called when the last handle (in
    the whole system) to a file object is closed. In other words, the open
    handle count for the file object goes to 0. A driver that holds pending
    IRPs internally must implement a routine for IRP_MJ_CLEANUP. When the
    routine is called, the driver should cancel all the pending IRPs that
    belong to the file object identified by the IRP_MJ_CLEANUP call. In other
    words, it should cancel all the IRPs that have the same file-object pointer
    as the one supplied in the current I/O stack location of the IRP for the
    IRP_MJ_CLEANUP call. Of course, IRPs belonging to other file objects should
    not be canceled. Also, if an outstanding IRP is completed immediately, the
    driver does not have to cancel it.

Arguments:

    DeviceObject     -- pointer to the device object
    Irp             -- pointer to the requesing Irp

Return Value:

    STATUS_SUCCESS   -- if the poll succeeded,
--*/
{

  let devExtension: DEVICE_EXTENSION;
  let pendingIrp: IRP | null;
  let irpStack: IO_STACK_LOCATION;
  let fileContext: FILE_CONTEXT;
  let status: NTSTATUS;

  CSAMP_KDPRINT("CsampCleanupIrp enter\n");

  devExtension = DeviceObject.DeviceExtension as DEVICE_EXTENSION;

  irpStack = IoGetCurrentIrpStackLocation(Irp);
  // ASSERT(irpStack->FileObject != NULL);

  fileContext = (irpStack.FileObject as FILE_OBJECT).FsContext as FILE_CONTEXT;

  //
  // This acquire cannot fail because you cannot get more than one
  // cleanup for the same handle.
  //
  status = IoAcquireRemoveLock(fileContext.FileRundownLock, Irp);
  void status; // ASSERT(NT_SUCCESS(status));

  //
  // Wait for all the threads that are currently dispatching to exit and
  // prevent any threads dispatching I/O on the same handle beyond this point.
  //
  await IoReleaseRemoveLockAndWait(fileContext.FileRundownLock, Irp);

  pendingIrp = IoCsqRemoveNextIrp(devExtension.CancelSafeQueue,
    irpStack.FileObject);

  while (pendingIrp) {
    //
    // Cancel the IRP
    //
    pendingIrp.IoStatus.Information = 0;
    pendingIrp.IoStatus.Status = STATUS_CANCELLED;
    CSAMP_KDPRINT("Cleanup cancelled irp\n");
    IoCompleteRequest(pendingIrp, IO_NO_INCREMENT);

    pendingIrp = IoCsqRemoveNextIrp(devExtension.CancelSafeQueue,
      irpStack.FileObject);
  }

  //
  // Finally complete the cleanup IRP
  //
  Irp.IoStatus.Information = 0;
  Irp.IoStatus.Status = STATUS_SUCCESS;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);

  CSAMP_KDPRINT("CsampCleanupIrp exit\n");

  return STATUS_SUCCESS;

}

/** DriverUnload: stops the polling thread and waits for it, deletes the symbolic link and the device. */
export async function CsampUnload(
  DriverObject: DRIVER_OBJECT,
): Promise<void>
/*++

Routine Description:

    Free all the allocated resources, etc.

Arguments:

    DriverObject - pointer to a driver object.

Return Value:

    VOID
--*/
{
  const deviceObject = DriverObject.DeviceObject!;
  const uniWin32NameString = new UNICODE_STRING();
  const devExtension = deviceObject.DeviceExtension as DEVICE_EXTENSION;

  PAGED_CODE();

  CSAMP_KDPRINT("CsampUnload Enter\n");

  //
  // Set the Stop flag
  //
  devExtension.ThreadShouldStop = true;

  //
  // Make sure the thread wakes up
  //
  KeReleaseSemaphore(devExtension.IrpQueueSemaphore,
    0,  // No priority boost
    1,  // Increment semaphore by 1
    true);// WaitForXxx after this call

  //
  // Wait for the thread to terminate
  //
  await KeWaitForSingleObject(devExtension.ThreadObject!,
    Executive,
    KernelMode,
    false,
    null);

  ObDereferenceObject(devExtension.ThreadObject!);

  //
  // Create counted string version of our Win32 device name.
  //

  RtlInitUnicodeString(uniWin32NameString, CSAMP_DOS_DEVICE_NAME_U);

  IoDeleteSymbolicLink(uniWin32NameString);

  IoDeleteDevice(deviceObject);

  CSAMP_KDPRINT("CsampUnload Exit\n");
  return;
}

/** CsqInsertIrp: appends the IRP to PendingIrpQueue. */
export function CsampInsertIrp(
  Csq: IO_CSQ,
  Irp: IRP,
): void {
  let devExtension: DEVICE_EXTENSION;

  devExtension = CONTAINING_RECORD(Csq as IO_CSQ & { record: object }, DEVICE_EXTENSION, "CancelSafeQueue");

  InsertTailList(devExtension.PendingIrpQueue,
    IrpListEntry(Irp));
}

/** CsqRemoveIrp: unlinks the IRP from PendingIrpQueue. */
export function CsampRemoveIrp(
  Csq: IO_CSQ,
  Irp: IRP,
): void {
  void Csq; // UNREFERENCED_PARAMETER(Csq);

  RemoveEntryList(IrpListEntry(Irp));
}


/**
 * CsqPeekNextIrp: the IRP after `Irp` (from the head when null) whose file object is
 * `PeekContext` (any IRP when PeekContext is null); null when there is none.
 */
export function CsampPeekNextIrp(
  Csq: IO_CSQ,
  Irp: IRP | null,
  PeekContext: unknown,
): IRP | null {
  let devExtension: DEVICE_EXTENSION;
  let nextIrp: IRP | null = null;
  let nextEntry: LIST_ENTRY;
  let listHead: LIST_ENTRY;
  let irpStack: IO_STACK_LOCATION;

  devExtension = CONTAINING_RECORD(Csq as IO_CSQ & { record: object }, DEVICE_EXTENSION, "CancelSafeQueue");

  listHead = devExtension.PendingIrpQueue;

  //
  // If the IRP is NULL, we will start peeking from the listhead, else
  // we will start from that IRP onwards. This is done under the
  // assumption that new IRPs are always inserted at the tail.
  //

  if (Irp === null) {
    nextEntry = listHead.Flink;
  } else {
    nextEntry = IrpListEntry(Irp).Flink;
  }

  while (nextEntry !== listHead) {

    nextIrp = IrpOfListEntry(nextEntry);

    irpStack = IoGetCurrentIrpStackLocation(nextIrp);

    //
    // If context is present, continue until you find a matching one.
    // Else you break out as you got next one.
    //

    if (PeekContext) {
      if (irpStack.FileObject === PeekContext) {
        break;
      }
    } else {
      break;
    }
    nextIrp = null;
    nextEntry = nextEntry.Flink;
  }

  return nextIrp;

}

//
// CsampAcquireLock modifies the execution level of the current processor.
//
// KeAcquireSpinLock raises the execution level to Dispatch Level and stores
// the current execution level in the Irql parameter to be restored at a later
// time.  KeAcqurieSpinLock also requires us to be running at no higher than
// Dispatch level when it is called.
//

/** CsqAcquireLock: acquires QueueLock; returns the IRQL to restore (the C Irql out-parameter). */
export function CsampAcquireLock(
  Csq: IO_CSQ,
): KIRQL {
  let devExtension: DEVICE_EXTENSION;

  devExtension = CONTAINING_RECORD(Csq as IO_CSQ & { record: object }, DEVICE_EXTENSION, "CancelSafeQueue");
  return KeAcquireSpinLock(devExtension.QueueLock);
}

//
// CsampReleaseLock modifies the execution level of the current processor.
//
// KeReleaseSpinLock assumes we already hold the spin lock and are therefore
// running at Dispatch level.  It will use the Irql parameter saved in a
// previous call to KeAcquireSpinLock to return the thread back to it's original
// execution level.
//

/** CsqReleaseLock: releases QueueLock, back to `Irql`. */
export function CsampReleaseLock(
  Csq: IO_CSQ,
  Irql: KIRQL,
): void {
  let devExtension: DEVICE_EXTENSION;

  devExtension = CONTAINING_RECORD(Csq as IO_CSQ & { record: object }, DEVICE_EXTENSION, "CancelSafeQueue");
  KeReleaseSpinLock(devExtension.QueueLock, Irql);
}

/** CsqCompleteCanceledIrp: completes a cancelled IRP with STATUS_CANCELLED. */
export function CsampCompleteCanceledIrp(
  pCsq: IO_CSQ,
  Irp: IRP,
): void {

  void pCsq; // UNREFERENCED_PARAMETER(pCsq);

  Irp.IoStatus.Status = STATUS_CANCELLED;
  Irp.IoStatus.Information = 0;
  CSAMP_KDPRINT("cancelled irp\n");
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
}
