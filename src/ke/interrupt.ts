/**
 * Interrupt objects and dispatch. A vector pending at a processor's local APIC above
 * its IRQL is accepted, the processor raises to the vector's IRQL (vector >> 4), and
 * each interrupt object connected to the vector is called, holding its spin lock, until
 * one claims the interrupt; then EOI and back to the interrupted IRQL, where DPCs run.
 * A level-triggered vector that is pending again at its EOI, INTERRUPT_STORM_COUNT
 * times in a row, is an interrupt storm: bug check 0xF2 HARDWARE_INTERRUPT_STORM.
 */
import { MM } from "../mm/manager.js";
import { TRACK_CPU } from "../trace/recorder.js";
import { KE, routineAttribution, type Kernel, type KPRCB } from "./kernel.js";
import { lowerTo } from "./level.js";
import type { KIRQL } from "./irql.js";
import { KSPIN_LOCK } from "./spinlock.js";
import { HARDWARE_INTERRUPT_STORM } from "./bugcheck.js";

/** Back-to-back deliveries of a level-triggered vector, each pending again at its EOI, that make a storm. */
export const INTERRUPT_STORM_COUNT = 1000;

/** KINTERRUPT_MODE. */
export enum KINTERRUPT_MODE {
  LevelSensitive = 0,
  Latched = 1,
}

/** ServiceRoutine(Interrupt, ServiceContext) for line-based interrupts. */
export type PKSERVICE_ROUTINE = (Interrupt: KINTERRUPT, ServiceContext: unknown) => boolean;
/** MessageServiceRoutine(Interrupt, ServiceContext, MessageID) for message-signalled interrupts. */
export type PKMESSAGE_SERVICE_ROUTINE = (Interrupt: KINTERRUPT, ServiceContext: unknown, MessageID: number) => boolean;
/** SynchronizeRoutine(SynchronizeContext) for KeSynchronizeExecution. */
export type PKSYNCHRONIZE_ROUTINE = (SynchronizeContext: unknown) => boolean;

/** An interrupt object. */
export class KINTERRUPT {
  ServiceRoutine: PKSERVICE_ROUTINE | null = null;
  MessageServiceRoutine: PKMESSAGE_SERVICE_ROUTINE | null = null;
  ServiceContext: unknown = null;
  /** Message number for message-signalled interrupts. */
  MessageIndex = 0;
  Vector = 0;
  Irql: KIRQL = 0;
  SynchronizeIrql: KIRQL = 0;
  /** Processors the interrupt is connected on. */
  Processors: number[] = [];
  /** The object's own spin lock. */
  readonly SpinLock = new KSPIN_LOCK();
  /** The lock the ISR holds: the caller's, when it passed one to IoConnectInterrupt(Ex), else SpinLock. */
  ActualLock: KSPIN_LOCK = this.SpinLock;
  /** Level-sensitive (a line) or latched (edge, every message). */
  Mode = KINTERRUPT_MODE.Latched;
  /** The object may share its vector with others (line-based interrupts). */
  ShareVector = false;
  Connected = false;
  /** Driver that connected it. */
  owner = "nt";
  /** Kernel-space address, for bug check parameters. */
  address = 0;
}

/** Bytes of a KINTERRUPT (x64). */
const KINTERRUPT_SIZE = 0x100;

/** Interrupt objects connected to `vector` on processor `processor`. */
export function connectedTo(k: Kernel, processor: number, vector: number): readonly KINTERRUPT[] {
  return k.processors[processor].InterruptTable.get(vector) ?? [];
}

/** Connects an interrupt object to its vector on its processors (used by IoConnectInterrupt(Ex)). */
export function connectInterruptObject(k: Kernel, i: KINTERRUPT): void {
  if (i.address === 0) i.address = k.objectAddress(KINTERRUPT_SIZE);
  for (const n of i.Processors) {
    const table = k.processors[n].InterruptTable;
    const list = table.get(i.Vector) ?? [];
    list.push(i);
    table.set(i.Vector, list);
  }
  i.Connected = true;
}

/** Disconnects an interrupt object. */
export function disconnectInterruptObject(k: Kernel, i: KINTERRUPT): void {
  for (const n of i.Processors) {
    const list = k.processors[n].InterruptTable.get(i.Vector);
    if (list) list.splice(list.indexOf(i), 1);
  }
  i.Connected = false;
}

/** Services every interrupt deliverable on `cpu` above its current IRQL. */
export function dispatchInterrupts(k: Kernel, cpu: KPRCB): void {
  const previous = k.cpu;
  k.cpu = cpu;
  try {
    for (;;) {
      const v = k.core.highestPending(cpu.Number);
      if (v === 0 || v >> 4 <= cpu.irql) return;
      const arrival = k.core.arrivalPs(cpu.Number, v);
      k.x.apicAccept(cpu.Number);
      const old = cpu.irql;
      cpu.irql = v >> 4;
      cpu.time = Math.max(cpu.time, arrival);
      const accepted = cpu.time;
      const stats = k.recorder.stats;
      const busy = stats.processor(cpu.Number);
      const isrBefore = busy.isrPs;
      const flow = k.flowId();
      cpu.activeInterrupts.push({ vector: v, arrivalPs: arrival, flow });
      k.chargePs(k.cost.InterruptDispatch);
      const start = cpu.time;
      const completionsBefore = stats.irpCompletions;
      stats.interruptToIsr.add(start - arrival);
      let claimedBy: KINTERRUPT | undefined;
      for (const i of cpu.InterruptTable.get(v) ?? []) {
        const routine = (i.MessageServiceRoutine ?? i.ServiceRoutine)!;
        k.recorder.note(start, "ISR", i.owner, routineAttribution(i.owner, routine, "InterruptService").routine, cpu.Number, v);
        i.ActualLock.owner = cpu.Number;
        let claimed: boolean;
        try {
          // A message-signaled ISR also gets its message number; a line-based one gets two arguments.
          claimed = k.watchdogRoutine(cpu, i.owner, routine as (a: KINTERRUPT, b: unknown, c?: number) => boolean, "InterruptService", i, i.ServiceContext,
            i.MessageServiceRoutine ? i.MessageIndex : undefined);
        } finally {
          i.ActualLock.owner = -1;
        }
        if (claimed) {
          claimedBy = i;
          break;
        }
      }
      const duration = cpu.time - start;
      stats.isrs++;
      stats.isrDuration.add(duration);
      busy.isr.add(duration);
      const activity = stats.vector(cpu.Number, v);
      activity.interrupts++;
      activity.isr.add(duration);
      activity.completions += stats.irpCompletions - completionsBefore;
      if (claimedBy) {
        activity.driver = claimedBy.owner;
        stats.driver(claimedBy.owner).isr.add(duration);
      } else {
        activity.unclaimed++;
        stats.unclaimedInterrupts++;
      }
      if (k.recorder.enabled) {
        const label = claimedBy ? `ISR ${claimedBy.owner}!${(claimedBy.MessageServiceRoutine ?? claimedBy.ServiceRoutine)!.name}` : `unclaimed vector 0x${v.toString(16)}`;
        k.recorder.slice(TRACK_CPU, cpu.Number, label, "isr", start, cpu.time, { vector: v, irql: v >> 4 });
        k.recorder.flowStart(flow, "interrupt to DPC", TRACK_CPU, cpu.Number, start);
      }
      cpu.activeInterrupts.pop();
      k.chargePs(k.cost.InterruptEoi);
      k.x.apicEoi(cpu.Number, v);
      // Busy time from acceptance to EOI; ISRs nested inside count once.
      busy.isrPs = isrBefore + (cpu.time - accepted);
      watchForStorm(k, cpu, v);
      lowerTo(k, cpu, old);
    }
  } finally {
    k.cpu = previous;
  }
}

/** Counts deliveries of a level-triggered vector that is pending again at its EOI; bug checks a storm. */
function watchForStorm(k: Kernel, cpu: KPRCB, v: number): void {
  const chain = cpu.InterruptTable.get(v);
  const first = chain?.[0];
  if (!first || first.Mode !== KINTERRUPT_MODE.LevelSensitive || k.core.highestPending(cpu.Number) !== v) {
    if (cpu.stormVector === v) cpu.stormCount = 0;
    return;
  }
  if (cpu.stormVector !== v) {
    cpu.stormVector = v;
    cpu.stormCount = 0;
  }
  if (++cpu.stormCount >= INTERRUPT_STORM_COUNT) {
    // P1 the (first) ISR, P2 its context, P3 the interrupt object, P4 1 alone or 2 chained; blamed on the ISR's driver.
    const routine = first.ServiceRoutine ?? first.MessageServiceRoutine;
    const name = routine?.name || "InterruptService";
    const context = first.ServiceContext as { address?: unknown } | null;
    const contextValue = typeof context?.address === "number" ? context.address : 0;
    k.invoke(first.owner, name, () => k.bugCheck(HARDWARE_INTERRUPT_STORM, MM(k).codeAddress(first.owner, name), contextValue, first.address, chain.length > 1 ? 2 : 1));
  }
}

/**
 * KeSynchronizeExecution: raises to the interrupt's synchronize IRQL, holds its spin
 * lock, calls the routine, and returns the routine's result unchanged.
 */
export function KeSynchronizeExecution(Interrupt: KINTERRUPT, SynchronizeRoutine: PKSYNCHRONIZE_ROUTINE, SynchronizeContext: unknown): boolean {
  const old = KeAcquireInterruptSpinLock(Interrupt);
  try {
    return SynchronizeRoutine(SynchronizeContext);
  } finally {
    KeReleaseInterruptSpinLock(Interrupt, old);
  }
}

/** KeAcquireInterruptSpinLock: raises to the synchronize IRQL, takes the lock, returns the old IRQL. */
export function KeAcquireInterruptSpinLock(Interrupt: KINTERRUPT): KIRQL {
  const k = KE();
  const old = k.cpu.irql;
  if (Interrupt.SynchronizeIrql > old) k.cpu.irql = Interrupt.SynchronizeIrql;
  k.chargePs(k.cost.KeAcquireSpinLock);
  Interrupt.ActualLock.owner = k.cpu.Number;
  return old;
}

/** KeReleaseInterruptSpinLock: releases the lock and returns to `OldIrql`. */
export function KeReleaseInterruptSpinLock(Interrupt: KINTERRUPT, OldIrql: KIRQL): void {
  const k = KE();
  Interrupt.ActualLock.owner = -1;
  k.chargePs(k.cost.KeReleaseSpinLock);
  lowerTo(k, k.cpu, OldIrql);
}
