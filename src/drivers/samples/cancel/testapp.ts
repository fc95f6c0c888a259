/*++

Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    testapp.c and testapp.h (testapp.ts)

Abstract:

    The cancel sample's console program: opens \\.\CancelSamp (installing and starting
    the cancel driver through the Service Control Manager when it is not there), starts
    NumberOfThreads threads that each read the device over and over with ReadFileEx and
    wait alertably for the completion routine, then on 'q' lets the threads finish and
    closes the device; on any other key it closes the device with reads outstanding (the
    driver's cleanup cancels them). Then it stops and removes the driver.

Environment:

    User mode Win32 console application

--*/

import {
  CloseHandle, CreateFile, CreateThread, ExitProcess, ExitThread, FILE_FLAG_OVERLAPPED, GENERIC_READ, GetCurrentThreadId, INFINITE, OPEN_EXISTING, OVERLAPPED,
  ReadFileEx, SleepEx, VirtualAlloc, WaitForMultipleObjects, type HANDLE,
} from "../../../io/usermode.js";
import { ERROR_FILE_NOT_FOUND, GetLastError, INVALID_HANDLE_VALUE } from "../../../io/win32.js";
import { attachConsole, printf, type ConsoleOutput } from "../common/crt.js";
import { DRIVER_FUNC_INSTALL, DRIVER_FUNC_REMOVE, ManageDriver, programDirectory, SetupDriverName } from "../common/install.js";
import type { ConsoleInput } from "./console-input.js";

//
// testapp.h
//

export { DRIVER_FUNC_INSTALL, DRIVER_FUNC_REMOVE };

/** The most reader threads the program starts. */
export const MAXTHREADS = 10;
/** The driver's service name (and its file's base name). */
export const DRIVER_NAME = "cancel";


//
// Globals
//

/** The program's globals (one program runs at a time). */
let hDevice: HANDLE;
let ExitFlag = false;
const hThreads: HANDLE[] = new Array<HANDLE>(MAXTHREADS).fill(0);

/** isalpha for one ASCII character. */
function isalpha(c: string): boolean {
  return /^[A-Za-z]$/.test(c);
}

/** atoi: the leading decimal integer of `s` (0 when there is none). */
function atoi(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? parseInt(m[1], 10) : 0;
}

/**
 * The program's main: run as a user-mode program (Machine.runProgram). `argv` is the
 * command line (argv[1]: the number of reader threads, 1 by default); what it prints goes
 * to `stdout`; `stdin` is what the user types ('q' to exit gracefully).
 */
export async function main(
  argv: readonly string[],
  stdout: ConsoleOutput,
  stdin: ConsoleInput,
): Promise<void> {
  let i: number;
  let NumberOfThreads = 1;
  let errNum = 0;
  let driverLocation = "";   // TCHAR driverLocation[MAX_PATH]

  const argc = argv.length;
  attachConsole(stdout);
  ExitFlag = false;

  if (argc >= 2 && (argv[1][0] === "-" || isalpha(argv[1][0]))) {
    printf("%s\n", "Usage:testapp <NumberOfThreads>\n"); // puts
    return;
  } else if (argc >= 2 && ((NumberOfThreads = atoi(argv[1]) >>> 0) > MAXTHREADS)) {
    printf("Invalid option:Only a maximun of %d threads allowed.\n",
      MAXTHREADS);
    return;

  }

  //
  // Try to connect to driver.  If this fails, try to load the driver
  // dynamically.
  //

  if ((hDevice = await CreateFile("\\\\.\\CancelSamp",
    GENERIC_READ,
    0,
    null,
    OPEN_EXISTING,
    FILE_FLAG_OVERLAPPED,
    null,
  )) === INVALID_HANDLE_VALUE) {

    errNum = GetLastError();

    if (errNum !== ERROR_FILE_NOT_FOUND) {

      printf("CreateFile failed!  Error = %d\n", errNum);

      return;
    }

    //
    // Setup full path to driver name.
    //

    const location = SetupDriverName(DRIVER_NAME, DRIVER_NAME, programDirectory(import.meta.url));
    if (location === null) {

      return;
    }
    driverLocation = location;


    //
    // Install driver.
    //

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
    // Try to open the newly installed driver.
    //

    hDevice = await CreateFile("\\\\.\\CancelSamp",
      GENERIC_READ,
      0,
      null,
      OPEN_EXISTING,
      FILE_FLAG_OVERLAPPED,
      null);

    if (hDevice === INVALID_HANDLE_VALUE) {
      printf("Error: CreatFile Failed : %d\n", GetLastError());
      return;
    }
  }

  printf("Number of threads : %d\n", NumberOfThreads);


  printf("Enter 'q' to exit gracefully:");

  for (i = 0; i < NumberOfThreads; i++) {
    hThreads[i] = CreateThread(null,      // security attributes
      0,         // initial stack size
      Reader,    // Main() function
      null,      // arg to Reader thread
      0,         // creation flags
    );         // returned thread id

    if (0 === hThreads[i]) {
      printf(" Error CreateThread[%d] Failed: %d\n", i, GetLastError());
      ExitProcess(1);
    }

  }


  if (await stdin.getchar() === "q".charCodeAt(0)) {
    ExitFlag = true;

    await WaitForMultipleObjects(NumberOfThreads, hThreads, true, INFINITE);

    for (i = 0; i < NumberOfThreads; i++) {
      await CloseHandle(hThreads[i]);
    }

  }

  await CloseHandle(hDevice);

  //
  // Unload the driver.  Ignore any errors.
  //

  await ManageDriver(DRIVER_NAME,
    driverLocation,
    DRIVER_FUNC_REMOVE,
  );

  ExitProcess(1);
}


/**
 * A reader thread: until ExitFlag is set, issues a 4-byte ReadFileEx on the device and
 * sleeps alertably until its completion routine has run; then prints "Exiting thread N".
 * A read that cannot be issued prints the error and ends the process.
 */
export async function Reader(dummy: unknown): Promise<number> {
  const data = VirtualAlloc(4); // ULONG data;
  let ov: OVERLAPPED;

  void dummy; // UNREFERENCED_PARAMETER(dummy);

  while (!ExitFlag) {
    ov = new OVERLAPPED(); // ZeroMemory( &ov, sizeof(ov) );
    ov.Offset = 0;
    ov.OffsetHigh = 0;

    if (!await ReadFileEx(hDevice, data, 4 /* sizeof(ULONG) */, ov, CompletionRoutine)) {
      printf("Error: Read Failed: %d\n", GetLastError());
      ExitProcess(1);
    }
    await SleepEx(INFINITE, true);
  }

  printf("Exiting thread %d \n", GetCurrentThreadId());
  ExitThread(0);
}


/** The read's completion routine: prints the thread and the bytes read. */
export function CompletionRoutine(
  errorcode: number,
  bytesTransfered: number,
  ov: OVERLAPPED,
): void {

  void errorcode; // UNREFERENCED_PARAMETER(errorcode);
  void ov; // UNREFERENCED_PARAMETER(ov);

  printf("Thread %d read: %d bytes\n",
    GetCurrentThreadId(), bytesTransfered);
  return;
}


// SetupDriverName (testapp.c has its own copy of install.c's routine): src/drivers/samples/common/install.ts.
