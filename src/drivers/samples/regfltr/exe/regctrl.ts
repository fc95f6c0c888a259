/*++
Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    regctrl.c (regctrl.ts)

Abstract:

    Invokes the usermode and kernel mode callback samples.

Environment:

    User mode Win32 console application

Revision History:

--*/

import { DeviceIoControl } from "../../../../io/usermode.js";
import { HKEY_LOCAL_MACHINE, RegCloseKey, RegCreateKeyEx, RegDeleteKey } from "../../../../io/registry-api.js";
import { ERROR_SUCCESS, GetLastError } from "../../../../io/win32.js";
import { attachConsole, printf, type ConsoleOutput } from "../../common/crt.js";
import {
  DRIVER_NAME, GET_CALLBACK_VERSION_OUTPUT_MajorVersion, GET_CALLBACK_VERSION_OUTPUT_MinorVersion, IOCTL_DO_KERNELMODE_SAMPLES,
  IOCTL_GET_CALLBACK_VERSION, KERNELMODE_SAMPLE, ROOT_KEY_REL_PATH, SIZEOF_DO_KERNELMODE_SAMPLES_OUTPUT, SIZEOF_GET_CALLBACK_VERSION_OUTPUT,
  WIN32_DEVICE_NAME,
} from "../common.js";
import { CaptureSample } from "./capture.js";
import { PostNotificationOverrideErrorSample, PostNotificationOverrideSuccessSample } from "./post.js";
import { PreNotificationBlockSample, PreNotificationBypassSample } from "./pre.js";
import { ErrorPrint, globals, InfoPrint } from "./regctrl-header.js";
import { DRIVER_FILE_NAME, UtilLoadDriver, UtilUnloadDriver } from "./util.js";

/** KEY_ALL_ACCESS (winnt.h). */
const KEY_ALL_ACCESS = 0xF003F;


/**
 * regctrl's wmain: run as a user-mode program (Machine.runProgram). Loads the driver,
 * prints the callback version, runs the kernel-mode samples (printing each one's result)
 * and the user-mode samples, then unloads the driver. `argv` is unused, as in the sample;
 * what it prints goes to `stdout`.
 */
export async function wmain(
  argv: readonly string[],
  stdout: ConsoleOutput,
): Promise<void> {

  let Result: boolean;

  void argv; // UNREFERENCED_PARAMETER(argc); UNREFERENCED_PARAMETER(argv);

  attachConsole(stdout);

  ({ ok: Result, hDriver: globals.g_Driver } = await UtilLoadDriver(DRIVER_NAME,
    DRIVER_FILE_NAME,
    WIN32_DEVICE_NAME));

  if (Result !== true) {
    ErrorPrint(82, "UtilLoadDriver failed, exiting...");
    return;   // exit(1);
  }

  printf("\n");
  printf("Starting Callback samples...\n");
  printf("\n");
  printf("To get more detailed output from the sample, do either one of these steps:\n");
  printf("\n");
  printf("\tA. In kernel debugger: \n");
  printf("\tkd> ed nt!Kd_IHVDRIVER_Mask 0x8\n\n");
  printf("\tB. Run this script and reboot:\n");
  printf("\treg add \"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Debug Print Filter\" /v IHVDRIVER /t REG_DWORD /d 0x8\n\n");

  //
  // Get the registry callback version to determine what samples can
  // run on the system.
  //

  if (await GetCallbackVersion()) {
    InfoPrint("Callback version is %u.%u", globals.g_MajorVersion, globals.g_MinorVersion);
  }

  await DoKernelModeSamples();
  await DoUserModeSamples();

  await UtilUnloadDriver(globals.g_Driver, null, DRIVER_NAME);

}


/** GetCallbackVersion: asks the driver for the registry callback version (into g_MajorVersion / g_MinorVersion). */
export async function GetCallbackVersion(
): Promise<boolean>
/*++

Routine Description:

    This routine asks the driver for the registry callback version and
    stores it in the global variables g_MajorVersion and g_MinorVersion.

--*/
{

  const Output = new Uint8Array(SIZEOF_GET_CALLBACK_VERSION_OUTPUT);

  const { ok: Result } = await DeviceIoControl(globals.g_Driver,
    IOCTL_GET_CALLBACK_VERSION,
    null,
    0,
    Output,
    SIZEOF_GET_CALLBACK_VERSION_OUTPUT);

  if (Result !== true) {
    ErrorPrint(140, "DeviceIoControl for GET_CALLBACK_VERSION failed, error %d\n", GetLastError());
    return false;
  }

  const view = new DataView(Output.buffer);
  globals.g_MajorVersion = view.getUint32(GET_CALLBACK_VERSION_OUTPUT_MajorVersion, true);
  globals.g_MinorVersion = view.getUint32(GET_CALLBACK_VERSION_OUTPUT_MinorVersion, true);

  return true;

}

/** DoUserModeSamples: creates the root test key and runs the user-mode samples, then deletes it. */
export async function DoUserModeSamples(
): Promise<void>
/*++

Routine Description:

    Creates the callback root test key and calls the usermode samples.

--*/
{

  let Res: number;

  Exit: {

    ({ status: Res, hkResult: globals.g_RootKey } = RegCreateKeyEx(HKEY_LOCAL_MACHINE,
      ROOT_KEY_REL_PATH,
      0,
      null,
      0,
      KEY_ALL_ACCESS,
      null));

    if (Res !== ERROR_SUCCESS) {
      ErrorPrint(176, "Creating root key failed. Error %d", Res);
      break Exit;
    }

    await PreNotificationBlockSample();
    await PreNotificationBypassSample();
    await PostNotificationOverrideSuccessSample();
    await PostNotificationOverrideErrorSample();
    await CaptureSample();

  }

  if (globals.g_RootKey !== 0) {
    await RegCloseKey(globals.g_RootKey);
  }
  RegDeleteKey(HKEY_LOCAL_MACHINE, ROOT_KEY_REL_PATH);

}


/** DoKernelModeSamples: asks the driver to run the kernel-mode samples and prints each one's result. */
export async function DoKernelModeSamples(
): Promise<void>
/*++

Routine Description:

    Tells the driver to run the kernel mode samples and prints out the
    results.

--*/
{

  let Index: number;
  const Output = new Uint8Array(SIZEOF_DO_KERNELMODE_SAMPLES_OUTPUT);

  const { ok: Result } = await DeviceIoControl(globals.g_Driver,
    IOCTL_DO_KERNELMODE_SAMPLES,
    null,
    0,
    Output,
    SIZEOF_DO_KERNELMODE_SAMPLES_OUTPUT);

  if (Result !== true) {
    ErrorPrint(224, "DeviceIoControl for DO_KERNELMODE_SAMPLES failed, error %d\n", GetLastError());
    return;
  }

  InfoPrint("");
  InfoPrint("=== Results of KernelMode Samples ===");

  for (Index = 0; Index < KERNELMODE_SAMPLE.MAX_KERNELMODE_SAMPLES; Index++) {
    InfoPrint("\t%S: %s",
      GetKernelModeSampleName(Index),
      Output[Index] ? "Succeeded" : "FAILED");
  }

}



/** GetKernelModeSampleName: the name of a KERNELMODE_SAMPLE value. */
export function GetKernelModeSampleName(
  Sample: KERNELMODE_SAMPLE,
): string
/*++

Routine Description:

    Converts from a KERNELMODE_SAMPLE value to a string

Arguments:

    Sample - value that identifies a kernel mode sample

Return Value:

    Returns a string of the name of Sample.

--*/
{
  switch (Sample) {
    case KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_PRE_NOTIFICATION_BLOCK:
      return "Pre-Notification Block Sample";
    case KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_PRE_NOTIFICATION_BYPASS:
      return "Pre-Notification Bypass Sample";
    case KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_POST_NOTIFICATION_OVERRIDE_SUCCESS:
      return "Post-Notification Override Success Sample";
    case KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_POST_NOTIFICATION_OVERRIDE_ERROR:
      return "Post-Notification Override Error Sample";
    case KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_TRANSACTION_REPLAY:
      return "Transaction Replay Sample";
    case KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_TRANSACTION_ENLIST:
      return "Transaction Enlist Sample";
    case KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_MULTIPLE_ALTITUDE_BLOCK_DURING_PRE:
      return "Multiple Altitude Block During Pre Sample";
    case KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_MULTIPLE_ALTITUDE_INTERNAL_INVOCATION:
      return "Multiple Altitude Internal Invocation Sample";
    case KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_SET_CALL_CONTEXT:
      return "Set Call Context Sample";
    case KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_SET_OBJECT_CONTEXT:
      return "Set Object Context Sample";
    case KERNELMODE_SAMPLE.KERNELMODE_SAMPLE_VERSION_CREATE_OPEN_V1:
      return "Create Open V1 Sample";
    default:
      return "Unsupported Kernel Mode Sample";
  }
}
