// Device registers as data. A device describes each register by one row of six u64
// words in static data, and keeps the current values in its own state, one u64 per row.
// The generic rules live here: which access sizes a register accepts, write-only
// registers reading as all ones, merging a write through the writable mask per byte lane
// (or replacing the whole register, zero-extended, for registers that say so), and
// write-1-to-clear bits. What a write sets in motion stays with the device.
//
//   RegisterSpec row (REGISTER_ROW_BYTES = 48)
//   +0  offset  u64   byte offset in the BAR
//   +8  sizes   u64   accepted access sizes as bits: SIZE_1 | SIZE_2 | SIZE_4 | SIZE_8
//   +16 flags   u64   REG_*
//   +24 reset   u64   value at reset
//   +32 wmask   u64   bits software may write
//   +40 w1c     u64   bits a write of 1 clears

/** Bytes per register row. */
export const REGISTER_ROW_BYTES: u32 = 48;

/** Access size bit: 1 byte. */
export const SIZE_1: u64 = 1 << 1;
/** Access size bit: 2 bytes. */
export const SIZE_2: u64 = 1 << 2;
/** Access size bit: 4 bytes. */
export const SIZE_4: u64 = 1 << 4;
/** Access size bit: 8 bytes. */
export const SIZE_8: u64 = 1 << 8;

/** Flag: write-only; reads return all ones. */
export const REG_WRITE_ONLY: u64 = 1;
/** Flag: a narrower write replaces the whole register with the zero-extended value. */
export const REG_ZERO_EXTEND: u64 = 2;

// @ts-ignore: decorator
@inline function row(table: usize, i: u32): usize {
  return table + <usize>i * REGISTER_ROW_BYTES;
}

// @ts-ignore: decorator
@inline function ones(size: u32): u64 {
  return size >= 8 ? 0xFFFFFFFFFFFFFFFF : ((<u64>1 << (<u64>size << 3)) - 1);
}

/** Index of the register at `offset` that accepts a `size`-byte access, or -1. */
export function registerFind(table: usize, count: u32, offset: u32, size: u32): i32 {
  for (let i: u32 = 0; i < count; i++) {
    const r = row(table, i);
    if (load<u64>(r) == <u64>offset) return (load<u64>(r, 8) & (<u64>1 << size)) != 0 ? <i32>i : -1;
  }
  return -1;
}

/** Reads register `i` as a `size`-byte access (all ones for write-only registers). */
export function registerRead(table: usize, values: usize, i: u32, size: u32): u64 {
  if ((load<u64>(row(table, i), 16) & REG_WRITE_ONLY) != 0) return ones(size);
  return load<u64>(values + (<usize>i << 3)) & ones(size);
}

/** Merges a `size`-byte write of `value` into register `i` through its masks. */
export function registerWrite(table: usize, values: usize, i: u32, size: u32, value: u64): void {
  const r = row(table, i);
  const wmask = load<u64>(r, 32);
  const w1c = load<u64>(r, 40);
  const at = values + (<usize>i << 3);
  const old = load<u64>(at);
  const lanes = (load<u64>(r, 16) & REG_ZERO_EXTEND) != 0 ? 0xFFFFFFFFFFFFFFFF : ones(size);
  const v = value & ones(size);
  store<u64>(at, ((old & ~(wmask & lanes)) | (v & wmask)) & ~(v & w1c));
}

/** Current value of register `i` (no access rules). */
// @ts-ignore: decorator
@inline
export function registerValue(values: usize, i: u32): u64 {
  return load<u64>(values + (<usize>i << 3));
}

/** Sets register `i` as the device (not software) does. */
// @ts-ignore: decorator
@inline
export function registerSet(values: usize, i: u32, value: u64): void {
  store<u64>(values + (<usize>i << 3), value);
}

/** Loads every register's reset value. */
export function registerReset(table: usize, values: usize, count: u32): void {
  for (let i: u32 = 0; i < count; i++) store<u64>(values + (<usize>i << 3), load<u64>(row(table, i), 24));
}
