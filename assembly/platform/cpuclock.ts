// The CPUs' clock domain, kept in the Platform record.

import { clockSetKHz, cyclesToPs, ClockDomain } from "../sim/clock";
import { Platform, PLATFORM_BASE } from "./platform";

// @ts-ignore: decorator
@inline function cpuClock(): ClockDomain {
  return changetype<ClockDomain>(PLATFORM_BASE + offsetof<Platform>("cpuPsNum"));
}

/** Sets the CPU clock in kHz. */
export function cpuClockSetKHz(kHz: u32): void {
  clockSetKHz(cpuClock(), kHz);
}

/** Picoseconds taken by `cycles` CPU cycles. */
export function cyclesToPsCpu(cycles: u64): u64 {
  return cyclesToPs(cpuClock(), cycles);
}
