/**
 * Deferred procedure calls: per-processor queues that run at DISPATCH_LEVEL when the
 * processor's IRQL drops below it (shared/specs/nt-semantics.md, DPCs).
 */
import { TRACK_CPU } from "../trace/recorder.js";
import { DISPATCH_LEVEL } from "./irql.js";
import { KE, routineAttribution, type Kernel, type KPRCB } from "./kernel.js";

/** KDPC importance. */
export enum KDPC_IMPORTANCE {
  LowImportance = 0,
  MediumImportance = 1,
  HighImportance = 2,
  MediumHighImportance = 3,
}

/** DeferredRoutine(Dpc, DeferredContext, SystemArgument1, SystemArgument2). */
export type PKDEFERRED_ROUTINE = (Dpc: KDPC, DeferredContext: unknown, SystemArgument1: unknown, SystemArgument2: unknown) => void;

/** A DPC object. */
export class KDPC {
  Importance: KDPC_IMPORTANCE = KDPC_IMPORTANCE.MediumImportance;
  /** Target processor, or null for the processor that queues it. */
  Number: number | null = null;
  DeferredRoutine!: PKDEFERRED_ROUTINE;
  DeferredContext: unknown = null;
  SystemArgument1: unknown = null;
  SystemArgument2: unknown = null;
  /** The processor whose queue holds the DPC, or null when not queued. */
  DpcData: KPRCB | null = null;
  /** When it was queued, ps. */
  queuedAtPs = 0;
  /** Arrival time of the interrupt whose ISR queued it, ps (NaN if none). */
  interruptArrivalPs = NaN;
  /** Trace flow from that interrupt. */
  flow = 0;
  /** Vector of the interrupt whose ISR queued it, or -1 if none did. */
  interruptVector = -1;
  /** Processor that took that interrupt. */
  interruptProcessor = 0;
  /** Driver that initialised it. */
  owner = "nt";
}

/** KeInitializeDpc: sets the routine and context, Medium importance, no target processor. */
export function KeInitializeDpc(Dpc: KDPC, DeferredRoutine: PKDEFERRED_ROUTINE, DeferredContext: unknown): void {
  const k = KE();
  k.chargePs(k.cost.KeInitializeDpc);
  Dpc.DeferredRoutine = DeferredRoutine;
  Dpc.DeferredContext = DeferredContext;
  Dpc.Importance = KDPC_IMPORTANCE.MediumImportance;
  Dpc.Number = null;
  Dpc.DpcData = null;
  Dpc.owner = k.attribution().driver;
}

/** KeSetImportanceDpc. */
export function KeSetImportanceDpc(Dpc: KDPC, Importance: KDPC_IMPORTANCE): void {
  Dpc.Importance = Importance;
}

/** KeSetTargetProcessorDpc: the DPC runs on processor `Number`. */
export function KeSetTargetProcessorDpc(Dpc: KDPC, Number: number): void {
  Dpc.Number = Number;
}

/**
 * KeInsertQueueDpc: queues the DPC with two arguments and returns TRUE; if it is already
 * queued returns FALSE and keeps the first arguments. Legal at any IRQL. When it targets
 * the executing processor below DISPATCH_LEVEL it runs before this returns.
 */
export function KeInsertQueueDpc(Dpc: KDPC, SystemArgument1: unknown, SystemArgument2: unknown): boolean {
  const k = KE();
  k.chargePs(k.cost.KeInsertQueueDpc);
  if (Dpc.DpcData !== null) return false;
  const target = Dpc.Number === null ? k.cpu : k.processors[Dpc.Number];
  if (!target) return false;
  Dpc.SystemArgument1 = SystemArgument1;
  Dpc.SystemArgument2 = SystemArgument2;
  Dpc.DpcData = target;
  Dpc.queuedAtPs = k.explorer === null ? k.cpu.time : k.cpu.time + k.explorer.deliveryDelay();
  const active = k.cpu.activeInterrupts;
  if (active.length > 0) {
    const i = active[active.length - 1];
    Dpc.interruptArrivalPs = i.arrivalPs;
    Dpc.flow = i.flow;
    Dpc.interruptVector = i.vector;
    Dpc.interruptProcessor = k.cpu.Number;
  } else {
    Dpc.interruptArrivalPs = NaN;
    Dpc.flow = 0;
    Dpc.interruptVector = -1;
  }
  if (Dpc.Importance === KDPC_IMPORTANCE.HighImportance) target.DpcQueue.unshift(Dpc);
  else target.DpcQueue.push(Dpc);
  if (target === k.cpu && k.cpu.irql < DISPATCH_LEVEL && !k.cpu.DpcRoutineActive) drainDpcs(k, k.cpu);
  return true;
}

/** KeRemoveQueueDpc: dequeues the DPC; TRUE only if it was queued (it then never runs). */
export function KeRemoveQueueDpc(Dpc: KDPC): boolean {
  const q = Dpc.DpcData;
  if (q === null) return false;
  q.DpcQueue.splice(q.DpcQueue.indexOf(Dpc), 1);
  Dpc.DpcData = null;
  return true;
}

/**
 * Takes from `cpu`'s queue the first DPC queued by its clock (one queued later, by a
 * processor ahead in time or delivered late, waits for its time), or returns null.
 */
function nextDue(cpu: KPRCB): KDPC | null {
  const q = cpu.DpcQueue;
  const now = cpu.time;
  for (let i = 0; i < q.length; i++) {
    if (q[i].queuedAtPs <= now) return i === 0 ? q.shift()! : q.splice(i, 1)[0];
  }
  return null;
}

/** Runs `cpu`'s DPC queue at DISPATCH_LEVEL (the DPCs queued by its clock), then returns to the previous IRQL. */
export function drainDpcs(k: Kernel, cpu: KPRCB): void {
  if (cpu.DpcQueue.length === 0) return;
  const previous = k.cpu;
  k.cpu = cpu;
  const old = cpu.irql;
  cpu.irql = DISPATCH_LEVEL;
  cpu.DpcRoutineActive = true;
  try {
    for (;;) {
      const dpc = nextDue(cpu);
      if (dpc === null) break;
      dpc.DpcData = null;
      const dispatched = cpu.time;
      const stats = k.recorder.stats;
      const busy = stats.processor(cpu.Number);
      const isrBefore = busy.isrPs;
      const completionsBefore = stats.irpCompletions;
      k.chargePs(k.cost.DpcDispatch);
      const start = cpu.time;
      if (!Number.isNaN(dpc.interruptArrivalPs)) stats.interruptToDpc.add(start - dpc.interruptArrivalPs);
      if (dpc.flow) k.recorder.flowEnd(dpc.flow, "interrupt to DPC", TRACK_CPU, cpu.Number, start);
      const routine = routineAttribution(dpc.owner, dpc.DeferredRoutine, "DeferredRoutine").routine;
      k.recorder.note(start, "DPC", dpc.owner, routine, cpu.Number);
      k.watchdogRoutine(cpu, dpc.owner, dpc.DeferredRoutine, "DeferredRoutine", dpc, dpc.DeferredContext, dpc.SystemArgument1, dpc.SystemArgument2);
      const duration = cpu.time - start;
      stats.dpcs++;
      stats.dpcDuration.add(duration);
      busy.dpc.add(duration);
      busy.dpcPs += cpu.time - dispatched - (busy.isrPs - isrBefore);
      stats.driver(dpc.owner).dpc.add(duration);
      const completed = stats.irpCompletions - completionsBefore;
      if (dpc.interruptVector >= 0) {
        const activity = stats.vector(dpc.interruptProcessor, dpc.interruptVector);
        activity.dpcs++;
        activity.completions += completed;
      } else {
        stats.completionsOutsideInterrupts += completed;
      }
      if (k.recorder.enabled) k.recorder.slice(TRACK_CPU, cpu.Number, `DPC ${dpc.owner}!${routine}`, "dpc", start, cpu.time);
    }
  } finally {
    cpu.DpcRoutineActive = false;
    cpu.irql = old;
    k.cpu = previous;
  }
}
