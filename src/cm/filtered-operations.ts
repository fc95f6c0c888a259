/**
 * The registry operations as the configuration manager performs them for a caller (the Zw
 * routines in kernel mode, the Reg* API in user mode): each is announced to the
 * registered RegistryCallback routines (src/cm/callbacks.ts) before and after it is
 * performed, and the callbacks' answers decide what the caller gets. With no callback
 * registered an operation is simply performed.
 *
 * Inputs are captured before callbacks see them (as since Windows 8): names are
 * UNICODE_STRINGs in kernel memory, and value data the caller gave as host bytes is copied
 * to kernel pool for the duration of the operation.
 */
import type { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import type { Kernel } from "../ke/kernel.js";
import { NT_SUCCESS, STATUS_CALLBACK_BYPASS, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import { MM } from "../mm/manager.js";
import { writeBytes, type PVOID } from "../mm/memory.js";
import { POOL_TYPE, tagValue } from "../mm/pool.js";
import type { ACCESS_MASK } from "../ob/access.js";
import { wideLiteral } from "../rtl/guest-text.js";
import { RtlInitUnicodeString, UNICODE_STRING } from "../rtl/unicode-string.js";
import {
  REG_CREATE_KEY_INFORMATION_V1, REG_DELETE_KEY_INFORMATION, REG_DELETE_VALUE_KEY_INFORMATION, REG_ENUMERATE_KEY_INFORMATION,
  REG_ENUMERATE_VALUE_KEY_INFORMATION, REG_FLUSH_KEY_INFORMATION, REG_QUERY_KEY_INFORMATION, REG_QUERY_VALUE_KEY_INFORMATION,
  REG_SET_VALUE_KEY_INFORMATION,
} from "./callback-information.js";
import { cmCallbacksActive, cmNotifyPost, cmNotifyPre, preOutcome, type PreNotification } from "./callbacks.js";
import type { KEY_INFORMATION_CLASS, KEY_VALUE_INFORMATION_CLASS } from "./information.js";
import { REG_NOTIFY_CLASS } from "./notify-class.js";
import type { KeyResult } from "./registry.js";
import { CmKeyObjectType, type CM_KEY_BODY } from "./zw.js";

/** The pool tag of data the registry captures for callbacks ("CMda"). */
const CAPTURE_TAG = tagValue("CMda");

/** A counted string holding `text` in kernel memory (interned per machine). */
export function capturedName(text: string): UNICODE_STRING {
  const s = new UNICODE_STRING();
  RtlInitUnicodeString(s, wideLiteral(text));
  return s;
}

/** Bytes at a guest address, or host bytes copied into kernel pool (freed by releaseCapture). */
interface CapturedData {
  address: PVOID;
  pooled: boolean;
}

function capture(k: Kernel, Data: PVOID | Uint8Array, DataSize: number): CapturedData {
  if (typeof Data === "number") return { address: Data, pooled: false };
  if (DataSize === 0) return { address: 0, pooled: false };
  const va = MM(k).pool.allocate(POOL_TYPE.PagedPool, DataSize, CAPTURE_TAG, "nt");
  writeBytes(va, Data.subarray(0, DataSize));
  return { address: va, pooled: true };
}

function releaseCapture(k: Kernel, c: CapturedData): void {
  if (c.pooled) MM(k).pool.free(c.address);
}

/** Runs `perform` between the pre- and post-notifications of an operation on an open key. */
function keyOperation(k: Kernel, preClass: REG_NOTIFY_CLASS, postClass: REG_NOTIFY_CLASS, info: { CallContext: unknown }, body: CM_KEY_BODY, mode: KPROCESSOR_MODE, perform: () => NTSTATUS): NTSTATUS {
  const pre: PreNotification = cmNotifyPre(k, preClass, info, body, mode);
  const status = pre.status === STATUS_SUCCESS ? perform() : preOutcome(pre);
  return cmNotifyPost(k, postClass, pre, info, body, status).status;
}

/** ZwSetValueKey / RegSetValueEx: RegNtPreSetValueKey and RegNtPostSetValueKey around `perform`. */
export function filteredSetValueKey(k: Kernel, body: CM_KEY_BODY, ValueName: string, TitleIndex: number, Type: number, Data: PVOID | Uint8Array, DataSize: number, mode: KPROCESSOR_MODE, perform: () => NTSTATUS): NTSTATUS {
  if (!cmCallbacksActive(k)) return perform();
  const data = capture(k, Data, DataSize);
  try {
    const info = new REG_SET_VALUE_KEY_INFORMATION(body, capturedName(ValueName), TitleIndex, Type, data.address, DataSize);
    return keyOperation(k, REG_NOTIFY_CLASS.RegNtPreSetValueKey, REG_NOTIFY_CLASS.RegNtPostSetValueKey, info, body, mode, perform);
  } finally {
    releaseCapture(k, data);
  }
}

/** ZwDeleteValueKey / RegDeleteValue: RegNtPreDeleteValueKey and RegNtPostDeleteValueKey around `perform`. */
export function filteredDeleteValueKey(k: Kernel, body: CM_KEY_BODY, ValueName: string, mode: KPROCESSOR_MODE, perform: () => NTSTATUS): NTSTATUS {
  if (!cmCallbacksActive(k)) return perform();
  const info = new REG_DELETE_VALUE_KEY_INFORMATION(body, capturedName(ValueName));
  return keyOperation(k, REG_NOTIFY_CLASS.RegNtPreDeleteValueKey, REG_NOTIFY_CLASS.RegNtPostDeleteValueKey, info, body, mode, perform);
}

/** ZwDeleteKey / RegDeleteKey: RegNtPreDeleteKey and RegNtPostDeleteKey around `perform`. */
export function filteredDeleteKey(k: Kernel, body: CM_KEY_BODY, mode: KPROCESSOR_MODE, perform: () => NTSTATUS): NTSTATUS {
  if (!cmCallbacksActive(k)) return perform();
  return keyOperation(k, REG_NOTIFY_CLASS.RegNtPreDeleteKey, REG_NOTIFY_CLASS.RegNtPostDeleteKey, new REG_DELETE_KEY_INFORMATION(body), body, mode, perform);
}

/** ZwFlushKey: RegNtPreFlushKey and RegNtPostFlushKey around `perform`. */
export function filteredFlushKey(k: Kernel, body: CM_KEY_BODY, mode: KPROCESSOR_MODE, perform: () => NTSTATUS): NTSTATUS {
  if (!cmCallbacksActive(k)) return perform();
  return keyOperation(k, REG_NOTIFY_CLASS.RegNtPreFlushKey, REG_NOTIFY_CLASS.RegNtPostFlushKey, new REG_FLUSH_KEY_INFORMATION(body), body, mode, perform);
}

/** An information operation's answer: the status and the bytes the whole answer needs. */
export interface InformationAnswer {
  status: NTSTATUS;
  ResultLength: number;
}

/** Runs an information query between its notifications; a bypassing callback's ResultLength is the caller's. */
function informationOperation(k: Kernel, preClass: REG_NOTIFY_CLASS, postClass: REG_NOTIFY_CLASS, info: { CallContext: unknown; ResultLength: number }, body: CM_KEY_BODY, mode: KPROCESSOR_MODE, perform: () => InformationAnswer): InformationAnswer {
  const pre = cmNotifyPre(k, preClass, info, body, mode);
  let status: NTSTATUS;
  if (pre.status === STATUS_SUCCESS) {
    const r = perform();
    status = r.status;
    info.ResultLength = r.ResultLength;
  } else {
    status = preOutcome(pre);
  }
  return { status: cmNotifyPost(k, postClass, pre, info, body, status).status, ResultLength: info.ResultLength };
}

/** ZwQueryValueKey / RegQueryValueEx: RegNtPreQueryValueKey and RegNtPostQueryValueKey around `perform`. */
export function filteredQueryValueKey(k: Kernel, body: CM_KEY_BODY, ValueName: string, cls: KEY_VALUE_INFORMATION_CLASS, buffer: PVOID, Length: number, mode: KPROCESSOR_MODE, perform: () => InformationAnswer): InformationAnswer {
  if (!cmCallbacksActive(k)) return perform();
  const info = new REG_QUERY_VALUE_KEY_INFORMATION(body, capturedName(ValueName), cls, buffer, Length);
  return informationOperation(k, REG_NOTIFY_CLASS.RegNtPreQueryValueKey, REG_NOTIFY_CLASS.RegNtPostQueryValueKey, info, body, mode, perform);
}

/** ZwEnumerateValueKey / RegEnumValue: RegNtPreEnumerateValueKey and RegNtPostEnumerateValueKey around `perform`. */
export function filteredEnumerateValueKey(k: Kernel, body: CM_KEY_BODY, Index: number, cls: KEY_VALUE_INFORMATION_CLASS, buffer: PVOID, Length: number, mode: KPROCESSOR_MODE, perform: () => InformationAnswer): InformationAnswer {
  if (!cmCallbacksActive(k)) return perform();
  const info = new REG_ENUMERATE_VALUE_KEY_INFORMATION(body, Index, cls, buffer, Length);
  return informationOperation(k, REG_NOTIFY_CLASS.RegNtPreEnumerateValueKey, REG_NOTIFY_CLASS.RegNtPostEnumerateValueKey, info, body, mode, perform);
}

/** ZwEnumerateKey / RegEnumKeyEx: RegNtPreEnumerateKey and RegNtPostEnumerateKey around `perform`. */
export function filteredEnumerateKey(k: Kernel, body: CM_KEY_BODY, Index: number, cls: KEY_INFORMATION_CLASS, buffer: PVOID, Length: number, mode: KPROCESSOR_MODE, perform: () => InformationAnswer): InformationAnswer {
  if (!cmCallbacksActive(k)) return perform();
  const info = new REG_ENUMERATE_KEY_INFORMATION(body, Index, cls, buffer, Length);
  return informationOperation(k, REG_NOTIFY_CLASS.RegNtPreEnumerateKey, REG_NOTIFY_CLASS.RegNtPostEnumerateKey, info, body, mode, perform);
}

/** ZwQueryKey: RegNtPreQueryKey and RegNtPostQueryKey around `perform`. */
export function filteredQueryKey(k: Kernel, body: CM_KEY_BODY, cls: KEY_INFORMATION_CLASS, buffer: PVOID, Length: number, mode: KPROCESSOR_MODE, perform: () => InformationAnswer): InformationAnswer {
  if (!cmCallbacksActive(k)) return perform();
  const info = new REG_QUERY_KEY_INFORMATION(body, cls, buffer, Length);
  return informationOperation(k, REG_NOTIFY_CLASS.RegNtPreQueryKey, REG_NOTIFY_CLASS.RegNtPostQueryKey, info, body, mode, perform);
}

/** A create or open as the caller described it. */
export interface KeyOpenRequest {
  create: boolean;
  /** The key object the name starts at (the \REGISTRY key object for an absolute path). */
  RootObject: CM_KEY_BODY;
  /** The name as the caller gave it. */
  CompleteName: string;
  /** The name below RootObject. */
  RemainingName: string;
  Class: string | null;
  Options: number;
  DesiredAccess: ACCESS_MASK;
  Attributes: number;
  /** The mode access is checked in. */
  CheckAccessMode: KPROCESSOR_MODE;
  /** The transaction the operation is in, or null. */
  Transaction: object | null;
}

/** A create's or open's outcome: the status, the key object to open a handle to (carrying one reference for it) and the disposition. */
export interface KeyOpenOutcome {
  status: NTSTATUS;
  Object: CM_KEY_BODY | null;
  Disposition: number;
  /** The access a bypassing or overriding callback granted (0: DesiredAccess). */
  GrantedAccess: ACCESS_MASK;
}

/**
 * ZwCreateKey / ZwOpenKey(Ex) / RegCreateKeyEx / RegOpenKeyEx: RegNtPreCreateKeyEx or
 * RegNtPreOpenKeyEx, the operation (`perform` resolves or creates the key, `makeObject`
 * makes a key object for it with one reference), then the post-notification. The key
 * object the caller's handle is opened to is the pre-notification structure's
 * ResultObject, which a bypassing or overriding callback sets (referenced).
 */
export function filteredOpenKey(k: Kernel, request: KeyOpenRequest, mode: KPROCESSOR_MODE, perform: () => KeyResult, makeObject: (r: KeyResult) => CM_KEY_BODY): KeyOpenOutcome {
  if (!cmCallbacksActive(k)) {
    const r = perform();
    return r.key ? { status: STATUS_SUCCESS, Object: makeObject(r), Disposition: r.disposition, GrantedAccess: 0 } : { status: r.status, Object: null, Disposition: 0, GrantedAccess: 0 };
  }
  const info = new REG_CREATE_KEY_INFORMATION_V1(
    capturedName(request.CompleteName), capturedName(request.RemainingName), request.RootObject, CmKeyObjectType, request.Options,
    request.DesiredAccess, request.Attributes, request.CheckAccessMode,
  );
  if (request.Class !== null) info.Class = capturedName(request.Class);
  info.Transaction = request.Transaction;
  const pre = cmNotifyPre(k, request.create ? REG_NOTIFY_CLASS.RegNtPreCreateKeyEx : REG_NOTIFY_CLASS.RegNtPreOpenKeyEx, info, request.RootObject, mode);
  let status: NTSTATUS;
  if (pre.status === STATUS_SUCCESS) {
    const r = perform();
    status = r.status;
    if (r.key) {
      info.ResultObject = makeObject(r);
      info.Disposition = r.disposition;
    }
  } else {
    status = preOutcome(pre);
  }
  const postObject = NT_SUCCESS(status) ? info.ResultObject : null;
  const post = cmNotifyPost(k, request.create ? REG_NOTIFY_CLASS.RegNtPostCreateKeyEx : REG_NOTIFY_CLASS.RegNtPostOpenKeyEx, pre, info, postObject, status);
  const object = (info.ResultObject ?? post.Object) as CM_KEY_BODY | null;
  if (!NT_SUCCESS(post.status) || !object) return { status: post.status, Object: null, Disposition: 0, GrantedAccess: 0 };
  return { status: post.status, Object: object, Disposition: info.Disposition, GrantedAccess: pre.status === STATUS_CALLBACK_BYPASS || object !== postObject ? info.GrantedAccess : 0 };
}
