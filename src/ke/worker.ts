/**
 * System worker threads: queues of routines that run one after another at PASSIVE_LEVEL
 * in threads of the system process (what IoQueueWorkItem hands work to). A routine may
 * wait; one that returns above PASSIVE_LEVEL is 0xE1 WORKER_THREAD_RETURNED_AT_BAD_IRQL.
 */
import { KE, type Kernel } from "./kernel.js";
import { EVENT_TYPE, KEVENT, KeSetEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON } from "./dispatcher.js";
import { PASSIVE_LEVEL } from "./irql.js";
import { WORKER_THREAD_RETURNED_AT_BAD_IRQL } from "./bugcheck.js";

/** WORK_QUEUE_TYPE. */
export enum WORK_QUEUE_TYPE {
  CriticalWorkQueue = 0,
  DelayedWorkQueue = 1,
  HyperCriticalWorkQueue = 2,
}

/** One queued routine. */
interface WorkEntry {
  routine: () => unknown;
  owner: string;
  name: string;
  /** For the bug check parameters. */
  parameter: unknown;
  address: number;
}

/** A work queue and the thread that serves it. */
class WorkQueue {
  readonly entries: WorkEntry[] = [];
  readonly event = new KEVENT();
  constructor(k: Kernel, name: string) {
    this.event.Header.Type = EVENT_TYPE.SynchronizationEvent;
    k.scheduler.createThread(name, () => this.serve(k));
  }

  /** Puts `entry` on the queue and wakes the worker. */
  post(entry: WorkEntry): void {
    this.entries.push(entry);
    KeSetEvent(this.event, 0, false);
  }

  private async serve(k: Kernel): Promise<never> {
    for (;;) {
      await KeWaitForSingleObject(this.event, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
      while (this.entries.length > 0) {
        const e = this.entries.shift()!;
        await k.invoke(e.owner, e.name, e.routine);
        if (k.cpu.irql !== PASSIVE_LEVEL) {
          // P1 would be the routine's address, which names the culprit; code has no addresses
          // here, so the bug check is raised in the routine's name instead.
          const irql = k.cpu.irql;
          k.invoke(e.owner, e.name, () => k.bugCheck(WORKER_THREAD_RETURNED_AT_BAD_IRQL, 0, irql, 0, e.address));
        }
      }
    }
  }
}

/** The worker queues of one machine (created on first use). */
export class ExWorkers {
  private readonly queues = new Map<WORK_QUEUE_TYPE, WorkQueue>();
  constructor(private readonly k: Kernel) {}

  /** Queues `routine` on queue `type`; it runs in that queue's worker thread at PASSIVE_LEVEL. */
  queue(type: WORK_QUEUE_TYPE, entry: WorkEntry): void {
    let q = this.queues.get(type);
    if (!q) {
      q = new WorkQueue(this.k, `${WORK_QUEUE_TYPE[type] ?? "WorkQueue"} worker`);
      this.queues.set(type, q);
    }
    const late = this.k.explorer === null ? 0 : this.k.explorer.deliveryDelay();
    if (late === 0) return q.post(entry);
    // An explored schedule delivers the work item late: it reaches its queue then.
    const queue = q;
    this.k.scheduler.addTimer(this.k.cpu.time + late, () => queue.post(entry), entry);
  }
}

/** The executing machine's worker queues. */
export function workers(k: Kernel = KE()): ExWorkers {
  let w = k.services.get("workers") as ExWorkers | undefined;
  if (!w) {
    w = new ExWorkers(k);
    k.services.set("workers", w);
  }
  return w;
}
