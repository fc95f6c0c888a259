/*++

Copyright (c) 1997  Microsoft Corporation

Licensed under the Microsoft Public License (MS-PL); see LICENSE in this folder.

Module Name:

    SIOCTL.H (sioctl-public.ts)

Abstract:


    Defines the IOCTL codes that will be used by this driver.  The IOCTL code
    contains a command identifier, plus other information about the device,
    the type of access with which the file must have been opened,
    and the type of buffering.

Environment:

    Kernel mode only.

--*/
import { CTL_CODE, FILE_ANY_ACCESS, METHOD_BUFFERED, METHOD_IN_DIRECT, METHOD_NEITHER, METHOD_OUT_DIRECT } from "../../../io/ioctl.js";

//
// Device type           -- in the "User Defined" range."
//
/** The device type of the sample's IOCTL codes (a user-defined type, 32768-65535). */
export const SIOCTL_TYPE = 40000;
//
// The IOCTL function codes from 0x800 to 0xFFF are for customer use.
//
/** Function 0x900, METHOD_IN_DIRECT: input in a system buffer, output buffer locked for reading (Irp.MdlAddress). */
export const IOCTL_SIOCTL_METHOD_IN_DIRECT = CTL_CODE(SIOCTL_TYPE, 0x900, METHOD_IN_DIRECT, FILE_ANY_ACCESS);

/** Function 0x901, METHOD_OUT_DIRECT: input in a system buffer, output buffer locked for writing (Irp.MdlAddress). */
export const IOCTL_SIOCTL_METHOD_OUT_DIRECT = CTL_CODE(SIOCTL_TYPE, 0x901, METHOD_OUT_DIRECT, FILE_ANY_ACCESS);

/** Function 0x902, METHOD_BUFFERED: one system buffer for input and output. */
export const IOCTL_SIOCTL_METHOD_BUFFERED = CTL_CODE(SIOCTL_TYPE, 0x902, METHOD_BUFFERED, FILE_ANY_ACCESS);

/** Function 0x903, METHOD_NEITHER: the caller's own addresses (Type3InputBuffer, Irp.UserBuffer). */
export const IOCTL_SIOCTL_METHOD_NEITHER = CTL_CODE(SIOCTL_TYPE, 0x903, METHOD_NEITHER, FILE_ANY_ACCESS);


/** ManageDriver's Functions: DRIVER_FUNC_INSTALL (0x01) and DRIVER_FUNC_REMOVE (0x02). */
export { DRIVER_FUNC_INSTALL, DRIVER_FUNC_REMOVE } from "../common/install.js";

/** The driver's service name. */
export const DRIVER_NAME = "SIoctl";
