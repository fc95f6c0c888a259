/**
 * The toaster family's driver packages (what toaster.inf, bus.inf and filter.inf give
 * Windows) and the root-enumerated device the bus driver binds to.
 */
import type { DriverPackage } from "../../pnp/packages.js";
import type { RootChild } from "../../pnp/manager.js";
import * as bus from "./bus.js";
import * as toaster from "./function.js";
import * as filter from "./filter.js";
import { BUS_HARDWARE_IDS, BUSENUM_COMPATIBLE_IDS, BUSENUM_ROOT_HARDWARE_ID, GUID_DEVCLASS_TOASTER } from "./public.js";

/** The Toaster setup class. */
export const TOASTER_CLASS = { name: "TOASTER", guid: GUID_DEVCLASS_TOASTER };

/** The toaster bus, as a root-enumerated device ("devcon install bus.inf root\busenum"). */
export const toasterBusRootDevice: RootChild = {
  deviceId: "ROOT\\SYSTEM",
  hardwareIds: [BUSENUM_ROOT_HARDWARE_ID],
  compatibleIds: [],
  instanceId: "0000",
};

/** Every package of the family: the bus, the function driver and the four filters. */
export const toasterPackages: DriverPackage[] = [
  { service: "busenum", description: "Toaster bus enumerator", ids: [BUSENUM_ROOT_HARDWARE_ID], role: "function", module: bus, setupClass: { name: "System", guid: "{4d36e97d-e325-11ce-bfc1-08002be10318}" } },
  { service: "toaster", description: "Toaster function driver", ids: [BUS_HARDWARE_IDS, BUSENUM_COMPATIBLE_IDS], role: "function", module: toaster, setupClass: TOASTER_CLASS },
  { service: "devlower", description: "Toaster device lower filter", ids: [BUS_HARDWARE_IDS], role: "lowerFilter", module: filter },
  { service: "devupper", description: "Toaster device upper filter", ids: [BUS_HARDWARE_IDS], role: "upperFilter", module: filter },
  { service: "clslower", description: "Toaster class lower filter", ids: [], classes: [TOASTER_CLASS.guid], role: "lowerFilter", module: filter },
  { service: "clsupper", description: "Toaster class upper filter", ids: [], classes: [TOASTER_CLASS.guid], role: "upperFilter", module: filter },
];
