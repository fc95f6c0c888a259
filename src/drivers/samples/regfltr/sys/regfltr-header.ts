/*++
Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    regfltr.h (regfltr-header.ts)

Abstract:

    Header file for the sample driver

    The driver's globals are the fields of `globals` (an ES module cannot assign another
    module's variables). CALLBACK_CONTEXT is a TypeScript object whose memory, as the C
    structure's, is a paged pool block tagged REGFLTR_CONTEXT_POOL_TAG (Address); its
    AltitudeBuffer lives in that block.

Environment:

    Kernel mode only


--*/

import { DbgPrintEx, DPFLTR_ERROR_LEVEL, DPFLTR_IHVDRIVER_ID, DPFLTR_INFO_LEVEL } from "../../../../ke/debug-print.js";
import { FAST_MUTEX } from "../../../../ke/fast-mutex.js";
import type { DEVICE_OBJECT } from "../../../../io/objects.js";
import type { PVOID } from "../../../../mm/memory.js";
import type { HANDLE } from "../../../../ob/handle-table.js";
import type { FormatArgument } from "../../../../rtl/format.js";
import { LIST_ENTRY } from "../../../../rtl/list.js";
import { UNICODE_STRING } from "../../../../rtl/unicode-string.js";
import { CALLBACK_MODE, DRIVER_NAME } from "../common.js";


//
// Pool tags
//

export const REGFLTR_CONTEXT_POOL_TAG = "Rft0";   // '0tfR'
export const REGFLTR_CAPTURE_POOL_TAG = "Rft1";   // '1tfR'


//
// Logging macros
//
// (ErrorPrint prints no __LINE__: TypeScript has none.)
//

/** InfoPrint(str, ...): DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_INFO_LEVEL, "%S: " str "\n", DRIVER_NAME, ...). */
export function InfoPrint(str: string, ...args: FormatArgument[]): void {
  DbgPrintEx(DPFLTR_IHVDRIVER_ID,
    DPFLTR_INFO_LEVEL,
    "%S: " + str + "\n",
    DRIVER_NAME,
    ...args);
}

/** ErrorPrint(str, ...): DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL, "%S: " str "\n", DRIVER_NAME, ...). */
export function ErrorPrint(str: string, ...args: FormatArgument[]): void {
  DbgPrintEx(DPFLTR_IHVDRIVER_ID,
    DPFLTR_ERROR_LEVEL,
    "%S: " + str + "\n",
    DRIVER_NAME,
    ...args);
}


/** The driver's global variables. */
export const globals = {

  //
  // The root key used in the samples
  //
  g_RootKey: 0 as HANDLE,

  //
  // Pointer to the device object used to register registry callbacks
  //
  g_DeviceObj: null as DEVICE_OBJECT | null,

  //
  // Registry callback version
  //
  g_MajorVersion: 0,
  g_MinorVersion: 0,

  //
  // Set to TRUE if TM and RM were successfully created and the transaction
  // callback was successfully enabled.
  //
  g_RMCreated: false,

  //
  // Flag that indicates if the system is win8 or higher. This is set on
  // driver entry by calling RtlVerifyVersionInfo.
  //
  g_IsWin8OrGreater: false,

  //
  // The fast mutex guarding the callback context list
  //
  g_CallbackCtxListLock: new FAST_MUTEX(),

  //
  // The list head
  //
  g_CallbackCtxListHead: new LIST_ENTRY(),

  //
  // Count of entries in list
  //
  g_NumCallbackCtxListEntries: 0,
};


//
// The following are variables used to manage callback contexts handed
// out to user mode.
//

export const MAX_CALLBACK_CTX_ENTRIES = 10;

//
// Context data structure for the transaction callback RMCallback
//

export class RMCALLBACK_CONTEXT {

  //
  // A bit mask of all transaction notifications types that the RM Callback is
  // notified of.
  //
  Notification = 0;

  //
  // The handle to an enlistment
  //
  Enlistment: HANDLE = 0;

  /** `Address`: the structure's pool block (ExAllocatePoolZero). */
  constructor(readonly Address: PVOID) {}

}

/** sizeof(RMCALLBACK_CONTEXT) on x64, bytes. */
export const SIZEOF_RMCALLBACK_CONTEXT = 16;


/** sizeof(CALLBACK_CONTEXT) on x64, bytes. */
export const SIZEOF_CALLBACK_CONTEXT = 112;
/** FIELD_OFFSET(CALLBACK_CONTEXT, AltitudeBuffer). */
const CALLBACK_CONTEXT_AltitudeBuffer = 48;

//
// The context data structure for the registry callback. It will be passed
// to the callback function every time it is called.
//

export class CALLBACK_CONTEXT {

  //
  // List of callback contexts currently active
  //
  readonly CallbackCtxList = new LIST_ENTRY(this);

  //
  // Specifies which callback helper method to use
  //
  CallbackMode: CALLBACK_MODE = 0;

  //
  // Records the current ProcessId to filter out registry operation from
  // other processes.
  //
  ProcessId: HANDLE = 0;

  //
  // Records the altitude that the callback was registered at
  //
  readonly Altitude = new UNICODE_STRING();
  readonly AltitudeBuffer: PVOID;

  //
  // Records the cookie returned by the registry when the callback was
  // registered
  //
  Cookie = 0;

  //
  // A pointer to the context for the transaction callback.
  // Used to enlist on a transaction. Only used in the transaction samples.
  //
  RMCallbackCtx: RMCALLBACK_CONTEXT | null = null;

  //
  // These fields record information for verifying the behavior of the
  // certain samples. They are not used in all samples
  //

  //
  // Number of times the RegNtCallbackObjectContextCleanup
  // notification was received
  //
  ContextCleanupCount = 0;

  //
  // Number of times the callback saw a notification with the call or
  // object context set correctly.
  //
  NotificationWithContextCount = 0;

  //
  // Number of times callback saw a notirication without call or without
  // object context set correctly
  //
  NotificationWithNoContextCount = 0;

  //
  // Number of pre-notifications received
  //
  PreNotificationCount = 0;

  //
  // Number of post-notifications received
  //
  PostNotificationCount = 0;

  /** `Address`: the structure's pool block (ExAllocatePoolZero). */
  constructor(readonly Address: PVOID) {
    this.AltitudeBuffer = Address + CALLBACK_CONTEXT_AltitudeBuffer;
  }

}
