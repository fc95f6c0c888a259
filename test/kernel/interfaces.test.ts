// Device interfaces (IoRegisterDeviceInterface, IoSetDeviceInterfaceState,
// IoGetDeviceInterfaces, IoRegisterPlugPlayNotification with
// EventCategoryDeviceInterfaceChange, IoUnregisterPlugPlayNotificationEx) and finding them
// from user mode (SetupDiGetClassDevs, SetupDiEnumDeviceInterfaces,
// SetupDiGetDeviceInterfaceDetail, CM_Get_Device_Interface_List), then opening one with
// CreateFile, as the WDK and Win32 documentation describe.
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, type DEVICE_OBJECT, type DRIVER_OBJECT, type IRP, type DriverPackage, type DEVICE_INTERFACE_CHANGE_NOTIFICATION,
  IoRegisterDeviceInterface, IoSetDeviceInterfaceState, IoGetDeviceInterfaces, IoRegisterPlugPlayNotification, IoUnregisterPlugPlayNotificationEx,
  disableDeviceInterfaces, IO_NOTIFICATION_EVENT_CATEGORY, GUID_DEVICE_INTERFACE_ARRIVAL, GUID_DEVICE_INTERFACE_REMOVAL,
  DEVICE_INTERFACE_INCLUDE_NONACTIVE, PNPNOTIFY_DEVICE_INTERFACE_INCLUDE_EXISTING_INTERFACES, IoCreateDevice, IoAttachDeviceToDeviceStack,
  IoSkipCurrentIrpStackLocation, IoCallDriver, IoGetCurrentIrpStackLocation, KeGetCurrentIrql, PsGetCurrentProcess, KE, IRP_MJ_CREATE,
  IRP_MJ_MAXIMUM_FUNCTION, DO_BUFFERED_IO, DO_DIRECT_IO, DO_POWER_PAGABLE, DO_DEVICE_INITIALIZING, FILE_DEVICE_UNKNOWN, PASSIVE_LEVEL,
  STATUS_SUCCESS, STATUS_INVALID_DEVICE_REQUEST, STATUS_OBJECT_NAME_EXISTS, STATUS_OBJECT_NAME_NOT_FOUND,
  SetupDiGetClassDevs, SetupDiEnumDeviceInterfaces, SetupDiGetDeviceInterfaceDetail, SetupDiDestroyDeviceInfoList, CM_Get_Device_Interface_List,
  HDEVINFO, DIGCF_PRESENT, DIGCF_DEVICEINTERFACE, SPINT_ACTIVE, CM_GET_DEVICE_INTERFACE_LIST_PRESENT, CM_GET_DEVICE_INTERFACE_LIST_ALL_DEVICES,
  CR_SUCCESS, CreateFile, CloseHandle, DeviceIoControl, GetLastError, GENERIC_READ, OPEN_EXISTING, INVALID_HANDLE_VALUE, ERROR_NO_MORE_ITEMS,
  ERROR_FILE_NOT_FOUND,
} from "../../src/index.js";
import { IOCTL_EDU_GET_IDENTIFICATION } from "../../src/drivers/edu/public.js";
import type { DEVICE_NODE } from "../../src/pnp/devnode.js";
import { IO } from "../../src/io/manager.js";
import { bootDefault, createTestDevice, eduExtension, sleep100ns } from "../support/kernel-harness.js";

const GUID_TEST = "{6f8c3a21-0d4e-4b7a-9c55-1e2f3a4b5c6d}";
const GUID_OTHER = "{0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d}";

/** What the upper filter saw of each IRP_MJ_CREATE. */
interface CreateSeen {
  device: DEVICE_OBJECT;
  fileName: string;
}

/** An upper filter on edu that records IRP_MJ_CREATE and passes every IRP down. */
function filterPackage(creates: CreateSeen[]): DriverPackage {
  return {
    service: "iffilter",
    description: "records IRP_MJ_CREATE above edu",
    ids: ["PCI\\VEN_1234&DEV_11E8"],
    role: "upperFilter",
    module: {
      DriverEntry(DriverObject: DRIVER_OBJECT) {
        DriverObject.DriverExtension.AddDevice = function FilterAddDevice(driver, pdo) {
          const { DeviceObject } = IoCreateDevice(driver, { lower: null as DEVICE_OBJECT | null }, null, FILE_DEVICE_UNKNOWN, 0, false);
          const d = DeviceObject!;
          const lower = IoAttachDeviceToDeviceStack(d, pdo)!;
          d.DeviceExtension.lower = lower;
          d.Flags |= lower.Flags & (DO_BUFFERED_IO | DO_DIRECT_IO | DO_POWER_PAGABLE);
          d.Flags &= ~DO_DEVICE_INITIALIZING;
          return STATUS_SUCCESS;
        };
        for (let major = 0; major <= IRP_MJ_MAXIMUM_FUNCTION; major++) {
          DriverObject.MajorFunction[major] = function FilterPassDown(device: DEVICE_OBJECT, irp: IRP) {
            const s = IoGetCurrentIrpStackLocation(irp);
            if (s.MajorFunction === IRP_MJ_CREATE) creates.push({ device, fileName: (s.FileObject as { FileName: string }).FileName });
            IoSkipCurrentIrpStackLocation(irp);
            return IoCallDriver(device.DeviceExtension.lower, irp);
          };
        }
        return STATUS_SUCCESS;
      },
    },
  };
}

describe("device interfaces", () => {
  let machine: Machine;
  let pdo: DEVICE_OBJECT;
  let instancePath: string;
  const creates: CreateSeen[] = [];
  beforeAll(async () => {
    machine = await bootDefault({}, { packages: [filterPackage(creates)] });
    pdo = eduExtension(machine).PhysicalDeviceObject;
    instancePath = (pdo.deviceNode as DEVICE_NODE).InstancePath;
  });

  it("IoRegisterDeviceInterface names the instance \\??\\<instance path, \\ as #>#{guid}, the same name again for the same instance, and \\RefString after it", async () => {
    const r = await machine.exec(() => {
      const a = IoRegisterDeviceInterface(pdo, GUID_TEST, null);
      const again = IoRegisterDeviceInterface(pdo, GUID_TEST.toUpperCase(), null);
      const ref = IoRegisterDeviceInterface(pdo, GUID_TEST, "Port1");
      return { a, again, ref };
    });
    const expected = `\\??\\${instancePath.replace(/\\/g, "#")}#${GUID_TEST}`;
    expect(instancePath).toMatch(/^PCI\\VEN_1234&DEV_11E8/);
    expect(r.a).toEqual({ status: STATUS_SUCCESS, SymbolicLinkName: expected });
    expect(r.again).toEqual(r.a);
    expect(r.ref).toEqual({ status: STATUS_SUCCESS, SymbolicLinkName: `${expected}\\Port1` });
  });

  it("a device object that is not a PDO, or a reference string with a path separator: STATUS_INVALID_DEVICE_REQUEST", async () => {
    const r = await machine.exec(async () => {
      const notPdo = await createTestDevice();
      return [IoRegisterDeviceInterface(notPdo, GUID_TEST, null).status, IoRegisterDeviceInterface(pdo, GUID_TEST, "a\\b").status, IoRegisterDeviceInterface(pdo, GUID_TEST, "a/b").status];
    });
    expect(r).toEqual([STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_DEVICE_REQUEST]);
  });

  it("IoSetDeviceInterfaceState: enabling links the name to the PDO (STATUS_OBJECT_NAME_EXISTS if already enabled); disabling removes the link (STATUS_OBJECT_NAME_NOT_FOUND if not enabled)", async () => {
    const r = await machine.exec(() => {
      const { SymbolicLinkName } = IoRegisterDeviceInterface(pdo, GUID_OTHER, null);
      const io = IO();
      const before = io.resolve(SymbolicLinkName) ?? null;
      const enable = IoSetDeviceInterfaceState(SymbolicLinkName, true);
      const resolved = io.resolve(SymbolicLinkName) === pdo;
      const enableAgain = IoSetDeviceInterfaceState(SymbolicLinkName, true);
      const disable = IoSetDeviceInterfaceState(SymbolicLinkName, false);
      const after = io.resolve(SymbolicLinkName) ?? null;
      const disableAgain = IoSetDeviceInterfaceState(SymbolicLinkName, false);
      return { before, enable, resolved, enableAgain, disable, after, disableAgain };
    });
    expect(r).toEqual({
      before: null, enable: STATUS_SUCCESS, resolved: true, enableAgain: STATUS_OBJECT_NAME_EXISTS, disable: STATUS_SUCCESS, after: null,
      disableAgain: STATUS_OBJECT_NAME_NOT_FOUND,
    });
  });

  it("IoGetDeviceInterfaces lists the enabled instances of a class; DEVICE_INTERFACE_INCLUDE_NONACTIVE adds the rest; a PDO narrows the list to its own", async () => {
    const r = await machine.exec(async () => {
      const guid = "{11111111-2222-4333-8444-555555555555}";
      const a = IoRegisterDeviceInterface(pdo, guid, "A").SymbolicLinkName;
      const b = IoRegisterDeviceInterface(pdo, guid, "B").SymbolicLinkName;
      IoSetDeviceInterfaceState(a, true);
      const other = await createTestDevice();
      return {
        a, b,
        active: IoGetDeviceInterfaces(guid, null, 0).SymbolicLinkList,
        all: IoGetDeviceInterfaces(guid, null, DEVICE_INTERFACE_INCLUDE_NONACTIVE).SymbolicLinkList,
        ofOther: IoGetDeviceInterfaces(guid, other, DEVICE_INTERFACE_INCLUDE_NONACTIVE).SymbolicLinkList,
      };
    });
    expect(r.active).toEqual([r.a]);
    expect(r.all).toEqual([r.a, r.b]);
    expect(r.ofOther).toEqual([]);
  });

  it("interface-change callbacks: existing interfaces before registration returns (PNPNOTIFY_..._INCLUDE_EXISTING_INTERFACES), then arrivals and removals at PASSIVE_LEVEL in a system thread, none after IoUnregisterPlugPlayNotificationEx", async () => {
    const r = await machine.exec(async () => {
      const guid = "{22222222-3333-4444-8555-666666666666}";
      const first = IoRegisterDeviceInterface(pdo, guid, "first").SymbolicLinkName;
      const second = IoRegisterDeviceInterface(pdo, guid, "second").SymbolicLinkName;
      IoSetDeviceInterfaceState(first, true);
      await sleep100ns(100);
      const seen: { event: string; guid: string; link: string; irql: number; system: boolean; version: number }[] = [];
      const { status, NotificationEntry } = await IoRegisterPlugPlayNotification(
        IO_NOTIFICATION_EVENT_CATEGORY.EventCategoryDeviceInterfaceChange, PNPNOTIFY_DEVICE_INTERFACE_INCLUDE_EXISTING_INTERFACES, guid,
        eduExtension(machine).Self.DriverObject,
        function InterfaceChanged(n: DEVICE_INTERFACE_CHANGE_NOTIFICATION) {
          seen.push({
            event: n.Event === GUID_DEVICE_INTERFACE_ARRIVAL ? "arrival" : n.Event === GUID_DEVICE_INTERFACE_REMOVAL ? "removal" : n.Event,
            guid: n.InterfaceClassGuid, link: n.SymbolicLinkName, irql: KeGetCurrentIrql(), system: PsGetCurrentProcess() === KE().scheduler.systemProcess,
            version: n.Version,
          });
          return STATUS_SUCCESS;
        }, null);
      const atRegistration = seen.length;
      IoSetDeviceInterfaceState(second, true);
      IoSetDeviceInterfaceState(first, false);
      const beforeDelivery = seen.length;
      await sleep100ns(100);
      IoUnregisterPlugPlayNotificationEx(NotificationEntry!);
      IoSetDeviceInterfaceState(second, false);
      await sleep100ns(100);
      return { status, atRegistration, beforeDelivery, seen, first, second, guid };
    });
    expect(r.status).toBe(STATUS_SUCCESS);
    expect(r.atRegistration).toBe(1);
    expect(r.beforeDelivery).toBe(1);
    const common = { guid: r.guid, irql: PASSIVE_LEVEL, system: true, version: 1 };
    expect(r.seen).toEqual([
      { event: "arrival", link: r.first, ...common },
      { event: "arrival", link: r.second, ...common },
      { event: "removal", link: r.first, ...common },
    ]);
  });

  it("disableDeviceInterfaces (the PnP manager's call when it removes a device) disables every enabled interface of the device", async () => {
    const r = await machine.exec(() => {
      const guid = "{33333333-4444-4555-8666-777777777777}";
      const a = IoRegisterDeviceInterface(pdo, guid, null).SymbolicLinkName;
      IoSetDeviceInterfaceState(a, true);
      const before = IoGetDeviceInterfaces(guid, pdo, 0).SymbolicLinkList.length;
      disableDeviceInterfaces(pdo);
      return { before, after: IoGetDeviceInterfaces(guid, pdo, 0).SymbolicLinkList.length, registered: IoGetDeviceInterfaces(guid, pdo, DEVICE_INTERFACE_INCLUDE_NONACTIVE).SymbolicLinkList.length, resolves: IO().resolve(a) !== undefined };
    });
    expect(r).toEqual({ before: 1, after: 0, registered: 1, resolves: false });
  });

  it("from user mode: SetupDi enumeration gives \\\\?\\ device paths; CreateFile on one sends IRP_MJ_CREATE to the top of the PDO's stack with the reference string as FileName", async () => {
    const guid = "{44444444-5555-4666-8777-888888888888}";
    const links = await machine.exec(() => {
      const plain = IoRegisterDeviceInterface(pdo, guid, null).SymbolicLinkName;
      const ref = IoRegisterDeviceInterface(pdo, guid, "Ref7").SymbolicLinkName;
      IoSetDeviceInterfaceState(plain, true);
      IoSetDeviceInterfaceState(ref, true);
      return { plain, ref };
    });
    creates.length = 0;
    const r = await machine.runProgram("setupdi", async () => {
      const set = SetupDiGetClassDevs(guid, null, null, DIGCF_PRESENT | DIGCF_DEVICEINTERFACE);
      if (!(set instanceof HDEVINFO)) throw new Error("SetupDiGetClassDevs failed");
      const paths: string[] = [];
      const flags: number[] = [];
      let i = 0;
      for (;;) {
        const e = SetupDiEnumDeviceInterfaces(set, null, guid, i++);
        if (!e.ok) break;
        flags.push(e.DeviceInterfaceData!.Flags);
        paths.push(SetupDiGetDeviceInterfaceDetail(set, e.DeviceInterfaceData!).DevicePath);
      }
      const endError = GetLastError();
      SetupDiDestroyDeviceInfoList(set);
      const ids: number[] = [];
      for (const path of paths) {
        const h = await CreateFile(path, GENERIC_READ, 0, null, OPEN_EXISTING, 0, null);
        if (h === INVALID_HANDLE_VALUE) throw new Error(`CreateFile(${path}) failed: ${GetLastError()}`);
        const out = new Uint8Array(4);
        await DeviceIoControl(h, IOCTL_EDU_GET_IDENTIFICATION, null, 0, out, 4);
        ids.push(new DataView(out.buffer).getUint32(0, true));
        await CloseHandle(h);
      }
      return { paths, flags, endError, ids };
    });
    expect(r.paths).toEqual([links.plain.replace(/^\\\?\?\\/, "\\\\?\\"), links.ref.replace(/^\\\?\?\\/, "\\\\?\\")]);
    expect(r.flags).toEqual([SPINT_ACTIVE, SPINT_ACTIVE]);
    expect(r.endError).toBe(ERROR_NO_MORE_ITEMS);
    expect(r.ids).toEqual([0x010000ED, 0x010000ED]);
    const top = eduExtension(machine).Self.AttachedDevice;
    expect(creates.map((c) => ({ top: c.device === top, fileName: c.fileName }))).toEqual([{ top: true, fileName: "" }, { top: true, fileName: "\\Ref7" }]);
  });

  it("a disabled interface is left out of a DIGCF_PRESENT set and of CM_GET_DEVICE_INTERFACE_LIST_PRESENT, and its path no longer opens (ERROR_FILE_NOT_FOUND)", async () => {
    const guid = "{55555555-6666-4777-8888-999999999999}";
    const link = await machine.exec(() => {
      const l = IoRegisterDeviceInterface(pdo, guid, null).SymbolicLinkName;
      IoSetDeviceInterfaceState(l, true);
      return l;
    });
    const path = link.replace(/^\\\?\?\\/, "\\\\?\\");
    const opened = await machine.runProgram("open-enabled", async () => {
      const h = await CreateFile(path, GENERIC_READ, 0, null, OPEN_EXISTING, 0, null);
      if (h !== INVALID_HANDLE_VALUE) await CloseHandle(h);
      return { present: CM_Get_Device_Interface_List(guid, null, CM_GET_DEVICE_INTERFACE_LIST_PRESENT), ok: h !== INVALID_HANDLE_VALUE };
    });
    await machine.exec(() => IoSetDeviceInterfaceState(link, false));
    const r = await machine.runProgram("open-disabled", async () => {
      const set = SetupDiGetClassDevs(guid, null, null, DIGCF_PRESENT | DIGCF_DEVICEINTERFACE) as HDEVINFO;
      const first = SetupDiEnumDeviceInterfaces(set, null, guid, 0);
      const enumError = GetLastError();
      const h = await CreateFile(path, GENERIC_READ, 0, null, OPEN_EXISTING, 0, null);
      const openError = GetLastError();
      return {
        first: first.ok, enumError, opened: h !== INVALID_HANDLE_VALUE, openError,
        present: CM_Get_Device_Interface_List(guid, null, CM_GET_DEVICE_INTERFACE_LIST_PRESENT),
        all: CM_Get_Device_Interface_List(guid, instancePath, CM_GET_DEVICE_INTERFACE_LIST_ALL_DEVICES),
      };
    });
    expect(opened).toEqual({ present: { cr: CR_SUCCESS, Buffer: [path] }, ok: true });
    expect(r).toEqual({
      first: false, enumError: ERROR_NO_MORE_ITEMS, opened: false, openError: ERROR_FILE_NOT_FOUND,
      present: { cr: CR_SUCCESS, Buffer: [] }, all: { cr: CR_SUCCESS, Buffer: [path] },
    });
  });
});
