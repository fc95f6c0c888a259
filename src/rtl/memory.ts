/**
 * The run-time library's memory and arithmetic helpers that are not in src/mm/memory.ts
 * (which has RtlCopyMemory, RtlMoveMemory, RtlZeroMemory, RtlFillMemory and
 * RtlCompareMemory): RtlCopyBytes, RtlZeroBytes, RtlEqualMemory, Int32x32To64 and
 * UInt32x32To64. Lengths are in bytes; addresses are guest virtual addresses.
 */
import { RtlCompareMemory, RtlCopyMemory, RtlZeroMemory, type PVOID } from "../mm/memory.js";

/** RtlCopyBytes: copies `Length` bytes from `Source` to `Destination` (non-overlapping), as RtlCopyMemory. */
export function RtlCopyBytes(Destination: PVOID, Source: PVOID, Length: number): void {
  RtlCopyMemory(Destination, Source, Length);
}

/** RtlZeroBytes: zeroes `Length` bytes, as RtlZeroMemory. */
export function RtlZeroBytes(Destination: PVOID, Length: number): void {
  RtlZeroMemory(Destination, Length);
}

/** RtlEqualMemory: TRUE if the `Length` bytes at `Source1` and `Source2` are the same. */
export function RtlEqualMemory(Source1: PVOID, Source2: PVOID, Length: number): boolean {
  return RtlCompareMemory(Source1, Source2, Length) === Length;
}

/** Int32x32To64: the exact 64-bit product of two signed 32-bit values. */
export function Int32x32To64(a: number, b: number): bigint {
  return BigInt(a | 0) * BigInt(b | 0);
}

/** UInt32x32To64: the exact 64-bit product of two unsigned 32-bit values. */
export function UInt32x32To64(a: number, b: number): bigint {
  return BigInt(a >>> 0) * BigInt(b >>> 0);
}
