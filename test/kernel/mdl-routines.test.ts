// The MDL routines beyond the spec's Memory rules, from the WDK: IoAllocateMdl and the
// IRP's MDL chain, IoFreeMdl, IoBuildPartialMdl, MmMapLockedPagesSpecifyCache /
// MmUnmapLockedPages, MmPrepareMdlForReuse, the page frame array in guest memory, and the
// Driver Verifier MDL checks (Bug Check 0xC4 subcodes 0x70-0xB8).
import { beforeAll, describe, expect, it } from "vitest";
import {
  DISPATCH_LEVEL, type Machine, KeRaiseIrql, ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE, readU32, readU64, writeU32,
  VirtualAlloc, MmIsAddressValid, IoAllocateIrp, IoAllocateMdl, IoFreeMdl,
  IoBuildPartialMdl, MmProbeAndLockPages, MmUnlockPages, MmBuildMdlForNonPagedPool, MmGetSystemAddressForMdlSafe,
  MmMapLockedPagesSpecifyCache, MmUnmapLockedPages, MmPrepareMdlForReuse, MmInitializeMdl, MmGetMdlPfnArray, MmGetMdlVirtualAddress,
  MDL, LOCK_OPERATION, KPROCESSOR_MODE, MM_PAGE_PRIORITY, MEMORY_CACHING_TYPE, MdlMappingNoWrite, MDL_ALLOCATED_FIXED_SIZE,
  MDL_PARTIAL, MDL_PARTIAL_HAS_BEEN_MAPPED, MDL_PARENT_MAPPED_SYSTEM_VA, MDL_MAPPED_TO_SYSTEM_VA, MDL_PAGES_LOCKED,
  MDL_SOURCE_IS_NONPAGED_POOL, MDL_WRITE_OPERATION, poolUsed, NtStatusException, STATUS_ACCESS_VIOLATION, MmTrimPageable,
} from "../../src/index.js";
import { USER_MAPPING_START } from "../../src/mm/address-space.js";
import { asDriver, bootDefault, crash, expectBugCheck } from "../support/kernel-harness.js";

const DRIVER_VERIFIER_DETECTED_VIOLATION = 0xC4;
const PFN_LIST_CORRUPT = 0x4E;
const PAGE = 4096;
const DIRQL = 5;

function inProcess<T>(machine: Machine, body: () => T): Promise<T> {
  return machine.runProgram("mdl-test", async () => body());
}

/** Locks `length` bytes of a fresh user buffer for write; returns the buffer and the MDL. */
function lockedUserBuffer(length: number, offset = 0): { base: number; mdl: MDL } {
  const base = VirtualAlloc(length + offset + PAGE);
  const mdl = IoAllocateMdl(base + offset, length, false, false, null)!;
  MmProbeAndLockPages(mdl, KPROCESSOR_MODE.UserMode, LOCK_OPERATION.IoWriteAccess);
  return { base, mdl };
}

describe("IoAllocateMdl and IoFreeMdl", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("with an IRP, a primary buffer's MDL becomes Irp.MdlAddress and secondary ones are appended to the chain", async () => {
    const r = await machine.exec(() => {
      const irp = IoAllocateIrp(1, false)!;
      const a = IoAllocateMdl(0x10000, 100, false, false, irp)!;
      const b = IoAllocateMdl(0x20000, 100, true, false, irp)!;
      const c = IoAllocateMdl(0x30000, 100, true, false, irp)!;
      const out = { head: irp.MdlAddress === a, aNext: a.Next === b, bNext: b.Next === c, cNext: c.Next };
      for (const m of [a, b, c]) IoFreeMdl(m);
      return out;
    });
    expect(r).toEqual({ head: true, aNext: true, bNext: true, cNext: null });
  });

  it("the MDL comes from nonpaged pool (tag \"Mdl \"), sized MmSizeOfMdl or the fixed size for small buffers (MDL_ALLOCATED_FIXED_SIZE)", async () => {
    const r = await machine.exec(() => asDriver("mdldrv", "Alloc", () => {
      const before = poolUsed().find((u) => u.tag === "Mdl ")?.nonPaged.allocations ?? 0;
      const small = IoAllocateMdl(0x10010, 3 * PAGE, false, false, null)!;
      const big = IoAllocateMdl(0x10010, 40 * PAGE, false, false, null)!;
      const used = poolUsed().find((u) => u.tag === "Mdl ")!;
      const out = {
        allocations: used.nonPaged.allocations - before, smallSize: small.Size, bigSize: big.Size,
        smallFixed: small.MdlFlags & MDL_ALLOCATED_FIXED_SIZE, bigFixed: big.MdlFlags & MDL_ALLOCATED_FIXED_SIZE,
        StartVa: small.StartVa, ByteOffset: small.ByteOffset, ByteCount: small.ByteCount,
      };
      IoFreeMdl(small);
      IoFreeMdl(big);
      return { ...out, inUseAfter: poolUsed().find((u) => u.tag === "Mdl ")!.nonPaged.bytes, drivers: used.drivers };
    }));
    expect(r.allocations).toBe(2);
    expect(r.smallFixed).toBe(MDL_ALLOCATED_FIXED_SIZE);
    expect(r.bigFixed).toBe(0);
    expect(r.smallSize).toBe(48 + 16 * 8);
    expect(r.bigSize).toBe(48 + 41 * 8);
    expect([r.StartVa, r.ByteOffset, r.ByteCount]).toEqual([0x10000, 0x10, 3 * PAGE]);
    expect(r.inUseAfter).toBe(0);
    expect(r.drivers).toContain("mdldrv");
  });

  it("a buffer larger than 4 GB - PAGE_SIZE gets no MDL (NULL)", async () => {
    const r = await machine.exec(() => IoAllocateMdl(0x10000, 2 ** 32, false, false, null));
    expect(r).toBe(null);
  });

  it("the page frame array lives in the MDL's pool block, after the 48-byte header", async () => {
    const r = await inProcess(machine, () => {
      const { mdl } = lockedUserBuffer(3 * PAGE, 0x10);
      const inMemory = [0, 1, 2, 3].map((i) => Number(readU64(mdl.address + 48 + i * 8)));
      const out = { inMemory, pfns: [...MmGetMdlPfnArray(mdl)] };
      MmUnlockPages(mdl);
      IoFreeMdl(mdl);
      return out;
    });
    expect(r.pfns.length).toBe(4);
    expect(r.inMemory).toEqual(r.pfns);
  });

  it("MmInitializeMdl sets up a caller-made MDL like IoAllocateMdl does", async () => {
    const r = await machine.exec(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 2 * PAGE, "MdlI");
      const mdl = new MDL();
      MmInitializeMdl(mdl, va + 0x20, PAGE);
      const fields = { Size: mdl.Size, StartVa: mdl.StartVa, ByteOffset: mdl.ByteOffset, ByteCount: mdl.ByteCount, flags: mdl.MdlFlags };
      MmBuildMdlForNonPagedPool(mdl);
      const pfns = [...MmGetMdlPfnArray(mdl)];
      ExFreePoolWithTag(va, "MdlI");
      return { va, fields, pfns: pfns.length };
    });
    expect(r.fields).toEqual({ Size: 48 + 2 * 8, StartVa: r.va, ByteOffset: 0x20, ByteCount: PAGE, flags: 0 });
    expect(r.pfns).toBe(2);
  });
});

describe("IoBuildPartialMdl", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("describes a subrange: its own StartVa/ByteOffset/ByteCount, the source's page numbers for it, MDL_PARTIAL", async () => {
    const r = await inProcess(machine, () => {
      const { base, mdl } = lockedUserBuffer(5 * PAGE, 0x100);
      const partial = IoAllocateMdl(base + 2 * PAGE + 0x80, PAGE, false, false, null)!;
      IoBuildPartialMdl(mdl, partial, base + 2 * PAGE + 0x80, PAGE);
      const out = {
        base, StartVa: partial.StartVa, ByteOffset: partial.ByteOffset, ByteCount: partial.ByteCount, flags: partial.MdlFlags,
        pfns: [...MmGetMdlPfnArray(partial)], source: [...MmGetMdlPfnArray(mdl)], sameProcess: partial.Process === mdl.Process,
      };
      // Length 0: to the end of the source.
      IoBuildPartialMdl(mdl, partial, base + PAGE, 0);
      const rest = { ByteCount: partial.ByteCount, va: MmGetMdlVirtualAddress(partial), pages: MmGetMdlPfnArray(partial).length };
      IoFreeMdl(partial);
      MmUnlockPages(mdl);
      IoFreeMdl(mdl);
      return { ...out, rest };
    });
    expect([r.StartVa, r.ByteOffset, r.ByteCount]).toEqual([r.base + 2 * PAGE, 0x80, PAGE]);
    expect(r.flags & MDL_PARTIAL).toBe(MDL_PARTIAL);
    expect(r.flags & MDL_PAGES_LOCKED).toBe(0);
    expect(r.flags & MDL_WRITE_OPERATION).toBe(MDL_WRITE_OPERATION);
    expect(r.pfns).toEqual(r.source.slice(2, 4));
    expect(r.sameProcess).toBe(true);
    expect(r.rest).toEqual({ ByteCount: 4 * PAGE + 0x100, va: r.base + PAGE, pages: 5 });
  });

  it("a partial MDL of a mapped MDL shares its system mapping (no new mapping)", async () => {
    const r = await inProcess(machine, () => {
      const { base, mdl } = lockedUserBuffer(3 * PAGE);
      const sys = MmGetSystemAddressForMdlSafe(mdl, MM_PAGE_PRIORITY.NormalPagePriority);
      const partial = IoAllocateMdl(base + PAGE + 8, 100, false, false, null)!;
      IoBuildPartialMdl(mdl, partial, base + PAGE + 8, 100);
      const psys = MmGetSystemAddressForMdlSafe(partial, MM_PAGE_PRIORITY.NormalPagePriority);
      const flags = partial.MdlFlags;
      IoFreeMdl(partial);
      MmUnlockPages(mdl);
      IoFreeMdl(mdl);
      return { sys, psys, flags };
    });
    expect(r.psys).toBe(r.sys + PAGE + 8);
    expect(r.flags & MDL_PARENT_MAPPED_SYSTEM_VA).toBe(MDL_PARENT_MAPPED_SYSTEM_VA);
    expect(r.flags & MDL_PARTIAL_HAS_BEEN_MAPPED).toBe(0);
  });

  it("a partial MDL of an unmapped MDL gets its own mapping (MDL_PARTIAL_HAS_BEEN_MAPPED), released by MmPrepareMdlForReuse and by IoFreeMdl", async () => {
    const r = await inProcess(machine, () => {
      const { base, mdl } = lockedUserBuffer(3 * PAGE);
      writeU32(base + 2 * PAGE + 16, 0x600D);
      const partial = IoAllocateMdl(base, PAGE, false, false, null)!;
      IoBuildPartialMdl(mdl, partial, base + 2 * PAGE, PAGE);
      const sys1 = MmGetSystemAddressForMdlSafe(partial, MM_PAGE_PRIORITY.NormalPagePriority);
      const flags1 = partial.MdlFlags;
      const value = readU32(sys1 + 16);
      MmPrepareMdlForReuse(partial);
      const afterReuse = { valid: MmIsAddressValid(sys1), flags: partial.MdlFlags };
      IoBuildPartialMdl(mdl, partial, base + PAGE, PAGE);
      const sys2 = MmGetSystemAddressForMdlSafe(partial, MM_PAGE_PRIORITY.NormalPagePriority);
      IoFreeMdl(partial);
      const afterFree = MmIsAddressValid(sys2);
      const sourceMapped = mdl.MdlFlags & MDL_MAPPED_TO_SYSTEM_VA;
      MmUnlockPages(mdl);
      IoFreeMdl(mdl);
      return { flags1, value, afterReuse, afterFree, sourceMapped };
    });
    expect(r.flags1 & (MDL_MAPPED_TO_SYSTEM_VA | MDL_PARTIAL_HAS_BEEN_MAPPED)).toBe(MDL_MAPPED_TO_SYSTEM_VA | MDL_PARTIAL_HAS_BEEN_MAPPED);
    expect(r.value).toBe(0x600D);
    expect(r.afterReuse.valid).toBe(false);
    expect(r.afterReuse.flags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_PARTIAL_HAS_BEEN_MAPPED)).toBe(0);
    expect(r.afterFree).toBe(false);
    expect(r.sourceMapped).toBe(0);
  });

  it("a partial MDL of a nonpaged MDL has the nonpaged address directly", async () => {
    const r = await machine.exec(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 4 * PAGE, "MdlP");
      const mdl = IoAllocateMdl(va, 4 * PAGE, false, false, null)!;
      MmBuildMdlForNonPagedPool(mdl);
      const partial = IoAllocateMdl(va, PAGE, false, false, null)!;
      IoBuildPartialMdl(mdl, partial, va + 3 * PAGE + 5, 10);
      const sys = MmGetSystemAddressForMdlSafe(partial, MM_PAGE_PRIORITY.NormalPagePriority);
      const flags = partial.MdlFlags;
      IoFreeMdl(partial);
      IoFreeMdl(mdl);
      ExFreePoolWithTag(va, "MdlP");
      return { va, sys, flags };
    });
    expect(r.sys).toBe(r.va + 3 * PAGE + 5);
    expect(r.flags & MDL_SOURCE_IS_NONPAGED_POOL).toBe(MDL_SOURCE_IS_NONPAGED_POOL);
  });
});

describe("MmMapLockedPagesSpecifyCache and MmUnmapLockedPages", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("UserMode maps the locked pages into the current process's user space; unmapping removes the view, the pages stay locked", async () => {
    const r = await machine.runProgram("user-view", async () => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 2 * PAGE, "MdlU");
      writeU32(va + PAGE + 0x44, 0x5EED);
      const mdl = IoAllocateMdl(va + 0x40, PAGE + 8, false, false, null)!;
      MmBuildMdlForNonPagedPool(mdl);
      const view = MmMapLockedPagesSpecifyCache(mdl, KPROCESSOR_MODE.UserMode, MEMORY_CACHING_TYPE.MmCached, null, false, MM_PAGE_PRIORITY.NormalPagePriority);
      const seen = readU32(view + PAGE + 4);
      MmUnmapLockedPages(view, mdl);
      const after = MmIsAddressValid(view);
      IoFreeMdl(mdl);
      ExFreePoolWithTag(va, "MdlU");
      return { view, seen, after };
    });
    expect(r.view).toBeGreaterThanOrEqual(USER_MAPPING_START);
    expect(r.view % PAGE).toBe(0x40);
    expect(r.seen).toBe(0x5EED);
    expect(r.after).toBe(false);
  });

  it("MdlMappingNoWrite maps read-only: a write through the mapping faults", async () => {
    const bc = await crash(() => asDriver("mdldrv", "WriteReadOnly", () => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, PAGE, "MdlR");
      const mdl = IoAllocateMdl(va, PAGE, false, false, null)!;
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoReadAccess);
      const ro = MmMapLockedPagesSpecifyCache(mdl, KPROCESSOR_MODE.KernelMode, MEMORY_CACHING_TYPE.MmCached, null, false, MM_PAGE_PRIORITY.NormalPagePriority | MdlMappingNoWrite);
      readU32(ro);
      writeU32(ro, 1);
    }));
    // A protection fault on system memory: 0x50 with P2 2 = write.
    expect(bc.code).toBe(0x50);
    expect(Number(bc.parameters[1])).toBe(2);
  });
});

describe("Driver Verifier MDL checks (0xC4)", () => {
  it("MmProbeAndLockPages above DISPATCH_LEVEL is 0xC4 / 0x70 (P2 IRQL, P3 MDL, P4 access mode)", async () => {
    let mdl: MDL | null = null;
    const bc = await crash(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 64, "MdlX");
      mdl = IoAllocateMdl(va, 64, false, false, null)!;
      KeRaiseIrql(DIRQL);
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoReadAccess);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0x70, DIRQL, mdl!.address, KPROCESSOR_MODE.KernelMode);
  });

  it("locking an MDL twice is 0xC4 / 0xB0 (P2 MDL, P3 flags, P4 the wrong flags)", async () => {
    let mdl: MDL | null = null;
    const bc = await crash(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "MdlX");
      mdl = IoAllocateMdl(va, 64, false, false, null)!;
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoReadAccess);
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoReadAccess);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0xB0, mdl!.address, MDL_PAGES_LOCKED | MDL_ALLOCATED_FIXED_SIZE, MDL_PAGES_LOCKED);
  });

  it("MmProbeAndLockPages on an MDL built for nonpaged pool is 0xC4 / 0xB0", async () => {
    const bc = await crash(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 64, "MdlX");
      const mdl = IoAllocateMdl(va, 64, false, false, null)!;
      MmBuildMdlForNonPagedPool(mdl);
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoReadAccess);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0xB0, undefined, undefined, MDL_SOURCE_IS_NONPAGED_POOL);
  });

  it("MmUnlockPages on an MDL never locked is 0xC4 / 0x7C (P2 MDL, P3 flags)", async () => {
    let mdl: MDL | null = null;
    const bc = await crash(() => {
      mdl = IoAllocateMdl(0x10000, 64, false, false, null)!;
      MmUnlockPages(mdl);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0x7C, mdl!.address, MDL_ALLOCATED_FIXED_SIZE, 0);
  });

  it("without the verifier, unlocking pages that are not locked is 0x4E PFN_LIST_CORRUPT / 0x07", async () => {
    const bc = await crash(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "MdlX");
      const mdl = IoAllocateMdl(va, 64, false, false, null)!;
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoReadAccess);
      MmUnlockPages(mdl);
      MmUnlockPages(mdl);
    }, {}, { verifier: false });
    expectBugCheck(bc, PFN_LIST_CORRUPT, 0x07);
    expect(bc.bugCheckName).toBe("PFN_LIST_CORRUPT");
  });

  it("MmUnlockPages on an MDL built for nonpaged pool is 0xC4 / 0x7D", async () => {
    const bc = await crash(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 64, "MdlX");
      const mdl = IoAllocateMdl(va, 64, false, false, null)!;
      MmBuildMdlForNonPagedPool(mdl);
      MmUnlockPages(mdl);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0x7D);
  });

  it("MmUnlockPages on a partial MDL is 0xC4 / 0xB4 (P4 MDL_PARTIAL)", async () => {
    const bc = await crash(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 2 * PAGE, "MdlX");
      const mdl = IoAllocateMdl(va, 2 * PAGE, false, false, null)!;
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoReadAccess);
      const partial = IoAllocateMdl(va, PAGE, false, false, null)!;
      IoBuildPartialMdl(mdl, partial, va, PAGE);
      MmUnlockPages(partial);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0xB4, undefined, undefined, MDL_PARTIAL);
  });

  it("MmUnlockPages above DISPATCH_LEVEL is 0xC4 / 0x78", async () => {
    const bc = await crash(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "MdlX");
      const mdl = IoAllocateMdl(va, 64, false, false, null)!;
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoReadAccess);
      KeRaiseIrql(DIRQL);
      MmUnlockPages(mdl);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0x78, DIRQL);
  });

  it("MmBuildMdlForNonPagedPool on paged pool is 0xC4 / 0x7F (P2 IRQL, P3 MDL, P4 flags)", async () => {
    let mdl: MDL | null = null;
    const bc = await crash(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "MdlX");
      mdl = IoAllocateMdl(va, 64, false, false, null)!;
      MmBuildMdlForNonPagedPool(mdl);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0x7F, 0, mdl!.address, MDL_ALLOCATED_FIXED_SIZE);
  });

  it("MmMapLockedPagesSpecifyCache of an MDL whose pages are not locked is 0xC4 / 0xB3", async () => {
    const bc = await crash(() => {
      const mdl = IoAllocateMdl(0x10000, 64, false, false, null)!;
      MmGetSystemAddressForMdlSafe(mdl, MM_PAGE_PRIORITY.NormalPagePriority);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0xB3, undefined, undefined, MDL_PAGES_LOCKED);
  });

  it("MmMapLockedPagesSpecifyCache of an MDL already mapped is 0xC4 / 0xB2", async () => {
    const bc = await crash(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "MdlX");
      const mdl = IoAllocateMdl(va, 64, false, false, null)!;
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoReadAccess);
      MmMapLockedPagesSpecifyCache(mdl, KPROCESSOR_MODE.KernelMode, MEMORY_CACHING_TYPE.MmCached, null, false, 16);
      MmMapLockedPagesSpecifyCache(mdl, KPROCESSOR_MODE.KernelMode, MEMORY_CACHING_TYPE.MmCached, null, false, 16);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0xB2, undefined, undefined, MDL_MAPPED_TO_SYSTEM_VA);
  });

  it("MmMapLockedPagesSpecifyCache with BugCheckOnFailure TRUE is 0xC4 / 0x82", async () => {
    const bc = await crash(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "MdlX");
      const mdl = IoAllocateMdl(va, 64, false, false, null)!;
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoReadAccess);
      MmMapLockedPagesSpecifyCache(mdl, KPROCESSOR_MODE.KernelMode, MEMORY_CACHING_TYPE.MmCached, null, true, 16);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0x82);
  });

  it("MmMapLockedPagesSpecifyCache in kernel mode above DISPATCH_LEVEL is 0xC4 / 0x76", async () => {
    const bc = await crash(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "MdlX");
      const mdl = IoAllocateMdl(va, 64, false, false, null)!;
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoReadAccess);
      KeRaiseIrql(DIRQL);
      MmGetSystemAddressForMdlSafe(mdl, 16);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0x76, DIRQL);
  });

  it("IoFreeMdl while the pages are still mapped is 0xC4 / 0xB8", async () => {
    const bc = await crash(() => {
      const va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "MdlX");
      const mdl = IoAllocateMdl(va, 64, false, false, null)!;
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoReadAccess);
      MmGetSystemAddressForMdlSafe(mdl, 16);
      IoFreeMdl(mdl);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0xB8);
  });

  it("a paged-out buffer probed at DISPATCH_LEVEL cannot be paged in: 0xD1 from a driver", async () => {
    let va = 0;
    const bc = await crash(() => asDriver("mdldrv", "ProbeAtDispatch", () => {
      va = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, "MdlX");
      const mdl = IoAllocateMdl(va, 64, false, false, null)!;
      MmTrimPageable();
      KeRaiseIrql(DISPATCH_LEVEL);
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoReadAccess);
    }));
    expectBugCheck(bc, 0xD1, va, DISPATCH_LEVEL, 0);
  });

  it("a bad user address probed for UserMode is STATUS_ACCESS_VIOLATION, not a bug check", async () => {
    const m = await bootDefault();
    const status = await m.runProgram("bad-probe", async () => {
      const mdl = IoAllocateMdl(0x7FFFFFFF0000 - 16, 64, false, false, null)!;
      try {
        MmProbeAndLockPages(mdl, KPROCESSOR_MODE.UserMode, LOCK_OPERATION.IoReadAccess);
        return 0;
      } catch (e) {
        return e instanceof NtStatusException ? e.status : -1;
      } finally {
        IoFreeMdl(mdl);
      }
    });
    expect(status).toBe(STATUS_ACCESS_VIOLATION);
  });
});
