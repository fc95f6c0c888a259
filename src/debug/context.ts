/**
 * What the inspection commands read from a stopped (or paused) machine, and how they
 * print it. Everything here reads plain fields of the kernel's objects: no kernel
 * routine runs, nothing is charged to a processor, no event is queued.
 *
 * Addresses print as WinDbg prints pointers in extension output: 16 hex digits
 * (formatPointer without the backtick), a null pointer as 00000000. Objects the model
 * keeps outside guest memory without an address of their own (a device extension, a
 * thread, a device node, a KDPC that is not part of a device object) print as
 * ????????????????, WinDbg's mark for a value it cannot read; an object that carries a
 * numeric `address` field prints that address.
 */
import type { Machine } from "../machine/machine.js";
import { BootedKernel } from "../pnp/boot.js";
import type { Kernel } from "../ke/kernel.js";
import { formatPointer } from "../ke/bugcheck.js";
import { IO, type IoManager } from "../io/manager.js";
import { PNP, type PnpManager } from "../pnp/manager.js";
import { MM, type MemoryManager } from "../mm/manager.js";
import type { DEVICE_OBJECT, DRIVER_OBJECT } from "../io/objects.js";
import type { DEVICE_NODE } from "../pnp/devnode.js";
import { InspectError, parseAddress } from "./args.js";

/** The machine and the kernel managers a command reads. */
export interface InspectContext {
  readonly machine: Machine;
  readonly k: Kernel;
  readonly io: IoManager;
  readonly pnp: PnpManager;
  readonly mm: MemoryManager;
}

/** The context of a booted machine; a machine without a kernel cannot be inspected. */
export function contextOf(machine: Machine): InspectContext {
  if (!(machine.kernel instanceof BootedKernel)) throw new InspectError("the machine has no kernel to inspect: boot it first (boot() in the package root)");
  const k = machine.kernel.k;
  return { machine, k, io: IO(k), pnp: PNP(k), mm: MM(k) };
}

/** What a pointer prints as when the object has no address in this model. */
export const UNKNOWN_POINTER = "????????????????";

/** A pointer as extension output prints it: ffff810000001230 (00000000 for null). */
export function ptr(value: number | bigint | null | undefined): string {
  if (value === null || value === undefined || value === 0 || value === 0n) return "00000000";
  return formatPointer(value).replace("`", "");
}

/** A pointer with a 0x prefix, as !devnode and !dpcs print them (0x0000000000000000 for null). */
export function ptr0x(value: number | null | undefined): string {
  return value ? `0x${ptr(value)}` : "0x0000000000000000";
}

/** The numeric `address` an object carries, if it has one. */
export function addressOf(object: unknown): number | undefined {
  const a = (object as { address?: unknown } | null | undefined)?.address;
  return typeof a === "number" ? a : undefined;
}

/** An object reference as a pointer: 00000000 for none, its address, or ???????????????? when it has none. */
export function objectPointer(object: unknown): string {
  if (object === null || object === undefined || object === 0) return "00000000";
  if (typeof object === "number" || typeof object === "bigint") return ptr(object);
  const a = addressOf(object);
  return a === undefined ? UNKNOWN_POINTER : ptr(a);
}

/** A device's name as WinDbg's object columns show it: without the \Device\ prefix ("" when unnamed). */
export function shortDeviceName(device: DEVICE_OBJECT): string {
  return device.name.replace(/^\\Device\\/i, "");
}

/** The name a routine has in attribution and bug checks ("DeferredRoutine" style fallback when anonymous). */
export function routineName(routine: { readonly name: string } | null | undefined, fallback: string): string {
  return routine?.name || fallback;
}

/** A routine's code address and symbol (driver!routine), the address bug checks report for it (MM codeAddress). */
export function codeSymbol(ctx: InspectContext, driver: string, routine: string): { address: number; symbol: string } {
  return { address: ctx.mm.codeAddress(driver, routine), symbol: `${driver}!${routine}` };
}

/** The bottom of the stack `device` is in (its PDO). */
export function bottomOf(device: DEVICE_OBJECT): DEVICE_OBJECT {
  let d = device;
  while (d.lowerDevice) d = d.lowerDevice;
  return d;
}

/** The device node of a PDO, if the PnP manager made one. */
export function nodeOf(ctx: InspectContext, pdo: DEVICE_OBJECT): DEVICE_NODE | undefined {
  return ctx.pnp.nodeOf(pdo) ?? ((pdo.deviceNode as DEVICE_NODE | null) ?? undefined);
}

/** Every device node, depth first from the root (none before the PnP manager has started). */
export function allNodes(ctx: InspectContext): DEVICE_NODE[] {
  return ctx.pnp.root ? [...ctx.pnp.allNodes()] : [];
}

/** Every device object the I/O manager knows, in creation order. */
export function allDevices(ctx: InspectContext): DEVICE_OBJECT[] {
  return [...ctx.io.devices];
}

/**
 * The device an argument names: an address of a DEVICE_OBJECT, or a name in the object
 * namespace (\Device\ is assumed when the name has no prefix, as WinDbg assumes it).
 */
export function findDevice(ctx: InspectContext, word: string, command: string): DEVICE_OBJECT {
  const address = parseAddress(word, "the device object");
  if (address !== undefined) {
    const d = allDevices(ctx).find((x) => x.address === address);
    if (d) return d;
  }
  const name = word.startsWith("\\") ? word : `\\Device\\${word}`;
  const named = ctx.io.namespace.get(name.toLowerCase()) ?? ctx.io.resolve(word);
  if (named) return named;
  if (address !== undefined) throw new InspectError(`${command}: ${ptr(address)} is not the address of a device object (list them with !drvobj <driver> or !devnode 0 1)`);
  throw new InspectError(`${command}: no device is named "${name}" (give a device object address or a name such as \\Device\\Edu0)`);
}

/** The driver an argument names: an address of a DRIVER_OBJECT, or a service name with or without \Driver\. */
export function findDriver(ctx: InspectContext, word: string, command: string): DRIVER_OBJECT {
  const byName = (n: string) => [...ctx.io.drivers.values()].find((d) => d.serviceName.toLowerCase() === n.toLowerCase());
  const name = word.replace(/^\\Driver\\/i, "");
  const named = byName(name);
  if (named) return named;
  const address = parseAddress(word, "the driver object");
  if (address !== undefined) {
    const d = [...ctx.io.drivers.values()].find((x) => x.address === address);
    if (d) return d;
    throw new InspectError(`${command}: ${ptr(address)} is not the address of a driver object (loaded drivers: ${driverList(ctx)})`);
  }
  throw new InspectError(`${command}: no driver \\Driver\\${name} is loaded (loaded drivers: ${driverList(ctx)})`);
}

function driverList(ctx: InspectContext): string {
  return [...ctx.io.drivers.values()].map((d) => d.DriverName).join(", ") || "none";
}

/** The device node's address, if the node carries one. */
export function nodeAddress(node: DEVICE_NODE | null | undefined): number | undefined {
  return node ? addressOf(node) : undefined;
}

/** A device node reference as !devnode prints it: 0x-prefixed, 0000000000 style for none. */
export function nodePointer(node: DEVICE_NODE | null | undefined): string {
  if (!node) return "0000000000000000";
  const a = nodeAddress(node);
  return a === undefined ? `0x${UNKNOWN_POINTER}` : `0x${ptr(a)}`;
}
