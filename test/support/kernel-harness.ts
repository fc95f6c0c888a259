/**
 * Test harness for the kernel layers: boots machines (optionally with the verifier off or
 * another seed), runs code that is expected to bug check on a machine of its own, and
 * offers small helpers for kernel tests — extra system threads, driver attribution,
 * sleeping in 100 ns units, and test drivers with device stacks for IRP tests.
 *
 * Everything goes through the public kernel API (src/index.ts) plus the few managers
 * the brief allows tests to reach (IO(), PNP(), the kernel behind machine.kernel).
 */
import { expect } from "vitest";
import { boot, type BootOptions, type BootedKernel, type ExecOptions } from "../../src/pnp/boot.js";
import { Machine } from "../../src/machine/machine.js";
import { loadMachine, type MachineDescription } from "../../src/machine/firmwareFiles.js";
import { BugCheck } from "../../src/ke/bugcheck.js";
import { KE, type Kernel } from "../../src/ke/kernel.js";
import { EVENT_TYPE, KEVENT, KeDelayExecutionThread, KeInitializeEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON } from "../../src/ke/dispatcher.js";
import { EDU_DEVICE_EXTENSION } from "../../src/drivers/edu/driver.js";
import { EDU_USER_DEVICE_NAME } from "../../src/drivers/edu/public.js";
import { CloseHandle, CreateFile, GENERIC_READ, GENERIC_WRITE, GetLastError, INVALID_HANDLE_VALUE, OPEN_EXISTING } from "../../src/io/usermode.js";
import type { KTHREAD } from "../../src/ke/scheduler.js";
import { STATUS_SUCCESS, type NTSTATUS } from "../../src/ke/ntstatus.js";
import { IO } from "../../src/io/manager.js";
import {
  DO_DEVICE_INITIALIZING, FILE_DEVICE_UNKNOWN, IoAttachDeviceToDeviceStack, IoCreateDevice, type DEVICE_OBJECT, type DRIVER_OBJECT,
} from "../../src/io/objects.js";

/** Simulated picoseconds per 100 ns unit (the unit of timeouts and of the 10 MHz performance counter). */
export const PS_PER_100NS = 100_000;

/** A relative timeout of `ms` milliseconds, in 100 ns units (negative = relative). */
export function relativeMs(ms: number): number {
  return -Math.round(ms * 10_000);
}

/** What to change in the default machine before booting. */
export interface MachineTweaks {
  /** Driver Verifier on (the default machine has it on). */
  verifier?: boolean;
  /** The machine's seed. */
  seed?: number;
}

/** The default machine's description with tweaks applied. */
export function defaultDescription(tweaks: MachineTweaks = {}): MachineDescription {
  const d = loadMachine("default");
  if (tweaks.verifier !== undefined) d.kernel = { ...d.kernel, verifier: tweaks.verifier };
  if (tweaks.seed !== undefined) d.seed = tweaks.seed;
  return d;
}

/** Boots the default machine (firmware/machines/default.json: 2 CPUs, edu), with tweaks. */
export async function bootDefault(tweaks: MachineTweaks = {}, options: BootOptions = {}): Promise<Machine> {
  if (tweaks.verifier === undefined && tweaks.seed === undefined) return boot("default", options);
  return boot(Machine.fromDescription(defaultDescription(tweaks)), options);
}

/** The kernel behind a booted machine. */
export function kernelOf(machine: Machine): Kernel {
  const k = (machine.kernel as BootedKernel | undefined)?.k;
  if (!k) throw new Error("machine has not been booted");
  return k;
}

/** Awaits `promise`, asserts it rejected with a BugCheck, and returns the BugCheck. */
export async function bugCheckOf(promise: Promise<unknown>): Promise<BugCheck> {
  let outcome: unknown;
  try {
    outcome = await promise;
  } catch (e) {
    if (e instanceof BugCheck) return e;
    throw new Error(`expected a BugCheck, got ${String(e)}`, { cause: e });
  }
  throw new Error(`expected a BugCheck, but the routine returned ${String(outcome)}`);
}

/**
 * Boots a fresh machine (a bug check stops a machine for good), runs `routine` on it
 * and returns the BugCheck it must cause.
 */
export async function crash(routine: () => unknown, exec: ExecOptions = {}, tweaks: MachineTweaks = {}, options: BootOptions = {}): Promise<BugCheck> {
  const machine = await bootDefault(tweaks, options);
  return bugCheckOf(machine.exec(routine, exec));
}

/** A BugCheck's parameters as numbers (they are small or below 2^53 in these tests). */
export function params(bc: BugCheck): [number, number, number, number] {
  return bc.parameters.map((p) => Number(p)) as [number, number, number, number];
}

/** Asserts a bug check's code and its leading parameters (undefined entries are not checked). */
export function expectBugCheck(bc: BugCheck, code: number, ...leading: (number | undefined)[]): void {
  expect(`0x${bc.code.toString(16)}`).toBe(`0x${code.toString(16)}`);
  leading.forEach((v, i) => {
    if (v !== undefined) expect(`P${i + 1}=0x${Number(bc.parameters[i]).toString(16)}`).toBe(`P${i + 1}=0x${v.toString(16)}`);
  });
}

/** Runs `fn` as routine `routine` of driver `driver` (so bug checks and faults are attributed to a driver). */
export function asDriver<T>(driver: string, routine: string, fn: () => T): T {
  return KE().invoke(driver, routine, fn);
}

/** Starts another system thread (any processor unless `affinity` says which); it becomes ready now. */
export function spawnThread(name: string, body: () => unknown, affinity = -1): KTHREAD {
  return KE().scheduler.createThread(name, body, { affinity });
}

/** Sleeps the calling thread for `units` of 100 ns (KeDelayExecutionThread with a relative interval). */
export function sleep100ns(units: number): Promise<NTSTATUS> {
  return KeDelayExecutionThread(KPROCESSOR_MODE.KernelMode, false, -units);
}

let driverSerial = 0;

/** Loads a driver with no dispatch routines of its own (tests assign MajorFunction entries). */
export async function createTestDriver(prefix = "testdrv"): Promise<DRIVER_OBJECT> {
  const service = `${prefix}${++driverSerial}`;
  const { status, driver } = await IO().loadDriver(service, { DriverEntry: () => STATUS_SUCCESS });
  if (status !== STATUS_SUCCESS) throw new Error(`DriverEntry of ${service} failed`);
  return driver;
}

/** Creates an unnamed device object of a new test driver. */
export async function createTestDevice(prefix = "testdrv"): Promise<DEVICE_OBJECT> {
  const driver = await createTestDriver(prefix);
  const { status, DeviceObject } = IoCreateDevice(driver, {}, null, FILE_DEVICE_UNKNOWN, 0, false);
  if (status !== STATUS_SUCCESS || !DeviceObject) throw new Error("IoCreateDevice failed");
  DeviceObject.Flags &= ~DO_DEVICE_INITIALIZING;
  return DeviceObject;
}

/**
 * Builds a device stack of `depth` devices, each of its own driver, attached bottom up.
 * Returns the devices top first (devices[0] is the top, devices[depth - 1] the bottom).
 */
export async function buildStack(depth: number, prefix = "layer"): Promise<DEVICE_OBJECT[]> {
  const bottomUp: DEVICE_OBJECT[] = [];
  for (let i = 0; i < depth; i++) {
    const d = await createTestDevice(prefix);
    if (bottomUp.length > 0) IoAttachDeviceToDeviceStack(d, bottomUp[bottomUp.length - 1]);
    bottomUp.push(d);
  }
  return bottomUp.reverse();
}

/** The device a device object is attached to (the next lower one), or null at the bottom. */
export function lowerOf(device: DEVICE_OBJECT): DEVICE_OBJECT | null {
  return device.lowerDevice;
}

/** The edu driver's device extension on a booted machine. */
export function eduExtension(machine: Machine): EDU_DEVICE_EXTENSION {
  const device = IO(kernelOf(machine)).devices.find((d) => d.DeviceExtension instanceof EDU_DEVICE_EXTENSION);
  if (!device) throw new Error("no edu device object");
  return device.DeviceExtension as EDU_DEVICE_EXTENSION;
}

/** A notification event, not signalled. */
export function notificationEvent(): KEVENT {
  const e = new KEVENT();
  KeInitializeEvent(e, EVENT_TYPE.NotificationEvent, false);
  return e;
}

/** KeWaitForSingleObject on `e` with a relative timeout of `timeoutMs` milliseconds. */
export function waitMs(e: KEVENT, timeoutMs: number): Promise<NTSTATUS> {
  return KeWaitForSingleObject(e, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, relativeMs(timeoutMs));
}

/** Runs `body` in a user program with \\.\Edu0 open (closed afterwards); `name` names the program. */
export async function withEdu<T>(machine: Machine, body: (h: number) => Promise<T>, name = "edu-test"): Promise<T> {
  return machine.runProgram(name, async () => {
    const h = await CreateFile(EDU_USER_DEVICE_NAME, GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
    if (h === INVALID_HANDLE_VALUE) throw new Error(`CreateFile failed: ${GetLastError()}`);
    try {
      return await body(h);
    } finally {
      await CloseHandle(h);
    }
  });
}
