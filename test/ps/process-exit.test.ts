// A user process ending: the handles its program left open are closed as if it had closed them
// (the driver gets IRP_MJ_CLEANUP and IRP_MJ_CLOSE), named objects it alone held lose their names,
// and its main thread's object is signalled.
import { describe, expect, it } from "vitest";
import {
  type DEVICE_OBJECT, type IRP, type ETHREAD, type FILE_OBJECT, IoCreateDevice, IoCreateSymbolicLink, IoCompleteRequest, IoGetCurrentIrpStackLocation,
  IRP_MJ_CREATE, IRP_MJ_CLEANUP, IRP_MJ_CLOSE, IO_NO_INCREMENT, FILE_DEVICE_UNKNOWN, STATUS_SUCCESS, CreateFile, CreateEvent, GENERIC_READ,
  OPEN_EXISTING, PsGetCurrentThread, ObReferenceObject, ObDereferenceObject, ObReferenceObjectByName, KPROCESSOR_MODE, STATUS_OBJECT_NAME_NOT_FOUND,
} from "../../src/index.js";
import { bootDefault, createTestDriver } from "../support/kernel-harness.js";

describe("process exit", () => {
  it("closes the handles the program left open: IRP_MJ_CLEANUP and IRP_MJ_CLOSE reach the driver, a named event loses its name, the main thread is signalled", async () => {
    const machine = await bootDefault();
    const log: string[] = [];
    await machine.exec(async () => {
      const driver = await createTestDriver("exitdrv");
      const record = (what: string) => (_d: DEVICE_OBJECT, irp: IRP) => {
        log.push(`${what}${(IoGetCurrentIrpStackLocation(irp).FileObject as FILE_OBJECT).FileName}`);
        irp.IoStatus.Status = STATUS_SUCCESS;
        IoCompleteRequest(irp, IO_NO_INCREMENT);
        return STATUS_SUCCESS;
      };
      driver.MajorFunction[IRP_MJ_CREATE] = record("create");
      driver.MajorFunction[IRP_MJ_CLEANUP] = record("cleanup");
      driver.MajorFunction[IRP_MJ_CLOSE] = record("close");
      const { DeviceObject } = IoCreateDevice(driver, {}, "\\Device\\ExitTest", FILE_DEVICE_UNKNOWN, 0, false);
      DeviceObject!.Flags &= ~0x80;
      IoCreateSymbolicLink("\\DosDevices\\ExitTest", "\\Device\\ExitTest");
    });
    let main: ETHREAD | null = null;
    await machine.runProgram("leaky", async () => {
      await CreateFile("\\\\.\\ExitTest\\a", GENERIC_READ, 0, null, OPEN_EXISTING, 0, null);
      CreateEvent(null, true, false, "ExitTestEvent");
      main = PsGetCurrentThread();
      ObReferenceObject(main!);
      return log.length;
    });
    const after = await machine.exec(() => {
      const status = ObReferenceObjectByName("\\BaseNamedObjects\\ExitTestEvent", 0, null, 0, null, KPROCESSOR_MODE.KernelMode, null).status;
      const signalled = main!.Header.SignalState;
      ObDereferenceObject(main!);
      return { status, signalled };
    });
    expect(log).toEqual(["create\\a", "cleanup\\a", "close\\a"]);
    expect(after).toEqual({ status: STATUS_OBJECT_NAME_NOT_FOUND, signalled: 1 });
  });
});
