/*++
Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    capture.c (capture.ts)

Abstract:

    Sample showing how to capture input parameters of a registry operation, and the
    capture helpers the other samples use.

Environment:

    Kernel mode only

--*/

import { KPROCESSOR_MODE } from "../../../../ke/dispatcher.js";
import { tryExcept } from "../../../../ke/exception.js";
import { NT_SUCCESS, STATUS_CALLBACK_BYPASS, STATUS_INSUFFICIENT_RESOURCES, STATUS_SUCCESS, type NTSTATUS } from "../../../../ke/ntstatus.js";
import { RtlCopyMemory, type PVOID } from "../../../../mm/memory.js";
import { ExFreePoolWithTag, POOL_TYPE, type PoolTag } from "../../../../mm/pool.js";
import { ExAllocatePoolZero } from "../../../../mm/pool2.js";
import { OBJ_KERNEL_HANDLE } from "../../../../ob/attributes.js";
import { ObOpenObjectByPointer, ZwClose } from "../../../../ob/handles.js";
import { ExGetPreviousMode } from "../../../../ob/previous-mode.js";
import type { HANDLE } from "../../../../ob/handle-table.js";
import { UNICODE_STRING } from "../../../../rtl/unicode-string.js";
import type { REG_DELETE_VALUE_KEY_INFORMATION, REG_SET_VALUE_KEY_INFORMATION } from "../../../../cm/callback-information.js";
import { REG_NOTIFY_CLASS } from "../../../../cm/notify-class.js";
import { KEY_ALL_ACCESS, ZwDeleteValueKey, ZwSetValueKey } from "../../../../cm/zw.js";
import { ErrorPrint, globals, InfoPrint, REGFLTR_CAPTURE_POOL_TAG, type CALLBACK_CONTEXT } from "./regfltr-header.js";
import { ExceptionFilter } from "./util.js";

const { KernelMode, UserMode } = KPROCESSOR_MODE;
const { RegNtPreSetValueKey, RegNtPreDeleteValueKey } = REG_NOTIFY_CLASS;
const { PagedPool } = POOL_TYPE;


/*++

    Probing and Capturing Parameters

    This section defines how registry filtering drivers should handle input
    parameters.


    I. Probed Parameters

    All members in related registry structures (e.g. REG_CREATE_KEY_INFORMATION,
    REG_SAVE_KEY_INFORMATION) and all structures and buffers pointed to by
    their buffers are already probed by registry. Parameters are probed only
    when ExGetPreviousMode indicates that the previous mode was user mode. If
    the previous mode is kernel mode (i.e. KernelMode. is returned by
    ExGetPreviousMode), all parameters are considered valid and no probing is
    done in this case.


    II. Captured parameters

    Most but not all members in related registry structures are captured.
    If the previous mode is kernel mode, all parameters are considered valid
    and no capturing is done in this case. If the previous mode is user mode,
    all parameters are probed but not necessarily captured. Since this impacts
    how registry filtering drivers should handle input parameters, we outline
    below exactly which parameters are captured. It is important to note that
    some members currently probed but not captured by the OS may be captured
    in the future. On the other hand registry filtering drivers can rely on
    the fact that parameters currently captured will be captured in all future
    OS releases.

    * Note: As of Windows 8, all structures except output buffers are fully
    captured.

        1. Fully captured structures:

        Note: A fully captured structure is a captured structure where all
        structures and buffers pointed to by its members are also fully
        captured.

        For example: the UNICODE_STRING structure pointed to by the
        CompleteName member in the fully captured REG_CREATE_KEY_INFORMATION
        structure is also captured (including the Buffer member of the
        UNICODE_STRING).

        List of fully captured structures (in Windows 7):

            REG_CREATE_KEY_INFORMATION (** incorrect)
            REG_CREATE_KEY_INFORMATION_V1 (** incorrect)
            REG_DELETE_KEY_INFORMATION
            REG_FLUSH_KEY_INFORMATION
            REG_KEY_HANDLE_CLOSE_INFORMATION
            REG_OPEN_KEY_INFORMATION
            REG_OPEN_KEY_INFORMATION_V1
            REG_QUERY_KEY_SECURITY_INFORMATION (** added)
            REG_REPLACE_KEY_INFORMATION
            REG_RESTORE_KEY_INFORMATION
            REG_SAVE_KEY_INFORMATION
            REG_SET_KEY_SECURITY_INFORMATION.
            REG_UNLOAD_KEY_INFORMATION

            ** There were incorrect entries in this list that are now
            corrected. REG_CREATE_KEY_INFORMATION and
            REG_CREATE_KEY_INFORMATION_V1 are not fully captured and should
            be on the partially captured structures.
            REG_QUERY_KEY_SECURITY_INFORMATION has now been added to the list
            of fully captured structures.

        2. Partially captured structures

        Note: This section has been modified for clarity in the Windows 8
        release of the WDK. However this information only applies to Windows 7
        since in Windows 8 all input buffers and structures are captured.

        This section defines which members are captured in the partially
        captured structures.

        Notes:

            A. CallContext, ObjectContext members are not consumed by registry
               and are not treated as probed or captured by this document.
            B. Integer types (e.g. enum, int, ...) are considered captured in the
               structure and are not explicitly listed below.
            C. The Object member is always captured and it's not explicitly
               listed below.
            D. Output buffers are probed but not captured

        List of partially captured structures and the members that are NOT
        captured:

            REG_CREATE_KEY_INFORMATION: Class->Buffer
            REG_CREATE_KEY_INFORMATION_V1: Class->Buffer
            REG_DELETE_VALUE_KEY_INFORMATION: ValueName->Buffer
            REG_LOAD_KEY_INFORMATION: KeyName->Buffer
            REG_QUERY_VALUE_KEY_INFORMATION: ValueName->Buffer
            REG_QUERY_MULTIPLE_VALUE_KEY_INFORMATION: BufferLength
            REG_RENAME_KEY_INFORMATION: NewName->Buffer
            REG_SET_VALUE_KEY_INFORMATION: Data


        All other REG_Xxx_INFORMATION structures do not have fields that
        require capturing other than those mentioned in notes B and C.

        Example:

        REG_ENUMERATE_KEY_INFORMATION:
            Object: captured, see (C) above
            Index: captured, see (B) above
            KeyInformationClass : captured, see (B) above
            KeyInformation: only probed, see (D) above
            Length: captured, see (B) above
            ResultLength: only probed, see (D) above
            CallContext, ObjectContext: unknown, see (A) above
            Reserved: currently undefined

        List of these structures:

            REG_CALLBACK_CONTEXT_CLEANUP_INFORMATION
            REG_DELETE_KEY_INFORMATION
            REG_ENUMERATE_KEY_INFORMATION
            REG_KEY_HANDLE_CLOSE_INFORMATION
            REG_QUERY_KEY_INFORMATION
            REG_QUERY_KEY_SECURITY_INFORMATION
            REG_REPLACE_KEY_INFORMATION
            REG_RESTORE_KEY_INFORMATION
            REG_SAVE_KEY_INFORMATION
            REG_SET_INFORMATION_KEY_INFORMATION
            REG_SET_KEY_SECURITY_INFORMATION
            REG_UNLOAD_KEY_INFORMATION


    III. Handling Registry Filtering Parameters

    Registry filtering drivers must handle input parameters correctly. If the
    previous mode is user mode and the driver needs to use a parameter, it must
    depending on the scenario either wrap every access with a try-except
    construct or capture the parameter. If the driver wants to call a Zw
    registry API or any other kernel mode Zw API, it must ensure that all the
    arguments passed to the call are captured because these APIs will not
    probe or capture their inputs if the call originated from kernel mode.

    There is no need for drivers to probe any of the parameters as the registry
    has already probed them. If the driver uses the OS probe APIs to probe a
    parameter that has already been captured by the registry, it will throw an
    exception.

    Note: Special handling should be provided for NULL buffers. In some cases
    such buffer might be considered valid even for kernel mode.

--*/


/** CallbackCapture: bypasses set-value and delete-value and performs them itself with the (captured) parameters. */
export function CallbackCapture(
  CallbackCtx: CALLBACK_CONTEXT,
  NotifyClass: REG_NOTIFY_CLASS,
  Argument2: object,
): NTSTATUS
/*++

Routine Description:

    This helper callback routine shows how to capture a buffer and a
    unicode string with the name of a value. The bulk of the work is down
    in the helper capture routines: CaptureBuffer and CaptureUnicodeString.

    In the pre-notification phase, we bypass the set value and delete value
    operations and complete them manually by calling ZwSetValueKey and
    ZwDeleteValueKey.

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
  let PreSetValueInfo: REG_SET_VALUE_KEY_INFORMATION;
  let PreDeleteValueInfo: REG_DELETE_VALUE_KEY_INFORMATION;
  let RootKey: HANDLE = 0;
  let LocalData: PVOID = 0;
  let Data: PVOID = 0;
  const LocalValueName = new UNICODE_STRING();
  let ValueName: UNICODE_STRING;
  let Mode = KernelMode;

  void CallbackCtx; // UNREFERENCED_PARAMETER(CallbackCtx);

  switch (NotifyClass) {

    case RegNtPreSetValueKey:

      PreSetValueInfo = Argument2 as REG_SET_VALUE_KEY_INFORMATION;

      //
      // REG_SET_VALUE_KEY_INFORMATION is a partially captured structure.
      // The value name is captured but the data is not. Since we are
      // passing the data to a zw* method, we need to capture it.
      //
      // *Note: as of win8, the data buffer is captured as well
      // by the registry.
      //

      Mode = ExGetPreviousMode();

      if (!globals.g_IsWin8OrGreater && (Mode === UserMode)) {
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
      // Set the value.
      //

      Status = ZwSetValueKey(RootKey,
        PreSetValueInfo.ValueName,
        0,
        PreSetValueInfo.Type,
        Data,
        PreSetValueInfo.DataSize);

      if (!NT_SUCCESS(Status)) {
        ErrorPrint("ZwSetValue in CallbackModify failed. Status 0x%x",
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

    case RegNtPreDeleteValueKey:

      PreDeleteValueInfo = Argument2 as REG_DELETE_VALUE_KEY_INFORMATION;

      //
      // REG_DELETE_VALUE_KEY_INFORMATION is a partially captured
      // structure. The value name's buffer is not captured. Since we are
      // passing the name to a zw* method, we need to capture it.
      //
      // *Note: as of Win8, the data buffer is captured already
      // by the registry.
      //

      Mode = ExGetPreviousMode();

      if (!globals.g_IsWin8OrGreater && (Mode === UserMode)) {
        Status = CaptureUnicodeString(LocalValueName,
          PreDeleteValueInfo.ValueName,
          REGFLTR_CAPTURE_POOL_TAG);
        if (!NT_SUCCESS(Status)) {
          break;
        }
        ValueName = LocalValueName;
      } else {
        ValueName = PreDeleteValueInfo.ValueName;
      }

      //
      // Get a handle to the root key the value is being created under.
      // This is in PreInfo->Object.
      //

      ({ status: Status, Handle: RootKey } = ObOpenObjectByPointer(PreDeleteValueInfo.Object,
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
      // Set the value.
      //

      Status = ZwDeleteValueKey(RootKey,
        ValueName);

      if (!NT_SUCCESS(Status)) {
        ErrorPrint("ZwDeleteValue failed. Status 0x%x",
          Status);
        void ZwClose(RootKey);
        break;
      }

      //
      // Finally return STATUS_CALLBACK_BYPASS to tell the registry
      // not to proceed with the original registry operation and to return
      // STATUS_SUCCESS to the caller.
      //

      InfoPrint("\tCallback: Delete value %S bypassed.", ValueName.Buffer);
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

  if (LocalData !== 0) {
    FreeCapturedBuffer(LocalData, REGFLTR_CAPTURE_POOL_TAG);
  }

  if (LocalValueName.Buffer !== 0) {
    FreeCapturedUnicodeString(LocalValueName, REGFLTR_CAPTURE_POOL_TAG);
  }

  return Status;
}


/**
 * CaptureBuffer(Buffer, Length, PoolTag): a copy of Length bytes at Buffer in paged pool
 * tagged PoolTag (NULL for Length 0). Returns the status and CapturedBuffer (the C
 * out-parameter). Free it with FreeCapturedBuffer.
 */
export function CaptureBuffer(
  Buffer: PVOID,
  Length: number,
  PoolTag: PoolTag,
): { Status: NTSTATUS; CapturedBuffer: PVOID }
/*++

Routine Description:

    Captures a buffer using allocations with the specified pool tag. Captured
    buffer should be freed using FreeCapturedBuffer.

Arguments:

    CapturedBuffer - pointer to a variable that receives the location of the
        captured buffer (returned).

    Buffer - the buffer to capture

    Length - Length of Buffer

    PoolTag - pool tag

Return Value:

    NTSTATUS

--*/
{
  let Status: NTSTATUS = STATUS_SUCCESS;
  let TempBuffer: PVOID = 0;

  if (Length === 0) {
    return { Status, CapturedBuffer: 0 };
  }

  TempBuffer = ExAllocatePoolZero(
    PagedPool,
    Length,
    PoolTag);

  //
  // It's a good practice to keep the contents of a try-except block to
  // the bare minimum. By keeping the pool allocation call outside of the
  // try-except block we don't mask possible pool corruptions.
  //

  if (TempBuffer !== 0) {
    tryExcept(() => {
      RtlCopyMemory(TempBuffer, Buffer, Length);
    }, (ExceptionCode) => ExceptionFilter(ExceptionCode), (ExceptionCode) => {
      ErrorPrint("Capturing buffer failed with exception");
      ExFreePoolWithTag(TempBuffer, PoolTag);
      TempBuffer = 0;
      Status = ExceptionCode;
    });
  } else {
    ErrorPrint("Capturing buffer failed wtih insufficient resources");
    Status = STATUS_INSUFFICIENT_RESOURCES;
  }

  return { Status, CapturedBuffer: TempBuffer };
}


/** FreeCapturedBuffer: frees a buffer CaptureBuffer made. */
export function FreeCapturedBuffer(
  CapturedBuffer: PVOID,
  PoolTag: PoolTag,
): void
/*++

Routine Description:

    Frees a captured buffer.

Arguments:

    CapturedBuffer - captured buffer

    PoolTag - pool tag

--*/
{
  if (CapturedBuffer !== 0) {
    ExFreePoolWithTag(CapturedBuffer, PoolTag);
  }
}


/** CaptureUnicodeString: copies SourceString's characters (and a NULL) into paged pool for DestString. */
export function CaptureUnicodeString(
  DestString: UNICODE_STRING,
  SourceString: UNICODE_STRING,
  PoolTag: PoolTag,
): NTSTATUS
/*++

Routine Description:

    Captures a unicode string. The buffer is captured based on SourceString's
    Length field with the addition of sizeof(WCHAR) bytes for a NULL to
    signal the end of the string.

    Use FreeCapturedUnicodeString to free the captured string.

Arguments:

    DestString - Pointer to the unicode string that will receive the
        captured buffer.

    SourceString - Pointer tot he unicode string to be captured.

    PoolTag - pool tag

Return Value:

    NTSTATUS

--*/
{
  let Status: NTSTATUS = STATUS_SUCCESS;


  if (SourceString.Length === 0) {
    DestString.Length = 0;
    DestString.Buffer = 0;
    DestString.MaximumLength = 0;
    return Status;
  }

  //
  // Only SourceString->Length should be checked. The registry does not
  // validate SourceString->MaximumLength.
  //
  // An additional sizeof(WCHAR) bytes are added to the buffer size since
  // SourceString->Length does not include the NULL at the end of the string.
  //

  DestString.Length = SourceString.Length;
  DestString.MaximumLength = SourceString.Length + 2;

  DestString.Buffer = ExAllocatePoolZero(
    PagedPool,
    DestString.MaximumLength,
    PoolTag);

  if (DestString.Buffer !== 0) {

    //
    // It's a good practice to keep the contents of a try-except block to
    // the bare minimum. By keeping the pool allocation call outside of the
    // try-except block we don't mask possible pool corruptions.
    //

    tryExcept(() => {
      RtlCopyMemory(DestString.Buffer,
        SourceString.Buffer,
        SourceString.Length);
    }, (ExceptionCode) => ExceptionFilter(ExceptionCode), (ExceptionCode) => {
      ErrorPrint("Capturing Unicode String failed with exception");
      ExFreePoolWithTag(DestString.Buffer, PoolTag);
      DestString.Buffer = 0;
      Status = ExceptionCode;
    });

  } else {
    ErrorPrint("Capturing Unicode String failed wtih insufficient resources");
    Status = STATUS_INSUFFICIENT_RESOURCES;
  }

  if (DestString.Buffer === 0) {
    DestString.Length = 0;
    DestString.MaximumLength = 0;
  }

  return Status;

}


/** FreeCapturedUnicodeString: frees a string CaptureUnicodeString made. */
export function FreeCapturedUnicodeString(
  String: UNICODE_STRING,
  PoolTag: PoolTag,
): void
/*++

Routine Description:

    Frees a captured buffer.

Arguments:

    CapturedBuffer - captured buffer

    PoolTag - pool tag

--*/
{
  if (String.Length !== 0) {
    String.Length = 0;
    String.MaximumLength = 0;
    FreeCapturedBuffer(String.Buffer, PoolTag);
    String.Buffer = 0;
  }
}
