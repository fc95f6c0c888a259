// Machine and device files that cannot boot right are refused at load, each error naming
// the file, the JSON path and the one rule broken: the ECAM window on a 1 MiB boundary
// and clear of the PCI memory window and the fixed register windows; a PCI memory window
// large enough for every memory BAR as firmware sizes them; an MSI-X table and pending-bit
// array inside a memory BAR of the function, QWORD aligned, not overlapping; and a
// driver package's service names unique.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIRMWARE_DIR, FirmwareError, deviceFromJson, loadMachine } from "../../src/machine/firmwareFiles.js";
import { loadDriverPackageFile } from "../../src/pnp/inf.js";

const dir = mkdtempSync(join(tmpdir(), "wdmsim-checks-"));
const root = join(import.meta.dirname, "../..");

/** Writes the default machine with `pci` changes, and returns a loader of it. */
function machineWith(name: string, pci: Record<string, unknown>): () => unknown {
  const doc = JSON.parse(readFileSync(join(FIRMWARE_DIR, "machines/default.json"), "utf8"));
  doc.pci = { ...doc.pci, ...pci };
  delete doc.$schema;
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(doc));
  return () => loadMachine(file);
}

/** The nvme device file with `msix` changed. */
function nvmeWith(msix: Record<string, unknown>): () => unknown {
  const doc = JSON.parse(readFileSync(join(FIRMWARE_DIR, "devices/nvme.json"), "utf8"));
  doc.pci.msix = { ...doc.pci.msix, ...msix };
  return () => deviceFromJson(doc, "nvme-edited.json");
}

describe("machine file checks", () => {
  it("an ECAM window off a 1 MiB boundary", () => {
    const load = machineWith("ecam-align", { ecam: { base: "0xE0080000", buses: 1 } });
    expect(load).toThrow(FirmwareError);
    expect(load).toThrow(/ecam-align\.json: \/pci\/ecam\/base: the ECAM window must start on a 1 MiB boundary/);
  });

  it("an ECAM window over the PCI memory window, or the memory window over the I/O APIC's registers", () => {
    expect(machineWith("ecam-over", { ecam: { base: "0xC0000000", buses: 1 } })).toThrow(/\/pci\/mmioWindow: the PCI memory window \(\/pci\/mmioWindow\) at 0xC0000000\.\.0xDFFFFFFF overlaps the ECAM window/);
    expect(machineWith("mmio-ioapic", { mmioWindow: { base: "0xF0000000", size: "256 MiB" } })).toThrow(/\/pci\/mmioWindow: .*overlaps the I\/O APIC's registers/);
  });

  it("a PCI memory window too small for the devices' BARs names the size needed", () => {
    // The edu device's BAR0 is 1 MiB.
    const load = machineWith("small-window", { mmioWindow: { base: "0xC0000000", size: "512 KiB" } });
    expect(load).toThrow(/\/pci\/mmioWindow\/size: the PCI memory window holds 0x80000 bytes, and the devices' memory BARs need at least 0x100000/);
    expect(machineWith("enough", { mmioWindow: { base: "0xC0000000", size: "1 MiB" } })).not.toThrow();
  });
});

describe("device file checks", () => {
  it("the shipped nvme device passes", () => {
    expect(nvmeWith({})).not.toThrow();
  });

  it("an MSI-X table past its BAR, in a BAR the function lacks, off a QWORD boundary, or under the PBA", () => {
    expect(nvmeWith({ tableOffset: "0x3F80" })).toThrow(/nvme-edited\.json: \/pci\/msix\/tableOffset: the MSI-X table \(272 bytes at 0x3f80\) ends past BAR0's 16384 bytes/);
    expect(nvmeWith({ pbaBar: 2 })).toThrow(/\/pci\/msix\/pbaBar: BAR2 is not a memory BAR of this function/);
    expect(nvmeWith({ tableOffset: "0x2004" })).toThrow(/\/pci\/msix\/tableOffset: the MSI-X table must start on a QWORD \(8-byte\) boundary/);
    expect(nvmeWith({ pbaOffset: "0x2080" })).toThrow(/\/pci\/msix\/pbaOffset: the pending-bit array \(0x2080\.\.0x2087\) overlaps the MSI-X table \(0x2000\.\.0x210f\)/);
  });
});

describe("driver package checks", () => {
  it("a service named twice in one package file", async () => {
    const file = join(dir, "twice.json");
    const module = join(root, "src/drivers/toaster/filter.ts");
    writeFileSync(file, JSON.stringify({ description: "twice", drivers: [
      { service: "f1", module, role: "upperFilter", ids: ["A"] },
      { service: "F1", module, role: "lowerFilter", ids: ["B"] },
    ] }));
    const e = await loadDriverPackageFile(file).then(() => null, (x) => x);
    expect(e).toBeInstanceOf(FirmwareError);
    expect((e as Error).message).toMatch(/\/drivers\/1\/service: service "F1" is already \/drivers\/0's/);
  });
});
