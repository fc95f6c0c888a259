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

    Sample that shows how a callback captures the parameters of a registry
    operation that comes from user mode.

    (Structures C keeps on the stack are byte arrays here; the DWORD the samples set is
    ValueData, its four bytes.)

Environment:

    User mode only

--*/

import {
  DeviceIoControl,
} from "../../../../io/usermode.js";
import {
  ERROR_SUCCESS, GetLastError,
} from "../../../../io/win32.js";
import {
  RegDeleteValue, RegSetValueEx,
} from "../../../../io/registry-api.js";
import {
  REG_DWORD,
} from "../../../../cm/value-types.js";
import {
  CALLBACK_ALTITUDE, CALLBACK_MODE, IOCTL_REGISTER_CALLBACK, IOCTL_UNREGISTER_CALLBACK, MAX_ALTITUDE_BUFFER_LENGTH, REGISTER_CALLBACK_INPUT_Altitude, REGISTER_CALLBACK_INPUT_CallbackMode, REGISTER_CALLBACK_OUTPUT_Cookie, SIZEOF_REGISTER_CALLBACK_INPUT, SIZEOF_REGISTER_CALLBACK_OUTPUT, SIZEOF_UNREGISTER_CALLBACK_INPUT, UNREGISTER_CALLBACK_INPUT_Cookie, VALUE_NAME,
} from "../common.js";
import {
  ErrorPrint, globals, InfoPrint, StringCbPrintf, SUCCEEDED,
} from "./regctrl-header.js";


/** CaptureSample: registers the capture callback, then sets and deletes a value; both succeed. */
export async function CaptureSample(
): Promise<void>
/*++

Routine Description:

    This sample shows how to capture input parameters when the registery
    operation comes from user mode.

    The main part of this sample and a detailed explanation of why and how to
    capture user mode parameters can be found in ..\sys\capture.c. The user
    mode part of this sample simply calls RegSetValueEx and DeleteValue
    since the REG_XXX_INFORMATION structure for these two operations are
    only partially captured.

    See ..\sys\Capture.c for the callback routine used in this sample.

Return Value:

    None

--*/
{
  let Res: number;
  let hr: number;
  let Result: boolean;
  let BytesReturned = 0;
  let Success = false;
  const RegisterCallbackInput = new Uint8Array(SIZEOF_REGISTER_CALLBACK_INPUT);
  const RegisterCallbackOutput = new Uint8Array(SIZEOF_REGISTER_CALLBACK_OUTPUT);
  const UnRegisterCallbackInput = new Uint8Array(SIZEOF_UNREGISTER_CALLBACK_INPUT);
  const ValueData = new Uint8Array([0xEF, 0xBE, 0xAD, 0xDE]);   // DWORD ValueData = 0xDEADBEEF;

  void BytesReturned;

  InfoPrint("");
  InfoPrint("=== Capture Sample ====");

  Exit: {

    //
    // Register callback
    //

    RegisterCallbackInput.subarray(REGISTER_CALLBACK_INPUT_Altitude).fill(0, 0, MAX_ALTITUDE_BUFFER_LENGTH * 2);
    hr = StringCbPrintf(RegisterCallbackInput.subarray(REGISTER_CALLBACK_INPUT_Altitude),
      MAX_ALTITUDE_BUFFER_LENGTH * 2,
      CALLBACK_ALTITUDE);

    if (!SUCCEEDED(hr)) {
      ErrorPrint(76, "Copying altitude string failed. Error %d", hr);
      break Exit;
    }

    new DataView(RegisterCallbackInput.buffer).setUint32(REGISTER_CALLBACK_INPUT_CallbackMode, CALLBACK_MODE.CALLBACK_MODE_CAPTURE, true);

    ({ ok: Result, bytes: BytesReturned } = await DeviceIoControl(globals.g_Driver,
      IOCTL_REGISTER_CALLBACK,
      RegisterCallbackInput,
      SIZEOF_REGISTER_CALLBACK_INPUT,
      RegisterCallbackOutput,
      SIZEOF_REGISTER_CALLBACK_OUTPUT));

    if (Result !== true) {
      ErrorPrint(92, "RegisterCallback failed. Error %d", GetLastError());
      break Exit;
    }

    Success = true;

    //
    // Create a value and delete it. Both should be successful.
    //

    Res = RegSetValueEx(globals.g_RootKey,
      VALUE_NAME,
      0,
      REG_DWORD,
      ValueData,
      ValueData.length);

    if (Res !== ERROR_SUCCESS) {
      ErrorPrint(110, "RegSetValueEx return unexpected status %d", Res);
      Success = false;
    }

    Res = RegDeleteValue(globals.g_RootKey, VALUE_NAME);

    if (Res !== ERROR_SUCCESS) {
      ErrorPrint(117, "RegDeleteValue on original value returned unexpected status: %d",
        Res);
      Success = false;
    }

    //
    // Unregister the callback
    //

    UnRegisterCallbackInput.set(RegisterCallbackOutput.subarray(REGISTER_CALLBACK_OUTPUT_Cookie, REGISTER_CALLBACK_OUTPUT_Cookie + 8), UNREGISTER_CALLBACK_INPUT_Cookie);

    ({ ok: Result, bytes: BytesReturned } = await DeviceIoControl(globals.g_Driver,
      IOCTL_UNREGISTER_CALLBACK,
      UnRegisterCallbackInput,
      SIZEOF_UNREGISTER_CALLBACK_INPUT,
      null,
      0));

    if (Result !== true) {
      ErrorPrint(138, "UnRegisterCallback failed. Error %d", GetLastError());
      Success = false;
    }

  }

  if (Success) {
    InfoPrint("Capture Sample succeeded.");
  } else {
    ErrorPrint(147, "Capture Sample failed.");
  }

}
