/*++
Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    Context.c (context.ts)

Abstract:

    Samples that show how callbacks attach context to key objects
    (CmSetCallbackObjectContext) and to registry operations (CallContext).

    (InterlockedIncrement(&CallbackCtx->Count) is CallbackCtx.Count++: a callback runs
    to completion, so nothing can interleave with it.)

Environment:

    Kernel mode only

--*/

import { NT_SUCCESS, STATUS_SUCCESS, type NTSTATUS } from "../../../../ke/ntstatus.js";
import { ExFreePoolWithTag } from "../../../../mm/pool.js";
import { InitializeObjectAttributes, OBJECT_ATTRIBUTES, OBJ_CASE_INSENSITIVE, OBJ_KERNEL_HANDLE } from "../../../../ob/attributes.js";
import type { HANDLE } from "../../../../ob/handle-table.js";
import { ZwClose } from "../../../../ob/handles.js";
import { RtlInitUnicodeString, UNICODE_STRING, unicodeStringText } from "../../../../rtl/unicode-string.js";
import type {
  REG_CALLBACK_CONTEXT_CLEANUP_INFORMATION, REG_CREATE_KEY_INFORMATION, REG_POST_OPERATION_INFORMATION, REG_SET_VALUE_KEY_INFORMATION,
} from "../../../../cm/callback-information.js";
import { CmRegisterCallbackEx, CmSetCallbackObjectContext, CmUnRegisterCallback } from "../../../../cm/callbacks.js";
import { REG_NOTIFY_CLASS } from "../../../../cm/notify-class.js";
import { REG_DWORD } from "../../../../cm/value-types.js";
import { KEY_ALL_ACCESS, ZwCreateKey, ZwDeleteKey, ZwDeleteValueKey, ZwOpenKey, ZwSetValueKey } from "../../../../cm/zw.js";
import { CALLBACK_ALTITUDE, CALLBACK_MODE, KEY_NAME, ROOT_KEY_ABS_PATH, VALUE_NAME } from "../common.js";
import { Callback } from "./regfltr.js";
import { ErrorPrint, globals, InfoPrint, REGFLTR_CONTEXT_POOL_TAG, type CALLBACK_CONTEXT } from "./regfltr-header.js";
import { CreateCallbackContext } from "./util.js";

const {
  RegNtPostOpenKeyEx, RegNtPreSetValueKey, RegNtPostSetValueKey, RegNtCallbackObjectContextCleanup, RegNtPreCreateKeyEx, RegNtPostCreateKeyEx,
} = REG_NOTIFY_CLASS;


/** SetObjectContextSample: a callback attaches a context to one key object and sees it only in operations through that object. */
export async function SetObjectContextSample(
): Promise<boolean>
/*++

Routine Description:

    This sample shows how a registry callback can associate a context on
    a registry object using CmSetCallbackObjectContext.

    This context is available in the ObjectContext field of the
    REG_Xxx_KEY_INFORMATION data structures. The registry object is a handle
    to a key and not the registry key itself. When the handle is closed
    or the callback is unregistered, the callback will receive a
    RegNtCallbackObjectContextCleanup notification to give a chance to
    clean up the context.

Return Value:

    TRUE if the sample completed successfully.

--*/
{

  let CallbackCtx: CALLBACK_CONTEXT | null = null;
  let Status: NTSTATUS;
  const Name = new UNICODE_STRING();
  const KeyAttributes = new OBJECT_ATTRIBUTES();
  let RootKeyWithContext: HANDLE = 0;
  const ValueData = new Uint8Array(4);   // DWORD ValueData = 0;
  let Success = false;


  InfoPrint("");
  InfoPrint("=== Set Object Context Sample ====");

  Exit: {

    //
    // Create the callback context
    //

    CallbackCtx = CreateCallbackContext(CALLBACK_MODE.CALLBACK_MODE_SET_OBJECT_CONTEXT,
      CALLBACK_ALTITUDE);

    if (CallbackCtx === null) {
      break Exit;
    }

    //
    // Register the callback
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
    // Open the root key again. The callback will associate an object
    // context with the RootKeyWithContext handle.
    //

    RtlInitUnicodeString(Name, ROOT_KEY_ABS_PATH);
    InitializeObjectAttributes(KeyAttributes,
      unicodeStringText(Name),
      OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
      null,
      null);

    ({ status: Status, KeyHandle: RootKeyWithContext } = ZwOpenKey(KEY_ALL_ACCESS,
      KeyAttributes));

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("ZwOpenKey on root key failed. Status 0x%x", Status);
      Success = false;
    }

    //
    // Set value using both the g_RootKey handle and the RootKeyWithContext
    // handle.
    //

    RtlInitUnicodeString(Name, VALUE_NAME);
    Status = ZwSetValueKey(globals.g_RootKey,
      Name,
      0,
      REG_DWORD,
      ValueData,
      ValueData.length);

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("ZwSetValue failed. Status 0x%x", Status);
      Success = false;
    }

    if (RootKeyWithContext !== 0) {
      Status = ZwSetValueKey(RootKeyWithContext,
        Name,
        0,
        REG_DWORD,
        ValueData,
        ValueData.length);

      if (!NT_SUCCESS(Status)) {
        ErrorPrint("ZwSetValue failed. Status 0x%x", Status);
        Success = false;
      }
    }

    //
    // Unregister the callback
    //

    Status = CmUnRegisterCallback(CallbackCtx.Cookie);

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CmUnRegisterCallback failed. Status 0x%x", Status);
    }

    //
    // Check that the RegNtCallbackObjectContextCleanup notification was
    // received when we unregistered the callback.
    //

    if (CallbackCtx.ContextCleanupCount !== 1) {
      ErrorPrint("Callback was not invoked for a context cleanup notification.");
      Success = false;
    }

    //
    // Check that there were two notifications that had the object context set.
    // These are the pre and post set value using the RootKeyWithContext handle.
    //

    if (CallbackCtx.NotificationWithContextCount !== 2) {
      ErrorPrint("Callback OperationWithContext count expected 2, instead it was %d",
        CallbackCtx.NotificationWithContextCount);
      Success = false;
    }

    //
    // Check that there were two notifications that did not have the object
    // context set. These are the pre and post set value using the
    // g_RootKey handle.
    //

    if (CallbackCtx.NotificationWithNoContextCount !== 2) {
      ErrorPrint("Callback OperationWithNoContext count expected 2, instead it was %d",
        CallbackCtx.NotificationWithNoContextCount);
      Success = false;
    }

  }

  if (Success === true) {
    InfoPrint("Set Object Context Sample Succeeded.");
  } else {
    ErrorPrint("Set Object Context Sample FAILED.");
  }

  //
  // Clean up
  //

  RtlInitUnicodeString(Name, VALUE_NAME);
  ZwDeleteValueKey(globals.g_RootKey, Name);

  if (RootKeyWithContext !== 0) {
    await ZwClose(RootKeyWithContext);
  }

  if (CallbackCtx !== null) {
    ExFreePoolWithTag(CallbackCtx.Address, REGFLTR_CONTEXT_POOL_TAG);
  }

  return Success;
}


/** CallbackSetObjectContext: sets an object context on opened keys and counts the set-value notifications with and without it. */
export function CallbackSetObjectContext(
  CallbackCtx: CALLBACK_CONTEXT,
  NotifyClass: REG_NOTIFY_CLASS,
  Argument2: object,
): NTSTATUS
/*++

Routine Description:

    This helper callback routine shows how to associate a registry key object
    with context information using CmSetCallbackObjectContext. The context
    set is then only available to this callback. A callback that sets the
    object context should be prepared for a RegNtCallbackObjectContextCleanup
    where it must clean up the context.

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
  let CleanupInfo: REG_CALLBACK_CONTEXT_CLEANUP_INFORMATION;
  let PostInfo: REG_POST_OPERATION_INFORMATION;
  let ObjectContext: unknown = null;

  switch (NotifyClass) {

    case RegNtPostOpenKeyEx:

      PostInfo = Argument2 as REG_POST_OPERATION_INFORMATION;

      //
      // If the open key was successful, set an object context
      // to the key object.
      //
      // Note that one of the parameters of CmSetCallbackObjectContext
      // is the cookie gotten from registering a callback. The object
      // context will only be available to the callback with that
      // particular cookie.
      //

      if (NT_SUCCESS(PostInfo.Status)) {

        //
        // Never call CmSetCallbackObjectContext outside of the
        // callback routine.
        //

        ({ status: Status } = CmSetCallbackObjectContext(PostInfo.Object,
          CallbackCtx.Cookie,
          CallbackCtx));

        if (!NT_SUCCESS(Status)) {
          ErrorPrint("CmSetCallbackobjectContext failed. Status 0x%x",
            Status);
        }
      }
      break;

    case RegNtPreSetValueKey:
    case RegNtPostSetValueKey:

      //
      // All registry operations using the handle received from the open
      // key operation will come with the ObjectContext field set to the
      // context information. Other operations on the same key but
      // using a different handle will not have the ObjectContext field
      // set.
      //

      if (NotifyClass === RegNtPreSetValueKey) {
        ObjectContext = (Argument2 as REG_SET_VALUE_KEY_INFORMATION).ObjectContext;
      } else {
        ObjectContext = (Argument2 as REG_POST_OPERATION_INFORMATION).ObjectContext;
      }

      if (ObjectContext === null) {
        CallbackCtx.NotificationWithNoContextCount++;
      } else if (ObjectContext === CallbackCtx) {
        CallbackCtx.NotificationWithContextCount++;
      } else {
        ErrorPrint("Unexpected ObjectContext value: 0x%p", String(ObjectContext));
      }

      break;

    case RegNtCallbackObjectContextCleanup:

      //
      // This is a special notification only invoked for callbacks
      // that have set context information to an object. This notification
      // is either sent when the registry object is being closed or if
      // the callback is being unregistered. In the first case, this
      // notification comes after the RegNtPreKeyHandleClose
      // notification and before the RegNtPostKeyHandleClose notification.
      //

      CleanupInfo = Argument2 as REG_CALLBACK_CONTEXT_CLEANUP_INFORMATION;
      if (CleanupInfo.ObjectContext !== CallbackCtx) {
        ErrorPrint("ContextCleanup's ObjectContext has unexpected value: 0x%p.",
          String(CleanupInfo.ObjectContext));
      } else {
        CallbackCtx.ContextCleanupCount++;
      }
      break;

    default:
      //
      // Do nothing for other notifications
      //
      break;
  }

  return Status;
}


/** SetCallContextSample: a callback passes a context from each pre-notification to its post-notification. */
export async function SetCallContextSample(
): Promise<boolean>
/*++

Routine Description:

    This sample shows how a registry callback can associate a context
    with a registry operation during the pre-notification phase so that it
    is available in the post-notification phase.

Return Value:

    TRUE if the sample completed successfully.

--*/
{
  let CallbackCtx: CALLBACK_CONTEXT | null = null;
  let Status: NTSTATUS;
  const KeyAttributes = new OBJECT_ATTRIBUTES();
  const Name = new UNICODE_STRING();
  let Key: HANDLE = 0;
  const ValueData = new Uint8Array(4);   // DWORD ValueData = 0;
  let Success = false;


  InfoPrint("");
  InfoPrint("=== Set Operation Context Sample ====");

  Exit: {

    //
    // Create the callback context
    //

    CallbackCtx = CreateCallbackContext(CALLBACK_MODE.CALLBACK_MODE_SET_CALL_CONTEXT,
      CALLBACK_ALTITUDE);

    if (CallbackCtx === null) {
      break Exit;
    }

    //
    // Register callback with the context
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
    // Create a key and set a value.
    //

    RtlInitUnicodeString(Name, KEY_NAME);
    InitializeObjectAttributes(KeyAttributes,
      unicodeStringText(Name),
      OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
      globals.g_RootKey,
      null);

    ({ status: Status, KeyHandle: Key } = ZwCreateKey(
      KEY_ALL_ACCESS,
      KeyAttributes,
      0,
      null,
      0));

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("ZwCreateKey failed. Status 0x%x", Status);
      Success = false;
    }

    RtlInitUnicodeString(Name, VALUE_NAME);
    Status = ZwSetValueKey(globals.g_RootKey,
      Name,
      0,
      REG_DWORD,
      ValueData,
      ValueData.length);

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("ZwSetValue failed. Status 0x%x", Status);
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
    // Check that the callback records 2 in OperationContextCount.
    // The count should be incremented once in the post-notification for the
    // create key and once for the set value.
    //

    if (CallbackCtx.NotificationWithContextCount !== 2) {
      ErrorPrint("Callback OperationWithContextCount expected 2, got %d",
        CallbackCtx.NotificationWithContextCount);
      Success = false;
    }

  }

  if (Success === true) {
    InfoPrint("Set Call Context sample succeeded.");
  } else {
    ErrorPrint("Set Call Context sample FAILED.");
  }

  //
  // Clean up
  //

  if (Key !== 0) {
    ZwDeleteKey(Key);
    await ZwClose(Key);
  }

  RtlInitUnicodeString(Name, VALUE_NAME);
  ZwDeleteValueKey(globals.g_RootKey, Name);

  if (CallbackCtx !== null) {
    ExFreePoolWithTag(CallbackCtx.Address, REGFLTR_CONTEXT_POOL_TAG);
  }

  return Success;

}



/** CallbackSetCallContext: sets CallContext in pre-create and pre-set-value, and counts post-notifications that carry it back. */
export function CallbackSetCallContext(
  CallbackCtx: CALLBACK_CONTEXT,
  NotifyClass: REG_NOTIFY_CLASS,
  Argument2: object,
): NTSTATUS
/*++

Routine Description:

    This helper callback routine shows how to attach context information to
    the registry operation itself in the pre-notification phase and
    have access to that context in the post-notification phase. The context
    is private to this callback.

    ***Note: Any callback that receives a pre-notification will receive
    a post-notifcation EXCEPT if the callback returns a non-success value
    (this includes STATUS_CALLBACK_BYPASS) during the pre phase.

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

    Always STATUS_SUCCESS

--*/

{
  const Status: NTSTATUS = STATUS_SUCCESS;
  let PostInfo: REG_POST_OPERATION_INFORMATION;
  let PreCreateInfo: REG_CREATE_KEY_INFORMATION;
  let PreSetValueInfo: REG_SET_VALUE_KEY_INFORMATION;

  switch (NotifyClass) {

    //
    // Set the call context by setting it to the CallContext field of the
    // REG_XXX_KEY_INFORMATION structure during the pre-notification phase.
    //

    case RegNtPreSetValueKey:
      PreSetValueInfo = Argument2 as REG_SET_VALUE_KEY_INFORMATION;
      PreSetValueInfo.CallContext = CallbackCtx;
      break;

    case RegNtPreCreateKeyEx:
      PreCreateInfo = Argument2 as REG_CREATE_KEY_INFORMATION;
      PreCreateInfo.CallContext = CallbackCtx;
      break;

    //
    // In the post-notification phase, check that the CallContext field
    // of REG_POST_OPERATION_INFORMATION contains the context we set in
    // the pre phase.
    //

    case RegNtPostSetValueKey:
    case RegNtPostCreateKeyEx:
      PostInfo = Argument2 as REG_POST_OPERATION_INFORMATION;
      if (PostInfo.CallContext !== CallbackCtx) {
        ErrorPrint("Unexpected CallContext value: 0x%p", String(PostInfo.CallContext));
      } else {
        CallbackCtx.NotificationWithContextCount++;
      }
      break;

    default:
      //
      // Do nothing for other notifications
      //
      break;
  }

  return Status;
}
