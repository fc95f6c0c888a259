/**
 * Dispatcher objects and waits: events (notification and synchronization),
 * KeWaitForSingleObject, KeWaitForMultipleObjects and KeDelayExecutionThread. Waits are
 * async and run at PASSIVE_LEVEL or APC_LEVEL; a wait that would block at
 * DISPATCH_LEVEL or above is a bug check.
 */
import { DRIVER_VERIFIER_DETECTED_VIOLATION, IRQL_NOT_LESS_OR_EQUAL } from "./bugcheck.js";
import { DISPATCH_LEVEL } from "./irql.js";
import { KE, type Kernel } from "./kernel.js";
import { STATUS_INVALID_PARAMETER, STATUS_KERNEL_APC, STATUS_SUCCESS, STATUS_TIMEOUT, STATUS_WAIT_0, type NTSTATUS } from "./ntstatus.js";
import type { KTHREAD } from "./scheduler.js";

/** EVENT_TYPE. */
export enum EVENT_TYPE {
  NotificationEvent = 0,
  SynchronizationEvent = 1,
}

/** KWAIT_REASON values drivers pass (only recorded). */
export enum KWAIT_REASON {
  Executive = 0,
  FreePage = 1,
  PageIn = 2,
  UserRequest = 6,
  Suspended = 5,
}

/** KPROCESSOR_MODE. */
export enum KPROCESSOR_MODE {
  KernelMode = 0,
  UserMode = 1,
}

/** WAIT_TYPE for KeWaitForMultipleObjects. */
export enum WAIT_TYPE {
  WaitAll = 0,
  WaitAny = 1,
}

/** Verifier 0xC4 subcode: a wait with a non-zero timeout at IRQL >= DISPATCH_LEVEL. */
export const VERIFIER_WAIT_AT_DISPATCH = 0x3B;

/** A thread waiting on an object. */
interface WaitBlock {
  thread: KTHREAD;
  /** Index of the object in the thread's wait (STATUS_WAIT_0 + index). */
  index: number;
  /** For WaitAll: the other objects that must be signalled too. */
  all?: DISPATCHER_HEADER[];
}

/** The header every waitable object starts with. */
export class DISPATCHER_HEADER {
  /** Object type (EVENT_TYPE for events). */
  Type = 0;
  /** Non-zero while signalled. */
  SignalState = 0;
  readonly WaitListHead: WaitBlock[] = [];
}

/** A waitable object. */
export interface DispatcherObject {
  Header: DISPATCHER_HEADER;
}

/** An event object. */
export class KEVENT implements DispatcherObject {
  readonly Header = new DISPATCHER_HEADER();
}

/** KeInitializeEvent: sets the type and the initial state (TRUE signalled). */
export function KeInitializeEvent(Event: KEVENT, Type: EVENT_TYPE, State: boolean): void {
  const k = KE();
  k.chargePs(k.cost.KeInitializeEvent);
  Event.Header.Type = Type;
  Event.Header.SignalState = State ? 1 : 0;
  Event.Header.WaitListHead.length = 0;
}

/** Whether a thread waiting on `h` may be satisfied now; consumes a synchronization event. */
function trySatisfy(h: DISPATCHER_HEADER, consume: boolean): boolean {
  if (h.SignalState === 0) return false;
  if (consume && h.Type === EVENT_TYPE.SynchronizationEvent) h.SignalState = 0;
  return true;
}

/** Ends `t`'s wait with `status`, making it ready as of the executing processor's time. */
function wake(k: Kernel, t: KTHREAD, status: NTSTATUS): void {
  t.cancelWait?.();
  t.cancelWait = undefined;
  t.WaitStatus = status;
  k.scheduler.makeReady(t, k.cpu.time);
}

/** Satisfies waiters of `h` after it became signalled (events, timers). */
export function signal(k: Kernel, h: DISPATCHER_HEADER): void {
  for (const block of [...h.WaitListHead]) {
    if (h.SignalState === 0) break;
    if (block.all) {
      if (!block.all.every((o) => o.SignalState !== 0)) continue;
      for (const o of block.all) trySatisfy(o, true);
      wake(k, block.thread, STATUS_SUCCESS);
    } else {
      trySatisfy(h, true);
      wake(k, block.thread, STATUS_WAIT_0 + block.index);
    }
  }
}

/** KeSetEvent: signals the event, wakes waiters, returns the previous state. */
export function KeSetEvent(Event: KEVENT, Increment: number, Wait: boolean): number {
  const k = KE();
  k.chargePs(k.cost.KeSetEvent);
  const previous = Event.Header.SignalState;
  Event.Header.SignalState = 1;
  signal(k, Event.Header);
  return previous;
}

/** KeResetEvent: clears the event and returns the previous state. */
export function KeResetEvent(Event: KEVENT): number {
  const k = KE();
  k.chargePs(k.cost.KeResetEvent);
  const previous = Event.Header.SignalState;
  Event.Header.SignalState = 0;
  return previous;
}

/** KeClearEvent: clears the event. */
export function KeClearEvent(Event: KEVENT): void {
  const k = KE();
  k.chargePs(k.cost.KeResetEvent);
  Event.Header.SignalState = 0;
}

/** KeReadStateEvent: the current state. */
export function KeReadStateEvent(Event: KEVENT): number {
  return Event.Header.SignalState;
}

/** A timeout in 100 ns units: negative relative, positive absolute; null waits forever. */
export type LARGE_INTEGER = number | bigint | null | undefined;

/** Converts a timeout to an absolute due time in ps (Infinity for none). */
export function timeoutToDuePs(k: Kernel, Timeout: LARGE_INTEGER): number {
  if (Timeout === null || Timeout === undefined) return Infinity;
  const t = Number(Timeout);
  return t < 0 ? k.cpu.time + -t * 100_000 : t * 100_000;
}

function waitCommon(k: Kernel, objects: DispatcherObject[], waitType: WAIT_TYPE, Timeout: LARGE_INTEGER, what: string): Promise<NTSTATUS> {
  k.chargePs(k.cost.KeWaitForSingleObject);
  const cpu = k.cpu;
  const zero = Timeout !== null && Timeout !== undefined && Number(Timeout) === 0;
  if (cpu.irql >= DISPATCH_LEVEL && !zero) {
    if (k.verifier) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_WAIT_AT_DISPATCH, cpu.irql, 0, 0);
    k.bugCheck(IRQL_NOT_LESS_OR_EQUAL, 0, cpu.irql, 0, 0);
  }
  const headers = objects.map((o) => o.Header);
  if (waitType === WAIT_TYPE.WaitAll) {
    if (headers.length > 0 && headers.every((h) => h.SignalState !== 0)) {
      for (const h of headers) trySatisfy(h, true);
      return Promise.resolve(STATUS_SUCCESS);
    }
  } else {
    const i = headers.findIndex((h) => trySatisfy(h, true));
    if (i >= 0) return Promise.resolve(STATUS_WAIT_0 + i);
  }
  if (zero) return Promise.resolve(STATUS_TIMEOUT);
  const thread = cpu.CurrentThread;
  if (!thread) {
    k.bugCheck(IRQL_NOT_LESS_OR_EQUAL, 0, cpu.irql, 0, 0);
  }
  if (thread.KernelApcPending) return Promise.resolve(STATUS_KERNEL_APC);
  const blocks = headers.map((h, index) => {
    const b: WaitBlock = { thread, index, all: waitType === WAIT_TYPE.WaitAll ? headers : undefined };
    h.WaitListHead.push(b);
    return [h, b] as const;
  });
  const due = timeoutToDuePs(k, Timeout);
  // The timeout is a timer: it expires at the first clock tick at or after the due time.
  const timer = due === Infinity ? undefined : k.scheduler.addTimer(k.nextClockTickPs(due), () => wake(k, thread, STATUS_TIMEOUT));
  thread.cancelWait = () => {
    for (const [h, b] of blocks) h.WaitListHead.splice(h.WaitListHead.indexOf(b), 1);
    if (timer) k.scheduler.cancelTimer(timer);
  };
  return thread.block(what);
}

/**
 * KeWaitForSingleObject: waits until the object is signalled or the timeout passes.
 * Resolves to STATUS_SUCCESS or STATUS_TIMEOUT.
 */
export function KeWaitForSingleObject(Object: DispatcherObject, WaitReason: KWAIT_REASON, WaitMode: KPROCESSOR_MODE, Alertable: boolean, Timeout?: LARGE_INTEGER): Promise<NTSTATUS> {
  const k = KE();
  return waitCommon(k, [Object], WAIT_TYPE.WaitAny, Timeout, Object.constructor.name);
}

/**
 * KeWaitForMultipleObjects: WaitAny resolves to STATUS_WAIT_0 + index of the object
 * that satisfied it; WaitAll to STATUS_SUCCESS once all are signalled.
 */
export function KeWaitForMultipleObjects(Count: number, Object: DispatcherObject[], WaitType: WAIT_TYPE, WaitReason: KWAIT_REASON, WaitMode: KPROCESSOR_MODE, Alertable: boolean, Timeout?: LARGE_INTEGER): Promise<NTSTATUS> {
  const k = KE();
  if (Count !== Object.length || Count === 0) return Promise.resolve(STATUS_INVALID_PARAMETER);
  return waitCommon(k, Object, WaitType, Timeout, `${Count} objects`);
}

/** KeDelayExecutionThread: sleeps for `Interval` (100 ns units, negative relative). */
export function KeDelayExecutionThread(WaitMode: KPROCESSOR_MODE, Alertable: boolean, Interval: LARGE_INTEGER): Promise<NTSTATUS> {
  const k = KE();
  return waitCommon(k, [], WAIT_TYPE.WaitAll, Interval, "a delay").then(() => STATUS_SUCCESS);
}
