// Remove locks (WDK IoInitializeRemoveLock, IoAcquireRemoveLock, IoReleaseRemoveLock,
// IoReleaseRemoveLockAndWait, "Using Remove Locks").
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine,
  IO_REMOVE_LOCK, IoInitializeRemoveLock, IoAcquireRemoveLock, IoReleaseRemoveLock, IoReleaseRemoveLockAndWait,
  KTIMER, KDPC, KeInitializeTimer, KeSetTimer, KeInitializeDpc, KeRaiseIrql, KeGetCurrentIrql, KE,
  STATUS_SUCCESS, STATUS_DELETE_PENDING, DISPATCH_LEVEL,
} from "../../src/index.js";
import { bootDefault, crash, expectBugCheck, sleep100ns, spawnThread } from "../support/kernel-harness.js";

const DRIVER_VERIFIER_DETECTED_VIOLATION = 0xC4;
/** Verifier 0xC4 subcode: a wait with a non-zero timeout at IRQL >= DISPATCH_LEVEL (nt-semantics.md). */
const VERIFIER_WAIT_AT_DISPATCH = 0x3B;

function newLock(): IO_REMOVE_LOCK {
  const lock = new IO_REMOVE_LOCK();
  IoInitializeRemoveLock(lock, 0x6b636f4c, 0, 0);
  return lock;
}

describe("remove locks", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("IoInitializeRemoveLock: not removed, no acquisitions, the remove event not signalled", async () => {
    const r = await machine.exec(() => {
      const lock = newLock();
      return { removed: lock.Common.Removed, count: lock.Common.IoCount, event: lock.Common.RemoveEvent.Header.SignalState };
    });
    expect(r).toEqual({ removed: false, count: 0, event: 0 });
  });

  it("each IoAcquireRemoveLock returns STATUS_SUCCESS and counts one more outstanding acquisition; each IoReleaseRemoveLock one fewer", async () => {
    const r = await machine.exec(() => {
      const lock = newLock();
      const statuses = [IoAcquireRemoveLock(lock, "irp1"), IoAcquireRemoveLock(lock, "irp2"), IoAcquireRemoveLock(lock, null)];
      const held = lock.Common.IoCount;
      IoReleaseRemoveLock(lock, "irp2");
      const afterOne = lock.Common.IoCount;
      IoReleaseRemoveLock(lock, "irp1");
      IoReleaseRemoveLock(lock, null);
      return { statuses, held, afterOne, end: lock.Common.IoCount, event: lock.Common.RemoveEvent.Header.SignalState };
    });
    expect(r).toEqual({ statuses: [STATUS_SUCCESS, STATUS_SUCCESS, STATUS_SUCCESS], held: 3, afterOne: 2, end: 0, event: 0 });
  });

  it("IoReleaseRemoveLockAndWait does not return until every outstanding acquisition has been released", async () => {
    const r = await machine.exec(async () => {
      const lock = newLock();
      const log: string[] = [];
      // Two I/O operations in flight, released 1 ms and 2 ms from now by another thread.
      IoAcquireRemoveLock(lock, "io1");
      IoAcquireRemoveLock(lock, "io2");
      spawnThread("io", async () => {
        await sleep100ns(10_000);
        log.push("release io1");
        IoReleaseRemoveLock(lock, "io1");
        await sleep100ns(10_000);
        log.push("release io2");
        IoReleaseRemoveLock(lock, "io2");
      });
      // IRP_MN_REMOVE_DEVICE: acquire once more, then release and wait.
      IoAcquireRemoveLock(lock, "remove");
      const start = KE().cpu.time;
      await IoReleaseRemoveLockAndWait(lock, "remove");
      log.push("wait returned");
      return { log, waitedMs: (KE().cpu.time - start) / 1e9, count: lock.Common.IoCount };
    });
    expect(r.log).toEqual(["release io1", "release io2", "wait returned"]);
    expect(r.waitedMs).toBeGreaterThanOrEqual(2);
    expect(r.count).toBe(0);
  });

  it("once IoReleaseRemoveLockAndWait has been called, IoAcquireRemoveLock fails with STATUS_DELETE_PENDING and acquires nothing", async () => {
    const r = await machine.exec(async () => {
      const lock = newLock();
      IoAcquireRemoveLock(lock, "io");
      const during: { status: number; count: number }[] = [];
      spawnThread("late", async () => {
        await sleep100ns(10_000);
        during.push({ status: IoAcquireRemoveLock(lock, "late"), count: lock.Common.IoCount });
        IoReleaseRemoveLock(lock, "io");
      });
      IoAcquireRemoveLock(lock, "remove");
      await IoReleaseRemoveLockAndWait(lock, "remove");
      return { during, after: IoAcquireRemoveLock(lock, "after"), count: lock.Common.IoCount, removed: lock.Common.Removed };
    });
    expect(r).toEqual({ during: [{ status: STATUS_DELETE_PENDING, count: 1 }], after: STATUS_DELETE_PENDING, count: 0, removed: true });
  });

  it("with no other acquisition outstanding, IoReleaseRemoveLockAndWait returns without waiting", async () => {
    const r = await machine.exec(async () => {
      const lock = newLock();
      IoAcquireRemoveLock(lock, "remove");
      const start = KE().cpu.time;
      await IoReleaseRemoveLockAndWait(lock, "remove");
      return { waitedUs: (KE().cpu.time - start) / 1e6, count: lock.Common.IoCount };
    });
    expect(r.count).toBe(0);
    expect(r.waitedUs).toBeLessThan(5);
  });

  it("acquisitions may be released at DISPATCH_LEVEL: a release from a DPC ends the wait", async () => {
    const r = await machine.exec(async () => {
      const lock = newLock();
      IoAcquireRemoveLock(lock, "dpc");
      let releasedAt = -1;
      const timer = new KTIMER();
      const dpc = new KDPC();
      KeInitializeTimer(timer);
      KeInitializeDpc(dpc, function ReleaseDpc() {
        releasedAt = KeGetCurrentIrql();
        IoReleaseRemoveLock(lock, "dpc");
      }, null);
      KeSetTimer(timer, -5_000, dpc);
      IoAcquireRemoveLock(lock, "remove");
      await IoReleaseRemoveLockAndWait(lock, "remove");
      return { releasedAt, count: lock.Common.IoCount };
    });
    expect(r).toEqual({ releasedAt: DISPATCH_LEVEL, count: 0 });
  });

  // nt-semantics.md: waiting at DISPATCH_LEVEL or above is a bug (0xC4 / 0x3B under the verifier).
  it("IoReleaseRemoveLockAndWait waits, so it needs PASSIVE_LEVEL: at DISPATCH_LEVEL it is 0xC4 / 0x3B", async () => {
    const bc = await crash(async () => {
      const lock = newLock();
      IoAcquireRemoveLock(lock, "io");
      IoAcquireRemoveLock(lock, "remove");
      KeRaiseIrql(DISPATCH_LEVEL);
      await IoReleaseRemoveLockAndWait(lock, "remove");
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_WAIT_AT_DISPATCH);
  });
});
