/**
 * Machine: the hardware built from a machine file. It powers the core on, adds every
 * device in the file, and runs device time forward. It knows nothing of Windows: the
 * kernel attaches itself through the `kernel` hook and drives the machine from there.
 */
import type { RunLimits } from "../ke/kernel.js";
import { Core } from "./core.js";
import * as L from "./generated/layout.js";
import { DEVICE_MODELS } from "./models.js";
import { FirmwareError, loadMachine, type MachineDescription, type SlotDescription } from "./firmwareFiles.js";
import { armHardwareFault, checkHardwareFault, HARDWARE_FAULT_MODELS, type HardwareFault } from "./hardware-faults.js";

export type { NvmeFault, InterruptFault, DmaFault, MediaErrorFault, HardwareFault, FaultTrigger } from "./hardware-faults.js";

/** A PCI function the machine built. */
export interface MachineFunction {
  /** The core's function index. */
  index: number;
  bus: number;
  device: number;
  function: number;
  /** The device file's name. */
  deviceFile: string;
}

const PCIE_TYPES = {
  endpoint: L.PCIE_TYPE_ENDPOINT,
  rootPort: L.PCIE_TYPE_ROOT_PORT,
  upstreamPort: L.PCIE_TYPE_UPSTREAM_PORT,
  downstreamPort: L.PCIE_TYPE_DOWNSTREAM_PORT,
} as const;

const POWER_ERRORS: Record<number, [string, string]> = {
  [L.POWER_ERROR_CPUS]: ["/cpu", "CPU count or clock out of range"],
  [L.POWER_ERROR_RAM_LAYOUT]: ["/memory", "RAM regions overlap, are not 4 KiB aligned, or are too many"],
  [L.POWER_ERROR_RAM_TOO_LARGE]: ["/memory", `RAM must end below ${L.RAM_PHYS_LIMIT / 2 ** 30} GiB (0x${L.RAM_PHYS_LIMIT.toString(16)}), the most guest-physical address space the core maps`],
  [L.POWER_ERROR_RAM_OVERLAPS_MMIO]: ["/memory", "a RAM region overlaps ECAM, the PCI memory window, or the I/O APIC's, IOMMU's or local APIC's registers"],
  [L.POWER_ERROR_TLB]: ["/cpu/tlbEntries", "TLB size must be a power of two up to 1024"],
  [L.POWER_ERROR_NO_LOW_RAM]: ["/memory", "RAM must cover 0xE0000..0xFFFFF, where firmware places its tables"],
  [L.POWER_ERROR_ECAM]: ["/pci/ecam/buses", "ECAM must cover 1..256 buses"],
  [L.POWER_ERROR_IOMMU]: ["/iommu/iotlbEntries", "the IOTLB size must be a power of two up to 4096"],
};

const DEVICE_ERRORS: Record<number, [string, string]> = {
  [L.DEVICE_ERROR_ADDRESS]: ["address", "bus, device or function out of range"],
  [L.DEVICE_ERROR_DUPLICATE]: ["address", "that address is already populated"],
  [L.DEVICE_ERROR_BAR]: ["device", "a BAR size is not a power of two, is too small or too large, or a 64-bit BAR lacks its upper slot"],
  [L.DEVICE_ERROR_MSI]: ["device", "a capability (MSI, MSI-X, power management, PCI Express) has a bad offset, size or vector count, or two overlap"],
  [L.DEVICE_ERROR_LINK]: ["link", "link generation, width, max payload or max read request size is invalid"],
  [L.DEVICE_ERROR_MODEL]: ["device", "unknown device model, or the device heap (MSI-X tables and model state) or backing storage (namespace data, in the core's linear memory) is full"],
  [L.DEVICE_ERROR_FULL]: ["address", "the machine already has the most PCI functions it can hold"],
};

/** "bb:dd.f" (hex) of a function. */
function locationOf(f: MachineFunction): string {
  return `${f.bus.toString(16).padStart(2, "0")}:${f.device.toString(16).padStart(2, "0")}.${f.function}`;
}

/** Bytes of backing storage an NVMe controller with `params` takes: its namespaces and a staging buffer per command slot (as assembly/devices/nvme.ts sizes them). */
function nvmeBackingBytes(params: Record<string, number>): number {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const namespaces = clamp(params.namespaceCount || 1, 1, 1024) * (params.namespaceBlocks || 65536) * (params.blockSize === 4096 ? 4096 : 512);
  const slots = clamp(params.parallelism || 32, 1, 255);
  const mdts = clamp(params.mdts || 5, 1, 8);
  return namespaces + slots * (4096 << mdts);
}

/** `bytes` in MiB for messages. */
function mib(bytes: number): string {
  return `${+(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * How a program runs: on which processor (any, by default), as an elevated administrator
 * (the default) or a standard user, and within which limits (maxSimTime, timeout: s).
 */
export interface ProgramOptions extends RunLimits {
  cpu?: number;
  user?: "administrator" | "standard";
}

/** How a program's process ended (Machine.runProcess). */
export interface ProcessOutcome<T> {
  /** The process's exit code: main's return value when it is a number (else 0), ExitProcess's or TerminateProcess's code, or an unhandled exception's code. */
  ExitCode: number;
  /** Main returned (rather than ExitProcess, TerminateProcess or an exception ending the process). */
  returned: boolean;
  /** What main returned, when it returned. */
  value: T | undefined;
  /** The unhandled exception that ended the process, if one did. */
  exception: unknown;
}

/** What a kernel attached to a machine provides to it. */
export interface MachineKernel {
  /** Runs until `untilPs` (simulated picoseconds). */
  run(untilPs: number): Promise<void>;
  /** Runs a routine as kernel code on a processor (a system thread). */
  exec<T>(routine: () => T | Promise<T>, options?: { cpu?: number; irql?: number; name?: string } & RunLimits): Promise<T>;
  /** Runs a user-mode program in a new process. */
  runProgram<T>(name: string, program: () => Promise<T>, options?: ProgramOptions): Promise<T>;
  /** Runs a user-mode program in a new process; resolves to how the process ended. */
  runProcess<T>(name: string, program: () => Promise<T>, options?: ProgramOptions): Promise<ProcessOutcome<T>>;
  /** A device on `bus` appeared or disappeared; resolves once the kernel has handled it. */
  presenceChanged(bus: number): Promise<void>;
}

/** Everything needed to recreate a machine exactly as it was: its description, its functions, all of its memory. */
export interface MachineSnapshot {
  readonly description: MachineDescription;
  readonly functions: readonly MachineFunction[];
  /** All of the core's linear memory. */
  readonly memory: Uint8Array;
}

/** A powered-on machine. */
export class Machine {
  readonly core: Core;
  readonly description: MachineDescription;
  readonly functions: MachineFunction[] = [];
  /** The kernel running on this machine, if one was booted. */
  kernel?: MachineKernel;
  /** Set by stop(): nothing runs on the machine any more. */
  stopped = false;

  private constructor(description: MachineDescription, snapshot?: MachineSnapshot) {
    this.description = description;
    this.core = new Core();
    if (snapshot) {
      this.core.restore(snapshot.memory);
      this.functions.push(...snapshot.functions.map((f) => ({ ...f })));
    } else {
      this.powerOn();
    }
  }

  /**
   * Captures the machine's hardware state: all of the core's memory (CPU, device, bus,
   * event queue and guest RAM state) and what this object holds about it. A kernel booted
   * on the machine keeps its own objects and is not part of it.
   */
  snapshot(): MachineSnapshot {
    return { description: structuredClone(this.description), functions: this.functions.map((f) => ({ ...f })), memory: this.core.snapshot() };
  }

  /** A new machine in exactly the state of `snapshot`; run the same inputs and it does the same thing. */
  static restore(snapshot: MachineSnapshot): Machine {
    return new Machine(structuredClone(snapshot.description), snapshot);
  }

  /** Builds the machine in a machine file (a path, or a name in firmware/machines). */
  static fromFile(nameOrPath: string): Machine {
    return new Machine(loadMachine(nameOrPath));
  }

  /** Builds the machine from an already resolved description. */
  static fromDescription(description: MachineDescription): Machine {
    return new Machine(description);
  }

  private powerOn(): void {
    const d = this.description;
    const { dv } = this.core;
    const mc = L.CONFIG_BASE;
    const u32 = (at: number, v: number) => dv.setUint32(mc + at, v >>> 0, true);
    const f64 = (at: number, v: number) => dv.setFloat64(mc + at, v, true);
    u32(L.MC_SEED_LO, d.seed >>> 0);
    u32(L.MC_SEED_HI, 0);
    u32(L.MC_CPU_COUNT, d.cpu.count);
    u32(L.MC_CPU_KHZ, d.cpu.kHz);
    u32(L.MC_TLB_ENTRIES, d.cpu.tlbEntries);
    u32(L.MC_TLB_MISS_CYCLES, d.cpu.tlbMissCycles);
    u32(L.MC_MEMORY_READ_LATENCY_NS, d.memoryReadLatencyNs);
    u32(L.MC_RAM_REGION_COUNT, d.memory.length);
    f64(L.MC_ECAM_BASE, d.ecam.base);
    u32(L.MC_ECAM_BUS_COUNT, d.ecam.buses);
    u32(L.MC_POSTED_WRITE_CREDITS, d.postedWriteCredits);
    f64(L.MC_MMIO_WINDOW_BASE, d.mmioWindow.base);
    f64(L.MC_MMIO_WINDOW_SIZE, d.mmioWindow.size);
    u32(L.MC_IOMMU_PRESENT, d.iommu ? 1 : 0);
    u32(L.MC_IOTLB_ENTRIES, d.iommu?.iotlbEntries ?? 0);
    u32(L.MC_IOTLB_MISS_NS, d.iommu?.missLatencyNs ?? 0);
    d.memory.forEach((r, i) => {
      f64(L.MC_RAM_BASE0 + i * L.RAM_REGION_STRIDE, r.base);
      f64(L.MC_RAM_SIZE0 + i * L.RAM_REGION_STRIDE, r.size);
    });
    const err = this.core.x.powerOn();
    this.core.refresh();
    if (err !== L.POWER_OK) {
      const [path, rule] = POWER_ERRORS[err] ?? ["", `power-on failed (${err})`];
      throw new FirmwareError(d.file || d.name, path, rule);
    }
    d.slots.forEach((slot, i) => this.addDevice(slot, i));
    if (!this.core.x.firmwareStage()) throw new FirmwareError(d.file || d.name, "/memory", POWER_ERRORS[L.POWER_ERROR_NO_LOW_RAM][1]);
  }

  private addDevice(slot: SlotDescription, i: number): void {
    const { dv } = this.core;
    const base = L.DEVICE_CONFIG_BASE;
    new Uint8Array(dv.buffer, base, 0x400).fill(0);
    const u32 = (at: number, v: number) => dv.setUint32(base + at, v >>> 0, true);
    const s = slot.spec;
    const model = DEVICE_MODELS[s.model];
    u32(L.DC_MODEL, model.number);
    u32(L.DC_BUS, slot.bus);
    u32(L.DC_DEVICE, slot.device);
    u32(L.DC_FUNCTION, slot.function);
    u32(L.DC_VENDOR_ID, s.vendorId);
    u32(L.DC_DEVICE_ID, s.deviceId);
    u32(L.DC_REVISION_ID, s.revisionId);
    u32(L.DC_CLASS_CODE, s.classCode);
    u32(L.DC_SUBSYSTEM_VENDOR_ID, s.subsystemVendorId);
    u32(L.DC_SUBSYSTEM_ID, s.subsystemId);
    u32(L.DC_INTERRUPT_PIN, s.interruptPin);
    u32(L.DC_PCI_EXPRESS, s.express ? 1 : 0);
    if (s.msi) {
      u32(L.DC_MSI_VECTORS, s.msi.vectors);
      u32(L.DC_MSI_OFFSET, s.msi.offset);
      u32(L.DC_MSI_FLAGS, (s.msi.address64 ? L.MSI_FLAG_64BIT : 0) | (s.msi.perVectorMasking ? L.MSI_FLAG_MASKING : 0));
    }
    if (s.msix) {
      u32(L.DC_MSIX_VECTORS, s.msix.vectors);
      u32(L.DC_MSIX_OFFSET, s.msix.offset);
      u32(L.DC_MSIX_TABLE_BAR, s.msix.tableBar);
      u32(L.DC_MSIX_TABLE_OFFSET, s.msix.tableOffset);
      u32(L.DC_MSIX_PBA_BAR, s.msix.pbaBar);
      u32(L.DC_MSIX_PBA_OFFSET, s.msix.pbaOffset);
    }
    if (s.pm) u32(L.DC_PM_OFFSET, s.pm.offset);
    if (s.pcie) {
      u32(L.DC_PCIE_OFFSET, s.pcie.offset);
      u32(L.DC_PCIE_TYPE, PCIE_TYPES[s.pcie.type]);
      u32(L.DC_MAX_PAYLOAD_SUPPORTED, s.pcie.maxPayloadSupported);
    }
    u32(L.DC_PARENT, slot.parent === null ? L.NO_PARENT_FUNCTION : this.functions[slot.parent].index);
    u32(L.DC_IS_BRIDGE, s.model === "bridge" ? 1 : 0);
    u32(L.DC_SECONDARY_BUS, slot.secondaryBus);
    u32(L.DC_SUBORDINATE_BUS, slot.subordinateBus);
    u32(L.DC_LINK_GENERATION, s.link.generation);
    u32(L.DC_LINK_WIDTH, s.link.width);
    u32(L.DC_MAX_PAYLOAD_SIZE, s.link.maxPayloadSize);
    u32(L.DC_MAX_READ_REQUEST_SIZE, s.link.maxReadRequestSize);
    u32(L.DC_LINK_LATENCY_NS, s.link.latencyNs);
    u32(L.DC_TLP_OVERHEAD_BYTES, s.link.tlpOverheadBytes);
    u32(L.DC_CLOCK_KHZ, s.clockKHz);
    for (const bar of s.bars) {
      dv.setFloat64(base + L.DC_BAR_SIZE0 + bar.index * 8, bar.size, true);
      const flags = (bar.type === "io" ? L.BAR_FLAG_IO : 0) | (bar.type === "memory64" ? L.BAR_FLAG_64BIT : 0)
        | (bar.prefetchable ? L.BAR_FLAG_PREFETCHABLE : 0);
      u32(L.DC_BAR_FLAGS0 + bar.index * 4, flags);
    }
    for (const [name, value] of Object.entries(s.params)) u32(L.DC_PARAM0 + model.params[name] * 4, value);
    const fn = this.core.x.addDevice();
    // A device may grow linear memory for its backing storage (the NVMe namespace).
    this.core.refresh();
    if (fn < 0) {
      const [field, generic] = DEVICE_ERRORS[fn] ?? ["", `cannot add device (${fn})`];
      let rule = generic;
      if (fn === L.DEVICE_ERROR_MODEL && s.model === "nvme") {
        // Backing storage in the core's linear memory: every NVMe controller's namespaces and staging buffers up to this one.
        const backing = this.description.slots.slice(0, i + 1).filter((x) => x.spec.model === "nvme").reduce((a, x) => a + nvmeBackingBytes(x.spec.params), 0);
        const p = s.params;
        const bytes = Math.min(p.namespaceCount || 1, 1024) * (p.namespaceBlocks || 65536) * (p.blockSize === 4096 ? 4096 : 512);
        if (backing > L.POOL_LIMIT - L.POOL_BASE || bytes >= 2 ** 32) {
          rule = `the NVMe namespaces (namespaceCount x namespaceBlocks x blockSize = ${mib(bytes)}) do not fit in the core's linear memory with the devices before them (and the guest RAM written so far): the core holds about ${(L.POOL_LIMIT / 2 ** 30).toFixed(1)} GiB in all; make namespaceBlocks or namespaceCount smaller`;
        }
      }
      throw new FirmwareError(this.description.file || this.description.name, `/pci/slots/${i}${field === "device" ? "/device" : field === "link" ? "/link" : "/address"}`, rule);
    }
    this.functions.push({ index: fn, bus: slot.bus, device: slot.device, function: slot.function, deviceFile: slot.deviceFile });
  }

  /** The function at `location` ("bb:dd.f", hex, as firmware numbered it); a clear error when there is none. */
  private functionAt(location: string): MachineFunction {
    const m = /^([0-9a-f]{1,2}):([0-9a-f]{1,2})\.([0-7])$/i.exec(location.trim());
    if (!m) throw new Error(`"${location}" is not a PCI location (bb:dd.f, hex)`);
    const [bus, device, fn] = [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
    const f = this.functions.find((x) => x.bus === bus && x.device === device && x.function === fn);
    if (!f) throw new Error(`no PCI function at ${location} (the machine has ${this.functions.map(locationOf).join(", ")})`);
    return f;
  }

  private requireKernel(): MachineKernel {
    if (!this.kernel) throw new Error("this machine has no kernel: boot it first (boot() in the package root)");
    if (this.stopped) throw new Error("this machine was stopped");
    return this.kernel;
  }

  /**
   * Stops the machine: a run in progress returns at its next scheduling point, and exec,
   * runProgram and run refuse to start. Its state stays readable for inspection.
   */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Runs `routine` as kernel code on a processor (a system thread at PASSIVE_LEVEL unless
   * told otherwise) and resolves to its result; a bug check rejects with the BugCheck.
   */
  exec<T>(routine: () => T | Promise<T>, options?: { cpu?: number; irql?: number; name?: string } & RunLimits): Promise<T> {
    return this.requireKernel().exec(routine, options);
  }

  /**
   * Runs a user-mode program (CreateFile, DeviceIoControl, ...) in a new process and
   * resolves to what its main returns. A process that ends otherwise (ExitProcess,
   * TerminateProcess, an exception the program did not handle) rejects with
   * ProcessTerminated; the machine goes on.
   */
  runProgram<T>(name: string, program: () => Promise<T>, options?: ProgramOptions): Promise<T> {
    return this.requireKernel().runProgram(name, program, options);
  }

  /** Runs a user-mode program in a new process and resolves to how it ended: its exit code, and what main returned or the exception that ended it. */
  runProcess<T>(name: string, program: () => Promise<T>, options?: ProgramOptions): Promise<ProcessOutcome<T>> {
    return this.requireKernel().runProcess(name, program, options);
  }

  /**
   * Pulls the PCI function at `location` ("bb:dd.f", hex, as firmware numbered it) and
   * everything below it out of the machine without warning: it stops answering
   * (configuration and memory reads return all ones), masters nothing and its interrupts
   * stop. Only the hardware changes; returns the function's bus number (surpriseRemove
   * also tells the kernel).
   */
  pullFunction(location: string): number {
    const f = this.functionAt(location);
    if (this.core.x.functionIsRemoved(f.index)) throw new Error(`the PCI function at ${location} was already removed`);
    this.core.x.removeFunction(f.index);
    return f.bus;
  }

  /**
   * Injects `fault` into the PCI function at `location` ("bb:dd.f", hex) at the machine's
   * current time (nowPs, the devices' time: a CPU's posted register writes that have not
   * reached the device yet come after it): interrupt and DMA faults into any function but
   * a bridge, the NVMe kinds into an NVMe controller (see HardwareFault). Throws, naming
   * what is wrong, for a bad location, a function that does not take the kind or was
   * removed, an unknown kind, a field breaking its rule, "fatal" while CC.EN is 0, or a
   * media error outside the controller's namespaces.
   */
  injectFault(location: string, fault: HardwareFault): void {
    const f = this.functionAt(location);
    const model = this.description.slots.find((x) => x.bus === f.bus && x.device === f.device && x.function === f.function)?.spec.model ?? "";
    const kind = (fault as { kind?: unknown } | undefined)?.kind;
    const kinds = Object.keys(HARDWARE_FAULT_MODELS);
    if (typeof kind !== "string" || !kinds.includes(kind)) throw new Error(`unknown fault kind ${JSON.stringify(kind)} for ${location} (kinds: ${kinds.join(", ")})`);
    const takes = HARDWARE_FAULT_MODELS[kind as HardwareFault["kind"]];
    if (takes === "nvme" && model !== "nvme") {
      throw new Error(`the PCI function at ${location} is not an NVMe controller (its device file is "${f.deviceFile}", model "${model}"): only NVMe controllers take ${kind} faults`);
    }
    if (model === "bridge") throw new Error(`the PCI function at ${location} is a PCI-to-PCI bridge (its device file is "${f.deviceFile}"): bridges take no ${kind} faults`);
    if (this.core.x.functionIsRemoved(f.index)) throw new Error(`the PCI function at ${location} was removed from the machine`);
    const broken = checkHardwareFault(fault, model);
    if (broken) throw new Error(`fault "${kind}" for ${location}: ${broken.rule}`);
    const r = armHardwareFault(this.core, f.index, fault);
    if (r === L.INJECT_OK) return;
    if (r === L.INJECT_ERROR_STATE) throw new Error(`fault "fatal" for ${location}: the controller is not enabled (CC.EN = 0), so there is nothing to fail`);
    if (r === L.INJECT_ERROR_ARGUMENT && kind === "mediaError") throw new Error(`fault "mediaError" for ${location}: the namespace or the LBA range is not on the controller (namespaces 1..n, LBAs below the namespace's size)`);
    throw new Error(`fault "${kind}" for ${location} was refused by the core (${r})`);
  }

  /**
   * A surprise removal: pulls the function at `location` (see pullFunction) and lets the
   * kernel hear of it as a hot-plug presence change on its bus; resolves once the kernel
   * has handled it.
   */
  async surpriseRemove(location: string): Promise<void> {
    const bus = this.pullFunction(location);
    await this.requireKernel().presenceChanged(bus);
  }

  /** Runs the machine until simulated time `untilPs`. */
  run(untilPs: number): Promise<void> {
    return this.requireKernel().run(untilPs);
  }

  /** Number of CPUs. */
  get cpuCount(): number {
    return this.description.cpu.count;
  }

  /** Core time, picoseconds. */
  get nowPs(): number {
    return this.core.nowPs;
  }
}
