/**
 * Loading and unloading drivers by their service key: ZwLoadDriver and ZwUnloadDriver,
 * what the Service Control Manager's StartService and ControlService(SERVICE_CONTROL_STOP)
 * call for a kernel driver (a legacy, non-PnP driver: DriverEntry creates its devices
 * itself and there is no AddDevice).
 *
 * The service key (`\Registry\Machine\System\CurrentControlSet\Services\<name>`) names the
 * image in ImagePath: an image a driver package installed
 * (`\SystemRoot\System32\drivers\<service>.sys`, or the same path relative to SystemRoot),
 * or the path of a driver module on the host (a .ts or .js file exporting DriverEntry).
 * The load runs in a system worker thread, as Windows loads drivers in the system
 * process. Unloading calls DriverUnload once no file object is open on the driver's
 * device objects — with a handle still open, at its last close (the devices take no new
 * opens meanwhile) — and the driver object goes once the devices DriverUnload deleted are
 * closed.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { KE, type Kernel } from "../ke/kernel.js";
import { EVENT_TYPE, KEVENT, KeSetEvent, KeWaitForSingleObject, KeInitializeEvent, KPROCESSOR_MODE, KWAIT_REASON } from "../ke/dispatcher.js";
import {
  NT_SUCCESS, STATUS_IMAGE_ALREADY_LOADED, STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_IMAGE_FORMAT, STATUS_OBJECT_NAME_NOT_FOUND,
  STATUS_SUCCESS, type NTSTATUS,
} from "../ke/ntstatus.js";
import { workers, WORK_QUEUE_TYPE } from "../ke/worker.js";
import { CM } from "../cm/registry.js";
import { SERVICE_FILE_SYSTEM_DRIVER, SERVICE_KERNEL_DRIVER } from "../cm/service-key.js";
import { importModule } from "../machine/module-loader.js";
import { IO, type DriverModule } from "./manager.js";
import { DRVO_LEGACY_DRIVER } from "./driver-flags.js";


/** The prefix of a service key path as ZwLoadDriver takes it (any case). */
const SERVICES_PREFIX = "\\registry\\machine\\system\\currentcontrolset\\services\\";

/** The service name in a service key path, or null when the path is not one. */
export function serviceOfKeyPath(path: string): string | null {
  if (!path.toLowerCase().startsWith(SERVICES_PREFIX)) return null;
  const name = path.slice(SERVICES_PREFIX.length);
  return name !== "" && !name.includes("\\") ? name : null;
}

/** The canonical form of an image path, for matching installed images: "\\SYSTEMROOT\\SYSTEM32\\DRIVERS\\X.SYS". */
export function canonicalImagePath(path: string): string {
  const p = path.replace(/^%SystemRoot%\\/i, "\\SystemRoot\\").replace(/^\\\?\?\\/, "");
  return (/^system32\\/i.test(p) ? `\\SystemRoot\\${p}` : p).toUpperCase();
}

/** The module behind an image path: an installed image, or a module file on the host. */
async function imageModule(k: Kernel, imagePath: string): Promise<{ status: NTSTATUS; module?: DriverModule }> {
  const installed = IO(k).images.get(canonicalImagePath(imagePath));
  if (installed) return { status: STATUS_SUCCESS, module: installed };
  const file = resolve(imagePath);
  if (!existsSync(file)) return { status: STATUS_OBJECT_NAME_NOT_FOUND };
  let loaded: Partial<DriverModule>;
  try {
    loaded = (await importModule(file)) as Partial<DriverModule>;
  } catch {
    return { status: STATUS_INVALID_IMAGE_FORMAT };
  }
  if (typeof loaded.DriverEntry !== "function") return { status: STATUS_INVALID_IMAGE_FORMAT };
  return { status: STATUS_SUCCESS, module: loaded as DriverModule };
}

/** Runs `work` in a system worker thread and waits for what it returns. */
async function inSystemThread(k: Kernel, owner: string, name: string, work: () => Promise<NTSTATUS>): Promise<NTSTATUS> {
  const done = new KEVENT();
  KeInitializeEvent(done, EVENT_TYPE.NotificationEvent, false);
  let status: NTSTATUS = STATUS_SUCCESS;
  workers(k).queue(WORK_QUEUE_TYPE.DelayedWorkQueue, {
    owner, name, parameter: null, address: 0,
    routine: async () => {
      status = await work();
      KeSetEvent(done, 0, false);
    },
  });
  await KeWaitForSingleObject(done, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
  return status;
}

/**
 * ZwLoadDriver (PASSIVE_LEVEL: it waits): loads the driver of the service key `DriverServiceName`
 * ("\\Registry\\Machine\\System\\CurrentControlSet\\Services\\<name>") and calls its
 * DriverEntry. STATUS_OBJECT_NAME_NOT_FOUND when the key or the image is missing,
 * STATUS_INVALID_IMAGE_FORMAT when the image is not a driver (it cannot be imported, or
 * has no DriverEntry), STATUS_IMAGE_ALREADY_LOADED when the driver is loaded, or what
 * DriverEntry returned (a failed DriverEntry leaves nothing loaded).
 */
export async function ZwLoadDriver(DriverServiceName: string): Promise<NTSTATUS> {
  const k = KE();
  const service = serviceOfKeyPath(DriverServiceName);
  const key = service ? CM(k).find(DriverServiceName) : undefined;
  if (!service || !key) return STATUS_OBJECT_NAME_NOT_FOUND;
  const type = key.value("Type")?.decoded;
  if (type !== SERVICE_KERNEL_DRIVER && type !== SERVICE_FILE_SYSTEM_DRIVER) return STATUS_INVALID_IMAGE_FORMAT;
  const io = IO(k);
  if (io.drivers.has(key.name) || io.unloading.has(key.name)) return STATUS_IMAGE_ALREADY_LOADED;
  const imagePath = key.value("ImagePath")?.decoded;
  const image = await imageModule(k, typeof imagePath === "string" && imagePath !== "" ? imagePath : `\\SystemRoot\\System32\\drivers\\${key.name}.sys`);
  if (!image.module) return image.status;
  const module = image.module;
  return inSystemThread(k, key.name, "DriverEntry", async () => {
    const { status, driver } = await io.loadDriver(key.name, module);
    if (NT_SUCCESS(status)) driver.Flags |= DRVO_LEGACY_DRIVER;
    return status;
  });
}

/**
 * ZwUnloadDriver (PASSIVE_LEVEL: it waits): unloads the driver: DriverUnload runs now, or
 * when the last file object open on its device objects is closed (see the file comment). STATUS_OBJECT_NAME_NOT_FOUND when the driver is not
 * loaded; STATUS_INVALID_DEVICE_REQUEST when it has no DriverUnload, when it is a PnP
 * driver that still has devices, or when its unload is already under way.
 */
export async function ZwUnloadDriver(DriverServiceName: string): Promise<NTSTATUS> {
  const k = KE();
  const service = serviceOfKeyPath(DriverServiceName);
  const io = IO(k);
  const name = service ? [...io.drivers.keys(), ...io.unloading.keys()].find((s) => s.toLowerCase() === service.toLowerCase()) : undefined;
  if (!name) return STATUS_OBJECT_NAME_NOT_FOUND;
  const driver = io.drivers.get(name);
  if (!driver || !driver.DriverUnload) return STATUS_INVALID_DEVICE_REQUEST;
  if ((driver.Flags & DRVO_LEGACY_DRIVER) === 0 && driver.DeviceObject) return STATUS_INVALID_DEVICE_REQUEST;
  return inSystemThread(k, name, "DriverUnload", async () => {
    await io.beginUnload(driver);
    return STATUS_SUCCESS;
  });
}

/** True when the service's driver is loaded and not being unloaded. */
export function isDriverRunning(k: Kernel, service: string): boolean {
  return IO(k).drivers.has(service) && !IO(k).unloading.has(service);
}

/** True when the service's driver ran DriverUnload and waits for its devices' last references. */
export function isDriverUnloading(k: Kernel, service: string): boolean {
  return IO(k).unloading.has(service);
}
