/** Time for drivers: KeStallExecutionProcessor and KeQueryPerformanceCounter. */
import { KE } from "../ke/kernel.js";

/** Performance counter frequency, Hz (10 MHz, as on current Windows). */
export const PERFORMANCE_FREQUENCY = 10_000_000;
const PS_PER_TICK = 1e12 / PERFORMANCE_FREQUENCY;

/** KeStallExecutionProcessor: busy-waits `MicroSeconds` on the executing processor. */
export function KeStallExecutionProcessor(MicroSeconds: number): void {
  const k = KE();
  k.cpu.time += MicroSeconds * 1e6;
  k.chargePs(k.cost.KeStallExecutionProcessor);
}

/**
 * KeQueryPerformanceCounter: the executing processor's time in performance-counter
 * ticks, with the counter's frequency (the C out-parameter) alongside.
 */
export function KeQueryPerformanceCounter(): { QuadPart: number; PerformanceFrequency: number } {
  const k = KE();
  k.chargePs(k.cost.KeQueryPerformanceCounter);
  return { QuadPart: Math.floor(k.cpu.time / PS_PER_TICK), PerformanceFrequency: PERFORMANCE_FREQUENCY };
}
