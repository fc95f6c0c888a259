/**
 * The driver-facing surface, as wdm.h, ntddk.h and ntstrsafe.h hold it: every kernel
 * routine, structure, constant and status a driver uses, under its WDK name (also
 * `import ... from "wdmsim/wdm"`). C enumerations put their members in the global
 * namespace, so the members are exported bare as well (NonPagedPool, KernelMode,
 * Executive, NotificationEvent, IoReadAccess, MmCached, ...), each the same value as its
 * enum's member.
 */
import { BUS_DATA_TYPE } from "./hal/bus.js";
import { INTERFACE_TYPE } from "./hal/dma.js";
import { IO_ALLOCATION_ACTION } from "./hal/adapter-channel.js";
import { EVENT_TYPE, KPROCESSOR_MODE, KWAIT_REASON, WAIT_TYPE } from "./ke/dispatcher.js";
import { KDPC_IMPORTANCE } from "./ke/dpc.js";
import { KINTERRUPT_MODE } from "./ke/interrupt.js";
import { TIMER_TYPE } from "./ke/timer.js";
import { WORK_QUEUE_TYPE } from "./ke/worker.js";
import { LOCK_OPERATION, MM_PAGE_PRIORITY } from "./mm/mdl.js";
import { MEMORY_CACHING_TYPE } from "./mm/physical.js";
import { POOL_TYPE } from "./mm/pool.js";
import { BUS_QUERY_ID_TYPE, DEVICE_RELATION_TYPE, DEVICE_TEXT_TYPE } from "./pnp/minor.js";
import { DEVICE_REGISTRY_PROPERTY } from "./io/device-property.js";
import { IO_NOTIFICATION_EVENT_CATEGORY } from "./io/interfaces.js";
import { KEY_INFORMATION_CLASS, KEY_VALUE_INFORMATION_CLASS } from "./cm/information.js";
import { REG_NOTIFY_CLASS } from "./cm/notify-class.js";

export * from "./ke/ntstatus.js";
export * from "./ke/irql.js";
export { BugCheck, BUGCHECKS, formatPointer } from "./ke/bugcheck.js";
export * from "./ke/bugcheck.js";
export { KeBugCheckEx, KeGetCurrentProcessorNumber, KeQueryActiveProcessorCount, KernelHang, RunLimitReached, KE, type RunLimits } from "./ke/kernel.js";
export { KeGetCurrentIrql, KeRaiseIrql, KeLowerIrql } from "./ke/level.js";
// The spin lock routines (the kernel's raw KiAcquireSpinLock / KiReleaseSpinLock are not a driver's).
export {
  KSPIN_LOCK, KLOCK_QUEUE_HANDLE, KeInitializeSpinLock, KeAcquireSpinLock, KeAcquireSpinLockRaiseToDpc, KeReleaseSpinLock, KeAcquireSpinLockAtDpcLevel,
  KeReleaseSpinLockFromDpcLevel, KeTryToAcquireSpinLockAtDpcLevel, KeAcquireInStackQueuedSpinLock, KeReleaseInStackQueuedSpinLock,
  KeAcquireInStackQueuedSpinLockAtDpcLevel, KeReleaseInStackQueuedSpinLockFromDpcLevel, VERIFIER_ACQUIRE_AT_DPC_BELOW_DISPATCH,
  VERIFIER_RELEASE_FROM_DPC_BELOW_DISPATCH, VERIFIER_ACQUIRE_ABOVE_DISPATCH,
} from "./ke/spinlock.js";
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
export { KeGetCurrentThread, HANG_WINDOW_PS } from "./ke/scheduler.js";
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
export { WORK_QUEUE_TYPE } from "./ke/worker.js";

// The configuration manager: the registry's values, keys and the information structures.
export * from "./cm/value-types.js";
export * from "./cm/information.js";
export {
  REG_OPTION_NON_VOLATILE, REG_OPTION_VOLATILE, REG_OPTION_CREATE_LINK, REG_OPTION_BACKUP_RESTORE, REG_OPTION_OPEN_LINK, REG_CREATED_NEW_KEY,
  REG_OPENED_EXISTING_KEY,
} from "./cm/registry.js";
export * from "./cm/service-key.js";
export * from "./cm/zw.js";
export * from "./cm/rtl-registry.js";
export * from "./cm/notify-class.js";
export * from "./cm/callback-information.js";
export {
  CmRegisterCallbackEx, CmRegisterCallback, CmUnRegisterCallback, CmGetCallbackVersion, CmSetCallbackObjectContext, CmCallbackGetKeyObjectID,
  CmCallbackGetKeyObjectIDEx, CmCallbackReleaseKeyObjectIDEx, CmGetBoundTransaction, DDI_RULE_IRQL_EX_APC_LTE2, type EX_CALLBACK_FUNCTION,
} from "./cm/callbacks.js";
export { ExGetPreviousMode } from "./ob/previous-mode.js";
export * from "./cm/zw-transacted.js";
// The kernel transaction manager.
export * from "./tm/object-types.js";
export * from "./tm/notification.js";
export * from "./tm/transaction.js";
export * from "./tm/resource-manager.js";
export { KENLISTMENT, ZwCreateEnlistment, TmCommitComplete, TmRollbackComplete } from "./tm/enlistment.js";
export { ExUuidCreate } from "./ke/uuid.js";
export * from "./rtl/version.js";

// Security: access masks, SIDs, security descriptors, tokens and the access check.
export * from "./se/sid.js";
export * from "./se/security-descriptor.js";
export * from "./se/device-sddl.js";
export * from "./se/token.js";
export * from "./se/access-check.js";
export * from "./se/privilege.js";
export * from "./io/function-access.js";
export * from "./io/device-secure.js";
export * from "./io/registry-keys.js";
export { ZwLoadDriver, ZwUnloadDriver } from "./io/driver-load.js";
export * from "./io/driver-flags.js";

// The object manager and the process manager.
export * from "./io/named-event.js";
export * from "./io/device-object-pointer.js";

// Object manager.
export * from "./ob/access.js";
export * from "./ob/object-type.js";
export { OBJECT_HEADER, OBJECT_HEADER_SIZE, OB_FLAG_PERMANENT_OBJECT } from "./ob/header.js";
export { HANDLE_TABLE, HANDLE_TABLE_ENTRY, KERNEL_HANDLE_MASK, NtCurrentProcess, NtCurrentThread, OBJ_PROTECT_CLOSE } from "./ob/handle-table.js";
export * from "./ob/attributes.js";
export {
  ObReferenceObject, ObfReferenceObject, ObDereferenceObject, ObfDereferenceObject, ObReferenceObjectWithTag, ObDereferenceObjectWithTag,
  ObReferenceObjectByPointer, ObGetObjectType,
} from "./ob/reference.js";
export {
  ObReferenceObjectByHandle, ObReferenceObjectByHandleWithTag, ObOpenObjectByPointer, ZwClose, NtClose, ZwDuplicateObject, ObIsKernelHandle,
  DUPLICATE_CLOSE_SOURCE, DUPLICATE_SAME_ACCESS, DUPLICATE_SAME_ATTRIBUTES, VERIFIER_USER_HANDLE_AS_KERNEL, DDI_RULE_IRQL_OB_PASSIVE,
  DDI_RULE_IRQL_ZW_PASSIVE, type OBJECT_HANDLE_INFORMATION, type ReferencedObject,
} from "./ob/handles.js";
export { ObReferenceObjectByName } from "./ob/by-name.js";
export * from "./ob/symbolic-link.js";
export * from "./ob/directory-object.js";
export { ZwCreateEvent, ZwOpenEvent } from "./ob/event.js";
export * from "./ob/temporary.js";

// Process manager.
export type { KPROCESS } from "./ke/scheduler.js";
export { ETHREAD, CLIENT_ID, ThreadObject } from "./ps/thread.js";
export * from "./ps/system-thread.js";
export * from "./ps/current.js";
export {
  PsSetCreateProcessNotifyRoutineEx, PsSetCreateThreadNotifyRoutine, PsRemoveCreateThreadNotifyRoutine, PsSetLoadImageNotifyRoutine,
  PsRemoveLoadImageNotifyRoutine, PSP_MAX_NOTIFY_ROUTINES, DDI_RULE_IRQL_PS_PASSIVE, IMAGE_INFO, PS_CREATE_NOTIFY_INFO,
  type PCREATE_PROCESS_NOTIFY_ROUTINE_EX, type PCREATE_THREAD_NOTIFY_ROUTINE, type PLOAD_IMAGE_NOTIFY_ROUTINE,
} from "./ps/notify.js";

// C enumeration members, bare.
export const {
  NonPagedPool, PagedPool, NonPagedPoolMustSucceed, NonPagedPoolCacheAligned, PagedPoolCacheAligned, NonPagedPoolCacheAlignedMustS, NonPagedPoolSession, PagedPoolSession, NonPagedPoolNx,
} = POOL_TYPE;
export const {
  IoReadAccess, IoWriteAccess, IoModifyAccess,
} = LOCK_OPERATION;
export const {
  LowPagePriority, NormalPagePriority, HighPagePriority,
} = MM_PAGE_PRIORITY;
export const {
  MmNonCached, MmCached, MmWriteCombined,
} = MEMORY_CACHING_TYPE;
export const {
  NotificationEvent, SynchronizationEvent,
} = EVENT_TYPE;
export const {
  Executive, FreePage, PageIn, UserRequest, Suspended,
} = KWAIT_REASON;
export const {
  KernelMode, UserMode,
} = KPROCESSOR_MODE;
export const {
  WaitAll, WaitAny,
} = WAIT_TYPE;
export const {
  LevelSensitive, Latched,
} = KINTERRUPT_MODE;
export const {
  NotificationTimer, SynchronizationTimer,
} = TIMER_TYPE;
export const {
  LowImportance, MediumImportance, HighImportance, MediumHighImportance,
} = KDPC_IMPORTANCE;
export const {
  CriticalWorkQueue, DelayedWorkQueue, HyperCriticalWorkQueue,
} = WORK_QUEUE_TYPE;
export const {
  Internal, Isa, PCIBus, PNPBus,
} = INTERFACE_TYPE;
export const {
  KeepObject, DeallocateObject, DeallocateObjectKeepRegisters,
} = IO_ALLOCATION_ACTION;
export const {
  Cmos, PCIConfiguration,
} = BUS_DATA_TYPE;
export const {
  BusQueryDeviceID, BusQueryHardwareIDs, BusQueryCompatibleIDs, BusQueryInstanceID, BusQueryDeviceSerialNumber, BusQueryContainerID,
} = BUS_QUERY_ID_TYPE;
export const {
  BusRelations, EjectionRelations, PowerRelations, RemovalRelations, TargetDeviceRelation, SingleBusRelations, TransportRelations,
} = DEVICE_RELATION_TYPE;
export const {
  DeviceTextDescription, DeviceTextLocationInformation,
} = DEVICE_TEXT_TYPE;
export const {
  DevicePropertyDeviceDescription, DevicePropertyHardwareID, DevicePropertyCompatibleIDs, DevicePropertyBootConfiguration, DevicePropertyBootConfigurationTranslated, DevicePropertyClassName, DevicePropertyClassGuid, DevicePropertyDriverKeyName, DevicePropertyManufacturer, DevicePropertyFriendlyName, DevicePropertyLocationInformation, DevicePropertyPhysicalDeviceObjectName, DevicePropertyBusTypeGuid, DevicePropertyLegacyBusType, DevicePropertyBusNumber, DevicePropertyEnumeratorName, DevicePropertyAddress, DevicePropertyUINumber,
} = DEVICE_REGISTRY_PROPERTY;
export const {
  EventCategoryReserved, EventCategoryHardwareProfileChange, EventCategoryDeviceInterfaceChange, EventCategoryTargetDeviceChange, EventCategoryKernelSoftRestart,
} = IO_NOTIFICATION_EVENT_CATEGORY;
export const {
  KeyBasicInformation, KeyNodeInformation, KeyFullInformation, KeyNameInformation, KeyCachedInformation, KeyFlagsInformation, KeyVirtualizationInformation, KeyHandleTagsInformation, KeyTrustInformation, KeyLayerInformation,
} = KEY_INFORMATION_CLASS;
export const {
  KeyValueBasicInformation, KeyValueFullInformation, KeyValuePartialInformation, KeyValueFullInformationAlign64, KeyValuePartialInformationAlign64, KeyValueLayerInformation,
} = KEY_VALUE_INFORMATION_CLASS;
export const {
  RegNtDeleteKey, RegNtPreDeleteKey, RegNtSetValueKey, RegNtPreSetValueKey, RegNtDeleteValueKey, RegNtPreDeleteValueKey, RegNtSetInformationKey,
  RegNtPreSetInformationKey, RegNtRenameKey, RegNtPreRenameKey, RegNtEnumerateKey, RegNtPreEnumerateKey, RegNtEnumerateValueKey,
  RegNtPreEnumerateValueKey, RegNtQueryKey, RegNtPreQueryKey, RegNtQueryValueKey, RegNtPreQueryValueKey, RegNtQueryMultipleValueKey,
  RegNtPreQueryMultipleValueKey, RegNtPreCreateKey, RegNtPostCreateKey, RegNtPreOpenKey, RegNtPostOpenKey, RegNtKeyHandleClose,
  RegNtPreKeyHandleClose, RegNtPostDeleteKey, RegNtPostSetValueKey, RegNtPostDeleteValueKey, RegNtPostSetInformationKey, RegNtPostRenameKey,
  RegNtPostEnumerateKey, RegNtPostEnumerateValueKey, RegNtPostQueryKey, RegNtPostQueryValueKey, RegNtPostQueryMultipleValueKey,
  RegNtPostKeyHandleClose, RegNtPreCreateKeyEx, RegNtPostCreateKeyEx, RegNtPreOpenKeyEx, RegNtPostOpenKeyEx, RegNtPreFlushKey,
  RegNtPostFlushKey, RegNtPreLoadKey, RegNtPostLoadKey, RegNtPreUnLoadKey, RegNtPostUnLoadKey, RegNtPreQueryKeySecurity,
  RegNtPostQueryKeySecurity, RegNtPreSetKeySecurity, RegNtPostSetKeySecurity, RegNtCallbackObjectContextCleanup, RegNtPreRestoreKey,
  RegNtPostRestoreKey, RegNtPreSaveKey, RegNtPostSaveKey, RegNtPreReplaceKey, RegNtPostReplaceKey, RegNtPreQueryKeyName,
  RegNtPostQueryKeyName, RegNtPreSaveMergedKey, RegNtPostSaveMergedKey, MaxRegNtNotifyClass,
} = REG_NOTIFY_CLASS;
