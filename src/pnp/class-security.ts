/**
 * A setup class's Security property ("Setting Device Object Properties in the Registry"):
 * setup stores the security descriptor an INF's ClassInstall32 AddReg gives the class as a
 * REG_BINARY "Security" value under Control\Class\{guid}\Properties, in self-relative
 * form. It overrides the descriptor the driver gave: the PnP manager applies it to every
 * device object of a stack of the class once AddDevice has built it, and
 * IoCreateDeviceSecure applies it to a device made with that class GUID.
 */
import { CLASS_KEY, type Registry } from "../cm/registry.js";
import { REG_BINARY } from "../cm/value-types.js";
import { parseSddl, type SECURITY_DESCRIPTOR } from "../se/security-descriptor.js";
import { makeSelfRelativeSD, parseSelfRelativeSD } from "../se/self-relative.js";
import type { SetupClass } from "./packages.js";

/** The class's Properties key path ("{guid}" in the registry's upper-case form). */
export function classPropertiesPath(guid: string): string {
  const braced = guid.toUpperCase().replace(/^\{?/, "{").replace(/\}?$/, "}");
  return `${CLASS_KEY}\\${braced}\\Properties`;
}

/** Setup: writes the class's Security property when it has one. */
export function installClassSecurity(registry: Registry, cls: SetupClass): void {
  if (cls.security !== undefined) registry.set(classPropertiesPath(cls.guid), "Security", REG_BINARY, makeSelfRelativeSD(parseSddl(cls.security)));
}

/** The security descriptor the registry gives devices of class `guid`, or null (none, or a value that is not a valid descriptor). */
export function classSecurity(registry: Registry, guid: string): SECURITY_DESCRIPTOR | null {
  if (guid === "") return null;
  const value = registry.get(classPropertiesPath(guid), "Security");
  return value instanceof Uint8Array ? parseSelfRelativeSD(value) : null;
}
