/**
 * Platform discovery from the firmware tables in guest RAM, as a PC HAL does: search the
 * BIOS area for the ACPI RSDP, follow the XSDT to the MADT (processors and their APIC
 * IDs), the MCFG (the ECAM window), the DMAR (the IOMMU's registers, when there is
 * one) and the machine's WSIM table (CPU clock, memory map,
 * PCI memory window). The kernel learns the machine from these, never from the JSON.
 */
import type { Core } from "../machine/core.js";
import * as L from "../machine/generated/layout.js";

/** What the HAL learned about the platform. */
export interface PlatformInfo {
  /** Processors in MADT order. */
  processors: { uid: number; apicId: number }[];
  /** Local APIC base (physical). */
  localApicAddress: number;
  /** I/O APICs: MMIO base and first global system interrupt. */
  ioApics: { id: number; address: number; gsiBase: number }[];
  /** Where each PCI function's INTx pin reaches an I/O APIC input (by power-on bus/device/function). */
  intxRoutes: { bus: number; device: number; function: number; pin: number; gsi: number }[];
  /** ECAM window. */
  ecam: { base: number; startBus: number; endBus: number };
  /** CPU clock, kHz. */
  cpuKHz: number;
  /** RAM the operating system may use. */
  usableRam: { base: number; size: number }[];
  /** RAM firmware keeps. */
  reservedRam: { base: number; size: number }[];
  /** Where PCI memory BARs may be placed. */
  pciMmioWindow: { base: number; size: number };
  /** DMA remapping units (DMAR DRHD entries): register base, and whether it covers every PCI device. */
  iommus: { address: number; includeAll: boolean }[];
}

/** The platform cannot be understood (corrupt or missing tables). */
export class FirmwareTableError extends Error {}

function text(b: Uint8Array, at: number, n: number): string {
  return String.fromCharCode(...b.subarray(at, at + n));
}

function checksumOk(b: Uint8Array, at: number, n: number): boolean {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += b[at + i];
  return (sum & 0xFF) === 0;
}

/** Reads a whole ACPI table at `pa`, checking its length and checksum. */
function readTable(core: Core, pa: number, signature: string): Uint8Array {
  const head = core.readPhysical(pa, 36);
  const length = new DataView(head.buffer).getUint32(4, true);
  if (text(head, 0, 4) !== signature) throw new FirmwareTableError(`expected ${signature} at 0x${pa.toString(16)}, found "${text(head, 0, 4)}"`);
  const table = core.readPhysical(pa, length);
  if (!checksumOk(table, 0, length)) throw new FirmwareTableError(`${signature} checksum is wrong`);
  return table;
}

/** Finds and parses the firmware tables. */
export function discoverPlatform(core: Core): PlatformInfo {
  const area = core.readPhysical(0xE0000, 0x20000);
  let rsdp = -1;
  for (let at = 0; at + 36 <= area.length; at += 16) {
    if (text(area, at, 8) === "RSD PTR " && checksumOk(area, at, 20) && checksumOk(area, at, 36)) {
      rsdp = at;
      break;
    }
  }
  if (rsdp < 0) throw new FirmwareTableError("no ACPI RSDP in 0xE0000..0xFFFFF");
  const rv = new DataView(area.buffer, rsdp);
  const xsdtPa = Number(rv.getBigUint64(24, true));
  const xsdt = readTable(core, xsdtPa, "XSDT");
  const xv = new DataView(xsdt.buffer);
  const info: Partial<PlatformInfo> = { iommus: [] };
  for (let at = 36; at + 8 <= xsdt.length; at += 8) {
    const pa = Number(xv.getBigUint64(at, true));
    const sig = text(core.readPhysical(pa, 4), 0, 4);
    const t = readTable(core, pa, sig);
    const v = new DataView(t.buffer);
    if (sig === "APIC") {
      info.localApicAddress = v.getUint32(36, true);
      info.processors = [];
      info.ioApics = [];
      for (let e = 44; e + 2 <= t.length; e += t[e + 1]) {
        if (t[e + 1] === 0) break;
        if (t[e] === 0 && (v.getUint32(e + 4, true) & 1) !== 0) info.processors.push({ uid: t[e + 2], apicId: t[e + 3] });
        if (t[e] === 1) info.ioApics.push({ id: t[e + 2], address: v.getUint32(e + 4, true), gsiBase: v.getUint32(e + 8, true) });
      }
    } else if (sig === "MCFG") {
      info.ecam = { base: Number(v.getBigUint64(44, true)), startBus: t[54], endBus: t[55] };
    } else if (sig === "DMAR") {
      for (let e = 48; e + 4 <= t.length; e += v.getUint16(e + 2, true)) {
        const length = v.getUint16(e + 2, true);
        if (length === 0) break;
        if (v.getUint16(e, true) === 0) {
          info.iommus!.push({ address: Number(v.getBigUint64(e + 8, true)), includeAll: (t[e + 4] & 1) !== 0 });
        }
      }
    } else if (sig === "WSIM") {
      info.cpuKHz = v.getUint32(36, true);
      const n = v.getUint32(40, true);
      info.usableRam = [];
      info.reservedRam = [];
      for (let i = 0; i < n; i++) {
        const e = 44 + 24 * i;
        const base = Number(v.getBigUint64(e, true));
        const size = Number(v.getBigUint64(e + 8, true));
        const type = v.getUint32(e + 16, true);
        if (type === L.WSIM_RAM) info.usableRam.push({ base, size });
        else if (type === L.WSIM_RESERVED) info.reservedRam.push({ base, size });
        else if (type === L.WSIM_PCI_MMIO) info.pciMmioWindow = { base, size };
      }
      const routes = 44 + 24 * n;
      info.intxRoutes = [];
      for (let i = 0; routes + 4 <= t.length && i < v.getUint32(routes, true); i++) {
        const r = routes + 4 + 8 * i;
        info.intxRoutes.push({ bus: t[r], device: t[r + 1], function: t[r + 2], pin: t[r + 3], gsi: v.getUint32(r + 4, true) });
      }
    }
  }
  for (const key of ["processors", "ecam", "cpuKHz", "usableRam", "pciMmioWindow"] as const) {
    if (info[key] === undefined) throw new FirmwareTableError(`the firmware tables do not describe ${key}`);
  }
  return info as PlatformInfo;
}
