/**
 * IoGetConfigurationInformation: the I/O manager's count of the machine's devices by
 * kind (CONFIGURATION_INFORMATION). Drivers that create device objects of a kind bump its
 * count themselves, as disk.sys does with DiskCount in AddDevice and lowers it on
 * IRP_MN_REMOVE_DEVICE; each machine starts with every count at zero.
 */
import { KE, type Kernel } from "../ke/kernel.js";

/** CONFIGURATION_INFORMATION: device counts (only the fields drivers here keep up to date). */
export class CONFIGURATION_INFORMATION {
  /** Disks (disk.sys's count of FDOs it created), a count of devices. */
  DiskCount = 0;
  /** Floppy drives, a count of devices. */
  FloppyCount = 0;
  /** CD-ROM drives, a count of devices. */
  CdRomCount = 0;
  /** Tape drives, a count of devices. */
  TapeCount = 0;
  /** SCSI port drivers (adapters), a count of devices. */
  ScsiPortCount = 0;
  /** Serial ports, a count of devices. */
  SerialCount = 0;
  /** Parallel ports, a count of devices. */
  ParallelCount = 0;
}

const SERVICE = "io.configuration";

/** The executing machine's CONFIGURATION_INFORMATION (created on first use). */
function configurationOf(k: Kernel): CONFIGURATION_INFORMATION {
  let c = k.services.get(SERVICE) as CONFIGURATION_INFORMATION | undefined;
  if (!c) {
    c = new CONFIGURATION_INFORMATION();
    k.services.set(SERVICE, c);
  }
  return c;
}

/**
 * IoGetConfigurationInformation: the machine's CONFIGURATION_INFORMATION, which the caller
 * may update (the counts are the drivers' to keep). PASSIVE_LEVEL.
 */
export function IoGetConfigurationInformation(): CONFIGURATION_INFORMATION {
  return configurationOf(KE());
}
