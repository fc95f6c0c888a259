/**
 * wdmsim's public API: boot a machine, run kernel code and user-mode programs on it, and
 * the Windows Driver Model routines drivers call, under their WDK names.
 */
export { Machine, type MachineFunction, type NvmeFault } from "./machine/machine.js";
export { FirmwareError, loadMachine, type MachineDescription } from "./machine/firmwareFiles.js";
export { boot, BUILT_IN_PACKAGES, type BootOptions, type ExecOptions } from "./pnp/boot.js";

export * from "./ke/ntstatus.js";
export * from "./ke/irql.js";
export { BugCheck, BUGCHECKS, formatPointer } from "./ke/bugcheck.js";
export * from "./ke/bugcheck.js";
export { KeBugCheckEx, KeGetCurrentProcessorNumber, KeQueryActiveProcessorCount, KernelHang, KE } from "./ke/kernel.js";
export { KeGetCurrentIrql, KeRaiseIrql, KeLowerIrql } from "./ke/level.js";
export * from "./ke/spinlock.js";
export * from "./ke/dpc.js";
export * from "./ke/dispatcher.js";
export * from "./ke/timer.js";
export * from "./ke/time.js";
export * from "./ke/debug-print.js";
export * from "./ke/queue.js";
export {
  KINTERRUPT, KeSynchronizeExecution, KeAcquireInterruptSpinLock, KeReleaseInterruptSpinLock, INTERRUPT_STORM_COUNT,
  type PKSERVICE_ROUTINE, type PKMESSAGE_SERVICE_ROUTINE, type PKSYNCHRONIZE_ROUTINE,
} from "./ke/interrupt.js";
export { KeGetCurrentThread } from "./ke/scheduler.js";
export * from "./ke/attach.js";
// Dispatcher objects, executive locks and thread priorities.
export * from "./ke/wait-block.js";
export * from "./ke/semaphore.js";
export * from "./ke/mutex.js";
export * from "./ke/critical-region.js";
export * from "./ke/fast-mutex.js";
export * from "./ke/guarded-mutex.js";
export * from "./ke/resource.js";
export * from "./ke/push-lock.js";
export * from "./ke/priority.js";
export * from "./ke/sync-verifier.js";
export * from "./ke/exception.js";

export * from "./mm/memory.js";
export * from "./mm/pool.js";
export * from "./mm/physical.js";
export * from "./mm/mdl.js";
export { MmTrimPageable, pagingStatistics, type PagingStatistics } from "./mm/paging.js";
export * from "./mm/pool2.js";
export * from "./mm/lookaside.js";
export * from "./mm/probe.js";

// Run-time library: strings, ntstrsafe, lists, memory and calendar helpers.
export * from "./rtl/guest-text.js";
export * from "./rtl/unicode-string.js";
export * from "./rtl/string-convert.js";
export * from "./rtl/format.js";
export * from "./rtl/ntstrsafe.js";
export * from "./rtl/list.js";
export * from "./rtl/interlocked-list.js";
export * from "./rtl/single-list.js";
export * from "./rtl/slist.js";
export * from "./rtl/memory.js";
export * from "./rtl/time-fields.js";

export * from "./hal/registers.js";
export * from "./hal/bus.js";
export * from "./hal/timing.js";
export * from "./hal/dma.js";
export {
  SCATTER_GATHER_LIST, SCATTER_GATHER_LIST_HEADER_SIZE, SCATTER_GATHER_ELEMENT_SIZE, type SCATTER_GATHER_ELEMENT, type PDRIVER_LIST_CONTROL,
} from "./hal/scatter-gather.js";
export { IO_ALLOCATION_ACTION, MAP_REGISTER_BASE, type PDRIVER_CONTROL } from "./hal/adapter-channel.js";
export {
  DMA_MISCELLANEOUS, DMA_OUT_OF_CONTIGUOUS_MAP_REGISTERS, DMA_FREED_TOO_MANY_COMMON_BUFFERS, DMA_FREED_TOO_MANY_ADAPTER_CHANNELS,
  DMA_FREED_TOO_MANY_MAP_REGISTERS, DMA_FREED_TOO_MANY_SCATTER_GATHER_LISTS, DMA_OUTSTANDING_COMMON_BUFFERS, DMA_OUTSTANDING_ADAPTER_CHANNELS,
  DMA_OUTSTANDING_MAP_REGISTERS, DMA_OUTSTANDING_SCATTER_GATHER_LISTS, DMA_TOO_MANY_ADAPTER_CHANNELS, DMA_TOO_MANY_MAP_REGISTERS,
  DMA_BUFFER_NOT_LOCKED, DMA_MAP_REGISTERS_STILL_MAPPED, DMA_IMPROPER_IRQL, DMA_IRQL_DIFFERENT, DMA_IRQL_HIGHER, DMA_ADAPTER_RELEASED,
  DMA_ADDRESS_OUTSIDE_MDL, DMA_FLUSH_UNMAPPED, DMA_ZERO_LENGTH, DMA_INSUFFICIENT_BUFFER,
} from "./hal/dma-verifier.js";

export * from "./io/irp.js";
export * from "./io/cancel.js";
export * from "./io/objects.js";
export * from "./io/ioctl.js";
export * from "./io/interrupt.js";
export * from "./io/workitem.js";
export * from "./io/resources.js";
export * from "./io/forward.js";
export * from "./io/usermode.js";
export * from "./io/mdl.js";
export * from "./io/device-property.js";
export * from "./io/interfaces.js";
export type { DriverModule } from "./io/manager.js";

export * from "./pnp/minor.js";
export type { DriverPackage, DriverRole, SetupClass } from "./pnp/packages.js";
export { PNP } from "./pnp/manager.js";
export * from "./pnp/requests.js";
export * from "./pnp/devnode.js";
export * from "./pnp/interface.js";
export { loadDriverPackageFile, type DriverPackageFile } from "./pnp/inf.js";

export * from "./po/power.js";
export * from "./po/routines.js";
export { PO, PowerManager, type DevicePowerReport, type SystemPowerIrpRecord } from "./po/manager.js";

export { Recorder } from "./trace/recorder.js";
export { toChromeTrace } from "./trace/chrome.js";

export { inspect, parseInspectCommand, INSPECT_COMMANDS, InspectError, type InspectCommand } from "./debug/inspect.js";
export {
  KDEVICE_QUEUE, KDEVICE_QUEUE_ENTRY, DeviceQueueObject, KeInitializeDeviceQueue, KeInsertDeviceQueue, KeInsertByKeyDeviceQueue,
  KeRemoveDeviceQueue, KeRemoveByKeyDeviceQueue, KeRemoveEntryDeviceQueue, DDI_RULE_IRQL_DISPATCH, DDI_RULE_IRQL_KE_DISPATCH_LTE,
} from "./ke/device-queue.js";
export {
  IoBuildSynchronousFsdRequest, IoBuildAsynchronousFsdRequest, IoBuildDeviceIoControlRequest, IoReuseIrp, IO_SYSTEM_BUFFER_TAG,
  DDI_RULE_IRQL_IO_PASSIVE1,
} from "./io/build-irp.js";
export * from "./io/associated.js";
export * from "./io/csq.js";
export * from "./io/start-io.js";
export * from "./io/remove-lock.js";

/** The storage headers and the Storport miniport surface (also `wdmsim/storage` and `wdmsim/storport`). */
export * as storage from "./drivers/storage/index.js";
export * as storport from "./drivers/storport/index.js";

// Samples: Microsoft's WDM samples ported line for line (src/drivers/samples).
/** The WDM IOCTL sample: the SIOCTL driver, IOCTLAPP and its install routines. */
export * as ioctlSample from "./drivers/samples/ioctl/index.js";
export { runFio, loadFioJobFile, type FioRunResult } from "./workloads/fio/fio.js";
export { formatFioNormal } from "./workloads/fio/report-normal.js";
export { formatFioJson } from "./workloads/fio/report-json.js";
