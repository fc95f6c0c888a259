/**
 * Driver Verifier's checks on synchronization: the 0xC4 DRIVER_VERIFIER_DETECTED_VIOLATION
 * subcodes (Parameter 1) for mutexes, fast and guarded mutexes, resources, push locks and
 * critical regions, as the bug check reference lists them, and the checks the lock
 * routines share.
 */
import { DRIVER_VERIFIER_DETECTED_VIOLATION } from "./bugcheck.js";
import { APC_LEVEL } from "./irql.js";
import type { Kernel } from "./kernel.js";
import { combinedApcDisable, type KTHREAD } from "./scheduler.js";

/** 0xC4 P1: a fast mutex acquired at IRQL > APC_LEVEL (P2 IRQL, P3 fast mutex). */
export const VERIFIER_FAST_MUTEX_ACQUIRE_IRQL = 0x33;
/** 0xC4 P1: a fast mutex released at an IRQL other than APC_LEVEL (P2 IRQL, P3 fast mutex). */
export const VERIFIER_FAST_MUTEX_RELEASE_IRQL = 0x34;
/** 0xC4 P1: a resource acquired with APCs not disabled (P2 IRQL, P3 APC disable count, P4 resource). */
export const VERIFIER_RESOURCE_ACQUIRE_APCS_ENABLED = 0x37;
/** 0xC4 P1: a resource released with APCs not disabled (P2 IRQL, P3 APC disable count, P4 resource). */
export const VERIFIER_RESOURCE_RELEASE_APCS_ENABLED = 0x38;
/** 0xC4 P1: a mutex acquired "unsafe" neither at APC_LEVEL nor with APCs disabled (P2 IRQL, P3 APC disable count, P4 mutex). */
export const VERIFIER_UNSAFE_MUTEX_ACQUIRE = 0x39;
/** 0xC4 P1: a mutex released "unsafe" neither at APC_LEVEL nor with APCs disabled (P2 IRQL, P3 APC disable count, P4 mutex). */
export const VERIFIER_UNSAFE_MUTEX_RELEASE = 0x3A;
/** 0xC4 P1: KeLeaveCriticalRegion by a thread that is in no critical region. */
export const VERIFIER_LEAVE_CRITICAL_REGION_NOT_ENTERED = 0x3E;
/** 0xC4 P1: an ERESOURCE initialized again while in use (P2 resource). */
export const VERIFIER_RESOURCE_REINITIALIZED = 0xD0;
/** 0xC4 P1: an ERESOURCE deleted that was never initialized (P2 resource). */
export const VERIFIER_RESOURCE_DELETE_UNINITIALIZED = 0xD1;
/** 0xC4 P1: a push lock acquired with APCs enabled (P2 IRQL, P3 APC disable count, P4 push lock). */
export const VERIFIER_PUSH_LOCK_ACQUIRE_APCS_ENABLED = 0xEA;
/** 0xC4 P1: a push lock released with APCs enabled (P2 IRQL, P3 APC disable count, P4 push lock). */
export const VERIFIER_PUSH_LOCK_RELEASE_APCS_ENABLED = 0xEB;
/** 0xC4 P1: KeEnterCriticalRegion at IRQL > APC_LEVEL (P2 IRQL). */
export const VERIFIER_ENTER_CRITICAL_REGION_IRQL = 0x11A;
/** 0xC4 P1: KeLeaveCriticalRegion at IRQL > APC_LEVEL (P2 IRQL). */
export const VERIFIER_LEAVE_CRITICAL_REGION_IRQL = 0x11B;
/** 0xC4 P1 (deadlock detection): a thread acquires again a lock it holds (P2 lock). */
export const VERIFIER_SELF_DEADLOCK = 0x1000;
/** 0xC4 P1 (deadlock detection): a thread releases a lock another thread acquired (P2 lock, P3 owner thread, P4 current thread). */
export const VERIFIER_WRONG_THREAD_RELEASE = 0x1004;
/** 0xC4 P1 (deadlock detection): a lock released that was not acquired (P2 lock). */
export const VERIFIER_RELEASE_UNACQUIRED = 0x1007;
/** 0xC4 P1 (deadlock detection): a lock deleted while a thread still owns it (P2 lock, P3 owner thread). */
export const VERIFIER_DELETE_OWNED_LOCK = 0x100B;
/** 0xC4 P1: DDI compliance rule IrqlKeApcLte1 (guarded mutex routines need IRQL <= APC_LEVEL). */
export const DDI_RULE_IRQL_KE_APC_LTE1 = 0x0002000F;

/** Under the verifier, 0xC4 with `subcode` and three parameters. */
export function verifierViolation(k: Kernel, subcode: number, p2: number, p3: number, p4: number): void {
  if (k.verifier) k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, subcode, p2, p3, p4);
}

/**
 * Under the verifier, the check for routines that need normal kernel APCs disabled (a
 * critical or guarded region, or APC_LEVEL and above): 0xC4 with `subcode`, the IRQL, the
 * thread's APC disable count and `lock`.
 */
export function requireApcsDisabled(k: Kernel, thread: KTHREAD | null, subcode: number, lock: number): void {
  if (!k.verifier || k.cpu.irql >= APC_LEVEL || thread === null) return;
  if (thread.KernelApcDisable === 0 && thread.SpecialApcDisable === 0) {
    k.bugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, subcode, k.cpu.irql, combinedApcDisable(thread), lock);
  }
}
