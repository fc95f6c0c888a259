// The object namespace as Windows lays it out (\Device, \Driver, \GLOBAL?? with \DosDevices and \??
// leading to it, \BaseNamedObjects) and the routines that use it: ObReferenceObjectByName,
// symbolic links (IoCreateSymbolicLink, IoDeleteSymbolicLink, ZwCreateSymbolicLinkObject,
// ZwOpenSymbolicLinkObject, ZwQuerySymbolicLinkObject), ZwCreateDirectoryObject,
// IoGetDeviceObjectPointer, and user-mode CreateFile resolving "\\.\X" through \??.
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, type FILE_OBJECT, type DEVICE_OBJECT, type DRIVER_OBJECT, type IRP, ObReferenceObjectByName, ObDereferenceObject, IoCreateSymbolicLink,
  IoDeleteSymbolicLink, ZwCreateSymbolicLinkObject, ZwOpenSymbolicLinkObject, ZwQuerySymbolicLinkObject, ZwCreateDirectoryObject, ZwClose,
  ZwCreateEvent, IoGetDeviceObjectPointer, IoCreateDevice, IoDeleteDevice, IoCompleteRequest, IoGetCurrentIrpStackLocation, OBJECT_ATTRIBUTES,
  InitializeObjectAttributes, OBJ_KERNEL_HANDLE, OBJ_CASE_INSENSITIVE, OBJ_OPENIF, KPROCESSOR_MODE, IoDeviceObjectType, IoDriverObjectType,
  ObpSymbolicLinkObjectType, ObpDirectoryObjectType, SYMBOLIC_LINK_QUERY, SYMBOLIC_LINK_ALL_ACCESS, DIRECTORY_ALL_ACCESS, EVENT_ALL_ACCESS,
  FILE_READ_DATA, FILE_DEVICE_UNKNOWN, EVENT_TYPE, IRP_MJ_CREATE, IRP_MJ_CLEANUP, IRP_MJ_CLOSE, IO_NO_INCREMENT, STATUS_SUCCESS,
  STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_PATH_NOT_FOUND, STATUS_OBJECT_PATH_SYNTAX_BAD, STATUS_OBJECT_NAME_COLLISION,
  STATUS_OBJECT_NAME_EXISTS, STATUS_OBJECT_TYPE_MISMATCH, STATUS_BUFFER_TOO_SMALL, STATUS_ACCESS_DENIED, CreateFile, CloseHandle, GetLastError,
  GENERIC_READ, OPEN_EXISTING, INVALID_HANDLE_VALUE, ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND, ERROR_ACCESS_DENIED, type NTSTATUS,
  OBJ_PERMANENT, SYNCHRONIZE, ZwMakeTemporaryObject, ObMakeTemporaryObject,
} from "../../src/index.js";
import { bootDefault, createTestDriver, kernelOf, sleep100ns } from "../support/kernel-harness.js";
import { IO } from "../../src/io/manager.js";

/** OBJECT_ATTRIBUTES for `name` with `attributes` (and a root directory handle). */
function attributes(name: string | null, a = OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, root: number | null = null): OBJECT_ATTRIBUTES {
  const oa = new OBJECT_ATTRIBUTES();
  InitializeObjectAttributes(oa, name, a, root, null);
  return oa;
}

/** A test driver with a named device whose create, cleanup and close are recorded; create completes with `createStatus`. */
async function recordingDevice(name: string, createStatus: NTSTATUS = STATUS_SUCCESS): Promise<{ device: DEVICE_OBJECT; driver: DRIVER_OBJECT; log: string[] }> {
  const driver = await createTestDriver("obns");
  const log: string[] = [];
  const complete = (what: string, status: NTSTATUS) => (_d: DEVICE_OBJECT, irp: IRP) => {
    log.push(`${what}${(IoGetCurrentIrpStackLocation(irp).FileObject as FILE_OBJECT | null)?.FileName ?? ""}`);
    irp.IoStatus.Status = status;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return status;
  };
  driver.MajorFunction[IRP_MJ_CREATE] = complete("create", createStatus);
  driver.MajorFunction[IRP_MJ_CLEANUP] = complete("cleanup", STATUS_SUCCESS);
  driver.MajorFunction[IRP_MJ_CLOSE] = complete("close", STATUS_SUCCESS);
  const { status, DeviceObject } = IoCreateDevice(driver, {}, name, FILE_DEVICE_UNKNOWN, 0, false);
  if (status !== STATUS_SUCCESS) throw new Error(`IoCreateDevice ${name}: ${status}`);
  DeviceObject!.Flags &= ~0x80;
  return { device: DeviceObject!, driver, log };
}

describe("the object namespace", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("has \\Device, \\Driver, \\GLOBAL?? and \\BaseNamedObjects directories, and \\DosDevices is a symbolic link to \\??", async () => {
    const r = await machine.exec(() => {
      const types = ["\\Device", "\\Driver", "\\GLOBAL??", "\\BaseNamedObjects", "\\ObjectTypes"].map((n) => {
        const x = ObReferenceObjectByName(n, 0, null, 0, null, KPROCESSOR_MODE.KernelMode, null);
        if (x.Object) ObDereferenceObject(x.Object);
        return x.status === STATUS_SUCCESS;
      });
      const link = ZwOpenSymbolicLinkObject(SYMBOLIC_LINK_QUERY, attributes("\\DosDevices"));
      const target = ZwQuerySymbolicLinkObject(link.LinkHandle, 256).LinkTarget;
      void ZwClose(link.LinkHandle);
      return { types, target };
    });
    expect(r).toEqual({ types: [true, true, true, true, true], target: "\\??" });
  });

  it("ObReferenceObjectByName finds \\Device\\Edu0 (the edu device) and \\Driver\\edu (its driver), case-insensitively, with a reference", async () => {
    const k = kernelOf(machine);
    const r = await machine.exec(() => {
      const dev = ObReferenceObjectByName<DEVICE_OBJECT>("\\device\\EDU0", OBJ_CASE_INSENSITIVE, null, 0, IoDeviceObjectType, KPROCESSOR_MODE.KernelMode, null);
      const drv = ObReferenceObjectByName<DRIVER_OBJECT>("\\Driver\\edu", OBJ_CASE_INSENSITIVE, null, 0, IoDriverObjectType, KPROCESSOR_MODE.KernelMode, null);
      const wrong = ObReferenceObjectByName("\\Driver\\edu", 0, null, 0, IoDeviceObjectType, KPROCESSOR_MODE.KernelMode, null);
      ObDereferenceObject(dev.Object!);
      ObDereferenceObject(drv.Object!);
      return { dev: dev.Object, drv: drv.Object?.serviceName, wrong: wrong.status };
    });
    expect(r.dev).toBe(IO(k).resolve("\\Device\\Edu0"));
    expect(r.drv).toBe("edu");
    expect(r.wrong).toBe(STATUS_OBJECT_TYPE_MISMATCH);
  });

  it("a missing last component is STATUS_OBJECT_NAME_NOT_FOUND, a missing earlier one STATUS_OBJECT_PATH_NOT_FOUND, a relative name STATUS_OBJECT_PATH_SYNTAX_BAD", async () => {
    const r = await machine.exec(() => ["\\Device\\NoSuchDevice", "\\NoSuchDirectory\\X", "Device\\Edu0"].map((n) => ObReferenceObjectByName(n, 0, null, 0, null, KPROCESSOR_MODE.KernelMode, null).status));
    expect(r).toEqual([STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_PATH_NOT_FOUND, STATUS_OBJECT_PATH_SYNTAX_BAD]);
  });

  it("the edu driver's \\DosDevices\\Edu0 is \\GLOBAL??\\Edu0 and \\??\\Edu0: ZwQuerySymbolicLinkObject reads \\Device\\Edu0", async () => {
    const r = await machine.exec(() => ["\\??\\Edu0", "\\GLOBAL??\\Edu0", "\\DosDevices\\Edu0"].map((n) => {
      const link = ZwOpenSymbolicLinkObject(SYMBOLIC_LINK_QUERY, attributes(n));
      const q = ZwQuerySymbolicLinkObject(link.LinkHandle, 256);
      void ZwClose(link.LinkHandle);
      return [link.status, q.status, q.LinkTarget, q.ReturnedLength];
    }));
    for (const x of r) expect(x).toEqual([STATUS_SUCCESS, STATUS_SUCCESS, "\\Device\\Edu0", ("\\Device\\Edu0".length + 1) * 2]);
  });

  it("ZwQuerySymbolicLinkObject with a buffer too small is STATUS_BUFFER_TOO_SMALL and says how many bytes it needs", async () => {
    const r = await machine.exec(() => {
      const link = ZwOpenSymbolicLinkObject(SYMBOLIC_LINK_QUERY, attributes("\\??\\Edu0"));
      const q = ZwQuerySymbolicLinkObject(link.LinkHandle, 4);
      void ZwClose(link.LinkHandle);
      return [q.status, q.LinkTarget, q.ReturnedLength];
    });
    expect(r).toEqual([STATUS_BUFFER_TOO_SMALL, "", 26]);
  });

  it("ZwOpenSymbolicLinkObject of a name that is not a link is STATUS_OBJECT_TYPE_MISMATCH; a handle without SYMBOLIC_LINK_QUERY still queries from kernel mode", async () => {
    const r = await machine.exec(() => {
      const notLink = ZwOpenSymbolicLinkObject(SYMBOLIC_LINK_QUERY, attributes("\\Device\\Edu0"));
      return notLink.status;
    });
    expect(r).toBe(STATUS_OBJECT_TYPE_MISMATCH);
  });

  it("IoCreateSymbolicLink makes a permanent link (STATUS_OBJECT_NAME_COLLISION the second time) that IoDeleteSymbolicLink removes", async () => {
    const r = await machine.exec(async () => {
      const made = IoCreateSymbolicLink("\\DosDevices\\ObEduAlias", "\\Device\\Edu0");
      const again = IoCreateSymbolicLink("\\??\\ObEduAlias", "\\Device\\Edu0");
      const through = ObReferenceObjectByName<DEVICE_OBJECT>("\\GLOBAL??\\ObEduAlias", 0, null, 0, IoDeviceObjectType, KPROCESSOR_MODE.KernelMode, null);
      ObDereferenceObject(through.Object!);
      const deleted = IoDeleteSymbolicLink("\\??\\ObEduAlias");
      const gone = IoDeleteSymbolicLink("\\??\\ObEduAlias");
      const after = ObReferenceObjectByName("\\??\\ObEduAlias", 0, null, 0, null, KPROCESSOR_MODE.KernelMode, null).status;
      return { made, again, through: through.Object?.name, deleted, gone, after };
    });
    expect(r).toEqual({ made: STATUS_SUCCESS, again: STATUS_OBJECT_NAME_COLLISION, through: "\\Device\\Edu0", deleted: STATUS_SUCCESS, gone: STATUS_OBJECT_NAME_NOT_FOUND, after: STATUS_OBJECT_NAME_NOT_FOUND });
  });

  it("a link's target is not checked when it is made: it leads nowhere until the target exists (STATUS_OBJECT_NAME_NOT_FOUND through it)", async () => {
    const r = await machine.exec(() => {
      const made = IoCreateSymbolicLink("\\??\\ObDangling", "\\Device\\ObNotYet");
      const through = ObReferenceObjectByName("\\??\\ObDangling", 0, null, 0, null, KPROCESSOR_MODE.KernelMode, null).status;
      IoDeleteSymbolicLink("\\??\\ObDangling");
      return { made, through };
    });
    expect(r).toEqual({ made: STATUS_SUCCESS, through: STATUS_OBJECT_NAME_NOT_FOUND });
  });

  it("ZwCreateSymbolicLinkObject makes a link that goes with its last handle (not permanent); OBJ_OPENIF opens an existing one", async () => {
    const r = await machine.exec(async () => {
      const made = ZwCreateSymbolicLinkObject(SYMBOLIC_LINK_ALL_ACCESS, attributes("\\GLOBAL??\\ObZwLink"), "\\Device\\Edu0");
      const collision = ZwCreateSymbolicLinkObject(SYMBOLIC_LINK_ALL_ACCESS, attributes("\\GLOBAL??\\ObZwLink"), "\\Device\\Edu0");
      const openif = ZwCreateSymbolicLinkObject(SYMBOLIC_LINK_ALL_ACCESS, attributes("\\GLOBAL??\\ObZwLink", OBJ_KERNEL_HANDLE | OBJ_OPENIF), "\\Device\\Other");
      const target = ZwQuerySymbolicLinkObject(openif.LinkHandle, 256).LinkTarget;
      await ZwClose(made.LinkHandle);
      const stillThere = ObReferenceObjectByName("\\GLOBAL??\\ObZwLink", 0, null, 0, ObpSymbolicLinkObjectType, KPROCESSOR_MODE.KernelMode, null);
      if (stillThere.Object) ObDereferenceObject(stillThere.Object);
      await ZwClose(openif.LinkHandle);
      const gone = ObReferenceObjectByName("\\GLOBAL??\\ObZwLink", 0, null, 0, ObpSymbolicLinkObjectType, KPROCESSOR_MODE.KernelMode, null).status;
      return { made: made.status, collision: collision.status, openif: openif.status, target, stillThere: stillThere.status, gone };
    });
    expect(r).toEqual({
      made: STATUS_SUCCESS, collision: STATUS_OBJECT_NAME_COLLISION, openif: STATUS_OBJECT_NAME_EXISTS, target: "\\Device\\Edu0",
      stillThere: STATUS_SUCCESS, gone: STATUS_OBJECT_NAME_NOT_FOUND,
    });
  });

  it("ZwCreateDirectoryObject makes a directory; a name relative to its handle (RootDirectory) is created in it", async () => {
    const r = await machine.exec(async () => {
      const dir = ZwCreateDirectoryObject(DIRECTORY_ALL_ACCESS, attributes("\\ObTestDir"));
      const ev = ZwCreateEvent(EVENT_ALL_ACCESS, attributes("Inner", OBJ_KERNEL_HANDLE, dir.DirectoryHandle), EVENT_TYPE.NotificationEvent, false);
      const byFullName = ObReferenceObjectByName("\\ObTestDir\\Inner", 0, null, 0, null, KPROCESSOR_MODE.KernelMode, null);
      const type = byFullName.Object ? "found" : "missing";
      if (byFullName.Object) ObDereferenceObject(byFullName.Object);
      const dirType = ObReferenceObjectByName("\\ObTestDir", 0, null, 0, ObpDirectoryObjectType, KPROCESSOR_MODE.KernelMode, null);
      if (dirType.Object) ObDereferenceObject(dirType.Object);
      await ZwClose(ev.EventHandle);
      await ZwClose(dir.DirectoryHandle);
      return { dir: dir.status, ev: ev.status, type, dirType: dirType.status };
    });
    expect(r).toEqual({ dir: STATUS_SUCCESS, ev: STATUS_SUCCESS, type: "found", dirType: STATUS_SUCCESS });
  });

  it("OBJ_PERMANENT keeps a name after its last handle closes; ZwMakeTemporaryObject (needs DELETE) and ObMakeTemporaryObject take it away", async () => {
    const r = await machine.exec(async () => {
      const lookup = () => ObReferenceObjectByName("\\BaseNamedObjects\\ObPermanent", 0, null, 0, null, KPROCESSOR_MODE.KernelMode, null);
      const made = ZwCreateEvent(SYNCHRONIZE, attributes("\\BaseNamedObjects\\ObPermanent", OBJ_KERNEL_HANDLE | OBJ_PERMANENT), EVENT_TYPE.NotificationEvent, false);
      const noDelete = ZwMakeTemporaryObject(made.EventHandle);
      await ZwClose(made.EventHandle);
      const kept = lookup();
      ObMakeTemporaryObject(kept.Object!);
      ObDereferenceObject(kept.Object!);
      const gone = lookup().status;
      const second = ZwCreateEvent(EVENT_ALL_ACCESS, attributes("\\BaseNamedObjects\\ObPermanent2", OBJ_KERNEL_HANDLE | OBJ_PERMANENT), EVENT_TYPE.NotificationEvent, false);
      const temporary = ZwMakeTemporaryObject(second.EventHandle);
      await ZwClose(second.EventHandle);
      const secondGone = ObReferenceObjectByName("\\BaseNamedObjects\\ObPermanent2", 0, null, 0, null, KPROCESSOR_MODE.KernelMode, null).status;
      return { noDelete, kept: kept.status, gone, temporary, secondGone };
    });
    expect(r).toEqual({ noDelete: STATUS_ACCESS_DENIED, kept: STATUS_SUCCESS, gone: STATUS_OBJECT_NAME_NOT_FOUND, temporary: STATUS_SUCCESS, secondGone: STATUS_OBJECT_NAME_NOT_FOUND });
  });

  it("IoDeleteDevice takes the device's name away: the name no longer resolves", async () => {
    const r = await machine.exec(async () => {
      const { device } = await recordingDevice("\\Device\\ObDeleted");
      const before = ObReferenceObjectByName("\\Device\\ObDeleted", 0, null, 0, IoDeviceObjectType, KPROCESSOR_MODE.KernelMode, null);
      ObDereferenceObject(before.Object!);
      IoDeleteDevice(device);
      const after = ObReferenceObjectByName("\\Device\\ObDeleted", 0, null, 0, IoDeviceObjectType, KPROCESSOR_MODE.KernelMode, null).status;
      return { before: before.status, after };
    });
    expect(r).toEqual({ before: STATUS_SUCCESS, after: STATUS_OBJECT_NAME_NOT_FOUND });
  });
});

describe("IoGetDeviceObjectPointer", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("opens the device (IRP_MJ_CREATE then IRP_MJ_CLEANUP as its handle closes), returns the file object and the top of the stack; dereferencing the file sends IRP_MJ_CLOSE", async () => {
    const r = await machine.exec(async () => {
      const { device, log } = await recordingDevice("\\Device\\ObTarget");
      IoCreateSymbolicLink("\\??\\ObTarget", "\\Device\\ObTarget");
      const p = await IoGetDeviceObjectPointer("\\??\\ObTarget\\Sub", FILE_READ_DATA);
      const seen = [...log];
      const referenceCount = device.ReferenceCount;
      ObDereferenceObject(p.FileObject!);
      // The close runs as the object's delete procedure; let it finish.
      await sleep100ns(10);
      IoDeleteSymbolicLink("\\??\\ObTarget");
      return { status: p.status, top: p.DeviceObject === device, fileName: p.FileObject?.FileName, seen, after: [...log], referenceCount, afterCount: device.ReferenceCount };
    });
    expect(r).toEqual({
      status: STATUS_SUCCESS, top: true, fileName: "\\Sub", seen: ["create\\Sub", "cleanup\\Sub"], after: ["create\\Sub", "cleanup\\Sub", "close\\Sub"],
      referenceCount: 1, afterCount: 0,
    });
  });

  it("returns the driver's failure of IRP_MJ_CREATE (no cleanup or close follow), and the name's own failures", async () => {
    const r = await machine.exec(async () => {
      const { log } = await recordingDevice("\\Device\\ObRefuses", STATUS_ACCESS_DENIED);
      const refused = await IoGetDeviceObjectPointer("\\Device\\ObRefuses", FILE_READ_DATA);
      const missing = await IoGetDeviceObjectPointer("\\Device\\ObNoSuch", FILE_READ_DATA);
      const path = await IoGetDeviceObjectPointer("\\NoDir\\ObNoSuch", FILE_READ_DATA);
      const notDevice = await IoGetDeviceObjectPointer("\\Driver\\edu", FILE_READ_DATA);
      return { refused: [refused.status, refused.FileObject, refused.DeviceObject], log, missing: missing.status, path: path.status, notDevice: notDevice.status };
    });
    expect(r).toEqual({
      refused: [STATUS_ACCESS_DENIED, null, null], log: ["create"], missing: STATUS_OBJECT_NAME_NOT_FOUND, path: STATUS_OBJECT_PATH_NOT_FOUND,
      notDevice: STATUS_OBJECT_TYPE_MISMATCH,
    });
  });
});

describe("CreateFile names", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("\\\\.\\X that does not exist is ERROR_FILE_NOT_FOUND; a missing directory on the way is ERROR_PATH_NOT_FOUND; the driver's refusal is its error", async () => {
    await machine.exec(async () => {
      await recordingDevice("\\Device\\ObUserRefuses", STATUS_ACCESS_DENIED);
      IoCreateSymbolicLink("\\DosDevices\\ObUserRefuses", "\\Device\\ObUserRefuses");
    });
    const r = await machine.runProgram("names", async () => {
      const out: [boolean, number][] = [];
      for (const name of ["\\\\.\\ObNoSuchDevice", "\\\\.\\ObNoSuchDir\\file", "\\\\.\\ObUserRefuses"]) {
        const h = await CreateFile(name, GENERIC_READ, 0, null, OPEN_EXISTING, 0, null);
        out.push([h === INVALID_HANDLE_VALUE, GetLastError()]);
      }
      const ok = await CreateFile("\\\\.\\Edu0", GENERIC_READ, 0, null, OPEN_EXISTING, 0, null);
      out.push([ok === INVALID_HANDLE_VALUE, GetLastError()]);
      await CloseHandle(ok);
      return out;
    });
    expect(r).toEqual([[true, ERROR_FILE_NOT_FOUND], [true, ERROR_PATH_NOT_FOUND], [true, ERROR_ACCESS_DENIED], [false, 0]]);
  });
});
