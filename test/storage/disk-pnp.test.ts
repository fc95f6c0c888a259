// PnP for the disk FDO as classpnp does it (ClassDispatchPnp, ClassRemoveDevice): orderly
// removal and surprise removal with requests in flight (they complete with the port's
// status; the FDO goes only when every request has left: the remove lock), stop and restart
// holding new requests, numbers and names given back, and nothing left behind.
import { describe, expect, it } from "vitest";
import { IoBuildSynchronousFsdRequest } from "../../src/io/build-irp.js";
import { IoCallDriver, IoSetCompletionRoutine, IO_STATUS_BLOCK, IRP_MJ_READ } from "../../src/io/irp.js";
import { IoGetAttachedDeviceReference, ObDereferenceObject } from "../../src/io/objects.js";
import { IO } from "../../src/io/manager.js";
import { EVENT_TYPE, KEVENT, KeInitializeEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON } from "../../src/ke/dispatcher.js";
import { STATUS_DEVICE_DOES_NOT_EXIST, STATUS_NO_SUCH_DEVICE, STATUS_SUCCESS, type NTSTATUS } from "../../src/ke/ntstatus.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../../src/mm/pool.js";
import { disableDevice, enableDevice, restartDevice, stopDevice } from "../../src/pnp/requests.js";
import { PNP_DEVNODE_STATE } from "../../src/pnp/devnode.js";
import { IRP_MN_QUERY_REMOVE_DEVICE, IRP_MN_REMOVE_DEVICE, IRP_MN_SURPRISE_REMOVAL } from "../../src/pnp/minor.js";
import {
  CloseHandle, CreateFile, ERROR_BAD_UNIT, ERROR_FILE_NOT_FOUND, ERROR_IO_PENDING, GENERIC_READ, GetLastError, GetOverlappedResult, INVALID_HANDLE_VALUE,
  OPEN_EXISTING, ReadFile, Sleep,
} from "../../src/io/usermode.js";
import { SCSIOP_READ } from "../../src/drivers/storage/scsi.js";
import { SRB_STATUS, SRB_STATUS_NO_DEVICE } from "../../src/drivers/storage/srb.js";
import {
  at, bootDisk, diskFdo, diskFdos, diskResources, openDisk, pattern, pnpSettled, readAt, readWriteLog, unitNode, whenReady, withDisk, writeAt,
  type DiskMachine, type DiskResources,
} from "../support/scsi-target.js";

/** What a disk that is entirely gone leaves: nothing. */
function expectNothingLeft(r: DiskResources): void {
  expect(r.irps).toBe(0);
  expect(r.packets).toBe(0);
  expect(r.diskOwnedBlocks).toBe(0);
  expect(r.diskOwnedBytes).toBe(0);
  expect(Object.keys(r.pool).filter((t) => t !== "Mdl ")).toEqual([]);
  expect(r.diskDevices).toBe(0);
  expect(r.links).toEqual([]);
  expect(r.enabledInterfaces).toBe(0);
  expect(r.diskCount).toBe(0);
  expect(r.fixturePending).toBe(0);
  expect(r.driverLoaded).toBe(false);
}

/** Sends `count` reads of 4 KiB (at 64 KiB apart) to disk 0 and returns their events and status blocks (kernel context). */
function startReads(dm: DiskMachine, count: number): { events: KEVENT[]; iosbs: IO_STATUS_BLOCK[]; buffers: number[]; dispatched: Promise<NTSTATUS>[]; fdoDeletedAtCompletion: boolean[] } {
  const device = diskFdo(dm.k).DeviceObject;
  const fdoDeletedAtCompletion: boolean[] = [];
  const events: KEVENT[] = [];
  const iosbs: IO_STATUS_BLOCK[] = [];
  const buffers: number[] = [];
  const dispatched: Promise<NTSTATUS>[] = [];
  for (let i = 0; i < count; i++) {
    const e = new KEVENT();
    KeInitializeEvent(e, EVENT_TYPE.NotificationEvent, false);
    const iosb = new IO_STATUS_BLOCK();
    const va = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 4096, "tRd ");
    const top = IoGetAttachedDeviceReference(device);
    const irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, top, va, 4096, i * 64 * 1024, e, iosb)!;
    ObDereferenceObject(top);
    // Whether the FDO still existed when the request completed.
    IoSetCompletionRoutine(irp, () => {
      fdoDeletedAtCompletion.push(device.deleted);
      // STATUS_CONTINUE_COMPLETION.
      return STATUS_SUCCESS;
    }, null, true, true, true);
    dispatched.push(Promise.resolve(IoCallDriver(top, irp)));
    events.push(e);
    iosbs.push(iosb);
    buffers.push(va);
  }
  return { events, iosbs, buffers, dispatched, fdoDeletedAtCompletion };
}

/** Waits for reads from startReads and frees their buffers; their final statuses. */
async function finishReads(r: ReturnType<typeof startReads>): Promise<NTSTATUS[]> {
  await Promise.all(r.dispatched);
  for (const e of r.events) await KeWaitForSingleObject(e, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
  for (const va of r.buffers) ExFreePoolWithTag(va, "tRd ");
  return r.iosbs.map((b) => b.Status);
}

describe("orderly removal (disable)", () => {
  it("requests in flight complete with the port's status before the FDO goes; then nothing of the disk is left and the driver unloads", async () => {
    const dm = await bootDisk({ latencyUs: 2000 });
    const u = dm.target.units[0];
    await withDisk(dm, async (h) => { await writeAt(h, 0, pattern(1, 64 * 1024)); });
    const node = unitNode(dm, u);
    const live = diskResources(dm);
    expect(live.diskOwnedBlocks).toBeGreaterThan(0);
    expect([live.driverLoaded, live.diskDevices, live.enabledInterfaces, live.diskCount, live.links.length]).toEqual([true, 1, 1, 1, 2]);
    const from = readWriteLog(u).length;
    const result = await dm.machine.exec(async () => {
      const fdo = diskFdo(dm.k).DeviceObject;
      const reads = startReads(dm, 6);
      const disabled = await disableDevice(node);
      const statuses = await finishReads(reads);
      return { disabled: disabled.ok, statuses, deleted: reads.fdoDeletedAtCompletion, fdoDeleted: fdo.deleted };
    });
    expect(result.disabled).toBe(true);
    // The FDO went only after every request had completed (the remove lock).
    expect(result.deleted).toEqual(Array(6).fill(false));
    expect(result.fdoDeleted).toBe(true);
    // The port failed what it had when the unit's PDO was removed.
    expect(result.statuses).toEqual(Array(6).fill(STATUS_NO_SUCH_DEVICE));
    const reads = readWriteLog(u).slice(from);
    expect(reads.length).toBe(6);
    expect(reads.every((e) => SRB_STATUS(e.srbStatus) === SRB_STATUS_NO_DEVICE)).toBe(true);
    // QUERY_REMOVE, then REMOVE reached the PDO while the reads were at the device: they ended with it.
    const removeAt = u.pnpLog.find((p) => p.minor === IRP_MN_REMOVE_DEVICE)!.time;
    expect(u.pnpLog.some((p) => p.minor === IRP_MN_QUERY_REMOVE_DEVICE && p.time < removeAt)).toBe(true);
    expect(reads.every((e) => e.time < removeAt && e.doneTime >= removeAt)).toBe(true);
    expect(node.State).toBe(PNP_DEVNODE_STATE.DeviceNodeRemoved);
    expectNothingLeft(diskResources(dm));
  });

  it("requests that complete before the removal are untouched; a new request after it cannot open the disk", async () => {
    const dm = await bootDisk();
    const node = unitNode(dm, dm.target.units[0]);
    await withDisk(dm, async (h) => { await readAt(h, 0, 512); });
    await dm.machine.exec(() => disableDevice(node));
    const r = await dm.machine.runProgram("after", async () => {
      const h = await CreateFile("\\\\.\\PhysicalDrive0", GENERIC_READ, 0, null, OPEN_EXISTING, 0, null);
      return { invalid: h === INVALID_HANDLE_VALUE, error: GetLastError() };
    });
    expect(r).toEqual({ invalid: true, error: ERROR_FILE_NOT_FOUND });
  });

  it("enable after disable: the disk comes back as disk 0 with its names, links and interface, and its data", async () => {
    const dm = await bootDisk();
    const node = unitNode(dm, dm.target.units[0]);
    const data = pattern(5, 8192);
    await withDisk(dm, async (h) => { await writeAt(h, 8192, data); });
    await dm.machine.exec(() => disableDevice(node));
    expect((await dm.machine.exec(() => enableDevice(node))).ok).toBe(true);
    const fdo = diskFdo(dm.k);
    expect(fdo.DeviceName).toBe("\\Device\\Harddisk0\\DR0");
    const r = diskResources(dm);
    expect([r.diskCount, r.enabledInterfaces, r.diskDevices]).toEqual([1, 1, 1]);
    expect(r.links).toEqual(["\\device\\harddisk0\\partition0", "\\dosdevices\\physicaldrive0"]);
    const back = await withDisk(dm, (h) => readAt(h, 8192, 8192));
    expect(back.data).toEqual(data);
  });

  it("a removed disk's number is given to the next disk; the others keep theirs", async () => {
    const dm = await bootDisk({ units: [{ serial: "A" }, { serial: "B" }] });
    const byNumber = diskFdos(dm.k);
    const first = dm.target.units.find((u) => u.Self === byNumber.get(0)!.LowerPdo)!;
    const second = dm.target.units.find((u) => u.Self === byNumber.get(1)!.LowerPdo)!;
    await dm.machine.exec(() => disableDevice(unitNode(dm, first)));
    expect([...diskFdos(dm.k).keys()]).toEqual([1]);
    expect(diskResources(dm).diskCount).toBe(1);
    expect(diskResources(dm).links).toEqual(["\\device\\harddisk1\\partition0", "\\dosdevices\\physicaldrive1"]);
    await dm.machine.exec(() => enableDevice(unitNode(dm, first)));
    expect(diskFdo(dm.k, 0).LowerPdo).toBe(first.Self);
    expect(diskFdo(dm.k, 1).LowerPdo).toBe(second.Self);
    expect(diskResources(dm).diskCount).toBe(2);
  });
});

describe("surprise removal", () => {
  it("a request the device never finishes fails with the port's status when the unit is pulled; later requests fail; the FDO goes when the handle closes", async () => {
    const dm = await bootDisk();
    const u = dm.target.units[0];
    u.hangNext(1);
    // Pull the unit once the read is stuck at the device.
    await whenReady(dm, () => [...u.pending].some((c) => c.hung), () => u.unplug());
    const r = await dm.machine.runProgram("surprise", async () => {
      const h = await openDisk(0, true);
      const ov = at(4096);
      const first = await ReadFile(h, new Uint8Array(4096), 4096, ov);
      const firstError = GetLastError();
      const done = await GetOverlappedResult(h, ov, true);
      const doneError = GetLastError();
      // The PnP manager's surprise removal has run by now.
      await Sleep(5);
      const later = await ReadFile(h, new Uint8Array(512), 512, at(0));
      const laterError = GetLastError();
      const before = diskResources(dm);
      await CloseHandle(h);
      return { first: [first.ok, firstError], done: [done.ok, doneError], later: [later.ok, laterError], before };
    });
    expect(r.first).toEqual([false, ERROR_IO_PENDING]);
    expect(r.done).toEqual([false, ERROR_FILE_NOT_FOUND]);
    expect(r.later).toEqual([false, ERROR_BAD_UNIT]);
    // Between SURPRISE_REMOVAL and REMOVE: the names and the interface are gone, the FDO waits for the close.
    expect(r.before.links).toEqual([]);
    expect(r.before.enabledInterfaces).toBe(0);
    expect(r.before.diskDevices).toBe(1);
    await pnpSettled(dm);
    expect(u.pnpLog.map((p) => p.minor).filter((m) => m === IRP_MN_SURPRISE_REMOVAL || m === IRP_MN_REMOVE_DEVICE)).toEqual([IRP_MN_SURPRISE_REMOVAL, IRP_MN_REMOVE_DEVICE]);
    expect(u.Self.deleted).toBe(true);
    expectNothingLeft(diskResources(dm));
  });

  it("many requests in flight when the unit is pulled all complete, each once, with the port's status", async () => {
    const dm = await bootDisk({ latencyUs: 1000, maximumTransferLength: 16 * 1024 });
    const u = dm.target.units[0];
    const from = readWriteLog(u).length;
    const statuses = await dm.machine.exec(async () => {
      const reads = startReads(dm, 5);
      u.unplug();
      return finishReads(reads);
    });
    expect(statuses).toEqual(Array(5).fill(STATUS_NO_SUCH_DEVICE));
    expect(readWriteLog(u).slice(from).every((e) => e.opcode === SCSIOP_READ && SRB_STATUS(e.srbStatus) === SRB_STATUS_NO_DEVICE)).toBe(true);
    await pnpSettled(dm);
    expectNothingLeft(diskResources(dm));
  });
});

describe("stop and restart", () => {
  it("a read sent while the disk is stopped is held, and runs when it starts again", async () => {
    const dm = await bootDisk();
    const u = dm.target.units[0];
    const data = pattern(7, 4096);
    await withDisk(dm, async (h) => { await writeAt(h, 0, data); });
    const node = unitNode(dm, u);
    const r = await dm.machine.exec(async () => {
      const stopped = (await stopDevice(node)).ok;
      const before = readWriteLog(u).length;
      const reads = startReads(dm, 1);
      const heldAtDevice = readWriteLog(u).length - before;
      const held = diskFdo(dm.k).HeldRequests.length;
      const restarted = (await restartDevice(node)).ok;
      const statuses = await finishReads(reads);
      return { stopped, heldAtDevice, held, restarted, statuses };
    });
    expect(r).toEqual({ stopped: true, heldAtDevice: 0, held: 1, restarted: true, statuses: [STATUS_SUCCESS] });
    expect(node.State).toBe(PNP_DEVNODE_STATE.DeviceNodeStarted);
    const back = await withDisk(dm, (h) => readAt(h, 0, 4096));
    expect(back.data).toEqual(data);
  });

  it("requests held while stopped fail with STATUS_DEVICE_DOES_NOT_EXIST when the disk is removed instead", async () => {
    const dm = await bootDisk();
    const u = dm.target.units[0];
    const node = unitNode(dm, u);
    const statuses = await dm.machine.exec(async () => {
      await stopDevice(node);
      const reads = startReads(dm, 2);
      await disableDevice(node);
      return finishReads(reads);
    });
    expect(statuses).toEqual([STATUS_DEVICE_DOES_NOT_EXIST, STATUS_DEVICE_DOES_NOT_EXIST]);
    expect(IO(dm.k).drivers.has("disk")).toBe(false);
    expectNothingLeft(diskResources(dm));
  });
});
