/**
 * !devobj DeviceObject: one DEVICE_OBJECT: its name and driver, current IRP, type,
 * flags, extension, device node (on a PDO), characteristics, the devices attached above
 * and below it, and whether its device queue is busy.
 */
import type { DEVICE_OBJECT } from "../io/objects.js";
import { InspectError, expectAtMost } from "./args.js";
import { findDevice, nodeAddress, nodeOf, objectPointer, ptr, shortDeviceName, UNKNOWN_POINTER, type InspectContext } from "./context.js";
import { devExtPointer } from "./devstack.js";
import { CHARACTERISTIC_NAMES } from "./names.js";

const USAGE = "!devobj <device object address | \\Device\\Name>";

/** Parses !devobj's argument: the device object (an address or a name). */
export function parseDevobj(words: string[]): { device: string } {
  expectAtMost(words, 1, USAGE);
  if (words.length === 0) throw new InspectError(`!devobj needs a device object; usage: ${USAGE}`);
  return { device: words[0] };
}

const hex8 = (v: number) => (v >>> 0).toString(16).padStart(8, "0");

/** The lines !devobj prints for `d` (also used by !drvobj with flag 0x4). */
export function devobjLines(ctx: InspectContext, d: DEVICE_OBJECT): string[] {
  const out = [
    `Device object (${ptr(d.address)}) is for:`,
    ` ${shortDeviceName(d)} ${d.DriverObject.DriverName} DriverObject ${ptr(d.DriverObject.address)}`,
    `Current Irp ${objectPointer(d.CurrentIrp)} Type ${hex8(d.DeviceType)} Flags ${hex8(d.Flags)}`,
  ];
  const node = d.lowerDevice === null ? nodeOf(ctx, d) : undefined;
  let ext = `DevExt ${devExtPointer(d)}`;
  if (node) {
    const a = nodeAddress(node);
    ext += ` DevNode ${a === undefined ? UNKNOWN_POINTER : ptr(a)}`;
  }
  out.push(ext);
  if (d.Characteristics !== 0) {
    const names = CHARACTERISTIC_NAMES.filter(([bit]) => (d.Characteristics & bit) !== 0).map(([, name]) => name);
    out.push(`Characteristics (0x${hex8(d.Characteristics)})  ${names.join(", ")}`.trimEnd());
  }
  if (d.AttachedDevice) out.push(`AttachedDevice (Upper) ${ptr(d.AttachedDevice.address)} ${d.AttachedDevice.DriverObject.DriverName}`);
  if (d.lowerDevice) out.push(`AttachedTo (Lower) ${ptr(d.lowerDevice.address)} ${d.lowerDevice.DriverObject.DriverName}`);
  // A device queue (KDEVICE_QUEUE) is read only when the device object carries one.
  const queue = (d as { DeviceQueue?: { Busy?: unknown } }).DeviceQueue;
  out.push(queue?.Busy === true ? "Device queue is busy." : "Device queue is not busy.");
  return out;
}

/** Runs !devobj. */
export function devobj(ctx: InspectContext, args: { device: string }): string {
  return devobjLines(ctx, findDevice(ctx, args.device, "!devobj")).join("\n");
}
