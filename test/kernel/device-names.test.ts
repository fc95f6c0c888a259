// IoCreateDevice, IoCreateSymbolicLink and IoDeleteSymbolicLink take their names as
// PUNICODE_STRING: a UNICODE_STRING (its Length bytes), or a JS string standing for one.
// The I/O manager clears DO_DEVICE_INITIALIZING on the devices DriverEntry created.
import { describe, expect, it } from "vitest";
import {
  DO_DEVICE_INITIALIZING, FILE_DEVICE_UNKNOWN, IoCreateDevice, IoCreateSymbolicLink, IoDeleteSymbolicLink, RtlInitUnicodeString, RTL_CONSTANT_STRING, STATUS_OBJECT_NAME_COLLISION,
  STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS, UNICODE_STRING,
} from "../../src/index.js";
import { IO } from "../../src/io/manager.js";
import { bootDefault, kernelOf } from "../support/kernel-harness.js";

describe("device and symbolic-link names as UNICODE_STRING", () => {
  it("creates a device and a link from UNICODE_STRINGs, resolves them, and deletes the link by either form; DriverEntry's devices are ready after it", async () => {
    const m = await bootDefault();
    const out: unknown[] = [];
    let initializingInDriverEntry = -1;
    await m.exec(async () => IO().loadDriver("NamesTest", {
      DriverEntry: (driver) => {
        const name = new UNICODE_STRING();
        RtlInitUnicodeString(name, "\\Device\\NamesTest");
        const { status, DeviceObject } = IoCreateDevice(driver, null, name, FILE_DEVICE_UNKNOWN, 0, false);
        initializingInDriverEntry = DeviceObject!.Flags & DO_DEVICE_INITIALIZING;
        const link = RTL_CONSTANT_STRING("\\DosDevices\\NamesTest");
        out.push(
          status, DeviceObject?.name,
          IoCreateDevice(driver, null, "\\Device\\NamesTest", FILE_DEVICE_UNKNOWN, 0, false).status,
          IoCreateSymbolicLink(link, name),
          IoCreateSymbolicLink("\\DosDevices\\NamesTest", "\\Device\\NamesTest"),
          IoCreateSymbolicLink(RTL_CONSTANT_STRING("\\DosDevices\\Other"), RTL_CONSTANT_STRING("\\Device\\Missing")),
          IO().resolve("\\\\.\\NamesTest") === DeviceObject,
          IoDeleteSymbolicLink(link),
          IoDeleteSymbolicLink("\\DosDevices\\NamesTest"),
          IoCreateSymbolicLink("\\DosDevices\\NamesTest", name),
          IoDeleteSymbolicLink(RTL_CONSTANT_STRING("\\DosDevices\\NamesTest")),
        );
        return STATUS_SUCCESS;
      },
    }));
    // Devices created in DriverEntry: DO_DEVICE_INITIALIZING set by IoCreateDevice, cleared by the I/O manager once DriverEntry returns.
    expect(initializingInDriverEntry).toBe(DO_DEVICE_INITIALIZING);
    expect(IO(kernelOf(m)).resolve("\\Device\\NamesTest")!.Flags & DO_DEVICE_INITIALIZING).toBe(0);
    expect(out).toEqual([
      STATUS_SUCCESS, "\\Device\\NamesTest",
      STATUS_OBJECT_NAME_COLLISION,
      STATUS_SUCCESS,
      STATUS_OBJECT_NAME_COLLISION,
      // A link may name a target that does not exist (yet): the object manager does not check.
      STATUS_SUCCESS,
      true,
      STATUS_SUCCESS,
      STATUS_OBJECT_NAME_NOT_FOUND,
      STATUS_SUCCESS,
      STATUS_SUCCESS,
    ]);
  });
});
