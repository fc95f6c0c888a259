/**
 * Requests the disk sends to the stack below it and waits for: I/O controls
 * (ClassSendDeviceIoControlSynchronous), the port's storage descriptors (ClassGetDescriptor:
 * first the 8-byte header to learn the size, then the whole descriptor into nonpaged
 * pool), an IRP forwarded down and waited for (ClassForwardIrpSynchronous), and the bus's
 * device capabilities (IRP_MN_QUERY_CAPABILITIES).
 */
import type { DEVICE_OBJECT } from "../../io/objects.js";
import {
  IO_STATUS_BLOCK, IoAllocateIrp, IoCallDriver, IoFreeIrp, IoGetNextIrpStackLocation, IoSetCompletionRoutine, IRP_MJ_PNP, type IRP,
} from "../../io/irp.js";
import { IoBuildDeviceIoControlRequest } from "../../io/build-irp.js";
import { IoForwardIrpSynchronously } from "../../io/forward.js";
import { EVENT_TYPE, KEVENT, KeInitializeEvent, KeSetEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON } from "../../ke/dispatcher.js";
import {
  NT_SUCCESS, STATUS_INSUFFICIENT_RESOURCES, STATUS_MORE_PROCESSING_REQUIRED, STATUS_NOT_SUPPORTED, STATUS_PENDING, STATUS_UNSUCCESSFUL, type NTSTATUS,
} from "../../ke/ntstatus.js";
import { ExAllocatePoolWithTag, ExFreePoolWithTag, POOL_TYPE } from "../../mm/pool.js";
import { readU32, RtlZeroMemory, writeU32, type PVOID } from "../../mm/memory.js";
import { DEVICE_CAPABILITIES, IRP_MN_QUERY_CAPABILITIES } from "../../pnp/minor.js";
import {
  IOCTL_STORAGE_QUERY_PROPERTY, STORAGE_DESCRIPTOR_HEADER_SIZE, STORAGE_PROPERTY_QUERY_SIZE, STORAGE_QUERY_TYPE, type STORAGE_PROPERTY_ID,
} from "../storage/ntddstor.js";
import { CLASS_TAG_DESCRIPTOR } from "./constants.js";

/**
 * ClassSendDeviceIoControlSynchronous: sends `IoControlCode` to `TargetDeviceObject` with
 * one buffer for input and output (`Buffer`, kernel memory) and waits; returns the final
 * IO_STATUS_BLOCK. PASSIVE_LEVEL.
 */
export async function ClassSendDeviceIoControlSynchronous(
  IoControlCode: number, TargetDeviceObject: DEVICE_OBJECT, Buffer: PVOID, InputBufferLength: number, OutputBufferLength: number,
  InternalDeviceIoControl: boolean,
): Promise<IO_STATUS_BLOCK> {
  const iosb = new IO_STATUS_BLOCK();
  const event = new KEVENT();
  KeInitializeEvent(event, EVENT_TYPE.NotificationEvent, false);
  const irp = IoBuildDeviceIoControlRequest(IoControlCode, TargetDeviceObject, Buffer, InputBufferLength, Buffer, OutputBufferLength, InternalDeviceIoControl, event, iosb);
  if (!irp) {
    iosb.Status = STATUS_INSUFFICIENT_RESOURCES;
    return iosb;
  }
  await IoCallDriver(TargetDeviceObject, irp);
  // The I/O manager copies the output back and sets the event once the IRP is done (inline or in a worker).
  await KeWaitForSingleObject(event, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
  return iosb;
}

/**
 * ClassGetDescriptor: IOCTL_STORAGE_QUERY_PROPERTY (standard query) for `PropertyId`,
 * twice: the header to learn the descriptor's Size, then the whole of it into a nonpaged
 * pool block (tag "ScB4") the caller keeps and frees. Resolves to the status and the block
 * (0 on failure; a descriptor of Size 0 is STATUS_UNSUCCESSFUL).
 */
export async function ClassGetDescriptor(DeviceObject: DEVICE_OBJECT, PropertyId: STORAGE_PROPERTY_ID): Promise<{ status: NTSTATUS; Descriptor: PVOID }> {
  const query = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPoolNx, STORAGE_PROPERTY_QUERY_SIZE, CLASS_TAG_DESCRIPTOR);
  if (query === 0) return { status: STATUS_INSUFFICIENT_RESOURCES, Descriptor: 0 };
  const setQuery = (va: PVOID) => {
    RtlZeroMemory(va, STORAGE_PROPERTY_QUERY_SIZE);
    writeU32(va, PropertyId);
    writeU32(va + 4, STORAGE_QUERY_TYPE.PropertyStandardQuery);
  };
  setQuery(query);
  let iosb = await ClassSendDeviceIoControlSynchronous(IOCTL_STORAGE_QUERY_PROPERTY, DeviceObject, query, STORAGE_PROPERTY_QUERY_SIZE, STORAGE_DESCRIPTOR_HEADER_SIZE, false);
  const size = NT_SUCCESS(iosb.Status) ? readU32(query + 4) : 0;
  ExFreePoolWithTag(query, CLASS_TAG_DESCRIPTOR);
  if (!NT_SUCCESS(iosb.Status)) return { status: iosb.Status, Descriptor: 0 };
  if (size === 0) return { status: STATUS_UNSUCCESSFUL, Descriptor: 0 };
  const length = Math.max(size, STORAGE_PROPERTY_QUERY_SIZE);
  const descriptor = ExAllocatePoolWithTag(POOL_TYPE.NonPagedPoolNx, length, CLASS_TAG_DESCRIPTOR);
  if (descriptor === 0) return { status: STATUS_INSUFFICIENT_RESOURCES, Descriptor: 0 };
  RtlZeroMemory(descriptor, length);
  setQuery(descriptor);
  iosb = await ClassSendDeviceIoControlSynchronous(IOCTL_STORAGE_QUERY_PROPERTY, DeviceObject, descriptor, STORAGE_PROPERTY_QUERY_SIZE, length, false);
  if (!NT_SUCCESS(iosb.Status)) {
    ExFreePoolWithTag(descriptor, CLASS_TAG_DESCRIPTOR);
    return { status: iosb.Status, Descriptor: 0 };
  }
  return { status: iosb.Status, Descriptor: descriptor };
}

/** Frees a descriptor block ClassGetDescriptor returned (0 is ignored). */
export function ClassFreeDescriptor(Descriptor: PVOID): void {
  if (Descriptor !== 0) ExFreePoolWithTag(Descriptor, CLASS_TAG_DESCRIPTOR);
}

/** ClassForwardIrpSynchronous: passes `Irp` to the device below and waits; resolves to its status (the IRP is the caller's again). */
export async function ClassForwardIrpSynchronous(LowerDeviceObject: DEVICE_OBJECT, Irp: IRP): Promise<NTSTATUS> {
  await IoForwardIrpSynchronously(LowerDeviceObject, Irp);
  return Irp.IoStatus.Status;
}

/** IRP_MN_QUERY_CAPABILITIES down the stack; the capabilities the bus reported, or null. */
export async function DiskQueryCapabilities(LowerDeviceObject: DEVICE_OBJECT): Promise<DEVICE_CAPABILITIES | null> {
  const irp = IoAllocateIrp(LowerDeviceObject.StackSize, false);
  if (!irp) return null;
  irp.IoStatus.Status = STATUS_NOT_SUPPORTED;
  const capabilities = new DEVICE_CAPABILITIES();
  const s = IoGetNextIrpStackLocation(irp);
  s.MajorFunction = IRP_MJ_PNP;
  s.MinorFunction = IRP_MN_QUERY_CAPABILITIES;
  s.Parameters.DeviceCapabilities.Capabilities = capabilities;
  const done = new KEVENT();
  KeInitializeEvent(done, EVENT_TYPE.NotificationEvent, false);
  IoSetCompletionRoutine(irp, DiskCapabilitiesCompletion, done, true, true, true);
  if ((await IoCallDriver(LowerDeviceObject, irp)) === STATUS_PENDING) {
    await KeWaitForSingleObject(done, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
  }
  const status = irp.IoStatus.Status;
  IoFreeIrp(irp);
  return NT_SUCCESS(status) ? capabilities : null;
}

/** Completion of the capabilities query: the IRP is the sender's again. */
function DiskCapabilitiesCompletion(_DeviceObject: DEVICE_OBJECT | null, _Irp: IRP, Context: unknown): NTSTATUS {
  KeSetEvent(Context as KEVENT, 0, false);
  return STATUS_MORE_PROCESSING_REQUIRED;
}
