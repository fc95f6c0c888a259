// Associated IRPs (WDK IoMakeAssociatedIrp, IoFreeIrp; "Allocating IRPs for Lower-Level
// Drivers"): a highest-level driver splits a master IRP; the I/O manager frees each
// associated IRP when it completes and completes the master when the last one has.
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, type IRP, type DEVICE_OBJECT, type NTSTATUS, type MDL,
  IoMakeAssociatedIrp, IoAllocateIrp, IoAllocateMdl, IoCallDriver, IoFreeIrp, IoGetNextIrpStackLocation, IoMarkIrpPending,
  IoSetCompletionRoutine, IoSetNextIrpStackLocation, MmProbeAndLockPages, ExAllocatePoolWithTag, poolUsed, KeInitializeDpc, KeInsertQueueDpc, KDPC,
  IRP_ASSOCIATED_IRP, IRP_MJ_READ, POOL_TYPE, KPROCESSOR_MODE, LOCK_OPERATION, MDL_PAGES_LOCKED,
  STATUS_SUCCESS, STATUS_PENDING, STATUS_MORE_PROCESSING_REQUIRED,
} from "../../src/index.js";
import { IO } from "../../src/io/manager.js";
import { bootDefault, buildStack, createTestDevice } from "../support/kernel-harness.js";
import { complete } from "../support/irp-helpers.js";

function readIrp(device: DEVICE_OBJECT): IRP {
  const irp = IoAllocateIrp(device.StackSize, false)!;
  IoGetNextIrpStackLocation(irp).MajorFunction = IRP_MJ_READ;
  return irp;
}

/** A lower device that holds the IRPs it gets until the test completes them. */
async function holdingDevice(): Promise<{ device: DEVICE_OBJECT; held: IRP[] }> {
  const device = await createTestDevice("lower");
  const held: IRP[] = [];
  device.DriverObject.MajorFunction[IRP_MJ_READ] = function HoldDispatch(_d, irp) {
    IoMarkIrpPending(irp);
    held.push(irp);
    return STATUS_PENDING;
  };
  return { device, held };
}


describe("IoMakeAssociatedIrp", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("allocates an IRP with StackSize locations, no current location, IRP_ASSOCIATED_IRP set and AssociatedIrp.MasterIrp = the master", async () => {
    const r = await machine.exec(async () => {
      const master = IoAllocateIrp(1, false)!;
      const associated = IoMakeAssociatedIrp(master, 3)!;
      return {
        stackCount: associated.StackCount, location: associated.CurrentLocation, flag: (associated.Flags & IRP_ASSOCIATED_IRP) !== 0,
        master: associated.AssociatedIrp.MasterIrp === master, masterFlag: (master.Flags & IRP_ASSOCIATED_IRP) !== 0,
      };
    });
    expect(r).toEqual({ stackCount: 3, location: 4, flag: true, master: true, masterFlag: false });
  });

  it("the master completes when its last associated IRP completes, not before; each associated IRP is freed as it completes", async () => {
    const r = await machine.exec(async () => {
      const { device: lower, held } = await holdingDevice();
      const fsd = await createTestDevice("fsd");
      const associated: IRP[] = [];
      fsd.DriverObject.MajorFunction[IRP_MJ_READ] = function SplitDispatch(_d, master) {
        IoMarkIrpPending(master);
        master.IoStatus.Status = STATUS_SUCCESS;
        master.IoStatus.Information = 3 * 512;
        master.AssociatedIrp.IrpCount = 3;
        for (let i = 0; i < 3; i++) {
          const a = IoMakeAssociatedIrp(master, lower.StackSize)!;
          IoGetNextIrpStackLocation(a).MajorFunction = IRP_MJ_READ;
          associated.push(a);
          IoCallDriver(lower, a);
        }
        return STATUS_PENDING;
      };
      const master = readIrp(fsd);
      const masterCompletions: NTSTATUS[] = [];
      IoSetCompletionRoutine(master, (_d, irp) => {
        masterCompletions.push(irp.IoStatus.Status);
        return STATUS_MORE_PROCESSING_REQUIRED;
      }, null, true, true, true);
      const returned = await IoCallDriver(fsd, master);
      const steps: { count: number; masterDone: number; freed: boolean }[] = [];
      for (const a of held) {
        complete(a, STATUS_SUCCESS, 512);
        steps.push({ count: master.AssociatedIrp.IrpCount, masterDone: masterCompletions.length, freed: !IO().irps.has(a) });
      }
      return { returned, steps, masterCompletions, information: master.IoStatus.Information, allAssociated: associated.length === held.length };
    });
    expect(r).toEqual({
      returned: STATUS_PENDING,
      steps: [{ count: 2, masterDone: 0, freed: true }, { count: 1, masterDone: 0, freed: true }, { count: 0, masterDone: 1, freed: true }],
      masterCompletions: [STATUS_SUCCESS], information: 1536, allAssociated: true,
    });
  });

  it("the I/O manager unlocks and frees the associated IRP's MDLs when it frees the IRP", async () => {
    const r = await machine.exec(async () => {
      const { device: lower, held } = await holdingDevice();
      const master = IoAllocateIrp(1, false)!;
      master.AssociatedIrp.IrpCount = 1;
      IoSetCompletionRoutine(master, () => STATUS_MORE_PROCESSING_REQUIRED, null, true, true, true);
      IoGetNextIrpStackLocation(master).MajorFunction = IRP_MJ_READ;
      const buffer = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 8192, "Test");
      const mdlBytes = poolUsed().find((u) => u.tag === "Mdl ")?.nonPaged.bytes ?? 0;
      const a = IoMakeAssociatedIrp(master, lower.StackSize)!;
      IoGetNextIrpStackLocation(a).MajorFunction = IRP_MJ_READ;
      const mdl = IoAllocateMdl(buffer, 8192, false, false, a)!;
      MmProbeAndLockPages(mdl, KPROCESSOR_MODE.KernelMode, LOCK_OPERATION.IoWriteAccess);
      await IoCallDriver(lower, a);
      complete(held[0], STATUS_SUCCESS, 8192);
      return {
        unlocked: ((mdl as MDL).MdlFlags & MDL_PAGES_LOCKED) === 0,
        mdlFreed: (poolUsed().find((u) => u.tag === "Mdl ")?.nonPaged.bytes ?? 0) === mdlBytes,
        irpFreed: !IO().irps.has(a), masterCount: master.AssociatedIrp.IrpCount,
      };
    });
    expect(r).toEqual({ unlocked: true, mdlFreed: true, irpFreed: true, masterCount: 0 });
  });

  it("a completion routine on an associated IRP that returns STATUS_SUCCESS runs, and then the I/O manager frees the IRP and counts it off", async () => {
    const r = await machine.exec(async () => {
      const { device: lower, held } = await holdingDevice();
      const master = IoAllocateIrp(1, false)!;
      master.AssociatedIrp.IrpCount = 2;
      const a = IoMakeAssociatedIrp(master, lower.StackSize)!;
      const calls: string[] = [];
      IoGetNextIrpStackLocation(a).MajorFunction = IRP_MJ_READ;
      IoSetCompletionRoutine(a, (_d, irp) => {
        calls.push(`routine, still live: ${IO().irps.has(irp)}`);
        return STATUS_SUCCESS;
      }, null, true, true, true);
      await IoCallDriver(lower, a);
      complete(held[0], STATUS_SUCCESS);
      return { calls, freed: !IO().irps.has(a), count: master.AssociatedIrp.IrpCount };
    });
    expect(r).toEqual({ calls: ["routine, still live: true"], freed: true, count: 1 });
  });

  it("an associated IRP's completion routine returning STATUS_MORE_PROCESSING_REQUIRED keeps the I/O manager out: not freed, not counted off; the driver frees it (IoFreeIrp) and completes the master itself", async () => {
    const r = await machine.exec(async () => {
      const { device: lower, held } = await holdingDevice();
      const master = IoAllocateIrp(1, false)!;
      master.AssociatedIrp.IrpCount = 1;
      IoGetNextIrpStackLocation(master).MajorFunction = IRP_MJ_READ;
      let masterDone = 0;
      IoSetCompletionRoutine(master, () => {
        masterDone++;
        return STATUS_MORE_PROCESSING_REQUIRED;
      }, null, true, true, true);
      // The master is at the splitting driver's location, as in its dispatch routine.
      IoSetNextIrpStackLocation(master);
      const a = IoMakeAssociatedIrp(master, lower.StackSize)!;
      IoGetNextIrpStackLocation(a).MajorFunction = IRP_MJ_READ;
      let taken: IRP | null = null;
      IoSetCompletionRoutine(a, (_d, irp) => {
        taken = irp;
        return STATUS_MORE_PROCESSING_REQUIRED;
      }, null, true, true, true);
      await IoCallDriver(lower, a);
      complete(held[0], STATUS_SUCCESS);
      const after = { live: IO().irps.has(a), count: master.AssociatedIrp.IrpCount, masterDone };
      IoFreeIrp(taken!);
      complete(master, STATUS_SUCCESS);
      return { after, freed: !IO().irps.has(a), masterDone };
    });
    expect(r).toEqual({ after: { live: true, count: 1, masterDone: 0 }, freed: true, masterDone: 1 });
  });

  it("associated IRPs completed from a DPC complete a pended master down a stack: the originator sees PendingReturned and the master's status", async () => {
    const r = await machine.exec(async () => {
      const [top, bottom] = await buildStack(2, "split");
      const dpc = new KDPC();
      const pendingLower: IRP[] = [];
      KeInitializeDpc(dpc, function FinishDpc() {
        for (const irp of pendingLower.splice(0)) complete(irp, STATUS_SUCCESS, 256);
      }, null);
      bottom.DriverObject.MajorFunction[IRP_MJ_READ] = function LowerDispatch(_d, irp) {
        IoMarkIrpPending(irp);
        pendingLower.push(irp);
        return STATUS_PENDING;
      };
      top.DriverObject.MajorFunction[IRP_MJ_READ] = function SplitDispatch(_d, master) {
        IoMarkIrpPending(master);
        master.IoStatus.Status = STATUS_SUCCESS;
        master.IoStatus.Information = 512;
        master.AssociatedIrp.IrpCount = 2;
        for (let i = 0; i < 2; i++) {
          const a = IoMakeAssociatedIrp(master, bottom.StackSize)!;
          IoGetNextIrpStackLocation(a).MajorFunction = IRP_MJ_READ;
          IoCallDriver(bottom, a);
        }
        KeInsertQueueDpc(dpc, null, null);
        return STATUS_PENDING;
      };
      const master = readIrp(top);
      let seen: { pending: boolean; status: NTSTATUS; information: number } | null = null;
      IoSetCompletionRoutine(master, (_d, irp) => {
        seen = { pending: irp.PendingReturned, status: irp.IoStatus.Status, information: irp.IoStatus.Information };
        return STATUS_MORE_PROCESSING_REQUIRED;
      }, null, true, true, true);
      const returned = await IoCallDriver(top, master);
      return { returned, seen };
    });
    expect(r).toEqual({ returned: STATUS_PENDING, seen: { pending: true, status: STATUS_SUCCESS, information: 512 } });
  });
});
