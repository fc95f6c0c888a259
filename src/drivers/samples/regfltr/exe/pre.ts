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

    (Structures C keeps on the stack are byte arrays here; the DWORD the samples set is
    ValueData, its four bytes.)

Environment:

    User mode only

--*/

import {
  DeviceIoControl,
} from "../../../../io/usermode.js";
import {
  ERROR_ACCESS_DENIED, ERROR_FILE_NOT_FOUND, ERROR_SUCCESS, GetLastError,
} from "../../../../io/win32.js";
import {
  HKEY, RegCloseKey, RegCreateKeyEx, RegDeleteKey, RegDeleteValue, RegOpenKeyEx, RegSetValueEx,
} from "../../../../io/registry-api.js";
import {
  REG_DWORD,
} from "../../../../cm/value-types.js";
import {
  CALLBACK_ALTITUDE, CALLBACK_MODE, IOCTL_REGISTER_CALLBACK, IOCTL_UNREGISTER_CALLBACK, KEY_NAME, MAX_ALTITUDE_BUFFER_LENGTH, MODIFIED_KEY_NAME, MODIFIED_VALUE_NAME, NOT_MODIFIED_KEY_NAME, NOT_MODIFIED_VALUE_NAME, REGISTER_CALLBACK_INPUT_Altitude, REGISTER_CALLBACK_INPUT_CallbackMode, REGISTER_CALLBACK_OUTPUT_Cookie, SIZEOF_REGISTER_CALLBACK_INPUT, SIZEOF_REGISTER_CALLBACK_OUTPUT, SIZEOF_UNREGISTER_CALLBACK_INPUT, UNREGISTER_CALLBACK_INPUT_Cookie, VALUE_NAME,
} from "../common.js";
import {
  ErrorPrint, globals, InfoPrint, StringCbPrintf, SUCCEEDED,
} from "./regctrl-header.js";
/** KEY_ALL_ACCESS (winnt.h). */
const KEY_ALL_ACCESS = 0xF003F;


/** PreNotificationBlockSample: registers the block callback; one of two key creates and one of two value sets fail with ERROR_ACCESS_DENIED. */
export async function PreNotificationBlockSample(
): Promise<void>
/*++

Routine Description:

    This sample shows how to block a registry operation in the
    pre-notification phase.

    Two keys are created. The create operations should succeed, but one
    is intercepted by the callback and failed with ERROR_ACCESS_DENIED.
    The same is done for two values.

    See ..\sys\Pre.c for the callback routine used in this sample.

--*/
{

  let Res: number;
  let Key: HKEY = 0;
  let NotModifiedKey: HKEY = 0;
  let hr: number;
  let Result: boolean;
  let BytesReturned = 0;
  let Success = false;
  const ValueData = new Uint8Array([0xEF, 0xBE, 0xAD, 0xDE]);   // DWORD ValueData = 0xDEADBEEF;
  const RegisterCallbackInput = new Uint8Array(SIZEOF_REGISTER_CALLBACK_INPUT);
  const RegisterCallbackOutput = new Uint8Array(SIZEOF_REGISTER_CALLBACK_OUTPUT);
  const UnRegisterCallbackInput = new Uint8Array(SIZEOF_UNREGISTER_CALLBACK_INPUT);

  void BytesReturned;

  InfoPrint("");
  InfoPrint("=== Pre-Notification Block Sample ====");

  Exit: {

    //
    // Register callback
    //

    RegisterCallbackInput.subarray(REGISTER_CALLBACK_INPUT_Altitude).fill(0, 0, MAX_ALTITUDE_BUFFER_LENGTH * 2);
    hr = StringCbPrintf(RegisterCallbackInput.subarray(REGISTER_CALLBACK_INPUT_Altitude),
      MAX_ALTITUDE_BUFFER_LENGTH * 2,
      CALLBACK_ALTITUDE);

    if (!SUCCEEDED(hr)) {
      ErrorPrint(73, "Copying altitude string failed. Error %d", hr);
      break Exit;
    }

    new DataView(RegisterCallbackInput.buffer).setUint32(REGISTER_CALLBACK_INPUT_CallbackMode, CALLBACK_MODE.CALLBACK_MODE_PRE_NOTIFICATION_BLOCK, true);

    ({ ok: Result, bytes: BytesReturned } = await DeviceIoControl(globals.g_Driver,
      IOCTL_REGISTER_CALLBACK,
      RegisterCallbackInput,
      SIZEOF_REGISTER_CALLBACK_INPUT,
      RegisterCallbackOutput,
      SIZEOF_REGISTER_CALLBACK_OUTPUT));

    if (Result !== true) {
      ErrorPrint(89, "RegisterCallback failed. Error %d", GetLastError());
      break Exit;
    }

    Success = true;

    //
    // Create two keys.
    // Creating the "not modified" key will succeed.
    // Creating the other key will fail with ERROR_ACCESS_DENIED
    //

    //
    // NOTE: In the kernel debugger output, you will see 3 pre-notifications
    // for create key even though we only call create key twice.
    // You will also see the message that create key is blocked twice.
    //
    // Kd output:
    //
    // RegFltr:        Callback: Altitude-380010, NotifyClass-RegNtPreCreateKeyEx.
    // RegFltr:        Callback: Altitude-380010, NotifyClass-RegNtPostCreateKeyEx.
    // RegFltr:        Callback: Altitude-380010, NotifyClass-RegNtPreCreateKeyEx.
    // RegFltr:        Callback: Create key _RegFltrKey blocked.
    // RegFltr:        Callback: Altitude-380010, NotifyClass-RegNtPreCreateKeyEx.
    // RegFltr:        Callback: Create key _RegFltrKey blocked.
    //
    // The reason this happens is that RegCreateKeyEx is more than just a
    // wrapper around NtCreateKey. If the call to NtCreateKey fails,
    // RegCreateKeyEx will retry the call in slightly different ways
    // depending on the error returned.
    //

    ({ status: Res, hkResult: NotModifiedKey } = RegCreateKeyEx(globals.g_RootKey,
      NOT_MODIFIED_KEY_NAME,
      0,
      "Regfltr_test_class",
      0,
      KEY_ALL_ACCESS,
      null));

    if (Res !== ERROR_SUCCESS) {
      ErrorPrint(132, "RegCreateKeyEx returned unexpected error %d", Res);
      Success = false;
    }

    ({ status: Res, hkResult: Key } = RegCreateKeyEx(globals.g_RootKey,
      KEY_NAME,
      0,
      "Regfltr_test_class",
      0,
      KEY_ALL_ACCESS,
      null));

    if (Res !== ERROR_ACCESS_DENIED) {
      ErrorPrint(147, "RegCreateKeyEx returned unexpected error %d", Res);
      Success = false;
    }

    //
    // Set two values.
    // Setting the "not modified" value will succeed.
    // Setting the other value will fail with ERROR_ACCESS_DENIED.
    //

    Res = RegSetValueEx(globals.g_RootKey,
      NOT_MODIFIED_VALUE_NAME,
      0,
      REG_DWORD,
      ValueData,
      ValueData.length);

    if (Res !== ERROR_SUCCESS) {
      ErrorPrint(165, "RegSetValueEx return unexpected status %d", Res);
      Success = false;
    }

    Res = RegSetValueEx(globals.g_RootKey,
      VALUE_NAME,
      0,
      REG_DWORD,
      ValueData,
      ValueData.length);

    if (Res !== ERROR_ACCESS_DENIED) {
      ErrorPrint(177, "RegSetValueEx return unexpected status %d", Res);
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
      ErrorPrint(197, "UnRegisterCallback failed. Error %d", GetLastError());
      Success = false;
    }

  }

  //
  // Clean up
  //

  if (Key !== 0) {
    await RegCloseKey(Key);
  }
  RegDeleteKey(globals.g_RootKey, KEY_NAME);

  if (NotModifiedKey !== 0) {
    await RegCloseKey(NotModifiedKey);
  }
  RegDeleteKey(globals.g_RootKey, NOT_MODIFIED_KEY_NAME);

  RegDeleteValue(globals.g_RootKey, NOT_MODIFIED_VALUE_NAME);
  RegDeleteValue(globals.g_RootKey, VALUE_NAME);

  if (Success) {
    InfoPrint("Pre-Notification Block Sample succeeded.");
  } else {
    ErrorPrint(223, "Pre-Notification Block Sample FAILED.");
  }

}


/** PreNotificationBypassSample: registers the bypass callback; the key and value are made under the modified names instead. */
export async function PreNotificationBypassSample(
): Promise<void>
/*++

Routine Description:

    This sample shows how to bypass a registry operation so that the CM does
    not process the operation. Unlike block, an operation that is bypassed
    is still considered successful so the callback must provide the caller
    with what the CM would have provided.

    A key and a value are created. However both operations are bypassed by the
    callback so that the key and value actually created have different names
    than would is expected.

    See ..\sys\Pre.c for the callback routine used in this sample.

Return Value:

    None

--*/
{
  let Res: number;
  let Key: HKEY = 0;
  let hr: number;
  let Result: boolean;
  let BytesReturned = 0;
  let Success = false;
  const ValueData = new Uint8Array([0xEF, 0xBE, 0xAD, 0xDE]);   // DWORD ValueData = 0xDEADBEEF;
  const RegisterCallbackInput = new Uint8Array(SIZEOF_REGISTER_CALLBACK_INPUT);
  const RegisterCallbackOutput = new Uint8Array(SIZEOF_REGISTER_CALLBACK_OUTPUT);
  const UnRegisterCallbackInput = new Uint8Array(SIZEOF_UNREGISTER_CALLBACK_INPUT);

  void BytesReturned;

  InfoPrint("");
  InfoPrint("=== Pre-Notification Bypass Sample ====");

  Exit: {

    //
    // Register callback
    //

    RegisterCallbackInput.subarray(REGISTER_CALLBACK_INPUT_Altitude).fill(0, 0, MAX_ALTITUDE_BUFFER_LENGTH * 2);
    hr = StringCbPrintf(RegisterCallbackInput.subarray(REGISTER_CALLBACK_INPUT_Altitude),
      MAX_ALTITUDE_BUFFER_LENGTH * 2,
      CALLBACK_ALTITUDE);

    if (!SUCCEEDED(hr)) {
      ErrorPrint(280, "Copying altitude string failed. Error %d", hr);
      break Exit;
    }

    new DataView(RegisterCallbackInput.buffer).setUint32(REGISTER_CALLBACK_INPUT_CallbackMode, CALLBACK_MODE.CALLBACK_MODE_PRE_NOTIFICATION_BYPASS, true);

    ({ ok: Result, bytes: BytesReturned } = await DeviceIoControl(globals.g_Driver,
      IOCTL_REGISTER_CALLBACK,
      RegisterCallbackInput,
      SIZEOF_REGISTER_CALLBACK_INPUT,
      RegisterCallbackOutput,
      SIZEOF_REGISTER_CALLBACK_OUTPUT));

    if (Result !== true) {
      ErrorPrint(296, "RegisterCallback failed. Error %d", GetLastError());
      break Exit;
    }

    Success = true;

    //
    // Create a key and create a value. Both should succeed.
    //

    ({ status: Res, hkResult: Key } = RegCreateKeyEx(globals.g_RootKey,
      KEY_NAME,
      0,
      "Regfltr_test_class",
      0,
      KEY_ALL_ACCESS,
      null));

    if (Res !== ERROR_SUCCESS) {
      ErrorPrint(317, "RegCreateKeyEx returned unexpected error %d", Res);
      Success = false;
    }

    Res = RegSetValueEx(globals.g_RootKey,
      VALUE_NAME,
      0,
      REG_DWORD,
      ValueData,
      ValueData.length);

    if (Res !== ERROR_SUCCESS) {
      ErrorPrint(329, "RegSetValueEx return unexpected status %d", Res);
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
      ErrorPrint(349, "UnRegisterCallback failed. Error %d", GetLastError());
      Success = false;
    }

    //
    // Check that a key with the expected name KEY_NAME cannot be found
    // but a key with the "modified" name can be found.
    //

    if (Key !== 0) {
      await RegCloseKey(Key);
    }

    // (On failure RegOpenKeyEx leaves the caller's variable as it was.)
    const opened = RegOpenKeyEx(globals.g_RootKey,
      KEY_NAME,
      0,
      KEY_ALL_ACCESS);
    Res = opened.status;
    if (Res === ERROR_SUCCESS) Key = opened.hkResult;

    if (Res !== ERROR_FILE_NOT_FOUND) {
      ErrorPrint(369, "RegOpenKeyEx returned unexpected error: %d", Res);
      if (Key !== 0) {
        await RegCloseKey(Key);
        Key = 0;
      }
      Success = false;
    }

    ({ status: Res, hkResult: Key } = RegOpenKeyEx(globals.g_RootKey,
      MODIFIED_KEY_NAME,
      0,
      KEY_ALL_ACCESS));

    if (Res !== ERROR_SUCCESS) {
      ErrorPrint(384, "RegOpenKeyEx returned unexpected error: %d", Res);
      Success = false;
    }

    //
    // Do the same check by trying to delete a value with VALUE_NAME and
    // with the "modified" name.
    //

    Res = RegDeleteValue(globals.g_RootKey, VALUE_NAME);

    if (Res !== ERROR_FILE_NOT_FOUND) {
      ErrorPrint(396, "RegDeleteValue on original value returned unexpected status: %d",
        Res);
      Success = false;
    }

    Res = RegDeleteValue(globals.g_RootKey, MODIFIED_VALUE_NAME);

    if (Res !== ERROR_SUCCESS) {
      ErrorPrint(404, "RegDeleteValue on original value returned unexpected status: %d",
        Res);
      Success = false;
    }

  }

  if (Success) {
    InfoPrint("Pre-Notification Bypass Sample succeeded.");
  } else {
    ErrorPrint(414, "Pre-Notification Bypass Sample failed.");
  }

  //
  // Clean up
  //

  if (Key !== 0) {
    await RegCloseKey(Key);
  }
  RegDeleteKey(globals.g_RootKey, KEY_NAME);
  RegDeleteKey(globals.g_RootKey, MODIFIED_KEY_NAME);

}
