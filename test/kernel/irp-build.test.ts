// IRPs the I/O manager builds for drivers: IoBuildSynchronousFsdRequest,
// IoBuildAsynchronousFsdRequest, IoBuildDeviceIoControlRequest and IoReuseIrp (WDK reference
// pages; "Buffer Descriptions for I/O Control Codes"; "How Completion Processing Is
// Performed"; nt-semantics.md, Transfer types).
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, type IRP, type DEVICE_OBJECT, type NTSTATUS, type MDL,
  IoBuildSynchronousFsdRequest, IoBuildAsynchronousFsdRequest, IoBuildDeviceIoControlRequest, IoReuseIrp,
  IoCallDriver, IoCompleteRequest, IoGetCurrentIrpStackLocation, IoGetNextIrpStackLocation, IoMarkIrpPending, IoSetCompletionRoutine,
  IoFreeIrp, IoFreeMdl, MmUnlockPages, MmGetSystemAddressForMdlSafe, MmGetMdlVirtualAddress, MmGetMdlByteCount, MmIsAddressValid, MmTrimPageable,
  ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE, readBytes, writeBytes, poolUsed, KeGetCurrentThread, KeWaitForSingleObject,
  KeInitializeTimer, KeSetTimer, KTIMER, KDPC, KeInitializeDpc, KeRaiseIrql, KeLowerIrql, KeSetEvent, IoAllocateIrp, IoSetCancelRoutine,
  IO_STATUS_BLOCK, IO_NO_INCREMENT, KPROCESSOR_MODE, KWAIT_REASON, MM_PAGE_PRIORITY,
  IRP_MJ_READ, IRP_MJ_WRITE, IRP_MJ_FLUSH_BUFFERS, IRP_MJ_DEVICE_CONTROL, IRP_MJ_INTERNAL_DEVICE_CONTROL,
  IRP_BUFFERED_IO, IRP_DEALLOCATE_BUFFER, IRP_INPUT_OPERATION, DO_BUFFERED_IO, DO_DIRECT_IO, FILE_DEVICE_UNKNOWN,
  MDL_PAGES_LOCKED, MDL_WRITE_OPERATION, CTL_CODE, METHOD_BUFFERED, METHOD_IN_DIRECT, METHOD_OUT_DIRECT, METHOD_NEITHER, FILE_ANY_ACCESS,
  STATUS_SUCCESS, STATUS_PENDING, STATUS_MORE_PROCESSING_REQUIRED, STATUS_DEVICE_NOT_READY, STATUS_NOT_SUPPORTED, DISPATCH_LEVEL,
} from "../../src/index.js";
import { IO } from "../../src/io/manager.js";
import { MM } from "../../src/mm/manager.js";
import { bootDefault, buildStack, crash, createTestDevice, expectBugCheck, notificationEvent, sleep100ns } from "../support/kernel-harness.js";

const DRIVER_VERIFIER_DETECTED_VIOLATION = 0xC4;
const LENGTH = 6000;

/** The bytes a test device produces for a read of `n` bytes. */
function pattern(n: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xFF);
}

/** True if two byte arrays are equal. */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Nonpaged buffer of `n` bytes filled with `fill`. */
function nonPaged(n: number, fill = 0xEE): number {
  const va = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, n, "Test");
  writeBytes(va, new Uint8Array(n).fill(fill));
  return va;
}

/** Bytes in use under a pool tag, nonpaged. */
function poolBytes(tag: string): number {
  return poolUsed().find((u) => u.tag === tag)?.nonPaged.bytes ?? 0;
}

/** Where a driver finds the data of the IRP it got: the MDL's system address, the system buffer, or the user buffer. */
function dataAddress(irp: IRP): number {
  if (irp.MdlAddress) return MmGetSystemAddressForMdlSafe(irp.MdlAddress as MDL, MM_PAGE_PRIORITY.NormalPagePriority);
  return irp.AssociatedIrp.SystemBuffer || irp.UserBuffer;
}

type Finish = "now" | "timer";

/**
 * A device for reads, writes and IOCTLs: a read (or an IOCTL with output) fills
 * `Information` bytes with pattern(); a write records what it was given. `finish`: complete
 * in the dispatch routine, or pend and complete from a timer's DPC 1 ms later.
 */
async function transferDevice(flags: number, finish: Finish, result: { status: NTSTATUS; information?: number } = { status: STATUS_SUCCESS }) {
  const device = await createTestDevice("build");
  device.Flags |= flags;
  const written: Uint8Array[] = [];
  const timer = new KTIMER();
  KeInitializeTimer(timer);
  const dpc = new KDPC();
  let queued: IRP | null = null;
  const state: { beforeCompletion?: () => void } = {};
  const done = (irp: IRP) => {
    const s = IoGetCurrentIrpStackLocation(irp);
    const length = s.MajorFunction === IRP_MJ_READ || s.MajorFunction === IRP_MJ_WRITE ? s.Parameters.Read.Length : s.Parameters.DeviceIoControl.OutputBufferLength;
    const information = result.information ?? length;
    if (s.MajorFunction === IRP_MJ_WRITE) written.push(readBytes(dataAddress(irp), length));
    else if (information > 0) writeBytes(dataAddress(irp), pattern(information));
    state.beforeCompletion?.();
    irp.IoStatus.Status = result.status;
    irp.IoStatus.Information = information;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
  };
  KeInitializeDpc(dpc, function TimerDpc() {
    const irp = queued!;
    queued = null;
    done(irp);
  }, null);
  const dispatch = function TransferDispatch(_d: DEVICE_OBJECT, irp: IRP): NTSTATUS {
    if (finish === "now") {
      done(irp);
      return result.status;
    }
    IoMarkIrpPending(irp);
    queued = irp;
    KeSetTimer(timer, -10_000, dpc);
    return STATUS_PENDING;
  };
  for (const major of [IRP_MJ_READ, IRP_MJ_WRITE, IRP_MJ_FLUSH_BUFFERS, IRP_MJ_DEVICE_CONTROL, IRP_MJ_INTERNAL_DEVICE_CONTROL]) device.DriverObject.MajorFunction[major] = dispatch;
  return { device, written, state };
}

/** Sends `irp` and, if it pends, waits for `event` as the WDK tells callers of the synchronous builders to. */
async function sendAndWait(device: DEVICE_OBJECT, irp: IRP, event: ReturnType<typeof notificationEvent>): Promise<NTSTATUS> {
  const status = await IoCallDriver(device, irp);
  if (status === STATUS_PENDING) await KeWaitForSingleObject(event, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
  return status;
}

const IOCTL_BUFFERED = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS);
const IOCTL_IN_DIRECT = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x901, METHOD_IN_DIRECT, FILE_ANY_ACCESS);
const IOCTL_OUT_DIRECT = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x902, METHOD_OUT_DIRECT, FILE_ANY_ACCESS);
const IOCTL_NEITHER = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x903, METHOD_NEITHER, FILE_ANY_ACCESS);

describe("IoBuildSynchronousFsdRequest: the IRP it builds", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("sets up the next stack location for the target device's stack, owned by the calling thread in kernel mode", async () => {
    const r = await machine.exec(async () => {
      const [top] = await buildStack(2, "fsd");
      const buffer = nonPaged(512);
      const event = notificationEvent();
      const iosb = new IO_STATUS_BLOCK();
      const irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, top, buffer, 512, 0x2000, event, iosb)!;
      const s = IoGetNextIrpStackLocation(irp);
      const out = {
        stackCount: irp.StackCount, currentLocation: irp.CurrentLocation, major: s.MajorFunction, length: s.Parameters.Read.Length,
        offset: s.Parameters.Read.ByteOffset, mode: irp.RequestorMode, thread: irp.Tail.Overlay.Thread === KeGetCurrentThread(),
        iosb: irp.UserIosb === iosb, event: irp.UserEvent === event, userBuffer: irp.UserBuffer === buffer,
      };
      IoFreeIrp(irp);
      return out;
    });
    expect(r).toEqual({
      stackCount: 2, currentLocation: 3, major: IRP_MJ_READ, length: 512, offset: 0x2000, mode: KPROCESSOR_MODE.KernelMode,
      thread: true, iosb: true, event: true, userBuffer: true,
    });
  });

  it("DO_BUFFERED_IO read: a system buffer of Length bytes in nonpaged pool, IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | IRP_INPUT_OPERATION, no MDL", async () => {
    const r = await machine.exec(async () => {
      const { device } = await transferDevice(DO_BUFFERED_IO, "now");
      const buffer = nonPaged(LENGTH);
      const irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, device, buffer, LENGTH, 0, notificationEvent(), new IO_STATUS_BLOCK())!;
      const system = irp.AssociatedIrp.SystemBuffer;
      return {
        nonPaged: MM().pool.isNonPaged(system), bytes: MM().pool.block(system)?.requested, notCaller: system !== buffer,
        flags: irp.Flags & (IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | IRP_INPUT_OPERATION), mdl: irp.MdlAddress,
      };
    });
    expect(r).toEqual({ nonPaged: true, bytes: LENGTH, notCaller: true, flags: IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | IRP_INPUT_OPERATION, mdl: null });
  });

  it("DO_BUFFERED_IO write: the system buffer holds a copy of the caller's data, and there is no IRP_INPUT_OPERATION", async () => {
    const r = await machine.exec(async () => {
      const { device } = await transferDevice(DO_BUFFERED_IO, "now");
      const buffer = nonPaged(LENGTH);
      writeBytes(buffer, pattern(LENGTH, 9));
      const irp = IoBuildSynchronousFsdRequest(IRP_MJ_WRITE, device, buffer, LENGTH, 0, notificationEvent(), new IO_STATUS_BLOCK())!;
      const copy = readBytes(irp.AssociatedIrp.SystemBuffer, LENGTH);
      return { same: same(copy, pattern(LENGTH, 9)), input: irp.Flags & IRP_INPUT_OPERATION };
    });
    expect(r).toEqual({ same: true, input: 0 });
  });

  it("DO_DIRECT_IO: an MDL for the caller's buffer, locked (for write access on a read, read access on a write), no system buffer", async () => {
    const r = await machine.exec(async () => {
      const { device } = await transferDevice(DO_DIRECT_IO, "now");
      const buffer = nonPaged(LENGTH) + 100;
      const out: Record<string, unknown>[] = [];
      for (const major of [IRP_MJ_READ, IRP_MJ_WRITE]) {
        const irp = IoBuildSynchronousFsdRequest(major, device, buffer, 5000, 0, notificationEvent(), new IO_STATUS_BLOCK())!;
        const mdl = irp.MdlAddress as MDL;
        out.push({
          va: MmGetMdlVirtualAddress(mdl) === buffer, bytes: MmGetMdlByteCount(mdl), locked: (mdl.MdlFlags & MDL_PAGES_LOCKED) !== 0,
          writeOperation: (mdl.MdlFlags & MDL_WRITE_OPERATION) !== 0, systemBuffer: irp.AssociatedIrp.SystemBuffer,
        });
        MmUnlockPages(mdl);
        IoFreeMdl(mdl);
        IoFreeIrp(irp);
      }
      return out;
    });
    expect(r).toEqual([
      { va: true, bytes: 5000, locked: true, writeOperation: true, systemBuffer: 0 },
      { va: true, bytes: 5000, locked: true, writeOperation: false, systemBuffer: 0 },
    ]);
  });

  it("neither buffered nor direct: no system buffer and no MDL, the driver gets the caller's address in Irp.UserBuffer", async () => {
    const r = await machine.exec(async () => {
      const { device } = await transferDevice(0, "now");
      const buffer = nonPaged(LENGTH);
      const irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, device, buffer, LENGTH, 0, notificationEvent(), new IO_STATUS_BLOCK())!;
      return { system: irp.AssociatedIrp.SystemBuffer, mdl: irp.MdlAddress, user: irp.UserBuffer === buffer, flags: irp.Flags };
    });
    expect(r).toEqual({ system: 0, mdl: null, user: true, flags: 0 });
  });
});

describe("IoBuildSynchronousFsdRequest: completion by the I/O manager", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("completed in the dispatch routine: the data is copied back, IoStatus reaches the IO_STATUS_BLOCK, the event is set and the IRP and its system buffer are freed", async () => {
    const r = await machine.exec(async () => {
      const { device } = await transferDevice(DO_BUFFERED_IO, "now");
      const buffer = nonPaged(LENGTH);
      const event = notificationEvent();
      const iosb = new IO_STATUS_BLOCK();
      iosb.Status = STATUS_PENDING;
      const before = poolBytes("Iosb");
      const irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, device, buffer, LENGTH, 0, event, iosb)!;
      const returned = await IoCallDriver(device, irp);
      const data = readBytes(buffer, LENGTH);
      return {
        returned, status: iosb.Status, information: iosb.Information, signalled: event.Header.SignalState, data: same(data, pattern(LENGTH)),
        irpFreed: !IO().irps.has(irp), systemBufferFreed: poolBytes("Iosb") === before,
      };
    });
    expect(r).toEqual({ returned: STATUS_SUCCESS, status: STATUS_SUCCESS, information: LENGTH, signalled: 1, data: true, irpFreed: true, systemBufferFreed: true });
  });

  it("pended and completed from a DPC: IoCallDriver returns STATUS_PENDING, and after the wait the data, status and event are there and the IRP is freed", async () => {
    const r = await machine.exec(async () => {
      const { device } = await transferDevice(DO_BUFFERED_IO, "timer");
      const buffer = nonPaged(LENGTH);
      const event = notificationEvent();
      const iosb = new IO_STATUS_BLOCK();
      const irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, device, buffer, LENGTH, 0, event, iosb)!;
      const returned = await sendAndWait(device, irp, event);
      return {
        returned, status: iosb.Status, information: iosb.Information, data: same(readBytes(buffer, LENGTH), pattern(LENGTH)),
        irpFreed: !IO().irps.has(irp),
      };
    });
    expect(r).toEqual({ returned: STATUS_PENDING, status: STATUS_SUCCESS, information: LENGTH, data: true, irpFreed: true });
  });

  it("DO_DIRECT_IO: after completion the MDL's pages are unlocked and the MDL freed", async () => {
    const r = await machine.exec(async () => {
      const { device } = await transferDevice(DO_DIRECT_IO, "timer");
      const buffer = nonPaged(LENGTH);
      const event = notificationEvent();
      const mdlBytes = poolBytes("Mdl ");
      const irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, device, buffer, LENGTH, 0, event, new IO_STATUS_BLOCK())!;
      const mdl = irp.MdlAddress as MDL;
      const lockedBefore = (mdl.MdlFlags & MDL_PAGES_LOCKED) !== 0;
      await sendAndWait(device, irp, event);
      return {
        lockedBefore, lockedAfter: (mdl.MdlFlags & MDL_PAGES_LOCKED) !== 0, mdlFreed: poolBytes("Mdl ") === mdlBytes,
        data: same(readBytes(buffer, LENGTH), pattern(LENGTH)),
      };
    });
    expect(r).toEqual({ lockedBefore: true, lockedAfter: false, mdlFreed: true, data: true });
  });

  it("DO_BUFFERED_IO write: the device reads the caller's data from the system buffer", async () => {
    const r = await machine.exec(async () => {
      const { device, written } = await transferDevice(DO_BUFFERED_IO, "now");
      const buffer = nonPaged(LENGTH);
      writeBytes(buffer, pattern(LENGTH, 5));
      const event = notificationEvent();
      const iosb = new IO_STATUS_BLOCK();
      await sendAndWait(device, IoBuildSynchronousFsdRequest(IRP_MJ_WRITE, device, buffer, LENGTH, 0, event, iosb)!, event);
      return { status: iosb.Status, information: iosb.Information, same: same(written[0], pattern(LENGTH, 5)) };
    });
    expect(r).toEqual({ status: STATUS_SUCCESS, information: LENGTH, same: true });
  });

  it("an error status is reported but nothing is copied back into the caller's buffer", async () => {
    const r = await machine.exec(async () => {
      const { device } = await transferDevice(DO_BUFFERED_IO, "now", { status: STATUS_DEVICE_NOT_READY, information: 64 });
      const buffer = nonPaged(LENGTH, 0xEE);
      const event = notificationEvent();
      const iosb = new IO_STATUS_BLOCK();
      await sendAndWait(device, IoBuildSynchronousFsdRequest(IRP_MJ_READ, device, buffer, LENGTH, 0, event, iosb)!, event);
      return { status: iosb.Status, signalled: event.Header.SignalState, untouched: readBytes(buffer, 64).every((b) => b === 0xEE) };
    });
    expect(r).toEqual({ status: STATUS_DEVICE_NOT_READY, signalled: 1, untouched: true });
  });

  // "How Completion Processing Is Performed": a routine returning STATUS_MORE_PROCESSING_REQUIRED halts completion;
  // calling IoCompleteRequest on the same IRP resumes it.
  it("a completion routine that returns STATUS_MORE_PROCESSING_REQUIRED halts the I/O manager's processing until IoCompleteRequest is called again", async () => {
    const r = await machine.exec(async () => {
      const { device } = await transferDevice(DO_BUFFERED_IO, "now");
      const buffer = nonPaged(LENGTH);
      const event = notificationEvent();
      const iosb = new IO_STATUS_BLOCK();
      iosb.Status = STATUS_PENDING;
      const irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, device, buffer, 64, 0, event, iosb)!;
      let held: IRP | null = null;
      IoSetCompletionRoutine(irp, (_d, i) => {
        held = i;
        return STATUS_MORE_PROCESSING_REQUIRED;
      }, null, true, true, true);
      await IoCallDriver(device, irp);
      const halted = { status: iosb.Status, signalled: event.Header.SignalState, live: IO().irps.has(irp), copied: readBytes(buffer, 1)[0] !== 0xEE };
      IoCompleteRequest(held!, IO_NO_INCREMENT);
      const resumed = { status: iosb.Status, signalled: event.Header.SignalState, live: IO().irps.has(irp), copied: readBytes(buffer, 1)[0] !== 0xEE };
      return { halted, resumed };
    });
    expect(r).toEqual({
      halted: { status: STATUS_PENDING, signalled: 0, live: true, copied: false },
      resumed: { status: STATUS_SUCCESS, signalled: 1, live: false, copied: true },
    });
  });

  // The second stage runs at APC_LEVEL in the requester's context, never at DISPATCH_LEVEL: a pageable caller buffer
  // that is paged out when a DPC completes the IRP is paged back in for the copy.
  it("completed at DISPATCH_LEVEL into a paged-out pageable caller buffer: the copy back pages it in (no bug check)", async () => {
    const r = await machine.exec(async () => {
      const { device, state } = await transferDevice(DO_BUFFERED_IO, "timer");
      const buffer = ExAllocatePoolWithTag(POOL_TYPE.PagedPool, LENGTH, "Test");
      let residentAtCompletion: boolean | undefined;
      state.beforeCompletion = () => {
        residentAtCompletion = MmIsAddressValid(buffer);
      };
      const event = notificationEvent();
      const iosb = new IO_STATUS_BLOCK();
      const irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, device, buffer, LENGTH, 0, event, iosb)!;
      MmTrimPageable();
      await sendAndWait(device, irp, event);
      const data = same(readBytes(buffer, LENGTH), pattern(LENGTH));
      ExFreePoolWithTag(buffer, "Test");
      return { residentAtCompletion, status: iosb.Status, data };
    });
    expect(r).toEqual({ residentAtCompletion: false, status: STATUS_SUCCESS, data: true });
  });
});

describe("IoBuildAsynchronousFsdRequest", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("builds the same buffers without an event; Tail.Overlay.Thread is the caller's thread", async () => {
    const r = await machine.exec(async () => {
      const { device } = await transferDevice(DO_DIRECT_IO, "now");
      const buffer = nonPaged(LENGTH);
      const irp = IoBuildAsynchronousFsdRequest(IRP_MJ_READ, device, buffer, 4096, 0x1000, null)!;
      const mdl = irp.MdlAddress as MDL;
      const out = {
        event: irp.UserEvent, thread: irp.Tail.Overlay.Thread === KeGetCurrentThread(), locked: (mdl.MdlFlags & MDL_PAGES_LOCKED) !== 0,
        length: IoGetNextIrpStackLocation(irp).Parameters.Read.Length, offset: IoGetNextIrpStackLocation(irp).Parameters.Read.ByteOffset,
      };
      MmUnlockPages(mdl);
      IoFreeMdl(mdl);
      IoFreeIrp(irp);
      return out;
    });
    expect(r).toEqual({ event: null, thread: true, locked: true, length: 4096, offset: 0x1000 });
  });

  it("the documented completion routine (unlock and free the MDLs, IoFreeIrp, STATUS_MORE_PROCESSING_REQUIRED) takes the IRP back: the I/O manager does nothing more and nothing leaks", async () => {
    const r = await machine.exec(async () => {
      const { device } = await transferDevice(DO_DIRECT_IO, "timer");
      const buffer = nonPaged(LENGTH);
      const iosb = new IO_STATUS_BLOCK();
      iosb.Status = STATUS_PENDING;
      const mdlBytes = poolBytes("Mdl ");
      const done = notificationEvent();
      let seen: NTSTATUS | undefined;
      const irp = IoBuildAsynchronousFsdRequest(IRP_MJ_READ, device, buffer, LENGTH, 0, iosb)!;
      IoSetCompletionRoutine(irp, function AsyncCompletion(_d, i) {
        seen = i.IoStatus.Status;
        for (let m = i.MdlAddress as MDL | null; m; ) {
          const next = m.Next;
          MmUnlockPages(m);
          IoFreeMdl(m);
          m = next;
        }
        i.MdlAddress = null;
        IoFreeIrp(i);
        KeSetEvent(done, 0, false);
        return STATUS_MORE_PROCESSING_REQUIRED;
      }, null, true, true, true);
      const returned = await IoCallDriver(device, irp);
      await KeWaitForSingleObject(done, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
      return { returned, seen, iosb: iosb.Status, irpFreed: !IO().irps.has(irp), mdlFreed: poolBytes("Mdl ") === mdlBytes };
    });
    expect(r).toEqual({ returned: STATUS_PENDING, seen: STATUS_SUCCESS, iosb: STATUS_PENDING, irpFreed: true, mdlFreed: true });
  });

  it("left to complete to the top, the I/O manager finishes it like a synchronous one: status to the IO_STATUS_BLOCK, data copied, IRP freed", async () => {
    const r = await machine.exec(async () => {
      const { device } = await transferDevice(DO_BUFFERED_IO, "now");
      const buffer = nonPaged(LENGTH);
      const iosb = new IO_STATUS_BLOCK();
      iosb.Status = STATUS_PENDING;
      const irp = IoBuildAsynchronousFsdRequest(IRP_MJ_READ, device, buffer, LENGTH, 0, iosb)!;
      await IoCallDriver(device, irp);
      return {
        status: iosb.Status, information: iosb.Information, irpFreed: !IO().irps.has(irp),
        data: same(readBytes(buffer, LENGTH), pattern(LENGTH)),
      };
    });
    expect(r).toEqual({ status: STATUS_SUCCESS, information: LENGTH, irpFreed: true, data: true });
  });
});

describe("IoBuildDeviceIoControlRequest", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("sets IRP_MJ_DEVICE_CONTROL (IRP_MJ_INTERNAL_DEVICE_CONTROL when internal) and Parameters.DeviceIoControl", async () => {
    const r = await machine.exec(async () => {
      const { device } = await transferDevice(0, "now");
      const out: unknown[] = [];
      for (const internal of [false, true]) {
        const irp = IoBuildDeviceIoControlRequest(IOCTL_NEITHER, device, null, 0, null, 0, internal, null, new IO_STATUS_BLOCK())!;
        const s = IoGetNextIrpStackLocation(irp);
        out.push({ major: s.MajorFunction, code: s.Parameters.DeviceIoControl.IoControlCode });
        IoFreeIrp(irp);
      }
      const irp = IoBuildDeviceIoControlRequest(IOCTL_BUFFERED, device, nonPaged(24), 24, nonPaged(40), 40, false, null, new IO_STATUS_BLOCK())!;
      const p = IoGetNextIrpStackLocation(irp).Parameters.DeviceIoControl;
      out.push({ input: p.InputBufferLength, output: p.OutputBufferLength });
      return out;
    });
    expect(r).toEqual([
      { major: IRP_MJ_DEVICE_CONTROL, code: IOCTL_NEITHER },
      { major: IRP_MJ_INTERNAL_DEVICE_CONTROL, code: IOCTL_NEITHER },
      { input: 24, output: 40 },
    ]);
  });

  it("METHOD_BUFFERED: one system buffer of max(input, output) bytes in nonpaged pool holding the input", async () => {
    const r = await machine.exec(async () => {
      const { device } = await transferDevice(0, "now");
      const input = nonPaged(100);
      writeBytes(input, pattern(100, 3));
      const irp = IoBuildDeviceIoControlRequest(IOCTL_BUFFERED, device, input, 100, nonPaged(300), 300, false, null, new IO_STATUS_BLOCK())!;
      const system = irp.AssociatedIrp.SystemBuffer;
      return {
        nonPaged: MM().pool.isNonPaged(system), bytes: MM().pool.block(system)?.requested, input: same(readBytes(system, 100), pattern(100, 3)),
        flags: irp.Flags & (IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER), mdl: irp.MdlAddress,
      };
    });
    expect(r).toEqual({ nonPaged: true, bytes: 300, input: true, flags: IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER, mdl: null });
  });

  it("METHOD_BUFFERED: on completion IoStatus.Information bytes (no more) are copied back to the output buffer", async () => {
    const r = await machine.exec(async () => {
      const { device } = await transferDevice(0, "timer", { status: STATUS_SUCCESS, information: 20 });
      const output = nonPaged(64, 0xEE);
      const event = notificationEvent();
      const iosb = new IO_STATUS_BLOCK();
      const irp = IoBuildDeviceIoControlRequest(IOCTL_BUFFERED, device, null, 0, output, 64, false, event, iosb)!;
      const returned = await sendAndWait(device, irp, event);
      const bytes = readBytes(output, 64);
      return {
        returned, status: iosb.Status, information: iosb.Information, copied: same(bytes.subarray(0, 20), pattern(20)),
        restUntouched: bytes.subarray(20).every((b) => b === 0xEE), irpFreed: !IO().irps.has(irp),
      };
    });
    expect(r).toEqual({ returned: STATUS_PENDING, status: STATUS_SUCCESS, information: 20, copied: true, restUntouched: true, irpFreed: true });
  });

  it("METHOD_IN_DIRECT and METHOD_OUT_DIRECT: the input in a system buffer, the output described by an MDL locked for read (IN) or write (OUT) access", async () => {
    const r = await machine.exec(async () => {
      const { device } = await transferDevice(0, "now");
      const input = nonPaged(16);
      writeBytes(input, pattern(16, 4));
      const output = nonPaged(LENGTH);
      const out: Record<string, unknown>[] = [];
      for (const code of [IOCTL_IN_DIRECT, IOCTL_OUT_DIRECT]) {
        const irp = IoBuildDeviceIoControlRequest(code, device, input, 16, output, LENGTH, false, null, new IO_STATUS_BLOCK())!;
        const mdl = irp.MdlAddress as MDL;
        const system = irp.AssociatedIrp.SystemBuffer;
        out.push({
          systemBytes: MM().pool.block(system)?.requested, input: same(readBytes(system, 16), pattern(16, 4)),
          mdlVa: MmGetMdlVirtualAddress(mdl) === output, mdlBytes: MmGetMdlByteCount(mdl), locked: (mdl.MdlFlags & MDL_PAGES_LOCKED) !== 0,
          writeOperation: (mdl.MdlFlags & MDL_WRITE_OPERATION) !== 0,
        });
        await IoCallDriver(device, irp);
      }
      return out;
    });
    expect(r).toEqual([
      { systemBytes: 16, input: true, mdlVa: true, mdlBytes: LENGTH, locked: true, writeOperation: false },
      { systemBytes: 16, input: true, mdlVa: true, mdlBytes: LENGTH, locked: true, writeOperation: true },
    ]);
  });

  it("METHOD_NEITHER: Type3InputBuffer is the input buffer and Irp.UserBuffer the output buffer; no system buffer, no MDL", async () => {
    const r = await machine.exec(async () => {
      const { device } = await transferDevice(0, "now");
      const input = nonPaged(16);
      const output = nonPaged(32);
      const irp = IoBuildDeviceIoControlRequest(IOCTL_NEITHER, device, input, 16, output, 32, false, null, new IO_STATUS_BLOCK())!;
      const p = IoGetNextIrpStackLocation(irp).Parameters.DeviceIoControl;
      return { type3: p.Type3InputBuffer === input, user: irp.UserBuffer === output, system: irp.AssociatedIrp.SystemBuffer, mdl: irp.MdlAddress };
    });
    expect(r).toEqual({ type3: true, user: true, system: 0, mdl: null });
  });

  it("without an event the request still completes: IoStatus reaches the IO_STATUS_BLOCK and the caller's completion routine sees it", async () => {
    const r = await machine.exec(async () => {
      const { device } = await transferDevice(0, "timer", { status: STATUS_SUCCESS, information: 8 });
      const output = nonPaged(8);
      const iosb = new IO_STATUS_BLOCK();
      iosb.Status = STATUS_PENDING;
      const done = notificationEvent();
      const irp = IoBuildDeviceIoControlRequest(IOCTL_BUFFERED, device, null, 0, output, 8, false, null, iosb)!;
      let routineSaw: NTSTATUS | undefined;
      IoSetCompletionRoutine(irp, (_d, i) => {
        routineSaw = i.IoStatus.Status;
        KeSetEvent(done, 0, false);
        return STATUS_SUCCESS;
      }, null, true, true, true);
      await IoCallDriver(device, irp);
      await KeWaitForSingleObject(done, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
      // The I/O manager's second stage follows the completion routine; let it run.
      await sleep100ns(100);
      return { routineSaw, status: iosb.Status, information: iosb.Information, irpFreed: !IO().irps.has(irp) };
    });
    expect(r).toEqual({ routineSaw: STATUS_SUCCESS, status: STATUS_SUCCESS, information: 8, irpFreed: true });
  });

  // DDI compliance rule IrqlIoPassive1: IoBuildDeviceIoControlRequest only at PASSIVE_LEVEL.
  it("called above PASSIVE_LEVEL under the verifier: 0xC4 with P1 0x0002000A (IrqlIoPassive1)", async () => {
    const bc = await crash(async () => {
      const device = await createTestDevice("build");
      const old = KeRaiseIrql(DISPATCH_LEVEL);
      IoBuildDeviceIoControlRequest(IOCTL_NEITHER, device, null, 0, null, 0, false, null, new IO_STATUS_BLOCK());
      KeLowerIrql(old);
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, 0x0002000A);
  });
});

describe("IoReuseIrp", () => {
  it("reinitializes a driver-allocated IRP: no current location, cleared locations and state, IoStatus.Status = Iostatus; it can be sent and completed again", async () => {
    const machine = await bootDefault();
    const r = await machine.exec(async () => {
      const device = await createTestDevice("reuse");
      let calls = 0;
      device.DriverObject.MajorFunction[IRP_MJ_READ] = (_d, irp) => {
        calls++;
        IoMarkIrpPending(irp);
        irp.IoStatus.Status = STATUS_SUCCESS;
        irp.IoStatus.Information = 4;
        IoCompleteRequest(irp, IO_NO_INCREMENT);
        return STATUS_PENDING;
      };
      const irp = IoAllocateIrp(device.StackSize, false)!;
      const send = async () => {
        IoGetNextIrpStackLocation(irp).MajorFunction = IRP_MJ_READ;
        IoSetCompletionRoutine(irp, () => STATUS_MORE_PROCESSING_REQUIRED, null, true, true, true);
        return IoCallDriver(device, irp);
      };
      await send();
      irp.Cancel = true;
      IoSetCancelRoutine(irp, null);
      IoReuseIrp(irp, STATUS_NOT_SUPPORTED);
      const reset = {
        status: irp.IoStatus.Status, information: irp.IoStatus.Information, location: irp.CurrentLocation, stackCount: irp.StackCount,
        cancel: irp.Cancel, pending: irp.PendingReturned, major: irp.Stack[0].MajorFunction, control: irp.Stack[0].Control,
        routine: irp.Stack[0].CompletionRoutine, device: irp.Stack[0].DeviceObject, flags: irp.Flags,
      };
      const again = await send();
      IoFreeIrp(irp);
      return { reset, again, calls, status: irp.IoStatus.Status };
    });
    expect(r).toEqual({
      reset: { status: STATUS_NOT_SUPPORTED, information: 0, location: 2, stackCount: 1, cancel: false, pending: false, major: 0, control: 0, routine: null, device: null, flags: 0 },
      again: STATUS_PENDING, calls: 2, status: STATUS_SUCCESS,
    });
  });
});
