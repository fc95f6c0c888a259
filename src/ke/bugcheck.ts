/**
 * Bug checks: the codes, names and parameter meanings the kernel uses (WDK "Bug Check
 * Code Reference"), the BugCheck error that stops a machine, and KeBugCheckEx.
 */
import type { KIRQL } from "./irql.js";
import { irqlName } from "./irql.js";

/** One bug check code's name and what its four parameters mean. */
export interface BugCheckInfo {
  name: string;
  meaning: string;
  parameters: [string, string, string, string];
}

export const INVALID_PROCESS_ATTACH_ATTEMPT = 0x5;
export const IRQL_NOT_GREATER_OR_EQUAL = 0x9;
export const IRQL_NOT_LESS_OR_EQUAL = 0xA;
export const MAXIMUM_WAIT_OBJECTS_EXCEEDED = 0xC;
export const SPIN_LOCK_ALREADY_OWNED = 0xF;
export const SPIN_LOCK_NOT_OWNED = 0x10;
export const KMODE_EXCEPTION_NOT_HANDLED = 0x1E;
export const KERNEL_APC_PENDING_DURING_EXIT = 0x20;
export const REFERENCE_BY_POINTER = 0x18;
export const INVALID_KERNEL_HANDLE = 0x93;
export const IRQL_GT_ZERO_AT_SYSTEM_SERVICE = 0x4A;
export const NO_MORE_IRP_STACK_LOCATIONS = 0x35;
export const MULTIPLE_IRP_COMPLETE_REQUESTS = 0x44;
export const CANCEL_STATE_IN_COMPLETED_IRP = 0x48;
export const NO_MORE_SYSTEM_PTES = 0x3F;
export const NO_PAGES_AVAILABLE = 0x4D;
export const PFN_LIST_CORRUPT = 0x4E;
/** PFN_LIST_CORRUPT P1: a driver unlocked a page more times than it locked it. */
export const PFN_UNLOCKED_TOO_OFTEN = 0x07;
export const PAGE_FAULT_IN_NONPAGED_AREA = 0x50;
export const SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION = 0xC1;
/** SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION P4: bytes of the page before the block (its pattern) were overwritten. */
export const SPECIAL_POOL_NEARBY_BYTES_CORRUPTED = 0x23;
/** SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION P4: bytes after the end of the block were overwritten. */
export const SPECIAL_POOL_BYTES_AFTER_END_OVERWRITTEN = 0x24;
export const BAD_POOL_CALLER = 0xC2;
export const PAGE_FAULT_IN_FREED_SPECIAL_POOL = 0xCC;
export const PAGE_FAULT_BEYOND_END_OF_ALLOCATION = 0xCD;
export const DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL = 0xD5;
export const DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION = 0xD6;
export const DRIVER_VERIFIER_DETECTED_VIOLATION = 0xC4;
export const DRIVER_VERIFIER_IOMANAGER_VIOLATION = 0xC9;
export const TIMER_OR_DPC_INVALID = 0xC7;
/** TIMER_OR_DPC_INVALID P1: the timer object was in the memory being checked (P2 its address). */
export const TIMER_OR_DPC_TIMER_OBJECT = 0x0;
/** TIMER_OR_DPC_INVALID P1: the DPC object was in the memory being checked (P2 its address). */
export const TIMER_OR_DPC_DPC_OBJECT = 0x1;
export const DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS = 0xCE;
export const DRIVER_IRQL_NOT_LESS_OR_EQUAL = 0xD1;
export const DRIVER_VERIFIER_DMA_VIOLATION = 0xE6;
export const WORKER_THREAD_RETURNED_AT_BAD_IRQL = 0xE1;
export const HARDWARE_INTERRUPT_STORM = 0xF2;
export const RESOURCE_NOT_OWNED = 0xE3;
export const DPC_WATCHDOG_VIOLATION = 0x133;
export const REGISTRY_FILTER_DRIVER_EXCEPTION = 0x135;
export const DRIVER_RETURNED_HOLDING_CANCEL_LOCK = 0x11B;
export const KERNEL_SECURITY_CHECK_FAILURE = 0x139;
/** KERNEL_SECURITY_CHECK_FAILURE P1: a LIST_ENTRY has been corrupted (FAST_FAIL_CORRUPT_LIST_ENTRY). */
export const FAST_FAIL_CORRUPT_LIST_ENTRY = 3;

/** What each code means (names and parameters as the WDK documents them). */
export const BUGCHECKS: Record<number, BugCheckInfo> = {
  [INVALID_PROCESS_ATTACH_ATTEMPT]: {
    name: "INVALID_PROCESS_ATTACH_ATTEMPT",
    meaning: "A thread was attached to a process in a situation where that is not allowed.",
    parameters: [
      "Target process (or, if the thread is already attached, the original process)",
      "Process the current thread is attached to",
      "The thread's APC state index",
      "Non-zero: a DPC is running on the current processor",
    ],
  },
  [NO_MORE_SYSTEM_PTES]: {
    name: "NO_MORE_SYSTEM_PTES",
    meaning: "The system PTEs are exhausted or fragmented.",
    parameters: ["0: system expansion PTE type, 1: nonpaged pool expansion PTE type", "Size of the request", "Total free system PTEs", "Total system PTEs"],
  },
  [NO_PAGES_AVAILABLE]: {
    name: "NO_PAGES_AVAILABLE",
    meaning: "No free pages are available to continue operations.",
    parameters: ["Number of dirty pages", "Number of physical pages in the machine", "Extended commit value, in pages", "Total commit value, in pages"],
  },
  [PFN_LIST_CORRUPT]: {
    name: "PFN_LIST_CORRUPT",
    meaning: "The memory manager's page frame number list is corrupted.",
    parameters: ["0x07: a driver unlocked a page more times than it locked it", "Page frame number", "Current share count", "0"],
  },
  [IRQL_NOT_GREATER_OR_EQUAL]: {
    name: "IRQL_NOT_GREATER_OR_EQUAL",
    meaning: "A routine was asked to raise the IRQL to a level below the current one.",
    parameters: ["Current IRQL", "Requested IRQL", "Reserved", "Reserved"],
  },
  [IRQL_NOT_LESS_OR_EQUAL]: {
    name: "IRQL_NOT_LESS_OR_EQUAL",
    meaning: "Kernel code accessed paged or invalid memory at an IRQL that was too high.",
    parameters: ["Memory referenced", "IRQL at time of reference", "0: read, 1: write, 8: execute", "Address that referenced memory"],
  },
  [MAXIMUM_WAIT_OBJECTS_EXCEEDED]: {
    name: "MAXIMUM_WAIT_OBJECTS_EXCEEDED",
    meaning: "A wait named more objects than allowed: more than THREAD_WAIT_OBJECTS without a WaitBlockArray, or more than MAXIMUM_WAIT_OBJECTS.",
    parameters: ["None", "None", "None", "None"],
  },
  [KERNEL_APC_PENDING_DURING_EXIT]: {
    name: "KERNEL_APC_PENDING_DURING_EXIT",
    meaning: "A thread exited with its APC disable count not zero (a critical or guarded region not left, or a kernel mutex not released).",
    parameters: ["Address of the APC found pending during exit", "The thread's APC disable count", "The current IRQL", "Reserved"],
  },
  [RESOURCE_NOT_OWNED]: {
    name: "RESOURCE_NOT_OWNED",
    meaning: "A thread tried to release a resource it did not own.",
    parameters: ["Address of resource", "Address of thread", "Address of owner table (if it exists)", "Reserved"],
  },
  [SPIN_LOCK_ALREADY_OWNED]: {
    name: "SPIN_LOCK_ALREADY_OWNED",
    meaning: "A processor tried to acquire a spin lock it already holds.",
    parameters: ["Spin lock address", "Reserved", "Reserved", "Reserved"],
  },
  [SPIN_LOCK_NOT_OWNED]: {
    name: "SPIN_LOCK_NOT_OWNED",
    meaning: "A processor released a spin lock it does not hold.",
    parameters: ["Spin lock address", "Reserved", "Reserved", "Reserved"],
  },
  [KMODE_EXCEPTION_NOT_HANDLED]: {
    name: "KMODE_EXCEPTION_NOT_HANDLED",
    meaning: "A kernel-mode routine raised an exception that nothing handled.",
    parameters: ["Exception code", "Address where the exception occurred", "Exception parameter 0", "Exception parameter 1"],
  },
  [REFERENCE_BY_POINTER]: {
    name: "REFERENCE_BY_POINTER",
    meaning: "The reference count of an object is illegal for the current state of the object (dereferenced too many times, or to zero with handles still open).",
    parameters: ["Object type of the object whose reference count is being lowered", "Object whose reference count is being lowered", "Reserved", "Reserved"],
  },
  [INVALID_KERNEL_HANDLE]: {
    name: "INVALID_KERNEL_HANDLE",
    meaning: "An invalid or protected handle was passed to NtClose.",
    parameters: ["The handle that NtClose was called with", "0: a protected handle was closed, 1: an invalid handle was closed or referenced", "0", "0"],
  },
  [IRQL_GT_ZERO_AT_SYSTEM_SERVICE]: {
    name: "IRQL_GT_ZERO_AT_SYSTEM_SERVICE",
    meaning: "A thread returned to its caller (or ended) with the IRQL still above PASSIVE_LEVEL.",
    parameters: ["Address of the routine that returned", "IRQL at return", "Reserved", "Reserved"],
  },
  [NO_MORE_IRP_STACK_LOCATIONS]: {
    name: "NO_MORE_IRP_STACK_LOCATIONS",
    meaning: "IoCallDriver was called with an IRP that has no stack location left for the next driver.",
    parameters: ["Address of the IRP", "Reserved", "Reserved", "Reserved"],
  },
  [MULTIPLE_IRP_COMPLETE_REQUESTS]: {
    name: "MULTIPLE_IRP_COMPLETE_REQUESTS",
    meaning: "A driver completed an IRP that was already complete.",
    parameters: ["Address of the IRP", "Reserved", "Reserved", "Reserved"],
  },
  [CANCEL_STATE_IN_COMPLETED_IRP]: {
    name: "CANCEL_STATE_IN_COMPLETED_IRP",
    meaning: "An IRP that had already completed was cancelled, and it still had a cancel routine.",
    parameters: ["Address of the IRP", "The cancel routine set by the driver", "Reserved", "Reserved"],
  },
  [PAGE_FAULT_IN_NONPAGED_AREA]: {
    name: "PAGE_FAULT_IN_NONPAGED_AREA",
    meaning: "Invalid system memory was referenced.",
    parameters: ["Memory referenced", "0: read, 2: write, 10: execute", "Address that referenced memory", "Type of page fault"],
  },
  [SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION]: {
    name: "SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION",
    meaning: "The driver wrote to an invalid section of the special pool.",
    parameters: ["Address that the driver tried to free", "Address where bits are corrupted", "Reserved", "Type of violation (0x23: bytes before the block, 0x24: bytes after its end)"],
  },
  [PAGE_FAULT_IN_FREED_SPECIAL_POOL]: {
    name: "PAGE_FAULT_IN_FREED_SPECIAL_POOL",
    meaning: "The system has referenced memory which was earlier freed.",
    parameters: ["Memory address referenced", "0: read, 1: write", "Address that referenced memory (if known)", "Reserved"],
  },
  [PAGE_FAULT_BEYOND_END_OF_ALLOCATION]: {
    name: "PAGE_FAULT_BEYOND_END_OF_ALLOCATION",
    meaning: "The system accessed memory beyond the end of some driver's pool allocation.",
    parameters: ["Memory address referenced", "0: read, 1: write", "Address that referenced memory (if known)", "Reserved"],
  },
  [DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL]: {
    name: "DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL",
    meaning: "A driver has referenced memory which was earlier freed.",
    parameters: ["Memory address referenced", "0: read, 1: write", "Address that referenced memory (if known)", "Reserved"],
  },
  [DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION]: {
    name: "DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION",
    meaning: "The driver accessed memory beyond the end of its pool allocation.",
    parameters: ["Memory address referenced", "0: read, 1: write", "Address that referenced memory (if known)", "Reserved"],
  },
  [BAD_POOL_CALLER]: {
    name: "BAD_POOL_CALLER",
    meaning: "The current thread made a bad pool request.",
    parameters: ["Type of violation", "Depends on the type", "Depends on the type", "Depends on the type"],
  },
  [DRIVER_VERIFIER_DETECTED_VIOLATION]: {
    name: "DRIVER_VERIFIER_DETECTED_VIOLATION",
    meaning: "Driver Verifier detected a driver breaking a kernel rule.",
    parameters: ["Type of violation", "Depends on the type", "Depends on the type", "Depends on the type"],
  },
  [TIMER_OR_DPC_INVALID]: {
    name: "TIMER_OR_DPC_INVALID",
    meaning: "A kernel timer or DPC was found in memory where it is not permitted (usually a driver unloaded, or freed the memory holding it, without cancelling a timer or DPC).",
    parameters: [
      "0: timer object, 1: DPC object, 2: DPC routine found in the memory range; 3: bad processor number; 4, 5: APC disable count changed by a DPC or timer DPC routine",
      "Address of the timer object, DPC object or DPC routine",
      "Start of memory range being checked",
      "End of memory range being checked",
    ],
  },
  [DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS]: {
    name: "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS",
    meaning: "A driver unloaded without cancelling work that still points into its code (a pending IRP's completion or cancel routine, a timer, a DPC).",
    parameters: ["Memory referenced", "0: read, 1: write", "Address that referenced memory", "Reserved"],
  },
  [DRIVER_VERIFIER_IOMANAGER_VIOLATION]: {
    name: "DRIVER_VERIFIER_IOMANAGER_VIOLATION",
    meaning: "Driver Verifier's I/O verification detected a driver breaking an I/O rule.",
    parameters: ["Type of violation", "Depends on the type", "Depends on the type", "Depends on the type"],
  },
  [DRIVER_IRQL_NOT_LESS_OR_EQUAL]: {
    name: "DRIVER_IRQL_NOT_LESS_OR_EQUAL",
    meaning: "A driver accessed pageable or invalid memory at an IRQL that was too high.",
    parameters: ["Memory referenced", "IRQL at time of reference", "0: read, 1: write, 8: execute", "Address that referenced memory"],
  },
  [DRIVER_VERIFIER_DMA_VIOLATION]: {
    name: "DRIVER_VERIFIER_DMA_VIOLATION",
    meaning: "Driver Verifier's DMA verification detected a misuse of a DMA routine.",
    parameters: ["Type of violation", "Depends on the type", "Depends on the type", "Depends on the type"],
  },
  [WORKER_THREAD_RETURNED_AT_BAD_IRQL]: {
    name: "WORKER_THREAD_RETURNED_AT_BAD_IRQL",
    meaning: "A work item's routine returned to the worker thread at an IRQL above PASSIVE_LEVEL.",
    parameters: ["Address of the worker routine", "IRQL at return", "Work item parameter", "Work item address"],
  },
  [HARDWARE_INTERRUPT_STORM]: {
    name: "HARDWARE_INTERRUPT_STORM",
    meaning: "A level-triggered interrupt kept firing: its ISR did not stop the device from interrupting.",
    parameters: ["Address of the ISR (or first ISR in the chain)", "ISR context value", "Address of the interrupt object", "1 if the ISR is not chained, 2 if it is chained"],
  },
  [DRIVER_RETURNED_HOLDING_CANCEL_LOCK]: {
    name: "DRIVER_RETURNED_HOLDING_CANCEL_LOCK",
    meaning: "A driver returned from a cancel routine still holding the global cancel spin lock.",
    parameters: ["Address of the IRP that was cancelled (might not be valid)", "Address of the cancel routine", "Reserved", "Reserved"],
  },
  [KERNEL_SECURITY_CHECK_FAILURE]: {
    name: "KERNEL_SECURITY_CHECK_FAILURE",
    meaning: "A kernel component has corrupted a critical data structure. The corruption could potentially allow a malicious user to gain control of this machine.",
    parameters: [
      "The type of corruption (3: a LIST_ENTRY has been corrupted, i.e. double remove)",
      "Address of the trap frame for the exception that caused the bug check (0: the machine keeps none)",
      "Address of the exception record for the exception that caused the bug check (0: the machine keeps none)",
      "Reserved",
    ],
  },
  [REGISTRY_FILTER_DRIVER_EXCEPTION]: {
    name: "REGISTRY_FILTER_DRIVER_EXCEPTION",
    meaning: "A registry filtering driver's RegistryCallback routine did not handle an exception.",
    parameters: ["ExceptionCode", "Address of the context record for the exception (0: the machine keeps none)", "The driver's callback routine address", "Internal"],
  },
  [DPC_WATCHDOG_VIOLATION]: {
    name: "DPC_WATCHDOG_VIOLATION",
    meaning: "A DPC or ISR ran longer than the watchdog allows at DISPATCH_LEVEL or above.",
    parameters: [
      "0: a single DPC or ISR exceeded its time allotment, 1: the processor stayed at DISPATCH_LEVEL or above too long (cumulative)",
      "P1 0: the DPC time count; P1 1: the watchdog period (clock ticks of 15.625 ms)",
      "P1 0: the DPC time allotment (clock ticks of 15.625 ms); P1 1: reserved",
      "Reserved",
    ],
  },
};

/** What was running when a machine stopped. */
export interface BugCheckContext {
  /** Driver service name, or "nt" for the kernel itself. */
  driver: string;
  /** The routine that was running (DriverEntry, a dispatch routine, an ISR...). */
  routine: string;
  irql: KIRQL;
  cpu: number;
  /** Simulated time of the stop, picoseconds. */
  timePs: number;
  /** The last trace events before the stop, newest last. */
  lastEvents: string[];
}

/** Formats a 64-bit kernel value as WinDbg prints it (system addresses sign-extended). */
export function formatPointer(value: number | bigint): string {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n;
  if (v >= 1n << 47n && v < 1n << 48n) v |= 0xFFFF000000000000n;
  const hex = v.toString(16).padStart(16, "0");
  return `${hex.slice(0, 8)}\`${hex.slice(8)}`;
}

/** A stopped machine: the bug check code, its parameters and where it happened. */
export class BugCheck extends Error {
  readonly info: BugCheckInfo;
  constructor(
    readonly code: number,
    readonly parameters: [bigint, bigint, bigint, bigint],
    readonly context: BugCheckContext,
    /** The driver's own error, for 0x1E. */
    readonly original?: unknown,
  ) {
    const info = BUGCHECKS[code] ?? { name: `BUGCHECK_${code.toString(16)}`, meaning: "", parameters: ["", "", "", ""] };
    super(`*** STOP: 0x${code.toString(16).toUpperCase().padStart(8, "0")} ${info.name} in ${context.driver}!${context.routine} at ${irqlName(context.irql)} on CPU ${context.cpu}`);
    this.name = "BugCheck";
    this.info = info;
    if (original instanceof Error) this.cause = original;
  }

  /** The bug check's name, e.g. DRIVER_IRQL_NOT_LESS_OR_EQUAL. */
  get bugCheckName(): string {
    return this.info.name;
  }

  /** An !analyze -v style report. */
  analyze(): string {
    const lines = [
      "*******************************************************************************",
      "*                                                                             *",
      "*                        Bugcheck Analysis                                    *",
      "*                                                                             *",
      "*******************************************************************************",
      "",
      `${this.info.name} (${this.code.toString(16)})`,
      this.info.meaning,
      "Arguments:",
    ];
    this.parameters.forEach((p, i) => lines.push(`Arg${i + 1}: ${formatPointer(p)}, ${this.info.parameters[i]}`));
    lines.push(
      "",
      `PROCESS_NAME:  System`,
      `CURRENT_IRQL:  ${this.context.irql} (${irqlName(this.context.irql)})`,
      `PROCESSOR:     ${this.context.cpu}`,
      `TIME:          ${(this.context.timePs / 1e6).toFixed(3)} us simulated`,
      `FAILURE_BUCKET_ID:  0x${this.code.toString(16).toUpperCase()}_${this.context.driver}!${this.context.routine}`,
      `MODULE_NAME:   ${this.context.driver}`,
      `SYMBOL_NAME:   ${this.context.driver}!${this.context.routine}`,
    );
    if (this.original !== undefined) {
      const o = this.original as Error;
      lines.push("", "ORIGINAL_EXCEPTION:", `  ${o?.stack ?? String(o)}`);
    }
    if (this.context.lastEvents.length > 0) {
      lines.push("", "LAST_EVENTS:", ...this.context.lastEvents.map((e) => `  ${e}`));
    }
    return lines.join("\n");
  }
}
