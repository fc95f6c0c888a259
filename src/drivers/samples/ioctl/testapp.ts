/*++

Copyright (c) 1990-98  Microsoft Corporation All Rights Reserved

Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    testapp.c (testapp.ts)

Abstract:

    IOCTLAPP: opens \\.\IoctlTest (installing and starting the SIoctl driver through the
    Service Control Manager when it is not there), sends the four IOCTL_SIOCTL_METHOD_*
    requests with its strings and prints what the driver returned, then closes the
    device and stops and removes the driver.

Environment:

    Win32 console multi-threaded application

--*/
import {
  CloseHandle, CreateFile, CREATE_ALWAYS, DeviceIoControl, FILE_ATTRIBUTE_NORMAL, GENERIC_READ, GENERIC_WRITE, VirtualAlloc, type HANDLE,
} from "../../../io/usermode.js";
import { ERROR_FILE_NOT_FOUND, GetLastError, INVALID_HANDLE_VALUE } from "../../../io/win32.js";
import type { PVOID } from "../../../mm/memory.js";
import { attachConsole, memset, printf, strlen, StringCbCopy, type ConsoleOutput } from "../common/crt.js";
import { ManageDriver, programDirectory, SetupDriverName } from "../common/install.js";
import {
  DRIVER_FUNC_INSTALL, DRIVER_FUNC_REMOVE, DRIVER_NAME, IOCTL_SIOCTL_METHOD_BUFFERED, IOCTL_SIOCTL_METHOD_IN_DIRECT, IOCTL_SIOCTL_METHOD_NEITHER,
  IOCTL_SIOCTL_METHOD_OUT_DIRECT,
} from "./sioctl-public.js";


/** The driver's module, next to this program (the sample's SIOCTL.SYS). */
export const DRIVER_MODULE = "sioctl";

/** Bytes of each of the program's two buffers (char OutputBuffer[100], InputBuffer[100]). */
export const BUFFER_SIZE = 100;

/**
 * The program's global buffers, in its data section (user memory of the process, laid out
 * in declaration order): char OutputBuffer[100]; char InputBuffer[100].
 */
function dataSection(): { OutputBuffer: PVOID; InputBuffer: PVOID } {
  const base = VirtualAlloc(2 * BUFFER_SIZE);
  return { OutputBuffer: base, InputBuffer: base + BUFFER_SIZE };
}

/**
 * IOCTLAPP's main: run as a user-mode program (Machine.runProgram). `argv` is the
 * command line (unused, as in the sample); what it prints goes to `stdout`.
 */
export async function main(
  argv: readonly string[],
  stdout: ConsoleOutput,
): Promise<void> {
  let hDevice: HANDLE;
  let bRc: boolean;
  let bytesReturned: number;
  let errNum = 0;
  let driverLocation = "";   // TCHAR driverLocation[MAX_PATH]

  void argv; // UNREFERENCED_PARAMETER(argc); UNREFERENCED_PARAMETER(argv);

  attachConsole(stdout);
  const { OutputBuffer, InputBuffer } = dataSection();

  //
  // open the device
  //

  if ((hDevice = await CreateFile("\\\\.\\IoctlTest",
    GENERIC_READ | GENERIC_WRITE,
    0,
    null,
    CREATE_ALWAYS,
    FILE_ATTRIBUTE_NORMAL,
    null)) === INVALID_HANDLE_VALUE) {

    errNum = GetLastError();

    if (errNum !== ERROR_FILE_NOT_FOUND) {

      printf("CreateFile failed : %d\n", errNum);

      return;
    }

    //
    // The driver is not started yet so let us the install the driver.
    // First setup full path to driver name.
    //

    const location = SetupDriverName(DRIVER_NAME, DRIVER_MODULE, programDirectory(import.meta.url));
    if (location === null) {

      return;
    }
    driverLocation = location;

    if (!await ManageDriver(DRIVER_NAME,
      driverLocation,
      DRIVER_FUNC_INSTALL,
    )) {

      printf("Unable to install driver.\n");

      //
      // Error - remove driver.
      //

      await ManageDriver(DRIVER_NAME,
        driverLocation,
        DRIVER_FUNC_REMOVE,
      );

      return;
    }

    hDevice = await CreateFile("\\\\.\\IoctlTest",
      GENERIC_READ | GENERIC_WRITE,
      0,
      null,
      CREATE_ALWAYS,
      FILE_ATTRIBUTE_NORMAL,
      null);

    if (hDevice === INVALID_HANDLE_VALUE) {
      printf("Error: CreatFile Failed : %d\n", GetLastError());
      return;
    }

  }

  //
  // Printing Input & Output buffer pointers and size
  //

  printf("InputBuffer Pointer = %p, BufLength = %Iu\n", InputBuffer,
    BUFFER_SIZE);
  printf("OutputBuffer Pointer = %p BufLength = %Iu\n", OutputBuffer,
    BUFFER_SIZE);
  //
  // Performing METHOD_BUFFERED
  //

  StringCbCopy(InputBuffer, BUFFER_SIZE,
    "This String is from User Application; using METHOD_BUFFERED");

  printf("\nCalling DeviceIoControl METHOD_BUFFERED:\n");

  memset(OutputBuffer, 0, BUFFER_SIZE);

  ({ ok: bRc, bytes: bytesReturned } = await DeviceIoControl(hDevice,
    IOCTL_SIOCTL_METHOD_BUFFERED,
    InputBuffer,
    strlen(InputBuffer) + 1,
    OutputBuffer,
    BUFFER_SIZE,
    null,
  ));

  if (!bRc) {
    printf("Error in DeviceIoControl : %d", GetLastError());
    return;

  }
  printf("    OutBuffer (%d): %s\n", bytesReturned, OutputBuffer);

  //
  // Performing METHOD_NEITHER
  //

  printf("\nCalling DeviceIoControl METHOD_NEITHER\n");

  StringCbCopy(InputBuffer, BUFFER_SIZE,
    "This String is from User Application; using METHOD_NEITHER");
  memset(OutputBuffer, 0, BUFFER_SIZE);

  ({ ok: bRc, bytes: bytesReturned } = await DeviceIoControl(hDevice,
    IOCTL_SIOCTL_METHOD_NEITHER,
    InputBuffer,
    strlen(InputBuffer) + 1,
    OutputBuffer,
    BUFFER_SIZE,
    null,
  ));

  if (!bRc) {
    printf("Error in DeviceIoControl : %d\n", GetLastError());
    return;

  }

  printf("    OutBuffer (%d): %s\n", bytesReturned, OutputBuffer);

  //
  // Performing METHOD_IN_DIRECT
  //

  printf("\nCalling DeviceIoControl METHOD_IN_DIRECT\n");

  StringCbCopy(InputBuffer, BUFFER_SIZE,
    "This String is from User Application; using METHOD_IN_DIRECT");
  StringCbCopy(OutputBuffer, BUFFER_SIZE,
    "This String is from User Application in OutBuffer; using METHOD_IN_DIRECT");

  ({ ok: bRc, bytes: bytesReturned } = await DeviceIoControl(hDevice,
    IOCTL_SIOCTL_METHOD_IN_DIRECT,
    InputBuffer,
    strlen(InputBuffer) + 1,
    OutputBuffer,
    BUFFER_SIZE,
    null,
  ));

  if (!bRc) {
    printf("Error in DeviceIoControl : %d", GetLastError());
    return;
  }

  printf("    Number of bytes transfered from OutBuffer: %d\n",
    bytesReturned);

  //
  // Performing METHOD_OUT_DIRECT
  //

  printf("\nCalling DeviceIoControl METHOD_OUT_DIRECT\n");
  StringCbCopy(InputBuffer, BUFFER_SIZE,
    "This String is from User Application; using METHOD_OUT_DIRECT");
  memset(OutputBuffer, 0, BUFFER_SIZE);
  ({ ok: bRc, bytes: bytesReturned } = await DeviceIoControl(hDevice,
    IOCTL_SIOCTL_METHOD_OUT_DIRECT,
    InputBuffer,
    strlen(InputBuffer) + 1,
    OutputBuffer,
    BUFFER_SIZE,
    null,
  ));

  if (!bRc) {
    printf("Error in DeviceIoControl : %d", GetLastError());
    return;
  }

  printf("    OutBuffer (%d): %s\n", bytesReturned, OutputBuffer);

  await CloseHandle(hDevice);

  //
  // Unload the driver.  Ignore any errors.
  //

  await ManageDriver(DRIVER_NAME,
    driverLocation,
    DRIVER_FUNC_REMOVE,
  );


  //
  // close the handle to the device.
  //

}
