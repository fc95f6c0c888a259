// PCI configuration space of the edu function, through ECAM, against shared/specs/pci.md
// and the identity table of shared/specs/edu.md.
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import {
  BAR0_BASE, CFG, CMD, CoreHarness, EDU, L, MSI_CAP, STS, STS_W1C, readyEdu,
} from "../support/core-harness.js";
import { loadDevice } from "../../src/machine/firmwareFiles.js";

/**
 * Triggers a DMA read (a non-posted request) from RAM that is not backed: the root complex
 * answers Unsupported Request, which the function records as a received master abort.
 */
function provokeReceivedMasterAbort(h: CoreHarness): void {
  h.mmioWrite(EDU.DMA_SRC, 0x0F000000n, 8); // below the 28-bit mask, above the 32 MiB of RAM
  h.mmioWrite(EDU.DMA_DST, BigInt(EDU.BUFFER), 8);
  h.mmioWrite(EDU.DMA_COUNT, 16n, 8);
  h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START);
  h.advance(50e6);
}

describe("identity", () => {
  test("identity: vendor 0x1234, device 0x11E8", () => {
    const h = new CoreHarness();
    expect(h.cfgRead(CFG.VENDOR, 2)).toBe(0x1234);
    expect(h.cfgRead(CFG.DEVICE, 2)).toBe(0x11E8);
    expect(h.cfgRead(0, 4)).toBe(0x11E81234);
  });

  test("identity: revision 0x10", () => {
    const h = new CoreHarness();
    expect(h.cfgRead(CFG.REVISION, 1)).toBe(0x10);
  });

  test("identity: class code base 0x00, sub-class 0xFF, prog-if 0x00 (0x00FF at 0x0A as a 16-bit word)", () => {
    const h = new CoreHarness();
    expect(h.cfgRead(CFG.SUBCLASS, 2)).toBe(0x00FF);
    expect(h.cfgRead(CFG.PROG_IF, 1)).toBe(0x00);
    expect(h.cfgRead(CFG.SUBCLASS, 1)).toBe(0xFF);
    expect(h.cfgRead(CFG.CLASS, 1)).toBe(0x00);
    expect(h.cfgRead(0x08, 4) >>> 0).toBe(0x00FF0010);
  });

  test("identity: subsystem vendor 0x1AF4, subsystem 0x1100", () => {
    const h = new CoreHarness();
    expect(h.cfgRead(CFG.SUBSYS_VENDOR, 2)).toBe(0x1AF4);
    expect(h.cfgRead(CFG.SUBSYS_ID, 2)).toBe(0x1100);
    expect(h.cfgRead(0x2C, 4)).toBe(0x11001AF4);
  });

  test("identity: interrupt pin 1 (INTA#)", () => {
    const h = new CoreHarness();
    expect(h.cfgRead(CFG.INT_PIN, 1)).toBe(1);
  });

  test("identity: header type 0, single function", () => {
    const h = new CoreHarness();
    expect(h.cfgRead(CFG.HEADER_TYPE, 1)).toBe(0);
  });

  test("identity: the edu function sits at 00:03.0", () => {
    const h = new CoreHarness();
    expect(h.x.functionCount()).toBe(1);
    expect(h.x.functionBdf(h.fn)).toBe((0 << 8) | (3 << 3) | 0);
  });
});

describe("enumeration", () => {
  test("nonexistent functions read vendor 0xFFFF (all ones)", () => {
    const h = new CoreHarness();
    for (const bdf of [{ bus: 0, dev: 0, fn: 0 }, { bus: 0, dev: 3, fn: 1 }, { bus: 0, dev: 4, fn: 0 }, { bus: 0, dev: 31, fn: 7 }]) {
      expect(h.cfgRead(0, 2, bdf)).toBe(0xFFFF);
      expect(h.cfgRead(0, 4, bdf) >>> 0).toBe(0xFFFFFFFF);
      expect(h.cfgRead(0x0E, 1, bdf)).toBe(0xFF);
    }
  });

  test("nonexistent functions: writes go nowhere", () => {
    const h = new CoreHarness();
    const empty = { bus: 0, dev: 4, fn: 0 };
    h.cfgWrite(CFG.COMMAND, 2, 0x7, empty);
    h.cfgWrite(CFG.INT_LINE, 1, 0x0B, empty);
    expect(h.cfgRead(CFG.COMMAND, 2, empty)).toBe(0xFFFF);
    expect(h.cfgRead(CFG.COMMAND, 2)).toBe(0);
    expect(h.cfgRead(CFG.INT_LINE, 1)).toBe(0);
  });

  test("enumeration scan of bus 0 finds exactly one function, 00:03.0", () => {
    const h = new CoreHarness();
    const found: string[] = [];
    for (let dev = 0; dev < 32; dev++) {
      for (let fn = 0; fn < 8; fn++) {
        if (h.cfgRead(0, 2, { bus: 0, dev, fn }) !== 0xFFFF) found.push(`${dev}.${fn}`);
      }
    }
    expect(found).toEqual(["3.0"]);
  });
});

describe("capabilities", () => {
  test("capabilities: status bit 4 set and the capabilities pointer is 0x40", () => {
    const h = new CoreHarness();
    expect(h.cfgRead(CFG.STATUS, 2) & STS.CAP_LIST).toBe(STS.CAP_LIST);
    expect(h.cfgRead(CFG.CAP_PTR, 1)).toBe(0x40);
  });

  test("MSI capability: ID 5 at 0x40, end of the list", () => {
    const h = new CoreHarness();
    expect(h.cfgRead(MSI_CAP, 1)).toBe(0x05);
    expect(h.cfgRead(MSI_CAP + 1, 1)).toBe(0x00);
  });

  test("MSI capability: message control says 64-bit, 1 vector (MMC 0), no per-vector masking, disabled", () => {
    const h = new CoreHarness();
    const control = h.cfgRead(MSI_CAP + 2, 2);
    expect(control & 0x80).toBe(0x80); // 64-bit address capable
    expect((control >> 1) & 7).toBe(0); // multiple message capable: log2(1)
    expect(control & 0x100).toBe(0); // per-vector masking
    expect(control & 1).toBe(0); // disabled at reset
    expect((control >> 4) & 7).toBe(0); // multiple message enable
  });

  test("MSI capability: enable bit is read-write; 64-bit/masking/MMC bits are read-only", () => {
    const h = new CoreHarness();
    h.cfgWrite(MSI_CAP + 2, 2, 0x0001);
    expect(h.cfgRead(MSI_CAP + 2, 2) & 1).toBe(1);
    h.cfgWrite(MSI_CAP + 2, 2, 0xFF7E);
    const c = h.cfgRead(MSI_CAP + 2, 2);
    expect(c & 1).toBe(0);
    expect(c & 0x80).toBe(0x80);
    expect(c & 0x100).toBe(0);
    expect((c >> 1) & 7).toBe(0);
  });

  test("MSI capability 64-bit layout: +4 address low (bits 1:0 zero), +8 address high, +0x0C 16-bit data", () => {
    const h = new CoreHarness();
    h.cfgWrite(MSI_CAP + 4, 4, 0xFFFFFFFF);
    h.cfgWrite(MSI_CAP + 8, 4, 0xFFFFFFFF);
    h.cfgWrite(MSI_CAP + 0x0C, 4, 0xFFFFFFFF);
    expect(h.cfgRead(MSI_CAP + 4, 4) >>> 0).toBe(0xFFFFFFFC);
    expect(h.cfgRead(MSI_CAP + 8, 4) >>> 0).toBe(0xFFFFFFFF);
    expect(h.cfgRead(MSI_CAP + 0x0C, 2)).toBe(0xFFFF);
    h.cfgWrite(MSI_CAP + 4, 4, 0xFEE01003);
    h.cfgWrite(MSI_CAP + 8, 4, 0);
    h.cfgWrite(MSI_CAP + 0x0C, 2, 0x0041);
    expect(h.cfgRead(MSI_CAP + 4, 4) >>> 0).toBe(0xFEE01000);
    expect(h.cfgRead(MSI_CAP + 8, 4)).toBe(0);
    expect(h.cfgRead(MSI_CAP + 0x0C, 2)).toBe(0x41);
  });

  test("MSI capability: an interrupt uses the programmed address and data", () => {
    const h = readyEdu();
    h.cfgWrite(MSI_CAP + 4, 4, 0xFEE01000); // APIC ID 1
    h.cfgWrite(MSI_CAP + 0x0C, 2, 0x0072);
    h.cfgWrite(MSI_CAP + 2, 2, 1);
    h.mmioWrite(EDU.IRQ_RAISE, 1);
    h.advance(10e6);
    expect(h.core.highestPending(1)).toBe(0x72);
  });
});

describe("status, command and read-only fields", () => {
  test("status w1c: received master abort (bit 13) is set by the function and cleared only by writing 1", () => {
    const h = readyEdu();
    expect(h.cfgRead(CFG.STATUS, 2) & STS.RECEIVED_MASTER_ABORT).toBe(0);
    provokeReceivedMasterAbort(h);
    expect(h.cfgRead(CFG.STATUS, 2) & STS.RECEIVED_MASTER_ABORT).toBe(STS.RECEIVED_MASTER_ABORT);
    h.cfgWrite(CFG.STATUS, 2, 0);
    expect(h.cfgRead(CFG.STATUS, 2) & STS.RECEIVED_MASTER_ABORT).toBe(STS.RECEIVED_MASTER_ABORT);
    h.cfgWrite(CFG.STATUS, 2, STS_W1C & ~STS.RECEIVED_MASTER_ABORT);
    expect(h.cfgRead(CFG.STATUS, 2) & STS.RECEIVED_MASTER_ABORT).toBe(STS.RECEIVED_MASTER_ABORT);
    h.cfgWrite(CFG.STATUS, 2, STS.RECEIVED_MASTER_ABORT);
    expect(h.cfgRead(CFG.STATUS, 2) & STS.RECEIVED_MASTER_ABORT).toBe(0);
    // The RO capabilities bit survives all of it.
    expect(h.cfgRead(CFG.STATUS, 2) & STS.CAP_LIST).toBe(STS.CAP_LIST);
  });

  test("a posted DMA write to unbacked memory is recorded as a master abort but sets no status bit (no completion returns)", () => {
    const h = readyEdu();
    const before = h.core.counters().masterAborts;
    h.mmioWrite(EDU.DMA_SRC, BigInt(EDU.BUFFER), 8);
    h.mmioWrite(EDU.DMA_DST, 0x0F000000n, 8);
    h.mmioWrite(EDU.DMA_COUNT, 16n, 8);
    h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START | EDU.DMA_TO_RAM);
    h.advance(50e6);
    expect(h.core.counters().masterAborts).toBe(before + 1);
    expect(h.cfgRead(CFG.STATUS, 2) & STS.RECEIVED_MASTER_ABORT).toBe(0);
  });

  test("status w1c: a 4-byte write to 0x04 clears status bits written as 1 and leaves the command bits as written", () => {
    const h = readyEdu();
    provokeReceivedMasterAbort(h);
    h.cfgWrite(CFG.COMMAND, 4, (STS.RECEIVED_MASTER_ABORT << 16) | CMD.MEMORY | CMD.BUS_MASTER);
    const v = h.cfgRead(CFG.COMMAND, 4);
    expect(v & 0xFFFF).toBe(CMD.MEMORY | CMD.BUS_MASTER);
    expect((v >>> 16) & STS.RECEIVED_MASTER_ABORT).toBe(0);
  });

  test("status: bits 3 (interrupt) and 4 (capabilities) are read-only", () => {
    const h = new CoreHarness();
    h.cfgWrite(CFG.STATUS, 2, 0xFFFF);
    const s = h.cfgRead(CFG.STATUS, 2);
    expect(s & STS.INTERRUPT).toBe(0);
    expect(s & STS.CAP_LIST).toBe(STS.CAP_LIST);
  });

  test("command: the bits pci.md names are writable and reset to 0", () => {
    const h = new CoreHarness();
    expect(h.cfgRead(CFG.COMMAND, 2)).toBe(0);
    const named = CMD.IO | CMD.MEMORY | CMD.BUS_MASTER | CMD.PARITY | CMD.SERR | CMD.INTX_DISABLE;
    h.cfgWrite(CFG.COMMAND, 2, named);
    expect(h.cfgRead(CFG.COMMAND, 2) & named).toBe(named);
    h.cfgWrite(CFG.COMMAND, 2, 0);
    expect(h.cfgRead(CFG.COMMAND, 2)).toBe(0);
  });

  test("read-only fields ignore writes (IDs, revision, class, header type, subsystem, capabilities pointer, pin)", () => {
    const h = new CoreHarness();
    const fields: [number, number][] = [
      [CFG.VENDOR, 2], [CFG.DEVICE, 2], [CFG.REVISION, 1], [CFG.PROG_IF, 1], [CFG.SUBCLASS, 2], [CFG.HEADER_TYPE, 1],
      [CFG.SUBSYS_VENDOR, 2], [CFG.SUBSYS_ID, 2], [CFG.CAP_PTR, 1], [CFG.INT_PIN, 1], [MSI_CAP, 2],
    ];
    const before = fields.map(([o, s]) => h.cfgRead(o, s));
    for (const [o, s] of fields) h.cfgWrite(o, s, 0xFFFFFFFF);
    for (const [o, s] of fields) h.cfgWrite(o, s, 0);
    expect(fields.map(([o, s]) => h.cfgRead(o, s))).toEqual(before);
    h.cfgWrite(0x00, 4, 0);
    h.cfgWrite(0x08, 4, 0xFFFFFFFF);
    h.cfgWrite(0x2C, 4, 0);
    expect(h.cfgRead(0x00, 4)).toBe(0x11E81234);
    expect(h.cfgRead(0x2C, 4)).toBe(0x11001AF4);
    expect(h.cfgRead(0x08, 4)).toBe(0x00FF0010);
  });

  test("interrupt line (0x3C) is read-write scratch and leaves the pin alone", () => {
    const h = new CoreHarness();
    for (const v of [0x0B, 0xFF, 0x00, 0x5A]) {
      h.cfgWrite(CFG.INT_LINE, 1, v);
      expect(h.cfgRead(CFG.INT_LINE, 1)).toBe(v);
      expect(h.cfgRead(CFG.INT_PIN, 1)).toBe(1);
    }
    h.cfgWrite(0x3C, 4, 0xFFFFFF11);
    expect(h.cfgRead(0x3C, 4) & 0xFFFF).toBe(0x0111);
  });

  test("cache line size (0x0C) is read-write", () => {
    const h = new CoreHarness();
    h.cfgWrite(CFG.CACHE_LINE, 1, 0x10);
    expect(h.cfgRead(CFG.CACHE_LINE, 1)).toBe(0x10);
  });
});

describe("BARs", () => {
  test("BAR sizing: writing all ones to BAR0 reads back ~(1 MiB - 1) with type bits 0 (32-bit, non-prefetchable memory)", () => {
    const h = new CoreHarness();
    expect(h.cfgRead(CFG.BAR0, 4)).toBe(0);
    h.cfgWrite(CFG.BAR0, 4, 0xFFFFFFFF);
    const v = h.cfgRead(CFG.BAR0, 4) >>> 0;
    expect(v).toBe(0xFFF00000);
    expect(v & 1).toBe(0); // memory
    expect((v >> 1) & 3).toBe(0); // 32-bit
    expect(v & 8).toBe(0); // non-prefetchable
    expect((~(v & ~0xF) + 1) >>> 0).toBe(1 << 20);
  });

  test("BARs: no other BARs (BAR1..BAR5 read 0 and ignore sizing writes)", () => {
    const h = new CoreHarness();
    for (let bar = 1; bar < 6; bar++) {
      const off = CFG.BAR0 + bar * 4;
      h.cfgWrite(off, 4, 0xFFFFFFFF);
      expect(h.cfgRead(off, 4)).toBe(0);
    }
  });

  test("BAR0: programmed base reads back with the low 20 bits clear", () => {
    const h = new CoreHarness();
    h.cfgWrite(CFG.BAR0, 4, 0xC0012345);
    expect(h.cfgRead(CFG.BAR0, 4) >>> 0).toBe(0xC0000000);
  });

  test("BAR decode: only with memory space enabled", () => {
    const h = new CoreHarness();
    h.identityMap(BAR0_BASE, 1 << 20);
    h.barBase = BAR0_BASE;
    h.cfgWrite(CFG.BAR0, 4, BAR0_BASE);
    const r = h.read(BAR0_BASE, 4);
    expect(r.status).toBe(L.ACCESS_MASTER_ABORT);
    expect(r.value).toBe(0xFFFFFFFFn);
    expect(h.counters().masterAborts).toBe(1);
    expect(h.counters().mmioReads).toBe(0);
    h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY);
    expect(h.read(BAR0_BASE, 4)).toEqual({ value: 0x010000EDn, status: L.ACCESS_OK });
    h.cfgWrite(CFG.COMMAND, 2, CMD.BUS_MASTER);
    expect(h.read(BAR0_BASE, 4).status).toBe(L.ACCESS_MASTER_ABORT);
  });

  test("BAR decode: not at address 0 (a zero BAR with memory space enabled decodes nothing)", () => {
    const h = new CoreHarness();
    h.identityMap(0, 4096);
    h.identityMap(BAR0_BASE, 1 << 20);
    h.core.writePhysical64(0, 0xCAFEF00D, 0);
    h.cfgWrite(CFG.BAR0, 4, 0);
    h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY);
    h.cfgRead(CFG.COMMAND, 2);
    const before = h.counters().mmioReads;
    expect(h.read(0, 4)).toEqual({ value: 0xCAFEF00Dn, status: L.ACCESS_OK });
    expect(h.counters().mmioReads).toBe(before);
    expect(h.read(BAR0_BASE, 4).status).toBe(L.ACCESS_MASTER_ABORT);
  });

  test("BAR decode: moving BAR0 moves the registers", () => {
    const h = readyEdu();
    expect(h.mmioRead(EDU.ID)).toBe(0x010000ED);
    const moved = 0xD0000000;
    h.identityMap(moved, 1 << 20);
    h.cfgWrite(CFG.BAR0, 4, moved);
    expect(h.read(BAR0_BASE, 4).status).toBe(L.ACCESS_MASTER_ABORT);
    expect(h.read(moved + EDU.ID, 4)).toEqual({ value: 0x010000EDn, status: L.ACCESS_OK });
    expect(h.read(moved + (1 << 20) - 4, 4).value).toBe(0xFFFFFFFFn); // last dword of the BAR: undecoded register
    expect(h.read(moved + (1 << 20) - 4, 4).status).toBe(L.ACCESS_OK);
  });
});

describe("access sizes", () => {
  test("config accesses of 1, 2 and 4 bytes see the same little-endian bytes", () => {
    const h = new CoreHarness();
    const dwords: number[] = [];
    for (let off = 0; off < 0x50; off += 4) dwords.push(h.cfgRead(off, 4) >>> 0);
    for (let off = 0; off < 0x50; off++) {
      const byte = (dwords[off >> 2] >>> ((off & 3) * 8)) & 0xFF;
      expect(h.cfgRead(off, 1), `byte 0x${off.toString(16)}`).toBe(byte);
      if ((off & 1) === 0) {
        const word = (dwords[off >> 2] >>> ((off & 3) * 8)) & 0xFFFF;
        expect(h.cfgRead(off, 2), `word 0x${off.toString(16)}`).toBe(word);
      }
    }
  });

  test("config writes of 1 and 2 bytes touch only their bytes", () => {
    const h = new CoreHarness();
    h.cfgWrite(MSI_CAP + 4, 4, 0x11223344);
    h.cfgWrite(MSI_CAP + 5, 1, 0xAA);
    expect(h.cfgRead(MSI_CAP + 4, 4) >>> 0).toBe(0x1122AA44);
    h.cfgWrite(MSI_CAP + 6, 2, 0xBBCC);
    expect(h.cfgRead(MSI_CAP + 4, 4) >>> 0).toBe(0xBBCCAA44);
  });

  test("direct config access (configRead/configWrite) matches ECAM", () => {
    const h = new CoreHarness();
    for (let off = 0; off < 0x50; off += 4) expect(h.x.configRead(h.fn, off, 4) >>> 0).toBe(h.cfgRead(off, 4) >>> 0);
    h.x.configWrite(h.fn, CFG.INT_LINE, 1, 0x42);
    expect(h.cfgRead(CFG.INT_LINE, 1)).toBe(0x42);
  });
});

// ---- the write rule, as a property ----------------------------------------------------

/** Bytes of config space the property covers: the type 0 header and the MSI capability, and beyond. */
const SPACE = 0x100;

interface Model {
  value: Uint8Array;
  wmask: Uint8Array;
  w1c: Uint8Array;
}

function readSpace(h: CoreHarness): Uint8Array {
  const out = new Uint8Array(SPACE);
  const dv = new DataView(out.buffer);
  for (let off = 0; off < SPACE; off += 4) dv.setUint32(off, h.cfgRead(off, 4) >>> 0, true);
  return out;
}

/** Derives the writable mask by writing 0 and all ones to each dword (on a fresh function). */
function probeWritable(h: CoreHarness): Uint8Array {
  const wmask = new Uint8Array(SPACE);
  const dv = new DataView(wmask.buffer);
  for (let off = 0; off < SPACE; off += 4) {
    const old = h.cfgRead(off, 4) >>> 0;
    h.cfgWrite(off, 4, 0);
    const zeros = h.cfgRead(off, 4) >>> 0;
    h.cfgWrite(off, 4, 0xFFFFFFFF);
    const ones = h.cfgRead(off, 4) >>> 0;
    dv.setUint32(off, (ones & ~zeros) >>> 0, true);
    h.cfgWrite(off, 4, old);
  }
  return wmask;
}

function w1cMask(): Uint8Array {
  const m = new Uint8Array(SPACE);
  m[CFG.STATUS] = STS_W1C & 0xFF;
  m[CFG.STATUS + 1] = STS_W1C >> 8;
  return m;
}

function applyWrite(m: Model, offset: number, size: number, value: number): void {
  for (let i = 0; i < size; i++) {
    const at = offset + i;
    const val = (value >>> (8 * i)) & 0xFF;
    const merged = (m.value[at] & ~m.wmask[at]) | (val & m.wmask[at]);
    m.value[at] = merged & ~(val & m.w1c[at]) & 0xFF;
  }
}

describe("write rule property", () => {
  test("probing: the writable mask of the header matches pci.md's writable fields", () => {
    const h = new CoreHarness();
    const w = probeWritable(h);
    const dv = new DataView(w.buffer);
    expect(dv.getUint32(CFG.BAR0, true) >>> 0).toBe(0xFFF00000);
    expect(w[CFG.INT_LINE]).toBe(0xFF);
    expect(w[CFG.INT_PIN]).toBe(0);
    expect(dv.getUint16(CFG.VENDOR, true)).toBe(0);
    expect(dv.getUint16(CFG.STATUS, true)).toBe(0);
    expect(dv.getUint32(MSI_CAP + 4, true) >>> 0).toBe(0xFFFFFFFC);
  });

  test("write rule: new = (old & ~wmask) | (val & wmask), then w1c bits written as 1 clear (random 1/2/4-byte writes)", () => {
    const h = readyEdu();
    // Masks from a fresh function, so the w1c status bits are known to be clear while probing.
    const wmask = probeWritable(new CoreHarness());
    const w1c = w1cMask();
    const access = fc.oneof(
      fc.record({ size: fc.constant(4), offset: fc.integer({ min: 0, max: SPACE / 4 - 1 }).map((d) => d * 4) }),
      fc.record({ size: fc.constant(2), offset: fc.integer({ min: 0, max: SPACE / 2 - 1 }).map((d) => d * 2) }),
      fc.record({ size: fc.constant(1), offset: fc.integer({ min: 0, max: SPACE - 1 }) }),
    );
    const write = fc.record({ access, value: fc.oneof(fc.integer({ min: 0, max: 0xFFFFFFFF }), fc.constantFrom(0, 0xFFFFFFFF, 0x2000_2000)) });
    fc.assert(
      fc.property(fc.array(write, { minLength: 1, maxLength: 24 }), (writes) => {
        // Prelude: a decoding, bus-mastering function with received-master-abort set.
        h.cfgWrite(CFG.BAR0, 4, BAR0_BASE);
        h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY | CMD.BUS_MASTER);
        h.cfgWrite(MSI_CAP + 2, 2, 0);
        h.mmioWrite(EDU.IRQ_ACK, 0xFFFFFFFF);
        provokeReceivedMasterAbort(h);
        expect(h.cfgRead(CFG.STATUS, 2) & STS.RECEIVED_MASTER_ABORT).toBe(STS.RECEIVED_MASTER_ABORT);
        const model: Model = { value: readSpace(h), wmask, w1c };
        for (const { access: { offset, size }, value } of writes) {
          const v = size === 4 ? value >>> 0 : value & ((1 << (size * 8)) - 1);
          h.cfgWrite(offset, size, v);
          applyWrite(model, offset, size, v);
          const d = offset & ~3;
          const dv = new DataView(model.value.buffer);
          expect(h.cfgRead(d, 4) >>> 0, `dword 0x${d.toString(16)} after ${size}-byte write of 0x${v.toString(16)} at 0x${offset.toString(16)}`)
            .toBe(dv.getUint32(d, true) >>> 0);
        }
        expect(readSpace(h)).toEqual(model.value);
      }),
      { numRuns: 60, seed: 0x5EED },
    );
  });
});



// ---- variants built from edited device descriptions -----------------------------------

describe("device variants", () => {
  test("ECAM addressing: a function at 01:05.2 (behind a root port) answers at ecam + (1 << 20 | 5 << 15 | 2 << 12)", () => {
    const h = new CoreHarness({
      edit: (d) => {
        d.ecam.buses = 2;
        const port = { bus: 0, device: 0x1C, function: 0, deviceFile: "pcie-root-port", spec: loadDevice("pcie-root-port"), parent: null, secondaryBus: 1, subordinateBus: 1 };
        d.slots = [port, { ...d.slots[0], bus: 1, device: 5, function: 2, parent: 0 }];
      },
    });
    expect(h.cfgRead(0, 4, { bus: 1, dev: 5, fn: 2 })).toBe(0x11E81234);
    expect(h.cfgRead(0, 2, { bus: 0, dev: 5, fn: 2 })).toBe(0xFFFF);
    expect(h.cfgRead(0, 2, { bus: 1, dev: 5, fn: 0 })).toBe(0xFFFF);
    expect(h.read(h.ecamBase + (1 << 20) + (5 << 15) + (2 << 12) + 0x2C, 2).value).toBe(0x1AF4n);
  });

  test("header type bit 7 marks a multi-function device", () => {
    const h = new CoreHarness({
      edit: (d) => { d.slots.push({ ...structuredClone(d.slots[0]), function: 1 }); },
    });
    expect(h.cfgRead(CFG.HEADER_TYPE, 1, { bus: 0, dev: 3, fn: 0 }) & 0x80).toBe(0x80);
    expect(h.cfgRead(CFG.HEADER_TYPE, 1, { bus: 0, dev: 3, fn: 1 }) & 0x80).toBe(0x80);
    expect(h.cfgRead(CFG.HEADER_TYPE, 1, { bus: 0, dev: 3, fn: 1 }) & 0x7F).toBe(0);
  });

  test("64-bit BAR: two slots, sizing reads ~(size-1) | 0x4 (| 0x8 prefetchable) low and all ones high; decodes above 4 GiB", () => {
    const h = new CoreHarness({
      edit: (d) => { d.slots[0].spec.bars = [{ index: 0, size: 1 << 20, type: "memory64", prefetchable: true }]; },
    });
    h.cfgWrite(CFG.BAR0, 4, 0xFFFFFFFF);
    h.cfgWrite(CFG.BAR0 + 4, 4, 0xFFFFFFFF);
    expect(h.cfgRead(CFG.BAR0, 4) >>> 0).toBe(0xFFF0000C);
    expect(h.cfgRead(CFG.BAR0 + 4, 4) >>> 0).toBe(0xFFFFFFFF);
    const base = 0x4_C030_0000;
    h.identityMap(base, 1 << 20);
    h.cfgWrite(CFG.BAR0, 4, base % 2 ** 32);
    h.cfgWrite(CFG.BAR0 + 4, 4, Math.floor(base / 2 ** 32));
    h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY);
    expect(h.read(base + EDU.ID, 4)).toEqual({ value: 0x010000EDn, status: L.ACCESS_OK });
    h.identityMap(base % 2 ** 32, 4096);
    expect(h.read(base % 2 ** 32, 4).status).toBe(L.ACCESS_MASTER_ABORT); // the low 32 bits alone do not decode
  });

  test("I/O BAR: bit 0 reads 1 and sizing reads ~(size-1) | 1", () => {
    const h = new CoreHarness({
      edit: (d) => { d.slots[0].spec.bars = [{ index: 0, size: 1 << 20, type: "memory32", prefetchable: false }, { index: 1, size: 32, type: "io", prefetchable: false }]; },
    });
    expect(h.cfgRead(CFG.BAR0 + 4, 4) & 1).toBe(1);
    h.cfgWrite(CFG.BAR0 + 4, 4, 0xFFFFFFFF);
    expect(h.cfgRead(CFG.BAR0 + 4, 4) >>> 0).toBe((~31 | 1) >>> 0);
  });

  test("MSI capability 32-bit form: size 0x0A with the data at +0x08", () => {
    const h = readyEdu({ edit: (d) => { d.slots[0].spec.msi = { offset: 0x40, vectors: 1, address64: false, perVectorMasking: false }; } });
    expect(h.cfgRead(MSI_CAP + 2, 2) & 0x80).toBe(0);
    h.cfgWrite(MSI_CAP + 4, 4, 0xFEE00000);
    h.cfgWrite(MSI_CAP + 8, 2, 0x0066);
    h.cfgWrite(MSI_CAP + 2, 2, 1);
    h.mmioWrite(EDU.IRQ_RAISE, 1);
    h.advance(10e6);
    expect(h.core.highestPending(0)).toBe(0x66);
  });

  test("MSI capability: multiple message capable reports log2 of the vectors", () => {
    const h = new CoreHarness({ edit: (d) => { d.slots[0].spec.msi = { offset: 0x50, vectors: 8, address64: true, perVectorMasking: false }; } });
    expect(h.cfgRead(CFG.CAP_PTR, 1)).toBe(0x50);
    expect((h.cfgRead(0x52, 2) >> 1) & 7).toBe(3);
  });

  test("MSI per-vector masking: a masked vector sets its pending bit and is sent when unmasked (64-bit form: mask +0x10, pending +0x14)", () => {
    const h = readyEdu({ edit: (d) => { d.slots[0].spec.msi = { offset: 0x40, vectors: 1, address64: true, perVectorMasking: true }; } });
    expect(h.cfgRead(MSI_CAP + 2, 2) & 0x180).toBe(0x180);
    h.enableMsi();
    h.cfgWrite(MSI_CAP + 0x10, 4, 1);
    h.mmioWrite(EDU.IRQ_RAISE, 1);
    h.advance(10e6);
    expect(h.counters().msiSent).toBe(0);
    expect(h.core.highestPending(0)).toBe(0);
    expect(h.cfgRead(MSI_CAP + 0x14, 4) & 1).toBe(1);
    h.cfgWrite(MSI_CAP + 0x10, 4, 0);
    h.advance(10e6);
    expect(h.counters().msiSent).toBe(1);
    expect(h.core.highestPending(0)).toBe(0x51);
    expect(h.cfgRead(MSI_CAP + 0x14, 4) & 1).toBe(0);
  });

  test("bus master disabled: an MSI (a posted memory write) is dropped and recorded as a master abort", () => {
    const h = readyEdu();
    h.enableMsi();
    h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY);
    const before = h.counters().masterAborts;
    h.mmioWrite(EDU.IRQ_RAISE, 1);
    h.advance(10e6);
    expect(h.core.highestPending(0)).toBe(0);
    expect(h.counters().masterAborts).toBe(before + 1);
  });

  test("config write is seen by the CPU's very next access (an MMIO read right after enabling memory space decodes)", () => {
    const h = new CoreHarness();
    h.identityMap(BAR0_BASE, 1 << 20);
    h.cfgWrite(CFG.BAR0, 4, BAR0_BASE);
    h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY);
    expect(h.read(BAR0_BASE, 4)).toEqual({ value: 0x010000EDn, status: L.ACCESS_OK });
  });
});
