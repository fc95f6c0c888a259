// Faults a machine file schedules ("faults"): applied at their simulated time, noted in the
// trace, the same every run — a device pulled out without warning (the PnP manager sends
// SURPRISE_REMOVAL and REMOVE, and the driver unloads), a driver's next pool allocations
// failing; and a file naming a fault wrongly is refused with the JSON path.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Machine, boot, PNP, ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE, KeDelayExecutionThread, KPROCESSOR_MODE, FirmwareError, loadMachine } from "../../src/index.js";
import { IO } from "../../src/io/manager.js";
import { FIRMWARE_DIR } from "../../src/machine/firmwareFiles.js";
import { asDriver, defaultDescription, kernelOf, relativeMs } from "../support/kernel-harness.js";

const dir = mkdtempSync(join(tmpdir(), "wdmsim-faults-"));

async function machineWith(faults: object[]): Promise<Machine> {
  const d = defaultDescription();
  const file = join(dir, "m.json");
  const doc = JSON.parse(readFileSync(join(FIRMWARE_DIR, "machines/default.json"), "utf8"));
  delete doc.$schema;
  doc.faults = faults;
  writeFileSync(file, JSON.stringify(doc));
  const loaded = loadMachine(file);
  d.faults = loaded.faults;
  return boot(Machine.fromDescription(d), { trace: true });
}

/** The injected faults in the machine's trace, in order. */
function notes(m: Machine): string[] {
  return kernelOf(m).recorder.events.filter((e) => e.cat === "fault").map((e) => e.name);
}

describe("scheduled faults", () => {
  it("surpriseRemove at 20 ms: the edu function vanishes, the PnP manager removes its stack and the driver unloads", async () => {
    const m = await machineWith([{ at: "20ms", kind: "surpriseRemove", device: "00:03.0" }]);
    const k = kernelOf(m);
    expect(IO(k).drivers.has("edu")).toBe(true);
    await m.exec(() => KeDelayExecutionThread(KPROCESSOR_MODE.KernelMode, false, relativeMs(25)));
    await m.exec(() => PNP(k).perform("sync", async () => {}));
    expect(notes(m)).toEqual(["fault: surpriseRemove at 00:03.0"]);
    expect(IO(k).drivers.has("edu")).toBe(false);
    expect([...PNP(k).allNodes()].some((n) => n.ServiceName === "edu")).toBe(false);
  });

  it("failPool: the driver's next allocations fail, then they succeed again", async () => {
    const m = await machineWith([{ at: "1us", kind: "failPool", driver: "fpdrv", count: 3 }]);
    const pattern = await m.exec(() => asDriver("fpdrv", "Allocate", () => {
      let out = "";
      for (let i = 0; i < 5; i++) {
        const p = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 32, "FpTg");
        out += p === 0 ? "1" : "0";
        if (p) ExFreePoolWithTag(p, "FpTg");
      }
      return out;
    }));
    expect(pattern).toBe("11100");
    expect(notes(m)).toEqual(["fault: failPool for fpdrv", ...Array(3).fill("fault: pool allocation of fpdrv failed")]);
  });

  it("a fault naming no slot, an NVMe fault on another device, or a missing field is refused with its JSON path", () => {
    const refuse = (faults: object[], path: string, rule: RegExp) => {
      const doc = JSON.parse(readFileSync(join(FIRMWARE_DIR, "machines/default.json"), "utf8"));
      delete doc.$schema;
      doc.faults = faults;
      const file = join(dir, "bad.json");
      writeFileSync(file, JSON.stringify(doc));
      expect(() => loadMachine(file)).toThrow(FirmwareError);
      expect(() => loadMachine(file)).toThrow(new RegExp(`${path.replace(/\//g, "\\/")}: ${rule.source}`));
    };
    refuse([{ at: "1ms", kind: "surpriseRemove", device: "00:09.0" }], "/faults/0/device", /no slot at 00:09\.0/);
    refuse([{ at: "1ms", kind: "drop", device: "00:03.0" }], "/faults/0/kind", /drop is a fault of an NVMe controller, and 00:03\.0 is a edu/);
    refuse([{ at: "1ms", kind: "failPool" }], "/faults/0/driver", /a failPool fault names the driver/);
    refuse([{ at: "soon", kind: "failPool", driver: "x" }], "/faults/0/at", /.*/);
  });
});
