/**
 * DMA verification: the checks Driver Verifier makes on the DMA routines, each reported
 * as bug check 0xE6 DRIVER_VERIFIER_DMA_VIOLATION with the WDK's parameter 1 codes. The
 * IRQL checks and the bookkeeping checks apply only with the verifier on; a transfer the
 * HAL cannot perform at all (an MDL without page frame numbers, a buffer outside its
 * MDL) is 0xE6 either way, as the WDK allows.
 */
import { DRIVER_VERIFIER_DMA_VIOLATION } from "../ke/bugcheck.js";
import type { KIRQL } from "../ke/irql.js";
import type { Kernel } from "../ke/kernel.js";

/** P1 0x00, P2 0x2: out of contiguous map registers (P3 needed, P4 contiguous). */
export const DMA_MISCELLANEOUS = 0x00;
export const DMA_OUT_OF_CONTIGUOUS_MAP_REGISTERS = 0x2;
/** P1: freed too many common buffers (P2 extra frees). */
export const DMA_FREED_TOO_MANY_COMMON_BUFFERS = 0x03;
/** P1: freed too many adapter channels (P2 extra frees). */
export const DMA_FREED_TOO_MANY_ADAPTER_CHANNELS = 0x04;
/** P1: freed too many map registers (P2 extra frees). */
export const DMA_FREED_TOO_MANY_MAP_REGISTERS = 0x05;
/** P1: freed too many scatter/gather lists (P2 allocated, P3 freed). */
export const DMA_FREED_TOO_MANY_SCATTER_GATHER_LISTS = 0x06;
/** P1: adapter released with common buffers outstanding (P2 adapter, P3 count). */
export const DMA_OUTSTANDING_COMMON_BUFFERS = 0x07;
/** P1: adapter released with adapter channels outstanding (P2 adapter, P3 count). */
export const DMA_OUTSTANDING_ADAPTER_CHANNELS = 0x08;
/** P1: adapter released with map registers outstanding (P2 adapter, P3 count). */
export const DMA_OUTSTANDING_MAP_REGISTERS = 0x09;
/** P1: adapter released with scatter/gather lists outstanding (P2 adapter, P3 count). */
export const DMA_OUTSTANDING_SCATTER_GATHER_LISTS = 0x0A;
/** P1: more than one adapter channel at a time (P2 outstanding channels). */
export const DMA_TOO_MANY_ADAPTER_CHANNELS = 0x0B;
/** P1: too many map registers at once (P2 required, P3 maximum). */
export const DMA_TOO_MANY_MAP_REGISTERS = 0x0C;
/** P1: DMA on a buffer that is not locked (P2 MDL). */
export const DMA_BUFFER_NOT_LOCKED = 0x0E;
/** P1: map registers freed while some are still mapped (P2 still mapped). */
export const DMA_MAP_REGISTERS_STILL_MAPPED = 0x10;
/** P1: a DMA routine called at an improper IRQL (P2 0x01 different / 0x02 higher, P3 expected, P4 current). */
export const DMA_IMPROPER_IRQL = 0x13;
export const DMA_IRQL_DIFFERENT = 0x01;
export const DMA_IRQL_HIGHER = 0x02;
/** P1: an adapter used after PutDmaAdapter (P2 adapter). */
export const DMA_ADAPTER_RELEASED = 0x18;
/** P1: an address outside its MDL (P2 address, P3 MDL). */
export const DMA_ADDRESS_OUTSIDE_MDL = 0x1B;
/** P1: flushing map registers that were not mapped (P2 map register base, P3 address, P4 MDL). */
export const DMA_FLUSH_UNMAPPED = 0x20;
/** P1: mapping a zero-length buffer. */
export const DMA_ZERO_LENGTH = 0x21;
/** P1: the MDLs hold fewer bytes than the transfer asks for (P2 bytes unaccounted). */
export const DMA_INSUFFICIENT_BUFFER = 0x24;

/** Bug checks 0xE6 with parameter 1 `code`. */
export function dmaViolation(k: Kernel, code: number, p2: number, p3: number, p4: number): never {
  return k.bugCheck(DRIVER_VERIFIER_DMA_VIOLATION, code, p2, p3, p4);
}

/** Under the verifier: the caller must be at exactly `expected`. */
export function verifyIrqlIs(k: Kernel, expected: KIRQL): void {
  if (k.verifier && k.cpu.irql !== expected) dmaViolation(k, DMA_IMPROPER_IRQL, DMA_IRQL_DIFFERENT, expected, k.cpu.irql);
}

/** Under the verifier: the caller must be at or below `maximum`. */
export function verifyIrqlAtMost(k: Kernel, maximum: KIRQL): void {
  if (k.verifier && k.cpu.irql > maximum) dmaViolation(k, DMA_IMPROPER_IRQL, DMA_IRQL_HIGHER, maximum, k.cpu.irql);
}

/** Under the verifier: a bookkeeping rule that must hold. */
export function verify(k: Kernel, ok: boolean, code: number, p2: number, p3 = 0, p4 = 0): void {
  if (k.verifier && !ok) dmaViolation(k, code, p2, p3, p4);
}
