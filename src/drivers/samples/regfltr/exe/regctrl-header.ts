/*++
Copyright (c) Microsoft Corporation.  All rights reserved.

    THIS CODE AND INFORMATION IS PROVIDED "AS IS" WITHOUT WARRANTY OF ANY
    KIND, EITHER EXPRESSED OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
    IMPLIED WARRANTIES OF MERCHANTABILITY AND/OR FITNESS FOR A PARTICULAR
    PURPOSE.

    Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    regctrl.h (regctrl-header.ts)

Abstract:

    The console program's logging macros, globals and the strsafe.h call it makes.
    ErrorPrint's __LINE__ is passed by each caller (the line of the call in the C source).

Environment:

    User mode only

--*/

import type { HKEY } from "../../../../io/registry-api.js";
import type { HANDLE } from "../../../../io/win32.js";
import type { FormatArgument } from "../../../../rtl/format.js";
import { formatWide } from "../../../../rtl/format.js";
import { printf, S_OK, STRSAFE_E_INSUFFICIENT_BUFFER, STRSAFE_E_INVALID_PARAMETER } from "../../common/crt.js";

//
// Logging macros
//

/** InfoPrint(str, ...): printf(str "\n", ...). */
export function InfoPrint(str: string, ...args: FormatArgument[]): void {
  printf(str + "\n",
    ...args);
}

/** ErrorPrint(str, ...): printf("ERROR: %u: " str "\n", __LINE__, ...); `LINE` is the call's line in the C source. */
export function ErrorPrint(LINE: number, str: string, ...args: FormatArgument[]): void {
  printf("ERROR: %u: " + str + "\n",
    LINE,
    ...args);
}

/** The program's global variables. */
export const globals = {

  //
  // Handle to the driver
  //
  g_Driver: 0 as HANDLE,

  //
  // Handle to the root test key
  //
  g_RootKey: 0 as HKEY,

  //
  // Version number for the registry callback
  //
  g_MajorVersion: 0,
  g_MinorVersion: 0,
};

/**
 * StringCbPrintf (UNICODE): formats into the WCHAR array `pszDest` of `cbDest` bytes,
 * always null-terminated. S_OK; STRSAFE_E_INSUFFICIENT_BUFFER when truncated;
 * STRSAFE_E_INVALID_PARAMETER when cbDest is 0.
 */
export function StringCbPrintf(pszDest: Uint8Array, cbDest: number, pszFormat: string, ...args: FormatArgument[]): number {
  const chars = Math.floor(cbDest / 2);
  if (chars === 0) return STRSAFE_E_INVALID_PARAMETER;
  const text = formatWide(pszFormat, args) ?? "";
  const fits = text.length < chars;
  const out = fits ? text : text.slice(0, chars - 1);
  const view = new DataView(pszDest.buffer, pszDest.byteOffset, pszDest.byteLength);
  for (let i = 0; i < out.length; i++) view.setUint16(i * 2, out.charCodeAt(i), true);
  view.setUint16(out.length * 2, 0, true);
  return fits ? S_OK : STRSAFE_E_INSUFFICIENT_BUFFER;
}

/** SUCCEEDED(hr): true for a success HRESULT. */
export function SUCCEEDED(hr: number): boolean {
  return (hr | 0) >= 0;
}
