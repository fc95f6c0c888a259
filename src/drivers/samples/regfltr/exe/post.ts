/*++
Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    Post.c (post.ts)

Abstract:

    Samples that show what callbacks can do during the post-notification
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
  CALLBACK_ALTITUDE, CALLBACK_MODE, IOCTL_REGISTER_CALLBACK, IOCTL_UNREGISTER_CALLBACK, KEY_NAME, MAX_ALTITUDE_BUFFER_LENGTH, MODIFIED_KEY_NAME, NOT_MODIFIED_VALUE_NAME, REGISTER_CALLBACK_INPUT_Altitude, REGISTER_CALLBACK_INPUT_CallbackMode, REGISTER_CALLBACK_OUTPUT_Cookie, SIZEOF_REGISTER_CALLBACK_INPUT, SIZEOF_REGISTER_CALLBACK_OUTPUT, SIZEOF_UNREGISTER_CALLBACK_INPUT, UNREGISTER_CALLBACK_INPUT_Cookie, VALUE_NAME,
} from "../common.js";
import {
  ErrorPrint, globals, InfoPrint, StringCbPrintf, SUCCEEDED,
} from "./regctrl-header.js";
/** KEY_ALL_ACCESS (winnt.h). */
const KEY_ALL_ACCESS = 0xF003F;

/*++

    In registry callback version 1.0, there is a bug with post-notification
    processing and multiple registry filter drivers that can break the samples
    here. It is fixed with version 1.1.

    The bug occurs when a driver blocks or bypasses a registry operation in the
    pre-notification phase. Even though the processing of the operation stops
    there, registry filter drivers registered at higher altitudes will still
    get a post-notification for the operation. If the higher altitude driver
    tries to change the status of the operation from failure to success or
    vice versa, this change will be ignored and the status returned
    will be the status returned by the driver who bypassed or blocked the
    operation during the pre-notification phase.

    For more information on how notification processing works with multiple
    registry filter drivers registered see ..\sys\MultiAlt.c

    For more information on issues in version 1.0 and changes in version 1.1
    see ..\sys\Version.c

    Beginning with Windows 8.1, it is no longer possible to pass the object
    provided to a RegNtPostCreateKeyEx or RegNtPostOpenKeyEx callout to
    ObOpenObjectByPointer. To work around this, filters should perform all
    create key or open key processing in a RegNtPreCreateKeyEx or
    RegNtPreOpenKeyEx callout. If for any reason the desired processing cannot
    be performed in a RegNtPreCreateKeyEx or RegNtPreOpenKeyEx callout, then
    use CmSetCallbackObjectContext to tag a newly-created or newly-opened key
    as unprocessed and process it in the pre-operation callback for a
    subsequent operation.

--*/


/** PostNotificationOverrideSuccessSample: registers the override-success callback; one of two value sets fails with ERROR_ACCESS_DENIED. */
export async function PostNotificationOverrideSuccessSample(
): Promise<void>
/*++

Routine Description:

    This sample shows how registry callbacks can fail a registry operation
    in the post-notification phase.

    Two values are created. The creates normally should succeeded, but one
    is intercepted by the callback and failed with ERROR_ACCESS_DENIED.

    See ..\sys\Post.c for the callback routine used in this sample.

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
  InfoPrint("=== Post-Notification Override Success Sample ====");

  Exit: {

    //
    // Register callback
    //

    RegisterCallbackInput.subarray(REGISTER_CALLBACK_INPUT_Altitude).fill(0, 0, MAX_ALTITUDE_BUFFER_LENGTH * 2);
    hr = StringCbPrintf(RegisterCallbackInput.subarray(REGISTER_CALLBACK_INPUT_Altitude),
      MAX_ALTITUDE_BUFFER_LENGTH * 2,
      CALLBACK_ALTITUDE);

    if (!SUCCEEDED(hr)) {
      ErrorPrint(104, "Copying altitude string failed. Error %d", hr);
      break Exit;
    }

    new DataView(RegisterCallbackInput.buffer).setUint32(REGISTER_CALLBACK_INPUT_CallbackMode, CALLBACK_MODE.CALLBACK_MODE_POST_NOTIFICATION_OVERRIDE_SUCCESS, true);

    ({ ok: Result, bytes: BytesReturned } = await DeviceIoControl(globals.g_Driver,
      IOCTL_REGISTER_CALLBACK,
      RegisterCallbackInput,
      SIZEOF_REGISTER_CALLBACK_INPUT,
      RegisterCallbackOutput,
      SIZEOF_REGISTER_CALLBACK_OUTPUT));

    if (Result !== true) {
      ErrorPrint(120, "RegisterCallback failed. Error %d", GetLastError());
      break Exit;
    }

    Success = true;

    //
    // Set two values.
    // Setting the "not modified" value will succeed.
    // Setting the other value will fail with file not found.
    //

    Res = RegSetValueEx(globals.g_RootKey,
      NOT_MODIFIED_VALUE_NAME,
      0,
      REG_DWORD,
      ValueData,
      ValueData.length);

    if (Res !== ERROR_SUCCESS) {
      ErrorPrint(140, "RegSetValueEx return unexpected status %d", Res);
      Success = false;
    }


    Res = RegSetValueEx(globals.g_RootKey,
      VALUE_NAME,
      0,
      REG_DWORD,
      ValueData,
      ValueData.length);

    if (Res !== ERROR_ACCESS_DENIED) {
      ErrorPrint(153, "RegSetValueEx return unexpected status %d", Res);
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
      ErrorPrint(173, "UnRegisterCallback failed. Error %d", GetLastError());
      Success = false;
    }


    //
    // Verify that the set value call was failed by
    // checking that the value with VALUE_NAME does not
    // exist.
    //

    Res = RegDeleteValue(globals.g_RootKey, VALUE_NAME);

    if (Res !== ERROR_FILE_NOT_FOUND) {
      ErrorPrint(187, "RegDeleteValue on value returned unexpected status: %d",
        Res);
      Success = false;
    }

  }

  RegDeleteValue(globals.g_RootKey, VALUE_NAME);
  RegDeleteValue(globals.g_RootKey, NOT_MODIFIED_VALUE_NAME);

  if (Success) {
    InfoPrint("Post-Notification Override Success Sample succeeded.");
  } else {
    ErrorPrint(200, "Post-Notification Override Success Sample FAILED.");
  }

}


/** PostNotificationOverrideErrorSample: registers the override-error callback; opening a missing key succeeds with another key. */
export async function PostNotificationOverrideErrorSample(
): Promise<void>
/*++

Routine Description:

    This sample shows how a registry callback can change a failed registry
    operation into a successful operation in the post-notification phase.

    A key that does not exist is opened. The opens should fail, but it is
    intercepted by the callback and the open is redirected to a key that
    does exist.

    See ..\sys\Post.c for the callback routine used in this sample.

Return Value:

    None

--*/
{

  let Res: number;
  let Key: HKEY = 0;
  let ModifiedKey: HKEY = 0;
  let hr: number;
  let Result: boolean;
  let BytesReturned = 0;
  let Success = false;
  const RegisterCallbackInput = new Uint8Array(SIZEOF_REGISTER_CALLBACK_INPUT);
  const RegisterCallbackOutput = new Uint8Array(SIZEOF_REGISTER_CALLBACK_OUTPUT);
  const UnRegisterCallbackInput = new Uint8Array(SIZEOF_UNREGISTER_CALLBACK_INPUT);

  void BytesReturned;

  InfoPrint("");
  InfoPrint("=== Post-Notification Override Error Sample ====");

  Exit: {

    //
    // Create a key with name MODIFIED_KEY_NAME
    //

    ({ status: Res, hkResult: ModifiedKey } = RegCreateKeyEx(globals.g_RootKey,
      MODIFIED_KEY_NAME,
      0,
      null,
      0,
      KEY_ALL_ACCESS,
      null));

    if (Res !== ERROR_SUCCESS) {
      ErrorPrint(258, "RegCreateKeyEx returned unexpected error %d", Res);
      break Exit;
    }

    //
    // Now try to open a key by KEY_NAME which does not exist. Verify that
    // this fails.
    //

    ({ status: Res, hkResult: Key } = RegOpenKeyEx(globals.g_RootKey,
      KEY_NAME,
      0,
      KEY_ALL_ACCESS));

    if (Res !== ERROR_FILE_NOT_FOUND) {
      ErrorPrint(274, "RegOpenKeyEx returned unexpected error %d", Res);
      break Exit;
    }

    //
    // Register callback
    //

    RegisterCallbackInput.subarray(REGISTER_CALLBACK_INPUT_Altitude).fill(0, 0, MAX_ALTITUDE_BUFFER_LENGTH * 2);
    hr = StringCbPrintf(RegisterCallbackInput.subarray(REGISTER_CALLBACK_INPUT_Altitude),
      MAX_ALTITUDE_BUFFER_LENGTH * 2,
      CALLBACK_ALTITUDE);

    if (!SUCCEEDED(hr)) {
      ErrorPrint(290, "Copying altitude string failed. Error %d", hr);
      break Exit;
    }

    new DataView(RegisterCallbackInput.buffer).setUint32(REGISTER_CALLBACK_INPUT_CallbackMode, CALLBACK_MODE.CALLBACK_MODE_POST_NOTIFICATION_OVERRIDE_ERROR, true);

    ({ ok: Result, bytes: BytesReturned } = await DeviceIoControl(globals.g_Driver,
      IOCTL_REGISTER_CALLBACK,
      RegisterCallbackInput,
      SIZEOF_REGISTER_CALLBACK_INPUT,
      RegisterCallbackOutput,
      SIZEOF_REGISTER_CALLBACK_OUTPUT));

    if (Result !== true) {
      ErrorPrint(307, "RegisterCallback failed. Error %d", GetLastError());
      break Exit;
    }

    Success = true;

    //
    // Open key again. The callback will intercept this and make it succeed.
    //

    ({ status: Res, hkResult: Key } = RegOpenKeyEx(globals.g_RootKey,
      KEY_NAME,
      0,
      KEY_ALL_ACCESS));

    if (Res !== ERROR_SUCCESS) {
      ErrorPrint(324, "RegOpenKeyEx returned unexpected error %d", Res);
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
      ErrorPrint(344, "UnRegisterCallback failed. Error %d", GetLastError());
      Success = false;
    }

  }

  if (Key !== 0) {
    await RegCloseKey(Key);
  }
  if (ModifiedKey !== 0) {
    await RegCloseKey(ModifiedKey);
  }
  RegDeleteKey(globals.g_RootKey, KEY_NAME);
  RegDeleteKey(globals.g_RootKey, MODIFIED_KEY_NAME);

  if (Success) {
    InfoPrint("Post-Notification Override Error Sample succeeded.");
  } else {
    ErrorPrint(362, "Post-Notification Override Error Sample FAILED.");
  }

}
