/**
 * The miniport's tunables, as Windows keeps a driver's in its service's Parameters key:
 * here they come from the machine file's "driverParameters" under the service name.
 * stornvme reads InterruptCoalescingEntries (the aggregation threshold, completions per
 * interrupt; 0 = off) and InterruptCoalescingTime (the aggregation time, 100 us units).
 */
import { KE } from "../../ke/kernel.js";

/** The numeric parameter `name` of `service`, or `fallback`. */
export function driverParameter(service: string, name: string, fallback: number): number {
  const v = KE().machine.description.driverParameters?.[service]?.[name];
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}
