/*++
Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    regfltr.c (regfltr.ts)

Abstract:

    Sample driver used to run the kernel mode registry callback samples.

    Registry callbacks run to completion, so a callback closes a key handle with
    `void ZwClose(...)`: closing a key handle does its work before ZwClose returns.

Environment:

    Kernel mode only

--*/

import type { DEVICE_OBJECT } from "../../../../io/objects.js";
import { IoGetCurrentIrpStackLocation, type IRP } from "../../../../io/irp.js";
import {
  NT_SUCCESS, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS, STATUS_UNSUCCESSFUL,
  type NTSTATUS,
} from "../../../../ke/ntstatus.js";
import { readU32, readU64, writeU32, writeU64, writeU8, type PVOID } from "../../../../mm/memory.js";
import { InitializeObjectAttributes, OBJECT_ATTRIBUTES, OBJ_CASE_INSENSITIVE, OBJ_KERNEL_HANDLE } from "../../../../ob/attributes.js";
import type { HANDLE } from "../../../../ob/handle-table.js";
import { ZwClose } from "../../../../ob/handles.js";
import { PsGetCurrentProcessId } from "../../../../ps/current.js";
import { wideText } from "../../../../rtl/guest-text.js";
import { RtlInitUnicodeString, UNICODE_STRING, unicodeStringText } from "../../../../rtl/unicode-string.js";
import { CmGetCallbackVersion, CmRegisterCallbackEx, CmUnRegisterCallback } from "../../../../cm/callbacks.js";
import { REG_NOTIFY_CLASS } from "../../../../cm/notify-class.js";
import { KEY_ALL_ACCESS, ZwCreateKey, ZwDeleteKey, ZwOpenKey } from "../../../../cm/zw.js";
import {
  CALLBACK_MODE, DO_KERNELMODE_SAMPLES_OUTPUT_SampleResults, GET_CALLBACK_VERSION_OUTPUT_MajorVersion, GET_CALLBACK_VERSION_OUTPUT_MinorVersion,
  KERNELMODE_SAMPLE, KEY_NAME, MAX_ALTITUDE_BUFFER_LENGTH, MODIFIED_KEY_NAME, NOT_MODIFIED_KEY_NAME, REGISTER_CALLBACK_INPUT_Altitude,
  REGISTER_CALLBACK_INPUT_CallbackMode, REGISTER_CALLBACK_OUTPUT_Cookie, ROOT_KEY_ABS_PATH, SIZEOF_DO_KERNELMODE_SAMPLES_OUTPUT,
  SIZEOF_GET_CALLBACK_VERSION_OUTPUT, SIZEOF_REGISTER_CALLBACK_INPUT, SIZEOF_REGISTER_CALLBACK_OUTPUT, SIZEOF_UNREGISTER_CALLBACK_INPUT,
  UNREGISTER_CALLBACK_INPUT_Cookie,
} from "../common.js";
import { NT_ASSERT } from "../../../../ke/debug-print.js";
import { TmCommitComplete, TmRollbackComplete } from "../../../../tm/enlistment.js";
import { TRANSACTION_NOTIFY_COMMIT, TRANSACTION_NOTIFY_ROLLBACK, type TM_VIRTUAL_CLOCK } from "../../../../tm/notification.js";
import { CallbackCapture } from "./capture.js";
import { CallbackSetCallContext, CallbackSetObjectContext, SetCallContextSample, SetObjectContextSample } from "./context.js";
import { CallbackMonitor, CallbackMultipleAltitude, MultipleAltitudeBlockDuringPreSample, MultipleAltitudeInternalInvocationSample } from "./multialt.js";
import { CallbackPostNotificationOverrideError, CallbackPostNotificationOverrideSuccess, PostNotificationOverrideErrorSample, PostNotificationOverrideSuccessSample } from "./post.js";
import { CallbackPreNotificationBlock, CallbackPreNotificationBypass, PreNotificationBlockSample, PreNotificationBypassSample } from "./pre.js";
import { CALLBACK_CONTEXT, ErrorPrint, globals, InfoPrint, type RMCALLBACK_CONTEXT } from "./regfltr-header.js";
import { CallbackTransactionEnlist, CallbackTransactionReplay, TransactionEnlistSample, TransactionReplaySample } from "./txr.js";
import { CreateCallbackContext, DeleteCallbackContext, FindAndRemoveCallbackContext, InsertCallbackContext } from "./util.js";
import { CallbackBugcheck, CallbackCreateOpenV1, CreateOpenV1Sample } from "./version.js";

const {
  RegNtPreDeleteKey, RegNtPreSetValueKey, RegNtPreDeleteValueKey, RegNtPreSetInformationKey, RegNtPreRenameKey, RegNtPreEnumerateKey,
  RegNtPreEnumerateValueKey, RegNtPreQueryKey, RegNtPreQueryValueKey, RegNtPreQueryMultipleValueKey, RegNtPreKeyHandleClose, RegNtPreCreateKeyEx,
  RegNtPreOpenKeyEx, RegNtPreFlushKey, RegNtPreLoadKey, RegNtPreUnLoadKey, RegNtPreQueryKeySecurity, RegNtPreSetKeySecurity, RegNtPreRestoreKey,
  RegNtPreSaveKey, RegNtPreReplaceKey, RegNtPostDeleteKey, RegNtPostSetValueKey, RegNtPostDeleteValueKey, RegNtPostSetInformationKey,
  RegNtPostRenameKey, RegNtPostEnumerateKey, RegNtPostEnumerateValueKey, RegNtPostQueryKey, RegNtPostQueryValueKey,
  RegNtPostQueryMultipleValueKey, RegNtPostKeyHandleClose, RegNtPostCreateKeyEx, RegNtPostOpenKeyEx, RegNtPostFlushKey, RegNtPostLoadKey,
  RegNtPostUnLoadKey, RegNtPostQueryKeySecurity, RegNtPostSetKeySecurity, RegNtPostRestoreKey, RegNtPostSaveKey, RegNtPostReplaceKey,
  RegNtCallbackObjectContextCleanup,
} = REG_NOTIFY_CLASS;


/** Callback: the registry callback every sample registers; dispatches on the context's CallbackMode. */
export function Callback(
  CallbackContext: unknown,
  Argument1: REG_NOTIFY_CLASS,
  Argument2: object,
): NTSTATUS
/*++

Routine Description:

    This is the registry callback we'll register to intercept all registry
    operations.

Arguments:

    CallbackContext - The value that the driver passed to the Context parameter
        of CmRegisterCallbackEx when it registers this callback routine.

    Argument1 - A REG_NOTIFY_CLASS typed value that identifies the type of
        registry operation that is being performed and whether the callback
        is being called in the pre or post phase of processing.

    Argument2 - A pointer to a structure that contains information specific
        to the type of the registry operation. The structure type depends
        on the REG_NOTIFY_CLASS value of Argument1. Refer to MSDN for the
        mapping from REG_NOTIFY_CLASS to REG_XXX_KEY_INFORMATION.

Return Value:

    Status returned from the helper callback routine or STATUS_SUCCESS if
    the registry operation did not originate from this process.

--*/
{

  let Status: NTSTATUS = STATUS_SUCCESS;
  let NotifyClass: REG_NOTIFY_CLASS;
  let CallbackCtx: CALLBACK_CONTEXT;

  CallbackCtx = CallbackContext as CALLBACK_CONTEXT;
  NotifyClass = Argument1;

  //
  // Ignore registry activity from other processes. If this callback
  // wasn't registered by the current process, simply return success.
  //

  if (CallbackCtx.ProcessId !== PsGetCurrentProcessId()) {
    return STATUS_SUCCESS;
  }

  InfoPrint("\tCallback: Altitude-%S, NotifyClass-%S.",
    wideText(CallbackCtx.AltitudeBuffer),
    GetNotifyClassString(NotifyClass));

  //
  // Invoke a helper method depending on the value of CallbackMode in
  // CallbackCtx.
  //

  if (Argument2 === null) {

    //
    // This should never happen but the sal annotation on the callback
    // function marks Argument 2 as opt and is looser than what
    // it actually is.
    //

    ErrorPrint("\tCallback: Argument 2 unexpectedly 0. Filter will "
      + "abort and return success.");
    return STATUS_SUCCESS;
  }

  switch (CallbackCtx.CallbackMode) {
    case CALLBACK_MODE.CALLBACK_MODE_PRE_NOTIFICATION_BLOCK:
      Status = CallbackPreNotificationBlock(CallbackCtx, NotifyClass, Argument2);
      break;
    case CALLBACK_MODE.CALLBACK_MODE_PRE_NOTIFICATION_BYPASS:
      Status = CallbackPreNotificationBypass(CallbackCtx, NotifyClass, Argument2);
      break;
    case CALLBACK_MODE.CALLBACK_MODE_POST_NOTIFICATION_OVERRIDE_SUCCESS:
      Status = CallbackPostNotificationOverrideSuccess(CallbackCtx, NotifyClass, Argument2);
      break;
    case CALLBACK_MODE.CALLBACK_MODE_POST_NOTIFICATION_OVERRIDE_ERROR:
      Status = CallbackPostNotificationOverrideError(CallbackCtx, NotifyClass, Argument2);
      break;
    case CALLBACK_MODE.CALLBACK_MODE_TRANSACTION_ENLIST:
      Status = CallbackTransactionEnlist(CallbackCtx, NotifyClass, Argument2);
      break;
    case CALLBACK_MODE.CALLBACK_MODE_TRANSACTION_REPLAY:
      Status = CallbackTransactionReplay(CallbackCtx, NotifyClass, Argument2);
      break;
    case CALLBACK_MODE.CALLBACK_MODE_SET_OBJECT_CONTEXT:
      Status = CallbackSetObjectContext(CallbackCtx, NotifyClass, Argument2);
      break;
    case CALLBACK_MODE.CALLBACK_MODE_SET_CALL_CONTEXT:
      Status = CallbackSetCallContext(CallbackCtx, NotifyClass, Argument2);
      break;
    case CALLBACK_MODE.CALLBACK_MODE_MULTIPLE_ALTITUDE_MONITOR:
      Status = CallbackMonitor(CallbackCtx, NotifyClass, Argument2);
      break;
    case CALLBACK_MODE.CALLBACK_MODE_MULTIPLE_ALTITUDE_BLOCK_DURING_PRE:
    case CALLBACK_MODE.CALLBACK_MODE_MULTIPLE_ALTITUDE_INTERNAL_INVOCATION:
      Status = CallbackMultipleAltitude(CallbackCtx, NotifyClass, Argument2);
      break;
    case CALLBACK_MODE.CALLBACK_MODE_CAPTURE:
      Status = CallbackCapture(CallbackCtx, NotifyClass, Argument2);
      break;
    case CALLBACK_MODE.CALLBACK_MODE_VERSION_BUGCHECK:
      Status = CallbackBugcheck(CallbackCtx, NotifyClass, Argument2);
      break;
    case CALLBACK_MODE.CALLBACK_MODE_VERSION_CREATE_OPEN_V1:
      Status = CallbackCreateOpenV1(CallbackCtx, NotifyClass, Argument2);
      break;
    default:
      ErrorPrint("Unknown Callback Mode: %d", CallbackCtx.CallbackMode);
      Status = STATUS_INVALID_PARAMETER;
  }


  return Status;

}


/** RMCallback: the resource manager's transaction callback: records the notification, completes it and closes the enlistment handle. */
export function RMCallback(
  EnlistmentObject: object,
  RMContext: unknown,
  TransactionContext: unknown,
  TransactionNotification: number,
  TMVirtualClock: TM_VIRTUAL_CLOCK,
  ArgumentLength: number,
  Argument: unknown,
): NTSTATUS
/*++

Routine Description:

    This callback recieves transaction notifications.

Arguments:

    EnlistmentObject - Enlistment that this notification is about

    RMContext - The value specified for the RMKey parameter of the
        TmEnableCallbacks routine

    TransactionContext - Value specified for the EnlistmentKey parameter
        of the ZwCreateEnlistment routine

    TransactionNotification - Type of notification

    TmVirtualClock - Pointer to virtual clock value of time when KTM prepared
        the notification.

    ArgumentLength - Length in bytes of the Argument buffer.

    Argument - Buffer containing notification-spcefic arguments.

Return Value:

    Always STATUS_SUCCESS

--*/
{
  const Context = TransactionContext as RMCALLBACK_CONTEXT;
  let Status: NTSTATUS = STATUS_SUCCESS;

  void RMContext; // UNREFERENCED_PARAMETER(RMContext);
  void ArgumentLength; // UNREFERENCED_PARAMETER(ArgumentLength);
  void Argument; // UNREFERENCED_PARAMETER(Argument);

  InfoPrint("\tRMCallback: NotifyClass-%S.",
    GetTransactionNotifyClassString(TransactionNotification));

  //
  // Transaction notifications are bit masks. Record which one(s)
  // this callback received.
  //

  Context.Notification |= TransactionNotification;

  //
  // Call the Tm*Complete methods to inform KTM that we have completed
  // processing. (Note: It is possible to use the Zw version of
  // these APIs as well).
  //
  // Make sure that all the notifications you request are handled. The
  // type of notification this routine gets is specified when you enlist
  // in a transaction.
  //

  switch (TransactionNotification) {
    case TRANSACTION_NOTIFY_COMMIT:
      Status = TmCommitComplete(EnlistmentObject,
        TMVirtualClock);
      break;
    case TRANSACTION_NOTIFY_ROLLBACK:
      Status = TmRollbackComplete(EnlistmentObject,
        TMVirtualClock);
      break;
    default:
      ErrorPrint("Unsupported Transaction Notification: %x",
        TransactionNotification);
      NT_ASSERT(false);
  }

  //
  // It is safe to close the enlistment handle here.
  // Closing it before the transaction aborts or commits will abort
  // the transaction.
  //

  if (Context.Enlistment !== 0) {
    void ZwClose(Context.Enlistment);
    Context.Enlistment = 0;
  }

  return Status;

}



/** DoCallbackSamples: IOCTL_DO_KERNELMODE_SAMPLES: creates the root test key, runs each kernel-mode sample and returns their results. */
export async function DoCallbackSamples(
  DeviceObject: DEVICE_OBJECT,
  Irp: IRP,
): Promise<NTSTATUS>
/*++

Routine Description:

    This routine creates the root test key and then invokes the sample.
    It records the results of each sample in an array that it returns to
    the usermode program.

Arguments:

    DeviceObject - The device object receiving the request.

    Irp - The request packet.

Return Value:

    NTSTATUS

--*/
{
  let Status: NTSTATUS;
  let OutputBufferLength: number;
  let Output: PVOID;
  const KeyPath = new UNICODE_STRING();
  const KeyAttributes = new OBJECT_ATTRIBUTES();

  void DeviceObject; // UNREFERENCED_PARAMETER(DeviceObject);

  Exit: {

    //
    // Get the output buffer from the irp and check it is as large as expected.
    //

    const IrpStack = IoGetCurrentIrpStackLocation(Irp);

    OutputBufferLength = IrpStack.Parameters.DeviceIoControl.OutputBufferLength;

    if (OutputBufferLength < SIZEOF_DO_KERNELMODE_SAMPLES_OUTPUT) {
      Status = STATUS_INVALID_PARAMETER;
      break Exit;
    }

    Output = Irp.AssociatedIrp.SystemBuffer + DO_KERNELMODE_SAMPLES_OUTPUT_SampleResults;

    //
    // Clean up test keys in case the sample terminated uncleanly.
    //

    await DeleteTestKeys();

    //
    // Create the root key and the modified root key
    //

    RtlInitUnicodeString(KeyPath, ROOT_KEY_ABS_PATH);
    InitializeObjectAttributes(KeyAttributes,
      unicodeStringText(KeyPath),
      OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
      null,
      null);

    ({ status: Status, KeyHandle: globals.g_RootKey } = ZwCreateKey(
      KEY_ALL_ACCESS,
      KeyAttributes,
      0,
      null,
      0));

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("ZwCreateKey failed. Status 0x%x", Status);
      return Status;
    }

    //
    // Call each demo and record the results in the Output->SampleResults
    // array
    //

    writeU8(Output + KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_PRE_NOTIFICATION_BLOCK,
      await PreNotificationBlockSample() ? 1 : 0);

    writeU8(Output + KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_PRE_NOTIFICATION_BYPASS,
      await PreNotificationBypassSample() ? 1 : 0);

    writeU8(Output + KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_POST_NOTIFICATION_OVERRIDE_SUCCESS,
      await PostNotificationOverrideSuccessSample() ? 1 : 0);

    writeU8(Output + KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_POST_NOTIFICATION_OVERRIDE_ERROR,
      await PostNotificationOverrideErrorSample() ? 1 : 0);

    writeU8(Output + KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_TRANSACTION_ENLIST,
      await TransactionEnlistSample() ? 1 : 0);

    writeU8(Output + KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_TRANSACTION_REPLAY,
      await TransactionReplaySample() ? 1 : 0);

    // (As in the C source, the set-call-context slot records SetObjectContextSample and
    // the set-object-context slot SetCallContextSample.)
    writeU8(Output + KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_SET_CALL_CONTEXT,
      await SetObjectContextSample() ? 1 : 0);

    writeU8(Output + KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_SET_OBJECT_CONTEXT,
      await SetCallContextSample() ? 1 : 0);

    writeU8(Output + KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_MULTIPLE_ALTITUDE_BLOCK_DURING_PRE,
      await MultipleAltitudeBlockDuringPreSample() ? 1 : 0);

    writeU8(Output + KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_MULTIPLE_ALTITUDE_INTERNAL_INVOCATION,
      await MultipleAltitudeInternalInvocationSample() ? 1 : 0);

    writeU8(Output + KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_VERSION_CREATE_OPEN_V1,
      await CreateOpenV1Sample() ? 1 : 0);

    Irp.IoStatus.Information = SIZEOF_DO_KERNELMODE_SAMPLES_OUTPUT;

  }

  if (globals.g_RootKey) {
    ZwDeleteKey(globals.g_RootKey);
    await ZwClose(globals.g_RootKey);
  }

  InfoPrint("");
  InfoPrint("Kernel Mode Samples End");
  InfoPrint("");

  return Status;
}


/** RegisterCallback: IOCTL_REGISTER_CALLBACK: registers Callback with the given mode and altitude; returns the cookie. */
export async function RegisterCallback(
  DeviceObject: DEVICE_OBJECT,
  Irp: IRP,
): Promise<NTSTATUS>
/*++

Routine Description:

    Registers a callback with the specified callback mode and altitude

Arguments:

    DeviceObject - The device object receiving the request.

    Irp - The request packet.

Return Value:

    Status from CmRegisterCallbackEx

--*/
{
  let Status: NTSTATUS = STATUS_SUCCESS;
  let InputBufferLength: number;
  let OutputBufferLength: number;
  let RegisterCallbackInput: PVOID;
  let RegisterCallbackOutput: PVOID;
  let CallbackCtx: CALLBACK_CONTEXT | null = null;

  Exit: {

    //
    // Get the input and output buffer from the irp and
    // check they are the expected size
    //

    const IrpStack = IoGetCurrentIrpStackLocation(Irp);

    InputBufferLength = IrpStack.Parameters.DeviceIoControl.InputBufferLength;
    OutputBufferLength = IrpStack.Parameters.DeviceIoControl.OutputBufferLength;

    if ((InputBufferLength < SIZEOF_REGISTER_CALLBACK_INPUT) ||
      (OutputBufferLength < SIZEOF_REGISTER_CALLBACK_OUTPUT)) {
      Status = STATUS_INVALID_PARAMETER;
      break Exit;
    }

    RegisterCallbackInput = Irp.AssociatedIrp.SystemBuffer;

    //
    // Create the callback context from the specified callback mode and altitude
    //

    CallbackCtx = CreateCallbackContext(readU32(RegisterCallbackInput + REGISTER_CALLBACK_INPUT_CallbackMode),
      wideText(RegisterCallbackInput + REGISTER_CALLBACK_INPUT_Altitude, MAX_ALTITUDE_BUFFER_LENGTH));

    if (CallbackCtx === null) {
      Status = STATUS_INSUFFICIENT_RESOURCES;
      break Exit;
    }

    //
    // Register the callback
    //

    ({ status: Status, Cookie: CallbackCtx.Cookie } = CmRegisterCallbackEx(Callback,
      CallbackCtx.Altitude,
      DeviceObject.DriverObject,
      CallbackCtx,
      null));
    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CmRegisterCallback failed. Status 0x%x", Status);
      break Exit;
    }

    if (!await InsertCallbackContext(CallbackCtx)) {
      Status = STATUS_UNSUCCESSFUL;
      break Exit;
    }

    //
    // Fill the output buffer with the Cookie received from registering the
    // callback and the pointer to the callback context.
    //

    RegisterCallbackOutput = Irp.AssociatedIrp.SystemBuffer;
    writeU64(RegisterCallbackOutput + REGISTER_CALLBACK_OUTPUT_Cookie, CallbackCtx.Cookie);
    Irp.IoStatus.Information = SIZEOF_REGISTER_CALLBACK_OUTPUT;

  }

  if (!NT_SUCCESS(Status)) {
    ErrorPrint("RegisterCallback failed. Status 0x%x", Status);
    if (CallbackCtx !== null) {
      DeleteCallbackContext(CallbackCtx);
    }
  } else {
    InfoPrint("RegisterCallback succeeded");
  }

  return Status;
}



/** UnRegisterCallback: IOCTL_UNREGISTER_CALLBACK: unregisters the callback with the given cookie and frees its context. */
export async function UnRegisterCallback(
  DeviceObject: DEVICE_OBJECT,
  Irp: IRP,
): Promise<NTSTATUS>
/*++

Routine Description:

    Unregisters a callback with the specified cookie and clean up the
    callback context.

Arguments:

    DeviceObject - The device object receiving the request.

    Irp - The request packet.

Return Value:

    Status from CmUnRegisterCallback

--*/
{
  let Status: NTSTATUS = STATUS_SUCCESS;
  let InputBufferLength: number;
  let UnRegisterCallbackInput: PVOID;
  let CallbackCtx: CALLBACK_CONTEXT | null;

  void DeviceObject; // UNREFERENCED_PARAMETER(DeviceObject);

  Exit: {

    //
    // Get the input buffer and check its size
    //

    const IrpStack = IoGetCurrentIrpStackLocation(Irp);

    InputBufferLength = IrpStack.Parameters.DeviceIoControl.InputBufferLength;

    if (InputBufferLength < SIZEOF_UNREGISTER_CALLBACK_INPUT) {
      Status = STATUS_INVALID_PARAMETER;
      break Exit;
    }

    UnRegisterCallbackInput = Irp.AssociatedIrp.SystemBuffer;
    const Cookie = Number(readU64(UnRegisterCallbackInput + UNREGISTER_CALLBACK_INPUT_Cookie));

    //
    // Unregister the callback with the cookie
    //

    Status = CmUnRegisterCallback(Cookie);

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CmUnRegisterCallback failed. Status 0x%x", Status);
      break Exit;
    }

    //
    // Free the callback context buffer
    //
    CallbackCtx = await FindAndRemoveCallbackContext(Cookie);
    if (CallbackCtx !== null) {
      DeleteCallbackContext(CallbackCtx);
    }

  }

  if (!NT_SUCCESS(Status)) {
    ErrorPrint("UnRegisterCallback failed. Status 0x%x", Status);
  } else {
    InfoPrint("UnRegisterCallback succeeded");
  }
  InfoPrint("");

  return Status;

}


/** GetCallbackVersion: IOCTL_GET_CALLBACK_VERSION: CmGetCallbackVersion's numbers into the output buffer. */
export function GetCallbackVersion(
  DeviceObject: DEVICE_OBJECT,
  Irp: IRP,
): NTSTATUS
/*++

Routine Description:

    Calls CmGetCallbackVersion

Arguments:

    DeviceObject - The device object receiving the request.

    Irp - The request packet.

Return Value:

    NTSTATUS

--*/
{
  let Status: NTSTATUS = STATUS_SUCCESS;
  let OutputBufferLength: number;
  let GetCallbackVersionOutput: PVOID;

  void DeviceObject; // UNREFERENCED_PARAMETER(DeviceObject);

  Exit: {

    //
    // Get the output buffer and verify its size
    //

    const IrpStack = IoGetCurrentIrpStackLocation(Irp);

    OutputBufferLength = IrpStack.Parameters.DeviceIoControl.OutputBufferLength;

    if (OutputBufferLength < SIZEOF_GET_CALLBACK_VERSION_OUTPUT) {
      Status = STATUS_INVALID_PARAMETER;
      break Exit;
    }

    GetCallbackVersionOutput = Irp.AssociatedIrp.SystemBuffer;

    //
    // Call CmGetCallbackVersion and store the results in the output buffer
    //

    const { Major, Minor } = CmGetCallbackVersion();
    writeU32(GetCallbackVersionOutput + GET_CALLBACK_VERSION_OUTPUT_MajorVersion, Major);
    writeU32(GetCallbackVersionOutput + GET_CALLBACK_VERSION_OUTPUT_MinorVersion, Minor);

    Irp.IoStatus.Information = SIZEOF_GET_CALLBACK_VERSION_OUTPUT;

  }

  if (!NT_SUCCESS(Status)) {
    ErrorPrint("GetCallbackVersion failed. Status 0x%x", Status);
  } else {
    InfoPrint("GetCallbackVersion succeeded");
  }

  return Status;
}


/** GetNotifyClassString: the name of a REG_NOTIFY_CLASS value. */
export function GetNotifyClassString(
  NotifyClass: REG_NOTIFY_CLASS,
): string
/*++

Routine Description:

    Converts from NotifyClass to a string

Arguments:

    NotifyClass - value that identifies the type of registry operation that
        is being performed

Return Value:

    Returns a string of the name of NotifyClass.

--*/
{
  switch (NotifyClass) {
    case RegNtPreDeleteKey: return "RegNtPreDeleteKey";
    case RegNtPreSetValueKey: return "RegNtPreSetValueKey";
    case RegNtPreDeleteValueKey: return "RegNtPreDeleteValueKey";
    case RegNtPreSetInformationKey: return "RegNtPreSetInformationKey";
    case RegNtPreRenameKey: return "RegNtPreRenameKey";
    case RegNtPreEnumerateKey: return "RegNtPreEnumerateKey";
    case RegNtPreEnumerateValueKey: return "RegNtPreEnumerateValueKey";
    case RegNtPreQueryKey: return "RegNtPreQueryKey";
    case RegNtPreQueryValueKey: return "RegNtPreQueryValueKey";
    case RegNtPreQueryMultipleValueKey: return "RegNtPreQueryMultipleValueKey";
    case RegNtPreKeyHandleClose: return "RegNtPreKeyHandleClose";
    case RegNtPreCreateKeyEx: return "RegNtPreCreateKeyEx";
    case RegNtPreOpenKeyEx: return "RegNtPreOpenKeyEx";
    case RegNtPreFlushKey: return "RegNtPreFlushKey";
    case RegNtPreLoadKey: return "RegNtPreLoadKey";
    case RegNtPreUnLoadKey: return "RegNtPreUnLoadKey";
    case RegNtPreQueryKeySecurity: return "RegNtPreQueryKeySecurity";
    case RegNtPreSetKeySecurity: return "RegNtPreSetKeySecurity";
    case RegNtPreRestoreKey: return "RegNtPreRestoreKey";
    case RegNtPreSaveKey: return "RegNtPreSaveKey";
    case RegNtPreReplaceKey: return "RegNtPreReplaceKey";

    case RegNtPostDeleteKey: return "RegNtPostDeleteKey";
    case RegNtPostSetValueKey: return "RegNtPostSetValueKey";
    case RegNtPostDeleteValueKey: return "RegNtPostDeleteValueKey";
    case RegNtPostSetInformationKey: return "RegNtPostSetInformationKey";
    case RegNtPostRenameKey: return "RegNtPostRenameKey";
    case RegNtPostEnumerateKey: return "RegNtPostEnumerateKey";
    case RegNtPostEnumerateValueKey: return "RegNtPostEnumerateValueKey";
    case RegNtPostQueryKey: return "RegNtPostQueryKey";
    case RegNtPostQueryValueKey: return "RegNtPostQueryValueKey";
    case RegNtPostQueryMultipleValueKey: return "RegNtPostQueryMultipleValueKey";
    case RegNtPostKeyHandleClose: return "RegNtPostKeyHandleClose";
    case RegNtPostCreateKeyEx: return "RegNtPostCreateKeyEx";
    case RegNtPostOpenKeyEx: return "RegNtPostOpenKeyEx";
    case RegNtPostFlushKey: return "RegNtPostFlushKey";
    case RegNtPostLoadKey: return "RegNtPostLoadKey";
    case RegNtPostUnLoadKey: return "RegNtPostUnLoadKey";
    case RegNtPostQueryKeySecurity: return "RegNtPostQueryKeySecurity";
    case RegNtPostSetKeySecurity: return "RegNtPostSetKeySecurity";
    case RegNtPostRestoreKey: return "RegNtPostRestoreKey";
    case RegNtPostSaveKey: return "RegNtPostSaveKey";
    case RegNtPostReplaceKey: return "RegNtPostReplaceKey";

    case RegNtCallbackObjectContextCleanup: return "RegNtCallbackObjectContextCleanup";

    default:
      return "Unsupported REG_NOTIFY_CLASS";
  }
}


/** GetTransactionNotifyClassString: the name of a TRANSACTION_NOTIFY_XXX value. */
export function GetTransactionNotifyClassString(
  TransactionNotifcation: number,
): string
/*++

Routine Description:

    Converts from TransactionNotification to a string

Arguments:

    TransactionNotification - value that identifies the type of
        transaction notification

Return Value:

    Returns a string of the name of TransactionNotification

--*/
{
  switch (TransactionNotifcation) {
    case TRANSACTION_NOTIFY_COMMIT: return "TRANSACTION_NOTIFY_COMMIT";
    case TRANSACTION_NOTIFY_ROLLBACK: return "TRANSACTION_NOTIFY_ROLLBACK";

    default:
      return "Unsupported Transaction Notification";
  }
}


/** DeleteTestKeys: deletes the root test key and its subkeys a previous run may have left. */
export async function DeleteTestKeys(
): Promise<void>
/*++


--*/
{
  let Status: NTSTATUS;
  const KeyPath = new UNICODE_STRING();
  const KeyAttributes = new OBJECT_ATTRIBUTES();
  let RootKey: HANDLE = 0;
  let ChildKey: HANDLE = 0;

  //
  // Check if the root key can be opened. If it can be opened, a previous
  // run must have not completed cleanly. Delete the key and recreate the
  // root key.
  //

  RtlInitUnicodeString(KeyPath, ROOT_KEY_ABS_PATH);
  InitializeObjectAttributes(KeyAttributes,
    unicodeStringText(KeyPath),
    OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
    null,
    null);

  ({ status: Status, KeyHandle: RootKey } = ZwOpenKey(KEY_ALL_ACCESS,
    KeyAttributes));

  if (Status === STATUS_OBJECT_NAME_NOT_FOUND) {
    return;
  } else if (!NT_SUCCESS(Status)) {
    ErrorPrint("Opening root key fails with unexpected status %x.", Status);
  }

  for (const Child of [KEY_NAME, NOT_MODIFIED_KEY_NAME, MODIFIED_KEY_NAME]) {

    // (The C routine repeats these lines for KEY_NAME, NOT_MODIFIED_KEY_NAME and MODIFIED_KEY_NAME.)
    RtlInitUnicodeString(KeyPath, Child);
    InitializeObjectAttributes(KeyAttributes,
      unicodeStringText(KeyPath),
      OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
      RootKey,
      null);

    ({ status: Status, KeyHandle: ChildKey } = ZwOpenKey(KEY_ALL_ACCESS,
      KeyAttributes));

    if (NT_SUCCESS(Status)) {
      ZwDeleteKey(ChildKey);
      await ZwClose(ChildKey);
      ChildKey = 0;
    } else if (Status !== STATUS_OBJECT_NAME_NOT_FOUND) {
      ErrorPrint("Opening %S key fails with unexpected status %x.",
        Child,
        Status);
    }
  }

  ZwDeleteKey(RootKey);
  await ZwClose(RootKey);

  return;

}
