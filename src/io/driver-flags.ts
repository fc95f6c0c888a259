/** DRIVER_OBJECT.Flags (wdm.h). */

/** DriverUnload has been called. */
export const DRVO_UNLOAD_INVOKED = 0x1;
/** A legacy driver: loaded by ZwLoadDriver, not by the PnP manager for a device. */
export const DRVO_LEGACY_DRIVER = 0x2;
