/**
 * Processes coming and going: the process manager's list of active processes, and what
 * happens when a user process starts and ends (its image is mapped, the process and
 * thread callbacks are told). The model runs a user program as a process whose main
 * thread is the program: the process starts when that thread first runs (the callbacks
 * run in it, at PASSIVE_LEVEL) and ends when it returns.
 */
import type { Kernel } from "../ke/kernel.js";
import { NT_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import type { KPROCESS, KTHREAD } from "../ke/scheduler.js";
import { MM } from "../mm/manager.js";
import { PS } from "./manager.js";
import { IMAGE_INFO } from "./notify-types.js";
import { notifyImageLoad, notifyProcessCreate, notifyProcessExit, notifyThread } from "./notify.js";
import { CLIENT_ID } from "./thread.js";

/** PsActiveProcessHead: the processes that have not ended, System first. */
export function activeProcesses(k: Kernel): readonly KPROCESS[] {
  return PS(k).processes;
}

/** Adds a new process to the active list (its parent: the process that created it, or none). */
export function processCreated(k: Kernel, process: KPROCESS, parent: KPROCESS | null): void {
  const ps = PS(k);
  ps.processes.push(process);
  ps.parents.set(process, parent?.UniqueProcessId ?? 0);
}

/**
 * In the new process's main thread, before the program runs: the executable's image-load
 * callbacks, the process-creation callbacks and the thread-creation callbacks. Returns the
 * creation status (a callback's error ends the process before the program runs).
 */
export function userProcessStarting(k: Kernel, process: KPROCESS, main: KTHREAD, CommandLine: string): NTSTATUS {
  const ps = PS(k);
  notifyImageLoad(k, `\\Device\\HarddiskVolume1\\Programs\\${process.ImageFileName}.exe`, process.UniqueProcessId, new IMAGE_INFO(false, 0x140000000));
  const status = notifyProcessCreate(k, process, ps.parents.get(process) ?? MM(k).systemProcess.UniqueProcessId, new CLIENT_ID(MM(k).systemProcess.UniqueProcessId, 0), CommandLine);
  if (NT_SUCCESS(status)) notifyThread(k, process.UniqueProcessId, main.ThreadId, true);
  return status;
}

/** When the last thread of a user process has ended: the process-exit callbacks run (when it had `started`) and it leaves the active list. */
export function userProcessEnded(k: Kernel, process: KPROCESS, started: boolean): void {
  if (started) notifyProcessExit(k, process);
  const list = PS(k).processes;
  const i = list.indexOf(process);
  if (i >= 0) list.splice(i, 1);
}
