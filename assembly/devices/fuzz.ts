// The device fuzzer: a seeded stream of guest operations against one PCI function, run
// inside the core so millions of operations take seconds. Operations are what a guest
// (or a broken driver) can do: register reads and writes of every width at every offset
// of BAR0, aligned or not, inside or past the BAR; configuration writes (command, BARs,
// MSI, MSI-X, power state, anywhere); DMA descriptors and NVMe queue entries pointing
// anywhere (RAM, past its end, MMIO, the interrupt window, the top of the address
// space); doorbells; IOMMU and IOAPIC programming; time advanced by random amounts.
// After every operation the fuzzer checks the core's invariants (time never goes back,
// no event is pending in the past, no internal fault) and the device's own (edu.md,
// nvme.md); the first broken one stops the run as a finding. Coverage counters say
// which interesting paths the stream reached.
//
//   FuzzRecord at FUZZ_RECORD_BASE (the scratch buffer: nothing else uses it during a run)
//   +0   opIndex    f64   operations run so far (the index of the one being run)
//   +8   finding    u32   FUZZ_FINDING_*, 0 while none
//   +16  detail     f64   the value that broke the invariant (meaning per finding)
//   +64  counters   f64 x FUZZ_COUNTER_COUNT   coverage (FZ_*)
//   +FUZZ_HOST_OFFSET  HostQueue x FUZZ_HOST_QUEUES   the fuzzer's view of its NVMe queues

import { SCRATCH_BASE } from "../memmap";
import { core, C_DEVICE_ERRORS, C_DMA_READ_BYTES, C_DMA_TRANSFERS, C_DMA_WRITE_BYTES, C_INTX_ASSERTS, C_MASTER_ABORTS, C_MSI_SENT, COUNTERS_OFFSET } from "../sim/core";
import { CORE_RECORD_BASE } from "../memmap";
import { cpuState } from "../sim/cpu";
import { runUntil } from "../sim/run";
import { busCpuRead, busCpuWrite, deliverConfigWrite } from "../pci/bus";
import { pciFunction, functionMsix } from "../pci/function";
import { configPeek } from "../pci/config";
import { msixEnabled } from "../pci/msix";
import { MSI_CONTROL, MSI_ADDRESS_LO, MSIX_CONTROL, MSIX_ENTRY_BYTES, PM_PMCSR } from "../pci/header";
import { apicAccept } from "../irq/apic";
import { ioapicEoi, IOAPIC_MMIO_BASE, IOAPIC_IOREGSEL, IOAPIC_IOWIN, IOAPIC_REG_REDIRECTION } from "../irq/ioapic";
import { intxGsi } from "../irq/intx";
import { iommuFaults, iommuPresent, IOMMU_MMIO_BASE, IOMMU_GCMD, IOMMU_RTADDR, IOMMU_TE, IOMMU_SRTP } from "../dma/iommu";
import { ramLoadSpan, ramStoreSpan } from "../mem/ram";
import { platform, LAPIC_WINDOW_BASE } from "../platform/platform";
import { BAR_FLAG_64BIT } from "../platform/config";
import { DEVICE_MODEL_EDU, DEVICE_MODEL_NVME } from "./index";
import { eduRead, EDU_ID_VALUE } from "./edu";
import { nvmeRead } from "./nvme";
import { nvmeState, sqAt, cqAt } from "./nvme-state";

/** Linear address of the fuzz record. */
export const FUZZ_RECORD_BASE: u32 = SCRATCH_BASE;
/** Offset of opIndex (f64). */
export const FUZZ_OP_INDEX: u32 = 0;
/** Offset of finding (u32). */
export const FUZZ_FINDING: u32 = 8;
/** Offset of detail (f64). */
export const FUZZ_DETAIL: u32 = 16;
/** Offset of the coverage counters (f64 each). */
export const FUZZ_COUNTERS: u32 = 64;
/** Offset of the fuzzer's NVMe host-queue table. */
const FUZZ_HOST_OFFSET: u32 = 0x1000;

// Findings.
/** Core time went backwards (detail: the earlier time, ps). */
export const FUZZ_FINDING_TIME_BACKWARDS: u32 = 1;
/** An event is pending before core time (detail: its time, ps). */
export const FUZZ_FINDING_EVENT_IN_PAST: u32 = 2;
/** The core raised an internal fault (detail: FAULT_*). */
export const FUZZ_FINDING_CORE_FAULT: u32 = 3;
/** edu's identification register no longer reads 0x010000ED (detail: the value). */
export const FUZZ_FINDING_EDU_IDENTIFICATION: u32 = 4;
/** edu's status register has bits other than 0x01 and 0x80 (detail: the value). */
export const FUZZ_FINDING_EDU_STATUS: u32 = 5;
/** edu says it is computing or moving data with no event pending to finish it (detail: status | command << 32). */
export const FUZZ_FINDING_EDU_STUCK: u32 = 6;
/** NVMe CSTS.RDY is set while CC.EN is clear (detail: CSTS). */
export const FUZZ_FINDING_NVME_READY_WITHOUT_ENABLE: u32 = 7;
/** NVMe CSTS.RDY is still clear CAP.TO after CC.EN was set, without CSTS.CFS (detail: ps since enable). */
export const FUZZ_FINDING_NVME_READY_TIMEOUT: u32 = 8;
/** An NVMe queue's head or tail is outside its size (detail: queue id | is-CQ << 16). */
export const FUZZ_FINDING_NVME_QUEUE_POINTER: u32 = 9;
/** The NVMe controller has more free command slots than slots (detail: the free count). */
export const FUZZ_FINDING_NVME_SLOTS: u32 = 10;
/** The function's vendor and device ID changed (detail: the dword read). */
export const FUZZ_FINDING_IDENTITY: u32 = 11;

// Coverage counters (f64 each).
/** Register reads issued. */
export const FZ_MMIO_READS: u32 = 0;
/** Register writes issued. */
export const FZ_MMIO_WRITES: u32 = 1;
/** Register accesses at an offset not aligned to their size. */
export const FZ_MMIO_UNALIGNED: u32 = 2;
/** Register accesses that reach past the end of BAR0. */
export const FZ_MMIO_OUT_OF_RANGE: u32 = 3;
/** Configuration writes issued. */
export const FZ_CONFIG_WRITES: u32 = 4;
/** BAR0 moved (or disabled by a random value) by a configuration write. */
export const FZ_BAR_MOVES: u32 = 5;
/** Power-state writes that put the function into D3hot. */
export const FZ_D3_ENTRIES: u32 = 6;
/** Interrupt messages sent while MSI was the mode. */
export const FZ_IRQ_MSI: u32 = 7;
/** Interrupt messages sent while MSI-X was the mode. */
export const FZ_IRQ_MSIX: u32 = 8;
/** INTx assertions. */
export const FZ_IRQ_INTX: u32 = 9;
/** Interrupt vectors accepted by CPUs. */
export const FZ_IRQ_ACCEPTED: u32 = 10;
/** DMA transfers the device started. */
export const FZ_DMA_TRANSFERS: u32 = 11;
/** Bytes the device read from memory. */
export const FZ_DMA_READ_BYTES: u32 = 12;
/** Bytes the device wrote to memory. */
export const FZ_DMA_WRITE_BYTES: u32 = 13;
/** Master aborts: DMA with bus mastering off, to nothing, or CPU accesses to nothing. */
export const FZ_MASTER_ABORTS: u32 = 14;
/** IOMMU faults recorded. */
export const FZ_IOMMU_FAULTS: u32 = 15;
/** Device error events (refused or clamped requests). */
export const FZ_DEVICE_ERRORS: u32 = 16;
/** NVMe controller resets: CC.EN 1 -> 0 seen by the device. */
export const FZ_RESETS: u32 = 17;
/** Time advances. */
export const FZ_TIME_ADVANCES: u32 = 18;
/** edu factorials started / NVMe submission entries written and their tail doorbell rung. */
export const FZ_COMMANDS: u32 = 19;
/** NVMe: CSTS.RDY seen rising. */
export const FZ_READY: u32 = 20;
/** NVMe: completion entries consumed. */
export const FZ_COMPLETIONS: u32 = 21;
/** NVMe completions by status: generic 0x00..0x0F at FZ_STATUS_BASE + code. */
export const FZ_STATUS_BASE: u32 = 22;
/** Generic status 0x80 (LBA out of range). */
export const FZ_STATUS_LBA_RANGE: u32 = FZ_STATUS_BASE + 16;
/** Other generic status codes. */
export const FZ_STATUS_GENERIC_OTHER: u32 = FZ_STATUS_BASE + 17;
/** Command-specific status 0x00..0x0D at FZ_STATUS_COMMAND_BASE + code. */
export const FZ_STATUS_COMMAND_BASE: u32 = FZ_STATUS_BASE + 18;
/** Any other status code type or code. */
export const FZ_STATUS_OTHER: u32 = FZ_STATUS_COMMAND_BASE + 14;
/** Doorbells rung at random offsets and values. */
export const FZ_DOORBELLS: u32 = FZ_STATUS_OTHER + 1;
/** NVMe: I/O queues the fuzzer created successfully. */
export const FZ_QUEUES_CREATED: u32 = FZ_DOORBELLS + 1;
/** NVMe: CSTS.SHST seen reaching "complete". */
export const FZ_SHUTDOWNS: u32 = FZ_QUEUES_CREATED + 1;
/** Number of coverage counters. */
export const FUZZ_COUNTER_COUNT: u32 = FZ_SHUTDOWNS + 1;

/** The fuzzer's view of one NVMe queue pair it set up. */
@unmanaged
class HostQueue {
  sqBase: u64;
  cqBase: u64;
  sqSize: u32;
  cqSize: u32;
  sqTail: u32;
  cqHead: u32;
  cqPhase: u32;
  sqLive: u32;
  cqLive: u32;
  pendingSqSize: u32;
  pendingCqSize: u32;
  pendingSqBase: u64;
  pendingCqBase: u64;
}
const HOST_QUEUE_BYTES: u32 = 72;
/** Queue ids the fuzzer manages (0 admin, 1.. I/O). */
const FUZZ_HOST_QUEUES: u32 = 8;

// Where the fuzzer keeps its NVMe queues in guest RAM (device DMA may overwrite them: that is part of the game).
const QUEUE_AREA: u64 = 0x100000;
const QUEUE_STRIDE: u64 = 0x4000;
const ADMIN_SQ_BASE: u64 = QUEUE_AREA;
const ADMIN_CQ_BASE: u64 = QUEUE_AREA + 0x2000;

// Command identifier tags (bits 7:5; bits 4:0 the queue id, 15:8 a sequence number).
const TAG_OTHER: u32 = 0;
const TAG_CREATE_CQ: u32 = 1;
const TAG_CREATE_SQ: u32 = 2;
const TAG_DELETE_SQ: u32 = 3;
const TAG_DELETE_CQ: u32 = 4;

// Run parameters and state between calls (globals: never in linear memory the guest could reach).
let fn_: u32 = 0;
let model: u32 = 0;
let barBase: u64 = 0;
let barSize: u64 = 0;
let ramBytes: u64 = 0;
let identity: u32 = 0;
let r0: u64 = 1;
let r1: u64 = 2;
let r2: u64 = 3;
let r3: u64 = 4;
let lastNow: u64 = 0;
let lastEn: u32 = 0;
let enSincePs: u64 = 0;
let lastRdy: u32 = 0;
let lastShst: u32 = 0;
let lastD3: bool = false;
let dstrd: u32 = 0;
let timeoutPs: u64 = 0;
let sequence: u32 = 0;
let msiCap: u32 = 0;
let msixCap: u32 = 0;
let pmCap: u32 = 0;
let gsi: u32 = 0;
let msiSentBefore: f64 = 0;
let intxBefore: f64 = 0;
let transfersBefore: f64 = 0;
let readBytesBefore: f64 = 0;
let writeBytesBefore: f64 = 0;
let abortsBefore: f64 = 0;
let errorsBefore: f64 = 0;
let iommuBefore: u32 = 0;

// ---- generator (xoshiro256**, its own state so the device's jitter draws do not shift the stream) ----

function next(): u64 {
  const result = rotl<u64>(r1 * 5, 7) * 9;
  const t = r1 << 17;
  r2 ^= r0; r3 ^= r1; r1 ^= r2; r0 ^= r3; r2 ^= t;
  r3 = rotl<u64>(r3, 45);
  return result;
}

/** Uniform in [0, bound). */
function below(bound: u32): u32 {
  return <u32>(((next() >> 32) * <u64>bound) >> 32);
}

function splitmix(x: u64): u64 {
  let z = x + 0x9E3779B97F4A7C15;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
  return z ^ (z >> 31);
}

// ---- record -----------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function counterAt(i: u32): usize {
  return FUZZ_RECORD_BASE + FUZZ_COUNTERS + (i << 3);
}

// @ts-ignore: decorator
@inline function bump(i: u32, n: f64 = 1.0): void {
  store<f64>(counterAt(i), load<f64>(counterAt(i)) + n);
}

// @ts-ignore: decorator
@inline function coreCounter(i: u32): f64 {
  return load<f64>(CORE_RECORD_BASE + COUNTERS_OFFSET + (i << 3));
}

function find(code: u32, detail: f64): void {
  if (load<u32>(FUZZ_RECORD_BASE + FUZZ_FINDING) != 0) return;
  store<u32>(FUZZ_RECORD_BASE + FUZZ_FINDING, code);
  store<f64>(FUZZ_RECORD_BASE + FUZZ_DETAIL, detail);
}

// @ts-ignore: decorator
@inline function host(q: u32): HostQueue {
  return changetype<HostQueue>(FUZZ_RECORD_BASE + FUZZ_HOST_OFFSET + q * HOST_QUEUE_BYTES);
}

// ---- setup ------------------------------------------------------------------------------

function capability(id: u32): u32 {
  let p = configPeek(fn_, 0x34, 1) & 0xFC;
  for (let guard = 0; p != 0 && guard < 48; guard++) {
    if (configPeek(fn_, p, 1) == id) return p;
    p = configPeek(fn_, p + 1, 1) & 0xFC;
  }
  return 0;
}

function snapshotCounters(): void {
  msiSentBefore = coreCounter(C_MSI_SENT);
  intxBefore = coreCounter(C_INTX_ASSERTS);
  transfersBefore = coreCounter(C_DMA_TRANSFERS);
  readBytesBefore = coreCounter(C_DMA_READ_BYTES);
  writeBytesBefore = coreCounter(C_DMA_WRITE_BYTES);
  abortsBefore = coreCounter(C_MASTER_ABORTS);
  errorsBefore = coreCounter(C_DEVICE_ERRORS);
  iommuBefore = iommuFaults();
}

/**
 * Starts a fuzz run against function `fn`, whose BAR0 is (or will be put) at `bar0`
 * (bus address), on a machine with `ramSize` bytes of RAM from address 0; the stream
 * comes from `seed` (exact below 2^53). Clears the record; the function is programmed
 * (BAR0, memory and bus-master decode) by the first operations.
 */
export function fuzzStart(fn: u32, bar0: f64, ramSize: f64, seed: f64): void {
  memory.fill(FUZZ_RECORD_BASE, 0, FUZZ_HOST_OFFSET + FUZZ_HOST_QUEUES * HOST_QUEUE_BYTES);
  fn_ = fn;
  const f = pciFunction(fn);
  model = f.model;
  barBase = <u64>bar0;
  barSize = f.barSize0;
  ramBytes = <u64>ramSize;
  let s = <u64>seed;
  r0 = splitmix(s); s += 0x9E3779B97F4A7C15;
  r1 = splitmix(s); s += 0x9E3779B97F4A7C15;
  r2 = splitmix(s); s += 0x9E3779B97F4A7C15;
  r3 = splitmix(s);
  identity = configPeek(fn, 0, 4);
  msiCap = capability(0x05);
  msixCap = capability(0x11);
  pmCap = capability(0x01);
  gsi = intxGsi(fn);
  lastNow = core.nowPs;
  lastEn = 0; enSincePs = core.nowPs; lastRdy = 0; lastShst = 0; lastD3 = false;
  sequence = 0;
  if (model == DEVICE_MODEL_NVME) {
    const cap = nvmeRead(fn, 0, 8);
    dstrd = <u32>(cap >> 32) & 0xF;
    timeoutPs = ((cap >> 24) & 0xFF) * 500_000_000_000;
  }
  programBar();
  snapshotCounters();
}

// ---- operations -------------------------------------------------------------------------

function cpuWrite(pa: u64, size: u32, value: u64): void {
  busCpuWrite(cpuState(0), pa, size, value);
}

function cpuRead(pa: u64, size: u32): u64 {
  return busCpuRead(cpuState(0), pa, size);
}

function configWrite(offset: u32, size: u32, value: u32): void {
  // Configuration writes are non-posted: the core catches up to the CPU first, as the bus does.
  catchUp();
  deliverConfigWrite(fn_, size, offset, value);
  bump(FZ_CONFIG_WRITES);
}

/** Puts BAR0 back at its base with memory decode and bus mastering on, in D0. */
function programBar(): void {
  configWrite(0x10, 4, <u32>barBase);
  if ((pciFunction(fn_).barFlags0 & BAR_FLAG_64BIT) != 0) configWrite(0x14, 4, <u32>(barBase >> 32));
  if (pmCap != 0) configWrite(pmCap + PM_PMCSR, 2, 0);
  configWrite(0x04, 2, 0x6);
}

/** Runs the core to the CPU's clock (what a non-posted access does). */
function catchUp(): void {
  const s = cpuState(0);
  const t = <u64>s.localTimePs;
  if (t > core.nowPs) runUntil(t, false);
  else s.localTimePs = <f64>core.nowPs;
}

function advance(ps: u64): void {
  const s = cpuState(0);
  const from = <u64>s.localTimePs > core.nowPs ? <u64>s.localTimePs : core.nowPs;
  runUntil(from + ps, false);
  s.localTimePs = <f64>core.nowPs;
  bump(FZ_TIME_ADVANCES);
}

const SIZES: u32 = 0x08040201; // 1, 2, 4, 8 packed in bytes

function randomSize(): u32 {
  return (SIZES >> (below(4) << 3)) & 0xFF;
}

function randomValue(): u64 {
  const k = below(8);
  if (k == 0) return 0;
  if (k == 1) return 0xFFFFFFFFFFFFFFFF;
  if (k == 2) return <u64>below(64);
  if (k == 3) return <u64>1 << (<u64>below(64));
  return next();
}

/** A register offset: mostly where the device decodes something, sometimes anywhere or past the BAR. */
function randomOffset(): u64 {
  const k = below(16);
  if (k < 8) return <u64>below(model == DEVICE_MODEL_NVME ? 0x40 : 0xA0);
  if (k < 10 && model == DEVICE_MODEL_NVME) return 0x1000 + <u64>below(0x100);
  if (k < 12 && msixCap != 0) return <u64>functionMsix(fn_).tableOffset + <u64>below(0x100);
  if (k < 14) return <u64>below(<u32>barSize);
  if (k == 14) return barSize - 8 + <u64>below(16);
  return next() & 0xFFFFFFFF;
}

function mmioAccess(write: bool): void {
  const size = randomSize();
  let offset = randomOffset();
  if (below(4) != 0) offset &= ~<u64>(size - 1);
  if ((offset & <u64>(size - 1)) != 0) bump(FZ_MMIO_UNALIGNED);
  if (offset + size > barSize) bump(FZ_MMIO_OUT_OF_RANGE);
  const pa = barBase + offset;
  if (write) { cpuWrite(pa, size, randomValue()); bump(FZ_MMIO_WRITES); }
  else { cpuRead(pa, size); bump(FZ_MMIO_READS); }
}

/** A DMA target: RAM (aligned or not), across its end, past it, MMIO, the interrupt window, or anything. */
function randomAddress(): u64 {
  const k = below(20);
  if (k < 8) return (<u64>below(<u32>(ramBytes >> 12)) << 12);
  if (k < 11) return <u64>below(<u32>ramBytes);
  if (k < 13) return ramBytes - <u64>below(0x2000);
  if (k == 13) return ramBytes + <u64>below(0x100000);
  if (k == 14) return barBase + <u64>below(<u32>barSize);
  if (k == 15) return LAPIC_WINDOW_BASE + <u64>below(0x1000);
  if (k == 16) return platform.ecamBase + <u64>below(0x100000);
  if (k == 17) return 0xFFFFFFFFFFFFF000 + <u64>below(0x1000);
  return next();
}

function randomConfigWrite(): void {
  const k = below(12);
  if (k == 0) { configWrite(0x04, 2, below(0x800)); return; }
  if (k == 1) { configWrite(0x10, 4, <u32>next()); bump(FZ_BAR_MOVES); return; }
  if (k == 2 && msiCap != 0) {
    configWrite(msiCap + MSI_ADDRESS_LO, 4, below(4) == 0 ? <u32>next() : <u32>LAPIC_WINDOW_BASE | (below(2) << 12));
    configWrite(msiCap + 0x08, 4, below(8) == 0 ? <u32>next() : 0);
    configWrite(msiCap + 0x0C, 2, below(8) == 0 ? below(0x10000) : 0x30 + below(0xC0));
    return;
  }
  if (k == 3 && msiCap != 0) { configWrite(msiCap + MSI_CONTROL, 2, below(0x10000)); return; }
  if (k == 4 && msixCap != 0) { configWrite(msixCap + MSIX_CONTROL, 2, below(0x10000)); return; }
  if (k == 5 && pmCap != 0) { configWrite(pmCap + PM_PMCSR, 2, below(4) == 0 ? 3 : below(0x10000)); return; }
  if (k == 6) { configWrite(0x3C, 1, below(256)); return; }
  if (k == 7) {
    const size = randomSize();
    const s = size > 4 ? 4 : size;
    configWrite(below(0x1000) & ~(s - 1), s, <u32>next());
    return;
  }
  configRestore();
}

/** Back to a working configuration (BAR, decode, D0), with one interrupt mode picked. */
function configRestore(): void {
  programBar();
  const mode = below(3);
  if (msiCap != 0) {
    configWrite(msiCap + MSI_ADDRESS_LO, 4, <u32>LAPIC_WINDOW_BASE | (below(2) << 12));
    configWrite(msiCap + 0x08, 4, 0);
    configWrite(msiCap + 0x0C, 2, 0x30 + below(0xC0));
    configWrite(msiCap + MSI_CONTROL, 2, mode == 0 ? 1 : 0);
  }
  if (msixCap != 0) configWrite(msixCap + MSIX_CONTROL, 2, mode == 1 ? 0x8000 : 0);
  if (mode == 2) configWrite(0x04, 2, 0x6);
}

/** Programs MSI-X table entry `v` through BAR0 (address, data, unmasked or not). */
function msixEntry(): void {
  if (msixCap == 0) return;
  const m = functionMsix(fn_);
  const vectors = pciFunction(fn_).msixVectors;
  const at = barBase + <u64>m.tableOffset + <u64>(below(vectors) * MSIX_ENTRY_BYTES);
  cpuWrite(at, 4, <u64>LAPIC_WINDOW_BASE | (<u64>below(2) << 12));
  cpuWrite(at + 4, 4, 0);
  cpuWrite(at + 8, 4, 0x30 + <u64>below(0xC0));
  cpuWrite(at + 12, 4, below(4) == 0 ? 1 : 0);
}

function ioapicProgram(): void {
  if (gsi >= 24) return;
  const base = IOAPIC_MMIO_BASE;
  cpuWrite(base + IOAPIC_IOREGSEL, 4, IOAPIC_REG_REDIRECTION + 2 * gsi);
  // Level-triggered, active low as PCI INTx is, a random vector; masked now and then.
  cpuWrite(base + IOAPIC_IOWIN, 4, (0x30 + <u64>below(0xC0)) | (1 << 15) | (1 << 13) | (below(8) == 0 ? <u64>1 << 16 : 0));
  cpuWrite(base + IOAPIC_IOREGSEL, 4, IOAPIC_REG_REDIRECTION + 2 * gsi + 1);
  cpuWrite(base + IOAPIC_IOWIN, 4, <u64>below(2) << 24);
}

function iommuProgram(): void {
  if (!iommuPresent()) return;
  const base = IOMMU_MMIO_BASE;
  const k = below(4);
  if (k == 0) { cpuWrite(base + IOMMU_RTADDR, 8, randomAddress() & ~<u64>0xFFF); cpuWrite(base + IOMMU_GCMD, 4, IOMMU_SRTP); }
  else if (k == 1) cpuWrite(base + IOMMU_GCMD, 4, IOMMU_TE);
  else if (k == 2) cpuWrite(base + IOMMU_GCMD, 4, 0);
  else cpuWrite(base + <u64>(below(0x280) & ~3), 4, <u64>(<u32>next()));
}

// ---- edu --------------------------------------------------------------------------------

function eduOperation(): void {
  const k = below(8);
  if (k < 4) {
    // A DMA descriptor: device side mostly inside the buffer, RAM side anywhere.
    const toRam = below(2);
    const deviceSide = below(4) == 0 ? randomAddress() : 0x40000 + <u64>below(0x1100);
    const ramSide = randomAddress();
    const n = below(4) == 0 ? next() & 0xFFFFF : <u64>below(0x1001);
    cpuWrite(barBase + 0x80, below(2) == 0 ? 8 : 4, toRam != 0 ? deviceSide : ramSide);
    cpuWrite(barBase + 0x88, 8, toRam != 0 ? ramSide : deviceSide);
    cpuWrite(barBase + 0x90, 8, n);
    cpuWrite(barBase + 0x98, 4, 1 | (<u64>toRam << 1) | (<u64>below(2) << 2) | (below(8) == 0 ? next() & 0xF8 : 0));
    bump(FZ_COMMANDS);
  } else if (k == 4) {
    cpuWrite(barBase + 0x20, 4, below(2) == 0 ? 0x80 : <u64>(<u32>next()));
    cpuWrite(barBase + 0x08, 4, <u64>below(40));
    bump(FZ_COMMANDS);
  } else if (k == 5) {
    cpuWrite(barBase + 0x60, 4, below(2) == 0 ? 0x100 : <u64>(<u32>next()));
  } else if (k == 6) {
    cpuWrite(barBase + 0x64, 4, below(2) == 0 ? <u64>(eduRead(fn_, 0x24, 4)) : <u64>(<u32>next()));
  } else {
    const v = <u32>next();
    cpuWrite(barBase + 0x04, 4, v);
    cpuRead(barBase + 0x04, 4);
  }
}

function eduCheck(): void {
  const id = <u32>eduRead(fn_, 0x00, 4);
  if (id != EDU_ID_VALUE) { find(FUZZ_FINDING_EDU_IDENTIFICATION, <f64>id); return; }
  const status = <u32>eduRead(fn_, 0x20, 4);
  if ((status & ~0x81) != 0) { find(FUZZ_FINDING_EDU_STATUS, <f64>status); return; }
  const command = <u32>eduRead(fn_, 0x98, 4);
  if (((status & 1) != 0 || (command & 1) != 0) && core.eventCount == 0) find(FUZZ_FINDING_EDU_STUCK, <f64>(<u64>status | (<u64>command << 32)));
}

// ---- NVMe -------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function doorbellAt(index: u32): u64 {
  return barBase + 0x1000 + (<u64>index << (2 + dstrd));
}

function nvmeEnable(): void {
  const bar = barBase;
  cpuWrite(bar + 0x14, 4, 0);
  advance(1_000_000 + <u64>below(10_000_000));
  for (let q: u32 = 0; q < FUZZ_HOST_QUEUES; q++) { host(q).sqLive = 0; host(q).cqLive = 0; }
  const sqSize = 2 + below(31);
  const cqSize = 2 + below(31);
  const admin = host(0);
  admin.sqBase = ADMIN_SQ_BASE; admin.cqBase = ADMIN_CQ_BASE;
  admin.sqSize = sqSize; admin.cqSize = cqSize;
  admin.sqTail = 0; admin.cqHead = 0; admin.cqPhase = 1;
  admin.sqLive = 1; admin.cqLive = 1;
  clearRam(ADMIN_CQ_BASE, cqSize * 16);
  cpuWrite(bar + 0x24, 4, <u64>(sqSize - 1) | (<u64>(cqSize - 1) << 16));
  cpuWrite(bar + 0x28, 8, below(16) == 0 ? randomAddress() : ADMIN_SQ_BASE);
  cpuWrite(bar + 0x30, 8, below(16) == 0 ? randomAddress() : ADMIN_CQ_BASE);
  // IOSQES 6, IOCQES 4, EN; a random CC now and then.
  cpuWrite(bar + 0x14, 4, below(16) == 0 ? <u64>(<u32>next()) : (6 << 16) | (4 << 20) | 1);
}

function clearRam(base: u64, bytes: u32): void {
  for (let i: u32 = 0; i < bytes; i += 8) ramStoreSpan(base + i, 8, 0);
}

/** Writes a submission entry at queue `q`'s tail and rings its doorbell. */
function submit(q: u32, dw0: u32, nsid: u32, prp1: u64, prp2: u64, cdw10: u32, cdw11: u32, cdw12: u32): void {
  const h = host(q);
  if (h.sqLive == 0 || h.sqSize == 0) return;
  const e = h.sqBase + <u64>h.sqTail * 64;
  ramStoreSpan(e, 4, dw0);
  ramStoreSpan(e + 4, 4, nsid);
  ramStoreSpan(e + 8, 8, below(16) == 0 ? next() : 0);
  ramStoreSpan(e + 16, 8, below(16) == 0 ? next() : 0);
  ramStoreSpan(e + 24, 8, prp1);
  ramStoreSpan(e + 32, 8, prp2);
  ramStoreSpan(e + 40, 4, cdw10);
  ramStoreSpan(e + 44, 4, cdw11);
  ramStoreSpan(e + 48, 4, cdw12);
  ramStoreSpan(e + 52, 4, below(8) == 0 ? <u32>next() : 0);
  ramStoreSpan(e + 56, 8, below(8) == 0 ? next() : 0);
  h.sqTail = h.sqTail + 1 >= h.sqSize ? 0 : h.sqTail + 1;
  cpuWrite(doorbellAt(2 * q), 4, h.sqTail);
  bump(FZ_COMMANDS);
}

function commandId(tag: u32, q: u32): u32 {
  sequence = (sequence + 1) & 0xFF;
  return (sequence << 8) | (tag << 5) | (q & 0x1F);
}

function adminCommand(): void {
  const k = below(12);
  const q = 1 + below(FUZZ_HOST_QUEUES - 1);
  const h = host(q);
  if (k < 2) {
    const size = 2 + below(63);
    const base = below(16) == 0 ? randomAddress() : QUEUE_AREA + <u64>q * QUEUE_STRIDE + 0x2000;
    h.pendingCqSize = size; h.pendingCqBase = base;
    if (base + <u64>size * 16 <= ramBytes) clearRam(base, size * 16);
    const vector = below(8) == 0 ? below(0x10000) : below(4);
    submit(0, 0x05 | (commandId(TAG_CREATE_CQ, q) << 16), 0, base, 0, (<u32>(size - 1) << 16) | (below(16) == 0 ? below(0x10000) : q), (vector << 16) | below(4), 0);
  } else if (k < 4) {
    const size = 2 + below(63);
    const base = below(16) == 0 ? randomAddress() : QUEUE_AREA + <u64>q * QUEUE_STRIDE;
    h.pendingSqSize = size; h.pendingSqBase = base;
    const cqid = below(8) == 0 ? below(0x10000) : q;
    submit(0, 0x01 | (commandId(TAG_CREATE_SQ, q) << 16), 0, base, 0, (<u32>(size - 1) << 16) | q, (cqid << 16) | (below(8) << 1) | 1, 0);
  } else if (k == 4) {
    submit(0, 0x00 | (commandId(TAG_DELETE_SQ, q) << 16), 0, 0, 0, below(8) == 0 ? below(0x10000) : q, 0, 0);
  } else if (k == 5) {
    submit(0, 0x04 | (commandId(TAG_DELETE_CQ, q) << 16), 0, 0, 0, below(8) == 0 ? below(0x10000) : q, 0, 0);
  } else if (k == 6) {
    submit(0, 0x06 | (commandId(TAG_OTHER, 0) << 16), below(4), randomAddress(), randomAddress(), below(4), 0, 0);
  } else if (k == 7) {
    const fid = below(4) == 0 ? below(256) : 7 + below(5);
    submit(0, (below(2) == 0 ? 0x09 : 0x0A) | (commandId(TAG_OTHER, 0) << 16), 0, randomAddress(), 0, fid, <u32>next(), 0);
  } else if (k == 8) {
    submit(0, 0x02 | (commandId(TAG_OTHER, 0) << 16), 0xFFFFFFFF, randomAddress(), randomAddress(), below(8) | (below(256) << 16), 0, 0);
  } else if (k == 9) {
    submit(0, 0x08 | (commandId(TAG_OTHER, 0) << 16), 0, 0, 0, (below(0x10000) << 16) | below(FUZZ_HOST_QUEUES), 0, 0);
  } else if (k == 10) {
    submit(0, 0x0C | (commandId(TAG_OTHER, 0) << 16), 0, 0, 0, 0, 0, 0);
  } else {
    submit(0, <u32>next(), <u32>next(), randomAddress(), randomAddress(), <u32>next(), <u32>next(), <u32>next());
  }
}

function ioCommand(): void {
  const q: u32 = 1 + below(FUZZ_HOST_QUEUES - 1);
  if (host(q).sqLive == 0) return;
  const k = below(8);
  const lba = below(8) == 0 ? next() : <u64>below(4096);
  const blocks = below(8) == 0 ? below(0x10000) : below(16);
  const prp1 = below(4) == 0 ? randomAddress() : (<u64>below(<u32>(ramBytes >> 12)) << 12) + (below(4) == 0 ? <u64>(below(1024) << 2) : 0);
  const prp2 = randomAddress();
  const opcode = k < 3 ? 0x02 : k < 6 ? 0x01 : k == 6 ? 0x00 : below(256);
  submit(q, opcode | (commandId(TAG_OTHER, q) << 16), below(8) == 0 ? <u32>next() : 1, prp1, prp2, <u32>lba, <u32>(lba >> 32), blocks | (below(4) == 0 ? 1 << 30 : 0));
}

function countStatus(status: u32): void {
  const sc = status & 0xFF;
  const sct = (status >> 8) & 7;
  if (sct == 0) bump(sc < 16 ? FZ_STATUS_BASE + sc : sc == 0x80 ? FZ_STATUS_LBA_RANGE : FZ_STATUS_GENERIC_OTHER);
  else if (sct == 1 && sc < 14) bump(FZ_STATUS_COMMAND_BASE + sc);
  else bump(FZ_STATUS_OTHER);
}

function adminCompleted(cid: u32, status: u32): void {
  const tag = (cid >> 5) & 7;
  const q = cid & 0x1F;
  if (q == 0 || q >= FUZZ_HOST_QUEUES || (status & 0x7FF) != 0) return;
  const h = host(q);
  if (tag == TAG_CREATE_CQ) {
    h.cqBase = h.pendingCqBase; h.cqSize = h.pendingCqSize; h.cqHead = 0; h.cqPhase = 1; h.cqLive = 1;
    bump(FZ_QUEUES_CREATED);
  } else if (tag == TAG_CREATE_SQ) {
    h.sqBase = h.pendingSqBase; h.sqSize = h.pendingSqSize; h.sqTail = 0; h.sqLive = 1;
    bump(FZ_QUEUES_CREATED);
  } else if (tag == TAG_DELETE_SQ) h.sqLive = 0;
  else if (tag == TAG_DELETE_CQ) h.cqLive = 0;
}

/** Consumes what completion queue `q` holds (by phase tag) and rings its head doorbell. */
function reap(q: u32): void {
  const h = host(q);
  if (h.cqLive == 0 || h.cqSize == 0) return;
  let n: u32 = 0;
  while (n < h.cqSize) {
    const dw3 = <u32>ramLoadSpan(h.cqBase + <u64>h.cqHead * 16 + 12, 4);
    if (((dw3 >> 16) & 1) != h.cqPhase) break;
    const status = dw3 >> 17;
    countStatus(status);
    bump(FZ_COMPLETIONS);
    if (q == 0) adminCompleted(dw3 & 0xFFFF, status);
    h.cqHead++;
    if (h.cqHead >= h.cqSize) { h.cqHead = 0; h.cqPhase ^= 1; }
    n++;
  }
  if (n != 0) cpuWrite(doorbellAt(2 * q + 1), 4, h.cqHead);
}

function nvmeOperation(): void {
  const k = below(128);
  if (k == 0 || (lastRdy == 0 && k < 8)) nvmeEnable();
  else if (k == 1) cpuWrite(barBase + 0x14, 4, (<u64>nvmeRead(fn_, 0x14, 4) & ~(<u64>3 << 14)) | (<u64>(1 + below(2)) << 14));
  else if (k < 42) adminCommand();
  else if (k < 82) ioCommand();
  else if (k < 112) { for (let q: u32 = 0; q < FUZZ_HOST_QUEUES; q++) reap(q); }
  else if (k < 118) {
    // A doorbell at a random queue with a random (often out-of-range) value.
    cpuWrite(doorbellAt(below(2 * FUZZ_HOST_QUEUES + 4)), 4, below(2) == 0 ? <u64>below(80) : <u64>(<u32>next()));
    bump(FZ_DOORBELLS);
  } else if (k < 122) cpuWrite(barBase + (below(2) == 0 ? 0x0C : 0x10), 4, <u64>below(16));
  else msixEntry();
}

function nvmeCheck(op: u64): void {
  const cc = <u32>nvmeRead(fn_, 0x14, 4);
  const csts = <u32>nvmeRead(fn_, 0x1C, 4);
  const en = cc & 1;
  const rdy = csts & 1;
  if (en != lastEn) {
    if (lastEn != 0) bump(FZ_RESETS);
    lastEn = en;
    enSincePs = core.nowPs;
  }
  if (rdy != lastRdy) { if (rdy != 0) bump(FZ_READY); lastRdy = rdy; }
  const shst = (csts >> 2) & 3;
  if (shst != lastShst) { if (shst == 2) bump(FZ_SHUTDOWNS); lastShst = shst; }
  if (en == 0 && rdy != 0) { find(FUZZ_FINDING_NVME_READY_WITHOUT_ENABLE, <f64>csts); return; }
  if (en != 0 && rdy == 0 && (csts & 2) == 0 && core.nowPs - enSincePs > timeoutPs) {
    find(FUZZ_FINDING_NVME_READY_TIMEOUT, <f64>(core.nowPs - enSincePs));
    return;
  }
  if ((op & 63) != 0) return;
  const s = nvmeState(fn_);
  for (let q: u32 = 0; q < s.queueCount; q++) {
    const sq = sqAt(s, q);
    if (sq.valid != 0 && (sq.head >= sq.size || sq.tail >= sq.size)) { find(FUZZ_FINDING_NVME_QUEUE_POINTER, <f64>q); return; }
    const cq = cqAt(s, q);
    if (cq.valid != 0 && (cq.head >= cq.size || cq.tail >= cq.size || cq.phase > 1)) { find(FUZZ_FINDING_NVME_QUEUE_POINTER, <f64>(q | 0x10000)); return; }
  }
  if (s.freeCount > s.slotCount) find(FUZZ_FINDING_NVME_SLOTS, <f64>s.freeCount);
}

// ---- the loop ---------------------------------------------------------------------------

function acceptInterrupts(): void {
  for (let cpu: u32 = 0; cpu < core.cpuCount && cpu < 2; cpu++) {
    for (let guard = 0; guard < 8; guard++) {
      const v = apicAccept(cpu);
      if (v == 0) break;
      bump(FZ_IRQ_ACCEPTED);
      ioapicEoi(v);
    }
  }
}

function attribute(): void {
  const msi = coreCounter(C_MSI_SENT);
  if (msi != msiSentBefore) { bump(msixEnabled(fn_) ? FZ_IRQ_MSIX : FZ_IRQ_MSI, msi - msiSentBefore); msiSentBefore = msi; }
  const intx = coreCounter(C_INTX_ASSERTS);
  if (intx != intxBefore) { bump(FZ_IRQ_INTX, intx - intxBefore); intxBefore = intx; }
  const transfers = coreCounter(C_DMA_TRANSFERS);
  if (transfers != transfersBefore) { bump(FZ_DMA_TRANSFERS, transfers - transfersBefore); transfersBefore = transfers; }
  const rb = coreCounter(C_DMA_READ_BYTES);
  if (rb != readBytesBefore) { bump(FZ_DMA_READ_BYTES, rb - readBytesBefore); readBytesBefore = rb; }
  const wb = coreCounter(C_DMA_WRITE_BYTES);
  if (wb != writeBytesBefore) { bump(FZ_DMA_WRITE_BYTES, wb - writeBytesBefore); writeBytesBefore = wb; }
  const ab = coreCounter(C_MASTER_ABORTS);
  if (ab != abortsBefore) { bump(FZ_MASTER_ABORTS, ab - abortsBefore); abortsBefore = ab; }
  const de = coreCounter(C_DEVICE_ERRORS);
  if (de != errorsBefore) { bump(FZ_DEVICE_ERRORS, de - errorsBefore); errorsBefore = de; }
  const io = iommuFaults();
  if (io != iommuBefore) { bump(FZ_IOMMU_FAULTS, <f64>(io - iommuBefore)); iommuBefore = io; }
  if (pmCap != 0) {
    const d3 = (configPeek(fn_, pmCap + PM_PMCSR, 2) & 3) == 3;
    if (d3 != lastD3) {
      if (d3) bump(FZ_D3_ENTRIES);
      lastD3 = d3;
    }
  }
}

function check(op: u64): void {
  if (core.nowPs < lastNow) { find(FUZZ_FINDING_TIME_BACKWARDS, <f64>lastNow); return; }
  lastNow = core.nowPs;
  if (core.eventCount != 0 && core.nextEventPs < core.nowF64) { find(FUZZ_FINDING_EVENT_IN_PAST, core.nextEventPs); return; }
  if (core.fault != 0) { find(FUZZ_FINDING_CORE_FAULT, <f64>core.fault); return; }
  const id = configPeek(fn_, 0, 4);
  if (id != identity) { find(FUZZ_FINDING_IDENTITY, <f64>id); return; }
  if (model == DEVICE_MODEL_EDU) eduCheck();
  else if (model == DEVICE_MODEL_NVME) nvmeCheck(op);
}

/** Operations per epoch: each epoch is calm (mostly well-formed traffic) or wild (anything goes). */
const EPOCH_OPS: u64 = 1024;
let wild: bool = false;

function operation(index: u64): void {
  if (index % EPOCH_OPS == 0) {
    // Swarm testing: a quarter of the epochs throw anything; the others keep the device
    // working (decoding, in D0, enabled) so deep paths (DMA, queues, completions) are reached.
    wild = below(4) == 0;
    if (!wild) {
      programBar();
      if (iommuPresent()) cpuWrite(IOMMU_MMIO_BASE + IOMMU_GCMD, 4, 0);
      if (model == DEVICE_MODEL_NVME && (nvmeRead(fn_, 0x1C, 4) & 1) == 0) nvmeEnable();
    }
  }
  const k = below(100);
  if (wild) {
    if (k < 22) mmioAccess(true);
    else if (k < 36) mmioAccess(false);
    else if (k < 42) randomConfigWrite();
    else if (k < 50) advanceRandom();
    else if (k < 52) ioapicProgram();
    else if (k < 54) iommuProgram();
    else deviceOperation();
    return;
  }
  if (k < 2) mmioAccess(true);
  else if (k < 10) mmioAccess(false);
  else if (k < 25) advanceRandom();
  else if (k < 26) ioapicProgram();
  else if (k < 27) configRestore();
  else deviceOperation();
}

function deviceOperation(): void {
  if (model == DEVICE_MODEL_EDU) eduOperation();
  else if (model == DEVICE_MODEL_NVME) nvmeOperation();
}

function advanceRandom(): void {
  // Mostly short steps (nanoseconds to microseconds), now and then milliseconds.
  const scale = below(10);
  advance(scale < 9 ? <u64>below(1_000_000 << scale) : <u64>below(20_000_000) * 1000);
}

/**
 * Runs `ops` more operations of the run fuzzStart began. Returns the finding (FUZZ_FINDING_*)
 * that stopped it, or 0; the record holds the operation index, the detail and the coverage.
 */
export function fuzzRun(ops: f64): u32 {
  const at = FUZZ_RECORD_BASE + FUZZ_OP_INDEX;
  let index = <u64>load<f64>(at);
  const end = index + <u64>ops;
  while (index < end) {
    store<f64>(at, <f64>index);
    operation(index);
    acceptInterrupts();
    attribute();
    check(index);
    const finding = load<u32>(FUZZ_RECORD_BASE + FUZZ_FINDING);
    if (finding != 0) return finding;
    index++;
  }
  store<f64>(at, <f64>index);
  return 0;
}
