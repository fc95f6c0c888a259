/** The NVMe miniport's package: it binds to NVM Express controllers by class code (mass storage, NVM, NVMe interface). */
import type { DriverPackage } from "../../pnp/packages.js";
import { GUID_DEVCLASS_SCSIADAPTER } from "../storage/ntddstor.js";
import * as driver from "./driver.js";

/** Package of the NVMe miniport (service "stornvme"), an inbox driver. */
export const stornvmePackage: DriverPackage = {
  service: "stornvme",
  description: "Standard NVM Express Controller",
  ids: ["PCI\\CC_010802"],
  role: "function",
  module: driver,
  setupClass: { name: "SCSIAdapter", guid: GUID_DEVCLASS_SCSIADAPTER },
};
