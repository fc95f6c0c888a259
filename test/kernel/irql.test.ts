// IRQL rules, spin locks, pool, memory faults and bug check reporting
// (shared/specs/nt-semantics.md: IRQL, Spin locks, Memory, Bug checks; WDK bug check reference).
import { beforeAll, describe, expect, it } from "vitest";
import {
  APC_LEVEL, DISPATCH_LEVEL, PASSIVE_LEVEL, HIGH_LEVEL, type Machine,
  KeRaiseIrql, KeLowerIrql, KeGetCurrentIrql, KeGetCurrentProcessorNumber, KeBugCheckEx, BugCheck,
  KSPIN_LOCK, KeInitializeSpinLock, KeAcquireSpinLock, KeReleaseSpinLock, KeAcquireSpinLockAtDpcLevel, KeReleaseSpinLockFromDpcLevel,
  KEVENT, KeInitializeEvent, EVENT_TYPE, KeWaitForSingleObject, KeReadStateEvent, KWAIT_REASON, KPROCESSOR_MODE,
  ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE, readU32, writeU32, readU8, RtlFillMemory,
  NtStatusException, STATUS_ACCESS_VIOLATION, STATUS_TIMEOUT, STATUS_WAIT_0, STATUS_INSUFFICIENT_RESOURCES,
} from "../../src/index.js";
import { asDriver, bootDefault, crash, expectBugCheck, params, relativeMs } from "../support/kernel-harness.js";

const IRQL_NOT_GREATER_OR_EQUAL = 0x9;
const IRQL_NOT_LESS_OR_EQUAL = 0xA;
const SPIN_LOCK_ALREADY_OWNED = 0x0F;
const SPIN_LOCK_NOT_OWNED = 0x10;
const KMODE_EXCEPTION_NOT_HANDLED = 0x1E;
const PAGE_FAULT_IN_NONPAGED_AREA = 0x50;
const BAD_POOL_CALLER = 0xC2;
const DRIVER_VERIFIER_DETECTED_VIOLATION = 0xC4;
const DRIVER_IRQL_NOT_LESS_OR_EQUAL = 0xD1;

/** A system-space address nothing maps (PML4 slot 270 of the system half is never populated). */
const UNMAPPED_SYSTEM_VA = 0x870000001230;
/** A user-mode address nothing maps in the system process. */
const UNMAPPED_USER_VA = 0x00001230;
/** A device IRQL (DIRQL) for tests. */
const DIRQL = 5;

describe("KeRaiseIrql and KeLowerIrql", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("KeRaiseIrql returns the old IRQL and the processor runs at the new one", async () => {
    const seen = await machine.exec(() => {
      const out: number[] = [KeGetCurrentIrql()];
      out.push(KeRaiseIrql(APC_LEVEL), KeGetCurrentIrql());
      out.push(KeRaiseIrql(DISPATCH_LEVEL), KeGetCurrentIrql());
      out.push(KeRaiseIrql(DIRQL), KeGetCurrentIrql());
      KeLowerIrql(DISPATCH_LEVEL);
      out.push(KeGetCurrentIrql());
      KeLowerIrql(PASSIVE_LEVEL);
      out.push(KeGetCurrentIrql());
      return out;
    });
    expect(seen).toEqual([PASSIVE_LEVEL, PASSIVE_LEVEL, APC_LEVEL, APC_LEVEL, DISPATCH_LEVEL, DISPATCH_LEVEL, DIRQL, DISPATCH_LEVEL, PASSIVE_LEVEL]);
  });

  it("raising to the current level is allowed and returns that level", async () => {
    const old = await machine.exec(() => KeRaiseIrql(DISPATCH_LEVEL), { irql: DISPATCH_LEVEL });
    expect(old).toBe(DISPATCH_LEVEL);
  });

  it("Machine.exec runs the routine at the IRQL asked for, on the processor asked for", async () => {
    const r = await machine.exec(() => ({ irql: KeGetCurrentIrql(), cpu: KeGetCurrentProcessorNumber() }), { cpu: 1, irql: DISPATCH_LEVEL });
    expect(r).toEqual({ irql: DISPATCH_LEVEL, cpu: 1 });
  });

  it("raising to a lower level is 0xC4 / 0x30 under the verifier (P2 current IRQL, P3 requested IRQL)", async () => {
    const bc = await crash(() => KeRaiseIrql(PASSIVE_LEVEL), { irql: DISPATCH_LEVEL });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0x30, DISPATCH_LEVEL, PASSIVE_LEVEL);
    expect(bc.bugCheckName).toBe("DRIVER_VERIFIER_DETECTED_VIOLATION");
  });

  it("raising to a lower level without the verifier is 0x9 IRQL_NOT_GREATER_OR_EQUAL (P1 current IRQL, P2 requested IRQL)", async () => {
    const bc = await crash(() => KeRaiseIrql(APC_LEVEL), { irql: DIRQL }, { verifier: false });
    expectBugCheck(bc, IRQL_NOT_GREATER_OR_EQUAL, DIRQL, APC_LEVEL);
    expect(bc.bugCheckName).toBe("IRQL_NOT_GREATER_OR_EQUAL");
  });

  it("KeLowerIrql to a higher level is 0xC4 / 0x31 under the verifier (P2 current IRQL, P3 new IRQL)", async () => {
    const bc = await crash(() => KeLowerIrql(DISPATCH_LEVEL), { irql: APC_LEVEL });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0x31, APC_LEVEL, DISPATCH_LEVEL);
  });

  it("a thread that ends above PASSIVE_LEVEL is stopped (it still holds the raised IRQL)", async () => {
    const bc = await crash(() => {
      KeRaiseIrql(DISPATCH_LEVEL);
    });
    expect(bc.code).toBe(0x4A);
    expect(Number(bc.parameters[1])).toBe(DISPATCH_LEVEL);
  });
});

describe("waits and IRQL", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("waiting with a non-zero timeout at DISPATCH_LEVEL is 0xC4 / 0x3B (P2 current IRQL)", async () => {
    const bc = await crash(() => {
      const e = new KEVENT();
      KeInitializeEvent(e, EVENT_TYPE.NotificationEvent, false);
      return KeWaitForSingleObject(e, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, relativeMs(1));
    }, { irql: DISPATCH_LEVEL });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0x3B, DISPATCH_LEVEL);
  });

  it("waiting without a timeout (forever) at DISPATCH_LEVEL is 0xC4 / 0x3B as well", async () => {
    const bc = await crash(() => {
      const e = new KEVENT();
      KeInitializeEvent(e, EVENT_TYPE.NotificationEvent, false);
      return KeWaitForSingleObject(e, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
    }, { irql: DISPATCH_LEVEL });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0x3B, DISPATCH_LEVEL);
  });

  it("a zero-timeout wait at DISPATCH_LEVEL is allowed: STATUS_TIMEOUT when unsignalled, STATUS_WAIT_0 when signalled", async () => {
    const r = await machine.exec(async () => {
      const idle = new KEVENT();
      KeInitializeEvent(idle, EVENT_TYPE.NotificationEvent, false);
      const set = new KEVENT();
      KeInitializeEvent(set, EVENT_TYPE.SynchronizationEvent, true);
      const a = await KeWaitForSingleObject(idle, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, 0);
      const b = await KeWaitForSingleObject(set, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, 0);
      return { a, b, irql: KeGetCurrentIrql(), syncStateAfter: KeReadStateEvent(set) };
    }, { irql: DISPATCH_LEVEL });
    expect(r.a).toBe(STATUS_TIMEOUT);
    expect(r.b).toBe(STATUS_WAIT_0);
    expect(r.irql).toBe(DISPATCH_LEVEL);
    // Satisfying a wait on a synchronization event resets it.
    expect(r.syncStateAfter).toBe(0);
  });
});

describe("spin locks", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("KeAcquireSpinLock raises to DISPATCH_LEVEL and returns the old IRQL; KeReleaseSpinLock restores it", async () => {
    const r = await machine.exec(() => {
      const lock = new KSPIN_LOCK();
      KeInitializeSpinLock(lock);
      const old = KeAcquireSpinLock(lock);
      const held = KeGetCurrentIrql();
      KeReleaseSpinLock(lock, old);
      const after = KeGetCurrentIrql();
      // The lock is free again: it can be taken a second time.
      const old2 = KeAcquireSpinLock(lock);
      KeReleaseSpinLock(lock, old2);
      return { old, held, after, old2 };
    });
    expect(r).toEqual({ old: PASSIVE_LEVEL, held: DISPATCH_LEVEL, after: PASSIVE_LEVEL, old2: PASSIVE_LEVEL });
  });

  it("KeAcquireSpinLock at APC_LEVEL returns APC_LEVEL and the release goes back to it", async () => {
    const r = await machine.exec(() => {
      const lock = new KSPIN_LOCK();
      KeInitializeSpinLock(lock);
      const old = KeAcquireSpinLock(lock);
      const held = KeGetCurrentIrql();
      KeReleaseSpinLock(lock, old);
      return { old, held, after: KeGetCurrentIrql() };
    }, { irql: APC_LEVEL });
    expect(r).toEqual({ old: APC_LEVEL, held: DISPATCH_LEVEL, after: APC_LEVEL });
  });

  it("KeAcquireSpinLock at DISPATCH_LEVEL returns DISPATCH_LEVEL and the IRQL stays there", async () => {
    const r = await machine.exec(() => {
      const lock = new KSPIN_LOCK();
      KeInitializeSpinLock(lock);
      const old = KeAcquireSpinLock(lock);
      KeReleaseSpinLock(lock, old);
      return { old, after: KeGetCurrentIrql() };
    }, { irql: DISPATCH_LEVEL });
    expect(r).toEqual({ old: DISPATCH_LEVEL, after: DISPATCH_LEVEL });
  });

  it("the ...AtDpcLevel variants take and release the lock without changing the IRQL", async () => {
    const r = await machine.exec(() => {
      const lock = new KSPIN_LOCK();
      KeInitializeSpinLock(lock);
      KeAcquireSpinLockAtDpcLevel(lock);
      const held = KeGetCurrentIrql();
      KeReleaseSpinLockFromDpcLevel(lock);
      return { held, after: KeGetCurrentIrql() };
    }, { irql: DISPATCH_LEVEL });
    expect(r).toEqual({ held: DISPATCH_LEVEL, after: DISPATCH_LEVEL });
  });

  it("acquiring a lock the processor already holds is 0x0F SPIN_LOCK_ALREADY_OWNED with P1 = the lock's address", async () => {
    let address = 0;
    const bc = await crash(() => {
      const lock = new KSPIN_LOCK();
      KeInitializeSpinLock(lock);
      address = lock.address;
      KeAcquireSpinLock(lock);
      KeAcquireSpinLock(lock);
    });
    expect(address).not.toBe(0);
    expectBugCheck(bc, SPIN_LOCK_ALREADY_OWNED, address);
    expect(bc.bugCheckName).toBe("SPIN_LOCK_ALREADY_OWNED");
  });

  it("under the verifier: KeAcquireSpinLockAtDpcLevel or KeReleaseSpinLockFromDpcLevel below DISPATCH_LEVEL, KeAcquireSpinLock above it, are 0xC4 0x40 / 0x41 / 0x42 (P2 IRQL, P3 the lock)", async () => {
    let address = 0;
    const lockAt = () => {
      const lock = new KSPIN_LOCK();
      KeInitializeSpinLock(lock);
      address = lock.address;
      return lock;
    };
    expectBugCheck(await crash(() => KeAcquireSpinLockAtDpcLevel(lockAt())), DRIVER_VERIFIER_DETECTED_VIOLATION, 0x40, PASSIVE_LEVEL, address);
    expectBugCheck(await crash(() => {
      const lock = lockAt();
      KeRaiseIrql(DISPATCH_LEVEL);
      KeAcquireSpinLockAtDpcLevel(lock);
      KeLowerIrql(APC_LEVEL);
      KeReleaseSpinLockFromDpcLevel(lock);
    }), DRIVER_VERIFIER_DETECTED_VIOLATION, 0x41, APC_LEVEL, address);
    expectBugCheck(await crash(() => KeAcquireSpinLock(lockAt()), { irql: DISPATCH_LEVEL + 1 }), DRIVER_VERIFIER_DETECTED_VIOLATION, 0x42, DISPATCH_LEVEL + 1, address);
  });

  it("acquiring a held lock again with KeAcquireSpinLockAtDpcLevel is 0x0F too", async () => {
    let address = 0;
    const bc = await crash(() => {
      const lock = new KSPIN_LOCK();
      KeInitializeSpinLock(lock);
      address = lock.address;
      KeAcquireSpinLockAtDpcLevel(lock);
      KeAcquireSpinLockAtDpcLevel(lock);
    }, { irql: DISPATCH_LEVEL });
    expectBugCheck(bc, SPIN_LOCK_ALREADY_OWNED, address);
  });

  it("releasing a lock that is not held is 0x10 SPIN_LOCK_NOT_OWNED with P1 = the lock's address", async () => {
    let address = 0;
    const bc = await crash(() => {
      const lock = new KSPIN_LOCK();
      KeInitializeSpinLock(lock);
      address = lock.address;
      KeReleaseSpinLock(lock, PASSIVE_LEVEL);
    }, { irql: DISPATCH_LEVEL });
    expectBugCheck(bc, SPIN_LOCK_NOT_OWNED, address);
  });

  it("releasing a lock another processor holds is 0x10 SPIN_LOCK_NOT_OWNED", async () => {
    const m = await bootDefault();
    const lock = await m.exec(() => {
      const l = new KSPIN_LOCK();
      KeInitializeSpinLock(l);
      KeAcquireSpinLockAtDpcLevel(l);
      return l;
    }, { cpu: 0, irql: DISPATCH_LEVEL });
    let failure: unknown;
    try {
      await m.exec(() => KeReleaseSpinLockFromDpcLevel(lock), { cpu: 1, irql: DISPATCH_LEVEL });
    } catch (e) {
      failure = e;
    }
    expect(failure).toBeInstanceOf(BugCheck);
    expectBugCheck(failure as BugCheck, SPIN_LOCK_NOT_OWNED, lock.address);
    expect((failure as BugCheck).context.cpu).toBe(1);
  });
});

describe("pool", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("nonpaged pool may be allocated up to DISPATCH_LEVEL and paged pool up to APC_LEVEL", async () => {
    const atDispatch = await machine.exec(() => {
      const p = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 64, 0x31747354);
      ExFreePoolWithTag(p, 0x31747354);
      return p;
    }, { irql: DISPATCH_LEVEL });
    const atApc = await machine.exec(() => {
      const p = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 64, 0x31747354);
      ExFreePoolWithTag(p, 0x31747354);
      return p;
    }, { irql: APC_LEVEL });
    expect(atDispatch).not.toBe(0);
    expect(atApc).not.toBe(0);
  });

  it("allocations of a page or more are page aligned", async () => {
    const vas = await machine.exec(() => {
      const out: number[] = [];
      // A small block first, so the pool's next free byte is not page aligned.
      const small = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 24, 0x6C6D7354);
      for (const bytes of [4096, 4097, 8192, 3 * 4096 + 5]) {
        const p = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, bytes, 0x65676150);
        out.push(p);
        // The whole block is usable.
        RtlFillMemory(p, bytes, 0xA5);
        if (readU8(p + bytes - 1) !== 0xA5) throw new Error("last byte not written");
      }
      for (const p of out) ExFreePoolWithTag(p, 0x65676150);
      ExFreePoolWithTag(small, 0x6C6D7354);
      return out;
    });
    for (const va of vas) expect(va % 4096).toBe(0);
  });

  it("a tag given as four characters is the same tag as the number with those bytes in memory order", async () => {
    await machine.exec(() => {
      const p = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 32, "Tst1");
      // 'T' 's' 't' '1' = 54 73 74 31 in memory -> 0x31747354 as a little-endian ULONG.
      ExFreePoolWithTag(p, 0x31747354);
    });
  });

  it("nonpaged pool above DISPATCH_LEVEL is 0xC4 / 0x02 (P2 IRQL, P3 pool type, P4 bytes)", async () => {
    const bc = await crash(() => ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 100, 0x6C6F6F50), { irql: DIRQL });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0x02, DIRQL, POOL_TYPE.NonPagedPool, 100);
  });

  it("paged pool above APC_LEVEL is 0xC4 / 0x01 (P2 IRQL, P3 pool type, P4 bytes)", async () => {
    const bc = await crash(() => ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 200, 0x6C6F6F50), { irql: DISPATCH_LEVEL });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0x01, DISPATCH_LEVEL, POOL_TYPE.PagedPool, 200);
  });

  it("without the verifier, pool at a bad IRQL is 0xC2 / 0x08 (P2 IRQL, P3 pool type, P4 bytes)", async () => {
    const bc = await crash(() => ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 100, 0x6C6F6F50), { irql: DIRQL }, { verifier: false });
    expectBugCheck(bc, BAD_POOL_CALLER, 0x08, DIRQL, POOL_TYPE.NonPagedPool, 100);
  });

  it("freeing a block twice is 0xC2 / 0x07 (P4 the block's address)", async () => {
    let va = 0;
    const bc = await crash(() => {
      va = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 48, 0x6C6F6F50);
      ExFreePoolWithTag(va, 0x6C6F6F50);
      ExFreePoolWithTag(va, 0x6C6F6F50);
    });
    expectBugCheck(bc, BAD_POOL_CALLER, 0x07, undefined, undefined, va);
    expect(bc.bugCheckName).toBe("BAD_POOL_CALLER");
  });

  it("freeing with the wrong tag is 0xC2 / 0x0A (P2 address, P3 allocator's tag, P4 tag used)", async () => {
    let va = 0;
    const bc = await crash(() => {
      va = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 48, 0x6C6F6F50);
      ExFreePoolWithTag(va, 0x21676142);
    });
    expectBugCheck(bc, BAD_POOL_CALLER, 0x0A, va, 0x6C6F6F50, 0x21676142);
  });

  it("a zero-byte request is 0xC2 / 0x00", async () => {
    const bc = await crash(() => ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 0, 0x6F72655A));
    expectBugCheck(bc, BAD_POOL_CALLER, 0x00);
    expect(Number(bc.parameters[3])).toBe(0x6F72655A);
  });

  // Rule (WDK, Bug Check 0xC2 BAD_POOL_CALLER, Parameter 1 = 0x00): P2 is 0, P3 the pool type,
  // P4 the pool tag.
  it("a zero-byte request reports P2 = 0, P3 = the pool type, P4 = the tag", async () => {
    const bc = await crash(() => ExAllocatePoolWithTag(POOL_TYPE.PagedPool, 0, 0x6F72655A));
    expectBugCheck(bc, BAD_POOL_CALLER, 0x00, 0, POOL_TYPE.PagedPool, 0x6F72655A);
  });
});

describe("memory faults", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("a driver reading an unmapped system address at DISPATCH_LEVEL is 0xD1 (P1 address, P2 IRQL, P3 0 = read)", async () => {
    const bc = await crash(() => asDriver("faulty", "FaultyDpcRoutine", () => readU32(UNMAPPED_SYSTEM_VA)), { irql: DISPATCH_LEVEL });
    expectBugCheck(bc, DRIVER_IRQL_NOT_LESS_OR_EQUAL, UNMAPPED_SYSTEM_VA, DISPATCH_LEVEL, 0);
    expect(bc.bugCheckName).toBe("DRIVER_IRQL_NOT_LESS_OR_EQUAL");
    expect(bc.context.driver).toBe("faulty");
    expect(bc.context.routine).toBe("FaultyDpcRoutine");
  });

  it("a driver writing an unmapped system address at DIRQL is 0xD1 with P2 = that IRQL and P3 1 = write", async () => {
    const bc = await crash(() => asDriver("faulty", "FaultyIsr", () => writeU32(UNMAPPED_SYSTEM_VA, 1)), { irql: DIRQL });
    expectBugCheck(bc, DRIVER_IRQL_NOT_LESS_OR_EQUAL, UNMAPPED_SYSTEM_VA, DIRQL, 1);
  });

  it("the kernel itself touching an unmapped address at DISPATCH_LEVEL is 0xA IRQL_NOT_LESS_OR_EQUAL", async () => {
    const bc = await crash(() => readU32(UNMAPPED_SYSTEM_VA), { irql: DISPATCH_LEVEL });
    expectBugCheck(bc, IRQL_NOT_LESS_OR_EQUAL, UNMAPPED_SYSTEM_VA, DISPATCH_LEVEL, 0);
  });

  it("touching an unmapped system address at PASSIVE_LEVEL is 0x50 PAGE_FAULT_IN_NONPAGED_AREA (P2 0 = read)", async () => {
    const bc = await crash(() => asDriver("faulty", "FaultyDispatch", () => readU32(UNMAPPED_SYSTEM_VA)));
    expectBugCheck(bc, PAGE_FAULT_IN_NONPAGED_AREA, UNMAPPED_SYSTEM_VA, 0);
    expect(bc.bugCheckName).toBe("PAGE_FAULT_IN_NONPAGED_AREA");
  });

  it("a write to an unmapped system address at PASSIVE_LEVEL is 0x50 with P2 2 = write", async () => {
    const bc = await crash(() => asDriver("faulty", "FaultyDispatch", () => writeU32(UNMAPPED_SYSTEM_VA, 7)));
    expectBugCheck(bc, PAGE_FAULT_IN_NONPAGED_AREA, UNMAPPED_SYSTEM_VA, 2);
  });

  it("a bad user-mode address at PASSIVE_LEVEL raises STATUS_ACCESS_VIOLATION, which the caller can handle", async () => {
    const r = await machine.exec(() => {
      try {
        readU32(UNMAPPED_USER_VA);
        return "no exception";
      } catch (e) {
        return e instanceof NtStatusException ? e.status : String(e);
      }
    });
    expect(r).toBe(STATUS_ACCESS_VIOLATION);
    // The machine is still running.
    expect(await machine.exec(() => KeGetCurrentIrql())).toBe(PASSIVE_LEVEL);
  });

  // Rule (nt-semantics.md, IRQL: "Touching ... invalid memory at IRQL >= DISPATCH_LEVEL is fatal:
  // 0xD1 ... when a driver did it"; a page fault cannot be handled at DISPATCH_LEVEL, whatever
  // the address).
  it("a driver touching an invalid user-mode address at DISPATCH_LEVEL is 0xD1, not a catchable exception", async () => {
    const bc = await crash(() => asDriver("faulty", "FaultyDpcRoutine", () => readU32(UNMAPPED_USER_VA)), { irql: DISPATCH_LEVEL });
    expectBugCheck(bc, DRIVER_IRQL_NOT_LESS_OR_EQUAL, UNMAPPED_USER_VA, DISPATCH_LEVEL, 0);
  });
});

describe("bug check reports", () => {
  it("an exception thrown by a driver becomes 0x1E KMODE_EXCEPTION_NOT_HANDLED with the original error attached", async () => {
    const error = new TypeError("Cannot read properties of null (reading 'Flags')");
    const bc = await crash(() => asDriver("buggy", "BuggyDispatchRead", () => {
      throw error;
    }));
    expect(bc.code).toBe(KMODE_EXCEPTION_NOT_HANDLED);
    expect(bc.bugCheckName).toBe("KMODE_EXCEPTION_NOT_HANDLED");
    expect(bc.original).toBe(error);
    expect(bc.cause).toBe(error);
    expect(bc.context.driver).toBe("buggy");
    expect(bc.context.routine).toBe("BuggyDispatchRead");
    expect(bc.analyze()).toContain("ORIGINAL_EXCEPTION");
  });

  it("a status raised and not handled becomes 0x1E with P1 = that exception code", async () => {
    const raised = new NtStatusException(STATUS_INSUFFICIENT_RESOURCES);
    const bc = await crash(() => asDriver("buggy", "BuggyStartDevice", () => {
      throw raised;
    }));
    expectBugCheck(bc, KMODE_EXCEPTION_NOT_HANDLED, STATUS_INSUFFICIENT_RESOURCES);
    expect(bc.original).toBe(raised);
  });

  it("a bug check names the driver, routine, IRQL and processor, and carries the four parameters as given", async () => {
    const bc = await crash(() => asDriver("ctxdrv", "CtxDpcRoutine", () => KeBugCheckEx(0xE2, 1, 0x1234n, 0xFFFFFFFFn, 4)), { cpu: 1, irql: DISPATCH_LEVEL });
    expect(bc.code).toBe(0xE2);
    expect(bc.parameters).toEqual([1n, 0x1234n, 0xFFFFFFFFn, 4n]);
    expect(bc.context.driver).toBe("ctxdrv");
    expect(bc.context.routine).toBe("CtxDpcRoutine");
    expect(bc.context.irql).toBe(DISPATCH_LEVEL);
    expect(bc.context.cpu).toBe(1);
    expect(bc.message).toContain("ctxdrv!CtxDpcRoutine");
    expect(bc.message).toContain("DISPATCH_LEVEL");
    expect(bc.message).toContain("CPU 1");
  });

  it("kernel code outside any driver is reported as nt, at the IRQL it ran at", async () => {
    const bc = await crash(() => KeBugCheckEx(0xE2, 0, 0, 0, 0), { irql: HIGH_LEVEL });
    expect(bc.context.driver).toBe("nt");
    expect(bc.context.irql).toBe(HIGH_LEVEL);
    expect(params(bc)).toEqual([0, 0, 0, 0]);
  });

  it("a bug check stops the machine for good: later calls reject with the same BugCheck", async () => {
    const m = await bootDefault();
    let first: unknown;
    try {
      await m.exec(() => KeBugCheckEx(0xE2, 7, 0, 0, 0));
    } catch (e) {
      first = e;
    }
    expect(first).toBeInstanceOf(BugCheck);
    let second: unknown;
    try {
      await m.exec(() => 1);
    } catch (e) {
      second = e;
    }
    expect(second).toBe(first);
  });
});
