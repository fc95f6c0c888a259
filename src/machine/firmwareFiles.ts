/**
 * Reads machine and device files from firmware/, validates them against their JSON
 * schemas, and turns them into plain numeric descriptions. Every error names the file,
 * the JSON path and the rule broken.
 */
import { checkHardwareFault, HARDWARE_FAULT_MODELS, type HardwareFault } from "./hardware-faults.js";
import { parseDuration, PS_PER_SECOND } from "../ke/time.js";
import type { LowResourcesOptions } from "../verifier/low-resources.js";
import { readFileSync, existsSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { DEVICE_MODELS } from "./models.js";
import { PACKAGE_ROOT } from "./paths.js";
import * as L from "./generated/layout.js";

/** The firmware/ folder that ships with wdmsim. */
export const FIRMWARE_DIR = join(PACKAGE_ROOT, "firmware") + sep;

/** A machine or device file that cannot be used, with where and why. */
export class FirmwareError extends Error {
  constructor(
    /** The file, relative to the working directory. */
    readonly file: string,
    /** JSON pointer of the offending value ("" for the whole document). */
    readonly path: string,
    /** The rule broken, in words. */
    readonly rule: string,
  ) {
    super(`${file}: ${path === "" ? "(document)" : path}: ${rule}`);
    this.name = "FirmwareError";
  }
}

/** A BAR as the machine builds it. */
export interface BarDescription {
  /** BAR slot 0..5. */
  index: number;
  /** Bytes (a power of two). */
  size: number;
  type: "memory32" | "memory64" | "io";
  prefetchable: boolean;
}

/** Link parameters of a function. */
export interface LinkDescription {
  generation: number;
  width: number;
  /** Bytes. */
  maxPayloadSize: number;
  /** Bytes. */
  maxReadRequestSize: number;
  /** One-way latency after serialisation, ns. */
  latencyNs: number;
  /** Header and framing bytes per TLP. */
  tlpOverheadBytes: number;
}

/** A device file, resolved to numbers. */
export interface DeviceDescription {
  name: string;
  description: string;
  /** Model name (firmware/devices/*.json "model"). */
  model: string;
  vendorId: number;
  deviceId: number;
  revisionId: number;
  /** base << 16 | sub-class << 8 | prog-if. */
  classCode: number;
  subsystemVendorId: number;
  subsystemId: number;
  interruptPin: number;
  express: boolean;
  bars: BarDescription[];
  msi?: { offset: number; vectors: number; address64: boolean; perVectorMasking: boolean };
  /** MSI-X capability: table and pending-bit array placement. */
  msix?: { offset: number; vectors: number; tableBar: number; tableOffset: number; pbaBar: number; pbaOffset: number };
  /** Power-management capability offset. */
  pm?: { offset: number };
  /** PCI Express capability: offset, port type, largest payload supported (bytes). */
  pcie?: { offset: number; type: "endpoint" | "rootPort" | "upstreamPort" | "downstreamPort"; maxPayloadSupported: number };
  link: LinkDescription;
  /** Device core clock, kHz. */
  clockKHz: number;
  /** Model parameters by name. */
  params: Record<string, number>;
}

/** A populated PCI slot. */
export interface SlotDescription {
  /** Bus number firmware gives the slot at power-on. */
  bus: number;
  device: number;
  function: number;
  /** Index in `slots` of the bridge this device sits behind, or null on the root bus. */
  parent: number | null;
  /** For a bridge: the secondary and subordinate bus numbers firmware programs. */
  secondaryBus: number;
  subordinateBus: number;
  /** The device file's name. */
  deviceFile: string;
  /** The device with this slot's overrides applied. */
  spec: DeviceDescription;
}

/** A machine file, resolved to numbers. */
export interface MachineDescription {
  /** The file it came from ("" when built in code). */
  file: string;
  name: string;
  description: string;
  seed: number;
  cpu: { count: number; kHz: number; tlbEntries: number; tlbMissCycles: number };
  /** RAM regions, bytes. */
  memory: { base: number; size: number }[];
  ecam: { base: number; buses: number };
  mmioWindow: { base: number; size: number };
  memoryReadLatencyNs: number;
  postedWriteCredits: number;
  /** The IOMMU, if the machine has one: IOTLB entries and the cost of an IOTLB miss (ns). */
  iommu: { iotlbEntries: number; missLatencyNs: number } | null;
  slots: SlotDescription[];
  /** Driver package files installed at boot (names in firmware/drivers, or paths relative to the machine file). */
  drivers: string[];
  /** Values under each driver service's Parameters key, by service name. */
  driverParameters: Record<string, Record<string, number | string>>;
  /** Registry keys to preset before boot, by full path, in the file's JSON form (src/cm/presets.ts reads it). */
  registry: Record<string, Record<string, unknown>>;
  /** Faults to inject at simulated times (src/verifier/faults.ts). */
  faults: FaultDescription[];
  kernel: {
    verifier: boolean;
    /** Longest one DPC or ISR may run, us. */
    dpcWatchdogUs: number;
    /** Longest a processor may stay at DISPATCH_LEVEL or above at a stretch, us. */
    dpcWatchdogCumulativeUs: number;
    /** Clock interrupt interval timers expire on, us (0: exact). */
    clockTickUs: number;
    /** Driver Verifier's Force IRQL checking: page out everything pageable whenever IRQL rises to DISPATCH_LEVEL; null: on exactly when the verifier is (its standard settings). */
    trimming: boolean | null;
    /** Driver Verifier's Special Pool option: drivers' small allocations on their own page, against its end (verifyEnd) or start (verifyStart); "off" for none. */
    specialPool: "off" | "verifyEnd" | "verifyStart";
    /** Driver Verifier's Low Resources Simulation: off (false), on with Windows' defaults (true), or its settings. */
    lowResources: boolean | Partial<LowResourcesOptions>;
    costs: Record<string, number>;
  };
}

const UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** Parses 123, "0x7B" or "4 KiB" (already schema-checked). */
export function parseNumber(value: number | string): number {
  if (typeof value === "number") return value;
  if (value.startsWith("0x")) return parseInt(value.slice(2), 16);
  const m = /^([0-9]+) ?(B|KiB|MiB|GiB)?$/.exec(value)!;
  return Number(m[1]) * UNITS[m[2] ?? "B"];
}

let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

function validator(schema: string): ValidateFunction {
  if (!ajv) {
    ajv = new Ajv({ allErrors: false, strict: true, verbose: true });
    for (const name of ["registry", "machine", "device", "costs", "driver-package"]) {
      ajv.addSchema(JSON.parse(readFileSync(join(FIRMWARE_DIR, "schema", `${name}.schema.json`), "utf8")));
    }
  }
  let v = validators.get(schema);
  if (!v) {
    v = ajv.getSchema(`wdmsim/${schema}.schema.json`)!;
    validators.set(schema, v);
  }
  return v;
}

function explain(error: ErrorObject): string {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "additionalProperties": return `unknown property "${p.additionalProperty}" (rule: additionalProperties)`;
    case "required": return `missing property "${p.missingProperty}" (rule: required)`;
    case "enum": return `must be one of ${JSON.stringify(p.allowedValues)} (rule: enum)`;
    case "oneOf": return `is not a valid value: ${error.parentSchema?.description ?? "see the schema"} (rule: oneOf)`;
    default: return `${error.message} (rule: ${error.keyword})`;
  }
}

/** Reads a firmware JSON file and checks it against `firmware/schema/<schema>.schema.json`; errors name the file, JSON path and rule. */
export function readJson(file: string, schema: string): any {
  const shown = relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new FirmwareError(shown, "", "cannot read the file (does it exist?)");
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new FirmwareError(shown, "", `not valid JSON: ${(e as Error).message}`);
  }
  const validate = validator(schema);
  if (!validate(doc)) {
    // The deepest error points closest to the mistake; at one path, a oneOf says the most.
    const rank = (e: ErrorObject) => e.instancePath.length * 2 + (e.keyword === "oneOf" ? 1 : 0);
    const errors = [...(validate.errors ?? [])].sort((a, b) => rank(b) - rank(a));
    const e = errors[0];
    throw new FirmwareError(shown, e.instancePath, explain(e));
  }
  return doc;
}

/** Finds a machine file by path or by name in firmware/machines. */
export function resolveMachineFile(nameOrPath: string): string {
  if (existsSync(nameOrPath)) return resolve(nameOrPath);
  const builtIn = join(FIRMWARE_DIR, "machines", `${nameOrPath}.json`);
  if (existsSync(builtIn)) return builtIn;
  throw new FirmwareError(nameOrPath, "", `no such machine file (looked for ${nameOrPath} and firmware/machines/${nameOrPath}.json)`);
}

/** A device description from a device file's parsed JSON (`file` names it in errors), checked as loadDevice checks it. */
export function deviceFromJson(doc: any, file: string): DeviceDescription {
  const pci = doc.pci;
  const model = DEVICE_MODELS[doc.model];
  for (const name of Object.keys(doc.params ?? {})) {
    if (!(name in model.params)) {
      throw new FirmwareError(file, `/params/${name}`, `model "${doc.model}" has no parameter "${name}" (it has: ${Object.keys(model.params).join(", ")})`);
    }
  }
  const bars: BarDescription[] = (pci.bars as any[]).map((b) => ({
    index: b.index, size: parseNumber(b.size), type: b.type, prefetchable: b.prefetchable ?? false,
  }));
  bars.forEach((b, i) => {
    if ((b.size & (b.size - 1)) !== 0 && b.size < 2 ** 31) throw new FirmwareError(file, `/pci/bars/${i}/size`, "a BAR size must be a power of two");
    if (b.type === "memory64" && b.index === 5) throw new FirmwareError(file, `/pci/bars/${i}/index`, "a 64-bit BAR takes two slots and cannot start at BAR5");
    const clash = bars.findIndex((o, j) => j !== i && (o.index === b.index || (o.type === "memory64" && o.index + 1 === b.index)));
    if (clash >= 0) throw new FirmwareError(file, `/pci/bars/${i}/index`, `BAR${b.index} overlaps bars[${clash}]`);
  });
  if (pci.msix) checkMsix(file, pci.msix, bars);
  return {
    name: doc.name,
    description: doc.description ?? "",
    model: doc.model,
    vendorId: parseNumber(pci.vendorId),
    deviceId: parseNumber(pci.deviceId),
    revisionId: parseNumber(pci.revisionId ?? 0),
    classCode: parseNumber(pci.classCode),
    subsystemVendorId: parseNumber(pci.subsystemVendorId ?? 0),
    subsystemId: parseNumber(pci.subsystemId ?? 0),
    interruptPin: pci.interruptPin ?? 0,
    express: pci.express ?? pci.pcie !== undefined,
    bars,
    msi: pci.msi && {
      offset: parseNumber(pci.msi.offset),
      vectors: pci.msi.vectors,
      address64: pci.msi.address64 ?? true,
      perVectorMasking: pci.msi.perVectorMasking ?? false,
    },
    msix: pci.msix && {
      offset: parseNumber(pci.msix.offset), vectors: pci.msix.vectors, tableBar: pci.msix.tableBar,
      tableOffset: parseNumber(pci.msix.tableOffset), pbaBar: pci.msix.pbaBar, pbaOffset: parseNumber(pci.msix.pbaOffset),
    },
    pm: pci.pm && { offset: parseNumber(pci.pm.offset) },
    pcie: pci.pcie && { offset: parseNumber(pci.pcie.offset), type: pci.pcie.type ?? "endpoint", maxPayloadSupported: pci.pcie.maxPayloadSupported ?? doc.link.maxPayloadSize },
    link: { ...doc.link },
    clockKHz: Math.round(doc.clockMHz * 1000),
    params: { ...(doc.params ?? {}) },
  };
}

/** A fault the machine file schedules: what, where, and when (ps after power-on). */
export interface FaultDescription {
  atPs: number;
  kind: HardwareFault["kind"] | "surpriseRemove" | "failPool";
  /** The fault a device takes (every kind but surpriseRemove and failPool), as Machine.injectFault takes it. */
  hardware?: HardwareFault;
  /** "bb:dd.f" of the function (device faults). */
  device?: string;
  count?: number;
  status?: number;
  /** Service name (failPool). */
  driver?: string;
}

/** The file's faults, checked: each names what its kind needs, and a device fault a slot the machine has (an NVMe controller for the NVMe kinds). */
function faultsOf(file: string, faults: any[], slots: SlotDescription[]): FaultDescription[] {
  return faults.map((f, i) => {
    const at = `/faults/${i}`;
    // The schema has checked the form (a number and ns, us, ms or s).
    const fault: FaultDescription = { atPs: Math.round(parseDuration(f.at)! * PS_PER_SECOND), kind: f.kind, device: f.device, count: f.count, status: f.status, driver: f.driver };
    if (f.kind === "failPool") {
      if (f.driver === undefined) throw new FirmwareError(file, `${at}/driver`, "a failPool fault names the driver (its service name)");
      return fault;
    }
    if (f.device === undefined) throw new FirmwareError(file, `${at}/device`, `a ${f.kind} fault names the PCI function (bb:dd.f)`);
    const [bus, rest] = String(f.device).split(":");
    const [dev, fn] = rest.split(".");
    const slot = slots.find((s) => s.bus === parseInt(bus, 16) && s.device === parseInt(dev, 16) && s.function === parseInt(fn, 16));
    if (!slot) throw new FirmwareError(file, `${at}/device`, `no slot at ${f.device}`);
    if (f.kind === "surpriseRemove") return fault;
    const takes = HARDWARE_FAULT_MODELS[f.kind as HardwareFault["kind"]];
    if (takes === "nvme" && slot.spec.model !== "nvme") throw new FirmwareError(file, `${at}/kind`, `${f.kind} is a fault of an NVMe controller, and ${f.device} is a ${slot.spec.model}`);
    if (f.kind === "status" && f.status === undefined) throw new FirmwareError(file, `${at}/status`, "a status fault gives the status field the commands complete with");
    const { at: _at, device: _device, ...hardware } = f;
    const broken = checkHardwareFault(hardware, slot.spec.model);
    if (broken) throw new FirmwareError(file, `${at}/${broken.field}`, broken.rule);
    fault.hardware = hardware as HardwareFault;
    return fault;
  });
}

/** Granularity of a bridge's memory window (its base and limit registers count in 1 MiB). */
const BRIDGE_WINDOW_ALIGN = 2 ** 20;

/**
 * The least memory space the slots' BARs take as firmware sizes them: each BAR aligned to
 * its size (placed largest first, nothing is lost to alignment), each bridge's window
 * holding what is behind it rounded up to 1 MiB.
 */
function mmioNeeded(slots: SlotDescription[]): number {
  const own = (s: SlotDescription) => s.spec.bars.filter((b) => b.type !== "io").reduce((n, b) => n + b.size, 0);
  const behind = (parent: number | null): number => slots.reduce((n, s, i) => {
    if (s.parent !== parent) return n;
    const below = s.spec.model === "bridge" ? Math.ceil(behind(i) / BRIDGE_WINDOW_ALIGN) * BRIDGE_WINDOW_ALIGN : 0;
    return n + own(s) + below;
  }, 0);
  return behind(null);
}

/** Bytes of one MSI-X table entry, and of one PBA QWORD (64 vectors' pending bits). */
const MSIX_ENTRY_BYTES = 16;
const MSIX_PBA_QWORD_BYTES = 8;

/**
 * The MSI-X table and pending-bit array must each lie inside a memory BAR the function
 * has, start on a QWORD boundary (the offset's low three bits are the BIR), and not
 * overlap each other.
 */
function checkMsix(file: string, msix: any, bars: BarDescription[]): void {
  const vectors: number = msix.vectors;
  const parts = [
    { name: "table", bir: msix.tableBar as number, offset: parseNumber(msix.tableOffset), size: vectors * MSIX_ENTRY_BYTES },
    { name: "pba", bir: msix.pbaBar as number, offset: parseNumber(msix.pbaOffset), size: Math.ceil(vectors / 64) * MSIX_PBA_QWORD_BYTES },
  ];
  for (const p of parts) {
    const bar = bars.find((b) => b.index === p.bir);
    if (!bar || bar.type === "io") throw new FirmwareError(file, `/pci/msix/${p.name}Bar`, `BAR${p.bir} is not a memory BAR of this function`);
    if (p.offset % 8 !== 0) throw new FirmwareError(file, `/pci/msix/${p.name}Offset`, `the MSI-X ${p.name} must start on a QWORD (8-byte) boundary`);
    if (p.offset + p.size > bar.size) {
      throw new FirmwareError(file, `/pci/msix/${p.name}Offset`, `the MSI-X ${p.name} (${p.size} bytes at 0x${p.offset.toString(16)}) ends past BAR${p.bir}'s ${bar.size} bytes`);
    }
  }
  const [t, b] = parts;
  if (t.bir === b.bir && t.offset < b.offset + b.size && b.offset < t.offset + t.size) {
    throw new FirmwareError(file, "/pci/msix/pbaOffset", `the pending-bit array (0x${b.offset.toString(16)}..0x${(b.offset + b.size - 1).toString(16)}) overlaps the MSI-X table (0x${t.offset.toString(16)}..0x${(t.offset + t.size - 1).toString(16)})`);
  }
}

/** Loads and validates a device file by name from firmware/devices. */
export function loadDevice(name: string, referencedFrom = ""): DeviceDescription {
  const file = join(FIRMWARE_DIR, "devices", `${name}.json`);
  if (!existsSync(file)) {
    throw new FirmwareError(referencedFrom || name, referencedFrom ? "" : "", `no device file firmware/devices/${name}.json`);
  }
  return deviceFromJson(readJson(file, "device"), relative(process.cwd(), file));
}

/** The default cost table (firmware/costs.json), CPU cycles per call. */
export function loadDefaultCosts(): Record<string, number> {
  return { ...readJson(join(FIRMWARE_DIR, "costs.json"), "costs").cycles };
}

type RawSlot = SlotDescription & { behind?: string };

/**
 * Resolves "behind" into parent indices, orders slots so every bridge comes before the
 * devices behind it, and gives each bridge the bus numbers firmware programs: its
 * secondary bus is the bus of the devices behind it (they must agree), its subordinate
 * bus the highest bus below it; a bridge with nothing behind it gets a bus of its own.
 */
function placeBehindBridges(file: string, raw: RawSlot[], buses: number): SlotDescription[] {
  const key = (s: RawSlot) => `${s.bus.toString(16).padStart(2, "0")}:${s.device.toString(16).padStart(2, "0")}.${s.function}`;
  const byAddress = new Map(raw.map((s, i) => [key(s), i]));
  const parentOf = raw.map((s, i) => {
    if (s.behind === undefined) return null;
    const p = byAddress.get(s.behind.toLowerCase());
    if (p === undefined) throw new FirmwareError(file, `/pci/slots/${i}/behind`, `no slot has address ${s.behind}`);
    if (raw[p].spec.model !== "bridge") throw new FirmwareError(file, `/pci/slots/${i}/behind`, `${s.behind} is not a bridge (its device file's model is "${raw[p].spec.model}")`);
    return p;
  });
  raw.forEach((s, i) => {
    const p = parentOf[i];
    if (p === null) {
      if (s.bus !== 0) throw new FirmwareError(file, `/pci/slots/${i}/address`, `bus ${s.bus} is not the root bus: say which bridge the device sits behind with "behind"`);
      return;
    }
    if (s.bus <= raw[p].bus) throw new FirmwareError(file, `/pci/slots/${i}/address`, `a device behind ${key(raw[p])} needs a bus number above ${raw[p].bus}`);
    const sibling = raw.findIndex((o, j) => parentOf[j] === p && o.bus !== s.bus);
    if (sibling >= 0) throw new FirmwareError(file, `/pci/slots/${i}/address`, `devices behind one bridge share its secondary bus, but slots[${sibling}] uses bus ${raw[sibling].bus}`);
    for (let a: number | null = p, guard = 0; a !== null; a = parentOf[a], guard++) {
      if (guard > raw.length) throw new FirmwareError(file, `/pci/slots/${i}/behind`, "bridges sit behind each other in a loop");
    }
  });
  // Order: parents first (depth, then file order).
  const depth = (i: number): number => (parentOf[i] === null ? 0 : 1 + depth(parentOf[i]!));
  const order = raw.map((_, i) => i).sort((a, b) => depth(a) - depth(b) || a - b);
  let nextFree = Math.max(0, ...raw.map((s) => s.bus)) + 1;
  const secondary = raw.map((s, i) => {
    const child = raw.findIndex((_, j) => parentOf[j] === i);
    return child >= 0 ? raw[child].bus : s.spec.model === "bridge" ? nextFree++ : 0;
  });
  const subordinate = (i: number): number => Math.max(secondary[i], ...raw.map((_, j) => j).filter((j) => parentOf[j] === i).map((j) => raw[j].spec.model === "bridge" ? subordinate(j) : raw[j].bus));
  const slots = order.map((i) => {
    const s = raw[i];
    const isBridge = s.spec.model === "bridge";
    const sub = isBridge ? subordinate(i) : 0;
    if (isBridge && sub >= buses) throw new FirmwareError(file, `/pci/ecam/buses`, `bridge ${key(s)} needs buses up to ${sub}, but ECAM covers ${buses}`);
    const { behind: _behind, ...slot } = s;
    return { ...slot, parent: parentOf[i] === null ? null : order.indexOf(parentOf[i]!), secondaryBus: isBridge ? secondary[i] : 0, subordinateBus: sub };
  });
  return slots;
}

/** Loads, validates and resolves a machine file (a path, or a name in firmware/machines). */
export function loadMachine(nameOrPath: string): MachineDescription {
  const file = resolveMachineFile(nameOrPath);
  const shown = relative(process.cwd(), file) || file;
  const doc = readJson(file, "machine");

  const memory = (doc.memory as any[]).map((r) => ({ base: parseNumber(r.base), size: parseNumber(r.size) }));
  memory.forEach((r, i) => {
    if (r.base % 4096 !== 0) throw new FirmwareError(shown, `/memory/${i}/base`, "RAM regions must start on a 4 KiB boundary");
    if (r.size % 4096 !== 0) throw new FirmwareError(shown, `/memory/${i}/size`, "RAM region sizes must be a multiple of 4 KiB");
    const j = memory.findIndex((o, k) => k < i && r.base < o.base + o.size && o.base < r.base + r.size);
    if (j >= 0) throw new FirmwareError(shown, `/memory/${i}`, `overlaps memory[${j}]`);
  });
  if (!memory.some((r) => r.base <= 0xE0000 && r.base + r.size >= 0x100000)) {
    throw new FirmwareError(shown, "/memory", "RAM must cover 0xE0000..0xFFFFF, where firmware places its tables");
  }
  const hex = (x: number) => `0x${x.toString(16).toUpperCase()}`;
  // Windows that decode to registers: RAM there would hide them from the processors.
  const ecamBase = parseNumber(doc.pci.ecam.base);
  const mmio = { base: parseNumber(doc.pci.mmioWindow.base), size: parseNumber(doc.pci.mmioWindow.size) };
  const windows: [string, number, number][] = [
    ["the ECAM window (/pci/ecam)", ecamBase, (doc.pci.ecam.buses ?? 1) * 2 ** 20],
    ["the PCI memory window (/pci/mmioWindow)", mmio.base, mmio.size],
    ["the I/O APIC's registers", L.IOAPIC_MMIO_BASE, L.IOAPIC_MMIO_SIZE],
    ["the IOMMU's registers", L.IOMMU_MMIO_BASE, L.IOMMU_MMIO_SIZE],
    ["the local APIC message window", L.LAPIC_WINDOW_BASE, L.LAPIC_WINDOW_SIZE],
  ];
  if (ecamBase % 2 ** 20 !== 0) throw new FirmwareError(shown, "/pci/ecam/base", `the ECAM window must start on a 1 MiB boundary (each bus takes 1 MiB); ${hex(ecamBase)} does not`);
  const windowPaths = ["/pci/ecam", "/pci/mmioWindow"];
  windows.forEach(([, base, size], i) => {
    const j = windows.findIndex(([, b, s], k) => k < i && base < b + s && b < base + size);
    if (j < 0) return;
    // Name the window the file sets (the later of two it sets) first.
    const [a, b] = i < windowPaths.length ? [i, j] : [j, i];
    const [w, v] = [windows[a], windows[b]];
    throw new FirmwareError(shown, windowPaths[a], `${w[0]} at ${hex(w[1])}..${hex(w[1] + w[2] - 1)} overlaps ${v[0]} at ${hex(v[1])}..${hex(v[1] + v[2] - 1)}`);
  });
  memory.forEach((r, i) => {
    if (r.base + r.size > L.RAM_PHYS_LIMIT) {
      throw new FirmwareError(shown, `/memory/${i}`, `RAM must end at or below ${hex(L.RAM_PHYS_LIMIT)} (${L.RAM_PHYS_LIMIT / 2 ** 30} GiB), the guest-physical space the core maps; this region ends at ${hex(r.base + r.size)}`);
    }
    for (const [name, base, size] of windows) {
      if (r.base < base + size && base < r.base + r.size) {
        throw new FirmwareError(shown, `/memory/${i}`, `RAM ${hex(r.base)}..${hex(r.base + r.size - 1)} overlaps ${name} at ${hex(base)}..${hex(base + size - 1)}; put RAM above 4 GiB for more than fits below the PCI hole`);
      }
    }
  });

  const defaults = loadDefaultCosts();
  const costs = { ...defaults, ...(doc.kernel?.costs ?? {}) };
  for (const name of Object.keys(doc.kernel?.costs ?? {})) {
    if (!(name in defaults)) throw new FirmwareError(shown, `/kernel/costs/${name}`, `unknown cost "${name}" (see firmware/costs.json for the names)`);
  }

  const seen = new Map<string, number>();
  const rawSlots = (doc.pci.slots as any[]).map((s, i) => {
    const [bus, rest] = s.address.split(":");
    const [dev, fn] = rest.split(".");
    const key = s.address.toLowerCase();
    if (seen.has(key)) throw new FirmwareError(shown, `/pci/slots/${i}/address`, `${s.address} is already used by slots[${seen.get(key)}]`);
    seen.set(key, i);
    const devNum = parseInt(dev, 16);
    if (devNum > 31) throw new FirmwareError(shown, `/pci/slots/${i}/address`, "device numbers run from 00 to 1f");
    const busNum = parseInt(bus, 16);
    const buses = doc.pci.ecam.buses ?? 1;
    if (busNum >= buses) throw new FirmwareError(shown, `/pci/slots/${i}/address`, `bus ${bus} is outside ECAM (${buses} bus${buses > 1 ? "es" : ""})`);
    const deviceFile = join(FIRMWARE_DIR, "devices", `${s.device}.json`);
    if (!existsSync(deviceFile)) throw new FirmwareError(shown, `/pci/slots/${i}/device`, `no device file firmware/devices/${s.device}.json`);
    const spec = loadDevice(s.device);
    const model = DEVICE_MODELS[spec.model];
    for (const name of Object.keys(s.params ?? {})) {
      if (!(name in model.params)) throw new FirmwareError(shown, `/pci/slots/${i}/params/${name}`, `model "${spec.model}" has no parameter "${name}" (it has: ${Object.keys(model.params).join(", ")})`);
    }
    spec.link = { ...spec.link, ...(s.link ?? {}) };
    spec.params = { ...spec.params, ...(s.params ?? {}) };
    return { bus: busNum, device: devNum, function: parseInt(fn, 16), deviceFile: s.device, spec, parent: null, secondaryBus: 0, subordinateBus: 0, behind: s.behind as string | undefined };
  });
  const buses = doc.pci.ecam.buses ?? 1;
  const slots = placeBehindBridges(shown, rawSlots, buses);
  const needed = mmioNeeded(slots);
  if (needed > mmio.size) {
    throw new FirmwareError(shown, "/pci/mmioWindow/size", `the PCI memory window holds ${hex(mmio.size)} bytes, and the devices' memory BARs need at least ${hex(needed)} (each aligned to its size, bridge windows to 1 MiB)`);
  }

  return {
    file: shown,
    name: doc.name,
    description: doc.description ?? "",
    seed: doc.seed ?? 1,
    cpu: {
      count: doc.cpu.count,
      kHz: Math.round(doc.cpu.frequencyMHz * 1000),
      tlbEntries: doc.cpu.tlbEntries ?? 64,
      tlbMissCycles: doc.cpu.tlbMissCycles ?? 40,
    },
    memory,
    ecam: { base: parseNumber(doc.pci.ecam.base), buses: doc.pci.ecam.buses ?? 1 },
    mmioWindow: { base: parseNumber(doc.pci.mmioWindow.base), size: parseNumber(doc.pci.mmioWindow.size) },
    memoryReadLatencyNs: doc.pci.memoryReadLatencyNs ?? 90,
    postedWriteCredits: doc.pci.postedWriteCredits ?? 16,
    iommu: doc.iommu ? { iotlbEntries: doc.iommu.iotlbEntries ?? 64, missLatencyNs: doc.iommu.missLatencyNs ?? 250 } : null,
    slots,
    drivers: ((doc.drivers ?? []) as string[]).map((d) => (existsSync(resolve(dirname(file), d)) ? resolve(dirname(file), d) : d)),
    driverParameters: doc.driverParameters ?? {},
    registry: doc.registry ?? {},
    faults: faultsOf(shown, doc.faults ?? [], slots),
    kernel: {
      verifier: doc.kernel?.verifier ?? true,
      dpcWatchdogUs: doc.kernel?.dpcWatchdogUs ?? 100000,
      dpcWatchdogCumulativeUs: doc.kernel?.dpcWatchdogCumulativeUs ?? 1000000,
      clockTickUs: doc.kernel?.clockTickUs ?? 0,
      trimming: doc.kernel?.trimming ?? null,
      specialPool: doc.kernel?.specialPool === true ? "verifyEnd" : doc.kernel?.specialPool || "off",
      lowResources: doc.kernel?.lowResources ?? false,
      costs,
    },
  };
}

/** Path of firmware/machines. */
export const MACHINES_DIR = join(FIRMWARE_DIR, "machines");
