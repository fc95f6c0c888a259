// Sleep and resume with the disk as its device's power policy owner (classpnp's power.c):
// S-IRP down, then the D-IRP it requests; going to D3, new requests are held, requests in
// progress finish, SYNCHRONIZE CACHE and START STOP UNIT (stop) go to the device and then the
// D-IRP goes down; back in D0 the D-IRP goes down first, then START STOP UNIT (start), then the
// held requests run.
import { describe, expect, it } from "vitest";
import { IoBuildSynchronousFsdRequest } from "../../src/io/build-irp.js";
import { IoCallDriver, IO_STATUS_BLOCK, IRP_MJ_READ } from "../../src/io/irp.js";
import { IoGetAttachedDeviceReference, ObDereferenceObject } from "../../src/io/objects.js";
import { EVENT_TYPE, KEVENT, KeInitializeEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON } from "../../src/ke/dispatcher.js";
import { STATUS_SUCCESS, type NTSTATUS } from "../../src/ke/ntstatus.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../../src/mm/pool.js";
import { readBytes } from "../../src/mm/memory.js";
import { PO } from "../../src/po/manager.js";
import { DEVICE_POWER_STATE, SYSTEM_POWER_STATE } from "../../src/po/power.js";
import { SCSIOP_READ, SCSIOP_START_STOP_UNIT, SCSIOP_SYNCHRONIZE_CACHE, SCSIOP_WRITE } from "../../src/drivers/storage/scsi.js";
import { SRB_FUNCTION_EXECUTE_SCSI } from "../../src/drivers/storage/srb.js";
import { SRB_TYPE_STORAGE_REQUEST_BLOCK } from "../../src/drivers/storage/ntddstor.js";
import {
  bootDisk, diskFdo, diskResources, firstDifference, pattern, readAt, withDisk, writeAt, type DiskMachine, type SrbLogEntry,
} from "../support/scsi-target.js";

/** A log as short names: SYNC, STOP, START, READ@lba, WRITE@lba, D0..D3. */
function steps(log: SrbLogEntry[]): string[] {
  return log.map((e) => {
    if (e.power) return e.power;
    if (e.function !== SRB_FUNCTION_EXECUTE_SCSI) return `fn${e.function}`;
    switch (e.opcode) {
      case SCSIOP_SYNCHRONIZE_CACHE: return "SYNC";
      case SCSIOP_START_STOP_UNIT: return (e.cdb[4] & 1) !== 0 ? "START" : "STOP";
      case SCSIOP_READ: return `READ@${e.lba}`;
      case SCSIOP_WRITE: return `WRITE@${e.lba}`;
      default: return `op${e.opcode.toString(16)}`;
    }
  });
}

/** A 4 KiB read at `offset` sent to disk 0 from kernel mode without waiting (kernel context). */
function sendRead(dm: DiskMachine, offset: number): { event: KEVENT; iosb: IO_STATUS_BLOCK; va: number; dispatched: Promise<NTSTATUS> } {
  const device = diskFdo(dm.k).DeviceObject;
  const event = new KEVENT();
  KeInitializeEvent(event, EVENT_TYPE.NotificationEvent, false);
  const iosb = new IO_STATUS_BLOCK();
  const va = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 4096, "tPwr");
  const top = IoGetAttachedDeviceReference(device);
  const irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, top, va, 4096, offset, event, iosb)!;
  ObDereferenceObject(top);
  return { event, iosb, va, dispatched: Promise.resolve(IoCallDriver(top, irp)) };
}

/** Waits for a read from sendRead: its status and bytes (kernel context). */
async function readDone(r: ReturnType<typeof sendRead>): Promise<{ status: NTSTATUS; data: Uint8Array }> {
  await r.dispatched;
  await KeWaitForSingleObject(r.event, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
  const data = readBytes(r.va, 4096);
  ExFreePoolWithTag(r.va, "tPwr");
  return { status: r.iosb.Status, data };
}

const sleep = (dm: DiskMachine) => dm.machine.exec(() => PO().setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemSleeping3));
const wake = (dm: DiskMachine) => dm.machine.exec(() => PO().setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemWorking));

describe("sleep and resume", () => {
  it("S3: SYNCHRONIZE CACHE, START STOP UNIT (stop, immediate), then D3 at the unit; S0: D0 first, then START STOP UNIT (start); I/O before and after", async () => {
    const dm = await bootDisk();
    const u = dm.target.units[0];
    const data = pattern(21, 16 * 1024);
    expect((await withDisk(dm, (h) => writeAt(h, 64 * 1024, data))).ok).toBe(true);
    const from = u.log.length;
    expect(await sleep(dm)).toBe(STATUS_SUCCESS);
    expect(steps(u.log.slice(from))).toEqual(["SYNC", "STOP", "D3"]);
    const stop = u.commands(SCSIOP_START_STOP_UNIT).at(-1)!;
    expect([stop.cdb[1] & 1, stop.cdb[4]]).toEqual([1, 0]);
    const fdo = diskFdo(dm.k);
    expect(fdo.DevicePowerState).toBe(DEVICE_POWER_STATE.PowerDeviceD3);
    expect(u.DevicePowerState).toBe(DEVICE_POWER_STATE.PowerDeviceD3);
    expect(u.Started).toBe(false);
    const mid = u.log.length;
    expect(await wake(dm)).toBe(STATUS_SUCCESS);
    expect(steps(u.log.slice(mid))).toEqual(["D0", "START"]);
    expect(fdo.DevicePowerState).toBe(DEVICE_POWER_STATE.PowerDeviceD0);
    expect(u.Started).toBe(true);
    const back = await withDisk(dm, (h) => readAt(h, 64 * 1024, data.length));
    expect(back.ok).toBe(true);
    expect(firstDifference(back.data, data)).toBe(-1);
    expect(diskResources(dm).fixturePending).toBe(0);
  });

  it("requests in progress finish before the SYNCHRONIZE CACHE", async () => {
    const dm = await bootDisk({ latencyUs: 3000 });
    const u = dm.target.units[0];
    const from = u.log.length;
    const r = await dm.machine.exec(async () => {
      const reads = [sendRead(dm, 0), sendRead(dm, 65536), sendRead(dm, 131072)];
      const status = await PO().setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemSleeping3);
      const done = [];
      for (const x of reads) done.push((await readDone(x)).status);
      return { status, done };
    });
    expect(r).toEqual({ status: STATUS_SUCCESS, done: [STATUS_SUCCESS, STATUS_SUCCESS, STATUS_SUCCESS] });
    const log = u.log.slice(from);
    expect(steps(log)).toEqual(["READ@0", "READ@128", "READ@256", "SYNC", "STOP", "D3"]);
    const sync = log[3];
    expect(log.slice(0, 3).every((e) => e.doneTime <= sync.time)).toBe(true);
    await wake(dm);
  });

  it("a read sent while asleep is held until the device is back in D0 and started, then completes with its data", async () => {
    const dm = await bootDisk({ srbType: SRB_TYPE_STORAGE_REQUEST_BLOCK });
    const u = dm.target.units[0];
    const data = pattern(22, 4096);
    await withDisk(dm, async (h) => { await writeAt(h, 8192, data); });
    await sleep(dm);
    const from = u.log.length;
    const r = await dm.machine.exec(async () => {
      const read = sendRead(dm, 8192);
      const heldWhileAsleep = diskFdo(dm.k).HeldRequests.length;
      const seenWhileAsleep = u.log.length - from;
      const status = await PO().setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemWorking);
      const done = await readDone(read);
      return { heldWhileAsleep, seenWhileAsleep, status, readStatus: done.status, data: done.data };
    });
    expect([r.heldWhileAsleep, r.seenWhileAsleep, r.status, r.readStatus]).toEqual([1, 0, STATUS_SUCCESS, STATUS_SUCCESS]);
    expect(firstDifference(r.data, data)).toBe(-1);
    expect(steps(u.log.slice(from))).toEqual(["D0", "START", "READ@16"]);
    expect(u.log.slice(from).every((e) => e.power !== undefined || e.extended)).toBe(true);
  });

  it("sleep and wake twice with I/O in between; nothing is left behind", async () => {
    const dm = await bootDisk();
    await withDisk(dm, (h) => readAt(h, 0, 4096));
    const before = diskResources(dm);
    for (let i = 0; i < 2; i++) {
      await sleep(dm);
      await wake(dm);
      const data = pattern(30 + i, 8192);
      const r = await withDisk(dm, async (h) => ({ w: await writeAt(h, i * 8192, data), r: await readAt(h, i * 8192, 8192) }));
      expect(firstDifference(r.r.data, data)).toBe(-1);
    }
    const after = diskResources(dm);
    expect(after).toEqual(before);
    expect(diskFdo(dm.k).HoldReasons).toBe(0);
  });
});
