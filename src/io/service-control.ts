/**
 * The Service Control Manager's API for kernel drivers (advapi32): OpenSCManager,
 * CreateService, OpenService, StartService, ControlService, QueryServiceStatus,
 * DeleteService and CloseServiceHandle, with winsvc.h's names, access rights and states
 * and the Win32 errors the SCM gives.
 *
 * A service is its key under HKLM\SYSTEM\CurrentControlSet\Services (Type, Start,
 * ErrorControl, ImagePath, DisplayName): CreateService writes it, DeleteService marks it
 * and removes it once the service is stopped and its last handle is closed. StartService
 * is ZwLoadDriver on that key; ControlService(SERVICE_CONTROL_STOP) is ZwUnloadDriver. A
 * driver's state comes from the I/O manager: running while its driver object is loaded,
 * stop pending while its unload waits for a handle on one of its devices to close,
 * stopped otherwise. Only kernel-mode driver services are supported (user-mode service
 * processes are not modelled). The calling program runs with administrator rights.
 *
 * SC_HANDLEs are the process's own (not kernel handles): numbers, 0 (NULL) on failure
 * with the reason in GetLastError.
 */
import type { Kernel } from "../ke/kernel.js";
import { STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import { CM, type Registry } from "../cm/registry.js";
import type { CM_KEY } from "../cm/key.js";
import {
  serviceKeyPath, SERVICE_AUTO_START, SERVICE_BOOT_START, SERVICE_DEMAND_START, SERVICE_DISABLED, SERVICE_ERROR_NORMAL,
  SERVICE_FILE_SYSTEM_DRIVER, SERVICE_KERNEL_DRIVER, SERVICE_SYSTEM_START, writeServiceKey,
} from "../cm/service-key.js";
import { MAX_KEY_NAME_CHARS } from "../cm/key.js";
import { DELETE, READ_CONTROL, RtlMapGenericMask, type GENERIC_MAPPING } from "../ob/access.js";
import { isDriverRunning, isDriverUnloading, ZwLoadDriver, ZwUnloadDriver } from "./driver-load.js";
import { IO } from "./manager.js";
import type { EPROCESS } from "./process.js";
import {
  ERROR_ACCESS_DENIED, ERROR_INVALID_HANDLE, ERROR_INVALID_NAME, ERROR_INVALID_PARAMETER, ERROR_INVALID_SERVICE_CONTROL,
  ERROR_SERVICE_ALREADY_RUNNING, ERROR_SERVICE_CANNOT_ACCEPT_CTRL, ERROR_SERVICE_DISABLED, ERROR_SERVICE_DOES_NOT_EXIST,
  ERROR_SERVICE_EXISTS, ERROR_SERVICE_MARKED_FOR_DELETE, ERROR_SERVICE_NEVER_STARTED, ERROR_SERVICE_NOT_ACTIVE, ERROR_SUCCESS,
  RPC_S_SERVER_UNAVAILABLE, RtlNtStatusToDosError, service, systemService,
} from "./win32.js";

/** A handle to the SCM or to a service (0 is NULL). */
export type SC_HANDLE = number;

// Access rights to the SCM.
export const SC_MANAGER_CONNECT = 0x0001;
export const SC_MANAGER_CREATE_SERVICE = 0x0002;
export const SC_MANAGER_ENUMERATE_SERVICE = 0x0004;
export const SC_MANAGER_LOCK = 0x0008;
export const SC_MANAGER_QUERY_LOCK_STATUS = 0x0010;
export const SC_MANAGER_MODIFY_BOOT_CONFIG = 0x0020;
export const SC_MANAGER_ALL_ACCESS = 0xF003F;

// Access rights to a service.
export const SERVICE_QUERY_CONFIG = 0x0001;
export const SERVICE_CHANGE_CONFIG = 0x0002;
export const SERVICE_QUERY_STATUS = 0x0004;
export const SERVICE_ENUMERATE_DEPENDENTS = 0x0008;
export const SERVICE_START = 0x0010;
export const SERVICE_STOP = 0x0020;
export const SERVICE_PAUSE_CONTINUE = 0x0040;
export const SERVICE_INTERROGATE = 0x0080;
export const SERVICE_USER_DEFINED_CONTROL = 0x0100;
export const SERVICE_ALL_ACCESS = 0xF01FF;

// Service states (SERVICE_STATUS.dwCurrentState).
export const SERVICE_STOPPED = 0x1;
export const SERVICE_START_PENDING = 0x2;
export const SERVICE_STOP_PENDING = 0x3;
export const SERVICE_RUNNING = 0x4;

// Controls.
export const SERVICE_CONTROL_STOP = 0x1;
export const SERVICE_CONTROL_PAUSE = 0x2;
export const SERVICE_CONTROL_CONTINUE = 0x3;
export const SERVICE_CONTROL_INTERROGATE = 0x4;
/** SERVICE_STATUS.dwControlsAccepted: the service can be stopped. */
export const SERVICE_ACCEPT_STOP = 0x1;

/** The SCM database OpenSCManager opens by default. */
export const SERVICES_ACTIVE_DATABASE = "ServicesActive";

/** SERVICE_STATUS. */
export interface SERVICE_STATUS {
  dwServiceType: number;
  dwCurrentState: number;
  dwControlsAccepted: number;
  dwWin32ExitCode: number;
  dwServiceSpecificExitCode: number;
  dwCheckPoint: number;
  dwWaitHint: number;
}

/** What the SCM keeps of a service beyond its key. */
interface ServiceRecord {
  name: string;
  /** The Win32 error of the last start that failed, or of the last stop (0); ERROR_SERVICE_NEVER_STARTED before any. */
  exitCode: number;
  deletePending: boolean;
  openHandles: number;
}

/** The SCM of one machine. */
class ServiceControlManager {
  /** Service records by upper-cased name. */
  readonly records = new Map<string, ServiceRecord>();
  constructor(readonly k: Kernel) {}

  get registry(): Registry {
    return CM(this.k);
  }

  /** The key of a service, if the database has it. */
  key(name: string): CM_KEY | undefined {
    return this.registry.find(serviceKeyPath(name));
  }

  record(name: string): ServiceRecord {
    const upper = name.toUpperCase();
    let r = this.records.get(upper);
    if (!r) {
      r = { name: this.key(name)?.name ?? name, exitCode: ERROR_SERVICE_NEVER_STARTED, deletePending: false, openHandles: 0 };
      this.records.set(upper, r);
    }
    return r;
  }

  /** The service's status as QueryServiceStatus reports it. */
  status(r: ServiceRecord): SERVICE_STATUS {
    const key = this.key(r.name);
    const type = key?.value("Type")?.decoded;
    const running = isDriverRunning(this.k, r.name);
    const state = running ? SERVICE_RUNNING : isDriverUnloading(this.k, r.name) ? SERVICE_STOP_PENDING : SERVICE_STOPPED;
    const driver = IO(this.k).drivers.get(r.name);
    return {
      dwServiceType: typeof type === "number" ? type : SERVICE_KERNEL_DRIVER,
      dwCurrentState: state,
      dwControlsAccepted: running && driver?.DriverUnload && !driver.DriverExtension.AddDevice ? SERVICE_ACCEPT_STOP : 0,
      dwWin32ExitCode: state === SERVICE_STOPPED ? r.exitCode : ERROR_SUCCESS,
      dwServiceSpecificExitCode: 0,
      dwCheckPoint: 0,
      dwWaitHint: 0,
    };
  }

  /** Deletes a service marked for deletion once it is stopped and has no handle open. */
  reapIfDeleted(r: ServiceRecord): void {
    if (!r.deletePending || r.openHandles > 0 || this.status(r).dwCurrentState !== SERVICE_STOPPED) return;
    const key = this.key(r.name);
    if (key) deleteTree(this.registry, key);
    this.records.delete(r.name.toUpperCase());
  }
}

/** Deletes a key and everything below it. */
function deleteTree(registry: Registry, key: CM_KEY): void {
  for (const child of key.subkeys()) deleteTree(registry, child);
  registry.deleteKey(key);
}

function scm(k: Kernel): ServiceControlManager {
  let s = k.services.get("scm") as ServiceControlManager | undefined;
  if (!s) {
    const created = new ServiceControlManager(k);
    // A stop that waited for a device's last close ends there: a service marked for deletion goes then.
    IO(k).onDriverUnloaded = (name) => {
      const r = created.records.get(name.toUpperCase());
      if (r) created.reapIfDeleted(r);
    };
    k.services.set("scm", created);
    s = created;
  }
  return s;
}

/** An open SC_HANDLE: to the SCM itself, or to a service. */
interface ScHandle {
  access: number;
  service: ServiceRecord | null;
}

/** Each process's SC_HANDLEs. */
const tables = new WeakMap<EPROCESS, { next: number; handles: Map<number, ScHandle> }>();

/** First SC_HANDLE value, and the step between two. */
const SC_HANDLE_BASE = 0x10000;
const SC_HANDLE_STEP = 0x10;

function tableOf(process: EPROCESS) {
  let t = tables.get(process);
  if (!t) {
    t = { next: SC_HANDLE_BASE, handles: new Map() };
    tables.set(process, t);
  }
  return t;
}

function openHandle(process: EPROCESS, h: ScHandle): SC_HANDLE {
  const t = tableOf(process);
  const value = t.next;
  t.next += SC_HANDLE_STEP;
  t.handles.set(value, h);
  if (h.service) h.service.openHandles++;
  return value;
}

/** The specific rights a service handle's generic rights stand for (winsvc.h). */
const SERVICE_MAPPING: GENERIC_MAPPING = {
  GenericRead: READ_CONTROL | SERVICE_QUERY_CONFIG | SERVICE_QUERY_STATUS | SERVICE_INTERROGATE | SERVICE_ENUMERATE_DEPENDENTS,
  GenericWrite: READ_CONTROL | SERVICE_CHANGE_CONFIG,
  GenericExecute: READ_CONTROL | SERVICE_START | SERVICE_STOP | SERVICE_PAUSE_CONTINUE | SERVICE_USER_DEFINED_CONTROL,
  GenericAll: SERVICE_ALL_ACCESS,
};

/** The specific rights an SCM handle's generic rights stand for (winsvc.h). */
const SC_MANAGER_MAPPING: GENERIC_MAPPING = {
  GenericRead: READ_CONTROL | SC_MANAGER_ENUMERATE_SERVICE | SC_MANAGER_QUERY_LOCK_STATUS,
  GenericWrite: READ_CONTROL | SC_MANAGER_CREATE_SERVICE | SC_MANAGER_MODIFY_BOOT_CONFIG,
  GenericExecute: READ_CONTROL | SC_MANAGER_CONNECT | SC_MANAGER_LOCK,
  GenericAll: SC_MANAGER_ALL_ACCESS,
};

/** A valid service name: one that can name its registry key (1 to 255 characters, no / or \\). */
function validServiceName(name: string | null): name is string {
  return typeof name === "string" && name.length > 0 && name.length <= MAX_KEY_NAME_CHARS && !/[\\/]/.test(name);
}

/** Ends an SCM call with a Win32 error (and the failure value). */
function fail<T>(thread: { LastErrorValue: number }, error: number, value: T): T {
  thread.LastErrorValue = error;
  return value;
}

/**
 * OpenSCManager(lpMachineName, lpDatabaseName, dwDesiredAccess): a handle to the local
 * SCM (lpMachineName null or ""; another machine is RPC_S_SERVER_UNAVAILABLE), database
 * null or "ServicesActive" (else ERROR_INVALID_NAME). 0 on failure.
 */
export function OpenSCManager(lpMachineName: string | null, lpDatabaseName: string | null, dwDesiredAccess: number): SC_HANDLE {
  return service(({ thread, process }) => {
    if (lpMachineName) return fail(thread, RPC_S_SERVER_UNAVAILABLE, 0);
    if (lpDatabaseName !== null && lpDatabaseName.toLowerCase() !== SERVICES_ACTIVE_DATABASE.toLowerCase()) return fail(thread, ERROR_INVALID_NAME, 0);
    return openHandle(process, { access: RtlMapGenericMask(dwDesiredAccess, SC_MANAGER_MAPPING) | SC_MANAGER_CONNECT, service: null });
  });
}

/** The open handle `h` of the calling process, if it is one of the kind asked for. */
function handleOf(process: EPROCESS, h: SC_HANDLE, kind: "manager" | "service"): ScHandle | undefined {
  const x = tableOf(process).handles.get(h);
  if (!x || (kind === "service") !== (x.service !== null)) return undefined;
  return x;
}

/**
 * CreateService: adds a kernel-driver service (dwServiceType SERVICE_KERNEL_DRIVER or
 * SERVICE_FILE_SYSTEM_DRIVER) whose image is lpBinaryPathName — here the path of a driver
 * module (or an installed image path). Returns a handle to it with dwDesiredAccess, or 0:
 * ERROR_SERVICE_EXISTS, ERROR_SERVICE_MARKED_FOR_DELETE, ERROR_INVALID_NAME,
 * ERROR_INVALID_PARAMETER (type, start type, or no binary path), ERROR_ACCESS_DENIED
 * (no SC_MANAGER_CREATE_SERVICE), ERROR_INVALID_HANDLE. The optional parameters after
 * lpBinaryPathName (load order group, tag, dependencies, account, password) are accepted
 * and not used by driver services.
 */
export function CreateService(
  hSCManager: SC_HANDLE, lpServiceName: string | null, lpDisplayName: string | null, dwDesiredAccess: number, dwServiceType: number,
  dwStartType: number, dwErrorControl: number, lpBinaryPathName: string | null, _lpLoadOrderGroup: string | null = null,
  _lpdwTagId: null = null, _lpDependencies: string | null = null, _lpServiceStartName: string | null = null, _lpPassword: string | null = null,
): SC_HANDLE {
  return service(({ k, thread, process }) => {
    const m = handleOf(process, hSCManager, "manager");
    if (!m) return fail(thread, ERROR_INVALID_HANDLE, 0);
    if ((m.access & SC_MANAGER_CREATE_SERVICE) === 0) return fail(thread, ERROR_ACCESS_DENIED, 0);
    if (!validServiceName(lpServiceName)) return fail(thread, ERROR_INVALID_NAME, 0);
    if (dwServiceType !== SERVICE_KERNEL_DRIVER && dwServiceType !== SERVICE_FILE_SYSTEM_DRIVER) return fail(thread, ERROR_INVALID_PARAMETER, 0);
    if (![SERVICE_BOOT_START, SERVICE_SYSTEM_START, SERVICE_AUTO_START, SERVICE_DEMAND_START, SERVICE_DISABLED].includes(dwStartType)) return fail(thread, ERROR_INVALID_PARAMETER, 0);
    if (dwErrorControl < 0 || dwErrorControl > 3 || !lpBinaryPathName) return fail(thread, ERROR_INVALID_PARAMETER, 0);
    const s = scm(k);
    const existing = s.records.get(lpServiceName.toUpperCase());
    if (existing?.deletePending) return fail(thread, ERROR_SERVICE_MARKED_FOR_DELETE, 0);
    if (s.key(lpServiceName)) return fail(thread, ERROR_SERVICE_EXISTS, 0);
    writeServiceKey(s.registry, lpServiceName, {
      type: dwServiceType, start: dwStartType, errorControl: dwErrorControl, imagePath: lpBinaryPathName, displayName: lpDisplayName ?? lpServiceName,
    });
    return openHandle(process, { access: RtlMapGenericMask(dwDesiredAccess, SERVICE_MAPPING), service: s.record(lpServiceName) });
  });
}

/** OpenService: a handle to an existing service, or 0 (ERROR_SERVICE_DOES_NOT_EXIST, ERROR_INVALID_NAME, ERROR_INVALID_HANDLE). */
export function OpenService(hSCManager: SC_HANDLE, lpServiceName: string | null, dwDesiredAccess: number): SC_HANDLE {
  return service(({ k, thread, process }) => {
    if (!handleOf(process, hSCManager, "manager")) return fail(thread, ERROR_INVALID_HANDLE, 0);
    if (!validServiceName(lpServiceName)) return fail(thread, ERROR_INVALID_NAME, 0);
    const s = scm(k);
    if (!s.key(lpServiceName)) return fail(thread, ERROR_SERVICE_DOES_NOT_EXIST, 0);
    return openHandle(process, { access: RtlMapGenericMask(dwDesiredAccess, SERVICE_MAPPING), service: s.record(lpServiceName) });
  });
}

/**
 * StartService: loads the driver (ZwLoadDriver on its key). FALSE with
 * ERROR_SERVICE_ALREADY_RUNNING, ERROR_SERVICE_DISABLED, ERROR_SERVICE_MARKED_FOR_DELETE,
 * ERROR_ACCESS_DENIED (no SERVICE_START), ERROR_INVALID_HANDLE, ERROR_FILE_NOT_FOUND (no
 * image), ERROR_BAD_EXE_FORMAT (not a driver), or the Win32 form of the status
 * DriverEntry failed with. Arguments are not passed to drivers.
 */
export function StartService(hService: SC_HANDLE, _dwNumServiceArgs = 0, _lpServiceArgVectors: readonly string[] | null = null): Promise<boolean> {
  return systemService(false, async ({ k, process }) => {
    const h = handleOf(process, hService, "service");
    if (!h) return { status: STATUS_SUCCESS, value: false, error: ERROR_INVALID_HANDLE };
    if ((h.access & SERVICE_START) === 0) return { status: STATUS_SUCCESS, value: false, error: ERROR_ACCESS_DENIED };
    const s = scm(k);
    const r = h.service!;
    if (r.deletePending) return { status: STATUS_SUCCESS, value: false, error: ERROR_SERVICE_MARKED_FOR_DELETE };
    if (s.key(r.name)?.value("Start")?.decoded === SERVICE_DISABLED) return { status: STATUS_SUCCESS, value: false, error: ERROR_SERVICE_DISABLED };
    if (s.status(r).dwCurrentState !== SERVICE_STOPPED) return { status: STATUS_SUCCESS, value: false, error: ERROR_SERVICE_ALREADY_RUNNING };
    const status: NTSTATUS = await ZwLoadDriver(serviceKeyPath(r.name));
    r.exitCode = RtlNtStatusToDosError(status);
    return { status, value: status === STATUS_SUCCESS, error: r.exitCode };
  });
}

/**
 * ControlService: SERVICE_CONTROL_STOP unloads the driver (ZwUnloadDriver);
 * SERVICE_CONTROL_INTERROGATE reports its status. Returns whether it succeeded and the
 * service's status after the control (the C out-parameter). FALSE with
 * ERROR_SERVICE_NOT_ACTIVE (not running), ERROR_INVALID_SERVICE_CONTROL (a driver without
 * DriverUnload, a PnP driver, or another control), ERROR_SERVICE_CANNOT_ACCEPT_CTRL (stop
 * pending), ERROR_ACCESS_DENIED, ERROR_INVALID_HANDLE.
 */
export function ControlService(hService: SC_HANDLE, dwControl: number): Promise<{ ok: boolean; ServiceStatus: SERVICE_STATUS | null }> {
  return systemService({ ok: false, ServiceStatus: null }, async ({ k, process }) => {
    const h = handleOf(process, hService, "service");
    const failed = (error: number, ServiceStatus: SERVICE_STATUS | null = null) => ({ status: STATUS_SUCCESS, value: { ok: false, ServiceStatus }, error });
    if (!h) return failed(ERROR_INVALID_HANDLE);
    const s = scm(k);
    const r = h.service!;
    const before = s.status(r);
    if (dwControl === SERVICE_CONTROL_INTERROGATE) {
      if ((h.access & SERVICE_INTERROGATE) === 0) return failed(ERROR_ACCESS_DENIED);
      if (before.dwCurrentState === SERVICE_STOPPED) return failed(ERROR_SERVICE_NOT_ACTIVE, before);
      return { status: STATUS_SUCCESS, value: { ok: true, ServiceStatus: before } };
    }
    if (dwControl !== SERVICE_CONTROL_STOP) return failed(ERROR_INVALID_SERVICE_CONTROL, before);
    if ((h.access & SERVICE_STOP) === 0) return failed(ERROR_ACCESS_DENIED);
    if (before.dwCurrentState === SERVICE_STOPPED) return failed(ERROR_SERVICE_NOT_ACTIVE, before);
    if (before.dwCurrentState === SERVICE_STOP_PENDING) return failed(ERROR_SERVICE_CANNOT_ACCEPT_CTRL, before);
    if ((before.dwControlsAccepted & SERVICE_ACCEPT_STOP) === 0) return failed(ERROR_INVALID_SERVICE_CONTROL, before);
    const status = await ZwUnloadDriver(serviceKeyPath(r.name));
    if (status !== STATUS_SUCCESS) return failed(RtlNtStatusToDosError(status), s.status(r));
    r.exitCode = ERROR_SUCCESS;
    const after = s.status(r);
    s.reapIfDeleted(r);
    return { status, value: { ok: true, ServiceStatus: after } };
  });
}

/** QueryServiceStatus: the service's SERVICE_STATUS (the C out-parameter); FALSE with ERROR_ACCESS_DENIED or ERROR_INVALID_HANDLE. */
export function QueryServiceStatus(hService: SC_HANDLE): { ok: boolean; ServiceStatus: SERVICE_STATUS | null } {
  return service(({ k, thread, process }) => {
    const h = handleOf(process, hService, "service");
    if (!h) return fail(thread, ERROR_INVALID_HANDLE, { ok: false, ServiceStatus: null });
    if ((h.access & SERVICE_QUERY_STATUS) === 0) return fail(thread, ERROR_ACCESS_DENIED, { ok: false, ServiceStatus: null });
    return { ok: true, ServiceStatus: scm(k).status(h.service!) };
  });
}

/**
 * DeleteService: marks the service for deletion; its key goes once it is stopped and its
 * last handle is closed. FALSE with ERROR_SERVICE_MARKED_FOR_DELETE (already marked),
 * ERROR_ACCESS_DENIED (no DELETE access), ERROR_INVALID_HANDLE.
 */
export function DeleteService(hService: SC_HANDLE): boolean {
  return service(({ k, thread, process }) => {
    const h = handleOf(process, hService, "service");
    if (!h) return fail(thread, ERROR_INVALID_HANDLE, false);
    if ((h.access & DELETE) === 0) return fail(thread, ERROR_ACCESS_DENIED, false);
    const r = h.service!;
    if (r.deletePending) return fail(thread, ERROR_SERVICE_MARKED_FOR_DELETE, false);
    r.deletePending = true;
    scm(k).reapIfDeleted(r);
    return true;
  });
}

/** CloseServiceHandle: closes an SC_HANDLE (FALSE with ERROR_INVALID_HANDLE for one that is not open). */
export function CloseServiceHandle(hSCObject: SC_HANDLE): boolean {
  return service(({ k, thread, process }) => {
    const t = tableOf(process);
    const h = t.handles.get(hSCObject);
    if (!h) return fail(thread, ERROR_INVALID_HANDLE, false);
    t.handles.delete(hSCObject);
    if (h.service) {
      h.service.openHandles--;
      scm(k).reapIfDeleted(h.service);
    }
    return true;
  });
}

/** Closes the SC_HANDLEs a process left open (when it ends, as Windows closes them then): services marked for deletion may go. */
export function closeServiceHandles(process: EPROCESS, k: Kernel): void {
  const t = tables.get(process);
  if (!t) return;
  for (const h of t.handles.values()) {
    if (!h.service) continue;
    h.service.openHandles--;
    scm(k).reapIfDeleted(h.service);
  }
  t.handles.clear();
}

export { SERVICE_KERNEL_DRIVER, SERVICE_FILE_SYSTEM_DRIVER, SERVICE_BOOT_START, SERVICE_SYSTEM_START, SERVICE_AUTO_START, SERVICE_DEMAND_START, SERVICE_DISABLED, SERVICE_ERROR_NORMAL };
export { SERVICE_ERROR_IGNORE } from "../cm/service-key.js";
