// Reads and writes through \\.\PhysicalDriveN: data byte for byte, DiskReadWriteVerification's
// rules, splitting by MaximumTransferLength and by physical pages as classpnp's
// ServiceTransferRequest does (with the pieces in flight together), both SRB kinds, the
// SRB fields the port receives, and what a request leaves behind.
import { describe, expect, it } from "vitest";
import {
  CloseHandle, CreateEvent, ERROR_INVALID_PARAMETER, ERROR_IO_PENDING, ERROR_SECTOR_NOT_FOUND, GetLastError, GetOverlappedResult, ReadFile,
  VirtualAlloc, WaitForMultipleObjects, WriteFile, INFINITE,
} from "../../src/io/usermode.js";
import { readBytes, writeBytes } from "../../src/mm/memory.js";
import {
  SCSIOP_READ, SCSIOP_READ16, SCSIOP_WRITE, SCSIOP_WRITE16,
} from "../../src/drivers/storage/scsi.js";
import {
  SRB_FLAGS_ADAPTER_CACHE_ENABLE, SRB_FLAGS_DATA_IN, SRB_FLAGS_DATA_OUT, SRB_FLAGS_NO_QUEUE_FREEZE, SRB_FLAGS_QUEUE_ACTION_ENABLE, SRB_SIMPLE_TAG_REQUEST,
  SRB_STATUS, SRB_STATUS_ERROR, SRB_STATUS_SUCCESS,
} from "../../src/drivers/storage/srb.js";
import { SRB_TYPE_STORAGE_REQUEST_BLOCK } from "../../src/drivers/storage/ntddstor.js";
import {
  at, bootDisk, diskFdo, diskResources, firstDifference, openDisk, pattern, readAt, readWriteLog, withDisk, writeAt, type DiskMachine, type SrbLogEntry,
} from "../support/scsi-target.js";

const KiB = 1024;

/** READ/WRITE commands of unit 0 after the start sequence (which reads sector 0 once). */
function ioLog(dm: DiskMachine, from: number): SrbLogEntry[] {
  return readWriteLog(dm.target.units[0]).slice(from);
}

/** Byte-for-byte equality (a fast compare; the first difference is reported). */
function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(firstDifference(actual, expected), "first difference at byte").toBe(-1);
}

/** Every piece arrived at the device before the first one completed. */
function allInFlightTogether(entries: SrbLogEntry[]): boolean {
  const lastArrival = Math.max(...entries.map((e) => e.time));
  const firstDone = Math.min(...entries.map((e) => e.doneTime));
  return lastArrival < firstDone;
}

describe("reads and writes", () => {
  it("writes and reads back byte for byte at OVERLAPPED offsets; the medium holds what was written", async () => {
    const dm = await bootDisk();
    const u = dm.target.units[0];
    const a = pattern(1, 4 * KiB);
    const b = pattern(2, 12 * KiB + 512);
    const r = await withDisk(dm, async (h) => {
      const w1 = await writeAt(h, 8 * KiB, a);
      const w2 = await writeAt(h, 1 * 1024 * KiB + 512, b);
      return { w1, w2, r1: await readAt(h, 8 * KiB, a.length), r2: await readAt(h, 1 * 1024 * KiB + 512, b.length), r3: await readAt(h, 6 * KiB, 4 * KiB) };
    });
    expect([r.w1.ok, r.w1.bytes, r.w2.ok, r.w2.bytes]).toEqual([true, a.length, true, b.length]);
    expect(r.r1).toMatchObject({ ok: true, bytes: a.length });
    expectBytes(r.r1.data, a);
    expectBytes(r.r2.data, b);
    // Straddling unwritten and written sectors.
    expect(r.r3.data.subarray(0, 2 * KiB)).toEqual(new Uint8Array(2 * KiB));
    expectBytes(r.r3.data.subarray(2 * KiB), a.subarray(0, 2 * KiB));
    expectBytes(u.read(16, 8), a);
    expectBytes(u.read(2049, b.length / 512), b);
  });

  it("sends READ(10)/WRITE(10) with the LBA and block count, data direction, tagged queuing, the disk's timeout and a sense buffer", async () => {
    const dm = await bootDisk();
    const from = readWriteLog(dm.target.units[0]).length;
    await withDisk(dm, async (h) => {
      await writeAt(h, 3 * 512, pattern(3, 5 * 512));
      await readAt(h, 3 * 512, 5 * 512);
    });
    const [w, r] = ioLog(dm, from);
    expect([w.opcode, w.lba, w.blocks, w.dataTransferLength, w.cdb.length]).toEqual([SCSIOP_WRITE, 3, 5, 2560, 10]);
    expect([r.opcode, r.lba, r.blocks, r.dataTransferLength]).toEqual([SCSIOP_READ, 3, 5, 2560]);
    expect(w.srbFlags & (SRB_FLAGS_DATA_OUT | SRB_FLAGS_DATA_IN)).toBe(SRB_FLAGS_DATA_OUT);
    expect(r.srbFlags & (SRB_FLAGS_DATA_OUT | SRB_FLAGS_DATA_IN)).toBe(SRB_FLAGS_DATA_IN);
    for (const e of [w, r]) {
      expect(e.srbFlags & SRB_FLAGS_NO_QUEUE_FREEZE).toBe(SRB_FLAGS_NO_QUEUE_FREEZE);
      expect(e.srbFlags & SRB_FLAGS_QUEUE_ACTION_ENABLE).toBe(SRB_FLAGS_QUEUE_ACTION_ENABLE);
      expect(e.srbFlags & SRB_FLAGS_ADAPTER_CACHE_ENABLE).toBe(SRB_FLAGS_ADAPTER_CACHE_ENABLE);
      expect(e.queueAction).toBe(SRB_SIMPLE_TAG_REQUEST);
      expect(e.timeOutValue).toBe(10);
      expect(e.senseInfoBufferLength).toBe(255);
      expect(e.extended).toBe(false);
      // An unsplit request's data buffer is the caller's MDL itself.
      expect([e.mdlOffset, e.mdlByteCount]).toEqual([0, 2560]);
    }
  });

  it("a zero-length request succeeds at once without reaching the device", async () => {
    const dm = await bootDisk();
    const before = dm.target.units[0].log.length;
    const r = await withDisk(dm, async (h) => {
      const rd = await ReadFile(h, new Uint8Array(1), 0, at(4096));
      const wr = await WriteFile(h, new Uint8Array(1), 0, at(4096));
      return { rd, wr };
    });
    expect(r.rd).toEqual({ ok: true, bytes: 0 });
    expect(r.wr).toEqual({ ok: true, bytes: 0 });
    expect(dm.target.units[0].log.length).toBe(before);
  });

  it("an offset or length that is not a multiple of the sector size is ERROR_INVALID_PARAMETER, and nothing is sent", async () => {
    const dm = await bootDisk();
    const before = dm.target.units[0].log.length;
    const r = await withDisk(dm, async (h) => [
      await readAt(h, 100, 512),
      await readAt(h, 512, 100),
      await writeAt(h, 1, new Uint8Array(512)),
      await writeAt(h, 0, new Uint8Array(513)),
    ]);
    for (const x of r) expect(x).toMatchObject({ ok: false, bytes: 0, error: ERROR_INVALID_PARAMETER });
    expect(dm.target.units[0].log.length).toBe(before);
  });

  it("beyond the end: the device decides; ILLEGAL REQUEST / LBA OUT OF RANGE is ERROR_SECTOR_NOT_FOUND, not retried", async () => {
    const dm = await bootDisk();
    const length = diskFdo(dm.k).PartitionLength;
    const from = readWriteLog(dm.target.units[0]).length;
    const r = await withDisk(dm, async (h) => [
      await readAt(h, length - 512, 1024),
      await readAt(h, length, 512),
      await writeAt(h, length + 4096, new Uint8Array(512)),
      await readAt(h, length - 512, 512),
    ]);
    expect(r.slice(0, 3).map((x) => [x.ok, x.error])).toEqual([[false, ERROR_SECTOR_NOT_FOUND], [false, ERROR_SECTOR_NOT_FOUND], [false, ERROR_SECTOR_NOT_FOUND]]);
    expect(r[3]).toMatchObject({ ok: true, bytes: 512 });
    const log = ioLog(dm, from);
    // One command each: an LBA outside the known capacity is not retried.
    expect(log.map((e) => [e.opcode, e.lba, e.blocks])).toEqual([[SCSIOP_READ, 16383, 2], [SCSIOP_READ, 16384, 1], [SCSIOP_WRITE, 16392, 1], [SCSIOP_READ, 16383, 1]]);
    expect(log.slice(0, 3).every((e) => SRB_STATUS(e.srbStatus) === SRB_STATUS_ERROR)).toBe(true);
    expect(SRB_STATUS(log[3].srbStatus)).toBe(SRB_STATUS_SUCCESS);
  });

  it("4 KiB sectors: 4 KiB-aligned requests work; a 512-byte offset is ERROR_INVALID_PARAMETER", async () => {
    const dm = await bootDisk({ units: [{ sectorSize: 4096, sectorCount: 2048 }] });
    const data = pattern(9, 8 * KiB);
    const r = await withDisk(dm, async (h) => ({ w: await writeAt(h, 12 * KiB, data), r: await readAt(h, 12 * KiB, 8 * KiB), bad: await readAt(h, 512, 4096) }));
    expect(r.w.ok && r.r.ok).toBe(true);
    expectBytes(r.r.data, data);
    expect(r.bad.error).toBe(ERROR_INVALID_PARAMETER);
    const rw = readWriteLog(dm.target.units[0]).filter((e) => e.lba === 3);
    expect(rw.map((e) => [e.opcode, e.blocks, e.dataTransferLength])).toEqual([[SCSIOP_WRITE, 2, 8192], [SCSIOP_READ, 2, 8192]]);
  });

  it("overlapped requests are all at the device together and complete with their own data", async () => {
    const dm = await bootDisk({ latencyUs: 200 });
    const from = readWriteLog(dm.target.units[0]).length;
    const n = 8;
    const r = await dm.machine.runProgram("overlapped", async () => {
      const h = await openDisk(0, true);
      const events = Array.from({ length: n }, () => CreateEvent(null, true, false, null));
      const ovs = events.map((e, i) => at(i * 64 * KiB, e));
      const writes = [];
      for (let i = 0; i < n; i++) writes.push(await WriteFile(h, pattern(100 + i, 16 * KiB), 16 * KiB, ovs[i]));
      const pendingErrors = writes.map((w) => (w.ok ? 0 : GetLastError()));
      await WaitForMultipleObjects(n, events, true, INFINITE);
      const results = [];
      for (let i = 0; i < n; i++) results.push(await GetOverlappedResult(h, ovs[i], true));
      await CloseHandle(h);
      return { writes, pendingErrors, results };
    });
    expect(r.writes.every((w) => !w.ok)).toBe(true);
    expect(r.pendingErrors.every((e) => e === ERROR_IO_PENDING)).toBe(true);
    expect(r.results.map((x) => x.ok && x.bytes)).toEqual(Array(n).fill(16 * KiB));
    const log = ioLog(dm, from);
    expect(log.length).toBe(n);
    expect(allInFlightTogether(log)).toBe(true);
    for (let i = 0; i < n; i++) expectBytes(dm.target.units[0].read(i * 128, 32), pattern(100 + i, 16 * KiB));
  });
});

describe("splitting", () => {
  it("by MaximumTransferLength: 64 KiB pieces of the caller's buffer (partial MDLs), consecutive LBAs, all in flight together", async () => {
    const dm = await bootDisk({ maximumTransferLength: 64 * KiB, latencyUs: 100 });
    expect(diskFdo(dm.k).PrivateFdoData.HwMaxXferLen).toBe(64 * KiB);
    const data = pattern(4, 256 * KiB + 4 * KiB);
    const from = readWriteLog(dm.target.units[0]).length;
    const r = await withDisk(dm, async (h) => ({ w: await writeAt(h, 1024 * KiB, data), r: await readAt(h, 1024 * KiB, data.length) }));
    expect(r.w).toMatchObject({ ok: true, bytes: data.length });
    expect(r.r).toMatchObject({ ok: true, bytes: data.length });
    expectBytes(r.r.data, data);
    const log = ioLog(dm, from);
    const writes = log.filter((e) => e.opcode === SCSIOP_WRITE);
    const reads = log.filter((e) => e.opcode === SCSIOP_READ);
    for (const pieces of [writes, reads]) {
      expect(pieces.map((e) => [e.lba, e.blocks])).toEqual([[2048, 128], [2176, 128], [2304, 128], [2432, 128], [2560, 8]]);
      expect(pieces.every((e) => e.dataTransferLength <= 64 * KiB)).toBe(true);
      // Each piece travels in a partial MDL of its own that describes exactly it.
      expect(pieces.every((e) => e.mdlOffset === 0 && e.mdlByteCount === e.dataTransferLength)).toBe(true);
      expect(allInFlightTogether(pieces)).toBe(true);
    }
  });

  it("by physical pages: a page-aligned buffer in (MaximumPhysicalPages - 1) + 1 pages, an unaligned one in (MaximumPhysicalPages - 1) pages' worth", async () => {
    // 5 pages per request: HwMaxXferLen = 4 pages; page-aligned buffers take one more.
    const dm = await bootDisk({ maximumPhysicalPages: 5, latencyUs: 50 });
    expect(diskFdo(dm.k).PrivateFdoData.HwMaxXferLen).toBe(16 * KiB);
    const data = pattern(5, 64 * KiB);
    const from = readWriteLog(dm.target.units[0]).length;
    const r = await dm.machine.runProgram("pages", async () => {
      const h = await openDisk();
      const va = VirtualAlloc(192 * KiB);
      // Page aligned.
      writeBytes(va, data);
      const w = await WriteFile(h, va, data.length, at(0));
      // 512 bytes into a page.
      const rd = await ReadFile(h, va + 64 * KiB + 512, data.length, at(0));
      const back = readBytes(va + 64 * KiB + 512, data.length);
      await CloseHandle(h);
      return { w, rd, back };
    });
    expect(r.w).toEqual({ ok: true, bytes: 64 * KiB });
    expect(r.rd).toEqual({ ok: true, bytes: 64 * KiB });
    expectBytes(r.back, data);
    const log = ioLog(dm, from);
    const writes = log.filter((e) => e.opcode === SCSIOP_WRITE);
    const reads = log.filter((e) => e.opcode === SCSIOP_READ);
    expect(writes.map((e) => [e.dataTransferLength, e.pages])).toEqual([[20 * KiB, 5], [20 * KiB, 5], [20 * KiB, 5], [4 * KiB, 1]]);
    expect(reads.map((e) => [e.dataTransferLength, e.pages])).toEqual([[16 * KiB, 5], [16 * KiB, 5], [16 * KiB, 5], [16 * KiB, 5]]);
    expect([...writes, ...reads].every((e) => SRB_STATUS(e.srbStatus) === SRB_STATUS_SUCCESS)).toBe(true);
    expect(reads.map((e) => e.lba)).toEqual([0, 32, 64, 96]);
  });

  it("more pieces than free packets: packets are added for them, and all are free again afterwards", async () => {
    const dm = await bootDisk({ maximumTransferLength: 16 * KiB, latencyUs: 30 });
    const fdoData = diskFdo(dm.k).PrivateFdoData;
    const data = pattern(6, 512 * KiB);
    const r = await withDisk(dm, async (h) => ({ w: await writeAt(h, 0, data), r: await readAt(h, 0, data.length) }));
    expectBytes(r.r.data, data);
    expect(fdoData.DbgPeakNumTransferPackets).toBeGreaterThanOrEqual(32);
    expect(fdoData.NumFreeTransferPackets).toBe(fdoData.NumTotalTransferPackets);
  });
});

describe("SRB kinds", () => {
  for (const [name, srbType, extended] of [["SCSI_REQUEST_BLOCK", 0, false], ["STORAGE_REQUEST_BLOCK", SRB_TYPE_STORAGE_REQUEST_BLOCK, true]] as const) {
    it(`${name}: the adapter's SrbType decides the kind of every SRB, and I/O works the same`, async () => {
      const dm = await bootDisk({ srbType, maximumTransferLength: 32 * KiB });
      const data = pattern(8, 96 * KiB);
      const r = await withDisk(dm, async (h) => ({ w: await writeAt(h, 4 * KiB, data), r: await readAt(h, 4 * KiB, data.length), bad: await readAt(h, 64 * 1024 * KiB, 512) }));
      expectBytes(r.r.data, data);
      expect(r.bad.error).toBe(ERROR_SECTOR_NOT_FOUND);
      const u = dm.target.units[0];
      expect(u.log.every((e) => e.function === -1 || e.extended === extended)).toBe(true);
      expect(readWriteLog(u).filter((e) => e.lba >= 8 && e.lba < 200).length).toBe(6);
      expect(readWriteLog(u).every((e) => e.senseInfoBufferLength === 255 && e.timeOutValue === 10)).toBe(true);
    });
  }
});

describe("what a request leaves behind", () => {
  it("no IRPs, MDLs or pool: the same reads, writes, errors and splits a second time end where the first time ended", async () => {
    const dm = await bootDisk({ maximumTransferLength: 32 * KiB });
    const workload = () => withDisk(dm, async (h) => {
      for (let i = 0; i < 4; i++) {
        await writeAt(h, i * 64 * KiB, pattern(i, 64 * KiB));
        await readAt(h, i * 64 * KiB, 64 * KiB);
        await readAt(h, 100, 512);
        await readAt(h, 64 * 1024 * KiB, 512);
      }
    });
    await workload();
    const before = diskResources(dm);
    await workload();
    const after = diskResources(dm);
    expect(after).toEqual(before);
    // What is left is the packets (an IRP, an SRB page and a partial MDL each) and the FDO's buffers.
    expect(after.irps).toBe(after.packets);
    expect(after.pool["CPnp"]).toBe(after.packets * 0x200);
    expect(after.fixturePending).toBe(0);
  });

  it("16-byte CDBs are only used when the disk needs them", async () => {
    const dm = await bootDisk();
    await withDisk(dm, async (h) => { await writeAt(h, 0, new Uint8Array(512)); });
    const u = dm.target.units[0];
    expect(u.commands(SCSIOP_READ16).length + u.commands(SCSIOP_WRITE16).length).toBe(0);
  });
});
