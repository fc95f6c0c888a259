/**
 * A booted default machine for the kernel-level benchmarks, and where its edu function
 * driver mapped BAR0 (found the way a debugger would: the I/O manager's device list, the
 * device whose driver is the "edu" service, its device extension's Registers).
 */
import { boot } from "../src/pnp/boot.js";
import { IO } from "../src/io/manager.js";
import { KE, type Kernel } from "../src/ke/kernel.js";
import type { Machine } from "../src/machine/machine.js";

/** A booted machine and its kernel. */
export interface BootedMachine {
  machine: Machine;
  kernel: Kernel;
  /** Virtual address of edu's BAR0 in system space. */
  registers: number;
}

/** Boots the default machine and finds the edu driver's register mapping. */
export async function bootDefault(): Promise<BootedMachine> {
  const machine = await boot("default");
  const kernel = KE();
  const edu = IO(kernel).devices.find((d) => d.DriverObject.serviceName === "edu");
  const registers = (edu?.DeviceExtension as { Registers?: number } | undefined)?.Registers;
  if (!registers) throw new Error("the edu driver did not start (no device with mapped registers)");
  return { machine, kernel, registers };
}

/** The executing processor's clock, ps (for simulated time per operation). */
export function cpuTimePs(): number {
  return KE().cpu.time;
}
