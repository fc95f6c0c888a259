// Handles as the WDK documents them: OBJ_KERNEL_HANDLE puts a handle in the kernel handle table
// (its value has the top bits set, 0xFFFFFFFF8xxxxxxx on x64); ObReferenceObjectByHandle returns
// STATUS_INVALID_HANDLE, STATUS_OBJECT_TYPE_MISMATCH or STATUS_ACCESS_DENIED (UserMode only) and
// otherwise the object with a reference; ZwClose closes a handle (0x93 INVALID_KERNEL_HANDLE for an
// invalid one under the verifier); ObOpenObjectByPointer, ZwDuplicateObject, ObIsKernelHandle; and
// the verifier's rules (IrqlObPassive 0x2001B, IrqlZwPassive 0x2001F, a user handle referenced as
// KernelMode 0xF6).
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, ObReferenceObjectByHandle, ObReferenceObjectByHandleWithTag, ObDereferenceObject, ObOpenObjectByPointer, ObIsKernelHandle,
  ZwClose, NtClose, ZwDuplicateObject, ZwCreateEvent, OBJECT_ATTRIBUTES, InitializeObjectAttributes, OBJ_KERNEL_HANDLE, EVENT_TYPE,
  EVENT_ALL_ACCESS, EVENT_MODIFY_STATE, SYNCHRONIZE, GENERIC_READ, EVENT_QUERY_STATE, READ_CONTROL, KEVENT, KPROCESSOR_MODE, ExEventObjectType,
  IoFileObjectType, PsProcessType, PsThreadType, NtCurrentProcess, NtCurrentThread, PsGetCurrentProcess, PsGetCurrentThread, DUPLICATE_SAME_ACCESS,
  DUPLICATE_CLOSE_SOURCE, STATUS_SUCCESS, STATUS_INVALID_HANDLE, STATUS_OBJECT_TYPE_MISMATCH, STATUS_ACCESS_DENIED, INVALID_KERNEL_HANDLE,
  DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_USER_HANDLE_AS_KERNEL, DDI_RULE_IRQL_OB_PASSIVE, DDI_RULE_IRQL_ZW_PASSIVE, DISPATCH_LEVEL,
  KeRaiseIrql, KeLowerIrql, CreateEvent, OpenEvent, CloseHandle, formatPointer, CreateFile, OPEN_EXISTING, FILE_READ_DATA, FILE_WRITE_DATA,
  FILE_GENERIC_READ, type FILE_OBJECT,
} from "../../src/index.js";
import { asDriver, bootDefault, bugCheckOf, crash, expectBugCheck, kernelOf } from "../support/kernel-harness.js";
import { OB } from "../../src/ob/manager.js";
import { MM } from "../../src/mm/manager.js";

/** ZwCreateEvent with `attributes` and no name; returns the handle. */
function event(attributes = OBJ_KERNEL_HANDLE, access = EVENT_ALL_ACCESS): number {
  const oa = new OBJECT_ATTRIBUTES();
  InitializeObjectAttributes(oa, null, attributes, null, null);
  const r = ZwCreateEvent(access, oa, EVENT_TYPE.NotificationEvent, false);
  if (r.status !== STATUS_SUCCESS) throw new Error(`ZwCreateEvent: ${r.status}`);
  return r.EventHandle;
}

describe("handles", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("OBJ_KERNEL_HANDLE gives a kernel handle: negative as a signed 64-bit value, 0xFFFFFFFF8xxxxxxx printed, ObIsKernelHandle TRUE", async () => {
    const r = await machine.exec(async () => {
      const kernel = event(OBJ_KERNEL_HANDLE);
      const plain = event(0);
      const out = { kernel, printed: formatPointer(kernel), isKernel: ObIsKernelHandle(kernel), plain, plainIsKernel: ObIsKernelHandle(plain) };
      await ZwClose(kernel);
      await ZwClose(plain);
      return out;
    });
    expect(r.kernel).toBeLessThan(0);
    expect(r.printed).toMatch(/^ffffffff`800000[0-9a-f]{2}$/);
    expect(r.isKernel).toBe(true);
    // A system thread's handle without OBJ_KERNEL_HANDLE is in the System process's table: a plain multiple of 4.
    expect(r.plain % 4).toBe(0);
    expect(r.plain).toBeGreaterThan(0);
    expect(r.plainIsKernel).toBe(false);
  });

  it("ObReferenceObjectByHandle returns the object with a reference and the handle's granted access", async () => {
    const r = await machine.exec(async () => {
      const h = event(OBJ_KERNEL_HANDLE, SYNCHRONIZE | EVENT_QUERY_STATE);
      const ref = ObReferenceObjectByHandle<KEVENT>(h, SYNCHRONIZE, ExEventObjectType, KPROCESSOR_MODE.KernelMode);
      const count = OB().headerOf(ref.Object!)!.PointerCount;
      ObDereferenceObject(ref.Object!);
      await ZwClose(h);
      return { status: ref.status, isEvent: ref.Object instanceof KEVENT, granted: ref.HandleInformation.GrantedAccess, count };
    });
    expect(r).toEqual({ status: STATUS_SUCCESS, isEvent: true, granted: SYNCHRONIZE | EVENT_QUERY_STATE, count: 2 });
  });

  it("a handle that names nothing is STATUS_INVALID_HANDLE; another type is STATUS_OBJECT_TYPE_MISMATCH; both return no object", async () => {
    const r = await machine.exec(async () => {
      const h = event();
      const wrongType = ObReferenceObjectByHandle(h, 0, IoFileObjectType, KPROCESSOR_MODE.KernelMode);
      await ZwClose(h);
      const closed = ObReferenceObjectByHandle(h, 0, ExEventObjectType, KPROCESSOR_MODE.KernelMode);
      const never = ObReferenceObjectByHandle(0x7ffc, 0, null, KPROCESSOR_MODE.KernelMode);
      return [wrongType, closed, never].map((x) => [x.status, x.Object]);
    });
    expect(r).toEqual([[STATUS_OBJECT_TYPE_MISMATCH, null], [STATUS_INVALID_HANDLE, null], [STATUS_INVALID_HANDLE, null]]);
  });

  it("NtCurrentProcess() and NtCurrentThread() name the caller's process and thread (and only with their own type)", async () => {
    const r = await machine.exec(() => {
      const p = ObReferenceObjectByHandle(NtCurrentProcess, 0, PsProcessType, KPROCESSOR_MODE.KernelMode);
      const t = ObReferenceObjectByHandle(NtCurrentThread, 0, PsThreadType, KPROCESSOR_MODE.KernelMode);
      const wrong = ObReferenceObjectByHandle(NtCurrentProcess, 0, PsThreadType, KPROCESSOR_MODE.KernelMode);
      const out = { process: p.Object === PsGetCurrentProcess(), thread: t.Object === PsGetCurrentThread(), wrong: wrong.status };
      ObDereferenceObject(p.Object!);
      ObDereferenceObject(t.Object!);
      return out;
    });
    expect(r).toEqual({ process: true, thread: true, wrong: STATUS_OBJECT_TYPE_MISMATCH });
  });

  it("UserMode: a handle without the right asked for is STATUS_ACCESS_DENIED (generic rights mapped); a kernel handle is STATUS_INVALID_HANDLE", async () => {
    await machine.exec(() => {
      const oa = new OBJECT_ATTRIBUTES();
      InitializeObjectAttributes(oa, "\\BaseNamedObjects\\ObHandleTest", 0, null, null);
      // A permanent-ish holder so the name stays while the program runs.
      const r = ZwCreateEvent(EVENT_ALL_ACCESS, oa, EVENT_TYPE.NotificationEvent, false);
      if (r.status !== STATUS_SUCCESS) throw new Error("ZwCreateEvent");
    });
    let kernelHandle = 0;
    await machine.exec(() => {
      kernelHandle = event(OBJ_KERNEL_HANDLE);
    });
    const r = await machine.runProgram("access", async () => {
      const h = OpenEvent(SYNCHRONIZE, false, "ObHandleTest");
      const denied = ObReferenceObjectByHandle(h, EVENT_MODIFY_STATE, ExEventObjectType, KPROCESSOR_MODE.UserMode).status;
      const genericDenied = ObReferenceObjectByHandle(h, GENERIC_READ, ExEventObjectType, KPROCESSOR_MODE.UserMode).status;
      const ok = ObReferenceObjectByHandle(h, SYNCHRONIZE, ExEventObjectType, KPROCESSOR_MODE.UserMode);
      ObDereferenceObject(ok.Object!);
      const kernelFromUser = ObReferenceObjectByHandle(kernelHandle, 0, null, KPROCESSOR_MODE.UserMode).status;
      await CloseHandle(h);
      return { denied, genericDenied, ok: ok.status, kernelFromUser };
    });
    expect(r).toEqual({ denied: STATUS_ACCESS_DENIED, genericDenied: STATUS_ACCESS_DENIED, ok: STATUS_SUCCESS, kernelFromUser: STATUS_INVALID_HANDLE });
  });

  it("a file handle from CreateFile(GENERIC_READ) has FILE_GENERIC_READ: a UserMode reference for FILE_WRITE_DATA is STATUS_ACCESS_DENIED", async () => {
    const r = await machine.runProgram("file-access", async () => {
      const h = await CreateFile("\\\\.\\Edu0", GENERIC_READ, 0, null, OPEN_EXISTING, 0, null);
      const read = ObReferenceObjectByHandle<FILE_OBJECT>(h, FILE_READ_DATA, IoFileObjectType, KPROCESSOR_MODE.UserMode);
      const write = ObReferenceObjectByHandle(h, FILE_WRITE_DATA, IoFileObjectType, KPROCESSOR_MODE.UserMode);
      const out = { read: read.status, device: read.Object?.DeviceObject.name, granted: read.HandleInformation.GrantedAccess, write: write.status };
      ObDereferenceObject(read.Object!);
      await CloseHandle(h);
      return out;
    });
    expect(r).toEqual({ read: STATUS_SUCCESS, device: "\\Device\\Edu0", granted: FILE_GENERIC_READ, write: STATUS_ACCESS_DENIED });
  });

  it("a user handle referenced from a system thread is looked up in the System process's table: it fails or finds an unrelated object", async () => {
    let userHandle = 0;
    let userEvent: object | null = null;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const program = machine.runProgram("holder", async () => {
      userHandle = CreateEvent(null, true, false, null);
      const r = ObReferenceObjectByHandle(userHandle, SYNCHRONIZE, ExEventObjectType, KPROCESSOR_MODE.UserMode);
      userEvent = r.Object;
      ObDereferenceObject(r.Object!);
      await held;
    });
    await machine.run(machine.nowPs + 1_000_000);
    const found = await machine.exec(() => {
      const r = ObReferenceObjectByHandle(userHandle, SYNCHRONIZE, null, KPROCESSOR_MODE.KernelMode);
      if (r.Object) ObDereferenceObject(r.Object);
      return r;
    });
    release();
    await program;
    expect(userEvent).not.toBeNull();
    expect(found.status === STATUS_INVALID_HANDLE || found.Object !== userEvent).toBe(true);
    expect(found.Object).not.toBe(userEvent);
  });

  it("under the verifier, a driver referencing a user handle with KernelMode in the user's process is 0xC4 / 0xF6 (P2 handle, P3 process, P4 caller)", async () => {
    const m = await bootDefault();
    const k = kernelOf(m);
    let handle = 0;
    let process = 0;
    const bc = await bugCheckOf(m.runProgram("kernel-mode-ref", async () => {
      handle = CreateEvent(null, true, false, null);
      process = OB().headerOf(PsGetCurrentProcess())!.bodyAddress;
      asDriver("obtest", "DispatchDeviceControl", () => ObReferenceObjectByHandle(handle, EVENT_MODIFY_STATE, ExEventObjectType, KPROCESSOR_MODE.KernelMode));
    }));
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_USER_HANDLE_AS_KERNEL, handle, process, MM(k).codeAddress("obtest", "DispatchDeviceControl"));
  });

  it("without the verifier the same KernelMode reference succeeds and skips the access check (the security hole the rule exists for)", async () => {
    const m = await bootDefault({ verifier: false });
    const r = await m.runProgram("no-verifier", async () => {
      const full = CreateEvent(null, true, false, null);
      const name = "ObNoVerifier";
      CreateEvent(null, true, false, name);
      const weak = OpenEvent(SYNCHRONIZE, false, name);
      const ref = ObReferenceObjectByHandle(weak, EVENT_MODIFY_STATE, ExEventObjectType, KPROCESSOR_MODE.KernelMode);
      ObDereferenceObject(ref.Object!);
      return { full: full > 0, status: ref.status };
    });
    expect(r).toEqual({ full: true, status: STATUS_SUCCESS });
  });

  it("ObReferenceObjectByHandleWithTag references like ObReferenceObjectByHandle and records the tag", async () => {
    const r = await machine.exec(async () => {
      const h = event();
      const ref = ObReferenceObjectByHandleWithTag<KEVENT>(h, 0, ExEventObjectType, KPROCESSOR_MODE.KernelMode, "ObTg");
      const tags = [...OB().headerOf(ref.Object!)!.tags!.values()];
      ObDereferenceObject(ref.Object!);
      await ZwClose(h);
      return { status: ref.status, tags };
    });
    expect(r).toEqual({ status: STATUS_SUCCESS, tags: [1] });
  });

  it("ZwClose closes a handle (STATUS_SUCCESS) and the value is handed out again; without the verifier an invalid handle is STATUS_INVALID_HANDLE", async () => {
    const m = await bootDefault({ verifier: false });
    const r = await m.exec(async () => {
      const a = event();
      const first = await ZwClose(a);
      const b = event();
      const again = await ZwClose(b);
      const twice = await ZwClose(b);
      return { first, reused: a === b, again, twice };
    });
    expect(r).toEqual({ first: STATUS_SUCCESS, reused: true, again: STATUS_SUCCESS, twice: STATUS_INVALID_HANDLE });
  });

  it("under the verifier ZwClose of an invalid handle is 0x93 INVALID_KERNEL_HANDLE (P1 the handle, P2 1)", async () => {
    let h = 0;
    const bc = await crash(async () => {
      h = event();
      await ZwClose(h);
      await ZwClose(h);
    });
    expectBugCheck(bc, INVALID_KERNEL_HANDLE, h, 1, 0, 0);
  });

  it("NtClose with a user thread's previous mode: an invalid handle is only STATUS_INVALID_HANDLE, and a kernel handle is not its to close", async () => {
    let kernelHandle = 0;
    await machine.exec(() => {
      kernelHandle = event(OBJ_KERNEL_HANDLE);
    });
    const r = await machine.runProgram("ntclose", async () => [await NtClose(0x7ff0), await NtClose(kernelHandle)]);
    expect(r).toEqual([STATUS_INVALID_HANDLE, STATUS_INVALID_HANDLE]);
    expect(await machine.exec(() => ZwClose(kernelHandle))).toBe(STATUS_SUCCESS);
  });

  it("ZwClose above PASSIVE_LEVEL is 0xC4 / 0x2001F (IrqlZwPassive); ObReferenceObjectByHandle there is 0xC4 / 0x2001B (IrqlObPassive)", async () => {
    const zw = await crash(async () => {
      const h = event();
      KeRaiseIrql(DISPATCH_LEVEL);
      await ZwClose(h);
    });
    expectBugCheck(zw, DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_ZW_PASSIVE);
    const ob = await crash(() => {
      const h = event();
      const old = KeRaiseIrql(DISPATCH_LEVEL);
      ObReferenceObjectByHandle(h, 0, null, KPROCESSOR_MODE.KernelMode);
      KeLowerIrql(old);
    });
    expectBugCheck(ob, DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_OB_PASSIVE);
  });

  it("ObOpenObjectByPointer opens a handle (kernel with OBJ_KERNEL_HANDLE) to an object it is given, checking the type", async () => {
    const r = await machine.exec(async () => {
      const h = event();
      const e = ObReferenceObjectByHandle<KEVENT>(h, 0, ExEventObjectType, KPROCESSOR_MODE.KernelMode).Object!;
      const opened = ObOpenObjectByPointer(e, OBJ_KERNEL_HANDLE, null, READ_CONTROL, ExEventObjectType, KPROCESSOR_MODE.KernelMode);
      const wrong = ObOpenObjectByPointer(e, OBJ_KERNEL_HANDLE, null, 0, IoFileObjectType, KPROCESSOR_MODE.KernelMode);
      const same = ObReferenceObjectByHandle<KEVENT>(opened.Handle, 0, ExEventObjectType, KPROCESSOR_MODE.KernelMode);
      const handles = OB().headerOf(e)!.HandleCount;
      ObDereferenceObject(same.Object!);
      ObDereferenceObject(e);
      await ZwClose(opened.Handle);
      await ZwClose(h);
      return { status: opened.status, kernel: ObIsKernelHandle(opened.Handle), same: same.Object === e, granted: same.HandleInformation.GrantedAccess, wrong: wrong.status, handles };
    });
    expect(r).toEqual({ status: STATUS_SUCCESS, kernel: true, same: true, granted: READ_CONTROL, wrong: STATUS_OBJECT_TYPE_MISMATCH, handles: 2 });
  });

  it("ZwDuplicateObject makes a second handle to the object (DUPLICATE_SAME_ACCESS) and DUPLICATE_CLOSE_SOURCE closes the first", async () => {
    const r = await machine.exec(async () => {
      const h = event(OBJ_KERNEL_HANDLE, SYNCHRONIZE);
      const dup = await ZwDuplicateObject(NtCurrentProcess, h, NtCurrentProcess, 0, OBJ_KERNEL_HANDLE, DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE);
      const after = ObReferenceObjectByHandle(h, 0, null, KPROCESSOR_MODE.KernelMode).status;
      const ref = ObReferenceObjectByHandle(dup.TargetHandle, 0, ExEventObjectType, KPROCESSOR_MODE.KernelMode);
      ObDereferenceObject(ref.Object!);
      await ZwClose(dup.TargetHandle);
      return { status: dup.status, after, granted: ref.HandleInformation.GrantedAccess };
    });
    expect(r).toEqual({ status: STATUS_SUCCESS, after: STATUS_INVALID_HANDLE, granted: SYNCHRONIZE });
  });
});
