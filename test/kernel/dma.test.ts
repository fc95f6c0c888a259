// DMA adapters (shared/specs/nt-semantics.md "DMA (HAL)", the WDK's DMA_OPERATIONS and
// Bug Check 0xE6): IoGetDmaAdapter and map registers, scatter/gather lists whose execution
// routine runs at DISPATCH_LEVEL, logical == physical for reachable pages without an IOMMU,
// bounce buffers for pages above a device's address width (copied in before a write to the
// device, out after a read from it), IOVAs under an IOMMU that stop working once the list
// is put back, packet DMA with adapter channels, and the verifier's DMA checks.
// The device doing the DMA is QEMU's edu (28 address bits), driven through its registers.
import { describe, expect, it } from "vitest";
import {
  type Machine, type MDL, type DMA_ADAPTER, type SCATTER_GATHER_LIST, type MAP_REGISTER_BASE,
  DEVICE_DESCRIPTION, DEVICE_DESCRIPTION_VERSION3, IoGetDmaAdapter, IoAllocateMdl, IoFreeMdl, MmBuildMdlForNonPagedPool,
  MmAllocateContiguousMemorySpecifyCache, MmFreeContiguousMemory, MmGetPhysicalAddress, MEMORY_CACHING_TYPE, ExAllocatePoolWithTag, POOL_TYPE,
  READ_REGISTER_ULONG, WRITE_REGISTER_ULONG, WRITE_REGISTER_ULONG64, KeStallExecutionProcessor, KeGetCurrentIrql, KeRaiseIrql, KeLowerIrql,
  readBytes, writeBytes, readU32, readU64, STATUS_SUCCESS, STATUS_BUFFER_TOO_SMALL, STATUS_INSUFFICIENT_RESOURCES, DISPATCH_LEVEL, PASSIVE_LEVEL,
  IO_ALLOCATION_ACTION, SCATTER_GATHER_LIST_HEADER_SIZE, SCATTER_GATHER_ELEMENT_SIZE, DRIVER_VERIFIER_DMA_VIOLATION,
  DMA_FREED_TOO_MANY_SCATTER_GATHER_LISTS, DMA_IMPROPER_IRQL, DMA_IRQL_DIFFERENT, DMA_IRQL_HIGHER, DMA_OUTSTANDING_COMMON_BUFFERS,
  DMA_TOO_MANY_ADAPTER_CHANNELS, DMA_ADDRESS_OUTSIDE_MDL, DMA_BUFFER_NOT_LOCKED, DMA_ADAPTER_RELEASED, loadMachine, Machine as MachineClass,
} from "../../src/index.js";
import { boot } from "../../src/pnp/boot.js";
import { KeDelayExecutionThread, KPROCESSOR_MODE } from "../../src/index.js";
import { HAL } from "../../src/hal/hal.js";
import { DMA_IOMMU_DETECTED_VIOLATION } from "../../src/hal/iommu.js";
import { SG_LIST_QUARANTINE } from "../../src/hal/scatter-gather.js";
import { EDU_DEVICE_EXTENSION } from "../../src/drivers/edu/driver.js";
import * as HW from "../../src/drivers/edu/hw.js";
import { bugCheckOf, expectBugCheck, kernelOf, eduExtension } from "../support/kernel-harness.js";

const MiB = 2 ** 20;
/** The edu device drives 28 address bits: it reaches the first 256 MiB. */
const EDU_REACH = 2 ** HW.EDU_DMA_ADDRESS_BITS;

/** Boots the default machine with `memoryMiB` of RAM and, optionally, an IOMMU. */
async function bootWith(memoryMiB: number, iommu = false, verifier = true): Promise<Machine> {
  const d = loadMachine("default");
  d.memory = [{ base: 0, size: memoryMiB * MiB }];
  if (iommu) d.iommu = { iotlbEntries: 64, missLatencyNs: 250 };
  d.kernel.verifier = verifier;
  return boot(MachineClass.fromDescription(d));
}

/** A description of a bus master with `bits` address bits (version 3). */
function description(bits: number, maximumLength = 64 * 1024): DEVICE_DESCRIPTION {
  const d = new DEVICE_DESCRIPTION();
  d.Version = DEVICE_DESCRIPTION_VERSION3;
  d.Master = true;
  d.ScatterGather = true;
  d.DmaAddressWidth = bits;
  d.MaximumLength = maximumLength;
  return d;
}

/** Runs one edu DMA between its buffer (at `deviceOffset`) and logical address `logical`, and waits for it. */
function eduDma(ext: EDU_DEVICE_EXTENSION, toRam: boolean, logical: number, deviceOffset: number, length: number): void {
  const device = HW.EDU_DMA_BUFFER_ADDRESS + deviceOffset;
  WRITE_REGISTER_ULONG64(ext.Registers + HW.EDU_REG_DMA_SOURCE, toRam ? device : logical);
  WRITE_REGISTER_ULONG64(ext.Registers + HW.EDU_REG_DMA_DESTINATION, toRam ? logical : device);
  WRITE_REGISTER_ULONG64(ext.Registers + HW.EDU_REG_DMA_COUNT, length);
  WRITE_REGISTER_ULONG(ext.Registers + HW.EDU_REG_DMA_COMMAND, HW.EDU_DMA_START | (toRam ? HW.EDU_DMA_TO_RAM : 0));
  while ((READ_REGISTER_ULONG(ext.Registers + HW.EDU_REG_DMA_COMMAND) & HW.EDU_DMA_START) !== 0) KeStallExecutionProcessor(1);
}

/** Nonpaged memory physically in [lowest, highest], and an MDL for `length` bytes of it from `offset`. */
function bufferIn(lowest: number, highest: number, offset: number, length: number): { va: number; mdl: MDL; free: () => void } {
  const base = MmAllocateContiguousMemorySpecifyCache(offset + length, lowest, highest, 0, MEMORY_CACHING_TYPE.MmCached);
  if (base === 0) throw new Error("no memory in range");
  const mdl = IoAllocateMdl(base + offset, length, false, false, null)!;
  MmBuildMdlForNonPagedPool(mdl);
  return { va: base + offset, mdl, free: () => { IoFreeMdl(mdl); MmFreeContiguousMemory(base); } };
}

function pattern(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed + i * 7) & 0xFF;
  return out;
}

/** Builds a scatter/gather list and returns what the execution routine saw. */
function getList(a: DMA_ADAPTER, ext: EDU_DEVICE_EXTENSION, mdl: MDL, va: number, length: number, writeToDevice: boolean) {
  const seen: { list: SCATTER_GATHER_LIST | null; irql: number; context: unknown } = { list: null, irql: -1, context: null };
  const status = a.DmaOperations.GetScatterGatherList(a, ext.Self, mdl, va, length, function ExecutionRoutine(_d, _irp, list, context) {
    seen.list = list;
    seen.irql = KeGetCurrentIrql();
    seen.context = context;
  }, "ctx", writeToDevice);
  return { status, ...seen };
}

/** PutScatterGatherList is called at DISPATCH_LEVEL. */
function putList(a: DMA_ADAPTER, list: SCATTER_GATHER_LIST, writeToDevice: boolean): void {
  const old = KeRaiseIrql(DISPATCH_LEVEL);
  a.DmaOperations.PutScatterGatherList(a, list, writeToDevice);
  KeLowerIrql(old);
}

describe("DMA adapters", () => {
  it("IoGetDmaAdapter gives one map register per page of a MaximumLength transfer plus one", async () => {
    const m = await bootWith(256);
    const ext = eduExtension(m);
    const counts = await m.exec(() => [4096, 64 * 1024, 100_000].map((len) => IoGetDmaAdapter(ext.PhysicalDeviceObject, description(64, len)).NumberOfMapRegisters));
    expect(counts).toEqual([2, 17, 26]);
  });

  it("GetScatterGatherList calls the execution routine at DISPATCH_LEVEL before returning, with logical == physical for reachable pages", async () => {
    const m = await bootWith(256);
    const ext = eduExtension(m);
    const r = await m.exec(() => {
      const { DmaAdapter: a } = IoGetDmaAdapter(ext.PhysicalDeviceObject, description(64));
      const buf = bufferIn(0, EDU_REACH - 1, 0x800, 0x2000);
      const got = getList(a!, ext, buf.mdl, buf.va, 0x2000, true);
      const physical = [0, 0x800, 0x1800].map((o) => MmGetPhysicalAddress(buf.va + o));
      const elements = got.list!.Elements.map((e) => ({ Address: e.Address, Length: e.Length }));
      putList(a!, got.list!, true);
      return { status: got.status, irql: got.irql, context: got.context, elements, physical, total: elements.reduce((n, e) => n + e.Length, 0), irqlAfter: KeGetCurrentIrql() };
    });
    expect(r.status).toBe(STATUS_SUCCESS);
    expect(r.irql).toBe(DISPATCH_LEVEL);
    expect(r.irqlAfter).toBe(PASSIVE_LEVEL);
    expect(r.context).toBe("ctx");
    expect(r.total).toBe(0x2000);
    // Contiguous memory: one element starting at the buffer's physical address.
    expect(r.elements).toEqual([{ Address: r.physical[0], Length: 0x2000 }]);
  });

  it("pages above a 28-bit device's reach go through bounce pages: data reaches the device and comes back only at PutScatterGatherList", async () => {
    const m = await bootWith(512);
    const ext = eduExtension(m);
    const r = await m.exec(() => {
      const { DmaAdapter: a } = IoGetDmaAdapter(ext.PhysicalDeviceObject, description(HW.EDU_DMA_ADDRESS_BITS));
      const out = bufferIn(EDU_REACH, 512 * MiB - 1, 0x100, 0x1000);
      const back = bufferIn(EDU_REACH, 512 * MiB - 1, 0x300, 0x1000);
      const data = pattern(3, 0x1000);
      writeBytes(out.va, data);
      writeBytes(back.va, new Uint8Array(0x1000));
      // To the device: the HAL copies the data into bounce pages the device can reach.
      const w = getList(a!, ext, out.mdl, out.va, 0x1000, true);
      const toDevice = w.list!.Elements.map((e) => ({ ...e }));
      let offset = 0;
      for (const e of toDevice) {
        eduDma(ext, false, e.Address, offset, e.Length);
        offset += e.Length;
      }
      putList(a!, w.list!, true);
      // From the device: it writes the bounce pages; the caller's buffer changes at PutScatterGatherList.
      const rd = getList(a!, ext, back.mdl, back.va, 0x1000, false);
      offset = 0;
      for (const e of rd.list!.Elements) {
        eduDma(ext, true, e.Address, offset, e.Length);
        offset += e.Length;
      }
      const beforePut = readBytes(back.va, 0x1000);
      putList(a!, rd.list!, false);
      const afterPut = readBytes(back.va, 0x1000);
      return { toDevice, outPhysical: MmGetPhysicalAddress(out.va), beforePut, afterPut, data };
    });
    expect(r.outPhysical).toBeGreaterThanOrEqual(EDU_REACH);
    for (const e of r.toDevice) expect(e.Address + e.Length).toBeLessThanOrEqual(EDU_REACH);
    expect(r.beforePut.every((b) => b === 0)).toBe(true);
    expect(r.afterPut).toEqual(r.data);
  });

  it("with an IOMMU the logical addresses are IOVAs mapped for the transfer, and DMA to them is blocked once the list is put back", async () => {
    // Without the verifier the IOMMU's fault is logged by the HAL, not a bug check.
    const m = await bootWith(256, true, false);
    const ext = eduExtension(m);
    const k = kernelOf(m);
    const r = await m.exec(() => {
      // Load the device's buffer with a pattern through the driver's (IOMMU-mapped) common buffer.
      const data = pattern(9, 0x1000);
      writeBytes(ext.CommonBuffer, data);
      eduDma(ext, false, ext.CommonBufferLogical, 0, 0x1000);
      const { DmaAdapter: a } = IoGetDmaAdapter(ext.PhysicalDeviceObject, description(HW.EDU_DMA_ADDRESS_BITS));
      const buf = bufferIn(0, EDU_REACH - 1, 0, 0x1000);
      writeBytes(buf.va, new Uint8Array(0x1000));
      const got = getList(a!, ext, buf.mdl, buf.va, 0x1000, false);
      const element = { ...got.list!.Elements[0] };
      eduDma(ext, true, element.Address, 0, 0x1000);
      const received = readBytes(buf.va, 0x1000);
      putList(a!, got.list!, false);
      writeBytes(buf.va, new Uint8Array(16));
      const errorsBefore = k.core.counters().deviceErrors;
      eduDma(ext, true, element.Address, 0, 16);
      return { data, element, physical: MmGetPhysicalAddress(buf.va), received, afterPut: readBytes(buf.va, 16), newErrors: k.core.counters().deviceErrors - errorsBefore };
    });
    expect(r.element.Address).not.toBe(r.physical);
    expect(r.element.Length).toBe(0x1000);
    expect(r.received).toEqual(r.data);
    // After PutScatterGatherList the IOVA is unmapped: the device's write faults and memory is untouched.
    expect(r.newErrors).toBeGreaterThan(0);
    expect(r.afterPut.every((b) => b === 0)).toBe(true);
    const faults = HAL(k).iommu!.faults;
    expect(faults).toHaveLength(1);
    expect(faults[0]).toMatchObject({ address: r.element.Address, write: true, reason: 5, device: ext.PhysicalDeviceObject.address });
  });

  it("under the verifier, DMA the IOMMU refuses is 0xE6 / 0x26 (P2 the device's PDO, P3 the faulting address, P4 the fault reason)", async () => {
    const m = await bootWith(256, true);
    const ext = eduExtension(m);
    let iova = 0;
    const bc = await bugCheckOf(m.exec(async () => {
      const { DmaAdapter: a } = IoGetDmaAdapter(ext.PhysicalDeviceObject, description(HW.EDU_DMA_ADDRESS_BITS));
      const buf = bufferIn(0, EDU_REACH - 1, 0, 0x1000);
      const got = getList(a!, ext, buf.mdl, buf.va, 0x1000, false);
      iova = got.list!.Elements[0].Address;
      putList(a!, got.list!, false);
      eduDma(ext, true, iova, 0, 16);
      await KeDelayExecutionThread(KPROCESSOR_MODE.KernelMode, false, -10_000n);
    }));
    // P4 5: write to a page without Write permission (the IOMMU's fault reason).
    expectBugCheck(bc, DRIVER_VERIFIER_DMA_VIOLATION, DMA_IOMMU_DETECTED_VIOLATION, ext.PhysicalDeviceObject.address, iova, 5);
  });

  it("with an IOMMU the edu driver's common buffer has an IOVA as its logical address and the driver still works", async () => {
    const m = await bootWith(256, true);
    const ext = eduExtension(m);
    const physical = await m.exec(() => MmGetPhysicalAddress(ext.CommonBuffer));
    expect(ext.CommonBufferLogical).not.toBe(physical);
    expect(ext.CommonBufferLogical).toBeLessThan(EDU_REACH);
    const { runEduWorkload } = await import("../../src/workloads/edu.js");
    const result = await runEduWorkload(m, { factorials: 1, dmaRoundTrips: 4, livenessChecks: 1, fileRoundTrips: 1 });
    expect(result.ok).toBe(true);
  });

  it("a request that needs map registers another list holds waits, and runs when PutScatterGatherList frees them", async () => {
    const m = await bootWith(512);
    const ext = eduExtension(m);
    const order = await m.exec(() => {
      // Two pages of map registers: one two-page list takes them all.
      const { DmaAdapter: a } = IoGetDmaAdapter(ext.PhysicalDeviceObject, description(HW.EDU_DMA_ADDRESS_BITS, 4096));
      const one = bufferIn(EDU_REACH, 512 * MiB - 1, 0x800, 0x1000);
      const two = bufferIn(EDU_REACH, 512 * MiB - 1, 0x800, 0x1000);
      const events: string[] = [];
      let first: SCATTER_GATHER_LIST | null = null;
      a!.DmaOperations.GetScatterGatherList(a!, ext.Self, one.mdl, one.va, 0x1000, function First(_d, _i, list) {
        events.push("first");
        first = list;
      }, null, true);
      let second: SCATTER_GATHER_LIST | null = null;
      const status = a!.DmaOperations.GetScatterGatherList(a!, ext.Self, two.mdl, two.va, 0x1000, function Second(_d, _i, list) {
        events.push(`second at IRQL ${KeGetCurrentIrql()}`);
        second = list;
      }, null, true);
      events.push(`returned ${status === STATUS_SUCCESS ? "STATUS_SUCCESS" : status}`);
      putList(a!, first!, true);
      events.push("put first");
      putList(a!, second!, true);
      return events;
    });
    expect(order).toEqual(["first", "returned STATUS_SUCCESS", "second at IRQL 2", "put first"]);
  });

  it("a transfer spanning more pages than the adapter's map registers fails with STATUS_INSUFFICIENT_RESOURCES", async () => {
    const m = await bootWith(256);
    const ext = eduExtension(m);
    const status = await m.exec(() => {
      const { DmaAdapter: a } = IoGetDmaAdapter(ext.PhysicalDeviceObject, description(64, 4096));
      const buf = bufferIn(0, EDU_REACH - 1, 0, 0x3000);
      return getList(a!, ext, buf.mdl, buf.va, 0x3000, true).status;
    });
    expect(status).toBe(STATUS_INSUFFICIENT_RESOURCES);
  });

  it("BuildScatterGatherList writes the list into the caller's buffer in the x64 layout, and refuses a buffer too small", async () => {
    const m = await bootWith(256);
    const ext = eduExtension(m);
    const r = await m.exec(() => {
      const { DmaAdapter: a } = IoGetDmaAdapter(ext.PhysicalDeviceObject, description(64));
      const buf = bufferIn(0, EDU_REACH - 1, 0x10, 0x1000);
      const size = a!.DmaOperations.CalculateScatterGatherList(a!, buf.mdl, buf.va, 0x1000);
      const storage = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, size.ScatterGatherListSize, 0x74736554);
      const ops = a!.DmaOperations;
      const small = ops.BuildScatterGatherList(a!, ext.Self, buf.mdl, buf.va, 0x1000, () => {}, null, true, storage, SCATTER_GATHER_LIST_HEADER_SIZE);
      let list: SCATTER_GATHER_LIST | null = null;
      const ok = ops.BuildScatterGatherList(a!, ext.Self, buf.mdl, buf.va, 0x1000, (_d, _i, l) => { list = l; }, null, true, storage, size.ScatterGatherListSize);
      const written = { count: readU32(storage), address: Number(readU64(storage + SCATTER_GATHER_LIST_HEADER_SIZE)), length: readU32(storage + SCATTER_GATHER_LIST_HEADER_SIZE + 8) };
      const l = list as SCATTER_GATHER_LIST | null;
      const elements = l ? l.Elements.map((e) => ({ Address: e.Address, Length: e.Length })) : [];
      if (l) putList(a!, l, true);
      return { size, small, ok, written, elements };
    });
    // 0x1000 bytes at page offset 0x10 span two pages.
    expect(r.size.NumberOfMapRegisters).toBe(2);
    expect(r.size.ScatterGatherListSize).toBe(SCATTER_GATHER_LIST_HEADER_SIZE + 2 * SCATTER_GATHER_ELEMENT_SIZE);
    expect(r.small).toBe(STATUS_BUFFER_TOO_SMALL);
    expect(r.ok).toBe(STATUS_SUCCESS);
    expect(r.written).toEqual({ count: r.elements.length, address: r.elements[0].Address, length: r.elements[0].Length });
  });

  it("packet DMA: AllocateAdapterChannel calls the routine at DISPATCH_LEVEL; MapTransfer maps one contiguous run; FlushAdapterBuffers copies bounce pages back", async () => {
    const m = await bootWith(512);
    const ext = eduExtension(m);
    const r = await m.exec(() => {
      const { DmaAdapter: a } = IoGetDmaAdapter(ext.PhysicalDeviceObject, description(HW.EDU_DMA_ADDRESS_BITS, 0x2000));
      const buf = bufferIn(EDU_REACH, 512 * MiB - 1, 0, 0x800);
      writeBytes(buf.va, new Uint8Array(0x800));
      const seen: { irql: number; mapped: { LogicalAddress: number; Length: number } | null; before: Uint8Array | null; after: Uint8Array | null } = { irql: -1, mapped: null, before: null, after: null };
      const old = KeRaiseIrql(DISPATCH_LEVEL);
      const status = a!.DmaOperations.AllocateAdapterChannel(a!, ext.Self, 1, function AdapterControl(_d, _irp, base: MAP_REGISTER_BASE) {
        seen.irql = KeGetCurrentIrql();
        const mapped = a!.DmaOperations.MapTransfer(a!, buf.mdl, base, buf.va, 0x800, false);
        seen.mapped = mapped;
        eduDma(ext, true, mapped.LogicalAddress, 0, mapped.Length);
        seen.before = readBytes(buf.va, 0x800);
        a!.DmaOperations.FlushAdapterBuffers(a!, buf.mdl, base, buf.va, 0x800, false);
        seen.after = readBytes(buf.va, 0x800);
        return IO_ALLOCATION_ACTION.DeallocateObject;
      }, null);
      KeLowerIrql(old);
      // The device's buffer, through the driver's common buffer, for comparison.
      eduDma(ext, true, ext.CommonBufferLogical, 0, 0x800);
      return { status, ...seen, device: readBytes(ext.CommonBuffer, 0x800), channelFree: a!.channel === null };
    });
    expect(r.status).toBe(STATUS_SUCCESS);
    expect(r.irql).toBe(DISPATCH_LEVEL);
    expect(r.mapped!.Length).toBe(0x800);
    expect(r.mapped!.LogicalAddress + r.mapped!.Length).toBeLessThanOrEqual(EDU_REACH);
    expect(r.before!.every((b) => b === 0)).toBe(true);
    expect(r.after).toEqual(r.device);
    expect(r.channelFree).toBe(true);
  });
});

describe("DMA verification (0xE6 DRIVER_VERIFIER_DMA_VIOLATION)", () => {
  /** Boots, gets a 64-bit adapter for edu and a buffer, runs `body`, and returns the bug check it must cause. */
  async function violation(body: (a: DMA_ADAPTER, ext: EDU_DEVICE_EXTENSION, buf: { va: number; mdl: MDL }) => void) {
    const m = await bootWith(256);
    const ext = eduExtension(m);
    return bugCheckOf(m.exec(() => {
      const { DmaAdapter: a } = IoGetDmaAdapter(ext.PhysicalDeviceObject, description(64));
      body(a!, ext, bufferIn(0, EDU_REACH - 1, 0, 0x1000));
    }));
  }

  it("putting a scatter/gather list twice is 0x06 (P2 lists allocated, P3 freed)", async () => {
    const bc = await violation((a, ext, buf) => {
      const got = getList(a, ext, buf.mdl, buf.va, 0x1000, true);
      putList(a, got.list!, true);
      putList(a, got.list!, true);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DMA_VIOLATION, DMA_FREED_TOO_MANY_SCATTER_GATHER_LISTS, 1, 2);
  });

  it("a list put back is reused only after SG_LIST_QUARANTINE others: putting it again before that is still 0x06", async () => {
    const bc = await violation((a, ext, buf) => {
      const first = getList(a, ext, buf.mdl, buf.va, 0x1000, true).list!;
      putList(a, first, true);
      for (let i = 0; i < SG_LIST_QUARANTINE; i++) {
        const got = getList(a, ext, buf.mdl, buf.va, 0x1000, true);
        expect(got.list).not.toBe(first);
        putList(a, got.list!, true);
      }
      putList(a, first, true);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DMA_VIOLATION, DMA_FREED_TOO_MANY_SCATTER_GATHER_LISTS, 1 + SG_LIST_QUARANTINE, 2 + SG_LIST_QUARANTINE);
  });

  it("a list reused after the quarantine describes its new transfer only", async () => {
    const m = await bootWith(256);
    const ext = eduExtension(m);
    const result = await m.exec(() => {
      const a = IoGetDmaAdapter(ext.PhysicalDeviceObject, description(64)).DmaAdapter!;
      const one = bufferIn(0, EDU_REACH - 1, 0x800, 0x2000);
      const first = getList(a, ext, one.mdl, one.va, 0x2000, true).list!;
      const firstElements = first.NumberOfElements;
      putList(a, first, true);
      let reused: SCATTER_GATHER_LIST | null = null;
      for (let i = 0; i <= SG_LIST_QUARANTINE && !reused; i++) {
        const got = getList(a, ext, one.mdl, one.va + 0x800, 0x100, false).list!;
        if (got === first) reused = got;
        else putList(a, got, false);
      }
      const after = reused ? { n: reused.NumberOfElements, elements: reused.Elements.length, length: reused.Elements[0].Length, released: reused.released } : null;
      if (reused) putList(a, reused, false);
      one.free();
      a.DmaOperations.PutDmaAdapter(a);
      return { firstElements, after };
    });
    expect(result.firstElements).toBeGreaterThan(0);
    expect(result.after).toEqual({ n: 1, elements: 1, length: 0x100, released: false });
  });

  it("GetScatterGatherList above DISPATCH_LEVEL is 0x13 / 0x02 (P3 maximum, P4 current IRQL)", async () => {
    const bc = await violation((a, ext, buf) => {
      KeRaiseIrql(5);
      getList(a, ext, buf.mdl, buf.va, 0x1000, true);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DMA_VIOLATION, DMA_IMPROPER_IRQL, DMA_IRQL_HIGHER, DISPATCH_LEVEL, 5);
  });

  it("AllocateAdapterChannel at PASSIVE_LEVEL is 0x13 / 0x01 (P3 expected DISPATCH_LEVEL, P4 current)", async () => {
    const bc = await violation((a, ext) => {
      a.DmaOperations.AllocateAdapterChannel(a, ext.Self, 1, () => IO_ALLOCATION_ACTION.DeallocateObject, null);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DMA_VIOLATION, DMA_IMPROPER_IRQL, DMA_IRQL_DIFFERENT, DISPATCH_LEVEL, PASSIVE_LEVEL);
  });

  it("a second adapter channel while one is kept is 0x0B", async () => {
    const bc = await violation((a, ext) => {
      KeRaiseIrql(DISPATCH_LEVEL);
      a.DmaOperations.AllocateAdapterChannel(a, ext.Self, 1, () => IO_ALLOCATION_ACTION.KeepObject, null);
      a.DmaOperations.AllocateAdapterChannel(a, ext.Self, 1, () => IO_ALLOCATION_ACTION.KeepObject, null);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DMA_VIOLATION, DMA_TOO_MANY_ADAPTER_CHANNELS, 1);
  });

  it("PutDmaAdapter with a common buffer outstanding is 0x07 (P2 adapter, P3 count)", async () => {
    let adapter = 0;
    const bc = await violation((a) => {
      adapter = a.address;
      a.DmaOperations.AllocateCommonBuffer(a, 0x1000, false);
      a.DmaOperations.PutDmaAdapter(a);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DMA_VIOLATION, DMA_OUTSTANDING_COMMON_BUFFERS, adapter, 1);
  });

  it("using an adapter after PutDmaAdapter is 0x18", async () => {
    const bc = await violation((a, ext, buf) => {
      a.DmaOperations.PutDmaAdapter(a);
      getList(a, ext, buf.mdl, buf.va, 0x1000, true);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DMA_VIOLATION, DMA_ADAPTER_RELEASED);
  });

  it("a CurrentVa outside the MDL is 0x1B (P2 the address)", async () => {
    const bc = await violation((a, ext, buf) => {
      getList(a, ext, buf.mdl, buf.va + 0x2000, 0x100, true);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DMA_VIOLATION, DMA_ADDRESS_OUTSIDE_MDL);
    expect(Number(bc.parameters[1])).toBeGreaterThan(0);
  });

  it("an MDL whose pages were never locked is 0x0E", async () => {
    const bc = await violation((a, ext, buf) => {
      const unlocked = IoAllocateMdl(buf.va, 0x1000, false, false, null)!;
      getList(a, ext, unlocked, buf.va, 0x1000, true);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DMA_VIOLATION, DMA_BUFFER_NOT_LOCKED);
  });
});
