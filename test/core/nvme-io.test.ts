// NVMe I/O commands and queues (shared/specs/nvme.md "I/O commands", "PRPs", "Queue
// entries"): read/write round trips through every PRP shape, range and namespace checks,
// phase tags, queue wrap and full completion queues, and a property test against a model
// of the namespace.
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { IO, MEM, Nvme, SC, readyNvme, type Completion } from "../support/nvme-harness.js";
import { PAGE, pattern } from "../support/core-harness.js";

function status(c: Completion): [number, number] {
  return [c.sct, c.sc];
}

/** Writes `data` to the namespace at `lba` from `pages`, then reads it back into `back` pages; returns what came back. */
function roundTrip(n: Nvme, q: number, lba: number, data: Uint8Array, pages: number[], back: number[], listStart = 0): Uint8Array {
  const blocks = data.length / n.blockSize;
  // Scatter `data` into the (possibly discontiguous) pages.
  let done = 0;
  pages.forEach((p, k) => {
    if (done >= data.length) return;
    const room = k === 0 ? PAGE - (p % PAGE) : PAGE;
    const piece = data.subarray(done, done + room);
    n.h.core.writePhysical(p, piece);
    done += piece.length;
  });
  const w = n.exec(q, n.rw(IO.WRITE, lba, blocks, n.prps(pages, data.length, listStart)));
  expect(status(w)).toEqual([0, 0]);
  back.forEach((p, k) => n.h.core.writePhysical(p, new Uint8Array(k === 0 ? PAGE - (p % PAGE) : PAGE)));
  const r = n.exec(q, n.rw(IO.READ, lba, blocks, n.prps(back, data.length, listStart)));
  expect(status(r)).toEqual([0, 0]);
  const out = new Uint8Array(data.length);
  done = 0;
  back.forEach((p, k) => {
    if (done >= data.length) return;
    const room = Math.min(k === 0 ? PAGE - (p % PAGE) : PAGE, data.length - done);
    out.set(n.h.core.readPhysical(p, room), done);
    done += room;
  });
  return out;
}

/** `count` page addresses from `base`, every other page, in reverse order (discontiguous on purpose). */
function scattered(base: number, count: number): number[] {
  return Array.from({ length: count }, (_, k) => base + (count - 1 - k) * 2 * PAGE);
}

describe("read / write round trips", () => {
  test("PRP1 only: one 512-byte block at an offset inside a page", () => {
    const n = readyNvme();
    n.createPair(1);
    const data = pattern(512, 1);
    expect(roundTrip(n, 1, 100, data, [MEM.DATA + 0x200], [MEM.DATA + 0x10000 + 0xC00])).toEqual(data);
  });

  test("PRP1 only: a whole 4 KiB page", () => {
    const n = readyNvme();
    n.createPair(1);
    const data = pattern(4096, 2);
    expect(roundTrip(n, 1, 0, data, [MEM.DATA], [MEM.DATA + 0x10000])).toEqual(data);
  });

  test("PRP1 + PRP2: a transfer ending in the second page (PRP1 with an offset)", () => {
    const n = readyNvme();
    n.createPair(1);
    const data = pattern(4096, 3);
    expect(roundTrip(n, 1, 8, data, [MEM.DATA + 0x600, MEM.DATA + 0x8000], [MEM.DATA + 0x10E00, MEM.DATA + 0x13000])).toEqual(data);
  });

  test("PRP1 + PRP2: two whole pages", () => {
    const n = readyNvme();
    n.createPair(1);
    const data = pattern(8192, 4);
    expect(roundTrip(n, 1, 50, data, [MEM.DATA, MEM.DATA + 0x5000], [MEM.DATA + 0x20000, MEM.DATA + 0x22000])).toEqual(data);
  });

  test("PRP list: 64 KiB over 16 discontiguous pages", () => {
    const n = readyNvme();
    n.createPair(1);
    const data = pattern(65536, 5);
    expect(roundTrip(n, 1, 1000, data, scattered(MEM.DATA, 16), scattered(MEM.DATA + 0x100000, 16))).toEqual(data);
  });

  test("PRP list: the largest transfer (MDTS, 128 KiB) with PRP1 at an offset (33 pages)", () => {
    const n = readyNvme();
    n.createPair(1);
    const data = pattern(128 * 1024, 6);
    const pages = [MEM.DATA + 0x100, ...scattered(MEM.DATA + PAGE, 32)];
    const back = [MEM.DATA + 0x200000 + 0xF00, ...scattered(MEM.DATA + 0x200000 + PAGE, 32)];
    expect(roundTrip(n, 1, 4096, data, pages, back)).toEqual(data);
  });

  test("PRP list chained through its last entry (the list starts 3 entries before the end of its page)", () => {
    const n = readyNvme();
    n.createPair(1);
    const data = pattern(10 * PAGE, 7);
    const listStart = PAGE - 3 * 8;
    expect(roundTrip(n, 1, 77, data, scattered(MEM.DATA, 10), scattered(MEM.DATA + 0x80000, 10), listStart)).toEqual(data);
  });

  test("the PRP list chain is read by DMA: two list reads for a chained list", () => {
    const n = readyNvme({ trace: true });
    n.createPair(1);
    const prp = n.prps(scattered(MEM.DATA, 6), 6 * PAGE, PAGE - 2 * 8);
    n.h.drainTrace();
    expect(n.exec(1, n.rw(IO.WRITE, 0, 48, prp)).sc).toBe(0);
    const lists = n.h.drainTrace().filter((r) => r.kind === 5 /* TR_DMA_READ */ && Number(r.b) >= MEM.LIST_BASE && Number(r.b) < MEM.LIST_END);
    expect(lists.map((r) => r.a)).toEqual([16, 32]); // 1 data entry + chain, then the remaining 4
  });

  test("4096-byte blocks: round trip and LBA addressing", () => {
    const n = readyNvme({ params: { blockSize: 4096, namespaceBlocks: 4096 } });
    n.createPair(1);
    const a = pattern(8192, 8);
    const b = pattern(4096, 9);
    expect(roundTrip(n, 1, 10, a, [MEM.DATA, MEM.DATA + PAGE], [MEM.DATA + 0x10000, MEM.DATA + 0x11000])).toEqual(a);
    expect(roundTrip(n, 1, 12, b, [MEM.DATA], [MEM.DATA + 0x10000])).toEqual(b);
    expect(roundTrip(n, 1, 4095, b, [MEM.DATA], [MEM.DATA + 0x10000])).toEqual(b);
  });

  test("blocks written by one command are read back by another across block boundaries", () => {
    const n = readyNvme();
    n.createPair(1);
    const data = pattern(4096, 10);
    roundTrip(n, 1, 200, data, [MEM.DATA], [MEM.DATA + 0x10000]);
    // Read blocks 203..204 only.
    n.exec(1, n.rw(IO.READ, 203, 2, { prp1: MEM.DATA + 0x20000, prp2: 0 }));
    expect(n.h.core.readPhysical(MEM.DATA + 0x20000, 1024)).toEqual(data.subarray(3 * 512, 5 * 512));
  });

  test("flush completes successfully (NSID 1 or all namespaces)", () => {
    const n = readyNvme();
    n.createPair(1);
    expect(status(n.exec(1, { opcode: IO.FLUSH, nsid: 1 }))).toEqual([0, 0]);
    expect(status(n.exec(1, { opcode: IO.FLUSH, nsid: 0xFFFFFFFF }))).toEqual([0, 0]);
  });
});

describe("command checks", () => {
  test("LBA out of range (0x80): start at the end, a range crossing the end, a 64-bit start", () => {
    const n = readyNvme();
    n.createPair(1);
    const blocks = n.param("namespaceBlocks");
    const p = { prp1: MEM.DATA, prp2: MEM.DATA + PAGE };
    expect(status(n.exec(1, n.rw(IO.READ, blocks, 1, p)))).toEqual([0, SC.LBA_RANGE]);
    expect(status(n.exec(1, n.rw(IO.WRITE, blocks - 1, 2, p)))).toEqual([0, SC.LBA_RANGE]);
    expect(status(n.exec(1, n.rw(IO.READ, 2 ** 40, 1, p)))).toEqual([0, SC.LBA_RANGE]);
    expect(status(n.exec(1, n.rw(IO.WRITE, blocks - 1, 1, p)))).toEqual([0, 0]);
    expect(status(n.exec(1, n.rw(IO.READ, blocks - 8, 8, p)))).toEqual([0, 0]);
  });

  test("invalid namespace (0x0B): NSID 0, 2 and 0xFFFFFFFF for read and write", () => {
    const n = readyNvme();
    n.createPair(1);
    for (const nsid of [0, 2, 0xFFFFFFFF]) {
      expect(status(n.exec(1, n.rw(IO.READ, 0, 1, { prp1: MEM.DATA, prp2: 0 }, nsid)))).toEqual([0, SC.INVALID_NAMESPACE]);
      expect(status(n.exec(1, n.rw(IO.WRITE, 0, 1, { prp1: MEM.DATA, prp2: 0 }, nsid)))).toEqual([0, SC.INVALID_NAMESPACE]);
    }
    expect(status(n.exec(1, { opcode: IO.FLUSH, nsid: 3 }))).toEqual([0, SC.INVALID_NAMESPACE]);
  });

  test("a transfer larger than MDTS is an invalid field", () => {
    const n = readyNvme();
    n.createPair(1);
    const max = (4096 << n.param("mdts")) / 512;
    expect(status(n.exec(1, n.rw(IO.READ, 0, max + 1, { prp1: MEM.DATA, prp2: MEM.LIST_BASE })))).toEqual([0, SC.INVALID_FIELD]);
  });

  test("invalid PRP offset (0x13): PRP2 not page aligned, PRP1 not dword aligned, a list entry with an offset", () => {
    const n = readyNvme();
    n.createPair(1);
    expect(status(n.exec(1, n.rw(IO.READ, 0, 16, { prp1: MEM.DATA, prp2: MEM.DATA + 0x2200 })))).toEqual([0, SC.INVALID_PRP_OFFSET]);
    expect(status(n.exec(1, n.rw(IO.READ, 0, 1, { prp1: MEM.DATA + 2, prp2: 0 })))).toEqual([0, SC.INVALID_PRP_OFFSET]);
    const bad = n.prps([MEM.DATA, MEM.DATA + PAGE, MEM.DATA + 2 * PAGE + 0x10], 3 * PAGE);
    expect(status(n.exec(1, n.rw(IO.READ, 0, 24, bad)))).toEqual([0, SC.INVALID_PRP_OFFSET]);
  });
});

describe("queues and phase tags", () => {
  test("phase tag: the first pass writes phase 1 into zeroed memory, the second pass 0, the third 1 again", () => {
    const n = readyNvme();
    n.createPair(1, 4);
    const phases: number[] = [];
    for (let k = 0; k < 12; k++) {
      const c = n.exec(1, { opcode: IO.FLUSH, nsid: 1 });
      phases.push(c.phase);
      expect(c.index).toBe(k % 4);
    }
    expect(phases).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]);
    // The raw entries in memory carry the last pass's phase.
    const raw = n.h.core.readPhysical(MEM.CQ_BASE + MEM.CQ_STRIDE, 64);
    for (let k = 0; k < 4; k++) expect((raw[k * 16 + 14] & 1)).toBe(1);
  });

  test("completion entry: DW0, SQ head (entries consumed), SQ id, CID and status", () => {
    const n = readyNvme();
    n.createPair(2, 8);
    const cid = n.submit(2, { opcode: IO.FLUSH, nsid: 1, cid: 0xBEEF });
    n.submit(2, { opcode: IO.FLUSH, nsid: 1 });
    n.settle();
    const [a, b] = n.reap(2);
    expect(a.cid).toBe(cid);
    expect(a.sqid).toBe(2);
    expect(b.sqhd).toBe(2);
    expect(a.sqhd).toBeGreaterThanOrEqual(1);
  });

  test("submission queue wrap: 20 commands through a 4-entry SQ", () => {
    const n = readyNvme();
    n.createCq(1, 32);
    n.createSq(1, 4, 1);
    for (let k = 0; k < 20; k++) expect(n.exec(1, { opcode: IO.FLUSH, nsid: 1 }).sqhd).toBe((k + 1) % 4);
  });

  test("a full completion queue holds completions back until the head doorbell frees entries; nothing is overwritten", () => {
    const n = readyNvme();
    n.createCq(1, 3); // holds 2 entries
    n.createSq(1, 16, 1);
    const cids = Array.from({ length: 6 }, () => n.submit(1, { opcode: IO.FLUSH, nsid: 1 }, false));
    n.ring(1);
    n.settle();
    const first = n.reap(1, false);
    expect(first.map((c) => c.cid)).toEqual(cids.slice(0, 2));
    expect(n.peek(1)).toBeUndefined();
    const got: number[] = first.map((c) => c.cid);
    for (let round = 0; round < 5 && got.length < 6; round++) {
      n.write32(n.cqDoorbell(1), n.cqs.get(1)!.head);
      n.settle();
      got.push(...n.reap(1, false).map((c) => c.cid));
    }
    expect(got).toEqual(cids);
  });

  test("commands on several queues all complete on their own CQs", () => {
    const n = readyNvme();
    for (const q of [1, 2, 3]) n.createPair(q, 16);
    for (const q of [1, 2, 3]) for (let k = 0; k < 5; k++) n.submit(q, { opcode: IO.FLUSH, nsid: 1 });
    n.settle();
    for (const q of [1, 2, 3]) expect(n.reap(q).map((c) => c.sqid)).toEqual([q, q, q, q, q]);
  });
});

describe("property: random reads and writes agree with a model of the namespace", () => {
  const BLOCKS = 256;
  test("sequences of writes and reads (PRP1, PRP1+PRP2, lists; several queues in flight) match a Map of blocks", () => {
    const n = readyNvme({ params: { namespaceBlocks: BLOCKS, readJitterNs: 3000, writeJitterNs: 3000 } });
    for (const q of [1, 2, 3]) n.createPair(q, 32);
    const model = new Map<number, Uint8Array>();
    const zero = new Uint8Array(512);
    let seed = 1;
    const op = fc.record({
      write: fc.boolean(),
      lba: fc.integer({ min: 0, max: BLOCKS - 1 }),
      blocks: fc.integer({ min: 1, max: 40 }),
      offset: fc.constantFrom(0, 0x200, 0x800, 0xE00),
      queue: fc.integer({ min: 1, max: 3 }),
    });
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 12 }), (ops) => {
        // Batches of commands whose block ranges do not overlap run concurrently.
        let buffer = MEM.DATA;
        const batch: { o: (typeof ops)[number]; at: number; data?: Uint8Array; cid: number }[] = [];
        const flush = () => {
          n.settle();
          const done = new Map<string, Completion>();
          for (const q of [1, 2, 3]) for (const c of n.reap(q)) done.set(`${q}:${c.cid}`, c);
          for (const b of batch) {
            const c = done.get(`${b.o.queue}:${b.cid}`)!;
            expect(c, "completion").toBeDefined();
            expect([c.sct, c.sc]).toEqual([0, 0]);
            if (b.o.write) {
              for (let k = 0; k < b.o.blocks; k++) model.set(b.o.lba + k, b.data!.slice(k * 512, (k + 1) * 512));
            } else {
              const got = n.h.core.readPhysical(b.at, b.o.blocks * 512);
              for (let k = 0; k < b.o.blocks; k++) expect(got.subarray(k * 512, (k + 1) * 512)).toEqual(model.get(b.o.lba + k) ?? zero);
            }
          }
          batch.length = 0;
          buffer = MEM.DATA;
        };
        for (const raw of ops) {
          const o = { ...raw, blocks: Math.min(raw.blocks, BLOCKS - raw.lba) };
          const overlaps = batch.some((b) => o.lba < b.o.lba + b.o.blocks && b.o.lba < o.lba + o.blocks);
          if (overlaps || batch.length >= 8) flush();
          const bytes = o.blocks * 512;
          const at = buffer + o.offset;
          buffer += Math.ceil((o.offset + bytes) / PAGE) * PAGE + PAGE;
          let data: Uint8Array | undefined;
          if (o.write) {
            data = pattern(bytes, seed++);
            n.h.core.writePhysical(at, data);
          } else {
            n.h.core.writePhysical(at, new Uint8Array(bytes).fill(0xA5));
          }
          const cid = n.submit(o.queue, n.rw(o.write ? IO.WRITE : IO.READ, o.lba, o.blocks, n.prps(Nvme.contiguous(at, bytes), bytes)));
          batch.push({ o, at, data, cid });
        }
        flush();
      }),
      { numRuns: 40, seed: 0x5eed },
    );
  });
});
