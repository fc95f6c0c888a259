/**
 * Device fuzzing: a machine with one device model (edu or NVMe) and an IOMMU, driven by
 * the core's in-WebAssembly fuzzer (assembly/devices/fuzz.ts) for a number of seeded
 * guest operations. Between chunks of operations the runtime's static data and the
 * CPUs' identity are compared with their state before the run (nothing a guest or a
 * device does may reach them). Reports coverage and the first finding with the seed and
 * operation index that reproduce it.
 */
import { Machine } from "../machine/machine.js";
import { loadDevice, loadMachine, type MachineDescription } from "../machine/firmwareFiles.js";
import * as L from "../machine/generated/layout.js";
import type { FuzzFinding } from "./report.js";

/** Device models the fuzzer drives. */
export const FUZZ_DEVICES = ["edu", "nvme"] as const;
/** A device model the fuzzer drives. */
export type FuzzDevice = (typeof FUZZ_DEVICES)[number];

/** Names of the core fuzzer's coverage counters, in index order (FZ_* in assembly/devices/fuzz.ts). */
export const DEVICE_COVERAGE_NAMES: readonly string[] = [
  "mmioReads", "mmioWrites", "mmioUnaligned", "mmioOutOfRange", "configWrites", "barMoves", "d3Entries",
  "irqMsi", "irqMsix", "irqIntx", "irqAccepted", "dmaTransfers", "dmaReadBytes", "dmaWriteBytes", "masterAborts",
  "iommuFaults", "deviceErrors", "resets", "timeAdvances", "commands", "ready", "completions",
  ...Array.from({ length: 16 }, (_, i) => `status.generic.0x${i.toString(16).padStart(2, "0")}`),
  "status.generic.0x80", "status.generic.other",
  ...Array.from({ length: 14 }, (_, i) => `status.command.0x${i.toString(16).padStart(2, "0")}`),
  "status.other", "doorbells", "queuesCreated", "shutdowns",
];

/** The paths every device run must reach for its coverage to count as complete. */
export const DEVICE_REQUIRED_COVERAGE: Record<FuzzDevice, readonly string[]> = {
  edu: ["mmioReads", "mmioWrites", "mmioUnaligned", "mmioOutOfRange", "configWrites", "barMoves", "irqMsi", "irqIntx",
    "irqAccepted", "dmaTransfers", "dmaReadBytes", "dmaWriteBytes", "masterAborts", "iommuFaults", "deviceErrors", "commands"],
  nvme: ["mmioReads", "mmioWrites", "mmioUnaligned", "mmioOutOfRange", "configWrites", "d3Entries", "irqMsi", "irqMsix", "irqIntx",
    "irqAccepted", "dmaTransfers", "dmaReadBytes", "dmaWriteBytes", "masterAborts", "iommuFaults", "deviceErrors", "resets",
    "commands", "ready", "completions", "status.generic.0x00", "status.generic.0x01", "status.generic.0x02", "status.command.0x01",
    "doorbells", "queuesCreated", "shutdowns"],
};

/** What each FUZZ_FINDING_* code means (assembly/devices/fuzz.ts). */
export const DEVICE_FINDING_NAMES: Record<number, string> = {
  1: "core time went backwards",
  2: "an event is pending before core time",
  3: "the core raised an internal fault",
  4: "edu identification register changed",
  5: "edu status register has undefined bits set",
  6: "edu computing or DMA running with no event pending to finish it",
  7: "NVMe CSTS.RDY set while CC.EN is clear",
  8: "NVMe CSTS.RDY still clear CAP.TO after CC.EN was set",
  9: "NVMe queue head or tail outside the queue",
  10: "NVMe controller has more free command slots than slots",
  11: "the function's vendor and device ID changed",
};

/** Options of one device run. */
export interface DeviceFuzzOptions {
  device: FuzzDevice;
  /** Seed of the operation stream (integer below 2^53). */
  seed: number;
  /** Operations to run. */
  ops: number;
  /** Operations per call into the core between memory guard checks (default 262144). */
  chunk?: number;
  /** Called after every chunk with the operations done so far. */
  progress?: (done: number) => void;
  /** Called between chunks with the machine: tests use it to break an invariant on purpose. */
  between?: (machine: Machine) => void;
}

/** Result of one device run. */
export interface DeviceFuzzResult {
  target: string;
  seed: number;
  /** Operations completed (up to the finding, if any). */
  ops: number;
  /** Host seconds the run took. */
  seconds: number;
  /** Operations per host second. */
  opsPerSecond: number;
  /** Coverage counters by name. */
  coverage: Record<string, number>;
  /** Required coverage counters that stayed at zero. */
  uncovered: string[];
  /** Simulated time the run covered, ps. */
  simulatedPs: number;
  findings: FuzzFinding[];
}

/** RAM of the fuzz machine, bytes (one region at 0; DMA aimed past it crosses the end of RAM). */
export const FUZZ_RAM_BYTES = 16 << 20;

/** The machine: default CPUs and costs, 16 MiB of RAM, an IOMMU, and the one device. */
export function deviceFuzzMachine(device: FuzzDevice): { machine: Machine; fn: number; bar0: number } {
  const d: MachineDescription = loadMachine("default");
  d.memory = [{ base: 0, size: FUZZ_RAM_BYTES }];
  d.iommu = { iotlbEntries: 8, missLatencyNs: 100 };
  d.slots = [{ bus: 0, device: 3, function: 0, deviceFile: device, spec: loadDevice(device), parent: null, secondaryBus: 0, subordinateBus: 0 }];
  const machine = Machine.fromDescription(d);
  return { machine, fn: machine.functions[0].index, bar0: d.mmioWindow.base };
}

/** Monotonic host clock, seconds (reporting only; never part of a simulation). */
function hostSeconds(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

/** Runs `ops` seeded operations against one device model; see DeviceFuzzResult. */
export function fuzzDevice(options: DeviceFuzzOptions): DeviceFuzzResult {
  const { machine, fn, bar0 } = deviceFuzzMachine(options.device);
  const core = machine.core;
  const x = core.x;
  const chunk = options.chunk ?? 1 << 18;
  const staticBefore = core.u8.slice(0, L.CORE_STATE_BASE);
  const apicIds = Array.from({ length: machine.cpuCount }, (_, cpu) => core.u32[core.cpuField(cpu, L.CPU_APIC_ID) >> 2]);
  const findings: FuzzFinding[] = [];
  const target = `device:${options.device}`;
  const started = hostSeconds();
  const startPs = core.nowPs;
  x.fuzzStart(fn, bar0, FUZZ_RAM_BYTES, options.seed);
  let done = 0;
  const opIndex = () => core.f64[(L.FUZZ_RECORD_BASE + L.FUZZ_OP_INDEX) >> 3];
  while (done < options.ops && findings.length === 0) {
    const n = Math.min(chunk, options.ops - done);
    let code = 0;
    try {
      code = x.fuzzRun(n);
    } catch (e) {
      findings.push({ target, seed: options.seed, op: opIndex(), kind: "host-exception", message: `host exception: ${(e as Error).message}`, blame: "core" });
      break;
    }
    if (code !== 0) {
      const detail = core.f64[(L.FUZZ_RECORD_BASE + L.FUZZ_DETAIL) >> 3];
      findings.push({ target, seed: options.seed, op: opIndex(), kind: "invariant", message: `${DEVICE_FINDING_NAMES[code] ?? `finding ${code}`} (detail 0x${detail.toString(16)})`, blame: "core" });
      break;
    }
    done = opIndex();
    options.between?.(machine);
    const now = core.u8.subarray(0, L.CORE_STATE_BASE);
    if (!Buffer.from(now.buffer, now.byteOffset, now.length).equals(Buffer.from(staticBefore))) {
      findings.push({ target, seed: options.seed, op: done, kind: "memory-guard", message: "the core's static data (below CORE_STATE_BASE) was written", blame: "core" });
      break;
    }
    const ids = Array.from({ length: machine.cpuCount }, (_, cpu) => core.u32[core.cpuField(cpu, L.CPU_APIC_ID) >> 2]);
    if (ids.some((id, i) => id !== apicIds[i])) {
      findings.push({ target, seed: options.seed, op: done, kind: "memory-guard", message: "a CPU's APIC ID changed", blame: "core" });
      break;
    }
    options.progress?.(done);
  }
  const seconds = hostSeconds() - started;
  const base = (L.FUZZ_RECORD_BASE + L.FUZZ_COUNTERS) >> 3;
  const coverage: Record<string, number> = {};
  DEVICE_COVERAGE_NAMES.forEach((name, i) => (coverage[name] = core.f64[base + i]));
  const ops = findings.length === 0 ? done : opIndex();
  return {
    target, seed: options.seed, ops, seconds, opsPerSecond: seconds > 0 ? ops / seconds : 0, coverage,
    uncovered: DEVICE_REQUIRED_COVERAGE[options.device].filter((name) => !coverage[name]),
    simulatedPs: core.nowPs - startPs, findings,
  };
}
