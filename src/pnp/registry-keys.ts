/**
 * What setup writes in the registry for the drivers and devices the PnP manager installs:
 * a service key per driver package (demand-start kernel drivers), with the package's
 * service AddReg; and per device its instance key under Enum (HardwareID, CompatibleIDs,
 * DeviceDesc, Service, Class, ClassGUID, Driver, ConfigFlags) with its hardware key
 * ("Device Parameters", IoOpenDeviceRegistryKey's PLUGPLAY_REGKEY_DEVICE), and its
 * software key under the setup class, Control\Class\{guid}\nnnn (PLUGPLAY_REGKEY_DRIVER),
 * each with the function driver package's AddReg.
 */
import type { Registry } from "../cm/registry.js";
import { CLASS_KEY, ENUM_KEY } from "../cm/registry.js";
import { applyPresetKeys } from "../cm/presets.js";
import { driverImagePath, serviceKeyPath, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL, SERVICE_KERNEL_DRIVER, writeServiceKey } from "../cm/service-key.js";
import { REG_DWORD, REG_MULTI_SZ, REG_SZ } from "../cm/value-types.js";
import { DEVICE_PARAMETERS_KEY } from "../io/registry-keys.js";
import type { DEVICE_NODE } from "./devnode.js";
import type { DriverPackage } from "./packages.js";


/** Writes a package's service key (a PnP driver starts on demand, with its device) and its service AddReg. */
export function installServiceKey(registry: Registry, pkg: DriverPackage): void {
  writeServiceKey(registry, pkg.service, {
    type: SERVICE_KERNEL_DRIVER, start: pkg.start ?? SERVICE_DEMAND_START, errorControl: SERVICE_ERROR_NORMAL,
    imagePath: driverImagePath(pkg.service), displayName: pkg.description,
  });
  if (pkg.addReg) applyPresetKeys(registry, pkg.addReg.service, serviceKeyPath(pkg.service));
}

/** The device's instance key path. */
export function deviceKeyPath(node: DEVICE_NODE): string {
  return `${ENUM_KEY}\\${node.InstancePath}`;
}

/** The device's software (driver) key path, "" when it has none yet. */
export function driverKeyPath(registry: Registry, node: DEVICE_NODE): string {
  const driver = registry.get(deviceKeyPath(node), "Driver");
  return typeof driver === "string" && driver !== "" ? `${CLASS_KEY}\\${driver}` : "";
}

/**
 * Writes the device's instance, hardware and software keys for the function driver
 * `pkg` (called once its stack is chosen). The software key is the class's next free
 * four-digit instance, kept when the device is installed again.
 */
export function writeDeviceKeys(registry: Registry, node: DEVICE_NODE, pkg: DriverPackage): void {
  const path = deviceKeyPath(node);
  registry.set(path, "HardwareID", REG_MULTI_SZ, node.HardwareIds);
  if (node.CompatibleIds.length > 0) registry.set(path, "CompatibleIDs", REG_MULTI_SZ, node.CompatibleIds);
  registry.set(path, "DeviceDesc", REG_SZ, node.Description || pkg.description);
  registry.set(path, "Service", REG_SZ, pkg.service);
  registry.set(path, "ConfigFlags", REG_DWORD, 0);
  registry.ensure(`${path}\\${DEVICE_PARAMETERS_KEY}`);
  if (pkg.addReg) applyPresetKeys(registry, pkg.addReg.hardware, `${path}\\${DEVICE_PARAMETERS_KEY}`);
  const cls = pkg.setupClass;
  if (!cls) return;
  const classGuid = cls.guid.toUpperCase().replace(/^\{?/, "{").replace(/\}?$/, "}");
  registry.set(path, "Class", REG_SZ, cls.name);
  registry.set(path, "ClassGUID", REG_SZ, classGuid);
  const classPath = `${CLASS_KEY}\\${classGuid}`;
  registry.set(classPath, "", REG_SZ, cls.name);
  registry.set(classPath, "Class", REG_SZ, cls.name);
  let software = driverKeyPath(registry, node);
  if (software === "") {
    const classKey = registry.find(classPath)!;
    let n = 0;
    while (classKey.child(String(n).padStart(4, "0"))) n++;
    const instance = String(n).padStart(4, "0");
    registry.set(path, "Driver", REG_SZ, `${classGuid}\\${instance}`);
    software = `${classPath}\\${instance}`;
  }
  registry.set(software, "DriverDesc", REG_SZ, pkg.description);
  if (pkg.addReg) applyPresetKeys(registry, pkg.addReg.software, software);
}
