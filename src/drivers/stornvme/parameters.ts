/**
 * The miniport's tunables, in its service's Parameters key
 * (HKLM\SYSTEM\CurrentControlSet\Services\<service>\Parameters; a machine file sets them
 * with "driverParameters" or "registry").
 * stornvme reads InterruptCoalescingEntries (the aggregation threshold, completions per
 * interrupt; 0 = off) and InterruptCoalescingTime (the aggregation time, 100 us units).
 */
import { KE } from "../../ke/kernel.js";
import { CM } from "../../cm/registry.js";
import { serviceKeyPath } from "../../cm/service-key.js";

/** The numeric parameter `name` of `service`, or `fallback`. */
export function driverParameter(service: string, name: string, fallback: number): number {
  const v = CM(KE()).get(`${serviceKeyPath(service)}\\Parameters`, name);
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}
