// The run loop: pops events in (time, priority, sequence) order and dispatches them to
// the bus, the DMA port or a device model. It returns to TypeScript only when the kernel
// is needed (an interrupt became deliverable, the trace ring is full, a fault) or at the
// time limit.

import { CURRENT_EVENT_BASE } from "../memmap";
import { core, count, C_EVENTS, STOP_FAULT, STOP_INTERRUPT, STOP_TRACE_FULL } from "./core";
import { Event, pop, peekTime } from "./queue";
import { EV_DEVICE, EV_MEM_WRITE, EV_MESSAGE, EV_MMIO_WRITE, EV_DELAYED_MESSAGE, EV_FAULT_TIMER } from "./events";
import { deviceEvent } from "../devices/index";
import { landMessage, landWrite, sendMessage } from "../dma/port";
import { intxFaultTimer } from "../irq/intx";
import { deliverMmioWrite } from "../pci/bus";

/** run() result: the time limit was reached. */
export const RUN_LIMIT: u32 = 0;
/** run() result bit: an interrupt is deliverable to some CPU. */
export const RUN_INTERRUPT: u32 = STOP_INTERRUPT;
/** run() result bit: the trace ring must be drained. */
export const RUN_TRACE_FULL: u32 = STOP_TRACE_FULL;
/** run() result bit: the core faulted (see CoreState.fault). */
export const RUN_FAULT: u32 = STOP_FAULT;

/** Where the event being dispatched is copied. */
const current = changetype<Event>(CURRENT_EVENT_BASE);

/** The current-event record (CURRENT_EVENT_BASE): the event being dispatched, or the last one popped. */
export function currentEvent(): Event {
  return current;
}

/** Time value meaning "no limit". */
export const NO_LIMIT: u64 = 0xFFFFFFFFFFFFFFFF;

function dispatch(e: Event): void {
  const kind = e.kind;
  if (kind == EV_DEVICE) deviceEvent(e.target, <u32>e.a, e.b);
  else if (kind == EV_MMIO_WRITE) deliverMmioWrite(e.target, <u32>(e.a >> 40), <u32>(e.a >> 32) & 0xFF, <u32>e.a, e.b);
  else if (kind == EV_MEM_WRITE) landWrite(e.target, e.a, <usize>(e.b & 0xFFFFFFFF), <u32>(e.b >> 32));
  else if (kind == EV_MESSAGE) landMessage(e.target, e.a, <u32>e.b);
  else if (kind == EV_DELAYED_MESSAGE) sendMessage(e.target, e.a, <u32>e.b);
  else if (kind == EV_FAULT_TIMER) intxFaultTimer(e.target, <u32>e.a);
}

/**
 * Processes every event at or before `until` (ps). With `stopForKernel`, returns early
 * (RUN_* bits) after an event that needs the kernel; otherwise runs to the limit.
 * Time advances to `until` when the limit is reached.
 */
export function runUntil(until: u64, stopForKernel: bool): u32 {
  if (stopForKernel) core.stopFlags = 0;
  let processed: u32 = 0;
  while (core.eventCount > 0 && peekTime() <= until) {
    pop(current);
    if (current.time > core.nowPs) {
      core.nowPs = current.time;
      core.nowF64 = <f64>current.time;
    }
    dispatch(current);
    processed++;
    if (stopForKernel && core.stopFlags != 0) {
      count(C_EVENTS, <f64>processed);
      return core.stopFlags;
    }
  }
  count(C_EVENTS, <f64>processed);
  if (until != NO_LIMIT && core.nowPs < until) {
    core.nowPs = until;
    core.nowF64 = <f64>until;
  }
  return stopForKernel ? core.stopFlags : RUN_LIMIT;
}
