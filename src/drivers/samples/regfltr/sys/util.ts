/*++
Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    util.c (util.ts)

Abstract:

    Utility methods for the sample driver: the callback contexts and the list of the
    contexts handed out to user mode.

Environment:

    Kernel mode only

--*/

import { DbgBreakPoint } from "../../../../ke/debug-print.js";
import { EXCEPTION_EXECUTE_HANDLER } from "../../../../ke/exception.js";
import { ExAcquireFastMutex, ExReleaseFastMutex } from "../../../../ke/fast-mutex.js";
import { NT_SUCCESS, type NTSTATUS } from "../../../../ke/ntstatus.js";
import { ExFreePoolWithTag, POOL_TYPE } from "../../../../mm/pool.js";
import { ExAllocatePoolZero } from "../../../../mm/pool2.js";
import { PsGetCurrentProcessId } from "../../../../ps/current.js";
import { CONTAINING_RECORD, InsertHeadList, RemoveEntryList, type LIST_ENTRY } from "../../../../rtl/list.js";
import { RtlStringCbPrintfW } from "../../../../rtl/ntstrsafe.js";
import { RtlInitUnicodeString } from "../../../../rtl/unicode-string.js";
import { MAX_ALTITUDE_BUFFER_LENGTH, type CALLBACK_MODE } from "../common.js";
import {
  CALLBACK_CONTEXT, ErrorPrint, globals, MAX_CALLBACK_CTX_ENTRIES, REGFLTR_CONTEXT_POOL_TAG, SIZEOF_CALLBACK_CONTEXT,
} from "./regfltr-header.js";

const { PagedPool } = POOL_TYPE;


/**
 * ExceptionFilter breaks into the debugger if an exception happens
 * inside the callback.
 */
export function ExceptionFilter(
  ExceptionCode: NTSTATUS,
): number
/*++

Routine Description:

    ExceptionFilter breaks into the debugger if an exception happens
    inside the callback.

Arguments:

    ExceptionPointers - unused (the exception's code here)

Return Value:

    Always returns EXCEPTION_CONTINUE_SEARCH

--*/
{

  ErrorPrint("Exception %lx",
    ExceptionCode);

  DbgBreakPoint();

  return EXCEPTION_EXECUTE_HANDLER;

}


/** CreateCallbackContext: a zeroed callback context for `CallbackMode` and `AltitudeString`, or null. Free it with DeleteCallbackContext. */
export function CreateCallbackContext(
  CallbackMode: CALLBACK_MODE,
  AltitudeString: string,
): CALLBACK_CONTEXT | null
/*++

Routine Description:

    Utility method to create a callback context. Callback context
    should be freed using DeleteCallbackContext.

Arguments:

    CallbackMode - the callback mode value

    AltitudeString - a string with the altitude the callback will be
        registered at

Return Value:

    Pointer to the allocated and initialized callback context

--*/
{

  let CallbackCtx: CALLBACK_CONTEXT | null = null;
  let Status: NTSTATUS;
  let Success = false;

  const Address = ExAllocatePoolZero(
    PagedPool,
    SIZEOF_CALLBACK_CONTEXT,
    REGFLTR_CONTEXT_POOL_TAG);

  Exit: {

    if (Address === 0) {
      ErrorPrint("CreateCallbackContext failed due to insufficient resources.");
      break Exit;
    }

    CallbackCtx = new CALLBACK_CONTEXT(Address);

    CallbackCtx.CallbackMode = CallbackMode;
    CallbackCtx.ProcessId = PsGetCurrentProcessId();

    Status = RtlStringCbPrintfW(CallbackCtx.AltitudeBuffer,
      MAX_ALTITUDE_BUFFER_LENGTH * 2,
      "%s",
      AltitudeString);

    if (!NT_SUCCESS(Status)) {
      ErrorPrint("RtlStringCbPrintfW in CreateCallbackContext failed. Status 0x%x", Status);
      break Exit;
    }

    RtlInitUnicodeString(CallbackCtx.Altitude, CallbackCtx.AltitudeBuffer);

    Success = true;

  }

  if (Success === false) {
    if (CallbackCtx !== null) {
      ExFreePoolWithTag(CallbackCtx.Address, REGFLTR_CONTEXT_POOL_TAG);
      CallbackCtx = null;
    }
  }

  return CallbackCtx;

}


/** InsertCallbackContext: puts the context at the head of the list; FALSE when the list is full. */
export async function InsertCallbackContext(
  CallbackCtx: CALLBACK_CONTEXT,
): Promise<boolean>
/*++

Routine Description:

    Utility method to insert the callback context into a list.

Arguments:

    CallbackCtx - the callback context to insert

Return Value:

    TRUE if successful, FALSE otherwise

--*/
{

  let Success = false;

  await ExAcquireFastMutex(globals.g_CallbackCtxListLock);

  if (globals.g_NumCallbackCtxListEntries < MAX_CALLBACK_CTX_ENTRIES) {
    globals.g_NumCallbackCtxListEntries++;
    InsertHeadList(globals.g_CallbackCtxListHead, CallbackCtx.CallbackCtxList);
    Success = true;
  } else {
    ErrorPrint("Insert Callback Ctx failed: Max CallbackCtx entries reached.");
  }

  ExReleaseFastMutex(globals.g_CallbackCtxListLock);

  return Success;

}


/** FindCallbackContext: the context registered with `Cookie` (as the C routine, the last one looked at when none matches). */
export async function FindCallbackContext(
  Cookie: number,
): Promise<CALLBACK_CONTEXT | null>
/*++

Routine Description:

    Utility method to find a callback context using the cookie value.

Arguments:

    Cookie - the cookie value associated with the callback context. The
             cookie is returned when CmRegisterCallbackEx is called.

Return Value:

    Pointer to the found callback context

--*/
{

  let CallbackCtx: CALLBACK_CONTEXT | null = null;
  let Entry: LIST_ENTRY;

  await ExAcquireFastMutex(globals.g_CallbackCtxListLock);

  Entry = globals.g_CallbackCtxListHead.Flink;
  while (Entry !== globals.g_CallbackCtxListHead) {

    CallbackCtx = CONTAINING_RECORD(Entry,
      CALLBACK_CONTEXT,
      "CallbackCtxList");
    if (CallbackCtx.Cookie === Cookie) {
      break;
    }

    Entry = Entry.Flink;
  }

  ExReleaseFastMutex(globals.g_CallbackCtxListLock);

  if (CallbackCtx === null) {
    ErrorPrint("FindCallbackContext failed: No context with specified cookied was found.");
  }

  return CallbackCtx;

}

/**
 * FindAndRemoveCallbackContext: takes the context registered with `Cookie` off the list.
 * As in the C routine the loop looks at the first entry only (it does not advance), which
 * is the entry the program's one registration at a time put there.
 */
export async function FindAndRemoveCallbackContext(
  Cookie: number,
): Promise<CALLBACK_CONTEXT | null>
/*++

Routine Description:

    Utility method to find a callback context using the cookie value and then
    remove it.

Arguments:

    Cookie - the cookie value associated with the callback context. The
             cookie is returned when CmRegisterCallbackEx is called.

Return Value:

    Pointer to the found callback context

--*/
{

  let CallbackCtx: CALLBACK_CONTEXT | null = null;
  let Entry: LIST_ENTRY;

  await ExAcquireFastMutex(globals.g_CallbackCtxListLock);

  Entry = globals.g_CallbackCtxListHead.Flink;
  while (Entry !== globals.g_CallbackCtxListHead) {

    CallbackCtx = CONTAINING_RECORD(Entry,
      CALLBACK_CONTEXT,
      "CallbackCtxList");
    if (CallbackCtx.Cookie === Cookie) {
      RemoveEntryList(CallbackCtx.CallbackCtxList);
      globals.g_NumCallbackCtxListEntries--;
      break;
    }
  }

  ExReleaseFastMutex(globals.g_CallbackCtxListLock);

  if (CallbackCtx === null) {
    ErrorPrint("FindAndRemoveCallbackContext failed: No context with specified cookied was found.");
  }

  return CallbackCtx;
}


/** DeleteCallbackContext: frees a callback context. */
export function DeleteCallbackContext(
  CallbackCtx: CALLBACK_CONTEXT | null,
): void
/*++

Routine Description:

    Utility method to delete a callback context.

Arguments:

    CallbackCtx - the callback context to insert

Return Value:

    None

--*/
{

  if (CallbackCtx !== null) {
    ExFreePoolWithTag(CallbackCtx.Address, REGFLTR_CONTEXT_POOL_TAG);
  }

}
