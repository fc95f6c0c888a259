// IRPs: stack locations, IoCallDriver, IoCompleteRequest with completion routines, pending
// propagation, the verifier's I/O rules, CTL_CODE and the Parameters union
// (shared/specs/nt-semantics.md: IRPs, Transfer types).
import { MM } from "../../src/mm/manager.js";
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  type Machine, type IRP, type DEVICE_OBJECT, type IO_STACK_LOCATION, type NTSTATUS, type PIO_COMPLETION_ROUTINE,
  IoAllocateIrp, IoCallDriver, IoGetCurrentIrpStackLocation, IoGetNextIrpStackLocation, IoSetCompletionRoutine,
  IoSkipCurrentIrpStackLocation, IoCopyCurrentIrpStackLocationToNext, IoMarkIrpPending, IRP_MJ_DEVICE_CONTROL, IRP_MJ_READ, IRP_MJ_WRITE, IRP_MJ_CREATE, SL_PENDING_RETURNED, SL_INVOKE_ON_SUCCESS, SL_INVOKE_ON_ERROR, SL_INVOKE_ON_CANCEL,
  CTL_CODE, METHOD_BUFFERED, METHOD_IN_DIRECT, METHOD_OUT_DIRECT, METHOD_NEITHER, FILE_ANY_ACCESS, FILE_READ_ACCESS, FILE_WRITE_ACCESS,
  METHOD_FROM_CTL_CODE, DEVICE_TYPE_FROM_CTL_CODE, FILE_DEVICE_UNKNOWN,
  STATUS_SUCCESS, STATUS_PENDING, STATUS_MORE_PROCESSING_REQUIRED, STATUS_INVALID_PARAMETER, STATUS_CANCELLED, STATUS_BUFFER_OVERFLOW,
  STATUS_INSUFFICIENT_RESOURCES, STATUS_DEVICE_BUSY, STATUS_INVALID_DEVICE_REQUEST,
  KeRaiseIrql, DISPATCH_LEVEL, PASSIVE_LEVEL, IoDeleteDevice,
} from "../../src/index.js";
import { bootDefault, buildStack, crash, createTestDevice, expectBugCheck } from "../support/kernel-harness.js";
import { complete, deviceControlIrp, onDeviceControl } from "../support/irp-helpers.js";

const NO_MORE_IRP_STACK_LOCATIONS = 0x35;
const MULTIPLE_IRP_COMPLETE_REQUESTS = 0x44;
const DRIVER_VERIFIER_IOMANAGER_VIOLATION = 0xC9;


/** A dispatch routine that passes the IRP on with a copied location and no completion routine. */
function passDown(lower: DEVICE_OBJECT) {
  return function PassDownDispatch(_d: DEVICE_OBJECT, irp: IRP): NTSTATUS | Promise<NTSTATUS> {
    IoCopyCurrentIrpStackLocationToNext(irp);
    return IoCallDriver(lower, irp);
  };
}



describe("IRP allocation and IoCallDriver", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("IoAllocateIrp(n) gives n stack locations, CurrentLocation == n + 1, and the caller fills the next location", async () => {
    const r = await machine.exec(() => [1, 3, 7].map((n) => {
      const irp = IoAllocateIrp(n, false)!;
      return {
        n, StackCount: irp.StackCount, CurrentLocation: irp.CurrentLocation, locations: irp.Stack.length,
        nextIsLast: IoGetNextIrpStackLocation(irp) === irp.Stack[n - 1], PendingReturned: irp.PendingReturned, Cancel: irp.Cancel,
      };
    }));
    for (const x of r) {
      expect(x).toEqual({ n: x.n, StackCount: x.n, CurrentLocation: x.n + 1, locations: x.n, nextIsLast: true, PendingReturned: false, Cancel: false });
    }
  });

  it("IoCallDriver makes the next location current, stores the device in it, and calls MajorFunction[major]", async () => {
    const r = await machine.exec(async () => {
      const device = await createTestDevice();
      const seen: { location: number; deviceStored: boolean; major: number; code: number; sameLocation: boolean }[] = [];
      const irp = deviceControlIrp(device);
      const prepared = IoGetNextIrpStackLocation(irp);
      onDeviceControl(device, function SeeDispatch(d, i) {
        const s = IoGetCurrentIrpStackLocation(i);
        seen.push({
          location: i.CurrentLocation, deviceStored: s.DeviceObject === d && d === device, major: s.MajorFunction,
          code: s.Parameters.DeviceIoControl.IoControlCode, sameLocation: s === prepared,
        });
        complete(i, STATUS_SUCCESS);
        return STATUS_SUCCESS;
      });
      await IoCallDriver(device, irp);
      return seen;
    });
    expect(r).toEqual([{ location: 1, deviceStored: true, major: IRP_MJ_DEVICE_CONTROL, code: CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS), sameLocation: true }]);
  });

  it("IoCallDriver decrements CurrentLocation once per driver down the stack", async () => {
    const r = await machine.exec(async () => {
      const [top, mid, bottom] = await buildStack(3);
      const locations: number[] = [];
      onDeviceControl(top, (_d, irp) => {
        locations.push(irp.CurrentLocation);
        return passDown(mid)(_d, irp);
      });
      onDeviceControl(mid, (_d, irp) => {
        locations.push(irp.CurrentLocation);
        return passDown(bottom)(_d, irp);
      });
      onDeviceControl(bottom, (_d, irp) => {
        locations.push(irp.CurrentLocation);
        complete(irp, STATUS_SUCCESS);
        return STATUS_SUCCESS;
      });
      const irp = deviceControlIrp(top);
      await IoCallDriver(top, irp);
      return { stackSize: top.StackSize, locations, after: irp.CurrentLocation };
    });
    expect(r).toEqual({ stackSize: 3, locations: [3, 2, 1], after: 4 });
  });

  it("IoCallDriver returns exactly what the dispatch routine returned, whatever IoStatus.Status says", async () => {
    const r = await machine.exec(async () => {
      const device = await createTestDevice();
      const out: NTSTATUS[] = [];
      for (const [returned, stored] of [[STATUS_BUFFER_OVERFLOW, STATUS_SUCCESS], [0x20000001, STATUS_SUCCESS], [STATUS_INVALID_PARAMETER, STATUS_DEVICE_BUSY], [STATUS_SUCCESS, STATUS_INSUFFICIENT_RESOURCES]]) {
        onDeviceControl(device, (_d, irp) => {
          complete(irp, stored);
          return returned;
        });
        out.push(await IoCallDriver(device, deviceControlIrp(device)));
      }
      return out;
    });
    expect(r).toEqual([STATUS_BUFFER_OVERFLOW, 0x20000001, STATUS_INVALID_PARAMETER, STATUS_SUCCESS]);
  });

  it("a major function the driver does not handle is completed by the I/O manager with STATUS_INVALID_DEVICE_REQUEST", async () => {
    const r = await machine.exec(async () => {
      const device = await createTestDevice();
      const irp = IoAllocateIrp(1, false)!;
      IoGetNextIrpStackLocation(irp).MajorFunction = IRP_MJ_READ;
      let completedWith: NTSTATUS | undefined;
      IoSetCompletionRoutine(irp, (_d, i) => {
        completedWith = i.IoStatus.Status;
        return STATUS_SUCCESS;
      }, null, true, true, true);
      const returned = await IoCallDriver(device, irp);
      return { returned, completedWith };
    });
    expect(r).toEqual({ returned: STATUS_INVALID_DEVICE_REQUEST, completedWith: STATUS_INVALID_DEVICE_REQUEST });
  });

  it("IoCallDriver with no stack location left is 0x35 NO_MORE_IRP_STACK_LOCATIONS with P1 = the IRP", async () => {
    let irpAddress = 0;
    const bc = await crash(async () => {
      const [top, bottom] = await buildStack(2);
      // The top driver sends the IRP on without a location for the lower driver.
      onDeviceControl(top, function SendOnDispatch(_d, irp) {
        return IoCallDriver(bottom, irp);
      });
      const irp = deviceControlIrp(top, 1);
      irpAddress = irp.address;
      return IoCallDriver(top, irp);
    });
    expect(irpAddress).not.toBe(0);
    expectBugCheck(bc, NO_MORE_IRP_STACK_LOCATIONS, irpAddress);
    expect(bc.bugCheckName).toBe("NO_MORE_IRP_STACK_LOCATIONS");
  });

  it("an IRP with no stack locations at all cannot be sent: 0x35", async () => {
    let irpAddress = 0;
    const bc = await crash(async () => {
      const device = await createTestDevice();
      const irp = IoAllocateIrp(0, false)!;
      irpAddress = irp.address;
      return IoCallDriver(device, irp);
    });
    expectBugCheck(bc, NO_MORE_IRP_STACK_LOCATIONS, irpAddress);
  });

  // Rule (nt-semantics.md, IRPs: IoCallDriver at 0 locations is 0x35; in C,
  // IoCopyCurrentIrpStackLocationToNext writes without checking and the IoCallDriver that
  // follows stops with 0x35).
  it("a filter that copies its location to a next one that does not exist ends in 0x35 (not 0x1E)", async () => {
    let irpAddress = 0;
    const bc = await crash(async () => {
      const [top, bottom] = await buildStack(2);
      onDeviceControl(top, passDown(bottom));
      const irp = deviceControlIrp(top, 1);
      irpAddress = irp.address;
      return IoCallDriver(top, irp);
    });
    expectBugCheck(bc, NO_MORE_IRP_STACK_LOCATIONS, irpAddress);
  });
});

describe("stack location macros", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("IoSetCompletionRoutine sets the routine, context and invoke flags in the NEXT location", async () => {
    const r = await machine.exec(() => {
      const irp = IoAllocateIrp(2, false)!;
      const routine: PIO_COMPLETION_ROUTINE = () => STATUS_SUCCESS;
      IoSetCompletionRoutine(irp, routine, "ctx", true, false, true);
      const next = IoGetNextIrpStackLocation(irp);
      return { inNext: next.CompletionRoutine === routine, context: next.Context, control: next.Control, other: irp.Stack[0].CompletionRoutine, location: irp.CurrentLocation };
    });
    expect(r).toEqual({ inNext: true, context: "ctx", control: SL_INVOKE_ON_SUCCESS | SL_INVOKE_ON_CANCEL, other: null, location: 3 });
  });

  it("the SL_ control flags have their WDK values", () => {
    expect([SL_PENDING_RETURNED, SL_INVOKE_ON_CANCEL, SL_INVOKE_ON_SUCCESS, SL_INVOKE_ON_ERROR]).toEqual([0x01, 0x20, 0x40, 0x80]);
  });

  it("IoCopyCurrentIrpStackLocationToNext copies the location except the completion routine, its context and the control flags", async () => {
    const r = await machine.exec(async () => {
      const [top] = await buildStack(2);
      let result: Record<string, unknown> = {};
      const fileObject = { name: "file" };
      onDeviceControl(top, function CopyDispatch(_d, irp) {
        const cur = IoGetCurrentIrpStackLocation(irp);
        cur.MinorFunction = 7;
        cur.Flags = 0x5;
        cur.FileObject = fileObject;
        cur.Parameters.DeviceIoControl.OutputBufferLength = 16;
        cur.Parameters.DeviceIoControl.InputBufferLength = 8;
        cur.Parameters.DeviceIoControl.Type3InputBuffer = 0x1234000;
        // Leftovers in the next location that the copy must not keep.
        const next = IoGetNextIrpStackLocation(irp);
        next.CompletionRoutine = () => STATUS_SUCCESS;
        next.Context = "stale";
        next.Control = SL_INVOKE_ON_SUCCESS | SL_PENDING_RETURNED;
        IoCopyCurrentIrpStackLocationToNext(irp);
        result = {
          major: next.MajorFunction, minor: next.MinorFunction, flags: next.Flags, file: next.FileObject === fileObject,
          params: (({ OutputBufferLength, InputBufferLength, IoControlCode, Type3InputBuffer }) => ({ OutputBufferLength, InputBufferLength, IoControlCode, Type3InputBuffer }))(next.Parameters.DeviceIoControl), routine: next.CompletionRoutine, context: next.Context, control: next.Control,
          current: irp.CurrentLocation,
        };
        complete(irp, STATUS_SUCCESS);
        return STATUS_SUCCESS;
      });
      await IoCallDriver(top, deviceControlIrp(top));
      return result;
    });
    expect(r).toEqual({
      major: IRP_MJ_DEVICE_CONTROL, minor: 7, flags: 0x5, file: true,
      params: { OutputBufferLength: 16, InputBufferLength: 8, IoControlCode: CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS), Type3InputBuffer: 0x1234000 },
      routine: null, context: null, control: 0, current: 2,
    });
  });

  it("IoSkipCurrentIrpStackLocation makes the lower driver reuse the current location", async () => {
    const r = await machine.exec(async () => {
      const [top, bottom] = await buildStack(2);
      let upper: IO_STACK_LOCATION | undefined;
      const seen: Record<string, unknown> = {};
      onDeviceControl(top, function SkipDispatch(_d, irp) {
        upper = IoGetCurrentIrpStackLocation(irp);
        seen.upperLocation = irp.CurrentLocation;
        IoSkipCurrentIrpStackLocation(irp);
        return IoCallDriver(bottom, irp);
      });
      onDeviceControl(bottom, function BottomDispatch(d, irp) {
        const s = IoGetCurrentIrpStackLocation(irp);
        seen.lowerLocation = irp.CurrentLocation;
        seen.same = s === upper;
        seen.deviceIsLower = s.DeviceObject === d && d === bottom;
        seen.code = s.Parameters.DeviceIoControl.IoControlCode;
        complete(irp, STATUS_SUCCESS);
        return STATUS_SUCCESS;
      });
      const calls: string[] = [];
      const irp = deviceControlIrp(top);
      IoSetCompletionRoutine(irp, function OriginatorCompletion() {
        calls.push("originator");
        return STATUS_SUCCESS;
      }, null, true, true, true);
      await IoCallDriver(top, irp);
      return { ...seen, calls, completedTo: irp.CurrentLocation };
    });
    expect(r).toEqual({
      upperLocation: 2, lowerLocation: 2, same: true, deviceIsLower: true,
      code: CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS), calls: ["originator"], completedTo: 3,
    });
  });

  it("CTL_CODE(type, function, method, access) == type << 16 | access << 14 | function << 2 | method", () => {
    expect(CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_READ_ACCESS)).toBe(0x226000);
    expect(CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_NEITHER, FILE_ANY_ACCESS)).toBe(0x222007);
    expect(CTL_CODE(0x2D, 0x0400, METHOD_OUT_DIRECT, FILE_READ_ACCESS | FILE_WRITE_ACCESS)).toBe(0x2DD002);
    // Device types from 0x8000 set the top bit: the code is still an unsigned ULONG.
    expect(CTL_CODE(0xFFFF, 0xFFF, METHOD_NEITHER, 3)).toBe(0xFFFFFFFF);
    expect([METHOD_BUFFERED, METHOD_IN_DIRECT, METHOD_OUT_DIRECT, METHOD_NEITHER]).toEqual([0, 1, 2, 3]);
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 0xFFFF }), fc.integer({ min: 0, max: 0xFFF }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }),
      (type, fn, method, access) => {
        const code = CTL_CODE(type, fn, method, access);
        const expected = type * 65536 + access * 16384 + fn * 4 + method;
        return code === expected && METHOD_FROM_CTL_CODE(code) === method && DEVICE_TYPE_FROM_CTL_CODE(code) === type;
      },
    ));
  });

  it("the Parameters union aliases: Read.Length, Write.Length and DeviceIoControl.OutputBufferLength are one slot", async () => {
    const r = await machine.exec(() => {
      const irp = IoAllocateIrp(1, false)!;
      const p = IoGetNextIrpStackLocation(irp).Parameters;
      p.Read.Length = 512;
      const a = { out: p.DeviceIoControl.OutputBufferLength, write: p.Write.Length, arg1: p.Others.Argument1 };
      p.DeviceIoControl.OutputBufferLength = 4096;
      const b = p.Read.Length;
      // Offset 8: Read.Key / DeviceIoControl.InputBufferLength; offset 16: Read.ByteOffset / IoControlCode;
      // offset 24: Type3InputBuffer / Others.Argument4.
      p.Read.Key = 3;
      p.Read.ByteOffset = 0x1000;
      p.DeviceIoControl.Type3InputBuffer = 0xABC000;
      return { a, b, key: p.DeviceIoControl.InputBufferLength, code: p.DeviceIoControl.IoControlCode, arg4: p.Others.Argument4 };
    });
    expect(r).toEqual({ a: { out: 512, write: 512, arg1: 512 }, b: 4096, key: 3, code: 0x1000, arg4: 0xABC000 });
  });

  // Rule (wdm.h IO_STACK_LOCATION, Parameters.Create: USHORT POINTER_ALIGNMENT FileAttributes at
  // offset 16 and USHORT ShareAccess at offset 18 are different fields).
  it("Parameters.Create.FileAttributes and ShareAccess are separate fields", async () => {
    const r = await machine.exec(() => {
      const irp = IoAllocateIrp(1, false)!;
      const s = IoGetNextIrpStackLocation(irp);
      s.MajorFunction = IRP_MJ_CREATE;
      s.Parameters.Create.FileAttributes = 0x80;
      s.Parameters.Create.ShareAccess = 3;
      return { attributes: s.Parameters.Create.FileAttributes, share: s.Parameters.Create.ShareAccess };
    });
    expect(r).toEqual({ attributes: 0x80, share: 3 });
  });

  it("the major function codes used here have their WDK values", () => {
    expect([IRP_MJ_CREATE, IRP_MJ_READ, IRP_MJ_WRITE, IRP_MJ_DEVICE_CONTROL]).toEqual([0x00, 0x03, 0x04, 0x0E]);
  });
});

describe("IoCompleteRequest and completion routines", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("completion routines run bottom-up, each seeing its own location as current and its own device", async () => {
    const r = await machine.exec(async () => {
      const [a, b, c] = await buildStack(3);
      const calls: { who: string; context: unknown; location: number; deviceArg: string; currentDevice: string | null }[] = [];
      const name = (d: DEVICE_OBJECT | null) => (d === a ? "A" : d === b ? "B" : d === c ? "C" : d === null ? "null" : "?");
      const routine = (who: string): PIO_COMPLETION_ROUTINE => (device, irp, context) => {
        const cur = irp.CurrentLocation <= irp.StackCount ? IoGetCurrentIrpStackLocation(irp) : null;
        calls.push({ who, context, location: irp.CurrentLocation, deviceArg: name(device), currentDevice: cur ? name(cur.DeviceObject) : null });
        return STATUS_SUCCESS;
      };
      onDeviceControl(a, (_d, irp) => {
        IoCopyCurrentIrpStackLocationToNext(irp);
        IoSetCompletionRoutine(irp, routine("A"), "ctxA", true, true, true);
        return IoCallDriver(b, irp);
      });
      onDeviceControl(b, (_d, irp) => {
        IoCopyCurrentIrpStackLocationToNext(irp);
        IoSetCompletionRoutine(irp, routine("B"), "ctxB", true, true, true);
        return IoCallDriver(c, irp);
      });
      onDeviceControl(c, (_d, irp) => {
        complete(irp, STATUS_SUCCESS, 4);
        return STATUS_SUCCESS;
      });
      const irp = deviceControlIrp(a);
      IoSetCompletionRoutine(irp, routine("originator"), "ctx0", true, true, true);
      const status = await IoCallDriver(a, irp);
      return { status, calls, information: irp.IoStatus.Information };
    });
    expect(r.status).toBe(STATUS_SUCCESS);
    expect(r.information).toBe(4);
    expect(r.calls).toEqual([
      { who: "B", context: "ctxB", location: 2, deviceArg: "B", currentDevice: "B" },
      { who: "A", context: "ctxA", location: 3, deviceArg: "A", currentDevice: "A" },
      // The originator has no location of its own: no current location and no device.
      { who: "originator", context: "ctx0", location: 4, deviceArg: "null", currentDevice: null },
    ]);
  });

  const conditions: { name: string; status: NTSTATUS; cancel: boolean; flags: [boolean, boolean, boolean]; runs: boolean }[] = [
    { name: "success with InvokeOnSuccess", status: STATUS_SUCCESS, cancel: false, flags: [true, false, false], runs: true },
    { name: "success without InvokeOnSuccess", status: STATUS_SUCCESS, cancel: false, flags: [false, true, true], runs: false },
    { name: "an error with InvokeOnError", status: STATUS_INVALID_PARAMETER, cancel: false, flags: [false, true, false], runs: true },
    { name: "an error without InvokeOnError", status: STATUS_INVALID_PARAMETER, cancel: false, flags: [true, false, true], runs: false },
    { name: "a cancelled IRP with InvokeOnCancel", status: STATUS_CANCELLED, cancel: true, flags: [false, false, true], runs: true },
    { name: "a cancelled IRP with only InvokeOnError", status: STATUS_CANCELLED, cancel: true, flags: [false, true, false], runs: true },
    { name: "an error, not cancelled, with only InvokeOnCancel", status: STATUS_CANCELLED, cancel: false, flags: [false, false, true], runs: false },
    { name: "a cancelled IRP completed with success and InvokeOnCancel", status: STATUS_SUCCESS, cancel: true, flags: [false, false, true], runs: true },
  ];
  for (const c of conditions) {
    it(`a completion routine ${c.runs ? "runs" : "does not run"} for ${c.name}`, async () => {
      const ran = await machine.exec(async () => {
        const device = await createTestDevice();
        onDeviceControl(device, (_d, irp) => {
          irp.Cancel = c.cancel;
          complete(irp, c.status);
          return c.status;
        });
        let called = false;
        const irp = deviceControlIrp(device);
        IoSetCompletionRoutine(irp, () => {
          called = true;
          return STATUS_SUCCESS;
        }, null, ...c.flags);
        await IoCallDriver(device, irp);
        return called;
      });
      expect(ran).toBe(c.runs);
    });
  }

  // Rule (WDK IoSetCompletionRoutine: InvokeOnError is for "a nonsuccess status value",
  // i.e. !NT_SUCCESS; warnings such as STATUS_BUFFER_OVERFLOW (0x80000005) are not success).
  it("a warning status (not NT_SUCCESS) calls a routine set with InvokeOnError", async () => {
    const ran = await machine.exec(async () => {
      const device = await createTestDevice();
      onDeviceControl(device, (_d, irp) => {
        complete(irp, STATUS_BUFFER_OVERFLOW, 8);
        return STATUS_BUFFER_OVERFLOW;
      });
      let called = false;
      const irp = deviceControlIrp(device);
      IoSetCompletionRoutine(irp, () => {
        called = true;
        return STATUS_SUCCESS;
      }, null, true, true, true);
      await IoCallDriver(device, irp);
      return called;
    });
    expect(ran).toBe(true);
  });

  it("STATUS_MORE_PROCESSING_REQUIRED stops the walk; the owner can complete the IRP again later", async () => {
    const r = await machine.exec(async () => {
      const [top, bottom] = await buildStack(2);
      const calls: string[] = [];
      let held: IRP | null = null;
      onDeviceControl(top, (_d, irp) => {
        IoCopyCurrentIrpStackLocationToNext(irp);
        IoSetCompletionRoutine(irp, function TopCompletion(_dev, i) {
          calls.push(`top sees location ${i.CurrentLocation}`);
          held = i;
          return STATUS_MORE_PROCESSING_REQUIRED;
        }, null, true, true, true);
        IoCallDriver(bottom, irp);
        // The IRP is the top driver's again: it completes it itself.
        calls.push("top completes again");
        complete(irp, STATUS_SUCCESS, 42);
        return STATUS_SUCCESS;
      });
      onDeviceControl(bottom, (_d, irp) => {
        complete(irp, STATUS_SUCCESS, 1);
        return STATUS_SUCCESS;
      });
      const irp = deviceControlIrp(top);
      IoSetCompletionRoutine(irp, () => {
        calls.push(`originator sees information ${irp.IoStatus.Information}`);
        return STATUS_SUCCESS;
      }, null, true, true, true);
      const status = await IoCallDriver(top, irp);
      return { status, calls, same: held === irp };
    });
    expect(r.status).toBe(STATUS_SUCCESS);
    expect(r.same).toBe(true);
    expect(r.calls).toEqual(["top sees location 2", "top completes again", "originator sees information 42"]);
  });

  it("completing an IRP twice is 0x44 MULTIPLE_IRP_COMPLETE_REQUESTS with P1 = the IRP", async () => {
    let irpAddress = 0;
    const bc = await crash(async () => {
      const device = await createTestDevice();
      onDeviceControl(device, function DoubleCompleteDispatch(_d, irp) {
        complete(irp, STATUS_SUCCESS);
        complete(irp, STATUS_SUCCESS);
        return STATUS_SUCCESS;
      });
      const irp = deviceControlIrp(device);
      irpAddress = irp.address;
      return IoCallDriver(device, irp);
    });
    expectBugCheck(bc, MULTIPLE_IRP_COMPLETE_REQUESTS, irpAddress);
    expect(bc.bugCheckName).toBe("MULTIPLE_IRP_COMPLETE_REQUESTS");
    expect(bc.context.routine).toBe("DoubleCompleteDispatch");
  });

  it("with no completion routine, the kernel marks the upper location pending when the lower one pended (an upper routine sees PendingReturned)", async () => {
    const r = await machine.exec(async () => {
      const [a, b, c] = await buildStack(3);
      let queued: IRP | null = null;
      const seen: Record<string, unknown> = {};
      onDeviceControl(a, function UpperDispatch(_d, irp) {
        IoCopyCurrentIrpStackLocationToNext(irp);
        IoSetCompletionRoutine(irp, function UpperCompletion(_dev, i) {
          seen.upperSawPendingReturned = i.PendingReturned;
          if (i.PendingReturned) IoMarkIrpPending(i);
          return STATUS_SUCCESS;
        }, null, true, true, true);
        return IoCallDriver(b, irp);
      });
      // The middle driver passes the IRP down with no completion routine and returns what the lower returned.
      onDeviceControl(b, passDown(c));
      onDeviceControl(c, function QueueingDispatch(_d, irp) {
        IoMarkIrpPending(irp);
        queued = irp;
        return STATUS_PENDING;
      });
      const irp = deviceControlIrp(a);
      const returned = await IoCallDriver(a, irp);
      const middleLocation = irp.Stack[1];
      seen.middleMarkedBeforeCompletion = (middleLocation.Control & SL_PENDING_RETURNED) !== 0;
      // Later, the bottom driver finishes the request (as from its DPC).
      complete(queued!, STATUS_SUCCESS);
      seen.returned = returned;
      seen.originatorSeesPendingReturned = irp.PendingReturned;
      return seen;
    });
    expect(r).toEqual({
      returned: STATUS_PENDING,
      middleMarkedBeforeCompletion: false,
      upperSawPendingReturned: true,
      originatorSeesPendingReturned: true,
    });
  });

  it("PendingReturned stays FALSE along a stack that completed synchronously", async () => {
    const r = await machine.exec(async () => {
      const [a, b] = await buildStack(2);
      const seen: boolean[] = [];
      onDeviceControl(a, (_d, irp) => {
        IoCopyCurrentIrpStackLocationToNext(irp);
        IoSetCompletionRoutine(irp, (_dev, i) => {
          seen.push(i.PendingReturned);
          return STATUS_SUCCESS;
        }, null, true, true, true);
        return IoCallDriver(b, irp);
      });
      onDeviceControl(b, (_d, irp) => {
        complete(irp, STATUS_SUCCESS);
        return STATUS_SUCCESS;
      });
      const irp = deviceControlIrp(a);
      await IoCallDriver(a, irp);
      seen.push(irp.PendingReturned);
      return seen;
    });
    expect(r).toEqual([false, false]);
  });
});

describe("Driver Verifier I/O rules", () => {
  it("a dispatch routine that returns at another IRQL is 0xC9 / 0x05 (P2 the device, P3 the IRQL before, P4 after)", async () => {
    let deviceAddress = 0;
    const bc = await crash(async () => {
      const device = await createTestDevice();
      deviceAddress = device.address;
      onDeviceControl(device, function RaisingDispatch(_d, irp) {
        KeRaiseIrql(DISPATCH_LEVEL);
        complete(irp, STATUS_SUCCESS);
        return STATUS_SUCCESS;
      });
      await IoCallDriver(device, deviceControlIrp(device));
    });
    expectBugCheck(bc, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x05, deviceAddress, PASSIVE_LEVEL, DISPATCH_LEVEL);
  });

  it("IoCallDriver above DISPATCH_LEVEL is 0xC9 / 0x10 (P2 the IRQL)", async () => {
    const bc = await crash(async () => {
      const device = await createTestDevice();
      const irp = deviceControlIrp(device);
      KeRaiseIrql(DISPATCH_LEVEL + 1);
      IoCallDriver(device, irp);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x10, DISPATCH_LEVEL + 1);
  });

  it("deleting a device object twice is 0xC9 / 0x240 (P4 the device)", async () => {
    let deviceAddress = 0;
    const bc = await crash(async () => {
      const device = await createTestDevice();
      deviceAddress = device.address;
      IoDeleteDevice(device);
      IoDeleteDevice(device);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x240, undefined, undefined, deviceAddress);
  });

  it("returning STATUS_PENDING without IoMarkIrpPending is 0xC9 / 0x23D (P2 the dispatch routine's code address, P3 IRP, P4 the status), blamed on the routine", async () => {
    let irpAddress = 0;
    let codeAddress = 0;
    const bc = await crash(async () => {
      const device = await createTestDevice();
      codeAddress = MM().codeAddress(device.DriverObject.serviceName, "ForgetfulDispatch");
      let queued: IRP | null = null;
      onDeviceControl(device, function ForgetfulDispatch(_d, irp) {
        queued = irp;
        return STATUS_PENDING;
      });
      const irp = deviceControlIrp(device);
      irpAddress = irp.address;
      await IoCallDriver(device, irp);
      // The rule is checked no later than when the request completes.
      complete(queued!, STATUS_SUCCESS);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x23D, codeAddress, irpAddress, STATUS_PENDING);
    expect(bc.bugCheckName).toBe("DRIVER_VERIFIER_IOMANAGER_VIOLATION");
    expect(bc.context.routine).toBe("ForgetfulDispatch");
  });

  it("marking an IRP pending and returning another status is 0xC9 / 0x23E (P2 the routine's code address, P3 IRP, P4 the status)", async () => {
    let irpAddress = 0;
    let codeAddress = 0;
    const bc = await crash(async () => {
      const device = await createTestDevice();
      codeAddress = MM().codeAddress(device.DriverObject.serviceName, "MarkedButSuccessDispatch");
      onDeviceControl(device, function MarkedButSuccessDispatch(_d, irp) {
        IoMarkIrpPending(irp);
        complete(irp, STATUS_SUCCESS);
        return STATUS_SUCCESS;
      });
      const irp = deviceControlIrp(device);
      irpAddress = irp.address;
      return IoCallDriver(device, irp);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x23E, codeAddress, irpAddress, STATUS_SUCCESS);
    expect(bc.context.routine).toBe("MarkedButSuccessDispatch");
  });

  it("a completion routine that does not propagate PendingReturned is 0xC9 / 0x228 (P3 the IRP, P4 the upper device)", async () => {
    let irpAddress = 0;
    let upperAddress = 0;
    const bc = await crash(async () => {
      const [a, b] = await buildStack(2);
      upperAddress = a.address;
      let queued: IRP | null = null;
      onDeviceControl(a, function UpperDispatch(_d, irp) {
        IoCopyCurrentIrpStackLocationToNext(irp);
        // Forgets `if (Irp->PendingReturned) IoMarkIrpPending(Irp);`.
        IoSetCompletionRoutine(irp, () => STATUS_SUCCESS, null, true, true, true);
        return IoCallDriver(b, irp);
      });
      onDeviceControl(b, (_d, irp) => {
        IoMarkIrpPending(irp);
        queued = irp;
        return STATUS_PENDING;
      });
      const irp = deviceControlIrp(a);
      irpAddress = irp.address;
      await IoCallDriver(a, irp);
      complete(queued!, STATUS_SUCCESS);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x228, undefined, irpAddress, upperAddress);
    expect(bc.parameters[1]).not.toBe(0n);
  });

  it("IoCompleteRequest with STATUS_PENDING is 0xC9 / 0x06 (P2 the status, P3 the IRP)", async () => {
    let irpAddress = 0;
    const bc = await crash(async () => {
      const device = await createTestDevice();
      onDeviceControl(device, function CompletePendingDispatch(_d, irp) {
        IoMarkIrpPending(irp);
        complete(irp, STATUS_PENDING);
        return STATUS_PENDING;
      });
      const irp = deviceControlIrp(device);
      irpAddress = irp.address;
      return IoCallDriver(device, irp);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x06, STATUS_PENDING, irpAddress);
  });

  it("the same driver mistakes pass unnoticed with the verifier off (no 0xC9)", async () => {
    const machine = await bootDefault({ verifier: false });
    const status = await machine.exec(async () => {
      const device = await createTestDevice();
      onDeviceControl(device, (_d, irp) => {
        IoMarkIrpPending(irp);
        complete(irp, STATUS_SUCCESS);
        return STATUS_SUCCESS;
      });
      return IoCallDriver(device, deviceControlIrp(device));
    });
    expect(status).toBe(STATUS_SUCCESS);
  });
});
