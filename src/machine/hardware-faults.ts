/**
 * Hardware faults a machine takes (Machine.injectFault, and the machine file's "faults"):
 * what each kind means, which device models take it, the rules its fields follow, and how
 * it is armed in the core. Interrupt and DMA faults apply to any PCI function that is not a
 * bridge; the NVMe kinds to an NVMe controller.
 */
import type { Core } from "./core.js";
import * as L from "./generated/layout.js";

/**
 * When an armed interrupt or DMA fault hits: the `nth` matching event (default 1, the next
 * one) and, after it, until `count` events have been hit (default 1; with `probability`,
 * unlimited). With `probability` (0 < p <= 1) each matching event from the nth on is hit
 * with that chance, drawn from the machine's seed: the same seed hits the same events.
 */
export interface FaultTrigger {
  count?: number;
  nth?: number;
  probability?: number;
}

/**
 * An interrupt fault: the device's next interrupt messages (MSI, MSI-X) or INTx assertions
 * (`interrupts`: "message", "intx" or "any", the default) are dropped, sent twice (a line
 * falls and rises again 1 us after it rose), or delayed by `delayNs`.
 */
export type InterruptFault = FaultTrigger & {
  kind: "dropInterrupt" | "duplicateInterrupt" | "delayInterrupt";
  interrupts?: "message" | "intx" | "any";
  /** Delay of "delayInterrupt", ns (> 0). */
  delayNs?: number;
};

/**
 * A DMA fault: the device's next transfers (`transfers`: "read", "write" or "any", the
 * default) complete as an Unsupported Request or a Completer Abort: nothing is written to
 * memory, read data never reaches the device, and the device model gets the error
 * completion (the NVMe controller completes the command with Data Transfer Error, or sets
 * Controller Fatal Status when a queue entry could not be moved).
 */
export type DmaFault = FaultTrigger & {
  kind: "unsupportedRequest" | "completerAbort";
  transfers?: "read" | "write" | "any";
};

/**
 * An NVMe media error: reads of namespace `nsid` (default 1) touching LBAs `lba` ..
 * `lba + blocks - 1` (blocks default 1) complete with Unrecovered Read Error (status code
 * type 2h, code 81h), and with `writes` writes touching it with Write Fault (2h / 80h),
 * until a mediaError with `blocks` 0 clears it.
 */
export interface MediaErrorFault {
  kind: "mediaError";
  nsid?: number;
  lba: number;
  blocks?: number;
  writes?: boolean;
}

/**
 * A fault of an NVMe controller's command processing:
 * - "drop": the next `count` I/O commands the controller fetches are accepted and never
 *   completed (no completion entry, no interrupt), as hung commands. Each keeps a command
 *   slot until an Abort names it (completes with status 0x07, command abort requested),
 *   its submission queue is deleted (status 0x08, aborted due to SQ deletion), or the
 *   controller is reset (CC.EN 1 -> 0), which forgets it.
 * - "fatal": CSTS.CFS is set now; nothing more is fetched, executed, completed or
 *   signalled until the driver clears CC.EN. Needs CC.EN = 1.
 * - "status": the next `count` I/O commands complete with `status` instead of executing,
 *   after the media time of their kind and without moving data. `status` is the 15-bit
 *   status field: code 7:0, code type 10:8 (0 generic, 1 command specific, 2 media and
 *   data integrity, 3 path, 7 vendor), more 13, do-not-retry 14; 0x0281 is SCT 2 / SC 0x81,
 *   unrecovered read error.
 * `count` defaults to 1; 0 disarms what is still armed. Armed counts outlive a controller
 * reset. Every effect is a device error in the core's trace and counters.
 */
export type NvmeFault =
  | { kind: "drop"; count?: number }
  | { kind: "fatal" }
  | { kind: "status"; status: number; count?: number };

/** Every fault a PCI function can be given. */
export type HardwareFault = NvmeFault | InterruptFault | DmaFault | MediaErrorFault;

/** The kinds, with the device models that take each ("*": any model but a bridge). */
export const HARDWARE_FAULT_MODELS: Record<HardwareFault["kind"], string> = {
  drop: "nvme",
  fatal: "nvme",
  status: "nvme",
  mediaError: "nvme",
  dropInterrupt: "*",
  duplicateInterrupt: "*",
  delayInterrupt: "*",
  unsupportedRequest: "*",
  completerAbort: "*",
};

const INTERRUPT_ACTIONS = { dropInterrupt: L.INTERRUPT_FAULT_DROP, duplicateInterrupt: L.INTERRUPT_FAULT_DUPLICATE, delayInterrupt: L.INTERRUPT_FAULT_DELAY } as const;
const DMA_ACTIONS = { unsupportedRequest: L.DMA_FAULT_UNSUPPORTED_REQUEST, completerAbort: L.DMA_FAULT_COMPLETER_ABORT } as const;
const INTERRUPT_FILTERS = { message: L.FAULT_MATCH_MESSAGE, intx: L.FAULT_MATCH_INTX, any: L.FAULT_MATCH_MESSAGE | L.FAULT_MATCH_INTX } as const;
const DMA_FILTERS = { read: L.FAULT_MATCH_READ, write: L.FAULT_MATCH_WRITE, any: L.FAULT_MATCH_READ | L.FAULT_MATCH_WRITE } as const;
const NVME_KINDS = { drop: L.NVME_INJECT_DROP, fatal: L.NVME_INJECT_FATAL, status: L.NVME_INJECT_STATUS } as const;

/** Largest count the core holds (u32). */
const MAX_COUNT = 0xFFFFFFFF;

/** A rule a fault breaks: the field and what it must be. */
export interface FaultRuleBroken {
  field: string;
  rule: string;
}

function isCount(v: unknown, min: number): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= min && v <= MAX_COUNT;
}

function unknownKey(f: Record<string, unknown>, allowed: string[]): FaultRuleBroken | null {
  for (const k of Object.keys(f)) if (!allowed.includes(k)) return { field: k, rule: `a ${String(f.kind)} fault has no field "${k}" (fields: ${allowed.join(", ")})` };
  return null;
}

function checkTrigger(f: Record<string, unknown>): FaultRuleBroken | null {
  if (f.count !== undefined && !isCount(f.count, 0)) return { field: "count", rule: `count must be an integer from 0 (disarm) to ${MAX_COUNT}, not ${JSON.stringify(f.count)}` };
  if (f.nth !== undefined && !isCount(f.nth, 1)) return { field: "nth", rule: `nth must be an integer from 1 (the next matching event) to ${MAX_COUNT}, not ${JSON.stringify(f.nth)}` };
  const p = f.probability;
  if (p !== undefined && (typeof p !== "number" || !(p > 0 && p <= 1))) return { field: "probability", rule: `probability must be a number above 0 and at most 1, not ${JSON.stringify(p)}` };
  return null;
}

/**
 * The first rule `fault` breaks for a function of device model `model`, or null when it is
 * well formed (`extra` names further fields the caller allows, such as a machine file's "at").
 */
export function checkHardwareFault(fault: unknown, model: string, extra: string[] = []): FaultRuleBroken | null {
  if (typeof fault !== "object" || fault === null) return { field: "kind", rule: "a fault is an object with a kind" };
  const f = fault as Record<string, unknown>;
  const kinds = Object.keys(HARDWARE_FAULT_MODELS);
  if (typeof f.kind !== "string" || !kinds.includes(f.kind)) return { field: "kind", rule: `unknown fault kind ${JSON.stringify(f.kind)} (kinds: ${kinds.join(", ")})` };
  const kind = f.kind as HardwareFault["kind"];
  const takes = HARDWARE_FAULT_MODELS[kind];
  if (model === "bridge") return { field: "kind", rule: `${kind} is not a fault of a PCI-to-PCI bridge` };
  if (takes !== "*" && takes !== model) return { field: "kind", rule: `${kind} is a fault of an NVMe controller, and this function is a ${model}` };
  const trigger = ["count", "nth", "probability"];
  if (kind in INTERRUPT_ACTIONS) {
    const bad = unknownKey(f, ["kind", "interrupts", "delayNs", ...trigger, ...extra]) ?? checkTrigger(f);
    if (bad) return bad;
    if (f.interrupts !== undefined && !(String(f.interrupts) in INTERRUPT_FILTERS)) return { field: "interrupts", rule: `interrupts must be "message", "intx" or "any", not ${JSON.stringify(f.interrupts)}` };
    if (kind === "delayInterrupt" && !(typeof f.delayNs === "number" && Number.isInteger(f.delayNs) && f.delayNs > 0)) {
      return { field: "delayNs", rule: `a delayInterrupt fault gives delayNs, a whole number of nanoseconds above 0, not ${JSON.stringify(f.delayNs)}` };
    }
    if (kind !== "delayInterrupt" && f.delayNs !== undefined) return { field: "delayNs", rule: `only a delayInterrupt fault takes delayNs` };
    return null;
  }
  if (kind in DMA_ACTIONS) {
    const bad = unknownKey(f, ["kind", "transfers", ...trigger, ...extra]) ?? checkTrigger(f);
    if (bad) return bad;
    if (f.transfers !== undefined && !(String(f.transfers) in DMA_FILTERS)) return { field: "transfers", rule: `transfers must be "read", "write" or "any", not ${JSON.stringify(f.transfers)}` };
    return null;
  }
  if (kind === "mediaError") {
    const bad = unknownKey(f, ["kind", "nsid", "lba", "blocks", "writes", ...extra]);
    if (bad) return bad;
    if (f.nsid !== undefined && !isCount(f.nsid, 1)) return { field: "nsid", rule: `nsid must be a namespace identifier from 1, not ${JSON.stringify(f.nsid)}` };
    if (!(typeof f.lba === "number" && Number.isSafeInteger(f.lba) && f.lba >= 0)) return { field: "lba", rule: `a mediaError fault gives lba, the first bad block (an integer from 0), not ${JSON.stringify(f.lba)}` };
    if (f.blocks !== undefined && !(typeof f.blocks === "number" && Number.isSafeInteger(f.blocks) && f.blocks >= 0)) return { field: "blocks", rule: `blocks must be an integer from 0 (clear), not ${JSON.stringify(f.blocks)}` };
    if (f.writes !== undefined && typeof f.writes !== "boolean") return { field: "writes", rule: `writes must be true or false, not ${JSON.stringify(f.writes)}` };
    return null;
  }
  const bad = unknownKey(f, kind === "fatal" ? ["kind", ...extra] : kind === "drop" ? ["kind", "count", ...extra] : ["kind", "count", "status", ...extra]);
  if (bad) return bad;
  if (kind !== "fatal" && f.count !== undefined && !isCount(f.count, 0)) return { field: "count", rule: `count must be an integer from 0 (disarm) to ${MAX_COUNT}, not ${JSON.stringify(f.count)}` };
  if (kind === "status") {
    const v = f.status;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0x7FFF) return { field: "status", rule: `status must be the 15-bit NVMe status field (code 7:0, code type 10:8, e.g. 0x0281), not ${JSON.stringify(v)}` };
    if ((v & 0x7FF) === 0) return { field: "status", rule: `status 0x${v.toString(16)} is success; give an error (code 7:0, code type 10:8, e.g. 0x0281)` };
    const type = (v >> 8) & 7;
    if (type >= 4 && type <= 6) return { field: "status", rule: `status code type ${type} (bits 10:8 of 0x${v.toString(16)}) is reserved; use 0-3 or 7` };
  }
  return null;
}

/** The core's count, skip, chance and threshold for a checked trigger. */
function triggerArguments(t: FaultTrigger): [count: number, skip: number, chance: number, threshold: number] {
  const p = t.probability;
  const count = t.count ?? (p !== undefined ? MAX_COUNT : 1);
  const skip = (t.nth ?? 1) - 1;
  if (p === undefined || p >= 1) return [count, skip, 0, 0];
  return [count, skip, 1, Math.max(1, Math.min(MAX_COUNT, Math.round(p * 2 ** 32)))];
}

/**
 * Arms a checked `fault` on the core's function `fn` now. Returns the core's result
 * (INJECT_OK or an INJECT_ERROR_*).
 */
export function armHardwareFault(core: Core, fn: number, fault: HardwareFault): number {
  const x = core.x;
  switch (fault.kind) {
    case "dropInterrupt":
    case "duplicateInterrupt":
    case "delayInterrupt": {
      const [count, skip, chance, threshold] = triggerArguments(fault);
      return x.armInterruptFault(fn, INTERRUPT_ACTIONS[fault.kind], count, skip, chance, threshold, INTERRUPT_FILTERS[fault.interrupts ?? "any"], (fault.delayNs ?? 0) * 1000);
    }
    case "unsupportedRequest":
    case "completerAbort": {
      const [count, skip, chance, threshold] = triggerArguments(fault);
      return x.armDmaFault(fn, DMA_ACTIONS[fault.kind], count, skip, chance, threshold, DMA_FILTERS[fault.transfers ?? "any"]);
    }
    case "mediaError":
      return x.injectMediaError(fn, fault.nsid ?? 1, fault.lba, fault.blocks ?? 1, fault.writes ? 1 : 0);
    case "fatal":
      return x.injectFault(fn, NVME_KINDS.fatal, 0, 0);
    case "drop":
      return x.injectFault(fn, NVME_KINDS.drop, fault.count ?? 1, 0);
    case "status":
      return x.injectFault(fn, NVME_KINDS.status, fault.count ?? 1, fault.status);
  }
}
