/*++

Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    Event.c (event.ts, with Event.h)

Abstract:

    The purpose of this sample is to demonstrate how a kernel-mode driver can notify
    an user-app about a device event.  There are several different techniques. This sample
    will demonstrate two very commonly used techniques.

    1) Using an event:
        The application creates an event object using CreateEvent().
        The app passes the event handle to the driver in a private IOCTL.
        The driver is running in the app's thread context during the IOCTL so
        there is a valid user-mode handle at that time.
        The driver dereferences the user-mode handle into system space & saves
        the event object pointer for later use.
        The driver signals the event via KeSetEvent() at IRQL <= DISPATCH_LEVEL.
        The driver deletes the references to the event object.

    2) Pending Irp: This technique is useful if you want to send a message
        to the app along with the notification. In this, an application sends
        a synchronous or asynchronous (overlapped) ioctl to the driver. The driver
        would then pend the IRP until the device event occurs. When the hardware
        event occurs, the driver will complete the IRP. This will cause the thread that
        sent the request to come out of DeviceIoControl call if it's  synchronous or signal
        the event that the thread is waiting on in the usermode it's has done a
        OVERLAPPED call. Another advantage of this technique over the event model
        is that the driver doesn't have to be in the context of the process that
        sent the IOCTL request. You can't guarantee the process context in multi-level
        drivers.

    3) Using WMI to fire events. Check the wmifilter sample in the DDK.

    4) Using PNP custom notification scheme. Walter Oney's book describes this.
        Can be used only in PNP drivers.

    4) Named events: In that an app creates a named event in the usermode
        and driver opens that in kernel and signal it. This technique is deprecated
        by the kb article (Q228785)

        This sample demonstrates the first two techniques. This sample is an
        improvised version of the event sample available in the KB article
        Q176415


Enviroment:

    Kernel Mode Only

Revision History:

--*/

import { IoReleaseCancelSpinLock, IoSetCancelRoutine } from "../../../io/cancel.js";
import {
  IoCompleteRequest, IoGetCurrentIrpStackLocation, IoMarkIrpPending, IO_NO_INCREMENT, IRP_MJ_CLEANUP, IRP_MJ_CLOSE, IRP_MJ_CREATE,
  IRP_MJ_DEVICE_CONTROL, type IO_STACK_LOCATION, type IRP,
} from "../../../io/irp.js";
import {
  DO_BUFFERED_IO, FILE_DEVICE_SECURE_OPEN, FILE_DEVICE_UNKNOWN, IoCreateDevice, IoCreateSymbolicLink, IoDeleteDevice, IoDeleteSymbolicLink,
  type DEVICE_OBJECT, type DRIVER_OBJECT,
} from "../../../io/objects.js";
import type { FILE_OBJECT } from "../../../io/process.js";
import { IoAcquireRemoveLock, IoInitializeRemoveLock, IoReleaseRemoveLock, IoReleaseRemoveLockAndWait, IO_REMOVE_LOCK } from "../../../io/remove-lock.js";
import { ASSERT, ASSERTMSG, DbgBreakPoint, DbgPrint, PAGED_CODE } from "../../../ke/debug-print.js";
import { KeSetEvent, type KEVENT } from "../../../ke/dispatcher.js";
import { KDPC, KeInitializeDpc } from "../../../ke/dpc.js";
import {
  NT_SUCCESS, STATUS_CANCELLED, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER, STATUS_NOT_IMPLEMENTED, STATUS_PENDING, STATUS_SUCCESS,
  type NTSTATUS,
} from "../../../ke/ntstatus.js";
import {
  KeAcquireSpinLock, KeAcquireSpinLockAtDpcLevel, KeInitializeSpinLock, KeReleaseSpinLock, KeReleaseSpinLockFromDpcLevel, KSPIN_LOCK,
} from "../../../ke/spinlock.js";
import { KeCancelTimer, KeInitializeTimer, KeSetTimer, KTIMER } from "../../../ke/timer.js";
import type { PVOID } from "../../../mm/memory.js";
import { ExFreePoolWithTag, POOL_TYPE } from "../../../mm/pool.js";
import { DrvRtPoolNxOptIn, ExAllocatePoolQuotaZero, ExInitializeDriverRuntime, POOL_QUOTA_FAIL_INSTEAD_OF_RAISE } from "../../../mm/pool2.js";
import { EVENT_MODIFY_STATE, SYNCHRONIZE } from "../../../ob/access.js";
import { ObReferenceObjectByHandle } from "../../../ob/handles.js";
import { ExEventObjectType } from "../../../ob/object-type.js";
import { ObDereferenceObject } from "../../../ob/reference.js";
import type { FormatArgument } from "../../../rtl/format.js";
import { CONTAINING_RECORD, InitializeListHead, InsertTailList, IsListEmpty, LIST_ENTRY, RemoveEntryList, RemoveHeadList } from "../../../rtl/list.js";
import { RtlInitUnicodeString, UNICODE_STRING } from "../../../rtl/unicode-string.js";
import {
  EVENT_BASED, IOCTL_REGISTER_EVENT, IRP_BASED, NOTIFY_TYPE, readRegisterEventDueTime, readRegisterEventHandle, readRegisterEventType,
  SIZEOF_REGISTER_EVENT, writeRegisterEventDueTime,
} from "./public.js"; //common to app and driver
// private to driver (Event.h)

//
// DEFINES
//

/** The device's name in the object namespace. */
export const NTDEVICE_NAME_STRING = "\\Device\\Event_Sample";
/** The Win32 name (\\.\Event_Sample) linked to it. */
export const SYMBOLIC_NAME_STRING = "\\DosDevices\\Event_Sample";
/** The pool tag (ULONG)'TEVE' ("EVET" in memory). */
export const TAG = 0x54455645;

/** The driver's debug messages (a checked build's): "EVENT.SYS: " then the message, as two DbgPrint calls. */
function DebugPrint(Format: string, ...args: FormatArgument[]): void {
  DbgPrint("EVENT.SYS: ");
  DbgPrint(Format, ...args);
}

/** sizeof(NOTIFY_RECORD) on x64, bytes (what its pool block holds). */
export const SIZEOF_NOTIFY_RECORD = 184;
/** sizeof(FILE_CONTEXT) on x64 (a free-build IO_REMOVE_LOCK), bytes. */
export const SIZEOF_FILE_CONTEXT = 32;

//
// DATA
//
/** DEVICE_EXTENSION: the device object and the queue of notification requests. */
export class DEVICE_EXTENSION {
  Self: DEVICE_OBJECT = null!;
  /** where all the user notification requests are queued */
  readonly EventQueueHead = new LIST_ENTRY();
  readonly QueueLock = new KSPIN_LOCK();
}


/** NOTIFY_RECORD: one registered notification; `address` is its block of nonpaged pool. */
export class NOTIFY_RECORD {
  Type: NOTIFY_TYPE = IRP_BASED;
  readonly ListEntry = new LIST_ENTRY(this);
  readonly Message = {
    Event: null as KEVENT | null,
    PendingIrp: null as IRP | null,
  };
  readonly Dpc = new KDPC();
  readonly Timer = new KTIMER();
  FileObject: FILE_OBJECT | null = null;
  DeviceExtension: DEVICE_EXTENSION = null!;
  CancelRoutineFreeMemory = false;

  /** `address`: the record's pool block (ExFreePoolWithTag frees it). */
  constructor(readonly address: PVOID) {}
}

/** FILE_CONTEXT: per-handle state kept in the file object's FsContext; `address` is its pool block. */
export class FILE_CONTEXT {
  //
  // Lock to rundown threads that are dispatching I/Os on a file handle
  // while the cleanup for that handle is in progress.
  //
  readonly FileRundownLock = new IO_REMOVE_LOCK();

  /** `address`: the context's pool block (ExFreePoolWithTag frees it). */
  constructor(readonly address: PVOID) {}
}

const { NonPagedPool } = POOL_TYPE;

/** The device extension of the sample's device object. */
function extensionOf(DeviceObject: DEVICE_OBJECT): DEVICE_EXTENSION {
  return DeviceObject.DeviceExtension as DEVICE_EXTENSION;
}

/**
 * DriverEntry: breaks into the debugger (DbgBreakPoint), creates \Device\Event_Sample
 * (FILE_DEVICE_UNKNOWN, FILE_DEVICE_SECURE_OPEN, buffered I/O) with its extension, fills in
 * the dispatch entry points and links \DosDevices\Event_Sample to it. The status of
 * IoCreateDevice or IoCreateSymbolicLink.
 */
export function DriverEntry(
  DriverObject: DRIVER_OBJECT,
  RegistryPath: UNICODE_STRING,
): NTSTATUS

/*++

Routine Description:

    This routine gets called by the system to initialize the driver.

Arguments:

    DriverObject    - the system supplied driver object.
    RegistryPath    - the system supplied registry path for this driver.

Return Value:

    NTSTATUS

--*/

{



  let deviceObject: DEVICE_OBJECT | null;
  let deviceExtension: DEVICE_EXTENSION;
  const ntDeviceName = new UNICODE_STRING();
  const symbolicLinkName = new UNICODE_STRING();
  let status: NTSTATUS;

  void RegistryPath; // UNREFERENCED_PARAMETER

  DebugPrint("==>DriverEntry\n"); DbgBreakPoint();

  //
  // Opt-in to using non-executable pool memory on Windows 8 and later.
  // https://msdn.microsoft.com/en-us/library/windows/hardware/hh920402(v=vs.85).aspx
  //
  ExInitializeDriverRuntime(DrvRtPoolNxOptIn);

  //
  // Create the device object
  //
  RtlInitUnicodeString(ntDeviceName, NTDEVICE_NAME_STRING);

  ({ status, DeviceObject: deviceObject } = IoCreateDevice(DriverObject, // DriverObject
    new DEVICE_EXTENSION(),     // DeviceExtension (sizeof(DEVICE_EXTENSION))
    ntDeviceName,               // DeviceName
    FILE_DEVICE_UNKNOWN,        // DeviceType
    FILE_DEVICE_SECURE_OPEN,    // DeviceCharacteristics
    false,                      // Not Exclusive
  ));                           // DeviceObject

  if (!NT_SUCCESS(status)) {
    DebugPrint("\tIoCreateDevice returned 0x%x\n", status);
    return (status);
  }

  //
  // Set up dispatch entry points for the driver.
  //
  DriverObject.MajorFunction[IRP_MJ_CREATE] = EventCreateClose;
  DriverObject.MajorFunction[IRP_MJ_CLOSE] = EventCreateClose;
  DriverObject.MajorFunction[IRP_MJ_CLEANUP] = EventCleanup;
  DriverObject.MajorFunction[IRP_MJ_DEVICE_CONTROL] = EventDispatchIoControl;
  DriverObject.DriverUnload = EventUnload;

  //
  // Create a symbolic link for userapp to interact with the driver.
  //
  RtlInitUnicodeString(symbolicLinkName, SYMBOLIC_NAME_STRING);
  status = IoCreateSymbolicLink(symbolicLinkName, ntDeviceName);

  if (!NT_SUCCESS(status)) {
    IoDeleteDevice(deviceObject!);
    DebugPrint("\tIoCreateSymbolicLink returned 0x%x\n", status);
    return (status);
  }

  //
  // Initialize the device extension.
  //
  deviceExtension = extensionOf(deviceObject!);

  InitializeListHead(deviceExtension.EventQueueHead);

  KeInitializeSpinLock(deviceExtension.QueueLock);

  deviceExtension.Self = deviceObject!;

  //
  // Establish user-buffer access method.
  //
  deviceObject!.Flags |= DO_BUFFERED_IO;

  DebugPrint("<==DriverEntry\n");

  ASSERT(NT_SUCCESS(status), "NT_SUCCESS(status)");

  return status;
}

/** DriverUnload: asserts the queue is empty, deletes the symbolic link and the device object. */
export function EventUnload(
  DriverObject: DRIVER_OBJECT,
): void

/*++

Routine Description:

    This routine gets called to remove the driver from the system.

Arguments:

    DriverObject    - the system supplied driver object.

Return Value:

    NTSTATUS

--*/

{

  const deviceObject = DriverObject.DeviceObject!;
  const deviceExtension = extensionOf(deviceObject);
  const symbolicLinkName = new UNICODE_STRING();

  DebugPrint("==>Unload\n");

  PAGED_CODE();

  if (!IsListEmpty(deviceExtension.EventQueueHead)) {
    ASSERTMSG("Event Queue is not empty\n", false, "FALSE");
  }

  //
  // Delete the user-mode symbolic link and deviceobjct.
  //
  RtlInitUnicodeString(symbolicLinkName, SYMBOLIC_NAME_STRING);
  IoDeleteSymbolicLink(symbolicLinkName);
  IoDeleteDevice(deviceObject);

  return;
}

/**
 * IRP_MJ_CREATE: a FILE_CONTEXT (its remove lock) in the file object's FsContext;
 * STATUS_INSUFFICIENT_RESOURCES when the pool cannot give one. IRP_MJ_CLOSE: frees it.
 * Completes the request with the status it returns.
 */
export function EventCreateClose(
  DeviceObject: DEVICE_OBJECT,
  Irp: IRP,
): NTSTATUS

/*++

Routine Description:

    This device control dispatcher handles create & close IRPs.

Arguments:

    DeviceObject - Context for the activity.
    Irp          - The device control argument block.

Return Value:

    NTSTATUS

--*/
{
  let irpStack: IO_STACK_LOCATION;
  let status: NTSTATUS;
  let fileContext: FILE_CONTEXT | null;

  void DeviceObject; // UNREFERENCED_PARAMETER

  PAGED_CODE();

  irpStack = IoGetCurrentIrpStackLocation(Irp);

  ASSERT(irpStack.FileObject !== null, "irpStack->FileObject != NULL");

  switch (irpStack.MajorFunction) {
    case IRP_MJ_CREATE: {
      DebugPrint("IRP_MJ_CREATE\n");

      const address = ExAllocatePoolQuotaZero(NonPagedPool | POOL_QUOTA_FAIL_INSTEAD_OF_RAISE,
        SIZEOF_FILE_CONTEXT,
        TAG);
      fileContext = address === 0 ? null : new FILE_CONTEXT(address);

      if (null === fileContext) {
        status = STATUS_INSUFFICIENT_RESOURCES;
        break;
      }

      IoInitializeRemoveLock(fileContext.FileRundownLock, TAG, 0, 0);

      //
      // Make sure nobody is using the FsContext scratch area.
      //
      ASSERT((irpStack.FileObject as FILE_OBJECT).FsContext === null, "irpStack->FileObject->FsContext == NULL");

      //
      // Store the context in the FileObject's scratch area.
      //
      (irpStack.FileObject as FILE_OBJECT).FsContext = fileContext;

      status = STATUS_SUCCESS;
      break;
    }

    case IRP_MJ_CLOSE:
      DebugPrint("IRP_MJ_CLOSE\n");

      fileContext = (irpStack.FileObject as FILE_OBJECT).FsContext as FILE_CONTEXT;

      ExFreePoolWithTag(fileContext.address, TAG);

      status = STATUS_SUCCESS;
      break;

    default:
      ASSERT(false, "FALSE");  // should never hit this
      status = STATUS_NOT_IMPLEMENTED;
      break;
  }

  Irp.IoStatus.Status = status;
  Irp.IoStatus.Information = 0;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
  return status;

}

/**
 * IRP_MJ_CLEANUP: runs down the handle's dispatching threads (its remove lock), then
 * cancels the timers of the handle's notification records: their IRPs complete with
 * STATUS_CANCELLED, their events are dereferenced. A record whose DPC is already running
 * is left to the DPC (or the cancel routine). STATUS_SUCCESS.
 */
export async function EventCleanup(
  DeviceObject: DEVICE_OBJECT,
  Irp: IRP,
): Promise<NTSTATUS>

/*++

Routine Description:

    This device control dispatcher handles Cleanup IRP.

Arguments:

    DeviceObject - Context for the activity.
    Irp          - The device control argument block.

Return Value:

    NTSTATUS

--*/
{
  let irpStack: IO_STACK_LOCATION;
  let status: NTSTATUS;
  let oldIrql: number;
  let thisEntry: LIST_ENTRY, nextEntry: LIST_ENTRY, listHead: LIST_ENTRY;
  let notifyRecord: NOTIFY_RECORD;
  let deviceExtension: DEVICE_EXTENSION;
  const cleanupList = new LIST_ENTRY();
  let fileContext: FILE_CONTEXT;

  DebugPrint("==>EventCleanup\n");

  deviceExtension = extensionOf(DeviceObject);
  irpStack = IoGetCurrentIrpStackLocation(Irp);

  ASSERT(irpStack.FileObject !== null, "irpStack->FileObject != NULL");

  fileContext = (irpStack.FileObject as FILE_OBJECT).FsContext as FILE_CONTEXT;

  //
  // This acquire cannot fail because you cannot get more than one
  // cleanup for the same handle.
  //
  status = IoAcquireRemoveLock(fileContext.FileRundownLock, Irp);
  ASSERT(NT_SUCCESS(status), "NT_SUCCESS(status)");

  //
  // Wait for all the threads that are currently dispatching to exit and
  // prevent any threads dispatching I/O on the same handle beyond this point.
  //
  await IoReleaseRemoveLockAndWait(fileContext.FileRundownLock, Irp);

  InitializeListHead(cleanupList);

  //
  // Walk the list and remove all the pending notification records
  // that belong to this filehandle.
  //

  oldIrql = KeAcquireSpinLock(deviceExtension.QueueLock);

  listHead = deviceExtension.EventQueueHead;

  for (thisEntry = listHead.Flink;
    thisEntry !== listHead;
    thisEntry = nextEntry) {
    nextEntry = thisEntry.Flink;

    notifyRecord = CONTAINING_RECORD(thisEntry, NOTIFY_RECORD, "ListEntry");

    if (irpStack.FileObject === notifyRecord.FileObject) {

      //
      // KeCancelTimer returns if the timer is successfully cancelled.
      // If it returns FALSE, there are two possibilities. Either the
      // TimerDpc has just run and waiting to acquire the lock or it
      // has run to completion. We wouldn't be here if it had run to
      // completion because we wouldn't found the record in the list.
      // So the only possibility is that it's waiting to acquire the lock.
      // In that case, we will just let the DPC to complete the request
      // and free the record.
      //
      if (KeCancelTimer(notifyRecord.Timer)) {

        DebugPrint("\tCanceled timer\n");
        RemoveEntryList(thisEntry);

        switch (notifyRecord.Type) {
          case IRP_BASED:
            //
            // Clear the cancel-routine and check the return value to
            // see whether it was cleared by us or by the I/O manager.
            //
            if (IoSetCancelRoutine(notifyRecord.Message.PendingIrp!, null) !== null) {

              //
              // We cleared it and as a result we own the IRP and
              // nobody can cancel it anymore. We will queue the IRP
              // in the local cleanup list so that we can complete
              // all the IRPs outside the lock to avoid deadlocks in
              // the completion routine of the driver above us re-enters
              // our driver.
              //
              const pendingIrp = notifyRecord.Message.PendingIrp!;
              pendingIrp.Tail.Overlay.ListEntry = new LIST_ENTRY(pendingIrp);
              InsertTailList(cleanupList,
                pendingIrp.Tail.Overlay.ListEntry as LIST_ENTRY);
              ExFreePoolWithTag(notifyRecord.address, TAG);

            } else {
              //
              // The I/O manager cleared it and called the cancel-routine.
              // Cancel routine is probably waiting to acquire the lock.
              // So reinitialze the ListEntry so that it doesn't crash
              // when it tries to remove the entry from the list and
              // set the CancelRoutineFreeMemory to indicate that it should
              // free the notification record.
              //
              InitializeListHead(notifyRecord.ListEntry);
              notifyRecord.CancelRoutineFreeMemory = true;
            }
            break;

          case EVENT_BASED:
            ObDereferenceObject(notifyRecord.Message.Event!);
            ExFreePoolWithTag(notifyRecord.address, TAG);
            break;
          default: break;

        }
      }
    }
  }

  KeReleaseSpinLock(deviceExtension.QueueLock, oldIrql);

  //
  // Walk through the cleanup list and cancel all
  // the IRPs.
  //
  while (!IsListEmpty(cleanupList)) {
    let pendingIrp: IRP;
    //
    // Complete the IRP
    //
    thisEntry = RemoveHeadList(cleanupList);
    pendingIrp = thisEntry.record as IRP; // CONTAINING_RECORD(thisEntry, IRP, Tail.Overlay.ListEntry)

    DebugPrint("\t canceled IRP %p\n", pendingIrp.address);

    pendingIrp.Tail.Overlay.DriverContext[3] = null;
    pendingIrp.IoStatus.Information = 0;
    pendingIrp.IoStatus.Status = STATUS_CANCELLED;

    IoCompleteRequest(pendingIrp, IO_NO_INCREMENT);
  }

  //
  // Finally complete the cleanup Irp
  //
  Irp.IoStatus.Status = status = STATUS_SUCCESS;
  Irp.IoStatus.Information = 0;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);

  DebugPrint("<== EventCleanup\n");
  return status;

}

/**
 * IRP_MJ_DEVICE_CONTROL: IOCTL_REGISTER_EVENT registers an IRP-based (STATUS_PENDING; the
 * IRP completes when the timer fires) or event-based (STATUS_SUCCESS; the event is
 * signalled then) notification. STATUS_INVALID_PARAMETER for a short input buffer or an
 * unknown type (after ASSERTMSG), STATUS_NOT_IMPLEMENTED for another code (after ASSERT),
 * the remove lock's status once the handle is being cleaned up.
 */
export function EventDispatchIoControl(
  DeviceObject: DEVICE_OBJECT,
  Irp: IRP,
): NTSTATUS

/*++

Routine Description:

    This device control dispatcher handles IOCTLs.

Arguments:

    DeviceObject - Context for the activity.
    Irp          - The device control argument block.

Return Value:

    NTSTATUS

--*/

{

  let irpStack: IO_STACK_LOCATION;
  let registerEvent: PVOID;
  let status: NTSTATUS;
  let fileContext: FILE_CONTEXT;

  DebugPrint("==> EventDispatchIoControl\n");

  irpStack = IoGetCurrentIrpStackLocation(Irp);

  ASSERT(irpStack.FileObject !== null, "irpStack->FileObject != NULL");

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

  switch (irpStack.Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_REGISTER_EVENT:

      DebugPrint("\tIOCTL_REGISTER_EVENT\n");

      //
      // First validate the parameters.
      //
      if (irpStack.Parameters.DeviceIoControl.InputBufferLength <
        SIZEOF_REGISTER_EVENT) {
        status = STATUS_INVALID_PARAMETER;
        break;
      }

      registerEvent = Irp.AssociatedIrp.SystemBuffer;

      switch (readRegisterEventType(registerEvent)) {
        case IRP_BASED:
          status = RegisterIrpBasedNotification(DeviceObject, Irp);
          break;
        case EVENT_BASED:
          status = RegisterEventBasedNotification(DeviceObject, Irp);
          break;
        default:
          ASSERTMSG("\tUnknow notification type from user-mode\n", false, "FALSE");
          status = STATUS_INVALID_PARAMETER;
          break;
      }

      break;

    default:
      ASSERT(false, "FALSE");  // should never hit this
      status = STATUS_NOT_IMPLEMENTED;
      break;

  } // switch IoControlCode

  if (status !== STATUS_PENDING) {
    //
    // complete the Irp
    //
    Irp.IoStatus.Status = status;
    Irp.IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
  }

  //
  // We don't hold the lock for IRP that's pending in the list because this
  // lock is meant to rundown currently dispatching threads when the cleanup
  // is handled.
  //
  IoReleaseRemoveLock(fileContext.FileRundownLock, Irp);

  DebugPrint("<== EventDispatchIoControl\n");
  return status;
}

/**
 * The cancel routine of a pending IRP_BASED request: takes the record off the queue,
 * frees it unless its DPC is about to run, and completes the IRP with STATUS_CANCELLED.
 * Called with the cancel spin lock held; releases it.
 */
export function EventCancelRoutine(
  DeviceObject: DEVICE_OBJECT,
  Irp: IRP,
): void

/*++

Routine Description:

    The cancel routine. It will remove the IRP from the queue
    and will complete it. The cancel spin lock is already acquired
    when this routine is called. This routine is not required if
    you are just using the event based notification.

Arguments:

    DeviceObject - pointer to the device object.

    Irp - pointer to the IRP to be cancelled.


Return Value:

    VOID.

--*/
{
  let deviceExtension: DEVICE_EXTENSION;
  let oldIrql: number;
  let notifyRecord: NOTIFY_RECORD | null;

  DebugPrint("==>EventCancelRoutine irp %p\n", Irp.address);

  deviceExtension = extensionOf(DeviceObject);

  //
  // Release the cancel spinlock
  //
  IoReleaseCancelSpinLock(Irp.CancelIrql);

  //
  // Acquire the queue spinlock
  //
  oldIrql = KeAcquireSpinLock(deviceExtension.QueueLock);

  notifyRecord = Irp.Tail.Overlay.DriverContext[3] as NOTIFY_RECORD | null;
  ASSERT(null !== notifyRecord, "NULL != notifyRecord");
  ASSERT(IRP_BASED === notifyRecord!.Type, "IRP_BASED == notifyRecord->Type");

  RemoveEntryList(notifyRecord!.ListEntry);

  //
  // Clear the pending Irp field because we complete the IRP no matter whether
  // we succeed or fail to cancel the timer. TimerDpc will check this field
  // before dereferencing the IRP.
  //
  notifyRecord!.Message.PendingIrp = null;

  if (KeCancelTimer(notifyRecord!.Timer)) {
    DebugPrint("\t canceled timer\n");
    ExFreePoolWithTag(notifyRecord!.address, TAG);
    notifyRecord = null;
  } else {
    //
    // Here the possibilities are:
    // 1) DPC is fired and waiting to acquire the lock.
    // 2) DPC has run to completion.
    // 3) DPC has been cancelled by the cleanup routine.
    // By checking the CancelRoutineFreeMemory, we can figure out whether
    // dpc is waiting to acquire the lock and access the notifyRecord memory.
    //
    if (notifyRecord!.CancelRoutineFreeMemory === false) {
      //
      // This is case 1 where the DPC is waiting to run.
      //
      InitializeListHead(notifyRecord!.ListEntry);
    } else {
      //
      // This is either 2 or 3.
      //
      ExFreePoolWithTag(notifyRecord!.address, TAG);
      notifyRecord = null;
    }

  }

  KeReleaseSpinLock(deviceExtension.QueueLock, oldIrql);

  DebugPrint("\t canceled IRP %p\n", Irp.address);
  Irp.Tail.Overlay.DriverContext[3] = null;
  Irp.IoStatus.Status = STATUS_CANCELLED;
  Irp.IoStatus.Information = 0;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);

  DebugPrint("<==EventCancelRoutine irp %p\n", Irp.address);
  return;

}

/**
 * The timer's DPC (the simulated device interrupt's): takes the record off the queue and
 * completes its IRP with STATUS_SUCCESS, or signals its event and drops the reference;
 * frees the record unless the cancel routine will.
 */
export function CustomTimerDPC(
  Dpc: KDPC,
  DeferredContext: unknown,
  SystemArgument1: unknown,
  SystemArgument2: unknown,
): void

/*++

Routine Description:

    This is the DPC associated with this drivers Timer object setup in ioctl routine.

Arguments:

    Dpc             -   our DPC object associated with our Timer
    DeferredContext -   Context for the DPC that we setup in DriverEntry
    SystemArgument1 -
    SystemArgument2 -

Return Value:

    Nothing.

--*/
{
  let notifyRecord = DeferredContext as NOTIFY_RECORD | null;
  let deviceExtension: DEVICE_EXTENSION;
  let irp: IRP | null;

  void Dpc; // UNREFERENCED_PARAMETER
  void SystemArgument1; // UNREFERENCED_PARAMETER
  void SystemArgument2; // UNREFERENCED_PARAMETER

  DebugPrint("==> CustomTimerDPC \n");

  ASSERT(notifyRecord !== null, "notifyRecord != NULL"); // can't be NULL

  deviceExtension = notifyRecord!.DeviceExtension;

  KeAcquireSpinLockAtDpcLevel(deviceExtension.QueueLock);

  RemoveEntryList(notifyRecord!.ListEntry);

  switch (notifyRecord!.Type) {
    case IRP_BASED:
      irp = notifyRecord!.Message.PendingIrp;
      if (irp !== null) {
        if (IoSetCancelRoutine(irp, null) !== null) {

          irp.Tail.Overlay.DriverContext[3] = null;

          //
          // Drop the lock before completing the request.
          //
          KeReleaseSpinLockFromDpcLevel(deviceExtension.QueueLock);

          irp.IoStatus.Status = STATUS_SUCCESS;
          irp.IoStatus.Information = 0;
          IoCompleteRequest(irp, IO_NO_INCREMENT);

          KeAcquireSpinLockAtDpcLevel(deviceExtension.QueueLock);

        } else {
          //
          // Cancel routine will run as soon as we release the lock.
          // So let it complete the request and free the record.
          //
          InitializeListHead(notifyRecord!.ListEntry);
          notifyRecord!.CancelRoutineFreeMemory = true;
          notifyRecord = null;
        }
      } else {
        //
        // Cancel routine has run and completed the IRP. So just free
        // the record.
        //
        ASSERT(notifyRecord!.CancelRoutineFreeMemory === false, "notifyRecord->CancelRoutineFreeMemory == FALSE");
      }

      break;

    case EVENT_BASED:
      //
      // Signal the Event created in user-mode.
      //
      KeSetEvent(notifyRecord!.Message.Event!, 0, false);

      //
      // Dereference the object as we are done with it.
      //
      ObDereferenceObject(notifyRecord!.Message.Event!);

      break;

    default:
      ASSERT(false, "FALSE");
      break;
  }

  KeReleaseSpinLockFromDpcLevel(deviceExtension.QueueLock);

  //
  // Free the memory outside the lock for better performance.
  //
  if (notifyRecord !== null) {
    ExFreePoolWithTag(notifyRecord.address, TAG);
    notifyRecord = null;
  }

  DebugPrint("<== CustomTimerDPC\n");

  return;
}

/** A new notification record in zeroed nonpaged pool (charged to the caller's quota), or null when the pool cannot give one. */
function allocateNotifyRecord(): NOTIFY_RECORD | null {
  const address = ExAllocatePoolQuotaZero(NonPagedPool | POOL_QUOTA_FAIL_INSTEAD_OF_RAISE,
    SIZEOF_NOTIFY_RECORD,
    TAG);
  return address === 0 ? null : new NOTIFY_RECORD(address);
}

/**
 * Queues an IRP_BASED record and arms its timer (DueTime made relative): STATUS_PENDING
 * with the IRP marked pending and EventCancelRoutine set; STATUS_CANCELLED when the IRP
 * was cancelled before it could be queued; STATUS_INSUFFICIENT_RESOURCES without pool.
 */
export function RegisterIrpBasedNotification(
  DeviceObject: DEVICE_OBJECT,
  Irp: IRP,
): NTSTATUS

/*++

Routine Description:

        This routine  queues a IRP based notification record to be
        handled by a DPC.


Arguments:

    DeviceObject - Context for the activity.
    Irp          - The device control argument block.

Return Value:

    NTSTATUS - If the status is not STATUS_PENDING, the caller
    will complete the request.


--*/
{
  let deviceExtension: DEVICE_EXTENSION;
  let notifyRecord: NOTIFY_RECORD | null;
  let irpStack: IO_STACK_LOCATION;
  let oldIrql: number;
  let registerEvent: PVOID;

  DebugPrint("\tRegisterIrpBasedNotification\n");

  irpStack = IoGetCurrentIrpStackLocation(Irp);
  deviceExtension = extensionOf(DeviceObject);
  registerEvent = Irp.AssociatedIrp.SystemBuffer;

  //
  // Allocate a record and save all the event context.
  //

  notifyRecord = allocateNotifyRecord();

  if (null === notifyRecord) {
    return STATUS_INSUFFICIENT_RESOURCES;
  }

  InitializeListHead(notifyRecord.ListEntry);

  notifyRecord.FileObject = irpStack.FileObject as FILE_OBJECT;
  notifyRecord.DeviceExtension = deviceExtension;
  notifyRecord.Type = IRP_BASED;
  notifyRecord.Message.PendingIrp = Irp;

  //
  // Start the timer to run the CustomTimerDPC in DueTime seconds to
  // simulate an interrupt (which would queue a DPC).
  // The user's event object is signaled or the IRP is completed in the DPC to
  // notify the hardware event.
  //

  // ensure relative time for this sample

  if (readRegisterEventDueTime(registerEvent) > 0n) {
    writeRegisterEventDueTime(registerEvent, -(readRegisterEventDueTime(registerEvent)));
  }

  KeInitializeDpc(notifyRecord.Dpc, // Dpc
    CustomTimerDPC,     // DeferredRoutine
    notifyRecord,       // DeferredContext
  );

  KeInitializeTimer(notifyRecord.Timer);

  //
  // We will set the cancel routine and TimerDpc within the
  // lock so that they don't modify the list before we are
  // completely done.
  //
  oldIrql = KeAcquireSpinLock(deviceExtension.QueueLock);

  //
  // Set the cancel routine. This is required if the app decides to
  // exit or cancel the event prematurely.
  //
  IoSetCancelRoutine(Irp, EventCancelRoutine);

  //
  // Before we queue the IRP, we must check to see if it's cancelled.
  //
  if (Irp.Cancel) {

    //
    // Clear the cancel-routine automically and check the return value.
    // We will complete the IRP here if we succeed in clearing it. If
    // we fail then we will let the cancel-routine complete it.
    //
    if (IoSetCancelRoutine(Irp, null) !== null) {

      //
      // We are able to successfully clear the routine. Either the
      // the IRP is cancelled before we set the cancel-routine or
      // we won the race with I/O manager in clearing the routine.
      // Return STATUS_CANCELLED so that the caller can complete
      // the request.

      KeReleaseSpinLock(deviceExtension.QueueLock, oldIrql);

      ExFreePoolWithTag(notifyRecord.address, TAG);

      return STATUS_CANCELLED;
    } else {
      //
      // The IRP got cancelled after we set the cancel-routine and the
      // I/O manager won the race in clearing it and called the cancel
      // routine. So queue the request so that cancel-routine can dequeue
      // and complete it. Note the cancel-routine cannot run until we
      // drop the queue lock.
      //
    }
  }

  IoMarkIrpPending(Irp);

  InsertTailList(deviceExtension.EventQueueHead,
    notifyRecord.ListEntry);

  notifyRecord.CancelRoutineFreeMemory = false;

  //
  // We will save the record pointer in the IRP so that we can get to
  // it directly in the CancelRoutine.
  //
  Irp.Tail.Overlay.DriverContext[3] = notifyRecord;

  KeSetTimer(notifyRecord.Timer,   // Timer
    readRegisterEventDueTime(registerEvent),         // DueTime
    notifyRecord.Dpc,      // Dpc
  );

  KeReleaseSpinLock(deviceExtension.QueueLock, oldIrql);

  //
  // We will return pending as we have marked the IRP pending.
  //
  return STATUS_PENDING;

}

/**
 * Queues an EVENT_BASED record and arms its timer (DueTime made relative): references the
 * user's event by its handle (SYNCHRONIZE | EVENT_MODIFY_STATE, Irp->RequestorMode access
 * check) and returns STATUS_SUCCESS; ObReferenceObjectByHandle's error (a bad handle, not
 * an event, access denied) or STATUS_INSUFFICIENT_RESOURCES otherwise.
 */
export function RegisterEventBasedNotification(
  DeviceObject: DEVICE_OBJECT,
  Irp: IRP,
): NTSTATUS

/*++

Routine Description:

    This routine  queues a event based notification record
    to be handled by a DPC.

Arguments:

    DeviceObject - Context for the activity.
    Irp          - The device control argument block.

Return Value:

    NTSTATUS - If the status is not STATUS_PENDING, the caller
    will complete the request.

--*/
{
  let deviceExtension: DEVICE_EXTENSION;
  let notifyRecord: NOTIFY_RECORD | null;
  let status: NTSTATUS;
  let irpStack: IO_STACK_LOCATION;
  let registerEvent: PVOID;
  let oldIrql: number;

  DebugPrint("\tRegisterEventBasedNotification\n");

  deviceExtension = extensionOf(DeviceObject);

  irpStack = IoGetCurrentIrpStackLocation(Irp);
  registerEvent = Irp.AssociatedIrp.SystemBuffer;

  //
  // Allocate a record and save all the event context.
  //
  notifyRecord = allocateNotifyRecord();

  if (null === notifyRecord) {
    return STATUS_INSUFFICIENT_RESOURCES;
  }

  InitializeListHead(notifyRecord.ListEntry);

  notifyRecord.FileObject = irpStack.FileObject as FILE_OBJECT;
  notifyRecord.DeviceExtension = deviceExtension;
  notifyRecord.Type = EVENT_BASED;

  //
  // Get the object pointer from the handle. Note we must be in the context
  // of the process that created the handle.
  //
  ({ status, Object: notifyRecord.Message.Event } = ObReferenceObjectByHandle<KEVENT>(readRegisterEventHandle(registerEvent),
    SYNCHRONIZE | EVENT_MODIFY_STATE,
    ExEventObjectType,
    Irp.RequestorMode,
  ));                                // &notifyRecord->Message.Event, NULL

  if (!NT_SUCCESS(status)) {

    DebugPrint("\tUnable to reference User-Mode Event object, Error = 0x%x\n", status);
    ExFreePoolWithTag(notifyRecord.address, TAG);
    return status;
  }

  //
  // Start the timer to run the CustomTimerDPC in DueTime seconds to
  // simulate an interrupt (which would queue a DPC).
  // The user's event object is signaled or the IRP is completed in the DPC to
  // notify the hardware event.
  //
  if (readRegisterEventDueTime(registerEvent) > 0n) {
    writeRegisterEventDueTime(registerEvent, -(readRegisterEventDueTime(registerEvent)));
  }

  KeInitializeDpc(notifyRecord.Dpc, // Dpc
    CustomTimerDPC,     // DeferredRoutine
    notifyRecord,       // DeferredContext
  );

  KeInitializeTimer(notifyRecord.Timer);

  oldIrql = KeAcquireSpinLock(deviceExtension.QueueLock);

  InsertTailList(deviceExtension.EventQueueHead,
    notifyRecord.ListEntry);

  KeReleaseSpinLock(deviceExtension.QueueLock, oldIrql);

  KeSetTimer(notifyRecord.Timer,   // Timer
    readRegisterEventDueTime(registerEvent), // DueTime
    notifyRecord.Dpc,      // Dpc
  );
  return STATUS_SUCCESS;
}
