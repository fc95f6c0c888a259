/**
 * The toaster workload: the toaster family on a machine, driven the way its user-mode
 * tools drive it. A program finds the bus by its device interface and plugs in three
 * toasters; an `enum`-style program lists the toasters it finds by GUID_DEVINTERFACE_TOASTER
 * and writes and reads each one; one toaster is stopped (its requests wait) and started
 * again; one is unplugged while a program holds it open (a surprise removal), one is
 * ejected, and the rest are unplugged. The device tree is taken after every step, the
 * filters' counts before the first removal, and at the end nothing may be left: no IRP, no toaster
 * device object, no toaster driver loaded.
 */
import {
  CloseHandle, CreateFile, DeviceIoControl, FILE_FLAG_OVERLAPPED, GENERIC_READ, GENERIC_WRITE, INVALID_HANDLE_VALUE, OPEN_EXISTING, ReadFile, WriteFile, type HANDLE,
} from "../io/usermode.js";
import { CreateEvent, Sleep, WaitForSingleObject } from "../io/sync-objects.js";
import { OVERLAPPED, GetOverlappedResult } from "../io/overlapped.js";
import { DIGCF_DEVICEINTERFACE, DIGCF_PRESENT, SetupDiDestroyDeviceInfoList, SetupDiEnumDeviceInterfaces, SetupDiGetClassDevs, SetupDiGetDeviceInterfaceDetail, HDEVINFO } from "../io/setupapi.js";
import { IO } from "../io/manager.js";
import { MM } from "../mm/manager.js";
import type { BootOptions } from "../pnp/boot.js";
import { PNP } from "../pnp/manager.js";
import { restartDevice, stopDevice } from "../pnp/requests.js";
import { deviceTree, formatDeviceTree } from "../pnp/tree.js";
import type { Kernel } from "../ke/kernel.js";
import { KeDelayExecutionThread, KPROCESSOR_MODE } from "../ke/dispatcher.js";
import type { Machine } from "../machine/machine.js";
import type { BootedKernel } from "../pnp/boot.js";
import {
  encodePlugin, encodeUnplug, GUID_DEVINTERFACE_BUSENUM_TOASTER, GUID_DEVINTERFACE_TOASTER, IOCTL_BUSENUM_EJECT_HARDWARE, IOCTL_BUSENUM_PLUGIN_HARDWARE,
  IOCTL_BUSENUM_UNPLUG_HARDWARE,
} from "../drivers/toaster/public.js";
import { FILTER_DEVICE_EXTENSION } from "../drivers/toaster/filter.js";

/** Boot options that install the toaster family on a machine (its driver package file, firmware/drivers/toaster.json). */
export const TOASTER_BOOT_OPTIONS: BootOptions = { driverFiles: ["toaster"] };

/** One step of the workload and the device tree after it. */
export interface ToasterStep {
  title: string;
  tree: string[];
}

/** What the workload did. */
export interface ToasterWorkloadResult {
  steps: ToasterStep[];
  /** Device paths `enum` found after the plug-ins. */
  enumerated: string[];
  /** Toasters written and read back correctly. */
  verified: number;
  /** A read issued while a toaster was stopped waited, and completed once it restarted. */
  queuedWhileStopped: boolean;
  /** A request to the surprise-removed toaster on the handle still open failed. */
  failedAfterSurpriseRemoval: boolean;
  /** IRPs each filter saw on its toaster devices (summed over the three toasters), before the first removal. */
  filterCounts: Record<string, Record<string, number>>;
  /** Left at the end: live IRPs beyond those at the start, toaster device objects, toaster drivers loaded, pool bytes beyond those in use at the start. */
  leaks: { irps: number; devices: number; drivers: string[]; poolBytes: number };
  ok: boolean;
}

const SERIALS = [1, 2, 3];
const TOASTER_SERVICES = ["toaster", "devlower", "devupper", "clslower", "clsupper"];

function kernelOf(machine: Machine): Kernel {
  return (machine.kernel as BootedKernel).k;
}

/** Device paths of every present interface of `guid` (SetupDiGetClassDevs / SetupDiEnumDeviceInterfaces). */
function interfacePaths(guid: string): string[] {
  const set = SetupDiGetClassDevs(guid, null, null, DIGCF_PRESENT | DIGCF_DEVICEINTERFACE);
  if (!(set instanceof HDEVINFO)) return [];
  const paths: string[] = [];
  for (let i = 0; ; i++) {
    const { ok, DeviceInterfaceData } = SetupDiEnumDeviceInterfaces(set, null, guid, i);
    if (!ok || !DeviceInterfaceData) break;
    const detail = SetupDiGetDeviceInterfaceDetail(set, DeviceInterfaceData);
    if (detail.ok) paths.push(detail.DevicePath);
  }
  SetupDiDestroyDeviceInfoList(set);
  return paths;
}

/** Waits (polling every millisecond, at most `ms`) until `count` toasters are present; returns their paths. */
async function waitForToasters(count: number, ms = 100): Promise<string[]> {
  for (let i = 0; i < ms; i++) {
    const paths = interfacePaths(GUID_DEVINTERFACE_TOASTER);
    if (paths.length === count) return paths;
    await Sleep(1);
  }
  return interfacePaths(GUID_DEVINTERFACE_TOASTER);
}

/** Opens the toaster bus by its interface. */
async function openBus(): Promise<HANDLE> {
  const [path] = interfacePaths(GUID_DEVINTERFACE_BUSENUM_TOASTER);
  if (!path) return INVALID_HANDLE_VALUE;
  return CreateFile(path, GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
}

/** Sends one bus IOCTL; true on success. */
async function busRequest(code: number, input: Uint8Array): Promise<boolean> {
  const bus = await openBus();
  if (bus === INVALID_HANDLE_VALUE) return false;
  const r = await DeviceIoControl(bus, code, input, input.length, null, 0);
  await CloseHandle(bus);
  return r.ok;
}

/** The toaster node with this serial (its instance path ends in the serial). */
function toasterNode(k: Kernel, serial: number) {
  const suffix = `&${String(serial).padStart(2, "0")}`;
  return [...PNP(k).allNodes()].find((n) => n.ServiceName === "toaster" && n.InstancePath.endsWith(suffix));
}

/** IRP counts of every live filter device of the toaster filters, summed per service. */
function filterCounts(k: Kernel): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const service of TOASTER_SERVICES.slice(1)) {
    const counts: Record<string, number> = {};
    for (let d = IO(k).drivers.get(service)?.DeviceObject ?? null; d; d = d.NextDevice) {
      const ext = d.DeviceExtension;
      if (!(ext instanceof FILTER_DEVICE_EXTENSION)) continue;
      for (const [key, n] of ext.Seen) counts[key] = (counts[key] ?? 0) + n;
    }
    out[service] = counts;
  }
  return out;
}

/** Pool bytes in use, nonpaged and paged, over every tag. */
function poolBytesInUse(k: Kernel): number {
  return MM(k).pool.usageByTag().reduce((n, t) => n + t.nonPaged.bytes + t.paged.bytes, 0);
}

/** Runs the toaster scenario on a machine booted with TOASTER_BOOT_OPTIONS. */
export async function runToasterWorkload(machine: Machine): Promise<ToasterWorkloadResult> {
  const k = kernelOf(machine);
  const steps: ToasterStep[] = [];
  const snapshot = (title: string) => steps.push({ title, tree: formatDeviceTree(deviceTree(k)) });
  const irpsAtStart = IO(k).irps.size;
  const poolAtStart = poolBytesInUse(k);
  snapshot("booted: the toaster bus is root-enumerated");

  // Plug in three toasters, then list them as the enum tool does.
  const enumerated = await machine.runProgram("enum", async () => {
    for (const serial of SERIALS) if (!(await busRequest(IOCTL_BUSENUM_PLUGIN_HARDWARE, encodePlugin(serial)))) return [];
    return waitForToasters(SERIALS.length);
  });
  snapshot(`plugged in toasters ${SERIALS.join(", ")}`);

  // Use each toaster: write bread, read the toast back.
  const verified = await machine.runProgram("toast", async () => {
    let good = 0;
    for (const [i, path] of enumerated.entries()) {
      const h = await CreateFile(path, GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
      if (h === INVALID_HANDLE_VALUE) continue;
      const bread = new TextEncoder().encode(`slice of bread #${i + 1}`);
      const w = await WriteFile(h, bread, bread.length);
      const toast = new Uint8Array(64);
      const r = await ReadFile(h, toast, toast.length);
      if (w.ok && r.ok && r.bytes === bread.length && toast.subarray(0, r.bytes).every((b, j) => b === bread[j])) good++;
      await CloseHandle(h);
    }
    return good;
  });
  snapshot("wrote and read every toaster");

  // Stop toaster 3 (as a rebalance does): a read waits in its queue until a system thread starts it again 1 ms later.
  const third = toasterNode(k, 3)!;
  await machine.exec(() => stopDevice(third));
  k.scheduler.createThread("restart toaster 3", async () => {
    await KeDelayExecutionThread(KPROCESSOR_MODE.KernelMode, false, -10_000);
    snapshot("stopped toaster 3 (a read waits in its queue)");
    await restartDevice(third);
  });
  const stoppedPath = enumerated[2];
  const queuedWhileStopped = await machine.runProgram("read-while-stopped", async () => {
    const h = await CreateFile(stoppedPath, GENERIC_READ, 0, null, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, null);
    const o = new OVERLAPPED();
    o.hEvent = CreateEvent(null, true, false, null);
    const buffer = new Uint8Array(64);
    const started = await ReadFile(h, buffer, buffer.length, o);
    const pendedFirst = !started.ok;
    await WaitForSingleObject(o.hEvent, 0xFFFFFFFF);
    const done = await GetOverlappedResult(h, o, false);
    await CloseHandle(o.hEvent);
    await CloseHandle(h);
    return pendedFirst && done.ok && done.bytes > 0;
  });
  snapshot("restarted toaster 3 (the waiting read completed)");

  const counts = filterCounts(k);

  // Unplug toaster 1 while a program has it open: SURPRISE_REMOVAL now, REMOVE at the close.
  const failedAfterSurpriseRemoval = await machine.runProgram("surprise", async () => {
    const h = await CreateFile(enumerated[0], GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
    await busRequest(IOCTL_BUSENUM_UNPLUG_HARDWARE, encodeUnplug(1));
    await waitForToasters(2);
    const r = await ReadFile(h, new Uint8Array(8), 8);
    await CloseHandle(h);
    await Sleep(1);
    return !r.ok;
  });
  snapshot("unplugged toaster 1 while it was open (surprise removal)");

  // Eject toaster 2: an orderly removal, then the bus takes it off.
  await machine.runProgram("eject", async () => {
    await busRequest(IOCTL_BUSENUM_EJECT_HARDWARE, encodeUnplug(2));
    await waitForToasters(1);
  });
  snapshot("ejected toaster 2");

  await machine.runProgram("unplug-all", async () => {
    await busRequest(IOCTL_BUSENUM_UNPLUG_HARDWARE, encodeUnplug(0));
    await waitForToasters(0);
    await Sleep(1);
  });
  snapshot("unplugged every toaster");

  const io = IO(k);
  const devices = io.devices.filter((d) => TOASTER_SERVICES.includes(d.DriverObject.serviceName)).length;
  const leaks = { irps: io.irps.size - irpsAtStart, devices, drivers: TOASTER_SERVICES.filter((s) => io.drivers.has(s)), poolBytes: poolBytesInUse(k) - poolAtStart };
  const ok = enumerated.length === SERIALS.length && verified === SERIALS.length && queuedWhileStopped && failedAfterSurpriseRemoval
    && leaks.irps === 0 && leaks.devices === 0 && leaks.drivers.length === 0 && leaks.poolBytes === 0;
  return { steps, enumerated, verified, queuedWhileStopped, failedAfterSurpriseRemoval, filterCounts: counts, leaks, ok };
}

/** The workload's section of the run summary. */
export function formatToasterResult(r: ToasterWorkloadResult): string[] {
  const lines: string[] = [];
  for (const step of r.steps) {
    lines.push(`  ${step.title}`);
    for (const l of step.tree) lines.push(`    ${l}`);
  }
  lines.push("", "  enum found", ...r.enumerated.map((p) => `    ${p}`));
  lines.push(`  write/read                 ${r.verified}/${SERIALS.length} toasters verified byte for byte`);
  lines.push(`  read while stopped         ${r.queuedWhileStopped ? "waited, then completed after the restart" : "FAILED"}`);
  lines.push(`  I/O after surprise removal ${r.failedAfterSurpriseRemoval ? "failed, as it must" : "FAILED (it succeeded)"}`);
  lines.push("  IRPs the filters saw on the three toasters (before the first removal)");
  for (const [service, counts] of Object.entries(r.filterCounts)) {
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const top = Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 4).map(([key, n]) => `${key} ${n}`).join(", ");
    lines.push(`    ${service.padEnd(9)} ${String(total).padStart(4)}  (${top}, ...)`);
  }
  lines.push(`  left at the end            ${r.leaks.irps} IRPs, ${r.leaks.devices} toaster device objects, ${r.leaks.poolBytes} pool bytes, drivers loaded: ${r.leaks.drivers.join(", ") || "none"}`);
  lines.push(`  result                     ${r.ok ? "OK" : "FAILED"}`);
  return lines;
}
