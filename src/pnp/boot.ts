/**
 * Boot: starts the kernel on a powered-on machine. The HAL discovers the platform from the
 * firmware tables, the memory manager takes the usable RAM, the I/O and PnP managers
 * start, and the PnP manager builds the device tree in a system thread, loading drivers
 * from the driver store as it finds devices.
 */
import { scheduleFaults } from "../verifier/faults.js";
import { Machine, type MachineKernel, type ProcessOutcome, type ProgramOptions } from "../machine/machine.js";
import type { MachineDescription } from "../machine/firmwareFiles.js";
import { Kernel, KernelHang, RunLimitReached, type KernelOptions, type RunLimits } from "../ke/kernel.js";
import { PS_PER_SECOND } from "../ke/time.js";
import { stallReport } from "../debug/stall-report.js";
import { PASSIVE_LEVEL, type KIRQL } from "../ke/irql.js";
import { KeRaiseIrql, KeLowerIrql } from "../ke/level.js";
import { Scheduler, type KTHREAD } from "../ke/scheduler.js";
import { discoverPlatform } from "../hal/acpi.js";
import { Hal, HAL } from "../hal/hal.js";
import { MemoryManager } from "../mm/manager.js";
import { IO, IoManager } from "../io/manager.js";
import { ObjectManager } from "../ob/manager.js";
import { createProcess, ethreadOf } from "../io/process.js";
import { endUserThread, ProcessTerminated, runUserThread } from "../io/process-exit.js";
import { standardUserToken } from "../se/token.js";
import { NT_SUCCESS, NtStatusException, STATUS_SUCCESS, statusName, type NTSTATUS } from "../ke/ntstatus.js";
import { userProcessStarting } from "../ps/process.js";
import { PNP, PnpManager, type RootChild } from "./manager.js";
import { PowerManager } from "../po/manager.js";
import type { DriverPackage, SetupClass } from "./packages.js";
import { loadDriverPackageFile } from "./inf.js";
import { CM, type Registry } from "../cm/registry.js";
import { applyDebugPrintFilter } from "../cm/debug-print-filter.js";
import { applyPresetKeys, presetKeys, type PresetKey } from "../cm/presets.js";
import { driverImagePath, serviceKeyPath, SERVICE_SYSTEM_START } from "../cm/service-key.js";
import { canonicalImagePath, ZwLoadDriver } from "../io/driver-load.js";
import { REG_DWORD, REG_SZ } from "../cm/value-types.js";
import { installServiceKey } from "./registry-keys.js";
import { installClassSecurity } from "./class-security.js";
import { pciPackage } from "../drivers/pci/package.js";
import { eduPackage } from "../drivers/edu/package.js";
import { diskPackage } from "../drivers/disk/package.js";
import { stornvmePackage } from "../drivers/stornvme/package.js";

/** Packages every machine's driver store starts with. */
export const BUILT_IN_PACKAGES: DriverPackage[] = [pciPackage, eduPackage, stornvmePackage, diskPackage];

/** Options for boot. */
export interface BootOptions extends KernelOptions {
  /** Driver packages to add to the store before devices are enumerated (they replace built-in ones of the same service). */
  packages?: DriverPackage[];
  /** Root-enumerated devices besides the PCI host bridge (software devices, as installed with "devcon install"). */
  rootDevices?: RootChild[];
  /** Driver package files to install (names in firmware/drivers, or paths), after the machine file's own. */
  driverFiles?: string[];
}

/** How a routine runs under Machine.exec (and within which limits: maxSimTime, timeout, s). */
export interface ExecOptions extends RunLimits {
  /** Processor to run on (default 0). */
  cpu?: number;
  /** IRQL to run at (default PASSIVE_LEVEL). */
  irql?: KIRQL;
  /** Thread name in traces. */
  name?: string;
}

/** The machine's present, ps: the latest any processor has reached (where work the host starts begins). */
function machinePresentPs(k: Kernel): number {
  return Math.max(...k.processors.map((p) => p.time));
}

/** The kernel side of a booted machine. */
export class BootedKernel implements MachineKernel {
  constructor(readonly k: Kernel) {}

  async run(untilPs: number): Promise<void> {
    try {
      await this.k.scheduler.run(() => false, untilPs);
    } catch (e) {
      if (e instanceof RunLimitReached) e.report = stallReport(this.k.machine);
      throw e;
    }
  }

  /**
   * Runs `routine` as kernel code in a system thread on a processor, at PASSIVE_LEVEL
   * unless told otherwise, and resolves to what it returns. A bug check rejects with the
   * BugCheck.
   */
  async exec<T>(routine: () => T | Promise<T>, options: ExecOptions = {}): Promise<T> {
    const k = this.k;
    if (k.crashed) throw k.crashed;
    const irql = options.irql ?? PASSIVE_LEVEL;
    const cpu = options.cpu ?? 0;
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= k.processors.length) throw new RangeError(`exec: cpu ${cpu} does not exist (the machine has ${k.processors.length})`);
    const thread = k.scheduler.createThread(options.name ?? "exec", async () => {
      if (irql === PASSIVE_LEVEL) return routine();
      const old = KeRaiseIrql(irql);
      const result = await routine();
      KeLowerIrql(old);
      return result;
    }, { affinity: cpu, readyAtPs: machinePresentPs(k) });
    return this.finish<T>(thread, options);
  }

  /**
   * Runs the machine until `thread` has terminated (and `done` holds), within `limits` and
   * the machine's own; resolves to what the thread returned, or rejects with its bug check.
   * A hang or a limit reached rejects with the error, its report saying what still waited.
   */
  private async finish<T>(thread: KTHREAD, limits: RunLimits, done: () => boolean = () => true): Promise<T> {
    const k = this.k;
    const s = k.scheduler;
    const saved = [s.simDeadlinePs, s.hostDeadlineMs] as const;
    if (limits.maxSimTime !== undefined) s.simDeadlinePs = Math.min(saved[0], machinePresentPs(k) + limits.maxSimTime * PS_PER_SECOND);
    if (limits.timeout !== undefined) s.hostDeadlineMs = Math.min(saved[1], performance.now() + limits.timeout * 1000);
    try {
      await s.run(() => thread.State === "terminated" && (done() || thread.error !== undefined));
    } catch (e) {
      if ((e instanceof KernelHang || e instanceof RunLimitReached) && k.machine.kernel) e.report = stallReport(k.machine);
      throw e;
    } finally {
      [s.simDeadlinePs, s.hostDeadlineMs] = saved;
    }
    if (thread.State !== "terminated") throw new Error(`the machine was stopped before "${thread.name}" finished`);
    if (thread.error !== undefined) throw k.asBugCheck(thread.error);
    return thread.result as T;
  }

  /** A hot-plug presence change on `bus`: the bus driver is told, and the PnP manager's work on it finishes. */
  async presenceChanged(bus: number): Promise<void> {
    const k = this.k;
    await this.exec(async () => {
      HAL(k).presenceChanged(bus);
      await PNP(k).perform("PiSync", async () => {});
    }, { name: "hot-plug" });
  }

  /**
   * Runs a user-mode program as the main thread of a new process; resolves once the process
   * has ended (main returning ends it, as C's exit does: other threads still running end
   * too) to how it ended. The process's creation callbacks run first in that thread; if one
   * fails the creation, the program does not run and this rejects with the status (an
   * NtStatusException). A bug check under the program rejects with the BugCheck.
   */
  async runProcess<T>(name: string, program: () => Promise<T>, options: ProgramOptions = {}): Promise<ProcessOutcome<T>> {
    const k = this.k;
    if (k.crashed) throw k.crashed;
    const process = k.on(k.processors[0], () => createProcess(name, k));
    if (options.user === "standard") process.Token = standardUserToken();
    let creation: NTSTATUS = STATUS_SUCCESS;
    let main: { returned: boolean; value: T | undefined } = { returned: false, value: undefined };
    const thread: KTHREAD = k.scheduler.createThread(name, async () => {
      const self = ethreadOf(thread)!;
      creation = userProcessStarting(k, process, thread, name);
      if (!NT_SUCCESS(creation)) return endUserThread(self, creation, false);
      main = await runUserThread(self, program, (value) => (typeof value === "number" ? value : 0), true);
    }, { process, affinity: options.cpu ?? -1, readyAtPs: machinePresentPs(k) });
    await this.finish<void>(thread, options, () => process.Header.SignalState !== 0);
    if (k.crashed) throw k.crashed;
    if (!NT_SUCCESS(creation)) throw new NtStatusException(creation);
    return { ExitCode: process.ExitStatus, returned: main.returned, value: main.value, exception: process.exception };
  }

  /** Runs a user-mode program in a new process; resolves to what its main returns, or rejects with ProcessTerminated when the process ended otherwise. */
  async runProgram<T>(name: string, program: () => Promise<T>, options: ProgramOptions = {}): Promise<T> {
    const outcome = await this.runProcess(name, program, options);
    if (!outcome.returned) throw new ProcessTerminated(name, outcome.ExitCode, outcome.exception);
    return outcome.value as T;
  }
}

/**
 * Powers on the machine in a machine file (a path, or a name in firmware/machines) and
 * boots the kernel on it.
 */
export async function boot(machineFile: string | Machine, options: BootOptions = {}): Promise<Machine> {
  const machine = typeof machineFile === "string" ? Machine.fromFile(machineFile) : machineFile;
  // Driver package files: the machine file's, then the caller's; packages given directly come last and win.
  const installed = await Promise.all([...machine.description.drivers, ...(options.driverFiles ?? [])].map((f) => loadDriverPackageFile(f)));
  const packages = [...BUILT_IN_PACKAGES, ...installed.flatMap((f) => f.packages), ...(options.packages ?? [])];
  const rootDevices = [...installed.flatMap((f) => f.rootDevices), ...(options.rootDevices ?? [])];
  const presets = presetKeys(machine.description.registry, false, machine.description.file || `machine "${machine.description.name}"`, "/registry");
  const k = new Kernel(machine, options);
  k.activate();
  const platform = discoverPlatform(machine.core);
  if (platform.processors.length !== k.processors.length) {
    throw new Error(`firmware reports ${platform.processors.length} processors, the machine has ${k.processors.length}`);
  }
  k.services.set("hal", new Hal(k, platform));
  const mm = new MemoryManager(k, platform.usableRam);
  k.services.set("mm", mm);
  k.scheduler = new Scheduler(k, mm.systemProcess);
  scheduleFaults(k);
  // The machine's own limits, for its whole life.
  if (options.maxSimTime !== undefined) k.scheduler.simDeadlinePs = options.maxSimTime * PS_PER_SECOND;
  if (options.timeout !== undefined) k.scheduler.hostDeadlineMs = performance.now() + options.timeout * 1000;
  k.services.set("ob", new ObjectManager(k));
  k.services.set("io", new IoManager(k));
  const pnp = new PnpManager(k, [{
    deviceId: "ACPI\\PNP0A08",
    hardwareIds: ["ACPI\\PNP0A08", "*PNP0A08"],
    compatibleIds: ["*PNP0A03"],
    instanceId: "0",
  }, ...rootDevices]);
  for (const pkg of packages) {
    pnp.store.add(pkg);
    IO(k).images.set(canonicalImagePath(driverImagePath(pkg.service)), pkg.module);
  }
  const classes = [...installed.flatMap((f) => f.classes), ...packages.flatMap((p) => (p.setupClass ? [p.setupClass] : []))];
  writeSetupRegistry(CM(k), packages, classes, machine.description.driverParameters, presets);
  applyDebugPrintFilter(k);
  k.services.set("pnp", pnp);
  k.services.set("po", new PowerManager(k));
  const kernel = new BootedKernel(k);
  machine.kernel = kernel;
  await kernel.exec(async () => {
    HAL(k).startDmaRemapping();
    await loadStartDrivers(k, packages);
    return pnp.start();
  }, { name: "PnP manager" });
  return machine;
}

/**
 * The registry setup leaves before the first boot: a service key per driver package, the
 * setup classes' device object properties, the machine file's "driverParameters" under
 * each service's Parameters key (numbers as REG_DWORD, strings as REG_SZ), then the machine
 * file's own presets, which win.
 */
function writeSetupRegistry(registry: Registry, packages: readonly DriverPackage[], classes: readonly SetupClass[], driverParameters: MachineDescription["driverParameters"], presets: readonly PresetKey[]): void {
  for (const pkg of packages) installServiceKey(registry, pkg);
  for (const cls of classes) installClassSecurity(registry, cls);
  for (const [service, values] of Object.entries(driverParameters ?? {})) {
    for (const [name, value] of Object.entries(values)) registry.set(`${serviceKeyPath(service)}\\Parameters`, name, typeof value === "number" ? REG_DWORD : REG_SZ, value);
  }
  applyPresetKeys(registry, presets);
}

/**
 * Loads the legacy drivers whose service starts at boot or system start, boot-start ones
 * first, as Windows does before it enumerates devices. A driver that fails to load is
 * noted in the trace and boot goes on (ErrorControl SERVICE_ERROR_NORMAL).
 */
async function loadStartDrivers(k: Kernel, packages: readonly DriverPackage[]): Promise<void> {
  const legacy = packages.filter((p) => p.role === "legacy" && p.start !== undefined && p.start <= SERVICE_SYSTEM_START);
  for (const pkg of [...legacy].sort((a, b) => a.start! - b.start!)) {
    const status = await ZwLoadDriver(serviceKeyPath(pkg.service));
    if (!NT_SUCCESS(status)) k.recorder.note(k.cpu.time, `${pkg.service} failed to load: ${statusName(status)}`, "", "", k.cpu.Number);
  }
}
