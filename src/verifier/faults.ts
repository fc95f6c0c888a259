/**
 * Faults a machine file schedules ("faults"): each is applied at its simulated time
 * after power-on, from the clock's timer, and noted in the trace — a device's interrupts
 * dropped, duplicated or delayed, its DMA transfers failing as Unsupported Request or
 * Completer Abort, an NVMe controller's hung commands, fatal status, error completions or
 * media errors (Machine.injectFault; armed then, they hit the Nth matching event or each
 * one by a chance drawn from the machine's seed, and each hit is in the trace), a device pulled
 * out without warning (the hardware first, then the kernel is told, as a hot-plug
 * controller would), or a driver's next pool allocations failing. The same file injects
 * the same faults at the same moments every run.
 */
import type { Kernel } from "../ke/kernel.js";
import { HAL } from "../hal/hal.js";
import { TRACK_CPU } from "../trace/recorder.js";
import type { FaultDescription } from "../machine/firmwareFiles.js";
import { failNextPoolAllocations } from "./low-resources.js";

/** Arms the machine file's faults on a booting kernel. */
export function scheduleFaults(k: Kernel): void {
  for (const fault of k.machine.description.faults) k.scheduler.addTimer(fault.atPs, () => applyFault(k, fault), fault);
}

/** Puts an injected fault in the trace (an instant on the CPU's track) and in the notes a bug check report shows. */
export function noteFault(k: Kernel, what: string, driver: string): void {
  k.recorder.note(k.cpu.time, what, driver, "", k.cpu.Number);
  k.recorder.instant(TRACK_CPU, k.cpu.Number, what, "fault", k.cpu.time);
}

/** Applies one fault now. */
function applyFault(k: Kernel, fault: FaultDescription): void {
  const where = fault.device ? ` at ${fault.device}` : fault.driver ? ` for ${fault.driver}` : "";
  noteFault(k, `fault: ${fault.kind}${where}`, "");
  switch (fault.kind) {
    case "surpriseRemove":
      return HAL(k).presenceChanged(k.machine.pullFunction(fault.device!));
    case "failPool":
      return failNextPoolAllocations(k, fault.driver!, fault.count ?? 1);
    default:
      return k.machine.injectFault(fault.device!, fault.hardware!);
  }
}
