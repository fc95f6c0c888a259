/**
 * The process manager of one machine: the active processes (PsActiveProcessHead) and the
 * notify routines drivers registered. Registered with the kernel as the "ps" service.
 */
import { KE, type Kernel } from "../ke/kernel.js";
import type { KPROCESS } from "../ke/scheduler.js";
import { MM } from "../mm/manager.js";
import type { PCREATE_PROCESS_NOTIFY_ROUTINE_EX, PCREATE_THREAD_NOTIFY_ROUTINE, PLOAD_IMAGE_NOTIFY_ROUTINE } from "./notify-types.js";

/** A registered notify routine and the driver that registered it (its attribution when called). */
export interface Registration<R> {
  routine: R;
  driver: string;
}

/** Process manager state. */
export class ProcessManager {
  /** Processes that have not ended, System first (PsActiveProcessHead). */
  readonly processes: KPROCESS[];
  readonly processNotify: Registration<PCREATE_PROCESS_NOTIFY_ROUTINE_EX>[] = [];
  readonly threadNotify: Registration<PCREATE_THREAD_NOTIFY_ROUTINE>[] = [];
  readonly imageNotify: Registration<PLOAD_IMAGE_NOTIFY_ROUTINE>[] = [];
  /** The id of the process that created each process (0 for System). */
  readonly parents = new WeakMap<KPROCESS, number>();

  constructor(readonly k: Kernel) {
    this.processes = [MM(k).systemProcess];
  }
}

/** The executing machine's process manager (made on first use). */
export function PS(k: Kernel = KE()): ProcessManager {
  let ps = k.services.get("ps") as ProcessManager | undefined;
  if (!ps) k.services.set("ps", (ps = new ProcessManager(k)));
  return ps;
}
