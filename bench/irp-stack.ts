/**
 * IRPs per host second through a WDM device stack of four device objects, each of its
 * own driver: an upper filter and a lower filter that pass the IRP down with
 * IoSkipCurrentIrpStackLocation, an FDO that copies its location and sets a completion
 * routine (propagating PendingReturned), and a PDO at the bottom. A kernel thread on CPU 0
 * allocates each IRP (IRP_MJ_DEVICE_CONTROL), sets an originator completion routine that
 * returns STATUS_MORE_PROCESSING_REQUIRED, sends it to the top and frees it. Two kinds:
 *
 * - the PDO completes the IRP in its dispatch routine;
 * - the PDO marks it pending, returns STATUS_PENDING, and completes it from its DPC (queued
 *   at PASSIVE_LEVEL on the same processor, so it runs at DISPATCH_LEVEL before the
 *   dispatch routine returns, and completion routines run at DISPATCH_LEVEL).
 *
 * Baselines for each, measured in the same run: the same IRP, completed the same way, sent
 * to a single device object (what the three upper layers add); and the ideal (bench/
 * ideal.ts): the same four-layer stack in plain TypeScript doing the same work (dispatch,
 * skip and copy, completion routines with PendingReturned propagated, the DPC queue
 * drained), with no simulation around it. Host time covers the loop only; simulated time
 * per IRP is CPU 0's clock across it.
 */
import { IO } from "../src/io/manager.js";
import {
  IoAllocateIrp, IoCallDriver, IoCompleteRequest, IoCopyCurrentIrpStackLocationToNext, IoFreeIrp, IoGetNextIrpStackLocation, IoMarkIrpPending,
  IoSetCompletionRoutine, IoSkipCurrentIrpStackLocation, IO_NO_INCREMENT, IRP_MJ_DEVICE_CONTROL, type IRP, type PDRIVER_DISPATCH,
} from "../src/io/irp.js";
import { DO_DEVICE_INITIALIZING, FILE_DEVICE_UNKNOWN, IoAttachDeviceToDeviceStack, IoCreateDevice, type DEVICE_OBJECT } from "../src/io/objects.js";
import { CTL_CODE, FILE_ANY_ACCESS, METHOD_NEITHER } from "../src/io/ioctl.js";
import { KDPC, KeInitializeDpc, KeInsertQueueDpc } from "../src/ke/dpc.js";
import { STATUS_MORE_PROCESSING_REQUIRED, STATUS_PENDING, STATUS_SUCCESS, type NTSTATUS } from "../src/ke/ntstatus.js";
import { compare, now, row, type Benchmark, type Sample, SimClock } from "./lib.js";
import { bootDefault, cpuTimePs, type BootedMachine } from "./kernel-machine.js";
import { IdealDpcQueue, idealIrpLoop, idealStack } from "./ideal.js";

const IOCTL_BENCH = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x9A0, METHOD_NEITHER, FILE_ANY_ACCESS);

type Completion = "synchronous" | "dpc";

/** Creates a device object of a new driver whose IRP_MJ_DEVICE_CONTROL routine is made by `dispatch` (given the device it will pass to). */
async function layer(service: string, below: DEVICE_OBJECT | null, dispatch: (lower: DEVICE_OBJECT | null) => PDRIVER_DISPATCH): Promise<DEVICE_OBJECT> {
  const { driver } = await IO().loadDriver(service, { DriverEntry: () => STATUS_SUCCESS });
  const { DeviceObject } = IoCreateDevice(driver, {}, null, FILE_DEVICE_UNKNOWN, 0, false);
  const device = DeviceObject!;
  device.Flags &= ~DO_DEVICE_INITIALIZING;
  const lower = below ? IoAttachDeviceToDeviceStack(device, below) : null;
  driver.MajorFunction[IRP_MJ_DEVICE_CONTROL] = dispatch(lower);
  return device;
}

/** A filter's dispatch routine: pass the IRP down untouched. */
function skipDown(lower: DEVICE_OBJECT | null): PDRIVER_DISPATCH {
  return function FilterDispatch(_d, irp) {
    IoSkipCurrentIrpStackLocation(irp);
    return IoCallDriver(lower!, irp);
  };
}

/** The FDO's dispatch routine: copy the location, set a completion routine that propagates pending, pass down. */
function fdoDispatch(lower: DEVICE_OBJECT | null): PDRIVER_DISPATCH {
  return function FdoDispatch(_d, irp) {
    IoCopyCurrentIrpStackLocationToNext(irp);
    IoSetCompletionRoutine(irp, function FdoCompletion(_dev, i) {
      if (i.PendingReturned) IoMarkIrpPending(i);
      return STATUS_SUCCESS;
    }, null, true, true, true);
    return IoCallDriver(lower!, irp);
  };
}

/** The PDO's dispatch routine: complete now, or pend and complete from the device's DPC. */
function pdoDispatch(kind: Completion): (lower: DEVICE_OBJECT | null) => PDRIVER_DISPATCH {
  return () => {
    if (kind === "synchronous") {
      return function PdoDispatch(_d, irp) {
        irp.IoStatus.Status = STATUS_SUCCESS;
        irp.IoStatus.Information = 0;
        IoCompleteRequest(irp, IO_NO_INCREMENT);
        return STATUS_SUCCESS;
      };
    }
    const dpc = new KDPC();
    KeInitializeDpc(dpc, function PdoDpc(_dpc, _context, argument) {
      const irp = argument as IRP;
      irp.IoStatus.Status = STATUS_SUCCESS;
      irp.IoStatus.Information = 0;
      IoCompleteRequest(irp, IO_NO_INCREMENT);
    }, null);
    return function PdoPendingDispatch(_d, irp) {
      IoMarkIrpPending(irp);
      KeInsertQueueDpc(dpc, irp, null);
      return STATUS_PENDING;
    };
  };
}

/** The top of a four-device stack (upper filter, FDO, lower filter, PDO). */
async function stack(kind: Completion, prefix: string): Promise<DEVICE_OBJECT> {
  const pdo = await layer(`${prefix}pdo`, null, pdoDispatch(kind));
  const lowerFilter = await layer(`${prefix}lowf`, pdo, skipDown);
  const fdo = await layer(`${prefix}fdo`, lowerFilter, fdoDispatch);
  return layer(`${prefix}upf`, fdo, skipDown);
}

function OriginatorCompletion(): NTSTATUS {
  return STATUS_MORE_PROCESSING_REQUIRED;
}

/** A sample: a kernel thread on CPU 0 sending `count` IRPs to `top` and freeing each. */
function irpLoop(m: BootedMachine, top: DEVICE_OBJECT, expected: NTSTATUS, count: number, sim: SimClock): Sample {
  return async () => {
    const r = await m.machine.exec(() => {
      let bad = 0;
      const s0 = cpuTimePs();
      const t0 = now();
      for (let i = 0; i < count; i++) {
        const irp = IoAllocateIrp(top.StackSize, false)!;
        const next = IoGetNextIrpStackLocation(irp);
        next.MajorFunction = IRP_MJ_DEVICE_CONTROL;
        next.Parameters.DeviceIoControl.IoControlCode = IOCTL_BENCH;
        IoSetCompletionRoutine(irp, OriginatorCompletion, null, true, true, true);
        const status = IoCallDriver(top, irp);
        if (status !== expected || irp.IoStatus.Status !== STATUS_SUCCESS || irp.PendingReturned !== (expected === STATUS_PENDING)) bad++;
        IoFreeIrp(irp);
      }
      const ms = now() - t0;
      if (bad) throw new Error(`${bad} of ${count} IRPs did not complete as expected`);
      return { ms, ps: cpuTimePs() - s0 };
    }, { cpu: 0, name: "bench-irp" });
    sim.add(r.ps, count);
    return { units: count, ms: r.ms };
  };
}

/** A sample: the ideal stack doing the same `count` IRPs. */
function idealLoop(pend: boolean, count: number): Sample {
  const dpcs = new IdealDpcQueue();
  const top = idealStack(pend, dpcs);
  return () => {
    const t0 = now();
    const bad = idealIrpLoop(top, dpcs, pend ? STATUS_PENDING : STATUS_SUCCESS, IOCTL_BENCH, count);
    const ms = now() - t0;
    if (bad) throw new Error(`${bad} of ${count} IRPs through the ideal stack did not complete as expected`);
    return { units: count, ms };
  };
}

export const irpStack: Benchmark = {
  name: "irp-stack",
  description: "IRPs through a 4-device WDM stack (filters, FDO, PDO), completed synchronously and from a DPC",
  async run(options) {
    const count = Math.max(2000, Math.round(100_000 * options.scale));
    const m = await bootDefault();
    const tops = await m.machine.exec(async () => ({
      syncStack: await stack("synchronous", "bs"),
      syncSingle: await layer("bssingle", null, pdoDispatch("synchronous")),
      dpcStack: await stack("dpc", "bd"),
      dpcSingle: await layer("bdsingle", null, pdoDispatch("dpc")),
    }));

    const syncSim = new SimClock();
    const syncBase = new SimClock();
    const sync = await compare(options.repeats,
      irpLoop(m, tops.syncStack, STATUS_SUCCESS, count, syncSim),
      irpLoop(m, tops.syncSingle, STATUS_SUCCESS, count, syncBase));
    const dpcSim = new SimClock();
    const dpcBase = new SimClock();
    const dpc = await compare(options.repeats,
      irpLoop(m, tops.dpcStack, STATUS_PENDING, count, dpcSim),
      irpLoop(m, tops.dpcSingle, STATUS_PENDING, count, dpcBase));
    const syncIdeal = await compare(options.repeats, irpLoop(m, tops.syncStack, STATUS_SUCCESS, count, new SimClock()), idealLoop(false, count * 10));
    const dpcIdeal = await compare(options.repeats, irpLoop(m, tops.dpcStack, STATUS_PENDING, count, new SimClock()), idealLoop(true, count * 10));
    return [
      row("IRP through 4 device objects, completed synchronously, against the ideal", "IRPs/s",
        "the ideal: the same 4-layer stack in plain TypeScript, same work", syncIdeal, { irpsPerRepeat: count, idealIrpsPerRepeat: count * 10 }),
      row("IRP through 4 device objects, completed from the PDO's DPC, against the ideal", "IRPs/s",
        "the ideal: the same pending 4-layer stack in plain TypeScript, DPC queue drained", dpcIdeal, { irpsPerRepeat: count, idealIrpsPerRepeat: count * 10 }),
      row("IRP through 4 device objects (skip, completion routine, skip), PDO completes synchronously", "IRPs/s",
        "the same IRP to a single device object, completed synchronously", sync, {
          irpsPerRepeat: count, simulatedNsPerIrp: syncSim.nsPerOp, baselineSimulatedNsPerIrp: syncBase.nsPerOp,
        }, { op: "IRP", ns: syncSim.nsPerOp, unitsPerOp: 1 }),
      row("IRP through 4 device objects, PDO pends it and completes it from its DPC", "IRPs/s",
        "the same pended IRP to a single device object, completed from its DPC", dpc, {
          irpsPerRepeat: count, simulatedNsPerIrp: dpcSim.nsPerOp, baselineSimulatedNsPerIrp: dpcBase.nsPerOp,
        }, { op: "IRP", ns: dpcSim.nsPerOp, unitsPerOp: 1 }),
    ];
  },
};
