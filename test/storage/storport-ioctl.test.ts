// I/O controls Storport answers (IOCTL_STORAGE_QUERY_PROPERTY with the device, adapter and
// device ID descriptors; IOCTL_SCSI_GET_ADDRESS; IOCTL_SCSI_PASS_THROUGH and
// IOCTL_SCSI_PASS_THROUGH_DIRECT with SCSI_PASS_THROUGH's validation and results), sent from
// user-mode programs through the class device of a unit or to the adapter (\\.\ScsiN:).
import { describe, expect, it } from "vitest";
import {
  CloseHandle, CreateFile, DeviceIoControl, ERROR_INSUFFICIENT_BUFFER, ERROR_INVALID_FUNCTION, ERROR_INVALID_PARAMETER, ERROR_NOT_SUPPORTED,
  GENERIC_READ, GENERIC_WRITE, GetLastError, INVALID_HANDLE_VALUE, OPEN_EXISTING, VirtualAlloc, VirtualFree,
} from "../../src/io/usermode.js";
import { readBytes, writeBytes } from "../../src/mm/memory.js";
import {
  IOCTL_STORAGE_QUERY_PROPERTY, SRB_TYPE_SCSI_REQUEST_BLOCK, STORAGE_ADAPTER_DESCRIPTOR, STORAGE_ADDRESS_TYPE_BTL8, STORAGE_BUS_TYPE,
  STORAGE_DESCRIPTOR_HEADER_SIZE, STORAGE_DEVICE_DESCRIPTOR, STORAGE_DEVICE_ID_DESCRIPTOR, STORAGE_PROPERTY_ID, STORAGE_PROPERTY_QUERY_SIZE,
  STORAGE_QUERY_TYPE,
} from "../../src/drivers/storage/ntddstor.js";
import {
  IOCTL_SCSI_GET_ADDRESS, IOCTL_SCSI_PASS_THROUGH, IOCTL_SCSI_PASS_THROUGH_DIRECT, SCSI_ADDRESS, SCSI_IOCTL_DATA_IN, SCSI_IOCTL_DATA_OUT,
  SCSI_IOCTL_DATA_UNSPECIFIED, SCSI_PASS_THROUGH,
} from "../../src/drivers/storage/ntddscsi.js";
import {
  SCSIOP_INQUIRY, SCSIOP_READ, SCSIOP_WRITE, SCSISTAT_CHECK_CONDITION, SCSISTAT_GOOD, SCSI_SENSE_ILLEGAL_REQUEST, parseSense,
} from "../../src/drivers/storage/scsi.js";
import { SRB_FUNCTION_CLAIM_DEVICE } from "../../src/drivers/storage/srb.js";
import { bootWithMiniport, sendFunction, unitOf, unitPath, type MiniportMachine } from "../support/test-miniport.js";

const P = SCSI_PASS_THROUGH;

/** Runs `body` in a user-mode program with `path` open. */
function withHandle<T>(m: MiniportMachine, path: string, body: (h: number) => Promise<T>): Promise<T> {
  return m.machine.runProgram("ioctl-test", async () => {
    const h = await CreateFile(path, GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
    if (h === INVALID_HANDLE_VALUE) throw new Error(`CreateFile(${path}) failed: ${GetLastError()}`);
    try {
      return await body(h);
    } finally {
      await CloseHandle(h);
    }
  });
}

/** IOCTL_STORAGE_QUERY_PROPERTY: the Win32 outcome and the bytes returned. */
async function queryProperty(h: number, id: number, type = STORAGE_QUERY_TYPE.PropertyStandardQuery, outLength = 512, inLength = STORAGE_PROPERTY_QUERY_SIZE) {
  const input = new Uint8Array(inLength);
  const v = new DataView(input.buffer);
  if (inLength >= 8) {
    v.setUint32(0, id, true);
    v.setUint32(4, type, true);
  }
  const out = new Uint8Array(outLength);
  const r = await DeviceIoControl(h, IOCTL_STORAGE_QUERY_PROPERTY, input, inLength, outLength > 0 ? out : null, outLength);
  return { ok: r.ok, error: r.ok ? 0 : GetLastError(), bytes: r.bytes, out: out.slice(0, r.ok ? r.bytes : 0) };
}

const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const ascii = (b: Uint8Array, at: number) => {
  let s = "";
  for (let i = at; i < b.length && b[i] !== 0; i++) s += String.fromCharCode(b[i]);
  return s;
};

/** What a SCSI_PASS_THROUGH buffer is built from; fields not given take sensible values. */
interface PassThroughRequest {
  cdb: number[];
  dataIn?: number;
  dataOut?: Uint8Array;
  senseLength?: number;
  timeout?: number;
  length?: number;
  cdbLength?: number;
  direction?: number;
  dataOffset?: number;
  senseOffset?: number;
  outLength?: number;
  inLength?: number;
}

/** IOCTL_SCSI_PASS_THROUGH (buffered): SCSI_PASS_THROUGH, then sense, then data. */
async function passThrough(h: number, q: PassThroughRequest) {
  const senseLength = q.senseLength ?? 32;
  const length = q.dataIn ?? q.dataOut?.length ?? 0;
  const senseAt = q.senseOffset ?? P.SIZE;
  const dataAt = q.dataOffset ?? P.SIZE + 32;
  const size = Math.max(dataAt + length, P.SIZE + 32);
  const buffer = new Uint8Array(size);
  const v = new DataView(buffer.buffer);
  v.setUint16(P.Length, q.length ?? P.SIZE, true);
  buffer[P.PathId] = 0x55;
  buffer[P.TargetId] = 0x55;
  buffer[P.Lun] = 0x55;
  buffer[P.CdbLength] = q.cdbLength ?? q.cdb.length;
  buffer[P.SenseInfoLength] = senseLength;
  buffer[P.DataIn] = q.direction ?? (q.dataIn !== undefined ? SCSI_IOCTL_DATA_IN : q.dataOut ? SCSI_IOCTL_DATA_OUT : SCSI_IOCTL_DATA_UNSPECIFIED);
  v.setUint32(P.DataTransferLength, length, true);
  v.setUint32(P.TimeOutValue, q.timeout ?? 10, true);
  v.setUint32(P.DataBufferOffset, dataAt, true);
  v.setUint32(P.SenseInfoOffset, senseAt, true);
  buffer.set(q.cdb.slice(0, 16), P.Cdb);
  if (q.dataOut) buffer.set(q.dataOut, dataAt);
  const inLength = q.inLength ?? size;
  const outLength = q.outLength ?? size;
  const r = await DeviceIoControl(h, IOCTL_SCSI_PASS_THROUGH, buffer, inLength, buffer, outLength);
  return {
    ok: r.ok, error: r.ok ? 0 : GetLastError(), bytes: r.bytes, scsiStatus: buffer[P.ScsiStatus], senseLength: buffer[P.SenseInfoLength],
    sense: buffer.slice(senseAt, senseAt + buffer[P.SenseInfoLength]), transferLength: v.getUint32(P.DataTransferLength, true),
    data: buffer.slice(dataAt, dataAt + v.getUint32(P.DataTransferLength, true)),
  };
}

/** IOCTL_SCSI_PASS_THROUGH_DIRECT with the data in the caller's own memory at `dataVa`. */
async function passThroughDirect(h: number, cdb: number[], dataVa: number, length: number, direction: number) {
  const buffer = new Uint8Array(P.SIZE + 32);
  const v = new DataView(buffer.buffer);
  v.setUint16(P.Length, P.SIZE, true);
  buffer[P.CdbLength] = cdb.length;
  buffer[P.SenseInfoLength] = 32;
  buffer[P.DataIn] = direction;
  v.setUint32(P.DataTransferLength, length, true);
  v.setUint32(P.TimeOutValue, 10, true);
  v.setUint32(P.DataBuffer, dataVa % 2 ** 32, true);
  v.setUint32(P.DataBuffer + 4, Math.floor(dataVa / 2 ** 32), true);
  v.setUint32(P.SenseInfoOffset, P.SIZE, true);
  buffer.set(cdb, P.Cdb);
  const r = await DeviceIoControl(h, IOCTL_SCSI_PASS_THROUGH_DIRECT, buffer, buffer.length, buffer, buffer.length);
  return { ok: r.ok, error: r.ok ? 0 : GetLastError(), bytes: r.bytes, scsiStatus: buffer[P.ScsiStatus], transferLength: v.getUint32(P.DataTransferLength, true) };
}

const INQUIRY = (n: number) => [SCSIOP_INQUIRY, 0, 0, 0, n, 0];
const READ10 = (lba: number, blocks: number) => [SCSIOP_READ, 0, 0, 0, 0, lba, 0, 0, blocks, 0];
const WRITE10 = (lba: number, blocks: number) => [SCSIOP_WRITE, 0, 0, 0, 0, lba, 0, 0, blocks, 0];

describe("IOCTL_STORAGE_QUERY_PROPERTY", () => {
  it("StorageDeviceProperty on a unit: STORAGE_DEVICE_DESCRIPTOR with the INQUIRY identity, the raw INQUIRY data and the serial number", async () => {
    const m = await bootWithMiniport({ luns: [0, 1], vendor: "WDMSIM", product: "Storport Test", revision: "1.0", removable: true });
    const r = await withHandle(m, unitPath(unitOf(m.adapter(), 1)), (h) => queryProperty(h, STORAGE_PROPERTY_ID.StorageDeviceProperty));
    expect(r.ok).toBe(true);
    const d = STORAGE_DEVICE_DESCRIPTOR;
    const b = r.out;
    expect(u32(b, d.Version)).toBe(d.SIZE);
    expect(u32(b, d.Size)).toBe(r.bytes);
    expect([b[d.DeviceType], b[d.RemovableMedia], u32(b, d.BusType)]).toEqual([0, 1, STORAGE_BUS_TYPE.BusTypeScsi]);
    expect(ascii(b, u32(b, d.VendorIdOffset))).toBe("WDMSIM  ");
    expect(ascii(b, u32(b, d.ProductIdOffset))).toBe("Storport Test   ");
    expect(ascii(b, u32(b, d.ProductRevisionOffset))).toBe("1.0 ");
    expect(ascii(b, u32(b, d.SerialNumberOffset))).toBe("SPT-1");
    expect(u32(b, d.RawPropertiesLength)).toBe(36);
    expect(b[d.RawDeviceProperties + 8]).toBe("W".charCodeAt(0));
  });

  it("a buffer the size of STORAGE_DESCRIPTOR_HEADER gets the descriptor's Version and Size (how callers size their buffer); a shorter output is truncated with Size still the whole", async () => {
    const m = await bootWithMiniport();
    const path = unitPath(unitOf(m.adapter(), 0));
    const r = await withHandle(m, path, async (h) => ({
      full: await queryProperty(h, STORAGE_PROPERTY_ID.StorageDeviceProperty),
      header: await queryProperty(h, STORAGE_PROPERTY_ID.StorageDeviceProperty, STORAGE_QUERY_TYPE.PropertyStandardQuery, STORAGE_DESCRIPTOR_HEADER_SIZE),
      part: await queryProperty(h, STORAGE_PROPERTY_ID.StorageDeviceProperty, STORAGE_QUERY_TYPE.PropertyStandardQuery, 20),
    }));
    expect(r.header.ok).toBe(true);
    expect(r.header.bytes).toBe(STORAGE_DESCRIPTOR_HEADER_SIZE);
    expect(u32(r.header.out, 4)).toBe(r.full.bytes);
    expect(r.part.bytes).toBe(20);
    expect(u32(r.part.out, 4)).toBe(r.full.bytes);
  });

  it("StorageAdapterProperty (on a unit or on the adapter): STORAGE_ADAPTER_DESCRIPTOR with what HwStorFindAdapter set", async () => {
    const m = await bootWithMiniport({ maximumTransferLength: 0x10000, alignmentMask: 7 });
    const a = m.adapter();
    const fromUnit = await withHandle(m, unitPath(unitOf(a, 0)), (h) => queryProperty(h, STORAGE_PROPERTY_ID.StorageAdapterProperty));
    const fromAdapter = await withHandle(m, `\\\\.\\Scsi${a.PortNumber}:`, (h) => queryProperty(h, STORAGE_PROPERTY_ID.StorageAdapterProperty));
    expect(fromUnit.ok).toBe(true);
    expect(fromAdapter.out).toEqual(fromUnit.out);
    const d = STORAGE_ADAPTER_DESCRIPTOR;
    const b = fromUnit.out;
    expect(u32(b, d.Size)).toBe(d.SIZE);
    expect(u32(b, d.MaximumTransferLength)).toBe(0x10000);
    expect(u32(b, d.AlignmentMask)).toBe(7);
    expect(u32(b, d.MaximumPhysicalPages)).toBeGreaterThan(0);
    expect([b[d.BusType], b[d.SrbType], b[d.AddressType], b[d.CommandQueueing]]).toEqual([STORAGE_BUS_TYPE.BusTypeScsi, SRB_TYPE_SCSI_REQUEST_BLOCK, STORAGE_ADDRESS_TYPE_BTL8, 1]);
  });

  it("StorageDeviceIdProperty: STORAGE_DEVICE_ID_DESCRIPTOR with the unit's VPD page 0x83 identifiers", async () => {
    const m = await bootWithMiniport({ luns: [0, 3] });
    const r = await withHandle(m, unitPath(unitOf(m.adapter(), 3)), (h) => queryProperty(h, STORAGE_PROPERTY_ID.StorageDeviceIdProperty));
    expect(r.ok).toBe(true);
    const d = STORAGE_DEVICE_ID_DESCRIPTOR;
    expect(u32(r.out, d.NumberOfIdentifiers)).toBe(1);
    const id = r.out.slice(d.Identifiers);
    expect([id[0] & 0x0F, id[1] & 0x0F, id[3]]).toEqual([1, 3, 16]);
    expect(id[4] >> 4).toBe(6);
    expect(id[4 + 15]).toBe(3);
  });

  it("PropertyExistsQuery succeeds for a property the device has; an unknown property is STATUS_NOT_SUPPORTED; device properties are not the adapter's; a short query is refused", async () => {
    const m = await bootWithMiniport();
    const a = m.adapter();
    const r = await withHandle(m, unitPath(unitOf(a, 0)), async (h) => ({
      exists: await queryProperty(h, STORAGE_PROPERTY_ID.StorageDeviceProperty, STORAGE_QUERY_TYPE.PropertyExistsQuery, 0),
      unknownExists: await queryProperty(h, 0x7777, STORAGE_QUERY_TYPE.PropertyExistsQuery, 0),
      unknown: await queryProperty(h, 0x7777),
      short: await queryProperty(h, STORAGE_PROPERTY_ID.StorageDeviceProperty, STORAGE_QUERY_TYPE.PropertyStandardQuery, 512, 4),
    }));
    expect([r.exists.ok, r.exists.bytes]).toEqual([true, 0]);
    expect(r.unknownExists.error).toBe(ERROR_NOT_SUPPORTED);
    expect(r.unknown.error).toBe(ERROR_NOT_SUPPORTED);
    expect(r.short.ok).toBe(false);
    const onAdapter = await withHandle(m, `\\\\.\\Scsi${a.PortNumber}:`, (h) => queryProperty(h, STORAGE_PROPERTY_ID.StorageDeviceProperty));
    expect(onAdapter.ok).toBe(false);
  });
});

describe("IOCTL_SCSI_GET_ADDRESS", () => {
  it("returns the unit's SCSI_ADDRESS (port number, path, target, LUN); an output buffer smaller than SCSI_ADDRESS is refused", async () => {
    const m = await bootWithMiniport({ luns: [0, 5] });
    const a = m.adapter();
    const r = await withHandle(m, unitPath(unitOf(a, 5)), async (h) => {
      const out = new Uint8Array(SCSI_ADDRESS.SIZE);
      const ok = await DeviceIoControl(h, IOCTL_SCSI_GET_ADDRESS, null, 0, out, out.length);
      const small = await DeviceIoControl(h, IOCTL_SCSI_GET_ADDRESS, null, 0, new Uint8Array(4), 4);
      return { ok: ok.ok, bytes: ok.bytes, out, small: small.ok, smallError: small.ok ? 0 : GetLastError() };
    });
    expect([r.ok, r.bytes]).toEqual([true, SCSI_ADDRESS.SIZE]);
    expect(u32(r.out, SCSI_ADDRESS.Length)).toBe(SCSI_ADDRESS.SIZE);
    expect([r.out[SCSI_ADDRESS.PortNumber], r.out[SCSI_ADDRESS.PathId], r.out[SCSI_ADDRESS.TargetId], r.out[SCSI_ADDRESS.Lun]]).toEqual([a.PortNumber, 0, 0, 5]);
    expect(r.small).toBe(false);
    expect(r.smallError).toBe(ERROR_INSUFFICIENT_BUFFER);
  });
});

describe("IOCTL_SCSI_PASS_THROUGH", () => {
  it("sends the CDB to the unit (the port fills in its address) and returns SCSI status, data, the DataTransferLength moved, and Information = the bytes returned", async () => {
    const m = await bootWithMiniport({ luns: [0, 1] });
    const r = await withHandle(m, unitPath(unitOf(m.adapter(), 1)), (h) => passThrough(h, { cdb: INQUIRY(96), dataIn: 96 }));
    expect(r.ok).toBe(true);
    expect(r.scsiStatus).toBe(SCSISTAT_GOOD);
    expect(r.transferLength).toBe(36);
    expect(String.fromCharCode(...r.data.slice(8, 14))).toBe("WDMSIM");
    expect(r.bytes).toBe(P.SIZE + 32 + 36);
    // The miniport saw LUN 1, not the 0x55 the caller left in the structure.
    const seen = m.miniport.callsOf("HwStartIo").at(-1)!;
    expect(seen.lun).toBe(1);
  });

  it("data out then data in: the bytes written come back", async () => {
    const m = await bootWithMiniport();
    const pattern = new Uint8Array(1024).map((_, i) => (i * 7) & 0xFF);
    const r = await withHandle(m, unitPath(unitOf(m.adapter(), 0)), async (h) => ({
      w: await passThrough(h, { cdb: WRITE10(4, 2), dataOut: pattern }),
      rd: await passThrough(h, { cdb: READ10(4, 2), dataIn: 1024 }),
    }));
    expect([r.w.ok, r.w.scsiStatus, r.w.transferLength]).toEqual([true, SCSISTAT_GOOD, 1024]);
    expect([r.rd.ok, r.rd.scsiStatus]).toEqual([true, SCSISTAT_GOOD]);
    expect(r.rd.data).toEqual(pattern);
  });

  it("a CHECK CONDITION still succeeds as an I/O control: ScsiStatus, the sense data and SenseInfoLength tell the caller, and no data moved", async () => {
    const m = await bootWithMiniport();
    const r = await withHandle(m, unitPath(unitOf(m.adapter(), 0)), (h) => passThrough(h, { cdb: READ10(250, 16), dataIn: 8192 }));
    expect(r.ok).toBe(true);
    expect(r.scsiStatus).toBe(SCSISTAT_CHECK_CONDITION);
    expect(r.senseLength).toBe(18);
    expect(parseSense(r.sense).senseKey).toBe(SCSI_SENSE_ILLEGAL_REQUEST);
    expect(r.transferLength).toBe(0);
  });

  it("refuses malformed requests with ERROR_INVALID_PARAMETER (or ERROR_INSUFFICIENT_BUFFER): a wrong Length, a CDB length of 0 or over 16, an unknown DataIn, a zero or huge TimeOutValue, data or sense outside the buffer, an input smaller than SCSI_PASS_THROUGH; the miniport sees none of them", async () => {
    const m = await bootWithMiniport();
    const before = m.miniport.callsOf("HwStartIo").length;
    const r = await withHandle(m, unitPath(unitOf(m.adapter(), 0)), async (h) => {
      const cases: Record<string, PassThroughRequest> = {
        length: { cdb: INQUIRY(36), dataIn: 36, length: 0x30 },
        cdbZero: { cdb: INQUIRY(36), dataIn: 36, cdbLength: 0 },
        cdbLong: { cdb: INQUIRY(36), dataIn: 36, cdbLength: 17 },
        direction: { cdb: INQUIRY(36), dataIn: 36, direction: 3 },
        timeoutZero: { cdb: INQUIRY(36), dataIn: 36, timeout: 0 },
        timeoutHuge: { cdb: INQUIRY(36), dataIn: 36, timeout: 0x7FFFFFFF },
        dataOutside: { cdb: INQUIRY(36), dataIn: 36, outLength: P.SIZE + 32 + 16 },
        senseOutside: { cdb: INQUIRY(36), dataIn: 36, senseOffset: P.SIZE + 32 + 30, senseLength: 32 },
      };
      const out: Record<string, number> = {};
      for (const [name, q] of Object.entries(cases)) out[name] = (await passThrough(h, q)).error;
      const tiny = await DeviceIoControl(h, IOCTL_SCSI_PASS_THROUGH, new Uint8Array(16), 16, new Uint8Array(16), 16);
      out.tiny = tiny.ok ? 0 : GetLastError();
      return out;
    });
    for (const [name, error] of Object.entries(r)) {
      expect([name, [ERROR_INVALID_PARAMETER, ERROR_INSUFFICIENT_BUFFER].includes(error)]).toEqual([name, true]);
    }
    expect(r.length).toBe(ERROR_INVALID_PARAMETER);
    expect(m.miniport.callsOf("HwStartIo").length).toBe(before);
  });
});

describe("IOCTL_SCSI_PASS_THROUGH_DIRECT", () => {
  it("moves the data to and from the caller's own buffer; a buffer not aligned as the adapter's AlignmentMask says is refused with ERROR_INVALID_PARAMETER", async () => {
    const m = await bootWithMiniport({ alignmentMask: 3 });
    const r = await withHandle(m, unitPath(unitOf(m.adapter(), 0)), async (h) => {
      const va = VirtualAlloc(8192);
      writeBytes(va, new Uint8Array(2048).fill(0x5A));
      const w = await passThroughDirect(h, WRITE10(8, 4), va, 2048, SCSI_IOCTL_DATA_OUT);
      writeBytes(va, new Uint8Array(2048));
      const rd = await passThroughDirect(h, READ10(8, 4), va, 2048, SCSI_IOCTL_DATA_IN);
      const back = readBytes(va, 2048);
      const misaligned = await passThroughDirect(h, READ10(8, 1), va + 1, 512, SCSI_IOCTL_DATA_IN);
      VirtualFree(va, 8192);
      return { w, rd, back: back.every((x) => x === 0x5A), misaligned };
    });
    expect([r.w.ok, r.w.scsiStatus, r.w.transferLength]).toEqual([true, SCSISTAT_GOOD, 2048]);
    expect([r.rd.ok, r.rd.scsiStatus, r.rd.transferLength]).toEqual([true, SCSISTAT_GOOD, 2048]);
    expect(r.back).toBe(true);
    expect(r.rd.bytes).toBeGreaterThanOrEqual(P.SIZE);
    expect(r.misaligned.error).toBe(ERROR_INVALID_PARAMETER);
  });
});

describe("pass-through to the adapter", () => {
  it("IOCTL_SCSI_PASS_THROUGH sent to \\\\.\\ScsiN: goes to the unit PathId/TargetId/Lun name; a user-mode request for a unit a class driver claimed fails with STATUS_INVALID_DEVICE_REQUEST", async () => {
    const m = await bootWithMiniport({ luns: [0, 2] });
    const a = m.adapter();
    const adapterPath = `\\\\.\\Scsi${a.PortNumber}:`;
    const send = (lun: number) => withHandle(m, adapterPath, async (h) => {
      const buffer = new Uint8Array(P.SIZE + 32 + 36);
      const v = new DataView(buffer.buffer);
      v.setUint16(P.Length, P.SIZE, true);
      buffer[P.Lun] = lun;
      buffer[P.CdbLength] = 6;
      buffer[P.SenseInfoLength] = 32;
      buffer[P.DataIn] = SCSI_IOCTL_DATA_IN;
      v.setUint32(P.DataTransferLength, 36, true);
      v.setUint32(P.TimeOutValue, 10, true);
      v.setUint32(P.DataBufferOffset, P.SIZE + 32, true);
      v.setUint32(P.SenseInfoOffset, P.SIZE, true);
      buffer.set(INQUIRY(36), P.Cdb);
      const r = await DeviceIoControl(h, IOCTL_SCSI_PASS_THROUGH, buffer, buffer.length, buffer, buffer.length);
      return { ok: r.ok, error: r.ok ? 0 : GetLastError(), scsiStatus: buffer[P.ScsiStatus], vendor: String.fromCharCode(...buffer.slice(P.SIZE + 32 + 8, P.SIZE + 32 + 14)) };
    });
    const before = await send(2);
    expect(before).toEqual({ ok: true, error: 0, scsiStatus: SCSISTAT_GOOD, vendor: "WDMSIM" });
    expect(m.miniport.callsOf("HwStartIo").at(-1)!.lun).toBe(2);
    const claim = await m.exec(() => sendFunction(unitOf(a, 2), SRB_FUNCTION_CLAIM_DEVICE));
    expect(claim.status).toBe(0);
    const after = await send(2);
    expect([after.ok, after.error]).toEqual([false, ERROR_INVALID_FUNCTION]);
  });
});
