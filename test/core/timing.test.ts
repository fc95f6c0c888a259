// Timing: link serialisation and latency for DMA and MMIO (from the per-lane rates of
// shared/specs/pci.md and the link parameters in the device file), the factorial unit's
// device-clock timing (edu.md), and determinism of the event order.
import { describe, expect, test } from "vitest";
import {
  CoreHarness, DATA_BASE, EDU, EDU_JSON, L, MSI_VECTOR, pattern, readyEdu, type HarnessOptions, type TraceRecord,
} from "../support/core-harness.js";
import type { LinkDescription } from "../../src/machine/firmwareFiles.js";

/** Usable bytes per second per lane, by generation (pci.md's table; 128b/130b from gen 3). */
function laneBytesPerSecond(gen: number): number {
  if (gen === 1) return 250e6;
  if (gen === 2) return 500e6;
  return (8e9 * 2 ** (gen - 3) * (128 / 130)) / 8;
}

/** A link as the test models it, independent of the core's implementation. */
class LinkModel {
  readonly psPerByte: number;
  constructor(readonly link: LinkDescription) {
    this.psPerByte = 1e12 / (laneBytesPerSecond(link.generation) * link.width);
  }
  /** Serialisation time of one TLP carrying `payload` data bytes. */
  tlp(payload: number): number {
    return (payload + this.link.tlpOverheadBytes) * this.psPerByte;
  }
  get latency(): number {
    return this.link.latencyNs * 1000;
  }
  /** Splits a transfer into TLP payloads of at most `limit` bytes (page-aligned addresses only in these tests). */
  static split(length: number, limit: number): number[] {
    const out: number[] = [];
    for (let left = length; left > 0; left -= Math.min(left, limit)) out.push(Math.min(left, limit));
    return out;
  }
  /** Device -> RAM: arrival of the last write TLP when the device starts at t0. */
  writeDone(t0: number, length: number): { landed: number; tlps: number } {
    let t = t0;
    const pieces = LinkModel.split(length, this.link.maxPayloadSize);
    for (const p of pieces) t += this.tlp(p);
    return { landed: t + this.latency, tlps: pieces.length };
  }
  /** RAM -> device: arrival of the last completion when the device starts at t0. */
  readDone(t0: number, length: number, memoryLatencyPs: number): { done: number; tlps: number } {
    let up = t0;
    let down = 0;
    let done = t0;
    let tlps = 0;
    for (const request of LinkModel.split(length, this.link.maxReadRequestSize)) {
      up += this.tlp(0);
      tlps++;
      const ready = up + this.latency + memoryLatencyPs;
      for (const c of LinkModel.split(request, this.link.maxPayloadSize)) {
        down = Math.max(down, ready) + this.tlp(c);
        tlps++;
        done = down + this.latency;
      }
    }
    return { done, tlps };
  }
}

const CYCLE_PS = 1e6 / EDU_JSON.clockMHz;

function harnessWithLink(link: Partial<LinkDescription> | undefined, options: HarnessOptions = {}): CoreHarness {
  const h = readyEdu({
    trace: true,
    ...options,
    edit: (d) => {
      if (link) d.slots[0].spec.link = { ...d.slots[0].spec.link, ...link };
      options.edit?.(d);
    },
  });
  h.enableMsi();
  return h;
}

function only(records: TraceRecord[], kind: number, pred: (r: TraceRecord) => boolean = () => true): TraceRecord[] {
  return records.filter((r) => r.kind === kind && pred(r));
}

/** Starts a DMA and returns the time its command reached the device and the trace up to completion. */
function runDma(h: CoreHarness, src: number, dst: number, count: number, toRam: boolean): { cmdArrival: number; records: TraceRecord[] } {
  h.mmioWrite(EDU.DMA_SRC, BigInt(src), 8);
  h.mmioWrite(EDU.DMA_DST, BigInt(dst), 8);
  h.mmioWrite(EDU.DMA_COUNT, BigInt(count), 8);
  h.mmioRead(EDU.ID);
  h.advance(10e6); // everything before the command has drained
  h.drainTrace();
  h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START | EDU.DMA_IRQ | (toRam ? EDU.DMA_TO_RAM : 0));
  h.advance(1e9);
  const records = h.drainTrace();
  const cmd = only(records, L.TR_MMIO_WRITE, (r) => r.a === EDU.DMA_CMD)[0];
  return { cmdArrival: cmd.time, records };
}

const LINKS: [string, Partial<LinkDescription> | undefined][] = [
  ["edu.json (gen 2 x1, MPS 128, MRRS 128)", undefined],
  ["gen 1 x4, MPS 256, MRRS 512", { generation: 1, width: 4, maxPayloadSize: 256, maxReadRequestSize: 512, latencyNs: 500, tlpOverheadBytes: 20 }],
  ["gen 2 x16, MPS 512, MRRS 4096", { generation: 2, width: 16, maxPayloadSize: 512, maxReadRequestSize: 4096, latencyNs: 80, tlpOverheadBytes: 26 }],
  ["gen 3 x8, MPS 256, MRRS 1024", { generation: 3, width: 8, maxPayloadSize: 256, maxReadRequestSize: 1024, latencyNs: 100, tlpOverheadBytes: 28 }],
];

describe("link timing", () => {
  test("per-lane rates: gen 2 is 500 MB/s per lane, so a byte costs 2000 ps at x1", () => {
    expect(new LinkModel({ ...EDU_JSON.link, generation: 2, width: 1 }).psPerByte).toBe(2000);
    expect(new LinkModel({ ...EDU_JSON.link, generation: 1, width: 1 }).psPerByte).toBe(4000);
    expect(new LinkModel({ ...EDU_JSON.link, generation: 3, width: 1 }).psPerByte).toBeCloseTo(1015.625, 6);
  });

  for (const [name, link] of LINKS) {
    for (const count of [4096, 1000, 1]) {
      test(`DMA device -> RAM of ${count} bytes takes setup + serialisation of every TLP + latency: ${name}`, () => {
        const h = harnessWithLink(link);
        const m = new LinkModel(h.machine.description.slots[0].spec.link);
        const { cmdArrival, records } = runDma(h, EDU.BUFFER, DATA_BASE, count, true);
        const t0 = cmdArrival + EDU_JSON.params.dmaSetupCycles * CYCLE_PS;
        expect(only(records, L.TR_DMA_WRITE)[0].time).toBe(t0);
        const { landed, tlps } = m.writeDone(t0, count);
        const got = only(records, L.TR_WRITE_LANDED)[0].time;
        expect(Math.abs(got - landed), `landed at ${got}, model ${landed}`).toBeLessThanOrEqual(tlps);
      });

      test(`DMA RAM -> device of ${count} bytes takes setup + request, memory latency and completions: ${name}`, () => {
        const h = harnessWithLink(link);
        const m = new LinkModel(h.machine.description.slots[0].spec.link);
        const memoryLatency = h.machine.description.memoryReadLatencyNs * 1000;
        const { cmdArrival, records } = runDma(h, DATA_BASE, EDU.BUFFER, count, false);
        const t0 = cmdArrival + EDU_JSON.params.dmaSetupCycles * CYCLE_PS;
        expect(only(records, L.TR_DMA_READ)[0].time).toBe(t0);
        const { done, tlps } = m.readDone(t0, count, memoryLatency);
        // The device learns the transfer is done at the last completion and signals at once.
        const msi = only(records, L.TR_MSI)[0].time;
        expect(Math.abs(msi - done), `done at ${msi}, model ${done}`).toBeLessThanOrEqual(tlps);
        // The MSI is a 4-byte posted write up the (now idle) link.
        expect(Math.abs(h.core.arrivalPs(0, MSI_VECTOR) - (msi + m.tlp(4) + m.latency))).toBeLessThanOrEqual(1);
      });
    }
  }

  test("DMA: doubling the transfer roughly doubles the serialisation time (bandwidth-bound)", () => {
    const times = [1024, 2048, 4096].map((n) => {
      const h = harnessWithLink(undefined);
      const { cmdArrival, records } = runDma(h, EDU.BUFFER, DATA_BASE, n, true);
      return only(records, L.TR_WRITE_LANDED)[0].time - cmdArrival;
    });
    const m = new LinkModel(EDU_JSON.link);
    const perTlp = m.tlp(EDU_JSON.link.maxPayloadSize);
    expect(times[1] - times[0]).toBeCloseTo((1024 / EDU_JSON.link.maxPayloadSize) * perTlp, 0);
    expect(times[2] - times[1]).toBeCloseTo((2048 / EDU_JSON.link.maxPayloadSize) * perTlp, 0);
  });

  test("MMIO read costs a round trip: request TLP down, completion with the data up, latency each way", () => {
    for (const [, link] of LINKS) {
      const h = harnessWithLink(link);
      const m = new LinkModel(h.machine.description.slots[0].spec.link);
      h.mmioRead(EDU.ID); // TLB warm, link idle
      h.advance(10e6);
      for (const size of [4, 8]) {
        const t0 = h.cpuTime();
        if (size === 4) h.mmioRead(EDU.ID);
        else h.mmioRead64(EDU.DMA_SRC);
        const expected = m.tlp(0) + m.latency + m.tlp(size) + m.latency;
        expect(Math.abs(h.cpuTime() - t0 - expected), `size ${size}`).toBeLessThanOrEqual(2);
        h.advance(10e6);
      }
    }
  });

  test("config read through ECAM costs the same round trip", () => {
    const h = harnessWithLink(undefined);
    const m = new LinkModel(EDU_JSON.link);
    h.cfgRead(0, 4);
    h.advance(10e6);
    const t0 = h.cpuTime();
    h.cfgRead(0, 4);
    expect(h.cpuTime() - t0).toBe(m.tlp(0) + m.tlp(4) + 2 * m.latency);
  });

  test("MMIO write is posted: the CPU does not wait, the device sees it when the TLP arrives", () => {
    const h = harnessWithLink(undefined);
    const m = new LinkModel(EDU_JSON.link);
    h.mmioWrite(EDU.LIVENESS, 0); // TLB warm with the page dirty, so the write below does not walk
    h.advance(10e6);
    h.drainTrace();
    const t0 = h.cpuTime();
    const writesBefore = h.counters().mmioWrites;
    h.mmioWrite(EDU.LIVENESS, 0x1234);
    expect(h.cpuTime()).toBe(t0);
    const arrival = t0 + m.tlp(4) + m.latency;
    h.x.run(arrival - 1);
    expect(h.counters().mmioWrites).toBe(writesBefore);
    h.x.run(arrival);
    expect(h.counters().mmioWrites).toBe(writesBefore + 1);
    expect(only(h.drainTrace(), L.TR_MMIO_WRITE)[0].time).toBe(arrival);
  });

  test("MMIO: a read issued after a posted write reaches the device after it (no passing on the link)", () => {
    const h = harnessWithLink(undefined);
    h.mmioWrite(EDU.LIVENESS, 0);
    for (let i = 0; i < 20; i++) h.mmioWrite(EDU.LIVENESS, i);
    expect(h.mmioRead(EDU.LIVENESS)).toBe(~19 >>> 0);
  });
});

describe("factorial timing", () => {
  function factorialDone(h: CoreHarness, n: number): { arrival: number; done: number } {
    h.mmioWrite(EDU.STATUS, EDU.STATUS_IRQ_FACTORIAL);
    h.mmioRead(EDU.ID);
    h.advance(10e6);
    h.drainTrace();
    h.mmioWrite(EDU.FACTORIAL, n);
    h.advance(n * 1e6 + 10e6);
    const records = h.drainTrace();
    const arrival = only(records, L.TR_MMIO_WRITE, (r) => r.a === EDU.FACTORIAL)[0].time;
    const done = only(records, L.TR_MSI)[0].time;
    h.mmioWrite(EDU.IRQ_ACK, 0xFFFFFFFF);
    h.x.apicAccept(0);
    return { arrival, done };
  }

  test("factorial timing: n * factorialCyclesPerStep cycles of the 100 MHz device clock from the write's arrival", () => {
    const h = harnessWithLink(undefined);
    const perStep = EDU_JSON.params.factorialCyclesPerStep * CYCLE_PS;
    expect(CYCLE_PS).toBe(10000);
    for (const n of [0, 1, 5, 12, 100]) {
      const { arrival, done } = factorialDone(h, n);
      expect(done - arrival, `n = ${n}`).toBe(n * perStep);
    }
  });

  test("factorial timing follows the device file's clock and cycles-per-step parameter", () => {
    const h = harnessWithLink(undefined, {
      edit: (d) => {
        d.slots[0].spec.clockKHz = 250_000;
        d.slots[0].spec.params.factorialCyclesPerStep = 7;
      },
    });
    const { arrival, done } = factorialDone(h, 9);
    expect(done - arrival).toBe(9 * 7 * 4000);
  });
});

describe("determinism", () => {
  function scenario(): { trace: Uint8Array; counters: unknown; now: number; cpu: number[]; ram: Uint8Array; pending: number[] } {
    const h = harnessWithLink(undefined);
    h.core.writePhysical(DATA_BASE, pattern(4096, 77));
    h.mmioWrite(EDU.LIVENESS, 0xABCDEF);
    h.mmioWrite(EDU.STATUS, EDU.STATUS_IRQ_FACTORIAL);
    h.mmioWrite(EDU.FACTORIAL, 11);
    h.mmioWrite(EDU.DMA_SRC, BigInt(DATA_BASE), 8);
    h.mmioWrite(EDU.DMA_DST, BigInt(EDU.BUFFER + 0x100), 8);
    h.mmioWrite(EDU.DMA_COUNT, 2000n, 8);
    h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START | EDU.DMA_IRQ);
    h.mmioWrite(EDU.IRQ_RAISE, 0x40);
    h.advance(3e6);
    h.x.apicAccept(0);
    h.mmioWrite(EDU.DMA_SRC, BigInt(EDU.BUFFER + 0x100), 8);
    h.mmioWrite(EDU.DMA_DST, BigInt(DATA_BASE + 0x10000), 8);
    h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START | EDU.DMA_TO_RAM | EDU.DMA_IRQ);
    h.cfgWrite(0x3C, 1, 0x0A);
    for (let i = 0; i < 5; i++) {
      h.mmioRead(EDU.IRQ_STATUS);
      h.advance(7e6);
      h.x.apicAccept(0);
    }
    h.settle();
    return {
      trace: h.traceBytes(),
      counters: h.counters(),
      now: h.now,
      cpu: [h.cpuTime(0), h.cpuTime(1)],
      ram: h.core.readPhysical(DATA_BASE + 0x10000, 4096),
      pending: [h.core.highestPending(0), h.core.highestPending(1)],
    };
  }

  test("event ordering determinism: two identical runs give identical trace-ring contents, counters and times", () => {
    const a = scenario();
    const b = scenario();
    expect(a.trace.length).toBeGreaterThan(20 * L.TRACE_RECORD_SIZE);
    expect(Buffer.from(a.trace).equals(Buffer.from(b.trace))).toBe(true);
    expect(a.counters).toEqual(b.counters);
    expect(a.now).toBe(b.now);
    expect(a.cpu).toEqual(b.cpu);
    expect(a.ram).toEqual(b.ram);
    expect(a.pending).toEqual(b.pending);
  });

  test("trace ring: records are in non-decreasing time order for events the run loop dispatched", () => {
    const h = harnessWithLink(undefined);
    h.mmioWrite(EDU.FACTORIAL, 3);
    h.mmioWrite(EDU.DMA_COUNT, 512n, 8);
    h.mmioWrite(EDU.DMA_SRC, BigInt(DATA_BASE), 8);
    h.mmioWrite(EDU.DMA_DST, BigInt(EDU.BUFFER), 8);
    h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START | EDU.DMA_IRQ);
    h.advance(50e6);
    const dispatched = h.drainTrace().filter((r) => r.kind === L.TR_MMIO_WRITE || r.kind === L.TR_APIC_PENDING || r.kind === L.TR_WRITE_LANDED);
    expect(dispatched.length).toBeGreaterThan(3);
    for (let i = 1; i < dispatched.length; i++) expect(dispatched[i].time).toBeGreaterThanOrEqual(dispatched[i - 1].time);
  });
});
