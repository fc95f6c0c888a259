/*++
Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    Common.h (common.ts)

Abstract:

    Definitions common to both the driver and the executable.

    The IOCTLs' input and output structures are METHOD_BUFFERED system buffers in guest
    memory; their x64 layouts are the *_OFFSET and SIZEOF_* constants below.

Environment:

    User and kernel mode

--*/

import { CTL_CODE, FILE_ANY_ACCESS, METHOD_BUFFERED } from "../../../io/ioctl.js";
import { FILE_DEVICE_UNKNOWN } from "../../../io/objects.js";

/** devioctl.h: FILE_SPECIAL_ACCESS is FILE_ANY_ACCESS. */
const FILE_SPECIAL_ACCESS = FILE_ANY_ACCESS;

//
// Driver and device names.
//

export const DRIVER_NAME = "RegFltr";
export const DRIVER_NAME_WITH_EXT = "RegFltr.sys";

export const NT_DEVICE_NAME = "\\Device\\RegFltr";
export const DOS_DEVICES_LINK_NAME = "\\DosDevices\\RegFltr";
export const WIN32_DEVICE_NAME = "\\\\.\\RegFltr";

//
// SDDL string used when creating the device. This string
// limits access to this driver to system and admins only.
//

export const DEVICE_SDDL = "D:P(A;;GA;;;SY)(A;;GA;;;BA)";

//
// IOCTLs exposed by the driver.
//

export const IOCTL_DO_KERNELMODE_SAMPLES = CTL_CODE(FILE_DEVICE_UNKNOWN, (0x800 + 0), METHOD_BUFFERED, FILE_SPECIAL_ACCESS);
export const IOCTL_REGISTER_CALLBACK = CTL_CODE(FILE_DEVICE_UNKNOWN, (0x800 + 1), METHOD_BUFFERED, FILE_SPECIAL_ACCESS);
export const IOCTL_UNREGISTER_CALLBACK = CTL_CODE(FILE_DEVICE_UNKNOWN, (0x800 + 2), METHOD_BUFFERED, FILE_SPECIAL_ACCESS);
export const IOCTL_GET_CALLBACK_VERSION = CTL_CODE(FILE_DEVICE_UNKNOWN, (0x800 + 3), METHOD_BUFFERED, FILE_SPECIAL_ACCESS);

//
// Common definitions
//

export const ROOT_KEY_ABS_PATH = "\\REGISTRY\\MACHINE\\Software\\_RegFltrRoot";
export const ROOT_KEY_REL_PATH = "Software\\_RegFltrRoot";
export const KEY_NAME = "_RegFltrKey";
export const MODIFIED_KEY_NAME = "_RegFltrModifiedKey";
export const NOT_MODIFIED_KEY_NAME = "_RegFltrNotModifiedKey";
export const VALUE_NAME = "_RegFltrValue";
export const MODIFIED_VALUE_NAME = "_RegFltrModifiedValue";
export const NOT_MODIFIED_VALUE_NAME = "_RegFltrNotModifiedValue";

export const CALLBACK_LOW_ALTITUDE = "380000";
export const CALLBACK_ALTITUDE = "380010";
export const CALLBACK_HIGH_ALTITUDE = "380020";

export const MAX_ALTITUDE_BUFFER_LENGTH = 10;

//
// List of callback modes
//
export enum CALLBACK_MODE {
  CALLBACK_MODE_PRE_NOTIFICATION_BLOCK,
  CALLBACK_MODE_PRE_NOTIFICATION_BYPASS,
  CALLBACK_MODE_POST_NOTIFICATION_OVERRIDE_ERROR,
  CALLBACK_MODE_POST_NOTIFICATION_OVERRIDE_SUCCESS,
  CALLBACK_MODE_TRANSACTION_REPLAY,
  CALLBACK_MODE_TRANSACTION_ENLIST,
  CALLBACK_MODE_MULTIPLE_ALTITUDE_BLOCK_DURING_PRE,
  CALLBACK_MODE_MULTIPLE_ALTITUDE_INTERNAL_INVOCATION,
  CALLBACK_MODE_MULTIPLE_ALTITUDE_MONITOR,
  CALLBACK_MODE_SET_CALL_CONTEXT,
  CALLBACK_MODE_SET_OBJECT_CONTEXT,
  CALLBACK_MODE_CAPTURE,
  CALLBACK_MODE_VERSION_BUGCHECK,
  CALLBACK_MODE_VERSION_CREATE_OPEN_V1,
}

//
// List of kernel mode samples
//
export enum KERNELMODE_SAMPLE {
  KERNELMODE_SAMPLE_PRE_NOTIFICATION_BLOCK = 0,
  KERNELMODE_SAMPLE_PRE_NOTIFICATION_BYPASS,
  KERNELMODE_SAMPLE_POST_NOTIFICATION_OVERRIDE_ERROR,
  KERNELMODE_SAMPLE_POST_NOTIFICATION_OVERRIDE_SUCCESS,
  KERNELMODE_SAMPLE_TRANSACTION_REPLAY,
  KERNELMODE_SAMPLE_TRANSACTION_ENLIST,
  KERNELMODE_SAMPLE_MULTIPLE_ALTITUDE_BLOCK_DURING_PRE,
  KERNELMODE_SAMPLE_MULTIPLE_ALTITUDE_INTERNAL_INVOCATION,
  KERNELMODE_SAMPLE_SET_CALL_CONTEXT,
  KERNELMODE_SAMPLE_SET_OBJECT_CONTEXT,
  KERNELMODE_SAMPLE_VERSION_CREATE_OPEN_V1,
  MAX_KERNELMODE_SAMPLES,
}

//
// Input and output data structures for the various driver IOCTLs
//

// typedef struct _REGISTER_CALLBACK_INPUT {
//     CALLBACK_MODE CallbackMode;                      // specifies the callback mode for the callback context
//     WCHAR Altitude[MAX_ALTITUDE_BUFFER_LENGTH];      // specifies the altitude to register the callback at
// } REGISTER_CALLBACK_INPUT, *PREGISTER_CALLBACK_INPUT;
export const REGISTER_CALLBACK_INPUT_CallbackMode = 0;
export const REGISTER_CALLBACK_INPUT_Altitude = 4;
export const SIZEOF_REGISTER_CALLBACK_INPUT = 4 + MAX_ALTITUDE_BUFFER_LENGTH * 2;

// typedef struct _REGISTER_CALLBACK_OUTPUT {
//     LARGE_INTEGER Cookie;                            // receives the cookie value from registering the callback
// } REGISTER_CALLBACK_OUTPUT, *PREGISTER_CALLBACK_OUTPUT;
export const REGISTER_CALLBACK_OUTPUT_Cookie = 0;
export const SIZEOF_REGISTER_CALLBACK_OUTPUT = 8;

// typedef struct _UNREGISTER_CALLBACK_INPUT {
//     LARGE_INTEGER Cookie;                            // specifies the cookie value for the callback
// } UNREGISTER_CALLBACK_INPUT, *PUNREGISTER_CALLBACK_INPUT;
export const UNREGISTER_CALLBACK_INPUT_Cookie = 0;
export const SIZEOF_UNREGISTER_CALLBACK_INPUT = 8;

// typedef struct _GET_CALLBACK_VERSION_OUTPUT {
//     ULONG MajorVersion;                              // Receives the version number of the registry callback
//     ULONG MinorVersion;
// } GET_CALLBACK_VERSION_OUTPUT, *PGET_CALLBACK_VERSION_OUTPUT;
export const GET_CALLBACK_VERSION_OUTPUT_MajorVersion = 0;
export const GET_CALLBACK_VERSION_OUTPUT_MinorVersion = 4;
export const SIZEOF_GET_CALLBACK_VERSION_OUTPUT = 8;

// typedef struct _DO_KERNELMODE_SAMPLES_OUTPUT {
//     BOOLEAN SampleResults[MAX_KERNELMODE_SAMPLES];   // An array that receives the results of the kernel mode samples.
// } DO_KERNELMODE_SAMPLES_OUTPUT, *PDO_KERNELMODE_SAMPLES_OUTPUT;
export const DO_KERNELMODE_SAMPLES_OUTPUT_SampleResults = 0;
export const SIZEOF_DO_KERNELMODE_SAMPLES_OUTPUT = KERNELMODE_SAMPLE.MAX_KERNELMODE_SAMPLES;
