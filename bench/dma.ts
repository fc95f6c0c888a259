/**
 * DMA throughput of the edu engine: bytes per host second moved by 4 KiB transfers
 * through the core's bus-master port (the device splits them into TLPs, times them on its
 * link, and copies the data), each programmed with posted register writes and run to
 * completion, one direction per row. Baseline: the same bytes copied with a bare
 * `memory.copy` inside the same WebAssembly instance, through the core's `physBlock`
 * export (guest RAM to the scratch buffer, or back), one 4 KiB call per transfer.
 */
import type { CoreHarness } from "../test/support/core-harness.js";
import { compare, now, row, type Benchmark, type Row, type RunOptions, type Sample } from "./lib.js";
import { defaultMachineWithEdu, drain, startDma, DMA_RAM_DESTINATION, DMA_RAM_SOURCE, EDU } from "./core-machine.js";

const LENGTH = EDU.BUFFER_SIZE;

/** Fills the source page with a pattern and checks one transfer each way moves it intact. */
function checkTransfers(h: CoreHarness): void {
  const data = new Uint8Array(LENGTH);
  for (let i = 0; i < LENGTH; i++) data[i] = (i * 31 + 7) & 0xFF;
  h.core.writePhysical(DMA_RAM_SOURCE, data);
  h.core.writePhysical(DMA_RAM_DESTINATION, new Uint8Array(LENGTH));
  startDma(h, false);
  drain(h);
  startDma(h, true);
  drain(h);
  const back = h.core.readPhysical(DMA_RAM_DESTINATION, LENGTH);
  if (!back.every((b, i) => b === data[i])) throw new Error("edu DMA did not round-trip the data");
}

/**
 * One row: 4 KiB edu transfers in one direction on machine `h`, against a bare 4 KiB
 * memory.copy of the same bytes in the same instance. `label` says what is special about
 * the machine (empty for the plain one).
 */
export async function dmaRow(options: RunOptions, toRam: boolean, h: CoreHarness, label: string): Promise<Row> {
  const transfers = Math.max(100, Math.round(100_000 * options.scale));
  checkTransfers(h);
  const errorsBefore = h.counters().deviceErrors;
  const counter = toRam ? "dmaWriteBytes" : "dmaReadBytes";
  let simPs = 0;
  let simTransfers = 0;
  const core: Sample = () => {
    const b0 = h.counters()[counter];
    const s0 = h.now;
    const t0 = now();
    for (let i = 0; i < transfers; i++) {
      startDma(h, toRam);
      drain(h);
    }
    const ms = now() - t0;
    const bytes = h.counters()[counter] - b0;
    if (bytes !== transfers * LENGTH) throw new Error(`expected ${transfers * LENGTH} DMA bytes, the core counted ${bytes}`);
    simPs += h.now - s0;
    simTransfers += transfers;
    return { units: bytes, ms };
  };
  // RAM -> device reads guest RAM (into the scratch buffer); device -> RAM writes guest RAM.
  const pa = toRam ? DMA_RAM_DESTINATION : DMA_RAM_SOURCE;
  const toScratch = toRam ? 0 : 1;
  // The copy is ~10x faster: give it more calls so both sides run for similar host time.
  const copies = transfers * 8;
  const copy: Sample = () => {
    const t0 = now();
    for (let i = 0; i < copies; i++) {
      if (!h.x.physBlock(pa, 0, LENGTH, toScratch)) throw new Error("physBlock refused the copy");
    }
    return { units: copies * LENGTH, ms: now() - t0 };
  };
  const samples = await compare(options.repeats, core, copy);
  if (h.counters().deviceErrors !== errorsBefore) throw new Error("a DMA error happened during the benchmark");
  const simNsPerTransfer = simPs / 1000 / simTransfers;
  return row(
    `edu DMA ${toRam ? "device→RAM" : "RAM→device"}${label}, 4 KiB transfers run to completion`,
    "bytes/s",
    `memory.copy of 4 KiB via physBlock (${toRam ? "scratch→RAM" : "RAM→scratch"})`,
    samples,
    { transfersPerRepeat: transfers, simulatedNsPerTransfer: simNsPerTransfer, simulatedBytesPerSimSecond: (LENGTH * 1e9) / simNsPerTransfer },
    { op: "4 KiB transfer", ns: simNsPerTransfer, unitsPerOp: LENGTH },
  );
}

export const dma: Benchmark = {
  name: "dma",
  description: "edu DMA bytes per host second vs memory.copy in the same instance",
  async run(options) {
    return [await dmaRow(options, false, defaultMachineWithEdu(), ""), await dmaRow(options, true, defaultMachineWithEdu(), "")];
  },
};
