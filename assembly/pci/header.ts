// Type 0 configuration header and capability layouts (shared/specs/pci.md), as names.

/** Vendor ID, 16 bits. */
export const CFG_VENDOR_ID: u32 = 0x00;
/** Device ID, 16 bits. */
export const CFG_DEVICE_ID: u32 = 0x02;
/** Command register, 16 bits. */
export const CFG_COMMAND: u32 = 0x04;
/** Status register, 16 bits. */
export const CFG_STATUS: u32 = 0x06;
/** Revision ID, 8 bits. */
export const CFG_REVISION_ID: u32 = 0x08;
/** Class code (prog-if, sub-class, base class), 24 bits from 0x09. */
export const CFG_CLASS_CODE: u32 = 0x09;
/** Cache line size, 8 bits. */
export const CFG_CACHE_LINE_SIZE: u32 = 0x0C;
/** Latency timer, 8 bits. */
export const CFG_LATENCY_TIMER: u32 = 0x0D;
/** Header type, 8 bits (bit 7 multi-function). */
export const CFG_HEADER_TYPE: u32 = 0x0E;
/** BAR0; BARn at CFG_BAR0 + 4n. */
export const CFG_BAR0: u32 = 0x10;
/** Subsystem vendor ID, 16 bits. */
export const CFG_SUBSYSTEM_VENDOR_ID: u32 = 0x2C;
/** Subsystem ID, 16 bits. */
export const CFG_SUBSYSTEM_ID: u32 = 0x2E;
/** Expansion ROM base, 32 bits. */
export const CFG_ROM_BASE: u32 = 0x30;
/** Capabilities pointer, 8 bits. */
export const CFG_CAPABILITIES_PTR: u32 = 0x34;
/** Interrupt line, 8 bits (software scratch). */
export const CFG_INTERRUPT_LINE: u32 = 0x3C;
/** Interrupt pin, 8 bits. */
export const CFG_INTERRUPT_PIN: u32 = 0x3D;

/** Command: I/O space decode. */
export const CMD_IO_SPACE: u32 = 0x0001;
/** Command: memory space decode. */
export const CMD_MEMORY_SPACE: u32 = 0x0002;
/** Command: bus master. */
export const CMD_BUS_MASTER: u32 = 0x0004;
/** Command: parity error response. */
export const CMD_PARITY_ERROR_RESPONSE: u32 = 0x0040;
/** Command: SERR# enable. */
export const CMD_SERR_ENABLE: u32 = 0x0100;
/** Command: INTx disable. */
export const CMD_INTERRUPT_DISABLE: u32 = 0x0400;
/** Command bits software may write. */
export const CMD_WRITABLE: u32 = CMD_IO_SPACE | CMD_MEMORY_SPACE | CMD_BUS_MASTER | CMD_PARITY_ERROR_RESPONSE | CMD_SERR_ENABLE | CMD_INTERRUPT_DISABLE;

/** Status: INTx asserted (read-only). */
export const STS_INTERRUPT: u32 = 0x0008;
/** Status: capabilities list present (read-only). */
export const STS_CAPABILITIES: u32 = 0x0010;
/** Status: master data parity error (w1c). */
export const STS_MASTER_DATA_PARITY: u32 = 0x0100;
/** Status: signalled target abort (w1c). */
export const STS_SIGNALLED_TARGET_ABORT: u32 = 0x0800;
/** Status: received target abort (w1c). */
export const STS_RECEIVED_TARGET_ABORT: u32 = 0x1000;
/** Status: received master abort (w1c). */
export const STS_RECEIVED_MASTER_ABORT: u32 = 0x2000;
/** Status: signalled system error (w1c). */
export const STS_SIGNALLED_SYSTEM_ERROR: u32 = 0x4000;
/** Status: detected parity error (w1c). */
export const STS_DETECTED_PARITY: u32 = 0x8000;
/** Status bits cleared by writing 1. */
export const STS_W1C: u32 = STS_MASTER_DATA_PARITY | STS_SIGNALLED_TARGET_ABORT | STS_RECEIVED_TARGET_ABORT | STS_RECEIVED_MASTER_ABORT | STS_SIGNALLED_SYSTEM_ERROR | STS_DETECTED_PARITY;

/** BAR low bit: I/O space. */
export const BAR_IO: u32 = 0x1;
/** BAR type field: 64-bit memory. */
export const BAR_MEM_64: u32 = 0x4;
/** BAR: prefetchable. */
export const BAR_PREFETCHABLE: u32 = 0x8;

/** Capability ID: power management. */
export const CAP_ID_PM: u32 = 0x01;
/** Capability ID: MSI. */
export const CAP_ID_MSI: u32 = 0x05;
/** Capability ID: PCI Express. */
export const CAP_ID_PCIE: u32 = 0x10;
/** Capability ID: MSI-X. */
export const CAP_ID_MSIX: u32 = 0x11;

/** MSI: message control, 16 bits at +2. */
export const MSI_CONTROL: u32 = 0x02;
/** MSI: message address low at +4. */
export const MSI_ADDRESS_LO: u32 = 0x04;
/** MSI: message address high at +8 (64-bit form). */
export const MSI_ADDRESS_HI: u32 = 0x08;
/** MSI control: enable. */
export const MSI_CTL_ENABLE: u32 = 0x0001;
/** MSI control: multiple message capable, bits 3:1. */
export const MSI_CTL_MMC_SHIFT: u32 = 1;
/** MSI control: multiple message enable, bits 6:4. */
export const MSI_CTL_MME_SHIFT: u32 = 4;
/** MSI control: 64-bit address capable. */
export const MSI_CTL_64BIT: u32 = 0x0080;
/** MSI control: per-vector masking capable. */
export const MSI_CTL_MASKING: u32 = 0x0100;

/** Offset of the message data inside an MSI capability. */
export function msiDataOffset(is64: bool): u32 { return is64 ? 0x0C : 0x08; }
/** Offset of the mask bits inside an MSI capability with masking. */
export function msiMaskOffset(is64: bool): u32 { return is64 ? 0x10 : 0x0C; }
/** Offset of the pending bits inside an MSI capability with masking. */
export function msiPendingOffset(is64: bool): u32 { return is64 ? 0x14 : 0x10; }
