/**
 * Scatter/gather DMA mapping per host second: GetScatterGatherList (execution routine at
 * DISPATCH_LEVEL) + PutScatterGatherList of a 64 KiB nonpaged buffer for the edu
 * device, in a kernel thread on CPU 0, device reading memory (WriteToDevice). Two rows:
 *
 * - bounce pages: a 28-bit device and a buffer above 256 MiB on a 512 MiB machine, so
 *   every page is copied into a map register's buffer. Baseline: the same buffer for a
 *   64-bit description of the device, where logical == physical.
 * - DMA remapping: the same on a machine with an IOMMU, every page mapped to an IOVA and
 *   unmapped (IOTLB invalidated) at Put. Baseline: the 64-bit case without an IOMMU.
 */
import { loadMachine } from "../src/machine/firmwareFiles.js";
import { Machine } from "../src/machine/machine.js";
import { boot } from "../src/pnp/boot.js";
import { IO } from "../src/io/manager.js";
import { KeRaiseIrql, KeLowerIrql } from "../src/ke/level.js";
import { DISPATCH_LEVEL } from "../src/ke/irql.js";
import { DEVICE_DESCRIPTION, DEVICE_DESCRIPTION_VERSION3, IoGetDmaAdapter, type DMA_ADAPTER } from "../src/hal/dma.js";
import type { SCATTER_GATHER_LIST } from "../src/hal/scatter-gather.js";
import { IoAllocateMdl } from "../src/io/mdl.js";
import { MmBuildMdlForNonPagedPool, type MDL } from "../src/mm/mdl.js";
import { MmAllocateContiguousMemorySpecifyCache, MEMORY_CACHING_TYPE } from "../src/mm/physical.js";
import type { DEVICE_OBJECT } from "../src/io/objects.js";
import { compare, now, row, type Benchmark, type Sample } from "./lib.js";

const LENGTH = 64 * 1024;
const MiB = 2 ** 20;

/** A booted machine with an edu adapter and a 64 KiB buffer in [lowest, highest]. */
interface Setup {
  machine: Machine;
  device: DEVICE_OBJECT;
  adapter: DMA_ADAPTER;
  mdl: MDL;
  va: number;
}

async function setup(memoryMiB: number, iommu: boolean, addressBits: number, lowest: number): Promise<Setup> {
  const d = loadMachine("default");
  d.memory = [{ base: 0, size: memoryMiB * MiB }];
  if (iommu) d.iommu = { iotlbEntries: 64, missLatencyNs: 250 };
  const machine = await boot(Machine.fromDescription(d));
  return machine.exec(() => {
    const edu = IO().devices.find((x) => x.DriverObject.serviceName === "edu")!;
    const pdo = (edu.DeviceExtension as { PhysicalDeviceObject: DEVICE_OBJECT }).PhysicalDeviceObject;
    const description = new DEVICE_DESCRIPTION();
    description.Version = DEVICE_DESCRIPTION_VERSION3;
    description.Master = true;
    description.ScatterGather = true;
    description.DmaAddressWidth = addressBits;
    description.MaximumLength = LENGTH;
    const adapter = IoGetDmaAdapter(pdo, description).DmaAdapter!;
    const va = MmAllocateContiguousMemorySpecifyCache(LENGTH, lowest, memoryMiB * MiB - 1, 0, MEMORY_CACHING_TYPE.MmCached);
    const mdl = IoAllocateMdl(va, LENGTH, false, false, null)!;
    MmBuildMdlForNonPagedPool(mdl);
    return { machine, device: edu, adapter, mdl, va };
  });
}

/** A sample: `count` Get/Put pairs at DISPATCH_LEVEL. */
function getPut(s: Setup, count: number): Sample {
  return () => s.machine.exec(() => {
    const ops = s.adapter.DmaOperations;
    let list: SCATTER_GATHER_LIST | null = null;
    const t0 = now();
    const old = KeRaiseIrql(DISPATCH_LEVEL);
    for (let i = 0; i < count; i++) {
      ops.GetScatterGatherList(s.adapter, s.device, s.mdl, s.va, LENGTH, (_d, _i, l) => { list = l; }, null, true);
      ops.PutScatterGatherList(s.adapter, list!, true);
    }
    KeLowerIrql(old);
    return { units: count, ms: now() - t0 };
  }, { cpu: 0, name: "bench-sglist" });
}

export const sglist: Benchmark = {
  name: "sglist",
  description: "GetScatterGatherList + PutScatterGatherList of 64 KiB: bounce pages and IOMMU remapping against logical == physical",
  async run(options) {
    const count = Math.max(50, Math.round(5_000 * options.scale));
    const direct = await setup(512, false, 64, 256 * MiB);
    const bounce = await setup(512, false, 28, 256 * MiB);
    const remapped = await setup(512, true, 28, 256 * MiB);
    const bounceRates = await compare(options.repeats, getPut(bounce, count), getPut(direct, count));
    const remapRates = await compare(options.repeats, getPut(remapped, count), getPut(direct, count));
    return [
      row("Get/PutScatterGatherList 64 KiB, 28-bit device, buffer above its reach (16 bounce pages copied)", "lists/s", "the same buffer, 64-bit device (logical = physical)", bounceRates, { listsPerRepeat: count }),
      row("Get/PutScatterGatherList 64 KiB through the IOMMU (16 IOVA pages mapped, unmapped, IOTLB invalidated)", "lists/s", "the same buffer, 64-bit device, no IOMMU", remapRates, { listsPerRepeat: count }),
    ];
  },
};
