/**
 * A RAM disk for storage workload tests: a root-enumerated WDM function driver (service
 * "ramdisk") whose FDO is \Device\Harddisk0\DR0 with the link \DosDevices\PhysicalDrive0
 * (what a program opens as \\.\PhysicalDrive0), DO_DIRECT_IO, a configurable sector size
 * and capacity. IRP_MJ_READ / IRP_MJ_WRITE move data through Irp.MdlAddress
 * (MmGetSystemAddressForMdlSafe); an offset or length that is not a multiple of the
 * sector size, or a transfer past the end, fails with STATUS_INVALID_PARAMETER. Each
 * request is held and completed after the configured latency by a kernel timer whose DPC
 * moves the data and calls IoCompleteRequest, so requests overlap and queue depth
 * matters. IOCTL_DISK_GET_LENGTH_INFO, IOCTL_DISK_GET_DRIVE_GEOMETRY and
 * IOCTL_DISK_GET_DRIVE_GEOMETRY_EX answer the size.
 *
 * For tests it counts what it sees: requests in flight (and the most ever), the depth each
 * request found on arrival, a log of requests with their arrival and completion times,
 * and it can corrupt a byte of its contents on request.
 */
import {
  DO_DEVICE_INITIALIZING, DO_DIRECT_IO, DO_POWER_PAGABLE, FILE_DEVICE_DISK, IoAttachDeviceToDeviceStack, IoCreateDevice,
  IoCreateSymbolicLink, IoDeleteDevice, IoDeleteSymbolicLink, IoDetachDevice, type DEVICE_OBJECT, type DRIVER_OBJECT,
} from "../../src/io/objects.js";
import {
  IoCallDriver, IoCompleteRequest, IoGetCurrentIrpStackLocation, IoMarkIrpPending, IoSkipCurrentIrpStackLocation, IO_NO_INCREMENT,
  IRP_MJ_CLEANUP, IRP_MJ_CLOSE, IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL, IRP_MJ_PNP, IRP_MJ_POWER, IRP_MJ_READ, IRP_MJ_WRITE, type IRP,
} from "../../src/io/irp.js";
import { IoForwardIrpSynchronously } from "../../src/io/forward.js";
import { KDPC, KeInitializeDpc } from "../../src/ke/dpc.js";
import { KTIMER, KeInitializeTimer, KeSetTimer } from "../../src/ke/timer.js";
import { KE } from "../../src/ke/kernel.js";
import {
  STATUS_BUFFER_TOO_SMALL, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER, STATUS_PENDING,
  STATUS_SUCCESS, NT_SUCCESS, type NTSTATUS,
} from "../../src/ke/ntstatus.js";
import { MmGetSystemAddressForMdlSafe, MM_PAGE_PRIORITY, type MDL } from "../../src/mm/mdl.js";
import { readBytes, writeBytes, writeU32, writeU64 } from "../../src/mm/memory.js";
import { PoCallDriver, PoStartNextPowerIrp } from "../../src/po/routines.js";
import { IRP_MN_REMOVE_DEVICE, IRP_MN_START_DEVICE } from "../../src/pnp/minor.js";
import type { DriverPackage } from "../../src/pnp/packages.js";
import type { RootChild } from "../../src/pnp/manager.js";
import type { BootOptions } from "../../src/pnp/boot.js";
import {
  DISK_GEOMETRY, DISK_GEOMETRY_EX, GET_LENGTH_INFORMATION_SIZE, IOCTL_DISK_GET_DRIVE_GEOMETRY, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX,
  IOCTL_DISK_GET_LENGTH_INFO, MEDIA_TYPE,
} from "../../src/drivers/storage/ntdddisk.js";

/** The device name, its DOS link and what a program opens. */
export const RAMDISK_DEVICE_NAME = "\\Device\\Harddisk0\\DR0";
export const RAMDISK_LINK_NAME = "\\DosDevices\\PhysicalDrive0";
export const RAMDISK_USER_NAME = "\\\\.\\PhysicalDrive0";
/** The hardware ID the package binds to. */
export const RAMDISK_HARDWARE_ID = "ROOT\\WDMSIM_RAMDISK";

/** How the disk is built. */
export interface RamDiskOptions {
  /** Capacity, bytes (a multiple of sectorSize). Default 4 MiB. */
  sizeBytes?: number;
  /** Bytes per sector: 512 or 4096. Default 512. */
  sectorSize?: number;
  /** Time from arrival to completion of every read and write, µs. Default 20. */
  latencyUs?: number;
  /** Keep a log of every read and write (RamDisk.log). Default false. */
  keepLog?: boolean;
  /**
   * Extra latency that depends on where the request goes, µs: a hash of its offset picks
   * 0..jitterUs (as media whose access time varies by place). Default 0.
   */
  jitterUs?: number;
}

/** One request as the disk saw it. */
export interface RamDiskRequest {
  write: boolean;
  /** Byte offset and length. */
  offset: number;
  length: number;
  /** Requests in flight when it arrived, itself included. */
  depth: number;
  /** Arrival (dispatch routine) and completion (IoCompleteRequest), ps of simulated time. */
  arrivalPs: number;
  completionPs: number;
  /** Final status. */
  status: NTSTATUS;
}

/** A request held until its timer fires. */
class Held {
  readonly timer = new KTIMER();
  readonly dpc = new KDPC();
  irp: IRP | null = null;
  write = false;
  offset = 0;
  length = 0;
  systemAddress = 0;
  entry: RamDiskRequest | null = null;
}

/** The disk's contents and counters, for tests to read and steer. */
export class RamDisk {
  readonly sizeBytes: number;
  readonly sectorSize: number;
  latencyUs: number;
  jitterUs: number;
  readonly keepLog: boolean;
  /** Byte offsets to corrupt right after a write stores them (silent corruption on the media). */
  readonly corruptOnWrite = new Set<number>();
  /** The contents. */
  readonly data: Uint8Array;
  device: DEVICE_OBJECT | null = null;
  lower: DEVICE_OBJECT | null = null;
  /** Reads and writes held now, and the most ever held at once. */
  inFlight = 0;
  maxInFlight = 0;
  /** depthHistogram[n]: requests that found n requests in flight on arrival (themselves included). */
  readonly depthHistogram: number[] = [];
  reads = 0;
  writes = 0;
  bytesRead = 0;
  bytesWritten = 0;
  /** Requests failed with STATUS_INVALID_PARAMETER. */
  rejected = 0;
  /** Every request when keepLog is on, in arrival order. */
  readonly log: RamDiskRequest[] = [];
  readonly free: Held[] = [];

  constructor(options: RamDiskOptions = {}) {
    this.sectorSize = options.sectorSize ?? 512;
    if (this.sectorSize !== 512 && this.sectorSize !== 4096) throw new RangeError(`ramdisk: sector size ${this.sectorSize} is not 512 or 4096`);
    this.sizeBytes = options.sizeBytes ?? 4 * 2 ** 20;
    if (this.sizeBytes <= 0 || this.sizeBytes % this.sectorSize !== 0) throw new RangeError(`ramdisk: ${this.sizeBytes} bytes is not a whole number of sectors`);
    this.latencyUs = options.latencyUs ?? 20;
    this.jitterUs = options.jitterUs ?? 0;
    this.keepLog = options.keepLog ?? false;
    this.data = new Uint8Array(this.sizeBytes);
  }

  /** Flips every bit of the byte at `offset` (silent data corruption, for verify tests). */
  corrupt(offset: number): void {
    this.data[offset] ^= 0xFF;
  }

  /** The latency of a request at `offset`, µs. */
  latencyAt(offset: number): number {
    if (this.jitterUs <= 0) return this.latencyUs;
    let x = Math.floor(offset / this.sectorSize) >>> 0;
    x = Math.imul(x ^ (x >>> 16), 0x7FEB352D) >>> 0;
    x = Math.imul(x ^ (x >>> 15), 0x846CA68B) >>> 0;
    x = (x ^ (x >>> 16)) >>> 0;
    return this.latencyUs + (x % (this.jitterUs * 10 + 1)) / 10;
  }
}

function complete(irp: IRP, status: NTSTATUS, information: number): NTSTATUS {
  irp.IoStatus.Status = status;
  irp.IoStatus.Information = information;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
  return status;
}

/** The driver module for one disk. */
function ramDiskDriver(disk: RamDisk) {
  function RamDiskTimerDpc(_dpc: KDPC, context: unknown): void {
    const h = context as Held;
    const irp = h.irp!;
    if (h.write) {
      disk.data.set(readBytes(h.systemAddress, h.length), h.offset);
      for (const at of disk.corruptOnWrite) {
        if (at >= h.offset && at < h.offset + h.length) {
          disk.corrupt(at);
          disk.corruptOnWrite.delete(at);
        }
      }
    }
    else writeBytes(h.systemAddress, disk.data.subarray(h.offset, h.offset + h.length));
    disk.inFlight--;
    if (h.entry) {
      h.entry.completionPs = KE().cpu.time;
      h.entry.status = STATUS_SUCCESS;
    }
    h.irp = null;
    h.entry = null;
    disk.free.push(h);
    complete(irp, STATUS_SUCCESS, h.length);
  }

  function RamDiskReadWrite(_device: DEVICE_OBJECT, irp: IRP): NTSTATUS {
    const s = IoGetCurrentIrpStackLocation(irp);
    const write = s.MajorFunction === IRP_MJ_WRITE;
    const { Length, ByteOffset } = write ? s.Parameters.Write : s.Parameters.Read;
    if (Length % disk.sectorSize !== 0 || ByteOffset % disk.sectorSize !== 0 || ByteOffset < 0 || ByteOffset + Length > disk.sizeBytes) {
      disk.rejected++;
      return complete(irp, STATUS_INVALID_PARAMETER, 0);
    }
    if (Length === 0) return complete(irp, STATUS_SUCCESS, 0);
    const systemAddress = MmGetSystemAddressForMdlSafe(irp.MdlAddress as MDL, MM_PAGE_PRIORITY.NormalPagePriority);
    if (systemAddress === 0) return complete(irp, STATUS_INSUFFICIENT_RESOURCES, 0);
    let h = disk.free.pop();
    if (!h) {
      h = new Held();
      KeInitializeTimer(h.timer);
      KeInitializeDpc(h.dpc, RamDiskTimerDpc, h);
    }
    h.irp = irp;
    h.write = write;
    h.offset = ByteOffset;
    h.length = Length;
    h.systemAddress = systemAddress;
    disk.inFlight++;
    if (disk.inFlight > disk.maxInFlight) disk.maxInFlight = disk.inFlight;
    disk.depthHistogram[disk.inFlight] = (disk.depthHistogram[disk.inFlight] ?? 0) + 1;
    if (write) {
      disk.writes++;
      disk.bytesWritten += Length;
    } else {
      disk.reads++;
      disk.bytesRead += Length;
    }
    if (disk.keepLog) {
      h.entry = { write, offset: ByteOffset, length: Length, depth: disk.inFlight, arrivalPs: KE().cpu.time, completionPs: NaN, status: STATUS_PENDING };
      disk.log.push(h.entry);
    }
    IoMarkIrpPending(irp);
    // Relative due time in 100 ns units (at least one).
    KeSetTimer(h.timer, -Math.max(1, Math.round(disk.latencyAt(ByteOffset) * 10)), h.dpc);
    return STATUS_PENDING;
  }

  function RamDiskDeviceControl(_device: DEVICE_OBJECT, irp: IRP): NTSTATUS {
    const s = IoGetCurrentIrpStackLocation(irp);
    const out = s.Parameters.DeviceIoControl.OutputBufferLength;
    const buffer = irp.AssociatedIrp.SystemBuffer;
    const geometry = (at: number) => {
      const bytesPerCylinder = 255 * 63 * disk.sectorSize;
      writeU64(at + DISK_GEOMETRY.Cylinders, Math.floor(disk.sizeBytes / bytesPerCylinder));
      writeU32(at + DISK_GEOMETRY.MediaType, MEDIA_TYPE.FixedMedia);
      writeU32(at + DISK_GEOMETRY.TracksPerCylinder, 255);
      writeU32(at + DISK_GEOMETRY.SectorsPerTrack, 63);
      writeU32(at + DISK_GEOMETRY.BytesPerSector, disk.sectorSize);
    };
    switch (s.Parameters.DeviceIoControl.IoControlCode) {
      case IOCTL_DISK_GET_LENGTH_INFO:
        if (out < GET_LENGTH_INFORMATION_SIZE) return complete(irp, STATUS_BUFFER_TOO_SMALL, 0);
        writeU64(buffer, disk.sizeBytes);
        return complete(irp, STATUS_SUCCESS, GET_LENGTH_INFORMATION_SIZE);
      case IOCTL_DISK_GET_DRIVE_GEOMETRY:
        if (out < DISK_GEOMETRY.SIZE) return complete(irp, STATUS_BUFFER_TOO_SMALL, 0);
        geometry(buffer);
        return complete(irp, STATUS_SUCCESS, DISK_GEOMETRY.SIZE);
      case IOCTL_DISK_GET_DRIVE_GEOMETRY_EX:
        if (out < DISK_GEOMETRY_EX.Data) return complete(irp, STATUS_BUFFER_TOO_SMALL, 0);
        geometry(buffer + DISK_GEOMETRY_EX.Geometry);
        writeU64(buffer + DISK_GEOMETRY_EX.DiskSize, disk.sizeBytes);
        return complete(irp, STATUS_SUCCESS, DISK_GEOMETRY_EX.Data);
      default:
        return complete(irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
  }

  function RamDiskCreateClose(_device: DEVICE_OBJECT, irp: IRP): NTSTATUS {
    return complete(irp, STATUS_SUCCESS, 0);
  }

  async function RamDiskPnp(device: DEVICE_OBJECT, irp: IRP): Promise<NTSTATUS> {
    const s = IoGetCurrentIrpStackLocation(irp);
    if (s.MinorFunction === IRP_MN_START_DEVICE) {
      await IoForwardIrpSynchronously(disk.lower!, irp);
      return complete(irp, NT_SUCCESS(irp.IoStatus.Status) ? STATUS_SUCCESS : irp.IoStatus.Status, 0);
    }
    if (s.MinorFunction === IRP_MN_REMOVE_DEVICE) {
      irp.IoStatus.Status = STATUS_SUCCESS;
      IoSkipCurrentIrpStackLocation(irp);
      const status = await IoCallDriver(disk.lower!, irp);
      IoDeleteSymbolicLink(RAMDISK_LINK_NAME);
      IoDetachDevice(disk.lower!);
      IoDeleteDevice(device);
      disk.device = null;
      return status;
    }
    IoSkipCurrentIrpStackLocation(irp);
    return IoCallDriver(disk.lower!, irp);
  }

  function RamDiskPower(_device: DEVICE_OBJECT, irp: IRP): NTSTATUS | Promise<NTSTATUS> {
    PoStartNextPowerIrp(irp);
    IoSkipCurrentIrpStackLocation(irp);
    return PoCallDriver(disk.lower!, irp);
  }

  function RamDiskAddDevice(DriverObject: DRIVER_OBJECT, PhysicalDeviceObject: DEVICE_OBJECT): NTSTATUS {
    const { status, DeviceObject } = IoCreateDevice(DriverObject, disk, RAMDISK_DEVICE_NAME, FILE_DEVICE_DISK, 0, false);
    if (!NT_SUCCESS(status) || !DeviceObject) return status;
    const linked = IoCreateSymbolicLink(RAMDISK_LINK_NAME, RAMDISK_DEVICE_NAME);
    if (!NT_SUCCESS(linked)) {
      IoDeleteDevice(DeviceObject);
      return linked;
    }
    disk.device = DeviceObject;
    disk.lower = IoAttachDeviceToDeviceStack(DeviceObject, PhysicalDeviceObject);
    DeviceObject.Flags |= DO_DIRECT_IO | DO_POWER_PAGABLE;
    DeviceObject.Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
  }

  return {
    DriverEntry(DriverObject: DRIVER_OBJECT): NTSTATUS {
      DriverObject.DriverExtension.AddDevice = RamDiskAddDevice;
      DriverObject.MajorFunction[IRP_MJ_CREATE] = RamDiskCreateClose;
      DriverObject.MajorFunction[IRP_MJ_CLOSE] = RamDiskCreateClose;
      DriverObject.MajorFunction[IRP_MJ_CLEANUP] = RamDiskCreateClose;
      DriverObject.MajorFunction[IRP_MJ_READ] = RamDiskReadWrite;
      DriverObject.MajorFunction[IRP_MJ_WRITE] = RamDiskReadWrite;
      DriverObject.MajorFunction[IRP_MJ_DEVICE_CONTROL] = RamDiskDeviceControl;
      DriverObject.MajorFunction[IRP_MJ_PNP] = RamDiskPnp;
      DriverObject.MajorFunction[IRP_MJ_POWER] = RamDiskPower;
      return STATUS_SUCCESS;
    },
  };
}

/** A disk and the boot options that install it (its package and its root-enumerated device). */
export function ramDisk(options: RamDiskOptions = {}): { disk: RamDisk; boot: BootOptions } {
  const disk = new RamDisk(options);
  const pkg: DriverPackage = {
    service: "ramdisk", description: "RAM disk (\\\\.\\PhysicalDrive0)", role: "function", ids: [RAMDISK_HARDWARE_ID], module: ramDiskDriver(disk),
  };
  const device: RootChild = { deviceId: "ROOT\\DISKDRIVE", hardwareIds: [RAMDISK_HARDWARE_ID], compatibleIds: [], instanceId: "0000" };
  return { disk, boot: { packages: [pkg], rootDevices: [device] } };
}
