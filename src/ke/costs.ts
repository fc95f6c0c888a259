/**
 * The kernel's cost table: CPU cycles each kernel, HAL and register call charges to the
 * CPU that makes it (firmware/costs.json, overridable per machine). Converted once to
 * picoseconds at boot.
 */

/** Every cost the kernel charges; firmware/costs.json must name each one. */
export const COST_NAMES = [
  "READ_REGISTER", "WRITE_REGISTER", "KeGetCurrentIrql", "KeRaiseIrql", "KeLowerIrql", "KeAcquireSpinLock",
  "KeReleaseSpinLock", "KeInitializeDpc", "KeInsertQueueDpc", "KeInitializeEvent", "KeSetEvent", "KeResetEvent",
  "KeWaitForSingleObject", "KeStallExecutionProcessor", "KeQueryPerformanceCounter", "InterruptDispatch",
  "InterruptEoi", "DpcDispatch", "ContextSwitch", "SystemCall", "ExAllocatePoolWithTag", "ExFreePoolWithTag",
  "MmMapIoSpace", "MmGetPhysicalAddress", "MemoryAccess", "CopyPer64Bytes", "IoAllocateIrp", "IoFreeIrp",
  "IoCallDriver", "IoCompleteRequest", "IoCreateDevice", "ConfigAccess", "AllocateCommonBuffer",
  "GetScatterGatherList", "PutScatterGatherList", "AllocateAdapterChannel", "MapTransfer", "FlushAdapterBuffers", "DmaMapPage",
  "KeInitializeTimer", "KeSetTimer", "KeCancelTimer",
  "PageIn", "IoAllocateMdl", "IoFreeMdl", "IoBuildPartialMdl", "MmProbeAndLockPages", "MmUnlockPages", "MdlPage",
  "MmBuildMdlForNonPagedPool", "MmMapLockedPages", "MmUnmapLockedPages", "KeStackAttachProcess", "KeUnstackDetachProcess",
  "IoCancelIrp",
  "PoRequestPowerIrp", "PoSetPowerState", "PoStartNextPowerIrp",
  "KeInitializeDeviceQueue", "KeInsertDeviceQueue", "KeRemoveDeviceQueue", "IoStartPacket", "IoStartNextPacket", "IoBuildSynchronousFsdRequest", "IoBuildAsynchronousFsdRequest", "IoBuildDeviceIoControlRequest",
  "IoReuseIrp", "IopCompleteRequest", "IoMakeAssociatedIrp", "IoCsqInsertIrp", "IoCsqRemoveIrp", "IoAcquireRemoveLock", "IoReleaseRemoveLock",
  "KeInitializeQueue", "KeInsertQueue", "KeRemoveQueue", "KeInsertQueueApc", "IoCompletionApc",
  "IoRegisterDeviceInterface", "IoSetDeviceInterfaceState", "IoGetDeviceInterfaces", "IoRegisterPlugPlayNotification",
  "StorPortRequest", "StorPortCompletion",
  "KeReleaseSemaphore", "KeReleaseMutex", "KeEnterCriticalRegion", "ExAcquireFastMutex", "ExReleaseFastMutex",
  "ExAcquireResourceLite", "ExReleaseResourceLite", "ExAcquirePushLock", "ExReleasePushLock", "KeSetPriorityThread",
  "ObReferenceObject", "ObDereferenceObject", "ObReferenceObjectByHandle", "ObCreateHandle", "ObCloseHandle", "ObLookupObjectName",
  "PsCreateSystemThread",
] as const;

/** A cost's name. */
export type CostName = (typeof COST_NAMES)[number];

/** Cost name to picoseconds on a CPU of the given clock. */
export type CostTable = Record<CostName, number>;

/** Converts a cycles table to picoseconds at `cpuKHz`; throws naming any missing cost. */
export function costTableInPs(cycles: Record<string, number>, cpuKHz: number): CostTable {
  const psPerCycle = 1e9 / cpuKHz;
  const out = {} as CostTable;
  for (const name of COST_NAMES) {
    const c = cycles[name];
    if (c === undefined) throw new Error(`firmware/costs.json has no cost "${name}"`);
    out[name] = Math.round(c * psPerCycle);
  }
  // A copy made in one step has fast properties (the object built key by key is a dictionary): `cost.Name` is then a plain field load.
  return { ...out };
}
