/**
 * How the core's cost grows with the number of active devices: events per host second
 * when 1, 16 and 256 edu functions (32 devices x 8 functions on bus 0) each run a
 * factorial and a 256-byte DMA every round. Baseline: the same workload with one device,
 * measured in the same run, so the ratio says what each added device costs.
 */
import { CoreHarness } from "../test/support/core-harness.js";
import { compare, now, row, type Benchmark, type Row, type RunOptions, type Sample } from "./lib.js";
import { drain, eventsProcessed, EDU } from "./core-machine.js";

const WINDOW = 0xC0000000;

/** A machine with `count` edu functions, each decoding its BAR0 and mastering the bus. */
function machine(count: number): CoreHarness {
  const h = new CoreHarness({
    edit: (d) => {
      const edu = d.slots[0];
      d.slots = Array.from({ length: count }, (_, i) => ({ ...structuredClone(edu), device: i >> 3, function: i & 7 }));
    },
  });
  for (let i = 0; i < count; i++) {
    const bar = WINDOW + i * (1 << 20);
    h.identityMap(bar, 0x1000);
    h.x.configWrite(i, 0x10, 4, bar);
    h.x.configWrite(i, 0x04, 2, 0x6);
  }
  return h;
}

/** One round: every device starts a factorial and a DMA; then run until all of it is done. */
function round(h: CoreHarness, count: number): void {
  for (let i = 0; i < count; i++) {
    const bar = WINDOW + i * (1 << 20);
    h.x.cpuWrite(0, bar + EDU.FACTORIAL, 4, 10, 0, 0);
    h.x.cpuWrite(0, bar + EDU.DMA_SRC, 8, 0x400000 + (i & 15) * 256, 0, 0);
    h.x.cpuWrite(0, bar + EDU.DMA_DST, 8, EDU.BUFFER, 0, 0);
    h.x.cpuWrite(0, bar + EDU.DMA_COUNT, 8, 256, 0, 0);
    h.x.cpuWrite(0, bar + EDU.DMA_CMD, 4, EDU.DMA_START, 0, 0);
  }
  drain(h);
}

function sampler(count: number, eventsPerRepeat: number): Sample {
  const h = machine(count);
  round(h, count);
  const before = eventsProcessed(h);
  round(h, count);
  const perRound = eventsProcessed(h) - before;
  const rounds = Math.max(1, Math.round(eventsPerRepeat / perRound));
  return () => {
    const e0 = eventsProcessed(h);
    const t0 = now();
    for (let r = 0; r < rounds; r++) round(h, count);
    return { units: eventsProcessed(h) - e0, ms: now() - t0 };
  };
}

export const scaling: Benchmark = {
  name: "scaling",
  description: "event throughput with 1, 16 and 256 devices active",
  async run(options: RunOptions): Promise<Row[]> {
    const events = Math.round(400_000 * options.scale);
    const rows: Row[] = [];
    for (const count of [16, 256]) {
      const samples = await compare(options.repeats, sampler(count, events), sampler(1, events));
      rows.push(row(`events, ${count} edu functions active (factorial + 256 B DMA each per round)`, "events/s", "the same with 1 function active", samples, { functions: count }));
    }
    return rows;
  },
};
