/*++
Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    txrutil.c (txrutil.ts)

Abstract:

    Utility functions for working with transaction registry operations

Environment:

    Kernel mode only

--*/

import { KPROCESSOR_MODE } from "../../../../ke/dispatcher.js";
import { NT_SUCCESS, STATUS_SUCCESS, type NTSTATUS } from "../../../../ke/ntstatus.js";
import { ExUuidCreate } from "../../../../ke/uuid.js";
import type { ACCESS_MASK } from "../../../../ob/access.js";
import { InitializeObjectAttributes, OBJECT_ATTRIBUTES, OBJ_KERNEL_HANDLE } from "../../../../ob/attributes.js";
import type { HANDLE } from "../../../../ob/handle-table.js";
import { ObOpenObjectByPointer, ObReferenceObjectByHandle, ZwClose } from "../../../../ob/handles.js";
import { ObDereferenceObject } from "../../../../ob/reference.js";
import { ZwCreateEnlistment } from "../../../../tm/enlistment.js";
import type { TM_RM_NOTIFICATION } from "../../../../tm/notification.js";
import { RESOURCEMANAGER_ALL_ACCESS, TmTransactionObjectType, TRANSACTIONMANAGER_ALL_ACCESS, TRANSACTION_ALL_ACCESS } from "../../../../tm/object-types.js";
import {
  KRESOURCEMANAGER, RESOURCE_MANAGER_VOLATILE, TmEnableCallbacks, TRANSACTION_MANAGER_VOLATILE, ZwCreateResourceManager, ZwCreateTransactionManager,
} from "../../../../tm/resource-manager.js";
import { ErrorPrint, InfoPrint } from "./regfltr-header.js";

const { KernelMode } = KPROCESSOR_MODE;


let ResourceManager: HANDLE = 0;
let TransactionManager: HANDLE = 0;



/** CreateKTMResourceManager: a volatile transaction manager and resource manager whose callback is CallbackRoutine. */
export function CreateKTMResourceManager(
  CallbackRoutine: TM_RM_NOTIFICATION,
  RMKey: unknown,
): NTSTATUS
/*++

Routine Description:

    This method will create a volatile Transaction Manager (TM) and a volatile
    Resource Manager (RM) and enable callback notification through them.
    The RM created here is used to enlist onto a transaction so that the
    RMCallback routine will be called when the transaction commits or aborts.

Arguments:

    CallbackRoutine - the callback routine that will receive notifications
            from the resource manager.

    RMKey - a value that identifies the RM. It is passed to the callback
            routine when a notification is sent for an enlistment on this
            resource manager. The callback routine receives this value as
            input.

            Note: When you are enlisting to a transaction, you can pass in a
            context that is specific to that particular enlistment.

Return Value:

    NTSTATUS

--*/
{
  const ObjAttributes = new OBJECT_ATTRIBUTES();
  let RMObject: KRESOURCEMANAGER | null;
  let Status: NTSTATUS = STATUS_SUCCESS;
  let TMHandle: HANDLE = 0;
  let RMHandle: HANDLE = 0;
  let RMGuid: string;

  InfoPrint("Creating KTM Resource Manager");

  Exit: {

    //
    // Create a volatile TM.
    //

    InitializeObjectAttributes(ObjAttributes,
      null,
      OBJ_KERNEL_HANDLE,
      null,
      null);

    ({ status: Status, TmHandle: TMHandle } = ZwCreateTransactionManager(
      TRANSACTIONMANAGER_ALL_ACCESS,
      ObjAttributes,
      null,
      TRANSACTION_MANAGER_VOLATILE,
      0));

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CreateTransactionManager failed. Status 0x%x", Status);
      break Exit;
    }

    //
    // Create a volatile RM
    //

    ({ status: Status, Uuid: RMGuid } = ExUuidCreate());

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("ExUuidCreate failed. Status 0x%x", Status);
      break Exit;
    }

    InitializeObjectAttributes(ObjAttributes,
      null,
      OBJ_KERNEL_HANDLE,
      null,
      null);

    ({ status: Status, ResourceManagerHandle: RMHandle } = ZwCreateResourceManager(
      RESOURCEMANAGER_ALL_ACCESS,
      TMHandle,
      RMGuid,
      ObjAttributes,
      RESOURCE_MANAGER_VOLATILE,
      null));

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("CreateResourceManager failed. Status 0x%x", Status);
      break Exit;
    }

    //
    // Get a pointer to the RM object.
    //

    ({ status: Status, Object: RMObject } = ObReferenceObjectByHandle<KRESOURCEMANAGER>(RMHandle,
      0,
      null,
      KernelMode));

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("ObReferenceObjectbyHandle failed. Status 0x%x", Status);
      break Exit;
    }

    //
    // Enable callbacks. This is the callback routine that will
    // receive transaction notifications.
    //

    Status = TmEnableCallbacks(RMObject!,
      CallbackRoutine,
      RMKey);

    ObDereferenceObject(RMObject!);

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("TmEnableCallbacks failed. Status 0x%x", Status);
      break Exit;
    }

  }

  if (!NT_SUCCESS(Status)) {
    if (RMHandle !== 0) {
      void ZwClose(RMHandle);
    }
    if (TMHandle !== 0) {
      void ZwClose(TMHandle);
    }
  } else {
    ResourceManager = RMHandle;
    TransactionManager = TMHandle;
  }

  return Status;
}


/** EnlistInTransaction: enlists the driver's resource manager in the transaction object; returns the status and the EnlistmentHandle. */
export function EnlistInTransaction(
  DesiredAccess: ACCESS_MASK,
  Transaction: object,
  NotificationMask: number,
  EnlistmentKey: unknown,
): { Status: NTSTATUS; EnlistmentHandle: HANDLE }
/*++

Routine Description:

    This method is a wrapper around ZwCreateEnlistment. It outputs a handle
    to the enlistment object which represent's a resource manager's
    enlistment to a transaction. Enlisting to a transaction allows the
    resource manager to receive notifications about a transaction's events.

Arguments:

    EnlistmentHandle - Pointer to variable that receives the handle to the
                       new enlistment object (returned).

    DesiredAccess - Specifies the requested access to the enlistment object.

    Transaction - Transaction object

    NotificationMask - A bitwise OR of TRANSACTION_NOTIFY_Xxx values defined
                       in Ktmtypes.h. It specifies the types of transaction
                       notifications that KTM will send to the caller.

    EnlistmentKey - A caller-defined context value that uniquely identifies the
                    enlistment. The callback routine registered when callbacks
                    were enabled in the resource manager receives this value.

Return Value:

    NTSTATUS

--*/
{
  let Status: NTSTATUS;
  let TransactionHandle: HANDLE = 0;
  let EnlistmentHandle: HANDLE = 0;
  const ObjAttributes = new OBJECT_ATTRIBUTES();

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
    ErrorPrint("ObOpenObjectByPointer failed. Status 0x%x.", Status);
    return { Status, EnlistmentHandle };
  }

  //
  // Use the transaction handle and the volatile RM created in
  // CreateKTMResourceManager() to enlist to the transaction.
  //

  InitializeObjectAttributes(ObjAttributes,
    null,
    OBJ_KERNEL_HANDLE,
    null,
    null);

  ({ status: Status, EnlistmentHandle } = ZwCreateEnlistment(
    DesiredAccess,
    ResourceManager,
    TransactionHandle,
    ObjAttributes,
    0,
    NotificationMask,
    EnlistmentKey));

  void ZwClose(TransactionHandle);

  if (!NT_SUCCESS(Status)) {
    ErrorPrint("ZwCreateEnlistment failed. Status 0x%x", Status);
  }

  return { Status, EnlistmentHandle };
}


/** DeleteKTMResourceManager: closes the resource manager and transaction manager handles. */
export async function DeleteKTMResourceManager(
): Promise<void>
/*++

Routine Description:

    Clean up any resources associated wtih the resource manager.

--*/
{

  if (ResourceManager !== 0) {
    await ZwClose(ResourceManager);
    ResourceManager = 0;
  }

  if (TransactionManager !== 0) {
    await ZwClose(TransactionManager);
    TransactionManager = 0;
  }
}
