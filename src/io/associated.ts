/**
 * Associated IRPs: IoMakeAssociatedIrp, with which a highest-level driver splits a
 * master IRP into requests it sends on to lower drivers.
 *
 * The master counts its outstanding associated IRPs in Irp.AssociatedIrp.IrpCount, which
 * the driver sets before it sends them (IoMakeAssociatedIrp does not change it; the WDK
 * does not say that it does). When an associated IRP's completion reaches the top of its
 * stack, the I/O manager unlocks and frees its MDLs, frees it, and decrements the
 * master's count; the decrement that reaches zero completes the master
 * (IoCompleteRequest with the status the driver left in it). A completion routine on the
 * associated IRP that returns STATUS_MORE_PROCESSING_REQUIRED keeps all of that from
 * happening: the driver then frees the associated IRP (IoFreeIrp) and completes the
 * master itself.
 */
import { KE } from "../ke/kernel.js";
import { NT_SUCCESS, STATUS_SUCCESS, STATUS_VERIFY_REQUIRED, type NTSTATUS } from "../ke/ntstatus.js";
import { IoAllocateIrp, IoCompleteRequest, IoFreeIrp, IO_NO_INCREMENT, IRP_ASSOCIATED_IRP, type IRP } from "./irp.js";
import { releaseIrpMdls } from "./build-irp.js";

/**
 * IoMakeAssociatedIrp: an IRP with `StackSize` stack locations (at least the next lower
 * device's StackSize) associated with the master `Irp`: IRP_ASSOCIATED_IRP set and
 * AssociatedIrp.MasterIrp = `Irp`. Only the master belongs to a thread. IRQL <=
 * DISPATCH_LEVEL.
 */
export function IoMakeAssociatedIrp(Irp: IRP, StackSize: number): IRP | null {
  const k = KE();
  k.chargePs(k.cost.IoMakeAssociatedIrp);
  const associated = IoAllocateIrp(StackSize, false);
  if (!associated) return null;
  associated.Flags |= IRP_ASSOCIATED_IRP;
  associated.AssociatedIrp.MasterIrp = Irp;
  associated.onCompleted = IopCompleteAssociatedIrp;
  return associated;
}

/** The I/O manager's end of an associated IRP: free it and its MDLs, count it off the master, complete the master at zero. */
function IopCompleteAssociatedIrp(Irp: IRP): void {
  const master = Irp.AssociatedIrp.MasterIrp;
  releaseIrpMdls(Irp);
  IoFreeIrp(Irp);
  if (!master) return;
  master.AssociatedIrp.IrpCount--;
  if (master.AssociatedIrp.IrpCount === 0) IoCompleteRequest(master, IO_NO_INCREMENT);
}

/** STATUS_FT_READ_FROM_COPY: a read satisfied from a specific copy of mirrored data (never recorded in a master IRP). */
export const STATUS_FT_READ_FROM_COPY: NTSTATUS = 0x40000224;

/**
 * IoSetMasterIrpStatus: records a piece's `Status` in the master IRP a driver split a
 * request into, keeping the most severe one: STATUS_VERIFY_REQUIRED always wins, an error
 * replaces success, and of two errors the higher NTSTATUS (compared as signed LONGs) is
 * kept; STATUS_FT_READ_FROM_COPY is ignored. Any IRQL.
 */
export function IoSetMasterIrpStatus(MasterIrp: IRP, Status: NTSTATUS): void {
  const master = MasterIrp.IoStatus.Status;
  if (Status >>> 0 === STATUS_FT_READ_FROM_COPY) return;
  if ((Status >>> 0) === STATUS_VERIFY_REQUIRED
    || (master === STATUS_SUCCESS && !NT_SUCCESS(Status))
    || (!NT_SUCCESS(master) && !NT_SUCCESS(Status) && (Status | 0) > (master | 0))) {
    MasterIrp.IoStatus.Status = Status;
  }
}
