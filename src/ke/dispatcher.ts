/**
 * Dispatcher objects and waits: the header every waitable object shares (events, timers,
 * semaphores, mutexes, queues, threads), events (notification and synchronization),
 * KeWaitForSingleObject, KeWaitForMultipleObjects and KeDelayExecutionThread. Waits are
 * async and run at PASSIVE_LEVEL or APC_LEVEL; a wait that would block at
 * DISPATCH_LEVEL or above is a bug check. Waiters are satisfied in the order they began
 * waiting.
 */
import { DRIVER_VERIFIER_DETECTED_VIOLATION, IRQL_NOT_LESS_OR_EQUAL, MAXIMUM_WAIT_OBJECTS_EXCEEDED } from "./bugcheck.js";
import { DISPATCH_LEVEL } from "./irql.js";
import { lowerTo, raiseTo } from "./level.js";
import { KWAIT_BLOCK, MAXIMUM_WAIT_OBJECTS, THREAD_WAIT_OBJECTS } from "./wait-block.js";
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

/** DISPATCHER_HEADER.Type of a mutex (MutantObject in KOBJECTS). */
export const MutantObject = 2;
/** DISPATCHER_HEADER.Type of a semaphore (SemaphoreObject in KOBJECTS). */
export const SemaphoreObject = 5;

/** The header every waitable object starts with. */
export class DISPATCHER_HEADER {
  /** Object type (EVENT_TYPE for events, TIMER_TYPE for timers, MutantObject, SemaphoreObject, QueueObject). */
  Type = 0;
  /** Signalled while positive: 0/1 for events and timers, the count of a semaphore, 1 for a free mutex (less each time its owner acquires it). */
  SignalState = 0;
  /** The wait blocks of the threads waiting on the object, in the order they began waiting. */
  readonly WaitListHead: KWAIT_BLOCK[] = [];
}

/**
 * A mutex's header, with the ownership a wait on it must see (KMUTANT.OwnerThread,
 * Abandoned, and ApcDisable: how many critical regions holding it counts as).
 */
export class MUTANT_HEADER extends DISPATCHER_HEADER {
  /** The thread that owns the mutex, or null while it is free. */
  OwnerThread: KTHREAD | null = null;
  /** The owner ended without releasing it. */
  Abandoned = false;
  /** 1 for a kernel mutex (KMUTEX): holding it disables normal kernel APCs. */
  ApcDisable = 0;
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

/**
 * Whether `h` is signalled for `thread`: a free mutex, or one `thread` owns already
 * (a mutex is never signalled for code that runs in no thread); any other object while
 * its signal state is positive.
 */
export function isSignaledFor(h: DISPATCHER_HEADER, thread: KTHREAD | null): boolean {
  if (h.Type === MutantObject) return thread !== null && (h.SignalState > 0 || (h as MUTANT_HEADER).OwnerThread === thread);
  return h.SignalState > 0;
}

/**
 * Takes what a satisfied wait takes from `h`: a synchronization event or timer resets, a
 * semaphore's count drops by one, a mutex becomes `thread`'s (one more acquisition; the
 * first disables normal kernel APCs for a kernel mutex). Notification objects keep their state.
 */
function satisfy(h: DISPATCHER_HEADER, thread: KTHREAD): void {
  if (h.Type === EVENT_TYPE.SynchronizationEvent) {
    h.SignalState = 0;
  } else if (h.Type === SemaphoreObject) {
    h.SignalState--;
  } else if (h.Type === MutantObject) {
    const m = h as MUTANT_HEADER;
    m.SignalState--;
    if (m.SignalState === 0) {
      m.OwnerThread = thread;
      thread.KernelApcDisable -= m.ApcDisable;
    }
  }
}

/** Whether every object of the WaitAll that `block` belongs to is signalled for its thread. */
function allSignaled(block: KWAIT_BLOCK, thread: KTHREAD): boolean {
  const list = block.WaitBlockList!;
  for (let i = 0; i < block.WaitCount; i++) if (!isSignaledFor(list[i].Object!, thread)) return false;
  return true;
}

/** Ends `t`'s wait with `status`, making it ready as of the executing processor's time. */
function wake(k: Kernel, t: KTHREAD, status: NTSTATUS): void {
  t.cancelWait?.();
  t.cancelWait = undefined;
  t.WaitStatus = status;
  k.scheduler.makeReady(t, k.cpu.time);
}

/**
 * Satisfies waiters of `h` after it became signalled (an event set, a timer expired, a
 * semaphore or mutex released), in the order they began waiting, for as long as it stays
 * signalled: a notification object releases them all, a synchronization event one, a
 * semaphore as many as its count, a mutex one (which then owns it). A WaitAll waiter is
 * satisfied only when all its objects are signalled, and then takes from each.
 */
export function signal(k: Kernel, h: DISPATCHER_HEADER): void {
  const list = h.WaitListHead;
  let i = 0;
  while (i < list.length && h.SignalState > 0) {
    const block = list[i];
    const thread = block.Thread!;
    if (block.WaitType === WAIT_TYPE.WaitAll) {
      if (!allSignaled(block, thread)) {
        i++;
        continue;
      }
      const blocks = block.WaitBlockList!;
      for (let j = 0; j < block.WaitCount; j++) satisfy(blocks[j].Object!, thread);
      wake(k, thread, STATUS_SUCCESS);
    } else {
      satisfy(h, thread);
      wake(k, thread, STATUS_WAIT_0 + block.WaitKey);
    }
    // Waking removed the thread's blocks, this one among them: list[i] is the next waiter.
  }
}

/**
 * What a set or release routine does when its caller passes Wait = TRUE: the caller stays
 * at DISPATCH_LEVEL (raised to it if it was below) until its next KeWaitXxx, which returns
 * it to the IRQL it had. Code that runs in no thread ignores Wait.
 */
export function holdForWaitNext(k: Kernel, Wait: boolean): void {
  const thread = k.cpu.CurrentThread;
  if (!Wait || !thread) return;
  thread.WaitNextIrql = k.cpu.irql < DISPATCH_LEVEL ? raiseTo(k, DISPATCH_LEVEL) : k.cpu.irql;
  thread.WaitNext = true;
}

/**
 * KeSetEvent: signals the event, wakes waiters, returns the previous state. With Wait =
 * TRUE the caller stays at DISPATCH_LEVEL until its next KeWaitXxx.
 */
export function KeSetEvent(Event: KEVENT, Increment: number, Wait: boolean): number {
  const k = KE();
  k.chargePs(k.cost.KeSetEvent);
  const previous = Event.Header.SignalState;
  Event.Header.SignalState = 1;
  signal(k, Event.Header);
  holdForWaitNext(k, Wait);
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

/**
 * The common wait: takes the objects at once if the wait is satisfied (WaitAny: the first
 * signalled object, by index; WaitAll: every object, only when all are signalled), else
 * returns STATUS_TIMEOUT for a zero timeout, else blocks the executing thread with a wait
 * block per object in `blocks` (made where the array lacks one) until a waiter's object is
 * signalled or the timeout passes.
 */
function waitCommon(k: Kernel, Count: number, objects: DispatcherObject[], waitType: WAIT_TYPE, Timeout: LARGE_INTEGER, blocks: KWAIT_BLOCK[] | null, what: string): Promise<NTSTATUS> {
  k.chargePs(k.cost.KeWaitForSingleObject);
  const cpu = k.cpu;
  const thread = cpu.CurrentThread;
  // A set or release routine called with Wait = TRUE left the thread at DISPATCH_LEVEL for this wait.
  if (thread !== null && thread.WaitNext) {
    thread.WaitNext = false;
    lowerTo(k, cpu, thread.WaitNextIrql);
  }
  const zero = Timeout !== null && Timeout !== undefined && Number(Timeout) === 0;
  if (cpu.irql >= DISPATCH_LEVEL && !zero) {
    if (k.verifier) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_WAIT_AT_DISPATCH, cpu.irql, 0, 0);
    k.bugCheck(IRQL_NOT_LESS_OR_EQUAL, 0, cpu.irql, 0, 0);
  }
  if (waitType === WAIT_TYPE.WaitAll) {
    let all = Count > 0;
    for (let i = 0; i < Count && all; i++) all = isSignaledFor(objects[i].Header, thread);
    if (all) {
      for (let i = 0; i < Count; i++) satisfy(objects[i].Header, thread!);
      return Promise.resolve(STATUS_SUCCESS);
    }
  } else {
    for (let i = 0; i < Count; i++) {
      const h = objects[i].Header;
      if (isSignaledFor(h, thread)) {
        satisfy(h, thread!);
        return Promise.resolve(STATUS_WAIT_0 + i);
      }
    }
  }
  if (zero) return Promise.resolve(STATUS_TIMEOUT);
  if (!thread) {
    k.bugCheck(IRQL_NOT_LESS_OR_EQUAL, 0, cpu.irql, 0, 0);
  }
  // A kernel APC queued on the way into the wait ends it at once, unless the thread is in a guarded region.
  if (thread.KernelApcPending && thread.SpecialApcDisable === 0) return Promise.resolve(STATUS_KERNEL_APC);
  const list = blocks ?? thread.WaitBlock;
  for (let i = 0; i < Count; i++) {
    const b = list[i] ?? (list[i] = new KWAIT_BLOCK());
    const h = objects[i].Header;
    b.Thread = thread;
    b.Object = h;
    b.WaitKey = i;
    b.WaitType = waitType;
    b.WaitBlockList = list;
    b.WaitCount = Count;
    h.WaitListHead.push(b);
  }
  const due = timeoutToDuePs(k, Timeout);
  // The timeout is a timer: it expires at the first clock tick at or after the due time.
  const timer = due === Infinity ? undefined : k.scheduler.addTimer(k.nextClockTickPs(due), () => wake(k, thread, STATUS_TIMEOUT), thread);
  thread.cancelWait = () => {
    for (let i = 0; i < Count; i++) {
      const b = list[i];
      const waiters = b.Object!.WaitListHead;
      waiters.splice(waiters.indexOf(b), 1);
      b.Thread = null;
      b.Object = null;
      b.WaitBlockList = null;
    }
    if (timer) k.scheduler.cancelTimer(timer);
  };
  return thread.block(what);
}

/**
 * KeWaitForSingleObject: waits until the object is signalled for the calling thread (a
 * mutex: free, or owned by it already) or the timeout passes. Resolves to STATUS_SUCCESS
 * or STATUS_TIMEOUT. Waiting on a semaphore takes one from its count; on a mutex, one
 * acquisition (the first disables normal kernel APCs until KeReleaseMutex).
 */
export function KeWaitForSingleObject(Object: DispatcherObject, WaitReason: KWAIT_REASON, WaitMode: KPROCESSOR_MODE, Alertable: boolean, Timeout?: LARGE_INTEGER): Promise<NTSTATUS> {
  const k = KE();
  return waitCommon(k, 1, [Object], WAIT_TYPE.WaitAny, Timeout, null, Object.constructor.name);
}

/** KeWaitForMutexObject: KeWaitForSingleObject on a mutex. */
export const KeWaitForMutexObject = KeWaitForSingleObject;

/**
 * KeWaitForMultipleObjects: WaitAny resolves to STATUS_WAIT_0 + index of the object that
 * satisfied it; WaitAll to STATUS_SUCCESS once all are signalled (taking from each at
 * once). A wait on more than THREAD_WAIT_OBJECTS objects needs a WaitBlockArray of Count
 * KWAIT_BLOCKs (entries it lacks are made in it); more than THREAD_WAIT_OBJECTS without
 * one, or more than MAXIMUM_WAIT_OBJECTS at all, is bug check 0xC MAXIMUM_WAIT_OBJECTS_EXCEEDED.
 */
export function KeWaitForMultipleObjects(
  Count: number, Object: DispatcherObject[], WaitType: WAIT_TYPE, WaitReason: KWAIT_REASON, WaitMode: KPROCESSOR_MODE, Alertable: boolean,
  Timeout?: LARGE_INTEGER, WaitBlockArray?: KWAIT_BLOCK[] | null,
): Promise<NTSTATUS> {
  const k = KE();
  if (Count > MAXIMUM_WAIT_OBJECTS || (Count > THREAD_WAIT_OBJECTS && !WaitBlockArray)) k.bugCheck(MAXIMUM_WAIT_OBJECTS_EXCEEDED, 0, 0, 0, 0);
  if (Count !== Object.length || Count === 0) return Promise.resolve(STATUS_INVALID_PARAMETER);
  return waitCommon(k, Count, Object, WaitType, Timeout, WaitBlockArray ?? null, `${Count} objects`);
}

/** KeDelayExecutionThread: sleeps for `Interval` (100 ns units, negative relative). */
export function KeDelayExecutionThread(WaitMode: KPROCESSOR_MODE, Alertable: boolean, Interval: LARGE_INTEGER): Promise<NTSTATUS> {
  const k = KE();
  return waitCommon(k, 0, noObjects, WAIT_TYPE.WaitAll, Interval, null, "a delay").then(() => STATUS_SUCCESS);
}

/** A wait on nothing (a delay). */
const noObjects: DispatcherObject[] = [];
