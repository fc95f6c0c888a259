/**
 * Doubly linked lists shared between processors (and with ISRs): ExInterlockedInsertHeadList,
 * ExInterlockedInsertTailList and ExInterlockedRemoveHeadList. Each takes the list's
 * KSPIN_LOCK around the same operation as its plain counterpart (list.ts, with its
 * 0x139 checks), without changing the IRQL: the documents allow them at any IRQL, and a
 * lock used with them must be used only with them. They charge the lock's cost.
 */
import { KiAcquireSpinLock, KiReleaseSpinLock, type KSPIN_LOCK } from "../ke/spinlock.js";
import { InsertHeadList, InsertTailList, IsListEmpty, RemoveHeadList, type LIST_ENTRY } from "./list.js";

/** ExInterlockedInsertHeadList: inserts at the head under `Lock`; returns the previous first entry, or null if the list was empty. */
export function ExInterlockedInsertHeadList(ListHead: LIST_ENTRY, ListEntry: LIST_ENTRY, Lock: KSPIN_LOCK): LIST_ENTRY | null {
  KiAcquireSpinLock(Lock);
  const first = IsListEmpty(ListHead) ? null : ListHead.Flink;
  InsertHeadList(ListHead, ListEntry);
  KiReleaseSpinLock(Lock);
  return first;
}

/** ExInterlockedInsertTailList: inserts at the tail under `Lock`; returns the previous last entry, or null if the list was empty. */
export function ExInterlockedInsertTailList(ListHead: LIST_ENTRY, ListEntry: LIST_ENTRY, Lock: KSPIN_LOCK): LIST_ENTRY | null {
  KiAcquireSpinLock(Lock);
  const last = IsListEmpty(ListHead) ? null : ListHead.Blink;
  InsertTailList(ListHead, ListEntry);
  KiReleaseSpinLock(Lock);
  return last;
}

/** ExInterlockedRemoveHeadList: removes the first entry under `Lock` and returns it, or null if the list is empty. */
export function ExInterlockedRemoveHeadList(ListHead: LIST_ENTRY, Lock: KSPIN_LOCK): LIST_ENTRY | null {
  KiAcquireSpinLock(Lock);
  const entry = IsListEmpty(ListHead) ? null : RemoveHeadList(ListHead);
  KiReleaseSpinLock(Lock);
  return entry;
}
