/**
 * ExGetPreviousMode: the mode the current system service was called from. A thread in a
 * user process is UserMode and a system thread KernelMode (previousMode), except while a
 * kernel component runs code on behalf of a caller whose mode it knows: the configuration
 * manager calls registry callbacks with KernelMode for Zw routines (which set the
 * previous mode to KernelMode, as every Zw routine does) and UserMode for the user-mode
 * registry API, even when both run in a user process's thread.
 */
import { KE, type Kernel } from "../ke/kernel.js";
import type { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import { previousMode } from "./handles.js";

/** The modes set for the code running now, innermost last (per machine). */
function modeStack(k: Kernel): KPROCESSOR_MODE[] {
  let stack = k.services.get("previous-mode") as KPROCESSOR_MODE[] | undefined;
  if (!stack) {
    stack = [];
    k.services.set("previous-mode", stack);
  }
  return stack;
}

/** Makes `mode` the previous mode until the matching popPreviousMode (the code between runs to completion). */
export function pushPreviousMode(k: Kernel, mode: KPROCESSOR_MODE): void {
  modeStack(k).push(mode);
}

/** Ends the innermost pushPreviousMode. */
export function popPreviousMode(k: Kernel): void {
  modeStack(k).pop();
}

/** ExGetPreviousMode: KernelMode or UserMode, the mode of the caller of the current system service. Any IRQL. */
export function ExGetPreviousMode(): KPROCESSOR_MODE {
  const k = KE();
  const stack = modeStack(k);
  return stack.length > 0 ? stack[stack.length - 1] : previousMode(k);
}
