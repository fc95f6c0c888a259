// Everything TypeScript needs to know about the core's memory and enumerations, exported
// as WebAssembly globals. The build reads them back into src/machine/generated/layout.ts,
// so no number is typed twice.

import { CoreState } from "./sim/core";
import { CpuState } from "./sim/cpu";
import { MachineConfig, DeviceConfig } from "./platform/config";

export {
  WASM_PAGE, RUNTIME_SIZE, CORE_STATE_BASE, CORE_STATE_SIZE, MAX_CPUS, CPU_RECORD_SIZE, CPU_TABLE_BASE,
  TLB_MAX_ENTRIES, CONFIG_BASE, SCRATCH_BASE, SCRATCH_SIZE, EVENT_QUEUE_BASE, EVENT_SIZE, EVENT_CAPACITY,
  EVENT_RECORD_SIZE, EVENT_POOL_BASE, CURRENT_EVENT_BASE, EVENT_RECORD_ORDER, EVENT_RECORD_KIND, EVENT_RECORD_TARGET,
  MAX_FUNCTIONS, TRACE_RING_BASE, TRACE_RECORD_SIZE, TRACE_CAPACITY, POOL_BASE, POOL_LIMIT, RAM_PAGE_BYTES, RAM_PHYS_LIMIT,
} from "./memmap";

export {
  COUNTERS_OFFSET, COUNTER_COUNT, C_EVENTS, C_MMIO_READS, C_MMIO_WRITES, C_CONFIG_READS, C_CONFIG_WRITES,
  C_DMA_READ_BYTES, C_DMA_WRITE_BYTES, C_DMA_TRANSFERS, C_MSI_SENT, C_INTX_ASSERTS, C_MASTER_ABORTS,
  C_DEVICE_ERRORS, C_TLB_HITS, C_TLB_MISSES, C_PAGE_FAULTS, C_TRACE_DROPPED, C_TLPS, C_INTERRUPTS_ACCEPTED,
  C_RAM_PAGES_BACKED, C_FAULTS_INJECTED, FAULT_EVENT_QUEUE_FULL, FAULT_DEVICE_HEAP_FULL, FAULT_RAM_BACKING_FULL,
} from "./sim/core";
export { RUN_LIMIT, RUN_INTERRUPT, RUN_TRACE_FULL, RUN_FAULT } from "./sim/run";
export { QUEUE_POOL_TOP, PRIORITY_NORMAL } from "./sim/queue";
export {
  CPU_IRR_OFFSET, CPU_ARRIVAL_OFFSET, ACCESS_OK, ACCESS_PAGE_FAULT, ACCESS_MASTER_ABORT, ACCESS_BAD_SIZE,
  ACCESS_TOO_LARGE,
} from "./sim/cpu";
export {
  TR_MMIO_READ, TR_MMIO_WRITE, TR_CONFIG_READ, TR_CONFIG_WRITE, TR_DMA_READ, TR_DMA_WRITE, TR_MSI, TR_INTX,
  TR_MASTER_ABORT, TR_DEVICE_ERROR, TR_APIC_PENDING, TR_WRITE_LANDED, TR_IOMMU_FAULT, TR_FAULT, MA_UNBACKED, MA_BUS_MASTER_DISABLED,
} from "./sim/trace";
export {
  INTERRUPT_FAULT_DROP, INTERRUPT_FAULT_DUPLICATE, INTERRUPT_FAULT_DELAY, DMA_FAULT_UNSUPPORTED_REQUEST, DMA_FAULT_COMPLETER_ABORT,
  FAULT_MATCH_MESSAGE, FAULT_MATCH_INTX, FAULT_MATCH_READ, FAULT_MATCH_WRITE, FAULT_MESSAGE_DROPPED, FAULT_MESSAGE_DUPLICATED,
  FAULT_MESSAGE_DELAYED, FAULT_INTX_DROPPED, FAULT_INTX_DUPLICATED, FAULT_INTX_DELAYED, FAULT_DMA_UNSUPPORTED_REQUEST,
  FAULT_DMA_COMPLETER_ABORT, FAULT_MEDIA_ERROR,
} from "./pci/injected-faults";
export { BLOCK_COPY, BLOCK_FILL, BLOCK_COMPARE, BLOCK_TO_SCRATCH, BLOCK_FROM_SCRATCH } from "./mem/access";
export {
  ACCESS_WRITE, ACCESS_USER, ACCESS_EXECUTE, PF_PRESENT, PF_WRITE, PF_USER, PF_RESERVED, PF_FETCH,
} from "./mem/paging";
export {
  MAX_RAM_REGIONS, RAM_REGION_STRIDE, DEVICE_CONFIG_BASE, DEVICE_PARAM_COUNT, BAR_FLAG_IO, BAR_FLAG_64BIT,
  BAR_FLAG_PREFETCHABLE, MSI_FLAG_64BIT, MSI_FLAG_MASKING, PCIE_TYPE_ENDPOINT, PCIE_TYPE_ROOT_PORT, PCIE_TYPE_UPSTREAM_PORT,
  PCIE_TYPE_DOWNSTREAM_PORT,
} from "./platform/config";
export {
  POWER_OK, POWER_ERROR_CPUS, POWER_ERROR_RAM_LAYOUT, POWER_ERROR_RAM_TOO_LARGE, POWER_ERROR_RAM_OVERLAPS_MMIO, POWER_ERROR_TLB, POWER_ERROR_IOMMU,
  POWER_ERROR_NO_LOW_RAM, POWER_ERROR_ECAM, DEVICE_ERROR_ADDRESS, DEVICE_ERROR_DUPLICATE, DEVICE_ERROR_BAR,
  DEVICE_ERROR_MSI, DEVICE_ERROR_LINK, DEVICE_ERROR_MODEL, DEVICE_ERROR_FULL,
} from "./platform/power";
export { WSIM_RAM, WSIM_RESERVED, WSIM_PCI_MMIO } from "./platform/firmware";
export { LAPIC_WINDOW_BASE, LAPIC_WINDOW_SIZE } from "./platform/platform";
export { IOAPIC_MMIO_BASE, IOAPIC_MMIO_SIZE } from "./irq/ioapic";
export {
  IOMMU_MMIO_BASE, IOMMU_MMIO_SIZE, IOMMU_FAULT_ROOT_NOT_PRESENT, IOMMU_FAULT_CONTEXT_NOT_PRESENT, IOMMU_FAULT_CONTEXT_INVALID, IOMMU_FAULT_ADDRESS_WIDTH,
  IOMMU_FAULT_WRITE, IOMMU_FAULT_READ, IOMMU_FAULT_TABLE_ACCESS,
} from "./dma/iommu";
export { DMA_OK, DMA_MASTER_ABORT, DMA_UNSUPPORTED_REQUEST, DMA_COMPLETER_ABORT } from "./dma/port";
export { DEVICE_MODEL_EDU, DEVICE_MODEL_BRIDGE } from "./devices/index";
export { EDU_ERROR_DMA_RANGE, EDU_ERROR_DMA_CLAMPED, EDU_ERROR_DMA_FAILED, EDU_PARAM_CYCLES_PER_STEP, EDU_PARAM_DMA_SETUP_CYCLES } from "./devices/edu";

// Page-table entry bits the kernel writes.
/** PTE present. */
export const PTE_PRESENT: u32 = 1 << 0;
/** PTE writable. */
export const PTE_WRITABLE: u32 = 1 << 1;
/** PTE user. */
export const PTE_USER: u32 = 1 << 2;
/** PTE cache disable. */
export const PTE_CACHE_DISABLE: u32 = 1 << 4;
/** PTE accessed. */
export const PTE_ACCESSED: u32 = 1 << 5;
/** PTE dirty. */
export const PTE_DIRTY: u32 = 1 << 6;
/** PTE global. */
export const PTE_GLOBAL: u32 = 1 << 8;
/** Bit number of the PTE no-execute bit (in the entry's high word as bit 31). */
export const PTE_NO_EXECUTE_BIT: u32 = 63;

// Struct field offsets.
/** CoreState.nowF64 (f64): core time in ps. */
export const CORE_NOW_F64: u32 = offsetof<CoreState>("nowF64");
/** CoreState.nextEventPs (f64). */
export const CORE_NEXT_EVENT: u32 = offsetof<CoreState>("nextEventPs");
/** CoreState.traceHead (u32). */
export const CORE_TRACE_HEAD: u32 = offsetof<CoreState>("traceHead");
/** CoreState.traceTail (u32). */
export const CORE_TRACE_TAIL: u32 = offsetof<CoreState>("traceTail");
/** CoreState.eventCount (u32). */
export const CORE_EVENT_COUNT: u32 = offsetof<CoreState>("eventCount");

/** CpuState.localTimePs (f64). */
export const CPU_LOCAL_TIME: u32 = offsetof<CpuState>("localTimePs");
/** CpuState.irql (u32). */
export const CPU_IRQL: u32 = offsetof<CpuState>("irql");
/** CpuState.apicId (u32). */
export const CPU_APIC_ID: u32 = offsetof<CpuState>("apicId");
/** CpuState.highestIrr (u32). */
export const CPU_HIGHEST_IRR: u32 = offsetof<CpuState>("highestIrr");
/** CpuState.status (u32). */
export const CPU_STATUS: u32 = offsetof<CpuState>("status");
/** CpuState.valueHi (u32). */
export const CPU_VALUE_HI: u32 = offsetof<CpuState>("valueHi");
/** CpuState.faultCode (u32). */
export const CPU_FAULT_CODE: u32 = offsetof<CpuState>("faultCode");
/** CpuState.faultVa (f64). */
export const CPU_FAULT_VA: u32 = offsetof<CpuState>("faultVa");
/** CpuState.physAddr (f64). */
export const CPU_PHYS_ADDR: u32 = offsetof<CpuState>("physAddr");

/** MachineConfig.seedLo. */ export const MC_SEED_LO: u32 = offsetof<MachineConfig>("seedLo");
/** MachineConfig.seedHi. */ export const MC_SEED_HI: u32 = offsetof<MachineConfig>("seedHi");
/** MachineConfig.cpuCount. */ export const MC_CPU_COUNT: u32 = offsetof<MachineConfig>("cpuCount");
/** MachineConfig.cpuKHz. */ export const MC_CPU_KHZ: u32 = offsetof<MachineConfig>("cpuKHz");
/** MachineConfig.tlbEntries. */ export const MC_TLB_ENTRIES: u32 = offsetof<MachineConfig>("tlbEntries");
/** MachineConfig.tlbMissCycles. */ export const MC_TLB_MISS_CYCLES: u32 = offsetof<MachineConfig>("tlbMissCycles");
/** MachineConfig.memoryReadLatencyNs. */ export const MC_MEMORY_READ_LATENCY_NS: u32 = offsetof<MachineConfig>("memoryReadLatencyNs");
/** MachineConfig.ramRegionCount. */ export const MC_RAM_REGION_COUNT: u32 = offsetof<MachineConfig>("ramRegionCount");
/** MachineConfig.ecamBase (f64). */ export const MC_ECAM_BASE: u32 = offsetof<MachineConfig>("ecamBase");
/** MachineConfig.ecamBusCount. */ export const MC_ECAM_BUS_COUNT: u32 = offsetof<MachineConfig>("ecamBusCount");
/** MachineConfig.postedWriteCredits. */ export const MC_POSTED_WRITE_CREDITS: u32 = offsetof<MachineConfig>("postedWriteCredits");
/** MachineConfig.mmioWindowBase (f64). */ export const MC_MMIO_WINDOW_BASE: u32 = offsetof<MachineConfig>("mmioWindowBase");
/** MachineConfig.mmioWindowSize (f64). */ export const MC_MMIO_WINDOW_SIZE: u32 = offsetof<MachineConfig>("mmioWindowSize");
/** MachineConfig.iommuPresent. */ export const MC_IOMMU_PRESENT: u32 = offsetof<MachineConfig>("iommuPresent");
/** MachineConfig.iotlbEntries. */ export const MC_IOTLB_ENTRIES: u32 = offsetof<MachineConfig>("iotlbEntries");
/** MachineConfig.iotlbMissNs. */ export const MC_IOTLB_MISS_NS: u32 = offsetof<MachineConfig>("iotlbMissNs");
/** MachineConfig.ramBase0 (f64; region i at + i * RAM_REGION_STRIDE). */ export const MC_RAM_BASE0: u32 = offsetof<MachineConfig>("ramBase0");
/** MachineConfig.ramSize0 (f64). */ export const MC_RAM_SIZE0: u32 = offsetof<MachineConfig>("ramSize0");

/** DeviceConfig.model. */ export const DC_MODEL: u32 = offsetof<DeviceConfig>("model");
/** DeviceConfig.bus. */ export const DC_BUS: u32 = offsetof<DeviceConfig>("bus");
/** DeviceConfig.device. */ export const DC_DEVICE: u32 = offsetof<DeviceConfig>("device");
/** DeviceConfig.function. */ export const DC_FUNCTION: u32 = offsetof<DeviceConfig>("function");
/** DeviceConfig.vendorId. */ export const DC_VENDOR_ID: u32 = offsetof<DeviceConfig>("vendorId");
/** DeviceConfig.deviceId. */ export const DC_DEVICE_ID: u32 = offsetof<DeviceConfig>("deviceId");
/** DeviceConfig.revisionId. */ export const DC_REVISION_ID: u32 = offsetof<DeviceConfig>("revisionId");
/** DeviceConfig.classCode. */ export const DC_CLASS_CODE: u32 = offsetof<DeviceConfig>("classCode");
/** DeviceConfig.subsystemVendorId. */ export const DC_SUBSYSTEM_VENDOR_ID: u32 = offsetof<DeviceConfig>("subsystemVendorId");
/** DeviceConfig.subsystemId. */ export const DC_SUBSYSTEM_ID: u32 = offsetof<DeviceConfig>("subsystemId");
/** DeviceConfig.interruptPin. */ export const DC_INTERRUPT_PIN: u32 = offsetof<DeviceConfig>("interruptPin");
/** DeviceConfig.msiVectors. */ export const DC_MSI_VECTORS: u32 = offsetof<DeviceConfig>("msiVectors");
/** DeviceConfig.msiFlags. */ export const DC_MSI_FLAGS: u32 = offsetof<DeviceConfig>("msiFlags");
/** DeviceConfig.msiOffset. */ export const DC_MSI_OFFSET: u32 = offsetof<DeviceConfig>("msiOffset");
/** DeviceConfig.linkGeneration. */ export const DC_LINK_GENERATION: u32 = offsetof<DeviceConfig>("linkGeneration");
/** DeviceConfig.linkWidth. */ export const DC_LINK_WIDTH: u32 = offsetof<DeviceConfig>("linkWidth");
/** DeviceConfig.maxPayloadSize. */ export const DC_MAX_PAYLOAD_SIZE: u32 = offsetof<DeviceConfig>("maxPayloadSize");
/** DeviceConfig.maxReadRequestSize. */ export const DC_MAX_READ_REQUEST_SIZE: u32 = offsetof<DeviceConfig>("maxReadRequestSize");
/** DeviceConfig.linkLatencyNs. */ export const DC_LINK_LATENCY_NS: u32 = offsetof<DeviceConfig>("linkLatencyNs");
/** DeviceConfig.tlpOverheadBytes. */ export const DC_TLP_OVERHEAD_BYTES: u32 = offsetof<DeviceConfig>("tlpOverheadBytes");
/** DeviceConfig.clockKHz. */ export const DC_CLOCK_KHZ: u32 = offsetof<DeviceConfig>("clockKHz");
/** DeviceConfig.pciExpress. */ export const DC_PCI_EXPRESS: u32 = offsetof<DeviceConfig>("pciExpress");
/** DeviceConfig.msixVectors. */ export const DC_MSIX_VECTORS: u32 = offsetof<DeviceConfig>("msixVectors");
/** DeviceConfig.msixOffset. */ export const DC_MSIX_OFFSET: u32 = offsetof<DeviceConfig>("msixOffset");
/** DeviceConfig.msixTableBar. */ export const DC_MSIX_TABLE_BAR: u32 = offsetof<DeviceConfig>("msixTableBar");
/** DeviceConfig.msixTableOffset. */ export const DC_MSIX_TABLE_OFFSET: u32 = offsetof<DeviceConfig>("msixTableOffset");
/** DeviceConfig.msixPbaBar. */ export const DC_MSIX_PBA_BAR: u32 = offsetof<DeviceConfig>("msixPbaBar");
/** DeviceConfig.msixPbaOffset. */ export const DC_MSIX_PBA_OFFSET: u32 = offsetof<DeviceConfig>("msixPbaOffset");
/** DeviceConfig.pmOffset. */ export const DC_PM_OFFSET: u32 = offsetof<DeviceConfig>("pmOffset");
/** DeviceConfig.pcieOffset. */ export const DC_PCIE_OFFSET: u32 = offsetof<DeviceConfig>("pcieOffset");
/** DeviceConfig.pcieType. */ export const DC_PCIE_TYPE: u32 = offsetof<DeviceConfig>("pcieType");
/** DeviceConfig.maxPayloadSupported. */ export const DC_MAX_PAYLOAD_SUPPORTED: u32 = offsetof<DeviceConfig>("maxPayloadSupported");
/** DeviceConfig.parent. */ export const DC_PARENT: u32 = offsetof<DeviceConfig>("parent");
/** DeviceConfig.isBridge. */ export const DC_IS_BRIDGE: u32 = offsetof<DeviceConfig>("isBridge");
/** DeviceConfig.secondaryBus. */ export const DC_SECONDARY_BUS: u32 = offsetof<DeviceConfig>("secondaryBus");
/** DeviceConfig.subordinateBus. */ export const DC_SUBORDINATE_BUS: u32 = offsetof<DeviceConfig>("subordinateBus");
/** Topology.parent of a function on the root bus. */ export const NO_PARENT_FUNCTION: u32 = 0xFFFFFFFF;
/** DeviceConfig.barSize0 (f64; BAR i at + 8 i). */ export const DC_BAR_SIZE0: u32 = offsetof<DeviceConfig>("barSize0");
/** DeviceConfig.barFlags0 (u32; BAR i at + 4 i). */ export const DC_BAR_FLAGS0: u32 = offsetof<DeviceConfig>("barFlags0");
/** DeviceConfig.param0 (u32; parameter i at + 4 i). */ export const DC_PARAM0: u32 = offsetof<DeviceConfig>("param0");
export * from "./devices/nvme-layout";
