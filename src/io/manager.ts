/**
 * The I/O manager of one machine: loaded drivers, device objects, IRPs in flight. Names
 * (devices in \Device, drivers in \Driver, symbolic links) live in the object manager's
 * namespace (src/ob); `namespace` and `symbolicLinks` are read-only views of it.
 * Registered with the kernel as the "io" service.
 */
import { checkTimersAndDpcsAtUnload } from "./timer-dpc-check.js";
import { KE, type Kernel } from "../ke/kernel.js";
import { STATUS_INSUFFICIENT_RESOURCES, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import { KSPIN_LOCK } from "../ke/spinlock.js";
import { DRIVER_VERIFIER_DETECTED_VIOLATION } from "../ke/bugcheck.js";
import { MM } from "../mm/manager.js";
import { DO_DEVICE_INITIALIZING, DRIVER_OBJECT, freeDeviceObject, type DEVICE_OBJECT } from "./objects.js";
import type { IRP } from "./irp.js";
import { LiveIrps } from "./live-irps.js";
import { workers, WORK_QUEUE_TYPE } from "../ke/worker.js";
import { DRVO_UNLOAD_INVOKED } from "./driver-flags.js";
import type { OBJECT_DIRECTORY } from "../ob/directory.js";
import { OB_FLAG_PERMANENT_OBJECT, type OBJECT_HEADER } from "../ob/header.js";
import { removeName } from "../ob/handles.js";
import { insertName } from "../ob/insert.js";
import { OB } from "../ob/manager.js";
import { lookupObjectName } from "../ob/namespace.js";
import { IoDeviceObjectType, IoDriverObjectType, ObpDirectoryObjectType, ObpSymbolicLinkObjectType } from "../ob/object-type.js";
import { dereference } from "../ob/reference.js";
import type { OBJECT_SYMBOLIC_LINK } from "../ob/symbolic-link-object.js";
import { IMAGE_INFO } from "../ps/notify-types.js";
import { notifyImageLoad } from "../ps/notify.js";
import { RtlFreeUnicodeString, unicodeStringFromText, type UNICODE_STRING } from "../rtl/unicode-string.js";

/** The NT name kernel32 makes of a Win32 device name ("\\\\.\\X" and "\\\\?\\X" become "\\??\\X"; NT names stay). */
export function ntNameOf(lpFileName: string): string {
  return /^\\\\[.?]\\/.test(lpFileName) ? `\\??\\${lpFileName.slice(4)}` : lpFileName;
}

/** Verifier 0xC4: a driver unloaded without freeing its pool allocations (P2 its name, P4 how many). */
export const VERIFIER_POOL_LEAKED_AT_UNLOAD = 0x62;
/** Offset of DriverName in an x64 DRIVER_OBJECT (what 0xC4 0x62's "name of the driver" points at). */
const DRIVER_OBJECT_NAME_OFFSET = 0x38;

/**
 * A driver module: what DriverEntry receives and returns. RegistryPath is the service key's
 * name (\Registry\Machine\System\CurrentControlSet\Services\<service>) as a
 * UNICODE_STRING in pool, valid only while DriverEntry runs.
 */
export interface DriverModule {
  DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: UNICODE_STRING): NTSTATUS | Promise<NTSTATUS>;
}

/** I/O manager state. */
export class IoManager {
  readonly drivers = new Map<string, DRIVER_OBJECT>();
  readonly devices: DEVICE_OBJECT[] = [];
  nextAutoName = 1;
  /** IRPs allocated and not yet freed (for !irpfind and leak checks). */
  readonly irps = new LiveIrps<IRP>();
  /** The system-wide cancel spin lock (IoAcquireCancelSpinLock). */
  readonly cancelSpinLock = new KSPIN_LOCK();

  constructor(readonly k: Kernel) {
    this.cancelSpinLock.address = k.objectAddress(8);
  }

  /** Devices with names, by lower-case full name (a view of the namespace, made on each read). */
  get namespace(): Map<string, DEVICE_OBJECT> {
    const out = new Map<string, DEVICE_OBJECT>();
    walkNamespace(OB(this.k).root, (h) => {
      if (h.Type === IoDeviceObjectType) out.set(h.fullName.toLowerCase(), h.Body as DEVICE_OBJECT);
    });
    return out;
  }

  /**
   * Symbolic links, by lower-case full name with \GLOBAL??\ written \dosdevices\ (as drivers
   * name them), to their lower-case targets (a view of the namespace, made on each read).
   */
  get symbolicLinks(): Map<string, string> {
    const out = new Map<string, string>();
    walkNamespace(OB(this.k).root, (h) => {
      if (h.Type !== ObpSymbolicLinkObjectType || !h.Directory || h.Directory === OB(this.k).root.header.Body) return;
      if (h.Directory.header.Name === "BaseNamedObjects" || h.fullName.toLowerCase() === "\\global??\\global") return;
      out.set(h.fullName.toLowerCase().replace(/^\\global\?\?\\/, "\\dosdevices\\"), (h.Body as OBJECT_SYMBOLIC_LINK).LinkTarget.toLowerCase());
    });
    return out;
  }

  /**
   * Loads a driver: creates its DRIVER_OBJECT (named \Driver\<service>), tells the
   * image-load callbacks, and calls DriverEntry; a driver whose DriverEntry fails goes again.
   * When it succeeds, the device objects DriverEntry created are ready (DO_DEVICE_INITIALIZING
   * cleared), as the I/O manager does.
   */
  async loadDriver(service: string, module: DriverModule): Promise<{ status: NTSTATUS; driver: DRIVER_OBJECT }> {
    const existing = this.drivers.get(service);
    if (existing) return { status: STATUS_SUCCESS, driver: existing };
    const k = this.k;
    const driver = new DRIVER_OBJECT(service, k.objectAddress(0x150));
    const ob = OB(k);
    const header = ob.create(IoDriverObjectType, driver, 0x150, driver.address);
    const drivers = ob.root.lookup("Driver")!.Body as OBJECT_DIRECTORY;
    const named = !drivers.lookup(service);
    if (named) insertName(header, drivers, service, true);
    notifyImageLoad(k, `\\SystemRoot\\System32\\drivers\\${service}.sys`, 0, new IMAGE_INFO(true, MM(k).codeAddress(service, "DriverEntry")));
    // RegistryPath: the service key's name in pool, freed once DriverEntry returns (a driver that needs it copies it).
    const RegistryPath = unicodeStringFromText(`\\Registry\\Machine\\System\\CurrentControlSet\\Services\\${service}`);
    if (!RegistryPath) {
      this.dropDriverObject(driver);
      return { status: STATUS_INSUFFICIENT_RESOURCES, driver };
    }
    let status: NTSTATUS;
    try {
      status = await k.invoke(service, "DriverEntry", () => module.DriverEntry(driver, RegistryPath));
    } finally {
      if (!k.crashed) RtlFreeUnicodeString(RegistryPath);
    }
    if (status >>> 0 < 0x80000000) {
      // The I/O manager readies the device objects DriverEntry created.
      for (let d = driver.DeviceObject; d; d = d.NextDevice) d.Flags &= ~DO_DEVICE_INITIALIZING;
      this.drivers.set(service, driver);
      this.unloadedServices.delete(service);
    } else {
      this.dropDriverObject(driver);
    }
    return { status, driver };
  }

  /** The driver object leaves \Driver and its existence reference goes. */
  private dropDriverObject(driver: DRIVER_OBJECT): void {
    const h = OB(this.k).headerOf(driver);
    if (!h || h.deleted) return;
    if (h.Directory) {
      h.Flags &= ~OB_FLAG_PERMANENT_OBJECT;
      void removeName(this.k, h);
    }
    void dereference(this.k, h);
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
    const driver = device.DriverObject;
    if (device.deleted) {
      freeDeviceObject(device);
      this.zombies.delete(device);
      this.finishUnloadIfUnused(driver);
    } else if (this.unloadPending(driver) && !this.hasOpenDevice(driver)) {
      // The last file on a driver whose unload was asked for: DriverUnload runs now, at
      // PASSIVE_LEVEL in a system worker thread (this may be a completion path).
      workers(this.k).queue(WORK_QUEUE_TYPE.DelayedWorkQueue, {
        owner: driver.serviceName, name: "DriverUnload", parameter: null, address: 0, routine: () => this.callUnload(driver),
      });
    }
    this.onDeviceUnreferenced?.(device);
  }

  /** Services whose driver was unloaded and not loaded again (their code is gone). */
  readonly unloadedServices = new Set<string>();
  /** Drivers being unloaded (DriverUnload waiting for their devices' files to close, or run and waiting for deleted devices' last references), by service. */
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
   * Takes the driver out of the loaded drivers and calls its DriverUnload — at once when
   * none of its device objects is open, otherwise (as Windows marks them unload-pending)
   * when the last file object on them is closed; opens fail meanwhile. The driver object
   * goes once DriverUnload has run and every device object it deleted is closed.
   */
  async beginUnload(driver: DRIVER_OBJECT): Promise<void> {
    this.drivers.delete(driver.serviceName);
    this.unloading.set(driver.serviceName, driver);
    if (this.hasOpenDevice(driver)) return;
    await this.callUnload(driver);
  }

  /** True when a file object is open on one of the driver's device objects. */
  private hasOpenDevice(driver: DRIVER_OBJECT): boolean {
    for (let d = driver.DeviceObject; d; d = d.NextDevice) if (d.ReferenceCount > 0) return true;
    return false;
  }

  /** Calls DriverUnload (once), then ends the unload if nothing holds the driver. */
  private async callUnload(driver: DRIVER_OBJECT): Promise<void> {
    if ((driver.Flags & DRVO_UNLOAD_INVOKED) !== 0) return;
    driver.Flags |= DRVO_UNLOAD_INVOKED;
    const unload = driver.DriverUnload;
    if (unload) await this.k.invoke(driver.serviceName, unload.name || "DriverUnload", () => unload(driver));
    this.finishUnloadIfUnused(driver);
  }

  /** True when the driver's unload waits for its devices' files to close (opens are refused then). */
  unloadPending(driver: DRIVER_OBJECT): boolean {
    return this.unloading.get(driver.serviceName) === driver && (driver.Flags & DRVO_UNLOAD_INVOKED) === 0;
  }

  /** Ends an unload once the driver has no device objects and none it deleted is still open. */
  private finishUnloadIfUnused(driver: DRIVER_OBJECT): void {
    if (this.unloading.get(driver.serviceName) !== driver || driver.DeviceObject) return;
    for (const z of this.zombies) if (z.DriverObject === driver) return;
    this.unloading.delete(driver.serviceName);
    // No timer still set or DPC still queued may lie in the driver's memory (0xC7).
    checkTimersAndDpcsAtUnload(this.k, driver.serviceName, driver.DriverUnload?.name || "DriverUnload");
    // Pool tracking: everything the driver allocated must be freed by now.
    const leaked = MM(this.k).pool.outstanding().filter((b) => b.owner === driver.serviceName).length;
    if (this.k.verifier && leaked > 0) {
      const routine = driver.DriverUnload?.name || "DriverUnload";
      this.k.invoke(driver.serviceName, routine, () => this.k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_POOL_LEAKED_AT_UNLOAD, driver.address + DRIVER_OBJECT_NAME_OFFSET, 0, leaked));
    }
    this.dropDriverObject(driver);
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
   * Parses a name as the object manager does (src/ob/namespace.ts): "\\\\.\\X" and
   * "\\\\?\\X" are \\??\\X, which is looked up in \\GLOBAL??; symbolic links are followed; the
   * walk ends at the first device. Returns it with the rest of the name, as the device sees
   * it in FileObject.FileName ("" for the device itself, "\\RefString" below it), or
   * undefined. Names compare case-insensitively.
   */
  parse(name: string): { device: DEVICE_OBJECT; remaining: string } | undefined {
    const found = lookupObjectName(this.k, ntNameOf(name));
    if (found.status !== STATUS_SUCCESS || found.object!.Type !== IoDeviceObjectType) return undefined;
    return { device: found.object!.Body as DEVICE_OBJECT, remaining: found.remaining };
  }
}

/** Calls `visit` for every object in the namespace below `directory`, depth first. */
function walkNamespace(directory: OBJECT_DIRECTORY, visit: (h: OBJECT_HEADER) => void): void {
  for (const h of directory.objects()) {
    visit(h);
    if (h.Type === ObpDirectoryObjectType) walkNamespace(h.Body as OBJECT_DIRECTORY, visit);
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
