// How a device raises a message interrupt: MSI-X when it is enabled, else MSI, else the
// device must use its INTx line (intx.ts), whose level it drives itself.

import { msixEnabled, msixSignal } from "../pci/msix";
import { msiEnabled, msiSignal } from "./msi";

/** True when function `fn` signals interrupts as messages (MSI-X or MSI enabled), so INTx is off. */
export function messagesEnabled(fn: u32): bool {
  return msixEnabled(fn) || msiEnabled(fn);
}

/**
 * The device signals interrupt vector `vector` (an MSI-X table index, or an MSI vector
 * number). Returns false when neither MSI-X nor MSI is enabled.
 */
export function signalMessage(fn: u32, vector: u32): bool {
  return msixSignal(fn, vector) || msiSignal(fn, vector);
}
