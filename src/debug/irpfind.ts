/**
 * !irpfind [-v] [PoolType [RestartAddress [Criteria Data]]]: every IRP allocated and not
 * yet freed (the I/O manager's list of live IRPs), by address: its thread, the major
 * and minor function of its current location, and the device and driver there; an IRP
 * with no current location shows as complete. Criteria (arg, device, fileobject,
 * mdlprocess, thread, userevent) keep only the IRPs that match Data; -v adds the full
 * !irp display of each.
 */
import type { IRP } from "../io/irp.js";
import { InspectError, parseAddress, parseFlags, parseNumber } from "./args.js";
import { addressOf, objectPointer, ptr, type InspectContext } from "./context.js";
import { irp as irpDisplay, irpState } from "./irp.js";

const USAGE = "!irpfind [-v] [PoolType [RestartAddress [Criteria Data]]]  (Criteria: arg, device, fileobject, mdlprocess, thread, userevent)";
const CRITERIA = ["arg", "device", "fileobject", "mdlprocess", "thread", "userevent"] as const;
type Criterion = (typeof CRITERIA)[number];

/** A parsed !irpfind command. */
export interface IrpfindArgs {
  verbose: boolean;
  restart: number;
  criterion?: Criterion;
  data?: bigint;
}

/** Parses !irpfind's arguments. */
export function parseIrpfind(words: string[]): IrpfindArgs {
  const rest = [...words];
  const verbose = rest[0]?.toLowerCase() === "-v";
  if (verbose) rest.shift();
  if (rest.length > 4) throw new InspectError(`too many arguments ("${rest.slice(4).join(" ")}"); usage: ${USAGE}`);
  if (rest.length > 0) {
    const pool = parseFlags(rest[0], "!irpfind PoolType", 4);
    if (pool !== 0) throw new InspectError(`!irpfind: IRPs come from nonpaged pool here; give PoolType 0 (not ${rest[0]})`);
  }
  const restart = rest.length > 1 ? parseAddress(rest[1], "!irpfind RestartAddress") : 0;
  if (restart === undefined) throw new InspectError(`!irpfind: RestartAddress "${rest[1]}" is not an address; usage: ${USAGE}`);
  let criterion: Criterion | undefined;
  let data: bigint | undefined;
  if (rest.length > 2) {
    const c = rest[2].toLowerCase();
    if (!(CRITERIA as readonly string[]).includes(c)) throw new InspectError(`!irpfind: unknown criteria "${rest[2]}"; use one of ${CRITERIA.join(", ")}`);
    if (rest.length < 4) throw new InspectError(`!irpfind: criteria ${c} needs the data to match; usage: ${USAGE}`);
    criterion = c as Criterion;
    const address = parseAddress(rest[3], `!irpfind ${c} data`);
    data = address !== undefined ? BigInt(address) : parseNumber(rest[3]);
    if (data === undefined) throw new InspectError(`!irpfind: "${rest[3]}" is not a number or address`);
  }
  return { verbose, restart, criterion, data };
}

/** A value as a number to compare with criteria data (an object's address; undefined when it has none). */
function valueOf(v: unknown): bigint | undefined {
  if (typeof v === "number") return BigInt(v);
  if (typeof v === "bigint") return v;
  const a = addressOf(v);
  return a === undefined ? undefined : BigInt(a);
}

function matches(irp: IRP, criterion: Criterion | undefined, data: bigint | undefined): boolean {
  if (!criterion) return true;
  const is = (v: unknown) => v !== null && v !== undefined && valueOf(v) === data;
  switch (criterion) {
    case "arg": return irp.Stack.some((s) => s.Parameters.slots.some(is));
    case "device": return irp.Stack.some((s) => is(s.DeviceObject));
    case "fileobject": return is((irp.Tail.Overlay as { OriginalFileObject?: unknown }).OriginalFileObject) || irp.Stack.some((s) => is(s.FileObject));
    case "mdlprocess": return is((irp.MdlAddress as { Process?: unknown } | null)?.Process);
    case "thread": return is(irp.Tail.Overlay.Thread);
    case "userevent": return is(irp.UserEvent);
  }
}

/** Runs !irpfind. */
export function irpfind(ctx: InspectContext, args: IrpfindArgs): string {
  const irps = [...ctx.io.irps].filter((i) => i.address >= args.restart && matches(i, args.criterion, args.data)).sort((a, b) => a.address - b.address);
  const out = ["Searching the allocated IRPs for Tag: Irp"];
  if (args.criterion) out.push(`  only IRPs whose ${args.criterion} is 0x${args.data!.toString(16)}`);
  out.push("", "  Irp            [ Thread ]         irpStack: (Mj,Mn)   DevObj          [Driver]         MDL Process");
  for (const i of irps) {
    const thread = i.Tail.Overlay.Thread ? objectPointer(i.Tail.Overlay.Thread) : "0000000000000000";
    const head = `${ptr(i.address)} [${thread}]`;
    if (i.CurrentLocation > i.StackCount || i.CurrentLocation < 1) out.push(`${head} ${irpState(i)}`);
    else {
      const s = i.Stack[i.CurrentLocation - 1];
      const device = s.DeviceObject ? `${ptr(s.DeviceObject.address)} [ ${s.DeviceObject.DriverObject.DriverName}]` : "0000000000000000 [ ]";
      out.push(`${head} irpStack: (${s.MajorFunction.toString(16).padStart(2)},${s.MinorFunction.toString(16).padStart(2)})  ${device}`);
    }
    if (args.verbose) out.push(irpDisplay(ctx, { address: i.address }), "");
  }
  return out.join("\n");
}
