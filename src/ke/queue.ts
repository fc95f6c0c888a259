/**
 * Kernel queue objects (KQUEUE), the dispatcher object under I/O completion ports:
 * KeInitializeQueue, KeInsertQueue, KeInsertHeadQueue, KeRemoveQueue, KeRemoveQueueEx,
 * KeReadStateQueue and KeRundownQueue.
 *
 * A queue's signal state is the number of entries it holds. Entries are inserted in FIFO
 * order and threads waiting in KeRemoveQueue are released in LIFO order (the thread that
 * waited last gets the next entry). A thread that removes an entry is associated with the
 * queue, and the queue limits how many of its associated threads run at once
 * (MaximumCount, the "concurrency value"): an entry is handed out only while fewer than
 * MaximumCount associated threads are running (CurrentCount). A thread calling
 * KeRemoveQueue again stops counting as running; so does one that blocks on something
 * else (the user-mode wait functions report that through queueThreadBlocks /
 * queueThreadResumes), which lets another waiter take an entry.
 */
import { DISPATCH_LEVEL } from "./irql.js";
import { KE, type Kernel } from "./kernel.js";
import { DRIVER_VERIFIER_DETECTED_VIOLATION, IRQL_NOT_LESS_OR_EQUAL } from "./bugcheck.js";
import { DISPATCHER_HEADER, KPROCESSOR_MODE, signal, timeoutToDuePs, VERIFIER_WAIT_AT_DISPATCH, type DispatcherObject, type LARGE_INTEGER } from "./dispatcher.js";
import { STATUS_ABANDONED, STATUS_KERNEL_APC, STATUS_SUCCESS, STATUS_TIMEOUT, type NTSTATUS } from "./ntstatus.js";
import type { KTHREAD } from "./scheduler.js";

/** The dispatcher header type of a queue (QueueObject in KOBJECTS). */
export const QueueObject = 4;

/** A thread blocked in KeRemoveQueue, and what it was handed. */
interface QueueWaiter<T> {
  thread: KTHREAD;
  /** Entries handed to the thread directly by KeInsertQueue. */
  entries: T[];
  /** How many entries the thread takes at most (KeRemoveQueueEx). */
  count: number;
}

/** A kernel queue object. */
export class KQUEUE<T = unknown> implements DispatcherObject {
  /** SignalState is the number of entries. */
  readonly Header = new DISPATCHER_HEADER();
  /** The entries, oldest first. */
  readonly EntryListHead: T[] = [];
  /** Associated threads running now. */
  CurrentCount = 0;
  /** How many associated threads may run at once. */
  MaximumCount = 1;
  /** Threads associated with the queue. */
  readonly ThreadListHead = new Set<KTHREAD>();
  /** Threads blocked in KeRemoveQueue, in the order they began waiting. */
  readonly waiters: QueueWaiter<T>[] = [];
  /** Set by KeRundownQueue: waiters are released with STATUS_ABANDONED and no thread waits again. */
  rundown = false;

  constructor() {
    this.Header.Type = QueueObject;
  }
}

/** The queue each thread is associated with (KTHREAD.Queue). */
const associated = new WeakMap<KTHREAD, KQUEUE<any>>();

/** The queue `thread` is associated with, if any (KTHREAD.Queue). */
export function queueOfThread(thread: KTHREAD): KQUEUE<unknown> | undefined {
  return associated.get(thread);
}

/**
 * KeInitializeQueue: an empty queue whose associated threads may run `Count` at a time
 * (0: as many as there are processors).
 */
export function KeInitializeQueue<T>(Queue: KQUEUE<T>, Count: number): void {
  const k = KE();
  k.chargePs(k.cost.KeInitializeQueue);
  Queue.EntryListHead.length = 0;
  Queue.Header.SignalState = 0;
  Queue.Header.WaitListHead.length = 0;
  Queue.CurrentCount = 0;
  Queue.MaximumCount = Count > 0 ? Count : k.processors.length;
  Queue.ThreadListHead.clear();
  Queue.waiters.length = 0;
  Queue.rundown = false;
}

/** Ends `waiter`'s wait with `status`, ready as of the executing processor's time. */
function release<T>(k: Kernel, waiter: QueueWaiter<T>, status: NTSTATUS): void {
  const t = waiter.thread;
  t.cancelWait?.();
  t.cancelWait = undefined;
  t.WaitStatus = status;
  k.scheduler.makeReady(t, k.cpu.time);
}

/**
 * Hands entries to waiting threads (the last to wait first) while the concurrency limit
 * allows; what is left stays in the queue (its signal state).
 */
function activateWaiters<T>(k: Kernel, Queue: KQUEUE<T>): void {
  while (Queue.EntryListHead.length > 0 && Queue.waiters.length > 0 && Queue.CurrentCount < Queue.MaximumCount) {
    const waiter = Queue.waiters[Queue.waiters.length - 1];
    const n = Math.min(waiter.count, Queue.EntryListHead.length);
    waiter.entries.push(...Queue.EntryListHead.splice(0, n));
    Queue.Header.SignalState = Queue.EntryListHead.length;
    Queue.CurrentCount++;
    release(k, waiter, STATUS_SUCCESS);
  }
}

function insert<T>(Queue: KQUEUE<T>, Entry: T, head: boolean): number {
  const k = KE();
  k.chargePs(k.cost.KeInsertQueue);
  const previous = Queue.Header.SignalState;
  if (head) Queue.EntryListHead.unshift(Entry);
  else Queue.EntryListHead.push(Entry);
  Queue.Header.SignalState = Queue.EntryListHead.length;
  activateWaiters(k, Queue);
  // Threads in KeWaitForXxx on the queue itself see its signal state; they take nothing.
  if (Queue.Header.SignalState !== 0) signal(k, Queue.Header);
  return previous;
}

/**
 * KeInsertQueue: adds `Entry` at the tail (or hands it straight to the thread that waited
 * last, if the concurrency limit allows); returns the queue's previous signal state.
 */
export function KeInsertQueue<T>(Queue: KQUEUE<T>, Entry: T): number {
  return insert(Queue, Entry, false);
}

/** KeInsertHeadQueue: as KeInsertQueue, at the head. */
export function KeInsertHeadQueue<T>(Queue: KQUEUE<T>, Entry: T): number {
  return insert(Queue, Entry, true);
}

/** KeReadStateQueue: the number of entries in the queue. */
export function KeReadStateQueue<T>(Queue: KQUEUE<T>): number {
  return Queue.Header.SignalState;
}

/** Associates the executing thread with `Queue`, leaving any other queue (which may then release a waiter). */
function associate<T>(k: Kernel, thread: KTHREAD, Queue: KQUEUE<T>): void {
  const old = associated.get(thread);
  if (old === Queue) {
    Queue.CurrentCount--;
    return;
  }
  if (old) {
    old.ThreadListHead.delete(thread);
    old.CurrentCount--;
    activateWaiters(k, old);
  }
  associated.set(thread, Queue);
  Queue.ThreadListHead.add(thread);
}

/**
 * KeRemoveQueueEx: takes up to `Count` entries, waiting (until `Timeout`, 100 ns units,
 * negative relative) while the queue is empty or its associated threads already run
 * MaximumCount at once. Resolves to the entries, or to the status that ended the wait
 * (STATUS_TIMEOUT; STATUS_ABANDONED once the queue was run down; STATUS_KERNEL_APC when
 * the user-mode layer woke the thread to deliver an I/O completion).
 */
export async function KeRemoveQueueEx<T>(Queue: KQUEUE<T>, WaitMode: KPROCESSOR_MODE, Alertable: boolean, Timeout: LARGE_INTEGER, Count: number): Promise<T[] | NTSTATUS> {
  const k = KE();
  k.chargePs(k.cost.KeRemoveQueue);
  const cpu = k.cpu;
  const thread = cpu.CurrentThread;
  const zero = Timeout !== null && Timeout !== undefined && Number(Timeout) === 0;
  if (cpu.irql >= DISPATCH_LEVEL && !zero) {
    if (k.verifier) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VERIFIER_WAIT_AT_DISPATCH, cpu.irql, 0, 0);
    k.bugCheck(IRQL_NOT_LESS_OR_EQUAL, 0, cpu.irql, 0, 0);
  }
  if (!thread) return k.bugCheck(IRQL_NOT_LESS_OR_EQUAL, 0, cpu.irql, 0, 0);
  if (Queue.rundown) return STATUS_ABANDONED;
  associate(k, thread, Queue);
  if (Queue.EntryListHead.length > 0 && Queue.CurrentCount < Queue.MaximumCount) {
    const entries = Queue.EntryListHead.splice(0, Math.max(1, Count));
    Queue.Header.SignalState = Queue.EntryListHead.length;
    Queue.CurrentCount++;
    return entries;
  }
  if (zero || thread.KernelApcPending) {
    Queue.CurrentCount++;
    return zero ? STATUS_TIMEOUT : STATUS_KERNEL_APC;
  }
  // Leaving the running set may let another waiter take what this thread may not.
  activateWaiters(k, Queue);
  const waiter: QueueWaiter<T> = { thread, entries: [], count: Math.max(1, Count) };
  Queue.waiters.push(waiter);
  const due = timeoutToDuePs(k, Timeout);
  const timer = due === Infinity ? undefined : k.scheduler.addTimer(k.nextClockTickPs(due), () => release(k, waiter, STATUS_TIMEOUT), thread);
  thread.cancelWait = () => {
    const i = Queue.waiters.indexOf(waiter);
    if (i >= 0) Queue.waiters.splice(i, 1);
    if (timer) k.scheduler.cancelTimer(timer);
  };
  const status = await thread.block("KQUEUE");
  if (waiter.entries.length > 0) return waiter.entries;
  Queue.CurrentCount++;
  return status;
}

/**
 * KeRemoveQueue: takes one entry (see KeRemoveQueueEx); resolves to the entry or to the
 * status that ended the wait.
 */
export async function KeRemoveQueue<T>(Queue: KQUEUE<T>, WaitMode: KPROCESSOR_MODE, Timeout: LARGE_INTEGER): Promise<T | NTSTATUS> {
  const r = await KeRemoveQueueEx(Queue, WaitMode, false, Timeout, 1);
  return Array.isArray(r) ? r[0] : r;
}

/**
 * KeRundownQueue: empties the queue and returns its entries; threads blocked in
 * KeRemoveQueue are released with STATUS_ABANDONED and the associated threads leave it.
 */
export function KeRundownQueue<T>(Queue: KQUEUE<T>): T[] {
  const k = KE();
  k.chargePs(k.cost.KeRemoveQueue);
  const entries = Queue.EntryListHead.splice(0);
  Queue.Header.SignalState = 0;
  Queue.rundown = true;
  for (const waiter of [...Queue.waiters].reverse()) release(k, waiter, STATUS_ABANDONED);
  for (const t of Queue.ThreadListHead) associated.delete(t);
  Queue.ThreadListHead.clear();
  Queue.CurrentCount = 0;
  return entries;
}

/**
 * An associated thread is about to block on something other than its queue: it no longer
 * counts as running, so another waiter may take an entry.
 */
export function queueThreadBlocks(thread: KTHREAD): void {
  const q = associated.get(thread);
  if (!q) return;
  q.CurrentCount--;
  activateWaiters(KE(), q);
}

/** An associated thread that blocked elsewhere runs again. */
export function queueThreadResumes(thread: KTHREAD): void {
  const q = associated.get(thread);
  if (q) q.CurrentCount++;
}

/** A thread ends: it leaves its queue (which may release a waiter). */
export function queueThreadExits(thread: KTHREAD): void {
  const q = associated.get(thread);
  if (!q) return;
  associated.delete(thread);
  q.ThreadListHead.delete(thread);
  q.CurrentCount--;
  activateWaiters(KE(), q);
}
