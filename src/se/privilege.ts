/**
 * SeSinglePrivilegeCheck: whether the caller holds a privilege. Kernel-mode callers
 * always do; a user-mode caller has what its process's token has. The I/O layer, which
 * knows processes, tells this module how to find the calling process's token.
 */
import { KPROCESSOR_MODE } from "../ke/dispatcher.js";
import type { Kernel } from "../ke/kernel.js";
import { KE } from "../ke/kernel.js";
import { systemToken, type ACCESS_TOKEN, type LUID } from "./token.js";

let tokenOfCaller: (k: Kernel) => ACCESS_TOKEN | null = () => null;
const SYSTEM = systemToken();

/** Registers how to find the calling thread's token (null: a system thread). */
export function setCallerTokenResolver(resolve: (k: Kernel) => ACCESS_TOKEN | null): void {
  tokenOfCaller = resolve;
}

/** The token the executing thread runs with (LocalSystem for system threads). */
export function callerToken(k: Kernel = KE()): ACCESS_TOKEN {
  return tokenOfCaller(k) ?? SYSTEM;
}

/** SeSinglePrivilegeCheck(PrivilegeValue, PreviousMode): TRUE for KernelMode; for UserMode, whether the caller's token has the privilege enabled. */
export function SeSinglePrivilegeCheck(PrivilegeValue: LUID, PreviousMode: KPROCESSOR_MODE): boolean {
  if (PreviousMode === KPROCESSOR_MODE.KernelMode) return true;
  return callerToken().hasPrivilege(PrivilegeValue.LowPart);
}
