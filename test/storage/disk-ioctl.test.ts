// The disk class driver's start, names and I/O controls, against the SCSI target fixture.
// Sizes, statuses and Information as disk.sys (DiskIoctlGetDriveGeometry(Ex),
// DiskIoctlGetLengthInfo, DiskIoctlIsWritable, DiskIoctlVerify) and classpnp
// (ClassDeviceControl, ClasspAccessAlignmentProperty, ClassReadDriveCapacity) return them.
import { beforeAll, describe, expect, it } from "vitest";
import { crc32 } from "node:zlib";
import { IO } from "../../src/io/manager.js";
import { PNP } from "../../src/pnp/manager.js";
import { DO_DEVICE_INITIALIZING, DO_DIRECT_IO, FILE_DEVICE_DISK } from "../../src/io/objects.js";
import { CTL_CODE, METHOD_BUFFERED, FILE_ANY_ACCESS } from "../../src/io/ioctl.js";
import {
  DeviceIoControl, ERROR_BAD_LENGTH, ERROR_INSUFFICIENT_BUFFER, ERROR_IO_DEVICE, ERROR_SECTOR_NOT_FOUND, ERROR_WRITE_PROTECT, GetLastError,
} from "../../src/io/usermode.js";
import {
  STATUS_BUFFER_TOO_SMALL, STATUS_INFO_LENGTH_MISMATCH, STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER, STATUS_MEDIA_WRITE_PROTECTED,
  STATUS_NONEXISTENT_SECTOR, STATUS_SUCCESS,
} from "../../src/ke/ntstatus.js";
import {
  DISK_GEOMETRY, DISK_GEOMETRY_EX, DISK_PARTITION_INFO, DISK_DETECTION_INFO, DETECTION_TYPE, IOCTL_DISK_CHECK_VERIFY, IOCTL_DISK_FLUSH_CACHE,
  IOCTL_DISK_GET_DRIVE_GEOMETRY, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, IOCTL_DISK_GET_LENGTH_INFO, IOCTL_DISK_IS_WRITABLE, IOCTL_DISK_VERIFY,
  MEDIA_TYPE, PARTITION_STYLE,
} from "../../src/drivers/storage/ntdddisk.js";
import {
  GUID_DEVCLASS_DISKDRIVE, GUID_DEVINTERFACE_DISK, IOCTL_STORAGE_CHECK_VERIFY, IOCTL_STORAGE_GET_DEVICE_NUMBER, IOCTL_STORAGE_QUERY_PROPERTY,
  IOCTL_STORAGE_READ_CAPACITY, STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR, STORAGE_ADAPTER_DESCRIPTOR, STORAGE_DEVICE_DESCRIPTOR, STORAGE_PROPERTY_ID,
  STORAGE_QUERY_TYPE, STORAGE_READ_CAPACITY, SRB_TYPE_STORAGE_REQUEST_BLOCK,
} from "../../src/drivers/storage/ntddstor.js";
import { IOCTL_SCSI_GET_ADDRESS, IOCTL_SCSI_PASS_THROUGH, SCSI_ADDRESS } from "../../src/drivers/storage/ntddscsi.js";
import {
  SCSI_ADSENSE_MEDIUM_CHANGED, SCSI_SENSE_UNIT_ATTENTION, SCSIOP_INQUIRY, SCSIOP_MODE_SENSE, SCSIOP_READ, SCSIOP_READ16, SCSIOP_READ_CAPACITY,
  SCSIOP_READ_CAPACITY16, SCSIOP_SYNCHRONIZE_CACHE, SCSIOP_TEST_UNIT_READY, SCSIOP_VERIFY, SCSIOP_VERIFY16, SCSIOP_WRITE, SCSIOP_WRITE16,
} from "../../src/drivers/storage/scsi.js";
import { SP_UNTAGGED, SRB_FLAGS_NO_QUEUE_FREEZE } from "../../src/drivers/storage/srb.js";
import {
  bootDisk, diskFdo, diskIoctl, diskResources, propertyQuery, readAt, withDisk, writeAt, pattern, readWriteLog, type DiskMachine,
} from "../support/scsi-target.js";

const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const u64 = (b: Uint8Array, at: number) => Number(new DataView(b.buffer, b.byteOffset).getBigUint64(at, true));
const le64 = (n: number) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigInt64(0, BigInt(n), true); return b; };
const verifyInfo = (offset: number, length: number) => { const b = new Uint8Array(16); b.set(le64(offset), 0); new DataView(b.buffer).setUint32(8, length, true); return b; };

/** Sector 0 of an MBR disk with `signature`, and the checksum IoReadDiskSignature computes (two's complement of the sum of its 128 ULONGs). */
function mbrSector(signature: number): { sector: Uint8Array; checksum: number } {
  const s = new Uint8Array(512);
  const v = new DataView(s.buffer);
  v.setUint32(0x1B8, signature, true);
  s[0x1BE + 4] = 0x07;
  s[510] = 0x55;
  s[511] = 0xAA;
  let sum = 0;
  for (let i = 0; i < 128; i++) sum = (sum + v.getUint32(i * 4, true)) >>> 0;
  return { sector: s, checksum: (0x100000000 - sum) % 0x100000000 };
}

/** A protective MBR and a GPT header at LBA 1 (header CRC32 as UEFI computes it) with disk GUID `guidBytes`. */
function gptSectors(guidBytes: Uint8Array): Uint8Array {
  const d = new Uint8Array(1024);
  d[0x1BE + 4] = 0xEE;
  d[510] = 0x55;
  d[511] = 0xAA;
  const h = d.subarray(512);
  h.set([..."EFI PART"].map((c) => c.charCodeAt(0)), 0);
  const v = new DataView(h.buffer, h.byteOffset);
  v.setUint32(8, 0x00010000, true);
  v.setUint32(12, 92, true);
  v.setBigUint64(24, 1n, true);
  h.set(guidBytes, 56);
  v.setUint32(16, crc32(h.subarray(0, 92)), true);
  return d;
}

describe("disk start: names, links, interface, device object", () => {
  let dm: DiskMachine;
  beforeAll(async () => {
    // The PDO asks for no alignment: the FDO's comes from the adapter descriptor.
    dm = await bootDisk({ alignmentMask: 7, pdoAlignmentRequirement: 0 });
  });

  it("creates \\Device\\Harddisk0\\DR0 with \\DosDevices\\PhysicalDrive0 and \\Device\\Harddisk0\\Partition0", () => {
    const fdo = diskFdo(dm.k);
    expect(fdo.DeviceNumber).toBe(0);
    expect(fdo.DeviceName).toBe("\\Device\\Harddisk0\\DR0");
    expect(fdo.DeviceObject.name).toBe("\\Device\\Harddisk0\\DR0");
    const links = IO(dm.k).symbolicLinks;
    expect(links.get("\\dosdevices\\physicaldrive0")).toBe("\\device\\harddisk0\\dr0");
    expect(links.get("\\device\\harddisk0\\partition0")).toBe("\\device\\harddisk0\\dr0");
    expect(diskResources(dm).diskCount).toBe(1);
  });

  it("is a FILE_DEVICE_DISK direct-I/O FDO aligned as the adapter asks, attached to the unit PDO", () => {
    const fdo = diskFdo(dm.k);
    const d = fdo.DeviceObject;
    expect(d.DeviceType).toBe(FILE_DEVICE_DISK);
    expect(d.Flags & DO_DIRECT_IO).toBe(DO_DIRECT_IO);
    expect(d.Flags & DO_DEVICE_INITIALIZING).toBe(0);
    expect(d.AlignmentRequirement).toBe(7);
    expect(fdo.LowerPdo).toBe(dm.target.units[0].Self);
    expect(d.StackSize).toBe(fdo.LowerDeviceObject.StackSize + 1);
  });

  it("registers and enables GUID_DEVINTERFACE_DISK on the unit, in the DiskDrive class with the disk service", () => {
    const r = diskResources(dm);
    expect(r.enabledInterfaces).toBe(1);
    const node = [...PNP(dm.k).allNodes()].find((n) => n.ServiceName === "disk")!;
    expect(node).toBeDefined();
    expect(node.ClassGuid).toBe(GUID_DEVCLASS_DISKDRIVE);
    expect(node.HardwareIds).toContain("GenDisk");
    expect(node.HardwareIds[0]).toBe("SCSI\\DiskNVMe____wdmsim_NVMe_cont1.0_");
    expect(diskFdo(dm.k).DiskInterfaceName.toLowerCase()).toContain(GUID_DEVINTERFACE_DISK);
  });

  it("reads the capacity, the signature sector, the VPD pages and the caching page at start", () => {
    const log = dm.target.units[0].log.filter((e) => e.function === 0);
    const ops = log.map((e) => e.opcode);
    expect(ops[0]).toBe(SCSIOP_READ_CAPACITY);
    // READ CAPACITY comes before anything else is read; sector 0 (the signature) is read once.
    expect(ops.indexOf(SCSIOP_READ)).toBeGreaterThan(0);
    expect(log.filter((e) => e.opcode === SCSIOP_READ).map((e) => [e.lba, e.blocks])).toEqual([[0, 1]]);
    const inquiries = log.filter((e) => e.opcode === SCSIOP_INQUIRY).map((e) => [e.cdb[1] & 1, e.cdb[2]]);
    expect(inquiries).toEqual([[1, 0x00], [1, 0xB0]]);
    expect(ops).toContain(SCSIOP_MODE_SENSE);
    // A disk READ CAPACITY (10) calls small is not asked for READ CAPACITY (16).
    expect(ops).not.toContain(SCSIOP_READ_CAPACITY16);
    for (const e of log) {
      expect(e.senseInfoBufferLength).toBeGreaterThan(0);
      expect(e.srbFlags & SRB_FLAGS_NO_QUEUE_FREEZE).toBe(SRB_FLAGS_NO_QUEUE_FREEZE);
    }
  });

  it("keeps the adapter's limits and the geometry classpnp computes", () => {
    const fdo = diskFdo(dm.k);
    expect(fdo.AdapterDescriptor.MaximumTransferLength).toBe(128 * 1024);
    expect(fdo.AdapterDescriptor.MaximumPhysicalPages).toBe(33);
    expect(fdo.AdapterDescriptor.AlignmentMask).toBe(7);
    expect(fdo.DeviceDescriptor.VendorId.trim()).toBe("NVMe");
    // min(128 KiB, (33 - 1) pages).
    expect(fdo.PrivateFdoData.HwMaxXferLen).toBe(128 * 1024);
    expect(fdo.TimeOutValue).toBe(10);
    expect(fdo.PartitionLength).toBe(16384 * 512);
    expect(fdo.SectorShift).toBe(9);
    expect({ ...fdo.DiskGeometry }).toEqual({ Cylinders: 1, MediaType: MEDIA_TYPE.FixedMedia, TracksPerCylinder: 255, SectorsPerTrack: 63, BytesPerSector: 512 });
  });
});

describe("I/O controls of an MBR disk", () => {
  let dm: DiskMachine;
  const mbr = mbrSector(0x5EC7A11D);
  beforeAll(async () => {
    dm = await bootDisk({}, [{ unit: 0, lba: 0, data: mbr.sector }]);
  });

  it("IOCTL_DISK_GET_DRIVE_GEOMETRY: DISK_GEOMETRY (24 bytes); a smaller buffer is STATUS_BUFFER_TOO_SMALL with nothing returned", async () => {
    const r = await diskIoctl(dm, IOCTL_DISK_GET_DRIVE_GEOMETRY, null, 24);
    expect(r.status).toBe(STATUS_SUCCESS);
    expect(r.information).toBe(DISK_GEOMETRY.SIZE);
    expect(u64(r.output, DISK_GEOMETRY.Cylinders)).toBe(1);
    expect(u32(r.output, DISK_GEOMETRY.MediaType)).toBe(MEDIA_TYPE.FixedMedia);
    expect(u32(r.output, DISK_GEOMETRY.TracksPerCylinder)).toBe(255);
    expect(u32(r.output, DISK_GEOMETRY.SectorsPerTrack)).toBe(63);
    expect(u32(r.output, DISK_GEOMETRY.BytesPerSector)).toBe(512);
    const small = await diskIoctl(dm, IOCTL_DISK_GET_DRIVE_GEOMETRY, null, 23);
    expect(small).toMatchObject({ status: STATUS_BUFFER_TOO_SMALL, information: 0 });
  });

  it("IOCTL_DISK_GET_DRIVE_GEOMETRY_EX: 32 bytes at least; partition information from 56, detection information from 104; Information = min(length, 104)", async () => {
    expect(await diskIoctl(dm, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, null, 31)).toMatchObject({ status: STATUS_BUFFER_TOO_SMALL, information: 0 });
    const g32 = await diskIoctl(dm, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, null, 32);
    expect(g32).toMatchObject({ status: STATUS_SUCCESS, information: 32 });
    expect(u64(g32.output, DISK_GEOMETRY_EX.DiskSize)).toBe(16384 * 512);
    expect(u32(g32.output, DISK_GEOMETRY.SectorsPerTrack)).toBe(63);
    // Between the sizes: only what fits completely is filled in.
    const g55 = await diskIoctl(dm, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, null, 55);
    expect(g55.information).toBe(55);
    expect([...g55.output.subarray(32)].every((b) => b === 0)).toBe(true);
    const g56 = await diskIoctl(dm, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, null, 56);
    expect(g56).toMatchObject({ status: STATUS_SUCCESS, information: 56 });
    const p = 32;
    expect(u32(g56.output, p + DISK_PARTITION_INFO.SizeOfPartitionInfo)).toBe(24);
    expect(u32(g56.output, p + DISK_PARTITION_INFO.PartitionStyle)).toBe(PARTITION_STYLE.PARTITION_STYLE_MBR);
    expect(u32(g56.output, p + DISK_PARTITION_INFO.MbrSignature)).toBe(0x5EC7A11D);
    expect(u32(g56.output, p + DISK_PARTITION_INFO.MbrCheckSum)).toBe(mbr.checksum);
    const g104 = await diskIoctl(dm, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, null, 104);
    expect(g104.information).toBe(104);
    expect(u32(g104.output, 56 + DISK_DETECTION_INFO.SizeOfDetectInfo)).toBe(48);
    expect(u32(g104.output, 56 + DISK_DETECTION_INFO.DetectionType)).toBe(DETECTION_TYPE.DetectNone);
    const g200 = await diskIoctl(dm, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, null, 200);
    expect(g200.information).toBe(104);
  });

  it("IOCTL_DISK_GET_LENGTH_INFO: the length in bytes, reading the capacity again; 7 bytes is STATUS_BUFFER_TOO_SMALL", async () => {
    const u = dm.target.units[0];
    const before = u.commands(SCSIOP_READ_CAPACITY).length;
    const r = await diskIoctl(dm, IOCTL_DISK_GET_LENGTH_INFO, null, 8);
    expect(r).toMatchObject({ status: STATUS_SUCCESS, information: 8 });
    expect(u64(r.output, 0)).toBe(16384 * 512);
    expect(u.commands(SCSIOP_READ_CAPACITY).length).toBe(before + 1);
    expect(await diskIoctl(dm, IOCTL_DISK_GET_LENGTH_INFO, null, 7)).toMatchObject({ status: STATUS_BUFFER_TOO_SMALL, information: 0 });
  });

  it("IOCTL_STORAGE_GET_DEVICE_NUMBER: { FILE_DEVICE_DISK, 0, 0 }; a smaller buffer is STATUS_BUFFER_TOO_SMALL with Information 12", async () => {
    const r = await diskIoctl(dm, IOCTL_STORAGE_GET_DEVICE_NUMBER, null, 12);
    expect(r).toMatchObject({ status: STATUS_SUCCESS, information: 12 });
    expect([u32(r.output, 0), u32(r.output, 4), u32(r.output, 8)]).toEqual([FILE_DEVICE_DISK, 0, 0]);
    expect(await diskIoctl(dm, IOCTL_STORAGE_GET_DEVICE_NUMBER, null, 11)).toMatchObject({ status: STATUS_BUFFER_TOO_SMALL, information: 12 });
  });

  it("IOCTL_STORAGE_READ_CAPACITY: STORAGE_READ_CAPACITY; a smaller buffer is STATUS_BUFFER_TOO_SMALL with Information 32", async () => {
    const r = await diskIoctl(dm, IOCTL_STORAGE_READ_CAPACITY, null, 32);
    expect(r).toMatchObject({ status: STATUS_SUCCESS, information: 32 });
    const R = STORAGE_READ_CAPACITY;
    expect([u32(r.output, R.Version), u32(r.output, R.Size), u32(r.output, R.BlockLength)]).toEqual([32, 32, 512]);
    expect([u64(r.output, R.NumberOfBlocks), u64(r.output, R.DiskLength)]).toEqual([16384, 16384 * 512]);
    expect(await diskIoctl(dm, IOCTL_STORAGE_READ_CAPACITY, null, 31)).toMatchObject({ status: STATUS_BUFFER_TOO_SMALL, information: 32 });
  });

  it("IOCTL_STORAGE_QUERY_PROPERTY: a short query is STATUS_INFO_LENGTH_MISMATCH; adapter and device properties come from the port", async () => {
    expect(await diskIoctl(dm, IOCTL_STORAGE_QUERY_PROPERTY, new Uint8Array(11), 64)).toMatchObject({ status: STATUS_INFO_LENGTH_MISMATCH, information: 0 });
    const a = await diskIoctl(dm, IOCTL_STORAGE_QUERY_PROPERTY, propertyQuery(STORAGE_PROPERTY_ID.StorageAdapterProperty), 256);
    expect(a.status).toBe(STATUS_SUCCESS);
    expect(a.information).toBe(STORAGE_ADAPTER_DESCRIPTOR.SIZE);
    expect(u32(a.output, STORAGE_ADAPTER_DESCRIPTOR.MaximumTransferLength)).toBe(128 * 1024);
    const d = await diskIoctl(dm, IOCTL_STORAGE_QUERY_PROPERTY, propertyQuery(STORAGE_PROPERTY_ID.StorageDeviceProperty), 512);
    expect(d.status).toBe(STATUS_SUCCESS);
    const serialAt = u32(d.output, STORAGE_DEVICE_DESCRIPTOR.SerialNumberOffset);
    expect(String.fromCharCode(...d.output.subarray(serialAt, serialAt + 10))).toBe("WDMSIM0001");
  });

  it("IOCTL_SCSI_GET_ADDRESS and unknown controls go to the port; a short pass-through is STATUS_INVALID_PARAMETER", async () => {
    const a = await diskIoctl(dm, IOCTL_SCSI_GET_ADDRESS, null, SCSI_ADDRESS.SIZE);
    expect(a).toMatchObject({ status: STATUS_SUCCESS, information: SCSI_ADDRESS.SIZE });
    expect(a.output[SCSI_ADDRESS.TargetId]).toBe(0);
    const unknown = CTL_CODE(0x2D, 0x777, METHOD_BUFFERED, FILE_ANY_ACCESS);
    expect((await diskIoctl(dm, unknown, null, 0)).status).toBe(STATUS_INVALID_DEVICE_REQUEST);
    expect(await diskIoctl(dm, IOCTL_SCSI_PASS_THROUGH, new Uint8Array(8), 8)).toMatchObject({ status: STATUS_INVALID_PARAMETER, information: 0 });
  });

  it("IOCTL_DISK_IS_WRITABLE: MODE SENSE of all pages; a writable disk succeeds", async () => {
    const u = dm.target.units[0];
    const before = u.commands(SCSIOP_MODE_SENSE).length;
    expect((await diskIoctl(dm, IOCTL_DISK_IS_WRITABLE, null, 0)).status).toBe(STATUS_SUCCESS);
    const ms = u.commands(SCSIOP_MODE_SENSE);
    expect(ms.length).toBe(before + 1);
    expect(ms[ms.length - 1].cdb[2] & 0x3F).toBe(0x3F);
  });

  it("IOCTL_STORAGE_CHECK_VERIFY: TEST UNIT READY; with a ULONG of output the media change count, which a UNIT ATTENTION raises", async () => {
    const u = dm.target.units[0];
    const tur = u.commands(SCSIOP_TEST_UNIT_READY).length;
    const r0 = await diskIoctl(dm, IOCTL_STORAGE_CHECK_VERIFY, null, 4);
    expect(r0).toMatchObject({ status: STATUS_SUCCESS, information: 4 });
    const count0 = u32(r0.output, 0);
    expect(u.commands(SCSIOP_TEST_UNIT_READY).length).toBe(tur + 1);
    u.injectCheckCondition(1, SCSI_SENSE_UNIT_ATTENTION, SCSI_ADSENSE_MEDIUM_CHANGED, 0, [SCSIOP_TEST_UNIT_READY]);
    const r1 = await diskIoctl(dm, IOCTL_DISK_CHECK_VERIFY, null, 4);
    // The unit attention is retried (ClassSendSrbSynchronous), and the count went up.
    expect(r1.status).toBe(STATUS_SUCCESS);
    expect(u32(r1.output, 0)).toBe(count0 + 1);
    expect(u.commands(SCSIOP_TEST_UNIT_READY).length).toBe(tur + 3);
    expect(await diskIoctl(dm, IOCTL_STORAGE_CHECK_VERIFY, null, 2)).toMatchObject({ status: STATUS_BUFFER_TOO_SMALL, information: 4 });
    expect(await diskIoctl(dm, IOCTL_STORAGE_CHECK_VERIFY, null, 0)).toMatchObject({ status: STATUS_SUCCESS, information: 0 });
  });

  it("IOCTL_DISK_VERIFY: VERIFY commands of at most 256 blocks over the range; outside the disk is STATUS_NONEXISTENT_SECTOR; short input STATUS_INFO_LENGTH_MISMATCH", async () => {
    const u = dm.target.units[0];
    const before = u.commands(SCSIOP_VERIFY).length;
    const r = await diskIoctl(dm, IOCTL_DISK_VERIFY, verifyInfo(4096, 600 * 512), 0);
    expect(r.status).toBe(STATUS_SUCCESS);
    const v = u.commands(SCSIOP_VERIFY).slice(before);
    expect(v.map((e) => [e.lba, e.blocks, e.timeOutValue])).toEqual([[8, 256, 20], [264, 256, 20], [520, 88, 10]]);
    expect(await diskIoctl(dm, IOCTL_DISK_VERIFY, verifyInfo(16384 * 512 - 512, 1024), 0)).toMatchObject({ status: STATUS_NONEXISTENT_SECTOR });
    expect(await diskIoctl(dm, IOCTL_DISK_VERIFY, verifyInfo(16384 * 512 + 512, 0), 0)).toMatchObject({ status: STATUS_NONEXISTENT_SECTOR });
    expect(await diskIoctl(dm, IOCTL_DISK_VERIFY, verifyInfo(0, 512).subarray(0, 15), 0)).toMatchObject({ status: STATUS_INFO_LENGTH_MISMATCH });
    expect(u.commands(SCSIOP_VERIFY).length).toBe(before + 3);
    expect(u.commands(SCSIOP_VERIFY16)).toEqual([]);
  });

  it("IOCTL_DISK_FLUSH_CACHE: SYNCHRONIZE CACHE, untagged, with four times the disk's timeout", async () => {
    const u = dm.target.units[0];
    const before = u.commands(SCSIOP_SYNCHRONIZE_CACHE).length;
    expect((await diskIoctl(dm, IOCTL_DISK_FLUSH_CACHE, null, 0)).status).toBe(STATUS_SUCCESS);
    const sc = u.commands(SCSIOP_SYNCHRONIZE_CACHE).slice(before);
    expect(sc.length).toBe(1);
    expect(sc[0].queueTag).toBe(SP_UNTAGGED);
    expect(sc[0].timeOutValue).toBe(40);
  });

  it("from user mode: DeviceIoControl returns the geometry; errors map to Win32 codes", async () => {
    const r = await withDisk(dm, async (h) => {
      const g = new Uint8Array(24);
      const ok = await DeviceIoControl(h, IOCTL_DISK_GET_DRIVE_GEOMETRY, null, 0, g, 24);
      const small = await DeviceIoControl(h, IOCTL_DISK_GET_DRIVE_GEOMETRY, null, 0, new Uint8Array(8), 8);
      const smallError = GetLastError();
      const mismatch = await DeviceIoControl(h, IOCTL_STORAGE_QUERY_PROPERTY, new Uint8Array(4), 4, new Uint8Array(64), 64);
      const mismatchError = GetLastError();
      const verify = await DeviceIoControl(h, IOCTL_DISK_VERIFY, verifyInfo(2 ** 30, 512), 16, null, 0);
      const verifyError = GetLastError();
      return { ok, g, small: [small.ok, smallError], mismatch: [mismatch.ok, mismatchError], verify: [verify.ok, verifyError] };
    });
    expect(r.ok).toEqual({ ok: true, bytes: 24 });
    expect(u32(r.g, DISK_GEOMETRY.BytesPerSector)).toBe(512);
    expect(r.small).toEqual([false, ERROR_INSUFFICIENT_BUFFER]);
    expect(r.mismatch).toEqual([false, ERROR_BAD_LENGTH]);
    expect(r.verify).toEqual([false, ERROR_SECTOR_NOT_FOUND]);
  });
});

describe("a GPT disk", () => {
  it("reports PARTITION_STYLE_GPT and the disk GUID from the GPT header", async () => {
    const guid = Uint8Array.from([0x78, 0x56, 0x34, 0x12, 0xBC, 0x9A, 0xF0, 0xDE, 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF]);
    const dm = await bootDisk({}, [{ unit: 0, lba: 0, data: gptSectors(guid) }]);
    const r = await diskIoctl(dm, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, null, 104);
    expect(u32(r.output, 32 + DISK_PARTITION_INFO.PartitionStyle)).toBe(PARTITION_STYLE.PARTITION_STYLE_GPT);
    expect([...r.output.subarray(32 + DISK_PARTITION_INFO.GptDiskId, 32 + DISK_PARTITION_INFO.GptDiskId + 16)]).toEqual([...guid]);
    expect(diskFdo(dm.k).DiskData.Efi.DiskId).toBe("{12345678-9abc-def0-0123-456789abcdef}");
  });
});

describe("access alignment (StorageAccessAlignmentProperty)", () => {
  const query = propertyQuery(STORAGE_PROPERTY_ID.StorageAccessAlignmentProperty);
  const A = STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR;

  it("when the port does not know it, classpnp answers from READ CAPACITY (16) once and from its cache afterwards", async () => {
    const dm = await bootDisk({ units: [{ physicalExponent: 3, lowestAlignedLba: 1 }] });
    const u = dm.target.units[0];
    const r = await diskIoctl(dm, IOCTL_STORAGE_QUERY_PROPERTY, query, 64);
    expect(r).toMatchObject({ status: STATUS_SUCCESS, information: A.SIZE });
    expect([u32(r.output, A.Version), u32(r.output, A.Size), u32(r.output, A.BytesPerLogicalSector), u32(r.output, A.BytesPerPhysicalSector)]).toEqual([A.SIZE, A.SIZE, 512, 4096]);
    // The first aligned LBA is 1: a physical sector starts 7 logical sectors before LBA 0 would.
    expect(u32(r.output, A.BytesOffsetForSectorAlignment)).toBe((8 - 1) * 512);
    expect(u.commands(SCSIOP_READ_CAPACITY16).length).toBe(1);
    const again = await diskIoctl(dm, IOCTL_STORAGE_QUERY_PROPERTY, query, 64);
    expect(u32(again.output, A.BytesPerPhysicalSector)).toBe(4096);
    expect(u.commands(SCSIOP_READ_CAPACITY16).length).toBe(1);
    // A header-sized buffer gets the header; PropertyExistsQuery succeeds.
    expect(await diskIoctl(dm, IOCTL_STORAGE_QUERY_PROPERTY, query, 8)).toMatchObject({ status: STATUS_SUCCESS, information: 8 });
    expect(await diskIoctl(dm, IOCTL_STORAGE_QUERY_PROPERTY, query, 4)).toMatchObject({ status: STATUS_BUFFER_TOO_SMALL });
    const exists = propertyQuery(STORAGE_PROPERTY_ID.StorageAccessAlignmentProperty, STORAGE_QUERY_TYPE.PropertyExistsQuery);
    expect((await diskIoctl(dm, IOCTL_STORAGE_QUERY_PROPERTY, exists, 0)).status).toBe(STATUS_SUCCESS);
  });

  it("when the port answers it, the port's answer is returned and no READ CAPACITY (16) is sent", async () => {
    const dm = await bootDisk({ answerAccessAlignment: true, units: [{ physicalExponent: 3 }] });
    const r = await diskIoctl(dm, IOCTL_STORAGE_QUERY_PROPERTY, query, 64);
    expect(r.status).toBe(STATUS_SUCCESS);
    expect(u32(r.output, A.BytesPerPhysicalSector)).toBe(4096);
    expect(dm.target.units[0].commands(SCSIOP_READ_CAPACITY16)).toEqual([]);
  });
});

describe("capacities and media", () => {
  it("a disk too small for one 255 x 63 cylinder gets a 1 x 1 geometry with a cylinder per sector", async () => {
    const dm = await bootDisk({ units: [{ sectorCount: 8000 }] });
    const g = diskFdo(dm.k).DiskGeometry;
    expect([g.Cylinders, g.TracksPerCylinder, g.SectorsPerTrack]).toEqual([8000, 1, 1]);
  });

  it("4 KiB sectors: BytesPerSector 4096 and the length in bytes", async () => {
    const dm = await bootDisk({ units: [{ sectorSize: 4096, sectorCount: 4096 }] });
    const fdo = diskFdo(dm.k);
    expect([fdo.DiskGeometry.BytesPerSector, fdo.SectorShift, fdo.PartitionLength]).toEqual([4096, 12, 4096 * 4096]);
    const r = await diskIoctl(dm, IOCTL_DISK_GET_DRIVE_GEOMETRY, null, 24);
    expect(u32(r.output, DISK_GEOMETRY.BytesPerSector)).toBe(4096);
  });

  it("a disk of more than 2^32 blocks: READ CAPACITY (16) after READ CAPACITY (10) says 0xFFFFFFFF, and 16-byte READ/WRITE/VERIFY", async () => {
    const blocks = 2 ** 32 + 2048;
    const dm = await bootDisk({ units: [{ sectorCount: blocks }] });
    const u = dm.target.units[0];
    const fdo = diskFdo(dm.k);
    expect(fdo.PartitionLength).toBe(blocks * 512);
    expect(u.commands(SCSIOP_READ_CAPACITY16).length).toBeGreaterThan(0);
    const data = pattern(7, 4096);
    const end = blocks * 512 - 4096;
    const r = await withDisk(dm, async (h) => ({ w: await writeAt(h, end, data), rd: await readAt(h, end, 4096) }));
    expect(r.w.ok && r.rd.ok).toBe(true);
    expect(r.rd.data).toEqual(data);
    const rw = readWriteLog(u).filter((e) => e.lba > 0);
    expect(rw.map((e) => e.opcode)).toEqual([SCSIOP_WRITE16, SCSIOP_READ16]);
    expect(rw[0].lba).toBe(blocks - 8);
    const v = await diskIoctl(dm, IOCTL_DISK_VERIFY, verifyInfo(end, 4096), 0);
    expect(v.status).toBe(STATUS_SUCCESS);
    expect(u.commands(SCSIOP_VERIFY16).map((e) => [e.lba, e.blocks])).toEqual([[blocks - 8, 8]]);
    expect(u.commands(SCSIOP_WRITE)).toEqual([]);
  });

  it("a write-protected medium: IOCTL_DISK_IS_WRITABLE is STATUS_MEDIA_WRITE_PROTECTED (ERROR_WRITE_PROTECT); a write fails with the device's error", async () => {
    const dm = await bootDisk({ units: [{ writeProtected: true }] });
    expect((await diskIoctl(dm, IOCTL_DISK_IS_WRITABLE, null, 0)).status).toBe(STATUS_MEDIA_WRITE_PROTECTED);
    const r = await withDisk(dm, async (h) => {
      const w = await DeviceIoControl(h, IOCTL_DISK_IS_WRITABLE, null, 0, null, 0);
      const isWritable = [w.ok, GetLastError()];
      return { isWritable, write: await writeAt(h, 0, new Uint8Array(512)) };
    });
    expect(r.isWritable).toEqual([false, ERROR_WRITE_PROTECT]);
    // DATA PROTECT / WRITE PROTECTED keeps ClassInterpretSenseInfo's general status and is not retried.
    expect(r.write).toMatchObject({ ok: false, error: ERROR_IO_DEVICE });
    expect(dm.target.units[0].commands(SCSIOP_WRITE).length).toBe(1);
  });
});

describe("several disks", () => {
  it("numbers disks in the order they start and counts them in DiskCount", async () => {
    const dm = await bootDisk({ units: [{ serial: "A" }, { serial: "B" }, { serial: "C" }], srbType: SRB_TYPE_STORAGE_REQUEST_BLOCK });
    const fdos = dm.target.units.map((u) => [...IO(dm.k).devices].find((d) => d.DeviceExtension && (d.DeviceExtension as { LowerPdo?: unknown }).LowerPdo === u.Self));
    expect(fdos.every((d) => d !== undefined)).toBe(true);
    const names = fdos.map((d) => d!.name).sort();
    expect(names).toEqual(["\\Device\\Harddisk0\\DR0", "\\Device\\Harddisk1\\DR1", "\\Device\\Harddisk2\\DR2"]);
    expect(diskResources(dm).diskCount).toBe(3);
    expect(diskResources(dm).enabledInterfaces).toBe(3);
    const r = await diskIoctl(dm, IOCTL_STORAGE_GET_DEVICE_NUMBER, null, 12, 2);
    expect(u32(r.output, 4)).toBe(2);
    // Each \\.\PhysicalDriveN reaches its own unit.
    await withDisk(dm, async (h) => { await writeAt(h, 512, pattern(2, 512)); }, { disk: 2 });
    const written = dm.target.units.filter((u) => u.blocks.has(1));
    expect(written.length).toBe(1);
    expect(written[0].read(1, 1)).toEqual(pattern(2, 512));
    expect(diskFdo(dm.k, 2).LowerPdo).toBe(written[0].Self);
  });
});
