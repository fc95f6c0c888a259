/**
 * Connecting interrupts: IoConnectInterruptEx with CONNECT_MESSAGE_BASED creates one
 * interrupt object per message the PnP manager assigned to the device, and reports each
 * message's address, data, vector, IRQL and target processors in
 * IO_INTERRUPT_MESSAGE_INFO. Line-based connection, and the fallback to it, needs the
 * interrupt controller's INTx routing, which this machine does not model yet: such a
 * request returns STATUS_NOT_SUPPORTED.
 */
import { KE } from "../ke/kernel.js";
import { KINTERRUPT, connectInterruptObject, disconnectInterruptObject, type PKMESSAGE_SERVICE_ROUTINE, type PKSERVICE_ROUTINE } from "../ke/interrupt.js";
import type { KSPIN_LOCK } from "../ke/spinlock.js";
import { STATUS_INVALID_PARAMETER, STATUS_NOT_SUPPORTED, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";
import type { KIRQL } from "../ke/irql.js";
import type { DEVICE_OBJECT } from "./objects.js";

export const CONNECT_FULLY_SPECIFIED = 1;
export const CONNECT_LINE_BASED = 2;
export const CONNECT_MESSAGE_BASED = 3;
export const CONNECT_FULLY_SPECIFIED_GROUP = 4;

/** KINTERRUPT_MODE. */
export enum KINTERRUPT_MODE {
  LevelSensitive = 0,
  Latched = 1,
}

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

/** IO_CONNECT_INTERRUPT_PARAMETERS (the message-based and line-based members). */
export interface IO_CONNECT_INTERRUPT_PARAMETERS {
  /** In: CONNECT_MESSAGE_BASED or CONNECT_LINE_BASED. Out: the kind actually connected. */
  Version: number;
  MessageBased?: {
    PhysicalDeviceObject: DEVICE_OBJECT;
    /** Out: the message table. */
    ConnectionContext: { InterruptMessageTable: IO_INTERRUPT_MESSAGE_INFO | null; InterruptObject: KINTERRUPT | null };
    MessageServiceRoutine: PKMESSAGE_SERVICE_ROUTINE;
    ServiceContext: unknown;
    SpinLock: KSPIN_LOCK | null;
    SynchronizeIrql: KIRQL;
    FloatingSave: boolean;
    FallBackServiceRoutine: PKSERVICE_ROUTINE | null;
  };
}

/** Connects a driver's interrupt routine(s); see the file comment. */
export function IoConnectInterruptEx(Parameters: IO_CONNECT_INTERRUPT_PARAMETERS): NTSTATUS {
  const k = KE();
  if (Parameters.Version !== CONNECT_MESSAGE_BASED || !Parameters.MessageBased) return STATUS_NOT_SUPPORTED;
  const p = Parameters.MessageBased;
  const resources = p.PhysicalDeviceObject?.resources;
  if (!resources) return STATUS_INVALID_PARAMETER;
  if (resources.messages.length === 0) return STATUS_NOT_SUPPORTED;
  const owner = k.attribution().driver;
  const unified = Math.max(p.SynchronizeIrql, ...resources.messages.map((m) => m.irql));
  const entries: IO_INTERRUPT_MESSAGE_INFO_ENTRY[] = resources.messages.map((m, index) => {
    const i = new KINTERRUPT();
    i.MessageServiceRoutine = p.MessageServiceRoutine;
    i.ServiceContext = p.ServiceContext;
    i.MessageIndex = index;
    i.Vector = m.vector;
    i.Irql = m.irql;
    i.SynchronizeIrql = unified;
    i.Processors = [m.processor];
    i.owner = owner;
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

/** IO_DISCONNECT_INTERRUPT_PARAMETERS. */
export interface IO_DISCONNECT_INTERRUPT_PARAMETERS {
  Version: number;
  ConnectionContext: { InterruptMessageTable: IO_INTERRUPT_MESSAGE_INFO | null; InterruptObject: KINTERRUPT | null };
}

/** IoDisconnectInterruptEx: disconnects what IoConnectInterruptEx connected. */
export function IoDisconnectInterruptEx(Parameters: IO_DISCONNECT_INTERRUPT_PARAMETERS): void {
  const k = KE();
  const table = Parameters.ConnectionContext.InterruptMessageTable;
  for (const e of table?.MessageInfo ?? []) disconnectInterruptObject(k, e.InterruptObject);
  Parameters.ConnectionContext.InterruptMessageTable = null;
}
