// The edu device's MMIO registers, row by row of shared/specs/edu.md.
import { describe, expect, test } from "vitest";
import {
  CFG, CMD, CoreHarness, DATA_BASE, EDU, EDU_JSON, L, MSI_VECTOR, STS, factorialMod32, pattern, readyEdu,
} from "../support/core-harness.js";

/** Device clock period from the device file (100 MHz -> 10 ns). */
const CYCLE_PS = 1e6 / EDU_JSON.clockMHz;
/** Time a factorial of n takes: n steps of factorialCyclesPerStep device cycles. */
const factorialPs = (n: number) => n * EDU_JSON.params.factorialCyclesPerStep * CYCLE_PS;
/** Comfortably longer than any link round trip in these tests. */
const US = 1e6;

function factorial(h: CoreHarness, n: number): number {
  h.mmioWrite(EDU.FACTORIAL, n);
  h.mmioRead(EDU.ID); // the write has reached the device
  h.advance(factorialPs(n) + 10 * US);
  expect(h.mmioRead(EDU.STATUS) & EDU.STATUS_COMPUTING).toBe(0);
  return h.mmioRead(EDU.FACTORIAL) >>> 0;
}

function setDma(h: CoreHarness, src: number, dst: number, count: number): void {
  h.mmioWrite(EDU.DMA_SRC, BigInt(src), 8);
  h.mmioWrite(EDU.DMA_DST, BigInt(dst), 8);
  h.mmioWrite(EDU.DMA_COUNT, BigInt(count), 8);
}

/** Starts a transfer and runs until the run bit clears (bounded). */
function dma(h: CoreHarness, src: number, dst: number, count: number, cmd: number): void {
  setDma(h, src, dst, count);
  h.mmioWrite(EDU.DMA_CMD, cmd);
  waitDma(h);
}

function waitDma(h: CoreHarness): void {
  for (let i = 0; i < 1000; i++) {
    if ((h.mmioRead(EDU.DMA_CMD) & EDU.DMA_START) === 0) return;
    h.advance(10 * US);
  }
  throw new Error("DMA did not finish");
}

/** RAM -> device buffer at buffer offset `off`. */
const toDevice = (h: CoreHarness, ram: number, off: number, n: number, extra = 0) =>
  dma(h, ram, EDU.BUFFER + off, n, EDU.DMA_START | extra);
/** Device buffer at offset `off` -> RAM. */
const toRam = (h: CoreHarness, off: number, ram: number, n: number, extra = 0) =>
  dma(h, EDU.BUFFER + off, ram, n, EDU.DMA_START | EDU.DMA_TO_RAM | extra);

const ONES32 = 0xFFFFFFFF;
const ONES64 = 0xFFFFFFFFFFFFFFFFn;

describe("0x00 identification", () => {
  test("0x00 identification: reads 0x010000ED (major 1, minor 0)", () => {
    const h = readyEdu();
    expect(h.mmioRead(EDU.ID)).toBe(0x010000ED);
  });

  test("0x00 identification: read-only, writes do not change it", () => {
    const h = readyEdu();
    h.mmioWrite(EDU.ID, 0x12345678);
    expect(h.mmioRead(EDU.ID)).toBe(0x010000ED);
  });
});

describe("0x04 liveness", () => {
  test("0x04 liveness: a read returns the bitwise NOT of the last write", () => {
    const h = readyEdu();
    for (const v of [0, 1, 0x12345678, 0xFFFFFFFF, 0x80000000, 0xA5A5A5A5]) {
      h.mmioWrite(EDU.LIVENESS, v);
      expect(h.mmioRead(EDU.LIVENESS)).toBe(~v >>> 0);
    }
  });
});

describe("0x08 factorial", () => {
  test("0x08 factorial: 0! = 1, 1! = 1, 5! = 120, 12! = 479001600", () => {
    const h = readyEdu();
    expect(factorial(h, 0)).toBe(1);
    expect(factorial(h, 1)).toBe(1);
    expect(factorial(h, 5)).toBe(120);
    expect(factorial(h, 12)).toBe(479001600);
  });

  test("0x08 factorial: 13! and beyond wrap in 32-bit unsigned arithmetic", () => {
    const h = readyEdu();
    expect(factorial(h, 13)).toBe(6227020800 % 2 ** 32);
    for (const n of [14, 20, 25, 33]) expect(factorial(h, n)).toBe(factorialMod32(n));
    expect(factorialMod32(33)).not.toBe(0);
  });

  test("0x08 factorial: 34! and above are 0 modulo 2^32", () => {
    const h = readyEdu();
    for (const n of [34, 35, 100, 1000]) expect(factorial(h, n)).toBe(0);
  });

  test("0x08 factorial: n = 0xFFFFFFFF computes (0) after its modelled time", () => {
    const h = readyEdu();
    expect(factorial(h, 0xFFFFFFFF)).toBe(0);
  });

  test("0x08 factorial: computing bit 0x01 is set after the write and clears after n steps of the 100 MHz device clock", () => {
    const h = readyEdu({ trace: true });
    const n = 12;
    h.mmioWrite(EDU.FACTORIAL, n);
    expect(h.mmioRead(EDU.STATUS) & EDU.STATUS_COMPUTING).toBe(EDU.STATUS_COMPUTING);
    const arrived = h.drainTrace().find((r) => r.kind === L.TR_MMIO_WRITE && r.a === EDU.FACTORIAL)!.time;
    // Still computing just before the modelled end: the status read samples at its arrival.
    h.runTo(arrived + factorialPs(n) - 2 * US);
    expect(h.mmioRead(EDU.STATUS) & EDU.STATUS_COMPUTING).toBe(EDU.STATUS_COMPUTING);
    h.runTo(arrived + factorialPs(n));
    expect(h.mmioRead(EDU.STATUS) & EDU.STATUS_COMPUTING).toBe(0);
    expect(h.mmioRead(EDU.FACTORIAL)).toBe(479001600);
  });

  test("0x08 factorial: the register holds the written n while computing", () => {
    const h = readyEdu();
    h.mmioWrite(EDU.FACTORIAL, 10);
    expect(h.mmioRead(EDU.FACTORIAL)).toBe(10);
  });

  test("0x08 factorial: a write while computing is ignored", () => {
    const h = readyEdu();
    h.mmioWrite(EDU.FACTORIAL, 10);
    expect(h.mmioRead(EDU.STATUS) & EDU.STATUS_COMPUTING).toBe(EDU.STATUS_COMPUTING);
    h.mmioWrite(EDU.FACTORIAL, 3);
    expect(h.mmioRead(EDU.FACTORIAL)).toBe(10);
    h.advance(factorialPs(10) + 10 * US);
    expect(h.mmioRead(EDU.FACTORIAL)).toBe(3628800);
    // Once done, a new write is accepted again.
    expect(factorial(h, 3)).toBe(6);
  });

  test("0x08 factorial: with status bit 0x80 set, completion raises interrupt status 0x001", () => {
    const h = readyEdu();
    h.mmioWrite(EDU.STATUS, EDU.STATUS_IRQ_FACTORIAL);
    expect(factorial(h, 5)).toBe(120);
    expect(h.mmioRead(EDU.IRQ_STATUS)).toBe(EDU.IRQ_FACTORIAL);
    expect(h.x.intxState(h.fn)).toBe(1);
  });

  test("0x08 factorial: without status bit 0x80, completion raises no interrupt", () => {
    const h = readyEdu();
    expect(factorial(h, 5)).toBe(120);
    expect(h.mmioRead(EDU.IRQ_STATUS)).toBe(0);
    expect(h.x.intxState(h.fn)).toBe(0);
    expect(h.counters().msiSent).toBe(0);
  });
});

describe("0x20 status", () => {
  test("0x20 status: a write with 0x80 sets it, a write without 0x80 clears it", () => {
    const h = readyEdu();
    expect(h.mmioRead(EDU.STATUS)).toBe(0);
    h.mmioWrite(EDU.STATUS, 0x80);
    expect(h.mmioRead(EDU.STATUS) & 0x80).toBe(0x80);
    h.mmioWrite(EDU.STATUS, 0x7F);
    expect(h.mmioRead(EDU.STATUS) & 0x80).toBe(0);
    h.mmioWrite(EDU.STATUS, 0xFFFFFFFF);
    expect(h.mmioRead(EDU.STATUS) & 0x80).toBe(0x80);
    h.mmioWrite(EDU.STATUS, 0);
    expect(h.mmioRead(EDU.STATUS) & 0x80).toBe(0);
  });

  test("0x20 status: bit 0x01 (computing) is read-only", () => {
    const h = readyEdu();
    h.mmioWrite(EDU.STATUS, 0x01);
    expect(h.mmioRead(EDU.STATUS) & EDU.STATUS_COMPUTING).toBe(0);
    h.advance(10 * US);
    expect(h.mmioRead(EDU.FACTORIAL)).toBe(0); // nothing started
    h.mmioWrite(EDU.FACTORIAL, 12);
    h.mmioWrite(EDU.STATUS, 0x80);
    expect(h.mmioRead(EDU.STATUS)).toBe(0x81); // a write without 0x01 does not clear computing
    h.advance(factorialPs(12) + 10 * US);
    expect(h.mmioRead(EDU.STATUS)).toBe(0x80);
  });
});

describe("0x24 / 0x60 / 0x64 interrupts", () => {
  test("0x24 interrupt status: read-only, writes are ignored", () => {
    const h = readyEdu();
    h.mmioWrite(EDU.IRQ_STATUS, 0x101);
    expect(h.mmioRead(EDU.IRQ_STATUS)).toBe(0);
    h.mmioWrite(EDU.IRQ_RAISE, 0x4);
    h.mmioWrite(EDU.IRQ_STATUS, 0);
    expect(h.mmioRead(EDU.IRQ_STATUS)).toBe(0x4);
  });

  test("0x60 interrupt raise: status |= value (drivers may raise any bit)", () => {
    const h = readyEdu();
    h.mmioWrite(EDU.IRQ_RAISE, 0x5);
    expect(h.mmioRead(EDU.IRQ_STATUS)).toBe(0x5);
    h.mmioWrite(EDU.IRQ_RAISE, 0x80000030);
    expect(h.mmioRead(EDU.IRQ_STATUS) >>> 0).toBe(0x80000035);
  });

  test("0x64 interrupt acknowledge: status &= ~value", () => {
    const h = readyEdu();
    h.mmioWrite(EDU.IRQ_RAISE, 0x1F);
    h.mmioWrite(EDU.IRQ_ACK, 0x05);
    expect(h.mmioRead(EDU.IRQ_STATUS)).toBe(0x1A);
    h.mmioWrite(EDU.IRQ_ACK, 0xFFFFFFFF);
    expect(h.mmioRead(EDU.IRQ_STATUS)).toBe(0);
  });

  test("0x60 / 0x64 write-only: reads return all ones", () => {
    const h = readyEdu();
    h.mmioWrite(EDU.IRQ_RAISE, 0x1);
    expect(h.mmioRead(EDU.IRQ_RAISE) >>> 0).toBe(ONES32);
    expect(h.mmioRead(EDU.IRQ_ACK) >>> 0).toBe(ONES32);
  });

  test("0x60 raise with MSI enabled: a new MSI message on every raise", () => {
    const h = readyEdu();
    h.enableMsi(MSI_VECTOR, 0);
    for (const [i, v] of [0x1, 0x2, 0x0].entries()) {
      h.mmioWrite(EDU.IRQ_RAISE, v);
      h.advance(10 * US);
      expect(h.counters().msiSent).toBe(i + 1);
      expect(h.core.highestPending(0)).toBe(MSI_VECTOR);
      expect(h.x.apicAccept(0)).toBe(MSI_VECTOR);
      expect(h.core.highestPending(0)).toBe(0);
    }
    expect(h.mmioRead(EDU.IRQ_STATUS)).toBe(0x3);
    // MSI is not INTx: the pin stays quiet and config status bit 3 stays clear.
    expect(h.x.intxState(h.fn)).toBe(0);
    expect(h.cfgRead(CFG.STATUS, 2) & STS.INTERRUPT).toBe(0);
  });

  test("0x60 raise: a zero result sends no interrupt", () => {
    const h = readyEdu();
    h.enableMsi();
    h.mmioWrite(EDU.IRQ_RAISE, 0);
    h.advance(10 * US);
    expect(h.counters().msiSent).toBe(0);
    expect(h.core.highestPending(0)).toBe(0);
  });

  test("0x64 acknowledge with MSI enabled sends nothing", () => {
    const h = readyEdu();
    h.enableMsi();
    h.mmioWrite(EDU.IRQ_RAISE, 0x3);
    h.advance(10 * US);
    h.x.apicAccept(0);
    h.mmioWrite(EDU.IRQ_ACK, 0x1);
    h.mmioWrite(EDU.IRQ_ACK, 0x2);
    h.advance(10 * US);
    expect(h.counters().msiSent).toBe(1);
    expect(h.core.highestPending(0)).toBe(0);
  });

  test("MSI: the message goes to the APIC ID in the address with the vector in the data", () => {
    const h = readyEdu();
    h.enableMsi(0x63, 1);
    h.mmioWrite(EDU.IRQ_RAISE, 0x1);
    h.advance(10 * US);
    expect(h.core.highestPending(1)).toBe(0x63);
    expect(h.core.highestPending(0)).toBe(0);
  });

  test("INTx: with MSI disabled a raise asserts INTA# and config status bit 3 follows", () => {
    const h = readyEdu();
    expect(h.x.intxState(h.fn)).toBe(0);
    expect(h.cfgRead(CFG.STATUS, 2) & STS.INTERRUPT).toBe(0);
    h.mmioWrite(EDU.IRQ_RAISE, 0x1);
    h.mmioRead(EDU.ID);
    expect(h.x.intxState(h.fn)).toBe(1);
    expect(h.cfgRead(CFG.STATUS, 2) & STS.INTERRUPT).toBe(STS.INTERRUPT);
    expect(h.counters().msiSent).toBe(0);
  });

  test("INTx: INTA# deasserts only when interrupt status reaches 0", () => {
    const h = readyEdu();
    h.mmioWrite(EDU.IRQ_RAISE, 0x101);
    h.mmioWrite(EDU.IRQ_ACK, 0x001);
    h.mmioRead(EDU.ID);
    expect(h.x.intxState(h.fn)).toBe(1);
    expect(h.cfgRead(CFG.STATUS, 2) & STS.INTERRUPT).toBe(STS.INTERRUPT);
    h.mmioWrite(EDU.IRQ_ACK, 0x100);
    h.mmioRead(EDU.ID);
    expect(h.x.intxState(h.fn)).toBe(0);
    expect(h.cfgRead(CFG.STATUS, 2) & STS.INTERRUPT).toBe(0);
  });

  test("INTx: the command register's interrupt-disable bit masks the line (status bit 3 still follows)", () => {
    const h = readyEdu();
    h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY | CMD.BUS_MASTER | CMD.INTX_DISABLE);
    h.mmioWrite(EDU.IRQ_RAISE, 0x1);
    h.mmioRead(EDU.ID);
    expect(h.x.intxState(h.fn)).toBe(0);
    expect(h.cfgRead(CFG.STATUS, 2) & STS.INTERRUPT).toBe(STS.INTERRUPT);
    h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY | CMD.BUS_MASTER);
    h.cfgRead(CFG.COMMAND, 2);
    expect(h.x.intxState(h.fn)).toBe(1);
    h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY | CMD.BUS_MASTER | CMD.INTX_DISABLE);
    h.cfgRead(CFG.COMMAND, 2);
    expect(h.x.intxState(h.fn)).toBe(0);
  });

  test("INTx: enabling MSI stops INTx signalling", () => {
    const h = readyEdu();
    h.mmioWrite(EDU.IRQ_RAISE, 0x1);
    h.mmioRead(EDU.ID);
    expect(h.x.intxState(h.fn)).toBe(1);
    h.enableMsi();
    expect(h.x.intxState(h.fn)).toBe(0);
  });
});

describe("MMIO size rules", () => {
  test("size rule: offsets below 0x80 accept only 4-byte reads; 1-, 2- and 8-byte reads return all ones", () => {
    const h = readyEdu();
    h.mmioWrite(EDU.LIVENESS, 0xFFFFFFFF); // stores 0
    for (const off of [EDU.ID, EDU.LIVENESS, EDU.FACTORIAL, EDU.STATUS, EDU.IRQ_STATUS]) {
      expect(h.mmioRead(off, 1)).toBe(0xFF);
      expect(h.mmioRead(off, 2)).toBe(0xFFFF);
      expect(h.mmioRead64(off)).toBe(ONES64);
    }
  });

  test("size rule: 1-, 2- and 8-byte writes below 0x80 are ignored", () => {
    const h = readyEdu();
    h.mmioWrite(EDU.LIVENESS, 0x0000FFFF);
    for (const size of [1, 2, 8]) h.mmioWrite(EDU.LIVENESS, 0x12345678, size);
    expect(h.mmioRead(EDU.LIVENESS) >>> 0).toBe(0xFFFF0000);
    h.mmioWrite(EDU.FACTORIAL, 5, 8);
    h.mmioWrite(EDU.STATUS, 0x80, 2);
    h.mmioWrite(EDU.IRQ_RAISE, 0x1, 1);
    h.advance(10 * US);
    expect(h.mmioRead(EDU.STATUS)).toBe(0);
    expect(h.mmioRead(EDU.FACTORIAL)).toBe(0);
    expect(h.mmioRead(EDU.IRQ_STATUS)).toBe(0);
  });

  test("size rule: offsets 0x80 and above accept 4- and 8-byte accesses; 1- and 2-byte reads return all ones and writes are ignored", () => {
    const h = readyEdu();
    h.mmioWrite(EDU.DMA_SRC, 0x1122334455667788n, 8);
    expect(h.mmioRead64(EDU.DMA_SRC)).toBe(0x1122334455667788n);
    expect(h.mmioRead(EDU.DMA_SRC, 4)).toBe(0x55667788);
    expect(h.mmioRead(EDU.DMA_SRC, 1)).toBe(0xFF);
    expect(h.mmioRead(EDU.DMA_SRC, 2)).toBe(0xFFFF);
    h.mmioWrite(EDU.DMA_SRC, 0xAB, 1);
    h.mmioWrite(EDU.DMA_SRC, 0xABCD, 2);
    h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START, 1);
    h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START, 2);
    expect(h.mmioRead64(EDU.DMA_SRC)).toBe(0x1122334455667788n);
    h.advance(10 * US);
    expect(h.counters().dmaTransfers).toBe(0);
  });
});

describe("undecoded offsets", () => {
  test("undecoded offsets (0x84, 0x8C, 0x94, 0x9C and others) read all ones", () => {
    const h = readyEdu();
    setDma(h, 0x1000, EDU.BUFFER, 16);
    for (const off of [0x84, 0x8C, 0x94, 0x9C]) {
      expect(h.mmioRead(off) >>> 0).toBe(ONES32);
      expect(h.mmioRead64(off)).toBe(ONES64);
    }
    for (const off of [0x0C, 0x10, 0x1C, 0x28, 0x2C, 0x40, 0x68, 0x7C]) expect(h.mmioRead(off) >>> 0).toBe(ONES32);
    for (const off of [0xA0, 0xA8, 0x100, 0x1000, 0x40000, 0xFFFF8]) {
      expect(h.mmioRead(off) >>> 0).toBe(ONES32);
      expect(h.mmioRead64(off)).toBe(ONES64);
    }
  });

  test("undecoded offsets: writes change no register", () => {
    const h = readyEdu();
    setDma(h, 0x1000, 0x2000, 0x30);
    for (const off of [0x84, 0x8C, 0x94, 0x9C]) {
      h.mmioWrite(off, 0xDEADBEEF);
      h.mmioWrite(off, 0xDEADBEEFn, 8);
    }
    h.mmioWrite(0x9C, EDU.DMA_START);
    expect(h.mmioRead64(EDU.DMA_SRC)).toBe(0x1000n);
    expect(h.mmioRead64(EDU.DMA_DST)).toBe(0x2000n);
    expect(h.mmioRead64(EDU.DMA_COUNT)).toBe(0x30n);
    expect(h.mmioRead64(EDU.DMA_CMD)).toBe(0n);
  });
});

describe("DMA registers 0x80..0x98", () => {
  test("0x80/0x88/0x90: 64-bit registers, written and read 8 bytes at a time", () => {
    const h = readyEdu();
    const values = [0x0123456789ABCDEFn, 0xFEDCBA9876543210n, 0xFFFFFFFFFFFFFFFFn];
    [EDU.DMA_SRC, EDU.DMA_DST, EDU.DMA_COUNT].forEach((off, i) => h.mmioWrite(off, values[i], 8));
    [EDU.DMA_SRC, EDU.DMA_DST, EDU.DMA_COUNT].forEach((off, i) => expect(h.mmioRead64(off)).toBe(values[i]));
  });

  test("0x80/0x88/0x90: a 4-byte write replaces the whole 64-bit field with the zero-extended value", () => {
    const h = readyEdu();
    for (const off of [EDU.DMA_SRC, EDU.DMA_DST, EDU.DMA_COUNT]) {
      h.mmioWrite(off, 0xFFFFFFFFFFFFFFFFn, 8);
      h.mmioWrite(off, 0x89ABCDEF, 4);
      expect(h.mmioRead64(off)).toBe(0x89ABCDEFn);
    }
  });

  test("0x80/0x88/0x90: a 4-byte write carries 4 bytes only (whatever the high half passed at the boundary)", () => {
    const h = readyEdu();
    for (const off of [EDU.DMA_SRC, EDU.DMA_DST, EDU.DMA_COUNT]) {
      h.mmioWrite(off, 0x1234, 4, 0xDEADBEEF);
      expect(h.mmioRead64(off)).toBe(0x1234n);
    }
  });

  test("0x98 DMA command: a write without the start bit is ignored", () => {
    const h = readyEdu();
    const src = DATA_BASE;
    h.core.writePhysical(src, pattern(64));
    setDma(h, src, EDU.BUFFER, 64);
    h.mmioWrite(EDU.DMA_CMD, EDU.DMA_IRQ | EDU.DMA_TO_RAM);
    h.advance(10 * US);
    expect(h.mmioRead64(EDU.DMA_CMD)).toBe(0n);
    expect(h.counters().dmaTransfers).toBe(0);
    expect(h.counters().dmaReadBytes).toBe(0);
    expect(h.mmioRead(EDU.IRQ_STATUS)).toBe(0);
  });

  test("0x98 DMA command: bit 0x1 reads as set while the transfer runs and clears when it is done", () => {
    const h = readyEdu();
    setDma(h, DATA_BASE, EDU.BUFFER, 4096);
    h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START | EDU.DMA_IRQ);
    expect(h.mmioRead(EDU.DMA_CMD)).toBe(EDU.DMA_START | EDU.DMA_IRQ);
    h.advance(1000 * US);
    expect(h.mmioRead(EDU.DMA_CMD) & EDU.DMA_START).toBe(0);
  });

  test("DMA registers: writes to 0x80/0x88/0x90/0x98 are ignored while a transfer runs", () => {
    const h = readyEdu();
    const src = DATA_BASE, dst = DATA_BASE + 0x10000;
    const data = pattern(4096, 7);
    h.core.writePhysical(src, data);
    toDevice(h, src, 0, 4096);
    // Start device -> RAM, then try to change every register while it runs.
    setDma(h, EDU.BUFFER, dst, 4096);
    h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START | EDU.DMA_TO_RAM);
    h.mmioWrite(EDU.DMA_SRC, 0x40800n, 8);
    h.mmioWrite(EDU.DMA_DST, BigInt(dst + 0x8000), 8);
    h.mmioWrite(EDU.DMA_COUNT, 16, 4);
    h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START | EDU.DMA_IRQ, 4);
    // This read reaches the device after the writes above: the transfer is still running.
    expect(h.mmioRead(EDU.DMA_CMD) & EDU.DMA_START).toBe(EDU.DMA_START);
    waitDma(h);
    h.settle();
    expect(h.mmioRead64(EDU.DMA_SRC)).toBe(BigInt(EDU.BUFFER));
    expect(h.mmioRead64(EDU.DMA_DST)).toBe(BigInt(dst));
    expect(h.mmioRead64(EDU.DMA_COUNT)).toBe(4096n);
    expect(h.mmioRead64(EDU.DMA_CMD)).toBe(BigInt(EDU.DMA_TO_RAM)); // run bit cleared, 0x4 never taken
    expect(h.core.readPhysical(dst, 4096)).toEqual(data);
    expect(h.core.readPhysical(dst + 0x8000, 16)).toEqual(new Uint8Array(16));
    expect(h.mmioRead(EDU.IRQ_STATUS)).toBe(0);
    expect(h.counters().dmaTransfers).toBe(2);
  });
});

describe("DMA transfers", () => {
  test("DMA RAM -> device -> RAM: the whole 4 KiB buffer round-trips byte for byte", () => {
    const h = readyEdu();
    const src = DATA_BASE, dst = DATA_BASE + 0x20000;
    const data = pattern(4096, 3);
    h.core.writePhysical(src, data);
    toDevice(h, src, 0, 4096);
    toRam(h, 0, dst, 4096);
    h.settle();
    expect(h.core.readPhysical(dst, 4096)).toEqual(data);
    expect(h.counters().dmaReadBytes).toBe(4096);
    expect(h.counters().dmaWriteBytes).toBe(4096);
  });

  test("DMA: sub-ranges land at the device offset and RAM address given, touching nothing else", () => {
    const h = readyEdu();
    const src = DATA_BASE + 0x123, dst = DATA_BASE + 0x30000 + 0x7F9;
    const data = pattern(300, 11);
    h.core.writePhysical(src, data);
    const guard = new Uint8Array(1024).fill(0xCC);
    h.core.writePhysical(dst - 512, guard);
    toDevice(h, src, 0x200, 300);
    toRam(h, 0x200, dst, 300);
    h.settle();
    const after = h.core.readPhysical(dst - 512, 1024);
    expect(after.subarray(512, 812)).toEqual(data);
    expect(after.subarray(0, 512).every((b) => b === 0xCC)).toBe(true);
    expect(after.subarray(812).every((b) => b === 0xCC)).toBe(true);
    // The buffer offset is honoured: a neighbouring window holds different data.
    toRam(h, 0x280, dst, 0x80);
    h.settle();
    expect(h.core.readPhysical(dst, 0x80)).toEqual(data.subarray(0x80, 0x100));
  });

  test("DMA: the last byte of the buffer (0x40FFF) is in range", () => {
    const h = readyEdu();
    h.core.writePhysical(DATA_BASE, Uint8Array.of(0x5A));
    const before = h.counters().deviceErrors;
    toDevice(h, DATA_BASE, 0xFFF, 1);
    toRam(h, 0xFFF, DATA_BASE + 0x100, 1);
    h.settle();
    expect(h.core.readPhysical(DATA_BASE + 0x100, 1)[0]).toBe(0x5A);
    expect(h.counters().deviceErrors).toBe(before);
  });

  test("DMA done interrupt: command bit 0x4 raises interrupt status 0x100 when done", () => {
    const h = readyEdu();
    h.enableMsi();
    toDevice(h, DATA_BASE, 0, 256, EDU.DMA_IRQ);
    h.advance(10 * US);
    expect(h.mmioRead(EDU.IRQ_STATUS)).toBe(EDU.IRQ_DMA);
    expect(h.core.highestPending(0)).toBe(MSI_VECTOR);
    expect(h.counters().msiSent).toBe(1);
  });

  test("DMA done interrupt: without bit 0x4 no interrupt is raised", () => {
    const h = readyEdu();
    toDevice(h, DATA_BASE, 0, 256);
    toRam(h, 0, DATA_BASE + 0x1000, 256);
    h.advance(10 * US);
    expect(h.mmioRead(EDU.IRQ_STATUS)).toBe(0);
    expect(h.x.intxState(h.fn)).toBe(0);
  });

  test("DMA done interrupt with MSI disabled asserts INTA#", () => {
    const h = readyEdu();
    toRam(h, 0, DATA_BASE, 16, EDU.DMA_IRQ);
    expect(h.mmioRead(EDU.IRQ_STATUS)).toBe(EDU.IRQ_DMA);
    expect(h.x.intxState(h.fn)).toBe(1);
  });

  test("DMA out of buffer range is refused: nothing copied, run bit clears, deviceErrors increments", () => {
    const h = readyEdu({ trace: true });
    const original = pattern(4096, 5);
    h.core.writePhysical(DATA_BASE, original);
    toDevice(h, DATA_BASE, 0, 4096);
    const other = pattern(4096, 6);
    h.core.writePhysical(DATA_BASE + 0x2000, other);
    const cases: [number, number, number, number][] = [
      // [src, dst, count, cmd]
      [DATA_BASE + 0x2000, EDU.BUFFER + 0xF00, 0x200, EDU.DMA_START], // runs past the end
      [DATA_BASE + 0x2000, EDU.BUFFER - 0x100, 0x80, EDU.DMA_START], // starts below
      [DATA_BASE + 0x2000, EDU.BUFFER, 4097, EDU.DMA_START], // larger than the buffer
      [DATA_BASE + 0x2000, 0x0, 16, EDU.DMA_START], // not the buffer at all
      [EDU.BUFFER + 0x1000, DATA_BASE + 0x4000, 1, EDU.DMA_START | EDU.DMA_TO_RAM], // one past the end
      [EDU.BUFFER + 0x800, DATA_BASE + 0x4000, 0x801, EDU.DMA_START | EDU.DMA_TO_RAM],
    ];
    const guard = new Uint8Array(0x1000).fill(0xEE);
    h.core.writePhysical(DATA_BASE + 0x4000, guard);
    h.drainTrace();
    for (const [i, [src, dst, count, cmd]] of cases.entries()) {
      const before = h.counters();
      dma(h, src, dst, count, cmd);
      h.settle();
      const after = h.counters();
      expect(h.mmioRead(EDU.DMA_CMD) & EDU.DMA_START, `case ${i}`).toBe(0);
      expect(after.deviceErrors - before.deviceErrors, `case ${i}`).toBe(1);
      expect(after.dmaReadBytes - before.dmaReadBytes, `case ${i}`).toBe(0);
      expect(after.dmaWriteBytes - before.dmaWriteBytes, `case ${i}`).toBe(0);
    }
    expect(h.drainTrace().filter((r) => r.kind === L.TR_DEVICE_ERROR && r.fn === h.fn)).toHaveLength(cases.length);
    expect(h.core.readPhysical(DATA_BASE + 0x4000, 0x1000)).toEqual(guard);
    // The buffer still holds what the one valid transfer put there.
    toRam(h, 0, DATA_BASE + 0x8000, 4096);
    h.settle();
    expect(h.core.readPhysical(DATA_BASE + 0x8000, 4096)).toEqual(original);
  });

  test("DMA 28-bit mask: RAM-side addresses >= 256 MiB are truncated to 28 bits and recorded as a device error", () => {
    const h = readyEdu({ trace: true });
    const data = pattern(128, 9);
    // RAM -> device from 0x3000_0000 + DATA_BASE reads DATA_BASE.
    h.core.writePhysical(DATA_BASE, data);
    toDevice(h, 0x30000000 + DATA_BASE, 0, 128);
    expect(h.counters().deviceErrors).toBe(1);
    // Device -> RAM to 0x1_1000_0000 + DATA_BASE + 0x1000 writes DATA_BASE + 0x1000.
    toRam(h, 0, 0x110000000 + DATA_BASE + 0x1000, 128);
    h.settle();
    expect(h.counters().deviceErrors).toBe(2);
    expect(h.core.readPhysical(DATA_BASE + 0x1000, 128)).toEqual(data);
    const errors = h.drainTrace().filter((r) => r.kind === L.TR_DEVICE_ERROR && r.fn === h.fn);
    expect(errors.map((r) => r.a)).toEqual([L.EDU_ERROR_DMA_CLAMPED, L.EDU_ERROR_DMA_CLAMPED]);
    // Below 256 MiB nothing is recorded.
    toRam(h, 0, DATA_BASE + 0x3000, 16);
    expect(h.counters().deviceErrors).toBe(2);
  });

  test("DMA with bus master disabled: no data moved and masterAborts increments", () => {
    const h = readyEdu();
    const data = pattern(256, 2);
    h.core.writePhysical(DATA_BASE, data);
    toDevice(h, DATA_BASE, 0, 256);
    h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY);
    const guard = new Uint8Array(256).fill(0x77);
    h.core.writePhysical(DATA_BASE + 0x1000, guard);
    h.core.writePhysical(DATA_BASE + 0x2000, pattern(256, 99));
    const before = h.counters();
    toRam(h, 0, DATA_BASE + 0x1000, 256);
    toDevice(h, DATA_BASE + 0x2000, 0, 256);
    h.settle();
    const after = h.counters();
    expect(h.core.readPhysical(DATA_BASE + 0x1000, 256)).toEqual(guard);
    expect(after.masterAborts - before.masterAborts).toBe(2);
    expect(after.dmaReadBytes).toBe(before.dmaReadBytes);
    expect(after.dmaWriteBytes).toBe(before.dmaWriteBytes);
    // Re-enabled, the buffer still holds the first transfer's data.
    h.cfgWrite(CFG.COMMAND, 2, CMD.MEMORY | CMD.BUS_MASTER);
    toRam(h, 0, DATA_BASE + 0x1000, 256);
    h.settle();
    expect(h.core.readPhysical(DATA_BASE + 0x1000, 256)).toEqual(data);
  });

  test("DMA ordering: when the completion MSI is pending at the APIC, the DMA'd data is already in RAM", () => {
    const h = readyEdu({ trace: true });
    h.enableMsi();
    const data = pattern(4096, 21);
    h.core.writePhysical(DATA_BASE, data);
    toDevice(h, DATA_BASE, 0, 4096);
    const dst = DATA_BASE + 0x40000;
    h.drainTrace();
    setDma(h, EDU.BUFFER, dst, 4096);
    h.mmioWrite(EDU.DMA_CMD, EDU.DMA_START | EDU.DMA_TO_RAM | EDU.DMA_IRQ);
    // Run in small steps; stop at the first moment the vector is pending.
    let stopped = false;
    for (let i = 0; i < 100000 && !stopped; i++) {
      const r = h.x.run(h.now + 100_000);
      if (h.core.highestPending(0) === MSI_VECTOR) {
        stopped = true;
        expect(r & L.RUN_INTERRUPT).toBe(L.RUN_INTERRUPT);
      }
    }
    expect(stopped).toBe(true);
    expect(h.core.readPhysical(dst, 4096)).toEqual(data);
    const records = h.drainTrace();
    const landed = records.filter((r) => r.kind === L.TR_WRITE_LANDED && r.fn === h.fn);
    expect(landed.length).toBeGreaterThan(0);
    const lastLanded = Math.max(...landed.map((r) => r.time));
    expect(h.core.arrivalPs(0, MSI_VECTOR)).toBeGreaterThanOrEqual(lastLanded);
    const pendingAt = records.findIndex((r) => r.kind === L.TR_APIC_PENDING);
    expect(records.findLastIndex((r) => r.kind === L.TR_WRITE_LANDED)).toBeLessThan(pendingAt);
  });
});
