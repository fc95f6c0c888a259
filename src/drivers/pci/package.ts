/** The PCI bus driver's package: it binds to the PCI Express host bridge and to PCI-to-PCI bridges (class 0604). */
import type { DriverPackage } from "../../pnp/packages.js";
import * as driver from "./driver.js";

/** Package of the PCI bus driver (service "pci"). */
export const pciPackage: DriverPackage = {
  service: "pci",
  description: "PCI bus driver",
  ids: ["ACPI\\PNP0A08", "*PNP0A08", "*PNP0A03", "PCI\\CC_0604"],
  role: "function",
  module: driver,
};
