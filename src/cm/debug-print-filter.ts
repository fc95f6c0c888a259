/**
 * The Debug Print Filter key, HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Debug
 * Print Filter: the kernel reads it at boot into the debugger's component masks (a
 * REG_DWORD per component, "DEFAULT", "IHVDRIVER", ..., and "WIN2000"; src/ke/debug-print.ts).
 */
import type { Kernel } from "../ke/kernel.js";
import { DPFLTR_COMPONENT_NAMES, KD, WIN2000_MASK_NAME } from "../ke/debug-print.js";
import { CM, CURRENT_CONTROL_SET } from "./registry.js";

/** The key's path. */
export const DEBUG_PRINT_FILTER_KEY = `${CURRENT_CONTROL_SET}\\Control\\Session Manager\\Debug Print Filter`;

/** Sets the debugger's masks from the key's REG_DWORD values (other values and names are ignored, as Windows ignores them). */
export function applyDebugPrintFilter(k: Kernel): void {
  const key = CM(k).find(DEBUG_PRINT_FILTER_KEY);
  if (!key) return;
  const kd = KD(k);
  const ids = new Map(Object.entries(DPFLTR_COMPONENT_NAMES).map(([id, name]) => [name, Number(id)]));
  for (const v of key.values.values()) {
    const mask = v.decoded;
    if (typeof mask !== "number" || v.data.length !== 4) continue;
    const name = v.name.toUpperCase();
    if (name === WIN2000_MASK_NAME) kd.win2000Mask = mask;
    else if (ids.has(name)) kd.componentMasks.set(ids.get(name)!, mask);
  }
}
