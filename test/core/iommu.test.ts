// The IOMMU (DMA remapping): registers, root/context/second-level tables, permissions,
// faults (recorded with source, address, access and reason; nothing moved), the IOTLB
// and its miss cost, invalidation, and a property test of DMA through random mappings.
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { CoreHarness, EDU, L, pattern, readyEdu } from "../support/core-harness.js";
import { IommuTables, IOMMU_R as R, IOMMU_W as W } from "../support/iommu-tables.js";

const IOMMU = 0xFED90000;
const MISS_NS = 250;
const TABLES = 0x800000; // IOMMU tables from here (identity region the tests own)
const SOURCE = (0 << 8) | (3 << 3); // edu at 00:03.0

function withIommu(): CoreHarness {
  const h = readyEdu({ edit: (d) => { d.iommu = { iotlbEntries: 16, missLatencyNs: MISS_NS }; } });
  h.identityMap(IOMMU, 0x1000);
  return h;
}

function reg(h: CoreHarness, offset: number, size = 4): bigint {
  return h.read(IOMMU + offset, size).value;
}

function setReg(h: CoreHarness, offset: number, value: number | bigint, size = 4): void {
  h.write(IOMMU + offset, size, value);
}

/** Tables for the edu device, from TABLES up. */
class Tables extends IommuTables {
  constructor(h: CoreHarness, present = true) {
    super(h, SOURCE, TABLES, present);
  }
}

function dmaToDevice(h: CoreHarness, iova: number, length: number): void {
  h.mmioWrite(EDU.DMA_SRC, BigInt(iova), 8);
  h.mmioWrite(EDU.DMA_DST, BigInt(EDU.BUFFER), 8);
  h.mmioWrite(EDU.DMA_COUNT, BigInt(length), 8);
  h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START);
  h.advance(50e6);
}

function dmaToRam(h: CoreHarness, iova: number, length: number): void {
  h.mmioWrite(EDU.DMA_SRC, BigInt(EDU.BUFFER), 8);
  h.mmioWrite(EDU.DMA_DST, BigInt(iova), 8);
  h.mmioWrite(EDU.DMA_COUNT, BigInt(length), 8);
  h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START | EDU.DMA_TO_RAM);
  h.advance(50e6);
}

describe("IOMMU registers", () => {
  test("VER 1.0; CAP: fault recording at 0x200, 48-bit guest address width, 4-level tables; ECAP: IOTLB registers at 0x100", () => {
    const h = withIommu();
    expect(reg(h, 0x00)).toBe(0x10n);
    const cap = reg(h, 0x08, 8);
    expect((cap >> 24n) & 0x3FFn).toBe(0x20n);
    expect((cap >> 16n) & 0x3Fn).toBe(47n);
    expect((cap >> 8n) & 0x1Fn).toBe(4n);
    expect((reg(h, 0x10, 8) >> 8n) & 0x3FFn).toBe(0x10n);
  });

  test("GSTS reports the root table pointer and translation enable that GCMD set", () => {
    const h = withIommu();
    const t = new Tables(h);
    expect(reg(h, 0x1C)).toBe(0n);
    t.enable();
    expect(reg(h, 0x1C)).toBe(0xC0000000n);
    expect(reg(h, 0x20, 8)).toBe(BigInt(t.root));
  });

  test("a machine without an IOMMU has no registers there (master abort)", () => {
    const h = readyEdu();
    h.identityMap(IOMMU, 0x1000);
    expect(h.read(IOMMU, 4).status).toBe(L.ACCESS_MASTER_ABORT);
  });
});

describe("translation", () => {
  test("with translation off DMA addresses are physical", () => {
    const h = withIommu();
    const data = pattern(256, 1);
    h.core.writePhysical(0x500000, data);
    dmaToDevice(h, 0x500000, 256);
    dmaToRam(h, 0x600000, 256);
    expect(h.core.readPhysical(0x600000, 256)).toEqual(data);
  });

  test("a mapped IOVA reads from and writes to the physical page it maps to", () => {
    const h = withIommu();
    const t = new Tables(h);
    t.map(0x10000000 - 0x1000000, 0x500000, R | W);
    t.map(0x0A000000, 0x600000, R | W);
    t.enable();
    const data = pattern(512, 2);
    h.core.writePhysical(0x500000, data);
    dmaToDevice(h, 0x0F000000, 512);
    dmaToRam(h, 0x0A000000, 512);
    expect(h.core.readPhysical(0x600000, 512)).toEqual(data);
    expect(reg(h, 0x34) & 2n).toBe(0n);
  });

  test("a write to a read-only page faults (reason 5): nothing is written, the fault record holds source, address, access", () => {
    const h = withIommu();
    const t = new Tables(h);
    t.map(0x0A000000, 0x600000, R);
    t.enable();
    h.core.writePhysical(0x600000, new Uint8Array(64).fill(0xAA));
    dmaToRam(h, 0x0A000000, 64);
    expect(h.core.readPhysical(0x600000, 64)).toEqual(new Uint8Array(64).fill(0xAA));
    expect(reg(h, 0x34) & 2n).toBe(2n);
    const lo = reg(h, 0x200, 8);
    const hi = reg(h, 0x208, 8);
    expect(lo).toBe(0x0A000000n);
    expect(hi >> 63n).toBe(1n);
    expect((hi >> 62n) & 1n).toBe(0n);
    expect((hi >> 32n) & 0xFFn).toBe(BigInt(L.IOMMU_FAULT_WRITE));
    expect(hi & 0xFFFFn).toBe(BigInt(SOURCE));
  });

  test("a read of an unmapped page faults (reason 6) and the device gets all ones", () => {
    const h = withIommu();
    const t = new Tables(h);
    t.enable();
    dmaToDevice(h, 0x0B000000, 16);
    dmaToRam(h, 0x500000, 16);
    // The write above also faults (nothing is mapped), so only the read's record is kept.
    const hi = reg(h, 0x208, 8);
    expect((hi >> 32n) & 0xFFn).toBe(BigInt(L.IOMMU_FAULT_READ));
    expect((hi >> 62n) & 1n).toBe(1n);
    // A second fault while the record is full sets Primary Fault Overflow.
    expect(reg(h, 0x34) & 1n).toBe(1n);
  });

  test("a function without a context entry faults with reason 2; clearing F and PFO empties the log", () => {
    const h = withIommu();
    const t = new Tables(h, false);
    t.enable();
    dmaToRam(h, 0x500000, 16);
    expect((reg(h, 0x208, 8) >> 32n) & 0xFFn).toBe(BigInt(L.IOMMU_FAULT_CONTEXT_NOT_PRESENT));
    setReg(h, 0x20C, 0x80000000);
    setReg(h, 0x34, 1);
    expect(reg(h, 0x34) & 3n).toBe(0n);
  });

  test("an MSI to the interrupt window is not translated", () => {
    const h = withIommu();
    new Tables(h).enable();
    h.enableMsi(0x55, 0);
    h.mmioWrite(EDU.IRQ_RAISE, 1);
    h.advance(2e6);
    expect(h.core.highestPending(0)).toBe(0x55);
  });
});

describe("IOTLB", () => {
  test("the first DMA to a page pays the miss cost; the next one hits", () => {
    const h = withIommu();
    const t = new Tables(h);
    t.map(0x0A000000, 0x600000, R | W);
    t.enable();
    h.x.traceEnable(1);
    const completion = () => {
      const r = h.drainTrace().find((x) => x.kind === L.TR_DMA_READ)!;
      return Number(r.c) - r.time;
    };
    h.drainTrace();
    dmaToDevice(h, 0x0A000000, 64);
    const miss = completion();
    dmaToDevice(h, 0x0A000000, 64);
    const hit = completion();
    expect(miss - hit).toBe(MISS_NS * 1000);
  });

  test("a changed mapping is not seen until the IOTLB is invalidated", () => {
    const h = withIommu();
    const t = new Tables(h);
    t.map(0x0A000000, 0x600000, R | W);
    t.enable();
    h.core.writePhysical(0x500000, pattern(64, 4));
    dmaToDevice(h, 0x500000 - 0x500000 + 0x0A000000, 64);
    t.map(0x0A000000, 0x700000, R | W);
    dmaToRam(h, 0x0A000000, 64);
    expect(h.core.readPhysical(0x700000, 64)).toEqual(new Uint8Array(64));
    setReg(h, 0x10C, 0x80000000);
    dmaToRam(h, 0x0A000000, 64);
    expect(h.core.readPhysical(0x700000, 64)).toEqual(h.core.readPhysical(0x600000, 64));
  });
});

describe("DMA through random mappings", () => {
  test("every transfer lands where the mapping says, or faults and moves nothing (model check)", () => {
    fc.assert(fc.property(
      fc.array(fc.record({ iovaPage: fc.integer({ min: 0x1000, max: 0x1010 }), ramPage: fc.integer({ min: 0x500, max: 0x540 }), perms: fc.constantFrom(0n, R, W, R | W) }), { minLength: 1, maxLength: 12 }),
      fc.array(fc.record({ write: fc.boolean(), iovaPage: fc.integer({ min: 0x1000, max: 0x1012 }), offset: fc.integer({ min: 0, max: 15 }).map((x) => x * 256) }), { minLength: 1, maxLength: 8 }),
      (mappings, transfers) => {
        const h = withIommu();
        // Load the device buffer before translation is on.
        const data = pattern(256, 9);
        h.core.writePhysical(0x400000, data);
        dmaToDevice(h, 0x400000, 256);
        const t = new Tables(h);
        const model = new Map<number, { page: number; perms: bigint }>();
        for (const m of mappings) {
          t.map(m.iovaPage * 4096, m.ramPage * 4096, m.perms);
          model.set(m.iovaPage, { page: m.ramPage, perms: m.perms });
        }
        t.enable();
        // Writes first (the device buffer keeps the pattern), then reads.
        const ordered = [...transfers.filter((x) => x.write), ...transfers.filter((x) => !x.write)];
        const ram = new Map<number, Uint8Array>();
        for (const tr of ordered) {
          const m = model.get(tr.iovaPage);
          const faultsBefore = h.counters().deviceErrors;
          if (tr.write) {
            dmaToRam(h, tr.iovaPage * 4096 + tr.offset, 256);
            const allowed = m !== undefined && (m.perms & W) !== 0n;
            expect(h.counters().deviceErrors > faultsBefore).toBe(!allowed);
            if (allowed) ram.set(m.page * 4096 + tr.offset, data);
          } else {
            dmaToDevice(h, tr.iovaPage * 4096 + tr.offset, 256);
            expect(h.counters().deviceErrors > faultsBefore).toBe(!(m !== undefined && (m.perms & R) !== 0n));
          }
        }
        // RAM holds exactly what the allowed writes put there; nothing else in the pool moved.
        const pool = h.core.readPhysical(0x500000, 0x41000);
        const expected = new Uint8Array(0x41000);
        for (const [pa, bytes] of ram) expected.set(bytes, pa - 0x500000);
        expect(Buffer.from(pool).equals(Buffer.from(expected))).toBe(true);
      },
    ), { numRuns: 15 });
  });
});
