/**
 * PCI configuration access through ECAM: the HAL maps the window the MCFG table names
 * and reads and writes it with uncached accesses, so every configuration access is a
 * timed request to the function (or all ones for a function that does not exist).
 */
import { KE } from "../ke/kernel.js";
import { MmMapIoSpace, MEMORY_CACHING_TYPE } from "../mm/physical.js";
import { HAL } from "./hal.js";
import { READ_REGISTER_UCHAR, READ_REGISTER_ULONG, READ_REGISTER_USHORT, WRITE_REGISTER_UCHAR, WRITE_REGISTER_ULONG, WRITE_REGISTER_USHORT } from "./registers.js";

/** BUS_DATA_TYPE. */
export enum BUS_DATA_TYPE {
  Cmos = 0,
  PCIConfiguration = 4,
}

/** PCI_SLOT_NUMBER.u.AsULONG from device and function numbers. */
export function PCI_SLOT_NUMBER(DeviceNumber: number, FunctionNumber: number): number {
  return (DeviceNumber & 0x1F) | ((FunctionNumber & 0x7) << 5);
}

/** Bytes of configuration space per function in ECAM. */
export const PCI_CONFIG_SPACE_BYTES = 4096;

function ecamAddress(bus: number, device: number, fn: number, offset: number): number {
  const hal = HAL();
  const { ecam } = hal.platform;
  if (hal.ecamVa === 0) {
    const buses = ecam.endBus - ecam.startBus + 1;
    hal.ecamVa = MmMapIoSpace(ecam.base, buses << 20, MEMORY_CACHING_TYPE.MmNonCached);
  }
  return hal.ecamVa + (((bus - ecam.startBus) << 20) | (device << 15) | (fn << 12)) + offset;
}

/** Reads `size` (1, 2, 4) bytes of configuration space (aligned). */
export function readConfig(bus: number, device: number, fn: number, offset: number, size: 1 | 2 | 4): number {
  const k = KE();
  k.chargePs(k.cost.ConfigAccess);
  const a = ecamAddress(bus, device, fn, offset);
  return size === 1 ? READ_REGISTER_UCHAR(a) : size === 2 ? READ_REGISTER_USHORT(a) : READ_REGISTER_ULONG(a);
}

/** Writes `size` (1, 2, 4) bytes of configuration space (aligned). */
export function writeConfig(bus: number, device: number, fn: number, offset: number, size: 1 | 2 | 4, value: number): void {
  const k = KE();
  k.chargePs(k.cost.ConfigAccess);
  const a = ecamAddress(bus, device, fn, offset);
  if (size === 1) WRITE_REGISTER_UCHAR(a, value);
  else if (size === 2) WRITE_REGISTER_USHORT(a, value);
  else WRITE_REGISTER_ULONG(a, value);
}

/** Whether bus `bus` is inside the ECAM window. */
export function busInEcam(bus: number): boolean {
  const { ecam } = HAL().platform;
  return bus >= ecam.startBus && bus <= ecam.endBus;
}

/**
 * The aligned accesses (offset, size, index into the buffer) that cover `Length` bytes
 * of a function's configuration space from `Offset`; bounded by the space and the buffer.
 */
function* configChunks(Offset: number, Length: number, bufferLength: number): Generator<{ at: number; size: 1 | 2 | 4; index: number }> {
  const n = Math.max(0, Math.min(Length, PCI_CONFIG_SPACE_BYTES - Offset, bufferLength));
  for (let i = 0; i < n; ) {
    const at = Offset + i;
    const size: 1 | 2 | 4 = at % 4 === 0 && n - i >= 4 ? 4 : at % 2 === 0 && n - i >= 2 ? 2 : 1;
    yield { at, size, index: i };
    i += size;
  }
}

/**
 * HalGetBusDataByOffset: reads `Length` bytes of a function's configuration space at
 * `Offset` into `Buffer`; returns the bytes read (a function that does not exist reads
 * as all ones: vendor ID 0xFFFF).
 */
export function HalGetBusDataByOffset(BusDataType: BUS_DATA_TYPE, BusNumber: number, SlotNumber: number, Buffer: Uint8Array, Offset: number, Length: number): number {
  if (BusDataType !== BUS_DATA_TYPE.PCIConfiguration || !busInEcam(BusNumber)) return 0;
  let done = 0;
  for (const { at, size, index } of configChunks(Offset, Length, Buffer.length)) {
    const v = readConfig(BusNumber, SlotNumber & 0x1F, (SlotNumber >> 5) & 0x7, at, size);
    for (let b = 0; b < size; b++) Buffer[index + b] = (v >>> (8 * b)) & 0xFF;
    done = index + size;
  }
  return done;
}

/** HalSetBusDataByOffset: writes `Length` bytes from `Buffer` at `Offset`; returns the bytes written. */
export function HalSetBusDataByOffset(BusDataType: BUS_DATA_TYPE, BusNumber: number, SlotNumber: number, Buffer: Uint8Array, Offset: number, Length: number): number {
  if (BusDataType !== BUS_DATA_TYPE.PCIConfiguration || !busInEcam(BusNumber)) return 0;
  let done = 0;
  for (const { at, size, index } of configChunks(Offset, Length, Buffer.length)) {
    let v = 0;
    for (let b = 0; b < size; b++) v |= Buffer[index + b] << (8 * b);
    writeConfig(BusNumber, SlotNumber & 0x1F, (SlotNumber >> 5) & 0x7, at, size, v >>> 0);
    done = index + size;
  }
  return done;
}

/** A PDO's place on its bus: bus number, legacy bus type (INTERFACE_TYPE) and bus-relative address. */
export interface BusLocation {
  BusNumber: number;
  LegacyBusType: number;
  /** For PCI: (device << 16) | function. */
  Address: number;
}
