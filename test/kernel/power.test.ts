// Power management: the power IRP codes and states (wdm.h), PoRequestPowerIrp,
// PoSetPowerState, the power manager's system transitions (query, veto, order of
// S-IRPs), the PCI bus driver's device power states through PMCSR, and the edu driver
// as its device's power policy owner across a sleep and resume (WDK: IRP_MN_SET_POWER,
// IRP_MN_QUERY_POWER, PoRequestPowerIrp, PoSetPowerState, DEVICE_CAPABILITIES; PCI Bus
// Power Management Interface: PMCSR, D3hot to D0 recovery time).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, type IRP, type DEVICE_OBJECT, type DRIVER_OBJECT, type NTSTATUS, type DriverPackage, type IO_STATUS_BLOCK,
  boot, DeviceIoControl,
  IoAllocateIrp, IoCallDriver, IoCompleteRequest, IoCreateDevice, IoAttachDeviceToDeviceStack, IoGetCurrentIrpStackLocation, IoGetNextIrpStackLocation,
  IoSetCompletionRoutine, IoSkipCurrentIrpStackLocation, IoCopyCurrentIrpStackLocationToNext, IoFreeIrp, IO_NO_INCREMENT,
  IRP_MJ_POWER, IRP_MJ_DEVICE_CONTROL, IRP_MJ_MAXIMUM_FUNCTION, DO_BUFFERED_IO, DO_DEVICE_INITIALIZING, DO_POWER_PAGABLE, FILE_DEVICE_UNKNOWN,
  STATUS_SUCCESS, STATUS_PENDING, STATUS_NOT_SUPPORTED, STATUS_UNSUCCESSFUL, STATUS_INVALID_PARAMETER_2, STATUS_DEVICE_POWERED_OFF,
  STATUS_MORE_PROCESSING_REQUIRED, STATUS_INVALID_PARAMETER, PASSIVE_LEVEL, KeGetCurrentIrql, KeQueryPerformanceCounter, READ_REGISTER_ULONG, readConfig, readBytes,
  PNP, PO, PoRequestPowerIrp, PoSetPowerState, PoCallDriver, PoStartNextPowerIrp, POWER_STATE, POWER_STATE_TYPE, SYSTEM_POWER_STATE,
  DEVICE_POWER_STATE, POWER_ACTION, DEVICE_CAPABILITIES, IRP_MN_WAIT_WAKE, IRP_MN_POWER_SEQUENCE, IRP_MN_SET_POWER, IRP_MN_QUERY_POWER,
  IRP_MN_QUERY_CAPABILITIES, IRP_MJ_PNP, STATUS_INVALID_DEVICE_STATE, KeSetEvent, type KEVENT,
  ExAllocatePoolWithTag, POOL_TYPE, writeU32,
} from "../../src/index.js";
import { Machine as MachineClass } from "../../src/machine/machine.js";
import { FIRMWARE_DIR, loadMachine, type MachineDescription } from "../../src/machine/firmwareFiles.js";
import { IO } from "../../src/io/manager.js";
import { EDU_DEVICE_EXTENSION } from "../../src/drivers/edu/driver.js";
import {
  eduDmaRequest, IOCTL_EDU_COMPUTE_FACTORIAL, IOCTL_EDU_DMA_FROM_DEVICE, IOCTL_EDU_DMA_TO_DEVICE, IOCTL_EDU_GET_IDENTIFICATION,
} from "../../src/drivers/edu/public.js";
import { buildStack, createTestDevice, defaultDescription, eduExtension, kernelOf, notificationEvent, waitMs, withEdu } from "../support/kernel-harness.js";
import { le32, pattern, u32 } from "../support/bytes.js";

const EDU_HARDWARE_ID = "PCI\\VEN_1234&DEV_11E8&SUBSYS_11001AF4&REV_10";
const EDU_ID = 0x010000ED;
/** Where the PM capability goes in the edu device's config space for these tests (its MSI capability is at 0x40). */
const PM_CAP = 0x50;
const PMCSR = PM_CAP + 4;
/** 10 ms in performance-counter ticks (10 MHz). */
const TEN_MS_TICKS = 100_000;

/** The default machine with a PCI power management capability added to the edu function. */
function pmDescription(): MachineDescription {
  const d = defaultDescription();
  d.slots[0].spec.pm = { offset: PM_CAP };
  return d;
}

async function bootPm(packages: DriverPackage[] = []): Promise<Machine> {
  return boot(MachineClass.fromDescription(pmDescription()), { packages });
}

/** PMCSR.PowerState of the edu function (00:03.0 on the default machine). */
function eduPowerStateField(): number {
  return readConfig(0, 3, 0, PMCSR, 2) & 3;
}

/** The device node a device object's stack belongs to. */
function instancePathOf(device: DEVICE_OBJECT): string {
  let d = device;
  while (d.lowerDevice) d = d.lowerDevice;
  return PNP().nodeOf(d)?.InstancePath ?? "?";
}

/** Requests a device power IRP for `device`'s stack and waits for its PowerCompletion; returns the final status and when it completed. */
async function requestDevicePower(device: DEVICE_OBJECT, minor: number, state: DEVICE_POWER_STATE): Promise<{ status: NTSTATUS; completedAt: number }> {
  const done = notificationEvent();
  const result = { status: -1, completedAt: 0 };
  const ps = new POWER_STATE();
  ps.DeviceState = state;
  const r = PoRequestPowerIrp(device, minor, ps, function TestPowerCompletion(_d, _m, _p, _c, IoStatus) {
    result.status = IoStatus.Status;
    result.completedAt = KeQueryPerformanceCounter().QuadPart;
    KeSetEvent(done, 0, false);
  }, null);
  expect(r.status).toBe(STATUS_PENDING);
  expect(await waitMs(done, 1000)).toBe(STATUS_SUCCESS);
  return result;
}

/** Opens the edu device, runs `body`, closes it. */




/** Sends IOCTL_EDU_GET_IDENTIFICATION to the top of the edu stack from kernel mode; returns the status it completed with. */
async function eduIdentificationIrp(ext: EDU_DEVICE_EXTENSION): Promise<NTSTATUS> {
  const top = ext.Self;
  const irp = IoAllocateIrp(top.StackSize, false)!;
  const s = IoGetNextIrpStackLocation(irp);
  s.MajorFunction = IRP_MJ_DEVICE_CONTROL;
  s.Parameters.DeviceIoControl.IoControlCode = IOCTL_EDU_GET_IDENTIFICATION;
  s.Parameters.DeviceIoControl.OutputBufferLength = 4;
  const done = notificationEvent();
  IoSetCompletionRoutine(irp, (_d, _i, ctx) => { KeSetEvent(ctx as KEVENT, 0, false); return STATUS_MORE_PROCESSING_REQUIRED; }, done, true, true, true);
  if (await IoCallDriver(top, irp) === STATUS_PENDING) await waitMs(done, 100);
  const status = irp.IoStatus.Status;
  IoFreeIrp(irp);
  return status;
}

/** Logs every system power IRP as it reaches the top of a stack of `service`'s devices (and its status on arrival). */
function spyOnSystemIrps(machine: Machine, service: string, log: { path: string; minor: number; state: number; action: number; arrivalStatus: NTSTATUS }[]): void {
  const driver = IO(kernelOf(machine)).drivers.get(service)!;
  const original = driver.MajorFunction[IRP_MJ_POWER];
  driver.MajorFunction[IRP_MJ_POWER] = function SpyDispatchPower(DeviceObject: DEVICE_OBJECT, Irp: IRP) {
    const s = IoGetCurrentIrpStackLocation(Irp);
    if (DeviceObject.AttachedDevice === null && s.Parameters.Power.Type === POWER_STATE_TYPE.SystemPowerState) {
      log.push({ path: instancePathOf(DeviceObject), minor: s.MinorFunction, state: s.Parameters.Power.State, action: s.Parameters.Power.ShutdownType, arrivalStatus: Irp.IoStatus.Status });
    }
    return original(DeviceObject, Irp);
  };
}

/** An upper filter on the edu device that passes everything down but fails every system query-power IRP with STATUS_UNSUCCESSFUL. */
function vetoFilter(log: { minor: number; type: number; state: number }[]): DriverPackage {
  return {
    service: "powerveto",
    description: "test filter: fails system IRP_MN_QUERY_POWER",
    ids: ["PCI\\VEN_1234&DEV_11E8"],
    role: "upperFilter",
    module: {
      DriverEntry(DriverObject: DRIVER_OBJECT) {
        const lowerOf = (d: DEVICE_OBJECT) => (d.DeviceExtension as { lower: DEVICE_OBJECT }).lower;
        for (let major = 0; major <= IRP_MJ_MAXIMUM_FUNCTION; major++) {
          DriverObject.MajorFunction[major] = function VetoPassDown(d: DEVICE_OBJECT, irp: IRP) {
            IoSkipCurrentIrpStackLocation(irp);
            return IoCallDriver(lowerOf(d), irp);
          };
        }
        DriverObject.MajorFunction[IRP_MJ_POWER] = function VetoDispatchPower(d: DEVICE_OBJECT, irp: IRP) {
          const s = IoGetCurrentIrpStackLocation(irp);
          log.push({ minor: s.MinorFunction, type: s.Parameters.Power.Type, state: s.Parameters.Power.State });
          PoStartNextPowerIrp(irp);
          if (s.MinorFunction === IRP_MN_QUERY_POWER && s.Parameters.Power.Type === POWER_STATE_TYPE.SystemPowerState) {
            irp.IoStatus.Status = STATUS_UNSUCCESSFUL;
            IoCompleteRequest(irp, IO_NO_INCREMENT);
            return STATUS_UNSUCCESSFUL;
          }
          IoSkipCurrentIrpStackLocation(irp);
          return PoCallDriver(lowerOf(d), irp);
        };
        DriverObject.DriverExtension.AddDevice = (driver: DRIVER_OBJECT, pdo: DEVICE_OBJECT) => {
          const ext = { lower: null as DEVICE_OBJECT | null };
          const { status, DeviceObject } = IoCreateDevice(driver, ext, null, FILE_DEVICE_UNKNOWN, 0, false);
          if (!DeviceObject) return status;
          ext.lower = IoAttachDeviceToDeviceStack(DeviceObject, pdo);
          DeviceObject.Flags = (DeviceObject.Flags | DO_POWER_PAGABLE | (ext.lower!.Flags & DO_BUFFERED_IO)) & ~DO_DEVICE_INITIALIZING;
          return STATUS_SUCCESS;
        };
        return STATUS_SUCCESS;
      },
    },
  };
}

describe("power IRP codes and states", () => {
  it("have wdm.h's values: minor codes 0..3, POWER_STATE_TYPE, SYSTEM_POWER_STATE, DEVICE_POWER_STATE, POWER_ACTION", () => {
    expect([IRP_MN_WAIT_WAKE, IRP_MN_POWER_SEQUENCE, IRP_MN_SET_POWER, IRP_MN_QUERY_POWER]).toEqual([0, 1, 2, 3]);
    expect(IRP_MJ_POWER).toBe(0x16);
    expect([POWER_STATE_TYPE.SystemPowerState, POWER_STATE_TYPE.DevicePowerState]).toEqual([0, 1]);
    expect([
      SYSTEM_POWER_STATE.PowerSystemUnspecified, SYSTEM_POWER_STATE.PowerSystemWorking, SYSTEM_POWER_STATE.PowerSystemSleeping1,
      SYSTEM_POWER_STATE.PowerSystemSleeping2, SYSTEM_POWER_STATE.PowerSystemSleeping3, SYSTEM_POWER_STATE.PowerSystemHibernate,
      SYSTEM_POWER_STATE.PowerSystemShutdown, SYSTEM_POWER_STATE.PowerSystemMaximum,
    ]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([
      DEVICE_POWER_STATE.PowerDeviceUnspecified, DEVICE_POWER_STATE.PowerDeviceD0, DEVICE_POWER_STATE.PowerDeviceD1,
      DEVICE_POWER_STATE.PowerDeviceD2, DEVICE_POWER_STATE.PowerDeviceD3, DEVICE_POWER_STATE.PowerDeviceMaximum,
    ]).toEqual([0, 1, 2, 3, 4, 5]);
    expect([
      POWER_ACTION.PowerActionNone, POWER_ACTION.PowerActionReserved, POWER_ACTION.PowerActionSleep, POWER_ACTION.PowerActionHibernate,
      POWER_ACTION.PowerActionShutdown, POWER_ACTION.PowerActionShutdownReset, POWER_ACTION.PowerActionShutdownOff, POWER_ACTION.PowerActionWarmEject,
    ]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(STATUS_DEVICE_POWERED_OFF >>> 0).toBe(0x8000000F);
    expect(STATUS_INVALID_PARAMETER_2 >>> 0).toBe(0xC00000F0);
  });

  it("POWER_STATE is a union: SystemState and DeviceState are the same value", () => {
    const ps = new POWER_STATE();
    ps.DeviceState = DEVICE_POWER_STATE.PowerDeviceD3;
    expect(ps.SystemState).toBe(4);
    ps.SystemState = SYSTEM_POWER_STATE.PowerSystemWorking;
    expect(ps.DeviceState).toBe(DEVICE_POWER_STATE.PowerDeviceD0);
  });
});

describe("PoRequestPowerIrp, PoSetPowerState", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootPm();
  });

  it("sends the IRP to the top of the target's stack, starting at STATUS_NOT_SUPPORTED, at PASSIVE_LEVEL, and returns STATUS_PENDING with the IRP", async () => {
    const r = await machine.exec(async () => {
      const [top, bottom] = await buildStack(2, "porq");
      const seen: { device: DEVICE_OBJECT; status: NTSTATUS; major: number; minor: number; type: number; state: number; action: number; irql: number }[] = [];
      top.DriverObject.MajorFunction[IRP_MJ_POWER] = function TopPower(d, irp) {
        const s = IoGetCurrentIrpStackLocation(irp);
        seen.push({ device: d, status: irp.IoStatus.Status, major: s.MajorFunction, minor: s.MinorFunction, type: s.Parameters.Power.Type, state: s.Parameters.Power.State, action: s.Parameters.Power.ShutdownType, irql: KeGetCurrentIrql() });
        IoSkipCurrentIrpStackLocation(irp);
        return PoCallDriver(bottom, irp);
      };
      bottom.DriverObject.MajorFunction[IRP_MJ_POWER] = function BottomPower(_d, irp) {
        irp.IoStatus.Status = STATUS_SUCCESS;
        IoCompleteRequest(irp, IO_NO_INCREMENT);
        return STATUS_SUCCESS;
      };
      const done = notificationEvent();
      const ps = new POWER_STATE();
      ps.DeviceState = DEVICE_POWER_STATE.PowerDeviceD2;
      const returned = PoRequestPowerIrp(bottom, IRP_MN_SET_POWER, ps, () => KeSetEvent(done, 0, false), null);
      const sentBeforeReturn = seen.length;
      await waitMs(done, 100);
      return { returned, sentBeforeReturn, seen, top };
    });
    expect(r.returned.status).toBe(STATUS_PENDING);
    expect(r.returned.Irp).not.toBeNull();
    expect(r.seen).toHaveLength(1);
    const s = r.seen[0];
    expect(s.device).toBe(r.top);
    expect(s.status).toBe(STATUS_NOT_SUPPORTED);
    expect([s.major, s.minor, s.type, s.state, s.action]).toEqual([IRP_MJ_POWER, IRP_MN_SET_POWER, POWER_STATE_TYPE.DevicePowerState, DEVICE_POWER_STATE.PowerDeviceD2, POWER_ACTION.PowerActionNone]);
    expect(s.irql).toBe(PASSIVE_LEVEL);
  });

  it("calls the completion function after every IoCompletion routine, with (target, minor, state, context, final IoStatus)", async () => {
    const r = await machine.exec(async () => {
      const [top, bottom] = await buildStack(2, "pocb");
      const order: string[] = [];
      top.DriverObject.MajorFunction[IRP_MJ_POWER] = function TopPower(_d, irp) {
        IoCopyCurrentIrpStackLocationToNext(irp);
        IoSetCompletionRoutine(irp, () => { order.push("IoCompletion"); return STATUS_SUCCESS; }, null, true, true, true);
        return PoCallDriver(bottom, irp);
      };
      bottom.DriverObject.MajorFunction[IRP_MJ_POWER] = function BottomPower(_d, irp) {
        irp.IoStatus.Status = STATUS_INVALID_DEVICE_STATE;
        irp.IoStatus.Information = 0x1234;
        IoCompleteRequest(irp, IO_NO_INCREMENT);
        return STATUS_INVALID_DEVICE_STATE;
      };
      const done = notificationEvent();
      const context = { tag: "ctx" };
      let args: { DeviceObject: DEVICE_OBJECT; MinorFunction: number; DeviceState: number; Context: unknown; Status: NTSTATUS; Information: unknown } | null = null;
      const ps = new POWER_STATE();
      ps.DeviceState = DEVICE_POWER_STATE.PowerDeviceD3;
      PoRequestPowerIrp(bottom, IRP_MN_QUERY_POWER, ps, function Completion(DeviceObject, MinorFunction, PowerState, Context, IoStatus: IO_STATUS_BLOCK) {
        order.push("PowerCompletion");
        args = { DeviceObject, MinorFunction, DeviceState: PowerState.DeviceState, Context, Status: IoStatus.Status, Information: IoStatus.Information };
        KeSetEvent(done, 0, false);
      }, context);
      await waitMs(done, 100);
      return { order, args: args!, bottom, context };
    });
    expect(r.order).toEqual(["IoCompletion", "PowerCompletion"]);
    expect(r.args.DeviceObject).toBe(r.bottom);
    expect(r.args.MinorFunction).toBe(IRP_MN_QUERY_POWER);
    expect(r.args.DeviceState).toBe(DEVICE_POWER_STATE.PowerDeviceD3);
    expect(r.args.Context).toBe(r.context);
    expect(r.args.Status).toBe(STATUS_INVALID_DEVICE_STATE);
    expect(r.args.Information).toBe(0x1234);
  });

  it("refuses a minor code it does not send (IRP_MN_POWER_SEQUENCE) with STATUS_INVALID_PARAMETER_2 and sends nothing", async () => {
    const r = await machine.exec(async () => {
      const device = await createTestDevice("poseq");
      let dispatched = 0;
      let completed = 0;
      device.DriverObject.MajorFunction[IRP_MJ_POWER] = (_d, irp) => { dispatched++; irp.IoStatus.Status = STATUS_SUCCESS; IoCompleteRequest(irp, IO_NO_INCREMENT); return STATUS_SUCCESS; };
      const ret = PoRequestPowerIrp(device, IRP_MN_POWER_SEQUENCE, new POWER_STATE(DEVICE_POWER_STATE.PowerDeviceD0), () => { completed++; }, null);
      await waitMs(notificationEvent(), 1);
      return { ret, dispatched, completed };
    });
    expect(r.ret.status).toBe(STATUS_INVALID_PARAMETER_2);
    expect(r.ret.Irp).toBeNull();
    expect(r.dispatched).toBe(0);
    expect(r.completed).toBe(0);
  });

  it("PoSetPowerState returns the previous state the power manager held for the device (PowerDeviceUnspecified at first)", async () => {
    const r = await machine.exec(async () => {
      const device = await createTestDevice("poset");
      const set = (s: DEVICE_POWER_STATE) => PoSetPowerState(device, POWER_STATE_TYPE.DevicePowerState, new POWER_STATE(s)).DeviceState;
      const returns = [set(DEVICE_POWER_STATE.PowerDeviceD0), set(DEVICE_POWER_STATE.PowerDeviceD3), set(DEVICE_POWER_STATE.PowerDeviceD2), set(DEVICE_POWER_STATE.PowerDeviceD0)];
      return { returns, recorded: PO().devicePowerState(device) };
    });
    expect(r.returns).toEqual([DEVICE_POWER_STATE.PowerDeviceUnspecified, DEVICE_POWER_STATE.PowerDeviceD0, DEVICE_POWER_STATE.PowerDeviceD3, DEVICE_POWER_STATE.PowerDeviceD2]);
    expect(r.recorded).toBe(DEVICE_POWER_STATE.PowerDeviceD0);
  });
});

describe("the PCI bus driver's device power states", () => {
  it("reports power capabilities from PMC: S0 -> D0, sleep states and shutdown -> D3, no D1/D2, no wake, D3Latency 10 ms", async () => {
    const machine = await bootPm();
    const caps = await machine.exec(async () => {
      const pdo = eduExtension(machine).PhysicalDeviceObject;
      const irp = IoAllocateIrp(pdo.StackSize, false)!;
      irp.IoStatus.Status = STATUS_NOT_SUPPORTED;
      const c = new DEVICE_CAPABILITIES();
      const s = IoGetNextIrpStackLocation(irp);
      s.MajorFunction = IRP_MJ_PNP;
      s.MinorFunction = IRP_MN_QUERY_CAPABILITIES;
      s.Parameters.DeviceCapabilities.Capabilities = c;
      await IoCallDriver(pdo, irp);
      IoFreeIrp(irp);
      return c;
    });
    const { PowerDeviceUnspecified: U, PowerDeviceD0: D0, PowerDeviceD3: D3 } = DEVICE_POWER_STATE;
    expect(caps.DeviceState).toEqual([U, D0, D3, D3, D3, D3, D3]);
    expect([caps.DeviceD1, caps.DeviceD2]).toEqual([false, false]);
    expect([caps.WakeFromD0, caps.WakeFromD1, caps.WakeFromD2, caps.WakeFromD3]).toEqual([false, false, false, false]);
    expect(caps.DeviceWake).toBe(U);
    expect(caps.SystemWake).toBe(SYSTEM_POWER_STATE.PowerSystemUnspecified);
    // 100 us units: D3hot to D0 needs 10 ms.
    expect([caps.D1Latency, caps.D2Latency, caps.D3Latency]).toEqual([0, 0, 100]);
  });

  it("in D3 the function stops decoding (BAR reads return all ones); D0 restores it, no sooner than 10 ms after D3hot", async () => {
    const machine = await bootPm();
    const r = await machine.exec(async () => {
      const ext = eduExtension(machine);
      const pdo = ext.PhysicalDeviceObject;
      const before = { id: READ_REGISTER_ULONG(ext.Registers), field: eduPowerStateField() };
      const down = await requestDevicePower(pdo, IRP_MN_SET_POWER, DEVICE_POWER_STATE.PowerDeviceD3);
      const asleep = { id: READ_REGISTER_ULONG(ext.Registers) >>> 0, field: eduPowerStateField(), pdo: PO().devicePowerState(pdo), fdo: PO().devicePowerState(ext.Self) };
      const requestedAt = KeQueryPerformanceCounter().QuadPart;
      const up = await requestDevicePower(pdo, IRP_MN_SET_POWER, DEVICE_POWER_STATE.PowerDeviceD0);
      const awake = { id: READ_REGISTER_ULONG(ext.Registers), field: eduPowerStateField(), pdo: PO().devicePowerState(pdo), fdo: PO().devicePowerState(ext.Self) };
      return { before, down, asleep, up, requestedAt, awake };
    });
    expect(r.before).toEqual({ id: EDU_ID, field: 0 });
    expect(r.down.status).toBe(STATUS_SUCCESS);
    expect(r.asleep).toEqual({ id: 0xFFFFFFFF, field: 3, pdo: DEVICE_POWER_STATE.PowerDeviceD3, fdo: DEVICE_POWER_STATE.PowerDeviceD3 });
    expect(r.up.status).toBe(STATUS_SUCCESS);
    expect(r.up.completedAt - r.requestedAt).toBeGreaterThanOrEqual(TEN_MS_TICKS);
    expect(r.awake).toEqual({ id: EDU_ID, field: 0, pdo: DEVICE_POWER_STATE.PowerDeviceD0, fdo: DEVICE_POWER_STATE.PowerDeviceD0 });
  });

  it("a device query for D1 or D2, which PMC says the function lacks, fails with STATUS_INVALID_DEVICE_STATE; D3 and D0 succeed", async () => {
    const machine = await bootPm();
    const r = await machine.exec(async () => {
      const pdo = eduExtension(machine).PhysicalDeviceObject;
      const out: NTSTATUS[] = [];
      for (const state of [DEVICE_POWER_STATE.PowerDeviceD1, DEVICE_POWER_STATE.PowerDeviceD2, DEVICE_POWER_STATE.PowerDeviceD3, DEVICE_POWER_STATE.PowerDeviceD0]) {
        out.push((await requestDevicePower(pdo, IRP_MN_QUERY_POWER, state)).status);
      }
      return { out, field: eduPowerStateField() };
    });
    expect(r.out).toEqual([STATUS_INVALID_DEVICE_STATE, STATUS_INVALID_DEVICE_STATE, STATUS_SUCCESS, STATUS_SUCCESS]);
    // A query never changes the power state.
    expect(r.field).toBe(0);
  });

  it("a function without the capability keeps decoding: its D3 is only reported", async () => {
    const machine = await boot(MachineClass.fromDescription(defaultDescription()));
    const r = await machine.exec(async () => {
      const ext = eduExtension(machine);
      const down = await requestDevicePower(ext.PhysicalDeviceObject, IRP_MN_SET_POWER, DEVICE_POWER_STATE.PowerDeviceD3);
      const state = PO().devicePowerState(ext.PhysicalDeviceObject);
      const up = await requestDevicePower(ext.PhysicalDeviceObject, IRP_MN_SET_POWER, DEVICE_POWER_STATE.PowerDeviceD0);
      return { down: down.status, state, up: up.status, id: READ_REGISTER_ULONG(ext.Registers) };
    });
    expect(r).toEqual({ down: STATUS_SUCCESS, state: DEVICE_POWER_STATE.PowerDeviceD3, up: STATUS_SUCCESS, id: EDU_ID });
  });
});

describe("system sleep and resume with the edu stack", () => {
  let machine: Machine;
  const log: { path: string; minor: number; state: number; action: number; arrivalStatus: NTSTATUS }[] = [];
  const data = pattern(7, 256);
  beforeAll(async () => {
    machine = await bootPm();
    spyOnSystemIrps(machine, "pci", log);
    spyOnSystemIrps(machine, "edu", log);
  });

  it("sleeps to S3: the device ends in D3 (PMCSR D3hot, no decoding), its DMA buffer saved, requests fail with STATUS_DEVICE_POWERED_OFF; resumes to D0 and its IOCTLs work", async () => {
    const written = await withEdu(machine, (h) => DeviceIoControl(h, IOCTL_EDU_DMA_TO_DEVICE, eduDmaRequest(0, data.length, data), 8 + data.length, null, 0));
    expect(written.ok).toBe(true);

    const asleep = await machine.exec(async () => {
      const ext = eduExtension(machine);
      const status = await PO().setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemSleeping3);
      const edu = PO().powerStates().find((p) => p.node.HardwareIds.includes(EDU_HARDWARE_ID))!;
      return {
        status, system: PO().SystemState, nodeSystem: edu.SystemState, nodeDevice: edu.DeviceState, driverState: ext.DevicePowerState,
        field: eduPowerStateField(), id: READ_REGISTER_ULONG(ext.Registers) >>> 0, saved: ext.SavedBuffer !== 0 ? readBytes(ext.SavedBuffer, data.length) : null,
        ioctl: await eduIdentificationIrp(ext),
      };
    });
    expect(asleep.status).toBe(STATUS_SUCCESS);
    expect(asleep.system).toBe(SYSTEM_POWER_STATE.PowerSystemSleeping3);
    expect(asleep.nodeSystem).toBe(SYSTEM_POWER_STATE.PowerSystemSleeping3);
    expect(asleep.nodeDevice).toBe(DEVICE_POWER_STATE.PowerDeviceD3);
    expect(asleep.driverState).toBe(DEVICE_POWER_STATE.PowerDeviceD3);
    expect(asleep.field).toBe(3);
    expect(asleep.id).toBe(0xFFFFFFFF);
    expect(asleep.saved).toEqual(data);
    expect(asleep.ioctl).toBe(STATUS_DEVICE_POWERED_OFF);

    const awake = await machine.exec(async () => {
      const status = await PO().setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemWorking);
      const edu = PO().powerStates().find((p) => p.node.HardwareIds.includes(EDU_HARDWARE_ID))!;
      return { status, system: PO().SystemState, nodeSystem: edu.SystemState, nodeDevice: edu.DeviceState, field: eduPowerStateField(), saved: eduExtension(machine).SavedBuffer };
    });
    expect(awake).toEqual({ status: STATUS_SUCCESS, system: SYSTEM_POWER_STATE.PowerSystemWorking, nodeSystem: SYSTEM_POWER_STATE.PowerSystemWorking, nodeDevice: DEVICE_POWER_STATE.PowerDeviceD0, field: 0, saved: 0 });

    const after = await withEdu(machine, async (h) => {
      const id = new Uint8Array(4);
      const idResult = await DeviceIoControl(h, IOCTL_EDU_GET_IDENTIFICATION, null, 0, id, 4);
      const fact = new Uint8Array(4);
      const factResult = await DeviceIoControl(h, IOCTL_EDU_COMPUTE_FACTORIAL, u32(5), 4, fact, 4);
      const back = new Uint8Array(data.length);
      const readResult = await DeviceIoControl(h, IOCTL_EDU_DMA_FROM_DEVICE, eduDmaRequest(0, data.length), 8, back, data.length);
      return { id: idResult.ok ? le32(id) : -1, factorial: factResult.ok ? le32(fact) : -1, back: readResult.ok ? back : null };
    });
    expect(after.id).toBe(EDU_ID);
    expect(after.factorial).toBe(120);
    expect(after.back).toEqual(data);
  });

  it("S-IRPs start at STATUS_NOT_SUPPORTED and went children before parents to sleep, parents before children to wake, with the sleep action", () => {
    const bridge = PNP(kernelOf(machine)).root.Child[0].InstancePath;
    const edu = PNP(kernelOf(machine)).root.Child[0].Child[0].InstancePath;
    const sx = SYSTEM_POWER_STATE.PowerSystemSleeping3;
    const s0 = SYSTEM_POWER_STATE.PowerSystemWorking;
    expect(log.map((l) => [l.path, l.minor, l.state])).toEqual([
      [edu, IRP_MN_QUERY_POWER, sx], [bridge, IRP_MN_QUERY_POWER, sx],
      [edu, IRP_MN_SET_POWER, sx], [bridge, IRP_MN_SET_POWER, sx],
      [bridge, IRP_MN_SET_POWER, s0], [edu, IRP_MN_SET_POWER, s0],
    ]);
    expect(new Set(log.map((l) => l.arrivalStatus))).toEqual(new Set([STATUS_NOT_SUPPORTED]));
    expect(new Set(log.map((l) => l.action))).toEqual(new Set([POWER_ACTION.PowerActionSleep]));
  });
});

describe("system power transitions", () => {
  it("refuses what is not a transition: a value that is no system state, S0 to S0, sleep to sleep; nothing is sent", async () => {
    const machine = await bootPm();
    const r = await machine.exec(async () => {
      const po = PO();
      const out = [
        await po.setSystemPowerState(9 as SYSTEM_POWER_STATE), await po.setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemUnspecified),
        await po.setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemWorking),
      ];
      const sentBefore = po.systemIrps.length;
      const sleep = await po.setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemSleeping2);
      const sent = po.systemIrps.length;
      const deeper = await po.setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemHibernate);
      return { out, sentBefore, sleep, deeper, extra: po.systemIrps.length - sent, system: po.SystemState };
    });
    expect(r.out).toEqual([STATUS_INVALID_PARAMETER, STATUS_INVALID_PARAMETER, STATUS_INVALID_DEVICE_STATE]);
    expect(r.sentBefore).toBe(0);
    expect(r.sleep).toBe(STATUS_SUCCESS);
    expect(r.deeper).toBe(STATUS_INVALID_DEVICE_STATE);
    expect(r.extra).toBe(0);
    expect(r.system).toBe(SYSTEM_POWER_STATE.PowerSystemSleeping2);
  });

  it("a driver failing the system query vetoes the sleep: nothing is put to sleep and S0 is reaffirmed", async () => {
    const filterLog: { minor: number; type: number; state: number }[] = [];
    const machine = await bootPm([vetoFilter(filterLog)]);
    const spy: { path: string; minor: number; state: number; action: number; arrivalStatus: NTSTATUS }[] = [];
    spyOnSystemIrps(machine, "pci", spy);
    const r = await machine.exec(async () => {
      const ext = eduExtension(machine);
      const status = await PO().setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemSleeping3);
      return {
        status, system: PO().SystemState, driverState: ext.DevicePowerState, pdoState: PO().devicePowerState(ext.PhysicalDeviceObject),
        field: eduPowerStateField(), id: READ_REGISTER_ULONG(ext.Registers), states: PO().powerStates().map((p) => p.SystemState),
      };
    });
    expect(r.status).toBe(STATUS_UNSUCCESSFUL);
    expect(r.system).toBe(SYSTEM_POWER_STATE.PowerSystemWorking);
    expect(r.driverState).toBe(DEVICE_POWER_STATE.PowerDeviceD0);
    expect(r.pdoState).toBe(DEVICE_POWER_STATE.PowerDeviceD0);
    expect(r.field).toBe(0);
    expect(r.id).toBe(EDU_ID);
    expect(r.states.every((s) => s === SYSTEM_POWER_STATE.PowerSystemWorking)).toBe(true);
    const sys = POWER_STATE_TYPE.SystemPowerState;
    // The edu stack: the query it failed, then S0 reaffirmed; never a set to S3, and no device IRP for D3.
    expect(filterLog.filter((l) => l.type === sys)).toEqual([
      { minor: IRP_MN_QUERY_POWER, type: sys, state: SYSTEM_POWER_STATE.PowerSystemSleeping3 },
      { minor: IRP_MN_SET_POWER, type: sys, state: SYSTEM_POWER_STATE.PowerSystemWorking },
    ]);
    expect(filterLog.some((l) => l.type === POWER_STATE_TYPE.DevicePowerState && l.state === DEVICE_POWER_STATE.PowerDeviceD3)).toBe(false);
    // The host bridge (queried after its child) is never queried once the child vetoed, and is never set to S3.
    expect(spy.map((l) => [l.minor, l.state])).toEqual([[IRP_MN_SET_POWER, SYSTEM_POWER_STATE.PowerSystemWorking]]);
    // The device still works.
    const id = await withEdu(machine, async (h) => {
      const out = new Uint8Array(4);
      return (await DeviceIoControl(h, IOCTL_EDU_GET_IDENTIFICATION, null, 0, out, 4)).ok ? le32(out) : -1;
    });
    expect(id).toBe(EDU_ID);
  });

  it("a request in flight when the system goes to sleep completes on the device before the device leaves D0", async () => {
    const machine = await bootPm();
    const r = await machine.exec(async () => {
      const ext = eduExtension(machine);
      const buffer = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 4, "Test");
      // 10^6 factorial steps at 10 device cycles each: 100 ms on the 100 MHz device.
      writeU32(buffer, 1_000_000);
      const irp = IoAllocateIrp(ext.Self.StackSize, false)!;
      irp.AssociatedIrp.SystemBuffer = buffer;
      const s = IoGetNextIrpStackLocation(irp);
      s.MajorFunction = IRP_MJ_DEVICE_CONTROL;
      s.Parameters.DeviceIoControl.IoControlCode = IOCTL_EDU_COMPUTE_FACTORIAL;
      s.Parameters.DeviceIoControl.InputBufferLength = 4;
      s.Parameters.DeviceIoControl.OutputBufferLength = 4;
      const seen = { status: -1, stateAtCompletion: -1, fieldAtCompletion: -1 };
      IoSetCompletionRoutine(irp, (_d, i) => {
        seen.status = i.IoStatus.Status;
        seen.stateAtCompletion = PO().devicePowerState(ext.PhysicalDeviceObject);
        seen.fieldAtCompletion = eduPowerStateField();
        return STATUS_MORE_PROCESSING_REQUIRED;
      }, null, true, true, true);
      const start = KeQueryPerformanceCounter().QuadPart;
      const returned = await IoCallDriver(ext.Self, irp);
      const status = await PO().setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemSleeping3);
      const elapsed = KeQueryPerformanceCounter().QuadPart - start;
      IoFreeIrp(irp);
      return { returned, status, seen, elapsed, field: eduPowerStateField() };
    });
    expect(r.returned).toBe(STATUS_PENDING);
    expect(r.status).toBe(STATUS_SUCCESS);
    expect(r.seen).toEqual({ status: STATUS_SUCCESS, stateAtCompletion: DEVICE_POWER_STATE.PowerDeviceD0, fieldAtCompletion: 0 });
    expect(r.elapsed).toBeGreaterThanOrEqual(10 * TEN_MS_TICKS);
    expect(r.field).toBe(3);
  });

  it("behind a root port, sleep goes edu, port, host bridge and wake the other way; shutdown ends with every device in D3", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wdmsim-power-"));
    const raw = JSON.parse(readFileSync(join(FIRMWARE_DIR, "machines/default.json"), "utf8"));
    raw.pci = { ...raw.pci, ecam: { base: "0xE0000000", buses: 4 }, slots: [{ address: "00:1c.0", device: "pcie-root-port" }, { address: "01:00.0", device: "edu", behind: "00:1c.0" }] };
    const file = join(dir, "behind-port.json");
    writeFileSync(file, JSON.stringify(raw));
    const d = loadMachine(file);
    d.slots.find((s) => s.deviceFile === "edu")!.spec.pm = { offset: PM_CAP };
    const machine = await boot(MachineClass.fromDescription(d));
    const log: { path: string; minor: number; state: number; action: number; arrivalStatus: NTSTATUS }[] = [];
    spyOnSystemIrps(machine, "pci", log);
    spyOnSystemIrps(machine, "edu", log);
    const deviceIrps: { state: number; action: number }[] = [];
    const eduDriver = IO(kernelOf(machine)).drivers.get("edu")!;
    const eduPower = eduDriver.MajorFunction[IRP_MJ_POWER];
    eduDriver.MajorFunction[IRP_MJ_POWER] = function SpyDeviceIrps(DeviceObject: DEVICE_OBJECT, Irp: IRP) {
      const s = IoGetCurrentIrpStackLocation(Irp);
      if (s.MinorFunction === IRP_MN_SET_POWER && s.Parameters.Power.Type === POWER_STATE_TYPE.DevicePowerState) deviceIrps.push({ state: s.Parameters.Power.State, action: s.Parameters.Power.ShutdownType });
      return eduPower(DeviceObject, Irp);
    };
    const r = await machine.exec(async () => {
      const sleep = await PO().setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemSleeping1);
      const wake = await PO().setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemWorking);
      const shutdown = await PO().setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemShutdown);
      const sent = PO().systemIrps.length;
      const afterShutdown = await PO().setSystemPowerState(SYSTEM_POWER_STATE.PowerSystemWorking);
      const ext = eduExtension(machine);
      return { sleep, wake, shutdown, afterShutdown, sentAfter: PO().systemIrps.length - sent, system: PO().SystemState, eduState: PO().devicePowerState(ext.PhysicalDeviceObject) };
    });
    expect([r.sleep, r.wake, r.shutdown]).toEqual([STATUS_SUCCESS, STATUS_SUCCESS, STATUS_SUCCESS]);
    expect(r.afterShutdown).toBe(STATUS_INVALID_DEVICE_STATE);
    expect(r.sentAfter).toBe(0);
    // The policy owner's device IRPs carry the system transition's action in ShutdownType.
    expect(deviceIrps).toEqual([
      { state: DEVICE_POWER_STATE.PowerDeviceD3, action: POWER_ACTION.PowerActionSleep },
      { state: DEVICE_POWER_STATE.PowerDeviceD0, action: POWER_ACTION.PowerActionSleep },
      { state: DEVICE_POWER_STATE.PowerDeviceD3, action: POWER_ACTION.PowerActionShutdown },
    ]);
    expect(r.system).toBe(SYSTEM_POWER_STATE.PowerSystemShutdown);
    expect(r.eduState).toBe(DEVICE_POWER_STATE.PowerDeviceD3);
    const pnp = PNP(kernelOf(machine));
    const host = pnp.root.Child[0];
    const port = host.Child[0];
    const edu = port.Child[0];
    expect(edu.HardwareIds).toContain(EDU_HARDWARE_ID);
    const sets = (state: number) => log.filter((l) => l.minor === IRP_MN_SET_POWER && l.state === state).map((l) => l.path);
    expect(sets(SYSTEM_POWER_STATE.PowerSystemSleeping1)).toEqual([edu.InstancePath, port.InstancePath, host.InstancePath]);
    expect(sets(SYSTEM_POWER_STATE.PowerSystemWorking)).toEqual([host.InstancePath, port.InstancePath, edu.InstancePath]);
    expect(sets(SYSTEM_POWER_STATE.PowerSystemShutdown)).toEqual([edu.InstancePath, port.InstancePath, host.InstancePath]);
    // Shutdown is queried first too, and carries PowerActionShutdown.
    const shutdownIrps = log.filter((l) => l.state === SYSTEM_POWER_STATE.PowerSystemShutdown);
    expect(shutdownIrps.filter((l) => l.minor === IRP_MN_QUERY_POWER)).toHaveLength(3);
    expect(new Set(shutdownIrps.map((l) => l.action))).toEqual(new Set([POWER_ACTION.PowerActionShutdown]));
  });
});
