// Firmware tables in guest RAM (RSDP, XSDT, MADT, MCFG, WSIM) and machine-file validation.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Machine } from "../../src/machine/machine.js";
import { FirmwareError, loadMachine } from "../../src/machine/firmwareFiles.js";
import type { Core } from "../../src/machine/core.js";
import { L, defaultMachineDescription } from "../support/core-harness.js";

const BIOS_START = 0xE0000;
const BIOS_END = 0x100000;

/** A view of guest RAM for table parsing. */
class Ram {
  constructor(readonly core: Core) {}
  bytes(pa: number, n: number): Uint8Array {
    return this.core.readPhysical(pa, n);
  }
  u8(pa: number): number {
    return this.bytes(pa, 1)[0];
  }
  u16(pa: number): number {
    const b = this.bytes(pa, 2);
    return b[0] | (b[1] << 8);
  }
  u32(pa: number): number {
    return new DataView(this.bytes(pa, 4).buffer).getUint32(0, true);
  }
  u64(pa: number): number {
    return Number(new DataView(this.bytes(pa, 8).buffer).getBigUint64(0, true));
  }
  ascii(pa: number, n: number): string {
    return String.fromCharCode(...this.bytes(pa, n));
  }
  sum(pa: number, n: number): number {
    return this.bytes(pa, n).reduce((a, b) => (a + b) & 0xFF, 0);
  }
}

/** Finds "RSD PTR " on a 16-byte boundary in the BIOS area. */
function findRsdp(ram: Ram): number | undefined {
  const area = ram.bytes(BIOS_START, BIOS_END - BIOS_START);
  const sig = [..."RSD PTR "].map((c) => c.charCodeAt(0));
  for (let off = 0; off < area.length; off += 16) {
    if (sig.every((c, i) => area[off + i] === c)) return BIOS_START + off;
  }
  return undefined;
}

interface Tables {
  rsdp: number;
  xsdt: number;
  bySignature: Map<string, number>;
}

function tables(ram: Ram): Tables {
  const rsdp = findRsdp(ram);
  if (rsdp === undefined) throw new Error("no RSDP");
  const xsdt = ram.u64(rsdp + 24);
  const length = ram.u32(xsdt + 4);
  const bySignature = new Map<string, number>();
  for (let p = xsdt + 36; p < xsdt + length; p += 8) {
    const t = ram.u64(p);
    bySignature.set(ram.ascii(t, 4), t);
  }
  return { rsdp, xsdt, bySignature };
}

function madtEntries(ram: Ram, madt: number): { type: number; uid: number; apicId: number; flags: number }[] {
  const out = [];
  const length = ram.u32(madt + 4);
  for (let p = madt + 44; p < madt + length; p += ram.u8(p + 1)) {
    const type = ram.u8(p);
    expect(ram.u8(p + 1)).toBeGreaterThan(0);
    if (type === 0) out.push({ type, uid: ram.u8(p + 2), apicId: ram.u8(p + 3), flags: ram.u32(p + 4) });
  }
  return out;
}

function wsimEntries(ram: Ram, wsim: number): { base: number; length: number; type: number }[] {
  const n = ram.u32(wsim + 40);
  const out = [];
  for (let i = 0; i < n; i++) {
    const e = wsim + 44 + 24 * i;
    out.push({ base: ram.u64(e), length: ram.u64(e + 8), type: ram.u32(e + 16) });
  }
  return out;
}

describe("firmware tables (default machine)", () => {
  let machine: Machine;
  let ram: Ram;
  let t: Tables;
  beforeAll(() => {
    machine = Machine.fromFile("default");
    ram = new Ram(machine.core);
    t = tables(ram);
  });

  test("RSDP: \"RSD PTR \" on a 16-byte boundary in 0xE0000..0xFFFFF", () => {
    const rsdp = findRsdp(ram)!;
    expect(rsdp).toBeGreaterThanOrEqual(BIOS_START);
    expect(rsdp).toBeLessThan(BIOS_END);
    expect(rsdp % 16).toBe(0);
  });

  test("RSDP: the 20-byte (ACPI 1.0) checksum and the 36-byte extended checksum are valid", () => {
    expect(ram.sum(t.rsdp, 20)).toBe(0);
    expect(ram.u8(t.rsdp + 15)).toBeGreaterThanOrEqual(2); // revision: ACPI 2.0+ has the extended fields
    expect(ram.u32(t.rsdp + 20)).toBe(36);
    expect(ram.sum(t.rsdp, 36)).toBe(0);
  });

  test("RSDP: the XSDT address points at a valid XSDT", () => {
    expect(ram.ascii(t.xsdt, 4)).toBe("XSDT");
    const length = ram.u32(t.xsdt + 4);
    expect(length).toBeGreaterThanOrEqual(36);
    expect((length - 36) % 8).toBe(0);
    expect(ram.sum(t.xsdt, length)).toBe(0);
  });

  test("XSDT lists a MADT (\"APIC\"), an MCFG and a WSIM table, each with a valid checksum", () => {
    for (const sig of ["APIC", "MCFG", "WSIM"]) {
      const p = t.bySignature.get(sig);
      expect(p, sig).toBeDefined();
      expect(ram.sum(p!, ram.u32(p! + 4)), `${sig} checksum`).toBe(0);
    }
  });

  test("MADT: one enabled Processor Local APIC entry per CPU, with the APIC IDs MSIs address", () => {
    const madt = t.bySignature.get("APIC")!;
    expect(ram.u32(madt + 36) >>> 0).toBe(0xFEE00000);
    const cpus = madtEntries(ram, madt);
    expect(cpus).toHaveLength(machine.cpuCount);
    expect(new Set(cpus.map((c) => c.apicId)).size).toBe(machine.cpuCount);
    expect(new Set(cpus.map((c) => c.uid)).size).toBe(machine.cpuCount);
    for (const c of cpus) expect(c.flags & 1).toBe(1);
    // The APIC ID in the table is the one an MSI's address selects.
    for (const c of cpus) expect(machine.core.u32[machine.core.cpuField(cpus.indexOf(c), L.CPU_APIC_ID) >> 2]).toBe(c.apicId);
  });

  test("MCFG: one allocation with the ECAM base 0xE0000000, segment 0, buses 0..0", () => {
    const mcfg = t.bySignature.get("MCFG")!;
    expect(ram.u32(mcfg + 4)).toBe(36 + 8 + 16);
    expect(ram.u64(mcfg + 44)).toBe(0xE0000000);
    expect(ram.u16(mcfg + 52)).toBe(0);
    expect(ram.u8(mcfg + 54)).toBe(0);
    expect(ram.u8(mcfg + 55)).toBe(machine.description.ecam.buses - 1);
  });

  test("WSIM: CPU clock and a memory map of firmware-reserved RAM, usable RAM and the PCI memory window", () => {
    const wsim = t.bySignature.get("WSIM")!;
    expect(ram.u32(wsim + 36)).toBe(3_000_000);
    const entries = wsimEntries(ram, wsim);
    const routes = ram.u32(wsim + 36 + 8 + 24 * entries.length);
    expect(ram.u32(wsim + 4)).toBe(36 + 8 + 24 * entries.length + 4 + 8 * routes);
    expect(entries).toEqual([
      { base: 0, length: 0x100000, type: L.WSIM_RESERVED },
      { base: 0x100000, length: (256 << 20) - 0x100000, type: L.WSIM_RAM },
      { base: 0xC0000000, length: 512 << 20, type: L.WSIM_PCI_MMIO },
    ]);
  });

  test("WSIM: each function's INTx pin and the I/O APIC input it reaches (INTA# of device 3 swizzles to INTD#, GSI 19)", () => {
    const wsim = t.bySignature.get("WSIM")!;
    const at = wsim + 36 + 8 + 24 * wsimEntries(ram, wsim).length;
    expect(ram.u32(at)).toBe(1);
    const r = at + 4;
    expect([ram.u8(r), ram.u8(r + 1), ram.u8(r + 2), ram.u8(r + 3), ram.u32(r + 4)]).toEqual([0, 3, 0, 1, 19]);
  });

  test("MADT: an I/O APIC entry (type 1) at 0xFEC00000 with GSI base 0", () => {
    const madt = t.bySignature.get("APIC")!;
    const end = madt + ram.u32(madt + 4);
    let found = false;
    for (let e = madt + 44; e < end; e += ram.u8(e + 1)) {
      if (ram.u8(e) !== 1) continue;
      expect(ram.u8(e + 1)).toBe(12);
      expect(ram.u32(e + 4)).toBe(0xFEC00000);
      expect(ram.u32(e + 8)).toBe(0);
      found = true;
    }
    expect(found).toBe(true);
  });

  test("firmware tables lie in the firmware-reserved first MiB", () => {
    const spans: [number, number][] = [[t.rsdp, 36], ...[t.xsdt, ...t.bySignature.values()].map((p): [number, number] => [p, ram.u32(p + 4)])];
    for (const [p, length] of spans) {
      expect(p).toBeGreaterThanOrEqual(BIOS_START);
      expect(p + length).toBeLessThanOrEqual(BIOS_END);
    }
  });
});

describe("firmware tables follow the machine description", () => {
  test("MADT: four CPUs give four Processor Local APIC entries", () => {
    const d = defaultMachineDescription();
    d.cpu.count = 4;
    d.memory = [{ base: 0, size: 16 << 20 }];
    const m = Machine.fromDescription(d);
    const ram = new Ram(m.core);
    const madt = tables(ram).bySignature.get("APIC")!;
    expect(madtEntries(ram, madt).map((e) => e.apicId).sort()).toEqual([0, 1, 2, 3]);
    expect(ram.sum(madt, ram.u32(madt + 4))).toBe(0);
  });

  test("MCFG and WSIM: ECAM base/bus count, several RAM regions, clock", () => {
    const d = defaultMachineDescription();
    d.ecam = { base: 0xB0000000, buses: 4 };
    d.cpu.kHz = 2_400_000;
    d.memory = [{ base: 0, size: 16 << 20 }, { base: 0x10000000, size: 8 << 20 }];
    const m = Machine.fromDescription(d);
    const ram = new Ram(m.core);
    const t = tables(ram);
    const mcfg = t.bySignature.get("MCFG")!;
    expect(ram.u64(mcfg + 44)).toBe(0xB0000000);
    expect(ram.u8(mcfg + 55)).toBe(3);
    const wsim = t.bySignature.get("WSIM")!;
    expect(ram.u32(wsim + 36)).toBe(2_400_000);
    expect(wsimEntries(ram, wsim)).toEqual([
      { base: 0, length: 0x100000, type: L.WSIM_RESERVED },
      { base: 0x100000, length: (16 << 20) - 0x100000, type: L.WSIM_RAM },
      { base: 0x10000000, length: 8 << 20, type: L.WSIM_RAM },
      { base: 0xC0000000, length: 512 << 20, type: L.WSIM_PCI_MMIO },
    ]);
  });
});

describe("machine-file validation", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "wdmsim-firmware-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const base = () => ({
    name: "t",
    cpu: { count: 2, frequencyMHz: 3000 },
    memory: [{ base: "0x0", size: "16 MiB" }],
    pci: { ecam: { base: "0xE0000000", buses: 1 }, mmioWindow: { base: "0xC0000000", size: "512 MiB" }, slots: [{ address: "00:03.0", device: "edu" }] },
  });

  function failure(name: string, doc: unknown): FirmwareError {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(doc, null, 2));
    try {
      Machine.fromFile(file);
    } catch (e) {
      expect(e).toBeInstanceOf(FirmwareError);
      const err = e as FirmwareError;
      expect(err.file.endsWith(`${name}.json`), err.file).toBe(true);
      expect(err.message).toContain(err.path === "" ? "(document)" : err.path);
      expect(err.message).toContain(err.rule);
      return err;
    }
    throw new Error(`${name} was accepted`);
  }

  test("a valid file powers on (the base of the cases below)", () => {
    const file = join(dir, "ok.json");
    writeFileSync(file, JSON.stringify(base()));
    const m = Machine.fromFile(file);
    expect(m.cpuCount).toBe(2);
    expect(m.functions).toHaveLength(1);
  });

  test("bad CPU count: 0 and 65 are refused at /cpu/count", () => {
    for (const count of [0, 65]) {
      const doc = base();
      doc.cpu.count = count;
      const e = failure(`cpus-${count}`, doc);
      expect(e.path).toBe("/cpu/count");
      expect(e.rule).toMatch(count === 0 ? /minimum/ : /maximum/);
    }
  });

  test("bad CPU count: a non-integer is refused at /cpu/count", () => {
    const doc = base() as any;
    doc.cpu.count = 1.5;
    expect(failure("cpus-frac", doc).path).toBe("/cpu/count");
  });

  test("unaligned RAM: a region base off a 4 KiB boundary is refused at /memory/<i>/base", () => {
    const doc = base();
    doc.memory = [{ base: "0x0", size: "16 MiB" }, { base: "0x2000800", size: "1 MiB" }];
    const e = failure("ram-base", doc);
    expect(e.path).toBe("/memory/1/base");
    expect(e.rule).toMatch(/4 KiB/);
  });

  test("unaligned RAM: a region size that is not a multiple of 4 KiB is refused at /memory/0/size", () => {
    const doc = base();
    doc.memory = [{ base: "0x0", size: "0x1000100" }];
    const e = failure("ram-size", doc);
    expect(e.path).toBe("/memory/0/size");
    expect(e.rule).toMatch(/4 KiB/);
  });

  test("RAM that does not cover the firmware area is refused at /memory", () => {
    const doc = base();
    doc.memory = [{ base: "0x100000", size: "16 MiB" }];
    const e = failure("ram-low", doc);
    expect(e.path).toBe("/memory");
    expect(e.rule).toMatch(/0xE0000/);
  });

  test("overlapping RAM regions are refused", () => {
    const doc = base();
    doc.memory = [{ base: "0x0", size: "16 MiB" }, { base: "0x800000", size: "16 MiB" }];
    expect(failure("ram-overlap", doc).path).toBe("/memory/1");
  });

  test("unknown device file: refused at /pci/slots/0/device", () => {
    const doc = base();
    doc.pci.slots = [{ address: "00:03.0", device: "no-such-device" }];
    const e = failure("device", doc);
    expect(e.path).toBe("/pci/slots/0/device");
    expect(e.rule).toContain("no-such-device");
  });

  test("unknown property: at the top level and nested, named with its JSON path and the additionalProperties rule", () => {
    const top = { ...base(), colour: "blue" };
    const e1 = failure("prop-top", top);
    expect(e1.path).toBe("");
    expect(e1.rule).toContain("colour");
    expect(e1.rule).toContain("additionalProperties");
    const nested = base() as any;
    nested.cpu.speed = 3;
    const e2 = failure("prop-nested", nested);
    expect(e2.path).toBe("/cpu");
    expect(e2.rule).toContain("speed");
    expect(e2.rule).toContain("additionalProperties");
    const slot = base() as any;
    slot.pci.slots[0].irq = 5;
    expect(failure("prop-slot", slot).path).toBe("/pci/slots/0");
  });

  test("unknown model parameter in a slot is refused at its path", () => {
    const doc = base() as any;
    doc.pci.slots[0].params = { noSuchParam: 1 };
    const e = failure("param", doc);
    expect(e.path).toBe("/pci/slots/0/params/noSuchParam");
  });

  test("a slot address outside the ECAM buses is refused at its address", () => {
    const doc = base();
    doc.pci.slots = [{ address: "01:00.0", device: "edu" }];
    expect(failure("bus", doc).path).toBe("/pci/slots/0/address");
  });

  test("a missing file is reported with the name asked for", () => {
    expect(() => loadMachine(join(dir, "absent.json"))).toThrow(FirmwareError);
  });

  test("the core refuses a description with no CPUs, reported at /cpu", () => {
    const d = defaultMachineDescription();
    d.cpu.count = 0;
    d.memory = [{ base: 0, size: 16 << 20 }];
    try {
      Machine.fromDescription(d);
      throw new Error("accepted");
    } catch (e) {
      expect(e).toBeInstanceOf(FirmwareError);
      expect((e as FirmwareError).path).toBe("/cpu");
    }
  });
});
