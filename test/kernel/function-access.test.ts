// IoCheckFunctionAccess: the access a read, a write or a device control needs on its handle.
import { describe, expect, it } from "vitest";
import { IoCheckFunctionAccess, ioctlRequiredAccess } from "../../src/io/function-access.js";
import { CTL_CODE, FILE_ANY_ACCESS, FILE_READ_ACCESS, FILE_WRITE_ACCESS, METHOD_BUFFERED } from "../../src/io/ioctl.js";
import { IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL, IRP_MJ_READ, IRP_MJ_WRITE } from "../../src/io/irp.js";
import { STATUS_ACCESS_DENIED, STATUS_SUCCESS } from "../../src/ke/ntstatus.js";
import { FILE_GENERIC_READ, FILE_READ_DATA, FILE_WRITE_DATA } from "../../src/ob/access.js";

const ioctl = (access: number) => CTL_CODE(0x22, 0x800, METHOD_BUFFERED, access);

describe("IoCheckFunctionAccess", () => {
  it("reads need FILE_READ_DATA and writes FILE_WRITE_DATA", () => {
    expect(IoCheckFunctionAccess(FILE_GENERIC_READ, IRP_MJ_READ, 0, 0)).toBe(STATUS_SUCCESS);
    expect(IoCheckFunctionAccess(FILE_GENERIC_READ, IRP_MJ_WRITE, 0, 0)).toBe(STATUS_ACCESS_DENIED);
    expect(IoCheckFunctionAccess(FILE_WRITE_DATA, IRP_MJ_WRITE, 0, 0)).toBe(STATUS_SUCCESS);
    expect(IoCheckFunctionAccess(0, IRP_MJ_CREATE, 0, 0)).toBe(STATUS_SUCCESS);
  });

  it("a device control needs the access its code's RequiredAccess names", () => {
    expect(ioctlRequiredAccess(ioctl(FILE_ANY_ACCESS))).toBe(0);
    expect(ioctlRequiredAccess(ioctl(FILE_READ_ACCESS | FILE_WRITE_ACCESS))).toBe(FILE_READ_DATA | FILE_WRITE_DATA);
    expect(IoCheckFunctionAccess(FILE_READ_DATA, IRP_MJ_DEVICE_CONTROL, 0, ioctl(FILE_READ_ACCESS))).toBe(STATUS_SUCCESS);
    expect(IoCheckFunctionAccess(FILE_READ_DATA, IRP_MJ_DEVICE_CONTROL, 0, ioctl(FILE_WRITE_ACCESS))).toBe(STATUS_ACCESS_DENIED);
    expect(IoCheckFunctionAccess(0, IRP_MJ_DEVICE_CONTROL, 0, ioctl(FILE_ANY_ACCESS))).toBe(STATUS_SUCCESS);
  });
});
