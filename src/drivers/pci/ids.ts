/** The PnP IDs a PCI function reports, in the forms and order Windows' PCI driver uses. */

/** Identity read from a function's configuration header. */
export interface PciIdentity {
  vendorId: number;
  deviceId: number;
  subsystemVendorId: number;
  subsystemId: number;
  revisionId: number;
  /** base << 16 | sub-class << 8 | prog-if. */
  classCode: number;
}

const hex = (v: number, digits: number) => v.toString(16).toUpperCase().padStart(digits, "0");

/** BusQueryDeviceID: PCI\VEN_v&DEV_d&SUBSYS_ssssvvvv&REV_rr. */
export function deviceId(id: PciIdentity): string {
  return `PCI\\VEN_${hex(id.vendorId, 4)}&DEV_${hex(id.deviceId, 4)}&SUBSYS_${hex(id.subsystemId, 4)}${hex(id.subsystemVendorId, 4)}&REV_${hex(id.revisionId, 2)}`;
}

/** BusQueryHardwareIDs, most specific first. */
export function hardwareIds(id: PciIdentity): string[] {
  const vd = `PCI\\VEN_${hex(id.vendorId, 4)}&DEV_${hex(id.deviceId, 4)}`;
  const subsys = `&SUBSYS_${hex(id.subsystemId, 4)}${hex(id.subsystemVendorId, 4)}`;
  return [
    `${vd}${subsys}&REV_${hex(id.revisionId, 2)}`,
    `${vd}${subsys}`,
    `${vd}&CC_${hex(id.classCode, 6)}`,
    `${vd}&CC_${hex(id.classCode >> 8, 4)}`,
  ];
}

/** BusQueryCompatibleIDs, most specific first. */
export function compatibleIds(id: PciIdentity): string[] {
  const v = `PCI\\VEN_${hex(id.vendorId, 4)}`;
  return [
    `${v}&DEV_${hex(id.deviceId, 4)}&REV_${hex(id.revisionId, 2)}`,
    `${v}&DEV_${hex(id.deviceId, 4)}`,
    `${v}&CC_${hex(id.classCode, 6)}`,
    `${v}&CC_${hex(id.classCode >> 8, 4)}`,
    v,
    `PCI\\CC_${hex(id.classCode, 6)}`,
    `PCI\\CC_${hex(id.classCode >> 8, 4)}`,
  ];
}

/**
 * BusQueryInstanceID: the device and function number, unique only under the parent (the
 * PnP manager prefixes it with the parent's ID, as it does for pci.sys's children).
 */
export function instanceId(device: number, fn: number): string {
  return hex((device << 3) | fn, 2);
}
