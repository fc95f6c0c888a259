/*++
Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    Post.c (post.ts)

Abstract:

    Samples that show what callbacks can do during the post-notification
    phase.

Environment:

    Kernel mode only

--*/

import { KPROCESSOR_MODE } from "../../../../ke/dispatcher.js";
import {
  NT_SUCCESS, STATUS_ACCESS_DENIED, STATUS_CALLBACK_BYPASS, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS, type NTSTATUS,
} from "../../../../ke/ntstatus.js";
import { ExFreePoolWithTag } from "../../../../mm/pool.js";
import { InitializeObjectAttributes, OBJECT_ATTRIBUTES, OBJ_CASE_INSENSITIVE, OBJ_KERNEL_HANDLE } from "../../../../ob/attributes.js";
import type { HANDLE } from "../../../../ob/handle-table.js";
import { ObOpenObjectByPointer, ObReferenceObjectByHandle, ZwClose } from "../../../../ob/handles.js";
import { ObDereferenceObject } from "../../../../ob/reference.js";
import { RtlEqualUnicodeString, RtlInitUnicodeString, UNICODE_STRING, unicodeStringText } from "../../../../rtl/unicode-string.js";
import type {
  REG_CREATE_KEY_INFORMATION, REG_OPEN_KEY_INFORMATION, REG_POST_OPERATION_INFORMATION, REG_SET_VALUE_KEY_INFORMATION,
} from "../../../../cm/callback-information.js";
import { CmRegisterCallbackEx, CmUnRegisterCallback } from "../../../../cm/callbacks.js";
import { REG_NOTIFY_CLASS } from "../../../../cm/notify-class.js";
import { REG_DWORD } from "../../../../cm/value-types.js";
import { KEY_ALL_ACCESS, ZwCreateKey, ZwDeleteKey, ZwDeleteValueKey, ZwOpenKey, ZwSetValueKey } from "../../../../cm/zw.js";
import { CALLBACK_ALTITUDE, CALLBACK_MODE, KEY_NAME, MODIFIED_KEY_NAME, NOT_MODIFIED_VALUE_NAME, VALUE_NAME } from "../common.js";
import { Callback } from "./regfltr.js";
import { ErrorPrint, globals, InfoPrint, REGFLTR_CONTEXT_POOL_TAG, type CALLBACK_CONTEXT } from "./regfltr-header.js";
import { CreateCallbackContext } from "./util.js";

const { KernelMode } = KPROCESSOR_MODE;
const { RegNtPostCreateKeyEx, RegNtPostSetValueKey, RegNtPostOpenKeyEx } = REG_NOTIFY_CLASS;


/*++

    In registry callback version 1.0, there is a bug with post-notification
    processing and multiple registry filter drivers that can break the samples
    here. It is fixed with version 1.1.

    The bug occurs when a driver blocks or bypasses a registry operation in the
    pre-notification phase. Even though the processing of the operation stops
    there, registry filter drivers registered at higher altitudes will still
    get a post-notification for the operation. If the higher altitude driver
    tries to change the status of the operation from failure to success or
    vice versa, this change will be ignored and the status returned
    will be the status returned by the driver who bypassed or blocked the
    operation during the pre-notification phase.

    For more information on how notification processing works with multiple
    registry filter drivers registered see MultiAlt.c

    For more information on issues in version 1.0 and changes in version 1.1
    see Version.c


    Beginning with Windows 8.1, it is no longer possible to pass the object
    provided to a RegNtPostCreateKeyEx or RegNtPostOpenKeyEx callout to
    ObOpenObjectByPointer. To work around this, filters should perform all
    create key or open key processing in a RegNtPreCreateKeyEx or
    RegNtPreOpenKeyEx callout. If for any reason the desired processing cannot
    be performed in a RegNtPreCreateKeyEx or RegNtPreOpenKeyEx callout, then
    use CmSetCallbackObjectContext to tag a newly-created or newly-opened key
    as unprocessed and process it in the pre-operation callback for a
    subsequent operation.

--*/



/** PostNotificationOverrideSuccessSample: a callback turns a successful value set into STATUS_ACCESS_DENIED in post. */
export async function PostNotificationOverrideSuccessSample(
): Promise<boolean>
/*++

Routine Description:

    This sample shows how registry callbacks can fail a registry operation
    in the post-notification phase.

    Two values are created. The creates normally should succeeded, but one
    is intercepted by the callback and failed with STATUS_ACCESS_DENIED.

    NOTE: This sample does not take into account transactions. See txr.c for
    examples on how to handle transactional registry operations.

Return Value:

    TRUE if the sample completed successfully.

--*/
{
  let CallbackCtx: CALLBACK_CONTEXT | null = null;
  let Status: NTSTATUS;
  const Name = new UNICODE_STRING();
  const ValueData = new Uint8Array(4);   // DWORD ValueData = 0;
  let Success = false;

  InfoPrint("");
  InfoPrint("=== Post-Notification Override Success Sample ====");

  Exit: {

    //
    // Create the callback context
    //

    CallbackCtx = CreateCallbackContext(CALLBACK_MODE.CALLBACK_MODE_POST_NOTIFICATION_OVERRIDE_SUCCESS,
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
    // Set two values.
    // Setting the "not modified" value will succeed.
    // Setting the other value will fail with file not found.
    //

    RtlInitUnicodeString(Name, NOT_MODIFIED_VALUE_NAME);
    Status = ZwSetValueKey(globals.g_RootKey,
      Name,
      0,
      REG_DWORD,
      ValueData,
      ValueData.length);

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("ZwSetValue return unexpected status 0x%x", Status);
      Success = false;
    }

    RtlInitUnicodeString(Name, VALUE_NAME);
    Status = ZwSetValueKey(globals.g_RootKey,
      Name,
      0,
      REG_DWORD,
      ValueData,
      ValueData.length);

    if (Status !== STATUS_ACCESS_DENIED) {
      ErrorPrint("ZwSetValue return unexpected status 0x%x", Status);
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


    //
    // Verify that the set value calls were failed by
    // checking that the value with VALUE_NAME does not
    // exist.
    //
    // Deleting the other value should return STATUS_OBJECT_NAME_NOT_FOUND
    // Deleting value with the modified name should succeed.
    //

    RtlInitUnicodeString(Name, VALUE_NAME);
    Status = ZwDeleteValueKey(globals.g_RootKey, Name);

    if (Status !== STATUS_OBJECT_NAME_NOT_FOUND) {
      ErrorPrint("ZwDeleteValueKey on value failed. Status: 0x%x", Status);
      Success = false;
    }

  }

  //
  // Clean up
  //

  RtlInitUnicodeString(Name, VALUE_NAME);
  ZwDeleteValueKey(globals.g_RootKey, Name);
  RtlInitUnicodeString(Name, NOT_MODIFIED_VALUE_NAME);
  ZwDeleteValueKey(globals.g_RootKey, Name);

  if (CallbackCtx !== null) {
    ExFreePoolWithTag(CallbackCtx.Address, REGFLTR_CONTEXT_POOL_TAG);
  }

  if (Success) {
    InfoPrint("Post-Notification Override Success Sample succeeded.");
  } else {
    ErrorPrint("Post-Notification Override Success Sample FAILED.");
  }
  return Success;

}


/** CallbackPostNotificationOverrideSuccess: undoes a successful KEY_NAME create / VALUE_NAME set and returns STATUS_ACCESS_DENIED instead. */
export function CallbackPostNotificationOverrideSuccess(
  CallbackCtx: CALLBACK_CONTEXT,
  NotifyClass: REG_NOTIFY_CLASS,
  Argument2: object,
): NTSTATUS
/*++

Routine Description:

    This helper callback routine intercepts create key and set value post
    notifications and fails the operation with STATUS_ACCESS_DENIED.

    NOTE: This sample does not take into account transactions. See txr.c for
    examples on how to handle transactional registry operations.

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

    NTSTATUS

--*/
{

  let Status: NTSTATUS = STATUS_SUCCESS;
  let PreCreateInfo: REG_CREATE_KEY_INFORMATION;
  let PreSetValueInfo: REG_SET_VALUE_KEY_INFORMATION;
  let PostInfo: REG_POST_OPERATION_INFORMATION;
  const Name = new UNICODE_STRING();
  let Key: HANDLE = 0;

  void CallbackCtx; // UNREFERENCED_PARAMETER(CallbackCtx);

  switch (NotifyClass) {
    case RegNtPostCreateKeyEx:
      PostInfo = Argument2 as REG_POST_OPERATION_INFORMATION;
      PreCreateInfo = PostInfo.PreInformation as REG_CREATE_KEY_INFORMATION;

      //
      // REG_CREATE_KEY_INFORMATION is a partially captured
      // structure however no uncaptured fields are used here. For more
      // information on what parameters need to be captured, see
      // capture.c.
      //

      //
      // Only intercept the operation if the key being created has the
      // name KEY_NAME.
      //

      RtlInitUnicodeString(Name, KEY_NAME);
      if (!RtlEqualUnicodeString(Name,
        PreCreateInfo.CompleteName,
        true)) {
        break;
      }

      //
      // Make sure the operation is successful so far.
      //

      if (!NT_SUCCESS(PostInfo.Status)) {
        ErrorPrint("Operation status in post notification is unexpectedly 0x%x",
          PostInfo.Status);
        break;
      }

      //
      // Since this is the post-notification phase, the key has
      // already been created. It is stored in PostInfo->Object.
      // Get a handle on the key and delete it.
      //

      ({ status: Status, Handle: Key } = ObOpenObjectByPointer(PostInfo.Object!,
        OBJ_KERNEL_HANDLE,
        null,
        KEY_ALL_ACCESS,
        PreCreateInfo.ObjectType,
        KernelMode));

      if (!NT_SUCCESS(Status)) {
        ErrorPrint("ObObjectByPointer failed. Status 0x%x\n", Status);
        break;
      }

      Status = ZwDeleteKey(Key);

      if (!NT_SUCCESS(Status)) {
        ErrorPrint("ZwDeleteKey failed. Status 0x%x\n", Status);
        break;
      }

      void ZwClose(Key);

      //
      // Dereference the object because it will not be returned to
      // the user. NULL out the references to the object in the
      // post and pre information structures.
      //

      ObDereferenceObject(PostInfo.Object!);
      PostInfo.Object = null;
      PreCreateInfo.ResultObject = null;

      InfoPrint("\tCallback: Create key %wZ overrided from success to error.",
        PreCreateInfo.CompleteName);

      //
      // Put the status to be returned in PostInfo->ReturnStatus and
      // return STATUS_CALLBACK_BYPASS to let CM know that
      // we want to change the return status.
      //
      // DO NOT set PostInfo->Status
      //

      PostInfo.ReturnStatus = STATUS_ACCESS_DENIED;
      Status = STATUS_CALLBACK_BYPASS;
      break;

    case RegNtPostSetValueKey:

      PostInfo = Argument2 as REG_POST_OPERATION_INFORMATION;
      PreSetValueInfo = PostInfo.PreInformation as REG_SET_VALUE_KEY_INFORMATION;

      //
      // NOTE: REG_SET_VALUE_KEY_INFORMATION is a partially captured
      // structure. The value name is captured but the data buffer is
      // not. Since we are only using the value name we do not need to
      // capture any parameters. For more information on what parameters
      // need to be captured, see capture.c.
      //

      //
      // Only intercept the operation if the value being set has the
      // name VALUE_NAME.
      //

      RtlInitUnicodeString(Name, VALUE_NAME);
      if (!RtlEqualUnicodeString(Name,
        PreSetValueInfo.ValueName,
        true)) {
        break;
      }

      //
      // Make sure the operation is successful so far.
      //

      if (!NT_SUCCESS(PostInfo.Status)) {
        ErrorPrint("Post notification status is unexpectedly 0x%x.",
          PostInfo.Status);
        break;
      }

      //
      // To fail the operation, we have to delete the value that has
      // been created. To do so, we need a handle to the root key.
      //

      ({ status: Status, Handle: Key } = ObOpenObjectByPointer(PreSetValueInfo.Object,
        OBJ_KERNEL_HANDLE,
        null,
        KEY_ALL_ACCESS,
        null,
        KernelMode));

      if (!NT_SUCCESS(Status)) {
        ErrorPrint("ObObjectByPointer failed. Status 0x%x\n", Status);
        break;
      }

      Status = ZwDeleteValueKey(Key, PreSetValueInfo.ValueName);

      if (!NT_SUCCESS(Status)) {
        ErrorPrint("ZwDeleteValueKey failed. Status 0x%x\n", Status);
        break;
      }

      void ZwClose(Key);

      //
      // Put the status to be returned in PostInfo->ReturnStatus and
      // return STATUS_CALLBACK_BYPASS to let CM know that
      // we want to change the return status.
      //
      // DO NOT set PostInfo->Status
      //

      InfoPrint("\tCallback: Value %wZ overrided from success to error.",
        PreSetValueInfo.ValueName);
      PostInfo.ReturnStatus = STATUS_ACCESS_DENIED;
      Status = STATUS_CALLBACK_BYPASS;
      break;

    default:
      //
      // Do nothing for other notifications
      //
      break;
  }

  return Status;

}


/** PostNotificationOverrideErrorSample: a callback turns a failed open of a missing key into a successful open of another. */
export async function PostNotificationOverrideErrorSample(
): Promise<boolean>
/*++

Routine Description:

    This sample shows how a registry callback can change a failed registry
    operation into a successful operation in the post-notification phase.

    A key that does not exist is opened. The opens should fail, but it is
    intercepted by the callback and the open is redirected to a key that
    does exist.

    NOTE: This sample does not take into account transactions. See txr.c for
    examples on how to handle transactional registry operations.

Return Value:

    TRUE if the sample completed successfully.

--*/
{
  let CallbackCtx: CALLBACK_CONTEXT | null = null;
  let Status: NTSTATUS;
  const KeyAttributes = new OBJECT_ATTRIBUTES();
  const Name = new UNICODE_STRING();
  let Success = false;
  let Key: HANDLE = 0;
  let ModifiedKey: HANDLE = 0;

  InfoPrint("");
  InfoPrint("=== Post-Notification Override Error Sample ====");

  Exit: {

    //
    // Create the callback context
    //

    CallbackCtx = CreateCallbackContext(CALLBACK_MODE.CALLBACK_MODE_POST_NOTIFICATION_OVERRIDE_ERROR,
      CALLBACK_ALTITUDE);
    if (CallbackCtx === null) {
      break Exit;
    }

    //
    // Create a key with name MODIFIED_KEY_NAME
    //

    RtlInitUnicodeString(Name, MODIFIED_KEY_NAME);
    InitializeObjectAttributes(KeyAttributes,
      unicodeStringText(Name),
      OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
      globals.g_RootKey,
      null);

    ({ status: Status, KeyHandle: ModifiedKey } = ZwCreateKey(
      KEY_ALL_ACCESS,
      KeyAttributes,
      0,
      null,
      0));

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("Creating modified key failed. Status 0x%x", Status);
      break Exit;
    }

    //
    // Now try to open a key by KEY_NAME which does not exist. Verify that
    // this fails.
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
      ErrorPrint("ZwCreateKey returned unexpected status 0x%x", Status);
      break Exit;
    }

    //
    // Register our callback with the context
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
    // Open key again. The callback will intercept this and make it succeed.
    //

    ({ status: Status, KeyHandle: Key } = ZwOpenKey(KEY_ALL_ACCESS,
      KeyAttributes));

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("ZwOpenKey failed unexpectedly. Status 0x%x", Status);
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
    ZwDeleteKey(Key);
    await ZwClose(Key);
  }

  if (ModifiedKey !== 0) {
    ZwDeleteKey(ModifiedKey);
    await ZwClose(ModifiedKey);
  }

  if (CallbackCtx !== null) {
    ExFreePoolWithTag(CallbackCtx.Address, REGFLTR_CONTEXT_POOL_TAG);
  }

  if (Success) {
    InfoPrint("Post-Notification Override Error Sample succeeded.");
  } else {
    ErrorPrint("Post-Notification Override Error Sample FAILED.");
  }

  return Success;
}


/** CallbackPostNotificationOverrideError: turns a failed open of KEY_NAME into an open of MODIFIED_KEY_NAME. */
export function CallbackPostNotificationOverrideError(
  CallbackCtx: CALLBACK_CONTEXT,
  NotifyClass: REG_NOTIFY_CLASS,
  Argument2: object,
): NTSTATUS
/*++

Routine Description:

    This helper callback routine intercepts open key post notifications
    and if they are failing with STATUS_ACCESS_DENIED, it makes
    the operation successful by redirecting the open to antoher key.

    NOTE: This sample does not take into account transactions. See txr.c for
    examples on how to handle transactional registry operations.

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

    NTSTATUS

--*/
{
  let Status: NTSTATUS = STATUS_SUCCESS;
  let PreOpenInfo: REG_OPEN_KEY_INFORMATION;
  let PostInfo: REG_POST_OPERATION_INFORMATION;
  const Name = new UNICODE_STRING();
  const KeyAttributes = new OBJECT_ATTRIBUTES();
  let Key: HANDLE = 0;
  let RootKey: HANDLE = 0;
  let Object: object | null;

  void CallbackCtx; // UNREFERENCED_PARAMETER(CallbackCtx);

  switch (NotifyClass) {
    case RegNtPostOpenKeyEx:

      PostInfo = Argument2 as REG_POST_OPERATION_INFORMATION;
      PreOpenInfo = PostInfo.PreInformation as REG_OPEN_KEY_INFORMATION;

      //
      // NOTE: REG_OPEN_KEY_INFORMATION is a fully captured structure
      // so there is no need for the callback to capture any parameters.
      // For more information on what parameters need to be captured, see
      // capture.c.
      //

      //
      // Only intercept the operation if the key being created has the
      // name KEY_NAME.
      //

      RtlInitUnicodeString(Name, KEY_NAME);
      if (!RtlEqualUnicodeString(Name,
        PreOpenInfo.CompleteName,
        true)) {
        break;
      }

      //
      // Verify that operation is currently failing as expected
      //

      if (PostInfo.Status !== STATUS_OBJECT_NAME_NOT_FOUND) {
        ErrorPrint("Operation did not fail with status not found as expected. Post status: 0x%x",
          PostInfo.Status);
        break;
      }

      //
      // To make the operation successful, an object MUST be supplied as
      // the opened handle. In this sample, the object will be a handle
      // to another key that does exist.
      //

      //
      // First open the key and get its handle.
      //

      ({ status: Status, Handle: RootKey } = ObOpenObjectByPointer(PreOpenInfo.RootObject,
        OBJ_KERNEL_HANDLE,
        null,
        KEY_ALL_ACCESS,
        PreOpenInfo.ObjectType,
        KernelMode));

      if (!NT_SUCCESS(Status)) {
        ErrorPrint("ObObjectByPointer failed. Status 0x%x", Status);
        break;
      }

      RtlInitUnicodeString(Name, MODIFIED_KEY_NAME);
      InitializeObjectAttributes(KeyAttributes,
        unicodeStringText(Name),
        OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
        RootKey,
        PreOpenInfo.SecurityDescriptor);

      ({ status: Status, KeyHandle: Key } = ZwOpenKey(PreOpenInfo.DesiredAccess,
        KeyAttributes));

      if (!NT_SUCCESS(Status)) {
        ErrorPrint("ZwOpenKey failed. Status 0x%x", Status);
        void ZwClose(RootKey);
        break;
      }

      void ZwClose(RootKey);

      //
      // Then, get the object pointer from the new key's handle.
      //

      ({ status: Status, Object } = ObReferenceObjectByHandle(Key,
        PreOpenInfo.DesiredAccess,
        PreOpenInfo.ObjectType,
        KernelMode));
      if (!NT_SUCCESS(Status)) {
        ErrorPrint("ObReferenceObjectByHandle failed. Status 0x%x", Status);
        void ZwClose(Key);
        break;
      }

      //
      // Finally, set the ResultObject field in the PreInfo and
      // the Object field in the PostInfo to the object just opened.
      //

      PreOpenInfo.ResultObject = Object;
      PreOpenInfo.GrantedAccess = PreOpenInfo.DesiredAccess;

      if (PostInfo.Object !== null) {
        ErrorPrint("PostInfo->Object should be NULL! Instead is 0x%p",
          String(PostInfo.Object));
      }
      PostInfo.Object = Object;

      void ZwClose(Key);
      InfoPrint("\tCallback: Opening key %wZ overrided from error to success.",
        PreOpenInfo.CompleteName);

      //
      // Put the status to be returned in PostInfo->ReturnStatus and
      // return STATUS_CALLBACK_BYPASS to let CM know that
      // we want to change the return status.
      //
      // DO NOT set PostInfo->Status
      //

      PostInfo.ReturnStatus = STATUS_SUCCESS;
      Status = STATUS_CALLBACK_BYPASS;
      break;

    default:
      //
      // Do nothing for other notifications
      //
      break;
  }

  return Status;

}
