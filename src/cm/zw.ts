/**
 * The registry by handle, as drivers reach it: ZwCreateKey, ZwOpenKey(Ex), ZwQueryKey,
 * ZwEnumerateKey, ZwQueryValueKey, ZwEnumerateValueKey, ZwSetValueKey, ZwDeleteKey,
 * ZwDeleteValueKey and ZwFlushKey. A key handle names an object of CmKeyObjectType whose
 * body is the open key. Names in OBJECT_ATTRIBUTES are full registry paths
 * ("\\Registry\\Machine\\System\\...") or, with a RootDirectory key handle, paths below
 * that key; they compare case-insensitively. The information routines write their
 * structures (src/cm/information.ts) into the caller's buffer in guest memory. All run at
 * PASSIVE_LEVEL (verifier: 0xC4 / 0x2001F).
 */
import { KE, type Kernel } from "../ke/kernel.js";
import { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import { DRIVER_VERIFIER_DETECTED_VIOLATION } from "../ke/bugcheck.js";
import { PASSIVE_LEVEL } from "../ke/irql.js";
import {
  NT_SUCCESS, STATUS_ACCESS_DENIED, STATUS_DATATYPE_MISALIGNMENT, STATUS_INVALID_PARAMETER, STATUS_KEY_DELETED, STATUS_NO_MORE_ENTRIES, STATUS_OBJECT_NAME_INVALID,
  STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_PATH_SYNTAX_BAD, STATUS_SUCCESS, type NTSTATUS,
} from "../ke/ntstatus.js";
import { readBytes, writeBytes } from "../mm/memory.js";
import { STANDARD_RIGHTS_READ, STANDARD_RIGHTS_WRITE, STANDARD_RIGHTS_REQUIRED, SYNCHRONIZE, type ACCESS_MASK } from "../ob/access.js";
import type { OBJECT_ATTRIBUTES } from "../ob/attributes.js";
import type { HANDLE } from "../ob/handle-table.js";
import { createHandle, DDI_RULE_IRQL_ZW_PASSIVE, grantedAccess, ObReferenceObjectByHandle } from "../ob/handles.js";
import { OB } from "../ob/manager.js";
import { OBJECT_TYPE, OBJECT_TYPE_INITIALIZER } from "../ob/object-type.js";
import { dereference } from "../ob/reference.js";
import { unicodeStringOrText, type UNICODE_STRING } from "../rtl/unicode-string.js";
import { OBJ_FORCE_ACCESS_CHECK } from "../ob/attributes.js";
import { ExGetPreviousMode } from "../ob/previous-mode.js";
import { REG_KEY_HANDLE_CLOSE_INFORMATION } from "./callback-information.js";
import { cmKeyObjectDeleted, cmNotifyKeyObjectClose } from "./callbacks.js";
import {
  filteredDeleteKey, filteredDeleteValueKey, filteredEnumerateKey, filteredEnumerateValueKey, filteredFlushKey, filteredOpenKey, filteredQueryKey,
  filteredQueryValueKey, filteredSetValueKey, type KeyOpenOutcome,
} from "./filtered-operations.js";
import { keyAccessGranted } from "./key-security.js";
import {
  keyVisible, recordCreate, transactedDeleteKey, transactedDeleteValue, transactedSetValue, transactedValue, transactedValues, visibleSubkeyAt,
} from "./transacted-keys.js";
import { STATUS_TRANSACTIONAL_CONFLICT, STATUS_TRANSACTION_NOT_ACTIVE, STATUS_CANNOT_DELETE } from "../ke/ntstatus.js";
import { ObDereferenceObject, ObReferenceObject } from "../ob/reference.js";
import type { KTRANSACTION } from "../tm/transaction.js";
import { keyInformation, valueInformation, KEY_INFORMATION_CLASS, KEY_VALUE_INFORMATION_CLASS, type InformationResult } from "./information.js";
import type { CM_KEY } from "./key.js";
import { CM, REG_CREATED_NEW_KEY, REG_LEGAL_OPTION, REG_OPTION_OPEN_LINK, splitPath, type KeyResult } from "./registry.js";

// Key access rights.
export const KEY_QUERY_VALUE = 0x0001;
export const KEY_SET_VALUE = 0x0002;
export const KEY_CREATE_SUB_KEY = 0x0004;
export const KEY_ENUMERATE_SUB_KEYS = 0x0008;
export const KEY_NOTIFY = 0x0010;
export const KEY_CREATE_LINK = 0x0020;
export const KEY_READ = (STANDARD_RIGHTS_READ | KEY_QUERY_VALUE | KEY_ENUMERATE_SUB_KEYS | KEY_NOTIFY) & ~SYNCHRONIZE;
export const KEY_WRITE = (STANDARD_RIGHTS_WRITE | KEY_SET_VALUE | KEY_CREATE_SUB_KEY) & ~SYNCHRONIZE;
export const KEY_EXECUTE = KEY_READ & ~SYNCHRONIZE;
export const KEY_ALL_ACCESS = (STANDARD_RIGHTS_REQUIRED | KEY_QUERY_VALUE | KEY_SET_VALUE | KEY_CREATE_SUB_KEY | KEY_ENUMERATE_SUB_KEYS | KEY_NOTIFY | KEY_CREATE_LINK) & ~SYNCHRONIZE;

/** Registry keys ("Key"). */
export const CmKeyObjectType = new OBJECT_TYPE("Key", 44, new OBJECT_TYPE_INITIALIZER(KEY_ALL_ACCESS, Object.freeze({
  GenericRead: KEY_READ, GenericWrite: KEY_WRITE, GenericExecute: KEY_EXECUTE, GenericAll: KEY_ALL_ACCESS,
}), false));

/** Bytes of a key object's body (CM_KEY_BODY on x64), for its address. */
const KEY_BODY_BYTES = 0x48;

/** The body of a key object: the key it opens, and the transaction it was opened in (null: none). */
export class CM_KEY_BODY {
  constructor(readonly key: CM_KEY, readonly Transaction: KTRANSACTION | null = null) {}
}

/** A key object goes: contexts callbacks still have on it are cleaned up, and it drops the reference it held on its transaction. */
CmKeyObjectType.TypeInfo.DeleteProcedure = (Object: object): void => {
  const body = Object as CM_KEY_BODY;
  cmKeyObjectDeleted(KE(), Object);
  if (body.Transaction) ObDereferenceObject(body.Transaction);
};

/**
 * A key object's handle is closing: when it was the object's last handle, the registry
 * callbacks get RegNtPreKeyHandleClose, their object contexts' cleanup and
 * RegNtPostKeyHandleClose.
 */
CmKeyObjectType.TypeInfo.CloseProcedure = (Object: object, HandleCount: number): void => {
  if (HandleCount === 0) cmNotifyKeyObjectClose(KE(), Object, new REG_KEY_HANDLE_CLOSE_INFORMATION(Object), ExGetPreviousMode());
};

/** A new key object for `key` (with the creator's one reference), in `Transaction` (null: none). */
export function newKeyObject(k: Kernel, key: CM_KEY, Transaction: KTRANSACTION | null = null): CM_KEY_BODY {
  const body = new CM_KEY_BODY(key, Transaction);
  if (Transaction) ObReferenceObject(Transaction);
  OB(k).create(CmKeyObjectType, body, KEY_BODY_BYTES);
  return body;
}

/** The machine's permanent key object for `key` (\REGISTRY for absolute names; the predefined keys of the Reg* API). */
export function permanentKeyObject(k: Kernel, key: CM_KEY): CM_KEY_BODY {
  let objects = k.services.get("cm-permanent-key-objects") as Map<CM_KEY, CM_KEY_BODY> | undefined;
  if (!objects) k.services.set("cm-permanent-key-objects", (objects = new Map()));
  let body = objects.get(key);
  if (!body) objects.set(key, (body = newKeyObject(k, key)));
  return body;
}

/**
 * A handle to the key object of `outcome` (an operation's result, carrying one reference
 * the handle takes over), granted the callback's GrantedAccess or else DesiredAccess.
 */
export function keyHandleFor(k: Kernel, outcome: KeyOpenOutcome, DesiredAccess: ACCESS_MASK, Attributes: number, AccessMode: KPROCESSOR_MODE): HANDLE {
  const h = OB(k).headerOf(outcome.Object!)!;
  const handle = createHandle(k, h, grantedAccess(CmKeyObjectType, outcome.GrantedAccess !== 0 ? outcome.GrantedAccess : DesiredAccess), Attributes, AccessMode);
  void dereference(k, h);
  return handle;
}

/** A name a Zw routine takes: a UNICODE_STRING (C) or a JS string. */
type RegistryName = UNICODE_STRING | string;

function zwEntry(k: Kernel): void {
  if (k.verifier && k.cpu.irql !== PASSIVE_LEVEL) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_ZW_PASSIVE, k.cpu.irql, 0, 0);
}

/** The key (and key object) a handle names (kernel mode), or the status why not. */
function keyOf(KeyHandle: HANDLE): { status: NTSTATUS; key: CM_KEY | null; body: CM_KEY_BODY | null } {
  const r = ObReferenceObjectByHandle<CM_KEY_BODY>(KeyHandle, 0, CmKeyObjectType, KPROCESSOR_MODE.KernelMode);
  if (!NT_SUCCESS(r.status) || !r.Object) return { status: r.status, key: null, body: null };
  const key = r.Object.key;
  void dereference(KE(), OB(KE()).headerOf(r.Object)!);
  const transaction = r.Object.Transaction;
  if (transaction && !transaction.active) return { status: STATUS_TRANSACTION_NOT_ACTIVE, key: null, body: null };
  return key.deleted || !keyVisible(key, transaction) ? { status: STATUS_KEY_DELETED, key: null, body: null } : { status: STATUS_SUCCESS, key, body: r.Object };
}

/** An open in `transaction` (null: none) of what `r` resolved: a key the observer cannot see is not found. */
function visibleOpen(r: KeyResult, transaction: KTRANSACTION | null): KeyResult {
  return r.key && !keyVisible(r.key, transaction) ? { status: STATUS_OBJECT_NAME_NOT_FOUND, key: null, disposition: 0 } : r;
}

/** A create in `transaction` (null: none) of what `r` made or found: a new key is the transaction's; another's pending key conflicts. */
function visibleCreate(k: Kernel, r: KeyResult, transaction: KTRANSACTION | null): KeyResult {
  if (!r.key) return r;
  if (r.disposition === REG_CREATED_NEW_KEY) {
    if (transaction) recordCreate(k, transaction, r.key);
    return r;
  }
  if (!keyVisible(r.key.parent, transaction)) return { status: STATUS_OBJECT_NAME_NOT_FOUND, key: null, disposition: 0 };
  return keyVisible(r.key, transaction) ? r : { status: STATUS_TRANSACTIONAL_CONFLICT, key: null, disposition: 0 };
}

/** The starting key (and its key object) and path components of ObjectAttributes, or the failure. */
function where(ObjectAttributes: OBJECT_ATTRIBUTES): { status: NTSTATUS; from?: CM_KEY; root?: CM_KEY_BODY; parts?: string[]; remaining?: string } {
  const name = ObjectAttributes.ObjectName ?? "";
  const registry = CM(KE());
  if (ObjectAttributes.RootDirectory !== null && ObjectAttributes.RootDirectory !== 0) {
    const root = keyOf(ObjectAttributes.RootDirectory);
    if (!root.key) return { status: root.status };
    if (name.startsWith("\\")) return { status: STATUS_OBJECT_PATH_SYNTAX_BAD };
    const parts = splitPath(name);
    return parts ? { status: STATUS_SUCCESS, from: root.key, root: root.body!, parts, remaining: name } : { status: STATUS_OBJECT_NAME_INVALID };
  }
  if (!name.startsWith("\\")) return { status: STATUS_OBJECT_PATH_SYNTAX_BAD };
  const parts = splitPath(name);
  if (!parts) return { status: STATUS_OBJECT_NAME_INVALID };
  if (parts.length === 0 || parts[0].toUpperCase() !== "REGISTRY") return { status: STATUS_OBJECT_NAME_NOT_FOUND };
  return { status: STATUS_SUCCESS, from: registry.root, root: permanentKeyObject(KE(), registry.root), parts: parts.slice(1), remaining: parts.slice(1).join("\\") };
}

/** OBJ_FORCE_ACCESS_CHECK: the key must grant the caller's token DesiredAccess (STATUS_ACCESS_DENIED otherwise). */
function checked(k: Kernel, r: KeyResult, DesiredAccess: ACCESS_MASK, Attributes: number): KeyResult {
  if (r.key && (Attributes & OBJ_FORCE_ACCESS_CHECK) !== 0 && !keyAccessGranted(k, r.key, DesiredAccess)) return { status: STATUS_ACCESS_DENIED, key: null, disposition: 0 };
  return r;
}

/** A handle to `key` with `DesiredAccess`, kernel or process table by the attributes (OBJ_KERNEL_HANDLE). */
export function openKeyHandle(k: Kernel, key: CM_KEY, DesiredAccess: ACCESS_MASK, Attributes: number): HANDLE {
  const h = OB(k).create(CmKeyObjectType, new CM_KEY_BODY(key), KEY_BODY_BYTES);
  const handle = createHandle(k, h, grantedAccess(CmKeyObjectType, DesiredAccess), Attributes, KPROCESSOR_MODE.KernelMode);
  void dereference(k, h);
  return handle;
}

/**
 * ZwCreateKey(DesiredAccess, ObjectAttributes, TitleIndex, Class, CreateOptions): opens the
 * key, or creates it (with Class) when missing; the parent must exist. Returns the status,
 * the handle and the Disposition (REG_CREATED_NEW_KEY or REG_OPENED_EXISTING_KEY).
 * STATUS_INVALID_PARAMETER for unknown CreateOptions; STATUS_OBJECT_NAME_NOT_FOUND when a
 * parent is missing; STATUS_CHILD_MUST_BE_VOLATILE under a volatile key.
 */
export function ZwCreateKey(DesiredAccess: ACCESS_MASK, ObjectAttributes: OBJECT_ATTRIBUTES, TitleIndex: number, Class: RegistryName | null, CreateOptions: number): { status: NTSTATUS; KeyHandle: HANDLE; Disposition: number } {
  return createKeyIn(DesiredAccess, ObjectAttributes, TitleIndex, Class, CreateOptions, undefined);
}

/**
 * ZwCreateKey's work, in `Transaction` (undefined: the transaction of the root key, if
 * any; ZwCreateKeyTransacted passes its own).
 */
export function createKeyIn(DesiredAccess: ACCESS_MASK, ObjectAttributes: OBJECT_ATTRIBUTES, _TitleIndex: number, Class: RegistryName | null, CreateOptions: number, Transaction: KTRANSACTION | undefined): { status: NTSTATUS; KeyHandle: HANDLE; Disposition: number } {
  const k = KE();
  zwEntry(k);
  if ((CreateOptions & ~REG_LEGAL_OPTION) !== 0) return { status: STATUS_INVALID_PARAMETER, KeyHandle: 0, Disposition: 0 };
  const w = where(ObjectAttributes);
  if (!w.from) return { status: w.status, KeyHandle: 0, Disposition: 0 };
  const className = Class === null ? null : unicodeStringOrText(Class);
  const tx = Transaction ?? w.root!.Transaction;
  const outcome = filteredOpenKey(k, {
    create: true, RootObject: w.root!, CompleteName: ObjectAttributes.ObjectName ?? "", RemainingName: w.remaining!, Class: className, Options: CreateOptions,
    DesiredAccess, Attributes: ObjectAttributes.Attributes, CheckAccessMode: checkMode(ObjectAttributes.Attributes), Transaction: tx,
  }, KPROCESSOR_MODE.KernelMode,
  () => checked(k, visibleCreate(k, CM(k).create(w.from!, w.parts!, className ?? "", CreateOptions), tx), DesiredAccess, ObjectAttributes.Attributes),
  (r) => newKeyObject(k, r.key!, tx));
  if (!outcome.Object) return { status: outcome.status, KeyHandle: 0, Disposition: 0 };
  return { status: outcome.status, KeyHandle: keyHandleFor(k, outcome, DesiredAccess, ObjectAttributes.Attributes, KPROCESSOR_MODE.KernelMode), Disposition: outcome.Disposition };
}

/** The mode a create or open checks access in: UserMode with OBJ_FORCE_ACCESS_CHECK, otherwise KernelMode (a Zw caller). */
function checkMode(Attributes: number): KPROCESSOR_MODE {
  return (Attributes & OBJ_FORCE_ACCESS_CHECK) !== 0 ? KPROCESSOR_MODE.UserMode : KPROCESSOR_MODE.KernelMode;
}

/** ZwOpenKeyEx(DesiredAccess, ObjectAttributes, OpenOptions): opens an existing key (REG_OPTION_OPEN_LINK opens a link key itself). */
export function ZwOpenKeyEx(DesiredAccess: ACCESS_MASK, ObjectAttributes: OBJECT_ATTRIBUTES, OpenOptions: number): { status: NTSTATUS; KeyHandle: HANDLE } {
  return openKeyIn(DesiredAccess, ObjectAttributes, OpenOptions, undefined);
}

/** ZwOpenKeyEx's work, in `Transaction` (undefined: the transaction of the root key, if any; ZwOpenKeyTransacted passes its own). */
export function openKeyIn(DesiredAccess: ACCESS_MASK, ObjectAttributes: OBJECT_ATTRIBUTES, OpenOptions: number, Transaction: KTRANSACTION | undefined): { status: NTSTATUS; KeyHandle: HANDLE } {
  const k = KE();
  zwEntry(k);
  if ((OpenOptions & ~REG_LEGAL_OPTION) !== 0) return { status: STATUS_INVALID_PARAMETER, KeyHandle: 0 };
  const w = where(ObjectAttributes);
  if (!w.from) return { status: w.status, KeyHandle: 0 };
  const tx = Transaction ?? w.root!.Transaction;
  const outcome = filteredOpenKey(k, {
    create: false, RootObject: w.root!, CompleteName: ObjectAttributes.ObjectName ?? "", RemainingName: w.remaining!, Class: null, Options: OpenOptions,
    DesiredAccess, Attributes: ObjectAttributes.Attributes, CheckAccessMode: checkMode(ObjectAttributes.Attributes), Transaction: tx,
  }, KPROCESSOR_MODE.KernelMode,
  () => checked(k, visibleOpen(CM(k).resolve(w.from!, w.parts!, (OpenOptions & REG_OPTION_OPEN_LINK) !== 0), tx), DesiredAccess, ObjectAttributes.Attributes),
  (r) => newKeyObject(k, r.key!, tx));
  if (!outcome.Object) return { status: outcome.status, KeyHandle: 0 };
  return { status: outcome.status, KeyHandle: keyHandleFor(k, outcome, DesiredAccess, ObjectAttributes.Attributes, KPROCESSOR_MODE.KernelMode) };
}

/** ZwOpenKey(DesiredAccess, ObjectAttributes): opens an existing key (STATUS_OBJECT_NAME_NOT_FOUND when missing). Returns the status and the handle. */
export function ZwOpenKey(DesiredAccess: ACCESS_MASK, ObjectAttributes: OBJECT_ATTRIBUTES): { status: NTSTATUS; KeyHandle: HANDLE } {
  return ZwOpenKeyEx(DesiredAccess, ObjectAttributes, 0);
}

/** Writes an information answer into the caller's buffer; returns the status and ResultLength. */
function deliver(answer: InformationResult, buffer: number, align64: boolean): { status: NTSTATUS; ResultLength: number } {
  if (align64 && buffer % 8 !== 0) return { status: STATUS_DATATYPE_MISALIGNMENT, ResultLength: 0 };
  if (answer.bytes.length > 0) writeBytes(buffer, answer.bytes);
  return { status: answer.status, ResultLength: answer.ResultLength };
}

/**
 * ZwQueryKey(KeyHandle, KeyInformationClass, KeyInformation, Length): the key's
 * KEY_*_INFORMATION at the guest address KeyInformation. Returns the status and
 * ResultLength (STATUS_BUFFER_TOO_SMALL / STATUS_BUFFER_OVERFLOW as information.ts says).
 */
export function ZwQueryKey(KeyHandle: HANDLE, KeyInformationClass: KEY_INFORMATION_CLASS, KeyInformation: number, Length: number): { status: NTSTATUS; ResultLength: number } {
  const k = KE();
  zwEntry(k);
  const { status, key, body } = keyOf(KeyHandle);
  if (!key) return { status, ResultLength: 0 };
  return filteredQueryKey(k, body!, KeyInformationClass, KeyInformation, Length, KPROCESSOR_MODE.KernelMode,
    () => deliver(keyInformation(key, KeyInformationClass, Length), KeyInformation, false));
}

/** ZwEnumerateKey(KeyHandle, Index, KeyInformationClass, KeyInformation, Length): subkey `Index` (by name order); STATUS_NO_MORE_ENTRIES past the last. */
export function ZwEnumerateKey(KeyHandle: HANDLE, Index: number, KeyInformationClass: KEY_INFORMATION_CLASS, KeyInformation: number, Length: number): { status: NTSTATUS; ResultLength: number } {
  const k = KE();
  zwEntry(k);
  const { status, key, body } = keyOf(KeyHandle);
  if (!key) return { status, ResultLength: 0 };
  if (KeyInformationClass > KEY_INFORMATION_CLASS.KeyFullInformation) return { status: STATUS_INVALID_PARAMETER, ResultLength: 0 };
  return filteredEnumerateKey(k, body!, Index, KeyInformationClass, KeyInformation, Length, KPROCESSOR_MODE.KernelMode, () => {
    const sub = visibleSubkeyAt(key, Index, body!.Transaction);
    if (!sub) return { status: STATUS_NO_MORE_ENTRIES, ResultLength: 0 };
    return deliver(keyInformation(sub, KeyInformationClass, Length), KeyInformation, false);
  });
}

const isAlign64 = (c: KEY_VALUE_INFORMATION_CLASS) => c === KEY_VALUE_INFORMATION_CLASS.KeyValueFullInformationAlign64 || c === KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformationAlign64;

/**
 * ZwQueryValueKey(KeyHandle, ValueName, KeyValueInformationClass, KeyValueInformation,
 * Length): the value's KEY_VALUE_*_INFORMATION at the guest address KeyValueInformation.
 * STATUS_OBJECT_NAME_NOT_FOUND when the key has no such value; STATUS_DATATYPE_MISALIGNMENT
 * for an Align64 class into a buffer not 8-byte aligned. Returns the status and ResultLength.
 */
export function ZwQueryValueKey(KeyHandle: HANDLE, ValueName: RegistryName, KeyValueInformationClass: KEY_VALUE_INFORMATION_CLASS, KeyValueInformation: number, Length: number): { status: NTSTATUS; ResultLength: number } {
  const k = KE();
  zwEntry(k);
  const { status, key, body } = keyOf(KeyHandle);
  if (!key) return { status, ResultLength: 0 };
  const name = unicodeStringOrText(ValueName);
  return filteredQueryValueKey(k, body!, name, KeyValueInformationClass, KeyValueInformation, Length, KPROCESSOR_MODE.KernelMode, () => {
    const value = transactedValue(key, name, body!.Transaction);
    if (!value) return { status: STATUS_OBJECT_NAME_NOT_FOUND, ResultLength: 0 };
    return deliver(valueInformation(value, KeyValueInformationClass, Length), KeyValueInformation, isAlign64(KeyValueInformationClass));
  });
}

/** ZwEnumerateValueKey(KeyHandle, Index, KeyValueInformationClass, KeyValueInformation, Length): value `Index` (in the order set); STATUS_NO_MORE_ENTRIES past the last. */
export function ZwEnumerateValueKey(KeyHandle: HANDLE, Index: number, KeyValueInformationClass: KEY_VALUE_INFORMATION_CLASS, KeyValueInformation: number, Length: number): { status: NTSTATUS; ResultLength: number } {
  const k = KE();
  zwEntry(k);
  const { status, key, body } = keyOf(KeyHandle);
  if (!key) return { status, ResultLength: 0 };
  return filteredEnumerateValueKey(k, body!, Index, KeyValueInformationClass, KeyValueInformation, Length, KPROCESSOR_MODE.KernelMode, () => {
    const value = body!.Transaction ? transactedValues(key, body!.Transaction)[Index] : key.valueAt(Index);
    if (!value) return { status: STATUS_NO_MORE_ENTRIES, ResultLength: 0 };
    return deliver(valueInformation(value, KeyValueInformationClass, Length), KeyValueInformation, isAlign64(KeyValueInformationClass));
  });
}

/**
 * ZwSetValueKey(KeyHandle, ValueName, TitleIndex, Type, Data, DataSize): sets the value
 * (made if missing) to DataSize bytes at the guest address Data — or, in TypeScript, to
 * the bytes of a Uint8Array.
 */
export function ZwSetValueKey(KeyHandle: HANDLE, ValueName: RegistryName, TitleIndex: number, Type: number, Data: number | Uint8Array, DataSize: number): NTSTATUS {
  const k = KE();
  zwEntry(k);
  const { status, key, body } = keyOf(KeyHandle);
  if (!key) return status;
  const name = unicodeStringOrText(ValueName);
  return filteredSetValueKey(k, body!, name, TitleIndex, Type, Data, DataSize, KPROCESSOR_MODE.KernelMode, () => {
    const bytes = typeof Data === "number" ? (DataSize > 0 ? readBytes(Data, DataSize) : new Uint8Array(0)) : Data.slice(0, DataSize);
    return body!.Transaction ? transactedSetValue(k, body!.Transaction, key, name, Type, bytes) : CM(k).setValue(key, name, Type, bytes);
  });
}

/** ZwDeleteValueKey(KeyHandle, ValueName): STATUS_OBJECT_NAME_NOT_FOUND when there is no such value. */
export function ZwDeleteValueKey(KeyHandle: HANDLE, ValueName: RegistryName): NTSTATUS {
  const k = KE();
  zwEntry(k);
  const { status, key, body } = keyOf(KeyHandle);
  if (!key) return status;
  const name = unicodeStringOrText(ValueName);
  const transaction = body!.Transaction;
  return filteredDeleteValueKey(k, body!, name, KPROCESSOR_MODE.KernelMode, () => (transaction ? transactedDeleteValue(k, transaction, key, name) : CM(k).deleteValue(key, name)));
}

/** ZwDeleteKey(KeyHandle): deletes a key with no subkeys (STATUS_CANNOT_DELETE otherwise); its handles stay open and see STATUS_KEY_DELETED. Close the handle afterwards. */
export function ZwDeleteKey(KeyHandle: HANDLE): NTSTATUS {
  const k = KE();
  zwEntry(k);
  const { status, key, body } = keyOf(KeyHandle);
  if (!key) return status;
  const transaction = body!.Transaction;
  return filteredDeleteKey(k, body!, KPROCESSOR_MODE.KernelMode, () => {
    if (!transaction) return CM(k).deleteKey(key);
    return visibleSubkeyAt(key, 0, transaction) ? STATUS_CANNOT_DELETE : transactedDeleteKey(k, transaction, key);
  });
}

/** ZwFlushKey(KeyHandle): the registry lives in memory, so there is nothing to write; STATUS_SUCCESS for a valid key handle. */
export function ZwFlushKey(KeyHandle: HANDLE): NTSTATUS {
  const k = KE();
  zwEntry(k);
  const { status, key, body } = keyOf(KeyHandle);
  return key ? filteredFlushKey(k, body!, KPROCESSOR_MODE.KernelMode, () => STATUS_SUCCESS) : status;
}
