/**
 * Kernel timers (shared/specs/nt-semantics.md, Events, timers, waits): KeInitializeTimer(Ex),
 * KeSetTimer(Ex) with a relative (negative, 100 ns units) or absolute due time, an
 * optional period (ms) and DPC, KeCancelTimer, KeReadStateTimer. A timer is a dispatcher
 * object: when it expires it is signalled (a notification timer wakes every waiter, a
 * synchronization timer one) and its DPC is queued on the processor that owns the clock.
 * Expiry happens at the due time rounded up to the machine's clock tick (kernel.clockTickUs;
 * 0 means exact). The time routines (KeQuerySystemTime...) are in time.ts.
 */
import { KE, type Kernel } from "./kernel.js";
import { DISPATCHER_HEADER, signal, timeoutToDuePs, type DispatcherObject, type LARGE_INTEGER } from "./dispatcher.js";
import { KeInsertQueueDpc, type KDPC } from "./dpc.js";
import type { TimerEntry } from "./scheduler.js";

/** TIMER_TYPE. */
export enum TIMER_TYPE {
  NotificationTimer = 0,
  SynchronizationTimer = 1,
}

/** A timer object. */
export class KTIMER implements DispatcherObject {
  readonly Header = new DISPATCHER_HEADER();
  /** When it expires next, ps (Infinity when not set). */
  DueTime = Infinity;
  /** Period, ms (0: one shot). */
  Period = 0;
  Dpc: KDPC | null = null;
  /** The scheduler entry while set. */
  entry: TimerEntry | null = null;
  /** Driver that initialised it (whose memory holds it). */
  owner = "nt";
}

/** KeInitializeTimer: a notification timer, not set, not signalled. */
export function KeInitializeTimer(Timer: KTIMER): void {
  KeInitializeTimerEx(Timer, TIMER_TYPE.NotificationTimer);
}

/** KeInitializeTimerEx: a timer of the given type, not set, not signalled. */
export function KeInitializeTimerEx(Timer: KTIMER, Type: TIMER_TYPE): void {
  const k = KE();
  k.chargePs(k.cost.KeInitializeTimer);
  if (Timer.entry) k.scheduler.cancelTimer(Timer.entry);
  Timer.entry = null;
  Timer.Header.Type = Type;
  Timer.Header.SignalState = 0;
  Timer.DueTime = Infinity;
  Timer.Period = 0;
  Timer.Dpc = null;
  Timer.owner = k.attribution().driver;
}

function arm(k: Kernel, timer: KTIMER, duePs: number): void {
  timer.DueTime = duePs;
  timer.entry = k.scheduler.addTimer(k.nextClockTickPs(duePs), () => expire(k, timer), timer);
}

function expire(k: Kernel, timer: KTIMER): void {
  timer.entry = null;
  timer.Header.SignalState = 1;
  signal(k, timer.Header);
  // The DPC's arguments are the low and high parts of the expiry's system time (100 ns units).
  const systemTime = Math.floor(timer.DueTime / 100_000);
  if (timer.Dpc) KeInsertQueueDpc(timer.Dpc, systemTime % 2 ** 32, Math.floor(systemTime / 2 ** 32));
  if (timer.Period > 0) arm(k, timer, timer.DueTime + timer.Period * 1e9);
  else timer.DueTime = Infinity;
}

/**
 * KeSetTimerEx: sets the timer to expire at `DueTime` (negative: relative, 100 ns units;
 * positive: absolute system time in 100 ns units), then every `Period` ms if non-zero, and
 * to queue `Dpc` on each expiry. Resets the signal state. Returns TRUE if the timer was
 * already set (that setting is cancelled).
 */
export function KeSetTimerEx(Timer: KTIMER, DueTime: LARGE_INTEGER, Period: number, Dpc: KDPC | null): boolean {
  const k = KE();
  k.chargePs(k.cost.KeSetTimer);
  const wasSet = Timer.entry !== null && k.scheduler.cancelTimer(Timer.entry);
  Timer.entry = null;
  Timer.Header.SignalState = 0;
  Timer.Period = Math.max(0, Period);
  Timer.Dpc = Dpc;
  const due = timeoutToDuePs(k, DueTime ?? 0);
  arm(k, Timer, Math.max(due, k.cpu.time));
  return wasSet;
}

/** KeSetTimer: KeSetTimerEx without a period. */
export function KeSetTimer(Timer: KTIMER, DueTime: LARGE_INTEGER, Dpc: KDPC | null): boolean {
  return KeSetTimerEx(Timer, DueTime, 0, Dpc);
}

/** KeCancelTimer: returns whether the timer was set; a cancelled timer's DPC is not queued. */
export function KeCancelTimer(Timer: KTIMER): boolean {
  const k = KE();
  k.chargePs(k.cost.KeCancelTimer);
  if (!Timer.entry) return false;
  const wasSet = k.scheduler.cancelTimer(Timer.entry);
  Timer.entry = null;
  Timer.DueTime = Infinity;
  return wasSet;
}

/** KeReadStateTimer: TRUE once the timer has expired (until it is set again). */
export function KeReadStateTimer(Timer: KTIMER): boolean {
  return Timer.Header.SignalState !== 0;
}
