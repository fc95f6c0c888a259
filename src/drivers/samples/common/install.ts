/*++
Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    install.c (install.ts)

Abstract:

    Win32 routines to dynamically load and unload a Windows NT kernel-mode
    driver using the Service Control Manager APIs.

    The driver's image is its module file (sioctl.ts, event.ts, ...; .js when wdmsim
    runs compiled), in the same directory as the program, as a sample's console program
    and its .SYS are copied to one directory.

Environment:

    User mode only

--*/


import { existsSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  CloseServiceHandle, ControlService, CreateService, DeleteService, OpenSCManager, OpenService, SC_MANAGER_ALL_ACCESS, SERVICE_ALL_ACCESS,
  SERVICE_CONTROL_STOP, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL, SERVICE_KERNEL_DRIVER, StartService, type SC_HANDLE,
} from "../../../io/service-control.js";
import { ERROR_SERVICE_ALREADY_RUNNING, ERROR_SERVICE_EXISTS, GetLastError } from "../../../io/win32.js";
import { printf } from "./crt.js";

/** ManageDriver's Function: install and start the driver (each sample's public header has it too). */
export const DRIVER_FUNC_INSTALL = 0x01;
/** ManageDriver's Function: stop and remove the driver. */
export const DRIVER_FUNC_REMOVE = 0x02;

/** The extension of the modules: ".ts" from source, ".js" compiled. */
const MODULE_EXTENSION = extname(fileURLToPath(import.meta.url));

/** A program's current directory: the folder of its module (`ProgramUrl`, its import.meta.url), where its driver's module is too. */
export function programDirectory(ProgramUrl: string): string {
  return dirname(fileURLToPath(ProgramUrl));
}

/**
 * InstallDriver: creates the demand-start kernel-driver service `DriverName` whose image
 * is `ServiceExe`. TRUE when created or when it already exists; FALSE (after printing the
 * error) otherwise.
 */
export function InstallDriver(
  SchSCManager: SC_HANDLE,
  DriverName: string,
  ServiceExe: string,
): boolean
/*++

Routine Description:

Arguments:

Return Value:

--*/
{
  let schService: SC_HANDLE;
  let err: number;

  //
  // NOTE: This creates an entry for a standalone driver. If this
  //       is modified for use with a driver that requires a Tag,
  //       Group, and/or Dependencies, it may be necessary to
  //       query the registry for existing driver information
  //       (in order to determine a unique Tag, etc.).
  //

  //
  // Create a new a service object.
  //

  schService = CreateService(SchSCManager,           // handle of service control manager database
    DriverName,             // address of name of service to start
    DriverName,             // address of display name
    SERVICE_ALL_ACCESS,     // type of access to service
    SERVICE_KERNEL_DRIVER,  // type of service
    SERVICE_DEMAND_START,   // when to start service
    SERVICE_ERROR_NORMAL,   // severity if service fails to start
    ServiceExe,             // address of name of binary file
    null,                   // service does not belong to a group
    null,                   // no tag requested
    null,                   // no dependency names
    null,                   // use LocalSystem account
    null,                   // no password for service account
  );

  if (schService === 0) {

    err = GetLastError();

    if (err === ERROR_SERVICE_EXISTS) {

      //
      // Ignore this error.
      //

      return true;

    } else {

      printf("CreateService failed!  Error = %d \n", err);

      //
      // Indicate an error.
      //

      return false;
    }
  }

  //
  // Close the service object.
  //

  if (schService) {

    CloseServiceHandle(schService);
  }

  //
  // Indicate success.
  //

  return true;

}   // InstallDriver

/**
 * ManageDriver: DRIVER_FUNC_INSTALL installs and starts the driver (FALSE when either
 * fails); DRIVER_FUNC_REMOVE stops and removes it, ignoring errors (TRUE). FALSE for
 * another function, missing names, or an SCM that cannot be opened.
 */
export async function ManageDriver(
  DriverName: string | null,
  ServiceName: string | null,
  Function: number,
): Promise<boolean> {

  let schSCManager: SC_HANDLE;

  let rCode = true;

  //
  // Insure (somewhat) that the driver and service names are valid.
  //

  if (DriverName === null || ServiceName === null) {

    printf("Invalid Driver or Service provided to ManageDriver() \n");

    return false;
  }

  //
  // Connect to the Service Control Manager and open the Services database.
  //

  schSCManager = OpenSCManager(null,                   // local machine
    null,                   // local database
    SC_MANAGER_ALL_ACCESS,  // access required
  );

  if (!schSCManager) {

    printf("Open SC Manager failed! Error = %d \n", GetLastError());

    return false;
  }

  //
  // Do the requested function.
  //

  switch (Function) {

    case DRIVER_FUNC_INSTALL:

      //
      // Install the driver service.
      //

      if (InstallDriver(schSCManager,
        DriverName,
        ServiceName,
      )) {

        //
        // Start the driver service (i.e. start the driver).
        //

        rCode = await StartDriver(schSCManager,
          DriverName,
        );

      } else {

        //
        // Indicate an error.
        //

        rCode = false;
      }

      break;

    case DRIVER_FUNC_REMOVE:

      //
      // Stop the driver.
      //

      await StopDriver(schSCManager,
        DriverName,
      );

      //
      // Remove the driver service.
      //

      RemoveDriver(schSCManager,
        DriverName,
      );

      //
      // Ignore all errors.
      //

      rCode = true;

      break;

    default:

      printf("Unknown ManageDriver() function. \n");

      rCode = false;

      break;
  }

  //
  // Close handle to service control manager.
  //

  if (schSCManager) {

    CloseServiceHandle(schSCManager);
  }

  return rCode;

}   // ManageDriver


/** RemoveDriver: marks the service for deletion. TRUE on success; FALSE (after printing the error) otherwise. */
export function RemoveDriver(
  SchSCManager: SC_HANDLE,
  DriverName: string,
): boolean {
  let schService: SC_HANDLE;
  let rCode: boolean;

  //
  // Open the handle to the existing service.
  //

  schService = OpenService(SchSCManager,
    DriverName,
    SERVICE_ALL_ACCESS,
  );

  if (schService === 0) {

    printf("OpenService failed!  Error = %d \n", GetLastError());

    //
    // Indicate error.
    //

    return false;
  }

  //
  // Mark the service for deletion from the service control manager database.
  //

  if (DeleteService(schService)) {

    //
    // Indicate success.
    //

    rCode = true;

  } else {

    printf("DeleteService failed!  Error = %d \n", GetLastError());

    //
    // Indicate failure.  Fall through to properly close the service handle.
    //

    rCode = false;
  }

  //
  // Close the service object.
  //

  if (schService) {

    CloseServiceHandle(schService);
  }

  return rCode;

}   // RemoveDriver



/** StartDriver: starts the service (loads the driver). TRUE when started or already running; FALSE (after printing the error) otherwise. */
export async function StartDriver(
  SchSCManager: SC_HANDLE,
  DriverName: string,
): Promise<boolean> {
  let schService: SC_HANDLE;
  let err: number;

  //
  // Open the handle to the existing service.
  //

  schService = OpenService(SchSCManager,
    DriverName,
    SERVICE_ALL_ACCESS,
  );

  if (schService === 0) {

    printf("OpenService failed!  Error = %d \n", GetLastError());

    //
    // Indicate failure.
    //

    return false;
  }

  //
  // Start the execution of the service (i.e. start the driver).
  //

  if (!await StartService(schService,     // service identifier
    0,              // number of arguments
    null,           // pointer to arguments
  )) {

    err = GetLastError();

    if (err === ERROR_SERVICE_ALREADY_RUNNING) {

      //
      // Ignore this error.
      //

      return true;

    } else {

      printf("StartService failure! Error = %d \n", err);

      //
      // Indicate failure.  Fall through to properly close the service handle.
      //

      return false;
    }

  }

  //
  // Close the service object.
  //

  if (schService) {

    CloseServiceHandle(schService);
  }

  return true;

}   // StartDriver



/** StopDriver: asks the service to stop (unloads the driver). TRUE on success; FALSE (after printing the error) otherwise. */
export async function StopDriver(
  SchSCManager: SC_HANDLE,
  DriverName: string,
): Promise<boolean> {
  let rCode = true;
  let schService: SC_HANDLE;

  //
  // Open the handle to the existing service.
  //

  schService = OpenService(SchSCManager,
    DriverName,
    SERVICE_ALL_ACCESS,
  );

  if (schService === 0) {

    printf("OpenService failed!  Error = %d \n", GetLastError());

    return false;
  }

  //
  // Request that the service stop.
  //

  if ((await ControlService(schService,
    SERVICE_CONTROL_STOP,
  )).ok) {        // the SERVICE_STATUS out-parameter is not used

    //
    // Indicate success.
    //

    rCode = true;

  } else {

    printf("ControlService failed!  Error = %d \n", GetLastError());

    //
    // Indicate failure.  Fall through to properly close the service handle.
    //

    rCode = false;
  }

  //
  // Close the service object.
  //

  if (schService) {

    CloseServiceHandle(schService);
  }

  return rCode;

}   //  StopDriver

/**
 * SetupDriverName: the full path of the driver's module `DriverModule` (its file name
 * without extension, the sample's "<name>.SYS") in `CurrentDirectory` (the C out-parameter
 * DriverLocation), or null after printing "<DRIVER_NAME>.sys is not loaded." when the file
 * is not there.
 */
export function SetupDriverName(DRIVER_NAME: string, DriverModule: string, CurrentDirectory: string): string | null {
  let DriverLocation: string;

  //
  // Get the current directory.
  //

  DriverLocation = CurrentDirectory;

  //
  // Setup path name to driver file.
  //
  DriverLocation = join(DriverLocation, `${DriverModule}${MODULE_EXTENSION}`);

  //
  // Insure driver file is in the specified directory.
  //

  if (!existsSync(DriverLocation)) {


    printf("%s.sys is not loaded.\n", DRIVER_NAME);

    //
    // Indicate failure.
    //

    return null;
  }

  //
  // Indicate success.
  //

  return DriverLocation;


}   // SetupDriverName
