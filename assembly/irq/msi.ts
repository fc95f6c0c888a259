// MSI from the device side: the message address and data come from the function's MSI
// capability; with N vectors enabled the vector number is ORed into the low data bits;
// a masked vector sets its pending bit and is sent when unmasked. The message itself is
// a posted write through the function's link (dma/port.ts), so it never passes the
// function's earlier posted writes.

import { pciFunction } from "../pci/function";
import { configPeek, configSetBits } from "../pci/config";
import { MSI_CONTROL, MSI_ADDRESS_LO, MSI_ADDRESS_HI, MSI_CTL_ENABLE, MSI_CTL_64BIT, MSI_CTL_MASKING, MSI_CTL_MME_SHIFT, msiDataOffset, msiMaskOffset, msiPendingOffset } from "../pci/header";
import { postMessage } from "../dma/port";

/** True when function `fn` has MSI enabled. */
export function msiEnabled(fn: u32): bool {
  const cap = pciFunction(fn).msiCap;
  return cap != 0 && (configPeek(fn, cap + MSI_CONTROL, 2) & MSI_CTL_ENABLE) != 0;
}

function send(fn: u32, cap: u32, control: u32, vector: u32): void {
  const is64 = (control & MSI_CTL_64BIT) != 0;
  let address = <u64>configPeek(fn, cap + MSI_ADDRESS_LO, 4);
  if (is64) address |= <u64>configPeek(fn, cap + MSI_ADDRESS_HI, 4) << 32;
  const enabled: u32 = 1 << ((control >> MSI_CTL_MME_SHIFT) & 7);
  const data = (configPeek(fn, cap + msiDataOffset(is64), 2) & ~(enabled - 1)) | (vector & (enabled - 1));
  postMessage(fn, address, data);
}

/**
 * The device signals MSI vector `vector`. Returns false when MSI is not enabled (the
 * device should use INTx instead).
 */
export function msiSignal(fn: u32, vector: u32): bool {
  const cap = pciFunction(fn).msiCap;
  if (cap == 0) return false;
  const control = configPeek(fn, cap + MSI_CONTROL, 2);
  if ((control & MSI_CTL_ENABLE) == 0) return false;
  if ((control & MSI_CTL_MASKING) != 0) {
    const is64 = (control & MSI_CTL_64BIT) != 0;
    const bit: u32 = 1 << (vector & 31);
    if ((configPeek(fn, cap + msiMaskOffset(is64), 4) & bit) != 0) {
      configSetBits(fn, cap + msiPendingOffset(is64), bit, true);
      return true;
    }
  }
  send(fn, cap, control, vector);
  return true;
}

/** Sends every pending vector that is no longer masked (after a write to the MSI capability). */
export function msiReleasePending(fn: u32): void {
  const cap = pciFunction(fn).msiCap;
  const control = configPeek(fn, cap + MSI_CONTROL, 2);
  if ((control & MSI_CTL_ENABLE) == 0 || (control & MSI_CTL_MASKING) == 0) return;
  const is64 = (control & MSI_CTL_64BIT) != 0;
  const ready = configPeek(fn, cap + msiPendingOffset(is64), 4) & ~configPeek(fn, cap + msiMaskOffset(is64), 4);
  for (let v: u32 = 0; v < 32; v++) {
    if ((ready & (<u32>1 << v)) == 0) continue;
    configSetBits(fn, cap + msiPendingOffset(is64), <u32>1 << v, false);
    send(fn, cap, control, v);
  }
}
