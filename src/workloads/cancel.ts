/**
 * The cancel workload: the WDM cancel sample's console program (src/drivers/samples/cancel/
 * testapp.ts) as a user runs it with two reader threads: it installs the cancel driver,
 * the readers read the device with ReadFileEx while the driver's polling thread serves its
 * cancel-safe queue, the user types 'q' three seconds in and the readers finish, then the
 * driver is removed. The driver's debug output goes to the debugger (`--debug-output`;
 * the "checked" machine's Debug Print Filter lets it through).
 */
import { CM } from "../cm/registry.js";
import { serviceKeyPath } from "../cm/service-key.js";
import { ConsoleOutput } from "../drivers/samples/common/crt.js";
import { ConsoleInput } from "../drivers/samples/cancel/console-input.js";
import { DRIVER_NAME, main } from "../drivers/samples/cancel/testapp.js";
import { IO } from "../io/manager.js";
import type { Machine } from "../machine/machine.js";
import type { BootedKernel } from "../pnp/boot.js";

/** Reader threads the program starts. */
const THREADS = 2;
/** When the user types 'q', ms after the program starts reading the console. */
const QUIT_AFTER_MS = 3000;

/** What the workload did. */
export interface CancelWorkloadResult {
  /** The lines the program printed. */
  output: string[];
  /** Reads that completed with their 4 bytes. */
  reads: number;
  /** The service is gone and its driver unloaded at the end. */
  removed: boolean;
  /** The program's exit code (1: it ends with ExitProcess(1)). */
  ExitCode: number;
  /** Reads completed, every reader exited, and the driver was removed. */
  ok: boolean;
}

/** Runs the program once on `machine`. */
export async function runCancelWorkload(machine: Machine): Promise<CancelWorkloadResult> {
  const stdout = new ConsoleOutput();
  // testapp ends with ExitProcess(1), as its C does.
  const { ExitCode } = await machine.runProcess("testapp", () => main(["testapp", String(THREADS)], stdout, new ConsoleInput("q\n", QUIT_AFTER_MS)));
  const k = (machine.kernel as BootedKernel).k;
  const removed = CM(k).find(serviceKeyPath(DRIVER_NAME)) === undefined && !IO(k).drivers.has(DRIVER_NAME);
  const output = stdout.lines();
  const reads = output.filter((l) => /read: 4 bytes$/.test(l)).length;
  const exited = output.filter((l) => /^Exiting thread \d+ $/.test(l)).length;
  return { output, reads, removed, ExitCode, ok: removed && reads > 0 && exited === THREADS && ExitCode === 1 };
}

/** The summary's lines: the program's output, then the outcome. */
export function formatCancelResult(r: CancelWorkloadResult): string[] {
  return [
    ...r.output.map((l) => `  ${l}`),
    "",
    `  reads completed            ${r.reads}`,
    `  driver removed             ${r.removed ? "yes" : "no"}`,
    `  exit code                  ${r.ExitCode}`,
    `  result                     ${r.ok ? "OK" : "FAILED"}`,
  ];
}
