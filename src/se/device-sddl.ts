/** The SDDL strings wdmsec.h defines for device objects (IoCreateDeviceSecure's DefaultSDDLString). */

/** Kernel-mode code only (no user-mode access). */
export const SDDL_DEVOBJ_KERNEL_ONLY = "D:P";
/** LocalSystem: all access. */
export const SDDL_DEVOBJ_SYS_ALL = "D:P(A;;GA;;;SY)";
/** LocalSystem and administrators: all access. */
export const SDDL_DEVOBJ_SYS_ALL_ADM_ALL = "D:P(A;;GA;;;SY)(A;;GA;;;BA)";
/** LocalSystem all; administrators read and execute. */
export const SDDL_DEVOBJ_SYS_ALL_ADM_RX = "D:P(A;;GA;;;SY)(A;;GRGX;;;BA)";
/** LocalSystem all; administrators read, write and execute; everyone read. */
export const SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_R = "D:P(A;;GA;;;SY)(A;;GRGWGX;;;BA)(A;;GR;;;WD)";
/** ...; everyone read and write; restricted code read. */
export const SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_RW_RES_R = "D:P(A;;GA;;;SY)(A;;GRGWGX;;;BA)(A;;GRGW;;;WD)(A;;GR;;;RC)";
/**
 * The security descriptor a named device object gets when its driver names none
 * (IoCreateDevice): all access for LocalSystem and administrators, read, write and execute
 * for everyone ("Controlling Device Access (WDM)": the default for most device types).
 */
export const DEFAULT_DEVICE_SDDL = "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GRGWGX;;;WD)";
/** ...; everyone and restricted code read, write and execute. */
export const SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_RWX_RES_RWX = "D:P(A;;GA;;;SY)(A;;GRGWGX;;;BA)(A;;GRGWGX;;;WD)(A;;GRGWGX;;;RC)";
