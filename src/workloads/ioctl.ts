/**
 * The ioctl workload: the WDM IOCTL sample's console program (IOCTLAPP,
 * src/drivers/samples/ioctl/testapp.ts) as a user runs it. It installs and starts the
 * SIoctl legacy driver through the Service Control Manager, sends METHOD_BUFFERED,
 * METHOD_NEITHER, METHOD_IN_DIRECT and METHOD_OUT_DIRECT requests, prints the driver's
 * replies, then stops and removes the driver. The driver's KdPrint output goes to the
 * debugger (`--debug-output`; the "checked" machine's Debug Print Filter lets it through).
 */
import { CM } from "../cm/registry.js";
import { serviceKeyPath } from "../cm/service-key.js";
import { ConsoleOutput } from "../drivers/samples/common/crt.js";
import { DRIVER_NAME } from "../drivers/samples/ioctl/sioctl-public.js";
import { main } from "../drivers/samples/ioctl/testapp.js";
import { IO } from "../io/manager.js";
import type { Machine } from "../machine/machine.js";
import type { BootedKernel } from "../pnp/boot.js";

/** The driver's reply the program prints for the requests that read from the driver. */
const DRIVER_REPLY = "    OutBuffer (38): This String is from Device Driver !!!";
/** What the program prints for METHOD_IN_DIRECT (the driver read the whole output buffer). */
const IN_DIRECT_REPLY = "    Number of bytes transfered from OutBuffer: 100";

/** What the workload did. */
export interface IoctlWorkloadResult {
  /** The lines IOCTLAPP printed. */
  output: string[];
  /** The SIoctl service is gone and its driver unloaded at the end. */
  removed: boolean;
  /** The program printed the driver's three replies and the IN_DIRECT byte count, and the driver was removed. */
  ok: boolean;
}

/** Runs IOCTLAPP once on `machine`. */
export async function runIoctlWorkload(machine: Machine): Promise<IoctlWorkloadResult> {
  const stdout = new ConsoleOutput();
  await machine.runProgram("ioctlapp", () => main(["ioctlapp"], stdout));
  const k = (machine.kernel as BootedKernel).k;
  const removed = CM(k).find(serviceKeyPath(DRIVER_NAME)) === undefined && !IO(k).drivers.has(DRIVER_NAME);
  const output = stdout.lines();
  const ok = removed && output.filter((l) => l === DRIVER_REPLY).length === 3 && output.includes(IN_DIRECT_REPLY);
  return { output, removed, ok };
}

/** The summary's lines: the program's output, then the outcome. */
export function formatIoctlResult(r: IoctlWorkloadResult): string[] {
  return [
    ...r.output.map((l) => `  ${l}`),
    "",
    `  driver removed             ${r.removed ? "yes" : "no"}`,
    `  result                     ${r.ok ? "OK" : "FAILED"}`,
  ];
}
