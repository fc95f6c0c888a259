// Direct I/O (shared/specs/nt-semantics.md, Transfer types: "Direct: input in the system
// buffer (IOCTL) and the output (or the read/write buffer) described by an MDL locked for
// the right access (Irp.MdlAddress)"): DO_DIRECT_IO reads and writes, METHOD_IN_DIRECT and
// METHOD_OUT_DIRECT IOCTLs, the MDL unlocked and freed once the request completes.
import { beforeAll, describe, expect, it } from "vitest";
import {
  DISPATCH_LEVEL, type Machine, KeRaiseIrql, KeLowerIrql, KeGetCurrentThread, IoCompleteRequest, IoGetCurrentIrpStackLocation, IO_NO_INCREMENT,
  IoCreateDevice, IoCreateSymbolicLink, DO_DIRECT_IO, DO_DEVICE_INITIALIZING, FILE_DEVICE_UNKNOWN, IRP_MJ_CREATE, IRP_MJ_CLOSE,
  IRP_MJ_CLEANUP, IRP_MJ_READ, IRP_MJ_WRITE, IRP_MJ_DEVICE_CONTROL, CTL_CODE, METHOD_IN_DIRECT, METHOD_OUT_DIRECT, FILE_ANY_ACCESS,
  STATUS_SUCCESS, STATUS_INVALID_DEVICE_REQUEST, CreateFile, CloseHandle, ReadFile, WriteFile, DeviceIoControl, GetLastError,
  GENERIC_READ, GENERIC_WRITE, OPEN_EXISTING, INVALID_HANDLE_VALUE, ERROR_NOACCESS, VirtualAlloc, readBytes, writeBytes, readU32,
  MDL, MmGetSystemAddressForMdlSafe, MmGetMdlByteCount, MmGetMdlVirtualAddress, MmGetMdlPfnArray, MM_PAGE_PRIORITY,
  MDL_PAGES_LOCKED, MDL_WRITE_OPERATION, poolUsed, PsGetCurrentProcess, type IRP, type DEVICE_OBJECT, type NTSTATUS,
} from "../../src/index.js";
import { boot } from "../../src/pnp/boot.js";
import { Machine as MachineClass } from "../../src/machine/machine.js";
import { IO } from "../../src/io/manager.js";
import { MM } from "../../src/mm/manager.js";
import { bootDefault, defaultDescription } from "../support/kernel-harness.js";

const PAGE = 4096;
const IOCTL_OUT_DIRECT = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_OUT_DIRECT, FILE_ANY_ACCESS);
const IOCTL_IN_DIRECT = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x802, METHOD_IN_DIRECT, FILE_ANY_ACCESS);

/** What the driver saw of one request. */
interface Seen {
  mdl: MDL | null;
  flags: number;
  byteCount: number;
  va: number;
  userBuffer: number;
  sameProcess: boolean;
  pfnsLocked: boolean;
  systemBuffer: number;
  input: number[];
  data: number[];
}

/** Loads a DO_DIRECT_IO driver with a device \\Device\\DirectTest (link \\DosDevices\\DirectTest); returns what it records. */
async function loadDirectDriver(machine: Machine, options: { atDispatch?: boolean } = {}): Promise<Seen[]> {
  const seen: Seen[] = [];
  const complete = (irp: IRP, status: NTSTATUS, information: number): NTSTATUS => {
    irp.IoStatus.Status = status;
    irp.IoStatus.Information = information;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return status;
  };
  const observe = (irp: IRP, fill: number | null, inputLength: number): Seen => {
    const mdl = irp.MdlAddress as MDL | null;
    const s: Seen = {
      mdl, flags: mdl?.MdlFlags ?? 0, byteCount: mdl ? MmGetMdlByteCount(mdl) : 0, va: mdl ? MmGetMdlVirtualAddress(mdl) : 0,
      userBuffer: irp.UserBuffer, sameProcess: mdl?.Process === PsGetCurrentProcess(),
      pfnsLocked: mdl ? MmGetMdlPfnArray(mdl).every((p) => MM().pfn.lockCount(p) > 0) : false,
      systemBuffer: irp.AssociatedIrp.SystemBuffer, input: inputLength > 0 ? [...readBytes(irp.AssociatedIrp.SystemBuffer, inputLength)] : [], data: [],
    };
    if (mdl) {
      // Through the system mapping, as a driver completing in a DPC would.
      const old = options.atDispatch ? KeRaiseIrql(DISPATCH_LEVEL) : -1;
      const sys = MmGetSystemAddressForMdlSafe(mdl, MM_PAGE_PRIORITY.NormalPagePriority);
      if (fill === null) s.data = [...readBytes(sys, Math.min(16, mdl.ByteCount))];
      else writeBytes(sys, new Uint8Array(mdl.ByteCount).map((_, i) => (fill + i) & 0xFF));
      if (old >= 0) KeLowerIrql(old);
    }
    seen.push(s);
    return s;
  };
  const r = await machine.exec(async () => IO().loadDriver("directtest", {
    DriverEntry: (driver) => {
      const { DeviceObject } = IoCreateDevice(driver, {}, "\\Device\\DirectTest", FILE_DEVICE_UNKNOWN, 0, false);
      const device = DeviceObject as DEVICE_OBJECT;
      device.Flags |= DO_DIRECT_IO;
      device.Flags &= ~DO_DEVICE_INITIALIZING;
      IoCreateSymbolicLink("\\DosDevices\\DirectTest", "\\Device\\DirectTest");
      for (const major of [IRP_MJ_CREATE, IRP_MJ_CLOSE, IRP_MJ_CLEANUP]) driver.MajorFunction[major] = (_d, irp) => complete(irp, STATUS_SUCCESS, 0);
      driver.MajorFunction[IRP_MJ_READ] = (_d, irp) => {
        const s = observe(irp, 0x40, 0);
        return complete(irp, STATUS_SUCCESS, s.byteCount);
      };
      driver.MajorFunction[IRP_MJ_WRITE] = (_d, irp) => {
        const s = observe(irp, null, 0);
        return complete(irp, STATUS_SUCCESS, s.byteCount);
      };
      driver.MajorFunction[IRP_MJ_DEVICE_CONTROL] = (_d, irp) => {
        const stack = IoGetCurrentIrpStackLocation(irp);
        const code = stack.Parameters.DeviceIoControl.IoControlCode;
        const inLength = stack.Parameters.DeviceIoControl.InputBufferLength;
        if (code === IOCTL_OUT_DIRECT) return complete(irp, STATUS_SUCCESS, observe(irp, 0x90, inLength).byteCount);
        if (code === IOCTL_IN_DIRECT) {
          observe(irp, null, inLength);
          return complete(irp, STATUS_SUCCESS, 0);
        }
        return complete(irp, STATUS_INVALID_DEVICE_REQUEST, 0);
      };
      return STATUS_SUCCESS;
    },
  }));
  if (r.status !== STATUS_SUCCESS) throw new Error("DriverEntry failed");
  return seen;
}

/** Opens \\.\DirectTest in a program and runs `body` with the handle. */
function withDevice<T>(machine: Machine, body: (h: number) => Promise<T>): Promise<T> {
  return machine.runProgram("direct-io", async () => {
    const h = await CreateFile("\\\\.\\DirectTest", GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, 0, null);
    if (h === INVALID_HANDLE_VALUE) throw new Error(`CreateFile failed: ${GetLastError()}`);
    try {
      return await body(h);
    } finally {
      await CloseHandle(h);
    }
  });
}

const mdlBytesInUse = () => poolUsed().find((u) => u.tag === "Mdl ")?.nonPaged.bytes ?? 0;

describe("DO_DIRECT_IO", () => {
  let machine: Machine;
  let seen: Seen[];
  beforeAll(async () => {
    machine = await bootDefault();
    seen = await loadDirectDriver(machine);
  });

  it("ReadFile reaches the driver with Irp.MdlAddress: the caller's buffer locked for write access (MDL_WRITE_OPERATION), in the caller's process", async () => {
    seen.length = 0;
    const r = await withDevice(machine, async (h) => {
      const va = VirtualAlloc(3 * PAGE);
      const res = await ReadFile(h, va + 0x10, 2 * PAGE);
      return { va, res, data: [...readBytes(va + 0x10, 4)], process: KeGetCurrentThread()!.process };
    });
    expect(r.res).toEqual({ ok: true, bytes: 2 * PAGE });
    expect(seen).toHaveLength(1);
    const s = seen[0];
    expect(s.flags & (MDL_PAGES_LOCKED | MDL_WRITE_OPERATION)).toBe(MDL_PAGES_LOCKED | MDL_WRITE_OPERATION);
    expect(s.byteCount).toBe(2 * PAGE);
    expect(s.va).toBe(r.va + 0x10);
    expect(s.userBuffer).toBe(r.va + 0x10);
    expect(s.sameProcess).toBe(true);
    expect(s.pfnsLocked).toBe(true);
    expect(s.mdl!.Process).toBe(r.process);
    expect(r.data).toEqual([0x40, 0x41, 0x42, 0x43]);
  });

  it("after completion the I/O manager unlocks and frees the MDL", async () => {
    seen.length = 0;
    const before = await machine.exec(() => mdlBytesInUse());
    await withDevice(machine, async (h) => ReadFile(h, new Uint8Array(5000), 5000));
    const after = await machine.exec(() => ({ bytes: mdlBytesInUse(), locks: MmGetMdlPfnArray(seen[0].mdl!).map((p) => MM().pfn.lockCount(p)) }));
    expect(seen[0].mdl!.MdlFlags & MDL_PAGES_LOCKED).toBe(0);
    expect(after.bytes).toBe(before);
    expect(after.locks.every((n) => n === 0)).toBe(true);
  });

  it("WriteFile's MDL is locked for read access only (no MDL_WRITE_OPERATION) and shows the caller's bytes", async () => {
    seen.length = 0;
    const data = new Uint8Array(300).map((_, i) => (0xC0 + i) & 0xFF);
    const res = await withDevice(machine, async (h) => WriteFile(h, data, data.length));
    expect(res).toEqual({ ok: true, bytes: 300 });
    expect(seen[0].flags & MDL_PAGES_LOCKED).toBe(MDL_PAGES_LOCKED);
    expect(seen[0].flags & MDL_WRITE_OPERATION).toBe(0);
    expect(seen[0].data).toEqual([...data.subarray(0, 16)]);
  });

  it("host byte arrays work too: the staged buffer is locked and the data comes back", async () => {
    const out = new Uint8Array(64);
    const res = await withDevice(machine, async (h) => ReadFile(h, out, 64));
    expect(res.ok).toBe(true);
    expect([...out.subarray(0, 3)]).toEqual([0x40, 0x41, 0x42]);
  });

  it("a bad user buffer fails the call with ERROR_NOACCESS and the driver never sees it", async () => {
    seen.length = 0;
    const r = await withDevice(machine, async (h) => {
      const va = VirtualAlloc(PAGE);
      const res = await ReadFile(h, va, 3 * PAGE); // runs past the allocation
      return { res, error: GetLastError() };
    });
    expect(r.res).toEqual({ ok: false, bytes: 0 });
    expect(r.error).toBe(ERROR_NOACCESS);
    expect(seen).toHaveLength(0);
  });
});

describe("METHOD_IN_DIRECT and METHOD_OUT_DIRECT", () => {
  let machine: Machine;
  let seen: Seen[];
  beforeAll(async () => {
    machine = await bootDefault();
    seen = await loadDirectDriver(machine);
  });

  it("METHOD_OUT_DIRECT: input in the system buffer, output as an MDL locked for write; the driver's output reaches the caller", async () => {
    seen.length = 0;
    const r = await withDevice(machine, async (h) => {
      const input = new Uint8Array([1, 2, 3, 4, 5]);
      const output = VirtualAlloc(PAGE);
      const res = await DeviceIoControl(h, IOCTL_OUT_DIRECT, input, input.length, output, 100);
      return { res, out: [...readBytes(output, 3)], output };
    });
    expect(r.res).toEqual({ ok: true, bytes: 100 });
    const s = seen[0];
    expect(s.input).toEqual([1, 2, 3, 4, 5]);
    expect(s.systemBuffer).not.toBe(0);
    expect(s.flags & (MDL_PAGES_LOCKED | MDL_WRITE_OPERATION)).toBe(MDL_PAGES_LOCKED | MDL_WRITE_OPERATION);
    expect(s.va).toBe(r.output);
    expect(s.byteCount).toBe(100);
    expect(r.out).toEqual([0x90, 0x91, 0x92]);
  });

  it("METHOD_IN_DIRECT: the output buffer is an MDL locked for read access (data for the device)", async () => {
    seen.length = 0;
    const r = await withDevice(machine, async (h) => {
      const buffer = VirtualAlloc(PAGE);
      writeBytes(buffer, new Uint8Array([9, 8, 7, 6]));
      const res = await DeviceIoControl(h, IOCTL_IN_DIRECT, null, 0, buffer, 4);
      return { res, first: readU32(buffer) };
    });
    expect(r.res.ok).toBe(true);
    expect(seen[0].flags & MDL_PAGES_LOCKED).toBe(MDL_PAGES_LOCKED);
    expect(seen[0].flags & MDL_WRITE_OPERATION).toBe(0);
    expect(seen[0].data).toEqual([9, 8, 7, 6]);
    expect(seen[0].systemBuffer).toBe(0);
  });

  it("no output buffer: no MDL", async () => {
    seen.length = 0;
    const res = await withDevice(machine, async (h) => DeviceIoControl(h, IOCTL_IN_DIRECT, new Uint8Array(4), 4, null, 0));
    expect(res.ok).toBe(true);
    expect(seen[0].mdl).toBe(null);
    expect(seen[0].input).toEqual([0, 0, 0, 0]);
  });
});

describe("direct I/O under trimming", () => {
  it("the locked, mapped buffer can be filled at DISPATCH_LEVEL even though every pageable page is trimmed there", async () => {
    const d = defaultDescription();
    d.kernel = { ...d.kernel, trimming: true };
    const machine = await boot(MachineClass.fromDescription(d));
    const seen = await loadDirectDriver(machine, { atDispatch: true });
    const r = await withDevice(machine, async (h) => {
      const out = new Uint8Array(3 * PAGE);
      const res = await ReadFile(h, out, out.length);
      return { res, tail: [...out.subarray(3 * PAGE - 2)] };
    });
    expect(r.res).toEqual({ ok: true, bytes: 3 * PAGE });
    expect(r.tail).toEqual([(0x40 + 3 * PAGE - 2) & 0xFF, (0x40 + 3 * PAGE - 1) & 0xFF]);
    expect(seen[0].flags & MDL_PAGES_LOCKED).toBe(MDL_PAGES_LOCKED);
  });
});
