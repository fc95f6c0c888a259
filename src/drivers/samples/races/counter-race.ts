/**
 * RaceCount: a driver with a data race in it on purpose, for `wdmsim explore` and its
 * tests. Requests (IOCTL_RACE_QUEUE) go on a queue that a periodic timer DPC drains, as a
 * polling driver's DPC serves its hardware; the queue and its depth are guarded by the
 * driver's spin lock, and the DPC asserts the depth never goes below zero.
 *
 * The bug: the dispatch routine queues the request under the lock but counts it after
 * releasing the lock. When the DPC does not run between the two, the count is right.
 * When it does (on another processor, or on this one after the release), it takes the
 * request before it is counted and the depth goes to -1: NT_ASSERT fails, bug check 0x1E
 * KMODE_EXCEPTION_NOT_HANDLED with STATUS_ASSERTION_FAILURE.
 */
import {
  CTL_CODE, DO_BUFFERED_IO, DO_DEVICE_INITIALIZING, FILE_ANY_ACCESS, FILE_DEVICE_UNKNOWN, IO_NO_INCREMENT, IoCompleteRequest, IoCreateDevice,
  IoGetCurrentIrpStackLocation, IoMarkIrpPending, IRP_MJ_CLOSE, IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL, InitializeListHead, InsertTailList,
  IsListEmpty, KDPC, KeAcquireSpinLock, KeAcquireSpinLockAtDpcLevel, KeInitializeDpc, KeInitializeSpinLock, KeInitializeTimer,
  KeReleaseSpinLock, KeReleaseSpinLockFromDpcLevel, KeSetTimer, KSPIN_LOCK, KTIMER, LIST_ENTRY, METHOD_BUFFERED, NT_ASSERT, RemoveHeadList,
  CONTAINING_RECORD, STATUS_INVALID_DEVICE_REQUEST, STATUS_PENDING, STATUS_SUCCESS, type DEVICE_OBJECT, type DRIVER_OBJECT, type IRP,
  type NTSTATUS,
} from "../../../index.js";

/** The driver's service name. */
export const RACE_COUNT_SERVICE = "racecount";
/** Its device's name. */
export const RACE_COUNT_DEVICE = "\\Device\\RaceCount";
/** Queues the request; the next DPC completes it with STATUS_SUCCESS. */
export const IOCTL_RACE_QUEUE = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x981, METHOD_BUFFERED, FILE_ANY_ACCESS);
/** The polling DPC's period, µs (it sets its timer again each time it runs). */
export const RACE_COUNT_PERIOD_US = 50;

/** A queued request. */
class QUEUED_REQUEST {
  readonly ListEntry = new LIST_ENTRY(this);
  constructor(readonly Irp: IRP) {}
}

/** The device extension. */
class RACE_COUNT_EXTENSION {
  readonly Lock = new KSPIN_LOCK();
  readonly Queue = new LIST_ENTRY();
  QueueDepth = 0;
  readonly Timer = new KTIMER();
  readonly Dpc = new KDPC();
}

function complete(irp: IRP, status: NTSTATUS): NTSTATUS {
  irp.IoStatus.Status = status;
  irp.IoStatus.Information = 0;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
  return status;
}

function RaceCountPollDpc(_dpc: KDPC, context: unknown): void {
  const ext = context as RACE_COUNT_EXTENSION;
  KeAcquireSpinLockAtDpcLevel(ext.Lock);
  const done: IRP[] = [];
  while (!IsListEmpty(ext.Queue)) {
    done.push(CONTAINING_RECORD(RemoveHeadList(ext.Queue), QUEUED_REQUEST, "ListEntry").Irp);
    ext.QueueDepth--;
    NT_ASSERT(ext.QueueDepth >= 0, "ext.QueueDepth >= 0");
  }
  KeReleaseSpinLockFromDpcLevel(ext.Lock);
  for (const irp of done) complete(irp, STATUS_SUCCESS);
  KeSetTimer(ext.Timer, -RACE_COUNT_PERIOD_US * 10, ext.Dpc);
}

function RaceCountDeviceControl(device: DEVICE_OBJECT, irp: IRP): NTSTATUS {
  const ext = device.DeviceExtension as RACE_COUNT_EXTENSION;
  if (IoGetCurrentIrpStackLocation(irp).Parameters.DeviceIoControl.IoControlCode !== IOCTL_RACE_QUEUE) return complete(irp, STATUS_INVALID_DEVICE_REQUEST);
  IoMarkIrpPending(irp);
  const old = KeAcquireSpinLock(ext.Lock);
  InsertTailList(ext.Queue, new QUEUED_REQUEST(irp).ListEntry);
  KeReleaseSpinLock(ext.Lock, old);
  ext.QueueDepth++; // The bug: counted outside the lock the DPC takes.
  return STATUS_PENDING;
}

function RaceCountCreateClose(_device: DEVICE_OBJECT, irp: IRP): NTSTATUS {
  return complete(irp, STATUS_SUCCESS);
}

/** DriverEntry: one device, \\Device\\RaceCount, and its polling timer. */
export function DriverEntry(DriverObject: DRIVER_OBJECT): NTSTATUS {
  const ext = new RACE_COUNT_EXTENSION();
  const { status, DeviceObject } = IoCreateDevice(DriverObject, ext, RACE_COUNT_DEVICE, FILE_DEVICE_UNKNOWN, 0, false);
  if (DeviceObject === null) return status;
  KeInitializeSpinLock(ext.Lock);
  InitializeListHead(ext.Queue);
  KeInitializeTimer(ext.Timer);
  KeInitializeDpc(ext.Dpc, RaceCountPollDpc, ext);
  KeSetTimer(ext.Timer, -RACE_COUNT_PERIOD_US * 10, ext.Dpc);
  DeviceObject.Flags |= DO_BUFFERED_IO;
  DeviceObject.Flags &= ~DO_DEVICE_INITIALIZING;
  DriverObject.MajorFunction[IRP_MJ_CREATE] = RaceCountCreateClose;
  DriverObject.MajorFunction[IRP_MJ_CLOSE] = RaceCountCreateClose;
  DriverObject.MajorFunction[IRP_MJ_DEVICE_CONTROL] = RaceCountDeviceControl;
  return STATUS_SUCCESS;
}
