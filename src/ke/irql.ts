/** Interrupt request levels (x64). A device interrupt with vector V runs at IRQL V >> 4. */

/** An IRQL, 0..15. */
export type KIRQL = number;

export const PASSIVE_LEVEL: KIRQL = 0;
export const LOW_LEVEL: KIRQL = 0;
export const APC_LEVEL: KIRQL = 1;
export const DISPATCH_LEVEL: KIRQL = 2;
export const CMCI_LEVEL: KIRQL = 5;
export const SYNCH_LEVEL: KIRQL = 12;
export const CLOCK_LEVEL: KIRQL = 13;
export const IPI_LEVEL: KIRQL = 14;
export const POWER_LEVEL: KIRQL = 14;
export const PROFILE_LEVEL: KIRQL = 15;
export const HIGH_LEVEL: KIRQL = 15;

/** The IRQL a vector's interrupt runs at. */
export function irqlOfVector(vector: number): KIRQL {
  return vector >> 4;
}

const LEVEL_NAMES = ["PASSIVE_LEVEL", "APC_LEVEL", "DISPATCH_LEVEL"];

/** "DISPATCH_LEVEL", "DIRQL 6", "CLOCK_LEVEL"... */
export function irqlName(irql: KIRQL): string {
  if (irql < LEVEL_NAMES.length) return LEVEL_NAMES[irql];
  if (irql === CLOCK_LEVEL) return "CLOCK_LEVEL";
  if (irql === IPI_LEVEL) return "IPI_LEVEL";
  if (irql === HIGH_LEVEL) return "HIGH_LEVEL";
  if (irql === SYNCH_LEVEL) return "SYNCH_LEVEL";
  return `DIRQL ${irql}`;
}
