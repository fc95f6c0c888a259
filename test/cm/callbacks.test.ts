// Registry filtering as the WDK documents it ("Filtering Registry Calls", "Handling
// Notifications", CmRegisterCallbackEx, REG_POST_OPERATION_INFORMATION): altitude order,
// blocking, bypassing, overriding the status in post, call and object contexts, nested
// calls from a callback, the previous mode, unregistration and the errors.
import { describe, expect, it } from "vitest";
import {
  APC_LEVEL, CmCallbackGetKeyObjectIDEx, CmCallbackReleaseKeyObjectIDEx, CmGetCallbackVersion, CmRegisterCallback, CmRegisterCallbackEx,
  CmSetCallbackObjectContext, CmUnRegisterCallback, DISPATCH_LEVEL, ExAllocatePoolWithTag, ExGetPreviousMode, InitializeObjectAttributes,
  KPROCESSOR_MODE, OBJECT_ATTRIBUTES, OBJ_CASE_INSENSITIVE, OBJ_KERNEL_HANDLE, POOL_TYPE, REG_CREATE_KEY_INFORMATION_V1, REG_NOTIFY_CLASS,
  REG_POST_OPERATION_INFORMATION, REG_SET_VALUE_KEY_INFORMATION, REG_CALLBACK_CONTEXT_CLEANUP_INFORMATION, readU32, STATUS_ACCESS_DENIED,
  STATUS_ACCESS_VIOLATION, STATUS_CALLBACK_BYPASS, STATUS_FLT_INSTANCE_ALTITUDE_COLLISION, STATUS_INVALID_PARAMETER,
  STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS, unicodeStringText, ObDereferenceObject, writeU32, ZwClose, ExRaiseStatus, type NTSTATUS,
} from "../../src/index.js";
import { KEY_ALL_ACCESS, ZwCreateKey, ZwOpenKey, ZwQueryValueKey, ZwSetValueKey } from "../../src/cm/zw.js";
import { KEY_VALUE_INFORMATION_CLASS } from "../../src/cm/information.js";
import { CM } from "../../src/cm/registry.js";
import { REG_DWORD } from "../../src/cm/value-types.js";
import { ERROR_ACCESS_DENIED, ERROR_SUCCESS, HKEY_LOCAL_MACHINE, RegCloseKey, RegCreateKeyEx, RegSetValueEx } from "../../src/io/usermode.js";
import { bootDefault, bugCheckOf, expectBugCheck, kernelOf, params } from "../support/kernel-harness.js";

const ROOT = "\\REGISTRY\\MACHINE\\SOFTWARE\\Filtered";
const { RegNtPreSetValueKey, RegNtPostSetValueKey, RegNtPreCreateKeyEx, RegNtPostCreateKeyEx, RegNtPreOpenKeyEx, RegNtPostOpenKeyEx,
  RegNtPreKeyHandleClose, RegNtPostKeyHandleClose, RegNtCallbackObjectContextCleanup } = REG_NOTIFY_CLASS;

function attributes(name: string, root: number | null = null): OBJECT_ATTRIBUTES {
  const oa = new OBJECT_ATTRIBUTES();
  InitializeObjectAttributes(oa, name, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, root, null);
  return oa;
}

/** Creates ROOT and returns a kernel handle to it. */
function rootKey(): number {
  return ZwCreateKey(KEY_ALL_ACCESS, attributes(ROOT), 0, null, 0).KeyHandle;
}

/** Sets the DWORD `value` named `name` under `key` from a guest buffer. */
function setDword(key: number, name: string, value: number): NTSTATUS {
  const data = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 4, "Test");
  writeU32(data, value);
  return ZwSetValueKey(key, name, 0, REG_DWORD, data, 4);
}

/** A callback that logs "altitude:class" and answers `answer(cls, info)` (STATUS_SUCCESS by default). */
function logger(log: string[], name: string, answer: (cls: REG_NOTIFY_CLASS, info: object) => NTSTATUS = () => STATUS_SUCCESS) {
  return (_ctx: unknown, cls: REG_NOTIFY_CLASS, info: object): NTSTATUS => {
    if (cls === RegNtPreSetValueKey || cls === RegNtPostSetValueKey) log.push(`${name}:${REG_NOTIFY_CLASS[cls]}`);
    return answer(cls, info);
  };
}

describe("CmRegisterCallbackEx, CmUnRegisterCallback, CmGetCallbackVersion", () => {
  it("hands out cookies, refuses a taken altitude and an unknown cookie, and reports version 1.1", async () => {
    const m = await bootDefault();
    const out = await m.exec(() => {
      const f = () => STATUS_SUCCESS;
      const a = CmRegisterCallbackEx(f, "380010", null, null);
      const b = CmRegisterCallbackEx(f, "380010", null, null);
      const c = CmRegisterCallbackEx(f, "380020", null, null);
      const legacy = CmRegisterCallback(f, null);
      return [a.status, a.Cookie !== 0, b.status, c.Cookie !== a.Cookie, legacy.status,
        CmUnRegisterCallback(a.Cookie), CmUnRegisterCallback(a.Cookie), CmUnRegisterCallback(c.Cookie), CmUnRegisterCallback(legacy.Cookie),
        CmRegisterCallbackEx(f, "not a number", null, null).status, CmGetCallbackVersion()];
    });
    expect(out).toEqual([STATUS_SUCCESS, true, STATUS_FLT_INSTANCE_ALTITUDE_COLLISION, true, STATUS_SUCCESS,
      STATUS_SUCCESS, STATUS_INVALID_PARAMETER, STATUS_SUCCESS, STATUS_SUCCESS, STATUS_INVALID_PARAMETER, { Major: 1, Minor: 1 }]);
  });

  it("calls pre-notifications from the highest altitude down and post-notifications back up", async () => {
    const m = await bootDefault();
    const log = await m.exec(() => {
      const log: string[] = [];
      const key = rootKey();
      const cookies = ["200", "300", "100"].map((alt) => CmRegisterCallbackEx(logger(log, alt), alt, null, null).Cookie);
      setDword(key, "V", 1);
      cookies.forEach((c) => CmUnRegisterCallback(c));
      setDword(key, "V", 2);
      return log;
    });
    expect(log).toEqual(["300:RegNtPreSetValueKey", "200:RegNtPreSetValueKey", "100:RegNtPreSetValueKey",
      "100:RegNtPostSetValueKey", "200:RegNtPostSetValueKey", "300:RegNtPostSetValueKey"]);
  });

  it("is IRQL <= APC_LEVEL under the verifier (0xC4 / 0x20006, IrqlExApcLte2)", async () => {
    const m = await bootDefault();
    expect(await m.exec(() => CmRegisterCallbackEx(() => STATUS_SUCCESS, "1", null, null).status, { irql: APC_LEVEL })).toBe(STATUS_SUCCESS);
    const bc = await bugCheckOf(m.exec(() => CmRegisterCallbackEx(() => STATUS_SUCCESS, "2", null, null), { irql: DISPATCH_LEVEL }));
    expectBugCheck(bc, 0xC4, 0x20006, DISPATCH_LEVEL);
    const m2 = await bootDefault();
    const cookie = await m2.exec(() => CmRegisterCallbackEx(() => STATUS_SUCCESS, "3", null, null).Cookie);
    expectBugCheck(await bugCheckOf(m2.exec(() => CmUnRegisterCallback(cookie), { irql: DISPATCH_LEVEL })), 0xC4, 0x20006, DISPATCH_LEVEL);
  });

  it("CmRegisterCallback (no altitude) is called before every altitude, in registration order", async () => {
    const m = await bootDefault();
    const log = await m.exec(() => {
      const log: string[] = [];
      const key = rootKey();
      CmRegisterCallbackEx(logger(log, "999999"), "999999", null, null);
      CmRegisterCallback(logger(log, "legacy1"), null);
      CmRegisterCallback(logger(log, "legacy2"), null);
      setDword(key, "V", 1);
      return log.filter((l) => l.endsWith("Pre" + "SetValueKey"));
    });
    expect(log).toEqual(["legacy1:RegNtPreSetValueKey", "legacy2:RegNtPreSetValueKey", "999999:RegNtPreSetValueKey"]);
  });
});

describe("blocking, bypassing and overriding", () => {
  it("an error in a pre-notification blocks the operation: lower callbacks are not called, higher ones get the post with that status", async () => {
    const m = await bootDefault();
    const out = await m.exec(() => {
      const log: string[] = [];
      const statuses: NTSTATUS[] = [];
      const key = rootKey();
      CmRegisterCallbackEx(logger(log, "high", (cls, info) => {
        if (cls === RegNtPostSetValueKey) statuses.push((info as REG_POST_OPERATION_INFORMATION).Status);
        return STATUS_SUCCESS;
      }), "300", null, null);
      CmRegisterCallbackEx(logger(log, "mid", (cls) => (cls === RegNtPreSetValueKey ? STATUS_ACCESS_DENIED : STATUS_SUCCESS)), "200", null, null);
      CmRegisterCallbackEx(logger(log, "low"), "100", null, null);
      const status = setDword(key, "Blocked", 1);
      return { status, log, statuses, stored: CM(kernelOf(m)).get(ROOT, "Blocked") };
    });
    expect(out).toEqual({ status: STATUS_ACCESS_DENIED, log: ["high:RegNtPreSetValueKey", "mid:RegNtPreSetValueKey", "high:RegNtPostSetValueKey"], statuses: [STATUS_ACCESS_DENIED], stored: undefined });
  });

  it("STATUS_CALLBACK_BYPASS in a pre-notification skips the operation and returns STATUS_SUCCESS", async () => {
    const m = await bootDefault();
    const out = await m.exec(() => {
      const key = rootKey();
      CmRegisterCallbackEx((_c, cls) => (cls === RegNtPreSetValueKey ? STATUS_CALLBACK_BYPASS : STATUS_SUCCESS), "100", null, null);
      return [setDword(key, "Bypassed", 1), CM(kernelOf(m)).get(ROOT, "Bypassed")];
    });
    expect(out).toEqual([STATUS_SUCCESS, undefined]);
  });

  it("a post-notification replaces the status with ReturnStatus when it returns STATUS_CALLBACK_BYPASS; callbacks above see the new status", async () => {
    const m = await bootDefault();
    const out = await m.exec(() => {
      const seen: NTSTATUS[] = [];
      const key = rootKey();
      CmRegisterCallbackEx((_c, cls, info) => {
        if (cls === RegNtPostSetValueKey) seen.push((info as REG_POST_OPERATION_INFORMATION).Status);
        return STATUS_SUCCESS;
      }, "300", null, null);
      CmRegisterCallbackEx((_c, cls, info) => {
        if (cls !== RegNtPostSetValueKey) return STATUS_SUCCESS;
        (info as REG_POST_OPERATION_INFORMATION).ReturnStatus = STATUS_ACCESS_DENIED;
        return STATUS_CALLBACK_BYPASS;
      }, "100", null, null);
      return [setDword(key, "Overridden", 1), seen];
    });
    expect(out).toEqual([STATUS_ACCESS_DENIED, [STATUS_ACCESS_DENIED]]);
  });
});

describe("contexts", () => {
  it("CallContext set in the pre-notification comes back in the callback's own post-notification", async () => {
    const m = await bootDefault();
    const out = await m.exec(() => {
      const got: unknown[] = [];
      const key = rootKey();
      for (const alt of ["100", "200"]) {
        CmRegisterCallbackEx((_c, cls, info) => {
          if (cls === RegNtPreSetValueKey) (info as REG_SET_VALUE_KEY_INFORMATION).CallContext = `ctx-${alt}`;
          if (cls === RegNtPostSetValueKey) got.push((info as REG_POST_OPERATION_INFORMATION).CallContext);
          return STATUS_SUCCESS;
        }, alt, null, null);
      }
      setDword(key, "V", 1);
      return got;
    });
    expect(out).toEqual(["ctx-100", "ctx-200"]);
  });

  it("an object context follows one key object, and is cleaned up between the pre- and post-close of its last handle", async () => {
    const m = await bootDefault();
    const out = await m.exec(async () => {
      const log: string[] = [];
      const root = rootKey();
      let cookie = 0;
      cookie = CmRegisterCallbackEx((_c, cls, info) => {
        if (cls === RegNtPostOpenKeyEx) CmSetCallbackObjectContext((info as REG_POST_OPERATION_INFORMATION).Object, cookie, "mine");
        if (cls === RegNtPreSetValueKey) log.push(`set:${String((info as REG_SET_VALUE_KEY_INFORMATION).ObjectContext)}`);
        if (cls === RegNtPreKeyHandleClose) log.push("pre-close");
        if (cls === RegNtCallbackObjectContextCleanup) log.push(`cleanup:${String((info as REG_CALLBACK_CONTEXT_CLEANUP_INFORMATION).ObjectContext)}`);
        if (cls === RegNtPostKeyHandleClose) log.push("post-close");
        return STATUS_SUCCESS;
      }, "100", null, null).Cookie;
      const opened = ZwOpenKey(KEY_ALL_ACCESS, attributes(ROOT)).KeyHandle;
      setDword(opened, "V", 1);
      setDword(root, "V", 2);
      await ZwClose(opened);
      return log;
    });
    expect(out).toEqual(["set:mine", "set:null", "pre-close", "cleanup:mine", "post-close"]);
  });

  it("unregistering sends RegNtCallbackObjectContextCleanup for each context the callback still has", async () => {
    const m = await bootDefault();
    const out = await m.exec(() => {
      const cleaned: unknown[] = [];
      let cookie = 0;
      cookie = CmRegisterCallbackEx((_c, cls, info) => {
        if (cls === RegNtPostCreateKeyEx) CmSetCallbackObjectContext((info as REG_POST_OPERATION_INFORMATION).Object, cookie, 42);
        if (cls === RegNtCallbackObjectContextCleanup) cleaned.push((info as REG_CALLBACK_CONTEXT_CLEANUP_INFORMATION).ObjectContext);
        return STATUS_SUCCESS;
      }, "100", null, null).Cookie;
      rootKey();
      const before = cleaned.length;
      return [before, CmUnRegisterCallback(cookie), cleaned, CmSetCallbackObjectContext({}, cookie, 1).status];
    });
    expect(out).toEqual([0, STATUS_SUCCESS, [42], STATUS_INVALID_PARAMETER]);
  });
});

describe("object contexts of key objects that go without a handle", () => {
  it("a key object a post-callback dereferences (success turned into an error) gets its contexts cleaned up", async () => {
    const m = await bootDefault();
    const out = await m.exec(() => {
      const cleaned: unknown[] = [];
      rootKey();
      let low = 0;
      low = CmRegisterCallbackEx((_c, cls, info) => {
        if (cls === RegNtPostOpenKeyEx) CmSetCallbackObjectContext((info as REG_POST_OPERATION_INFORMATION).Object, low, "ctx");
        if (cls === RegNtCallbackObjectContextCleanup) cleaned.push((info as REG_CALLBACK_CONTEXT_CLEANUP_INFORMATION).ObjectContext);
        return STATUS_SUCCESS;
      }, "100", null, null).Cookie;
      CmRegisterCallbackEx((_c, cls, info) => {
        if (cls !== RegNtPostOpenKeyEx) return STATUS_SUCCESS;
        const post = info as REG_POST_OPERATION_INFORMATION;
        ObDereferenceObject(post.Object!);
        post.Object = null;
        (post.PreInformation as REG_CREATE_KEY_INFORMATION_V1).ResultObject = null;
        post.ReturnStatus = STATUS_ACCESS_DENIED;
        return STATUS_CALLBACK_BYPASS;
      }, "200", null, null);
      return [ZwOpenKey(KEY_ALL_ACCESS, attributes(ROOT)).status, cleaned];
    });
    expect(out).toEqual([STATUS_ACCESS_DENIED, ["ctx"]]);
  });
});

describe("what callbacks are told", () => {
  it("RegNtPreCreateKeyEx for an absolute name: CompleteName as given, RootObject \\REGISTRY, RemainingName below it, version 1", async () => {
    const m = await bootDefault();
    const out = await m.exec(() => {
      let seen: unknown[] = [];
      const cookie = CmRegisterCallbackEx((_c, cls, info) => {
        if (cls !== RegNtPreCreateKeyEx) return STATUS_SUCCESS;
        const i = info as REG_CREATE_KEY_INFORMATION_V1;
        const id = CmCallbackGetKeyObjectIDEx(cookie, i.RootObject, 0);
        seen = [unicodeStringText(i.CompleteName), unicodeStringText(i.RemainingName), unicodeStringText(id.ObjectName!), i.Version, i.DesiredAccess, ExGetPreviousMode()];
        CmCallbackReleaseKeyObjectIDEx(id.ObjectName!);
        return STATUS_SUCCESS;
      }, "100", null, null).Cookie;
      rootKey();
      return seen;
    });
    expect(out).toEqual([ROOT, "MACHINE\\SOFTWARE\\Filtered", "\\REGISTRY", 1, KEY_ALL_ACCESS, KPROCESSOR_MODE.KernelMode]);
  });

  it("a registry call made by a callback is notified only to callbacks below it", async () => {
    const m = await bootDefault();
    const out = await m.exec(async () => {
      const counts: Record<string, number> = { high: 0, mid: 0, low: 0 };
      const root = rootKey();
      const count = (name: string) => (_c: unknown, cls: REG_NOTIFY_CLASS): NTSTATUS => {
        if (cls === RegNtPreOpenKeyEx) counts[name]++;
        return STATUS_SUCCESS;
      };
      CmRegisterCallbackEx(count("high"), "300", null, null);
      CmRegisterCallbackEx((c, cls, info) => {
        count("mid")(c, cls);
        if (cls === RegNtPreSetValueKey) void ZwClose(ZwOpenKey(KEY_ALL_ACCESS, attributes(ROOT)).KeyHandle);
        return STATUS_SUCCESS;
      }, "200", null, null);
      CmRegisterCallbackEx(count("low"), "100", null, null);
      setDword(root, "V", 1);
      return counts;
    });
    expect(out).toEqual({ high: 0, mid: 0, low: 1 });
  });

  it("the previous mode is UserMode for the Reg* API and the captured data is readable", async () => {
    const m = await bootDefault();
    const seen: unknown[] = [];
    await m.exec(() => CmRegisterCallbackEx((_c, cls, info) => {
      if (cls === RegNtPreSetValueKey) {
        const i = info as REG_SET_VALUE_KEY_INFORMATION;
        seen.push(ExGetPreviousMode(), unicodeStringText(i.ValueName), i.DataSize, readU32(i.Data));
        return STATUS_ACCESS_DENIED;
      }
      return STATUS_SUCCESS;
    }, "100", null, null));
    const out = await m.runProgram("regapp", async () => {
      const c = RegCreateKeyEx(HKEY_LOCAL_MACHINE, "SOFTWARE\\Filtered", 0, null, 0, KEY_ALL_ACCESS, null);
      const status = RegSetValueEx(c.hkResult, "Count", 0, REG_DWORD, new Uint8Array([7, 0, 0, 0]), 4);
      await RegCloseKey(c.hkResult);
      return [c.status, status];
    });
    expect(out).toEqual([ERROR_SUCCESS, ERROR_ACCESS_DENIED]);
    expect(seen).toEqual([KPROCESSOR_MODE.UserMode, "Count", 4, 7]);
  });

  it("closing a key: RegCloseKey notifies with UserMode, a driver's ZwClose in the same process's thread with KernelMode", async () => {
    const m = await bootDefault();
    const seen: KPROCESSOR_MODE[] = [];
    await m.exec(() => CmRegisterCallbackEx((_c, cls) => {
      if (cls === RegNtPreKeyHandleClose) seen.push(ExGetPreviousMode());
      return STATUS_SUCCESS;
    }, "100", null, null));
    await m.runProgram("closer", async () => {
      const c = RegCreateKeyEx(HKEY_LOCAL_MACHINE, "SOFTWARE\\Filtered", 0, null, 0, KEY_ALL_ACCESS, null);
      await RegCloseKey(c.hkResult);
      // What a driver's dispatch routine does in the caller's thread: a kernel handle, closed with ZwClose.
      await ZwClose(rootKey());
    });
    expect(seen).toEqual([KPROCESSOR_MODE.UserMode, KPROCESSOR_MODE.KernelMode]);
  });

  it("a failed open reaches post-notifications with Object NULL (version 1.1)", async () => {
    const m = await bootDefault();
    const out = await m.exec(() => {
      const seen: unknown[] = [];
      CmRegisterCallbackEx((_c, cls, info) => {
        if (cls === RegNtPostOpenKeyEx) seen.push((info as REG_POST_OPERATION_INFORMATION).Status, (info as REG_POST_OPERATION_INFORMATION).Object);
        return STATUS_SUCCESS;
      }, "100", null, null);
      const r = ZwOpenKey(KEY_ALL_ACCESS, attributes(`${ROOT}\\Missing`));
      const buf = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 16, "Test");
      return [r.status, seen, ZwQueryValueKey(rootKey(), "x", KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation, buf, 16).status];
    });
    expect(out).toEqual([STATUS_OBJECT_NAME_NOT_FOUND, [STATUS_OBJECT_NAME_NOT_FOUND, null], STATUS_OBJECT_NAME_NOT_FOUND]);
  });
});

describe("exceptions in a callback", () => {
  it("an exception a callback does not handle is bug check 0x135 REGISTRY_FILTER_DRIVER_EXCEPTION with the exception code", async () => {
    const m = await bootDefault();
    const bc = await bugCheckOf(m.exec(() => {
      CmRegisterCallbackEx(function CallbackBugcheck(_c, cls) {
        if (cls === RegNtPreOpenKeyEx) ExRaiseStatus(STATUS_ACCESS_VIOLATION);
        return STATUS_SUCCESS;
      }, "100", null, null);
      return ZwOpenKey(KEY_ALL_ACCESS, attributes(ROOT));
    }));
    expectBugCheck(bc, 0x135, STATUS_ACCESS_VIOLATION);
    expect(params(bc)[2]).not.toBe(0);
    expect(bc.bugCheckName).toBe("REGISTRY_FILTER_DRIVER_EXCEPTION");
  });
});
