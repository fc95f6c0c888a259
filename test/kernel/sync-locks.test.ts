// Executive locks (WDK: ExInitializeFastMutex, ExAcquireFastMutex, ExTryToAcquireFastMutex,
// ExReleaseFastMutex, ExAcquireFastMutexUnsafe, KeInitializeGuardedMutex,
// KeAcquireGuardedMutex, KeTryToAcquireGuardedMutex, KeReleaseGuardedMutex,
// ExInitializeResourceLite and the ERESOURCE routines, push locks; bug checks 0xC4, 0xE3):
// - ExAcquireFastMutex raises to APC_LEVEL and ExReleaseFastMutex restores the old IRQL; the
//   Try form returns FALSE when another thread owns it; a guarded mutex keeps the IRQL and
//   puts its owner in a guarded region; both are exclusive and not recursive;
// - a resource is shared by readers or owned by one writer, recursively; Wait FALSE returns
//   FALSE instead of waiting; releasing one not owned is 0xE3 RESOURCE_NOT_OWNED;
// - the verifier's 0xC4 subcodes: 0x33/0x34 fast mutex IRQL, 0x37 resource without APCs
//   disabled, 0x39 unsafe acquisition, 0xEA push lock without APCs disabled, 0x1000 recursion.
import { describe, expect, it } from "vitest";
import {
  APC_LEVEL, DISPATCH_LEVEL, PASSIVE_LEVEL, KeGetCurrentIrql, KeAreAllApcsDisabled, KeEnterCriticalRegion, KeLeaveCriticalRegion,
  FAST_MUTEX, ExInitializeFastMutex, ExAcquireFastMutex, ExTryToAcquireFastMutex, ExReleaseFastMutex, ExAcquireFastMutexUnsafe, ExReleaseFastMutexUnsafe,
  KGUARDED_MUTEX, KeInitializeGuardedMutex, KeAcquireGuardedMutex, KeTryToAcquireGuardedMutex, KeReleaseGuardedMutex,
  ERESOURCE, ExInitializeResourceLite, ExAcquireResourceSharedLite, ExAcquireResourceExclusiveLite, ExReleaseResourceLite,
  ExIsResourceAcquiredExclusiveLite, ExIsResourceAcquiredSharedLite, ExGetExclusiveWaiterCount, ExGetSharedWaiterCount,
  ExConvertExclusiveToSharedLite, ExAcquireSharedStarveExclusive, ExDeleteResourceLite,
  EX_PUSH_LOCK, ExInitializePushLock, ExAcquirePushLockExclusive, ExAcquirePushLockShared, ExReleasePushLockExclusive, ExReleasePushLockShared,
  DRIVER_VERIFIER_DETECTED_VIOLATION, RESOURCE_NOT_OWNED, STATUS_SUCCESS,
  VERIFIER_FAST_MUTEX_ACQUIRE_IRQL, VERIFIER_FAST_MUTEX_RELEASE_IRQL, VERIFIER_RESOURCE_ACQUIRE_APCS_ENABLED, VERIFIER_UNSAFE_MUTEX_ACQUIRE,
  VERIFIER_PUSH_LOCK_ACQUIRE_APCS_ENABLED, VERIFIER_SELF_DEADLOCK, VERIFIER_RESOURCE_REINITIALIZED, VERIFIER_WRONG_THREAD_RELEASE,
} from "../../src/index.js";
import { bootDefault, crash, expectBugCheck, sleep100ns, spawnThread } from "../support/kernel-harness.js";

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await sleep100ns(100);
  expect(cond()).toBe(true);
}

function fastMutex(): FAST_MUTEX {
  const m = new FAST_MUTEX();
  ExInitializeFastMutex(m);
  return m;
}

function resource(): ERESOURCE {
  const r = new ERESOURCE();
  expect(ExInitializeResourceLite(r)).toBe(STATUS_SUCCESS);
  return r;
}

describe("fast mutexes", () => {
  it("ExAcquireFastMutex raises to APC_LEVEL; ExReleaseFastMutex returns to the old IRQL", async () => {
    const machine = await bootDefault();
    const r = await machine.exec(async () => {
      const m = fastMutex();
      await ExAcquireFastMutex(m);
      const held = KeGetCurrentIrql();
      ExReleaseFastMutex(m);
      return { held, after: KeGetCurrentIrql() };
    });
    expect(r).toEqual({ held: APC_LEVEL, after: PASSIVE_LEVEL });
  });

  it("a second thread waits until the owner releases; ExTryToAcquireFastMutex returns FALSE meanwhile and TRUE when free", async () => {
    const machine = await bootDefault();
    const r = await machine.exec(async () => {
      const m = fastMutex();
      const log: string[] = [];
      await ExAcquireFastMutex(m);
      spawnThread("B", async () => {
        log.push(`try=${ExTryToAcquireFastMutex(m)}`);
        await ExAcquireFastMutex(m);
        log.push("B owns");
        ExReleaseFastMutex(m);
      }, 1);
      await until(() => log.length === 1);
      await sleep100ns(100);
      log.push("A releases");
      ExReleaseFastMutex(m);
      await until(() => log.length === 3);
      const free = ExTryToAcquireFastMutex(m);
      ExReleaseFastMutex(m);
      return { log, free, contention: m.Contention };
    });
    expect(r).toEqual({ log: ["try=false", "A releases", "B owns"], free: true, contention: 1 });
  });

  it("acquiring above APC_LEVEL is 0xC4 / 0x33 (P2 IRQL, P3 the mutex)", async () => {
    let address = 0;
    const bc = await crash(() => {
      const m = fastMutex();
      address = m.address;
      return ExAcquireFastMutex(m);
    }, { irql: DISPATCH_LEVEL });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_FAST_MUTEX_ACQUIRE_IRQL, DISPATCH_LEVEL, address);
  });

  it("ExReleaseFastMutex at an IRQL other than APC_LEVEL is 0xC4 / 0x34 (P2 IRQL)", async () => {
    const bc = await crash(async () => {
      const m = fastMutex();
      KeEnterCriticalRegion();
      await ExAcquireFastMutexUnsafe(m);
      ExReleaseFastMutex(m);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_FAST_MUTEX_RELEASE_IRQL, PASSIVE_LEVEL);
  });

  it("recursive acquisition is 0xC4 / 0x1000 under the verifier (P2 the mutex)", async () => {
    let address = 0;
    const bc = await crash(async () => {
      const m = fastMutex();
      address = m.address;
      await ExAcquireFastMutex(m);
      await ExAcquireFastMutex(m);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_SELF_DEADLOCK, address);
  });

  it("ExAcquireFastMutexUnsafe at PASSIVE_LEVEL outside a critical region is 0xC4 / 0x39", async () => {
    expectBugCheck(await crash(() => ExAcquireFastMutexUnsafe(fastMutex())), DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_UNSAFE_MUTEX_ACQUIRE, PASSIVE_LEVEL, 0);
  });

  it("a release by a thread that does not own it is 0xC4 / 0x1004 (P2 the mutex)", async () => {
    let address = 0;
    const bc = await crash(async () => {
      const m = fastMutex();
      address = m.address;
      spawnThread("owner", async () => {
        await ExAcquireFastMutex(m);
        await sleep100ns(1_000_000);
      }, 1);
      await sleep100ns(100);
      KeEnterCriticalRegion();
      ExReleaseFastMutexUnsafe(m);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_WRONG_THREAD_RELEASE, address);
  });
});

describe("guarded mutexes", () => {
  it("acquiring keeps the IRQL and enters a guarded region; the Try form fails while another thread owns it", async () => {
    const machine = await bootDefault();
    const r = await machine.exec(async () => {
      const m = new KGUARDED_MUTEX();
      KeInitializeGuardedMutex(m);
      await KeAcquireGuardedMutex(m);
      const inside = { irql: KeGetCurrentIrql(), allApcs: KeAreAllApcsDisabled() };
      const tries: boolean[] = [];
      spawnThread("B", () => tries.push(KeTryToAcquireGuardedMutex(m)), 1);
      await until(() => tries.length === 1);
      KeReleaseGuardedMutex(m);
      const free = KeTryToAcquireGuardedMutex(m);
      KeReleaseGuardedMutex(m);
      return { inside, tries, free, allApcs: KeAreAllApcsDisabled() };
    });
    expect(r).toEqual({ inside: { irql: PASSIVE_LEVEL, allApcs: true }, tries: [false], free: true, allApcs: false });
  });
});

describe("executive resources", () => {
  it("shared by several threads, exclusive to one; recursive exclusive; the Is/Get queries", async () => {
    const machine = await bootDefault();
    const r = await machine.exec(async () => {
      const res = resource();
      KeEnterCriticalRegion();
      const a = await ExAcquireResourceExclusiveLite(res, true);
      const b = await ExAcquireResourceExclusiveLite(res, true);
      const exclusive = ExIsResourceAcquiredExclusiveLite(res);
      const count = ExIsResourceAcquiredSharedLite(res);
      const log: string[] = [];
      for (const name of ["R1", "R2"]) {
        spawnThread(name, async () => {
          KeEnterCriticalRegion();
          log.push(`${name} try=${await ExAcquireResourceSharedLite(res, false)}`);
          await ExAcquireResourceSharedLite(res, true);
          log.push(`${name} shares`);
          await sleep100ns(100);
          ExReleaseResourceLite(res);
          KeLeaveCriticalRegion();
        }, 1);
      }
      await until(() => log.length === 2);
      await sleep100ns(10);
      const sharedWaiters = ExGetSharedWaiterCount(res);
      ExReleaseResourceLite(res);
      ExReleaseResourceLite(res);
      await until(() => log.length === 4);
      const excl = await ExAcquireResourceExclusiveLite(res, true);
      ExReleaseResourceLite(res);
      KeLeaveCriticalRegion();
      return { a, b, exclusive, count, sharedWaiters, log, excl, deleted: ExDeleteResourceLite(res) };
    });
    expect(r).toEqual({
      a: true, b: true, exclusive: true, count: 2, sharedWaiters: 2,
      log: ["R1 try=false", "R2 try=false", "R1 shares", "R2 shares"], excl: true, deleted: STATUS_SUCCESS,
    });
  });

  it("a shared request waits behind an exclusive waiter (ExAcquireSharedStarveExclusive does not); convert hands shared access on", async () => {
    const machine = await bootDefault();
    const r = await machine.exec(async () => {
      const res = resource();
      KeEnterCriticalRegion();
      await ExAcquireResourceSharedLite(res, true);
      const log: string[] = [];
      spawnThread("W", async () => {
        KeEnterCriticalRegion();
        await ExAcquireResourceExclusiveLite(res, true);
        log.push("W exclusive");
        ExConvertExclusiveToSharedLite(res);
        log.push(`W converted exclusive=${ExIsResourceAcquiredExclusiveLite(res)}`);
        ExReleaseResourceLite(res);
        KeLeaveCriticalRegion();
      }, 1);
      await until(() => ExGetExclusiveWaiterCount(res) === 1);
      const results: string[] = [];
      spawnThread("S", async () => {
        KeEnterCriticalRegion();
        results.push(`shared=${await ExAcquireResourceSharedLite(res, false)}`);
        results.push(`starve=${await ExAcquireSharedStarveExclusive(res, false)}`);
        ExReleaseResourceLite(res);
        KeLeaveCriticalRegion();
      }, 1);
      await until(() => results.length === 2);
      ExReleaseResourceLite(res);
      KeLeaveCriticalRegion();
      await until(() => log.length === 2);
      return { results, log };
    });
    expect(r).toEqual({ results: ["shared=false", "starve=true"], log: ["W exclusive", "W converted exclusive=false"] });
  });

  it("acquiring outside a critical region is 0xC4 / 0x37 (P2 IRQL, P3 APC disable count, P4 the resource)", async () => {
    let address = 0;
    const bc = await crash(() => {
      const res = resource();
      address = res.address;
      return ExAcquireResourceExclusiveLite(res, true);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_RESOURCE_ACQUIRE_APCS_ENABLED, PASSIVE_LEVEL, 0, address);
  });

  it("releasing a resource the thread does not own is 0xE3 RESOURCE_NOT_OWNED (P1 the resource)", async () => {
    let address = 0;
    const bc = await crash(() => {
      const res = resource();
      address = res.address;
      KeEnterCriticalRegion();
      ExReleaseResourceLite(res);
    });
    expectBugCheck(bc, RESOURCE_NOT_OWNED, address);
  });

  it("asking for exclusive access while holding it shared is 0xC4 / 0x1000; initializing one in use 0xC4 / 0xD0", async () => {
    const bc = await crash(async () => {
      const res = resource();
      KeEnterCriticalRegion();
      await ExAcquireResourceSharedLite(res, true);
      await ExAcquireResourceExclusiveLite(res, true);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_SELF_DEADLOCK);
    expectBugCheck(await crash(() => ExInitializeResourceLite(resource())), DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_RESOURCE_REINITIALIZED);
  });
});

describe("push locks", () => {
  it("readers share, a writer excludes them, and a reader arriving after a waiting writer waits behind it", async () => {
    const machine = await bootDefault();
    const log = await machine.exec(async () => {
      const p = new EX_PUSH_LOCK();
      ExInitializePushLock(p);
      const log: string[] = [];
      KeEnterCriticalRegion();
      await ExAcquirePushLockShared(p);
      spawnThread("W", async () => {
        KeEnterCriticalRegion();
        await ExAcquirePushLockExclusive(p);
        log.push("W");
        await sleep100ns(100);
        ExReleasePushLockExclusive(p);
        KeLeaveCriticalRegion();
      }, 1);
      await sleep100ns(100);
      spawnThread("R", async () => {
        KeEnterCriticalRegion();
        await ExAcquirePushLockShared(p);
        log.push("R");
        ExReleasePushLockShared(p);
        KeLeaveCriticalRegion();
      }, 1);
      await sleep100ns(100);
      log.push("first reader releases");
      ExReleasePushLockShared(p);
      KeLeaveCriticalRegion();
      await until(() => log.length === 3);
      return log;
    });
    expect(log).toEqual(["first reader releases", "W", "R"]);
  });

  it("acquiring with APCs enabled is 0xC4 / 0xEA", async () => {
    const bc = await crash(() => {
      const p = new EX_PUSH_LOCK();
      ExInitializePushLock(p);
      return ExAcquirePushLockExclusive(p);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_PUSH_LOCK_ACQUIRE_APCS_ENABLED, PASSIVE_LEVEL, 0);
  });
});
