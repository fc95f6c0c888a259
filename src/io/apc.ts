/**
 * Kernel APCs that finish I/O requests in the context of the thread that issued them.
 *
 * When an IRP the I/O manager issued for a user thread completes after its dispatch
 * routine returned STATUS_PENDING, the rest of the completion (copying buffered data to
 * the caller's memory, unlocking MDLs, writing the status block, setting events, posting
 * to a completion port, freeing the IRP) must run in that thread's address space below
 * DISPATCH_LEVEL. Windows queues a special kernel APC to the thread; it runs at APC_LEVEL
 * as soon as the thread can run it, interrupting a wait if the thread is waiting (the
 * wait then resumes). Here:
 *
 * - an APC queued to a thread blocked in a user-mode wait wakes it (the wait ends with
 *   STATUS_KERNEL_APC, the thread runs its APCs and waits again);
 * - otherwise the thread runs its APCs at the next point it enters or leaves a system
 *   service (the model runs a thread's code to completion between kernel calls, so this
 *   is the same simulated instant);
 * - for a thread that has ended, a system worker thread attaches to its process and runs
 *   the APC there (Windows keeps an exiting thread until its I/O is done).
 */
import { KE, type Kernel } from "../ke/kernel.js";
import { APC_LEVEL } from "../ke/irql.js";
import { KeLowerIrql, KeRaiseIrql } from "../ke/level.js";
import { STATUS_KERNEL_APC } from "../ke/ntstatus.js";
import { KAPC_STATE, KeStackAttachProcess, KeUnstackDetachProcess } from "../ke/attach.js";
import { workers, WORK_QUEUE_TYPE } from "../ke/worker.js";
import type { ETHREAD, KernelApc } from "./process.js";

/** Runs one APC at APC_LEVEL on the executing thread (already in the right address space). */
function runAtApcLevel(apc: KernelApc): void {
  const old = KeRaiseIrql(APC_LEVEL);
  try {
    apc.KernelRoutine();
  } finally {
    KeLowerIrql(old);
  }
}

/** Runs `apc` in a system worker thread attached to `thread`'s process. */
function runInWorker(k: Kernel, thread: ETHREAD, apc: KernelApc): void {
  workers(k).queue(WORK_QUEUE_TYPE.CriticalWorkQueue, {
    routine: () => {
      const state = new KAPC_STATE();
      KeStackAttachProcess(thread.process, state);
      try {
        runAtApcLevel(apc);
      } finally {
        KeUnstackDetachProcess(state);
      }
    },
    owner: "nt",
    name: "IopCompleteRequest",
    parameter: null,
    address: 0,
  });
}

/**
 * Queues a kernel APC to `thread` (KeInsertQueueApc): it runs in the thread's context, at
 * once if the thread is blocked in a user-mode wait (the wait is interrupted and resumed).
 */
export function queueKernelApc(thread: ETHREAD, apc: KernelApc): void {
  const k = KE();
  k.chargePs(k.cost.KeInsertQueueApc);
  if (thread.terminated) {
    runInWorker(k, thread, apc);
    return;
  }
  thread.kernelApcs.push(apc);
  const t = thread.Tcb;
  if (thread.inUserWait && t.State === "waiting") {
    thread.inUserWait = false;
    t.cancelWait?.();
    t.cancelWait = undefined;
    t.WaitStatus = STATUS_KERNEL_APC;
    k.scheduler.makeReady(t, k.cpu.time);
  } else if (thread.inUserWait) {
    // Queued while the thread runs into its wait (an interrupt taken on the way): the wait returns at once.
    t.KernelApcPending = true;
  }
}

/**
 * Runs the kernel APCs queued to `thread`, the executing thread, oldest first (none while
 * the processor is at APC_LEVEL or above, nor while the thread is in a guarded region: they
 * wait for that to end, as on Windows; a critical region does not hold them back, since
 * I/O completion APCs are special kernel APCs).
 */
export function deliverKernelApcs(thread: ETHREAD): void {
  const k = KE();
  while (thread.kernelApcs.length > 0 && k.cpu.irql < APC_LEVEL && thread.Tcb.SpecialApcDisable === 0) runAtApcLevel(thread.kernelApcs.shift()!);
  if (thread.kernelApcs.length === 0) thread.Tcb.KernelApcPending = false;
}
