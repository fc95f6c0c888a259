/**
 * Loads the machine core (build/core.wasm) and wraps its numeric exports with typed views
 * of linear memory. This is the only module that touches the core's exports.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { instantiateSync } from "@assemblyscript/loader";
import * as L from "./generated/layout.js";
import { PACKAGE_ROOT } from "./paths.js";

/** The core's exported functions (assembly/index.ts). Addresses and times are f64. */
export interface CoreExports {
  memory: WebAssembly.Memory;
  init(): number;
  powerOn(): number;
  addDevice(): number;
  firmwareStage(): number;
  apicEoi(cpu: number, vector: number): void;
  run(untilPs: number): number;
  now(): number;
  traceEnable(on: number): void;
  cpuRead(cpu: number, va: number, size: number, access: number): number;
  cpuWrite(cpu: number, va: number, size: number, lo: number, hi: number, access: number): void;
  cpuBlock(cpu: number, op: number, dst: number, src: number, length: number, access: number): number;
  cpuTranslate(cpu: number, va: number, access: number): number;
  setCr3(cpu: number, cr3: number): void;
  invalidatePage(cpu: number, va: number): void;
  physRead32(pa: number): number;
  physWrite32(pa: number, value: number): number;
  physBlock(pa: number, offset: number, length: number, toScratch: number): number;
  physFill(pa: number, length: number, byte: number): number;
  poolBytes(): number;
  apicAccept(cpu: number): number;
  random(): number;
  functionCount(): number;
  functionBdf(fn: number): number;
  configRead(fn: number, offset: number, size: number): number;
  configWrite(fn: number, offset: number, size: number, value: number): void;
  intxState(fn: number): number;
  removeFunction(fn: number): void;
  functionIsRemoved(fn: number): number;
  injectFault(fn: number, kind: number, count: number, value: number): number;
  armInterruptFault(fn: number, action: number, count: number, skip: number, chance: number, threshold: number, filter: number, delayPs: number): number;
  armDmaFault(fn: number, action: number, count: number, skip: number, chance: number, threshold: number, filter: number): number;
  injectMediaError(fn: number, nsid: number, first: number, blocks: number, writes: number): number;
  fault(): number;
  queueSchedule(timePs: number, priority: number, kind: number, target: number, a: number): number;
  queuePop(): number;
  queueReset(): void;
  fuzzStart(fn: number, bar0: number, ramBytes: number, seed: number): void;
  fuzzRun(ops: number): number;
}

/** Names of the core's counters, in index order (C_* in assembly/sim/core.ts). */
export const COUNTER_NAMES = [
  "events", "mmioReads", "mmioWrites", "configReads", "configWrites", "dmaReadBytes", "dmaWriteBytes",
  "dmaTransfers", "msiSent", "intxAsserts", "masterAborts", "deviceErrors", "tlbHits", "tlbMisses",
  "pageFaults", "traceDropped", "tlps", "interruptsAccepted", "ramPagesBacked", "faultsInjected",
] as const;

/** Counter name to value. */
export type CoreCounters = Record<(typeof COUNTER_NAMES)[number], number>;

let compiled: WebAssembly.Module | undefined;

/** The core build to load: WDMSIM_CORE=debug picks the debug build (assertions on, names kept). */
const CORE_FILE = process.env.WDMSIM_CORE === "debug" ? "core.debug.wasm" : "core.wasm";

function compile(): WebAssembly.Module {
  if (!compiled) {
    const path = join(PACKAGE_ROOT, "build", CORE_FILE);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      throw new Error(`The machine core is not built (${path} is missing): run \`npm run build\`${CORE_FILE === "core.wasm" ? "" : " -- --debug"} first.`);
    }
    compiled = new WebAssembly.Module(new Uint8Array(bytes));
  }
  return compiled;
}

/**
 * One instance of the machine core with views over its memory. Linear memory grows while
 * the machine runs (guest RAM is backed as it is first written), which detaches the old
 * buffer: every view getter checks for that and recreates the views, so read a view
 * afresh after any call into the core rather than keeping one across calls.
 */
export class Core {
  readonly x: CoreExports;
  private buffer!: ArrayBuffer;
  private u8_!: Uint8Array;
  private u32_!: Uint32Array;
  private f64_!: Float64Array;
  private dv_!: DataView;

  constructor() {
    const instance = instantiateSync<Record<string, unknown>>(compile(), {});
    this.x = instance.exports as unknown as CoreExports;
    const overflow = this.x.init();
    if (overflow !== 0) throw new Error(`core static data overflows its region by ${overflow} bytes (assembly/memmap.ts RUNTIME_SIZE)`);
    this.refresh();
  }

  /** A copy of all of linear memory: every byte of core, device and guest state (guest RAM: the pages written so far). */
  snapshot(): Uint8Array {
    return new Uint8Array(this.x.memory.buffer.slice(0));
  }

  /** Replaces all of linear memory with a snapshot (growing memory to its size first). */
  restore(bytes: Uint8Array): void {
    const memory = this.x.memory;
    const pages = bytes.length / 65536 - memory.buffer.byteLength / 65536;
    if (pages > 0) memory.grow(pages);
    this.refresh();
    if (memory.buffer.byteLength !== bytes.length) throw new RangeError(`snapshot of ${bytes.length} bytes does not fit a core of ${memory.buffer.byteLength}`);
    this.u8.set(bytes);
  }

  /** Recreates the views if linear memory grew. Cheap when it did not. */
  refresh(): void {
    const b = this.x.memory.buffer;
    if (b === this.buffer) return;
    this.buffer = b;
    this.u8_ = new Uint8Array(b);
    this.u32_ = new Uint32Array(b);
    this.f64_ = new Float64Array(b);
    this.dv_ = new DataView(b);
  }

  /** Byte view of linear memory (a growth of memory detaches the old one; this is always current). */
  get u8(): Uint8Array {
    if (this.u8_.length === 0) this.refresh();
    return this.u8_;
  }

  /** 32-bit view of linear memory (always current). */
  get u32(): Uint32Array {
    if (this.u32_.length === 0) this.refresh();
    return this.u32_;
  }

  /** f64 view of linear memory (always current). */
  get f64(): Float64Array {
    if (this.f64_.length === 0) this.refresh();
    return this.f64_;
  }

  /** DataView of linear memory (always current). */
  get dv(): DataView {
    // A DataView of a detached buffer throws on byteLength; the byte view reads 0.
    if (this.u8_.length === 0) this.refresh();
    return this.dv_;
  }

  /** Bytes of linear memory the core holds now. */
  get memoryBytes(): number {
    return this.x.memory.buffer.byteLength;
  }

  /** Core time, picoseconds. */
  get nowPs(): number {
    return this.f64[(L.CORE_STATE_BASE + L.CORE_NOW_F64) >> 3];
  }

  /** Time of the earliest pending device event, picoseconds (Infinity if none). */
  get nextEventPs(): number {
    return this.f64[(L.CORE_STATE_BASE + L.CORE_NEXT_EVENT) >> 3];
  }

  /** Index into f64 of CPU `cpu`'s local clock. */
  cpuTimeIndex(cpu: number): number {
    return (L.CPU_TABLE_BASE + cpu * L.CPU_RECORD_SIZE + L.CPU_LOCAL_TIME) >> 3;
  }

  /** Byte offset of a u32 field of CPU `cpu`'s record. */
  cpuField(cpu: number, field: number): number {
    return L.CPU_TABLE_BASE + cpu * L.CPU_RECORD_SIZE + field;
  }

  /** Highest pending vector at CPU `cpu` (0 if none). */
  highestPending(cpu: number): number {
    return this.u32[this.cpuField(cpu, L.CPU_HIGHEST_IRR) >> 2];
  }

  /** Time (ps) pending vector `vector` arrived at CPU `cpu`. */
  arrivalPs(cpu: number, vector: number): number {
    return this.f64[(this.cpuField(cpu, L.CPU_ARRIVAL_OFFSET) >> 3) + vector];
  }

  /** Status (ACCESS_*) of CPU `cpu`'s last access. */
  accessStatus(cpu: number): number {
    return this.u32[this.cpuField(cpu, L.CPU_STATUS) >> 2];
  }

  /** High 32 bits of CPU `cpu`'s last 8-byte read. */
  valueHi(cpu: number): number {
    return this.u32[this.cpuField(cpu, L.CPU_VALUE_HI) >> 2];
  }

  /** Fault address and x86 error code of CPU `cpu`'s last page fault. */
  lastFault(cpu: number): { va: number; code: number } {
    return { va: this.f64[this.cpuField(cpu, L.CPU_FAULT_VA) >> 3], code: this.u32[this.cpuField(cpu, L.CPU_FAULT_CODE) >> 2] };
  }

  /** Writes CPU `cpu`'s IRQL where the interrupt controller reads it. */
  setIrql(cpu: number, irql: number): void {
    this.u32[this.cpuField(cpu, L.CPU_IRQL) >> 2] = irql;
  }

  /** All counters. */
  counters(): CoreCounters {
    const base = (L.CORE_STATE_BASE + L.COUNTERS_OFFSET) >> 3;
    const out = {} as CoreCounters;
    COUNTER_NAMES.forEach((name, i) => (out[name] = this.f64[base + i]));
    return out;
  }

  /** Copies `bytes` into the scratch buffer at `offset`. */
  toScratch(bytes: Uint8Array, offset = 0): void {
    if (offset + bytes.length > L.SCRATCH_SIZE) throw new RangeError(`block of ${bytes.length} bytes exceeds the ${L.SCRATCH_SIZE}-byte scratch buffer`);
    this.u8.set(bytes, L.SCRATCH_BASE + offset);
  }

  /** Copies `length` bytes out of the scratch buffer at `offset`. */
  fromScratch(length: number, offset = 0): Uint8Array {
    return this.u8.slice(L.SCRATCH_BASE + offset, L.SCRATCH_BASE + offset + length);
  }

  /** Reads guest-physical bytes (RAM only); throws when unbacked. */
  readPhysical(pa: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let done = 0; done < length; ) {
      const n = Math.min(L.SCRATCH_SIZE, length - done);
      if (!this.x.physBlock(pa + done, 0, n, 1)) throw new RangeError(`physical 0x${(pa + done).toString(16)} is not RAM`);
      out.set(this.u8.subarray(L.SCRATCH_BASE, L.SCRATCH_BASE + n), done);
      done += n;
    }
    return out;
  }

  /** Writes guest-physical bytes (RAM only); throws when unbacked. */
  writePhysical(pa: number, bytes: Uint8Array): void {
    if (bytes.length <= L.SCRATCH_SIZE) {
      this.u8.set(bytes, L.SCRATCH_BASE);
      if (!this.x.physBlock(pa, 0, bytes.length, 0)) throw new RangeError(`physical 0x${pa.toString(16)} is not RAM`);
      return;
    }
    for (let done = 0; done < bytes.length; ) {
      const n = Math.min(L.SCRATCH_SIZE, bytes.length - done);
      this.u8.set(bytes.subarray(done, done + n), L.SCRATCH_BASE);
      if (!this.x.physBlock(pa + done, 0, n, 0)) throw new RangeError(`physical 0x${(pa + done).toString(16)} is not RAM`);
      done += n;
    }
  }

  /** Reads a 64-bit guest-physical value as [lo, hi]. */
  readPhysical64(pa: number): [number, number] {
    return [this.x.physRead32(pa) >>> 0, this.x.physRead32(pa + 4) >>> 0];
  }

  /** Writes a 64-bit guest-physical value from (lo, hi); throws when unbacked. */
  writePhysical64(pa: number, lo: number, hi: number): void {
    if (!this.x.physWrite32(pa, lo) || !this.x.physWrite32(pa + 4, hi)) throw new RangeError(`physical 0x${pa.toString(16)} is not RAM`);
  }
}
