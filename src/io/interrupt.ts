/**
 * Connecting interrupts. IoConnectInterruptEx with CONNECT_MESSAGE_BASED creates one
 * interrupt object per message the PnP manager assigned to the device, and reports each
 * message's address, data, vector, IRQL and target processors in
 * IO_INTERRUPT_MESSAGE_INFO; a device that got a line interrupt instead is connected to
 * FallBackServiceRoutine, and Version comes back CONNECT_LINE_BASED. CONNECT_LINE_BASED
 * connects the device's line; CONNECT_FULLY_SPECIFIED and IoConnectInterrupt take the
 * translated vector, IRQL and affinity from the caller. Line interrupts are
 * level-sensitive and shareable: objects on one vector are called in connection order
 * until one returns TRUE. The first connection to a line programs its I/O APIC entry and
 * the last disconnection masks it.
 */
import { KE, type Kernel } from "../ke/kernel.js";
import {
  KINTERRUPT, KINTERRUPT_MODE, connectInterruptObject, connectedTo, disconnectInterruptObject,
  type PKMESSAGE_SERVICE_ROUTINE, type PKSERVICE_ROUTINE,
} from "../ke/interrupt.js";
import type { KSPIN_LOCK } from "../ke/spinlock.js";
import {
  STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER, STATUS_INVALID_PARAMETER_1, STATUS_INVALID_PARAMETER_10, STATUS_NOT_FOUND,
  STATUS_SUCCESS, type NTSTATUS,
} from "../ke/ntstatus.js";
import type { KIRQL } from "../ke/irql.js";
import { HAL } from "../hal/hal.js";
import { disableLine, enableLine } from "../hal/ioapic.js";
import type { DEVICE_OBJECT } from "./objects.js";

export { KINTERRUPT_MODE };

export const CONNECT_FULLY_SPECIFIED = 1;
export const CONNECT_LINE_BASED = 2;
export const CONNECT_MESSAGE_BASED = 3;
export const CONNECT_FULLY_SPECIFIED_GROUP = 4;

/** One message's details. */
export interface IO_INTERRUPT_MESSAGE_INFO_ENTRY {
  MessageAddress: number;
  TargetProcessorSet: number;
  InterruptObject: KINTERRUPT;
  MessageData: number;
  Vector: number;
  Irql: KIRQL;
  Mode: KINTERRUPT_MODE;
  Polarity: number;
}

/** IO_INTERRUPT_MESSAGE_INFO. */
export interface IO_INTERRUPT_MESSAGE_INFO {
  UnifiedIrql: KIRQL;
  MessageCount: number;
  MessageInfo: IO_INTERRUPT_MESSAGE_INFO_ENTRY[];
}

/** The ConnectionContext union: the message table (message-based) or the interrupt object (line-based, fully specified). */
export interface IO_CONNECTION_CONTEXT {
  InterruptMessageTable: IO_INTERRUPT_MESSAGE_INFO | null;
  InterruptObject: KINTERRUPT | null;
}

/** IO_CONNECT_INTERRUPT_LINE_BASED_PARAMETERS. */
export interface IO_CONNECT_INTERRUPT_LINE_BASED_PARAMETERS {
  PhysicalDeviceObject: DEVICE_OBJECT;
  /** Out: the interrupt object. */
  InterruptObject: KINTERRUPT | null;
  ServiceRoutine: PKSERVICE_ROUTINE;
  ServiceContext: unknown;
  SpinLock: KSPIN_LOCK | null;
  SynchronizeIrql: KIRQL;
  FloatingSave: boolean;
}

/** IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS: the line-based members and the translated interrupt. */
export interface IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS extends IO_CONNECT_INTERRUPT_LINE_BASED_PARAMETERS {
  ShareVector: boolean;
  /** Translated vector. */
  Vector: number;
  Irql: KIRQL;
  InterruptMode: KINTERRUPT_MODE;
  /** Processors, bit per processor number. */
  ProcessorEnableMask: number;
}

/** IO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS. */
export interface IO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS {
  PhysicalDeviceObject: DEVICE_OBJECT;
  /** Out: the message table, or the line's interrupt object after a fallback. */
  ConnectionContext: IO_CONNECTION_CONTEXT;
  MessageServiceRoutine: PKMESSAGE_SERVICE_ROUTINE;
  ServiceContext: unknown;
  SpinLock: KSPIN_LOCK | null;
  SynchronizeIrql: KIRQL;
  FloatingSave: boolean;
  FallBackServiceRoutine: PKSERVICE_ROUTINE | null;
}

/** IO_CONNECT_INTERRUPT_PARAMETERS: Version selects the member in use. */
export interface IO_CONNECT_INTERRUPT_PARAMETERS {
  /** In: CONNECT_FULLY_SPECIFIED, CONNECT_LINE_BASED or CONNECT_MESSAGE_BASED. Out: the kind actually connected. */
  Version: number;
  FullySpecified?: IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS;
  LineBased?: IO_CONNECT_INTERRUPT_LINE_BASED_PARAMETERS;
  MessageBased?: IO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS;
}

/** What connecting one interrupt object needs. */
interface ObjectSpec {
  ServiceRoutine: PKSERVICE_ROUTINE;
  ServiceContext: unknown;
  SpinLock: KSPIN_LOCK | null;
  Vector: number;
  Irql: KIRQL;
  SynchronizeIrql: KIRQL;
  InterruptMode: KINTERRUPT_MODE;
  ShareVector: boolean;
  ProcessorEnableMask: number;
}

/** Processor numbers in `mask` that exist. */
function processorsIn(k: Kernel, mask: number): number[] {
  return k.processors.map((p) => p.Number).filter((n) => Math.floor(mask / 2 ** n) % 2 === 1);
}

/** An interrupt object (KeInitializeInterrupt) owned by the calling driver; the caller sets its routine. */
function newInterrupt(
  k: Kernel, context: unknown, lock: KSPIN_LOCK | null, vector: number, irql: KIRQL, synchronizeIrql: KIRQL, processors: number[],
): KINTERRUPT {
  const i = new KINTERRUPT();
  i.ServiceContext = context;
  if (lock) i.ActualLock = lock;
  i.Vector = vector;
  i.Irql = irql;
  i.SynchronizeIrql = synchronizeIrql;
  i.Processors = processors;
  i.owner = k.attribution().driver;
  return i;
}

/**
 * Creates and connects one interrupt object (KeInitializeInterrupt + KeConnectInterrupt):
 * fails with STATUS_INVALID_PARAMETER when the vector is taken by an object that does not
 * share, or in another mode; the first object on an I/O APIC line unmasks it.
 */
function connectObject(spec: ObjectSpec): { status: NTSTATUS; InterruptObject: KINTERRUPT | null } {
  const k = KE();
  const processors = processorsIn(k, spec.ProcessorEnableMask);
  if (processors.length === 0 || spec.SynchronizeIrql < spec.Irql) return { status: STATUS_INVALID_PARAMETER, InterruptObject: null };
  const others = processors.flatMap((n) => connectedTo(k, n, spec.Vector));
  if (others.some((o) => !spec.ShareVector || !o.ShareVector || o.Mode !== spec.InterruptMode)) {
    return { status: STATUS_INVALID_PARAMETER, InterruptObject: null };
  }
  const i = newInterrupt(k, spec.ServiceContext, spec.SpinLock, spec.Vector, spec.Irql, spec.SynchronizeIrql, processors);
  i.ServiceRoutine = spec.ServiceRoutine;
  i.Mode = spec.InterruptMode;
  i.ShareVector = spec.ShareVector;
  connectInterruptObject(k, i);
  const hal = HAL(k);
  const gsi = hal.gsiOfVector(spec.Vector);
  if (gsi >= 0 && others.length === 0) {
    const target = hal.lineVector(gsi).processor;
    const processor = processors.includes(target) ? target : processors[0];
    enableLine(gsi, spec.Vector, hal.platform.processors[processor]?.apicId ?? processor);
  }
  return { status: STATUS_SUCCESS, InterruptObject: i };
}

/** Disconnects one interrupt object; the last object on an I/O APIC line masks it. */
function disconnectObject(i: KINTERRUPT): void {
  const k = KE();
  if (!i.Connected) return;
  disconnectInterruptObject(k, i);
  const gsi = HAL(k).gsiOfVector(i.Vector);
  if (gsi >= 0 && k.processors.every((p) => connectedTo(k, p.Number, i.Vector).length === 0)) disableLine(gsi);
}

/**
 * IoConnectInterrupt: connects ServiceRoutine to a translated vector on the processors
 * in ProcessorEnableMask. Returns the status and the interrupt object.
 */
export function IoConnectInterrupt(
  ServiceRoutine: PKSERVICE_ROUTINE, ServiceContext: unknown, SpinLock: KSPIN_LOCK | null, Vector: number, Irql: KIRQL,
  SynchronizeIrql: KIRQL, InterruptMode: KINTERRUPT_MODE, ShareVector: boolean, ProcessorEnableMask: number, _FloatingSave: boolean,
): { status: NTSTATUS; InterruptObject: KINTERRUPT | null } {
  return connectObject({ ServiceRoutine, ServiceContext, SpinLock, Vector, Irql, SynchronizeIrql, InterruptMode, ShareVector, ProcessorEnableMask });
}

/** IoDisconnectInterrupt: disconnects an object IoConnectInterrupt connected. */
export function IoDisconnectInterrupt(InterruptObject: KINTERRUPT): void {
  disconnectObject(InterruptObject);
}

/** Connects the device's line interrupt to `routine` (CONNECT_LINE_BASED and the message-based fallback). */
function connectLine(
  pdo: DEVICE_OBJECT, routine: PKSERVICE_ROUTINE, context: unknown, lock: KSPIN_LOCK | null, synchronizeIrql: KIRQL,
): { status: NTSTATUS; InterruptObject: KINTERRUPT | null } {
  const line = pdo.resources?.lines[0];
  if (!line) return { status: STATUS_NOT_FOUND, InterruptObject: null };
  return connectObject({
    ServiceRoutine: routine, ServiceContext: context, SpinLock: lock, Vector: line.vector, Irql: line.irql,
    SynchronizeIrql: Math.max(synchronizeIrql, line.irql), InterruptMode: KINTERRUPT_MODE.LevelSensitive, ShareVector: true,
    ProcessorEnableMask: 2 ** line.processor,
  });
}

/** Connects one object per assigned message and fills the message table. */
function connectMessages(p: IO_CONNECT_INTERRUPT_MESSAGE_BASED_PARAMETERS): NTSTATUS {
  const k = KE();
  const messages = p.PhysicalDeviceObject.resources!.messages;
  const unified = Math.max(p.SynchronizeIrql, ...messages.map((m) => m.irql));
  const entries: IO_INTERRUPT_MESSAGE_INFO_ENTRY[] = messages.map((m, index) => {
    const i = newInterrupt(k, p.ServiceContext, p.SpinLock, m.vector, m.irql, unified, [m.processor]);
    i.MessageServiceRoutine = p.MessageServiceRoutine;
    i.MessageIndex = index;
    connectInterruptObject(k, i);
    return {
      MessageAddress: m.address, TargetProcessorSet: 2 ** m.processor, InterruptObject: i, MessageData: m.data,
      Vector: m.vector, Irql: m.irql, Mode: KINTERRUPT_MODE.Latched, Polarity: 0,
    };
  });
  p.ConnectionContext.InterruptMessageTable = { UnifiedIrql: unified, MessageCount: entries.length, MessageInfo: entries };
  p.ConnectionContext.InterruptObject = entries[0]?.InterruptObject ?? null;
  return STATUS_SUCCESS;
}

/** Connects a driver's interrupt routine(s); see the file comment. */
export function IoConnectInterruptEx(Parameters: IO_CONNECT_INTERRUPT_PARAMETERS): NTSTATUS {
  switch (Parameters.Version) {
    case CONNECT_FULLY_SPECIFIED: {
      const p = Parameters.FullySpecified;
      if (!p) return STATUS_INVALID_PARAMETER;
      if (processorsIn(KE(), p.ProcessorEnableMask).length === 0) return STATUS_INVALID_PARAMETER_10;
      const r = connectObject({ ...p });
      p.InterruptObject = r.InterruptObject;
      return r.status;
    }
    case CONNECT_LINE_BASED: {
      const p = Parameters.LineBased;
      if (!p?.PhysicalDeviceObject?.resources) return STATUS_INVALID_PARAMETER;
      if (p.PhysicalDeviceObject.resources.messages.length > 0) return STATUS_INVALID_DEVICE_REQUEST;
      const r = connectLine(p.PhysicalDeviceObject, p.ServiceRoutine, p.ServiceContext, p.SpinLock, p.SynchronizeIrql);
      p.InterruptObject = r.InterruptObject;
      return r.status;
    }
    case CONNECT_MESSAGE_BASED: {
      const p = Parameters.MessageBased;
      if (!p?.PhysicalDeviceObject?.resources) return STATUS_INVALID_PARAMETER;
      if (p.PhysicalDeviceObject.resources.messages.length > 0) return connectMessages(p);
      if (!p.FallBackServiceRoutine) return STATUS_NOT_FOUND;
      const r = connectLine(p.PhysicalDeviceObject, p.FallBackServiceRoutine, p.ServiceContext, p.SpinLock, p.SynchronizeIrql);
      if (r.status === STATUS_SUCCESS) {
        Parameters.Version = CONNECT_LINE_BASED;
        p.ConnectionContext.InterruptMessageTable = null;
        p.ConnectionContext.InterruptObject = r.InterruptObject;
      }
      return r.status;
    }
    default:
      return STATUS_INVALID_PARAMETER_1;
  }
}

/** IO_DISCONNECT_INTERRUPT_PARAMETERS: Version is what IoConnectInterruptEx returned in its Version. */
export interface IO_DISCONNECT_INTERRUPT_PARAMETERS {
  Version: number;
  ConnectionContext: IO_CONNECTION_CONTEXT;
}

/** IoDisconnectInterruptEx: disconnects what IoConnectInterruptEx connected. */
export function IoDisconnectInterruptEx(Parameters: IO_DISCONNECT_INTERRUPT_PARAMETERS): void {
  const k = KE();
  const c = Parameters.ConnectionContext;
  if (Parameters.Version === CONNECT_MESSAGE_BASED) {
    for (const e of c.InterruptMessageTable?.MessageInfo ?? []) disconnectInterruptObject(k, e.InterruptObject);
  } else if (c.InterruptObject) {
    disconnectObject(c.InterruptObject);
  }
  c.InterruptMessageTable = null;
  c.InterruptObject = null;
}
