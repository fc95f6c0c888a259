/**
 * The progress line `wdmsim run` keeps on a terminal during a long run: simulated time
 * reached, device events per host second, host time — rewritten in place twice a second,
 * and erased when the run ends. Only on a TTY and never with --json, so piped and
 * machine-read output is unchanged.
 */
import type { Machine } from "../machine/machine.js";
import type { BootedKernel } from "../pnp/boot.js";
import { formatPs } from "../ke/scheduler.js";

/** Shows progress of `machine`'s run on `stream` until the returned function is called. */
export function showProgress(machine: Machine, stream: NodeJS.WriteStream): () => void {
  const scheduler = (machine.kernel as BootedKernel).k.scheduler;
  const started = performance.now();
  let lastMs = started;
  let lastEvents = machine.core.counters().events;
  let shown = false;
  scheduler.onProgress = () => {
    const now = performance.now();
    const events = machine.core.counters().events;
    const rate = ((events - lastEvents) * 1000) / Math.max(1, now - lastMs);
    lastMs = now;
    lastEvents = events;
    stream.write(`\r\x1b[K  simulated ${formatPs(machine.nowPs)}   ${formatRate(rate)} events/s   host ${((now - started) / 1000).toFixed(1)} s`);
    shown = true;
  };
  return () => {
    scheduler.onProgress = null;
    if (shown) stream.write("\r\x1b[K");
  };
}

/** A rate with k/M suffixes. */
function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k`;
  return perSecond.toFixed(0);
}
