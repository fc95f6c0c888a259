/**
 * !dpcs [Processor]: the DPC queue of each processor (or of one), in the order the DPCs
 * will run: the KDPC and its deferred routine's address and symbol. A device object's
 * own DPC (IoInitializeDpcRequest) is shown at its place inside the DEVICE_OBJECT.
 */
import type { KDPC } from "../ke/dpc.js";
import { InspectError, expectAtMost, parseFlags } from "./args.js";
import { addressOf, allDevices, codeSymbol, ptr, routineName, UNKNOWN_POINTER, type InspectContext } from "./context.js";

const USAGE = "!dpcs [Processor]";

/** Offset of DEVICE_OBJECT.Dpc on x64. */
const DEVICE_OBJECT_DPC_OFFSET = 0xC8;

/** Parses !dpcs's argument: an optional processor number. */
export function parseDpcs(words: string[]): { processor?: number } {
  expectAtMost(words, 1, USAGE);
  return words.length === 0 ? {} : { processor: parseFlags(words[0], "!dpcs Processor", 0x7FF) };
}

/** The KDPC's address: its own, or inside the device object it belongs to. */
function dpcPointer(ctx: InspectContext, dpc: KDPC): string {
  const own = addressOf(dpc);
  if (own !== undefined) return `0x${ptr(own)}`;
  const device = allDevices(ctx).find((d) => d.Dpc === dpc);
  return device ? `0x${ptr(device.address + DEVICE_OBJECT_DPC_OFFSET)}` : `0x${UNKNOWN_POINTER}`;
}

/** Runs !dpcs. */
export function dpcs(ctx: InspectContext, args: { processor?: number }): string {
  const processors = ctx.k.processors;
  if (args.processor !== undefined && args.processor >= processors.length) {
    throw new InspectError(`!dpcs: processor ${args.processor} does not exist (the machine has ${processors.length}: 0 to ${processors.length - 1})`);
  }
  const out = ["CPU Type      KDPC       Function"];
  for (const p of processors) {
    if (args.processor !== undefined && p.Number !== args.processor) continue;
    for (const dpc of p.DpcQueue) {
      const { address, symbol } = codeSymbol(ctx, dpc.owner, routineName(dpc.DeferredRoutine, "DeferredRoutine"));
      out.push(`${String(p.Number).padStart(2)}: Normal  : ${dpcPointer(ctx, dpc)} 0x${ptr(address)} ${symbol}`);
    }
  }
  return out.join("\n");
}
