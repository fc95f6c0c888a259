// The storage machine's NVMe controller (firmware/machines/storage.json overriding
// firmware/devices/nvme.json, whose description says where each figure comes from): a
// datacenter TLC SSD on PCIe 3.0 x4 with a 4 KiB LBA format, MDTS of 128 KiB, 4 KiB random
// reads of about 85 us at QD1, writes absorbed in 10-20 us, several hundred thousand 4 KiB
// random-read IOPS at QD 256, more I/O queue pairs than CPUs, and a namespace that fits
// next to the machine's RAM. Timed by trace timestamps (doorbell write to MSI).
import { describe, expect, test } from "vitest";
import { IO, L, MEM, Nvme, SC, readyNvme } from "../support/nvme-harness.js";
import { loadMachine } from "../../src/machine/firmwareFiles.js";
import { Machine } from "../../src/machine/machine.js";

const US = 1e6;
const storage = loadMachine("storage");
const slot = storage.slots.find((s) => s.spec.model === "nvme")!;
const params = slot.spec.params;

/** A controller with the storage machine's parameters and link, MSI-X on, I/O queue pairs 1..4 of 256 entries. */
function datacenter(): Nvme {
  const n = readyNvme({
    trace: true, params, link: slot.spec.link,
    edit: (d) => {
      d.memoryReadLatencyNs = storage.memoryReadLatencyNs;
      d.postedWriteCredits = storage.postedWriteCredits;
      d.seed = storage.seed;
    },
  });
  for (let e = 0; e < 5; e++) n.msixEntry(e, 0x60 + e);
  n.enableMsix();
  for (let q = 1; q <= 4; q++) n.createPair(q, 256, q);
  n.takeInterrupts();
  n.settle();
  n.h.drainTrace();
  return n;
}

/** LBA of the k-th 4 KiB random access (a fixed stride that visits the whole namespace). */
const lbaOf = (k: number) => (k * 7919) % params.namespaceBlocks;

/** Doorbell-to-MSI latencies (us) of `count` commands issued one at a time (QD1). */
function qd1(n: Nvme, opcode: number, count: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    n.h.drainTrace();
    n.submit(1, n.rw(opcode, lbaOf(k), 1, { prp1: MEM.DATA, prp2: 0 }));
    n.settle();
    const records = n.h.drainTrace();
    const doorbell = records.find((r) => r.kind === L.TR_MMIO_WRITE && r.a === n.sqDoorbell(1))!;
    const msi = records.find((r) => r.kind === L.TR_MSI)!;
    out.push((msi.time - doorbell.time) / US);
    expect(n.reap(1).map((c) => c.sc)).toEqual([SC.SUCCESS]);
    n.takeInterrupts();
  }
  return out;
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

describe("the storage machine's NVMe controller", () => {
  test("figures: 4 KiB blocks, a 256 MiB..1 GiB namespace, MDTS >= 128 KiB, more I/O queue pairs than CPUs, gen 3 x4", () => {
    expect(params.blockSize).toBe(4096);
    const bytes = params.namespaceBlocks * params.blockSize * (params.namespaceCount ?? 1);
    expect(bytes).toBeGreaterThanOrEqual(256 * 2 ** 20);
    expect(bytes).toBeLessThanOrEqual(2 ** 30);
    expect(4096 << params.mdts).toBeGreaterThanOrEqual(128 * 1024);
    expect(params.ioQueuePairs).toBeGreaterThanOrEqual(storage.cpu.count + 4);
    expect([slot.spec.link.generation, slot.spec.link.width]).toEqual([3, 4]);
    // The machine powers on with the namespace in the core's linear memory (guest RAM is backed as it is written).
    const m = Machine.fromDescription(storage);
    expect(m.core.x.memory.buffer.byteLength).toBeGreaterThan(bytes);
  });

  test("Identify: MDTS 5 (128 KiB), one namespace of namespaceBlocks 4 KiB blocks (LBADS 12); 128 KiB reads, one block more is an invalid field", () => {
    const n = datacenter();
    expect(n.identify(1).data.getUint8(77)).toBe(params.mdts);
    const ns = n.identify(0, 1).data;
    expect(ns.getBigUint64(0, true)).toBe(BigInt(params.namespaceBlocks));
    expect(ns.getUint8(130)).toBe(12);
    const blocks = (4096 << params.mdts) / 4096;
    const pages = Nvme.contiguous(MEM.DATA, blocks * 4096);
    expect(n.exec(1, n.rw(IO.READ, 0, blocks, n.prps(pages, blocks * 4096))).sc).toBe(SC.SUCCESS);
    expect(n.exec(1, n.rw(IO.READ, 0, blocks + 1, n.prps([...pages, MEM.DATA + blocks * 4096], (blocks + 1) * 4096))).sc).toBe(SC.INVALID_FIELD);
  });

  test("4 KiB random read at QD1: 80-100 us from doorbell to interrupt", () => {
    const lat = qd1(datacenter(), IO.READ, 64);
    expect(mean(lat)).toBeGreaterThanOrEqual(80);
    expect(mean(lat)).toBeLessThanOrEqual(100);
    expect(Math.min(...lat)).toBeGreaterThanOrEqual(params.readLatencyNs / 1000);
    expect(Math.max(...lat)).toBeLessThanOrEqual((params.readLatencyNs + params.readJitterNs) / 1000 + 5);
  });

  test("4 KiB write at QD1: absorbed in 10-20 us from doorbell to interrupt", () => {
    const lat = qd1(datacenter(), IO.WRITE, 64);
    expect(mean(lat)).toBeGreaterThanOrEqual(10);
    expect(mean(lat)).toBeLessThanOrEqual(20);
  });

  test("4 KiB random reads at QD 256 (4 queues x 64): several hundred thousand IOPS", () => {
    const n = datacenter();
    const total = 4096;
    let submitted = 0;
    let done = 0;
    const issue = (q: number) => {
      n.submit(q, n.rw(IO.READ, lbaOf(submitted), 1, { prp1: MEM.DATA + (submitted % 256) * 4096, prp2: 0 }), false);
      submitted++;
    };
    const start = n.h.now;
    for (let q = 1; q <= 4; q++) {
      for (let k = 0; k < 64; k++) issue(q);
      n.ring(q);
    }
    while (done < total) {
      n.h.advance(20 * US);
      n.h.drainTrace();
      n.takeInterrupts();
      for (let q = 1; q <= 4; q++) {
        const got = n.reap(q);
        expect(got.every((c) => c.sc === SC.SUCCESS && c.sct === 0)).toBe(true);
        done += got.length;
        const more = Math.min(got.length, total - submitted);
        for (let k = 0; k < more; k++) issue(q);
        if (more > 0) n.ring(q);
      }
    }
    const iops = total / ((n.h.now - start) / 1e12);
    expect(iops).toBeGreaterThan(400_000);
    expect(iops).toBeLessThan(800_000);
  });
});
