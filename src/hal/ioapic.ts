/**
 * The HAL's side of line-based interrupts: it programs the I/O APIC redirection entry of
 * an input (level-triggered, active low as PCI INTx is, fixed delivery of the input's
 * vector to one processor's APIC) when a driver connects to it, and masks it when the
 * last connection goes.
 */
import { MmMapIoSpace, MEMORY_CACHING_TYPE } from "../mm/physical.js";
import { HAL } from "./hal.js";
import { WRITE_REGISTER_ULONG } from "./registers.js";

const IOREGSEL = 0x00;
const IOWIN = 0x10;
const REDIRECTION = 0x10;
const LEVEL = 1 << 15;
const ACTIVE_LOW = 1 << 13;
const MASKED = 1 << 16;

function write(register: number, value: number): void {
  const hal = HAL();
  if (hal.ioApicVa === 0) {
    const io = hal.platform.ioApics[0];
    if (!io) throw new Error("the firmware describes no I/O APIC");
    hal.ioApicVa = MmMapIoSpace(io.address, 0x1000, MEMORY_CACHING_TYPE.MmNonCached);
  }
  WRITE_REGISTER_ULONG(hal.ioApicVa + IOREGSEL, register);
  WRITE_REGISTER_ULONG(hal.ioApicVa + IOWIN, value >>> 0);
}

/** Routes I/O APIC input `gsi` to `vector` on the processor with APIC ID `apicId`, level-triggered, unmasked. */
export function enableLine(gsi: number, vector: number, apicId: number): void {
  const base = HAL().platform.ioApics[0]?.gsiBase ?? 0;
  write(REDIRECTION + 2 * (gsi - base) + 1, apicId << 24);
  write(REDIRECTION + 2 * (gsi - base), vector | LEVEL | ACTIVE_LOW);
}

/** Masks I/O APIC input `gsi`. */
export function disableLine(gsi: number): void {
  const base = HAL().platform.ioApics[0]?.gsiBase ?? 0;
  write(REDIRECTION + 2 * (gsi - base), MASKED);
}
