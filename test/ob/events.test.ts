// Named events shared between drivers and applications: IoCreateNotificationEvent and
// IoCreateSynchronizationEvent (create signalled, or open; a kernel handle; NULL on failure;
// PASSIVE_LEVEL, IrqlIoPassive4 0x2000D under the verifier), ZwCreateEvent / ZwOpenEvent, and
// user-mode CreateEvent / OpenEvent with a name (ERROR_ALREADY_EXISTS, ERROR_INVALID_HANDLE for
// another kind of object, ERROR_FILE_NOT_FOUND, access rights checked by SetEvent).
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, IoCreateNotificationEvent, IoCreateSynchronizationEvent, ZwCreateEvent, ZwOpenEvent, ZwClose, ObIsKernelHandle,
  KeReadStateEvent, KeResetEvent, KeSetEvent, KeWaitForSingleObject, KWAIT_REASON, KPROCESSOR_MODE, EVENT_TYPE, OBJECT_ATTRIBUTES,
  InitializeObjectAttributes, OBJ_KERNEL_HANDLE, OBJ_OPENIF, EVENT_ALL_ACCESS, SYNCHRONIZE, EVENT_MODIFY_STATE, STATUS_SUCCESS,
  STATUS_OBJECT_NAME_COLLISION, STATUS_OBJECT_NAME_EXISTS, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_TYPE_MISMATCH, STATUS_INVALID_PARAMETER,
  DISPATCH_LEVEL, KeRaiseIrql, DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_IO_PASSIVE4, CreateEvent, OpenEvent, SetEvent, ResetEvent,
  CloseHandle, WaitForSingleObject, GetLastError, NULL, ERROR_ALREADY_EXISTS, ERROR_INVALID_HANDLE, ERROR_FILE_NOT_FOUND, ERROR_ACCESS_DENIED,
  ERROR_SUCCESS, WAIT_OBJECT_0,
} from "../../src/index.js";
import { bootDefault, crash, expectBugCheck, sleep100ns, spawnThread } from "../support/kernel-harness.js";

function attributes(name: string, a = OBJ_KERNEL_HANDLE): OBJECT_ATTRIBUTES {
  const oa = new OBJECT_ATTRIBUTES();
  InitializeObjectAttributes(oa, name, a, null, null);
  return oa;
}

describe("named events", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("IoCreateNotificationEvent creates the event signalled with a kernel handle; a second call opens the same event", async () => {
    const r = await machine.exec(async () => {
      const a = IoCreateNotificationEvent("\\BaseNamedObjects\\ObNotify");
      const state = KeReadStateEvent(a.Event!);
      KeResetEvent(a.Event!);
      const b = IoCreateNotificationEvent("\\BaseNamedObjects\\ObNotify");
      const out = { same: a.Event === b.Event, state, kernel: ObIsKernelHandle(a.EventHandle), type: a.Event!.Header.Type, reopenedState: KeReadStateEvent(b.Event!) };
      await ZwClose(a.EventHandle);
      await ZwClose(b.EventHandle);
      return out;
    });
    expect(r).toEqual({ same: true, state: 1, kernel: true, type: EVENT_TYPE.NotificationEvent, reopenedState: 0 });
  });

  it("IoCreateSynchronizationEvent makes a synchronization event: a wait consumes its signal", async () => {
    const r = await machine.exec(async () => {
      const s = IoCreateSynchronizationEvent("\\BaseNamedObjects\\ObSync");
      const wait = await KeWaitForSingleObject(s.Event!, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, 0);
      const out = { type: s.Event!.Header.Type, wait, after: KeReadStateEvent(s.Event!) };
      await ZwClose(s.EventHandle);
      return out;
    });
    expect(r).toEqual({ type: EVENT_TYPE.SynchronizationEvent, wait: STATUS_SUCCESS, after: 0 });
  });

  it("IoCreateNotificationEvent returns a null event when the name is another kind of object or its directory does not exist", async () => {
    const r = await machine.exec(() => [IoCreateNotificationEvent("\\Device\\Edu0"), IoCreateNotificationEvent("\\NoSuchDir\\E")].map((x) => [x.Event, x.EventHandle]));
    expect(r).toEqual([[null, 0], [null, 0]]);
  });

  it("IoCreateNotificationEvent above PASSIVE_LEVEL is 0xC4 / 0x2000D (IrqlIoPassive4) under the verifier", async () => {
    const bc = await crash(() => {
      KeRaiseIrql(DISPATCH_LEVEL);
      IoCreateNotificationEvent("\\BaseNamedObjects\\ObTooHigh");
    });
    expectBugCheck(bc, DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_IO_PASSIVE4);
  });

  it("ZwCreateEvent: a taken name is STATUS_OBJECT_NAME_COLLISION, with OBJ_OPENIF STATUS_OBJECT_NAME_EXISTS; ZwOpenEvent opens it; a bad EventType is STATUS_INVALID_PARAMETER", async () => {
    const r = await machine.exec(async () => {
      const a = ZwCreateEvent(EVENT_ALL_ACCESS, attributes("\\BaseNamedObjects\\ObZw"), EVENT_TYPE.NotificationEvent, true);
      const b = ZwCreateEvent(EVENT_ALL_ACCESS, attributes("\\BaseNamedObjects\\ObZw"), EVENT_TYPE.NotificationEvent, false);
      const c = ZwCreateEvent(EVENT_ALL_ACCESS, attributes("\\BaseNamedObjects\\ObZw", OBJ_KERNEL_HANDLE | OBJ_OPENIF), EVENT_TYPE.NotificationEvent, false);
      const o = ZwOpenEvent(SYNCHRONIZE, attributes("\\BaseNamedObjects\\ObZw"));
      const missing = ZwOpenEvent(SYNCHRONIZE, attributes("\\BaseNamedObjects\\ObZwNone"));
      const notEvent = ZwOpenEvent(SYNCHRONIZE, attributes("\\Device\\Edu0"));
      const bad = ZwCreateEvent(EVENT_ALL_ACCESS, null, 7 as EVENT_TYPE, false);
      for (const h of [a.EventHandle, c.EventHandle, o.EventHandle]) await ZwClose(h);
      const gone = ZwOpenEvent(SYNCHRONIZE, attributes("\\BaseNamedObjects\\ObZw")).status;
      return [a.status, b.status, c.status, o.status, missing.status, notEvent.status, bad.status, gone];
    });
    expect(r).toEqual([
      STATUS_SUCCESS, STATUS_OBJECT_NAME_COLLISION, STATUS_OBJECT_NAME_EXISTS, STATUS_SUCCESS, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_TYPE_MISMATCH,
      STATUS_INVALID_PARAMETER, STATUS_OBJECT_NAME_NOT_FOUND,
    ]);
  });

  it("an application opens a driver's \\BaseNamedObjects\\X as X or Global\\X, waits on it and sees the driver set it", async () => {
    await machine.exec(() => {
      const e = IoCreateNotificationEvent("\\BaseNamedObjects\\ObShared");
      KeResetEvent(e.Event!);
      // A system thread of the driver's sets the event a millisecond later.
      spawnThread("setter", async () => {
        await sleep100ns(10_000);
        KeSetEvent(e.Event!, 0, false);
        await ZwClose(e.EventHandle);
      });
    });
    const program = machine.runProgram("waiter", async () => {
      const h = OpenEvent(SYNCHRONIZE, false, "Global\\ObShared");
      const opened = GetLastError();
      const waited = await WaitForSingleObject(h, 0xFFFFFFFF);
      await CloseHandle(h);
      return { opened, waited };
    });
    expect(await program).toEqual({ opened: ERROR_SUCCESS, waited: WAIT_OBJECT_0 });
  });

  it("CreateEvent with a name that exists returns a handle to that event with ERROR_ALREADY_EXISTS; another kind of object is ERROR_INVALID_HANDLE", async () => {
    const r = await machine.runProgram("create-named", async () => {
      const a = CreateEvent(null, true, false, "ObUserEvent");
      const first = GetLastError();
      const b = CreateEvent(null, false, true, "ObUserEvent");
      const second = GetLastError();
      SetEvent(b);
      const seenThroughA = await WaitForSingleObject(a, 0);
      const link = CreateEvent(null, true, false, "Global");
      const linkError = GetLastError();
      await CloseHandle(a);
      await CloseHandle(b);
      return { first, second, different: a !== b, seenThroughA, link, linkError };
    });
    expect(r).toEqual({ first: ERROR_SUCCESS, second: ERROR_ALREADY_EXISTS, different: true, seenThroughA: WAIT_OBJECT_0, link: NULL, linkError: ERROR_INVALID_HANDLE });
  });

  it("OpenEvent of a name that does not exist is NULL with ERROR_FILE_NOT_FOUND; the name goes with the event's last handle", async () => {
    const r = await machine.runProgram("open-named", async () => {
      const none = OpenEvent(SYNCHRONIZE, false, "ObNeverMade");
      const noneError = GetLastError();
      const h = CreateEvent(null, true, false, "ObShortLived");
      await CloseHandle(h);
      const after = OpenEvent(SYNCHRONIZE, false, "ObShortLived");
      return { none, noneError, after, afterError: GetLastError() };
    });
    expect(r).toEqual({ none: NULL, noneError: ERROR_FILE_NOT_FOUND, after: NULL, afterError: ERROR_FILE_NOT_FOUND });
  });

  it("SetEvent and ResetEvent need EVENT_MODIFY_STATE: a handle opened for SYNCHRONIZE only fails with ERROR_ACCESS_DENIED", async () => {
    const r = await machine.runProgram("rights", async () => {
      const owner = CreateEvent(null, true, false, "ObRights");
      const weak = OpenEvent(SYNCHRONIZE, false, "ObRights");
      const set = SetEvent(weak);
      const setError = GetLastError();
      const reset = ResetEvent(weak);
      const strong = OpenEvent(EVENT_MODIFY_STATE | SYNCHRONIZE, false, "ObRights");
      const strongSet = SetEvent(strong);
      const waited = await WaitForSingleObject(weak, 0);
      for (const h of [owner, weak, strong]) await CloseHandle(h);
      return { set, setError, reset, strongSet, waited };
    });
    expect(r).toEqual({ set: false, setError: ERROR_ACCESS_DENIED, reset: false, strongSet: true, waited: WAIT_OBJECT_0 });
  });
});
