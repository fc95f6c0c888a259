/*++
Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    util.c (util.ts)

Abstract:

    Utility routines to dynamically load and unload a Windows NT kernel-mode
    driver using the Service Control Manager APIs.

    GetModuleFileName is the program module's own path (its import.meta.url), and the
    driver's file is its module (RegFltr.sys is ../sys/driver.ts beside this folder).
    QueryServiceStatusEx's SC_STATUS_PROCESS_INFO is read with QueryServiceStatus, whose
    SERVICE_STATUS holds the same dwCurrentState.

Environment:

    User mode only

--*/

import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  CloseServiceHandle, ControlService, CreateService, DeleteService, OpenSCManager, OpenService, QueryServiceStatus, SC_MANAGER_ALL_ACCESS,
  SERVICE_ALL_ACCESS, SERVICE_CONTROL_STOP, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL, SERVICE_KERNEL_DRIVER, SERVICE_RUNNING, SERVICE_STOPPED,
  StartService, type SC_HANDLE,
} from "../../../../io/service-control.js";
import { CloseHandle, CreateFile, FILE_ATTRIBUTE_NORMAL, GENERIC_READ, GENERIC_WRITE, OPEN_EXISTING, Sleep } from "../../../../io/usermode.js";
import {
  ERROR_SERVICE_ALREADY_RUNNING, ERROR_SERVICE_DOES_NOT_EXIST, ERROR_SERVICE_EXISTS, ERROR_SERVICE_MARKED_FOR_DELETE, ERROR_SERVICE_NOT_ACTIVE,
  GetLastError, INVALID_HANDLE_VALUE, type HANDLE,
} from "../../../../io/win32.js";
import { ErrorPrint } from "./regctrl-header.js";

/** The extension of the modules: ".ts" from source, ".js" compiled. */
const MODULE_EXTENSION = extname(fileURLToPath(import.meta.url));

/** The driver's file relative to the program's directory (the sample's RegFltr.sys, copied beside regctrl.exe). */
export const DRIVER_FILE_NAME = join("..", "sys", `driver${MODULE_EXTENSION}`);


/** UtilLoadDriver: (re)installs and starts the driver's service and opens its device. Returns TRUE and the handle (the C out-parameter). */
export async function UtilLoadDriver(
  szDriverName: string,
  szDriverFileName: string,
  szWin32DeviceName: string,
): Promise<{ ok: boolean; hDriver: HANDLE }>
/*++

Routine Description:

    This routine uses the Service Control Manager APIs to create an entry
    for a standalone driver. It then opens a handle to the driver.
    The driver is assumed to be in the current directory.

    NOTE: This routine creates an entry for a standalone driver. If this
    is modified for use with a driver that requires a Tag, Group, and/or
    Dependencies, it may be necessary to query the registry for existing
    driver information (in order to determine a unique Tag, etc.).

Arguments:

    szDriverName - name of the driver (no extension)

    szDriverFileName - name of driver (with extension)

    szWin32DeviceName - Name of driver (no extension) prefixed with \\.\

    pDriver - pointer to a variable that receives the handle to the driver (returned)

Return Value:

    TRUE if driver is loaded successfully.

--*/
{
  let ReturnValue = false;
  let pPathSeparator: number;
  let szDriverPath = "";
  let hSCM: SC_HANDLE = 0;
  let hDriver: HANDLE = 0;

  Exit: {

    //
    // Construct driver path.
    //

    szDriverPath = fileURLToPath(import.meta.url);   // GetModuleFileName(NULL, ...)

    if (szDriverPath.length === 0) {
      ErrorPrint(122, "GetModuleFileName failed, last error 0x%u", GetLastError());
      break Exit;
    }

    pPathSeparator = Math.max(szDriverPath.lastIndexOf("/"), szDriverPath.lastIndexOf("\\"));

    if (pPathSeparator !== -1) {
      szDriverPath = join(szDriverPath.slice(0, pPathSeparator + 1), szDriverFileName);
    } else {
      ErrorPrint(132, "_tcsrchr failed to file \\ in driver path.");
      break Exit;
    }

    //
    // Get a handle to SCM
    //

    hSCM = OpenSCManager(null, null, SC_MANAGER_ALL_ACCESS);

    if (hSCM === 0) {
      ErrorPrint(143, "OpenSCManager failed, last error 0x%x", GetLastError());
      break Exit;
    }

    //
    // First, uninstall and unload the driver.
    //

    ReturnValue = await UtilUnloadDriver(INVALID_HANDLE_VALUE, hSCM, szDriverName);

    if (ReturnValue !== true) {
      ErrorPrint(154, "UnloadDriver failed");
      break Exit;
    }

    //
    // Install the driver.
    //

    ReturnValue = UtilCreateService(hSCM, szDriverName, szDriverPath);

    if (ReturnValue === false) {
      ErrorPrint(165, "UtilCreateService failed");
      break Exit;
    }

    //
    // Load the driver.
    //

    ReturnValue = await UtilStartService(hSCM, szDriverName);

    if (ReturnValue === false) {
      ErrorPrint(176, "UtilStartService failed");
      break Exit;
    }

    //
    // Open a handle to the device.
    //

    ({ ok: ReturnValue, hDevice: hDriver } = await UtilOpenDevice(szWin32DeviceName));

    if (ReturnValue === false) {
      ErrorPrint(187, "UtilOpenDevice failed");
      break Exit;
    }

    ReturnValue = true;

  }

  if (hSCM !== 0) {
    CloseServiceHandle(hSCM);
  }

  return { ok: ReturnValue, hDriver: ReturnValue ? hDriver : 0 };
}


/** UtilUnloadDriver: closes the device handle, stops the service and deletes it. */
export async function UtilUnloadDriver(
  hDriver: HANDLE,
  hPassedSCM: SC_HANDLE | null,
  szDriverName: string,
): Promise<boolean>
/*++

Routine Description:

    Unloads the driver using SCManager.

Arguments:

    hDriver - handle to the driver

    hPassedSCM - handle to the SCManager (optional)

    szDriverName - name of driver (no extension)

Return Value:

    TRUE if driver is successfully unloaded

--*/
{

  let ReturnValue = false;
  let hSCM: SC_HANDLE = hPassedSCM ?? 0;

  Exit: {

    //
    // Get a handle to SCM if not passed in
    //

    if (hSCM === 0) {

      hSCM = OpenSCManager(null, null, SC_MANAGER_ALL_ACCESS);

      if (hSCM === 0) {
        ErrorPrint(243, "OpenSCManager failed, last error 0x%x", GetLastError());
        break Exit;
      }
    }


    //
    // Close our handle to the device.
    //

    if ((hDriver !== 0) && (hDriver !== INVALID_HANDLE_VALUE)) {
      await CloseHandle(hDriver);
      hDriver = INVALID_HANDLE_VALUE;
    }

    //
    // Unload the driver.
    //

    ReturnValue = await UtilStopService(hSCM, szDriverName);

    if (ReturnValue === false) {
      ErrorPrint(265, "UtilStopService failed");
      break Exit;
    }

    //
    // Delete the service.
    //

    ReturnValue = UtilDeleteService(hSCM, szDriverName);

    if (ReturnValue === false) {
      ErrorPrint(276, "UtilDeleteService failed");
      break Exit;
    }

    ReturnValue = true;

  }

  if ((hPassedSCM === null || hPassedSCM === 0) && (hSCM !== 0)) {
    CloseServiceHandle(hSCM);
  }

  return ReturnValue;
}



/** UtilGetServiceState: the service's dwCurrentState (the C out-parameter), or FALSE. */
export function UtilGetServiceState(
  hService: SC_HANDLE,
): { ok: boolean; State: number }
/*++

Routine Description:

    Gets the state of the service using QueryServiceStatusEx

Arguments:

    hService - handle to the service to query

    State - pointer to a variable that receives the state (returned)

Return Value:

    TRUE if service is queried successfully.

--*/
{
  let State = 0;

  const { ok: Result, ServiceStatus } = QueryServiceStatus(hService);

  if (Result === false) {
    ErrorPrint(329, "QueryServiceStatusEx failed, last error 0x%x", GetLastError());
    return { ok: false, State };
  }

  State = ServiceStatus!.dwCurrentState;

  return { ok: true, State };
}


/** UtilWaitForServiceState: polls the service every second until it is in `State`. */
export async function UtilWaitForServiceState(
  hService: SC_HANDLE,
  State: number,
): Promise<boolean>
/*++

Routine Description:

    This routine waits for the service to reach a certain state

Arguments:

    hService - handle to the service

    State - the desired state

Return Value:

    TRUE if service reaches the desired state or FALSE if querying the
    service returns an error.

--*/
{

  let ServiceState: number;
  let Result: boolean;

  for (;;) {

    ({ ok: Result, State: ServiceState } = UtilGetServiceState(hService));

    if (Result === false) {
      return false;
    }

    if (ServiceState === State) {
      break;
    }

    await Sleep(1000);
  }

  return true;
}

//
// UtilCreateService
//

/** UtilCreateService: creates the demand-start kernel-driver service (an existing one is fine). */
export function UtilCreateService(
  hSCM: SC_HANDLE,
  szDriverName: string,
  szDriverPath: string,
): boolean
/*++

Routine Description:

    Uses SCManager to create a service

Arguments:

    hSCM - handle to the SCManager

    szDriverName - name of driver (no extension) which will serve as the
        created service's name

    szDriverPath - path to driver

Return Value:

    TRUE if service is created successfully, FALSE otherwise.

--*/
{
  let ReturnValue = false;

  //
  // Create the service
  //

  const hService = CreateService(
    hSCM,                 // handle to SC manager
    szDriverName,         // name of service
    szDriverName,         // display name
    SERVICE_ALL_ACCESS,     // access mask
    SERVICE_KERNEL_DRIVER,  // service type
    SERVICE_DEMAND_START,   // start type
    SERVICE_ERROR_NORMAL,   // error control
    szDriverPath,           // full path to driver
    null,                   // load ordering
    null,                   // tag id
    null,                   // dependency
    null,                   // account name
    null,                   // password
  );

  Exit: {

    if ((hService === 0) && (GetLastError() !== ERROR_SERVICE_EXISTS)) {
      ErrorPrint(439, "CreateService failed, last error 0x%x", GetLastError());
      break Exit;
    }

    ReturnValue = true;

  }

  if (hService) {
    CloseServiceHandle(hService);
  }

  return ReturnValue;
}


/** UtilStartService: starts the service and waits until it runs. */
export async function UtilStartService(
  hSCM: SC_HANDLE,
  szDriverName: string,
): Promise<boolean>
/*++

Routine Description:

    Starts a service

Arguments:

    hSCM - handle to the SCManager

    szDriverName - name of driver (without extension), services as name of
        the service to start

Return Value:

    TRUE if service is successfully started, FALSE otherwise.

--*/
{
  let ReturnValue = false;

  //
  // Open the service. The function assumes that
  // UtilCreateService has been called before this one
  // and the service is already installed.
  //

  const hService = OpenService(hSCM, szDriverName, SERVICE_ALL_ACCESS);

  Exit: {

    if (hService === 0) {
      ErrorPrint(490, "OpenService failed, last error 0x%x", GetLastError());
      break Exit;
    }

    //
    // Start the service
    //

    if (!await StartService(hService, 0, null)) {

      if (GetLastError() !== ERROR_SERVICE_ALREADY_RUNNING) {
        ErrorPrint(501, "StartService failed, last error 0x%x", GetLastError());
        break Exit;
      }
    }

    if (false === await UtilWaitForServiceState(hService, SERVICE_RUNNING)) {
      break Exit;
    }

    ReturnValue = true;

  }

  if (hService) {
    CloseServiceHandle(hService);
  }

  return ReturnValue;
}


/** UtilStopService: stops the service (a missing or stopped one is fine) and waits until it has stopped. */
export async function UtilStopService(
  hSCM: SC_HANDLE,
  szDriverName: string,
): Promise<boolean>
/*++

Routine Description:

    Stops a service

Arguments:

    hSCM - handle to the SCManager

    szDriverName - name of driver (without extension), services as name of
        the service

Return Value:

    TRUE if service is successfully stopped, FALSE otherwise.

--*/
{
  let ReturnValue = false;

  //
  // Open the service so we can stop it
  //

  const hService = OpenService(hSCM, szDriverName, SERVICE_ALL_ACCESS);

  Exit: {

    if (hService === 0) {
      if (GetLastError() === ERROR_SERVICE_DOES_NOT_EXIST) {
        ReturnValue = true;
      } else {
        ErrorPrint(559, "OpenService failed, last error 0x%x", GetLastError());
      }
      break Exit;
    }

    //
    // Stop the service
    //

    if (false === (await ControlService(hService, SERVICE_CONTROL_STOP)).ok) {
      if (GetLastError() !== ERROR_SERVICE_NOT_ACTIVE) {
        ErrorPrint(570, "ControlService failed, last error 0x%x", GetLastError());
        break Exit;
      }
    }

    if (false === await UtilWaitForServiceState(hService, SERVICE_STOPPED)) {
      break Exit;
    }

    ReturnValue = true;

  }

  if (hService) {
    CloseServiceHandle(hService);
  }

  return ReturnValue;
}


/** UtilDeleteService: marks the service for deletion (a missing one is fine). */
export function UtilDeleteService(
  hSCM: SC_HANDLE,
  szDriverName: string,
): boolean
/*++

Routine Description:

    Deletes a service

Arguments:

    hSCM - handle to the SCManager

    szDriverName - name of driver (without extension), services as name of
        the service

Return Value:

    TRUE if service is successfully deleted, FALSE otherwise.

--*/
{
  let ReturnValue = false;

  //
  // Open the service so we can delete it
  //

  const hService = OpenService(hSCM, szDriverName, SERVICE_ALL_ACCESS);

  Exit: {

    if (hService === 0) {
      if (GetLastError() === ERROR_SERVICE_DOES_NOT_EXIST) {
        ReturnValue = true;
      } else {
        ErrorPrint(627, "OpenService failed, last error 0x%x", GetLastError());
      }
      break Exit;
    }

    //
    // Delete the service
    //

    if (!DeleteService(hService)) {
      if (GetLastError() !== ERROR_SERVICE_MARKED_FOR_DELETE) {
        ErrorPrint(638, "DeleteService failed, last error 0x%x", GetLastError());
        break Exit;
      }
    }

    ReturnValue = true;

  }

  if (hService) {
    CloseServiceHandle(hService);
  }

  return ReturnValue;
}


/** UtilOpenDevice: opens the device for read and write. Returns TRUE and the handle (the C out-parameter). */
export async function UtilOpenDevice(
  szWin32DeviceName: string,
): Promise<{ ok: boolean; hDevice: HANDLE }>
/*++

Routine Description:

    Opens a device

Arguments:

    szWin32DeviceName - name of the device

    phDevice - pointer to a variable that receives the handle to the device (returned)

Return Value:

    TRUE if the device is successfully opened, FALSE otherwise.

--*/
{
  let ReturnValue = false;
  let hDevice: HANDLE;

  //
  // Open the device
  //

  hDevice = await CreateFile(szWin32DeviceName,
    GENERIC_READ | GENERIC_WRITE,
    0,
    null,
    OPEN_EXISTING,
    FILE_ATTRIBUTE_NORMAL,
    null);

  Exit: {

    if (hDevice === INVALID_HANDLE_VALUE) {
      ErrorPrint(695, "CreateFile(%ls) failed, last error 0x%x",
        szWin32DeviceName,
        GetLastError());
      break Exit;
    }

    ReturnValue = true;

  }

  return { ok: ReturnValue, hDevice };
}
