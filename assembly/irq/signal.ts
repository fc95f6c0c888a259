// How a device raises a message interrupt: MSI-X when it is enabled, else MSI, else the
// device must use its INTx line (intx.ts), whose level it drives itself.

import { msixSignal } from "../pci/msix";
import { msiSignal } from "./msi";

/**
 * The device signals interrupt vector `vector` (an MSI-X table index, or an MSI vector
 * number). Returns false when neither MSI-X nor MSI is enabled.
 */
export function signalMessage(fn: u32, vector: u32): bool {
  return msixSignal(fn, vector) || msiSignal(fn, vector);
}
