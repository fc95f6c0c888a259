// Surprise removal: a function (and, for a bridge, everything below it) is pulled out of
// the machine. Configuration requests to it master-abort (reads return all ones), its
// BARs leave the decode list so memory reads return all ones, it can no longer master
// the bus (no DMA, no messages) and its INTx output no longer reaches the IOAPIC. The
// device model keeps its state; nothing it does reaches the rest of the machine.

import { functionCount, functionTopology, NO_PARENT } from "./function";
import { decodeRebuild } from "./decode";
import { intxUpdate } from "../irq/intx";

/** True when `fn` is `root` or below it. */
function under(fn: u32, root: u32): bool {
  for (let f = fn; f != NO_PARENT; f = functionTopology(f).parent) if (f == root) return true;
  return false;
}

/** Pulls function `root` and every function below it out of the machine. */
export function functionRemove(root: u32): void {
  const n = functionCount();
  for (let i: u32 = 0; i < n; i++) {
    if (!under(i, root)) continue;
    functionTopology(i).removed = 1;
    intxUpdate(i);
  }
  decodeRebuild();
}

/** True once function `fn` has been pulled out. */
export function functionRemoved(fn: u32): bool {
  return functionTopology(fn).removed != 0;
}
