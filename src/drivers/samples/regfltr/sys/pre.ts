/*++
Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    Pre.c (pre.ts)

Abstract:

    Samples that show what callbacks can do during the pre-notification
    phase.

    (A DWORD variable whose address C passes as the data is a 4-byte array here.)

Environment:

    Kernel mode only

--*/

import { KPROCESSOR_MODE } from "../../../../ke/dispatcher.js";
import {
  NT_SUCCESS, STATUS_ACCESS_DENIED, STATUS_CALLBACK_BYPASS, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS, type NTSTATUS,
} from "../../../../ke/ntstatus.js";
import type { PVOID } from "../../../../mm/memory.js";
import { ExFreePoolWithTag } from "../../../../mm/pool.js";
import { InitializeObjectAttributes, OBJECT_ATTRIBUTES, OBJ_CASE_INSENSITIVE, OBJ_KERNEL_HANDLE } from "../../../../ob/attributes.js";
import type { HANDLE } from "../../../../ob/handle-table.js";
import { ObOpenObjectByPointer, ObReferenceObjectByHandle, ZwClose } from "../../../../ob/handles.js";
import { ExGetPreviousMode } from "../../../../ob/previous-mode.js";
import { RtlEqualUnicodeString, RtlInitUnicodeString, UNICODE_STRING, unicodeStringText } from "../../../../rtl/unicode-string.js";
import type { REG_CREATE_KEY_INFORMATION, REG_SET_VALUE_KEY_INFORMATION } from "../../../../cm/callback-information.js";
import { CmRegisterCallbackEx, CmUnRegisterCallback } from "../../../../cm/callbacks.js";
import { REG_NOTIFY_CLASS } from "../../../../cm/notify-class.js";
import { REG_DWORD } from "../../../../cm/value-types.js";
import { KEY_ALL_ACCESS, ZwCreateKey, ZwDeleteKey, ZwDeleteValueKey, ZwOpenKey, ZwSetValueKey } from "../../../../cm/zw.js";
import {
  CALLBACK_ALTITUDE, CALLBACK_MODE, KEY_NAME, MODIFIED_KEY_NAME, MODIFIED_VALUE_NAME, NOT_MODIFIED_KEY_NAME, NOT_MODIFIED_VALUE_NAME, VALUE_NAME,
} from "../common.js";
import { CaptureBuffer, CaptureUnicodeString, FreeCapturedBuffer, FreeCapturedUnicodeString } from "./capture.js";
import { Callback } from "./regfltr.js";
import { ErrorPrint, globals, InfoPrint, REGFLTR_CAPTURE_POOL_TAG, REGFLTR_CONTEXT_POOL_TAG, type CALLBACK_CONTEXT } from "./regfltr-header.js";
import { CreateCallbackContext } from "./util.js";

const { KernelMode, UserMode } = KPROCESSOR_MODE;
const { RegNtPreCreateKeyEx, RegNtPreSetValueKey } = REG_NOTIFY_CLASS;


/** PreNotificationBlockSample: a callback blocks one of two key creates and one of two value sets with STATUS_ACCESS_DENIED. */
export async function PreNotificationBlockSample(
): Promise<boolean>
/*++

Routine Description:

    This sample shows how to block a registry operation in the
    pre-notification phase.

    Two keys are created. The create operations should succeed, but one
    is intercepted by the callback and failed with STATUS_ACCESS_DENIED.
    The same is done for two values.

Return Value:

    TRUE if the sample completed successfully.

--*/
{
  let CallbackCtx: CALLBACK_CONTEXT | null = null;
  let Status: NTSTATUS;
  const KeyAttributes = new OBJECT_ATTRIBUTES();
  const Name = new UNICODE_STRING();
  let Key: HANDLE = 0;
  let NotModifiedKey: HANDLE = 0;
  const ValueData = new Uint8Array(4);   // DWORD ValueData = 0;
  let Success = false;

  InfoPrint("");
  InfoPrint("=== Pre-Notification Block Sample ====");

  Exit: {

    //
    // Create the callback context
    //

    CallbackCtx = CreateCallbackContext(CALLBACK_MODE.CALLBACK_MODE_PRE_NOTIFICATION_BLOCK,
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
    // Create two keys.
    // Creating the "not modified" key will succeed.
    // Creating the other key will fail with STATUS_ACCESS_DENIED
    //

    RtlInitUnicodeString(Name, NOT_MODIFIED_KEY_NAME);
    InitializeObjectAttributes(KeyAttributes,
      unicodeStringText(Name),
      OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
      globals.g_RootKey,
      null);

    ({ status: Status, KeyHandle: NotModifiedKey } = ZwCreateKey(
      KEY_ALL_ACCESS,
      KeyAttributes,
      0,
      null,
      0));

    if (Status !== STATUS_SUCCESS) {
      ErrorPrint("ZwCreateKey returned unexpected status 0x%x", Status);
      Success = false;
    }

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
    // Set two values.
    // Setting the "not modified" value will succeed.
    // Setting the other value will fail with STATUS_ACCESS_DENIED.
    //

    RtlInitUnicodeString(Name, NOT_MODIFIED_VALUE_NAME);
    Status = ZwSetValueKey(globals.g_RootKey,
      Name,
      0,
      REG_DWORD,
      ValueData,
      ValueData.length);

    if (Status !== STATUS_SUCCESS) {
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

  }

  //
  // Clean up
  //

  if (Key !== 0) {
    ZwDeleteKey(Key);
    await ZwClose(Key);
  }

  if (NotModifiedKey !== 0) {
    ZwDeleteKey(NotModifiedKey);
    await ZwClose(NotModifiedKey);
  }

  RtlInitUnicodeString(Name, VALUE_NAME);
  ZwDeleteValueKey(globals.g_RootKey, Name);
  RtlInitUnicodeString(Name, NOT_MODIFIED_VALUE_NAME);
  ZwDeleteValueKey(globals.g_RootKey, Name);

  if (CallbackCtx !== null) {
    ExFreePoolWithTag(CallbackCtx.Address, REGFLTR_CONTEXT_POOL_TAG);
  }

  if (Success) {
    InfoPrint("Pre-Notification Block Sample succeeded.");
  } else {
    ErrorPrint("Pre-Notification Block Sample FAILED.");
  }

  return Success;

}


/** CallbackPreNotificationBlock: fails creating KEY_NAME and setting VALUE_NAME with STATUS_ACCESS_DENIED. */
export function CallbackPreNotificationBlock(
  CallbackCtx: CALLBACK_CONTEXT,
  NotifyClass: REG_NOTIFY_CLASS,
  Argument2: object,
): NTSTATUS
/*++

Routine Description:

    This helper callback routine shows hot to fail a registry operation
    in the pre-notification phase.

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
  const Name = new UNICODE_STRING();

  void CallbackCtx; // UNREFERENCED_PARAMETER(CallbackCtx);

  switch (NotifyClass) {
    case RegNtPreCreateKeyEx:

      PreCreateInfo = Argument2 as REG_CREATE_KEY_INFORMATION;

      //
      // Only intercept the operation if the key being created has the
      // name KEY_NAME.
      //

      RtlInitUnicodeString(Name, KEY_NAME);
      if (RtlEqualUnicodeString(Name,
        PreCreateInfo.CompleteName,
        true)) {
        //
        // By returning an error status, we block the operation.
        //

        InfoPrint("\tCallback: Create key %wZ blocked.",
          PreCreateInfo.CompleteName);
        Status = STATUS_ACCESS_DENIED;
      }
      break;

    case RegNtPreSetValueKey:

      PreSetValueInfo = Argument2 as REG_SET_VALUE_KEY_INFORMATION;

      //
      // Only intercept the operation if the value being set has the
      // name VALUE_NAME.
      //

      RtlInitUnicodeString(Name, VALUE_NAME);
      if (RtlEqualUnicodeString(Name,
        PreSetValueInfo.ValueName,
        true)) {
        //
        // By returning an error status, we block the operation.
        //

        InfoPrint("\tCallback: Set value %wZ blocked.",
          PreSetValueInfo.ValueName);
        Status = STATUS_ACCESS_DENIED;
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



/** PreNotificationBypassSample: a callback bypasses a key create and a value set, creating them under modified names. */
export async function PreNotificationBypassSample(
): Promise<boolean>
/*++

Routine Description:

    This sample shows how to bypass a registry operation so that the CM does
    not process the operation. Unlike block, an operation that is bypassed
    is still considered successful so the callback must provide the caller
    with what the CM would have provided.

    A key and a value are created. However both operations are bypassed by the
    callback so that the key and value actually created have different names
    than would is expected.

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
  InfoPrint("=== Pre-Notification Bypass Sample ====");

  Exit: {

    //
    // Create the callback context
    //

    CallbackCtx = CreateCallbackContext(CALLBACK_MODE.CALLBACK_MODE_PRE_NOTIFICATION_BYPASS,
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
    // Create a key and set a value. Both should succeed
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
    // Check that a key with the expected name KEY_NAME cannot be found
    // but a key with the "modified" name can be found.
    //

    if (Key !== 0) {
      await ZwClose(Key);
    }

    RtlInitUnicodeString(Name, KEY_NAME);
    InitializeObjectAttributes(KeyAttributes,
      unicodeStringText(Name),
      OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
      globals.g_RootKey,
      null);

    // (On failure ZwOpenKey leaves the caller's handle variable as it was.)
    const reopened = ZwOpenKey(KEY_ALL_ACCESS,
      KeyAttributes);
    Status = reopened.status;
    if (NT_SUCCESS(Status)) Key = reopened.KeyHandle;

    if (Status !== STATUS_OBJECT_NAME_NOT_FOUND) {
      ErrorPrint("ZwOpenKey on key returned unexpected status: 0x%x", Status);
      if (Key !== 0) {
        ZwDeleteKey(Key);
        await ZwClose(Key);
        Key = 0;
      }
      Success = false;
    }

    RtlInitUnicodeString(Name, MODIFIED_KEY_NAME);
    InitializeObjectAttributes(KeyAttributes,
      unicodeStringText(Name),
      OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
      globals.g_RootKey,
      null);

    ({ status: Status, KeyHandle: Key } = ZwOpenKey(KEY_ALL_ACCESS,
      KeyAttributes));

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("ZwOpenKey on modified key path failed. Status: 0x%x", Status);
      Success = false;
    }


    //
    // Do the same check by trying to delete a value with VALUE_NAME and
    // with the "modified" name.
    //

    RtlInitUnicodeString(Name, VALUE_NAME);
    Status = ZwDeleteValueKey(globals.g_RootKey, Name);

    if (Status !== STATUS_OBJECT_NAME_NOT_FOUND) {
      ErrorPrint("ZwDeleteValueKey on original value returned unexpected status: 0x%x",
        Status);
      Success = false;
    }

    RtlInitUnicodeString(Name, MODIFIED_VALUE_NAME);
    Status = ZwDeleteValueKey(globals.g_RootKey, Name);

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("ZwDeleteValueKey on modified value failed. Status: 0x%x",
        Status);
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

  if (CallbackCtx !== null) {
    ExFreePoolWithTag(CallbackCtx.Address, REGFLTR_CONTEXT_POOL_TAG);
  }

  if (Success) {
    InfoPrint("Pre-Notification Bypass Sample succeeded.");
  } else {
    ErrorPrint("Pre-Notification Bypass Sample FAILED.");
  }

  return Success;
}



/** CallbackPreNotificationBypass: creates MODIFIED_KEY_NAME / sets MODIFIED_VALUE_NAME instead and bypasses the operation. */
export function CallbackPreNotificationBypass(
  CallbackCtx: CALLBACK_CONTEXT,
  NotifyClass: REG_NOTIFY_CLASS,
  Argument2: object,
): NTSTATUS
/*++

Routine Description:

    This helper callback routine is the most complex part of the sample.
    Here we actually manipulate the registry inside the callback to modify the
    outcome and the behavior of the registry operation.

    In the pre-notification phase, we bypass the call but create a key or set
    a value with a different name.

    In the post-notification phase we delete the key or value that was
    created by the registry and tell the registry to return the bad error
    status to the caller.

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
  const KeyAttributes = new OBJECT_ATTRIBUTES();
  const Name = new UNICODE_STRING();
  const LocalClass = new UNICODE_STRING();
  let Class: UNICODE_STRING | null = null;
  let Key: HANDLE = 0;
  let RootKey: HANDLE = 0;
  let Object: object | null;
  let LocalData: PVOID = 0;
  let Data: PVOID = 0;
  let Mode = KernelMode;


  void CallbackCtx; // UNREFERENCED_PARAMETER(CallbackCtx);

  switch (NotifyClass) {

    case RegNtPreCreateKeyEx:

      PreCreateInfo = Argument2 as REG_CREATE_KEY_INFORMATION;

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
      // REG_CREATE_KEY_INFORMATION is a partially structure. The class
      // field's buffer is not captured. Since it is passed to
      // ZwCreateKey, it needs to be captured.
      //
      // *Note: in Windows 8 all fields are captured. See capture.c
      // for more details.
      //

      Mode = ExGetPreviousMode();

      if (!globals.g_IsWin8OrGreater && Mode === UserMode) {
        Status = CaptureUnicodeString(LocalClass,
          PreCreateInfo.Class!,
          REGFLTR_CAPTURE_POOL_TAG);
        if (!NT_SUCCESS(Status)) {
          break;
        }
        Class = LocalClass;

      } else {
        Class = PreCreateInfo.Class;
      }


      //
      // Next we create a key with a modified name.
      //

      ({ status: Status, Handle: RootKey } = ObOpenObjectByPointer(PreCreateInfo.RootObject,
        OBJ_KERNEL_HANDLE,
        null,
        KEY_ALL_ACCESS,
        PreCreateInfo.ObjectType,
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
        PreCreateInfo.SecurityDescriptor);

      ({ status: Status, KeyHandle: Key, Disposition: PreCreateInfo.Disposition } = ZwCreateKey(
        KEY_ALL_ACCESS,
        KeyAttributes,
        0,
        Class,
        PreCreateInfo.CreateOptions));

      if (!NT_SUCCESS(Status)) {
        ErrorPrint("ZwCreateKey failed. Status 0x%x", Status);
        void ZwClose(RootKey);
        break;
      }

      void ZwClose(RootKey);

      //
      // The we get an object pointer from the new key's handle.
      //

      ({ status: Status, Object } = ObReferenceObjectByHandle(Key,
        PreCreateInfo.DesiredAccess,
        PreCreateInfo.ObjectType,
        KernelMode));
      if (!NT_SUCCESS(Status)) {
        ErrorPrint("ObReferenceObjectByHandle failed. Status 0x%x", Status);
        void ZwClose(Key);
        break;
      }

      void ZwClose(Key);

      //
      // Set the ResultObject field to the new key object.
      //

      PreCreateInfo.ResultObject = Object;

      //
      // Return STATUS_CALLBACK_BYPASS to let CM know we want to bypass
      // CM and return STATUS_SUCCESS back to the caller.
      //

      InfoPrint("\tCallback: Create key %wZ bypassed.", PreCreateInfo.CompleteName);
      Status = STATUS_CALLBACK_BYPASS;
      break;

    case RegNtPreSetValueKey:

      PreSetValueInfo = Argument2 as REG_SET_VALUE_KEY_INFORMATION;

      //
      // REG_SET_VALUE_KEY_INFORMATION is a partially captured structure.
      // The value name is captured but the data is not. Since we are
      // passing the data to a zw* method, we need to capture it.
      //
      // *Note: in Windows 8 all fields are captured. See capture.c
      // for more details.
      //

      Mode = ExGetPreviousMode();

      if (!globals.g_IsWin8OrGreater && Mode === UserMode) {
        ({ Status, CapturedBuffer: LocalData } = CaptureBuffer(
          PreSetValueInfo.Data,
          PreSetValueInfo.DataSize,
          REGFLTR_CAPTURE_POOL_TAG));
        if (!NT_SUCCESS(Status)) {
          break;
        }
        Data = LocalData;
      } else {
        Data = PreSetValueInfo.Data;
      }

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
      // Get a handle to the root key the value is being created under.
      // This is in PreInfo->Object.
      //

      ({ status: Status, Handle: RootKey } = ObOpenObjectByPointer(PreSetValueInfo.Object,
        OBJ_KERNEL_HANDLE,
        null,
        KEY_ALL_ACCESS,
        null,
        KernelMode));

      if (!NT_SUCCESS(Status)) {
        ErrorPrint("ObObjectByPointer failed. Status 0x%x", Status);
        break;
      }

      //
      // Set a value with the "modified" name.
      //

      RtlInitUnicodeString(Name, MODIFIED_VALUE_NAME);
      Status = ZwSetValueKey(RootKey,
        Name,
        0,
        PreSetValueInfo.Type,
        Data,
        PreSetValueInfo.DataSize);

      if (!NT_SUCCESS(Status)) {
        ErrorPrint("ZwSetValue failed. Status 0x%x",
          Status);
        void ZwClose(RootKey);
        break;
      }

      //
      // Finally return STATUS_CALLBACK_BYPASS to tell the registry
      // not to proceed with the original registry operation and to return
      // STATUS_SUCCESS to the caller.
      //

      InfoPrint("\tCallback: Set value %wZ bypassed.", PreSetValueInfo.ValueName);
      Status = STATUS_CALLBACK_BYPASS;
      void ZwClose(RootKey);
      break;

    default:
      //
      // Do nothing for other notifications
      //
      break;
  }

  //
  // Free buffers used for capturing user mode values.
  //

  if (LocalClass.Buffer !== 0) {
    FreeCapturedUnicodeString(LocalClass, REGFLTR_CAPTURE_POOL_TAG);
  }

  if (LocalData !== 0) {
    FreeCapturedBuffer(LocalData, REGFLTR_CAPTURE_POOL_TAG);
  }

  return Status;
}
