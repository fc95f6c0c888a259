/**
 * Direct-call interfaces (IRP_MN_QUERY_INTERFACE): the requester passes an INTERFACE of
 * the size and version it wants; the driver that exports it fills the routines and a
 * Context, and takes a reference (InterfaceReference) the requester drops with
 * InterfaceDereference. BUS_INTERFACE_STANDARD is the one a PCI bus driver exports for
 * configuration space.
 */
import type { DEVICE_DESCRIPTION, DMA_ADAPTER } from "../hal/dma.js";

/** GUID_BUS_INTERFACE_STANDARD. */
export const GUID_BUS_INTERFACE_STANDARD = "{496b8280-6f25-11d0-beaf-08002be2092f}";
/** PCI_WHICHSPACE_CONFIG: GetBusData/SetBusData DataType for configuration space. */
export const PCI_WHICHSPACE_CONFIG = 0x0;

/** INTERFACE: the header every direct-call interface starts with. */
export class INTERFACE {
  /** Bytes of the structure (the requester sets it to what it allocated). */
  Size = 0;
  Version = 0;
  Context: unknown = null;
  InterfaceReference: (Context: unknown) => void = () => {};
  InterfaceDereference: (Context: unknown) => void = () => {};
}

/** BUS_INTERFACE_STANDARD: configuration space, address translation and DMA adapters from the bus driver. */
export class BUS_INTERFACE_STANDARD extends INTERFACE {
  /** sizeof(BUS_INTERFACE_STANDARD) on x64. */
  static readonly SIZE = 0x40;
  /** Reads `Length` bytes of the space at `Offset` into `Buffer` (a kernel virtual address); returns bytes read. */
  GetBusData: (Context: unknown, DataType: number, Buffer: number, Offset: number, Length: number) => number = () => 0;
  /** Writes `Length` bytes from `Buffer` to the space at `Offset`; returns bytes written. */
  SetBusData: (Context: unknown, DataType: number, Buffer: number, Offset: number, Length: number) => number = () => 0;
  /** A bus-relative address as the processor sees it (memory: the same), or null. */
  TranslateBusAddress: (Context: unknown, BusAddress: number, Length: number, AddressSpace: number) => number | null = () => null;
  /** The DMA adapter for the device (IoGetDmaAdapter on its PDO). */
  GetDmaAdapter: (Context: unknown, DeviceDescription: DEVICE_DESCRIPTION) => { DmaAdapter: DMA_ADAPTER | null; NumberOfMapRegisters: number } = () => ({ DmaAdapter: null, NumberOfMapRegisters: 0 });
}
