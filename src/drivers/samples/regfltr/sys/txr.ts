/*++
Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    Txr.c (txr.ts)

Abstract:

    Samples that show how to handle transactional registry operations.

Environment:

    Kernel mode only

--*/

import { KPROCESSOR_MODE } from "../../../../ke/dispatcher.js";
import { NT_SUCCESS, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS, type NTSTATUS } from "../../../../ke/ntstatus.js";
import { ExFreePoolWithTag, POOL_TYPE } from "../../../../mm/pool.js";
import { ExAllocatePoolZero } from "../../../../mm/pool2.js";
import { InitializeObjectAttributes, OBJECT_ATTRIBUTES, OBJ_CASE_INSENSITIVE, OBJ_KERNEL_HANDLE } from "../../../../ob/attributes.js";
import type { HANDLE } from "../../../../ob/handle-table.js";
import { ObOpenObjectByPointer, ZwClose } from "../../../../ob/handles.js";
import { ExGetPreviousMode } from "../../../../ob/previous-mode.js";
import { RtlInitUnicodeString, UNICODE_STRING, unicodeStringText } from "../../../../rtl/unicode-string.js";
import { TRANSACTION_NOTIFY_COMMIT, TRANSACTION_NOTIFY_ROLLBACK } from "../../../../tm/notification.js";
import { ENLISTMENT_SUBORDINATE_RIGHTS, TmTransactionObjectType, TRANSACTION_ALL_ACCESS } from "../../../../tm/object-types.js";
import { ZwCommitTransaction, ZwCreateTransaction, ZwRollbackTransaction } from "../../../../tm/transaction.js";
import type { REG_CREATE_KEY_INFORMATION } from "../../../../cm/callback-information.js";
import { CmGetBoundTransaction, CmRegisterCallbackEx, CmUnRegisterCallback } from "../../../../cm/callbacks.js";
import { REG_NOTIFY_CLASS } from "../../../../cm/notify-class.js";
import { KEY_ALL_ACCESS, ZwCreateKey, ZwDeleteKey, ZwOpenKey } from "../../../../cm/zw.js";
import { ZwCreateKeyTransacted, ZwOpenKeyTransacted } from "../../../../cm/zw-transacted.js";
import { CALLBACK_ALTITUDE, CALLBACK_MODE, KEY_NAME, MODIFIED_KEY_NAME, ROOT_KEY_ABS_PATH } from "../common.js";
import { CaptureUnicodeString, FreeCapturedUnicodeString } from "./capture.js";
import { Callback } from "./regfltr.js";
import {
  ErrorPrint, globals, InfoPrint, REGFLTR_CAPTURE_POOL_TAG, REGFLTR_CONTEXT_POOL_TAG, RMCALLBACK_CONTEXT, SIZEOF_RMCALLBACK_CONTEXT,
  type CALLBACK_CONTEXT,
} from "./regfltr-header.js";
import { EnlistInTransaction } from "./txrutil.js";
import { CreateCallbackContext } from "./util.js";

const { KernelMode, UserMode } = KPROCESSOR_MODE;
const { RegNtPreCreateKeyEx } = REG_NOTIFY_CLASS;
const { PagedPool } = POOL_TYPE;


/** TransactionEnlistSample: a callback enlists in the transaction of a transacted key create and is told of its commit. */
export async function TransactionEnlistSample(
): Promise<boolean>
/*++

Routine Description:

    This sample shows how to enlist to a transaction that a registry operation
    is part of inorder to get notifications when it commits or aborts.

Return Value:

    TRUE if the sample completed successfully.

--*/
{
  let CallbackCtx: CALLBACK_CONTEXT | null = null;
  let RMCallbackCtx: RMCALLBACK_CONTEXT | null = null;
  let Status: NTSTATUS;
  const Name = new UNICODE_STRING();
  const KeyAttributes = new OBJECT_ATTRIBUTES();
  const TxAttributes = new OBJECT_ATTRIBUTES();
  let Key: HANDLE = 0;
  let Transaction: HANDLE = 0;
  let Success = false;

  InfoPrint("");
  InfoPrint("=== Transaction Enlist Sample ====");

  Exit: {

    if (!globals.g_RMCreated) {
      ErrorPrint("Sample can't run because KTM data structures were not successfully created.");
      break Exit;
    }

    //
    // Create the registry callback context and the transaction callback context.
    //

    CallbackCtx = CreateCallbackContext(CALLBACK_MODE.CALLBACK_MODE_TRANSACTION_ENLIST,
      CALLBACK_ALTITUDE);
    if (CallbackCtx === null) {
      break Exit;
    }

    const Address = ExAllocatePoolZero(
      PagedPool,
      SIZEOF_RMCALLBACK_CONTEXT,
      REGFLTR_CONTEXT_POOL_TAG);

    if (Address === 0) {
      break Exit;
    }
    RMCallbackCtx = new RMCALLBACK_CONTEXT(Address);

    CallbackCtx.RMCallbackCtx = RMCallbackCtx;

    //
    // Create a transaction
    //

    InitializeObjectAttributes(TxAttributes,
      null,
      OBJ_KERNEL_HANDLE,
      null,
      null);

    ({ status: Status, TransactionHandle: Transaction } = ZwCreateTransaction(
      TRANSACTION_ALL_ACCESS,
      TxAttributes,
      null,
      null,
      0,
      0,
      0,
      null,
      null));

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CreateTransaction failed. Status 0x%x", Status);
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
      Success = false;
    }

    Success = true;

    //
    // Create a key
    //

    RtlInitUnicodeString(Name, KEY_NAME);
    InitializeObjectAttributes(KeyAttributes,
      unicodeStringText(Name),
      OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
      globals.g_RootKey,
      null);

    ({ status: Status, KeyHandle: Key } = ZwCreateKeyTransacted(
      KEY_ALL_ACCESS,
      KeyAttributes,
      0,
      null,
      0,
      Transaction));

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("ZwCreateKeyTransacted failed. Status 0x%x", Status);
      Success = false;
    }

    //
    // Commit the transaction
    //

    Status = await ZwCommitTransaction(Transaction, true);

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("ZwCommitTransaction failed. Status 0x%x", Status);
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
    // Check that the transaction callback context records a commit notification
    //

    if (RMCallbackCtx.Notification !== TRANSACTION_NOTIFY_COMMIT) {
      ErrorPrint("RMContext notification mask is 0x%x instead of 0x%x.",
        RMCallbackCtx.Notification,
        TRANSACTION_NOTIFY_COMMIT);
      Success = false;
    }

  }

  //
  // Clean up
  //

  if (Transaction !== 0) {
    await ZwClose(Transaction);
  }

  //
  // Need to reopen the key to delete it because the previous
  // handle was part of a transaction that is now gone.
  //

  if (Key !== 0) {
    await ZwClose(Key);
    Key = 0;
  }

  RtlInitUnicodeString(Name, KEY_NAME);
  InitializeObjectAttributes(KeyAttributes,
    unicodeStringText(Name),
    OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
    globals.g_RootKey,
    null);

  ({ KeyHandle: Key } = ZwOpenKey(KEY_ALL_ACCESS, KeyAttributes));

  if (Key !== 0) {
    ZwDeleteKey(Key);
    await ZwClose(Key);
  }

  if (CallbackCtx !== null) {
    ExFreePoolWithTag(CallbackCtx.Address, REGFLTR_CONTEXT_POOL_TAG);
  }

  if (RMCallbackCtx !== null) {
    ExFreePoolWithTag(RMCallbackCtx.Address, REGFLTR_CONTEXT_POOL_TAG);
  }

  if (Success) {
    InfoPrint("Transaction Enlist Demo succeeded.");
  } else {
    ErrorPrint("Transaction Enlist Demo FAILED.");
  }

  return Success;

}


/** CallbackTransactionEnlist: enlists the driver's resource manager in a pre-create's transaction (commit and rollback notifications). */
export function CallbackTransactionEnlist(
  CallbackCtx: CALLBACK_CONTEXT,
  NotifyClass: REG_NOTIFY_CLASS,
  Argument2: object,
): NTSTATUS
/*++

Routine Description:

    This helper callback routine shows hot to enlist on a transaction.

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
  let Transaction: object | null = null;

  switch (NotifyClass) {

    case RegNtPreCreateKeyEx:

      PreCreateInfo = Argument2 as REG_CREATE_KEY_INFORMATION;

      //
      // Get the transaction object
      //

      Transaction = PreCreateInfo.Transaction;

      if (Transaction === null) {

        //
        // Even if the transaction is not provided in the
        // REG_Xxx_INFORMATION, we need to call CmGetBoundTransaction
        // on the RootObject to check that it isn't associated with
        // a transaction.
        //

        Transaction = CmGetBoundTransaction(CallbackCtx.Cookie,
          PreCreateInfo.RootObject);

        if (Transaction === null) {
          ErrorPrint("CreateKey is unexpectedly not transacted.");
          break;
        }
      }

      //
      // Use the volatile RM created in CreateKTMResourceManager()
      // to enlist in the transaction. We want notifications for
      // when the transaction commits or rolls back.
      //
      // Note: Make sure the callback routine handles all the
      // notifications requested here. Look at RMCallback() to see
      // how to handle notifications.
      //

      ({ Status, EnlistmentHandle: CallbackCtx.RMCallbackCtx!.Enlistment } = EnlistInTransaction(
        ENLISTMENT_SUBORDINATE_RIGHTS,
        Transaction,
        TRANSACTION_NOTIFY_COMMIT |
        TRANSACTION_NOTIFY_ROLLBACK,
        CallbackCtx.RMCallbackCtx));

      if (!NT_SUCCESS(Status)) {
        ErrorPrint("EnlistInTransaction failed. Status 0x%x.", Status);
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


/** TransactionReplaySample: a callback replays a transacted key create under another name in the same transaction; rollback removes both. */
export async function TransactionReplaySample(
): Promise<boolean>
/*++

Routine Description:

    This sample shows how to copy a transactional create key operation.

Return Value:

    TRUE if the sample completed successfully.

--*/
{
  let CallbackCtx: CALLBACK_CONTEXT | null = null;
  let Status: NTSTATUS;
  const Name = new UNICODE_STRING();
  const KeyAttributes = new OBJECT_ATTRIBUTES();
  const TxAttributes = new OBJECT_ATTRIBUTES();
  let Key: HANDLE = 0;
  let Transaction: HANDLE = 0;
  let TransactedRoot: HANDLE = 0;
  let bSuccess = false;

  InfoPrint("");
  InfoPrint("=== Transaction Replay Sample ====");

  Exit: {

    if (!globals.g_RMCreated) {
      ErrorPrint("Sample can't run because KTM data structures were not successfully created.");
      break Exit;
    }

    //
    // Create the callback context
    //

    CallbackCtx = CreateCallbackContext(CALLBACK_MODE.CALLBACK_MODE_TRANSACTION_REPLAY,
      CALLBACK_ALTITUDE);

    if (CallbackCtx === null) {
      break Exit;
    }

    //
    // Create a transaction
    //

    InitializeObjectAttributes(TxAttributes,
      null,
      OBJ_KERNEL_HANDLE,
      null,
      null);

    ({ status: Status, TransactionHandle: Transaction } = ZwCreateTransaction(
      TRANSACTION_ALL_ACCESS,
      TxAttributes,
      null,
      null,
      0,
      0,
      0,
      null,
      null));

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CreateTransaction failed. Status 0x%x", Status);
      break Exit;
    }

    //
    // Open a transacted handle to the root key
    //

    RtlInitUnicodeString(Name, ROOT_KEY_ABS_PATH);
    InitializeObjectAttributes(KeyAttributes,
      unicodeStringText(Name),
      OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
      null,
      null);

    ({ status: Status, KeyHandle: TransactedRoot } = ZwOpenKeyTransacted(
      KEY_ALL_ACCESS,
      KeyAttributes,
      Transaction));

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("ZwOpenKeyTransacted failed. Status 0x%x", Status);
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

    bSuccess = true;

    //
    // Create a key using the transacted root key handle.
    //

    RtlInitUnicodeString(Name, KEY_NAME);
    InitializeObjectAttributes(KeyAttributes,
      unicodeStringText(Name),
      OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
      TransactedRoot,
      null);

    ({ status: Status, KeyHandle: Key } = ZwCreateKey(
      KEY_ALL_ACCESS,
      KeyAttributes,
      0,
      null,
      0));

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("ZwCreateKey failed. Status 0x%x", Status);
      bSuccess = false;
    }

    //
    // Unregister the callback
    //

    Status = CmUnRegisterCallback(CallbackCtx.Cookie);

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CmUnRegisterCallback failed. Status 0x%x", Status);
      bSuccess = false;
    }

    //
    // Verify that the key created exists and that a key with the
    // "modified" name is also exists.
    //

    if (Key !== 0) {
      await ZwClose(Key);
      Key = 0;
    }

    ({ status: Status, KeyHandle: Key } = ZwOpenKey(KEY_ALL_ACCESS,
      KeyAttributes));

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("ZwCreateKey failed. Status 0x%x", Status);
      bSuccess = false;
    } else {
      await ZwClose(Key);
      Key = 0;
    }

    RtlInitUnicodeString(Name, MODIFIED_KEY_NAME);
    InitializeObjectAttributes(KeyAttributes,
      unicodeStringText(Name),
      OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
      TransactedRoot,
      null);

    ({ status: Status, KeyHandle: Key } = ZwOpenKey(KEY_ALL_ACCESS,
      KeyAttributes));

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("ZwCreateKey failed. Status 0x%x", Status);
      bSuccess = false;
    } else {
      await ZwClose(Key);
      Key = 0;
    }

    //
    // Roll back transaction
    //

    Status = await ZwRollbackTransaction(Transaction, true);

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("ZwRollbackTransaction failed. Status 0x%x", Status);
      bSuccess = false;
      break Exit;
    }

    //
    // Check that both keys no longer exist.
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
      ErrorPrint("ZwOpenKey returned unexpected status 0x%x. Expected 0x%x",
        Status,
        STATUS_OBJECT_NAME_NOT_FOUND);
      bSuccess = false;
    }

    if (Key !== 0) {
      ZwDeleteKey(Key);
      await ZwClose(Key);
      Key = 0;
    }

    RtlInitUnicodeString(Name, MODIFIED_KEY_NAME);
    InitializeObjectAttributes(KeyAttributes,
      unicodeStringText(Name),
      OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
      globals.g_RootKey,
      null);

    ({ status: Status, KeyHandle: Key } = ZwOpenKey(KEY_ALL_ACCESS,
      KeyAttributes));

    if (Status !== STATUS_OBJECT_NAME_NOT_FOUND) {
      ErrorPrint("ZwOpenKey returned unexpected status 0x%x. Expected 0x%x",
        Status,
        STATUS_OBJECT_NAME_NOT_FOUND);
      bSuccess = false;
    }

  }

  //
  // Clean up
  //

  if (Key !== 0) {
    ZwDeleteKey(Key);
    await ZwClose(Key);
  }

  if (TransactedRoot !== 0) {
    ZwDeleteKey(TransactedRoot);
    await ZwClose(TransactedRoot);
  }

  if (Transaction !== 0) {
    await ZwClose(Transaction);
  }

  if (CallbackCtx !== null) {
    ExFreePoolWithTag(CallbackCtx.Address, REGFLTR_CONTEXT_POOL_TAG);
  }

  if (bSuccess) {
    InfoPrint("Transaction Replay Sample succeeded.");
  } else {
    ErrorPrint("Transaction Replay Sample FAILED.");
  }

  return bSuccess;
}


/** CallbackTransactionReplay: replays a transacted pre-create as a create of MODIFIED_KEY_NAME in the same transaction. */
export function CallbackTransactionReplay(
  CallbackCtx: CALLBACK_CONTEXT,
  NotifyClass: REG_NOTIFY_CLASS,
  Argument2: object,
): NTSTATUS
/*++

Routine Description:

    This helper callback routine shows how to get the transaction associated
    with a registry operation and shows how to do another operation in the
    same transaction.

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
  let TransactionHandle: HANDLE = 0;
  let Transaction: object | null = null;
  const KeyAttributes = new OBJECT_ATTRIBUTES();
  const Name = new UNICODE_STRING();
  const LocalClass = new UNICODE_STRING();
  let Class: UNICODE_STRING | null = null;
  let Key: HANDLE = 0;
  let RootKey: HANDLE = 0;
  let Mode = KernelMode;

  switch (NotifyClass) {

    case RegNtPreCreateKeyEx:

      PreCreateInfo = Argument2 as REG_CREATE_KEY_INFORMATION;

      //
      // Get the transaction object
      //

      Transaction = PreCreateInfo.Transaction;

      if (Transaction === null) {

        //
        // Even if the transaction is not provided in the
        // REG_Xxx_INFORMATION, we need to call CmGetBoundTransaction
        // on the RootObject to check that it isn't associated with
        // a transaction.
        //

        Transaction = CmGetBoundTransaction(CallbackCtx.Cookie,
          PreCreateInfo.RootObject);

        if (Transaction === null) {
          ErrorPrint("CreateKey is unexpectedly not transacted.");
          break;
        }
      }

      //
      // Get a handle to the transaction object
      //

      ({ status: Status, Handle: TransactionHandle } = ObOpenObjectByPointer(Transaction,
        OBJ_KERNEL_HANDLE,
        null,
        TRANSACTION_ALL_ACCESS,
        TmTransactionObjectType,
        KernelMode));

      if (!NT_SUCCESS(Status)) {
        ErrorPrint("ObReferenceObjectByPointer failed. Status 0x%x", Status);
        break;
      }

      //
      // Next replay the create key using the transacted version of the
      // API and the transaction handle.
      //

      ({ status: Status, Handle: RootKey } = ObOpenObjectByPointer(PreCreateInfo.RootObject,
        OBJ_KERNEL_HANDLE,
        null,
        KEY_ALL_ACCESS,  // Getting handle with all access
        PreCreateInfo.ObjectType,
        KernelMode));

      if (!NT_SUCCESS(Status)) {
        ErrorPrint("ObReferenceObjectByPointer failed. Status 0x%x", Status);
        break;
      }

      //
      // REG_CREATE_KEY_INFORMATION is a partially structure. The class
      // field's buffer is not captured. Since it is passed to
      // ZwCreateKeyTransacted, it needs to be captured.
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

      RtlInitUnicodeString(Name, MODIFIED_KEY_NAME);
      InitializeObjectAttributes(KeyAttributes,
        unicodeStringText(Name),
        OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
        RootKey,
        PreCreateInfo.SecurityDescriptor);

      ({ status: Status, KeyHandle: Key, Disposition: PreCreateInfo.Disposition } = ZwCreateKeyTransacted(
        KEY_ALL_ACCESS,
        KeyAttributes,
        0,
        Class,
        PreCreateInfo.CreateOptions,
        TransactionHandle));

      void ZwClose(RootKey);
      void ZwClose(TransactionHandle);

      if (!NT_SUCCESS(Status)) {
        ErrorPrint("ZwCreateKeyTransacted failed. Status 0x%x.", Status);
        break;
      }

      void ZwClose(Key);

      InfoPrint("\tCallback: Create key %wZ replayed in same transaction context.",
        PreCreateInfo.CompleteName);

      Status = STATUS_SUCCESS;
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

  return Status;
}
