// The firmware stage: after the core builds the platform, firmware describes it to the
// operating system in guest RAM, as a PC does. An ACPI 2.0 RSDP sits on a 16-byte
// boundary in the BIOS area (0xE0000..0xFFFFF) where the HAL searches for it; its XSDT
// lists a MADT ("APIC": one Processor Local APIC entry per CPU and the I/O APIC), an MCFG
// (the ECAM window), a DMAR when the machine has an IOMMU (its register base), and the
// machine's own "WSIM" table: the CPU clock, a memory map of
// usable RAM, firmware-reserved RAM and the PCI memory window that BARs are assigned from,
// and where each PCI function's INTx pin reaches the I/O APIC (what ACPI's _PRT says).
//
//   WSIM table: ACPI header (36) | cpuKHz u32 | entryCount u32 | entries of 24 bytes
//               | routeCount u32 | routes of 8 bytes
//   entry: base u64 | length u64 | type u32 (WSIM_*) | reserved u32
//   route: bus u8 | device u8 | function u8 | pin u8 (1 = INTA#) | gsi u32

import { core } from "../sim/core";
import { functionCount, pciFunction } from "../pci/function";
import { configPeek } from "../pci/config";
import { CFG_INTERRUPT_PIN } from "../pci/header";
import { intxGsi } from "../irq/intx";
import { IOAPIC_INPUTS, IOAPIC_MMIO_BASE } from "../irq/ioapic";
import { iommuPresent, IOMMU_MMIO_BASE } from "../dma/iommu";
import { cpuState } from "../sim/cpu";
import { ramCovers, ramCopyIn, ramRegionCount, ramRegionBase, ramRegionSize } from "../mem/ram";
import { RAM_PAGE_BYTES, SCRATCH_BASE } from "../memmap";
import { platform, FIRMWARE_TABLES_BASE, FIRMWARE_TABLES_SIZE, LAPIC_WINDOW_BASE } from "./platform";
import { machineConfig } from "./config";

/** WSIM memory-map entry type: RAM the operating system may use. */
export const WSIM_RAM: u32 = 1;
/** WSIM memory-map entry type: RAM that firmware keeps (the first MiB). */
export const WSIM_RESERVED: u32 = 2;
/** WSIM memory-map entry type: the window PCI memory BARs are assigned from. */
export const WSIM_PCI_MMIO: u32 = 3;
/** Bytes of the first MiB of RAM that firmware reserves. */
export const FIRMWARE_RESERVED_BYTES: u64 = 0x100000;

const HEADER_BYTES: u32 = 36;

function putString(p: usize, s: string): void {
  for (let i = 0; i < s.length; i++) store<u8>(p + i, <u8>s.charCodeAt(i));
}

function checksum(p: usize, length: u32): u8 {
  let sum: u32 = 0;
  for (let i: u32 = 0; i < length; i++) sum += load<u8>(p + i);
  return <u8>(0x100 - (sum & 0xFF));
}

function put(at: usize, b: u64, len: u64, type: u32): void {
  store<u64>(at, b);
  store<u64>(at, len, 8);
  store<u32>(at, type, 16);
}

function header(p: usize, signature: string, length: u32, revision: u8): void {
  putString(p, signature);
  store<u32>(p, length, 4);
  store<u8>(p, revision, 8);
  putString(p + 10, "WDMSIM");
  putString(p + 16, "WDMSIM  ");
  store<u32>(p, 1, 24);
  putString(p + 28, "WSIM");
  store<u32>(p, 1, 32);
}

function seal(p: usize, length: u32): void {
  store<u8>(p + 9, 0);
  store<u8>(p + 9, checksum(p, length));
}

/**
 * Writes the tables; false when RAM does not back the BIOS area. They are built in the
 * scratch buffer (free during power-on) and copied into guest RAM page by page, so the
 * pages of the area they leave zero stay unbacked.
 */
export function writeFirmwareTables(): bool {
  if (!ramCovers(FIRMWARE_TABLES_BASE, FIRMWARE_TABLES_SIZE)) return false;
  const base: usize = SCRATCH_BASE;
  memory.fill(base, 0, FIRMWARE_TABLES_SIZE);
  const rsdp = base;
  const xsdt = base + 0x40;
  const madt = base + 0x100;
  const mcfg = madt + 0x800;
  const wsim = mcfg + 0x100;

  // MADT: header, local APIC address, flags, a Processor Local APIC entry per CPU, then
  // the I/O APIC (type 1: id, reserved, address, GSI base).
  let length: u32 = HEADER_BYTES + 8 + core.cpuCount * 8 + 12;
  header(madt, "APIC", length, 4);
  store<u32>(madt, <u32>LAPIC_WINDOW_BASE, 36);
  store<u32>(madt, 0, 40);
  for (let i: u32 = 0; i < core.cpuCount; i++) {
    const e = madt + 44 + i * 8;
    store<u8>(e, 0);
    store<u8>(e, 8, 1);
    store<u8>(e, <u8>i, 2);
    store<u8>(e, <u8>cpuState(i).apicId, 3);
    store<u32>(e, 1, 4);
  }
  const io = madt + 44 + core.cpuCount * 8;
  store<u8>(io, 1);
  store<u8>(io, 12, 1);
  store<u8>(io, 0, 2);
  store<u32>(io, <u32>IOAPIC_MMIO_BASE, 4);
  store<u32>(io, 0, 8);
  seal(madt, length);

  // MCFG: header, 8 reserved bytes, one allocation for segment 0.
  length = HEADER_BYTES + 8 + 16;
  header(mcfg, "MCFG", length, 1);
  store<u64>(mcfg, platform.ecamBase, 44);
  store<u16>(mcfg, 0, 52);
  store<u8>(mcfg, 0, 54);
  store<u8>(mcfg, <u8>(platform.ecamBusCount - 1), 55);
  seal(mcfg, length);

  // WSIM: CPU clock and memory map.
  let n: u32 = 0;
  const entries = wsim + HEADER_BYTES + 8;
  for (let i: u32 = 0; i < ramRegionCount(); i++) {
    let b = ramRegionBase(i);
    let len = ramRegionSize(i);
    if (b < FIRMWARE_RESERVED_BYTES) {
      const reserved = min(len, FIRMWARE_RESERVED_BYTES - b);
      put(entries + 24 * n++, b, reserved, WSIM_RESERVED);
      b += reserved; len -= reserved;
    }
    if (len > 0) put(entries + 24 * n++, b, len, WSIM_RAM);
  }
  put(entries + 24 * n++, <u64>machineConfig.mmioWindowBase, <u64>machineConfig.mmioWindowSize, WSIM_PCI_MMIO);
  // INTx routes of every function with a pin, by its power-on bus/device/function.
  const routes = entries + 24 * n;
  let r: u32 = 0;
  for (let fn: u32 = 0; fn < functionCount(); fn++) {
    const pin = configPeek(fn, CFG_INTERRUPT_PIN, 1);
    const gsi = intxGsi(fn);
    if (pin == 0 || gsi >= IOAPIC_INPUTS) continue;
    const at = routes + 4 + 8 * r++;
    const bdf = pciFunction(fn).bdf;
    store<u8>(at, <u8>(bdf >> 8));
    store<u8>(at, <u8>((bdf >> 3) & 0x1F), 1);
    store<u8>(at, <u8>(bdf & 7), 2);
    store<u8>(at, <u8>pin, 3);
    store<u32>(at, gsi, 4);
  }
  store<u32>(routes, r);
  length = HEADER_BYTES + 8 + 24 * n + 4 + 8 * r;
  header(wsim, "WSIM", length, 1);
  store<u32>(wsim, machineConfig.cpuKHz, 36);
  store<u32>(wsim, n, 40);
  seal(wsim, length);

  // DMAR, when the machine has an IOMMU: host address width 48 (stored as 47), then one
  // DRHD (type 0, 16 bytes) covering every PCI device (INCLUDE_PCI_ALL) at its registers.
  const dmar = wsim + 0x800;
  const hasDmar = iommuPresent();
  if (hasDmar) {
    length = HEADER_BYTES + 12 + 16;
    header(dmar, "DMAR", length, 1);
    store<u8>(dmar, 47, 36);
    store<u16>(dmar, 0, 48);
    store<u16>(dmar, 16, 50);
    store<u8>(dmar, 1, 52);
    store<u8>(dmar, 0, 53);
    store<u16>(dmar, 0, 54);
    store<u64>(dmar, IOMMU_MMIO_BASE, 56);
    seal(dmar, length);
  }

  // XSDT: header and the 64-bit table pointers.
  const tables: u32 = hasDmar ? 4 : 3;
  length = HEADER_BYTES + tables * 8;
  header(xsdt, "XSDT", length, 1);
  store<u64>(xsdt, FIRMWARE_TABLES_BASE + <u64>(madt - base), 36);
  store<u64>(xsdt, FIRMWARE_TABLES_BASE + <u64>(mcfg - base), 44);
  store<u64>(xsdt, FIRMWARE_TABLES_BASE + <u64>(wsim - base), 52);
  if (hasDmar) store<u64>(xsdt, FIRMWARE_TABLES_BASE + <u64>(dmar - base), 60);
  seal(xsdt, length);

  // RSDP (ACPI 2.0, 36 bytes): the first 20 bytes have their own checksum.
  putString(rsdp, "RSD PTR ");
  putString(rsdp + 9, "WDMSIM");
  store<u8>(rsdp, 2, 15);
  store<u32>(rsdp, 0, 16);
  store<u32>(rsdp, 36, 20);
  store<u64>(rsdp, FIRMWARE_TABLES_BASE + <u64>(xsdt - base), 24);
  store<u8>(rsdp + 8, checksum(rsdp, 20));
  store<u8>(rsdp + 32, checksum(rsdp, 36));

  for (let at: u32 = 0; at < FIRMWARE_TABLES_SIZE; at += RAM_PAGE_BYTES) {
    ramCopyIn(FIRMWARE_TABLES_BASE + at, base + at, RAM_PAGE_BYTES);
  }
  return true;
}
