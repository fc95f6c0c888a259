/**
 * The disk's names (disk.sys's DiskCreateFdo, DiskGenerateDeviceName,
 * DiskCreateSymbolicLinks, DiskDeleteSymbolicLinks):
 *
 * - The disk number N is the first one whose \Device\HarddiskN directory is free (a
 *   directory holds the disk's names until IRP_MN_REMOVE_DEVICE), so numbers are reused.
 * - The FDO is \Device\HarddiskN\DRm, m a sequence the driver counts up from 0 for every
 *   FDO it creates while it stays loaded.
 * - \Device\HarddiskN\Partition0 (the whole disk) and \DosDevices\PhysicalDriveN
 *   (\\.\PhysicalDriveN) are links to it, made once the disk has started and taken away
 *   when it is surprise-removed or removed.
 */
import { IO } from "../../io/manager.js";
import type { DRIVER_OBJECT } from "../../io/objects.js";
import { IoCreateSymbolicLink, IoDeleteSymbolicLink } from "../../io/objects.js";
import { IoAllocateDriverObjectExtension, IoGetDriverObjectExtension } from "../../io/driver-extension.js";
import { NT_SUCCESS } from "../../ke/ntstatus.js";
import type { FUNCTIONAL_DEVICE_EXTENSION } from "./extension.js";

/** The disk driver's own per-driver data (its driver object extension). */
export class DISK_DRIVER_EXTENSION {
  /** diskDeviceSequenceNumber: the m of the next \Device\HarddiskN\DRm. */
  DeviceSequenceNumber = 0;
}

/** The key the driver object extension is allocated under (the address of DriverEntry in C). */
export const DISK_DRIVER_EXTENSION_KEY = "disk.sys";

/** The driver's extension, allocated on first use. */
export function diskDriverExtension(DriverObject: DRIVER_OBJECT): DISK_DRIVER_EXTENSION {
  const existing = IoGetDriverObjectExtension<DISK_DRIVER_EXTENSION>(DriverObject, DISK_DRIVER_EXTENSION_KEY);
  if (existing) return existing;
  return IoAllocateDriverObjectExtension(DriverObject, DISK_DRIVER_EXTENSION_KEY, new DISK_DRIVER_EXTENSION()).DriverObjectExtension!;
}

/** True while \Device\HarddiskN holds anything (a device or a link). */
export function harddiskDirectoryInUse(N: number): boolean {
  const io = IO();
  const prefix = `\\device\\harddisk${N}\\`;
  for (const name of io.namespace.keys()) if (name.startsWith(prefix)) return true;
  for (const link of io.symbolicLinks.keys()) if (link.startsWith(prefix)) return true;
  return false;
}

/** The first free disk number (DiskCreateFdo's \Device\HarddiskN directory loop). */
export function DiskAllocateDeviceNumber(): number {
  let n = 0;
  while (harddiskDirectoryInUse(n)) n++;
  return n;
}

/** DiskGenerateDeviceName: \Device\HarddiskN\DRm with the driver's next sequence number m. */
export function DiskGenerateDeviceName(DriverObject: DRIVER_OBJECT, DeviceNumber: number): string {
  const ext = diskDriverExtension(DriverObject);
  return `\\Device\\Harddisk${DeviceNumber}\\DR${ext.DeviceSequenceNumber++}`;
}

/** DiskCreateSymbolicLinks: \Device\HarddiskN\Partition0 and \DosDevices\PhysicalDriveN to the FDO (each once). */
export function DiskCreateSymbolicLinks(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION): void {
  const links = fdoExtension.DiskData.LinkStatus;
  const n = fdoExtension.DeviceNumber;
  if (!links.WellKnownNameCreated && NT_SUCCESS(IoCreateSymbolicLink(`\\Device\\Harddisk${n}\\Partition0`, fdoExtension.DeviceName))) {
    links.WellKnownNameCreated = true;
  }
  if (!links.PhysicalDriveLinkCreated && NT_SUCCESS(IoCreateSymbolicLink(`\\DosDevices\\PhysicalDrive${n}`, fdoExtension.DeviceName))) {
    links.PhysicalDriveLinkCreated = true;
  }
}

/** DiskDeleteSymbolicLinks: removes the links DiskCreateSymbolicLinks made. */
export function DiskDeleteSymbolicLinks(fdoExtension: FUNCTIONAL_DEVICE_EXTENSION): void {
  const links = fdoExtension.DiskData.LinkStatus;
  const n = fdoExtension.DeviceNumber;
  if (links.WellKnownNameCreated) {
    IoDeleteSymbolicLink(`\\Device\\Harddisk${n}\\Partition0`);
    links.WellKnownNameCreated = false;
  }
  if (links.PhysicalDriveLinkCreated) {
    IoDeleteSymbolicLink(`\\DosDevices\\PhysicalDrive${n}`);
    links.PhysicalDriveLinkCreated = false;
  }
}
