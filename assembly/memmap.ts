// The linear-memory map of the machine core: the one place these offsets are written.
//
// The build exports every constant below to TypeScript (src/machine/generated/layout.ts),
// so the kernel side never retypes a number. Each region starts where the previous one
// ends, rounded up to its alignment.
//
//   0x0000_0000 +---------------------------+
//               | runtime: static data      |  AssemblyScript's own data (checked at init)
//   CORE_STATE  +---------------------------+
//               | core state + counters     |  CoreState (sim/core.ts)
//               | cpu table                 |  CpuState x MAX_CPUS (sim/cpu.ts)
//               | tlbs                      |  TlbEntry x TLB_MAX_ENTRIES per cpu (mem/tlb.ts)
//               | config staging            |  MachineConfig / DeviceConfig (platform/config.ts)
//               | scratch                   |  bulk bytes between TypeScript and the core
//   EVENT_QUEUE +---------------------------+
//               | event queue               |  header, timing wheel, record pool, free stack (sim/queue.ts)
//   DEVICE_STATE+---------------------------+
//               | pci function table        |  PciFunction x MAX_FUNCTIONS (pci/function.ts)
//               | config spaces             |  value, writable mask, w1c mask per function
//               | bar decode table          |  DecodeEntry x DECODE_CAPACITY (pci/decode.ts)
//               | device heap               |  per-device model state, bump-allocated
//   TRACE_RING  +---------------------------+
//               | trace records             |  TraceRecord x TRACE_CAPACITY (sim/trace.ts)
//   IOTLB       +---------------------------+
//               | IOMMU translation cache   |  IotlbEntry x IOTLB_MAX_ENTRIES (dma/iommu.ts)
//   FAULT_TABLE +---------------------------+
//               | injected faults           |  fault generator, then FunctionFaults x MAX_FUNCTIONS (pci/injected-faults.ts)
//   RAM_ZERO    +---------------------------+
//               | zero page, zero leaf      |  what unwritten guest RAM reads as (mem/ram.ts)
//   RAM_DIRECTORY --------------------------+
//               | RAM directory             |  a u32 per 4 MiB up to RAM_PHYS_LIMIT (mem/ram.ts);
//               |                           |  only the entries over RAM are ever written
//   POOL        +---------------------------+
//               | backing pool              |  grows on demand (mem/pool.ts): RAM leaf tables,
//               |                           |  guest RAM pages as first written, device backing
//               +---------------------------+  storage, in the order they are asked for
//
// Guest RAM is backed sparsely: a two-level directory maps each 4 KiB guest page to a page
// of the pool, taken when the page is first written (mem/ram.ts). A machine may describe
// RAM up to RAM_PHYS_LIMIT; linear memory holds what the guest has written. The directory
// sits at a fixed address so a lookup uses constants; a fresh (zero) entry means no RAM.

/** Size of one WebAssembly page, bytes. */
export const WASM_PAGE: u32 = 65536;

/** Bytes reserved at the bottom of memory for the AssemblyScript runtime's static data. */
export const RUNTIME_SIZE: u32 = 0x40000;

/** Core state area, bytes from 0: the records below, each after the previous. */
export const CORE_STATE_BASE: u32 = RUNTIME_SIZE;
/** CoreState and its counters (sim/core.ts). */
export const CORE_RECORD_BASE: u32 = CORE_STATE_BASE;
/** Bytes of CoreState and counters. */
export const CORE_RECORD_SIZE: u32 = 0x200;
/** The event the run loop is dispatching (sim/run.ts), one Event record. */
export const CURRENT_EVENT_BASE: u32 = CORE_RECORD_BASE + CORE_RECORD_SIZE;
/** RAM region table (mem/ram.ts). */
export const RAM_TABLE_BASE: u32 = CURRENT_EVENT_BASE + 0x40;
/** Bytes of the RAM region table. */
export const RAM_TABLE_SIZE: u32 = 0x200;
/** Platform record (platform/platform.ts). */
export const PLATFORM_BASE: u32 = RAM_TABLE_BASE + RAM_TABLE_SIZE;
/** Bytes of the platform record. */
export const PLATFORM_SIZE: u32 = 0x100;
/** Bitmap of functions whose INTx line is signalled (irq/intx.ts), one bit per function. */
export const INTX_SIGNALLED_BASE: u32 = PLATFORM_BASE + PLATFORM_SIZE;
/** Bytes of the INTx bitmap (MAX_FUNCTIONS bits, declared below, fit in 0x100). */
export const INTX_SIGNALLED_SIZE: u32 = 0x100;
/** IOAPIC state (irq/ioapic.ts): register select, line levels, redirection table. */
export const IOAPIC_BASE: u32 = INTX_SIGNALLED_BASE + INTX_SIGNALLED_SIZE;
/** Bytes of the IOAPIC state. */
export const IOAPIC_SIZE: u32 = 0x200;
/** IOMMU registers and fault log (dma/iommu.ts). */
export const IOMMU_BASE: u32 = IOAPIC_BASE + IOAPIC_SIZE;
/** Bytes of the IOMMU state. */
export const IOMMU_SIZE: u32 = 0x100;
/** Bytes of the whole core state area. */
export const CORE_STATE_SIZE: u32 = 0x1000;

/** Most CPUs a machine may have. */
export const MAX_CPUS: u32 = 64;
/** Bytes of one CpuState record. */
export const CPU_RECORD_SIZE: u32 = 4096;
/** First CpuState record. */
export const CPU_TABLE_BASE: u32 = CORE_STATE_BASE + CORE_STATE_SIZE;
/** Bytes of the CPU table. */
export const CPU_TABLE_SIZE: u32 = MAX_CPUS * CPU_RECORD_SIZE;

/** Most TLB entries per CPU (the machine file picks a power of two up to this). */
export const TLB_MAX_ENTRIES: u32 = 1024;
/** Bytes of one TLB entry. */
export const TLB_ENTRY_SIZE: u32 = 16;
/** First CPU's TLB; CPU n's TLB is at TLB_BASE + n * TLB_MAX_ENTRIES * TLB_ENTRY_SIZE. */
export const TLB_BASE: u32 = CPU_TABLE_BASE + CPU_TABLE_SIZE;
/** Bytes of all TLBs. */
export const TLB_SIZE: u32 = MAX_CPUS * TLB_MAX_ENTRIES * TLB_ENTRY_SIZE;

/** Staging area where TypeScript writes MachineConfig and DeviceConfig before power-on. */
export const CONFIG_BASE: u32 = TLB_BASE + TLB_SIZE;
/** Bytes of the config staging area. */
export const CONFIG_SIZE: u32 = 0x1000;

/** Scratch buffer for bulk transfers between TypeScript and the core. */
export const SCRATCH_BASE: u32 = CONFIG_BASE + CONFIG_SIZE;
/** Bytes of the scratch buffer: the largest block one boundary call moves. */
export const SCRATCH_SIZE: u32 = 0x100000;

/** Event queue: its QueueState header, the wheel's summaries, slot bitmaps and lists, the record pool, the free stack (sim/queue.ts). */
export const EVENT_QUEUE_BASE: u32 = SCRATCH_BASE + SCRATCH_SIZE;
/** Bytes of one Event as the run loop dispatches it (time, order, kind, target, a, b). */
export const EVENT_SIZE: u32 = 40;
/** Most events pending at once. */
export const EVENT_CAPACITY: u32 = 65536;
/** Bytes of the QueueState header at EVENT_QUEUE_BASE. */
export const EVENT_QUEUE_HEADER_SIZE: u32 = 64;
/** Most events the queue keeps in its sorted front list before handing the latest to its timing wheel. */
export const EVENT_FRONT_CAPACITY: u32 = 8;
/** log2 of the width (ps) of a bucket of the queue's timing wheel: level 0 keeps each bucket's events sorted. */
export const EVENT_BUCKET_BITS: u32 = 12;
/** log2 of the slots per wheel level: level L sorts by time bits BUCKET + 12L .. BUCKET + 12L + 11 (ps). */
export const EVENT_WHEEL_BITS: u32 = 12;
/** Slots per wheel level. */
export const EVENT_WHEEL_SLOTS: u32 = 1 << EVENT_WHEEL_BITS;
/** Wheel levels: enough to cover every bit of a u64 time above the bucket. */
export const EVENT_WHEEL_LEVELS: u32 = (64 - EVENT_BUCKET_BITS + EVENT_WHEEL_BITS - 1) / EVENT_WHEEL_BITS;
/** Per level, a u64 with one bit per word of its slot bitmap (set while the word is not zero). */
export const EVENT_WHEEL_SUMMARY_BASE: u32 = EVENT_QUEUE_BASE + EVENT_QUEUE_HEADER_SIZE;
/** Bytes of the summaries. */
export const EVENT_WHEEL_SUMMARY_SIZE: u32 = EVENT_WHEEL_LEVELS * 8;
/** Per level, one bit per slot (u64 words), set while the slot's list is not empty. */
export const EVENT_WHEEL_BITMAP_BASE: u32 = EVENT_WHEEL_SUMMARY_BASE + EVENT_WHEEL_SUMMARY_SIZE;
/** Bytes of the slot bitmaps. */
export const EVENT_WHEEL_BITMAP_SIZE: u32 = EVENT_WHEEL_LEVELS * EVENT_WHEEL_SLOTS / 8;
/** Per slot and level: head and tail record indices (u32 each) of its list; at level 0 the tail word also holds the tail's time below the bucket. */
export const EVENT_WHEEL_LISTS_BASE: u32 = EVENT_WHEEL_BITMAP_BASE + EVENT_WHEEL_BITMAP_SIZE;
/** Bytes of one slot's list entry. */
export const EVENT_WHEEL_LIST_SIZE: u32 = 8;
/** Bytes of the slot lists. */
export const EVENT_WHEEL_LISTS_SIZE: u32 = EVENT_WHEEL_LEVELS * EVENT_WHEEL_SLOTS * EVENT_WHEEL_LIST_SIZE;
/** Bytes of one pooled event record: the Event's fields and the indices of the next and previous records in its list. */
export const EVENT_RECORD_SIZE: u32 = 48;
// Fields of an event record, byte offsets (the time, u64 ps, is at 0; see sim/queue.ts).
/** Event record: index of the next record in its list (u32). */
export const EVENT_RECORD_NEXT: u32 = 8;
/** Event record: index of the previous record in its list (u32). */
export const EVENT_RECORD_PREV: u32 = 12;
/** Event record: priority << 48 | insertion sequence (u64). */
export const EVENT_RECORD_ORDER: u32 = 16;
/** Event record: EV_* kind (u32; 0 while the record is free). */
export const EVENT_RECORD_KIND: u32 = 24;
/** Event record: target, a PCI function index (u32). */
export const EVENT_RECORD_TARGET: u32 = 28;
/** Event record: kind-specific argument a (u64). */
export const EVENT_RECORD_A: u32 = 32;
/** Event record: kind-specific argument b (u64). */
export const EVENT_RECORD_B: u32 = 40;
/** Record pool; record i (1 .. EVENT_CAPACITY) at EVENT_POOL_BASE + i * EVENT_RECORD_SIZE (index 0 means none). */
export const EVENT_POOL_BASE: u32 = EVENT_WHEEL_LISTS_BASE + EVENT_WHEEL_LISTS_SIZE;
/** Free records of the pool: a stack of u32 record indices. */
export const EVENT_FREE_BASE: u32 = EVENT_POOL_BASE + (EVENT_CAPACITY + 1) * EVENT_RECORD_SIZE;
/** Bytes of the event queue. */
export const EVENT_QUEUE_SIZE: u32 = EVENT_QUEUE_HEADER_SIZE + EVENT_WHEEL_SUMMARY_SIZE + EVENT_WHEEL_BITMAP_SIZE
  + EVENT_WHEEL_LISTS_SIZE + (EVENT_CAPACITY + 1) * EVENT_RECORD_SIZE + EVENT_CAPACITY * 4;

/** PCI function table. */
export const FUNCTION_TABLE_BASE: u32 = EVENT_QUEUE_BASE + EVENT_QUEUE_SIZE;
/** Most PCI functions in a machine. */
export const MAX_FUNCTIONS: u32 = 256;
/** Bytes of one PciFunction record. */
export const FUNCTION_RECORD_SIZE: u32 = 256;
/** Bytes of the function table. */
export const FUNCTION_TABLE_SIZE: u32 = MAX_FUNCTIONS * FUNCTION_RECORD_SIZE;

/** Bytes of one function's configuration space (PCIe extended space). */
export const CONFIG_SPACE_BYTES: u32 = 4096;
/** Config spaces: per function three planes (value, writable mask, w1c mask). */
export const CONFIG_SPACE_BASE: u32 = FUNCTION_TABLE_BASE + FUNCTION_TABLE_SIZE;
/** Bytes of all config spaces. */
export const CONFIG_SPACE_SIZE: u32 = MAX_FUNCTIONS * CONFIG_SPACE_BYTES * 3;

/** BAR decode table (rebuilt on BAR or command writes). */
export const DECODE_TABLE_BASE: u32 = CONFIG_SPACE_BASE + CONFIG_SPACE_SIZE;
/** Bytes of one decode entry. */
export const DECODE_ENTRY_SIZE: u32 = 32;
/** Most decoded windows. */
export const DECODE_CAPACITY: u32 = 1024;
/** Bytes of the decode table. */
export const DECODE_TABLE_SIZE: u32 = DECODE_CAPACITY * DECODE_ENTRY_SIZE;

/** Per-device model state, bump-allocated at power-on. */
export const DEVICE_HEAP_BASE: u32 = DECODE_TABLE_BASE + DECODE_TABLE_SIZE;
/** Bytes of the device heap. */
export const DEVICE_HEAP_SIZE: u32 = 32 << 20;

/** Trace ring. */
export const TRACE_RING_BASE: u32 = DEVICE_HEAP_BASE + DEVICE_HEAP_SIZE;
/** Bytes of one trace record. */
export const TRACE_RECORD_SIZE: u32 = 32;
/** Trace records the ring holds (a power of two). */
export const TRACE_CAPACITY: u32 = 65536;
/** Bytes of the trace ring. */
export const TRACE_RING_SIZE: u32 = TRACE_CAPACITY * TRACE_RECORD_SIZE;

/** IOTLB: entries of IOTLB_ENTRY_SIZE bytes (dma/iommu.ts). */
export const IOTLB_BASE: u32 = TRACE_RING_BASE + TRACE_RING_SIZE;
/** Most IOTLB entries. */
export const IOTLB_MAX_ENTRIES: u32 = 4096;
/** Bytes of one IOTLB entry. */
export const IOTLB_ENTRY_SIZE: u32 = 16;
/** Bytes of the IOTLB. */
export const IOTLB_SIZE: u32 = IOTLB_MAX_ENTRIES * IOTLB_ENTRY_SIZE;

/** Injected-fault table: a header (the fault generator) then one record per function (pci/injected-faults.ts). */
export const FAULT_TABLE_BASE: u32 = IOTLB_BASE + IOTLB_SIZE;
/** Bytes of the fault table's header. */
export const FAULT_HEADER_SIZE: u32 = 64;
/** Bytes of one function's fault record. */
export const FAULT_RECORD_SIZE: u32 = 128;
/** Bytes of the fault table. */
export const FAULT_TABLE_SIZE: u32 = FAULT_HEADER_SIZE + MAX_FUNCTIONS * FAULT_RECORD_SIZE;

/** Guest RAM page: bytes (the unit of backing, as of the MMU). */
export const RAM_PAGE_BYTES: u32 = 4096;
/** log2(RAM_PAGE_BYTES). */
export const RAM_PAGE_SHIFT: u32 = 12;
/** log2 of the guest pages one leaf table of the RAM directory maps (1024 pages: 4 MiB). */
export const RAM_LEAF_PAGES_SHIFT: u32 = 10;
/** Guest-physical bytes one leaf table maps, as a shift (22: 4 MiB). */
export const RAM_LEAF_SPAN_SHIFT: u32 = RAM_PAGE_SHIFT + RAM_LEAF_PAGES_SHIFT;
/** Bytes of one leaf table: a u32 linear address per guest page. */
export const RAM_LEAF_BYTES: u32 = 4 << RAM_LEAF_PAGES_SHIFT;
/** log2 of the guest-physical bytes below which RAM may lie (40: 1 TiB). */
export const RAM_PHYS_LIMIT_SHIFT: u32 = 40;
/** Guest-physical bytes below which RAM may lie (1 TiB). */
export const RAM_PHYS_LIMIT: f64 = <f64>(<u64>1 << RAM_PHYS_LIMIT_SHIFT);
/** Index of the RAM directory's last entry: the one every address from RAM_PHYS_LIMIT up shares (never RAM). */
export const RAM_DIR_LAST: u32 = 1 << (RAM_PHYS_LIMIT_SHIFT - RAM_LEAF_SPAN_SHIFT);

/** The zero page: 4 KiB of zeros, never written, that unwritten guest RAM reads from. */
export const RAM_ZERO_PAGE: u32 = (FAULT_TABLE_BASE + FAULT_TABLE_SIZE + RAM_PAGE_BYTES - 1) & ~(RAM_PAGE_BYTES - 1);
/** The zero leaf: a leaf table whose every entry is RAM_ZERO_PAGE (a 4 MiB span of RAM nothing wrote). */
export const RAM_ZERO_LEAF: u32 = RAM_ZERO_PAGE + RAM_PAGE_BYTES;

/** The RAM directory: RAM_DIR_LAST + 1 u32 entries, one per 4 MiB of guest-physical space (mem/ram.ts). */
export const RAM_DIRECTORY_BASE: u32 = RAM_ZERO_LEAF + RAM_LEAF_BYTES;
/** Bytes of the RAM directory (whole pages; linear memory holds only the part over RAM, the rest is never touched). */
export const RAM_DIRECTORY_SIZE: u32 = ((RAM_DIR_LAST + 1) * 4 + RAM_PAGE_BYTES - 1) & ~(RAM_PAGE_BYTES - 1);

/** Backing pool: linear memory from here up is allocated on demand (mem/pool.ts). */
export const POOL_BASE: u32 = (RAM_DIRECTORY_BASE + RAM_DIRECTORY_SIZE + WASM_PAGE - 1) & ~(WASM_PAGE - 1);
/** End of the backing pool: the most linear memory the core uses, bytes (4 GiB less one WebAssembly page). */
export const POOL_LIMIT: f64 = 4294967296.0 - <f64>WASM_PAGE;
/** Linear memory grows by at least this many bytes at a time when the pool runs out (16 MiB). */
export const POOL_GROW_BYTES: u32 = 16 << 20;
