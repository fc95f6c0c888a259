// The rules of shared/specs/nt-semantics.md's Memory section, one test each, named after
// the rule, and the memory bug checks (0x0A, 0xD1, 0x50, 0xC2, 0xC4 pool subcodes).
import { beforeAll, describe, expect, it } from "vitest";
import {
  APC_LEVEL, DISPATCH_LEVEL, type Machine, KeRaiseIrql, KeLowerIrql, ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE,
  readU32, writeU32, readBytes, writeBytes, RtlFillMemory, MmGetPhysicalAddress, MmIsAddressValid, MmTrimPageable, VirtualAlloc,
  ADDRESS_AND_SIZE_TO_SPAN_PAGES, BYTE_OFFSET, PAGE_ALIGN, MmSizeOfMdl, IoAllocateMdl, IoFreeMdl, MmProbeAndLockPages, MmUnlockPages,
  MmBuildMdlForNonPagedPool, MmGetSystemAddressForMdlSafe, MmGetMdlPfnArray, MmGetMdlVirtualAddress, MmGetMdlByteCount,
  MmGetMdlByteOffset, LOCK_OPERATION, KPROCESSOR_MODE, MM_PAGE_PRIORITY, MDL_PAGES_LOCKED, MDL_WRITE_OPERATION,
  MDL_SOURCE_IS_NONPAGED_POOL, MDL_MAPPED_TO_SYSTEM_VA, NtStatusException, STATUS_ACCESS_VIOLATION, PsGetCurrentProcess,
  KeGetCurrentThread, poolUsed, poolUsedByDriver,
} from "../../src/index.js";
import { MM, PAGED_POOL_START, POOL_START, SYSTEM_PTE_SIZE, SYSTEM_PTE_START } from "../../src/mm/manager.js";
import { asDriver, bootDefault, crash, expectBugCheck } from "../support/kernel-harness.js";

const IRQL_NOT_LESS_OR_EQUAL = 0xA;
const PAGE_FAULT_IN_NONPAGED_AREA = 0x50;
const BAD_POOL_CALLER = 0xC2;
const DRIVER_VERIFIER_DETECTED_VIOLATION = 0xC4;
const DRIVER_IRQL_NOT_LESS_OR_EQUAL = 0xD1;
const PAGE = 4096;
const DIRQL = 5;

/** Runs `body` as a user program (its own process, PASSIVE_LEVEL), as a driver's dispatch routine runs in the caller's context. */
function inProcess<T>(machine: Machine, body: () => T): Promise<T> {
  return machine.runProgram("mm-rules", async () => body());
}

describe("Memory: pool", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("Pool: ExAllocatePoolWithTag(type, bytes, tag) / ExFreePoolWithTag, nonpaged and paged, in separate regions", async () => {
    const r = await machine.exec(() => {
      const np = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 100, "RulN");
      const pg = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 100, "RulP");
      writeU32(np, 1);
      writeU32(pg, 2);
      const values = [readU32(np), readU32(pg)];
      ExFreePoolWithTag(np, "RulN");
      ExFreePoolWithTag(pg, "RulP");
      return { np, pg, values };
    });
    expect(r.values).toEqual([1, 2]);
    expect(r.np).toBeGreaterThanOrEqual(POOL_START);
    expect(r.np).toBeLessThan(POOL_START + 0x40000000);
    expect(r.pg).toBeGreaterThanOrEqual(PAGED_POOL_START);
    expect(r.pg).toBeLessThan(PAGED_POOL_START + 0x40000000);
  });

  it("paged pool pages are pageable; nonpaged pool pages are not", async () => {
    const r = await machine.exec(() => {
      const np = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 2 * PAGE, "RulN");
      const pg = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 2 * PAGE, "RulP");
      MmTrimPageable();
      const valid = [MmIsAddressValid(np), MmIsAddressValid(pg)];
      ExFreePoolWithTag(np, "RulN");
      ExFreePoolWithTag(pg, "RulP");
      return valid;
    });
    expect(r).toEqual([true, false]);
  });

  it("Paged pool at IRQL > APC_LEVEL is a bug: 0xC4 / 0x01 under the verifier (P2 IRQL, P3 type, P4 bytes)", async () => {
    const bc = await crash(() => ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 32, "RulP"), { irql: DISPATCH_LEVEL });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0x01, DISPATCH_LEVEL, POOL_TYPE.PagedPool, 32);
  });

  it("paged pool at APC_LEVEL is allowed", async () => {
    const va = await machine.exec(() => {
      const p = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 32, "RulP");
      ExFreePoolWithTag(p, "RulP");
      return p;
    }, { irql: APC_LEVEL });
    expect(va).not.toBe(0);
  });

  it("Nonpaged pool at IRQL > DISPATCH_LEVEL is a bug: 0xC4 / 0x02 under the verifier", async () => {
    const bc = await crash(() => ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 48, "RulN"), { irql: DIRQL });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0x02, DIRQL, POOL_TYPE.NonPagedPool, 48);
  });

  it("Zero-byte requests are 0xC2 BAD_POOL_CALLER / 0x00 (P3 type, P4 tag)", async () => {
    const bc = await crash(() => ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 0, 0x6C755230));
    expectBugCheck(bc, BAD_POOL_CALLER, 0x00, 0, POOL_TYPE.PagedPool, 0x6C755230);
  });

  it("Double frees are 0xC2 / 0x07 (P4 the block), paged pool too", async () => {
    let va = 0;
    const bc = await crash(() => {
      va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 40, "RulP");
      ExFreePoolWithTag(va, "RulP");
      ExFreePoolWithTag(va, "RulP");
    });
    expectBugCheck(bc, BAD_POOL_CALLER, 0x07, undefined, undefined, va);
  });

  it("A double free's P3 is the block's pool header: sizes and a PoolType of 0 (free) low, the tag high", async () => {
    let va = 0;
    let before = 0n;
    const bc = await crash(() => {
      va = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 40, "RulQ");
      // A neighbour keeps the page in the pool, so the freed block's header is still there to read.
      ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 40, "RulN");
      before = MM().pool.headerContents(va);
      ExFreePoolWithTag(va, "RulQ");
      ExFreePoolWithTag(va, "RulQ");
    });
    // "RulQ" in memory order is the high 32 bits; the PoolType byte (bits 31:24) was NonPagedPool + 1 before the free.
    expect(before >> 32n).toBe(0x51_6C_75_52n);
    expect((before >> 24n) & 0xFFn).toBe(BigInt(POOL_TYPE.NonPagedPool + 1));
    expect(bc.parameters[2]).toBe(before & ~0xFF000000n);
    expect(bc.parameters[3]).toBe(BigInt(va));
  });

  it("Wrong tags are 0xC2 / 0x0A (P2 address, P3 allocator's tag, P4 tag used)", async () => {
    let va = 0;
    const bc = await crash(() => {
      va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 40, 0x506C7552);
      ExFreePoolWithTag(va, 0x58585858);
    });
    expectBugCheck(bc, BAD_POOL_CALLER, 0x0A, va, 0x506C7552, 0x58585858);
  });

  it("Allocations of a page or more are page-aligned, in both pools", async () => {
    const vas = await machine.exec(() => {
      const small = [ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 24, "RulS"), ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 24, "RulS")];
      const out: number[] = [];
      for (const type of [POOL_TYPE.NonPagedPool, POOL_TYPE.PagedPool]) {
        for (const bytes of [PAGE, PAGE + 1, 3 * PAGE + 7]) {
          const p = ExAllocatePoolWithTag(type, bytes, "RulA");
          RtlFillMemory(p, bytes, 0xEE);
          out.push(p);
        }
      }
      for (const p of out) ExFreePoolWithTag(p, "RulA");
      for (const p of small) ExFreePoolWithTag(p, "RulS");
      return out;
    });
    for (const va of vas) expect(va % PAGE).toBe(0);
  });

  it("freeing paged pool above APC_LEVEL is 0xC4 / 0x11 (WDK: P2 IRQL, P3 type, P4 address)", async () => {
    let va = 0;
    const bc = await crash(() => {
      va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 40, "RulP");
      KeRaiseIrql(DISPATCH_LEVEL);
      ExFreePoolWithTag(va, "RulP");
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0x11, DISPATCH_LEVEL, POOL_TYPE.PagedPool, va);
  });

  it("freeing something that is not a pool block is 0xC2 / 0x40 for a user address (P3 start of system space)", async () => {
    const bc = await crash(() => ExFreePoolWithTag(0x10000, "RulX"));
    expectBugCheck(bc, BAD_POOL_CALLER, 0x40, 0x10000, 0x800000000000);
  });

  it("per-tag and per-driver figures: allocations, frees and bytes in use, nonpaged and paged", async () => {
    const m = await bootDefault();
    const r = await m.exec(() => asDriver("tagdrv", "Figures", () => {
      const a = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 100, "Fig1");
      const b = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 300, "Fig1");
      const c = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 5000, "Fig1");
      const d = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "Fig2");
      ExFreePoolWithTag(a, "Fig1");
      ExFreePoolWithTag(d, "Fig2");
      void b;
      void c;
      return { tags: poolUsed().filter((u) => u.tag.startsWith("Fig")), drivers: poolUsedByDriver().filter((u) => u.driver === "tagdrv") };
    }));
    expect(r.tags).toEqual([
      { tag: "Fig1", nonPaged: { allocations: 2, frees: 1, bytes: 300 }, paged: { allocations: 1, frees: 0, bytes: 5000 }, drivers: ["tagdrv"] },
      { tag: "Fig2", nonPaged: { allocations: 0, frees: 0, bytes: 0 }, paged: { allocations: 1, frees: 1, bytes: 0 }, drivers: ["tagdrv"] },
    ]);
    expect(r.drivers).toEqual([{ driver: "tagdrv", nonPaged: { allocations: 2, frees: 1, bytes: 300 }, paged: { allocations: 2, frees: 1, bytes: 5000 } }]);
  });
});

describe("Memory: MDLs", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, size) = ((va & 0xFFF) + size + 0xFFF) >> 12", () => {
    const cases: [number, number][] = [[0, 0], [0, 1], [0, PAGE], [0, PAGE + 1], [0xFFF, 1], [0xFFF, 2], [0x1234, 0x3000], [0x800000000FFF, 0x10000], [0x7FFE0010, 5000]];
    for (const [va, size] of cases) {
      expect(ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, size)).toBe((Number(BigInt(va) & 0xFFFn) + size + 0xFFF) >> 12);
    }
    expect(BYTE_OFFSET(0x800000001234)).toBe(0x234);
    expect(PAGE_ALIGN(0x800000001234)).toBe(0x800000001000);
    expect(MmSizeOfMdl(0x1FF0, 0x20)).toBe(48 + 2 * 8);
  });

  it("An MDL holds StartVa (page-aligned), ByteOffset, ByteCount, flags, the owning process and one physical page number per spanned page", async () => {
    const r = await inProcess(machine, () => {
      const base = VirtualAlloc(4 * PAGE);
      const va = base + 0x7F0;
      const length = 2 * PAGE + 0x20;
      const mdl = IoAllocateMdl(va, length, false, false, null)!;
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.UserMode, LOCK_OPERATION.IoReadAccess);
      const physical = [0, 1, 2].map((i) => MmGetPhysicalAddress(base + i * PAGE) / PAGE);
      const out = {
        va, base, StartVa: mdl.StartVa, ByteOffset: mdl.ByteOffset, ByteCount: mdl.ByteCount, flags: mdl.MdlFlags,
        ownProcess: mdl.Process === PsGetCurrentProcess() && mdl.Process === KeGetCurrentThread()!.process,
        pfns: [...MmGetMdlPfnArray(mdl)], physical,
        accessors: [MmGetMdlVirtualAddress(mdl), MmGetMdlByteCount(mdl), MmGetMdlByteOffset(mdl)],
      };
      MmUnlockPages(mdl);
      IoFreeMdl(mdl);
      return out;
    });
    expect(r.StartVa).toBe(r.base);
    expect(r.ByteOffset).toBe(0x7F0);
    expect(r.ByteCount).toBe(2 * PAGE + 0x20);
    expect(r.flags & MDL_PAGES_LOCKED).toBe(MDL_PAGES_LOCKED);
    expect(r.ownProcess).toBe(true);
    expect(r.pfns).toEqual(r.physical);
    expect(r.accessors).toEqual([r.va, 2 * PAGE + 0x20, 0x7F0]);
  });

  it("MmProbeAndLockPages faults in and pins every page, fills the page numbers and sets MDL_PAGES_LOCKED and MDL_WRITE_OPERATION (for a write)", async () => {
    const r = await inProcess(machine, () => {
      const base = VirtualAlloc(3 * PAGE);
      writeU32(base + PAGE, 0xFEED);
      MmTrimPageable(); // the buffer is in the page file now
      const before = [0, 1, 2].map((i) => MmIsAddressValid(base + i * PAGE));
      const mdl = IoAllocateMdl(base, 3 * PAGE, false, false, null)!;
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.UserMode, LOCK_OPERATION.IoWriteAccess);
      MmTrimPageable(); // locked pages stay
      const after = [0, 1, 2].map((i) => MmIsAddressValid(base + i * PAGE));
      const pfns = [...MmGetMdlPfnArray(mdl)];
      const physical = [0, 1, 2].map((i) => MmGetPhysicalAddress(base + i * PAGE) / PAGE);
      const locks = pfns.map((p) => MM().pfn.lockCount(p));
      const flags = mdl.MdlFlags;
      const value = readU32(base + PAGE);
      MmUnlockPages(mdl);
      IoFreeMdl(mdl);
      return { before, after, pfns, physical, locks, flags, value };
    });
    expect(r.before).toEqual([false, false, false]);
    expect(r.after).toEqual([true, true, true]);
    expect(r.pfns).toEqual(r.physical);
    expect(r.locks).toEqual([1, 1, 1]);
    expect(r.flags & (MDL_PAGES_LOCKED | MDL_WRITE_OPERATION)).toBe(MDL_PAGES_LOCKED | MDL_WRITE_OPERATION);
    expect(r.value).toBe(0xFEED);
  });

  it("MmProbeAndLockPages with IoReadAccess does not set MDL_WRITE_OPERATION", async () => {
    const flags = await inProcess(machine, () => {
      const base = VirtualAlloc(PAGE);
      const mdl = IoAllocateMdl(base, 100, false, false, null)!;
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.UserMode, LOCK_OPERATION.IoReadAccess);
      const f = mdl.MdlFlags;
      MmUnlockPages(mdl);
      IoFreeMdl(mdl);
      return f;
    });
    expect(flags & MDL_PAGES_LOCKED).toBe(MDL_PAGES_LOCKED);
    expect(flags & MDL_WRITE_OPERATION).toBe(0);
  });

  it("a bad user address raises STATUS_ACCESS_VIOLATION, which the caller handles; nothing stays locked", async () => {
    const r = await inProcess(machine, () => {
      const base = VirtualAlloc(PAGE);
      const locksBefore = MM().pfn.lockCount(MmGetPhysicalAddress(base) / PAGE);
      // The buffer runs off the end of the allocation into unmapped user space.
      const mdl = IoAllocateMdl(base, 3 * PAGE, false, false, null)!;
      let status = 0;
      try {
        MmProbeAndLockPages(mdl, KPROCESSOR_MODE.UserMode, LOCK_OPERATION.IoWriteAccess);
      } catch (e) {
        status = e instanceof NtStatusException ? e.status : -1;
      }
      const flags = mdl.MdlFlags;
      const locksAfter = MM().pfn.lockCount(MmGetPhysicalAddress(base) / PAGE);
      // A system address probed for UserMode is refused the same way.
      const sys = IoAllocateMdl(0x800000001000, 16, false, false, null)!;
      let sysStatus = 0;
      try {
        MmProbeAndLockPages(sys, KPROCESSOR_MODE.UserMode, LOCK_OPERATION.IoReadAccess);
      } catch (e) {
        sysStatus = e instanceof NtStatusException ? e.status : -1;
      }
      IoFreeMdl(mdl);
      IoFreeMdl(sys);
      return { status, flags, locksBefore, locksAfter, sysStatus };
    });
    expect(r.status).toBe(STATUS_ACCESS_VIOLATION);
    expect(r.sysStatus).toBe(STATUS_ACCESS_VIOLATION);
    expect(r.flags & MDL_PAGES_LOCKED).toBe(0);
    expect(r.locksAfter).toBe(r.locksBefore);
  });

  it("MmUnlockPages unpins, unmapping a system mapping first", async () => {
    const r = await inProcess(machine, () => {
      const base = VirtualAlloc(2 * PAGE);
      const mdl = IoAllocateMdl(base + 8, PAGE, false, false, null)!;
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.UserMode, LOCK_OPERATION.IoWriteAccess);
      const sys = MmGetSystemAddressForMdlSafe(mdl, MM_PAGE_PRIORITY.NormalPagePriority);
      const mappedBefore = MmIsAddressValid(sys);
      const pfns = [...MmGetMdlPfnArray(mdl)];
      MmUnlockPages(mdl);
      const out = {
        mappedBefore, mappedAfter: MmIsAddressValid(sys), flags: mdl.MdlFlags,
        locks: pfns.map((p) => MM().pfn.lockCount(p)),
      };
      IoFreeMdl(mdl);
      return out;
    });
    expect(r.mappedBefore).toBe(true);
    expect(r.mappedAfter).toBe(false);
    expect(r.flags & (MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA)).toBe(0);
    expect(r.locks).toEqual([0, 0]);
  });

  it("MmBuildMdlForNonPagedPool fills page numbers, sets MDL_SOURCE_IS_NONPAGED_POOL and MappedSystemVa, and does not lock", async () => {
    const r = await machine.exec(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 3 * PAGE, "RulB");
      const mdl = IoAllocateMdl(va + 0x100, 2 * PAGE, false, false, null)!;
      MmBuildMdlForNonPagedPool(mdl);
      const physical = [0, 1, 2].map((i) => MmGetPhysicalAddress(va + i * PAGE) / PAGE);
      const out = { va, flags: mdl.MdlFlags, mapped: mdl.MappedSystemVa, pfns: [...MmGetMdlPfnArray(mdl)], physical, process: mdl.Process, locks: MmGetMdlPfnArray(mdl).map((p) => MM().pfn.lockCount(p)) };
      IoFreeMdl(mdl);
      ExFreePoolWithTag(va, "RulB");
      return out;
    });
    expect(r.flags & MDL_SOURCE_IS_NONPAGED_POOL).toBe(MDL_SOURCE_IS_NONPAGED_POOL);
    expect(r.flags & MDL_PAGES_LOCKED).toBe(0);
    expect(r.mapped).toBe(r.va + 0x100);
    expect(r.pfns).toEqual(r.physical);
    expect(r.process).toBe(null);
    expect(r.locks).toEqual([0, 0, 0]);
  });

  it("MmGetSystemAddressForMdlSafe returns MappedSystemVa if the MDL describes nonpaged memory", async () => {
    const r = await machine.exec(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 200, "RulG");
      const mdl = IoAllocateMdl(va, 200, false, false, null)!;
      MmBuildMdlForNonPagedPool(mdl);
      const sys = MmGetSystemAddressForMdlSafe(mdl, MM_PAGE_PRIORITY.NormalPagePriority);
      const flags = mdl.MdlFlags;
      IoFreeMdl(mdl);
      ExFreePoolWithTag(va, "RulG");
      return { va, sys, flags };
    });
    expect(r.sys).toBe(r.va);
    expect(r.flags & MDL_MAPPED_TO_SYSTEM_VA).toBe(0);
  });

  it("MmGetSystemAddressForMdlSafe maps locked pages into system space (MDL_MAPPED_TO_SYSTEM_VA) and returns that address plus ByteOffset; again, the same address", async () => {
    const r = await inProcess(machine, () => {
      const base = VirtualAlloc(3 * PAGE);
      const bytes = new Uint8Array(2 * PAGE).map((_, i) => (i * 7 + 1) & 0xFF);
      writeBytes(base + 0x345, bytes);
      const mdl = IoAllocateMdl(base + 0x345, bytes.length, false, false, null)!;
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.UserMode, LOCK_OPERATION.IoWriteAccess);
      const sys = MmGetSystemAddressForMdlSafe(mdl, MM_PAGE_PRIORITY.NormalPagePriority);
      const again = MmGetSystemAddressForMdlSafe(mdl, MM_PAGE_PRIORITY.NormalPagePriority);
      const seen = readBytes(sys, bytes.length);
      // Writes through the system address land in the user's buffer.
      writeU32(sys + 4, 0xABCDEF01);
      const userSees = readU32(base + 0x345 + 4);
      const out = { sys, again, mapped: mdl.MappedSystemVa, flags: mdl.MdlFlags, same: seen.every((b, i) => b === bytes[i]), userSees };
      MmUnlockPages(mdl);
      IoFreeMdl(mdl);
      return out;
    });
    expect(r.sys).toBeGreaterThanOrEqual(SYSTEM_PTE_START);
    expect(r.sys).toBeLessThan(SYSTEM_PTE_START + SYSTEM_PTE_SIZE);
    expect(r.sys % PAGE).toBe(0x345);
    expect(r.again).toBe(r.sys);
    expect(r.mapped).toBe(r.sys);
    expect(r.flags & MDL_MAPPED_TO_SYSTEM_VA).toBe(MDL_MAPPED_TO_SYSTEM_VA);
    expect(r.same).toBe(true);
    expect(r.userSees).toBe(0xABCDEF01);
  });

  it("MmGetSystemAddressForMdlSafe returns null when out of system address space", async () => {
    const m = await bootDefault();
    const r = await m.runProgram("no-ptes", async () => {
      const base = VirtualAlloc(2 * PAGE);
      const mdl = IoAllocateMdl(base, 2 * PAGE, false, false, null)!;
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.UserMode, LOCK_OPERATION.IoReadAccess);
      // Use up system PTE space but for one page.
      const ptes = MM().systemPtes;
      const size = SYSTEM_PTE_SIZE - ptes.used - PAGE;
      const held = ptes.allocate(size);
      const sys = MmGetSystemAddressForMdlSafe(mdl, MM_PAGE_PRIORITY.NormalPagePriority);
      const flags = mdl.MdlFlags;
      ptes.release(held, size);
      const retry = MmGetSystemAddressForMdlSafe(mdl, MM_PAGE_PRIORITY.NormalPagePriority);
      MmUnlockPages(mdl);
      IoFreeMdl(mdl);
      return { held, sys, flags, retry };
    });
    expect(r.held).toBeGreaterThan(0);
    expect(r.sys).toBe(0);
    expect(r.flags & MDL_MAPPED_TO_SYSTEM_VA).toBe(0);
    expect(r.retry).not.toBe(0);
  });
});

describe("Memory bug checks", () => {
  it("0xD1: a driver touching not-resident pageable memory at DISPATCH_LEVEL (P1 address, P2 IRQL, P3 0 read, P4 code address)", async () => {
    let va = 0;
    const bc = await crash(() => asDriver("bcdrv", "TouchPaged", () => {
      va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "RulP");
      MmTrimPageable();
      KeRaiseIrql(DISPATCH_LEVEL);
      readU32(va + 12);
    }));
    expectBugCheck(bc, DRIVER_IRQL_NOT_LESS_OR_EQUAL, va + 12, DISPATCH_LEVEL, 0);
    expect(Number(bc.parameters[3])).not.toBe(0);
  });

  it("0xA: the kernel touching not-resident pageable memory at DISPATCH_LEVEL", async () => {
    let va = 0;
    const bc = await crash(() => {
      va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "RulP");
      MmTrimPageable();
      const old = KeRaiseIrql(DISPATCH_LEVEL);
      writeU32(va, 5);
      KeLowerIrql(old);
    });
    expectBugCheck(bc, IRQL_NOT_LESS_OR_EQUAL, va, DISPATCH_LEVEL, 1);
  });

  it("0x50: invalid (never mapped) system memory below DISPATCH_LEVEL is not paged in: PAGE_FAULT_IN_NONPAGED_AREA", async () => {
    const bc = await crash(() => asDriver("bcdrv", "TouchFreed", () => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 2 * PAGE, "RulP");
      ExFreePoolWithTag(va, "RulP");
      // A page-sized block's pages go back when it is freed: the address is invalid now.
      readU32(va);
    }));
    expectBugCheck(bc, PAGE_FAULT_IN_NONPAGED_AREA, undefined, 0);
    expect(bc.context.routine).toBe("TouchFreed");
  });
});
