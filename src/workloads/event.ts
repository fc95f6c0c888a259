/**
 * The event workload: the WDM event sample's console program (EventTest,
 * src/drivers/samples/event/eventtest.ts) as a user runs it under a kernel debugger
 * ("event 1 1", then "event 1 0"): it installs the event driver, has it signal its event
 * (then complete its pending IOCTL) from a timer DPC once a second until a key is pressed
 * 2.5 seconds in, then removes the driver. The driver's DebugPrint output goes to the
 * debugger (`--debug-output`; the "checked" machine's Debug Print Filter lets it through).
 */
import { PS_PER_SECOND } from "../ke/time.js";
import { CM } from "../cm/registry.js";
import { serviceKeyPath } from "../cm/service-key.js";
import { ConsoleOutput } from "../drivers/samples/common/crt.js";
import { ConsoleInput } from "../drivers/samples/common/console-input.js";
import { main } from "../drivers/samples/event/eventtest.js";
import { DRIVER_NAME } from "../drivers/samples/event/public.js";
import { IO } from "../io/manager.js";
import { KD } from "../ke/debug-print.js";
import type { Machine } from "../machine/machine.js";
import type { BootedKernel } from "../pnp/boot.js";

/** When the user presses a key, seconds after the program starts. */
const KEY_PRESS_SECONDS = 2.5;

/** What the workload did. */
export interface EventWorkloadResult {
  /** The lines EventTest printed, event based then IRP based. */
  output: string[];
  /** Notifications the program received (events signalled, IOCTLs completed). */
  notifications: number;
  /** The event service is gone and its driver unloaded at the end. */
  removed: boolean;
  /** Both runs were notified and the driver was removed. */
  ok: boolean;
}

/** Runs EventTest event based, then IRP based, on `machine`. */
export async function runEventWorkload(machine: Machine): Promise<EventWorkloadResult> {
  const k = (machine.kernel as BootedKernel).k;
  KD(k).attached = true;
  const output: string[] = [];
  for (const type of ["1", "0"]) {
    const stdout = new ConsoleOutput();
    const keyboard = new ConsoleInput(k.cpu.time + KEY_PRESS_SECONDS * PS_PER_SECOND);
    await machine.runProgram("event", () => main(["event", "1", type], stdout, keyboard));
    output.push(`> event 1 ${type}`, ...stdout.lines());
  }
  const removed = CM(k).find(serviceKeyPath(DRIVER_NAME)) === undefined && !IO(k).drivers.has(DRIVER_NAME);
  const signalled = output.filter((l) => l === "Event signalled.").length;
  const occurred = output.filter((l) => l === "Event occurred.").length;
  return { output, notifications: signalled + occurred, removed, ok: removed && signalled > 0 && occurred > 0 };
}

/** The summary's lines: the program's output, then the outcome. */
export function formatEventResult(r: EventWorkloadResult): string[] {
  return [
    ...r.output.map((l) => `  ${l}`),
    "",
    `  notifications              ${r.notifications}`,
    `  driver removed             ${r.removed ? "yes" : "no"}`,
    `  result                     ${r.ok ? "OK" : "FAILED"}`,
  ];
}
