/**
 * The WDM function driver for QEMU's edu device, written as a C driver would be: it maps
 * BAR0, connects its MSI with IoConnectInterruptEx (its INTx line when the machine gives
 * it no message), allocates a DMA common buffer the
 * device's 28 address bits can reach, and serves IOCTLs. Factorial and DMA requests are
 * pended, started on the device, and completed from the DPC its ISR requests. ReadFile
 * and WriteFile move data to and from the device's DMA buffer. It owns its device's power
 * policy: system power IRPs become device power IRPs (see the power section).
 */
import {
  DEVICE_OBJECT, DO_BUFFERED_IO, DO_DEVICE_INITIALIZING, DO_POWER_PAGABLE, DRIVER_OBJECT, FILE_DEVICE_SECURE_OPEN, FILE_DEVICE_UNKNOWN,
  IoAttachDeviceToDeviceStack, IoCreateDevice, IoCreateSymbolicLink, IoDeleteDevice, IoDeleteSymbolicLink, IoDetachDevice,
  IoInitializeDpcRequest, IoRequestDpc,
} from "../../io/objects.js";
import {
  IoCallDriver, IoCompleteRequest, IoGetCurrentIrpStackLocation, IoMarkIrpPending, IoSkipCurrentIrpStackLocation, IO_NO_INCREMENT,
  IRP_MJ_CLEANUP, IRP_MJ_CLOSE, IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL, IRP_MJ_PNP, IRP_MJ_POWER, IRP_MJ_READ, IRP_MJ_WRITE, type IRP,
} from "../../io/irp.js";
import { IoForwardIrpSynchronously } from "../../io/forward.js";
import { CONNECT_LINE_BASED, CONNECT_MESSAGE_BASED, IoConnectInterruptEx, IoDisconnectInterruptEx, type IO_CONNECT_INTERRUPT_PARAMETERS, type IO_INTERRUPT_MESSAGE_INFO } from "../../io/interrupt.js";
import { CmResourceTypeInterrupt, CmResourceTypeMemory, type CM_RESOURCE_LIST } from "../../io/resources.js";
import { KeSynchronizeExecution, type KINTERRUPT } from "../../ke/interrupt.js";
import type { KDPC } from "../../ke/dpc.js";
import {
  NT_SUCCESS, STATUS_BUFFER_TOO_SMALL, STATUS_DEVICE_BUSY, STATUS_NO_SUCH_DEVICE, STATUS_DEVICE_CONFIGURATION_ERROR, STATUS_INSUFFICIENT_RESOURCES,
  STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_DEVICE_STATE, STATUS_INVALID_PARAMETER, STATUS_PENDING, STATUS_SUCCESS, type NTSTATUS,
} from "../../ke/ntstatus.js";
import { READ_REGISTER_ULONG, WRITE_REGISTER_ULONG, WRITE_REGISTER_ULONG64 } from "../../hal/registers.js";
import { DEVICE_DESCRIPTION, DEVICE_DESCRIPTION_VERSION3, IoGetDmaAdapter, type DMA_ADAPTER } from "../../hal/dma.js";
import { MmMapIoSpace, MmUnmapIoSpace, MEMORY_CACHING_TYPE } from "../../mm/physical.js";
import { RtlCopyMemory, readU32, writeU32 } from "../../mm/memory.js";
import {
  IRP_MN_CANCEL_REMOVE_DEVICE, IRP_MN_CANCEL_STOP_DEVICE, IRP_MN_QUERY_REMOVE_DEVICE, IRP_MN_QUERY_STOP_DEVICE, IRP_MN_REMOVE_DEVICE,
  IRP_MN_START_DEVICE, IRP_MN_STOP_DEVICE, IRP_MN_SURPRISE_REMOVAL,
} from "../../pnp/minor.js";
import * as HW from "./hw.js";
import {
  EDU_DMA_BUFFER_SIZE, EDU_DMA_REQUEST_SIZE, IOCTL_EDU_CHECK_LIVENESS, IOCTL_EDU_COMPUTE_FACTORIAL, IOCTL_EDU_DMA_FROM_DEVICE,
  IOCTL_EDU_DMA_TO_DEVICE, IOCTL_EDU_GET_IDENTIFICATION,
} from "./public.js";
import {
  IoAllocateIrp, IoCopyCurrentIrpStackLocationToNext, IoFreeIrp, IoGetNextIrpStackLocation, IoSetCompletionRoutine, type IO_STATUS_BLOCK,
} from "../../io/irp.js";
import { EVENT_TYPE, KEVENT, KeClearEvent, KeInitializeEvent, KeSetEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON } from "../../ke/dispatcher.js";
import { STATUS_DEVICE_POWERED_OFF, STATUS_MORE_PROCESSING_REQUIRED, STATUS_NOT_SUPPORTED } from "../../ke/ntstatus.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../../mm/pool.js";
import { DEVICE_CAPABILITIES, IRP_MN_QUERY_CAPABILITIES } from "../../pnp/minor.js";
import { DEVICE_POWER_STATE, IRP_MN_SET_POWER, POWER_STATE, POWER_STATE_TYPE, SYSTEM_POWER_STATE } from "../../po/power.js";
import { PoCallDriver, PoRequestPowerIrp, PoSetPowerState, PoStartNextPowerIrp } from "../../po/routines.js";
import type { UNICODE_STRING } from "../../rtl/unicode-string.js";

const NT_DEVICE_NAME = "\\Device\\Edu0";
const DOS_DEVICE_NAME = "\\DosDevices\\Edu0";

/** What the device is doing for the pending request. */
enum EduOperation {
  None,
  Factorial,
  DmaToDevice,
  DmaFromDevice,
  /** Power: the device's DMA buffer copied out before D3, and back after D0 (the pending "request" is the device power IRP). */
  PowerSave,
  PowerRestore,
}

/** The FDO's device extension. */
export class EDU_DEVICE_EXTENSION {
  Self!: DEVICE_OBJECT;
  PhysicalDeviceObject!: DEVICE_OBJECT;
  LowerDeviceObject: DEVICE_OBJECT | null = null;
  /** BAR0 mapped into system space. */
  Registers = 0;
  RegistersLength = 0;
  InterruptTable: IO_INTERRUPT_MESSAGE_INFO | null = null;
  Interrupt: KINTERRUPT | null = null;
  /** CONNECT_MESSAGE_BASED, or CONNECT_LINE_BASED when IoConnectInterruptEx fell back to the line. */
  InterruptConnection = 0;
  DmaAdapter: DMA_ADAPTER | null = null;
  CommonBuffer = 0;
  CommonBufferLogical = 0;
  /** The request the device is working on, guarded by the interrupt spin lock. */
  PendingIrp: IRP | null = null;
  Operation = EduOperation.None;
  /** Bytes the pending DMA moves. */
  TransferLength = 0;
  /** Interrupt status bits the ISR collected for the DPC, guarded by the interrupt spin lock. */
  InterruptStatus = 0;
  Started = false;
  /** Set by IRP_MN_SURPRISE_REMOVAL or IRP_MN_REMOVE_DEVICE: every new request fails with STATUS_NO_SUCH_DEVICE. */
  Removed = false;
  /** Power: the device's power state as the driver last set it (a started device is in D0). */
  DevicePowerState = DEVICE_POWER_STATE.PowerDeviceD0;
  /** Power: set while the device is leaving D0, out of it, or being restored; requests then fail with STATUS_DEVICE_POWERED_OFF. */
  PowerIoBlocked = false;
  /** Power: signalled by the DPC when the device finishes something during a power transition. */
  readonly PowerEvent = new KEVENT();
  /** Power: what IRP_MN_QUERY_CAPABILITIES reported (DeviceState maps system to device states). */
  PowerCapabilities: DEVICE_CAPABILITIES | null = null;
  /** Power: nonpaged copy of the device's DMA buffer while it is out of D0 (0 when none). */
  SavedBuffer = 0;
}

function register(ext: EDU_DEVICE_EXTENSION, offset: number): number {
  return ext.Registers + offset;
}

function completeRequest(Irp: IRP, status: NTSTATUS, information: number): NTSTATUS {
  Irp.IoStatus.Status = status;
  Irp.IoStatus.Information = information;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
  return status;
}

/**
 * The line ISR (the line may be shared): claims the interrupt only if the device shows a
 * status bit, acknowledges it (which lowers the line) and queues the DPC.
 */
function EduInterruptService(_Interrupt: KINTERRUPT, ServiceContext: unknown): boolean {
  const ext = ServiceContext as EDU_DEVICE_EXTENSION;
  // Out of D0 the device raises nothing and its registers read as all ones: not ours.
  if (ext.DevicePowerState !== DEVICE_POWER_STATE.PowerDeviceD0) return false;
  const status = READ_REGISTER_ULONG(register(ext, HW.EDU_REG_INTERRUPT_STATUS));
  if (status === 0) return false;
  WRITE_REGISTER_ULONG(register(ext, HW.EDU_REG_INTERRUPT_ACK), status);
  // A level line must be low before the EOI, or it fires again: a read flushes the posted write.
  if (ext.InterruptConnection === CONNECT_LINE_BASED) READ_REGISTER_ULONG(register(ext, HW.EDU_REG_INTERRUPT_STATUS));
  ext.InterruptStatus |= status;
  IoRequestDpc(ext.Self, ext.PendingIrp, null);
  return true;
}

/** The message ISR: the device has one message, so it is the line ISR's work. */
function EduInterruptMessageService(Interrupt: KINTERRUPT, ServiceContext: unknown, _MessageId: number): boolean {
  return EduInterruptService(Interrupt, ServiceContext);
}

/** The DPC: finishes the pending request the interrupt reported. */
function EduDpcForIsr(_Dpc: KDPC, DeviceObject: DEVICE_OBJECT, _Irp: IRP | null, _Context: unknown): void {
  const ext = DeviceObject.DeviceExtension as EDU_DEVICE_EXTENSION;
  // Queued just before the interrupt was disconnected (the device is being removed): nothing left to finish.
  if (!ext.Interrupt) return;
  // Take the collected status bits, and the pending request if they finish it.
  const taken: { irp: IRP | null; operation: EduOperation } = { irp: null, operation: EduOperation.None };
  KeSynchronizeExecution(ext.Interrupt!, () => {
    const bits = ext.InterruptStatus;
    ext.InterruptStatus = 0;
    const done = (ext.Operation === EduOperation.Factorial && (bits & HW.EDU_INTERRUPT_FACTORIAL) !== 0)
      || (ext.Operation !== EduOperation.Factorial && ext.Operation !== EduOperation.None && (bits & HW.EDU_INTERRUPT_DMA) !== 0);
    if (done) {
      taken.irp = ext.PendingIrp;
      taken.operation = ext.Operation;
      ext.PendingIrp = null;
      ext.Operation = EduOperation.None;
    }
    return true;
  }, null);
  const request = taken.irp;
  const operation = taken.operation;
  if (!request) return;
  const buffer = request.AssociatedIrp.SystemBuffer;
  switch (operation) {
    case EduOperation.Factorial:
      writeU32(buffer, READ_REGISTER_ULONG(register(ext, HW.EDU_REG_FACTORIAL)));
      completeRequest(request, STATUS_SUCCESS, 4);
      break;
    case EduOperation.DmaToDevice:
      // A write reports the bytes it moved; the DMA IOCTL returns no data.
      completeRequest(request, STATUS_SUCCESS, IoGetCurrentIrpStackLocation(request).MajorFunction === IRP_MJ_WRITE ? ext.TransferLength : 0);
      break;
    case EduOperation.DmaFromDevice:
      RtlCopyMemory(buffer, ext.CommonBuffer, ext.TransferLength);
      completeRequest(request, STATUS_SUCCESS, ext.TransferLength);
      break;
    case EduOperation.PowerSave:
    case EduOperation.PowerRestore:
      break;
  }
  // A power transition waits for the device to finish (see EduPowerDown).
  if (ext.PowerIoBlocked) KeSetEvent(ext.PowerEvent, 0, false);
}

/** Makes `Irp` the pending request, or says the device is busy. Runs under the interrupt lock. */
function claimDevice(ext: EDU_DEVICE_EXTENSION, Irp: IRP, operation: EduOperation): boolean {
  return KeSynchronizeExecution(ext.Interrupt!, () => {
    if (ext.PendingIrp) return false;
    ext.PendingIrp = Irp;
    ext.Operation = operation;
    return true;
  }, null);
}

/**
 * Pends `Irp` and starts a DMA of `length` bytes between the common buffer and the
 * device buffer at `offset`; data for the device is first copied from `source`.
 */
function EduStartDma(ext: EDU_DEVICE_EXTENSION, Irp: IRP, toDevice: boolean, offset: number, length: number, source: number): NTSTATUS {
  IoMarkIrpPending(Irp);
  if (!claimDevice(ext, Irp, toDevice ? EduOperation.DmaToDevice : EduOperation.DmaFromDevice)) {
    // Nothing was started: complete it busy (it was marked pending, so return pending).
    completeRequest(Irp, STATUS_DEVICE_BUSY, 0);
    return STATUS_PENDING;
  }
  ext.TransferLength = length;
  const deviceAddress = HW.EDU_DMA_BUFFER_ADDRESS + offset;
  if (toDevice) RtlCopyMemory(ext.CommonBuffer, source, length);
  WRITE_REGISTER_ULONG64(register(ext, HW.EDU_REG_DMA_SOURCE), toDevice ? ext.CommonBufferLogical : deviceAddress);
  WRITE_REGISTER_ULONG64(register(ext, HW.EDU_REG_DMA_DESTINATION), toDevice ? deviceAddress : ext.CommonBufferLogical);
  WRITE_REGISTER_ULONG64(register(ext, HW.EDU_REG_DMA_COUNT), length);
  WRITE_REGISTER_ULONG(register(ext, HW.EDU_REG_DMA_COMMAND), HW.EDU_DMA_START | HW.EDU_DMA_INTERRUPT | (toDevice ? 0 : HW.EDU_DMA_TO_RAM));
  return STATUS_PENDING;
}

/** IRP_MJ_DEVICE_CONTROL. */
function EduDispatchDeviceControl(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = DeviceObject.DeviceExtension as EDU_DEVICE_EXTENSION;
  const s = IoGetCurrentIrpStackLocation(Irp);
  const { IoControlCode, InputBufferLength, OutputBufferLength } = s.Parameters.DeviceIoControl;
  const buffer = Irp.AssociatedIrp.SystemBuffer;
  if (ext.Removed) return completeRequest(Irp, STATUS_NO_SUCH_DEVICE, 0);
  if (!ext.Started) return completeRequest(Irp, STATUS_INVALID_DEVICE_STATE, 0);
  if (ext.PowerIoBlocked) return completeRequest(Irp, STATUS_DEVICE_POWERED_OFF, 0);

  switch (IoControlCode) {
    case IOCTL_EDU_GET_IDENTIFICATION:
      if (OutputBufferLength < 4) return completeRequest(Irp, STATUS_BUFFER_TOO_SMALL, 0);
      writeU32(buffer, READ_REGISTER_ULONG(register(ext, HW.EDU_REG_IDENTIFICATION)));
      return completeRequest(Irp, STATUS_SUCCESS, 4);

    case IOCTL_EDU_CHECK_LIVENESS:
      if (InputBufferLength < 4 || OutputBufferLength < 4) return completeRequest(Irp, STATUS_BUFFER_TOO_SMALL, 0);
      WRITE_REGISTER_ULONG(register(ext, HW.EDU_REG_LIVENESS), readU32(buffer));
      writeU32(buffer, READ_REGISTER_ULONG(register(ext, HW.EDU_REG_LIVENESS)));
      return completeRequest(Irp, STATUS_SUCCESS, 4);

    case IOCTL_EDU_COMPUTE_FACTORIAL: {
      if (InputBufferLength < 4 || OutputBufferLength < 4) return completeRequest(Irp, STATUS_BUFFER_TOO_SMALL, 0);
      const n = readU32(buffer);
      IoMarkIrpPending(Irp);
      if (!claimDevice(ext, Irp, EduOperation.Factorial)) {
        // Nothing was started: complete it busy (it was marked pending, so return pending).
        completeRequest(Irp, STATUS_DEVICE_BUSY, 0);
        return STATUS_PENDING;
      }
      WRITE_REGISTER_ULONG(register(ext, HW.EDU_REG_STATUS), HW.EDU_STATUS_IRQ_FACTORIAL);
      WRITE_REGISTER_ULONG(register(ext, HW.EDU_REG_FACTORIAL), n);
      return STATUS_PENDING;
    }

    case IOCTL_EDU_DMA_TO_DEVICE:
    case IOCTL_EDU_DMA_FROM_DEVICE: {
      if (InputBufferLength < EDU_DMA_REQUEST_SIZE) return completeRequest(Irp, STATUS_BUFFER_TOO_SMALL, 0);
      const offset = readU32(buffer);
      const length = readU32(buffer + 4);
      const toDevice = IoControlCode === IOCTL_EDU_DMA_TO_DEVICE;
      if (length === 0 || offset + length > EDU_DMA_BUFFER_SIZE) return completeRequest(Irp, STATUS_INVALID_PARAMETER, 0);
      if (toDevice ? InputBufferLength < EDU_DMA_REQUEST_SIZE + length : OutputBufferLength < length) {
        return completeRequest(Irp, STATUS_BUFFER_TOO_SMALL, 0);
      }
      return EduStartDma(ext, Irp, toDevice, offset, length, buffer + EDU_DMA_REQUEST_SIZE);
    }

    default:
      return completeRequest(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
  }
}

/**
 * IRP_MJ_READ and IRP_MJ_WRITE (buffered): move up to the device buffer's 4 KiB from or
 * to its start, by DMA; the request completes from the DMA interrupt.
 */
function EduDispatchReadWrite(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = DeviceObject.DeviceExtension as EDU_DEVICE_EXTENSION;
  const s = IoGetCurrentIrpStackLocation(Irp);
  if (ext.Removed) return completeRequest(Irp, STATUS_NO_SUCH_DEVICE, 0);
  if (!ext.Started) return completeRequest(Irp, STATUS_INVALID_DEVICE_STATE, 0);
  if (ext.PowerIoBlocked) return completeRequest(Irp, STATUS_DEVICE_POWERED_OFF, 0);
  const length = s.Parameters.Read.Length;
  const offset = s.Parameters.Read.ByteOffset;
  if (length === 0) return completeRequest(Irp, STATUS_SUCCESS, 0);
  if (offset < 0 || offset + length > EDU_DMA_BUFFER_SIZE) return completeRequest(Irp, STATUS_INVALID_PARAMETER, 0);
  const write = s.MajorFunction === IRP_MJ_WRITE;
  return EduStartDma(ext, Irp, write, offset, length, Irp.AssociatedIrp.SystemBuffer);
}

/** IRP_MJ_CREATE, IRP_MJ_CLEANUP and IRP_MJ_CLOSE: nothing to set up per handle. */
function EduDispatchCreateClose(_DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  return completeRequest(Irp, STATUS_SUCCESS, 0);
}

/** Maps BAR0, connects the message interrupt and sets up DMA from the translated resources. */
function EduStartDevice(ext: EDU_DEVICE_EXTENSION, translated: CM_RESOURCE_LIST): NTSTATUS {
  let haveInterrupt = false;
  for (const d of translated.List[0]?.PartialResourceList.PartialDescriptors ?? []) {
    if (d.Type === CmResourceTypeMemory && ext.Registers === 0 && d.u.Memory) {
      ext.RegistersLength = d.u.Memory.Length;
      ext.Registers = MmMapIoSpace(d.u.Memory.Start, d.u.Memory.Length, MEMORY_CACHING_TYPE.MmNonCached);
      if (ext.Registers === 0) return STATUS_INSUFFICIENT_RESOURCES;
    } else if (d.Type === CmResourceTypeInterrupt) {
      haveInterrupt = true;
    }
  }
  if (ext.Registers === 0 || !haveInterrupt) return STATUS_DEVICE_CONFIGURATION_ERROR;

  const id = READ_REGISTER_ULONG(register(ext, HW.EDU_REG_IDENTIFICATION));
  if (id >>> 24 !== HW.EDU_EXPECTED_MAJOR) return STATUS_DEVICE_CONFIGURATION_ERROR;

  const params: IO_CONNECT_INTERRUPT_PARAMETERS = {
    Version: CONNECT_MESSAGE_BASED,
    MessageBased: {
      PhysicalDeviceObject: ext.PhysicalDeviceObject,
      ConnectionContext: { InterruptMessageTable: null, InterruptObject: null },
      MessageServiceRoutine: EduInterruptMessageService,
      ServiceContext: ext,
      SpinLock: null,
      SynchronizeIrql: 0,
      FloatingSave: false,
      FallBackServiceRoutine: EduInterruptService,
    },
  };
  const connected = IoConnectInterruptEx(params);
  if (!NT_SUCCESS(connected)) return connected;
  const context = params.MessageBased!.ConnectionContext;
  ext.InterruptConnection = params.Version;
  ext.InterruptTable = context.InterruptMessageTable;
  ext.Interrupt = params.Version === CONNECT_LINE_BASED ? context.InterruptObject : context.InterruptMessageTable!.MessageInfo[0].InterruptObject;

  const description = new DEVICE_DESCRIPTION();
  description.Version = DEVICE_DESCRIPTION_VERSION3;
  description.Master = true;
  description.ScatterGather = false;
  description.DmaAddressWidth = HW.EDU_DMA_ADDRESS_BITS;
  description.MaximumLength = EDU_DMA_BUFFER_SIZE;
  const { DmaAdapter } = IoGetDmaAdapter(ext.PhysicalDeviceObject, description);
  if (!DmaAdapter) return STATUS_INSUFFICIENT_RESOURCES;
  ext.DmaAdapter = DmaAdapter;
  const common = DmaAdapter.DmaOperations.AllocateCommonBuffer(DmaAdapter, EDU_DMA_BUFFER_SIZE, false);
  if (common.VirtualAddress === 0) return STATUS_INSUFFICIENT_RESOURCES;
  ext.CommonBuffer = common.VirtualAddress;
  ext.CommonBufferLogical = common.LogicalAddress;
  ext.Started = true;
  return STATUS_SUCCESS;
}

/** Completes the request the device was working on, if any, with `status` (the device will never finish it). */
function EduFailPending(ext: EDU_DEVICE_EXTENSION, status: NTSTATUS): void {
  if (!ext.Interrupt) return;
  let irp: IRP | null = null;
  KeSynchronizeExecution(ext.Interrupt, () => {
    irp = ext.PendingIrp;
    ext.PendingIrp = null;
    ext.Operation = EduOperation.None;
    return true;
  }, null);
  if (irp) completeRequest(irp, status, 0);
}

/** True while a request is in the device (QUERY_STOP and QUERY_REMOVE are refused then). */
function EduBusy(ext: EDU_DEVICE_EXTENSION): boolean {
  return ext.Interrupt !== null && KeSynchronizeExecution(ext.Interrupt, () => ext.PendingIrp !== null, null);
}

function EduReleaseResources(ext: EDU_DEVICE_EXTENSION): void {
  ext.Started = false;
  if (ext.Interrupt) IoDisconnectInterruptEx({ Version: ext.InterruptConnection, ConnectionContext: { InterruptMessageTable: ext.InterruptTable, InterruptObject: ext.Interrupt } });
  ext.InterruptTable = null;
  ext.Interrupt = null;
  if (ext.CommonBuffer && ext.DmaAdapter) {
    ext.DmaAdapter.DmaOperations.FreeCommonBuffer(ext.DmaAdapter, EDU_DMA_BUFFER_SIZE, ext.CommonBufferLogical, ext.CommonBuffer, false);
    ext.DmaAdapter.DmaOperations.PutDmaAdapter(ext.DmaAdapter);
  }
  ext.CommonBuffer = 0;
  ext.DmaAdapter = null;
  if (ext.Registers) MmUnmapIoSpace(ext.Registers, ext.RegistersLength);
  ext.Registers = 0;
}

/** Sets IoStatus.Status to success and passes the IRP to the bus driver. */
function passDown(ext: EDU_DEVICE_EXTENSION, Irp: IRP): NTSTATUS | Promise<NTSTATUS> {
  Irp.IoStatus.Status = STATUS_SUCCESS;
  IoSkipCurrentIrpStackLocation(Irp);
  return IoCallDriver(ext.LowerDeviceObject!, Irp);
}

/**
 * IRP_MJ_PNP: start after the bus has started the function; stop and removal queries are
 * refused while a request is in the device; STOP gives the resources back; a surprise
 * removal fails the request in flight and lets go of the hardware; REMOVE deletes the FDO.
 */
async function EduDispatchPnp(DeviceObject: DEVICE_OBJECT, Irp: IRP): Promise<NTSTATUS> {
  const ext = DeviceObject.DeviceExtension as EDU_DEVICE_EXTENSION;
  const s = IoGetCurrentIrpStackLocation(Irp);
  switch (s.MinorFunction) {
    case IRP_MN_QUERY_STOP_DEVICE:
    case IRP_MN_QUERY_REMOVE_DEVICE:
      if (EduBusy(ext)) return completeRequest(Irp, STATUS_DEVICE_BUSY, 0);
      return passDown(ext, Irp);
    case IRP_MN_CANCEL_STOP_DEVICE:
    case IRP_MN_CANCEL_REMOVE_DEVICE:
      return passDown(ext, Irp);
    case IRP_MN_STOP_DEVICE:
      EduReleaseResources(ext);
      return passDown(ext, Irp);
    case IRP_MN_SURPRISE_REMOVAL:
      ext.Removed = true;
      EduFailPending(ext, STATUS_NO_SUCH_DEVICE);
      EduReleaseResources(ext);
      return passDown(ext, Irp);
    case IRP_MN_START_DEVICE: {
      await IoForwardIrpSynchronously(ext.LowerDeviceObject!, Irp);
      let status = Irp.IoStatus.Status;
      if (NT_SUCCESS(status)) status = EduStartDevice(ext, s.Parameters.StartDevice.AllocatedResourcesTranslated as CM_RESOURCE_LIST);
      if (NT_SUCCESS(status)) await EduPowerOnStart(DeviceObject, ext);
      return completeRequest(Irp, status, 0);
    }
    case IRP_MN_REMOVE_DEVICE: {
      ext.Removed = true;
      EduFailPending(ext, STATUS_NO_SUCH_DEVICE);
      EduReleaseResources(ext);
      Irp.IoStatus.Status = STATUS_SUCCESS;
      IoSkipCurrentIrpStackLocation(Irp);
      const status = await IoCallDriver(ext.LowerDeviceObject!, Irp);
      IoDeleteSymbolicLink(DOS_DEVICE_NAME);
      IoDetachDevice(ext.LowerDeviceObject!);
      IoDeleteDevice(DeviceObject);
      return status;
    }
    default:
      IoSkipCurrentIrpStackLocation(Irp);
      return IoCallDriver(ext.LowerDeviceObject!, Irp);
  }
}

// ---------------------------------------------------------------------------------------
// Power. The driver is its device's power policy owner. A system set-power IRP goes down
// the stack with a completion routine; when the bus driver has completed it, the routine
// requests the matching device set-power IRP (D0 for S0; for a sleep state the
// DeviceState entry of the device's capabilities, D3 when that names none), and the
// system IRP completes when the device IRP does. Going to D3 the driver stops accepting
// requests, lets the one in flight finish, copies the device's 4 KiB DMA buffer out (a
// device may lose power entirely in a sleep state) and stops touching the hardware;
// back in D0 it copies the buffer back in. A request that arrives while the device is
// leaving D0, out of it or being restored fails with STATUS_DEVICE_POWERED_OFF rather
// than waiting for a wake-up that may be far off.

const EDU_POWER_TAG = "EduP";

/** Sends IRP_MN_QUERY_CAPABILITIES down the stack and keeps the capabilities the bus driver reports. */
async function EduQueryCapabilities(ext: EDU_DEVICE_EXTENSION): Promise<NTSTATUS> {
  const lower = ext.LowerDeviceObject!;
  const irp = IoAllocateIrp(lower.StackSize, false);
  if (!irp) return STATUS_INSUFFICIENT_RESOURCES;
  irp.IoStatus.Status = STATUS_NOT_SUPPORTED;
  const capabilities = new DEVICE_CAPABILITIES();
  const s = IoGetNextIrpStackLocation(irp);
  s.MajorFunction = IRP_MJ_PNP;
  s.MinorFunction = IRP_MN_QUERY_CAPABILITIES;
  s.Parameters.DeviceCapabilities.Capabilities = capabilities;
  const done = new KEVENT();
  KeInitializeEvent(done, EVENT_TYPE.NotificationEvent, false);
  IoSetCompletionRoutine(irp, function EduCapabilitiesComplete(_d, _irp, context) {
    KeSetEvent(context as KEVENT, 0, false);
    return STATUS_MORE_PROCESSING_REQUIRED;
  }, done, true, true, true);
  if (await IoCallDriver(lower, irp) === STATUS_PENDING) await KeWaitForSingleObject(done, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
  const status = irp.IoStatus.Status;
  IoFreeIrp(irp);
  if (NT_SUCCESS(status)) ext.PowerCapabilities = capabilities;
  return status;
}

/** After START_DEVICE: learns the power capabilities and tells the power manager the device is in D0. */
async function EduPowerOnStart(DeviceObject: DEVICE_OBJECT, ext: EDU_DEVICE_EXTENSION): Promise<void> {
  KeInitializeEvent(ext.PowerEvent, EVENT_TYPE.NotificationEvent, false);
  await EduQueryCapabilities(ext);
  ext.DevicePowerState = DEVICE_POWER_STATE.PowerDeviceD0;
  PoSetPowerState(DeviceObject, POWER_STATE_TYPE.DevicePowerState, new POWER_STATE(DEVICE_POWER_STATE.PowerDeviceD0));
}

/** The device state for a system state: D0 in S0; otherwise what DeviceState names, D3 if it names no low-power state. */
function EduDeviceStateFor(ext: EDU_DEVICE_EXTENSION, system: SYSTEM_POWER_STATE): DEVICE_POWER_STATE {
  if (system === SYSTEM_POWER_STATE.PowerSystemWorking) return DEVICE_POWER_STATE.PowerDeviceD0;
  const mapped = ext.PowerCapabilities?.DeviceState[system] ?? DEVICE_POWER_STATE.PowerDeviceUnspecified;
  return mapped > DEVICE_POWER_STATE.PowerDeviceD0 ? mapped : DEVICE_POWER_STATE.PowerDeviceD3;
}

/** PowerCompletion of the device IRP requested for a system IRP: completes the system IRP with its status. */
function EduDevicePowerComplete(_DeviceObject: DEVICE_OBJECT, _MinorFunction: number, _PowerState: POWER_STATE, Context: unknown, IoStatus: IO_STATUS_BLOCK): void {
  const SystemIrp = Context as IRP;
  SystemIrp.IoStatus.Status = IoStatus.Status;
  PoStartNextPowerIrp(SystemIrp);
  IoCompleteRequest(SystemIrp, IO_NO_INCREMENT);
}

/** IoCompletion of a system set-power IRP: the bus driver is done with it; request the device IRP. */
function EduSystemPowerComplete(_DeviceObject: DEVICE_OBJECT | null, Irp: IRP, Context: unknown): NTSTATUS {
  const ext = Context as EDU_DEVICE_EXTENSION;
  if (!NT_SUCCESS(Irp.IoStatus.Status)) {
    PoStartNextPowerIrp(Irp);
    return STATUS_SUCCESS;
  }
  const system = IoGetCurrentIrpStackLocation(Irp).Parameters.Power.State as SYSTEM_POWER_STATE;
  const state = new POWER_STATE();
  state.DeviceState = EduDeviceStateFor(ext, system);
  const { status } = PoRequestPowerIrp(ext.PhysicalDeviceObject, IRP_MN_SET_POWER, state, EduDevicePowerComplete, Irp);
  if (status !== STATUS_PENDING) {
    PoStartNextPowerIrp(Irp);
    return STATUS_SUCCESS;
  }
  return STATUS_MORE_PROCESSING_REQUIRED;
}

/** A system set-power IRP: pended and passed down with EduSystemPowerComplete. */
async function EduSystemSetPower(ext: EDU_DEVICE_EXTENSION, Irp: IRP): Promise<NTSTATUS> {
  IoMarkIrpPending(Irp);
  IoCopyCurrentIrpStackLocationToNext(Irp);
  IoSetCompletionRoutine(Irp, EduSystemPowerComplete, ext, true, true, true);
  await PoCallDriver(ext.LowerDeviceObject!, Irp);
  return STATUS_PENDING;
}

/** Runs a DMA between the device buffer and the common buffer for a power transition and waits for its interrupt. */
async function EduPowerTransfer(ext: EDU_DEVICE_EXTENSION, Irp: IRP, operation: EduOperation.PowerSave | EduOperation.PowerRestore): Promise<void> {
  KeClearEvent(ext.PowerEvent);
  if (!claimDevice(ext, Irp, operation)) return;
  const toDevice = operation === EduOperation.PowerRestore;
  ext.TransferLength = EDU_DMA_BUFFER_SIZE;
  WRITE_REGISTER_ULONG64(register(ext, HW.EDU_REG_DMA_SOURCE), toDevice ? ext.CommonBufferLogical : HW.EDU_DMA_BUFFER_ADDRESS);
  WRITE_REGISTER_ULONG64(register(ext, HW.EDU_REG_DMA_DESTINATION), toDevice ? HW.EDU_DMA_BUFFER_ADDRESS : ext.CommonBufferLogical);
  WRITE_REGISTER_ULONG64(register(ext, HW.EDU_REG_DMA_COUNT), EDU_DMA_BUFFER_SIZE);
  WRITE_REGISTER_ULONG(register(ext, HW.EDU_REG_DMA_COMMAND), HW.EDU_DMA_START | HW.EDU_DMA_INTERRUPT | (toDevice ? 0 : HW.EDU_DMA_TO_RAM));
  await KeWaitForSingleObject(ext.PowerEvent, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
}

/**
 * Leaving D0 for `state`: stop taking requests, wait for the one in flight, save the
 * device's DMA buffer, tell the power manager, and stop touching the hardware.
 */
async function EduPowerDown(DeviceObject: DEVICE_OBJECT, ext: EDU_DEVICE_EXTENSION, Irp: IRP, state: DEVICE_POWER_STATE): Promise<void> {
  ext.PowerIoBlocked = true;
  for (;;) {
    KeClearEvent(ext.PowerEvent);
    if (!KeSynchronizeExecution(ext.Interrupt!, () => ext.PendingIrp !== null, null)) break;
    await KeWaitForSingleObject(ext.PowerEvent, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
  }
  const saved = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPool, EDU_DMA_BUFFER_SIZE, EDU_POWER_TAG);
  if (saved !== 0) {
    await EduPowerTransfer(ext, Irp, EduOperation.PowerSave);
    RtlCopyMemory(saved, ext.CommonBuffer, EDU_DMA_BUFFER_SIZE);
    ext.SavedBuffer = saved;
  }
  PoSetPowerState(DeviceObject, POWER_STATE_TYPE.DevicePowerState, new POWER_STATE(state));
  ext.DevicePowerState = state;
}

/** Back in D0: tell the power manager, restore the DMA buffer, and take requests again. */
async function EduPowerUp(DeviceObject: DEVICE_OBJECT, ext: EDU_DEVICE_EXTENSION, Irp: IRP): Promise<void> {
  ext.DevicePowerState = DEVICE_POWER_STATE.PowerDeviceD0;
  PoSetPowerState(DeviceObject, POWER_STATE_TYPE.DevicePowerState, new POWER_STATE(DEVICE_POWER_STATE.PowerDeviceD0));
  if (ext.SavedBuffer !== 0) {
    RtlCopyMemory(ext.CommonBuffer, ext.SavedBuffer, EDU_DMA_BUFFER_SIZE);
    await EduPowerTransfer(ext, Irp, EduOperation.PowerRestore);
    ExFreePoolWithTag(ext.SavedBuffer, EDU_POWER_TAG);
    ext.SavedBuffer = 0;
  }
  ext.PowerIoBlocked = false;
}

/**
 * A device set-power IRP. Powering down, the device is quiesced and saved before the IRP
 * goes down to the bus driver; powering up, the IRP goes down first and the device is
 * restored once the bus driver has put it in D0.
 */
async function EduDeviceSetPower(DeviceObject: DEVICE_OBJECT, ext: EDU_DEVICE_EXTENSION, Irp: IRP, state: DEVICE_POWER_STATE): Promise<NTSTATUS> {
  if (state === DEVICE_POWER_STATE.PowerDeviceD0) {
    await IoForwardIrpSynchronously(ext.LowerDeviceObject!, Irp);
    const status = Irp.IoStatus.Status;
    if (NT_SUCCESS(status) && ext.DevicePowerState !== DEVICE_POWER_STATE.PowerDeviceD0) await EduPowerUp(DeviceObject, ext, Irp);
    PoStartNextPowerIrp(Irp);
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
  }
  if (ext.DevicePowerState === DEVICE_POWER_STATE.PowerDeviceD0) await EduPowerDown(DeviceObject, ext, Irp, state);
  else if (ext.DevicePowerState !== state) {
    PoSetPowerState(DeviceObject, POWER_STATE_TYPE.DevicePowerState, new POWER_STATE(state));
    ext.DevicePowerState = state;
  }
  PoStartNextPowerIrp(Irp);
  IoSkipCurrentIrpStackLocation(Irp);
  return PoCallDriver(ext.LowerDeviceObject!, Irp);
}

/** IRP_MJ_POWER: set-power IRPs as the power policy owner (once started); everything else goes down. */
async function EduDispatchPower(DeviceObject: DEVICE_OBJECT, Irp: IRP): Promise<NTSTATUS> {
  const ext = DeviceObject.DeviceExtension as EDU_DEVICE_EXTENSION;
  const s = IoGetCurrentIrpStackLocation(Irp);
  if (ext.Started && s.MinorFunction === IRP_MN_SET_POWER) {
    if (s.Parameters.Power.Type === POWER_STATE_TYPE.SystemPowerState) return EduSystemSetPower(ext, Irp);
    return EduDeviceSetPower(DeviceObject, ext, Irp, s.Parameters.Power.State as DEVICE_POWER_STATE);
  }
  PoStartNextPowerIrp(Irp);
  IoSkipCurrentIrpStackLocation(Irp);
  return PoCallDriver(ext.LowerDeviceObject!, Irp);
}

/** AddDevice: creates the FDO, its name and link, and attaches it above the PDO. */
function EduAddDevice(DriverObject: DRIVER_OBJECT, PhysicalDeviceObject: DEVICE_OBJECT): NTSTATUS {
  const ext = new EDU_DEVICE_EXTENSION();
  const { status, DeviceObject } = IoCreateDevice(DriverObject, ext, NT_DEVICE_NAME, FILE_DEVICE_UNKNOWN, FILE_DEVICE_SECURE_OPEN, false);
  if (!NT_SUCCESS(status) || !DeviceObject) return status;
  ext.Self = DeviceObject;
  ext.PhysicalDeviceObject = PhysicalDeviceObject;
  ext.LowerDeviceObject = IoAttachDeviceToDeviceStack(DeviceObject, PhysicalDeviceObject);
  if (!ext.LowerDeviceObject) {
    IoDeleteDevice(DeviceObject);
    return STATUS_INSUFFICIENT_RESOURCES;
  }
  const link = IoCreateSymbolicLink(DOS_DEVICE_NAME, NT_DEVICE_NAME);
  if (!NT_SUCCESS(link)) {
    IoDetachDevice(ext.LowerDeviceObject);
    IoDeleteDevice(DeviceObject);
    return link;
  }
  IoInitializeDpcRequest(DeviceObject, EduDpcForIsr);
  DeviceObject.Flags |= DO_BUFFERED_IO | DO_POWER_PAGABLE;
  DeviceObject.Flags &= ~DO_DEVICE_INITIALIZING;
  return STATUS_SUCCESS;
}

/** DriverUnload: nothing global to free. */
function EduUnload(_DriverObject: DRIVER_OBJECT): void {}

/** DriverEntry of the edu driver. */
export function DriverEntry(DriverObject: DRIVER_OBJECT, _RegistryPath: UNICODE_STRING): NTSTATUS {
  DriverObject.DriverExtension.AddDevice = EduAddDevice;
  DriverObject.DriverUnload = EduUnload;
  DriverObject.MajorFunction[IRP_MJ_CREATE] = EduDispatchCreateClose;
  DriverObject.MajorFunction[IRP_MJ_CLEANUP] = EduDispatchCreateClose;
  DriverObject.MajorFunction[IRP_MJ_CLOSE] = EduDispatchCreateClose;
  DriverObject.MajorFunction[IRP_MJ_READ] = EduDispatchReadWrite;
  DriverObject.MajorFunction[IRP_MJ_WRITE] = EduDispatchReadWrite;
  DriverObject.MajorFunction[IRP_MJ_DEVICE_CONTROL] = EduDispatchDeviceControl;
  DriverObject.MajorFunction[IRP_MJ_PNP] = EduDispatchPnp;
  DriverObject.MajorFunction[IRP_MJ_POWER] = EduDispatchPower;
  return STATUS_SUCCESS;
}
