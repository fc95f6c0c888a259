/**
 * !irp Address [Detail]: an IRP's stack locations from the first to the last, the
 * current one marked with '>': major and minor function, flags and control, device,
 * file object, completion routine and context with the conditions it runs on (Success
 * Error Cancel) and the pending mark, the device's driver and the routine's symbol, and
 * the four Parameters arguments. Then the IRP's own fields: Flags, IoStatus,
 * RequestorMode, Cancel, CancelIrql, CancelRoutine, PendingReturned, UserBuffer.
 */
import { IoSizeOfIrp, SL_INVOKE_ON_CANCEL, SL_INVOKE_ON_ERROR, SL_INVOKE_ON_SUCCESS, SL_PENDING_RETURNED, type IO_STACK_LOCATION, type IRP } from "../io/irp.js";
import { statusName } from "../ke/ntstatus.js";
import { InspectError, expectAtMost, parseAddress } from "./args.js";
import { addressOf, codeSymbol, objectPointer, ptr, routineName, type InspectContext } from "./context.js";
import { MAJOR_FUNCTION_NAMES, minorFunctionName } from "./names.js";

const USAGE = "!irp <IRP address> [Detail]";

/** Bytes of one IO_STACK_LOCATION (the stack follows the IRP header, IoSizeOfIrp). */
const STACK_LOCATION_SIZE = IoSizeOfIrp(1) - IoSizeOfIrp(0);

/** Parses !irp's arguments (Detail is accepted: the IRP's fields are always shown). */
export function parseIrp(words: string[]): { address: number } {
  expectAtMost(words, 2, USAGE);
  if (words.length === 0) throw new InspectError(`!irp needs an IRP address; usage: ${USAGE}`);
  const address = parseAddress(words[0], "the IRP");
  if (address === undefined) throw new InspectError(`!irp: "${words[0]}" is not an address; usage: ${USAGE}`);
  return { address };
}

/** The live IRP at `address`. */
export function findIrp(ctx: InspectContext, address: number, command: string): IRP {
  for (const irp of ctx.io.irps) if (irp.address === address) return irp;
  throw new InspectError(`${command}: ${ptr(address)} is not the address of an allocated IRP (list them with !irpfind)`);
}

/** One Parameters argument as !irp prints it: a 32-bit hex value, a pointer, or ???????? for an object without an address. */
export function argument(value: unknown): string {
  if (value === null || value === undefined || value === false) return "00000000";
  if (value === true) return "00000001";
  if (typeof value === "number" || typeof value === "bigint") {
    const v = BigInt(value);
    if (v >= 0n && v < 1n << 32n) return v.toString(16).padStart(8, "0");
    if (v < 0n && v >= -(1n << 31n)) return (Number(v) >>> 0).toString(16).padStart(8, "0");
    return ptr(v);
  }
  const a = addressOf(value);
  return a === undefined ? "????????" : ptr(a);
}

/** A 32-bit value in hex, 8 digits. */
const hex8 = (v: number) => (v >>> 0).toString(16).padStart(8, "0");

function locationLines(ctx: InspectContext, s: IO_STACK_LOCATION, current: boolean): string[] {
  const unused = s.MajorFunction === 0 && s.DeviceObject === null && s.CompletionRoutine === null;
  const major = unused ? "N/A(0)" : `${MAJOR_FUNCTION_NAMES[s.MajorFunction] ?? "N/A"}(${s.MajorFunction.toString(16)})`;
  const minor = `${(unused ? undefined : minorFunctionName(s.MajorFunction, s.MinorFunction)) ?? "N/A"}(${s.MinorFunction.toString(16)})`;
  const routine = s.CompletionRoutine ? codeSymbol(ctx, s.completionOwner, routineName(s.CompletionRoutine, "CompletionRoutine")) : null;
  const when = [
    (s.Control & SL_INVOKE_ON_SUCCESS) !== 0 ? "Success" : "",
    (s.Control & SL_INVOKE_ON_ERROR) !== 0 ? "Error" : "",
    (s.Control & SL_INVOKE_ON_CANCEL) !== 0 ? "Cancel" : "",
    (s.Control & SL_PENDING_RETURNED) !== 0 ? "pending" : "",
  ];
  const context = s.CompletionRoutine ? objectPointer(s.Context) : "00000000";
  const slots = s.Parameters.slots;
  return [
    `${current ? ">" : " "}[${major}, ${minor}]`,
    `${" ".repeat(10)}${s.Flags.toString(16).padStart(3)} ${s.Control.toString(16).padStart(2)} ${objectPointer(s.DeviceObject)} ${objectPointer(s.FileObject)} ${routine ? ptr(routine.address) : "00000000"}-${context} ${when.join(" ")}`,
    s.DeviceObject ? `${" ".repeat(15)}${s.DeviceObject.DriverObject.DriverName.padEnd(16)} ${routine?.symbol ?? ""}`.trimEnd() : "",
    `${" ".repeat(24)}Args: ${[0, 1, 2, 3].map((i) => argument(slots[i])).join(" ")}`,
  ];
}

/** The header line of an IRP: active with its current location, or complete. */
export function irpState(irp: IRP): string {
  if (irp.CurrentLocation > irp.StackCount || irp.CurrentLocation < 1) return `Irp is complete (CurrentLocation ${irp.CurrentLocation} > StackCount ${irp.StackCount})`;
  const location = irp.address + IoSizeOfIrp(0) + (irp.CurrentLocation - 1) * STACK_LOCATION_SIZE;
  return `Irp is active with ${irp.StackCount} stacks ${irp.CurrentLocation} is current (= 0x${ptr(location)})`;
}

/** Runs !irp. */
export function irp(ctx: InspectContext, args: { address: number }): string {
  const i = findIrp(ctx, args.address, "!irp");
  const mdl = i.MdlAddress ? `Mdl = ${objectPointer(i.MdlAddress)} ` : "No Mdl: ";
  const buffer = i.AssociatedIrp.SystemBuffer ? `System buffer = ${ptr(i.AssociatedIrp.SystemBuffer)}: ` : "No System Buffer: ";
  const out = [
    irpState(i),
    ` ${mdl}${buffer}Thread ${objectPointer(i.Tail.Overlay.Thread)}:  Irp stack trace.`,
    "     cmd  flg cl Device   File     Completion-Context",
  ];
  i.Stack.forEach((s, n) => out.push(...locationLines(ctx, s, n + 1 === i.CurrentLocation)));
  const cancel = i.CancelRoutine ? codeSymbol(ctx, i.cancelOwner, routineName(i.CancelRoutine, "CancelRoutine")) : null;
  out.push(
    "",
    `Flags = ${hex8(i.Flags)}`,
    `IoStatus.Status = ${hex8(i.IoStatus.Status)} (${statusName(i.IoStatus.Status)})`,
    `IoStatus.Information = ${argument(i.IoStatus.Information)}`,
    `RequestorMode = ${hex8(i.RequestorMode)}`,
    `Cancel = ${i.Cancel ? "01" : "00"}`,
    `CancelIrql = ${i.CancelIrql}`,
    `CancelRoutine = ${cancel ? `${ptr(cancel.address)}  ${cancel.symbol}` : "00000000"}`,
    `PendingReturned = ${i.PendingReturned ? "01" : "00"}`,
    `UserBuffer = ${ptr(i.UserBuffer)}`,
  );
  return out.join("\n");
}
