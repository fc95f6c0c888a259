/**
 * Registry filtering: the RegistryCallback routines drivers register with
 * CmRegisterCallbackEx (or CmRegisterCallback), and how the configuration manager calls
 * them around every registry operation (Zw*Key routines and the user-mode Reg* API):
 *
 * - Pre-notifications go from the highest altitude to the lowest. A callback that returns
 *   an error blocks the operation: the caller gets that status, no lower callback is
 *   called. STATUS_CALLBACK_BYPASS means the callback performed the operation itself: the
 *   registry does nothing more and the caller gets STATUS_SUCCESS (and what the callback
 *   wrote into the structure's outputs). Either way that callback gets no post-notification.
 * - Post-notifications go to every callback that returned success for the
 *   pre-notification, in the reverse order (lowest first), with the operation's status
 *   (REG_POST_OPERATION_INFORMATION.Status). One that returns STATUS_CALLBACK_BYPASS
 *   replaces the status with its ReturnStatus, which the callbacks above it then see.
 * - CallContext: what a callback stores in the pre-notification's structure comes back to
 *   it in its post-notification. ObjectContext: CmSetCallbackObjectContext attaches a
 *   value to one key object for one callback; that callback sees it in every operation on
 *   that object and gets RegNtCallbackObjectContextCleanup when the object's last handle
 *   closes (between the RegNtPreKeyHandleClose and RegNtPostKeyHandleClose
 *   notifications) or when it is unregistered.
 * - A registry routine a callback calls is notified only to the callbacks below it in
 *   altitude (the stack is not restarted at the top).
 * - Callbacks run at PASSIVE_LEVEL in the thread of the registry call, with
 *   ExGetPreviousMode() KernelMode for Zw routines and UserMode for the Reg* API; they run
 *   to completion (the registry waits for nothing while calling them). An exception a
 *   callback raises and does not handle is bug check 0x135
 *   REGISTRY_FILTER_DRIVER_EXCEPTION (callback version 1.1).
 */
import { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import { DRIVER_VERIFIER_DETECTED_VIOLATION, REGISTRY_FILTER_DRIVER_EXCEPTION } from "../ke/bugcheck.js";
import { APC_LEVEL } from "../ke/irql.js";
import { KE, type Kernel } from "../ke/kernel.js";
import {
  NT_SUCCESS, NtStatusException, STATUS_CALLBACK_BYPASS, STATUS_FLT_INSTANCE_ALTITUDE_COLLISION, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
  type NTSTATUS,
} from "../ke/ntstatus.js";
import { MM } from "../mm/manager.js";
import { popPreviousMode, pushPreviousMode } from "../ob/previous-mode.js";
import { RtlFreeUnicodeString, unicodeStringFromText, unicodeStringOrText, type UNICODE_STRING } from "../rtl/unicode-string.js";
import { REG_CALLBACK_CONTEXT_CLEANUP_INFORMATION, REG_POST_OPERATION_INFORMATION } from "./callback-information.js";
import type { CM_KEY } from "./key.js";
import { REG_NOTIFY_CLASS } from "./notify-class.js";

/** 0xC4 P1: DDI compliance rule IrqlExApcLte2 (CmRegisterCallback(Ex), CmUnRegisterCallback at IRQL <= APC_LEVEL). */
export const DDI_RULE_IRQL_EX_APC_LTE2 = 0x00020006;

/** The registry callback version this configuration manager implements (CmGetCallbackVersion): 1.1, as Windows 7 and later. */
export const CM_CALLBACK_VERSION_MAJOR = 1;
/** The minor version CmGetCallbackVersion reports. */
export const CM_CALLBACK_VERSION_MINOR = 1;

/** First cookie handed out (cookies then count up by COOKIE_STRIDE: they look like the kernel addresses Windows uses). */
const FIRST_COOKIE = 0x8000_0100_0000;
const COOKIE_STRIDE = 0x40;

/**
 * EX_CALLBACK_FUNCTION (RegistryCallback): CallbackContext is what the driver registered,
 * Argument1 the REG_NOTIFY_CLASS, Argument2 the REG_XXX_KEY_INFORMATION structure. Returns
 * STATUS_SUCCESS to let the operation go on, an error to block it, or
 * STATUS_CALLBACK_BYPASS (see the file comment). Runs to completion (no waits).
 */
export type EX_CALLBACK_FUNCTION = (CallbackContext: unknown, Argument1: REG_NOTIFY_CLASS, Argument2: object) => NTSTATUS;

/** Something with a `key` (a key object's body: CM_KEY_BODY). */
export interface KeyObjectBody {
  readonly key: CM_KEY;
  /** The transaction the key object was opened in (ZwOpenKeyTransacted / ZwCreateKeyTransacted), or null. */
  readonly Transaction: object | null;
}

/** A registered RegistryCallback routine (CM_CALLBACK_CONTEXT_BLOCK). */
export class CM_CALLBACK_BLOCK {
  /** Object contexts this callback set (CmSetCallbackObjectContext), by key object. */
  readonly objectContexts = new Map<object, unknown>();
  constructor(
    readonly Function: EX_CALLBACK_FUNCTION,
    /** The altitude as registered ("" for CmRegisterCallback). */
    readonly Altitude: string,
    /** The altitude's value for ordering (legacy registrations sort above every altitude). */
    readonly order: number,
    /** The registering driver's service name ("nt" when none was given). */
    readonly driver: string,
    readonly Context: unknown,
    readonly Cookie: number,
  ) {}
}

/** The registered callbacks of one machine, highest altitude first. */
export class RegistryCallbacks {
  readonly blocks: CM_CALLBACK_BLOCK[] = [];
  /** The callbacks running now, innermost last (a registry call they make goes only to callbacks below the innermost). */
  readonly running: CM_CALLBACK_BLOCK[] = [];
  private nextCookie = FIRST_COOKIE;

  /** A cookie not used before on this machine. */
  newCookie(): number {
    const c = this.nextCookie;
    this.nextCookie += COOKIE_STRIDE;
    return c;
  }

  /** The block registered with `Cookie`, if any. */
  byCookie(Cookie: number | bigint): CM_CALLBACK_BLOCK | undefined {
    const c = Number(Cookie);
    return this.blocks.find((b) => b.Cookie === c);
  }
}

/** The machine's registry callbacks (made on first use). */
export function CM_CALLBACKS(k: Kernel): RegistryCallbacks {
  let r = k.services.get("cm-callbacks") as RegistryCallbacks | undefined;
  if (!r) {
    r = new RegistryCallbacks();
    k.services.set("cm-callbacks", r);
  }
  return r;
}

function apcLevelEntry(k: Kernel): void {
  if (k.verifier && k.cpu.irql > APC_LEVEL) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, DDI_RULE_IRQL_EX_APC_LTE2, k.cpu.irql, 0, 0);
}

/** A DRIVER_OBJECT-like value's service name. */
function driverName(Driver: unknown): string {
  const d = Driver as { serviceName?: string } | null;
  return d && typeof d.serviceName === "string" ? d.serviceName : "nt";
}

/** The numeric value of an altitude string ("380010", "320000.5"); NaN when it is not a decimal number. */
function altitudeValue(text: string): number {
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
}

function insert(callbacks: RegistryCallbacks, block: CM_CALLBACK_BLOCK): void {
  let i = 0;
  while (i < callbacks.blocks.length && callbacks.blocks[i].order >= block.order) i++;
  callbacks.blocks.splice(i, 0, block);
}

/**
 * CmRegisterCallbackEx(Function, Altitude, Driver, Context, Reserved): registers a
 * RegistryCallback routine at `Altitude` (a decimal string, e.g. "380010"; a higher
 * altitude is called earlier). Returns the status and the Cookie (the C routine's
 * LARGE_INTEGER out-parameter) to pass to CmUnRegisterCallback.
 * STATUS_FLT_INSTANCE_ALTITUDE_COLLISION when a callback is already registered at that
 * altitude; STATUS_INVALID_PARAMETER for an altitude that is not a number.
 * IRQL <= APC_LEVEL (verifier: 0xC4 / 0x20006).
 */
export function CmRegisterCallbackEx(Function: EX_CALLBACK_FUNCTION, Altitude: UNICODE_STRING | string, Driver: unknown, Context: unknown, _Reserved: null = null): { status: NTSTATUS; Cookie: number } {
  const k = KE();
  apcLevelEntry(k);
  const text = unicodeStringOrText(Altitude);
  const value = altitudeValue(text);
  if (Number.isNaN(value)) return { status: STATUS_INVALID_PARAMETER, Cookie: 0 };
  const callbacks = CM_CALLBACKS(k);
  if (callbacks.blocks.some((b) => b.order === value)) return { status: STATUS_FLT_INSTANCE_ALTITUDE_COLLISION, Cookie: 0 };
  const block = new CM_CALLBACK_BLOCK(Function, text, value, driverName(Driver), Context, callbacks.newCookie());
  insert(callbacks, block);
  return { status: STATUS_SUCCESS, Cookie: block.Cookie };
}

/**
 * CmRegisterCallback(Function, Context): registers a RegistryCallback routine without an
 * altitude (the pre-Vista routine): it goes near the top of the stack, above every
 * altitude, after earlier such registrations. Returns the status and the Cookie.
 * IRQL <= APC_LEVEL (verifier: 0xC4 / 0x20006).
 */
export function CmRegisterCallback(Function: EX_CALLBACK_FUNCTION, Context: unknown): { status: NTSTATUS; Cookie: number } {
  const k = KE();
  apcLevelEntry(k);
  const callbacks = CM_CALLBACKS(k);
  const legacy = callbacks.blocks.filter((b) => b.Altitude === "").length;
  // Legacy registrations sort above any altitude, earlier ones first.
  const block = new CM_CALLBACK_BLOCK(Function, "", Number.MAX_SAFE_INTEGER - legacy, k.attribution().driver, Context, callbacks.newCookie());
  insert(callbacks, block);
  return { status: STATUS_SUCCESS, Cookie: block.Cookie };
}

/**
 * CmUnRegisterCallback(Cookie): unregisters the callback registered with `Cookie`. The
 * callback first gets RegNtCallbackObjectContextCleanup for every key object it set a
 * context on. STATUS_INVALID_PARAMETER for a cookie that names no registration.
 * IRQL <= APC_LEVEL (verifier: 0xC4 / 0x20006).
 */
export function CmUnRegisterCallback(Cookie: number | bigint): NTSTATUS {
  const k = KE();
  apcLevelEntry(k);
  const callbacks = CM_CALLBACKS(k);
  const block = callbacks.byCookie(Cookie);
  if (!block) return STATUS_INVALID_PARAMETER;
  for (const [object, context] of [...block.objectContexts]) {
    block.objectContexts.delete(object);
    callBlock(k, callbacks, block, REG_NOTIFY_CLASS.RegNtCallbackObjectContextCleanup, new REG_CALLBACK_CONTEXT_CLEANUP_INFORMATION(object, context), KPROCESSOR_MODE.KernelMode);
  }
  callbacks.blocks.splice(callbacks.blocks.indexOf(block), 1);
  return STATUS_SUCCESS;
}

/** CmGetCallbackVersion: { Major, Minor } of the registry callback feature (1.1: see CM_CALLBACK_VERSION_*). IRQL <= APC_LEVEL. */
export function CmGetCallbackVersion(): { Major: number; Minor: number } {
  return { Major: CM_CALLBACK_VERSION_MAJOR, Minor: CM_CALLBACK_VERSION_MINOR };
}

/**
 * CmSetCallbackObjectContext(Object, Cookie, NewContext): attaches `NewContext` to the key
 * object `Object` for the callback registered with `Cookie` (call it only from that
 * callback). Returns the status and OldContext (the context it replaces, or null).
 * STATUS_INVALID_PARAMETER for an unknown cookie or a null object.
 */
export function CmSetCallbackObjectContext(Object: object | null, Cookie: number | bigint, NewContext: unknown): { status: NTSTATUS; OldContext: unknown } {
  const block = CM_CALLBACKS(KE()).byCookie(Cookie);
  if (!block || !Object) return { status: STATUS_INVALID_PARAMETER, OldContext: null };
  const OldContext = block.objectContexts.get(Object) ?? null;
  block.objectContexts.set(Object, NewContext);
  return { status: STATUS_SUCCESS, OldContext };
}

/**
 * CmCallbackGetKeyObjectID(Cookie, Object): the key's ObjectID (one value for every key
 * object of the same key) and ObjectName (its full path, "\\REGISTRY\\MACHINE\\...", a
 * string the registry owns: do not change or free it). STATUS_INVALID_PARAMETER for an
 * unknown cookie or an object that is not a key object.
 */
export function CmCallbackGetKeyObjectID(Cookie: number | bigint, Object: object | null): { status: NTSTATUS; ObjectID: number; ObjectName: UNICODE_STRING | null } {
  const k = KE();
  const body = Object as KeyObjectBody | null;
  if (!CM_CALLBACKS(k).byCookie(Cookie) || !body || !body.key) return { status: STATUS_INVALID_PARAMETER, ObjectID: 0, ObjectName: null };
  return { status: STATUS_SUCCESS, ObjectID: body.key.address, ObjectName: ownedName(k, body.key) };
}

/** The registry-owned name string of a key (made once per key). */
function ownedName(k: Kernel, key: CM_KEY): UNICODE_STRING | null {
  const names = (k.services.get("cm-key-names") as WeakMap<CM_KEY, UNICODE_STRING> | undefined) ?? new WeakMap<CM_KEY, UNICODE_STRING>();
  k.services.set("cm-key-names", names);
  let name = names.get(key);
  if (!name) {
    const made = unicodeStringFromText(key.path);
    if (!made) return null;
    names.set(key, made);
    name = made;
  }
  return name;
}

/**
 * CmCallbackGetKeyObjectIDEx(Cookie, Object, Flags): as CmCallbackGetKeyObjectID, but
 * ObjectName is the caller's copy (paged pool), released with
 * CmCallbackReleaseKeyObjectIDEx. Flags must be 0 (STATUS_INVALID_PARAMETER otherwise).
 */
export function CmCallbackGetKeyObjectIDEx(Cookie: number | bigint, Object: object | null, Flags: number): { status: NTSTATUS; ObjectID: number; ObjectName: UNICODE_STRING | null } {
  const body = Object as KeyObjectBody | null;
  if (Flags !== 0 || !CM_CALLBACKS(KE()).byCookie(Cookie) || !body || !body.key) return { status: STATUS_INVALID_PARAMETER, ObjectID: 0, ObjectName: null };
  const ObjectName = unicodeStringFromText(body.key.path);
  return ObjectName ? { status: STATUS_SUCCESS, ObjectID: body.key.address, ObjectName } : { status: STATUS_INSUFFICIENT_RESOURCES, ObjectID: 0, ObjectName: null };
}

/** CmCallbackReleaseKeyObjectIDEx(ObjectName): frees a name CmCallbackGetKeyObjectIDEx returned. */
export function CmCallbackReleaseKeyObjectIDEx(ObjectName: UNICODE_STRING): void {
  RtlFreeUnicodeString(ObjectName);
}

/**
 * CmGetBoundTransaction(Cookie, Object): the transaction object a key object is bound to
 * (the key was opened or created with ZwOpenKeyTransacted / ZwCreateKeyTransacted), or
 * null when it is not transacted or the cookie names no registration.
 */
export function CmGetBoundTransaction(Cookie: number | bigint, Object: object | null): object | null {
  const body = Object as KeyObjectBody | null;
  if (!CM_CALLBACKS(KE()).byCookie(Cookie) || !body) return null;
  return body.Transaction ?? null;
}

// ---- notification -------------------------------------------------------------------------

/** A pre-notification structure (every REG_XXX_KEY_INFORMATION has these). */
interface PreInformation {
  CallContext: unknown;
}

/** A callback that returned success for a pre-notification, and the CallContext it left. */
interface Called {
  block: CM_CALLBACK_BLOCK;
  CallContext: unknown;
}

/** What the pre-notifications decided. */
export interface PreNotification {
  /** STATUS_SUCCESS: perform the operation; STATUS_CALLBACK_BYPASS: a callback did; an error: blocked with it. */
  status: NTSTATUS;
  /** The callbacks to send the post-notification to, in pre order. */
  called: Called[];
  /** The caller's previous mode. */
  mode: KPROCESSOR_MODE;
}

/** Calls one callback with attribution to its driver and the given previous mode; a raised status is 0x135. */
function callBlock(k: Kernel, callbacks: RegistryCallbacks, block: CM_CALLBACK_BLOCK, cls: REG_NOTIFY_CLASS, info: object, mode: KPROCESSOR_MODE): NTSTATUS {
  const routine = block.Function.name || "RegistryCallback";
  callbacks.running.push(block);
  pushPreviousMode(k, mode);
  try {
    return k.invoke(block.driver, routine, () => {
      try {
        return block.Function(block.Context, cls, info);
      } catch (e) {
        if (e instanceof NtStatusException) k.bugCheck(REGISTRY_FILTER_DRIVER_EXCEPTION, e.status >>> 0, 0, MM(k).codeAddress(block.driver, routine), 0, e);
        throw e;
      }
    });
  } finally {
    popPreviousMode(k);
    callbacks.running.pop();
  }
}

/** The callbacks an operation started now is notified to: all, or those below the running callback. */
function eligible(callbacks: RegistryCallbacks): CM_CALLBACK_BLOCK[] {
  const running = callbacks.running;
  if (running.length === 0) return callbacks.blocks.slice();
  const ceiling = running[running.length - 1].order;
  return callbacks.blocks.filter((b) => b.order < ceiling);
}

/** True when some callback would be notified of an operation started now (the registry skips building structures otherwise). */
export function cmCallbacksActive(k: Kernel): boolean {
  const callbacks = k.services.get("cm-callbacks") as RegistryCallbacks | undefined;
  if (!callbacks || callbacks.blocks.length === 0) return false;
  const running = callbacks.running;
  return running.length === 0 || callbacks.blocks[callbacks.blocks.length - 1].order < running[running.length - 1].order;
}

/**
 * Sends the pre-notification `cls` with `info` (its ObjectContext, or for create/open its
 * RootObjectContext, set per callback from `object`'s contexts) from the highest eligible
 * altitude down, until one blocks or bypasses.
 */
export function cmNotifyPre(k: Kernel, cls: REG_NOTIFY_CLASS, info: PreInformation, object: object | null, mode: KPROCESSOR_MODE): PreNotification {
  const callbacks = CM_CALLBACKS(k);
  const called: Called[] = [];
  const withObject = info as { ObjectContext?: unknown; RootObjectContext?: unknown };
  for (const block of eligible(callbacks)) {
    if (!callbacks.blocks.includes(block)) continue;
    info.CallContext = null;
    const context = object ? block.objectContexts.get(object) ?? null : null;
    if ("RootObjectContext" in withObject) withObject.RootObjectContext = context;
    else withObject.ObjectContext = context;
    const status = callBlock(k, callbacks, block, cls, info, mode);
    if (status === STATUS_CALLBACK_BYPASS || !NT_SUCCESS(status)) return { status, called, mode };
    called.push({ block, CallContext: info.CallContext });
  }
  return { status: STATUS_SUCCESS, called, mode };
}

/** What the post-notifications left: the status for the caller and the object (create/open). */
export interface PostNotification {
  status: NTSTATUS;
  Object: object | null;
}

/**
 * Sends the post-notification `cls` to the callbacks `pre` called, lowest first, with the
 * operation's `status` and `object`; returns the status (and object) the caller gets.
 */
export function cmNotifyPost(k: Kernel, cls: REG_NOTIFY_CLASS, pre: PreNotification, info: object, object: object | null, status: NTSTATUS): PostNotification {
  const callbacks = CM_CALLBACKS(k);
  let Object = object;
  for (let i = pre.called.length - 1; i >= 0; i--) {
    const { block, CallContext } = pre.called[i];
    if (!callbacks.blocks.includes(block)) continue;
    const post = new REG_POST_OPERATION_INFORMATION(Object, status, info, CallContext, Object ? block.objectContexts.get(Object) ?? null : null);
    const r = callBlock(k, callbacks, block, cls, post, pre.mode);
    Object = post.Object;
    if (r === STATUS_CALLBACK_BYPASS) status = post.ReturnStatus;
  }
  return { status, Object };
}

/** The status an operation's caller gets when pre-notification ended it: success for a bypass, the error for a block. */
export function preOutcome(pre: PreNotification): NTSTATUS {
  return pre.status === STATUS_CALLBACK_BYPASS ? STATUS_SUCCESS : pre.status;
}

/**
 * A key object's last handle is closing: RegNtPreKeyHandleClose, then
 * RegNtCallbackObjectContextCleanup to each callback that set a context on it, then
 * RegNtPostKeyHandleClose (`info` is the REG_KEY_HANDLE_CLOSE_INFORMATION).
 */
export function cmNotifyKeyObjectClose(k: Kernel, object: object, info: PreInformation, mode: KPROCESSOR_MODE): void {
  const callbacks = k.services.get("cm-callbacks") as RegistryCallbacks | undefined;
  if (!callbacks || callbacks.blocks.length === 0) return;
  const active = cmCallbacksActive(k);
  const pre = active ? cmNotifyPre(k, REG_NOTIFY_CLASS.RegNtPreKeyHandleClose, info, object, mode) : null;
  for (const block of callbacks.blocks.slice()) {
    if (!block.objectContexts.has(object)) continue;
    const context = block.objectContexts.get(object);
    block.objectContexts.delete(object);
    callBlock(k, callbacks, block, REG_NOTIFY_CLASS.RegNtCallbackObjectContextCleanup, new REG_CALLBACK_CONTEXT_CLEANUP_INFORMATION(object, context), mode);
  }
  if (pre) cmNotifyPost(k, REG_NOTIFY_CLASS.RegNtPostKeyHandleClose, pre, info, object, STATUS_SUCCESS);
}

/**
 * A key object goes without its last handle having closed (a callback dereferenced a key
 * object it kept from an operation): the callbacks that set a context on it get
 * RegNtCallbackObjectContextCleanup.
 */
export function cmKeyObjectDeleted(k: Kernel, object: object): void {
  const callbacks = k.services.get("cm-callbacks") as RegistryCallbacks | undefined;
  if (!callbacks) return;
  for (const block of callbacks.blocks.slice()) {
    if (!block.objectContexts.has(object)) continue;
    const context = block.objectContexts.get(object);
    block.objectContexts.delete(object);
    callBlock(k, callbacks, block, REG_NOTIFY_CLASS.RegNtCallbackObjectContextCleanup, new REG_CALLBACK_CONTEXT_CLEANUP_INFORMATION(object, context), KPROCESSOR_MODE.KernelMode);
  }
}
