// Driver Verifier's Special Pool option ("Special Pool Memory Corruption Detection in
// Driver Verifier"): each small allocation of a driver on a page of its own, against the
// page's end (Verify End: an overrun faults at once, 0xD6) or start (Verify Start: an
// underrun faults at once); the rest of the page holds a pattern checked at the free
// (0xC1, P4 0x23 before the block, 0x24 after it); a freed block's page stays inaccessible
// (0xD5). XxxSpecialPoolOverrun / XxxSpecialPoolUnderrun priorities choose the placement.
import { describe, expect, it } from "vitest";
import {
  Machine, boot, ExAllocatePoolWithTag, ExFreePoolWithTag, ExAllocatePoolWithTagPriority, ExAllocatePool2, POOL_FLAG_NON_PAGED,
  EX_POOL_PRIORITY, POOL_TYPE, DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION, DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL,
  SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION, PAGE_FAULT_IN_NONPAGED_AREA, KeRaiseIrql, DISPATCH_LEVEL,
} from "../../src/index.js";
import { readU8, writeU8, readU32 } from "../../src/mm/memory.js";
import { PAGE_SIZE } from "../../src/mm/pfn.js";
import { MM, SPECIAL_POOL_START, SPECIAL_POOL_SIZE } from "../../src/mm/manager.js";
import { asDriver, bugCheckOf, defaultDescription, expectBugCheck, kernelOf, params } from "../support/kernel-harness.js";

async function machine(specialPool: boolean | "verifyEnd" | "verifyStart", verifier = true): Promise<Machine> {
  const d = defaultDescription({ verifier });
  d.kernel = { ...d.kernel, specialPool: specialPool === true ? "verifyEnd" : specialPool === false ? "off" : specialPool };
  return boot(Machine.fromDescription(d));
}

const inSpecialPool = (va: number) => va >= SPECIAL_POOL_START && va < SPECIAL_POOL_START + SPECIAL_POOL_SIZE;

describe("special pool", () => {
  it("Verify End: a driver's small block ends at its page's end (16-byte aligned); the kernel's own and page-sized blocks use normal pool", async () => {
    const m = await machine(true);
    const r = await m.exec(() => {
      const own = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 40, "Krnl");
      return asDriver("spdrv", "DriverEntry", () => {
        const a = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 40, "SpTg");
        const b = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "SpTg");
        const big = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, PAGE_SIZE, "SpTg");
        // The block is usable, all of it.
        for (let i = 0; i < 40; i++) writeU8(a + i, i);
        const sum = Array.from({ length: 40 }, (_, i) => readU8(a + i)).reduce((x, y) => x + y, 0);
        const out = { own: inSpecialPool(own), a: inSpecialPool(a), aEnd: (a + 48) % PAGE_SIZE, b: inSpecialPool(b), bEnd: (b + 64) % PAGE_SIZE, big: inSpecialPool(big), sum };
        ExFreePoolWithTag(a, "SpTg");
        ExFreePoolWithTag(b, "SpTg");
        ExFreePoolWithTag(big, "SpTg");
        return out;
      });
    });
    expect(r).toEqual({ own: false, a: true, aEnd: 0, b: true, bEnd: 0, big: false, sum: (39 * 40) / 2 });
  });

  it("reading one byte past the end of the block is 0xD6 at once (P1 the address, P2 0 read, P3 the routine), at any IRQL", async () => {
    const m = await machine(true);
    let block = 0;
    const bc = await bugCheckOf(m.exec(() => asDriver("spdrv", "SpOverrun", () => {
      block = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, PAGE_SIZE - 16, "SpTg");
      KeRaiseIrql(DISPATCH_LEVEL);
      return readU8(block + PAGE_SIZE - 16);
    })));
    expectBugCheck(bc, DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION, block + PAGE_SIZE - 16, 0);
    expect(params(bc)[2]).toBe(MM(kernelOf(m)).codeAddress("spdrv", "SpOverrun"));
    expect(bc.context.driver).toBe("spdrv");
  });

  it("a write into the slack after a block that is not a multiple of 16 is caught at the free: 0xC1 with P4 0x24 and the byte's address", async () => {
    const m = await machine(true);
    let block = 0;
    const bc = await bugCheckOf(m.exec(() => asDriver("spdrv", "SpSlack", () => {
      block = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 13, "SpTg");
      writeU8(block + 13, 0); // one past the end, still on the page
      ExFreePoolWithTag(block, "SpTg");
    })));
    expectBugCheck(bc, SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION, block, block + 13, 0, 0x24);
  });

  it("a write before the block (into the page's pattern) is caught at the free: 0xC1 with P4 0x23", async () => {
    const m = await machine(true);
    let block = 0;
    const bc = await bugCheckOf(m.exec(() => asDriver("spdrv", "SpUnderrun", () => {
      block = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 32, "SpTg");
      writeU8(block - 4, 0x11);
      ExFreePoolWithTag(block, "SpTg");
    })));
    expectBugCheck(bc, SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION, block, block - 4, 0, 0x23);
  });

  it("a touch of a freed block is 0xD5 DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL (P2 1 for a write)", async () => {
    const m = await machine(true);
    let block = 0;
    const bc = await bugCheckOf(m.exec(() => asDriver("spdrv", "SpUseAfterFree", () => {
      block = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 24, "SpTg");
      ExFreePoolWithTag(block, "SpTg");
      writeU8(block + 8, 1);
    })));
    expectBugCheck(bc, DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL, block + 8, 1);
  });

  it("Verify Start puts the block at its page's start: an underrun faults at once, an overrun is caught at the free", async () => {
    const m = await machine("verifyStart");
    let block = 0;
    const under = await bugCheckOf(m.exec(() => asDriver("spdrv", "SpStart", () => {
      block = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 20, "SpTg");
      expect(block % PAGE_SIZE).toBe(0);
      return readU32(block - 4);
    })));
    expectBugCheck(under, DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION, block - 4, 0);
    const m2 = await machine("verifyStart");
    const over = await bugCheckOf(m2.exec(() => asDriver("spdrv", "SpStart", () => {
      block = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 20, "SpTg");
      writeU8(block + 20, 7);
      ExFreePoolWithTag(block, "SpTg");
    })));
    expectBugCheck(over, SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION, block, block + 20, 0, 0x24);
  });

  it("ExAllocatePoolWithTagPriority's XxxSpecialPoolUnderrun and ExAllocatePool2's placement follow the priority; it cannot turn special pool on", async () => {
    const m = await machine(true);
    const r = await m.exec(() => asDriver("spdrv", "SpPriority", () => {
      const under = ExAllocatePoolWithTagPriority(POOL_TYPE.NonPagedPool, 20, "SpTg", EX_POOL_PRIORITY.NormalPoolPrioritySpecialPoolUnderrun);
      const over = ExAllocatePoolWithTagPriority(POOL_TYPE.NonPagedPool, 20, "SpTg", EX_POOL_PRIORITY.HighPoolPrioritySpecialPoolOverrun);
      const plain = ExAllocatePool2(POOL_FLAG_NON_PAGED, 20, "SpTg");
      const out = { under: under % PAGE_SIZE, over: (over + 32) % PAGE_SIZE, plain: (plain + 32) % PAGE_SIZE };
      for (const p of [under, over, plain]) ExFreePoolWithTag(p, "SpTg");
      return out;
    }));
    expect(r).toEqual({ under: 0, over: 0, plain: 0 });
    const off = await machine(false);
    const normal = await off.exec(() => asDriver("spdrv", "SpPriority", () => ExAllocatePoolWithTagPriority(POOL_TYPE.NonPagedPool, 20, "SpTg", EX_POOL_PRIORITY.NormalPoolPrioritySpecialPoolUnderrun)));
    expect(inSpecialPool(normal)).toBe(false);
  });

  it("without the option (or without the verifier) an overrun inside the page goes unnoticed and a freed block's address faults as 0x50", async () => {
    const m = await machine(true, false);
    const a = await m.exec(() => asDriver("spdrv", "SpOff", () => ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 20, "SpTg")));
    expect(inSpecialPool(a)).toBe(false);
    const m2 = await machine(false);
    const bc = await bugCheckOf(m2.exec(() => asDriver("spdrv", "SpOff", () => {
      const big = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, PAGE_SIZE, "SpTg");
      ExFreePoolWithTag(big, "SpTg");
      return readU8(big);
    })));
    expect(bc.code).toBe(PAGE_FAULT_IN_NONPAGED_AREA);
  });
});
