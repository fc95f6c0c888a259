/**
 * The storage stack end to end on the storage machine: \\.\PhysicalDrive0 through the disk
 * class driver, the port and the NVMe miniport to the NVMe model — how the units are named,
 * data written and read back byte for byte (transfers split by the port's limits, buffers
 * at any offset), each SCSI command the miniport translates (by pass-through), and how
 * errors come back (LBA out of range, misaligned requests, injected media errors).
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Machine } from "../../src/machine/machine.js";
import { deviceTree, type DeviceTreeNode } from "../../src/pnp/tree.js";
import { IO } from "../../src/io/manager.js";
import { inspect } from "../../src/debug/inspect.js";
import { ERROR_CRC, ERROR_INVALID_PARAMETER, ERROR_SECTOR_NOT_FOUND } from "../../src/io/win32.js";
import {
  SCSIOP_INQUIRY, SCSIOP_MODE_SENSE, SCSIOP_READ, SCSIOP_READ16, SCSIOP_READ_CAPACITY, SCSIOP_REPORT_LUNS, SCSIOP_SERVICE_ACTION_IN16,
  SCSIOP_START_STOP_UNIT, SCSIOP_SYNCHRONIZE_CACHE, SCSIOP_TEST_UNIT_READY, SCSISTAT_CHECK_CONDITION, SCSISTAT_GOOD, SCSI_ADSENSE_ILLEGAL_BLOCK,
  SCSI_ADSENSE_ILLEGAL_COMMAND, SCSI_ADSENSE_INVALID_CDB, SCSI_SENSE_ILLEGAL_REQUEST, VPD_BLOCK_DEVICE_CHARACTERISTICS, VPD_BLOCK_LIMITS,
  VPD_DEVICE_IDENTIFIERS, VPD_SERIAL_NUMBER, VPD_SUPPORTED_PAGES, parseSense, readBE,
} from "../../src/drivers/storage/scsi.js";
import { kernelOf } from "../support/kernel-harness.js";
import { adapterOf, bootStorage, nvmeOf, passThrough, pattern, readAt, TEST_NAMESPACE_BLOCKS, withDisk, writeAt } from "../support/storage-harness.js";

const BLOCK = 4096;
const DISK_BYTES = TEST_NAMESPACE_BLOCKS * BLOCK;

function find(node: DeviceTreeNode, match: (n: DeviceTreeNode) => boolean): DeviceTreeNode | undefined {
  if (match(node)) return node;
  for (const c of node.children) {
    const f = find(c, match);
    if (f) return f;
  }
  return undefined;
}

describe("the storage stack on the storage machine", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootStorage();
  });

  it("names the namespace's unit as Windows names a SCSI disk, with the disk class driver above the port", () => {
    const tree = deviceTree(kernelOf(machine));
    const disk = find(tree, (n) => n.instancePath.startsWith("SCSI\\Disk&Ven_NVMe&Prod_"));
    expect(disk, "a SCSI\\Disk unit under the NVMe controller").toBeDefined();
    expect(disk!.instancePath).toMatch(/^SCSI\\Disk&Ven_NVMe&Prod_wdmsim_NVMe_cont\\\d+&[0-9a-f]+&0&000000$/);
    expect(disk!.state).toBe("DeviceNodeStarted");
    expect(disk!.stack).toEqual(["disk", "stornvme"]);
    const nvme = find(tree, (n) => n.instancePath.startsWith("PCI\\VEN_1234&DEV_4E56"));
    expect(nvme!.stack).toEqual(["stornvme", "pci"]);
  });

  it("reports the unit's hardware IDs (ending in GenDisk) and compatible IDs SCSI\\Disk, SCSI\\RAW", () => {
    const a = adapterOf(machine);
    const unit = [...a.Units.values()][0];
    const node = unit.DeviceObject!.deviceNode as { HardwareIds: string[]; CompatibleIds: string[] };
    expect(node.HardwareIds[0]).toBe("SCSI\\DiskNVMe____wdmsim_NVMe_cont1.0_");
    expect(node.HardwareIds).toEqual([
      "SCSI\\DiskNVMe____wdmsim_NVMe_cont1.0_", "SCSI\\DiskNVMe____wdmsim_NVMe_cont", "SCSI\\DiskNVMe____",
      "SCSI\\NVMe____wdmsim_NVMe_cont1", "NVMe____wdmsim_NVMe_cont1", "GenDisk",
    ]);
    expect(node.CompatibleIds).toEqual(["SCSI\\Disk", "SCSI\\RAW"]);
  });

  it("names the adapter \\Device\\RaidPort0 with the link Scsi0: and the disk \\Device\\Harddisk0\\DR0 with PhysicalDrive0", () => {
    const io = IO(kernelOf(machine));
    expect(io.namespace.has("\\device\\raidport0")).toBe(true);
    expect(io.symbolicLinks.get("\\dosdevices\\scsi0:")).toBe("\\device\\raidport0");
    expect(io.symbolicLinks.get("\\dosdevices\\physicaldrive0")).toBe("\\device\\harddisk0\\dr0");
  });

  it("shows the disk in !devnode (under the controller, service disk) and !devstack (disk's FDO over stornvme's unit PDO)", () => {
    const tree = inspect(machine, "!devnode 0 1");
    expect(tree).toMatch(/InstancePath is "PCI\\VEN_1234&DEV_4E56[^"]*"\n\s+ServiceName is "stornvme"[\s\S]*InstancePath is "SCSI\\Disk&Ven_NVMe&Prod_wdmsim_NVMe_cont\\[^"]*"\n\s+ServiceName is "disk"/);
    const stack = inspect(machine, "!devstack \\Device\\Harddisk0\\DR0").split("\n");
    expect(stack[1]).toMatch(/^> \S+\s+\\Driver\\disk\s+\S+\s+Harddisk0\\DR0$/);
    expect(stack[2]).toMatch(/^  \S+\s+\\Driver\\stornvme\s/);
  });

  it("writes and reads back byte for byte: one block, many blocks, more than one transfer, a buffer at an odd offset", async () => {
    const sizes = [BLOCK, 16 * BLOCK, 128 * 1024, 200 * 1024 + 2 * BLOCK];
    await withDisk(machine, async (h) => {
      let offset = 0;
      for (const [i, size] of sizes.entries()) {
        const data = pattern(i + 1, size);
        const w = await writeAt(h, offset, data);
        expect(w).toEqual({ ok: true, bytes: size, error: 0 });
        const r = await readAt(h, offset, size);
        expect(r.ok).toBe(true);
        expect(r.bytes).toBe(size);
        expect(Buffer.compare(r.data, data)).toBe(0);
        offset += size;
      }
    });
  });

  it("splits a transfer larger than the adapter's maximum into several NVMe commands", async () => {
    const before = nvmeOf(machine).IoQueues.reduce((n, q) => n + q.Completions, 0);
    await withDisk(machine, async (h) => {
      const r = await readAt(h, 0, 512 * 1024);
      expect(r.ok).toBe(true);
    });
    const commands = nvmeOf(machine).IoQueues.reduce((n, q) => n + q.Completions, 0) - before;
    // 512 KiB in transfers of at most 128 KiB (MDTS 5: 32 pages of 4 KiB).
    expect(commands).toBe(4);
  });

  it("fails a read past the end with the device's ILLEGAL REQUEST / LBA OUT OF RANGE: ERROR_SECTOR_NOT_FOUND", async () => {
    await withDisk(machine, async (h) => {
      const r = await readAt(h, DISK_BYTES, BLOCK);
      expect(r.ok).toBe(false);
      expect(r.error).toBe(ERROR_SECTOR_NOT_FOUND);
      const straddling = await readAt(h, DISK_BYTES - BLOCK, 2 * BLOCK);
      expect(straddling.error).toBe(ERROR_SECTOR_NOT_FOUND);
    });
  });

  it("refuses an offset or length that is not a multiple of the sector size: ERROR_INVALID_PARAMETER", async () => {
    await withDisk(machine, async (h) => {
      expect((await readAt(h, 512, BLOCK)).error).toBe(ERROR_INVALID_PARAMETER);
      expect((await readAt(h, 0, BLOCK + 512)).error).toBe(ERROR_INVALID_PARAMETER);
      expect((await writeAt(h, 100, new Uint8Array(BLOCK))).error).toBe(ERROR_INVALID_PARAMETER);
    });
  });
});

describe("SCSI commands the NVMe miniport translates (IOCTL_SCSI_PASS_THROUGH)", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootStorage();
  });

  it("INQUIRY: direct-access device, SPC-4, vendor NVMe, the model as product, the firmware revision", async () => {
    const r = await withDisk(machine, (h) => passThrough(h, [SCSIOP_INQUIRY, 0, 0, 0, 36, 0], { dataIn: 36 }));
    expect(r.ok).toBe(true);
    expect(r.scsiStatus).toBe(SCSISTAT_GOOD);
    expect(r.transferLength).toBe(36);
    expect(r.data[0]).toBe(0x00);
    expect(r.data[2]).toBe(0x06);
    expect(Buffer.from(r.data.subarray(8, 16)).toString("ascii")).toBe("NVMe    ");
    expect(Buffer.from(r.data.subarray(16, 32)).toString("ascii")).toBe("wdmsim NVMe cont");
    expect(Buffer.from(r.data.subarray(32, 36)).toString("ascii")).toBe("1.0 ");
  });

  it("INQUIRY VPD: the supported pages, the serial number, device identifiers, block limits, block device characteristics", async () => {
    await withDisk(machine, async (h) => {
      const vpd = (page: number) => passThrough(h, [SCSIOP_INQUIRY, 1, page, 0, 0xFF, 0], { dataIn: 0xFF });
      const pages = await vpd(VPD_SUPPORTED_PAGES);
      expect([...pages.data.subarray(4, 4 + pages.data[3])]).toEqual([0x00, 0x80, 0x83, 0xB0, 0xB1]);
      const serial = await vpd(VPD_SERIAL_NUMBER);
      expect(serial.data[1]).toBe(0x80);
      expect(Buffer.from(serial.data.subarray(4, 4 + serial.data[3])).toString("ascii")).toMatch(/^([0-9A-F]{4}_){7}[0-9A-F]{4}\.$/);
      const ids = await vpd(VPD_DEVICE_IDENTIFIERS);
      expect(ids.data[1]).toBe(0x83);
      // The first designator: EUI-64 based (type 2), binary, 16 bytes: the namespace's NGUID.
      expect([ids.data[4] & 0x0F, ids.data[5] & 0x0F, ids.data[7]]).toEqual([1, 2, 16]);
      const limits = await vpd(VPD_BLOCK_LIMITS);
      // Maximum transfer length in blocks: 128 KiB of 4 KiB blocks.
      expect(readBE(limits.data, 8, 4)).toBe(32);
      const chars = await vpd(VPD_BLOCK_DEVICE_CHARACTERISTICS);
      // Medium rotation rate 0001h: a solid state device.
      expect(readBE(chars.data, 4, 2)).toBe(1);
      const unknown = await vpd(0xC5);
      expect(unknown.scsiStatus).toBe(SCSISTAT_CHECK_CONDITION);
      expect(parseSense(unknown.sense)).toEqual({ senseKey: SCSI_SENSE_ILLEGAL_REQUEST, asc: SCSI_ADSENSE_INVALID_CDB, ascq: 0 });
    });
  });

  it("READ CAPACITY (10) and (16): the last LBA and the block length", async () => {
    await withDisk(machine, async (h) => {
      const ten = await passThrough(h, [SCSIOP_READ_CAPACITY, 0, 0, 0, 0, 0, 0, 0, 0, 0], { dataIn: 8 });
      expect(readBE(ten.data, 0, 4)).toBe(TEST_NAMESPACE_BLOCKS - 1);
      expect(readBE(ten.data, 4, 4)).toBe(BLOCK);
      const sixteen = await passThrough(h, [SCSIOP_SERVICE_ACTION_IN16, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0], { dataIn: 32 });
      expect(readBE(sixteen.data, 0, 8)).toBe(TEST_NAMESPACE_BLOCKS - 1);
      expect(readBE(sixteen.data, 8, 4)).toBe(BLOCK);
    });
  });

  it("REPORT LUNS lists LUN 0 (one namespace); TEST UNIT READY, START STOP UNIT and SYNCHRONIZE CACHE are GOOD", async () => {
    await withDisk(machine, async (h) => {
      const luns = await passThrough(h, [SCSIOP_REPORT_LUNS, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0], { dataIn: 64 });
      expect(readBE(luns.data, 0, 4)).toBe(8);
      expect([...luns.data.subarray(8, 16)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
      expect((await passThrough(h, [SCSIOP_TEST_UNIT_READY, 0, 0, 0, 0, 0])).scsiStatus).toBe(SCSISTAT_GOOD);
      expect((await passThrough(h, [SCSIOP_START_STOP_UNIT, 0, 0, 0, 1, 0])).scsiStatus).toBe(SCSISTAT_GOOD);
      const flushes = nvmeOf(machine).IoQueues.reduce((n, q) => n + q.Completions, 0);
      expect((await passThrough(h, [SCSIOP_SYNCHRONIZE_CACHE, 0, 0, 0, 0, 0, 0, 0, 0, 0])).scsiStatus).toBe(SCSISTAT_GOOD);
      // SYNCHRONIZE CACHE reaches the controller as an NVMe Flush.
      expect(nvmeOf(machine).IoQueues.reduce((n, q) => n + q.Completions, 0)).toBe(flushes + 1);
    });
  });

  it("MODE SENSE (6): the caching page, and ILLEGAL REQUEST / INVALID FIELD IN CDB for a page it does not have", async () => {
    await withDisk(machine, async (h) => {
      const caching = await passThrough(h, [SCSIOP_MODE_SENSE, 0, 0x08, 0, 0xFF, 0], { dataIn: 0xFF });
      expect(caching.scsiStatus).toBe(SCSISTAT_GOOD);
      expect(caching.data[0]).toBe(caching.transferLength - 1);
      expect(caching.data[4]).toBe(0x08);
      const none = await passThrough(h, [SCSIOP_MODE_SENSE, 0, 0x1C, 0, 0xFF, 0], { dataIn: 0xFF });
      expect(parseSense(none.sense)).toEqual({ senseKey: SCSI_SENSE_ILLEGAL_REQUEST, asc: SCSI_ADSENSE_INVALID_CDB, ascq: 0 });
    });
  });

  it("READ past the last LBA: CHECK CONDITION, ILLEGAL REQUEST, LOGICAL BLOCK ADDRESS OUT OF RANGE (from the controller's status 80h)", async () => {
    const r = await withDisk(machine, (h) => passThrough(h, [SCSIOP_READ16, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 1, 0, 0], { dataIn: BLOCK }));
    expect(r.ok).toBe(true);
    expect(r.scsiStatus).toBe(SCSISTAT_CHECK_CONDITION);
    expect(parseSense(r.sense)).toEqual({ senseKey: SCSI_SENSE_ILLEGAL_REQUEST, asc: SCSI_ADSENSE_ILLEGAL_BLOCK, ascq: 0 });
    expect(r.transferLength).toBe(0);
  });

  it("an operation code it does not translate: ILLEGAL REQUEST / INVALID COMMAND OPERATION CODE", async () => {
    const r = await withDisk(machine, (h) => passThrough(h, [0xE5, 0, 0, 0, 0, 0]));
    expect(r.scsiStatus).toBe(SCSISTAT_CHECK_CONDITION);
    expect(parseSense(r.sense)).toEqual({ senseKey: SCSI_SENSE_ILLEGAL_REQUEST, asc: SCSI_ADSENSE_ILLEGAL_COMMAND, ascq: 0 });
  });

  it("READ (10) by pass-through returns what WriteFile wrote", async () => {
    await withDisk(machine, async (h) => {
      const data = pattern(77, BLOCK);
      expect((await writeAt(h, 5 * BLOCK, data)).ok).toBe(true);
      const r = await passThrough(h, [SCSIOP_READ, 0, 0, 0, 0, 5, 0, 0, 1, 0], { dataIn: BLOCK });
      expect(r.scsiStatus).toBe(SCSISTAT_GOOD);
      expect(Buffer.compare(r.data, data)).toBe(0);
    });
  });
});

describe("media errors", () => {
  it("an unrecovered read error (NVMe status 0281h) is MEDIUM ERROR / UNRECOVERED READ ERROR and fails the read with ERROR_CRC once retries are spent", async () => {
    const machine = await bootStorage();
    machine.injectFault("01:00.0", { kind: "status", status: 0x0281, count: 100 });
    const r = await withDisk(machine, (h) => readAt(h, 0, BLOCK));
    expect(r.ok).toBe(false);
    expect(r.error).toBe(ERROR_CRC);
    machine.injectFault("01:00.0", { kind: "status", status: 0x0281, count: 0 });
    const after = await withDisk(machine, (h) => readAt(h, 0, BLOCK));
    expect(after.ok).toBe(true);
  });
});
