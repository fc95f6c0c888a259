/**
 * Singly linked lists: SINGLE_LIST_ENTRY with PushEntryList and PopEntryList, and the
 * spin-lock-protected ExInterlockedPushEntryList / ExInterlockedPopEntryList (any IRQL;
 * the lock must be used only with ExInterlocked...List routines). Entries are TypeScript
 * objects embedded in their records, as LIST_ENTRY's are (list.ts; CONTAINING_RECORD
 * finds the record). A list head is a SINGLE_LIST_ENTRY whose Next is the first entry.
 */
import { KiAcquireSpinLock, KiReleaseSpinLock, type KSPIN_LOCK } from "../ke/spinlock.js";

/** SINGLE_LIST_ENTRY: a link of a singly linked list, or its head. */
export class SINGLE_LIST_ENTRY {
  /** The next entry (the first, for a head), or null. */
  Next: SINGLE_LIST_ENTRY | null = null;

  /** `record`: the object this entry is embedded in (what CONTAINING_RECORD returns). */
  constructor(readonly record: object | null = null) {}
}

/** PushEntryList: inserts `Entry` at the front of the list. */
export function PushEntryList(ListHead: SINGLE_LIST_ENTRY, Entry: SINGLE_LIST_ENTRY): void {
  Entry.Next = ListHead.Next;
  ListHead.Next = Entry;
}

/** PopEntryList: removes and returns the first entry, or null if the list is empty. */
export function PopEntryList(ListHead: SINGLE_LIST_ENTRY): SINGLE_LIST_ENTRY | null {
  const first = ListHead.Next;
  if (first) ListHead.Next = first.Next;
  return first;
}

/** ExInterlockedPushEntryList: PushEntryList under `Lock`; returns the previous first entry, or null. */
export function ExInterlockedPushEntryList(ListHead: SINGLE_LIST_ENTRY, ListEntry: SINGLE_LIST_ENTRY, Lock: KSPIN_LOCK): SINGLE_LIST_ENTRY | null {
  KiAcquireSpinLock(Lock);
  const first = ListHead.Next;
  PushEntryList(ListHead, ListEntry);
  KiReleaseSpinLock(Lock);
  return first;
}

/** ExInterlockedPopEntryList: PopEntryList under `Lock`. */
export function ExInterlockedPopEntryList(ListHead: SINGLE_LIST_ENTRY, Lock: KSPIN_LOCK): SINGLE_LIST_ENTRY | null {
  KiAcquireSpinLock(Lock);
  const first = PopEntryList(ListHead);
  KiReleaseSpinLock(Lock);
  return first;
}
