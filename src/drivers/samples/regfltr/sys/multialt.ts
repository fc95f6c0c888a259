/*++
Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    MultiAlt.c (multialt.ts)

Abstract:

    Samples that show how notifications flow through a stack of callbacks
    registered at different altitudes.

    (InterlockedIncrement(&CallbackCtx->Count) is CallbackCtx.Count++: a callback runs
    to completion, so nothing can interleave with it.)

Environment:

    Kernel mode only

--*/

import { NT_SUCCESS, STATUS_ACCESS_DENIED, STATUS_SUCCESS, type NTSTATUS } from "../../../../ke/ntstatus.js";
import { ExFreePoolWithTag } from "../../../../mm/pool.js";
import { InitializeObjectAttributes, OBJECT_ATTRIBUTES, OBJ_CASE_INSENSITIVE, OBJ_KERNEL_HANDLE } from "../../../../ob/attributes.js";
import type { HANDLE } from "../../../../ob/handle-table.js";
import { ZwClose } from "../../../../ob/handles.js";
import { RtlInitUnicodeString, UNICODE_STRING, unicodeStringText } from "../../../../rtl/unicode-string.js";
import type { REG_CREATE_KEY_INFORMATION, REG_POST_OPERATION_INFORMATION } from "../../../../cm/callback-information.js";
import { CmCallbackGetKeyObjectIDEx, CmCallbackReleaseKeyObjectIDEx, CmRegisterCallbackEx, CmUnRegisterCallback } from "../../../../cm/callbacks.js";
import { REG_NOTIFY_CLASS } from "../../../../cm/notify-class.js";
import { KEY_ALL_ACCESS, ZwCreateKey, ZwDeleteKey, ZwOpenKey } from "../../../../cm/zw.js";
import { CALLBACK_ALTITUDE, CALLBACK_HIGH_ALTITUDE, CALLBACK_LOW_ALTITUDE, CALLBACK_MODE, KEY_NAME } from "../common.js";
import { Callback } from "./regfltr.js";
import { ErrorPrint, globals, InfoPrint, REGFLTR_CONTEXT_POOL_TAG, type CALLBACK_CONTEXT } from "./regfltr-header.js";
import { CreateCallbackContext } from "./util.js";

const {
  RegNtPreDeleteKey, RegNtPreSetValueKey, RegNtPreDeleteValueKey, RegNtPreSetInformationKey, RegNtPreRenameKey, RegNtPreEnumerateKey,
  RegNtPreEnumerateValueKey, RegNtPreQueryKey, RegNtPreQueryValueKey, RegNtPreQueryMultipleValueKey, RegNtPreKeyHandleClose, RegNtPreCreateKeyEx,
  RegNtPreOpenKeyEx, RegNtPreFlushKey, RegNtPreLoadKey, RegNtPreUnLoadKey, RegNtPreQueryKeySecurity, RegNtPreSetKeySecurity, RegNtPreRestoreKey,
  RegNtPreSaveKey, RegNtPreReplaceKey, RegNtPostDeleteKey, RegNtPostSetValueKey, RegNtPostDeleteValueKey, RegNtPostSetInformationKey,
  RegNtPostRenameKey, RegNtPostEnumerateKey, RegNtPostEnumerateValueKey, RegNtPostQueryKey, RegNtPostQueryValueKey,
  RegNtPostQueryMultipleValueKey, RegNtPostKeyHandleClose, RegNtPostCreateKeyEx, RegNtPostOpenKeyEx, RegNtPostFlushKey, RegNtPostLoadKey,
  RegNtPostUnLoadKey, RegNtPostQueryKeySecurity, RegNtPostSetKeySecurity, RegNtPostRestoreKey, RegNtPostSaveKey, RegNtPostReplaceKey,
} = REG_NOTIFY_CLASS;


/** MultipleAltitudeBlockDuringPreSample: three callbacks; the middle one blocks a create in pre: the high one gets pre and post, the low one nothing. */
export async function MultipleAltitudeBlockDuringPreSample(
): Promise<boolean>
/*++

Routine Description:

    This sample features a stack of three callbacks at different altitudes and
    demonstrates what happens when middle callback blocks an operation
    in the pre-notification phase.

Return Value:

    TRUE if the sample completed successfully.

--*/
{

  let CallbackCtxHigh: CALLBACK_CONTEXT | null = null;
  let CallbackCtxMid: CALLBACK_CONTEXT | null = null;
  let CallbackCtxLow: CALLBACK_CONTEXT | null = null;
  let Status: NTSTATUS;
  const KeyAttributes = new OBJECT_ATTRIBUTES();
  const Name = new UNICODE_STRING();
  let Key: HANDLE = 0;
  let Success = false;

  InfoPrint("");
  InfoPrint("=== Multiple Altitude Block During Pre Sample ====");

  Exit: {

    //
    // Create callback contexts for the 3 callbacks.
    // The high and low callbacks will only monitor how many notifications
    // they receive.
    //

    CallbackCtxHigh = CreateCallbackContext(CALLBACK_MODE.CALLBACK_MODE_MULTIPLE_ALTITUDE_MONITOR,
      CALLBACK_HIGH_ALTITUDE);
    CallbackCtxMid = CreateCallbackContext(CALLBACK_MODE.CALLBACK_MODE_MULTIPLE_ALTITUDE_BLOCK_DURING_PRE,
      CALLBACK_ALTITUDE);
    CallbackCtxLow = CreateCallbackContext(CALLBACK_MODE.CALLBACK_MODE_MULTIPLE_ALTITUDE_MONITOR,
      CALLBACK_LOW_ALTITUDE);

    if ((CallbackCtxHigh === null) ||
      (CallbackCtxMid === null) ||
      (CallbackCtxLow === null)) {
      break Exit;
    }

    //
    // Register the callbacks
    //

    ({ status: Status, Cookie: CallbackCtxHigh.Cookie } = CmRegisterCallbackEx(Callback,
      CallbackCtxHigh.Altitude,
      globals.g_DeviceObj!.DriverObject,
      CallbackCtxHigh,
      null));
    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CmRegisterCallback failed. Status 0x%x", Status);
      break Exit;
    }

    ({ status: Status, Cookie: CallbackCtxMid.Cookie } = CmRegisterCallbackEx(Callback,
      CallbackCtxMid.Altitude,
      globals.g_DeviceObj!.DriverObject,
      CallbackCtxMid,
      null));
    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CmRegisterCallback failed. Status 0x%x", Status);
      break Exit;
    }

    ({ status: Status, Cookie: CallbackCtxLow.Cookie } = CmRegisterCallbackEx(Callback,
      CallbackCtxLow.Altitude,
      globals.g_DeviceObj!.DriverObject,
      CallbackCtxLow,
      null));
    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CmRegisterCallback failed. Status 0x%x", Status);
      break Exit;
    }

    Success = true;

    //
    // Do a create key operation which will be blocked by the middle
    // callback and fail with STATUS_ACCESS_DENIED
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

    if (Status !== STATUS_ACCESS_DENIED) {
      ErrorPrint("ZwCreateKey returned unexpected status 0x%x", Status);
      Success = false;
    }


    //
    // Unregister the callbacks
    //

    Status = CmUnRegisterCallback(CallbackCtxHigh.Cookie);

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CmUnRegisterCallback failed. Status 0x%x", Status);
    }

    Status = CmUnRegisterCallback(CallbackCtxMid.Cookie);

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CmUnRegisterCallback failed. Status 0x%x", Status);
    }

    Status = CmUnRegisterCallback(CallbackCtxLow.Cookie);

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CmUnRegisterCallback failed. Status 0x%x", Status);
    }

    //
    // Verify that the highest alitude callback receives a pre and a post
    // notification. It receives a post notification because it returned
    // STATUS_SUCCESS in the pre-notification so it is guaranteed to get a
    // post notification.
    //

    if ((CallbackCtxHigh.PreNotificationCount !== 1) ||
      (CallbackCtxHigh.PostNotificationCount !== 1)) {
      ErrorPrint("High Callback should have seen 1 pre and 1 post notifications.");
      ErrorPrint("High Callback actually saw %d pre and %d post notifications.",
        CallbackCtxHigh.PreNotificationCount,
        CallbackCtxHigh.PostNotificationCount);
      Success = false;
    }

    //
    // Verify the middle callback receives only a pre notification.
    // It does not get a post notification because it return a non-success
    // value in the pre-notification phase.
    //

    if ((CallbackCtxMid.PreNotificationCount !== 1) ||
      (CallbackCtxMid.PostNotificationCount !== 0)) {
      ErrorPrint("Mid Callback should have seen 1 pre and 0 post notifications.");
      ErrorPrint("Mid Callback actually saw %d pre and %d post notifications.",
        CallbackCtxMid.PreNotificationCount,
        CallbackCtxMid.PostNotificationCount);
      Success = false;
    }

    //
    // Verify the lowest callback receives no notifications.
    // Once the middle callback blocks, no callbacks at lower altitudes are
    // notified.
    //

    if ((CallbackCtxLow.PreNotificationCount !== 0) ||
      (CallbackCtxLow.PostNotificationCount !== 0)) {
      ErrorPrint("Low Callback should have seen 0 pre and 0 post notifications.");
      ErrorPrint("Low Callback actually saw %d pre and %d post notifications.",
        CallbackCtxLow.PreNotificationCount,
        CallbackCtxLow.PostNotificationCount);
      Success = false;
    }

  }

  if (Success) {
    InfoPrint("Multiple Altitude Block During Pre Sample succeeded.");
  } else {
    ErrorPrint("Multiple Altitude Block During Pre Sample FAILED.");
  }

  //
  // Clean up
  //

  if (Key !== 0) {
    ZwDeleteKey(Key);
    await ZwClose(Key);
  }

  if (CallbackCtxHigh !== null) {
    ExFreePoolWithTag(CallbackCtxHigh.Address, REGFLTR_CONTEXT_POOL_TAG);
  }

  if (CallbackCtxMid !== null) {
    ExFreePoolWithTag(CallbackCtxMid.Address, REGFLTR_CONTEXT_POOL_TAG);
  }

  if (CallbackCtxLow !== null) {
    ExFreePoolWithTag(CallbackCtxLow.Address, REGFLTR_CONTEXT_POOL_TAG);
  }

  return Success;
}

/** MultipleAltitudeInternalInvocationSample: three callbacks; the middle one opens and closes a key in pre and post: only the low one is told of those. */
export async function MultipleAltitudeInternalInvocationSample(
): Promise<boolean>
/*++

Routine Description:

    This sample features a stack of 3 callbacks at different altitudes and
    demonstrates what happens when the middle callback invokes a registry
    operation.

Return Value:

    TRUE if the sample completed successfully.

--*/
{

  let CallbackCtxHigh: CALLBACK_CONTEXT | null = null;
  let CallbackCtxMid: CALLBACK_CONTEXT | null = null;
  let CallbackCtxLow: CALLBACK_CONTEXT | null = null;
  let Status: NTSTATUS;
  const KeyAttributes = new OBJECT_ATTRIBUTES();
  const Name = new UNICODE_STRING();
  let Key: HANDLE = 0;
  let Success = false;

  InfoPrint("");
  InfoPrint("=== Multiple Altitude Internal Invocation Sample ====");

  Exit: {

    //
    // Create callback contexts for the 3 callbacks.
    // The high and low callbacks will only monitor how many notifications
    // they receive.
    //

    CallbackCtxHigh = CreateCallbackContext(CALLBACK_MODE.CALLBACK_MODE_MULTIPLE_ALTITUDE_MONITOR,
      CALLBACK_HIGH_ALTITUDE);
    CallbackCtxMid = CreateCallbackContext(CALLBACK_MODE.CALLBACK_MODE_MULTIPLE_ALTITUDE_INTERNAL_INVOCATION,
      CALLBACK_ALTITUDE);
    CallbackCtxLow = CreateCallbackContext(CALLBACK_MODE.CALLBACK_MODE_MULTIPLE_ALTITUDE_MONITOR,
      CALLBACK_LOW_ALTITUDE);

    if ((CallbackCtxHigh === null) ||
      (CallbackCtxMid === null) ||
      (CallbackCtxLow === null)) {
      break Exit;
    }

    //
    // Register the callbacks
    //

    ({ status: Status, Cookie: CallbackCtxHigh.Cookie } = CmRegisterCallbackEx(Callback,
      CallbackCtxHigh.Altitude,
      globals.g_DeviceObj!.DriverObject,
      CallbackCtxHigh,
      null));
    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CmRegisterCallback failed. Status 0x%x", Status);
      break Exit;
    }

    ({ status: Status, Cookie: CallbackCtxMid.Cookie } = CmRegisterCallbackEx(Callback,
      CallbackCtxMid.Altitude,
      globals.g_DeviceObj!.DriverObject,
      CallbackCtxMid,
      null));
    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CmRegisterCallback failed. Status 0x%x", Status);
      break Exit;
    }

    ({ status: Status, Cookie: CallbackCtxLow.Cookie } = CmRegisterCallbackEx(Callback,
      CallbackCtxLow.Altitude,
      globals.g_DeviceObj!.DriverObject,
      CallbackCtxLow,
      null));
    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CmRegisterCallback failed. Status 0x%x", Status);
      break Exit;
    }

    Success = true;

    //
    // Create a key. When the middle callback receives the pre-notification
    // and the post-notification for this create it will perform an open key
    // and a close key operation.
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
      ErrorPrint("ZwCreateKey returned unexpected status 0x%x", Status);
      Success = false;
    }


    //
    // Unregister the callbacks
    //

    Status = CmUnRegisterCallback(CallbackCtxHigh.Cookie);

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CmUnRegisterCallback failed. Status 0x%x", Status);
      Success = false;
    }

    Status = CmUnRegisterCallback(CallbackCtxMid.Cookie);

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CmUnRegisterCallback failed. Status 0x%x", Status);
      Success = false;
    }

    Status = CmUnRegisterCallback(CallbackCtxLow.Cookie);

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CmUnRegisterCallback failed. Status 0x%x", Status);
      Success = false;
    }

    //
    // Verify the highest altitude callback receives one pre and one post
    // notification. This callback does not get notifications for the
    // registry operations called by the middle callback.
    //

    if ((CallbackCtxHigh.PreNotificationCount !== 1) ||
      (CallbackCtxHigh.PostNotificationCount !== 1)) {
      ErrorPrint("High Callback should have seen 1 pre and 1 post notifications.");
      ErrorPrint("High Callback actually saw %d pre and %d post notifications.",
        CallbackCtxHigh.PreNotificationCount,
        CallbackCtxHigh.PostNotificationCount);
      Success = false;
    }

    //
    // Verify the middle callback receives one pre and one post notification.
    // This callback does not get notifications for the registry operations
    // that it calls.
    //

    if ((CallbackCtxMid.PreNotificationCount !== 1) ||
      (CallbackCtxMid.PostNotificationCount !== 1)) {
      ErrorPrint("Mid Callback should have seen 1 pre and 1 post notifications.");
      ErrorPrint("Mid Callback actually saw %d pre and %d post notifications.",
        CallbackCtxMid.PreNotificationCount,
        CallbackCtxMid.PostNotificationCount);
      Success = false;
    }

    //
    // Verify the lowest callback receives 5 pre-notifications and 5
    // post-notifications. This callback receives 1 pre and 1 post from the
    // original create key operation. It also receives 2 pre and 2 post for
    // the open key and close key operations called by the middle callback
    // during the pre phase of the create key and then 2 pre and 2 post again
    // for the calls in the post phase of the create key.
    //

    if ((CallbackCtxLow.PreNotificationCount !== 5) ||
      (CallbackCtxLow.PostNotificationCount !== 5)) {
      ErrorPrint("Low Callback should have seen 5 pre and 5 post notifications.");
      ErrorPrint("Low Callback actually saw %d pre and %d post notifications.",
        CallbackCtxLow.PreNotificationCount,
        CallbackCtxLow.PostNotificationCount);
      Success = false;
    }

  }

  if (Success) {
    InfoPrint("Multiple Altitude Internal Invocation Sample succeeded.");
  } else {
    ErrorPrint("Multiple Altitude Internal Invocation Sample FAILED.");
  }

  //
  // Clean up
  //

  if (Key !== 0) {
    ZwDeleteKey(Key);
    await ZwClose(Key);
  }

  if (CallbackCtxHigh !== null) {
    ExFreePoolWithTag(CallbackCtxHigh.Address, REGFLTR_CONTEXT_POOL_TAG);
  }

  if (CallbackCtxMid !== null) {
    ExFreePoolWithTag(CallbackCtxMid.Address, REGFLTR_CONTEXT_POOL_TAG);
  }

  if (CallbackCtxLow !== null) {
    ExFreePoolWithTag(CallbackCtxLow.Address, REGFLTR_CONTEXT_POOL_TAG);
  }

  return Success;
}


/** CallbackMonitor: counts the pre- and post-notifications the callback receives. */
export function CallbackMonitor(
  CallbackCtx: CALLBACK_CONTEXT,
  NotifyClass: REG_NOTIFY_CLASS,
  Argument2: object,
): NTSTATUS
/*++

Routine Description:

    This helper callback routine just monitors how many pre and post registry
    operations it receives and records it in the callback context.

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
  void Argument2; // UNREFERENCED_PARAMETER(Argument2);

  switch (NotifyClass) {
    case RegNtPreDeleteKey:
    case RegNtPreSetValueKey:
    case RegNtPreDeleteValueKey:
    case RegNtPreSetInformationKey:
    case RegNtPreRenameKey:
    case RegNtPreEnumerateKey:
    case RegNtPreEnumerateValueKey:
    case RegNtPreQueryKey:
    case RegNtPreQueryValueKey:
    case RegNtPreQueryMultipleValueKey:
    case RegNtPreKeyHandleClose:
    case RegNtPreCreateKeyEx:
    case RegNtPreOpenKeyEx:
    case RegNtPreFlushKey:
    case RegNtPreLoadKey:
    case RegNtPreUnLoadKey:
    case RegNtPreQueryKeySecurity:
    case RegNtPreSetKeySecurity:
    case RegNtPreRestoreKey:
    case RegNtPreSaveKey:
    case RegNtPreReplaceKey:
      CallbackCtx.PreNotificationCount++;
      break;
    case RegNtPostDeleteKey:
    case RegNtPostSetValueKey:
    case RegNtPostDeleteValueKey:
    case RegNtPostSetInformationKey:
    case RegNtPostRenameKey:
    case RegNtPostEnumerateKey:
    case RegNtPostEnumerateValueKey:
    case RegNtPostQueryKey:
    case RegNtPostQueryValueKey:
    case RegNtPostQueryMultipleValueKey:
    case RegNtPostKeyHandleClose:
    case RegNtPostCreateKeyEx:
    case RegNtPostOpenKeyEx:
    case RegNtPostFlushKey:
    case RegNtPostLoadKey:
    case RegNtPostUnLoadKey:
    case RegNtPostQueryKeySecurity:
    case RegNtPostSetKeySecurity:
    case RegNtPostRestoreKey:
    case RegNtPostSaveKey:
    case RegNtPostReplaceKey:
      CallbackCtx.PostNotificationCount++;
      break;
  }

  return STATUS_SUCCESS;

}


/** CallbackMultipleAltitude: counts like CallbackMonitor, then blocks creates (block mode) or opens and closes the key (invocation mode). */
export function CallbackMultipleAltitude(
  CallbackCtx: CALLBACK_CONTEXT,
  NotifyClass: REG_NOTIFY_CLASS,
  Argument2: object,
): NTSTATUS
/*++

Routine Description:

    This helper callback routine first calls CallbackMonitor to record the
    number of pre and post notifications received by the callback. Then it
    does one of two things depending on the callback mode specified in the
    callback context.

    If callback mode is CALLBACK_MODE_MULTIPLE_ALTITUDE_BLOCK_DURING_PRE:
    Return STATUS_ACCESS_DENIED when we receive a pre-notification for a
    create key operation.

    If callback mode is CALLBACK_MODE_MULTIPLE_ALTITUDE_INTERNAL_INVOCATION:
    Call ZwOpenKey and ZwCloseKey when we receive a pre or post notification
    for a create key operation.

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
  let Object: object | null = null;
  let ObjectHandle: HANDLE = 0;
  let ObjectName: UNICODE_STRING | null = null;
  const CapturedObjectName = new UNICODE_STRING();
  const KeyAttributes = new OBJECT_ATTRIBUTES();
  let PostInfo: REG_POST_OPERATION_INFORMATION;

  CallbackMonitor(CallbackCtx, NotifyClass, Argument2);

  if (CallbackCtx.CallbackMode === CALLBACK_MODE.CALLBACK_MODE_MULTIPLE_ALTITUDE_BLOCK_DURING_PRE) {
    switch (NotifyClass) {
      case RegNtPreSetValueKey:
      case RegNtPreCreateKeyEx:
        InfoPrint("\tCallback: CreateKey/SetValueKey blocked.");
        Status = STATUS_ACCESS_DENIED;
        break;
      default:
        //
        // Do nothing for other notifications
        //
        break;
    }
  }

  Exit: if (CallbackCtx.CallbackMode === CALLBACK_MODE.CALLBACK_MODE_MULTIPLE_ALTITUDE_INTERNAL_INVOCATION) {

    //
    // Get the Object that we will open and close.
    //

    switch (NotifyClass) {
      case RegNtPreCreateKeyEx:
        Object = (Argument2 as REG_CREATE_KEY_INFORMATION).RootObject;

        //
        // RootObject should never be NULL.
        //

        break;

      case RegNtPostCreateKeyEx:

        PostInfo = Argument2 as REG_POST_OPERATION_INFORMATION;

        //
        // Make sure the operation is successful so far.
        //

        if (!NT_SUCCESS(PostInfo.Status)) {
          ErrorPrint("Post notification status is unexpectedly 0x%x.",
            PostInfo.Status);
          break;
        }

        //
        // If the operation si successful so far, PostInfo->Object should
        // not be NULL. However, a misbehaving registry filter driver
        // can make this NULL so we do not ASSERT here as we do in the
        // pre-notification case.
        //

        Object = PostInfo.Object;
        if (Object === null) {
          ErrorPrint("PostInfo->Object is unexpectedly null in RegNtPostCreateKeyEx.");
          ErrorPrint("PostInfo->Status is 0x%x",
            PostInfo.Status);
        }

        break;

      default:
        //
        // Do nothing for other notifications
        //
        break;
    }


    if (Object !== null) {

      //
      // Use CmCallbackGetKeyObjectID to get the absolute path to Object.
      //
      // (NTDDI_VERSION >= NTDDI_WIN8:)
      //
      // In Windows 8, CmCallbackGetKeyObjectIDEx was added to give
      // developers a copy of the object name rather than the actual
      // object name string. This is a safer programming approach and
      // allows the system to safely clean up the old object name in
      // operations like renaming the key.
      //
      // Call CmCallbackReleaseKeyObjectIDEx to release the object name
      // returned by CmCallbackGetKeyObjectIDEx.
      //

      ({ status: Status, ObjectName } = CmCallbackGetKeyObjectIDEx(CallbackCtx.Cookie,
        Object,
        0));           // Flag: reserved for future

      if (!NT_SUCCESS(Status)) {
        ErrorPrint("CmCallbackGetKeyObjectIDEx failed. Status 0x%x", Status);
        break Exit;
      }

      CapturedObjectName.Length = ObjectName!.Length;
      CapturedObjectName.MaximumLength = ObjectName!.MaximumLength;
      CapturedObjectName.Buffer = ObjectName!.Buffer;


      InitializeObjectAttributes(KeyAttributes,
        unicodeStringText(CapturedObjectName),
        OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
        null,
        null);

      InfoPrint("\tCallback: Internal Invocation of ZwOpenKey");
      ({ status: Status, KeyHandle: ObjectHandle } = ZwOpenKey(KEY_ALL_ACCESS,
        KeyAttributes));
      if (!NT_SUCCESS(Status)) {
        ErrorPrint("ZwOpenKey failed. Status 0x%x", Status);
      } else {
        InfoPrint("\tCallback: Internal Invocation of ZwCloseKey");
        void ZwClose(ObjectHandle);
      }

      CmCallbackReleaseKeyObjectIDEx(ObjectName!);

    }
  }

  return Status;
}
