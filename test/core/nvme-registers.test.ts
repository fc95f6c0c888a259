// The NVMe controller's PCI identity and BAR0 registers (shared/specs/nvme.md "PCI
// identity" and "Registers"), and the controller lifecycle: enable, disable/reset, shutdown.
import { describe, expect, test } from "vitest";
import { ADMIN, CAP_OFFSETS, CC, CSTS, IO, L, MEM, MSIX_PBA, MSIX_TABLE, Nvme, REG, SC, SC_CMD, nvmeHarness, readyNvme } from "../support/nvme-harness.js";
import { CFG } from "../support/core-harness.js";
import { loadMachine } from "../../src/machine/firmwareFiles.js";

const US = 1e6;

/** CAP with nvme.json's parameters: MQES 1023, CQR, TO 1 (20 us rounds up to 500 ms), DSTRD 0, CSS NVM, MPSMIN = MPSMAX = 0. */
const CAP_DEFAULT = 0x3FFn | (1n << 16n) | (1n << 24n) | (1n << 37n);

describe("PCI identity", () => {
  test("class code 0x01/0x08/0x02 (mass storage, NVM, NVMe), vendor and device from nvme.json", () => {
    const n = nvmeHarness();
    expect(n.h.cfgRead(CFG.VENDOR, 2)).toBe(0x1234);
    expect(n.h.cfgRead(CFG.DEVICE, 2)).toBe(0x4E56);
    expect(n.h.cfgRead(CFG.PROG_IF, 1)).toBe(0x02);
    expect(n.h.cfgRead(CFG.SUBCLASS, 1)).toBe(0x08);
    expect(n.h.cfgRead(CFG.CLASS, 1)).toBe(0x01);
    expect(n.h.cfgRead(CFG.INT_PIN, 1)).toBe(1);
  });

  test("BAR0/1: one 64-bit memory BAR of 16 KiB", () => {
    const n = nvmeHarness();
    n.h.cfgWrite(CFG.COMMAND, 2, 0);
    n.h.cfgWrite(CFG.BAR0, 4, 0xFFFFFFFF);
    n.h.cfgWrite(CFG.BAR0 + 4, 4, 0xFFFFFFFF);
    expect(n.h.cfgRead(CFG.BAR0) >>> 0).toBe((~(16 * 1024 - 1) | 0x4) >>> 0);
    expect(n.h.cfgRead(CFG.BAR0 + 4) >>> 0).toBe(0xFFFFFFFF);
  });

  test("capabilities: MSI at 0x40 -> PM at 0x60 -> PCI Express at 0x70 -> MSI-X at 0xB0", () => {
    const n = nvmeHarness();
    const chain: [number, number][] = [];
    for (let at = n.h.cfgRead(CFG.CAP_PTR, 1); at !== 0; at = n.h.cfgRead(at + 1, 1)) chain.push([at, n.h.cfgRead(at, 1)]);
    expect(chain).toEqual([[CAP_OFFSETS.MSI, 0x05], [CAP_OFFSETS.PM, 0x01], [CAP_OFFSETS.PCIE, 0x10], [CAP_OFFSETS.MSIX, 0x11]]);
  });

  test("MSI-X: one vector per I/O queue plus one for the admin queue, table and PBA in BAR0 above the doorbells", () => {
    const n = nvmeHarness();
    expect(n.h.cfgRead(CAP_OFFSETS.MSIX + 2, 2) & 0x7FF).toBe(n.param("ioQueuePairs"));
    expect(n.h.cfgRead(CAP_OFFSETS.MSIX + 4) >>> 0).toBe(MSIX_TABLE | 0);
    expect(n.h.cfgRead(CAP_OFFSETS.MSIX + 8) >>> 0).toBe(MSIX_PBA | 0);
    expect(MSIX_TABLE).toBeGreaterThanOrEqual(REG.DOORBELL + 2 * (n.param("ioQueuePairs") + 1) * 4);
  });

  test("PCI Express capability: endpoint, link gen 3 x4", () => {
    const n = nvmeHarness();
    expect((n.h.cfgRead(CAP_OFFSETS.PCIE + 2, 2) >> 4) & 0xF).toBe(0);
    const linkCap = n.h.cfgRead(CAP_OFFSETS.PCIE + 0x0C) >>> 0;
    expect(linkCap & 0xF).toBe(3);
    expect((linkCap >> 4) & 0x3F).toBe(4);
  });
});

describe("machine composition", () => {
  test("an NVMe controller next to other devices: nvme at 00:03.0 then edu at 00:04.0 both answer (the namespace grows memory)", () => {
    const n = nvmeHarness({
      edit: (d) => {
        const edu = loadMachine("default").slots[0];
        d.slots.push({ ...edu, device: 4 });
      },
    });
    expect(n.h.machine.functions.map((f) => f.deviceFile)).toEqual(["nvme", "edu"]);
    expect(n.h.cfgRead(CFG.VENDOR, 4, { bus: 0, dev: 4, fn: 0 }) >>> 0).toBe(0x11E81234);
    expect(n.read32(REG.VS)).toBe(0x00010400);
  });
});

describe("register reset values", () => {
  test("0x00 CAP: MQES = maxQueueEntries - 1, CQR 1, TO in 500 ms units, DSTRD 0, CSS bit 37, MPSMIN = MPSMAX = 0", () => {
    const n = nvmeHarness();
    expect(n.read64(REG.CAP)).toBe(CAP_DEFAULT);
    expect(n.read32(REG.CAP)).toBe(Number(CAP_DEFAULT & 0xFFFFFFFFn));
    expect(n.read32(REG.CAP_HI)).toBe(Number(CAP_DEFAULT >> 32n));
  });

  test("0x00 CAP: follows the parameters (maxQueueEntries, readyDelayNs -> TO, doorbellStride -> DSTRD)", () => {
    const n = nvmeHarness({ params: { maxQueueEntries: 256, readyDelayNs: 1_200_000_000, doorbellStride: 2 } });
    const cap = n.read64(REG.CAP);
    expect(cap & 0xFFFFn).toBe(255n);
    expect((cap >> 24n) & 0xFFn).toBe(3n);
    expect((cap >> 32n) & 0xFn).toBe(2n);
  });

  test("0x08 VS: 0x00010400 (1.4.0)", () => {
    expect(nvmeHarness().read32(REG.VS)).toBe(0x00010400);
  });

  test("0x0C INTMS, 0x10 INTMC, 0x14 CC, 0x1C CSTS, 0x24 AQA, 0x28 ASQ, 0x30 ACQ: 0 at reset", () => {
    const n = nvmeHarness();
    for (const r of [REG.INTMS, REG.INTMC, REG.CC, REG.CSTS, REG.AQA]) expect(n.read32(r)).toBe(0);
    expect(n.read64(REG.ASQ)).toBe(0n);
    expect(n.read64(REG.ACQ)).toBe(0n);
  });

  test("reserved offsets (0x18, 0x20, 0x38, 0x3C, 0xF00) read 0 and ignore writes", () => {
    const n = nvmeHarness();
    for (const r of [0x18, 0x20, 0x38, 0x3C, 0xF00]) {
      n.write32(r, 0xFFFFFFFF);
      expect(n.read32(r)).toBe(0);
    }
  });
});

describe("RO and RW behaviour", () => {
  test("0x00 CAP and 0x08 VS are read-only", () => {
    const n = nvmeHarness();
    n.write64(REG.CAP, 0xFFFFFFFFFFFFFFFFn);
    n.write32(REG.CAP_HI, 0);
    n.write32(REG.VS, 0x12345678);
    expect(n.read64(REG.CAP)).toBe(CAP_DEFAULT);
    expect(n.read32(REG.VS)).toBe(0x00010400);
  });

  test("0x1C CSTS is read-only", () => {
    const n = nvmeHarness();
    n.write32(REG.CSTS, 0xFFFFFFFF);
    expect(n.read32(REG.CSTS)).toBe(0);
  });

  test("0x14 CC: EN 0, CSS 6:4, MPS 10:7, AMS 13:11, IOSQES 19:16, IOCQES 23:20 are writable; reserved bits read 0", () => {
    const n = nvmeHarness();
    n.write32(REG.CC, 0xFF7F3FFE);
    expect(n.read32(REG.CC)).toBe(0x007F3FF0);
    n.write32(REG.CC, CC.IOSQES | CC.IOCQES);
    expect(n.read32(REG.CC)).toBe(0x00460000);
  });

  test("0x24 AQA: ASQS 11:0 and ACQS 27:16 writable, other bits read 0", () => {
    const n = nvmeHarness();
    n.write32(REG.AQA, 0xFFFFFFFF);
    expect(n.read32(REG.AQA)).toBe(0x0FFF0FFF);
  });

  test("0x28 ASQ / 0x30 ACQ: 64-bit, page aligned (bits 11:0 read 0), writable as one 8-byte or two 4-byte accesses", () => {
    const n = nvmeHarness();
    n.write64(REG.ASQ, 0x123456789ABCDEFFn);
    expect(n.read64(REG.ASQ)).toBe(0x123456789ABCD000n);
    n.write32(REG.ACQ, 0x55555FFF);
    n.write32(REG.ACQ_HI, 0x00000007);
    expect(n.read64(REG.ACQ)).toBe(0x755555000n);
    expect(n.read32(REG.ACQ)).toBe(0x55555000);
    expect(n.read32(REG.ACQ_HI)).toBe(7);
  });

  test("0x0C INTMS sets mask bits, 0x10 INTMC clears them; both read the mask", () => {
    const n = nvmeHarness();
    n.write32(REG.INTMS, 0x5);
    expect(n.read32(REG.INTMS)).toBe(0x5);
    expect(n.read32(REG.INTMC)).toBe(0x5);
    n.write32(REG.INTMS, 0x8);
    n.write32(REG.INTMC, 0x1);
    expect(n.read32(REG.INTMS)).toBe(0xC);
    expect(n.read32(REG.INTMC)).toBe(0xC);
  });

  test("0x1000 doorbells read 0", () => {
    const n = readyNvme();
    n.write32(REG.DOORBELL, 0);
    expect(n.read32(REG.DOORBELL)).toBe(0);
    expect(n.read32(REG.DOORBELL + 4)).toBe(0);
  });
});

describe("enable, disable, reset", () => {
  test("Enable: AQA/ASQ/ACQ then CC.EN = 1; CSTS.RDY is 0 until the modelled delay, then 1", () => {
    const n = nvmeHarness();
    n.write32(REG.AQA, (15 << 16) | 15);
    n.write64(REG.ASQ, MEM.ASQ);
    n.write64(REG.ACQ, MEM.ACQ);
    n.write32(REG.CC, CC.EN | CC.IOSQES | CC.IOCQES);
    expect(n.read32(REG.CSTS) & CSTS.RDY).toBe(0);
    n.h.advance(n.param("readyDelayNs") * 1000 - 2 * US);
    expect(n.read32(REG.CSTS) & CSTS.RDY).toBe(0);
    n.h.advance(3 * US);
    expect(n.read32(REG.CSTS)).toBe(CSTS.RDY);
  });

  test("Enable: the ready delay is within CAP.TO (500 ms units)", () => {
    const n = nvmeHarness();
    const to = Number((n.read64(REG.CAP) >> 24n) & 0xFFn);
    expect(n.param("readyDelayNs")).toBeLessThanOrEqual(to * 500e6);
  });

  test("Enable with unsupported CC.MPS sets CSTS.CFS, never RDY, and records a device error", () => {
    const n = nvmeHarness({ trace: true });
    n.write32(REG.AQA, (15 << 16) | 15);
    n.write32(REG.CC, CC.EN | (1 << 7));
    n.h.advance(n.param("readyDelayNs") * 1000 + 10 * US);
    expect(n.read32(REG.CSTS)).toBe(CSTS.CFS);
    expect(n.deviceErrors().map((e) => e.code)).toEqual([L.NVME_ERROR_ENABLE]);
  });

  test("Enable with a one-entry admin queue (AQA.ASQS = 0) sets CSTS.CFS", () => {
    const n = nvmeHarness();
    n.write32(REG.AQA, 15 << 16);
    n.write32(REG.CC, CC.EN);
    n.h.advance(n.param("readyDelayNs") * 1000 + 10 * US);
    expect(n.read32(REG.CSTS) & (CSTS.CFS | CSTS.RDY)).toBe(CSTS.CFS);
  });

  test("Disable: clearing CC.EN clears RDY (and CFS)", () => {
    const n = readyNvme();
    n.write32(REG.CC, CC.IOSQES | CC.IOCQES);
    expect(n.read32(REG.CSTS)).toBe(0);
  });

  test("Disable clears RDY before a pending enable completes, and that enable never sets it", () => {
    const n = nvmeHarness();
    n.write32(REG.AQA, (15 << 16) | 15);
    n.write32(REG.CC, CC.EN);
    n.h.advance(2 * US);
    n.write32(REG.CC, 0);
    n.h.advance(n.param("readyDelayNs") * 1000 + 10 * US);
    expect(n.read32(REG.CSTS)).toBe(0);
  });

  test("Reset: I/O queues are deleted (their doorbells become errors; the SQ id is free again)", () => {
    const n = readyNvme({ trace: true });
    n.createPair(1);
    n.write32(REG.CC, 0);
    n.enable();
    n.deviceErrors();
    n.write32(n.sqDoorbell(1), 1);
    n.h.advance(US);
    expect(n.deviceErrors().map((e) => e.code)).toEqual([L.NVME_ERROR_DOORBELL_QUEUE]);
    expect(n.createSq(1, 16, 1).sc).toBe(SC_CMD.CQ_INVALID);
    expect(n.createCq(1, 16).sc).toBe(SC.SUCCESS);
    expect(n.createSq(1, 16, 1).sc).toBe(SC.SUCCESS);
  });

  test("Reset: a command in flight when CC.EN clears never completes", () => {
    const n = readyNvme();
    n.createPair(1);
    n.submit(1, n.rw(IO.READ, 0, 1, { prp1: MEM.DATA, prp2: 0 }));
    n.h.advance(5 * US); // fetched, media busy
    n.write32(REG.CC, 0);
    n.settle();
    expect(n.peek(1)).toBeUndefined();
    // The controller comes back clean: admin commands work after re-enabling.
    n.enable();
    expect(n.exec(0, { opcode: ADMIN.ABORT }).sc).toBe(SC.SUCCESS);
  });

  test("Reset: feature values return to their defaults", () => {
    const n = readyNvme();
    n.exec(0, { opcode: ADMIN.SET_FEATURES, cdw10: 0x08, cdw11: 0x0A07 });
    n.write32(REG.CC, 0);
    n.enable();
    expect(n.exec(0, { opcode: ADMIN.GET_FEATURES, cdw10: 0x08 }).dw0).toBe(0);
  });

  test("Doorbell write before the controller is ready is ignored and recorded", () => {
    const n = nvmeHarness({ trace: true });
    n.write32(REG.DOORBELL, 1);
    n.h.advance(US);
    expect(n.deviceErrors().map((e) => e.code)).toEqual([L.NVME_ERROR_NOT_READY]);
  });
});

describe("shutdown", () => {
  test("Shutdown: CC.SHN = 01 moves CSTS.SHST to 01 (in progress), then 10 (complete) after shutdownDelayNs", () => {
    const n = readyNvme();
    n.write32(REG.CC, n.read32(REG.CC) | CC.SHN_NORMAL);
    expect(n.read32(REG.CSTS) & CSTS.SHST_MASK).toBe(CSTS.SHST_IN_PROGRESS);
    n.h.advance(n.param("shutdownDelayNs") * 1000 + 2 * US);
    expect(n.read32(REG.CSTS)).toBe(CSTS.RDY | CSTS.SHST_COMPLETE);
  });

  test("Shutdown: CC.SHN = 10 (abrupt) also completes", () => {
    const n = readyNvme();
    n.write32(REG.CC, n.read32(REG.CC) | CC.SHN_ABRUPT);
    n.h.advance(n.param("shutdownDelayNs") * 1000 + 2 * US);
    expect(n.read32(REG.CSTS) & CSTS.SHST_MASK).toBe(CSTS.SHST_COMPLETE);
  });

  test("Shutdown: no command is fetched after CC.SHN; a reset then clears SHST", () => {
    const n = readyNvme();
    n.write32(REG.CC, n.read32(REG.CC) | CC.SHN_NORMAL);
    n.submit(0, { opcode: ADMIN.ABORT });
    n.settle();
    expect(n.peek(0)).toBeUndefined();
    n.write32(REG.CC, 0);
    expect(n.read32(REG.CSTS)).toBe(0);
    n.enable();
    expect(n.exec(0, { opcode: ADMIN.ABORT }).sc).toBe(SC.SUCCESS);
  });
});

describe("doorbell stride", () => {
  test("CAP.DSTRD = 2: doorbells are 16 bytes apart (SQ y tail at 0x1000 + 2y * 16)", () => {
    const n = readyNvme({ params: { doorbellStride: 2 }, trace: true });
    expect(n.stride).toBe(16);
    n.createPair(1);
    const c = n.exec(1, { opcode: IO.FLUSH, nsid: 1 });
    expect(c.sc).toBe(SC.SUCCESS);
    // A write between doorbells is not a doorbell (ignored, no error).
    n.deviceErrors();
    n.write32(REG.DOORBELL + 4, 1);
    n.h.advance(US);
    expect(n.deviceErrors()).toEqual([]);
  });
});

// Keep Nvme referenced for type-only imports in some runners.
void Nvme;
