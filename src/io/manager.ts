/**
 * The I/O manager of one machine: loaded drivers, device objects, the object namespace
 * and symbolic links. Registered with the kernel as the "io" service.
 */
import { KE, type Kernel } from "../ke/kernel.js";
import { STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import { KSPIN_LOCK } from "../ke/spinlock.js";
import { DRIVER_VERIFIER_DETECTED_VIOLATION } from "../ke/bugcheck.js";
import { MM } from "../mm/manager.js";
import { DO_DEVICE_INITIALIZING, DRIVER_OBJECT, freeDeviceObject, type DEVICE_OBJECT } from "./objects.js";
import type { IRP } from "./irp.js";
import { DRVO_UNLOAD_INVOKED } from "./driver-flags.js";

/** Verifier 0xC4: a driver unloaded without freeing its pool allocations (P2 its name, P4 how many). */
export const VERIFIER_POOL_LEAKED_AT_UNLOAD = 0x62;
/** Offset of DriverName in an x64 DRIVER_OBJECT (what 0xC4 0x62's "name of the driver" points at). */
const DRIVER_OBJECT_NAME_OFFSET = 0x38;

/** A driver module: what DriverEntry receives and returns. */
export interface DriverModule {
  DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS | Promise<NTSTATUS>;
}

/** I/O manager state. */
export class IoManager {
  readonly drivers = new Map<string, DRIVER_OBJECT>();
  readonly devices: DEVICE_OBJECT[] = [];
  /** Lower-case object name to device. */
  readonly namespace = new Map<string, DEVICE_OBJECT>();
  /** Lower-case link ("\\dosdevices\\edu0") to lower-case device name. */
  readonly symbolicLinks = new Map<string, string>();
  nextAutoName = 1;
  /** IRPs allocated and not yet freed (for !irpfind and leak checks). */
  readonly irps = new Set<IRP>();
  /** The system-wide cancel spin lock (IoAcquireCancelSpinLock). */
  readonly cancelSpinLock = new KSPIN_LOCK();

  constructor(readonly k: Kernel) {
    this.cancelSpinLock.address = k.objectAddress(8);
  }

  /**
   * Loads a driver: creates its DRIVER_OBJECT and calls DriverEntry. When DriverEntry
   * succeeds, the device objects it created are ready: their DO_DEVICE_INITIALIZING is
   * cleared, as the I/O manager does for devices created in DriverEntry.
   */
  async loadDriver(service: string, module: DriverModule): Promise<{ status: NTSTATUS; driver: DRIVER_OBJECT }> {
    const existing = this.drivers.get(service);
    if (existing) return { status: STATUS_SUCCESS, driver: existing };
    const driver = new DRIVER_OBJECT(service, this.k.objectAddress(0x150));
    const status = await this.k.invoke(service, "DriverEntry", () => module.DriverEntry(driver, `\\Registry\\Machine\\System\\CurrentControlSet\\Services\\${service}`));
    if (status >>> 0 < 0x80000000) {
      for (let d = driver.DeviceObject; d; d = d.NextDevice) d.Flags &= ~DO_DEVICE_INITIALIZING;
      this.drivers.set(service, driver);
      this.unloadedServices.delete(service);
    }
    return { status, driver };
  }

  /** Called when a device's last open file object goes (the PnP manager finishes removals then). */
  onDeviceUnreferenced: ((device: DEVICE_OBJECT) => void) | null = null;

  /** An open file object on `device` (CreateFile succeeded). */
  referenceDevice(device: DEVICE_OBJECT): void {
    device.ReferenceCount++;
  }

  /** A file object on `device` was closed (IRP_MJ_CLOSE done). */
  dereferenceDevice(device: DEVICE_OBJECT): void {
    if (device.ReferenceCount === 0 || --device.ReferenceCount > 0) return;
    if (device.deleted) {
      freeDeviceObject(device);
      this.zombies.delete(device);
      this.finishUnloadIfUnused(device.DriverObject);
    }
    this.onDeviceUnreferenced?.(device);
  }

  /** Services whose driver was unloaded and not loaded again (their code is gone). */
  readonly unloadedServices = new Set<string>();
  /** Drivers whose DriverUnload ran and whose object waits for its devices' last references, by service. */
  readonly unloading = new Map<string, DRIVER_OBJECT>();
  /** Device objects deleted while a file object still held them open (freed at the last close). */
  readonly zombies = new Set<DEVICE_OBJECT>();
  /** Installed driver images by canonical image path ("\\SYSTEMROOT\\SYSTEM32\\DRIVERS\\X.SYS"), for ZwLoadDriver. */
  readonly images = new Map<string, DriverModule>();

  /**
   * Unloads a driver that has no device objects left: its DriverUnload runs and the
   * DRIVER_OBJECT goes; a later device loads it afresh (DriverEntry again).
   */
  async unloadDriver(driver: DRIVER_OBJECT): Promise<void> {
    if (this.drivers.get(driver.serviceName) !== driver) return;
    await this.beginUnload(driver);
  }

  /**
   * Calls the driver's DriverUnload and takes it out of the loaded drivers; the driver
   * object goes now, or when the last device object it deleted is closed.
   */
  async beginUnload(driver: DRIVER_OBJECT): Promise<void> {
    const unload = driver.DriverUnload;
    driver.Flags |= DRVO_UNLOAD_INVOKED;
    this.drivers.delete(driver.serviceName);
    this.unloading.set(driver.serviceName, driver);
    if (unload) await this.k.invoke(driver.serviceName, unload.name || "DriverUnload", () => unload(driver));
    this.finishUnloadIfUnused(driver);
  }

  /** Ends an unload once the driver has no device objects and none it deleted is still open. */
  private finishUnloadIfUnused(driver: DRIVER_OBJECT): void {
    if (this.unloading.get(driver.serviceName) !== driver || driver.DeviceObject) return;
    for (const z of this.zombies) if (z.DriverObject === driver) return;
    this.unloading.delete(driver.serviceName);
    // Pool tracking: everything the driver allocated must be freed by now.
    const leaked = MM(this.k).pool.outstanding().filter((b) => b.owner === driver.serviceName).length;
    if (this.k.verifier && leaked > 0) {
      const routine = driver.DriverUnload?.name || "DriverUnload";
      this.k.invoke(driver.serviceName, routine, () => this.k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_POOL_LEAKED_AT_UNLOAD, driver.address + DRIVER_OBJECT_NAME_OFFSET, 0, leaked));
    }
    this.unloadedServices.add(driver.serviceName);
    this.k.recorder.note(this.k.cpu.time, `unloaded ${driver.DriverName}`, "", "", this.k.cpu.Number);
    this.onDriverUnloaded?.(driver.serviceName);
  }

  /** Called when a driver object has gone (the Service Control Manager deletes a service marked for deletion then). */
  onDriverUnloaded: ((service: string) => void) | null = null;

  /** The device a name or symbolic link refers to. */
  resolve(name: string): DEVICE_OBJECT | undefined {
    return this.parse(name)?.device;
  }

  /**
   * Parses a name as the object manager does: "\\\\.\\X", "\\\\?\\X" and "\\??\\X" are X in the
   * DOS devices directory; symbolic links are followed (a link may name the start of a
   * path); the first device met from the root is found. Returns
   * it with the rest of the name, as the device sees it in FileObject.FileName ("" for the
   * device itself, "\\RefString" below it), or undefined. Names compare case-insensitively.
   */
  parse(name: string): { device: DEVICE_OBJECT; remaining: string } | undefined {
    let n = name.replace(/^\\\\[.?]\\/, "\\DosDevices\\").replace(/^\\\?\?\\/, "\\DosDevices\\");
    // Component by component from the root: the first device or symbolic link decides.
    next: for (let links = 0; links < 32; links++) {
      const parts = n.toLowerCase().split("\\");
      for (let i = 2; i <= parts.length; i++) {
        const prefix = parts.slice(0, i).join("\\");
        const device = this.namespace.get(prefix);
        if (device) return { device, remaining: n.slice(prefix.length) };
        const link = this.symbolicLinks.get(prefix);
        if (link !== undefined) {
          n = link + n.slice(prefix.length);
          continue next;
        }
      }
      return undefined;
    }
    return undefined;
  }
}

/** The executing machine's I/O manager. */
export function IO(k: Kernel = KE()): IoManager {
  if (k === lastIOKernel) return lastIO!;
  const io = k.services.get("io");
  if (!io) throw new Error("the I/O manager is not initialised");
  lastIOKernel = k;
  lastIO = io as IoManager;
  return lastIO;
}

// The last kernel asked about and its I/O manager (machines rarely change between calls).
let lastIOKernel: Kernel | undefined;
let lastIO: IoManager | undefined;
