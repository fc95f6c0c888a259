// INTx through the I/O APIC: level-triggered, shared lines; the command register's
// interrupt-disable bit and the status register's interrupt bit; redirection entries with
// mask, trigger mode and Remote IRR; re-sending on EOI while a line stays asserted.
import { describe, expect, test } from "vitest";
import { CFG, CMD, CoreHarness, EDU } from "../support/core-harness.js";

const IOAPIC = 0xFEC00000;
const VECTOR = 0x61;
const A = { bus: 0, dev: 3, fn: 0 };
const B = { bus: 0, dev: 7, fn: 0 };

/** Two edu devices whose INTA# pins both reach GSI 19 (device 3 and device 7 swizzle to INTD#). */
function sharedLine(): CoreHarness {
  const h = new CoreHarness({ edit: (d) => { d.slots.push({ ...structuredClone(d.slots[0]), device: 7 }); } });
  h.identityMap(IOAPIC, 0x1000);
  for (const [i, bdf] of [A, B].entries()) {
    h.identityMap(0xC0000000 + i * (1 << 20), 1 << 20);
    h.cfgWrite(CFG.BAR0, 4, 0xC0000000 + i * (1 << 20), bdf);
    h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY | CMD.BUS_MASTER, bdf);
  }
  return h;
}

function ioapicWrite(h: CoreHarness, reg: number, value: number): void {
  h.write(IOAPIC, 4, reg);
  h.write(IOAPIC + 0x10, 4, value >>> 0);
}

function ioapicRead(h: CoreHarness, reg: number): number {
  h.write(IOAPIC, 4, reg);
  return Number(h.read(IOAPIC + 0x10, 4).value);
}

/** Redirection entry for `gsi`: vector, level or edge, masked or not, to APIC ID 0. */
function route(h: CoreHarness, gsi: number, options: { level?: boolean; masked?: boolean } = {}): void {
  ioapicWrite(h, 0x10 + 2 * gsi + 1, 0);
  ioapicWrite(h, 0x10 + 2 * gsi, VECTOR | ((options.level ?? true) ? 1 << 15 : 0) | (options.masked ? 1 << 16 : 0));
}

function raise(h: CoreHarness, device: number, bits = 0x1): void {
  h.barBase = 0xC0000000 + device * (1 << 20);
  h.mmioWrite(EDU.IRQ_RAISE, bits);
  h.advance(2e6);
}

function ack(h: CoreHarness, device: number, bits = 0x1): void {
  h.barBase = 0xC0000000 + device * (1 << 20);
  h.mmioWrite(EDU.IRQ_ACK, bits);
  h.advance(2e6);
}

function pending(h: CoreHarness): number {
  return h.core.highestPending(0);
}

function accept(h: CoreHarness): number {
  return h.x.apicAccept(0);
}

describe("I/O APIC registers", () => {
  test("version register: version 0x20, 24 redirection entries (highest index 23)", () => {
    const h = sharedLine();
    expect(ioapicRead(h, 0x01)).toBe(0x00170020);
  });

  test("redirection entries reset masked; Remote IRR and delivery status are read-only", () => {
    const h = sharedLine();
    expect(ioapicRead(h, 0x10 + 2 * 19) & (1 << 16)).toBe(1 << 16);
    ioapicWrite(h, 0x10 + 2 * 19, 0xFFFFFFFF);
    expect(ioapicRead(h, 0x10 + 2 * 19) & ((1 << 14) | (1 << 12))).toBe(0);
  });

  test("the ID register holds bits 27:24", () => {
    const h = sharedLine();
    ioapicWrite(h, 0x00, 0x0F000000);
    expect(ioapicRead(h, 0x00)).toBe(0x0F000000);
  });
});

describe("shared level-triggered INTx", () => {
  test("both devices' INTA# pins reach GSI 19 (the firmware's route table says so too)", () => {
    const h = sharedLine();
    route(h, 19);
    raise(h, 0);
    expect(pending(h)).toBe(VECTOR);
  });

  test("a line held by a device is sent once; EOI re-sends while it stays asserted; acknowledging the device ends it", () => {
    const h = sharedLine();
    route(h, 19);
    raise(h, 0);
    expect(accept(h)).toBe(VECTOR);
    // Remote IRR is set: the other device asserting the same line sends nothing new.
    raise(h, 1);
    expect(pending(h)).toBe(0);
    expect(ioapicRead(h, 0x10 + 2 * 19) & (1 << 14)).toBe(1 << 14);
    // EOI while both still assert: the line is high, so the interrupt comes again.
    h.x.apicEoi(0, VECTOR);
    expect(accept(h)).toBe(VECTOR);
    ack(h, 0);
    h.x.apicEoi(0, VECTOR);
    // Device B still asserts.
    expect(accept(h)).toBe(VECTOR);
    ack(h, 1);
    h.x.apicEoi(0, VECTOR);
    expect(pending(h)).toBe(0);
    expect(ioapicRead(h, 0x10 + 2 * 19) & (1 << 14)).toBe(0);
  });

  test("status bit 3 follows the device's INTx output; the interrupt-disable bit keeps it off the line", () => {
    const h = sharedLine();
    route(h, 19);
    h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY | CMD.BUS_MASTER | CMD.INTX_DISABLE, A);
    raise(h, 0);
    expect(h.cfgRead(CFG.STATUS, 2, A) & 0x8).toBe(0x8);
    expect(h.x.intxState(h.fn)).toBe(0);
    expect(pending(h)).toBe(0);
    // Clearing the disable bit puts the still-asserted output on the line.
    h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY | CMD.BUS_MASTER, A);
    h.advance(1e6);
    expect(pending(h)).toBe(VECTOR);
  });

  test("a masked entry delivers nothing; unmasking while the line is high delivers", () => {
    const h = sharedLine();
    route(h, 19, { masked: true });
    raise(h, 0);
    expect(pending(h)).toBe(0);
    route(h, 19);
    expect(pending(h)).toBe(VECTOR);
  });

  test("an edge-triggered entry fires once per rising edge and needs no EOI", () => {
    const h = sharedLine();
    route(h, 19, { level: false });
    raise(h, 0);
    expect(accept(h)).toBe(VECTOR);
    raise(h, 1);
    expect(pending(h)).toBe(0);
    ack(h, 0);
    ack(h, 1);
    raise(h, 1);
    expect(accept(h)).toBe(VECTOR);
  });

  test("with MSI enabled a device does not use its INTx line", () => {
    const h = sharedLine();
    route(h, 19);
    h.enableMsi(0x71, 0);
    raise(h, 0);
    expect(accept(h)).toBe(0x71);
    expect(pending(h)).toBe(0);
  });
});

describe("MSI-X (an edu device file given an MSI-X capability)", () => {
  function msix(): CoreHarness {
    const h = new CoreHarness({
      edit: (d) => {
        d.slots[0].spec.msix = { offset: 0x60, vectors: 4, tableBar: 0, tableOffset: 0x1000, pbaBar: 0, pbaOffset: 0x2000 };
      },
    });
    h.setupDevice();
    return h;
  }
  const TABLE = 0x1000;
  const PBA = 0x2000;

  function program(h: CoreHarness, vector: number, masked: boolean): void {
    h.mmioWrite(TABLE + 0, 0xFEE00000);
    h.mmioWrite(TABLE + 4, 0);
    h.mmioWrite(TABLE + 8, vector);
    h.mmioWrite(TABLE + 12, masked ? 1 : 0);
  }

  test("the capability: ID 0x11, table size - 1, table and PBA offset with BIR", () => {
    const h = msix();
    expect(h.cfgRead(0x60, 1)).toBe(0x11);
    expect(h.cfgRead(0x62, 2) & 0x7FF).toBe(3);
    expect(h.cfgRead(0x64, 4)).toBe(TABLE | 0);
    expect(h.cfgRead(0x68, 4)).toBe(PBA | 0);
  });

  test("table entries start masked; a message to a masked entry sets its pending bit and is sent when unmasked", () => {
    const h = msix();
    expect(h.mmioRead(TABLE + 12) & 1).toBe(1);
    program(h, 0x81, true);
    h.cfgWrite(0x62, 2, 0x8000);
    h.mmioWrite(EDU.IRQ_RAISE, 1);
    h.advance(2e6);
    expect(h.core.highestPending(0)).toBe(0);
    expect(h.mmioRead(PBA) & 1).toBe(1);
    h.mmioWrite(TABLE + 12, 0);
    h.advance(2e6);
    expect(h.core.highestPending(0)).toBe(0x81);
    expect(h.mmioRead(PBA) & 1).toBe(0);
  });

  test("the function mask holds every vector pending until it is cleared", () => {
    const h = msix();
    program(h, 0x82, false);
    h.cfgWrite(0x62, 2, 0xC000);
    h.mmioWrite(EDU.IRQ_RAISE, 1);
    h.advance(2e6);
    expect(h.core.highestPending(0)).toBe(0);
    h.cfgWrite(0x62, 2, 0x8000);
    h.advance(2e6);
    expect(h.core.highestPending(0)).toBe(0x82);
  });

  test("the PBA is read-only and the table takes only aligned 4- or 8-byte accesses", () => {
    const h = msix();
    h.mmioWrite(PBA, 0xFFFFFFFF);
    expect(h.mmioRead(PBA)).toBe(0);
    expect(h.read(h.barBase + TABLE + 1, 1).value).toBe(0xFFn);
    h.mmioWrite(TABLE + 8, 0x1234);
    expect(h.mmioRead(TABLE + 8)).toBe(0x1234);
  });

  test("MSI-X enabled keeps INTx off the line", () => {
    const h = msix();
    program(h, 0x83, false);
    h.cfgWrite(0x62, 2, 0x8000);
    h.mmioWrite(EDU.IRQ_RAISE, 1);
    h.advance(2e6);
    expect(h.x.intxState(h.fn)).toBe(0);
    expect(h.core.highestPending(0)).toBe(0x83);
  });
});


