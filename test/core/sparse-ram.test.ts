// Guest RAM backed sparsely: a machine may describe 64 GiB, a page gets backing in the
// core's linear memory only when it is first written, unwritten RAM reads zeros, and
// every path (CPU through the MMU, DMA, firmware, snapshots) reaches RAM above 4 GiB
// through the RAM directory, across pages that are apart in linear memory.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreHarness, EDU, L, PAGE, PTE, pattern, readyEdu } from "../support/core-harness.js";
import { IO, SC, readyNvme } from "../support/nvme-harness.js";
import { Machine } from "../../src/machine/machine.js";
import { FirmwareError, loadMachine, type MachineDescription } from "../../src/machine/firmwareFiles.js";
import { discoverPlatform } from "../../src/hal/acpi.js";

const GiB = 2 ** 30;
const MiB = 2 ** 20;
/** 64 GiB: 3 GiB below the PCI hole, 61 GiB from 4 GiB up (ending at 65 GiB). */
const RAM_64G = [{ base: 0, size: 3 * GiB }, { base: 4 * GiB, size: 61 * GiB }];
const RAM_END = 65 * GiB;

const backed = (h: CoreHarness) => h.core.counters().ramPagesBacked;
const big = (d: MachineDescription) => { d.memory = RAM_64G.map((r) => ({ ...r })); };

/** Runs an edu DMA (src, dst, count) to completion. */
function eduDma(h: CoreHarness, src: number, dst: number, count: number, cmd: number): void {
  h.mmioWrite(EDU.DMA_SRC, BigInt(src), 8);
  h.mmioWrite(EDU.DMA_DST, BigInt(dst), 8);
  h.mmioWrite(EDU.DMA_COUNT, BigInt(count), 8);
  h.mmioWrite(EDU.DMA_CMD, cmd);
  for (let i = 0; i < 1000; i++) {
    if ((h.mmioRead(EDU.DMA_CMD) & EDU.DMA_START) === 0) return;
    h.advance(10e6);
  }
  throw new Error("DMA did not finish");
}

describe("a machine describing 64 GiB of RAM", () => {
  test("powers on holding little: the firmware's memory map lists all of it, a few pages are backed", () => {
    const h = new CoreHarness({ edit: big });
    const map = discoverPlatform(h.core).usableRam;
    expect(map.reduce((a, r) => a + r.size, 0)).toBe(64 * GiB - MiB);
    expect(map).toContainEqual({ base: 4 * GiB, size: 61 * GiB });
    // Firmware tables and the harness's page tables: a handful of pages, not 16 million.
    expect(backed(h)).toBeLessThan(32);
    expect(h.core.memoryBytes).toBeLessThan(L.POOL_BASE + 64 * MiB);
    expect(h.x.poolBytes()).toBeLessThan(2 * MiB);
  });

  test("writes above 4 GiB read back, across pages and at the last byte of RAM; past the end and in the hole is not RAM", () => {
    const h = new CoreHarness({ edit: big });
    const data = pattern(8192, 3);
    const at = 60 * GiB - 4096 - 100; // spans three pages and a 4 MiB leaf boundary
    h.core.writePhysical(at, data);
    expect(h.core.readPhysical(at, data.length)).toEqual(data);
    h.core.writePhysical(RAM_END - 4, new Uint8Array([1, 2, 3, 4]));
    expect(h.core.readPhysical(RAM_END - 4, 4)).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(() => h.core.readPhysical(RAM_END - 2, 4)).toThrow(RangeError);
    expect(() => h.core.writePhysical(3 * GiB + 4096, new Uint8Array(1))).toThrow(RangeError);
    expect(h.x.physRead32(RAM_END) >>> 0).toBe(0xFFFFFFFF);
    // A 4-byte access that crosses from one page into the next.
    expect(h.x.physWrite32(50 * GiB + 4094, 0xA1B2C3D4)).toBeTruthy();
    expect(h.x.physRead32(50 * GiB + 4094) >>> 0).toBe(0xA1B2C3D4);
  });

  test("untouched pages read zero without being backed, however much is read", () => {
    const h = new CoreHarness({ edit: big });
    const before = backed(h);
    const pool = h.x.poolBytes();
    expect(h.core.readPhysical(40 * GiB, 4 * MiB).every((b) => b === 0)).toBe(true);
    expect(h.core.readPhysical(RAM_END - MiB, MiB).every((b) => b === 0)).toBe(true);
    expect(h.x.physRead32(7 * GiB)).toBe(0);
    expect(backed(h)).toBe(before);
    expect(h.x.poolBytes()).toBe(pool);
  });

  test("backing grows only with written pages: zeros into unwritten pages, reads and zero fills back nothing", () => {
    const h = new CoreHarness({ edit: big });
    const before = backed(h);
    h.core.writePhysical(20 * GiB, new Uint8Array(64 * 1024)); // zeros: still reads zero unbacked
    expect(h.x.physFill(21 * GiB, 16 * PAGE, 0)).toBeTruthy();
    expect(h.x.physWrite32(22 * GiB, 0)).toBeTruthy();
    expect(backed(h)).toBe(before);
    h.core.writePhysical(20 * GiB + 5 * PAGE + 7, new Uint8Array([9]));
    expect(backed(h)).toBe(before + 1);
    h.core.writePhysical(20 * GiB + 5 * PAGE + 100, new Uint8Array([1, 2, 3]));
    expect(backed(h)).toBe(before + 1);
    expect(h.x.physFill(30 * GiB + 100, 3 * PAGE, 0x5A)).toBeTruthy(); // 100..3 pages + 100: four pages
    expect(backed(h)).toBe(before + 5);
    expect(h.core.readPhysical(30 * GiB, 3 * PAGE + 200)).toEqual(new Uint8Array(3 * PAGE + 200).fill(0x5A, 100, 3 * PAGE + 100));
  });

  test("CPU accesses through the MMU: pages above 4 GiB, an 8-byte access straddling two frames far apart", () => {
    const h = new CoreHarness({ edit: big });
    const va = 0x7000_0000_0000;
    h.map(va, 48 * GiB);
    h.map(va + PAGE, 9 * GiB);
    h.setCr3All();
    expect(h.write(va + 0x10, 4, 0xCAFEF00D)).toBe(L.ACCESS_OK);
    expect(h.read(va + 0x10, 4).value).toBe(0xCAFEF00Dn);
    expect(h.x.physRead32(48 * GiB + 0x10) >>> 0).toBe(0xCAFEF00D);
    expect(h.write(va + PAGE - 4, 8, 0x1122334455667788n)).toBe(L.ACCESS_OK);
    expect(h.read(va + PAGE - 4, 8).value).toBe(0x1122334455667788n);
    expect(h.x.physRead32(48 * GiB + PAGE - 4) >>> 0).toBe(0x55667788);
    expect(h.x.physRead32(9 * GiB) >>> 0).toBe(0x11223344);
    // A page nothing wrote reads zero through the MMU too, without backing.
    h.map(va + 2 * PAGE, 33 * GiB);
    const before = backed(h);
    expect(h.read(va + 2 * PAGE + 8, 8).value).toBe(0n);
    expect(backed(h)).toBe(before);
  });

  test("page tables above 4 GiB: the walk reads them and sets Accessed and Dirty there", () => {
    const h = new CoreHarness({ edit: big });
    // Build a PML4 .. PT chain at 62 GiB by hand, mapping va to a frame at 5 GiB.
    const t = [62 * GiB, 62 * GiB + PAGE, 62 * GiB + 2 * PAGE, 62 * GiB + 3 * PAGE];
    const va = 0x1234_5678_9000;
    const frame = 5 * GiB;
    for (let level = 3; level >= 1; level--) h.writeEntry(t[3 - level] + CoreHarness.index(va, level) * 8, BigInt(t[4 - level]) | BigInt(PTE.P | PTE.W));
    h.writeEntry(t[3] + CoreHarness.index(va, 0) * 8, BigInt(frame) | BigInt(PTE.P | PTE.W));
    h.x.setCr3(0, t[0]);
    expect(h.write(va + 8, 4, 77)).toBe(L.ACCESS_OK);
    expect(h.x.physRead32(frame + 8)).toBe(77);
    expect(h.readEntry(t[3] + CoreHarness.index(va, 0) * 8) & BigInt(PTE.A | PTE.D)).toBe(BigInt(PTE.A | PTE.D));
    expect(h.readEntry(t[0] + CoreHarness.index(va, 3) * 8) & BigInt(PTE.A)).toBe(BigInt(PTE.A));
  });
});

describe("DMA over pages that are apart in linear memory", () => {
  test("edu: a 4 KiB transfer straddling two pages backed out of order is byte-exact both ways", () => {
    const h = readyEdu();
    // Pages A and A + 4 KiB get their backing in reverse order with another page between,
    // so the transfer crosses from one backing page to one that is not next to it.
    const A = 0x600000;
    h.core.writePhysical(A + PAGE, new Uint8Array([1]));
    h.core.writePhysical(0x700000, new Uint8Array([1]));
    h.core.writePhysical(A, new Uint8Array([1]));
    const data = pattern(4096, 11);
    h.core.writePhysical(A + 0x800, data);
    eduDma(h, A + 0x800, EDU.BUFFER, 4096, EDU.DMA_START);
    // Device -> RAM into two pages nothing wrote, and two backed out of order.
    for (const B of [0x900000, 0xA00000]) {
      if (B === 0xA00000) {
        h.core.writePhysical(B + PAGE, new Uint8Array([2]));
        h.core.writePhysical(0xB00000, new Uint8Array([2]));
        h.core.writePhysical(B, new Uint8Array([2]));
      }
      eduDma(h, EDU.BUFFER, B + 0x800, 4096, EDU.DMA_START | EDU.DMA_TO_RAM);
      expect(h.core.readPhysical(B + 0x800, 4096)).toEqual(data);
      // The bytes around the transfer are as they were.
      expect(h.core.readPhysical(B, 0x800)).toEqual(new Uint8Array(0x800).fill(B === 0xA00000 ? 2 : 0, 0, 1));
      expect(h.core.readPhysical(B + 0x1800, 0x800).every((b) => b === 0)).toBe(true);
    }
    expect(h.counters().masterAborts).toBe(0);
  });

  test("NVMe above 4 GiB: a write from a buffer straddling a 4 MiB span and a read into another land byte-exact", () => {
    const n = readyNvme({ edit: big });
    n.createPair(1, 16);
    const src = 60 * GiB - 0x800; // the last half page of one 4 MiB span, the first of the next
    const dst = 37 * GiB + 0x800;
    const data = pattern(4096, 21);
    n.h.core.writePhysical(src, data);
    const blocks = 4096 / n.blockSize;
    expect(n.exec(1, n.rw(IO.WRITE, 10, blocks, { prp1: src, prp2: src + 0x800 })).sc).toBe(SC.SUCCESS);
    const before = backed(n.h);
    expect(n.exec(1, n.rw(IO.READ, 10, blocks, { prp1: dst, prp2: dst - 0x800 + PAGE })).sc).toBe(SC.SUCCESS);
    expect(n.h.core.readPhysical(dst, 4096)).toEqual(data);
    expect(backed(n.h)).toBe(before + 2);
  });
});

describe("snapshots of sparse RAM", () => {
  test("a restored 64 GiB machine has the pages written above 4 GiB, and both go on identically", () => {
    const h = new CoreHarness({ edit: big });
    h.core.writePhysical(44 * GiB + 123, pattern(10000, 5));
    const s = h.machine.snapshot();
    expect(s.memory.length).toBeLessThan(L.POOL_BASE + 64 * MiB);
    const r = Machine.restore(s);
    expect(r.core.readPhysical(44 * GiB + 123, 10000)).toEqual(pattern(10000, 5));
    expect(r.core.counters()).toEqual(h.core.counters());
    for (const m of [h.machine, r]) m.core.writePhysical(63 * GiB, pattern(3 * PAGE, 6));
    expect(Buffer.from(r.core.snapshot()).equals(Buffer.from(h.core.snapshot()))).toBe(true);
  });
});

describe("machine files describing large RAM", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "wdmsim-ram-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const doc = (memory: { base: string; size: string }[]) => ({
    name: "t",
    cpu: { count: 1, frequencyMHz: 3000 },
    memory,
    pci: { ecam: { base: "0xE0000000", buses: 1 }, mmioWindow: { base: "0xC0000000", size: "512 MiB" }, slots: [{ address: "00:03.0", device: "edu" }] },
  });
  const load = (name: string, memory: { base: string; size: string }[]) => {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(doc(memory)));
    return () => loadMachine(file);
  };

  test("64 GiB in two regions loads and powers on", () => {
    const d = load("ok", [{ base: "0x0", size: "3 GiB" }, { base: "0x100000000", size: "61 GiB" }])();
    expect(d.memory.reduce((a, r) => a + r.size, 0)).toBe(64 * GiB);
    expect(Machine.fromDescription(d).functions).toHaveLength(1);
  });

  test("RAM over the PCI memory window, ECAM or the APIC registers is refused, naming the region and the window", () => {
    const over = load("mmio", [{ base: "0x0", size: "3584 MiB" }]);
    expect(over).toThrow(FirmwareError);
    expect(over).toThrow(/\/memory\/0: .*overlaps the PCI memory window/);
    expect(load("ecam", [{ base: "0x0", size: "16 MiB" }, { base: "0xE0000000", size: "1 MiB" }])).toThrow(/\/memory\/1: .*ECAM/);
    expect(load("apic", [{ base: "0x0", size: "16 MiB" }, { base: "0xFEC00000", size: "4 KiB" }])).toThrow(/I\/O APIC/);
    // A description edited in code bypasses the file checks; power-on refuses it too.
    const d = load("ok2", [{ base: "0x0", size: "16 MiB" }])();
    d.memory.push({ base: 0xFEE00000, size: 4096 });
    expect(() => Machine.fromDescription(d)).toThrow(/\/memory: .*overlaps/);
  });

  test("RAM ending past RAM_PHYS_LIMIT is refused at the file and at power-on", () => {
    expect(L.RAM_PHYS_LIMIT).toBe(2 ** 40);
    expect(load("far", [{ base: "0x0", size: "16 MiB" }, { base: "0xFFFFFF00000", size: "2 MiB" }])).toThrow(/\/memory\/1: RAM must end at or below 0x10000000000/);
    const d = load("ok3", [{ base: "0x0", size: "16 MiB" }])();
    d.memory.push({ base: 2 ** 40, size: 4096 });
    expect(() => Machine.fromDescription(d)).toThrow(/\/memory: RAM must end below 1024 GiB/);
  });
});
