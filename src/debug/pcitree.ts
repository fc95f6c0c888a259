/**
 * !pcitree: every PCI bus and the functions on it, read from configuration space: class
 * and sub-class, device and vendor ID, device and function number, the PCI driver's
 * device extension, and the class name. Buses below PCI-to-PCI bridges follow the root
 * bus. Configuration space is read straight from the core (the tools' read path, which
 * has no side effects and takes no simulated time), not through ECAM.
 */
import { PciFdoExtension, PciPdoExtension } from "../drivers/pci/driver.js";
import { PCI_BRIDGE_SECONDARY_BUS, PCI_CLASS_CODE, PCI_DEVICE_ID, PCI_HEADER_TYPE, PCI_HEADER_TYPE_BRIDGE, PCI_VENDOR_ID } from "../drivers/pci/config.js";
import { HAL } from "../hal/hal.js";
import { expectAtMost } from "./args.js";
import { allDevices, objectPointer, type InspectContext } from "./context.js";
import { pciClassName } from "./names.js";

/** Parses !pcitree's arguments (it takes none). */
export function parsePcitree(words: string[]): Record<string, never> {
  expectAtMost(words, 0, "!pcitree");
  return {};
}

/** Runs !pcitree. */
export function pcitree(ctx: InspectContext): string {
  const x = ctx.k.x;
  const read = (fn: number, offset: number, size: 1 | 2) => x.configRead(fn, offset, size);
  const hex = (v: number, digits: number) => v.toString(16).padStart(digits, "0");
  const functions = [...ctx.machine.functions].sort((a, b) => a.bus - b.bus || a.device - b.device || a.function - b.function);
  const extensions = allDevices(ctx).map((d) => d.DeviceExtension);
  const fdoExt = (bus: number) => extensions.find((e) => e instanceof PciFdoExtension && e.bus === bus);
  const pdoExt = (bus: number, device: number, fn: number) =>
    extensions.find((e) => e instanceof PciPdoExtension && e.bus === bus && e.device === device && e.fn === fn);

  // The root bus, then every bus a bridge leads to.
  const rootBus = HAL(ctx.k).platform.ecam.startBus;
  const secondary = new Set<number>();
  for (const f of functions) {
    if ((read(f.index, PCI_HEADER_TYPE, 1) & 0x7F) === PCI_HEADER_TYPE_BRIDGE) secondary.add(read(f.index, PCI_BRIDGE_SECONDARY_BUS, 1));
  }
  const buses = [...new Set([rootBus, ...secondary, ...functions.map((f) => f.bus)])].sort((a, b) => a - b);
  const roots = buses.filter((b) => !secondary.has(b)).length;

  const out: string[] = [];
  for (const bus of buses) {
    out.push(`Bus 0x${bus.toString(16)} (FDO Ext ${objectPointer(fdoExt(bus))})`);
    for (const f of functions.filter((g) => g.bus === bus)) {
      const classCode = read(f.index, PCI_CLASS_CODE + 2, 1);
      const subClass = read(f.index, PCI_CLASS_CODE + 1, 1);
      const ids = `${hex(read(f.index, PCI_DEVICE_ID, 2), 4)}${hex(read(f.index, PCI_VENDOR_ID, 2), 4)}`;
      const where = `${`(d=${f.device.toString(16)},`.padEnd(6)} f=${f.function.toString(16)})`;
      out.push(`  ${hex(classCode, 2)}${hex(subClass, 2)} ${ids} ${where} devext ${objectPointer(pdoExt(bus, f.device, f.function))} ${pciClassName(classCode, subClass)}`);
    }
    out.push("");
  }
  out.push(`Total PCI Root busses processed = ${roots}`);
  return out.join("\n");
}
