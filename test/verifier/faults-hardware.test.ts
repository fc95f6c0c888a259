// Hardware faults a driver meets (Machine.injectFault): an NVMe media error reaches a
// user-mode ReadFile as ERROR_CRC (STATUS_DEVICE_DATA_ERROR from the disk class driver's
// MEDIUM ERROR sense); a DMA write the root complex refuses (Unsupported Request) leaves
// the user's buffer untouched and the read fails; a duplicated MSI is harmless to a
// correct driver; chance faults drawn from the seed repeat with the seed and differ with
// another; a malformed fault is refused naming the field.
import { describe, expect, it } from "vitest";
import { type Machine } from "../../src/index.js";
import { ERROR_CRC } from "../../src/io/win32.js";
import { runEduWorkload } from "../../src/workloads/edu.js";
import { bootStorage, readAt, withDisk, writeAt } from "../support/storage-harness.js";
import { bootDefault, kernelOf } from "../support/kernel-harness.js";

/** The injected faults in the machine's trace: [name, time ps]. */
function faults(m: Machine): [string, number][] {
  return kernelOf(m).recorder.events.filter((e) => e.cat === "fault").map((e) => [e.name, e.ts] as [string, number]);
}

/** "bb:dd.f" of the machine's first NVMe controller. */
function nvmeAt(m: Machine): string {
  const s = m.description.slots.find((x) => x.spec.model === "nvme")!;
  const hex = (v: number) => v.toString(16).padStart(2, "0");
  return `${hex(s.bus)}:${hex(s.device)}.${s.function}`;
}

const BLOCK = 4096;

describe("NVMe media error", () => {
  it("a read touching the bad LBA range fails with ERROR_CRC; reads beside it and writes into it succeed", async () => {
    const m = await bootStorage({}, { trace: true });
    const data = new Uint8Array(BLOCK).fill(0x5A);
    await withDisk(m, async (h) => { expect((await writeAt(h, 40 * BLOCK, data)).ok).toBe(true); });
    m.injectFault(nvmeAt(m), { kind: "mediaError", lba: 40, blocks: 2 });
    const r = await withDisk(m, async (h) => ({
      bad: await readAt(h, 41 * BLOCK, BLOCK),
      beside: await readAt(h, 42 * BLOCK, BLOCK),
      write: await writeAt(h, 40 * BLOCK, data),
    }));
    expect(r.bad.ok).toBe(false);
    expect(r.bad.error).toBe(ERROR_CRC);
    expect(r.beside.ok).toBe(true);
    expect(r.write.ok).toBe(true);
    expect(faults(m).some(([n]) => n === "fault: media error")).toBe(true);
  });

  it("with writes, a write touching the range fails too; blocks 0 clears the range", async () => {
    const m = await bootStorage();
    m.injectFault(nvmeAt(m), { kind: "mediaError", lba: 10, blocks: 1, writes: true });
    const failed = await withDisk(m, (h) => writeAt(h, 10 * BLOCK, new Uint8Array(BLOCK)));
    expect(failed.ok).toBe(false);
    m.injectFault(nvmeAt(m), { kind: "mediaError", lba: 10, blocks: 0 });
    const ok = await withDisk(m, (h) => readAt(h, 10 * BLOCK, BLOCK));
    expect(ok.ok).toBe(true);
  });
});

describe("DMA faults", () => {
  it("Unsupported Request on the controller's DMA writes: the read fails and the user's buffer is left as it was", async () => {
    const m = await bootStorage({}, { trace: true });
    await withDisk(m, async (h) => { expect((await writeAt(h, 3 * BLOCK, new Uint8Array(BLOCK).fill(0xA5))).ok).toBe(true); });
    m.injectFault(nvmeAt(m), { kind: "unsupportedRequest", transfers: "write", count: 1000 });
    const r = await withDisk(m, (h) => readAt(h, 3 * BLOCK, BLOCK));
    expect(r.ok).toBe(false);
    expect(r.data.every((b) => b === 0)).toBe(true);
    expect(faults(m).some(([n]) => n === "fault: DMA unsupported request")).toBe(true);
    m.injectFault(nvmeAt(m), { kind: "unsupportedRequest", count: 0 });
    const again = await withDisk(m, (h) => readAt(h, 3 * BLOCK, BLOCK));
    expect(again.ok).toBe(true);
    expect(again.data.every((b) => b === 0xA5)).toBe(true);
  });
});

describe("interrupt faults", () => {
  it("duplicated MSIs are harmless to the edu driver: every request still completes correctly", async () => {
    const m = await bootDefault({}, { trace: true });
    m.injectFault("00:03.0", { kind: "duplicateInterrupt", interrupts: "message", count: 5 });
    const r = await runEduWorkload(m);
    expect(r.ok).toBe(true);
    expect(faults(m).filter(([n]) => n === "fault: interrupt message duplicated")).toHaveLength(5);
  });

  it("the nth matching message is the first one hit", async () => {
    const m = await bootDefault({}, { trace: true });
    m.injectFault("00:03.0", { kind: "delayInterrupt", delayNs: 50_000, nth: 3, count: 2 });
    const r = await runEduWorkload(m);
    expect(r.ok).toBe(true);
    const delayed = faults(m).filter(([n]) => n === "fault: interrupt message delayed");
    expect(delayed).toHaveLength(2);
    const sent = kernelOf(m).recorder.events.filter((e) => e.cat === "interrupt" && e.name === "MSI");
    // Two messages left before the first delayed one.
    expect(sent.filter((e) => e.ts < delayed[0][1]).length).toBe(2);
  });

  it("chance faults: the same seed hits the same messages, another seed others", async () => {
    const run = async (seed: number) => {
      const m = await bootDefault({ seed }, { trace: true });
      m.injectFault("00:03.0", { kind: "duplicateInterrupt", probability: 0.5 });
      expect((await runEduWorkload(m)).ok).toBe(true);
      return faults(m).map(([, t]) => t);
    };
    const a = await run(11);
    const b = await run(11);
    const c = await run(12);
    expect(a.length).toBeGreaterThan(0);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it("a malformed fault is refused naming the field and the rule; a bridge takes no faults", async () => {
    const m = await bootStorage();
    const nvme = nvmeAt(m);
    expect(() => m.injectFault(nvme, { kind: "delayInterrupt" })).toThrow(/fault "delayInterrupt" for .*: a delayInterrupt fault gives delayNs/);
    expect(() => m.injectFault(nvme, { kind: "dropInterrupt", probability: 2 })).toThrow(/probability must be a number above 0 and at most 1/);
    expect(() => m.injectFault(nvme, { kind: "completerAbort", transfers: "both" as "any" })).toThrow(/transfers must be "read", "write" or "any"/);
    expect(() => m.injectFault(nvme, { kind: "dropInterrupt", nth: 0 })).toThrow(/nth must be an integer from 1/);
    expect(() => m.injectFault(nvme, { kind: "mediaError", lba: 1 << 30 })).toThrow(/the namespace or the LBA range is not on the controller/);
    expect(() => m.injectFault("00:1c.0", { kind: "dropInterrupt" })).toThrow(/is a PCI-to-PCI bridge/);
    const edu = await bootDefault();
    expect(() => edu.injectFault("00:03.0", { kind: "mediaError", lba: 0 })).toThrow(/not an NVMe controller/);
  });
});
