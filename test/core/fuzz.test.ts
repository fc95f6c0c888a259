// Random MMIO, configuration, interrupt-controller and IOMMU traffic, with random DMA
// addresses, thrown at every device of a machine for a bounded number of operations:
// no host exception, no internal fault, nothing outside guest RAM and the devices' own
// state written, and the machine's invariants still hold afterwards.
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { CoreHarness, L } from "../support/core-harness.js";
import { loadDevice, type MachineDescription } from "../../src/machine/firmwareFiles.js";

const WINDOW = 0xC0000000;
const IOAPIC = 0xFEC00000;
const IOMMU = 0xFED90000;

const NVME = WINDOW + (8 << 20);

/** edu on the root bus, a root port with a second edu behind it, an NVMe controller, an IOMMU. */
function machine(): CoreHarness {
  const h = new CoreHarness({
    ramBytes: 16 << 20,
    edit: (d: MachineDescription) => {
      d.ecam.buses = 4;
      d.iommu = { iotlbEntries: 8, missLatencyNs: 100 };
      const edu = d.slots[0];
      d.slots = [
        edu,
        { bus: 0, device: 0x1C, function: 0, deviceFile: "pcie-root-port", spec: loadDevice("pcie-root-port"), parent: null, secondaryBus: 1, subordinateBus: 1 },
        { ...structuredClone(edu), bus: 1, device: 0, parent: 1 },
        { bus: 0, device: 4, function: 0, deviceFile: "nvme", spec: loadDevice("nvme"), parent: null, secondaryBus: 0, subordinateBus: 0 },
      ];
    },
  });
  h.identityMap(WINDOW, 8 << 20);
  h.identityMap(NVME, 0x4000);
  h.identityMap(IOAPIC, 0x1000);
  h.identityMap(IOMMU, 0x1000);
  // Give everything a place to decode so MMIO reaches devices.
  h.x.configWrite(0, 0x10, 4, WINDOW);
  h.x.configWrite(0, 0x04, 2, 0x6);
  h.x.configWrite(1, 0x20, 2, ((WINDOW + (4 << 20)) >>> 16) & 0xFFF0);
  h.x.configWrite(1, 0x22, 2, ((WINDOW + (8 << 20) - 1) >>> 16) & 0xFFF0);
  h.x.configWrite(1, 0x04, 2, 0x6);
  h.x.configWrite(2, 0x10, 4, WINDOW + (4 << 20));
  h.x.configWrite(2, 0x04, 2, 0x6);
  h.x.configWrite(3, 0x10, 4, NVME);
  h.x.configWrite(3, 0x14, 4, 0);
  h.x.configWrite(3, 0x04, 2, 0x6);
  return h;
}

const size = fc.constantFrom(1, 2, 4, 8);
const value = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
/** Interesting DMA targets: RAM, past RAM, ECAM, the interrupt window, the top of the address space. */
const address = fc.oneof(
  fc.integer({ min: 0, max: 16 << 20 }),
  fc.constantFrom(0, 0xFFF, 0x1000000, 0xE0000000, 0xFEE00000, 0xFFFFF000, 0xC0000000),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
).map((a) => BigInt(a));

const op = fc.oneof(
  fc.record({ kind: fc.constant("config" as const), fn: fc.integer({ min: 0, max: 3 }), offset: fc.integer({ min: 0, max: 0xFFF }), size: fc.constantFrom(1, 2, 4), value: fc.integer({ min: 0, max: 0xFFFFFFFF }) }),
  fc.record({ kind: fc.constant("mmio" as const), offset: fc.integer({ min: 0, max: (8 << 20) - 8 }), size, value, read: fc.boolean() }),
  fc.record({ kind: fc.constant("edu-dma" as const), device: fc.integer({ min: 0, max: 1 }), src: address, dst: address, count: fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.constant(0x10000)), command: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("ioapic" as const), select: fc.integer({ min: 0, max: 0x40 }), value: fc.integer({ min: 0, max: 0xFFFFFFFF }) }),
  fc.record({ kind: fc.constant("iommu" as const), offset: fc.integer({ min: 0, max: 0x27F }).map((o) => o & ~3), value: fc.integer({ min: 0, max: 0xFFFFFFFF }) }),
  fc.record({ kind: fc.constant("advance" as const), ps: fc.integer({ min: 0, max: 20_000_000 }) }),
  // NVMe: registers, doorbells, and the MSI-X table, with queue addresses that may be anywhere.
  fc.record({
    kind: fc.constant("nvme" as const),
    offset: fc.oneof(fc.constantFrom(0x14, 0x24, 0x28, 0x30, 0x0C, 0x10), fc.integer({ min: 0x1000, max: 0x1088 }), fc.integer({ min: 0, max: 0x3FFF })).map((o) => o & ~3),
    size: fc.constantFrom(4, 8),
    value: fc.oneof(fc.constantFrom(0n, 1n, 0x460001n, 0x001F001Fn, 0x400000n), value),
  }),
);

type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

function apply(h: CoreHarness, o: Op): void {
  switch (o.kind) {
    case "config":
      if ((o.offset & (o.size - 1)) === 0) h.x.configWrite(o.fn, o.offset, o.size, o.value);
      break;
    case "mmio": {
      const va = WINDOW + o.offset - (o.offset % o.size);
      if (o.read) h.read(va, o.size);
      else h.write(va, o.size, o.value);
      break;
    }
    case "edu-dma": {
      const base = WINDOW + o.device * (4 << 20);
      h.write(base + 0x80, 8, o.src);
      h.write(base + 0x88, 8, o.dst);
      h.write(base + 0x90, 8, BigInt(o.count));
      h.write(base + 0x98, 4, o.command);
      break;
    }
    case "ioapic":
      h.write(IOAPIC, 4, o.select);
      h.write(IOAPIC + 0x10, 4, o.value);
      break;
    case "iommu":
      h.write(IOMMU + o.offset, 4, o.value);
      break;
    case "advance":
      h.advance(o.ps);
      break;
    case "nvme":
      h.write(NVME + (o.offset & ~(o.size - 1)), o.size, o.value);
      break;
  }
}

describe("fuzzing every device", () => {
  test("random traffic never throws, never faults the core, and never writes outside guest RAM or device state", () => {
    fc.assert(fc.property(fc.array(op, { minLength: 50, maxLength: 400 }), (ops) => {
      const h = machine();
      const runtimeBefore = h.core.u8.slice(0, L.CORE_STATE_BASE);
      const ids = [0, 1, 2, 3].map((fn) => h.x.configRead(fn, 0, 4));
      const apicIds = [0, 1].map((cpu) => h.core.u32[h.core.cpuField(cpu, L.CPU_APIC_ID) >> 2]);
      for (const o of ops) apply(h, o);
      h.advance(1e9);
      expect(h.x.fault()).toBe(0);
      // The runtime's static data below the core state is never written.
      expect(Buffer.from(h.core.u8.subarray(0, L.CORE_STATE_BASE)).equals(Buffer.from(runtimeBefore))).toBe(true);
      // Read-only identity and the CPUs' APIC IDs survive anything software or devices do.
      expect([0, 1, 2, 3].map((fn) => h.x.configRead(fn, 0, 4))).toEqual(ids);
      expect([0, 1].map((cpu) => h.core.u32[h.core.cpuField(cpu, L.CPU_APIC_ID) >> 2])).toEqual(apicIds);
      // Time moved forward and the queue is sane.
      expect(h.core.nowPs).toBeGreaterThan(0);
      expect(h.core.u32[(L.CORE_STATE_BASE + L.CORE_EVENT_COUNT) >> 2]).toBeLessThanOrEqual(L.EVENT_CAPACITY);
    }), { numRuns: 40, seed: 20261121 });
  });
});
