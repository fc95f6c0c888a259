// The request path from a class driver's SRB to the miniport and back: the IRQL and locks of
// HwStorBuildIo and HwStorStartIo, the address Storport fills in, MapBuffers, the
// scatter/gather list, StorPortGetPhysicalAddress / GetSystemAddress, the IRP status an SRB
// status becomes, and both kinds of SRB (HW_BUILDIO, HW_STARTIO, HW_INITIALIZATION_DATA,
// StorPortGetScatterGatherList, StorPortGetPhysicalAddress, StorPortGetSystemAddress and the
// SCSI_REQUEST_BLOCK / STORAGE_REQUEST_BLOCK pages of the WDK documentation).
import { describe, expect, it } from "vitest";
import { DISPATCH_LEVEL } from "../../src/ke/irql.js";
import {
  NT_SUCCESS, STATUS_DEVICE_BUSY, STATUS_DEVICE_DOES_NOT_EXIST, STATUS_INVALID_DEVICE_REQUEST, STATUS_IO_TIMEOUT, STATUS_SUCCESS,
} from "../../src/ke/ntstatus.js";
import { MmGetPhysicalAddress } from "../../src/mm/physical.js";
import { PAGE_SIZE } from "../../src/mm/pfn.js";
import { readBytes } from "../../src/mm/memory.js";
import {
  SCSIOP_INQUIRY, SCSIOP_READ, SCSIOP_TEST_UNIT_READY, SCSIOP_WRITE, SCSISTAT_CHECK_CONDITION, SCSI_SENSE_ILLEGAL_REQUEST, parseSense,
} from "../../src/drivers/storage/scsi.js";
import {
  SCSI_REQUEST_BLOCK, SRB_FLAGS_NO_QUEUE_FREEZE, SRB_FUNCTION_IO_CONTROL, SRB_STATUS, SRB_STATUS_ABORTED, SRB_STATUS_AUTOSENSE_VALID,
  SRB_STATUS_BAD_FUNCTION, SRB_STATUS_BUSY, SRB_STATUS_COMMAND_TIMEOUT, SRB_STATUS_DATA_OVERRUN, SRB_STATUS_ERROR, SRB_STATUS_INVALID_LUN,
  SRB_STATUS_INVALID_REQUEST, SRB_STATUS_INVALID_TARGET_ID, SRB_STATUS_NO_DEVICE, SRB_STATUS_NO_HBA, SRB_STATUS_PARITY_ERROR,
  SRB_STATUS_QUEUE_FROZEN, SRB_STATUS_SELECTION_TIMEOUT, SRB_STATUS_SUCCESS, SRB_STATUS_TIMEOUT, STORAGE_REQUEST_BLOCK, SrbGetPathTargetLun,
  SrbGetMiniportContext,
} from "../../src/drivers/storage/srb.js";
import {
  IOCTL_STORAGE_QUERY_PROPERTY, SRB_TYPE_SCSI_REQUEST_BLOCK, SRB_TYPE_STORAGE_REQUEST_BLOCK, STORAGE_ADAPTER_DESCRIPTOR, STORAGE_PROPERTY_ID,
  STORAGE_PROPERTY_QUERY_SIZE, STORAGE_QUERY_TYPE,
} from "../../src/drivers/storage/ntddstor.js";
import type { DEVICE_OBJECT } from "../../src/io/objects.js";
import { KeLowerIrql, KeRaiseIrql } from "../../src/ke/level.js";
import {
  STOR_MAP_ALL_BUFFERS_INCLUDING_READ_WRITE, STOR_MAP_NON_READ_WRITE_BUFFERS, STOR_MAP_NO_BUFFERS, STOR_PERF_CONCURRENT_CHANNELS,
  STOR_PERF_DPC_REDIRECTION, STOR_PERF_NO_SGL, STOR_PERF_VERSION_5, STOR_STATUS_INVALID_PARAMETER, STOR_STATUS_SUCCESS, SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK,
  StorPortAllocateContiguousMemorySpecifyCacheNode, StorPortFreeContiguousMemorySpecifyCache, StorPortGetPhysicalAddress,
  StorPortGetScatterGatherList, StorPortGetSystemAddress, type STOR_SCATTER_GATHER_LIST,
} from "../../src/drivers/storport/index.js";
import { srbStatusToNtStatus } from "../../src/drivers/storport/request.js";
import { MEMORY_CACHING_TYPE } from "../../src/mm/physical.js";
import { bootWithMiniport, cdbSrb, completeRequest, kernelIoctl, sendCdb, submitSrb, unitOf, type MiniportMachine } from "../support/test-miniport.js";

const READ10 = (lba: number, blocks: number) => [SCSIOP_READ, 0, 0, 0, (lba >> 8) & 0xFF, lba & 0xFF, 0, 0, blocks, 0];
const WRITE10 = (lba: number, blocks: number) => [SCSIOP_WRITE, 0, 0, 0, (lba >> 8) & 0xFF, lba & 0xFF, 0, 0, blocks, 0];
const INQUIRY = (length: number) => [SCSIOP_INQUIRY, 0, 0, 0, length, 0];
const TUR = [SCSIOP_TEST_UNIT_READY, 0, 0, 0, 0, 0];

describe("HwStorBuildIo and HwStorStartIo", () => {
  it("HwStorBuildIo runs at DISPATCH_LEVEL holding no lock, then HwStorStartIo at DISPATCH_LEVEL holding the StartIo lock, once each per request", async () => {
    const m = await bootWithMiniport();
    const u = unitOf(m.adapter(), 0);
    const before = m.miniport.calls.length;
    const r = await m.exec(() => sendCdb(u, READ10(0, 8), { dataIn: 4096 }));
    expect(r.status).toBe(STATUS_SUCCESS);
    const calls = m.miniport.calls.slice(before).filter((c) => c.srb === r.srb);
    expect(calls.map((c) => c.routine)).toEqual(["HwBuildIo", "HwStartIo"]);
    expect([calls[0].irql, calls[0].startIoLock]).toEqual([DISPATCH_LEVEL, false]);
    expect([calls[1].irql, calls[1].startIoLock]).toEqual([DISPATCH_LEVEL, true]);
    // The same holds for every request the port sent, its own scan included.
    for (const c of m.miniport.calls) {
      if (c.routine === "HwBuildIo") expect([c.irql, c.startIoLock]).toEqual([DISPATCH_LEVEL, false]);
      if (c.routine === "HwStartIo") expect([c.irql, c.startIoLock]).toEqual([DISPATCH_LEVEL, true]);
    }
  });

  it("with STOR_PERF_CONCURRENT_CHANNELS the port does not take the StartIo lock for HwStorStartIo", async () => {
    const m = await bootWithMiniport({ perf: { Version: STOR_PERF_VERSION_5, Flags: STOR_PERF_DPC_REDIRECTION | STOR_PERF_CONCURRENT_CHANNELS, ConcurrentChannels: 2 } });
    expect(m.miniport.ext.PerfStatus).toBe(STOR_STATUS_SUCCESS);
    const u = unitOf(m.adapter(), 0);
    const before = m.miniport.calls.length;
    await m.exec(() => sendCdb(u, TUR));
    const startIo = m.miniport.calls.slice(before).filter((c) => c.routine === "HwStartIo");
    expect(startIo).toHaveLength(1);
    expect([startIo[0].irql, startIo[0].startIoLock]).toEqual([DISPATCH_LEVEL, false]);
  });

  it("a HwStorBuildIo that returns FALSE has completed the request itself: HwStorStartIo is never called for it", async () => {
    const m = await bootWithMiniport({
      onBuildIo: (ext, srb) => {
        const cdb = "Cdb" in srb ? srb.Cdb : null;
        if (!cdb || cdb[0] !== SCSIOP_TEST_UNIT_READY) return true;
        srb.SrbStatus = SRB_STATUS_SUCCESS;
        completeRequest(ext, srb);
        return false;
      },
    });
    const u = unitOf(m.adapter(), 0);
    const r = await m.exec(() => sendCdb(u, TUR));
    expect(r.status).toBe(STATUS_SUCCESS);
    const calls = m.miniport.calls.filter((c) => c.srb === r.srb).map((c) => c.routine);
    expect(calls).toEqual(["HwBuildIo"]);
  });

  it("without HwStorBuildIo (it is optional) requests go straight to HwStorStartIo", async () => {
    const m = await bootWithMiniport({ buildIo: false });
    const u = unitOf(m.adapter(), 0);
    const r = await m.exec(() => sendCdb(u, TUR));
    expect(r.status).toBe(STATUS_SUCCESS);
    expect(m.miniport.callsOf("HwBuildIo")).toEqual([]);
    expect(m.miniport.calls.filter((c) => c.srb === r.srb).map((c) => c.routine)).toEqual(["HwStartIo"]);
  });

  it("Storport fills in the unit's path, target and LUN before the SRB reaches the miniport", async () => {
    const m = await bootWithMiniport({ luns: [0, 2] });
    const u = unitOf(m.adapter(), 2);
    const seen = await m.exec(async () => {
      const { srb, sense } = cdbSrb(u, TUR);
      (srb as SCSI_REQUEST_BLOCK).PathId = 7;
      (srb as SCSI_REQUEST_BLOCK).TargetId = 9;
      (srb as SCSI_REQUEST_BLOCK).Lun = 5;
      const r = submitSrb(u.DeviceObject!, srb, null);
      await r.wait();
      sense?.free();
      return { status: r.status, address: SrbGetPathTargetLun(srb) };
    });
    expect(seen.status).toBe(STATUS_SUCCESS);
    expect(seen.address).toEqual({ PathId: 0, TargetId: 0, Lun: 2 });
    const startIo = m.miniport.callsOf("HwStartIo").at(-1)!;
    expect(startIo.lun).toBe(2);
  });

  it("each request carries its own SRB extension (SrbExtensionSize bytes the HBA can reach)", async () => {
    const m = await bootWithMiniport();
    m.miniport.config.completion = "never";
    const u = unitOf(m.adapter(), 0);
    const ext = m.miniport.ext;
    const seen = await m.exec(async () => {
      const first = submitSrb(u.DeviceObject!, cdbSrb(u, TUR).srb, null);
      const second = submitSrb(u.DeviceObject!, cdbSrb(u, TUR).srb, null);
      const contexts = [SrbGetMiniportContext(first.srb), SrbGetMiniportContext(second.srb)] as number[];
      const physical = contexts.map((va) => StorPortGetPhysicalAddress(ext, null, va));
      const old = KeRaiseIrql(DISPATCH_LEVEL);
      for (const srb of ext.Held.splice(0)) completeRequest(ext, srb);
      KeLowerIrql(old);
      await first.wait();
      await second.wait();
      return { contexts, physical };
    });
    expect(seen.contexts[0]).not.toBe(0);
    expect(seen.contexts[1]).not.toBe(0);
    expect(seen.contexts[0]).not.toBe(seen.contexts[1]);
    for (const p of seen.physical) {
      expect(p.PhysicalAddress).not.toBe(0);
      expect(p.Length).toBeGreaterThanOrEqual(64);
    }
  });
});

describe("MapBuffers", () => {
  /** DataBuffer as HwStorStartIo saw it for INQUIRY and READ(10), against the caller's own address. */
  async function seenBuffers(mapBuffers: number): Promise<{ inquiryMapped: boolean; readMapped: boolean; inquiryData: string }> {
    const m = await bootWithMiniport({ mapBuffers });
    const u = unitOf(m.adapter(), 0);
    return m.exec(async () => {
      const seen = (srb: unknown) => m.miniport.calls.find((c) => c.routine === "HwStartIo" && c.srb === srb)!.dataBuffer;
      const inquiry = cdbSrb(u, INQUIRY(36), { dataIn: 36, lockedBuffer: true });
      const ri = submitSrb(u.DeviceObject!, inquiry.srb, inquiry.buffer);
      await ri.wait();
      const inquiryData = String.fromCharCode(...readBytes(inquiry.buffer!.va + 8, 6));
      const read = cdbSrb(u, READ10(0, 1), { dataIn: 512, lockedBuffer: true });
      const rr = submitSrb(u.DeviceObject!, read.srb, read.buffer);
      await rr.wait();
      const result = { inquiryMapped: seen(inquiry.srb) !== inquiry.buffer!.va, readMapped: seen(read.srb) !== read.buffer!.va, inquiryData };
      // The port gives the SRB back with the caller's DataBuffer.
      expect(inquiry.srb.DataBuffer).toBe(inquiry.buffer!.va);
      for (const x of [inquiry, read]) {
        x.buffer!.free();
        x.sense?.free();
      }
      return result;
    });
  }

  it("STOR_MAP_NO_BUFFERS: DataBuffer is the caller's address for reads and other commands alike", async () => {
    const r = await seenBuffers(STOR_MAP_NO_BUFFERS);
    expect([r.inquiryMapped, r.readMapped]).toEqual([false, false]);
    expect(r.inquiryData).toBe("WDMSIM");
  });

  it("STOR_MAP_NON_READ_WRITE_BUFFERS: a system address for everything but reads and writes", async () => {
    const r = await seenBuffers(STOR_MAP_NON_READ_WRITE_BUFFERS);
    expect([r.inquiryMapped, r.readMapped]).toEqual([true, false]);
    expect(r.inquiryData).toBe("WDMSIM");
  });

  it("STOR_MAP_NO_BUFFERS still maps SRB_FUNCTION_IO_CONTROL buffers", async () => {
    const m = await bootWithMiniport({ mapBuffers: STOR_MAP_NO_BUFFERS });
    const u = unitOf(m.adapter(), 0);
    const mapped = await m.exec(async () => {
      const { srb, buffer, sense } = cdbSrb(u, TUR, { dataIn: 64, lockedBuffer: true });
      (srb as SCSI_REQUEST_BLOCK).Function = SRB_FUNCTION_IO_CONTROL;
      const r = submitSrb(u.DeviceObject!, srb, buffer);
      await r.wait();
      const seen = m.miniport.calls.find((c) => c.routine === "HwStartIo" && c.srb === srb)!.dataBuffer;
      const result = seen !== buffer!.va && seen !== 0;
      buffer!.free();
      sense?.free();
      return result;
    });
    expect(mapped).toBe(true);
  });

  it("STOR_MAP_ALL_BUFFERS_INCLUDING_READ_WRITE: a system address for reads and writes too", async () => {
    const r = await seenBuffers(STOR_MAP_ALL_BUFFERS_INCLUDING_READ_WRITE);
    expect([r.inquiryMapped, r.readMapped]).toEqual([true, true]);
  });
});

describe("addresses for DMA", () => {
  it("StorPortGetScatterGatherList describes the data buffer page by page (the bytes add up to DataTransferLength); NULL for a request that moves no data", async () => {
    const lists: { length: number; elements: { PhysicalAddress: number; Length: number }[] }[] = [];
    const noData: (STOR_SCATTER_GATHER_LIST | null)[] = [];
    const m = await bootWithMiniport({
      onStartIo: (ext, srb) => {
        const cdb = "Cdb" in srb ? srb.Cdb : null;
        const list = StorPortGetScatterGatherList(ext, srb);
        if (cdb && cdb[0] === SCSIOP_TEST_UNIT_READY) noData.push(list);
        if (cdb && cdb[0] === SCSIOP_WRITE && list) {
          lists.push({ length: srb.DataTransferLength, elements: list.List.slice(0, list.NumberOfElements).map((e) => ({ PhysicalAddress: e.PhysicalAddress, Length: e.Length })) });
        }
      },
    });
    const u = unitOf(m.adapter(), 0);
    const expected = await m.exec(async () => {
      const { srb, buffer, sense } = cdbSrb(u, WRITE10(0, 24), { dataOut: new Uint8Array(24 * 512).fill(0xA5) });
      // Start 0x200 bytes into a page, so the 12 KiB span four pages.
      void srb;
      const pages: number[] = [];
      for (let off = 0; off < buffer!.length; off += PAGE_SIZE - ((buffer!.va + off) % PAGE_SIZE)) pages.push(MmGetPhysicalAddress(buffer!.va + off));
      const r = submitSrb(u.DeviceObject!, srb, buffer);
      await r.wait();
      buffer!.free();
      sense?.free();
      await sendCdb(u, TUR);
      return { status: r.status, pages };
    });
    expect(expected.status).toBe(STATUS_SUCCESS);
    expect(lists).toHaveLength(1);
    const l = lists[0];
    expect(l.elements.reduce((n, e) => n + e.Length, 0)).toBe(24 * 512);
    // Without an IOMMU the logical addresses are the pages' physical addresses, in order.
    expect(l.elements.map((e) => e.PhysicalAddress)).toEqual(expected.pages.slice(0, l.elements.length));
    expect(noData).toEqual([null]);
  });

  it("StorPortGetScatterGatherList is NULL with STOR_PERF_NO_SGL", async () => {
    const lists: unknown[] = [];
    const m = await bootWithMiniport({
      perf: { Version: STOR_PERF_VERSION_5, Flags: STOR_PERF_DPC_REDIRECTION | STOR_PERF_NO_SGL },
      onStartIo: (ext, srb) => { if ("Cdb" in srb && srb.Cdb[0] === SCSIOP_READ) lists.push(StorPortGetScatterGatherList(ext, srb)); },
    });
    expect(m.miniport.ext.PerfStatus).toBe(STOR_STATUS_SUCCESS);
    const r = await m.exec(() => sendCdb(unitOf(m.adapter(), 0), READ10(0, 2), { dataIn: 1024 }));
    expect(r.status).toBe(STATUS_SUCCESS);
    expect(lists).toEqual([null]);
  });

  it("StorPortGetPhysicalAddress: within the data buffer (with the SRB) the scatter/gather list's address and the bytes left in that element", async () => {
    const seen: { list: { PhysicalAddress: number; Length: number }[]; at0: { PhysicalAddress: number; Length: number }; at100: { PhysicalAddress: number; Length: number } }[] = [];
    const m = await bootWithMiniport({
      mapBuffers: STOR_MAP_ALL_BUFFERS_INCLUDING_READ_WRITE,
      onStartIo: (ext, srb) => {
        if (!("Cdb" in srb) || srb.Cdb[0] !== SCSIOP_READ) return;
        const list = StorPortGetScatterGatherList(ext, srb)!;
        seen.push({
          list: list.List.slice(0, list.NumberOfElements).map((e) => ({ PhysicalAddress: e.PhysicalAddress, Length: e.Length })),
          at0: StorPortGetPhysicalAddress(ext, srb, srb.DataBuffer),
          at100: StorPortGetPhysicalAddress(ext, srb, srb.DataBuffer + 0x100),
        });
      },
    });
    await m.exec(() => sendCdb(unitOf(m.adapter(), 0), READ10(0, 16), { dataIn: 8192 }));
    expect(seen).toHaveLength(1);
    const s = seen[0];
    expect(s.at0).toEqual(s.list[0]);
    expect(s.at100).toEqual({ PhysicalAddress: s.list[0].PhysicalAddress + 0x100, Length: s.list[0].Length - 0x100 });
  });

  it("StorPortGetPhysicalAddress: contiguous memory from StorPortAllocateContiguousMemorySpecifyCacheNode maps to one logical range", async () => {
    const m = await bootWithMiniport();
    const ext = m.miniport.ext;
    const r = await m.exec(() => {
      const mem = StorPortAllocateContiguousMemorySpecifyCacheNode(ext, 3 * PAGE_SIZE, 0, 2 ** 32 - 1, 0, MEMORY_CACHING_TYPE.MmCached, 0);
      const pa = StorPortGetPhysicalAddress(ext, null, mem.BufferPointer);
      const mid = StorPortGetPhysicalAddress(ext, null, mem.BufferPointer + PAGE_SIZE + 8);
      const freed = StorPortFreeContiguousMemorySpecifyCache(ext, mem.BufferPointer, 3 * PAGE_SIZE, MEMORY_CACHING_TYPE.MmCached);
      return { status: mem.status, pa, mid, freed };
    });
    expect(r.status).toBe(STOR_STATUS_SUCCESS);
    expect(r.pa.PhysicalAddress).not.toBe(0);
    expect(r.mid.PhysicalAddress).toBe(r.pa.PhysicalAddress + PAGE_SIZE + 8);
    expect(r.freed).toBe(STOR_STATUS_SUCCESS);
  });

  it("StorPortGetSystemAddress gives a system address of the data buffer holding the caller's data; STOR_STATUS_INVALID_PARAMETER for an SRB without a data buffer", async () => {
    const seen: { status: number; bytes: number[] }[] = [];
    const m = await bootWithMiniport({
      onStartIo: (ext, srb) => {
        if (!("Cdb" in srb)) return;
        const r = StorPortGetSystemAddress(ext, srb);
        if (srb.Cdb[0] === SCSIOP_WRITE) seen.push({ status: r.status, bytes: [...readBytes(r.SystemAddress, 4)] });
        if (srb.Cdb[0] === SCSIOP_TEST_UNIT_READY) seen.push({ status: r.status, bytes: [] });
      },
    });
    const u = unitOf(m.adapter(), 0);
    await m.exec(async () => {
      await sendCdb(u, WRITE10(3, 1), { dataOut: new Uint8Array(512).fill(0x3C), lockedBuffer: true });
      await sendCdb(u, TUR);
    });
    expect(seen).toEqual([{ status: STOR_STATUS_SUCCESS, bytes: [0x3C, 0x3C, 0x3C, 0x3C] }, { status: STOR_STATUS_INVALID_PARAMETER, bytes: [] }]);
    // And the write reached the LUN's media.
    expect(m.miniport.ext.Media.get(0)![3 * 512]).toBe(0x3C);
  });
});

describe("SRB status to IRP status", () => {
  it("success and underruns (SRB_STATUS_DATA_OVERRUN with a smaller DataTransferLength) succeed with Information = bytes moved; every error status fails the IRP; the QUEUE_FROZEN and AUTOSENSE_VALID bits change nothing", () => {
    expect(srbStatusToNtStatus(SRB_STATUS_SUCCESS, false)).toBe(STATUS_SUCCESS);
    expect(srbStatusToNtStatus(SRB_STATUS_DATA_OVERRUN, true)).toBe(STATUS_SUCCESS);
    expect(NT_SUCCESS(srbStatusToNtStatus(SRB_STATUS_DATA_OVERRUN, false))).toBe(false);
    expect(srbStatusToNtStatus(SRB_STATUS_TIMEOUT, false)).toBe(STATUS_IO_TIMEOUT);
    expect(srbStatusToNtStatus(SRB_STATUS_COMMAND_TIMEOUT, false)).toBe(STATUS_IO_TIMEOUT);
    for (const s of [SRB_STATUS_NO_DEVICE, SRB_STATUS_INVALID_LUN, SRB_STATUS_INVALID_TARGET_ID, SRB_STATUS_NO_HBA]) expect(srbStatusToNtStatus(s, false)).toBe(STATUS_DEVICE_DOES_NOT_EXIST);
    for (const s of [SRB_STATUS_INVALID_REQUEST, SRB_STATUS_BAD_FUNCTION]) expect(srbStatusToNtStatus(s, false)).toBe(STATUS_INVALID_DEVICE_REQUEST);
    expect(srbStatusToNtStatus(SRB_STATUS_BUSY, false)).toBe(STATUS_DEVICE_BUSY);
    for (const s of [SRB_STATUS_ERROR, SRB_STATUS_ABORTED, SRB_STATUS_SELECTION_TIMEOUT, SRB_STATUS_PARITY_ERROR]) expect(NT_SUCCESS(srbStatusToNtStatus(s, false))).toBe(false);
    for (const s of [SRB_STATUS_SUCCESS, SRB_STATUS_ERROR, SRB_STATUS_NO_DEVICE]) {
      expect(srbStatusToNtStatus(s | SRB_STATUS_QUEUE_FROZEN | SRB_STATUS_AUTOSENSE_VALID, false)).toBe(srbStatusToNtStatus(s, false));
    }
  });

  it("end to end: an INQUIRY the LUN answers with fewer bytes than asked succeeds with Information = the bytes returned; CHECK CONDITION fails with the sense data and SRB_STATUS_AUTOSENSE_VALID", async () => {
    const m = await bootWithMiniport();
    const u = unitOf(m.adapter(), 0);
    const short = await m.exec(() => sendCdb(u, INQUIRY(96), { dataIn: 96 }));
    expect(SRB_STATUS(short.srb.SrbStatus)).toBe(SRB_STATUS_DATA_OVERRUN);
    expect(short.status).toBe(STATUS_SUCCESS);
    expect(short.information).toBe(36);
    const bad = await m.exec(() => sendCdb(u, [0xC7, 0, 0, 0, 0, 0], { flags: SRB_FLAGS_NO_QUEUE_FREEZE }));
    expect(NT_SUCCESS(bad.status)).toBe(false);
    expect(SRB_STATUS(bad.srb.SrbStatus)).toBe(SRB_STATUS_ERROR);
    expect(bad.srb.SrbStatus & SRB_STATUS_AUTOSENSE_VALID).toBe(SRB_STATUS_AUTOSENSE_VALID);
    expect((bad.srb as SCSI_REQUEST_BLOCK).ScsiStatus).toBe(SCSISTAT_CHECK_CONDITION);
    expect(parseSense(bad.sense).senseKey).toBe(SCSI_SENSE_ILLEGAL_REQUEST);
  });
});

describe("both kinds of SRB", () => {
  for (const extended of [false, true]) {
    const kind = extended ? "STORAGE_REQUEST_BLOCK" : "SCSI_REQUEST_BLOCK";
    it(`a miniport whose SrbTypeFlags ${extended ? "include" : "omit"} SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK gets ${kind}s from the port, and the adapter descriptor's SrbType says so`, async () => {
      const m = await bootWithMiniport({ srbTypeFlags: extended ? SRB_TYPE_FLAG_STORAGE_REQUEST_BLOCK : 0 });
      const a = m.adapter();
      // The port's own requests (the scan) are of that kind.
      const kinds = new Set(m.miniport.callsOf("HwStartIo").map((c) => (c.srb instanceof STORAGE_REQUEST_BLOCK ? "ext" : "scsi")));
      expect(kinds).toEqual(new Set([extended ? "ext" : "scsi"]));
      expect(a.ExtendedSrbs).toBe(extended);
      // A class driver sending that kind gets its data either way.
      const u = unitOf(a, 0);
      const r = await m.exec(async () => {
        const w = await sendCdb(u, WRITE10(5, 1), { dataOut: new Uint8Array(512).fill(0x77), extended });
        const rd = await sendCdb(u, READ10(5, 1), { dataIn: 512, extended });
        return { w: w.status, rd: rd.status, first: rd.data[0], srbKind: rd.srb instanceof STORAGE_REQUEST_BLOCK };
      });
      expect(r).toEqual({ w: STATUS_SUCCESS, rd: STATUS_SUCCESS, first: 0x77, srbKind: extended });
      const descriptor = await adapterDescriptor(m, a.DeviceObject);
      expect(descriptor[STORAGE_ADAPTER_DESCRIPTOR.SrbType]).toBe(extended ? SRB_TYPE_STORAGE_REQUEST_BLOCK : SRB_TYPE_SCSI_REQUEST_BLOCK);
    });
  }
});

/** IOCTL_STORAGE_QUERY_PROPERTY(StorageAdapterProperty) to a device, from kernel code; the descriptor's bytes. */
async function adapterDescriptor(m: MiniportMachine, device: DEVICE_OBJECT): Promise<Uint8Array> {
  return m.exec(async () => {
    const input = new Uint8Array(STORAGE_PROPERTY_QUERY_SIZE);
    new DataView(input.buffer).setUint32(0, STORAGE_PROPERTY_ID.StorageAdapterProperty, true);
    new DataView(input.buffer).setUint32(4, STORAGE_QUERY_TYPE.PropertyStandardQuery, true);
    return (await kernelIoctl(device, IOCTL_STORAGE_QUERY_PROPERTY, input, 64)).output;
  });
}
