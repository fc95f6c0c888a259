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
