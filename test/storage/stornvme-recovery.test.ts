/**
 * Recovery in the storage stack: a command the controller never completes is timed out by
 * the port, the miniport resets the controller and resubmits what was outstanding, and
 * every request completes once with the right data; a controller fatal status is found by
 * the miniport's health check and recovered the same way; a surprise removal of the
 * controller with requests in flight completes every request and leaks nothing; system
 * sleep shuts the controller down (CC.SHN) and resume brings it back with I/O before and
 * after.
 */
import { describe, expect, it } from "vitest";
import { CloseHandle, GetLastError, GetOverlappedResult, OVERLAPPED, ReadFile, CreateEvent, ERROR_IO_PENDING } from "../../src/io/usermode.js";
import { HAL } from "../../src/hal/hal.js";
import { PNP } from "../../src/pnp/manager.js";
import { IO } from "../../src/io/manager.js";
import { PO } from "../../src/po/manager.js";
import { SYSTEM_POWER_STATE } from "../../src/po/power.js";
import { poolUsed } from "../../src/mm/pool.js";
import { kernelOf, sleep100ns, spawnThread } from "../support/kernel-harness.js";
import { adapterOf, bootStorage, nvmeOf, openDisk, pattern, readAt, withDisk, writeAt } from "../support/storage-harness.js";

const BLOCK = 4096;
const PS_PER_S = 1e12;

/** Issues `n` overlapped reads of one block each at blocks 0..n-1; returns their OVERLAPPEDs and buffers. */
async function issueReads(h: number, n: number): Promise<{ ov: OVERLAPPED[]; buffers: Uint8Array[] }> {
  const ov: OVERLAPPED[] = [];
  const buffers: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const o = new OVERLAPPED({ Offset: i * BLOCK, hEvent: CreateEvent(null, true, false, null) });
    const b = new Uint8Array(BLOCK);
    const r = await ReadFile(h, b, BLOCK, o);
    if (!r.ok) expect(GetLastError()).toBe(ERROR_IO_PENDING);
    ov.push(o);
    buffers.push(b);
  }
  return { ov, buffers };
}

describe("a command the controller never completes", () => {
  it("is timed out by the port; the miniport resets the controller and resubmits it, and the read completes once with its data", async () => {
    const machine = await bootStorage();
    const data = pattern(5, BLOCK);
    await withDisk(machine, async (h) => expect((await writeAt(h, 3 * BLOCK, data)).ok).toBe(true));
    machine.injectFault("01:00.0", { kind: "drop", count: 1 });
    const started = machine.nowPs;
    const r = await withDisk(machine, (h) => readAt(h, 3 * BLOCK, BLOCK));
    expect(r.ok).toBe(true);
    expect(Buffer.compare(r.data, data)).toBe(0);
    const a = adapterOf(machine);
    const ext = nvmeOf(machine);
    expect(a.Timeouts).toBe(1);
    expect(a.Resets).toBe(1);
    expect(ext.Resets).toBe(1);
    expect(ext.Resubmitted).toBe(1);
    // The disk class driver gives its requests 10 s (disk.sys's default TimeOutValue); the port checks once a second.
    const waited = (machine.nowPs - started) / PS_PER_S;
    expect(waited).toBeGreaterThanOrEqual(10);
    expect(waited).toBeLessThan(12);
    // Everything went back: no request outstanding at the port, the units or the controller.
    expect(a.Outstanding).toBe(0);
    expect(ext.IoQueues.every((q) => q.Outstanding === 0)).toBe(true);
    expect([...a.Units.values()].every((u) => u.Pending.length === 0 && u.Outstanding === 0)).toBe(true);
  });

  it("with others in flight: all of them complete once, with the right data, after one reset", async () => {
    const machine = await bootStorage();
    await withDisk(machine, async (h) => {
      for (let i = 0; i < 8; i++) expect((await writeAt(h, i * BLOCK, pattern(100 + i, BLOCK))).ok).toBe(true);
    });
    machine.injectFault("01:00.0", { kind: "drop", count: 1 });
    const results = await withDisk(machine, async (h) => {
      const { ov, buffers } = await issueReads(h, 8);
      const out: { ok: boolean; bytes: number }[] = [];
      for (const o of ov) {
        const r = await GetOverlappedResult(h, o, true);
        out.push({ ok: r.ok, bytes: r.bytes });
      }
      return { out, buffers };
    }, { overlapped: true });
    expect(results.out).toEqual(Array.from({ length: 8 }, () => ({ ok: true, bytes: BLOCK })));
    results.buffers.forEach((b, i) => expect(Buffer.compare(b, pattern(100 + i, BLOCK))).toBe(0));
    expect(adapterOf(machine).Resets).toBe(1);
    expect(nvmeOf(machine).Resubmitted).toBe(1);
    expect(adapterOf(machine).Outstanding).toBe(0);
  });
});

describe("a controller fatal status", () => {
  it("is found by the health check within a second; the controller is reset and the read completes with its data", async () => {
    const machine = await bootStorage({ nvme: { readLatencyNs: 50_000_000 } });
    const data = pattern(9, BLOCK);
    await withDisk(machine, async (h) => expect((await writeAt(h, 0, data)).ok).toBe(true));
    const r = await withDisk(machine, (h) => {
      // The read is at the controller (its media time is 50 ms) when the controller fails, 1 ms in.
      spawnThread("controller failure", async () => {
        await sleep100ns(10_000);
        machine.injectFault("01:00.0", { kind: "fatal" });
      });
      return readAt(h, 0, BLOCK);
    });
    expect(r.ok).toBe(true);
    expect(Buffer.compare(r.data, data)).toBe(0);
    expect(nvmeOf(machine).Resets).toBe(1);
    expect(adapterOf(machine).Timeouts).toBe(0);
  });
});

describe("surprise removal of the controller", () => {
  it("completes every request in flight with an error, removes the disk, and leaves no IRP, pool or device object behind", async () => {
    const machine = await bootStorage({ nvme: { readLatencyNs: 5_000_000 } });
    const k = kernelOf(machine);
    const tags = ["RaiA", "RaiU", "RaiD", "RaiI", "Iosb"];
    const { out } = await machine.runProgram("removal", async () => {
      // Six reads are at the controller (5 ms of media time each) when it is pulled out, 1 ms in.
      spawnThread("hot-unplug", async () => {
        await sleep100ns(10_000);
        HAL(k).presenceChanged(machine.pullFunction("01:00.0"));
      });
      const h = await openDisk(0, true);
      const { ov } = await issueReads(h, 6);
      const out: boolean[] = [];
      for (const o of ov) out.push((await GetOverlappedResult(h, o, true)).ok);
      const error = GetLastError();
      await CloseHandle(h);
      return { out, error };
    });
    expect(out).toEqual([false, false, false, false, false, false]);
    // The last close let the PnP manager remove the stacks; let its thread finish.
    await machine.exec(() => PNP(k).perform("sync", async () => {}));
    expect(IO(k).irps.size).toBe(0);
    expect(IO(k).namespace.has("\\device\\harddisk0\\dr0")).toBe(false);
    expect(IO(k).namespace.has("\\device\\raidport0")).toBe(false);
    const held = await machine.exec(() => poolUsed().filter((t) => tags.includes(t.tag) && t.nonPaged.bytes > 0).map((t) => `${t.tag} ${t.nonPaged.bytes}`));
    expect(held).toEqual([]);
  });
});

describe("system sleep and resume", () => {
  it("shuts the controller down on the way to S3 and brings it back in S0; I/O works before and after", async () => {
    const machine = await bootStorage();
    const before = pattern(21, 8 * BLOCK);
    await withDisk(machine, async (h) => expect((await writeAt(h, 0, before)).ok).toBe(true));
    const asleep = { shutdown: false, stopped: false };
    await machine.exec(async () => {
      await PO().setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemSleeping3);
      asleep.shutdown = nvmeOf(machine).ShutdownComplete;
      asleep.stopped = nvmeOf(machine).Stopped;
      await PO().setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemWorking);
    });
    // CSTS.SHST read "complete" before the controller left D0 (its registers read as all ones in D3hot).
    expect(asleep).toEqual({ shutdown: true, stopped: true });
    expect(nvmeOf(machine).Stopped).toBe(false);
    const r = await withDisk(machine, async (h) => {
      const read = await readAt(h, 0, 8 * BLOCK);
      const after = pattern(22, BLOCK);
      const w = await writeAt(h, 64 * BLOCK, after);
      const back = await readAt(h, 64 * BLOCK, BLOCK);
      return { read, w, back, after };
    });
    expect(Buffer.compare(r.read.data, before)).toBe(0);
    expect(r.w.ok).toBe(true);
    expect(Buffer.compare(r.back.data, r.after)).toBe(0);
    expect(adapterOf(machine).DevicePowerState).toBe(1);
  });
});
