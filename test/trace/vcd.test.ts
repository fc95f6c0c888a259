// --vcd: a Value Change Dump a real VCD consumer reads (GTKWave's vcd2fst, then fst2vcd back),
// with one pulse per MSI message, the IRQL each processor's work ran at, DMA in flight and
// register writes per PCI function; the same seed gives the same bytes.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { boot } from "../../src/pnp/boot.js";
import { toVcd } from "../../src/trace/vcd.js";
import { runEduWorkload, EDU_WORKLOAD_DEFAULTS } from "../../src/workloads/edu.js";
import type { BootedKernel } from "../../src/pnp/boot.js";
import type { Machine } from "../../src/machine/machine.js";

async function recordedEdu(): Promise<{ machine: Machine; vcd: string }> {
  const machine = await boot("default", { trace: true });
  await runEduWorkload(machine, { ...EDU_WORKLOAD_DEFAULTS, factorials: 4, dmaRoundTrips: 2 });
  const k = (machine.kernel as BootedKernel).k;
  return { machine, vcd: toVcd(k.recorder, machine.description.name) };
}

/** The identifier of `scope.name` in a VCD header. */
function id(vcd: string, scope: string, name: string): string {
  const at = vcd.indexOf(`$scope module ${scope} $end`);
  const m = new RegExp(`\\$var \\w+ \\d+ (\\S+) ${name} \\$end`).exec(vcd.slice(at));
  if (at < 0 || !m) throw new Error(`no ${scope}.${name}`);
  return m[1];
}

/** The values a signal takes after #0, in order. */
function values(vcd: string, ident: string): string[] {
  const body = vcd.slice(vcd.indexOf("$end", vcd.indexOf("$dumpvars")));
  const out: string[] = [];
  for (const line of body.split("\n")) {
    if (line.endsWith(` ${ident}`)) out.push(line.slice(1, -ident.length - 1));
    else if (line.length === ident.length + 1 && line.endsWith(ident) && (line[0] === "0" || line[0] === "1")) out.push(line[0]);
  }
  return out;
}

describe("--vcd waveforms", () => {
  it("GTKWave's vcd2fst reads the file, and fst2vcd gives back the same signals and changes", async () => {
    const { vcd } = await recordedEdu();
    const dir = mkdtempSync(join(tmpdir(), "wdmsim-vcd-"));
    writeFileSync(join(dir, "run.vcd"), vcd);
    execFileSync("vcd2fst", [join(dir, "run.vcd"), join(dir, "run.fst")], { stdio: "pipe" });
    const back = execFileSync("fst2vcd", [join(dir, "run.fst")], { encoding: "utf8" });
    for (const [scope, name] of [["cpu0", "irql"], ["pci_00_03_0", "msi_0x51"], ["pci_00_03_0", "dma_reads"], ["pci_00_03_0", "mmio_offset"]]) {
      expect(back).toContain(`$scope module ${scope} $end`);
      const ident = id(back, scope, name);
      expect(values(back, ident).length).toBeGreaterThan(0);
    }
    expect(back).toContain("1ps");
  }, 60_000);

  it("one MSI pulse per message the device sent; IRQL 0, 2 (DPC) or the vector's (ISR); DMA counts back to 0", async () => {
    const { machine, vcd } = await recordedEdu();
    const k = (machine.kernel as BootedKernel).k;
    const messages = k.recorder.events.filter((e) => e.cat === "interrupt" && e.name === "MSI").length;
    expect(messages).toBeGreaterThan(0);
    const msi = values(vcd, id(vcd, "pci_00_03_0", "msi_0x51"));
    expect(msi.filter((v) => v === "1").length).toBe(messages);
    const irql = new Set(values(vcd, id(vcd, "cpu0", "irql")).map((b) => parseInt(b, 2)));
    expect([...irql].every((l) => l === 0 || l === 2 || l === 0x51 >> 4)).toBe(true);
    expect(irql).toContain(0x51 >> 4);
    expect(irql).toContain(2);
    const reads = values(vcd, id(vcd, "pci_00_03_0", "dma_reads")).map((b) => parseInt(b, 2));
    expect(Math.max(...reads)).toBeGreaterThan(0);
    expect(reads[reads.length - 1]).toBe(0);
  }, 60_000);

  it("the same run gives the same bytes", async () => {
    expect((await recordedEdu()).vcd).toBe((await recordedEdu()).vcd);
  }, 60_000);
});
