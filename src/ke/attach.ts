/**
 * Attaching a thread to another process's address space: KeStackAttachProcess /
 * KeUnstackDetachProcess with a KAPC_STATE, nestable, and PsGetCurrentProcess /
 * IoGetCurrentProcess (the process whose address space the thread is in now). Attaching
 * loads the target process's page-table root into the processor's CR3 (the TLB's
 * non-global entries go with it, so the next accesses pay their page walks); detaching
 * loads the previous one back.
 *
 * Callers must run below DISPATCH_LEVEL in a thread; attaching from a DPC or at
 * DISPATCH_LEVEL or above, or detaching with a KAPC_STATE that is not the innermost
 * attach, is bug check 0x5 INVALID_PROCESS_ATTACH_ATTEMPT.
 * A thread that waits while attached resumes in the attached address space.
 */
import { INVALID_PROCESS_ATTACH_ATTEMPT } from "./bugcheck.js";
import { DISPATCH_LEVEL } from "./irql.js";
import { KE, type Kernel, type KPRCB } from "./kernel.js";
import type { KPROCESS, KTHREAD } from "./scheduler.js";

/** KAPC_STATE: the attach state saved by KeStackAttachProcess and restored by KeUnstackDetachProcess. */
export class KAPC_STATE {
  /** The process the thread was attached to before this attach; null when it was in its own process. */
  Process: KPROCESS | null = null;
  KernelApcInProgress = false;
  KernelApcPending = false;
  UserApcPending = false;
  /** The thread this state belongs to while the attach lasts. */
  thread: KTHREAD | null = null;
}

/** Per thread: the process it is attached to now (absent: its own). */
const attachedTo = new WeakMap<KTHREAD, KPROCESS>();
/** Per thread: its attaches, innermost last. */
const attachStacks = new WeakMap<KTHREAD, KAPC_STATE[]>();
/** Stable kernel addresses of process objects, for bug check parameters. */
const processAddresses = new WeakMap<KPROCESS, number>();

function addressOf(k: Kernel, process: KPROCESS | null): number {
  if (!process) return 0;
  let a = processAddresses.get(process);
  if (a === undefined) processAddresses.set(process, (a = k.objectAddress(0x880)));
  return a;
}

function loadCr3(k: Kernel, cpu: KPRCB, cr3: number): void {
  if (cpu.cr3 === cr3) return;
  cpu.cr3 = cr3;
  k.x.setCr3(cpu.Number, cr3);
}

/** The process whose address space `thread` runs in now (an attached process, or its own). */
export function currentProcessOf(thread: KTHREAD): KPROCESS {
  return attachedTo.get(thread) ?? thread.process;
}

/** PsGetCurrentProcess: the process whose address space the executing thread is in (the System process outside threads). */
export function PsGetCurrentProcess(): KPROCESS {
  const k = KE();
  const t = k.cpu.CurrentThread;
  return t ? currentProcessOf(t) : k.scheduler.systemProcess;
}

/** IoGetCurrentProcess: same as PsGetCurrentProcess. */
export function IoGetCurrentProcess(): KPROCESS {
  return PsGetCurrentProcess();
}

/** KeIsAttachedProcess: TRUE if the executing thread is attached to a process other than its own. */
export function KeIsAttachedProcess(): boolean {
  const t = KE().cpu.CurrentThread;
  return t !== null && (attachStacks.get(t)?.length ?? 0) > 0;
}

/**
 * KeStackAttachProcess: attaches the executing thread to `PROCESS`'s address space and
 * saves the previous attach state (if the thread was already attached) in `ApcState`.
 * Every call must be matched by KeUnstackDetachProcess(ApcState).
 */
export function KeStackAttachProcess(PROCESS: KPROCESS, ApcState: KAPC_STATE): void {
  const k = KE();
  const cpu = k.cpu;
  const t = cpu.CurrentThread;
  if (!t || cpu.DpcRoutineActive || cpu.irql >= DISPATCH_LEVEL) {
    const attached = t ? attachedTo.get(t) ?? null : null;
    return k.bugCheck(INVALID_PROCESS_ATTACH_ATTEMPT, addressOf(k, attached ?? PROCESS), addressOf(k, attached), attached ? 1 : 0, cpu.DpcRoutineActive || !t ? 1 : 0);
  }
  k.chargePs(k.cost.KeStackAttachProcess);
  ApcState.Process = attachedTo.get(t) ?? null;
  ApcState.thread = t;
  let stack = attachStacks.get(t);
  if (!stack) attachStacks.set(t, (stack = []));
  stack.push(ApcState);
  attachedTo.set(t, PROCESS);
  loadCr3(k, cpu, PROCESS.DirectoryTableBase);
}

/**
 * KeUnstackDetachProcess: detaches the executing thread from the process it attached to
 * with `ApcState` and restores the attach state before it (its own process, or the
 * process of an outer attach).
 */
export function KeUnstackDetachProcess(ApcState: KAPC_STATE): void {
  const k = KE();
  const cpu = k.cpu;
  const t = cpu.CurrentThread;
  const stack = t ? attachStacks.get(t) : undefined;
  if (!t || !stack || stack[stack.length - 1] !== ApcState || cpu.irql >= DISPATCH_LEVEL) {
    const attached = t ? attachedTo.get(t) ?? null : null;
    return k.bugCheck(INVALID_PROCESS_ATTACH_ATTEMPT, addressOf(k, ApcState.Process ?? t?.process ?? null), addressOf(k, attached), attached ? 1 : 0, cpu.DpcRoutineActive ? 1 : 0);
  }
  k.chargePs(k.cost.KeUnstackDetachProcess);
  stack.pop();
  if (ApcState.Process) attachedTo.set(t, ApcState.Process);
  else attachedTo.delete(t);
  ApcState.thread = null;
  loadCr3(k, cpu, currentProcessOf(t).DirectoryTableBase);
}
