/** The disk class driver's package (disk.inf): it binds to GenDisk, the generic ID storage ports give disk units. */
import type { DriverPackage } from "../../pnp/packages.js";
import { GUID_DEVCLASS_DISKDRIVE } from "../storage/ntddstor.js";
import * as driver from "./driver.js";

/** Package of the disk class driver (service "disk", an inbox driver in BUILT_IN_PACKAGES). */
export const diskPackage: DriverPackage = {
  service: "disk",
  description: "Disk drive",
  ids: ["GenDisk"],
  role: "function",
  setupClass: { name: "DiskDrive", guid: GUID_DEVCLASS_DISKDRIVE },
  module: driver,
};
