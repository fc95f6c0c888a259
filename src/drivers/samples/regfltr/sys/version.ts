/*++
Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    Version.c (version.ts)

Abstract:

    Samples that show the changes in registry callback version 1.1 and the
    version 1 create and open key information structures.

Environment:

    Kernel mode only

--*/

import { KPROCESSOR_MODE } from "../../../../ke/dispatcher.js";
import { NT_SUCCESS, STATUS_ACCESS_DENIED, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS, STATUS_UNSUCCESSFUL, type NTSTATUS } from "../../../../ke/ntstatus.js";
import { writeU32, type PVOID } from "../../../../mm/memory.js";
import { ExFreePoolWithTag } from "../../../../mm/pool.js";
import { DELETE } from "../../../../ob/access.js";
import { InitializeObjectAttributes, OBJECT_ATTRIBUTES, OBJ_CASE_INSENSITIVE, OBJ_FORCE_ACCESS_CHECK, OBJ_KERNEL_HANDLE } from "../../../../ob/attributes.js";
import type { HANDLE } from "../../../../ob/handle-table.js";
import { ObOpenObjectByPointer, ZwClose } from "../../../../ob/handles.js";
import { RtlInitUnicodeString, UNICODE_STRING, unicodeStringText } from "../../../../rtl/unicode-string.js";
import type { REG_OPEN_KEY_INFORMATION_V1 } from "../../../../cm/callback-information.js";
import { CmRegisterCallbackEx, CmUnRegisterCallback } from "../../../../cm/callbacks.js";
import { REG_NOTIFY_CLASS } from "../../../../cm/notify-class.js";
import { KEY_ALL_ACCESS, ZwDeleteKey, ZwOpenKey } from "../../../../cm/zw.js";
import { CALLBACK_ALTITUDE, CALLBACK_MODE, KEY_NAME } from "../common.js";
import { Callback } from "./regfltr.js";
import { ErrorPrint, globals, InfoPrint, REGFLTR_CONTEXT_POOL_TAG, type CALLBACK_CONTEXT } from "./regfltr-header.js";
import { CreateCallbackContext } from "./util.js";

const { KernelMode } = KPROCESSOR_MODE;
const { RegNtPreOpenKeyEx } = REG_NOTIFY_CLASS;


/*++

    Callback Version 1.1 is available in Windows 7 and Windows Server 2008 R2.
    It is NOT available on Vista or Windows Server 2008 as of Service Pack 2.


    Issues in callback version 1.0 that have been fixed in version 1.1:

    1. In the post-notification phase for a create or open key operation,
    the PostInfo->Object field might not be NULL even if the operation was
    unsuccessful as indicated by PostInfo->ReturnStatus.

    This problem happens when there are multiple registry filter drivers
    registered and one of the drivers blocks the operation in the
    pre-notification phase by returning a nonsuccess status. Filter drivers
    that are at higher altitudes will receive a post-notification where
    PostInfo->ReturnStatus is the nonsuccess status value but
    PostInfo->Object will not be NULL. PostInfo->Object in this case will
    be equal to PostInfo->PreInfo->RootObject.

    2. In version 1.0, an uncatched exception in a registry callback
    routine will be swallowed by the system. In version 1.1 this has been
    changed so an uncatched exception will cause the machine to bugcheck.
    We provide a sample in this file (BugCheckSample) but obviously it is not
    run.

    NOTE: While bugchecking the system is not a good thing to do, we do not
    recommend putting your entire callback routine in one big try-except block
    and swallow legitimate exceptions like possible pool corruptions. Please
    keep what you wrap with a try-except block to the bare minimum.

--*/

/*++

    Version 1 of the create and open key REG_Xxx_INFORMATION structure is
    available in Windows 7 and Windows Server 2008 R2. It is NOT available on
    Vista or Windows Server 2008 as of Service Pack 2.

    NOTE: While Version 1 of the create and open key data structures will
    likely be available on systems that have callback version 1.1, this
    relationship is not guaranteed. You must check the create and open key
    data structure to see its version rather than depending on the
    callback version. See CreateOpenV1Sample on how to check the version.


    Issues addressed by version 1 of the create and open key data structures:

    1. Without the Attributes field provided in the V1 create and open
    REG_Xxx_INFORMATION structure, there is no way to exactly replicate
    certain create and open operations. See CreateOpenV1Sample for a
    demonstration. Unfortunately there is no work around for this issue.

    2. The PreInfo->CompleteName and PreInfo->RootObject fields in a
    create or open key operation do not behave as expected when the key to be
    opened or created is represented as an absolute path.
    REG_CREATE_KEY_INFORMATION_V1 and REG_OPEN_KEY_INFORMATION_V1 contain a
    field PreInfoV1->RemainingName which addresses this issue.

    Example:

        Open operation on this key: \REGISTRY\MACHINE\Software\_RegFltrRoot

        One way of relatively opening the key is to open "Software\_RegFltrRoot"
        relative to \REGISTRY\MACHINE.

            RegOpenKeyEx(HKEY_LOCAL_MACHINE,
                         "Software\\_RegFltrRoot",
                         0,
                         KEY_ALL_ACCESS,
                         &Key);

        In this case the value of the fields in REG_OPEN_KEY_INFORMATION_V1
        would be:

            RootObject - Handle to the key \REGISTRY\MACHINE
            CompleteName - "Software\\_RegFltrRoot"
            RemainingName - "Software\\_RegFltrRoot"


        If the open uses an absolute path,

            RtlInitUnicodeString(&Name, L"\\REGISTRY\\MACHINE\\Software\\_RegFltrRoot")
            InitializeObjectAttributes(&KeyAttributes,
                                       &Name,
                                       OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
                                       NULL,
                                       NULL);

             ZwOpenKey(&Key, KEY_ALL_ACCESS, &KeyAttributes);

        the value of the fields in REG_OPEN_KEY_INFORMATION_V1 would be:

            RootObject - Handle to the key \REGISTRY
            CompleteName - "\\REGISTRY\\MACHINE\\Software\\_RegFltrRoot"
            RemainingName - "MACHINE\\Software\\_RegFltrRoot"

        Note that RootObject is not NULL even though CompleteName holds the
        absolute path to the key.


    The work around for this on systems without REG_OPEN_KEY_INFORMATION_V1 is
    to check if the first character of CompleteName is a '\'. If that is the
    case you can be sure that CompleteName is holding an absolute path to the
    key.

--*/



/** BugCheckSample: registers a callback that dereferences NULL; the next registry call stops the machine with 0x135 (not run by DoCallbackSamples). */
export async function BugCheckSample(
): Promise<void>
/*++

Routine Description:

    In version 1.1, if a registry filter driver's callback routine throws
    an exception the registry will bugcheck the machine:

        REGISTRY_FILTER_DRIVER_EXCEPTION  (0x135)
        This bugcheck is caused by an unhandled exception in a registry
        filtering driver.

        PARAMETERS
                1 - ExceptionCode
                2 - Address of the context record for the exception that caused
                    the bugcheck
                3 - The driver's callback routine address
                4 - Internal

        DESCRIPTION
        This bugcheck indicates that a registry filtering driver didn't handle
        exception inside its notification routine. One can identify the driver
        by the 3rd parameter.

    In version 1.0, an exception in the callback routine is simply swallowed and
    ignored.

    This sample uses a simple callback routine that will access NULL to throw
    an exception. The sample is not normally run and is only here for
    demonstration purposes.

Return Value:

    TRUE if the sample completed successfully.

--*/
{
  let CallbackCtx: CALLBACK_CONTEXT | null = null;
  let Status: NTSTATUS;
  const KeyAttributes = new OBJECT_ATTRIBUTES();
  const Name = new UNICODE_STRING();
  let Key: HANDLE = 0;

  InfoPrint("");
  InfoPrint("=== Bugcheck Sample ====");

  Exit: {

    //
    // Create the callback context
    //

    CallbackCtx = CreateCallbackContext(CALLBACK_MODE.CALLBACK_MODE_VERSION_BUGCHECK,
      CALLBACK_ALTITUDE);

    if (CallbackCtx === null) {
      break Exit;
    }

    //
    // Register callback
    //

    ({ status: Status, Cookie: CallbackCtx.Cookie } = CmRegisterCallbackEx(Callback,
      CallbackCtx.Altitude,
      globals.g_DeviceObj!.DriverObject,
      CallbackCtx,
      null));
    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CmRegisterCallback failed. Status 0x%x", Status);
      break Exit;
    }

    //
    // Do an open key just to invoke the callback.
    // In version 1.1 this will bugcheck and nothing else will run.
    // In version 1.0 the open will simply fail as expected.
    //

    RtlInitUnicodeString(Name, KEY_NAME);
    InitializeObjectAttributes(KeyAttributes,
      unicodeStringText(Name),
      OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
      globals.g_RootKey,
      null);

    ({ status: Status, KeyHandle: Key } = ZwOpenKey(KEY_ALL_ACCESS,
      KeyAttributes));

    if (Status !== STATUS_OBJECT_NAME_NOT_FOUND) {
      ErrorPrint("ZwOpenKey returned unexpected status 0x%x", Status);
    }

    //
    // Unregister the callback
    //

    Status = CmUnRegisterCallback(CallbackCtx.Cookie);

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CmUnRegisterCallback failed. Status 0x%x", Status);
    }

  }

  //
  // Clean up
  //

  if (Key !== 0) {
    ZwDeleteKey(Key);
    await ZwClose(Key);
  }

  if (CallbackCtx !== null) {
    ExFreePoolWithTag(CallbackCtx.Address, REGFLTR_CONTEXT_POOL_TAG);
  }

  return;

}


/** CallbackBugcheck: writes through a NULL pointer (an access violation the callback does not handle). */
export function CallbackBugcheck(
  CallbackCtx: CALLBACK_CONTEXT,
  NotifyClass: REG_NOTIFY_CLASS,
  Argument2: object,
): NTSTATUS
/*++

Routine Description:

    This helper callback routine throws an exception by dereferencing a
    null pointer.

    NOTE: While bugchecking the system is not a good thing to do, we do not
    recommend putting your entire callback routine in one big try-except block
    and swallow legitimate exceptions like possible pool corruptions. Please
    keep what you wrap with a try-except block to the bare minimum.

Arguments:

    CallbackContext - The value that the driver passed to the Context parameter
        of CmRegisterCallbackEx when it registers this callback routine.

    NotifyClass - A REG_NOTIFY_CLASS typed value that identifies the type of
        registry operation that is being performed and whether the callback
        is being called in the pre or post phase of processing.

    Argument2 - A pointer to a structure that contains information specific
        to the type of the registry operation. The structure type depends
        on the REG_NOTIFY_CLASS value of Argument1.

Return Value:

    Always STATUS_SUCCESS;

--*/
{
  const Status: NTSTATUS = STATUS_SUCCESS;
  const NullPointer: PVOID = 0;

  void CallbackCtx; // UNREFERENCED_PARAMETER(CallbackCtx);
  void NotifyClass; // UNREFERENCED_PARAMETER(NotifyClass);
  void Argument2; // UNREFERENCED_PARAMETER(Argument2);


  InfoPrint("\tCallback is about to throw an exception.");
  if (globals.g_MajorVersion === 1 && globals.g_MinorVersion === 0) {
    InfoPrint("\tException will be swallowed by registry");
  } else {
    ErrorPrint("Exception will cause machine to bugcheck");
  }


  // #pragma prefast(suppress: 6011, "Sample is purposefully dereferencing a null pointer.");
  writeU32(NullPointer, 0);

  return Status;
}


/** CreateOpenV1Sample: an open with OBJ_FORCE_ACCESS_CHECK and DELETE access on the Enum key fails with STATUS_ACCESS_DENIED. */
export async function CreateOpenV1Sample(
): Promise<boolean>
/*++

Routine Description:

    This sample shows how the information in the Attributes field of
    the REG_OPEN_KEY_INFORMATION_V1 data structure can change the outcome of
    a registry operation. Without the Attributes field, it is impossible for
    the callback routine to accuratel replay certain registry operations.

    A special key is used in this sample which has security set on it to
    protect it from being deleted:

        \REGISTRY\MACHINE\SYSTEM\CurrentControlSet\Enum

    In the sample we try to open this key with DELETE access. Normally this
    will work if we do it in kernel mode since the system bypasses all
    access checks on handles created in kernel mode. However here we set the
    OBJ_FORCE_ACCESS_CHECK flag which tells the system to perform all access
    checks on the handle.

    In the callback routine associated with this sample, we will replay the
    open operation with and without the flag to show how the presence of
    the attributes information can change the outcome of the operation.

Return Value:

    TRUE if the sample completed successfully.

--*/
{
  let CallbackCtx: CALLBACK_CONTEXT | null = null;
  let Status: NTSTATUS;
  const KeyAttributes = new OBJECT_ATTRIBUTES();
  const Name = new UNICODE_STRING();
  const NameBuffer = "\\registry\\machine\\system\\currentcontrolset\\enum";
  let Key: HANDLE = 0;
  let Success = false;

  InfoPrint("");
  InfoPrint("=== Create/Open V1 Sample ====");

  Exit: {

    //
    // Create the callback context
    //

    CallbackCtx = CreateCallbackContext(CALLBACK_MODE.CALLBACK_MODE_VERSION_CREATE_OPEN_V1,
      CALLBACK_ALTITUDE);

    if (CallbackCtx === null) {
      break Exit;
    }

    //
    // Register callback
    //

    ({ status: Status, Cookie: CallbackCtx.Cookie } = CmRegisterCallbackEx(Callback,
      CallbackCtx.Altitude,
      globals.g_DeviceObj!.DriverObject,
      CallbackCtx,
      null));
    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CmRegisterCallback failed. Status 0x%x", Status);
      break Exit;
    }

    Success = true;

    //
    // Try to open the special key with delete access but have the
    // OBJ_FORCE_ACCESS_CHECK flag in object attributes. This operation
    // should fail with access denied.
    //

    RtlInitUnicodeString(Name, NameBuffer);
    InitializeObjectAttributes(KeyAttributes,
      unicodeStringText(Name),
      OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE |
      OBJ_FORCE_ACCESS_CHECK,
      null,
      null);

    ({ status: Status, KeyHandle: Key } = ZwOpenKey(DELETE,
      KeyAttributes));

    if (Status !== STATUS_ACCESS_DENIED) {
      ErrorPrint("ZwOpenKey returned unexpected status 0x%x", Status);
      Success = false;
    }

    //
    // Unregister the callback
    //

    Status = CmUnRegisterCallback(CallbackCtx.Cookie);

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CmUnRegisterCallback failed. Status 0x%x", Status);
      Success = false;
    }

  }

  //
  // Clean up
  //

  if (Key !== 0) {
    await ZwClose(Key);
  }

  if (CallbackCtx !== null) {
    ExFreePoolWithTag(CallbackCtx.Address, REGFLTR_CONTEXT_POOL_TAG);
  }

  if (Success) {
    InfoPrint("Create/Open V1 sample succeeded.");
  } else {
    ErrorPrint("Create/Open V1 sample failed.");
  }

  return Success;

}


/** CallbackCreateOpenV1: replays a pre-open with and without its Attributes (OBJ_FORCE_ACCESS_CHECK) to show the different outcomes. */
export function CallbackCreateOpenV1(
  CallbackCtx: CALLBACK_CONTEXT,
  NotifyClass: REG_NOTIFY_CLASS,
  Argument2: object,
): NTSTATUS
/*++

Routine Description:

    This helper callback routine will show how to check whether the system
    supports version 1 of the REG_OPEN_KEY_INFORMATION structure.

    If version 1 is supported, the callback routine will replay the open
    operation during the pre-notification phase with and without the
    Attributes field found in REG_OPEN_KEY_INFORMATION_V1 to show how the
    outcome is different.

Arguments:

    CallbackContext - The value that the driver passed to the Context parameter
        of CmRegisterCallbackEx when it registers this callback routine.

    NotifyClass - A REG_NOTIFY_CLASS typed value that identifies the type of
        registry operation that is being performed and whether the callback
        is being called in the pre or post phase of processing.

    Argument2 - A pointer to a structure that contains information specific
        to the type of the registry operation. The structure type depends
        on the REG_NOTIFY_CLASS value of Argument1.

Return Value:

    Always STATUS_SUCCESS;

--*/
{

  let Status: NTSTATUS = STATUS_SUCCESS;
  let PreOpenInfo: REG_OPEN_KEY_INFORMATION_V1;
  const KeyAttributes = new OBJECT_ATTRIBUTES();
  let Key: HANDLE = 0;
  let RootKey: HANDLE = 0;


  void CallbackCtx; // UNREFERENCED_PARAMETER(CallbackCtx);

  Exit: {

    //
    // Check for the pre-notification phase of a create operation
    //

    if (NotifyClass !== RegNtPreOpenKeyEx) {
      break Exit;
    }

    PreOpenInfo = Argument2 as REG_OPEN_KEY_INFORMATION_V1;

    //
    // Check if version 1 is available on this system. If not,
    // simply return success.
    //

    InfoPrint("\tREG_OPEN_KEY_INFORMATION structure's version is 0x%p",
      PreOpenInfo.Version);

    if (PreOpenInfo.Version !== 1) {
      InfoPrint("Create/Open v1 sample is only for version 1");
      break Exit;
    }

    //
    // Open a handle to the root object
    //

    ({ status: Status, Handle: RootKey } = ObOpenObjectByPointer(PreOpenInfo.RootObject,
      OBJ_KERNEL_HANDLE,
      null,
      KEY_ALL_ACCESS,
      PreOpenInfo.ObjectType,
      KernelMode));

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("ObObjectByPointer failed. Status 0x%x", Status);
      break Exit;
    }

    //
    // Do the open with the same attributes as in the original call. This
    // includes the OBJ_FORCE_ACCESS_CHECK flag which will cause the open
    // operation to fail.
    //
    // Note: The openkey operation might have originated from user mode so the
    // OBJ_KERNEL_HANDLE flag needs to be explicitly added to the attributes
    // to prevent user mode handle spoofing attacks.
    //


    InitializeObjectAttributes(KeyAttributes,
      unicodeStringText(PreOpenInfo.RemainingName),
      PreOpenInfo.Attributes | OBJ_KERNEL_HANDLE,
      RootKey,
      PreOpenInfo.SecurityDescriptor);

    ({ status: Status, KeyHandle: Key } = ZwOpenKey(PreOpenInfo.DesiredAccess,
      KeyAttributes));

    if (NT_SUCCESS(Status)) {
      void ZwClose(Key);
      Key = 0;
    }

    if (Status !== STATUS_ACCESS_DENIED) {
      ErrorPrint("ZwOpenKey with attributes returned unexpected status 0x%x", Status);
      Status = STATUS_UNSUCCESSFUL;
      break Exit;
    }

    //
    // Do the open without the attributes in the original call. The open
    // operation will succeed now because the access checks will not be
    // performed.
    //

    InitializeObjectAttributes(KeyAttributes,
      unicodeStringText(PreOpenInfo.RemainingName),
      OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE,
      RootKey,
      PreOpenInfo.SecurityDescriptor);

    ({ status: Status, KeyHandle: Key } = ZwOpenKey(PreOpenInfo.DesiredAccess,
      KeyAttributes));

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("ZwOpenKey without attributes returned unexpected status 0x%x", Status);
      break Exit;
    }

    Status = STATUS_SUCCESS;

  }

  if (Key !== 0) {
    void ZwClose(Key);
  }

  if (RootKey !== 0) {
    void ZwClose(RootKey);
  }

  return Status;
}
