// ExAllocatePool2 / ExAllocatePool3 and their wrappers against the WDK pages (POOL_FLAGS
// values, zeroing unless POOL_FLAG_UNINITIALIZED, NULL or a raised
// STATUS_INSUFFICIENT_RESOURCES for invalid flags, a zero tag or no memory), and the
// lookaside lists (hits and misses, Allocate/Free routines, statuses, IRQL rules).
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, ExAllocatePool2, ExAllocatePool3, ExAllocatePoolZero, ExAllocatePoolUninitialized, ExAllocatePoolQuotaZero,
  ExAllocatePoolWithQuotaTag, ExAllocatePoolQuotaUninitialized, ExInitializeDriverRuntime, ExDefaultNonPagedPoolType, DrvRtPoolNxOptIn,
  ExAllocatePoolWithTag, ExFreePoolWithTag, ExFreePool, POOL_TYPE, POOL_FLAG_NON_PAGED, POOL_FLAG_PAGED, POOL_FLAG_NON_PAGED_EXECUTE,
  POOL_FLAG_UNINITIALIZED, POOL_FLAG_CACHE_ALIGNED, POOL_FLAG_RAISE_ON_FAILURE, POOL_FLAG_SESSION, POOL_FLAG_USE_QUOTA, POOL_FLAG_SPECIAL_POOL,
  POOL_FLAG_RESERVED1, POOL_FLAG_OPTIONAL_END, POOL_QUOTA_FAIL_INSTEAD_OF_RAISE, POOL_EXTENDED_PARAMETER_TYPE, EX_POOL_PRIORITY, MM_ANY_NODE_OK,
  readU32, writeU32, readBytes, RtlFillMemory, NtStatusException, STATUS_INSUFFICIENT_RESOURCES, STATUS_SUCCESS, STATUS_INVALID_PARAMETER_4,
  STATUS_INVALID_PARAMETER_5, tryExcept, EXCEPTION_EXECUTE_HANDLER, KeRaiseIrql, KeLowerIrql, APC_LEVEL, DISPATCH_LEVEL, poolUsed,
  NPAGED_LOOKASIDE_LIST, PAGED_LOOKASIDE_LIST, LOOKASIDE_LIST_EX, ExInitializeNPagedLookasideList, ExAllocateFromNPagedLookasideList,
  ExFreeToNPagedLookasideList, ExDeleteNPagedLookasideList, ExInitializePagedLookasideList, ExAllocateFromPagedLookasideList,
  ExFreeToPagedLookasideList, ExDeletePagedLookasideList, ExInitializeLookasideListEx, ExAllocateFromLookasideListEx, ExFreeToLookasideListEx,
  ExDeleteLookasideListEx, ExFlushLookasideListEx, EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL, EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE,
  MINIMUM_LOOKASIDE_DEPTH, POOL_RAISE_IF_ALLOCATION_FAILURE, CONTAINING_RECORD,
} from "../../src/index.js";
import { MM, PAGED_POOL_START, POOL_START } from "../../src/mm/manager.js";
import { asDriver, bootDefault, crash, expectBugCheck } from "../support/kernel-harness.js";

const TAG = "P2ts";
const PAGE = 4096;
/** More than the machine has: every allocation of it fails. */
const TOO_BIG = 2 ** 40;

/** Status raised by `fn`, or the value it returned. */
function raisedBy(fn: () => unknown): unknown {
  return tryExcept(fn, EXCEPTION_EXECUTE_HANDLER, (code) => ({ raised: code }));
}

describe("ExAllocatePool2 and ExAllocatePool3", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("POOL_FLAGS have the values wdm.h gives them", () => {
    expect([POOL_FLAG_USE_QUOTA, POOL_FLAG_UNINITIALIZED, POOL_FLAG_SESSION, POOL_FLAG_CACHE_ALIGNED, POOL_FLAG_RESERVED1, POOL_FLAG_RAISE_ON_FAILURE,
      POOL_FLAG_NON_PAGED, POOL_FLAG_NON_PAGED_EXECUTE, POOL_FLAG_PAGED]).toEqual([0x1, 0x2, 0x4, 0x8, 0x10, 0x20, 0x40, 0x80, 0x100]);
    expect(POOL_FLAG_SPECIAL_POOL).toBe(0x100000000);
    expect(BigInt(POOL_FLAG_OPTIONAL_END)).toBe(0x8000000000000000n);
  });

  it("allocates zeroed memory from the pool the flags name (nonpaged, paged); freed with ExFreePoolWithTag", async () => {
    const r = await machine.exec(() => {
      // Dirty some pool first, so zeroing is visible.
      const dirty = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPoolNx, 256, TAG);
      RtlFillMemory(dirty, 256, 0xCC);
      ExFreePoolWithTag(dirty, TAG);
      const np = ExAllocatePool2(POOL_FLAG_NON_PAGED, 256, TAG);
      const pg = ExAllocatePool2(POOL_FLAG_PAGED, 100, TAG);
      const zeroed = readBytes(np, 256).every((b) => b === 0) && readBytes(pg, 100).every((b) => b === 0);
      writeU32(np, 0x12345678);
      const value = readU32(np);
      ExFreePoolWithTag(np, TAG);
      ExFreePoolWithTag(pg, TAG);
      return { np, pg, zeroed, value };
    });
    expect(r.zeroed).toBe(true);
    expect(r.value).toBe(0x12345678);
    expect(r.np).toBeGreaterThanOrEqual(POOL_START);
    expect(r.np).toBeLessThan(PAGED_POOL_START);
    expect(r.pg).toBeGreaterThanOrEqual(PAGED_POOL_START);
  });

  it("POOL_FLAG_UNINITIALIZED leaves the memory as it was", async () => {
    const r = await machine.exec(() => {
      const dirty = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, TAG);
      RtlFillMemory(dirty, 64, 0xCC);
      ExFreePoolWithTag(dirty, TAG);
      const again = ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_UNINITIALIZED, 64, TAG);
      const bytes = readBytes(again, 64);
      ExFreePoolWithTag(again, TAG);
      return { same: again === dirty, allCC: bytes.every((b) => b === 0xCC) };
    });
    expect(r).toEqual({ same: true, allCC: true });
  });

  it("POOL_FLAG_CACHE_ALIGNED aligns to 64 bytes; a page or more is page aligned", async () => {
    const r = await machine.exec(() => {
      const out: number[] = [];
      for (let i = 0; i < 5; i++) out.push(ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_CACHE_ALIGNED, 24 + i, TAG) % 64);
      const big = ExAllocatePool2(POOL_FLAG_PAGED, PAGE + 1, TAG);
      return { aligned: out, big: big % PAGE };
    });
    expect(r.aligned).toEqual([0, 0, 0, 0, 0]);
    expect(r.big).toBe(0);
  });

  it("invalid flags and a zero tag return NULL; with POOL_FLAG_RAISE_ON_FAILURE they raise STATUS_INSUFFICIENT_RESOURCES", async () => {
    const r = await machine.exec(() => [
      ExAllocatePool2(0, 16, TAG), // no pool type
      ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_PAGED, 16, TAG), // two pool types
      ExAllocatePool2(POOL_FLAG_PAGED | POOL_FLAG_RESERVED1, 16, TAG), // a reserved required flag
      ExAllocatePool2(POOL_FLAG_PAGED | 0x10000, 16, TAG), // an unknown required flag
      ExAllocatePool2(POOL_FLAG_PAGED | POOL_FLAG_SESSION, 16, TAG), // no session pool here
      ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 0), // tag 0
      ExAllocatePool2(POOL_FLAG_NON_PAGED, TOO_BIG, TAG), // no memory
      raisedBy(() => ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_PAGED | POOL_FLAG_RAISE_ON_FAILURE, 16, TAG)),
      raisedBy(() => ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_RAISE_ON_FAILURE, 16, 0)),
      raisedBy(() => ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_RAISE_ON_FAILURE, TOO_BIG, TAG)),
    ]);
    const raised = { raised: STATUS_INSUFFICIENT_RESOURCES };
    expect(r).toEqual([0, 0, 0, 0, 0, 0, 0, raised, raised, raised]);
  });

  it("optional (high 32-bit) flags that are unknown are ignored; POOL_FLAG_USE_QUOTA and NON_PAGED_EXECUTE allocate; bigint flags work", async () => {
    const r = await machine.exec(() => {
      const a = ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_SPECIAL_POOL | 2 ** 40, 16, TAG);
      const b = ExAllocatePool2(0x8000000000000040n, 16, TAG);
      const c = ExAllocatePool2(POOL_FLAG_PAGED | POOL_FLAG_USE_QUOTA, 16, TAG);
      const d = ExAllocatePool2(POOL_FLAG_NON_PAGED_EXECUTE, 16, TAG);
      for (const p of [a, b, c, d]) if (p) ExFreePool(p);
      return [a, b, c, d].map((p) => p !== 0);
    });
    expect(r).toEqual([true, true, true, true]);
  });

  it("ExAllocatePool3: priority parameters, NUMA node 0, and unhonourable required parameters fail unless optional", async () => {
    const r = await machine.exec(() => {
      const priority = (p: EX_POOL_PRIORITY) => [{ Type: POOL_EXTENDED_PARAMETER_TYPE.PoolExtendedParameterPriority, Optional: 0, Priority: p }];
      const results = [
        ExAllocatePool3(POOL_FLAG_NON_PAGED, 32, TAG, priority(EX_POOL_PRIORITY.HighPoolPriority), 1),
        ExAllocatePool3(POOL_FLAG_NON_PAGED, 32, TAG, priority(EX_POOL_PRIORITY.LowPoolPriority), 1),
        ExAllocatePool3(POOL_FLAG_NON_PAGED, 32, TAG, [{ Type: POOL_EXTENDED_PARAMETER_TYPE.PoolExtendedParameterNumaNode, Optional: 0, PreferredNode: 0 }], 1),
        ExAllocatePool3(POOL_FLAG_NON_PAGED, 32, TAG, [{ Type: POOL_EXTENDED_PARAMETER_TYPE.PoolExtendedParameterNumaNode, Optional: 0, PreferredNode: 3 | MM_ANY_NODE_OK }], 1),
        ExAllocatePool3(POOL_FLAG_NON_PAGED, 32, TAG, null, 0),
        ExAllocatePool3(POOL_FLAG_NON_PAGED, 32, TAG, [{ Type: POOL_EXTENDED_PARAMETER_TYPE.PoolExtendedParameterNumaNode, Optional: 0, PreferredNode: 3 }], 1),
        ExAllocatePool3(POOL_FLAG_NON_PAGED, 32, TAG, [{ Type: POOL_EXTENDED_PARAMETER_TYPE.PoolExtendedParameterSecurePool, Optional: 0 }], 1),
        ExAllocatePool3(POOL_FLAG_NON_PAGED, 32, TAG, [{ Type: 99 as POOL_EXTENDED_PARAMETER_TYPE, Optional: 0 }], 1),
        ExAllocatePool3(POOL_FLAG_NON_PAGED, 32, TAG, [{ Type: 99 as POOL_EXTENDED_PARAMETER_TYPE, Optional: 1 }], 1),
      ];
      for (const p of results) if (p) ExFreePool(p);
      return results.map((p) => p !== 0);
    });
    expect(r).toEqual([true, true, true, true, true, false, false, false, true]);
  });

  it("low priority fails first when memory runs low; high priority still succeeds", async () => {
    const m = await bootDefault();
    const r = await m.exec(() => {
      const pfn = MM().pfn;
      const held: number[] = [];
      // Take pages until the machine is just above its low-water mark.
      while (pfn.freePages > pfn.lowWaterPages + 2) held.push(ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_UNINITIALIZED, 64 * PAGE, TAG) || 0);
      const p = (priority: EX_POOL_PRIORITY) => ExAllocatePool3(POOL_FLAG_NON_PAGED, 8 * PAGE, TAG,
        [{ Type: POOL_EXTENDED_PARAMETER_TYPE.PoolExtendedParameterPriority, Optional: 0, Priority: priority }], 1);
      const low = p(EX_POOL_PRIORITY.LowPoolPriority);
      const high = p(EX_POOL_PRIORITY.HighPoolPriority);
      return { low, high: high !== 0 };
    });
    expect(r).toEqual({ low: 0, high: true });
  });

  it("ExAllocatePoolZero zeroes; ExAllocatePoolUninitialized does not; both return NULL on failure", async () => {
    const r = await machine.exec(() => {
      const dirty = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 48, TAG);
      RtlFillMemory(dirty, 48, 0xEE);
      ExFreePoolWithTag(dirty, TAG);
      const zero = ExAllocatePoolZero(POOL_TYPE.NonPagedPool, 48, TAG);
      const zeroed = readBytes(zero, 48).every((b) => b === 0);
      RtlFillMemory(zero, 48, 0xEE);
      ExFreePoolWithTag(zero, TAG);
      const raw = ExAllocatePoolUninitialized(POOL_TYPE.NonPagedPool, 48, TAG);
      const kept = readBytes(raw, 48).every((b) => b === 0xEE);
      ExFreePoolWithTag(raw, TAG);
      return { zeroed, kept, failed: [ExAllocatePoolZero(POOL_TYPE.NonPagedPool, TOO_BIG, TAG), ExAllocatePoolUninitialized(POOL_TYPE.PagedPool, TOO_BIG, TAG)] };
    });
    expect(r).toEqual({ zeroed: true, kept: true, failed: [0, 0] });
  });

  it("the Quota routines raise STATUS_INSUFFICIENT_RESOURCES on failure unless POOL_QUOTA_FAIL_INSTEAD_OF_RAISE", async () => {
    const r = await machine.exec(() => {
      const ok = ExAllocatePoolQuotaZero(POOL_TYPE.PagedPool, 40, TAG);
      const zeroed = readBytes(ok, 40).every((b) => b === 0);
      ExFreePoolWithTag(ok, TAG);
      const u = ExAllocatePoolQuotaUninitialized(POOL_TYPE.NonPagedPool, 8, TAG);
      ExFreePoolWithTag(u, TAG);
      return {
        zeroed, u: u !== 0,
        raised: [raisedBy(() => ExAllocatePoolQuotaZero(POOL_TYPE.PagedPool, TOO_BIG, TAG)), raisedBy(() => ExAllocatePoolWithQuotaTag(POOL_TYPE.NonPagedPool, TOO_BIG, TAG))],
        nulls: [ExAllocatePoolQuotaZero(POOL_TYPE.PagedPool | POOL_QUOTA_FAIL_INSTEAD_OF_RAISE, TOO_BIG, TAG),
          ExAllocatePoolQuotaUninitialized(POOL_TYPE.NonPagedPool | POOL_QUOTA_FAIL_INSTEAD_OF_RAISE, TOO_BIG, TAG)],
      };
    });
    expect(r).toEqual({ zeroed: true, u: true, raised: [{ raised: STATUS_INSUFFICIENT_RESOURCES }, { raised: STATUS_INSUFFICIENT_RESOURCES }], nulls: [0, 0] });
  });

  it("ExAllocatePoolWithTag with POOL_RAISE_IF_ALLOCATION_FAILURE raises instead of returning NULL", async () => {
    const r = await machine.exec(() => raisedBy(() => ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool | POOL_RAISE_IF_ALLOCATION_FAILURE, TOO_BIG, TAG)));
    expect(r).toEqual({ raised: STATUS_INSUFFICIENT_RESOURCES });
  });

  it("ExInitializeDriverRuntime(DrvRtPoolNxOptIn) makes the calling driver's default nonpaged pool NonPagedPoolNx", async () => {
    const r = await machine.exec(() => {
      const before = asDriver("nxdrv", "DriverEntry", () => ExDefaultNonPagedPoolType());
      asDriver("nxdrv", "DriverEntry", () => ExInitializeDriverRuntime(DrvRtPoolNxOptIn));
      return { before, after: asDriver("nxdrv", "DriverEntry", () => ExDefaultNonPagedPoolType()), other: asDriver("other", "DriverEntry", () => ExDefaultNonPagedPoolType()) };
    });
    expect(r).toEqual({ before: POOL_TYPE.NonPagedPool, after: POOL_TYPE.NonPagedPoolNx, other: POOL_TYPE.NonPagedPool });
  });

  it("paged pool at DISPATCH_LEVEL: 0xC4 / 0x01 under the verifier, 0xC2 / 0x08 without", async () => {
    expectBugCheck(await crash(() => ExAllocatePool2(POOL_FLAG_PAGED, 16, TAG), { irql: DISPATCH_LEVEL }), 0xC4, 0x01, DISPATCH_LEVEL);
    expectBugCheck(await crash(() => ExAllocatePool2(POOL_FLAG_PAGED, 16, TAG), { irql: DISPATCH_LEVEL }, { verifier: false }), 0xC2, 0x08, DISPATCH_LEVEL);
  });

  it("a zero-byte request is 0xC2 / 0x00 under the verifier (P2 0, P3 pool type, P4 tag)", async () => {
    const bc = await crash(() => ExAllocatePool2(POOL_FLAG_NON_PAGED, 0, "Zero"));
    expectBugCheck(bc, 0xC2, 0x00, 0, POOL_TYPE.NonPagedPoolNx, 0x6F72655A);
  });
});

/** A record a lookaside list hands out, counting what its Allocate/Free routines did. */
class COUNTS {
  allocations = 0;
  frees = 0;
  readonly List = new LOOKASIDE_LIST_EX(this);
}

describe("lookaside lists", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("NPAGED_LOOKASIDE_LIST: misses allocate from pool, frees are kept up to Depth, hits reuse them; delete frees the rest", async () => {
    const r = await machine.exec(() => {
      const l = new NPAGED_LOOKASIDE_LIST();
      ExInitializeNPagedLookasideList(l, null, null, 0, 200, "LaNp", 0);
      const blocks = Array.from({ length: 6 }, () => ExAllocateFromNPagedLookasideList(l));
      const inPool = () => poolUsed().find((u) => u.tag === "LaNp")?.nonPaged.bytes ?? 0;
      const afterAllocate = inPool();
      for (const b of blocks) ExFreeToNPagedLookasideList(l, b);
      const afterFree = inPool();
      const again = ExAllocateFromNPagedLookasideList(l);
      const counters = { ...l.L, ListHead: l.L.ListHead.length, Allocate: null, Free: null };
      ExFreeToNPagedLookasideList(l, again);
      ExDeleteNPagedLookasideList(l);
      return { afterAllocate, afterFree, reused: blocks.includes(again), counters, afterDelete: inPool() };
    });
    expect(r.afterAllocate).toBe(6 * 200);
    expect(r.afterFree).toBe(MINIMUM_LOOKASIDE_DEPTH * 200);
    expect(r.reused).toBe(true);
    expect(r.counters).toMatchObject({ TotalAllocates: 7, AllocateMisses: 6, TotalFrees: 6, FreeMisses: 6 - MINIMUM_LOOKASIDE_DEPTH, Size: 200, Depth: MINIMUM_LOOKASIDE_DEPTH });
    expect(r.afterDelete).toBe(0);
  });

  it("the caller's Allocate and Free routines replace the pool, with the list's pool type, size and tag", async () => {
    const r = await machine.exec(() => {
      const calls: unknown[] = [];
      const l = new PAGED_LOOKASIDE_LIST();
      ExInitializePagedLookasideList(l, (PoolType, NumberOfBytes, Tag) => {
        calls.push(["allocate", PoolType, NumberOfBytes, Tag]);
        return ExAllocatePoolWithTag(PoolType, NumberOfBytes, Tag);
      }, (Buffer) => {
        calls.push(["free"]);
        ExFreePool(Buffer);
      }, 0, 64, "LaPg", 0);
      const blocks = Array.from({ length: MINIMUM_LOOKASIDE_DEPTH + 1 }, () => ExAllocateFromPagedLookasideList(l));
      for (const b of blocks) ExFreeToPagedLookasideList(l, b);
      ExDeletePagedLookasideList(l);
      return calls;
    });
    const tag = 0x6750614C; // "LaPg"
    expect(r).toEqual([
      ...Array.from({ length: MINIMUM_LOOKASIDE_DEPTH + 1 }, () => ["allocate", POOL_TYPE.PagedPool, 64, tag]),
      ...Array.from({ length: MINIMUM_LOOKASIDE_DEPTH + 1 }, () => ["free"]),
    ]);
  });

  it("ExInitializeLookasideListEx: STATUS_SUCCESS, STATUS_INVALID_PARAMETER_4 for a bad pool type, _5 for bad or both flags", async () => {
    const r = await machine.exec(() => {
      const l = new LOOKASIDE_LIST_EX();
      return [
        ExInitializeLookasideListEx(l, null, null, POOL_TYPE.NonPagedPoolNx, 0, 32, "LaEx", 0),
        ExInitializeLookasideListEx(l, null, null, 77 as POOL_TYPE, 0, 32, "LaEx", 0),
        ExInitializeLookasideListEx(l, null, null, POOL_TYPE.PagedPool, EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL | EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE, 32, "LaEx", 0),
        ExInitializeLookasideListEx(l, null, null, POOL_TYPE.PagedPool, 0x4, 32, "LaEx", 0),
      ];
    });
    expect(r).toEqual([STATUS_SUCCESS, STATUS_INVALID_PARAMETER_4, STATUS_INVALID_PARAMETER_5, STATUS_INVALID_PARAMETER_5]);
  });

  it("LOOKASIDE_LIST_EX: the Allocate/Free routines get the list (CONTAINING_RECORD finds the driver's context); flush and delete free cached entries", async () => {
    const r = await machine.exec(() => {
      const ctx = new COUNTS();
      const types: number[] = [];
      const status = ExInitializeLookasideListEx(ctx.List, (PoolType, NumberOfBytes, Tag, Lookaside) => {
        CONTAINING_RECORD(Lookaside, COUNTS, "List").allocations++;
        types.push(PoolType);
        return ExAllocatePoolWithTag(PoolType & ~POOL_QUOTA_FAIL_INSTEAD_OF_RAISE, NumberOfBytes, Tag);
      }, (Buffer, Lookaside) => {
        CONTAINING_RECORD(Lookaside, COUNTS, "List").frees++;
        ExFreePool(Buffer);
      }, POOL_TYPE.NonPagedPool, EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE, 128, "LaEx", 0);
      const a = ExAllocateFromLookasideListEx(ctx.List);
      const b = ExAllocateFromLookasideListEx(ctx.List);
      ExFreeToLookasideListEx(ctx.List, a);
      ExFreeToLookasideListEx(ctx.List, b);
      const cached = ctx.List.L.ListHead.length;
      ExFlushLookasideListEx(ctx.List);
      const afterFlush = [ctx.frees, ctx.List.L.ListHead.length];
      ExFreeToLookasideListEx(ctx.List, ExAllocateFromLookasideListEx(ctx.List));
      ExDeleteLookasideListEx(ctx.List);
      return { status, types, cached, afterFlush, allocations: ctx.allocations, frees: ctx.frees };
    });
    expect(r).toEqual({
      status: STATUS_SUCCESS, types: Array(3).fill(POOL_TYPE.NonPagedPool | POOL_QUOTA_FAIL_INSTEAD_OF_RAISE), cached: 2, afterFlush: [2, 0], allocations: 3, frees: 3,
    });
  });

  it("EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL raises STATUS_INSUFFICIENT_RESOURCES when the allocate routine fails; without it NULL", async () => {
    const r = await machine.exec(() => {
      const raising = new LOOKASIDE_LIST_EX();
      ExInitializeLookasideListEx(raising, () => 0, null, POOL_TYPE.NonPagedPool, EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL, 16, "LaEx", 0);
      const quiet = new LOOKASIDE_LIST_EX();
      ExInitializeLookasideListEx(quiet, () => 0, null, POOL_TYPE.NonPagedPool, 0, 16, "LaEx", 0);
      return [raisedBy(() => ExAllocateFromLookasideListEx(raising)), ExAllocateFromLookasideListEx(quiet)];
    });
    expect(r).toEqual([{ raised: STATUS_INSUFFICIENT_RESOURCES }, 0]);
  });

  it("allocating from a paged list at DISPATCH_LEVEL is 0xC4 / 0x01 even when an entry is cached", async () => {
    const bc = await crash(() => {
      const l = new PAGED_LOOKASIDE_LIST();
      ExInitializePagedLookasideList(l, null, null, 0, 32, "LaPg", 0);
      ExFreeToPagedLookasideList(l, ExAllocateFromPagedLookasideList(l));
      KeRaiseIrql(DISPATCH_LEVEL);
      ExAllocateFromPagedLookasideList(l);
    });
    expectBugCheck(bc, 0xC4, 0x01, DISPATCH_LEVEL);
  });

  it("freeing to a nonpaged list above DISPATCH_LEVEL is 0xC4 / 0x12", async () => {
    const bc = await crash(() => {
      const l = new NPAGED_LOOKASIDE_LIST();
      ExInitializeNPagedLookasideList(l, null, null, 0, 32, "LaNp", 0);
      const e = ExAllocateFromNPagedLookasideList(l);
      KeRaiseIrql(5);
      ExFreeToNPagedLookasideList(l, e);
    });
    expectBugCheck(bc, 0xC4, 0x12, 5);
  });

  it("ExInitializePagedLookasideList / ExDeletePagedLookasideList above APC_LEVEL: 0xC4, P1 0x00020006 (IrqlExApcLte2)", async () => {
    expectBugCheck(await crash(() => ExInitializePagedLookasideList(new PAGED_LOOKASIDE_LIST(), null, null, 0, 32, "LaPg", 0), { irql: DISPATCH_LEVEL }), 0xC4, 0x00020006);
    const bc = await crash(() => {
      const l = new PAGED_LOOKASIDE_LIST();
      ExInitializePagedLookasideList(l, null, null, 0, 32, "LaPg", 0);
      const old = KeRaiseIrql(DISPATCH_LEVEL);
      ExDeletePagedLookasideList(l);
      KeLowerIrql(old);
    });
    expectBugCheck(bc, 0xC4, 0x00020006, DISPATCH_LEVEL);
  });

  it("a paged list is usable at APC_LEVEL", async () => {
    const ok = await machine.exec(() => {
      const l = new PAGED_LOOKASIDE_LIST();
      ExInitializePagedLookasideList(l, null, null, 0, 32, "LaPg", 0);
      const e = ExAllocateFromPagedLookasideList(l);
      ExFreeToPagedLookasideList(l, e);
      ExDeletePagedLookasideList(l);
      return e !== 0;
    }, { irql: APC_LEVEL });
    expect(ok).toBe(true);
  });
});

// Keep NtStatusException in the import list meaningful: the raised status is one.
it("a raised allocation failure is an NtStatusException carrying STATUS_INSUFFICIENT_RESOURCES", async () => {
  const machine = await bootDefault();
  const r = await machine.exec(() => {
    try {
      ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_RAISE_ON_FAILURE, TOO_BIG, TAG);
      return null;
    } catch (e) {
      return e instanceof NtStatusException ? e.status : String(e);
    }
  });
  expect(r).toBe(STATUS_INSUFFICIENT_RESOURCES);
});
