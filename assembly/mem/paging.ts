// x86-64 4-level paging facts: page-table entry bits, page-fault error code bits and the
// canonical 48-bit virtual address space.

/** Entry present. */
export const PTE_P: u64 = 1 << 0;
/** Writable. */
export const PTE_RW: u64 = 1 << 1;
/** User accessible. */
export const PTE_US: u64 = 1 << 2;
/** Write-through. */
export const PTE_PWT: u64 = 1 << 3;
/** Cache disable. */
export const PTE_PCD: u64 = 1 << 4;
/** Accessed (set by the walker). */
export const PTE_A: u64 = 1 << 5;
/** Dirty (set by the walker on write, leaf only). */
export const PTE_D: u64 = 1 << 6;
/** Page size (large page); the machine supports 4 KiB pages only, so it is a reserved bit here. */
export const PTE_PS: u64 = 1 << 7;
/** Global: survives CR3 reloads in the TLB. */
export const PTE_G: u64 = 1 << 8;
/** No-execute. */
export const PTE_NX: u64 = <u64>1 << 63;
/** Physical frame address bits 51:12. */
export const PTE_ADDRESS_MASK: u64 = 0x000FFFFFFFFFF000;

/** Access flag: write. */
export const ACCESS_WRITE: u32 = 1;
/** Access flag: user-mode access. */
export const ACCESS_USER: u32 = 2;
/** Access flag: instruction fetch. */
export const ACCESS_EXECUTE: u32 = 4;

/** Page-fault error code: protection violation (clear: page not present). */
export const PF_PRESENT: u32 = 1 << 0;
/** Page-fault error code: write access. */
export const PF_WRITE: u32 = 1 << 1;
/** Page-fault error code: user-mode access. */
export const PF_USER: u32 = 1 << 2;
/** Page-fault error code: reserved bit set in a paging entry. */
export const PF_RESERVED: u32 = 1 << 3;
/** Page-fault error code: instruction fetch. */
export const PF_FETCH: u32 = 1 << 4;

/** Bytes of a page. */
export const PAGE_SIZE: u64 = 4096;
/** One past the highest virtual address the machine translates (48 bits, lower-half form). */
export const VA_LIMIT: u64 = <u64>1 << 48;
