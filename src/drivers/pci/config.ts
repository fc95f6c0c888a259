/**
 * PCI configuration header offsets and bits the bus driver uses (shared/specs/pci.md),
 * and the PCI_COMMON_CONFIG fields it reads.
 */
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION_ID = 0x08;
export const PCI_CLASS_CODE = 0x09;
export const PCI_HEADER_TYPE = 0x0E;
export const PCI_BASE_ADDRESS_0 = 0x10;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2C;
export const PCI_SUBSYSTEM_ID = 0x2E;
export const PCI_CAPABILITIES_POINTER = 0x34;
export const PCI_INTERRUPT_PIN = 0x3D;

export const PCI_INVALID_VENDORID = 0xFFFF;
export const PCI_MULTIFUNCTION = 0x80;
/** Header type (bits 6:0) of a PCI-to-PCI bridge. */
export const PCI_HEADER_TYPE_BRIDGE = 0x01;
/** Type 1 header: secondary bus number, and the memory and prefetchable memory windows. */
export const PCI_BRIDGE_SECONDARY_BUS = 0x19;
export const PCI_BRIDGE_MEMORY_BASE = 0x20;
export const PCI_BRIDGE_MEMORY_LIMIT = 0x22;
export const PCI_BRIDGE_PREFETCH_BASE = 0x24;
export const PCI_BRIDGE_PREFETCH_LIMIT = 0x26;
/** Bridge memory windows are 1 MiB granular (base and limit bits 31:20 in register bits 15:4). */
export const PCI_BRIDGE_WINDOW_GRANULARITY = 0x100000;

export const PCI_ENABLE_IO_SPACE = 0x0001;
export const PCI_ENABLE_MEMORY_SPACE = 0x0002;
export const PCI_ENABLE_BUS_MASTER = 0x0004;
export const PCI_DISABLE_LEVEL_INTERRUPT = 0x0400;

export const PCI_STATUS_CAPABILITIES_LIST = 0x0010;

export const PCI_ADDRESS_IO_SPACE = 0x1;
export const PCI_ADDRESS_MEMORY_TYPE_MASK = 0x6;
export const PCI_TYPE_64BIT = 0x4;
export const PCI_ADDRESS_MEMORY_PREFETCHABLE = 0x8;

export const PCI_CAPABILITY_ID_MSI = 0x05;
/** MSI message control: enable. */
export const PCI_MSI_ENABLE = 0x0001;
/** MSI message control: 64-bit address capable. */
export const PCI_MSI_64BIT = 0x0080;

export const PCI_CAPABILITY_ID_MSIX = 0x11;
/** MSI-X message control: table size - 1 (bits 10:0), function mask, enable. */
export const PCI_MSIX_TABLE_SIZE_MASK = 0x07FF;
export const PCI_MSIX_FUNCTION_MASK = 0x4000;
export const PCI_MSIX_ENABLE = 0x8000;
/** MSI-X table offset / BIR register (capability + 4): BIR in bits 2:0. */
export const PCI_MSIX_TABLE = 0x4;
export const PCI_MSIX_BIR_MASK = 0x7;
/** One MSI-X table entry: address low, address high, data, vector control (bit 0 masks). */
export const PCI_MSIX_ENTRY_SIZE = 16;
export const PCI_MSIX_ENTRY_VECTOR_CONTROL = 12;
