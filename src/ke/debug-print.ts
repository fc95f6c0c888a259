/**
 * Debug output: DbgPrint, DbgPrintEx, KdPrint, KdPrintEx, and the checks that report
 * through the debugger: ASSERT, NT_ASSERT and PAGED_CODE, as a checked (DBG) build of a
 * driver has them.
 *
 * A message goes to the kernel debugger (the run's debug output: the trace and
 * `wdmsim run --debug-output`, which prints it as DebugView does) when its level passes
 * the component's filter, as Windows filters it: a Level of 0-31 is the bit 1 << Level,
 * a larger Level is a mask itself; the message passes when that mask meets the
 * component's mask or the WIN2000 mask. The masks come from the registry key
 * HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Debug Print Filter at boot (a
 * REG_DWORD per component, named as in DPFLTR_<NAME>_ID: "DEFAULT", "IHVDRIVER", ..., and
 * "WIN2000"); unset, a component's mask is 0 and WIN2000's is 1 (errors only). DbgPrint
 * is DbgPrintEx(DPFLTR_DEFAULT_ID, DPFLTR_INFO_LEVEL, ...): hidden unless DEFAULT's mask
 * has bit 3, as on Windows since Vista.
 *
 * Formats are printf's, as the narrow ntstrsafe routines take them (src/rtl/format.ts):
 * %s and %c ANSI, %S %ws %wZ wide, %d %u %x %p ...; a message longer than 512 bytes is cut
 * there, as the kernel's buffer cuts it.
 */
import { formatAnsi, type FormatArgument } from "../rtl/format.js";
import { BoundedLog } from "../trace/bounded-log.js";
import { APC_LEVEL } from "./irql.js";
import { KE, type Kernel } from "./kernel.js";
import { NtStatusException, STATUS_ASSERTION_FAILURE, STATUS_BREAKPOINT, STATUS_INVALID_PARAMETER, STATUS_SUCCESS, type NTSTATUS } from "./ntstatus.js";

/** DPFLTR_TYPE: the components a message can name (dpfilter.h values). */
export const DPFLTR_SYSTEM_ID = 0;
export const DPFLTR_CLASSPNP_ID = 8;
export const DPFLTR_DISK_ID = 9;
export const DPFLTR_SCSIPORT_ID = 12;
export const DPFLTR_SCSIMINIPORT_ID = 13;
export const DPFLTR_ACPI_ID = 24;
export const DPFLTR_PNPMGR_ID = 35;
export const DPFLTR_PCI_ID = 66;
export const DPFLTR_IHVDRIVER_ID = 77;
export const DPFLTR_IHVVIDEO_ID = 78;
export const DPFLTR_IHVAUDIO_ID = 79;
export const DPFLTR_IHVNETWORK_ID = 80;
export const DPFLTR_IHVSTREAMING_ID = 81;
export const DPFLTR_IHVBUS_ID = 82;
export const DPFLTR_STORPORT_ID = 89;
export const DPFLTR_STORMINIPORT_ID = 90;
export const DPFLTR_VERIFIER_ID = 93;
export const DPFLTR_DEFAULT_ID = 101;

/** The registry value name of each component's mask (DPFLTR_<NAME>_ID without the affixes). */
export const DPFLTR_COMPONENT_NAMES: Readonly<Record<number, string>> = {
  [DPFLTR_SYSTEM_ID]: "SYSTEM", [DPFLTR_CLASSPNP_ID]: "CLASSPNP", [DPFLTR_DISK_ID]: "DISK", [DPFLTR_SCSIPORT_ID]: "SCSIPORT",
  [DPFLTR_SCSIMINIPORT_ID]: "SCSIMINIPORT", [DPFLTR_ACPI_ID]: "ACPI", [DPFLTR_PNPMGR_ID]: "PNPMGR", [DPFLTR_PCI_ID]: "PCI",
  [DPFLTR_IHVDRIVER_ID]: "IHVDRIVER", [DPFLTR_IHVVIDEO_ID]: "IHVVIDEO", [DPFLTR_IHVAUDIO_ID]: "IHVAUDIO", [DPFLTR_IHVNETWORK_ID]: "IHVNETWORK",
  [DPFLTR_IHVSTREAMING_ID]: "IHVSTREAMING", [DPFLTR_IHVBUS_ID]: "IHVBUS", [DPFLTR_STORPORT_ID]: "STORPORT",
  [DPFLTR_STORMINIPORT_ID]: "STORMINIPORT", [DPFLTR_VERIFIER_ID]: "VERIFIER", [DPFLTR_DEFAULT_ID]: "DEFAULT",
};

/** The registry value that holds the mask every component also passes with. */
export const WIN2000_MASK_NAME = "WIN2000";

// Levels.
export const DPFLTR_ERROR_LEVEL = 0;
export const DPFLTR_WARNING_LEVEL = 1;
export const DPFLTR_TRACE_LEVEL = 2;
export const DPFLTR_INFO_LEVEL = 3;
/** A Level with this bit is a mask of levels, not a level number. */
export const DPFLTR_MASK = 0x80000000;

/** Bytes of a message the kernel keeps (the rest is cut). */
export const DEBUG_MESSAGE_BYTES = 512;
/** Messages a run keeps for its debug output (the latest ones; older ones are counted). */
const DEBUG_LOG_MESSAGES = 100_000;

/** A message the debugger received. */
export interface DebugMessage {
  /** Simulated time, ps. */
  timePs: number;
  cpu: number;
  /** The driver that printed it. */
  driver: string;
  text: string;
}

/** The kernel debugger's side of one machine: the filter masks and what it received. */
export class KernelDebugger {
  /** Component masks by DPFLTR_*_ID (0 when unset). */
  readonly componentMasks = new Map<number, number>();
  /** A kernel debugger is connected (the machine was booted with debugging on): it takes breakpoints and resumes. */
  attached = false;
  /** Kd_WIN2000_Mask. */
  win2000Mask = 1 << DPFLTR_ERROR_LEVEL;
  /** Messages that passed the filter. */
  readonly output = new BoundedLog<DebugMessage>(DEBUG_LOG_MESSAGES, "latest");

  /** True when a message of `level` from `component` passes the filter. */
  passes(component: number, level: number): boolean {
    const unsigned = level >>> 0;
    const mask = unsigned <= 31 ? 1 << unsigned : unsigned & ~DPFLTR_MASK;
    return ((mask & ((this.componentMasks.get(component) ?? 0) | this.win2000Mask)) >>> 0) !== 0;
  }
}

/** The machine's kernel debugger (made on first use). */
export function KD(k: Kernel): KernelDebugger {
  let d = k.services.get("kd") as KernelDebugger | undefined;
  if (!d) {
    d = new KernelDebugger();
    k.services.set("kd", d);
  }
  return d;
}

/** Sends a message to the debugger (trace and debug output), cut to DEBUG_MESSAGE_BYTES. */
function send(k: Kernel, text: string): void {
  const message = text.length > DEBUG_MESSAGE_BYTES ? text.slice(0, DEBUG_MESSAGE_BYTES) : text;
  const who = k.attribution();
  KD(k).output.add({ timePs: k.cpu.time, cpu: k.cpu.Number, driver: who.driver, text: message });
  k.recorder.note(k.cpu.time, `DbgPrint: ${message.replace(/\n$/, "")}`, who.driver, who.routine, k.cpu.Number);
}

/**
 * DbgPrintEx(ComponentId, Level, Format, ...): sends the formatted message when it passes
 * the component's filter. STATUS_SUCCESS, or STATUS_INVALID_PARAMETER for a format it
 * cannot use (nothing is sent).
 */
export function DbgPrintEx(ComponentId: number, Level: number, Format: string, ...args: FormatArgument[]): NTSTATUS {
  const k = KE();
  if (!KD(k).passes(ComponentId, Level)) return STATUS_SUCCESS;
  const text = formatAnsi(Format, args);
  if (text === null) return STATUS_INVALID_PARAMETER;
  send(k, text);
  return STATUS_SUCCESS;
}

/** DbgPrint(Format, ...): DbgPrintEx(DPFLTR_DEFAULT_ID, DPFLTR_INFO_LEVEL, Format, ...). */
export function DbgPrint(Format: string, ...args: FormatArgument[]): NTSTATUS {
  return DbgPrintEx(DPFLTR_DEFAULT_ID, DPFLTR_INFO_LEVEL, Format, ...args);
}

/** KdPrint((Format, ...)): DbgPrint in a checked build (C's double parentheses become one call). */
export function KdPrint(Format: string, ...args: FormatArgument[]): NTSTATUS {
  return DbgPrint(Format, ...args);
}

/** KdPrintEx((ComponentId, Level, Format, ...)): DbgPrintEx in a checked build. */
export function KdPrintEx(ComponentId: number, Level: number, Format: string, ...args: FormatArgument[]): NTSTATUS {
  return DbgPrintEx(ComponentId, Level, Format, ...args);
}

/**
 * ASSERT(Expression): when false, the kernel prints "*** Assertion failed: <text>" (with
 * the source file and line when given) and breaks into the debugger: with none attached,
 * the breakpoint is an exception no one handles, 0x1E KMODE_EXCEPTION_NOT_HANDLED with
 * P1 STATUS_BREAKPOINT. `text` is the expression as written (C's #exp).
 */
export function ASSERT(Expression: unknown, text = "", file = "", line = 0): void {
  if (Expression) return;
  const k = KE();
  send(k, `*** Assertion failed: ${text}\n***   Source File: ${file}, line ${line}\n\n`);
  throw new NtStatusException(STATUS_BREAKPOINT);
}

/**
 * ASSERTMSG(Message, Expression): ASSERT with `Message` printed before the expression
 * ("*** Assertion failed: <Message><text>"); when false, a breakpoint no one handles is
 * 0x1E KMODE_EXCEPTION_NOT_HANDLED with P1 STATUS_BREAKPOINT.
 */
export function ASSERTMSG(Message: string, Expression: unknown, text = "", file = "", line = 0): void {
  ASSERT(Expression, `${Message}${text}`, file, line);
}

/**
 * DbgBreakPoint(): breaks into the kernel debugger. With one attached (KD(k).attached) it
 * reports "Break instruction exception - code 80000003 (first chance)" and the debugger
 * resumes the code (as `g` does); with none, the breakpoint exception is not handled:
 * 0x1E KMODE_EXCEPTION_NOT_HANDLED with P1 STATUS_BREAKPOINT.
 */
export function DbgBreakPoint(): void {
  const k = KE();
  if (!KD(k).attached) throw new NtStatusException(STATUS_BREAKPOINT);
  send(k, "Break instruction exception - code 80000003 (first chance)\n");
}

/**
 * NT_ASSERT(Expression): when false, raises STATUS_ASSERTION_FAILURE (the debugger shows
 * the expression); unhandled, that is 0x1E KMODE_EXCEPTION_NOT_HANDLED with P1
 * STATUS_ASSERTION_FAILURE.
 */
export function NT_ASSERT(Expression: unknown, text = ""): void {
  if (Expression) return;
  const k = KE();
  send(k, `Assertion failure - code c0000420 (first chance)\n${text ? `${text}\n` : ""}`);
  throw new NtStatusException(STATUS_ASSERTION_FAILURE);
}

/**
 * PAGED_CODE(): the check a checked build puts at the top of pageable routines: at an
 * IRQL above APC_LEVEL it prints "EX: Pageable code called at IRQL n" and fails
 * NT_ASSERT (code in pageable sections may not run where page faults cannot be taken).
 */
export function PAGED_CODE(): void {
  const k = KE();
  const irql = k.cpu.irql;
  if (irql <= APC_LEVEL) return;
  send(k, `EX: Pageable code called at IRQL ${irql}\n`);
  NT_ASSERT(false, "PAGED_CODE()");
}
