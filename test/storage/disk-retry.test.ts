// Retries and final statuses of reads and writes, as classpnp's transfer packets do them
// (InterpretTransferPacketError, RetryTransferPacket; MAXIMUM_RETRIES = 4 retries, the last
// one toned down; NumIoTimeoutRetries for timeouts and bus resets) with ClassInterpretSenseInfo's
// statuses and retry intervals.
import { describe, expect, it } from "vitest";
import {
  ERROR_CRC, ERROR_DEVICE_HARDWARE_ERROR, ERROR_IO_DEVICE, ERROR_NOT_READY, ERROR_SECTOR_NOT_FOUND, ERROR_SEM_TIMEOUT,
} from "../../src/io/usermode.js";
import { STATUS_DEVICE_DATA_ERROR, STATUS_SUCCESS } from "../../src/ke/ntstatus.js";
import {
  SCSI_ADSENSE_BUS_RESET, SCSI_ADSENSE_ILLEGAL_BLOCK, SCSI_ADSENSE_INTERNAL_TARGET_FAILURE, SCSI_ADSENSE_LUN_NOT_READY, SCSI_ADSENSE_UNRECOVERED_ERROR,
  SCSI_SENSE_HARDWARE_ERROR, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_SENSE_MEDIUM_ERROR, SCSI_SENSE_NOT_READY, SCSI_SENSE_UNIT_ATTENTION,
  SCSI_SENSEQ_BECOMING_READY, SCSIOP_READ, SCSIOP_WRITE,
} from "../../src/drivers/storage/scsi.js";
import {
  SP_UNTAGGED, SRB_FLAGS_DISABLE_DISCONNECT, SRB_FLAGS_DISABLE_SYNCH_TRANSFER, SRB_FLAGS_QUEUE_ACTION_ENABLE, SRB_STATUS, SRB_STATUS_BUS_RESET,
  SRB_STATUS_SELECTION_TIMEOUT, SRB_STATUS_SUCCESS, SRB_STATUS_TIMEOUT,
} from "../../src/drivers/storage/srb.js";
import {
  bootDisk, diskFdo, diskResources, firstDifference, kernelTransfer, pattern, readAt, readWriteLog, withDisk, writeAt, type DiskMachine, type SrbLogEntry,
} from "../support/scsi-target.js";

/** Simulated picoseconds per second. */
const PS_PER_S = 1e12;
const TONED_DOWN = SRB_FLAGS_DISABLE_DISCONNECT | SRB_FLAGS_DISABLE_SYNCH_TRANSFER;

/** Boots a disk with 4 KiB of data at LBA 8 and returns the log position after the start sequence. */
async function diskWithData(): Promise<{ dm: DiskMachine; data: Uint8Array; from: number }> {
  const data = pattern(11, 4096);
  const dm = await bootDisk({}, [{ unit: 0, lba: 8, data }]);
  return { dm, data, from: readWriteLog(dm.target.units[0]).length };
}

/** Seconds between one attempt's completion and the next attempt's arrival. */
function gaps(attempts: SrbLogEntry[]): number[] {
  return attempts.slice(1).map((e, i) => (e.time - attempts[i].doneTime) / PS_PER_S);
}

describe("retries", () => {
  it("SRB_STATUS_BUS_RESET once: retried at once with the same SRB, and the read completes once with the data", async () => {
    const { dm, data, from } = await diskWithData();
    const u = dm.target.units[0];
    u.injectSrbStatus(1, SRB_STATUS_BUS_RESET, [SCSIOP_READ]);
    const r = await withDisk(dm, (h) => readAt(h, 8 * 512, 4096));
    expect(r).toMatchObject({ ok: true, bytes: 4096 });
    expect(r.data).toEqual(data);
    const attempts = readWriteLog(u).slice(from);
    expect(attempts.map((e) => [e.lba, e.blocks, SRB_STATUS(e.srbStatus)])).toEqual([[8, 8, SRB_STATUS_BUS_RESET], [8, 8, SRB_STATUS_SUCCESS]]);
    expect(gaps(attempts)[0]).toBeLessThan(0.001);
    // Not the last retry: still tagged.
    expect(attempts[1].srbFlags & SRB_FLAGS_QUEUE_ACTION_ENABLE).toBe(SRB_FLAGS_QUEUE_ACTION_ENABLE);
    expect(attempts[1].srbFlags & TONED_DOWN).toBe(0);
  });

  it("a persistent bus reset fails after 1 + 4 attempts, the last one toned down (no disconnect, no synchronous transfer, untagged)", async () => {
    const { dm, from } = await diskWithData();
    const u = dm.target.units[0];
    u.injectSrbStatus(100, SRB_STATUS_BUS_RESET, [SCSIOP_READ]);
    const r = await withDisk(dm, (h) => readAt(h, 8 * 512, 4096));
    expect(r).toMatchObject({ ok: false, bytes: 0, error: ERROR_IO_DEVICE });
    const attempts = readWriteLog(u).slice(from);
    expect(attempts.length).toBe(5);
    expect(attempts.every((e) => e.lba === 8 && e.blocks === 8)).toBe(true);
    for (const e of attempts.slice(0, 4)) {
      expect(e.srbFlags & TONED_DOWN).toBe(0);
      expect(e.srbFlags & SRB_FLAGS_QUEUE_ACTION_ENABLE).toBe(SRB_FLAGS_QUEUE_ACTION_ENABLE);
      expect(e.queueTag).not.toBe(SP_UNTAGGED);
    }
    const last = attempts[4];
    expect(last.srbFlags & TONED_DOWN).toBe(TONED_DOWN);
    expect(last.srbFlags & SRB_FLAGS_QUEUE_ACTION_ENABLE).toBe(0);
    expect(last.queueTag).toBe(SP_UNTAGGED);
    expect(u.statusInjections[0].remaining).toBe(95);
  });

  it("a timeout is STATUS_IO_TIMEOUT (ERROR_SEM_TIMEOUT), retried a second apart, 5 attempts in all, and counted as a device error", async () => {
    const { dm, from } = await diskWithData();
    const u = dm.target.units[0];
    u.injectSrbStatus(100, SRB_STATUS_TIMEOUT, [SCSIOP_WRITE]);
    const r = await withDisk(dm, (h) => writeAt(h, 8 * 512, new Uint8Array(512)));
    expect(r).toMatchObject({ ok: false, error: ERROR_SEM_TIMEOUT });
    const attempts = readWriteLog(u).slice(from);
    expect(attempts.length).toBe(5);
    for (const g of gaps(attempts)) expect(g).toBeGreaterThanOrEqual(1);
    for (const g of gaps(attempts)) expect(g).toBeLessThan(1.01);
    expect(attempts[4].srbFlags & TONED_DOWN).toBe(TONED_DOWN);
    expect(diskFdo(dm.k).PrivateFdoData.ErrorCount).toBe(5);
  });

  it("UNIT ATTENTION once: retried at once, succeeds, and raises the media change count", async () => {
    const { dm, data, from } = await diskWithData();
    const u = dm.target.units[0];
    const before = diskFdo(dm.k).MediaChangeCount;
    u.injectCheckCondition(1, SCSI_SENSE_UNIT_ATTENTION, SCSI_ADSENSE_BUS_RESET, 0, [SCSIOP_READ]);
    const r = await withDisk(dm, (h) => readAt(h, 8 * 512, 4096));
    expect(r.data).toEqual(data);
    const attempts = readWriteLog(u).slice(from);
    expect(attempts.length).toBe(2);
    expect(gaps(attempts)[0]).toBeLessThan(0.001);
    expect(diskFdo(dm.k).MediaChangeCount).toBe(before + 1);
  });

  it("NOT READY / BECOMING READY: retried after NOT_READY_RETRY_INTERVAL (10 s)", async () => {
    const { dm, data, from } = await diskWithData();
    const u = dm.target.units[0];
    u.injectCheckCondition(2, SCSI_SENSE_NOT_READY, SCSI_ADSENSE_LUN_NOT_READY, SCSI_SENSEQ_BECOMING_READY, [SCSIOP_READ]);
    const r = await withDisk(dm, (h) => readAt(h, 8 * 512, 4096));
    expect(r.data).toEqual(data);
    const attempts = readWriteLog(u).slice(from);
    expect(attempts.length).toBe(3);
    for (const g of gaps(attempts)) {
      expect(g).toBeGreaterThanOrEqual(10);
      expect(g).toBeLessThan(10.01);
    }
  });

  it("ILLEGAL REQUEST / LBA OUT OF RANGE for an LBA inside the capacity is retried after 5 s", async () => {
    const { dm, data, from } = await diskWithData();
    const u = dm.target.units[0];
    u.injectCheckCondition(1, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ADSENSE_ILLEGAL_BLOCK, 0, [SCSIOP_READ]);
    const r = await withDisk(dm, (h) => readAt(h, 8 * 512, 4096));
    expect(r.data).toEqual(data);
    const attempts = readWriteLog(u).slice(from);
    expect(attempts.length).toBe(2);
    expect(gaps(attempts)[0]).toBeGreaterThanOrEqual(5);
    expect(gaps(attempts)[0]).toBeLessThan(5.01);
    // Persistently: ERROR_SECTOR_NOT_FOUND after all the retries.
    u.injectCheckCondition(100, SCSI_SENSE_ILLEGAL_REQUEST, SCSI_ADSENSE_ILLEGAL_BLOCK, 0, [SCSIOP_READ]);
    const bad = await withDisk(dm, (h) => readAt(h, 8 * 512, 4096));
    expect(bad.error).toBe(ERROR_SECTOR_NOT_FOUND);
    expect(readWriteLog(u).slice(from).length).toBe(2 + 5);
  });

  it("MEDIUM ERROR is STATUS_DEVICE_DATA_ERROR (ERROR_CRC) and HARDWARE ERROR STATUS_DEVICE_HARDWARE_ERROR, neither retried", async () => {
    const { dm, from } = await diskWithData();
    const u = dm.target.units[0];
    u.injectCheckCondition(1, SCSI_SENSE_MEDIUM_ERROR, SCSI_ADSENSE_UNRECOVERED_ERROR, 0, [SCSIOP_READ]);
    const medium = await withDisk(dm, (h) => readAt(h, 8 * 512, 4096));
    u.injectCheckCondition(1, SCSI_SENSE_HARDWARE_ERROR, SCSI_ADSENSE_INTERNAL_TARGET_FAILURE, 0, [SCSIOP_WRITE]);
    const hardware = await withDisk(dm, (h) => writeAt(h, 8 * 512, new Uint8Array(512)));
    expect(medium.error).toBe(ERROR_CRC);
    expect(hardware.error).toBe(ERROR_DEVICE_HARDWARE_ERROR);
    expect(readWriteLog(u).slice(from).map((e) => e.opcode)).toEqual([SCSIOP_READ, SCSIOP_WRITE]);
  });

  it("SRB_STATUS_SELECTION_TIMEOUT: the device is not there (STATUS_DEVICE_NOT_CONNECTED, ERROR_NOT_READY), not retried", async () => {
    const { dm, from } = await diskWithData();
    const u = dm.target.units[0];
    u.injectSrbStatus(1, SRB_STATUS_SELECTION_TIMEOUT, [SCSIOP_READ]);
    const r = await withDisk(dm, (h) => readAt(h, 8 * 512, 512));
    expect(r.error).toBe(ERROR_NOT_READY);
    expect(readWriteLog(u).slice(from).length).toBe(1);
  });

  it("a split request with one failing piece: the piece's status, Information the bytes the other pieces moved; the others are not resent", async () => {
    const dm = await bootDisk({ maximumTransferLength: 64 * 1024 });
    const u = dm.target.units[0];
    const from = readWriteLog(u).length;
    const payload = pattern(12, 192 * 1024);
    expect((await kernelTransfer(dm, true, 0, payload.length, payload)).status).toBe(STATUS_SUCCESS);
    // Only the second piece (LBAs 128..255) fails.
    u.injectCheckCondition(1, SCSI_SENSE_MEDIUM_ERROR, SCSI_ADSENSE_UNRECOVERED_ERROR, 0, [SCSIOP_READ], 200);
    const r = await kernelTransfer(dm, false, 0, payload.length);
    expect(r.status).toBe(STATUS_DEVICE_DATA_ERROR);
    expect(r.information).toBe(128 * 1024);
    // The pieces that succeeded carry their data: the first and the last 64 KiB.
    expect(firstDifference(r.data.subarray(0, 64 * 1024), payload.subarray(0, 64 * 1024))).toBe(-1);
    expect(firstDifference(r.data.subarray(128 * 1024), payload.subarray(128 * 1024))).toBe(-1);
    const reads = readWriteLog(u).slice(from).filter((e) => e.opcode === SCSIOP_READ);
    expect(reads.map((e) => [e.lba, SRB_STATUS(e.srbStatus)])).toEqual([[0, SRB_STATUS_SUCCESS], [128, 4], [256, SRB_STATUS_SUCCESS]]);
    expect(diskResources(dm).fixturePending).toBe(0);
  });
});
