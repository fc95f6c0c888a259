// IRP_MJ_FLUSH_BUFFERS as disk.sys handles it (DiskShutdownFlush, DiskFlushDispatch,
// DiskFlushComplete): SYNCHRONIZE CACHE when the write cache is on, then SRB_FUNCTION_FLUSH
// in the request itself; flushes that arrive while one is at the device are combined into
// one more group.
import { describe, expect, it } from "vitest";
import { STATUS_DEVICE_DATA_ERROR, STATUS_SUCCESS } from "../../src/ke/ntstatus.js";
import { SCSI_ADSENSE_UNRECOVERED_ERROR, SCSI_SENSE_MEDIUM_ERROR, SCSIOP_SYNCHRONIZE_CACHE } from "../../src/drivers/storage/scsi.js";
import { SP_UNTAGGED, SRB_FUNCTION_EXECUTE_SCSI, SRB_FUNCTION_FLUSH } from "../../src/drivers/storage/srb.js";
import { SRB_TYPE_STORAGE_REQUEST_BLOCK } from "../../src/drivers/storage/ntddstor.js";
import { bootDisk, diskResources, kernelFlushes, type SrbLogEntry } from "../support/scsi-target.js";

/** The flush-related entries of a log: "SYNC" for SYNCHRONIZE CACHE, "FLUSH" for SRB_FUNCTION_FLUSH. */
function flushSteps(log: SrbLogEntry[]): string[] {
  return log.flatMap((e) => (e.function === SRB_FUNCTION_FLUSH ? ["FLUSH"] : e.function === SRB_FUNCTION_EXECUTE_SCSI && e.opcode === SCSIOP_SYNCHRONIZE_CACHE ? ["SYNC"] : []));
}

describe("IRP_MJ_FLUSH_BUFFERS", () => {
  it("a flush on a disk with its write cache on: SYNCHRONIZE CACHE, then SRB_FUNCTION_FLUSH, both untagged with four times the timeout", async () => {
    const dm = await bootDisk();
    const u = dm.target.units[0];
    const from = u.log.length;
    expect(await kernelFlushes(dm, 1)).toEqual([STATUS_SUCCESS]);
    const log = u.log.slice(from);
    expect(flushSteps(log)).toEqual(["SYNC", "FLUSH"]);
    for (const e of log) {
      expect(e.queueTag).toBe(SP_UNTAGGED);
      expect(e.timeOutValue).toBe(40);
    }
    // The flush goes in the caller's request: the SYNCHRONIZE CACHE was done first.
    expect(log[1].time).toBeGreaterThanOrEqual(log[0].doneTime);
  });

  it("a disk without a write cache gets only SRB_FUNCTION_FLUSH", async () => {
    const dm = await bootDisk({ units: [{ writeCache: false }] });
    const u = dm.target.units[0];
    const from = u.log.length;
    expect(await kernelFlushes(dm, 2)).toEqual([STATUS_SUCCESS, STATUS_SUCCESS]);
    expect(flushSteps(u.log.slice(from))).toEqual(["FLUSH", "FLUSH"]);
  });

  it("flushes arriving while one is at the device form one more group: six requests, two trips to the device", async () => {
    const dm = await bootDisk({ latencyUs: 500 });
    const u = dm.target.units[0];
    const from = u.log.length;
    expect(await kernelFlushes(dm, 6)).toEqual(Array(6).fill(STATUS_SUCCESS));
    expect(flushSteps(u.log.slice(from))).toEqual(["SYNC", "FLUSH", "SYNC", "FLUSH"]);
    // Later flushes start a group of their own again.
    expect(await kernelFlushes(dm, 1)).toEqual([STATUS_SUCCESS]);
    expect(flushSteps(u.log.slice(from)).length).toBe(6);
    expect(diskResources(dm).irps).toBe(diskResources(dm).packets);
  });

  it("a failed SYNCHRONIZE CACHE fails the whole group even though the FLUSH succeeds", async () => {
    const dm = await bootDisk({ latencyUs: 500, srbType: SRB_TYPE_STORAGE_REQUEST_BLOCK });
    const u = dm.target.units[0];
    u.injectCheckCondition(100, SCSI_SENSE_MEDIUM_ERROR, SCSI_ADSENSE_UNRECOVERED_ERROR, 0, [SCSIOP_SYNCHRONIZE_CACHE]);
    const from = u.log.length;
    expect(await kernelFlushes(dm, 3)).toEqual(Array(3).fill(STATUS_DEVICE_DATA_ERROR));
    const steps = flushSteps(u.log.slice(from));
    expect(steps.filter((s) => s === "FLUSH").length).toBe(2);
    expect(u.log.slice(from).every((e) => e.extended)).toBe(true);
  });
});
