/**
 * A test driver whose requests pend and complete later from a timer DPC, the way a
 * device driver completes from its interrupt's DPC: service "pendtest", device
 * \\Device\\PendTest (link \\DosDevices\\PendTest, DO_BUFFERED_IO), any number of requests
 * in flight. Pending requests carry a cancel routine (cancel-safe with the cancel spin
 * lock) unless the IOCTL says otherwise; IRP_MJ_CLEANUP cancels the file's pending
 * requests unless told not to. It records each IRP_MJ_CREATE / CLEANUP / CLOSE it sees.
 *
 * Used by the user-mode API tests and by the completion-port benchmark (no vitest here).
 */
import {
  CTL_CODE, DO_BUFFERED_IO, DO_DEVICE_INITIALIZING, FILE_ANY_ACCESS, FILE_DEVICE_UNKNOWN, IoAcquireCancelSpinLock, IoCompleteRequest,
  IoCreateDevice, IoCreateSymbolicLink, IoGetCurrentIrpStackLocation, IoMarkIrpPending, IoReleaseCancelSpinLock, IoSetCancelRoutine,
  IO_NO_INCREMENT, KE, IRP_MJ_CLEANUP, IRP_MJ_CLOSE, IRP_MJ_CREATE, IRP_MJ_DEVICE_CONTROL, IRP_MJ_READ, IRP_MJ_WRITE, KDPC, KeCancelTimer,
  KeInitializeDpc, KeInitializeTimer, KeSetTimer, KTIMER, METHOD_BUFFERED, readU32, STATUS_CANCELLED, STATUS_INVALID_DEVICE_REQUEST,
  STATUS_PENDING, STATUS_SUCCESS, writeBytes, writeU32, type DEVICE_OBJECT, type IRP, type Machine, type NTSTATUS,
} from "../../src/index.js";
import { IO } from "../../src/io/manager.js";

/**
 * Input: ULONG delay in µs (0: complete in the dispatch routine, 0xFFFFFFFF: only when
 * cancelled), ULONG value, ULONG completion status (0: STATUS_SUCCESS). Output: the value
 * (4 bytes). Pends with a cancel routine.
 */
export const IOCTL_PEND = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS);
/** As IOCTL_PEND, without a cancel routine (cancelling it does nothing). */
export const IOCTL_PEND_NO_CANCEL = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x901, METHOD_BUFFERED, FILE_ANY_ACCESS);
/** IOCTL_PEND's delay that never expires. */
export const FOREVER = 0xFFFFFFFF;
/** The name programs open. */
export const PEND_DEVICE = "\\\\.\\PendTest";

/** IOCTL_PEND's input. */
export function pendInput(delayUs: number, value = 0, status: NTSTATUS = STATUS_SUCCESS): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  v.setUint32(0, delayUs >>> 0, true);
  v.setUint32(4, value >>> 0, true);
  v.setUint32(8, status >>> 0, true);
  return b;
}

/** One IRP_MJ_CREATE, IRP_MJ_CLEANUP or IRP_MJ_CLOSE the driver saw. */
export interface FileEvent {
  major: number;
  fileObject: unknown;
  fileName: string;
  /** Requests of that file object pending in the driver at that moment. */
  outstanding: number;
  /** Simulated time, ps. */
  timePs: number;
}

/** A request the driver holds. */
interface Pending {
  irp: IRP;
  fileObject: unknown;
  timer: KTIMER;
  dpc: KDPC;
  cancellable: boolean;
  status: NTSTATUS;
  information: number;
}

/** The driver's state, for tests to read and steer. */
export class PendingDriver {
  device!: DEVICE_OBJECT;
  readonly pending: Pending[] = [];
  readonly fileEvents: FileEvent[] = [];
  /** IRP_MJ_CLEANUP cancels the file's pending requests (what a driver should do). */
  cleanupCancels = true;
  /** Delay of a read, µs (reads fill the buffer with (ByteOffset + i) & 0xFF). */
  readDelayUs = 50;
  /** Parameters.Read.ByteOffset of each read and write. */
  readonly offsets: number[] = [];
  /** Requests completed from the DPC. */
  completedByDpc = 0;

  outstanding(fileObject: unknown): number {
    return this.pending.filter((p) => p.fileObject === fileObject).length;
  }
}

function complete(irp: IRP, status: NTSTATUS, information: number): NTSTATUS {
  irp.IoStatus.Status = status;
  irp.IoStatus.Information = information;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
  return status;
}

/** Loads the driver on a booted machine (once per machine). */
export async function loadPendingDriver(machine: Machine): Promise<PendingDriver> {
  const state = new PendingDriver();

  function remove(p: Pending): void {
    state.pending.splice(state.pending.indexOf(p), 1);
  }

  function PendCancel(_device: DEVICE_OBJECT, irp: IRP): void {
    const p = state.pending.find((x) => x.irp === irp);
    if (p) remove(p);
    IoReleaseCancelSpinLock(irp.CancelIrql);
    if (p) KeCancelTimer(p.timer);
    complete(irp, STATUS_CANCELLED, 0);
  }

  function PendTimerDpc(_dpc: KDPC, context: unknown): void {
    const p = context as Pending;
    const old = IoAcquireCancelSpinLock();
    if (p.cancellable && IoSetCancelRoutine(p.irp, null) === null) {
      // The cancel routine owns it now.
      IoReleaseCancelSpinLock(old);
      return;
    }
    remove(p);
    IoReleaseCancelSpinLock(old);
    state.completedByDpc++;
    complete(p.irp, p.status, p.information);
  }

  /** Holds `irp` and completes it after `delayUs` (never for FOREVER) with `status` and `information`. */
  function pend(irp: IRP, delayUs: number, cancellable: boolean, status: NTSTATUS, information: number): NTSTATUS {
    IoMarkIrpPending(irp);
    const p: Pending = { irp, fileObject: IoGetCurrentIrpStackLocation(irp).FileObject, timer: new KTIMER(), dpc: new KDPC(), cancellable, status, information };
    KeInitializeTimer(p.timer);
    KeInitializeDpc(p.dpc, PendTimerDpc, p);
    const old = IoAcquireCancelSpinLock();
    if (cancellable) {
      IoSetCancelRoutine(irp, PendCancel);
      if (irp.Cancel && IoSetCancelRoutine(irp, null) !== null) {
        IoReleaseCancelSpinLock(old);
        complete(irp, STATUS_CANCELLED, 0);
        return STATUS_PENDING;
      }
    }
    state.pending.push(p);
    IoReleaseCancelSpinLock(old);
    if (delayUs !== FOREVER) KeSetTimer(p.timer, -Math.max(1, Math.round(delayUs * 10)), p.dpc);
    return STATUS_PENDING;
  }

  function record(irp: IRP): void {
    const s = IoGetCurrentIrpStackLocation(irp);
    const file = s.FileObject as { FileName?: string } | null;
    state.fileEvents.push({ major: s.MajorFunction, fileObject: file, fileName: file?.FileName ?? "", outstanding: state.outstanding(file), timePs: KE().cpu.time });
  }

  const r = await machine.exec(async () => {
    return IO().loadDriver("pendtest", {
      DriverEntry(driver) {
        const { DeviceObject } = IoCreateDevice(driver, state, "\\Device\\PendTest", FILE_DEVICE_UNKNOWN, 0, false);
        state.device = DeviceObject!;
        state.device.Flags |= DO_BUFFERED_IO;
        state.device.Flags &= ~DO_DEVICE_INITIALIZING;
        IoCreateSymbolicLink("\\DosDevices\\PendTest", "\\Device\\PendTest");
        driver.MajorFunction[IRP_MJ_CREATE] = function PendCreate(_d, irp) {
          record(irp);
          return complete(irp, STATUS_SUCCESS, 0);
        };
        driver.MajorFunction[IRP_MJ_CLOSE] = function PendClose(_d, irp) {
          record(irp);
          return complete(irp, STATUS_SUCCESS, 0);
        };
        driver.MajorFunction[IRP_MJ_CLEANUP] = function PendCleanup(_d, irp) {
          record(irp);
          if (state.cleanupCancels) {
            const file = IoGetCurrentIrpStackLocation(irp).FileObject;
            const old = IoAcquireCancelSpinLock();
            const mine = state.pending.filter((p) => p.fileObject === file && (!p.cancellable || IoSetCancelRoutine(p.irp, null) !== null));
            for (const p of mine) remove(p);
            IoReleaseCancelSpinLock(old);
            for (const p of mine) {
              KeCancelTimer(p.timer);
              complete(p.irp, STATUS_CANCELLED, 0);
            }
          }
          return complete(irp, STATUS_SUCCESS, 0);
        };
        driver.MajorFunction[IRP_MJ_DEVICE_CONTROL] = function PendDeviceControl(_d, irp) {
          const s = IoGetCurrentIrpStackLocation(irp);
          const code = s.Parameters.DeviceIoControl.IoControlCode;
          if ((code !== IOCTL_PEND && code !== IOCTL_PEND_NO_CANCEL) || s.Parameters.DeviceIoControl.InputBufferLength < 12) {
            return complete(irp, STATUS_INVALID_DEVICE_REQUEST, 0);
          }
          const buffer = irp.AssociatedIrp.SystemBuffer;
          const delay = readU32(buffer);
          const value = readU32(buffer + 4);
          const status = readU32(buffer + 8) | 0;
          const information = s.Parameters.DeviceIoControl.OutputBufferLength >= 4 ? 4 : 0;
          if (information) writeU32(buffer, value);
          if (delay === 0) return complete(irp, status, information);
          return pend(irp, delay, code === IOCTL_PEND, status, information);
        };
        driver.MajorFunction[IRP_MJ_READ] = function PendRead(_d, irp) {
          const s = IoGetCurrentIrpStackLocation(irp);
          const { Length, ByteOffset } = s.Parameters.Read;
          state.offsets.push(ByteOffset);
          writeBytes(irp.AssociatedIrp.SystemBuffer, new Uint8Array(Length).map((_, i) => (ByteOffset + i) & 0xFF));
          if (state.readDelayUs === 0) return complete(irp, STATUS_SUCCESS, Length);
          return pend(irp, state.readDelayUs, true, STATUS_SUCCESS, Length);
        };
        driver.MajorFunction[IRP_MJ_WRITE] = function PendWrite(_d, irp) {
          const s = IoGetCurrentIrpStackLocation(irp);
          state.offsets.push(s.Parameters.Write.ByteOffset);
          return complete(irp, STATUS_SUCCESS, s.Parameters.Write.Length);
        };
        return STATUS_SUCCESS;
      },
    });
  });
  if (r.status !== STATUS_SUCCESS) throw new Error("pendtest: DriverEntry failed");
  return state;
}
