// Low Resources Simulation beyond pool ("Low Resources Simulation" in the Driver Verifier
// documentation lists the routines it fails): IoAllocateIrp (and the routines that
// allocate IRPs), IoAllocateMdl, IoAllocateWorkItem, MmGetSystemAddressForMdlSafe,
// MmProbeAndLockPages, MmMapLockedPagesSpecifyCache, MmMapIoSpace and
// MmAllocateContiguousMemory(SpecifyCache), and map registers for DMA. Each fails the way
// its reference page documents (NULL, a raised STATUS_INSUFFICIENT_RESOURCES, or that
// status returned), only past the delay, only for the drivers named, the same way for the
// same seed; systematic mode fails each call site once. Counted per driver and routine.
import { describe, expect, it } from "vitest";
import {
  Machine, boot, inspect, IoAllocateIrp, IoFreeIrp, IoAllocateMdl, IoFreeMdl, IoAllocateWorkItem, IoFreeWorkItem, IoBuildDeviceIoControlRequest,
  IO_STATUS_BLOCK, MmProbeAndLockPages, MmUnlockPages, MmMapLockedPagesSpecifyCache, MmGetSystemAddressForMdlSafe, MmMapIoSpace,
  MmAllocateContiguousMemory, MmAllocateContiguousMemorySpecifyCache, MmFreeContiguousMemory, MmBuildMdlForNonPagedPool,
  MEMORY_CACHING_TYPE, KPROCESSOR_MODE, LOCK_OPERATION, ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE, KeDelayExecutionThread,
  KeRaiseIrql, KeLowerIrql, DISPATCH_LEVEL, IoGetDmaAdapter, DEVICE_DESCRIPTION, DEVICE_DESCRIPTION_VERSION3, IO_ALLOCATION_ACTION,
  STATUS_INSUFFICIENT_RESOURCES, STATUS_SUCCESS, NtStatusException, MDL_PAGES_LOCKED, type DEVICE_OBJECT,
} from "../../src/index.js";
import { lowResourcesOf } from "../../src/verifier/low-resources.js";
import { asDriver, createTestDevice, defaultDescription, eduExtension, kernelOf, relativeMs } from "../support/kernel-harness.js";

async function machine(lowResources: Record<string, unknown>, seed = 1): Promise<Machine> {
  const d = defaultDescription({ seed });
  d.kernel = { ...d.kernel, lowResources: lowResources as unknown as boolean };
  return boot(Machine.fromDescription(d));
}

/** A 64-bit bus-master description for the edu device. */
function description(): DEVICE_DESCRIPTION {
  const d = new DEVICE_DESCRIPTION();
  d.Version = DEVICE_DESCRIPTION_VERSION3;
  d.Master = true;
  d.ScatterGather = true;
  d.DmaAddressWidth = 64;
  d.MaximumLength = 0x10000;
  return d;
}

/** What each routine gives `driver` (true: it failed the documented way). */
async function outcomes(m: Machine, driver: string): Promise<Record<string, boolean>> {
  const ext = eduExtension(m);
  return m.exec(async () => {
    const device: DEVICE_OBJECT = await createTestDevice("lrdev");
    // Set up by the kernel (never failed): a nonpaged buffer and its MDL, a locked MDL of paged pool, an adapter.
    const np = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 0x2000, "LrNp");
    const npMdl = IoAllocateMdl(np, 0x2000, false, false, null)!;
    MmBuildMdlForNonPagedPool(npMdl);
    const paged = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 0x2000, "LrPg");
    const lockedMdl = IoAllocateMdl(paged, 0x2000, false, false, null)!;
    MmProbeAndLockPages(lockedMdl, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoReadAccess);
    const probeMdl = IoAllocateMdl(paged, 0x1000, false, false, null)!;
    const safeMdl = IoAllocateMdl(paged + 0x1000, 0x1000, false, false, null)!;
    MmProbeAndLockPages(safeMdl, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoReadAccess);
    const adapter = IoGetDmaAdapter(ext.PhysicalDeviceObject, description()).DmaAdapter!;
    const out: Record<string, boolean> = {};
    await asDriver(driver, "Allocate", async () => {
      const irp = IoAllocateIrp(2, false);
      out.IoAllocateIrp = irp === null;
      if (irp) IoFreeIrp(irp);
      const built = IoBuildDeviceIoControlRequest(0x222000, device, null, 0, null, 0, false, null, new IO_STATUS_BLOCK());
      out.IoBuildDeviceIoControlRequest = built === null;
      if (built) IoFreeIrp(built);
      const mdl = IoAllocateMdl(np, 0x100, false, false, null);
      out.IoAllocateMdl = mdl === null;
      if (mdl) IoFreeMdl(mdl);
      const item = IoAllocateWorkItem(device);
      out.IoAllocateWorkItem = item === null;
      if (item) IoFreeWorkItem(item);
      try {
        MmProbeAndLockPages(probeMdl, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoReadAccess);
        MmUnlockPages(probeMdl);
        out.MmProbeAndLockPages = false;
      } catch (e) {
        // Raised, and nothing stays locked.
        out.MmProbeAndLockPages = e instanceof NtStatusException && e.status === STATUS_INSUFFICIENT_RESOURCES && (probeMdl.MdlFlags & MDL_PAGES_LOCKED) === 0;
      }
      const mapped = MmMapLockedPagesSpecifyCache(lockedMdl, KPROCESSOR_MODE.KernelMode, MEMORY_CACHING_TYPE.MmCached, null, false, 0);
      // A mapping made is released by MmUnlockPages below.
      out.MmMapLockedPagesSpecifyCache = mapped === 0;
      const io = MmMapIoSpace(0xFEE00000, 4096, MEMORY_CACHING_TYPE.MmNonCached);
      out.MmMapIoSpace = io === 0;
      const c1 = MmAllocateContiguousMemory(0x2000, 0xFFFFFFFF);
      out.MmAllocateContiguousMemory = c1 === 0;
      if (c1) MmFreeContiguousMemory(c1);
      const c2 = MmAllocateContiguousMemorySpecifyCache(0x2000, 0, 0xFFFFFFFF, 0, MEMORY_CACHING_TYPE.MmCached);
      out.MmAllocateContiguousMemorySpecifyCache = c2 === 0;
      if (c2) MmFreeContiguousMemory(c2);
      const old = KeRaiseIrql(DISPATCH_LEVEL);
      let channelRan = false;
      const channel = adapter.DmaOperations.AllocateAdapterChannel(adapter, ext.Self, 1, function AdapterControl() {
        channelRan = true;
        return IO_ALLOCATION_ACTION.DeallocateObject;
      }, null);
      out.AllocateAdapterChannel = channel === STATUS_INSUFFICIENT_RESOURCES && !channelRan;
      let listRan = false;
      const list = adapter.DmaOperations.GetScatterGatherList(adapter, ext.Self, npMdl, np, 0x1000, function ListControl(_d, _i, sg) {
        listRan = true;
        adapter.DmaOperations.PutScatterGatherList(adapter, sg, true);
      }, null, true);
      out.GetScatterGatherList = list === STATUS_INSUFFICIENT_RESOURCES && !listRan;
      KeLowerIrql(old);
      // Its mapping, if made, is released by MmUnlockPages below.
      out.MmGetSystemAddressForMdlSafe = MmGetSystemAddressForMdlSafe(safeMdl, 0) === 0;
    });
    MmUnlockPages(lockedMdl);
    IoFreeMdl(lockedMdl);
    MmUnlockPages(safeMdl);
    IoFreeMdl(safeMdl);
    IoFreeMdl(probeMdl);
    IoFreeMdl(npMdl);
    ExFreePoolWithTag(paged, "LrPg");
    ExFreePoolWithTag(np, "LrNp");
    return out;
  });
}

const ROUTINES = [
  "IoAllocateIrp", "IoBuildDeviceIoControlRequest", "IoAllocateMdl", "IoAllocateWorkItem", "MmProbeAndLockPages", "MmMapLockedPagesSpecifyCache",
  "MmMapIoSpace", "MmAllocateContiguousMemory", "MmAllocateContiguousMemorySpecifyCache", "AllocateAdapterChannel", "GetScatterGatherList",
  "MmGetSystemAddressForMdlSafe",
];

describe("low resources simulation: the routines it fails", () => {
  it("each fails the documented way for a driver named, and succeeds for another driver", async () => {
    const m = await machine({ probability: 1, delaySeconds: 0, drivers: ["victim"] });
    const victim = await outcomes(m, "victim");
    for (const r of ROUTINES) expect([r, victim[r]]).toEqual([r, true]);
    const bystander = await outcomes(m, "bystander");
    for (const r of ROUTINES) expect([r, bystander[r]]).toEqual([r, false]);
    const sim = lowResourcesOf(kernelOf(m))!;
    expect(sim.injected.get("victim")).toBe(ROUTINES.length);
    expect(sim.injected.has("bystander")).toBe(false);
    // IoBuildDeviceIoControlRequest fails in the IRP it allocates.
    expect(sim.injectedByRoutine.get("IoAllocateIrp")).toBe(2);
    expect(sim.injectedByRoutine.get("MmProbeAndLockPages")).toBe(1);
  });

  it("nothing fails before the delay; past it the same calls fail", async () => {
    const m = await machine({ probability: 1, delaySeconds: 0.05, drivers: ["victim"] });
    const early = await outcomes(m, "victim");
    for (const r of ROUTINES) expect([r, early[r]]).toEqual([r, false]);
    await m.exec(() => KeDelayExecutionThread(KPROCESSOR_MODE.KernelMode, false, relativeMs(60)));
    const late = await outcomes(m, "victim");
    for (const r of ROUTINES) expect([r, late[r]]).toEqual([r, true]);
  });

  it("at random, the same seed fails the same calls and another seed others", async () => {
    const run = async (seed: number) => {
      const m = await machine({ probability: 0.5, delaySeconds: 0, drivers: ["victim"] }, seed);
      let pattern = "";
      for (let i = 0; i < 4; i++) {
        const o = await outcomes(m, "victim");
        pattern += ROUTINES.map((r) => (o[r] ? "1" : "0")).join("");
      }
      return pattern;
    };
    const a = await run(11);
    expect(a).toMatch(/1/);
    expect(a).toMatch(/0/);
    expect(await run(11)).toBe(a);
    expect(await run(12)).not.toBe(a);
  });

  it("systematic: each call site (driver routine, allocating routine) fails the first time only", async () => {
    const m = await machine({ systematic: true, delaySeconds: 0, drivers: ["victim"] });
    const r = await m.exec(() => {
      const site = (routine: string) => asDriver("victim", routine, () => {
        const irp = IoAllocateIrp(1, false);
        if (irp) IoFreeIrp(irp);
        return irp === null;
      });
      return [site("Start"), site("Start"), site("Read"), site("Read"), site("Start")];
    });
    expect(r).toEqual([true, false, true, false, false]);
    const out = inspect(m, "!verifier");
    expect(out).toMatch(/^ {4}\[X\] \(0x00040000\) Systematic low resources simulation$/m);
    expect(out).toMatch(/^ {4}\[ \] \(0x00000004\) Randomized low resources simulation$/m);
  });

  it("!verifier shows the failures per routine and the fault injection log, latest first", async () => {
    const m = await machine({ probability: 1, delaySeconds: 0, drivers: ["victim"] });
    await m.exec(() => asDriver("victim", "Start", () => {
      IoAllocateIrp(1, false);
      const io = MmMapIoSpace(0xFEE00000, 4096, MEMORY_CACHING_TYPE.MmNonCached);
      return io === 0 && STATUS_SUCCESS;
    }));
    const out = inspect(m, "!verifier");
    expect(out).toMatch(/^ {2}Resource Allocations Failed Deliberately +0x00000002$/m);
    expect(out).toMatch(/^ {2}IoAllocateIrp +1$/m);
    expect(out).toMatch(/^ {2}MmMapIoSpace +1$/m);
    const log = out.slice(out.indexOf("Fault injection trace log"));
    expect(log.indexOf("victim!Start -> MmMapIoSpace failed")).toBeGreaterThan(0);
    expect(log.indexOf("victim!Start -> MmMapIoSpace failed")).toBeLessThan(log.indexOf("victim!Start -> IoAllocateIrp failed"));
  });
});
