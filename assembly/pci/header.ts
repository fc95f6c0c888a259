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

/** MSI-X: message control, 16 bits at +2 (table size - 1 in 10:0, function mask 14, enable 15). */
export const MSIX_CONTROL: u32 = 0x02;
/** MSI-X: table offset | BIR at +4. */
export const MSIX_TABLE: u32 = 0x04;
/** MSI-X: PBA offset | BIR at +8. */
export const MSIX_PBA: u32 = 0x08;
/** MSI-X control: function mask. */
export const MSIX_CTL_FUNCTION_MASK: u32 = 0x4000;
/** MSI-X control: enable. */
export const MSIX_CTL_ENABLE: u32 = 0x8000;
/** MSI-X table entry bytes. */
export const MSIX_ENTRY_BYTES: u32 = 16;
/** MSI-X table entry: vector control at +12, bit 0 masked. */
export const MSIX_ENTRY_VECTOR_CONTROL: u32 = 12;

/** Power management: PMC at +2, PMCSR at +4 (power state in bits 1:0). */
export const PM_PMC: u32 = 0x02;
/** Power management control/status register. */
export const PM_PMCSR: u32 = 0x04;
/** PMCSR power state D0. */
export const PM_STATE_D0: u32 = 0;
/** PMCSR power state D3hot. */
export const PM_STATE_D3HOT: u32 = 3;

/** PCI Express capability: PCIe Capabilities register at +2 (version 3:0, type 7:4). */
export const PCIE_CAPABILITIES: u32 = 0x02;
/** PCI Express: Device Capabilities (+4): Max_Payload_Size Supported in 2:0. */
export const PCIE_DEVICE_CAPABILITIES: u32 = 0x04;
/** PCI Express: Device Control (+8): MPS 7:5, MRRS 14:12. */
export const PCIE_DEVICE_CONTROL: u32 = 0x08;
/** PCI Express: Device Status (+0xA), bits 3:0 write-1-to-clear error flags. */
export const PCIE_DEVICE_STATUS: u32 = 0x0A;
/** PCI Express: Link Capabilities (+0xC): max speed 3:0, max width 9:4, port number 31:24. */
export const PCIE_LINK_CAPABILITIES: u32 = 0x0C;
/** PCI Express: Link Control (+0x10). */
export const PCIE_LINK_CONTROL: u32 = 0x10;
/** PCI Express: Link Status (+0x12): current speed 3:0, negotiated width 9:4, DLL link active 13. */
export const PCIE_LINK_STATUS: u32 = 0x12;
/** PCI Express: Link Capabilities 2 (+0x2C): supported speeds vector in 7:1. */
export const PCIE_LINK_CAPABILITIES_2: u32 = 0x2C;
/** PCI Express: Link Control 2 (+0x30): target link speed 3:0. */
export const PCIE_LINK_CONTROL_2: u32 = 0x30;
/** Bytes of the PCI Express capability (version 2). */
export const PCIE_CAPABILITY_BYTES: u32 = 0x3C;
/** Device Control: Max_Payload_Size field shift (3 bits, 128 << n bytes). */
export const PCIE_DEVCTL_MPS_SHIFT: u32 = 5;
/** Device Control: Max_Read_Request_Size field shift (3 bits, 128 << n bytes). */
export const PCIE_DEVCTL_MRRS_SHIFT: u32 = 12;

// Type 1 (PCI-to-PCI bridge) header.
/** Primary bus number, 8 bits. */
export const CFG_PRIMARY_BUS: u32 = 0x18;
/** Secondary bus number, 8 bits. */
export const CFG_SECONDARY_BUS: u32 = 0x19;
/** Subordinate bus number, 8 bits. */
export const CFG_SUBORDINATE_BUS: u32 = 0x1A;
/** Secondary latency timer, 8 bits. */
export const CFG_SECONDARY_LATENCY: u32 = 0x1B;
/** I/O base and limit, 8 bits each. */
export const CFG_IO_BASE: u32 = 0x1C;
/** Secondary status, 16 bits (w1c error bits as the primary status). */
export const CFG_SECONDARY_STATUS: u32 = 0x1E;
/** Memory base (bits 15:4 = address 31:20), 16 bits. */
export const CFG_MEMORY_BASE: u32 = 0x20;
/** Memory limit (bits 15:4 = address 31:20 of the last MiB), 16 bits. */
export const CFG_MEMORY_LIMIT: u32 = 0x22;
/** Prefetchable memory base, 16 bits (bits 3:0 = 1: 64-bit). */
export const CFG_PREFETCH_BASE: u32 = 0x24;
/** Prefetchable memory limit, 16 bits. */
export const CFG_PREFETCH_LIMIT: u32 = 0x26;
/** Prefetchable base, upper 32 bits. */
export const CFG_PREFETCH_BASE_UPPER: u32 = 0x28;
/** Prefetchable limit, upper 32 bits. */
export const CFG_PREFETCH_LIMIT_UPPER: u32 = 0x2C;
/** Bridge control, 16 bits. */
export const CFG_BRIDGE_CONTROL: u32 = 0x3E;
/** Header type value of a PCI-to-PCI bridge. */
export const HEADER_TYPE_BRIDGE: u32 = 0x01;
