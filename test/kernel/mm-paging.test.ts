// Paging of pageable memory: page-out to the page file (on demand, under memory pressure,
// and in trimming mode on every raise to DISPATCH_LEVEL), page-in on a fault below
// DISPATCH_LEVEL, the fatal fault at or above it, and locked pages
// (shared/specs/nt-semantics.md: IRQL, Memory; WDK: Driver Verifier "Force IRQL checking",
// MmProbeAndLockPages, Bug Check 0xD1 and 0xA).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  APC_LEVEL, DISPATCH_LEVEL, PASSIVE_LEVEL, type Machine, KE, KeRaiseIrql, KeLowerIrql,
  ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE, readU32, writeU32, readU8, readBytes, writeBytes, RtlCopyMemory,
  RtlCompareMemory, RtlFillMemory, RtlZeroMemory, MmIsAddressValid, MmTrimPageable, pagingStatistics, MmGetPhysicalAddress,
  IoAllocateMdl, IoFreeMdl, MmProbeAndLockPages, MmUnlockPages, MmGetMdlPfnArray, LOCK_OPERATION, KPROCESSOR_MODE,
  VirtualAlloc, readU64, writeU64,
} from "../../src/index.js";
import { boot } from "../../src/pnp/boot.js";
import { Machine as MachineClass } from "../../src/machine/machine.js";
import { FirmwareError, loadMachine, MACHINES_DIR, type MachineDescription } from "../../src/machine/firmwareFiles.js";
import { MM } from "../../src/mm/manager.js";
import { asDriver, bootDefault, bugCheckOf, defaultDescription, expectBugCheck, kernelOf, params } from "../support/kernel-harness.js";

const IRQL_NOT_LESS_OR_EQUAL = 0xA;
const DRIVER_IRQL_NOT_LESS_OR_EQUAL = 0xD1;
const PAGE = 4096;

/** Boots the default machine with its description changed by `change`. */
async function bootWith(change: (d: MachineDescription) => void): Promise<Machine> {
  const d = defaultDescription();
  change(d);
  return boot(MachineClass.fromDescription(d));
}

/** Boots the default machine in trimming mode (machine file: kernel.trimming). */
function bootTrimming(): Promise<Machine> {
  return bootWith((d) => (d.kernel = { ...d.kernel, trimming: true }));
}

/** Fills `pages` pages at `va` with a pattern that differs per page and per word. */
function fillPattern(va: number, pages: number, seed: number): void {
  for (let p = 0; p < pages; p++) {
    const bytes = new Uint8Array(PAGE);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < PAGE; i += 4) view.setUint32(i, (seed * 0x01000193 + p * 0x10001 + i) >>> 0, true);
    writeBytes(va + p * PAGE, bytes);
  }
}

/** Checks the pattern of fillPattern; returns the first bad byte offset or -1. */
function checkPattern(va: number, pages: number, seed: number): number {
  const bytes = readBytes(va, pages * PAGE);
  const view = new DataView(bytes.buffer);
  for (let p = 0; p < pages; p++) {
    for (let i = 0; i < PAGE; i += 4) {
      if (view.getUint32(p * PAGE + i, true) !== ((seed * 0x01000193 + p * 0x10001 + i) >>> 0)) return p * PAGE + i;
    }
  }
  return -1;
}

describe("trimming mode: pageable memory touched at DISPATCH_LEVEL", () => {
  // Rule (nt-semantics.md, IRQL): "Touching pageable memory that is not resident ... at IRQL >=
  // DISPATCH_LEVEL is fatal: 0xD1 DRIVER_IRQL_NOT_LESS_OR_EQUAL (P1 address, P2 IRQL, P3 0 read /
  // 1 write / 8 execute, P4 code address) when a driver did it". Trimming mode pages out
  // everything pageable when the IRQL rises to DISPATCH_LEVEL, so the bug shows every time.
  it("a driver reading a paged pool buffer at DISPATCH_LEVEL under trimming is 0xD1 (P1 address, P2 IRQL, P3 0, P4 code address)", async () => {
    const m = await bootTrimming();
    let va = 0;
    const bc = await bugCheckOf(m.exec(() => asDriver("pagedrv", "PagedDpcRoutine", () => {
      va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "PgdT");
      writeU32(va, 0x12345678);
      KeRaiseIrql(DISPATCH_LEVEL);
      return readU32(va);
    })));
    expectBugCheck(bc, DRIVER_IRQL_NOT_LESS_OR_EQUAL, va, DISPATCH_LEVEL, 0);
    expect(bc.context.driver).toBe("pagedrv");
    expect(bc.context.routine).toBe("PagedDpcRoutine");
    const p4 = params(bc)[3];
    expect(p4).toBeGreaterThanOrEqual(0x800000000000);
    // P4 stands for the routine that touched the memory.
    expect(MM(kernelOf(m)).routineAt(p4)).toBe("pagedrv!PagedDpcRoutine");
  });

  it("a write is reported with P3 = 1", async () => {
    const m = await bootTrimming();
    let va = 0;
    const bc = await bugCheckOf(m.exec(() => asDriver("pagedrv", "PagedIsrWrite", () => {
      va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 8192, "PgdT");
      KeRaiseIrql(DISPATCH_LEVEL);
      writeU32(va + 4100, 1);
    })));
    expectBugCheck(bc, DRIVER_IRQL_NOT_LESS_OR_EQUAL, va + 4100, DISPATCH_LEVEL, 1);
  });

  it("the kernel itself touching paged pool at DISPATCH_LEVEL under trimming is 0xA IRQL_NOT_LESS_OR_EQUAL", async () => {
    const m = await bootTrimming();
    let va = 0;
    const bc = await bugCheckOf(m.exec(() => {
      va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "PgdT");
      KeRaiseIrql(DISPATCH_LEVEL);
      return readU32(va);
    }));
    expectBugCheck(bc, IRQL_NOT_LESS_OR_EQUAL, va, DISPATCH_LEVEL, 0);
    expect(MM(kernelOf(m)).routineAt(params(bc)[3])).toBe("nt!KiSystemStartup");
  });

  it("block copies out of paged memory at DISPATCH_LEVEL are caught the same way (RtlCopyMemory)", async () => {
    const m = await bootTrimming();
    let src = 0;
    const bc = await bugCheckOf(m.exec(() => asDriver("pagedrv", "CopyAtDispatch", () => {
      src = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 256, "PgdT");
      const dst = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 256, "NpgT");
      KeRaiseIrql(DISPATCH_LEVEL);
      RtlCopyMemory(dst, src, 256);
    })));
    expectBugCheck(bc, DRIVER_IRQL_NOT_LESS_OR_EQUAL, src, DISPATCH_LEVEL, 0);
  });

  it("without trimming (kernel.trimming: false) the same buffer is still resident at DISPATCH_LEVEL and reads fine", async () => {
    const m = await bootWith((d) => (d.kernel = { ...d.kernel, trimming: false }));
    const v = await m.exec(() => asDriver("pagedrv", "PagedDpcRoutine", () => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "PgdT");
      writeU32(va, 0x12345678);
      const old = KeRaiseIrql(DISPATCH_LEVEL);
      const r = readU32(va);
      KeLowerIrql(old);
      return r;
    }));
    expect(v).toBe(0x12345678);
  });

  it("nonpaged pool is never trimmed: it stays readable at DISPATCH_LEVEL", async () => {
    const m = await bootTrimming();
    const v = await m.exec(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 64, "NpgT");
      writeU32(va, 0xCAFE);
      const old = KeRaiseIrql(DISPATCH_LEVEL);
      const r = { value: readU32(va), valid: MmIsAddressValid(va) };
      KeLowerIrql(old);
      return r;
    });
    expect(v).toEqual({ value: 0xCAFE, valid: true });
  });
});

describe("page-in below DISPATCH_LEVEL", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootTrimming();
  });

  // Rule (nt-semantics.md, IRQL): "Below DISPATCH_LEVEL a not-resident pageable page is simply
  // paged in (costing time)."
  it("a paged-out buffer touched at PASSIVE_LEVEL is paged back in with its contents, and it costs a disk read", async () => {
    const pageInPs = kernelOf(machine).cost.PageIn;
    const r = await machine.exec(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 3 * PAGE, "PgdT");
      fillPattern(va, 3, 7);
      // A raise to DISPATCH_LEVEL in trimming mode pages everything pageable out.
      KeLowerIrql(KeRaiseIrql(DISPATCH_LEVEL));
      const out = [0, 1, 2].map((p) => MmIsAddressValid(va + p * PAGE));
      const before = pagingStatistics();
      const t0 = KE().cpu.time;
      const first = readU32(va + 8);
      const t1 = KE().cpu.time;
      const after = pagingStatistics();
      const resident = [0, 1, 2].map((p) => MmIsAddressValid(va + p * PAGE));
      const bad = checkPattern(va, 3, 7);
      ExFreePoolWithTag(va, "PgdT");
      return { out, first, dtPs: t1 - t0, pageIns: after.pageIns - before.pageIns, resident, bad };
    });
    expect(r.out).toEqual([false, false, false]);
    expect(r.first).toBe((7 * 0x01000193 + 8) >>> 0);
    expect(r.pageIns).toBe(1);
    expect(r.dtPs).toBeGreaterThanOrEqual(pageInPs);
    // Only the page touched came back; the rest come back when the pattern check reads them.
    expect(r.resident).toEqual([true, false, false]);
    expect(r.bad).toBe(-1);
  });

  it("the page-in cost is tens of microseconds of simulated time (a disk read)", async () => {
    const ps = kernelOf(machine).cost.PageIn;
    expect(ps).toBeGreaterThanOrEqual(10e6);
    expect(ps).toBeLessThan(100e6);
  });

  it("at APC_LEVEL a paged-out page is paged in too", async () => {
    const v = await machine.exec(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 16, "PgdT");
      writeU32(va, 0xA11CE);
      MmTrimPageable();
      const old = KeRaiseIrql(APC_LEVEL);
      const r = readU32(va);
      KeLowerIrql(old);
      ExFreePoolWithTag(va, "PgdT");
      return r;
    });
    expect(v).toBe(0xA11CE);
  });

  it("Rtl block routines page in both sides as they go (copy, compare, fill, zero)", async () => {
    const r = await machine.exec(() => {
      const a = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 4 * PAGE, "PgdA");
      const b = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 4 * PAGE, "PgdB");
      fillPattern(a, 4, 3);
      MmTrimPageable();
      // Unaligned, crossing page boundaries on both sides.
      RtlCopyMemory(b + 100, a + 100, 4 * PAGE - 200);
      MmTrimPageable();
      const same = RtlCompareMemory(a + 100, b + 100, 4 * PAGE - 200);
      MmTrimPageable();
      RtlFillMemory(b + PAGE - 2, 4, 0x5A);
      MmTrimPageable();
      const filled = [readU8(b + PAGE - 2), readU8(b + PAGE + 1)];
      MmTrimPageable();
      RtlZeroMemory(a, 4 * PAGE);
      MmTrimPageable();
      const zeroes = RtlCompareMemory(a, b, 50);
      const q = readU64(a + 2 * PAGE);
      writeU64(a + PAGE - 4, 0x1122334455667788n);
      MmTrimPageable();
      const straddle = readU64(a + PAGE - 4);
      ExFreePoolWithTag(a, "PgdA");
      ExFreePoolWithTag(b, "PgdB");
      return { same, filled, zeroes, q, straddle };
    });
    expect(r.same).toBe(4 * PAGE - 200);
    expect(r.filled).toEqual([0x5A, 0x5A]);
    expect(r.zeroes).toBe(50);
    expect(r.q).toBe(0n);
    expect(r.straddle).toBe(0x1122334455667788n);
  });

  it("a paged-in page gets a frame again, usually another one, and MmGetPhysicalAddress follows it", async () => {
    const r = await machine.exec(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, PAGE, "PgdT");
      writeU32(va, 1);
      const before = MmGetPhysicalAddress(va);
      MmTrimPageable();
      const whileOut = MmGetPhysicalAddress(va);
      readU32(va);
      const after = MmGetPhysicalAddress(va);
      ExFreePoolWithTag(va, "PgdT");
      return { before, whileOut, after };
    });
    expect(r.before).not.toBe(0);
    expect(r.whileOut).toBe(0);
    expect(r.after).not.toBe(0);
  });

  it("freeing a paged-out block gives its page-file space back", async () => {
    const r = await machine.exec(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 5 * PAGE, "PgdT");
      RtlFillMemory(va, 5 * PAGE, 1);
      MmTrimPageable();
      const out = pagingStatistics().pageFilePages;
      ExFreePoolWithTag(va, "PgdT");
      return { out, after: pagingStatistics().pageFilePages };
    });
    expect(r.out - r.after).toBe(5);
  });

  it("user-mode memory is pageable: a program's buffer is paged out and comes back when touched", async () => {
    const r = await machine.runProgram("pager-user", async () => {
      const va = VirtualAlloc(2 * PAGE);
      fillPattern(va, 2, 11);
      const outBefore = pagingStatistics().pageOuts;
      MmTrimPageable();
      const paged = pagingStatistics().pageOuts - outBefore;
      const valid = MmIsAddressValid(va);
      return { paged, valid, bad: checkPattern(va, 2, 11) };
    });
    expect(r.paged).toBeGreaterThanOrEqual(2);
    expect(r.valid).toBe(false);
    expect(r.bad).toBe(-1);
  });
});

describe("locked pages", () => {
  // Rule (nt-semantics.md, Memory): MmProbeAndLockPages "faults in and pins every page"; WDK:
  // locked pages cannot be paged out until MmUnlockPages.
  it("pages locked by MmProbeAndLockPages survive trimming and stay readable at DISPATCH_LEVEL; unlocked, they are trimmed again", async () => {
    const m = await bootTrimming();
    const r = await m.exec(() => asDriver("lockdrv", "LockAndTouch", () => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 3 * PAGE, "LckT");
      fillPattern(va, 3, 5);
      KeLowerIrql(KeRaiseIrql(DISPATCH_LEVEL)); // all paged out
      const mdl = IoAllocateMdl(va, 2 * PAGE, false, false, null)!;
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoWriteAccess);
      const pfns = [...MmGetMdlPfnArray(mdl)];
      const old = KeRaiseIrql(DISPATCH_LEVEL); // trims again: the locked pages stay
      const atDispatch = { first: readU32(va), second: readU32(va + PAGE + 4), valid: [0, 1, 2].map((p) => MmIsAddressValid(va + p * PAGE)) };
      KeLowerIrql(old);
      const stillSameFrames = pfns.every((pfn, i) => MmGetPhysicalAddress(va + i * PAGE) === pfn * PAGE);
      MmUnlockPages(mdl);
      IoFreeMdl(mdl);
      KeLowerIrql(KeRaiseIrql(DISPATCH_LEVEL));
      const afterUnlock = [0, 1].map((p) => MmIsAddressValid(va + p * PAGE));
      const bad = checkPattern(va, 3, 5);
      return { atDispatch, stillSameFrames, afterUnlock, bad };
    }));
    expect(r.atDispatch.first).toBe((5 * 0x01000193) >>> 0);
    expect(r.atDispatch.second).toBe((5 * 0x01000193 + 0x10001 + 4) >>> 0);
    expect(r.atDispatch.valid).toEqual([true, true, false]);
    expect(r.stillSameFrames).toBe(true);
    expect(r.afterUnlock).toEqual([false, false]);
    expect(r.bad).toBe(-1);
  });

  it("a page locked by two MDLs stays locked until the last one is unlocked (WDK: once per MDL)", async () => {
    const m = await bootDefault();
    const r = await m.exec(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, PAGE, "LckT");
      const a = IoAllocateMdl(va, 100, false, false, null)!;
      const b = IoAllocateMdl(va + 200, 100, false, false, null)!;
      MmProbeAndLockPages(a, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoReadAccess);
      MmProbeAndLockPages(b, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoReadAccess);
      MmUnlockPages(a);
      MmTrimPageable();
      const afterFirst = MmIsAddressValid(va);
      MmUnlockPages(b);
      MmTrimPageable();
      const afterSecond = MmIsAddressValid(va);
      IoFreeMdl(a);
      IoFreeMdl(b);
      return { afterFirst, afterSecond };
    });
    expect(r).toEqual({ afterFirst: true, afterSecond: false });
  });
});

describe("memory pressure", () => {
  it("when free pages run low, the oldest pageable pages go to the page file and come back intact", async () => {
    // 16 MiB of RAM; paged pool well beyond that.
    const m = await bootWith((d) => (d.memory = [{ base: 0, size: 16 * 1024 * 1024 }]));
    const r = await m.exec(() => {
      const blocks: number[] = [];
      const total = MM().pfn.totalPages;
      const count = Math.ceil(total * 1.5 / 4);
      for (let i = 0; i < count; i++) {
        const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 4 * PAGE, "Pres");
        if (va === 0) break;
        writeU32(va, i);
        writeU32(va + 3 * PAGE + 16, i ^ 0xFFFF);
        blocks.push(va);
      }
      const stats = pagingStatistics();
      // Nonpaged memory still comes: the pager makes room.
      const np = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 64 * PAGE, "NpgP");
      let bad = 0;
      for (let i = 0; i < blocks.length; i += 97) {
        if (readU32(blocks[i]) !== i || readU32(blocks[i] + 3 * PAGE + 16) !== (i ^ 0xFFFF)) bad++;
      }
      return { allocated: blocks.length, count, pageOuts: stats.pageOuts, free: MM().pfn.freePages, low: MM().pfn.lowWaterPages, np, bad, firstValid: MmIsAddressValid(blocks[1]) };
    });
    expect(r.allocated).toBe(r.count);
    expect(r.pageOuts).toBeGreaterThan(r.count);
    expect(r.np).not.toBe(0);
    expect(r.bad).toBe(0);
    expect(r.free).toBeGreaterThan(0);
  });
});

describe("pageable IRQL boundary", () => {
  it("the trimming hook runs on every rise to DISPATCH_LEVEL, including the one a spin lock or DPC makes", async () => {
    const m = await bootTrimming();
    const r = await m.exec(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "PgdT");
      writeU32(va, 3);
      const before = pagingStatistics().trims;
      const old = KeRaiseIrql(DISPATCH_LEVEL);
      KeLowerIrql(old);
      const valid = MmIsAddressValid(va);
      readU32(va);
      KeLowerIrql(KeRaiseIrql(DISPATCH_LEVEL));
      return { trims: pagingStatistics().trims - before, valid, irql: KE().cpu.irql };
    });
    expect(r.trims).toBe(2);
    expect(r.valid).toBe(false);
    expect(r.irql).toBe(PASSIVE_LEVEL);
  });
});

describe("machine file: kernel.trimming", () => {
  /** Loads a copy of the default machine file with `kernel` replaced. */
  function loadWithKernel(kernel: unknown): MachineDescription {
    const doc = JSON.parse(readFileSync(join(MACHINES_DIR, "default.json"), "utf8"));
    doc.kernel = kernel;
    delete doc.$schema;
    const dir = mkdtempSync(join(tmpdir(), "wdmsim-trim-"));
    try {
      const file = join(dir, "machine.json");
      writeFileSync(file, JSON.stringify(doc));
      return loadMachine(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("defaults to null (on exactly when the verifier is) and is read as given", () => {
    expect(loadMachine("default").kernel.trimming).toBe(null);
    expect(loadWithKernel({ verifier: true, trimming: true }).kernel.trimming).toBe(true);
  });

  it("a value that is not a boolean is refused at /kernel/trimming", () => {
    try {
      loadWithKernel({ trimming: "yes" });
      throw new Error("accepted");
    } catch (e) {
      expect(e).toBeInstanceOf(FirmwareError);
      expect((e as FirmwareError).path).toBe("/kernel/trimming");
    }
  });
});
