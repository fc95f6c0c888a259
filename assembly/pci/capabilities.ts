// The capability list of a function (shared/specs/pci.md): MSI, MSI-X, power management
// and PCI Express, each at the offset its device file gives, chained in offset order from
// the capabilities pointer. Writes to a capability's registers come back here for their
// side effects: MSI and MSI-X enable and masking, the power state, and the payload and
// read-request sizes the link then uses.

import { pciFunction, functionLink } from "./function";
import { configDefine, configPeek, configSetBits } from "./config";
import {
  CAP_ID_MSI, CAP_ID_PCIE, CAP_ID_PM, CFG_CAPABILITIES_PTR, CFG_STATUS, MSI_ADDRESS_HI, MSI_ADDRESS_LO, MSI_CONTROL, MSI_CTL_64BIT,
  MSI_CTL_ENABLE, MSI_CTL_MASKING, MSI_CTL_MMC_SHIFT, MSI_CTL_MME_SHIFT, MSIX_CONTROL, PCIE_CAPABILITIES, PCIE_DEVCTL_MPS_SHIFT,
  PCIE_DEVCTL_MRRS_SHIFT, PCIE_DEVICE_CAPABILITIES, PCIE_DEVICE_CONTROL, PCIE_DEVICE_STATUS, PCIE_LINK_CAPABILITIES,
  PCIE_LINK_CAPABILITIES_2, PCIE_LINK_CONTROL, PCIE_LINK_CONTROL_2, PCIE_LINK_STATUS, PM_PMC, PM_PMCSR, PM_STATE_D0, PM_STATE_D3HOT,
  STS_CAPABILITIES, msiDataOffset, msiMaskOffset, msiPendingOffset, PCIE_CAPABILITY_BYTES,
} from "./header";
import { DeviceConfig, MSI_FLAG_64BIT, MSI_FLAG_MASKING } from "../platform/config";
import { msixBuild, msixReleasePending } from "./msix";
import { msiReleasePending } from "../irq/msi";
import { intxUpdate } from "../irq/intx";
import { decodeRebuild } from "./decode";

const KIND_MSI: u32 = 1;
const KIND_MSIX: u32 = 2;
const KIND_PM: u32 = 3;
const KIND_PCIE: u32 = 4;

/** Bytes each capability occupies. */
function capabilityBytes(kind: u32, cfg: DeviceConfig): u32 {
  if (kind == KIND_MSI) {
    const is64 = (cfg.msiFlags & MSI_FLAG_64BIT) != 0;
    const masking = (cfg.msiFlags & MSI_FLAG_MASKING) != 0;
    return masking ? (is64 ? 0x18 : 0x14) : (is64 ? 0x0E : 0x0A);
  }
  if (kind == KIND_MSIX) return 0x0C;
  if (kind == KIND_PM) return 0x08;
  return PCIE_CAPABILITY_BYTES;
}

function offsetOf(kind: u32, cfg: DeviceConfig): u32 {
  if (kind == KIND_MSI) return cfg.msiVectors != 0 ? cfg.msiOffset : 0;
  if (kind == KIND_MSIX) return cfg.msixVectors != 0 ? cfg.msixOffset : 0;
  if (kind == KIND_PM) return cfg.pmOffset;
  return cfg.pcieOffset;
}

/** True when the configured capabilities fit in config space, are dword aligned and do not overlap. */
export function capabilitiesValid(cfg: DeviceConfig): bool {
  for (let a: u32 = KIND_MSI; a <= KIND_PCIE; a++) {
    const oa = offsetOf(a, cfg);
    if (oa == 0) continue;
    if (oa < 0x40 || (oa & 3) != 0 || oa + capabilityBytes(a, cfg) > 0x100) return false;
    for (let b: u32 = a + 1; b <= KIND_PCIE; b++) {
      const ob = offsetOf(b, cfg);
      if (ob != 0 && oa < ob + capabilityBytes(b, cfg) && ob < oa + capabilityBytes(a, cfg)) return false;
    }
  }
  if (cfg.msiVectors != 0 && (cfg.msiVectors > 32 || (cfg.msiVectors & (cfg.msiVectors - 1)) != 0)) return false;
  if (cfg.msixVectors > 2048 || (cfg.msixVectors != 0 && (cfg.msixTableBar > 5 || cfg.msixPbaBar > 5 || (cfg.msixTableOffset & 7) != 0 || (cfg.msixPbaOffset & 7) != 0))) return false;
  return true;
}

function buildMsi(fn: u32, cfg: DeviceConfig, cap: u32, next: u32): void {
  const is64 = (cfg.msiFlags & MSI_FLAG_64BIT) != 0;
  const masking = (cfg.msiFlags & MSI_FLAG_MASKING) != 0;
  const mmc = <u32>ctz<u32>(cfg.msiVectors);
  const control = (mmc << MSI_CTL_MMC_SHIFT) | (is64 ? MSI_CTL_64BIT : 0) | (masking ? MSI_CTL_MASKING : 0);
  // Multiple Message Enable is writable only up to what Multiple Message Capable allows.
  const mmeMask: u32 = mmc == 0 ? 0 : ((<u32>1 << (32 - clz<u32>(mmc))) - 1) << MSI_CTL_MME_SHIFT;
  configDefine(fn, cap, 1, CAP_ID_MSI, 0);
  configDefine(fn, cap + 1, 1, next, 0);
  configDefine(fn, cap + MSI_CONTROL, 2, control, MSI_CTL_ENABLE | mmeMask);
  configDefine(fn, cap + MSI_ADDRESS_LO, 4, 0, 0xFFFFFFFC);
  if (is64) configDefine(fn, cap + MSI_ADDRESS_HI, 4, 0, 0xFFFFFFFF);
  configDefine(fn, cap + msiDataOffset(is64), 2, 0, 0xFFFF);
  if (masking) {
    const vectorBits: u32 = cfg.msiVectors == 32 ? 0xFFFFFFFF : (<u32>1 << cfg.msiVectors) - 1;
    configDefine(fn, cap + msiMaskOffset(is64), 4, 0, vectorBits);
    configDefine(fn, cap + msiPendingOffset(is64), 4, 0, 0);
  }
  pciFunction(fn).msiCap = cap;
}

function buildPm(fn: u32, cap: u32, next: u32): void {
  configDefine(fn, cap, 1, CAP_ID_PM, 0);
  configDefine(fn, cap + 1, 1, next, 0);
  // PMC: version 3 (PCI PM 1.2), no D1/D2, no PME.
  configDefine(fn, cap + PM_PMC, 2, 0x0003, 0);
  // PMCSR: power state RW (1:0), No_Soft_Reset (3) set: D3hot to D0 keeps the function's state.
  configDefine(fn, cap + PM_PMCSR, 2, 0x0008, 0x0003);
  pciFunction(fn).pmCap = cap;
}

/** Log2 of bytes / 128 (PCI Express payload-size encoding), capped at 5 (4096). */
function sizeCode(bytes: u32): u32 {
  let code: u32 = 0;
  while (code < 5 && (<u32>128 << (code + 1)) <= bytes) code++;
  return code;
}

function buildPcie(fn: u32, cfg: DeviceConfig, cap: u32, next: u32): void {
  const speed = cfg.linkGeneration;
  const width = cfg.linkWidth;
  configDefine(fn, cap, 1, CAP_ID_PCIE, 0);
  configDefine(fn, cap + 1, 1, next, 0);
  configDefine(fn, cap + PCIE_CAPABILITIES, 2, 0x0002 | (cfg.pcieType << 4), 0);
  configDefine(fn, cap + PCIE_DEVICE_CAPABILITIES, 4, sizeCode(cfg.maxPayloadSupported) | 0x8000, 0);
  // Device Control: firmware has programmed the payload and read-request sizes the device file gives.
  const control = (sizeCode(cfg.maxPayloadSize) << PCIE_DEVCTL_MPS_SHIFT) | (sizeCode(cfg.maxReadRequestSize) << PCIE_DEVCTL_MRRS_SHIFT);
  configDefine(fn, cap + PCIE_DEVICE_CONTROL, 2, control, 0x7FFF);
  configDefine(fn, cap + PCIE_DEVICE_STATUS, 2, 0, 0, 0x000F);
  configDefine(fn, cap + PCIE_LINK_CAPABILITIES, 4, speed | (width << 4), 0);
  configDefine(fn, cap + PCIE_LINK_CONTROL, 2, 0, 0x01CB);
  configDefine(fn, cap + PCIE_LINK_STATUS, 2, speed | (width << 4) | 0x2000, 0);
  configDefine(fn, cap + PCIE_LINK_CAPABILITIES_2, 4, ((<u32>1 << speed) - 1) << 1, 0);
  configDefine(fn, cap + PCIE_LINK_CONTROL_2, 2, speed, 0x000F);
  pciFunction(fn).pcieCap = cap;
}

/** Builds every configured capability and chains them in offset order. False when MSI-X storage cannot be allocated. */
export function capabilitiesBuild(fn: u32, cfg: DeviceConfig): bool {
  // Walk the offsets from high to low so each capability knows the next one's offset.
  let next: u32 = 0;
  for (let at: u32 = 0xFC; at >= 0x40; at -= 4) {
    let kind: u32 = 0;
    for (let k: u32 = KIND_MSI; k <= KIND_PCIE; k++) if (offsetOf(k, cfg) == at) kind = k;
    if (kind == 0) continue;
    if (kind == KIND_MSI) buildMsi(fn, cfg, at, next);
    else if (kind == KIND_MSIX) {
      if (!msixBuild(fn, at, cfg.msixVectors, cfg.msixTableBar, cfg.msixTableOffset, cfg.msixPbaBar, cfg.msixPbaOffset, next)) return false;
    } else if (kind == KIND_PM) buildPm(fn, at, next);
    else buildPcie(fn, cfg, at, next);
    next = at;
  }
  if (next != 0) {
    configDefine(fn, CFG_CAPABILITIES_PTR, 1, next, 0);
    configSetBits(fn, CFG_STATUS, STS_CAPABILITIES, true);
  }
  return true;
}

/** True while function `fn` is in D3hot (it neither decodes memory nor masters the bus). */
export function poweredDown(fn: u32): bool {
  const cap = pciFunction(fn).pmCap;
  return cap != 0 && (configPeek(fn, cap + PM_PMCSR, 2) & 3) == PM_STATE_D3HOT;
}

/** Side effects of a config write to dword `dword` that changed `old` to `merged`. */
export function capabilityWritten(fn: u32, dword: u32, old: u32, merged: u32): void {
  const f = pciFunction(fn);
  if (f.msiCap != 0 && dword >= f.msiCap && dword < f.msiCap + 0x18) {
    if (dword == f.msiCap && ((old ^ merged) & (MSI_CTL_ENABLE << 16)) != 0) intxUpdate(fn);
    msiReleasePending(fn);
  }
  if (f.msixCap != 0 && dword == f.msixCap) {
    intxUpdate(fn);
    msixReleasePending(fn);
  }
  if (f.pmCap != 0 && dword == f.pmCap + PM_PMCSR) {
    // Only D0 and D3hot exist here; any other state written leaves the old one.
    const state = merged & 3;
    if (state != PM_STATE_D0 && state != PM_STATE_D3HOT) {
      configDefine(fn, f.pmCap + PM_PMCSR, 2, (merged & ~3) | (old & 3), 0x0003);
    }
    decodeRebuild();
  }
  if (f.pcieCap != 0 && dword == f.pcieCap + PCIE_DEVICE_CONTROL) {
    const link = functionLink(fn);
    link.maxPayload = <u32>128 << ((merged >> PCIE_DEVCTL_MPS_SHIFT) & 7);
    link.maxReadRequest = <u32>128 << ((merged >> PCIE_DEVCTL_MRRS_SHIFT) & 7);
  }
}
