// NVMe interrupts (shared/specs/nvme.md "PCI identity", "Timing model"; pci.md MSI-X and
// MSI): an MSI-X vector per completion queue arriving at the APIC with the vector the
// table holds, masking and pending bits, coalescing by threshold and by time, and the
// MSI / INTx fallbacks with INTMS/INTMC masking.
import { describe, expect, test } from "vitest";
import { ADMIN, CAP_OFFSETS, IO, L, MEM, MSIX_PBA, Nvme, REG, readyNvme } from "../support/nvme-harness.js";
import { CFG, CMD, type TraceRecord } from "../support/core-harness.js";

const US = 1e6;
/** APIC vector programmed for MSI-X table entry e. */
const vectorOf = (e: number) => 0x60 + e;

/** Enabled controller with MSI-X on, table entries 0..entries-1 programmed (entry e -> vector 0x60 + e, APIC 0). */
function withMsix(options: Parameters<typeof readyNvme>[0] = {}, entries = 4): Nvme {
  const n = readyNvme({ trace: true, ...options });
  for (let e = 0; e < entries; e++) n.msixEntry(e, vectorOf(e));
  n.enableMsix();
  return n;
}

function msis(records: TraceRecord[]): TraceRecord[] {
  return records.filter((r) => r.kind === L.TR_MSI);
}

/** Completion-entry writes (16-byte DMA writes) to CQ q. */
function cqeWrites(records: TraceRecord[], q: number): TraceRecord[] {
  const base = q === 0 ? MEM.ACQ : MEM.CQ_BASE + q * MEM.CQ_STRIDE;
  return records.filter((r) => r.kind === L.TR_DMA_WRITE && r.a === 16 && Number(r.b) >= base && Number(r.b) < base + 0x10000);
}

function setFeature(n: Nvme, fid: number, value: number): void {
  expect(n.exec(0, { opcode: ADMIN.SET_FEATURES, cdw10: fid, cdw11: value }).sc).toBe(0);
}

describe("MSI-X", () => {
  test("each completion queue signals its own vector: the APIC receives the vector its table entry holds", () => {
    const n = withMsix();
    n.createPair(1, 16, 1);
    n.createPair(2, 16, 3);
    n.createPair(3, 16, 2);
    n.takeInterrupts();
    for (const [q, entry] of [[1, 1], [2, 3], [3, 2]]) {
      n.exec(q, { opcode: IO.FLUSH, nsid: 1 });
      expect(n.takeInterrupts().map((i) => i.vector)).toEqual([vectorOf(entry)]);
    }
  });

  test("admin completions use vector 0", () => {
    const n = withMsix();
    n.exec(0, { opcode: ADMIN.ABORT });
    expect(n.takeInterrupts().map((i) => i.vector)).toEqual([vectorOf(0)]);
  });

  test("a table entry's destination APIC ID steers the interrupt to that CPU", () => {
    const n = withMsix();
    n.msixEntry(1, 0x71, 1);
    n.createPair(1, 16, 1);
    n.takeInterrupts(0);
    n.exec(1, { opcode: IO.FLUSH, nsid: 1 });
    expect(n.takeInterrupts(0)).toEqual([]);
    expect(n.takeInterrupts(1).map((i) => i.vector)).toEqual([0x71]);
  });

  test("the message lands after the completion entry (posted-write ordering)", () => {
    const n = withMsix();
    n.createPair(1, 16, 1);
    n.h.drainTrace();
    n.exec(1, n.rw(IO.READ, 0, 8, { prp1: MEM.DATA, prp2: 0 }));
    const records = n.h.drainTrace();
    const landed = records.filter((r) => r.kind === L.TR_WRITE_LANDED && r.a === 16).at(-1)!;
    const [msi] = msis(records);
    expect(Number(msi.c)).toBeGreaterThan(landed.time);
    const [irq] = n.takeInterrupts();
    expect(irq.time).toBe(Number(msi.c));
  });

  test("a CQ created with interrupts disabled signals nothing", () => {
    const n = withMsix();
    n.createCq(1, 16, 1, false);
    n.createSq(1, 16, 1);
    n.takeInterrupts();
    n.h.drainTrace();
    n.exec(1, { opcode: IO.FLUSH, nsid: 1 });
    expect(msis(n.h.drainTrace())).toEqual([]);
    expect(n.takeInterrupts()).toEqual([]);
  });

  test("masked vector: no message, its PBA bit is set; unmasking sends it and clears the bit", () => {
    const n = withMsix();
    n.createPair(1, 16, 1);
    n.msixEntry(1, vectorOf(1), 0, true);
    n.takeInterrupts();
    n.exec(1, { opcode: IO.FLUSH, nsid: 1 });
    expect(n.takeInterrupts()).toEqual([]);
    expect(n.read32(MSIX_PBA) & 0b10).toBe(0b10);
    n.write32(0x2000 + 16 + 12, 0);
    n.settle();
    expect(n.takeInterrupts().map((i) => i.vector)).toEqual([vectorOf(1)]);
    expect(n.read32(MSIX_PBA) & 0b10).toBe(0);
  });

  test("function mask: messages become pending until the mask is cleared", () => {
    const n = withMsix();
    n.createPair(1, 16, 1);
    n.createPair(2, 16, 2);
    n.enableMsix(true);
    n.takeInterrupts();
    n.exec(1, { opcode: IO.FLUSH, nsid: 1 });
    n.exec(2, { opcode: IO.FLUSH, nsid: 1 });
    expect(n.takeInterrupts()).toEqual([]);
    expect(n.read32(MSIX_PBA) & 0b110).toBe(0b110);
    n.enableMsix(false);
    n.settle();
    expect(n.takeInterrupts().map((i) => i.vector).sort()).toEqual([vectorOf(1), vectorOf(2)]);
  });

  test("every completion signals (no coalescing by default): one message per completion", () => {
    const n = withMsix();
    n.createPair(1, 16, 1);
    n.h.drainTrace();
    for (let k = 0; k < 5; k++) n.submit(1, n.rw(IO.READ, k, 1, { prp1: MEM.DATA + k * 4096, prp2: 0 }));
    n.settle();
    expect(msis(n.h.drainTrace()).length).toBe(5);
  });
});

describe("interrupt coalescing (feature 0x08)", () => {
  test("threshold: with THR = 3 (4 entries) and TIME = 1 ms, four completions send one message, at the fourth entry", () => {
    const n = withMsix({ params: { readJitterNs: 0 } });
    n.createPair(1, 16, 1);
    setFeature(n, 0x08, (10 << 8) | 3);
    n.takeInterrupts();
    n.h.drainTrace();
    for (let k = 0; k < 4; k++) n.submit(1, n.rw(IO.READ, k, 1, { prp1: MEM.DATA + k * 4096, prp2: 0 }));
    n.settle();
    const records = n.h.drainTrace();
    const sent = msis(records);
    expect(sent.length).toBe(1);
    expect(sent[0].time).toBe(cqeWrites(records, 1)[3].time);
    expect(n.reap(1).length).toBe(4);
  });

  test("time: fewer completions than the threshold signal when TIME (100 us units) has passed since the first", () => {
    const n = withMsix({ params: { readJitterNs: 0 } });
    n.createPair(1, 16, 1);
    setFeature(n, 0x08, (2 << 8) | 7);
    n.h.drainTrace();
    for (let k = 0; k < 3; k++) n.submit(1, n.rw(IO.READ, k, 1, { prp1: MEM.DATA + k * 4096, prp2: 0 }));
    n.settle();
    const records = n.h.drainTrace();
    const sent = msis(records);
    expect(sent.length).toBe(1);
    expect(sent[0].time).toBe(cqeWrites(records, 1)[0].time + 200 * US);
  });

  test("the aggregation restarts after a message: 10 completions with THR = 3 send 2 at the threshold and 1 by time", () => {
    const n = withMsix({ params: { readJitterNs: 0 } });
    n.createPair(1, 32, 1);
    setFeature(n, 0x08, (5 << 8) | 3);
    n.h.drainTrace();
    for (let k = 0; k < 10; k++) n.submit(1, n.rw(IO.READ, k, 1, { prp1: MEM.DATA + k * 4096, prp2: 0 }));
    n.settle();
    const records = n.h.drainTrace();
    const cqes = cqeWrites(records, 1);
    expect(msis(records).map((r) => r.time)).toEqual([cqes[3].time, cqes[7].time, cqes[8].time + 500 * US]);
  });

  test("coalescing disable (feature 0x09 bit 16) makes that vector signal every completion", () => {
    const n = withMsix();
    n.createPair(1, 16, 1);
    setFeature(n, 0x08, (10 << 8) | 7);
    setFeature(n, 0x09, (1 << 16) | 1);
    n.h.drainTrace();
    for (let k = 0; k < 3; k++) n.submit(1, { opcode: IO.FLUSH, nsid: 1 });
    n.settle();
    expect(msis(n.h.drainTrace()).length).toBe(3);
  });

  test("admin completions are never coalesced", () => {
    const n = withMsix();
    setFeature(n, 0x08, (10 << 8) | 7);
    n.h.drainTrace();
    n.exec(0, { opcode: ADMIN.ABORT });
    const records = n.h.drainTrace();
    expect(msis(records).length).toBe(1);
    expect(msis(records)[0].time).toBe(cqeWrites(records, 0)[0].time);
  });

  test("TIME = 0 means no delay: every completion signals", () => {
    const n = withMsix();
    n.createPair(1, 16, 1);
    setFeature(n, 0x08, 7);
    n.h.drainTrace();
    for (let k = 0; k < 3; k++) n.submit(1, { opcode: IO.FLUSH, nsid: 1 });
    n.settle();
    expect(msis(n.h.drainTrace()).length).toBe(3);
  });
});

describe("MSI fallback", () => {
  function withMsi(): Nvme {
    const n = readyNvme({ trace: true });
    n.h.enableMsi(0x55);
    n.createPair(1, 16, 0);
    n.takeInterrupts();
    n.reap(0);
    n.h.drainTrace();
    return n;
  }

  test("without MSI-X, completions signal through MSI", () => {
    const n = withMsi();
    n.submit(1, { opcode: IO.FLUSH, nsid: 1 });
    n.settle();
    expect(n.takeInterrupts().map((i) => i.vector)).toEqual([0x55]);
  });

  test("a message is sent when the interrupt status goes 0 -> 1; unconsumed entries keep it set (no new message)", () => {
    const n = withMsi();
    n.submit(1, { opcode: IO.FLUSH, nsid: 1 });
    n.settle();
    n.submit(1, { opcode: IO.FLUSH, nsid: 1 });
    n.settle();
    expect(msis(n.h.drainTrace()).length).toBe(1);
    n.reap(1); // head doorbell: everything consumed, the status clears
    n.submit(1, { opcode: IO.FLUSH, nsid: 1 });
    n.settle();
    expect(msis(n.h.drainTrace()).length).toBe(1);
  });

  test("INTMS masks the vector: no message while masked; INTMC with the status still set sends one", () => {
    const n = withMsi();
    n.write32(REG.INTMS, 1);
    n.submit(1, { opcode: IO.FLUSH, nsid: 1 });
    n.settle();
    expect(msis(n.h.drainTrace()).length).toBe(0);
    n.write32(REG.INTMC, 1);
    n.settle();
    expect(msis(n.h.drainTrace()).length).toBe(1);
    expect(n.takeInterrupts().map((i) => i.vector)).toEqual([0x55]);
  });
});

describe("INTx fallback", () => {
  function withIntx(): Nvme {
    const n = readyNvme();
    n.createPair(1, 16, 0);
    n.reap(0);
    n.settle();
    return n;
  }

  test("INTA# is asserted while completions are unconsumed and deasserted when the head doorbell consumes them all", () => {
    const n = withIntx();
    expect(n.h.x.intxState(n.h.fn)).toBe(0);
    n.submit(1, { opcode: IO.FLUSH, nsid: 1 });
    n.settle();
    expect(n.h.x.intxState(n.h.fn)).toBe(1);
    expect(n.h.cfgRead(CFG.STATUS, 2) & 0x8).toBe(0x8);
    n.reap(1);
    n.settle();
    expect(n.h.x.intxState(n.h.fn)).toBe(0);
  });

  test("the level stays asserted while any CQ on the vector holds unconsumed entries (admin and I/O share vector 0)", () => {
    const n = withIntx();
    n.submit(1, { opcode: IO.FLUSH, nsid: 1 });
    n.submit(0, { opcode: ADMIN.ABORT });
    n.settle();
    n.reap(1);
    n.settle();
    expect(n.h.x.intxState(n.h.fn)).toBe(1);
    n.reap(0);
    n.settle();
    expect(n.h.x.intxState(n.h.fn)).toBe(0);
  });

  test("INTMS deasserts the line while masked, INTMC asserts it again", () => {
    const n = withIntx();
    n.submit(1, { opcode: IO.FLUSH, nsid: 1 });
    n.settle();
    n.write32(REG.INTMS, 1);
    n.settle();
    expect(n.h.x.intxState(n.h.fn)).toBe(0);
    n.write32(REG.INTMC, 1);
    n.settle();
    expect(n.h.x.intxState(n.h.fn)).toBe(1);
  });

  test("the command register's interrupt-disable bit keeps the line quiet", () => {
    const n = withIntx();
    n.h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY | CMD.BUS_MASTER | CMD.INTX_DISABLE);
    n.submit(1, { opcode: IO.FLUSH, nsid: 1 });
    n.settle();
    expect(n.h.x.intxState(n.h.fn)).toBe(0);
  });

  test("enabling MSI-X silences INTx", () => {
    const n = withIntx();
    n.submit(1, { opcode: IO.FLUSH, nsid: 1 });
    n.settle();
    expect(n.h.x.intxState(n.h.fn)).toBe(1);
    n.h.cfgWrite(CAP_OFFSETS.MSIX + 2, 2, 0x8000);
    expect(n.h.x.intxState(n.h.fn)).toBe(0);
  });
});
