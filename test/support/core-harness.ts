/**
 * Test harness for the machine core: powers on a machine, builds 4-level identity page
 * tables in guest RAM so CPU 0 can reach ECAM and BARs through the MMU, and offers
 * config, MMIO, interrupt and trace helpers. Everything goes through the core's public
 * boundary (assembly/index.ts) and the Core wrapper; nothing pokes core internals.
 */
import { readFileSync } from "node:fs";
import { Machine } from "../../src/machine/machine.js";
import { Core, type CoreCounters, type CoreExports } from "../../src/machine/core.js";
import { FIRMWARE_DIR, loadMachine, type MachineDescription } from "../../src/machine/firmwareFiles.js";
import * as L from "../../src/machine/generated/layout.js";

export { L };

/** Page size, bytes. */
export const PAGE = 4096;
/** Physical page-table pool: [PT_POOL_BASE, PT_POOL_END). */
export const PT_POOL_BASE = 0x200000;
export const PT_POOL_END = 0x400000;
/** A RAM area tests may use freely for DMA buffers (below every test machine's RAM size). */
export const DATA_BASE = 0x400000;
/** Where the harness assigns BAR0 by default (the default machine's PCI memory window). */
export const BAR0_BASE = 0xC0000000;
/** BAR0 size from the edu spec. */
export const BAR0_SIZE = 1 << 20;
/** Default MSI vector the harness programs (class 5). */
export const MSI_VECTOR = 0x51;
/** Message address of the local APIC window. */
export const LAPIC_BASE = 0xFEE00000;

/** PCI config offsets (shared/specs/pci.md). */
export const CFG = {
  VENDOR: 0x00, DEVICE: 0x02, COMMAND: 0x04, STATUS: 0x06, REVISION: 0x08, PROG_IF: 0x09, SUBCLASS: 0x0A,
  CLASS: 0x0B, CACHE_LINE: 0x0C, LATENCY: 0x0D, HEADER_TYPE: 0x0E, BIST: 0x0F, BAR0: 0x10,
  SUBSYS_VENDOR: 0x2C, SUBSYS_ID: 0x2E, ROM: 0x30, CAP_PTR: 0x34, INT_LINE: 0x3C, INT_PIN: 0x3D,
} as const;
/** Command register bits. */
export const CMD = { IO: 1 << 0, MEMORY: 1 << 1, BUS_MASTER: 1 << 2, PARITY: 1 << 6, SERR: 1 << 8, INTX_DISABLE: 1 << 10 } as const;
/** Status register bits. */
export const STS = {
  INTERRUPT: 1 << 3, CAP_LIST: 1 << 4, MASTER_DATA_PARITY: 1 << 8, SIGNALLED_TARGET_ABORT: 1 << 11,
  RECEIVED_TARGET_ABORT: 1 << 12, RECEIVED_MASTER_ABORT: 1 << 13, SIGNALLED_SYSTEM_ERROR: 1 << 14,
  DETECTED_PARITY: 1 << 15,
} as const;
/** Write-1-to-clear status bits, from pci.md. */
export const STS_W1C = STS.MASTER_DATA_PARITY | STS.SIGNALLED_TARGET_ABORT | STS.RECEIVED_TARGET_ABORT
  | STS.RECEIVED_MASTER_ABORT | STS.SIGNALLED_SYSTEM_ERROR | STS.DETECTED_PARITY;
/** The edu MSI capability offset (edu.md). */
export const MSI_CAP = 0x40;

/** edu registers (shared/specs/edu.md). */
export const EDU = {
  ID: 0x00, LIVENESS: 0x04, FACTORIAL: 0x08, STATUS: 0x20, IRQ_STATUS: 0x24, IRQ_RAISE: 0x60, IRQ_ACK: 0x64,
  DMA_SRC: 0x80, DMA_DST: 0x88, DMA_COUNT: 0x90, DMA_CMD: 0x98,
  STATUS_COMPUTING: 0x01, STATUS_IRQ_FACTORIAL: 0x80, IRQ_FACTORIAL: 0x001, IRQ_DMA: 0x100,
  DMA_START: 0x1, DMA_TO_RAM: 0x2, DMA_IRQ: 0x4, BUFFER: 0x40000, BUFFER_SIZE: 4096,
} as const;

/** The edu device file, as shipped. */
export const EDU_JSON = JSON.parse(readFileSync(`${FIRMWARE_DIR}devices/edu.json`, "utf8")) as {
  clockMHz: number;
  link: { generation: number; width: number; maxPayloadSize: number; maxReadRequestSize: number; latencyNs: number; tlpOverheadBytes: number };
  params: { factorialCyclesPerStep: number; dmaSetupCycles: number };
};

/** One trace-ring record (assembly/sim/trace.ts). */
export interface TraceRecord {
  time: number;
  kind: number;
  fn: number;
  a: number;
  b: bigint;
  c: bigint;
}

export interface HarnessOptions {
  /** RAM bytes of the single region at 0 (default 32 MiB, to keep power-on fast); null keeps the file's RAM. */
  ramBytes?: number | null;
  /** Edits the resolved description before power-on. */
  edit?: (d: MachineDescription) => void;
  /** Enables the trace ring before the first access. */
  trace?: boolean;
}

let defaultDescription: MachineDescription | undefined;

/** The resolved default machine file (loaded once, cloned per use). */
export function defaultMachineDescription(): MachineDescription {
  defaultDescription ??= loadMachine("default");
  return structuredClone(defaultDescription);
}

/** Page-table entry flags. */
export const PTE = { P: 1, W: 2, U: 4, A: 0x20, D: 0x40, G: 0x100 } as const;

/** A powered-on machine with CPU 0 ready to access ECAM and BARs. */
export class CoreHarness {
  readonly machine: Machine;
  readonly core: Core;
  readonly x: CoreExports;
  /** The core's function index of the edu device (00:03.0). */
  readonly fn: number;
  /** Bus/device/function of the edu device. */
  readonly bdf: { bus: number; dev: number; fn: number };
  readonly ecamBase: number;
  /** CPU used by the helpers. */
  cpu = 0;
  pml4 = 0;
  private nextTablePage = PT_POOL_BASE;

  constructor(options: HarnessOptions = {}) {
    const d = defaultMachineDescription();
    const ram = options.ramBytes === undefined ? 32 << 20 : options.ramBytes;
    if (ram !== null) d.memory = [{ base: 0, size: ram }];
    options.edit?.(d);
    this.machine = Machine.fromDescription(d);
    this.core = this.machine.core;
    this.x = this.core.x;
    if (options.trace) this.x.traceEnable(1);
    const f = this.machine.functions[0];
    this.fn = f?.index ?? -1;
    this.bdf = { bus: f?.bus ?? 0, dev: f?.device ?? 0, fn: f?.function ?? 0 };
    this.ecamBase = d.ecam.base;
    this.resetPageTables();
    this.identityMap(this.ecamBase, d.ecam.buses << 20);
    this.setCr3All();
  }

  // ---- page tables -------------------------------------------------------------------

  /** Drops every mapping: a fresh, empty PML4 from the start of the pool. */
  resetPageTables(): void {
    this.core.writePhysical(PT_POOL_BASE, new Uint8Array(PT_POOL_END - PT_POOL_BASE));
    this.nextTablePage = PT_POOL_BASE;
    this.pml4 = this.allocTable();
  }

  /** Loads CR3 with the harness's PML4 on every CPU. */
  setCr3All(): void {
    for (let c = 0; c < this.machine.cpuCount; c++) this.x.setCr3(c, this.pml4);
  }

  /** A zeroed page from the pool. */
  allocTable(): number {
    if (this.nextTablePage >= PT_POOL_END) throw new Error("page-table pool exhausted");
    const p = this.nextTablePage;
    this.nextTablePage += PAGE;
    this.core.writePhysical(p, new Uint8Array(PAGE));
    return p;
  }

  /** Reads a 64-bit entry as a bigint. */
  readEntry(pa: number): bigint {
    const [lo, hi] = this.core.readPhysical64(pa);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Writes a 64-bit entry. */
  writeEntry(pa: number, value: bigint): void {
    this.core.writePhysical64(pa, Number(value & 0xFFFFFFFFn), Number((value >> 32n) & 0xFFFFFFFFn));
  }

  /** Index of `va` at `level` (3 = PML4 .. 0 = PT). */
  static index(va: number, level: number): number {
    return Number((BigInt(va) >> BigInt(12 + 9 * level)) & 511n);
  }

  /**
   * Physical addresses of the entries that translate `va` (PML4E, PDPTE, PDE, PTE), creating
   * missing tables (with `tableFlags`) when `create`. Entries for missing tables are undefined.
   */
  walk(va: number, create = false, tableFlags = PTE.P | PTE.W | PTE.U, root = this.pml4): (number | undefined)[] {
    const out: (number | undefined)[] = [];
    let table: number | undefined = root;
    for (let level = 3; level >= 0; level--) {
      if (table === undefined) { out.push(undefined); continue; }
      const entryPa: number = table + CoreHarness.index(va, level) * 8;
      out.push(entryPa);
      if (level === 0) break;
      const e = this.readEntry(entryPa);
      if ((e & 1n) === 0n) {
        if (!create) { table = undefined; continue; }
        const t = this.allocTable();
        this.writeEntry(entryPa, BigInt(t) | BigInt(tableFlags));
        table = t;
      } else {
        table = Number(e & 0x000FFFFFFFFFF000n);
      }
    }
    return out;
  }

  /** Maps the 4 KiB page at `va` to `pa` with `flags` (PTE bits; bit 63 via `nx`). */
  map(va: number, pa: number, flags: number = PTE.P | PTE.W, nx = false, root = this.pml4): number {
    const pte = this.walk(va, true, PTE.P | PTE.W | PTE.U, root)[3]!;
    this.writeEntry(pte, BigInt(pa) | BigInt(flags) | (nx ? 1n << 63n : 0n));
    return pte;
  }

  /** Clears the PTE of `va` (if its tables exist). */
  unmap(va: number, root = this.pml4): void {
    const pte = this.walk(va, false, undefined, root)[3];
    if (pte !== undefined) this.writeEntry(pte, 0n);
  }

  /** Identity-maps [base, base + length) with 4 KiB pages. */
  identityMap(base: number, length: number, flags: number = PTE.P | PTE.W): void {
    for (let a = base; a < base + length; a += PAGE) this.map(a, a, flags);
  }

  // ---- time --------------------------------------------------------------------------

  /** Core time, ps. */
  get now(): number {
    return this.core.nowPs;
  }

  /** CPU `cpu`'s local clock, ps. */
  cpuTime(cpu = this.cpu): number {
    return this.core.f64[this.core.cpuTimeIndex(cpu)];
  }

  /** Sets CPU `cpu`'s local clock, ps. */
  setCpuTime(ps: number, cpu = this.cpu): void {
    this.core.f64[this.core.cpuTimeIndex(cpu)] = ps;
  }

  /** Brings CPU `cpu`'s clock up to core time (the CPU waited). */
  syncCpu(cpu = this.cpu): void {
    if (this.cpuTime(cpu) < this.now) this.setCpuTime(this.now, cpu);
  }

  /**
   * Runs the core to absolute time `untilPs`, carrying on through early returns (the
   * RUN_* bits seen are ORed into the result). Then brings CPU 0 up to that time.
   */
  runTo(untilPs: number): number {
    let seen = 0;
    for (let guard = 0; guard < 1_000_000; guard++) {
      const r = this.x.run(untilPs);
      seen |= r;
      if (r === 0 || this.now >= untilPs) break;
      if (r & L.RUN_FAULT) throw new Error(`core fault ${this.x.fault()}`);
      if (r & L.RUN_TRACE_FULL) throw new Error("trace ring full: drain it (drainTrace) between runs");
    }
    this.syncCpu();
    return seen;
  }

  /** Runs the core `ps` past the later of core time and CPU 0's clock. */
  advance(ps: number): number {
    return this.runTo(Math.max(this.now, this.cpuTime()) + ps);
  }

  /** Runs until no event is pending (bounded). */
  settle(maxPs = 1e12): number {
    const limit = Math.max(this.now, this.cpuTime()) + maxPs;
    let seen = 0;
    while (this.core.nextEventPs !== Infinity && this.core.nextEventPs <= limit) seen |= this.runTo(this.core.nextEventPs);
    this.syncCpu();
    return seen;
  }

  // ---- CPU accesses ------------------------------------------------------------------

  /** CPU read; the value as a bigint (all `size` bytes) and the access status. */
  read(va: number, size: number, access = 0, cpu = this.cpu): { value: bigint; status: number } {
    const lo = this.x.cpuRead(cpu, va, size, access) >>> 0;
    const status = this.core.accessStatus(cpu);
    const hi = size === 8 ? this.core.valueHi(cpu) >>> 0 : 0;
    return { value: (BigInt(hi) << 32n) | BigInt(lo), status };
  }

  /** CPU write of `size` bytes; returns the access status. `hiGarbage` is passed as the high half for sizes below 8. */
  write(va: number, size: number, value: number | bigint, access = 0, cpu = this.cpu, hiGarbage = 0): number {
    let lo: number;
    let hi: number;
    if (typeof value === "number" && value >= 0 && value <= Number.MAX_SAFE_INTEGER && Number.isInteger(value)) {
      lo = value >>> 0;
      hi = size === 8 ? Math.floor(value / 2 ** 32) >>> 0 : hiGarbage;
    } else {
      const v = BigInt(value);
      lo = Number(v & 0xFFFFFFFFn);
      hi = size === 8 ? Number((v >> 32n) & 0xFFFFFFFFn) : hiGarbage;
    }
    this.x.cpuWrite(cpu, va, size, lo, hi, access);
    return this.core.accessStatus(cpu);
  }

  // ---- configuration space through ECAM ----------------------------------------------

  /** ECAM address of bus/dev/fn + offset. */
  ecam(offset: number, bdf = this.bdf): number {
    return this.ecamBase + ((bdf.bus << 20) | (bdf.dev << 15) | (bdf.fn << 12)) + offset;
  }

  /** Config read through ECAM MMIO (timed). */
  cfgRead(offset: number, size = 4, bdf = this.bdf): number {
    const r = this.read(this.ecam(offset, bdf), size);
    if (r.status !== L.ACCESS_OK) throw new Error(`config read status ${r.status}`);
    return Number(r.value);
  }

  /** Config write through ECAM MMIO (posted; a later read on the same CPU sees it). */
  cfgWrite(offset: number, size: number, value: number, bdf = this.bdf): void {
    const s = this.write(this.ecam(offset, bdf), size, value >>> 0);
    if (s !== L.ACCESS_OK) throw new Error(`config write status ${s}`);
  }

  // ---- BAR0 --------------------------------------------------------------------------

  barBase = BAR0_BASE;

  /** Programs BAR0 to `base`, maps it, and sets the command register to `command`. */
  setupDevice(command: number = CMD.MEMORY | CMD.BUS_MASTER, base = BAR0_BASE): void {
    this.barBase = base;
    this.identityMap(base, BAR0_SIZE);
    this.cfgWrite(CFG.BAR0, 4, base);
    this.cfgWrite(CFG.COMMAND, 2, command);
    this.cfgRead(CFG.COMMAND, 2); // orders the writes before anything that follows
  }

  /** MMIO read of BAR0 + offset; the value (size bytes; 8 bytes as a bigint via mmioRead64). */
  mmioRead(offset: number, size = 4): number {
    const r = this.read(this.barBase + offset, size);
    return Number(r.value);
  }

  /** 8-byte MMIO read. */
  mmioRead64(offset: number): bigint {
    return this.read(this.barBase + offset, 8).value;
  }

  /** MMIO write (posted). */
  mmioWrite(offset: number, value: number | bigint, size = 4, hiGarbage = 0): number {
    return this.write(this.barBase + offset, size, value, 0, this.cpu, hiGarbage);
  }

  /** MMIO write, then run until it has reached the device (and whatever it caused at that instant). */
  mmioWriteSync(offset: number, value: number | bigint, size = 4): void {
    this.mmioWrite(offset, value, size);
    this.mmioRead(EDU.ID); // a read completes only after the earlier posted write arrived
  }

  // ---- interrupts --------------------------------------------------------------------

  /** Programs and enables MSI: address 0xFEE00000 | apicId << 12, data = vector. */
  enableMsi(vector = MSI_VECTOR, apicId = 0): void {
    this.cfgWrite(MSI_CAP + 0x04, 4, LAPIC_BASE | (apicId << 12));
    this.cfgWrite(MSI_CAP + 0x08, 4, 0);
    this.cfgWrite(MSI_CAP + 0x0C, 2, vector);
    const control = this.cfgRead(MSI_CAP + 0x02, 2);
    this.cfgWrite(MSI_CAP + 0x02, 2, control | 1);
    this.cfgRead(MSI_CAP + 0x02, 2);
  }

  counters(): CoreCounters {
    return this.core.counters();
  }

  // ---- trace ring --------------------------------------------------------------------

  /** Records from the tail to the head of the ring; drains them (tail = head). */
  drainTrace(): TraceRecord[] {
    const dv = this.core.dv;
    const headAt = L.CORE_STATE_BASE + L.CORE_TRACE_HEAD;
    const tailAt = L.CORE_STATE_BASE + L.CORE_TRACE_TAIL;
    const head = dv.getUint32(headAt, true);
    let tail = dv.getUint32(tailAt, true);
    const out: TraceRecord[] = [];
    for (; tail !== head; tail = (tail + 1) >>> 0) {
      const p = L.TRACE_RING_BASE + (tail & (L.TRACE_CAPACITY - 1)) * L.TRACE_RECORD_SIZE;
      out.push({
        time: Number(dv.getBigUint64(p, true)),
        kind: dv.getUint16(p + 8, true),
        fn: dv.getUint16(p + 10, true),
        a: dv.getUint32(p + 12, true),
        b: dv.getBigUint64(p + 16, true),
        c: dv.getBigUint64(p + 24, true),
      });
    }
    dv.setUint32(tailAt, head, true);
    return out;
  }

  /** Raw bytes of the undrained part of the trace ring. */
  traceBytes(): Uint8Array {
    const dv = this.core.dv;
    const head = dv.getUint32(L.CORE_STATE_BASE + L.CORE_TRACE_HEAD, true);
    const tail = dv.getUint32(L.CORE_STATE_BASE + L.CORE_TRACE_TAIL, true);
    const n = head - tail;
    if (n > L.TRACE_CAPACITY) throw new Error("trace ring overran");
    const out = new Uint8Array(n * L.TRACE_RECORD_SIZE);
    for (let i = 0; i < n; i++) {
      const p = L.TRACE_RING_BASE + ((tail + i) & (L.TRACE_CAPACITY - 1)) * L.TRACE_RECORD_SIZE;
      out.set(this.core.u8.subarray(p, p + L.TRACE_RECORD_SIZE), i * L.TRACE_RECORD_SIZE);
    }
    return out;
  }
}

/** A fresh harness with edu's BAR0 assigned and memory space + bus master enabled. */
export function readyEdu(options: HarnessOptions = {}): CoreHarness {
  const h = new CoreHarness(options);
  h.setupDevice();
  return h;
}

/** n! modulo 2^32, by BigInt (the reference for the factorial register). */
export function factorialMod32(n: number): number {
  let r = 1n;
  for (let i = 2n; i <= BigInt(n); i++) r = (r * i) & 0xFFFFFFFFn;
  return Number(r);
}

/** Deterministic byte pattern. */
export function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = s & 0xFF;
  }
  return out;
}
