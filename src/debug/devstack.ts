/**
 * !devstack DeviceObject: the device stack a device object is in, top first, the given
 * device marked with '>', each with its driver, device extension and name; then the
 * device node of the stack's PDO with its instance path and service.
 */
import { InspectError, expectAtMost } from "./args.js";
import { bottomOf, findDevice, nodeOf, objectPointer, ptr, shortDeviceName, UNKNOWN_POINTER, nodeAddress, type InspectContext } from "./context.js";
import type { DEVICE_OBJECT } from "../io/objects.js";

const USAGE = "!devstack <device object address | \\Device\\Name>";

/** Parses !devstack's argument: the device object (an address or a name). */
export function parseDevstack(words: string[]): { device: string } {
  expectAtMost(words, 1, USAGE);
  if (words.length === 0) throw new InspectError(`!devstack needs a device object; usage: ${USAGE}`);
  return { device: words[0] };
}

/** The !DevExt column for a device: 00000000 without an extension, its address, or ???????????????? when it has none. */
export function devExtPointer(device: DEVICE_OBJECT): string {
  return objectPointer(device.DeviceExtension);
}

/** Runs !devstack. */
export function devstack(ctx: InspectContext, args: { device: string }): string {
  const device = findDevice(ctx, args.device, "!devstack");
  const stack: DEVICE_OBJECT[] = [];
  for (let d: DEVICE_OBJECT | null = bottomOf(device); d; d = d.AttachedDevice) stack.unshift(d);
  const out = [`  ${"!DevObj".padEnd(18)}${"!DrvObj".padEnd(19)}${"!DevExt".padEnd(18)}ObjectName`];
  for (const d of stack) {
    out.push(`${d === device ? ">" : " "} ${ptr(d.address).padEnd(16)}  ${d.DriverObject.DriverName.padEnd(18)} ${devExtPointer(d).padEnd(16)}  ${shortDeviceName(d)}`.trimEnd());
  }
  const node = nodeOf(ctx, stack[stack.length - 1]);
  if (node) {
    const a = nodeAddress(node);
    out.push(`!DevNode ${a === undefined ? UNKNOWN_POINTER : ptr(a)} :`);
    out.push(`  DeviceInst is "${node.InstancePath}"`);
    if (node.ServiceName) out.push(`  ServiceName is "${node.ServiceName}"`);
  }
  return out.join("\n");
}
