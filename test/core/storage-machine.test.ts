// firmware/machines/storage.json: four CPUs, RAM above 4 GiB, an IOMMU and an NVMe
// controller behind a root port. The controller is reached only through the port, and
// its DMA goes through the IOMMU once translation is on.
import { describe, expect, test } from "vitest";
import { Machine } from "../../src/machine/machine.js";
import { loadMachine } from "../../src/machine/firmwareFiles.js";
import * as L from "../../src/machine/generated/layout.js";

describe("the storage machine", () => {
  const d = loadMachine("storage");

  test("the file describes 4 CPUs, RAM below and above 4 GiB, an IOMMU, and NVMe behind the root port", () => {
    expect(d.cpu.count).toBe(4);
    expect(d.memory.some((r) => r.base >= 2 ** 32)).toBe(true);
    expect(d.iommu).not.toBeNull();
    const nvme = d.slots.find((s) => s.deviceFile === "nvme")!;
    const port = d.slots.find((s) => s.deviceFile === "pcie-root-port")!;
    expect(d.slots[nvme.parent!]).toBe(port);
    expect([port.secondaryBus, port.subordinateBus]).toEqual([1, 1]);
  });

  test("powered on: the NVMe controller answers on bus 1 only, and RAM above 4 GiB is backed", () => {
    const m = Machine.fromDescription(d);
    const nvme = m.functions.find((f) => f.deviceFile === "nvme")!;
    expect(m.core.x.configRead(nvme.index, 0x08, 4) >>> 8).toBe(0x010802);
    expect(nvme.bus).toBe(1);
    m.core.writePhysical(0x100000000 + 0x1000, new Uint8Array([1, 2, 3, 4]));
    expect(m.core.readPhysical(0x100000000 + 0x1000, 4)).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(() => m.core.readPhysical(0xC0000000, 4)).toThrow(RangeError);
    expect(L.RAM_PHYS_LIMIT).toBeGreaterThanOrEqual(64 * 2 ** 30);
  });
});
