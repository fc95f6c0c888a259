/**
 * Sequenced singly linked lists: SLIST_HEADER and SLIST_ENTRY with InitializeSListHead,
 * InterlockedPushEntrySList, InterlockedPopEntrySList, InterlockedFlushSList,
 * ExInterlockedPushEntrySList, ExInterlockedPopEntrySList, ExInterlockedFlushSList and
 * ExQueryDepthSList. The header keeps the depth (entries in the list) and a sequence
 * number that every push and pop advances, as Windows' header does for its lock-free
 * compare-exchange. Entries are TypeScript objects embedded in their records (list.ts;
 * CONTAINING_RECORD finds the record). Operations are atomic because the host runs one
 * processor at a time; the Ex forms also take their spin lock.
 */
import { KiAcquireSpinLock, KiReleaseSpinLock, type KSPIN_LOCK } from "../ke/spinlock.js";

/** SLIST_ENTRY: a link of a sequenced singly linked list. */
export class SLIST_ENTRY {
  /** The next entry, or null. */
  Next: SLIST_ENTRY | null = null;

  /** `record`: the object this entry is embedded in (what CONTAINING_RECORD returns). */
  constructor(readonly record: object | null = null) {}
}

/** SLIST_HEADER: the head of a sequenced singly linked list. */
export class SLIST_HEADER {
  /** The first entry, or null. */
  Next: SLIST_ENTRY | null = null;
  /** Entries in the list (USHORT). */
  Depth = 0;
  /** Advanced by every push and pop (USHORT, wraps). */
  Sequence = 0;
}

/** InitializeSListHead: an empty list, depth and sequence 0. */
export function InitializeSListHead(SListHead: SLIST_HEADER): void {
  SListHead.Next = null;
  SListHead.Depth = 0;
  SListHead.Sequence = 0;
}

/** ExQueryDepthSList: the number of entries in the list. */
export function ExQueryDepthSList(SListHead: SLIST_HEADER): number {
  return SListHead.Depth;
}

/** InterlockedPushEntrySList: inserts `ListEntry` at the front; returns the previous first entry, or null. */
export function InterlockedPushEntrySList(ListHead: SLIST_HEADER, ListEntry: SLIST_ENTRY): SLIST_ENTRY | null {
  const first = ListHead.Next;
  ListEntry.Next = first;
  ListHead.Next = ListEntry;
  ListHead.Depth = (ListHead.Depth + 1) & 0xFFFF;
  ListHead.Sequence = (ListHead.Sequence + 1) & 0xFFFF;
  return first;
}

/** InterlockedPopEntrySList: removes and returns the first entry, or null if the list is empty. */
export function InterlockedPopEntrySList(ListHead: SLIST_HEADER): SLIST_ENTRY | null {
  const first = ListHead.Next;
  if (!first) return null;
  ListHead.Next = first.Next;
  ListHead.Depth = (ListHead.Depth - 1) & 0xFFFF;
  ListHead.Sequence = (ListHead.Sequence + 1) & 0xFFFF;
  return first;
}

/** InterlockedFlushSList: empties the list; returns its former first entry (the entries stay chained through Next), or null. */
export function InterlockedFlushSList(ListHead: SLIST_HEADER): SLIST_ENTRY | null {
  const first = ListHead.Next;
  ListHead.Next = null;
  ListHead.Depth = 0;
  return first;
}

/** ExInterlockedPushEntrySList: InterlockedPushEntrySList under `Lock`. */
export function ExInterlockedPushEntrySList(ListHead: SLIST_HEADER, ListEntry: SLIST_ENTRY, Lock: KSPIN_LOCK): SLIST_ENTRY | null {
  KiAcquireSpinLock(Lock);
  const first = InterlockedPushEntrySList(ListHead, ListEntry);
  KiReleaseSpinLock(Lock);
  return first;
}

/** ExInterlockedPopEntrySList: InterlockedPopEntrySList under `Lock`. */
export function ExInterlockedPopEntrySList(ListHead: SLIST_HEADER, Lock: KSPIN_LOCK): SLIST_ENTRY | null {
  KiAcquireSpinLock(Lock);
  const first = InterlockedPopEntrySList(ListHead);
  KiReleaseSpinLock(Lock);
  return first;
}

/** ExInterlockedFlushSList: InterlockedFlushSList. */
export function ExInterlockedFlushSList(ListHead: SLIST_HEADER): SLIST_ENTRY | null {
  return InterlockedFlushSList(ListHead);
}
