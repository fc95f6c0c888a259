/**
 * !handle [Handle [Flags [Process]]]: a process's handle table as WinDbg prints it in
 * kernel mode — the process, then each handle (or only `Handle`; 0 for all) with its
 * object, granted access and table entry, and with Flags bit 0x2 (set by default, 0x3) the
 * object's details. Process is a process id or a process object's address; the default is
 * the System process, whose table is the kernel handle table.
 */
import { decodeKernelHandle, isKernelHandleValue, type HANDLE_TABLE } from "../ob/handle-table.js";
import { OB } from "../ob/manager.js";
import { activeProcesses } from "../ps/process.js";
import { PS } from "../ps/manager.js";
import type { KPROCESS } from "../ke/scheduler.js";
import { InspectError, expectAtMost, parseFlags, parseNumber } from "./args.js";
import { ptr, type InspectContext } from "./context.js";
import { objectHeaderLines } from "./object.js";

const USAGE = "!handle [Handle [Flags [Process]]]  (Handle 0: all; Flags 0x2 object details; Process: a process id or address)";

/** A parsed !handle command. */
export interface HandleArgs {
  /** Handle value (0: all). */
  handle: bigint;
  flags: number;
  process: bigint | null;
}

/** Parses !handle's arguments. */
export function parseHandle(words: string[]): HandleArgs {
  expectAtMost(words, 3, USAGE);
  const handle = words.length > 0 ? parseNumber(words[0]) : 0n;
  if (handle === undefined) throw new InspectError(`!handle: "${words[0]}" is not a handle value; usage: ${USAGE}`);
  const flags = words.length > 1 ? parseFlags(words[1], "!handle Flags", 0xFF) : 0x3;
  const process = words.length > 2 ? parseNumber(words[2]) : null;
  if (process === undefined) throw new InspectError(`!handle: "${words[2]}" is not a process id or address; usage: ${USAGE}`);
  return { handle, flags, process };
}

const hex = (v: number, width: number) => (v >>> 0).toString(16).padStart(width, "0");

function findProcess(ctx: InspectContext, id: bigint | null): KPROCESS {
  const processes = activeProcesses(ctx.k);
  if (id === null) return processes[0];
  const ob = OB(ctx.k);
  const p = processes.find((x) => BigInt(x.UniqueProcessId) === id || BigInt(ob.headerOf(x)?.bodyAddress ?? -1) === (id & 0xFFFFFFFFFFFFn));
  if (!p) throw new InspectError(`!handle: no process has id or address ${id.toString(16)} (processes: ${processes.map((x) => `${x.ImageFileName} ${hex(x.UniqueProcessId, 4)}`).join(", ")})`);
  return p;
}

/** The index a handle argument stands for in `table` (a kernel handle's value with its kernel bit). */
function indexOf(handle: bigint): number {
  const signed = handle >= 1n << 63n ? handle - (1n << 64n) : handle;
  const n = Number(signed);
  return isKernelHandleValue(n) ? decodeKernelHandle(n) : n;
}

/** Runs !handle. */
export function handle(ctx: InspectContext, args: HandleArgs): string {
  const ob = OB(ctx.k);
  const process = findProcess(ctx, args.process);
  const table: HANDLE_TABLE = ob.handleTableOf(process);
  const parent = PS(ctx.k).parents.get(process) ?? 0;
  const out = [
    `PROCESS ${ptr(ob.headerOf(process)?.bodyAddress ?? 0)}`,
    `    SessionId: none  Cid: ${hex(process.UniqueProcessId, 4)}    Peb: 00000000  ParentCid: ${hex(parent, 4)}`,
    `    DirBase: ${hex(process.DirectoryTableBase, 8)}  ObjectTable: ${ptr(table.address)}  HandleCount: ${table.HandleCount.toString().padStart(4)}.`,
    `    Image: ${process.ImageFileName}`,
    "",
    `${table.kernel ? "Kernel handle table" : "Handle table"} at ${ptr(table.address)} with ${table.HandleCount} entries in use`,
  ];
  const wanted = args.handle === 0n ? null : indexOf(args.handle);
  for (const [index, e] of table.list()) {
    if (wanted !== null && (wanted & ~3) !== index) continue;
    const attributes = (e.Attributes & 0x2) !== 0 ? " (Inherit)" : "";
    out.push("", `${hex(index, 4)}: Object: ${ptr(e.Object.bodyAddress)}  GrantedAccess: ${hex(e.GrantedAccess, 8)}${attributes} Entry: ${ptr(table.address + index * 4)}`);
    if (args.flags & 0x2) out.push(...objectHeaderLines(ctx, e.Object, "        ").map((l, i) => (i === 1 ? l.replace(/^ {8}/, "    ") : l)));
  }
  if (wanted !== null && !table.entry(wanted)) out.push("", `Handle ${hex(wanted, 4)} is not in the table.`);
  return out.join("\n");
}
