// Event kinds of the core's queue, and how each uses the Event fields (sim/queue.ts).

/** Device-internal event: target = function, a = device event code, b = argument. */
export const EV_DEVICE: u32 = 1;
/** A posted MMIO write reaches a device: target = function, a = bar << 40 | size << 32 | offset, b = value. */
export const EV_MMIO_WRITE: u32 = 2;
/** A device's posted memory write lands: target = function, a = bus address, b = length << 32 | source (linear). */
export const EV_MEM_WRITE: u32 = 3;
/** A device's interrupt message lands: target = function, a = address, b = data. */
export const EV_MESSAGE: u32 = 4;
/** An interrupt message held back by an injected fault leaves the device: target = function, a = address, b = data. */
export const EV_DELAYED_MESSAGE: u32 = 5;
/** An injected fault's timer: target = function, a = FAULT_TIMER_* (irq/intx.ts). */
export const EV_FAULT_TIMER: u32 = 6;
