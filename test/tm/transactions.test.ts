// The kernel transaction manager as the WDK documents it (ZwCreateTransaction,
// ZwCommitTransaction, ZwRollbackTransaction, ZwCreateTransactionManager,
// ZwCreateResourceManager, TmEnableCallbacks, ZwCreateEnlistment, TmCommitComplete,
// TmRollbackComplete), and transacted registry keys: isolation until commit, rollback.
import { describe, expect, it } from "vitest";
import {
  DISPATCH_LEVEL, ENLISTMENT_ALL_ACCESS, ExUuidCreate, InitializeObjectAttributes, KENLISTMENT, OBJECT_ATTRIBUTES, OBJ_CASE_INSENSITIVE,
  OBJ_KERNEL_HANDLE, ObReferenceObjectByHandle, KPROCESSOR_MODE, RESOURCEMANAGER_ALL_ACCESS, RESOURCE_MANAGER_VOLATILE, STATUS_INVALID_HANDLE,
  STATUS_INVALID_PARAMETER, STATUS_KEY_DELETED, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_TYPE_MISMATCH, STATUS_PENDING, STATUS_SUCCESS,
  STATUS_TRANSACTION_ALREADY_ABORTED, STATUS_TRANSACTION_ALREADY_COMMITTED, STATUS_TRANSACTION_NOT_ACTIVE, STATUS_TRANSACTION_REQUEST_NOT_VALID,
  TmCommitComplete, TmEnableCallbacks, TmRollbackComplete, TRANSACTIONMANAGER_ALL_ACCESS, TRANSACTION_ALL_ACCESS, TRANSACTION_MANAGER_VOLATILE,
  TRANSACTION_NOTIFY_COMMIT, TRANSACTION_NOTIFY_ROLLBACK, ZwClose, ZwCommitTransaction, ZwCreateEnlistment, ZwCreateKeyTransacted,
  ZwCreateResourceManager, ZwCreateTransaction, ZwCreateTransactionManager, ZwOpenKeyTransacted, ZwRollbackTransaction, KRESOURCEMANAGER,
  RtlVerifyVersionInfo, RTL_OSVERSIONINFOEXW, VER_SET_CONDITION, VER_MAJORVERSION, VER_MINORVERSION, VER_LESS_EQUAL, VER_GREATER_EQUAL,
  STATUS_REVISION_MISMATCH, type NTSTATUS,
} from "../../src/index.js";
import { KEY_ALL_ACCESS, ZwCreateKey, ZwDeleteKey, ZwEnumerateKey, ZwOpenKey, ZwQueryValueKey, ZwSetValueKey } from "../../src/cm/zw.js";
import { KEY_INFORMATION_CLASS, KEY_VALUE_INFORMATION_CLASS } from "../../src/cm/information.js";
import { CM } from "../../src/cm/registry.js";
import { REG_DWORD } from "../../src/cm/value-types.js";
import { bootDefault, bugCheckOf, expectBugCheck, kernelOf } from "../support/kernel-harness.js";
import { ExAllocatePoolWithTag, POOL_TYPE } from "../../src/index.js";

const ROOT = "\\REGISTRY\\MACHINE\\SOFTWARE\\Tx";

function attributes(name: string | null, root: number | null = null): OBJECT_ATTRIBUTES {
  const oa = new OBJECT_ATTRIBUTES();
  InitializeObjectAttributes(oa, name, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, root, null);
  return oa;
}

function newTransaction(): number {
  return ZwCreateTransaction(TRANSACTION_ALL_ACCESS, attributes(null), null, null, 0, 0, 0, null, null).TransactionHandle;
}

/** A volatile TM and RM whose callback logs notifications and completes them when `complete`. */
function resourceManager(log: number[], complete = true): number {
  const tm = ZwCreateTransactionManager(TRANSACTIONMANAGER_ALL_ACCESS, attributes(null), null, TRANSACTION_MANAGER_VOLATILE, 0).TmHandle;
  const rm = ZwCreateResourceManager(RESOURCEMANAGER_ALL_ACCESS, tm, ExUuidCreate().Uuid, attributes(null), RESOURCE_MANAGER_VOLATILE, null).ResourceManagerHandle;
  const object = ObReferenceObjectByHandle<KRESOURCEMANAGER>(rm, 0, null, KPROCESSOR_MODE.KernelMode).Object!;
  TmEnableCallbacks(object, (Enlistment, _rmKey, _txKey, notification, clock): NTSTATUS => {
    log.push(notification);
    if (!complete) return STATUS_SUCCESS;
    return notification === TRANSACTION_NOTIFY_COMMIT ? TmCommitComplete(Enlistment, clock) : TmRollbackComplete(Enlistment, clock);
  }, null);
  return rm;
}

describe("transactions", () => {
  it("commit and rollback end a transaction once; the outcome goes to each enlistment that asked for it", async () => {
    const m = await bootDefault();
    const out = await m.exec(async () => {
      const log: number[] = [];
      const rm = resourceManager(log);
      const a = newTransaction();
      const b = newTransaction();
      const ea = ZwCreateEnlistment(ENLISTMENT_ALL_ACCESS, rm, a, attributes(null), 0, TRANSACTION_NOTIFY_COMMIT | TRANSACTION_NOTIFY_ROLLBACK, "a");
      ZwCreateEnlistment(ENLISTMENT_ALL_ACCESS, rm, b, attributes(null), 0, TRANSACTION_NOTIFY_COMMIT, "b");
      const r = [ea.status, await ZwCommitTransaction(a, true), await ZwCommitTransaction(a, true), await ZwRollbackTransaction(a, true)];
      r.push(await ZwRollbackTransaction(b, true), await ZwCommitTransaction(b, true));
      r.push(ZwCreateEnlistment(ENLISTMENT_ALL_ACCESS, rm, a, attributes(null), 0, TRANSACTION_NOTIFY_COMMIT, null).status);
      r.push(ZwCreateEnlistment(ENLISTMENT_ALL_ACCESS, rm, newTransaction(), attributes(null), 0, 0x40000000, null).status);
      r.push(await ZwCommitTransaction(rm, true), await ZwCommitTransaction(0x1234, true));
      return { r, log };
    });
    expect(out.r).toEqual([STATUS_SUCCESS, STATUS_SUCCESS, STATUS_TRANSACTION_ALREADY_COMMITTED, STATUS_TRANSACTION_ALREADY_COMMITTED,
      STATUS_SUCCESS, STATUS_TRANSACTION_ALREADY_ABORTED, STATUS_TRANSACTION_NOT_ACTIVE, STATUS_INVALID_PARAMETER,
      STATUS_OBJECT_TYPE_MISMATCH, STATUS_INVALID_HANDLE]);
    expect(out.log).toEqual([TRANSACTION_NOTIFY_COMMIT]);
  });

  it("with Wait FALSE a commit not yet completed by its enlistment returns STATUS_PENDING; a second completion is not valid", async () => {
    const m = await bootDefault();
    const out = await m.exec(async () => {
      const log: number[] = [];
      const rm = resourceManager(log, false);
      const t = newTransaction();
      const e = ZwCreateEnlistment(ENLISTMENT_ALL_ACCESS, rm, t, attributes(null), 0, TRANSACTION_NOTIFY_COMMIT, null).EnlistmentHandle;
      const enlistment = ObReferenceObjectByHandle<KENLISTMENT>(e, 0, null, KPROCESSOR_MODE.KernelMode).Object!;
      const pending = await ZwCommitTransaction(t, false);
      return [pending, TmCommitComplete(enlistment, null), TmCommitComplete(enlistment, null), TmRollbackComplete(enlistment, null), log];
    });
    expect(out).toEqual([STATUS_PENDING, STATUS_SUCCESS, STATUS_TRANSACTION_REQUEST_NOT_VALID, STATUS_TRANSACTION_REQUEST_NOT_VALID, [TRANSACTION_NOTIFY_COMMIT]]);
  });

  it("closing an active transaction's last handle, or an enlistment's, rolls the transaction back", async () => {
    const m = await bootDefault();
    const log = await m.exec(async () => {
      const log: number[] = [];
      const rm = resourceManager(log);
      const t = newTransaction();
      ZwCreateEnlistment(ENLISTMENT_ALL_ACCESS, rm, t, attributes(null), 0, TRANSACTION_NOTIFY_ROLLBACK, null);
      await ZwClose(t);
      const u = newTransaction();
      const keep = ZwCreateEnlistment(ENLISTMENT_ALL_ACCESS, rm, u, attributes(null), 0, TRANSACTION_NOTIFY_ROLLBACK, null).EnlistmentHandle;
      await ZwClose(keep);
      log.push(await ZwCommitTransaction(u, true));
      return log;
    });
    expect(log).toEqual([TRANSACTION_NOTIFY_ROLLBACK, TRANSACTION_NOTIFY_ROLLBACK, STATUS_TRANSACTION_ALREADY_ABORTED]);
  });

  it("ExUuidCreate gives version-4 UUIDs that depend only on the machine's seed", async () => {
    const a = await (await bootDefault({ seed: 7 })).exec(() => [ExUuidCreate().Uuid, ExUuidCreate().Uuid]);
    const b = await (await bootDefault({ seed: 7 })).exec(() => [ExUuidCreate().Uuid, ExUuidCreate().Uuid]);
    expect(a).toEqual(b);
    expect(a[0]).not.toBe(a[1]);
    expect(a[0]).toMatch(/^\{[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\}$/);
  });

  it("ZwCreateTransaction is PASSIVE_LEVEL only under the verifier (0xC4 / 0x2001F)", async () => {
    const m = await bootDefault();
    expectBugCheck(await bugCheckOf(m.exec(() => newTransaction(), { irql: DISPATCH_LEVEL })), 0xC4, 0x2001F);
  });
});

describe("transacted registry keys", () => {
  it("a key created in a transaction is seen only through it until commit", async () => {
    const m = await bootDefault();
    const out = await m.exec(async () => {
      const r: unknown[] = [];
      const root = ZwCreateKey(KEY_ALL_ACCESS, attributes(ROOT), 0, null, 0).KeyHandle;
      const t = newTransaction();
      const troot = ZwOpenKeyTransacted(KEY_ALL_ACCESS, attributes(ROOT), t).KeyHandle;
      const created = ZwCreateKeyTransacted(KEY_ALL_ACCESS, attributes("New", root), 0, null, 0, t);
      r.push(created.status);
      r.push(ZwOpenKey(KEY_ALL_ACCESS, attributes("New", root)).status, ZwOpenKey(KEY_ALL_ACCESS, attributes("New", troot)).status);
      const buf = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 64, "Test");
      r.push(ZwEnumerateKey(root, 0, KEY_INFORMATION_CLASS.KeyBasicInformation, buf, 64).status, ZwEnumerateKey(troot, 0, KEY_INFORMATION_CLASS.KeyBasicInformation, buf, 64).status);
      r.push(await ZwCommitTransaction(t, true));
      r.push(ZwOpenKey(KEY_ALL_ACCESS, attributes("New", root)).status, ZwOpenKey(KEY_ALL_ACCESS, attributes("New", troot)).status);
      return r;
    });
    expect(out).toEqual([STATUS_SUCCESS, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS, 0x8000001A, STATUS_SUCCESS, STATUS_SUCCESS,
      STATUS_SUCCESS, STATUS_TRANSACTION_NOT_ACTIVE]);
  });

  it("rollback discards created keys, set values and deletions", async () => {
    const m = await bootDefault();
    const out = await m.exec(async () => {
      const r: unknown[] = [];
      const root = ZwCreateKey(KEY_ALL_ACCESS, attributes(ROOT), 0, null, 0).KeyHandle;
      const old = ZwCreateKey(KEY_ALL_ACCESS, attributes("Old", root), 0, null, 0).KeyHandle;
      const t = newTransaction();
      const troot = ZwOpenKeyTransacted(KEY_ALL_ACCESS, attributes(ROOT), t).KeyHandle;
      const tnew = ZwCreateKey(KEY_ALL_ACCESS, attributes("New", troot), 0, null, 0).KeyHandle;
      ZwCreateKey(KEY_ALL_ACCESS, attributes("Child", tnew), 0, null, 0);
      r.push(ZwSetValueKey(troot, "V", 0, REG_DWORD, new Uint8Array([5, 0, 0, 0]), 4));
      const buf = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, 64, "Test");
      r.push(ZwQueryValueKey(troot, "V", KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation, buf, 64).status);
      r.push(ZwQueryValueKey(root, "V", KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation, buf, 64).status);
      const told = ZwOpenKey(KEY_ALL_ACCESS, attributes("Old", troot)).KeyHandle;
      r.push(ZwDeleteKey(told), ZwOpenKey(KEY_ALL_ACCESS, attributes("Old", troot)).status, ZwOpenKey(KEY_ALL_ACCESS, attributes("Old", root)).status);
      r.push(await ZwRollbackTransaction(t, true));
      const cm = CM(kernelOf(m));
      r.push(cm.find(`${ROOT}\\New`) === undefined, cm.find(`${ROOT}\\New\\Child`) === undefined, cm.get(ROOT, "V"), cm.find(`${ROOT}\\Old`) !== undefined);
      r.push(ZwDeleteKey(troot), ZwDeleteKey(old));
      return r;
    });
    expect(out).toEqual([STATUS_SUCCESS, STATUS_SUCCESS, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS,
      STATUS_SUCCESS, true, true, undefined, true, STATUS_TRANSACTION_NOT_ACTIVE, STATUS_SUCCESS]);
  });

  it("commit applies values and deletions; a rolled-back or invalid transaction handle is refused", async () => {
    const m = await bootDefault();
    const out = await m.exec(async () => {
      const r: unknown[] = [];
      ZwCreateKey(KEY_ALL_ACCESS, attributes(ROOT), 0, null, 0);
      ZwCreateKey(KEY_ALL_ACCESS, attributes(`${ROOT}\\Gone`), 0, null, 0);
      const t = newTransaction();
      const troot = ZwOpenKeyTransacted(KEY_ALL_ACCESS, attributes(ROOT), t).KeyHandle;
      ZwSetValueKey(troot, "V", 0, REG_DWORD, new Uint8Array([9, 0, 0, 0]), 4);
      ZwDeleteKey(ZwOpenKey(KEY_ALL_ACCESS, attributes("Gone", troot)).KeyHandle);
      r.push(await ZwCommitTransaction(t, true));
      const cm = CM(kernelOf(m));
      r.push(cm.get(ROOT, "V"), cm.find(`${ROOT}\\Gone`));
      r.push(ZwOpenKeyTransacted(KEY_ALL_ACCESS, attributes(ROOT), t).status, ZwCreateKeyTransacted(KEY_ALL_ACCESS, attributes(ROOT), 0, null, 0, troot).status);
      return r;
    });
    expect(out).toEqual([STATUS_SUCCESS, 9, undefined, STATUS_TRANSACTION_NOT_ACTIVE, STATUS_OBJECT_TYPE_MISMATCH]);
  });

  it("a key deleted through a transacted handle is deleted for that transaction at once (STATUS_KEY_DELETED through it)", async () => {
    const m = await bootDefault();
    const out = await m.exec(() => {
      ZwCreateKey(KEY_ALL_ACCESS, attributes(ROOT), 0, null, 0);
      const key = ZwCreateKey(KEY_ALL_ACCESS, attributes(`${ROOT}\\K`), 0, null, 0).KeyHandle;
      const t = newTransaction();
      const tk = ZwOpenKeyTransacted(KEY_ALL_ACCESS, attributes(`${ROOT}\\K`), t).KeyHandle;
      return [ZwDeleteKey(tk), ZwSetValueKey(tk, "x", 0, REG_DWORD, new Uint8Array(4), 4), ZwSetValueKey(key, "x", 0, REG_DWORD, new Uint8Array(4), 4)];
    });
    expect(out).toEqual([STATUS_SUCCESS, STATUS_KEY_DELETED, STATUS_SUCCESS]);
  });
});

describe("RtlVerifyVersionInfo", () => {
  it("compares major and minor version together with the major version's condition (the machine is 10.0)", async () => {
    const m = await bootDefault();
    const out = await m.exec(() => {
      const v = new RTL_OSVERSIONINFOEXW();
      v.dwMajorVersion = 6;
      v.dwMinorVersion = 1;
      let le = 0n;
      le = VER_SET_CONDITION(le, VER_MAJORVERSION, VER_LESS_EQUAL);
      le = VER_SET_CONDITION(le, VER_MINORVERSION, VER_LESS_EQUAL);
      let ge = 0n;
      ge = VER_SET_CONDITION(ge, VER_MAJORVERSION, VER_GREATER_EQUAL);
      ge = VER_SET_CONDITION(ge, VER_MINORVERSION, VER_GREATER_EQUAL);
      return [RtlVerifyVersionInfo(v, VER_MAJORVERSION | VER_MINORVERSION, le), RtlVerifyVersionInfo(v, VER_MAJORVERSION | VER_MINORVERSION, ge),
        RtlVerifyVersionInfo(v, 0, ge), RtlVerifyVersionInfo(v, VER_MAJORVERSION, 0n)];
    });
    expect(out).toEqual([STATUS_REVISION_MISMATCH, STATUS_SUCCESS, STATUS_INVALID_PARAMETER, STATUS_INVALID_PARAMETER]);
  });
});
