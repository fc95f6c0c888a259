/**
 * Driver package files (firmware/drivers/*.json, or any path): what an INF gives Windows,
 * as data. A file lists its setup classes, its drivers (service, module, role, the IDs or
 * classes they bind to) and the devices to root-enumerate; loading it imports each
 * module and checks that it exports DriverEntry. Mistakes are FirmwareErrors naming the
 * file, the JSON path and the rule.
 */
import { existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { FIRMWARE_DIR, FirmwareError, readJson } from "../machine/firmwareFiles.js";
import { importModule } from "../machine/module-loader.js";
import type { DriverModule } from "../io/manager.js";
import type { RootChild } from "./manager.js";
import type { DriverPackage, SetupClass } from "./packages.js";
import { presetKeys } from "../cm/presets.js";
import { parseSddl, SddlError } from "../se/security-descriptor.js";
import { SERVICE_BOOT_START, SERVICE_DEMAND_START, SERVICE_SYSTEM_START } from "../cm/service-key.js";

/** A legacy driver's start type by its name in a package file. */
const LEGACY_START: Record<string, number> = { boot: SERVICE_BOOT_START, system: SERVICE_SYSTEM_START, demand: SERVICE_DEMAND_START };

/** What a package file installs. */
export interface DriverPackageFile {
  packages: DriverPackage[];
  rootDevices: RootChild[];
  /** The setup classes the file names (with their device object properties). */
  classes: SetupClass[];
}

/** Finds a package file by path or by name in firmware/drivers. */
function resolvePackageFile(nameOrPath: string): string {
  if (existsSync(nameOrPath)) return resolve(nameOrPath);
  const builtIn = join(FIRMWARE_DIR, "drivers", `${nameOrPath}.json`);
  if (existsSync(builtIn)) return builtIn;
  throw new FirmwareError(nameOrPath, "", `no such driver package file (nor firmware/drivers/${nameOrPath}.json)`);
}

/** Loads a driver package file (a path, or a name in firmware/drivers). */
export async function loadDriverPackageFile(nameOrPath: string): Promise<DriverPackageFile> {
  const file = resolvePackageFile(nameOrPath);
  const shown = relative(process.cwd(), file) || file;
  const doc = readJson(file, "driver-package");
  const classes = new Map<string, SetupClass>();
  for (const [name, entry] of Object.entries(doc.classes ?? {}) as [string, string | { guid: string; security?: string }][]) {
    const { guid, security } = typeof entry === "string" ? { guid: entry, security: undefined } : entry;
    if (security !== undefined) {
      try {
        parseSddl(security);
      } catch (e) {
        if (e instanceof SddlError) throw new FirmwareError(shown, `/classes/${name}/security`, `not an SDDL security descriptor: ${e.message}`);
        throw e;
      }
    }
    classes.set(name, { name, guid: guid.toLowerCase(), ...(security !== undefined ? { security } : {}) });
  }
  const modules = new Map<string, DriverModule>();
  const packages: DriverPackage[] = [];
  for (const [i, d] of (doc.drivers as any[]).entries()) {
    const at = `/drivers/${i}`;
    const twin = (doc.drivers as any[]).findIndex((o, j) => j < i && String(o.service).toLowerCase() === String(d.service).toLowerCase());
    if (twin >= 0) throw new FirmwareError(shown, `${at}/service`, `service "${d.service}" is already /drivers/${twin}'s (service names are case-insensitive and unique)`);
    const ids: string[] = d.ids ?? [];
    if (d.role === "legacy" && (d.ids || d.classes || d.class)) throw new FirmwareError(shown, at, "a legacy driver binds to no device: no ids, class or classes");
    if (d.role !== "legacy" && d.start !== undefined) throw new FirmwareError(shown, `${at}/start`, "only a legacy driver has a start type (a PnP driver starts with its device)");
    if (d.role === "function" && ids.length === 0) throw new FirmwareError(shown, `${at}/ids`, "a function driver needs the IDs it binds to");
    if (d.role !== "function" && d.role !== "legacy" && ids.length === 0 && !d.classes) throw new FirmwareError(shown, at, "a filter needs ids (a device filter) or classes (a class filter)");
    if (d.role !== "function" && d.class !== undefined) throw new FirmwareError(shown, `${at}/class`, "only a function driver has a setup class (a class filter lists classes)");
    const setupClass = d.class === undefined ? undefined : classes.get(d.class);
    if (d.class !== undefined && !setupClass) throw new FirmwareError(shown, `${at}/class`, `no setup class "${d.class}" under /classes`);
    const filtered = (d.classes as string[] | undefined)?.map((c, j) => {
      if (c.startsWith("{")) return c.toLowerCase();
      const known = classes.get(c);
      if (!known) throw new FirmwareError(shown, `${at}/classes/${j}`, `no setup class "${c}" under /classes (or give its GUID)`);
      return known.guid;
    });
    const path = resolve(dirname(file), d.module);
    if (!existsSync(path)) throw new FirmwareError(shown, `${at}/module`, `no module at ${relative(process.cwd(), path)}`);
    let module = modules.get(path);
    if (!module) {
      let loaded: Partial<DriverModule>;
      try {
        loaded = (await importModule(path)) as Partial<DriverModule>;
      } catch (e) {
        throw new FirmwareError(shown, `${at}/module`, `${relative(process.cwd(), path) || path} cannot be imported: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (typeof loaded.DriverEntry !== "function") throw new FirmwareError(shown, `${at}/module`, "the module does not export DriverEntry");
      module = loaded as DriverModule;
      modules.set(path, module);
    }
    packages.push({
      service: d.service, description: d.description ?? d.service, ids, role: d.role, module,
      ...(d.role === "legacy" ? { start: LEGACY_START[d.start ?? "demand"] } : {}),
      ...(setupClass ? { setupClass } : {}), ...(filtered ? { classes: filtered } : {}), ...(d.msiSupported !== undefined ? { msiSupported: d.msiSupported } : {}),
      ...(d.addReg ? {
        addReg: {
          service: presetKeys(d.addReg.service, true, shown, `${at}/addReg/service`),
          hardware: presetKeys(d.addReg.hardware, true, shown, `${at}/addReg/hardware`),
          software: presetKeys(d.addReg.software, true, shown, `${at}/addReg/software`),
        },
      } : {}),
    });
  }
  const rootDevices: RootChild[] = (doc.rootDevices ?? []).map((r: any) => ({ deviceId: r.deviceId, hardwareIds: r.hardwareIds, compatibleIds: r.compatibleIds ?? [], instanceId: r.instanceId }));
  return { packages, rootDevices, classes: [...classes.values()] };
}
