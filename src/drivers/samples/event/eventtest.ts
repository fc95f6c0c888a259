/*++

Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    EventTest.c (eventtest.ts)

Abstract:

    Simple console test app for the event.sys driver.

Enviroment:

    User Mode

Revision History:

--*/

//
// INCLUDES
//
import { ResetEvent, WaitForSingleObject, CreateEvent, INFINITE } from "../../../io/sync-objects.js";
import {
  CloseHandle, CreateFile, DeviceIoControl, FILE_SHARE_READ, FILE_SHARE_WRITE, GENERIC_READ, GENERIC_WRITE, OPEN_EXISTING, VirtualAlloc,
  type HANDLE,
} from "../../../io/usermode.js";
import { ERROR_FILE_NOT_FOUND, GetLastError, INVALID_HANDLE_VALUE, NULL } from "../../../io/win32.js";
import { attachConsole, exit, printf, type ConsoleOutput } from "../common/crt.js";
import { attachKeyboard, sscanf_s, _kbhit, type ConsoleInput } from "../common/console-input.js";
import { ManageDriver, programDirectory, SetupDriverName } from "../common/install.js";
import {
  DRIVER_FUNC_INSTALL, DRIVER_FUNC_REMOVE, DRIVER_NAME, EVENT_BASED, IOCTL_REGISTER_EVENT, IRP_BASED, SIZEOF_REGISTER_EVENT, writeRegisterEvent,
} from "./public.js";

/** The driver's module, next to this program (the sample's event.sys). */
export const DRIVER_MODULE = "event";

/** USAGE(): how to run the program. */
function USAGE(): void {
  printf("event <delay> <0/1>\n");
  printf("\twhere <delay> = time to delay the event signal in seconds.\n");
  printf("\t 0 for IRP based and 1 for event based notification.\n");
}

//
// MAIN
//
/**
 * EventTest's main: run as a user-mode program (Machine.runProgram). `argv` is the command
 * line ("event", delay in seconds, 0 for IRP based or 1 for event based); what it prints
 * goes to `stdout`; `keyboard` says when a key is pressed (the program loops until then).
 */
export async function main(
  argv: readonly (string | null)[],
  stdout: ConsoleOutput,
  keyboard: ConsoleInput,
): Promise<void> {
  let bStatus: boolean;
  let hDevice: HANDLE;
  let fDelay = 3;
  let type: number = EVENT_BASED;
  let errNum = 0;
  let driverLocation = "";   // TCHAR driverLocation[MAX_PATH] = { 0 }
  let hEvent: HANDLE;        // registerEvent.hEvent
  let fields: number;

  attachConsole(stdout);
  attachKeyboard(keyboard);
  const registerEvent = VirtualAlloc(SIZEOF_REGISTER_EVENT); // REGISTER_EVENT registerEvent (on the stack)
  const argc = argv.length;


  if ((argc < 3) || (argv[1] === null) || (argv[2] === null)) {
    USAGE();
    exit(1);
  }

  if (({ fields, value: fDelay } = sscanf_s(argv[1], "%f")).fields === 0) {
    printf("sscanf_s failed\n");
    exit(1);
  }
  void fields;

  if (({ fields, value: type } = sscanf_s(argv[2], "%d")).fields === 0) {
    printf("sscanf_s failed\n");
    exit(1);
  }

  //
  // open the device
  //
  if ((hDevice = await CreateFile(
    "\\\\.\\Event_Sample",                     // lpFileName
    GENERIC_READ | GENERIC_WRITE,       // dwDesiredAccess
    FILE_SHARE_READ | FILE_SHARE_WRITE, // dwShareMode
    null,                               // lpSecurityAttributes
    OPEN_EXISTING,                      // dwCreationDistribution
    0,                                  // dwFlagsAndAttributes
    null,                               // hTemplateFile
  )) === INVALID_HANDLE_VALUE) {

    errNum = GetLastError();

    if (errNum !== ERROR_FILE_NOT_FOUND) {

      printf("CreateFile failed!  ERROR_FILE_NOT_FOUND = %d\n", errNum);

      return;
    }

    //
    // The driver is not started yet so let us the install driver.
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

      printf("Unable to install driver. \n");

      //
      // Error - remove driver.
      //

      await ManageDriver(DRIVER_NAME,
        driverLocation,
        DRIVER_FUNC_REMOVE,
      );

      return;
    }

    //
    // Now open the device again.
    //
    hDevice = await CreateFile(
      "\\\\.\\Event_Sample",                     // lpFileName
      GENERIC_READ | GENERIC_WRITE,       // dwDesiredAccess
      FILE_SHARE_READ | FILE_SHARE_WRITE, // dwShareMode
      null,                               // lpSecurityAttributes
      OPEN_EXISTING,                      // dwCreationDistribution
      0,                                  // dwFlagsAndAttributes
      null,                               // hTemplateFile
    );

    if (hDevice === INVALID_HANDLE_VALUE) {
      printf("Error: CreatFile Failed : %d\n", GetLastError());
      return;
    }

  }

  //
  // set the event signal delay. Use relative time for this sample
  //
  const DueTime = -BigInt(Math.trunc(fDelay * 10.0E6)); // registerEvent.DueTime.QuadPart = -((LONGLONG)(fDelay * 10.0E6))
  writeRegisterEvent(registerEvent, type, NULL, DueTime); // registerEvent.Type = type;

  if (type === EVENT_BASED) {
    //
    //
    //
    hEvent = CreateEvent(
      null,   // lpEventAttributes
      true,   // bManualReset
      false,  // bInitialState
      "TEST_EVENT", // use WinObj to view named events for DBG
    );
    writeRegisterEvent(registerEvent, type, hEvent, DueTime);


    if (!hEvent) {
      printf("CreateEvent error = %d\n", GetLastError());
    } else {

      printf("Event HANDLE = %p\n", hEvent);
      printf("Press any key to exit.\n");
      while (!_kbhit()) {
        ({ ok: bStatus } = await DeviceIoControl(
          hDevice,                // Handle to device
          IOCTL_REGISTER_EVENT,        // IO Control code
          registerEvent,              // Input Buffer to driver.
          SIZEOF_REGISTER_EVENT,        // Length of input buffer in bytes.
          null,                   // Output Buffer from driver.
          0,                      // Length of output buffer in bytes.
          null,                   // synchronous call (&ulReturnedLength: the result's bytes)
        ));

        if (!bStatus) {
          printf("Ioctl failed with code %d\n", GetLastError());
          break;
        } else {
          printf("Waiting for Event...\n");

          await WaitForSingleObject(hEvent,
            INFINITE);

          printf("Event signalled.\n\n");

          ResetEvent(hEvent);
          //printf("Event reset.\n");
        }
      }
    }

  } else if (type === IRP_BASED) {

    printf("Press any key to exit.\n");
    writeRegisterEvent(registerEvent, IRP_BASED, NULL, DueTime); // hEvent = NULL; Type = IRP_BASED

    while (!_kbhit()) {
      ({ ok: bStatus } = await DeviceIoControl(
        hDevice,                // Handle to device
        IOCTL_REGISTER_EVENT,        // IO Control code
        registerEvent,              // Input Buffer to driver.
        SIZEOF_REGISTER_EVENT,        // Length of input buffer in bytes.
        null,                   // Output Buffer from driver.
        0,                      // Length of output buffer in bytes.
        null,                   // synchronous call (&ulReturnedLength: the result's bytes)
      ));

      if (!bStatus) {
        printf("Ioctl failed with code %d\n", GetLastError());
        break;
      }
      printf("Event occurred.\n\n");
      printf("\nRegistering event again....\n\n");
    }

  } else { //unknown type
    USAGE();
  }

  //
  // close the handle to the device.
  //
  await CloseHandle(hDevice);

  //
  // Unload the driver if loaded.  Ignore any errors.
  //
  if (driverLocation !== "") {
    await ManageDriver(DRIVER_NAME,
      driverLocation,
      DRIVER_FUNC_REMOVE,
    );

  }

  return;
}
