/**
 * The ideal counterparts the kernel's hot paths are measured against: the same work done
 * by plain TypeScript with no simulation around it, written the way a careful programmer
 * would for this one job. They set what "within a few times of the ideal" means in the
 * IRP-stack and IOCTL benchmarks.
 *
 * - An I/O stack: four layers of device objects, each with its own dispatch routine; an
 *   IRP with one stack location per layer; passing down by skipping or copying the
 *   location; completion routines run from the bottom up, each layer's PendingReturned
 *   propagated; a pending request completed from a DPC queue drained before the sender
 *   resumes.
 * - A synchronous IOCTL: an awaited call into the "kernel" (the system call), a handle
 *   looked up, the input staged into a system buffer, an IRP built and dispatched, the
 *   device's register read through the machine core (the same READ_REGISTER_ULONG the
 *   edu driver uses), the output copied back to the caller's buffer.
 */
import { READ_REGISTER_ULONG } from "../src/hal/registers.js";

/** Status values, as the kernel's. */
const SUCCESS = 0;
const PENDING = 0x103;
const MORE_PROCESSING_REQUIRED = 0xC0000016 | 0;

/** A completion routine of the ideal stack. */
type IdealCompletion = (irp: IdealIrp, context: unknown) => number;
/** A dispatch routine of the ideal stack. */
type IdealDispatch = (device: IdealDevice, irp: IdealIrp) => number;

class IdealLocation {
  major = 0;
  code = 0;
  completion: IdealCompletion | null = null;
  context: unknown = null;
  pending = false;
  device: IdealDevice | null = null;
}

/** An IRP of the ideal stack: one location per layer, the current one an index. */
export class IdealIrp {
  readonly stack: IdealLocation[];
  current: number;
  status = 0;
  information = 0;
  pendingReturned = false;
  constructor(size: number) {
    this.stack = [];
    for (let i = 0; i < size; i++) this.stack.push(new IdealLocation());
    this.current = size;
  }
  next(): IdealLocation {
    return this.stack[this.current - 1];
  }
}

/** A device object of the ideal stack. */
export class IdealDevice {
  constructor(readonly lower: IdealDevice | null, public dispatch: IdealDispatch, readonly stackSize: number) {}
}

/** Sends `irp` to `device`: the next location becomes current. */
export function idealCall(device: IdealDevice, irp: IdealIrp): number {
  irp.current--;
  const loc = irp.stack[irp.current];
  loc.device = device;
  return device.dispatch(device, irp);
}

/** Passes the current location down unchanged. */
export function idealSkip(irp: IdealIrp): void {
  irp.current++;
}

/** Copies the current location to the next (without its completion routine). */
export function idealCopyDown(irp: IdealIrp): void {
  const from = irp.stack[irp.current];
  const to = irp.stack[irp.current - 1];
  to.major = from.major;
  to.code = from.code;
  to.completion = null;
  to.context = null;
  to.pending = false;
}

/** Sets the next location's completion routine. */
export function idealSetCompletion(irp: IdealIrp, routine: IdealCompletion, context: unknown): void {
  const loc = irp.next();
  loc.completion = routine;
  loc.context = context;
}

/** Completes `irp`: completion routines bottom-up, PendingReturned from each lower location; stops at MORE_PROCESSING_REQUIRED. */
export function idealComplete(irp: IdealIrp): void {
  for (let i = irp.current; i < irp.stack.length; i++) {
    const loc = irp.stack[i];
    irp.pendingReturned = loc.pending;
    if (loc.completion && loc.completion(irp, loc.context) === MORE_PROCESSING_REQUIRED) return;
    if (i + 1 < irp.stack.length && irp.pendingReturned) irp.stack[i + 1].pending = true;
  }
}

/** Marks the current location pending. */
export function idealMarkPending(irp: IdealIrp): void {
  irp.stack[irp.current].pending = true;
}

/** A DPC queue: deferred routines with an argument, drained in order. */
export class IdealDpcQueue {
  private readonly routines: (((argument: IdealIrp) => void) | null)[] = [];
  private readonly arguments: (IdealIrp | null)[] = [];
  private count = 0;
  insert(routine: (argument: IdealIrp) => void, argument: IdealIrp): void {
    this.routines[this.count] = routine;
    this.arguments[this.count] = argument;
    this.count++;
  }
  drain(): void {
    for (let i = 0; i < this.count; i++) {
      const routine = this.routines[i]!;
      const argument = this.arguments[i]!;
      this.routines[i] = null;
      this.arguments[i] = null;
      routine(argument);
    }
    this.count = 0;
  }
}

/** Builds the four-layer ideal stack (upper filter skips, FDO copies and sets a completion routine, lower filter skips, PDO completes now or from its DPC). */
export function idealStack(pend: boolean, dpcs: IdealDpcQueue): IdealDevice {
  const pdoDpc = (irp: IdealIrp) => {
    irp.status = SUCCESS;
    irp.information = 0;
    idealComplete(irp);
  };
  const pdo = new IdealDevice(null, pend
    ? (_d, irp) => { idealMarkPending(irp); dpcs.insert(pdoDpc, irp); return PENDING; }
    : (_d, irp) => { irp.status = SUCCESS; irp.information = 0; idealComplete(irp); return SUCCESS; }, 1);
  const skip: IdealDispatch = (d, irp) => { idealSkip(irp); return idealCall(d.lower!, irp); };
  const fdoCompletion: IdealCompletion = (irp) => { if (irp.pendingReturned) idealMarkPending(irp); return SUCCESS; };
  const lowerFilter = new IdealDevice(pdo, skip, 2);
  const fdo = new IdealDevice(lowerFilter, (d, irp) => { idealCopyDown(irp); idealSetCompletion(irp, fdoCompletion, null); return idealCall(d.lower!, irp); }, 3);
  return new IdealDevice(fdo, skip, 4);
}

const originatorCompletion: IdealCompletion = () => MORE_PROCESSING_REQUIRED;

/** Sends `count` IRPs through `top` as the IRP-stack benchmark's thread does; returns how many did not complete as expected. */
export function idealIrpLoop(top: IdealDevice, dpcs: IdealDpcQueue, expected: number, code: number, count: number): number {
  let bad = 0;
  for (let i = 0; i < count; i++) {
    const irp = new IdealIrp(top.stackSize + 1);
    const next = irp.next();
    next.major = 0x0E;
    next.code = code;
    idealSetCompletion(irp, originatorCompletion, null);
    const status = idealCall(top, irp);
    dpcs.drain();
    if (status !== expected || irp.status !== SUCCESS || irp.pendingReturned !== (expected === PENDING)) bad++;
  }
  return bad;
}

/** What the ideal IOCTL path knows of an open handle: the register it reads. */
interface IdealFile {
  register: number;
}

/** The ideal synchronous IOCTL path over a handle table. */
export class IdealIoctl {
  private readonly handles = new Map<number, IdealFile>();
  private nextHandle = 4;

  /** Opens the device whose identification register is at virtual address `register`. */
  open(register: number): number {
    const h = this.nextHandle;
    this.nextHandle += 4;
    this.handles.set(h, { register });
    return h;
  }

  /** DeviceIoControl: stages the input, builds an IRP, reads the register into the system buffer, copies the output back. */
  async deviceIoControl(handle: number, code: number, input: Uint8Array | null, inputLength: number, output: Uint8Array, outputLength: number): Promise<{ ok: boolean; bytes: number }> {
    const file = this.handles.get(handle);
    if (!file) return { ok: false, bytes: 0 };
    const system = new Uint8Array(Math.max(inputLength, outputLength));
    if (input) system.set(input.subarray(0, inputLength));
    const irp = { code, system, inputLength, outputLength, status: 0, information: 0 };
    if (irp.outputLength < 4) {
      irp.status = 0xC0000023 | 0;
    } else {
      new DataView(irp.system.buffer).setUint32(0, READ_REGISTER_ULONG(file.register), true);
      irp.information = 4;
    }
    if (irp.status !== SUCCESS) return { ok: false, bytes: 0 };
    output.set(system.subarray(0, irp.information));
    return { ok: true, bytes: irp.information };
  }
}
