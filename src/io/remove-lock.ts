/**
 * Remove locks: IO_REMOVE_LOCK, IoInitializeRemoveLock, IoAcquireRemoveLock,
 * IoReleaseRemoveLock and IoReleaseRemoveLockAndWait ("Using Remove Locks").
 *
 * A remove lock counts the outstanding reasons not to delete a device object: a driver
 * acquires it for every I/O operation it starts (and every reference to its code it hands
 * out) and releases it when the operation is done. In its IRP_MN_REMOVE_DEVICE code the
 * driver acquires it once more and calls IoReleaseRemoveLockAndWait, which marks the lock
 * removed (from then on IoAcquireRemoveLock fails with STATUS_DELETE_PENDING), releases
 * that acquisition and waits until every other acquisition has been released; the
 * release that brings the count to zero signals Common.RemoveEvent.
 *
 * Common.IoCount here counts the outstanding acquisitions. The Tag, AllocateTag,
 * MaxLockedMinutes and HighWatermark parameters only matter on checked builds of Windows
 * (tag tracking and assertions); this kernel behaves as a free build and ignores them.
 */
import { KE } from "../ke/kernel.js";
import { EVENT_TYPE, KEVENT, KeInitializeEvent, KeSetEvent, KeWaitForSingleObject, KPROCESSOR_MODE, KWAIT_REASON } from "../ke/dispatcher.js";
import { STATUS_DELETE_PENDING, STATUS_SUCCESS, type NTSTATUS } from "../ke/ntstatus.js";

/** IO_REMOVE_LOCK_COMMON_BLOCK: the removed flag, the count and the event. */
export class IO_REMOVE_LOCK_COMMON_BLOCK {
  /** TRUE once IoReleaseRemoveLockAndWait has been called. */
  Removed = false;
  /** Outstanding acquisitions. */
  IoCount = 0;
  /** Signalled when the count reaches zero after removal. */
  readonly RemoveEvent = new KEVENT();
}

/** IO_REMOVE_LOCK: a remove lock (drivers keep it in the device extension); the free-build layout, Common only. */
export class IO_REMOVE_LOCK {
  readonly Common = new IO_REMOVE_LOCK_COMMON_BLOCK();
}

/**
 * IoInitializeRemoveLock: a lock with no acquisitions, not removed. `AllocateTag`,
 * `MaxLockedMinutes` (0: no limit) and `HighWatermark` (0: no limit) are used by checked
 * builds only. PASSIVE_LEVEL.
 */
export function IoInitializeRemoveLock(Lock: IO_REMOVE_LOCK, AllocateTag: number, MaxLockedMinutes: number, HighWatermark: number): void {
  Lock.Common.Removed = false;
  Lock.Common.IoCount = 0;
  KeInitializeEvent(Lock.Common.RemoveEvent, EVENT_TYPE.NotificationEvent, false);
  void AllocateTag;
  void MaxLockedMinutes;
  void HighWatermark;
}

/**
 * IoAcquireRemoveLock: counts one more acquisition and returns STATUS_SUCCESS; once
 * IoReleaseRemoveLockAndWait has been called, returns STATUS_DELETE_PENDING without
 * acquiring (start no new operation on the device then). `Tag` (optional) identifies the
 * acquisition for debugging. IRQL <= DISPATCH_LEVEL.
 */
export function IoAcquireRemoveLock(RemoveLock: IO_REMOVE_LOCK, Tag: unknown): NTSTATUS {
  const k = KE();
  k.chargePs(k.cost.IoAcquireRemoveLock);
  void Tag;
  const c = RemoveLock.Common;
  if (c.Removed) return STATUS_DELETE_PENDING;
  c.IoCount++;
  return STATUS_SUCCESS;
}

/**
 * IoReleaseRemoveLock: releases one acquisition (the same `Tag` as acquired). The release
 * that leaves none after removal has started signals the event IoReleaseRemoveLockAndWait
 * waits on. IRQL <= DISPATCH_LEVEL.
 */
export function IoReleaseRemoveLock(RemoveLock: IO_REMOVE_LOCK, Tag: unknown): void {
  const k = KE();
  k.chargePs(k.cost.IoReleaseRemoveLock);
  void Tag;
  const c = RemoveLock.Common;
  c.IoCount--;
  if (c.IoCount === 0 && c.Removed) KeSetEvent(c.RemoveEvent, 0, false);
}

/**
 * IoReleaseRemoveLockAndWait: marks the lock removed (later IoAcquireRemoveLock calls
 * fail), releases the caller's acquisition (`Tag`) and waits until every acquisition has
 * been released; then the driver may detach and delete its device object. Called in the
 * IRP_MN_REMOVE_DEVICE code after passing the IRP down, having acquired the lock.
 * PASSIVE_LEVEL (it waits).
 */
export async function IoReleaseRemoveLockAndWait(RemoveLock: IO_REMOVE_LOCK, Tag: unknown): Promise<void> {
  const c = RemoveLock.Common;
  c.Removed = true;
  IoReleaseRemoveLock(RemoveLock, Tag);
  await KeWaitForSingleObject(c.RemoveEvent, KWAIT_REASON.Executive, KPROCESSOR_MODE.KernelMode, false, null);
}
