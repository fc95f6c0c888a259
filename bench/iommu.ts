/**
 * DMA through the IOMMU: bytes per host second of 4 KiB edu transfers (both directions)
 * with DMA remapping on, every page mapped and the IOTLB warm, so each page is translated
 * on the way. Baseline: the same bytes copied with a bare `memory.copy` inside the same
 * WebAssembly instance (as bench/dma.ts measures it).
 */
import { readyEdu, type CoreHarness } from "../test/support/core-harness.js";
import { IommuTables } from "../test/support/iommu-tables.js";
import type { Benchmark } from "./lib.js";
import { DMA_RAM_SOURCE, EDU } from "./core-machine.js";
import { dmaRow } from "./dma.js";

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

export const iommu: Benchmark = {
  name: "iommu",
  description: "DMA bytes per host second with IOMMU translation vs memory.copy in the same instance",
  async run(options) {
    return [
      await dmaRow(options, false, machineWithIommu(), " through the IOMMU"),
      await dmaRow(options, true, machineWithIommu(), " through the IOMMU"),
    ];
  },
};
