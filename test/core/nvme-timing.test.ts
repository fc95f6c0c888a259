// NVMe timing (shared/specs/nvme.md "Timing model"): doorbell to fetch latency, the
// 64-byte submission-entry fetch by DMA, decode, media latency per command (read and write
// separately, seeded jitter), internal parallelism, data and completion moved by DMA over
// the link, then the interrupt; ready and shutdown delays; determinism.
import { describe, expect, test } from "vitest";
import { ADMIN, CC, CSTS, IO, L, MEM, Nvme, REG, nvmeHarness, readyNvme, type NvmeOptions } from "../support/nvme-harness.js";
import type { TraceRecord } from "../support/core-harness.js";

const US = 1e6;
const NS = 1e3;

function msixReady(options: NvmeOptions = {}): Nvme {
  const n = readyNvme({ trace: true, ...options, params: { readJitterNs: 0, writeJitterNs: 0, ...(options.params ?? {}) } });
  for (let e = 0; e < 4; e++) n.msixEntry(e, 0x60 + e);
  n.enableMsix();
  n.createPair(1, 64, 1);
  n.takeInterrupts();
  n.settle();
  n.h.drainTrace();
  return n;
}

const of = (records: TraceRecord[], kind: number, pred: (r: TraceRecord) => boolean = () => true) => records.filter((r) => r.kind === kind && pred(r));

/** The trace of one command on SQ 1, with its milestones. */
function timeline(n: Nvme, records: TraceRecord[]) {
  const doorbell = of(records, L.TR_MMIO_WRITE, (r) => r.a === n.sqDoorbell(1))[0].time;
  const fetch = of(records, L.TR_DMA_READ, (r) => r.a === 64)[0];
  const cqe = of(records, L.TR_DMA_WRITE, (r) => r.a === 16)[0];
  const msi = of(records, L.TR_MSI)[0];
  return { doorbell, fetch, cqe, msi };
}

describe("command timing", () => {
  test("read: fetch at doorbell + fetchCycles, decode commandCycles after the entry arrives, data after readLatencyNs, then the completion and the MSI", () => {
    const n = msixReady();
    const cycle = n.cyclePs;
    n.submit(1, n.rw(IO.READ, 0, 1, { prp1: MEM.DATA, prp2: 0 }));
    n.settle();
    const records = n.h.drainTrace();
    const t = timeline(n, records);
    expect(t.fetch.time).toBe(t.doorbell + n.param("fetchCycles") * cycle);
    const exec = Number(t.fetch.c) + n.param("commandCycles") * cycle;
    const data = of(records, L.TR_DMA_WRITE, (r) => r.a === 512)[0];
    expect(data.time).toBe(exec + n.param("readLatencyNs") * NS);
    // The completion follows once the last data TLP has left the device.
    expect(t.cqe.time).toBe(Number(data.c) - n.spec.link.latencyNs * NS);
    expect(t.msi.time).toBe(t.cqe.time);
    expect(n.reap(1)[0].sc).toBe(0);
  });

  test("write: data read by DMA at decode, writeLatencyNs after it arrived the completion is written", () => {
    const n = msixReady();
    const cycle = n.cyclePs;
    n.submit(1, n.rw(IO.WRITE, 0, 8, { prp1: MEM.DATA, prp2: 0 }));
    n.settle();
    const records = n.h.drainTrace();
    const t = timeline(n, records);
    const exec = Number(t.fetch.c) + n.param("commandCycles") * cycle;
    const data = of(records, L.TR_DMA_READ, (r) => r.a === 4096)[0];
    expect(data.time).toBe(exec);
    expect(t.cqe.time).toBe(Number(data.c) + n.param("writeLatencyNs") * NS);
    expect(t.msi.time).toBe(t.cqe.time);
  });

  test("flush takes flushLatencyNs after decode", () => {
    const n = msixReady();
    n.submit(1, { opcode: IO.FLUSH, nsid: 1 });
    n.settle();
    const t = timeline(n, n.h.drainTrace());
    expect(t.cqe.time).toBe(Number(t.fetch.c) + n.param("commandCycles") * n.cyclePs + n.param("flushLatencyNs") * NS);
  });

  test("admin commands take adminLatencyNs on top of decode", () => {
    const n = msixReady();
    n.submit(0, { opcode: ADMIN.ABORT });
    n.settle();
    const records = n.h.drainTrace();
    const fetch = of(records, L.TR_DMA_READ, (r) => r.a === 64)[0];
    const cqe = of(records, L.TR_DMA_WRITE, (r) => r.a === 16)[0];
    expect(cqe.time).toBe(Number(fetch.c) + n.param("commandCycles") * n.cyclePs + n.param("adminLatencyNs") * NS);
  });

  test("the latencies are parameters: readLatencyNs = 50 us, fetchCycles = 1000, commandCycles = 0", () => {
    const n = msixReady({ params: { readLatencyNs: 50000, fetchCycles: 1000, commandCycles: 0 } });
    n.submit(1, n.rw(IO.READ, 0, 1, { prp1: MEM.DATA, prp2: 0 }));
    n.settle();
    const records = n.h.drainTrace();
    const t = timeline(n, records);
    expect(t.fetch.time).toBe(t.doorbell + 1000 * n.cyclePs);
    expect(of(records, L.TR_DMA_WRITE, (r) => r.a === 512)[0].time).toBe(Number(t.fetch.c) + 50 * US);
  });

  test("the submission-entry fetch is a 64-byte DMA read timed on the link (request up, memory, completion down)", () => {
    const n = msixReady();
    n.submit(1, { opcode: IO.FLUSH, nsid: 1 });
    n.settle();
    const t = timeline(n, n.h.drainTrace());
    const link = n.spec.link;
    const psPerByte = 1e12 / ((8e9 * (128 / 130)) / 8 * link.width);
    const expected = (0 + link.tlpOverheadBytes) * psPerByte + link.latencyNs * NS + n.h.machine.description.memoryReadLatencyNs * NS
      + (64 + link.tlpOverheadBytes) * psPerByte + link.latencyNs * NS;
    expect(Number(t.fetch.c) - t.fetch.time).toBeCloseTo(expected, -1);
  });

  test("a larger transfer moves over the link in TLPs: a 64 KiB read completes later than a 4 KiB one by the serialisation time", () => {
    const n = msixReady();
    const time = (blocks: number) => {
      const pages = Nvme.contiguous(MEM.DATA, blocks * 512);
      n.submit(1, n.rw(IO.READ, 0, blocks, n.prps(pages, blocks * 512)));
      n.settle();
      const records = n.h.drainTrace();
      n.reap(1);
      const t = timeline(n, records);
      return t.cqe.time - Number(t.fetch.c);
    };
    const small = time(8);
    const big = time(128);
    const link = n.spec.link;
    const psPerByte = 1e12 / ((8e9 * (128 / 130)) / 8 * link.width);
    const extraBytes = 61440 + (240 - 16) * link.tlpOverheadBytes; // 256-byte TLPs: 240 more of them
    // The big read also reads its PRP list first (one round trip).
    expect(big - small).toBeGreaterThan(extraBytes * psPerByte);
    expect(big - small).toBeLessThan(extraBytes * psPerByte + 2 * US);
  });
});

describe("jitter", () => {
  test("media latency gets uniform jitter within 0..readJitterNs, different per command, fixed by the seed", () => {
    const run = (seed: number) => {
      const n = msixReady({ params: { readJitterNs: 5000 }, edit: (d) => { d.seed = seed; } });
      const out: number[] = [];
      for (let k = 0; k < 8; k++) {
        n.submit(1, n.rw(IO.READ, k, 1, { prp1: MEM.DATA, prp2: 0 }));
        n.settle();
        const records = n.h.drainTrace();
        n.reap(1);
        const t = timeline(n, records);
        const data = of(records, L.TR_DMA_WRITE, (r) => r.a === 512)[0];
        out.push(data.time - (Number(t.fetch.c) + n.param("commandCycles") * n.cyclePs) - n.param("readLatencyNs") * NS);
      }
      return out;
    };
    const a = run(7);
    for (const j of a) {
      expect(j).toBeGreaterThanOrEqual(0);
      expect(j).toBeLessThanOrEqual(5000 * NS);
      expect(j % NS).toBe(0);
    }
    expect(new Set(a).size).toBeGreaterThan(4);
    expect(run(7)).toEqual(a);
    expect(run(8)).not.toEqual(a);
  });
});

describe("internal parallelism", () => {
  test("at most `parallelism` commands are in flight; the next is fetched when a completion frees a slot", () => {
    const n = msixReady({ params: { parallelism: 2 } });
    for (let k = 0; k < 5; k++) n.submit(1, n.rw(IO.READ, k, 1, { prp1: MEM.DATA + k * 4096, prp2: 0 }), false);
    n.ring(1);
    n.settle();
    const records = n.h.drainTrace();
    const fetches = of(records, L.TR_DMA_READ, (r) => r.a === 64).map((r) => r.time);
    const cqes = of(records, L.TR_DMA_WRITE, (r) => r.a === 16);
    expect(fetches.length).toBe(5);
    expect(fetches[0]).toBe(fetches[1]);
    // A slot frees when its completion entry has left the device (the DMA write is posted).
    const freed = cqes.map((r) => Number(r.c) - n.spec.link.latencyNs * NS);
    expect(fetches[2]).toBe(freed[0]);
    expect(fetches[3]).toBe(freed[1]);
    expect(fetches[4]).toBe(freed[2]);
    // Never more than two between fetch and free.
    const events = [...fetches.map((t) => [t, 1]), ...freed.map((t) => [t, -1])].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let inFlight = 0;
    for (const [, d] of events) {
      inFlight += d;
      expect(inFlight).toBeLessThanOrEqual(2);
    }
    expect(n.reap(1).length).toBe(5);
  });

  test("with enough slots, commands overlap: 8 reads finish in about one media latency", () => {
    const n = msixReady({ params: { parallelism: 32 } });
    for (let k = 0; k < 8; k++) n.submit(1, n.rw(IO.READ, k, 1, { prp1: MEM.DATA + k * 4096, prp2: 0 }), false);
    n.ring(1);
    n.settle();
    const records = n.h.drainTrace();
    const start = of(records, L.TR_MMIO_WRITE, (r) => r.a === n.sqDoorbell(1))[0].time;
    const end = Math.max(...of(records, L.TR_DMA_WRITE, (r) => r.a === 16).map((r) => r.time));
    expect(end - start).toBeLessThan(n.param("readLatencyNs") * NS + 5 * US);
  });
});

describe("controller delays", () => {
  /** Polls CSTS every `stepPs`; returns the times (MMIO read arrival) of the last read without `bit` and the first with it. */
  function edge(n: Nvme, bit: number, stepPs: number, maxPs: number): [number, number] {
    n.h.drainTrace();
    const start = n.h.now;
    while (n.h.now - start < maxPs) {
      const v = n.read32(REG.CSTS);
      if ((v & bit) === bit) break;
      n.h.advance(stepPs);
    }
    const reads = of(n.h.drainTrace(), L.TR_MMIO_READ, (r) => r.a === REG.CSTS);
    const firstSet = reads.findIndex((r) => (Number(r.b) & bit) === bit);
    return [reads[firstSet - 1].time, reads[firstSet].time];
  }

  test("CSTS.RDY is set readyDelayNs after the CC write (CC.EN = 1) reaches the controller", () => {
    const n = nvmeHarness({ trace: true });
    n.write32(REG.AQA, (15 << 16) | 15);
    n.write32(REG.CC, CC.EN | CC.IOSQES | CC.IOCQES);
    n.read32(REG.VS);
    const arrived = of(n.h.drainTrace(), L.TR_MMIO_WRITE, (r) => r.a === REG.CC)[0].time;
    const [before, after] = edge(n, CSTS.RDY, 100 * NS, 100 * US);
    const ready = arrived + n.param("readyDelayNs") * NS;
    expect(before).toBeLessThan(ready);
    expect(after).toBeGreaterThanOrEqual(ready);
    expect(after - before).toBeLessThan(1 * US); // one poll: 100 ns step plus the read round trip
  });

  test("CSTS.SHST reaches complete shutdownDelayNs after the CC write with SHN arrives", () => {
    const n = readyNvme({ trace: true });
    n.h.drainTrace();
    n.write32(REG.CC, n.read32(REG.CC) | CC.SHN_NORMAL);
    n.read32(REG.VS);
    const arrived = of(n.h.drainTrace(), L.TR_MMIO_WRITE, (r) => r.a === REG.CC)[0].time;
    const [before, after] = edge(n, CSTS.SHST_COMPLETE, 100 * NS, 100 * US);
    const done = arrived + n.param("shutdownDelayNs") * NS;
    expect(before).toBeLessThan(done);
    expect(after).toBeGreaterThanOrEqual(done);
  });
});

describe("determinism", () => {
  test("the same machine, seed and workload give a bit-identical trace", () => {
    const run = () => {
      const n = msixReady({ params: { readJitterNs: 3000, writeJitterNs: 3000, parallelism: 3 } });
      n.createPair(2, 32, 2);
      for (let k = 0; k < 12; k++) {
        const q = 1 + (k % 2);
        const pages = Nvme.contiguous(MEM.DATA + k * 0x4000, 8192);
        n.submit(q, n.rw(k % 3 === 0 ? IO.WRITE : IO.READ, k * 16, 16, n.prps(pages, 8192)), false);
      }
      n.ring(1);
      n.ring(2);
      n.settle();
      return n.h.traceBytes();
    };
    const a = run();
    expect(a.length).toBeGreaterThan(0);
    expect(Buffer.from(run()).equals(Buffer.from(a))).toBe(true);
  });
});
