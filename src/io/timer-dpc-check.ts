/**
 * The kernel's check, as a driver image unloads, that no kernel timer is still set and no
 * DPC still queued in the driver's memory: such a timer would expire, or such a DPC run,
 * into code and data that are gone. Either is bug check 0xC7 TIMER_OR_DPC_INVALID with
 * P1 the kind (0 timer object, 1 DPC object), P2 its address, and P3, P4 the start and
 * end of the memory range checked (the driver image's range).
 *
 * A timer or DPC lies in a driver's memory when that driver initialised it
 * (KeInitializeTimer(Ex), KeInitializeDpc: a global of the driver, or its device
 * extension or pool). Set timers are checked first (the timer, then its DPC), then the
 * DPCs queued on each processor. It is the kernel's own check at image unload, made
 * whether or not the verifier is on.
 */
import type { Kernel } from "../ke/kernel.js";
import { KTIMER } from "../ke/timer.js";
import type { KDPC } from "../ke/dpc.js";
import { TIMER_OR_DPC_DPC_OBJECT, TIMER_OR_DPC_INVALID, TIMER_OR_DPC_TIMER_OBJECT } from "../ke/bugcheck.js";
import { MM } from "../mm/manager.js";

/** Bytes of a KTIMER and of a KDPC (x64), for the addresses bug checks report. */
const KTIMER_SIZE = 0x40;
const KDPC_SIZE = 0x40;

/** An object's kernel-space address: the one it has, or a new one it keeps from now on. */
function addressOfObject(k: Kernel, object: object, size: number): number {
  const o = object as { address?: number };
  if (typeof o.address !== "number") o.address = k.objectAddress(size);
  return o.address;
}

/**
 * Bug check 0xC7 TIMER_OR_DPC_INVALID, blamed on `unloadRoutine` of `service`, if a set
 * timer or a queued DPC lies in that driver's memory (see the file comment).
 */
export function checkTimersAndDpcsAtUnload(k: Kernel, service: string, unloadRoutine: string): void {
  const found = findTimerOrDpc(k, service);
  if (found === null) return;
  const range = MM(k).imageRange(service);
  k.invoke(service, unloadRoutine, () => k.bugCheck(TIMER_OR_DPC_INVALID, found.kind, found.address, range.start, range.end));
}

/** The first set timer or queued DPC in `service`'s memory: its kind (0xC7's P1) and address; null when none. */
function findTimerOrDpc(k: Kernel, service: string): { kind: number; address: number } | null {
  for (const entry of k.scheduler.armedTimers()) {
    const timer = entry.owner;
    if (entry.cancelled || !(timer instanceof KTIMER)) continue;
    if (timer.owner === service) return { kind: TIMER_OR_DPC_TIMER_OBJECT, address: addressOfObject(k, timer, KTIMER_SIZE) };
    if (timer.Dpc) {
      const hit = dpcIn(k, timer.Dpc, service);
      if (hit) return hit;
    }
  }
  for (const cpu of k.processors) {
    for (const dpc of cpu.DpcQueue) {
      const hit = dpcIn(k, dpc, service);
      if (hit) return hit;
    }
  }
  return null;
}

/** Whether a DPC lies in `service`'s memory (0xC7's P1 1, and the DPC's address). */
function dpcIn(k: Kernel, dpc: KDPC, service: string): { kind: number; address: number } | null {
  return dpc.owner === service ? { kind: TIMER_OR_DPC_DPC_OBJECT, address: addressOfObject(k, dpc, KDPC_SIZE) } : null;
}
