/*++

Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

   Event.h (public.h, public.ts)

--*/
import { CTL_CODE, FILE_ANY_ACCESS, METHOD_BUFFERED } from "../../../io/ioctl.js";
import { FILE_DEVICE_UNKNOWN } from "../../../io/objects.js";
import { readU32, readU64, writeU32, writeU64, type PVOID } from "../../../mm/memory.js";

/** NOTIFY_TYPE: how the driver tells the application that the event happened. */
export enum NOTIFY_TYPE {
  /** The driver completes the pending IOCTL. */
  IRP_BASED,
  /** The driver signals the application's event. */
  EVENT_BASED,
}
/** The members bare, as C puts an enumeration's members in the global namespace. */
export const { IRP_BASED, EVENT_BASED } = NOTIFY_TYPE;

/**
 * REGISTER_EVENT, the IOCTL's input buffer (x64 layout, bytes): NOTIFY_TYPE Type at 0,
 * HANDLE hEvent at 8, LARGE_INTEGER DueTime (requested DueTime in 100-nanosecond units) at 16.
 */
export const REGISTER_EVENT = {
  Type: 0,
  hEvent: 8,
  DueTime: 16,
} as const;

/** sizeof(REGISTER_EVENT), bytes. */
export const SIZEOF_REGISTER_EVENT = 24;

/** registerEvent->Type of the REGISTER_EVENT at `va`. */
export function readRegisterEventType(va: PVOID): NOTIFY_TYPE {
  return readU32(va + REGISTER_EVENT.Type);
}
/** registerEvent->hEvent of the REGISTER_EVENT at `va` (a handle value). */
export function readRegisterEventHandle(va: PVOID): number {
  return Number(readU64(va + REGISTER_EVENT.hEvent));
}
/** registerEvent->DueTime.QuadPart of the REGISTER_EVENT at `va` (100 ns units, signed). */
export function readRegisterEventDueTime(va: PVOID): bigint {
  return BigInt.asIntN(64, readU64(va + REGISTER_EVENT.DueTime));
}
/** Writes registerEvent->DueTime.QuadPart (100 ns units, signed) of the REGISTER_EVENT at `va`. */
export function writeRegisterEventDueTime(va: PVOID, QuadPart: bigint): void {
  writeU64(va + REGISTER_EVENT.DueTime, BigInt.asUintN(64, QuadPart));
}
/** Fills in the REGISTER_EVENT at `va`: Type, hEvent and DueTime (100 ns units, signed). */
export function writeRegisterEvent(va: PVOID, Type: NOTIFY_TYPE, hEvent: number, DueTime: bigint): void {
  writeU32(va + REGISTER_EVENT.Type, Type);
  writeU32(va + 4, 0);
  writeU64(va + REGISTER_EVENT.hEvent, BigInt(hEvent));
  writeRegisterEventDueTime(va, DueTime);
}


/** IOCTL_REGISTER_EVENT: FILE_DEVICE_UNKNOWN, function 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS. */
export const IOCTL_REGISTER_EVENT =
  CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS);


/** ManageDriver's Functions: DRIVER_FUNC_INSTALL (0x01) and DRIVER_FUNC_REMOVE (0x02). */
export { DRIVER_FUNC_INSTALL, DRIVER_FUNC_REMOVE } from "../common/install.js";

/** The driver's service name. */
export const DRIVER_NAME = "event";
