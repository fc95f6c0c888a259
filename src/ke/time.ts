/**
 * Time routines: KeQuerySystemTime(Precise), KeQueryInterruptTime(Precise),
 * KeQueryTickCount and KeQueryTimeIncrement, all in 100 ns units (the unit of system
 * time, interrupt time and timer due times).
 *
 * The machine has no real-time clock. Its system time is fixed by construction: at
 * power-on it reads 0, that is January 1, 1601 00:00:00 UTC (the epoch system time
 * counts from), and it advances with simulated time. So a run's system times are the
 * same on every host and every run, absolute timer due times and timeouts use the same
 * base, and every system time the machine produces is an exact JS number (below 2^53).
 * The time zone is UTC (see ExSystemTimeToLocalTime).
 *
 * The clock interrupt: machines with kernel.clockTickUs > 0 tick at that interval; the
 * non-precise routines read the time as of the last tick, as Windows' do. A machine with
 * clockTickUs 0 runs timers exactly; its tick count still advances at Windows' default
 * interval of 15.625 ms (CLOCK_TICK_PS) so KeQueryTickCount * KeQueryTimeIncrement keeps
 * tracking interrupt time.
 */
import { CLOCK_TICK_PS, KE, type Kernel } from "./kernel.js";

/** Picoseconds per 100 ns unit, the unit of system and interrupt time. */
export const PS_PER_100NS = 100_000;
/** Picoseconds per second (simulated time is kept in ps). */
export const PS_PER_SECOND = 1e12;

/** Seconds in each unit a duration may be written in. */
const DURATION_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A duration as written in files and on the command line ("250us", "1.5ms", "10s", "5m"; a bare number is seconds), in seconds; null if it is not one. */
export function parseDuration(text: string): number | null {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ns|us|ms|s|m|h)?$/.exec(text);
  return m ? Number(m[1]) * DURATION_UNITS[m[2] ?? "s"] : null;
}

/** The clock interrupt interval KeQueryTickCount counts in, ps. */
function tickPs(k: Kernel): number {
  return k.clockTickPs > 0 ? k.clockTickPs : CLOCK_TICK_PS;
}

/** The executing processor's time as of its last clock tick, ps (exact when the machine has no tick). */
function lastTickPs(k: Kernel): number {
  const tick = k.clockTickPs;
  return tick > 0 ? Math.floor(k.cpu.time / tick) * tick : k.cpu.time;
}

/**
 * KeQueryInterruptTime: 100 ns units since power-on, as of the last clock tick (the count
 * only moves at clock interrupts). The C routine's return value.
 */
export function KeQueryInterruptTime(): number {
  return Math.floor(lastTickPs(KE()) / PS_PER_100NS);
}

/** KeQueryInterruptTimePrecise: 100 ns units since power-on, exact. */
export function KeQueryInterruptTimePrecise(): number {
  const k = KE();
  k.chargePs(k.cost.KeQueryPerformanceCounter);
  return Math.floor(k.cpu.time / PS_PER_100NS);
}

/**
 * KeQuerySystemTime: the system time in 100 ns units since January 1, 1601 (UTC), as of
 * the last clock tick (the C out-parameter as the return value). Power-on is system time 0.
 */
export function KeQuerySystemTime(): number {
  return Math.floor(lastTickPs(KE()) / PS_PER_100NS);
}

/** KeQuerySystemTimePrecise: the system time in 100 ns units, exact. */
export function KeQuerySystemTimePrecise(): number {
  return KeQueryInterruptTimePrecise();
}

/**
 * KeQueryTickCount: the number of clock interrupts since power-on (the C out-parameter as
 * the return value). Multiply by KeQueryTimeIncrement for 100 ns units.
 */
export function KeQueryTickCount(): number {
  const k = KE();
  return Math.floor(k.cpu.time / tickPs(k));
}

/** KeQueryTimeIncrement: the 100 ns units added to interrupt time at each clock interrupt. */
export function KeQueryTimeIncrement(): number {
  return Math.round(tickPs(KE()) / PS_PER_100NS);
}
