/**
 * Driver packages: a driver module paired with INF-like data — the service name, the
 * hardware and compatible IDs it binds to, and its role in a device stack.
 */
import type { DriverModule } from "../io/manager.js";

/** A driver's role in a device stack. */
export type DriverRole = "function" | "upperFilter" | "lowerFilter";

/** A driver package. */
export interface DriverPackage {
  /** Service name (the driver's key under Services; \\Driver\\<service>). */
  service: string;
  /** One line saying what the driver is. */
  description: string;
  /** IDs the package matches, most specific first (an INF's models section). */
  ids: string[];
  role: DriverRole;
  module: DriverModule;
  /** The driver handles message-signalled interrupts (an INF's MSISupported); default true. Without it the device gets its line interrupt. */
  msiSupported?: boolean;
}

/** The driver store: packages by ID, as the PnP manager searches them. */
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

  /** Filters of `role` that list any of the device's IDs, in the order they were added. */
  findFilters(role: DriverRole, ids: string[]): DriverPackage[] {
    const lower = new Set(ids.map((i) => i.toLowerCase()));
    return this.packages.filter((p) => p.role === role && p.ids.some((x) => lower.has(x.toLowerCase())));
  }

  /** Every package. */
  all(): readonly DriverPackage[] {
    return this.packages;
  }
}
