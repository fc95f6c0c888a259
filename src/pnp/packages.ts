/**
 * Driver packages and the driver store: what an INF gives Windows, as data. A package
 * pairs a driver module with its service name and how it binds:
 *
 * - a function driver lists the hardware and compatible IDs of its models and its setup
 *   class (name and GUID);
 * - a device filter (an INF's UpperFilters/LowerFilters for a device) lists the IDs of
 *   the devices it filters;
 * - a class filter (UpperFilters/LowerFilters under the class key) lists setup classes.
 *
 * For a device, the PnP manager builds the stack as Windows loads it, bottom to top:
 * device lower filters, class lower filters, the function driver, device upper filters,
 * class upper filters.
 */
import type { DriverModule } from "../io/manager.js";
import type { PresetKey } from "../cm/presets.js";

/** A driver's role in a device stack, or "legacy": a non-PnP driver loaded by its service. */
export type DriverRole = "function" | "upperFilter" | "lowerFilter" | "legacy";

/** A setup class: its name ("Toaster") and GUID ("{b85b7c50-...}"), and the security descriptor (SDDL) its device objects get, if it sets one. */
export interface SetupClass {
  name: string;
  guid: string;
  security?: string;
}

/** A driver package. */
export interface DriverPackage {
  /** Service name (the driver's key under Services; \\Driver\\<service>). */
  service: string;
  /** One line saying what the driver is. */
  description: string;
  /** Function drivers and device filters: IDs the package matches, most specific first (an INF's models section). */
  ids: string[];
  role: DriverRole;
  module: DriverModule;
  /** Function drivers: the setup class of the devices it drives. */
  setupClass?: SetupClass;
  /** Class filters: the setup classes (names or GUIDs) whose devices it filters; `ids` is then empty. */
  classes?: string[];
  /** The driver handles message-signalled interrupts (an INF's MSISupported); default true. Without it the device gets its line interrupt. */
  msiSupported?: boolean;
  /** Legacy drivers: the service's start type (SERVICE_BOOT_START, SERVICE_SYSTEM_START or SERVICE_DEMAND_START). */
  start?: number;
  /** Registry values the package installs (an INF's AddReg): below its service key, and below each device's hardware and software keys. */
  addReg?: { service: PresetKey[]; hardware: PresetKey[]; software: PresetKey[] };
}

/** The drivers that make up one device's stack, bottom to top (excluding the bus driver). */
export interface DriverStack {
  function: DriverPackage;
  /** Lower filters then the function driver then upper filters, in load order. */
  order: DriverPackage[];
}

/** The driver store: packages, searched as the PnP manager searches INFs. */
export class DriverStore {
  private readonly packages: DriverPackage[] = [];

  /** Adds a package; a later package with the same service replaces an earlier one. */
  add(pkg: DriverPackage): void {
    const i = this.packages.findIndex((p) => p.service === pkg.service);
    if (i >= 0) this.packages[i] = pkg;
    else this.packages.push(pkg);
  }

  /**
   * The function driver for a device: the first hardware ID, then compatible ID, that a
   * package lists (IDs compare case-insensitively), as Windows ranks matches.
   */
  findFunctionDriver(hardwareIds: string[], compatibleIds: string[]): DriverPackage | undefined {
    for (const id of [...hardwareIds, ...compatibleIds]) {
      const lower = id.toLowerCase();
      const pkg = this.packages.find((p) => p.role === "function" && p.ids.some((x) => x.toLowerCase() === lower));
      if (pkg) return pkg;
    }
    return undefined;
  }

  /** Device filters of `role` that list any of the device's IDs, in the order they were added. */
  findFilters(role: DriverRole, ids: string[]): DriverPackage[] {
    const lower = new Set(ids.map((i) => i.toLowerCase()));
    return this.packages.filter((p) => p.role === role && p.ids.some((x) => lower.has(x.toLowerCase())));
  }

  /** Class filters of `role` registered for a setup class (by name or GUID). */
  findClassFilters(role: DriverRole, setupClass: SetupClass | undefined): DriverPackage[] {
    if (!setupClass) return [];
    const keys = new Set([setupClass.name.toLowerCase(), setupClass.guid.toLowerCase()]);
    return this.packages.filter((p) => p.role === role && (p.classes ?? []).some((c) => keys.has(c.toLowerCase())));
  }

  /** The stack for a device with these IDs, or undefined when no function driver matches. */
  stackFor(hardwareIds: string[], compatibleIds: string[]): DriverStack | undefined {
    const fn = this.findFunctionDriver(hardwareIds, compatibleIds);
    if (!fn) return undefined;
    const ids = [...hardwareIds, ...compatibleIds];
    return {
      function: fn,
      order: [
        ...this.findFilters("lowerFilter", ids), ...this.findClassFilters("lowerFilter", fn.setupClass),
        fn,
        ...this.findFilters("upperFilter", ids), ...this.findClassFilters("upperFilter", fn.setupClass),
      ],
    };
  }

  /** Every package. */
  all(): readonly DriverPackage[] {
    return this.packages;
  }
}
