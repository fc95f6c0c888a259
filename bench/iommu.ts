/**
 * DMA through the IOMMU: bytes per host second of 4 KiB edu transfers (both directions)
 * with DMA remapping on, every page mapped and the IOTLB warm, so each page is translated
 * on the way. Baseline: the same bytes copied with a bare `memory.copy` inside the same
 * WebAssembly instance (the core's `physBlock`, one 4 KiB call per transfer).
 */
import { readyEdu, type CoreHarness } from "../test/support/core-harness.js";
import { IommuTables } from "../test/support/iommu-tables.js";
import { compare, now, row, type Benchmark, type Row, type RunOptions, type Sample } from "./lib.js";
import { drain, startDma, DMA_RAM_DESTINATION, DMA_RAM_SOURCE, EDU } from "./core-machine.js";

const TABLES = 0x800000;
const LENGTH = EDU.BUFFER_SIZE;

/** A machine with an IOMMU whose tables map the DMA pages to themselves (read and write), translation on. */
function machineWithIommu(): CoreHarness {
  const h = readyEdu({ edit: (d) => { d.iommu = { iotlbEntries: 64, missLatencyNs: 250 }; } });
  const t = new IommuTables(h, 3 << 3, TABLES);
  t.identity(DMA_RAM_SOURCE, 2 * LENGTH);
  t.enable();
  return h;
}

async function direction(options: RunOptions, toRam: boolean): Promise<Row> {
  const transfers = Math.max(100, Math.round(50_000 * options.scale));
  const h = machineWithIommu();
  const counter = toRam ? "dmaWriteBytes" : "dmaReadBytes";
  const faultsBefore = h.counters().deviceErrors;
  const dma: Sample = () => {
    const b0 = h.counters()[counter];
    const t0 = now();
    for (let i = 0; i < transfers; i++) {
      startDma(h, toRam);
      drain(h);
    }
    const ms = now() - t0;
    const bytes = h.counters()[counter] - b0;
    if (bytes !== transfers * LENGTH) throw new Error(`expected ${transfers * LENGTH} DMA bytes through the IOMMU, the core counted ${bytes}`);
    return { units: bytes, ms };
  };
  const pa = toRam ? DMA_RAM_DESTINATION : DMA_RAM_SOURCE;
  const copies = transfers * 8;
  const copy: Sample = () => {
    const t0 = now();
    for (let i = 0; i < copies; i++) if (!h.x.physBlock(pa, 0, LENGTH, toRam ? 0 : 1)) throw new Error("physBlock refused the copy");
    return { units: copies * LENGTH, ms: now() - t0 };
  };
  const samples = await compare(options.repeats, dma, copy);
  if (h.counters().deviceErrors !== faultsBefore) throw new Error("the IOMMU faulted during the benchmark");
  return row(`edu DMA ${toRam ? "device→RAM" : "RAM→device"} through the IOMMU, 4 KiB transfers`, "bytes/s",
    `memory.copy of 4 KiB via physBlock`, samples, { transfersPerRepeat: transfers });
}

export const iommu: Benchmark = {
  name: "iommu",
  description: "DMA bytes per host second with IOMMU translation vs memory.copy in the same instance",
  async run(options) {
    return [await direction(options, false), await direction(options, true)];
  },
};
