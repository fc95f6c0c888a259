/**
 * NVMe pass-through as Windows documents it for the inbox NVMe driver, through
 * \\.\PhysicalDrive0 (the disk class driver passes both IOCTLs to the port, the port hands
 * them to the miniport as SRB_FUNCTION_IO_CONTROL with a "PROTOCOL" header):
 * - IOCTL_STORAGE_QUERY_PROPERTY with StorageAdapterProtocolSpecificProperty or
 *   StorageDeviceProtocolSpecificProperty: Identify, Get Log Page, Get Features;
 * - IOCTL_STORAGE_PROTOCOL_COMMAND with an admin command: ReturnStatus, ErrorCode (the NVMe
 *   status field) and DW0 in FixedProtocolReturnData; commands it does not pass are
 *   STORAGE_PROTOCOL_STATUS_NOT_SUPPORTED.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Machine } from "../../src/machine/machine.js";
import { ERROR_NOT_SUPPORTED } from "../../src/io/win32.js";
import {
  STORAGE_PROTOCOL_DATA_DESCRIPTOR, STORAGE_PROTOCOL_NVME_DATA_TYPE, STORAGE_PROTOCOL_SPECIFIC_DATA, STORAGE_PROTOCOL_STATUS_ERROR,
  STORAGE_PROTOCOL_STATUS_INVALID_REQUEST, STORAGE_PROTOCOL_STATUS_NOT_SUPPORTED, STORAGE_PROTOCOL_STATUS_SUCCESS, STORAGE_PROTOCOL_TYPE,
} from "../../src/drivers/storage/ntddstor.js";
import {
  NVME_ADMIN_GET_FEATURES, NVME_ADMIN_GET_LOG_PAGE, NVME_ADMIN_IDENTIFY, NVME_FEATURE_INTERRUPT_COALESCING, NVME_FEATURE_NUMBER_OF_QUEUES,
  NVME_LOG_PAGE_FIRMWARE_SLOT_INFO, NVME_LOG_PAGE_HEALTH_INFO,
} from "../../src/drivers/storage/nvme.js";
import { bootStorage, nvmeCommand, protocolCommand, protocolQuery, TEST_NAMESPACE_BLOCKS, withDisk } from "../support/storage-harness.js";

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.slice(at, at + n)).trimEnd();
const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const u16 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint16(at, true);
const u64 = (b: Uint8Array, at: number) => Number(new DataView(b.buffer, b.byteOffset).getBigUint64(at, true));


describe("IOCTL_STORAGE_QUERY_PROPERTY, protocol-specific", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootStorage({ cpus: 2, driverParameters: { stornvme: { InterruptCoalescingEntries: 8, InterruptCoalescingTime: 2 } } });
  });

  it("Identify Controller (CNS 01h): the PCI vendor ID, serial number, model, firmware revision and namespace count", async () => {
    const r = await withDisk(machine, (h) => protocolQuery(h, { dataType: STORAGE_PROTOCOL_NVME_DATA_TYPE.NVMeDataTypeIdentify, value: 1 }));
    expect(r.ok).toBe(true);
    expect(r.returned).toBe(8 + STORAGE_PROTOCOL_SPECIFIC_DATA.SIZE + 4096);
    // The answer is a STORAGE_PROTOCOL_DATA_DESCRIPTOR whose protocol data keeps the caller's request.
    expect(u32(r.buffer, STORAGE_PROTOCOL_DATA_DESCRIPTOR.Version)).toBe(STORAGE_PROTOCOL_DATA_DESCRIPTOR.SIZE);
    expect(u32(r.buffer, STORAGE_PROTOCOL_DATA_DESCRIPTOR.Size)).toBe(STORAGE_PROTOCOL_DATA_DESCRIPTOR.SIZE);
    expect(u32(r.buffer, 8 + STORAGE_PROTOCOL_SPECIFIC_DATA.ProtocolType)).toBe(STORAGE_PROTOCOL_TYPE.ProtocolTypeNvme);
    expect(u32(r.buffer, 8 + STORAGE_PROTOCOL_SPECIFIC_DATA.ProtocolDataOffset)).toBe(STORAGE_PROTOCOL_SPECIFIC_DATA.SIZE);
    expect(u16(r.data, 0)).toBe(0x1234); // the function's PCI vendor ID (PCI\\VEN_1234&DEV_4E56)
    expect(ascii(r.data, 4, 20)).toBe("WDMSIM-NVME-0100");
    expect(ascii(r.data, 24, 40)).toBe("wdmsim NVMe controller");
    expect(ascii(r.data, 64, 8)).toBe("1.0");
    expect(u32(r.data, 516)).toBe(1);
  });

  it("Identify Namespace (CNS 00h, NSID in the sub-value): its size in blocks and its LBA format's block size", async () => {
    const r = await withDisk(machine, (h) => protocolQuery(h, { dataType: STORAGE_PROTOCOL_NVME_DATA_TYPE.NVMeDataTypeIdentify, value: 0, subValue: 1 }));
    expect(r.ok).toBe(true);
    expect(u64(r.data, 0)).toBe(TEST_NAMESPACE_BLOCKS);
    const lbads = (u32(r.data, 128) >>> 16) & 0xFF;
    expect(2 ** lbads).toBe(4096);
  });

  it("the SMART / health log (page 02h) and the firmware slot log (page 03h), from the device's property too", async () => {
    const smart = await withDisk(machine, (h) => protocolQuery(h, { device: true, dataType: STORAGE_PROTOCOL_NVME_DATA_TYPE.NVMeDataTypeLogPage, value: NVME_LOG_PAGE_HEALTH_INFO, length: 512 }));
    expect(smart.ok).toBe(true);
    expect(u16(smart.data, 1)).toBeGreaterThan(273); // composite temperature, kelvin
    expect(smart.data[3]).toBeGreaterThanOrEqual(smart.data[4]); // available spare above its threshold
    const slots = await withDisk(machine, (h) => protocolQuery(h, { dataType: STORAGE_PROTOCOL_NVME_DATA_TYPE.NVMeDataTypeLogPage, value: NVME_LOG_PAGE_FIRMWARE_SLOT_INFO, length: 512 }));
    expect(slots.data[0] & 0x7).toBe(1);
    expect(ascii(slots.data, 8, 8)).toBe("1.0");
  });

  it("Get Features: DW0 in FixedProtocolReturnData (coalescing as the service parameters set it: time 2 in 15:08, 8 entries as 7 in 07:00)", async () => {
    const r = await withDisk(machine, (h) => protocolQuery(h, { dataType: STORAGE_PROTOCOL_NVME_DATA_TYPE.NVMeDataTypeFeature, value: NVME_FEATURE_INTERRUPT_COALESCING, length: 0 }));
    expect(r.ok).toBe(true);
    expect(r.dw0).toBe((2 << 8) | 7);
  });

  it("a data type the driver does not answer fails as not supported (STATUS_NOT_SUPPORTED: ERROR_NOT_SUPPORTED)", async () => {
    const r = await withDisk(machine, (h) => protocolQuery(h, { dataType: 99, value: 0 }));
    expect(r.ok).toBe(false);
    expect(r.error).toBe(ERROR_NOT_SUPPORTED);
  });
});

describe("IOCTL_STORAGE_PROTOCOL_COMMAND", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootStorage({ cpus: 2 });
  });

  it("Identify Controller: STORAGE_PROTOCOL_STATUS_SUCCESS with the data at DataFromDeviceBufferOffset", async () => {
    const r = await withDisk(machine, (h) => protocolCommand(h, nvmeCommand(NVME_ADMIN_IDENTIFY, 0, { 10: 1 }), 4096));
    expect(r.ok).toBe(true);
    expect(r.returnStatus).toBe(STORAGE_PROTOCOL_STATUS_SUCCESS);
    expect(r.errorCode).toBe(0);
    expect(ascii(r.data, 24, 40)).toBe("wdmsim NVMe controller");
  });

  it("Get Features, Number of Queues: the queue pairs allocated (0's based) in DW0 — one per processor", async () => {
    const r = await withDisk(machine, (h) => protocolCommand(h, nvmeCommand(NVME_ADMIN_GET_FEATURES, 0, { 10: NVME_FEATURE_NUMBER_OF_QUEUES })));
    expect(r.returnStatus).toBe(STORAGE_PROTOCOL_STATUS_SUCCESS);
    expect(r.dw0).toBe((1 << 16) | 1);
  });

  it("a command the device refuses: STORAGE_PROTOCOL_STATUS_ERROR with the NVMe status field in ErrorCode", async () => {
    // Get Log Page of an identifier the controller does not support: Invalid Log Page (SCT 1h, SC 09h).
    const r = await withDisk(machine, (h) => protocolCommand(h, nvmeCommand(NVME_ADMIN_GET_LOG_PAGE, 0xFFFFFFFF, { 10: (127 << 16) | 0x7F }), 512));
    expect(r.ok).toBe(true);
    expect(r.returnStatus).toBe(STORAGE_PROTOCOL_STATUS_ERROR);
    expect(r.errorCode & 0x7FF).toBe((0x1 << 8) | 0x09);
  });

  it("a command it does not pass (Format NVM) is STORAGE_PROTOCOL_STATUS_NOT_SUPPORTED; a structure of another version is INVALID_REQUEST", async () => {
    const r = await withDisk(machine, async (h) => ({
      format: await protocolCommand(h, nvmeCommand(0x80, 1)),
      version: await protocolCommand(h, nvmeCommand(NVME_ADMIN_IDENTIFY, 0, { 10: 1 }), 4096, { version: 2 }),
    }));
    expect(r.format.ok).toBe(true);
    expect(r.format.returnStatus).toBe(STORAGE_PROTOCOL_STATUS_NOT_SUPPORTED);
    expect(r.version.returnStatus).toBe(STORAGE_PROTOCOL_STATUS_INVALID_REQUEST);
  });
});
