/** The edu driver's package: it binds to QEMU's edu device by hardware ID. */
import type { DriverPackage } from "../../pnp/packages.js";
import * as driver from "./driver.js";

/** Package of the edu function driver (service "edu"). */
export const eduPackage: DriverPackage = {
  service: "edu",
  description: "QEMU edu device (factorial, DMA, MSI)",
  ids: ["PCI\\VEN_1234&DEV_11E8"],
  role: "function",
  module: driver,
};
