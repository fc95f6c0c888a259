/**
 * Hardware resources as the PnP manager hands them to a driver in IRP_MN_START_DEVICE:
 * CM_RESOURCE_LIST with CM_PARTIAL_RESOURCE_DESCRIPTORs for memory ranges and (message)
 * interrupts, raw (as the bus sees them) and translated (as the processor sees them).
 */

export const CmResourceTypeNull = 0;
export const CmResourceTypePort = 1;
export const CmResourceTypeInterrupt = 2;
export const CmResourceTypeMemory = 3;
export const CmResourceTypeBusNumber = 6;

export const CmResourceShareUndetermined = 0;
export const CmResourceShareDeviceExclusive = 1;
export const CmResourceShareShared = 3;

/** Interrupt flags. */
export const CM_RESOURCE_INTERRUPT_LEVEL_SENSITIVE = 0x0;
export const CM_RESOURCE_INTERRUPT_LATCHED = 0x1;
export const CM_RESOURCE_INTERRUPT_MESSAGE = 0x2;
/** Memory flags. */
export const CM_RESOURCE_MEMORY_READ_WRITE = 0x0;
export const CM_RESOURCE_MEMORY_PREFETCHABLE = 0x4;

/** CM_PARTIAL_RESOURCE_DESCRIPTOR (the fields of the union members in use here). */
export interface CM_PARTIAL_RESOURCE_DESCRIPTOR {
  Type: number;
  ShareDisposition: number;
  Flags: number;
  u: {
    /** CmResourceTypeMemory / CmResourceTypePort: physical start and length in bytes. */
    Memory?: { Start: number; Length: number };
    Port?: { Start: number; Length: number };
    /** Line-based interrupt. */
    Interrupt?: { Level: number; Vector: number; Affinity: number };
    /** Message-signalled interrupt (Flags has CM_RESOURCE_INTERRUPT_MESSAGE). */
    MessageInterrupt?: {
      Raw: { MessageCount: number; Vector: number; Affinity: number };
      Translated: { Level: number; Vector: number; Affinity: number };
    };
  };
}

/** CM_PARTIAL_RESOURCE_LIST. */
export interface CM_PARTIAL_RESOURCE_LIST {
  Version: number;
  Revision: number;
  Count: number;
  PartialDescriptors: CM_PARTIAL_RESOURCE_DESCRIPTOR[];
}

/** CM_FULL_RESOURCE_DESCRIPTOR. */
export interface CM_FULL_RESOURCE_DESCRIPTOR {
  InterfaceType: number;
  BusNumber: number;
  PartialResourceList: CM_PARTIAL_RESOURCE_LIST;
}

/** CM_RESOURCE_LIST. */
export interface CM_RESOURCE_LIST {
  Count: number;
  List: CM_FULL_RESOURCE_DESCRIPTOR[];
}

/** A one-element CM_RESOURCE_LIST for a PCI device. */
export function resourceList(busNumber: number, descriptors: CM_PARTIAL_RESOURCE_DESCRIPTOR[]): CM_RESOURCE_LIST {
  return {
    Count: 1,
    List: [{ InterfaceType: 5, BusNumber: busNumber, PartialResourceList: { Version: 1, Revision: 1, Count: descriptors.length, PartialDescriptors: descriptors } }],
  };
}

/** Raw and translated resources assigned to a device. */
export interface AssignedResources {
  raw: CM_RESOURCE_LIST;
  translated: CM_RESOURCE_LIST;
  /** Message address and data per message, for IO_INTERRUPT_MESSAGE_INFO. */
  messages: { address: number; data: number; vector: number; irql: number; processor: number }[];
  /** Line-based interrupts: the I/O APIC input, and the vector, IRQL and processor it was given. */
  lines: { gsi: number; vector: number; irql: number; processor: number }[];
}

/** u.Interrupt.MaximumVector of a message-signalled interrupt requirement ((ULONG)-2). */
export const CM_RESOURCE_INTERRUPT_MESSAGE_TOKEN = 0xFFFFFFFE;

// IO_RESOURCE_DESCRIPTOR.Option.
export const IO_RESOURCE_PREFERRED = 0x1;
export const IO_RESOURCE_DEFAULT = 0x2;
export const IO_RESOURCE_ALTERNATIVE = 0x8;

/** IO_RESOURCE_DESCRIPTOR: a range of raw resources of one type a device can use (the union members in use here). */
export interface IO_RESOURCE_DESCRIPTOR {
  /** 0, or IO_RESOURCE_PREFERRED / IO_RESOURCE_ALTERNATIVE (an alternative to the descriptor before it). */
  Option: number;
  Type: number;
  ShareDisposition: number;
  Flags: number;
  u: {
    /** Memory: Length bytes aligned to Alignment, within [MinimumAddress, MaximumAddress]. */
    Memory?: { Length: number; Alignment: number; MinimumAddress: number; MaximumAddress: number };
    /**
     * Interrupt: a line within [MinimumVector, MaximumVector] (I/O APIC inputs), or with
     * CM_RESOURCE_INTERRUPT_MESSAGE messages: MaximumVector is CM_RESOURCE_INTERRUPT_MESSAGE_TOKEN
     * and MaximumVector - MinimumVector + 1 is the message count.
     */
    Interrupt?: { MinimumVector: number; MaximumVector: number };
  };
}

/** IO_RESOURCE_LIST: one alternative configuration. */
export interface IO_RESOURCE_LIST {
  Version: number;
  Revision: number;
  Count: number;
  Descriptors: IO_RESOURCE_DESCRIPTOR[];
}

/** IO_RESOURCE_REQUIREMENTS_LIST: what IRP_MN_QUERY_RESOURCE_REQUIREMENTS answers (in IoStatus.Information). */
export interface IO_RESOURCE_REQUIREMENTS_LIST {
  ListSize: number;
  InterfaceType: number;
  BusNumber: number;
  SlotNumber: number;
  AlternativeLists: number;
  List: IO_RESOURCE_LIST[];
}

/** A one-alternative requirements list for a PCI device. */
export function requirementsList(busNumber: number, slotNumber: number, descriptors: IO_RESOURCE_DESCRIPTOR[]): IO_RESOURCE_REQUIREMENTS_LIST {
  return {
    ListSize: 0x48 + 0x20 * descriptors.length, InterfaceType: 5, BusNumber: busNumber, SlotNumber: slotNumber, AlternativeLists: 1,
    List: [{ Version: 1, Revision: 1, Count: descriptors.length, Descriptors: descriptors }],
  };
}

/** Messages a message-interrupt requirement asks for. */
export function messageCount(d: IO_RESOURCE_DESCRIPTOR): number {
  const i = d.u.Interrupt!;
  return (i.MaximumVector >>> 0) - (i.MinimumVector >>> 0) + 1;
}
