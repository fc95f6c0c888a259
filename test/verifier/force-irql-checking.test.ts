// Driver Verifier's Force IRQL checking ("Force IRQL Checking" in the Driver Verifier
// documentation): part of the standard settings, so on whenever the verifier is; whenever
// the IRQL rises to DISPATCH_LEVEL or higher, the system's pageable pool is trimmed, and a
// driver touching it there is bug check 0xD1 DRIVER_IRQL_NOT_LESS_OR_EQUAL (P1 address,
// P2 IRQL, P3 0 read / 1 write, P4 code address) every time. Its global counters ("IRQL
// Raises", "Trims": trimming passes, not pages) show in !verifier.
import { describe, expect, it } from "vitest";
import {
  DISPATCH_LEVEL, Machine, boot, inspect, ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE, KeRaiseIrql, KeLowerIrql, KeAcquireSpinLock,
  KeReleaseSpinLock, KeInitializeSpinLock, KSPIN_LOCK, MmIsAddressValid, readU32, writeU32, pagingStatistics, VirtualAlloc,
} from "../../src/index.js";
import { loadMachine } from "../../src/machine/firmwareFiles.js";
import { MM } from "../../src/mm/manager.js";
import { asDriver, bootDefault, bugCheckOf, defaultDescription, expectBugCheck, kernelOf, params } from "../support/kernel-harness.js";

const DRIVER_IRQL_NOT_LESS_OR_EQUAL = 0xD1;

/** Boots the default machine with kernel.trimming and kernel.verifier as given. */
async function machine(kernel: { trimming?: boolean; verifier?: boolean }): Promise<Machine> {
  const d = defaultDescription();
  d.kernel = { ...d.kernel, ...kernel };
  return boot(Machine.fromDescription(d));
}

describe("Force IRQL checking follows the verifier", () => {
  it("the default machine file leaves it to the verifier (null), and the default machine has it on", async () => {
    expect(loadMachine("default").kernel.trimming).toBe(null);
    const m = await bootDefault();
    expect(MM(kernelOf(m)).trimming).toBe(true);
  });

  it("on the default machine a driver reading paged pool at DISPATCH_LEVEL is 0xD1 (P1 address, P2 IRQL, P3 0 read, P4 its code address)", async () => {
    const m = await bootDefault();
    let va = 0;
    const bc = await bugCheckOf(m.exec(() => asDriver("irqldrv", "ReadAtDispatch", () => {
      va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "IrqT");
      writeU32(va, 7);
      KeRaiseIrql(DISPATCH_LEVEL);
      return readU32(va);
    })));
    expectBugCheck(bc, DRIVER_IRQL_NOT_LESS_OR_EQUAL, va, DISPATCH_LEVEL, 0);
    expect(MM(kernelOf(m)).routineAt(params(bc)[3])).toBe("irqldrv!ReadAtDispatch");
  });

  it("holding a spin lock is DISPATCH_LEVEL too: a write to paged pool there is 0xD1 with P3 1", async () => {
    const m = await bootDefault();
    let va = 0;
    const bc = await bugCheckOf(m.exec(() => asDriver("irqldrv", "WriteUnderLock", () => {
      va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "IrqT");
      const lock = new KSPIN_LOCK();
      KeInitializeSpinLock(lock);
      KeAcquireSpinLock(lock);
      writeU32(va, 1);
    })));
    expectBugCheck(bc, DRIVER_IRQL_NOT_LESS_OR_EQUAL, va, DISPATCH_LEVEL, 1);
  });

  it("kernel.trimming: false turns it off: the same read succeeds", async () => {
    const m = await machine({ trimming: false });
    expect(MM(kernelOf(m)).trimming).toBe(false);
    const v = await m.exec(() => asDriver("irqldrv", "ReadAtDispatch", () => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "IrqT");
      writeU32(va, 7);
      const old = KeRaiseIrql(DISPATCH_LEVEL);
      const r = readU32(va);
      KeLowerIrql(old);
      ExFreePoolWithTag(va, "IrqT");
      return r;
    }));
    expect(v).toBe(7);
  });

  it("without the verifier it is off unless kernel.trimming says true", async () => {
    expect(MM(kernelOf(await machine({ verifier: false }))).trimming).toBe(false);
    expect(MM(kernelOf(await machine({ verifier: false, trimming: true }))).trimming).toBe(true);
  });

  it("trims system pageable memory only: a user process's pages stay resident across a raise", async () => {
    const m = await bootDefault();
    const paged = await m.exec(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "IrqT");
      writeU32(va, 6);
      return va;
    });
    const r = await m.runProgram("irql-user", async () => {
      const user = VirtualAlloc(4096);
      writeU32(user, 5);
      KeLowerIrql(KeRaiseIrql(DISPATCH_LEVEL));
      return { user: MmIsAddressValid(user), paged: MmIsAddressValid(paged) };
    });
    expect(r).toEqual({ user: true, paged: false });
  });

  it("a raise with no system pageable page resident makes no trimming pass (nothing to do)", async () => {
    const m = await bootDefault();
    const r = await m.exec(() => asDriver("irqldrv", "Raise", () => {
      const before = pagingStatistics().trims;
      for (let i = 0; i < 100; i++) KeLowerIrql(KeRaiseIrql(DISPATCH_LEVEL));
      return { trims: pagingStatistics().trims - before, resident: pagingStatistics().residentPageable };
    }));
    expect(r.trims).toBe(0);
    const counters = MM(kernelOf(m)).irqlChecking.get("irqldrv")!;
    expect(counters).toEqual({ raises: 100, trims: 0 });
  });
});

describe("!verifier: IRQL raises and trims", () => {
  it("counts each driver's raises to DISPATCH_LEVEL and the trimming passes they made; the totals are the summary's RaiseIrqls and Trims", async () => {
    const m = await bootDefault();
    await m.exec(() => {
      asDriver("raiser", "Work", () => {
        const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "IrqT");
        for (let i = 0; i < 3; i++) {
          writeU32(va, i); // pages it back in at PASSIVE_LEVEL
          KeLowerIrql(KeRaiseIrql(DISPATCH_LEVEL)); // trims it again
        }
        ExFreePoolWithTag(va, "IrqT");
        KeLowerIrql(KeRaiseIrql(DISPATCH_LEVEL)); // nothing pageable left: no trim
      });
      asDriver("other", "Work", () => {
        const lock = new KSPIN_LOCK();
        KeInitializeSpinLock(lock);
        KeReleaseSpinLock(lock, KeAcquireSpinLock(lock));
      });
    });
    const mm = MM(kernelOf(m));
    expect(mm.irqlChecking.get("raiser")).toEqual({ raises: 4, trims: 3 });
    expect(mm.irqlChecking.get("other")).toEqual({ raises: 1, trims: 0 });
    let raises = 0;
    let trims = 0;
    for (const [driver, c] of mm.irqlChecking) {
      if (driver !== "nt") raises += c.raises;
      trims += c.trims;
    }
    const out = inspect(m, "!verifier");
    expect(out).toMatch(/^ {4}\[X\] \(0x00000002\) Force IRQL checking$/m);
    const hex = (v: number) => `0x${v.toString(16).padStart(8, "0")}`;
    expect(out).toMatch(new RegExp(`^  RaiseIrqls +${hex(raises)}$`, "m"));
    expect(out).toMatch(new RegExp(`^  Trims +${hex(trims)}$`, "m"));
    expect(out).toMatch(/^ {2}raiser +IRQL raises +4 +trims +3$/m);
    expect(out).toMatch(/^ {2}other +IRQL raises +1 +trims +0$/m);
  });

  it("with kernel.trimming: false the option shows off and no driver lines are printed", async () => {
    const m = await machine({ trimming: false });
    await m.exec(() => asDriver("raiser", "Work", () => KeLowerIrql(KeRaiseIrql(DISPATCH_LEVEL))));
    const out = inspect(m, "!verifier");
    expect(out).toMatch(/^ {4}\[ \] \(0x00000002\) Force IRQL checking$/m);
    expect(out).toMatch(/^  RaiseIrqls +0x00000000$/m);
    expect(out).not.toMatch(/IRQL raises/);
  });
});
