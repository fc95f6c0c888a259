/**
 * The race workloads: kernel-mode tests of the sample drivers with races in them on
 * purpose (src/drivers/samples/races), for `wdmsim explore`. Each sends its driver a
 * series of requests from a system thread and checks each completes once with a status
 * the driver documents. On the machine's own schedule each passes; the races show only
 * under schedules that interleave the driver's routines differently.
 */
import {
  Executive, FILE_ALL_ACCESS, IO_STATUS_BLOCK, IoBuildDeviceIoControlRequest, IoCallDriver, IoCancelIrp, IoGetDeviceObjectPointer, KEVENT,
  KeDelayExecutionThread, KeInitializeEvent, KernelMode, KeWaitForSingleObject, NotificationEvent, ObDereferenceObject, STATUS_CANCELLED,
  STATUS_PENDING, STATUS_SUCCESS, STATUS_NO_SUCH_DEVICE, ExAllocatePool2, ExFreePoolWithTag, POOL_FLAG_NON_PAGED, readU32, type DEVICE_OBJECT, type DriverModule, type NTSTATUS,
} from "../index.js";
import { IO } from "../io/manager.js";
import type { Machine } from "../machine/machine.js";
import * as cancelRace from "../drivers/samples/races/cancel-race.js";
import * as counterRace from "../drivers/samples/races/counter-race.js";
import * as removeRace from "../drivers/samples/races/remove-race.js";
import { PNP } from "../pnp/manager.js";
import { disableDevice, enableDevice } from "../pnp/requests.js";
import type { BootOptions } from "../pnp/boot.js";

/** What a race workload did. */
export interface RaceWorkloadResult {
  /** Requests sent. */
  requests: number;
  /** Requests that completed with a status the driver documents for them. */
  completed: number;
  ok: boolean;
}

/** Requests each race workload sends. */
export const RACE_ROUNDS = 20;

/** Loads `module` as `service` and opens its device `name`; runs `body` with the device, then drops the reference. */
async function withDriver(machine: Machine, service: string, module: DriverModule, name: string, body: (device: DEVICE_OBJECT) => Promise<number>): Promise<RaceWorkloadResult> {
  const completed = await machine.exec(async () => {
    const loaded = await IO().loadDriver(service, module);
    if (loaded.status !== STATUS_SUCCESS) throw new Error(`${service}: DriverEntry failed (0x${(loaded.status >>> 0).toString(16)})`);
    const { status, FileObject, DeviceObject } = await IoGetDeviceObjectPointer(name, FILE_ALL_ACCESS);
    if (status !== STATUS_SUCCESS || !DeviceObject) throw new Error(`${service}: cannot open ${name} (0x${(status >>> 0).toString(16)})`);
    try {
      return await body(DeviceObject);
    } finally {
      ObDereferenceObject(FileObject!);
    }
  }, { name: "race test" });
  return { requests: RACE_ROUNDS, completed, ok: completed === RACE_ROUNDS };
}

/** Sends IOCTL `code` to `device` and returns the IRP and what its completion sets. */
function send(device: DEVICE_OBJECT, code: number): { event: KEVENT; iosb: IO_STATUS_BLOCK; irp: NonNullable<ReturnType<typeof IoBuildDeviceIoControlRequest>> } {
  const event = new KEVENT();
  KeInitializeEvent(event, NotificationEvent, false);
  const iosb = new IO_STATUS_BLOCK();
  const irp = IoBuildDeviceIoControlRequest(code, device, null, 0, null, 0, false, event, iosb);
  if (!irp) throw new Error("IoBuildDeviceIoControlRequest failed");
  return { event, iosb, irp };
}

/** The request's final status: `sent` (what IoCallDriver returned) unless it pended. */
async function finished(event: KEVENT, iosb: IO_STATUS_BLOCK, sent: NTSTATUS): Promise<NTSTATUS> {
  if (sent !== STATUS_PENDING) return sent;
  await KeWaitForSingleObject(event, Executive, KernelMode, false);
  return iosb.Status;
}

/**
 * race-cancel: each request is cancelled 60 to 75 µs after it is sent, before the driver's
 * DPC would complete it (at 100 µs); it must complete once, cancelled or done.
 */
export function runCancelRace(machine: Machine): Promise<RaceWorkloadResult> {
  return withDriver(machine, cancelRace.RACE_CANCEL_SERVICE, cancelRace, cancelRace.RACE_CANCEL_DEVICE, async (device) => {
    let completed = 0;
    for (let i = 0; i < RACE_ROUNDS; i++) {
      const { event, iosb, irp } = send(device, cancelRace.IOCTL_RACE_PEND);
      const sent = await IoCallDriver(device, irp);
      await KeDelayExecutionThread(KernelMode, false, -(60 + 5 * (i % 4)) * 10);
      if (sent === STATUS_PENDING) IoCancelIrp(irp);
      const status = await finished(event, iosb, sent);
      if (status === STATUS_CANCELLED || status === STATUS_SUCCESS) completed++;
    }
    return completed;
  });
}

/** race-count: requests one after another; the driver's polling DPC completes each. */
export function runCounterRace(machine: Machine): Promise<RaceWorkloadResult> {
  return withDriver(machine, counterRace.RACE_COUNT_SERVICE, counterRace, counterRace.RACE_COUNT_DEVICE, async (device) => {
    let completed = 0;
    for (let i = 0; i < RACE_ROUNDS; i++) {
      const { event, iosb, irp } = send(device, counterRace.IOCTL_RACE_QUEUE);
      if ((await finished(event, iosb, await IoCallDriver(device, irp))) === STATUS_SUCCESS) completed++;
    }
    return completed;
  });
}

/** race-remove boots with the RaceRemove driver and its root-enumerated device. */
export const RACE_REMOVE_BOOT: BootOptions = {
  packages: [{ service: removeRace.RACE_REMOVE_SERVICE, description: "RaceRemove (a remove race on purpose)", ids: [removeRace.RACE_REMOVE_HARDWARE_ID], role: "function", module: removeRace }],
  rootDevices: [{ deviceId: "ROOT\\RACEREMOVE", hardwareIds: [removeRace.RACE_REMOVE_HARDWARE_ID], compatibleIds: [], instanceId: "0000" }],
};

/**
 * race-remove: each request is sent, the device is disabled (removed) 50 to 65 µs later,
 * after the driver's timer for it has expired (40 µs), and enabled again; the request must
 * complete with the device's value.
 */
export async function runRemoveRace(machine: Machine): Promise<RaceWorkloadResult> {
  const completed = await machine.exec(async () => {
    let completed = 0;
    for (let i = 0; i < RACE_ROUNDS; i++) {
      const device = IO().devices.find((d) => d.DeviceExtension instanceof removeRace.RACE_REMOVE_EXTENSION && !d.deleted);
      if (!device) throw new Error("race-remove: the RaceRemove device is not started");
      const node = PNP().nodeOf((device.DeviceExtension as removeRace.RACE_REMOVE_EXTENSION).Pdo!)!;
      const output = ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 0x74736554);
      const event = new KEVENT();
      KeInitializeEvent(event, NotificationEvent, false);
      const iosb = new IO_STATUS_BLOCK();
      const irp = IoBuildDeviceIoControlRequest(removeRace.IOCTL_RACE_READ, device, null, 0, output, 4, false, event, iosb)!;
      const sent = await IoCallDriver(device, irp);
      await KeDelayExecutionThread(KernelMode, false, -(50 + 5 * (i % 4)) * 10);
      if (!(await disableDevice(node)).ok || !(await enableDevice(node)).ok) throw new Error("race-remove: the device could not be disabled and enabled");
      const status = await finished(event, iosb, sent);
      if ((status === STATUS_SUCCESS && readU32(output) === removeRace.RACE_REMOVE_VALUE) || status === STATUS_NO_SUCH_DEVICE) completed++;
      ExFreePoolWithTag(output, 0x74736554);
    }
    return completed;
  }, { name: "race test" });
  return { requests: RACE_ROUNDS, completed, ok: completed === RACE_ROUNDS };
}

/** The summary's lines. */
export function formatRaceResult(r: RaceWorkloadResult): string[] {
  return [
    `  requests sent              ${r.requests}`,
    `  completed as documented    ${r.completed}`,
    `  result                     ${r.ok ? "OK" : "FAILED"}`,
  ];
}
