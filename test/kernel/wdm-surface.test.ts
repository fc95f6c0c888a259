// The driver-facing entry point: what wdm.h holds, with C enumeration members bare.
import { describe, expect, it } from "vitest";
import * as wdm from "../../src/wdm.js";
import * as root from "../../src/index.js";

describe("wdmsim/wdm", () => {
  it("exports enumeration members bare, equal to their enum's", () => {
    expect([wdm.NonPagedPool, wdm.NonPagedPoolNx, wdm.PagedPool]).toEqual([wdm.POOL_TYPE.NonPagedPool, wdm.POOL_TYPE.NonPagedPoolNx, wdm.POOL_TYPE.PagedPool]);
    expect([wdm.KernelMode, wdm.UserMode, wdm.Executive]).toEqual([0, 1, 0]);
    expect([wdm.NotificationEvent, wdm.SynchronizationEvent]).toEqual([0, 1]);
    expect([wdm.IoReadAccess, wdm.IoWriteAccess, wdm.IoModifyAccess]).toEqual([0, 1, 2]);
    expect([wdm.MmNonCached, wdm.MmCached, wdm.MmWriteCombined]).toEqual([0, 1, 2]);
    expect([wdm.WaitAll, wdm.WaitAny]).toEqual([0, 1]);
    expect(wdm.DelayedWorkQueue).toBe(1);
  });

  it("holds the kernel routines and not the machine's tools, which the package root adds", () => {
    for (const name of ["IoCallDriver", "KeAcquireSpinLock", "ExAllocatePool2", "RtlInitUnicodeString", "DbgPrintEx", "ZwLoadDriver", "IoCheckFunctionAccess"]) {
      expect(typeof (wdm as Record<string, unknown>)[name]).toBe("function");
    }
    expect("Machine" in wdm).toBe(false);
    expect("boot" in wdm).toBe(false);
    expect(root.IoCallDriver).toBe(wdm.IoCallDriver);
    expect(typeof root.Machine).toBe("function");
  });
});
