// PCI-to-PCI bridges (type 1 headers), power management and the PCI Express capability:
// a device behind a bridge is reached only through correctly programmed bus numbers and
// windows, its DMA leaves only through bridges with bus mastering on, and requests cross
// (and queue on) every link on the path.
import { describe, expect, test } from "vitest";
import { CFG, CMD, CoreHarness, EDU, L, pattern } from "../support/core-harness.js";
import { FIRMWARE_DIR, FirmwareError, loadDevice, loadMachine, type MachineDescription, type SlotDescription } from "../../src/machine/firmwareFiles.js";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";

const PORT = { bus: 0, dev: 0x1C, fn: 0 };
const BEHIND = { bus: 1, dev: 0, fn: 0 };
const BAR = 0xC0000000;

function port(device = 0x1C, secondary = 1, subordinate = 1, file = "pcie-root-port", parent: number | null = null, bus = 0): SlotDescription {
  return { bus, device, function: 0, deviceFile: file, spec: loadDevice(file), parent, secondaryBus: secondary, subordinateBus: subordinate };
}

/** Root port at 00:1c.0 with the edu device at 01:00.0 behind it. */
function behindRootPort(): CoreHarness {
  return new CoreHarness({
    edit: (d: MachineDescription) => {
      d.ecam.buses = 4;
      d.slots = [port(), { ...d.slots[0], bus: 1, device: 0, function: 0, parent: 0 }];
    },
  });
}

const BRIDGE = {
  PRIMARY: 0x18, SECONDARY: 0x19, SUBORDINATE: 0x1A, MEMORY_BASE: 0x20, MEMORY_LIMIT: 0x22,
  PREFETCH_BASE: 0x24, PREFETCH_LIMIT: 0x26, SECONDARY_STATUS: 0x1E,
} as const;

/** Opens the bridge's memory window over [base, base + size) (1 MiB granularity) and enables decode and mastering. */
function openWindow(h: CoreHarness, base = BAR, size = 1 << 20, bdf = PORT): void {
  h.cfgWrite(BRIDGE.MEMORY_BASE, 2, (base >>> 16) & 0xFFF0, bdf);
  h.cfgWrite(BRIDGE.MEMORY_LIMIT, 2, ((base + size - 1) >>> 16) & 0xFFF0, bdf);
  h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY | CMD.BUS_MASTER, bdf);
}

/** Programs the edu BAR behind the port and maps it. */
function setupEdu(h: CoreHarness, command = CMD.MEMORY | CMD.BUS_MASTER): void {
  h.identityMap(BAR, 1 << 20);
  h.barBase = BAR;
  h.cfgWrite(CFG.BAR0, 4, BAR, BEHIND);
  h.cfgWrite(CFG.COMMAND, 2, command, BEHIND);
}

describe("type 1 header", () => {
  test("a bridge reports header type 1, class 0x060400 and the bus numbers firmware programmed", () => {
    const h = behindRootPort();
    expect(h.cfgRead(CFG.HEADER_TYPE, 1, PORT) & 0x7F).toBe(1);
    expect(h.cfgRead(0x08, 4, PORT) >>> 8).toBe(0x060400);
    expect(h.cfgRead(BRIDGE.PRIMARY, 1, PORT)).toBe(0);
    expect(h.cfgRead(BRIDGE.SECONDARY, 1, PORT)).toBe(1);
    expect(h.cfgRead(BRIDGE.SUBORDINATE, 1, PORT)).toBe(1);
  });

  test("memory windows come up closed (base above limit) and take only address bits 31:20", () => {
    const h = behindRootPort();
    const base = h.cfgRead(BRIDGE.MEMORY_BASE, 2, PORT);
    const limit = h.cfgRead(BRIDGE.MEMORY_LIMIT, 2, PORT);
    expect(base).toBeGreaterThan(limit);
    h.cfgWrite(BRIDGE.MEMORY_BASE, 2, 0xFFFF, PORT);
    expect(h.cfgRead(BRIDGE.MEMORY_BASE, 2, PORT)).toBe(0xFFF0);
    // The prefetchable window says it is 64-bit capable in its low nibble (read-only).
    h.cfgWrite(BRIDGE.PREFETCH_BASE, 2, 0, PORT);
    expect(h.cfgRead(BRIDGE.PREFETCH_BASE, 2, PORT) & 0xF).toBe(1);
  });

  test("secondary status error bits are write-1-to-clear", () => {
    const h = behindRootPort();
    h.cfgWrite(BRIDGE.SECONDARY_STATUS, 2, 0xFFFF, PORT);
    expect(h.cfgRead(BRIDGE.SECONDARY_STATUS, 2, PORT)).toBe(0);
  });
});

describe("configuration routing", () => {
  test("a device behind a root port answers on the port's secondary bus and nowhere else", () => {
    const h = behindRootPort();
    expect(h.cfgRead(0, 4, BEHIND)).toBe(0x11E81234);
    expect(h.cfgRead(0, 2, { bus: 0, dev: 0, fn: 0 })).toBe(0xFFFF);
    expect(h.cfgRead(0, 2, { bus: 2, dev: 0, fn: 0 })).toBe(0xFFFF);
  });

  test("renumbering the secondary bus moves the device; a bus outside [secondary, subordinate] is not routed", () => {
    const h = behindRootPort();
    h.cfgWrite(BRIDGE.SUBORDINATE, 1, 2, PORT);
    h.cfgWrite(BRIDGE.SECONDARY, 1, 2, PORT);
    expect(h.cfgRead(0, 2, BEHIND)).toBe(0xFFFF);
    expect(h.cfgRead(0, 4, { bus: 2, dev: 0, fn: 0 })).toBe(0x11E81234);
    h.cfgWrite(BRIDGE.SUBORDINATE, 1, 1, PORT);
    expect(h.cfgRead(0, 2, { bus: 2, dev: 0, fn: 0 })).toBe(0xFFFF);
  });

  test("behind a switch, every bridge on the way must route the bus", () => {
    const h = new CoreHarness({
      edit: (d) => {
        d.ecam.buses = 8;
        d.slots = [
          port(0x1C, 1, 3),
          port(0, 2, 3, "pcie-switch-upstream", 0, 1),
          port(0, 3, 3, "pcie-switch-downstream", 1, 2),
          { ...d.slots[0], bus: 3, device: 0, function: 0, parent: 2 },
        ];
      },
    });
    const edu = { bus: 3, dev: 0, fn: 0 };
    expect(h.cfgRead(0, 4, edu)).toBe(0x11E81234);
    // Narrowing the root port's range cuts the path even though the switch still routes bus 3.
    h.cfgWrite(BRIDGE.SUBORDINATE, 1, 2, PORT);
    expect(h.cfgRead(0, 2, edu)).toBe(0xFFFF);
  });
});

describe("memory routing", () => {
  test("a BAR behind a bridge decodes only inside an open window with the bridge's memory decode on", () => {
    const h = behindRootPort();
    setupEdu(h);
    expect(h.read(BAR + EDU.ID, 4).status).toBe(L.ACCESS_MASTER_ABORT);
    openWindow(h);
    expect(h.mmioRead(EDU.ID)).toBe(0x010000ED);
    h.cfgWrite(CFG.COMMAND, 2, CMD.BUS_MASTER, PORT);
    expect(h.read(BAR + EDU.ID, 4).status).toBe(L.ACCESS_MASTER_ABORT);
  });

  test("a BAR outside the bridge's window does not decode", () => {
    const h = behindRootPort();
    setupEdu(h);
    openWindow(h, BAR + (16 << 20));
    expect(h.read(BAR + EDU.ID, 4).status).toBe(L.ACCESS_MASTER_ABORT);
  });

  test("DMA from behind a bridge needs the bridge's bus mastering; without it the request is a master abort", () => {
    const h = behindRootPort();
    setupEdu(h);
    openWindow(h);
    h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY, PORT);
    const data = pattern(64, 3);
    h.core.writePhysical(0x500000, data);
    const aborts = h.counters().masterAborts;
    h.mmioWrite(EDU.DMA_SRC, 0x500000n, 8);
    h.mmioWrite(EDU.DMA_DST, BigInt(EDU.BUFFER), 8);
    h.mmioWrite(EDU.DMA_COUNT, 64n, 8);
    h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START);
    h.advance(100e6);
    expect(h.counters().masterAborts).toBe(aborts + 1);
    // With mastering on at the bridge, the same transfer moves the data (checked by a round trip).
    h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY | CMD.BUS_MASTER, PORT);
    h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START);
    h.advance(100e6);
    h.mmioWrite(EDU.DMA_SRC, BigInt(EDU.BUFFER), 8);
    h.mmioWrite(EDU.DMA_DST, 0x600000n, 8);
    h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START | EDU.DMA_TO_RAM);
    h.advance(100e6);
    expect(h.counters().masterAborts).toBe(aborts + 1);
    expect(h.core.readPhysical(0x600000, 64)).toEqual(data);
  });
});

describe("link timing across bridges", () => {
  /** ps to move one TLP of `payload` bytes on a link of `generation`/`width` with 24 bytes of overhead. */
  function tlp(payload: number, generation: number, width: number): number {
    const perByte = { 1: 4000, 2: 2000, 3: 8125 / 8, 4: 8125 / 16 }[generation]! / width;
    return Math.ceil((payload + 24) * perByte);
  }

  test("an MMIO read behind a root port costs a round trip over both links", () => {
    const h = behindRootPort();
    setupEdu(h);
    openWindow(h);
    h.mmioRead(EDU.ID);
    h.syncCpu();
    const start = h.cpuTime();
    h.mmioRead(EDU.ID);
    const took = h.cpuTime() - start;
    const edu = loadDevice("edu").link;
    const rp = loadDevice("pcie-root-port").link;
    const down = tlp(0, rp.generation, rp.width) + rp.latencyNs * 1000 + tlp(0, edu.generation, edu.width) + edu.latencyNs * 1000;
    const up = tlp(4, edu.generation, edu.width) + edu.latencyNs * 1000 + tlp(4, rp.generation, rp.width) + rp.latencyNs * 1000;
    expect(took).toBe(down + up);
  });

  test("two devices behind one switch share its upstream link: their DMA writes queue on it", () => {
    const make = (devices: number) => new CoreHarness({
      edit: (d) => {
        d.ecam.buses = 8;
        const edu = d.slots[0];
        d.slots = [
          port(0x1C, 1, 3),
          port(0, 2, 3, "pcie-switch-upstream", 0, 1),
          port(0, 3, 3, "pcie-switch-downstream", 1, 2),
          ...Array.from({ length: devices }, (_, i) => ({ ...edu, bus: 3, device: i, function: 0, parent: 2 })),
        ];
      },
    });
    // Compare the time the shared upstream link is busy: with two devices it carries twice the data.
    const one = runWithTrace(make(1), 1);
    const two = runWithTrace(make(2), 2);
    const up = loadDevice("pcie-switch-upstream").link;
    const pages = 4096 / 256;
    const perDevice = pages * tlp(256, up.generation, up.width);
    expect(two.last - two.first).toBeGreaterThanOrEqual(one.last - one.first + perDevice - tlp(256, up.generation, up.width));
  });
});

function runWithTrace(h: CoreHarness, devices: number): { first: number; last: number } {
  h.x.traceEnable(1);
  const sw = [PORT, { bus: 1, dev: 0, fn: 0 }, { bus: 2, dev: 0, fn: 0 }];
  for (const b of sw) openWindow(h, BAR, 4 << 20, b);
  for (let i = 0; i < devices; i++) {
    const bdf = { bus: 3, dev: i, fn: 0 };
    h.identityMap(BAR + i * (1 << 20), 1 << 20);
    h.cfgWrite(CFG.BAR0, 4, BAR + i * (1 << 20), bdf);
    h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY | CMD.BUS_MASTER, bdf);
  }
  h.drainTrace();
  for (let i = 0; i < devices; i++) {
    h.barBase = BAR + i * (1 << 20);
    h.mmioWrite(EDU.DMA_SRC, BigInt(EDU.BUFFER), 8);
    h.mmioWrite(EDU.DMA_DST, BigInt(0x500000 + i * 0x1000), 8);
    h.mmioWrite(EDU.DMA_COUNT, 4096n, 8);
    h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START | EDU.DMA_TO_RAM);
  }
  h.settle();
  const records = h.drainTrace();
  const starts = records.filter((r) => r.kind === L.TR_DMA_WRITE).map((r) => r.time);
  const landed = records.filter((r) => r.kind === L.TR_WRITE_LANDED).map((r) => r.time);
  expect(landed.length).toBe(devices);
  return { first: Math.min(...starts), last: Math.max(...landed) };
}

describe("power management", () => {
  test("in D3hot a function decodes no memory and masters nothing; back in D0 it works again", () => {
    const h = new CoreHarness({ edit: (d) => { d.slots[0].spec.pm = { offset: 0x50 }; } });
    h.setupDevice();
    expect(h.mmioRead(EDU.ID)).toBe(0x010000ED);
    h.cfgWrite(0x50 + 4, 2, 3);
    expect(h.cfgRead(0x50 + 4, 2) & 3).toBe(3);
    expect(h.read(h.barBase + EDU.ID, 4).status).toBe(L.ACCESS_MASTER_ABORT);
    h.cfgWrite(0x50 + 4, 2, 0);
    expect(h.mmioRead(EDU.ID)).toBe(0x010000ED);
  });

  test("PMCSR accepts only D0 and D3hot (D1/D2 are not supported and leave the state)", () => {
    const h = new CoreHarness({ edit: (d) => { d.slots[0].spec.pm = { offset: 0x50 }; } });
    h.cfgWrite(0x50 + 4, 2, 1);
    expect(h.cfgRead(0x50 + 4, 2) & 3).toBe(0);
    expect(h.cfgRead(0x50 + 2, 2) & 0x7).toBe(3);
  });
});

describe("PCI Express capability", () => {
  test("link capabilities and status report the device file's generation and width", () => {
    const h = behindRootPort();
    const cap = 0x40;
    expect(h.cfgRead(cap, 1, PORT)).toBe(0x10);
    expect((h.cfgRead(cap + 2, 2, PORT) >> 4) & 0xF).toBe(4);
    const rp = loadDevice("pcie-root-port").link;
    expect(h.cfgRead(cap + 0x0C, 4, PORT) & 0x3FF).toBe(rp.generation | (rp.width << 4));
    expect(h.cfgRead(cap + 0x12, 2, PORT) & 0x3FF).toBe(rp.generation | (rp.width << 4));
  });

  test("a function's config space beyond 0x100 exists only for PCI Express functions", () => {
    const h = behindRootPort();
    expect(h.cfgRead(0x100, 4, PORT)).toBe(0);
    expect(h.cfgRead(0x100, 4, BEHIND) >>> 0).toBe(0xFFFFFFFF);
  });

  test("Max_Payload_Size in Device Control sets how DMA writes are split: smaller payloads take longer", () => {
    const measure = (mps: number) => {
      const h = new CoreHarness({ edit: (d) => { d.slots[0].spec.pcie = { offset: 0x60, type: "endpoint", maxPayloadSupported: 512 }; d.slots[0].spec.express = true; } });
      h.setupDevice();
      const control = h.cfgRead(0x60 + 8, 2);
      h.cfgWrite(0x60 + 8, 2, (control & ~0xE0) | (Math.log2(mps / 128) << 5));
      h.x.traceEnable(1);
      h.drainTrace();
      h.mmioWrite(EDU.DMA_SRC, BigInt(EDU.BUFFER), 8);
      h.mmioWrite(EDU.DMA_DST, 0x500000n, 8);
      h.mmioWrite(EDU.DMA_COUNT, 4096n, 8);
      h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START | EDU.DMA_TO_RAM);
      h.settle();
      const r = h.drainTrace();
      const start = r.find((x) => x.kind === L.TR_DMA_WRITE)!;
      return Number(start.c) - start.time;
    };
    const edu = loadDevice("edu").link;
    const per = { 1: 4000, 2: 2000 }[edu.generation as 1 | 2]! / edu.width;
    expect(measure(128)).toBe(32 * Math.ceil((128 + 24) * per) + edu.latencyNs * 1000);
    expect(measure(512)).toBe(8 * Math.ceil((512 + 24) * per) + edu.latencyNs * 1000);
  });
});

describe("machine files with bridges", () => {
  const dir = mkdtempSync(join(tmpdir(), "wdmsim-bridges-"));
  let files = 0;
  function machineWith(slots: object[], buses = 4): string {
    const m = { ...loadRaw(), pci: { ...loadRaw().pci, ecam: { base: "0xE0000000", buses }, slots } };
    const file = join(dir, `m${files++}.json`);
    writeFileSync(file, JSON.stringify(m));
    return file;
  }

  test("a device behind a root port gets the port's secondary bus from its address", () => {
    const d = loadMachine(machineWith([{ address: "00:1c.0", device: "pcie-root-port" }, { address: "02:00.0", device: "edu", behind: "00:1c.0" }]));
    const portSlot = d.slots.find((s) => s.deviceFile === "pcie-root-port")!;
    expect([portSlot.secondaryBus, portSlot.subordinateBus]).toEqual([2, 2]);
    expect(d.slots.find((s) => s.deviceFile === "edu")!.parent).toBe(d.slots.indexOf(portSlot));
  });

  test("behind must name a bridge that exists", () => {
    expect(() => loadMachine(machineWith([{ address: "01:00.0", device: "edu", behind: "00:1c.0" }]))).toThrow(/\/pci\/slots\/0\/behind: no slot has address 00:1c.0/);
    expect(() => loadMachine(machineWith([{ address: "00:03.0", device: "edu" }, { address: "01:00.0", device: "edu", behind: "00:03.0" }]))).toThrow(FirmwareError);
  });

  test("a device off the root bus must say which bridge it is behind", () => {
    expect(() => loadMachine(machineWith([{ address: "01:00.0", device: "edu" }]))).toThrow(/not the root bus/);
  });
});

/** The default machine file as JSON. */
function loadRaw(): Record<string, any> {
  return JSON.parse(readFileSync(join(FIRMWARE_DIR, "machines/default.json"), "utf8"));
}
