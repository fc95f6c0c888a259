/**
 * The WDM IOCTL sample (general/ioctl/wdm), ported line for line: the SIOCTL driver, its
 * IOCTL codes, the IOCTLAPP console program, its Service Control Manager routines and the
 * C run-time calls the program makes.
 */
export * from "./sioctl.js";
export * from "./sioctl-public.js";
export * from "./testapp.js";
export * from "../common/install.js";
export * from "../common/crt.js";
