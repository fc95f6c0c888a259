/**
 * NVMe test harness: a machine whose only PCI device is the NVMe controller (00:03.0),
 * with BAR0 mapped and helpers to enable the controller, build submission entries and
 * PRP lists in guest RAM, ring doorbells and read completion entries by phase tag. Built
 * on CoreHarness; it only uses the core's public boundary. nvmePair() builds a machine
 * with two controllers (00:03.0 and 00:04.0), each with its own BAR and guest RAM area.
 */
import { BAR0_BASE, CFG, CMD, CoreHarness, DATA_BASE, LAPIC_BASE, PAGE, L, type HarnessOptions } from "./core-harness.js";
import { loadDevice, type DeviceDescription } from "../../src/machine/firmwareFiles.js";

export { L };

/** NVMe registers (nvme.md). */
export const REG = {
  CAP: 0x00, CAP_HI: 0x04, VS: 0x08, INTMS: 0x0C, INTMC: 0x10, CC: 0x14, CSTS: 0x1C, AQA: 0x24, ASQ: 0x28, ASQ_HI: 0x2C,
  ACQ: 0x30, ACQ_HI: 0x34, DOORBELL: 0x1000,
} as const;
/** CC fields. */
export const CC = { EN: 1, IOSQES: 6 << 16, IOCQES: 4 << 20, SHN_NORMAL: 1 << 14, SHN_ABRUPT: 2 << 14 } as const;
/** CSTS fields. */
export const CSTS = { RDY: 1, CFS: 2, SHST_MASK: 0xC, SHST_IN_PROGRESS: 0x4, SHST_COMPLETE: 0x8 } as const;
/** Config-space capability offsets of firmware/devices/nvme.json. */
export const CAP_OFFSETS = { MSI: 0x40, PM: 0x60, PCIE: 0x70, MSIX: 0xB0 } as const;
/** MSI-X table and PBA offsets in BAR0 (nvme.json). */
export const MSIX_TABLE = 0x2000;
export const MSIX_PBA = 0x3000;

/** Admin opcodes. */
export const ADMIN = {
  DELETE_SQ: 0x00, CREATE_SQ: 0x01, GET_LOG_PAGE: 0x02, DELETE_CQ: 0x04, CREATE_CQ: 0x05, IDENTIFY: 0x06, ABORT: 0x08,
  SET_FEATURES: 0x09, GET_FEATURES: 0x0A, ASYNC_EVENT: 0x0C,
} as const;
/** I/O opcodes. */
export const IO = { FLUSH: 0x00, WRITE: 0x01, READ: 0x02 } as const;
/** Generic status codes (type 0). */
export const SC = {
  SUCCESS: 0x00, INVALID_OPCODE: 0x01, INVALID_FIELD: 0x02, DATA_TRANSFER: 0x04, ABORT_REQUESTED: 0x07,
  ABORTED_SQ_DELETION: 0x08, INVALID_NAMESPACE: 0x0B, INVALID_PRP_OFFSET: 0x13, LBA_RANGE: 0x80,
} as const;
/** Command-specific status codes (type 1). */
export const SC_CMD = {
  CQ_INVALID: 0x00, INVALID_QID: 0x01, INVALID_QSIZE: 0x02, AER_LIMIT: 0x05, INVALID_VECTOR: 0x08, INVALID_LOG_PAGE: 0x09,
  INVALID_DELETION: 0x0C,
} as const;

/** Guest RAM layout the harness uses. */
export const MEM = {
  ASQ: DATA_BASE, ACQ: DATA_BASE + 0x10000,
  /** I/O SQ q at SQ_BASE + q * SQ_STRIDE; CQ q at CQ_BASE + q * CQ_STRIDE. */
  SQ_BASE: 0x500000, SQ_STRIDE: 0x20000, CQ_BASE: 0x800000, CQ_STRIDE: 0x10000,
  /** PRP list pages. */
  LIST_BASE: 0x900000, LIST_END: 0xA00000,
  /** Data buffers. */
  DATA: 0x1000000, DATA_END: 0x1E00000,
  /** Identify and log buffers. */
  ID_BUFFER: 0xA00000,
} as const;

let nvmeSpec: DeviceDescription | undefined;

/** firmware/devices/nvme.json, resolved (a fresh copy). */
export function nvmeDevice(): DeviceDescription {
  nvmeSpec ??= loadDevice("nvme");
  return structuredClone(nvmeSpec);
}

/** A submission entry. */
export interface Command {
  opcode: number;
  cid?: number;
  nsid?: number;
  /** CDW0 bits 15:8 (fused, PSDT), normally 0. */
  flags?: number;
  prp1?: number;
  prp2?: number;
  cdw10?: number;
  cdw11?: number;
  cdw12?: number;
  cdw13?: number;
  cdw14?: number;
  cdw15?: number;
}

/** A completion entry. */
export interface Completion {
  dw0: number;
  sqhd: number;
  sqid: number;
  cid: number;
  phase: number;
  /** Status code (DW3 24:17). */
  sc: number;
  /** Status code type (DW3 27:25). */
  sct: number;
  dnr: number;
  /** CQ slot it was read from. */
  index: number;
}

export interface NvmeOptions extends HarnessOptions {
  /** Model parameters overriding nvme.json's. */
  params?: Record<string, number>;
  /** Link parameters overriding nvme.json's. */
  link?: Partial<DeviceDescription["link"]>;
  /** Edits the resolved device before power-on. */
  device?: (d: DeviceDescription) => void;
}

interface SqState { base: number; size: number; tail: number; cqid: number }
interface CqState { base: number; size: number; head: number; phase: number }

/** The guest RAM layout of MEM moved up by `offset` bytes. */
function memAt(offset: number): typeof MEM {
  return Object.fromEntries(Object.entries(MEM).map(([k, v]) => [k, v + offset])) as unknown as typeof MEM;
}

/** Where a controller sits when it shares a machine with another (nvmePair). */
interface Placement {
  h: CoreHarness;
  spec: DeviceDescription;
  /** Index in the machine's function list. */
  index: number;
  /** BAR0 address. */
  bar: number;
  /** Offset of its MEM layout in guest RAM. */
  ramOffset: number;
}

/** The controller under test. */
export class Nvme {
  readonly h: CoreHarness;
  readonly spec: DeviceDescription;
  /** The core's function index. */
  readonly fn: number;
  /** Bus/device/function. */
  readonly bdf: { bus: number; dev: number; fn: number };
  /** BAR0 address. */
  readonly bar: number;
  /** The guest RAM this controller's helpers use (MEM, moved for a second controller). */
  readonly mem: typeof MEM;
  readonly sqs = new Map<number, SqState>();
  readonly cqs = new Map<number, CqState>();
  private nextCid = 1;
  /** The submission entry being built (reused: submitting allocates nothing). */
  private readonly entry = new Uint8Array(64);
  private readonly entryView = new DataView(this.entry.buffer);
  /** The completion nextCompletion consumed last (reused). */
  readonly completion: Completion = { dw0: 0, sqhd: 0, sqid: 0, cid: 0, phase: 0, sc: 0, sct: 0, dnr: 0, index: 0 };
  private listTop: number;

  constructor(options: NvmeOptions = {}, placement?: Placement) {
    if (placement) {
      this.h = placement.h;
      this.spec = placement.spec;
      const f = this.h.machine.functions[placement.index];
      this.fn = f.index;
      this.bdf = { bus: f.bus, dev: f.device, fn: f.function };
      this.bar = placement.bar;
      this.mem = memAt(placement.ramOffset);
      this.h.identityMap(this.bar, 16 * 1024);
      this.h.cfgWrite(CFG.BAR0, 4, this.bar, this.bdf);
      this.h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY | CMD.BUS_MASTER, this.bdf);
      this.h.cfgRead(CFG.COMMAND, 2, this.bdf);
    } else {
      const spec = nvmeDevice();
      spec.params = { ...spec.params, ...(options.params ?? {}) };
      spec.link = { ...spec.link, ...(options.link ?? {}) };
      options.device?.(spec);
      this.spec = spec;
      this.h = new CoreHarness({
        ...options,
        edit: (d) => {
          d.slots = [{ bus: 0, device: 3, function: 0, deviceFile: "nvme", spec, parent: null, secondaryBus: 0, subordinateBus: 0 }];
          options.edit?.(d);
        },
      });
      this.h.setupDevice();
      this.fn = this.h.fn;
      this.bdf = this.h.bdf;
      this.bar = this.h.barBase;
      this.mem = MEM;
    }
    this.listTop = this.mem.LIST_BASE;
  }

  /** Model parameter `name` as configured. */
  param(name: string): number {
    return this.spec.params[name];
  }

  /** Device clock period, ps. */
  get cyclePs(): number {
    return 1e9 / this.spec.clockKHz;
  }

  get stride(): number {
    return 4 << (this.spec.params.doorbellStride ?? 0);
  }

  // ---- registers --------------------------------------------------------------------

  read32(offset: number): number {
    return Number(this.h.read(this.bar + offset, 4).value) >>> 0;
  }

  read64(offset: number): bigint {
    return this.h.read(this.bar + offset, 8).value;
  }

  write32(offset: number, value: number): void {
    this.h.write(this.bar + offset, 4, value >>> 0);
  }

  write64(offset: number, value: number | bigint): void {
    this.h.write(this.bar + offset, 8, BigInt(value));
  }

  /** Offset of SQ `q`'s tail doorbell. */
  sqDoorbell(q: number): number {
    return REG.DOORBELL + 2 * q * this.stride;
  }

  /** Offset of CQ `q`'s head doorbell. */
  cqDoorbell(q: number): number {
    return REG.DOORBELL + (2 * q + 1) * this.stride;
  }

  /** Programs the admin queues and sets CC.EN; runs until CSTS.RDY (throws if it never comes). */
  enable(asqEntries = 32, acqEntries = 32, ccExtra = 0): void {
    const mem = this.mem;
    this.h.core.writePhysical(mem.ASQ, new Uint8Array(asqEntries * 64));
    this.h.core.writePhysical(mem.ACQ, new Uint8Array(acqEntries * 16));
    this.write32(REG.AQA, ((acqEntries - 1) << 16) | (asqEntries - 1));
    this.write64(REG.ASQ, mem.ASQ);
    this.write64(REG.ACQ, mem.ACQ);
    this.write32(REG.CC, CC.EN | CC.IOSQES | CC.IOCQES | ccExtra);
    this.sqs.clear();
    this.cqs.clear();
    this.sqs.set(0, { base: mem.ASQ, size: asqEntries, tail: 0, cqid: 0 });
    this.cqs.set(0, { base: mem.ACQ, size: acqEntries, head: 0, phase: 1 });
    this.h.advance(this.param("readyDelayNs") * 1000 + 5e6);
    if ((this.read32(REG.CSTS) & CSTS.RDY) === 0) throw new Error("controller did not become ready");
  }

  // ---- queues -----------------------------------------------------------------------

  /** Writes a submission entry at SQ `q`'s tail and advances it; rings the doorbell unless `ring` is false. Returns the CID. */
  submit(q: number, c: Command, ring = true): number {
    const sq = this.sqs.get(q);
    if (!sq) throw new Error(`no SQ ${q} in the harness`);
    const cid = c.cid ?? (this.nextCid++ & 0xFFFF);
    const e = this.entryView;
    this.entry.fill(0);
    e.setUint32(0, (c.opcode & 0xFF) | ((c.flags ?? 0) << 8) | (cid << 16), true);
    e.setUint32(4, (c.nsid ?? 0) >>> 0, true);
    setU64(e, 24, c.prp1 ?? 0);
    setU64(e, 32, c.prp2 ?? 0);
    e.setUint32(40, (c.cdw10 ?? 0) >>> 0, true);
    e.setUint32(44, (c.cdw11 ?? 0) >>> 0, true);
    e.setUint32(48, (c.cdw12 ?? 0) >>> 0, true);
    e.setUint32(52, (c.cdw13 ?? 0) >>> 0, true);
    e.setUint32(56, (c.cdw14 ?? 0) >>> 0, true);
    e.setUint32(60, (c.cdw15 ?? 0) >>> 0, true);
    this.h.core.writePhysical(sq.base + sq.tail * 64, this.entry);
    sq.tail = (sq.tail + 1) % sq.size;
    if (ring) this.ring(q);
    return cid;
  }

  /** Writes SQ `q`'s tail doorbell with the harness's tail. */
  ring(q: number): void {
    this.write32(this.sqDoorbell(q), this.sqs.get(q)!.tail);
  }

  /** The completion entry at CQ `q`'s head if its phase tag is the expected one (does not consume it). */
  peek(q: number): Completion | undefined {
    const cq = this.cqs.get(q)!;
    const b = this.h.core.readPhysical(cq.base + cq.head * 16, 16);
    const v = new DataView(b.buffer, b.byteOffset, 16);
    const dw3 = v.getUint32(12, true);
    if (((dw3 >>> 16) & 1) !== cq.phase) return undefined;
    const dw2 = v.getUint32(8, true);
    return {
      dw0: v.getUint32(0, true), sqhd: dw2 & 0xFFFF, sqid: dw2 >>> 16, cid: dw3 & 0xFFFF, phase: (dw3 >>> 16) & 1,
      sc: (dw3 >>> 17) & 0xFF, sct: (dw3 >>> 25) & 7, dnr: dw3 >>> 31, index: cq.head,
    };
  }

  /**
   * Consumes the completion at CQ `q`'s head into `this.completion` and returns true, or
   * returns false when its phase tag says it is not new. Allocates nothing; the head
   * doorbell is left to ringCq.
   */
  nextCompletion(q: number): boolean {
    const cq = this.cqs.get(q)!;
    const at = cq.base + cq.head * 16;
    const x = this.h.x;
    const dw3 = x.physRead32(at + 12) >>> 0;
    if (((dw3 >>> 16) & 1) !== cq.phase) return false;
    const dw2 = x.physRead32(at + 8) >>> 0;
    const c = this.completion;
    c.dw0 = x.physRead32(at) >>> 0;
    c.sqhd = dw2 & 0xFFFF;
    c.sqid = dw2 >>> 16;
    c.cid = dw3 & 0xFFFF;
    c.phase = (dw3 >>> 16) & 1;
    c.sc = (dw3 >>> 17) & 0xFF;
    c.sct = (dw3 >>> 25) & 7;
    c.dnr = dw3 >>> 31;
    c.index = cq.head;
    cq.head = (cq.head + 1) % cq.size;
    if (cq.head === 0) cq.phase ^= 1;
    return true;
  }

  /** Writes CQ `q`'s head doorbell with the harness's head. */
  ringCq(q: number): void {
    this.write32(this.cqDoorbell(q), this.cqs.get(q)!.head);
  }

  /** Consumes every new completion of CQ `q`; writes the head doorbell when any was found and `ring`. */
  reap(q: number, ring = true): Completion[] {
    const cq = this.cqs.get(q)!;
    const out: Completion[] = [];
    for (let c = this.peek(q); c; c = this.peek(q)) {
      out.push(c);
      cq.head = (cq.head + 1) % cq.size;
      if (cq.head === 0) cq.phase ^= 1;
    }
    if (out.length > 0 && ring) this.write32(this.cqDoorbell(q), cq.head);
    return out;
  }

  /** Runs until no device event is pending. */
  settle(): void {
    this.h.settle();
  }

  /** Submits one command to SQ `q`, runs to quiescence and returns its completion (from the SQ's CQ). */
  exec(q: number, c: Command): Completion {
    const cid = this.submit(q, c);
    this.settle();
    const got = this.reap(this.sqs.get(q)!.cqid);
    const mine = got.find((x) => x.cid === cid && x.sqid === q);
    if (!mine) throw new Error(`no completion for cid ${cid} on SQ ${q} (got ${JSON.stringify(got)})`);
    return mine;
  }

  // ---- admin helpers ----------------------------------------------------------------

  /** Create I/O CQ `qid` with `entries` entries on vector `iv` (zeroes its memory). */
  createCq(qid: number, entries: number, iv = qid, ien = true, base = this.mem.CQ_BASE + qid * MEM.CQ_STRIDE): Completion {
    this.h.core.writePhysical(base, new Uint8Array(entries * 16));
    const c = this.exec(0, {
      opcode: ADMIN.CREATE_CQ, prp1: base, cdw10: ((entries - 1) << 16) | qid, cdw11: (iv << 16) | (ien ? 2 : 0) | 1,
    });
    if (c.sc === 0 && c.sct === 0) this.cqs.set(qid, { base, size: entries, head: 0, phase: 1 });
    return c;
  }

  /** Create I/O SQ `qid` with `entries` entries bound to CQ `cqid`. */
  createSq(qid: number, entries: number, cqid = qid, base = this.mem.SQ_BASE + qid * MEM.SQ_STRIDE): Completion {
    const c = this.exec(0, { opcode: ADMIN.CREATE_SQ, prp1: base, cdw10: ((entries - 1) << 16) | qid, cdw11: (cqid << 16) | 1 });
    if (c.sc === 0 && c.sct === 0) this.sqs.set(qid, { base, size: entries, tail: 0, cqid });
    return c;
  }

  /** Creates CQ and SQ `qid` (same id), `entries` each; throws on failure. */
  createPair(qid: number, entries = 64, iv = qid): void {
    const a = this.createCq(qid, entries, iv);
    if (a.sc !== 0 || a.sct !== 0) throw new Error(`create CQ ${qid}: ${JSON.stringify(a)}`);
    const b = this.createSq(qid, entries, qid);
    if (b.sc !== 0 || b.sct !== 0) throw new Error(`create SQ ${qid}: ${JSON.stringify(b)}`);
  }

  /** Identify into MEM.ID_BUFFER (4 KiB); returns the completion and the data. */
  identify(cns: number, nsid = 0, buffer: number = this.mem.ID_BUFFER): { c: Completion; data: DataView } {
    this.h.core.writePhysical(buffer, new Uint8Array(4096).fill(0xEE));
    const c = this.exec(0, { opcode: ADMIN.IDENTIFY, nsid, prp1: buffer, prp2: (buffer & ~0xFFF) + 4096, cdw10: cns });
    const bytes = this.h.core.readPhysical(buffer, 4096);
    return { c, data: new DataView(bytes.buffer, bytes.byteOffset, 4096) };
  }

  // ---- PRPs -------------------------------------------------------------------------

  /** A fresh zeroed PRP list page. */
  listPage(): number {
    if (this.listTop >= this.mem.LIST_END) this.listTop = this.mem.LIST_BASE;
    const p = this.listTop;
    this.listTop += PAGE;
    this.h.core.writePhysical(p, new Uint8Array(PAGE));
    return p;
  }

  /**
   * PRP1/PRP2 for `length` bytes in the given pages (pages[0] may carry an offset; the
   * others are page addresses). Builds PRP lists (chained through their last entry) when
   * the transfer spans more than two pages; `listStart` places the first list inside its page.
   */
  prps(pages: number[], length: number, listStart = 0): { prp1: number; prp2: number } {
    const prp1 = pages[0];
    const first = PAGE - (prp1 % PAGE);
    if (length <= first) return { prp1, prp2: 0 };
    const rest = pages.slice(1, 1 + Math.ceil((length - first) / PAGE));
    if (rest.length === 1) return { prp1, prp2: rest[0] };
    const head = this.listPage() + listStart;
    let at = head;
    for (let k = 0; k < rest.length; k++) {
      const room = (PAGE - (at % PAGE)) / 8;
      const left = rest.length - k;
      if (room === 1 && left > 1) {
        const next = this.listPage();
        this.h.core.writePhysical64(at, next, 0);
        at = next;
      }
      this.h.core.writePhysical64(at, rest[k] >>> 0, Math.floor(rest[k] / 2 ** 32));
      at += 8;
    }
    return { prp1, prp2: head };
  }

  /** Page addresses covering [addr, addr + length) contiguously (first may be unaligned). */
  static contiguous(addr: number, length: number): number[] {
    const pages = [addr];
    for (let p = (addr & ~(PAGE - 1)) + PAGE; p < addr + length; p += PAGE) pages.push(p);
    return pages;
  }

  // ---- I/O helpers ------------------------------------------------------------------

  /** Block size, bytes. */
  get blockSize(): number {
    return this.spec.params.blockSize === 4096 ? 4096 : 512;
  }

  /** Read/write command for `blocks` blocks at `lba` with the given PRPs. */
  rw(opcode: number, lba: number, blocks: number, prp: { prp1: number; prp2: number }, nsid = 1): Command {
    return { opcode, nsid, prp1: prp.prp1, prp2: prp.prp2, cdw10: lba >>> 0, cdw11: Math.floor(lba / 2 ** 32), cdw12: blocks - 1 };
  }

  // ---- interrupts -------------------------------------------------------------------

  /** Programs MSI-X table entry `entry` (address for APIC `apic`, data `vector`, unmasked unless `masked`). */
  msixEntry(entry: number, vector: number, apic = 0, masked = false): void {
    const at = MSIX_TABLE + entry * 16;
    this.write32(at, LAPIC_BASE | (apic << 12));
    this.write32(at + 4, 0);
    this.write32(at + 8, vector);
    this.write32(at + 12, masked ? 1 : 0);
  }

  /** Sets the MSI-X enable bit (and the function mask when `functionMask`). */
  enableMsix(functionMask = false): void {
    const control = this.h.cfgRead(CAP_OFFSETS.MSIX + 2, 2, this.bdf);
    this.h.cfgWrite(CAP_OFFSETS.MSIX + 2, 2, (control & 0x07FF) | 0x8000 | (functionMask ? 0x4000 : 0), this.bdf);
  }

  /** Vectors pending at CPU `cpu` (accepting each), with their arrival times (ps). */
  takeInterrupts(cpu = 0): { vector: number; time: number }[] {
    const out: { vector: number; time: number }[] = [];
    for (let v = this.h.core.highestPending(cpu); v !== 0; v = this.h.core.highestPending(cpu)) {
      out.push({ vector: v, time: this.h.core.arrivalPs(cpu, v) });
      this.h.x.apicAccept(cpu);
    }
    return out;
  }

  /** Device errors recorded in the trace (drains it). */
  deviceErrors(): { code: number; arg: bigint; time: number }[] {
    return this.h.drainTrace().filter((r) => r.kind === L.TR_DEVICE_ERROR && r.fn === this.fn).map((r) => ({ code: r.a, arg: r.b, time: r.time }));
  }

  /** PCI location "bb:dd.f" (what Machine.injectFault takes). */
  get location(): string {
    const hex = (v: number) => v.toString(16).padStart(2, "0");
    return `${hex(this.bdf.bus)}:${hex(this.bdf.dev)}.${this.bdf.fn}`;
  }
}

/** A harness with the controller's BAR0 mapped (not enabled). */
export function nvmeHarness(options: NvmeOptions = {}): Nvme {
  return new Nvme(options);
}

/** A harness with the controller enabled and ready. */
export function readyNvme(options: NvmeOptions = {}): Nvme {
  const n = new Nvme(options);
  n.enable();
  return n;
}

/**
 * A machine with two controllers: 00:03.0 (BAR0 at 0xC0000000, MEM) and 00:04.0 (BAR0 at
 * 0xC0100000, MEM moved up 32 MiB), 64 MiB of RAM. `second` overrides the second
 * controller's parameters on top of `options.params`. Neither is enabled.
 */
export function nvmePair(options: NvmeOptions = {}, second: Record<string, number> = {}): [Nvme, Nvme] {
  const spec = nvmeDevice();
  spec.params = { ...spec.params, ...(options.params ?? {}), ...second };
  spec.link = { ...spec.link, ...(options.link ?? {}) };
  options.device?.(spec);
  const a = new Nvme({
    ramBytes: 64 << 20,
    ...options,
    edit: (d) => {
      d.slots.push({ bus: 0, device: 4, function: 0, deviceFile: "nvme", spec, parent: null, secondaryBus: 0, subordinateBus: 0 });
      options.edit?.(d);
    },
  });
  const b = new Nvme({}, { h: a.h, spec, index: 1, bar: BAR0_BASE + 0x100000, ramOffset: 32 << 20 });
  return [a, b];
}

/** Stores a 64-bit value (an exact integer below 2^53) little-endian at `at`. */
function setU64(v: DataView, at: number, value: number): void {
  v.setUint32(at, value >>> 0, true);
  v.setUint32(at + 4, Math.floor(value / 2 ** 32) >>> 0, true);
}
