/**
 * IRPs and their stack locations, IoAllocateIrp / IoFreeIrp, the stack-location macros,
 * IoCallDriver and IoCompleteRequest with completion routines and pending propagation
 * (shared/specs/nt-semantics.md, IRPs).
 */
import { KE } from "../ke/kernel.js";
import { DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS, MULTIPLE_IRP_COMPLETE_REQUESTS, NO_MORE_IRP_STACK_LOCATIONS, DRIVER_VERIFIER_IOMANAGER_VIOLATION } from "../ke/bugcheck.js";
import { NT_SUCCESS, STATUS_MORE_PROCESSING_REQUIRED, STATUS_NOT_SUPPORTED, STATUS_PENDING, STATUS_SUCCESS, statusName, type NTSTATUS } from "../ke/ntstatus.js";
import { formatPointer } from "../ke/bugcheck.js";
import { KPROCESSOR_MODE, type KEVENT } from "../ke/dispatcher.js";
import type { KTHREAD } from "../ke/scheduler.js";
import { DISPATCH_LEVEL, type KIRQL } from "../ke/irql.js";
import type { PVOID } from "../mm/memory.js";
import type { DEVICE_OBJECT } from "./objects.js";
import { IRP_MN_PNP_NAMES } from "../pnp/minor.js";
import { IRP_MN_POWER_NAMES } from "../po/power.js";
import { IO } from "./manager.js";
import { MM } from "../mm/manager.js";
import { lowResourceFailure } from "../verifier/low-resources.js";
import { KDEVICE_QUEUE_ENTRY } from "../ke/device-queue.js";
import { QuarantineRing } from "../ke/quarantine.js";

// Major function codes.
export const IRP_MJ_CREATE = 0x00;
export const IRP_MJ_CREATE_NAMED_PIPE = 0x01;
export const IRP_MJ_CLOSE = 0x02;
export const IRP_MJ_READ = 0x03;
export const IRP_MJ_WRITE = 0x04;
export const IRP_MJ_QUERY_INFORMATION = 0x05;
export const IRP_MJ_SET_INFORMATION = 0x06;
export const IRP_MJ_FLUSH_BUFFERS = 0x09;
export const IRP_MJ_DEVICE_CONTROL = 0x0E;
export const IRP_MJ_INTERNAL_DEVICE_CONTROL = 0x0F;
export const IRP_MJ_SHUTDOWN = 0x10;
export const IRP_MJ_CLEANUP = 0x12;
export const IRP_MJ_POWER = 0x16;
export const IRP_MJ_SYSTEM_CONTROL = 0x17;
export const IRP_MJ_PNP = 0x1B;
export const IRP_MJ_MAXIMUM_FUNCTION = 0x1B;

/** Every IRP major function's name, IRP_MJ_CREATE (0x00) to IRP_MJ_PNP (0x1B), for traces and inspection. */
export const IRP_MJ_NAMES: readonly string[] = [
  "IRP_MJ_CREATE", "IRP_MJ_CREATE_NAMED_PIPE", "IRP_MJ_CLOSE", "IRP_MJ_READ", "IRP_MJ_WRITE", "IRP_MJ_QUERY_INFORMATION",
  "IRP_MJ_SET_INFORMATION", "IRP_MJ_QUERY_EA", "IRP_MJ_SET_EA", "IRP_MJ_FLUSH_BUFFERS", "IRP_MJ_QUERY_VOLUME_INFORMATION",
  "IRP_MJ_SET_VOLUME_INFORMATION", "IRP_MJ_DIRECTORY_CONTROL", "IRP_MJ_FILE_SYSTEM_CONTROL", "IRP_MJ_DEVICE_CONTROL",
  "IRP_MJ_INTERNAL_DEVICE_CONTROL", "IRP_MJ_SHUTDOWN", "IRP_MJ_LOCK_CONTROL", "IRP_MJ_CLEANUP", "IRP_MJ_CREATE_MAILSLOT",
  "IRP_MJ_QUERY_SECURITY", "IRP_MJ_SET_SECURITY", "IRP_MJ_POWER", "IRP_MJ_SYSTEM_CONTROL", "IRP_MJ_DEVICE_CHANGE",
  "IRP_MJ_QUERY_QUOTA", "IRP_MJ_SET_QUOTA", "IRP_MJ_PNP",
];

/** The minor function's name for a major function that has named minors (PnP, power), else undefined. */
export function minorFunctionName(major: number, minor: number): string | undefined {
  if (major === IRP_MJ_PNP) return IRP_MN_PNP_NAMES[minor];
  if (major === IRP_MJ_POWER) return IRP_MN_POWER_NAMES[minor];
  return undefined;
}

// Stack location control flags.
/** The driver at this location returned STATUS_PENDING (IoMarkIrpPending). */
export const SL_PENDING_RETURNED = 0x01;
export const SL_ERROR_RETURNED = 0x02;
export const SL_INVOKE_ON_CANCEL = 0x20;
export const SL_INVOKE_ON_SUCCESS = 0x40;
export const SL_INVOKE_ON_ERROR = 0x80;

// Stack location Flags of read and write requests (wdm.h).
/** The request is sent even though the volume needs verification (DO_VERIFY_VOLUME). */
export const SL_OVERRIDE_VERIFY_VOLUME = 0x02;
/** The data must reach the medium before the request completes (a write-through file). */
export const SL_WRITE_THROUGH = 0x04;

/** IRP flag: the IRP was made by IoMakeAssociatedIrp (AssociatedIrp.MasterIrp is its master). */
export const IRP_ASSOCIATED_IRP = 0x08;

/** IO_NO_INCREMENT and friends (priority boosts; the scheduler does not use them). */
export const IO_NO_INCREMENT = 0;
export const IO_DISK_INCREMENT = 1;
export const IO_SERIAL_INCREMENT = 2;

/** Verifier 0xC9: the IRQL changed across a dispatch routine (P2 the device, P3 the IRQL before, P4 after). */
export const VERIFIER_IRQL_CHANGED_IN_DISPATCH = 0x05;
/** Verifier 0xC9: IoCallDriver above DISPATCH_LEVEL (P2 the IRQL). */
export const VERIFIER_CALL_ABOVE_DISPATCH = 0x10;
/** Verifier 0xC9: IoCompleteRequest with STATUS_PENDING. */
export const VERIFIER_IO_COMPLETE_PENDING = 0x06;
/** Verifier 0xC9: IoCompleteRequest with a cancel routine still set. */
export const VERIFIER_IO_COMPLETE_CANCEL_ROUTINE = 0x07;
/** Verifier 0xC9: a dispatch routine returned STATUS_PENDING without IoMarkIrpPending. */
export const VERIFIER_PENDING_NOT_MARKED = 0x23D;
/** Verifier 0xC9: a dispatch routine called IoMarkIrpPending but returned another status. */
export const VERIFIER_MARKED_NOT_PENDING = 0x23E;
/** Verifier 0xC9: an IRP_MJ_PNP IRP was sent with IoStatus.Status not STATUS_NOT_SUPPORTED. */
export const VERIFIER_PNP_IRP_BAD_INITIAL_STATUS = 0x20E;
/** Verifier 0xC9: an IRP_MJ_POWER IRP was sent with IoStatus.Status not STATUS_NOT_SUPPORTED. */
export const VERIFIER_POWER_IRP_BAD_INITIAL_STATUS = 0x20F;
/** Verifier 0xC9: a driver did not detach from the stack below it on IRP_MN_REMOVE_DEVICE. */
export const VERIFIER_REMOVE_NOT_DETACHED = 0x21D;
/** Verifier 0xC9: a driver did not delete its device object on IRP_MN_REMOVE_DEVICE. */
export const VERIFIER_REMOVE_NOT_DELETED = 0x21E;
/** Verifier 0xC9: a completion routine did not mark the IRP pending although PendingReturned was set. */
export const VERIFIER_COMPLETION_PENDING_NOT_PROPAGATED = 0x228;
/** Verifier 0xC9: AddDevice returned without clearing DO_DEVICE_INITIALIZING. */
export const VERIFIER_DEVICE_INITIALIZING_NOT_CLEARED = 0x243;

/** IO_STATUS_BLOCK. */
export class IO_STATUS_BLOCK {
  Status: NTSTATUS = STATUS_SUCCESS;
  /** ULONG_PTR: a byte count, or for PnP queries the object returned (IDs, relations, resources). */
  Information: any = 0;
}

/** IoCompletion(DeviceObject, Irp, Context). */
export type PIO_COMPLETION_ROUTINE = (DeviceObject: DEVICE_OBJECT | null, Irp: IRP, Context: unknown) => NTSTATUS;

/** A dispatch routine; may be async when it runs at PASSIVE_LEVEL and waits. */
export type PDRIVER_DISPATCH = (DeviceObject: DEVICE_OBJECT, Irp: IRP) => NTSTATUS | Promise<NTSTATUS>;

/** A field of the Parameters union: a whole slot, or [slot, bit shift, bit width] of a packed one. */
type UnionField = number | [number, number, number];

/**
 * Makes a view class over the four union slots: each field reads and writes its slot
 * (or its bits of a slot, for USHORT pairs such as Create.FileAttributes / ShareAccess),
 * so members alias exactly as they do in C. Accessors live on the prototype, built once.
 */
function unionView<T>(fields: Record<string, UnionField>): new (slots: unknown[]) => T {
  class View {
    constructor(readonly slots: unknown[]) {}
  }
  for (const [name, spec] of Object.entries(fields)) {
    if (typeof spec === "number") {
      Object.defineProperty(View.prototype, name, {
        get(this: View) { return this.slots[spec]; },
        set(this: View, v: unknown) { this.slots[spec] = v; },
        enumerable: true,
      });
    } else {
      const [slot, shift, bits] = spec;
      const mask = 2 ** bits - 1;
      Object.defineProperty(View.prototype, name, {
        get(this: View) { return (Number(this.slots[slot]) >>> shift) & mask; },
        set(this: View, v: number) {
          const old = Number(this.slots[slot]) >>> 0;
          this.slots[slot] = ((old & ~(mask << shift)) | ((v & mask) << shift)) >>> 0;
        },
        enumerable: true,
      });
    }
  }
  return View as unknown as new (slots: unknown[]) => T;
}

/** Parameters.Create (x64 layout: SecurityContext, Options, USHORT FileAttributes and ShareAccess, EaLength). */
export interface CreateParameters { SecurityContext: unknown; Options: number; FileAttributes: number; ShareAccess: number; EaLength: number }
/** Parameters.Read and Parameters.Write. */
export interface ReadWriteParameters { Length: number; Key: number; ByteOffset: number }
/** Parameters.DeviceIoControl. */
export interface DeviceIoControlParameters { OutputBufferLength: number; InputBufferLength: number; IoControlCode: number; Type3InputBuffer: PVOID }
/** Parameters.Power. */
export interface PowerParameters { SystemContext: number; Type: number; State: number; ShutdownType: number }
/** Parameters.QueryInterface (x64 layout: the GUID pointer, USHORT Size and Version, the interface, its data). */
export interface QueryInterfaceParameters { InterfaceType: string; Size: number; Version: number; Interface: unknown; InterfaceSpecificData: unknown }
/** Parameters.Others. */
export interface OtherParameters { Argument1: unknown; Argument2: unknown; Argument3: unknown; Argument4: unknown }

const CreateView = unionView<CreateParameters>({ SecurityContext: 0, Options: 1, FileAttributes: [2, 0, 16], ShareAccess: [2, 16, 16], EaLength: 3 });
const ReadWriteView = unionView<ReadWriteParameters>({ Length: 0, Key: 1, ByteOffset: 2 });
const DeviceIoControlView = unionView<DeviceIoControlParameters>({ OutputBufferLength: 0, InputBufferLength: 1, IoControlCode: 2, Type3InputBuffer: 3 });
const QueryIdView = unionView<{ IdType: number }>({ IdType: 0 });
const QueryDeviceRelationsView = unionView<{ Type: number }>({ Type: 0 });
const DeviceCapabilitiesView = unionView<{ Capabilities: unknown }>({ Capabilities: 0 });
const StartDeviceView = unionView<{ AllocatedResources: unknown; AllocatedResourcesTranslated: unknown }>({ AllocatedResources: 0, AllocatedResourcesTranslated: 1 });
const QueryDeviceTextView = unionView<{ DeviceTextType: number; LocaleId: number }>({ DeviceTextType: 0, LocaleId: 1 });
const QueryInterfaceView = unionView<QueryInterfaceParameters>({ InterfaceType: 0, Size: [1, 0, 16], Version: [1, 16, 16], Interface: 2, InterfaceSpecificData: 3 });
const FilterResourceRequirementsView = unionView<{ IoResourceRequirementList: unknown }>({ IoResourceRequirementList: 0 });
const PowerView = unionView<PowerParameters>({ SystemContext: 0, Type: 1, State: 2, ShutdownType: 3 });
const ScsiView = unionView<{ Srb: unknown }>({ Srb: 0 });
const OthersView = unionView<OtherParameters>({ Argument1: 0, Argument2: 1, Argument3: 2, Argument4: 3 });

/**
 * The Parameters union of a stack location: four pointer-sized slots at offsets 0, 8,
 * 16, 24, read through the member views, so Parameters.Read.Length and
 * Parameters.DeviceIoControl.OutputBufferLength are the same field, as in C.
 */
export class IO_STACK_PARAMETERS {
  /** The four slots (Others.Argument1..4). */
  readonly slots: unknown[] = [0, 0, 0, 0];
  // The common members' views are made with the location (IRPs are recycled, so once per location).
  private readonly create: CreateParameters = new CreateView(this.slots);
  private readonly readWrite: ReadWriteParameters = new ReadWriteView(this.slots);
  private readonly ioctl: DeviceIoControlParameters = new DeviceIoControlView(this.slots);
  private other?: object;

  get Create(): CreateParameters { return this.create; }
  get Read(): ReadWriteParameters { return this.readWrite; }
  get Write(): ReadWriteParameters { return this.readWrite; }
  get DeviceIoControl(): DeviceIoControlParameters { return this.ioctl; }
  get QueryId(): { IdType: number } { return this.otherView(QueryIdView); }
  get QueryDeviceRelations(): { Type: number } { return this.otherView(QueryDeviceRelationsView); }
  get DeviceCapabilities(): { Capabilities: unknown } { return this.otherView(DeviceCapabilitiesView); }
  get StartDevice(): { AllocatedResources: unknown; AllocatedResourcesTranslated: unknown } { return this.otherView(StartDeviceView); }
  get QueryDeviceText(): { DeviceTextType: number; LocaleId: number } { return this.otherView(QueryDeviceTextView); }
  get QueryInterface(): QueryInterfaceParameters { return this.otherView(QueryInterfaceView); }
  get FilterResourceRequirements(): { IoResourceRequirementList: unknown } { return this.otherView(FilterResourceRequirementsView); }
  get Power(): PowerParameters { return this.otherView(PowerView); }
  /** Parameters.Scsi.Srb (IRP_MJ_SCSI). */
  get Scsi(): { Srb: unknown } { return this.otherView(ScsiView); }
  get Others(): OtherParameters { return this.otherView(OthersView); }

  /** The rarer members share one cache entry (a location is read through one of them at a time). */
  private otherView<T>(View: new (slots: unknown[]) => T): T {
    if (!(this.other instanceof View)) this.other = new View(this.slots) as object;
    return this.other as T;
  }

  /** Forgets the view of a rarer member made last (a recycled IRP's locations look as new ones do). */
  forgetViews(): void {
    this.other = undefined;
  }

  /** Copies another location's parameters. */
  copyFrom(other: IO_STACK_PARAMETERS): void {
    for (let i = 0; i < 4; i++) this.slots[i] = other.slots[i];
  }
}

/** IO_STACK_LOCATION. */
export class IO_STACK_LOCATION {
  MajorFunction = 0;
  MinorFunction = 0;
  Flags = 0;
  Control = 0;
  readonly Parameters = new IO_STACK_PARAMETERS();
  DeviceObject: DEVICE_OBJECT | null = null;
  FileObject: unknown = null;
  CompletionRoutine: PIO_COMPLETION_ROUTINE | null = null;
  Context: unknown = null;
  /** Driver that set CompletionRoutine (attribution). */
  completionOwner = "nt";
  /** The verifier's pending audit of the dispatch routine called at this location (only with the verifier on). */
  audit: PendingAudit | null = null;

  /** Clears the location (as the I/O manager does once a driver is done with it). */
  clear(): void {
    this.MajorFunction = 0;
    this.MinorFunction = 0;
    this.Flags = 0;
    this.Control = 0;
    const slots = this.Parameters.slots;
    slots[0] = 0;
    slots[1] = 0;
    slots[2] = 0;
    slots[3] = 0;
    this.DeviceObject = null;
    this.FileObject = null;
    this.CompletionRoutine = null;
    this.Context = null;
  }
}

/** Cancel routine: (DeviceObject, Irp). */
export type PDRIVER_CANCEL = (DeviceObject: DEVICE_OBJECT, Irp: IRP) => void;

/** An I/O request packet. */
export class IRP {
  readonly Type = 6;
  /** Kernel-space address of the IRP (for bug check parameters and inspection). */
  address: number;
  /** Serial number, for trace async slices. */
  serial: number;
  MdlAddress: unknown = null;
  Flags = 0;
  readonly AssociatedIrp = { SystemBuffer: 0 as PVOID, MasterIrp: null as IRP | null, IrpCount: 0 };
  readonly IoStatus = new IO_STATUS_BLOCK();
  RequestorMode: KPROCESSOR_MODE = KPROCESSOR_MODE.KernelMode;
  PendingReturned = false;
  readonly StackCount: number;
  /** 1-based index of the current stack location; StackCount + 1 when none is current. */
  CurrentLocation: number;
  Cancel = false;
  CancelIrql: KIRQL = 0;
  CancelRoutine: PDRIVER_CANCEL | null = null;
  /** Driver that set CancelRoutine (attribution). */
  cancelOwner = "nt";
  UserBuffer: PVOID = 0;
  UserEvent: KEVENT | null = null;
  UserIosb: IO_STATUS_BLOCK | null = null;
  readonly Tail = {
    Overlay: {
      Thread: null as KTHREAD | null, ListEntry: null as unknown, DriverContext: [null, null, null, null] as unknown[],
      /** The IRP's entry in a device queue (IoStartPacket); its container is the IRP. */
      DeviceQueueEntry: new KDEVICE_QUEUE_ENTRY(this),
    },
  };
  readonly Stack: IO_STACK_LOCATION[];
  /** True once IoCallDriver has sent the IRP to its first driver. */
  dispatched = false;
  /** The I/O manager's list of live IRPs (src/io/live-irps.ts). */
  liveNext: IRP | null = null;
  livePrev: IRP | null = null;
  isLive = false;
  /** True once IoCompleteRequest has run the whole stack. */
  completed = false;
  /** Trace name while the IRP's async slice is open ("" otherwise). */
  traced = "";
  /** Called when completion reaches the top of the stack (the I/O manager's own requests). */
  onCompleted: ((irp: IRP) => void) | null = null;
  /** What onCompleted works on (the I/O manager's request for the IRP), so no closure is made per IRP. */
  onCompletedContext: unknown = null;

  /** Where writes to a next location that does not exist land (C would scribble before the IRP). */
  readonly beyondStack = new IO_STACK_LOCATION();

  constructor(stackSize: number, address: number, serial: number) {
    this.serial = serial;
    this.StackCount = stackSize;
    this.CurrentLocation = stackSize + 1;
    this.address = address;
    const stack: IO_STACK_LOCATION[] = [];
    for (let i = 0; i < stackSize; i++) stack.push(new IO_STACK_LOCATION());
    this.Stack = stack;
  }

  /** Makes a freed IRP as IoAllocateIrp returns a new one, at a new address and serial. */
  reset(address: number, serial: number): void {
    this.address = address;
    this.serial = serial;
    this.reinitialize(STATUS_SUCCESS);
    for (const location of this.Stack) forgetAudit(location);
    forgetAudit(this.beyondStack);
    this.dispatched = false;
    this.traced = "";
  }

  /** What IoReuseIrp resets: the IRP as IoInitializeIrp left it, IoStatus.Status set to `status`, every location cleared. */
  reinitialize(status: NTSTATUS): void {
    this.MdlAddress = null;
    this.Flags = 0;
    const a = this.AssociatedIrp;
    a.SystemBuffer = 0;
    a.MasterIrp = null;
    a.IrpCount = 0;
    this.IoStatus.Status = status;
    this.IoStatus.Information = 0;
    this.RequestorMode = KPROCESSOR_MODE.KernelMode;
    this.PendingReturned = false;
    this.CurrentLocation = this.StackCount + 1;
    this.Cancel = false;
    this.CancelIrql = 0;
    this.CancelRoutine = null;
    this.cancelOwner = "nt";
    this.UserBuffer = 0;
    this.UserEvent = null;
    this.UserIosb = null;
    const o = this.Tail.Overlay;
    o.Thread = null;
    o.ListEntry = null;
    o.DriverContext.fill(null);
    o.DeviceQueueEntry.SortKey = 0;
    o.DeviceQueueEntry.Inserted = false;
    for (const location of this.Stack) {
      location.clear();
      location.completionOwner = "nt";
    }
    this.beyondStack.clear();
    this.completed = false;
    this.onCompleted = null;
    this.onCompletedContext = null;
  }
}

/** A recycled location: no pending audit, no parameter views made for its last IRP. */
function forgetAudit(location: IO_STACK_LOCATION): void {
  location.audit = null;
  location.Parameters.forgetViews();
}

/** Freed IRPs that wait before one of their size is reused. */
const FREED_IRP_QUARANTINE = 64;
/** Most freed IRPs of one size kept. */
const FREED_IRP_LIMIT = 1024;
/** Freed IRPs by stack size (index). */
const freedIrps: QuarantineRing<IRP>[] = [];

/** Bytes of an IRP with `n` stack locations (IoSizeOfIrp). */
export function IoSizeOfIrp(StackSize: number): number {
  return 0xD0 + StackSize * 0x48;
}

/**
 * IoAllocateIrp: an IRP with `StackSize` locations and no current location, or null when
 * it cannot be allocated (Low Resources Simulation fails a verified driver's calls).
 */
export function IoAllocateIrp(StackSize: number, ChargeQuota: boolean): IRP | null {
  const k = KE();
  if (lowResourceFailure(k, -1, "IoAllocateIrp")) {
    k.chargePs(k.cost.IoAllocateIrp);
    return null;
  }
  return allocateKernelIrp(StackSize);
}

/**
 * An IRP with `StackSize` locations that the kernel allocates for itself (the PnP and
 * power managers' own requests): as IoAllocateIrp, never failed on purpose (Low Resources
 * Simulation fails drivers' allocations, not the kernel's).
 */
export function allocateKernelIrp(StackSize: number): IRP {
  const k = KE();
  k.chargePs(k.cost.IoAllocateIrp);
  k.recorder.stats.irps++;
  const address = k.objectAddress(IoSizeOfIrp(StackSize));
  const serial = k.nextIrpSerial++;
  let irp = freedIrps[StackSize]?.take() ?? null;
  if (irp) irp.reset(address, serial);
  else irp = new IRP(StackSize, address, serial);
  IO(k).irps.add(irp);
  return irp;
}

/** IoFreeIrp. */
export function IoFreeIrp(Irp: IRP): void {
  const k = KE();
  k.chargePs(k.cost.IoFreeIrp);
  IO(k).irps.delete(Irp);
  Irp.Tail.Overlay.Thread = null;
  if (Irp.traced) k.recorder.asyncEnd(Irp.serial, Irp.traced, "irp", k.cpu.time, { status: statusName(Irp.IoStatus.Status) });
  Irp.traced = "";
  if (Irp.StackCount > 0) (freedIrps[Irp.StackCount] ??= new QuarantineRing<IRP>(FREED_IRP_QUARANTINE, FREED_IRP_LIMIT)).put(Irp);
}

/** IoGetCurrentIrpStackLocation. */
export function IoGetCurrentIrpStackLocation(Irp: IRP): IO_STACK_LOCATION {
  return Irp.Stack[Irp.CurrentLocation - 1];
}

/** IoGetNextIrpStackLocation: the location the next lower driver will see. */
export function IoGetNextIrpStackLocation(Irp: IRP): IO_STACK_LOCATION {
  return Irp.Stack[Irp.CurrentLocation - 2] ?? Irp.beyondStack;
}

/** IoSkipCurrentIrpStackLocation: the next lower driver reuses the current location. */
export function IoSkipCurrentIrpStackLocation(Irp: IRP): void {
  Irp.CurrentLocation++;
}

/** IoSetNextIrpStackLocation: makes the next location current (for IRPs a driver sends itself). */
export function IoSetNextIrpStackLocation(Irp: IRP): void {
  Irp.CurrentLocation--;
}

/** IoCopyCurrentIrpStackLocationToNext: copies all but the completion routine, its context and the control flags. */
export function IoCopyCurrentIrpStackLocationToNext(Irp: IRP): void {
  const cur = IoGetCurrentIrpStackLocation(Irp);
  const next = IoGetNextIrpStackLocation(Irp);
  next.MajorFunction = cur.MajorFunction;
  next.MinorFunction = cur.MinorFunction;
  next.Flags = cur.Flags;
  next.Parameters.copyFrom(cur.Parameters);
  next.FileObject = cur.FileObject;
  next.DeviceObject = cur.DeviceObject;
  next.CompletionRoutine = null;
  next.Context = null;
  next.Control = 0;
}

/** IoSetCompletionRoutine: sets the routine in the NEXT location with its invoke conditions. */
export function IoSetCompletionRoutine(Irp: IRP, CompletionRoutine: PIO_COMPLETION_ROUTINE | null, Context: unknown, InvokeOnSuccess: boolean, InvokeOnError: boolean, InvokeOnCancel: boolean): void {
  const next = IoGetNextIrpStackLocation(Irp);
  next.CompletionRoutine = CompletionRoutine;
  next.Context = Context;
  next.completionOwner = KE().attribution().driver;
  next.Control = 0;
  if (InvokeOnSuccess) next.Control |= SL_INVOKE_ON_SUCCESS;
  if (InvokeOnError) next.Control |= SL_INVOKE_ON_ERROR;
  if (InvokeOnCancel) next.Control |= SL_INVOKE_ON_CANCEL;
}

/** IoMarkIrpPending: marks the current location pending. */
export function IoMarkIrpPending(Irp: IRP): void {
  IoGetCurrentIrpStackLocation(Irp).Control |= SL_PENDING_RETURNED;
}

/**
 * The pending rule, checked once both halves are known: what the dispatch routine
 * returned, and whether its location was marked pending when completion passed it
 * (by IoMarkIrpPending in the dispatch routine, or by a completion routine propagating
 * PendingReturned for an IRP it passed down). Kept only while the verifier is on.
 */
interface PendingAudit {
  irp: IRP;
  device: DEVICE_OBJECT;
  irqlBefore: KIRQL;
  location: IO_STACK_LOCATION;
  /** The dispatch routine called (blamed for a broken rule). */
  dispatch: PDRIVER_DISPATCH;
  returned?: NTSTATUS;
  marked?: boolean;
}

function auditPending(a: PendingAudit): void {
  if (a.returned === undefined || a.marked === undefined) return;
  if (a.location.audit === a) a.location.audit = null;
  const wrong = a.returned === STATUS_PENDING ? !a.marked : a.marked;
  if (!wrong) return;
  // P2 the address in the driver's code where the error was found (its dispatch routine), P3 the IRP, P4 the status; the routine is blamed.
  const k = KE();
  const driver = a.device.DriverObject;
  const routine = a.dispatch.name || "DispatchRoutine";
  const code = a.returned === STATUS_PENDING ? VERIFIER_PENDING_NOT_MARKED : VERIFIER_MARKED_NOT_PENDING;
  k.invoke(driver.serviceName, routine, () => k.bugCheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, code, MM(k).codeAddress(driver.serviceName, routine), a.irp.address, a.returned! >>> 0));
}

/** The verifier's checks once a dispatch routine has returned `status`: same IRQL as it was called at, and the pending rule. */
function dispatchReturned(audit: PendingAudit, status: NTSTATUS): NTSTATUS {
  const k = KE();
  // A dispatch routine returns at the IRQL it was called at.
  if (k.cpu.irql !== audit.irqlBefore) k.bugCheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, VERIFIER_IRQL_CHANGED_IN_DISPATCH, audit.device.address, audit.irqlBefore, k.cpu.irql);
  audit.returned = status;
  auditPending(audit);
  return status;
}

/**
 * IoCallDriver: makes the next location current, stores the device in it and calls the
 * driver's dispatch routine for its major function; returns exactly what it returned.
 * No location left is 0x35 NO_MORE_IRP_STACK_LOCATIONS.
 */
export function IoCallDriver(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS | Promise<NTSTATUS> {
  const k = KE();
  k.chargePs(k.cost.IoCallDriver);
  const irqlBefore = k.cpu.irql;
  if (k.verifier && irqlBefore > DISPATCH_LEVEL) k.bugCheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, VERIFIER_CALL_ABOVE_DISPATCH, irqlBefore, 0, 0);
  Irp.CurrentLocation--;
  if (Irp.CurrentLocation <= 0) k.bugCheck(NO_MORE_IRP_STACK_LOCATIONS, Irp.address, 0, 0, 0);
  const location = IoGetCurrentIrpStackLocation(Irp);
  location.DeviceObject = DeviceObject;
  const driver = DeviceObject.DriverObject;
  if (!Irp.dispatched) {
    Irp.dispatched = true;
    // Whoever sends a PnP or power IRP starts it at STATUS_NOT_SUPPORTED, so a driver that does not handle it can pass it on untouched.
    const major = location.MajorFunction;
    if (k.verifier && (major === IRP_MJ_PNP || major === IRP_MJ_POWER) && Irp.IoStatus.Status !== STATUS_NOT_SUPPORTED) {
      const who = k.attribution();
      k.bugCheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, major === IRP_MJ_PNP ? VERIFIER_PNP_IRP_BAD_INITIAL_STATUS : VERIFIER_POWER_IRP_BAD_INITIAL_STATUS,
        MM(k).codeAddress(who.driver, who.routine), Irp.address, DeviceObject.address);
    }
  }
  if (Irp.CurrentLocation === Irp.StackCount && !Irp.traced && k.recorder.enabled) {
    Irp.traced = minorFunctionName(location.MajorFunction, location.MinorFunction) ?? IRP_MJ_NAMES[location.MajorFunction] ?? "IRP";
    k.recorder.asyncBegin(Irp.serial, Irp.traced, "irp", k.cpu.time, { irp: formatPointer(Irp.address), device: DeviceObject.name || driver.DriverName });
  }
  const dispatch = driver.MajorFunction[location.MajorFunction];
  if (!k.verifier) return k.invokeRoutine(driver.serviceName, dispatch, "DispatchRoutine", DeviceObject, Irp);
  const audit: PendingAudit = { irp: Irp, device: DeviceObject, irqlBefore, location, dispatch };
  location.audit = audit;
  const result = k.invokeRoutine(driver.serviceName, dispatch, "DispatchRoutine", DeviceObject, Irp);
  return result instanceof Promise ? result.then((status) => dispatchReturned(audit, status)) : dispatchReturned(audit, result);
}

/**
 * IoCompleteRequest: walks the stack upward from the current location, calling each
 * completion routine whose condition holds, propagating pending where no routine runs;
 * STATUS_MORE_PROCESSING_REQUIRED from a routine stops the walk. Completing an IRP twice
 * is 0x44 MULTIPLE_IRP_COMPLETE_REQUESTS.
 */
export function IoCompleteRequest(Irp: IRP, PriorityBoost: number): void {
  const k = KE();
  k.chargePs(k.cost.IoCompleteRequest);
  if (Irp.completed) k.bugCheck(MULTIPLE_IRP_COMPLETE_REQUESTS, Irp.address, 0, 0, 0);
  k.recorder.stats.irpCompletions++;
  const status = Irp.IoStatus.Status;
  if (k.verifier) {
    if (status === STATUS_PENDING || status === -1) k.bugCheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, VERIFIER_IO_COMPLETE_PENDING, status >>> 0, Irp.address, 0);
    if (Irp.CancelRoutine) k.bugCheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, VERIFIER_IO_COMPLETE_CANCEL_ROUTINE, MM(k).codeAddress(Irp.cancelOwner, Irp.CancelRoutine.name || "CancelRoutine"), Irp.address, 0);
  }
  while (Irp.CurrentLocation <= Irp.StackCount) {
    const location = IoGetCurrentIrpStackLocation(Irp);
    Irp.PendingReturned = (location.Control & SL_PENDING_RETURNED) !== 0;
    const audit = location.audit;
    if (audit) {
      audit.marked = Irp.PendingReturned;
      auditPending(audit);
    }
    const routine = location.CompletionRoutine;
    const context = location.Context;
    const control = location.Control;
    const owner = location.completionOwner;
    location.clear();
    Irp.CurrentLocation++;
    const s = Irp.IoStatus.Status;
    const invoke = routine !== null && (
      (NT_SUCCESS(s) && (control & SL_INVOKE_ON_SUCCESS) !== 0)
      || (!NT_SUCCESS(s) && (control & SL_INVOKE_ON_ERROR) !== 0)
      || (Irp.Cancel && (control & SL_INVOKE_ON_CANCEL) !== 0));
    if (invoke) {
      // A routine of a driver that has been unloaded: its code is gone.
      if (IO(k).unloadedServices.has(owner)) {
        const at = MM(k).codeAddress(owner, routine!.name || "CompletionRoutine");
        k.bugCheck(DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS, at, 0, at, 0);
      }
      const device = Irp.CurrentLocation <= Irp.StackCount ? IoGetCurrentIrpStackLocation(Irp).DeviceObject : null;
      const pendingBelow = Irp.PendingReturned;
      const r = k.invokeRoutine(owner, routine!, "CompletionRoutine", device, Irp, context);
      if (r === STATUS_MORE_PROCESSING_REQUIRED) return;
      // The routine owns pending propagation: with PendingReturned set, its own location must now be marked.
      if (k.verifier && pendingBelow && device && (IoGetCurrentIrpStackLocation(Irp).Control & SL_PENDING_RETURNED) === 0) {
        k.bugCheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, VERIFIER_COMPLETION_PENDING_NOT_PROPAGATED, MM(k).codeAddress(owner, routine!.name || "CompletionRoutine"), Irp.address, device.address);
      }
    } else if (Irp.PendingReturned && Irp.CurrentLocation <= Irp.StackCount) {
      IoMarkIrpPending(Irp);
    }
  }
  Irp.completed = true;
  Irp.onCompleted?.(Irp);
}
